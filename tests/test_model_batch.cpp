// simulate_draws (a group of draws in vector lanes) against simulate_draw,
// draw by draw: every field of every DrawOutput bit for bit, and the same
// error for the first invalid draw of a group, with each set of kernels.
#include <catch2/catch.hpp>
#include <cstring>
#include <exception>
#include <string>
#include <typeinfo>
#include <vector>

#include "bits.hpp"
#include "countysim/model.hpp"
#include "countysim/plan.hpp"
#include "countysim/scenario.hpp"
#include "scenario_fixtures.hpp"

extern const char* const corner_county;              // test_model_reference.cpp
countysim::Scenario corner_county_over_ten_years();  // test_model_reference.cpp

using namespace countysim;

namespace {

using testing::same_bits;

bool same_output(const DrawOutput& a, const DrawOutput& b) {
  return same_bits(a.year_metrics, b.year_metrics) &&
         same_bits(a.cluster_output, b.cluster_output) &&
         same_bits(a.cluster_employment, b.cluster_employment) &&
         same_bits(a.project_output, b.project_output) && same_bits(a.start_month, b.start_month) &&
         same_bits(a.production_month, b.production_month) &&
         same_bits(a.target_value, b.target_value) && same_bits(a.target_met, b.target_met) &&
         same_bits(a.inputs, b.inputs);
}

std::string error_of(const std::exception& e) {
  return std::string(typeid(e).name()) + ": " + e.what();
}

// Draws from `first` on, in groups of 1, 3, 16, 17, 5 and 2 draws in turn,
// until `n` draws are done, by simulate_draws and by simulate_draw (each with
// its own workspace, reused as the engine does). Returns the number of groups
// that differ; counts the invalid draws met in `invalid`.
std::size_t compare_groups(const Plan& plan, std::uint64_t seed, std::uint64_t first,
                           std::uint64_t n, std::size_t& invalid) {
  static const std::size_t counts[] = {1, 3, 16, 17, 5, 2};
  DrawWorkspace ws, ws_ref;
  std::vector<DrawOutput> outs(17), refs(17);
  for (std::size_t j = 0; j < outs.size(); ++j) {
    outs[j].resize(plan);
    refs[j].resize(plan);
  }
  std::size_t mismatches = 0;
  std::uint64_t d = first;
  for (std::size_t i = 0; d < first + n; ++i) {
    const std::size_t count = counts[i % 6];
    // The reference: draw by draw up to the first error.
    std::string want;
    std::size_t done = 0;
    for (; done < count; ++done) {
      try {
        simulate_draw(plan, seed, d + done, ws_ref, refs[done]);
      } catch (const std::exception& e) {
        want = error_of(e);
        ++invalid;
        break;
      }
    }
    std::string got;
    try {
      simulate_draws(plan, seed, d, count, ws, outs.data());
    } catch (const std::exception& e) {
      got = error_of(e);
    }
    bool same = got == want;
    for (std::size_t j = 0; same && j < done; ++j) same = same_output(outs[j], refs[j]);
    if (!same && mismatches++ < 3)
      FAIL_CHECK("draws " << d << " + " << count << " differ: '" << got << "' / '" << want << "'");
    d += count;
  }
  return mismatches;
}

std::string source(const std::string& path) {
  return std::string(COUNTYSIM_SOURCE_DIR) + "/" + path;
}

// Every set of kernels this CPU has (AVX-512, AVX2, generic), then back to
// the widest.
template <class F>
void for_each_kernels(F f) {
  for (int cap = 2; cap >= 0; --cap) {
    const int used = simulate_draws_kernels(cap);
    if (cap > 0 && used < cap) continue;  // not on this CPU
    INFO("kernels " << used);
    f();
  }
  simulate_draws_kernels(2);
}

}  // namespace

TEST_CASE("simulate_draws gives simulate_draw's bits on the repository's scenarios",
          "[model][batch]") {
  for (const char* path : testing::kRepositoryScenarios) {
    INFO(path);
    const Scenario sc = load_scenario(source(path));
    const Plan plan = compile_plan(sc);
    for_each_kernels([&] {
      std::size_t invalid = 0;
      CHECK(compare_groups(plan, sc.seed, 0, 700, invalid) == 0);
      CHECK(compare_groups(plan, sc.seed, 987654321, 150, invalid) == 0);
      CHECK(compare_groups(plan, sc.seed, 31, 75, invalid) == 0);  // odd first draws
    });
  }
}

TEST_CASE("simulate_draws gives simulate_draw's bits and errors in the corner cases",
          "[model][batch]") {
  Scenario sc = load_scenario_text(corner_county, "corner.yaml");
  Scenario plain = sc;  // without the supply chain
  plain.supply_chain.clear();
  // More invalid draws: industrial value added of 27 to 32 (value-added
  // ratio of cluster a from 0.2 to 0.3), so a rest of the economy that is
  // negative in about half the draws.
  Scenario invalid_rest = sc;
  invalid_rest.macro.gdp_base = 29.5;
  for (const Scenario* s : {&sc, &plain, &invalid_rest}) {
    const Plan plan = compile_plan(*s);
    for_each_kernels([&] {
      std::size_t invalid = 0;
      CHECK(compare_groups(plan, s->seed, 0, 3000, invalid) == 0);
      CHECK(compare_groups(plan, s->seed, 12345, 301, invalid) == 0);
      if (s == &invalid_rest) CHECK(invalid > 0);
    });
  }
}

TEST_CASE("simulate_draws gives simulate_draw's bits over a horizon of ten years",
          "[model][batch]") {
  // A horizon longer than the repository scenarios' (every per-year array,
  // and the firm openings' count of each year, past seven years).
  const Scenario sc = corner_county_over_ten_years();
  REQUIRE(sc.years() == 10);
  const Plan plan = compile_plan(sc);
  for_each_kernels([&] {
    std::size_t invalid = 0;
    CHECK(compare_groups(plan, sc.seed, 0, 1500, invalid) == 0);
  });
}

TEST_CASE("simulate_draws gives simulate_draw's bits with mixed priorities and early plans",
          "[model][batch]") {
  Scenario sc = load_scenario(source("scenarios/taojiang-2022.yaml"));
  for (std::size_t p = 0; p < sc.projects.size(); ++p) {
    if (p % 3 == 0) sc.projects[p].planned_start_month -= 20;
    if (p % 4 == 1) sc.projects[p].priority = -7;
    if (p % 5 == 2) sc.projects[p].land_mu *= 3;
  }
  const Plan plan = compile_plan(sc);
  for_each_kernels([&] {
    std::size_t invalid = 0;
    CHECK(compare_groups(plan, sc.seed, 0, 1500, invalid) == 0);
    CHECK(compare_groups(plan, sc.seed, 777, 333, invalid) == 0);
  });
}

TEST_CASE(
    "simulate_draws gives simulate_draw's bits with prices at or below zero and odd capacities",
    "[model][batch]") {
  // Price levels that reach zero or below (a change under -1) and
  // capacities below zero, which validation refuses but the model computes:
  // the batched production writes capacity x months / 12 and price x output
  // where the reference model leaves the +0 of its fills, and the two agree
  // through the signs of zeros.
  Scenario sc = load_scenario_text(corner_county, "corner.yaml");
  // A change of -1 makes the level 0 from that year on (valid draws: the
  // output at price 0 is a zero); below -1, negative (invalid draws, which
  // simulate_draws redoes one by one).
  for (Value& v : sc.prices[0].change.years)
    v.dist = Distribution::discrete({-1.5, -1.0, 0.0, 0.2}, {0.05, 0.3, 0.35, 0.3});
  sc.projects[0].capacity_output.dist = Distribution::uniform(-5, 5);
  sc.projects[3].capacity_output.dist = Distribution::constant(-8);
  // Months rounded half away from zero, below zero, and past 2^30 and 2^31
  // (the lanes' rounding hands those to the scalar code; the sums wrap).
  sc.projects[1].construction_months.dist =
      Distribution::discrete({-2.5, -0.5, 0.5, 1.5, 2.5, 3e9}, {0.2, 0.2, 0.2, 0.2, 0.1, 0.1});
  sc.projects[2].start_delay_months.dist =
      Distribution::discrete({0.5, 4.5, 1.5e9, 2.5e9, 5e9}, {0.3, 0.3, 0.2, 0.1, 0.1});
  const Plan plan = compile_plan(sc);
  for_each_kernels([&] {
    std::size_t invalid = 0;
    CHECK(compare_groups(plan, sc.seed, 0, 2000, invalid) == 0);
    CHECK(compare_groups(plan, sc.seed, 4321, 301, invalid) == 0);
    CHECK(invalid > 0);
    CHECK(invalid < 1000);
  });
}
