// Exact quantiles from windows kept while the draws are made
// (streaming_quantiles.hpp).
#include "countysim/streaming_quantiles.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "countysim/simd.hpp"

namespace countysim {

namespace {

constexpr float inf = std::numeric_limits<float>::infinity();

struct Sorted {
  std::uint64_t below = 0, eq_lo = 0, eq_hi = 0;
};

// Counts x[0, n) below lo, equal to lo and (when hi != lo) equal to hi, and
// appends the values strictly between lo and hi to `inner`.
Sorted sort_scalar(const float* x, std::size_t n, float lo, float hi, std::vector<float>& inner) {
  Sorted s;
  const bool two = hi != lo;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    s.below += v < lo;
    s.eq_lo += v == lo;
    s.eq_hi += two && v == hi;
    if (lo < v && v < hi) inner.push_back(v);
  }
  return s;
}

// The lanes of x whose bit is set in `mask`, in lane order, at the front:
// compress_lanes[mask] lists them (the rest is padding).
struct CompressLanes {
  std::uint8_t lane[256][8];
  constexpr CompressLanes() : lane() {
    for (unsigned m = 0; m < 256; ++m) {
      unsigned k = 0;
      for (unsigned i = 0; i < 8; ++i)
        if (m >> i & 1) lane[m][k++] = static_cast<std::uint8_t>(i);
    }
  }
};
constexpr CompressLanes compress_lanes;

__attribute__((target("avx2"))) std::uint64_t lane_sum(__m256i a) {
  alignas(32) std::uint32_t l[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(l), a);
  std::uint64_t t = 0;
  for (std::uint32_t c : l) t += c;
  return t;
}

// Scratch for the vector paths' inner values: a block's values and a vector
// more (every store writes a whole vector).
float* inner_room(std::size_t n) {
  thread_local std::vector<float> room;
  if (room.size() < n + 16) room.resize(n + 16);
  return room.data();
}

// Counts from lanes below lo, at most lo, below hi and at most hi (the
// counts of values equal to an edge and strictly inside are differences).
Sorted counts(std::uint64_t lt_lo, std::uint64_t le_lo, std::uint64_t lt_hi, std::uint64_t le_hi,
              bool two) {
  Sorted s;
  s.below = lt_lo;
  s.eq_lo = le_lo - lt_lo;
  if (two) s.eq_hi = le_hi - lt_hi;
  return s;
}

// One pass: four comparisons a vector are counted in vector lanes, and the
// lanes strictly inside (few once the windows are narrow) are packed to the
// front of the vector by a table permutation and stored, whatever their
// number, after those so far, then appended in block order. (Counting each
// outcome with its own comparison and popcount took five comparisons a
// vector, and a second pass for the values inside.)
__attribute__((target("avx2,popcnt"))) Sorted sort_avx2(const float* x, std::size_t n, float lo,
                                                        float hi, std::vector<float>& inner) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  // Lanes count up to 2^31 each: a block is far smaller.
  __m256i lt_lo = _mm256_setzero_si256(), le_lo = lt_lo, lt_hi = lt_lo, le_hi = lt_lo;
  float* const room = inner_room(n);
  float* out = room;
  const std::size_t whole = n / 8 * 8;
  for (std::size_t i = 0; i < whole; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 le = _mm256_cmp_ps(v, vlo, _CMP_LE_OQ), lt = _mm256_cmp_ps(v, vhi, _CMP_LT_OQ);
    lt_lo = _mm256_sub_epi32(lt_lo, _mm256_castps_si256(_mm256_cmp_ps(v, vlo, _CMP_LT_OQ)));
    le_lo = _mm256_sub_epi32(le_lo, _mm256_castps_si256(le));
    lt_hi = _mm256_sub_epi32(lt_hi, _mm256_castps_si256(lt));
    le_hi = _mm256_sub_epi32(le_hi, _mm256_castps_si256(_mm256_cmp_ps(v, vhi, _CMP_LE_OQ)));
    const auto m = static_cast<unsigned>(_mm256_movemask_ps(_mm256_andnot_ps(le, lt)));
    const __m256i perm = _mm256_cvtepu8_epi32(
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(compress_lanes.lane[m])));
    _mm256_storeu_ps(out, _mm256_permutevar8x32_ps(v, perm));
    out += __builtin_popcount(m);
  }
  inner.insert(inner.end(), room, out);
  Sorted s = sort_scalar(x + whole, n - whole, lo, hi, inner);
  const Sorted t =
      counts(lane_sum(lt_lo), lane_sum(le_lo), lane_sum(lt_hi), lane_sum(le_hi), hi != lo);
  s.below += t.below;
  s.eq_lo += t.eq_lo;
  s.eq_hi += t.eq_hi;
  return s;
}

COUNTYSIM_AVX512_BEGIN
__attribute__((target("avx512f"))) std::uint64_t sum(__m512i a) {
  return static_cast<std::uint32_t>(_mm512_reduce_add_epi32(a));
}
COUNTYSIM_AVX512_END

// As sort_avx2, sixteen lanes at a time: masked adds count, a register
// compress packs (the compress to memory is microcoded and slow on some
// CPUs).
COUNTYSIM_AVX512_BEGIN
__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,popcnt"))) Sorted sort_avx512(
    const float* x, std::size_t n, float lo, float hi, std::vector<float>& inner) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  const __m512i one = _mm512_set1_epi32(1);
  __m512i lt_lo = _mm512_setzero_si512(), le_lo = lt_lo, lt_hi = lt_lo, le_hi = lt_lo;
  float* const room = inner_room(n);
  float* out = room;
  const std::size_t whole = n / 16 * 16;
  for (std::size_t i = 0; i < whole; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __mmask16 le = _mm512_cmp_ps_mask(v, vlo, _CMP_LE_OQ);
    const __mmask16 lt = _mm512_cmp_ps_mask(v, vhi, _CMP_LT_OQ);
    lt_lo = _mm512_mask_add_epi32(lt_lo, _mm512_cmp_ps_mask(v, vlo, _CMP_LT_OQ), lt_lo, one);
    le_lo = _mm512_mask_add_epi32(le_lo, le, le_lo, one);
    lt_hi = _mm512_mask_add_epi32(lt_hi, lt, lt_hi, one);
    le_hi = _mm512_mask_add_epi32(le_hi, _mm512_cmp_ps_mask(v, vhi, _CMP_LE_OQ), le_hi, one);
    const __mmask16 in = _kandn_mask16(le, lt);
    _mm512_storeu_ps(out, _mm512_maskz_compress_ps(in, v));
    out += __builtin_popcount(in);
  }
  inner.insert(inner.end(), room, out);
  Sorted s = sort_scalar(x + whole, n - whole, lo, hi, inner);
  const Sorted t = counts(sum(lt_lo), sum(le_lo), sum(lt_hi), sum(le_hi), hi != lo);
  s.below += t.below;
  s.eq_lo += t.eq_lo;
  s.eq_hi += t.eq_hi;
  return s;
}
COUNTYSIM_AVX512_END

// The k-th smallest of a[0, n), with a reordered around it as
// std::nth_element leaves it (before: not greater, after: not less).
// Quickselect whose partition packs a vector's lanes below and above the
// pivot by register compresses, the ones below back into a, the ones above
// into scratch, and writes the pivot's copies between: no branch on values.
// Values that compare equal have the same bits, but for zeros' signs
// (which order_statistic shows cannot change a result).
// The quickselects' scalar steps, shared by the vector ones (inlined into
// each): the pivot, the values past the last whole register, and the end
// of a round.
inline float median_of_three(const float* a, std::size_t n) {
  float p0 = a[0], p1 = a[n / 2], p2 = a[n - 1];
  if (p1 < p0) std::swap(p0, p1);
  if (p2 < p1) std::swap(p1, p2);
  if (p1 < p0) std::swap(p0, p1);
  return p1;
}
inline void partition_tail(const float* a, std::size_t from, std::size_t n, float pivot, float*& lt,
                           float*& gt) {
  for (std::size_t i = from; i < n; ++i) {
    const float v = a[i];
    if (v < pivot) *lt++ = v;
    if (v > pivot) *gt++ = v;
  }
}
// The values below the pivot are at a, up to lt; those above in
// [above, gt). Puts the pivot's copies and those above after them; true if
// rank k is the pivot, else narrows (a, n, k) to the side that holds it.
inline bool finish_round(float*& a, std::size_t& n, std::size_t& k, float pivot, float* lt,
                         const float* above, const float* gt) {
  const auto below = static_cast<std::size_t>(lt - a);
  const auto over = static_cast<std::size_t>(gt - above);
  const std::size_t equal = n - below - over;
  std::fill_n(lt, equal, pivot);
  std::copy(above, gt, lt + equal);
  if (k < below) {
    n = below;
  } else if (k < below + equal) {
    return true;
  } else {
    a += below + equal;
    k -= below + equal;
    n = over;
  }
  return false;
}

COUNTYSIM_AVX512_BEGIN
__attribute__((target("avx512f,avx512dq,avx512vl,popcnt"))) float select_avx512(float* a,
                                                                                std::size_t n,
                                                                                std::size_t k) {
  thread_local std::vector<float> room;
  if (room.size() < n + 16) room.resize(n + 16);
  float* const above = room.data();
  for (int rounds = 0;; ++rounds) {
    if (n <= 32 || rounds == 48) {  // small, or a run of bad pivots
      std::nth_element(a, a + k, a + n);
      return a[k];
    }
    const float pivot = median_of_three(a, n);
    const __m512 vp = _mm512_set1_ps(pivot);
    float* lt = a;  // never past the values read: each store lands on read lanes
    float* gt = above;
    const std::size_t whole = n / 16 * 16;
    for (std::size_t i = 0; i < whole; i += 16) {
      const __m512 v = _mm512_loadu_ps(a + i);
      const __mmask16 ml = _mm512_cmp_ps_mask(v, vp, _CMP_LT_OQ);
      const __mmask16 mg = _mm512_cmp_ps_mask(v, vp, _CMP_GT_OQ);
      _mm512_storeu_ps(lt, _mm512_maskz_compress_ps(ml, v));
      _mm512_storeu_ps(gt, _mm512_maskz_compress_ps(mg, v));
      lt += __builtin_popcount(ml);
      gt += __builtin_popcount(mg);
    }
    partition_tail(a, whole, n, pivot, lt, gt);
    if (finish_round(a, n, k, pivot, lt, above, gt)) return pivot;
  }
}
COUNTYSIM_AVX512_END

// As select_avx512, eight lanes at a time packed by table permutations.
__attribute__((target("avx2,popcnt"))) float select_avx2(float* a, std::size_t n, std::size_t k) {
  thread_local std::vector<float> room;
  if (room.size() < n + 8) room.resize(n + 8);
  float* const above = room.data();
  for (int rounds = 0;; ++rounds) {
    if (n <= 32 || rounds == 48) {  // small, or a run of bad pivots
      std::nth_element(a, a + k, a + n);
      return a[k];
    }
    const float pivot = median_of_three(a, n);
    const __m256 vp = _mm256_set1_ps(pivot);
    float* lt = a;  // never past the values read: each store lands on read lanes
    float* gt = above;
    const std::size_t whole = n / 8 * 8;
    for (std::size_t i = 0; i < whole; i += 8) {
      const __m256 v = _mm256_loadu_ps(a + i);
      const auto ml = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v, vp, _CMP_LT_OQ)));
      const auto mg = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v, vp, _CMP_GT_OQ)));
      const __m256i pl = _mm256_cvtepu8_epi32(
          _mm_loadl_epi64(reinterpret_cast<const __m128i*>(compress_lanes.lane[ml])));
      const __m256i pg = _mm256_cvtepu8_epi32(
          _mm_loadl_epi64(reinterpret_cast<const __m128i*>(compress_lanes.lane[mg])));
      _mm256_storeu_ps(lt, _mm256_permutevar8x32_ps(v, pl));
      _mm256_storeu_ps(gt, _mm256_permutevar8x32_ps(v, pg));
      lt += __builtin_popcount(ml);
      gt += __builtin_popcount(mg);
    }
    partition_tail(a, whole, n, pivot, lt, gt);
    if (finish_round(a, n, k, pivot, lt, above, gt)) return pivot;
  }
}

// The narrowing passes' values past the last whole register, one by one.
inline std::size_t narrow_tail(float* v, std::size_t from, std::size_t n, float lo, float hi,
                               std::uint64_t& b, std::uint64_t& el, std::uint64_t& eh,
                               std::size_t k) {
  const bool two = hi != lo;
  for (std::size_t i = from; i < n; ++i) {
    const float x = v[i];
    b += x < lo;
    el += x == lo;
    eh += two && x == hi;
    v[k] = x;
    k += lo < x && x < hi;
  }
  return k;
}

// Window::narrow's pass over the inner values v[0, n), eight at a time:
// counts those below lo, equal to lo and (two edges) equal to hi into
// b, el, eh, and packs those strictly between to the front, in their order,
// by a table permutation (each store lands on lanes already read). Returns
// how many are kept.
__attribute__((target("avx2,popcnt"))) std::size_t narrow_avx2(float* v, std::size_t n, float lo,
                                                               float hi, std::uint64_t& b,
                                                               std::uint64_t& el,
                                                               std::uint64_t& eh) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const bool two = hi != lo;
  __m256i lt_lo = _mm256_setzero_si256(), le_lo = lt_lo, lt_hi = lt_lo, le_hi = lt_lo;
  std::size_t k = 0;
  const std::size_t whole = n / 8 * 8;
  for (std::size_t i = 0; i < whole; i += 8) {
    const __m256 x = _mm256_loadu_ps(v + i);
    const __m256 le = _mm256_cmp_ps(x, vlo, _CMP_LE_OQ), lt = _mm256_cmp_ps(x, vhi, _CMP_LT_OQ);
    lt_lo = _mm256_sub_epi32(lt_lo, _mm256_castps_si256(_mm256_cmp_ps(x, vlo, _CMP_LT_OQ)));
    le_lo = _mm256_sub_epi32(le_lo, _mm256_castps_si256(le));
    lt_hi = _mm256_sub_epi32(lt_hi, _mm256_castps_si256(lt));
    le_hi = _mm256_sub_epi32(le_hi, _mm256_castps_si256(_mm256_cmp_ps(x, vhi, _CMP_LE_OQ)));
    const auto m = static_cast<unsigned>(_mm256_movemask_ps(_mm256_andnot_ps(le, lt)));
    const __m256i perm = _mm256_cvtepu8_epi32(
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(compress_lanes.lane[m])));
    _mm256_storeu_ps(v + k, _mm256_permutevar8x32_ps(x, perm));
    k += static_cast<unsigned>(__builtin_popcount(m));
  }
  const Sorted t = counts(lane_sum(lt_lo), lane_sum(le_lo), lane_sum(lt_hi), lane_sum(le_hi), two);
  b += t.below;
  el += t.eq_lo;
  eh += t.eq_hi;
  return narrow_tail(v, whole, n, lo, hi, b, el, eh, k);
}

// Window::narrow's pass over the inner values v[0, n), sixteen at a time:
// counts those below lo, equal to lo and (two edges) equal to hi into
// b, el, eh, and packs those strictly between to the front, in their order
// (each store lands on lanes already read). Returns how many are kept.
COUNTYSIM_AVX512_BEGIN
__attribute__((target("avx512f,avx512dq,avx512vl,popcnt"))) std::size_t narrow_avx512(
    float* v, std::size_t n, float lo, float hi, std::uint64_t& b, std::uint64_t& el,
    std::uint64_t& eh) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  const bool two = hi != lo;
  std::size_t k = 0;
  std::uint64_t at_hi = 0;
  const std::size_t whole = n / 16 * 16;
  for (std::size_t i = 0; i < whole; i += 16) {
    const __m512 x = _mm512_loadu_ps(v + i);
    b += static_cast<unsigned>(__builtin_popcount(_mm512_cmp_ps_mask(x, vlo, _CMP_LT_OQ)));
    el += static_cast<unsigned>(__builtin_popcount(_mm512_cmp_ps_mask(x, vlo, _CMP_EQ_OQ)));
    at_hi += static_cast<unsigned>(__builtin_popcount(_mm512_cmp_ps_mask(x, vhi, _CMP_EQ_OQ)));
    const __mmask16 keep =
        _mm512_mask_cmp_ps_mask(_mm512_cmp_ps_mask(x, vlo, _CMP_GT_OQ), x, vhi, _CMP_LT_OQ);
    _mm512_storeu_ps(v + k, _mm512_maskz_compress_ps(keep, x));
    k += static_cast<unsigned>(__builtin_popcount(keep));
  }
  if (two) eh += at_hi;
  return narrow_tail(v, whole, n, lo, hi, b, el, eh, k);
}
COUNTYSIM_AVX512_END

// The values of x[0, n) strictly between lo and hi, packed in their order
// into out (room for n and a vector more); returns how many. As the
// narrowing passes without the counts: one vector path each, same values.
inline std::size_t inside_tail(const float* x, std::size_t from, std::size_t n, float lo, float hi,
                               float* out, std::size_t k) {
  for (std::size_t i = from; i < n; ++i) {
    const float v = x[i];
    out[k] = v;
    k += lo < v && v < hi;
  }
  return k;
}

__attribute__((target("avx2,popcnt"))) std::size_t inside_avx2(const float* x, std::size_t n,
                                                               float lo, float hi, float* out) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  std::size_t k = 0;
  const std::size_t whole = n / 8 * 8;
  for (std::size_t i = 0; i < whole; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 in =
        _mm256_and_ps(_mm256_cmp_ps(v, vlo, _CMP_GT_OQ), _mm256_cmp_ps(v, vhi, _CMP_LT_OQ));
    const auto m = static_cast<unsigned>(_mm256_movemask_ps(in));
    const __m256i perm = _mm256_cvtepu8_epi32(
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(compress_lanes.lane[m])));
    _mm256_storeu_ps(out + k, _mm256_permutevar8x32_ps(v, perm));
    k += static_cast<unsigned>(__builtin_popcount(m));
  }
  return inside_tail(x, whole, n, lo, hi, out, k);
}

COUNTYSIM_AVX512_BEGIN
__attribute__((target("avx512f,avx512dq,avx512vl,popcnt"))) std::size_t inside_avx512(
    const float* x, std::size_t n, float lo, float hi, float* out) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  std::size_t k = 0;
  const std::size_t whole = n / 16 * 16;
  for (std::size_t i = 0; i < whole; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __mmask16 in =
        _mm512_mask_cmp_ps_mask(_mm512_cmp_ps_mask(v, vlo, _CMP_GT_OQ), v, vhi, _CMP_LT_OQ);
    _mm512_storeu_ps(out + k, _mm512_maskz_compress_ps(in, v));
    k += static_cast<unsigned>(__builtin_popcount(in));
  }
  return inside_tail(x, whole, n, lo, hi, out, k);
}
COUNTYSIM_AVX512_END

// Whether x[0, n) holds a NaN.
__attribute__((target("avx2"))) bool any_nan_avx2(const float* x, std::size_t n) {
  __m256 acc = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    acc = _mm256_or_ps(acc, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  int nans = _mm256_movemask_ps(acc);
  for (; i < n; ++i) nans |= x[i] != x[i];
  return nans != 0;
}

bool any_nan(const float* x, std::size_t n) {
  if (simd_level() >= SimdLevel::avx2) return any_nan_avx2(x, n);
  int nans = 0;
  for (std::size_t i = 0; i < n; ++i) nans |= x[i] != x[i];
  return nans != 0;
}

// Every path gives the same counts and the same values in the same order.
Sorted sort_block(const float* x, std::size_t n, float lo, float hi, std::vector<float>& inner) {
  switch (simd_level()) {
    case SimdLevel::avx512:
      return sort_avx512(x, n, lo, hi, inner);
    case SimdLevel::avx2:
      return sort_avx2(x, n, lo, hi, inner);
    case SimdLevel::scalar:
      break;
  }
  return sort_scalar(x, n, lo, hi, inner);
}

}  // namespace

void StreamingQuantiles::Window::add(float v, std::uint64_t count) {
  if (count == 0) return;
  if (v < lo) {
    below += count;
  } else if (v == lo) {
    eq_lo += count;
  } else if (v < hi) {
    if (count == 1)
      inner.push_back(v);
    else
      inner.insert(inner.end(), count, v);
  } else if (v == hi) {
    eq_hi += count;
  }  // above hi, or NaN: not needed
}

void StreamingQuantiles::Window::count(float v, std::uint64_t count) {
  if (v < lo) {
    below += count;
  } else if (v == lo) {
    eq_lo += count;
  } else if (v < hi) {
    inside += count;
  } else if (v == hi) {
    eq_hi += count;
  }
}

namespace {
// The capacity push_backs take a vector of capacity `cap` to once it holds
// `want` values (the budget counts capacity).
std::size_t grown_capacity(std::size_t cap, std::size_t want) {
  while (cap < want) cap = cap == 0 ? 1 : 2 * cap;
  return cap;
}
}  // namespace

void StreamingQuantiles::Window::add_inside(const float* x, std::size_t n) {
  inner.reserve(grown_capacity(inner.capacity(), inner.size() + n));
  inner.insert(inner.end(), x, x + n);
}

bool StreamingQuantiles::Window::order_statistic(std::uint64_t rank, float& v, std::size_t& from) {
  if (rank < below) return false;
  rank -= below;
  if (rank < eq_lo) {
    v = lo;
    return true;
  }
  rank -= eq_lo;
  if (rank < inner.size()) {
    const auto k = static_cast<std::size_t>(rank);
    const std::size_t first = std::min(from, k);
    // Any selection gives the same value; only a zero's sign may differ (-0
    // and +0 compare equal), and that never shows: edges are only compared,
    // and a + f (b - a) with a <= b is +0 whenever it is a zero.
    if (simd_level() >= SimdLevel::avx512) {
      v = select_avx512(inner.data() + first, inner.size() - first, k - first);
    } else if (simd_level() >= SimdLevel::avx2) {
      v = select_avx2(inner.data() + first, inner.size() - first, k - first);
    } else {
      const auto at = inner.begin() + static_cast<std::ptrdiff_t>(k);
      std::nth_element(inner.begin() + static_cast<std::ptrdiff_t>(first), at, inner.end());
      v = *at;
    }
    from = static_cast<std::size_t>(rank) + 1;  // what follows is at least v
    return true;
  }
  rank -= inner.size();
  if (rank < eq_hi) {
    v = hi;
    return true;
  }
  return false;
}

// [new_lo, new_hi] lies within [lo, hi]: every value kept is sorted again,
// as add() would (the old edges go below, to the new edges or out; the
// inner values are counted and those still inside kept in their order).
void StreamingQuantiles::Window::narrow(float new_lo, float new_hi) {
  Window w;
  w.lo = new_lo;
  w.hi = new_hi;
  w.below = below;
  w.add(lo, eq_lo);
  w.add(hi, eq_hi);
  const bool two = new_hi != new_lo;
  std::uint64_t b = 0, el = 0, eh = 0;
  std::size_t k = 0;
  const std::size_t n = inner.size();
  float* v = inner.data();
  if (simd_level() >= SimdLevel::avx512) {
    k = narrow_avx512(v, n, new_lo, new_hi, b, el, eh);
  } else if (simd_level() >= SimdLevel::avx2) {
    k = narrow_avx2(v, n, new_lo, new_hi, b, el, eh);
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const float x = v[i];
      b += x < new_lo;
      el += x == new_lo;
      eh += two && x == new_hi;
      v[k] = x;
      k += new_lo < x && x < new_hi;
    }
  }
  w.below += b;
  w.eq_lo += el;
  w.eq_hi += eh;
  // Room for what the next blocks add before the next narrowing (about half
  // as much again), so that the budget counts what is really held.
  std::vector<float> kept;
  kept.reserve(k + k / 2 + 16);
  kept.assign(v, v + k);
  w.inner.swap(kept);
  *this = std::move(w);
}

StreamingQuantiles::StreamingQuantiles(std::size_t columns, std::vector<double> qs, double band,
                                       std::size_t budget_bytes)
    : columns_(columns),
      qs_(std::move(qs)),
      band_(band),
      budget_values_(budget_bytes / sizeof(float)),
      windows_(columns * qs_.size()),
      dropped_(columns, 0),
      frozen_(columns, 0),
      nan_(columns, 0) {}

void StreamingQuantiles::begin_part(Part& p, std::uint64_t draws) const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    p.windows = published_;
  }
  const std::size_t slots = columns_ * qs_.size();
  p.draws = draws;
  p.below.assign(slots, 0);
  p.eq_lo.assign(slots, 0);
  p.eq_hi.assign(slots, 0);
  p.values.clear();
  p.ends.assign(1, 0);
  p.nan.assign(columns_, 0);
}

void StreamingQuantiles::add_column(Part& p, std::size_t nq, std::size_t c, const float* x,
                                    std::size_t n) {
  const int nans = any_nan(x, n);
  p.nan[c] = static_cast<std::uint8_t>(nans);
  if (!p.windows) {  // no windows yet: the whole column
    if (!nans) p.values.insert(p.values.end(), x, x + n);
    p.ends.push_back(p.values.size());
    return;
  }
  const Windows& w = *p.windows;
  // Every window one value v (every draw so far gave it, e.g. a base year):
  // one comparison pass, instead of one a quantile, when the block agrees.
  const float v = w.lo[c * nq];
  bool one = !nans;
  for (std::size_t q = 0; q < nq; ++q) one = one && w.lo[c * nq + q] == v && w.hi[c * nq + q] == v;
  if (one) {
    int same = 1;
    for (std::size_t i = 0; i < n; ++i) same &= x[i] == v;
    if (same) {
      for (std::size_t q = 0; q < nq; ++q) {
        p.eq_lo[c * nq + q] = n;
        p.ends.push_back(p.values.size());
      }
      return;
    }
  }
  for (std::size_t q = 0; q < nq; ++q) {
    const std::size_t j = c * nq + q;
    // A column dropped by the writer has lo > hi: nothing to do.
    if (!nans && w.lo[j] <= w.hi[j]) {  // (NaN: the column's quantiles are NaN)
      const Sorted s = sort_block(x, n, w.lo[j], w.hi[j], p.values);
      p.below[j] = s.below;
      p.eq_lo[j] = s.eq_lo;
      p.eq_hi[j] = s.eq_hi;
    }
    p.ends.push_back(p.values.size());
  }
}

void StreamingQuantiles::merge(Part&& p) {
  const std::size_t nq = qs_.size();
  for (std::size_t c = 0; c < columns_; ++c)
    if (p.nan[c] && !dropped_[c]) {
      nan_[c] = dropped_[c] = 1;  // every quantile is NaN: nothing more to keep
      for (std::size_t q = 0; q < nq; ++q) windows_[c * nq + q] = Window{};
    }
  draws_ += p.draws;
  if (!p.windows) {
    // Whole columns: the first part opens every window on its own values;
    // later ones (made before any windows were published) go into them.
    for (std::size_t c = 0; c < columns_; ++c) {
      if (dropped_[c]) continue;
      const float* x = p.values.data() + p.ends[c];
      const std::size_t n = p.ends[c + 1] - p.ends[c];
      if (frozen_[c]) {  // (only after the first part)
        for (std::size_t q = 0; q < nq; ++q)
          for (std::size_t i = 0; i < n; ++i) windows_[c * nq + q].count(x[i], 1);
        continue;
      }
      for (std::size_t q = 0; q < nq; ++q) {
        Window& w = windows_[c * nq + q];
        if (!started_) {
          w.lo = -inf;
          w.hi = inf;
        }
        // Usually every value is inside (a first window is everything).
        int inside = 1;
        for (std::size_t i = 0; i < n; ++i) inside &= (w.lo < x[i]) & (x[i] < w.hi);
        if (inside)
          w.add_inside(x, n);
        else
          for (std::size_t i = 0; i < n; ++i) w.add(x[i], 1);
      }
      if (!started_) {
        for (std::size_t q = 0; q < nq; ++q) narrow_one(c, q);
      }
    }
    if (!started_) narrowed_at_ = draws_;
    started_ = true;
  } else {
    enforce_budget(&p);                 // before the part's values are added, not only after
    const Windows& stale = *p.windows;  // each within-or-equal the current
    for (std::size_t j = 0; j < columns_ * nq; ++j) {
      if (dropped_[j / nq]) continue;
      Window& w = windows_[j];
      w.below += p.below[j];
      if (frozen_[j / nq]) {
        w.count(stale.lo[j], p.eq_lo[j]);
        w.count(stale.hi[j], p.eq_hi[j]);
        if (stale.lo[j] == w.lo && stale.hi[j] == w.hi) {  // the frozen edges: all inside
          w.inside += p.ends[j + 1] - p.ends[j];
        } else {
          for (std::size_t i = p.ends[j]; i < p.ends[j + 1]; ++i) w.count(p.values[i], 1);
        }
        continue;
      }
      w.add(stale.lo[j], p.eq_lo[j]);
      w.add(stale.hi[j], p.eq_hi[j]);
      const float* v = p.values.data();
      if (stale.lo[j] == w.lo && stale.hi[j] == w.hi)  // not narrowed since: all inside
        w.add_inside(v + p.ends[j], p.ends[j + 1] - p.ends[j]);
      else
        for (std::size_t i = p.ends[j]; i < p.ends[j + 1]; ++i) w.add(v[i], 1);
    }
  }
  if (draws_ >= narrowed_at_ + narrowed_at_ / 2) {
    for (std::size_t c = 0; c < columns_; ++c)
      if (!dropped_[c] && !frozen_[c])
        for (std::size_t q = 0; q < nq; ++q) narrow_one(c, q);
    narrowed_at_ = draws_;
  }
  enforce_budget();
  publish();
}

// The window of column c, quantile q, cut to `band_` standard errors of
// rank either side of the q-quantile of the draws so far, where those ranks'
// values are known (elsewhere the window keeps its edge).
void StreamingQuantiles::narrow_one(std::size_t c, std::size_t q) {
  Window& w = windows_[c * qs_.size() + q];
  const double n = static_cast<double>(draws_), p = qs_[q];
  const double h = (n - 1) * p, spread = band_ * std::sqrt(p * (1 - p) * n) + 2;
  const double r_lo = std::max(0.0, std::floor(h - spread));
  const double r_hi = std::min(n - 1, std::ceil(h + spread) + 1);
  float lo = w.lo, hi = w.hi, v;
  std::size_t from = 0;  // past the first selection only the values above it are sorted
  if (w.order_statistic(static_cast<std::uint64_t>(r_lo), v, from)) lo = v;
  if (w.order_statistic(static_cast<std::uint64_t>(r_hi), v, from)) hi = v;
  if (lo != w.lo || hi != w.hi) w.narrow(lo, hi);
}

void StreamingQuantiles::enforce_budget(const Part* next) {
  const std::size_t nq = qs_.size();
  std::vector<std::size_t> held(columns_, 0);
  std::size_t total = 0;
  for (std::size_t j = 0; j < windows_.size(); ++j) {
    const std::vector<float>& v = windows_[j].inner;
    const std::size_t cap =
        next && !frozen_[j / nq] && !dropped_[j / nq]
            ? grown_capacity(v.capacity(), v.size() + (next->ends[j + 1] - next->ends[j]))
            : v.capacity();
    held[j / nq] += cap;
    total += cap;
  }
  while (total > budget_values_) {
    const std::size_t c =
        static_cast<std::size_t>(std::max_element(held.begin(), held.end()) - held.begin());
    frozen_[c] = 1;
    for (std::size_t q = 0; q < nq; ++q) {
      Window& w = windows_[c * nq + q];
      w.inside = w.inner.size();
      std::vector<float>().swap(w.inner);
    }
    total -= held[c];
    held[c] = 0;
  }
}

void StreamingQuantiles::publish() {
  auto w = std::make_shared<Windows>();
  w->lo.resize(windows_.size());
  w->hi.resize(windows_.size());
  for (std::size_t j = 0; j < windows_.size(); ++j) {
    const bool off = dropped_[j / qs_.size()];
    w->lo[j] = off ? inf : windows_[j].lo;
    w->hi[j] = off ? -inf : windows_[j].hi;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    published_ = std::move(w);
  }
  published_cv_.notify_all();
}

void StreamingQuantiles::wait_for_windows(const std::function<bool()>& stop) const {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!published_ && !stop()) published_cv_.wait_for(lock, std::chrono::milliseconds(10));
}

bool StreamingQuantiles::quantiles(std::size_t c, double* out) {
  const std::size_t nq = qs_.size();
  if (nan_[c]) {  // as quantiles_type7: NaN if any value is
    std::fill_n(out, nq, std::numeric_limits<double>::quiet_NaN());
    return true;
  }
  if (!started_ || dropped_[c] || frozen_[c] || draws_ == 0) return false;
  std::vector<double> q_out(nq);
  for (std::size_t q = 0; q < nq; ++q) {
    Window& w = windows_[c * nq + q];
    // As quantiles_type7 computes it.
    const double h = (static_cast<double>(draws_) - 1) * qs_[q];
    const auto lo = static_cast<std::uint64_t>(std::floor(h));
    float a = 0, b = 0;
    std::size_t from = 0;
    if (!w.order_statistic(lo, a, from)) return false;
    if (lo + 1 < draws_) {
      if (!w.order_statistic(lo + 1, b, from)) return false;
    } else {
      b = a;
    }
    const double da = a, db = b;
    q_out[q] = da + (h - static_cast<double>(lo)) * (db - da);
  }
  std::copy(q_out.begin(), q_out.end(), out);
  return true;
}

bool StreamingQuantiles::brackets(std::size_t c, Bracket* out) const {
  if (!started_ || !frozen_[c] || dropped_[c] || nan_[c]) return false;
  const std::size_t nq = qs_.size();
  for (std::size_t q = 0; q < nq; ++q) {
    const Window& w = windows_[c * nq + q];
    out[q] = Bracket{w.lo, w.hi, w.below, w.eq_lo, w.inside, w.eq_hi};
  }
  return true;
}

void StreamingQuantiles::keep_inside(const float* x, std::size_t n, const Bracket* br,
                                     const std::uint8_t* need, std::size_t nq,
                                     std::vector<float>& out, std::size_t* ends) {
  float* const room = inner_room(n);
  const SimdLevel level = simd_level();
  for (std::size_t q = 0; q < nq; ++q) {
    if (need[q]) {
      std::size_t k = 0;
      if (level >= SimdLevel::avx512)
        k = inside_avx512(x, n, br[q].lo, br[q].hi, room);
      else if (level >= SimdLevel::avx2)
        k = inside_avx2(x, n, br[q].lo, br[q].hi, room);
      else
        k = inside_tail(x, 0, n, br[q].lo, br[q].hi, room, 0);
      out.insert(out.end(), room, room + k);
    }
    ends[q] = out.size();
  }
}

namespace {

// Where rank r lies in window b: -1 outside, 0 the low edge, 1 strictly
// inside, 2 the high edge.
int bracket_place(const StreamingQuantiles::Bracket& b, std::uint64_t r) {
  if (r < b.below) return -1;
  r -= b.below;
  if (r < b.eq_lo) return 0;
  r -= b.eq_lo;
  if (r < b.inside) return 1;
  r -= b.inside;
  return r < b.eq_hi ? 2 : -1;
}

// Type 7's order statistics for quantile p of n values: floor(h) and the
// next (the same at the end).
void type7_ranks(std::uint64_t n, double p, std::uint64_t& lo, std::uint64_t& hi, double& h) {
  h = (static_cast<double>(n) - 1) * p;
  lo = static_cast<std::uint64_t>(std::floor(h));
  hi = lo + 1 < n ? lo + 1 : lo;
}

}  // namespace

bool StreamingQuantiles::bracket_needs(std::uint64_t draws, const std::vector<double>& qs,
                                       const Bracket* br, std::uint8_t* need) {
  for (std::size_t q = 0; q < qs.size(); ++q) {
    std::uint64_t lo, hi;
    double h;
    type7_ranks(draws, qs[q], lo, hi, h);
    const int a = bracket_place(br[q], lo), b = bracket_place(br[q], hi);
    if (a < 0 || b < 0) return false;
    need[q] = a == 1 || b == 1;
  }
  return true;
}

bool StreamingQuantiles::bracket_quantiles(std::uint64_t draws, const std::vector<double>& qs,
                                           const Bracket* br, std::vector<float>* inside,
                                           double* out) {
  std::vector<double> q_out(qs.size());
  for (std::size_t q = 0; q < qs.size(); ++q) {
    const Bracket& b = br[q];
    // The window as quantiles() would hold it, for the ranks inside.
    Window w;
    w.lo = b.lo;
    w.hi = b.hi;
    w.below = b.below;
    w.eq_lo = b.eq_lo;
    w.eq_hi = b.eq_hi;
    std::size_t from = 0;
    auto value = [&](std::uint64_t r, float& v) {
      switch (bracket_place(b, r)) {
        case 0:
          v = b.lo;
          return true;
        case 1:
          if (w.inner.empty()) {
            if (inside[q].size() != b.inside) return false;
            w.inner.swap(inside[q]);
          }
          return w.order_statistic(r, v, from);
        case 2:
          v = b.hi;
          return true;
        default:
          return false;
      }
    };
    std::uint64_t lo, hi;
    double h;
    type7_ranks(draws, qs[q], lo, hi, h);
    float a = 0, c = 0;
    if (!value(lo, a) || !value(hi, c)) return false;
    const double da = a, dc = c;  // as quantiles() and quantiles_type7
    q_out[q] = da + (h - static_cast<double>(lo)) * (dc - da);
  }
  std::copy(q_out.begin(), q_out.end(), out);
  return true;
}

void StreamingQuantiles::release() {
  std::vector<Window>().swap(windows_);
  std::fill(dropped_.begin(), dropped_.end(), 1);
  std::lock_guard<std::mutex> lock(mutex_);
  published_.reset();
}

std::size_t StreamingQuantiles::kept_values() const {
  std::size_t total = 0;
  for (const Window& w : windows_) total += w.inner.capacity();
  return total;
}

}  // namespace countysim
