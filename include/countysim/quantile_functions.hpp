// The special functions the distributions are built on: the standard normal,
// the binomial inverse CDF (firm exits) and tabulated beta quantiles (beta,
// PERT). Our own code, not std:: distributions, so that a seed gives the same
// bits with every standard library; Boost.Math gives the exact beta quantiles
// the tables are built from.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

namespace countysim {

// Standard normal CDF, density and inverse CDF (full double precision).
double normal_cdf(double z);
// out[i] = normal_cdf(z[i]) for i in [0, n), the same bits: erfc and the
// correction's exp over the array (libm_exact.hpp). out may be z.
void normal_cdf(const double* z, double* out, std::size_t n);
double normal_pdf(double z);
double normal_quantile(double u);
// A copula's uniform Φ(z) kept inside the open unit interval, so that every
// inverse CDF stays finite: at least 2^-60, at most the largest double below
// 1 (Φ(z) rounds to 1 from z ≈ 8.3 on; the bound 1 - 2^-54 this replaced
// rounds to 1 itself). Changes only a u that was 1 or below 2^-60.
inline double copula_uniform(double u) {
  constexpr double lowest = 0x1.0p-60, highest = 1 - 0x1.0p-53;
  return u < lowest ? lowest : (u > highest ? highest : u);
}
// x[i] = copula_uniform(u[i]) for i in [0, n), eight or four at a time with
// AVX-512 or AVX2 (compares and blends: the same values). x may be u.
void copula_uniform(const double* u, double* x, std::size_t n);
// z[i] = normal_quantile(u[i]) for i in [0, n), the same bits: with AVX-512
// or AVX2 (as simd_level() says, simd.hpp), the central region eight or four
// at a time and the tails gathered eight or four at a time (same operations
// in the same order, no FMA; the tails' log is exact_log's, libm_exact.hpp,
// four or eight at a time). z may be u.
void normal_quantile(const double* u, double* z, std::size_t n);

// Smallest k with P(Binomial(n, p) <= k) >= u (firm exits). Fast for n * p up
// to a few hundred; throws DistributionError for n < 0 or p outside [0, 1].
double binomial_quantile(std::int64_t n, double p, double u);
// The same with log1p(-p) given (std::log1p(-p), the same bits), for callers
// that draw several counts with one p.
double binomial_quantile(std::int64_t n, double p, double u, double log1m_p);
// k[i] = binomial_quantile(static_cast<std::int64_t>(n[i]), p[i], u[i],
// log1m_p[i]) for i in [0, count), the same bits: with AVX-512 or AVX2
// (simd_level()), eight or four lanes whose walk starts at 0 step together (exp(log pmf(0)) by
// exact_exp's array form); other lanes by the scalar function, which throws
// as it does. k may alias none of the inputs.
void binomial_quantile(const double* n, const double* p, const double* u, const double* log1m_p,
                       double* k, std::size_t count);

class BetaHalf;              // piecewise-polynomial inverse CDF of one half (see .cpp)
struct QuantileTableLookup;  // both halves' tables in one array, for the array form

// Inverse CDF of Beta(alpha, beta) on [0, 1], from two tabulated halves so
// that both tails keep their relative precision.
struct QuantileTable {
  QuantileTable(double a, double b);
  double operator()(double u) const;
  // x[i] = (*this)(u[i]) for i in [0, n), the same bits: the Chebyshev sums of
  // eight u at a time with AVX-512 or four with AVX2, as simd_level() says
  // (same operations in the same order, no FMA). x may be u.
  void operator()(const double* u, double* x, std::size_t n) const;

  double alpha, beta, median;
  std::shared_ptr<const BetaHalf> lower, upper;
  std::shared_ptr<const QuantileTableLookup> lookup;
};

}  // namespace countysim
