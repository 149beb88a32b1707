// A run's /summary groups (summaries.hpp): mean and sd from the moments,
// quantiles from the windows kept while drawing or from the file read back.
#include "countysim/summaries.hpp"

#include <algorithm>
#include <cmath>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "countysim/conditioning.hpp"
#include "countysim/stats.hpp"

namespace countysim {

namespace {

// Hands memory freed by the draw loop (the workers' blocks, the chunk pool,
// the windows) back to the system, so the summaries' reading adds to what
// the run holds then rather than to its peak (glibc keeps freed blocks in
// per-thread arenas otherwise).
void give_back_free_memory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

}  // namespace

std::vector<MetricSummary> summarise(const ResultsLayout& layout, ResultsWriter& writer,
                                     const std::vector<Moments>& moments, const SummaryReading& bk,
                                     const CancelToken* cancel, RunSummary& counts,
                                     const std::vector<double>* weights,
                                     StreamingQuantiles* streamed) {
  const auto& qs = summary_quantiles();
  const std::uint64_t draws = bk.draws;
  std::vector<MetricSummary> out;
  std::size_t col = 0;
  // Columns are read a few at a time (each column's chunks alone), as many
  // as fit in about 64 MiB, at least one: memory stays flat in draws. Fewer
  // columns than threads share out each column's quantiles instead.
  const std::size_t budget_floats =
      std::max<std::size_t>(draws, bk.read_floats ? bk.read_floats : (64u << 20) / sizeof(float));
  // First what needs no reading (constant columns, the streamed windows),
  // then, with the windows' memory given back, the columns to read.
  std::vector<std::vector<std::size_t>> wanted_by_dataset;
  for (std::size_t k : layout.summarised) {
    const DatasetSpec& s = layout.specs[k];
    const std::size_t n = s.row_elems();
    MetricSummary ms;
    ms.metric = s.name;
    ms.units = s.units;
    ms.long_name = s.long_name;
    ms.label_zh = s.label_zh;
    ms.dims = s.dims;
    ms.shape = s.row_shape;
    ms.mean.resize(n);
    ms.sd.resize(n);
    ms.quantiles.resize(n * qs.size());
    for (std::size_t i = 0; i < n; ++i) {
      ms.mean[i] = moments[col + i].mean;
      ms.sd[i] = moments[col + i].sd();
    }
    // A column whose every value is the same (m2 is then exactly 0 and the
    // mean exactly that value, e.g. the base year) has it as every quantile;
    // it is not read back. Weighted summaries read every column.
    std::vector<std::size_t> wanted;
    for (std::size_t c = 0; c < n; ++c) {
      const Moments& mo = moments[col + c];
      if (!weights && mo.m2 == 0 && mo.n == static_cast<double>(draws)) {
        const double v = static_cast<float>(mo.mean);
        std::fill_n(ms.quantiles.begin() + c * qs.size(), qs.size(), v);
      } else if (!weights && streamed &&
                 streamed->quantiles(col + c, &ms.quantiles[c * qs.size()])) {
        ++counts.columns_streamed;
      } else {
        ++counts.columns_read;
        wanted.push_back(c);
      }
    }
    col += n;
    out.push_back(std::move(ms));
    wanted_by_dataset.push_back(std::move(wanted));
  }
  if (streamed) streamed->release();
  give_back_free_memory();
  std::vector<float> columns;
  for (std::size_t j = 0; j < out.size(); ++j) {
    const std::size_t k = layout.summarised[j];
    MetricSummary& ms = out[j];
    const std::vector<std::size_t>& wanted = wanted_by_dataset[j];
    const std::size_t per_read = std::max<std::size_t>(1, budget_floats / draws);
    for (std::size_t i0 = 0; i0 < wanted.size();) {
      if (cancel && cancel->cancelled()) throw Interrupted();
      // A run of consecutive wanted columns, at most per_read of them.
      std::size_t i1 = i0 + 1;
      while (i1 < wanted.size() && i1 - i0 < per_read && wanted[i1] == wanted[i1 - 1] + 1) ++i1;
      const std::size_t c0 = wanted[i0], nc = i1 - i0;
      writer.read_columns(k, c0, nc, columns, bk.threads);
      const int outer = nc >= static_cast<std::size_t>(bk.threads) ? bk.threads : 1;
      const int inner = outer == 1 ? bk.threads : 1;
#pragma omp parallel for schedule(dynamic, 1) num_threads(outer)
      for (std::size_t c = 0; c < nc; ++c) {
        float* x = columns.data() + c * draws;
        if (weights) {
          const WeightedMoments wm = weighted_moments(x, weights->data(), draws);
          ms.mean[c0 + c] = wm.mean;
          ms.sd[c0 + c] = wm.sd;
          auto q = weighted_quantiles(x, weights->data(), draws, qs);
          std::copy(q.begin(), q.end(), ms.quantiles.begin() + (c0 + c) * qs.size());
        } else {
          auto q = quantiles_type7(x, draws, qs, inner);
          std::copy(q.begin(), q.end(), ms.quantiles.begin() + (c0 + c) * qs.size());
        }
      }
      i0 = i1;
    }
    writer.write_summary(ms);
  }
  return out;
}

}  // namespace countysim
