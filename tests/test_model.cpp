// The mechanisms of model.md, one by one: deterministic scenarios whose
// outputs are computed by hand, and Monte-Carlo checks against closed forms
// (fixed seeds, bounds of 4 standard errors).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "../src/model_stages.hpp"
#include "bits.hpp"
#include "countysim/engine.hpp"
#include "countysim/model.hpp"
#include "countysim/plan.hpp"
#include "countysim/scenario.hpp"

using namespace countysim;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {

// A two-year county (2021 base, 2022-2023) with every parameter constant;
// tests change pieces through Base and append clusters, projects, targets.
struct Base {
  std::string shock = "{sd: 0, persistence: 0}";
  std::string loan_share = "0.2";
  std::string land = "land:\n  initial_stock_mu: 1000\n  supply_mu: 0\n";
  std::string draws = "1000";
  std::string text() const {
    return "schema: countysim/1\nname: test county\n"
           "horizon: {base_year: 2021, last_year: 2023}\n"
           "simulation: {draws: " +
           draws +
           ", seed: 7}\n"
           "macro:\n  gdp_base: 1000\n  rest_growth: 0.05\n  rest_shock_loading: 0.5\n"
           "  common_shock: " +
           shock +
           "\n  digital_share_of_rest: 0.1\n"
           "finance:\n  new_loans: 10\n  manufacturing_loan_share: " +
           loan_share + "\n  reference_share: 0.2\n  project_credit_fraction: 0.5\n" + land;
  }
};
std::string base_yaml() {
  return Base().text();
}

const char* cluster_a = R"(  - id: a
    name: 甲
    group: g
    base_output: 50
    growth: 0.1
    value_added_ratio: 0.25
    tax_rate: 0.01
    output_per_worker: 50
    productivity_growth: 0.1
)";

const char* one_target = R"(targets:
  - {id: out, label: 产值, metric: industrial_output, at_least: 0}
)";

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
  int slot(const std::string& key) const {
    for (std::size_t i = 0; i < plan.slots.size(); ++i)
      if (plan.slots[i].key == key) return static_cast<int>(i);
    FAIL("no slot " << key);
    return -1;
  }
};

double phi(double z) {
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

}  // namespace

TEST_CASE("land released in one late year only delays the start to that year", "[model]") {
  Base b;
  b.land = "land:\n  initial_stock_mu: 0\n  supply_mu: {2022: 0, 2023: 100}\n";
  Run r(b.text() + "clusters:\n" + cluster_a + R"(projects:
  - id: p
    name: 项目
    cluster: a
    planned_start: 2022-01
    construction_months: 6
    ramp_months: 0
    capacity_output: 12
    land_mu: 100
    investment: 5
)" + one_target);
  const auto& o = r.draw();
  CHECK(o.start_month[0] == 12);       // January 2023, when the land arrives
  CHECK(o.production_month[0] == 18);  // + 6 months construction
  CHECK(o.project_output[1 * 1 + 0] == 0.0);
  CHECK_THAT(o.project_output[2 * 1 + 0], WithinRel(6.0, 1e-12));  // 12 x 6/12
  CHECK(o.metric(Metric::land_supplied_mu, 1) == 0);
  CHECK(o.metric(Metric::land_supplied_mu, 2) == 100);
  CHECK(o.metric(Metric::land_used_mu, 1) == 0);
  CHECK(o.metric(Metric::land_used_mu, 2) == 100);
  CHECK(o.metric(Metric::land_stock_mu, 2) == 0);
  CHECK(o.metric(Metric::projects_started, 1) == 0);
  CHECK(o.metric(Metric::projects_started, 2) == 1);
  CHECK(o.metric(Metric::projects_producing, 2) == 1);
  // Incumbents 50 -> 55 -> 60.5, plus the project's 6 in 2023.
  CHECK_THAT(o.cluster_output[1], WithinRel(55.0, 1e-12));
  CHECK_THAT(o.cluster_output[2], WithinRel(66.5, 1e-12));
  CHECK(std::isnan(o.metric(Metric::land_supplied_mu, 0)));
}

TEST_CASE("a credit pool that needs two years; first fit lets a later project go first",
          "[model]") {
  // M = 10 x 0.2 = 2 a year, open to projects: 0.5 x 2 = 1 a year.
  Run r(base_yaml() + "clusters:\n" + cluster_a + R"(projects:
  - id: big
    name: 大项目
    cluster: a
    planned_start: 2022-01
    construction_months: 0
    ramp_months: 12
    capacity_output: 24
    investment: 3
    loan_share: 0.5
    priority: 1
    land_mu: 0
  - id: small
    name: 小项目
    cluster: a
    planned_start: 2022-01
    construction_months: 0
    ramp_months: 0
    capacity_output: 1
    investment: 0.8
    loan_share: 0.5
    priority: 2
    land_mu: 0
)" + one_target);
  const auto& o = r.draw();
  CHECK(o.start_month[1] == 0);   // needs 0.4 <= 1: starts at once
  CHECK(o.start_month[0] == 12);  // needs 1.5: pool 0.6 + 1 in January 2023
  // Ramp over 12 months from month 12: (1 + 2 + ... + 12) / 12 / 12 of 24.
  CHECK_THAT(o.project_output[2 * 2 + 0], WithinRel(24.0 * 78.0 / 144.0, 1e-12));
  CHECK_THAT(o.project_output[1 * 2 + 1], WithinRel(1.0, 1e-12));
  CHECK(o.metric(Metric::projects_started, 1) == 1);
  CHECK(o.metric(Metric::projects_started, 2) == 2);
}

TEST_CASE("the supply-chain multiplier spreads project output to suppliers", "[model]") {
  Run r(base_yaml() + "clusters:\n" + cluster_a + R"(  - id: b
    name: 乙
    group: g
    base_output: 30
    growth: 0
    value_added_ratio: 0.3
    tax_rate: 0.02
    output_per_worker: 100
    productivity_growth: 0
supply_chain:
  b: {a: 0.2}
  a: {b: 0.1}
projects:
  - id: p
    name: 项目
    cluster: a
    planned_start: 2021-01
    construction_months: 0
    ramp_months: 0
    capacity_output: 10
    tax_rate: 0.05
    jobs: 200
    land_mu: 0
    investment: 0
)" + one_target);
  const auto& o = r.draw();
  // (I - A)^-1 = [[1, 0.1], [0.2, 1]] / 0.98; D = (10, 0).
  const double xa = 10 / 0.98, xb = 2 / 0.98;
  CHECK_THAT(o.cluster_output[1 * 2 + 0], WithinRel(55 + xa, 1e-12));
  CHECK_THAT(o.cluster_output[1 * 2 + 1], WithinRel(30 + xb, 1e-12));
  // Tax: incumbents and induced output at cluster rates, the project at its own.
  const double tax = 0.01 * (55 + xa - 10) + 0.02 * (30 + xb) + 0.05 * 10;
  CHECK_THAT(o.metric(Metric::industrial_tax, 1), WithinRel(tax, 1e-12));
  // Employment: (Y - D) / w plus the project's jobs at full capacity.
  const double emp_a = 1e4 * (55 + xa - 10) / 55.0 + 200;
  CHECK_THAT(o.cluster_employment[1 * 2 + 0], WithinRel(emp_a, 1e-12));
  CHECK_THAT(o.cluster_employment[1 * 2 + 1], WithinRel(1e4 * (30 + xb) / 100.0, 1e-12));
}

TEST_CASE("value added, GDP and the three shares with a non-manufacturing cluster", "[model]") {
  Run r(base_yaml() + R"(clusters:
  - id: m
    name: 制造
    group: g
    base_output: 100
    growth: 0
    value_added_ratio: 0.25
    tax_rate: 0.01
    output_per_worker: 50
    productivity_growth: 0.1
    digital_share: 0.2
    strategic_emerging_share: 0.5
  - id: e
    name: 电力
    group: g
    manufacturing: false
    base_output: 20
    growth: 0
    value_added_ratio: 0.5
    tax_rate: 0.02
    output_per_worker: 200
    productivity_growth: 0
    strategic_emerging_share: 1.0
)" + one_target);
  const auto& o = r.draw();
  // R0 = 1000 - 25 - 10 = 965; R1 = 965 x 1.05.
  const double r1 = 965 * 1.05, gdp1 = r1 + 35;
  CHECK_THAT(o.metric(Metric::gdp, 0), WithinRel(1000.0, 1e-12));
  CHECK_THAT(o.metric(Metric::gdp, 1), WithinRel(gdp1, 1e-12));
  CHECK_THAT(o.metric(Metric::industrial_value_added, 1), WithinRel(35.0, 1e-12));
  CHECK_THAT(o.metric(Metric::manufacturing_value_added, 1), WithinRel(25.0, 1e-12));
  CHECK_THAT(o.metric(Metric::manufacturing_va_share, 1), WithinRel(25 / gdp1, 1e-12));
  CHECK_THAT(o.metric(Metric::digital_core_va_share, 1),
             WithinRel((0.2 * 25 + 0.1 * r1) / gdp1, 1e-12));
  CHECK_THAT(o.metric(Metric::strategic_emerging_share, 1), WithinRel(70.0 / 120.0, 1e-12));
  CHECK_THAT(o.metric(Metric::industrial_tax, 0), WithinRel(1.0 + 0.4, 1e-12));
  CHECK_THAT(o.metric(Metric::employment, 2),
             WithinRel(1e4 * 100 / (50 * 1.21) + 1e4 * 20 / 200, 1e-12));
}

TEST_CASE("AR(1) shock and credit effect follow the growth equation draw by draw", "[model]") {
  Base b;
  b.shock = "{sd: 0.05, persistence: 0.6}";
  b.loan_share = "{dist: uniform, min: 0.1, max: 0.4}";
  const std::string cl =
      std::string(cluster_a) + "    shock_loading: 0.8\n    credit_elasticity: 0.5\n";
  Run r(b.text() + "clusters:\n" + cl + one_target);
  const int e1 = r.slot("macro.common_shock@2022"), e2 = r.slot("macro.common_shock@2023");
  const int s1 = r.slot("finance.manufacturing_loan_share@2022"),
            s2 = r.slot("finance.manufacturing_loan_share@2023");
  const std::uint64_t n = 20000;
  std::uint64_t above = 0;
  const double c = 0.03;
  for (std::uint64_t d = 0; d < n; ++d) {
    const auto& o = r.draw(d);
    const double z1 = o.inputs[e1], z2 = 0.6 * z1 + o.inputs[e2];
    const double y1 = 50 * (1 + 0.1 + 0.8 * z1 + 0.5 * (o.inputs[s1] - 0.2));
    const double y2 = y1 * (1 + 0.1 + 0.8 * z2 + 0.5 * (o.inputs[s2] - 0.2));
    REQUIRE_THAT(o.cluster_output[1], WithinRel(y1, 1e-12));
    REQUIRE_THAT(o.cluster_output[2], WithinRel(y2, 1e-12));
    // Rest of the economy loads on the same shock.
    REQUIRE_THAT(o.metric(Metric::gdp, 1) - 0.25 * o.cluster_output[1],
                 WithinRel(987.5 * (1 + 0.05 + 0.5 * z1), 1e-12));
    above += z2 > c;
  }
  // z_2 = 0.6 e_1 + e_2 ~ N(0, 0.05^2 (1 + 0.36)).
  const double truth = 1 - phi(c / (0.05 * std::sqrt(1.36)));
  const double est = double(above) / n, se = std::sqrt(truth * (1 - truth) / n);
  CHECK(std::abs(est - truth) < 4 * se);
}

TEST_CASE("success probability: the share of draws whose project starts", "[model]") {
  Run r(base_yaml() + "clusters:\n" + cluster_a + R"(projects:
  - id: p
    name: 项目
    cluster: a
    planned_start: 2022-03
    construction_months: 0
    ramp_months: 0
    capacity_output: 1
    success_probability: 0.3
    land_mu: 0
    investment: 0
)" + one_target);
  const std::uint64_t n = 20000;
  std::uint64_t started = 0;
  for (std::uint64_t d = 0; d < n; ++d) {
    const auto& o = r.draw(d);
    started += o.start_month[0] >= 0;
    if (o.start_month[0] >= 0) REQUIRE(o.start_month[0] == 2);
  }
  const double se = std::sqrt(0.3 * 0.7 / n);
  CHECK(std::abs(double(started) / n - 0.3) < 4 * se);
}

TEST_CASE("firm counts: entries, binomial exits and new-firm projects", "[model]") {
  Run r(base_yaml() + "clusters:\n" + cluster_a + R"(projects:
  - id: p
    name: 项目
    cluster: a
    planned_start: 2022-01
    construction_months: 3
    ramp_months: 6
    capacity_output: 1
    new_firm: true
    land_mu: 0
    investment: 0
firms:
  above_scale: {base: 100, entries: {dist: poisson, mean: 5}, exit_rate: 0.02}
  high_tech: {base: 10, entries: 0, exit_rate: 0}
)" + one_target);
  const std::uint64_t n = 20000;
  double sum = 0, sum2 = 0;
  for (std::uint64_t d = 0; d < n; ++d) {
    const auto& o = r.draw(d);
    const double x = o.metric(Metric::above_scale_firms, 1);
    REQUIRE(o.metric(Metric::above_scale_firms, 0) == 100);
    REQUIRE(o.metric(Metric::high_tech_firms, 2) == 10);  // the project is not high-tech
    sum += x;
    sum2 += x * x;
  }
  // E N_1 = 100 + 5 - 100 x 0.02 + 1; Var N_1 = 5 + 100 x 0.02 x 0.98.
  const double mean = sum / n;
  CHECK(std::abs(mean - 104.0) < 4 * std::sqrt(6.96 / n));
  const double var = sum2 / n - mean * mean;
  CHECK(std::abs(var - 6.96) < 4 * 6.96 * std::sqrt(2.0 / n) + 0.1);
}

TEST_CASE("targets: thresholds, cluster output and clusters_at_least", "[model]") {
  Run r(base_yaml() + "clusters:\n" + cluster_a + R"(  - id: b
    name: 乙
    group: g
    base_output: 30
    growth: 0
    value_added_ratio: 0.3
    tax_rate: 0.02
    output_per_worker: 100
    productivity_growth: 0
  - id: c
    name: 丙
    group: other
    base_output: 90
    growth: 0
    value_added_ratio: 0.3
    tax_rate: 0.02
    output_per_worker: 100
    productivity_growth: 0
targets:
  - {id: out, label: 产值, metric: industrial_output, at_least: 180.5}
  - {id: out-hi, label: 产值, metric: industrial_output, at_least: 180.6}
  - {id: a-55, label: 甲, metric: cluster_output, cluster: a, year: 2022, at_least: 55}
  - {id: two, label: 两个, metric: clusters_at_least, group: g, threshold: 30, at_least: 2}
  - {id: big, label: 三个, metric: clusters_at_least, group: g, threshold: 31, at_least: 2}
  - {id: tax, label: 税, metric: industrial_tax, at_most: 10}
)");
  const auto& o = r.draw();
  // 2023: a = 60.5, b = 30, c = 90 -> 180.5.
  CHECK(o.target_met[0] == 1);
  CHECK(o.target_met[1] == 0);
  CHECK(o.target_met[2] == 1);
  CHECK(o.target_value[3] == 2);
  CHECK(o.target_met[3] == 1);
  CHECK(o.target_value[4] == 1);
  CHECK(o.target_met[4] == 0);
  CHECK(o.target_met[5] == 1);
  CHECK_THAT(o.target_value[5], WithinRel(0.01 * 60.5 + 0.02 * 120, 1e-12));
}

TEST_CASE("the Gaussian copula gives the bivariate-normal orthant probability", "[model]") {
  auto cluster = [](const char* id, const char* growth) {
    return std::string("  - id: ") + id + "\n    name: " + id + "\n    group: g\n" +
           "    base_output: 30\n    growth: " + growth + "\n    value_added_ratio: 0.3\n" +
           "    tax_rate: 0.02\n    output_per_worker: 100\n    productivity_growth: 0\n";
  };
  const double pi = std::acos(-1.0);
  for (double rho : {-0.5, 0.4, 0.85}) {
    Run r(base_yaml() + "clusters:\n" + cluster("a", "{dist: normal, mean: 0.05, sd: 0.1}") +
          cluster("b", "{dist: lognormal, median: 0.08, sigma: 0.5}") +
          "correlations:\n  - {between: [clusters.a.growth, clusters.b.growth], rho: " +
          std::to_string(rho) + "}\n" + one_target);
    const int a = r.slot("clusters.a.growth@2023"), b = r.slot("clusters.b.growth@2023");
    const std::uint64_t n = 40000;
    std::uint64_t both = 0;
    for (std::uint64_t d = 0; d < n; ++d) {
      const auto& o = r.draw(d);
      // Above the medians <=> both normal scores positive.
      both += o.inputs[a] > 0.05 && o.inputs[b] > 0.08;
    }
    const double truth = 0.25 + std::asin(rho) / (2 * pi);
    const double se = std::sqrt(truth * (1 - truth) / n);
    INFO("rho " << rho << " estimate " << double(both) / n << " truth " << truth);
    CHECK(std::abs(double(both) / n - truth) < 4 * se);
  }
}

TEST_CASE("streams: same draw, same bits; adding a project leaves other inputs unchanged",
          "[model]") {
  const std::string head = base_yaml() + "clusters:\n" + cluster_a + R"(    # random inputs
  - id: b
    name: 乙
    group: g
    base_output: 30
    growth: {dist: normal, mean: 0.05, sd: 0.03}
    value_added_ratio: {dist: uniform, min: 0.2, max: 0.3}
    tax_rate: 0.02
    output_per_worker: 100
    productivity_growth: 0
projects:
  - id: p
    name: 项目
    cluster: b
    planned_start: 2022-01
    start_delay_months: {dist: triangular, min: 0, mode: 2, max: 12}
    construction_months: 6
    ramp_months: 6
    capacity_output: {dist: pert, min: 1, mode: 2, max: 4}
    success_probability: 0.8
    land_mu: 10
    investment: 1
)";
  const std::string extra = R"(  - id: q
    name: 新项目
    cluster: b
    planned_start: 2022-06
    start_delay_months: {dist: uniform, min: 0, max: 6}
    construction_months: 6
    ramp_months: 6
    capacity_output: {dist: uniform, min: 1, max: 2}
    success_probability: 0.5
    land_mu: 10
    investment: 1
)";
  Run one(head + one_target), two(head + extra + one_target);
  for (std::uint64_t d : {0ull, 1ull, 977ull, 123456789ull}) {
    const DrawOutput a = one.draw(d);
    const DrawOutput again = one.draw(d);
    // Bitwise (NaN != NaN, so no operator==).
    REQUIRE(a.year_metrics.size() == again.year_metrics.size());
    CHECK(std::memcmp(a.year_metrics.data(), again.year_metrics.data(),
                      a.year_metrics.size() * sizeof(double)) == 0);
    const DrawOutput b = two.draw(d);
    for (std::size_t i = 0; i < one.plan.slots.size(); ++i) {
      INFO(one.plan.slots[i].key);
      CHECK(a.inputs[i] == b.inputs[two.slot(one.plan.slots[i].key)]);
    }
  }
}

TEST_CASE("target counts do not depend on the thread count", "[model]") {
  Base b;
  b.shock = "{sd: 0.05, persistence: 0.5}";
  Run r(b.text() + "clusters:\n" + cluster_a + R"(targets:
  - {id: out, label: 产值, metric: industrial_output, at_least: 60}
)");
  const auto c1 = count_targets(r.plan, 7, 5000, 1);
  const auto c2 = count_targets(r.plan, 7, 5000, 2);
  const auto c3 = count_targets(r.plan, 7, 5000, 3);
  CHECK(c1.met == c2.met);
  CHECK(c1.met == c3.met);
  CHECK(c1.all_met == c3.all_met);
  CHECK(c1.met[0] > 0);
  CHECK(c1.met[0] < 5000);
}

TEST_CASE("the scheduling order by sort keys is the order by comparison", "[model]") {
  // project_timing sorts 64-bit keys (priority rank, ready, index) when the
  // plan has the ranks, and compares the projects otherwise: the same order.
  // The default scenario, with negative priorities and projects planned
  // before the horizon (negative ready months) mixed in.
  Scenario sc = load_scenario(std::string(COUNTYSIM_SOURCE_DIR) + "/scenarios/taojiang-2022.yaml");
  for (std::size_t p = 0; p < sc.projects.size(); ++p) {
    if (p % 3 == 0) sc.projects[p].planned_start_month -= 20;
    if (p % 4 == 1) sc.projects[p].priority = -7;
  }
  const Plan keyed = compile_plan(sc);
  REQUIRE(keyed.priority_rank.size() == sc.projects.size());
  Plan compared = keyed;
  compared.priority_rank.clear();
  DrawWorkspace ws_keyed, ws_compared;
  DrawOutput a, b;
  a.resize(keyed);
  b.resize(compared);
  std::size_t mismatches = 0;
  for (std::uint64_t d = 0; d < 3000; ++d) {
    simulate_draw(keyed, sc.seed, d, ws_keyed, a);
    simulate_draw(compared, sc.seed, d, ws_compared, b);
    REQUIRE(ws_keyed.order == ws_compared.order);
    const bool same = a.start_month == b.start_month && a.production_month == b.production_month &&
                      std::memcmp(a.year_metrics.data(), b.year_metrics.data(),
                                  a.year_metrics.size() * sizeof(double)) == 0;
    if (!same && mismatches++ < 3) FAIL_CHECK("draw " << d << " differs");
  }
  CHECK(mismatches == 0);
}

TEST_CASE("round_half_away is std::lround", "[model]") {
  std::vector<double> xs = {0.0,
                            -0.0,
                            0.49999999999999994,
                            -0.49999999999999994,
                            0x1.0p52,
                            -0x1.0p52,
                            0x1.0p52 - 0.5,
                            -(0x1.0p52 - 0.5),
                            0x1.0p53 + 2,
                            1e18,
                            -1e18,
                            std::numeric_limits<double>::denorm_min(),
                            -std::numeric_limits<double>::denorm_min()};
  for (int k = -40; k <= 40; ++k) {
    const double half = k + 0.5;
    xs.push_back(half);
    xs.push_back(std::nextafter(half, -1e9));
    xs.push_back(std::nextafter(half, 1e9));
    xs.push_back(k);
    xs.push_back(k + 0.25);
    xs.push_back(k * 1.7 - 0.3);
  }
  for (const double x : xs) {
    INFO("x = " << x);
    CHECK(round_half_away(x) == std::lround(x));
  }
  // Not finite: left to std::lround (whatever it returns there).
  for (const double x :
       {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
        std::numeric_limits<double>::quiet_NaN()})
    CHECK(round_half_away(x) == std::lround(x));
}

TEST_CASE("a project's table of year sums is the direct sum of the ramp's quotients", "[model]") {
  // ramp_table against ramp_fractions and producing_months for every month
  // of production O and every year that project_production sums (12 for a
  // whole year after the ramp), ramps integer or not, below, inside and past
  // the horizon, huge, infinite, zero, negative and NaN.
  std::vector<double> ramps = {0.0,
                               -0.0,
                               -3.0,
                               0.25,
                               0.5,
                               1.0,
                               1.0000000000000002,
                               2.0,
                               3.0,
                               6.0,
                               7.3,
                               11.5,
                               12.0,
                               12.000000000000002,
                               17.999,
                               18.0,
                               24.5,
                               35.9,
                               47.0,
                               59.0,
                               59.99999999999999,
                               60.0,
                               60.5,
                               61.0,
                               84.0,
                               85.5,
                               1e9,
                               2147483648.5,
                               1e300,
                               std::numeric_limits<double>::infinity(),
                               std::numeric_limits<double>::quiet_NaN()};
  for (int k = 1; k <= 40; ++k) ramps.push_back(k * 1.7 + 0.1);
  for (const int T : {1, 2, 5, 7}) {
    const int M = 12 * T;
    DrawWorkspace ws;
    ws.months.resize(M);
    for (int i = 0; i < M; ++i) ws.months[i] = i + 1;
    ws.ramp.resize(M);
    const int P = 2;  // the table of project 1
    ws.ramp_seen.assign(P, ~std::uint64_t{0});
    ws.ramp_tabled.assign(P, ~std::uint64_t{0});
    ws.ramp_sums.resize(static_cast<std::size_t>(P) * M);
    ws.ramp_rows.resize(static_cast<std::size_t>(P) * M * T);
    std::vector<double> q(M);
    for (const double ramp : ramps) {
      INFO("T = " << T << ", ramp = " << ramp);
      // The first time it is seen: no table; the second: built, the third:
      // the same table.
      CHECK(model_stages::ramp_table(ws, 1, ramp, M) == nullptr);
      const double* sums = model_stages::ramp_table(ws, 1, ramp, M);
      REQUIRE(sums == ws.ramp_sums.data() + M);
      CHECK(model_stages::ramp_table(ws, 1, ramp, M) == sums);
      // Whole years after the ramp: 12, as project_production's y12.
      const int count = model_stages::ramp_count(ramp, M);
      for (int d = count + 12; d <= M; ++d) CHECK(sums[d - 1] == 12.0);
      // The same sums by production month (ramp_rows), +0 before O's year.
      const double* rows = ws.ramp_rows.data() + static_cast<std::size_t>(M) * T;
      for (int o = 0; o < M; ++o) {
        const int n = model_stages::ramp_fractions(ramp, M - o, ws.months.data(), q.data());
        for (int t = 1; t <= o / 12; ++t) CHECK(testing::bits(rows[o * T + t - 1]) == 0);
        for (int t = o / 12 + 1; t <= T; ++t) {
          const int end = 12 * t;
          const double direct =
              end - 12 >= o + n ? 12.0 : model_stages::producing_months(q.data(), o, n, end);
          INFO("o = " << o << ", t = " << t);
          CHECK(testing::bits(sums[end - o - 1]) == testing::bits(direct));
          CHECK(testing::bits(rows[o * T + t - 1]) == testing::bits(direct));
        }
      }
    }
  }
}
