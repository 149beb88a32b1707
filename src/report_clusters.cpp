// Cluster outputs in the last year as box plots, against the 100 亿元 line.
#include <fmt/format.h>

#include <algorithm>

#include "report_chart.hpp"

namespace countysim::report_detail {

Chart cluster_chart(const ReportData& d, Lang lang) {
  const MetricSummary& s = d.summaries.at("cluster_output");
  const std::size_t nc = d.coords.cluster.size(), nq = d.coords.quantile.size();
  const std::size_t last = d.coords.year.size() - 1;
  auto val = [&](std::size_t y, std::size_t c, double q) {
    return s.quantiles[(y * nc + c) * nq + quantile_column(d, q)];
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
  // Clusters a clusters_at_least target counts (all of them when there is
  // no such target, as before).
  std::vector<std::string> groups;
  for (const auto& t : d.targets.rows)
    if (t.metric == "clusters_at_least") groups.push_back(t.group);
  auto in_target_group = [&](std::size_t c) {
    return groups.empty() ||
           std::find(groups.begin(), groups.end(), at(d.coords.cluster_group, c)) != groups.end();
  };
  double lx = f.px(line);
  doc.line(lx, f.top() - 14, lx, f.top(), {"none", "#c62828", 2, 1, ""});
  for (std::size_t c = 0; c < nc; ++c)
    if (in_target_group(c))
      doc.line(lx, f.top() + row_h * static_cast<double>(c), lx,
               f.top() + row_h * static_cast<double>(c + 1), {"none", "#c62828", 2, 1, ""});
  doc.text(lx, f.top() - 18, tr(lang, "100 亿元", "100 (100m yuan)"),
           {12, Anchor::middle, "#c62828", true});
  doc.text(f.right() + 10, f.top() - 18, tr(lang, "P(≥ 100 亿元)", "P(≥ 100)"),
           {11, Anchor::start, grey_text});

  for (std::size_t c = 0; c < nc; ++c) {
    double yc = f.top() + row_h * (static_cast<double>(c) + 0.5);
    doc.text(f.left() - 10, yc - 1, fit(cluster_name(d, c, lang), 14, label_w - 10),
             {14, Anchor::end, "#111", true});
    // The 100 亿元 question belongs to the clusters a clusters_at_least target
    // counts; the group ids themselves are internal and not shown.
    const bool counted = in_target_group(c);
    if (!counted)
      doc.text(f.left() - 10, yc + 14,
               tr(lang, "不计入百亿集群目标", "not counted for the 100 target"),
               {10, Anchor::end, grey_text});
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
    if (counted && c < d.cluster_last_output.size() && !d.cluster_last_output[c].empty()) {
      const auto& x = d.cluster_last_output[c];
      double p = static_cast<double>(
                     std::count_if(x.begin(), x.end(), [&](double y) { return y >= line; })) /
                 static_cast<double>(x.size());
      doc.text(f.right() + 10, yc - 1, format_chance(p),
               {14, Anchor::start, ink(classify_probability(p)), true});
    }
  }
  return ch;
}

}  // namespace countysim::report_detail
