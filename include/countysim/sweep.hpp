// `countysim sweep`: target probabilities over a grid of one or two levers,
// every point run with the same seed (common random numbers across points).
#pragma once
#include <string>
#include <vector>

#include "countysim/levers.hpp"
#include "countysim/results_types.hpp"

namespace countysim {

SweepResult run_sweep(const std::string& scenario_path, const std::vector<SweepAxis>& axes,
                      const WhatIfOptions& options);
// The grid as an aligned table, one row per point.
std::string format_sweep(const SweepResult& r);

}  // namespace countysim
