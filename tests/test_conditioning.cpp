// Conditioning on outturns (model.md, docs/conditioning.md): closed forms of a
// one-cluster normal model, with fixed seeds and bounds of 4 standard errors;
// the same bits for any thread count and block size; the paired comparison of
// conditioned runs; the warnings, whole text.
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "countysim/compare.hpp"
#include "countysim/conditioning.hpp"
#include "countysim/engine.hpp"
#include "countysim/explain.hpp"
#include "countysim/plan.hpp"
#include "countysim/results_io.hpp"
#include "countysim/scenario.hpp"
#include "countysim/stats.hpp"
#include "countysim/terminal.hpp"
#include "temp_dir.hpp"

using namespace countysim;

namespace {

// One cluster, no projects, no shock: industrial output in year t is
// 100 (1 + G_1) ... (1 + G_t) with G_t ~ N(0.05, 0.04²) independent, so
// output in 2022 is N(105, 4²).
const char* county = R"(schema: countysim/1
name: 条件测试 conditioning
horizon: {base_year: 2021, last_year: 2023}
simulation: {draws: 20000, seed: 11}
macro:
  gdp_base: 200
  rest_growth: 0.05
  common_shock: {sd: 0, persistence: 0}
  digital_share_of_rest: 0.03
finance:
  new_loans: 10
  manufacturing_loan_share: 0.2
  reference_share: 0.2
  project_credit_fraction: 0.3
land:
  initial_stock_mu: 100
  supply_mu: 0
clusters:
  - id: bamboo
    name: 竹产业
    group: green
    base_output: 100
    growth: {dist: normal, mean: 0.05, sd: 0.04}
    value_added_ratio: 0.25
    tax_rate: 0.01
    output_per_worker: 80
    productivity_growth: 0.04
targets:
  - {id: y2022, label: 二〇二二, metric: industrial_output, year: 2022, at_least: 108}
  - {id: y2023, label: 二〇二三, metric: industrial_output, year: 2023, at_least: 114}
)";

constexpr double kBase = 100, kMu = 0.05, kSigma = 0.04;
constexpr double kObserved = 108, kObservedSd = 3;  // 2022 outturn and its error

double phi_cdf(double x) {
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

Observation observation(const std::string& id, Metric m, int year, double value, double sd,
                        const std::string& cluster = "", int cluster_index = -1) {
  Observation o;
  o.id = id;
  o.metric = m;
  o.year = year;
  o.value = value;
  o.sd = sd;
  o.cluster = cluster;
  o.cluster_index = cluster_index;
  o.source = "统计公报";
  return o;
}

Scenario conditioned(const std::string& text = county) {
  Scenario sc = load_scenario_text(text, "cond.yaml");
  sc.observed.push_back(
      observation("out2022", Metric::industrial_output, 2022, kObserved, kObservedSd));
  return sc;
}

RunSummary run(const Scenario& sc, const std::string& path, int threads = 2,
               std::uint64_t block = 8192, std::uint64_t draws = 0) {
  const Plan plan = compile_plan(sc);
  RunOptions opt;
  opt.output = path;
  opt.threads = threads;
  opt.block_draws = block;
  opt.draws = draws;
  return run_to_file(plan, opt);
}

// Normal–normal conjugacy: output in 2022 given the outturn.
struct Posterior {
  double m0 = kBase * (1 + kMu), v0 = kBase * kBase * kSigma * kSigma;
  double v = 1 / (1 / v0 + 1 / (kObservedSd * kObservedSd));
  double m = v * (m0 / v0 + kObserved / (kObservedSd * kObservedSd));
};

std::vector<double> weights_of(const std::vector<double>& lw) {
  double top = -std::numeric_limits<double>::infinity();
  for (double l : lw) top = std::max(top, l);
  std::vector<double> w;
  for (double l : lw) w.push_back(std::exp(l - top));
  return w;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("conditioned probabilities match the normal model's closed forms", "[conditioning]") {
  testing::TempDir tmp("countysim-cond");
  const Scenario sc = conditioned();
  const RunSummary r = run(sc, tmp.file("run.h5"));
  const TargetTable& t = r.targets;
  REQUIRE(t.conditioned);
  REQUIRE(t.rows.size() == 2);
  const Posterior post;

  // (a) The observed year: P(Y ≥ 108 | outturn) from conjugacy.
  const double truth_a = 1 - phi_cdf((108 - post.m) / std::sqrt(post.v));
  INFO("conditioned " << t.rows[0].probability << " ± " << t.rows[0].std_error << ", truth "
                      << truth_a);
  CHECK(std::abs(t.rows[0].probability - truth_a) < 4 * t.rows[0].std_error);
  // The prior stays the plain share, against its own closed form.
  const double prior_a = 1 - phi_cdf((108 - post.m0) / std::sqrt(post.v0));
  CHECK(std::abs(t.rows[0].prior_probability - prior_a) < 4 * t.rows[0].prior_std_error);
  // The two differ by far more than their errors: the test can fail.
  CHECK(std::abs(truth_a - prior_a) > 8 * t.rows[0].std_error);

  // (b) A later year: P(Y2023 ≥ 114 | outturn) = ∫ N(x; m, v) P(x (1 + G) ≥ 114) dx,
  // by Simpson's rule on ±10 posterior sd (4000 intervals: error far below 1e-9).
  const double sd = std::sqrt(post.v), lo = post.m - 10 * sd, hi = post.m + 10 * sd;
  const int n = 4000;
  const double h = (hi - lo) / n;
  double integral = 0;
  for (int i = 0; i <= n; ++i) {
    const double x = lo + i * h;
    const double f = std::exp(-0.5 * (x - post.m) * (x - post.m) / post.v) /
                     std::sqrt(2 * M_PI * post.v) * (1 - phi_cdf((114 / x - 1 - kMu) / kSigma));
    integral += f * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
  }
  const double truth_b = integral * h / 3;
  INFO("2023: conditioned " << t.rows[1].probability << " ± " << t.rows[1].std_error << ", truth "
                            << truth_b);
  CHECK(std::abs(t.rows[1].probability - truth_b) < 4 * t.rows[1].std_error);

  // The file says the same as the run summary.
  const ResultsReader reader(tmp.file("run.h5"));
  const TargetTable f = reader.targets();
  REQUIRE(f.conditioned);
  CHECK(f.rows[0].probability == t.rows[0].probability);
  CHECK(f.rows[1].prior_std_error == t.rows[1].prior_std_error);
  CHECK(f.prior_all_met_probability == t.prior_all_met_probability);
  CHECK(f.effective_sample_size == t.effective_sample_size);
  REQUIRE(f.observations.size() == 1);
  CHECK(f.observations[0].id == "out2022");
  CHECK(f.observations[0].source == "统计公报");
  CHECK(f.observations[0].metric == "industrial_output");
  // Where the outturn fell: Φ((108 - 105) / 4) of the prior draws at or below it.
  const double q = phi_cdf((kObserved - post.m0) / std::sqrt(post.v0));
  const double q_se = std::sqrt(q * (1 - q) / 20000);
  CHECK(std::abs(f.observations[0].prior_quantile - q) < 4 * q_se);
  // The conditioned median of output in 2022 is the posterior mean (normal).
  const double med_se = std::sqrt(post.v) * std::sqrt(M_PI / 2 / t.effective_sample_size);
  CHECK(std::abs(f.observations[0].conditioned_median - post.m) < 4 * med_se);
  CHECK(conditioning_warnings(f, 20000).empty());
}

TEST_CASE("the effective sample size matches E[w]² / E[w²]", "[conditioning]") {
  testing::TempDir tmp("countysim-cond");
  const RunSummary r = run(conditioned(), tmp.file("run.h5"));
  // (c) With Y ~ N(m0, v0) and w = exp(-(Y - y)² / 2s²):
  // E[w] = sqrt(s²/(v0+s²)) exp(-(y-m0)²/2(v0+s²)), E[w²] the same with s²/2.
  const Posterior post;
  const double s2 = kObservedSd * kObservedSd, d2 = (kObserved - post.m0) * (kObserved - post.m0);
  const double ew = std::sqrt(s2 / (post.v0 + s2)) * std::exp(-d2 / (2 * (post.v0 + s2)));
  const double ew2 =
      std::sqrt(s2 / 2 / (post.v0 + s2 / 2)) * std::exp(-d2 / (2 * (post.v0 + s2 / 2)));
  const double truth = ew * ew / ew2;  // ESS / N in the limit
  // Its Monte-Carlo error by the delta method on the draws themselves:
  // r = a²/b with a = mean w, b = mean w²; ∇r = (2a/b, -a²/b²) and the
  // covariance of (w, w²) over N draws. The ratio's own bias is O(1/N), far
  // inside 4 standard errors at N = 20000.
  const ResultsReader reader(tmp.file("run.h5"));
  const std::vector<double> w = weights_of(reader.read_dataset("draws", "log_weight"));
  const double nn = static_cast<double>(w.size());
  double a = 0, b = 0;
  for (double x : w) {
    a += x / nn;
    b += x * x / nn;
  }
  double vaa = 0, vbb = 0, vab = 0;
  for (double x : w) {
    vaa += (x - a) * (x - a);
    vbb += (x * x - b) * (x * x - b);
    vab += (x - a) * (x * x - b);
  }
  vaa /= nn - 1;
  vbb /= nn - 1;
  vab /= nn - 1;
  const double ga = 2 * a / b, gb = -a * a / (b * b);
  const double se = std::sqrt((ga * ga * vaa + gb * gb * vbb + 2 * ga * gb * vab) / nn);
  const double ratio = r.targets.effective_sample_size / nn;
  INFO("ESS/N " << ratio << " ± " << se << ", truth " << truth);
  CHECK(std::abs(ratio - truth) < 4 * se);
  CHECK(std::abs(a * a / b - ratio) < 1e-12);  // the file's ESS is (Σw)²/Σw²
}

TEST_CASE("weighted summaries match a direct weighted computation", "[conditioning]") {
  testing::TempDir tmp("countysim-cond");
  run(conditioned(), tmp.file("run.h5"), 2, 8192, 5000);
  const ResultsReader reader(tmp.file("run.h5"));
  std::vector<std::size_t> shape;
  const std::vector<double> x = reader.read_dataset("draws", "industrial_output", &shape);
  const std::vector<double> w = weights_of(reader.read_dataset("draws", "log_weight"));
  const MetricSummary s = reader.summary("industrial_output");
  const std::size_t years = shape[1], draws = shape[0], nq = reader.coords().quantile.size();
  for (std::size_t y = 0; y < years; ++y) {
    // (d) The quantile as defined, the obvious way: sort (x, draw), add
    // weights until the running sum reaches q Σw.
    std::vector<std::pair<double, std::size_t>> v;
    for (std::size_t d = 0; d < draws; ++d) v.emplace_back(x[d * years + y], d);
    std::sort(v.begin(), v.end());
    double total = 0;
    for (const auto& [value, d] : v) total += w[d];
    for (std::size_t k = 0; k < nq; ++k) {
      const double need = reader.coords().quantile[k] * total;
      double cum = 0, expect = v.back().first;
      for (const auto& [value, d] : v) {
        cum += w[d];
        if (cum >= need) {
          expect = value;
          break;
        }
      }
      CHECK(s.quantiles[y * nq + k] == expect);
    }
    double sw = 0, sw2 = 0, swx = 0;
    for (std::size_t d = 0; d < draws; ++d) {
      sw += w[d];
      sw2 += w[d] * w[d];
      swx += w[d] * x[d * years + y];
    }
    const double mean = swx / sw;
    double ss = 0;
    for (std::size_t d = 0; d < draws; ++d)
      ss += w[d] * (x[d * years + y] - mean) * (x[d * years + y] - mean);
    CHECK(s.mean[y] == Approx(mean).epsilon(1e-12));
    CHECK(s.sd[y] == Approx(std::sqrt(ss / (sw - sw2 / sw))).epsilon(1e-9).margin(1e-12));
  }
  // The base year is a constant 100 for every draw: weighted or not.
  CHECK(s.mean[0] == Approx(100).epsilon(1e-12));
}

TEST_CASE("conditioned runs give the same bits for any thread count and block size",
          "[conditioning]") {
  testing::TempDir tmp("countysim-cond");
  Scenario sc = conditioned();
  // Two observations, one of them cluster_output, so ℓ_d is a sum.
  sc.observed.push_back(
      observation("bamboo2023", Metric::cluster_output, 2023, 111, 5, "bamboo", 0));
  struct Variant {
    int threads;
    std::uint64_t block;
  };
  const std::vector<Variant> variants = {{1, 1024}, {2, 1024}, {3, 1024}, {3, 4096}, {2, 8192}};
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    paths.push_back(tmp.file("run" + std::to_string(i) + ".h5"));
    run(sc, paths.back(), variants[i].threads, variants[i].block, 6000);
  }
  const ResultsReader first(paths[0]);
  const TargetTable t0 = first.targets();
  REQUIRE(t0.observations.size() == 2);
  for (std::size_t i = 1; i < paths.size(); ++i) {
    INFO("threads " << variants[i].threads << ", block " << variants[i].block);
    const ResultsReader other(paths[i]);
    CHECK(same_bits(first.read_dataset("draws", "log_weight"),
                    other.read_dataset("draws", "log_weight")));
    const TargetTable t = other.targets();
    for (std::size_t k = 0; k < t.rows.size(); ++k) {
      CHECK(same_bits({t.rows[k].probability, t.rows[k].std_error, t.rows[k].ci_low,
                       t.rows[k].ci_high, t.rows[k].prior_probability},
                      {t0.rows[k].probability, t0.rows[k].std_error, t0.rows[k].ci_low,
                       t0.rows[k].ci_high, t0.rows[k].prior_probability}));
    }
    CHECK(same_bits({t.all_met_probability, t.all_met_std_error, t.effective_sample_size},
                    {t0.all_met_probability, t0.all_met_std_error, t0.effective_sample_size}));
    for (std::size_t o = 0; o < 2; ++o)
      CHECK(same_bits({t.observations[o].prior_quantile, t.observations[o].conditioned_median,
                       t.observations[o].effective_sample_size},
                      {t0.observations[o].prior_quantile, t0.observations[o].conditioned_median,
                       t0.observations[o].effective_sample_size}));
    for (const std::string m : {"industrial_output", "cluster_output", "gdp", "employment"}) {
      const MetricSummary a = first.summary(m), b = other.summary(m);
      CHECK(same_bits(a.mean, b.mean));
      CHECK(same_bits(a.sd, b.sd));
      CHECK(same_bits(a.quantiles, b.quantiles));
    }
  }
  // count_targets (sweep, solve) gives the run's conditioned probabilities, bit for bit.
  const Plan plan = compile_plan(sc);
  for (int threads : {1, 3}) {
    const TargetCounts c = count_targets(plan, sc.seed, 6000, threads);
    REQUIRE(c.weighted);
    const TargetTable t = make_target_table(sc, c);
    for (std::size_t k = 0; k < t.rows.size(); ++k) {
      CHECK(same_bits({t.rows[k].probability, t.rows[k].std_error},
                      {t0.rows[k].probability, t0.rows[k].std_error}));
      CHECK(target_estimate(c, k).p == t0.rows[k].probability);
    }
    CHECK(target_estimate(c, t.rows.size()).p == t0.all_met_probability);
  }
}

TEST_CASE("until-se (--until-se) stops on the conditioned standard errors", "[conditioning]") {
  testing::TempDir tmp("countysim-cond");
  const Scenario sc = conditioned();
  const Plan plan = compile_plan(sc);
  RunOptions opt;
  opt.output = tmp.file("run.h5");
  opt.threads = 2;
  opt.block_draws = 1024;
  opt.until_se = 0.01;
  opt.max_draws = 50000;
  const RunSummary r = run_to_file(plan, opt);
  CHECK_FALSE(r.reached_max_draws);
  for (const auto& row : r.targets.rows) CHECK(row.std_error <= 0.01);
  // One block fewer would not have done: the run stopped at the first boundary.
  const TargetTable fewer = make_target_table(sc, count_targets(plan, sc.seed, r.draws - 1024, 2));
  bool all_precise = true;
  for (const auto& row : fewer.rows) all_precise = all_precise && row.std_error <= 0.01;
  CHECK_FALSE(all_precise);
  // And the prior standard error alone would have stopped earlier.
  CHECK(r.targets.rows[0].prior_std_error < 0.01);
}

TEST_CASE("compare of conditioned runs is paired with the delta-method standard error",
          "[conditioning]") {
  testing::TempDir tmp("countysim-cond");
  const std::string base = tmp.file("base.h5"), alt = tmp.file("alt.h5"),
                    plain = tmp.file("plain.h5");
  run(conditioned(), base, 2, 8192, 8000);
  std::string text = county;
  text.replace(text.find("mean: 0.05"), 10, "mean: 0.06");
  run(conditioned(text), alt, 2, 8192, 8000);
  run(load_scenario_text(county, "cond.yaml"), plain, 2, 8192, 8000);

  const Comparison c = compare_results(base, alt);
  REQUIRE(c.paired);
  REQUIRE(c.base_conditioned);
  REQUIRE(c.alt_conditioned);
  // (f) Directly from the stored flags and log weights.
  const ResultsReader rb(base), ra(alt);
  const auto met_b = rb.read_dataset("draws", "target_met"),
             met_a = ra.read_dataset("draws", "target_met");
  const auto wb = weights_of(rb.read_dataset("draws", "log_weight")),
             wa = weights_of(ra.read_dataset("draws", "log_weight"));
  const std::size_t draws = wb.size(), nt = 2;
  REQUIRE(c.rows.size() == nt);
  for (std::size_t k = 0; k < nt; ++k) {
    double sb = 0, sa = 0, mb = 0, ma = 0;
    for (std::size_t d = 0; d < draws; ++d) {
      sb += wb[d];
      sa += wa[d];
      mb += wb[d] * met_b[d * nt + k];
      ma += wa[d] * met_a[d * nt + k];
    }
    const double pb = mb / sb, pa = ma / sa;
    double ss = 0;
    for (std::size_t d = 0; d < draws; ++d) {
      const double u =
          wa[d] * (met_a[d * nt + k] - pa) / sa - wb[d] * (met_b[d * nt + k] - pb) / sb;
      ss += u * u;
    }
    CHECK(c.rows[k].diff == Approx(pa - pb).epsilon(1e-12));
    CHECK(c.rows[k].std_error == Approx(std::sqrt(ss)).epsilon(1e-9));
    CHECK(c.rows[k].p_base == Approx(pb).epsilon(1e-12));
    // Pairing helps: the paired s.e. is below the unpaired one.
    CHECK(c.rows[k].std_error < c.rows[k].unpaired_std_error);
    CHECK(c.rows[k].prior_base == rb.targets().rows[k].prior_probability);
  }
  const std::string table = format_comparison(c);
  CHECK(table.find("Both runs are conditioned on observations") != std::string::npos);
  CHECK(format_comparison_csv(c).find("prior_base,prior_alt") != std::string::npos);

  // Conditioned against unconditioned: paired too, with w = 1 for the plain run.
  const Comparison m = compare_results(plain, base);
  REQUIRE(m.paired);
  CHECK_FALSE(m.base_conditioned);
  CHECK(m.alt_conditioned);
  CHECK(m.rows[0].prior_base == m.rows[0].p_base);
  CHECK(m.rows[0].diff == Approx(m.rows[0].p_alt - m.rows[0].p_base).epsilon(1e-12));
  CHECK(format_comparison(m).find("Only the alt run is conditioned on observations") !=
        std::string::npos);
}

TEST_CASE("conditioning warnings name the observations responsible", "[conditioning]") {
  // (g) Whole text, from a table.
  TargetTable t;
  t.conditioned = true;
  t.effective_sample_size = 412.4;
  ObservationRow a;
  a.id = "gdp2022";
  a.metric = "gdp";
  a.year = 2022;
  a.value = 2385;
  a.prior_quantile = 0.004;
  a.effective_sample_size = 530.2;
  ObservationRow b;
  b.id = "bamboo2023";
  b.metric = "cluster_output";
  b.cluster = "bamboo";
  b.year = 2023;
  b.value = 111.5;
  b.prior_quantile = 0.5;
  b.effective_sample_size = 9000;
  t.observations = {a, b};
  const char* advice =
      "the scenario disagrees with the record and needs recalibration more than more draws";
  const std::vector<std::string> w = conditioning_warnings(t, 20000);
  REQUIRE(w.size() == 2);
  CHECK(w[0] == std::string("observation gdp2022 (gdp 2022 = 2385) lies in the outer 1% of the "
                            "unconditioned draws (0.40% of them at or below it): ") +
                    advice);
  CHECK(w[1] == std::string("effective sample size 412 of 20000 draws is below 1000; "
                            "responsible: gdp2022 (alone 530): ") +
                    advice);
  // The upper tail, and an ESS that only the combination spoils: the
  // observation with the smallest own ESS is named.
  t.observations[0].prior_quantile = 0.995;
  t.observations[0].effective_sample_size = 1500;
  t.observations[1].effective_sample_size = 1200;
  const auto w2 = conditioning_warnings(t, 20000);
  REQUIRE(w2.size() == 2);
  CHECK(w2[0] == std::string("observation gdp2022 (gdp 2022 = 2385) lies in the outer 1% of the "
                             "unconditioned draws (99.50% of them at or below it): ") +
                     advice);
  CHECK(w2[1] == std::string("effective sample size 412 of 20000 draws is below 1000; "
                             "responsible: bamboo2023 (alone 1200): ") +
                     advice);
  t.conditioned = false;
  CHECK(conditioning_warnings(t, 20000).empty());

  // From a run: an outturn 5 prior sd above the mean, measured tightly.
  testing::TempDir tmp("countysim-cond");
  Scenario sc = load_scenario_text(county, "cond.yaml");
  sc.observed.push_back(observation("far", Metric::industrial_output, 2022, 125, 0.5));
  const RunSummary r = run(sc, tmp.file("run.h5"), 2, 8192, 4000);
  const ResultsReader reader(tmp.file("run.h5"));
  const TargetTable f = reader.targets();
  REQUIRE(f.observations.size() == 1);
  const ObservationRow& o = f.observations[0];
  CHECK(o.prior_quantile > 0.99);
  CHECK(f.effective_sample_size < 1000);
  const auto wr = conditioning_warnings(f, 4000);
  REQUIRE(wr.size() == 2);
  CHECK(wr[0] ==
        fmt::format("observation far (industrial_output 2022 = 125) lies in the outer 1% of the "
                    "unconditioned draws ({:.2f}% of them at or below it): {}",
                    100 * o.prior_quantile, advice));
  CHECK(wr[1] == fmt::format("effective sample size {:.0f} of 4000 draws is below 1000; "
                             "responsible: far (alone {:.0f}): {}",
                             f.effective_sample_size, o.effective_sample_size, advice));
  // The terminal table shows them, with prior and conditioned side by side.
  const std::string table = format_target_table(f, 4000);
  CHECK(table.find("warning: " + wr[0] + "\n") != std::string::npos);
  CHECK(table.find("warning: " + wr[1] + "\n") != std::string::npos);
  CHECK(table.find("prior") != std::string::npos);
  CHECK(table.find("conditioned median") != std::string::npos);
  CHECK(format_target_csv(f).find("prior_probability,prior_std_error") != std::string::npos);
}

TEST_CASE("statistics of columns with NaN give NaN, sorting nothing", "[conditioning]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<float> xs(50, static_cast<float>(nan));
  const std::vector<double> w(50, 1.0);
  for (double q : weighted_quantiles(xs.data(), w.data(), xs.size(), summary_quantiles()))
    CHECK(std::isnan(q));
  const WeightedMoments m = weighted_moments(xs.data(), w.data(), xs.size());
  CHECK(std::isnan(m.mean));
  CHECK(std::isnan(m.sd));
  for (double q : quantiles_type7(xs.data(), xs.size(), summary_quantiles())) CHECK(std::isnan(q));
  Moments mo;
  for (float x : xs) mo.add(x);
  CHECK(std::isnan(mo.mean));
  CHECK(std::isnan(mo.sd()));
  // A draw whose observed metric is NaN gets weight 0, not NaN.
  const Observation o = observation("x", Metric::gdp, 2022, 1, 1);
  CHECK(log_likelihood_term(o, nan) == -std::numeric_limits<double>::infinity());
  const auto nw = normalised_weights({-1.0, -std::numeric_limits<double>::infinity(), -3.0});
  CHECK(nw == std::vector<double>{1.0, 0.0, std::exp(-2.0)});
  CHECK_THROWS_AS(normalised_weights({-std::numeric_limits<double>::infinity()}), RunError);
}

TEST_CASE("weighted proportions: self-normalised, with a Wilson interval", "[conditioning]") {
  // Equal weights give the binomial estimate, SE and Wilson interval.
  const Proportion b = proportion(30, 100);
  const Proportion w = weighted_proportion(30, 30, 100, 100);
  CHECK(w.p == Approx(b.p).epsilon(1e-15));
  CHECK(w.std_error == Approx(b.std_error).epsilon(1e-12));
  CHECK(w.ci_low == Approx(b.ci_low).epsilon(1e-12));
  CHECK(w.ci_high == Approx(b.ci_high).epsilon(1e-12));
  // Nobody meets it: p = 0, s.e. 0, interval [0, Wilson upper end with n = ESS].
  const Proportion z = weighted_proportion(0, 0, 50, 40);  // ESS 62.5
  CHECK(z.p == 0);
  CHECK(z.std_error == 0);
  CHECK(z.ci_low == 0);
  const double zz = 1.959963984540054 * 1.959963984540054;
  CHECK(z.ci_high == Approx(zz / (62.5 + zz)).epsilon(1e-12));
}

TEST_CASE("explain says its counterfactuals are not conditioned", "[conditioning]") {
  ExplainResult r;
  r.results = "run.h5";
  r.scenario_name = "县";
  r.weighted = true;
  r.projects.resize(1);
  const std::string note =
      "note: project and lever counterfactuals are not conditioned on the observations\n";
  CHECK(format_explain_table(r).find(note) != std::string::npos);
  r.weighted = false;
  CHECK(format_explain_table(r).find(note) == std::string::npos);
}
