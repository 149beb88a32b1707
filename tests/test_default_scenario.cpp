// The default scenario (scenarios/taojiang-2022.yaml, countysim/2: volume
// growth and April-2022 prices) and its what-if files: they load, they cover
// what the April 2022 document names, the base year reproduces the published
// facts the scenario cites, the draws obey the accounting identities of
// model.md (with prices), and the published 2022 outturns lie
// inside the model's 90% bands (docs/calibration.md, "Base-year consistency"
// and "What the outturns say"). No test pins a calibrated value: a
// recalibration that keeps the sources and the identities passes.
#include <Eigen/Dense>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "countysim/model.hpp"
#include "countysim/plan.hpp"
#include "countysim/scenario.hpp"

using countysim::Scenario;

namespace {

const std::string scenario_dir = COUNTYSIM_SOURCE_DIR "/scenarios/";

const Scenario& default_scenario() {
  static const Scenario s = countysim::load_scenario(scenario_dir + "taojiang-2022.yaml");
  return s;
}

const countysim::Cluster& cluster(const Scenario& s, const std::string& id) {
  auto it = std::find_if(s.clusters.begin(), s.clusters.end(),
                         [&](const countysim::Cluster& c) { return c.id == id; });
  REQUIRE(it != s.clusters.end());
  return *it;
}

const countysim::Project& project(const Scenario& s, const std::string& id) {
  auto it = std::find_if(s.projects.begin(), s.projects.end(),
                         [&](const countysim::Project& p) { return p.id == id; });
  REQUIRE(it != s.projects.end());
  return *it;
}

// Draws of the default scenario, simulated as the engine does (same seed).
// Each draw's price levels (per cluster [year][cluster], the rest's [year])
// are kept from the workspace to check the identities with prices.
struct Draws {
  countysim::Plan plan;
  std::vector<countysim::DrawOutput> out;
  std::vector<std::vector<double>> price, rest_price;
  Draws(const Scenario& s, int n)
      : plan(countysim::compile_plan(s)), out(n), price(n), rest_price(n) {
    countysim::DrawWorkspace ws;
    for (int d = 0; d < n; ++d) {
      out[d].resize(plan);
      countysim::simulate_draw(plan, s.seed, static_cast<std::uint64_t>(d), ws, out[d]);
      price[d] = ws.price;
      rest_price[d] = ws.rest_price;
    }
  }
  double input(const countysim::DrawOutput& o, int slot) const { return o.inputs.at(slot); }
};

// Largest relative difference |a - b| / max(|b|, 1e-12) seen by check().
struct MaxRelError {
  double worst = 0;
  void check(double a, double b) {
    worst = std::max(worst, std::fabs(a - b) / std::max(std::fabs(b), 1e-12));
  }
};

// Share of the values at or below x: where x falls in the model's distribution.
double percentile_of(std::vector<double> v, double x) {
  return static_cast<double>(std::count_if(v.begin(), v.end(), [&](double y) { return y <= x; })) /
         static_cast<double>(v.size());
}

}  // namespace

TEST_CASE("default scenario loads with the document's horizon and settings", "[default]") {
  const Scenario& s = default_scenario();
  CHECK(s.base_year == 2021);
  CHECK(s.last_year == 2025);
  CHECK(s.draws == 100000);
  CHECK(s.seed == 20220401);
  // A repaired correlation matrix would mean the stated correlations are not
  // the ones used.
  CHECK(s.warnings.empty());
}

TEST_CASE("default scenario has the seven 6+1 clusters and the rest of industry", "[default]") {
  const Scenario& s = default_scenario();
  const std::set<std::string> six_plus_one = {"electronics", "bamboo", "building", "equipment",
                                              "food",        "energy", "chemicals"};
  std::set<std::string> in_group;
  for (const auto& c : s.clusters)
    if (c.group == "6+1") in_group.insert(c.id);
  CHECK(in_group == six_plus_one);
  CHECK(cluster(s, "other").group != "6+1");

  // Power, mining and water supply are industry but not manufacturing
  // (domain notes); everything else in the clusters is manufacturing.
  const std::set<std::string> not_manufacturing = {"energy", "other-nonmfg"};
  for (const auto& c : s.clusters) {
    INFO("cluster " << c.id);
    CHECK(c.manufacturing == (not_manufacturing.count(c.id) == 0));
  }

  // Cited fact: bamboo industry output 2021 (Hunan Daily, 2022-11-18).
  CHECK(cluster(s, "bamboo").base_output == Approx(133.15).epsilon(1e-12));
}

TEST_CASE("default scenario base year reproduces its cited and stated base figures", "[default]") {
  const Scenario& s = default_scenario();
  // Cited fact: GDP 2021 about 305 亿元 (county work report, Oct 2021).
  CHECK(s.macro.gdp_base == Approx(305.0).epsilon(1e-12));

  // No draw can make the rest of the economy non-positive: even at the
  // largest ratios the model allows, R_0 = gdp_base - sum v_c base_c > 0.
  double va_max = 0;
  for (const auto& c : s.clusters) va_max += c.value_added_ratio.dist.support_max() * c.base_output;
  CHECK(s.macro.gdp_base - va_max > 0.0);

  // Every draw's base year is the scenario's base: GDP_0 = gdp_base, each
  // cluster at its base_output, industry their sum, and value added, tax
  // and shares from that draw's ratios.
  const Draws draws(s, 200);
  MaxRelError err;
  for (const auto& o : draws.out) {
    double y = 0, va = 0, mva = 0, tax = 0, sei = 0;
    for (int c = 0; c < draws.plan.clusters; ++c) {
      const auto& cl = s.clusters[c];
      const auto& slots = draws.plan.cluster[c];
      err.check(o.cluster_output[c], cl.base_output);
      y += cl.base_output;
      const double v = draws.input(o, slots.value_added_ratio) * cl.base_output;
      va += v;
      if (cl.manufacturing) mva += v;
      tax += draws.input(o, slots.tax_rate) * cl.base_output;
      sei += cl.strategic_emerging_share * cl.base_output;
    }
    err.check(o.metric(countysim::Metric::gdp, 0), s.macro.gdp_base);
    err.check(o.metric(countysim::Metric::industrial_output, 0), y);
    err.check(o.metric(countysim::Metric::industrial_value_added, 0), va);
    err.check(o.metric(countysim::Metric::manufacturing_value_added, 0), mva);
    err.check(o.metric(countysim::Metric::manufacturing_va_share, 0), mva / s.macro.gdp_base);
    err.check(o.metric(countysim::Metric::industrial_tax, 0), tax);
    err.check(o.metric(countysim::Metric::strategic_emerging_share, 0), sei / y);
  }
  CHECK(err.worst < 1e-9);
}

TEST_CASE("default scenario draws obey the accounting identities of every year", "[default]") {
  using countysim::Metric;
  const Scenario& s = default_scenario();
  const Draws draws(s, 500);
  const int years = draws.plan.years, nc = draws.plan.clusters, np = draws.plan.projects;
  // Clusters without projects: their employment is real output over output
  // per worker, which tells real from nominal output (model.md "Prices").
  std::vector<bool> has_project(nc, false);
  for (int p = 0; p < np; ++p) has_project[draws.plan.project_cluster[p]] = true;
  REQUIRE(std::count(has_project.begin(), has_project.end(), false) > 0);
  MaxRelError err;
  int nonpositive_rest = 0;
  double largest_price_move = 0;
  for (std::size_t d = 0; d < draws.out.size(); ++d) {
    const auto& o = draws.out[d];
    // Price levels from the draw's sampled changes: P_0 = 1,
    // P_t = P_{t-1} (1 + change_t), each cluster by its price_index.
    std::vector<double> p_c(static_cast<std::size_t>((years + 1) * nc), 1.0);
    std::vector<double> p_r(years + 1, 1.0);
    for (int t = 1; t <= years; ++t) {
      for (int c = 0; c < nc; ++c) {
        const int i = s.clusters[c].price_index_index;
        REQUIRE(i >= 0);  // every cluster of the default has a price
        p_c[t * nc + c] =
            p_c[(t - 1) * nc + c] * (1.0 + draws.input(o, draws.plan.price_change[i][t - 1]));
        err.check(draws.price[d][t * nc + c], p_c[t * nc + c]);
        largest_price_move = std::max(largest_price_move, std::fabs(p_c[t * nc + c] - 1.0));
      }
      p_r[t] = p_r[t - 1] * (1.0 + draws.input(o, draws.plan.rest_price_change[t - 1]));
      err.check(draws.rest_price[d][t], p_r[t]);
    }
    double va_real_prev = 0, gdp_real_prev = 0;
    for (int t = 0; t <= years; ++t) {
      double y = 0, va = 0, mva = 0, tax = 0, emp = 0, sei = 0, digital = 0;
      double y_real = 0, va_real = 0;
      for (int c = 0; c < nc; ++c) {
        const auto& cl = s.clusters[c];
        const auto& slots = draws.plan.cluster[c];
        const double yc = o.cluster_output[t * nc + c];
        // Nominal = price level x real: the real output is nominal / P.
        const double yc_real = yc / p_c[t * nc + c];
        y_real += yc_real;
        va_real += draws.input(o, slots.value_added_ratio) * yc_real;
        if (!has_project[c]) {
          // Employment on real output: 1e4 x Y* / (w (1 + q)^t).
          const double w = draws.input(o, slots.output_per_worker) *
                           std::pow(1.0 + draws.input(o, slots.productivity_growth), t);
          err.check(o.cluster_employment[t * nc + c], 1e4 * yc_real / w);
        }
        const double tau_c = draws.input(o, slots.tax_rate);
        // Tax on nominal output: the cluster's rate on all but its
        // projects' direct output, each project's own rate (or its
        // cluster's) on that (model.md).
        double direct = 0;
        for (int p = 0; p < np; ++p) {
          if (draws.plan.project_cluster[p] != c) continue;
          const double yp = o.project_output[t * np + p];
          direct += yp;
          const int own = draws.plan.project[p].tax_rate;
          tax += (own >= 0 ? draws.input(o, own) : tau_c) * yp;
        }
        tax += tau_c * (yc - direct);
        const double v = draws.input(o, slots.value_added_ratio) * yc;
        y += yc;
        va += v;
        if (cl.manufacturing) mva += v;
        emp += o.cluster_employment[t * nc + c];
        sei += cl.strategic_emerging_share * yc;
        digital += cl.digital_share * v;
      }
      const double gdp = o.metric(Metric::gdp, t);
      const double rest = gdp - va;  // GDP = rest of the economy + industry VA
      if (!(rest > 0)) ++nonpositive_rest;
      err.check(o.metric(Metric::industrial_output, t), y);
      err.check(o.metric(Metric::industrial_value_added, t), va);
      err.check(o.metric(Metric::manufacturing_value_added, t), mva);
      err.check(o.metric(Metric::manufacturing_va_share, t), mva / gdp);
      err.check(o.metric(Metric::industrial_tax, t), tax);
      err.check(o.metric(Metric::employment, t), emp);
      err.check(o.metric(Metric::strategic_emerging_share, t), sei / y);
      const double delta = draws.input(o, draws.plan.digital_share_of_rest);
      err.check(o.metric(Metric::digital_core_va_share, t), (digital + delta * rest) / gdp);
      // Real GDP = the rest deflated by its own deflator + real industry VA.
      const double gdp_real = rest / p_r[t] + va_real;
      err.check(o.metric(Metric::industrial_output_real, t), y_real);
      err.check(o.metric(Metric::industrial_value_added_real, t), va_real);
      err.check(o.metric(Metric::gdp_real, t), gdp_real);
      if (t > 0) {
        err.check(1.0 + o.metric(Metric::industrial_va_real_growth, t), va_real / va_real_prev);
        err.check(1.0 + o.metric(Metric::gdp_real_growth, t), gdp_real / gdp_real_prev);
      }
      va_real_prev = va_real;
      gdp_real_prev = gdp_real;
      if (t > 0) {
        // Credit is what the scenario draws, and the share what it says.
        err.check(o.metric(Metric::new_loans, t), draws.input(o, draws.plan.new_loans[t - 1]));
        err.check(o.metric(Metric::manufacturing_loan_share, t),
                  draws.input(o, draws.plan.loan_share[t - 1]));
      }
    }
  }
  CHECK(err.worst < 1e-6);  // float sums in a different order
  CHECK(nonpositive_rest == 0);
  // Not vacuous: prices move, so nominal and real differ.
  CHECK(largest_price_move > 0.05);
}

// The published 2022 outturns (issue 9, bureau-supplied: GDP 317.93 亿元 with
// shares 15.9 : 47.9 : 36.2, bamboo 147.28, new loans 41.5) must each be a
// possible 2022 in the April-2022 view: inside the model's 5-95% band. The
// industry VA share of GDP is the secondary 47.9% less construction, whose
// share the scenario assumes at about 10% of GDP (docs/calibration.md).
TEST_CASE("default scenario puts each published 2022 outturn inside its 90% band", "[default]") {
  using countysim::Metric;
  const Scenario& s = default_scenario();
  const Draws draws(s, 4000);
  const int y2022 = 2022 - s.base_year;
  int bamboo = -1;
  for (int c = 0; c < draws.plan.clusters; ++c)
    if (s.clusters[c].id == "bamboo") bamboo = c;
  REQUIRE(bamboo >= 0);
  std::vector<double> gdp, bam, loans, industry_share;
  for (const auto& o : draws.out) {
    gdp.push_back(o.metric(Metric::gdp, y2022));
    bam.push_back(o.cluster_output[y2022 * draws.plan.clusters + bamboo]);
    loans.push_back(o.metric(Metric::new_loans, y2022));
    industry_share.push_back(o.metric(Metric::industrial_value_added, y2022) /
                             o.metric(Metric::gdp, y2022));
  }
  const double construction_share = 0.10;  // the scenario's stated assumption
  const std::vector<std::pair<const char*, std::pair<std::vector<double>*, double>>> outturns = {
      {"gdp 317.93", {&gdp, 317.93}},
      {"bamboo 147.28", {&bam, 147.28}},
      {"new loans 41.5", {&loans, 41.5}},
      {"industry VA share 47.9% - construction", {&industry_share, 0.479 - construction_share}}};
  for (const auto& [name, data] : outturns) {
    const double q = percentile_of(*data.first, data.second);
    INFO(name << ": at the model's " << q << " quantile");
    CHECK(q > 0.05);
    CHECK(q < 0.95);
  }
}

// Each outturn plausible given the other two, not only on its own: the
// Gaussian law of the draws' logs (mean, covariance) conditioned on the other
// two outturns (Schur complement) must put it inside its central 95%. The
// first calibration failed this: one county shock tied low GDP to low bamboo
// output, and given bamboo and loans it put published GDP at its 1.5th
// percentile (docs/calibration.md, section 7).
TEST_CASE("default scenario makes the 2022 outturns plausible together", "[default]") {
  using countysim::Metric;
  const Scenario& s = default_scenario();
  const Draws draws(s, 4000);
  const int y2022 = 2022 - s.base_year;
  int bamboo = -1;
  for (int c = 0; c < draws.plan.clusters; ++c)
    if (s.clusters[c].id == "bamboo") bamboo = c;
  REQUIRE(bamboo >= 0);
  const int n = static_cast<int>(draws.out.size());
  Eigen::MatrixXd logs(n, 3);
  for (int d = 0; d < n; ++d) {
    const auto& o = draws.out[d];
    logs(d, 0) = std::log(o.metric(Metric::gdp, y2022));
    logs(d, 1) = std::log(o.cluster_output[y2022 * draws.plan.clusters + bamboo]);
    logs(d, 2) = std::log(o.metric(Metric::new_loans, y2022));
  }
  const Eigen::RowVector3d mean = logs.colwise().mean();
  const Eigen::MatrixXd centred = logs.rowwise() - mean;
  const Eigen::Matrix3d cov = centred.transpose() * centred / (n - 1);
  // source: issue 9 (bureau-supplied outturns)
  const Eigen::Vector3d y(std::log(317.93), std::log(147.28), std::log(41.5));
  const char* names[] = {"gdp 317.93", "bamboo 147.28", "new loans 41.5"};
  for (int i = 0; i < 3; ++i) {
    const int a = (i + 1) % 3, b = (i + 2) % 3;
    Eigen::Matrix2d s_gg;
    s_gg << cov(a, a), cov(a, b), cov(b, a), cov(b, b);
    const Eigen::Vector2d s_ig(cov(i, a), cov(i, b));
    const Eigen::Vector2d dev(y(a) - mean(a), y(b) - mean(b));
    const Eigen::Vector2d w = s_gg.ldlt().solve(s_ig);
    const double m = mean(i) + w.dot(dev);
    const double sd = std::sqrt(cov(i, i) - s_ig.dot(w));
    const double q = 0.5 * std::erfc(-(y(i) - m) / (sd * std::sqrt(2.0)));
    INFO(names[i] << " given the other two: at the model's " << q << " quantile");
    CHECK(q > 0.025);
    CHECK(q < 0.975);
  }
}

TEST_CASE("default scenario names every project of the document", "[default]") {
  const Scenario& s = default_scenario();
  REQUIRE(s.projects.size() >= 17);
  const std::map<std::string, std::string> named = {
      {"guochen", "electronics"},  {"bamboo-park", "bamboo"},        {"linya", "building"},
      {"lushang", "building"},     {"xinzheng", "building"},         {"bowei", "building"},
      {"zhucai", "building"},      {"xinxing-vehicle", "equipment"}, {"rail-parts", "equipment"},
      {"kouweiwang-4", "food"},    {"xiushan-noodle", "food"},       {"taohuajiang-hub", "energy"},
      {"majitang-wte", "energy"},  {"songhui-biomass", "energy"},    {"solar-pv", "energy"},
      {"nano-caco3", "chemicals"}, {"jinbo-antimony", "chemicals"}};
  for (const auto& [id, cl] : named) {
    INFO("project " << id);
    CHECK(project(s, id).cluster == cl);
  }
  for (const auto& p : s.projects) {
    INFO("project " << p.id);
    REQUIRE(p.cluster_index >= 0);
    REQUIRE(p.cluster_index < static_cast<int>(s.clusters.size()));
    CHECK(s.clusters[p.cluster_index].id == p.cluster);
    CHECK(p.success_probability > 0.0);
    CHECK(p.success_probability <= 1.0);
    // Planned between the document's year and the horizon's end.
    CHECK(p.planned_start_month >= 0);
    CHECK(p.planned_start_month < 12 * s.years());
    CHECK(p.capacity_output.dist.mean() > 0.0);
    CHECK(p.investment > 0.0);
    // Power projects are not financed by manufacturing credit.
    if (p.cluster == "energy") CHECK(p.loan_share == 0.0);
  }
}

TEST_CASE("default scenario has every quantitative target of the document", "[default]") {
  using countysim::Metric;
  const Scenario& s = default_scenario();
  struct Expected {
    Metric metric;
    double threshold;
  };
  const std::vector<Expected> expected = {{Metric::industrial_output, 1000},
                                          {Metric::industrial_tax, 10},
                                          {Metric::manufacturing_va_share, 0.36},
                                          {Metric::digital_core_va_share, 0.115},
                                          {Metric::strategic_emerging_share, 0.25},
                                          {Metric::above_scale_firms, 300},
                                          {Metric::high_tech_firms, 100}};
  for (const auto& e : expected) {
    INFO("metric " << static_cast<int>(e.metric) << " threshold " << e.threshold);
    auto it = std::find_if(s.targets.begin(), s.targets.end(), [&](const countysim::Target& t) {
      return t.metric == e.metric && t.threshold == Approx(e.threshold);
    });
    REQUIRE(it != s.targets.end());
    CHECK(it->year == 2025);
    CHECK(it->at_least);
  }

  // "6+1" 百亿 clusters: all seven of the group at 100 亿元 or more.
  auto groups = std::find_if(s.targets.begin(), s.targets.end(), [](const countysim::Target& t) {
    return t.metric == Metric::clusters_at_least;
  });
  REQUIRE(groups != s.targets.end());
  CHECK(groups->group == "6+1");
  CHECK(groups->group_threshold == Approx(100));
  CHECK(groups->threshold == Approx(7));
  CHECK(groups->at_least);

  // Loan share at least the (assumed) city average; the document implies the
  // county is below it today, so the county's mean share is below the bar.
  auto loans = std::find_if(s.targets.begin(), s.targets.end(), [](const countysim::Target& t) {
    return t.metric == Metric::manufacturing_loan_share;
  });
  REQUIRE(loans != s.targets.end());
  CHECK(loans->at_least);
  CHECK(loans->threshold > 0.0);
  CHECK(loans->threshold < 0.5);
  for (const auto& v : s.finance.manufacturing_loan_share.years)
    CHECK(v.dist.mean() < loans->threshold);
}

// The default is the April-2022 view with prices (issue 9): growth is volume
// growth, every cluster has a price index, the rest of the economy its own
// deflator, and every price index is random (an April-2022 view knows no
// price); taojiang-2024-update.yaml adds what was known by 2024.
TEST_CASE("default scenario separates volume and price (countysim/2)", "[default]") {
  const Scenario& s = default_scenario();
  CHECK(s.schema == "countysim/2");
  const std::size_t years = static_cast<std::size_t>(s.years());
  REQUIRE(!s.prices.empty());
  for (const auto& cl : s.clusters) {
    INFO("cluster " << cl.id);
    REQUIRE(cl.price_index_index >= 0);
    REQUIRE(cl.price_index_index < static_cast<int>(s.prices.size()));
    CHECK(s.prices[cl.price_index_index].id == cl.price_index);
  }
  for (const auto& p : s.prices) {
    INFO("price index " << p.id);
    REQUIRE(p.change.years.size() == years);
    for (const auto& v : p.change.years) CHECK(v.dist.support_max() > v.dist.support_min());
  }
  REQUIRE(s.macro.rest_price_change.years.size() == years);
  for (const auto& v : s.macro.rest_price_change.years)
    CHECK(v.dist.support_max() > v.dist.support_min());
}

TEST_CASE("the 2024 update carries the cited outturns, prices and news", "[default]") {
  const Scenario& base = default_scenario();
  const Scenario s = countysim::load_scenario(scenario_dir + "taojiang-2024-update.yaml");
  CHECK(s.schema == "countysim/2");
  CHECK(s.warnings.empty());
  // source: issue 9 (bureau-supplied outturns)
  const std::map<std::string, double> cited = {
      {"gdp-2022", 317.93}, {"bamboo-2022", 147.28}, {"loans-2022", 41.5}};
  for (const auto& [id, value] : cited) {
    INFO("observation " << id);
    auto it = std::find_if(s.observed.begin(), s.observed.end(),
                           [&](const countysim::Observation& o) { return o.id == id; });
    REQUIRE(it != s.observed.end());
    CHECK(it->value == value);
    CHECK(it->year == 2022);
    CHECK(it->sd > 0.0);
    CHECK_FALSE(it->source.empty());
  }
  // National PPI 2022 +4.1%, 2023 -3.0% (issue 9): known, so constants.
  auto ppi = std::find_if(s.prices.begin(), s.prices.end(),
                          [](const countysim::PriceIndex& p) { return p.id == "ppi"; });
  REQUIRE(ppi != s.prices.end());
  const int y2022 = 2022 - s.base_year - 1, y2023 = y2022 + 1;
  CHECK(ppi->change.years.at(y2022).dist.support_min() == Approx(0.041));
  CHECK(ppi->change.years.at(y2022).dist.support_max() == Approx(0.041));
  CHECK(ppi->change.years.at(y2023).dist.support_min() == Approx(-0.030));
  CHECK(ppi->change.years.at(y2023).dist.support_max() == Approx(-0.030));
  // The chemical park still awaited approval in 2024: its projects cannot
  // start before 2025 and are less likely than in April 2022.
  for (const char* id : {"nano-caco3", "jinbo-antimony"}) {
    INFO("project " << id);
    CHECK(project(s, id).planned_start_month >= 12 * (2025 - s.base_year - 1));
    CHECK(project(s, id).success_probability < project(base, id).success_probability);
  }
}

TEST_CASE("what-if files change only what they say", "[default]") {
  const Scenario& base = default_scenario();
  auto load = [](const char* name) {
    return countysim::load_scenario(scenario_dir + "what-if/" + name);
  };

  SECTION("land-cut-30: 30% less land every year") {
    const Scenario s = load("land-cut-30.yaml");
    REQUIRE(s.land.supply_mu.years.size() == base.land.supply_mu.years.size());
    for (std::size_t t = 0; t < s.land.supply_mu.years.size(); ++t)
      CHECK(s.land.supply_mu.years[t].dist.mean() ==
            Approx(0.7 * base.land.supply_mu.years[t].dist.mean()));
    CHECK(s.land.initial_stock_mu == base.land.initial_stock_mu);
  }
  SECTION("loan-share-up: +5 points of manufacturing loan share") {
    const Scenario s = load("loan-share-up.yaml");
    for (std::size_t t = 0; t < s.finance.manufacturing_loan_share.years.size(); ++t)
      CHECK(s.finance.manufacturing_loan_share.years[t].dist.mean() ==
            Approx(base.finance.manufacturing_loan_share.years[t].dist.mean() + 0.05));
    CHECK(s.finance.reference_share == base.finance.reference_share);
  }
  SECTION("guochen-late: 国辰 planned a year later") {
    const Scenario s = load("guochen-late.yaml");
    CHECK(project(s, "guochen").planned_start_month ==
          project(base, "guochen").planned_start_month + 12);
    CHECK(s.projects.size() == base.projects.size());
  }
  SECTION("chemical-park-rejected: the park's projects fail") {
    const Scenario s = load("chemical-park-rejected.yaml");
    CHECK(project(s, "nano-caco3").success_probability == 0.0);
    CHECK(project(s, "jinbo-antimony").success_probability == 0.0);
    CHECK(project(s, "guochen").success_probability ==
          project(base, "guochen").success_probability);
  }
  SECTION("downturn: slower volume growth, larger shock, the default's prices") {
    const Scenario s = load("downturn.yaml");
    REQUIRE(s.clusters.size() == base.clusters.size());
    for (std::size_t c = 0; c < s.clusters.size(); ++c) {
      INFO("cluster " << s.clusters[c].id);
      CHECK(s.clusters[c].growth.years[0].dist.mean() ==
            Approx(base.clusters[c].growth.years[0].dist.mean() - 0.03).margin(1e-12));
      CHECK(s.clusters[c].price_index == base.clusters[c].price_index);
    }
    REQUIRE(s.macro.rest_growth.years.size() == base.macro.rest_growth.years.size());
    for (std::size_t t = 0; t < s.macro.rest_growth.years.size(); ++t)
      CHECK(s.macro.rest_growth.years[t].dist.mean() ==
            Approx(base.macro.rest_growth.years[t].dist.mean() - 0.015)
                .margin(1e-3));  // truncation moves means by ~0.03 point
    // Prices as in the default: same indices, same means, year by year.
    REQUIRE(s.prices.size() == base.prices.size());
    for (std::size_t i = 0; i < s.prices.size(); ++i)
      for (std::size_t t = 0; t < s.prices[i].change.years.size(); ++t)
        CHECK(s.prices[i].change.years[t].dist.mean() ==
              base.prices[i].change.years[t].dist.mean());
    CHECK(s.macro.shock_sd > base.macro.shock_sd);
  }
}
