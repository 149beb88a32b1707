// `countysim solve`: the value of one lever at which a target reaches a chosen
// probability, by bisection over common-random-number runs.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "countysim/levers.hpp"

namespace countysim {

struct SolveOptions {
  std::string target;  // target id
  double probability = 0.8;
  std::string path;  // the lever
  double lo = 0, hi = 0;
  int steps = 14;  // bisection steps per crossing
};

struct SolveResult {
  std::string target, path;
  std::string target_label, scenario_yaml;  // for the chart
  double goal = 0, lo = 0, hi = 0;
  double p_lo = 0, p_hi = 0;  // probability at the ends of the range
  std::uint64_t draws = 0, seed = 0;
  double std_error = 0;  // binomial standard error at the goal
  // none: no value in the range reaches the goal; all: every value does.
  enum class Outcome { found, none, all } outcome = Outcome::none;
  bool increasing = true;
  double value = 0;                             // where the estimated probability crosses the goal
  double interval_lo = 0, interval_hi = 0;      // crossings of goal -/+ 2 SE
  bool lo_clipped = false, hi_clipped = false;  // the interval reaches the range's end
  std::vector<std::pair<double, double>> evaluations;  // (lever value, probability), sorted
  std::vector<std::string> warnings;
};

SolveResult solve_lever(const std::string& scenario_path, const SolveOptions& solve,
                        const WhatIfOptions& options);
std::string format_solve(const SolveResult& r);

}  // namespace countysim
