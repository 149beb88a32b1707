#include "countysim/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace countysim {

void DrawOutput::resize(const Plan& plan) {
  years = plan.years;
  clusters = plan.clusters;
  projects = plan.projects;
  targets = static_cast<int>(plan.scenario->targets.size());
  const int ny = years + 1;
  year_metrics.assign(static_cast<std::size_t>(year_metric_count) * ny, 0.0);
  cluster_output.assign(static_cast<std::size_t>(ny) * clusters, 0.0);
  cluster_employment.assign(static_cast<std::size_t>(ny) * clusters, 0.0);
  project_output.assign(static_cast<std::size_t>(ny) * projects, 0.0);
  start_month.assign(projects, -1);
  production_month.assign(projects, -1);
  target_value.assign(targets, 0.0);
  target_met.assign(targets, 0);
  inputs.assign(plan.slots.size(), 0.0);
}

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
void common_shock(const Plan& plan, const std::vector<double>& v, DrawWorkspace& ws) {
  const int T = plan.years;
  zeros(ws.zt, T + 1);
  for (int t = 1; t <= T; ++t)
    ws.zt[t] = plan.scenario->macro.shock_persistence * ws.zt[t - 1] + v[plan.shock[t - 1]];
}

// Incumbent output: Yinc_{c,t} = Yinc_{c,t-1} (1 + G + lambda z + kappa (s - s_ref)).
void incumbent_output(const Plan& plan, const std::vector<double>& v, DrawWorkspace& ws) {
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
void project_timing(const Plan& plan, const std::vector<double>& v, DrawWorkspace& ws) {
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
void schedule_factors(const Plan& plan, const std::vector<double>& v, DrawWorkspace& ws,
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
void project_production(const Plan& plan, DrawWorkspace& ws, DrawOutput& out) {
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
void supply_chain(const Plan& plan, DrawWorkspace& ws) {
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
void prices(const Plan& plan, const std::vector<double>& v, DrawWorkspace& ws, DrawOutput& out) {
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
                     DrawWorkspace& ws) {
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
void value_added_and_shares(const Plan& plan, const std::vector<double>& v, const DrawWorkspace& ws,
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
void industrial_tax(const Plan& plan, const std::vector<double>& v, const DrawWorkspace& ws,
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
void employment(const Plan& plan, const std::vector<double>& v, DrawWorkspace& ws,
                DrawOutput& out) {
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
                 DrawWorkspace& ws, DrawOutput& out) {
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
                const DrawWorkspace& ws, const DrawOutput& out) {
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

void simulate_draw(const Plan& plan, std::uint64_t seed, std::uint64_t draw, DrawWorkspace& ws,
                   DrawOutput& out) {
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

}  // namespace countysim
