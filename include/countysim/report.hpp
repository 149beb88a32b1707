// `countysim report`: turns a results file into slide material — fan charts,
// a target dashboard, target distributions, cluster and project-timing charts
// (SVG, and PNG through rsvg-convert), CSV tables and an offline index.html —
// and a sweep file into its line chart or heat maps and an index.html.
#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "countysim/explain.hpp"
#include "countysim/results_io.hpp"
#include "countysim/results_types.hpp"
#include "countysim/solve.hpp"
#include "countysim/sweep_io.hpp"

namespace countysim {

enum class Lang { zh, en };
Lang parse_lang(const std::string& s);  // "zh" | "en"; else UsageError

// How a bureau writes a quantity stored in the file's `units`: 亿元 as is,
// persons in 万人, fractions in %, counts and 亩 as whole numbers.
struct DisplayUnit {
  double scale = 1;  // display value = stored value * scale
  std::string unit;  // "亿元", "万人", "%", "" (counts), "亩", ...
  bool percent = false;
  bool integer = false;
};
DisplayUnit display_unit(const std::string& units, Lang lang);
// Digits after the point for a display value of this size and unit.
int display_decimals(double display_value, const DisplayUnit& u);
// "85.3 亿元", "3.25 万人", "12.4%", "102 家"; in English "85.3 (100m yuan)".
std::string format_value(double stored, const std::string& units, Lang lang);
// Probability as a whole percent: "37%"; "<1%" and ">99%" near the ends.
std::string format_probability(double p);
// Probability for the one-page summary, finer at the ends and never "0%":
// "37%", "2.4%", "<0.1%", "99.6%", ">99.9%".
std::string format_chance(double p);
// The chance in words, on the finer scale the one-page summary states:
// virtually certain (>= 99%), very likely (>= 90%), likely (>= 2/3), about
// even, unlikely (<= 1/3), very unlikely (<= 10%), exceptionally unlikely (<= 1%).
std::string chance_words(double p, Lang lang);
// Month index (0 = January of base_year + 1) as "2022-04".
std::string month_label(int base_year, int month);

// The plain-language scale the report uses (stated in index.html).
enum class Likelihood { unlikely, about_even, likely };
Likelihood classify_probability(double p);  // <= 1/3, between, >= 2/3
const char* likelihood_label(Likelihood l, Lang lang);
const char* likelihood_color(Likelihood l);

// Adds the pHYs chunk (pixels per inch) to a PNG file in place.
void set_png_dpi(const std::string& png_path, double dpi);

// Everything the report draws, read once from the results file; the charts
// are built from this alone, so they can be tested without a file.
struct ReportData {
  std::string source;  // the results file, named in messages; may be empty
  RunInfo info;
  Coordinates coords;
  TargetTable targets;
  std::map<std::string, MetricSummary> summaries;  // every /summary metric
  // [target][draw]: the value each target compares.
  std::vector<std::vector<double>> target_values;
  // [project][draw] month indices, -1 = none. Production may be empty.
  std::vector<std::vector<int>> project_start, project_production;
  // [cluster][draw] last-year cluster output, for P(>= 100 亿元); may be empty.
  std::vector<std::vector<double>> cluster_last_output;
};
ReportData load_report_data(const ResultsReader& reader);

struct ReportOptions {
  bool png = true;       // off for tests that only look at SVG
  bool pdf = false;      // handout.pdf: every slide in meeting order (rsvg-convert, pdfunite)
  double png_zoom = 2;   // 800x450 px SVG -> 1600x900 px PNG
  double png_dpi = 192;  // 96 px/in SVG at zoom 2
};

// Writes every file into out_dir (created if needed; RunError if it cannot
// be) and returns their names, relative to out_dir.
std::vector<std::string> render_report(const ReportData& data, const std::string& out_dir,
                                       Lang lang, const ReportOptions& options = {});

// The `countysim report` verb: a missing or invalid results file is an
// InputError, an output folder that cannot be created a RunError.
void write_report(const std::string& h5_path, const std::string& out_dir, const std::string& lang,
                  bool pdf = false);

// `countysim report BASE.h5 ALT.h5 ...` (and `batch`): the base run's slides,
// then the comparison slides (per target the probabilities with the paired
// change; base vs alternative fans of industrial output and the
// manufacturing VA share) and each alternative's one-page summary, with one
// index.html and, with options.pdf, handout.pdf. `names` label the runs on
// the slides (default: each file's scenario name). Returns the file names.
std::vector<std::string> write_study_report(const std::vector<std::string>& h5_paths,
                                            const std::string& out_dir, Lang lang,
                                            const ReportOptions& options = {},
                                            const std::vector<std::string>& names = {});

// Every SVG as one page of a 16:9 PDF (each scaled to fit and centred), in
// the order given: rsvg-convert per page, pdfunite to join them. RunError
// when either tool is missing or fails.
void write_pdf(const std::vector<std::string>& svg_paths, const std::string& pdf_path);

// Sweep charts (SVG text). One varied path: a line chart, one line per
// target. Two: a heat map of one target over the grid.
std::string sweep_line_chart(const SweepResult& r, bool zh);
std::string sweep_heat_map(const SweepResult& r, std::size_t target, bool zh);
// `countysim report SWEEP.h5`: the charts (SVG, and PNG unless
// options.png is off; handout.pdf with options.pdf) and an index.html in
// out_dir; returns the file names written. InputError if `path` is not a
// sweep file.
std::vector<std::string> write_sweep_report(const std::string& path, const std::string& out_dir,
                                            const std::string& lang,
                                            const ReportOptions& options = {});

// `countysim solve --chart DIR`: the probability of the target against the
// lever at every evaluated value, the goal with its ±2 SE band, the value
// found and its interval, and the scenario's own value. Writes
// solve-<target>.svg (and .png unless options.png is off) into out_dir and
// returns the file names.
std::vector<std::string> write_solve_chart(const SolveResult& r, const std::string& out_dir,
                                           const std::string& lang,
                                           const ReportOptions& options = {});

// `countysim explain -o DIR`: writes explain-tornado-<target>.svg and
// explain-projects-<target>.svg (and PNGs when options.png) into out_dir;
// returns the file names written.
std::vector<std::string> write_explain_charts(const ExplainResult& r, const std::string& out_dir,
                                              Lang lang, const ReportOptions& options = {});

}  // namespace countysim
