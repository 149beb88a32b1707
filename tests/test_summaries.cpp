// Summary quantiles: the binned type-7 order statistics (stats.cpp) against
// sorting and interpolating by the formula, bit for bit on every kind of
// column; and the engine's summaries, whichever way it reads the columns back.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "countysim/engine.hpp"
#include "countysim/plan.hpp"
#include "countysim/scenario.hpp"
#include "countysim/stats.hpp"
#include "splitmix.hpp"
#include "temp_dir.hpp"

using namespace countysim;

namespace {

using Mix = testing::SplitMix;

// Sort, then type 7 by its formula; NaN anywhere gives NaN.
std::vector<double> plain_type7(std::vector<float> x) {
  const std::size_t n = x.size();
  std::vector<double> out;
  const bool nan = std::any_of(x.begin(), x.end(), [](float v) { return std::isnan(v); });
  std::sort(x.begin(), x.end());
  for (double q : summary_quantiles()) {
    if (nan) {
      out.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    const double h = (static_cast<double>(n) - 1) * q;
    const auto lo = static_cast<std::size_t>(std::floor(h));
    const double a = x[lo], b = lo + 1 < n ? x[lo + 1] : a;
    out.push_back(a + (h - static_cast<double>(lo)) * (b - a));
  }
  return out;
}

void same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("quantile " << i << ": " << a[i] << " vs " << b[i]);
    if (std::isnan(b[i])) {
      CHECK(std::isnan(a[i]));
    } else {
      CHECK(std::memcmp(&a[i], &b[i], sizeof(double)) == 0);
    }
  }
}

}  // namespace

TEST_CASE("binned type-7 quantiles equal sort-and-interpolate bit for bit", "[stats]") {
  Mix mix{42};
  const std::size_t n = 200003;
  std::vector<std::vector<float>> cols(11, std::vector<float>(n));
  for (std::size_t i = 0; i < n; ++i) {
    const double u = mix.uniform(), v = mix.uniform();
    const double z = std::sqrt(-2 * std::log(u + 1e-300)) * std::cos(6.283185307179586 * v);
    cols[0][i] = static_cast<float>(600 + 40 * z);               // concentrated
    cols[1][i] = static_cast<float>(std::exp(3 * z));            // heavy tail
    cols[2][i] = u < 0.7 ? 0.0f : static_cast<float>(v * 10);    // mass at zero
    cols[3][i] = static_cast<float>(-5 + z);                     // negative
    cols[4][i] = 3.25f;                                          // constant
    cols[5][i] = static_cast<float>(std::floor(u * 4));          // four values
    cols[6][i] = i % 2 ? -0.0f : static_cast<float>(z * 1e-30);  // tiny, signed zeros
    cols[7][i] = static_cast<float>(0.36 + 0.01 * z);            // a share
    cols[8][i] = static_cast<float>(std::exp(4 * z));            // heavy tail, finite
    cols[9][i] = static_cast<float>(i % 1000 == 0 ? 1e6 : z);    // far outliers
    cols[10][i] = u < 0.9 ? 1.0f : static_cast<float>(1 + z);    // one value, 90%
  }
  cols[1][17] = std::numeric_limits<float>::infinity();
  for (std::size_t c = 0; c < cols.size(); ++c) {
    INFO("column " << c);
    std::vector<float> copy = cols[c];
    same_bits(quantiles_type7(copy.data(), n, summary_quantiles()), plain_type7(cols[c]));
  }
}

TEST_CASE("type-7 quantiles of a long column split between threads are the same bits", "[stats]") {
  Mix mix{9};
  const std::size_t n = (std::size_t{1} << 20) + 12345;  // long enough to be split
  std::vector<std::vector<float>> cols(3, std::vector<float>(n));
  for (std::size_t i = 0; i < n; ++i) {
    const double u = mix.uniform(), v = mix.uniform();
    const double z = std::sqrt(-2 * std::log(u + 1e-300)) * std::cos(6.283185307179586 * v);
    cols[0][i] = static_cast<float>(600 + 40 * z);     // equal-width bins
    cols[1][i] = static_cast<float>(std::exp(4 * z));  // heavy tail: key bins
    cols[2][i] = i % 3 ? 2.5f : 2.5f;                  // constant
  }
  for (std::size_t c = 0; c < cols.size(); ++c)
    for (int threads : {1, 2, 3}) {
      INFO("column " << c << ", " << threads << " threads");
      std::vector<float> copy = cols[c];
      same_bits(quantiles_type7(copy.data(), n, summary_quantiles(), threads),
                plain_type7(cols[c]));
    }
}

TEST_CASE("type-7 quantiles: NaN columns, one value and two values", "[stats]") {
  for (std::size_t n : {1u, 2u, 3u, 5u, 5000u}) {
    std::vector<std::vector<float>> cols = {std::vector<float>(n), std::vector<float>(n)};
    for (std::size_t i = 0; i < n; ++i) {
      cols[0][i] = static_cast<float>(n - i) * 1.5f;
      cols[1][i] = static_cast<float>(i);
    }
    cols[1][n / 2] = std::numeric_limits<float>::quiet_NaN();
    for (std::size_t c = 0; c < 2; ++c) {
      INFO("n " << n << " column " << c);
      std::vector<float> copy = cols[c];
      same_bits(quantiles_type7(copy.data(), n, summary_quantiles()), plain_type7(cols[c]));
    }
  }
}

TEST_CASE("summaries read one column at a time equal summaries read many at a time", "[engine]") {
  testing::TempDir tmp("countysim-columns");
  const Scenario s = load_scenario(COUNTYSIM_SOURCE_DIR "/tests/data/example.yaml");
  const Plan plan = compile_plan(s);
  RunOptions opt;
  opt.draws = 5000;
  opt.threads = 2;
  opt.block_draws = 2048;
  opt.output = tmp.file("many.h5");
  const RunSummary a = run_to_file(plan, opt);
  opt.output = tmp.file("one.h5");
  opt.summary_read_floats = 1;  // one column a read
  opt.threads = 3;
  const RunSummary b = run_to_file(plan, opt);
  REQUIRE(a.summaries.size() == b.summaries.size());
  for (std::size_t k = 0; k < a.summaries.size(); ++k) {
    INFO(a.summaries[k].metric);
    same_bits(b.summaries[k].quantiles, a.summaries[k].quantiles);
    same_bits(b.summaries[k].mean, a.summaries[k].mean);
  }
}
