// A run's summaries, once its draws are made: mean and sd of every summary
// column from the float64 moments merged in draw order; quantiles (exact
// type-7 order statistics of the stored values) from the windows kept while
// drawing (streaming_quantiles.hpp), and for the columns those could not
// settle, or every column of a conditioned run, from the file read back a
// few columns at a time. Each metric's summary is written to the file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "countysim/cancel.hpp"
#include "countysim/engine.hpp"
#include "countysim/results_io.hpp"
#include "countysim/results_layout.hpp"
#include "countysim/stats.hpp"
#include "countysim/streaming_quantiles.hpp"

namespace countysim {

struct SummaryReading {
  std::uint64_t draws = 0;      // draws in the file
  int threads = 1;              // for inflating and selecting
  std::size_t read_floats = 0;  // RunOptions::summary_read_floats (0: about 64 MiB)
};

// With `weights` (a conditioned run) mean, sd and quantiles are weighted,
// from the stored values read back, each column summed in draw order.
// `streamed` (unconditioned runs) is released once read. Counts the columns
// streamed and read in `counts`.
std::vector<MetricSummary> summarise(const ResultsLayout& layout, ResultsWriter& writer,
                                     const std::vector<Moments>& moments, const SummaryReading& bk,
                                     const CancelToken* cancel, RunSummary& counts,
                                     const std::vector<double>* weights = nullptr,
                                     StreamingQuantiles* streamed = nullptr);

}  // namespace countysim
