// Summary quantiles: the binned type-7 order statistics (stats.cpp) against
// sorting and interpolating by the formula, bit for bit on every kind of
// column; and the engine's summaries, whichever way it reads the columns back.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "countysim/chunk_codec.hpp"
#include "countysim/engine.hpp"
#include "countysim/model.hpp"
#include "countysim/plan.hpp"
#include "countysim/results_io.hpp"
#include "countysim/results_layout.hpp"
#include "countysim/scenario.hpp"
#include "countysim/simd.hpp"
#include "countysim/stats.hpp"
#include "countysim/streaming_quantiles.hpp"
#include "countysim/summaries.hpp"
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

// Columns of every kind the summaries meet, n values each.
std::vector<std::vector<float>> every_kind(std::size_t n, std::uint64_t seed) {
  Mix mix{seed};
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
  return cols;
}

}  // namespace

TEST_CASE("radix-selected type-7 quantiles equal sort-and-interpolate bit for bit", "[stats]") {
  // Every kind of column (infinities, signed zeros, ties, one value), in
  // batches of uneven sizes; short columns too (every_kind needs 18).
  for (const std::size_t n : {std::size_t{18}, std::size_t{19}, std::size_t{100003}}) {
    const std::vector<std::vector<float>> cols = every_kind(n, 43);
    for (std::size_t c = 0; c < cols.size(); ++c) {
      INFO("column " << c << ", n " << n);
      const std::vector<float>& x = cols[c];
      int calls = 0;
      const auto q = quantiles_type7_radix(n, summary_quantiles(), [&](const ValueSink& sink) {
        ++calls;
        for (std::size_t i = 0; i < n;) {
          const std::size_t m = std::min(n - i, std::size_t{1} + (i * 7919 + 13) % 9000);
          sink(x.data() + i, m);
          i += m;
        }
      });
      CHECK(calls == 2);
      same_bits(q, plain_type7(x));
    }
  }
}

TEST_CASE("binned type-7 quantiles equal sort-and-interpolate bit for bit", "[stats]") {
  const std::size_t n = 200003;
  const std::vector<std::vector<float>> cols = every_kind(n, 42);
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
  opt.stream_quantiles = false;  // every column read back
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

TEST_CASE("summaries from windows kept while drawing equal summaries read back", "[engine]") {
  testing::TempDir tmp("countysim-streamed");
  const Scenario s = load_scenario(COUNTYSIM_SOURCE_DIR "/scenarios/taojiang-2022.yaml");
  const Plan plan = compile_plan(s);
  RunOptions opt;
  opt.draws = 30000;
  opt.threads = 3;
  opt.block_draws = 1024;  // many blocks: windows published, stale, narrowed
  opt.stream_quantiles = false;
  opt.output = tmp.file("read.h5");
  const RunSummary a = run_to_file(plan, opt);
  for (int threads : {1, 2, 3}) {
    opt.stream_quantiles = true;
    opt.threads = threads;
    opt.output = tmp.file("streamed" + std::to_string(threads) + ".h5");
    const RunSummary b = run_to_file(plan, opt);
    CHECK(a.columns_streamed == 0);
    CHECK(b.columns_streamed > 0);
    CHECK(b.columns_streamed + b.columns_read == a.columns_read);
    CHECK(b.columns_read == 0);  // 30,000 draws: every window holds its ranks
    REQUIRE(a.summaries.size() == b.summaries.size());
    for (std::size_t k = 0; k < a.summaries.size(); ++k) {
      INFO(a.summaries[k].metric << ", threads " << threads);
      same_bits(b.summaries[k].quantiles, a.summaries[k].quantiles);
      same_bits(b.summaries[k].mean, a.summaries[k].mean);
    }
  }
}

TEST_CASE("frozen windows' columns read back in one pass equal whole columns read back",
          "[engine]") {
  // A budget far too small for the windows: most columns are frozen while
  // drawing and read back keeping only the values inside their windows.
  testing::TempDir tmp("countysim-frozen");
  const Scenario s = load_scenario(COUNTYSIM_SOURCE_DIR "/scenarios/taojiang-2022.yaml");
  const Plan plan = compile_plan(s);
  RunOptions opt;
  opt.draws = 40000;
  opt.threads = 2;
  opt.block_draws = 2048;
  opt.stream_quantiles = false;
  opt.output = tmp.file("read.h5");
  const RunSummary a = run_to_file(plan, opt);
  for (int threads : {1, 3}) {
    opt.stream_quantiles = true;
    opt.stream_budget_bytes = 200000;
    opt.threads = threads;
    // 3 threads: at most one value kept inside a window, so every frozen
    // column takes the radix selection instead.
    opt.summary_read_floats = threads == 3 ? 1 : 0;
    opt.output = tmp.file("frozen" + std::to_string(threads) + ".h5");
    const RunSummary b = run_to_file(plan, opt);
    CHECK(b.columns_bracketed > 100);
    CHECK(b.columns_streamed > 0);
    CHECK(b.columns_streamed + b.columns_read == a.columns_read);
    REQUIRE(a.summaries.size() == b.summaries.size());
    for (std::size_t k = 0; k < a.summaries.size(); ++k) {
      INFO(a.summaries[k].metric << ", threads " << threads);
      same_bits(b.summaries[k].quantiles, a.summaries[k].quantiles);
      same_bits(b.summaries[k].mean, a.summaries[k].mean);
    }
  }
}

namespace {

// Columns of every kind, fed to StreamingQuantiles a block at a time with
// `lag` parts begun before the oldest is merged (workers running ahead of
// the writer, on stale windows). Returns, per column, whether it settled.
std::vector<bool> stream_columns(const std::vector<std::vector<float>>& cols, std::size_t block,
                                 std::size_t lag, std::size_t budget_bytes) {
  const std::size_t n = cols[0].size(), nq = summary_quantiles().size();
  StreamingQuantiles sq(cols.size(), summary_quantiles(), 4.0, budget_bytes);
  std::deque<StreamingQuantiles::Part> parts;
  for (std::size_t d0 = 0; d0 < n; d0 += block) {
    const std::size_t m = std::min(block, n - d0);
    parts.emplace_back();
    sq.begin_part(parts.back(), m);
    for (std::size_t c = 0; c < cols.size(); ++c)
      StreamingQuantiles::add_column(parts.back(), nq, c, cols[c].data() + d0, m);
    while (parts.size() > lag) {
      sq.merge(std::move(parts.front()));
      parts.pop_front();
    }
  }
  for (; !parts.empty(); parts.pop_front()) sq.merge(std::move(parts.front()));
  std::vector<bool> settled;
  for (std::size_t c = 0; c < cols.size(); ++c) {
    INFO("column " << c << ", block " << block << ", lag " << lag);
    std::vector<double> q(nq);
    settled.push_back(sq.quantiles(c, q.data()));
    if (settled.back()) same_bits(q, plain_type7(cols[c]));
  }
  return settled;
}

}  // namespace

TEST_CASE("quantiles from streamed windows equal sort-and-interpolate bit for bit", "[stats]") {
  // On every vector path of the block sort (scalar, AVX2, AVX-512).
  const SimdLevel level = GENERATE(SimdLevel::scalar, SimdLevel::avx2, SimdLevel::avx512);
  const SimdLevel before = set_simd_level_for_testing(level);
  INFO(simd_level_name(level));
#if defined(COUNTYSIM_SANITIZE_BUILD)
  // 30,011 values: every block size below still splits them or holds them
  // whole (the long columns took 215 s under the sanitizers, CI's slowest
  // case; these take 3 s).
  auto cols = every_kind(30011, 5);
#else
  auto cols = every_kind(100003, 5);
#endif
  Mix mix{6};
  cols.emplace_back(cols[0].size());  // a target met or not
  for (float& x : cols.back()) x = mix.uniform() < 0.3 ? 1.0f : 0.0f;
  cols.push_back(cols[3]);
  cols.back()[cols[3].size() / 2] = std::numeric_limits<float>::quiet_NaN();  // every quantile NaN
  // Every block size and lag at the CPU's best level; the other levels'
  // kernels see the same windows with one of them (under the sanitizers each
  // combination of the long columns took about 25-35 s).
  const bool all = level == SimdLevel::avx512;
  for (std::size_t block : {1024u, 8192u, 200000u})
    for (std::size_t lag : {1u, 3u}) {
      if (!all && !(block == 8192 && lag == 1)) continue;
      const std::vector<bool> settled = stream_columns(cols, block, lag, std::size_t{64} << 20);
      for (std::size_t c = 0; c < cols.size(); ++c) {
        INFO("column " << c << ", block " << block << ", lag " << lag);
        CHECK(settled[c]);  // 4 standard errors of rank, and NaN as NaN
      }
    }
  set_simd_level_for_testing(before);
}

TEST_CASE("streamed windows keep about sqrt(n) values, and drop columns past the budget",
          "[stats]") {
  const std::size_t n = 400000, nq = summary_quantiles().size();
  Mix mix{77};
  std::vector<float> x(n);
  for (float& v : x) v = static_cast<float>(mix.uniform());
  StreamingQuantiles sq(1, summary_quantiles());
  for (std::size_t d0 = 0; d0 < n; d0 += 8192) {
    StreamingQuantiles::Part p;
    const std::size_t m = std::min<std::size_t>(8192, n - d0);
    sq.begin_part(p, m);
    StreamingQuantiles::add_column(p, nq, 0, x.data() + d0, m);
    sq.merge(std::move(p));
  }
  // Each window spans 2 * 4 * sqrt(q(1-q)n) ranks (plus a few) when
  // narrowed, with room for half as much again; should more come before the
  // next narrowing the room doubles once: at most three times that is held.
  double bound = 0;
  for (double q : summary_quantiles()) bound += 3 * (8 * std::sqrt(q * (1 - q) * n) + 8 + 16);
  CHECK(sq.kept_values() <= static_cast<std::size_t>(bound));
  CHECK(sq.kept_values() > 0);

  // A budget that holds about one column's windows: the others are dropped
  // (read back by the engine) and the kept ones still give exact bits.
  const auto cols = every_kind(50000, 6);
  const std::vector<bool> settled = stream_columns(cols, 4096, 2, 60000);
  const auto kept = static_cast<std::size_t>(std::count(settled.begin(), settled.end(), true));
  CHECK(kept >= 2);  // the NaN column, and at least one other
  CHECK(kept < cols.size() - 1);
}

TEST_CASE("frozen windows count every value against their edges", "[stats]") {
  // Columns frozen by a small budget, parts merged late (stale windows), and
  // a column that drifts: every frozen window's counts equal a count over
  // the whole column.
  auto cols = every_kind(60000, 12);
  cols.emplace_back(cols[0].size());
  for (std::size_t i = 0; i < cols.back().size(); ++i)
    cols.back()[i] = static_cast<float>(i) / 1000.0f;
  const std::size_t n = cols[0].size(), nq = summary_quantiles().size(), block = 2000;
  StreamingQuantiles sq(cols.size(), summary_quantiles(), 4.0, 40000);
  std::deque<StreamingQuantiles::Part> parts;
  for (std::size_t d0 = 0; d0 < n; d0 += block) {
    parts.emplace_back();
    sq.begin_part(parts.back(), block);
    for (std::size_t c = 0; c < cols.size(); ++c)
      StreamingQuantiles::add_column(parts.back(), nq, c, cols[c].data() + d0, block);
    while (parts.size() > 2) {
      sq.merge(std::move(parts.front()));
      parts.pop_front();
    }
  }
  for (; !parts.empty(); parts.pop_front()) sq.merge(std::move(parts.front()));
  std::size_t frozen = 0;
  for (std::size_t c = 0; c < cols.size(); ++c) {
    std::vector<StreamingQuantiles::Bracket> b(nq);
    if (!sq.brackets(c, b.data())) continue;
    ++frozen;
    for (std::size_t q = 0; q < nq; ++q) {
      INFO("column " << c << ", quantile " << q);
      std::uint64_t below = 0, eq_lo = 0, inside = 0, eq_hi = 0;
      for (const float v : cols[c]) {
        below += v < b[q].lo;
        eq_lo += v == b[q].lo;
        inside += b[q].lo < v && v < b[q].hi;
        eq_hi += b[q].lo != b[q].hi && v == b[q].hi;
      }
      CHECK(b[q].below == below);
      CHECK(b[q].eq_lo == eq_lo);
      CHECK(b[q].inside == inside);
      CHECK(b[q].eq_hi == eq_hi);
    }
  }
  CHECK(frozen >= 3);
}

TEST_CASE("values inside frozen windows are found the same on every vector path", "[stats]") {
  // Windows around each quantile of every kind of column, and odd ones: an
  // edge at -0 or +0 (signed zeros compare equal: never inside), infinite
  // edges, an empty window; lengths that are not whole vectors.
  const auto cols = every_kind(8195, 21);
  const std::size_t nq = summary_quantiles().size();
  for (std::size_t c = 0; c < cols.size(); ++c) {
    std::vector<float> sorted = cols[c];
    std::sort(sorted.begin(), sorted.end());
    std::vector<StreamingQuantiles::Bracket> br(nq + 4);
    for (std::size_t q = 0; q < nq; ++q) {
      const auto at = static_cast<std::size_t>(summary_quantiles()[q] * 8000);
      br[q].lo = sorted[at];
      br[q].hi = sorted[at + 150];
    }
    const float inf = std::numeric_limits<float>::infinity();
    br[nq] = {-0.0f, 1.0f};
    br[nq + 1] = {-inf, 0.0f};
    br[nq + 2] = {-inf, inf};
    br[nq + 3] = {2.0f, 2.0f};
    std::vector<std::uint8_t> need(br.size(), 1);
    need[1] = 0;
    for (const std::size_t n : {std::size_t{8195}, std::size_t{7}, std::size_t{0}}) {
      // By the definition, one value at a time.
      std::vector<float> want;
      std::vector<std::size_t> want_ends;
      for (std::size_t q = 0; q < br.size(); ++q) {
        for (std::size_t i = 0; need[q] && i < n; ++i)
          if (br[q].lo < cols[c][i] && cols[c][i] < br[q].hi) want.push_back(cols[c][i]);
        want_ends.push_back(want.size());
      }
      for (const SimdLevel level : {SimdLevel::scalar, SimdLevel::avx2, SimdLevel::avx512}) {
        INFO("column " << c << ", n " << n << ", " << simd_level_name(level));
        const SimdLevel before = set_simd_level_for_testing(level);
        std::vector<float> got = {42.0f};  // appended after what is there
        std::vector<std::size_t> ends(br.size());
        StreamingQuantiles::keep_inside(cols[c].data(), n, br.data(), need.data(), br.size(), got,
                                        ends.data());
        set_simd_level_for_testing(before);
        REQUIRE(got.size() == want.size() + 1);
        CHECK((want.empty() ||  // (memcmp's pointers must not be null, even for 0 bytes)
               std::memcmp(got.data() + 1, want.data(), want.size() * sizeof(float)) == 0));
        for (std::size_t q = 0; q < br.size(); ++q) CHECK(ends[q] == want_ends[q] + 1);
      }
    }
  }
}

namespace {

// Columns `cols` (one value a draw each) as the one summarised dataset of a
// results file at `path`, stored a chunk of `chunk` draws at a time as the
// engine stores them, and summarised with windows streamed while "drawing"
// under a budget of `budget` bytes (parts merged two blocks late, so with
// stale windows), read back with `threads` threads. `frozen_by` counts the
// frozen columns by how they will be read back: [0] from the windows'
// edges alone, [1] keeping the values inside, [2] by radix selection.
std::vector<double> summarise_streamed(const std::vector<std::vector<float>>& cols,
                                       const std::string& path, std::size_t chunk,
                                       std::size_t budget, int threads, std::size_t read_floats,
                                       RunSummary& counts, std::size_t* frozen_by) {
  const std::size_t n = cols[0].size(), nc = cols.size(), nq = summary_quantiles().size();
  StreamingQuantiles sq(nc, summary_quantiles(), 4.0, budget);
  std::deque<StreamingQuantiles::Part> parts;
  for (std::size_t d0 = 0; d0 < n; d0 += chunk) {
    const std::size_t m = std::min(chunk, n - d0);
    parts.emplace_back();
    sq.begin_part(parts.back(), m);
    for (std::size_t c = 0; c < nc; ++c)
      StreamingQuantiles::add_column(parts.back(), nq, c, cols[c].data() + d0, m);
    while (parts.size() > 2) {
      sq.merge(std::move(parts.front()));
      parts.pop_front();
    }
  }
  for (; !parts.empty(); parts.pop_front()) sq.merge(std::move(parts.front()));
  std::vector<Moments> moments(nc);
  for (std::size_t c = 0; c < nc; ++c)
    for (const float v : cols[c]) moments[c].add(v);
  std::fill_n(frozen_by, 3, 0);
  for (std::size_t c = 0; c < nc; ++c) {
    std::vector<StreamingQuantiles::Bracket> b(nq);
    std::vector<std::uint8_t> need(nq);
    // (A constant column's quantiles come from its moments.)
    if (moments[c].m2 == 0 || !sq.brackets(c, b.data())) continue;
    if (!StreamingQuantiles::bracket_needs(n, summary_quantiles(), b.data(), need.data()))
      ++frozen_by[2];
    else
      ++frozen_by[std::count(need.begin(), need.end(), 1) ? 1 : 0];
  }

  RunInfo info;
  info.draws = n;
  info.base_year = 2021;
  info.last_year = 2022;
  Coordinates co;
  co.year = {2021, 2022};
  co.projection_year = {2022};
  co.quantile = summary_quantiles();
  for (std::size_t c = 0; c < nc; ++c) {
    co.target.push_back("t" + std::to_string(c));
    co.target_label.push_back("t" + std::to_string(c));
  }
  ResultsLayout layout;
  layout.specs = {{"draws", "x", DType::f32, {"target"}, {nc}, "1", "test columns", ""}};
  layout.summarised = {0};
  layout.summary_columns = nc;
  ResultsWriter w(path, info, co, layout.specs, n, chunk);
  std::vector<float> one(chunk);
  for (std::uint64_t k = 0; k * chunk < n; ++k)
    for (std::size_t c = 0; c < nc; ++c) {
      const std::size_t m = std::min(chunk, n - k * chunk);
      std::fill(one.begin(), one.end(), 0.0f);
      std::copy_n(cols[c].data() + k * chunk, m, one.data());
      w.write_chunk(0, k, c, compress_chunk(one.data(), one.size() * 4, 4, 1));
    }
  SummaryReading bk;
  bk.draws = n;
  bk.threads = threads;
  bk.read_floats = read_floats;
  const auto out = summarise(layout, w, moments, bk, nullptr, counts, nullptr, &sq);
  w.close();
  REQUIRE(out.size() == 1);
  return out[0].quantiles;
}

}  // namespace

TEST_CASE("frozen columns' quantiles equal whole columns' on every vector path and thread count",
          "[stats]") {
  // Columns of every kind (ties, signed zeros, infinities, one value
  // mostly), and: a column that shifts halfway, whose order statistics
  // leave the windows it was frozen with (radix selection); one with a NaN late (its
  // windows dropped, the column read whole); ties of signed zeros and small
  // integers. A budget that freezes most columns.
  const std::size_t n = 60000, nq = summary_quantiles().size();
  auto cols = every_kind(n, 12);
  cols.push_back(cols[7]);  // a share that rises by 1 halfway
  for (std::size_t i = n / 2; i < n; ++i) cols.back()[i] += 1.0f;
  cols.push_back(cols[0]);
  cols.back()[n - 5] = std::numeric_limits<float>::quiet_NaN();
  cols.emplace_back(n);
  for (std::size_t i = 0; i < n; ++i)
    cols.back()[i] = i % 5 == 0   ? -0.0f
                     : i % 3 == 0 ? 0.0f
                                  : static_cast<float>(static_cast<int>(i * 13 % 7) - 3);
  std::vector<std::vector<double>> want;
  for (const auto& x : cols) {
    std::vector<float> copy = x;
    want.push_back(quantiles_type7(copy.data(), n, summary_quantiles()));
    same_bits(want.back(), plain_type7(x));
  }
  testing::TempDir tmp("countysim-frozen-columns");
  int file = 0;
  for (const SimdLevel level : {SimdLevel::scalar, SimdLevel::avx2, SimdLevel::avx512})
    for (const int threads : {1, 2})
      for (const std::size_t read_floats : {std::size_t{0}, std::size_t{1}}) {
        // read_floats 1: a window may keep one value, so all but the
        // columns settled by their edges take the radix selection.
        if (read_floats == 1 && level != SimdLevel::avx512) continue;
        INFO(simd_level_name(level) << ", " << threads << " threads, read_floats " << read_floats);
        const SimdLevel before = set_simd_level_for_testing(level);
        RunSummary counts;
        std::size_t frozen_by[3];
        const auto q = summarise_streamed(cols, tmp.file(std::to_string(file++) + ".h5"), 2000,
                                          40000, threads, read_floats, counts, frozen_by);
        set_simd_level_for_testing(before);
        CHECK(frozen_by[1] >= 3);  // values kept inside the windows
        CHECK(frozen_by[2] >= 1);  // the drifting column at least
        CHECK(counts.columns_bracketed == frozen_by[0] + frozen_by[1] + frozen_by[2]);
        for (std::size_t c = 0; c < cols.size(); ++c) {
          INFO("column " << c);
          same_bits(std::vector<double>(q.begin() + c * nq, q.begin() + (c + 1) * nq), want[c]);
        }
      }
}

TEST_CASE("streamed windows hold the same on every vector path, signed zeros included", "[stats]") {
  // The vector paths select order statistics by their own partition, which
  // orders the values kept otherwise than nth_element, and may pick the other
  // zero of -0 and +0: results, the room held (which decides what the budget
  // drops) and the quantiles' bits must not depend on the path.
  auto cols = every_kind(60001, 9);
  Mix mix{10};
  cols.emplace_back(cols[0].size());  // zeros of both signs, most of the column
  for (float& x : cols.back()) {
    const double u = mix.uniform();
    x = u < 0.3 ? -0.0f : u < 0.6 ? 0.0f : static_cast<float>(u - 0.8);
  }
  cols.emplace_back(cols[0].size());  // a few of both signs at the median: inside its window
  for (float& x : cols.back()) {
    const double u = mix.uniform();
    x = u < 0.0025 ? -0.0f : u < 0.005 ? 0.0f : static_cast<float>(u - 0.5025);
  }
  auto run = [&](SimdLevel level) {
    const SimdLevel before = set_simd_level_for_testing(level);
    const std::size_t n = cols[0].size(), nq = summary_quantiles().size(), block = 2048;
    StreamingQuantiles sq(cols.size(), summary_quantiles());
    std::vector<std::size_t> kept;
    for (std::size_t d0 = 0; d0 < n; d0 += block) {
      StreamingQuantiles::Part p;
      const std::size_t m = std::min(block, n - d0);
      sq.begin_part(p, m);
      for (std::size_t c = 0; c < cols.size(); ++c)
        StreamingQuantiles::add_column(p, nq, c, cols[c].data() + d0, m);
      sq.merge(std::move(p));
      kept.push_back(sq.kept_values());
    }
    std::vector<double> q(cols.size() * nq);
    std::vector<bool> settled;
    for (std::size_t c = 0; c < cols.size(); ++c) settled.push_back(sq.quantiles(c, &q[c * nq]));
    set_simd_level_for_testing(before);
    return std::make_tuple(q, settled, kept);
  };
  const auto scalar = run(SimdLevel::scalar);
  CHECK(std::get<1>(scalar).back());
  for (const SimdLevel level : {SimdLevel::avx2, SimdLevel::avx512}) {
    INFO(simd_level_name(level));
    const auto v = run(level);
    same_bits(std::get<0>(v), std::get<0>(scalar));
    CHECK(std::get<1>(v) == std::get<1>(scalar));
    CHECK(std::get<2>(v) == std::get<2>(scalar));
  }
}

TEST_CASE("welford_add over columns gives Moments::add's bits", "[stats]") {
  const SimdLevel level = GENERATE(SimdLevel::scalar, SimdLevel::avx2, SimdLevel::avx512);
  const SimdLevel before = set_simd_level_for_testing(level);
  INFO(simd_level_name(level));
  Mix mix{31};
  const std::size_t k = 23;  // five AVX2 steps, or two AVX-512 and one AVX2; a scalar tail
  std::vector<double> mean(k, 0.0), m2(k, 0.0), x(k);
  std::vector<Moments> one(k);
  const double edge[] = {0.0, -0.0, 1e300, -1e300, 5e-324, 1e-10, 3.0, -7.5};
  for (int d = 1; d <= 300; ++d) {
    for (std::size_t c = 0; c < k; ++c) {
      const double u = mix.uniform();
      x[c] = c < 8 && d % 7 == 0 ? edge[c] : (u - 0.3) * std::pow(10.0, static_cast<double>(c % 9));
      one[c].add(x[c]);
    }
    welford_add(x.data(), mean.data(), m2.data(), k, static_cast<double>(d));
  }
  for (std::size_t c = 0; c < k; ++c) {
    INFO("column " << c);
    CHECK(std::memcmp(&mean[c], &one[c].mean, sizeof(double)) == 0);
    CHECK(std::memcmp(&m2[c], &one[c].m2, sizeof(double)) == 0);
  }
  set_simd_level_for_testing(before);
}

TEST_CASE("fill_rows writes the same bytes on every vector path", "[stats]") {
  // Groups of 16, 16 and 5 draws (the vector path's tail), a last block
  // shorter than its chunk, and NaN, infinities and values out of float range.
  const Scenario s = load_scenario(COUNTYSIM_SOURCE_DIR "/scenarios/taojiang-2022.yaml");
  const Plan plan = compile_plan(s);
  const ResultsLayout layout = make_layout(plan);
  const std::size_t draws = 37, rows = 40;
  std::vector<DrawOutput> outs(draws);
  DrawWorkspace ws;
  for (std::size_t d = 0; d < draws; ++d) {
    outs[d].resize(plan);
    simulate_draw(plan, s.seed, d, ws, outs[d]);
  }
  const double odd[] = {std::numeric_limits<double>::quiet_NaN(),
                        1e300,
                        -1e300,
                        1e-300,
                        std::numeric_limits<double>::infinity(),
                        -0.0,
                        3.4028235677973366e38};
  for (std::size_t d = 0; d < draws; d += 3) {
    outs[d].year_metrics[d % outs[d].year_metrics.size()] = odd[d % 7];
    outs[d].project_output[(5 * d) % outs[d].project_output.size()] = odd[(d + 1) % 7];
    outs[d].inputs[(7 * d) % outs[d].inputs.size()] = odd[(d + 2) % 7];
  }
  std::vector<double> lws(draws, -1.5);
  auto fill = [&](SimdLevel level) {
    const SimdLevel before = set_simd_level_for_testing(level);
    std::vector<std::vector<unsigned char>> bufs(layout.specs.size());
    for (std::size_t k = 0; k < bufs.size(); ++k)
      bufs[k].assign(layout.elems[k] * column_stride(rows, dtype_size(layout.specs[k].dtype)), 0);
    for (std::size_t i0 = 0; i0 < draws; i0 += row_group) {
      const std::size_t g = std::min(row_group, draws - i0);
      fill_rows(layout, plan, outs.data() + i0, lws.data() + i0, g, i0, rows, bufs);
    }
    set_simd_level_for_testing(before);
    return bufs;
  };
  const auto scalar = fill(SimdLevel::scalar);
  for (const SimdLevel level : {SimdLevel::avx2, SimdLevel::avx512}) {
    const auto v = fill(level);
    for (std::size_t k = 0; k < v.size(); ++k) {
      INFO(simd_level_name(level) << ", dataset " << layout.specs[k].name);
      CHECK(v[k] == scalar[k]);
    }
  }
}

TEST_CASE("fill_rows rounds integer metrics as std::lround does", "[stats]") {
  // Halves away from zero, just below a half, int32's edges, values out of
  // its range (lround's result cast, as before) and NaN.
  const Scenario s = load_scenario(COUNTYSIM_SOURCE_DIR "/scenarios/taojiang-2022.yaml");
  const Plan plan = compile_plan(s);
  const ResultsLayout layout = make_layout(plan);
  std::size_t k = 0;
  while (k < layout.specs.size() && !(layout.specs[k].dtype == DType::i32 &&
                                      layout.sources[k].first == RowSource::year_metric))
    ++k;
  REQUIRE(k < layout.specs.size());
  const double odd[row_group] = {2.5,
                                 -2.5,
                                 0.49999999999999994,
                                 -0.49999999999999994,
                                 2147483646.5,
                                 -2147483646.5,
                                 2147483647.4,
                                 -2147483647.6,
                                 1e10,
                                 -3e12,
                                 4503599627370497.0,
                                 std::numeric_limits<double>::quiet_NaN(),
                                 -0.0,
                                 1e-300,
                                 -7.5,
                                 12.499999999999998};
  std::vector<DrawOutput> outs(row_group);
  for (std::size_t j = 0; j < row_group; ++j) {
    outs[j].resize(plan);
    outs[j].year_metrics[static_cast<std::size_t>(layout.sources[k].second) * layout.elems[k]] =
        odd[j];
  }
  std::vector<double> lws(row_group, 0.0);
  const std::size_t rows = 16;
  std::vector<std::vector<unsigned char>> bufs(layout.specs.size());
  for (std::size_t i = 0; i < bufs.size(); ++i)
    bufs[i].assign(layout.elems[i] * column_stride(rows, dtype_size(layout.specs[i].dtype)), 0);
  fill_rows(layout, plan, outs.data(), lws.data(), row_group, 0, rows, bufs);
  for (std::size_t j = 0; j < row_group; ++j) {
    INFO("value " << odd[j]);
    std::int32_t got;
    std::memcpy(&got, bufs[k].data() + j * 4, 4);
    CHECK(got == static_cast<std::int32_t>(std::lround(odd[j])));
  }
}
