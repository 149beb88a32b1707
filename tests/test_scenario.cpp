// The scenario reader on valid input: every field of the example lands in the
// struct with its key and position; per-year forms; extends:; --set.
#include <catch2/catch.hpp>
#include <fstream>

#include "countysim/scenario.hpp"
#include "scenario_fixtures.hpp"
#include "temp_dir.hpp"

using namespace countysim;
using namespace countysim::testing;
using Catch::Matchers::Contains;

namespace {

const std::string kData = COUNTYSIM_TEST_DATA;
const std::string kExample = kData + "/scenario/example.yaml";
const std::string kExtends = kData + "/scenario/extends/";

bool same_pos(const SourcePos& p, int line, int column) {
  return p.line == line && p.column == column;
}

}  // namespace

TEST_CASE("example.yaml loads and every field lands in the struct", "[scenario]") {
  const Scenario s = load_scenario(kExample);
  CHECK(s.path == kExample);
  CHECK(s.name == "示例县 · 小型示例 (example county)");
  CHECK_THAT(s.description, Contains("Teaching example."));
  CHECK(s.base_year == 2021);
  CHECK(s.last_year == 2024);
  CHECK(s.years() == 3);
  CHECK(s.draws == 20000);
  CHECK(s.seed == 42);
  CHECK(s.warnings.empty());

  // macro
  CHECK(s.macro.gdp_base == 120);
  REQUIRE(s.macro.rest_growth.years.size() == 3);
  for (const Value& v : s.macro.rest_growth.years) {
    CHECK(v.key == "macro.rest_growth");
    CHECK(v.dist.family() == Family::normal);
    CHECK(v.dist.mean() == Approx(0.06));
    CHECK(same_pos(v.pos, 12, 16));  // the '{' of the flow map
  }
  CHECK(s.macro.rest_shock_loading == 0.5);
  CHECK(s.macro.shock_sd == 0.02);
  CHECK(s.macro.shock_persistence == 0.5);
  CHECK(s.macro.digital_share_of_rest.dist.is_constant());
  CHECK(s.macro.digital_share_of_rest.dist.mean() == 0.03);
  CHECK(s.macro.digital_share_of_rest.key == "macro.digital_share_of_rest");
  CHECK(same_pos(s.macro.digital_share_of_rest.pos, 15, 26));

  // finance
  REQUIRE(s.finance.new_loans.years.size() == 3);
  CHECK(s.finance.new_loans.years[2].key == "finance.new_loans");
  CHECK(s.finance.new_loans.years[0].dist.support_min() == 5);
  CHECK(s.finance.manufacturing_loan_share.years[1].dist.family() == Family::beta);
  CHECK(s.finance.manufacturing_loan_share.years[1].dist.mean() == Approx(0.2));
  CHECK(s.finance.reference_share == 0.2);
  CHECK(s.finance.project_credit_fraction == 0.3);

  // land: a year map, each year with its own position
  CHECK(s.land.initial_stock_mu == 100);
  const auto& supply = s.land.supply_mu.years;
  REQUIRE(supply.size() == 3);
  CHECK(supply[0].dist.family() == Family::triangular);
  CHECK(supply[1].dist.family() == Family::pert);
  CHECK(supply[2].dist.is_constant());
  CHECK(supply[2].dist.mean() == 200);
  CHECK(same_pos(supply[0].pos, 26, 11));
  CHECK(same_pos(supply[1].pos, 27, 11));
  CHECK(same_pos(supply[2].pos, 28, 11));
  for (const Value& v : supply) CHECK(v.key == "land.supply_mu");

  // clusters
  REQUIRE(s.clusters.size() == 2);
  const Cluster& tx = s.clusters[0];
  CHECK(tx.id == "textiles");
  CHECK(tx.name == "纺织服装");
  CHECK(tx.group == "main");
  CHECK(tx.manufacturing);
  CHECK(tx.base_output == 60);
  CHECK(tx.growth.years.size() == 3);
  CHECK(tx.growth.years[0].key == "clusters.textiles.growth");
  CHECK(tx.shock_loading == 1.0);
  CHECK(tx.credit_elasticity == 0.4);
  CHECK(tx.value_added_ratio.dist.family() == Family::uniform);
  CHECK(tx.value_added_ratio.dist.support_max() == 0.28);
  CHECK(tx.value_added_ratio.key == "clusters.textiles.value_added_ratio");
  CHECK(same_pos(tx.value_added_ratio.pos, 38, 24));
  CHECK(tx.tax_rate.dist.mean() == 0.008);
  CHECK(tx.output_per_worker.dist.mean() == 80);
  CHECK(tx.productivity_growth.key == "clusters.textiles.productivity_growth");
  CHECK(tx.digital_share == 0);
  CHECK(tx.strategic_emerging_share == 0);
  CHECK(same_pos(tx.pos, 31, 5));
  const Cluster& pv = s.clusters[1];
  CHECK(pv.id == "solar");
  CHECK_FALSE(pv.manufacturing);
  CHECK(pv.credit_elasticity == 0);  // default
  CHECK(pv.shock_loading == 0.3);
  CHECK(pv.growth.years[1].dist.family() == Family::lognormal);
  CHECK(pv.tax_rate.dist.family() == Family::triangular);
  CHECK(pv.tax_rate.key == "clusters.solar.tax_rate");
  CHECK(pv.strategic_emerging_share == 1.0);

  // correlations and supply chain
  REQUIRE(s.correlations.size() == 1);
  CHECK(s.correlations[0].a == "clusters.textiles.growth");
  CHECK(s.correlations[0].b == "macro.rest_growth");
  CHECK(s.correlations[0].rho == 0.3);
  CHECK(same_pos(s.correlations[0].pos, 57, 5));
  REQUIRE(s.supply_chain.size() == 1);
  CHECK(s.supply_chain[0].from == 1);  // solar supplies
  CHECK(s.supply_chain[0].to == 0);    // textiles buy
  CHECK(s.supply_chain[0].a == 0.03);
  CHECK(same_pos(s.supply_chain[0].pos, 60, 21));

  // projects
  REQUIRE(s.projects.size() == 2);
  const Project& dy = s.projects[0];
  CHECK(dy.id == "dyeing");
  CHECK(dy.name == "印染园二期");
  CHECK(dy.cluster == "textiles");
  CHECK(dy.cluster_index == 0);
  CHECK(dy.planned_start == "2022-04");
  CHECK(dy.planned_start_month == 3);
  CHECK(dy.start_delay_months.dist.family() == Family::discrete);
  CHECK(dy.start_delay_months.key == "projects.dyeing.start_delay_months");
  CHECK(dy.construction_months.dist.family() == Family::uniform);
  CHECK(dy.ramp_months.dist.mean() == 12);
  CHECK(dy.capacity_output.dist.family() == Family::pert);
  CHECK(dy.capacity_output.key == "projects.dyeing.capacity_output");
  CHECK(dy.success_probability == 0.9);
  CHECK(dy.land_mu == 150);
  CHECK(dy.investment == 5);
  CHECK(dy.loan_share == 0.5);
  REQUIRE(dy.jobs.has_value());
  CHECK(dy.jobs->dist.mean() == 800);
  CHECK(dy.jobs->key == "projects.dyeing.jobs");
  CHECK_FALSE(dy.tax_rate.has_value());
  CHECK(dy.new_firm);
  CHECK_FALSE(dy.high_tech);
  CHECK(dy.priority == 1);
  CHECK(same_pos(dy.pos, 63, 5));
  const Project& pvp = s.projects[1];
  CHECK(pvp.id == "rooftop-pv");
  CHECK(pvp.cluster_index == 1);
  CHECK(pvp.planned_start_month == 12);
  CHECK(pvp.start_delay_months.dist.is_constant());  // default 0
  CHECK(pvp.start_delay_months.dist.mean() == 0);
  CHECK(pvp.start_delay_months.key == "projects.rooftop-pv.start_delay_months");
  CHECK(pvp.success_probability == 1);
  CHECK_FALSE(pvp.jobs.has_value());
  REQUIRE(pvp.tax_rate.has_value());
  CHECK(pvp.tax_rate->dist.mean() == 0.01);
  CHECK(pvp.priority == 100);
  CHECK_FALSE(pvp.new_firm);

  // firms
  CHECK(s.firms.above_scale.present);
  CHECK(s.firms.above_scale.base == 90);
  REQUIRE(s.firms.above_scale.entries.years.size() == 3);
  CHECK(s.firms.above_scale.entries.years[0].dist.family() == Family::poisson);
  CHECK(s.firms.above_scale.entries.years[0].key == "firms.above_scale.entries");
  CHECK(s.firms.above_scale.exit_rate.key == "firms.above_scale.exit_rate");
  CHECK(s.firms.high_tech.present);
  CHECK(s.firms.high_tech.base == 12);
  CHECK(s.firms.high_tech.exit_rate.dist.mean() == 0.03);

  // targets
  REQUIRE(s.targets.size() == 6);
  CHECK(s.targets[0].id == "output-100");
  CHECK(s.targets[0].metric == Metric::industrial_output);
  CHECK(s.targets[0].year == 2024);
  CHECK(s.targets[0].at_least);
  CHECK(s.targets[0].threshold == 100);
  CHECK(s.targets[1].metric == Metric::cluster_output);
  CHECK(s.targets[1].cluster == "textiles");
  CHECK(s.targets[1].cluster_index == 0);
  CHECK(s.targets[1].year == 2024);  // default: the last year
  CHECK(s.targets[2].metric == Metric::clusters_at_least);
  CHECK(s.targets[2].group == "main");
  CHECK(s.targets[2].group_threshold == 10);
  CHECK(s.targets[2].threshold == 2);
  CHECK(s.targets[3].label == "制造业增加值占比");
  CHECK(s.targets[4].metric == Metric::above_scale_firms);
  CHECK(s.targets[5].metric == Metric::manufacturing_loan_share);
  CHECK(same_pos(s.targets[5].pos, 100, 5));
}

TEST_CASE("merged_yaml reloads to the same scenario", "[scenario]") {
  const Scenario s = load_scenario(kExample);
  CHECK_THAT(s.merged_yaml, Contains("name: 示例县"));  // UTF-8, not escaped
  CHECK_THAT(s.merged_yaml, Contains("planned_start: 2022-04"));
  const Scenario r = load_scenario_text(s.merged_yaml, "merged.yaml");
  CHECK(r.name == s.name);
  CHECK(r.draws == s.draws);
  CHECK(r.clusters.size() == s.clusters.size());
  CHECK(r.projects[0].start_delay_months.dist.describe() ==
        s.projects[0].start_delay_months.dist.describe());
  CHECK(r.land.supply_mu.years[1].dist.describe() == s.land.supply_mu.years[1].dist.describe());
  CHECK(r.targets.size() == s.targets.size());
  CHECK(r.merged_yaml == s.merged_yaml);
}

TEST_CASE("the base test scenario loads", "[scenario]") {
  const Scenario s = load_scenario_text(kBase, "t.yaml");
  CHECK(s.clusters.size() == 2);
  CHECK(s.macro.rest_shock_loading == 0.5);  // default
  CHECK_FALSE(s.firms.above_scale.present);
  CHECK(s.supply_chain.empty());
  CHECK(s.correlations.empty());
}

TEST_CASE("per-year values: one value for all years, or a YYYY map", "[scenario]") {
  SECTION("a single value is repeated, with one position and no year in the key") {
    const Scenario s = load_scenario_text(kBase, "t.yaml");
    const auto& years = s.land.supply_mu.years;
    REQUIRE(years.size() == 3);
    for (const Value& v : years) {
      CHECK(v.dist.mean() == 200);
      CHECK(v.key == "land.supply_mu");
      CHECK(where({"t.yaml", v.pos, ""}) == at(kBase, "200", 1));
    }
  }
  SECTION("every per-year field takes the YYYY map form") {
    std::string text = edit(kBase, "  rest_growth: {dist: normal, mean: 0.06, sd: 0.015}",
                            "  rest_growth: {2022: 0.05, 2023: 0.06, 2024: {dist: uniform, min: "
                            "0.02, max: 0.04}}");
    text = edit(text, "  new_loans: {dist: normal, mean: 15, sd: 2, min: 5}",
                "  new_loans:\n    2024: 17\n    2022: 15\n    2023: 16");
    text = edit(text, "  manufacturing_loan_share: 0.2",
                "  manufacturing_loan_share: {2022: 0.2, 2023: 0.21, 2024: 0.22}");
    text = edit(text, "    growth: 0.04", "    growth: {2022: 0.04, 2023: 0.05, 2024: 0.06}");
    text +=
        "firms:\n  above_scale:\n    base: 50\n    entries: {2022: 3, 2023: {dist: poisson, "
        "mean: 4}, 2024: {dist: discrete, values: [1, 2], probs: [0.5, 0.5]}}\n    "
        "exit_rate: 0.02\n";
    const Scenario s = load_scenario_text(text, "t.yaml");
    CHECK(s.macro.rest_growth.years[0].dist.mean() == 0.05);
    CHECK(s.macro.rest_growth.years[2].dist.family() == Family::uniform);
    CHECK(s.macro.rest_growth.years[2].key == "macro.rest_growth");
    // written out of order: stored by year
    CHECK(s.finance.new_loans.years[0].dist.mean() == 15);
    CHECK(s.finance.new_loans.years[2].dist.mean() == 17);
    CHECK(where({"t.yaml", s.finance.new_loans.years[2].pos, ""}) == at(text, "17"));
    CHECK(s.finance.manufacturing_loan_share.years[1].dist.mean() == 0.21);
    CHECK(s.clusters[1].growth.years[2].dist.mean() == 0.06);
    CHECK(s.clusters[1].growth.years[2].key == "clusters.solar.growth");
    const auto& entries = s.firms.above_scale.entries.years;
    CHECK(entries[0].dist.mean() == 3);
    CHECK(entries[1].dist.family() == Family::poisson);
    CHECK(entries[2].dist.family() == Family::discrete);
    CHECK(entries[2].key == "firms.above_scale.entries");
  }
}

TEST_CASE("dates map to months from January of the first projection year", "[scenario]") {
  auto month = [](const std::string& date) {
    return load_scenario_text(edit(kBase, "2022-04", date), "t.yaml")
        .projects[0]
        .planned_start_month;
  };
  CHECK(month("2022-01") == 0);
  CHECK(month("2022-04") == 3);
  CHECK(month("2024-12") == 35);
  CHECK(month("2020-11") == -14);     // planned before the horizon
  CHECK(month("\"2023-02\"") == 13);  // quoted works too
}

TEST_CASE("anchors, aliases and merge keys work", "[scenario]") {
  std::string text = edit(kBase, "    growth: {dist: normal, mean: 0.05, sd: 0.04}",
                          "    growth: &g {dist: normal, mean: 0.05, sd: 0.04}");
  text = edit(text, "    growth: 0.04", "    growth: *g");
  const Scenario s = load_scenario_text(text, "t.yaml");
  CHECK(s.clusters[1].growth.years[0].dist.family() == Family::normal);
  CHECK(s.clusters[1].growth.years[0].key == "clusters.solar.growth");

  const std::string text2 = R"(schema: countysim/1
name: merge keys
horizon: {base_year: 2021, last_year: 2022}
simulation: {draws: 10, seed: 1}
macro: {gdp_base: 100, rest_growth: 0.05, common_shock: {sd: 0, persistence: 0}, digital_share_of_rest: 0}
finance: {new_loans: 1, manufacturing_loan_share: 0.2, reference_share: 0.2, project_credit_fraction: 0.3}
land: {initial_stock_mu: 0, supply_mu: 0}
clusters:
  - &a {id: a, name: A, group: main, base_output: 10, growth: 0.05, value_added_ratio: 0.25, tax_rate: 0.01, output_per_worker: 80, productivity_growth: 0.02}
  - <<: *a
    id: b
    name: B
    growth: 0.07
targets:
  - {id: t, label: T, metric: gdp, at_least: 1}
)";
  const Scenario m = load_scenario_text(text2, "t.yaml");
  REQUIRE(m.clusters.size() == 2);
  CHECK(m.clusters[1].id == "b");
  CHECK(m.clusters[1].growth.years[0].dist.mean() == 0.07);  // explicit key wins
  CHECK(m.clusters[1].base_output == 10);                    // merged in
  CHECK(m.clusters[1].value_added_ratio.key == "clusters.b.value_added_ratio");
}

TEST_CASE("warnings do not stop a load", "[scenario]") {
  const std::string text = edit(kBase, "    growth: 0.04", "    growth: 4");
  const Scenario s = load_scenario_text(text, "t.yaml");
  REQUIRE(s.warnings.size() == 1);
  CHECK(where(s.warnings[0]) == at(text, "growth: 4", "4"));
  CHECK(s.warnings[0].message ==
        "clusters[1].growth: growth 4 is 400% a year; if you meant 4%, write 0.04");
}

TEST_CASE("extends: merges a child onto its parent", "[scenario]") {
  const Scenario s = load_scenario(kExtends + "child.yaml");
  CHECK(s.name == "子情景 child");
  CHECK(s.draws == 1000);  // inherited
  REQUIRE(s.clusters.size() == 3);
  CHECK(s.clusters[0].id == "textiles");
  CHECK(s.clusters[0].name == "纺织");  // kept from the parent
  // A distribution is replaced whole, never mixed with the parent's keys.
  CHECK(s.clusters[0].growth.years[0].dist.family() == Family::uniform);
  CHECK(s.clusters[2].id == "paper");
  REQUIRE(s.projects.size() == 2);
  CHECK(s.projects[0].id == "rooftop");  // dyeing removed
  CHECK(s.projects[1].id == "mill");
  CHECK(s.projects[1].cluster_index == 2);
  // Year maps merge by year.
  CHECK(s.land.supply_mu.years[0].dist.mean() == 200);
  CHECK(s.land.supply_mu.years[1].dist.mean() == 500);
  CHECK(s.land.supply_mu.years[2].dist.mean() == 300);
  CHECK_THAT(s.merged_yaml, !Contains("extends"));
  CHECK_THAT(s.merged_yaml, !Contains("remove"));
  CHECK_THAT(s.merged_yaml, Contains("2023: 500"));
  // The merged text stands alone.
  const Scenario r = load_scenario_text(s.merged_yaml, "merged.yaml");
  CHECK(r.projects.size() == 2);
  CHECK(r.land.supply_mu.years[1].dist.mean() == 500);
}

TEST_CASE("extends: chains of files merge in order", "[scenario]") {
  const Scenario s = load_scenario(kExtends + "grandchild.yaml");
  CHECK(s.name == "子情景 child");
  CHECK(s.draws == 500);
  CHECK(s.seed == 7);  // simulation merged key by key
  REQUIRE(s.targets.size() == 2);
  CHECK(s.targets[0].threshold == 120);
  CHECK(s.targets[0].label == "过百亿");
  CHECK(s.targets[1].cluster == "paper");
}

TEST_CASE("extends: positions point into the file that wrote the node", "[scenario]") {
  const std::string child = kExtends + "child.yaml";
  const std::string base = kExtends + "base.yaml";
  // The child's growth made invalid by --set: the error points at the
  // child's max, the parameter that no longer fits.
  auto ds = file_errors(child, {"clusters.textiles.growth.min=0.2"});
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].file == child);
  CHECK(where(ds[0]) == at(read_text(child), "max: 0.1}", "0.1", child));
  CHECK(ds[0].message ==
        "clusters[0].growth: uniform distribution: max must be >= min (got min 0.2, max 0.1)");

  // Removing solar leaves the parent's rooftop project pointing at nothing.
  const std::string orphan = kExtends + "orphan.yaml";
  ds = file_errors(orphan);
  REQUIRE(ds.size() == 1);
  CHECK(where(ds[0]) == at(read_text(base), "solar\n    planned_start", "solar", base));
  CHECK(ds[0].message ==
        "projects[1].cluster: unknown cluster 'solar'; did you mean 'textiles'? (clusters: "
        "textiles)");
}

TEST_CASE("extends: errors", "[scenario]") {
  SECTION("a cycle names the chain") {
    const std::string a = kExtends + "cycle_a.yaml", b = kExtends + "cycle_b.yaml";
    auto ds = file_errors(a);
    REQUIRE(ds.size() == 1);
    CHECK(where(ds[0]) == at(read_text(b), "cycle_a.yaml", 0, b));
    CHECK(ds[0].message == "extends: cycle " + a + " -> " + b + " -> " + a +
                               "; a scenario cannot extend itself, directly or through others");
  }
  SECTION("a file that extends itself") {
    const std::string f = kExtends + "self.yaml";
    auto ds = file_errors(f);
    REQUIRE(ds.size() == 1);
    CHECK(where(ds[0]) == f + ":2:10");
    CHECK(ds[0].message == "extends: cycle " + f + " -> " + f +
                               "; a scenario cannot extend itself, directly or through others");
  }
  SECTION("removing an item the parent lacks") {
    const std::string f = kExtends + "remove_missing.yaml";
    auto ds = file_errors(f);
    REQUIRE(ds.size() == 1);
    CHECK(where(ds[0]) == at(read_text(f), "true", 0, f));
    CHECK(ds[0].message == "projects.dyeng: remove: true, but " + kExtends +
                               "base.yaml has no project 'dyeng' to remove; did you mean "
                               "'dyeing'?");
  }
  SECTION("a parent that does not exist") {
    const std::string f = kExtends + "missing_parent.yaml";
    auto ds = file_errors(f);
    REQUIRE(ds.size() == 1);
    CHECK(where(ds[0]) == f + ":1:10");
    CHECK(ds[0].message == "extends: cannot read 'nowhere.yaml' (" + kExtends +
                               "nowhere.yaml): No such file or directory");
  }
  SECTION("load_scenario_text resolves extends: relative to its path") {
    const Scenario s =
        load_scenario_text("extends: base.yaml\nname: from text\n", kExtends + "virtual.yaml");
    CHECK(s.name == "from text");
    CHECK(s.clusters.size() == 2);
  }
  SECTION("remove: true without a parent is an unknown key") {
    std::string text = kBase + "  - {id: gone, remove: true}\n";
    auto ds = errors(text);
    CHECK(message_at(ds, at(text, "remove")) ==
          "targets[1]: unknown key 'remove'; 'remove: true' deletes an item of the scenario "
          "named by extends:, and this item has none to delete");
  }
}

TEST_CASE("overrides (--set) apply after merging", "[scenario]") {
  SECTION("a year of a single per-year value splits it into a year map") {
    const std::string arg = "land.supply_mu.2023={dist: uniform, min: 400, max: 600}";
    const Scenario s = load_scenario_text(kBase, "t.yaml", {arg});
    const auto& y = s.land.supply_mu.years;
    CHECK(y[0].dist.mean() == 200);
    CHECK(y[1].dist.family() == Family::uniform);
    CHECK(y[1].dist.support_max() == 600);
    CHECK(y[1].key == "land.supply_mu");
    CHECK(same_pos(y[1].pos, 1, 21));  // the '{' in the argument
    CHECK(y[2].dist.mean() == 200);
    CHECK_THAT(s.merged_yaml, Contains("2023: {dist: uniform, min: 400, max: 600}"));
  }
  SECTION("a year of a distribution written once") {
    const Scenario s = load_scenario_text(kBase, "t.yaml", {"clusters.textiles.growth.2024=0.1"});
    const auto& g = s.clusters[0].growth.years;
    CHECK(g[0].dist.family() == Family::normal);
    CHECK(g[1].dist.family() == Family::normal);
    CHECK(g[2].dist.is_constant());
    CHECK(g[2].dist.mean() == 0.1);
  }
  SECTION("a year of a year map") {
    const Scenario s = load_scenario(kExtends + "base.yaml", {"land.supply_mu.2024=1"});
    CHECK(s.land.supply_mu.years[2].dist.mean() == 1);
    CHECK(s.land.supply_mu.years[1].dist.mean() == 250);
  }
  SECTION("dates, distribution parameters, ids and new optional keys") {
    const Scenario s = load_scenario_text(
        kBase, "t.yaml",
        {"projects.dyeing.planned_start=2023-03", "clusters.textiles.growth.mean=0.08",
         "clusters.solar.credit_elasticity=0.25", "simulation.draws=500", "name=改名"});
    CHECK(s.projects[0].planned_start_month == 14);
    CHECK(s.clusters[0].growth.years[0].dist.mean() == Approx(0.08));
    CHECK(s.clusters[0].growth.years[0].dist.family() == Family::normal);
    CHECK(s.clusters[1].credit_elasticity == 0.25);
    CHECK(s.draws == 500);
    CHECK(s.name == "改名");
  }
  SECTION("overrides apply after extends") {
    const Scenario s = load_scenario(kExtends + "child.yaml", {"projects.mill.investment=2"});
    CHECK(s.projects[1].investment == 2);
  }
  SECTION("a path that names nothing names the closest valid path") {
    auto ds = errors(kBase, {"macro.gdp_bse=3"});
    REQUIRE(ds.size() == 1);
    CHECK(where(ds[0]) == "--set:1:7");
    CHECK(ds[0].message ==
          "'macro.gdp_bse' names nothing in the scenario: no 'gdp_bse' in 'macro'; did you mean "
          "'macro.gdp_base'?");
    ds = errors(kBase, {"simulation.draws=10", "clusters.textile.growth=0.1"});
    REQUIRE(ds.size() == 1);
    CHECK(where(ds[0]) == "--set:2:10");
    CHECK(ds[0].message ==
          "'clusters.textile.growth' names nothing in the scenario: 'clusters' has no item with "
          "id 'textile'; did you mean 'clusters.textiles'?");
    ds = errors(kBase, {"clusters.solar.growth.mean=0.1"});
    REQUIRE(ds.size() == 1);
    CHECK(where(ds[0]) == "--set:1:23");
    CHECK(ds[0].message ==
          "'clusters.solar.growth.mean' names nothing in the scenario: 'clusters.solar.growth' "
          "is '0.04', not a map; set it whole, e.g. --set clusters.solar.growth=...");
  }
  SECTION("a bad value is reported at its column in the argument") {
    auto ds = errors(kBase, {"macro.gdp_base=abc"});
    REQUIRE(ds.size() == 1);
    CHECK(where(ds[0]) == "--set:1:16");
    CHECK(ds[0].message == "macro.gdp_base: expected a number, got 'abc'");
    ds = errors(kBase, {"land.supply_mu.2023={dist: uniform, min: 400, max: 300}"});
    REQUIRE(ds.size() == 1);
    CHECK(where(ds[0]) == "--set:1:52");
    CHECK(ds[0].message ==
          "land.supply_mu.2023: uniform distribution: max must be >= min (got min 400, max 300)");
  }
  SECTION("malformed arguments") {
    auto ds = errors(kBase, {"macro.gdp_base"});
    REQUIRE(ds.size() == 1);
    CHECK(where(ds[0]) == "--set:1:1");
    CHECK(ds[0].message ==
          "expected PATH=VALUE (e.g. clusters.textiles.growth=0.05), got 'macro.gdp_base'");
    ds = errors(kBase, {"macro..gdp_base=1"});
    REQUIRE(ds.size() == 1);
    CHECK(where(ds[0]) == "--set:1:7");
    CHECK(ds[0].message == "empty name in path 'macro..gdp_base'; names are joined by single dots");
    ds = errors(kBase, {"=1"});
    REQUIRE(ds.size() == 1);
    CHECK(where(ds[0]) == "--set:1:1");
    CHECK(ds[0].message ==
          "missing PATH before '='; write PATH=VALUE, e.g. land.supply_mu.2023=300");
    ds = errors(kBase, {"extends=base.yaml"});
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].message ==
          "extends cannot be changed with --set; it is resolved before overrides apply");
    ds = errors(kBase, {"macro.gdp_base="});
    REQUIRE(ds.size() == 1);
    CHECK(where(ds[0]) == "--set:1:16");
    CHECK(ds[0].message == "no value after 'macro.gdp_base='; write PATH=VALUE");
    ds = errors(kBase, {"macro.gdp_base={a: [1, 2"});
    REQUIRE(ds.size() == 1);
    CHECK(where(ds[0]) == "--set:1:20");  // the '[' after "macro.gdp_base={a: "
    CHECK(ds[0].message ==
          "YAML syntax error: this '[' is never closed (yaml-cpp: end of sequence flow not found "
          "at line 1, column 16)");
  }
}

// --- countysim/2: prices and observed ---

TEST_CASE("a countysim/2 scenario: prices, price_index, rest_price_change, observed",
          "[scenario]") {
  const Scenario s = load_scenario_text(kBaseV2, "t.yaml");
  CHECK(s.schema == "countysim/2");
  REQUIRE(s.prices.size() == 2);
  CHECK(s.prices[0].id == "ppi");
  CHECK(s.prices[0].name == "工业生产者出厂价格");
  REQUIRE(s.prices[0].change.years.size() == 3);
  CHECK(s.prices[0].change.years[0].dist.mean() == 0.041);
  CHECK(s.prices[0].change.years[1].dist.mean() == -0.03);
  CHECK(s.prices[0].change.years[1].key == "prices.ppi.change");
  CHECK(s.prices[1].change.years[2].dist.family() == Family::normal);
  CHECK(s.prices[1].change.years[2].dist.support_min() == -0.1);
  CHECK(s.clusters[0].price_index == "ppi");
  CHECK(s.clusters[0].price_index_index == 0);
  CHECK(s.clusters[1].price_index.empty());
  CHECK(s.clusters[1].price_index_index == -1);
  REQUIRE(s.macro.rest_price_change.years.size() == 3);
  CHECK(s.macro.rest_price_change.years[2].dist.mean() == 0.02);
  CHECK(s.macro.rest_price_change.years[2].key == "macro.rest_price_change");
  REQUIRE(s.observed.size() == 2);
  const Observation& g = s.observed[0];
  CHECK(g.id == "gdp-2022");
  CHECK(g.metric == Metric::gdp);
  CHECK(g.year == 2022);
  CHECK(g.value == 215);
  CHECK(g.sd == 0.01 * 215);  // rel_sd x |value|
  CHECK(g.source == "统计公报");
  CHECK(g.cluster.empty());
  CHECK(g.cluster_index == -1);
  const Observation& t = s.observed[1];
  CHECK(t.metric == Metric::cluster_output);
  CHECK(t.cluster == "textiles");
  CHECK(t.cluster_index == 0);
  CHECK(t.sd == 2);
  CHECK(t.source.empty());
  // The merged text stands alone.
  const Scenario r = load_scenario_text(s.merged_yaml, "merged.yaml");
  CHECK(r.observed.size() == 2);
  CHECK(r.prices.size() == 2);
}

TEST_CASE("countysim/1 still loads, with no prices and a zero rest deflator", "[scenario]") {
  const Scenario s = load_scenario_text(kBase, "t.yaml");
  CHECK(s.schema == "countysim/1");
  CHECK(s.prices.empty());
  CHECK(s.observed.empty());
  REQUIRE(s.macro.rest_price_change.years.size() == 3);
  for (const auto& v : s.macro.rest_price_change.years) {
    CHECK(v.dist.is_constant());
    CHECK(v.dist.mean() == 0);
  }
  // v2 without the optional keys: the same defaults.
  const Scenario v2 = load_scenario_text(edit(kBase, "countysim/1", "countysim/2"), "t.yaml");
  CHECK(v2.schema == "countysim/2");
  REQUIRE(v2.macro.rest_price_change.years.size() == 3);
  CHECK(v2.macro.rest_price_change.years[0].dist.mean() == 0);
}

TEST_CASE("a price change is a random input: correlations and --set reach it", "[scenario]") {
  const std::string corr = kBaseV2 +
                           "correlations:\n"
                           "  - {between: [prices.cpi.change, macro.rest_growth], rho: 0.4}\n";
  const Scenario s = load_scenario_text(corr, "t.yaml");
  REQUIRE(s.correlations.size() == 1);
  CHECK(s.correlations[0].a == "prices.cpi.change");
  const Scenario o =
      load_scenario_text(kBaseV2, "t.yaml",
                         {"prices.ppi.change.2023=-0.05", "prices.cpi.change.2024=0.01",
                          "macro.rest_price_change.2022=0.03", "observed.gdp-2022.value=220",
                          "clusters.solar.price_index=cpi"});
  CHECK(o.prices[0].change.years[1].dist.mean() == -0.05);
  CHECK(o.prices[1].change.years[0].dist.family() == Family::normal);
  CHECK(o.prices[1].change.years[2].dist.mean() == 0.01);
  CHECK(o.macro.rest_price_change.years[0].dist.mean() == 0.03);
  CHECK(o.macro.rest_price_change.years[1].dist.mean() == 0.02);
  CHECK(o.observed[0].value == 220);
  CHECK(o.observed[0].sd == Approx(2.2));
  CHECK(o.clusters[1].price_index_index == 1);
}

TEST_CASE("extends: prices and observed merge by id, remove: true deletes", "[scenario]") {
  TempDir dir;
  {
    std::ofstream(dir.file("base.yaml")) << kBaseV2;
    std::ofstream(dir.file("update.yaml"))
        << "extends: base.yaml\n"
           "prices:\n"
           "  - {id: ppi, change: {2022: 0.041, 2023: -0.03, 2024: -0.02}}\n"
           "  - {id: cpi, remove: true}\n"
           "  - {id: rest, name: 其他价格, change: 0.01}\n"
           "observed:\n"
           "  - {id: textiles-2022, remove: true}\n"
           "  - {id: gdp-2022, value: 218}\n"
           "  - {id: loans-2023, metric: new_loans, year: 2023, value: 17.5, sd: 0.5}\n";
  }
  const Scenario s = load_scenario(dir.file("update.yaml"));
  REQUIRE(s.prices.size() == 2);
  CHECK(s.prices[0].id == "ppi");
  CHECK(s.prices[0].name == "工业生产者出厂价格");  // kept from the parent
  CHECK(s.prices[0].change.years[2].dist.mean() == -0.02);
  CHECK(s.prices[1].id == "rest");
  REQUIRE(s.observed.size() == 2);
  CHECK(s.observed[0].id == "gdp-2022");
  CHECK(s.observed[0].value == 218);
  CHECK(s.observed[0].sd == Approx(2.18));  // the parent's rel_sd, the child's value
  CHECK(s.observed[1].id == "loans-2023");
  CHECK(s.observed[1].metric == Metric::new_loans);
  CHECK(s.observed[1].year == 2023);
}
