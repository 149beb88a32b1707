// The scenario's sections other than clusters, projects, supply_chain
// (scenario_build_clusters.cpp) and targets (scenario_build_targets.cpp), and
// build_scenario(), which reads them all in order.
#include "scenario_build.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>

#include "countysim/scenario_schema.hpp"
#include "scenario_text.hpp"

namespace countysim::reader {

using namespace schema;
using yaml::Node;

namespace {

std::optional<InputInfo> correlation_input(FieldReader& in, const InputRegistry& inputs,
                                           const Node& n, const std::string& path) {
  yaml::Report& r = in.report();
  std::optional<std::string> t = in.text(n, path);
  if (!t) return std::nullopt;
  if (*t == "macro.common_shock") return InputInfo{true, true, true};
  if (std::size_t at = t->find('@'); at != std::string::npos) {
    r.error(n, prefix(path) + fmt::format("'{}': a correlation holds in every year; write '{}' "
                                          "without the year",
                                          *t, t->substr(0, at)));
    return std::nullopt;
  }
  auto it = inputs.find(*t);
  if (it == inputs.end()) {
    Keys keys = {"macro.common_shock"};
    for (const auto& [k, info] : inputs) keys.push_back(k);
    r.error(n, prefix(path) + fmt::format("unknown random input '{}'; did you mean '{}'?", *t,
                                          yaml::closest(*t, keys)));
    return std::nullopt;
  }
  if (!it->second.valid) return std::nullopt;  // reported where it was written
  if (!it->second.random) {
    r.error(n, prefix(path) + fmt::format("'{}' is a constant; only random inputs (written as a "
                                          "distribution) can be correlated",
                                          *t));
    return std::nullopt;
  }
  return it->second;
}

}  // namespace

std::optional<Horizon> read_horizon(FieldReader& in, const Fields& top) {
  yaml::Report& r = in.report();
  const Node* h = in.get(top, "horizon", true, "{base_year: YYYY, last_year: YYYY}");
  if (!h) return std::nullopt;
  Fields f = in.fields(*h, "horizon", kHorizonKeys, "base_year and last_year");
  const Node* bn = in.get(f, "base_year", true, "the year of the known starting values");
  const Node* ln = in.get(f, "last_year", true, "the last projection year");
  std::optional<long long> by, ly;
  if (bn) by = in.integer(*bn, "horizon.base_year", 1000, 9999);
  if (ln) ly = in.integer(*ln, "horizon.last_year", 1000, 9999);
  if (!by || !ly) return std::nullopt;
  if (*ly <= *by) {
    r.error(*ln, fmt::format("horizon.last_year: {} must be after base_year {}", *ly, *by));
    return std::nullopt;
  }
  if (*ly - *by > kMaxYears) {
    r.error(*ln, fmt::format("horizon: {}..{} is {} years; at most {} projection years", *by, *ly,
                             *ly - *by, kMaxYears));
    return std::nullopt;
  }
  return Horizon{static_cast<int>(*by), static_cast<int>(*ly)};
}

void read_simulation(FieldReader& in, const Fields& top, Scenario& s) {
  yaml::Report& r = in.report();
  const Node* sn = in.get(top, "simulation", true, "{draws: N, seed: S}");
  if (!sn) return;
  Fields f = in.fields(*sn, "simulation", kSimulationKeys, "draws and seed");
  if (const Node* d = in.get(f, "draws", true, "the number of Monte-Carlo draws")) {
    std::optional<double> v = in.number(*d, "simulation.draws");
    if (v) {
      if (std::floor(*v) != *v || *v < 1 || *v > static_cast<double>(kMaxDraws))
        r.error(*d, fmt::format("simulation.draws: expected a whole number from 1 to {}, got {}",
                                kMaxDraws, trim(d->text)));
      else
        s.draws = static_cast<std::uint64_t>(*v);
    }
  }
  if (const Node* sd = in.get(f, "seed", true, "a whole number, 0 or more")) {
    std::string t = sd->is_scalar() ? trim(sd->text) : "";
    if (!t.empty() && t[0] == '+') t.erase(0, 1);
    if (all_digits(t)) {
      errno = 0;
      unsigned long long v = std::strtoull(t.c_str(), nullptr, 10);
      if (errno == ERANGE)
        r.error(*sd, fmt::format("simulation.seed: {} is too large; at most {}", t,
                                 std::numeric_limits<std::uint64_t>::max()));
      else
        s.seed = v;
    } else if (std::optional<double> v = in.number(*sd, "simulation.seed")) {
      if (*v < 0 || std::floor(*v) != *v || *v >= 18446744073709551616.0)
        r.error(*sd, fmt::format("simulation.seed: expected a whole number from 0 to {}, got {}",
                                 std::numeric_limits<std::uint64_t>::max(), trim(sd->text)));
      else
        s.seed = static_cast<std::uint64_t>(*v);
    }
  }
}

bool v2_key_allowed(FieldReader& in, const Fields& f, const std::string& key, bool v2) {
  if (!f.node) return false;
  if (v2) return true;
  const int i = f.node->index_of(key);
  if (i < 0) return false;
  in.report().error(f.node->items[i].source, f.node->key_pos[i],
                    prefix(f.path) + fmt::format("'{}' needs 'schema: {}'; this scenario says "
                                                 "'schema: {}': change its schema line",
                                                 key, kSchemaV2, kSchema));
  return false;
}

std::optional<GdpBase> read_macro(FieldReader& in, const Fields& top,
                                  const std::optional<Horizon>& h, bool v2, Macro& macro) {
  yaml::Report& r = in.report();
  const Node* mn = in.get(top, "macro", true);
  if (!mn) return std::nullopt;
  Fields f = in.fields(*mn, "macro", kMacroKeys);
  if (!f.node) return std::nullopt;
  std::optional<GdpBase> gdp;
  if (auto v = in.constant(f, "gdp_base", Bound::positive, std::nullopt, "base-year GDP in 亿元")) {
    macro.gdp_base = *v;
    gdp = GdpBase{*v, in.get(f, "gdp_base", false)};
  }
  if (auto v = in.per_year(f, "rest_growth", "macro.rest_growth", Bound::growth, h))
    macro.rest_growth = *v;
  if (auto v = in.constant(f, "rest_shock_loading", Bound::any, 0.5)) macro.rest_shock_loading = *v;
  // v2: the rest's deflator, 0 every year when absent (and always in v1).
  if (h)
    macro.rest_price_change.years.assign(
        h->years(), Value{Distribution::constant(0), "macro.rest_price_change", mn->pos});
  if (v2_key_allowed(in, f, "rest_price_change", v2))
    if (auto v = in.per_year(f, "rest_price_change", "macro.rest_price_change", Bound::price_change,
                             h, 0.0))
      macro.rest_price_change = *v;
  if (const Node* cs = in.get(f, "common_shock", true, "{sd: ..., persistence: ...}")) {
    Fields sf = in.fields(*cs, "macro.common_shock", kShockKeys, "sd and persistence");
    if (auto v = in.constant(sf, "sd", Bound::nonneg, std::nullopt)) {
      macro.shock_sd = *v;
      if (*v > 0.5)
        r.warning(*in.get(sf, "sd", false),
                  fmt::format("macro.common_shock.sd: {} is a yearly shock of {}%; if you meant "
                              "{}%, write {}",
                              num(*v), num(*v * 100), num(*v), num(*v / 100)));
    }
    if (auto v = in.constant(sf, "persistence", Bound::any, std::nullopt)) {
      if (std::fabs(*v) > 1)
        r.error(*in.get(sf, "persistence", false),
                fmt::format("macro.common_shock.persistence: {} is outside [-1, 1]; the shock "
                            "would grow without bound",
                            num(*v)));
      else
        macro.shock_persistence = *v;
    }
  }
  if (auto v = in.value(f, "digital_share_of_rest", "macro.digital_share_of_rest", Bound::share,
                        std::nullopt))
    macro.digital_share_of_rest = *v;
  return gdp;
}

void read_finance(FieldReader& in, const Fields& top, const std::optional<Horizon>& h,
                  Finance& finance) {
  const Node* fn = in.get(top, "finance", true);
  if (!fn) return;
  Fields f = in.fields(*fn, "finance", kFinanceKeys);
  if (!f.node) return;
  if (auto v = in.per_year(f, "new_loans", "finance.new_loans", Bound::nonneg, h))
    finance.new_loans = *v;
  if (auto v = in.per_year(f, "manufacturing_loan_share", "finance.manufacturing_loan_share",
                           Bound::share, h))
    finance.manufacturing_loan_share = *v;
  if (auto v = in.constant(f, "reference_share", Bound::share, std::nullopt))
    finance.reference_share = *v;
  if (auto v = in.constant(f, "project_credit_fraction", Bound::share, std::nullopt))
    finance.project_credit_fraction = *v;
}

void read_land(FieldReader& in, const Fields& top, const std::optional<Horizon>& h, Land& land) {
  const Node* ln = in.get(top, "land", true);
  if (!ln) return;
  Fields f = in.fields(*ln, "land", kLandKeys);
  if (!f.node) return;
  if (auto v = in.constant(f, "initial_stock_mu", Bound::nonneg, std::nullopt))
    land.initial_stock_mu = *v;
  if (auto v = in.per_year(f, "supply_mu", "land.supply_mu", Bound::nonneg, h)) land.supply_mu = *v;
}

void read_firms(FieldReader& in, const Fields& top, const std::optional<Horizon>& h, Firms& firms) {
  const Node* fn = in.get(top, "firms", false);
  if (!fn) return;
  Fields f = in.fields(*fn, "firms", kFirmsKeys, "above_scale and high_tech");
  for (const char* name : {"above_scale", "high_tech"}) {
    const Node* sn = in.get(f, name, false);
    if (!sn) continue;
    FirmSeries& series = std::string(name) == "above_scale" ? firms.above_scale : firms.high_tech;
    const std::string path = join_path("firms", name);
    Fields sf = in.fields(*sn, path, kFirmSeriesKeys, "base, entries and exit_rate");
    series.present = true;
    if (auto v = in.constant(sf, "base", Bound::count, std::nullopt, "the base-year count"))
      series.base = *v;
    if (auto v = in.per_year(sf, "entries", path + ".entries", Bound::count, h))
      series.entries = *v;
    if (auto v = in.value(sf, "exit_rate", path + ".exit_rate", Bound::share, std::nullopt))
      series.exit_rate = *v;
  }
}

void read_correlations(FieldReader& in, const Fields& top, const InputRegistry& inputs,
                       std::vector<Correlation>& correlations) {
  yaml::Report& r = in.report();
  const Node* ln = in.get(top, "correlations", false);
  if (!ln) return;
  if (!ln->is_sequence()) {
    r.error(*ln, "correlations: expected a list of {between: [PATH, PATH], rho: NUMBER}, got " +
                     yaml::describe(*ln));
    return;
  }
  std::map<std::pair<std::string, std::string>, const Node*> pairs;
  for (std::size_t i = 0; i < ln->items.size(); ++i) {
    const Node& item = ln->items[i];
    Fields f =
        in.fields(item, fmt::format("correlations[{}]", i), kCorrelationKeys, "between and rho");
    Correlation c;
    c.pos = item.pos;
    bool ok = f.node != nullptr;
    if (auto rho = in.constant(f, "rho", Bound::any, std::nullopt, "a correlation in [-1, 1]")) {
      if (*rho < -1 || *rho > 1) {
        r.error(*in.get(f, "rho", false),
                prefix(join_path(f.path, "rho")) +
                    fmt::format("{} is outside [-1, 1]; a correlation coefficient lies in [-1, 1]",
                                num(*rho)));
        ok = false;
      }
      c.rho = *rho;
    } else {
      ok = false;
    }
    const Node* bn = in.get(f, "between", true, "[PATH, PATH]");
    if (!bn) continue;
    const std::string bpath = join_path(f.path, "between");
    if (!bn->is_sequence() || bn->items.size() != 2) {
      r.error(*bn, prefix(bpath) +
                       "expected two input keys [PATH, PATH], e.g. "
                       "[clusters.textiles.growth, macro.rest_growth], got " +
                       (bn->is_sequence() ? fmt::format("{} items", bn->items.size())
                                          : yaml::describe(*bn)));
      continue;
    }
    auto a = correlation_input(in, inputs, bn->items[0], bpath + "[0]");
    auto b = correlation_input(in, inputs, bn->items[1], bpath + "[1]");
    if (!a || !b) continue;
    c.a = bn->items[0].text;
    c.b = bn->items[1].text;
    if (c.a == c.b) {
      r.error(bn->items[1], prefix(bpath) + fmt::format("'{}' is paired with itself; name two "
                                                        "different inputs",
                                                        c.a));
      continue;
    }
    if (a->per_year != b->per_year) {
      r.error(*bn, prefix(bpath) + fmt::format("cannot correlate {} input '{}' with {} input '{}'; "
                                               "both must be per-year or both per-draw",
                                               a->per_year ? "per-year" : "per-draw", c.a,
                                               b->per_year ? "per-year" : "per-draw", c.b));
      continue;
    }
    auto key = std::minmax(c.a, c.b);
    auto [it, inserted] = pairs.emplace(std::make_pair(key.first, key.second), &item);
    if (!inserted) {
      r.error(*bn, prefix(bpath) + fmt::format("the pair {} / {} is given twice (first at {}); "
                                               "keep one",
                                               c.a, c.b, where_noted(r, *it->second, bn->source)));
      continue;
    }
    if (ok) correlations.push_back(c);
  }
}

void check_rest_of_economy(FieldReader& in, const std::optional<GdpBase>& gdp,
                           const ClusterIndex& index, const std::vector<Cluster>& clusters) {
  if (!gdp || !index.listed || !index.base_values_ok || clusters.empty()) return;
  double industry = 0;
  Keys parts;
  for (const auto& c : clusters) {
    double v = c.value_added_ratio.dist.support_max();
    industry += v * c.base_output;
    parts.push_back(fmt::format("{} {} x {}", c.id, num(v), num(c.base_output)));
  }
  double rest = gdp->value - industry;
  if (rest > 0) return;
  in.report().error(
      *gdp->node,
      fmt::format("macro.gdp_base: {} leaves nothing for the rest of the economy: industry's "
                  "base-year value added can reach {:.4g} ({}), so R0 = gdp_base - sum of "
                  "value_added_ratio x base_output = {:.4g} <= 0; raise gdp_base or lower the "
                  "clusters' base_output or value_added_ratio",
                  num(gdp->value), industry, fmt::join(parts, " + "), rest));
}

// The order matters only where a section takes an earlier one's result:
// per-year values need the horizon's years; projects, supply_chain and
// targets need the cluster ids; targets need the firms series; correlations
// need every random input read before them (the registry `in.inputs()`); the
// rest-of-economy check needs the base GDP and every cluster's base values;
// clusters need the price indices (price_index); observed needs the clusters
// and the firms series.
// Otherwise sections are read in file-format order, which is also the order of
// messages at the same position.
void build_scenario(FieldReader& in, const Node& root, Scenario& s) {
  yaml::Report& r = in.report();
  if (root.is_null()) {
    r.error(root,
            "the scenario is empty; it starts with 'schema: countysim/1' (see "
            "docs/scenario-format.md)");
    return;
  }
  if (!root.is_map()) {
    r.error(root,
            "expected a scenario: a YAML map of sections starting with 'schema: "
            "countysim/1', got " +
                yaml::describe(root));
    return;
  }
  Fields top = in.fields(root, "", kTopKeys);
  if (const Node* n = in.get(top, "schema", true, "write 'schema: countysim/1' first")) {
    if (n->is_scalar() && (n->text == kSchema || n->text == kSchemaV2))
      s.schema = n->text;
    else
      r.error(*n, fmt::format("schema: {} is not a schema this countysim reads; write 'schema: "
                              "{}' or 'schema: {}'",
                              yaml::describe(*n), kSchema, kSchemaV2));
  }
  // Only a file that says countysim/1 refuses the v2 keys; with a missing or
  // unknown schema (reported above) they are read, so no second error follows.
  const bool v2 = s.schema != kSchema;
  if (const Node* n = in.get(top, "name", true, "the scenario's title"))
    if (auto t = in.text(*n, "name")) {
      s.name = *t;
      if (trim(*t).empty()) r.error(*n, "name: is empty; give the scenario a title");
    }
  if (const Node* n = in.get(top, "description", false))
    if (auto t = in.text(*n, "description")) s.description = *t;

  const std::optional<Horizon> horizon = read_horizon(in, top);
  if (horizon) {
    s.base_year = horizon->base_year;
    s.last_year = horizon->last_year;
  }
  read_simulation(in, top, s);
  const std::optional<GdpBase> gdp = read_macro(in, top, horizon, v2, s.macro);
  read_finance(in, top, horizon, s.finance);
  read_land(in, top, horizon, s.land);
  const PriceIds prices = read_prices(in, top, horizon, v2, s.prices);
  const ClusterIndex clusters = read_clusters(in, top, horizon, prices, v2, s.clusters);
  read_firms(in, top, horizon, s.firms);
  read_projects(in, top, horizon, clusters, s.projects);
  read_supply_chain(in, top, clusters, s.supply_chain);
  read_correlations(in, top, in.inputs(), s.correlations);
  read_targets(in, top, horizon, clusters, s.firms, s.targets);
  read_observed(in, top, horizon, clusters, s.firms, v2, s.observed);
  check_rest_of_economy(in, gdp, clusters, s.clusters);
}

}  // namespace countysim::reader
