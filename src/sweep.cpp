#include "countysim/sweep.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "countysim/errors.hpp"
#include "countysim/stats.hpp"
#include "countysim/text_columns.hpp"

namespace countysim {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The lever values of grid point p (row-major, first axis slowest).
std::vector<double> point_values(const std::vector<SweepAxis>& axes, std::size_t p) {
  std::vector<double> v(axes.size());
  for (std::size_t a = axes.size(); a-- > 0;) {
    const std::size_t n = axes[a].values.size();
    v[a] = axes[a].values[p % n];
    p /= n;
  }
  return v;
}

}  // namespace

SweepResult run_sweep(const std::string& scenario_path, const std::vector<SweepAxis>& axes,
                      const WhatIfOptions& options) {
  if (axes.empty()) throw UsageError("sweep needs at least one --vary PATH=VALUES");
  if (axes.size() > 2)
    throw UsageError("sweep varies at most two paths (--vary given 3 or more times)");
  for (std::size_t i = 0; i < axes.size(); ++i) {
    if (axes[i].values.empty()) throw UsageError(fmt::format("--vary {}: no values", axes[i].path));
    for (std::size_t j = 0; j < i; ++j)
      if (axes[i].path == axes[j].path)
        throw UsageError(fmt::format("--vary {} is given twice", axes[i].path));
  }
  const auto t0 = std::chrono::steady_clock::now();
  const LeverModel model(scenario_path, options);
  SweepResult r;
  r.scenario_path = scenario_path;
  r.scenario_name = model.base().name;
  r.scenario_yaml = model.base().merged_yaml;
  r.seed = model.seed();
  r.draws = model.draws();
  r.axes = axes;
  for (const auto& t : model.base().targets) {
    r.target_ids.push_back(t.id);
    r.target_labels.push_back(t.label);
  }
  const std::size_t np = r.points(), nt = r.target_ids.size();
  r.probability.resize(np * nt);
  r.std_error.resize(np * nt);
  r.all_met.resize(np);
  r.all_met_std_error.resize(np);
  for (std::size_t p = 0; p < np; ++p) {
    std::vector<std::pair<std::string, double>> levers;
    const std::vector<double> values = point_values(axes, p);
    for (std::size_t a = 0; a < axes.size(); ++a) levers.emplace_back(axes[a].path, values[a]);
    const auto counts = model.evaluate(levers);  // Interrupted when options.cancel is set
    if (counts.met.size() != nt)
      throw RunError(fmt::format("sweep point {}: the scenario's targets changed", p));
    for (std::size_t k = 0; k < nt; ++k) {
      const Proportion pr = target_estimate(counts, k);  // conditioned with observations
      r.probability[p * nt + k] = pr.p;
      r.std_error[p * nt + k] = pr.std_error;
    }
    const Proportion all = target_estimate(counts, nt);
    r.all_met[p] = all.p;
    r.all_met_std_error[p] = all.std_error;
  }
  r.seconds = seconds_since(t0);
  return r;
}

std::string format_sweep(const SweepResult& r) {
  std::string out = fmt::format(
      "Sweep of {} ({} points, {} draws each, seed {}, common random numbers across points)\n",
      r.scenario_name, r.points(), r.draws, r.seed);
  for (std::size_t a = 0; a < r.axes.size(); ++a)
    out += fmt::format("  vary_{}: {}\n", a, r.axes[a].path);
  out += "Probability that each target is met\n";
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head;
  std::vector<bool> right;
  for (const auto& a : r.axes) {
    head.push_back(a.path);
    right.push_back(true);
  }
  for (const auto& id : r.target_ids) {
    head.push_back(id);
    right.push_back(true);
  }
  head.push_back("all");
  right.push_back(true);
  rows.push_back(head);
  const std::size_t nt = r.target_ids.size();
  for (std::size_t p = 0; p < r.points(); ++p) {
    std::vector<std::string> row;
    for (double v : point_values(r.axes, p)) row.push_back(fmt::format("{:g}", v));
    for (std::size_t k = 0; k < nt; ++k)
      row.push_back(fmt::format("{:.3f}", r.probability[p * nt + k]));
    row.push_back(fmt::format("{:.3f}", r.all_met[p]));
    rows.push_back(row);
  }
  out += format_columns(rows, right);
  double max_se = 0;
  for (double s : r.std_error) max_se = std::max(max_se, s);
  out += fmt::format("(standard error of each probability at most {:.4f}; {:.1f} s)\n", max_se,
                     r.seconds);
  return out;
}

}  // namespace countysim
