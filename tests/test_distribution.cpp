#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/lognormal.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/poisson.hpp>
#include <boost/math/distributions/triangular.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/erf.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "countysim/distribution.hpp"
#include "countysim/quantile_functions.hpp"
#include "countysim/rng.hpp"

using namespace countysim;
namespace bm = boost::math;

namespace {

constexpr int kN = 200000;
constexpr std::uint64_t kSeed = 20220401;

// Draws 0..kN-1 of one Philox stream, through the inverse CDF.
std::vector<double> sample(const Distribution& d, std::uint64_t seed = kSeed) {
  const std::uint64_t h = key_hash("test");
  std::vector<double> x(kN);
  for (int i = 0; i < kN; ++i) x[i] = d.quantile(stream_uniform(seed, h, i));
  return x;
}

// |estimate - truth| < 4 SE for P(X >= at), SE = sqrt(p (1 - p) / N).
void check_upper_tail(const std::vector<double>& x, double at, double truth) {
  double hits = 0;
  for (const double v : x) hits += v >= at;
  const double est = hits / x.size();
  const double se = std::sqrt(truth * (1 - truth) / x.size());
  INFO("P(X >= " << at << "): estimate " << est << ", truth " << truth << ", SE " << se);
  REQUIRE(truth > 0.001);
  REQUIRE(truth < 0.999);
  CHECK(std::abs(est - truth) < 4 * se);
}

// |sample mean - truth| < 4 SE, SE = sd / sqrt(N) with sd the closed form.
void check_mean(const std::vector<double>& x, double truth, double sd) {
  double sum = 0;
  for (const double v : x) sum += v;
  const double est = sum / x.size();
  const double se = sd / std::sqrt(double(x.size()));
  INFO("mean: estimate " << est << ", truth " << truth << ", SE " << se);
  CHECK(std::abs(est - truth) < 4 * se);
}

template <class Dist>
void check_against(const Distribution& d, const Dist& truth, std::vector<double> at) {
  const auto x = sample(d);
  for (const double a : at) {
    check_upper_tail(x, a, bm::cdf(bm::complement(truth, a)));
    CHECK(d.cdf(a) == Approx(bm::cdf(truth, a)).epsilon(1e-12).margin(1e-15));
  }
  check_mean(x, bm::mean(truth), bm::standard_deviation(truth));
  CHECK(d.mean() == Approx(bm::mean(truth)).epsilon(1e-12));
}

// Scaled beta on [lo, hi], as Boost has no location-scale beta.
struct ScaledBeta {
  bm::beta_distribution<> b;
  double lo, hi;
};
double cdf(const ScaledBeta& s, double x) {
  return bm::cdf(s.b, (x - s.lo) / (s.hi - s.lo));
}
double upper(const ScaledBeta& s, double x) {
  return bm::cdf(bm::complement(s.b, (x - s.lo) / (s.hi - s.lo)));
}

void check_scaled_beta(const Distribution& d, double a, double b, double lo, double hi,
                       std::vector<double> at) {
  const ScaledBeta truth{bm::beta_distribution<>(a, b), lo, hi};
  const auto x = sample(d);
  for (const double v : at) {
    check_upper_tail(x, v, upper(truth, v));
    CHECK(d.cdf(v) == Approx(cdf(truth, v)).epsilon(1e-12));
  }
  const double mean = lo + (hi - lo) * bm::mean(truth.b);
  check_mean(x, mean, (hi - lo) * bm::standard_deviation(truth.b));
  CHECK(d.mean() == Approx(mean).epsilon(1e-12));
  for (const double v : x) {
    REQUIRE(v >= lo);
    REQUIRE(v <= hi);
  }
}

// Expects `make` to throw DistributionError naming `param` with `message`.
void check_throws(const std::function<Distribution()>& make, const std::string& param,
                  const std::string& message) {
  try {
    make();
    FAIL("no DistributionError for " << message);
  } catch (const DistributionError& e) {
    CHECK(e.param() == param);
    CHECK(std::string(e.what()) == message);
  }
}

std::uint64_t bits_of(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

// Edge values of the uniforms an inverse CDF can see: the ends of (0, 1) and
// beyond, the smallest normal and subnormal doubles, exact 0.5 and its
// neighbours, and both sides of each boundary of normal_quantile's central
// region (|u - 0.5| <= 0.425).
std::vector<double> edge_uniforms() {
  constexpr double kInfD = std::numeric_limits<double>::infinity();
  std::vector<double> u = {0.0,
                           -0.0,
                           1.0,
                           -0.5,
                           1.5,
                           kInfD,
                           -kInfD,
                           std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::min(),
                           0x1.0p-60,
                           0x1.0p-53,
                           1 - 0x1.0p-53,
                           1 - 0x1.0p-54,
                           0x1.fffffffffffffp-1,
                           1e-300,
                           0.5};
  for (const double at : {0.5, 0.5 - 0.425, 0.5 + 0.425, 0.075, 0.925}) {
    double lo = at, hi = at;
    for (int k = 0; k < 4; ++k) {
      lo = std::nextafter(lo, 0.0);
      hi = std::nextafter(hi, 1.0);
      u.push_back(lo);
      u.push_back(hi);
    }
    u.push_back(at);
  }
  return u;
}

}  // namespace

TEST_CASE("the array normal_quantile gives the scalar one's bits", "[dist]") {
  // Stream uniforms with the edge values spread among them, so that edge
  // values fall into every lane of a four-wide block and into the tail.
  const std::uint64_t h = key_hash("test");
  std::vector<double> u;
  const std::vector<double> edges = edge_uniforms();
  for (int i = 0; i < 20000; ++i) {
    double v = stream_uniform(kSeed, h, i);
    if (i % 7 == 3) v = edges[(i / 7) % edges.size()];
    if (i % 11 == 5) v = std::ldexp(v, -(i % 80));      // lower tail
    if (i % 13 == 6) v = 1 - std::ldexp(v, -(i % 54));  // upper tail
    u.push_back(v);
  }
  u.insert(u.end(), edges.begin(), edges.end());
  std::size_t mismatches = 0;
  // Every offset and a few lengths, so that blocks end in scalar tails.
  for (std::size_t first = 0; first < 5; ++first) {
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{4},
                                std::size_t{7}, u.size() - first}) {
      std::vector<double> z(n);
      normal_quantile(u.data() + first, z.data(), n);
      std::vector<double> in_place(u.begin() + first, u.begin() + first + n);  // z may be u
      normal_quantile(in_place.data(), in_place.data(), n);
      for (std::size_t i = 0; i < n; ++i) {
        const double want = normal_quantile(u[first + i]);
        if (bits_of(z[i]) == bits_of(want) && bits_of(in_place[i]) == bits_of(want)) continue;
        if (mismatches++ < 5)
          FAIL_CHECK("u = " << u[first + i] << ": array " << z[i] << ", in place " << in_place[i]
                            << ", scalar " << want);
      }
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("the array QuantileTable gives the scalar one's bits", "[dist]") {
  // Shapes: symmetric (one table for both halves), skewed both ways, the
  // default scenario's beta and PERT, U-shaped, and one whose tables do not
  // converge (every quantile through Boost).
  const double shapes[][2] = {{2, 2},     {8, 32}, {15, 85}, {85, 15},   {1.8, 3.2}, {3, 3},
                              {0.5, 0.5}, {1, 1},  {40, 2},  {1.2, 0.8}, {0.05, 30}};
  const std::uint64_t h = key_hash("table");
  const std::vector<double> edges = edge_uniforms();
  std::vector<double> u;
  for (int i = 0; i < 3000; ++i) {
    double v = stream_uniform(kSeed, h, i);
    if (i % 7 == 3) v = edges[(i / 7) % edges.size()];
    if (i % 11 == 5) v = std::ldexp(v, -(i % 70));      // lower tail, past the tables
    if (i % 13 == 6) v = 1 - std::ldexp(v, -(i % 54));  // upper tail
    u.push_back(v);
  }
  u.insert(u.end(), edges.begin(), edges.end());
  for (const auto& ab : shapes) {
    INFO("Beta(" << ab[0] << ", " << ab[1] << ")");
    const QuantileTable table(ab[0], ab[1]);
    std::size_t mismatches = 0;
    for (std::size_t first = 0; first < 4; ++first) {
      const std::size_t n = u.size() - first;
      std::vector<double> x(n);
      table(u.data() + first, x.data(), n);
      std::vector<double> in_place(u.begin() + first, u.end());  // x may be u
      table(in_place.data(), in_place.data(), n);
      for (std::size_t i = 0; i < n; ++i) {
        const double want = table(u[first + i]);
        if (bits_of(x[i]) == bits_of(want) && bits_of(in_place[i]) == bits_of(want)) continue;
        if (mismatches++ < 5)
          FAIL_CHECK("u = " << u[first + i] << ": array " << x[i] << ", in place " << in_place[i]
                            << ", scalar " << want);
      }
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("normal_quantile has full double precision", "[dist]") {
  const std::uint64_t h = key_hash("test");
  double worst = 0;
  for (int i = 0; i < 300000; ++i) {
    double u = stream_uniform(kSeed, h, i);
    if (i % 3 == 1) u = std::ldexp(u, -(i % 1000));    // deep lower tail
    if (i % 3 == 2) u = 1 - std::ldexp(u, -(i % 54));  // upper tail
    if (!(u > 0 && u < 1)) continue;
    const double truth = -M_SQRT2 * bm::erfc_inv(2 * u);
    worst = std::max(worst, std::abs(normal_quantile(u) - truth) / std::abs(truth));
  }
  CHECK(worst < 1e-14);
  CHECK(normal_quantile(0.5) == 0);
  CHECK(normal_quantile(0) == -Distribution::INF);
  CHECK(normal_quantile(1) == Distribution::INF);
  // Phi to 20 digits: python3 -c "import mpmath as m; m.mp.dps=40; print(m.nstr(m.ncdf(Z), 20))"
  // (Boost's own normal cdf is off by 1e-12 relative at -37.)
  const double phi[][2] = {{-37, 5.7255712225245768227e-300}, {-20, 2.7536241186062336951e-89},
                           {-8, 6.2209605742717841235e-16},   {-3, 0.0013498980316300945267},
                           {-1.5, 0.066807201268858066004},   {0, 0.5},
                           {0.3, 0.61791142218895263307},     {2, 0.9772498680518207928},
                           {8, 0.9999999999999993779}};
  for (const auto& zp : phi) {
    INFO("Phi(" << zp[0] << ")");
    CHECK(std::abs(normal_cdf(zp[0]) - zp[1]) <= 4e-16 * zp[1]);
  }
  CHECK(normal_cdf(-Distribution::INF) == 0);
  CHECK(normal_cdf(Distribution::INF) == 1);
}

TEST_CASE("normal", "[dist]") {
  check_against(Distribution::normal(0.06, 0.015), bm::normal_distribution<>(0.06, 0.015),
                {0.04, 0.06, 0.09});
  CHECK(Distribution::normal(0.06, 0.015).describe() == "normal(mean=0.06, sd=0.015)");
  CHECK(Distribution::normal(0.06, 0.015).support_min() == -Distribution::INF);
}

TEST_CASE("truncated normal by inverse CDF", "[dist]") {
  const bm::normal_distribution<> n01;
  struct Case {
    double mean, sd, lo, hi;
    std::vector<double> at;
  };
  // Centre, lower bound only, upper bound only, and a window far in each tail
  // (where Phi(min) rounds to 1 and the upper-tail form is needed).
  const std::vector<Case> cases = {
      {0.06, 0.015, 0.05, 0.1, {0.055, 0.07, 0.08}},
      {0.06, 0.015, 0.0, Distribution::INF, {0.04, 0.07}},
      {0.06, 0.015, -Distribution::INF, 0.07, {0.04, 0.06}},
      {0.0, 1.0, 6.0, 7.0, {6.05, 6.2, 6.5}},
      {0.0, 1.0, -9.0, -8.5, {-8.95, -8.8}},
  };
  for (const auto& c : cases) {
    const auto d = Distribution::normal(c.mean, c.sd, c.lo, c.hi);
    INFO(d.describe());
    // Truth from Boost: P(from <= X <= to) as a difference of upper-tail
    // probabilities when the window lies above the mean (lower-tail ones
    // would round to 1 there), else of lower-tail ones.
    const auto z = [&](double x) { return (x - c.mean) / c.sd; };
    const auto mass = [&](double from, double to) {
      if (c.lo > c.mean) {
        return bm::cdf(bm::complement(n01, z(from))) -
               (std::isfinite(to) ? bm::cdf(bm::complement(n01, z(to))) : 0.0);
      }
      return (std::isfinite(to) ? bm::cdf(n01, z(to)) : 1.0) -
             (std::isfinite(from) ? bm::cdf(n01, z(from)) : 0.0);
    };
    const auto x = sample(d);
    for (const double v : x) {
      REQUIRE(v >= c.lo);
      REQUIRE(v <= c.hi);
    }
    for (const double a : c.at) {
      const double truth = mass(a, c.hi) / mass(c.lo, c.hi);
      check_upper_tail(x, a, truth);
      CHECK(1 - d.cdf(a) == Approx(truth).epsilon(1e-9));
    }
    // E[X] = mu + sd (phi(a) - phi(b)) / Z; var from the same moments.
    const auto phi = [&](double x) {
      return std::isfinite(x) ? bm::pdf(n01, (x - c.mean) / c.sd) : 0.0;
    };
    const auto zphi = [&](double x) {
      return std::isfinite(x) ? (x - c.mean) / c.sd * bm::pdf(n01, (x - c.mean) / c.sd) : 0.0;
    };
    const double total = mass(c.lo, c.hi);
    const double m = (phi(c.lo) - phi(c.hi)) / total;
    const double mean = c.mean + c.sd * m;
    const double sd = c.sd * std::sqrt(1 + (zphi(c.lo) - zphi(c.hi)) / total - m * m);
    check_mean(x, mean, sd);
    CHECK(d.mean() == Approx(mean).epsilon(1e-9));
    // Extreme uniforms stay inside too.
    for (const double u : {1e-300, 0x1.0p-54, 1e-10, 0.5, 1 - 1e-10, 0x1.fffffffffffffp-1}) {
      CHECK(d.quantile(u) >= c.lo);
      CHECK(d.quantile(u) <= c.hi);
    }
  }
  // Far-tail windows (Phi(10) rounds to 1): the window's median matches Boost's
  // tail inverse, P(X > x) = (Q(a) + Q(b)) / 2 for a window [a, b] above the mean.
  for (const double lo : {6.0, 10.0, 30.0, -11.0}) {
    const double hi = lo + 1;
    const auto d = Distribution::normal(0, 1, lo, hi);
    const double median =
        lo > 0
            ? bm::quantile(bm::complement(
                  n01, (bm::cdf(bm::complement(n01, lo)) + bm::cdf(bm::complement(n01, hi))) / 2))
            : bm::quantile(n01, (bm::cdf(n01, lo) + bm::cdf(n01, hi)) / 2);
    INFO("window [" << lo << ", " << hi << "]");
    CHECK(d.quantile(0.5) == Approx(median).epsilon(1e-12));
  }
  CHECK(Distribution::normal(0.06, 0.015, 0, 0.2).describe() ==
        "normal(mean=0.06, sd=0.015, min=0, max=0.2)");
  CHECK(Distribution::normal(0.06, 0.015, 0).describe() == "normal(mean=0.06, sd=0.015, min=0)");
}

TEST_CASE("lognormal", "[dist]") {
  check_against(Distribution::lognormal(2.0, 0.3), bm::lognormal_distribution<>(std::log(2.0), 0.3),
                {1.5, 2.0, 3.0});
  CHECK(Distribution::lognormal(2.0, 0.3).describe() == "lognormal(median=2, sigma=0.3)");
}

TEST_CASE("uniform", "[dist]") {
  const auto d = Distribution::uniform(1, 3);
  const auto x = sample(d);
  check_upper_tail(x, 1.2, 0.9);
  check_upper_tail(x, 2.5, 0.25);
  check_mean(x, 2, 2 / std::sqrt(12.0));
  CHECK(d.cdf(2.5) == 0.75);
  CHECK(d.describe() == "uniform(min=1, max=3)");
}

TEST_CASE("triangular", "[dist]") {
  check_against(Distribution::triangular(1, 2, 4), bm::triangular_distribution<>(1, 2, 4),
                {1.5, 2.0, 3.0});
  // Mode at an end.
  check_against(Distribution::triangular(0, 0, 1), bm::triangular_distribution<>(0, 0, 1),
                {0.1, 0.5});
  CHECK(Distribution::triangular(1, 2, 4).describe() == "triangular(min=1, mode=2, max=4)");
}

TEST_CASE("Beta-PERT", "[dist]") {
  // alpha = 1 + lambda (mode - min) / (max - min), beta = 1 + lambda (max - mode) / (max - min).
  check_scaled_beta(Distribution::pert(6, 10, 12), 1 + 4.0 * 4 / 6, 1 + 4.0 * 2 / 6, 6, 12,
                    {8.0, 9.5, 11.0});
  check_scaled_beta(Distribution::pert(100, 250, 400), 3, 3, 100, 400, {150.0, 250.0, 330.0});
  check_scaled_beta(Distribution::pert(0, 1, 10, 2), 1.2, 2.8, 0, 10, {1.0, 3.0, 6.0});
  check_scaled_beta(Distribution::pert(0, 0, 1), 1, 5, 0, 1, {0.05, 0.3});
  CHECK(Distribution::pert(6, 10, 12).mean() == Approx((6 + 4 * 10 + 12) / 6.0));
  CHECK(Distribution::pert(6, 10, 12).describe() == "pert(min=6, mode=10, max=12)");
  CHECK(Distribution::pert(0, 1, 10, 2).describe() == "pert(min=0, mode=1, max=10, lambda=2)");
}

TEST_CASE("beta", "[dist]") {
  check_scaled_beta(Distribution::beta(8, 32), 8, 32, 0, 1, {0.15, 0.2, 0.3});
  check_scaled_beta(Distribution::beta(0.5, 0.5, 2, 4), 0.5, 0.5, 2, 4, {2.1, 3.0, 3.9});
  check_scaled_beta(Distribution::beta(0.3, 2), 0.3, 2, 0, 1, {0.01, 0.2});
  CHECK(Distribution::beta(8, 32).describe() == "beta(alpha=8, beta=32)");
  CHECK(Distribution::beta(0.5, 0.5, 2, 4).describe() == "beta(alpha=0.5, beta=0.5, min=2, max=4)");
}

TEST_CASE("beta and pert quantile tables match Boost's ibeta_inv", "[dist]") {
  // The stated bound (docs/distributions.md): |table - exact| < 1e-12 (max - min)
  // for every u, including the far tails.
  const std::uint64_t h = key_hash("table");
  const double shapes[][2] = {{3, 3},     {1 + 16.0 / 6, 1 + 8.0 / 6},
                              {1, 5},     {5, 1},
                              {1.2, 2.8}, {8, 32},
                              {0.5, 0.5}, {0.3, 2},
                              {20, 30},   {2, 1.0001}};
  for (const auto& s : shapes) {
    const double a = s[0], b = s[1];
    const auto d = Distribution::beta(a, b, 10, 14);
    double worst = 0, worst_u = 0;
    for (int i = 0; i < 6000; ++i) {
      double u = stream_uniform(kSeed, h, i);
      if (i % 3 == 1) u = std::ldexp(u, -(i % 58));
      if (i % 3 == 2) u = 1 - std::ldexp(u, -(i % 54));
      if (!(u > 0 && u < 1)) continue;
      const double err = std::abs(d.quantile(u) - (10 + 4 * bm::ibeta_inv(a, b, u))) / 4;
      if (err > worst) {
        worst = err;
        worst_u = u;
      }
    }
    INFO("beta(" << a << ", " << b << "): worst error " << worst << " at u = " << worst_u);
    CHECK(worst < 1e-12);
  }
  // A PERT built from the same shape uses the same table.
  const auto pert = Distribution::pert(6, 10, 12);
  for (const double u : {1e-17, 0.001, 0.3, 0.5, 0.77, 1 - 1e-12}) {
    CHECK(pert.quantile(u) ==
          Approx(6 + 6 * bm::ibeta_inv(1 + 16.0 / 6, 1 + 8.0 / 6, u)).margin(6e-12));
  }
}

TEST_CASE("poisson", "[dist]") {
  for (const double mean : {0.7, 3.5, 40.0, 2500.0}) {
    const auto d = Distribution::poisson(mean);
    const bm::poisson_distribution<> truth(mean);
    INFO(d.describe());
    const auto x = sample(d);
    // P(X >= k) = 1 - F(k - 1).
    const double sd = std::sqrt(mean);
    for (const double k : {std::max(1.0, std::floor(mean)), std::floor(mean + sd) + 1}) {
      check_upper_tail(x, k, bm::cdf(bm::complement(truth, k - 1)));
      CHECK(d.cdf(k) == Approx(bm::cdf(truth, k)).epsilon(1e-13));
    }
    check_mean(x, mean, sd);
    for (const double v : x) REQUIRE(v == std::floor(v));
    // The quantile is the smallest k with F(k) >= u.
    for (int i = 0; i < 200; ++i) {
      const double u = stream_uniform(kSeed, key_hash("poisson"), i);
      const double k = d.quantile(u);
      CHECK(bm::cdf(truth, k) >= u);
      if (k > 0) CHECK(bm::cdf(truth, k - 1) < u);
    }
  }
  const auto zero = Distribution::poisson(0);
  CHECK(zero.quantile(0.999) == 0);
  CHECK(zero.cdf(0) == 1);
  CHECK(Distribution::poisson(3.5).describe() == "poisson(mean=3.5)");
  CHECK(Distribution::poisson(3.5).is_integer_valued());
}

TEST_CASE("discrete", "[dist]") {
  // Unsorted on input; 7 has probability 0 and is never drawn.
  const auto d = Distribution::discrete({3, 1, 7, 2}, {0.5, 0.2, 0.0, 0.3});
  const auto x = sample(d);
  check_upper_tail(x, 2, 0.8);
  check_upper_tail(x, 3, 0.5);
  const double mean = 3 * 0.5 + 1 * 0.2 + 2 * 0.3;
  const double var = 9 * 0.5 + 1 * 0.2 + 4 * 0.3 - mean * mean;
  check_mean(x, mean, std::sqrt(var));
  for (const double v : x) REQUIRE((v == 1 || v == 2 || v == 3));
  CHECK(d.mean() == Approx(mean));
  CHECK(d.cdf(1.5) == Approx(0.2));
  CHECK(d.cdf(0.5) == 0);
  CHECK(d.cdf(3) == 1);
  CHECK(d.support_min() == 1);
  CHECK(d.support_max() == 3);  // 7 has probability 0
  CHECK(d.is_integer_valued());
  CHECK_FALSE(Distribution::discrete({0.5, 1}, {0.5, 0.5}).is_integer_valued());
  CHECK(d.describe() == "discrete(values=[1, 2, 3, 7], probs=[0.2, 0.3, 0.5, 0])");
  // Many values: the bisection path.
  std::vector<double> values, probs;
  for (int i = 0; i < 40; ++i) {
    values.push_back(i);
    probs.push_back(1.0 / 40);
  }
  const auto many = sample(Distribution::discrete(values, probs));
  check_upper_tail(many, 10, 0.75);
  check_upper_tail(many, 31, 0.225);
}

TEST_CASE("quantile(cdf(x)) round-trips", "[dist]") {
  const std::vector<Distribution> continuous = {Distribution::normal(0.06, 0.015),
                                                Distribution::normal(0, 1, 6, 7),
                                                Distribution::normal(0.06, 0.015, 0.05),
                                                Distribution::lognormal(2, 0.3),
                                                Distribution::uniform(1, 3),
                                                Distribution::triangular(1, 2, 4),
                                                Distribution::pert(6, 10, 12),
                                                Distribution::beta(8, 32),
                                                Distribution::beta(0.5, 0.5, 2, 4)};
  for (const auto& d : continuous) {
    INFO(d.describe());
    for (const double p : {0.001, 0.05, 0.3, 0.5, 0.8, 0.99}) {
      const double x = d.quantile(p);
      CHECK(d.cdf(x) == Approx(p).epsilon(1e-9));
      CHECK(d.quantile(d.cdf(x)) == Approx(x).epsilon(1e-9));
    }
  }
  const auto disc = Distribution::discrete({1, 2, 3}, {0.2, 0.3, 0.5});
  for (const double v : {1.0, 2.0, 3.0}) CHECK(disc.quantile(disc.cdf(v)) == v);
  const auto pois = Distribution::poisson(4);
  for (const double k : {0.0, 3.0, 9.0}) CHECK(pois.quantile(pois.cdf(k)) == k);
}

TEST_CASE("degenerate parameters give constants, not NaN", "[dist]") {
  const std::vector<Distribution> constants = {
      Distribution::normal(5, 0),        Distribution::normal(5, 0, 4, 6),
      Distribution::lognormal(5, 0),     Distribution::uniform(5, 5),
      Distribution::triangular(5, 5, 5), Distribution::pert(5, 5, 5),
      Distribution::beta(2, 3, 5, 5),    Distribution::constant(5),
      Distribution::discrete({5}, {1})};
  for (const auto& d : constants) {
    INFO(d.describe());
    for (const double u : {1e-300, 0.001, 0.5, 0.999999, 0x1.fffffffffffffp-1}) {
      CHECK(d.quantile(u) == 5);
    }
    CHECK(d.mean() == 5);
    CHECK(d.cdf(4.999) == 0);
    CHECK(d.cdf(5) == 1);
    CHECK(d.support_min() == 5);
    CHECK(d.support_max() == 5);
  }
  CHECK(Distribution().quantile(0.3) == 0);
  CHECK(Distribution::constant(3).is_integer_valued());
  CHECK_FALSE(Distribution::constant(0.5).is_integer_valued());
  CHECK_FALSE(Distribution::normal(5, 1).is_integer_valued());
  CHECK(Distribution::constant(0.25).describe() == "0.25");
}

TEST_CASE("quantile at the ends of (0, 1) gives the support bounds", "[dist]") {
  CHECK(Distribution::uniform(1, 3).quantile(0) == 1);
  CHECK(Distribution::uniform(1, 3).quantile(1) == 3);
  CHECK(Distribution::normal(0, 1).quantile(1) == Distribution::INF);
  CHECK(Distribution::poisson(3).quantile(0) == 0);
  CHECK(Distribution::lognormal(1, 1).quantile(0) == 0);
  CHECK(Distribution::pert(6, 10, 12).quantile(1) == 12);
}

TEST_CASE("bad parameters are rejected with the parameter named", "[dist]") {
  using D = Distribution;
  check_throws([] { return D::normal(0, -1); }, "sd", "sd must be >= 0 (got -1)");
  check_throws([] { return D::normal(NAN, 1); }, "mean", "mean must be a finite number (got nan)");
  check_throws([] { return D::normal(0, 1, 5, 3); }, "max",
               "max must be greater than min (got min 5, max 3)");
  check_throws([] { return D::normal(0, 1, 50, 60); }, "min",
               "normal(mean=0, sd=1) has no probability between min 50 and max 60; widen "
               "[min, max] or move the mean into it");
  check_throws([] { return D::normal(1, 0, 2, 3); }, "min",
               "normal(mean=1, sd=0) has no probability between min 2 and max 3; widen "
               "[min, max] or move the mean into it");
  check_throws([] { return D::lognormal(0, 1); }, "median", "median must be > 0 (got 0)");
  check_throws([] { return D::lognormal(1, -0.5); }, "sigma", "sigma must be >= 0 (got -0.5)");
  check_throws([] { return D::uniform(3, 1); }, "max", "max must be >= min (got min 3, max 1)");
  check_throws([] { return D::triangular(5, 3, 9); }, "mode",
               "mode must lie between min and max (got min 5, mode 3, max 9)");
  check_throws([] { return D::pert(5, 3, 9); }, "mode",
               "mode must lie between min and max (got min 5, mode 3, max 9)");
  check_throws([] { return D::pert(9, 9, 5); }, "max", "max must be >= min (got min 9, max 5)");
  check_throws([] { return D::pert(1, 2, 3, 0); }, "lambda", "lambda must be > 0 (got 0)");
  check_throws([] { return D::beta(0, 1); }, "alpha", "alpha must be > 0 (got 0)");
  check_throws([] { return D::beta(1, -2); }, "beta", "beta must be > 0 (got -2)");
  check_throws([] { return D::beta(1, 2, 3, 2); }, "max", "max must be >= min (got min 3, max 2)");
  check_throws([] { return D::poisson(-1); }, "mean", "mean must be >= 0 (got -1)");
  check_throws([] { return D::poisson(INFINITY); }, "mean",
               "mean must be a finite number (got inf)");
  check_throws(
      [] {
        return D::discrete({1, 2}, {0.5, 0.4});
      },
      "probs", "probs must sum to 1 (got 0.9)");
  check_throws(
      [] {
        return D::discrete({1, 2, 3}, {0.5, 0.5});
      },
      "probs", "values and probs must have the same length (got 3 values, 2 probs)");
  check_throws(
      [] {
        return D::discrete({1, 2}, {1.5, -0.5});
      },
      "probs", "probs must be >= 0 (got -0.5 at position 2)");
  check_throws([] { return D::discrete({}, {}); }, "values", "values must not be empty");
  // Within the 1e-9 tolerance is accepted.
  CHECK_NOTHROW(D::discrete({1, 2}, {0.5, 0.5 + 5e-10}));
}

TEST_CASE("family names", "[dist]") {
  CHECK(std::string(family_name(Family::pert)) == "pert");
  CHECK(std::string(family_name(Family::constant)) == "constant");
  CHECK(Distribution::beta(2, 3).family() == Family::beta);
  CHECK(Distribution::constant(1).is_constant());
}

TEST_CASE("binomial_quantile is the smallest k with F(k) >= u", "[dist]") {
  struct Case {
    std::int64_t n;
    double p;
  };
  // Small, typical (n a few thousand, p 0.03), the start-near-the-mean path,
  // (1-p)^n underflowing, and p near 1.
  for (const Case c : {Case{10, 0.3}, Case{2000, 0.03}, Case{5000, 0.03}, Case{30000, 0.03},
                       Case{200, 0.97}, Case{1, 0.5}}) {
    const bm::binomial_distribution<> truth(double(c.n), c.p);
    INFO("n = " << c.n << ", p = " << c.p);
    const std::uint64_t h = key_hash("firms.above_scale.exits@2023");
    for (int i = 0; i < 300; ++i) {
      double u = stream_uniform(kSeed, h, i);
      if (i % 10 == 1) u = std::ldexp(u, -(i % 40));
      if (i % 10 == 2) u = 1 - std::ldexp(u, -(i % 40));
      const double k = binomial_quantile(c.n, c.p, u);
      CHECK(binomial_quantile(c.n, c.p, u, std::log1p(-c.p)) == k);  // log1p(-p) given
      REQUIRE(k == std::floor(k));
      REQUIRE(k >= 0);
      REQUIRE(k <= double(c.n));
      INFO("u = " << u << ", k = " << k);
      CHECK(bm::cdf(truth, k) >= u * (1 - 1e-14));
      if (k > 0) CHECK(bm::cdf(truth, k - 1) < u);
    }
    // Mean within 4 SE over a full sample.
    double sum = 0;
    for (int i = 0; i < kN; ++i) sum += binomial_quantile(c.n, c.p, stream_uniform(kSeed, h, i));
    const double se = std::sqrt(c.n * c.p * (1 - c.p) / kN);
    CHECK(std::abs(sum / kN - c.n * c.p) < 4 * se);
  }
  CHECK(binomial_quantile(0, 0.5, 0.7) == 0);
  CHECK(binomial_quantile(100, 0, 0.7) == 0);
  CHECK(binomial_quantile(100, 1, 0.7) == 100);
  try {
    binomial_quantile(10, 1.5, 0.5);
    FAIL("no error for p = 1.5");
  } catch (const DistributionError& e) {
    CHECK(e.param() == "p");
    CHECK(std::string(e.what()) == "p must lie in [0, 1] (got 1.5)");
  }
  CHECK_THROWS_WITH(binomial_quantile(-1, 0.5, 0.5), "n must be >= 0 (got -1)");
}

TEST_CASE("a copula's uniform stays inside (0, 1), so unbounded inputs stay finite", "[dist]") {
  // Φ(z) is 1 in double from z ≈ 8.3 on; the clamp must then give a number
  // below 1 (1 - 2^-54, the bound it replaced, rounds to 1 itself).
  REQUIRE(normal_cdf(9.0) == 1.0);
  const double top = copula_uniform(normal_cdf(9.0));
  CHECK(top < 1.0);
  CHECK(top == std::nextafter(1.0, 0.0));
  CHECK(copula_uniform(0.0) == 0x1.0p-60);
  CHECK(copula_uniform(0.3) == 0.3);  // inside, unchanged
  CHECK(std::isnan(copula_uniform(std::numeric_limits<double>::quiet_NaN())));
  for (const Distribution& d :
       {Distribution::normal(0.06, 0.015), Distribution::lognormal(1, 0.5)}) {
    INFO(d.describe());
    CHECK(std::isfinite(d.quantile(copula_uniform(1.0))));
    CHECK(std::isfinite(d.quantile(copula_uniform(0.0))));
  }
}
