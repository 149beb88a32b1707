#include "countysim/quantile_select.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "countysim/stats.hpp"

namespace countysim {

namespace {

constexpr std::uint64_t kBins = 4096;
// A range with at most this many values is kept as values in the next pass.
constexpr std::uint64_t kCollect = 1u << 16;

float float_of(std::uint32_t k) {
  const std::uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

// First key offset of bin b when `width` keys are split into kBins bins by
// bin(k) = floor(k * kBins / width).
std::uint64_t bin_start(std::uint64_t b, std::uint64_t width) {
  return (b * width + kBins - 1) / kBins;
}

// Widths are powers of two (2^32, then 2^20, 2^8), so a key's bin is a shift.
int bin_shift(std::uint64_t width) {
  int log2w = 0;
  while ((std::uint64_t{1} << log2w) < width) ++log2w;
  return log2w - 12;  // kBins = 2^12
}

// Bits of the 65,536 16-bit key prefixes that meet one of `ranges`.
template <class Ranges>
void mark_prefixes(const Ranges& ranges, std::vector<std::uint64_t>& mask) {
  mask.assign(1024, 0);
  for (const auto& r : ranges)
    for (std::uint32_t p = r.lo >> 16; p <= (r.hi >> 16); ++p) {
      mask[p >> 6] |= std::uint64_t{1} << (p & 63);
      if (p == 0xffffu) break;
    }
}

}  // namespace

ColumnQuantiles::ColumnQuantiles(std::size_t columns, std::uint64_t n,
                                 const std::vector<double>& qs)
    : n_(n), qs_(qs), cols_(columns) {
  for (double q : qs) {
    const double h = (static_cast<double>(n) - 1) * q;
    const auto lo = static_cast<std::uint64_t>(std::floor(h));
    ranks_.push_back(lo);
    if (lo + 1 < n) ranks_.push_back(lo + 1);
  }
  std::sort(ranks_.begin(), ranks_.end());
  ranks_.erase(std::unique(ranks_.begin(), ranks_.end()), ranks_.end());
  for (Column& c : cols_) {
    c.stat.assign(ranks_.size(), 0.0f);
    if (n == 0) continue;
    Range r;
    r.lo = 0;
    r.hi = std::numeric_limits<std::uint32_t>::max();
    r.counts.assign(kBins, 0);
    r.shift = bin_shift(std::uint64_t{r.hi} - r.lo + 1);
    for (std::size_t i = 0; i < ranks_.size(); ++i) r.ranks.push_back(i);
    c.ranges.push_back(std::move(r));
    mark_prefixes(c.ranges, c.prefixes);
  }
}

bool ColumnQuantiles::done() const {
  for (const Column& c : cols_)
    if (!c.nan && !c.ranges.empty()) return false;
  return true;
}

void ColumnQuantiles::add(std::size_t ci, const float* x, std::size_t count, std::size_t stride) {
  Column& c = cols_[ci];
  if (c.nan || c.ranges.empty()) return;
  std::vector<Range>& rs = c.ranges;
  const std::uint32_t first = rs.front().lo, last = rs.back().hi;
  for (std::size_t i = 0; i < count; ++i) {
    const float v = x[i * stride];
    if (std::isnan(v)) {
      c.nan = true;
      return;
    }
    const std::uint32_t k = float_order_key(v);
    if (k < first || k > last) continue;
    if (!((c.prefixes[k >> 22] >> ((k >> 16) & 63)) & 1)) continue;
    // The range whose lo is the last one at or below k.
    auto it = std::upper_bound(rs.begin(), rs.end(), k,
                               [](std::uint32_t key, const Range& r) { return key < r.lo; });
    Range& r = *(it - 1);
    if (k > r.hi) continue;
    if (r.collect) {
      r.values.push_back(v == 0 ? 0.0f : v);
    } else {
      const std::uint64_t off = std::uint64_t{k} - r.lo;
      ++r.counts[r.shift >= 0 ? off >> r.shift : off << -r.shift];
    }
  }
}

void ColumnQuantiles::end_pass(std::size_t ci) {
  Column& c = cols_[ci];
  if (c.nan) {
    c.ranges.clear();
    return;
  }
  std::vector<Range> next;
  for (Range& r : c.ranges) {
    if (r.collect) {
      std::sort(r.values.begin(), r.values.end());
      for (std::size_t j : r.ranks) c.stat[j] = r.values[ranks_[j] - r.before];
      continue;
    }
    const std::uint64_t width = std::uint64_t{r.hi} - r.lo + 1;
    std::uint64_t below = r.before;  // values below the current bin
    std::size_t j = 0;
    for (std::uint64_t b = 0; b < kBins && j < r.ranks.size(); ++b) {
      const std::uint64_t cnt = r.counts[b];
      if (cnt == 0 || ranks_[r.ranks[j]] >= below + cnt) {
        below += cnt;
        continue;
      }
      Range sub;
      sub.lo = static_cast<std::uint32_t>(r.lo + bin_start(b, width));
      sub.hi = static_cast<std::uint32_t>(r.lo + bin_start(b + 1, width) - 1);
      sub.before = below;
      while (j < r.ranks.size() && ranks_[r.ranks[j]] < below + cnt)
        sub.ranks.push_back(r.ranks[j++]);
      if (sub.lo == sub.hi) {
        for (std::size_t k : sub.ranks) c.stat[k] = float_of(sub.lo);
      } else {
        sub.collect = cnt <= kCollect;
        if (sub.collect)
          sub.values.reserve(cnt);
        else
          sub.counts.assign(kBins, 0);
        sub.shift = bin_shift(std::uint64_t{sub.hi} - sub.lo + 1);
        next.push_back(std::move(sub));
      }
      below += cnt;
    }
  }
  c.ranges = std::move(next);
  mark_prefixes(c.ranges, c.prefixes);
}

std::vector<double> ColumnQuantiles::quantiles(std::size_t ci) const {
  const Column& c = cols_[ci];
  std::vector<double> out(qs_.size(), std::numeric_limits<double>::quiet_NaN());
  if (n_ == 0 || c.nan) return out;
  auto stat = [&](std::uint64_t rank) {
    const auto it = std::lower_bound(ranks_.begin(), ranks_.end(), rank);
    return static_cast<double>(c.stat[static_cast<std::size_t>(it - ranks_.begin())]);
  };
  for (std::size_t i = 0; i < qs_.size(); ++i) {
    const double h = (static_cast<double>(n_) - 1) * qs_[i];
    const auto lo = static_cast<std::uint64_t>(std::floor(h));
    const double a = stat(lo);
    const double b = lo + 1 < n_ ? stat(lo + 1) : a;
    out[i] = a + (h - static_cast<double>(lo)) * (b - a);
  }
  return out;
}

}  // namespace countysim
