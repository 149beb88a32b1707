// The report's tables: targets.csv, quantiles.csv and project_timing.csv, in
// the Excel dialect (UTF-8 with BOM, CRLF) so Chinese labels open correctly.
#include <fmt/format.h>

#include <cmath>

#include "countysim/csv.hpp"
#include "report_chart.hpp"

namespace countysim::report_detail {

namespace {

std::vector<std::string> quantile_headers(const Coordinates& c) {
  std::vector<std::string> h;
  for (double q : c.quantile) h.push_back(fmt::format("q{:02.0f}", q * 100));
  return h;
}

}  // namespace

void write_targets_csv(const ReportData& d, const std::string& path) {
  CsvWriter f(csv_excel);
  f.row({"id", "label", "metric", "cluster", "group", "group_threshold", "year", "op", "threshold",
         "units", "probability", "std_error", "ci_low", "ci_high", "likelihood"});
  for (const auto& t : d.targets.rows) {
    std::string units = t.metric == "clusters_at_least" ? "count" : metric_units(d, t.metric);
    f.row({t.id, t.label, t.metric, t.cluster, t.group,
           t.group.empty() ? "" : csv_number(t.group_threshold), std::to_string(t.year), t.op,
           csv_number(t.threshold), units, csv_number(t.probability), csv_number(t.std_error),
           csv_number(t.ci_low), csv_number(t.ci_high),
           likelihood_label(classify_probability(t.probability), Lang::en)});
  }
  // The joint probability, under an id no target can have.
  f.row({"(all)", "全部目标同时实现", "", "", "", "", "", "", "", "",
         csv_number(d.targets.all_met_probability), csv_number(d.targets.all_met_std_error), "", "",
         likelihood_label(classify_probability(d.targets.all_met_probability), Lang::en)});
  f.save(path);
}

void write_quantiles_csv(const ReportData& d, const std::string& path) {
  CsvWriter f(csv_excel);
  std::vector<std::string> head = {"metric", "units", "year", "cluster", "project", "mean", "sd"};
  for (auto& h : quantile_headers(d.coords)) head.push_back(h);
  f.row(head);
  const std::size_t nq = d.coords.quantile.size();
  for (const auto& [name, s] : d.summaries) {
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
                                    s.units,
                                    year,
                                    cluster,
                                    project,
                                    csv_number(i < s.mean.size() ? s.mean[i] : NAN),
                                    csv_number(i < s.sd.size() ? s.sd[i] : NAN)};
      for (std::size_t q = 0; q < nq; ++q)
        r.push_back(csv_number(i * nq + q < s.quantiles.size() ? s.quantiles[i * nq + q] : NAN));
      f.row(r);
    }
  }
  f.save(path);
}

void write_timing_csv(const ReportData& d, const std::string& path) {
  CsvWriter f(csv_excel);
  const int base = d.info.base_year ? d.info.base_year : d.coords.year.front();
  const int horizon = 12 * (d.coords.year.back() - d.coords.year.front());
  std::vector<std::string> head = {
      "project", "label", "cluster", "planned_start", "planned_start_month", "share_started"};
  for (double q : timing_q) head.push_back(fmt::format("start_q{:02.0f}", q * 100));
  head.push_back("share_production_in_horizon");
  for (double q : timing_q) head.push_back(fmt::format("production_q{:02.0f}", q * 100));
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
        r.push_back(csv_number(s.share_in));
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
