// Known-answer tests of the block sampler (issue 12) against the scalar
// reference: the batched Philox, the batched inverse CDFs and
// sample_inputs_block must give sample_inputs' numbers bit for bit, on the
// default scenario and on one with every family in copula groups.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "bits.hpp"
#include "countysim/distribution.hpp"
#include "countysim/model.hpp"
#include "countysim/plan.hpp"
#include "countysim/rng.hpp"
#include "countysim/sampling.hpp"
#include "countysim/scenario.hpp"
#include "countysim/simd.hpp"
#include "simd_levels.hpp"

using namespace countysim;

namespace {

using testing::bits;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// The example scenario with every family and both kinds of copula group:
// an upper-tail truncated normal and a beta (per year), a lognormal and a
// normal with the rest's growth (per year), a uniform with a triangular and a
// discrete with a PERT (per draw), a poisson with a uniform (per year).
std::string all_families_yaml() {
  std::string y = read_file(std::string(COUNTYSIM_TEST_DATA) + "/example.yaml");
  y = replace(y, "new_loans: {dist: normal, mean: 15, sd: 2, min: 5}",
              "new_loans: {dist: normal, mean: 15, sd: 2, min: 17, max: 30}");
  y = replace(y, "  - {between: [clusters.textiles.growth, macro.rest_growth], rho: 0.3}\n",
              "  - {between: [clusters.textiles.growth, macro.rest_growth], rho: 0.3}\n"
              "  - {between: [clusters.solar.growth, clusters.textiles.growth], rho: -0.4}\n"
              "  - {between: [finance.new_loans, finance.manufacturing_loan_share], rho: 0.5}\n"
              "  - {between: [clusters.textiles.value_added_ratio, clusters.solar.tax_rate], "
              "rho: 0.6}\n"
              "  - {between: [projects.dyeing.start_delay_months, "
              "projects.dyeing.capacity_output], rho: 0.7}\n"
              "  - {between: [firms.above_scale.entries, macro.rest_growth], rho: 0.2}\n");
  return y;
}

// Every slot of draws first .. first + n - 1: block against sample_inputs.
void check_block(const Plan& plan, std::uint64_t seed, std::uint64_t first, std::size_t n) {
  std::vector<double> block, scratch, one, one_scratch;
  sample_inputs_block(plan, seed, first, n, block, scratch);
  REQUIRE(block.size() == plan.slots.size() * n);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sample_inputs(plan, seed, first + i, one, one_scratch);
    for (std::size_t s = 0; s < plan.slots.size(); ++s) {
      if (bits(block[s * n + i]) == bits(one[s])) continue;
      if (mismatches++ < 5)
        FAIL_CHECK("draw " << first + i << " slot " << plan.slots[s].key << ": block "
                           << block[s * n + i] << ", scalar " << one[s]);
    }
  }
  CHECK(mismatches == 0);
}

}  // namespace

TEST_CASE("stream_uniform_block gives stream_uniform's bits", "[sampling]") {
  const std::uint64_t hash = key_hash("clusters.bamboo.growth@2023");
  for (const std::uint64_t seed : {0ULL, 20220401ULL, 0xfedcba9876543210ULL}) {
    // Lengths around the four and eight lanes; counters whose eight lanes
    // carry into the high word (or just do not: 0xfffffff8).
    for (const std::uint64_t first :
         {0ULL, 12345ULL, 0xfffffff0ULL, 0xfffffff7ULL, 0xfffffff8ULL, 0xfffffff9ULL, 0xfffffffdULL,
          0x7fffffffffffffe0ULL, ~0ULL - 40}) {
      for (const std::size_t n : {0, 1, 3, 4, 5, 8, 9, 16, 37, 1000}) {
        std::vector<double> u(n);
        stream_uniform_block(seed, hash, first, n, u.data());
        for (std::size_t i = 0; i < n; ++i)
          CHECK(bits(u[i]) == bits(stream_uniform(seed, hash, first + i)));
      }
    }
  }
}

TEST_CASE("the array quantile gives the scalar quantile's bits for every family", "[sampling]") {
  const std::vector<Distribution> dists = {
      Distribution::constant(2.5),
      Distribution::normal(0.06, 0.015),
      Distribution::normal(1, 0),
      Distribution::normal(15, 2, 5),
      Distribution::normal(15, 2, 17, 30),
      Distribution::normal(0.04, 0.023, -0.05, 0.10),
      Distribution::normal(0.02, 0.01, -0.5),
      Distribution::lognormal(0.04, 0.5),
      Distribution::lognormal(2, 0),
      Distribution::uniform(0.2, 0.3),
      Distribution::uniform(1, 1),
      Distribution::triangular(100, 250, 300),
      Distribution::pert(100, 250, 400),
      Distribution::pert(3, 3, 3),
      Distribution::beta(8, 32),
      Distribution::beta(0.5, 0.5, -1, 2),
      Distribution::poisson(8),
      Distribution::poisson(25),
      Distribution::poisson(0.01),
      Distribution::poisson(5000),
      Distribution::poisson(0),
      Distribution::discrete({0, 3, 9}, {0.5, 0.3, 0.2}),
      Distribution::discrete({0, 1}, {0.25, 0.75}),
      Distribution::discrete({5, 1, 5, 2, 7}, {0.2, 0, 0.3, 0.5, 0}),
      Distribution::discrete({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17},
                             std::vector<double>(17, 1.0 / 17)),
  };
  // Uniforms from a stream with values near the ends of (0, 1), exact 0.5 and
  // the boundaries of normal_quantile's central region among them (every lane
  // of the vectorised paths; all inside (0, 1)), then the same with the ends
  // of (0, 1) and beyond and NaN (which the array paths leave to quantile(u)).
  std::vector<double> inside(203);
  stream_uniform_block(7, key_hash("u"), 0, inside.size(), inside.data());
  const double edges[] = {0x1.0p-60,
                          1 - 0x1.0p-54,
                          0.5,
                          0x1.fffffffffffffp-1,
                          std::numeric_limits<double>::denorm_min(),
                          std::numeric_limits<double>::min(),
                          std::nextafter(0.075, 0.0),
                          0.075,
                          std::nextafter(0.075, 1.0),
                          std::nextafter(0.925, 0.0),
                          0.925,
                          std::nextafter(0.925, 1.0),
                          std::nextafter(0.5, 0.0),
                          std::nextafter(0.5, 1.0)};
  for (std::size_t k = 0; k < std::size(edges); ++k) inside[k * 13 + k % 4] = edges[k];
  std::vector<double> tail_bad = inside;  // one bad value past the last four-lane block
  tail_bad.push_back(0.5);
  tail_bad.push_back(std::numeric_limits<double>::quiet_NaN());
  std::vector<double> all = inside;
  for (const double e : {0.0, 1.0, -0.5, 1.5, std::numeric_limits<double>::quiet_NaN()})
    all.push_back(e);
  for (const auto& d : dists) {
    INFO(d.describe());
    for (const auto* u : {&inside, &all, &tail_bad}) {
      const std::size_t n = u->size();
      std::vector<double> x(n);
      d.quantile(u->data(), x.data(), n);
      for (std::size_t i = 0; i < n; ++i) {
        INFO("u = " << (*u)[i]);
        CHECK(bits(x[i]) == bits(d.quantile((*u)[i])));
      }
      std::vector<double> in_place = *u;  // x may be u
      d.quantile(in_place.data(), in_place.data(), n);
      for (std::size_t i = 0; i < n; ++i) CHECK(bits(in_place[i]) == bits(x[i]));
    }
  }
}

TEST_CASE("sample_inputs_block gives sample_inputs' bits on the default scenario", "[sampling]") {
  const Scenario sc =
      load_scenario(std::string(COUNTYSIM_SOURCE_DIR) + "/scenarios/taojiang-2022.yaml");
  const Plan plan = compile_plan(sc);
  REQUIRE(!plan.groups.empty());
  check_block(plan, sc.seed, 0, 64);
  check_block(plan, sc.seed, 0xfffffffdULL, 7);  // the draw counter's high word changes
  check_block(plan, 1, 999, 1);
}

TEST_CASE("sample_inputs_block gives sample_inputs' bits with every family in copula groups",
          "[sampling]") {
  const Scenario sc = load_scenario_text(all_families_yaml(), "all-families.yaml");
  const Plan plan = compile_plan(sc);
  // Per-draw and per-year groups; each family is among the grouped inputs.
  REQUIRE(plan.groups.size() >= 5);
  std::vector<bool> grouped(9, false);
  for (const auto& s : plan.slots)
    if (s.group >= 0) grouped[static_cast<int>(s.dist.family())] = true;
  for (const Family f : {Family::normal, Family::lognormal, Family::uniform, Family::triangular,
                         Family::pert, Family::beta, Family::poisson, Family::discrete}) {
    INFO(family_name(f));
    CHECK(grouped[static_cast<int>(f)]);
  }
  check_block(plan, sc.seed, 0, 100);
  check_block(plan, 20220401, (1ULL << 32) - 3, 9);
}

TEST_CASE("sample_inputs_block: plain normals and copula groups taken together or apart",
          "[sampling]") {
  // The block sampler runs the normal quantile over runs of consecutive
  // plain normals and over a copula group's members at once when their
  // slots are consecutive and all plain normals; otherwise input by input.
  // Runs broken by a truncated normal and a lognormal, a group whose slots
  // are out of order and one with a member that is not a plain normal: the
  // same bits as sample_inputs on every level.
  const Scenario sc =
      load_scenario(std::string(COUNTYSIM_SOURCE_DIR) + "/scenarios/taojiang-2022.yaml");
  const Plan base = compile_plan(sc);
  REQUIRE(base.groups.size() >= 3);
  std::vector<Plan> plans(3, base);
  // Ungrouped plain normals: break their runs.
  int changed = 0;
  for (const int i : base.random_slots) {
    const InputSlot& s = base.slots[i];
    if (s.group >= 0 || !s.dist.plain_normal()) continue;
    if (changed % 3 == 1) plans[0].slots[i].dist = Distribution::normal(0.05, 0.02, 0.0, 0.08);
    if (changed % 3 == 2) plans[0].slots[i].dist = Distribution::lognormal(1.0, 0.3);
    ++changed;
  }
  REQUIRE(changed >= 6);
  // Groups: members out of order; a member that is not a plain normal.
  for (CopulaGroup& g : plans[1].groups) std::reverse(g.slots.begin(), g.slots.end());
  for (const CopulaGroup& g : plans[2].groups) {
    plans[2].slots[g.slots.back()].dist = Distribution::normal(0.0, 1.0, -0.5, 2.0);
    plans[2].slots[g.slots.front()].dist = Distribution::pert(0.0, 0.2, 1.0);
  }
  for (const SimdLevel level : testing::simd_levels()) {
    testing::LevelScope scope(level);
    for (std::size_t k = 0; k < plans.size(); ++k) {
      INFO("level " << simd_level_name(level) << ", plan " << k);
      check_block(plans[k], sc.seed, 0, 64);
      check_block(plans[k], sc.seed, 1000, 23);
    }
  }
}

TEST_CASE("simulate_draw's block of inputs: any draw order, plans and seeds in one workspace",
          "[sampling]") {
  const Scenario a = load_scenario(std::string(COUNTYSIM_TEST_DATA) + "/example.yaml");
  const Scenario b = load_scenario_text(all_families_yaml(), "all-families.yaml");
  const Plan pa = compile_plan(a), pb = compile_plan(b);
  DrawWorkspace ws;
  DrawOutput oa, ob;
  oa.resize(pa);
  ob.resize(pb);
  std::vector<double> want, scratch;
  // Sequential runs, jumps back and forth, another plan and another seed in
  // between: each draw's inputs (before the exit counts replace the exit
  // uniforms) must be sample_inputs'.
  struct Step {
    const Plan* plan;
    DrawOutput* out;
    std::uint64_t seed, draw;
  };
  std::vector<Step> steps;
  for (std::uint64_t d = 0; d < 40; ++d) steps.push_back({&pa, &oa, 42, d});
  for (const std::uint64_t d : {5ULL, 100ULL, 31ULL, 32ULL, 7ULL})
    steps.push_back({&pa, &oa, 42, d});
  steps.push_back({&pb, &ob, 42, 6});
  steps.push_back({&pa, &oa, 43, 6});
  steps.push_back({&pa, &oa, 42, 6});
  for (const Step& st : steps) {
    simulate_draw(*st.plan, st.seed, st.draw, ws, *st.out);
    sample_inputs(*st.plan, st.seed, st.draw, want, scratch);
    std::size_t mismatches = 0;
    for (std::size_t s = 0; s < want.size(); ++s) {
      if (st.plan->slots[s].key.find(".exits@") != std::string::npos) continue;
      mismatches += bits(want[s]) != bits(st.out->inputs[s]);
    }
    INFO("draw " << st.draw << " seed " << st.seed);
    CHECK(mismatches == 0);
  }
}
