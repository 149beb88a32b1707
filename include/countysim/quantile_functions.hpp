// The special functions the distributions are built on: the standard normal,
// the binomial inverse CDF (firm exits) and tabulated beta quantiles (beta,
// PERT). Our own code, not std:: distributions, so that a seed gives the same
// bits with every standard library; Boost.Math gives the exact beta quantiles
// the tables are built from.
#pragma once
#include <cstdint>
#include <memory>

namespace countysim {

// Standard normal CDF, density and inverse CDF (full double precision).
double normal_cdf(double z);
double normal_pdf(double z);
double normal_quantile(double u);

// Smallest k with P(Binomial(n, p) <= k) >= u (firm exits). Fast for n * p up
// to a few hundred; throws DistributionError for n < 0 or p outside [0, 1].
double binomial_quantile(std::int64_t n, double p, double u);

class BetaHalf;  // piecewise-polynomial inverse CDF of one half (see .cpp)

// Inverse CDF of Beta(alpha, beta) on [0, 1], from two tabulated halves so
// that both tails keep their relative precision.
struct QuantileTable {
  QuantileTable(double a, double b);
  double operator()(double u) const;

  double alpha, beta, median;
  std::shared_ptr<const BetaHalf> lower, upper;
};

}  // namespace countysim
