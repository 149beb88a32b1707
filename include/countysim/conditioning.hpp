// Conditioning on outturns (model.md "Conditioning on outturns", v2): each
// draw is reweighted by the likelihood of the published figures, w_d ∝
// exp(ℓ_d), and every conditioned estimate is self-normalised. The draws
// themselves do not change. docs/conditioning.md explains the choices.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "countysim/model.hpp"
#include "countysim/results_types.hpp"
#include "countysim/scenario.hpp"
#include "countysim/stats.hpp"

namespace countysim {

// An outturn in the outer `outer_tail` of the unconditioned draws on either
// side, or an effective sample size below `ess_warning_level`, is a warning.
inline constexpr double outer_tail = 0.01;
inline constexpr double ess_warning_level = 1000;

// The draw's value of o's metric in o's year (index year - base_year);
// cluster_output through o.cluster_index. Any [draw, year] metric works.
double observed_value(const Observation& o, const DrawOutput& out, int base_year);

// -1/2 ((x - value) / sd)^2; -inf when x is not a number (the draw then gets
// weight 0 rather than poisoning every sum with NaN).
double log_likelihood_term(const Observation& o, double x);

// ℓ_d of one draw: the terms of every observation, summed in scenario order.
double log_likelihood(const std::vector<Observation>& observed, const DrawOutput& out,
                      int base_year);

// w_d = exp(ℓ_d - max ℓ), the max over all draws (exact and order-free, so
// the weights do not depend on threads or blocks). Throws RunError when no
// draw has a finite ℓ (every weight would be 0).
std::vector<double> normalised_weights(const std::vector<double>& log_weight);

// (Σ w)² / Σ w², summed in draw order.
double effective_sample_size(const std::vector<double>& w);

// Self-normalised probability p = Σ_met w / Σ w, its standard error
// sqrt(Σ w² (1 - p)²) / Σ w (all draws; split into met and not met), and a
// 95% Wilson interval with n = p(1-p)/se², the sample size a binomial
// estimate of that precision needs (n = ESS when p is 0 or 1).
Proportion weighted_proportion(double met_w, double met_w2, double sum_w, double sum_w2);

// Weighted mean and sd (sd with the reliability-weights correction
// Σw - Σw²/Σw, which is n - 1 for equal weights); NaN if any x is NaN.
struct WeightedMoments {
  double mean = 0, sd = 0;
};
WeightedMoments weighted_moments(const float* x, const double* w, std::size_t n);
WeightedMoments weighted_moments(const double* x, const double* w, std::size_t n);

// Weighted quantiles: for each q the smallest x whose cumulative weight (x
// ascending, ties by draw) reaches q Σ w. All NaN if any x is NaN (nothing is
// sorted then).
std::vector<double> weighted_quantiles(const float* x, const double* w, std::size_t n,
                                       const std::vector<double>& qs);
std::vector<double> weighted_quantiles(const double* x, const double* w, std::size_t n,
                                       const std::vector<double>& qs);

// Share of the n draws with x <= y (unweighted): where the outturn fell.
double prior_quantile(const double* x, std::size_t n, double y);

// One observation's row of /observed: the draws' values x[d] of its metric
// and the run's weights w[d] give its prior quantile, the conditioned (weighted)
// median of the metric, and the ESS that this observation alone would leave.
ObservationRow observation_row(const Observation& o, const double* x, const double* w,
                               std::size_t n);

// The warnings of a conditioned run, in this order: each observation in the
// outer 1% (by scenario order), then ESS < 1000 naming the observations
// responsible: those whose own single-observation ESS is below 1000, or, when
// none is (only their combination hurts), the one whose own ESS is smallest.
// Empty for an unconditioned table.
std::vector<std::string> conditioning_warnings(const TargetTable& t, std::uint64_t draws);

}  // namespace countysim
