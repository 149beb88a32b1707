// Known-answer tests of the sampler's vector paths against the scalar ones,
// bit for bit: the beta/PERT table lookup (gathered coefficients), the
// unchecked array quantile of sampled uniforms (gathered discrete and poisson
// lookups among them), Philox with precomputed keys, over random arguments
// and edge values in every lane of a four-lane block.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <vector>

#include "bits.hpp"
#include "countysim/distribution.hpp"
#include "countysim/quantile_functions.hpp"
#include "countysim/rng.hpp"

using namespace countysim;

namespace {

using testing::bits;

// Edge arguments of the table lookup: the ends of (0, 1) and beyond, 1/2 and
// its neighbours, every dyadic level of either half (2^-k, its neighbours,
// points inside the level's pieces) down past the deepest level, subnormals.
std::vector<double> table_edges() {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> e = {0.0,
                           -0.0,
                           1.0,
                           -1.0,
                           2.0,
                           inf,
                           -inf,
                           std::numeric_limits<double>::quiet_NaN(),
                           0.5,
                           std::nextafter(0.5, 0.0),
                           std::nextafter(0.5, 1.0),
                           0x1.fffffffffffffp-1,
                           1 - 0x1.0p-54,
                           0x1.0p-60,
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::min(),
                           std::nextafter(std::numeric_limits<double>::min(), 0.0)};
  for (int k = 1; k <= 64; ++k) {
    const double p = std::ldexp(1.0, -k);
    for (const double v : {p, std::nextafter(p, 0.0), std::nextafter(p, 1.0), p * 1.5,
                           p * (1 + 1.0 / 128), p * (1 + 127.0 / 128), p * (1 + 0.3)}) {
      e.push_back(v);
      e.push_back(1.0 - v);  // the upper half (exact for v <= 1/2)
    }
  }
  return e;
}

// n uniforms of (0, 1) from a Philox stream, then the edges, each edge
// repeated at every lane offset of a four-lane block.
std::vector<double> arguments(std::size_t n, const std::vector<double>& edges) {
  std::vector<double> u(n);
  stream_uniform_block(11, key_hash("vector"), 0, n, u.data());
  for (int lane = 0; lane < 4; ++lane) {
    for (int k = 0; k < lane; ++k) u.push_back(0.25);
    for (const double e : edges) {
      u.push_back(e);
      u.push_back(0.3);
      u.push_back(0.7);
      u.push_back(0.9);
    }
  }
  u.push_back(0.1);  // a remainder past the last block of four
  u.push_back(0.5);
  return u;
}

}  // namespace

TEST_CASE("QuantileTable over an array gives the scalar lookup's bits", "[sampling]") {
  const std::vector<double> u = arguments(200000, table_edges());
  // Default-scenario PERT shapes, symmetric, U-shaped, skewed both ways,
  // flat and extreme ones; beta(0.001, 0.003) has a table for its lower half
  // only and beta(0.002, 0.002) for neither (those lanes go to the scalar
  // lookup).
  const double shapes[][2] = {
      {8, 32},    {32, 8},      {0.5, 0.5},     {2, 2},         {1, 1},        {3, 1.8},
      {1.4, 4.6}, {5, 1},       {1, 5},         {0.05, 0.05},   {200, 0.3},    {0.3, 200},
      {0.02, 3},  {1000, 1000}, {0.001, 0.003}, {0.003, 0.001}, {0.002, 0.002}};
  for (const auto& s : shapes) {
    const QuantileTable table(s[0], s[1]);
    INFO("beta(" << s[0] << ", " << s[1] << ")");
    std::vector<double> x(u.size());
    table(u.data(), x.data(), u.size());
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < u.size(); ++i) {
      if (bits(x[i]) == bits(table(u[i]))) continue;
      if (mismatches++ < 5)
        FAIL_CHECK("u = " << u[i] << ": array " << x[i] << ", scalar " << table(u[i]));
    }
    CHECK(mismatches == 0);
    std::vector<double> in_place = u;  // x may be u
    table(in_place.data(), in_place.data(), in_place.size());
    CHECK(std::memcmp(in_place.data(), x.data(), x.size() * sizeof(double)) == 0);
  }
}

TEST_CASE("quantile_open gives quantile's bits on sampled uniforms", "[sampling]") {
  const std::vector<Distribution> dists = {
      Distribution::constant(2.5),
      Distribution::normal(0.06, 0.015),
      Distribution::normal(1, 0),
      Distribution::normal(15, 2, 17, 30),
      Distribution::normal(0.04, 0.023, -0.05, 0.10),
      Distribution::lognormal(0.04, 0.5),
      Distribution::uniform(0.2, 0.3),
      Distribution::triangular(100, 250, 300),
      Distribution::pert(100, 250, 400),
      Distribution::pert(3, 3, 3),
      Distribution::beta(0.5, 0.5, -1, 2),
      Distribution::poisson(8),
      Distribution::poisson(5000),
      Distribution::poisson(0),
      Distribution::poisson(0.01),
      Distribution::poisson(25),
      Distribution::poisson(1e6),
      Distribution::discrete({0, 3, 9}, {0.5, 0.3, 0.2}),
      Distribution::discrete({0, 1}, {0.25, 0.75}),
      Distribution::discrete({5, 1, 5, 2, 7}, {0.2, 0, 0.3, 0.5, 0}),
      Distribution::discrete({4}, {1}),
      Distribution::discrete({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17},
                             std::vector<double>(17, 1.0 / 17)),
  };
  // Sampled uniforms with the extremes a stream can give among them (all
  // inside (0, 1); not the copula's clamp, whose 1 - 2^-54 rounds to 1).
  std::vector<double> u(20003);
  stream_uniform_block(5, key_hash("open"), 1000, u.size(), u.data());
  const double inside[] = {0x1.0p-54,
                           0x1.0p-60,
                           1 - 0x1.0p-53,
                           0x1.fffffffffffffp-1,
                           0.5,
                           0.075,
                           0.925,
                           std::nextafter(0.5, 0.0),
                           std::nextafter(0.5, 1.0),
                           0.25,  // cumulative probabilities of the discrete ones
                           0.8,
                           0.2,
                           0.7,
                           std::nextafter(0.8, 1.0),
                           std::nextafter(0.25, 0.0)};
  for (std::size_t k = 0; k < std::size(inside); ++k) u[k * 7 + k % 4] = inside[k];
  for (const auto& d : dists) {
    INFO(d.describe());
    std::vector<double> x(u.size()), y(u.size());
    d.quantile_open(u.data(), x.data(), u.size());
    d.quantile(u.data(), y.data(), u.size());
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < u.size(); ++i) {
      if (bits(x[i]) == bits(y[i]) && bits(x[i]) == bits(d.quantile(u[i]))) continue;
      if (mismatches++ < 5)
        FAIL_CHECK("u = " << u[i] << ": open " << x[i] << ", checked " << y[i] << ", scalar "
                          << d.quantile(u[i]));
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("stream_uniform_block with StreamKeys gives stream_uniform's bits", "[sampling]") {
  // The 64-bit counter slots carry into the high word of the counter and
  // wrap at 2^64 as the scalar counter does.
  for (const std::uint64_t seed : {0ULL, 20220401ULL, ~0ULL, 0x9E3779B97F4A7C15ULL}) {
    const StreamKeys keys(seed);
    for (const std::uint64_t hash :
         {std::uint64_t{0}, ~std::uint64_t{0}, key_hash("clusters.bamboo.growth@2023")}) {
      for (const std::uint64_t first : {0ULL, 0xfffffffaULL, 0x1fffffffcULL, ~0ULL - 5}) {
        std::vector<double> u(45);
        stream_uniform_block(keys, hash, first, u.size(), u.data());
        for (std::size_t i = 0; i < u.size(); ++i)
          CHECK(bits(u[i]) == bits(stream_uniform(seed, hash, first + i)));
      }
    }
  }
}

TEST_CASE("normal_quantile over an array gives the scalar bits, tails near and far mixed",
          "[sampling]") {
  // Tail arguments (p < 0.075) near (r <= 5) and far (r > 5: p below about
  // 1.4e-11) in every combination of a group of four tail lanes, between
  // central ones, in both tails; then random uniforms with the edges.
  const double near_p[] = {0.01, 1e-6, 1.3e-11, 0.074};
  const double far_p[] = {1.4e-11, 1e-20, 0x1.0p-60, std::numeric_limits<double>::denorm_min()};
  std::vector<double> u;
  for (int mask = 0; mask < 16; ++mask) {
    for (const bool upper : {false, true}) {
      for (int j = 0; j < 4; ++j) {
        const double p = (mask >> j) & 1 ? far_p[j] : near_p[j];
        u.push_back(upper ? 1.0 - p : p);
        u.push_back(0.3);  // central
      }
    }
  }
  const std::vector<double> more = arguments(50000, table_edges());
  u.insert(u.end(), more.begin(), more.end());
  std::vector<double> z(u.size());
  normal_quantile(u.data(), z.data(), u.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < u.size(); ++i) {
    if (bits(z[i]) == bits(normal_quantile(u[i]))) continue;
    if (mismatches++ < 5)
      FAIL_CHECK("u = " << u[i] << ": array " << z[i] << ", scalar " << normal_quantile(u[i]));
  }
  CHECK(mismatches == 0);
}
