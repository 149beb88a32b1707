// Probability distributions of scenario inputs, each sampled by its inverse
// CDF from one uniform so that the Gaussian copula can act on normal scores.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "countysim/quantile_functions.hpp"

namespace countysim {

enum class Family {
  constant,
  normal,
  lognormal,
  uniform,
  triangular,
  pert,
  beta,
  poisson,
  discrete
};

// Scenario-file name of a family ("normal", ...); "constant" for plain numbers.
const char* family_name(Family f);

// Thrown by the factories for invalid parameters. `param` names the offending
// parameter ("sd", "probs", ...) so the parser can point at its position.
class DistributionError : public std::invalid_argument {
 public:
  DistributionError(std::string param, const std::string& message)
      : std::invalid_argument(message), param_(std::move(param)) {}
  const std::string& param() const { return param_; }

 private:
  std::string param_;
};

// Immutable value type; cheap to copy (tables are shared).
class Distribution {
 public:
  Distribution() = default;  // constant 0
  static Distribution constant(double value);
  // Truncated to [lo, hi] by inverse CDF when bounds are finite.
  static Distribution normal(double mean, double sd, double lo = -INF, double hi = INF);
  static Distribution lognormal(double median, double sigma);
  static Distribution uniform(double lo, double hi);
  static Distribution triangular(double lo, double mode, double hi);
  static Distribution pert(double lo, double mode, double hi, double lambda = 4.0);
  static Distribution beta(double alpha, double beta, double lo = 0.0, double hi = 1.0);
  static Distribution poisson(double mean);
  static Distribution discrete(std::vector<double> values, std::vector<double> probs);

  Family family() const { return family_; }
  bool is_constant() const { return family_ == Family::constant; }
  // True when every possible value is a whole number (poisson, discrete with
  // whole values, whole constants): what count fields require.
  bool is_integer_valued() const;

  // Inverse CDF at u in (0, 1). For discrete families: smallest x with F(x) >= u.
  // u <= 0 and u >= 1 give support_min() and support_max() (possibly infinite).
  double quantile(double u) const;
  // x[i] = quantile(u[i]) for i in [0, n), the same bits; the family's
  // branch is taken once for the array (x may be u).
  void quantile(const double* u, double* x, std::size_t n) const;
  // The same for u known to lie inside (0, 1), as sampled uniforms always
  // do: the array paths without checking each u first.
  void quantile_open(const double* u, double* x, std::size_t n) const;
  // True for an untruncated normal with sd > 0: quantile_open(u) is then
  // from_normal_scores of normal_quantile(u), which the block sampler splits
  // to run the normal quantile over several inputs at once.
  bool plain_normal() const { return family_ == Family::normal && p_[1] != 0 && p_[2] == 0; }
  // x[i] = mean + sd * z[i] for i in [0, n), as quantile_open computes it from
  // z = normal_quantile(u) (plain_normal() only). x may be z.
  void from_normal_scores(const double* z, double* x, std::size_t n) const;
  double cdf(double x) const;  // P(X <= x)
  double mean() const;
  double support_min() const;  // may be -inf
  double support_max() const;  // may be +inf
  // Human-readable form, e.g. "normal(mean=0.06, sd=0.015)".
  std::string describe() const;

  static constexpr double INF = std::numeric_limits<double>::infinity();

 private:
  // The array quantile; `inside`: every u[i] lies in (0, 1).
  void array_quantile(const double* u, double* x, std::size_t n, bool inside) const;

  Family family_ = Family::constant;
  double p_[4] = {0, 0, 0, 0};                  // family parameters, see factories
  double lo_ = 0, hi_ = 0;                      // support (after truncation)
  double cdf_lo_ = 0, cdf_hi_ = 1;              // normal truncation: Phi at the bounds
  std::vector<double> values_, cum_;            // discrete: sorted values, cumulative probs
  std::shared_ptr<const QuantileTable> table_;  // beta / pert
};

}  // namespace countysim
