// Fan chart of a yearly metric: median and 50/80/90% bands, the targets on it.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "report_chart.hpp"

namespace countysim::report_detail {

Chart fan_chart(const ReportData& d, const std::string& metric, Lang lang) {
  const MetricSummary& s = d.summaries.at(metric);
  const auto& years = d.coords.year;
  const std::size_t ny = years.size(), nq = d.coords.quantile.size();
  DisplayUnit du = display_unit(s.units, lang);
  auto val = [&](std::size_t y, double q) {
    return s.quantiles[y * nq + quantile_column(d, q)] * du.scale;
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
  // Firm counts are counted in 家 (a bare number reads like an index).
  if (unit.empty() && metric.find("firms") != std::string::npos)
    unit = lang == Lang::zh ? "家" : "firms";
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

  // A base-year band: inputs assumed in the base year (value-added ratios,
  // shares) vary between draws, so even the known year has a range.
  if (y0 == 0 && val(0, 0.05) != val(0, 0.95)) {
    TextStyle ns{10, Anchor::start, grey_text};
    ns.halo = true;
    doc.text(f.left() + 6, f.bottom() - 8,
             lang == Lang::zh
                 ? fmt::format("{} 年也有区间：基年的部分输入（如增加值率、占比）为假设值",
                               years.front())
                 : fmt::format("{} has a range too: some base-year inputs (value-added ratios, "
                               "shares) are assumptions",
                               years.front()),
             ns);
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
    // "95 分位", not "95%:", which reads like a probability.
    std::string lab = qs[i] == 0.5       ? tr(lang, "中位数 ", "median ")
                      : lang == Lang::zh ? fmt::format("{:.0f} 分位 ", qs[i] * 100)
                                         : fmt::format("{:.0f}th pct ", qs[i] * 100);
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

  // Legend, right, between the subtitle and the plot (a long title above it
  // never runs into it).
  double lxr = chart_w - 24, ly = 72;
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

}  // namespace countysim::report_detail
