#include "countysim/plan.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <numeric>

#include "countysim/copula.hpp"
#include "countysim/quantile_functions.hpp"
#include "countysim/rng.hpp"

namespace countysim {
namespace {

class PlanBuilder {
 public:
  explicit PlanBuilder(Plan& plan) : plan_(plan) {}

  int add(const std::string& base_key, int year, const Distribution& dist) {
    InputSlot s;
    s.base_key = base_key;
    s.year = year;
    s.key =
        year < 0 ? base_key : fmt::format("{}@{}", base_key, plan_.scenario->base_year + 1 + year);
    s.hash = key_hash(s.key);
    s.dist = dist;
    s.random = !dist.is_constant();
    plan_.slots.push_back(std::move(s));
    return static_cast<int>(plan_.slots.size()) - 1;
  }
  int add(const Value& v) { return add(v.key, -1, v.dist); }
  std::vector<int> add(const PerYearValue& v) {
    std::vector<int> out;
    for (std::size_t t = 0; t < v.years.size(); ++t)
      out.push_back(add(v.years[t].key, static_cast<int>(t), v.years[t].dist));
    return out;
  }

 private:
  Plan& plan_;
};

// Builds the copula groups: connected components of the correlation graph,
// one group per component (per-draw inputs) or per component and year.
void build_groups(Plan& plan) {
  const Scenario& sc = *plan.scenario;
  if (sc.correlations.empty()) return;
  std::map<std::string, std::vector<int>> by_base;  // base key -> slots (by year)
  for (std::size_t i = 0; i < plan.slots.size(); ++i)
    if (plan.slots[i].random) by_base[plan.slots[i].base_key].push_back(static_cast<int>(i));

  // Union-find over base keys.
  std::vector<std::string> names;
  std::map<std::string, int> index;
  auto id_of = [&](const std::string& k) {
    auto it = index.find(k);
    if (it != index.end()) return it->second;
    names.push_back(k);
    return index[k] = static_cast<int>(names.size()) - 1;
  };
  for (const auto& c : sc.correlations) {
    for (const auto* k : {&c.a, &c.b})
      if (!by_base.count(*k))
        throw InputError({{sc.path, c.pos,
                           fmt::format("correlations: '{}' is not a random input of this "
                                       "scenario (it is a constant or does not exist)",
                                       *k)}});
    id_of(c.a);
    id_of(c.b);
  }
  std::vector<int> parent(names.size());
  std::iota(parent.begin(), parent.end(), 0);
  std::function<int(int)> find = [&](int x) {
    return parent[x] == x ? x : parent[x] = find(parent[x]);
  };
  for (const auto& c : sc.correlations) parent[find(index[c.a])] = find(index[c.b]);

  std::map<int, std::vector<int>> components;
  for (std::size_t i = 0; i < names.size(); ++i)
    components[find(static_cast<int>(i))].push_back(static_cast<int>(i));

  for (const auto& [root, members] : components) {
    (void)root;
    const int n = static_cast<int>(members.size());
    Eigen::MatrixXd c = Eigen::MatrixXd::Identity(n, n);
    SourcePos first_pos;
    for (const auto& corr : sc.correlations) {
      auto ia = std::find(members.begin(), members.end(), index[corr.a]);
      auto ib = std::find(members.begin(), members.end(), index[corr.b]);
      if (ia == members.end() || ib == members.end()) continue;
      if (first_pos.line == 0) first_pos = corr.pos;
      const auto a = ia - members.begin(), b = ib - members.begin();
      c(a, b) = c(b, a) = corr.rho;
    }
    CorrelationRepair repair = nearest_correlation(c);
    if (repair.repaired) {
      plan.warnings.push_back(
          {sc.path, first_pos,
           fmt::format(
               "warning: the correlations among {} do not form a valid (positive-definite) "
               "matrix; using the nearest valid one, whose largest change is {:.3f} "
               "(between '{}' and '{}')",
               [&] {
                 std::vector<std::string> member_names;
                 for (int m : members) member_names.push_back(names[m]);
                 return fmt::format("{}", fmt::join(member_names, ", "));
               }(),
               repair.largest_change, names[members[repair.row]], names[members[repair.col]])});
    }
    Eigen::MatrixXd lower = cholesky_lower(repair.matrix);
    // Per-year members must all be per-year (the parser checks); group per year.
    const std::size_t years = by_base[names[members[0]]].size();
    for (std::size_t y = 0; y < years; ++y) {
      CopulaGroup g;
      g.lower = lower;
      for (int m : members) {
        const auto& slots = by_base[names[m]];
        g.slots.push_back(slots[std::min(y, slots.size() - 1)]);
      }
      for (int s : g.slots) plan.slots[s].group = static_cast<int>(plan.groups.size());
      plan.groups.push_back(std::move(g));
    }
  }
}

}  // namespace

Plan compile_plan(const Scenario& sc) {
  static std::atomic<std::uint64_t> next_id{1};
  Plan plan;
  plan.scenario = &sc;
  plan.id = next_id++;
  plan.years = sc.years();
  plan.clusters = static_cast<int>(sc.clusters.size());
  plan.projects = static_cast<int>(sc.projects.size());
  PlanBuilder b(plan);

  // The order of slots is irrelevant to the streams (keys decide); it only
  // fixes the order of /inputs datasets.
  plan.rest_growth = b.add(sc.macro.rest_growth);
  plan.digital_share_of_rest = b.add(sc.macro.digital_share_of_rest);
  for (int t = 0; t < plan.years; ++t)
    plan.shock.push_back(b.add("macro.common_shock", t,
                               sc.macro.shock_sd > 0 ? Distribution::normal(0, sc.macro.shock_sd)
                                                     : Distribution::constant(0)));
  plan.new_loans = b.add(sc.finance.new_loans);
  plan.loan_share = b.add(sc.finance.manufacturing_loan_share);
  plan.land_supply = b.add(sc.land.supply_mu);
  for (const auto& c : sc.clusters) {
    ClusterSlots s;
    s.growth = b.add(c.growth);
    s.value_added_ratio = b.add(c.value_added_ratio);
    s.tax_rate = b.add(c.tax_rate);
    s.output_per_worker = b.add(c.output_per_worker);
    s.productivity_growth = b.add(c.productivity_growth);
    plan.cluster.push_back(s);
  }
  for (const auto& p : sc.projects) {
    ProjectSlots s;
    const double q = p.success_probability;
    s.success = b.add("projects." + p.id + ".success", -1,
                      q >= 1   ? Distribution::constant(1)
                      : q <= 0 ? Distribution::constant(0)
                               : Distribution::discrete({0, 1}, {1 - q, q}));
    s.delay = b.add(p.start_delay_months);
    s.construction = b.add(p.construction_months);
    s.ramp = b.add(p.ramp_months);
    s.capacity = b.add(p.capacity_output);
    if (p.jobs) s.jobs = b.add(*p.jobs);
    if (p.tax_rate) s.tax_rate = b.add(*p.tax_rate);
    plan.project.push_back(s);
  }
  auto add_firms = [&](const FirmSeries& f, const std::string& name, FirmSlots& out,
                       bool flag_of(const Project&)) {
    if (!f.present) return;
    out.present = true;
    for (int p = 0; p < plan.projects; ++p)
      if (flag_of(sc.projects[p])) out.flagged.push_back(p);
    out.entries = b.add(f.entries);
    out.exit_rate = b.add(f.exit_rate);
    for (int t = 0; t < plan.years; ++t)
      out.exits.push_back(b.add("firms." + name + ".exits", t, Distribution::uniform(0, 1)));
  };
  add_firms(sc.firms.above_scale, "above_scale", plan.above_scale,
            [](const Project& p) { return p.new_firm; });
  add_firms(sc.firms.high_tech, "high_tech", plan.high_tech,
            [](const Project& p) { return p.high_tech; });
  // v2 prices, after every v1 slot (slots are keyed, so streams do not move).
  if (static_cast<int>(sc.macro.rest_price_change.years.size()) == plan.years)
    plan.rest_price_change = b.add(sc.macro.rest_price_change);
  else
    for (int t = 0; t < plan.years; ++t)
      plan.rest_price_change.push_back(
          b.add("macro.rest_price_change", t, Distribution::constant(0)));
  for (const auto& p : sc.prices) plan.price_change.push_back(b.add(p.change));
  for (const auto& c : sc.clusters) plan.cluster_price.push_back(c.price_index_index);

  plan.constant_values.resize(plan.slots.size());
  for (std::size_t i = 0; i < plan.slots.size(); ++i) {
    const auto& s = plan.slots[i];
    if (s.random)
      plan.random_slots.push_back(static_cast<int>(i));
    else
      plan.constant_values[i] = s.dist.quantile(0.5);
  }

  // /inputs datasets: every base key with at least one random slot.
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < plan.slots.size(); ++i) {
    const auto& s = plan.slots[i];
    auto it = seen.find(s.base_key);
    if (it == seen.end()) {
      it = seen.emplace(s.base_key, plan.input_datasets.size()).first;
      plan.input_datasets.push_back({s.base_key, {}, s.year >= 0});
    }
    plan.input_datasets[it->second].slots.push_back(static_cast<int>(i));
  }
  plan.input_datasets.erase(std::remove_if(plan.input_datasets.begin(), plan.input_datasets.end(),
                                           [&](const InputDataset& d) {
                                             return std::none_of(
                                                 d.slots.begin(), d.slots.end(),
                                                 [&](int s) { return plan.slots[s].random; });
                                           }),
                            plan.input_datasets.end());

  build_groups(plan);

  for (const auto& t : sc.targets) {
    std::vector<int> members;
    if (t.metric == Metric::clusters_at_least)
      for (int c = 0; c < plan.clusters; ++c)
        if (sc.clusters[c].group == t.group) members.push_back(c);
    plan.target_group_clusters.push_back(std::move(members));
  }
  for (const auto& p : sc.projects) plan.project_cluster.push_back(p.cluster_index);
  std::vector<int> priorities;
  for (const auto& p : sc.projects) priorities.push_back(p.priority);
  std::sort(priorities.begin(), priorities.end());
  priorities.erase(std::unique(priorities.begin(), priorities.end()), priorities.end());
  for (const auto& p : sc.projects)
    plan.priority_rank.push_back(static_cast<int>(
        std::lower_bound(priorities.begin(), priorities.end(), p.priority) - priorities.begin()));

  const int n = plan.clusters;
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(n, n);
  for (const auto& link : sc.supply_chain) a(link.from, link.to) += link.a;
  plan.has_supply_chain = !sc.supply_chain.empty();
  plan.leontief = (Eigen::MatrixXd::Identity(n, n) - a).partialPivLu().inverse();
  return plan;
}

void sample_inputs(const Plan& plan, std::uint64_t seed, std::uint64_t draw,
                   std::vector<double>& values, std::vector<double>& scratch) {
  values = plan.constant_values;
  if (plan.groups.empty()) {
    for (int i : plan.random_slots) {
      const auto& s = plan.slots[i];
      values[i] = s.dist.quantile(stream_uniform(seed, s.hash, draw));
    }
    return;
  }
  // With a copula: keep the uniforms, correlate the normal scores, then invert.
  for (int i : plan.random_slots) {
    const auto& s = plan.slots[i];
    const double u = stream_uniform(seed, s.hash, draw);
    values[i] = s.group < 0 ? s.dist.quantile(u) : u;
  }
  for (const auto& g : plan.groups) {
    const std::size_t n = g.slots.size();
    scratch.resize(2 * n);
    for (std::size_t k = 0; k < n; ++k) scratch[k] = normal_quantile(values[g.slots[k]]);
    for (std::size_t r = 0; r < n; ++r) {
      double z = 0;
      for (std::size_t k = 0; k <= r; ++k) z += g.lower(r, k) * scratch[k];
      scratch[n + r] = z;
    }
    for (std::size_t k = 0; k < n; ++k) {
      const auto& s = plan.slots[g.slots[k]];
      values[g.slots[k]] = s.dist.quantile(copula_uniform(normal_cdf(scratch[n + k])));
    }
  }
}

}  // namespace countysim
