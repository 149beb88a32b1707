#include "countysim/solve.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "countysim/errors.hpp"

namespace countysim {

SolveResult solve_lever(const std::string& scenario_path, const SolveOptions& so,
                        const WhatIfOptions& options) {
  if (!(so.probability > 0 && so.probability < 1))
    throw UsageError(fmt::format("--probability {}: give a probability strictly between 0 and 1",
                                 so.probability));
  if (!(so.lo < so.hi)) throw UsageError("--range: LO must be below HI");
  const LeverModel model(scenario_path, options);
  const auto& targets = model.base().targets;
  std::size_t k = targets.size();
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    ids.push_back(targets[i].id);
    if (targets[i].id == so.target) k = i;
  }
  if (k == targets.size())
    throw UsageError(fmt::format("--target {}: the scenario has no such target; its targets are {}",
                                 so.target, fmt::join(ids, ", ")));

  SolveResult r;
  r.target = so.target;
  r.target_label = targets[k].label;
  r.scenario_yaml = model.base().merged_yaml;
  r.path = so.path;
  r.goal = so.probability;
  r.lo = so.lo;
  r.hi = so.hi;
  r.draws = model.draws();
  r.seed = model.seed();
  double n = static_cast<double>(r.draws);
  r.std_error = std::sqrt(r.goal * (1 - r.goal) / n);

  std::map<double, double> seen;  // lever value -> probability
  auto f = [&](double x) {
    auto it = seen.find(x);
    if (it != seen.end()) return it->second;
    const auto c = model.evaluate({{so.path, x}});  // Interrupted when options.cancel is set
    const double p = target_estimate(c, k).p;  // conditioned when the scenario has observations
    // Conditioned: the precision is that of ESS draws (the smallest seen).
    if (c.weighted && c.sum_w2 > 0) {
      n = std::min(n, c.sum_w * c.sum_w / c.sum_w2);
      r.std_error = std::sqrt(r.goal * (1 - r.goal) / n);
    }
    seen[x] = p;
    return p;
  };
  r.p_lo = f(so.lo);
  r.p_hi = f(so.hi);
  r.increasing = r.p_hi >= r.p_lo;
  const bool reach_lo = r.p_lo >= r.goal, reach_hi = r.p_hi >= r.goal;

  // The lever value where the (assumed monotone) probability crosses g,
  // starting from the tightest bracket the evaluations so far give.
  const double tol = (so.hi - so.lo) * 1e-6;
  auto crossing = [&](double g, bool& clipped) {
    // meets(x): x lies on the side of the crossing where P >= g.
    auto meets = [&](double p) { return p >= g; };
    double a = so.lo, b = so.hi;  // increasing: meets(b), !meets(a); decreasing: the reverse
    const bool ma = meets(f(a)), mb = meets(f(b));
    clipped = false;
    if (ma == mb) {
      clipped = true;
      // Every value meets g (the crossing is beyond the far end) or none does.
      if (r.increasing) return ma ? so.lo : so.hi;
      return ma ? so.hi : so.lo;
    }
    // The first evaluated value on the far side, then the last one before it on the near side.
    for (const auto& [x, p] : seen)
      if (meets(p) == mb) {
        b = x;
        break;
      }
    for (const auto& [x, p] : seen)
      if (x < b && meets(p) == ma) a = x;
    for (int s = 0; s < so.steps && b - a > tol; ++s) {
      const double m = 0.5 * (a + b);
      (meets(f(m)) == ma ? a : b) = m;
    }
    // The bracket's end on the side where P >= g: a value shown to reach it.
    return meets(f(a)) ? a : b;
  };

  if (!reach_lo && !reach_hi) {
    r.outcome = SolveResult::Outcome::none;
  } else if (reach_lo && reach_hi) {
    r.outcome = SolveResult::Outcome::all;
  } else {
    r.outcome = SolveResult::Outcome::found;
    bool clipped = false;  // cannot be: the ends bracket the goal
    r.value = crossing(r.goal, clipped);
    bool c1 = false, c2 = false;
    const double x_minus = crossing(std::max(0.0, r.goal - 2 * r.std_error), c1);
    const double x_plus = crossing(std::min(1.0, r.goal + 2 * r.std_error), c2);
    r.interval_lo = std::min(x_minus, x_plus);
    r.interval_hi = std::max(x_minus, x_plus);
    r.lo_clipped = (c1 || c2) && r.interval_lo <= so.lo;
    r.hi_clipped = (c1 || c2) && r.interval_hi >= so.hi;
  }
  for (const auto& [x, p] : seen) r.evaluations.emplace_back(x, p);
  // With common random numbers a monotone response wobbles far less than one
  // standard error between points; flag reversals beyond 4 worst-case ones.
  const double slack = 4 * std::sqrt(0.25 / n);
  bool reversal = false;
  for (std::size_t i = 1; i < r.evaluations.size(); ++i) {
    const double dp = r.evaluations[i].second - r.evaluations[i - 1].second;
    if ((r.increasing && dp < -slack) || (!r.increasing && dp > slack)) reversal = true;
  }
  if (reversal)
    r.warnings.push_back(
        "the probability does not move in one direction across the range; bisection assumes it "
        "does, so the answer may be one of several crossings: try a narrower --range");
  if (r.p_lo == r.p_hi && r.outcome != SolveResult::Outcome::found)
    r.warnings.push_back(fmt::format(
        "the probability is the same ({:.4f}) at both ends of the range: does {} affect target {}?",
        r.p_lo, so.path, so.target));
  return r;
}

std::string format_solve(const SolveResult& r) {
  std::string out = fmt::format(
      "Solve: {} for P({}) >= {:g} over [{:g}, {:g}] ({} draws a point, seed {}, common random "
      "numbers across points)\n",
      r.path, r.target, r.goal, r.lo, r.hi, r.draws, r.seed);
  out += fmt::format("at {:g}: P = {:.4f}; at {:g}: P = {:.4f}\n", r.lo, r.p_lo, r.hi, r.p_hi);
  switch (r.outcome) {
    case SolveResult::Outcome::none:
      out += fmt::format(
          "no value in [{:g}, {:g}] reaches P >= {:g}; at {:g}: {:.4f}, at {:g}: {:.4f}\n", r.lo,
          r.hi, r.goal, r.lo, r.p_lo, r.hi, r.p_hi);
      break;
    case SolveResult::Outcome::all:
      out += fmt::format(
          "every value in [{:g}, {:g}] already reaches P >= {:g} (at {:g}: {:.4f}, at {:g}: "
          "{:.4f}); widen the range to find where it stops\n",
          r.lo, r.hi, r.goal, r.lo, r.p_lo, r.hi, r.p_hi);
      break;
    case SolveResult::Outcome::found: {
      const std::string side = r.increasing ? "at least" : "at most";
      out += fmt::format("{} = {:.6g}: P({}) reaches {:g} with {} {} {:.6g}\n", r.path, r.value,
                         r.target, r.goal, r.path, side, r.value);
      out += fmt::format(
          "Monte-Carlo interval: [{}{:.6g}, {:.6g}{}] (lever values where the estimated "
          "probability is within 2 standard errors, ±{:.4f}, of {:g})\n",
          r.lo_clipped ? "<= " : "", r.interval_lo, r.interval_hi, r.hi_clipped ? " or more" : "",
          2 * r.std_error, r.goal);
      break;
    }
  }
  for (const auto& w : r.warnings) out += "warning: " + w + "\n";
  return out;
}

}  // namespace countysim
