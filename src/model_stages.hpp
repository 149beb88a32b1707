// Internal to the model (model.cpp, one draw; model_batch.cpp, groups of
// draws in vector lanes): the small numeric helpers both use, and the stages
// the batched path runs draw by draw. Not part of the library's interface.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "countysim/model.hpp"
#include "countysim/plan.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace countysim::model_stages {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double inf = std::numeric_limits<double>::infinity();

// v = n copies of +0.0, whose bytes are all zero: one memset, where
// vector::assign fills element by element out of line.
inline void zeros(std::vector<double>& v, std::size_t n) {
  v.resize(n);
  if (n > 0) std::memset(v.data(), 0, n * sizeof(double));
}

// Pools are compared with a relative tolerance so that a pool that holds
// exactly what a project needs (after sums of fractions) lets it start: a
// pool covers `need` when it is at least covers_from(need) (a constant of
// the plan, computed once in prepare).
inline double covers_from(double need) {
  return need - 1e-9 * (1.0 + need);
}

// x != 0 ? a : b, as a mask rather than a branch (NaN is not zero).
inline double select_nonzero(double x, double a, double b) {
#if defined(__SSE2__)
  const __m128d keep = _mm_cmpneq_sd(_mm_set_sd(x), _mm_setzero_pd());
  return _mm_cvtsd_f64(
      _mm_or_pd(_mm_and_pd(keep, _mm_set_sd(a)), _mm_andnot_pd(keep, _mm_set_sd(b))));
#else
  return x != 0.0 ? a : b;
#endif
}

// Whether every x[0 .. n) is finite and at least 0 (positive: above 0);
// a NaN is neither. Two at a time with SSE2, without branches.
template <bool positive>
bool all_finite_nonnegative(const double* x, int n) {
  bool ok = true;
  int i = 0;
#if defined(__SSE2__)
  const __m128d zero = _mm_setzero_pd(), big = _mm_set1_pd(inf);
  __m128d good = _mm_castsi128_pd(_mm_set1_epi32(-1));
  for (; i + 2 <= n; i += 2) {
    const __m128d y = _mm_loadu_pd(x + i);
    const __m128d low = positive ? _mm_cmpgt_pd(y, zero) : _mm_cmpge_pd(y, zero);
    good = _mm_and_pd(good, _mm_and_pd(low, _mm_cmplt_pd(y, big)));
  }
  ok = _mm_movemask_pd(good) == 3;
#endif
  for (; i < n; ++i) ok &= (positive ? x[i] > 0 : x[i] >= 0) & (x[i] < inf);
  return ok;
}

// 0 + x[0] + x[1] + ... + x[n - 1], one addition after the other (unrolled).
inline double sum_in_order(const double* x, int n) {
  double sum = 0;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    sum += x[i];
    sum += x[i + 1];
    sum += x[i + 2];
    sum += x[i + 3];
  }
  for (; i < n; ++i) sum += x[i];
  return sum;
}

// The stages of model.md "One draw" (model.cpp) that simulate_draws runs one
// draw at a time; the rest it runs across the draws in vector lanes.
void prepare(const Plan& plan, DrawWorkspace& ws);
void project_timing(const Plan& plan, const std::vector<double>& v, DrawWorkspace& ws);
// project_timing's second half: ws.order from the projects' success and
// ready months.
void scheduling_order(const Plan& plan, DrawWorkspace& ws);
void schedule_factors(const Plan& plan, const std::vector<double>& v, DrawWorkspace& ws,
                      DrawOutput& out);
// How many fractions k / R (k < R, k <= limit) a ramp has.
int ramp_count(double ramp, int limit);
// The ramp's fractions k / R into q; returns how many.
int ramp_fractions(double ramp, int limit, const double* months, double* q);
// A year's producing months (the ramp's quotients, then whole months).
double producing_months(const double* q, int o, int n, int end);
// Project p's year sums for a ramp it had in the draw before too (most
// ramps are fixed), built once per ramp: s[d - 1] for d = end - O in
// 1 .. M (= 12 T) is the sum of the months of the year that ends at `end`,
// producing_months(q, O, n, end) of the ramp's quotients (12 for a whole
// year after the ramp). nullptr the first time a ramp is seen (then the
// caller divides and sums, as each draw of a ramp that varies has to).
// Uses ws.ramp.
const double* ramp_table_build(DrawWorkspace& ws, int p, double ramp, int M);
inline const double* ramp_table(DrawWorkspace& ws, int p, double ramp, int M) {
  std::uint64_t bits;
  std::memcpy(&bits, &ramp, sizeof bits);
  if (ws.ramp_tabled[p] == bits)  // inline: most calls
    return ws.ramp_sums.data() + static_cast<std::size_t>(p) * M;
  return ramp_table_build(ws, p, ramp, M);
}
// Project year t's producing months from month O: from the ramp's table
// when it has one (sums), else its quotients q[0, n) then whole months (a
// whole year after the ramp is 12, as producing_months gives it).
inline double year_months(const double* sums, const double* q, int o, int n, int t) {
  const int end = 12 * t;
  if (sums) return sums[end - o - 1];
  return end - 12 >= o + n ? 12.0 : producing_months(q, o, n, end);
}
void firm_counts(const Plan& plan, const FirmSlots& f, const FirmSeries& series, Metric metric,
                 DrawWorkspace& ws, DrawOutput& out);
// opened[0 .. T]: the draw's flagged projects (ws.projects) opening by year.
void firm_openings(const Plan& plan, const FirmSlots& f, const DrawWorkspace& ws, double* opened);
// firm_counts for draws outs[0, count), count <= DrawWorkspace::lanes, with
// draw j's openings at opened[j (T + 1) ..]: each year's exits of all the
// draws by the array binomial_quantile (the same bits).
void firm_counts_lanes(const Plan& plan, const FirmSlots& f, const FirmSeries& series,
                       Metric metric, const double* opened, int count, DrawOutput* outs);
void evaluate_targets(const Plan& plan, DrawOutput& out);

}  // namespace countysim::model_stages
