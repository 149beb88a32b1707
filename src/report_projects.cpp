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

// One page of the project chart: projects [first, first + np).
Chart project_page(const ReportData& d, Lang lang, std::size_t first, std::size_t np,
                   std::size_t page, std::size_t pages) {
  const int base = d.info.base_year ? d.info.base_year : d.coords.year.front();
  const int horizon = 12 * (d.coords.year.back() - d.coords.year.front());
  const std::size_t all = d.coords.project.size();
  bool has_prod = d.project_production.size() == all;
  const double row_h = has_prod ? 66 : 40, top = 100;
  double h = std::max(260.0, top + row_h * static_cast<double>(np) + 80);
  Chart ch{page == 0 ? std::string("projects") : fmt::format("projects-{}", page + 1), "",
           Document(chart_w, h)};
  Document& doc = ch.doc;
  std::string title = tr(lang, "重点项目开工与投产时间", "Project start and production timing");
  if (pages > 1) title += fmt::format(" ({}/{}: {}–{})", page + 1, pages, first + 1, first + np);
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
    const std::size_t q = first + p;
    if (q < d.project_start.size()) st[p] = timing_stats(d.project_start[q], horizon);
    if (has_prod) pr[p] = timing_stats(d.project_production[q], horizon);
    if (q < d.coords.project_planned_start_month.size())
      lo = std::min(lo, d.coords.project_planned_start_month[q]);
    last = std::max({last, st[p].max_month, pr[p].max_month});
  }
  lo = static_cast<int>(std::floor(lo / 12.0)) * 12;
  // Show up to two years past the horizon (production that starts later).
  int hi = std::min(horizon + 24, (last / 12 + 1) * 12);
  // The label column widens to the longest name (names are never cut); a
  // name too long even for half the chart gets a smaller font.
  double widest = 0;
  for (std::size_t p = 0; p < np; ++p)
    widest = std::max(widest, svg::text_width(project_name(d, first + p, lang), 13));
  const double label_w = std::clamp(widest + 10, 190.0, chart_w / 2), right_w = 110;
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
    const std::size_t q = first + p;
    double y0 = f.top() + row_h * static_cast<double>(p);
    double ys = y0 + 32, yp = y0 + 58;  // strip baselines
    if (p > 0) doc.line(24, y0, chart_w - 24, y0, {"none", "#ddd", 1, 1, ""});
    const std::string name = project_name(d, q, lang);
    const double name_w = svg::text_width(name, 13);
    const double size = name_w > label_w - 10 ? std::max(1.0, 13 * (label_w - 10) / name_w) : 13;
    doc.text(f.left() - 10, y0 + row_h / 2 + 1, name, {size, Anchor::end, "#111", true});
    std::string cl = at(d.coords.project_cluster, q);
    std::size_t ci = index_of(d.coords.cluster, cl);
    if (!cl.empty())
      doc.text(f.left() - 10, y0 + row_h / 2 + 16,
               fit(ci < d.coords.cluster.size() ? cluster_name(d, ci, lang) : cl, 11, label_w - 10),
               {11, Anchor::end, grey_text});
    if (q < d.project_start.size()) strip(d.project_start[q], st[p], ys, 20, "#6baed6", "#08306b");
    if (has_prod) strip(d.project_production[q], pr[p], yp, 20, "#fd8d3c", "#7f2704");
    if (q < d.coords.project_planned_start_month.size()) {
      double px =
          f.px(std::clamp(d.coords.project_planned_start_month[q] + 0.5, double(lo), double(hi)));
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
