// What-if verbs: compare (paired and unpaired standard errors, a known
// difference), sweep (grid points equal single runs bit for bit, file layout,
// the report of a sweep file), solve (a lever whose answer is known in closed
// form) and stopping both through a cancel token.
#include <fmt/format.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "countysim/engine.hpp"
#include "countysim/errors.hpp"
#include "countysim/h5.hpp"
#include "countysim/plan.hpp"
#include "countysim/report.hpp"
#include "countysim/whatif.hpp"
#include "scenario_fixtures.hpp"
#include "temp_dir.hpp"

using namespace countysim;
namespace fs = std::filesystem;

namespace {

struct TempDir : testing::TempDir {
  TempDir() : testing::TempDir("countysim-whatif") {}
};

// The fixture scenario with one project that succeeds with probability `p`
// and, when it does, surely starts in 2022 (land 300 mu at hand, no credit
// needed): P(projects_started >= 1 in 2024) = p exactly.
std::string one_project(double p, const std::string& extra_targets = "") {
  std::string t = testing::edit(testing::kBase, "    investment: 5\n",
                                fmt::format("    investment: 5\n    success_probability: {}\n", p));
  return t + "  - {id: started, label: 开工, metric: projects_started, year: 2024, at_least: 1}\n" +
         extra_targets;
}

std::string write(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.file(name);
  std::ofstream(path) << text;
  return path;
}

std::string run(const std::string& scenario_path, const std::string& out, std::uint64_t seed,
                std::uint64_t draws) {
  const Scenario sc = load_scenario(scenario_path);
  const Plan plan = compile_plan(sc);
  RunOptions opt;
  opt.draws = draws;
  opt.seed = seed;
  opt.seed_given = true;
  opt.threads = 2;
  opt.output = out;
  run_to_file(plan, opt);
  return out;
}

const CompareRow& row(const Comparison& c, const std::string& id) {
  for (const auto& r : c.rows)
    if (r.id == id) return r;
  FAIL("no row " << id);
  return c.rows.front();
}

}  // namespace

TEST_CASE("compare pairs draws when seed and draws agree", "[whatif]") {
  TempDir dir;
  const std::uint64_t n = 4000;
  const auto a = run(write(dir, "a.yaml", one_project(0.3)), dir.file("a.h5"), 11, n);
  const auto b = run(write(dir, "b.yaml", one_project(0.6)), dir.file("b.h5"), 11, n);
  const Comparison c = compare_results(a, b);
  REQUIRE(c.paired);
  REQUIRE(c.all_met_paired);
  const CompareRow& r = row(c, "started");
  // Same uniform behind the success draw: the difference is 1 exactly when
  // 0.3 <= u < 0.6, so diff ~ 0.3 with SE sqrt(0.3 * 0.7 / n).
  const double se_truth = std::sqrt(0.3 * 0.7 / n);
  CHECK(std::abs(r.diff - 0.3) < 4 * se_truth);
  CHECK(r.diff == Approx(r.p_alt - r.p_base).margin(1e-12));
  CHECK(std::abs(r.std_error - se_truth) < 0.1 * se_truth);
  // Unpaired: sqrt(0.3 * 0.7 / n + 0.6 * 0.4 / n), up to the estimates' noise.
  const double unpaired_truth = std::sqrt(0.45 / n);
  CHECK(std::abs(r.unpaired_std_error - unpaired_truth) < 0.03 * unpaired_truth);
  CHECK(r.std_error < 0.8 * r.unpaired_std_error);
  // The project only adds output, so with shared draws no quantile falls.
  bool seen = false;
  for (const auto& s : c.shifts)
    if (s.metric == "industrial_output") {
      seen = true;
      for (int k = 0; k < 3; ++k) CHECK(s.alt[k] >= s.base[k]);
    }
  CHECK(seen);
  const std::string table = format_comparison(c);
  CHECK(table.find("common random numbers") != std::string::npos);
  const std::string csv = format_comparison_csv(c);
  CHECK(csv.rfind("target,label,p_base,p_alt,difference,std_error,unpaired_std_error,paired\n",
                  0) == 0);
  CHECK(csv.find("\nstarted,开工,") != std::string::npos);
  // Numbers as shortest round-trip text, the paired flag as 1.
  CHECK(csv.find(fmt::format("\nstarted,开工,{},{},{},{},{},1\n", r.p_base, r.p_alt, r.diff,
                             r.std_error, r.unpaired_std_error)) != std::string::npos);
}

TEST_CASE("compare is unpaired when the seeds differ", "[whatif]") {
  TempDir dir;
  const auto a = run(write(dir, "a.yaml", one_project(0.3)), dir.file("a.h5"), 11, 2000);
  const auto b = run(write(dir, "b.yaml", one_project(0.6)), dir.file("b.h5"), 12, 3000);
  const Comparison c = compare_results(a, b);
  CHECK_FALSE(c.paired);
  CHECK(c.unpaired_reason.find("seeds differ") != std::string::npos);
  const CompareRow& r = row(c, "started");
  CHECK(r.std_error == r.unpaired_std_error);
  CHECK(r.diff == r.p_alt - r.p_base);
  CHECK(std::abs(r.diff - 0.3) < 4 * r.std_error);
  CHECK(format_comparison(c).find("Unpaired") != std::string::npos);
}

TEST_CASE("compare gives a known difference exactly and lists unmatched targets", "[whatif]") {
  TempDir dir;
  const std::string always =
      "  - {id: sure, label: 必然, metric: industrial_output, year: 2024, at_least: 0}\n";
  const std::string never =
      "  - {id: sure, label: 必然, metric: industrial_output, year: 2024, at_least: 1.0e9}\n"
      "  - {id: extra, label: 额外, metric: gdp, year: 2024, at_least: 0}\n";
  const auto a = run(write(dir, "a.yaml", one_project(0.5, always)), dir.file("a.h5"), 3, 1500);
  const auto b = run(write(dir, "b.yaml", one_project(0.5, never)), dir.file("b.h5"), 3, 1500);
  const Comparison c = compare_results(a, b);
  REQUIRE(c.paired);
  const CompareRow& r = row(c, "sure");
  CHECK(r.p_base == 1.0);
  CHECK(r.p_alt == 0.0);
  CHECK(r.diff == -1.0);
  CHECK(r.std_error == 0.0);
  // Identical scenarios otherwise: the shared target does not move at all.
  CHECK(row(c, "started").diff == 0.0);
  CHECK(row(c, "started").std_error == 0.0);
  REQUIRE(c.only_alt.size() == 1);
  CHECK(c.only_alt[0] == "extra");
  CHECK(c.only_base.empty());
  CHECK_FALSE(c.all_met_paired);  // different target sets
}

TEST_CASE("parse_vary reads lists and ranges", "[whatif]") {
  const SweepAxis a = parse_vary("land.supply_mu=300,500,700");
  CHECK(a.path == "land.supply_mu");
  CHECK(a.values == std::vector<double>{300, 500, 700});
  const SweepAxis b = parse_vary("finance.manufacturing_loan_share=0.1:0.3:0.05");
  CHECK(b.values == std::vector<double>{0.1, 0.15, 0.2, 0.25, 0.3});
  CHECK(lever_override("x.y", 0.2) == "x.y=0.2");
  CHECK_THROWS_AS(parse_vary("land.supply_mu"), UsageError);
  CHECK_THROWS_WITH(parse_vary("land.supply_mu"),
                    "--vary 'land.supply_mu': expected PATH=v1,v2,... or PATH=LO:HI:STEP, e.g. "
                    "land.supply_mu=300:900:150");
  CHECK_THROWS_WITH(parse_vary("land.supply_mu=1,two"),
                    "--vary land.supply_mu=1,two: 'two' is not a number; values are numbers, e.g. "
                    "0.1,0.2");
  CHECK_THROWS_WITH(parse_vary("land.supply_mu=5:1:1"),
                    "--vary 'land.supply_mu=5:1:1': need LO <= HI and STEP > 0");
  CHECK_THROWS_WITH(parse_vary("x=1:2"),
                    "--vary 'x=1:2': a range is LO:HI:STEP, e.g. 0.1:0.3:0.05");
  CHECK_THROWS_AS(parse_range("0.4:0.1"), UsageError);
  CHECK_THROWS_WITH(parse_range("0.4:0.1"), "--range '0.4:0.1': LO must be below HI");
  CHECK_THROWS_WITH(parse_range("0.4"), "--range '0.4': expected LO:HI, e.g. 0.1:0.4");
  CHECK(parse_range("0.1:0.4") == std::pair<double, double>(0.1, 0.4));
}

TEST_CASE("sweep points equal single runs bit for bit and the file is labelled", "[whatif]") {
  TempDir dir;
  const std::string path = write(dir, "s.yaml", one_project(0.5));
  std::vector<SweepAxis> axes = {parse_vary("projects.dyeing.success_probability=0.3,0.6"),
                                 parse_vary("land.supply_mu=20,200")};
  WhatIfOptions opt;
  opt.draws = 3000;
  opt.seed = 5;
  opt.seed_given = true;
  opt.threads = 2;
  const SweepResult r = run_sweep(path, axes, opt);
  REQUIRE(r.points() == 4);
  const std::size_t nt = r.target_ids.size();
  REQUIRE(nt == 2);
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 2; ++j) {
      const Scenario sc = load_scenario(path, {lever_override(axes[0].path, axes[0].values[i]),
                                               lever_override(axes[1].path, axes[1].values[j])});
      const Plan plan = compile_plan(sc);
      const TargetCounts tc = count_targets(plan, 5, 3000, 1);
      const TargetTable t = make_target_table(sc, tc);
      const std::size_t p = i * 2 + j;
      for (std::size_t k = 0; k < nt; ++k) {
        CHECK(r.probability[p * nt + k] == t.rows[k].probability);
        CHECK(r.std_error[p * nt + k] == t.rows[k].std_error);
      }
      CHECK(r.all_met[p] == t.all_met_probability);
    }
  // The lever acts: started is ~0.3 at the first value and ~0.6 at the second.
  const std::size_t started = 1;
  CHECK(std::abs(r.probability[0 * nt + started] - 0.3) < 4 * std::sqrt(0.21 / 3000));
  CHECK(std::abs(r.probability[2 * nt + started] - 0.6) < 4 * std::sqrt(0.24 / 3000));

  const std::string out = dir.file("sweep.h5");
  write_sweep(r, out, false, "countysim sweep test");
  CHECK_THROWS_AS(write_sweep(r, out, false, ""), UsageError);
  CHECK_THROWS_WITH(write_sweep(r, out, false, ""),
                    out +
                        " already exists; choose another name with -o, or pass --force to "
                        "replace it");
  write_sweep(r, out, true, "countysim sweep test");
  h5::Handle f = h5::open_file(out);
  CHECK(h5::read_attribute_string(f, "schema") == "countysim-sweep/1");
  CHECK(h5::read_attribute<std::uint64_t>(f, "seed") == 5);
  CHECK(h5::read_attribute<std::uint64_t>(f, "draws") == 3000);
  h5::Handle prob = h5::open_dataset(f, "probability");
  CHECK(h5::dimension_names(prob) == std::vector<std::string>{"vary_0", "vary_1", "target"});
  CHECK(h5::dataset_shape(prob) == std::vector<std::size_t>{2, 2, 2});
  CHECK(h5::read_dataset<double>(f, "probability") == r.probability);
  h5::Handle all = h5::open_dataset(f, "all_met_probability");
  CHECK(h5::dimension_names(all) == std::vector<std::string>{"vary_0", "vary_1"});
  h5::Handle v1 = h5::open_dataset(f, "vary_1");
  CHECK(h5::read_attribute_string(v1, "path") == "land.supply_mu");
  CHECK(h5::read_dataset<double>(f, "vary_1") == std::vector<double>{20, 200});
  CHECK(h5::read_dataset<std::string>(f, "target") ==
        std::vector<std::string>{"output-100", "started"});
}

TEST_CASE("sweep files read back and draw as a line chart or heat maps", "[whatif]") {
  TempDir dir;
  const std::string path = write(dir, "s.yaml", one_project(0.5));
  WhatIfOptions opt;
  opt.draws = 500;
  const SweepResult one =
      run_sweep(path, {parse_vary("projects.dyeing.success_probability=0.2:0.8:0.2")}, opt);
  const std::string f1 = dir.file("one.h5");
  write_sweep(one, f1, false, "");
  CHECK(is_sweep_file(f1));
  const SweepResult back = read_sweep(f1);
  CHECK(back.axes.size() == 1);
  CHECK(back.axes[0].values == one.axes[0].values);
  CHECK(back.axes[0].path == one.axes[0].path);
  CHECK(back.probability == one.probability);
  CHECK(back.target_labels == one.target_labels);
  const std::string lines = sweep_line_chart(back, true);
  std::size_t polylines = 0;
  for (std::size_t at = lines.find("<polyline"); at != std::string::npos;
       at = lines.find("<polyline", at + 1))
    ++polylines;
  CHECK(polylines == back.target_ids.size());
  auto files = write_sweep_report(f1, dir.file("one-report"), "zh");
  CHECK(files == std::vector<std::string>{"sweep-lines.svg", "sweep-lines.png", "index.html"});
  {
    // A 16:9 slide at 1600x900 (the PNG header's IHDR width and height).
    std::ifstream png(dir.file("one-report/sweep-lines.png"), std::ios::binary);
    unsigned char head[24] = {};
    png.read(reinterpret_cast<char*>(head), 24);
    const auto be32 = [&](int at) {
      return (head[at] << 24) | (head[at + 1] << 16) | (head[at + 2] << 8) | head[at + 3];
    };
    CHECK(be32(16) == 1600);
    CHECK(be32(20) == 900);
  }
  ReportOptions svg_only;
  svg_only.png = false;

  const SweepResult two = run_sweep(path,
                                    {parse_vary("projects.dyeing.success_probability=0.2,0.8"),
                                     parse_vary("land.supply_mu=20,100,200")},
                                    opt);
  const std::string f2 = dir.file("two.h5");
  write_sweep(two, f2, false, "");
  const std::string heat = sweep_heat_map(read_sweep(f2), 1, false);
  std::size_t cells = 0;
  for (std::size_t at = heat.find("<rect"); at != std::string::npos;
       at = heat.find("<rect", at + 1))
    ++cells;
  CHECK(cells == 1 + 2 * 3);  // the background and one cell per grid point
  files = write_sweep_report(f2, dir.file("two-report"), "en", svg_only);
  CHECK(files.size() == two.target_ids.size() + 1);
  CHECK(fs::exists(dir.file("two-report/sweep-heat-started.svg")));

  const std::string results = run(path, dir.file("r.h5"), 1, 100);
  CHECK_FALSE(is_sweep_file(results));
  CHECK_FALSE(is_sweep_file(path));
  CHECK_THROWS_WITH(read_sweep(results),
                    results +
                        ": not a countysim sweep file (schema countysim-sweep/1); write one "
                        "with countysim sweep");
  try {
    read_sweep(results);
  } catch (const InputError& e) {
    CHECK(e.kind() == InputKind::sweep);
  }
}

TEST_CASE("sweep rejects an unknown path with a --set position", "[whatif]") {
  TempDir dir;
  const std::string path = write(dir, "s.yaml", one_project(0.5));
  WhatIfOptions opt;
  opt.draws = 100;
  CHECK_THROWS_AS(run_sweep(path, {parse_vary("land.suply_mu=1,2")}, opt), InputError);
  CHECK_THROWS_AS(run_sweep(path, {}, opt), UsageError);
  CHECK_THROWS_WITH(run_sweep(path, {}, opt), "sweep needs at least one --vary PATH=VALUES");
  const SweepAxis a = parse_vary("land.supply_mu=1,2");
  CHECK_THROWS_WITH(run_sweep(path, {a, a}, opt), "--vary land.supply_mu is given twice");
  CHECK_THROWS_WITH(run_sweep(path, {a, parse_vary("x=1"), parse_vary("y=1")}, opt),
                    "sweep varies at most two paths (--vary given 3 or more times)");
}

TEST_CASE("sweep and solve stop when their cancel token is set", "[whatif]") {
  TempDir dir;
  const std::string path = write(dir, "s.yaml", one_project(0.5));
  CancelToken token;
  token.cancel();
  WhatIfOptions opt;
  opt.draws = 100;
  opt.cancel = &token;
  CHECK_THROWS_AS(run_sweep(path, {parse_vary("land.supply_mu=20,200")}, opt), Interrupted);
  SolveOptions so;
  so.target = "started";
  so.path = "projects.dyeing.success_probability";
  so.lo = 0.1;
  so.hi = 0.9;
  CHECK_THROWS_AS(solve_lever(path, so, opt), Interrupted);
  token.reset();
  CHECK(run_sweep(path, {parse_vary("land.supply_mu=20,200")}, opt).points() == 2);
}

TEST_CASE("solve finds a success probability with a known answer", "[whatif]") {
  TempDir dir;
  const std::string path = write(dir, "s.yaml", one_project(0.5));
  WhatIfOptions opt;
  opt.draws = 2000;
  opt.seed = 9;
  opt.seed_given = true;
  SolveOptions so;
  so.target = "started";
  so.probability = 0.8;
  so.path = "projects.dyeing.success_probability";
  so.lo = 0.5;
  so.hi = 0.99;
  const SolveResult r = solve_lever(path, so, opt);
  REQUIRE(r.outcome == SolveResult::Outcome::found);
  CHECK(r.increasing);
  CHECK(r.warnings.empty());
  // P(started) = success_probability: the answer is 0.8.
  CHECK(std::abs(r.value - 0.8) < 4 * r.std_error);
  CHECK(r.interval_lo <= r.value);
  CHECK(r.value <= r.interval_hi);
  CHECK(r.interval_hi - r.interval_lo < 8 * r.std_error);
  // 0.8 is inside the interval exactly when its own estimate is within 2 SE.
  const Scenario sc = load_scenario(path, {lever_override(so.path, 0.8)});
  const Plan plan = compile_plan(sc);
  const double p08 = static_cast<double>(count_targets(plan, 9, 2000, 0).met[1]) / 2000;
  const bool inside = r.interval_lo <= 0.8 && 0.8 <= r.interval_hi;
  CHECK(inside == (std::abs(p08 - 0.8) <= 2 * r.std_error));
  CHECK(format_solve(r).find("Monte-Carlo interval") != std::string::npos);

  so.lo = 0.1;
  so.hi = 0.5;
  const SolveResult none = solve_lever(path, so, opt);
  CHECK(none.outcome == SolveResult::Outcome::none);
  CHECK(format_solve(none).find("no value in [0.1, 0.5] reaches P >= 0.8") != std::string::npos);

  so.target = "nope";
  CHECK_THROWS_AS(solve_lever(path, so, opt), UsageError);
  CHECK_THROWS_WITH(solve_lever(path, so, opt),
                    "--target nope: the scenario has no such target; its targets are output-100, "
                    "started");
}

TEST_CASE("compare of conditioned runs: whole text of the table and CSV", "[whatif]") {
  Comparison c;
  c.base_path = "base.h5";
  c.alt_path = "alt.h5";
  c.base_name = "基准";
  c.alt_name = "加快";
  c.base_seed = c.alt_seed = 7;
  c.base_draws = c.alt_draws = 10000;
  c.paired = true;
  c.base_conditioned = c.alt_conditioned = true;
  c.base_ess = 6480.4;
  c.alt_ess = 5120.6;
  CompareRow r;
  r.id = "gdp-300";
  r.label = "GDP过三百亿";
  r.prior_base = 0.35;
  r.prior_alt = 0.41;
  r.p_base = 0.4125;
  r.p_alt = 0.4725;
  r.diff = 0.06;
  r.std_error = 0.0031;
  r.unpaired_std_error = 0.0088;
  c.rows = {r};
  c.all_met = r;
  c.all_met.id = "all";
  c.all_met.label = "all targets together";
  c.all_met_paired = true;
  CHECK(format_comparison(c) ==
        "base: 基准 (base.h5)\n"
        "alt:  加快 (alt.h5)\n"
        "Paired draw by draw: both runs share seed 7 and 10000 draws (common random numbers).\n"
        "Both runs are conditioned on observations (effective sample size base 6480, alt 5121): "
        "probabilities are self-normalised weighted shares.\n"
        "The paired standard error is the delta-method one: sqrt(sum over draws of (u_alt - "
        "u_base)^2), u = w (met - p) / sum w, w = 1 for an unconditioned run.\n"
        "\n"
        "Target probabilities (base, alt and difference = alt - base conditioned on each run's "
        "observations; prior = before conditioning)\n"
        "target   label                 prior base  prior alt   base    alt  difference  std.err  "
        "unpaired s.e.\n"
        "gdp-300  GDP过三百亿                0.350      0.410  0.412  0.472     +0.0600   0.0031  "
        "       0.0088\n"
        "all      all targets together       0.350      0.410  0.412  0.472     +0.0600   0.0031  "
        "       0.0088\n");
  CHECK(format_comparison_csv(c) ==
        "target,label,p_base,p_alt,difference,std_error,unpaired_std_error,paired,prior_base,"
        "prior_alt\n"
        "gdp-300,GDP过三百亿,0.4125,0.4725,0.06,0.0031,0.0088,1,0.35,0.41\n"
        "all,all targets together,0.4125,0.4725,0.06,0.0031,0.0088,1,0.35,0.41\n");
}
