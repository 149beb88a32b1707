// Helpers shared by the explain_*.cpp files (explain.hpp is the interface).
#pragma once
#include <cstdint>
#include <vector>

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

}  // namespace countysim
