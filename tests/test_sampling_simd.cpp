// Every vector path of the sampler gives the same bits: the kernels and the
// whole block sampler run under each SimdLevel the CPU has (scalar, AVX2,
// AVX-512; set_simd_level_for_testing) on the same inputs, edge values in
// every lane position of an eight-lane block and lengths that are not
// multiples of the lane counts among them, and must agree with the scalar
// functions bit for bit.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "bits.hpp"
#include "countysim/distribution.hpp"
#include "countysim/plan.hpp"
#include "countysim/quantile_functions.hpp"
#include "countysim/rng.hpp"
#include "countysim/sampling.hpp"
#include "countysim/scenario.hpp"
#include "countysim/simd.hpp"
#include "simd_levels.hpp"

using namespace countysim;

namespace {

using testing::bits;
using testing::LevelScope;

// Edge arguments: the ends of (0, 1) and beyond, NaN, 1/2 and its
// neighbours, the boundaries of normal_quantile's central region (0.075,
// 0.925) and of its far tail (about 1.4e-11), the deep tails down to
// subnormals, every dyadic level of either half (the beta table's levels and
// pieces) and a few values near 1.
std::vector<double> edges() {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double denorm = std::numeric_limits<double>::denorm_min();
  const double tiny = std::numeric_limits<double>::min();
  std::vector<double> e = {0.0,
                           -0.0,
                           1.0,
                           -1.0,
                           2.0,
                           inf,
                           -inf,
                           nan,
                           -nan,
                           0.5,
                           std::nextafter(0.5, 0.0),
                           std::nextafter(0.5, 1.0),
                           0.075,
                           std::nextafter(0.075, 0.0),
                           std::nextafter(0.075, 1.0),
                           0.925,
                           std::nextafter(0.925, 0.0),
                           std::nextafter(0.925, 1.0),
                           1.3e-11,
                           1.4e-11,
                           1 - 1.4e-11,
                           1e-20,
                           1e-300,
                           0x1.0p-60,
                           denorm,
                           3 * denorm,
                           tiny,
                           std::nextafter(tiny, 0.0),
                           0x1.fffffffffffffp-1,
                           1 - 0x1.0p-53,
                           1 - 0x1.0p-54,  // rounds to 1
                           0.999999,
                           1e-6};
  for (int k = 1; k <= 64; ++k) {
    const double p = std::ldexp(1.0, -k);
    for (const double v : {p, std::nextafter(p, 0.0), std::nextafter(p, 1.0), p * 1.5,
                           p * (1 + 1.0 / 128), p * (1 + 127.0 / 128)}) {
      e.push_back(v);
      e.push_back(1.0 - v);  // the upper half (exact for v <= 1/2)
    }
  }
  return e;
}

// Uniforms from a stream, then each edge at every lane position of an
// eight-lane block among central values, then the edges back to back (blocks
// of tails only), then an odd remainder.
std::vector<double> arguments(std::size_t n, bool only_open) {
  std::vector<double> e;
  for (const double v : edges())
    if (!only_open || (v > 0 && v < 1)) e.push_back(v);
  std::vector<double> u(n);
  stream_uniform_block(11, key_hash("simd"), 0, n, u.data());
  for (int lane = 0; lane < 8; ++lane) {
    for (int k = 0; k < lane; ++k) u.push_back(0.25);
    for (const double v : e) {
      u.push_back(v);
      for (const double c : {0.3, 0.7, 0.9, 0.45, 0.55, 0.2, 0.6}) u.push_back(c);
    }
  }
  u.insert(u.end(), e.begin(), e.end());
  u.insert(u.end(), e.rbegin(), e.rend());
  u.push_back(0.1);
  u.push_back(0.5);
  u.push_back(1e-9);
  return u;
}

// The lengths to run an array function on: every length up to 70 (all
// remainders of 4, 8, 16 and 32 lanes), then the whole array.
std::vector<std::size_t> lengths(std::size_t total) {
  std::vector<std::size_t> n;
  for (std::size_t k = 0; k <= 70 && k <= total; ++k) n.push_back(k);
  n.push_back(total);
  return n;
}

// Runs `array(u, x, n)` under every level on prefixes of u and at an odd
// offset, in place too, and compares with `scalar` element by element.
template <class Array, class Scalar>
void check_levels(const std::vector<double>& u, Array array, Scalar scalar) {
  std::vector<std::uint64_t> want(u.size());
  for (std::size_t i = 0; i < u.size(); ++i) want[i] = bits(scalar(u[i]));
  for (const SimdLevel level : testing::simd_levels()) {
    LevelScope scope(level);
    INFO("level " << simd_level_name(level));
    REQUIRE(simd_level() == level);
    std::size_t mismatches = 0;
    const auto compare = [&](const double* x, std::size_t first, std::size_t n) {
      for (std::size_t i = 0; i < n; ++i) {
        if (bits(x[i]) == want[first + i]) continue;
        if (mismatches++ < 5)
          FAIL_CHECK("u = " << u[first + i] << " (element " << first + i << " of " << n
                            << "): array " << x[i] << ", scalar " << scalar(u[first + i]));
      }
    };
    for (const std::size_t n : lengths(u.size())) {
      std::vector<double> x(n);
      array(u.data(), x.data(), n);
      compare(x.data(), 0, n);
    }
    for (const std::size_t first : {1, 3, 5, 7}) {  // other lane positions, unaligned
      const std::size_t n = u.size() - first;
      std::vector<double> x(n);
      array(u.data() + first, x.data(), n);
      compare(x.data(), first, n);
    }
    std::vector<double> in_place = u;  // x may be u
    array(in_place.data(), in_place.data(), in_place.size());
    compare(in_place.data(), 0, u.size());
    CHECK(mismatches == 0);
  }
}

// The plan `full` cut to its first k slots (groups with a member beyond
// dropped), with an id of its own for InputBlock.
Plan cut_plan(const Plan& full, std::size_t k) {
  Plan plan = full;
  plan.id = (1ULL << 60) + k;  // not compile_plan's: a plan of its own for InputBlock
  plan.slots.resize(k);
  plan.constant_values.resize(k);
  plan.random_slots.clear();
  for (const int s : full.random_slots)
    if (static_cast<std::size_t>(s) < k) plan.random_slots.push_back(s);
  plan.groups.clear();
  std::vector<int> renumber(full.groups.size(), -1);
  for (std::size_t g = 0; g < full.groups.size(); ++g) {
    bool inside = true;
    for (const int s : full.groups[g].slots) inside = inside && static_cast<std::size_t>(s) < k;
    if (!inside) continue;
    renumber[g] = static_cast<int>(plan.groups.size());
    plan.groups.push_back(full.groups[g]);
  }
  for (InputSlot& s : plan.slots)
    if (s.group >= 0) s.group = renumber[s.group];
  return plan;
}

}  // namespace

TEST_CASE("simd_level: capped by the CPU, set for tests and restored", "[sampling][simd]") {
  const SimdLevel now = simd_level();
  CHECK(now <= cpu_simd_level());
  {
    LevelScope scope(SimdLevel::scalar);
    CHECK(simd_level() == SimdLevel::scalar);
    // Asking for more than the CPU has gives what it has.
    const SimdLevel before = set_simd_level_for_testing(SimdLevel::avx512);
    CHECK(before == SimdLevel::scalar);
    CHECK(simd_level() == cpu_simd_level());
  }
  CHECK(simd_level() == now);
  CHECK(std::string(simd_level_name(SimdLevel::scalar)) == "scalar");
  CHECK(std::string(simd_level_name(SimdLevel::avx2)) == "avx2");
  CHECK(std::string(simd_level_name(SimdLevel::avx512)) == "avx512");
}

TEST_CASE("Philox uniforms: the same bits under every SimdLevel", "[sampling][simd]") {
  // Counters whose lanes carry into the high word at every lane position of
  // 8, 16 and 32 lanes, and wrap at 2^64; lengths around the lane counts.
  for (const std::uint64_t seed : {0ULL, 20220401ULL, ~0ULL, 0x9E3779B97F4A7C15ULL}) {
    const StreamKeys keys(seed);
    for (const std::uint64_t hash :
         {std::uint64_t{0}, ~std::uint64_t{0}, key_hash("clusters.bamboo.growth@2023")}) {
      std::vector<std::uint64_t> firsts = {0, 12345, 0x1fffffffcULL, ~0ULL - 5, ~0ULL - 40};
      for (std::uint64_t k = 1; k <= 33; ++k) firsts.push_back((1ULL << 32) - k);
      for (const std::uint64_t first : firsts) {
        std::vector<double> want(75);
        for (std::size_t i = 0; i < want.size(); ++i)
          want[i] = stream_uniform(seed, hash, first + i);
        for (const SimdLevel level : testing::simd_levels()) {
          LevelScope scope(level);
          for (const std::size_t n :
               {0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 47, 63, 64, 65, 75}) {
            std::vector<double> u(n), v(n);
            stream_uniform_block(keys, hash, first, n, u.data());
            stream_uniform_block(seed, hash, first, n, v.data());
            std::size_t mismatches = 0;
            for (std::size_t i = 0; i < n; ++i)
              mismatches += (bits(u[i]) != bits(want[i])) + (bits(v[i]) != bits(want[i]));
            INFO("level " << simd_level_name(level) << " seed " << seed << " hash " << hash
                          << " first " << first << " n " << n);
            REQUIRE(mismatches == 0);
          }
        }
      }
    }
  }
}

TEST_CASE("normal_quantile over an array: the same bits under every SimdLevel",
          "[sampling][simd]") {
  // Tail lanes near (r <= 5) and far (r > 5) in every combination of eight
  // lanes in both tails, between central ones and back to back.
  const double near_p[] = {0.01, 1e-6, 1.3e-11, 0.074};
  const double far_p[] = {1.4e-11, 1e-20, 0x1.0p-60, std::numeric_limits<double>::denorm_min()};
  std::vector<double> u;
  for (int mask = 0; mask < 256; ++mask) {
    for (int j = 0; j < 8; ++j) {
      const double p = (mask >> j) & 1 ? far_p[j % 4] : near_p[(j + mask) % 4];
      u.push_back(j % 2 ? 1.0 - p : p);
      if (mask % 3 == 0) u.push_back(0.3);  // central
    }
  }
  const std::vector<double> more = arguments(20000, false);
  u.insert(u.end(), more.begin(), more.end());
  check_levels(
      u, [](const double* in, double* out, std::size_t n) { normal_quantile(in, out, n); },
      [](double v) { return normal_quantile(v); });
}

TEST_CASE("copula_uniform over an array: the same bits under every SimdLevel", "[sampling][simd]") {
  std::vector<double> u = arguments(3000, false);
  for (const double v : {0x1.0p-60, std::nextafter(0x1.0p-60, 0.0), std::nextafter(0x1.0p-60, 1.0),
                         1 - 0x1.0p-53, 1 - 0x1.0p-54, -1e-300})
    u.push_back(v);
  check_levels(
      u, [](const double* in, double* out, std::size_t n) { copula_uniform(in, out, n); },
      [](double v) { return copula_uniform(v); });
}

TEST_CASE("QuantileTable over an array: the same bits under every SimdLevel", "[sampling][simd]") {
  const std::vector<double> u = arguments(20000, false);
  // Skewed both ways, symmetric, U-shaped, extreme; beta(0.001, 0.003) has a
  // table for its lower half only and beta(0.002, 0.002) for neither.
  const double shapes[][2] = {{8, 32},   {32, 8},      {0.5, 0.5},     {2, 2},
                              {1, 1},    {1.4, 4.6},   {200, 0.3},     {0.3, 200},
                              {0.02, 3}, {1000, 1000}, {0.001, 0.003}, {0.002, 0.002}};
  for (const auto& s : shapes) {
    const QuantileTable table(s[0], s[1]);
    INFO("beta(" << s[0] << ", " << s[1] << ")");
    check_levels(
        u, [&](const double* in, double* out, std::size_t n) { table(in, out, n); },
        [&](double v) { return table(v); });
  }
}

TEST_CASE("Distribution's array quantiles: the same bits under every SimdLevel",
          "[sampling][simd]") {
  const std::vector<Distribution> dists = {
      Distribution::constant(2.5),
      Distribution::normal(0.06, 0.015),
      Distribution::normal(1, 0),
      Distribution::normal(15, 2, 5),
      Distribution::normal(15, 2, 17, 30),
      Distribution::normal(0.04, 0.023, -0.05, 0.10),
      Distribution::lognormal(0.04, 0.5),
      Distribution::uniform(0.2, 0.3),
      Distribution::triangular(100, 250, 300),
      Distribution::triangular(12, 24, 36),  // a project's ramp months
      Distribution::triangular(1, 1, 5),     // mode at an end: one branch only
      Distribution::triangular(0, 4, 4),
      Distribution::triangular(3, 3, 3),
      Distribution::pert(100, 250, 400),
      Distribution::pert(3, 3, 3),
      Distribution::beta(0.5, 0.5, -1, 2),
      Distribution::poisson(8),
      Distribution::poisson(0.01),
      Distribution::poisson(5000),
      Distribution::discrete({0, 3, 9}, {0.5, 0.3, 0.2}),
      Distribution::discrete({5, 1, 5, 2, 7}, {0.2, 0, 0.3, 0.5, 0}),
      Distribution::discrete({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17},
                             std::vector<double>(17, 1.0 / 17)),
  };
  // Checked (quantile) on every argument, unchecked (quantile_open) on the
  // ones inside (0, 1), as sampled uniforms always are.
  const std::vector<double> all = arguments(3000, false), open = arguments(3000, true);
  for (const auto& d : dists) {
    INFO(d.describe());
    const auto scalar = [&](double v) { return d.quantile(v); };
    check_levels(
        all, [&](const double* in, double* out, std::size_t n) { d.quantile(in, out, n); }, scalar);
    check_levels(
        open, [&](const double* in, double* out, std::size_t n) { d.quantile_open(in, out, n); },
        scalar);
  }
}

TEST_CASE("InputBlock: the same bits under every SimdLevel on the repository scenarios",
          "[sampling][simd]") {
  const std::string root = COUNTYSIM_SOURCE_DIR;
  for (const std::string& path :
       {root + "/scenarios/taojiang-2022.yaml", root + "/scenarios/taojiang-2024-update.yaml",
        root + "/tests/data/example.yaml"}) {
    INFO(path);
    const Scenario sc = load_scenario(path);
    const Plan plan = compile_plan(sc);
    // A few thousand draws from 0, and a run across the counter's high word.
    std::vector<std::uint64_t> draws;
    for (std::uint64_t d = 0; d < 3000; ++d) draws.push_back(d);
    for (std::uint64_t d = (1ULL << 32) - 40; d < (1ULL << 32) + 40; ++d) draws.push_back(d);
    std::vector<double> want;  // the scalar level's
    for (const SimdLevel level : testing::simd_levels()) {
      LevelScope scope(level);
      INFO("level " << simd_level_name(level));
      InputBlock block;
      std::vector<double> values, got;
      for (const std::uint64_t d : draws) {
        block.inputs(plan, sc.seed, d, values);
        got.insert(got.end(), values.begin(), values.end());
      }
      if (want.empty()) {
        want = got;
        // The scalar level is sample_inputs itself (spot checks).
        std::vector<double> one, scratch;
        for (std::size_t k = 0; k < draws.size(); k += 97) {
          sample_inputs(plan, sc.seed, draws[k], one, scratch);
          REQUIRE(one.size() == plan.slots.size());
          for (std::size_t s = 0; s < one.size(); ++s)
            REQUIRE(bits(one[s]) == bits(want[k * plan.slots.size() + s]));
        }
        continue;
      }
      REQUIRE(got.size() == want.size());
      std::size_t mismatches = 0;
      for (std::size_t i = 0; i < got.size(); ++i) mismatches += bits(got[i]) != bits(want[i]);
      CHECK(mismatches == 0);
    }
  }
}

TEST_CASE("InputBlock: the same bits under every SimdLevel for every slot count modulo 8",
          "[sampling][simd]") {
  // The example plan cut to its first k slots (groups with a member beyond
  // dropped): the block's transpose in tiles of eight and four slots and the
  // slots left over.
  const Scenario sc = load_scenario(std::string(COUNTYSIM_TEST_DATA) + "/example.yaml");
  const Plan full = compile_plan(sc);
  REQUIRE(full.slots.size() >= 48);
  for (std::size_t k = full.slots.size() - 16; k <= full.slots.size(); ++k) {
    INFO(k << " slots");
    const Plan plan = cut_plan(full, k);
    std::vector<double> want, one, scratch;
    for (std::uint64_t d = 0; d < 100; ++d) {
      sample_inputs(plan, sc.seed, d, one, scratch);
      want.insert(want.end(), one.begin(), one.end());
    }
    for (const SimdLevel level : testing::simd_levels()) {
      LevelScope scope(level);
      INFO("level " << simd_level_name(level));
      InputBlock block;
      std::vector<double> values, got;
      for (std::uint64_t d = 0; d < 100; ++d) {
        block.inputs(plan, sc.seed, d, values);
        got.insert(got.end(), values.begin(), values.end());
      }
      REQUIRE(got.size() == want.size());
      std::size_t mismatches = 0;
      for (std::size_t i = 0; i < got.size(); ++i) mismatches += bits(got[i]) != bits(want[i]);
      CHECK(mismatches == 0);
    }
  }
}

TEST_CASE("InputBlock's rows: a group's draws as one by one, under every SimdLevel",
          "[sampling][simd]") {
  // Groups of 1 to 17 draws written straight into their rows (the batched
  // model's call), across the blocks' edges and from any draw, for
  // every slot count modulo 8 (the transposes' tiles and the slots left
  // over), and with a plan that has no id (sample_inputs draw by draw).
  const Scenario sc = load_scenario(std::string(COUNTYSIM_TEST_DATA) + "/example.yaml");
  const Plan full = compile_plan(sc);
  for (std::size_t k = full.slots.size() - 8; k <= full.slots.size() + 1; ++k) {
    Plan plan = k <= full.slots.size() ? cut_plan(full, k) : full;
    if (k > full.slots.size()) plan.id = 0;
    INFO(plan.slots.size() << " slots, plan id " << plan.id);
    std::vector<double> want, one, scratch;
    // A block refilled from `first` on, and 60 draws of the next.
    constexpr std::uint64_t first = 37, draws = InputBlock::capacity + 60;
    for (std::uint64_t d = first; d < first + draws; ++d) {
      sample_inputs(plan, sc.seed, d, one, scratch);
      want.insert(want.end(), one.begin(), one.end());
    }
    for (const SimdLevel level : testing::simd_levels()) {
      LevelScope scope(level);
      for (const std::size_t group : {1, 3, 4, 5, 7, 8, 9, 16, 17}) {
        INFO("level " << simd_level_name(level) << ", groups of " << group);
        InputBlock block;
        std::vector<std::vector<double>> rows(group);
        std::vector<double> got;
        for (std::uint64_t d = first; d < first + draws; d += group) {
          const std::size_t n = std::min<std::uint64_t>(group, first + draws - d);
          block.inputs(plan, sc.seed, d, n,
                       [&](std::size_t j) -> std::vector<double>& { return rows[j]; });
          for (std::size_t j = 0; j < n; ++j) got.insert(got.end(), rows[j].begin(), rows[j].end());
        }
        REQUIRE(got.size() == want.size());
        std::size_t mismatches = 0;
        for (std::size_t i = 0; i < got.size(); ++i) mismatches += bits(got[i]) != bits(want[i]);
        CHECK(mismatches == 0);
      }
    }
  }
}

TEST_CASE("binomial_quantile over arrays: the same bits under every SimdLevel",
          "[sampling][simd]") {
  // Firm-exit sized cases (walks from 0 that stop at u, at the mean test or
  // with fewer than four steps left before n), the scalar-only ones (mean
  // 64 and more, pmf(0) below e^-700, n or p at their ends, u at 0, 1 or
  // NaN, a fractional n), each with stream uniforms, u near 1 and u equal
  // to a CDF value of the walk, in every lane position.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> ns = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 45, 46.5, 200, 213, 1000, 1100};
  const std::vector<double> ps = {0,    1e-300, 1e-9, 0.001, 0.01, 0.03,      0.04, 0.055,
                                  0.07, 0.3,    0.5,  0.9,   0.99, 1 - 1e-12, 1};
  std::vector<double> n, p, u;
  std::vector<double> uniforms(64);
  stream_uniform_block(7, key_hash("binomial"), 0, uniforms.size(), uniforms.data());
  std::size_t next = 0;
  for (const double nn : ns)
    for (const double pp : ps) {
      std::vector<double> us = {0.0,       1.0,      nan, 0x1.0p-60, 1 - 0x1.0p-53,
                                1 - 1e-15, 0.999999, 0.5, 1e-3};
      for (int k = 0; k < 6; ++k) us.push_back(uniforms[next++ % uniforms.size()]);
      // u exactly at P(X <= k) for a few k (the walk's comparisons at equality)
      if (pp > 0 && pp < 1 && nn >= 1) {
        double pmf = std::pow(1 - pp, std::floor(nn)), cum = pmf;
        for (int k = 0; k < 8 && k < nn; ++k) {
          if (cum > 0 && cum < 1) us.push_back(cum);
          pmf *= pp / (1 - pp) * (std::floor(nn) - k) / (k + 1);
          cum += pmf;
        }
      }
      for (const double uu : us) {
        n.push_back(nn);
        p.push_back(pp);
        u.push_back(uu);
      }
    }
  // The same cases interleaved, so that each lane position sees each kind
  // next to the others.
  const std::size_t base = n.size();
  for (std::size_t i = 0; i < base; ++i) {
    const std::size_t j = (i * 7919) % base;
    n.push_back(n[j]);
    p.push_back(p[j]);
    u.push_back(u[j]);
  }
  const std::size_t total = n.size();
  std::vector<double> lg(total), want(total);
  for (std::size_t i = 0; i < total; ++i) {
    lg[i] = std::log1p(-p[i]);
    want[i] = binomial_quantile(static_cast<std::int64_t>(n[i]), p[i], u[i], lg[i]);
  }
  for (const SimdLevel level : testing::simd_levels()) {
    LevelScope scope(level);
    INFO("level " << simd_level_name(level));
    std::size_t mismatches = 0;
    for (const std::size_t first : {0, 1, 3, 5, 7}) {
      for (const std::size_t len : {std::size_t{1}, std::size_t{4}, std::size_t{7}, std::size_t{8},
                                    std::size_t{13}, std::size_t{16}, total}) {
        for (std::size_t at = first; at + len <= total; at += len) {
          std::vector<double> k(len);
          binomial_quantile(n.data() + at, p.data() + at, u.data() + at, lg.data() + at, k.data(),
                            len);
          for (std::size_t i = 0; i < len; ++i) {
            if (bits(k[i]) == bits(want[at + i])) continue;
            if (mismatches++ < 5)
              FAIL_CHECK("n " << n[at + i] << " p " << p[at + i] << " u " << u[at + i] << ": array "
                              << k[i] << ", scalar " << want[at + i]);
          }
          if (len == total) break;
        }
      }
    }
    CHECK(mismatches == 0);
    // p outside [0, 1] and n < 0 throw as the scalar function does.
    const double bad_p[8] = {0.5, 0.5, 0.5, 1.5, 0.5, 0.5, 0.5, 0.5};
    const double ok_n[8] = {10, 10, 10, 10, 10, 10, 10, 10};
    const double bad_n[8] = {10, 10, 10, 10, 10, 10, -1, 10};
    const double half[8] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    double lgs[8], out[8];
    for (int i = 0; i < 8; ++i) lgs[i] = std::log1p(-bad_p[i]);
    CHECK_THROWS_AS(binomial_quantile(ok_n, bad_p, half, lgs, out, 8), DistributionError);
    for (int i = 0; i < 8; ++i) lgs[i] = std::log1p(-half[i]);
    CHECK_THROWS_AS(binomial_quantile(bad_n, half, half, lgs, out, 8), DistributionError);
  }
}
