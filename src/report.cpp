#include "countysim/report.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

#include "countysim/errors.hpp"
#include "countysim/metrics.hpp"
#include "countysim/svg.hpp"

extern char** environ;

namespace countysim {

namespace fs = std::filesystem;

Lang parse_lang(const std::string& s) {
  if (s == "zh") return Lang::zh;
  if (s == "en") return Lang::en;
  throw UsageError(fmt::format("--lang {}: unknown language; use zh or en", s));
}

DisplayUnit display_unit(const std::string& units, Lang lang) {
  DisplayUnit u;
  bool zh = lang == Lang::zh;
  if (units == "亿元") {
    u.unit = zh ? "亿元" : "100m yuan";
  } else if (units == "persons") {
    u.scale = 1e-4;
    u.unit = zh ? "万人" : "10k persons";
  } else if (units == "fraction") {
    u.scale = 100;
    u.unit = "%";
    u.percent = true;
  } else if (units == "mu") {
    u.unit = zh ? "亩" : "mu";
    u.integer = true;
  } else if (units == "count") {
    u.integer = true;
  } else if (units == "month") {
    u.unit = zh ? "月" : "months";
    u.integer = true;
  } else {
    u.unit = units;
  }
  return u;
}

int display_decimals(double v, const DisplayUnit& u) {
  if (u.integer) return 0;
  if (u.percent) return 1;
  double a = std::fabs(v);
  if (u.scale == 1e-4) return a < 10 ? 2 : 1;  // 万人
  return a >= 1000 ? 0 : a >= 1 ? 1 : 2;
}

namespace {

std::string trim_zeros(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string with_unit(const std::string& num, const DisplayUnit& u, Lang lang) {
  if (u.percent) return num + "%";
  if (u.unit.empty()) return num;
  if (lang == Lang::zh) return num + " " + u.unit;
  return u.unit == "mu" ? num + " mu" : num + " (" + u.unit + ")";
}

// A threshold as written in a plan: no trailing zeros ("12%", "100 亿元").
std::string format_threshold(double stored, const std::string& units, Lang lang) {
  DisplayUnit u = display_unit(units, lang);
  double v = stored * u.scale;
  return with_unit(trim_zeros(svg::fixed(v, 4)), u, lang);
}

}  // namespace

std::string format_value(double stored, const std::string& units, Lang lang) {
  if (!std::isfinite(stored)) return "–";
  DisplayUnit u = display_unit(units, lang);
  double v = stored * u.scale;
  return with_unit(svg::fixed(v, display_decimals(v, u)), u, lang);
}

std::string format_probability(double p) {
  if (!std::isfinite(p)) return "–";
  if (p > 0 && p < 0.005) return "<1%";
  if (p < 1 && p > 0.995) return ">99%";
  return fmt::format("{:.0f}%", p * 100);
}

std::string month_label(int base_year, int month) {
  int y = base_year + 1 + (month >= 0 ? month / 12 : -((-month + 11) / 12));
  int m = month - 12 * (y - base_year - 1) + 1;
  return fmt::format("{}-{:02d}", y, m);
}

Likelihood classify_probability(double p) {
  if (p >= 2.0 / 3.0) return Likelihood::likely;
  if (p <= 1.0 / 3.0) return Likelihood::unlikely;
  return Likelihood::about_even;
}

const char* likelihood_label(Likelihood l, Lang lang) {
  bool zh = lang == Lang::zh;
  switch (l) {
    case Likelihood::likely:
      return zh ? "可能" : "likely";
    case Likelihood::about_even:
      return zh ? "可能性约一半" : "about even";
    case Likelihood::unlikely:
      return zh ? "不太可能" : "unlikely";
  }
  return "";
}

const char* likelihood_color(Likelihood l) {
  switch (l) {
    case Likelihood::likely:
      return "#2e7d32";
    case Likelihood::about_even:
      return "#e69f00";
    case Likelihood::unlikely:
      return "#c62828";
  }
  return "#777";
}

void set_png_dpi(const std::string& png_path, double dpi) {
  std::ifstream in(png_path, std::ios::binary);
  std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 CRC) = 33 bytes.
  if (png.size() < 33 || png.compare(12, 4, "IHDR") != 0)
    throw RunError(fmt::format("{}: not a PNG file", png_path));
  if (png.find("pHYs") != std::string::npos) return;
  auto ppm = static_cast<std::uint32_t>(std::lround(dpi / 0.0254));
  unsigned char chunk[21] = {0, 0, 0, 9, 'p', 'H', 'Y', 's'};
  for (int i = 0; i < 2; ++i) {
    chunk[8 + 4 * i] = static_cast<unsigned char>(ppm >> 24);
    chunk[9 + 4 * i] = static_cast<unsigned char>(ppm >> 16);
    chunk[10 + 4 * i] = static_cast<unsigned char>(ppm >> 8);
    chunk[11 + 4 * i] = static_cast<unsigned char>(ppm);
  }
  chunk[16] = 1;  // unit: metre
  uLong crc = crc32(0L, chunk + 4, 13);
  for (int i = 0; i < 4; ++i) chunk[17 + i] = static_cast<unsigned char>(crc >> (24 - 8 * i));
  png.insert(33, reinterpret_cast<const char*>(chunk), sizeof chunk);
  std::ofstream out(png_path, std::ios::binary | std::ios::trunc);
  out << png;
  out.close();
  if (!out) throw RunError(fmt::format("{}: cannot write", png_path));
}

namespace {

using svg::Anchor;
using svg::Document;
using svg::Frame;
using svg::Style;
using svg::TextStyle;


// Fan colours: darkest in the middle (Bank of England convention).
constexpr const char* band90 = "#d4e4f4";
constexpr const char* band80 = "#a6c8e8";
constexpr const char* band50 = "#5f9bd1";
constexpr const char* median_colour = "#0b3c73";
constexpr const char* grey_text = "#666";

constexpr double chart_w = 800, chart_h = 450;

// Text in the likelihood colours: the amber darkened to read on white.
const char* ink(Likelihood l) {
  return l == Likelihood::about_even ? "#a86f00" : likelihood_color(l);
}

bool is_ascii(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string at(const std::vector<std::string>& v, std::size_t i) {
  return i < v.size() ? v[i] : std::string();
}

// Names in the file are Chinese; in English use them only if they are ASCII.
std::string pick_label(const std::string& label, const std::string& id, Lang lang) {
  if (lang == Lang::zh) return label.empty() ? id : label;
  return !label.empty() && is_ascii(label) ? label : id;
}

std::string tr(Lang lang, const char* zh, const char* en) {
  return lang == Lang::zh ? zh : en;
}

std::string metric_label(const ReportData& d, const std::string& metric, Lang lang) {
  if (auto m = metric_from_name(metric)) {
    const MetricInfo& info = metric_info(*m);
    if (lang == Lang::zh) return info.label_zh;
    std::string s = info.long_name;
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
  }
  auto it = d.summaries.find(metric);
  if (it != d.summaries.end()) {
    if (lang == Lang::zh && !it->second.label_zh.empty()) return it->second.label_zh;
    if (!it->second.long_name.empty()) return it->second.long_name;
  }
  return metric;
}

std::string metric_units(const ReportData& d, const std::string& metric) {
  if (auto m = metric_from_name(metric)) return metric_info(*m).units;
  auto it = d.summaries.find(metric);
  return it != d.summaries.end() ? it->second.units : "";
}

bool metric_is_integer(const std::string& metric) {
  auto m = metric_from_name(metric);
  return m && metric_info(*m).integer;
}

std::string count_noun(const std::string& metric, Lang lang) {
  if (lang != Lang::zh) return "";
  if (metric.find("firms") != std::string::npos) return " 家";
  if (metric.find("projects") != std::string::npos || metric == "clusters_at_least") return " 个";
  return "";
}

std::size_t index_of(const std::vector<std::string>& v, const std::string& s) {
  auto it = std::find(v.begin(), v.end(), s);
  return it == v.end() ? v.size() : static_cast<std::size_t>(it - v.begin());
}

std::string cluster_name(const ReportData& d, std::size_t c, Lang lang) {
  return pick_label(at(d.coords.cluster_label, c), at(d.coords.cluster, c), lang);
}

std::string project_name(const ReportData& d, std::size_t p, Lang lang) {
  return pick_label(at(d.coords.project_label, p), at(d.coords.project, p), lang);
}

std::string target_name(const TargetRow& t, Lang lang) {
  return pick_label(t.label, t.id, lang);
}

// What a target measures, e.g. "纺织服装总产值", "clusters in group main ≥ 10 (100m yuan)".
std::string target_subject(const ReportData& d, const TargetRow& t, Lang lang) {
  if (t.metric == "cluster_output" && !t.cluster.empty()) {
    std::string c = t.cluster;
    std::size_t i = index_of(d.coords.cluster, t.cluster);
    if (i < d.coords.cluster.size()) c = cluster_name(d, i, lang);
    return lang == Lang::zh ? c + "总产值" : "Gross output of " + c;
  }
  if (t.metric == "clusters_at_least") {
    std::string gt = format_threshold(t.group_threshold, "亿元", lang);
    return lang == Lang::zh ? fmt::format("{} 组中产值 ≥ {}的集群数", t.group, gt)
                            : fmt::format("Clusters in group {} with output ≥ {}", t.group, gt);
  }
  return metric_label(d, t.metric, lang);
}

std::string op_symbol(const TargetRow& t) {
  return t.op == "at_most" ? "≤" : "≥";
}

std::string target_condition(const ReportData& d, const TargetRow& t, Lang lang) {
  return fmt::format("{} {}{}", op_symbol(t),
                     format_threshold(t.threshold, metric_units(d, t.metric), lang),
                     count_noun(t.metric, lang));
}

// "工业总产值 ≥ 100 亿元（2024 年）"
std::string target_sentence(const ReportData& d, const TargetRow& t, Lang lang) {
  std::string s = target_subject(d, t, lang) + " " + target_condition(d, t, lang);
  return lang == Lang::zh ? fmt::format("{}（{} 年）", s, t.year)
                          : fmt::format("{} in {}", s, t.year);
}

// Cuts text to fit a width, ending in "…".
std::string fit(const std::string& s, double size, double max_width) {
  if (svg::text_width(s, size) <= max_width) return s;
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    std::string next = out + s.substr(i, len);
    if (svg::text_width(next + "…", size) > max_width) break;
    out = next;
    i += len;
  }
  return out + "…";
}

// Moves label positions (sorted top to bottom) apart by at least `gap`.
std::vector<double> spread(std::vector<double> ys, double gap, double lo, double hi) {
  std::vector<std::size_t> order(ys.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return ys[a] < ys[b]; });
  for (std::size_t k = 1; k < order.size(); ++k)
    ys[order[k]] = std::max(ys[order[k]], ys[order[k - 1]] + gap);
  if (!order.empty() && ys[order.back()] > hi) {
    ys[order.back()] = hi;
    for (std::size_t k = order.size() - 1; k-- > 0;)
      ys[order[k]] = std::min(ys[order[k]], ys[order[k + 1]] - gap);
  }
  for (auto& y : ys) y = std::max(y, lo);
  return ys;
}

// Quantile (numpy's default, type 7) of sorted data.
double sorted_quantile(const std::vector<double>& s, double q) {
  if (s.empty()) return std::numeric_limits<double>::quiet_NaN();
  double h = (static_cast<double>(s.size()) - 1) * q;
  auto lo = static_cast<std::size_t>(std::floor(h));
  double b = lo + 1 < s.size() ? s[lo + 1] : s[lo];
  return s[lo] + (h - static_cast<double>(lo)) * (b - s[lo]);
}

std::string draws_text(const ReportData& d, Lang lang) {
  std::string n = fmt::format("{}", d.info.draws);
  // Thousands separators, as in statistical yearbooks.
  for (int i = static_cast<int>(n.size()) - 3; i > 0; i -= 3)
    n.insert(static_cast<std::size_t>(i), ",");
  return lang == Lang::zh ? n + " 次模拟" : n + " draws";
}

// "P = 37%", "P > 99%", "P < 1%".
std::string p_equals(double p) {
  std::string f = format_probability(p);
  return f[0] == '<' || f[0] == '>' ? "P " + f.substr(0, 1) + " " + f.substr(1) : "P = " + f;
}

std::string interval_text(double lo, double hi) {
  return fmt::format("[{}, {}]", format_probability(lo), format_probability(hi));
}

struct Chart {
  std::string stem;     // file name without extension
  std::string caption;  // for index.html
  Document doc;
};

void header(Document& doc, const std::string& title, const std::string& subtitle) {
  doc.title(title);
  // Long titles (English target names) shrink a little before they are cut.
  double size = 20;
  while (size > 15 && svg::text_width(title, size) * 1.05 > chart_w - 48) size -= 1;
  doc.text(24, 32, fit(title, size, chart_w - 48), {size, Anchor::start, "#111", true});
  doc.text(24, 54, fit(subtitle, 12, chart_w - 48), {12, Anchor::start, grey_text});
}

// Column of quantile q in a summary; the file's quantile coordinate decides.
std::size_t quantile_column(const Coordinates& c, double q) {
  for (std::size_t i = 0; i < c.quantile.size(); ++i)
    if (std::fabs(c.quantile[i] - q) < 1e-9) return i;
  throw RunError(fmt::format("results file has no {} quantile in its summaries", q));
}

// ---------------------------------------------------------------- fan chart

Chart fan_chart(const ReportData& d, const std::string& metric, Lang lang) {
  const MetricSummary& s = d.summaries.at(metric);
  const auto& years = d.coords.year;
  const std::size_t ny = years.size(), nq = d.coords.quantile.size();
  DisplayUnit du = display_unit(s.units, lang);
  auto val = [&](std::size_t y, double q) {
    return s.quantiles[y * nq + quantile_column(d.coords, q)] * du.scale;
  };
  std::vector<const TargetRow*> targets;
  for (const auto& t : d.targets.rows)
    if (t.metric == metric && t.cluster.empty() && t.group.empty()) targets.push_back(&t);

  // Flows (loans, land released) have no base-year value: start where the data does.
  std::size_t y0 = 0;
  while (y0 + 1 < ny && !(std::isfinite(val(y0, 0.05)) && std::isfinite(val(y0, 0.95)))) ++y0;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::size_t y = y0; y < ny; ++y)
    if (std::isfinite(val(y, 0.05)) && std::isfinite(val(y, 0.95)))
      lo = std::min(lo, val(y, 0.05)), hi = std::max(hi, val(y, 0.95));
  for (auto* t : targets)
    lo = std::min(lo, t->threshold * du.scale), hi = std::max(hi, t->threshold * du.scale);
  double pad = (hi - lo) * 0.04;
  svg::Ticks ticks = svg::nice_ticks(lo - pad, hi + pad, 6);

  std::string name = metric_label(d, metric, lang);
  std::string unit = du.percent ? "%" : du.unit;
  Chart ch{"fan_" + metric, "", Document(chart_w, chart_h)};
  Document& doc = ch.doc;
  std::string title = unit.empty()       ? name
                      : lang == Lang::zh ? fmt::format("{}（{}）", name, unit)
                                         : fmt::format("{} ({})", name, unit);
  std::string span = fmt::format("{}–{}", years.front(), years.back());
  std::string sub =
      lang == Lang::zh
          ? fmt::format("{} 年 · 中位数及 50%、80%、90% 概率区间 · {} · {}", span,
                        draws_text(d, lang), d.info.scenario_name)
          : fmt::format("{} · median with 50%, 80% and 90% probability bands · {} · {}", span,
                        draws_text(d, lang), d.info.scenario_name);
  header(doc, title, sub);
  ch.caption = title;

  Frame f(70, 84, chart_w - 70 - 150, chart_h - 84 - 40, years.front() - 0.2, years.back() + 0.2,
          ticks.lo, ticks.hi);
  f.y_axis(doc, ticks.values, [&](double v) { return svg::fixed(v, ticks.decimals); });
  std::vector<double> xt;
  int step = ny > 12 ? 2 : 1;
  for (std::size_t y = 0; y < ny; y += static_cast<std::size_t>(step)) xt.push_back(years[y]);
  f.x_axis(doc, xt, [](double v) { return fmt::format("{:.0f}", v); });
  f.border(doc);
  doc.text(24, f.top() - 12, unit, {11, Anchor::start, grey_text});

  auto band = [&](double qlo, double qhi, const char* colour) {
    std::vector<svg::Point> pts;
    for (std::size_t y = y0; y < ny; ++y) pts.emplace_back(f.px(years[y]), f.py(val(y, qhi)));
    for (std::size_t y = ny; y-- > y0;) pts.emplace_back(f.px(years[y]), f.py(val(y, qlo)));
    doc.polygon(pts, {colour, "none", 0, 1, ""});
  };
  band(0.05, 0.95, band90);
  band(0.10, 0.90, band80);
  band(0.25, 0.75, band50);
  std::vector<svg::Point> med;
  for (std::size_t y = y0; y < ny; ++y) med.emplace_back(f.px(years[y]), f.py(val(y, 0.5)));
  doc.polyline(med, {"none", median_colour, 2.5, 1, ""});
  for (const auto& [x, y] : med) doc.circle(x, y, 2.5, {median_colour, "none", 0, 1, ""});

  // History: the base year, when it is known (the same in every draw).
  if (y0 == 0 && val(0, 0.05) == val(0, 0.95)) {
    double bx = f.px(years.front()), by = f.py(val(0, 0.5));
    doc.circle(bx, by, 5, {"#111", "#fff", 1.5, 1, ""});
    std::string hist = lang == Lang::zh ? fmt::format("{} 年实际", years.front())
                                        : fmt::format("{} actual", years.front());
    bool room_below = by < f.bottom() - 24;
    TextStyle hs{12, Anchor::start, "#111"};
    hs.halo = true;
    doc.text(bx + 6, room_below ? by + 20 : by - 12,
             hist + " " + svg::fixed(val(0, 0.5), display_decimals(val(0, 0.5), du)), hs);
  }

  // Last-year figures on the right.
  std::size_t last = ny - 1;
  double lx = f.px(years.back()) + 14;
  std::vector<double> qs = {0.95, 0.5, 0.05};
  std::vector<double> ys;
  for (double q : qs) ys.push_back(f.py(val(last, q)) + 4);
  ys = spread(ys, 15, f.top() + 8, f.bottom());
  for (std::size_t i = 0; i < qs.size(); ++i) {
    double v = val(last, qs[i]);
    std::string lab =
        qs[i] == 0.5 ? tr(lang, "中位数 ", "median ") : fmt::format("{:.0f}%: ", qs[i] * 100);
    doc.text(lx, ys[i], lab + svg::fixed(v, display_decimals(v, du)),
             {12, Anchor::start, qs[i] == 0.5 ? median_colour : grey_text, qs[i] == 0.5});
  }

  // Targets: a horizontal line at the threshold, marked in its year.
  std::vector<double> label_y;
  for (auto* t : targets) label_y.push_back(f.py(t->threshold * du.scale) - 7);
  label_y = spread(label_y, 15, f.top() + 12, f.bottom() - 4);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const TargetRow& t = *targets[i];
    const char* colour = likelihood_color(classify_probability(t.probability));
    const char* text_colour = ink(classify_probability(t.probability));
    double y = f.py(t.threshold * du.scale), x = f.px(t.year);
    doc.line(f.left(), y, f.right(), y, {"none", colour, 1.6, 1, "7 4"});
    doc.polygon({{x, y - 7}, {x + 7, y}, {x, y + 7}, {x - 7, y}}, {colour, "#fff", 1, 1, ""});
    std::string lab = lang == Lang::zh
                          ? fmt::format("目标 {}（{} 年）：{}", target_condition(d, t, lang),
                                        t.year, p_equals(t.probability))
                          : fmt::format("Target {} in {}: {}", target_condition(d, t, lang), t.year,
                                        p_equals(t.probability));
    TextStyle ts{13, Anchor::end, text_colour, true};
    ts.halo = true;
    doc.text(x - 12, label_y[i], lab, ts);
  }

  // Legend, top right.
  double lxr = chart_w - 24, ly = 30;
  struct Item {
    std::string text;
    int kind;  // 0 swatch, 1 line, 2 dashed
    const char* colour;
  };
  std::vector<Item> items = {{"50%", 0, band50},
                             {"80%", 0, band80},
                             {"90%", 0, band90},
                             {tr(lang, "中位数", "median"), 1, median_colour}};
  if (!targets.empty()) items.push_back({tr(lang, "目标", "target"), 2, "#555"});
  for (auto it = items.rbegin(); it != items.rend(); ++it) {
    double w = svg::text_width(it->text, 12);
    doc.text(lxr, ly + 4, it->text, {12, Anchor::end, "#333"});
    lxr -= w + 8;
    if (it->kind == 0)
      doc.rect(lxr - 16, ly - 6, 16, 12, {it->colour, "none", 0, 1, ""});
    else
      doc.line(lxr - 18, ly, lxr, ly, {"none", it->colour, 2.5, 1, it->kind == 2 ? "5 3" : ""});
    lxr -= 30;
  }
  return ch;
}

// ----------------------------------------------------------- target dashboard

Chart dashboard_chart(const ReportData& d, Lang lang) {
  const auto& rows = d.targets.rows;
  const double row_h = 44, top = 92;
  double h = top + row_h * static_cast<double>(rows.size() + 1) + 64;
  Chart ch{"targets", "", Document(chart_w, h)};
  Document& doc = ch.doc;
  std::string title = tr(lang, "目标实现概率", "Probability of meeting each target");
  header(doc, title,
         lang == Lang::zh ? fmt::format("条形为概率，横线为 95% 置信区间 · {} · {}",
                                        draws_text(d, lang), d.info.scenario_name)
                          : fmt::format("Bars: probability; whiskers: 95% interval · {} · {}",
                                        draws_text(d, lang), d.info.scenario_name));
  ch.caption = title;

  const double label_w = 300, right_w = 160;
  Frame f(24 + label_w, top, chart_w - 24 - label_w - right_w, row_h * (rows.size() + 1), 0, 1, 0,
          1);
  std::vector<double> xt = {0, 0.2, 0.4, 0.6, 0.8, 1.0};
  for (double v : xt)
    doc.line(f.px(v), f.top(), f.px(v), f.bottom(), {"none", "#ececec", 1, 1, ""});
  for (double v : {1.0 / 3, 2.0 / 3}) {
    doc.line(f.px(v), f.top() - 6, f.px(v), f.bottom(), {"none", "#999", 1, 1, "3 3"});
    doc.text(f.px(v), f.top() - 10, v < 0.5 ? "1/3" : "2/3", {11, Anchor::middle, grey_text});
  }
  f.x_axis(doc, xt, [](double v) { return fmt::format("{:.0f}%", v * 100); });
  doc.line(f.left(), f.top(), f.left(), f.bottom(), {"none", "#666", 1, 1, ""});
  doc.line(f.left(), f.bottom(), f.right(), f.bottom(), {"none", "#666", 1, 1, ""});

  auto draw_row = [&](std::size_t i, const std::string& name, const std::string& detail, double p,
                      double lo, double hi, bool ci) {
    double yc = f.top() + row_h * (static_cast<double>(i) + 0.5);
    Likelihood l = classify_probability(p);
    const char* colour = likelihood_color(l);
    doc.text(f.left() - 10, yc - 3, fit(name, 14, label_w - 10), {14, Anchor::end, "#111", true});
    doc.text(f.left() - 10, yc + 13, fit(detail, 10.5, label_w - 10),
             {10.5, Anchor::end, grey_text});
    doc.rect(f.left(), yc - 11, f.px(p) - f.left(), 22, {colour, "none", 0, 1, ""});
    if (ci) {
      Style w{"none", "#222", 1.5, 1, ""};
      doc.line(f.px(lo), yc, f.px(hi), yc, w);
      doc.line(f.px(lo), yc - 6, f.px(lo), yc + 6, w);
      doc.line(f.px(hi), yc - 6, f.px(hi), yc + 6, w);
    }
    std::string txt = format_probability(p);
    doc.text(f.right() + 10, yc - 1, txt, {16, Anchor::start, ink(l), true});
    if (ci)
      doc.text(f.right() + 10 + svg::text_width(txt, 16) * 1.1 + 8, yc - 1, interval_text(lo, hi),
               {11, Anchor::start, grey_text});
    doc.text(f.right() + 10, yc + 14, likelihood_label(l, lang), {11, Anchor::start, ink(l)});
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& t = rows[i];
    draw_row(i, target_name(t, lang), target_sentence(d, t, lang), t.probability, t.ci_low,
             t.ci_high, true);
  }
  double ya = f.top() + row_h * static_cast<double>(rows.size());
  doc.line(24, ya, chart_w - 24, ya, {"none", "#bbb", 1, 1, "2 2"});
  draw_row(rows.size(), tr(lang, "全部目标同时实现", "All targets together"),
           tr(lang, "各目标在同一次模拟中全部达到", "every target met in the same draw"),
           d.targets.all_met_probability, 0, 0, false);

  // Legend: the scale.
  double lx = 24, ly = h - 22;
  doc.text(lx, ly + 4, tr(lang, "可能性：", "Scale:"), {12, Anchor::start, "#333"});
  lx += svg::text_width(tr(lang, "可能性：", "Scale:"), 12) + 8;
  for (auto l : {Likelihood::likely, Likelihood::about_even, Likelihood::unlikely}) {
    std::string range = l == Likelihood::likely       ? "≥ 2/3"
                        : l == Likelihood::about_even ? "1/3–2/3"
                                                      : "≤ 1/3";
    std::string txt = fmt::format("{} ({})", likelihood_label(l, lang), range);
    doc.rect(lx, ly - 6, 14, 12, {likelihood_color(l), "none", 0, 1, ""});
    doc.text(lx + 19, ly + 4, txt, {12, Anchor::start, "#333"});
    lx += 19 + svg::text_width(txt, 12) + 22;
  }
  return ch;
}

// ------------------------------------------------- distribution of a target

std::string safe_stem(const std::string& id) {
  std::string s;
  for (char c : id)
    s += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
  return s;
}

Chart target_chart(const ReportData& d, std::size_t ti, Lang lang) {
  const TargetRow& t = d.targets.rows[ti];
  const std::string units = t.metric == "clusters_at_least" ? "count" : metric_units(d, t.metric);
  DisplayUnit du = display_unit(units, lang);
  bool integer = metric_is_integer(t.metric) || t.metric == "clusters_at_least";
  bool at_most = t.op == "at_most";
  const char* colour = likelihood_color(classify_probability(t.probability));

  std::vector<double> v;
  if (ti < d.target_values.size()) v = d.target_values[ti];
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  std::sort(v.begin(), v.end());
  for (auto& x : v) x *= du.scale;
  const double thr = t.threshold * du.scale;

  Chart ch{"target_" + safe_stem(t.id), "", Document(chart_w, chart_h)};
  Document& doc = ch.doc;
  std::string title = lang == Lang::zh
                          ? fmt::format("{}：{} {} 年分布", target_name(t, lang),
                                        target_subject(d, t, lang), t.year)
                          : fmt::format("{}: {}, distribution in {}", target_name(t, lang),
                                        target_subject(d, t, lang), t.year);
  std::string sub =
      lang == Lang::zh
          ? fmt::format("目标 {}；阴影为达到目标的模拟所占比例 · {} · {}",
                        target_condition(d, t, lang), draws_text(d, lang), d.info.scenario_name)
          : fmt::format("Target {}; shaded: share of draws that meet it · {} · {}",
                        target_condition(d, t, lang), draws_text(d, lang), d.info.scenario_name);
  header(doc, title, sub);
  ch.caption = title;

  // Bins: whole numbers for counts; else ~50 bins over the central 99% with an
  // edge on the threshold, so every bin lies on one side of it.
  double lo, hi, w, edge = thr;
  if (v.empty()) {
    lo = thr - 1, hi = thr + 1, w = 0.1;
  } else if (integer) {
    // Edges at k - 0.5 so each whole number is a bin, and one edge where
    // meeting the target starts.
    edge = at_most ? std::floor(thr) + 0.5 : std::ceil(thr) - 0.5;
    lo = std::min(v.front() - 0.5, edge - 1), hi = std::max(v.back() + 0.5, edge + 1);
    w = std::max(1.0, std::ceil((hi - lo) / 60));
    lo = edge - std::ceil((edge - lo) / w - 1e-9) * w;
    hi = edge + std::ceil((hi - edge) / w - 1e-9) * w;
  } else {
    // The central 99.8%; the few draws beyond go to the end bins, which lie on
    // the same side of the threshold as they do.
    lo = sorted_quantile(v, 0.001), hi = sorted_quantile(v, 0.999);
    if (hi - lo <= 0) hi = lo + std::max(1e-6, std::fabs(lo) * 0.01);
    w = (std::max(hi, thr) - std::min(lo, thr)) / 50;
    lo = std::min(lo, thr - w), hi = std::max(hi, thr + w);
    lo = thr - std::ceil((thr - lo) / w - 1e-9) * w;
    hi = thr + std::ceil((hi - thr) / w - 1e-9) * w;
  }
  auto nb = static_cast<std::size_t>(std::max(1.0, std::round((hi - lo) / w)));
  std::vector<double> count(nb, 0);
  for (double x : v) {
    auto b = static_cast<long>(std::floor((x - lo) / w));
    b = std::clamp<long>(b, 0, static_cast<long>(nb) - 1);  // tails go to the end bins
    count[static_cast<std::size_t>(b)] += 1;
  }
  double n = std::max<double>(1, static_cast<double>(v.size()));
  double top = 0;
  for (double c : count) top = std::max(top, c / n * 100);
  svg::Ticks yt = svg::nice_ticks(0, top * 1.12, 5);
  svg::Ticks xt = svg::nice_ticks(lo, hi, 7);
  Frame f(70, 84, chart_w - 70 - 30, chart_h - 84 - 48, lo, hi, 0, yt.hi);
  f.y_axis(doc, yt.values, [&](double x) { return svg::fixed(x, yt.decimals) + "%"; });
  std::vector<double> xticks;
  for (double x : xt.values)
    if (x >= lo - 1e-9 && x <= hi + 1e-9 && (!integer || std::fabs(x - std::round(x)) < 1e-9))
      xticks.push_back(x);
  int xdec = integer ? 0 : std::max(xt.decimals, 0);
  f.x_axis(doc, xticks, [&](double x) { return svg::fixed(x, xdec); });
  f.border(doc);
  doc.text(24, f.top() - 12, tr(lang, "模拟占比", "share of draws"),
           {11, Anchor::start, grey_text});
  std::string xunit = du.percent ? "%" : du.unit;
  if (!xunit.empty()) doc.text(f.right(), f.bottom() + 36, xunit, {11, Anchor::end, grey_text});

  for (std::size_t b = 0; b < nb; ++b) {
    if (count[b] == 0) continue;
    double x0 = lo + w * static_cast<double>(b), x1 = x0 + w, mid = (x0 + x1) / 2;
    bool meets = at_most ? mid <= edge : mid >= edge;
    doc.rect(f.px(x0) + 0.5, f.py(count[b] / n * 100), f.px(x1) - f.px(x0) - 1,
             f.py(0) - f.py(count[b] / n * 100), {meets ? colour : "#c4c4c4", "none", 0, 1, ""});
  }
  // Threshold and median.
  double tx = f.px(edge);
  doc.line(tx, f.top() - 4, tx, f.bottom(), {"none", "#111", 2, 1, "6 3"});
  std::string tl = tr(lang, "目标 ", "target ") + target_condition(d, t, lang);
  bool text_left = at_most ? true : false;
  // Put the probability on the side that meets the target, where there is room.
  double room_right = f.right() - tx, room_left = tx - f.left();
  if (!at_most && room_right < 200) text_left = true;
  if (at_most && room_left < 200) text_left = false;
  Anchor a = text_left ? Anchor::end : Anchor::start;
  double px = text_left ? tx - 8 : tx + 8;
  TextStyle t1{13, a, "#111", true}, t2{22, a, ink(classify_probability(t.probability)), true},
      t3{11, a, grey_text};
  t1.halo = t2.halo = t3.halo = true;
  doc.text(px, f.top() + 10, tl, t1);
  doc.text(px, f.top() + 34, p_equals(t.probability), t2);
  doc.text(px, f.top() + 52,
           fmt::format("{} {}", tr(lang, "95% 区间", "95% interval"),
                       interval_text(t.ci_low, t.ci_high)),
           t3);
  if (!v.empty()) {
    double m = sorted_quantile(v, 0.5);
    double mx = f.px(std::clamp(m, lo, hi));
    doc.line(mx, f.top() + 60, mx, f.bottom(), {"none", median_colour, 1.5, 1, "2 3"});
    std::string ml =
        tr(lang, "中位数 ", "median ") + svg::fixed(m, integer ? 0 : display_decimals(m, du));
    bool ml_left = mx > f.left() + (f.right() - f.left()) / 2;
    TextStyle ms{11, ml_left ? Anchor::end : Anchor::start, median_colour};
    ms.halo = true;
    doc.text(ml_left ? mx - 5 : mx + 5, f.top() + 74, ml, ms);
  }
  return ch;
}

// ---------------------------------------------------------- cluster chart

Chart cluster_chart(const ReportData& d, Lang lang) {
  const MetricSummary& s = d.summaries.at("cluster_output");
  const std::size_t nc = d.coords.cluster.size(), nq = d.coords.quantile.size();
  const std::size_t last = d.coords.year.size() - 1;
  auto val = [&](std::size_t y, std::size_t c, double q) {
    return s.quantiles[(y * nc + c) * nq + quantile_column(d.coords, q)];
  };
  const double line = 100;  // 百亿 clusters
  const double row_h = 40, top = 100;
  double h = top + row_h * static_cast<double>(nc) + 50;
  Chart ch{"clusters", "", Document(chart_w, h)};
  Document& doc = ch.doc;
  int ly = d.coords.year.back();
  std::string title = lang == Lang::zh
                          ? fmt::format("产业集群 {} 年总产值（亿元）", ly)
                          : fmt::format("Gross output by cluster in {} (100m yuan)", ly);
  std::string sub =
      lang == Lang::zh
          ? fmt::format(
                "箱体 25%–75%，须线 5%–95%，竖线为中位数，圆圈为 {} 年实际 · 红线 100 亿元 · {}",
                d.coords.year.front(), draws_text(d, lang))
          : fmt::format(
                "Box 25–75%, whiskers 5–95%, bar: median, circle: {} actual · red line: 100 · {}",
                d.coords.year.front(), draws_text(d, lang));
  header(doc, title, sub);
  ch.caption = title;

  double hi = line;
  for (std::size_t c = 0; c < nc; ++c) hi = std::max(hi, val(last, c, 0.95));
  for (const auto& t : d.targets.rows)
    if (t.metric == "cluster_output") hi = std::max(hi, t.threshold);
  svg::Ticks xt = svg::nice_ticks(0, hi * 1.05, 6);
  const double label_w = 150, right_w = 150;
  Frame f(24 + label_w, top, chart_w - 24 - label_w - right_w, row_h * static_cast<double>(nc), 0,
          xt.hi, 0, 1);
  for (double v : xt.values)
    doc.line(f.px(v), f.top(), f.px(v), f.bottom(), {"none", "#ececec", 1, 1, ""});
  f.x_axis(doc, xt.values, [&](double v) { return svg::fixed(v, xt.decimals); });
  f.border(doc);
  double lx = f.px(line);
  doc.line(lx, f.top() - 14, lx, f.bottom(), {"none", "#c62828", 2, 1, ""});
  doc.text(lx, f.top() - 18, tr(lang, "100 亿元", "100 (100m yuan)"),
           {12, Anchor::middle, "#c62828", true});
  doc.text(f.right() + 10, f.top() - 18, tr(lang, "P(≥ 100 亿元)", "P(≥ 100)"),
           {11, Anchor::start, grey_text});

  for (std::size_t c = 0; c < nc; ++c) {
    double yc = f.top() + row_h * (static_cast<double>(c) + 0.5);
    doc.text(f.left() - 10, yc - 1, fit(cluster_name(d, c, lang), 14, label_w - 10),
             {14, Anchor::end, "#111", true});
    std::string g = at(d.coords.cluster_group, c);
    if (!g.empty())
      doc.text(f.left() - 10, yc + 14, fit(tr(lang, "组 ", "group ") + g, 11, label_w - 10),
               {11, Anchor::end, grey_text});
    Style whisk{"none", median_colour, 1.5, 1, ""};
    doc.line(f.px(val(last, c, 0.05)), yc, f.px(val(last, c, 0.95)), yc, whisk);
    for (double q : {0.05, 0.95})
      doc.line(f.px(val(last, c, q)), yc - 6, f.px(val(last, c, q)), yc + 6, whisk);
    doc.rect(f.px(val(last, c, 0.25)), yc - 11, f.px(val(last, c, 0.75)) - f.px(val(last, c, 0.25)),
             22, {band80, median_colour, 1.2, 1, ""});
    double mx = f.px(val(last, c, 0.5));
    doc.line(mx, yc - 11, mx, yc + 11, {"none", median_colour, 3, 1, ""});
    doc.circle(f.px(val(0, c, 0.5)), yc, 4.5, {"#fff", "#111", 1.5, 1, ""});
    for (const auto& t : d.targets.rows) {
      if (t.metric != "cluster_output" || t.cluster != at(d.coords.cluster, c)) continue;
      double tx = f.px(t.threshold);
      const char* colour = likelihood_color(classify_probability(t.probability));
      doc.polygon({{tx, yc - 13}, {tx + 6, yc - 20}, {tx - 6, yc - 20}},
                  {colour, "none", 0, 1, ""});
      doc.text(tx + 8, yc - 14,
               fmt::format("{} {}", tr(lang, "目标", "target"), format_probability(t.probability)),
               {10, Anchor::start, ink(classify_probability(t.probability))});
    }
    std::string right = tr(lang, "中位数 ", "median ") + svg::fixed(val(last, c, 0.5), 1);
    doc.text(f.right() + 10, yc + 14, right, {11, Anchor::start, grey_text});
    if (c < d.cluster_last_output.size() && !d.cluster_last_output[c].empty()) {
      const auto& x = d.cluster_last_output[c];
      double p = static_cast<double>(
                     std::count_if(x.begin(), x.end(), [&](double y) { return y >= line; })) /
                 static_cast<double>(x.size());
      doc.text(f.right() + 10, yc - 1, format_probability(p),
               {14, Anchor::start, ink(classify_probability(p)), true});
    }
  }
  return ch;
}

// ---------------------------------------------------------- project timing

struct TimingStats {
  double share_in = 0;    // draws with a month inside the horizon
  std::vector<double> q;  // at timing_q, over draws with a month; empty if none
  int max_month = -1;
};
const std::vector<double> timing_q = {0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95};

// Production may begin after the last year (O_p = S_p + construction); such
// months count in the quantiles but not in the share within the horizon.
TimingStats timing_stats(const std::vector<int>& months, int horizon) {
  TimingStats s;
  if (months.empty()) return s;
  // Months are small whole numbers: a counting sort.
  for (int m : months) s.max_month = std::max(s.max_month, m);
  if (s.max_month < 0) return s;
  std::vector<std::size_t> count(static_cast<std::size_t>(s.max_month) + 1, 0);
  for (int m : months)
    if (m >= 0) ++count[static_cast<std::size_t>(m)];
  std::vector<double> v;
  v.reserve(months.size());
  std::size_t inside = 0;
  for (std::size_t m = 0; m < count.size(); ++m) {
    v.insert(v.end(), count[m], static_cast<double>(m));
    if (static_cast<int>(m) < horizon) inside += count[m];
  }
  s.share_in = static_cast<double>(inside) / static_cast<double>(months.size());
  for (double q : timing_q) s.q.push_back(sorted_quantile(v, q));
  return s;
}

Chart project_chart(const ReportData& d, Lang lang) {
  const std::size_t np = d.coords.project.size();
  const int base = d.info.base_year ? d.info.base_year : d.coords.year.front();
  const int horizon = 12 * (d.coords.year.back() - d.coords.year.front());
  bool has_prod = d.project_production.size() == np;
  const double row_h = has_prod ? 66 : 40, top = 100;
  double h = std::max(260.0, top + row_h * static_cast<double>(np) + 80);
  Chart ch{"projects", "", Document(chart_w, h)};
  Document& doc = ch.doc;
  std::string title = tr(lang, "重点项目开工与投产时间", "Project start and production timing");
  std::string sub = lang == Lang::zh
                        ? fmt::format(
                              "▼ 计划开工；条形为各月开工、投产的模拟占比，竖线为中位数；右侧为 {} "
                              "年底前开工、投产的概率 · {}",
                              d.coords.year.back(), draws_text(d, lang))
                        : fmt::format(
                              "▼ planned start; bars: share of draws by month, line: median; "
                              "right: chance by the end of {} · {}",
                              d.coords.year.back(), draws_text(d, lang));
  header(doc, title, sub);
  ch.caption = title;

  std::vector<TimingStats> st(np), pr(np);
  int lo = 0, last = horizon - 1;
  for (std::size_t p = 0; p < np; ++p) {
    if (p < d.project_start.size()) st[p] = timing_stats(d.project_start[p], horizon);
    if (has_prod) pr[p] = timing_stats(d.project_production[p], horizon);
    if (p < d.coords.project_planned_start_month.size())
      lo = std::min(lo, d.coords.project_planned_start_month[p]);
    last = std::max({last, st[p].max_month, pr[p].max_month});
  }
  lo = static_cast<int>(std::floor(lo / 12.0)) * 12;
  // Show up to two years past the horizon (production that starts later).
  int hi = std::min(horizon + 24, (last / 12 + 1) * 12);
  const double label_w = 190, right_w = 110;
  Frame f(24 + label_w, top, chart_w - 24 - label_w - right_w, row_h * static_cast<double>(np), lo,
          hi, 0, 1);
  std::vector<double> xt;
  int step = (hi - lo) / 12 > 8 ? 24 : 12;
  for (int m = lo; m <= hi; m += step) xt.push_back(m);
  for (int m = lo; m <= hi; m += 3)
    doc.line(f.px(m), f.top(), f.px(m), f.bottom(),
             {"none", m % 12 == 0 ? "#dcdcdc" : "#f1f1f1", 1, 1, ""});
  f.x_axis(doc, xt, [&](double m) { return month_label(base, static_cast<int>(m)).substr(0, 4); });
  f.border(doc);
  if (hi > horizon)
    doc.rect(f.px(horizon), f.top(), f.right() - f.px(horizon), f.bottom() - f.top(),
             {"#000", "none", 0, 0.05, ""});
  doc.line(f.px(horizon), f.top() - 10, f.px(horizon), f.bottom(), {"none", "#888", 1.5, 1, "4 3"});
  doc.text(f.px(horizon), f.top() - 14, tr(lang, "预测期末", "end of horizon"),
           {11, Anchor::end, grey_text});
  doc.text(f.right() + 10, f.top() - 14,
           has_prod ? tr(lang, "开工 / 投产", "start / prod.") : tr(lang, "开工", "start"),
           {11, Anchor::start, grey_text});

  // A strip per row: the share of draws in each month (scaled to the row's
  // busiest month), its median marked. Starts cluster at the months when land
  // and credit arrive, which a box plot would hide.
  auto strip = [&](const std::vector<int>& months, const TimingStats& s, double base, double height,
                   const char* fill, const char* stroke) {
    doc.line(f.left(), base, f.right(), base, {"none", "#bbb", 1, 1, ""});
    if (s.q.empty()) return;
    std::vector<double> count(static_cast<std::size_t>(hi - lo), 0);
    std::size_t later = 0;
    for (int m : months)
      if (m >= hi)
        ++later;
      else if (m >= 0)
        count[static_cast<std::size_t>(std::max(m, lo) - lo)] += 1;
    if (later > 0)
      doc.text(f.right() - 3, base - 4,
               fmt::format("{} {} →", tr(lang, "更晚", "later"),
                           format_probability(static_cast<double>(later) /
                                              static_cast<double>(months.size()))),
               {10, Anchor::end, grey_text});
    double top = std::max(1.0, *std::max_element(count.begin(), count.end()));
    for (std::size_t k = 0; k < count.size(); ++k) {
      if (count[k] == 0) continue;
      double m = lo + static_cast<double>(k), bh = std::max(1.0, height * count[k] / top);
      doc.rect(f.px(m) + 0.4, base - bh, f.px(m + 1) - f.px(m) - 0.8, bh, {fill, "none", 0, 1, ""});
    }
    double mx = f.px(std::clamp(s.q[3] + 0.5, double(lo), double(hi)));
    doc.line(mx, base - height - 3, mx, base, {"none", stroke, 2.5, 1, ""});
  };
  for (std::size_t p = 0; p < np; ++p) {
    double y0 = f.top() + row_h * static_cast<double>(p);
    double ys = y0 + 32, yp = y0 + 58;  // strip baselines
    if (p > 0) doc.line(24, y0, chart_w - 24, y0, {"none", "#ddd", 1, 1, ""});
    doc.text(f.left() - 10, y0 + row_h / 2 + 1, fit(project_name(d, p, lang), 13, label_w - 10),
             {13, Anchor::end, "#111", true});
    std::string cl = at(d.coords.project_cluster, p);
    std::size_t ci = index_of(d.coords.cluster, cl);
    if (!cl.empty())
      doc.text(f.left() - 10, y0 + row_h / 2 + 16,
               fit(ci < d.coords.cluster.size() ? cluster_name(d, ci, lang) : cl, 11, label_w - 10),
               {11, Anchor::end, grey_text});
    if (p < d.project_start.size()) strip(d.project_start[p], st[p], ys, 20, "#6baed6", "#08306b");
    if (has_prod) strip(d.project_production[p], pr[p], yp, 20, "#fd8d3c", "#7f2704");
    if (p < d.coords.project_planned_start_month.size()) {
      double px =
          f.px(std::clamp(d.coords.project_planned_start_month[p] + 0.5, double(lo), double(hi)));
      doc.polygon({{px - 6, y0 + 2}, {px + 6, y0 + 2}, {px, y0 + 11}}, {"#111", "none", 0, 1, ""});
    }
    doc.text(f.right() + 10, ys - 5, format_probability(st[p].share_in),
             {13, Anchor::start, "#08519c", true});
    if (has_prod)
      doc.text(f.right() + 10, yp - 5, format_probability(pr[p].share_in),
               {13, Anchor::start, "#a63603", true});
  }
  // Legend.
  double lx = 24 + label_w, ly = h - 26;
  doc.polygon({{lx, ly - 5}, {lx + 12, ly - 5}, {lx + 6, ly + 4}}, {"#111", "none", 0, 1, ""});
  lx += 18;
  std::string a = tr(lang, "计划开工", "planned start");
  doc.text(lx, ly + 4, a, {12, Anchor::start, "#333"});
  lx += svg::text_width(a, 12) + 20;
  doc.rect(lx, ly - 6, 16, 12, {"#6baed6", "none", 0, 1, ""});
  std::string b = tr(lang, "实际开工", "actual start");
  doc.text(lx + 22, ly + 4, b, {12, Anchor::start, "#333"});
  lx += 22 + svg::text_width(b, 12) + 20;
  if (has_prod) {
    doc.rect(lx, ly - 6, 16, 12, {"#fd8d3c", "none", 0, 1, ""});
    doc.text(lx + 22, ly + 4, tr(lang, "投产", "production start"), {12, Anchor::start, "#333"});
  }
  return ch;
}

// ------------------------------------------------------------------- CSV

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Shortest text that reads back to the same double; empty for NaN.
std::string csv_num(double v) {
  return std::isfinite(v) ? fmt::format("{}", v) : std::string();
}

class CsvFile {
 public:
  explicit CsvFile(std::string path) : path_(std::move(path)) { text_ = "\xEF\xBB\xBF"; }
  void row(const std::vector<std::string>& fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) text_ += (i ? "," : "") + csv_field(fields[i]);
    text_ += "\r\n";  // RFC 4180, as Excel writes
  }
  void save() const {
    std::ofstream f(path_, std::ios::binary);
    f << text_;
    f.close();
    if (!f) throw RunError(fmt::format("{}: cannot write", path_));
  }

 private:
  std::string path_, text_;
};

std::vector<std::string> quantile_headers(const Coordinates& c) {
  std::vector<std::string> h;
  for (double q : c.quantile) h.push_back(fmt::format("q{:02.0f}", q * 100));
  return h;
}

void write_targets_csv(const ReportData& d, const std::string& path) {
  CsvFile f(path);
  f.row({"id", "label", "metric", "cluster", "group", "group_threshold", "year", "op", "threshold",
         "units", "probability", "std_error", "ci_low", "ci_high", "likelihood"});
  for (const auto& t : d.targets.rows) {
    std::string units = t.metric == "clusters_at_least" ? "count" : metric_units(d, t.metric);
    f.row({t.id, t.label, t.metric, t.cluster, t.group,
           t.group.empty() ? "" : csv_num(t.group_threshold), std::to_string(t.year), t.op,
           csv_num(t.threshold), units, csv_num(t.probability), csv_num(t.std_error),
           csv_num(t.ci_low), csv_num(t.ci_high),
           likelihood_label(classify_probability(t.probability), Lang::en)});
  }
  // The joint probability, under an id no target can have.
  f.row({"(all)", "全部目标同时实现", "", "", "", "", "", "", "", "",
         csv_num(d.targets.all_met_probability), csv_num(d.targets.all_met_std_error), "", "",
         likelihood_label(classify_probability(d.targets.all_met_probability), Lang::en)});
  f.save();
}

void write_quantiles_csv(const ReportData& d, const std::string& path) {
  CsvFile f(path);
  std::vector<std::string> head = {"metric", "units", "year", "cluster", "project", "mean", "sd"};
  for (auto& h : quantile_headers(d.coords)) head.push_back(h);
  f.row(head);
  const std::size_t nq = d.coords.quantile.size();
  for (const auto& [name, s] : d.summaries) {
    std::size_t cells = 1;
    for (auto n : s.shape) cells *= n;
    for (std::size_t i = 0; i < cells; ++i) {
      std::string year, cluster, project;
      std::size_t rem = i;
      for (std::size_t k = s.shape.size(); k-- > 0;) {
        std::size_t idx = rem % s.shape[k];
        rem /= s.shape[k];
        const std::string& dim = s.dims[k];
        if (dim == "year")
          year = idx < d.coords.year.size() ? std::to_string(d.coords.year[idx]) : "";
        if (dim == "cluster") cluster = at(d.coords.cluster, idx);
        if (dim == "project") project = at(d.coords.project, idx);
      }
      std::vector<std::string> r = {name,
                                    s.units,
                                    year,
                                    cluster,
                                    project,
                                    csv_num(i < s.mean.size() ? s.mean[i] : NAN),
                                    csv_num(i < s.sd.size() ? s.sd[i] : NAN)};
      for (std::size_t q = 0; q < nq; ++q)
        r.push_back(csv_num(i * nq + q < s.quantiles.size() ? s.quantiles[i * nq + q] : NAN));
      f.row(r);
    }
  }
  f.save();
}

void write_timing_csv(const ReportData& d, const std::string& path) {
  CsvFile f(path);
  const int base = d.info.base_year ? d.info.base_year : d.coords.year.front();
  const int horizon = 12 * (d.coords.year.back() - d.coords.year.front());
  std::vector<std::string> head = {
      "project", "label", "cluster", "planned_start", "planned_start_month", "share_started"};
  for (double q : timing_q) head.push_back(fmt::format("start_q{:02.0f}", q * 100));
  head.push_back("share_production_in_horizon");
  for (double q : timing_q) head.push_back(fmt::format("production_q{:02.0f}", q * 100));
  f.row(head);
  for (std::size_t p = 0; p < d.coords.project.size(); ++p) {
    int planned = p < d.coords.project_planned_start_month.size()
                      ? d.coords.project_planned_start_month[p]
                      : 0;
    std::vector<std::string> r = {d.coords.project[p], at(d.coords.project_label, p),
                                  at(d.coords.project_cluster, p), month_label(base, planned),
                                  std::to_string(planned)};
    for (const auto* src : {&d.project_start, &d.project_production}) {
      if (p < src->size()) {
        TimingStats s = timing_stats((*src)[p], horizon);
        r.push_back(csv_num(s.share_in));
        for (std::size_t i = 0; i < timing_q.size(); ++i)
          r.push_back(i < s.q.size() ? csv_num(s.q[i]) : "");
      } else {
        r.insert(r.end(), timing_q.size() + 1, "");
      }
    }
    f.row(r);
  }
  f.save();
}

// ------------------------------------------------------------- PNG export

struct Job {
  std::string svg, png, err;
  pid_t pid = -1;
};

void start(Job& j, double zoom, double dpi) {
  std::string z = fmt::format("{}", zoom), dd = fmt::format("{}", dpi);
  std::vector<std::string> args = {"rsvg-convert", "-z",  z,    "-d",  dd,   "-p", dd,
                                   "-f",           "png", "-o", j.png, j.svg};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, j.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int rc = posix_spawnp(&j.pid, "rsvg-convert", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    throw RunError(
        fmt::format("cannot run rsvg-convert ({}): install librsvg2-bin (scripts/setup.sh)",
                    std::strerror(rc)));
}

void finish(Job& j) {
  int status = 0;
  while (waitpid(j.pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::ifstream e(j.err);
  std::string msg((std::istreambuf_iterator<char>(e)), std::istreambuf_iterator<char>());
  e.close();
  fs::remove(j.err);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
      msg = "rsvg-convert not found: install librsvg2-bin (scripts/setup.sh)";
    throw RunError(fmt::format("{}: rsvg-convert failed: {}", j.png, msg));
  }
}

void convert_all(std::vector<Job>& jobs, double zoom, double dpi) {
  std::size_t width = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 2, 8);
  std::size_t next_wait = 0;
  try {
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (i - next_wait >= width) finish(jobs[next_wait++]);
      start(jobs[i], zoom, dpi);
    }
    while (next_wait < jobs.size()) finish(jobs[next_wait++]);
  } catch (...) {
    // Reap what is still running before reporting.
    for (std::size_t i = next_wait; i < jobs.size(); ++i)
      if (jobs[i].pid > 0) waitpid(jobs[i].pid, nullptr, 0), fs::remove(jobs[i].err);
    throw;
  }
  for (auto& j : jobs) set_png_dpi(j.png, dpi);
}

// ------------------------------------------------------------ index.html

std::string h(const std::string& s) {
  return svg::escape(s);
}

void write_index(const ReportData& d, const std::vector<Chart>& charts, const std::string& path,
                 Lang lang, const ReportOptions& opt) {
  bool zh = lang == Lang::zh;
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"" << (zh ? "zh-CN" : "en")
    << "\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<title>" << h(d.info.scenario_name) << " · " << tr(lang, "模拟报告", "simulation report")
    << "</title>\n"
    << "<style>\n"
       "body{font-family:\"Noto Sans CJK SC\",\"Noto Sans CJK\",\"Source Han Sans SC\",\"Microsoft "
       "YaHei\",\"PingFang SC\",sans-serif;margin:2em auto;max-width:860px;color:#222;padding:0 "
       "1em}\n"
       "h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}\n"
       "table{border-collapse:collapse;font-size:.92em;margin:1em 0}\n"
       "th,td{border-bottom:1px solid #e4e4e4;padding:.35em .6em;text-align:left}\n"
       "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
       "figure{margin:1.5em 0}img{max-width:100%;height:auto;border:1px solid #eee}\n"
       "figcaption{font-size:.85em;color:#666}.meta{color:#555;font-size:.9em}\n"
       ".likely{color:#2e7d32;font-weight:bold}.about_even{color:#b07800;font-weight:bold}"
       ".unlikely{color:#c62828;font-weight:bold}\n"
       "</style>\n</head>\n<body>\n";
  o << "<h1>" << h(d.info.scenario_name) << "</h1>\n";
  o << "<p class=\"meta\">" << tr(lang, "模拟次数", "Draws") << " " << d.info.draws << " · "
    << tr(lang, "随机种子", "seed") << " " << d.info.seed << " · "
    << tr(lang, "生成时间", "created") << " " << h(d.info.created) << " · countysim "
    << h(d.info.countysim_version) << "</p>\n";

  o << "<h2>" << tr(lang, "目标", "Targets") << "</h2>\n";
  o << "<p>"
    << tr(lang,
          "概率为达到目标的模拟所占比例，括号内为 95% "
          "置信区间（Wilson），反映模拟次数有限带来的误差。"
          "可能性用语：<span class=\"likely\">可能</span>（≥ 2/3）、<span "
          "class=\"about_even\">可能性约一半"
          "</span>（1/3–2/3）、<span class=\"unlikely\">不太可能</span>（≤ 1/3）。",
          "Probability: the share of draws that meet the target; the 95% interval (Wilson) shows "
          "the Monte-Carlo error of a finite run. Scale: <span class=\"likely\">likely</span> (≥ "
          "2/3), "
          "<span class=\"about_even\">about even</span> (1/3–2/3), <span "
          "class=\"unlikely\">unlikely"
          "</span> (≤ 1/3).")
    << "</p>\n<table>\n<thead><tr><th>" << tr(lang, "目标", "Target") << "</th><th>"
    << tr(lang, "条件", "Condition") << "</th><th>" << tr(lang, "概率", "Probability")
    << "</th><th>" << tr(lang, "95% 区间", "95% interval") << "</th><th>"
    << tr(lang, "标准误", "Std. error") << "</th><th>" << tr(lang, "判断", "Reading")
    << "</th></tr></thead>\n<tbody>\n";
  auto cls = [](Likelihood l) {
    return l == Likelihood::likely       ? "likely"
           : l == Likelihood::about_even ? "about_even"
                                         : "unlikely";
  };
  for (const auto& t : d.targets.rows) {
    Likelihood l = classify_probability(t.probability);
    o << "<tr><td>" << h(target_name(t, lang)) << "</td><td>" << h(target_sentence(d, t, lang))
      << "</td><td class=\"num " << cls(l) << "\">" << format_probability(t.probability)
      << "</td><td class=\"num\">" << interval_text(t.ci_low, t.ci_high)
      << "</td><td class=\"num\">" << fmt::format("{:.1f}", t.std_error * 100)
      << "%</td><td class=\"" << cls(l) << "\">" << likelihood_label(l, lang) << "</td></tr>\n";
  }
  {
    Likelihood l = classify_probability(d.targets.all_met_probability);
    o << "<tr><td><b>" << tr(lang, "全部目标同时实现", "All targets together")
      << "</b></td><td></td>"
      << "<td class=\"num " << cls(l) << "\">" << format_probability(d.targets.all_met_probability)
      << "</td><td></td><td class=\"num\">"
      << fmt::format("{:.1f}", d.targets.all_met_std_error * 100) << "%</td><td class=\"" << cls(l)
      << "\">" << likelihood_label(l, lang) << "</td></tr>\n";
  }
  o << "</tbody>\n</table>\n";

  auto figure = [&](const Chart& c) {
    o << "<figure><img src=\"" << h(c.stem) << ".svg\" alt=\"" << h(c.caption) << "\" width=\""
      << c.doc.width() << "\" height=\"" << c.doc.height() << "\"><figcaption>" << h(c.caption);
    if (opt.png) o << " · <a href=\"" << h(c.stem) << ".png\">PNG</a>";
    o << " · <a href=\"" << h(c.stem) << ".svg\">SVG</a></figcaption></figure>\n";
  };
  auto section = [&](const std::string& title, const std::string& prefix, bool exact) {
    bool any = false;
    for (const auto& c : charts) {
      bool match = exact ? c.stem == prefix : c.stem.rfind(prefix, 0) == 0;
      if (!match) continue;
      if (!any) o << "<h2>" << title << "</h2>\n";
      any = true;
      figure(c);
    }
  };
  section(tr(lang, "目标实现概率", "Probability of each target"), "targets", true);
  section(tr(lang, "主要指标预测（扇形图）", "Headline metrics (fan charts)"), "fan_", false);
  section(tr(lang, "各目标指标的分布", "Distribution of each target's metric"), "target_", false);
  section(tr(lang, "产业集群", "Clusters"), "clusters", true);
  section(tr(lang, "重点项目进度", "Project timing"), "projects", true);

  o << "<h2>" << tr(lang, "数据表（CSV，UTF-8）", "Tables (CSV, UTF-8)") << "</h2>\n<ul>\n"
    << "<li><a href=\"targets.csv\">targets.csv</a> — "
    << tr(lang, "目标概率", "target probabilities") << "</li>\n"
    << "<li><a href=\"quantiles.csv\">quantiles.csv</a> — "
    << tr(lang, "各指标各年均值、标准差与分位数（原始单位：亿元、人、比例）",
          "mean, sd and quantiles per metric and year (stored units: 亿元, persons, fractions)")
    << "</li>\n";
  if (!d.coords.project.empty())
    o << "<li><a href=\"project_timing.csv\">project_timing.csv</a> — "
      << tr(lang,
            "项目开工与投产月份的分位数（月序号：0 为预测首年 1 月；只计开工、投产的模拟，"
            "投产可晚于预测期末）及预测期内开工、投产的比例",
            "quantiles of project start and production months (month 0 = January of the first "
            "projection year; over the draws where it happens, production possibly after the "
            "horizon) and the shares within the horizon")
      << "</li>\n";
  o << "</ul>\n";
  // Lets a headless browser check that every chart loaded.
  o << "<script>\nwindow.addEventListener('load', function () {\n"
       "  var imgs = document.images, ok = 0;\n"
       "  for (var i = 0; i < imgs.length; i++) if (imgs[i].complete && imgs[i].naturalWidth > 0) "
       "ok++;\n"
       "  document.body.setAttribute('data-images-loaded', ok + '/' + imgs.length);\n"
       "});\n</script>\n</body>\n</html>\n";
  std::ofstream f(path, std::ios::binary);
  f << o.str();
  f.close();
  if (!f) throw RunError(fmt::format("{}: cannot write", path));
}

}  // namespace

// ------------------------------------------------------------------ entry

ReportData load_report_data(const ResultsReader& r) {
  ReportData d;
  d.info = r.info();
  d.coords = r.coords();
  d.targets = r.targets();
  for (const auto& m : r.summary_metrics()) d.summaries.emplace(m, r.summary(m));

  auto columns = [&](const std::string& name, auto& out, std::size_t expect_cols) {
    using Col = typename std::decay_t<decltype(out)>::value_type;
    if (!r.has_dataset("draws", name)) return;
    std::vector<std::size_t> shape;
    std::vector<double> v = r.read_dataset("draws", name, &shape);
    if (shape.size() != 2 || shape[1] != expect_cols) return;
    out.assign(shape[1], Col(shape[0]));
    for (std::size_t i = 0; i < shape[0]; ++i)
      for (std::size_t j = 0; j < shape[1]; ++j) {
        double x = v[i * shape[1] + j];
        if constexpr (std::is_same_v<typename Col::value_type, int>)
          out[j][i] = std::isfinite(x) ? static_cast<int>(std::lround(x)) : -1;
        else
          out[j][i] = x;
      }
  };
  columns("target_value", d.target_values, d.targets.rows.size());
  columns("project_start_month", d.project_start, d.coords.project.size());
  columns("project_production_month", d.project_production, d.coords.project.size());

  // Cluster outputs in the last year: the whole dataset is read, so only when
  // it is of modest size (128 MiB as double).
  if (r.has_dataset("draws", "cluster_output") && d.coords.year.size() > 0 &&
      d.info.draws * d.coords.year.size() * d.coords.cluster.size() <= (16u << 20)) {
    std::vector<std::size_t> shape;
    std::vector<double> v = r.read_dataset("draws", "cluster_output", &shape);
    if (shape.size() == 3) {
      std::size_t nd = shape[0], ny = shape[1], nc = shape[2];
      d.cluster_last_output.assign(nc, std::vector<double>(nd));
      for (std::size_t i = 0; i < nd; ++i)
        for (std::size_t c = 0; c < nc; ++c)
          d.cluster_last_output[c][i] = v[(i * ny + ny - 1) * nc + c];
    }
  }
  return d;
}

std::vector<std::string> render_report(const ReportData& d, const std::string& out_dir, Lang lang,
                                       const ReportOptions& opt) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec || !fs::is_directory(out_dir))
    throw RunError(fmt::format("{}: cannot create the report folder: {}", out_dir,
                               ec ? ec.message() : "a file of that name exists"));
  if (d.coords.year.empty()) throw RunError("results file has no years");

  std::vector<Chart> charts;
  charts.push_back(dashboard_chart(d, lang));
  // Headline metrics, then any other yearly metric a target uses.
  std::vector<std::string> fans;
  for (const auto& m : headline_metrics())
    if (d.summaries.count(m)) fans.push_back(m);
  for (const auto& t : d.targets.rows) {
    auto it = d.summaries.find(t.metric);
    if (it != d.summaries.end() && it->second.dims.size() == 1 &&
        std::find(fans.begin(), fans.end(), t.metric) == fans.end())
      fans.push_back(t.metric);
  }
  for (const auto& m : fans) charts.push_back(fan_chart(d, m, lang));
  for (std::size_t i = 0; i < d.targets.rows.size(); ++i)
    charts.push_back(target_chart(d, i, lang));
  if (d.summaries.count("cluster_output") && !d.coords.cluster.empty())
    charts.push_back(cluster_chart(d, lang));
  if (!d.coords.project.empty() && d.project_start.size() == d.coords.project.size())
    charts.push_back(project_chart(d, lang));

  std::vector<std::string> files;
  std::vector<Job> jobs;
  for (const auto& c : charts) {
    std::string base = (fs::path(out_dir) / c.stem).string();
    c.doc.save(base + ".svg");
    files.push_back(c.stem + ".svg");
    if (opt.png) {
      jobs.push_back({base + ".svg", base + ".png", base + ".png.log"});
      files.push_back(c.stem + ".png");
    }
  }
  if (opt.png) convert_all(jobs, opt.png_zoom, opt.png_dpi);

  write_targets_csv(d, (fs::path(out_dir) / "targets.csv").string());
  files.push_back("targets.csv");
  write_quantiles_csv(d, (fs::path(out_dir) / "quantiles.csv").string());
  files.push_back("quantiles.csv");
  if (!d.coords.project.empty()) {
    write_timing_csv(d, (fs::path(out_dir) / "project_timing.csv").string());
    files.push_back("project_timing.csv");
  }
  write_index(d, charts, (fs::path(out_dir) / "index.html").string(), lang, opt);
  files.push_back("index.html");
  return files;
}

void write_report(const std::string& h5_path, const std::string& out_dir, const std::string& lang) {
  Lang l = parse_lang(lang);
  ReportData d;
  {
    ResultsReader reader(h5_path);
    d = load_report_data(reader);
  }
  render_report(d, out_dir, l);
}

}  // namespace countysim
