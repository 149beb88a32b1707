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

// Column c's quantiles from its frozen windows (StreamingQuantiles::
// brackets): the order statistics type 7 needs are the windows' edges or
// among the values strictly inside, which are collected in one pass over
// the column's chunks, a batch of chunks at a time, so memory is the values
// inside, not the column. As StreamingQuantiles::quantiles computes them.
// False when a rank lies outside its window, the values inside would be
// more than `cap`, or the count found differs from the count kept (the
// caller then selects by radix, in two passes).
bool bracketed_quantiles(ResultsWriter& writer, std::size_t dataset, std::size_t column,
                         std::uint64_t draws, int threads, std::uint64_t cap,
                         const std::vector<StreamingQuantiles::Bracket>& br, double* out) {
  const auto& qs = summary_quantiles();
  const std::size_t nq = qs.size();
  // Where rank r lies in window b: -1 outside, 0 the low edge, 1 inside, 2 the high edge.
  auto where = [](const StreamingQuantiles::Bracket& b, std::uint64_t r) {
    if (r < b.below) return -1;
    r -= b.below;
    if (r < b.eq_lo) return 0;
    r -= b.eq_lo;
    if (r < b.inside) return 1;
    r -= b.inside;
    return r < b.eq_hi ? 2 : -1;
  };
  std::vector<std::uint8_t> need(nq, 0);
  for (std::size_t q = 0; q < nq; ++q) {
    const double h = (static_cast<double>(draws) - 1) * qs[q];
    const auto lo = static_cast<std::uint64_t>(std::floor(h));
    for (std::uint64_t r = lo; r <= lo + 1 && r < draws; ++r) {
      const int w = where(br[q], r);
      if (w < 0) return false;
      need[q] |= w == 1;
    }
  }
  std::uint64_t kept = 0;
  for (std::size_t q = 0; q < nq; ++q) kept += need[q] ? br[q].inside : 0;
  if (kept > cap) return false;
  std::vector<std::vector<float>> inner(nq);
  for (std::size_t q = 0; q < nq; ++q)
    if (need[q]) inner[q].reserve(br[q].inside);
  const std::uint64_t per_chunk = writer.chunk_draws();
  const std::uint64_t chunks = (draws + per_chunk - 1) / per_chunk;
  const std::uint64_t batch = std::max<std::uint64_t>(1, (std::uint64_t{1} << 20) / per_chunk);
  // Most values lie outside every window: one test against their span
  // first, then the windows one by one.
  float span_lo = std::numeric_limits<float>::infinity(), span_hi = -span_lo;
  for (std::size_t q = 0; q < nq; ++q)
    if (need[q]) {
      span_lo = std::min(span_lo, br[q].lo);
      span_hi = std::max(span_hi, br[q].hi);
    }
  std::vector<float> x;
  for (std::uint64_t k0 = 0; k0 < chunks; k0 += batch) {
    writer.read_columns(dataset, column, 1, k0, std::min(chunks, k0 + batch), x, threads);
    for (const float y : x) {
      if (!(span_lo < y && y < span_hi)) continue;
      for (std::size_t q = 0; q < nq; ++q)
        if (need[q] && br[q].lo < y && y < br[q].hi) inner[q].push_back(y);
    }
    for (std::size_t q = 0; q < nq; ++q)
      if (inner[q].size() > br[q].inside) return false;
  }
  for (std::size_t q = 0; q < nq; ++q) {
    if (need[q] && inner[q].size() != br[q].inside) return false;
    const StreamingQuantiles::Bracket& b = br[q];
    std::vector<float>& v = inner[q];
    // The value of rank r; past the first selection, only values above it.
    std::size_t from = 0;
    auto value = [&](std::uint64_t r) {
      switch (where(b, r)) {
        case 0:
          return b.lo;
        case 2:
          return b.hi;
        default: {
          const std::size_t i = static_cast<std::size_t>(r - b.below - b.eq_lo);
          const auto at = v.begin() + static_cast<std::ptrdiff_t>(i);
          std::nth_element(v.begin() + static_cast<std::ptrdiff_t>(std::min(from, i)), at, v.end());
          from = i + 1;
          return *at;
        }
      }
    };
    const double h = (static_cast<double>(draws) - 1) * qs[q];
    const auto lo = static_cast<std::uint64_t>(std::floor(h));
    const float a = value(lo);
    const float b2 = lo + 1 < draws ? value(lo + 1) : a;
    const double da = a, db = b2;
    out[q] = da + (h - static_cast<double>(lo)) * (db - da);
  }
  return true;
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
    std::vector<std::size_t> wanted;
    for (std::size_t c : wanted_by_dataset[j]) {
      if (cancel && cancel->cancelled()) throw Interrupted();
      const auto& b = brackets_by_dataset[j][c];
      if (b.empty()) {
        wanted.push_back(c);
        continue;
      }
      // A frozen column (no NaN): its windows, or if one of its order
      // statistics left them, radix selection; neither holds the column.
      // At most 4 Mi values inside (16 MiB), or summary_read_floats if set.
      const std::uint64_t cap = bk.read_floats ? bk.read_floats : std::uint64_t{1} << 22;
      if (!bracketed_quantiles(writer, k, c, draws, bk.threads, cap, b,
                               &ms.quantiles[c * qs.size()])) {
        const std::uint64_t per_chunk = writer.chunk_draws();
        const std::uint64_t chunks = (draws + per_chunk - 1) / per_chunk;
        const std::uint64_t batch = std::max<std::uint64_t>(1, (1u << 20) / per_chunk);
        std::vector<float> x;
        const auto q = quantiles_type7_radix(draws, qs, [&](const ValueSink& sink) {
          for (std::uint64_t k0 = 0; k0 < chunks; k0 += batch) {
            writer.read_columns(k, c, 1, k0, std::min(chunks, k0 + batch), x, bk.threads);
            sink(x.data(), x.size());
          }
        });
        std::copy(q.begin(), q.end(), ms.quantiles.begin() + c * qs.size());
      }
      ++counts.columns_bracketed;
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
