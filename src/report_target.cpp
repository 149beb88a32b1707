// Distribution of the value a target compares, the share that meets it shaded.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "report_chart.hpp"

namespace countysim::report_detail {

namespace {

// Target ids as file names: anything but letters, digits, '-' and '_' becomes '_'.
std::string safe_stem(const std::string& id) {
  std::string s;
  for (char c : id)
    s += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
  return s;
}

}  // namespace

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
  std::size_t below = 0, above = 0;  // draws folded into the end bins
  for (double x : v) {
    below += x < lo;
    above += x >= hi;
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
  // The end bins also hold the draws beyond the axis: say so, with their share.
  auto tail_note = [&](std::size_t n_tail, std::size_t bin, bool left_end) {
    if (n_tail == 0) return;
    const double share = static_cast<double>(n_tail) / n;
    const std::string txt =
        lang == Lang::zh
            ? fmt::format(left_end ? "含更低 {}" : "含更高 {}", format_chance(share))
            : fmt::format(left_end ? "incl. lower {}" : "incl. higher {}", format_chance(share));
    const double x0 = lo + w * static_cast<double>(bin);
    TextStyle ts{10, left_end ? Anchor::start : Anchor::end, grey_text};
    ts.halo = true;
    doc.text(left_end ? f.px(x0) : f.px(x0 + w), f.py(count[bin] / n * 100) - 5,
             (left_end ? "← " : "") + txt + (left_end ? "" : " →"), ts);
  };
  if (!integer) {
    tail_note(below, 0, true);
    tail_note(above, nb - 1, false);
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

}  // namespace countysim::report_detail
