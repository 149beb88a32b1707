// `explain`: which inputs and which projects decide each target (issue 10).
// Input importance comes from the draws and inputs a results file stores
// (rank correlation, contribution to variance, a first-order variance-based
// index with its standard error, Monte-Carlo filtering); project criticality
// and lever effects from paired counterfactual runs with common random numbers
// of the merged scenario the file carries. Estimators: docs/explain.md.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "countysim/cancel.hpp"
#include "countysim/csv.hpp"
#include "countysim/errors.hpp"

namespace countysim {

// ---- Estimators (weighted; pass an empty weight vector for equal weights) ----

// Mid-ranks as a weighted empirical CDF: (weight below + half the weight tied)
// / total weight. Ties share a rank. With equal weights this is an affine map
// of the usual average ranks, so Pearson on it is Spearman's rho.
std::vector<double> weighted_ranks(const std::vector<double>& x, const std::vector<double>& w);
// Weighted Pearson correlation; 0 when either side has no spread.
double weighted_correlation(const std::vector<double>& x, const std::vector<double>& y,
                            const std::vector<double>& w);

struct FirstOrder {
  double index = 0, std_error = 0;
};
// First-order index S = Var(E[Y|X]) / Var(Y) by the conditional-means
// (binning) estimator: `bin[i]` is draw i's bin of X (equal-weight bins of
// X's rank, see rank_bins), bias-corrected for the spread that B bins of
// noise show by chance; the standard error from `batches` interleaved
// sub-samples (draw i in batch i mod batches). docs/explain.md.
FirstOrder first_order_index(const std::vector<int>& bin, int bins, const std::vector<double>& y,
                             const std::vector<double>& w, int batches = 20);
// Bins 0..bins-1 of equal weight from weighted ranks.
std::vector<int> rank_bins(const std::vector<double>& ranks, int bins);
// The bin count explain uses for n draws: clamp(round(sqrt(n) / 4), 4, 50).
int default_bins(std::size_t n);
// Kolmogorov-Smirnov distance between the weighted distributions of x in the
// draws with flag 1 and with flag 0 (0 when either set is empty).
double ks_distance(const std::vector<double>& x, const std::vector<std::uint8_t>& flag,
                   const std::vector<double>& w);

// ---- Results ----

struct IndexSet {
  double spearman = 0, contribution = 0;  // contribution: rho^2 / sum of rho^2 over keys
  FirstOrder first_order;
};

struct InputImportance {
  std::string key;  // input key ("clusters.bamboo.growth@2023") or path for a group
  bool group = false;
  IndexSet value, met;
  double ks = 0;                             // met vs not met
  double p_met_low = 0, p_met_low_se = 0;    // P(met | input in its lowest tenth)
  double p_met_high = 0, p_met_high_se = 0;  // ... in its highest tenth
};

struct TargetImportance {
  std::string target, label;
  double probability = 0;
  std::vector<InputImportance> keys;    // every random input key, file order
  std::vector<InputImportance> groups;  // per-year inputs grouped by path
};

// A counterfactual probability and its paired difference from the base.
struct Counterfactual {
  double probability = 0, difference = 0, std_error = 0, unpaired_std_error = 0;
};

struct ProjectCriticality {
  std::string project, label;
  std::vector<Counterfactual> fail, on_time, late;  // [target]
};

struct LeverEffect {
  std::string path;
  double mean_value = 0;  // mean of the lever (over its years)
  double step = 0;        // the step in the lever's units: 10% of mean_value
  bool evaluated = false;
  std::string skipped;                 // why not, when !evaluated
  std::vector<Counterfactual> change;  // [target], per step
};

struct ExplainOptions {
  std::string results;               // OUT.h5
  std::vector<std::string> targets;  // --target; empty: all
  std::uint64_t draws = 20000;       // counterfactual draws (at most the run's)
  int threads = 0;                   // 0: OpenMP's default
  bool counterfactuals = true;
  const CancelToken* cancel = nullptr;
};

struct ExplainResult {
  std::string results, scenario_name;
  std::uint64_t draws = 0, seed = 0, counterfactual_draws = 0;
  bool weighted = false;
  std::vector<TargetImportance> targets;  // the chosen targets
  std::vector<double> base_probability;   // [target] at counterfactual_draws
  std::vector<ProjectCriticality> projects;
  std::vector<LeverEffect> levers;
  double seconds_importance = 0, seconds_counterfactuals = 0;
};

// Throws InputError (results) for a file that is not a results file or has no
// inputs, UsageError for an unknown --target id or --draws 0, Interrupted.
ExplainResult explain(const ExplainOptions& options);

// Input importance only, from the arrays (for tests and explain itself):
// inputs[k] is a [draw] column named keys[k]; `group_of[k]` names its path
// group ("" when none); value and met are [draw] of one target.
TargetImportance importance_for_target(const std::vector<std::string>& keys,
                                       const std::vector<std::string>& group_of,
                                       const std::vector<std::vector<double>>& inputs,
                                       const std::vector<double>& value,
                                       const std::vector<std::uint8_t>& met,
                                       const std::vector<double>& weights, int threads = 0);

// The terminal table: per target the `top` inputs by first-order index of the
// metric value, then the projects by the largest swing, then the levers.
std::string format_explain_table(const ExplainResult& r, std::size_t top = 6);
// CSV tables: inputs (one row per target and key or group), projects, levers.
std::string explain_inputs_csv(const ExplainResult& r, CsvDialect dialect);
std::string explain_projects_csv(const ExplainResult& r, CsvDialect dialect);
std::string explain_levers_csv(const ExplainResult& r, CsvDialect dialect);
// Writes explain-inputs.csv, explain-projects.csv, explain-levers.csv into
// `dir` (created when missing). RunError if it cannot.
std::vector<std::string> write_explain_csv(const ExplainResult& r, const std::string& dir,
                                           CsvDialect dialect);

// The schema id of explain files.
inline constexpr const char* explain_schema = "countysim-explain/1";
// explain.h5: every index above over dimension scales target, input, output
// (value, met), project, case, lever; published atomically (output_file).
// UsageError if `path` exists and !force.
void write_explain_h5(const ExplainResult& r, const std::string& path, bool force);
// Reads an explain.h5 back (importance and projects; not the levers), for the
// report's charts. InputError (results) for a file that is not one.
ExplainResult read_explain_h5(const std::string& path);

}  // namespace countysim
