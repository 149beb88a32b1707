// Binomial quantiles: the inverse-CDF walk for one draw, and over arrays of
// draws in AVX-512 or AVX2 lanes (the firm exits of a group of draws),
// declared in quantile_functions.hpp.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/math/special_functions/beta.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define COUNTYSIM_AVX2_QUANTILES 1
#endif

#include "countysim/distribution.hpp"
#include "countysim/libm_exact.hpp"
#include "countysim/quantile_functions.hpp"
#include "countysim/simd.hpp"

namespace countysim {

namespace {
// Boost's double-precision evaluation (no promotion to long double), as in
// quantile_functions.cpp.
using FastPolicy = boost::math::policies::policy<boost::math::policies::promote_double<false>>;
}  // namespace

namespace {
// 1/(k+1) for the binomial walk, rounded exactly as the division would be.
constexpr std::size_t kInverseCount = 1024;
constexpr auto kInverse = [] {
  std::array<double, kInverseCount> t{};
  for (std::size_t i = 0; i < kInverseCount; ++i) t[i] = 1.0 / static_cast<double>(i + 1);
  return t;
}();
}  // namespace

namespace {
// The walk's last steps one at a time, from k with pmf = P(X = k) and
// cum = P(X <= k): where fewer than four steps are left before n (or the
// table's end). Shared by the scalar and the array forms.
inline double binomial_steps(double k, double pmf, double cum, double u, double nd, double r,
                             double mean) {
  while (cum < u && k < nd) {
    pmf *= r * (nd - k) / (k + 1);
    k += 1;
    cum += pmf;
    if (k > mean && pmf < 1e-17 * cum) break;
  }
  return k;
}
}  // namespace

double binomial_quantile(std::int64_t n, double p, double u) {
  return binomial_quantile(n, p, u, std::log1p(-p));
}

double binomial_quantile(std::int64_t n, double p, double u, double log1m_p) {
  if (n < 0) throw DistributionError("n", fmt::format("n must be >= 0 (got {})", n));
  if (!(p >= 0 && p <= 1)) {
    throw DistributionError("p", fmt::format("p must lie in [0, 1] (got {})", p));
  }
  if (n == 0 || p == 0 || !(u > 0)) return 0;
  const double nd = static_cast<double>(n);
  if (p == 1 || !(u < 1)) return nd;
  const double mean = nd * p, var = mean * (1 - p);
  // Walk up with pmf(k+1) = pmf(k) (n-k)/(k+1) p/(1-p): a multiply and an add
  // a step, no special functions. Start at 0, or, when that is far below the
  // answer (or (1-p)^n underflows), at mean - t with t from Bernstein's
  // inequality so that P(X < start) < e^-50 = 2e-22: far below the spacing of
  // the uniforms, so the answer changes only for u within 2e-22 of a jump.
  const double log_pmf0 = nd * log1m_p;
  double k = 0;
  if (mean >= 64 || log_pmf0 < -700) {
    const double t = (100.0 / 3 + std::sqrt(100.0 / 3 * 100.0 / 3 + 400 * var)) / 2;
    k = std::max(0.0, std::floor(mean - t));
    if (k < 64 && log_pmf0 > -700) k = 0;
  }
  // C(n,k) p^k (1-p)^(n-k) = beta density x^k (1-x)^(n-k-1) / B(k+1, n-k) times (1-p)/(n-k);
  // Boost's density keeps full precision where lgamma differences would not.
  double pmf =
      k > 0 ? boost::math::ibeta_derivative(k + 1, nd - k, p, FastPolicy()) * (1 - p) / (nd - k)
            : exact_exp(log_pmf0);
  const double r = p / (1 - p);
  double cum = pmf;
  if (cum >= u) return k;
  // Four steps at a time: the step ratios and their running products do not
  // depend on pmf, so only one multiply and one add per block are on the
  // dependency chain; 1/(k+1) comes from a table instead of a division.
  // Invariant: cum = P(X <= k) < u, pmf = P(X = k).
  while (k + 4 <= nd && k + 4 < static_cast<double>(kInverseCount)) {
    const auto i = static_cast<std::size_t>(k);
    const double f1 = r * (nd - k) * kInverse[i];
    const double f2 = f1 * (r * (nd - k - 1) * kInverse[i + 1]);
    const double f3 = f2 * (r * (nd - k - 2) * kInverse[i + 2]);
    const double f4 = f3 * (r * (nd - k - 3) * kInverse[i + 3]);
    const double p1 = pmf * f1, p2 = pmf * f2, p3 = pmf * f3, p4 = pmf * f4;
    const double next = cum + ((p1 + p2) + (p3 + p4));
    if (next >= u) {
      // The first of k + 1 .. k + 4 whose running sum reaches u, without
      // jumps on the data: the sums only grow (p >= 0), so each test that
      // holds makes the later ones hold, and counting them gives the answer.
      const double s1 = cum + p1, s2 = s1 + p2, s3 = s2 + p3;
      return k + static_cast<double>(4 - (s1 >= u) - (s2 >= u) - (s3 >= u));
    }
    cum = next;
    pmf = p4;
    k += 4;
    // Past the mean the tail is geometric: once it is below rounding level,
    // cum can no longer reach u (1 - u >= 1e-16) and k is the answer.
    if (k > mean && pmf < 1e-17 * cum) return k;
  }
  return binomial_steps(k, pmf, cum, u, nd, r, mean);
}

namespace {
double binomial_lane(double n, double p, double u, double log1m_p) {
  return binomial_quantile(static_cast<std::int64_t>(n), p, u, log1m_p);
}

#if defined(COUNTYSIM_AVX2_QUANTILES)
// binomial_quantile8 (below) for four lanes with AVX2 (no FMA: nothing
// contracted), the same steps; masks as movemask bits.
__attribute__((target("avx2"))) void binomial_quantile4(const double* n, const double* p,
                                                        const double* u, const double* log1m_p,
                                                        double* out) {
  const __m256d one = _mm256_set1_pd(1.0), zero = _mm256_setzero_pd();
  const __m256d nv = _mm256_loadu_pd(n), pv = _mm256_loadu_pd(p), uv = _mm256_loadu_pd(u);
  const __m256d nd = _mm256_round_pd(nv, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256d mean = _mm256_mul_pd(nd, pv);
  const __m256d log_pmf0 = _mm256_mul_pd(nd, _mm256_loadu_pd(log1m_p));
  __m256d ok = _mm256_and_pd(_mm256_cmp_pd(nv, one, _CMP_GE_OQ),
                             _mm256_cmp_pd(nv, _mm256_set1_pd(0x1.0p31), _CMP_LT_OQ));
  ok = _mm256_and_pd(
      ok, _mm256_and_pd(_mm256_cmp_pd(pv, zero, _CMP_GT_OQ), _mm256_cmp_pd(pv, one, _CMP_LT_OQ)));
  ok = _mm256_and_pd(
      ok, _mm256_and_pd(_mm256_cmp_pd(uv, zero, _CMP_GT_OQ), _mm256_cmp_pd(uv, one, _CMP_LT_OQ)));
  ok =
      _mm256_and_pd(ok, _mm256_and_pd(_mm256_cmp_pd(mean, _mm256_set1_pd(64.0), _CMP_LT_OQ),
                                      _mm256_cmp_pd(log_pmf0, _mm256_set1_pd(-700.0), _CMP_GE_OQ)));
  const int walk = _mm256_movemask_pd(ok);
  alignas(32) double e[4], res[4];
  _mm256_store_pd(e, _mm256_and_pd(ok, log_pmf0));  // others: exp(0), unused
  exact_exp(e, e, 4);
  __m256d pmf = _mm256_load_pd(e), cum = pmf;
  const __m256d r = _mm256_div_pd(pv, _mm256_sub_pd(one, pv));
  __m256d result = zero;  // k = 0 where pmf(0) >= u
  int active = walk & _mm256_movemask_pd(_mm256_cmp_pd(cum, uv, _CMP_LT_OQ));
  for (double k = 0; active != 0; k += 4) {
    const __m256d kv = _mm256_set1_pd(k), k4 = _mm256_set1_pd(k + 4);
    const int blocks = k + 4 < static_cast<double>(kInverseCount)
                           ? active & _mm256_movemask_pd(_mm256_cmp_pd(k4, nd, _CMP_LE_OQ))
                           : 0;
    if (blocks != active) {  // fewer than four steps left: one at a time
      alignas(32) double pm[4], cu[4], nn[4], rr[4], mm[4];
      _mm256_store_pd(pm, pmf);
      _mm256_store_pd(cu, cum);
      _mm256_store_pd(nn, nd);
      _mm256_store_pd(rr, r);
      _mm256_store_pd(mm, mean);
      _mm256_store_pd(res, result);
      for (unsigned rest = static_cast<unsigned>(active & ~blocks); rest != 0; rest &= rest - 1) {
        const int j = __builtin_ctz(rest);
        res[j] = binomial_steps(k, pm[j], cu[j], u[j], nn[j], rr[j], mm[j]);
      }
      result = _mm256_load_pd(res);
      active = blocks;
      if (active == 0) break;
    }
    const auto i = static_cast<std::size_t>(k);
    const __m256d left = _mm256_sub_pd(nd, kv);  // nd - k
    const __m256d f1 = _mm256_mul_pd(_mm256_mul_pd(r, left), _mm256_set1_pd(kInverse[i]));
    const __m256d f2 = _mm256_mul_pd(f1, _mm256_mul_pd(_mm256_mul_pd(r, _mm256_sub_pd(left, one)),
                                                       _mm256_set1_pd(kInverse[i + 1])));
    const __m256d f3 =
        _mm256_mul_pd(f2, _mm256_mul_pd(_mm256_mul_pd(r, _mm256_sub_pd(left, _mm256_set1_pd(2.0))),
                                        _mm256_set1_pd(kInverse[i + 2])));
    const __m256d f4 =
        _mm256_mul_pd(f3, _mm256_mul_pd(_mm256_mul_pd(r, _mm256_sub_pd(left, _mm256_set1_pd(3.0))),
                                        _mm256_set1_pd(kInverse[i + 3])));
    const __m256d p1 = _mm256_mul_pd(pmf, f1), p2 = _mm256_mul_pd(pmf, f2);
    const __m256d p3 = _mm256_mul_pd(pmf, f3), p4 = _mm256_mul_pd(pmf, f4);
    const __m256d next =
        _mm256_add_pd(cum, _mm256_add_pd(_mm256_add_pd(p1, p2), _mm256_add_pd(p3, p4)));
    const int hit = active & _mm256_movemask_pd(_mm256_cmp_pd(next, uv, _CMP_GE_OQ));
    if (hit != 0) {
      // k + 4 less one for each of the first three running sums at u
      const __m256d s1 = _mm256_add_pd(cum, p1), s2 = _mm256_add_pd(s1, p2);
      const __m256d s3 = _mm256_add_pd(s2, p3);
      __m256d steps = _mm256_set1_pd(4.0);
      steps = _mm256_sub_pd(steps, _mm256_and_pd(_mm256_cmp_pd(s1, uv, _CMP_GE_OQ), one));
      steps = _mm256_sub_pd(steps, _mm256_and_pd(_mm256_cmp_pd(s2, uv, _CMP_GE_OQ), one));
      steps = _mm256_sub_pd(steps, _mm256_and_pd(_mm256_cmp_pd(s3, uv, _CMP_GE_OQ), one));
      const __m256d hv = _mm256_castsi256_pd(_mm256_cmpgt_epi64(
          _mm256_and_si256(_mm256_set1_epi64x(hit), _mm256_setr_epi64x(1, 2, 4, 8)),
          _mm256_setzero_si256()));
      result = _mm256_blendv_pd(result, _mm256_add_pd(kv, steps), hv);
      active &= ~hit;
    }
    cum = next;
    pmf = p4;
    // Past the mean with the tail below rounding level: k + 4 is the answer.
    const __m256d stopv =
        _mm256_and_pd(_mm256_cmp_pd(k4, mean, _CMP_GT_OQ),
                      _mm256_cmp_pd(p4, _mm256_mul_pd(_mm256_set1_pd(1e-17), next), _CMP_LT_OQ));
    const int stop = active & _mm256_movemask_pd(stopv);
    if (stop != 0) {
      const __m256d sv = _mm256_castsi256_pd(_mm256_cmpgt_epi64(
          _mm256_and_si256(_mm256_set1_epi64x(stop), _mm256_setr_epi64x(1, 2, 4, 8)),
          _mm256_setzero_si256()));
      result = _mm256_blendv_pd(result, k4, sv);
      active &= ~stop;
    }
  }
  _mm256_store_pd(res, result);
  for (unsigned rest = ~static_cast<unsigned>(walk) & 0xfu; rest != 0; rest &= rest - 1) {
    const int j = __builtin_ctz(rest);
    res[j] = binomial_lane(n[j], p[j], u[j], log1m_p[j]);
  }
  std::memcpy(out, res, sizeof res);
}

COUNTYSIM_AVX512_BEGIN
// binomial_quantile for eight lanes whose walk starts at 0 (n >= 1, p and u
// inside (0, 1), mean below 64, log_pmf0 at least -700: the common case of
// firm exits), the scalar walk's operations in each lane: every lane starts
// at k = 0 and steps four at a time, so the lanes still walking share k and
// 1/(k+1) is a broadcast. A lane that stops by the mean test or reaches u
// leaves the walk; one with fewer than four steps left before n finishes by
// binomial_steps; the other lanes (and NaN) go to the scalar function.
COUNTYSIM_AVX512_TARGET void binomial_quantile8(const double* n, const double* p, const double* u,
                                                const double* log1m_p, double* out) {
  const __m512d one = _mm512_set1_pd(1.0);
  const __m512d nv = _mm512_loadu_pd(n), pv = _mm512_loadu_pd(p), uv = _mm512_loadu_pd(u);
  const __m512d nd = _mm512_roundscale_pd(nv, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512d mean = _mm512_mul_pd(nd, pv);
  const __m512d log_pmf0 = _mm512_mul_pd(nd, _mm512_loadu_pd(log1m_p));
  const __mmask8 walk = _mm512_cmp_pd_mask(nv, one, _CMP_GE_OQ) &
                        _mm512_cmp_pd_mask(nv, _mm512_set1_pd(0x1.0p31), _CMP_LT_OQ) &
                        _mm512_cmp_pd_mask(pv, _mm512_setzero_pd(), _CMP_GT_OQ) &
                        _mm512_cmp_pd_mask(pv, one, _CMP_LT_OQ) &
                        _mm512_cmp_pd_mask(uv, _mm512_setzero_pd(), _CMP_GT_OQ) &
                        _mm512_cmp_pd_mask(uv, one, _CMP_LT_OQ) &
                        _mm512_cmp_pd_mask(mean, _mm512_set1_pd(64.0), _CMP_LT_OQ) &
                        _mm512_cmp_pd_mask(log_pmf0, _mm512_set1_pd(-700.0), _CMP_GE_OQ);
  alignas(64) double e[8], res[8];
  _mm512_store_pd(e, _mm512_maskz_mov_pd(walk, log_pmf0));  // others: exp(0), unused
  exact_exp(e, e, 8);
  __m512d pmf = _mm512_load_pd(e), cum = pmf;
  const __m512d r = _mm512_div_pd(pv, _mm512_sub_pd(one, pv));
  __m512d result = _mm512_setzero_pd();  // k = 0 where pmf(0) >= u
  __mmask8 active = walk & _mm512_cmp_pd_mask(cum, uv, _CMP_LT_OQ);
  for (double k = 0; active != 0; k += 4) {
    const __m512d kv = _mm512_set1_pd(k);
    const __mmask8 blocks =
        k + 4 < static_cast<double>(kInverseCount)
            ? active & _mm512_cmp_pd_mask(_mm512_add_pd(kv, _mm512_set1_pd(4.0)), nd, _CMP_LE_OQ)
            : 0;
    if (blocks != active) {  // fewer than four steps left: one at a time
      alignas(64) double pm[8], cu[8], nn[8], rr[8], mm[8];
      _mm512_store_pd(pm, pmf);
      _mm512_store_pd(cu, cum);
      _mm512_store_pd(nn, nd);
      _mm512_store_pd(rr, r);
      _mm512_store_pd(mm, mean);
      _mm512_store_pd(res, result);
      for (unsigned rest = active & ~blocks & 0xffu; rest != 0; rest &= rest - 1) {
        const int j = __builtin_ctz(rest);
        res[j] = binomial_steps(k, pm[j], cu[j], u[j], nn[j], rr[j], mm[j]);
      }
      result = _mm512_load_pd(res);
      active = blocks;
      if (active == 0) break;
    }
    const auto i = static_cast<std::size_t>(k);
    const __m512d left = _mm512_sub_pd(nd, kv);  // nd - k
    const __m512d f1 = _mm512_mul_pd(_mm512_mul_pd(r, left), _mm512_set1_pd(kInverse[i]));
    const __m512d f2 = _mm512_mul_pd(f1, _mm512_mul_pd(_mm512_mul_pd(r, _mm512_sub_pd(left, one)),
                                                       _mm512_set1_pd(kInverse[i + 1])));
    const __m512d f3 =
        _mm512_mul_pd(f2, _mm512_mul_pd(_mm512_mul_pd(r, _mm512_sub_pd(left, _mm512_set1_pd(2.0))),
                                        _mm512_set1_pd(kInverse[i + 2])));
    const __m512d f4 =
        _mm512_mul_pd(f3, _mm512_mul_pd(_mm512_mul_pd(r, _mm512_sub_pd(left, _mm512_set1_pd(3.0))),
                                        _mm512_set1_pd(kInverse[i + 3])));
    const __m512d p1 = _mm512_mul_pd(pmf, f1), p2 = _mm512_mul_pd(pmf, f2);
    const __m512d p3 = _mm512_mul_pd(pmf, f3), p4 = _mm512_mul_pd(pmf, f4);
    const __m512d next =
        _mm512_add_pd(cum, _mm512_add_pd(_mm512_add_pd(p1, p2), _mm512_add_pd(p3, p4)));
    const __mmask8 hit = active & _mm512_cmp_pd_mask(next, uv, _CMP_GE_OQ);
    if (hit != 0) {
      // k + 4 less one for each of the first three running sums at u
      const __m512d s1 = _mm512_add_pd(cum, p1), s2 = _mm512_add_pd(s1, p2);
      const __m512d s3 = _mm512_add_pd(s2, p3);
      __m512d steps = _mm512_set1_pd(4.0);
      steps = _mm512_mask_sub_pd(steps, _mm512_cmp_pd_mask(s1, uv, _CMP_GE_OQ), steps, one);
      steps = _mm512_mask_sub_pd(steps, _mm512_cmp_pd_mask(s2, uv, _CMP_GE_OQ), steps, one);
      steps = _mm512_mask_sub_pd(steps, _mm512_cmp_pd_mask(s3, uv, _CMP_GE_OQ), steps, one);
      result = _mm512_mask_mov_pd(result, hit, _mm512_add_pd(kv, steps));
      active &= static_cast<__mmask8>(~hit);
    }
    cum = next;
    pmf = p4;
    // Past the mean with the tail below rounding level: k + 4 is the answer.
    const __m512d k4 = _mm512_add_pd(kv, _mm512_set1_pd(4.0));
    const __mmask8 stop =
        active & _mm512_cmp_pd_mask(k4, mean, _CMP_GT_OQ) &
        _mm512_cmp_pd_mask(p4, _mm512_mul_pd(_mm512_set1_pd(1e-17), next), _CMP_LT_OQ);
    result = _mm512_mask_mov_pd(result, stop, k4);
    active &= static_cast<__mmask8>(~stop);
  }
  _mm512_store_pd(res, result);
  for (unsigned rest = ~walk & 0xffu; rest != 0; rest &= rest - 1) {
    const int j = __builtin_ctz(rest);
    res[j] = binomial_lane(n[j], p[j], u[j], log1m_p[j]);
  }
  std::memcpy(out, res, sizeof res);
}
COUNTYSIM_AVX512_END
#endif
}  // namespace

void binomial_quantile(const double* n, const double* p, const double* u, const double* log1m_p,
                       double* k, std::size_t count) {
  std::size_t i = 0;
#if defined(COUNTYSIM_AVX2_QUANTILES)
  const SimdLevel level = simd_level();
  if (level == SimdLevel::avx512)
    for (; i + 8 <= count; i += 8) binomial_quantile8(n + i, p + i, u + i, log1m_p + i, k + i);
  if (level >= SimdLevel::avx2)
    for (; i + 4 <= count; i += 4) binomial_quantile4(n + i, p + i, u + i, log1m_p + i, k + i);
#endif
  for (; i < count; ++i) k[i] = binomial_lane(n[i], p[i], u[i], log1m_p[i]);
}

}  // namespace countysim
