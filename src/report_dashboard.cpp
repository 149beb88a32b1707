// The target dashboard: each target's probability with its interval, on the likelihood scale.
#include <fmt/format.h>

#include "report_chart.hpp"

namespace countysim::report_detail {

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
    // Long names get a smaller font, never a cut: "(假设18%)" is part of the target.
    auto shrink = [&](const std::string& s, double size) {
      const double w = svg::text_width(s, size);
      return w > label_w - 10 ? size * (label_w - 10) / w : size;
    };
    doc.text(f.left() - 10, yc - 3, name, {shrink(name, 14), Anchor::end, "#111", true});
    doc.text(f.left() - 10, yc + 13, detail, {shrink(detail, 10.5), Anchor::end, grey_text});
    doc.rect(f.left(), yc - 11, f.px(p) - f.left(), 22, {colour, "none", 0, 1, ""});
    if (ci) {
      Style w{"none", "#222", 1.5, 1, ""};
      doc.line(f.px(lo), yc, f.px(hi), yc, w);
      doc.line(f.px(lo), yc - 6, f.px(lo), yc + 6, w);
      doc.line(f.px(hi), yc - 6, f.px(hi), yc + 6, w);
    }
    std::string txt = format_chance(p);  // "<0.1%", never "0%"
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

}  // namespace countysim::report_detail
