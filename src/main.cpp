// countysim: the command line. Parses arguments, calls the library, and maps
// the library's typed errors to exit statuses (0 ok, 1 failure, 2 bad input).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <omp.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <vector>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "countysim/batch.hpp"
#include "countysim/cancel.hpp"
#include "countysim/engine.hpp"
#include "countysim/errors.hpp"
#include "countysim/explain.hpp"
#include "countysim/h5.hpp"
#include "countysim/output_file.hpp"
#include "countysim/report.hpp"
#include "countysim/results_io.hpp"
#include "countysim/scenario.hpp"
#include "countysim/scenario_schema.hpp"
#include "countysim/stats.hpp"
#include "countysim/terminal.hpp"
#include "countysim/version.hpp"
#include "countysim/whatif.hpp"

namespace cs = countysim;

namespace {

// Set by SIGINT/SIGTERM and passed to the run; the draw loop stops at the
// next block and nothing is written.
cs::CancelToken cancel_token;

extern "C" void on_signal(int sig) {
  cancel_token.cancel();
  // A second signal kills the process the usual way.
  std::signal(sig, SIG_DFL);
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

std::string quote_arg(const std::string& a) {
  if (!a.empty() && a.find_first_of(" \t'\"\\$`{}[]*?;&|<>()") == std::string::npos) return a;
  std::string out = "'";
  for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The command line as typed, for the file's provenance.
std::string command_line(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 0; i < argc; ++i) args.push_back(quote_arg(argv[i]));
  return fmt::format("{}", fmt::join(args, " "));
}

// Options every verb that draws shares (run, sweep, solve). One set of
// variables serves them all, since only one subcommand runs.
struct DrawArgs {
  std::string draws_text, seed_text;  // as typed: CLI11 would wrap -1 to 2^64-1
  std::uint64_t draws = 0, seed = 0;
  int threads = 0;
  std::vector<std::string> overrides;
  std::vector<CLI::Option*> seed_options;
  bool seed_given() const {
    for (const CLI::Option* o : seed_options)
      if (o->count() > 0) return true;
    return false;
  }
};

void add_draw_options(CLI::App* verb, DrawArgs& a, const char* draws_help, const char* set_help) {
  verb->add_option("--draws", a.draws_text, draws_help);
  a.seed_options.push_back(verb->add_option(
      "--seed", a.seed_text, "random seed, 0 to 18446744073709551615 (default: the scenario's)"));
  verb->add_option("--threads", a.threads,
                   "threads, 1 to 4096 (default: OpenMP's); results do not depend on it")
      ->check(CLI::Range(0, 4096));
  verb->add_option("--set", a.overrides, set_help);
}

// A whole number as typed: digits only (no sign, no spaces), at most `max`.
// nullopt for anything else.
std::optional<std::uint64_t> parse_count(const std::string& text, std::uint64_t max) {
  std::uint64_t v = 0;
  if (text.empty() || text.size() > 20 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v > max) return std::nullopt;
  return v;
}

// --draws and --seed, checked before any work (UsageError: exit 2).
void check_draw_args(DrawArgs& a) {
  if (!a.draws_text.empty()) {
    const auto v = parse_count(a.draws_text, static_cast<std::uint64_t>(cs::schema::kMaxDraws));
    if (!v || *v == 0)
      throw cs::UsageError(fmt::format("--draws {}: expected a whole number from 1 to {}",
                                       a.draws_text, cs::schema::kMaxDraws));
    a.draws = *v;
  }
  if (!a.seed_text.empty()) {
    const auto v = parse_count(a.seed_text, std::numeric_limits<std::uint64_t>::max());
    if (!v)
      throw cs::UsageError(fmt::format("--seed {}: expected a whole number from 0 to {}",
                                       a.seed_text, std::numeric_limits<std::uint64_t>::max()));
    a.seed = *v;
  }
}

void print_warnings(const std::vector<cs::Diagnostic>& ws) {
  for (const auto& w : ws) fmt::print(stderr, "{}\n", w.to_string());
}

}  // namespace

int main(int argc, char** argv) {
#ifdef __GLIBC__
  // Blocks of 256 KiB and more (quantile windows, read-back buffers) from
  // mmap, handed back when freed: glibc otherwise raises that threshold to
  // the largest block freed (up to 32 MiB) and keeps later ones in its heap,
  // where freed room adds to the peak (a run of 1M draws: 139-148 MB,
  // 116-124 with this; bench/README.md). Buffers the draw loop reuses for
  // the whole run cost no page faults either way.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
  cs::h5::no_cleanup_at_exit();
  CLI::App app{"countysim: Monte-Carlo scenarios for a county's development targets"};
  app.set_version_flag("--version", std::string("countysim ") + cs::version);
  app.require_subcommand(1);

  std::string scenario_path, output, results_path, lang = "zh";
  DrawArgs d;
  std::uint64_t block = 8192;
  int compression = 1;
  double until_se = 0;
  std::uint64_t max_draws = 1000000;
  bool force = false, quiet = false, csv = false;

  auto* run = app.add_subcommand("run", "draw the futures of a scenario and write OUT.h5");
  run->add_option("scenario", scenario_path, "scenario file (YAML)")->required();
  run->add_option("-o,--output", output, "results file (default outputs/<scenario>.h5)");
  add_draw_options(run, d, "number of draws (default: the scenario's)",
                   "override PATH=VALUE (VALUE in YAML flow syntax)");
  run->add_flag("--force", force, "replace an existing results file");
  run->add_flag("-q,--quiet", quiet, "print no progress bar and no tables");
  run->add_option("--compression", compression,
                  "deflate level of the per-draw datasets, 0-9 (default 1; 0 stores them "
                  "uncompressed: faster, about twice the size)")
      ->check(CLI::Range(0, 9));
  auto* until_se_opt =
      run->add_option("--until-se", until_se,
                      "draw blocks until every target's standard error is at most X (decided "
                      "at block boundaries in draw order: the result is the --draws N run for "
                      "the N it stops at)")
          ->check(
              [](const std::string& text) -> std::string {
                char* end = nullptr;
                const double v = std::strtod(text.c_str(), &end);
                if (end == text.c_str() || *end != '\0' || !(v > 0 && v <= 0.5))
                  return "--until-se: a standard error of a probability, above 0 and at most 0.5 "
                         "(got " +
                         text + ")";
                return "";
              },
              "X in (0, 0.5]")
          ->excludes("--draws");
  run->add_option("--max-draws", max_draws, "with --until-se: stop at N draws (default 1000000)")
      ->check(CLI::Range(std::uint64_t{1}, static_cast<std::uint64_t>(cs::schema::kMaxDraws)))
      ->needs(until_se_opt);
  run->add_option("--block-size", block, "draws per block (results do not depend on it)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 24))
      ->group("");  // hidden: for tests and benchmarks

  auto* validate = app.add_subcommand("validate", "check a scenario file without running it");
  validate->add_option("scenario", scenario_path, "scenario file (YAML)")->required();
  validate->add_option("--set", d.overrides, "override PATH=VALUE");

  auto* summary = app.add_subcommand("summary", "print the target table of a results file");
  summary->add_option("results", results_path, "results file (HDF5)")->required();
  summary->add_flag("--csv", csv, "CSV (UTF-8) instead of a table");

  std::vector<std::string> report_inputs;
  bool pdf = false;
  auto* report = app.add_subcommand("report", "charts, tables and index.html for meetings");
  report
      ->add_option("results", report_inputs,
                   "results or sweep file (HDF5); several results files (base first) add the "
                   "comparison slides; a batch folder reports its runs")
      ->required();
  report->add_option("-o,--output", output,
                     "output folder (default: <results>-report; a batch folder's report/)");
  report->add_option("--lang", lang, "zh or en")->check(CLI::IsMember({"zh", "en"}));
  report->add_flag("--pdf", pdf, "also write handout.pdf: every slide in meeting order");

  std::vector<std::string> batch_alts;
  bool resume = false, no_pdf = false;
  auto* batch = app.add_subcommand(
      "batch", "run a base scenario and its what-ifs with common random numbers, and report");
  batch->add_option("base", scenario_path, "base scenario file (YAML)")->required();
  batch->add_option("alternatives", batch_alts,
                    "what-if scenario files, or folders of them (every .yaml)");
  batch->add_option("-o,--output", output, "study folder (results/, comparison.*, report/)")
      ->required();
  batch->add_option("--draws", d.draws_text, "draws of every run (default: the base scenario's)");
  d.seed_options.push_back(batch->add_option(
      "--seed", d.seed_text, "random seed of every run (default: the base scenario's)"));
  batch->add_option("--threads", d.threads, "threads (default: all); results do not depend on it")
      ->check(CLI::Range(0, 4096));
  batch->add_flag("--resume", resume,
                  "keep results already in the study folder for the same scenario text, seed "
                  "and draws");
  batch->add_option("--lang", lang, "report language: zh or en")
      ->check(CLI::IsMember({"zh", "en"}));
  batch->add_flag("--no-pdf", no_pdf, "do not write report/handout.pdf");

  std::string alt_path, target_id, range, lever;
  std::vector<std::string> varies;
  double goal = 0.8;

  auto* compare = app.add_subcommand("compare", "compare the target probabilities of two runs");
  compare->add_option("base", results_path, "results file of the base run (HDF5)")->required();
  compare->add_option("alt", alt_path, "results file of the alternative run (HDF5)")->required();
  compare->add_flag("--csv", csv, "CSV (UTF-8) instead of a table");

  auto* sweep = app.add_subcommand("sweep", "run a grid of lever values and write SWEEP.h5");
  sweep->add_option("scenario", scenario_path, "scenario file (YAML)")->required();
  sweep->add_option("--vary", varies, "PATH=v1,v2,... or PATH=LO:HI:STEP (one or two)")->required();
  sweep->add_option("-o,--output", output, "sweep file (default outputs/<scenario>-sweep.h5)");
  add_draw_options(sweep, d, "draws per grid point (default: the scenario's)",
                   "override PATH=VALUE before the levers");
  sweep->add_flag("--force", force, "replace an existing sweep file");
  sweep->add_flag("-q,--quiet", quiet, "print no table");

  auto* solve =
      app.add_subcommand("solve", "find the lever value at which a target reaches a probability");
  solve->add_option("scenario", scenario_path, "scenario file (YAML)")->required();
  solve->add_option("--target", target_id, "target id")->required();
  solve->add_option("--probability", goal, "probability to reach (default 0.8)");
  solve->add_option("--vary", lever, "PATH of the lever (numeric values only)")->required();
  solve->add_option("--range", range, "LO:HI, the lever values to search")->required();
  add_draw_options(solve, d, "draws per evaluated value (default: the scenario's)",
                   "override PATH=VALUE before the lever");
  std::string solve_chart_dir;
  solve->add_option("--chart", solve_chart_dir,
                    "also draw the chart (SVG and PNG) into this folder");
  solve->add_option("--lang", lang, "language of the chart: zh (default) or en")
      ->check(CLI::IsMember({"zh", "en"}));

  std::vector<std::string> explain_targets;
  std::uint64_t explain_draws = 20000;
  int explain_threads = 0;
  auto* explain =
      app.add_subcommand("explain", "which inputs and projects decide each target of a run");
  explain->add_option("results", results_path, "results file of a run (HDF5)")->required();
  explain->add_option("--target", explain_targets, "target id (repeatable; default: all)");
  explain->add_option("-o,--output", output,
                      "folder for CSV tables, explain.h5 and charts (default: <results>-explain, "
                      "where report finds it)");
  explain->add_flag("--csv", csv, "print the inputs table as plain CSV (and write plain files)");
  explain->add_option("--draws", explain_draws, "draws of each counterfactual run (default 20000)");
  explain->add_option("--threads", explain_threads, "threads (default: OpenMP's)");
  explain->add_option("--lang", lang, "chart language: zh or en")
      ->check(CLI::IsMember({"zh", "en"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  try {
    check_draw_args(d);
    if (*run || *validate) {
      const cs::Scenario scenario = cs::load_scenario(scenario_path, d.overrides);
      const cs::Plan plan = cs::compile_plan(scenario);
      print_warnings(scenario.warnings);
      print_warnings(plan.warnings);
      if (*validate) {
        fmt::print("{}: ok ({} clusters, {} projects, {} targets, {} random inputs, {}-{})\n",
                   scenario_path, scenario.clusters.size(), scenario.projects.size(),
                   scenario.targets.size(), plan.random_slots.size(), scenario.base_year + 1,
                   scenario.last_year);
        return 0;
      }
      install_signal_handlers();
      cs::RunOptions opt;
      opt.draws = d.draws;
      opt.seed = d.seed;
      opt.seed_given = d.seed_given();
      opt.threads = d.threads;
      opt.block_draws = block;
      opt.compression_level = compression;
      opt.until_se = until_se;
      opt.max_draws = max_draws;
      opt.output = output.empty() ? cs::default_results_path(scenario_path) : output;
      opt.force = force;
      opt.progress = !quiet && ::isatty(STDERR_FILENO);
      opt.cancel = &cancel_token;
      opt.command_line = command_line(argc, argv);
      const cs::RunSummary r = cs::run_to_file(plan, opt);
      if (!quiet) {
        fmt::print("{}\n", scenario.name);
        fmt::print("{}\n", cs::format_target_table(r.targets, r.draws));
        fmt::print("{}", cs::format_headline_quantiles(r.summaries, cs::summary_quantiles(),
                                                       scenario.last_year, scenario.base_year,
                                                       r.targets.conditioned));
        fmt::print(
            "\nwrote {} ({:.1f} MB, {} draws, seed {}, {:.2f} s: draws {:.2f} s, summaries {:.2f} "
            "s)\n",
            opt.output, r.bytes_written / 1e6, r.draws, r.seed,
            r.seconds_simulation + r.seconds_summary, r.seconds_simulation, r.seconds_summary);
        if (until_se > 0)
          fmt::print(r.reached_max_draws
                         ? "--until-se {}: stopped at --max-draws ({} draws) before every target's "
                           "standard error was at most {}\n"
                         : "--until-se {}: stopped at {} draws, every target's standard error at "
                           "most {}\n",
                     until_se, r.draws, until_se);
      }
      return 0;
    }
    if (*summary) {
      cs::ResultsReader reader(results_path);
      const cs::TargetTable t = reader.targets();
      if (csv) {
        fmt::print("{}", cs::format_target_csv(t));
        return 0;
      }
      std::vector<cs::MetricSummary> sums;
      for (const auto& m : cs::headline_metrics())
        for (const auto& have : reader.summary_metrics())
          if (have == m) sums.push_back(reader.summary(m));
      const auto& info = reader.info();
      fmt::print("{}\n", info.scenario_name);
      fmt::print("{}\n", cs::format_target_table(t, info.draws));
      fmt::print("{}", cs::format_headline_quantiles(sums, reader.coords().quantile, info.last_year,
                                                     info.base_year, t.conditioned));
      return 0;
    }
    if (*report) {
      results_path = report_inputs.front();
      std::vector<std::string> inputs = report_inputs;
      const bool study_dir =
          inputs.size() == 1 && ::access((results_path + "/.").c_str(), F_OK) == 0;
      if (study_dir) {
        // A batch folder: its runs, base first.
        if (output.empty()) output = results_path + "/report";
        inputs.clear();
        for (const auto& run : cs::read_batch_manifest(results_path)) inputs.push_back(run.second);
      }
      if (output.empty()) output = cs::default_report_dir(results_path);
      cs::ReportOptions ro;
      ro.pdf = pdf;
      if (inputs.size() == 1 && cs::is_sweep_file(results_path))
        cs::write_sweep_report(results_path, output, lang, ro);
      else if (inputs.size() == 1)
        cs::write_report(results_path, output, lang, pdf);
      else
        cs::write_study_report(inputs, output, cs::parse_lang(lang), ro, {});
      fmt::print("wrote {}/index.html\n", output);
      if (pdf) fmt::print("wrote {}/handout.pdf\n", output);
      return 0;
    }
    if (*batch) {
      cs::BatchOptions bo;
      bo.base = scenario_path;
      bo.alternatives = batch_alts;
      bo.out_dir = output;
      bo.draws = d.draws;
      bo.seed = d.seed;
      bo.seed_given = d.seed_given();
      bo.threads = d.threads;
      bo.resume = resume;
      bo.pdf = !no_pdf;
      bo.lang = lang;
      bo.progress_bar = ::isatty(STDERR_FILENO);
      bo.cancel = &cancel_token;
      bo.command_line = command_line(argc, argv);
      bo.log = [](const std::string& s) { fmt::print(stderr, "{}\n", s); };
      install_signal_handlers();
      const cs::BatchResult r = cs::run_batch(bo);
      fmt::print("{}", r.table);
      fmt::print("\nwrote {}/comparison.txt, comparison.csv, results/ ({} runs, {} skipped){}\n",
                 output, r.runs.size(),
                 std::count_if(r.runs.begin(), r.runs.end(), [](auto& x) { return x.skipped; }),
                 bo.report
                     ? ", report/index.html" + std::string(bo.pdf ? ", report/handout.pdf" : "")
                     : std::string());
      return 0;
    }
    if (*explain) {
      cs::ExplainOptions eopt;
      eopt.results = results_path;
      eopt.targets = explain_targets;
      eopt.draws = explain_draws;
      eopt.threads = explain_threads;
      eopt.cancel = &cancel_token;
      install_signal_handlers();
      if (output.empty()) output = cs::default_explain_dir(results_path);
      const cs::ExplainResult r = cs::explain(eopt);
      fmt::print("{}",
                 csv ? cs::explain_inputs_csv(r, cs::csv_plain) : cs::format_explain_table(r));
      for (const auto& f : cs::write_explain_csv(r, output, csv ? cs::csv_plain : cs::csv_excel))
        fmt::print(stderr, "wrote {}\n", f);
      const std::string h5 = output + "/explain.h5";
      cs::write_explain_h5(r, h5, true);  // explain's own folder: regenerated
      fmt::print(stderr, "wrote {}\n", h5);
      for (const auto& f : cs::write_explain_charts(r, output, cs::parse_lang(lang)))
        fmt::print(stderr, "wrote {}/{}\n", output, f);
      return 0;
    }
    if (*compare) {
      const cs::Comparison c = cs::compare_results(results_path, alt_path);
      fmt::print("{}", csv ? cs::format_comparison_csv(c) : cs::format_comparison(c));
      return 0;
    }
    if (*sweep || *solve) {
      cs::WhatIfOptions wopt;
      wopt.draws = d.draws;
      wopt.seed = d.seed;
      wopt.seed_given = d.seed_given();
      wopt.threads = d.threads;
      wopt.overrides = d.overrides;
      wopt.cancel = &cancel_token;
      install_signal_handlers();
      if (*sweep) {
        std::vector<cs::SweepAxis> axes;
        for (const auto& v : varies) axes.push_back(cs::parse_vary(v));
        if (output.empty()) output = cs::default_sweep_path(scenario_path);
        cs::prepare_output(output, force);  // refuse before the work, not after
        const cs::SweepResult r = cs::run_sweep(scenario_path, axes, wopt);
        cs::write_sweep(r, output, force, command_line(argc, argv));
        if (!quiet) fmt::print("{}", cs::format_sweep(r));
        fmt::print("wrote {}\n", output);
        return 0;
      }
      cs::SolveOptions so;
      so.target = target_id;
      so.probability = goal;
      so.path = lever;
      const auto lo_hi = cs::parse_range(range);
      so.lo = lo_hi.first;
      so.hi = lo_hi.second;
      const cs::SolveResult r = cs::solve_lever(scenario_path, so, wopt);
      fmt::print("{}", cs::format_solve(r));
      if (!solve_chart_dir.empty()) {
        for (const auto& f : cs::write_solve_chart(r, solve_chart_dir, lang))
          fmt::print("wrote {}/{}\n", solve_chart_dir, f);
      }
      return 0;
    }
  } catch (const cs::InputError& e) {
    for (const auto& d : e.diagnostics()) fmt::print(stderr, "{}\n", d.to_string());
    const std::size_t n = e.diagnostics().size();
    if (e.kind() == cs::InputKind::scenario)
      fmt::print(stderr, "{} problem{} found; nothing was run or written\n", n, n == 1 ? "" : "s");
    else
      fmt::print(stderr,
                 "{} problem{} in the {} file (damaged, or not written by countysim); "
                 "nothing was written\n",
                 n, n == 1 ? "" : "s", cs::input_kind_name(e.kind()));
    return 2;
  } catch (const cs::UsageError& e) {
    fmt::print(stderr, "countysim: {}\n", e.what());
    return 2;
  } catch (const cs::Interrupted&) {
    if (*batch) {
      // The runs a batch finished stay; --resume skips them.
      fmt::print(stderr,
                 "\ncountysim: interrupted; the runs finished so far are kept in {}/results "
                 "(rerun with --resume to continue)\n",
                 output);
      return 130;
    }
    fmt::print(stderr, "\ncountysim: interrupted; no results were written\n");
    return 130;
  } catch (const cs::RunError& e) {
    fmt::print(stderr, "countysim: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "countysim: internal error: {}\n", e.what());
    return 1;
  }
  return 0;
}
