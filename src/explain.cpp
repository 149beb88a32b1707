// `explain` (explain.hpp): input importance from a results file's stored
// inputs and draws, then the paired counterfactuals (explain_counterfactuals).
#include "countysim/explain.hpp"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "countysim/errors.hpp"
#include "countysim/h5.hpp"
#include "countysim/plan.hpp"
#include "countysim/quantile_functions.hpp"
#include "countysim/results_io.hpp"
#include "countysim/scenario.hpp"
#include "countysim/version.hpp"
#include "explain_internal.hpp"

namespace countysim {

namespace {

// One target's outputs, prepared once.
struct TargetData {
  std::vector<double> value;       // metric value
  std::vector<double> value_rank;  // its weighted ranks
  std::vector<double> met_d;       // met as 0/1
  std::vector<std::uint8_t> met;
};

TargetData prepare_target(std::vector<double> value, std::vector<std::uint8_t> met,
                          const std::vector<double>& w) {
  TargetData t;
  t.value_rank = weighted_ranks(value, w);
  t.value = std::move(value);
  t.met_d.assign(met.begin(), met.end());
  t.met = std::move(met);
  return t;
}

double weight(const std::vector<double>& w, std::size_t i) {
  return w.empty() ? 1.0 : w[i];
}

// Which draws lie in the input's lowest tenth (1: value at most its 10%
// quantile, i.e. fewer than 10% of the weight lies strictly below) and in its
// highest tenth (2: at least its 90% quantile). Ties go together, so for a 0/1
// input (a project's success) the lowest tenth is every draw with 0.
std::vector<std::uint8_t> tenths(const std::vector<double>& x,
                                 const std::vector<std::uint32_t>& order,
                                 const std::vector<double>& w) {
  const std::size_t n = x.size();
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) total += weight(w, i);
  std::vector<std::uint8_t> out(n, 0);
  double below = 0;
  for (std::size_t a = 0; a < n;) {
    std::size_t b = a;
    double tied = 0;
    while (b < n && x[order[b]] == x[order[a]]) tied += weight(w, order[b++]);
    const std::uint8_t f = below < 0.1 * total ? 1 : below + tied > 0.9 * total ? 2 : 0;
    for (std::size_t k = a; k < b; ++k) out[order[k]] = f;
    below += tied;
    a = b;
  }
  return out;
}

// P(met) over the draws with tenth == which, and its standard error.
std::pair<double, double> conditional_p(const std::vector<std::uint8_t>& tenth,
                                        const std::vector<std::uint8_t>& met,
                                        const std::vector<double>& w, std::uint8_t which) {
  double sw = 0, sww = 0, sm = 0;
  for (std::size_t i = 0; i < tenth.size(); ++i) {
    if (tenth[i] != which) continue;
    const double wi = weight(w, i);
    sw += wi;
    sww += wi * wi;
    sm += wi * met[i];
  }
  if (!(sw > 0)) return {std::nan(""), std::nan("")};
  const double p = sm / sw, neff = sw * sw / sww;
  return {p, std::sqrt(p * (1 - p) / neff)};
}

// The importance of one scalar input column for every target. False when the
// column has no spread (a constant): it cannot explain anything.
bool analyse_column(const std::vector<double>& x, const std::vector<double>& w,
                    const std::vector<TargetData>& targets, int bins,
                    std::vector<InputImportance>& out, std::vector<double>* ranks_out) {
  const auto order = sort_order(x);
  if (x.empty() || x[order.front()] == x[order.back()]) return false;
  const auto r = ranks_from_order(x, order, w);
  const auto bin = rank_bins(r, bins);
  const auto tenth = tenths(x, order, w);
  out.resize(targets.size());
  for (std::size_t k = 0; k < targets.size(); ++k) {
    const TargetData& t = targets[k];
    InputImportance& ii = out[k];
    ii.value.spearman = weighted_correlation(r, t.value_rank, w);
    ii.value.first_order = first_order_index(bin, bins, t.value, w);
    ii.met.spearman = weighted_correlation(r, t.met_d, w);
    ii.met.first_order = first_order_index(bin, bins, t.met_d, w);
    ii.ks = ks_from_order(r, order, t.met, w);
    std::tie(ii.p_met_low, ii.p_met_low_se) = conditional_p(tenth, t.met, w, 1);
    std::tie(ii.p_met_high, ii.p_met_high_se) = conditional_p(tenth, t.met, w, 2);
  }
  if (ranks_out) *ranks_out = r;
  return true;
}

// A column-group: the columns of one path (one for a per-draw input).
struct Column {
  std::string key;
  std::vector<double> x;
};
struct ColumnGroup {
  std::string path;
  bool per_year = false;
  std::vector<Column> columns;
};

struct GroupResult {
  std::vector<std::string> keys;
  std::vector<std::vector<InputImportance>> per_key;  // [key][target]
  bool has_group = false;
  std::vector<InputImportance> group;  // [target]
};

GroupResult analyse_group(const ColumnGroup& g, const std::vector<double>& w,
                          const std::vector<TargetData>& targets, int bins) {
  GroupResult res;
  const std::size_t n = targets.empty() ? 0 : targets.front().value.size();
  std::vector<double> zsum(n, 0.0), r;
  int used = 0;
  for (const Column& c : g.columns) {
    std::vector<InputImportance> out;
    if (!analyse_column(c.x, w, targets, bins, out, g.per_year ? &r : nullptr)) continue;
    res.keys.push_back(c.key);
    res.per_key.push_back(std::move(out));
    if (g.per_year) {
      ++used;
      for (std::size_t i = 0; i < n; ++i) zsum[i] += normal_quantile(r[i]);
    }
  }
  if (g.per_year && used >= 2) {
    res.has_group = analyse_column(zsum, w, targets, bins, res.group, nullptr);
  }
  return res;
}

// Contribution to variance: rho^2 over the sum of rho^2 of every key; a
// group's is the sum of its keys'.
void contributions(TargetImportance& t) {
  double sv = 0, sm = 0;
  for (const auto& k : t.keys) {
    sv += k.value.spearman * k.value.spearman;
    sm += k.met.spearman * k.met.spearman;
  }
  std::map<std::string, std::pair<double, double>> by_group;
  for (auto& k : t.keys) {
    k.value.contribution = sv > 0 ? k.value.spearman * k.value.spearman / sv : 0;
    k.met.contribution = sm > 0 ? k.met.spearman * k.met.spearman / sm : 0;
    const auto at = k.key.find('@');
    if (at != std::string::npos) {
      auto& g = by_group[k.key.substr(0, at)];
      g.first += k.value.contribution;
      g.second += k.met.contribution;
    }
  }
  for (auto& g : t.groups) {
    g.value.contribution = by_group[g.key].first;
    g.met.contribution = by_group[g.key].second;
  }
}

std::vector<TargetImportance> importance(const std::vector<ColumnGroup>& groups,
                                         const std::vector<double>& w,
                                         const std::vector<TargetData>& targets,
                                         const std::vector<std::string>& ids,
                                         const std::vector<std::string>& labels, int threads,
                                         const CancelToken* cancel) {
  const std::size_t n = targets.empty() ? 0 : targets.front().value.size();
  const int bins = default_bins(n);
  std::vector<GroupResult> results(groups.size());
#pragma omp parallel for schedule(dynamic, 1) \
    num_threads(threads > 0 ? threads : omp_get_max_threads())
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (cancel && cancel->cancelled()) continue;
    results[g] = analyse_group(groups[g], w, targets, bins);
  }
  if (cancel && cancel->cancelled()) throw Interrupted();
  std::vector<TargetImportance> out(targets.size());
  for (std::size_t k = 0; k < targets.size(); ++k) {
    TargetImportance& t = out[k];
    t.target = ids[k];
    t.label = labels[k];
    double sw = 0, sm = 0;
    for (std::size_t i = 0; i < n; ++i) {
      sw += weight(w, i);
      sm += weight(w, i) * targets[k].met[i];
    }
    t.probability = sw > 0 ? sm / sw : 0;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const GroupResult& r = results[g];
      for (std::size_t j = 0; j < r.keys.size(); ++j) {
        InputImportance ii = r.per_key[j][k];
        ii.key = r.keys[j];
        t.keys.push_back(ii);
      }
      if (r.has_group) {
        InputImportance ii = r.group[k];
        ii.key = groups[g].path;
        ii.group = true;
        t.groups.push_back(ii);
      }
    }
    contributions(t);
  }
  return out;
}

[[noreturn]] void results_error(const std::string& path, const std::string& message) {
  throw InputError({Diagnostic{path, {}, message}}, InputKind::results);
}

// A sweep file keeps probabilities per grid point, no draws: say so plainly
// rather than "unsupported schema".
void refuse_sweep_file(const std::string& path) {
  if (!h5::is_hdf5_file(path)) return;  // the reader explains
  h5::quiet();
  std::string schema;
  try {
    const h5::Handle f = h5::open_file(path);
    if (h5::has_attribute(f, "schema")) schema = h5::read_attribute_string(f, "schema");
  } catch (const RunError&) {
    return;  // the reader explains
  }
  if (schema == sweep_schema)
    throw InputError({Diagnostic{path,
                                 {},
                                 "this is a sweep file (schema countysim-sweep/1); explain needs "
                                 "the results file of a run (countysim run SCENARIO -o OUT.h5)"}},
                     InputKind::sweep);
}

}  // namespace

TargetImportance importance_for_target(const std::vector<std::string>& keys,
                                       const std::vector<std::string>& group_of,
                                       const std::vector<std::vector<double>>& inputs,
                                       const std::vector<double>& value,
                                       const std::vector<std::uint8_t>& met,
                                       const std::vector<double>& weights, int threads) {
  std::vector<ColumnGroup> groups;
  std::map<std::string, std::size_t> at;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    if (group_of[k].empty()) {
      groups.push_back({keys[k], false, {{keys[k], inputs[k]}}});
      continue;
    }
    auto [it, fresh] = at.emplace(group_of[k], groups.size());
    if (fresh) groups.push_back({group_of[k], true, {}});
    groups[it->second].columns.push_back({keys[k], inputs[k]});
  }
  std::vector<TargetData> targets{prepare_target(value, met, weights)};
  return importance(groups, weights, targets, {"target"}, {""}, threads, nullptr).front();
}

ExplainResult explain(const ExplainOptions& options) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  refuse_sweep_file(options.results);
  const ResultsReader reader(options.results);
  const RunInfo& info = reader.info();
  const Coordinates& coords = reader.coords();
  const std::string& path = options.results;

  // The chosen targets, in the file's order.
  std::vector<std::size_t> chosen;
  for (const auto& id : options.targets) {
    const auto it = std::find(coords.target.begin(), coords.target.end(), id);
    if (it == coords.target.end()) {
      std::string list;
      for (const auto& t : coords.target) list += (list.empty() ? "" : ", ") + t;
      throw UsageError(
          fmt::format("--target '{}': {} has no such target; its targets are: {}", id, path, list));
    }
    chosen.push_back(static_cast<std::size_t>(it - coords.target.begin()));
  }
  if (options.targets.empty())
    for (std::size_t k = 0; k < coords.target.size(); ++k) chosen.push_back(k);
  std::sort(chosen.begin(), chosen.end());
  chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  if (options.draws == 0) throw UsageError("--draws must be at least 1");
  if (chosen.empty()) results_error(path, "the run has no targets to explain");

  // The inputs the run sampled, from the scenario it carries.
  const Scenario sc = load_scenario_text(info.scenario_yaml, info.scenario_file);
  const Plan plan = compile_plan(sc);
  const std::size_t n = info.draws;
  std::vector<ColumnGroup> groups;
  for (const InputDataset& ds : plan.input_datasets) {
    if (!reader.has_dataset("inputs", ds.key)) continue;
    std::vector<std::size_t> shape;
    const std::vector<double> v = reader.read_dataset("inputs", ds.key, &shape);
    const std::size_t cols = shape.size() > 1 ? shape[1] : 1;
    if (shape.empty() || shape[0] != n || v.size() != n * cols)
      results_error(path, fmt::format("/inputs/{} does not have {} draws", ds.key, n));
    ColumnGroup g{ds.key, ds.per_year && cols > 1, {}};
    for (std::size_t c = 0; c < cols; ++c) {
      Column col;
      col.key = ds.per_year && c < coords.projection_year.size()
                    ? fmt::format("{}@{}", ds.key, coords.projection_year[c])
                    : ds.key;
      col.x.resize(n);
      for (std::size_t i = 0; i < n; ++i) col.x[i] = v[i * cols + c];
      g.columns.push_back(std::move(col));
    }
    groups.push_back(std::move(g));
  }
  if (groups.empty())
    results_error(path,
                  "the file has no sampled inputs (/inputs); explain needs them: rerun the "
                  "scenario with countysim run");

  // Weights of a conditioned run, when the file has them.
  std::vector<double> w;
  if (reader.has_dataset("draws", "log_weight")) {
    const auto lw = reader.read_dataset("draws", "log_weight");
    if (lw.size() != n)
      results_error(path, fmt::format("/draws/log_weight does not have {} draws", n));
    const double mx = *std::max_element(lw.begin(), lw.end());
    w.resize(n);
    for (std::size_t i = 0; i < n; ++i) w[i] = std::exp(lw[i] - mx);
  }

  std::vector<std::size_t> shape;
  const auto values = reader.read_dataset("draws", "target_value", &shape);
  const auto mets = reader.read_dataset("draws", "target_met");
  const std::size_t nt = coords.target.size();
  if (values.size() != n * nt || mets.size() != n * nt)
    results_error(path, "/draws/target_value or /draws/target_met does not match the targets");
  std::vector<TargetData> targets;
  std::vector<std::string> ids, labels;
  for (std::size_t k : chosen) {
    std::vector<double> v(n);
    std::vector<std::uint8_t> m(n);
    for (std::size_t i = 0; i < n; ++i) {
      v[i] = values[i * nt + k];
      m[i] = mets[i * nt + k] != 0;
    }
    targets.push_back(prepare_target(std::move(v), std::move(m), w));
    ids.push_back(coords.target[k]);
    labels.push_back(k < coords.target_label.size() ? coords.target_label[k] : "");
  }

  ExplainResult r;
  r.results = path;
  r.scenario_name = info.scenario_name;
  r.draws = n;
  r.seed = info.seed;
  r.weighted = !w.empty();
  r.targets = importance(groups, w, targets, ids, labels, options.threads, options.cancel);
  groups.clear();
  r.seconds_importance = std::chrono::duration<double>(clock::now() - t0).count();

  if (options.counterfactuals) {
    const auto t1 = clock::now();
    run_counterfactuals(sc, plan, info.scenario_yaml, info.seed, chosen, options, r);
    r.seconds_counterfactuals = std::chrono::duration<double>(clock::now() - t1).count();
  }
  return r;
}

}  // namespace countysim
