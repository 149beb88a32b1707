// Small statistics used by the reduction and the reports: binomial standard
// errors and Wilson intervals, order-statistic quantiles, and mergeable
// mean/variance accumulators.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

namespace countysim {

// The quantiles every summary reports.
inline const std::vector<double>& summary_quantiles() {
  static const std::vector<double> q = {0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95};
  return q;
}

struct Proportion {
  double p = 0, std_error = 0, ci_low = 0, ci_high = 0;
};
// successes out of n: p, sqrt(p(1-p)/n) and the 95% Wilson score interval.
Proportion proportion(std::uint64_t successes, std::uint64_t n);

// Order-preserving map of non-NaN floats to unsigned keys (a < b exactly
// when key(a) < key(b)); 0 and -0 share the key of +0, as they compare equal.
inline std::uint32_t float_order_key(float x) {
  if (x == 0) x = 0.0f;
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// Quantiles (Hyndman-Fan type 7, numpy's default: linear between order
// statistics) of data, which is reordered. `qs` ascending. NaN if any NaN.
// `threads` > 1 splits a long column (a million values or more) between
// threads; the result is the same.
// The same quantiles of n values, no NaN among them, that `pass` hands to
// its sink in batches (every value once a call, in any batches); it is
// called twice. Radix selection: the high 16 bits of each order statistic's
// key from a histogram of all values, the low 16 from the values that share
// them. Memory is the histograms, not the values. The same bits as
// quantiles_type7 (where it may pick -0 for +0, type 7 gives the same).
using ValueSink = std::function<void(const float*, std::size_t)>;
std::vector<double> quantiles_type7_radix(std::uint64_t n, const std::vector<double>& qs,
                                          const std::function<void(const ValueSink&)>& pass);

std::vector<double> quantiles_type7(float* data, std::size_t n, const std::vector<double>& qs,
                                    int threads = 1);

// Mean and sum of squared deviations of a run of values (Welford), mergeable
// in a fixed order (Chan et al.): merging the same runs in the same order
// gives the same bits however the runs were computed.
struct Moments {
  double n = 0, mean = 0, m2 = 0;
  void add(double x) {
    n += 1;
    const double d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
  }
  void merge(const Moments& o);
  double sd() const;  // sample standard deviation (n - 1)
};

}  // namespace countysim
