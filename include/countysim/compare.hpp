// `countysim compare`: two results files side by side. Targets are matched by
// id; when both runs share seed and draw count the differences are taken draw
// by draw (common random numbers), which makes their standard errors small.
//
// v2: runs conditioned on observations compare their self-normalised
// estimates; paired, the standard error of the difference is the delta-method
// one, sqrt(Σ_d (u_alt,d - u_base,d)²) with influence u_d = w_d (1_d - p) / Σ w
// (w_d = 1 for an unconditioned run, which gives (1_d - p) / N).
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace countysim {

struct CompareRow {
  std::string id, label;
  double p_base = 0, p_alt = 0;
  double diff = 0;                // p_alt - p_base
  double std_error = 0;           // paired when the comparison is paired
  double unpaired_std_error = 0;  // sqrt(p1(1-p1)/N1 + p2(1-p2)/N2), always
  // v2: the unconditioned probabilities (= p_* for an unconditioned run).
  double prior_base = std::numeric_limits<double>::quiet_NaN();
  double prior_alt = std::numeric_limits<double>::quiet_NaN();
};

// 5/50/95% of a headline metric in each file's last year.
struct QuantileShift {
  std::string metric, units;
  int year_base = 0, year_alt = 0;
  double base[3] = {0, 0, 0}, alt[3] = {0, 0, 0};
};

struct Comparison {
  std::string base_path, alt_path, base_name, alt_name;
  std::uint64_t base_seed = 0, alt_seed = 0, base_draws = 0, alt_draws = 0;
  bool paired = false;           // same seed and draw count: differences taken draw by draw
  std::string unpaired_reason;   // why not, when not
  std::vector<CompareRow> rows;  // targets in both files, in the base file's order
  CompareRow all_met;            // paired only when both files have the same targets
  bool all_met_paired = false;
  std::vector<std::string> only_base, only_alt;  // target ids in one file only
  std::vector<QuantileShift> shifts;
  // v2: which runs are conditioned on observations, and their ESS (NaN if not).
  bool base_conditioned = false, alt_conditioned = false;
  double base_ess = std::numeric_limits<double>::quiet_NaN();
  double alt_ess = std::numeric_limits<double>::quiet_NaN();
  bool conditioned() const { return base_conditioned || alt_conditioned; }
};

// Reads both results files (InputError if either is not one).
Comparison compare_results(const std::string& base_path, const std::string& alt_path);
std::string format_comparison(const Comparison& c);
// One row per target (and "all"): id, label, p_base, p_alt, diff, std_error,
// unpaired_std_error, paired; when either run is conditioned also
// prior_base, prior_alt (p_base and p_alt are then the conditioned ones).
std::string format_comparison_csv(const Comparison& c);

}  // namespace countysim
