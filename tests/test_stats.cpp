#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <vector>

#include "countysim/rng.hpp"
#include "countysim/stats.hpp"

using namespace countysim;

TEST_CASE("type-7 quantiles equal sorting and interpolating", "[stats]") {
  for (std::size_t n : {1u, 2u, 7u, 1000u, 4097u}) {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<float>(stream_uniform(3, 11, i) * 100);
    std::vector<float> sorted = x;
    std::sort(sorted.begin(), sorted.end());
    const auto& qs = summary_quantiles();
    const auto got = quantiles_type7(x.data(), n, qs);
    for (std::size_t i = 0; i < qs.size(); ++i) {
      const double h = (n - 1) * qs[i];
      const auto lo = static_cast<std::size_t>(std::floor(h));
      const double b = lo + 1 < n ? sorted[lo + 1] : sorted[lo];
      const double want = sorted[lo] + (h - lo) * (b - sorted[lo]);
      INFO("n " << n << " q " << qs[i]);
      CHECK(got[i] == want);
    }
  }
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
