// Conditioning on outturns (conditioning.hpp): likelihood, weights and the
// self-normalised estimates. Every sum runs in draw order, so the bits depend
// only on the draws, never on threads or blocks.
#include "countysim/conditioning.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "countysim/errors.hpp"
#include "countysim/metrics.hpp"

namespace countysim {

double observed_value(const Observation& o, const DrawOutput& out, int base_year) {
  const int y = o.year - base_year;
  if (y < 0 || y > out.years)
    throw RunError(fmt::format("observation {}: year {} is outside {}..{}", o.id, o.year, base_year,
                               base_year + out.years));
  if (o.metric == Metric::cluster_output) {
    if (o.cluster_index < 0 || o.cluster_index >= out.clusters)
      throw RunError(fmt::format("observation {}: cluster '{}' is not resolved", o.id, o.cluster));
    return out.cluster_output[static_cast<std::size_t>(y) * out.clusters + o.cluster_index];
  }
  if (static_cast<int>(o.metric) >= year_metric_count)
    throw RunError(fmt::format("observation {}: metric {} is not a [draw, year] metric", o.id,
                               metric_info(o.metric).name));
  return out.metric(o.metric, y);
}

double log_likelihood_term(const Observation& o, double x) {
  if (std::isnan(x)) return -std::numeric_limits<double>::infinity();
  const double z = (x - o.value) / o.sd;
  return -0.5 * z * z;
}

double log_likelihood(const std::vector<Observation>& observed, const DrawOutput& out,
                      int base_year) {
  double l = 0;
  for (const auto& o : observed) l += log_likelihood_term(o, observed_value(o, out, base_year));
  return l;
}

std::vector<double> normalised_weights(const std::vector<double>& log_weight) {
  double top = -std::numeric_limits<double>::infinity();
  for (double l : log_weight)
    if (l > top) top = l;  // NaN never compares greater
  if (!std::isfinite(top))
    throw RunError(
        "conditioning: no draw has a finite likelihood of the observations; check their "
        "values and sd against the scenario");
  std::vector<double> w(log_weight.size());
  for (std::size_t d = 0; d < w.size(); ++d)
    w[d] = std::isnan(log_weight[d]) ? 0.0 : std::exp(log_weight[d] - top);
  return w;
}

double effective_sample_size(const std::vector<double>& w) {
  double s = 0, s2 = 0;
  for (double x : w) {
    s += x;
    s2 += x * x;
  }
  return s2 > 0 ? s * s / s2 : 0.0;
}

Proportion weighted_proportion(double met_w, double met_w2, double sum_w, double sum_w2) {
  Proportion r;
  if (!(sum_w > 0)) return r;
  const double p = std::clamp(met_w / sum_w, 0.0, 1.0);
  // Σ w²(1_d - p)² = (1-p)² Σ_met w² + p² Σ_not met w².
  const double rest_w2 = std::max(0.0, sum_w2 - met_w2);
  const double var_sum = (1 - p) * (1 - p) * met_w2 + p * p * rest_w2;
  r.p = p;
  r.std_error = std::sqrt(var_sum) / sum_w;
  const double ess = sum_w * sum_w / sum_w2;
  const double n =
      (p > 0 && p < 1 && r.std_error > 0) ? p * (1 - p) / (r.std_error * r.std_error) : ess;
  constexpr double z = 1.959963984540054;  // Phi^-1(0.975)
  const double denom = 1 + z * z / n;
  const double centre = (p + z * z / (2 * n)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom;
  r.ci_low = p == 0 ? 0.0 : std::max(0.0, centre - half);
  r.ci_high = p == 1 ? 1.0 : std::min(1.0, centre + half);
  return r;
}

namespace {

template <class T>
WeightedMoments moments_of(const T* x, const double* w, std::size_t n) {
  WeightedMoments m;
  double sw = 0, sw2 = 0, swx = 0;
  for (std::size_t d = 0; d < n; ++d) {
    sw += w[d];
    sw2 += w[d] * w[d];
    swx += w[d] * static_cast<double>(x[d]);
  }
  if (!(sw > 0)) return m;
  m.mean = swx / sw;
  double ss = 0;  // second pass: no cancellation
  for (std::size_t d = 0; d < n; ++d) {
    const double e = static_cast<double>(x[d]) - m.mean;
    ss += w[d] * e * e;
  }
  const double denom = sw - sw2 / sw;
  m.sd = std::isnan(ss) ? ss : denom > 0 ? std::sqrt(ss / denom) : 0.0;
  return m;
}

template <class T>
std::vector<double> quantiles_of(const T* x, const double* w, std::size_t n,
                                 const std::vector<double>& qs) {
  std::vector<double> out(qs.size(), std::numeric_limits<double>::quiet_NaN());
  if (n == 0 || std::any_of(x, x + n, [](T v) { return std::isnan(v); })) return out;
  // (value, draw) pairs: a total order (ties by draw), so the result does not
  // depend on the sort; sorting the values themselves, not indices into
  // them, is about twice as fast.
  thread_local std::vector<std::pair<T, std::size_t>> items;
  thread_local std::vector<double> cum;
  items.resize(n);
  for (std::size_t d = 0; d < n; ++d) items[d] = {x[d], d};
  std::sort(items.begin(), items.end());
  cum.resize(n);
  double c = 0;
  for (std::size_t i = 0; i < n; ++i) cum[i] = c += w[items[i].second];
  const double total = cum[n - 1];
  if (!(total > 0)) return out;
  for (std::size_t k = 0; k < qs.size(); ++k) {
    const double need = qs[k] * total;
    const auto it = std::lower_bound(cum.begin(), cum.end(), need);
    const std::size_t i = it == cum.end() ? n - 1 : static_cast<std::size_t>(it - cum.begin());
    out[k] = static_cast<double>(items[i].first);
  }
  return out;
}

std::string metric_label(const ObservationRow& o) {
  return o.cluster.empty() ? o.metric : fmt::format("{}[{}]", o.metric, o.cluster);
}

}  // namespace

WeightedMoments weighted_moments(const float* x, const double* w, std::size_t n) {
  return moments_of(x, w, n);
}
WeightedMoments weighted_moments(const double* x, const double* w, std::size_t n) {
  return moments_of(x, w, n);
}
std::vector<double> weighted_quantiles(const float* x, const double* w, std::size_t n,
                                       const std::vector<double>& qs) {
  return quantiles_of(x, w, n, qs);
}
std::vector<double> weighted_quantiles(const double* x, const double* w, std::size_t n,
                                       const std::vector<double>& qs) {
  return quantiles_of(x, w, n, qs);
}

double prior_quantile(const double* x, std::size_t n, double y) {
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  std::uint64_t below = 0;
  for (std::size_t d = 0; d < n; ++d) below += x[d] <= y;
  return static_cast<double>(below) / static_cast<double>(n);
}

ObservationRow observation_row(const Observation& o, const double* x, const double* w,
                               std::size_t n) {
  ObservationRow r;
  r.id = o.id;
  r.metric = metric_info(o.metric).name;
  r.year = o.year;
  r.cluster = o.metric == Metric::cluster_output ? o.cluster : "";
  r.value = o.value;
  r.sd = o.sd;
  r.source = o.source;
  r.prior_quantile = prior_quantile(x, n, o.value);
  r.conditioned_median = weighted_quantiles(x, w, n, {0.5})[0];
  std::vector<double> own(n);
  for (std::size_t d = 0; d < n; ++d) own[d] = log_likelihood_term(o, x[d]);
  bool any = false;
  for (double l : own) any = any || std::isfinite(l);
  r.effective_sample_size = any ? effective_sample_size(normalised_weights(own)) : 0.0;
  return r;
}

std::vector<std::string> conditioning_warnings(const TargetTable& t, std::uint64_t draws) {
  std::vector<std::string> out;
  if (!t.conditioned) return out;
  const char* advice =
      "the scenario disagrees with the record and needs recalibration more than more draws";
  for (const auto& o : t.observations)
    if (o.prior_quantile < outer_tail || o.prior_quantile > 1 - outer_tail)
      out.push_back(fmt::format(
          "observation {} ({} {} = {:g}) lies in the outer 1% of the unconditioned draws "
          "({:.2f}% of them at or below it): {}",
          o.id, metric_label(o), o.year, o.value, 100 * o.prior_quantile, advice));
  if (t.effective_sample_size < ess_warning_level && !t.observations.empty()) {
    std::vector<const ObservationRow*> blame;
    for (const auto& o : t.observations)
      if (o.effective_sample_size < ess_warning_level) blame.push_back(&o);
    if (blame.empty())
      blame.push_back(&*std::min_element(t.observations.begin(), t.observations.end(),
                                         [](const ObservationRow& a, const ObservationRow& b) {
                                           return a.effective_sample_size < b.effective_sample_size;
                                         }));
    std::string names;
    for (const ObservationRow* o : blame)
      names += fmt::format("{}{} (alone {:.0f})", names.empty() ? "" : ", ", o->id,
                           o->effective_sample_size);
    out.push_back(
        fmt::format("effective sample size {:.0f} of {} draws is below {:.0f}; responsible: {}: {}",
                    t.effective_sample_size, draws, ess_warning_level, names, advice));
  }
  return out;
}

}  // namespace countysim
