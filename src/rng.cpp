#include "countysim/rng.hpp"

#include <cstring>

#include "countysim/simd.hpp"

namespace countysim {

std::uint64_t key_hash(std::string_view key) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  for (const char ch : key) {
    h ^= static_cast<unsigned char>(ch);
    h *= 0x100000001b3ULL;  // FNV-1a 64 prime
  }
  // SplitMix64 finaliser: FNV-1a alone leaves similar keys with similar high bits.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

}  // namespace countysim

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define COUNTYSIM_AVX2_PHILOX 1
#endif

namespace countysim {

namespace {

#if defined(__SSE2__)
// Four lanes of a 32 x 32 -> 64 bit product: the low and high words of m * x.
inline void mulhilo4(__m128i x, __m128i m, __m128i& lo, __m128i& hi) {
  const __m128i even = _mm_mul_epu32(x, m);                     // lanes 0, 2
  const __m128i odd = _mm_mul_epu32(_mm_srli_epi64(x, 32), m);  // lanes 1, 3
  const __m128i low_half = _mm_set_epi32(0, -1, 0, -1);
  lo = _mm_or_si128(_mm_and_si128(even, low_half), _mm_slli_epi64(odd, 32));
  hi = _mm_or_si128(_mm_srli_epi64(even, 32), _mm_andnot_si128(low_half, odd));
}

// Philox4x32-10 of the counters (d, d >> 32, hash, hash >> 32) for the four
// draws d = first .. first + 3, as Random123 computes it (philox.h: a round
// with the key, then nine times bump the key and round); words[k][j] is word
// k of draw first + j.
inline void philox4_lanes(std::uint64_t seed, std::uint64_t hash, std::uint64_t first,
                          std::uint32_t (&words)[4][4]) {
  const __m128i m0 = _mm_set1_epi32(static_cast<int>(0xD2511F53u));
  const __m128i m1 = _mm_set1_epi32(static_cast<int>(0xCD9E8D57u));
  std::uint32_t lo_words[4], hi_words[4];
  for (int j = 0; j < 4; ++j) {
    lo_words[j] = static_cast<std::uint32_t>(first + j);
    hi_words[j] = static_cast<std::uint32_t>((first + j) >> 32);
  }
  __m128i c0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(lo_words));
  __m128i c1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(hi_words));
  __m128i c2 = _mm_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(hash)));
  __m128i c3 = _mm_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(hash >> 32)));
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
#pragma GCC unroll 10
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    __m128i lo0, hi0, lo1, hi1;
    mulhilo4(c0, m0, lo0, hi0);
    mulhilo4(c2, m1, lo1, hi1);
    const __m128i n0 = _mm_xor_si128(_mm_xor_si128(hi1, c1), _mm_set1_epi32(static_cast<int>(k0)));
    const __m128i n2 = _mm_xor_si128(_mm_xor_si128(hi0, c3), _mm_set1_epi32(static_cast<int>(k1)));
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(words[0]), c0);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(words[1]), c1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(words[2]), c2);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(words[3]), c3);
}
#endif

#if defined(COUNTYSIM_AVX2_PHILOX)
// The same with AVX2, compiled for AVX2 whatever the target and called only
// when the CPU has it; converts the words to uniforms too.
// One Philox word per 64-bit slot, four lanes a register: the product m * x
// of a word is then one multiply, its low word the slot's low half as it
// stands and its high word one shift away (no blends). The high halves of
// the slots carry garbage that nothing reads: the multiplies read the low
// halves only, and the output words are taken from the low halves.
__attribute__((target("avx2"))) inline void philox_slots(const StreamKeys& keys, __m256i h0,
                                                         __m256i h1, __m256i& c0, __m256i& c1) {
  const __m256i m0 = _mm256_set1_epi64x(0xD2511F53LL);
  const __m256i m1 = _mm256_set1_epi64x(0xCD9E8D57LL);
  const auto* key0 = reinterpret_cast<const __m256i*>(keys.k0);
  const auto* key1 = reinterpret_cast<const __m256i*>(keys.k1);
  __m256i c2 = h0, c3 = h1;
  // The rounds unrolled (-O2 keeps the loop; -O3 would unroll it): the
  // keys become memory operands, no loop control.
#pragma GCC unroll 10
  for (int round = 0; round < 10; ++round) {
    const __m256i p0 = _mm256_mul_epu32(c0, m0);  // hi0:lo0
    const __m256i p1 = _mm256_mul_epu32(c2, m1);  // hi1:lo1
    c0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), c1),
                          _mm256_load_si256(key0 + round));
    c1 = p1;
    c2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), c3),
                          _mm256_load_si256(key1 + round));
    c3 = p0;
  }
}

// bits_to_open_unit of the 64-bit words (low half of c0) | (low half of c1)
// << 32 of four slots: top = bits >> 11 = hi 2^21 + (lo >> 11), each part
// converted exactly (or-ed into the mantissa of 2^52, 2^52 subtracted) and
// their sum exact (below 2^53), so (top + 0.5) 2^-53 rounds as the scalar
// code's does; min(x, c) is the scalar std::min for numbers.
__attribute__((target("avx2"))) inline __m256d open_unit_slots(__m256i c0, __m256i c1) {
  const __m256i magic = _mm256_set1_epi64x(0x4330000000000000LL);  // 2^52
  const __m256d two52 = _mm256_castsi256_pd(magic);
  const __m256i hi = _mm256_srli_epi64(_mm256_slli_epi64(c1, 32), 32);
  const __m256i lo = _mm256_srli_epi64(_mm256_slli_epi64(c0, 32), 43);
  const __m256d hi_d = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(hi, magic)), two52);
  const __m256d lo_d = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(lo, magic)), two52);
  const __m256d top = _mm256_add_pd(_mm256_mul_pd(hi_d, _mm256_set1_pd(0x1.0p21)), lo_d);
  const __m256d u =
      _mm256_mul_pd(_mm256_add_pd(top, _mm256_set1_pd(0.5)), _mm256_set1_pd(0x1.0p-53));
  return _mm256_min_pd(u, _mm256_set1_pd(0x1.fffffffffffffp-1));
}

__attribute__((target("avx2"))) std::size_t uniforms_avx2(const StreamKeys& keys,
                                                          std::uint64_t hash, std::uint64_t first,
                                                          std::size_t n, double* out) {
  const __m256i h0 = _mm256_set1_epi64x(static_cast<long long>(hash));  // low half: word 2
  const __m256i h1 = _mm256_set1_epi64x(static_cast<long long>(hash >> 32));
  const __m256i lanes_a = _mm256_setr_epi64x(0, 1, 2, 3), lanes_b = _mm256_setr_epi64x(4, 5, 6, 7);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    // Counters d = first + i + j in whole 64-bit slots (carries for free):
    // word 0 the low half, word 1 the high half shifted down.
    const __m256i d = _mm256_set1_epi64x(static_cast<long long>(first + i));
    __m256i a0 = _mm256_add_epi64(d, lanes_a), b0 = _mm256_add_epi64(d, lanes_b);
    __m256i a1 = _mm256_srli_epi64(a0, 32), b1 = _mm256_srli_epi64(b0, 32);
    philox_slots(keys, h0, h1, a0, a1);
    philox_slots(keys, h0, h1, b0, b1);
    // u from words 0 (low half) and 1 (high half) of each lane.
    _mm256_storeu_pd(out + i, open_unit_slots(a0, a1));
    _mm256_storeu_pd(out + i + 4, open_unit_slots(b0, b1));
  }
  return i;
}

COUNTYSIM_AVX512_BEGIN
// The same with AVX-512: eight 64-bit slots a register, `Chains`
// registers at once so that the multiplies of one round overlap (Philox is
// one long dependency chain per counter); the two xors of a round are one
// ternary-logic instruction. Integer arithmetic: the same words as AVX2.
template <int Chains>
COUNTYSIM_AVX512_TARGET inline void philox_slots8(const StreamKeys& keys, __m512i h0, __m512i h1,
                                                  __m512i (&c0)[Chains], __m512i (&c1)[Chains]) {
  const __m512i m0 = _mm512_set1_epi64(0xD2511F53LL);
  const __m512i m1 = _mm512_set1_epi64(0xCD9E8D57LL);
  __m512i c2[Chains], c3[Chains];
#pragma GCC unroll 4
  for (int c = 0; c < Chains; ++c) {
    c2[c] = h0;
    c3[c] = h1;
  }
#pragma GCC unroll 10
  for (int round = 0; round < 10; ++round) {
    // The round keys in the low half of each slot (StreamKeys repeats each
    // word, so the 64-bit broadcast has it in both halves).
    std::uint64_t k0, k1;
    std::memcpy(&k0, keys.k0[round], sizeof k0);
    std::memcpy(&k1, keys.k1[round], sizeof k1);
    const __m512i key0 = _mm512_set1_epi64(static_cast<long long>(k0));
    const __m512i key1 = _mm512_set1_epi64(static_cast<long long>(k1));
#pragma GCC unroll 4
    for (int c = 0; c < Chains; ++c) {
      const __m512i p0 = _mm512_mul_epu32(c0[c], m0);                                   // hi0:lo0
      const __m512i p1 = _mm512_mul_epu32(c2[c], m1);                                   // hi1:lo1
      c0[c] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), c1[c], key0, 0x96);  // a^b^c
      c1[c] = p1;
      c2[c] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), c3[c], key1, 0x96);
      c3[c] = p0;
    }
  }
}

// bits_to_open_unit of the 64-bit words (low half of c0) | (low half of c1)
// << 32 of eight slots: bits >> 11 < 2^53 converts exactly, then the scalar
// code's add, multiply and min.
COUNTYSIM_AVX512_TARGET inline __m512d open_unit_slots8(__m512i c0, __m512i c1) {
  // Odd 32-bit words (the high halves) from c1 << 32, even ones from c0.
  const __m512i bits = _mm512_mask_blend_epi32(0xAAAA, c0, _mm512_slli_epi64(c1, 32));
  const __m512d top = _mm512_cvtepi64_pd(_mm512_srli_epi64(bits, 11));
  const __m512d u =
      _mm512_mul_pd(_mm512_add_pd(top, _mm512_set1_pd(0.5)), _mm512_set1_pd(0x1.0p-53));
  return _mm512_min_pd(u, _mm512_set1_pd(0x1.fffffffffffffp-1));
}

// `Chains` registers of eight counters from first on: Philox, then uniforms.
template <int Chains>
COUNTYSIM_AVX512_TARGET inline void uniforms8(const StreamKeys& keys, __m512i h0, __m512i h1,
                                              std::uint64_t first, double* out) {
  const __m512i lanes = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
  __m512i c0[Chains], c1[Chains];
#pragma GCC unroll 4
  for (int c = 0; c < Chains; ++c) {
    c0[c] = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(first + 8 * c)), lanes);
    c1[c] = _mm512_srli_epi64(c0[c], 32);
  }
  philox_slots8<Chains>(keys, h0, h1, c0, c1);
#pragma GCC unroll 4
  for (int c = 0; c < Chains; ++c) _mm512_storeu_pd(out + 8 * c, open_unit_slots8(c0[c], c1[c]));
}

COUNTYSIM_AVX512_TARGET std::size_t uniforms_avx512(const StreamKeys& keys, std::uint64_t hash,
                                                    std::uint64_t first, std::size_t n,
                                                    double* out) {
  const __m512i h0 = _mm512_set1_epi64(static_cast<long long>(hash));  // low half: word 2
  const __m512i h1 = _mm512_set1_epi64(static_cast<long long>(hash >> 32));
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) uniforms8<4>(keys, h0, h1, first + i, out + i);
  if (i + 16 <= n) {
    uniforms8<2>(keys, h0, h1, first + i, out + i);
    i += 16;
  }
  if (i + 8 <= n) {
    uniforms8<1>(keys, h0, h1, first + i, out + i);
    i += 8;
  }
  return i;
}
COUNTYSIM_AVX512_END

#endif

}  // namespace

StreamKeys::StreamKeys(std::uint64_t s) : seed(s) {
  std::uint32_t a = static_cast<std::uint32_t>(s), b = static_cast<std::uint32_t>(s >> 32);
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {  // Random123's key bumps
      a += 0x9E3779B9u;
      b += 0xBB67AE85u;
    }
    for (int j = 0; j < 8; ++j) {
      k0[round][j] = a;
      k1[round][j] = b;
    }
  }
}

void stream_uniform_block(std::uint64_t seed, std::uint64_t hash, std::uint64_t first,
                          std::size_t n, double* out) {
  stream_uniform_block(StreamKeys(seed), hash, first, n, out);
}

void stream_uniform_block(const StreamKeys& keys, std::uint64_t hash, std::uint64_t first,
                          std::size_t n, double* out) {
  const std::uint64_t seed = keys.seed;
  std::size_t i = 0;
#if defined(COUNTYSIM_AVX2_PHILOX)
  const SimdLevel level = simd_level();
  if (level == SimdLevel::avx512)
    i = uniforms_avx512(keys, hash, first, n, out);
  else if (level == SimdLevel::avx2)
    i = uniforms_avx2(keys, hash, first, n, out);
#endif
#if defined(__SSE2__)
  for (; i + 4 <= n; i += 4) {
    std::uint32_t w[4][4];
    philox4_lanes(seed, hash, first + i, w);
    for (int j = 0; j < 4; ++j)
      out[i + j] = bits_to_open_unit(w[0][j] | (static_cast<std::uint64_t>(w[1][j]) << 32));
  }
#endif
  for (; i < n; ++i) out[i] = stream_uniform(seed, hash, first + i);
}

}  // namespace countysim
