// What-if verbs: compare two results files, sweep a grid of lever values and
// solve for the lever value at which a target reaches a probability. Sweeps
// and solves run every point with the same seed, so the points share their
// random numbers (common random numbers) and differences between points are
// the levers' doing, not noise.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "countysim/results_types.hpp"
#include "countysim/scenario.hpp"

namespace countysim {

// ---- compare ----------------------------------------------------------------

struct CompareRow {
  std::string id, label;
  double p_base = 0, p_alt = 0;
  double diff = 0;                // p_alt - p_base
  double std_error = 0;           // paired when the comparison is paired
  double unpaired_std_error = 0;  // sqrt(p1(1-p1)/N1 + p2(1-p2)/N2), always
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
};

// Reads both results files (InputError if either is not one).
Comparison compare_results(const std::string& base_path, const std::string& alt_path);
std::string format_comparison(const Comparison& c);
// One row per target (and "all"): id, label, p_base, p_alt, diff, std_error,
// unpaired_std_error, paired.
std::string format_comparison_csv(const Comparison& c);

// ---- sweep and solve ----------------------------------------------------------

// Throws UsageError for bad syntax.
SweepAxis parse_vary(const std::string& arg);
// "LO:HI" -> {LO, HI}; throws UsageError.
std::pair<double, double> parse_range(const std::string& arg);
// The `--set` string of one lever value ("path=value", value written so it
// reads back as the same double).
std::string lever_override(const std::string& path, double value);

struct WhatIfOptions {
  std::uint64_t draws = 0;  // 0: the scenario's
  std::uint64_t seed = 0;
  bool seed_given = false;             // false: the scenario's
  int threads = 0;                     // 0: OpenMP's default
  std::vector<std::string> overrides;  // --set, applied before the levers
};

// The scenario read once (with its `extends:` parents and --set overrides) and
// re-validated per point from its merged text, so points never re-read files.
class LeverModel {
 public:
  LeverModel(const std::string& path, const WhatIfOptions& options);
  const Scenario& base() const { return base_; }
  std::uint64_t draws() const { return draws_; }
  std::uint64_t seed() const { return seed_; }
  // Target counts with the levers set (pairs of path, value).
  struct Counts {
    std::vector<std::uint64_t> met;
    std::uint64_t all_met = 0;
  };
  Counts evaluate(const std::vector<std::pair<std::string, double>>& levers) const;

 private:
  Scenario base_;
  std::uint64_t draws_ = 0, seed_ = 0;
  int threads_ = 0;
};

SweepResult run_sweep(const std::string& scenario_path, const std::vector<SweepAxis>& axes,
                      const WhatIfOptions& options);
// Writes SWEEP.h5 (temporary name, renamed when complete); UsageError if it
// exists and !force.
void write_sweep(const SweepResult& r, const std::string& path, bool force,
                 const std::string& command_line);
std::string format_sweep(const SweepResult& r);

// Sweep files back: is_sweep_file() says whether `path` is one (false for a
// results file); read_sweep() throws InputError if it is not.
bool is_sweep_file(const std::string& path);
SweepResult read_sweep(const std::string& path);
// Charts (SVG text). One varied path: a line chart, one line per target.
// Two: a heat map of one target over the grid.
std::string sweep_line_chart(const SweepResult& r, bool zh);
std::string sweep_heat_map(const SweepResult& r, std::size_t target, bool zh);
// `countysim report SWEEP.h5`: the charts and an index.html in out_dir;
// returns the file names written.
std::vector<std::string> write_sweep_report(const std::string& path, const std::string& out_dir,
                                            const std::string& lang);

struct SolveOptions {
  std::string target;  // target id
  double probability = 0.8;
  std::string path;  // the lever
  double lo = 0, hi = 0;
  int steps = 14;  // bisection steps per crossing
};

struct SolveResult {
  std::string target, path;
  double goal = 0, lo = 0, hi = 0;
  double p_lo = 0, p_hi = 0;  // probability at the ends of the range
  std::uint64_t draws = 0, seed = 0;
  double std_error = 0;  // binomial standard error at the goal
  // none: no value in the range reaches the goal; all: every value does.
  enum class Outcome { found, none, all } outcome = Outcome::none;
  bool increasing = true;
  double value = 0;                             // where the estimated probability crosses the goal
  double interval_lo = 0, interval_hi = 0;      // crossings of goal -/+ 2 SE
  bool lo_clipped = false, hi_clipped = false;  // the interval reaches the range's end
  std::vector<std::pair<double, double>> evaluations;  // (lever value, probability), sorted
  std::vector<std::string> warnings;
};

SolveResult solve_lever(const std::string& scenario_path, const SolveOptions& solve,
                        const WhatIfOptions& options);
std::string format_solve(const SolveResult& r);

}  // namespace countysim
