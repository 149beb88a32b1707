#include "countysim/quantile_functions.hpp"

#include <algorithm>
#include <array>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "simd_transpose.hpp"
#endif

#include "countysim/distribution.hpp"
#include "countysim/libm_exact.hpp"
#include "countysim/simd.hpp"

namespace countysim {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::uint64_t to_bits(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

double from_bits(std::uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

// ---------------------------------------------------------------------------
// Beta quantile table.
//
// Q(p) = I^-1_p(a, b) for p in (0, 1/2) is tabulated on dyadic levels
// p in [2^-(L+2), 2^-(L+1)), L = 0 .. kLevels-1, each split into 2^shift equal
// pieces in the mantissa, each piece a Chebyshev interpolant of degree
// kDegree. Near 0, Q(p) ~ (a B p)^(1/a): a power of p, smooth in p / 2^-L on
// every level, so a few pieces per level suffice for any (a, b) and the
// lookup needs only the exponent and mantissa bits (no pow, no search).
// Levels and pieces are chosen at construction until the interpolant's last
// two Chebyshev coefficients are below kTableTol; p > 1/2 uses the table of
// Beta(b, a) at 1 - p (exact in double), p below 2^-(kLevels+1) and halves
// that do not converge use Boost's ibeta_inv directly.

constexpr int kDegree = 11;
constexpr int kNodes = kDegree + 1;
constexpr int kLevels = 56;          // p down to 2^-57: below any Philox uniform
constexpr int kMaxShift = 7;         // at most 128 pieces a level
constexpr double kTableTol = 2e-12;  // coefficient tail, on the unit scale

// Boost evaluates in double rather than long double: 3-5x faster, a few ulp.
using FastPolicy = boost::math::policies::policy<boost::math::policies::promote_double<false>>;

// Exact inverse of the regularised incomplete beta, never throwing. Boost
// gives up on some p far below anything sampled (seen at p = 1e-300); there
// x is tiny and the leading term of I_x(a, b) = x^a / (a B(a, b)) (1 + O(x))
// is used.
double beta_quantile_exact(double a, double b, double p) {
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  try {
    return boost::math::ibeta_inv(a, b, p, FastPolicy());
  } catch (const std::exception&) {
    const double log_beta = std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
    return std::min(1.0, std::exp((std::log(a) + log_beta + std::log(p)) / a));
  }
}

}  // namespace

class BetaHalf {
 public:
  BetaHalf(double a, double b) : a_(a), b_(b) { build(); }

  // Q(p) for 0 < p < 1/2.
  double operator()(double p) const {
    double t;
    const double* c = locate(p, t);
    if (!c) return beta_quantile_exact(a_, b_, p);
    // Clenshaw recurrence for sum c_k T_k(t).
    double b1 = 0, b2 = 0;
    const double t2 = 2 * t;
    // Unrolled (as -O3 would; -O2 keeps the loop); the same operations.
#pragma GCC unroll 16
    for (int k = kDegree; k >= 1; --k) {
      const double b0 = t2 * b1 - b2 + c[k];
      b2 = b1;
      b1 = b0;
    }
    return t * b1 - b2 + c[0];
  }

  // For the vector lookup (QuantileTableLookup): the table's layout.
  bool converged() const {
    return converged_;
  }
  int shift(int level) const {
    return shift_[level];
  }
  std::uint32_t offset(int level) const {
    return offset_[level];
  }
  const std::vector<double>& coef() const {
    return coef_;
  }

  // The piece of p in (0, 1/2): its kNodes Chebyshev coefficients, and t, p's
  // place in the piece on [-1, 1]; nullptr where the table does not reach
  // (Q(p) is then beta_quantile_exact).
  const double* locate(double p, double& t) const {
    const std::uint64_t bits = to_bits(p);
    const int level = 1021 - static_cast<int>(bits >> 52);
    if (!converged_ || level >= kLevels) return nullptr;
    const std::uint64_t mant = bits & 0xfffffffffffffULL;
    const int shift = shift_[level];
    const std::uint64_t piece = mant >> (52 - shift);
    const double m = from_bits(mant | 0x3ff0000000000000ULL);  // in [1, 2)
    t = (m - 1.0) * static_cast<double>(2 << shift) - static_cast<double>(2 * piece + 1);
    return &coef_[offset_[level] + piece * kNodes];
  }

 private:
  void build() {
    std::array<double, kNodes> node_t, f;
    for (int k = 0; k < kNodes; ++k) node_t[k] = std::cos(M_PI * (k + 0.5) / kNodes);
    for (int level = 0; level < kLevels; ++level) {
      const double scale = std::ldexp(1.0, -(level + 2));  // p = m * scale, m in [1, 2]
      bool done = false;
      for (int shift = 0; shift <= kMaxShift && !done; ++shift) {
        const int pieces = 1 << shift;
        std::vector<double> coef(static_cast<std::size_t>(pieces) * kNodes);
        double tail = 0;
        for (int i = 0; i < pieces; ++i) {
          for (int k = 0; k < kNodes; ++k) {
            const double m = 1.0 + (i + 0.5 * (node_t[k] + 1.0)) / pieces;
            f[k] = beta_quantile_exact(a_, b_, m * scale);
          }
          double* c = &coef[static_cast<std::size_t>(i) * kNodes];
          for (int j = 0; j < kNodes; ++j) {
            double s = 0;
            for (int k = 0; k < kNodes; ++k) s += f[k] * std::cos(M_PI * j * (k + 0.5) / kNodes);
            c[j] = s * 2.0 / kNodes;
          }
          c[0] *= 0.5;
          tail = std::max(tail, std::abs(c[kDegree]) + std::abs(c[kDegree - 1]));
        }
        if (tail <= kTableTol) {
          offset_[level] = static_cast<std::uint32_t>(coef_.size());
          shift_[level] = static_cast<std::uint8_t>(shift);
          coef_.insert(coef_.end(), coef.begin(), coef.end());
          done = true;
        }
      }
      if (!done) {
        converged_ = false;
        coef_.clear();
        return;
      }
    }
  }

  double a_, b_;
  bool converged_ = true;
  std::array<std::uint32_t, kLevels> offset_{};
  std::array<std::uint8_t, kLevels> shift_{};
  std::vector<double> coef_;
};

namespace {

// Tables are shared between distributions of the same shape (per-year inputs,
// the two halves of a symmetric beta).
std::shared_ptr<const BetaHalf> beta_half(double a, double b) {
  static std::mutex mutex;
  static std::map<std::pair<double, double>, std::weak_ptr<const BetaHalf>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  if (cache.size() > 1000) {  // forget shapes no distribution uses any more
    for (auto it = cache.begin(); it != cache.end();) {
      it = it->second.expired() ? cache.erase(it) : std::next(it);
    }
  }
  auto& slot = cache[{a, b}];
  if (auto table = slot.lock()) return table;
  auto table = std::make_shared<const BetaHalf>(a, b);
  slot = table;
  return table;
}

}  // namespace

// Both halves' tables in one array for the vector lookups (beta_table_avx2, _avx512):
// info[h * kLevels + level] = offset << 8 | shift of level `level` of half h
// (0 lower, 1 upper), the offset into coef; -1 where that half has no table.
struct QuantileTableLookup {
  std::vector<double> coef;
  std::array<std::int64_t, 2 * kLevels> info;
};

// Inverse CDF of Beta(alpha, beta) on [0, 1]; see BetaHalf.
QuantileTable::QuantileTable(double a, double b)
    : alpha(a),
      beta(b),
      median(beta_quantile_exact(a, b, 0.5)),
      lower(beta_half(a, b)),
      upper(beta_half(b, a)) {
  auto l = std::make_shared<QuantileTableLookup>();
  const BetaHalf* halves[2] = {lower.get(), upper.get()};
  for (int h = 0; h < 2; ++h) {
    const auto base = static_cast<std::int64_t>(l->coef.size());
    for (int level = 0; level < kLevels; ++level)
      l->info[h * kLevels + level] =
          halves[h]->converged()
              ? (base + static_cast<std::int64_t>(halves[h]->offset(level))) << 8 |
                    halves[h]->shift(level)
              : -1;
    l->coef.insert(l->coef.end(), halves[h]->coef().begin(), halves[h]->coef().end());
  }
  if (l->coef.empty()) l->coef.assign(kNodes, 0.0);  // something to gather from in any case
  lookup = std::move(l);
}

double QuantileTable::operator()(double u) const {
  if (u < 0.5) return u > 0 ? (*lower)(u) : 0.0;
  if (u > 0.5) return u < 1 ? 1.0 - (*upper)(1.0 - u) : 1.0;
  return median;
}

namespace {

#if defined(__x86_64__) && defined(__GNUC__)
#define COUNTYSIM_AVX2_QUANTILES 1

// QuantileTable over an array, four u at a time: each lane's level and piece
// found from the bits of p (u, or 1 - u in the upper half) as
// BetaHalf::locate finds them, t computed with the same operations, the
// coefficients gathered from QuantileTableLookup, then the Clenshaw
// recurrence of the four lanes in one vector (multiply, subtract, add in the
// scalar order; target avx2 without fma, so nothing is contracted). Lanes the
// tables do not cover (u = 1/2, outside (0, 1), the deep tails) are redone by
// the scalar operator(). B registers at once (their gathers and Clenshaw
// steps interleaved: the steps of one register wait on each other); does the
// 4 B elements from u[i] on.
template <int B>
__attribute__((target("avx2"))) inline void beta_table4(const QuantileTable& table, const double* u,
                                                        double* x, std::size_t i) {
  const QuantileTableLookup& look = *table.lookup;
  const double* coef = look.coef.data();
  const auto* info = reinterpret_cast<const long long*>(look.info.data());
  const __m256d zero = _mm256_setzero_pd(), half = _mm256_set1_pd(0.5);
  const __m256d one = _mm256_set1_pd(1.0);
  const __m256i mant_mask = _mm256_set1_epi64x(0xfffffffffffffLL);
  const __m256i one_bits = _mm256_set1_epi64x(0x3ff0000000000000LL);
  const __m256i two52 = _mm256_set1_epi64x(0x4330000000000000LL);  // 2^52: small ints to double
  __m256d v[B], upper[B], tv[B], t2[B], b1[B], b2[B];
  __m256i ok[B], base[B];
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    v[b] = _mm256_loadu_pd(u + i + 4 * b);
    const __m256d lower =
        _mm256_and_pd(_mm256_cmp_pd(v[b], zero, _CMP_GT_OQ), _mm256_cmp_pd(v[b], half, _CMP_LT_OQ));
    upper[b] =
        _mm256_and_pd(_mm256_cmp_pd(v[b], half, _CMP_GT_OQ), _mm256_cmp_pd(v[b], one, _CMP_LT_OQ));
    const __m256d p = _mm256_blendv_pd(v[b], _mm256_sub_pd(one, v[b]), upper[b]);  // 1 - u exact
    const __m256i bits = _mm256_castpd_si256(p);
    const __m256i level = _mm256_sub_epi64(_mm256_set1_epi64x(1021), _mm256_srli_epi64(bits, 52));
    // 0 <= level < kLevels, and u in one of the halves.
    ok[b] = _mm256_andnot_si256(
        _mm256_or_si256(_mm256_cmpgt_epi64(_mm256_setzero_si256(), level),
                        _mm256_cmpgt_epi64(level, _mm256_set1_epi64x(kLevels - 1))),
        _mm256_castpd_si256(_mm256_or_pd(lower, upper[b])));
    const __m256i slot = _mm256_and_si256(
        ok[b], _mm256_add_epi64(level, _mm256_and_si256(_mm256_castpd_si256(upper[b]),
                                                        _mm256_set1_epi64x(kLevels))));
    const __m256i entry = _mm256_i64gather_epi64(info, slot, 8);
    ok[b] = _mm256_andnot_si256(_mm256_cmpeq_epi64(entry, _mm256_set1_epi64x(-1)), ok[b]);
    const __m256i shift = _mm256_and_si256(entry, _mm256_set1_epi64x(0xff));
    const __m256i mant = _mm256_and_si256(bits, mant_mask);
    const __m256i piece = _mm256_srlv_epi64(mant, _mm256_sub_epi64(_mm256_set1_epi64x(52), shift));
    // t = (m - 1) 2^(shift + 1) - (2 piece + 1), m = 1.mant in [1, 2).
    const __m256d m = _mm256_castsi256_pd(_mm256_or_si256(mant, one_bits));
    const __m256d scale = _mm256_castsi256_pd(
        _mm256_slli_epi64(_mm256_add_epi64(shift, _mm256_set1_epi64x(1024)), 52));
    const __m256i odd = _mm256_add_epi64(_mm256_add_epi64(piece, piece), _mm256_set1_epi64x(1));
    const __m256d odd_d =
        _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(odd, two52)), _mm256_castsi256_pd(two52));
    tv[b] = _mm256_and_pd(_mm256_sub_pd(_mm256_mul_pd(_mm256_sub_pd(m, one), scale), odd_d),
                          _mm256_castsi256_pd(ok[b]));
    // First coefficient of the piece: offset + piece * kNodes (0 in lanes not ok).
    base[b] = _mm256_and_si256(
        ok[b], _mm256_add_epi64(_mm256_srli_epi64(entry, 8),
                                _mm256_add_epi64(_mm256_slli_epi64(piece, 3),
                                                 _mm256_slli_epi64(piece, 2))));  // piece * 12
    t2[b] = _mm256_add_pd(tv[b], tv[b]);                                          // 2 * t, exactly
    b1[b] = _mm256_setzero_pd();
    b2[b] = _mm256_setzero_pd();
  }
  static_assert(kNodes == 12, "piece * kNodes above");
#pragma GCC unroll 16
  for (int k = kDegree; k >= 1; --k) {
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) {
      const __m256d ck = _mm256_i64gather_pd(coef + k, base[b], 8);
      const __m256d b0 = _mm256_add_pd(_mm256_sub_pd(_mm256_mul_pd(t2[b], b1[b]), b2[b]), ck);
      b2[b] = b1[b];
      b1[b] = b0;
    }
  }
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    const __m256d c0 = _mm256_i64gather_pd(coef, base[b], 8);
    const __m256d q = _mm256_add_pd(_mm256_sub_pd(_mm256_mul_pd(tv[b], b1[b]), b2[b]), c0);
    // Upper lanes: 1 - Q(1 - u) of the table of Beta(b, a).
    _mm256_storeu_pd(x + i + 4 * b, _mm256_blendv_pd(q, _mm256_sub_pd(one, q), upper[b]));
  }
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    const int good = _mm256_movemask_pd(_mm256_castsi256_pd(ok[b]));
    if (good != 0xf) {
      alignas(32) double in[4];
      _mm256_store_pd(in, v[b]);  // x may be u
      for (int j = 0; j < 4; ++j)
        if (!((good >> j) & 1)) x[i + 4 * b + j] = table(in[j]);
    }
  }
}

// Returns how many elements it did (a multiple of four).
__attribute__((target("avx2"))) std::size_t beta_table_avx2(const QuantileTable& table,
                                                            const double* u, double* x,
                                                            std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) beta_table4<2>(table, u, x, i);
  if (i + 4 <= n) {
    beta_table4<1>(table, u, x, i);
    i += 4;
  }
  return i;
}

COUNTYSIM_AVX512_BEGIN
// The kNodes coefficients of the eight lanes' pieces, c[k] lane j =
// coef[base j + k]: each lane's piece loaded whole (its coefficients are
// contiguous) and the 8 x 12 block transposed, instead of twelve gathers.
COUNTYSIM_AVX512_TARGET inline void load_pieces8(const double* coef, __m512i base,
                                                 __m512d (&c)[kNodes]) {
  static_assert(kNodes == 12, "eight and four coefficients a piece below");
  alignas(64) std::int64_t at[8];
  _mm512_store_si512(at, base);
  __m512d lo[8];  // coefficients 0-7 of lane j
  __m256d hi[8];  // coefficients 8-11 of lane j
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) {
    lo[j] = _mm512_loadu_pd(coef + at[j]);
    hi[j] = _mm256_loadu_pd(coef + at[j] + 8);
  }
  transpose8x8(lo, c);
  // Coefficients 8-11: lanes j and j + 4 in one register, pairs of 128-bit
  // lanes (0, 2) and (1, 3) of two registers, as transpose8x8 does.
  const __m512i even = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
  const __m512i odd = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
  __m512d h[4];
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j)
    h[j] = _mm512_insertf64x4(_mm512_castpd256_pd512(hi[j]), hi[j + 4], 1);
  const __m512d s0 = _mm512_unpacklo_pd(h[0], h[1]), s1 = _mm512_unpackhi_pd(h[0], h[1]);
  const __m512d s2 = _mm512_unpacklo_pd(h[2], h[3]), s3 = _mm512_unpackhi_pd(h[2], h[3]);
  c[8] = _mm512_permutex2var_pd(s0, even, s2);
  c[10] = _mm512_permutex2var_pd(s0, odd, s2);
  c[9] = _mm512_permutex2var_pd(s1, even, s3);
  c[11] = _mm512_permutex2var_pd(s1, odd, s3);
}

// beta_table_avx2 with AVX-512, eight lanes a register and B registers at
// once (the gathers and the Clenshaw steps of the B registers interleaved:
// the steps of one register wait on each other): masks for the lane tests,
// the info entries gathered only for lanes in range, the same operations on
// t and the Clenshaw recurrence in the same order (-ffp-contract=off: no FMA
// although the target has it). Does the 8 B elements from u[i] on.
template <int B>
COUNTYSIM_AVX512_TARGET inline void beta_table8(const QuantileTable& table, const double* u,
                                                double* x, std::size_t i) {
  const QuantileTableLookup& look = *table.lookup;
  const double* coef = look.coef.data();
  const auto* info = look.info.data();
  const __m512d zero = _mm512_setzero_pd(), half = _mm512_set1_pd(0.5);
  const __m512d one = _mm512_set1_pd(1.0);
  const __m512i mant_mask = _mm512_set1_epi64(0xfffffffffffffLL);
  const __m512i one_bits = _mm512_set1_epi64(0x3ff0000000000000LL);
  __m512d v[B], tv[B], t2[B], b1[B], b2[B];
  __m512i base[B];
  __mmask8 upper[B], ok[B];
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    v[b] = _mm512_loadu_pd(u + i + 8 * b);
    const __mmask8 lower =
        _mm512_cmp_pd_mask(v[b], zero, _CMP_GT_OQ) & _mm512_cmp_pd_mask(v[b], half, _CMP_LT_OQ);
    upper[b] =
        _mm512_cmp_pd_mask(v[b], half, _CMP_GT_OQ) & _mm512_cmp_pd_mask(v[b], one, _CMP_LT_OQ);
    const __m512d p = _mm512_mask_sub_pd(v[b], upper[b], one, v[b]);  // 1 - u exact there
    const __m512i bits = _mm512_castpd_si512(p);
    const __m512i level = _mm512_sub_epi64(_mm512_set1_epi64(1021), _mm512_srli_epi64(bits, 52));
    // 0 <= level < kLevels (unsigned: a negative level is huge), u in a half.
    ok[b] = static_cast<__mmask8>(lower | upper[b]) &
            _mm512_cmplt_epu64_mask(level, _mm512_set1_epi64(kLevels));
    const __m512i slot = _mm512_mask_add_epi64(level, upper[b], level, _mm512_set1_epi64(kLevels));
    const __m512i entry = _mm512_mask_i64gather_epi64(_mm512_set1_epi64(-1), ok[b], slot, info, 8);
    ok[b] &= _mm512_cmpneq_epi64_mask(entry, _mm512_set1_epi64(-1));
    const __m512i shift = _mm512_and_si512(entry, _mm512_set1_epi64(0xff));
    const __m512i mant = _mm512_and_si512(bits, mant_mask);
    const __m512i piece = _mm512_srlv_epi64(mant, _mm512_sub_epi64(_mm512_set1_epi64(52), shift));
    // t = (m - 1) 2^(shift + 1) - (2 piece + 1), m = 1.mant in [1, 2); the
    // odd number below 2^53 converts exactly.
    const __m512d m = _mm512_castsi512_pd(_mm512_or_si512(mant, one_bits));
    const __m512d scale = _mm512_castsi512_pd(
        _mm512_slli_epi64(_mm512_add_epi64(shift, _mm512_set1_epi64(1024)), 52));
    const __m512d odd_d =
        _mm512_cvtepi64_pd(_mm512_add_epi64(_mm512_add_epi64(piece, piece), _mm512_set1_epi64(1)));
    tv[b] = _mm512_maskz_sub_pd(ok[b], _mm512_mul_pd(_mm512_sub_pd(m, one), scale), odd_d);
    // First coefficient of the piece: offset + piece * kNodes (0 in lanes not ok).
    base[b] = _mm512_maskz_add_epi64(
        ok[b], _mm512_srli_epi64(entry, 8),
        _mm512_add_epi64(_mm512_slli_epi64(piece, 3), _mm512_slli_epi64(piece, 2)));  // * 12
    t2[b] = _mm512_add_pd(tv[b], tv[b]);  // 2 * t, exactly
    b1[b] = _mm512_setzero_pd();
    b2[b] = _mm512_setzero_pd();
  }
  static_assert(kNodes == 12, "piece * kNodes above");
  __m512d c[B][kNodes];
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) load_pieces8(coef, base[b], c[b]);
#pragma GCC unroll 16
  for (int k = kDegree; k >= 1; --k) {
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) {
      const __m512d b0 = _mm512_add_pd(_mm512_sub_pd(_mm512_mul_pd(t2[b], b1[b]), b2[b]), c[b][k]);
      b2[b] = b1[b];
      b1[b] = b0;
    }
  }
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    const __m512d q = _mm512_add_pd(_mm512_sub_pd(_mm512_mul_pd(tv[b], b1[b]), b2[b]), c[b][0]);
    // Upper lanes: 1 - Q(1 - u) of the table of Beta(b, a).
    _mm512_storeu_pd(x + i + 8 * b, _mm512_mask_sub_pd(q, upper[b], one, q));
  }
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    if (ok[b] == 0xff) continue;
    alignas(64) double in[8];
    _mm512_store_pd(in, v[b]);  // x may be u
    for (unsigned rest = 0xffu & ~static_cast<unsigned>(ok[b]); rest != 0; rest &= rest - 1) {
      const int j = __builtin_ctz(rest);
      x[i + 8 * b + j] = table(in[j]);
    }
  }
}

// Returns how many elements it did (a multiple of eight).
COUNTYSIM_AVX512_TARGET std::size_t beta_table_avx512(const QuantileTable& table, const double* u,
                                                      double* x, std::size_t n) {
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) beta_table8<4>(table, u, x, i);
  for (; i + 8 <= n; i += 8) beta_table8<1>(table, u, x, i);
  return i;
}
COUNTYSIM_AVX512_END
#endif

}  // namespace

void QuantileTable::operator()(const double* u, double* x, std::size_t n) const {
  std::size_t i = 0;
#if defined(COUNTYSIM_AVX2_QUANTILES)
  const SimdLevel level = simd_level();
  if (level == SimdLevel::avx512)
    i = beta_table_avx512(*this, u, x, n);
  else if (level == SimdLevel::avx2)
    i = beta_table_avx2(*this, u, x, n);
#endif
  for (; i < n; ++i) x[i] = (*this)(u[i]);
}

// ---------------------------------------------------------------------------
// Standard normal.

// Phi(z) = erfc(-z / sqrt 2) / 2. The rounding error d of the argument
// t = -z / sqrt 2 is amplified ~2 t^2 times by erfc (1e-12 relative at z = -37),
// so it is put back to first order: erfc(t + d) = erfc(t) - d 2/sqrt(pi) e^(-t^2).
// erfc and exp are libm_exact's: glibc's bits whichever libm build a CPU gets.
namespace {
constexpr double kHi = 0.70710678118654757;     // 1/sqrt(2) rounded
constexpr double kLo = -4.833646656726457e-17;  // 1/sqrt(2) - kHi

// Only the lower tail needs the correction: for t < -1, erfc(t) = 2 - erfc(-t) is near 2.
inline bool corrected(double t) {
  return t >= 1 && t < 28;
}

// The correction's terms: d and exp(-t^2) (e) given.
inline double corrected_cdf(double z, double t, double erfc_t, double e) {
  const double d = std::fma(-z, kHi, -t) - z * kLo;
  return 0.5 * erfc_t - d * 0.56418958354775628 * e;
}
}  // namespace

double normal_cdf(double z) {
  const double t = -z * kHi;
  if (!corrected(t)) return 0.5 * exact_erfc(t);
  return corrected_cdf(z, t, exact_erfc(t), exact_exp(-t * t));
}

void normal_cdf(const double* z, double* out, std::size_t n) {
  exact_normal_cdf(z, out, n);  // the same operations on whole registers
}

namespace {

// Horner: c[0] + c[1] x + ... + c[N-1] x^(N-1).
template <std::size_t N>
inline double poly(const double (&c)[N], double x) {
  double s = c[N - 1];
  // Unrolled (as -O3 would; -O2 keeps the loop): c[N-2] down to c[0].
#pragma GCC unroll 16
  for (std::size_t k = 2; k <= N; ++k) s = s * x + c[N - k];
  return s;
}

// Coefficients of AS 241: central region (a/b), |q| <= 0.425; intermediate
// tail (c/d), r <= 5; far tail (e/f).
constexpr double kA[] = {3.3871328727963666080e0,  1.3314166789178437745e+2,
                         1.9715909503065514427e+3, 1.3731693765509461125e+4,
                         4.5921953931549871457e+4, 6.7265770927008700853e+4,
                         3.3430575583588128105e+4, 2.5090809287301226727e+3};
constexpr double kB[] = {1.0,
                         4.2313330701600911252e+1,
                         6.8718700749205790830e+2,
                         5.3941960214247511077e+3,
                         2.1213794301586595867e+4,
                         3.9307895800092710610e+4,
                         2.8729085735721942674e+4,
                         5.2264952788528545610e+3};
// kAs241C .. kAs241F: the tails (libm_exact's vector kernel shares them).
#include "libm_exact_as241.inc"
constexpr const auto& kC = kAs241C;
constexpr const auto& kD = kAs241D;
constexpr const auto& kE = kAs241E;
constexpr const auto& kF = kAs241F;

}  // namespace

// Wichura (1988), Algorithm AS 241 (PPND16): relative error about 1e-16.
double normal_quantile(double u) {
  if (!(u > 0)) return u == 0 ? -kInf : std::numeric_limits<double>::quiet_NaN();
  if (!(u < 1)) return u == 1 ? kInf : std::numeric_limits<double>::quiet_NaN();
  const double q = u - 0.5;
  if (std::abs(q) <= 0.425) {
    const double r = 0.180625 - q * q;
    return q * poly(kA, r) / poly(kB, r);
  }
  // 1 - u is exact for u >= 1/2.
  const double r = std::sqrt(-exact_log(q < 0 ? u : 1.0 - u));
  const double x =
      r <= 5.0 ? poly(kC, r - 1.6) / poly(kD, r - 1.6) : poly(kE, r - 5.0) / poly(kF, r - 5.0);
  return q < 0 ? -x : x;
}

namespace {

#if defined(COUNTYSIM_AVX2_QUANTILES)
// Horner over four lanes, as poly() does it (multiply, then add: target
// avx2 without fma, so never contracted), B registers at once, their steps
// interleaved (the steps of one polynomial wait on each other).
template <std::size_t N, int B>
__attribute__((target("avx2"))) inline void poly4(const double (&c)[N], const __m256d (&x)[B],
                                                  __m256d (&s)[B]) {
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) s[b] = _mm256_set1_pd(c[N - 1]);
#pragma GCC unroll 16
  for (std::size_t k = 2; k <= N; ++k)
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b)
      s[b] = _mm256_add_pd(_mm256_mul_pd(s[b], x[b]), _mm256_set1_pd(c[N - k]));
}

// The central formula for the 4 B elements from u[i] on (B registers at
// once), every lane stored in z; the tail lanes' u and places appended to
// the list (tail_u, tail_at, tails; z may be u, so the list keeps the
// inputs); 0, 1, beyond and NaN done by the scalar function.
template <int B>
__attribute__((target("avx2"))) inline void normal_central4(const double* u, double* z,
                                                            std::size_t i, double* tail_u,
                                                            std::size_t* tail_at,
                                                            std::size_t& tails) {
  const __m256d half = _mm256_set1_pd(0.5), bound = _mm256_set1_pd(0.425);
  const __m256d r0 = _mm256_set1_pd(0.180625);
  const __m256d sign = _mm256_set1_pd(-0.0);
  __m256d uu[B], q[B], r[B], num[B], den[B];
  int inside[B], all = 0xf;
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    uu[b] = _mm256_loadu_pd(u + i + 4 * b);
    q[b] = _mm256_sub_pd(uu[b], half);
    inside[b] = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_andnot_pd(sign, q[b]), bound, _CMP_LE_OQ));
    all &= inside[b];
    r[b] = _mm256_sub_pd(r0, _mm256_mul_pd(q[b], q[b]));
  }
  poly4(kA, r, num);
  poly4(kB, r, den);
  // Every lane stored; the others are overwritten below (the tails once the
  // run is done), visiting only their bits.
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b)
    _mm256_storeu_pd(z + i + 4 * b, _mm256_div_pd(_mm256_mul_pd(q[b], num[b]), den[b]));
  if (all == 0xf) return;
  const __m256d zero = _mm256_setzero_pd(), one = _mm256_set1_pd(1.0);
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    if (inside[b] == 0xf) continue;
    const int open = _mm256_movemask_pd(_mm256_and_pd(_mm256_cmp_pd(uu[b], zero, _CMP_GT_OQ),
                                                      _mm256_cmp_pd(uu[b], one, _CMP_LT_OQ)));
    alignas(32) double in[4];
    _mm256_store_pd(in, uu[b]);
    const std::size_t at = i + 4 * b;
    for (int rest = open & ~inside[b]; rest != 0; rest &= rest - 1) {
      const int j = __builtin_ctz(static_cast<unsigned>(rest));
      tail_u[tails] = in[j];
      tail_at[tails++] = at + j;
    }
    for (int rest = 0xf & ~open & ~inside[b]; rest != 0; rest &= rest - 1) {
      const int j = __builtin_ctz(static_cast<unsigned>(rest));
      z[at + j] = normal_quantile(in[j]);
    }
  }
}

// Runs of normal_quantile's array forms: the tail lanes of a run (up to
// eight of the sampler's blocks of 64 draws: it passes several inputs' arrays
// at once) are gathered while its central lanes are stored, then done
// together by exact_normal_tails (the log in the registers, two registers at
// once); the list padded with u = 1/2 to whole registers (outputs unused).
constexpr std::size_t kTailRun = 512;

inline void pad_tails(double* tail_u, std::size_t tails, std::size_t& padded) {
  padded = (tails + 7) / 8 * 8;
  for (std::size_t k = tails; k < padded; ++k) tail_u[k] = 0.5;
}

// normal_quantile over an array: the central region (|q| <= 0.425, the
// rational polynomial) four lanes at a time, two registers at once; the tail
// lanes of each run gathered and done by exact_normal_tails once the run's
// central lanes are stored. 0, 1, beyond and NaN go to the scalar function.
// Returns how many elements it did (a multiple of four).
__attribute__((target("avx2"))) std::size_t normal_quantile_avx2(const double* u, double* z,
                                                                 std::size_t n) {
  std::size_t i = 0;
  while (i + 4 <= n) {
    // One run: up to kTailRun elements, whole blocks of four.
    const std::size_t end = i + std::min(kTailRun, (n - i) / 4 * 4);
    alignas(32) double tail_u[kTailRun + 8], tail_z[kTailRun + 8];
    std::size_t tail_at[kTailRun + 8], tails = 0, padded;
    for (; i + 8 <= end; i += 8) normal_central4<2>(u, z, i, tail_u, tail_at, tails);
    if (i < end) {
      normal_central4<1>(u, z, i, tail_u, tail_at, tails);
      i += 4;
    }
    if (tails == 0) continue;
    pad_tails(tail_u, tails, padded);
    exact_normal_tails(tail_u, tail_z, padded);
    for (std::size_t k = 0; k < tails; ++k) z[tail_at[k]] = tail_z[k];
  }
  return i;
}

COUNTYSIM_AVX512_BEGIN
// The same with AVX-512, eight lanes a register, B registers at once: the
// Horner steps of the B registers' two polynomials interleaved (the steps of
// one polynomial wait on each other), the same operations in the same order
// in every lane (-ffp-contract=off: no FMA although the target has it).
template <std::size_t N, int B>
COUNTYSIM_AVX512_TARGET inline void poly8(const double (&c)[N], const __m512d (&x)[B],
                                          __m512d (&s)[B]) {
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) s[b] = _mm512_set1_pd(c[N - 1]);
#pragma GCC unroll 16
  for (std::size_t k = 2; k <= N; ++k)
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b)
      s[b] = _mm512_add_pd(_mm512_mul_pd(s[b], x[b]), _mm512_set1_pd(c[N - k]));
}

// The central formula for the 8 B elements from u[i] on, all stored in z;
// the tail lanes' u and places appended to the list (tail_u, tail_at, tails;
// z may be u, so the list keeps the inputs); 0, 1, beyond and NaN done by
// the scalar function.
template <int B>
COUNTYSIM_AVX512_TARGET inline void normal_central8(const double* u, double* z, std::size_t i,
                                                    double* tail_u, std::int64_t* tail_at,
                                                    std::size_t& tails) {
  const __m512d half = _mm512_set1_pd(0.5), bound = _mm512_set1_pd(0.425);
  const __m512d r0 = _mm512_set1_pd(0.180625);
  __m512d uu[B], q[B], r[B], num[B], den[B];
  __mmask8 central[B];
  unsigned all = 0xff;
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    uu[b] = _mm512_loadu_pd(u + i + 8 * b);
    q[b] = _mm512_sub_pd(uu[b], half);
    central[b] = _mm512_cmp_pd_mask(_mm512_abs_pd(q[b]), bound, _CMP_LE_OQ);
    all &= central[b];
    r[b] = _mm512_sub_pd(r0, _mm512_mul_pd(q[b], q[b]));
  }
  poly8(kA, r, num);
  poly8(kB, r, den);
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b)  // every lane; the others are overwritten later
    _mm512_storeu_pd(z + i + 8 * b, _mm512_div_pd(_mm512_mul_pd(q[b], num[b]), den[b]));
  if (all == 0xff) return;
  const __m512d zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0);
  const __m512i lanes = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    if (central[b] == 0xff) continue;
    const __mmask8 open =
        _mm512_cmp_pd_mask(uu[b], zero, _CMP_GT_OQ) & _mm512_cmp_pd_mask(uu[b], one, _CMP_LT_OQ);
    const __mmask8 tail = open & static_cast<__mmask8>(~central[b]);
    const std::size_t at = i + 8 * b;
    _mm512_storeu_pd(tail_u + tails, _mm512_maskz_compress_pd(tail, uu[b]));
    _mm512_storeu_si512(
        tail_at + tails,
        _mm512_maskz_compress_epi64(
            tail, _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(at)), lanes)));
    tails += static_cast<std::size_t>(__builtin_popcount(tail));
    const unsigned other =
        0xffu & ~static_cast<unsigned>(open) & ~static_cast<unsigned>(central[b]);
    if (other != 0) {
      alignas(64) double in[8];
      _mm512_store_pd(in, uu[b]);
      for (unsigned rest = other; rest != 0; rest &= rest - 1) {
        const int j = __builtin_ctz(rest);
        z[at + j] = normal_quantile(in[j]);
      }
    }
  }
}

// normal_quantile_avx2 with AVX-512: four registers at once, then single
// registers; each run's tail lanes (up to kTailRun) done together once the
// run is stored and scattered to their places. Returns how many elements it
// did (a multiple of eight).
COUNTYSIM_AVX512_TARGET std::size_t normal_quantile_avx512(const double* u, double* z,
                                                           std::size_t n) {
  std::size_t i = 0;
  while (i + 8 <= n) {
    const std::size_t end = i + std::min(kTailRun, (n - i) / 8 * 8);
    alignas(64) double tail_u[kTailRun + 8], tail_z[kTailRun + 8];
    alignas(64) std::int64_t tail_at[kTailRun + 8];
    std::size_t tails = 0, padded;
    for (; i + 32 <= end; i += 32) normal_central8<4>(u, z, i, tail_u, tail_at, tails);
    for (; i + 8 <= end; i += 8) normal_central8<1>(u, z, i, tail_u, tail_at, tails);
    if (tails == 0) continue;
    pad_tails(tail_u, tails, padded);
    exact_normal_tails(tail_u, tail_z, padded);
    for (std::size_t k = 0; k < tails; k += 8) {
      const std::size_t m = std::min<std::size_t>(8, tails - k);
      const auto live = static_cast<__mmask8>((1u << m) - 1);
      _mm512_mask_i64scatter_pd(z, live, _mm512_maskz_loadu_epi64(live, tail_at + k),
                                _mm512_load_pd(tail_z + k), 8);
    }
  }
  return i;
}
COUNTYSIM_AVX512_END
#endif

}  // namespace

namespace {
#if defined(COUNTYSIM_AVX2_QUANTILES)
constexpr double kCopulaLowest = 0x1.0p-60, kCopulaHighest = 1 - 0x1.0p-53;
// copula_uniform's bounds as compares and blends (a NaN passes, as there).
__attribute__((target("avx2"))) std::size_t copula_uniform_avx2(const double* u, double* x,
                                                                std::size_t n) {
  const __m256d lo = _mm256_set1_pd(kCopulaLowest), hi = _mm256_set1_pd(kCopulaHighest);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d v = _mm256_loadu_pd(u + i);
    const __m256d r = _mm256_blendv_pd(v, hi, _mm256_cmp_pd(v, hi, _CMP_GT_OQ));
    _mm256_storeu_pd(x + i, _mm256_blendv_pd(r, lo, _mm256_cmp_pd(v, lo, _CMP_LT_OQ)));
  }
  return i;
}
COUNTYSIM_AVX512_BEGIN
COUNTYSIM_AVX512_TARGET std::size_t copula_uniform_avx512(const double* u, double* x,
                                                          std::size_t n) {
  const __m512d lo = _mm512_set1_pd(kCopulaLowest), hi = _mm512_set1_pd(kCopulaHighest);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d v = _mm512_loadu_pd(u + i);
    const __m512d r = _mm512_mask_mov_pd(v, _mm512_cmp_pd_mask(v, hi, _CMP_GT_OQ), hi);
    _mm512_storeu_pd(x + i, _mm512_mask_mov_pd(r, _mm512_cmp_pd_mask(v, lo, _CMP_LT_OQ), lo));
  }
  return i;
}
COUNTYSIM_AVX512_END
#endif
}  // namespace

void copula_uniform(const double* u, double* x, std::size_t n) {
  std::size_t i = 0;
#if defined(COUNTYSIM_AVX2_QUANTILES)
  const SimdLevel level = simd_level();
  if (level == SimdLevel::avx512)
    i = copula_uniform_avx512(u, x, n);
  else if (level == SimdLevel::avx2)
    i = copula_uniform_avx2(u, x, n);
#endif
  for (; i < n; ++i) x[i] = copula_uniform(u[i]);
}

void normal_quantile(const double* u, double* z, std::size_t n) {
  std::size_t i = 0;
#if defined(COUNTYSIM_AVX2_QUANTILES)
  const SimdLevel level = simd_level();
  if (level == SimdLevel::avx512)
    i = normal_quantile_avx512(u, z, n);
  else if (level == SimdLevel::avx2)
    i = normal_quantile_avx2(u, z, n);
#endif
  for (; i < n; ++i) z[i] = normal_quantile(u[i]);
}

double normal_pdf(double z) {
  return 0.3989422804014327 * std::exp(-0.5 * z * z);
}

}  // namespace countysim
