// The report's tables: targets.csv, quantiles.csv and project_timing.csv, in
// the Excel dialect (UTF-8 with BOM, CRLF) so Chinese labels open correctly.
// Headers are in the report's language and values in the units the charts
// use (亿元, 万人, %, probabilities in %), the unit named in the header or in
// a units column.
#include <fmt/format.h>

#include <cmath>

#include "countysim/csv.hpp"
#include "report_chart.hpp"

namespace countysim::report_detail {

namespace {

std::vector<std::string> quantile_headers(const Coordinates& c, Lang lang) {
  std::vector<std::string> h;
  for (double q : c.quantile)
    h.push_back(lang == Lang::zh ? fmt::format("{:.0f}% 分位", q * 100)
                                 : fmt::format("q{:02.0f}", q * 100));
  return h;
}

// A display value with enough digits to read back what the chart shows:
// shortest text, rounded to 10 significant digits (no 11.200000000000001).
std::string shown(double v) {
  if (!std::isfinite(v)) return "";
  return csv_number(std::stod(fmt::format("{:.10g}", v)));
}

std::string unit_text(const std::string& units, Lang lang, const std::string& metric = "") {
  const DisplayUnit u = display_unit(units, lang);
  if (u.unit.empty() && !u.percent && metric.find("firms") != std::string::npos)
    return lang == Lang::zh ? "家" : "firms";  // firm counts, as on the charts
  return u.percent ? "%" : u.unit;
}

}  // namespace

void write_targets_csv(const ReportData& d, const std::string& path, Lang lang) {
  CsvWriter f(csv_excel);
  auto t_ = [&](const char* zh, const char* en) { return tr(lang, zh, en); };
  f.row({t_("编号", "id"), t_("目标", "label"), t_("指标", "metric"), t_("集群", "cluster"),
         t_("组", "group"), t_("组门槛（亿元）", "group_threshold (100m yuan)"), t_("年份", "year"),
         t_("方向", "op"), t_("目标值", "threshold"), t_("单位", "units"),
         t_("概率（%）", "probability (%)"), t_("标准误（百分点）", "std_error (points)"),
         t_("95% 区间下限（%）", "ci_low (%)"), t_("95% 区间上限（%）", "ci_high (%)"),
         t_("判断", "likelihood")});
  for (const auto& t : d.targets.rows) {
    const std::string units = target_units(d, t);
    const DisplayUnit du = display_unit(units, lang);
    f.row({t.id, t.label, t.metric, t.cluster, t.group,
           t.group.empty() ? "" : shown(t.group_threshold), std::to_string(t.year),
           t.op == "at_most" ? "≤" : "≥", shown(t.threshold * du.scale),
           unit_text(units, lang, t.metric), shown(t.probability * 100), shown(t.std_error * 100),
           shown(t.ci_low * 100), shown(t.ci_high * 100),
           likelihood_label(classify_probability(t.probability), lang)});
  }
  // The joint probability, under an id no target can have.
  f.row({"(all)", t_("全部目标同时实现", "all targets together"), "", "", "", "", "", "", "", "",
         shown(d.targets.all_met_probability * 100), shown(d.targets.all_met_std_error * 100), "",
         "", likelihood_label(classify_probability(d.targets.all_met_probability), lang)});
  f.save(path);
}

void write_quantiles_csv(const ReportData& d, const std::string& path, Lang lang) {
  CsvWriter f(csv_excel);
  std::vector<std::string> head = {tr(lang, "指标", "metric"),  tr(lang, "名称", "name"),
                                   tr(lang, "单位", "units"),   tr(lang, "年份", "year"),
                                   tr(lang, "集群", "cluster"), tr(lang, "项目", "project"),
                                   tr(lang, "均值", "mean"),    tr(lang, "标准差", "sd")};
  for (auto& h : quantile_headers(d.coords, lang)) head.push_back(h);
  f.row(head);
  const std::size_t nq = d.coords.quantile.size();
  for (const auto& [name, s] : d.summaries) {
    const double scale = display_unit(s.units, lang).scale;
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
                                    metric_label(d, name, lang),
                                    unit_text(s.units, lang, name),
                                    year,
                                    cluster,
                                    project,
                                    shown(i < s.mean.size() ? s.mean[i] * scale : NAN),
                                    shown(i < s.sd.size() ? s.sd[i] * scale : NAN)};
      for (std::size_t q = 0; q < nq; ++q)
        r.push_back(shown(i * nq + q < s.quantiles.size() ? s.quantiles[i * nq + q] * scale : NAN));
      f.row(r);
    }
  }
  f.save(path);
}

void write_timing_csv(const ReportData& d, const std::string& path, Lang lang) {
  CsvWriter f(csv_excel);
  const bool zh = lang == Lang::zh;
  const int base = d.info.base_year ? d.info.base_year : d.coords.year.front();
  const int horizon = 12 * (d.coords.year.back() - d.coords.year.front());
  std::vector<std::string> head = {tr(lang, "项目编号", "project"),
                                   tr(lang, "项目", "label"),
                                   tr(lang, "集群", "cluster"),
                                   tr(lang, "计划开工", "planned_start"),
                                   tr(lang, "计划开工（月序号）", "planned_start_month"),
                                   tr(lang, "预测期内开工（%）", "started (%)")};
  for (double q : timing_q)
    head.push_back(zh ? fmt::format("开工月序号 {:.0f}% 分位", q * 100)
                      : fmt::format("start_q{:02.0f}", q * 100));
  head.push_back(tr(lang, "预测期内投产（%）", "production_in_horizon (%)"));
  for (double q : timing_q)
    head.push_back(zh ? fmt::format("投产月序号 {:.0f}% 分位", q * 100)
                      : fmt::format("production_q{:02.0f}", q * 100));
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
        r.push_back(shown(s.share_in * 100));
        for (std::size_t i = 0; i < timing_q.size(); ++i)
          r.push_back(i < s.q.size() ? csv_number(s.q[i]) : "");
      } else {
        r.insert(r.end(), timing_q.size() + 1, "");
      }
    }
    f.row(r);
  }
  f.save(path);
}

}  // namespace countysim::report_detail
