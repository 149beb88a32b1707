// The one-page summary (一页纸): per target the target value, the median and
// 90% range of what the run reaches, the gap, and the chance in figures and
// words, most likely first; the all-targets row; for a conditioned run the
// odds before and after the observations.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "report_chart.hpp"

namespace countysim::report_detail {

namespace {

struct Column {
  std::string head;
  double width;
  Anchor anchor;
};

// Median and 90% range of a target's value, from its draws when stored, else
// from the metric's summary in the target's year.
struct Spread {
  double q05 = NAN, q50 = NAN, q95 = NAN;
};

Spread target_spread(const ReportData& d, std::size_t ti) {
  Spread s;
  const TargetRow& t = d.targets.rows[ti];
  if (ti < d.target_values.size() && !d.target_values[ti].empty()) {
    std::vector<double> v = d.target_values[ti];
    v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }),
            v.end());
    std::sort(v.begin(), v.end());
    s.q05 = sorted_quantile(v, 0.05), s.q50 = sorted_quantile(v, 0.5);
    s.q95 = sorted_quantile(v, 0.95);
    return s;
  }
  auto it = d.summaries.find(t.metric);
  if (it == d.summaries.end() || it->second.dims.size() != 1 || !t.cluster.empty()) return s;
  const auto yi = std::find(d.coords.year.begin(), d.coords.year.end(), t.year);
  if (yi == d.coords.year.end()) return s;
  const auto row = static_cast<std::size_t>(yi - d.coords.year.begin());
  const std::size_t nq = d.coords.quantile.size();
  auto q = [&](double p) {
    auto k = find_quantile(d.coords.quantile, p);
    return k ? it->second.quantiles[row * nq + *k] : NAN;
  };
  s.q05 = q(0.05), s.q50 = q(0.5), s.q95 = q(0.95);
  return s;
}

// A value in a table cell: in English without the long unit ("589.3", not
// "589.3 (100m yuan)"), which the target value column states.
std::string cell_value(const ReportData& d, const TargetRow& t, double v, Lang lang) {
  std::string s = target_value_text(d, t, v, lang);
  if (lang == Lang::en && !s.empty() && s.back() == ')') {
    const std::size_t at = s.find(" (");
    if (at != std::string::npos) s.erase(at);
  }
  return s;
}

// "520.8–664.5 亿元": the unit once, after the upper end.
std::string range_text(const ReportData& d, const TargetRow& t, const Spread& s, Lang lang) {
  if (!std::isfinite(s.q05) || !std::isfinite(s.q95)) return "–";
  std::string lo = cell_value(d, t, s.q05, lang);
  const std::string hi = cell_value(d, t, s.q95, lang);
  const std::size_t unit_at = hi.find_first_not_of("0123456789.,-");
  if (unit_at != std::string::npos) {
    const std::string unit = hi.substr(unit_at);
    if (lo.size() > unit.size() && lo.compare(lo.size() - unit.size(), unit.size(), unit) == 0)
      lo.erase(lo.size() - unit.size());
  }
  return lo + "–" + hi;
}

// "差 188 亿元" / "超 12 亿元"; percentages in points.
std::string gap_text(const ReportData& d, const TargetRow& t, double median, Lang lang) {
  if (!std::isfinite(median)) return "–";
  const double diff = median - t.threshold;
  const bool meets = t.op == "at_most" ? diff <= 0 : diff >= 0;
  const std::string units = target_units(d, t);
  std::string mag;
  if (units == "fraction")
    mag = fmt::format("{:.1f}{}", std::fabs(diff) * 100, lang == Lang::zh ? " 个百分点" : " pt");
  else
    mag = cell_value(d, t, std::fabs(diff), lang);
  if (lang == Lang::zh) return (meets ? "超 " : "差 ") + mag;
  return mag + (meets ? " over" : " short");
}

}  // namespace

std::vector<Chart> summary_charts(const ReportData& d, Lang lang, const std::string& stem) {
  const auto& rows = d.targets.rows;
  const bool zh = lang == Lang::zh, cond = d.targets.conditioned;
  // Most likely first; ties keep the file's order.
  std::vector<std::size_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return rows[a].probability > rows[b].probability;
  });
  // Targets no draw met get no distribution chart (run_charts); say so here.
  std::vector<std::string> never;
  for (const auto& t : rows)
    if (t.probability == 0 && d.info.draws > 0) never.push_back(target_name(t, lang));

  const std::size_t per = summary_rows_per_chart;
  const std::size_t pages = std::max<std::size_t>(1, (rows.size() + per - 1) / per);
  std::vector<Chart> out;
  for (std::size_t page = 0; page < pages; ++page) {
    const std::size_t first = page * per, n = std::min(per, rows.size() - first);
    const bool last_page = page + 1 == pages;
    Chart ch{page == 0 ? stem : fmt::format("{}-{}", stem, page + 1), "",
             Document(chart_w, chart_h)};
    Document& doc = ch.doc;
    std::string title = zh ? "一页纸：目标实现的可能性" : "One page: how likely each target is";
    if (pages > 1) title += fmt::format(" ({}/{})", page + 1, pages);
    std::string sub = fmt::format("{} · {}", d.info.scenario_name, draws_text(d, lang));
    if (cond)
      sub += zh ? fmt::format(" · 已按实际观测值更新（有效样本 {:.0f}）",
                              d.targets.effective_sample_size)
                : fmt::format(" · updated on observed outturns (effective sample {:.0f})",
                              d.targets.effective_sample_size);
    header(doc, title, sub);
    ch.caption = title;

    std::vector<Column> cols = {
        {zh ? "目标" : "Target", 0, Anchor::start},
        {zh ? "目标值" : "Target value", zh ? 92.0 : 118.0, Anchor::end},
        {zh ? "中位数" : "Median", 78, Anchor::end},
        {zh ? "90% 区间" : "90% range", 96, Anchor::end},
        {zh ? "差距（中位数）" : "Gap (median)", 96, Anchor::end},
    };
    if (cond) cols.push_back({zh ? "观测前 → 后" : "Before → after", 92, Anchor::end});
    cols.push_back({zh ? "概率" : "Chance", cond ? 56.0 : 62.0, Anchor::end});
    cols.push_back({zh ? "说法" : "In words", zh ? (cond ? 78.0 : 98.0) : 128.0, Anchor::start});
    double used = 0;
    for (const auto& c : cols) used += c.width + 10;
    cols[0].width = chart_w - 48 - used;
    std::vector<double> x0;  // left edge of each column
    double x = 24;
    for (const auto& c : cols) x0.push_back(x), x += c.width + 10;
    auto cx = [&](std::size_t k) {
      return cols[k].anchor == Anchor::end ? x0[k] + cols[k].width : x0[k];
    };

    const double top = 78, head_h = 22, foot = 50;
    const double row_h = std::min(
        34.0, (chart_h - top - head_h - foot) / static_cast<double>(n + (last_page ? 1 : 0)));
    for (std::size_t k = 0; k < cols.size(); ++k)
      doc.text(cx(k), top + 14, cols[k].head, {11, cols[k].anchor, grey_text, true});
    doc.line(24, top + head_h, chart_w - 24, top + head_h, {"none", "#999", 1, 1, ""});

    auto chance_cells = [&](double y, double p, double prior, bool show_prior) {
      const Likelihood l = classify_probability(p);
      std::size_t k = cols.size() - 2;
      if (show_prior)
        doc.text(cx(k - 1), y + 4, format_chance(prior) + " → " + format_chance(p),
                 {11, Anchor::end, "#333"});
      doc.text(cx(k), y + 5, format_chance(p), {14, Anchor::end, ink(l), true});
      doc.text(cx(k + 1), y + 4, chance_words(p, lang), {11.5, Anchor::start, ink(l)});
    };

    double y = top + head_h;
    for (std::size_t r = 0; r < n; ++r) {
      const std::size_t ti = order[first + r];
      const TargetRow& t = rows[ti];
      const double yc = y + row_h / 2;
      if (r % 2 == 1) doc.rect(24, y, chart_w - 48, row_h, {"#f6f7f9", "none", 0, 1, ""});
      wrapped_text(doc, x0[0], yc + 4, target_name(t, lang), cols[0].width, 2,
                   {12, Anchor::start, "#111", true});
      const Spread s = target_spread(d, ti);
      std::string cond_text = target_condition(d, t, lang);
      doc.text(cx(1), yc - 2, cond_text, {11.5, Anchor::end, "#111"});
      doc.text(cx(1), yc + 11, zh ? fmt::format("{} 年", t.year) : fmt::format("in {}", t.year),
               {9.5, Anchor::end, grey_text});
      doc.text(cx(2), yc + 4, cell_value(d, t, s.q50, lang), {11.5, Anchor::end, "#111"});
      doc.text(cx(3), yc + 4, range_text(d, t, s, lang), {11, Anchor::end, "#333"});
      doc.text(cx(4), yc + 4, gap_text(d, t, s.q50, lang), {11, Anchor::end, "#333"});
      chance_cells(yc, t.probability, t.prior_probability, cond);
      y += row_h;
    }
    if (last_page) {
      doc.line(24, y, chart_w - 24, y, {"none", "#999", 1, 1, "2 2"});
      const double yc = y + row_h / 2;
      doc.text(x0[0], yc + 4, zh ? "全部目标同时实现" : "All targets together",
               {12.5, Anchor::start, "#111", true});
      doc.text(cx(4), yc + 4, zh ? "各目标在同一次模拟中全部达到" : "every target in the same draw",
               {10, Anchor::end, grey_text});
      chance_cells(yc, d.targets.all_met_probability, d.targets.prior_all_met_probability, cond);
      y += row_h;
    }
    doc.line(24, y, chart_w - 24, y, {"none", "#999", 1, 1, ""});

    // Footnotes: the scale, the gap, and targets folded in from their charts.
    std::string scale =
        zh ? "说法：几乎肯定 ≥ 99%，很可能 ≥ 90%，可能 ≥ 2/3，约一半，不太可能 ≤ 1/3，很不可能 ≤ "
             "10%，几乎不可能 ≤ 1% · 差距 = 中位数 − 目标值 · 90% 区间：5%–95% 分位"
           : "Words: virtually certain ≥ 99%, very likely ≥ 90%, likely ≥ 2/3, about even, "
             "unlikely ≤ 1/3, very unlikely ≤ 10%, exceptionally unlikely ≤ 1% · gap = median − "
             "target · 90% range: 5th–95th percentile";
    double fy = chart_h - foot + 14;
    for (const auto& line : wrap(scale, 9.5, chart_w - 48)) {
      doc.text(24, fy, line, {9.5, Anchor::start, grey_text});
      fy += 11;
    }
    if (!never.empty() && page == 0) {
      std::string names;
      for (std::size_t i = 0; i < never.size(); ++i)
        names += (i ? (zh ? "、" : ", ") : "") + never[i];
      std::string note =
          zh ? fmt::format("{}中无一达到：{}（不另作分布图）", draws_text(d, lang), names)
             : fmt::format("Met in none of the {}: {} (no distribution chart)", draws_text(d, lang),
                           names);
      for (const auto& line : wrap(note, 9.5, chart_w - 48)) {
        if (fy > chart_h - 3) break;
        doc.text(24, fy, line, {9.5, Anchor::start, grey_text});
        fy += 11;
      }
    }
    out.push_back(std::move(ch));
  }
  return out;
}

}  // namespace countysim::report_detail
