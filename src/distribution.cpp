#include "countysim/distribution.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <numeric>
#include <utility>

namespace countysim {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::uint64_t to_bits(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

double from_bits(std::uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

// ---------------------------------------------------------------------------
// Parameter checks. Messages name the parameter and the value given.

void require_finite(const char* param, double v) {
  if (!std::isfinite(v)) {
    throw DistributionError(param, fmt::format("{} must be a finite number (got {})", param, v));
  }
}

void require_order(double lo, double hi) {
  if (hi < lo) {
    throw DistributionError("max", fmt::format("max must be >= min (got min {}, max {})", lo, hi));
  }
}

void require_mode(double lo, double mode, double hi) {
  require_order(lo, hi);
  if (mode < lo || mode > hi) {
    throw DistributionError(
        "mode", fmt::format("mode must lie between min and max (got min {}, mode {}, max {})", lo,
                            mode, hi));
  }
}

// ---------------------------------------------------------------------------
// Beta quantile table.
//
// Q(p) = I^-1_p(a, b) for p in (0, 1/2) is tabulated on dyadic levels
// p in [2^-(L+2), 2^-(L+1)), L = 0 .. kLevels-1, each split into 2^shift equal
// pieces in the mantissa, each piece a Chebyshev interpolant of degree
// kDegree. Near 0, Q(p) ~ (a B p)^(1/a): a power of p, smooth in p / 2^-L on
// every level, so a few pieces per level suffice for any (a, b) and the
// lookup needs only the exponent and mantissa bits (no pow, no search).
// Levels and pieces are chosen at construction until the interpolant's last
// two Chebyshev coefficients are below kTableTol; p > 1/2 uses the table of
// Beta(b, a) at 1 - p (exact in double), p below 2^-(kLevels+1) and halves
// that do not converge use Boost's ibeta_inv directly.

constexpr int kDegree = 11;
constexpr int kNodes = kDegree + 1;
constexpr int kLevels = 56;          // p down to 2^-57: below any Philox uniform
constexpr int kMaxShift = 7;         // at most 128 pieces a level
constexpr double kTableTol = 2e-12;  // coefficient tail, on the unit scale

// Boost evaluates in double rather than long double: 3-5x faster, a few ulp.
using FastPolicy = boost::math::policies::policy<boost::math::policies::promote_double<false>>;

// Exact inverse of the regularised incomplete beta, never throwing. Boost
// gives up on some p far below anything sampled (seen at p = 1e-300); there
// x is tiny and the leading term of I_x(a, b) = x^a / (a B(a, b)) (1 + O(x))
// is used.
double beta_quantile_exact(double a, double b, double p) {
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  try {
    return boost::math::ibeta_inv(a, b, p, FastPolicy());
  } catch (const std::exception&) {
    const double log_beta = std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
    return std::min(1.0, std::exp((std::log(a) + log_beta + std::log(p)) / a));
  }
}

class BetaHalf {
 public:
  BetaHalf(double a, double b) : a_(a), b_(b) { build(); }

  // Q(p) for 0 < p < 1/2.
  double operator()(double p) const {
    const std::uint64_t bits = to_bits(p);
    const int level = 1021 - static_cast<int>(bits >> 52);
    if (!converged_ || level >= kLevels) return beta_quantile_exact(a_, b_, p);
    const std::uint64_t mant = bits & 0xfffffffffffffULL;
    const int shift = shift_[level];
    const std::uint64_t piece = mant >> (52 - shift);
    const double m = from_bits(mant | 0x3ff0000000000000ULL);  // in [1, 2)
    const double t =
        (m - 1.0) * static_cast<double>(2 << shift) - static_cast<double>(2 * piece + 1);
    const double* c = &coef_[offset_[level] + piece * kNodes];
    // Clenshaw recurrence for sum c_k T_k(t).
    double b1 = 0, b2 = 0;
    const double t2 = 2 * t;
    for (int k = kDegree; k >= 1; --k) {
      const double b0 = t2 * b1 - b2 + c[k];
      b2 = b1;
      b1 = b0;
    }
    return t * b1 - b2 + c[0];
  }

 private:
  void build() {
    std::array<double, kNodes> node_t, f;
    for (int k = 0; k < kNodes; ++k) node_t[k] = std::cos(M_PI * (k + 0.5) / kNodes);
    for (int level = 0; level < kLevels; ++level) {
      const double scale = std::ldexp(1.0, -(level + 2));  // p = m * scale, m in [1, 2]
      bool done = false;
      for (int shift = 0; shift <= kMaxShift && !done; ++shift) {
        const int pieces = 1 << shift;
        std::vector<double> coef(static_cast<std::size_t>(pieces) * kNodes);
        double tail = 0;
        for (int i = 0; i < pieces; ++i) {
          for (int k = 0; k < kNodes; ++k) {
            const double m = 1.0 + (i + 0.5 * (node_t[k] + 1.0)) / pieces;
            f[k] = beta_quantile_exact(a_, b_, m * scale);
          }
          double* c = &coef[static_cast<std::size_t>(i) * kNodes];
          for (int j = 0; j < kNodes; ++j) {
            double s = 0;
            for (int k = 0; k < kNodes; ++k) s += f[k] * std::cos(M_PI * j * (k + 0.5) / kNodes);
            c[j] = s * 2.0 / kNodes;
          }
          c[0] *= 0.5;
          tail = std::max(tail, std::abs(c[kDegree]) + std::abs(c[kDegree - 1]));
        }
        if (tail <= kTableTol) {
          offset_[level] = static_cast<std::uint32_t>(coef_.size());
          shift_[level] = static_cast<std::uint8_t>(shift);
          coef_.insert(coef_.end(), coef.begin(), coef.end());
          done = true;
        }
      }
      if (!done) {
        converged_ = false;
        coef_.clear();
        return;
      }
    }
  }

  double a_, b_;
  bool converged_ = true;
  std::array<std::uint32_t, kLevels> offset_{};
  std::array<std::uint8_t, kLevels> shift_{};
  std::vector<double> coef_;
};

// Tables are shared between distributions of the same shape (per-year inputs,
// the two halves of a symmetric beta).
std::shared_ptr<const BetaHalf> beta_half(double a, double b) {
  static std::mutex mutex;
  static std::map<std::pair<double, double>, std::weak_ptr<const BetaHalf>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  if (cache.size() > 1000) {  // forget shapes no distribution uses any more
    for (auto it = cache.begin(); it != cache.end();) {
      it = it->second.expired() ? cache.erase(it) : std::next(it);
    }
  }
  auto& slot = cache[{a, b}];
  if (auto table = slot.lock()) return table;
  auto table = std::make_shared<const BetaHalf>(a, b);
  slot = table;
  return table;
}

}  // namespace

// Inverse CDF of Beta(alpha, beta) on [0, 1]; see BetaHalf.
struct QuantileTable {
  QuantileTable(double a, double b)
      : alpha(a),
        beta(b),
        median(beta_quantile_exact(a, b, 0.5)),
        lower(beta_half(a, b)),
        upper(beta_half(b, a)) {}

  double operator()(double u) const {
    if (u < 0.5) return u > 0 ? (*lower)(u) : 0.0;
    if (u > 0.5) return u < 1 ? 1.0 - (*upper)(1.0 - u) : 1.0;
    return median;
  }

  double alpha, beta, median;
  std::shared_ptr<const BetaHalf> lower, upper;
};

// ---------------------------------------------------------------------------
// Standard normal.

// Phi(z) = erfc(-z / sqrt 2) / 2. The rounding error d of the argument
// t = -z / sqrt 2 is amplified ~2 t^2 times by erfc (1e-12 relative at z = -37),
// so it is put back to first order: erfc(t + d) = erfc(t) - d 2/sqrt(pi) e^(-t^2).
double normal_cdf(double z) {
  constexpr double kHi = 0.70710678118654757;     // 1/sqrt(2) rounded
  constexpr double kLo = -4.833646656726457e-17;  // 1/sqrt(2) - kHi
  const double t = -z * kHi;
  // Only the lower tail needs it: for t < -1, erfc(t) = 2 - erfc(-t) is near 2.
  if (!(t >= 1 && t < 28)) return 0.5 * std::erfc(t);
  const double d = std::fma(-z, kHi, -t) - z * kLo;
  return 0.5 * std::erfc(t) - d * 0.56418958354775628 * std::exp(-t * t);
}

namespace {

// Horner: c[0] + c[1] x + ... + c[N-1] x^(N-1).
template <std::size_t N>
inline double poly(const double (&c)[N], double x) {
  double s = c[N - 1];
  for (std::size_t i = N - 1; i-- > 0;) s = s * x + c[i];
  return s;
}

// Coefficients of AS 241: central region (a/b), |q| <= 0.425; intermediate
// tail (c/d), r <= 5; far tail (e/f).
constexpr double kA[] = {3.3871328727963666080e0,  1.3314166789178437745e+2,
                         1.9715909503065514427e+3, 1.3731693765509461125e+4,
                         4.5921953931549871457e+4, 6.7265770927008700853e+4,
                         3.3430575583588128105e+4, 2.5090809287301226727e+3};
constexpr double kB[] = {1.0,
                         4.2313330701600911252e+1,
                         6.8718700749205790830e+2,
                         5.3941960214247511077e+3,
                         2.1213794301586595867e+4,
                         3.9307895800092710610e+4,
                         2.8729085735721942674e+4,
                         5.2264952788528545610e+3};
constexpr double kC[] = {1.42343711074968357734e0,  4.63033784615654529590e0,
                         5.76949722146069140550e0,  3.64784832476320460504e0,
                         1.27045825245236838258e0,  2.41780725177450611770e-1,
                         2.27238449892691845833e-2, 7.74545014278341407640e-4};
constexpr double kD[] = {1.0,
                         2.05319162663775882187e0,
                         1.67638483018380384940e0,
                         6.89767334985100004550e-1,
                         1.48103976427480074590e-1,
                         1.51986665636164571966e-2,
                         5.47593808499534494600e-4,
                         1.05075007164441684324e-9};
constexpr double kE[] = {6.65790464350110377720e0,  5.46378491116411436990e0,
                         1.78482653991729133580e0,  2.96560571828504891230e-1,
                         2.65321895265761230930e-2, 1.24266094738807843860e-3,
                         2.71155556874348757815e-5, 2.01033439929228813265e-7};
constexpr double kF[] = {1.0,
                         5.99832206555887937690e-1,
                         1.36929880922735805310e-1,
                         1.48753612908506148525e-2,
                         7.86869131145613259100e-4,
                         1.84631831751005468180e-5,
                         1.42151175831644588870e-7,
                         2.04426310338993978564e-15};

}  // namespace

// Wichura (1988), Algorithm AS 241 (PPND16): relative error about 1e-16.
double normal_quantile(double u) {
  if (!(u > 0)) return u == 0 ? -kInf : std::numeric_limits<double>::quiet_NaN();
  if (!(u < 1)) return u == 1 ? kInf : std::numeric_limits<double>::quiet_NaN();
  const double q = u - 0.5;
  if (std::abs(q) <= 0.425) {
    const double r = 0.180625 - q * q;
    return q * poly(kA, r) / poly(kB, r);
  }
  // 1 - u is exact for u >= 1/2.
  const double r = std::sqrt(-std::log(q < 0 ? u : 1.0 - u));
  const double x =
      r <= 5.0 ? poly(kC, r - 1.6) / poly(kD, r - 1.6) : poly(kE, r - 5.0) / poly(kF, r - 5.0);
  return q < 0 ? -x : x;
}

namespace {
double normal_pdf(double z) {
  return 0.3989422804014327 * std::exp(-0.5 * z * z);
}
}  // namespace

// ---------------------------------------------------------------------------
// Factories. Parameter layout in p_:
//   constant   value
//   normal     mean, sd, truncated (0/1), upper-tail form (0/1)
//   lognormal  median, sigma
//   uniform    min, max
//   triangular min, mode, max, F(mode)
//   pert       min, mode, max, lambda
//   beta       alpha, beta
//   poisson    mean, first k in the table
//   discrete   mean

const char* family_name(Family f) {
  switch (f) {
    case Family::constant:
      return "constant";
    case Family::normal:
      return "normal";
    case Family::lognormal:
      return "lognormal";
    case Family::uniform:
      return "uniform";
    case Family::triangular:
      return "triangular";
    case Family::pert:
      return "pert";
    case Family::beta:
      return "beta";
    case Family::poisson:
      return "poisson";
    case Family::discrete:
      return "discrete";
  }
  return "?";
}

Distribution Distribution::constant(double value) {
  require_finite("value", value);
  Distribution d;
  d.family_ = Family::constant;
  d.p_[0] = value;
  d.lo_ = d.hi_ = value;
  return d;
}

Distribution Distribution::normal(double mean, double sd, double lo, double hi) {
  require_finite("mean", mean);
  require_finite("sd", sd);
  if (sd < 0) throw DistributionError("sd", fmt::format("sd must be >= 0 (got {})", sd));
  if (std::isnan(lo) || lo == kInf) {
    throw DistributionError("min", fmt::format("min must be a finite number (got {})", lo));
  }
  if (std::isnan(hi) || hi == -kInf) {
    throw DistributionError("max", fmt::format("max must be a finite number (got {})", hi));
  }
  const bool truncated = std::isfinite(lo) || std::isfinite(hi);
  if (truncated && !(lo < hi)) {
    throw DistributionError(
        "max", fmt::format("max must be greater than min (got min {}, max {})", lo, hi));
  }
  Distribution d;
  d.family_ = Family::normal;
  d.p_[0] = mean;
  d.p_[1] = sd;
  d.p_[2] = truncated ? 1 : 0;
  d.lo_ = lo;
  d.hi_ = hi;
  double mass;
  if (sd == 0) {
    mass = (lo <= mean && mean <= hi) ? 1 : 0;
  } else if (lo > mean) {
    // Interval in the upper tail: work with upper-tail probabilities, which
    // keep their precision there (Phi(a) would round to 1).
    d.p_[3] = 1;
    d.cdf_lo_ = normal_cdf(-(lo - mean) / sd);
    d.cdf_hi_ = normal_cdf(-(hi - mean) / sd);
    mass = d.cdf_lo_ - d.cdf_hi_;
  } else {
    d.cdf_lo_ = normal_cdf((lo - mean) / sd);
    d.cdf_hi_ = normal_cdf((hi - mean) / sd);
    mass = d.cdf_hi_ - d.cdf_lo_;
  }
  if (!(mass > 1e-300)) {
    throw DistributionError(
        lo > mean ? "min" : "max",
        fmt::format("normal(mean={}, sd={}) has no probability between min {} and max {}; widen "
                    "[min, max] or move the mean into it",
                    mean, sd, lo, hi));
  }
  return d;
}

Distribution Distribution::lognormal(double median, double sigma) {
  require_finite("median", median);
  require_finite("sigma", sigma);
  if (median <= 0) {
    throw DistributionError("median", fmt::format("median must be > 0 (got {})", median));
  }
  if (sigma < 0)
    throw DistributionError("sigma", fmt::format("sigma must be >= 0 (got {})", sigma));
  Distribution d;
  d.family_ = Family::lognormal;
  d.p_[0] = median;
  d.p_[1] = sigma;
  d.lo_ = sigma > 0 ? 0 : median;
  d.hi_ = sigma > 0 ? kInf : median;
  return d;
}

Distribution Distribution::uniform(double lo, double hi) {
  require_finite("min", lo);
  require_finite("max", hi);
  require_order(lo, hi);
  Distribution d;
  d.family_ = Family::uniform;
  d.p_[0] = d.lo_ = lo;
  d.p_[1] = d.hi_ = hi;
  return d;
}

Distribution Distribution::triangular(double lo, double mode, double hi) {
  require_finite("min", lo);
  require_finite("mode", mode);
  require_finite("max", hi);
  require_mode(lo, mode, hi);
  Distribution d;
  d.family_ = Family::triangular;
  d.p_[0] = d.lo_ = lo;
  d.p_[1] = mode;
  d.p_[2] = d.hi_ = hi;
  d.p_[3] = hi > lo ? (mode - lo) / (hi - lo) : 0;
  return d;
}

Distribution Distribution::pert(double lo, double mode, double hi, double lambda) {
  require_finite("min", lo);
  require_finite("mode", mode);
  require_finite("max", hi);
  require_finite("lambda", lambda);
  require_mode(lo, mode, hi);
  if (lambda <= 0) {
    throw DistributionError("lambda", fmt::format("lambda must be > 0 (got {})", lambda));
  }
  Distribution d;
  d.family_ = Family::pert;
  d.p_[0] = d.lo_ = lo;
  d.p_[1] = mode;
  d.p_[2] = d.hi_ = hi;
  d.p_[3] = lambda;
  if (hi > lo) {
    const double a = 1 + lambda * (mode - lo) / (hi - lo);
    const double b = 1 + lambda * (hi - mode) / (hi - lo);
    d.table_ = std::make_shared<const QuantileTable>(a, b);
  }
  return d;
}

Distribution Distribution::beta(double alpha, double beta, double lo, double hi) {
  require_finite("alpha", alpha);
  require_finite("beta", beta);
  require_finite("min", lo);
  require_finite("max", hi);
  if (alpha <= 0)
    throw DistributionError("alpha", fmt::format("alpha must be > 0 (got {})", alpha));
  if (beta <= 0) throw DistributionError("beta", fmt::format("beta must be > 0 (got {})", beta));
  require_order(lo, hi);
  Distribution d;
  d.family_ = Family::beta;
  d.p_[0] = alpha;
  d.p_[1] = beta;
  d.lo_ = lo;
  d.hi_ = hi;
  if (hi > lo) d.table_ = std::make_shared<const QuantileTable>(alpha, beta);
  return d;
}

namespace {
constexpr double kPoissonMaxMean = 1e7;  // CDF table of ~50 sd: 150k entries at most
}

Distribution Distribution::poisson(double mean) {
  require_finite("mean", mean);
  if (mean < 0) throw DistributionError("mean", fmt::format("mean must be >= 0 (got {})", mean));
  if (mean > kPoissonMaxMean) {
    throw DistributionError("mean", fmt::format("mean must be <= {} for a poisson count (got {})",
                                                kPoissonMaxMean, mean));
  }
  Distribution d;
  d.family_ = Family::poisson;
  d.p_[0] = mean;
  d.lo_ = 0;
  d.hi_ = kInf;
  if (mean == 0) {
    d.cum_ = {1.0};
    return d;
  }
  // Table of P(X <= k) from where it leaves 1e-300 (k0) to where the upper
  // tail drops below 1e-17, under half the gap between 1 and the largest
  // uniform below it. Each entry is the regularised gamma function itself
  // (not a running sum), accurate to a few ulp.
  std::int64_t k0 = 0;
  if (mean > 1000) {
    k0 = static_cast<std::int64_t>(std::max(0.0, std::floor(mean - 38 * std::sqrt(mean))));
    while (k0 > 0 && boost::math::gamma_q(static_cast<double>(k0), mean) > 1e-300) k0 -= 1;
  }
  d.p_[1] = static_cast<double>(k0);
  for (std::int64_t k = k0;; ++k) {
    const double kk = static_cast<double>(k + 1);
    const double upper = boost::math::gamma_p(kk, mean);  // P(X > k)
    if (upper < 1e-17) {
      d.cum_.push_back(1.0);
      break;
    }
    d.cum_.push_back(upper < 0.5 ? 1.0 - upper : boost::math::gamma_q(kk, mean));
  }
  return d;
}

Distribution Distribution::discrete(std::vector<double> values, std::vector<double> probs) {
  if (values.empty()) throw DistributionError("values", "values must not be empty");
  if (values.size() != probs.size()) {
    throw DistributionError(
        "probs", fmt::format("values and probs must have the same length (got {} values, {} probs)",
                             values.size(), probs.size()));
  }
  double total = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      throw DistributionError("values", fmt::format("values must be finite numbers (got {} at "
                                                    "position {})",
                                                    values[i], i + 1));
    }
    if (!std::isfinite(probs[i]) || probs[i] < 0) {
      throw DistributionError(
          "probs", fmt::format("probs must be >= 0 (got {} at position {})", probs[i], i + 1));
    }
    total += probs[i];
  }
  if (std::abs(total - 1) > 1e-9) {
    throw DistributionError("probs", fmt::format("probs must sum to 1 (got {})", total));
  }
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t i, std::size_t j) { return values[i] < values[j]; });
  Distribution d;
  d.family_ = Family::discrete;
  double cum = 0, mean = 0;
  for (const std::size_t i : order) {
    cum += probs[i] / total;
    mean += values[i] * probs[i] / total;
    if (!d.values_.empty() && d.values_.back() == values[i]) {
      d.cum_.back() = cum;  // repeated value: merge
    } else {
      d.values_.push_back(values[i]);
      d.cum_.push_back(cum);
    }
  }
  d.cum_.back() = 1.0;
  d.p_[0] = mean;
  // Support: the values with positive probability (a zero-probability value
  // is listed but never drawn).
  std::size_t first = 0, last = d.values_.size() - 1;
  while (d.cum_[first] == 0) ++first;
  while (last > 0 && d.cum_[last - 1] == 1.0) --last;
  d.lo_ = d.values_[first];
  d.hi_ = d.values_[last];
  return d;
}

// ---------------------------------------------------------------------------
// Queries.

bool Distribution::is_integer_valued() const {
  const auto whole = [](double v) { return v == std::floor(v); };
  switch (family_) {
    case Family::constant:
      return whole(p_[0]);
    case Family::poisson:
      return true;
    case Family::discrete:
      return std::all_of(values_.begin(), values_.end(), whole);
    default:
      return false;
  }
}

double Distribution::quantile(double u) const {
  if (!(u > 0)) return support_min();
  if (!(u < 1)) return support_max();
  switch (family_) {
    case Family::constant:
      return p_[0];
    case Family::normal: {
      const double mean = p_[0], sd = p_[1];
      if (sd == 0) return mean;
      if (p_[2] == 0) return mean + sd * normal_quantile(u);
      double z;
      if (p_[3] != 0) {
        z = -normal_quantile(cdf_lo_ - u * (cdf_lo_ - cdf_hi_));
      } else {
        z = normal_quantile(cdf_lo_ + u * (cdf_hi_ - cdf_lo_));
      }
      return std::clamp(mean + sd * z, lo_, hi_);
    }
    case Family::lognormal:
      return p_[0] * std::exp(p_[1] * normal_quantile(u));
    case Family::uniform:
      return lo_ + u * (hi_ - lo_);
    case Family::triangular: {
      const double lo = p_[0], mode = p_[1], hi = p_[2];
      if (u < p_[3]) return lo + std::sqrt(u * (hi - lo) * (mode - lo));
      return hi - std::sqrt((1 - u) * (hi - lo) * (hi - mode));
    }
    case Family::pert:
    case Family::beta:
      if (!table_) return lo_;
      return std::clamp(lo_ + (hi_ - lo_) * (*table_)(u), lo_, hi_);
    case Family::poisson: {
      const auto it = std::lower_bound(cum_.begin(), cum_.end(), u);
      return p_[1] + static_cast<double>(it - cum_.begin());
    }
    case Family::discrete: {
      std::size_t i;
      if (cum_.size() <= 16) {
        i = 0;  // branch-free count of cum < u: faster than bisection on a few values
        for (const double c : cum_) i += c < u;
      } else {
        i = std::lower_bound(cum_.begin(), cum_.end(), u) - cum_.begin();
      }
      return values_[std::min(i, values_.size() - 1)];
    }
  }
  return 0;
}

double Distribution::cdf(double x) const {
  if (std::isnan(x)) return x;
  switch (family_) {
    case Family::constant:
      return x >= p_[0] ? 1 : 0;
    case Family::normal: {
      const double mean = p_[0], sd = p_[1];
      if (x < lo_) return 0;
      if (x >= hi_) return 1;
      if (sd == 0) return x >= mean ? 1 : 0;
      if (p_[2] == 0) return normal_cdf((x - mean) / sd);
      const double f = p_[3] != 0 ? (cdf_lo_ - normal_cdf(-(x - mean) / sd)) / (cdf_lo_ - cdf_hi_)
                                  : (normal_cdf((x - mean) / sd) - cdf_lo_) / (cdf_hi_ - cdf_lo_);
      return std::clamp(f, 0.0, 1.0);
    }
    case Family::lognormal:
      if (x <= 0) return 0;
      if (p_[1] == 0) return x >= p_[0] ? 1 : 0;
      return normal_cdf(std::log(x / p_[0]) / p_[1]);
    case Family::uniform:
      if (x < lo_) return 0;
      if (x >= hi_) return 1;
      return (x - lo_) / (hi_ - lo_);
    case Family::triangular: {
      const double lo = p_[0], mode = p_[1], hi = p_[2];
      if (x < lo) return 0;
      if (x >= hi) return 1;
      if (x <= mode) return (x - lo) * (x - lo) / ((hi - lo) * (mode - lo));
      return 1 - (hi - x) * (hi - x) / ((hi - lo) * (hi - mode));
    }
    case Family::pert:
    case Family::beta:
      if (x < lo_) return 0;
      if (x >= hi_) return 1;
      return boost::math::ibeta(table_->alpha, table_->beta, (x - lo_) / (hi_ - lo_));
    case Family::poisson: {
      if (x < p_[1]) return 0;
      const double k = std::floor(x) - p_[1];
      if (k >= static_cast<double>(cum_.size())) return 1;
      return cum_[static_cast<std::size_t>(k)];
    }
    case Family::discrete: {
      const auto it = std::upper_bound(values_.begin(), values_.end(), x);
      return it == values_.begin() ? 0 : cum_[it - values_.begin() - 1];
    }
  }
  return 0;
}

double Distribution::mean() const {
  switch (family_) {
    case Family::constant:
      return p_[0];
    case Family::normal: {
      const double mean = p_[0], sd = p_[1];
      if (sd == 0 || p_[2] == 0) return mean;
      // E[X] = mu + sd (phi(a) - phi(b)) / Z, Z the mass in [a, b].
      const double a = (lo_ - mean) / sd, b = (hi_ - mean) / sd;
      const double phi_a = std::isfinite(a) ? normal_pdf(a) : 0;
      const double phi_b = std::isfinite(b) ? normal_pdf(b) : 0;
      const double mass = p_[3] != 0 ? cdf_lo_ - cdf_hi_ : cdf_hi_ - cdf_lo_;
      return std::clamp(mean + sd * (phi_a - phi_b) / mass, lo_, hi_);
    }
    case Family::lognormal:
      return p_[0] * std::exp(0.5 * p_[1] * p_[1]);
    case Family::uniform:
      return 0.5 * (lo_ + hi_);
    case Family::triangular:
      return (p_[0] + p_[1] + p_[2]) / 3;
    case Family::pert:
      return (p_[0] + p_[3] * p_[1] + p_[2]) / (p_[3] + 2);
    case Family::beta:
      return lo_ + (hi_ - lo_) * p_[0] / (p_[0] + p_[1]);
    case Family::poisson:
      return p_[0];
    case Family::discrete:
      return p_[0];
  }
  return 0;
}

double Distribution::support_min() const {
  switch (family_) {
    case Family::normal:
      return p_[1] == 0 ? p_[0] : lo_;
    case Family::poisson:
      return 0;
    default:
      return lo_;
  }
}

double Distribution::support_max() const {
  switch (family_) {
    case Family::normal:
      return p_[1] == 0 ? p_[0] : hi_;
    case Family::poisson:
      return p_[0] == 0 ? 0 : kInf;
    default:
      return hi_;
  }
}

std::string Distribution::describe() const {
  switch (family_) {
    case Family::constant:
      return fmt::format("{}", p_[0]);
    case Family::normal: {
      std::string s = fmt::format("normal(mean={}, sd={}", p_[0], p_[1]);
      if (std::isfinite(lo_)) s += fmt::format(", min={}", lo_);
      if (std::isfinite(hi_)) s += fmt::format(", max={}", hi_);
      return s + ")";
    }
    case Family::lognormal:
      return fmt::format("lognormal(median={}, sigma={})", p_[0], p_[1]);
    case Family::uniform:
      return fmt::format("uniform(min={}, max={})", lo_, hi_);
    case Family::triangular:
      return fmt::format("triangular(min={}, mode={}, max={})", p_[0], p_[1], p_[2]);
    case Family::pert:
      return p_[3] == 4 ? fmt::format("pert(min={}, mode={}, max={})", p_[0], p_[1], p_[2])
                        : fmt::format("pert(min={}, mode={}, max={}, lambda={})", p_[0], p_[1],
                                      p_[2], p_[3]);
    case Family::beta:
      return lo_ == 0 && hi_ == 1
                 ? fmt::format("beta(alpha={}, beta={})", p_[0], p_[1])
                 : fmt::format("beta(alpha={}, beta={}, min={}, max={})", p_[0], p_[1], lo_, hi_);
    case Family::poisson:
      return fmt::format("poisson(mean={})", p_[0]);
    case Family::discrete: {
      std::vector<double> probs(cum_.size());
      std::adjacent_difference(cum_.begin(), cum_.end(), probs.begin());
      return fmt::format("discrete(values=[{}], probs=[{:.12g}])", fmt::join(values_, ", "),
                         fmt::join(probs, ", "));
    }
  }
  return "?";
}

// ---------------------------------------------------------------------------

namespace {
// 1/(k+1) for the binomial walk, rounded exactly as the division would be.
constexpr std::size_t kInverseCount = 1024;
constexpr auto kInverse = [] {
  std::array<double, kInverseCount> t{};
  for (std::size_t i = 0; i < kInverseCount; ++i) t[i] = 1.0 / static_cast<double>(i + 1);
  return t;
}();
}  // namespace

double binomial_quantile(std::int64_t n, double p, double u) {
  if (n < 0) throw DistributionError("n", fmt::format("n must be >= 0 (got {})", n));
  if (!(p >= 0 && p <= 1)) {
    throw DistributionError("p", fmt::format("p must lie in [0, 1] (got {})", p));
  }
  if (n == 0 || p == 0 || !(u > 0)) return 0;
  const double nd = static_cast<double>(n);
  if (p == 1 || !(u < 1)) return nd;
  const double mean = nd * p, var = mean * (1 - p);
  // Walk up with pmf(k+1) = pmf(k) (n-k)/(k+1) p/(1-p): a multiply and an add
  // a step, no special functions. Start at 0, or, when that is far below the
  // answer (or (1-p)^n underflows), at mean - t with t from Bernstein's
  // inequality so that P(X < start) < e^-50 = 2e-22: far below the spacing of
  // the uniforms, so the answer changes only for u within 2e-22 of a jump.
  const double log_pmf0 = nd * std::log1p(-p);
  double k = 0;
  if (mean >= 64 || log_pmf0 < -700) {
    const double t = (100.0 / 3 + std::sqrt(100.0 / 3 * 100.0 / 3 + 400 * var)) / 2;
    k = std::max(0.0, std::floor(mean - t));
    if (k < 64 && log_pmf0 > -700) k = 0;
  }
  // C(n,k) p^k (1-p)^(n-k) = beta density x^k (1-x)^(n-k-1) / B(k+1, n-k) times (1-p)/(n-k);
  // Boost's density keeps full precision where lgamma differences would not.
  double pmf =
      k > 0 ? boost::math::ibeta_derivative(k + 1, nd - k, p, FastPolicy()) * (1 - p) / (nd - k)
            : std::exp(log_pmf0);
  const double r = p / (1 - p);
  double cum = pmf;
  if (cum >= u) return k;
  // Four steps at a time: the step ratios and their running products do not
  // depend on pmf, so only one multiply and one add per block are on the
  // dependency chain; 1/(k+1) comes from a table instead of a division.
  // Invariant: cum = P(X <= k) < u, pmf = P(X = k).
  while (k + 4 <= nd && k + 4 < static_cast<double>(kInverseCount)) {
    const auto i = static_cast<std::size_t>(k);
    const double f1 = r * (nd - k) * kInverse[i];
    const double f2 = f1 * (r * (nd - k - 1) * kInverse[i + 1]);
    const double f3 = f2 * (r * (nd - k - 2) * kInverse[i + 2]);
    const double f4 = f3 * (r * (nd - k - 3) * kInverse[i + 3]);
    const double p1 = pmf * f1, p2 = pmf * f2, p3 = pmf * f3, p4 = pmf * f4;
    const double next = cum + ((p1 + p2) + (p3 + p4));
    if (next >= u) {
      if (cum + p1 >= u) return k + 1;
      if (cum + p1 + p2 >= u) return k + 2;
      if (cum + p1 + p2 + p3 >= u) return k + 3;
      return k + 4;
    }
    cum = next;
    pmf = p4;
    k += 4;
    // Past the mean the tail is geometric: once it is below rounding level,
    // cum can no longer reach u (1 - u >= 1e-16) and k is the answer.
    if (k > mean && pmf < 1e-17 * cum) return k;
  }
  while (cum < u && k < nd) {
    pmf *= r * (nd - k) / (k + 1);
    k += 1;
    cum += pmf;
    if (k > mean && pmf < 1e-17 * cum) break;
  }
  return k;
}

}  // namespace countysim
