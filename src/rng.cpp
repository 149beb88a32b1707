#include "countysim/rng.hpp"

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

}  // namespace

void stream_uniform_block(std::uint64_t seed, std::uint64_t hash, std::uint64_t first,
                          std::size_t n, double* out) {
  std::size_t i = 0;
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
