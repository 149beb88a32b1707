// exact_exp, exact_log and exact_erfc (libm_exact.hpp): the array forms on
// every SimdLevel equal the scalar functions bit for bit everywhere, and the
// scalar functions equal glibc's exp, log and erfc where glibc runs its FMA
// builds (a CPU with FMA and AVX2; without them glibc's own bits may differ
// in rare cases, which is why the engine has these functions). Arguments: a
// few million from a fixed generator, spread over every branch and the
// boundaries between them, and the special values.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "bits.hpp"
#include "countysim/libm_exact.hpp"
#include "countysim/quantile_functions.hpp"
#include "countysim/simd.hpp"
#include "simd_levels.hpp"
#include "splitmix.hpp"

using namespace countysim;

namespace {

using testing::bits;
using testing::LevelScope;

double from_bits(std::uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

bool glibc_uses_fma() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

const double kInf = std::numeric_limits<double>::infinity();
const double kNan = std::numeric_limits<double>::quiet_NaN();

// The special values and, around each boundary b (and -b), its 64
// neighbours on either side bit by bit and `per` values within 2^-k
// relative, k = 1 .. 40.
std::vector<double> around(const std::vector<double>& bounds, std::size_t per, std::uint64_t seed) {
  std::vector<double> v = {0.0,
                           -0.0,
                           kInf,
                           -kInf,
                           kNan,
                           -kNan,
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::min(),
                           std::numeric_limits<double>::max(),
                           -std::numeric_limits<double>::max()};
  testing::SplitMix g{seed};
  for (const double b0 : bounds) {
    for (const double b : {b0, -b0}) {
      std::uint64_t bb;
      std::memcpy(&bb, &b, sizeof bb);
      for (std::uint64_t d = 0; d < 64; ++d) {
        v.push_back(from_bits(bb + d));
        if (bb >= d) v.push_back(from_bits(bb - d));
      }
      for (int k = 1; k <= 40; ++k)
        for (std::size_t i = 0; i < per; ++i)
          v.push_back(b * (1 + std::ldexp(2 * g.uniform() - 1, -k)));
    }
  }
  return v;
}

// f's scalar form (`exact`) against the build a CPU without FMA runs
// (`no_fma`, std::fma for the fused operations), against glibc (`libm`)
// where glibc uses its FMA builds, and against the array form on every
// level, at every offset and in place.
template <class Exact, class Array, class Libm, class NoFma>
void check(const std::vector<double>& x, Exact exact, Array array, Libm libm, NoFma no_fma) {
  std::vector<double> want(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) want[i] = exact(x[i]);
  std::size_t differ_no_fma = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double g = no_fma(x[i]);
    if (bits(g) != bits(want[i]) && differ_no_fma++ < 10)
      FAIL_CHECK("x = " << std::hexfloat << x[i] << ": without FMA " << g << ", with " << want[i]);
  }
  CHECK(differ_no_fma == 0);
  if (glibc_uses_fma()) {
    std::size_t differ = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double g = libm(x[i]);
      if (bits(g) != bits(want[i]) && differ++ < 10)
        FAIL_CHECK("x = " << std::hexfloat << x[i] << ": glibc " << g << ", exact " << want[i]);
    }
    CHECK(differ == 0);
  }
  for (const SimdLevel level : testing::simd_levels()) {
    LevelScope scope(level);
    // Every offset into a vector register, and in place.
    for (std::size_t off = 0; off < 9; ++off) {
      std::vector<double> y(x.size() - off);
      array(x.data() + off, y.data(), y.size());
      std::size_t differ = 0;
      for (std::size_t i = 0; i < y.size(); ++i)
        if (bits(y[i]) != bits(want[i + off]) && differ++ < 10)
          FAIL_CHECK(simd_level_name(level) << ": x = " << std::hexfloat << x[i + off] << ": "
                                            << y[i] << ", scalar " << want[i + off]);
      CHECK(differ == 0);
    }
    std::vector<double> y = x;
    array(y.data(), y.data(), y.size());
    CHECK(testing::same_bits(y, want));
  }
}

}  // namespace

TEST_CASE("exact_erfc equals glibc's erfc on every branch, and its array form on every level",
          "[libm]") {
  // fdlibm's ranges: 2^-56, 1/4, 0.84375, 1.25, 1/0.35, 6, 28; and the
  // places where exp's arguments leave its common path (|x| about 22.6, and
  // the subnormal results from about 26.5).
  std::vector<double> x =
      around({0x1p-56, 0.25, 0.84375, 1.25, 1 / 0.35, 6.0, 22.6, 26.55, 27.2, 28.0}, 1500, 1);
  testing::SplitMix g{2};
  for (int i = 0; i < 1000000; ++i) x.push_back(60 * g.uniform() - 30);
  for (int i = 0; i < 500000; ++i) x.push_back(4 * g.uniform() - 2);
  for (int i = 0; i < 200000; ++i)
    x.push_back(std::ldexp(g.uniform() - 0.5, -int(60 * g.uniform())));
  // The normal CDF's arguments: -z / sqrt 2 for standard normal z.
  for (int i = 0; i < 500000; ++i) x.push_back(-0.70710678118654757 * (16 * g.uniform() - 8));
  check(
      x, [](double v) { return exact_erfc(v); },
      [](const double* a, double* b, std::size_t n) { exact_erfc(a, b, n); },
      [](double v) { return std::erfc(v); }, [](double v) { return exact_erfc_without_fma(v); });
}

TEST_CASE("exact_exp equals glibc's exp over its whole range, and its array form on every level",
          "[libm]") {
  std::vector<double> x = around(
      {0x1p-54, 1.0, 512.0, 708.0, 709.782712893384, 745.1332191019411, 708.3964185322641, 1024.0},
      1000, 3);
  testing::SplitMix g{4};
  for (int i = 0; i < 1500000; ++i) x.push_back(1456 * g.uniform() - 746);
  for (int i = 0; i < 300000; ++i) x.push_back(-40 * g.uniform() - 705);  // subnormal results
  for (int i = 0; i < 300000; ++i)
    x.push_back(std::ldexp(g.uniform() - 0.5, -int(70 * g.uniform())));
  for (int i = 0; i < 300000; ++i) x.push_back(-850 * g.uniform());  // erfc's arguments
  check(
      x, [](double v) { return exact_exp(v); },
      [](const double* a, double* b, std::size_t n) { exact_exp(a, b, n); },
      [](double v) { return std::exp(v); }, [](double v) { return exact_exp_without_fma(v); });
}

TEST_CASE("exact_log equals glibc's log over its whole range, and its array form on every level",
          "[libm]") {
  std::vector<double> x = around(
      {1.0, 1 - 0x1p-4, 1 + 0x1.09p-4, 0x1.6p-1, std::numeric_limits<double>::min(), 2.0}, 1000, 5);
  testing::SplitMix g{6};
  for (int i = 0; i < 600000; ++i) x.push_back(1 + 0.14 * (g.uniform() - 0.5));  // near 1
  for (int i = 0; i < 600000; ++i) x.push_back(0.075 * g.uniform());  // normal quantile tails
  for (int i = 0; i < 600000; ++i) {  // any bits: every exponent, subnormals, both signs, NaNs
    const double u = g.uniform();
    std::uint64_t b;
    std::memcpy(&b, &u, sizeof b);
    x.push_back(from_bits(b * 0x9e3779b97f4a7c15ULL));
  }
  for (int i = 0; i < 300000; ++i)
    x.push_back(std::ldexp(1 + g.uniform(), -1074 + int(1100 * g.uniform())));
  check(
      x, [](double v) { return exact_log(v); },
      [](const double* a, double* b, std::size_t n) { exact_log(a, b, n); },
      [](double v) { return std::log(v); }, [](double v) { return exact_log_without_fma(v); });
}

TEST_CASE("normal_cdf's array form equals the scalar one on every level, and the libm formula",
          "[libm]") {
  std::vector<double> z = around({0.5, 1.0, 1.4142135623730951, 1.7677669529663689, 4.04061,
                                  8.485281374238571, 37.0, 39.59797974644666, 40.0},
                                 200, 7);
  testing::SplitMix g{8};
  for (int i = 0; i < 400000; ++i) z.push_back(16 * g.uniform() - 8);
  for (int i = 0; i < 100000; ++i) z.push_back(90 * g.uniform() - 45);
  // The formula normal_cdf had with libm's erfc and exp (the same bits where
  // glibc uses its FMA builds).
  const auto libm_cdf = [](double v) {
    const double t = -v * 0.70710678118654757;
    if (!(t >= 1 && t < 28)) return 0.5 * std::erfc(t);
    const double d = std::fma(-v, 0.70710678118654757, -t) - v * -4.833646656726457e-17;
    return 0.5 * std::erfc(t) - d * 0.56418958354775628 * std::exp(-t * t);
  };
  check(
      z, [](double v) { return normal_cdf(v); },
      [](const double* a, double* b, std::size_t n) { normal_cdf(a, b, n); }, libm_cdf,
      [](double v) { return normal_cdf(v); });  // no separate build without FMA
}

TEST_CASE("exact_normal_tails equals normal_quantile on its tails on every level", "[libm]") {
  // Both tails (|u - 1/2| > 0.425): their edges, the far tail's (r = 5, p
  // about 1.4e-11), p down to subnormals (log's special lanes), and random
  // p over every binade the sampler reaches.
  std::vector<double> p = {0.075,
                           std::nextafter(0.075, 0.0),
                           1.3e-11,
                           1.38879e-11,
                           1.4e-11,
                           1e-20,
                           0x1.0p-53,
                           0x1.0p-60,
                           1e-300,
                           std::numeric_limits<double>::min(),
                           std::numeric_limits<double>::denorm_min()};
  testing::SplitMix g{11};
  for (int i = 0; i < 200000; ++i) p.push_back(0.075 * g.uniform());
  for (int i = 0; i < 100000; ++i) p.push_back(std::ldexp(0.5 + 0.5 * g.uniform(), -1 - i % 60));
  std::vector<double> u;
  for (const double v : p) {
    for (const double w : {v, 1.0 - v})
      if (w > 0 && w < 1 && std::abs(w - 0.5) > 0.425) u.push_back(w);
  }
  const auto scalar = [](double v) { return normal_quantile(v); };
  check(
      u, scalar, [](const double* a, double* b, std::size_t n) { exact_normal_tails(a, b, n); },
      scalar, scalar);  // the scalar function is the reference on every build
}
