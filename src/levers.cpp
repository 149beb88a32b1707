#include "countysim/levers.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include "countysim/engine.hpp"
#include "countysim/errors.hpp"
#include "countysim/plan.hpp"

namespace countysim {

namespace {

double parse_number(const std::string& s, const std::string& arg, const char* what) {
  const char* b = s.c_str();
  char* end = nullptr;
  const double v = std::strtod(b, &end);
  if (s.empty() || end == b || *end != '\0' || !std::isfinite(v))
    throw UsageError(fmt::format("{}: '{}' is not a number; {}", arg, s, what));
  return v;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = s.find(sep, start);
    out.push_back(trim(s.substr(start, at == std::string::npos ? std::string::npos : at - start)));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

}  // namespace

SweepAxis parse_vary(const std::string& arg) {
  const std::size_t eq = arg.find('=');
  if (eq == std::string::npos || trim(arg.substr(0, eq)).empty())
    throw UsageError(fmt::format(
        "--vary '{}': expected PATH=v1,v2,... or PATH=LO:HI:STEP, e.g. land.supply_mu=300:900:150",
        arg));
  SweepAxis axis;
  axis.path = trim(arg.substr(0, eq));
  const std::string rhs = trim(arg.substr(eq + 1));
  if (rhs.find(':') != std::string::npos) {
    const auto parts = split(rhs, ':');
    if (parts.size() != 3)
      throw UsageError(fmt::format("--vary '{}': a range is LO:HI:STEP, e.g. 0.1:0.3:0.05", arg));
    const char* hint = "LO, HI and STEP are numbers";
    const double lo = parse_number(parts[0], "--vary " + arg, hint);
    const double hi = parse_number(parts[1], "--vary " + arg, hint);
    const double step = parse_number(parts[2], "--vary " + arg, hint);
    if (!(step > 0) || hi < lo)
      throw UsageError(fmt::format("--vary '{}': need LO <= HI and STEP > 0", arg));
    const double n = std::floor((hi - lo) / step + 1e-9) + 1;
    if (n > 10000)
      throw UsageError(fmt::format("--vary '{}': {} values; use a larger STEP", arg, n));
    for (int i = 0; i < static_cast<int>(n); ++i)
      // Rounded to 12 digits so that 0.1 + 2 * 0.05 is written 0.2, not 0.20000000000000004.
      axis.values.push_back(std::strtod(fmt::format("{:.12g}", lo + i * step).c_str(), nullptr));
  } else {
    for (const auto& v : split(rhs, ','))
      axis.values.push_back(parse_number(v, "--vary " + arg, "values are numbers, e.g. 0.1,0.2"));
  }
  return axis;
}

std::pair<double, double> parse_range(const std::string& arg) {
  const auto parts = split(arg, ':');
  if (parts.size() != 2)
    throw UsageError(fmt::format("--range '{}': expected LO:HI, e.g. 0.1:0.4", arg));
  const double lo = parse_number(parts[0], "--range " + arg, "LO and HI are numbers");
  const double hi = parse_number(parts[1], "--range " + arg, "LO and HI are numbers");
  if (!(lo < hi)) throw UsageError(fmt::format("--range '{}': LO must be below HI", arg));
  return {lo, hi};
}

std::string lever_override(const std::string& path, double value) {
  return fmt::format("{}={}", path, value);
}

LeverModel::LeverModel(const std::string& path, const WhatIfOptions& options)
    : base_(load_scenario(path, options.overrides)),
      draws_(options.draws ? options.draws : base_.draws),
      seed_(options.seed_given ? options.seed : base_.seed),
      threads_(options.threads),
      cancel_(options.cancel) {
  if (draws_ == 0) throw UsageError("--draws must be at least 1");
}

void LeverModel::check_cancel() const {
  if (cancel_ && cancel_->cancelled()) throw Interrupted();
}

LeverModel::Counts LeverModel::evaluate(
    const std::vector<std::pair<std::string, double>>& levers) const {
  check_cancel();
  std::vector<std::string> ovs;
  for (const auto& [p, v] : levers) ovs.push_back(lever_override(p, v));
  // The merged text already holds the parents and the --set overrides.
  const Scenario sc = load_scenario_text(base_.merged_yaml, base_.path, ovs);
  const Plan plan = compile_plan(sc);
  const TargetCounts tc = count_targets(plan, seed_, draws_, threads_, cancel_);
  // A stop requested during the run leaves partial counts: never return them.
  check_cancel();
  return tc;
}

}  // namespace countysim
