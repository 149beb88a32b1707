// The validated, immutable scenario: what a scenario file says, with every
// reference resolved and every value checked. Built only by load_scenario().
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "countysim/distribution.hpp"
#include "countysim/errors.hpp"
#include "countysim/metrics.hpp"

namespace countysim {

// A scenario value: a constant or a distribution, with the input key it is
// sampled under (its path, e.g. "clusters.bamboo.growth"; per-year values add
// "@YYYY" when sampled) and where it was written.
struct Value {
  Distribution dist;
  std::string key;
  SourcePos pos;
};

// A per-year value: one Value per projection year (index t-1 for year B+t).
// Written once in the file it is repeated for every year; the key of year y is
// then `key@y`. Written as a `YYYY: value` map, each year has its own position.
struct PerYearValue {
  std::vector<Value> years;
};

struct Macro {
  double gdp_base = 0;
  PerYearValue rest_growth;
  double rest_shock_loading = 0.5;
  double shock_sd = 0;           // common_shock.sd
  double shock_persistence = 0;  // common_shock.persistence
  Value digital_share_of_rest;
  PerYearValue rest_price_change;  // v2: deflator of the rest, default 0 every year
};

struct Finance {
  PerYearValue new_loans;
  PerYearValue manufacturing_loan_share;
  double reference_share = 0;
  double project_credit_fraction = 0;
};

struct Land {
  double initial_stock_mu = 0;
  PerYearValue supply_mu;
};

struct Cluster {
  std::string id, name, group;
  bool manufacturing = true;
  double base_output = 0;
  PerYearValue growth;
  double shock_loading = 1;
  double credit_elasticity = 0;
  Value value_added_ratio, tax_rate, output_per_worker, productivity_growth;
  double digital_share = 0;
  double strategic_emerging_share = 0;
  std::string price_index;  // v2: id of a PriceIndex, "" = price stays 1
  int price_index_index = -1;
  SourcePos pos;
};

// v2 (model.md "Prices"): a price index with per-year changes (fractions).
struct PriceIndex {
  std::string id, name;
  PerYearValue change;  // key prices.<id>.change@YYYY
  SourcePos pos;
};

struct Project {
  std::string id, name, cluster;
  int cluster_index = -1;
  std::string planned_start;    // "YYYY-MM" as written
  int planned_start_month = 0;  // months from January of B+1 (may be negative)
  Value start_delay_months, construction_months, ramp_months, capacity_output;
  double success_probability = 1;
  double land_mu = 0, investment = 0, loan_share = 0;
  std::optional<Value> jobs, tax_rate;
  bool new_firm = false, high_tech = false;
  int priority = 100;
  SourcePos pos;
};

// One element of the local input-coefficient matrix A: purchases from cluster
// `from` (supplier, row i) per unit of output of cluster `to` (buyer, column j).
struct SupplyLink {
  int from = -1, to = -1;
  double a = 0;
  SourcePos pos;
};

struct FirmSeries {
  bool present = false;
  double base = 0;
  PerYearValue entries;  // count values
  Value exit_rate;
};

struct Firms {
  FirmSeries above_scale, high_tech;
};

// A requested correlation between two random inputs (keys without the year).
struct Correlation {
  std::string a, b;
  double rho = 0;
  SourcePos pos;
};

struct Target {
  std::string id, label;
  Metric metric = Metric::industrial_output;
  int year = 0;          // calendar year, B+1 .. E
  bool at_least = true;  // false: at_most
  double threshold = 0;  // the at_least / at_most number
  std::string cluster;   // cluster_output
  int cluster_index = -1;
  std::string group;  // clusters_at_least
  double group_threshold = 0;
  SourcePos pos;
};

// v2 (model.md "Conditioning on outturns"): a published figure, taken as the
// model's value of `metric` in `year` plus Gaussian error of sd `sd`.
struct Observation {
  std::string id;
  Metric metric = Metric::gdp;  // a [draw, year] metric or cluster_output
  int year = 0;                 // calendar year, B+1 .. E
  std::string cluster;          // cluster_output
  int cluster_index = -1;
  double value = 0;
  double sd = 0;  // absolute: sd, or rel_sd x |value|
  std::string source;
  SourcePos pos;
};

struct Scenario {
  std::string path;         // file as given on the command line
  std::string merged_yaml;  // the fully merged scenario text (UTF-8)
  std::string name, description;
  std::string schema;  // "countysim/1" or "countysim/2"
  int base_year = 0, last_year = 0;
  std::uint64_t draws = 0, seed = 0;
  Macro macro;
  Finance finance;
  Land land;
  std::vector<Cluster> clusters;
  std::vector<Correlation> correlations;
  std::vector<Project> projects;
  std::vector<SupplyLink> supply_chain;
  Firms firms;
  std::vector<Target> targets;
  std::vector<PriceIndex> prices;     // v2
  std::vector<Observation> observed;  // v2
  std::vector<Diagnostic> warnings;   // e.g. a repaired correlation matrix

  int years() const { return last_year - base_year; }  // T
};

// Reads, merges (`extends:`), applies `--set PATH=VALUE` overrides and
// validates. Throws InputError listing every problem found.
Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides = {});

// Same, from text (for tests); `path` is used in messages and for `extends:`.
Scenario load_scenario_text(const std::string& text, const std::string& path,
                            const std::vector<std::string>& overrides = {});

}  // namespace countysim
