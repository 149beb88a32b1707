// The sections about clusters and what refers to them: clusters, projects
// and supply_chain.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <Eigen/Dense>
#include <algorithm>

#include "countysim/scenario_schema.hpp"
#include "scenario_build.hpp"
#include "scenario_text.hpp"

namespace countysim::reader {

using namespace schema;
using yaml::Node;

int ClusterIndex::find(const std::string& id) const {
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == id) return static_cast<int>(i);
  return -1;
}

int cluster_ref(FieldReader& in, const Node& n, const std::string& path,
                const ClusterIndex& clusters) {
  yaml::Report& r = in.report();
  std::optional<std::string> t = in.text(n, path);
  if (!t) return -1;
  if (int i = clusters.find(*t); i >= 0) return i;
  if (!clusters.listed) return -1;  // the cluster list itself is broken: reported there
  const Keys& ids = clusters.ids;
  if (ids.empty())
    r.error(n, prefix(path) + fmt::format("unknown cluster '{}'; no clusters are defined", *t));
  else
    r.error(n, prefix(path) + fmt::format("unknown cluster '{}'; did you mean '{}'? (clusters: {})",
                                          *t, yaml::closest(*t, ids), fmt::join(ids, ", ")));
  return -1;
}

int PriceIds::find(const std::string& id) const {
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == id) return static_cast<int>(i);
  return -1;
}

PriceIds read_prices(FieldReader& in, const Fields& top, const std::optional<Horizon>& h, bool v2,
                     std::vector<PriceIndex>& prices) {
  yaml::Report& r = in.report();
  PriceIds index;
  if (!v2_key_allowed(in, top, "prices", v2)) return index;
  const Node* ln = in.get(top, "prices", false);
  if (!ln) return index;
  if (!ln->is_sequence()) {
    r.error(*ln,
            "prices: expected a list of price indices ('- {id: ..., name: ..., change: "
            "...}'), got " +
                yaml::describe(*ln));
    return index;
  }
  IdSeen seen;
  for (std::size_t i = 0; i < ln->items.size(); ++i) {
    const Node& item = ln->items[i];
    Fields f = in.fields(item, fmt::format("prices[{}]", i), kPriceKeys, "id, name and change");
    PriceIndex p;
    p.pos = item.pos;
    auto pid = in.id(f, "price index", seen);
    p.id = pid ? *pid : "";
    if (const Node* n = in.get(f, "name", true, "a label, e.g. 工业生产者出厂价格"))
      if (auto t = in.text(*n, join_path(f.path, "name"))) p.name = *t;
    const std::string key = "prices." + (pid ? *pid : std::to_string(i)) + ".change";
    if (auto v = in.per_year(f, "change", key, Bound::price_change, h)) p.change = *v;
    // Kept even when a field is bad, so that clusters naming it resolve.
    index.ids.push_back(p.id);
    prices.push_back(std::move(p));
  }
  return index;
}

ClusterIndex read_clusters(FieldReader& in, const Fields& top, const std::optional<Horizon>& h,
                           const PriceIds& prices, bool v2, std::vector<Cluster>& clusters) {
  yaml::Report& r = in.report();
  ClusterIndex index;
  const Node* ln = in.get(top, "clusters", true, "a list of clusters");
  if (!ln) return index;
  if (!ln->is_sequence()) {
    r.error(*ln, "clusters: expected a list of clusters ('- id: ...'), got " + yaml::describe(*ln));
    return index;
  }
  if (ln->items.empty()) {
    r.error(*ln, "clusters: the list is empty; a scenario has at least one cluster");
    return index;
  }
  index.listed = true;
  IdSeen seen;
  for (std::size_t i = 0; i < ln->items.size(); ++i) {
    const Node& item = ln->items[i];
    Fields f = in.fields(item, fmt::format("clusters[{}]", i), kClusterKeys, "cluster fields");
    Cluster c;
    c.pos = item.pos;
    auto cid = in.id(f, "cluster", seen);
    c.id = cid ? *cid : "";
    const std::string key = "clusters." + (cid ? *cid : std::to_string(i));
    bool ok = f.node != nullptr;
    if (const Node* n = in.get(f, "name", true, "a label, e.g. 纺织服装"))
      if (auto t = in.text(*n, join_path(f.path, "name"))) c.name = *t;
    if (const Node* n = in.get(f, "group", false))
      if (auto t = in.text(*n, join_path(f.path, "group"))) c.group = *t;
    if (auto v = in.flag(f, "manufacturing", true)) c.manufacturing = *v;
    auto base =
        in.constant(f, "base_output", Bound::nonneg, std::nullopt, "base-year output in 亿元");
    if (base) c.base_output = *base;
    if (auto v = in.per_year(f, "growth", key + ".growth", Bound::growth, h)) c.growth = *v;
    if (auto v = in.constant(f, "shock_loading", Bound::any, 1.0)) c.shock_loading = *v;
    if (auto v = in.constant(f, "credit_elasticity", Bound::any, 0.0)) c.credit_elasticity = *v;
    auto var =
        in.value(f, "value_added_ratio", key + ".value_added_ratio", Bound::share, std::nullopt);
    if (var) c.value_added_ratio = *var;
    if (auto v = in.value(f, "tax_rate", key + ".tax_rate", Bound::share, std::nullopt))
      c.tax_rate = *v;
    if (auto v = in.value(f, "output_per_worker", key + ".output_per_worker", Bound::positive,
                          std::nullopt))
      c.output_per_worker = *v;
    if (auto v = in.value(f, "productivity_growth", key + ".productivity_growth", Bound::growth,
                          std::nullopt))
      c.productivity_growth = *v;
    if (auto v = in.constant(f, "digital_share", Bound::share, 0.0)) c.digital_share = *v;
    if (auto v = in.constant(f, "strategic_emerging_share", Bound::share, 0.0))
      c.strategic_emerging_share = *v;
    if (v2_key_allowed(in, f, "price_index", v2))
      if (const Node* n = in.get(f, "price_index", false)) {
        const std::string path = join_path(f.path, "price_index");
        if (auto t = in.text(*n, path)) {
          c.price_index_index = t->empty() ? -1 : prices.find(*t);
          if (c.price_index_index >= 0)
            c.price_index = *t;
          else if (prices.ids.empty())
            r.error(*n, prefix(path) + fmt::format("unknown price index '{}'; no prices are "
                                                   "defined (add it to the 'prices' list)",
                                                   *t));
          else
            r.error(*n,
                    prefix(path) +
                        fmt::format("unknown price index '{}'; did you mean '{}'? (prices: {})", *t,
                                    yaml::closest(*t, prices.ids), fmt::join(prices.ids, ", ")));
        }
      }
    // Every item is kept, even with bad fields, so that references to it
    // resolve and are not reported as unknown clusters too.
    index.ids.push_back(c.id);
    if (!c.group.empty() &&
        std::find(index.groups.begin(), index.groups.end(), c.group) == index.groups.end())
      index.groups.push_back(c.group);
    index.base_values_ok = index.base_values_ok && ok && base && var;
    clusters.push_back(std::move(c));
  }
  return index;
}

namespace {

// "YYYY-MM" to months from January of base_year + 1; nullopt after reporting.
std::optional<int> parse_month(const std::string& t, const Node& n, const std::string& path,
                               int base_year, yaml::Report& r) {
  auto digits = [&](std::size_t a, std::size_t b) {
    return std::all_of(t.begin() + a, t.begin() + b, [](char c) { return c >= '0' && c <= '9'; });
  };
  std::size_t dash = t.find('-');
  if (t.size() == 7 && dash == 4 && digits(0, 4) && digits(5, 7)) {
    int month = std::stoi(t.substr(5));
    if (month < 1 || month > 12) {
      r.error(n, prefix(path) + fmt::format("month {:02d} in '{}' does not exist; months are 01 to "
                                            "12",
                                            month, t));
      return std::nullopt;
    }
    return 12 * (std::stoi(t.substr(0, 4)) - (base_year + 1)) + (month - 1);
  }
  if (t.size() == 6 && dash == 4 && digits(0, 4) && digits(5, 6)) {
    r.error(n, prefix(path) + fmt::format("write the month with two digits: '{}-0{}'",
                                          t.substr(0, 4), t.substr(5)));
  } else if (dash != std::string::npos && dash > 0 && dash < 4 && digits(0, dash)) {
    r.error(n, prefix(path) + fmt::format("'{}': the year needs four digits; expected YYYY-MM, "
                                          "e.g. 2022-04",
                                          t));
  } else if (t.size() == 10 && dash == 4 && t[7] == '-') {
    r.error(n, prefix(path) + fmt::format("'{}' is a day; expected a month YYYY-MM, e.g. '{}'", t,
                                          t.substr(0, 7)));
  } else {
    r.error(n, prefix(path) + fmt::format("expected a month YYYY-MM, e.g. 2022-04, got '{}'", t));
  }
  return std::nullopt;
}

}  // namespace

void read_projects(FieldReader& in, const Fields& top, const std::optional<Horizon>& h,
                   const ClusterIndex& clusters, std::vector<Project>& projects) {
  yaml::Report& r = in.report();
  const Node* ln = in.get(top, "projects", false);
  if (!ln) return;
  if (!ln->is_sequence()) {
    r.error(*ln, "projects: expected a list of projects ('- id: ...'), got " + yaml::describe(*ln));
    return;
  }
  IdSeen seen;
  const int months = h ? 12 * h->years() : 0;
  for (std::size_t i = 0; i < ln->items.size(); ++i) {
    const Node& item = ln->items[i];
    Fields f = in.fields(item, fmt::format("projects[{}]", i), kProjectKeys, "project fields");
    Project p;
    p.pos = item.pos;
    auto pid = in.id(f, "project", seen);
    p.id = pid ? *pid : "";
    const std::string key = "projects." + (pid ? *pid : std::to_string(i));
    if (const Node* n = in.get(f, "name", true, "a label, e.g. 印染园二期"))
      if (auto t = in.text(*n, join_path(f.path, "name"))) p.name = *t;
    if (const Node* n = in.get(f, "cluster", true, "the id of the cluster it produces for")) {
      p.cluster_index = cluster_ref(in, *n, join_path(f.path, "cluster"), clusters);
      if (p.cluster_index >= 0) p.cluster = clusters.ids[p.cluster_index];
    }
    if (const Node* n = in.get(f, "planned_start", true, "a month YYYY-MM")) {
      const std::string path = join_path(f.path, "planned_start");
      if (auto t = in.text(*n, path)) {
        p.planned_start = trim(*t);
        if (h)
          if (auto m = parse_month(p.planned_start, *n, path, h->base_year, r)) {
            p.planned_start_month = *m;
            if (*m >= months)
              r.warning(*n, prefix(path) + fmt::format("{} is after the last year {}; the project "
                                                       "cannot start within the horizon",
                                                       p.planned_start, h->last_year));
          }
      }
    }
    if (auto v = in.value(f, "start_delay_months", key + ".start_delay_months", Bound::months, 0.0))
      p.start_delay_months = *v;
    if (auto v = in.value(f, "construction_months", key + ".construction_months", Bound::months,
                          std::nullopt))
      p.construction_months = *v;
    if (auto v = in.value(f, "ramp_months", key + ".ramp_months", Bound::months, std::nullopt))
      p.ramp_months = *v;
    if (auto v =
            in.value(f, "capacity_output", key + ".capacity_output", Bound::nonneg, std::nullopt))
      p.capacity_output = *v;
    if (auto v = in.constant(f, "success_probability", Bound::share, 1.0))
      p.success_probability = *v;
    if (auto v = in.constant(f, "land_mu", Bound::nonneg, std::nullopt, "land it needs, in mu"))
      p.land_mu = *v;
    if (auto v = in.constant(f, "investment", Bound::nonneg, std::nullopt, "in 亿元"))
      p.investment = *v;
    if (auto v = in.constant(f, "loan_share", Bound::share, 0.0)) p.loan_share = *v;
    if (in.get(f, "jobs", false))
      p.jobs = in.value(f, "jobs", key + ".jobs", Bound::nonneg, std::nullopt, false);
    if (in.get(f, "tax_rate", false))
      p.tax_rate = in.value(f, "tax_rate", key + ".tax_rate", Bound::share, std::nullopt, false);
    if (auto v = in.flag(f, "new_firm", false)) p.new_firm = *v;
    if (auto v = in.flag(f, "high_tech", false)) p.high_tech = *v;
    if (const Node* n = in.get(f, "priority", false)) {
      if (auto v = in.integer(*n, join_path(f.path, "priority"), -1'000'000'000, 1'000'000'000))
        p.priority = static_cast<int>(*v);
    }
    projects.push_back(std::move(p));
  }
}

void read_supply_chain(FieldReader& in, const Fields& top, const ClusterIndex& clusters,
                       std::vector<SupplyLink>& links) {
  yaml::Report& r = in.report();
  const Node* sn = in.get(top, "supply_chain", false);
  if (!sn) return;
  if (!sn->is_map()) {
    r.error(*sn, "supply_chain: expected a map {SUPPLIER: {BUYER: coefficient}}, got " +
                     yaml::describe(*sn));
    return;
  }
  const Keys& ids = clusters.ids;
  auto lookup = [&](const std::string& id, int source, SourcePos pos, const std::string& path) {
    if (int i = clusters.find(id); i >= 0) return i;
    if (clusters.listed)
      r.error(source, pos,
              prefix(path) + fmt::format("unknown cluster '{}'{}", id,
                                         ids.empty()
                                             ? std::string()
                                             : "; did you mean '" + yaml::closest(id, ids) + "'?"));
    return -1;
  };
  bool ok = clusters.listed;
  for (std::size_t i = 0; i < sn->keys.size(); ++i) {
    const std::string& from_id = sn->keys[i];
    int from = lookup(from_id, sn->items[i].source, sn->key_pos[i], "supply_chain");
    const Node& row = sn->items[i];
    const std::string row_path = join_path("supply_chain", from_id);
    if (!row.is_map()) {
      r.error(row, prefix(row_path) + "expected a map {BUYER_CLUSTER: coefficient}, got " +
                       yaml::describe(row));
      ok = false;
      continue;
    }
    ok = ok && from >= 0;
    for (std::size_t j = 0; j < row.keys.size(); ++j) {
      int to = lookup(row.keys[j], row.items[j].source, row.key_pos[j], row_path);
      const std::string path = join_path(row_path, row.keys[j]);
      std::optional<double> a = in.number(row.items[j], path);
      if (a && !in.check_constant(*a, row.items[j], path, Bound::nonneg)) a.reset();
      if (from < 0 || to < 0 || !a) {
        ok = false;
        continue;
      }
      links.push_back({from, to, *a, row.items[j].pos});
    }
  }
  if (!ok || links.empty()) return;
  const int n = static_cast<int>(ids.size());
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(n, n);
  for (const auto& l : links) A(l.from, l.to) += l.a;
  Eigen::EigenSolver<Eigen::MatrixXd> es(A, false);
  double radius = es.eigenvalues().cwiseAbs().maxCoeff();
  if (!(radius < 1))
    r.error(sn->source, in.key_pos(top, "supply_chain"),
            fmt::format("supply_chain: the local supply chain is not productive (spectral radius "
                        "{:.3g} >= 1): the clusters would need more local inputs than they "
                        "produce; lower the coefficients (each column's sum below 1 is enough)",
                        radius));
}

}  // namespace countysim::reader
