#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <vector>

#include "countysim/rng.hpp"
#include "countysim/stats.hpp"

using namespace countysim;
using Catch::Matchers::WithinAbs;

TEST_CASE("type-7 quantiles match numpy's default", "[stats]") {
  const auto& qs = summary_quantiles();  // 0.05 0.10 0.25 0.50 0.75 0.90 0.95
  // numpy.quantile(range(1, 11), qs) and numpy.quantile([1, 3], qs).
  const std::vector<double> ten = {1.45, 1.9, 3.25, 5.5, 7.75, 9.1, 9.55};
  const std::vector<double> two = {1.1, 1.2, 1.5, 2.0, 2.5, 2.8, 2.9};
  std::vector<float> x = {7, 3, 10, 1, 9, 2, 8, 5, 4, 6};  // any order
  const auto got = quantiles_type7(x.data(), x.size(), qs);
  for (std::size_t i = 0; i < qs.size(); ++i) CHECK_THAT(got[i], WithinAbs(ten[i], 1e-12));
  std::vector<float> y = {3, 1};
  const auto got2 = quantiles_type7(y.data(), y.size(), qs);
  for (std::size_t i = 0; i < qs.size(); ++i) CHECK_THAT(got2[i], WithinAbs(two[i], 1e-12));
  std::vector<float> one = {4.5f};
  for (double q : quantiles_type7(one.data(), 1, qs)) CHECK(q == 4.5);
  // A permutation of 0..n-1: the q quantile is (n - 1) q, for n large enough
  // that the selection splits the range many times.
  const std::size_t n = 4097;
  std::vector<float> perm(n);
  for (std::size_t i = 0; i < n; ++i) perm[i] = static_cast<float>((i * 1237) % n);
  const auto got3 = quantiles_type7(perm.data(), n, qs);
  for (std::size_t i = 0; i < qs.size(); ++i) CHECK_THAT(got3[i], WithinAbs(4096 * qs[i], 1e-9));
  // The ends are the order statistics themselves.
  std::vector<float> z = {2, 8, 5};
  CHECK(quantiles_type7(z.data(), 3, {0.0, 0.5, 1.0}) == std::vector<double>{2, 5, 8});
}

TEST_CASE("quantiles of a column with NaN are NaN", "[stats]") {
  std::vector<float> x = {1, NAN, 3};
  for (double q : quantiles_type7(x.data(), 3, {0.5})) CHECK(std::isnan(q));
}

TEST_CASE("Wilson interval and standard error", "[stats]") {
  const auto p = proportion(30, 100);
  CHECK(p.p == 0.3);
  CHECK(p.std_error == Approx(std::sqrt(0.3 * 0.7 / 100)));
  // Wilson 95% for 30/100: [0.2189, 0.3958] (textbook value).
  CHECK(p.ci_low == Approx(0.2189).margin(1e-4));
  CHECK(p.ci_high == Approx(0.3958).margin(1e-4));
  const auto zero = proportion(0, 50);
  CHECK(zero.ci_low == 0);
  CHECK(zero.ci_high > 0.05);
}

TEST_CASE("moments merged in order equal one pass", "[stats]") {
  std::vector<double> x(5000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = stream_uniform(1, 2, i) * 10;
  Moments all, merged, part;
  for (double v : x) all.add(v);
  for (std::size_t i = 0; i < x.size(); ++i) {
    part.add(x[i]);
    if (i % 1024 == 1023 || i + 1 == x.size()) {
      merged.merge(part);
      part = Moments{};
    }
  }
  const double mean = std::accumulate(x.begin(), x.end(), 0.0) / x.size();
  CHECK(merged.mean == Approx(mean).epsilon(1e-12));
  CHECK(merged.sd() == Approx(all.sd()).epsilon(1e-10));
}
