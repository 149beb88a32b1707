// The estimators behind `explain` (explain.hpp, docs/explain.md): weighted
// mid-ranks, weighted correlation, the bias-corrected conditional-means
// first-order index with its batch standard error, and the KS distance.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "countysim/explain.hpp"
#include "explain_internal.hpp"

namespace countysim {

namespace {

double weight(const std::vector<double>& w, std::size_t i) {
  return w.empty() ? 1.0 : w[i];
}

}  // namespace

std::vector<std::uint32_t> sort_order(const std::vector<double>& x) {
  std::vector<std::uint32_t> order(x.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return x[a] < x[b] || (x[a] == x[b] && a < b);
  });
  return order;
}

std::vector<double> ranks_from_order(const std::vector<double>& x,
                                     const std::vector<std::uint32_t>& order,
                                     const std::vector<double>& w) {
  const std::size_t n = x.size();
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) total += weight(w, i);
  std::vector<double> r(n, 0.5);
  if (!(total > 0)) return r;
  double below = 0;
  for (std::size_t a = 0; a < n;) {
    std::size_t b = a;
    double tied = 0;
    while (b < n && x[order[b]] == x[order[a]]) tied += weight(w, order[b++]);
    const double rank = (below + 0.5 * tied) / total;
    for (std::size_t k = a; k < b; ++k) r[order[k]] = rank;
    below += tied;
    a = b;
  }
  return r;
}

std::vector<double> weighted_ranks(const std::vector<double>& x, const std::vector<double>& w) {
  return ranks_from_order(x, sort_order(x), w);
}

double weighted_correlation(const std::vector<double>& x, const std::vector<double>& y,
                            const std::vector<double>& w) {
  const std::size_t n = x.size();
  double sw = 0, mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double wi = weight(w, i);
    sw += wi;
    mx += wi * x[i];
    my += wi * y[i];
  }
  if (!(sw > 0)) return 0;
  mx /= sw;
  my /= sw;
  double sxx = 0, syy = 0, sxy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double wi = weight(w, i), dx = x[i] - mx, dy = y[i] - my;
    sxx += wi * dx * dx;
    syy += wi * dy * dy;
    sxy += wi * dx * dy;
  }
  if (!(sxx > 0) || !(syy > 0)) return 0;
  return sxy / std::sqrt(sxx * syy);
}

int default_bins(std::size_t n) {
  const double b = std::round(std::sqrt(static_cast<double>(n)) / 4.0);
  return static_cast<int>(std::clamp(b, 4.0, 50.0));
}

std::vector<int> rank_bins(const std::vector<double>& ranks, int bins) {
  std::vector<int> out(ranks.size());
  for (std::size_t i = 0; i < ranks.size(); ++i)
    out[i] = std::clamp(static_cast<int>(ranks[i] * bins), 0, bins - 1);
  return out;
}

namespace {

// Sums of one (batch, bin) cell, y centred.
struct Cell {
  double w = 0, wy = 0, wyy = 0, ww = 0;
};

// S from the cells of one sample (bins cells); NaN when Y has no spread.
double index_from_cells(const Cell* cells, int bins) {
  double W = 0, WY = 0, WYY = 0, WW = 0, q = 0;
  for (int b = 0; b < bins; ++b) {
    W += cells[b].w;
    WY += cells[b].wy;
    WYY += cells[b].wyy;
    WW += cells[b].ww;
  }
  if (!(W > 0)) return std::nan("");
  const double mean = WY / W;
  const double sst = WYY / W - mean * mean;  // weighted variance (normalised weights)
  const double sum_w2 = WW / (W * W);        // sum of squared normalised weights
  double ssb = 0, ssw = 0;
  for (int b = 0; b < bins; ++b) {
    const Cell& c = cells[b];
    if (!(c.w > 0)) continue;
    const double mb = c.wy / c.w;
    ssb += c.w / W * (mb - mean) * (mb - mean);
    ssw += (c.wyy - c.wy * mb) / W;
    q += c.ww / (c.w * W);  // sum over the bin of squared normalised weights / bin weight
  }
  if (!(sst > 0) || !(1 - sum_w2 > 0) || !(1 - q > 0)) return std::nan("");
  const double within = ssw / (1 - q);                 // unbiased within-bin variance
  const double between = ssb - within * (q - sum_w2);  // remove the noise SSB shows by chance
  const double total = sst / (1 - sum_w2);             // unbiased variance of Y
  return between / total;
}

}  // namespace

FirstOrder first_order_index(const std::vector<int>& bin, int bins, const std::vector<double>& y,
                             const std::vector<double>& w, int batches) {
  const std::size_t n = y.size();
  batches = std::max(1, batches);
  double sw = 0, sy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sw += weight(w, i);
    sy += weight(w, i) * y[i];
  }
  const double centre = sw > 0 ? sy / sw : 0;
  std::vector<Cell> cells(static_cast<std::size_t>(batches) * bins);
  for (std::size_t i = 0; i < n; ++i) {
    const double wi = weight(w, i), d = y[i] - centre;
    Cell& c = cells[(i % batches) * bins + bin[i]];
    c.w += wi;
    c.wy += wi * d;
    c.wyy += wi * d * d;
    c.ww += wi * wi;
  }
  std::vector<Cell> all(bins);
  for (int k = 0; k < batches; ++k)
    for (int b = 0; b < bins; ++b) {
      const Cell& c = cells[k * bins + b];
      all[b].w += c.w;
      all[b].wy += c.wy;
      all[b].wyy += c.wyy;
      all[b].ww += c.ww;
    }
  FirstOrder out;
  out.index = index_from_cells(all.data(), bins);
  if (std::isnan(out.index)) return {0, 0};
  if (batches < 2) return out;
  double m = 0, m2 = 0;
  int count = 0;
  for (int k = 0; k < batches; ++k) {
    const double s = index_from_cells(&cells[k * bins], bins);
    if (std::isnan(s)) continue;
    ++count;
    const double d = s - m;
    m += d / count;
    m2 += d * (s - m);
  }
  if (count >= 2) out.std_error = std::sqrt(m2 / (count - 1) / count);
  return out;
}

double ks_from_order(const std::vector<double>& ranks, const std::vector<std::uint32_t>& order,
                     const std::vector<std::uint8_t>& flag, const std::vector<double>& w) {
  const std::size_t n = order.size();
  double w1 = 0, w0 = 0;
  for (std::size_t i = 0; i < n; ++i) (flag[i] ? w1 : w0) += weight(w, i);
  if (!(w1 > 0) || !(w0 > 0)) return 0;
  double c1 = 0, c0 = 0, d = 0;
  for (std::size_t a = 0; a < n;) {
    std::size_t b = a;
    while (b < n && ranks[order[b]] == ranks[order[a]]) {
      const std::uint32_t i = order[b++];
      (flag[i] ? c1 : c0) += weight(w, i);
    }
    d = std::max(d, std::abs(c1 / w1 - c0 / w0));
    a = b;
  }
  return d;
}

double ks_distance(const std::vector<double>& x, const std::vector<std::uint8_t>& flag,
                   const std::vector<double>& w) {
  const auto order = sort_order(x);
  return ks_from_order(ranks_from_order(x, order, w), order, flag, w);
}

}  // namespace countysim
