#include "countysim/results_types.hpp"

#include <fmt/format.h>

#include <cmath>

#include "countysim/errors.hpp"

namespace countysim {

std::optional<std::size_t> find_quantile(const std::vector<double>& quantiles, double q) {
  for (std::size_t i = 0; i < quantiles.size(); ++i)
    if (std::fabs(quantiles[i] - q) < 1e-9) return i;
  return std::nullopt;
}

std::size_t quantile_index(const std::vector<double>& quantiles, double q,
                           const std::string& file) {
  if (auto i = find_quantile(quantiles, q)) return *i;
  throw InputError({Diagnostic{file, {}, fmt::format("the summaries have no {:g} quantile", q)}},
                   InputKind::results);
}

std::size_t SweepResult::points() const {
  std::size_t n = 1;
  for (const auto& a : axes) n *= a.values.size();
  return n;
}

}  // namespace countysim
