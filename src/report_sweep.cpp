// Sweep charts: target probabilities against one lever (a line per target), or
// over a grid of two (a heat map per target), and `report SWEEP.h5`.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "countysim/yaml_tree.hpp"
#include "report_chart.hpp"

namespace countysim {

namespace report_detail {

namespace {

const char* const kLineColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

// White (0) to dark blue (1).
std::string heat_colour(double p) {
  p = std::clamp(p, 0.0, 1.0);
  const int r = static_cast<int>(std::lround(247 + (8 - 247) * p));
  const int g = static_cast<int>(std::lround(251 + (48 - 251) * p));
  const int b = static_cast<int>(std::lround(255 + (107 - 255) * p));
  return fmt::format("#{:02x}{:02x}{:02x}", r, g, b);
}

// A lever's path as the audience reads it ("finance.manufacturing_loan_share"
// → "新增贷款中制造业的占比"); unknown paths stay as written.
std::string lever_name(const std::string& path, Lang lang) {
  const bool zh = lang == Lang::zh;
  auto part = [&](std::size_t k) {
    std::size_t at = 0;
    for (std::size_t i = 0; i < k && at != std::string::npos; ++i) {
      at = path.find('.', at);
      if (at != std::string::npos) ++at;
    }
    if (at == std::string::npos) return std::string();
    return path.substr(at, path.find('.', at) - at);
  };
  const std::string head = part(0), id = part(1), last = path.substr(path.rfind('.') + 1);
  if (path == "finance.manufacturing_loan_share")
    return zh ? "新增贷款中制造业的占比" : "Manufacturing share of new loans";
  if (path == "finance.new_loans")
    return zh ? "每年新增贷款（亿元）" : "New loans a year (100m yuan)";
  if (path == "land.supply_mu")
    return zh ? "每年新供工业用地（亩）" : "Industrial land supplied a year (mu)";
  if (path == "macro.rest_growth")
    return zh ? "其余经济增长率" : "Growth of the rest of the economy";
  if (head == "projects" && last == "success_probability")
    return zh ? "项目 " + id + " 成功概率" : "Success probability of project " + id;
  if (head == "projects" && last == "construction_months")
    return zh ? "项目 " + id + " 建设期（月）" : "Construction months of project " + id;
  if (head == "clusters" && last == "growth")
    return zh ? "集群 " + id + " 增长率" : "Growth of cluster " + id;
  return path;
}

// Shares, probabilities and rates read as percentages ("10%", not "0.1").
bool lever_is_fraction(const SweepAxis& ax) {
  const std::string last = ax.path.substr(ax.path.rfind('.') + 1);
  const bool named =
      last.find("share") != std::string::npos || last.find("probability") != std::string::npos ||
      last.find("growth") != std::string::npos || last.find("rate") != std::string::npos;
  return named && std::all_of(ax.values.begin(), ax.values.end(),
                              [](double v) { return v >= -1 && v <= 1; });
}

std::string lever_value(const SweepAxis& ax, double v, int decimals) {
  if (lever_is_fraction(ax)) {
    const int d = std::max(0, decimals - 2);
    return svg::fixed(v * 100, d) + "%";
  }
  return svg::fixed(v, decimals);
}

// The lever's value in the swept scenario (its merged text), to mark on the
// chart: a number as written, or a distribution's mean (normal, beta,
// uniform, triangular, PERT) or median (lognormal); "mean" tells which.
// Nothing for per-year values or unknown paths.
struct Current {
  double value = 0;
  bool mean = false;
};
std::optional<Current> current_value(const std::string& yaml_text, const std::string& path) {
  if (yaml_text.empty()) return std::nullopt;
  yaml::Report report;
  const int src = report.add_source("scenario");
  const auto root = yaml::parse(yaml_text, src, report);
  if (!root || report.has_errors()) return std::nullopt;
  const yaml::Node* n = &*root;
  std::size_t from = 0;
  while (n && from <= path.size()) {
    const std::size_t dot = std::min(path.find('.', from), path.size());
    const std::string key = path.substr(from, dot - from);
    from = dot + 1;
    if (n->is_map()) {
      n = n->find(key);
    } else if (n->is_sequence()) {  // clusters and projects: the item with this id
      const yaml::Node* hit = nullptr;
      for (const auto& item : n->items)
        if (const yaml::Node* id = item.is_map() ? item.find("id") : nullptr; id && id->text == key)
          hit = &item;
      n = hit;
    } else {
      return std::nullopt;
    }
  }
  if (!n) return std::nullopt;
  auto num = [](const yaml::Node* x, double& out) {
    if (!x || !x->is_scalar()) return false;
    char* end = nullptr;
    out = std::strtod(x->text.c_str(), &end);
    return end != x->text.c_str() && *end == '\0';
  };
  double v = 0;
  if (num(n, v)) return Current{v, false};
  if (!n->is_map() || !n->find("dist")) return std::nullopt;
  const std::string dist = n->find("dist")->text;
  double a = 0, b = 0, c = 0;
  if (dist == "normal" && num(n->find("mean"), a)) return Current{a, true};
  if (dist == "lognormal" && num(n->find("median"), a)) return Current{a, true};
  if (dist == "beta" && num(n->find("alpha"), a) && num(n->find("beta"), b) && a + b > 0)
    return Current{a / (a + b), true};
  if (dist == "uniform" && num(n->find("min"), a) && num(n->find("max"), b))
    return Current{(a + b) / 2, true};
  if ((dist == "triangular" || dist == "pert") && num(n->find("min"), a) &&
      num(n->find("mode"), b) && num(n->find("max"), c))
    return Current{dist == "pert" ? (a + 4 * b + c) / 6 : (a + b + c) / 3, true};
  return std::nullopt;
}

std::string current_label(const Current& c, const std::string& value, Lang lang) {
  if (lang == Lang::zh) return (c.mean ? "当前（均值）" : "当前 ") + value;
  return (c.mean ? "current (mean) " : "current ") + value;
}

}  // namespace

Chart sweep_lines(const SweepResult& r, Lang lang) {
  const bool zh = lang == Lang::zh;
  const SweepAxis& ax = r.axes.at(0);
  const std::size_t nt = r.target_ids.size();
  double x_lo = *std::min_element(ax.values.begin(), ax.values.end());
  double x_hi = *std::max_element(ax.values.begin(), ax.values.end());
  if (x_lo == x_hi) {
    x_lo -= 1;
    x_hi += 1;
  }
  const svg::Ticks xt = svg::nice_ticks(x_lo, x_hi);
  // A 16:9 slide: the plot gives up height to the two-column legend (and
  // a note) below it; only a very long target list makes the slide taller.
  const double rows = static_cast<double>((nt + 1) / 2);
  const double plot_h = std::max(150.0, std::min(320.0, 305 - 18 * rows));
  const double slide_h = std::max(450.0, 50 + plot_h + 62 + 18 * rows + 33);
  Chart chart{"sweep-lines", ax.path, Document(800, slide_h)};
  Document& doc = chart.doc;
  const std::string lever = lever_name(ax.path, lang);
  doc.title(zh ? "达标概率随" + lever + "的变化" : "Target probabilities against " + lever);
  const svg::Frame fr(70, 50, 690, plot_h, x_lo, x_hi, 0, 1);
  doc.text(70, 28, zh ? "各目标达成概率 × " + lever : "Probability of each target by " + lever,
           {16, svg::Anchor::start, "#222", true});
  fr.y_axis(doc, {0, 0.2, 0.4, 0.6, 0.8, 1.0},
            [](double v) { return fmt::format("{:.0f}%", 100 * v); });
  std::vector<double> xs;
  for (double v : xt.values)
    if (v >= x_lo - 1e-9 * (x_hi - x_lo) && v <= x_hi + 1e-9 * (x_hi - x_lo)) xs.push_back(v);
  fr.x_axis(
      doc, xs, [&](double v) { return lever_value(ax, v, xt.decimals); }, true);
  doc.text((fr.left() + fr.right()) / 2, fr.bottom() + 38, lever,
           {13, svg::Anchor::middle, "#444"});
  // The scenario's own value of the lever, when it lies on the axis.
  if (const auto cur = current_value(r.scenario_yaml, ax.path);
      cur && cur->value >= x_lo && cur->value <= x_hi) {
    const double x = fr.px(cur->value);
    doc.line(x, fr.top(), x, fr.bottom(), {"none", "#444", 1.5, 1, "5 4"});
    TextStyle ts{11, x > (fr.left() + fr.right()) / 2 ? svg::Anchor::end : svg::Anchor::start,
                 "#333", true};
    ts.halo = true;
    doc.text(x + (ts.anchor == svg::Anchor::end ? -5 : 5), fr.top() + 14,
             current_label(*cur, lever_value(ax, cur->value, xt.decimals + 1), lang), ts);
  }
  std::vector<std::size_t> order(ax.values.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return ax.values[a] < ax.values[b]; });
  // Targets at 0% at every point would draw lines on top of each other on
  // the axis: when there are several, they go into a note instead.
  std::vector<std::size_t> drawn, at_zero;
  for (std::size_t k = 0; k < nt; ++k) {
    bool zero = true;
    for (std::size_t i = 0; i < ax.values.size(); ++i)
      zero = zero && r.probability[i * nt + k] == 0;
    (zero ? at_zero : drawn).push_back(k);
  }
  if (at_zero.size() < 2)
    drawn.insert(drawn.end(), at_zero.begin(), at_zero.end()), at_zero.clear();
  std::sort(drawn.begin(), drawn.end());
  auto name_of = [&](std::size_t k) {
    return zh && k < r.target_labels.size() && !r.target_labels[k].empty() ? r.target_labels[k]
                                                                           : r.target_ids[k];
  };
  for (std::size_t slot = 0; slot < drawn.size(); ++slot) {
    const std::size_t k = drawn[slot];
    const char* colour = kLineColours[k % 10];
    std::vector<svg::Point> pts;
    for (std::size_t i : order)
      pts.emplace_back(fr.px(ax.values[i]), fr.py(r.probability[i * nt + k]));
    doc.polyline(pts, {"none", colour, 2, 1, k >= 10 ? "6 4" : ""});
    for (const auto& p : pts) doc.circle(p.first, p.second, 3, {colour, "none", 1, 1, ""});
    // Two columns; a long name shrinks rather than losing its end ("(假设18%)").
    const double lx = 70 + 345.0 * (slot % 2), ly = fr.bottom() + 62 + 18.0 * (slot / 2);
    doc.line(lx, ly - 4, lx + 18, ly - 4, {"none", colour, 2, 1, ""});
    const std::string name = name_of(k);
    const double w = svg::text_width(name, 12);
    doc.text(lx + 24, ly, name, {w > 315 ? 12 * 315 / w : 12, svg::Anchor::start, "#222"});
  }
  if (!at_zero.empty()) {
    std::string names;
    for (std::size_t i = 0; i < at_zero.size(); ++i)
      names += (i ? (zh ? "、" : ", ") : "") + name_of(at_zero[i]);
    const std::string note =
        zh ? "各取值下均为 0%（未画线）：" + names : "0% at every value (no line drawn): " + names;
    double ny = fr.bottom() + 62 + 18.0 * static_cast<double>((drawn.size() + 1) / 2);
    for (const auto& line : wrap(note, 11, 690)) {
      doc.text(70, ny, line, {11, svg::Anchor::start, grey_text});
      ny += 14;
    }
  }
  fr.border(doc);
  return chart;
}

// The probability of one target against one lever, as solve evaluated it.
Chart solve_chart(const SolveResult& r, Lang lang) {
  const bool zh = lang == Lang::zh;
  SweepAxis ax;
  ax.path = r.path;
  ax.values = {r.lo, r.hi};
  for (const auto& e : r.evaluations) ax.values.push_back(e.first);
  const svg::Ticks xt = svg::nice_ticks(r.lo, r.hi);
  Chart chart{"solve-" + r.target, r.target + " " + r.target_label, Document(800, 450)};
  Document& doc = chart.doc;
  const std::string lever = lever_name(r.path, lang);
  const std::string name = zh && !r.target_label.empty() ? r.target_label : r.target;
  const std::string goal = svg::fixed(r.goal * 100, 0) + "%";
  doc.title(zh ? name + "：达到" + goal + "概率所需的" + lever
               : name + ": the " + lever + " that gives a " + goal + " chance");
  const svg::Frame fr(70, 60, 690, 290, r.lo, r.hi, 0, 1);
  const std::string heading =
      zh ? "达到" + goal + "概率所需的" + lever : lever + " for a " + goal + " chance";
  const double hw = svg::text_width(heading, 16);
  doc.text(70, 26, heading, {hw > 690 ? 16 * 690 / hw : 16, svg::Anchor::start, "#222", true});
  const double nw = svg::text_width(name, 12);
  doc.text(70, 46, name, {nw > 690 ? 12 * 690 / nw : 12, svg::Anchor::start, "#444"});
  for (double y = 0; y <= 1.0001; y += 0.2) {
    doc.line(fr.left(), fr.py(y), fr.right(), fr.py(y), {"none", "#e0e0e0", 1, 1, ""});
    doc.text(fr.left() - 6, fr.py(y) + 4, svg::fixed(y * 100, 0) + "%",
             {12, svg::Anchor::end, "#444"});
  }
  for (double x : xt.values) {
    if (x < r.lo - 1e-12 || x > r.hi + 1e-12) continue;
    doc.line(fr.px(x), fr.top(), fr.px(x), fr.bottom(), {"none", "#eeeeee", 1, 1, ""});
    doc.text(fr.px(x), fr.bottom() + 18, lever_value(ax, x, xt.decimals),
             {12, svg::Anchor::middle, "#444"});
  }
  doc.text((fr.left() + fr.right()) / 2, fr.bottom() + 40, lever,
           {13, svg::Anchor::middle, "#444"});
  // The goal and the band within which a run of this many draws cannot tell it apart.
  const double band_lo = std::max(0.0, r.goal - 2 * r.std_error);
  const double band_hi = std::min(1.0, r.goal + 2 * r.std_error);
  doc.rect(fr.left(), fr.py(band_hi), fr.right() - fr.left(), fr.py(band_lo) - fr.py(band_hi),
           {"#ff7f0e", "none", 0, 0.15, ""});
  doc.line(fr.left(), fr.py(r.goal), fr.right(), fr.py(r.goal), {"none", "#ff7f0e", 1.5, 1, "6 4"});
  // Below the line when the goal is high (the curve usually runs up there).
  const double gy = r.goal > 0.5 ? fr.py(r.goal) + 18 : fr.py(r.goal) - 8;
  doc.text(fr.right() - 4, gy, zh ? "目标概率 " + goal : "goal " + goal,
           {12, svg::Anchor::end, "#b35900", false, 0, true});
  if (r.outcome == SolveResult::Outcome::found) {
    const double x0 = fr.px(std::max(r.lo, r.interval_lo)),
                 x1 = fr.px(std::min(r.hi, r.interval_hi));
    doc.rect(x0, fr.top(), std::max(1.0, x1 - x0), fr.bottom() - fr.top(),
             {"#2ca02c", "none", 0, 0.12, ""});
    doc.line(fr.px(r.value), fr.top(), fr.px(r.value), fr.bottom(), {"none", "#2ca02c", 2, 1, ""});
    const bool right = fr.px(r.value) > (fr.left() + fr.right()) / 2;
    doc.text(fr.px(r.value) + (right ? -6 : 6), fr.bottom() - 30,
             (zh ? "所需 " : "needed ") + lever_value(ax, r.value, xt.decimals + 1),
             {13, right ? svg::Anchor::end : svg::Anchor::start, "#1b6e1b", true, 0, true});
  }
  if (const auto cur = current_value(r.scenario_yaml, r.path);
      cur && cur->value >= r.lo && cur->value <= r.hi) {
    const double x = fr.px(cur->value);
    doc.line(x, fr.top(), x, fr.bottom(), {"none", "#444", 1.5, 1, "4 3"});
    const bool right = x > (fr.left() + fr.right()) / 2;
    doc.text(x + (right ? -5 : 5), fr.bottom() - 8,
             current_label(*cur, lever_value(ax, cur->value, xt.decimals + 1), lang),
             {11, right ? svg::Anchor::end : svg::Anchor::start, "#333", false, 0, true});
  }
  std::vector<svg::Point> pts;
  for (const auto& e : r.evaluations) pts.emplace_back(fr.px(e.first), fr.py(e.second));
  doc.polyline(pts, {"none", "#1f77b4", 2, 1, ""});
  for (const auto& p : pts) doc.circle(p.first, p.second, 3, {"#1f77b4", "none", 1, 1, ""});
  // What the audience should take away, in words.
  std::string note;
  if (r.outcome == SolveResult::Outcome::found)
    note = zh ? fmt::format(
                    "在所查范围内，{}约为 {} 时概率达到 {}（±2 个标准误的区间：{} 至 {}；每个取值 "
                    "{} 次抽样）。",
                    lever, lever_value(ax, r.value, xt.decimals + 1), goal,
                    lever_value(ax, r.interval_lo, xt.decimals + 1),
                    lever_value(ax, r.interval_hi, xt.decimals + 1), r.draws)
              : fmt::format(
                    "The chance reaches {} when {} is about {} (within 2 standard errors: {} to "
                    "{}; {} draws a value).",
                    goal, lever, lever_value(ax, r.value, xt.decimals + 1),
                    lever_value(ax, r.interval_lo, xt.decimals + 1),
                    lever_value(ax, r.interval_hi, xt.decimals + 1), r.draws);
  else if (r.outcome == SolveResult::Outcome::none)
    note = zh ? "在所查范围内，没有取值能使概率达到 " + goal + "。"
              : "No value in the range searched gives a " + goal + " chance.";
  else
    note = zh ? "在所查范围内，每个取值的概率都已达到 " + goal + "。"
              : "Every value in the range searched already gives a " + goal + " chance.";
  double ny = fr.bottom() + 62;
  for (const auto& line : wrap(note, 12, 690)) {
    doc.text(70, ny, line, {12, svg::Anchor::start, "#333"});
    ny += 16;
  }
  fr.border(doc);
  return chart;
}

Chart sweep_heat(const SweepResult& r, std::size_t target, Lang lang) {
  const bool zh = lang == Lang::zh;
  const SweepAxis &a0 = r.axes.at(0), &a1 = r.axes.at(1);
  const std::size_t n0 = a0.values.size(), n1 = a1.values.size(), nt = r.target_ids.size();
  const double left = 120, top = 60, width = 600, height = 320;
  const double cw = width / static_cast<double>(n1), ch = height / static_cast<double>(n0);
  const std::string& label = r.target_labels.at(target);
  auto axis_value = [](const SweepAxis& ax, double v) {
    if (!lever_is_fraction(ax)) return fmt::format("{:g}", v);
    return fmt::format("{:g}%", std::round(v * 1e6) / 1e4);
  };
  Chart chart{fmt::format("sweep-heat-{}", r.target_ids.at(target)),
              r.target_ids[target] + " " + label, Document(800, 450)};
  Document& doc = chart.doc;
  doc.title(r.target_ids.at(target) + " " + label);
  doc.text(left, 28, (zh ? "达标概率: " : "Probability: ") + r.target_ids[target] + "  " + label,
           {15, svg::Anchor::start, "#222", true});
  for (std::size_t i = 0; i < n0; ++i)
    for (std::size_t j = 0; j < n1; ++j) {
      const double p = r.probability[(i * n1 + j) * nt + target];
      // vary_0 runs down the rows, first value at the top.
      const double x = left + cw * j, y = top + ch * i;
      doc.rect(x, y, cw, ch, {heat_colour(p), "#ffffff", 1, 1, ""});
      doc.text(x + cw / 2, y + ch / 2 + 5, fmt::format("{:.0f}%", 100 * p),
               {12, svg::Anchor::middle, p > 0.55 ? "#ffffff" : "#222"});
    }
  for (std::size_t j = 0; j < n1; ++j)
    doc.text(left + cw * (j + 0.5), top + height + 18, axis_value(a1, a1.values[j]),
             {12, svg::Anchor::middle, "#444"});
  for (std::size_t i = 0; i < n0; ++i)
    doc.text(left - 8, top + ch * (i + 0.5) + 4, axis_value(a0, a0.values[i]),
             {12, svg::Anchor::end, "#444"});
  // The scenario's own value of each lever, marked beside its axis.
  if (const auto cur = current_value(r.scenario_yaml, a1.path)) {
    const auto lo = std::min_element(a1.values.begin(), a1.values.end());
    const auto hi = std::max_element(a1.values.begin(), a1.values.end());
    if (n1 > 1 && cur->value >= *lo && cur->value <= *hi) {
      // Cells are evenly spaced by index: place the mark between the neighbours.
      double pos = 0;
      for (std::size_t j = 0; j + 1 < n1; ++j)
        if ((cur->value - a1.values[j]) * (cur->value - a1.values[j + 1]) <= 0 &&
            a1.values[j + 1] != a1.values[j])
          pos = j + (cur->value - a1.values[j]) / (a1.values[j + 1] - a1.values[j]);
      const double x = left + cw * (pos + 0.5);
      doc.polygon({{x, top - 2}, {x - 5, top - 10}, {x + 5, top - 10}}, {"#333", "none", 0, 1, ""});
      doc.text(x + 8, top - 3, current_label(*cur, axis_value(a1, cur->value), lang),
               {10, svg::Anchor::start, "#333"});
    }
  }
  if (const auto cur = current_value(r.scenario_yaml, a0.path)) {
    const auto lo = std::min_element(a0.values.begin(), a0.values.end());
    const auto hi = std::max_element(a0.values.begin(), a0.values.end());
    if (n0 > 1 && cur->value >= *lo && cur->value <= *hi) {
      double pos = 0;
      for (std::size_t i = 0; i + 1 < n0; ++i)
        if ((cur->value - a0.values[i]) * (cur->value - a0.values[i + 1]) <= 0 &&
            a0.values[i + 1] != a0.values[i])
          pos = i + (cur->value - a0.values[i]) / (a0.values[i + 1] - a0.values[i]);
      const double y = top + ch * (pos + 0.5);
      doc.polygon({{left - 52, y}, {left - 60, y - 5}, {left - 60, y + 5}},
                  {"#333", "none", 0, 1, ""});
      doc.text(24, top + height + 42, "▶ " + current_label(*cur, axis_value(a0, cur->value), lang),
               {10, svg::Anchor::start, "#333"});
    }
  }
  doc.text(left + width / 2, top + height + 42, lever_name(a1.path, lang),
           {13, svg::Anchor::middle, "#444"});
  svg::TextStyle vertical{13, svg::Anchor::middle, "#444"};
  vertical.rotate = -90;
  doc.text(24, top + height / 2, lever_name(a0.path, lang), vertical);
  // Colour key, right of the grid: 0% to 100% (drawn with lines, so the
  // grid's cells stay the only rectangles).
  const double kx = left + width + 22, kw = 14;
  for (int k = 0; k < 50; ++k) {
    const double p = (k + 0.5) / 50.0, y = top + height - height * (k + 0.5) / 50.0;
    doc.line(kx, y, kx + kw, y, {"none", heat_colour(p), height / 50.0 + 0.6, 1, ""});
  }
  for (int k = 0; k <= 4; ++k) {
    const double y = top + height - height * k / 4.0;
    doc.line(kx + kw, y, kx + kw + 4, y, {"none", "#666", 1, 1, ""});
    doc.text(kx + kw + 7, y + 4, fmt::format("{}%", 25 * k), {11, svg::Anchor::start, "#444"});
  }
  doc.text(kx, top - 8, zh ? "达标概率" : "probability", {11, svg::Anchor::start, "#444"});
  return chart;
}

}  // namespace report_detail

using report_detail::Chart;

std::string sweep_line_chart(const SweepResult& r, bool zh) {
  return report_detail::sweep_lines(r, zh ? Lang::zh : Lang::en).doc.str();
}

std::string sweep_heat_map(const SweepResult& r, std::size_t target, bool zh) {
  return report_detail::sweep_heat(r, target, zh ? Lang::zh : Lang::en).doc.str();
}

std::vector<std::string> write_solve_chart(const SolveResult& r, const std::string& out_dir,
                                           const std::string& lang, const ReportOptions& options) {
  report_detail::make_report_dir(out_dir);
  return report_detail::save_charts({report_detail::solve_chart(r, parse_lang(lang))}, out_dir,
                                    options);
}

std::vector<std::string> write_sweep_report(const std::string& path, const std::string& out_dir,
                                            const std::string& lang, const ReportOptions& options) {
  const Lang l = parse_lang(lang);
  const SweepResult r = read_sweep(path);
  report_detail::make_report_dir(out_dir);
  std::vector<Chart> charts;
  if (r.axes.size() == 1) {
    charts.push_back(report_detail::sweep_lines(r, l));
  } else {
    for (std::size_t k = 0; k < r.target_ids.size(); ++k)
      charts.push_back(report_detail::sweep_heat(r, k, l));
  }
  std::vector<std::string> files = report_detail::save_charts(charts, out_dir, options);
  if (options.pdf) {
    std::vector<std::string> svgs;
    for (const auto& c : charts)
      svgs.push_back((std::filesystem::path(out_dir) / (c.stem + ".svg")).string());
    write_pdf(svgs, (std::filesystem::path(out_dir) / "handout.pdf").string());
    files.push_back("handout.pdf");
  }
  report_detail::write_sweep_index(r, charts,
                                   (std::filesystem::path(out_dir) / "index.html").string(), l);
  files.push_back("index.html");
  return files;
}

}  // namespace countysim
