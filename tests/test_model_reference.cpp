// The model as it stood at fa930e2 (src/model.cpp, verbatim but for the
// workspace's name), kept as the reference that the faster simulate_draw must
// reproduce bit for bit: every field of every DrawOutput, on the scenarios of
// the repository and on synthetic ones that reach the model's corner cases
// (ramps of zero, fractional and longer than the horizon, projects planned
// before it, tight pools, ties of priority, no jobs, own tax rates, negative
// prices, invalid draws).
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "bits.hpp"
#include "countysim/model.hpp"
#include "countysim/plan.hpp"
#include "countysim/quantile_functions.hpp"
#include "countysim/scenario.hpp"
#include "scenario_fixtures.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace countysim::reference {

// DrawWorkspace as it was at fa930e2.
struct RefWorkspace {
  std::vector<double> scratch, zt, yinc, d, x, rest;
  std::vector<double> yreal, yproj, rest_real, index_price, price, rest_price;
  std::vector<double> opened;
  std::vector<double> growth;
  std::vector<int> order;
  std::vector<std::uint64_t> order_keys;
  std::vector<int> waiting;
  std::vector<char> wake;
  std::vector<ProjectState> projects;
  InputBlock block;
};

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// v = n copies of +0.0, whose bytes are all zero: one memset, where
// vector::assign fills element by element out of line.
inline void zeros(std::vector<double>& v, std::size_t n) {
  v.resize(n);
  if (n > 0) std::memset(v.data(), 0, n * sizeof(double));
}

// Pools are compared with a relative tolerance so that a pool that holds
// exactly what a project needs (after sums of fractions) lets it start.
inline bool covers(double pool, double need) {
  return pool >= need - 1e-9 * (1.0 + need);
}

// The stages of model.md "One draw", in order. Each reads the sampled inputs
// `v` (slot values) and what earlier stages left in the workspace or output.

// County-wide shock, AR(1): z_0 = 0, z_t = rho z_{t-1} + e_t.
void common_shock(const Plan& plan, const std::vector<double>& v, RefWorkspace& ws) {
  const int T = plan.years;
  zeros(ws.zt, T + 1);
  for (int t = 1; t <= T; ++t)
    ws.zt[t] = plan.scenario->macro.shock_persistence * ws.zt[t - 1] + v[plan.shock[t - 1]];
}

// Incumbent output: Yinc_{c,t} = Yinc_{c,t-1} (1 + G + lambda z + kappa (s - s_ref)).
void incumbent_output(const Plan& plan, const std::vector<double>& v, RefWorkspace& ws) {
  const Scenario& sc = *plan.scenario;
  const int T = plan.years, C = plan.clusters;
  zeros(ws.yinc, static_cast<std::size_t>(T + 1) * C);
  for (int c = 0; c < C; ++c) {
    const Cluster& cl = sc.clusters[c];
    ws.yinc[c] = cl.base_output;
    for (int t = 1; t <= T; ++t) {
      const double s = v[plan.loan_share[t - 1]];
      const double g = v[plan.cluster[c].growth[t - 1]] + cl.shock_loading * ws.zt[t] +
                       cl.credit_elasticity * (s - sc.finance.reference_share);
      ws.yinc[t * C + c] = ws.yinc[(t - 1) * C + c] * (1.0 + g);
    }
  }
}

// Projects: success, readiness r_p = planned + delay, rounded months; the
// successful ones in scheduling order (priority, r_p, file order).
void project_timing(const Plan& plan, const std::vector<double>& v, RefWorkspace& ws) {
  const Scenario& sc = *plan.scenario;
  const int P = plan.projects;
  std::vector<ProjectState>& ps = ws.projects;
  ps.resize(P);
  ws.order.clear();
  for (int p = 0; p < P; ++p) {
    const Project& pr = sc.projects[p];
    const ProjectSlots& s = plan.project[p];
    ProjectState& st = ps[p];
    st.success = v[s.success] > 0.5;
    const int delay = std::max(0, static_cast<int>(round_half_away(v[s.delay])));
    st.ready = pr.planned_start_month + delay;
    st.construction = std::max(0, static_cast<int>(round_half_away(v[s.construction])));
    st.ramp = std::max(0.0, v[s.ramp]);
    st.capacity = v[s.capacity];
    st.start = st.production = -1;
    if (st.success) ws.order.push_back(p);
  }
  if (static_cast<int>(plan.priority_rank.size()) == P && P <= 0xffff) {
    // One 64-bit key a project, (priority rank, ready, p) from the high bits
    // down (ready offset by 2^31 to sort as unsigned): the same order as the
    // comparison below (the keys are distinct), without its indirections.
    std::vector<std::uint64_t>& keys = ws.order_keys;
    keys.clear();
    for (const int p : ws.order)
      keys.push_back(
          static_cast<std::uint64_t>(plan.priority_rank[p]) << 48 |
          static_cast<std::uint64_t>(static_cast<std::uint32_t>(ps[p].ready) ^ 0x80000000u) << 16 |
          static_cast<std::uint64_t>(p));
    std::sort(keys.begin(), keys.end());
    for (std::size_t i = 0; i < keys.size(); ++i) ws.order[i] = static_cast<int>(keys[i] & 0xffff);
    return;
  }
  std::sort(ws.order.begin(), ws.order.end(), [&](int a, int b) {
    const int pa = sc.projects[a].priority, pb = sc.projects[b].priority;
    if (pa != pb) return pa < pb;
    if (ps[a].ready != ps[b].ready) return ps[a].ready < ps[b].ready;
    return a < b;
  });
}

// Factor scheduling (land and credit): month by month, first fit from pools
// topped up each January; credit Omega_t = phi L_t s_t.
void schedule_factors(const Plan& plan, const std::vector<double>& v, RefWorkspace& ws,
                      DrawOutput& out) {
  const Scenario& sc = *plan.scenario;
  const int T = plan.years;
  std::vector<ProjectState>& ps = ws.projects;
  double land = sc.land.initial_stock_mu, credit = 0.0;
  // The projects not started yet, in scheduling order (started ones are
  // dropped, so later months do not walk over them).
  std::vector<int>& waiting = ws.waiting;
  waiting.assign(ws.order.begin(), ws.order.end());
  // Within a year the pools only shrink, and covers() is monotone in the
  // pool: a project that did not fit in month m does not fit later in the
  // year. So a month can start a project only in January (top-up) or when a
  // project becomes ready in it; the other months are skipped.
  ws.wake.assign(12 * T, 0);
  for (int p : ws.order)
    if (ps[p].ready > 0 && ps[p].ready < 12 * T) ws.wake[ps[p].ready] = 1;
  for (int m = 0; m < 12 * T; ++m) {
    const int t = m / 12 + 1;
    if (m % 12 == 0) {
      const double supply = v[plan.land_supply[t - 1]];
      land += supply;
      credit +=
          sc.finance.project_credit_fraction * v[plan.new_loans[t - 1]] * v[plan.loan_share[t - 1]];
      out.metric(Metric::land_supplied_mu, t) = supply;
      out.metric(Metric::land_used_mu, t) = 0.0;
    }
    if (!waiting.empty() && (m % 12 == 0 || ws.wake[m])) {
      std::size_t kept = 0;
      for (const int p : waiting) {
        ProjectState& st = ps[p];
        if (st.ready <= m) {
          const Project& pr = sc.projects[p];
          const double need_credit = pr.investment * pr.loan_share;
          if (covers(land, pr.land_mu) && covers(credit, need_credit)) {
            st.start = m;
            land = std::max(0.0, land - pr.land_mu);
            credit = std::max(0.0, credit - need_credit);
            out.metric(Metric::land_used_mu, t) += pr.land_mu;
            continue;
          }
        }
        waiting[kept++] = p;
      }
      waiting.resize(kept);
    }
    if (m % 12 == 11) out.metric(Metric::land_stock_mu, t) = land;
  }
  out.metric(Metric::land_supplied_mu, 0) = nan;
  out.metric(Metric::land_used_mu, 0) = nan;
  out.metric(Metric::land_stock_mu, 0) = sc.land.initial_stock_mu;
}

// Production: linear ramp from O_p over R_p months; yearly output K x mean
// fraction (real: K is in base-year prices), summed by cluster into D_t.
void project_production(const Plan& plan, RefWorkspace& ws, DrawOutput& out) {
  const int T = plan.years, C = plan.clusters, P = plan.projects, NY = T + 1;
  std::vector<ProjectState>& ps = ws.projects;
  zeros(ws.yproj, static_cast<std::size_t>(NY) * P);
  zeros(ws.d, static_cast<std::size_t>(NY) * C);
  for (int y = 0; y < NY; ++y) {
    out.metric(Metric::projects_started, y) = 0;
    out.metric(Metric::projects_producing, y) = 0;
  }
  for (int p = 0; p < P; ++p) {
    ProjectState& st = ps[p];
    out.start_month[p] = st.start;
    out.production_month[p] = -1;
    if (st.start < 0) continue;
    st.production = st.start + st.construction;
    out.production_month[p] = st.production;
    const int c = plan.project_cluster[p];
    for (int t = 1; t <= T; ++t) {
      // The sum of min(1, (m - O + 1) / R) over the producing months of year
      // t, as model.md writes it; once k = m - O + 1 >= R the division gives
      // at least 1, so it is skipped there, and below it k / R rounds to at
      // most 1, so the min is 1 only where the quotient is (same sum, bit for
      // bit).
      double sum = 0.0;
      int m = std::max(12 * (t - 1), st.production);
      if (st.ramp > 0)
        for (; m < 12 * t; ++m) {
          const double k = m - st.production + 1;
          if (k >= st.ramp) break;
          sum += k / st.ramp;
        }
      // Whole months: from +0 each 1.0 is added exactly, so their count is
      // the same sum; after ramp months the additions round, one by one.
      if (sum == 0.0 && m < 12 * t)
        sum = 12 * t - m;
      else
        for (; m < 12 * t; ++m) sum += 1.0;
      const double y = st.capacity * sum / 12.0;
      ws.yproj[t * P + p] = y;
      ws.d[t * C + c] += y;
      if (st.start <= 12 * t - 1) out.metric(Metric::projects_started, t) += 1;
      if (12 * t - 1 >= st.production) out.metric(Metric::projects_producing, t) += 1;
    }
  }
}

// Local supply chain on real quantities: X_t = (I - A)^-1 D_t; real cluster
// output Y* = Yinc* + X.
void supply_chain(const Plan& plan, RefWorkspace& ws) {
  const int T = plan.years, C = plan.clusters, NY = T + 1;
  zeros(ws.x, static_cast<std::size_t>(NY) * C);
  for (int t = 1; t <= T; ++t) {
    double* x = ws.x.data() + static_cast<std::size_t>(t) * C;
    const double* d = ws.d.data() + static_cast<std::size_t>(t) * C;
    if (plan.has_supply_chain) {
      // Two rows at a time (Eigen stores L by columns, so L(i, j) and
      // L(i + 1, j) are adjacent): each x_i still adds its terms in the order
      // j = 0 .. C-1 to +0, a multiply and an add each, the same bits.
      const double* l = plan.leontief.data();
      int i = 0;
#if defined(__SSE2__)
      for (; i + 2 <= C; i += 2) {
        __m128d acc = _mm_setzero_pd();
        for (int j = 0; j < C; ++j)
          acc = _mm_add_pd(acc, _mm_mul_pd(_mm_loadu_pd(l + static_cast<std::size_t>(j) * C + i),
                                           _mm_set1_pd(d[j])));
        _mm_storeu_pd(x + i, acc);
      }
#endif
      for (; i < C; ++i) {
        double xi = 0.0;
        for (int j = 0; j < C; ++j) xi += l[static_cast<std::size_t>(j) * C + i] * d[j];
        x[i] = xi;
      }
    } else {
      for (int i = 0; i < C; ++i) x[i] = d[i];
    }
  }
  ws.yreal.resize(static_cast<std::size_t>(NY) * C);
  for (int i = 0; i < NY * C; ++i) ws.yreal[i] = ws.yinc[i] + ws.x[i];
}

// Price levels (v2): P_0 = 1, P_t = P_{t-1} (1 + pi_t) for each index; a
// cluster takes its index's level (1 without one), the rest its deflator.
// Nominal cluster and project output = P x real. Without prices every level
// is exactly 1 and nominal equals real bit for bit.
void prices(const Plan& plan, const std::vector<double>& v, RefWorkspace& ws, DrawOutput& out) {
  const int T = plan.years, C = plan.clusters, P = plan.projects, NY = T + 1;
  const int I = static_cast<int>(plan.price_change.size());
  ws.index_price.assign(static_cast<std::size_t>(NY) * I, 1.0);
  for (int i = 0; i < I; ++i)
    for (int t = 1; t <= T; ++t)
      ws.index_price[t * I + i] =
          ws.index_price[(t - 1) * I + i] * (1.0 + v[plan.price_change[i][t - 1]]);
  ws.price.assign(static_cast<std::size_t>(NY) * C, 1.0);
  for (int c = 0; c < C; ++c)
    if (const int i = plan.cluster_price[c]; i >= 0)
      for (int t = 1; t <= T; ++t) ws.price[t * C + c] = ws.index_price[t * I + i];
  ws.rest_price.assign(NY, 1.0);
  for (int t = 1; t <= T; ++t)
    ws.rest_price[t] = ws.rest_price[t - 1] * (1.0 + v[plan.rest_price_change[t - 1]]);
  for (int i = 0; i < NY * C; ++i) out.cluster_output[i] = ws.price[i] * ws.yreal[i];
  for (int t = 0; t < NY; ++t)
    for (int p = 0; p < P; ++p)
      out.project_output[t * P + p] =
          ws.price[t * C + plan.project_cluster[p]] * ws.yproj[t * P + p];
}

// Rest of the economy: R_0 = gdp_base - sum v_c base_output_c (must be
// positive), real R*_t = R*_{t-1} (1 + h_t + lambda_R z_t), nominal
// R_t = P_R,t R*_t.
void rest_of_economy(const Plan& plan, const std::vector<double>& v, std::uint64_t draw,
                     RefWorkspace& ws) {
  const Scenario& sc = *plan.scenario;
  const int T = plan.years, C = plan.clusters;
  double industry_va0 = 0.0;
  for (int c = 0; c < C; ++c)
    industry_va0 += v[plan.cluster[c].value_added_ratio] * sc.clusters[c].base_output;
  zeros(ws.rest_real, T + 1);
  ws.rest_real[0] = sc.macro.gdp_base - industry_va0;
  if (!(ws.rest_real[0] > 0)) {
    throw RunError(fmt::format(
        "draw {}: the rest of the economy in {} is {:.3f} 亿元 (macro.gdp_base {} minus "
        "industrial value added {:.3f} = sum of clusters.*.value_added_ratio x base_output); "
        "it must be positive: lower the value-added ratios or base outputs, or raise gdp_base",
        draw, sc.base_year, ws.rest_real[0], sc.macro.gdp_base, industry_va0));
  }
  for (int t = 1; t <= T; ++t)
    ws.rest_real[t] = ws.rest_real[t - 1] *
                      (1.0 + v[plan.rest_growth[t - 1]] + sc.macro.rest_shock_loading * ws.zt[t]);
  ws.rest.resize(T + 1);
  for (int t = 0; t <= T; ++t) ws.rest[t] = ws.rest_price[t] * ws.rest_real[t];
}

// Value added VA_c = v_c Y_c, GDP = R + sum VA, and the three shares, in
// current prices; the same at base-year prices (single deflation: VA*_c =
// VA_c / P_c = v_c Y*_c; GDP* = R* + sum VA*) with the real growth rates (NaN
// in the base year, which has no previous year); the credit inputs are
// reported as metrics too.
void value_added_and_shares(const Plan& plan, const std::vector<double>& v, const RefWorkspace& ws,
                            DrawOutput& out) {
  const Scenario& sc = *plan.scenario;
  const int C = plan.clusters, NY = plan.years + 1;
  const double digital_rest = v[plan.digital_share_of_rest];
  for (int y = 0; y < NY; ++y) {
    double output = 0, va = 0, mva = 0, digital = 0, sei = 0, output_real = 0, va_real = 0;
    for (int c = 0; c < C; ++c) {
      const Cluster& cl = sc.clusters[c];
      const double yc = out.cluster_output[y * C + c];
      const double ratio = v[plan.cluster[c].value_added_ratio];
      const double vac = ratio * yc;
      output += yc;
      va += vac;
      output_real += ws.yreal[y * C + c];
      va_real += ratio * ws.yreal[y * C + c];
      if (cl.manufacturing) mva += vac;
      digital += cl.digital_share * vac;
      sei += cl.strategic_emerging_share * yc;
    }
    const double gdp = ws.rest[y] + va;
    out.metric(Metric::industrial_output, y) = output;
    out.metric(Metric::industrial_value_added, y) = va;
    out.metric(Metric::manufacturing_value_added, y) = mva;
    out.metric(Metric::gdp, y) = gdp;
    out.metric(Metric::manufacturing_va_share, y) = mva / gdp;
    out.metric(Metric::digital_core_va_share, y) = (digital + digital_rest * ws.rest[y]) / gdp;
    out.metric(Metric::strategic_emerging_share, y) = output > 0 ? sei / output : 0.0;
    const double gdp_real = ws.rest_real[y] + va_real;
    out.metric(Metric::industrial_output_real, y) = output_real;
    out.metric(Metric::industrial_value_added_real, y) = va_real;
    out.metric(Metric::gdp_real, y) = gdp_real;
    out.metric(Metric::industrial_va_real_growth, y) =
        y == 0 ? nan : va_real / out.metric(Metric::industrial_value_added_real, y - 1) - 1.0;
    out.metric(Metric::gdp_real_growth, y) =
        y == 0 ? nan : gdp_real / out.metric(Metric::gdp_real, y - 1) - 1.0;
    if (y == 0) {
      out.metric(Metric::new_loans, 0) = nan;
      out.metric(Metric::manufacturing_loan_share, 0) = nan;
    } else {
      out.metric(Metric::new_loans, y) = v[plan.new_loans[y - 1]];
      out.metric(Metric::manufacturing_loan_share, y) = v[plan.loan_share[y - 1]];
    }
  }
}

// Tax: incumbent and induced output at the cluster's rate, direct project
// output at the project's (default: its cluster's).
void industrial_tax(const Plan& plan, const std::vector<double>& v, const RefWorkspace& ws,
                    DrawOutput& out) {
  const int C = plan.clusters, P = plan.projects, NY = plan.years + 1;
  for (int y = 0; y < NY; ++y) {
    double tax = 0;
    for (int c = 0; c < C; ++c) {
      // Nominal: P (Y* - D*); the project's own output is taxed below.
      const double incumbent_and_induced =
          ws.price[y * C + c] * (ws.yreal[y * C + c] - ws.d[y * C + c]);
      tax += v[plan.cluster[c].tax_rate] * incumbent_and_induced;
    }
    for (int p = 0; p < P && y > 0; ++p) {
      const double yp = out.project_output[y * P + p];
      if (yp == 0.0) continue;
      const ProjectSlots& s = plan.project[p];
      tax += v[s.tax_rate >= 0 ? s.tax_rate : plan.cluster[plan.project_cluster[p]].tax_rate] * yp;
    }
    out.metric(Metric::industrial_tax, y) = tax;
  }
}

// Employment, on real output (output per worker is in base-year prices):
// (Y* - D*) / w_{c,t} for incumbents and induced output, plus each project's
// jobs (jobs x Yproj* / K, or Yproj* / w without `jobs`).
void employment(const Plan& plan, const std::vector<double>& v, RefWorkspace& ws, DrawOutput& out) {
  const int C = plan.clusters, P = plan.projects, NY = plan.years + 1;
  const std::vector<ProjectState>& ps = ws.projects;
  // Output per worker w_{c,y} = w_c (1 + g_c)^y, the power without pow():
  // 1, then one more factor (1 + g_c) a year.
  std::vector<double>& factor = ws.growth;
  factor.resize(C);
  for (int y = 0; y < NY; ++y) {
    for (int c = 0; c < C; ++c) {
      const ClusterSlots& s = plan.cluster[c];
      factor[c] = y == 0 ? 1.0 : factor[c] * (1.0 + v[s.productivity_growth]);
      const double incumbent_and_induced = ws.yreal[y * C + c] - ws.d[y * C + c];
      const double w = v[s.output_per_worker] * factor[c];
      out.cluster_employment[y * C + c] = 1e4 * incumbent_and_induced / w;
    }
    for (int p = 0; p < P && y > 0; ++p) {
      const double yp = ws.yproj[y * P + p];
      if (yp == 0.0) continue;
      const int c = plan.project_cluster[p];
      const ProjectSlots& s = plan.project[p];
      double jobs;
      if (s.jobs >= 0) {
        jobs = ps[p].capacity > 0 ? v[s.jobs] * yp / ps[p].capacity : 0.0;
      } else {
        const ClusterSlots& cs = plan.cluster[c];
        jobs = 1e4 * yp / (v[cs.output_per_worker] * factor[c]);
      }
      out.cluster_employment[y * C + c] += jobs;
    }
    double total = 0;
    for (int c = 0; c < C; ++c) total += out.cluster_employment[y * C + c];
    out.metric(Metric::employment, y) = total;
  }
}

// Firm counts: N_t = N_{t-1} + entries - Binomial(N_{t-1}, exit_rate) + n_t,
// n_t the flagged projects (f.flagged) whose production begins in year t. The
// exit uniforms in out.inputs are replaced by the exit counts.
void firm_counts(const Plan& plan, const FirmSlots& f, const FirmSeries& series, Metric metric,
                 RefWorkspace& ws, DrawOutput& out) {
  const int T = plan.years, NY = T + 1;
  std::vector<double>& v = out.inputs;
  if (!f.present) {
    for (int y = 0; y < NY; ++y) out.metric(metric, y) = 0;
    return;
  }
  double n = series.base;
  out.metric(metric, 0) = n;
  const double rate = v[f.exit_rate];
  const double log1m_rate = std::log1p(-rate);  // once for the draw's years
  // opened[t]: flagged projects whose production begins in year t (whole
  // counts, so counting in one pass gives the same doubles).
  std::vector<double>& opened = ws.opened;
  zeros(opened, NY);
  for (const int p : f.flagged) {
    const int o = ws.projects[p].production;
    if (o >= 0 && o < 12 * T) opened[o / 12 + 1] += 1;
  }
  for (int t = 1; t <= T; ++t) {
    const double exits =
        binomial_quantile(static_cast<std::int64_t>(n), rate, v[f.exits[t - 1]], log1m_rate);
    v[f.exits[t - 1]] = exits;
    n = n + v[f.entries[t - 1]] - exits + opened[t];
    out.metric(metric, t) = n;
  }
}

// Targets: the value each compares, and whether the draw meets it.
void evaluate_targets(const Plan& plan, DrawOutput& out) {
  const Scenario& sc = *plan.scenario;
  const int C = plan.clusters;
  for (std::size_t k = 0; k < sc.targets.size(); ++k) {
    const Target& tg = sc.targets[k];
    const int y = tg.year - sc.base_year;
    double value;
    switch (tg.metric) {
      case Metric::cluster_output:
        value = out.cluster_output[y * C + tg.cluster_index];
        break;
      case Metric::clusters_at_least: {
        value = 0;
        for (int c : plan.target_group_clusters[k])
          if (out.cluster_output[y * C + c] >= tg.group_threshold) value += 1;
        break;
      }
      default:
        value = out.metric(tg.metric, y);
    }
    out.target_value[k] = value;
    out.target_met[k] = tg.at_least ? value >= tg.threshold : value <= tg.threshold;
  }
}

// Stops the run (RunError) at the first output, GDP or employment that is not
// a finite number of the right sign, naming the draw, the year and the
// inputs behind it; nothing is written.
void check_draw(const Plan& plan, const std::vector<double>& v, std::uint64_t draw,
                const RefWorkspace& ws, const DrawOutput& out) {
  const Scenario& sc = *plan.scenario;
  const int T = plan.years, C = plan.clusters;
  const char* fix =
      "check the spreads of the growth rates and macro.common_shock.sd (fractions: 0.02 for 2%)";
  for (int t = 0; t <= T; ++t) {
    const int year = sc.base_year + t;
    for (int c = 0; c < C; ++c) {
      const double y = out.cluster_output[static_cast<std::size_t>(t) * C + c];
      if (std::isfinite(y) && y >= 0) continue;
      const double inc = ws.yinc[static_cast<std::size_t>(t) * C + c];
      std::string why;
      if (t > 0)
        why = fmt::format(
            "; incumbent output {:.6g} from growth {:.6g} (clusters.{}.growth) + shock_loading "
            "{:.6g} x common shock {:.6g} (macro.common_shock)",
            inc, v[plan.cluster[c].growth[t - 1]], sc.clusters[c].id, sc.clusters[c].shock_loading,
            ws.zt[t]);
      throw RunError(fmt::format("draw {}: the output of cluster {} in {} is {:.6g} 亿元{}; {}",
                                 draw, sc.clusters[c].id, year, y, why, fix));
    }
    const double gdp = out.metric(Metric::gdp, t);
    if (!(std::isfinite(gdp) && gdp > 0))
      throw RunError(fmt::format(
          "draw {}: GDP in {} is {:.6g} 亿元 (rest of the economy {:.6g}{}); {}", draw, year, gdp,
          ws.rest[t],
          t > 0 ? fmt::format(" from macro.rest_growth {:.6g} + rest_shock_loading {:.6g} x common "
                              "shock {:.6g}",
                              v[plan.rest_growth[t - 1]], sc.macro.rest_shock_loading, ws.zt[t])
                : std::string(),
          fix));
    // v2: with prices, real GDP can differ from nominal; the growth rates'
    // NaN in the base year is by design and not checked.
    const double gdp_real = out.metric(Metric::gdp_real, t);
    if (!(std::isfinite(gdp_real) && gdp_real > 0))
      throw RunError(fmt::format(
          "draw {}: GDP at base-year prices in {} is {:.6g} 亿元 (rest of the economy {:.6g} at "
          "base-year prices, {:.6g} in current prices); the rest's real growth "
          "(macro.rest_growth + rest_shock_loading x common shock) took it below zero: {}",
          draw, year, gdp_real, ws.rest_real[t], ws.rest[t], fix));
    const double jobs = out.metric(Metric::employment, t);
    if (!(std::isfinite(jobs) && jobs >= 0))
      throw RunError(
          fmt::format("draw {}: employment in {} is {:.6g}; check clusters.*.output_per_worker and "
                      "productivity_growth",
                      draw, year, jobs));
  }
}

}  // namespace

void reference_simulate_draw(const Plan& plan, std::uint64_t seed, std::uint64_t draw,
                             RefWorkspace& ws, DrawOutput& out) {
  const Scenario& sc = *plan.scenario;
  const std::vector<double>& v = out.inputs;
  ws.block.inputs(plan, seed, draw, out.inputs);
  common_shock(plan, v, ws);
  incumbent_output(plan, v, ws);
  project_timing(plan, v, ws);
  schedule_factors(plan, v, ws, out);
  project_production(plan, ws, out);
  supply_chain(plan, ws);
  prices(plan, v, ws, out);
  rest_of_economy(plan, v, draw, ws);
  value_added_and_shares(plan, v, ws, out);
  industrial_tax(plan, v, ws, out);
  employment(plan, v, ws, out);
  firm_counts(plan, plan.above_scale, sc.firms.above_scale, Metric::above_scale_firms, ws, out);
  firm_counts(plan, plan.high_tech, sc.firms.high_tech, Metric::high_tech_firms, ws, out);
  check_draw(plan, v, draw, ws, out);
  evaluate_targets(plan, out);
}

}  // namespace countysim::reference

using namespace countysim;

namespace {

using testing::same_bits;

// Draws `first .. first + n - 1` by both models (each with its own workspace,
// reused across draws as the engine does); returns the number of draws that
// differ in any bit or in the error they stop with.
std::size_t compare_models(const Scenario& sc, std::uint64_t first, std::uint64_t n) {
  const Plan plan = compile_plan(sc);
  DrawWorkspace ws;
  reference::RefWorkspace ref_ws;
  DrawOutput a, b;
  a.resize(plan);
  b.resize(plan);
  std::size_t mismatches = 0, errors = 0;
  for (std::uint64_t d = first; d < first + n; ++d) {
    std::string ea, eb;
    try {
      simulate_draw(plan, sc.seed, d, ws, a);
    } catch (const RunError& e) {
      ea = e.what();
    }
    try {
      reference::reference_simulate_draw(plan, sc.seed, d, ref_ws, b);
    } catch (const RunError& e) {
      eb = e.what();
    }
    errors += !eb.empty();
    bool same = ea == eb;
    if (same && eb.empty())
      same = same_bits(a.year_metrics, b.year_metrics) &&
             same_bits(a.cluster_output, b.cluster_output) &&
             same_bits(a.cluster_employment, b.cluster_employment) &&
             same_bits(a.project_output, b.project_output) &&
             same_bits(a.start_month, b.start_month) &&
             same_bits(a.production_month, b.production_month) &&
             same_bits(a.target_value, b.target_value) && same_bits(a.target_met, b.target_met) &&
             same_bits(a.inputs, b.inputs);
    if (!same && mismatches++ < 3)
      FAIL_CHECK("draw " << d << " differs: '" << ea << "' / '" << eb << "'");
  }
  INFO(errors << " invalid draws");
  return mismatches;
}

std::string source(const std::string& path) {
  return std::string(COUNTYSIM_SOURCE_DIR) + "/" + path;
}

}  // namespace

// Three years, three clusters (one with a price index, one without, one
// without projects), a supply chain, and projects that reach every branch of
// timing, scheduling and production (test_model_batch.cpp reads it too).
extern const char* const corner_county;
const char* const corner_county = R"(schema: countysim/2
name: corner county
horizon: {base_year: 2021, last_year: 2024}
simulation: {draws: 1000, seed: 11}
macro:
  gdp_base: 1000
  rest_growth: {dist: normal, mean: 0.05, sd: 0.02}
  rest_shock_loading: 0.5
  rest_price_change: {dist: normal, mean: 0.02, sd: 0.3, min: -0.9}
  common_shock: {sd: 0.05, persistence: 0.5}
  digital_share_of_rest: 0.1
prices:
  - {id: ppi, name: 出厂价格, change: {dist: normal, mean: 0.0, sd: 0.6, min: -0.9}}
finance:
  new_loans: {dist: uniform, min: 5, max: 15}
  manufacturing_loan_share: {dist: uniform, min: 0.1, max: 0.3}
  reference_share: 0.2
  project_credit_fraction: 0.5
land:
  initial_stock_mu: 300
  supply_mu: {dist: uniform, min: 0, max: 400}
clusters:
  - id: a
    name: 甲
    group: g
    base_output: 50
    growth: {dist: normal, mean: 0.05, sd: 0.1}
    shock_loading: 1
    credit_elasticity: 0.5
    value_added_ratio: {dist: uniform, min: 0.2, max: 0.3}
    tax_rate: {dist: uniform, min: 0.01, max: 0.03}
    output_per_worker: {dist: uniform, min: 40, max: 60}
    productivity_growth: {dist: normal, mean: 0.03, sd: 0.05}
    price_index: ppi
    manufacturing: true
    digital_share: 0.3
    strategic_emerging_share: 0.5
  - id: b
    name: 乙
    group: g
    base_output: 30
    growth: {dist: normal, mean: 0.02, sd: 0.5}
    value_added_ratio: 0.3
    tax_rate: 0.02
    output_per_worker: 100
    productivity_growth: 0
  - id: c
    name: 丙
    group: h
    base_output: 20
    growth: 0.01
    value_added_ratio: 0.4
    tax_rate: 0.01
    output_per_worker: 80
    productivity_growth: 0.01
supply_chain:
  b: {a: 0.2, c: 0.1}
  a: {b: 0.1}
  c: {a: 0.05}
projects:
  - id: ramped
    name: 渐进
    cluster: a
    planned_start: 2022-03
    start_delay_months: {dist: discrete, values: [0, 3, 6, 12], probs: [0.3, 0.3, 0.25, 0.15]}
    construction_months: {dist: uniform, min: 0, max: 20}
    ramp_months: {dist: uniform, min: 0, max: 30}
    capacity_output: {dist: uniform, min: 5, max: 20}
    success_probability: 0.8
    land_mu: 200
    investment: 10
    loan_share: 0.2
    jobs: 500
    new_firm: true
    high_tech: true
    priority: 1
  - id: instant
    name: 即产
    cluster: a
    planned_start: 2022-01
    construction_months: {dist: uniform, min: 0, max: 8}
    ramp_months: 0
    capacity_output: 4
    tax_rate: {dist: uniform, min: 0.0, max: 0.05}
    land_mu: 100
    investment: 2
    priority: 2
  - id: short-ramp
    name: 短爬坡
    cluster: b
    planned_start: 2022-07
    start_delay_months: {dist: uniform, min: 0, max: 9}
    construction_months: 2
    ramp_months: {dist: uniform, min: 0, max: 1.5}
    capacity_output: {dist: uniform, min: 1, max: 3}
    success_probability: 0.6
    land_mu: 150
    investment: 3
    new_firm: true
    priority: 2
  - id: long-ramp
    name: 长爬坡
    cluster: b
    planned_start: 2019-06
    construction_months: {dist: uniform, min: 0, max: 30}
    ramp_months: 100
    capacity_output: 8
    land_mu: 50
    investment: 1
    jobs: 300
    high_tech: true
    priority: 1
  - id: zero-capacity
    name: 零产能
    cluster: a
    planned_start: 2023-02
    construction_months: 1
    ramp_months: {dist: uniform, min: 0, max: 5}
    capacity_output: 0
    jobs: 100
    land_mu: 80
    investment: 1
    priority: 3
  - id: tie-1
    name: 同级一
    cluster: b
    planned_start: 2022-05
    start_delay_months: {dist: uniform, min: 0, max: 14}
    construction_months: {dist: uniform, min: 3, max: 12}
    ramp_months: {dist: uniform, min: 2, max: 14}
    capacity_output: {dist: uniform, min: 2, max: 6}
    success_probability: 0.7
    land_mu: 250
    investment: 8
    loan_share: 0.5
    priority: 3
  - id: tie-2
    name: 同级二
    cluster: a
    planned_start: 2022-05
    start_delay_months: {dist: uniform, min: 0, max: 14}
    construction_months: {dist: uniform, min: 3, max: 12}
    ramp_months: {dist: uniform, min: 2, max: 14}
    capacity_output: {dist: uniform, min: 2, max: 6}
    success_probability: 0.7
    land_mu: 250
    investment: 8
    loan_share: 0.5
    priority: 3
  - id: late
    name: 迟到
    cluster: a
    planned_start: 2024-11
    start_delay_months: {dist: uniform, min: 0, max: 3}
    construction_months: 0
    ramp_months: 1
    capacity_output: 5
    land_mu: 10
    investment: 0.5
    priority: 0
firms:
  above_scale: {base: 100, entries: {dist: poisson, mean: 5}, exit_rate: {dist: uniform, min: 0.01, max: 0.05}}
  high_tech: {base: 10, entries: {dist: poisson, mean: 2}, exit_rate: 0.05}
targets:
  - {id: out, label: 产值, metric: industrial_output, year: 2024, at_least: 150}
  - {id: ca, label: 甲, metric: cluster_output, cluster: a, year: 2023, at_least: 60}
  - {id: grp, label: 群, metric: clusters_at_least, group: g, threshold: 40, year: 2024, at_least: 2}
  - {id: emp, label: 就业, metric: employment, year: 2024, at_most: 20000}
)";

TEST_CASE("simulate_draw gives the reference model's bits on the repository's scenarios",
          "[model][reference]") {
  for (const char* path : testing::kRepositoryScenarios) {
    INFO(path);
    const Scenario sc = load_scenario(source(path));
    CHECK(compare_models(sc, 0, 1500) == 0);
    CHECK(compare_models(sc, 987654321, 200) == 0);
  }
}

TEST_CASE("simulate_draw gives the reference model's bits in the corner cases",
          "[model][reference]") {
  const Scenario sc = load_scenario_text(corner_county, "corner.yaml");
  CHECK(compare_models(sc, 0, 6000) == 0);
  // Without the supply chain and the prices (v1 paths).
  Scenario plain = sc;
  plain.supply_chain.clear();
  CHECK(compare_models(plain, 0, 2000) == 0);
}

TEST_CASE("simulate_draw gives the reference model's bits with mixed priorities and early plans",
          "[model][reference]") {
  Scenario sc = load_scenario(source("scenarios/taojiang-2022.yaml"));
  for (std::size_t p = 0; p < sc.projects.size(); ++p) {
    if (p % 3 == 0) sc.projects[p].planned_start_month -= 20;
    if (p % 4 == 1) sc.projects[p].priority = -7;
    if (p % 5 == 2) sc.projects[p].land_mu *= 3;
  }
  CHECK(compare_models(sc, 0, 3000) == 0);
}

TEST_CASE("simulate_draw gives the reference model's bits when projects wait for the pools",
          "[model][reference]") {
  // Scarce land and credit and readiness spread over the months, so that
  // projects fail to fit and others become ready later in the same year:
  // schedule_factors tries a project that did not fit only once a year.
  for (const double stock : {0.0, 300.0, 900.0}) {
    for (const double fraction : {0.05, 0.2}) {
      Scenario sc = load_scenario(source("scenarios/taojiang-2022.yaml"));
      sc.land.initial_stock_mu = stock;
      sc.finance.project_credit_fraction = fraction;
      for (std::size_t p = 0; p < sc.projects.size(); ++p) {
        sc.projects[p].planned_start_month += static_cast<int>(p * 5 % 11);
        if (p % 3 == 0) sc.projects[p].land_mu *= 0.25;
      }
      INFO("stock " << stock << ", credit fraction " << fraction);
      CHECK(compare_models(sc, 0, 1500) == 0);
    }
  }
}

TEST_CASE("a capacity times zero, divided by 12, is the product itself, bit for bit",
          "[model][reference]") {
  // project_production writes K x 0 for the years before production where
  // model.md has K x 0 / 12.
  const double inf = std::numeric_limits<double>::infinity();
  for (const double k :
       {0.0, -0.0, 1.0, -1.0, 60.0, 1e-310, -1e-310, 1e308, -1e308, inf, -inf,
        std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN()}) {
    volatile double twelve = 12.0;  // the division at run time, as in the model
    const double a = k * 0.0, b = k * 0.0 / twelve;
    INFO("k = " << k);
    CHECK(std::memcmp(&a, &b, sizeof a) == 0);
  }
}

// corner_county run to 2031 (test_model_batch.cpp uses it too).
Scenario corner_county_over_ten_years();
Scenario corner_county_over_ten_years() {
  std::string text = corner_county;
  const std::string from = "last_year: 2024", to = "last_year: 2031";
  const std::size_t at = text.find(from);
  if (at == std::string::npos) throw std::logic_error("corner_county has no last_year: 2024");
  text.replace(at, from.size(), to);
  return load_scenario_text(text, "corner-long.yaml");
}

TEST_CASE("simulate_draw gives the reference model's bits over a horizon of ten years",
          "[model][reference]") {
  // A horizon longer than the repository scenarios' (every per-year array,
  // and the firm openings' count of each year, past seven years).
  const Scenario sc = corner_county_over_ten_years();
  REQUIRE(sc.years() == 10);
  CHECK(compare_models(sc, 0, 3000) == 0);
}
