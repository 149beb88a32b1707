// The scenario reader on bad input: each case asserts the exact
// file:line:column (computed from the token it must point at) and the whole
// message, which says what is wrong and what would be right.
#include <catch2/catch.hpp>
#include <string>
#include <utility>

#include "countysim/scenario.hpp"
#include "scenario_fixtures.hpp"

using namespace countysim;
using namespace countysim::testing;

namespace {

const std::string kBad = std::string(COUNTYSIM_TEST_DATA) + "/bad/";

// The single error of `text`, which must be at `pos`.
std::string only_error_at(const std::string& text, const std::string& pos) {
  auto ds = errors(text);
  INFO("diagnostics:\n" << listing(ds));
  REQUIRE(ds.size() == 1);
  CHECK(where(ds[0]) == pos);
  return ds[0].message;
}

std::string with_correlation(const std::string& items) {
  return kBase + "correlations:\n" + items;
}

}  // namespace

// --- unknown and missing keys ---

TEST_CASE("unknown top-level key suggests the closest known key", "[scenario-errors]") {
  const std::string text = kBase + "descripton: hi\n";
  CHECK(only_error_at(text, at(text, "descripton")) ==
        "unknown key 'descripton'; did you mean 'description'?");
}

TEST_CASE("unknown nested key suggests the closest and the required key is missing",
          "[scenario-errors]") {
  const std::string text = edit(kBase, "  reference_share: 0.2", "  reference_shar: 0.2");
  auto ds = errors(text);
  REQUIRE(ds.size() == 2);
  CHECK(message_at(ds, at(text, "reference_shar")) ==
        "finance: unknown key 'reference_shar'; did you mean 'reference_share'?");
  // A missing key has no position of its own: the map's (its first key) stands in.
  CHECK(message_at(ds, at(text, "new_loans")) == "finance: missing required key 'reference_share'");
}

TEST_CASE("a key from another section says where it belongs", "[scenario-errors]") {
  const std::string text = kBase + "initial_stock_mu: 5\n";
  CHECK(only_error_at(text, at(text, "initial_stock_mu: 5")) ==
        "unknown key 'initial_stock_mu'; 'initial_stock_mu' belongs in 'land'");
}

TEST_CASE("unknown key in a distribution", "[scenario-errors]") {
  const std::string text = edit(kBase, "sd: 0.04}", "sd_: 0.04}");
  CHECK(only_error_at(text, at(text, "sd_")) ==
        "clusters[0].growth: unknown key 'sd_' in normal distribution; did you mean 'sd'?");
}

TEST_CASE("missing required key reports the parent map's position", "[scenario-errors]") {
  const std::string text = edit(kBase, "  gdp_base: 200\n", "");
  CHECK(only_error_at(text, at(text, "rest_growth")) ==
        "macro: missing required key 'gdp_base' (base-year GDP in 亿元)");
}

TEST_CASE("missing required section", "[scenario-errors]") {
  std::string text = kBase.substr(0, kBase.find("targets:"));
  CHECK(only_error_at(text, "t.yaml:1:1") == "missing required key 'targets' (a list of targets)");
}

TEST_CASE("duplicate key in a map", "[scenario-errors]") {
  const std::string text =
      edit(kBase, "    base_output: 60\n", "    base_output: 60\n    base_output: 70\n");
  CHECK(only_error_at(text, at(text, "base_output", 1)) ==
        "duplicate key 'base_output' (first at line 22); a key appears once in a map: keep one");
}

// --- distributions ---

TEST_CASE("bad distribution parameter points at the parameter", "[scenario-errors]") {
  const std::string text = edit(kBase, "sd: 0.04}", "sd: -0.04}");
  CHECK(only_error_at(text, at(text, "-0.04")) ==
        "clusters[0].growth: normal distribution: sd must be >= 0 (got -0.04)");
}

TEST_CASE("triangular with mode outside [min, max]", "[scenario-errors]") {
  const std::string text = edit(kBase, "  supply_mu: 200",
                                "  supply_mu: {dist: triangular, min: 300, mode: 250, max: 400}");
  CHECK(only_error_at(text, at(text, "250")) ==
        "land.supply_mu: triangular distribution: mode must lie between min and max (got min "
        "300, mode 250, max 400)");
}

TEST_CASE("discrete probabilities that do not sum to 1", "[scenario-errors]") {
  const std::string text =
      edit(kBase, "    ramp_months: 6\n",
           "    ramp_months: 6\n    start_delay_months: {dist: discrete, values: [0, 3], probs: "
           "[0.5, 0.6]}\n");
  CHECK(only_error_at(text, at(text, "[0.5")) ==
        "projects[0].start_delay_months: discrete distribution: probs must sum to 1 (got 1.1)");
}

TEST_CASE("unknown distribution family", "[scenario-errors]") {
  std::string text = edit(kBase, "{dist: normal, mean: 0.05", "{dist: norml, mean: 0.05");
  CHECK(only_error_at(text, at(text, "norml")) ==
        "clusters[0].growth: unknown distribution 'norml'; did you mean 'normal'? (known: normal, "
        "lognormal, uniform, triangular, pert, beta, poisson, discrete)");
  text = edit(kBase, "{dist: normal, mean: 0.05", "{dist: Gaussian, mean: 0.05");
  // Another tool's name for a family, in any case, maps to ours.
  CHECK(only_error_at(text, at(text, "Gaussian")) ==
        "clusters[0].growth: unknown distribution 'Gaussian'; did you mean 'normal'? (known: "
        "normal, lognormal, uniform, triangular, pert, beta, poisson, discrete)");
  text = edit(kBase, "{dist: normal, mean: 0.05", "{dist: 正态, mean: 0.05");
  CHECK(only_error_at(text, at(text, "正态")) ==
        "clusters[0].growth: unknown distribution '正态'; did you mean 'normal'? (known: normal, "
        "lognormal, uniform, triangular, pert, beta, poisson, discrete)");
  text = edit(kBase, "{dist: normal, mean: 0.05, sd: 0.04}", "{dist: CONSTANT, mean: 0.05}");
  CHECK(only_error_at(text, at(text, "CONSTANT")) ==
        "clusters[0].growth: a constant is written as a plain number, without dist:");
}

TEST_CASE("a distribution map without dist:", "[scenario-errors]") {
  const std::string text =
      edit(kBase, "{dist: normal, mean: 0.05, sd: 0.04}", "{mean: 0.05, sd: 0.04}");
  CHECK(only_error_at(text, at(text, "{mean: 0.05")) ==
        "clusters[0].growth: a distribution needs 'dist:' (one of normal, lognormal, uniform, "
        "triangular, pert, beta, poisson, discrete)");
}

TEST_CASE("count field given a continuous distribution", "[scenario-errors]") {
  const std::string text = kBase +
                           "firms:\n  above_scale: {base: 10, entries: {dist: normal, mean: 3, sd: "
                           "1}, exit_rate: 0.02}\n";
  CHECK(only_error_at(text, at(text, "{dist: normal, mean: 3")) ==
        "firms.above_scale.entries: is a count: use poisson, discrete with whole values, or a "
        "whole number (normal gives fractions)");
}

TEST_CASE("poisson outside count fields", "[scenario-errors]") {
  const std::string text = edit(kBase, "    growth: 0.04", "    growth: {dist: poisson, mean: 2}");
  CHECK(only_error_at(text, at(text, "poisson")) ==
        "clusters[1].growth: poisson is for counts (firms entries); use normal, lognormal, "
        "uniform, triangular, pert, beta or discrete here");
}

TEST_CASE("a per-draw value given a year map", "[scenario-errors]") {
  const std::string text = edit(kBase, "    tax_rate: 0.01", "    tax_rate: {2022: 0.01}");
  CHECK(only_error_at(text, at(text, "{2022: 0.01}")) ==
        "clusters[0].tax_rate: takes one value for the whole run (a number or a distribution), "
        "not a per-year map");
}

// --- shares and bounds ---

TEST_CASE("a share written as a percentage", "[scenario-errors]") {
  std::string text = edit(kBase, "    tax_rate: 0.01", "    tax_rate: 36");
  CHECK(only_error_at(text, at(text, "36")) ==
        "clusters[0].tax_rate: 36 looks like a percentage; write 0.36 for 36%");
  text = edit(kBase, "{dist: uniform, min: 0.22, max: 0.28}", "{dist: uniform, min: 22, max: 28}");
  CHECK(only_error_at(text, at(text, "{dist: uniform, min: 22")) ==
        "clusters[0].value_added_ratio: values up to 28 look like percentages; write fractions, "
        "e.g. 0.28 for 28%");
  text = edit(kBase, "    tax_rate: 0.01", "    tax_rate: 36%");
  CHECK(only_error_at(text, at(text, "36%")) ==
        "clusters[0].tax_rate: '36%': write shares as fractions, e.g. 0.36 for 36%");
}

TEST_CASE("an unbounded normal for a share asks for min and max", "[scenario-errors]") {
  const std::string text = edit(kBase, "  manufacturing_loan_share: 0.2",
                                "  manufacturing_loan_share: {dist: normal, mean: 0.2, sd: 0.05}");
  CHECK(only_error_at(text, at(text, "{dist: normal, mean: 0.2,")) ==
        "finance.manufacturing_loan_share: a normal distribution without min and max is "
        "unbounded, but a share lies within [0, 1]: add min: 0 and max: 1 (or use beta)");
}

TEST_CASE("a delay that can be negative", "[scenario-errors]") {
  const std::string text = edit(kBase, "    ramp_months: 6\n",
                                "    ramp_months: 6\n    start_delay_months: {dist: normal, mean: "
                                "2, sd: 1}\n");
  CHECK(only_error_at(text, at(text, "{dist: normal, mean: 2")) ==
        "projects[0].start_delay_months: a normal distribution without min is unbounded below; a "
        "number of months is never negative: add min: 0");
}

// --- types and numbers ---

TEST_CASE("a string where a number belongs", "[scenario-errors]") {
  const std::string text = edit(kBase, "  gdp_base: 200", "  gdp_base: abc");
  CHECK(only_error_at(text, at(text, "abc")) == "macro.gdp_base: expected a number, got 'abc'");
  const std::string chinese = edit(kBase, "  gdp_base: 200", "  gdp_base: 二百");
  CHECK(only_error_at(chinese, at(chinese, "二百")) ==
        "macro.gdp_base: expected a number, got '二百'");
}

TEST_CASE("a list where a map belongs", "[scenario-errors]") {
  const std::string text = edit(kBase, "{sd: 0.02, persistence: 0.5}", "[0.02, 0.5]");
  CHECK(only_error_at(text, at(text, "[0.02")) ==
        "macro.common_shock: expected a map of sd and persistence, got a list");
}

TEST_CASE("a boolean that is not true or false", "[scenario-errors]") {
  const std::string text = edit(kBase, "    manufacturing: false", "    manufacturing: no");
  CHECK(only_error_at(text, at(text, "manufacturing: no", "no")) ==
        "clusters[1].manufacturing: expected true or false, got 'no'");
}

TEST_CASE("numbers out of range and bad simulation settings", "[scenario-errors]") {
  std::string text = edit(kBase, "  gdp_base: 200", "  gdp_base: 1e999");
  CHECK(only_error_at(text, at(text, "1e999")) ==
        "macro.gdp_base: the number '1e999' is out of range");
  text = edit(kBase, "{draws: 1000, seed: 7}", "{draws: 0, seed: 7}");
  CHECK(only_error_at(text, at(text, "draws: 0", "0")) ==
        "simulation.draws: expected a whole number from 1 to 1000000000, got 0");
  text = edit(kBase, "{draws: 1000, seed: 7}", "{draws: 1000, seed: -7}");
  CHECK(only_error_at(text, at(text, "-7")) ==
        "simulation.seed: expected a whole number from 0 to 18446744073709551615, got -7");
  text = edit(kBase, "{draws: 1000, seed: 7}", "{draws: 1000, seed: 99999999999999999999999}");
  CHECK(only_error_at(text, at(text, "999999")) ==
        "simulation.seed: 99999999999999999999999 is too large; at most 18446744073709551615");
}

TEST_CASE("a horizon that ends before it starts", "[scenario-errors]") {
  const std::string text = edit(kBase, "last_year: 2024}", "last_year: 2021}");
  // Everything that needs the years (the date, per-year values) waits for a valid horizon.
  CHECK(only_error_at(text, at(text, "2021}")) ==
        "horizon.last_year: 2021 must be after base_year 2021");
}

TEST_CASE("bad schema string", "[scenario-errors]") {
  const std::string text = edit(kBase, "schema: countysim/1", "schema: countysim/3");
  CHECK(only_error_at(text, "t.yaml:1:9") ==
        "schema: 'countysim/3' is not a schema this countysim reads; write 'schema: countysim/1' "
        "or 'schema: countysim/2'");
}

// --- ids, references, dates ---

TEST_CASE("unknown cluster reference suggests the closest id", "[scenario-errors]") {
  const std::string text = edit(kBase, "    cluster: textiles", "    cluster: textile");
  CHECK(only_error_at(text, at(text, "cluster: textile", "textile")) ==
        "projects[0].cluster: unknown cluster 'textile'; did you mean 'textiles'? (clusters: "
        "textiles, solar)");
}

TEST_CASE("duplicate ids point at the second and name the first's line", "[scenario-errors]") {
  const std::string text = edit(kBase, "  - id: solar", "  - id: textiles");
  CHECK(only_error_at(text, at(text, "textiles", 1)) ==
        "clusters[1].id: duplicate cluster id 'textiles' (first at line 19); ids are unique");
}

TEST_CASE("an id that is not a slug", "[scenario-errors]") {
  const std::string text = edit(kBase, "  - id: solar", "  - id: 光伏 pv");
  CHECK(only_error_at(text, at(text, "光伏 pv")) ==
        "clusters[1].id: '光伏 pv' is not a valid id; use ASCII letters, digits, '-' and '_' "
        "(put the full name in name:)");
}

TEST_CASE("malformed dates", "[scenario-errors]") {
  auto date_error = [](const std::string& date) {
    const std::string text = edit(kBase, "2022-04", date);
    return only_error_at(text, at(text, "planned_start: " + date, date));
  };
  CHECK(date_error("2022-13") ==
        "projects[0].planned_start: month 13 in '2022-13' does not exist; months are 01 to 12");
  CHECK(date_error("22-04") ==
        "projects[0].planned_start: '22-04': the year needs four digits; expected YYYY-MM, e.g. "
        "2022-04");
  CHECK(date_error("2022/04") ==
        "projects[0].planned_start: expected a month YYYY-MM, e.g. 2022-04, got '2022/04'");
  CHECK(date_error("2022-4") ==
        "projects[0].planned_start: write the month with two digits: '2022-04'");
  CHECK(date_error("2022-04-01") ==
        "projects[0].planned_start: '2022-04-01' is a day; expected a month YYYY-MM, e.g. "
        "'2022-04'");
}

// --- per-year maps ---

TEST_CASE("a year map missing a year", "[scenario-errors]") {
  const std::string text = edit(kBase, "  supply_mu: 200", "  supply_mu: {2022: 200, 2023: 210}");
  CHECK(only_error_at(text, at(text, "supply_mu")) ==
        "land.supply_mu: no value for 2024; a per-year map covers every projection year "
        "2022..2024 (or write one value for all)");
}

TEST_CASE("a year map with a year outside the projection", "[scenario-errors]") {
  const std::string text =
      edit(kBase, "  supply_mu: 200", "  supply_mu: {2022: 1, 2023: 2, 2024: 3, 2025: 4}");
  CHECK(only_error_at(text, at(text, "2025")) ==
        "land.supply_mu: 2025 is not a projection year; the map covers 2022..2024 (the base year "
        "2021 is known, not projected)");
}

// --- correlations ---

TEST_CASE("correlation outside [-1, 1]", "[scenario-errors]") {
  const std::string text =
      with_correlation("  - {between: [clusters.textiles.growth, macro.rest_growth], rho: 1.2}\n");
  CHECK(only_error_at(text, at(text, "1.2")) ==
        "correlations[0].rho: 1.2 is outside [-1, 1]; a correlation coefficient lies in [-1, 1]");
}

TEST_CASE("correlation of a constant", "[scenario-errors]") {
  const std::string text =
      with_correlation("  - {between: [clusters.solar.growth, macro.rest_growth], rho: 0.3}\n");
  CHECK(only_error_at(text, at(text, "clusters.solar.growth")) ==
        "correlations[0].between[0]: 'clusters.solar.growth' is a constant; only random inputs "
        "(written as a distribution) can be correlated");
}

TEST_CASE("correlation of an unknown input suggests the closest key", "[scenario-errors]") {
  const std::string text =
      with_correlation("  - {between: [macro.common_shock, clusters.textiles.grwth], rho: 0.3}\n");
  CHECK(only_error_at(text, at(text, "clusters.textiles.grwth")) ==
        "correlations[0].between[1]: unknown random input 'clusters.textiles.grwth'; did you mean "
        "'clusters.textiles.growth'?");
}

TEST_CASE("correlation between a per-year and a per-draw input", "[scenario-errors]") {
  const std::string text = with_correlation(
      "  - {between: [clusters.textiles.growth, clusters.textiles.value_added_ratio], rho: 0.3}\n");
  CHECK(only_error_at(text, at(text, "[clusters")) ==
        "correlations[0].between: cannot correlate per-year input 'clusters.textiles.growth' "
        "with per-draw input 'clusters.textiles.value_added_ratio'; both must be per-year or "
        "both per-draw");
}

TEST_CASE("a correlation pair given twice", "[scenario-errors]") {
  const std::string text = with_correlation(
      "  - {between: [clusters.textiles.growth, macro.rest_growth], rho: 0.3}\n"
      "  - {between: [macro.rest_growth, clusters.textiles.growth], rho: 0.5}\n");
  CHECK(only_error_at(text, at(text, "[macro.rest_growth")) ==
        "correlations[1].between: the pair macro.rest_growth / clusters.textiles.growth is given "
        "twice (first at line 51); keep one");
}

// --- model-level checks ---

TEST_CASE("a supply chain that is not productive", "[scenario-errors]") {
  const std::string text =
      kBase + "supply_chain:\n  textiles: {solar: 1.5}\n  solar: {textiles: 0.8}\n";
  // Spectral radius of [[0, 1.5], [0.8, 0]] is sqrt(1.2) = 1.095.
  CHECK(only_error_at(text, at(text, "supply_chain")) ==
        "supply_chain: the local supply chain is not productive (spectral radius 1.1 >= 1): the "
        "clusters would need more local inputs than they produce; lower the coefficients (each "
        "column's sum below 1 is enough)");
}

TEST_CASE("supply chain naming an unknown cluster or a negative coefficient", "[scenario-errors]") {
  const std::string text =
      kBase + "supply_chain:\n  solr: {textiles: 0.1}\n  solar: {textiles: -0.1}\n";
  auto ds = errors(text);
  REQUIRE(ds.size() == 2);
  CHECK(message_at(ds, at(text, "solr")) ==
        "supply_chain: unknown cluster 'solr'; did you mean 'solar'?");
  CHECK(message_at(ds, at(text, "-0.1")) ==
        "supply_chain.solar.textiles: -0.1 is negative; it must be 0 or more");
}

TEST_CASE("a GDP too small for its industry leaves a negative rest of the economy",
          "[scenario-errors]") {
  const std::string text = edit(kBase, "  gdp_base: 200", "  gdp_base: 20");
  // value added can reach 0.28 * 60 + 0.5 * 8 = 20.8 > 20
  CHECK(only_error_at(text, at(text, "gdp_base: 20", "20")) ==
        "macro.gdp_base: 20 leaves nothing for the rest of the economy: industry's base-year "
        "value added can reach 20.8 (textiles 0.28 x 60 + solar 0.5 x 8), so R0 = gdp_base - sum "
        "of value_added_ratio x base_output = -0.8 <= 0; raise gdp_base or lower the clusters' "
        "base_output or value_added_ratio");
}

// --- targets ---

TEST_CASE("target year outside the projection", "[scenario-errors]") {
  const std::string text = edit(kBase, "metric: industrial_output, at_least",
                                "metric: industrial_output, year: 2021, at_least");
  CHECK(only_error_at(text, at(text, "2021, at")) ==
        "targets[0].year: 2021 is outside the projection years 2022..2024");
}

TEST_CASE("target with both at_least and at_most, or neither", "[scenario-errors]") {
  std::string text = edit(kBase, "at_least: 100}", "at_least: 100, at_most: 200}");
  CHECK(only_error_at(text, at(text, "at_most")) ==
        "targets[0]: has both at_least and at_most; a target has exactly one (write two targets "
        "for a range)");
  text = edit(kBase, ", at_least: 100}", "}");
  CHECK(only_error_at(text, at(text, "{id: output-100")) ==
        "targets[0]: needs at_least or at_most (exactly one), e.g. at_least: 100");
}

TEST_CASE("unknown metric and metrics that cannot be targets", "[scenario-errors]") {
  std::string text = edit(kBase, "metric: industrial_output", "metric: industrial_outpt");
  CHECK(only_error_at(text, at(text, "industrial_outpt")) ==
        "targets[0].metric: unknown metric 'industrial_outpt'; did you mean 'industrial_output'?");
  text = edit(kBase, "metric: industrial_output", "metric: project_output");
  CHECK(only_error_at(text, at(text, "project_output")) ==
        "targets[0].metric: metric 'project_output' cannot be a target; targets use [draw, year] "
        "metrics, cluster_output or clusters_at_least");
}

TEST_CASE("cluster_output target without a cluster", "[scenario-errors]") {
  const std::string text = edit(kBase, "metric: industrial_output", "metric: cluster_output");
  CHECK(only_error_at(text, at(text, "{id: output-100")) ==
        "targets[0]: missing required key 'cluster' (the cluster id cluster_output compares)");
}

TEST_CASE("cluster given to a metric that takes none", "[scenario-errors]") {
  const std::string text = edit(kBase, "at_least: 100}", "at_least: 100, cluster: solar}");
  CHECK(only_error_at(text, at(text, "cluster: solar}")) ==
        "targets[0]: cluster is used only with metric cluster_output");
}

TEST_CASE("clusters_at_least with a group no cluster has", "[scenario-errors]") {
  const std::string text =
      edit(kBase, "metric: industrial_output, at_least: 100}",
           "metric: clusters_at_least, group: mian, threshold: 10, at_least: 1}");
  CHECK(only_error_at(text, at(text, "mian")) ==
        "targets[0].group: no cluster has group 'mian'; did you mean 'main'?");
}

TEST_CASE("firm metric target without the firms section", "[scenario-errors]") {
  const std::string text = edit(kBase, "metric: industrial_output", "metric: above_scale_firms");
  CHECK(only_error_at(text, at(text, "above_scale_firms")) ==
        "targets[0].metric: above_scale_firms needs firms.above_scale (base, entries, exit_rate) "
        "in the scenario");
}

TEST_CASE("a fraction target written as a percentage", "[scenario-errors]") {
  const std::string text = edit(kBase, "metric: industrial_output, at_least: 100",
                                "metric: manufacturing_va_share, at_least: 12");
  CHECK(only_error_at(text, at(text, "12}")) ==
        "targets[0].at_least: 12 looks like a percentage; manufacturing_va_share is a fraction: "
        "write 0.12 for 12%");
}

// --- several at once ---

TEST_CASE("several errors are reported at once, in file order", "[scenario-errors]") {
  std::string text = edit(kBase, "  gdp_base: 200", "  gdp_base: lots");
  text = edit(text, "    tax_rate: 0.02", "    tax_rate: 2");
  text = edit(text, "    cluster: textiles", "    cluster: steel");
  text = edit(text, "2022-04", "2022-00");
  auto ds = errors(text);
  INFO(listing(ds));
  REQUIRE(ds.size() == 4);
  CHECK(where(ds[0]) == at(text, "lots"));
  CHECK(where(ds[1]) == at(text, "tax_rate: 2", "2"));
  CHECK(where(ds[2]) == at(text, "steel"));
  CHECK(where(ds[3]) == at(text, "2022-00"));
  CHECK(ds[0].message == "macro.gdp_base: expected a number, got 'lots'");
  CHECK(ds[1].message == "clusters[1].tax_rate: 2 looks like a percentage; write 0.02 for 2%");
  CHECK(ds[2].message ==
        "projects[0].cluster: unknown cluster 'steel'; did you mean 'solar'? (clusters: "
        "textiles, solar)");
  CHECK(ds[3].message ==
        "projects[0].planned_start: month 00 in '2022-00' does not exist; months are 01 to 12");
}

// --- countysim/2: prices and observed ---

namespace {

// Every metric an observation may name, as the messages list them.
const std::string kObservable =
    "industrial_output, industrial_value_added, manufacturing_value_added, gdp, "
    "manufacturing_va_share, digital_core_va_share, strategic_emerging_share, industrial_tax, "
    "employment, above_scale_firms, high_tech_firms, new_loans, manufacturing_loan_share, "
    "land_supplied_mu, land_used_mu, land_stock_mu, projects_started, projects_producing, "
    "industrial_output_real, industrial_value_added_real, gdp_real, industrial_va_real_growth, "
    "gdp_real_growth, cluster_output";

// kBaseV2 with its first observation replaced by `item` (a flow map).
std::string with_observation(const std::string& item) {
  return edit(kBaseV2,
              "{id: gdp-2022, metric: gdp, year: 2022, value: 215, rel_sd: 0.01, source: 统计公报}",
              item);
}

}  // namespace

TEST_CASE("the v2 keys in a countysim/1 file ask for countysim/2", "[scenario-errors]") {
  std::string text = edit(kBaseV2, "schema: countysim/2", "schema: countysim/1");
  auto ds = errors(text);
  INFO(listing(ds));
  REQUIRE(ds.size() == 4);
  CHECK(message_at(ds, at(text, "rest_price_change")) ==
        "macro: 'rest_price_change' needs 'schema: countysim/2'; this scenario says 'schema: "
        "countysim/1': change its schema line");
  CHECK(message_at(ds, at(text, "prices:")) ==
        "'prices' needs 'schema: countysim/2'; this scenario says 'schema: countysim/1': change "
        "its schema line");
  CHECK(message_at(ds, at(text, "price_index")) ==
        "clusters[0]: 'price_index' needs 'schema: countysim/2'; this scenario says 'schema: "
        "countysim/1': change its schema line");
  CHECK(message_at(ds, at(text, "observed:")) ==
        "'observed' needs 'schema: countysim/2'; this scenario says 'schema: countysim/1': "
        "change its schema line");
}

TEST_CASE("observation sd and rel_sd: positive, exactly one", "[scenario-errors]") {
  std::string text = with_observation("{id: g, metric: gdp, year: 2022, value: 215, sd: 0}");
  CHECK(only_error_at(text, at(text, "sd: 0}", "0")) ==
        "observed[0].sd: 0 must be above 0; a published figure is never exact (revisions, "
        "scope, rounding)");
  text = with_observation("{id: g, metric: gdp, year: 2022, value: 215, rel_sd: -0.01}");
  CHECK(only_error_at(text, at(text, "-0.01")) ==
        "observed[0].rel_sd: -0.01 must be above 0; a published figure is never exact "
        "(revisions, scope, rounding)");
  text = with_observation("{id: g, metric: gdp, year: 2022, value: 0, rel_sd: 0.01}");
  CHECK(only_error_at(text, at(text, "0.01}")) ==
        "observed[0].rel_sd: rel_sd x |value| is 0 because value is 0; give sd (in the metric's "
        "units) instead");
  text = with_observation("{id: g, metric: gdp, year: 2022, value: 215, sd: 2, rel_sd: 0.01}");
  CHECK(only_error_at(text, at(text, "rel_sd: 0.01}")) ==
        "observed[0]: has both sd and rel_sd; give exactly one (sd in the metric's units, or "
        "rel_sd as a fraction of |value|)");
  text = with_observation("{id: g, metric: gdp, year: 2022, value: 215}");
  CHECK(only_error_at(text, at(text, "{id: g,")) ==
        "observed[0]: needs sd or rel_sd (exactly one): the error of the published figure, e.g. "
        "rel_sd: 0.01");
}

TEST_CASE("observation metrics: known, and [draw, year] or cluster_output", "[scenario-errors]") {
  std::string text = with_observation("{id: g, metric: gpd, year: 2022, value: 215, sd: 2}");
  CHECK(only_error_at(text, at(text, "gpd")) ==
        "observed[0].metric: unknown metric 'gpd'; did you mean 'gdp'? (observations use: " +
            kObservable + ")");
  text = with_observation("{id: g, metric: project_output, year: 2022, value: 1, sd: 2}");
  CHECK(only_error_at(text, at(text, "project_output")) ==
        "observed[0].metric: metric 'project_output' cannot be observed; observations use "
        "[draw, year] metrics or cluster_output (" +
            kObservable + ")");
  text = with_observation("{id: g, metric: clusters_at_least, year: 2022, value: 1, sd: 2}");
  CHECK(only_error_at(text, at(text, "clusters_at_least")) ==
        "observed[0].metric: metric 'clusters_at_least' cannot be observed; observations use "
        "[draw, year] metrics or cluster_output (" +
            kObservable + ")");
  text = with_observation("{id: g, metric: high_tech_firms, year: 2022, value: 1, sd: 2}");
  CHECK(only_error_at(text, at(text, "high_tech_firms")) ==
        "observed[0].metric: high_tech_firms needs firms.high_tech (base, entries, exit_rate) in "
        "the scenario");
}

TEST_CASE("observation year outside the projection, or missing", "[scenario-errors]") {
  std::string text = with_observation("{id: g, metric: gdp, year: 2021, value: 215, sd: 2}");
  CHECK(only_error_at(text, at(text, "2021, value")) ==
        "observed[0].year: 2021 is outside the projection years 2022..2024; an outturn of the "
        "base year 2021 is an input, not an observation");
  text = with_observation("{id: g, metric: gdp, year: 2025, value: 215, sd: 2}");
  CHECK(only_error_at(text, at(text, "2025")) ==
        "observed[0].year: 2025 is outside the projection years 2022..2024; an outturn of the "
        "base year 2021 is an input, not an observation");
  text = with_observation("{id: g, metric: gdp, value: 215, sd: 2}");
  CHECK(only_error_at(text, at(text, "{id: g,")) ==
        "observed[0]: missing required key 'year' (the projection year it was published for)");
}

TEST_CASE("observation clusters: required for cluster_output only, and known",
          "[scenario-errors]") {
  std::string text =
      with_observation("{id: g, metric: cluster_output, year: 2022, value: 60, sd: 2}");
  CHECK(only_error_at(text, at(text, "{id: g,")) ==
        "observed[0]: missing required key 'cluster' (the cluster id cluster_output is about)");
  text = with_observation("{id: g, metric: gdp, cluster: solar, year: 2022, value: 215, sd: 2}");
  CHECK(only_error_at(text, at(text, "cluster: solar", "cluster")) ==
        "observed[0]: cluster is used only with metric cluster_output");
  text = with_observation(
      "{id: g, metric: cluster_output, cluster: textile, year: 2022, value: 60, sd: 2}");
  CHECK(only_error_at(text, at(text, "textile,")) ==
        "observed[0].cluster: unknown cluster 'textile'; did you mean 'textiles'? (clusters: "
        "textiles, solar)");
}

TEST_CASE("duplicate ids of price indices and observations", "[scenario-errors]") {
  std::string text = edit(kBaseV2, "  - id: cpi", "  - id: ppi");
  CHECK(only_error_at(text, at(text, "ppi", 1)) ==
        "prices[1].id: duplicate price index id 'ppi' (first at line 20); ids are unique");
  text = edit(kBaseV2, "{id: textiles-2022,", "{id: gdp-2022,");
  CHECK(only_error_at(text, at(text, "gdp-2022", 1)) ==
        "observed[1].id: duplicate observation id 'gdp-2022' (first at line 60); ids are unique");
}

TEST_CASE("unknown price index on a cluster", "[scenario-errors]") {
  std::string text = edit(kBaseV2, "price_index: ppi", "price_index: pp");
  CHECK(only_error_at(text, at(text, "pp\n")) ==
        "clusters[0].price_index: unknown price index 'pp'; did you mean 'ppi'? (prices: ppi, "
        "cpi)");
  text = edit(kBaseV2, "prices:\n", "old_prices:\n");
  auto ds = errors(text);
  INFO(listing(ds));
  REQUIRE(ds.size() == 2);
  CHECK(message_at(ds, at(text, "old_prices")) ==
        "unknown key 'old_prices'; did you mean 'prices'?");
  CHECK(message_at(ds, at(text, "price_index: ppi", "ppi")) ==
        "clusters[0].price_index: unknown price index 'ppi'; no prices are defined (add it to "
        "the 'prices' list)");
}

TEST_CASE("a price change that can reach -1 (a price level at 0 or below)", "[scenario-errors]") {
  std::string text = edit(kBaseV2, "2023: -0.03", "2023: -1");
  CHECK(only_error_at(text, at(text, "-1")) ==
        "prices[0].change.2023: price change -1 is a fall of 100% or more; a price level must "
        "stay positive, so a price change is a fraction above -1 (-0.03 for -3%)");
  text = edit(kBaseV2, "sd: 0.01, min: -0.1}", "sd: 0.01}");
  CHECK(only_error_at(text, at(text, "{dist: normal, mean: 0.02")) ==
        "prices[1].change: a normal distribution without min is unbounded below, so a price "
        "level could fall to 0 or below; add a min above -1 (e.g. min: -0.5)");
  text = edit(kBaseV2, "  rest_price_change: 0.02",
              "  rest_price_change: {dist: uniform, min: -1, max: 0}");
  CHECK(only_error_at(text, at(text, "{dist: uniform, min: -1")) ==
        "macro.rest_price_change: can fall to -1, a fall of 100% or more; a price level must stay "
        "positive, so a price change stays above -1");
}

// --- the file itself ---

TEST_CASE("YAML syntax error", "[scenario-errors]") {
  const std::string text = edit(kBase, "  common_shock: {sd: 0.02, persistence: 0.5}",
                                "  common_shock: {sd: 0.02, persistence: 0.5");
  auto ds = errors(text);
  REQUIRE(ds.size() == 1);
  // yaml-cpp notices at line 9; the fix is at the bracket.
  CHECK(where(ds[0]) == at(text, "common_shock: {sd", "{"));
  CHECK(ds[0].message ==
        "YAML syntax error: this '{' is never closed (yaml-cpp: end of map flow not found at line "
        "9, column 24)");
  const std::string text2 = edit(kBase, "  gdp_base: 200", "  gdp_base: 200\n    oops: 1");
  ds = errors(text2);
  REQUIRE(ds.size() == 1);
  CHECK(where(ds[0]) == at(text2, "oops: 1", ": 1"));
  CHECK(ds[0].message == "YAML syntax error: illegal map value");
}

TEST_CASE("two YAML documents in one file", "[scenario-errors]") {
  const std::string text = kBase + "---\nname: second\n";
  auto ds = errors(text);
  REQUIRE(ds.size() == 1);
  CHECK(where(ds[0]) == at(text, "---"));
  CHECK(ds[0].message == "a second YAML document ('---'); a scenario file holds one document");
}

TEST_CASE("a stray comma outside brackets", "[scenario-errors]") {
  // yaml-cpp alone would either drop the rest silently or loop forever. Where
  // yaml-cpp notices the comma itself, its message is kept.
  const std::string stray =
      "YAML syntax error: unexpected ',' here (',' separates items only inside [...] or {...})";
  const std::pair<const char*, std::string> cases[] = {
      {", oops\n", "YAML syntax error: end of map not found"}, {"---\n, oops\n", stray}};
  for (const auto& [tail, message] : cases) {
    const std::string text = kBase + tail;
    auto ds = errors(text);
    REQUIRE(ds.size() == 1);
    CHECK(where(ds[0]) == at(text, ", oops"));
    CHECK(ds[0].message == message);
  }
  const std::string text = edit(kBase, "  gdp_base: 200", "  gdp_base: [200], 3");
  auto ds = errors(text);
  REQUIRE(ds.size() == 1);
  CHECK(where(ds[0]) == at(text, "], 3", ","));
  CHECK(ds[0].message == "YAML syntax error: end of map not found");
  ds = errors("{schema: countysim/1}, {name: x}\n");
  REQUIRE(ds.size() == 1);
  CHECK(where(ds[0]) == "t.yaml:1:22");
  CHECK(ds[0].message == stray);
}

TEST_CASE("tabs in indentation", "[scenario-errors]") {
  const std::string path = kBad + "tabs.yaml";
  auto ds = file_errors(path);
  REQUIRE(ds.size() == 2);  // the tab inside the block scalar's text is content
  CHECK(where(ds[0]) == path + ":4:1");
  CHECK(where(ds[1]) == path + ":5:3");
  CHECK(ds[0].message ==
        "tab character in indentation; YAML indents with spaces (replace the tab with spaces)");
  CHECK(ds[1].message == ds[0].message);
}

TEST_CASE("empty file", "[scenario-errors]") {
  for (const char* name : {"empty.yaml", "comments_only.yaml"}) {
    const std::string path = kBad + name;
    auto ds = file_errors(path);
    REQUIRE(ds.size() == 1);
    CHECK(where(ds[0]) == path + ":1:1");
    CHECK(ds[0].message ==
          "the scenario is empty; it starts with 'schema: countysim/1' (see "
          "docs/scenario-format.md)");
  }
}

TEST_CASE("binary file, NUL bytes and invalid UTF-8", "[scenario-errors]") {
  auto ds = file_errors(kBad + "binary.bin");
  REQUIRE(ds.size() == 1);
  CHECK(where(ds[0]) == kBad + "binary.bin:1:1");
  CHECK(ds[0].message ==
        "control character 0x7F: this looks like a binary file, not a UTF-8 YAML scenario");
  ds = file_errors(kBad + "nul.yaml");
  REQUIRE(ds.size() == 1);
  CHECK(where(ds[0]) == kBad + "nul.yaml:2:8");
  CHECK(ds[0].message == "NUL byte: this looks like a binary file, not a UTF-8 YAML scenario");
  ds = file_errors(kBad + "latin1.yaml");
  REQUIRE(ds.size() == 1);
  CHECK(where(ds[0]) == kBad + "latin1.yaml:2:10");
  CHECK(ds[0].message == "invalid UTF-8 (byte 0xE9); save the file as UTF-8");
}

TEST_CASE("alias bomb", "[scenario-errors]") {
  const std::string path = kBad + "alias_bomb.yaml";
  auto ds = file_errors(path);
  REQUIRE(ds.size() == 1);
  // a..e expand to about 123,000 nodes; f (line 8) passes 1,000,000.
  CHECK(where(ds[0]) == path + ":8:1");
  CHECK(ds[0].message ==
        "the document expands to more than 1000000 nodes through anchors and aliases (a 'billion "
        "laughs' document?); countysim refuses it: write the repeated parts out, or use "
        "extends:");
}

TEST_CASE("an alias inside its own anchor, and deep nesting", "[scenario-errors]") {
  auto ds = errors("schema: countysim/1\nname: &x [1, *x]\n");
  REQUIRE(ds.size() == 1);
  CHECK(where(ds[0]) == "t.yaml:2:1");  // the top-level entry that never ends
  const std::string too_deep =
      "the document nests deeper than 100 levels (an alias inside its own anchor, e.g. '&x [1, "
      "*x]', nests without end); a scenario needs a handful";
  CHECK(ds[0].message == too_deep);
  ds = errors("schema: countysim/1\nname: " + std::string(150, '[') + std::string(150, ']') + "\n");
  REQUIRE(ds.size() == 1);
  CHECK(where(ds[0]) == "t.yaml:2:1");
  CHECK(ds[0].message == too_deep);
  ds = errors("name: " + std::string(600, '[') + std::string(600, ']') + "\n");
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].message ==
        "YAML syntax error: brackets nested 500 levels deep; a scenario needs a handful");
}

TEST_CASE("file not found is a InputError without a position", "[scenario-errors]") {
  auto ds = file_errors(kBad + "no-such-file.yaml");
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].file == kBad + "no-such-file.yaml");
  CHECK(ds[0].pos.line == 0);
  CHECK(ds[0].to_string() ==
        kBad + "no-such-file.yaml: cannot read the scenario file: No such file or directory");
  ds = file_errors(kBad);
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].message == "cannot read the scenario file: it is a directory");
}

TEST_CASE("a scenario that is not a map", "[scenario-errors]") {
  auto ds = errors("just some text\n");
  REQUIRE(ds.size() == 1);
  CHECK(where(ds[0]) == "t.yaml:1:1");
  CHECK(ds[0].message ==
        "expected a scenario: a YAML map of sections starting with 'schema: countysim/1', got "
        "'just some text'");
}
