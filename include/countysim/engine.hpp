// The parallel draw loop: fixed blocks of draws computed by OpenMP threads
// (schedule(dynamic)), compressed in the workers, written by one writer thread
// that owns the HDF5 file, and reduced in block order so that every bit of
// the result is independent of the thread count and the block size.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "countysim/cancel.hpp"
#include "countysim/plan.hpp"
#include "countysim/results_io.hpp"
#include "countysim/stats.hpp"

namespace countysim {

// Draws per granule: the unit of the mean/variance reduction. Blocks are whole
// granules, so summaries do not depend on the block size.
inline constexpr std::uint64_t granule_draws = 1024;
// Uncompressed bytes of one block's rows at most (whole granules, at least
// one): peak memory is about 35 MB + (threads + 3) x max(this, 1024 draws).
inline constexpr std::uint64_t block_bytes_cap = 64ull << 20;

struct RunOptions {
  std::uint64_t draws = 0;  // 0: the scenario's
  std::uint64_t seed = 0;
  bool seed_given = false;           // false: the scenario's
  int threads = 0;                   // 0: OpenMP's default
  std::uint64_t block_draws = 8192;  // rounded up to whole granules
  std::string output;                // final path of the results file
  bool force = false;                // replace an existing output
  bool progress = false;             // progress bar on stderr
  std::string command_line;
  int compression_level = 1;
  const CancelToken* cancel = nullptr;  // may be null; checked between blocks
  // --until-se: > 0 draws whole blocks, in draw order, until every target's
  // standard error is at most until_se or max_draws is reached; the run is
  // then exactly the run with draws = the N it stopped at (draws is ignored).
  // With observations the standard errors are the conditioned ones.
  double until_se = 0;
  std::uint64_t max_draws = 1000000;
  // Floats of stored columns the summaries read at once (0: 16 Mi, 64 MiB).
  // Datasets that need more than three such reads get their quantiles by
  // selection over whole-row passes instead (same bits). Also the most
  // values a frozen column's windows may hold when read back (0: 4 Mi);
  // past it, radix selection in two passes. Tests set it small.
  std::size_t summary_read_floats = 0;
  // Unconditioned runs take the summaries' quantiles from windows kept while
  // drawing (streaming_quantiles.hpp) and read back only the columns those
  // could not settle; false reads every column back. The same bits either way.
  bool stream_quantiles = true;
  // Bytes of values those windows may hold (0: 24 MiB); past it the largest
  // columns' windows are frozen (counted, not kept). Tests set it small.
  std::size_t stream_budget_bytes = 0;
};

struct RunSummary {
  std::uint64_t draws = 0, seed = 0;
  bool reached_max_draws = false;  // --until-se stopped at max_draws, not at the target
  TargetTable targets;
  std::vector<MetricSummary> summaries;
  double seconds_simulation = 0, seconds_summary = 0;
  std::uint64_t bytes_written = 0;
  // Summary columns whose quantiles came from the windows kept while drawing,
  // and those read back from the file (constant columns are in neither).
  std::size_t columns_streamed = 0, columns_read = 0;
  // Of columns_read, those read in one pass keeping only the values inside
  // their frozen windows (StreamingQuantiles::brackets), not whole.
  std::size_t columns_bracketed = 0;
};

// Runs the scenario and writes the results file (temporary name, renamed when
// complete). Throws UsageError if the output exists and !force, Interrupted if
// options.cancel is set, RunError on failure (the first failing block's error,
// whatever the thread count); never leaves a partial file behind.
RunSummary run_to_file(const Plan& plan, const RunOptions& options);

// Only the target counts, no file: for sweeps and solves. Same streams as
// run_to_file, so the probabilities agree bit for bit (conditioned ones too,
// when the scenario has observations). Throws Interrupted when `cancel` is set.
struct TargetCounts {
  std::uint64_t draws = 0;
  std::vector<std::uint64_t> met;  // [target]
  std::uint64_t all_met = 0;
  // v2, scenarios with observations: sums of w_d = exp(ℓ_d - max ℓ) and of
  // w_d² over all draws and over the draws meeting each target (and all of
  // them), in draw order. make_target_table then gives the conditioned
  // estimates and keeps the counts above as the prior ones.
  bool weighted = false;
  double sum_w = 0, sum_w2 = 0;
  std::vector<double> met_w, met_w2;  // [target]
  double all_met_w = 0, all_met_w2 = 0;
};
TargetCounts count_targets(const Plan& plan, std::uint64_t seed, std::uint64_t draws, int threads,
                           const CancelToken* cancel = nullptr);

// The met flags of every draw, no file: for explain's paired counterfactuals.
// Same streams as count_targets (so the counts agree bit for bit) and the same
// bits for any thread count. Throws Interrupted when `cancel` is set.
struct TargetFlags {
  std::uint64_t draws = 0;
  std::size_t targets = 0;
  std::vector<std::uint8_t> met;      // [draw * targets + target], 0 or 1
  std::vector<std::uint8_t> all_met;  // [draw]
  std::vector<double> log_weight;     // [draw] ℓ_d; empty without observations
};
TargetFlags target_flags(const Plan& plan, std::uint64_t seed, std::uint64_t draws, int threads,
                         const CancelToken* cancel = nullptr);

// The counts of a set of flags, weighted (conditioned) when they carry log
// weights; `weights` (normalised_weights of them) when already computed.
TargetCounts counts_from_flags(const TargetFlags& flags,
                               const std::vector<double>* weights = nullptr);

// The probability sweeps and solves report for target k (k == targets: all
// met together): conditioned when the counts are weighted, else the share.
Proportion target_estimate(const TargetCounts& counts, std::size_t k);

// Prior estimates from the counts; with weighted counts also the conditioned
// ones (which then fill probability, std_error, ci_*), conditioned = true and
// the effective sample size. Observations rows are the caller's.
TargetTable make_target_table(const Scenario& scenario, const TargetCounts& counts);

}  // namespace countysim
