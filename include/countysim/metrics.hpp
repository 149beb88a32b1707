// The metric catalogue of results.md: names, units and shapes of everything a
// draw produces, and of what targets may compare.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace countysim {

// [draw, year] metrics first (their order is the order of YearMetric), then the
// others. Years run from the base year (index 0) to the last year.
enum class Metric {
  industrial_output,
  industrial_value_added,
  manufacturing_value_added,
  gdp,
  manufacturing_va_share,
  digital_core_va_share,
  strategic_emerging_share,
  industrial_tax,
  employment,
  above_scale_firms,
  high_tech_firms,
  new_loans,
  manufacturing_loan_share,
  land_supplied_mu,
  land_used_mu,
  land_stock_mu,
  projects_started,
  projects_producing,
  // v2, constant (base-year) prices; after the v1 metrics so their order stays:
  industrial_output_real,
  industrial_value_added_real,
  gdp_real,
  industrial_va_real_growth,  // NaN in the base year
  gdp_real_growth,            // NaN in the base year
  // not [draw, year]:
  cluster_output,       // [draw, year, cluster]
  cluster_employment,   // [draw, year, cluster]
  project_output,       // [draw, year, project]
  project_start_month,  // [draw, project]
  clusters_at_least,    // targets only
};

inline constexpr int year_metric_count = static_cast<int>(Metric::gdp_real_growth) + 1;

enum class MetricShape {
  draw_year,
  draw_year_cluster,
  draw_year_project,
  draw_project,
  target_only
};

struct MetricInfo {
  Metric metric;
  const char* name;       // as in results.md and scenario files
  const char* units;      // "亿元", "fraction", "persons", "count", "mu", "month"
  const char* long_name;  // English
  const char* label_zh;   // Chinese
  MetricShape shape;
  bool integer;  // counts: stored as int32
};

const std::vector<MetricInfo>& metric_catalogue();
const MetricInfo& metric_info(Metric m);
std::optional<Metric> metric_from_name(std::string_view name);

// v2: the constant-price metrics (industrial_output_real ... gdp_real_growth).
bool is_constant_price_metric(Metric m);

// The metrics the terminal, compare and the report show first, in that order.
const std::vector<std::string>& headline_metrics();

}  // namespace countysim
