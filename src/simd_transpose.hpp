// An 8 x 8 transpose of doubles in AVX-512 registers, for the sampler's
// kernels (the block transpose in sampling.cpp, the beta table's
// coefficients in quantile_functions.cpp). Internal; x86-64 only.
#pragma once
#include <immintrin.h>

#include "countysim/simd.hpp"

namespace countysim {

COUNTYSIM_AVX512_BEGIN
// c[k] lane j = r[j] lane k (c[0 .. 8)).
COUNTYSIM_AVX512_TARGET inline void transpose8x8(const __m512d (&r)[8], __m512d* c) {
  // Pairs of 128-bit lanes: (0, 2) and (1, 3) of two registers.
  const __m512i even = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
  const __m512i odd = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
  // t[2j] = r[2j][k] r[2j+1][k] for the even lanes k, t[2j+1] the odd.
  __m512d t[8];
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    t[2 * j] = _mm512_unpacklo_pd(r[2 * j], r[2 * j + 1]);
    t[2 * j + 1] = _mm512_unpackhi_pd(r[2 * j], r[2 * j + 1]);
  }
  // Rows 0-3 (u) and 4-7 (v) of lanes (0, 4), (2, 6), (1, 5), (3, 7).
  const __m512d u0 = _mm512_permutex2var_pd(t[0], even, t[2]);
  const __m512d u1 = _mm512_permutex2var_pd(t[0], odd, t[2]);
  const __m512d u2 = _mm512_permutex2var_pd(t[1], even, t[3]);
  const __m512d u3 = _mm512_permutex2var_pd(t[1], odd, t[3]);
  const __m512d v0 = _mm512_permutex2var_pd(t[4], even, t[6]);
  const __m512d v1 = _mm512_permutex2var_pd(t[4], odd, t[6]);
  const __m512d v2 = _mm512_permutex2var_pd(t[5], even, t[7]);
  const __m512d v3 = _mm512_permutex2var_pd(t[5], odd, t[7]);
  c[0] = _mm512_shuffle_f64x2(u0, v0, 0x44);
  c[4] = _mm512_shuffle_f64x2(u0, v0, 0xee);
  c[2] = _mm512_shuffle_f64x2(u1, v1, 0x44);
  c[6] = _mm512_shuffle_f64x2(u1, v1, 0xee);
  c[1] = _mm512_shuffle_f64x2(u2, v2, 0x44);
  c[5] = _mm512_shuffle_f64x2(u2, v2, 0xee);
  c[3] = _mm512_shuffle_f64x2(u3, v3, 0x44);
  c[7] = _mm512_shuffle_f64x2(u3, v3, 0xee);
}
COUNTYSIM_AVX512_END

}  // namespace countysim
