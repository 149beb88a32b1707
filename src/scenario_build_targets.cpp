// The targets section: each target's metric, year, threshold and the
// cluster or group it is about; and the observed outturns (v2), which name
// metrics the same way.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "countysim/metrics.hpp"
#include "countysim/scenario_schema.hpp"
#include "scenario_build.hpp"
#include "scenario_text.hpp"

namespace countysim::reader {

using namespace schema;
using yaml::Node;

void read_targets(FieldReader& in, const Fields& top, const std::optional<Horizon>& h,
                  const ClusterIndex& clusters, const Firms& firms, std::vector<Target>& targets) {
  yaml::Report& r = in.report();
  const Node* ln = in.get(top, "targets", true, "a list of targets");
  if (!ln) return;
  if (!ln->is_sequence()) {
    r.error(*ln, "targets: expected a list of targets ('- id: ...'), got " + yaml::describe(*ln));
    return;
  }
  if (ln->items.empty()) {
    r.error(*ln, "targets: the list is empty; a scenario has at least one target");
    return;
  }
  Keys metric_names;
  for (const auto& m : metric_catalogue())
    if (m.shape == MetricShape::draw_year || m.metric == Metric::cluster_output ||
        m.metric == Metric::clusters_at_least)
      metric_names.push_back(m.name);
  const Keys& groups = clusters.groups;
  IdSeen seen;
  for (std::size_t i = 0; i < ln->items.size(); ++i) {
    const Node& item = ln->items[i];
    Fields f = in.fields(item, fmt::format("targets[{}]", i), kTargetKeys, "target fields");
    if (!f.node) continue;
    Target t;
    t.pos = item.pos;
    if (auto tid = in.id(f, "target", seen)) t.id = *tid;
    if (const Node* n = in.get(f, "label", true, "a label, e.g. 工业总产值过百亿"))
      if (auto s = in.text(*n, join_path(f.path, "label"))) t.label = *s;
    bool has_metric = false;  // a valid target metric was given (t.metric)
    if (const Node* n = in.get(f, "metric", true, "a metric name, e.g. industrial_output")) {
      const std::string path = join_path(f.path, "metric");
      if (auto s = in.text(*n, path)) {
        std::optional<Metric> m = metric_from_name(*s);
        if (!m) {
          r.error(*n, prefix(path) + fmt::format("unknown metric '{}'; did you mean '{}'?", *s,
                                                 yaml::closest(*s, metric_names)));
        } else if (std::find(metric_names.begin(), metric_names.end(), *s) == metric_names.end()) {
          r.error(*n, prefix(path) + fmt::format("metric '{}' cannot be a target; targets use "
                                                 "[draw, year] metrics, cluster_output or "
                                                 "clusters_at_least",
                                                 *s));
        } else {
          has_metric = true;
          t.metric = *m;
          if (t.metric == Metric::above_scale_firms && !firms.above_scale.present)
            r.error(*n, prefix(path) +
                            "above_scale_firms needs firms.above_scale (base, "
                            "entries, exit_rate) in the scenario");
          if (t.metric == Metric::high_tech_firms && !firms.high_tech.present)
            r.error(*n, prefix(path) +
                            "high_tech_firms needs firms.high_tech (base, entries, "
                            "exit_rate) in the scenario");
        }
      }
    }
    t.year = h ? h->last_year : 0;
    if (const Node* n = in.get(f, "year", false)) {
      if (auto y = in.integer(*n, join_path(f.path, "year"), 1000, 9999)) {
        if (h && (*y <= h->base_year || *y > h->last_year))
          r.error(*n, prefix(join_path(f.path, "year")) +
                          fmt::format("{} is outside the projection years {}..{}", *y,
                                      h->base_year + 1, h->last_year));
        t.year = static_cast<int>(*y);
      }
    }
    const Node* least = in.get(f, "at_least", false);
    const Node* most = in.get(f, "at_most", false);
    if (least && most) {
      bool least_first = f.node->index_of("at_least") < f.node->index_of("at_most");
      r.error(item.source, in.key_pos(f, least_first ? "at_most" : "at_least"),
              prefix(f.path) +
                  "has both at_least and at_most; a target has exactly one (write "
                  "two targets for a range)");
    } else if (!least && !most) {
      r.error(item, prefix(f.path) + "needs at_least or at_most (exactly one), e.g. at_least: 100");
    } else {
      const Node* n = least ? least : most;
      const std::string path = join_path(f.path, least ? "at_least" : "at_most");
      t.at_least = least != nullptr;
      if (auto v = in.number(*n, path)) {
        t.threshold = *v;
        if (has_metric && std::string(metric_info(t.metric).units) == "fraction" && *v > 1 &&
            *v <= 100)
          r.error(*n, prefix(path) + fmt::format("{} looks like a percentage; {} is a fraction: "
                                                 "write {} for {}%",
                                                 num(*v), metric_info(t.metric).name, num(*v / 100),
                                                 num(*v)));
      }
    }
    const Node* cn = in.get(f, "cluster", false);
    const Node* gn = in.get(f, "group", false);
    const Node* thn = in.get(f, "threshold", false);
    const bool cluster_metric = has_metric && t.metric == Metric::cluster_output;
    const bool group_metric = has_metric && t.metric == Metric::clusters_at_least;
    if (cluster_metric) {
      if (const Node* n = in.get(f, "cluster", true, "the cluster id cluster_output compares")) {
        t.cluster_index = cluster_ref(in, *n, join_path(f.path, "cluster"), clusters);
        if (t.cluster_index >= 0) t.cluster = clusters.ids[t.cluster_index];
      }
    } else if (cn && has_metric) {
      r.error(item.source, in.key_pos(f, "cluster"),
              prefix(f.path) + "cluster is used only with metric cluster_output");
    }
    if (group_metric) {
      if (const Node* n = in.get(f, "group", true, "the cluster group it counts")) {
        const std::string path = join_path(f.path, "group");
        if (auto g = in.text(*n, path)) {
          t.group = *g;
          if (clusters.listed && std::find(groups.begin(), groups.end(), *g) == groups.end())
            r.error(*n, prefix(path) + (groups.empty()
                                            ? fmt::format("no cluster has group '{}' (no cluster "
                                                          "has a group)",
                                                          *g)
                                            : fmt::format("no cluster has group '{}'; did you "
                                                          "mean '{}'?",
                                                          *g, yaml::closest(*g, groups))));
        }
      }
      if (auto v = in.constant(f, "threshold", Bound::nonneg, std::nullopt,
                               "the output, in 亿元, a cluster must reach"))
        t.group_threshold = *v;
    } else if (has_metric) {
      if (gn)
        r.error(item.source, in.key_pos(f, "group"),
                prefix(f.path) + "group is used only with metric clusters_at_least");
      if (thn)
        r.error(item.source, in.key_pos(f, "threshold"),
                prefix(f.path) +
                    "threshold is used only with metric clusters_at_least (the "
                    "target's own number is at_least or at_most)");
    }
    targets.push_back(std::move(t));
  }
}

void read_observed(FieldReader& in, const Fields& top, const std::optional<Horizon>& h,
                   const ClusterIndex& clusters, const Firms& firms, bool v2,
                   std::vector<Observation>& observed) {
  yaml::Report& r = in.report();
  if (!v2_key_allowed(in, top, "observed", v2)) return;
  const Node* ln = in.get(top, "observed", false);
  if (!ln) return;
  if (!ln->is_sequence()) {
    r.error(*ln,
            "observed: expected a list of observations ('- {id: ..., metric: ..., year: ..., "
            "value: ..., sd: ...}'), got " +
                yaml::describe(*ln));
    return;
  }
  // What an observation may name: the [draw, year] metrics and cluster_output.
  Keys metric_names;
  for (const auto& m : metric_catalogue())
    if (m.shape == MetricShape::draw_year || m.metric == Metric::cluster_output)
      metric_names.push_back(m.name);
  const std::string catalogue = fmt::format("{}", fmt::join(metric_names, ", "));
  IdSeen seen;
  for (std::size_t i = 0; i < ln->items.size(); ++i) {
    const Node& item = ln->items[i];
    Fields f = in.fields(item, fmt::format("observed[{}]", i), kObservedKeys, "observation fields");
    if (!f.node) continue;
    Observation o;
    o.pos = item.pos;
    if (auto oid = in.id(f, "observation", seen)) o.id = *oid;
    bool has_metric = false;
    if (const Node* n = in.get(f, "metric", true, "a metric name, e.g. gdp")) {
      const std::string path = join_path(f.path, "metric");
      if (auto t = in.text(*n, path)) {
        std::optional<Metric> m = metric_from_name(*t);
        if (!m) {
          r.error(*n, prefix(path) + fmt::format("unknown metric '{}'; did you mean '{}'? "
                                                 "(observations use: {})",
                                                 *t, yaml::closest(*t, metric_names), catalogue));
        } else if (std::find(metric_names.begin(), metric_names.end(), *t) == metric_names.end()) {
          r.error(*n, prefix(path) + fmt::format("metric '{}' cannot be observed; observations use "
                                                 "[draw, year] metrics or cluster_output ({})",
                                                 *t, catalogue));
        } else {
          has_metric = true;
          o.metric = *m;
          if (o.metric == Metric::above_scale_firms && !firms.above_scale.present)
            r.error(*n, prefix(path) +
                            "above_scale_firms needs firms.above_scale (base, entries, "
                            "exit_rate) in the scenario");
          if (o.metric == Metric::high_tech_firms && !firms.high_tech.present)
            r.error(*n, prefix(path) +
                            "high_tech_firms needs firms.high_tech (base, entries, exit_rate) in "
                            "the scenario");
        }
      }
    }
    if (const Node* n = in.get(f, "year", true, "the projection year it was published for")) {
      const std::string path = join_path(f.path, "year");
      if (auto y = in.integer(*n, path, 1000, 9999)) {
        if (h && (*y <= h->base_year || *y > h->last_year))
          r.error(*n, prefix(path) + fmt::format("{} is outside the projection years {}..{}; an "
                                                 "outturn of the base year {} is an input, not an "
                                                 "observation",
                                                 *y, h->base_year + 1, h->last_year, h->base_year));
        o.year = static_cast<int>(*y);
      }
    }
    std::optional<double> value;
    if (const Node* n = in.get(f, "value", true, "the published figure, in the metric's units"))
      value = in.number(*n, join_path(f.path, "value"));
    if (value) o.value = *value;
    const Node* sdn = in.get(f, "sd", false);
    const Node* reln = in.get(f, "rel_sd", false);
    if (sdn && reln) {
      const bool sd_first = f.node->index_of("sd") < f.node->index_of("rel_sd");
      r.error(item.source, in.key_pos(f, sd_first ? "rel_sd" : "sd"),
              prefix(f.path) +
                  "has both sd and rel_sd; give exactly one (sd in the metric's units, or rel_sd "
                  "as a fraction of |value|)");
    } else if (!sdn && !reln) {
      r.error(item, prefix(f.path) +
                        "needs sd or rel_sd (exactly one): the error of the published figure, "
                        "e.g. rel_sd: 0.01");
    } else {
      const std::string path = join_path(f.path, sdn ? "sd" : "rel_sd");
      const Node& n = sdn ? *sdn : *reln;
      if (auto v = in.number(n, path)) {
        if (!(*v > 0)) {
          r.error(n, prefix(path) + fmt::format("{} must be above 0; a published figure is never "
                                                "exact (revisions, scope, rounding)",
                                                num(*v)));
        } else if (sdn) {
          o.sd = *v;
        } else if (value) {
          o.sd = *v * std::fabs(*value);
          if (!(o.sd > 0))
            r.error(n, prefix(path) +
                           "rel_sd x |value| is 0 because value is 0; give sd "
                           "(in the metric's units) instead");
        }
      }
    }
    const Node* cn = in.get(f, "cluster", false);
    if (has_metric && o.metric == Metric::cluster_output) {
      if (const Node* n = in.get(f, "cluster", true, "the cluster id cluster_output is about")) {
        o.cluster_index = cluster_ref(in, *n, join_path(f.path, "cluster"), clusters);
        if (o.cluster_index >= 0) o.cluster = clusters.ids[o.cluster_index];
      }
    } else if (cn && has_metric) {
      r.error(item.source, in.key_pos(f, "cluster"),
              prefix(f.path) + "cluster is used only with metric cluster_output");
    }
    if (const Node* n = in.get(f, "source", false))
      if (auto t = in.text(*n, join_path(f.path, "source"))) o.source = *t;
    observed.push_back(std::move(o));
  }
}

}  // namespace countysim::reader
