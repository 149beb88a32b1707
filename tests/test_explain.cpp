// explain (issue 10): the estimators against closed forms and hand-computed
// answers, input importance of a linear scenario (first-order indices
// b^2 sd^2 / sum b^2 sd^2), project criticality of a project that decides a
// target alone, paired against unpaired standard errors, bit-identical
// counterfactuals for any thread count, and the errors for bad input.
#include <fmt/format.h>
#include <hdf5.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../src/report_explain.hpp"
#include "countysim/engine.hpp"
#include "countysim/errors.hpp"
#include "countysim/explain.hpp"
#include "countysim/h5.hpp"
#include "countysim/plan.hpp"
#include "countysim/scenario.hpp"
#include "temp_dir.hpp"

using namespace countysim;
namespace fs = std::filesystem;

namespace {

struct TempDir : testing::TempDir {
  TempDir() : testing::TempDir("countysim-explain") {}
};

std::string fixture(const std::string& name) {
  return std::string(COUNTYSIM_TEST_DATA) + "/explain/" + name;
}

std::string run_fixture(const std::string& name, const std::string& out, int threads = 2) {
  const Scenario sc = load_scenario(fixture(name));
  const Plan plan = compile_plan(sc);
  RunOptions opt;
  opt.threads = threads;
  opt.output = out;
  run_to_file(plan, opt);
  return out;
}

const InputImportance& key(const TargetImportance& t, const std::string& k) {
  for (const auto& i : t.keys)
    if (i.key == k) return i;
  FAIL("no input " << k);
  return t.keys.front();
}

// Synthetic Y = 2 X1 + X2 with X3 irrelevant, all standard normal.
struct Linear {
  std::vector<std::vector<double>> x;
  std::vector<double> y;
};
Linear linear_sample(std::size_t n, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> z;
  Linear s;
  s.x.assign(3, std::vector<double>(n));
  s.y.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (auto& c : s.x) c[i] = z(gen);
    s.y[i] = 2 * s.x[0][i] + s.x[1][i];
  }
  return s;
}

}  // namespace

TEST_CASE("weighted ranks give Spearman's rho with ties, by hand", "[explain]") {
  const std::vector<double> x{1, 2, 3, 4, 5}, y{5, 6, 7, 8, 7};
  // Average ranks: x 1..5, y 1 2 3.5 5 3.5; cov 8, var 10 and 9.5.
  const double rho = weighted_correlation(weighted_ranks(x, {}), weighted_ranks(y, {}), {});
  CHECK(rho == Approx(8 / std::sqrt(95.0)).epsilon(1e-12));
  CHECK(weighted_ranks(y, {}) == std::vector<double>{0.1, 0.3, 0.6, 0.9, 0.6});
}

TEST_CASE("integer weights equal duplicated draws for ranks and correlation", "[explain]") {
  const std::vector<double> x{0.3, 1.2, -0.5, 2.0, 0.7}, y{1.0, 0.2, -1.0, 3.0, 0.0};
  const std::vector<double> w{1, 3, 1, 2, 1};
  std::vector<double> xd, yd;
  for (std::size_t i = 0; i < x.size(); ++i)
    for (int k = 0; k < w[i]; ++k) {
      xd.push_back(x[i]);
      yd.push_back(y[i]);
    }
  const double weighted = weighted_correlation(weighted_ranks(x, w), weighted_ranks(y, w), w);
  const double duplicated =
      weighted_correlation(weighted_ranks(xd, {}), weighted_ranks(yd, {}), {});
  CHECK(weighted == Approx(duplicated).epsilon(1e-12));
  CHECK(weighted != Approx(weighted_correlation(weighted_ranks(x, {}), weighted_ranks(y, {}), {})));
}

TEST_CASE("KS distance of small samples, by hand", "[explain]") {
  CHECK(ks_distance({1, 2, 3, 4}, {1, 1, 0, 0}, {}) == 1.0);
  CHECK(ks_distance({1, 2, 3, 4}, {1, 0, 1, 0}, {}) == 0.5);
  CHECK(ks_distance({1, 1, 2, 2}, {1, 0, 1, 0}, {}) == 0.0);  // ties move together
  CHECK(ks_distance({1, 2, 3}, {1, 1, 1}, {}) == 0.0);        // no not-met draws
}

TEST_CASE("first-order indices of Y = 2 X1 + X2 are 4/5, 1/5 and 0 within 4 SE", "[explain]") {
  const std::size_t n = 20000;
  const Linear s = linear_sample(n, 17);
  const int bins = default_bins(n);
  const double truth[3] = {0.8, 0.2, 0.0};
  for (int k = 0; k < 3; ++k) {
    const auto bin = rank_bins(weighted_ranks(s.x[k], {}), bins);
    const FirstOrder f = first_order_index(bin, bins, s.y, {});
    INFO("input " << k << ": S = " << f.index << " +- " << f.std_error);
    CHECK(f.std_error > 0);
    CHECK(f.std_error < 0.02);
    CHECK(std::abs(f.index - truth[k]) < 4 * f.std_error);
  }
}

TEST_CASE("the batch standard error matches the spread of the index over samples", "[explain]") {
  // 40 independent samples of 4000 draws: the sd of S over them against the
  // mean reported SE. The ratio's own noise (40 samples, 20 batches) is about
  // 15%, so 0.6 .. 1.6 cannot fail by chance but catches a wrong formula.
  const std::size_t n = 4000;
  const int bins = default_bins(n), reps = 40;
  double m = 0, m2 = 0, se = 0;
  for (int r = 0; r < reps; ++r) {
    const Linear s = linear_sample(n, 1000 + r);
    const FirstOrder f =
        first_order_index(rank_bins(weighted_ranks(s.x[1], {}), bins), bins, s.y, {});
    const double d = f.index - m;
    m += d / (r + 1);
    m2 += d * (f.index - m);
    se += f.std_error / reps;
  }
  const double sd = std::sqrt(m2 / (reps - 1));
  INFO("sd over samples " << sd << ", mean SE " << se << ", mean S " << m);
  CHECK(se / sd > 0.6);
  CHECK(se / sd < 1.6);
  CHECK(std::abs(m - 0.2) < 4 * sd / std::sqrt(reps));  // bias-corrected: unbiased within noise
}

TEST_CASE("explain: a linear one-year scenario gives b^2 sd^2 / sum b^2 sd^2", "[explain]") {
  TempDir dir;
  const std::string out = run_fixture("linear.yaml", dir.file("linear.h5"));
  ExplainOptions opt;
  opt.results = out;
  opt.counterfactuals = false;
  const ExplainResult r = explain(opt);
  REQUIRE(r.targets.size() == 1);
  const TargetImportance& t = r.targets[0];
  const double truth[3] = {16.0 / 29, 9.0 / 29, 4.0 / 29};
  const char* keys[3] = {"clusters.a.growth@2022", "clusters.b.growth@2022",
                         "clusters.c.growth@2022"};
  double contrib = 0;
  for (int k = 0; k < 3; ++k) {
    const InputImportance& i = key(t, keys[k]);
    INFO(keys[k] << ": S = " << i.value.first_order.index << " +- "
                 << i.value.first_order.std_error);
    CHECK(std::abs(i.value.first_order.index - truth[k]) < 4 * i.value.first_order.std_error);
    CHECK(i.value.spearman > 0);
    contrib += i.value.contribution;
  }
  for (const char* irrelevant : {"clusters.a.value_added_ratio", "macro.rest_growth@2022"}) {
    const InputImportance& i = key(t, irrelevant);
    INFO(irrelevant << ": S = " << i.value.first_order.index << " +- "
                    << i.value.first_order.std_error);
    CHECK(std::abs(i.value.first_order.index) < 4 * i.value.first_order.std_error);
    CHECK(std::abs(i.met.first_order.index) < 4 * i.met.first_order.std_error);
  }
  // Contributions to variance add up to 1 over all keys; the three growths hold nearly all.
  CHECK(contrib > 0.99);
  // Monte-Carlo filtering: high growth of a meets the target far more often.
  const InputImportance& a = key(t, keys[0]);
  CHECK(a.p_met_high > a.p_met_low + 10 * (a.p_met_high_se + a.p_met_low_se));
  CHECK(a.ks > 0.3);
}

TEST_CASE("explain: a project that decides a target alone shows the full swing", "[explain]") {
  TempDir dir;
  const std::string out = run_fixture("projects.yaml", dir.file("projects.h5"));
  ExplainOptions opt;
  opt.results = out;
  opt.draws = 4000;
  opt.threads = 2;
  const ExplainResult r = explain(opt);
  REQUIRE(r.targets.size() == 2);
  REQUIRE(r.projects.size() == 3);
  const ProjectCriticality& big = r.projects[0];
  const ProjectCriticality& mid = r.projects[1];
  const ProjectCriticality& tiny = r.projects[2];
  REQUIRE(big.project == "big");
  const double p = r.base_probability[0];
  CHECK(std::abs(p - 0.5) < 4 * std::sqrt(0.25 / 4000));
  // a-130: big fails -> 0, on time -> 1, 12 months late (after the horizon) -> 0.
  CHECK(big.fail[0].probability == 0.0);
  CHECK(big.on_time[0].probability == 1.0);
  CHECK(big.late[0].probability == 0.0);
  CHECK(big.fail[0].difference == Approx(-p));
  CHECK(big.on_time[0].difference == Approx(1 - p));
  // tiny cannot move it: exactly no change.
  for (const auto* c : {&tiny.fail[0], &tiny.on_time[0], &tiny.late[0]}) {
    CHECK(c->difference == 0.0);
    CHECK(c->std_error == 0.0);
  }
  // total-210: mid on time raises it by about a tenth; paired SE far below unpaired.
  const Counterfactual& m = mid.on_time[1];
  INFO("mid on time: " << m.difference << " +- " << m.std_error << " (unpaired "
                       << m.unpaired_std_error << ")");
  CHECK(m.difference > 4 * m.std_error);
  CHECK(m.std_error < 0.6 * m.unpaired_std_error);
  // The importance side sees big's success as the decisive input of a-130.
  const InputImportance& s = key(r.targets[0], "projects.big.success");
  CHECK(s.met.first_order.index > 0.9);
  CHECK(s.p_met_low == 0.0);  // the lowest tenth of a 0/1 input: every failing draw
  CHECK(s.p_met_high == 1.0);
  CHECK(s.ks == Approx(1.0));
}

TEST_CASE("counterfactuals are bit-identical for 1, 2 and 3 threads", "[explain]") {
  const Scenario sc = load_scenario(fixture("projects.yaml"));
  const Plan plan = compile_plan(sc);
  const TargetFlags f1 = target_flags(plan, 5, 3000, 1);
  const TargetFlags f2 = target_flags(plan, 5, 3000, 2);
  const TargetFlags f3 = target_flags(plan, 5, 3000, 3);
  CHECK(f1.met == f2.met);
  CHECK(f1.met == f3.met);
  CHECK(f1.all_met == f3.all_met);
  // The same counts as count_targets.
  const TargetCounts c = count_targets(plan, 5, 3000, 2);
  for (std::size_t k = 0; k < f1.targets; ++k) {
    std::uint64_t met = 0;
    for (std::uint64_t d = 0; d < f1.draws; ++d) met += f1.met[d * f1.targets + k];
    CHECK(met == c.met[k]);
  }

  TempDir dir;
  const std::string out = run_fixture("projects.yaml", dir.file("p.h5"));
  ExplainOptions opt;
  opt.results = out;
  opt.draws = 2000;
  std::vector<ExplainResult> rs;
  for (int t : {1, 2, 3}) {
    opt.threads = t;
    rs.push_back(explain(opt));
  }
  for (std::size_t i = 1; i < rs.size(); ++i) {
    CHECK(explain_projects_csv(rs[i], csv_plain) == explain_projects_csv(rs[0], csv_plain));
    CHECK(explain_levers_csv(rs[i], csv_plain) == explain_levers_csv(rs[0], csv_plain));
    CHECK(explain_inputs_csv(rs[i], csv_plain) == explain_inputs_csv(rs[0], csv_plain));
  }
}

TEST_CASE("explain: a land lever moves the odds through paired runs", "[explain]") {
  TempDir dir;
  const std::string out = run_fixture("projects.yaml", dir.file("p.h5"));
  ExplainOptions opt;
  opt.results = out;
  opt.draws = 2000;
  const ExplainResult r = explain(opt);
  // Land is plentiful and loans unused: no lever moves a target.
  bool saw_land = false;
  for (const auto& l : r.levers) {
    if (l.path == "land.initial_stock_mu") {
      saw_land = true;
      CHECK(l.evaluated);
      CHECK(l.step == Approx(100.0));
      CHECK(l.change[0].difference == 0.0);
    }
  }
  CHECK(saw_land);
  const std::string table = format_explain_table(r);
  CHECK(table.find("big 大项目") != std::string::npos);

  // explain.h5: labelled axes, schema, values as in the result.
  const std::string h5path = dir.file("explain.h5");
  write_explain_h5(r, h5path, false);
  CHECK_THROWS_AS(write_explain_h5(r, h5path, false), UsageError);  // no clobbering
  const h5::Handle f = h5::open_file(h5path);
  CHECK(h5::read_attribute_string(f, "schema") == "countysim-explain/1");
  std::vector<std::size_t> shape;
  const auto prob = h5::read_dataset<double>(f, "project_probability", &shape);
  CHECK(shape == std::vector<std::size_t>{2, 3, 3});
  CHECK(prob[0 * 9 + 0 * 3 + 1] == r.projects[0].on_time[0].probability);
  const h5::Handle d = h5::open_dataset(f, "first_order");
  CHECK(h5::dimension_names(d) == std::vector<std::string>{"target", "input", "output"});
  CHECK(h5::read_dataset<std::string>(f, "case") ==
        std::vector<std::string>{"fail", "on_time", "late_12_months"});

  // Read back: the same tables (levers are not stored per case, so not compared).
  ExplainResult back = read_explain_h5(h5path);
  CHECK(explain_inputs_csv(back, csv_plain) == explain_inputs_csv(r, csv_plain));
  CHECK(explain_projects_csv(back, csv_plain) == explain_projects_csv(r, csv_plain));
  CHECK_THROWS_WITH(read_explain_h5(out),
                    out + ": not an explain file (schema 'countysim-explain/1' expected)");

  // Charts: a tornado and a project chart per target, in both languages.
  ReportOptions no_png;
  no_png.png = false;
  for (Lang lang : {Lang::zh, Lang::en}) {
    const std::string charts_dir = dir.file(lang == Lang::zh ? "zh" : "en");
    const auto files = write_explain_charts(r, charts_dir, lang, no_png);
    CHECK(files == std::vector<std::string>{
                       "explain-tornado-a-130.svg", "explain-projects-a-130.svg",
                       "explain-tornado-total-210.svg", "explain-projects-total-210.svg"});
    std::ifstream in(charts_dir + "/explain-projects-a-130.svg");
    std::stringstream ss;
    ss << in.rdbuf();
    CHECK(ss.str().find("大项目") != std::string::npos);
    CHECK(ss.str().find(lang == Lang::zh ? "重点项目" : "Projects and") != std::string::npos);
  }
  // The report finds the explain file beside the results.
  CHECK(explain_file_beside(out) == h5path);
  CHECK(explain_file_beside(dir.file("elsewhere/p.h5")) == "");
}

TEST_CASE("a lever that cannot grow by 10% is stepped down by 10%", "[explain]") {
  TempDir dir;
  std::ifstream in(fixture("projects.yaml"));
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  const std::string from = "manufacturing_loan_share: 0.2";
  REQUIRE(yaml.find(from) != std::string::npos);
  yaml.replace(yaml.find(from), from.size(),
               "manufacturing_loan_share: {dist: beta, alpha: 15, beta: 85}");
  const std::string path = dir.file("beta.yaml");
  std::ofstream(path) << yaml;
  const Scenario sc = load_scenario(path);
  const Plan plan = compile_plan(sc);
  RunOptions ro;
  ro.draws = 1000;
  ro.output = dir.file("beta.h5");
  run_to_file(plan, ro);
  ExplainOptions opt;
  opt.results = ro.output;
  opt.draws = 1000;
  const ExplainResult r = explain(opt);
  const auto l = std::find_if(r.levers.begin(), r.levers.end(), [](const LeverEffect& x) {
    return x.path == "finance.manufacturing_loan_share";
  });
  REQUIRE(l != r.levers.end());
  CHECK(l->evaluated);
  CHECK(l->skipped.empty());
  CHECK(l->mean_value == Approx(0.15));
  CHECK(l->step == Approx(-0.015));
}

TEST_CASE("explain refuses bad input with clear messages", "[explain]") {
  TempDir dir;
  const std::string out = run_fixture("linear.yaml", dir.file("linear.h5"));
  ExplainOptions opt;
  opt.results = out;
  opt.counterfactuals = false;

  SECTION("an unknown target id") {
    opt.targets = {"output-18"};
    CHECK_THROWS_AS(explain(opt), UsageError);
    CHECK_THROWS_WITH(explain(opt), fmt::format("--target 'output-18': {} has no such target; "
                                                "its targets are: output-180",
                                                out));
  }
  SECTION("a file without inputs") {
    const std::string bare = dir.file("bare.h5");
    fs::copy_file(out, bare);
    {
      const hid_t f = H5Fopen(bare.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
      REQUIRE(f >= 0);
      REQUIRE(H5Ldelete(f, "/inputs", H5P_DEFAULT) >= 0);
      H5Fclose(f);
    }
    opt.results = bare;
    CHECK_THROWS_AS(explain(opt), InputError);
    CHECK_THROWS_WITH(explain(opt),
                      bare +
                          ": the file has no sampled inputs (/inputs); explain needs them: "
                          "rerun the scenario with countysim run");
  }
  SECTION("a sweep file") {
    const std::string sweep = dir.file("sweep.h5");
    {
      h5::Handle f = h5::create_file(sweep);
      h5::write_attribute(f.get(), "schema", "countysim-sweep/1");
    }
    opt.results = sweep;
    CHECK_THROWS_AS(explain(opt), InputError);
    CHECK_THROWS_WITH(explain(opt), sweep +
                                        ": this is a sweep file (schema countysim-sweep/1); "
                                        "explain needs the results file of a run (countysim run "
                                        "SCENARIO -o OUT.h5)");
  }
  SECTION("no counterfactual draws") {
    opt.draws = 0;
    CHECK_THROWS_WITH(explain(opt), "--draws must be at least 1");
  }
}

TEST_CASE("explain weights the draws of a conditioned run by /draws/log_weight", "[explain]") {
  TempDir dir;
  const std::string out = run_fixture("linear.yaml", dir.file("w.h5"));
  // Not-met draws count three times: P = m / (m + 3 (n - m)) exactly.
  std::vector<double> lw;
  std::uint64_t met = 0, n = 0;
  {
    const h5::Handle f = h5::open_file(out);
    const auto flags = h5::read_dataset<std::uint8_t>(f, "draws/target_met");
    for (auto m : flags) {
      lw.push_back(m ? 0.0 : std::log(3.0));
      met += m;
      ++n;
    }
  }
  ExplainOptions opt;
  opt.results = out;
  opt.counterfactuals = false;
  const ExplainResult plain = explain(opt);
  CHECK_FALSE(plain.weighted);
  CHECK(plain.targets[0].probability == Approx(static_cast<double>(met) / n).epsilon(1e-12));
  {
    const hid_t f = H5Fopen(out.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(f >= 0);
    const hid_t g = H5Gopen2(f, "draws", H5P_DEFAULT);
    h5::write_dataset(g, "log_weight", lw);
    H5Gclose(g);
    H5Fclose(f);
  }
  const ExplainResult r = explain(opt);
  CHECK(r.weighted);
  const double p = static_cast<double>(met) / (met + 3.0 * (n - met));
  CHECK(r.targets[0].probability == Approx(p).epsilon(1e-12));
  // Weighting the not-met draws does not change which growth matters most.
  const InputImportance& a = key(r.targets[0], "clusters.a.growth@2022");
  CHECK(a.value.first_order.index >
        key(r.targets[0], "clusters.b.growth@2022").value.first_order.index);
  CHECK(std::abs(a.value.spearman -
                 key(plain.targets[0], "clusters.a.growth@2022").value.spearman) > 1e-6);
  CHECK(format_explain_table(r).find("weighted by /draws/log_weight") != std::string::npos);
}

TEST_CASE("explain stops when cancelled", "[explain]") {
  TempDir dir;
  const std::string out = run_fixture("projects.yaml", dir.file("c.h5"));
  CancelToken token;
  token.cancel();
  ExplainOptions opt;
  opt.results = out;
  opt.cancel = &token;
  CHECK_THROWS_AS(explain(opt), Interrupted);
  const Scenario sc = load_scenario(fixture("projects.yaml"));
  const Plan plan = compile_plan(sc);
  CHECK_THROWS_AS(target_flags(plan, 1, 5000, 2, &token), Interrupted);
}
