// Quantiles by selection over passes (quantile_select.hpp) against the
// order-statistic quantiles of the whole column (quantiles_type7): equal bit
// for bit on every kind of column, and whatever order the values come in.
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
#include "countysim/quantile_select.hpp"
#include "countysim/scenario.hpp"
#include "countysim/stats.hpp"
#include "temp_dir.hpp"

using namespace countysim;

namespace {

// A fixed, library-independent stream of test values (splitmix64).
struct Mix {
  std::uint64_t s;
  double uniform() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
  }
};

// Runs ColumnQuantiles over `cols` (column-major, n each) visiting the rows
// in chunks of `chunk`, the chunks in reverse order, and returns the passes.
int select(const std::vector<std::vector<float>>& cols, std::size_t chunk,
           std::vector<std::vector<double>>& out) {
  const std::size_t n = cols.front().size(), nc = cols.size();
  std::vector<float> rows(n * nc);
  for (std::size_t c = 0; c < nc; ++c)
    for (std::size_t i = 0; i < n; ++i) rows[i * nc + c] = cols[c][i];
  ColumnQuantiles cq(nc, n, summary_quantiles());
  while (!cq.done()) {
    for (std::size_t d0 = (n - 1) / chunk * chunk;; d0 -= chunk) {
      const std::size_t nd = std::min(chunk, n - d0);
      for (std::size_t c = 0; c < nc; ++c) cq.add(c, rows.data() + d0 * nc + c, nd, nc);
      if (d0 == 0) break;
    }
    for (std::size_t c = 0; c < nc; ++c) cq.end_pass(c);
    cq.count_pass();
    REQUIRE(cq.passes() <= 5);
  }
  out.clear();
  for (std::size_t c = 0; c < nc; ++c) out.push_back(cq.quantiles(c));
  return cq.passes();
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

TEST_CASE("selection over passes gives the type-7 quantiles bit for bit", "[stats]") {
  Mix mix{42};
  const std::size_t n = 200003;
  std::vector<std::vector<float>> cols(8, std::vector<float>(n));
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
  }
  cols[1][17] = std::numeric_limits<float>::infinity();
  std::vector<std::vector<double>> got;
  const int passes = select(cols, 4096, got);
  CHECK(passes <= 4);
  for (std::size_t c = 0; c < cols.size(); ++c) {
    INFO("column " << c);
    std::vector<float> copy = cols[c];
    const std::vector<double> binned = quantiles_type7(copy.data(), n, summary_quantiles());
    same_bits(got[c], binned);
    // Both against the plainest reference: sort, then type 7 by its formula.
    std::vector<float> sorted = cols[c];
    std::sort(sorted.begin(), sorted.end());
    std::vector<double> plain;
    for (double q : summary_quantiles()) {
      const double h = (static_cast<double>(n) - 1) * q;
      const auto lo = static_cast<std::size_t>(std::floor(h));
      const double a = sorted[lo], b = lo + 1 < n ? sorted[lo + 1] : a;
      plain.push_back(a + (h - static_cast<double>(lo)) * (b - a));
    }
    for (std::size_t i = 0; i < plain.size(); ++i) CHECK(binned[i] == plain[i]);
  }
}

TEST_CASE("selection: NaN columns, one value and two values", "[stats]") {
  std::vector<std::vector<double>> got;
  for (std::size_t n : {1u, 2u, 3u, 5u}) {
    std::vector<std::vector<float>> cols = {std::vector<float>(n), std::vector<float>(n)};
    for (std::size_t i = 0; i < n; ++i) {
      cols[0][i] = static_cast<float>(n - i) * 1.5f;
      cols[1][i] = static_cast<float>(i);
    }
    cols[1][n / 2] = std::numeric_limits<float>::quiet_NaN();
    select(cols, 2, got);
    for (std::size_t c = 0; c < 2; ++c) {
      INFO("n " << n << " column " << c);
      std::vector<float> copy = cols[c];
      same_bits(got[c], quantiles_type7(copy.data(), n, summary_quantiles()));
    }
  }
}

TEST_CASE("summaries by selection equal summaries read column by column", "[engine]") {
  testing::TempDir tmp("countysim-select");
  const Scenario s = load_scenario(COUNTYSIM_SOURCE_DIR "/tests/data/example.yaml");
  const Plan plan = compile_plan(s);
  RunOptions opt;
  opt.draws = 5000;
  opt.threads = 2;
  opt.block_draws = 2048;
  opt.output = tmp.file("columns.h5");
  const RunSummary a = run_to_file(plan, opt);
  opt.output = tmp.file("select.h5");
  opt.summary_read_floats = 1;  // one column a read: every dataset of 4+ columns selects
  opt.threads = 3;
  const RunSummary b = run_to_file(plan, opt);
  REQUIRE(a.summaries.size() == b.summaries.size());
  for (std::size_t k = 0; k < a.summaries.size(); ++k) {
    INFO(a.summaries[k].metric);
    same_bits(b.summaries[k].quantiles, a.summaries[k].quantiles);
    same_bits(b.summaries[k].mean, a.summaries[k].mean);
  }
}
