// The comparison slides: every run's target probabilities with the paired
// change against the base, and base vs alternative fans overlaid.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "report_chart.hpp"

namespace countysim::report_detail {

namespace {

constexpr const char* alt_colour = "#d95f02";
constexpr const char* alt_band = "#fdae6b";
constexpr std::size_t alts_per_slide = 5;

// "+4.1 ± 0.3 pt" (percentage points).
// Two decimals below one point, so a small but clear change does not read "+0.0 ± 0.0".
std::string change_text(double diff, double se) {
  const int dec = std::fabs(diff) < 0.01 ? 2 : 1;
  return fmt::format("{:+.{}f} ± {:.{}f} pt", diff * 100, dec, se * 100, dec);
}

const CompareRow* find_row(const Comparison& c, const std::string& id) {
  if (id == "all") return &c.all_met;
  for (const auto& r : c.rows)
    if (r.id == id) return &r;
  return nullptr;
}

Chart targets_slide(const ReportData& base, const std::string& base_name,
                    const std::vector<CompareRun>& alts, std::size_t first, std::size_t na,
                    std::size_t page, std::size_t pages, Lang lang) {
  const bool zh = lang == Lang::zh;
  Chart ch{page == 0 ? std::string("compare-targets") : fmt::format("compare-targets-{}", page + 1),
           "", Document(chart_w, chart_h)};
  Document& doc = ch.doc;
  std::string title = zh ? "各方案目标实现概率及相对基准的变化"
                         : "Chance of each target by scenario, and the change from the base";
  if (pages > 1) title += fmt::format(" ({}/{})", page + 1, pages);
  bool paired = true;
  for (std::size_t k = first; k < first + na; ++k) paired = paired && alts[k].comparison.paired;
  header(doc, title,
         zh ? fmt::format("{} · 变化 = 方案 − 基准（百分点），± 为标准误{}", draws_text(base, lang),
                          paired ? "，逐次配对（共同随机数）" : "")
            : fmt::format("{} · change = scenario − base (points), ± standard error{}",
                          draws_text(base, lang),
                          paired ? ", paired draw by draw (common random numbers)" : ""));
  ch.caption = title;

  const double col_w = na <= 3 ? 120 : 96, gap = 6;
  const double name_w = chart_w - 48 - (col_w + gap) * static_cast<double>(na + 1);
  const double top = 70, head_h = 44, foot = 34;
  const std::size_t nrows = base.targets.rows.size() + 1;
  const double row_h = std::min(34.0, (chart_h - top - head_h - foot) / static_cast<double>(nrows));
  auto col_x = [&](std::size_t k) {  // centre of column k: 0 = base
    return 24 + name_w + gap + (col_w + gap) * static_cast<double>(k) + col_w / 2;
  };
  wrapped_text(doc, col_x(0), top + head_h / 2 + 2, (zh ? "基准：" : "Base: ") + base_name, col_w,
               3, {10.5, Anchor::middle, "#111", true});
  for (std::size_t k = 0; k < na; ++k)
    wrapped_text(doc, col_x(k + 1), top + head_h / 2 + 2, alts[first + k].name, col_w, 3,
                 {10.5, Anchor::middle, alt_colour, true});
  doc.line(24, top + head_h, chart_w - 24, top + head_h, {"none", "#999", 1, 1, ""});

  double y = top + head_h;
  for (std::size_t r = 0; r < nrows; ++r) {
    const bool all = r + 1 == nrows;
    const std::string id = all ? "all" : base.targets.rows[r].id;
    const double p_base = all ? base.targets.all_met_probability : base.targets.rows[r].probability;
    const double yc = y + row_h / 2;
    if (all)
      doc.line(24, y, chart_w - 24, y, {"none", "#999", 1, 1, "2 2"});
    else if (r % 2 == 1)
      doc.rect(24, y, chart_w - 48, row_h, {"#f6f7f9", "none", 0, 1, ""});
    wrapped_text(doc, 24, yc + 4,
                 all ? tr(lang, "全部目标同时实现", "All targets together")
                     : target_name(base.targets.rows[r], lang),
                 name_w - 4, 2, {11.5, Anchor::start, "#111", true});
    const Likelihood lb = classify_probability(p_base);
    doc.text(col_x(0), yc + 5, format_chance(p_base), {13, Anchor::middle, ink(lb), true});
    for (std::size_t k = 0; k < na; ++k) {
      const Comparison& c = alts[first + k].comparison;
      const CompareRow* row = find_row(c, id);
      const double x = col_x(k + 1);
      if (!row) {
        doc.text(x, yc + 4, tr(lang, "（无此目标）", "(no such target)"),
                 {10, Anchor::middle, grey_text});
        continue;
      }
      // A change beyond two standard errors gets a tint: green up, red down.
      const bool clear =
          row->std_error > 0 ? std::fabs(row->diff) > 2 * row->std_error : row->diff != 0;
      if (clear)
        doc.rect(x - col_w / 2, y + 1, col_w, row_h - 2,
                 {row->diff > 0 ? "#e3f1e4" : "#f9e0e0", "none", 0, 1, ""});
      const Likelihood l = classify_probability(row->p_alt);
      doc.text(x, yc + 1, format_chance(row->p_alt), {13, Anchor::middle, ink(l), true});
      const char* tone = !clear ? grey_text : row->diff > 0 ? "#1b5e20" : "#b71c1c";
      doc.text(x, yc + 12,
               row->diff == 0 && row->std_error == 0 ? tr(lang, "不变", "no change")
                                                     : change_text(row->diff, row->std_error),
               {9, Anchor::middle, tone});
    }
    y += row_h;
  }
  doc.line(24, y, chart_w - 24, y, {"none", "#999", 1, 1, ""});
  std::string note =
      zh ? "底色：变化超过 2 个标准误（绿：上升，红：下降）；不变：每次模拟结果都与基准相同"
         : "Tint: change beyond 2 standard errors (green up, red down); no change: the same "
           "result as the base in every draw";
  for (std::size_t k = first; k < first + na; ++k)
    if (!alts[k].comparison.paired) {
      note +=
          zh ? fmt::format("；{} 未配对：{}", alts[k].name, alts[k].comparison.unpaired_reason)
             : fmt::format("; {} unpaired: {}", alts[k].name, alts[k].comparison.unpaired_reason);
    }
  double fy = chart_h - foot + 16;
  for (const auto& line : wrap(note, 9.5, chart_w - 48)) {
    doc.text(24, fy, line, {9.5, Anchor::start, grey_text});
    fy += 11;
  }
  return ch;
}

Chart fan_overlay(const ReportData& base, const std::string& base_name, const CompareRun& alt,
                  std::size_t k, const std::string& metric, Lang lang) {
  const bool zh = lang == Lang::zh;
  const MetricSummary& sb = base.summaries.at(metric);
  const MetricSummary& sa = alt.data->summaries.at(metric);
  const auto& years = base.coords.year;
  const std::size_t ny = std::min(years.size(), alt.data->coords.year.size());
  const DisplayUnit du = display_unit(sb.units, lang);
  auto val = [&](const ReportData& d, const MetricSummary& s, std::size_t y, double q) {
    return s.quantiles[y * d.coords.quantile.size() + quantile_column(d, q)] * du.scale;
  };
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  std::size_t y0 = 0;
  while (y0 + 1 < ny && !std::isfinite(val(base, sb, y0, 0.05))) ++y0;
  for (std::size_t y = y0; y < ny; ++y)
    for (auto [d, s] : {std::pair{&base, &sb}, std::pair{alt.data, &sa}})
      if (std::isfinite(val(*d, *s, y, 0.05)) && std::isfinite(val(*d, *s, y, 0.95)))
        lo = std::min(lo, val(*d, *s, y, 0.05)), hi = std::max(hi, val(*d, *s, y, 0.95));
  std::vector<const TargetRow*> targets;
  for (const auto& t : base.targets.rows)
    if (t.metric == metric && t.cluster.empty() && t.group.empty()) {
      targets.push_back(&t);
      lo = std::min(lo, t.threshold * du.scale), hi = std::max(hi, t.threshold * du.scale);
    }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  const double pad = (hi - lo) * 0.04;
  const svg::Ticks ticks = svg::nice_ticks(lo - pad, hi + pad, 6);

  const std::string name = metric_label(base, metric, lang);
  const std::string unit = du.percent ? "%" : du.unit;
  Chart ch{fmt::format("compare-fan_{}-{}", metric, k + 1), "", Document(chart_w, chart_h)};
  Document& doc = ch.doc;
  const std::string what = unit.empty() ? name
                           : zh         ? fmt::format("{}（{}）", name, unit)
                                        : fmt::format("{} ({})", name, unit);
  std::string title = zh ? fmt::format("{}：“{}”与基准", what, alt.name)
                         : fmt::format("{}: {} vs the base", what, alt.name);
  (void)base_name;  // named on the comparison table slide
  header(
      doc, title,
      zh ? fmt::format("蓝：基准中位数及 50%、90% 区间 · 橙：方案中位数、50% 区间与 90% 区间边界 "
                       "· {}",
                       draws_text(base, lang))
         : fmt::format("Blue: base median, 50% and 90% bands · orange: scenario median, 50% "
                       "band and 90% edges · {}",
                       draws_text(base, lang)));
  ch.caption = title;

  Frame f(70, 84, chart_w - 70 - 170, chart_h - 84 - 58, years.front() - 0.2, years[ny - 1] + 0.2,
          ticks.lo, ticks.hi);
  f.y_axis(doc, ticks.values, [&](double v) { return svg::fixed(v, ticks.decimals); });
  std::vector<double> xt;
  for (std::size_t y = 0; y < ny; ++y) xt.push_back(years[y]);
  f.x_axis(doc, xt, [](double v) { return fmt::format("{:.0f}", v); });
  f.border(doc);

  auto band = [&](const ReportData& d, const MetricSummary& s, double qlo, double qhi,
                  const svg::Style& st) {
    std::vector<svg::Point> pts;
    for (std::size_t y = y0; y < ny; ++y) pts.emplace_back(f.px(years[y]), f.py(val(d, s, y, qhi)));
    for (std::size_t y = ny; y-- > y0;) pts.emplace_back(f.px(years[y]), f.py(val(d, s, y, qlo)));
    doc.polygon(pts, st);
  };
  auto line_q = [&](const ReportData& d, const MetricSummary& s, double q, const svg::Style& st) {
    std::vector<svg::Point> pts;
    for (std::size_t y = y0; y < ny; ++y) pts.emplace_back(f.px(years[y]), f.py(val(d, s, y, q)));
    doc.polyline(pts, st);
  };
  band(base, sb, 0.05, 0.95, {band90, "none", 0, 1, ""});
  band(base, sb, 0.25, 0.75, {band50, "none", 0, 0.8, ""});
  band(*alt.data, sa, 0.25, 0.75, {alt_band, "none", 0, 0.55, ""});
  line_q(*alt.data, sa, 0.05, {"none", alt_colour, 1.3, 1, "5 3"});
  line_q(*alt.data, sa, 0.95, {"none", alt_colour, 1.3, 1, "5 3"});
  line_q(base, sb, 0.5, {"none", median_colour, 2.5, 1, ""});
  line_q(*alt.data, sa, 0.5, {"none", alt_colour, 2.5, 1, ""});

  for (const TargetRow* t : targets) {
    const double y = f.py(t->threshold * du.scale);
    doc.line(f.left(), y, f.right(), y, {"none", "#444", 1.3, 1, "7 4"});
    TextStyle ts{11, Anchor::start, "#222", true};
    ts.halo = true;
    doc.text(f.left() + 6, y - 5,
             (zh ? "目标 " : "Target ") + target_condition(base, *t, lang) +
                 (zh ? fmt::format("（{} 年）", t->year) : fmt::format(" in {}", t->year)),
             ts);
  }

  // End labels: the medians, then the scenario's 90% edges.
  const std::size_t last = ny - 1;
  struct Label {
    double value;
    std::string text;
    const char* colour;
    bool bold;
  };
  const auto fmtv = [&](double v) { return svg::fixed(v, display_decimals(v, du)); };
  std::vector<Label> labels = {
      {val(base, sb, last, 0.5),
       tr(lang, "基准中位数 ", "base median ") + fmtv(val(base, sb, last, 0.5)), median_colour,
       true},
      {val(*alt.data, sa, last, 0.5),
       tr(lang, "方案中位数 ", "scenario median ") + fmtv(val(*alt.data, sa, last, 0.5)),
       alt_colour, true},
      {val(*alt.data, sa, last, 0.95),
       tr(lang, "方案 95 分位 ", "scenario 95th pct ") + fmtv(val(*alt.data, sa, last, 0.95)),
       alt_colour, false},
      {val(*alt.data, sa, last, 0.05),
       tr(lang, "方案 5 分位 ", "scenario 5th pct ") + fmtv(val(*alt.data, sa, last, 0.05)),
       alt_colour, false},
  };
  std::vector<double> ys;
  for (const auto& l : labels) ys.push_back(f.py(l.value) + 4);
  ys = spread(ys, 14, f.top() + 8, f.bottom());
  for (std::size_t i = 0; i < labels.size(); ++i)
    doc.text(f.right() + 8, ys[i], labels[i].text,
             {11, Anchor::start, labels[i].colour, labels[i].bold});
  // Legend under the plot.
  double lx = f.left(), ly = chart_h - 16;
  auto swatch = [&](const char* fill, double opacity, const std::string& text) {
    doc.rect(lx, ly - 6, 16, 12, {fill, "none", 0, opacity, ""});
    doc.text(lx + 21, ly + 4, text, {11, Anchor::start, "#333"});
    lx += 21 + svg::text_width(text, 11) + 16;
  };
  auto stroke = [&](const char* colour, const char* dash, const std::string& text) {
    doc.line(lx, ly, lx + 18, ly, {"none", colour, 2.5, 1, dash});
    doc.text(lx + 23, ly + 4, text, {11, Anchor::start, "#333"});
    lx += 23 + svg::text_width(text, 11) + 16;
  };
  swatch(band90, 1, tr(lang, "基准 90%", "base 90%"));
  swatch(band50, 0.8, tr(lang, "基准 50%", "base 50%"));
  stroke(median_colour, "", tr(lang, "基准中位数", "base median"));
  swatch(alt_band, 0.55, tr(lang, "方案 50%", "scenario 50%"));
  stroke(alt_colour, "", tr(lang, "方案中位数", "scenario median"));
  stroke(alt_colour, "5 3", tr(lang, "方案 90% 边界", "scenario 90% edges"));
  return ch;
}

}  // namespace

std::vector<std::string> short_run_names(std::vector<std::string> names) {
  if (names.size() < 2) return names;
  // The longest common prefix in whole characters, e.g. "桃江县".
  std::size_t n = names[0].size();
  for (const auto& x : names) {
    std::size_t k = 0;
    while (k < n && k < x.size() && x[k] == names[0][k]) ++k;
    n = k;
  }
  while (n > 0 && (static_cast<unsigned char>(names[0][n]) & 0xC0) == 0x80) --n;
  if (n == 0) return names;
  // Dropped (with the separator) only where a separator follows it:
  // "桃江县 · 经济下行" → "经济下行", but "桃江县先进制造业" stays whole.
  for (auto& x : names) {
    std::size_t k = n;
    auto skip = [&](const char* sep) {
      const std::size_t len = std::strlen(sep);
      if (x.compare(k, len, sep) != 0) return false;
      k += len;
      return true;
    };
    while (skip(" ") || skip("·") || skip("：") || skip(":") || skip("-")) {
    }
    if (k > n && k < x.size()) x.erase(0, k);
  }
  return names;
}

std::vector<Chart> compare_charts(const ReportData& base, const std::string& base_name,
                                  const std::vector<CompareRun>& alts, Lang lang) {
  std::vector<Chart> out;
  if (alts.empty()) return out;
  const std::size_t pages = (alts.size() + alts_per_slide - 1) / alts_per_slide;
  for (std::size_t p = 0; p < pages; ++p) {
    const std::size_t first = p * alts_per_slide;
    out.push_back(targets_slide(base, base_name, alts, first,
                                std::min(alts_per_slide, alts.size() - first), p, pages, lang));
  }
  for (const char* metric : {"industrial_output", "manufacturing_va_share"})
    for (std::size_t k = 0; k < alts.size(); ++k)
      if (base.summaries.count(metric) && alts[k].data->summaries.count(metric) &&
          base.summaries.at(metric).dims.size() == 1 &&
          alts[k].data->summaries.at(metric).dims.size() == 1)
        out.push_back(fan_overlay(base, base_name, alts[k], k, metric, lang));
  return out;
}

}  // namespace countysim::report_detail
