#include "countysim/sampling.hpp"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "simd_transpose.hpp"
#endif

#include "countysim/rng.hpp"
#include "countysim/simd.hpp"

namespace countysim {

namespace {

#if defined(__x86_64__) && defined(__GNUC__)
// out[i] += l * z[i], four at a time (a multiply, then an add: target avx2
// without fma, so the same roundings as the scalar loop); out[i] = +0 + l *
// z[i] when `first` (the sum's start, without a zero fill). Returns how
// many it did.
__attribute__((target("avx2"))) std::size_t add_scaled_avx2(double* out, double l, const double* z,
                                                            std::size_t n, bool first) {
  const __m256d lv = _mm256_set1_pd(l);
  std::size_t i = 0;
  if (first) {
    const __m256d zero = _mm256_setzero_pd();
    for (; i + 4 <= n; i += 4)
      _mm256_storeu_pd(out + i, _mm256_add_pd(zero, _mm256_mul_pd(lv, _mm256_loadu_pd(z + i))));
    return i;
  }
  for (; i + 4 <= n; i += 4)
    _mm256_storeu_pd(out + i, _mm256_add_pd(_mm256_loadu_pd(out + i),
                                            _mm256_mul_pd(lv, _mm256_loadu_pd(z + i))));
  return i;
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
// The 4 x 4 tiles of transpose() (below), with AVX2; returns how many slots
// it did (a multiple of four).
// The first `count` slots of a block of `slots` (out's row length).
__attribute__((target("avx2"))) std::size_t transpose_avx2(const double* in, std::size_t count,
                                                           std::size_t slots, std::size_t n,
                                                           double* out) {
  std::size_t s = 0;
  for (; s + 4 <= count; s += 4) {
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const __m256d a0 = _mm256_loadu_pd(in + s * n + i);
      const __m256d a1 = _mm256_loadu_pd(in + (s + 1) * n + i);
      const __m256d a2 = _mm256_loadu_pd(in + (s + 2) * n + i);
      const __m256d a3 = _mm256_loadu_pd(in + (s + 3) * n + i);
      const __m256d t0 = _mm256_unpacklo_pd(a0, a1), t1 = _mm256_unpackhi_pd(a0, a1);
      const __m256d t2 = _mm256_unpacklo_pd(a2, a3), t3 = _mm256_unpackhi_pd(a2, a3);
      _mm256_storeu_pd(out + i * slots + s, _mm256_permute2f128_pd(t0, t2, 0x20));
      _mm256_storeu_pd(out + (i + 1) * slots + s, _mm256_permute2f128_pd(t1, t3, 0x20));
      _mm256_storeu_pd(out + (i + 2) * slots + s, _mm256_permute2f128_pd(t0, t2, 0x31));
      _mm256_storeu_pd(out + (i + 3) * slots + s, _mm256_permute2f128_pd(t1, t3, 0x31));
    }
    for (; i < n; ++i)
      for (std::size_t k = 0; k < 4; ++k) out[i * slots + s + k] = in[(s + k) * n + i];
  }
  return s;
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
COUNTYSIM_AVX512_BEGIN
// add_scaled_avx2 eight at a time with AVX-512 (a multiply, then an add:
// -ffp-contract=off, so no FMA although the target has it).
COUNTYSIM_AVX512_TARGET std::size_t add_scaled_avx512(double* out, double l, const double* z,
                                                      std::size_t n, bool first) {
  const __m512d lv = _mm512_set1_pd(l);
  std::size_t i = 0;
  if (first) {
    const __m512d zero = _mm512_setzero_pd();
    for (; i + 8 <= n; i += 8)
      _mm512_storeu_pd(out + i, _mm512_add_pd(zero, _mm512_mul_pd(lv, _mm512_loadu_pd(z + i))));
    return i;
  }
  for (; i + 8 <= n; i += 8)
    _mm512_storeu_pd(out + i, _mm512_add_pd(_mm512_loadu_pd(out + i),
                                            _mm512_mul_pd(lv, _mm512_loadu_pd(z + i))));
  return i;
}

// The 8 x 8 tiles of transpose() with AVX-512; returns how many slots it
// did (a multiple of eight).
COUNTYSIM_AVX512_TARGET std::size_t transpose_avx512(const double* in, std::size_t slots,
                                                     std::size_t n, double* out) {
  std::size_t s = 0;
  for (; s + 8 <= slots; s += 8) {
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      __m512d r[8];
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) r[k] = _mm512_loadu_pd(in + (s + k) * n + i);
      __m512d c[8];
      transpose8x8(r, c);
      double* o = out + i * slots + s;
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) _mm512_storeu_pd(o + k * slots, c[k]);
    }
    for (; i < n; ++i)
      for (std::size_t k = 0; k < 8; ++k) out[i * slots + s + k] = in[(s + k) * n + i];
  }
  return s;
}
COUNTYSIM_AVX512_END
#endif

// out[i * slots + s] = in[s * n + i]: the block by draw instead of by slot.
void transpose(const double* in, std::size_t slots, std::size_t n, double* out) {
  std::size_t s = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  const SimdLevel level = simd_level();
  if (level == SimdLevel::avx512) s = transpose_avx512(in, slots, n, out);
  // The rest of the slots in fours (AVX-512 implies AVX2).
  if (level >= SimdLevel::avx2) s += transpose_avx2(in + s * n, slots - s, slots, n, out + s);
#endif
  for (; s < slots; ++s)
    for (std::size_t i = 0; i < n; ++i) out[i * slots + s] = in[s * n + i];
}

#if defined(__x86_64__) && defined(__GNUC__)
// transpose_rows (below) with AVX2 for up to four draws: 4 x 4 tiles, the
// columns of draws past `count` not read (masked loads). Returns how many
// slots it did (a multiple of four).
__attribute__((target("avx2"))) std::size_t transpose_rows_avx2(const double* in, std::size_t slots,
                                                                std::size_t stride,
                                                                std::size_t count,
                                                                double* const* out) {
  const __m256i live = _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(count)),
                                          _mm256_setr_epi64x(0, 1, 2, 3));
  std::size_t s = 0;
  for (; s + 4 <= slots; s += 4) {
    const __m256d a0 = _mm256_maskload_pd(in + s * stride, live);
    const __m256d a1 = _mm256_maskload_pd(in + (s + 1) * stride, live);
    const __m256d a2 = _mm256_maskload_pd(in + (s + 2) * stride, live);
    const __m256d a3 = _mm256_maskload_pd(in + (s + 3) * stride, live);
    const __m256d t0 = _mm256_unpacklo_pd(a0, a1), t1 = _mm256_unpackhi_pd(a0, a1);
    const __m256d t2 = _mm256_unpacklo_pd(a2, a3), t3 = _mm256_unpackhi_pd(a2, a3);
    const __m256d c[4] = {
        _mm256_permute2f128_pd(t0, t2, 0x20), _mm256_permute2f128_pd(t1, t3, 0x20),
        _mm256_permute2f128_pd(t0, t2, 0x31), _mm256_permute2f128_pd(t1, t3, 0x31)};
    if (count == 4) {  // a whole tile: no loop over the draws
      _mm256_storeu_pd(out[0] + s, c[0]);
      _mm256_storeu_pd(out[1] + s, c[1]);
      _mm256_storeu_pd(out[2] + s, c[2]);
      _mm256_storeu_pd(out[3] + s, c[3]);
    } else {
      for (std::size_t k = 0; k < count; ++k) _mm256_storeu_pd(out[k] + s, c[k]);
    }
  }
  return s;
}

COUNTYSIM_AVX512_BEGIN
// The same with AVX-512 for up to eight draws: 8 x 8 tiles.
COUNTYSIM_AVX512_TARGET std::size_t transpose_rows_avx512(const double* in, std::size_t slots,
                                                          std::size_t stride, std::size_t count,
                                                          double* const* out) {
  std::size_t s = 0;
  for (; s + 8 <= slots; s += 8) {
    // Every draw of the group for these eight slots before the next slots:
    // each slot's values of the group read in one go (adjacent lines).
    for (std::size_t k0 = 0; k0 < count; k0 += 8) {
      const std::size_t m = std::min<std::size_t>(8, count - k0);
      const auto live = static_cast<__mmask8>((1u << m) - 1);
      __m512d r[8];
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) r[k] = _mm512_maskz_loadu_pd(live, in + k0 + (s + k) * stride);
      __m512d c[8];
      transpose8x8(r, c);
      double* const* o = out + k0;
      if (m == 8) {  // a whole tile: no loop over the draws
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) _mm512_storeu_pd(o[k] + s, c[k]);
      } else {
        for (std::size_t k = 0; k < m; ++k) _mm512_storeu_pd(o[k] + s, c[k]);
      }
    }
  }
  return s;
}
COUNTYSIM_AVX512_END
#endif

// out[k][s] = in[s * stride + k] for the first `count` draws of a block
// (in: the block's values from the first of them, slot by slot): the rows
// of those draws.
void transpose_rows(const double* in, std::size_t slots, std::size_t stride, std::size_t count,
                    double* const* out) {
#if defined(__x86_64__) && defined(__GNUC__)
  const SimdLevel level = simd_level();
  if (level == SimdLevel::avx512) {
    const std::size_t s = transpose_rows_avx512(in, slots, stride, count, out);
    for (std::size_t j = 0; j < count; ++j)
      for (std::size_t t = s; t < slots; ++t) out[j][t] = in[t * stride + j];
    return;
  }
  if (level == SimdLevel::avx2) {
    for (std::size_t k = 0; k < count; k += 4) {
      const std::size_t m = std::min<std::size_t>(4, count - k);
      const std::size_t s = transpose_rows_avx2(in + k, slots, stride, m, out + k);
      for (std::size_t j = 0; j < m; ++j)
        for (std::size_t t = s; t < slots; ++t) out[k + j][t] = in[t * stride + k + j];
    }
    return;
  }
#endif
  for (std::size_t k = 0; k < count; ++k)
    for (std::size_t s = 0; s < slots; ++s) out[k][s] = in[s * stride + k];
}

// out[i] += l * z[i], or out[i] = +0 + l * z[i] when `first`.
void add_scaled(double* out, double l, const double* z, std::size_t n, bool first) {
  std::size_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  const SimdLevel level = simd_level();
  if (level == SimdLevel::avx512)
    i = add_scaled_avx512(out, l, z, n, first);
  else if (level == SimdLevel::avx2)
    i = add_scaled_avx2(out, l, z, n, first);
#endif
  for (; i < n; ++i) out[i] = (first ? 0.0 : out[i]) + l * z[i];
}

// sample_inputs_block; the constant slots are left alone unless
// `fill_constants` (InputBlock fills them once a plan).
void sample_block(const Plan& plan, std::uint64_t seed, std::uint64_t first, std::size_t n,
                  std::vector<double>& values, std::vector<double>& scratch, bool fill_constants) {
  const std::size_t slots = plan.slots.size();
  values.resize(slots * n);
  if (fill_constants)
    for (std::size_t s = 0; s < slots; ++s)
      if (!plan.slots[s].random) std::fill_n(values.begin() + s * n, n, plan.constant_values[s]);
  // Uniforms; inputs outside copula groups go through their inverse CDF at
  // once, grouped ones keep the uniform for the copula below. Plain normals
  // (plain_normal()) wait for the run of consecutive slots they are in.
  const StreamKeys keys(seed);
  const auto pooled = [&](int i) {
    const InputSlot& s = plan.slots[i];
    return s.group < 0 && s.dist.plain_normal();
  };
  for (const int i : plan.random_slots) {
    const InputSlot& s = plan.slots[i];
    double* u = values.data() + static_cast<std::size_t>(i) * n;
    stream_uniform_block(keys, s.hash, first, n, u);
    // Uniforms lie inside (0, 1): the unchecked quantile.
    if (s.group < 0 && !pooled(i)) s.dist.quantile_open(u, u, n);
  }
  // The plain normals: normal_quantile over each run of consecutive slots at
  // once (their tail lanes gathered together: fewer part-filled registers),
  // then mean + sd z slot by slot; quantile_open's bits.
  const std::vector<int>& rs = plan.random_slots;
  for (std::size_t a = 0; a < rs.size();) {
    if (!pooled(rs[a])) {
      ++a;
      continue;
    }
    std::size_t b = a + 1;
    while (b < rs.size() && rs[b] == rs[b - 1] + 1 && pooled(rs[b])) ++b;
    double* u = values.data() + static_cast<std::size_t>(rs[a]) * n;
    normal_quantile(u, u, (b - a) * n);
    for (std::size_t k = a; k < b; ++k) {
      double* x = values.data() + static_cast<std::size_t>(rs[k]) * n;
      plan.slots[rs[k]].dist.from_normal_scores(x, x, n);
    }
    a = b;
  }
  // Copula groups, the arithmetic of sample_inputs in the same order, one
  // member (or correlated row) at a time over the block; the normal
  // quantiles and CDFs over the whole group at once where its arrays are
  // contiguous.
  for (const CopulaGroup& g : plan.groups) {
    const std::size_t m = g.slots.size();
    scratch.resize(2 * m * n);
    double* z = scratch.data();           // [member][i] normal scores
    double* zc = scratch.data() + m * n;  // [member][i] correlated scores
    bool consecutive = true, plain = true;
    for (std::size_t k = 0; k < m; ++k) {
      consecutive = consecutive && g.slots[k] == g.slots[0] + static_cast<int>(k);
      plain = plain && plan.slots[g.slots[k]].dist.plain_normal();
    }
    if (consecutive) {
      normal_quantile(values.data() + static_cast<std::size_t>(g.slots[0]) * n, z, m * n);
    } else {
      for (std::size_t k = 0; k < m; ++k) {
        const double* u = values.data() + static_cast<std::size_t>(g.slots[k]) * n;
        normal_quantile(u, z + k * n, n);
      }
    }
    for (std::size_t r = 0; r < m; ++r) {
      double* out = zc + r * n;
      // sample_inputs starts each sum at +0: the first term is +0 + l z.
      add_scaled(out, g.lower(r, 0), z, n, true);
      for (std::size_t k = 1; k <= r; ++k) add_scaled(out, g.lower(r, k), z + k * n, n, false);
    }
    normal_cdf(zc, zc, m * n);
    copula_uniform(zc, zc, m * n);
    // The quantiles: copula_uniform's u lie inside (0, 1) unless NaN, so
    // for plain normals quantile(u) is normal_quantile, then mean + sd z.
    if (plain && std::none_of(zc, zc + m * n, [](double v) { return std::isnan(v); })) {
      normal_quantile(zc, zc, m * n);
      for (std::size_t k = 0; k < m; ++k)
        plan.slots[g.slots[k]].dist.from_normal_scores(
            zc + k * n, values.data() + static_cast<std::size_t>(g.slots[k]) * n, n);
      continue;
    }
    for (std::size_t k = 0; k < m; ++k) {
      const InputSlot& s = plan.slots[g.slots[k]];
      double* x = values.data() + static_cast<std::size_t>(g.slots[k]) * n;
      std::copy(zc + k * n, zc + (k + 1) * n, x);
      s.dist.quantile(x, x, n);  // checked (a vector check: cheaper than one in the loop above)
    }
  }
}

}  // namespace

void sample_inputs_block(const Plan& plan, std::uint64_t seed, std::uint64_t first, std::size_t n,
                         std::vector<double>& values, std::vector<double>& scratch) {
  sample_block(plan, seed, first, n, values, scratch, true);
}

void InputBlock::refill(const Plan& plan, std::uint64_t seed, std::uint64_t draw) {
  if (plan.id == plan_id_ && seed == seed_ && draw >= first_ && draw - first_ < n_) return;
  sample_block(plan, seed, draw, capacity, values_, scratch_, plan.id != plan_id_);
  plan_id_ = plan.id;
  seed_ = seed;
  first_ = draw;
  n_ = capacity;
  rows_ready_ = false;
}

void InputBlock::inputs(const Plan& plan, std::uint64_t seed, std::uint64_t draw,
                        std::vector<double>& values) {
  if (plan.id == 0) {  // a plan not made by compile_plan: no identity to cache by
    std::vector<double> scratch;
    sample_inputs(plan, seed, draw, values, scratch);
    return;
  }
  refill(plan, seed, draw);
  const std::size_t slots = plan.slots.size(), i = draw - first_;
  if (!rows_ready_) {
    rows_.resize(values_.size());
    transpose(values_.data(), slots, n_, rows_.data());
    rows_ready_ = true;
  }
  values.assign(rows_.begin() + i * slots, rows_.begin() + (i + 1) * slots);
}

void InputBlock::write_rows(const Plan& plan, std::uint64_t seed, std::uint64_t first,
                            std::size_t n, double* const* out) {
  const std::size_t slots = plan.slots.size();
  if (plan.id == 0) {  // as inputs(): sample_inputs draw by draw
    std::vector<double> values, scratch;
    for (std::size_t j = 0; j < n; ++j) {
      sample_inputs(plan, seed, first + j, values, scratch);
      std::copy(values.begin(), values.end(), out[j]);
    }
    return;
  }
  for (std::size_t j = 0; j < n;) {
    refill(plan, seed, first + j);
    const std::size_t i = first + j - first_, m = std::min(n - j, n_ - i);
    transpose_rows(values_.data() + i, slots, n_, m, out + j);
    j += m;
  }
}

}  // namespace countysim
