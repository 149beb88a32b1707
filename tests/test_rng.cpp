#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "countysim/rng.hpp"

using namespace countysim;

namespace {

// Philox key (k0, k1) and counter (c0..c3) in terms of (seed, hash, draw):
// key = (seed lo, seed hi), counter = (draw lo, draw hi, hash lo, hash hi).
std::array<std::uint32_t, 4> philox_raw(std::array<std::uint32_t, 4> ctr,
                                        std::array<std::uint32_t, 2> key) {
  const std::uint64_t seed = key[0] | (static_cast<std::uint64_t>(key[1]) << 32);
  const std::uint64_t draw = ctr[0] | (static_cast<std::uint64_t>(ctr[1]) << 32);
  const std::uint64_t hash = ctr[2] | (static_cast<std::uint64_t>(ctr[3]) << 32);
  return philox_block(seed, hash, draw);
}

}  // namespace

TEST_CASE("Philox4x32-10 matches Random123's known-answer vectors", "[rng]") {
  // Random123 kat_vectors, lines "philox4x32 10 CTR[4] KEY[2] -> OUT[4]".
  using A4 = std::array<std::uint32_t, 4>;
  CHECK(philox_raw({0, 0, 0, 0}, {0, 0}) == A4{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(philox_raw({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}) ==
        A4{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(philox_raw({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}) ==
        A4{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("key_hash matches an independent implementation", "[rng]") {
  // Values from:
  // python3 -c 'import sys,functools as f;M=2**64-1;h=f.reduce(lambda
  // h,b:((h^b)*0x100000001b3)&M,sys.argv[1].encode(),0xcbf29ce484222325);h^=h>>30;h=h*0xbf58476d1ce4e5b9&M;h^=h>>27;h=h*0x94d049bb133111eb&M;h^=h>>31;print(hex(h))'
  // KEY
  CHECK(key_hash("") == 0xf52a15e9a9b5e89bULL);
  CHECK(key_hash("a") == 0x02c0bdbf481420f8ULL);
  CHECK(key_hash("clusters.bamboo.growth@2023") == 0xacca551f3670f91bULL);
  CHECK(key_hash("projects.guochen.success") == 0x909fcba08d01b361ULL);
  CHECK(key_hash("macro.common_shock@2024") == 0xc879393beb3772b4ULL);
  // UTF-8 bytes e7 ab b9 e6 9c a8 (竹木).
  CHECK(key_hash("clusters.\xe7\xab\xb9\xe6\x9c\xa8.growth") == 0x2b5208b279c1c8d5ULL);
  CHECK(key_hash(u8"clusters.竹木.growth") == 0x2b5208b279c1c8d5ULL);
}

TEST_CASE("stream_uniforms is pinned for one (seed, key, draw)", "[rng]") {
  // Computed by a pure-Python Philox4x32-10 (checked against the vectors
  // above): words c62a82ae 6936d4a4 6578fc2e b1a8e9b8, and
  // u = float(Fraction(2 * (w_lo | w_hi << 32 >> 11) + 1, 2**54)).
  const auto w = philox_block(20220401, key_hash("clusters.bamboo.growth@2023"), 12345);
  CHECK(w == std::array<std::uint32_t, 4>{0xc62a82ae, 0x6936d4a4, 0x6578fc2e, 0xb1a8e9b8});
  const auto u = stream_uniforms(20220401, key_hash("clusters.bamboo.growth@2023"), 12345);
  CHECK(u[0] == 0.41099289915852394);
  CHECK(u[1] == 0.6939836573778599);
  CHECK(stream_uniform(20220401, key_hash("clusters.bamboo.growth@2023"), 12345) == u[0]);
}

TEST_CASE("bits_to_open_unit stays strictly inside (0, 1)", "[rng]") {
  CHECK(bits_to_open_unit(0) == 0x1.0p-54);
  CHECK(bits_to_open_unit(~0ULL) < 1.0);
  CHECK(bits_to_open_unit(~0ULL) == 0x1.fffffffffffffp-1);
  CHECK(bits_to_open_unit(1ULL << 11) == 1.5 * 0x1.0p-53);
  // Above 1/2 the half-integer rounds to an even neighbour (2^52 + 0.5 -> 2^52).
  CHECK(bits_to_open_unit(1ULL << 63) == 0.5);
  for (std::uint64_t d = 0; d < 100000; ++d) {
    const auto u = stream_uniforms(1, 2, d);
    REQUIRE(u[0] > 0);
    REQUIRE(u[0] < 1);
    REQUIRE(u[1] > 0);
    REQUIRE(u[1] < 1);
  }
}

TEST_CASE("different keys, draws and seeds give different streams", "[rng]") {
  const std::uint64_t h1 = key_hash("clusters.bamboo.growth@2023");
  const std::uint64_t h2 = key_hash("clusters.bamboo.growth@2024");
  CHECK(h1 != h2);
  int same_key = 0, same_seed = 0, same_draw = 0;
  for (std::uint64_t d = 0; d < 1000; ++d) {
    const double u = stream_uniform(7, h1, d);
    same_key += u == stream_uniform(7, h2, d);
    same_seed += u == stream_uniform(8, h1, d);
    same_draw += u == stream_uniform(7, h1, d + 1);
    // The same (seed, key, draw) always gives the same variate.
    REQUIRE(u == stream_uniform(7, h1, d));
  }
  CHECK(same_key == 0);
  CHECK(same_seed == 0);
  CHECK(same_draw == 0);
  // Draw numbers above 2^32 use the counter's high word.
  CHECK(stream_uniform(7, h1, 5) != stream_uniform(7, h1, 5 + (1ULL << 32)));
  // Seeds above 2^32 use the key's high word.
  CHECK(stream_uniform(7, h1, 5) != stream_uniform(7 + (1ULL << 32), h1, 5));
}

TEST_CASE("stream uniforms pass chi-square and Kolmogorov-Smirnov checks", "[rng]") {
  const std::uint64_t h = key_hash("test");
  constexpr int n = 1000000;
  constexpr int bins = 1000;
  std::vector<double> count0(bins), count1(bins), pairs(32 * 32);
  std::vector<double> first(n);
  for (int d = 0; d < n; ++d) {
    const auto u = stream_uniforms(20220401, h, d);
    first[d] = u[0];
    count0[static_cast<int>(u[0] * bins)] += 1;
    count1[static_cast<int>(u[1] * bins)] += 1;
    pairs[static_cast<int>(u[0] * 32) * 32 + static_cast<int>(u[1] * 32)] += 1;
  }
  // Pearson's statistic with k cells has mean k-1 and sd sqrt(2(k-1)) under
  // uniformity; |X2 - (k-1)| < 4 sd.
  const auto chi2 = [](const std::vector<double>& c, double expected) {
    double x2 = 0;
    for (const double o : c) x2 += (o - expected) * (o - expected) / expected;
    return x2;
  };
  const double k1 = bins - 1, k2 = 32 * 32 - 1;
  CHECK(std::abs(chi2(count0, double(n) / bins) - k1) < 4 * std::sqrt(2 * k1));
  CHECK(std::abs(chi2(count1, double(n) / bins) - k1) < 4 * std::sqrt(2 * k1));
  // Joint cells test independence of the two uniforms of a block.
  CHECK(std::abs(chi2(pairs, double(n) / (32 * 32)) - k2) < 4 * std::sqrt(2 * k2));

  // KS: P(sqrt(n) D > 2.23) ~ 2 exp(-2 * 2.23^2) ~ 1e-4.
  std::sort(first.begin(), first.end());
  double dmax = 0;
  for (int i = 0; i < n; ++i) {
    dmax = std::max({dmax, std::abs((i + 1.0) / n - first[i]), std::abs(first[i] - double(i) / n)});
  }
  CHECK(std::sqrt(double(n)) * dmax < 2.23);
}
