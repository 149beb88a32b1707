#include "countysim/scenario_schema.hpp"

#include <algorithm>
#include <set>

namespace countysim::schema {

const Keys kTopKeys = {"schema",       "name",     "description",  "extends", "horizon",
                       "simulation",   "macro",    "finance",      "land",    "clusters",
                       "correlations", "projects", "supply_chain", "firms",   "targets",
                       "prices",       "observed"};
const Keys kHorizonKeys = {"base_year", "last_year"};
const Keys kSimulationKeys = {"draws", "seed"};
const Keys kMacroKeys = {"gdp_base",     "rest_growth",           "rest_shock_loading",
                         "common_shock", "digital_share_of_rest", "rest_price_change"};
const Keys kShockKeys = {"sd", "persistence"};
const Keys kFinanceKeys = {"new_loans", "manufacturing_loan_share", "reference_share",
                           "project_credit_fraction"};
const Keys kLandKeys = {"initial_stock_mu", "supply_mu"};
const Keys kClusterKeys = {"id",
                           "name",
                           "group",
                           "manufacturing",
                           "base_output",
                           "growth",
                           "shock_loading",
                           "credit_elasticity",
                           "value_added_ratio",
                           "tax_rate",
                           "output_per_worker",
                           "productivity_growth",
                           "digital_share",
                           "strategic_emerging_share",
                           "price_index"};
const Keys kProjectKeys = {"id",
                           "name",
                           "cluster",
                           "planned_start",
                           "start_delay_months",
                           "construction_months",
                           "ramp_months",
                           "capacity_output",
                           "success_probability",
                           "land_mu",
                           "investment",
                           "loan_share",
                           "jobs",
                           "tax_rate",
                           "new_firm",
                           "high_tech",
                           "priority"};
const Keys kFirmsKeys = {"above_scale", "high_tech"};
const Keys kFirmSeriesKeys = {"base", "entries", "exit_rate"};
const Keys kCorrelationKeys = {"between", "rho"};
const Keys kTargetKeys = {"id",      "label",   "metric", "year",     "at_least",
                          "at_most", "cluster", "group",  "threshold"};
const Keys kPriceKeys = {"id", "name", "change"};
const Keys kObservedKeys = {"id", "metric", "year", "value", "sd", "rel_sd", "cluster", "source"};

const std::vector<std::pair<std::string, const Keys*>>& schema_maps() {
  static const std::vector<std::pair<std::string, const Keys*>> maps = {
      {"", &kTopKeys},
      {"horizon", &kHorizonKeys},
      {"simulation", &kSimulationKeys},
      {"macro", &kMacroKeys},
      {"macro.common_shock", &kShockKeys},
      {"finance", &kFinanceKeys},
      {"land", &kLandKeys},
      {"clusters.*", &kClusterKeys},
      {"projects.*", &kProjectKeys},
      {"firms", &kFirmsKeys},
      {"firms.above_scale", &kFirmSeriesKeys},
      {"firms.high_tech", &kFirmSeriesKeys},
      {"correlations.*", &kCorrelationKeys},
      {"targets.*", &kTargetKeys},
      {"prices.*", &kPriceKeys},
      {"observed.*", &kObservedKeys},
  };
  return maps;
}

const Keys* schema_keys(const std::string& pattern) {
  for (const auto& [p, keys] : schema_maps())
    if (p == pattern) return keys;
  return nullptr;
}

bool is_per_year_pattern(const std::string& pattern) {
  static const std::set<std::string> per_year = {
      "macro.rest_growth",       "finance.new_loans",       "finance.manufacturing_loan_share",
      "land.supply_mu",          "clusters.*.growth",       "firms.above_scale.entries",
      "firms.high_tech.entries", "macro.rest_price_change", "prices.*.change"};
  return per_year.count(pattern) > 0;
}

std::string home_of(const std::string& key) {
  std::string home;
  int found = 0;
  for (const auto& [p, keys] : schema_maps())
    if (std::find(keys->begin(), keys->end(), key) != keys->end()) {
      home = p.empty() ? "the top level" : "'" + p + "'";
      ++found;
    }
  return found == 1 ? home : "";
}

const std::vector<FamilySpec>& families() {
  static const std::vector<FamilySpec> specs = {
      {"normal", Family::normal, {"mean", "sd"}, {"min", "max"}},
      {"lognormal", Family::lognormal, {"median", "sigma"}, {}},
      {"uniform", Family::uniform, {"min", "max"}, {}},
      {"triangular", Family::triangular, {"min", "mode", "max"}, {}},
      {"pert", Family::pert, {"min", "mode", "max"}, {"lambda"}},
      {"beta", Family::beta, {"alpha", "beta"}, {"min", "max"}},
      {"poisson", Family::poisson, {"mean"}, {}},
      {"discrete", Family::discrete, {"values", "probs"}, {}},
  };
  return specs;
}

const FamilySpec* family_spec(const std::string& name) {
  for (const auto& f : families())
    if (name == f.name) return &f;
  return nullptr;
}

Keys family_names() {
  Keys names;
  for (const auto& f : families()) names.push_back(f.name);
  return names;
}

Keys family_keys(const FamilySpec& f) {
  Keys keys = {"dist"};
  keys.insert(keys.end(), f.required.begin(), f.required.end());
  keys.insert(keys.end(), f.optional.begin(), f.optional.end());
  return keys;
}

}  // namespace countysim::schema
