// Levers: the scenario values `sweep` and `solve` vary. `--vary` and `--range`
// parsing, the `--set` text of one value, and LeverModel, which runs the
// scenario with the levers set. Every point uses the same seed, so points
// share their random numbers and differ only through the levers.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "countysim/cancel.hpp"
#include "countysim/engine.hpp"
#include "countysim/results_types.hpp"
#include "countysim/scenario.hpp"

namespace countysim {

// Throws UsageError for bad syntax.
SweepAxis parse_vary(const std::string& arg);
// "LO:HI" -> {LO, HI}; throws UsageError.
std::pair<double, double> parse_range(const std::string& arg);
// The `--set` string of one lever value ("path=value", value written so it
// reads back as the same double).
std::string lever_override(const std::string& path, double value);

struct WhatIfOptions {
  std::uint64_t draws = 0;  // 0: the scenario's
  std::uint64_t seed = 0;
  bool seed_given = false;              // false: the scenario's
  int threads = 0;                      // 0: OpenMP's default
  std::vector<std::string> overrides;   // --set, applied before the levers
  const CancelToken* cancel = nullptr;  // checked between points; Interrupted when set
};

// The scenario read once (with its `extends:` parents and --set overrides) and
// re-validated per point from its merged text, so points never re-read files.
class LeverModel {
 public:
  LeverModel(const std::string& path, const WhatIfOptions& options);
  const Scenario& base() const { return base_; }
  std::uint64_t draws() const { return draws_; }
  std::uint64_t seed() const { return seed_; }
  // Target counts with the levers set (pairs of path, value), weighted when
  // the scenario has observations (target_estimate). Throws Interrupted when
  // the options' cancel token is set.
  using Counts = TargetCounts;
  Counts evaluate(const std::vector<std::pair<std::string, double>>& levers) const;

 private:
  void check_cancel() const;

  Scenario base_;
  std::uint64_t draws_ = 0, seed_ = 0;
  int threads_ = 0;
  const CancelToken* cancel_ = nullptr;
};

}  // namespace countysim
