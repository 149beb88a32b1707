#include "countysim/distribution.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <map>
#include <numeric>
#include <utility>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "countysim/libm_exact.hpp"
#include "countysim/quantile_functions.hpp"
#include "countysim/simd.hpp"

namespace countysim {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// ---------------------------------------------------------------------------
// Parameter checks. Messages name the parameter and the value given.

void require_finite(const char* param, double v) {
  if (!std::isfinite(v)) {
    throw DistributionError(param, fmt::format("{} must be a finite number (got {})", param, v));
  }
}

void require_order(double lo, double hi) {
  if (hi < lo) {
    throw DistributionError("max", fmt::format("max must be >= min (got min {}, max {})", lo, hi));
  }
}

void require_mode(double lo, double mode, double hi) {
  require_order(lo, hi);
  if (mode < lo || mode > hi) {
    throw DistributionError(
        "mode", fmt::format("mode must lie between min and max (got min {}, mode {}, max {})", lo,
                            mode, hi));
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Factories. Parameter layout in p_:
//   constant   value
//   normal     mean, sd, truncated (0/1), upper-tail form (0/1)
//   lognormal  median, sigma
//   uniform    min, max
//   triangular min, mode, max, F(mode)
//   pert       min, mode, max, lambda
//   beta       alpha, beta
//   poisson    mean, first k in the table
//   discrete   mean

const char* family_name(Family f) {
  switch (f) {
    case Family::constant:
      return "constant";
    case Family::normal:
      return "normal";
    case Family::lognormal:
      return "lognormal";
    case Family::uniform:
      return "uniform";
    case Family::triangular:
      return "triangular";
    case Family::pert:
      return "pert";
    case Family::beta:
      return "beta";
    case Family::poisson:
      return "poisson";
    case Family::discrete:
      return "discrete";
  }
  return "?";
}

Distribution Distribution::constant(double value) {
  require_finite("value", value);
  Distribution d;
  d.family_ = Family::constant;
  d.p_[0] = value;
  d.lo_ = d.hi_ = value;
  return d;
}

Distribution Distribution::normal(double mean, double sd, double lo, double hi) {
  require_finite("mean", mean);
  require_finite("sd", sd);
  if (sd < 0) throw DistributionError("sd", fmt::format("sd must be >= 0 (got {})", sd));
  if (std::isnan(lo) || lo == kInf) {
    throw DistributionError("min", fmt::format("min must be a finite number (got {})", lo));
  }
  if (std::isnan(hi) || hi == -kInf) {
    throw DistributionError("max", fmt::format("max must be a finite number (got {})", hi));
  }
  const bool truncated = std::isfinite(lo) || std::isfinite(hi);
  if (truncated && !(lo < hi)) {
    throw DistributionError(
        "max", fmt::format("max must be greater than min (got min {}, max {})", lo, hi));
  }
  Distribution d;
  d.family_ = Family::normal;
  d.p_[0] = mean;
  d.p_[1] = sd;
  d.p_[2] = truncated ? 1 : 0;
  d.lo_ = lo;
  d.hi_ = hi;
  double mass;
  if (sd == 0) {
    mass = (lo <= mean && mean <= hi) ? 1 : 0;
  } else if (lo > mean) {
    // Interval in the upper tail: work with upper-tail probabilities, which
    // keep their precision there (Phi(a) would round to 1).
    d.p_[3] = 1;
    d.cdf_lo_ = normal_cdf(-(lo - mean) / sd);
    d.cdf_hi_ = normal_cdf(-(hi - mean) / sd);
    mass = d.cdf_lo_ - d.cdf_hi_;
  } else {
    d.cdf_lo_ = normal_cdf((lo - mean) / sd);
    d.cdf_hi_ = normal_cdf((hi - mean) / sd);
    mass = d.cdf_hi_ - d.cdf_lo_;
  }
  if (!(mass > 1e-300)) {
    throw DistributionError(
        lo > mean ? "min" : "max",
        fmt::format("normal(mean={}, sd={}) has no probability between min {} and max {}; widen "
                    "[min, max] or move the mean into it",
                    mean, sd, lo, hi));
  }
  return d;
}

Distribution Distribution::lognormal(double median, double sigma) {
  require_finite("median", median);
  require_finite("sigma", sigma);
  if (median <= 0) {
    throw DistributionError("median", fmt::format("median must be > 0 (got {})", median));
  }
  if (sigma < 0)
    throw DistributionError("sigma", fmt::format("sigma must be >= 0 (got {})", sigma));
  Distribution d;
  d.family_ = Family::lognormal;
  d.p_[0] = median;
  d.p_[1] = sigma;
  d.lo_ = sigma > 0 ? 0 : median;
  d.hi_ = sigma > 0 ? kInf : median;
  return d;
}

Distribution Distribution::uniform(double lo, double hi) {
  require_finite("min", lo);
  require_finite("max", hi);
  require_order(lo, hi);
  Distribution d;
  d.family_ = Family::uniform;
  d.p_[0] = d.lo_ = lo;
  d.p_[1] = d.hi_ = hi;
  return d;
}

Distribution Distribution::triangular(double lo, double mode, double hi) {
  require_finite("min", lo);
  require_finite("mode", mode);
  require_finite("max", hi);
  require_mode(lo, mode, hi);
  Distribution d;
  d.family_ = Family::triangular;
  d.p_[0] = d.lo_ = lo;
  d.p_[1] = mode;
  d.p_[2] = d.hi_ = hi;
  d.p_[3] = hi > lo ? (mode - lo) / (hi - lo) : 0;
  return d;
}

Distribution Distribution::pert(double lo, double mode, double hi, double lambda) {
  require_finite("min", lo);
  require_finite("mode", mode);
  require_finite("max", hi);
  require_finite("lambda", lambda);
  require_mode(lo, mode, hi);
  if (lambda <= 0) {
    throw DistributionError("lambda", fmt::format("lambda must be > 0 (got {})", lambda));
  }
  Distribution d;
  d.family_ = Family::pert;
  d.p_[0] = d.lo_ = lo;
  d.p_[1] = mode;
  d.p_[2] = d.hi_ = hi;
  d.p_[3] = lambda;
  if (hi > lo) {
    const double a = 1 + lambda * (mode - lo) / (hi - lo);
    const double b = 1 + lambda * (hi - mode) / (hi - lo);
    d.table_ = std::make_shared<const QuantileTable>(a, b);
  }
  return d;
}

Distribution Distribution::beta(double alpha, double beta, double lo, double hi) {
  require_finite("alpha", alpha);
  require_finite("beta", beta);
  require_finite("min", lo);
  require_finite("max", hi);
  if (alpha <= 0)
    throw DistributionError("alpha", fmt::format("alpha must be > 0 (got {})", alpha));
  if (beta <= 0) throw DistributionError("beta", fmt::format("beta must be > 0 (got {})", beta));
  require_order(lo, hi);
  Distribution d;
  d.family_ = Family::beta;
  d.p_[0] = alpha;
  d.p_[1] = beta;
  d.lo_ = lo;
  d.hi_ = hi;
  if (hi > lo) d.table_ = std::make_shared<const QuantileTable>(alpha, beta);
  return d;
}

namespace {
constexpr double kPoissonMaxMean = 1e7;  // CDF table of ~50 sd: 150k entries at most
}

Distribution Distribution::poisson(double mean) {
  require_finite("mean", mean);
  if (mean < 0) throw DistributionError("mean", fmt::format("mean must be >= 0 (got {})", mean));
  if (mean > kPoissonMaxMean) {
    throw DistributionError("mean", fmt::format("mean must be <= {} for a poisson count (got {})",
                                                kPoissonMaxMean, mean));
  }
  Distribution d;
  d.family_ = Family::poisson;
  d.p_[0] = mean;
  d.lo_ = 0;
  d.hi_ = kInf;
  if (mean == 0) {
    d.cum_ = {1.0};
    return d;
  }
  // Table of P(X <= k) from where it leaves 1e-300 (k0) to where the upper
  // tail drops below 1e-17, under half the gap between 1 and the largest
  // uniform below it. Each entry is the regularised gamma function itself
  // (not a running sum), accurate to a few ulp.
  std::int64_t k0 = 0;
  if (mean > 1000) {
    k0 = static_cast<std::int64_t>(std::max(0.0, std::floor(mean - 38 * std::sqrt(mean))));
    while (k0 > 0 && boost::math::gamma_q(static_cast<double>(k0), mean) > 1e-300) k0 -= 1;
  }
  d.p_[1] = static_cast<double>(k0);
  for (std::int64_t k = k0;; ++k) {
    const double kk = static_cast<double>(k + 1);
    const double upper = boost::math::gamma_p(kk, mean);  // P(X > k)
    if (upper < 1e-17) {
      d.cum_.push_back(1.0);
      break;
    }
    d.cum_.push_back(upper < 0.5 ? 1.0 - upper : boost::math::gamma_q(kk, mean));
  }
  return d;
}

Distribution Distribution::discrete(std::vector<double> values, std::vector<double> probs) {
  if (values.empty()) throw DistributionError("values", "values must not be empty");
  if (values.size() != probs.size()) {
    throw DistributionError(
        "probs", fmt::format("values and probs must have the same length (got {} values, {} probs)",
                             values.size(), probs.size()));
  }
  double total = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      throw DistributionError("values", fmt::format("values must be finite numbers (got {} at "
                                                    "position {})",
                                                    values[i], i + 1));
    }
    if (!std::isfinite(probs[i]) || probs[i] < 0) {
      throw DistributionError(
          "probs", fmt::format("probs must be >= 0 (got {} at position {})", probs[i], i + 1));
    }
    total += probs[i];
  }
  if (std::abs(total - 1) > 1e-9) {
    throw DistributionError("probs", fmt::format("probs must sum to 1 (got {})", total));
  }
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t i, std::size_t j) { return values[i] < values[j]; });
  Distribution d;
  d.family_ = Family::discrete;
  double cum = 0, mean = 0;
  for (const std::size_t i : order) {
    cum += probs[i] / total;
    mean += values[i] * probs[i] / total;
    if (!d.values_.empty() && d.values_.back() == values[i]) {
      d.cum_.back() = cum;  // repeated value: merge
    } else {
      d.values_.push_back(values[i]);
      d.cum_.push_back(cum);
    }
  }
  d.cum_.back() = 1.0;
  d.p_[0] = mean;
  // Support: the values with positive probability (a zero-probability value
  // is listed but never drawn).
  std::size_t first = 0, last = d.values_.size() - 1;
  while (d.cum_[first] == 0) ++first;
  while (last > 0 && d.cum_[last - 1] == 1.0) --last;
  d.lo_ = d.values_[first];
  d.hi_ = d.values_[last];
  return d;
}

// ---------------------------------------------------------------------------
// Queries.

namespace {

// The discrete quantile of quantile(u) for a few values: x[i] = values[min(k,
// m - 1)], k the count of cum < u[i]; four u at a time with AVX2 when the CPU
// has it (whole counts, so every path gives the same values). x may be u.
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) std::size_t discrete_quantile_avx2(const double* cum, std::size_t m,
                                                                   const double* values,
                                                                   const double* u, double* x,
                                                                   std::size_t n) {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d uu = _mm256_loadu_pd(u + i);
    __m256i count = _mm256_setzero_si256();
    for (std::size_t k = 0; k < m; ++k)  // a true compare is all ones: -1
      count = _mm256_sub_epi64(
          count, _mm256_castpd_si256(_mm256_cmp_pd(_mm256_set1_pd(cum[k]), uu, _CMP_LT_OQ)));
    // values[min(count, m - 1)], gathered.
    const __m256i last = _mm256_set1_epi64x(static_cast<long long>(m - 1));
    const __m256i k = _mm256_blendv_epi8(count, last, _mm256_cmpgt_epi64(count, last));
    _mm256_storeu_pd(x + i, _mm256_i64gather_pd(values, k, 8));
  }
  return i;
}

// The poisson quantile of quantile(u) over an array, four u at a time:
// x[i] = first + lower_bound_index(cum, m, u[i]) (below), the same halving
// steps for every lane (they depend on m only), each lane's probe gathered.
// Returns how many elements it did (a multiple of four).
__attribute__((target("avx2"))) std::size_t poisson_quantile_avx2(const double* cum, std::size_t m,
                                                                  double first, const double* u,
                                                                  double* x, std::size_t n) {
  const __m256i magic = _mm256_set1_epi64x(0x4330000000000000LL);  // 2^52: small ints to double
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d uu = _mm256_loadu_pd(u + i);
    __m256i base = _mm256_setzero_si256();
    for (std::size_t left = m; left > 1;) {
      const std::size_t half = left / 2;
      const __m256i probe =
          _mm256_add_epi64(base, _mm256_set1_epi64x(static_cast<long long>(half)));
      const __m256d below = _mm256_cmp_pd(_mm256_i64gather_pd(cum, probe, 8), uu, _CMP_LT_OQ);
      base = _mm256_blendv_epi8(base, probe, _mm256_castpd_si256(below));
      left -= half;
    }
    const __m256d below = _mm256_cmp_pd(_mm256_i64gather_pd(cum, base, 8), uu, _CMP_LT_OQ);
    const __m256i k = _mm256_sub_epi64(base, _mm256_castpd_si256(below));  // true is -1
    const __m256d kd =
        _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(k, magic)), _mm256_castsi256_pd(magic));
    _mm256_storeu_pd(x + i, _mm256_add_pd(_mm256_set1_pd(first), kd));
  }
  return i;
}
#endif

// The affine steps around the inverse CDFs of the array quantile, four at a
// time with AVX2 when the CPU has it (multiply, then add: target avx2 without
// fma, so the scalar roundings), the rest one at a time:
//   affine:      x[i] = a + u[i] * b, or a - u[i] * b when `minus`;
//   scale_clamp: x[i] = std::clamp(a + b * in[i], lo, hi), in[i] negated
//                first when `negate`; no clamp when `clamp` is false (x
//                may be in).
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) std::size_t affine_avx2(const double* u, double* x, std::size_t n,
                                                        double a, double b, bool minus) {
  const __m256d av = _mm256_set1_pd(a), bv = _mm256_set1_pd(b);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d p = _mm256_mul_pd(_mm256_loadu_pd(u + i), bv);
    _mm256_storeu_pd(x + i, minus ? _mm256_sub_pd(av, p) : _mm256_add_pd(av, p));
  }
  return i;
}

__attribute__((target("avx2"))) std::size_t scale_clamp_avx2(const double* in, double* x,
                                                             std::size_t n, double a, double b,
                                                             bool negate, bool clamp, double lo,
                                                             double hi) {
  const __m256d av = _mm256_set1_pd(a), bv = _mm256_set1_pd(b);
  const __m256d lov = _mm256_set1_pd(lo), hiv = _mm256_set1_pd(hi);
  const __m256d sign = _mm256_set1_pd(negate ? -0.0 : 0.0);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d z = _mm256_xor_pd(_mm256_loadu_pd(in + i), sign);
    __m256d v = _mm256_add_pd(av, _mm256_mul_pd(bv, z));
    if (clamp) {  // std::clamp: v < lo ? lo : hi < v ? hi : v
      v = _mm256_blendv_pd(v, hiv, _mm256_cmp_pd(hiv, v, _CMP_LT_OQ));
      v = _mm256_blendv_pd(v, lov, _mm256_cmp_pd(v, lov, _CMP_LT_OQ));
    }
    _mm256_storeu_pd(x + i, v);
  }
  return i;
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
// The triangular quantile over an array, both branches' square roots in
// every lane and the one for each u picked (the scalar code's operations in
// its order; sqrt is correctly rounded in both). Returns how many it did.
__attribute__((target("avx2"))) std::size_t triangular_avx2(const double* u, double* x,
                                                            std::size_t n, const double* p) {
  const double lo = p[0], mode = p[1], hi = p[2];
  const __m256d lov = _mm256_set1_pd(lo), hiv = _mm256_set1_pd(hi), split = _mm256_set1_pd(p[3]);
  const __m256d width = _mm256_set1_pd(hi - lo), left = _mm256_set1_pd(mode - lo);
  const __m256d right = _mm256_set1_pd(hi - mode), one = _mm256_set1_pd(1.0);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d uv = _mm256_loadu_pd(u + i);
    const __m256d a =
        _mm256_add_pd(lov, _mm256_sqrt_pd(_mm256_mul_pd(_mm256_mul_pd(uv, width), left)));
    const __m256d b = _mm256_sub_pd(
        hiv, _mm256_sqrt_pd(_mm256_mul_pd(_mm256_mul_pd(_mm256_sub_pd(one, uv), width), right)));
    _mm256_storeu_pd(x + i, _mm256_blendv_pd(b, a, _mm256_cmp_pd(uv, split, _CMP_LT_OQ)));
  }
  return i;
}
#endif

[[maybe_unused]] bool has_avx2() {  // unused where there is no x86 path
  return simd_level() >= SimdLevel::avx2;
}

[[maybe_unused]] bool has_avx512() {
  return simd_level() >= SimdLevel::avx512;
}

#if defined(__x86_64__) && defined(__GNUC__)
// The AVX-2 kernels above eight lanes at a time with AVX-512: the same
// comparisons and operations in the same order (-ffp-contract=off: no FMA
// although the target has it); the lookups whole counts. Each returns how
// many elements it did.
COUNTYSIM_AVX512_BEGIN
COUNTYSIM_AVX512_TARGET std::size_t discrete_quantile_avx512(const double* cum, std::size_t m,
                                                             const double* values, const double* u,
                                                             double* x, std::size_t n) {
  const __m512i last = _mm512_set1_epi64(static_cast<long long>(m - 1));
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d uu = _mm512_loadu_pd(u + i);
    __m512i count = _mm512_setzero_si512();
    for (std::size_t k = 0; k < m; ++k)
      count =
          _mm512_mask_add_epi64(count, _mm512_cmp_pd_mask(_mm512_set1_pd(cum[k]), uu, _CMP_LT_OQ),
                                count, _mm512_set1_epi64(1));
    _mm512_storeu_pd(x + i, _mm512_i64gather_pd(_mm512_min_epu64(count, last), values, 8));
  }
  return i;
}

// B registers at once: each probe waits on the gather before it, so the
// searches of independent registers are interleaved.
template <int B>
COUNTYSIM_AVX512_TARGET inline void poisson_quantile8(const double* cum, std::size_t m,
                                                      double first, const double* u, double* x) {
  __m512d uu[B];
  __m512i base[B];
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    uu[b] = _mm512_loadu_pd(u + 8 * b);
    base[b] = _mm512_setzero_si512();
  }
  for (std::size_t left = m; left > 1;) {
    const std::size_t half = left / 2;
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) {
      const __m512i probe =
          _mm512_add_epi64(base[b], _mm512_set1_epi64(static_cast<long long>(half)));
      const __mmask8 below =
          _mm512_cmp_pd_mask(_mm512_i64gather_pd(probe, cum, 8), uu[b], _CMP_LT_OQ);
      base[b] = _mm512_mask_mov_epi64(base[b], below, probe);
    }
    left -= half;
  }
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    const __mmask8 below =
        _mm512_cmp_pd_mask(_mm512_i64gather_pd(base[b], cum, 8), uu[b], _CMP_LT_OQ);
    const __m512i k = _mm512_mask_add_epi64(base[b], below, base[b], _mm512_set1_epi64(1));
    _mm512_storeu_pd(x + 8 * b, _mm512_add_pd(_mm512_set1_pd(first), _mm512_cvtepi64_pd(k)));
  }
}

COUNTYSIM_AVX512_TARGET std::size_t poisson_quantile_avx512(const double* cum, std::size_t m,
                                                            double first, const double* u,
                                                            double* x, std::size_t n) {
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) poisson_quantile8<4>(cum, m, first, u + i, x + i);
  for (; i + 8 <= n; i += 8) poisson_quantile8<1>(cum, m, first, u + i, x + i);
  return i;
}

COUNTYSIM_AVX512_TARGET std::size_t triangular_avx512(const double* u, double* x, std::size_t n,
                                                      const double* p) {
  const double lo = p[0], mode = p[1], hi = p[2];
  const __m512d lov = _mm512_set1_pd(lo), hiv = _mm512_set1_pd(hi), split = _mm512_set1_pd(p[3]);
  const __m512d width = _mm512_set1_pd(hi - lo), left = _mm512_set1_pd(mode - lo);
  const __m512d right = _mm512_set1_pd(hi - mode), one = _mm512_set1_pd(1.0);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d uv = _mm512_loadu_pd(u + i);
    const __m512d a =
        _mm512_add_pd(lov, _mm512_sqrt_pd(_mm512_mul_pd(_mm512_mul_pd(uv, width), left)));
    const __m512d b = _mm512_sub_pd(
        hiv, _mm512_sqrt_pd(_mm512_mul_pd(_mm512_mul_pd(_mm512_sub_pd(one, uv), width), right)));
    _mm512_storeu_pd(x + i, _mm512_mask_blend_pd(_mm512_cmp_pd_mask(uv, split, _CMP_LT_OQ), b, a));
  }
  return i;
}

COUNTYSIM_AVX512_TARGET std::size_t affine_avx512(const double* u, double* x, std::size_t n,
                                                  double a, double b, bool minus) {
  const __m512d av = _mm512_set1_pd(a), bv = _mm512_set1_pd(b);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d p = _mm512_mul_pd(_mm512_loadu_pd(u + i), bv);
    _mm512_storeu_pd(x + i, minus ? _mm512_sub_pd(av, p) : _mm512_add_pd(av, p));
  }
  return i;
}

COUNTYSIM_AVX512_TARGET std::size_t scale_clamp_avx512(const double* in, double* x, std::size_t n,
                                                       double a, double b, bool negate, bool clamp,
                                                       double lo, double hi) {
  const __m512d av = _mm512_set1_pd(a), bv = _mm512_set1_pd(b);
  const __m512d lov = _mm512_set1_pd(lo), hiv = _mm512_set1_pd(hi);
  const __m512d sign = _mm512_set1_pd(negate ? -0.0 : 0.0);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d z = _mm512_xor_pd(_mm512_loadu_pd(in + i), sign);
    __m512d v = _mm512_add_pd(av, _mm512_mul_pd(bv, z));
    if (clamp) {  // std::clamp: v < lo ? lo : hi < v ? hi : v
      v = _mm512_mask_mov_pd(v, _mm512_cmp_pd_mask(hiv, v, _CMP_LT_OQ), hiv);
      v = _mm512_mask_mov_pd(v, _mm512_cmp_pd_mask(v, lov, _CMP_LT_OQ), lov);
    }
    _mm512_storeu_pd(x + i, v);
  }
  return i;
}

// all_inside() eight at a time; returns how many it checked (all inside).
COUNTYSIM_AVX512_TARGET std::size_t all_inside_avx512(const double* u, std::size_t n) {
  const __m512d zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0);
  __mmask8 ok = 0xff;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d v = _mm512_loadu_pd(u + i);
    ok &= _mm512_cmp_pd_mask(v, zero, _CMP_GT_OQ) & _mm512_cmp_pd_mask(v, one, _CMP_LT_OQ);
  }
  return ok == 0xff ? i : 0;
}
COUNTYSIM_AVX512_END
#endif

#if defined(__x86_64__) && defined(__GNUC__)
// all_inside() four at a time; returns how many it checked (all inside).
__attribute__((target("avx2"))) std::size_t all_inside_avx2(const double* u, std::size_t n) {
  const __m256d zero = _mm256_setzero_pd(), one = _mm256_set1_pd(1.0);
  __m256d ok = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d v = _mm256_loadu_pd(u + i);
    ok = _mm256_and_pd(
        ok, _mm256_and_pd(_mm256_cmp_pd(v, zero, _CMP_GT_OQ), _mm256_cmp_pd(v, one, _CMP_LT_OQ)));
  }
  return _mm256_movemask_pd(ok) == 0xf ? i : 0;
}
#endif

// Every u[i] in the open interval (0, 1) (NaN is not): where the array paths
// apply.
bool all_inside(const double* u, std::size_t n) {
  std::size_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (has_avx512()) {
    i = all_inside_avx512(u, n);
    if (i == 0 && n >= 8) return false;
  } else if (has_avx2()) {
    i = all_inside_avx2(u, n);
    if (i == 0 && n >= 4) return false;
  }
#endif
  for (; i < n; ++i)
    if (!(u[i] > 0 && u[i] < 1)) return false;
  return true;
}

void affine(const double* u, double* x, std::size_t n, double a, double b, bool minus) {
  std::size_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (has_avx512())
    i = affine_avx512(u, x, n, a, b, minus);
  else if (has_avx2())
    i = affine_avx2(u, x, n, a, b, minus);
#endif
  for (; i < n; ++i) x[i] = minus ? a - u[i] * b : a + u[i] * b;
}

void scale_clamp(const double* in, double* x, std::size_t n, double a, double b, bool negate,
                 bool clamp, double lo, double hi) {
  std::size_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (has_avx512())
    i = scale_clamp_avx512(in, x, n, a, b, negate, clamp, lo, hi);
  else if (has_avx2())
    i = scale_clamp_avx2(in, x, n, a, b, negate, clamp, lo, hi);
#endif
  for (; i < n; ++i) {
    const double v = a + b * (negate ? -in[i] : in[i]);
    x[i] = clamp ? std::clamp(v, lo, hi) : v;
  }
}

// std::lower_bound(a, a + m, u) - a for m >= 1, without branches on the data
// (a conditional move a step), so that the searches of an array overlap
// instead of waiting on mispredicted jumps.
std::size_t lower_bound_index(const double* a, std::size_t m, double u) {
  const double* base = a;
  while (m > 1) {
    const std::size_t half = m / 2;
    base = base[half] < u ? base + half : base;
    m -= half;
  }
  return static_cast<std::size_t>(base - a) + (*base < u);
}

void discrete_quantile(const double* cum, std::size_t m, const double* values, const double* u,
                       double* x, std::size_t n) {
  std::size_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (has_avx512())
    i = discrete_quantile_avx512(cum, m, values, u, x, n);
  else if (has_avx2())
    i = discrete_quantile_avx2(cum, m, values, u, x, n);
#endif
  for (; i < n; ++i) {
    std::size_t k = 0;
    for (std::size_t j = 0; j < m; ++j) k += cum[j] < u[i];
    x[i] = values[std::min(k, m - 1)];
  }
}

}  // namespace

bool Distribution::is_integer_valued() const {
  const auto whole = [](double v) { return v == std::floor(v); };
  switch (family_) {
    case Family::constant:
      return whole(p_[0]);
    case Family::poisson:
      return true;
    case Family::discrete:
      return std::all_of(values_.begin(), values_.end(), whole);
    default:
      return false;
  }
}

double Distribution::quantile(double u) const {
  if (!(u > 0)) return support_min();
  if (!(u < 1)) return support_max();
  switch (family_) {
    case Family::constant:
      return p_[0];
    case Family::normal: {
      const double mean = p_[0], sd = p_[1];
      if (sd == 0) return mean;
      if (p_[2] == 0) return mean + sd * normal_quantile(u);
      double z;
      if (p_[3] != 0) {
        z = -normal_quantile(cdf_lo_ - u * (cdf_lo_ - cdf_hi_));
      } else {
        z = normal_quantile(cdf_lo_ + u * (cdf_hi_ - cdf_lo_));
      }
      return std::clamp(mean + sd * z, lo_, hi_);
    }
    case Family::lognormal:
      return p_[0] * exact_exp(p_[1] * normal_quantile(u));
    case Family::uniform:
      return lo_ + u * (hi_ - lo_);
    case Family::triangular: {
      const double lo = p_[0], mode = p_[1], hi = p_[2];
      if (u < p_[3]) return lo + std::sqrt(u * (hi - lo) * (mode - lo));
      return hi - std::sqrt((1 - u) * (hi - lo) * (hi - mode));
    }
    case Family::pert:
    case Family::beta:
      if (!table_) return lo_;
      return std::clamp(lo_ + (hi_ - lo_) * (*table_)(u), lo_, hi_);
    case Family::poisson: {
      const auto it = std::lower_bound(cum_.begin(), cum_.end(), u);
      return p_[1] + static_cast<double>(it - cum_.begin());
    }
    case Family::discrete: {
      std::size_t i;
      if (cum_.size() <= 16) {
        i = 0;  // branch-free count of cum < u: faster than bisection on a few values
        for (const double c : cum_) i += c < u;
      } else {
        i = std::lower_bound(cum_.begin(), cum_.end(), u) - cum_.begin();
      }
      return values_[std::min(i, values_.size() - 1)];
    }
  }
  return 0;
}

void Distribution::quantile(const double* u, double* x, std::size_t n) const {
  // all_inside only for the families with array paths (the others go element
  // by element anyway).
  const bool array_path = family_ != Family::constant;
  array_quantile(u, x, n, array_path && all_inside(u, n));
}

void Distribution::quantile_open(const double* u, double* x, std::size_t n) const {
  array_quantile(u, x, n, true);
}

void Distribution::array_quantile(const double* u, double* x, std::size_t n, bool inside) const {
  // Each path is quantile(u) for one family over the array, taken when every
  // u is inside (0, 1) (sampled uniforms always are); otherwise, and for the
  // other families, quantile(u) element by element.
  switch (family_) {
    case Family::normal:
    case Family::lognormal: {
      // Through the array normal_quantile, so only when every u is inside
      // (sampled uniforms always are); the arguments of the truncated forms
      // are computed in place first, as quantile(u) computes them.
      if (p_[1] == 0 || !inside) break;
      const double mean = p_[0], sd = p_[1];
      if (family_ == Family::lognormal) {
        normal_quantile(u, x, n);
        for (std::size_t i = 0; i < n; ++i) x[i] = sd * x[i];
        exact_exp(x, x, n);  // libm's exp, the same bits, a register at a time
        for (std::size_t i = 0; i < n; ++i) x[i] = mean * x[i];
      } else if (p_[2] == 0) {
        normal_quantile(u, x, n);
        from_normal_scores(x, x, n);  // mean + sd z
      } else if (p_[3] != 0) {
        affine(u, x, n, cdf_lo_, cdf_lo_ - cdf_hi_, true);
        normal_quantile(x, x, n);
        scale_clamp(x, x, n, mean, sd, true, true, lo_, hi_);  // clamp(mean + sd -z)
      } else {
        affine(u, x, n, cdf_lo_, cdf_hi_ - cdf_lo_, false);
        normal_quantile(x, x, n);
        scale_clamp(x, x, n, mean, sd, false, true, lo_, hi_);  // clamp(mean + sd z)
      }
      return;
    }
    case Family::uniform:
      if (inside) {
        affine(u, x, n, lo_, hi_ - lo_, false);  // lo + u (hi - lo)
        return;
      }
      break;
    case Family::triangular:
      if (inside) {
        std::size_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
        if (has_avx512())
          i = triangular_avx512(u, x, n, p_);
        else if (has_avx2())
          i = triangular_avx2(u, x, n, p_);
#endif
        for (; i < n; ++i) x[i] = quantile(u[i]);
        return;
      }
      break;
    case Family::pert:
    case Family::beta:
      if (table_ && inside) {
        (*table_)(u, x, n);
        scale_clamp(x, x, n, lo_, hi_ - lo_, false, true, lo_, hi_);  // clamp(lo + (hi - lo) q)
        return;
      }
      break;
    case Family::discrete:
      if (cum_.size() <= 16 && inside) {
        discrete_quantile(cum_.data(), cum_.size(), values_.data(), u, x, n);
        return;
      }
      break;
    case Family::poisson:
      if (inside) {
        std::size_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
        if (has_avx512())
          i = poisson_quantile_avx512(cum_.data(), cum_.size(), p_[1], u, x, n);
        else if (has_avx2())
          i = poisson_quantile_avx2(cum_.data(), cum_.size(), p_[1], u, x, n);
#endif
        for (; i < n; ++i)
          x[i] = p_[1] + static_cast<double>(lower_bound_index(cum_.data(), cum_.size(), u[i]));
        return;
      }
      break;
    default:
      break;
  }
  for (std::size_t i = 0; i < n; ++i) x[i] = quantile(u[i]);
}

void Distribution::from_normal_scores(const double* z, double* x, std::size_t n) const {
  scale_clamp(z, x, n, p_[0], p_[1], false, false, lo_, hi_);  // mean + sd z, as array_quantile
}

double Distribution::cdf(double x) const {
  if (std::isnan(x)) return x;
  switch (family_) {
    case Family::constant:
      return x >= p_[0] ? 1 : 0;
    case Family::normal: {
      const double mean = p_[0], sd = p_[1];
      if (x < lo_) return 0;
      if (x >= hi_) return 1;
      if (sd == 0) return x >= mean ? 1 : 0;
      if (p_[2] == 0) return normal_cdf((x - mean) / sd);
      const double f = p_[3] != 0 ? (cdf_lo_ - normal_cdf(-(x - mean) / sd)) / (cdf_lo_ - cdf_hi_)
                                  : (normal_cdf((x - mean) / sd) - cdf_lo_) / (cdf_hi_ - cdf_lo_);
      return std::clamp(f, 0.0, 1.0);
    }
    case Family::lognormal:
      if (x <= 0) return 0;
      if (p_[1] == 0) return x >= p_[0] ? 1 : 0;
      return normal_cdf(std::log(x / p_[0]) / p_[1]);
    case Family::uniform:
      if (x < lo_) return 0;
      if (x >= hi_) return 1;
      return (x - lo_) / (hi_ - lo_);
    case Family::triangular: {
      const double lo = p_[0], mode = p_[1], hi = p_[2];
      if (x < lo) return 0;
      if (x >= hi) return 1;
      if (x <= mode) return (x - lo) * (x - lo) / ((hi - lo) * (mode - lo));
      return 1 - (hi - x) * (hi - x) / ((hi - lo) * (hi - mode));
    }
    case Family::pert:
    case Family::beta:
      if (x < lo_) return 0;
      if (x >= hi_) return 1;
      return boost::math::ibeta(table_->alpha, table_->beta, (x - lo_) / (hi_ - lo_));
    case Family::poisson: {
      if (x < p_[1]) return 0;
      const double k = std::floor(x) - p_[1];
      if (k >= static_cast<double>(cum_.size())) return 1;
      return cum_[static_cast<std::size_t>(k)];
    }
    case Family::discrete: {
      const auto it = std::upper_bound(values_.begin(), values_.end(), x);
      return it == values_.begin() ? 0 : cum_[it - values_.begin() - 1];
    }
  }
  return 0;
}

double Distribution::mean() const {
  switch (family_) {
    case Family::constant:
      return p_[0];
    case Family::normal: {
      const double mean = p_[0], sd = p_[1];
      if (sd == 0 || p_[2] == 0) return mean;
      // E[X] = mu + sd (phi(a) - phi(b)) / Z, Z the mass in [a, b].
      const double a = (lo_ - mean) / sd, b = (hi_ - mean) / sd;
      const double phi_a = std::isfinite(a) ? normal_pdf(a) : 0;
      const double phi_b = std::isfinite(b) ? normal_pdf(b) : 0;
      const double mass = p_[3] != 0 ? cdf_lo_ - cdf_hi_ : cdf_hi_ - cdf_lo_;
      return std::clamp(mean + sd * (phi_a - phi_b) / mass, lo_, hi_);
    }
    case Family::lognormal:
      return p_[0] * std::exp(0.5 * p_[1] * p_[1]);
    case Family::uniform:
      return 0.5 * (lo_ + hi_);
    case Family::triangular:
      return (p_[0] + p_[1] + p_[2]) / 3;
    case Family::pert:
      return (p_[0] + p_[3] * p_[1] + p_[2]) / (p_[3] + 2);
    case Family::beta:
      return lo_ + (hi_ - lo_) * p_[0] / (p_[0] + p_[1]);
    case Family::poisson:
      return p_[0];
    case Family::discrete:
      return p_[0];
  }
  return 0;
}

double Distribution::support_min() const {
  switch (family_) {
    case Family::normal:
      return p_[1] == 0 ? p_[0] : lo_;
    case Family::poisson:
      return 0;
    default:
      return lo_;
  }
}

double Distribution::support_max() const {
  switch (family_) {
    case Family::normal:
      return p_[1] == 0 ? p_[0] : hi_;
    case Family::poisson:
      return p_[0] == 0 ? 0 : kInf;
    default:
      return hi_;
  }
}

std::string Distribution::describe() const {
  switch (family_) {
    case Family::constant:
      return fmt::format("{}", p_[0]);
    case Family::normal: {
      std::string s = fmt::format("normal(mean={}, sd={}", p_[0], p_[1]);
      if (std::isfinite(lo_)) s += fmt::format(", min={}", lo_);
      if (std::isfinite(hi_)) s += fmt::format(", max={}", hi_);
      return s + ")";
    }
    case Family::lognormal:
      return fmt::format("lognormal(median={}, sigma={})", p_[0], p_[1]);
    case Family::uniform:
      return fmt::format("uniform(min={}, max={})", lo_, hi_);
    case Family::triangular:
      return fmt::format("triangular(min={}, mode={}, max={})", p_[0], p_[1], p_[2]);
    case Family::pert:
      return p_[3] == 4 ? fmt::format("pert(min={}, mode={}, max={})", p_[0], p_[1], p_[2])
                        : fmt::format("pert(min={}, mode={}, max={}, lambda={})", p_[0], p_[1],
                                      p_[2], p_[3]);
    case Family::beta:
      return lo_ == 0 && hi_ == 1
                 ? fmt::format("beta(alpha={}, beta={})", p_[0], p_[1])
                 : fmt::format("beta(alpha={}, beta={}, min={}, max={})", p_[0], p_[1], lo_, hi_);
    case Family::poisson:
      return fmt::format("poisson(mean={})", p_[0]);
    case Family::discrete: {
      std::vector<double> probs(cum_.size());
      std::adjacent_difference(cum_.begin(), cum_.end(), probs.begin());
      return fmt::format("discrete(values=[{}], probs=[{:.12g}])", fmt::join(values_, ", "),
                         fmt::join(probs, ", "));
    }
  }
  return "?";
}

}  // namespace countysim
