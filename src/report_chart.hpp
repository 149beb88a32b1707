// The report's internals, shared by its files: the chart base (page size,
// colours, header, text fitting, labels in the chosen language), one function
// per chart, the CSV tables, the PNG step and the index pages. Not public API.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

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
// "工业总产值 ≥ 100 亿元（2024 年）"
std::string target_sentence(const ReportData& d, const TargetRow& t, Lang lang);

// Cuts text to fit a width, ending in "…".
std::string fit(const std::string& s, double size, double max_width);
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

Chart fan_chart(const ReportData& d, const std::string& metric, Lang lang);
Chart dashboard_chart(const ReportData& d, Lang lang);
Chart target_chart(const ReportData& d, std::size_t target, Lang lang);
Chart cluster_chart(const ReportData& d, Lang lang);
// Project timing, at most project_rows_per_chart projects a chart (a taller
// one exceeds what librsvg renders, and what a slide shows): "projects",
// "projects-2", ...; none without projects.
inline constexpr std::size_t project_rows_per_chart = 25;
std::vector<Chart> project_charts(const ReportData& d, Lang lang);
Chart sweep_lines(const SweepResult& r, Lang lang);
Chart sweep_heat(const SweepResult& r, std::size_t target, Lang lang);

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
void write_targets_csv(const ReportData& d, const std::string& path);
void write_quantiles_csv(const ReportData& d, const std::string& path);
void write_timing_csv(const ReportData& d, const std::string& path);
void write_index(const ReportData& d, const std::vector<Chart>& charts, const std::string& path,
                 Lang lang, const ReportOptions& options);
void write_sweep_index(const SweepResult& r, const std::vector<Chart>& charts,
                       const std::string& path, Lang lang);

}  // namespace countysim::report_detail
