// A project's ramp-up arithmetic (model.md, production): the ramp's
// fractions, a year's producing months, and the year sums tabled per ramp
// (model_stages.hpp), for the one-draw and the batched model.
#include <algorithm>
#include <cstring>

#include "model_stages.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace countysim::model_stages {

// The ramp's fractions k / R for k = 1 .. n into q, n the count of k < R
// within the horizon (k = m - O + 1 <= limit = 12 T - O), divided two at a
// time: the same quotients as one at a time. Returns n.
int ramp_count(double ramp, int limit) {
  if (!(ramp > 0)) return 0;
  if (ramp > limit) return limit;
  const int whole = static_cast<int>(ramp);  // ramp <= limit: no overflow
  return (whole < ramp ? whole + 1 : whole) - 1;
}

int ramp_fractions(double ramp, int limit, const double* months, double* q) {
  const int n = ramp_count(ramp, limit);
  int i = 0;
#if defined(__SSE2__)
  const __m128d r = _mm_set1_pd(ramp);
  for (; i + 4 <= n; i += 4) {
    _mm_storeu_pd(q + i, _mm_div_pd(_mm_loadu_pd(months + i), r));
    _mm_storeu_pd(q + i + 2, _mm_div_pd(_mm_loadu_pd(months + i + 2), r));
  }
  for (; i + 2 <= n; i += 2) _mm_storeu_pd(q + i, _mm_div_pd(_mm_loadu_pd(months + i), r));
#endif
  for (; i < n; ++i) q[i] = months[i] / ramp;
  return n;
}

// The sum of min(1, (m - O + 1) / R) over the producing months of the year
// ending at month `end` (12 t), as model.md writes it: the ramp's quotients
// q[0, n) from month O, then whole months. The additions stay one after the
// other.
double producing_months(const double* q, int o, int n, int end) {
  int m = std::max(end - 12, o);
  double sum = 0.0;
  const int stop = std::min(end, o + n);
  if (m < stop) {
    sum = sum_in_order(q + (m - o), stop - m);
    m = stop;
  }
  // Whole months: from +0 each 1.0 is added exactly, so their count is the
  // same sum; after ramp months the additions round, one by one.
  if (m < end) {
    if (sum == 0.0) {
      sum = end - m;
    } else {
      for (; m + 4 <= end; m += 4) {
        sum += 1.0;
        sum += 1.0;
        sum += 1.0;
        sum += 1.0;
      }
      for (; m < end; ++m) sum += 1.0;
    }
  }
  return sum;
}

// A year's sum depends on O only through d = end - O: its months are
// k = max(1, d - 11) .. d from O on, the quotients q[k - 1] for k <= n and
// whole months after (producing_months takes q[m - O] for m from
// max(end - 12, O) to min(end, O + n)). The quotients do not depend on the
// limit M - O, and n = ramp_count(ramp, M - O) = min(ramp_count(ramp, M),
// M - O) where the count differs only past the horizon (end <= M), so
// producing_months(q, 0, n, d) with the limit M is the same sum, bit for bit.
// A whole year after the ramp (d - 12 >= n) sums no quotient: +0, then 12
// whole months, 12 exactly, as year_months has it. (Tests against
// the direct sums: tests/test_model.cpp.)
const double* ramp_table_build(DrawWorkspace& ws, int p, double ramp, int M) {
  std::uint64_t bits;
  std::memcpy(&bits, &ramp, sizeof bits);
  if (ws.ramp_seen[p] != bits) {
    ws.ramp_seen[p] = bits;
    return nullptr;
  }
  double* sums = ws.ramp_sums.data() + static_cast<std::size_t>(p) * M;
  double* q = ws.ramp.data();
  const int n = ramp_fractions(ramp, M, ws.months.data(), q);
  for (int d = 1; d <= M; ++d) sums[d - 1] = producing_months(q, 0, n, d);
  // By production month O: year t's sum is sums[12 t - O - 1] from O's year
  // on (12 t > O), +0 before.
  const int T = M / 12;
  double* rows = ws.ramp_rows.data() + static_cast<std::size_t>(p) * M * T;
  for (int o = 0; o < M; ++o)
    for (int t = 1; t <= T; ++t) {
      const int d = 12 * t - o - 1;
      rows[o * T + t - 1] = d >= 0 ? sums[d] : 0.0;
    }
  ws.ramp_tabled[p] = bits;
  return sums;
}

}  // namespace countysim::model_stages
