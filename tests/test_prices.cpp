// Prices and constant-price metrics (model.md "Prices", v2): a constant
// county computed by hand, and the guarantees that a v1 scenario computes
// exactly what it did and that zero price changes make real equal nominal,
// bit for bit.
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "countysim/engine.hpp"
#include "countysim/model.hpp"
#include "countysim/plan.hpp"
#include "countysim/results_io.hpp"
#include "countysim/results_layout.hpp"
#include "countysim/scenario.hpp"
#include "scenario_fixtures.hpp"
#include "temp_dir.hpp"

using namespace countysim;
using Catch::Matchers::WithinRel;

namespace {

struct Run {
  Scenario scenario;
  Plan plan;
  DrawOutput out;
  DrawWorkspace ws;
  explicit Run(const std::string& yaml) : scenario(load_scenario_text(yaml, "test.yaml")) {
    plan = compile_plan(scenario);
    out.resize(plan);
  }
  const DrawOutput& draw(std::uint64_t d = 0) {
    simulate_draw(plan, scenario.seed, d, ws, out);
    return out;
  }
};

// Two years (2022, 2023), every input constant, no common shock. Cluster a
// (priced by ppi) holds a project whose output draws on cluster b (priced by
// cpi) through the supply chain; the rest has its own deflator.
const std::string kCounty = R"(schema: countysim/2
name: 价格测试县
horizon: {base_year: 2021, last_year: 2023}
simulation: {draws: 10, seed: 11}
macro:
  gdp_base: 200
  rest_growth: 0.06
  common_shock: {sd: 0, persistence: 0}
  digital_share_of_rest: 0.1
  rest_price_change: 0.01
finance:
  new_loans: 10
  manufacturing_loan_share: 0.2
  reference_share: 0.2
  project_credit_fraction: 0.3
land:
  initial_stock_mu: 0
  supply_mu: 0
prices:
  - {id: ppi, name: 工业品出厂价格, change: {2022: 0.04, 2023: -0.03}}
  - {id: cpi, name: 消费价格, change: 0.02}
clusters:
  - id: a
    name: 甲
    base_output: 100
    growth: 0.05
    value_added_ratio: 0.3
    tax_rate: 0.02
    output_per_worker: 50
    productivity_growth: 0
    price_index: ppi
  - id: b
    name: 乙
    base_output: 40
    growth: 0.1
    value_added_ratio: 0.5
    tax_rate: 0.04
    output_per_worker: 100
    productivity_growth: 0.1
    price_index: cpi
projects:
  - id: p
    name: 项目
    cluster: a
    planned_start: 2021-01
    construction_months: 0
    ramp_months: 0
    capacity_output: 12
    land_mu: 0
    investment: 0
    jobs: 60
    tax_rate: 0.1
supply_chain:
  b: {a: 0.1}
targets:
  - {id: out, label: 产值, metric: industrial_output, at_least: 0}
)";

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

std::vector<double> year_row(const DrawOutput& o, Metric m) {
  std::vector<double> row;
  for (int y = 0; y <= o.years; ++y) row.push_back(o.metric(m, y));
  return row;
}

}  // namespace

TEST_CASE("price accounting by hand: nominal, real, growth, tax and employment", "[prices]") {
  Run r(kCounty);
  const DrawOutput& o = r.draw(0);
  // Price levels: a by ppi, b by cpi, the rest by its deflator.
  const double pa[] = {1, 1.04, 1.04 * 0.97}, pb[] = {1, 1.02, 1.02 * 1.02},
               pr[] = {1, 1.01, 1.01 * 1.01};
  // Real incumbent output grows at `growth`; the project gives 12 a year in
  // a from January 2022 (ready before the horizon, nothing to wait for), and
  // b supplies 0.1 of it: X = (12, 1.2).
  const double inc_a[] = {100, 105, 110.25}, inc_b[] = {40, 44, 48.4};
  const double d_a[] = {0, 12, 12}, x_b[] = {0, 1.2, 1.2};
  double va_real_prev = 0, gdp_real_prev = 0, rest_real = 150;  // R*_0 = 200 - 0.3 x 100 - 0.5 x 40
  for (int y = 0; y <= 2; ++y) {
    INFO("year " << 2021 + y);
    if (y > 0) rest_real *= 1.06;
    const double ya = inc_a[y] + d_a[y], yb = inc_b[y] + x_b[y];  // real
    const double na = pa[y] * ya, nb = pb[y] * yb;                // nominal
    CHECK_THAT(o.cluster_output[y * 2 + 0], WithinRel(na, 1e-12));
    CHECK_THAT(o.cluster_output[y * 2 + 1], WithinRel(nb, 1e-12));
    CHECK_THAT(o.project_output[y], WithinRel(pa[y] * d_a[y], 1e-12));
    CHECK_THAT(o.metric(Metric::industrial_output, y), WithinRel(na + nb, 1e-12));
    CHECK_THAT(o.metric(Metric::industrial_output_real, y), WithinRel(ya + yb, 1e-12));
    const double va = 0.3 * na + 0.5 * nb, va_real = 0.3 * ya + 0.5 * yb;
    CHECK_THAT(o.metric(Metric::industrial_value_added, y), WithinRel(va, 1e-12));
    // Single deflation: each cluster's value added by its own output price.
    CHECK_THAT(o.metric(Metric::industrial_value_added_real, y),
               WithinRel(0.3 * na / pa[y] + 0.5 * nb / pb[y], 1e-12));
    CHECK_THAT(o.metric(Metric::industrial_value_added_real, y), WithinRel(va_real, 1e-12));
    const double gdp = pr[y] * rest_real + va, gdp_real = rest_real + va_real;
    CHECK_THAT(o.metric(Metric::gdp, y), WithinRel(gdp, 1e-12));
    CHECK_THAT(o.metric(Metric::gdp_real, y), WithinRel(gdp_real, 1e-12));
    // Shares in current prices.
    CHECK_THAT(o.metric(Metric::manufacturing_va_share, y), WithinRel(va / gdp, 1e-12));
    if (y == 0) {
      // The base year has no previous year: no growth.
      CHECK(std::isnan(o.metric(Metric::industrial_va_real_growth, y)));
      CHECK(std::isnan(o.metric(Metric::gdp_real_growth, y)));
    } else {
      CHECK_THAT(o.metric(Metric::industrial_va_real_growth, y),
                 WithinRel(va_real / va_real_prev - 1, 1e-12));
      CHECK_THAT(o.metric(Metric::gdp_real_growth, y),
                 WithinRel(gdp_real / gdp_real_prev - 1, 1e-12));
    }
    va_real_prev = va_real;
    gdp_real_prev = gdp_real;
    // Tax on nominal output: incumbent and induced at the cluster's rate,
    // the project's own output at its rate.
    const double tax = 0.02 * pa[y] * inc_a[y] + 0.04 * pb[y] * yb + 0.1 * pa[y] * d_a[y];
    CHECK_THAT(o.metric(Metric::industrial_tax, y), WithinRel(tax, 1e-12));
    // Employment on real output: output per worker is in base-year prices.
    const double w_b = 100 * std::pow(1.1, y);
    const double jobs_a = 1e4 * inc_a[y] / 50 + (y > 0 ? 60 : 0), jobs_b = 1e4 * yb / w_b;
    CHECK_THAT(o.cluster_employment[y * 2 + 0], WithinRel(jobs_a, 1e-12));
    CHECK_THAT(o.cluster_employment[y * 2 + 1], WithinRel(jobs_b, 1e-12));
    CHECK_THAT(o.metric(Metric::employment, y), WithinRel(jobs_a + jobs_b, 1e-12));
  }
  // Targets compare nominal values.
  CHECK(o.target_value[0] == o.metric(Metric::industrial_output, 2));
}

TEST_CASE("a v1 scenario and the same scenario as v2 without prices give identical draws",
          "[prices]") {
  using testing::edit;
  const std::string v1 = testing::kBase;
  const std::string v2 = edit(v1, "schema: countysim/1", "schema: countysim/2");
  // All price changes 0: two indices, both clusters priced, a zero deflator.
  std::string zero = edit(v2, "  digital_share_of_rest: 0.03\n",
                          "  digital_share_of_rest: 0.03\n  rest_price_change: 0\n");
  zero = edit(zero, "clusters:\n",
              "prices:\n  - {id: ppi, name: 出厂价格, change: 0}\n"
              "  - {id: cpi, name: 消费价格, change: {2022: 0, 2023: 0, 2024: 0}}\n"
              "clusters:\n");
  zero = edit(zero, "    productivity_growth: 0.04\n",
              "    productivity_growth: 0.04\n    price_index: ppi\n");
  zero = edit(zero, "    productivity_growth: 0.02\n",
              "    productivity_growth: 0.02\n    price_index: cpi\n");
  Run a(v1), b(v2), c(zero);
  for (std::uint64_t d : {0ull, 1ull, 2ull, 977ull, 123456789ull}) {
    INFO("draw " << d);
    const DrawOutput oa = a.draw(d), ob = b.draw(d), oc = c.draw(d);
    for (const DrawOutput* o : {&ob, &oc}) {
      CHECK(same_bits(oa.year_metrics, o->year_metrics));
      CHECK(same_bits(oa.cluster_output, o->cluster_output));
      CHECK(same_bits(oa.cluster_employment, o->cluster_employment));
      CHECK(same_bits(oa.project_output, o->project_output));
      CHECK(oa.start_month == o->start_month);
      CHECK(oa.target_met == o->target_met);
      CHECK(same_bits(oa.target_value, o->target_value));
    }
    // Zero price changes: real equals nominal, bit for bit.
    for (const DrawOutput* o : {&oa, &oc}) {
      CHECK(same_bits(year_row(*o, Metric::industrial_output),
                      year_row(*o, Metric::industrial_output_real)));
      CHECK(same_bits(year_row(*o, Metric::industrial_value_added),
                      year_row(*o, Metric::industrial_value_added_real)));
      CHECK(same_bits(year_row(*o, Metric::gdp), year_row(*o, Metric::gdp_real)));
    }
  }
  // Files store the constant-price metrics only where prices can move: a v1
  // file keeps exactly its v1 datasets (and bytes per draw).
  auto stores = [](const Plan& plan, const std::string& name) {
    const ResultsLayout l = make_layout(plan);
    return std::any_of(l.specs.begin(), l.specs.end(),
                       [&](const DatasetSpec& s) { return s.name == name; });
  };
  for (const char* m : {"industrial_output_real", "industrial_value_added_real", "gdp_real",
                        "industrial_va_real_growth", "gdp_real_growth"}) {
    INFO(m);
    CHECK_FALSE(stores(a.plan, m));
    CHECK_FALSE(stores(b.plan, m));
    CHECK(stores(c.plan, m));
  }
  CHECK(stores(a.plan, "gdp"));
}

TEST_CASE("random price changes move nominal, not real output or employment", "[prices]") {
  std::string text = testing::kBaseV2;
  Run v2(text), v1(testing::kBase);
  for (std::uint64_t d : {0ull, 5ull, 4242ull}) {
    const DrawOutput o2 = v2.draw(d), o1 = v1.draw(d);
    // Same volumes (common random numbers: same keys), different prices.
    CHECK(same_bits(year_row(o1, Metric::industrial_output_real),
                    year_row(o2, Metric::industrial_output_real)));
    CHECK(same_bits(year_row(o1, Metric::employment), year_row(o2, Metric::employment)));
    // textiles is priced by ppi: +4.1% in 2022.
    CHECK_THAT(o2.cluster_output[1 * 2 + 0],
               WithinRel(1.041 * o1.cluster_output[1 * 2 + 0], 1e-12));
    // solar has no price index: its price stays 1.
    CHECK(o2.cluster_output[2 * 2 + 1] == o1.cluster_output[2 * 2 + 1]);
    CHECK(o2.metric(Metric::gdp, 1) != o1.metric(Metric::gdp, 1));
  }
}

TEST_CASE("a run with prices writes the real metrics; summaries take the NaN base year",
          "[prices]") {
  testing::TempDir tmp;
  Run r(testing::kBaseV2);
  RunOptions opt;
  opt.output = tmp.file("run.h5");
  opt.threads = 2;
  opt.block_draws = 256;
  run_to_file(r.plan, opt);
  ResultsReader file(opt.output);
  for (const char* m : {"industrial_output_real", "industrial_value_added_real", "gdp_real",
                        "industrial_va_real_growth", "gdp_real_growth"}) {
    INFO(m);
    CHECK(file.has_dataset("draws", m));
  }
  const MetricSummary g = file.summary("gdp_real_growth");
  REQUIRE(g.mean.size() == 4);
  CHECK(std::isnan(g.mean[0]));  // the base year has no growth
  for (int y = 1; y < 4; ++y) {
    CHECK(std::isfinite(g.mean[y]));
    CHECK(g.mean[y] > 0);
    CHECK(g.mean[y] < 0.2);
  }
  const std::vector<double> draws = file.read_dataset("draws", "gdp_real_growth");
  REQUIRE(draws.size() == 1000 * 4);
  CHECK(std::isnan(draws[0]));
  CHECK(std::isfinite(draws[1]));
}

TEST_CASE("the draw guard stops a draw whose real GDP is not positive", "[prices]") {
  // The rest falls with the shock (loading -10, growth -1): when z > 0.05 its
  // real value drops below -50 while deflation (-99%) keeps its nominal value
  // small and a price doubling keeps nominal industry large, so nominal GDP
  // stays positive and only real GDP goes negative.
  Run r(R"(schema: countysim/2
name: guard
horizon: {base_year: 2021, last_year: 2022}
simulation: {draws: 100, seed: 3}
macro:
  gdp_base: 150
  rest_growth: -1
  rest_shock_loading: -10
  common_shock: {sd: 0.1, persistence: 0}
  digital_share_of_rest: 0
  rest_price_change: -0.99
finance:
  new_loans: 10
  manufacturing_loan_share: 0.2
  reference_share: 0.2
  project_credit_fraction: 0.3
land:
  initial_stock_mu: 0
  supply_mu: 0
prices:
  - {id: up, name: 翻倍, change: 1}
clusters:
  - {id: a, name: 甲, base_output: 100, growth: 0, shock_loading: 0, value_added_ratio: 0.5,
     tax_rate: 0.01, output_per_worker: 50, productivity_growth: 0, price_index: up}
targets:
  - {id: out, label: 产值, metric: industrial_output, at_least: 0}
)");
  int stopped = 0, passed = 0;
  for (std::uint64_t d = 0; d < 100; ++d) {
    try {
      r.draw(d);
      ++passed;
      CHECK(r.ws.zt[1] <= 0.05);
    } catch (const RunError& e) {
      ++stopped;
      const double z = r.ws.zt[1], rest_real = 100 * (-10 * z);
      CHECK(z > 0.05);
      CHECK(r.out.metric(Metric::gdp, 1) > 0);  // nominal GDP alone would pass
      CHECK(std::string(e.what()) ==
            fmt::format("draw {}: GDP at base-year prices in 2022 is {:.6g} 亿元 (rest of the "
                        "economy {:.6g} at base-year prices, {:.6g} in current prices); the "
                        "rest's real growth (macro.rest_growth + rest_shock_loading x common "
                        "shock) took it below zero: check the spreads of the growth rates and "
                        "macro.common_shock.sd (fractions: 0.02 for 2%)",
                        d, rest_real + 50, rest_real, (1 + -0.99) * rest_real));
    }
  }
  CHECK(stopped > 0);
  CHECK(passed > 0);
}
