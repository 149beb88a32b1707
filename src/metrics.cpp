#include "countysim/metrics.hpp"

namespace countysim {

const std::vector<MetricInfo>& metric_catalogue() {
  using S = MetricShape;
  static const std::vector<MetricInfo> catalogue = {
      {Metric::industrial_output, "industrial_output", "亿元", "gross industrial output",
       "工业总产值", S::draw_year, false},
      {Metric::industrial_value_added, "industrial_value_added", "亿元", "industrial value added",
       "工业增加值", S::draw_year, false},
      {Metric::manufacturing_value_added, "manufacturing_value_added", "亿元",
       "manufacturing value added", "制造业增加值", S::draw_year, false},
      {Metric::gdp, "gdp", "亿元", "gross domestic product", "地区生产总值", S::draw_year, false},
      {Metric::manufacturing_va_share, "manufacturing_va_share", "fraction",
       "manufacturing value added share of GDP", "制造业增加值占GDP比重", S::draw_year, false},
      {Metric::digital_core_va_share, "digital_core_va_share", "fraction",
       "digital-economy core value added share of GDP", "数字经济核心产业增加值占GDP比重",
       S::draw_year, false},
      {Metric::strategic_emerging_share, "strategic_emerging_share", "fraction",
       "strategic emerging industries share of industrial output",
       "战略性新兴产业产值占工业总产值比重", S::draw_year, false},
      {Metric::industrial_tax, "industrial_tax", "亿元", "industrial tax", "工业税收", S::draw_year,
       false},
      {Metric::employment, "employment", "persons", "industrial employment", "工业从业人员",
       S::draw_year, false},
      {Metric::above_scale_firms, "above_scale_firms", "count", "above-scale industrial firms",
       "规模以上工业企业数", S::draw_year, true},
      {Metric::high_tech_firms, "high_tech_firms", "count", "high-tech manufacturing firms",
       "制造业高新技术企业数", S::draw_year, true},
      {Metric::new_loans, "new_loans", "亿元", "new loans, all sectors", "新增贷款", S::draw_year,
       false},
      {Metric::manufacturing_loan_share, "manufacturing_loan_share", "fraction",
       "manufacturing share of new loans", "新增制造业贷款占比", S::draw_year, false},
      {Metric::land_supplied_mu, "land_supplied_mu", "mu", "industrial land released in the year",
       "当年供应工业用地", S::draw_year, false},
      {Metric::land_used_mu, "land_used_mu", "mu", "industrial land taken by projects in the year",
       "当年项目用地", S::draw_year, false},
      {Metric::land_stock_mu, "land_stock_mu", "mu", "unused industrial land at the year's end",
       "年末可用工业用地", S::draw_year, false},
      {Metric::projects_started, "projects_started", "count",
       "projects started by the year's end (cumulative)", "累计开工项目数", S::draw_year, true},
      {Metric::projects_producing, "projects_producing", "count", "projects producing in December",
       "投产项目数", S::draw_year, true},
      {Metric::industrial_output_real, "industrial_output_real", "亿元",
       "gross industrial output at base-year prices", "工业总产值(可比价)", S::draw_year, false},
      {Metric::industrial_value_added_real, "industrial_value_added_real", "亿元",
       "industrial value added at base-year prices", "工业增加值(可比价)", S::draw_year, false},
      {Metric::gdp_real, "gdp_real", "亿元", "gross domestic product at base-year prices",
       "地区生产总值(可比价)", S::draw_year, false},
      {Metric::industrial_va_real_growth, "industrial_va_real_growth", "fraction",
       "growth of industrial value added at comparable prices", "工业增加值增速(可比价)",
       S::draw_year, false},
      {Metric::gdp_real_growth, "gdp_real_growth", "fraction", "growth of GDP at comparable prices",
       "地区生产总值增速(可比价)", S::draw_year, false},
      {Metric::cluster_output, "cluster_output", "亿元", "gross output by cluster",
       "产业集群总产值", S::draw_year_cluster, false},
      {Metric::cluster_employment, "cluster_employment", "persons", "employment by cluster",
       "产业集群从业人员", S::draw_year_cluster, false},
      {Metric::project_output, "project_output", "亿元", "direct output by project", "项目产值",
       S::draw_year_project, false},
      {Metric::project_start_month, "project_start_month", "month",
       "construction start, months from January of the first projection year (-1: none)",
       "开工月份", S::draw_project, true},
      {Metric::clusters_at_least, "clusters_at_least", "count",
       "clusters of a group with output at least the threshold", "达到规模的产业集群数",
       S::target_only, true},
  };
  return catalogue;
}

const MetricInfo& metric_info(Metric m) {
  return metric_catalogue()[static_cast<int>(m)];
}

std::optional<Metric> metric_from_name(std::string_view name) {
  for (const auto& info : metric_catalogue())
    if (name == info.name) return info.metric;
  return std::nullopt;
}

bool is_constant_price_metric(Metric m) {
  return m >= Metric::industrial_output_real && m <= Metric::gdp_real_growth;
}

const std::vector<std::string>& headline_metrics() {
  static const std::vector<std::string> m = {"industrial_output", "industrial_tax", "gdp",
                                             "manufacturing_va_share", "employment"};
  return m;
}

}  // namespace countysim
