#include "countysim/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace countysim {

Proportion proportion(std::uint64_t successes, std::uint64_t n) {
  Proportion r;
  if (n == 0) return r;
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nn;
  constexpr double z = 1.959963984540054;  // Phi^-1(0.975)
  r.p = p;
  r.std_error = std::sqrt(p * (1 - p) / nn);
  const double denom = 1 + z * z / nn;
  const double centre = (p + z * z / (2 * nn)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / denom;
  r.ci_low = std::max(0.0, centre - half);
  r.ci_high = std::min(1.0, centre + half);
  // Exact at the ends (the formula leaves rounding residue there).
  if (successes == 0) r.ci_low = 0;
  if (successes == n) r.ci_high = 1;
  return r;
}

namespace {

// Where each of `ranks` (ascending) falls among bins 0 .. nbins-1 that hold
// count(b) values each, in value order: its bin, and how many values lie in
// the bins below.
template <class Count>
void locate_ranks(const std::vector<std::size_t>& ranks, std::size_t nbins, Count count,
                  std::vector<std::size_t>& bin, std::vector<std::size_t>& before) {
  bin.assign(ranks.size(), 0);
  before.assign(ranks.size(), 0);
  std::size_t below = 0, j = 0;
  for (std::size_t b = 0; b < nbins && j < ranks.size(); ++b) {
    const std::size_t c = count(b);
    while (j < ranks.size() && ranks[j] < below + c) {
      bin[j] = b;
      before[j] = below;
      ++j;
    }
    below += c;
  }
}

// The order statistics `ranks` (ascending, distinct) of data[0, n): one pass
// counts the values in 65,536 bins of their order keys (the sign, exponent
// and 7 bits of mantissa), a second keeps only the values in the bins that
// hold a wanted rank, and each rank is then selected among those. Exact, and
// several times faster than partitioning the whole column once per rank.
std::vector<float> order_statistics_binned(const float* data, std::size_t n,
                                           const std::vector<std::size_t>& ranks) {
  constexpr std::size_t kBins = 1u << 16;
  thread_local std::vector<std::uint32_t> hist;
  thread_local std::vector<std::int32_t> slot_of_bin;
  hist.assign(kBins, 0);
  for (std::size_t i = 0; i < n; ++i) ++hist[float_order_key(data[i]) >> 16];
  std::vector<std::size_t> bin, before;
  locate_ranks(
      ranks, kBins, [&](std::size_t b) { return std::size_t{hist[b]}; }, bin, before);
  slot_of_bin.assign(kBins, -1);
  std::vector<std::size_t> wanted;  // distinct bins of the ranks, ascending
  for (std::size_t r = 0; r < ranks.size(); ++r)
    if (slot_of_bin[bin[r]] < 0) {
      slot_of_bin[bin[r]] = static_cast<std::int32_t>(wanted.size());
      wanted.push_back(bin[r]);
    }
  // A large bin that holds one value only (the zeros of a project not yet
  // producing, say) gives that value for its ranks: one pass finds the
  // extremes of the large bins, and such a bin is not kept (keeping it would
  // grow with the draws).
  constexpr std::size_t kLarge = 1u << 16;
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> least(wanted.size(), inf), most(wanted.size(), -inf);
  std::vector<char> single(wanted.size(), 0);
  bool any_large = false;
  for (std::size_t b : wanted) any_large = any_large || hist[b] > kLarge;
  if (any_large) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::int32_t s = slot_of_bin[float_order_key(data[i]) >> 16];
      if (s >= 0) {
        least[static_cast<std::size_t>(s)] = std::min(least[static_cast<std::size_t>(s)], data[i]);
        most[static_cast<std::size_t>(s)] = std::max(most[static_cast<std::size_t>(s)], data[i]);
      }
    }
    for (std::size_t k = 0; k < wanted.size(); ++k)
      if (hist[wanted[k]] > kLarge && least[k] == most[k]) {
        single[k] = 1;
        slot_of_bin[wanted[k]] = -1;  // not kept
      }
  }
  std::vector<std::vector<float>> kept(wanted.size());
  for (std::size_t k = 0; k < wanted.size(); ++k)
    if (!single[k]) kept[k].reserve(hist[wanted[k]]);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t s = slot_of_bin[float_order_key(data[i]) >> 16];
    if (s >= 0) kept[static_cast<std::size_t>(s)].push_back(data[i]);
  }
  std::vector<float> out(ranks.size());
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    const std::size_t k0 = static_cast<std::size_t>(
        std::lower_bound(wanted.begin(), wanted.end(), bin[r]) - wanted.begin());
    if (single[k0]) {
      out[r] = least[k0];
      continue;
    }
    std::vector<float>& v = kept[k0];
    const std::size_t k = ranks[r] - before[r];
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    out[r] = v[k];
  }
  return out;
}

// The same with 4,096 bins of equal width between the column's least and
// greatest values (any monotone binning serves: a wanted rank's bin is found
// by counts, then the rank among that bin's values): the counts fit in L1,
// unlike the key histogram's, and model outputs spread over many bins. False
// (nothing in `out`) when the spread is not finite or a wanted bin holds a
// large share of the values (a heavy tail): the key bins then.
bool order_statistics_linear(const float* data, std::size_t n,
                             const std::vector<std::size_t>& ranks, std::vector<float>& out,
                             int threads) {
  constexpr std::size_t kBins = 4096;
  // Long columns are cut into one part a thread: extremes, counts and the
  // kept values of each part are combined after, none of which depends on
  // the order (integer counts, and the k-th smallest is one value).
  const std::size_t parts =
      n >= (std::size_t{1} << 20) ? static_cast<std::size_t>(std::max(threads, 1)) : 1;
  auto part_begin = [&](std::size_t t) { return n / parts * t + std::min(t, n % parts); };
  std::vector<float> part_lo(parts), part_hi(parts);
#pragma omp parallel for schedule(static, 1) num_threads(static_cast <int>(parts)) if (parts > 1)
  for (std::size_t t = 0; t < parts; ++t) {
    const float* x = data + part_begin(t);
    const std::size_t m = part_begin(t + 1) - part_begin(t);
    // Eight running extremes: one would wait on the last comparison each time.
    float lo8[8], hi8[8];
    for (int k = 0; k < 8; ++k) lo8[k] = hi8[k] = x[0];
    std::size_t i = 0;
    for (; i + 8 <= m; i += 8)
      for (int k = 0; k < 8; ++k) {
        lo8[k] = x[i + k] < lo8[k] ? x[i + k] : lo8[k];
        hi8[k] = x[i + k] > hi8[k] ? x[i + k] : hi8[k];
      }
    for (; i < m; ++i) {
      lo8[0] = std::min(lo8[0], x[i]);
      hi8[0] = std::max(hi8[0], x[i]);
    }
    part_lo[t] = *std::min_element(lo8, lo8 + 8);
    part_hi[t] = *std::max_element(hi8, hi8 + 8);
  }
  const float lo = *std::min_element(part_lo.begin(), part_lo.end());
  const float hi = *std::max_element(part_hi.begin(), part_hi.end());
  if (lo == hi) {
    out.assign(ranks.size(), lo);
    return true;
  }
  // In float: x - lo, the product and the truncation each keep the order.
  const float width = hi - lo;
  const float scale = static_cast<float>(kBins) / width;
  if (!std::isfinite(width) || !std::isfinite(scale) || !(scale > 0)) return false;
  auto bin_of = [lo, scale](float x) {
    const auto b = static_cast<std::uint32_t>((x - lo) * scale);
    return b < kBins ? b : static_cast<std::uint32_t>(kBins - 1);
  };
  // Four interleaved counts a part, so runs of equal bins do not wait on
  // each other.
  std::vector<std::uint32_t> counts(parts * 4 * kBins, 0);
#pragma omp parallel for schedule(static, 1) num_threads(static_cast <int>(parts)) if (parts > 1)
  for (std::size_t t = 0; t < parts; ++t) {
    const float* x = data + part_begin(t);
    const std::size_t m = part_begin(t + 1) - part_begin(t);
    std::uint32_t* c = counts.data() + t * 4 * kBins;
    std::size_t i = 0;
    for (; i + 4 <= m; i += 4) {
      ++c[bin_of(x[i])];
      ++c[kBins + bin_of(x[i + 1])];
      ++c[2 * kBins + bin_of(x[i + 2])];
      ++c[3 * kBins + bin_of(x[i + 3])];
    }
    for (; i < m; ++i) ++c[bin_of(x[i])];
  }
  auto count = [&](std::size_t b) {
    std::size_t c = 0;
    for (std::size_t k = 0; k < 4 * parts; ++k) c += counts[k * kBins + b];
    return c;
  };
  std::vector<std::size_t> bin, before;
  locate_ranks(ranks, kBins, count, bin, before);
  // Too many values to select among cheaply where a rank falls.
  for (std::size_t b : bin)
    if (count(b) > n / 16 + 4096) return false;
  // The wanted bins are few and ascending: keep their values, a list a bin.
  std::vector<std::size_t> wanted(bin);
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  std::vector<std::int32_t> slot(kBins, -1);
  for (std::size_t k = 0; k < wanted.size(); ++k) slot[wanted[k]] = static_cast<std::int32_t>(k);
  std::vector<std::vector<std::vector<float>>> kept(parts,
                                                    std::vector<std::vector<float>>(wanted.size()));
#pragma omp parallel for schedule(static, 1) num_threads(static_cast <int>(parts)) if (parts > 1)
  for (std::size_t t = 0; t < parts; ++t) {
    const float* x = data + part_begin(t);
    const std::size_t m = part_begin(t + 1) - part_begin(t);
    const std::int32_t* sl = slot.data();
    std::vector<std::vector<float>>& mine = kept[t];
    for (std::size_t i = 0; i < m; ++i) {
      const std::int32_t k = sl[bin_of(x[i])];
      if (k >= 0) mine[static_cast<std::size_t>(k)].push_back(x[i]);
    }
  }
  for (std::size_t t = 1; t < parts; ++t)
    for (std::size_t k = 0; k < wanted.size(); ++k)
      kept[0][k].insert(kept[0][k].end(), kept[t][k].begin(), kept[t][k].end());
  out.resize(ranks.size());
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    std::vector<float>& v = kept[0][static_cast<std::size_t>(slot[bin[r]])];
    const std::size_t k = ranks[r] - before[r];
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    out[r] = v[k];
  }
  return true;
}

// The same by partitioning data in place: select the middle rank over the
// whole range, then the ranks on each side within their own part (so no
// later search moves an earlier order statistic): about N log2(ranks) work.
std::vector<float> order_statistics_partition(float* data, std::size_t n,
                                              const std::vector<std::size_t>& ranks) {
  struct Part {
    std::size_t lo, hi, first, last;  // data range [lo, hi), ranks [first, last)
  };
  std::vector<Part> stack = {{0, n, 0, ranks.size()}};
  while (!stack.empty()) {
    const Part p = stack.back();
    stack.pop_back();
    if (p.first >= p.last) continue;
    const std::size_t mid = (p.first + p.last) / 2, r = ranks[mid];
    std::nth_element(data + p.lo, data + r, data + p.hi);
    stack.push_back({p.lo, r, p.first, mid});
    stack.push_back({r + 1, p.hi, mid + 1, p.last});
  }
  std::vector<float> out;
  for (std::size_t r : ranks) out.push_back(data[r]);
  return out;
}

}  // namespace

namespace {

// Float bits in an order that sorts as the values do (-0 just below +0),
// and back.
std::uint32_t order_key(float v) {
  std::uint32_t u;
  std::memcpy(&u, &v, 4);
  return u & 0x80000000u ? ~u : u | 0x80000000u;
}
float from_order_key(std::uint32_t k) {
  const std::uint32_t u = k & 0x80000000u ? k & 0x7fffffffu : ~k;
  float v;
  std::memcpy(&v, &u, 4);
  return v;
}

}  // namespace

std::vector<double> quantiles_type7_radix(std::uint64_t n, const std::vector<double>& qs,
                                          const std::function<void(const ValueSink&)>& pass) {
  const std::size_t nq = qs.size();
  std::vector<double> out(nq, std::numeric_limits<double>::quiet_NaN());
  if (n == 0) return out;
  std::vector<std::uint64_t> ranks;  // type 7's two order statistics per quantile
  for (const double q : qs) {
    const double h = (static_cast<double>(n) - 1) * q;
    const auto lo = static_cast<std::uint64_t>(std::floor(h));
    ranks.push_back(lo);
    ranks.push_back(lo + 1 < n ? lo + 1 : lo);
  }
  std::vector<std::uint64_t> high(std::size_t{1} << 16, 0);
  pass([&](const float* x, std::size_t m) {
    for (std::size_t i = 0; i < m; ++i) ++high[order_key(x[i]) >> 16];
  });
  // Each rank's high half, and its rank among the values that share it.
  std::vector<std::uint32_t> top(ranks.size());
  std::vector<std::uint64_t> within(ranks.size());
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    std::uint64_t r = ranks[i];
    std::uint32_t b = 0;
    while (r >= high[b]) r -= high[b++];
    top[i] = b;
    within[i] = r;
  }
  std::vector<std::uint32_t> tops(top);
  std::sort(tops.begin(), tops.end());
  tops.erase(std::unique(tops.begin(), tops.end()), tops.end());
  std::vector<std::vector<std::uint64_t>> low(tops.size(),
                                              std::vector<std::uint64_t>(std::size_t{1} << 16, 0));
  pass([&](const float* x, std::size_t m) {
    for (std::size_t i = 0; i < m; ++i) {
      const std::uint32_t k = order_key(x[i]);
      const auto it = std::lower_bound(tops.begin(), tops.end(), k >> 16);
      if (it != tops.end() && *it == k >> 16)
        ++low[static_cast<std::size_t>(it - tops.begin())][k & 0xffffu];
    }
  });
  std::vector<float> value(ranks.size());
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    const auto& l = low[static_cast<std::size_t>(
        std::lower_bound(tops.begin(), tops.end(), top[i]) - tops.begin())];
    std::uint64_t r = within[i];
    std::uint32_t b = 0;
    while (r >= l[b]) r -= l[b++];
    value[i] = from_order_key(top[i] << 16 | b);
  }
  for (std::size_t q = 0; q < nq; ++q) {  // as quantiles_type7 interpolates
    const double h = (static_cast<double>(n) - 1) * qs[q];
    const auto lo = static_cast<std::uint64_t>(std::floor(h));
    const double da = value[2 * q], db = value[2 * q + 1];
    out[q] = da + (h - static_cast<double>(lo)) * (db - da);
  }
  return out;
}

std::vector<double> quantiles_type7(float* data, std::size_t n, const std::vector<double>& qs,
                                    int threads) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> out(qs.size(), nan);
  if (n == 0) return out;
  // Any NaN: an OR over every value, which vectorises (any_of branches a value).
  int nans = 0;
  for (std::size_t i = 0; i < n; ++i) nans |= data[i] != data[i];
  if (nans) return out;
  // Ranks needed: floor(h) and floor(h)+1 for each q.
  std::vector<std::size_t> ranks;
  for (double q : qs) {
    const double h = (static_cast<double>(n) - 1) * q;
    const auto lo = static_cast<std::size_t>(std::floor(h));
    ranks.push_back(lo);
    if (lo + 1 < n) ranks.push_back(lo + 1);
  }
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  std::vector<float> stats;
  if (n < 4096)
    stats = order_statistics_partition(data, n, ranks);
  else if (!order_statistics_linear(data, n, ranks, stats, threads))
    stats = order_statistics_binned(data, n, ranks);
  auto stat = [&](std::size_t rank) {
    return static_cast<double>(stats[static_cast<std::size_t>(
        std::lower_bound(ranks.begin(), ranks.end(), rank) - ranks.begin())]);
  };
  for (std::size_t i = 0; i < qs.size(); ++i) {
    const double h = (static_cast<double>(n) - 1) * qs[i];
    const auto lo = static_cast<std::size_t>(std::floor(h));
    const double a = stat(lo);
    const double b = lo + 1 < n ? stat(lo + 1) : a;
    out[i] = a + (h - static_cast<double>(lo)) * (b - a);
  }
  return out;
}

void Moments::merge(const Moments& o) {
  if (o.n == 0) return;
  if (n == 0) {
    *this = o;
    return;
  }
  const double total = n + o.n;
  const double d = o.mean - mean;
  mean += d * o.n / total;
  m2 += o.m2 + d * d * n * o.n / total;
  n = total;
}

double Moments::sd() const {
  return n > 1 ? std::sqrt(m2 / (n - 1)) : 0.0;
}

}  // namespace countysim
