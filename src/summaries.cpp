// A run's /summary groups (summaries.hpp): mean and sd from the moments,
// quantiles from the windows kept while drawing or from the file read back.
#include "countysim/summaries.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
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

using Bracket = StreamingQuantiles::Bracket;

// Column c's quantiles by radix selection (quantiles_type7_radix) over its
// chunks, read a batch of about 1 Mi values at a time.
void radix_quantiles(ResultsWriter& writer, std::size_t dataset, std::size_t c, std::uint64_t draws,
                     int threads, double* out) {
  const std::uint64_t per_chunk = writer.chunk_draws();
  const std::uint64_t chunks = (draws + per_chunk - 1) / per_chunk;
  const std::uint64_t batch = std::max<std::uint64_t>(1, (std::uint64_t{1} << 20) / per_chunk);
  std::vector<float> x;
  const auto q = quantiles_type7_radix(draws, summary_quantiles(), [&](const ValueSink& sink) {
    for (std::uint64_t k0 = 0; k0 < chunks; k0 += batch) {
      const std::uint64_t k1 = std::min(chunks, k0 + batch);
      x.resize(std::min(draws, k1 * per_chunk) - k0 * per_chunk);
      writer.visit_columns(dataset, {c}, k0, k1, threads,
                           [&](std::size_t, std::uint64_t k, const float* v, std::size_t n) {
                             std::copy_n(v, n, x.data() + (k - k0) * per_chunk);
                           });
      sink(x.data(), x.size());
    }
  });
  std::copy(q.begin(), q.end(), out);
}

// The quantiles of a dataset's frozen columns `cols` (brackets br[i], no
// NaN), into quantiles[c * nq ...]. Each is read back a chunk at a time,
// keeping only the values strictly inside the windows that hold an order
// statistic (StreamingQuantiles::keep_inside), so memory is those values,
// not the column; a group of columns at once (at most 1 Mi such values
// together, or `cap`), the chunks shared among the threads and the values
// found put together in chunk order, so the same whatever the threads. A
// column where an order statistic left its window, or that would keep more
// than `cap` values, takes radix selection (two passes) instead; one whose
// order statistics all sit on its windows' edges is not read.
void frozen_quantiles(ResultsWriter& writer, std::size_t dataset,
                      const std::vector<std::size_t>& cols,
                      const std::vector<std::vector<Bracket>>& br, std::uint64_t draws, int threads,
                      std::uint64_t cap, const CancelToken* cancel,
                      std::vector<double>& quantiles) {
  const auto& qs = summary_quantiles();
  const std::size_t nq = qs.size();
  const std::uint64_t per_chunk = writer.chunk_draws();
  const std::uint64_t chunks = (draws + per_chunk - 1) / per_chunk;
  std::vector<std::uint8_t> need(cols.size() * nq, 0);
  std::vector<std::uint64_t> kept(cols.size(), 0);
  std::vector<std::size_t> by_radix, filtered;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    const bool in = StreamingQuantiles::bracket_needs(draws, qs, br[i].data(), &need[i * nq]);
    for (std::size_t q = 0; in && q < nq; ++q) kept[i] += need[i * nq + q] ? br[i][q].inside : 0;
    std::vector<std::vector<float>> none(nq);
    if (in && kept[i] == 0 &&  // every order statistic an edge: nothing to read
        StreamingQuantiles::bracket_quantiles(draws, qs, br[i].data(), none.data(),
                                              &quantiles[cols[i] * nq]))
      continue;
    (in && kept[i] != 0 && kept[i] <= cap ? filtered : by_radix).push_back(i);
  }
  // Groups of at most 1 Mi values kept (or cap), one column at least.
  const std::uint64_t group_cap = std::min<std::uint64_t>(cap, std::uint64_t{1} << 20);
  for (std::size_t g0 = 0, g1 = 0; g0 < filtered.size(); g0 = g1) {
    if (cancel && cancel->cancelled()) throw Interrupted();
    std::uint64_t total = kept[filtered[g0]];
    for (g1 = g0 + 1; g1 < filtered.size() && total + kept[filtered[g1]] <= group_cap; ++g1)
      total += kept[filtered[g1]];
    const std::size_t ng = g1 - g0;
    std::vector<std::size_t> group(ng);
    for (std::size_t j = 0; j < ng; ++j) group[j] = cols[filtered[g0 + j]];
    // Each chunk's values found, window after window: [column][chunk].
    std::vector<std::vector<float>> found(ng * chunks);
    std::vector<std::size_t> ends(ng * chunks * nq, 0);
    writer.visit_columns(dataset, group, 0, chunks, threads,
                         [&](std::size_t j, std::uint64_t k, const float* x, std::size_t n) {
                           const std::size_t i = filtered[g0 + j], job = j * chunks + k;
                           StreamingQuantiles::keep_inside(x, n, br[i].data(), &need[i * nq], nq,
                                                           found[job], &ends[job * nq]);
                         });
    std::vector<std::uint8_t> failed(ng, 0);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (std::size_t j = 0; j < ng; ++j) {
      const std::size_t i = filtered[g0 + j];
      std::vector<std::vector<float>> inside(nq);
      for (std::size_t q = 0; q < nq; ++q) {
        if (!need[i * nq + q]) continue;
        inside[q].reserve(br[i][q].inside);
        for (std::uint64_t k = 0; k < chunks; ++k) {
          const std::size_t job = j * chunks + k;
          const float* v = found[job].data();
          inside[q].insert(inside[q].end(), v + (q ? ends[job * nq + q - 1] : 0),
                           v + ends[job * nq + q]);
        }
      }
      for (std::uint64_t k = 0; k < chunks; ++k) std::vector<float>().swap(found[j * chunks + k]);
      if (!StreamingQuantiles::bracket_quantiles(draws, qs, br[i].data(), inside.data(),
                                                 &quantiles[cols[i] * nq]))
        failed[j] = 1;  // counts that do not match the file: select by radix
    }
    for (std::size_t j = 0; j < ng; ++j)
      if (failed[j]) by_radix.push_back(filtered[g0 + j]);
  }
  for (const std::size_t i : by_radix) {
    if (cancel && cancel->cancelled()) throw Interrupted();
    radix_quantiles(writer, dataset, cols[i], draws, threads, &quantiles[cols[i] * nq]);
  }
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
  // Frozen columns' windows, taken before the windows are released.
  std::vector<std::vector<std::vector<StreamingQuantiles::Bracket>>> brackets_by_dataset;
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
    std::vector<std::vector<StreamingQuantiles::Bracket>> brackets(n);
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
        std::vector<StreamingQuantiles::Bracket> b(qs.size());
        if (!weights && streamed && streamed->brackets(col + c, b.data()))
          brackets[c] = std::move(b);
        wanted.push_back(c);
      }
    }
    col += n;
    out.push_back(std::move(ms));
    wanted_by_dataset.push_back(std::move(wanted));
    brackets_by_dataset.push_back(std::move(brackets));
  }
  if (streamed) streamed->release();
  give_back_free_memory();
  std::vector<float> columns;
  for (std::size_t j = 0; j < out.size(); ++j) {
    const std::size_t k = layout.summarised[j];
    MetricSummary& ms = out[j];
    // Frozen columns (no NaN) first: their windows, or radix selection for
    // those whose order statistics left them; neither holds the column. At
    // most 4 Mi values inside a column's windows (16 MiB), or
    // summary_read_floats if set.
    std::vector<std::size_t> wanted, frozen;
    std::vector<std::vector<StreamingQuantiles::Bracket>> frozen_br;
    for (std::size_t c : wanted_by_dataset[j]) {
      auto& b = brackets_by_dataset[j][c];
      if (b.empty()) {
        wanted.push_back(c);
      } else {
        frozen.push_back(c);
        frozen_br.push_back(std::move(b));
      }
    }
    if (!frozen.empty()) {
      const std::uint64_t cap = bk.read_floats ? bk.read_floats : std::uint64_t{1} << 22;
      frozen_quantiles(writer, k, frozen, frozen_br, draws, bk.threads, cap, cancel, ms.quantiles);
      counts.columns_bracketed += frozen.size();
    }
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
