// What a run produces, as plain values: coordinates, run information, metric
// summaries and the target table. Writers and readers (results_io.hpp), the
// terminal, the report and the what-if verbs share these; nothing here
// touches HDF5.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace countysim {

// Labels of every dimension. Years include the base year (index 0).
struct Coordinates {
  std::vector<int> year;             // B .. E
  std::vector<int> projection_year;  // B+1 .. E (per-year inputs)
  std::vector<std::string> cluster, cluster_label, cluster_group;
  std::vector<std::uint8_t> cluster_manufacturing;
  std::vector<std::string> project, project_label, project_cluster;
  std::vector<int> project_planned_start_month;
  std::vector<std::string> target, target_label;
  std::vector<double> quantile;  // 0.05 0.10 0.25 0.50 0.75 0.90 0.95
};

struct RunInfo {
  std::string countysim_version, schema, scenario_schema;
  std::string scenario_name, scenario_file, scenario_yaml;
  std::string created, command_line;
  std::uint64_t seed = 0, draws = 0;
  int base_year = 0, last_year = 0;
};

// Summary of one metric. Values are row-major over the dims.
struct MetricSummary {
  std::string metric, units, long_name, label_zh;
  std::vector<std::string> dims;   // e.g. {"year"} or {"year", "cluster"}
  std::vector<std::size_t> shape;  // their sizes
  std::vector<double> mean, sd;    // shape
  std::vector<double> quantiles;   // shape + [quantile]
};

struct TargetRow {
  std::string id, label, metric, op;  // op: "at_least" | "at_most"
  double threshold = 0;
  int year = 0;
  std::string cluster, group;  // "" when not applicable
  double group_threshold = 0;  // clusters_at_least only (else NaN in file)
  double probability = 0, std_error = 0, ci_low = 0, ci_high = 0;
  // v2, runs with observations: probability and std_error above are the
  // conditioned estimates, these the unconditioned ones (NaN without).
  double prior_probability = std::numeric_limits<double>::quiet_NaN();
  double prior_std_error = std::numeric_limits<double>::quiet_NaN();
};

// v2: one observed outturn (model.md "Conditioning on outturns") and where it
// fell: the share of unconditioned draws at or below it, the conditioned
// median of its metric, and the effective sample size it alone would leave.
struct ObservationRow {
  std::string id, metric;
  int year = 0;
  std::string cluster;  // cluster_output, else ""
  double value = 0, sd = 0;
  std::string source;
  double prior_quantile = 0;  // share of draws with x <= value (unweighted)
  double conditioned_median = std::numeric_limits<double>::quiet_NaN();
  double effective_sample_size = std::numeric_limits<double>::quiet_NaN();  // this one alone
};

struct TargetTable {
  std::vector<TargetRow> rows;
  double all_met_probability = 0, all_met_std_error = 0;
  // v2: true when the run was conditioned on observations (model.md); then
  // the prior_* fields hold the unconditioned estimates and the ESS is set.
  bool conditioned = false;
  double prior_all_met_probability = std::numeric_limits<double>::quiet_NaN();
  double prior_all_met_std_error = std::numeric_limits<double>::quiet_NaN();
  double effective_sample_size = std::numeric_limits<double>::quiet_NaN();
  std::vector<ObservationRow> observations;  // v2: empty unless conditioned
};

// A sweep: target probabilities over a grid of lever values (sweep files).
// One varied path and its values, e.g. from "land.supply_mu=300,500,700" or
// "finance.manufacturing_loan_share=0.1:0.3:0.05". Numbers only.
struct SweepAxis {
  std::string path;
  std::vector<double> values;
};
struct SweepResult {
  std::string scenario_path, scenario_name, scenario_yaml;
  std::uint64_t seed = 0, draws = 0;
  std::vector<SweepAxis> axes;
  std::vector<std::string> target_ids, target_labels;
  // Row-major over the axes (first axis slowest), then target.
  std::vector<double> probability, std_error;      // [points..., target]
  std::vector<double> all_met, all_met_std_error;  // [points...]
  double seconds = 0;
  std::size_t points() const;
};

// Index of quantile q in a file's own `quantile` coordinate, or nullopt when
// the file has no such quantile: readers must not assume the default list.
std::optional<std::size_t> find_quantile(const std::vector<double>& quantiles, double q);
// The same, throwing InputError (results) naming q when it is missing.
std::size_t quantile_index(const std::vector<double>& quantiles, double q, const std::string& file);

}  // namespace countysim
