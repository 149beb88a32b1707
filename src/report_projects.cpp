// Project start and production timing: per-month strips of the draws.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report_chart.hpp"

namespace countysim::report_detail {

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

namespace {

// One 16:9 page of the project chart: projects [first, first + np), a row
// each. A row reads left to right as the project goes: planned start (▼),
// median start (●), production's 80% range (bar) and median (◆), and on the
// right the chance of producing by the end of the last year.
Chart project_page(const ReportData& d, Lang lang, std::size_t first, std::size_t np,
                   std::size_t page, std::size_t pages) {
  const int base = d.info.base_year ? d.info.base_year : d.coords.year.front();
  const int horizon = 12 * (d.coords.year.back() - d.coords.year.front());
  const std::size_t all = d.coords.project.size();
  const bool has_prod = d.project_production.size() == all;
  const bool zh = lang == Lang::zh;
  Chart ch{page == 0 ? std::string("projects") : fmt::format("projects-{}", page + 1), "",
           Document(chart_w, chart_h)};
  Document& doc = ch.doc;
  std::string title = tr(lang, "重点项目开工与投产时间", "Project start and production timing");
  if (pages > 1) title += fmt::format(" ({}/{}: {}–{})", page + 1, pages, first + 1, first + np);
  const int last_year = d.coords.year.back();
  std::string sub =
      zh ? fmt::format(
               "投产时间：条形为 80% 区间，◆ 为中位数（在开工的模拟中）· 右侧为 {} 年底前"
               "投产的概率 · {}",
               last_year, draws_text(d, lang))
         : fmt::format(
               "Production start: bar 80% range, ◆ median (in draws where it starts) · "
               "right: chance of producing by end-{} · {}",
               last_year, draws_text(d, lang));
  header(doc, title, sub);
  ch.caption = title;

  std::vector<TimingStats> st(np), pr(np);
  int lo = 0, last = horizon - 1;
  for (std::size_t p = 0; p < np; ++p) {
    const std::size_t q = first + p;
    if (q < d.project_start.size()) st[p] = timing_stats(d.project_start[q], horizon);
    if (has_prod) pr[p] = timing_stats(d.project_production[q], horizon);
    if (q < d.coords.project_planned_start_month.size())
      lo = std::min(lo, d.coords.project_planned_start_month[q]);
    // The 80% range decides the axis, not the longest delay of one draw.
    if (!st[p].q.empty()) last = std::max(last, static_cast<int>(st[p].q[5]));
    if (!pr[p].q.empty()) last = std::max(last, static_cast<int>(pr[p].q[5]));
  }
  lo = static_cast<int>(std::floor(lo / 12.0)) * 12;
  // Up to two years past the horizon (production that starts later).
  const int hi = std::min(horizon + 24, (last / 12 + 1) * 12);

  // The label column widens to the longest name (up to half the slide); a
  // longer name gets a smaller font, never a cut.
  double widest = 0;
  for (std::size_t p = 0; p < np; ++p)
    widest = std::max(widest, svg::text_width(project_name(d, first + p, lang), 12));
  const double label_w = std::clamp(widest + 10, 170.0, chart_w / 2), right_w = 92;
  const double top = 96, bottom_room = 52;
  const double row_h = std::min(
      40.0, (chart_h - top - bottom_room) / static_cast<double>(std::max<std::size_t>(np, 1)));
  Frame f(24 + label_w, top, chart_w - 24 - label_w - right_w, row_h * static_cast<double>(np), lo,
          hi, 0, 1);
  std::vector<double> xt;
  for (int m = lo; m <= hi; m += 12) xt.push_back(m);
  // Row stripes first, under the grid and the horizon line.
  for (std::size_t p = 1; p < np; p += 2)
    doc.rect(24, f.top() + row_h * static_cast<double>(p), chart_w - 48, row_h,
             {"#f6f7f9", "none", 0, 1, ""});
  for (int m = lo; m <= hi; m += 12)
    doc.line(f.px(m), f.top(), f.px(m), f.bottom(), {"none", "#e3e3e3", 1, 1, ""});
  // Year labels in the middle of each year.
  for (int m = lo; m < hi; m += 12)
    doc.text(f.px(m + 6), f.bottom() + 16, month_label(base, m).substr(0, 4),
             {11.5, Anchor::middle, "#444"});
  f.border(doc);
  if (hi > horizon)
    doc.rect(f.px(horizon), f.top(), f.right() - f.px(horizon), f.bottom() - f.top(),
             {"#000", "none", 0, 0.05, ""});
  doc.line(f.px(horizon), f.top() - 8, f.px(horizon), f.bottom(), {"none", "#888", 1.5, 1, "4 3"});
  doc.text(f.px(horizon) - 4, f.top() - 8,
           zh ? fmt::format("{} 年底", last_year) : fmt::format("end-{}", last_year),
           {10.5, Anchor::end, grey_text});
  doc.text(f.right() + right_w - 4, f.top() - 8,
           has_prod ? tr(lang, "投产概率", "P(producing)") : tr(lang, "开工概率", "P(started)"),
           {10.5, Anchor::end, grey_text});

  auto clampm = [&](double m) { return std::clamp(m, double(lo), double(hi)); };
  for (std::size_t p = 0; p < np; ++p) {
    const std::size_t q = first + p;
    const double y0 = f.top() + row_h * static_cast<double>(p), yc = y0 + row_h / 2;
    const std::string name = project_name(d, q, lang);
    const double name_w = svg::text_width(name, 12);
    const double size = name_w > label_w - 10 ? 12 * (label_w - 10) / name_w : 12;
    std::string cl = at(d.coords.project_cluster, q);
    std::size_t ci = index_of(d.coords.cluster, cl);
    const bool two_lines = row_h >= 28 && !cl.empty();
    doc.text(f.left() - 10, two_lines ? yc - 1 : yc + 4, name, {size, Anchor::end, "#111", true});
    if (two_lines) {
      std::string cname = ci < d.coords.cluster.size() ? cluster_name(d, ci, lang) : cl;
      const double cw = svg::text_width(cname, 9.5);
      doc.text(f.left() - 10, yc + 11, cname,
               {cw > label_w - 10 ? 9.5 * (label_w - 10) / cw : 9.5, Anchor::end, grey_text});
    }
    doc.line(f.left(), yc, f.right(), yc, {"none", "#d0d0d0", 1, 1, ""});
    const TimingStats& prod = has_prod ? pr[p] : st[p];
    if (!prod.q.empty()) {
      // 80% range: 10th to 90th percentile, months as intervals [m, m + 1).
      const double a = f.px(clampm(prod.q[1])), b = f.px(clampm(prod.q[5] + 1));
      doc.rect(a, yc - 6, std::max(2.0, b - a), 12, {"#fdbe85", "#e6550d", 1, 1, ""});
      if (prod.q[5] + 1 > hi)
        doc.text(f.right() - 2, yc + 4, "→", {11, Anchor::end, "#7f2704", true});
      const double m = f.px(clampm(prod.q[3] + 0.5));
      doc.polygon({{m, yc - 7}, {m + 6, yc}, {m, yc + 7}, {m - 6, yc}},
                  {"#a63603", "#fff", 1, 1, ""});
    }
    if (has_prod && !st[p].q.empty())
      doc.circle(f.px(clampm(st[p].q[3] + 0.5)), yc, 4.5, {"#08519c", "#fff", 1, 1, ""});
    if (q < d.coords.project_planned_start_month.size()) {
      const double px = f.px(clampm(d.coords.project_planned_start_month[q] + 0.5));
      doc.polygon({{px - 5, yc - 13}, {px + 5, yc - 13}, {px, yc - 5}}, {"#111", "none", 0, 1, ""});
    }
    const double share = prod.share_in;
    const Likelihood l = classify_probability(share);
    doc.text(f.right() + right_w - 4, yc + 5, format_chance(share),
             {13, Anchor::end, ink(l), true});
  }

  // Legend, under the axis.
  double lx = 24, ly = chart_h - 14;
  auto item = [&](const std::string& text) {
    doc.text(lx, ly + 4, text, {11, Anchor::start, "#333"});
    lx += svg::text_width(text, 11) + 18;
  };
  doc.polygon({{lx, ly - 5}, {lx + 10, ly - 5}, {lx + 5, ly + 3}}, {"#111", "none", 0, 1, ""});
  lx += 15;
  item(tr(lang, "计划开工", "planned start"));
  if (has_prod) {
    doc.circle(lx + 5, ly, 4.5, {"#08519c", "#fff", 1, 1, ""});
    lx += 14;
    item(tr(lang, "开工中位数", "median start"));
  }
  doc.rect(lx, ly - 5, 18, 10, {"#fdbe85", "#e6550d", 1, 1, ""});
  lx += 24;
  item(has_prod ? tr(lang, "投产 80% 区间", "production, 80% range")
                : tr(lang, "开工 80% 区间", "start, 80% range"));
  doc.polygon({{lx + 6, ly - 7}, {lx + 12, ly}, {lx + 6, ly + 7}, {lx, ly}},
              {"#a63603", "#fff", 1, 1, ""});
  lx += 17;
  item(has_prod ? tr(lang, "投产中位数", "median production start")
                : tr(lang, "开工中位数", "median start"));
  if (hi > horizon) {
    doc.rect(lx, ly - 5, 14, 10, {"#000", "none", 0, 0.08, ""});
    lx += 19;
    item(tr(lang, "预测期之后", "after the horizon"));
  }
  return ch;
}

}  // namespace

std::vector<Chart> project_charts(const ReportData& d, Lang lang) {
  const std::size_t n = d.coords.project.size();
  const std::size_t pages = (n + project_rows_per_chart - 1) / project_rows_per_chart;
  std::vector<Chart> out;
  for (std::size_t page = 0; page < pages; ++page) {
    const std::size_t first = page * project_rows_per_chart;
    out.push_back(
        project_page(d, lang, first, std::min(project_rows_per_chart, n - first), page, pages));
  }
  return out;
}

}  // namespace countysim::report_detail
