#include "countysim/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "model_stages.hpp"

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

namespace model_stages {

// The stages of model.md "One draw", in order. Each reads the sampled inputs
// `v` (slot values) and what earlier stages left in the workspace or output.

// Lays out what the draws need from the plan once per plan (and sizes the
// workspace), so that a draw neither walks the scenario's structs nor
// allocates.
void prepare(const Plan& plan, DrawWorkspace& ws) {
  const Scenario& sc = *plan.scenario;
  const int T = plan.years, C = plan.clusters, P = plan.projects, NY = T + 1;
  // Slots by [year][cluster] and [year][index], cluster constants by cluster.
  const int I = static_cast<int>(plan.price_change.size());
  ws.growth_slot.resize(static_cast<std::size_t>(T) * C);
  ws.price_slot.resize(static_cast<std::size_t>(T) * I);
  for (int t = 0; t < T; ++t) {
    for (int c = 0; c < C; ++c) ws.growth_slot[t * C + c] = plan.cluster[c].growth[t];
    for (int i = 0; i < I; ++i) ws.price_slot[t * I + i] = plan.price_change[i][t];
  }
  ws.shock_loading.resize(C);
  ws.credit_elasticity.resize(C);
  for (int c = 0; c < C; ++c) {
    ws.shock_loading[c] = sc.clusters[c].shock_loading;
    ws.credit_elasticity[c] = sc.clusters[c].credit_elasticity;
  }
  ws.manufacturing.resize(C);
  ws.digital_share.resize(C);
  ws.sei_share.resize(C);
  for (int c = 0; c < C; ++c) {
    const Cluster& cl = sc.clusters[c];
    ws.manufacturing[c] = cl.manufacturing;
    ws.digital_share[c] = cl.digital_share;
    ws.sei_share[c] = cl.strategic_emerging_share;
  }
  ws.planned.resize(P);
  for (int p = 0; p < P; ++p) ws.planned[p] = sc.projects[p].planned_start_month;
  ws.land_mu.resize(P);
  ws.need_credit.resize(P);
  for (int p = 0; p < P; ++p) {
    const Project& pr = sc.projects[p];
    ws.land_mu[p] = pr.land_mu;
    ws.need_credit[p] = pr.investment * pr.loan_share;
  }
  ws.land_from.resize(P);
  ws.credit_from.resize(P);
  for (int p = 0; p < P; ++p) {
    ws.land_from[p] = covers_from(ws.land_mu[p]);
    ws.credit_from[p] = covers_from(ws.need_credit[p]);
  }
  // The projects by (priority rank, planned start, index): each draw's keys
  // (priority rank, ready, index) come out nearly sorted in this order, as a
  // delay only moves a project later.
  ws.static_keys.clear();
  if (static_cast<int>(plan.priority_rank.size()) == P && P <= 0xffff) {
    for (int p = 0; p < P; ++p)
      ws.static_keys.push_back(
          static_cast<std::uint64_t>(plan.priority_rank[p]) << 48 |
          static_cast<std::uint64_t>(
              static_cast<std::uint32_t>(sc.projects[p].planned_start_month) ^ 0x80000000u)
              << 16 |
          static_cast<std::uint64_t>(p));
    std::sort(ws.static_keys.begin(), ws.static_keys.end());
  }
  ws.months.resize(12 * T);
  for (int i = 0; i < 12 * T; ++i) ws.months[i] = i + 1;
  ws.ramp.resize(12 * T);
  ws.ramp_seen.assign(P, ~std::uint64_t{0});
  ws.ramp_tabled.assign(P, ~std::uint64_t{0});
  ws.ramp_sums.resize(static_cast<std::size_t>(P) * 12 * T);
  ws.ramp_rows.resize(static_cast<std::size_t>(P) * 12 * T * T);
  ws.wake.resize((12 * T + 63) / 64);
  ws.projects.resize(P);
  ws.zt.resize(NY);
  ws.yinc.resize(static_cast<std::size_t>(NY) * C);
  ws.d.resize(static_cast<std::size_t>(NY) * C);
  ws.x.resize(static_cast<std::size_t>(NY) * C);
  ws.yreal.resize(static_cast<std::size_t>(NY) * C);
  ws.yproj.resize(static_cast<std::size_t>(NY) * P);
  ws.rest.resize(NY);
  ws.rest_real.resize(NY);
  ws.price.resize(static_cast<std::size_t>(NY) * C);
  ws.rest_price.resize(NY);
  ws.opened.resize(NY);
  ws.growth.resize(C);
  ws.ratio.resize(C);
  ws.tax.resize(C);
  ws.per_worker.resize(C);
  ws.productivity.resize(C);
  ws.project_tax.resize(P);
  ws.counts.resize(2 * static_cast<std::size_t>(NY) + 2);
  ws.ready_at.resize(12 * T);
  ws.levels.resize(static_cast<std::size_t>(NY) * (plan.price_change.size() + 1));
  ws.producing.reserve(P);
  ws.order.reserve(P);
  ws.order_keys.resize(P);
  ws.waiting.reserve(P);
  ws.prepared_for = plan.id;
}

// County-wide shock, AR(1): z_0 = 0, z_t = rho z_{t-1} + e_t.
void common_shock(const Plan& plan, const std::vector<double>& v, DrawWorkspace& ws) {
  const int T = plan.years;
  double* zt = ws.zt.data();
  zt[0] = 0.0;
  for (int t = 1; t <= T; ++t)
    zt[t] = plan.scenario->macro.shock_persistence * zt[t - 1] + v[plan.shock[t - 1]];
}

// The per-draw inputs of each cluster and project, read from their slots once.
void gather_inputs(const Plan& plan, const std::vector<double>& v, DrawWorkspace& ws) {
  const int C = plan.clusters, P = plan.projects;
  for (int c = 0; c < C; ++c) {
    const ClusterSlots& s = plan.cluster[c];
    ws.ratio[c] = v[s.value_added_ratio];
    ws.tax[c] = v[s.tax_rate];
    ws.per_worker[c] = v[s.output_per_worker];
    ws.productivity[c] = 1.0 + v[s.productivity_growth];
  }
  for (int p = 0; p < P; ++p) {
    const int slot = plan.project[p].tax_rate;
    ws.project_tax[p] = slot >= 0 ? v[slot] : ws.tax[plan.project_cluster[p]];
  }
}

// Incumbent output: Yinc_{c,t} = Yinc_{c,t-1} (1 + G + lambda z + kappa (s - s_ref)).
void incumbent_output(const Plan& plan, const std::vector<double>& v, DrawWorkspace& ws) {
  const Scenario& sc = *plan.scenario;
  const int T = plan.years, C = plan.clusters;
  double* yinc = ws.yinc.data();
  const double* shock_loading = ws.shock_loading.data();
  const double* credit_elasticity = ws.credit_elasticity.data();
  for (int c = 0; c < C; ++c) yinc[c] = sc.clusters[c].base_output;
  for (int t = 1; t <= T; ++t) {
    const double credit = v[plan.loan_share[t - 1]] - sc.finance.reference_share;
    const double z = ws.zt[t];
    const int* growth = ws.growth_slot.data() + (t - 1) * C;
    for (int c = 0; c < C; ++c) {
      const double g = v[growth[c]] + shock_loading[c] * z + credit_elasticity[c] * credit;
      yinc[t * C + c] = yinc[(t - 1) * C + c] * (1.0 + g);
    }
  }
}

// Projects: success, readiness r_p = planned + delay, rounded months; the
// successful ones in scheduling order (priority, r_p, file order).
void project_timing(const Plan& plan, const std::vector<double>& v, DrawWorkspace& ws) {
  const int P = plan.projects;
  ProjectState* ps = ws.projects.data();
  const int* planned = ws.planned.data();
  for (int p = 0; p < P; ++p) {
    const ProjectSlots& s = plan.project[p];
    ProjectState& st = ps[p];
    st.success = v[s.success] > 0.5;
    const int delay = std::max(0, static_cast<int>(round_half_away(v[s.delay])));
    st.ready = planned[p] + delay;
    st.construction = std::max(0, static_cast<int>(round_half_away(v[s.construction])));
    st.ramp = std::max(0.0, v[s.ramp]);
    st.capacity = v[s.capacity];
    st.start = st.production = -1;
  }
  scheduling_order(plan, ws);
}

void scheduling_order(const Plan& plan, DrawWorkspace& ws) {
  const Scenario& sc = *plan.scenario;
  const int P = plan.projects;
  const ProjectState* ps = ws.projects.data();
  if (!ws.static_keys.empty()) {
    // One 64-bit key a project, (priority rank, ready, p) from the high bits
    // down (ready offset by 2^31 to sort as unsigned): the same order as the
    // comparison below (the keys are distinct), without its indirections.
    // The successful projects' keys, taken in the prepared order (each one
    // written, kept if the project goes ahead: no branch on chance), need few
    // moves of an insertion sort.
    std::uint64_t* keys = ws.order_keys.data();
    int n = 0;
    for (const std::uint64_t k0 : ws.static_keys) {
      const int p = static_cast<int>(k0 & 0xffff);
      keys[n] = (k0 & 0xffff00000000ffffULL) |
                static_cast<std::uint64_t>(static_cast<std::uint32_t>(ps[p].ready) ^ 0x80000000u)
                    << 16;
      n += ps[p].success;
    }
    for (int i = 1; i < n; ++i) {
      const std::uint64_t key = keys[i];
      int j = i;
      for (; j > 0 && keys[j - 1] > key; --j) keys[j] = keys[j - 1];
      keys[j] = key;
    }
    ws.order.resize(n);
    for (int i = 0; i < n; ++i) ws.order[i] = static_cast<int>(keys[i] & 0xffff);
    return;
  }
  ws.order.clear();
  for (int p = 0; p < P; ++p)
    if (ps[p].success) ws.order.push_back(p);
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
  const int T = plan.years, M = 12 * T;
  ProjectState* ps = ws.projects.data();
  const double* land_mu = ws.land_mu.data();
  const double* need_credit = ws.need_credit.data();
  const double* land_from = ws.land_from.data();
  const double* credit_from = ws.credit_from.data();
  double land = sc.land.initial_stock_mu, credit = 0.0;
  // Within a year the pools only shrink, and covering is monotone in the
  // pool: a project that did not fit in month m does not fit later in the
  // year. So a month can start a project only in January (top-up) or when a
  // project becomes ready in it (a bit of `wake`); the other months are
  // skipped.
  std::uint64_t* wake = ws.wake.data();
  std::fill_n(wake, ws.wake.size(), std::uint64_t{0});
  // The next month after m, before `end`, in which a project becomes ready
  // (end if none).
  const auto next_month = [wake](int m, int end) {
    for (int next = m + 1; next < end; next = (next | 63) + 1) {
      const std::uint64_t bits = wake[next >> 6] >> (next & 63);
      if (bits != 0) return std::min(end, next + __builtin_ctzll(bits));
    }
    return end;
  };
  // A project that fits starts in month m and draws the pools down.
  double used = 0.0;  // land used this year
  const auto try_start = [&](int p, int m) {
    // Both pools against their thresholds (covers_from), one branch.
    if (!((land >= land_from[p]) & (credit >= credit_from[p]))) return false;
    ps[p].start = m;
    land = std::max(0.0, land - land_mu[p]);
    credit = std::max(0.0, credit - need_credit[p]);
    used += land_mu[p];
    return true;
  };
  const std::size_t n_order = ws.order.size();
  // Up to 64 projects: the ready ones not started yet are bits of one word,
  // bit i for the i-th project in scheduling order, so a month walks over
  // those alone, in that order. More: the projects not started yet, in
  // scheduling order (started ones are dropped, so later months do not walk
  // over them).
  const bool as_bits = n_order <= 64;
  std::uint64_t* ready_at = ws.ready_at.data();
  std::uint64_t pending = 0, left = 0;
  std::vector<int>& waiting = ws.waiting;
  if (as_bits) {
    // wake and ready_at in one pass, without branches on the months: a
    // project ready past the horizon (or, for wake, by month 0) ORs a zero.
    std::fill_n(ready_at, ws.ready_at.size(), std::uint64_t{0});
    for (std::size_t i = 0; i < n_order; ++i) {
      const int ready = ps[ws.order[i]].ready;
      const int r = std::max(0, ready);
      const bool inside = r < M;
      const int at = inside ? r : 0;
      ready_at[at] |= std::uint64_t{inside} << i;
      wake[at >> 6] |= static_cast<std::uint64_t>(inside & (ready > 0)) << (at & 63);
    }
    left = n_order == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n_order) - 1;
  } else {
    for (const int p : ws.order) {
      const int r = ps[p].ready;
      if (r > 0 && r < M) wake[r >> 6] |= std::uint64_t{1} << (r & 63);
    }
    waiting.assign(ws.order.begin(), ws.order.end());
  }
  for (int t = 1; t <= T; ++t) {
    const double supply = v[plan.land_supply[t - 1]];
    land += supply;
    credit +=
        sc.finance.project_credit_fraction * v[plan.new_loans[t - 1]] * v[plan.loan_share[t - 1]];
    out.metric(Metric::land_supplied_mu, t) = supply;
    used = 0.0;
    const int end = 12 * t;
    if (as_bits) {
      // For the same reason a project that did not fit this year is not
      // tried again before January: after a month, the ones still pending
      // did not fit (failed), and a later month tries the newly ready alone.
      std::uint64_t failed = 0;
      for (int m = end - 12; m < end && left != 0; m = next_month(m, end)) {
        pending |= ready_at[m];
        for (std::uint64_t bits = pending & ~failed; bits != 0; bits &= bits - 1) {
          const int i = __builtin_ctzll(bits);
          if (try_start(ws.order[i], m)) {
            pending &= ~(std::uint64_t{1} << i);
            left &= ~(std::uint64_t{1} << i);
          }
        }
        failed = pending;
      }
    } else {
      for (int m = end - 12; m < end && !waiting.empty(); m = next_month(m, end)) {
        std::size_t kept = 0;
        for (const int p : waiting)
          if (!(ps[p].ready <= m && try_start(p, m))) waiting[kept++] = p;
        waiting.resize(kept);
      }
    }
    out.metric(Metric::land_used_mu, t) = used;
    out.metric(Metric::land_stock_mu, t) = land;
  }
  out.metric(Metric::land_supplied_mu, 0) = nan;
  out.metric(Metric::land_used_mu, 0) = nan;
  out.metric(Metric::land_stock_mu, 0) = sc.land.initial_stock_mu;
}

// Price levels (v2): P_0 = 1, P_t = P_{t-1} (1 + pi_t) for each index; a
// cluster takes its index's level (1 without one), the rest its deflator.
// Without prices every level is exactly 1 and nominal equals real bit for bit.
void price_levels(const Plan& plan, const std::vector<double>& v, DrawWorkspace& ws) {
  const int T = plan.years, C = plan.clusters, NY = T + 1;
  const int I = static_cast<int>(plan.price_change.size());
  // levels[t][1 + i]: index i's level in year t; levels[t][0] = 1 for the
  // clusters without an index.
  double* levels = ws.levels.data();
  for (int i = 0; i <= I; ++i) levels[i] = 1.0;
  for (int t = 1; t <= T; ++t) {
    double* row = levels + t * (I + 1);
    row[0] = 1.0;
    const int* slot = ws.price_slot.data() + (t - 1) * I;
    for (int i = 0; i < I; ++i) row[1 + i] = row[1 + i - (I + 1)] * (1.0 + v[slot[i]]);
  }
  double* price = ws.price.data();
  const int* cluster_price = plan.cluster_price.data();
  for (int t = 0; t < NY; ++t) {
    const double* row = levels + t * (I + 1) + 1;
    for (int c = 0; c < C; ++c) price[t * C + c] = row[cluster_price[c]];
  }
  double* rp = ws.rest_price.data();
  rp[0] = 1.0;
  for (int t = 1; t <= T; ++t) rp[t] = rp[t - 1] * (1.0 + v[plan.rest_price_change[t - 1]]);
}

// Production: linear ramp from O_p over R_p months; yearly output K x mean
// fraction (real: K is in base-year prices), summed by cluster into D_t;
// nominal project output P x real.
void project_production(const Plan& plan, DrawWorkspace& ws, DrawOutput& out) {
  const int T = plan.years, C = plan.clusters, P = plan.projects, NY = T + 1, M = 12 * T;
  ProjectState* ps = ws.projects.data();
  double* yproj = ws.yproj.data();
  double* d = ws.d.data();
  double* po = out.project_output.data();
  const double* price = ws.price.data();
  std::fill_n(yproj, static_cast<std::size_t>(NY) * P, 0.0);  // (fill_n: P may be 0)
  std::fill_n(d, static_cast<std::size_t>(NY) * C, 0.0);
  // Nominal output P x +0 of a year without production is +0 when every
  // price level is positive and finite (always, but for nonsense inputs);
  // year 0 has price 1.
  std::fill_n(po, static_cast<std::size_t>(NY) * P, 0.0);
  const bool prices_positive = all_finite_nonnegative<true>(
      ws.levels.data(), NY * (static_cast<int>(plan.price_change.size()) + 1));
  // Counts of projects started and producing, by the year they begin to
  // count (then summed up the years).
  int* started = ws.counts.data();
  int* producing = started + NY + 1;
  std::fill_n(started, ws.counts.size(), 0);
  double* q = ws.ramp.data();
  const double* months = ws.months.data();
  ws.producing.clear();
  int* start_month = out.start_month.data();
  int* production_month = out.production_month.data();
  // Project p's real output y in year t, its cluster's sum and its nominal output.
  const auto put = [&](int p, int c, int t, double y) {
    yproj[t * P + p] = y;
    d[t * C + c] += y;
    po[t * P + p] = price[t * C + c] * y;
  };
  for (int p = 0; p < P; ++p) {
    ProjectState& st = ps[p];
    const int c = plan.project_cluster[p];
    start_month[p] = st.start;
    production_month[p] = -1;
    if (st.start < 0) {
      if (!prices_positive)
        for (int t = 1; t <= T; ++t) po[t * P + p] = price[t * C + c] * 0.0;
      continue;
    }
    const int o = st.production = st.start + st.construction;
    production_month[p] = o;
    // start <= 12 t - 1 from the year of the start on; 12 t - 1 >= O from
    // the year of O on.
    ++started[st.start / 12 + 1];
    ++producing[std::min(o / 12 + 1, NY)];
    const double capacity = st.capacity;
    // The years before the first month of production: K x 0 / 12, which is
    // K x 0 itself (a zero divided by 12 keeps its sign; a NaN stays the
    // same NaN), without the division. When that is +0 (a capacity that is
    // not negative) it leaves the zero filled output as it is and the
    // cluster's sum too (which starts at +0, so is never -0), and so do the
    // nominal +0 of positive prices.
    const double y0 = capacity * 0.0;
    const int first = o >= M ? NY : o / 12 + 1;
    if (!(y0 == 0.0 && !std::signbit(y0) && prices_positive))
      for (int t = 1; t < first; ++t) put(p, c, t, y0);
    if (o >= M) {
      if (y0 != 0.0) ws.producing.push_back(p);  // a NaN capacity
      continue;
    }
    ws.producing.push_back(p);
    const double* sums = ramp_table(ws, p, st.ramp, M);
    const int n = sums ? 0 : ramp_fractions(st.ramp, M - o, months, q);
    for (int t = first; t <= T; ++t) put(p, c, t, capacity * year_months(sums, q, o, n, t) / 12.0);
  }
  int n_started = 0, n_producing = 0;
  for (int y = 0; y < NY; ++y) {
    n_started += started[y];
    n_producing += producing[y];
    out.metric(Metric::projects_started, y) = n_started;
    out.metric(Metric::projects_producing, y) = n_producing;
  }
}

// Local supply chain on real quantities: X_t = (I - A)^-1 D_t; real cluster
// output Y* = Yinc* + X; nominal cluster output P x Y*.
void supply_chain(const Plan& plan, DrawWorkspace& ws, DrawOutput& out) {
  const int T = plan.years, C = plan.clusters, NY = T + 1;
  double* xs = ws.x.data();
  std::fill_n(xs, static_cast<std::size_t>(NY) * C, 0.0);
  for (int t = 1; t <= T; ++t) {
    double* x = xs + static_cast<std::size_t>(t) * C;
    const double* d = ws.d.data() + static_cast<std::size_t>(t) * C;
    if (plan.has_supply_chain) {
      // Column by column, two rows at a time (Eigen stores L by columns):
      // each x_i adds its terms in the order j = 0 .. C-1 to +0, a multiply
      // and an add each, the same bits. A column with d_j = 0 is skipped:
      // its terms are zeros, which leave a sum that starts at +0 unchanged
      // (it cannot become -0).
      const double* l = plan.leontief.data();
      for (int j = 0; j < C; ++j) {
        const double dj = d[j];
        if (dj == 0.0) continue;
        const double* col = l + static_cast<std::size_t>(j) * C;
        int i = 0;
#if defined(__SSE2__)
        const __m128d b = _mm_set1_pd(dj);
        for (; i + 2 <= C; i += 2)
          _mm_storeu_pd(x + i,
                        _mm_add_pd(_mm_loadu_pd(x + i), _mm_mul_pd(_mm_loadu_pd(col + i), b)));
#endif
        for (; i < C; ++i) x[i] += col[i] * dj;
      }
    } else {
      for (int i = 0; i < C; ++i) x[i] = d[i];
    }
  }
  const double* yinc = ws.yinc.data();
  const double* price = ws.price.data();
  double* yreal = ws.yreal.data();
  double* co = out.cluster_output.data();
  int i = 0;
#if defined(__SSE2__)
  for (; i + 2 <= NY * C; i += 2) {
    const __m128d y = _mm_add_pd(_mm_loadu_pd(yinc + i), _mm_loadu_pd(xs + i));
    _mm_storeu_pd(yreal + i, y);
    _mm_storeu_pd(co + i, _mm_mul_pd(_mm_loadu_pd(price + i), y));
  }
#endif
  for (; i < NY * C; ++i) {
    yreal[i] = yinc[i] + xs[i];
    co[i] = price[i] * yreal[i];
  }
}

// Rest of the economy: R_0 = gdp_base - sum v_c base_output_c (must be
// positive), real R*_t = R*_{t-1} (1 + h_t + lambda_R z_t), nominal
// R_t = P_R,t R*_t.
void rest_of_economy(const Plan& plan, const std::vector<double>& v, std::uint64_t draw,
                     DrawWorkspace& ws) {
  const Scenario& sc = *plan.scenario;
  const int T = plan.years, C = plan.clusters;
  double industry_va0 = 0.0;
  for (int c = 0; c < C; ++c) industry_va0 += ws.ratio[c] * sc.clusters[c].base_output;
  double* rest_real = ws.rest_real.data();
  rest_real[0] = sc.macro.gdp_base - industry_va0;
  if (!(rest_real[0] > 0)) {
    throw RunError(fmt::format(
        "draw {}: the rest of the economy in {} is {:.3f} 亿元 (macro.gdp_base {} minus "
        "industrial value added {:.3f} = sum of clusters.*.value_added_ratio x base_output); "
        "it must be positive: lower the value-added ratios or base outputs, or raise gdp_base",
        draw, sc.base_year, rest_real[0], sc.macro.gdp_base, industry_va0));
  }
  for (int t = 1; t <= T; ++t)
    rest_real[t] = rest_real[t - 1] *
                   (1.0 + v[plan.rest_growth[t - 1]] + sc.macro.rest_shock_loading * ws.zt[t]);
  for (int t = 0; t <= T; ++t) ws.rest[t] = ws.rest_price[t] * rest_real[t];
}

// The sums over clusters and projects of each year, in one pass over them
// (each sum adds its terms in the order it always did):
// Value added VA_c = v_c Y_c, GDP = R + sum VA, and the three shares, in
// current prices; the same at base-year prices (single deflation: VA*_c =
// VA_c / P_c = v_c Y*_c; GDP* = R* + sum VA*) with the real growth rates (NaN
// in the base year, which has no previous year); the credit inputs are
// reported as metrics too.
// Tax: incumbent and induced output at the cluster's rate, direct project
// output at the project's (default: its cluster's).
// Employment, on real output (output per worker is in base-year prices):
// (Y* - D*) / w_{c,t} for incumbents and induced output, plus each project's
// jobs (jobs x Yproj* / K, or Yproj* / w without `jobs`).
void year_sums(const Plan& plan, const std::vector<double>& v, DrawWorkspace& ws, DrawOutput& out) {
  const int C = plan.clusters, P = plan.projects, NY = plan.years + 1;
  const double digital_rest = v[plan.digital_share_of_rest];
  const double* ratio = ws.ratio.data();
  const double* rate = ws.tax.data();
  const double* project_rate = ws.project_tax.data();
  const char* manufacturing = ws.manufacturing.data();
  const double* digital_share = ws.digital_share.data();
  const double* sei_share = ws.sei_share.data();
  const ProjectState* ps = ws.projects.data();
  // Output per worker w_{c,y} = w_c (1 + g_c)^y, the power without pow():
  // 1, then one more factor (1 + g_c) a year.
  double* factor = ws.growth.data();
  const double* per_worker = ws.per_worker.data();
  const double* productivity = ws.productivity.data();
  double* metrics = out.year_metrics.data();
  const auto row = [&](Metric m) { return metrics + static_cast<int>(m) * NY; };
  double* m_output = row(Metric::industrial_output);
  double* m_va = row(Metric::industrial_value_added);
  double* m_mva = row(Metric::manufacturing_value_added);
  double* m_gdp = row(Metric::gdp);
  double* m_mva_share = row(Metric::manufacturing_va_share);
  double* m_digital = row(Metric::digital_core_va_share);
  double* m_sei = row(Metric::strategic_emerging_share);
  double* m_output_real = row(Metric::industrial_output_real);
  double* m_va_real = row(Metric::industrial_value_added_real);
  double* m_gdp_real = row(Metric::gdp_real);
  double* m_va_growth = row(Metric::industrial_va_real_growth);
  double* m_gdp_growth = row(Metric::gdp_real_growth);
  double* m_loans = row(Metric::new_loans);
  double* m_loan_share = row(Metric::manufacturing_loan_share);
  double* m_tax = row(Metric::industrial_tax);
  double* m_employment = row(Metric::employment);
  for (int y = 0; y < NY; ++y) {
    const double* co = out.cluster_output.data() + y * C;
    const double* yreal = ws.yreal.data() + y * C;
    const double* price = ws.price.data() + y * C;
    const double* d = ws.d.data() + y * C;
    double* emp = out.cluster_employment.data() + y * C;
    double output = 0, va = 0, mva = 0, digital = 0, sei = 0, output_real = 0, va_real = 0;
    double tax = 0;
    for (int c = 0; c < C; ++c) {
      const double yc = co[c];
      const double vac = ratio[c] * yc;
      output += yc;
      va += vac;
      output_real += yreal[c];
      va_real += ratio[c] * yreal[c];
      if (manufacturing[c]) mva += vac;
      digital += digital_share[c] * vac;
      sei += sei_share[c] * yc;
      // Nominal: P (Y* - D*); the project's own output is taxed below.
      tax += rate[c] * (price[c] * (yreal[c] - d[c]));
    }
    // Element by element, two clusters at a time: the same operations.
    int i = 0;
#if defined(__SSE2__)
    const __m128d scale = _mm_set1_pd(1e4);
    if (y == 0)
      for (; i + 2 <= C; i += 2) _mm_storeu_pd(factor + i, _mm_set1_pd(1.0));
    else
      for (; i + 2 <= C; i += 2)
        _mm_storeu_pd(factor + i,
                      _mm_mul_pd(_mm_loadu_pd(factor + i), _mm_loadu_pd(productivity + i)));
#endif
    for (; i < C; ++i) factor[i] = y == 0 ? 1.0 : factor[i] * productivity[i];
    i = 0;
#if defined(__SSE2__)
    for (; i + 2 <= C; i += 2) {
      const __m128d incumbent_and_induced =
          _mm_sub_pd(_mm_loadu_pd(yreal + i), _mm_loadu_pd(d + i));
      const __m128d w = _mm_mul_pd(_mm_loadu_pd(per_worker + i), _mm_loadu_pd(factor + i));
      _mm_storeu_pd(emp + i, _mm_div_pd(_mm_mul_pd(scale, incumbent_and_induced), w));
    }
#endif
    for (; i < C; ++i) {
      const double incumbent_and_induced = yreal[i] - d[i];
      const double w = per_worker[i] * factor[i];
      emp[i] = 1e4 * incumbent_and_induced / w;
    }
    if (y > 0) {
      // Projects: the others' output is zero (and adds nothing).
      const double* po = out.project_output.data() + y * P;
      const double* yproj = ws.yproj.data() + y * P;
      for (const int p : ws.producing) {
        // Without a branch (whether a year has output varies from draw to
        // draw): the sum with the term, kept where the output is not zero.
        tax = select_nonzero(po[p], tax + project_rate[p] * po[p], tax);
        const double yp = yproj[p];
        if (yp == 0.0) continue;
        const int c = plan.project_cluster[p];
        const int jobs_slot = plan.project[p].jobs;
        double jobs;
        if (jobs_slot >= 0)
          jobs = ps[p].capacity > 0 ? v[jobs_slot] * yp / ps[p].capacity : 0.0;
        else
          jobs = 1e4 * yp / (per_worker[c] * factor[c]);
        emp[c] += jobs;
      }
    }
    m_employment[y] = sum_in_order(emp, C);
    m_tax[y] = tax;

    const double gdp = ws.rest[y] + va;
    m_output[y] = output;
    m_va[y] = va;
    m_mva[y] = mva;
    m_gdp[y] = gdp;
    m_mva_share[y] = mva / gdp;
    m_digital[y] = (digital + digital_rest * ws.rest[y]) / gdp;
    m_sei[y] = output > 0 ? sei / output : 0.0;
    const double gdp_real = ws.rest_real[y] + va_real;
    m_output_real[y] = output_real;
    m_va_real[y] = va_real;
    m_gdp_real[y] = gdp_real;
    if (y == 0) {
      m_va_growth[0] = nan;
      m_gdp_growth[0] = nan;
      m_loans[0] = nan;
      m_loan_share[0] = nan;
    } else {
      m_va_growth[y] = va_real / m_va_real[y - 1] - 1.0;
      m_gdp_growth[y] = gdp_real / m_gdp_real[y - 1] - 1.0;
      m_loans[y] = v[plan.new_loans[y - 1]];
      m_loan_share[y] = v[plan.loan_share[y - 1]];
    }
  }
}

// opened[t]: flagged projects (f.flagged) whose production begins in year t,
// t = 0 .. T (whole counts, so counting in one pass gives the same doubles).
// The batched model counts them in its lanes (model_batch.cpp).
void firm_openings(const Plan& plan, const FirmSlots& f, const DrawWorkspace& ws, double* opened) {
  const int T = plan.years;
  std::memset(opened, 0, static_cast<std::size_t>(T + 1) * sizeof(double));
  for (const int p : f.flagged) {
    const int o = ws.projects[p].production;
    if (o >= 0 && o < 12 * T) opened[o / 12 + 1] += 1;
  }
}

// Firm counts: N_t = N_{t-1} + entries - Binomial(N_{t-1}, exit_rate) + n_t,
// n_t the flagged projects whose production begins in year t. The exit
// uniforms in out.inputs are replaced by the exit counts.
void firm_counts(const Plan& plan, const FirmSlots& f, const FirmSeries& series, Metric metric,
                 DrawWorkspace& ws, DrawOutput& out) {
  std::vector<double>& opened = ws.opened;
  opened.resize(static_cast<std::size_t>(plan.years) + 1);
  firm_openings(plan, f, ws, opened.data());
  // One lane: its binomial is the scalar binomial_quantile.
  firm_counts_lanes(plan, f, series, metric, opened.data(), 1, &out);
}

void firm_counts_lanes(const Plan& plan, const FirmSlots& f, const FirmSeries& series,
                       Metric metric, const double* opened, int count, DrawOutput* outs) {
  const int T = plan.years, NY = T + 1;
  if (!f.present) {
    for (int j = 0; j < count; ++j)
      for (int y = 0; y < NY; ++y) outs[j].metric(metric, y) = 0;
    return;
  }
  constexpr int L = DrawWorkspace::lanes;
  double n[L], rate[L], log1m_rate[L], u[L], exits[L];
  for (int j = 0; j < count; ++j) {
    n[j] = series.base;
    outs[j].metric(metric, 0) = n[j];
    rate[j] = outs[j].inputs[f.exit_rate];
    log1m_rate[j] = std::log1p(-rate[j]);
  }
  const auto c = static_cast<std::size_t>(count);
  for (int t = 1; t <= T; ++t) {
    const int slot = f.exits[t - 1], entries = f.entries[t - 1];
    for (int j = 0; j < count; ++j) u[j] = outs[j].inputs[slot];
    binomial_quantile(n, rate, u, log1m_rate, exits, c);
    for (int j = 0; j < count; ++j) {
      std::vector<double>& v = outs[j].inputs;
      v[slot] = exits[j];
      n[j] = n[j] + v[entries] - exits[j] + opened[j * NY + t];
      outs[j].metric(metric, t) = n[j];
    }
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
  // The conditions below, all at once and without branches (a NaN fails
  // every comparison); only a draw that fails one goes on to find the first.
  bool ok = all_finite_nonnegative<false>(out.cluster_output.data(), (T + 1) * C);
  for (int t = 0; t <= T; ++t) {
    const double gdp = out.metric(Metric::gdp, t), gdp_real = out.metric(Metric::gdp_real, t);
    const double jobs = out.metric(Metric::employment, t);
    ok &= (gdp > 0) & (gdp < inf) & (gdp_real > 0) & (gdp_real < inf) & (jobs >= 0) & (jobs < inf);
  }
  if (ok) return;
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

}  // namespace model_stages

using namespace model_stages;

void simulate_draw(const Plan& plan, std::uint64_t seed, std::uint64_t draw, DrawWorkspace& ws,
                   DrawOutput& out) {
  const Scenario& sc = *plan.scenario;
  const std::vector<double>& v = out.inputs;
  ws.block.inputs(plan, seed, draw, out.inputs);
  if (ws.prepared_for != plan.id || plan.id == 0) prepare(plan, ws);
  common_shock(plan, v, ws);
  gather_inputs(plan, v, ws);
  incumbent_output(plan, v, ws);
  project_timing(plan, v, ws);
  schedule_factors(plan, v, ws, out);
  price_levels(plan, v, ws);
  project_production(plan, ws, out);
  supply_chain(plan, ws, out);
  rest_of_economy(plan, v, draw, ws);
  year_sums(plan, v, ws, out);
  firm_counts(plan, plan.above_scale, sc.firms.above_scale, Metric::above_scale_firms, ws, out);
  firm_counts(plan, plan.high_tech, sc.firms.high_tech, Metric::high_tech_firms, ws, out);
  check_draw(plan, v, draw, ws, out);
  evaluate_targets(plan, out);
}

}  // namespace countysim
