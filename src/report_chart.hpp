// The report's internals, shared by its files: the chart base (page size,
// colours, header, text fitting, labels in the chosen language), one function
// per chart, the CSV tables, the PNG step and the index pages. Not public API.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "countysim/compare.hpp"
#include "countysim/report.hpp"
#include "countysim/svg.hpp"

namespace countysim::report_detail {

using svg::Anchor;
using svg::Document;
using svg::Frame;
using svg::Style;
using svg::TextStyle;

// Fan colours: darkest in the middle (Bank of England convention).
inline constexpr const char* band90 = "#d4e4f4";
inline constexpr const char* band80 = "#a6c8e8";
inline constexpr const char* band50 = "#5f9bd1";
inline constexpr const char* median_colour = "#0b3c73";
inline constexpr const char* grey_text = "#666";

inline constexpr double chart_w = 800, chart_h = 450;

struct Chart {
  std::string stem;     // file name without extension
  std::string caption;  // for index.html
  Document doc;
};

// ---- labels and text (report_chart.cpp)

// Text in the likelihood colours: the amber darkened to read on white.
const char* ink(Likelihood l);
std::string at(const std::vector<std::string>& v, std::size_t i);
std::size_t index_of(const std::vector<std::string>& v, const std::string& s);
std::string tr(Lang lang, const char* zh, const char* en);

std::string metric_label(const ReportData& d, const std::string& metric, Lang lang);
std::string metric_units(const ReportData& d, const std::string& metric);
bool metric_is_integer(const std::string& metric);
std::string cluster_name(const ReportData& d, std::size_t c, Lang lang);
std::string project_name(const ReportData& d, std::size_t p, Lang lang);
std::string target_name(const TargetRow& t, Lang lang);
// What a target measures, e.g. "纺织服装总产值".
std::string target_subject(const ReportData& d, const TargetRow& t, Lang lang);
// "≥ 100 亿元"
std::string target_condition(const ReportData& d, const TargetRow& t, Lang lang);
// The units a target's value is stored in ("count" for clusters_at_least).
std::string target_units(const ReportData& d, const TargetRow& t);
// A value of the target's metric as the slides write it: "287 家", "812 亿元", "31.2%".
std::string target_value_text(const ReportData& d, const TargetRow& t, double stored, Lang lang);
// "工业总产值 ≥ 100 亿元（2024 年）"
std::string target_sentence(const ReportData& d, const TargetRow& t, Lang lang);

// Cuts text to fit a width, ending in "…".
std::string fit(const std::string& s, double size, double max_width);
// Breaks text into lines of at most max_width (at spaces for Latin text, at
// any character for CJK); never cuts a word off.
std::vector<std::string> wrap(const std::string& s, double size, double max_width);
// Draws `s` within max_width in at most max_lines lines around baseline y
// (the block centred on it), shrinking the font (down to 60%) before it
// wraps further: labels are never cut.
void wrapped_text(Document& doc, double x, double y, const std::string& s, double max_width,
                  std::size_t max_lines, TextStyle style);
// Moves label positions apart by at least `gap`, within [lo, hi].
std::vector<double> spread(std::vector<double> ys, double gap, double lo, double hi);
// Quantile (numpy's default, type 7) of sorted data.
double sorted_quantile(const std::vector<double>& s, double q);
std::string draws_text(const ReportData& d, Lang lang);  // "2,000 次模拟"
std::string p_equals(double p);                          // "P = 37%", "P > 99%"
std::string interval_text(double lo, double hi);         // "[30%, 44%]"

// Title and subtitle at the top of a chart.
void header(Document& doc, const std::string& title, const std::string& subtitle);
// Column of quantile q in the summaries (the file's quantile coordinate);
// InputError naming the file when it has no such quantile.
std::size_t quantile_column(const ReportData& d, double q);

// ---- charts, one file each

// The one-page summary (一页纸): a row per target, most likely first, and the
// all-targets row; before/after odds when the run is conditioned. Stems
// `<stem>`, `<stem>-2`, ... (at most summary_rows_per_chart targets a page).
inline constexpr std::size_t summary_rows_per_chart = 10;
std::vector<Chart> summary_charts(const ReportData& d, Lang lang,
                                  const std::string& stem = "summary");
// Every chart of one run, in meeting order: summary, dashboard, fans, target
// distributions, clusters, explain (when present), projects.
std::vector<Chart> run_charts(const ReportData& d, Lang lang);
// One alternative against the base, for the comparison slides.
struct CompareRun {
  std::string name;        // as the slides name it
  const ReportData* data;  // the alternative's report data
  Comparison comparison;   // compare_results(base, alternative)
};
// The comparison slides: the probabilities of every run with the paired
// change ("compare-targets", at most five alternatives a slide), and base vs
// alternative fans of industrial output and the manufacturing VA share.
// Run names without the prefix they all share up to a separator:
// "桃江县 · 经济下行" → "经济下行" when every name starts "桃江县 · ".
std::vector<std::string> short_run_names(std::vector<std::string> names);
std::vector<Chart> compare_charts(const ReportData& base, const std::string& base_name,
                                  const std::vector<CompareRun>& alts, Lang lang);

Chart fan_chart(const ReportData& d, const std::string& metric, Lang lang);
Chart dashboard_chart(const ReportData& d, Lang lang);
Chart target_chart(const ReportData& d, std::size_t target, Lang lang);
Chart cluster_chart(const ReportData& d, Lang lang);
// Project timing, one 16:9 slide per project_rows_per_chart projects: a row
// per project with its planned start, median start, median production start
// and 80% range, and the chance of producing by the last year. "projects",
// "projects-2", ...; none without projects.
inline constexpr std::size_t project_rows_per_chart = 10;
std::vector<Chart> project_charts(const ReportData& d, Lang lang);
Chart sweep_lines(const SweepResult& r, Lang lang);
Chart sweep_heat(const SweepResult& r, std::size_t target, Lang lang);
Chart solve_chart(const SolveResult& r, Lang lang);

// Project timing, for the chart and project_timing.csv.
struct TimingStats {
  double share_in = 0;    // draws with a month inside the horizon
  std::vector<double> q;  // at timing_q, over draws with a month; empty if none
  int max_month = -1;
};
inline const std::vector<double> timing_q = {0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95};
TimingStats timing_stats(const std::vector<int>& months, int horizon);

// ---- files

// Creates the report folder; RunError if it cannot.
void make_report_dir(const std::string& out_dir);
// Saves each chart's SVG (and PNG when options.png) into out_dir; returns the
// file names in order.
std::vector<std::string> save_charts(const std::vector<Chart>& charts, const std::string& out_dir,
                                     const ReportOptions& options);
void write_targets_csv(const ReportData& d, const std::string& path, Lang lang);
void write_quantiles_csv(const ReportData& d, const std::string& path, Lang lang);
void write_timing_csv(const ReportData& d, const std::string& path, Lang lang);
// A link index.html lists under the tables (handout.pdf, comparison.csv).
struct Link {
  std::string href, text;
};
void write_index(const ReportData& d, const std::vector<Chart>& charts, const std::string& path,
                 Lang lang, const ReportOptions& options, const std::vector<Link>& links = {});
// Writes text to a file; RunError if it cannot.
void write_text_file(const std::string& path, const std::string& text);
// An ISO time in UTC ("2026-12-02T07:50:12Z") in the county's time zone,
// China Standard Time (UTC+8, no daylight saving): "2026-12-02 15:50 北京时间".
// Other text is returned as it is.
std::string county_time(const std::string& iso_utc, Lang lang);
void write_sweep_index(const SweepResult& r, const std::vector<Chart>& charts,
                       const std::string& path, Lang lang);

}  // namespace countysim::report_detail
