#include "countysim/batch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "countysim/engine.hpp"
#include "countysim/errors.hpp"
#include "countysim/plan.hpp"
#include "countysim/report.hpp"
#include "countysim/results_io.hpp"
#include "countysim/scenario.hpp"
#include "countysim/text_columns.hpp"

namespace countysim {

namespace fs = std::filesystem;

namespace {

bool is_yaml(const fs::path& p) {
  const std::string e = p.extension().string();
  return e == ".yaml" || e == ".yml";
}

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string thousands(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

// The result on disk is the run we would make: same merged scenario, seed and draws.
bool up_to_date(const std::string& h5, const Scenario& sc, std::uint64_t seed,
                std::uint64_t draws) {
  std::error_code ec;
  if (!fs::is_regular_file(h5, ec)) return false;
  try {
    ResultsReader r(h5);
    return r.info().scenario_yaml == sc.merged_yaml && r.info().seed == seed &&
           r.info().draws == draws;
  } catch (const InputError&) {
    return false;  // damaged or not ours: run it again
  }
}

std::string pct(double p) {
  return fmt::format("{:.1f}%", p * 100);
}

}  // namespace

std::vector<std::string> batch_scenario_files(const std::string& base,
                                              const std::vector<std::string>& alternatives) {
  std::vector<std::string> files = {base};
  std::error_code ec;
  if (!fs::is_regular_file(base, ec))
    throw UsageError(fmt::format("{}: no such scenario file", base));
  for (const auto& a : alternatives) {
    if (fs::is_directory(a, ec)) {
      std::vector<std::string> in_dir;
      for (const auto& e : fs::directory_iterator(a, ec))
        if (e.is_regular_file() && is_yaml(e.path()) && !same_file(e.path(), base))
          in_dir.push_back(e.path().string());
      if (in_dir.empty())
        throw UsageError(fmt::format("{}: no .yaml scenario files in this folder", a));
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else if (fs::is_regular_file(a, ec)) {
      files.push_back(a);
    } else {
      throw UsageError(fmt::format("{}: no such scenario file or folder", a));
    }
  }
  // Names are file stems (results/<name>.h5): they must differ.
  std::map<std::string, std::string> seen;
  for (const auto& f : files) {
    const std::string stem = fs::path(f).stem().string();
    auto [it, fresh] = seen.emplace(stem, f);
    if (!fresh)
      throw UsageError(
          fmt::format("{} and {} would both be written to results/{}.h5; rename one of them",
                      it->second, f, stem));
  }
  return files;
}

BatchResult run_batch(const BatchOptions& opt) {
  auto log = [&](const std::string& s) {
    if (opt.log) opt.log(s);
  };
  const std::vector<std::string> files = batch_scenario_files(opt.base, opt.alternatives);

  // Every scenario is read and compiled before anything runs; the problems of
  // all files are listed together.
  std::vector<std::unique_ptr<Scenario>> scenarios;
  std::vector<Diagnostic> problems;
  for (const auto& f : files) {
    try {
      auto sc = std::make_unique<Scenario>(load_scenario(f));
      compile_plan(*sc);  // problems visible only to the plan
      scenarios.push_back(std::move(sc));
    } catch (const InputError& e) {
      problems.insert(problems.end(), e.diagnostics().begin(), e.diagnostics().end());
      scenarios.push_back(nullptr);
    }
  }
  if (!problems.empty()) throw InputError(problems, InputKind::scenario);

  BatchResult res;
  res.seed = opt.seed_given ? opt.seed : scenarios[0]->seed;
  res.draws = opt.draws ? opt.draws : scenarios[0]->draws;
  log(
      fmt::format("batch: {} scenarios valid; each runs {} draws with seed {} (common random "
                  "numbers)",
                  files.size(), thousands(res.draws), res.seed));

  const fs::path study(opt.out_dir);
  const fs::path results_dir = study / "results";
  std::error_code ec;
  fs::create_directories(results_dir, ec);
  if (ec || !fs::is_directory(results_dir))
    throw UsageError(fmt::format("{}: cannot create the batch folder: {}", results_dir.string(),
                                 ec ? ec.message() : "a file of that name exists"));

  const auto t_runs = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < files.size(); ++i) {
    const Scenario& sc = *scenarios[i];
    BatchRun run;
    run.name = fs::path(files[i]).stem().string();
    run.scenario = files[i];
    run.results = (results_dir / (run.name + ".h5")).string();
    const std::string tag =
        fmt::format("[{}/{}] {}{}", i + 1, files.size(), run.name, i == 0 ? " (base)" : "");
    if (opt.resume && up_to_date(run.results, sc, res.seed, res.draws)) {
      run.skipped = true;
      log(fmt::format("{}: up to date ({}), skipped", tag, run.results));
      res.runs.push_back(run);
      continue;
    }
    log(fmt::format("{}: running {} draws …", tag, thousands(res.draws)));
    const auto t0 = std::chrono::steady_clock::now();
    const Plan plan = compile_plan(sc);
    RunOptions ro;
    ro.draws = res.draws;
    ro.seed = res.seed;
    ro.seed_given = true;
    ro.threads = opt.threads;
    ro.output = run.results;
    ro.force = true;  // the batch folder is the batch's own
    ro.progress = opt.progress_bar;
    ro.cancel = opt.cancel;
    ro.command_line = opt.command_line;
    run_to_file(plan, ro);
    run.seconds = seconds_since(t0);
    log(fmt::format("{}: done in {:.1f} s → {}", tag, run.seconds, run.results));
    res.runs.push_back(run);
  }
  res.seconds_runs = seconds_since(t_runs);

  std::vector<std::string> names, paths;
  for (const auto& r : res.runs) names.push_back(r.name), paths.push_back(r.results);
  for (std::size_t i = 1; i < paths.size(); ++i)
    res.comparisons.push_back(compare_results(paths[0], paths[i]));
  res.table = format_study_table(names, res.comparisons);
  auto save = [&](const fs::path& p, const std::string& text) {
    std::ofstream f(p, std::ios::binary);
    f << text;
    f.close();
    if (!f) throw RunError(fmt::format("{}: cannot write", p.string()));
  };
  save(study / "comparison.txt", res.table);
  save(study / "comparison.csv", format_study_csv(names, res.comparisons, csv_excel));
  std::string manifest;
  for (const auto& r : res.runs) manifest += r.name + "\t" + "results/" + r.name + ".h5\n";
  save(study / "batch.txt", manifest);

  if (opt.report) {
    const auto t0 = std::chrono::steady_clock::now();
    log("batch: writing the report" + std::string(opt.pdf ? " and handout.pdf" : "") + " …");
    ReportOptions ro;
    ro.pdf = opt.pdf;
    write_study_report(paths, (study / "report").string(), parse_lang(opt.lang), ro);
    res.seconds_report = seconds_since(t0);
    log(fmt::format("batch: report written in {:.1f} s → {}", res.seconds_report,
                    (study / "report" / "index.html").string()));
  }
  return res;
}

std::string format_study_table(const std::vector<std::string>& names,
                               const std::vector<Comparison>& cs) {
  std::string out;
  if (names.empty()) return out;
  if (cs.empty())
    return fmt::format(
        "Only the base '{}': no alternative to compare (its slides are in report/)\n", names[0]);
  bool paired = true;
  for (const auto& c : cs) paired = paired && c.paired;
  out += fmt::format(
      "Chance of each target: base '{}' and each alternative, with the change from the base "
      "(percentage points ± standard error{})\n",
      names[0], paired ? ", paired draw by draw: common random numbers" : "");
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head = {"target", names[0]};
  for (std::size_t k = 0; k < cs.size(); ++k)
    head.push_back(k + 1 < names.size() ? names[k + 1] : "");
  rows.push_back(head);
  // Targets in the base's order (every comparison lists them so).
  std::vector<std::string> ids;
  std::vector<double> p_base;
  if (!cs.empty()) {
    for (const auto& r : cs[0].rows) ids.push_back(r.id), p_base.push_back(r.p_base);
    ids.push_back("all");
    p_base.push_back(cs[0].all_met.p_base);
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::vector<std::string> row = {ids[i], pct(p_base[i])};
    for (const auto& c : cs) {
      const CompareRow* r = nullptr;
      if (ids[i] == "all")
        r = &c.all_met;
      else
        for (const auto& x : c.rows)
          if (x.id == ids[i]) r = &x;
      // Two decimals below one point: a small clear change is not "+0.0 ± 0.0".
      const int dec = r && std::fabs(r->diff) < 0.01 ? 2 : 1;
      row.push_back(r ? fmt::format("{} ({:+.{}f} ± {:.{}f})", pct(r->p_alt), r->diff * 100, dec,
                                    r->std_error * 100, dec)
                      : "–");
    }
    rows.push_back(row);
  }
  std::vector<bool> right(head.size(), true);
  right[0] = false;
  out += format_columns(rows, right);
  for (std::size_t k = 0; k < cs.size(); ++k)
    if (!cs[k].paired)
      out += fmt::format("{}: unpaired ({})\n", k + 1 < names.size() ? names[k + 1] : "",
                         cs[k].unpaired_reason);
  if (!cs.empty() && !cs[0].shifts.empty()) {
    out +=
        fmt::format("\nHeadline medians in {} (change from the base)\n", cs[0].shifts[0].year_base);
    std::vector<std::vector<std::string>> q;
    std::vector<std::string> qh = {"metric", "units", names[0]};
    for (std::size_t k = 0; k < cs.size(); ++k)
      qh.push_back(k + 1 < names.size() ? names[k + 1] : "");
    q.push_back(qh);
    for (std::size_t m = 0; m < cs[0].shifts.size(); ++m) {
      const QuantileShift& s0 = cs[0].shifts[m];
      const bool frac = s0.units == "fraction";
      auto v = [&](double x) {
        return frac ? fmt::format("{:.1f}%", x * 100) : fmt::format("{:.1f}", x);
      };
      std::vector<std::string> row = {s0.metric, frac ? "%" : s0.units, v(s0.base[1])};
      for (const auto& c : cs) {
        const QuantileShift* s = nullptr;
        for (const auto& x : c.shifts)
          if (x.metric == s0.metric) s = &x;
        if (!s) {
          row.push_back("–");
          continue;
        }
        const double d = s->alt[1] - s->base[1];
        row.push_back(v(s->alt[1]) + (frac ? fmt::format(" ({:+.1f} pt)", d * 100)
                                           : fmt::format(" ({:+.1f})", d)));
      }
      q.push_back(row);
    }
    std::vector<bool> qr(qh.size(), true);
    qr[0] = qr[1] = false;
    out += format_columns(q, qr);
  }
  return out;
}

std::string format_study_csv(const std::vector<std::string>& names,
                             const std::vector<Comparison>& cs, CsvDialect dialect) {
  CsvWriter w(dialect);
  w.row({"kind", "scenario", "id", "label", "units", "base", "alt", "difference", "std_error",
         "paired"});
  for (std::size_t k = 0; k < cs.size(); ++k) {
    const std::string name = k + 1 < names.size() ? names[k + 1] : "";
    const Comparison& c = cs[k];
    auto add = [&](const CompareRow& r, bool paired) {
      w.row({"target", name, r.id, r.label, "probability", csv_number(r.p_base),
             csv_number(r.p_alt), csv_number(r.diff), csv_number(r.std_error), paired ? "1" : "0"});
    };
    for (const auto& r : c.rows) add(r, c.paired);
    add(c.all_met, c.all_met_paired);
    for (const auto& s : c.shifts)
      w.row({"median", name, s.metric, fmt::format("median in {}", s.year_base), s.units,
             csv_number(s.base[1]), csv_number(s.alt[1]), csv_number(s.alt[1] - s.base[1]), "",
             ""});
  }
  return w.text();
}

std::vector<std::pair<std::string, std::string>> read_batch_manifest(const std::string& dir) {
  const fs::path manifest = fs::path(dir) / "batch.txt";
  std::ifstream f(manifest);
  if (!f)
    throw InputError({Diagnostic{manifest.string(),
                                 {},
                                 "not found: not a folder written by countysim batch; give "
                                 "the results files instead (report BASE.h5 ALT.h5 ...)"}},
                     InputKind::results);
  std::vector<std::pair<std::string, std::string>> runs;
  std::string line;
  int n = 0;
  while (std::getline(f, line)) {
    ++n;
    if (line.empty()) continue;
    const auto tab = line.find('\t');
    if (tab == std::string::npos)
      throw InputError({Diagnostic{manifest.string(),
                                   {n, 1},
                                   "expected NAME<tab>RESULTS, as countysim batch writes it"}},
                       InputKind::results);
    runs.emplace_back(line.substr(0, tab), (fs::path(dir) / line.substr(tab + 1)).string());
  }
  if (runs.empty())
    throw InputError({Diagnostic{manifest.string(), {}, "lists no runs; rerun countysim batch"}},
                     InputKind::results);
  return runs;
}

}  // namespace countysim
