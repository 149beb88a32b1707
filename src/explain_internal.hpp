// Helpers shared by the explain_*.cpp files (explain.hpp is the interface).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "countysim/explain.hpp"
#include "countysim/plan.hpp"

namespace countysim {

// Draw indices sorted by x (ties by index).
std::vector<std::uint32_t> sort_order(const std::vector<double>& x);
// weighted_ranks with the order already known.
std::vector<double> ranks_from_order(const std::vector<double>& x,
                                     const std::vector<std::uint32_t>& order,
                                     const std::vector<double>& w);
// ks_distance with x's ranks and order already known.
double ks_from_order(const std::vector<double>& ranks, const std::vector<std::uint32_t>& order,
                     const std::vector<std::uint8_t>& flag, const std::vector<double>& w);

// In explain_counterfactuals.cpp: the paired project and lever runs, from the
// scenario the results file carries (`sc`, compiled as `plan`, merged text
// `merged_yaml` for the --set overrides of each case).
void run_counterfactuals(const Scenario& sc, const Plan& plan, const std::string& merged_yaml,
                         std::uint64_t seed, const std::vector<std::size_t>& chosen,
                         const ExplainOptions& options, ExplainResult& r);

}  // namespace countysim
