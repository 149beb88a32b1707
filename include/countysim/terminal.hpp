// What the terminal shows: the target table and the headline quantiles, as
// aligned text (CJK characters count two columns) or CSV.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "countysim/metrics.hpp"
#include "countysim/results_types.hpp"

namespace countysim {

// Target table: id, label, year, condition, probability, standard error,
// 95% Wilson interval; then the probability that all targets are met together.
std::string format_target_table(const TargetTable& t, std::uint64_t draws);
// The same as CSV (UTF-8, header row, one row per target, then an "all" row).
std::string format_target_csv(const TargetTable& t);
// 5/50/95% quantiles of the headline metrics in the last year. `quantiles` is
// the file's own quantile coordinate: a level it lacks prints as "n/a"; a
// metric whose summary does not cover the last year is left out.
// `conditioned`: the summaries are weighted by the observations' likelihood.
std::string format_headline_quantiles(const std::vector<MetricSummary>& summaries,
                                      const std::vector<double>& quantiles, int last_year,
                                      int base_year, bool conditioned = false);

}  // namespace countysim
