#include "countysim/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

#include "countysim/simd.hpp"

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
constexpr double inf = std::numeric_limits<double>::infinity();

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

// x != 0 ? a : b, as a mask rather than a branch (NaN is not zero).
inline double select_nonzero(double x, double a, double b) {
#if defined(__SSE2__)
  const __m128d keep = _mm_cmpneq_sd(_mm_set_sd(x), _mm_setzero_pd());
  return _mm_cvtsd_f64(
      _mm_or_pd(_mm_and_pd(keep, _mm_set_sd(a)), _mm_andnot_pd(keep, _mm_set_sd(b))));
#else
  return x != 0.0 ? a : b;
#endif
}

// Whether every x[0 .. n) is finite and at least 0 (positive: above 0);
// a NaN is neither. Two at a time with SSE2, without branches.
template <bool positive>
bool all_finite_nonnegative(const double* x, int n) {
  bool ok = true;
  int i = 0;
#if defined(__SSE2__)
  const __m128d zero = _mm_setzero_pd(), big = _mm_set1_pd(inf);
  __m128d good = _mm_castsi128_pd(_mm_set1_epi32(-1));
  for (; i + 2 <= n; i += 2) {
    const __m128d y = _mm_loadu_pd(x + i);
    const __m128d low = positive ? _mm_cmpgt_pd(y, zero) : _mm_cmpge_pd(y, zero);
    good = _mm_and_pd(good, _mm_and_pd(low, _mm_cmplt_pd(y, big)));
  }
  ok = _mm_movemask_pd(good) == 3;
#endif
  for (; i < n; ++i) ok &= (positive ? x[i] > 0 : x[i] >= 0) & (x[i] < inf);
  return ok;
}

// 0 + x[0] + x[1] + ... + x[n - 1], one addition after the other (unrolled).
inline double sum_in_order(const double* x, int n) {
  double sum = 0;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    sum += x[i];
    sum += x[i + 1];
    sum += x[i + 2];
    sum += x[i + 3];
  }
  for (; i < n; ++i) sum += x[i];
  return sum;
}

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
  const Scenario& sc = *plan.scenario;
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
  double land = sc.land.initial_stock_mu, credit = 0.0;
  // Within a year the pools only shrink, and covers() is monotone in the
  // pool: a project that did not fit in month m does not fit later in the
  // year. So a month can start a project only in January (top-up) or when a
  // project becomes ready in it (a bit of `wake`); the other months are
  // skipped.
  std::uint64_t* wake = ws.wake.data();
  std::fill_n(wake, ws.wake.size(), std::uint64_t{0});
  for (const int p : ws.order) {
    const int r = ps[p].ready;
    if (r > 0 && r < M) wake[r >> 6] |= std::uint64_t{1} << (r & 63);
  }
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
    if (!covers(land, land_mu[p]) || !covers(credit, need_credit[p])) return false;
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
    std::fill_n(ready_at, ws.ready_at.size(), std::uint64_t{0});
    for (std::size_t i = 0; i < n_order; ++i) {
      const int r = std::max(0, ps[ws.order[i]].ready);
      if (r < M) ready_at[r] |= std::uint64_t{1} << i;
    }
    left = n_order == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n_order) - 1;
  } else {
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
      for (int m = end - 12; m < end && left != 0; m = next_month(m, end)) {
        pending |= ready_at[m];
        for (std::uint64_t bits = pending; bits != 0; bits &= bits - 1) {
          const int i = __builtin_ctzll(bits);
          if (try_start(ws.order[i], m)) {
            pending &= ~(std::uint64_t{1} << i);
            left &= ~(std::uint64_t{1} << i);
          }
        }
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

// The ramp's fractions k / R for k = 1 .. n into q, n the count of k < R
// within the horizon (k = m - O + 1 <= limit = 12 T - O), divided two at a
// time: the same quotients as one at a time. Returns n.
int ramp_fractions(double ramp, int limit, const double* months, double* q) {
  if (!(ramp > 0)) return 0;
  int n;
  if (ramp > limit) {
    n = limit;
  } else {
    const int whole = static_cast<int>(ramp);  // ramp <= limit: no overflow
    n = (whole < ramp ? whole + 1 : whole) - 1;
  }
  int i = 0;
#if defined(__SSE2__)
  const __m128d r = _mm_set1_pd(ramp);
  for (; i + 4 <= n; i += 4) {
    _mm_storeu_pd(q + i, _mm_div_pd(_mm_loadu_pd(months + i), r));
    _mm_storeu_pd(q + i + 2, _mm_div_pd(_mm_loadu_pd(months + i + 2), r));
  }
  for (; i + 2 <= n; i += 2) _mm_storeu_pd(q + i, _mm_div_pd(_mm_loadu_pd(months + i), r));
#endif
  for (; i < n; ++i) q[i] = months[i] / ramp;
  return n;
}

// The sum of min(1, (m - O + 1) / R) over the producing months of the year
// ending at month `end` (12 t), as model.md writes it: the ramp's quotients
// q[0, n) from month O, then whole months. The additions stay one after the
// other.
double producing_months(const double* q, int o, int n, int end) {
  int m = std::max(end - 12, o);
  double sum = 0.0;
  const int stop = std::min(end, o + n);
  if (m < stop) {
    sum = sum_in_order(q + (m - o), stop - m);
    m = stop;
  }
  // Whole months: from +0 each 1.0 is added exactly, so their count is the
  // same sum; after ramp months the additions round, one by one.
  if (m < end) {
    if (sum == 0.0) {
      sum = end - m;
    } else {
      for (; m + 4 <= end; m += 4) {
        sum += 1.0;
        sum += 1.0;
        sum += 1.0;
        sum += 1.0;
      }
      for (; m < end; ++m) sum += 1.0;
    }
  }
  return sum;
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
      for (int t = 1; t < first; ++t) {
        yproj[t * P + p] = y0;
        d[t * C + c] += y0;
        po[t * P + p] = price[t * C + c] * y0;
      }
    if (o >= M) {
      if (y0 != 0.0) ws.producing.push_back(p);  // a NaN capacity
      continue;
    }
    ws.producing.push_back(p);
    const double ramp = st.ramp;
    const int n = ramp_fractions(ramp, M - o, months, q);
    // From the first whole year after the ramp on (k >= R in January): 12
    // whole months, whose sum from +0 is 12.
    const double y12 = o + n <= 12 * (T - 1) ? capacity * 12.0 / 12.0 : 0.0;
    for (int t = first; t <= T; ++t) {
      const int end = 12 * t;
      if (end - 12 >= o + n) {
        yproj[t * P + p] = y12;
        d[t * C + c] += y12;
        po[t * P + p] = price[t * C + c] * y12;
        continue;
      }
      const double sum = producing_months(q, o, n, end);
      const double y = capacity * sum / 12.0;
      yproj[t * P + p] = y;
      d[t * C + c] += y;
      po[t * P + p] = price[t * C + c] * y;
    }
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

// ---- simulate_draws: a group of draws in vector lanes ----------------------
// Each lane holds one draw and does the same operations in the same order as
// the stages above (GCC vector extensions: IEEE +, -, x, / lane by lane, no
// contraction under -ffp-contract=off), so every lane has simulate_draw's
// bits. The branchy stages (timing, scheduling, production, firm counts) run
// draw by draw and write their lane of the group's arrays.

constexpr int L = DrawWorkspace::lanes;

// The vectors never cross a call (every helper is inlined into the kernel of
// its instruction set), so the ABI of passing them does not matter.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

#define CS_INLINE inline __attribute__((always_inline))

// W doubles (and W masks) in one register: 2 with SSE2, 4 with AVX2, 8 with
// AVX-512; the kernels below run over a group's lanes W at a time.
template <int W>
struct Lane {
  typedef double V __attribute__((vector_size(W * sizeof(double))));
  typedef std::int64_t M __attribute__((vector_size(W * sizeof(double))));
};

template <class V>
CS_INLINE V ld(const double* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class V>
CS_INLINE void st(double* p, const V& v) {
  std::memcpy(p, &v, sizeof v);
}
template <class M>
CS_INLINE M ldi(const std::int64_t* p) {
  M v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
// Slot `slot` of each lane's inputs.
template <class V>
CS_INLINE V gather(const double* const* rows, int slot) {
  V v;
#pragma GCC unroll 8
  for (std::size_t j = 0; j < sizeof(V) / sizeof(double); ++j) v[j] = rows[j][slot];
  return v;
}
// Each lane's value to element `index` of its own output row.
template <class V>
CS_INLINE void scatter(double* const* rows, int index, const V& v) {
#pragma GCC unroll 8
  for (std::size_t j = 0; j < sizeof(V) / sizeof(double); ++j) rows[j][index] = v[j];
}
// Lanes of a and b (b's from W on) picked by constant indices.
#if defined(__clang__) || __GNUC__ >= 12
#define CS_SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define CS_SHUFFLE(a, b, ...) __builtin_shuffle(a, b, M{__VA_ARGS__})
#endif
// r[i] (lanes of element e + i) to r[j] (elements e .. e + W - 1 of lane j):
// a W x W transpose by shuffles.
template <class V, class M>
CS_INLINE void transpose(V* r) {
  constexpr int W = sizeof(V) / sizeof(double);
  if constexpr (W == 2) {
    const V a = CS_SHUFFLE(r[0], r[1], 0, 2), b = CS_SHUFFLE(r[0], r[1], 1, 3);
    r[0] = a;
    r[1] = b;
  } else if constexpr (W == 4) {
    const V t0 = CS_SHUFFLE(r[0], r[1], 0, 4, 2, 6);
    const V t1 = CS_SHUFFLE(r[0], r[1], 1, 5, 3, 7);
    const V t2 = CS_SHUFFLE(r[2], r[3], 0, 4, 2, 6);
    const V t3 = CS_SHUFFLE(r[2], r[3], 1, 5, 3, 7);
    r[0] = CS_SHUFFLE(t0, t2, 0, 1, 4, 5);
    r[1] = CS_SHUFFLE(t1, t3, 0, 1, 4, 5);
    r[2] = CS_SHUFFLE(t0, t2, 2, 3, 6, 7);
    r[3] = CS_SHUFFLE(t1, t3, 2, 3, 6, 7);
  } else {
    static_assert(W == 8, "2, 4 or 8 lanes");
    V t[8], u[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i += 2) {
      t[i] = CS_SHUFFLE(r[i], r[i + 1], 0, 8, 2, 10, 4, 12, 6, 14);
      t[i + 1] = CS_SHUFFLE(r[i], r[i + 1], 1, 9, 3, 11, 5, 13, 7, 15);
    }
#pragma GCC unroll 8
    for (int i = 0; i < 8; i += 4)
#pragma GCC unroll 8
      for (int k = 0; k < 2; ++k) {
        u[i + k] = CS_SHUFFLE(t[i + k], t[i + k + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + k + 2] = CS_SHUFFLE(t[i + k], t[i + k + 2], 2, 3, 10, 11, 6, 7, 14, 15);
      }
#pragma GCC unroll 8
    for (int k = 0; k < 4; ++k) {
      r[k] = CS_SHUFFLE(u[k], u[k + 4], 0, 1, 2, 3, 8, 9, 10, 11);
      r[k + 4] = CS_SHUFFLE(u[k], u[k + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
  }
}

// Elements e0 .. e1 - 1 of a lane array (from the chunk's first lane) to the
// same elements of each lane's output row, W x W blocks at a time.
template <class V, class M>
CS_INLINE void copy_out(const double* a, int e0, int e1, double* const* rows) {
  constexpr int W = sizeof(V) / sizeof(double);
  int e = e0;
#pragma GCC unroll 8
  for (; e + W <= e1; e += W) {
    V r[W];
#pragma GCC unroll 8
    for (int i = 0; i < W; ++i) r[i] = ld<V>(a + (e + i) * L);
    transpose<V, M>(r);
#pragma GCC unroll 8
    for (int j = 0; j < W; ++j) st<V>(rows[j] + e, r[j]);
  }
#pragma GCC unroll 8
  for (; e < e1; ++e) scatter<V>(rows, e, ld<V>(a + e * L));
}

// Whether any lane of a mask is set.
template <class M>
CS_INLINE bool any_lane(const M& m) {
  std::int64_t any = 0;
#pragma GCC unroll 8
  for (std::size_t j = 0; j < sizeof(M) / sizeof(std::int64_t); ++j) any |= m[j];
  return any != 0;
}
template <class V>
CS_INLINE V splat(double x) {
  V v;
#pragma GCC unroll 8
  for (std::size_t j = 0; j < sizeof(V) / sizeof(double); ++j) v[j] = x;
  return v;
}

void size_group(const Plan& plan, DrawWorkspace::Lanes& g) {
  const std::size_t T = plan.years, C = plan.clusters, P = plan.projects, NY = T + 1;
  const std::size_t I = plan.price_change.size();
  // n elements of L lanes; at least one, so that no pointer the kernels
  // offset is null (a scenario without projects).
  const auto lanes = [](std::vector<double>& v, std::size_t n) {
    v.assign(std::max<std::size_t>(n, 1) * L, 0.0);
  };
  lanes(g.loans, T);
  lanes(g.loan_share, T);
  lanes(g.capacity, P);
  lanes(g.jobs, P);
  for (auto* v : {&g.zt, &g.rest_price, &g.rest_real, &g.rest}) lanes(*v, NY);
  lanes(g.levels, NY * (I + 1));
  for (auto* v : {&g.ratio, &g.tax, &g.per_worker, &g.productivity, &g.factor}) lanes(*v, C);
  for (auto* v : {&g.yinc, &g.price, &g.d, &g.x, &g.yreal, &g.co, &g.emp}) lanes(*v, NY * C);
  lanes(g.yproj, NY * P);
  lanes(g.po, NY * P);
  lanes(g.project_tax, P);
  g.producing.assign(std::max<std::size_t>(P, 1) * L, 0);
  g.spare_metrics.assign(static_cast<std::size_t>(year_metric_count) * NY, 0.0);
  lanes(g.metrics, static_cast<std::size_t>(year_metric_count) * NY);
  g.spare_co.assign(std::max<std::size_t>(NY * C, 1), 0.0);
  g.spare_emp.assign(std::max<std::size_t>(NY * C, 1), 0.0);
  g.prepared_for = plan.id;
}

// Stages before the projects: common shock, the per-draw inputs, incumbent
// output and price levels (common_shock, gather_inputs, incumbent_output,
// price_levels). positive[j]: lane j's price levels are all positive and
// finite.
template <class V, class M>
CS_INLINE void lanes_before(const Plan& plan, DrawWorkspace& ws, int k0, std::int64_t* positive) {
  const Scenario& sc = *plan.scenario;
  DrawWorkspace::Lanes& g = ws.group;
  // The chunk's first lane of each array, read once (the vector stores may
  // alias anything, so g's members would be loaded again after each).
  auto* const capacity_ = g.capacity.data() + k0;
  auto* const jobs_ = g.jobs.data() + k0;
  auto* const levels_ = g.levels.data() + k0;
  auto* const loan_share_ = g.loan_share.data() + k0;
  auto* const loans_ = g.loans.data() + k0;
  auto* const per_worker_ = g.per_worker.data() + k0;
  auto* const price_ = g.price.data() + k0;
  auto* const productivity_ = g.productivity.data() + k0;
  auto* const project_tax_ = g.project_tax.data() + k0;
  auto* const ratio_ = g.ratio.data() + k0;
  auto* const rest_price_ = g.rest_price.data() + k0;
  auto* const tax_ = g.tax.data() + k0;
  auto* const yinc_ = g.yinc.data() + k0;
  auto* const zt_ = g.zt.data() + k0;
  const int T = plan.years, C = plan.clusters, P = plan.projects, NY = T + 1;
  const int I = static_cast<int>(plan.price_change.size());
  const double* const* rows = g.inputs + k0;
#define v(slot) gather<V>(rows, slot)
  double* zt = zt_;
  st<V>(zt, V{});
  const double rho = sc.macro.shock_persistence;
  for (int t = 1; t <= T; ++t)
    st<V>(zt + t * L, rho * ld<V>(zt + (t - 1) * L) + v(plan.shock[t - 1]));
  for (int c = 0; c < C; ++c) {
    const ClusterSlots& s = plan.cluster[c];
    st<V>(ratio_ + c * L, v(s.value_added_ratio));
    st<V>(tax_ + c * L, v(s.tax_rate));
    st<V>(per_worker_ + c * L, v(s.output_per_worker));
    st<V>(productivity_ + c * L, 1.0 + v(s.productivity_growth));
  }
  for (int p = 0; p < P; ++p) {
    const int slot = plan.project[p].tax_rate;
    st<V>(project_tax_ + p * L, slot >= 0 ? v(slot) : ld<V>(tax_ + plan.project_cluster[p] * L));
    st<V>(capacity_ + p * L, v(plan.project[p].capacity));
    if (plan.project[p].jobs >= 0) st<V>(jobs_ + p * L, v(plan.project[p].jobs));
  }
  double* yinc = yinc_;
  for (int c = 0; c < C; ++c) st<V>(yinc + c * L, splat<V>(sc.clusters[c].base_output));
  for (int t = 1; t <= T; ++t) {
    const V share = v(plan.loan_share[t - 1]);
    st<V>(loan_share_ + (t - 1) * L, share);
    st<V>(loans_ + (t - 1) * L, v(plan.new_loans[t - 1]));
    const V credit = share - sc.finance.reference_share;
    const V z = ld<V>(zt + t * L);
    const int* growth = ws.growth_slot.data() + (t - 1) * C;
    for (int c = 0; c < C; ++c) {
      const V gr = v(growth[c]) + ws.shock_loading[c] * z + ws.credit_elasticity[c] * credit;
      st<V>(yinc + (t * C + c) * L, ld<V>(yinc + ((t - 1) * C + c) * L) * (1.0 + gr));
    }
  }
  double* levels = levels_;
  const V one = splat<V>(1.0);
  for (int i = 0; i <= I; ++i) st<V>(levels + i * L, one);
  for (int t = 1; t <= T; ++t) {
    double* row = levels + t * (I + 1) * L;
    st<V>(row, one);
    const int* slot = ws.price_slot.data() + (t - 1) * I;
    for (int i = 0; i < I; ++i)
      st<V>(row + (1 + i) * L, ld<V>(row + (1 + i - (I + 1)) * L) * (1.0 + v(slot[i])));
  }
  double* price = price_;
  for (int t = 0; t < NY; ++t) {
    const double* row = levels + (t * (I + 1) + 1) * L;
    for (int c = 0; c < C; ++c)
      st<V>(price + (t * C + c) * L, ld<V>(row + plan.cluster_price[c] * L));
  }
  double* rp = rest_price_;
  st<V>(rp, one);
  for (int t = 1; t <= T; ++t)
    st<V>(rp + t * L, ld<V>(rp + (t - 1) * L) * (1.0 + v(plan.rest_price_change[t - 1])));
  // all_finite_nonnegative<true> of each lane's levels.
  M good = ~M{};
  const V zero{}, big = splat<V>(inf);
  for (int k = 0; k < NY * (I + 1); ++k) {
    const V x = ld<V>(levels + k * L);
    good &= (x > zero) & (x < big);
  }
  std::memcpy(positive + k0, &good, sizeof good);
  // What the projects' stage adds to or leaves: zeros (+0.0; not in the
  // list), a register at a time (memset is out of line).
  for (auto* a : {&g.yproj, &g.po, &g.d}) {
    double* const end = a->data() + a->size();
    for (double* e = a->data() + k0; e < end; e += L) st<V>(e, zero);
  }
  std::int64_t* const end = g.producing.data() + g.producing.size();
  for (std::int64_t* e = g.producing.data() + k0; e < end; e += L)
    std::memcpy(e, &zero, sizeof zero);  // all zero bytes
#undef v
}

// project_production for lane j: the same, with yproj, d, nominal output and
// the producing list (a mask) in the group's arrays (zero filled for every
// lane before).
void project_production_lane(const Plan& plan, DrawWorkspace& ws, DrawOutput& out, int j,
                             bool prices_positive) {
  const int T = plan.years, C = plan.clusters, P = plan.projects, NY = T + 1, M = 12 * T;
  DrawWorkspace::Lanes& g = ws.group;
  ProjectState* ps = ws.projects.data();
  double* yproj = g.yproj.data() + j;
  double* d = g.d.data() + j;
  double* po = g.po.data() + j;
  const double* price = g.price.data() + j;
  std::int64_t* listed = g.producing.data() + j;
  int* started = ws.counts.data();
  int* producing = started + NY + 1;
  std::fill_n(started, ws.counts.size(), 0);
  double* q = ws.ramp.data();
  const double* months = ws.months.data();
  int* start_month = out.start_month.data();
  int* production_month = out.production_month.data();
  // Nominal output: to the draw's output as well as to its lane (year_sums).
  double* out_po = out.project_output.data();
  std::fill_n(out_po, static_cast<std::size_t>(NY) * P, 0.0);
  for (int p = 0; p < P; ++p) {
    ProjectState& st = ps[p];
    const int c = plan.project_cluster[p];
    start_month[p] = st.start;
    production_month[p] = -1;
    if (st.start < 0) {
      if (!prices_positive)
        for (int t = 1; t <= T; ++t)
          out_po[t * P + p] = po[(t * P + p) * L] = price[(t * C + c) * L] * 0.0;
      continue;
    }
    const int o = st.production = st.start + st.construction;
    production_month[p] = o;
    ++started[st.start / 12 + 1];
    ++producing[std::min(o / 12 + 1, NY)];
    const double capacity = st.capacity;
    const double y0 = capacity * 0.0;
    const int first = o >= M ? NY : o / 12 + 1;
    // This project's and its cluster's elements of year t = 1, then one
    // year further at a time.
    double* yp = yproj + (P + p) * L;
    double* dc = d + (C + c) * L;
    double* pp = po + (P + p) * L;
    const double* pc = price + (C + c) * L;
    double* op = out_po + P + p;
    const std::size_t step_p = static_cast<std::size_t>(P) * L,
                      step_c = static_cast<std::size_t>(C) * L;
    const auto put = [&](double y) {
      *yp = y;
      *dc += y;
      *op = *pp = *pc * y;
      yp += step_p;
      dc += step_c;
      pp += step_p;
      pc += step_c;
      op += P;
    };
    if (!(y0 == 0.0 && !std::signbit(y0) && prices_positive)) {
      for (int t = 1; t < first; ++t) put(y0);
    } else if (first <= T) {  // (o >= M: no more years)
      yp += (first - 1) * step_p;
      dc += (first - 1) * step_c;
      pp += (first - 1) * step_p;
      pc += (first - 1) * step_c;
      op += (first - 1) * P;
    }
    if (o >= M) {
      if (y0 != 0.0) listed[p * L] = ~std::int64_t{0};
      continue;
    }
    listed[p * L] = ~std::int64_t{0};
    const double ramp = st.ramp;
    const int n = ramp_fractions(ramp, M - o, months, q);
    const double y12 = capacity * 12.0 / 12.0;  // a year of whole months
    for (int t = first; t <= T; ++t) {
      const int end = 12 * t;
      if (end - 12 >= o + n) {
        put(y12);
        continue;
      }
      const double sum = producing_months(q, o, n, end);
      put(capacity * sum / 12.0);
    }
  }
  int n_started = 0, n_producing = 0;
  for (int y = 0; y < NY; ++y) {
    n_started += started[y];
    n_producing += producing[y];
    out.metric(Metric::projects_started, y) = n_started;
    out.metric(Metric::projects_producing, y) = n_producing;
  }
}

// Stages after the projects: supply_chain, rest_of_economy, year_sums and
// check_draw's conditions. Returns the lanes that fail a check (bit j).
template <class V, class M>
CS_INLINE std::uint32_t lanes_after(const Plan& plan, DrawWorkspace& ws, int k0) {
  const Scenario& sc = *plan.scenario;
  DrawWorkspace::Lanes& g = ws.group;
  // The chunk's first lane of each array, read once (the vector stores may
  // alias anything, so g's members would be loaded again after each).
  auto* const capacity_ = g.capacity.data() + k0;
  auto* const co_ = g.co.data() + k0;
  auto* const d_ = g.d.data() + k0;
  auto* const emp_ = g.emp.data() + k0;
  auto* const factor_ = g.factor.data() + k0;
  auto* const jobs_ = g.jobs.data() + k0;
  auto* const loan_share_ = g.loan_share.data() + k0;
  auto* const loans_ = g.loans.data() + k0;
  auto* const per_worker_ = g.per_worker.data() + k0;
  auto* const po_ = g.po.data() + k0;
  auto* const price_ = g.price.data() + k0;
  auto* const producing_ = g.producing.data() + k0;
  auto* const productivity_ = g.productivity.data() + k0;
  auto* const project_tax_ = g.project_tax.data() + k0;
  auto* const ratio_ = g.ratio.data() + k0;
  auto* const rest_ = g.rest.data() + k0;
  auto* const rest_price_ = g.rest_price.data() + k0;
  auto* const rest_real_ = g.rest_real.data() + k0;
  auto* const tax_ = g.tax.data() + k0;
  auto* const x_ = g.x.data() + k0;
  auto* const yinc_ = g.yinc.data() + k0;
  auto* const yproj_ = g.yproj.data() + k0;
  auto* const yreal_ = g.yreal.data() + k0;
  auto* const zt_ = g.zt.data() + k0;
  const int T = plan.years, C = plan.clusters, P = plan.projects, NY = T + 1;
  const double* const* rows = g.inputs + k0;
#define v(slot) gather<V>(rows, slot)
  const V zero{}, big = splat<V>(inf);
  // Supply chain.
  double* xs = x_;
  const double* ds = d_;
  for (int i = 0; i < C; ++i) st<V>(xs + i * L, zero);
  for (int t = 1; t <= T; ++t) {
    double* x = xs + t * C * L;
    const double* d = ds + t * C * L;
    if (plan.has_supply_chain) {
      for (int i = 0; i < C; ++i) st<V>(x + i * L, zero);
      const double* l = plan.leontief.data();
      for (int jc = 0; jc < C; ++jc) {
        const V dj = ld<V>(d + jc * L);
        const M used = dj != zero;      // a column of d_j = 0 is skipped
        if (!any_lane(used)) continue;  // in every lane
        const double* col = l + static_cast<std::size_t>(jc) * C;
        for (int i = 0; i < C; ++i) {
          const V xi = ld<V>(x + i * L);
          st<V>(x + i * L, used ? xi + col[i] * dj : xi);
        }
      }
    } else {
      for (int i = 0; i < C; ++i) st<V>(x + i * L, ld<V>(d + i * L));
    }
  }
  for (int k = 0; k < NY * C; ++k) {
    const V y = ld<V>(yinc_ + k * L) + ld<V>(xs + k * L);
    st<V>(yreal_ + k * L, y);
    const V co = ld<V>(price_ + k * L) * y;
    st<V>(co_ + k * L, co);
  }
  // Rest of the economy.
  V va0{};
  for (int c = 0; c < C; ++c) va0 += ld<V>(ratio_ + c * L) * sc.clusters[c].base_output;
  double* rest_real = rest_real_;
  const V r0 = sc.macro.gdp_base - va0;
  M bad = ~(r0 > zero);
  st<V>(rest_real, r0);
  for (int t = 1; t <= T; ++t)
    st<V>(rest_real + t * L,
          ld<V>(rest_real + (t - 1) * L) * (1.0 + v(plan.rest_growth[t - 1]) +
                                            sc.macro.rest_shock_loading * ld<V>(zt_ + t * L)));
  for (int t = 0; t <= T; ++t)
    st<V>(rest_ + t * L, ld<V>(rest_price_ + t * L) * ld<V>(rest_real + t * L));
  // Year sums.
  const V digital_rest = v(plan.digital_share_of_rest);
  double* metrics = g.metrics.data() + k0;
  const auto row = [NY](Metric m) { return static_cast<int>(m) * NY; };
  const int m_output = row(Metric::industrial_output);
  const int m_va = row(Metric::industrial_value_added);
  const int m_mva = row(Metric::manufacturing_value_added);
  const int m_gdp = row(Metric::gdp);
  const int m_mva_share = row(Metric::manufacturing_va_share);
  const int m_digital = row(Metric::digital_core_va_share);
  const int m_sei = row(Metric::strategic_emerging_share);
  const int m_output_real = row(Metric::industrial_output_real);
  const int m_va_real = row(Metric::industrial_value_added_real);
  const int m_gdp_real = row(Metric::gdp_real);
  const int m_va_growth = row(Metric::industrial_va_real_growth);
  const int m_gdp_growth = row(Metric::gdp_real_growth);
  const int m_loans = row(Metric::new_loans);
  const int m_loan_share = row(Metric::manufacturing_loan_share);
  const int m_tax = row(Metric::industrial_tax);
  const int m_employment = row(Metric::employment);
  double* factor = factor_;
  const V one = splat<V>(1.0), nans = splat<V>(nan);
  V va_real_prev{}, gdp_real_prev{};
  for (int y = 0; y < NY; ++y) {
    const double* co = co_ + y * C * L;
    const double* yreal = yreal_ + y * C * L;
    const double* price = price_ + y * C * L;
    const double* d = ds + y * C * L;
    double* emp = emp_ + y * C * L;
    V output{}, va{}, mva{}, digital{}, sei{}, output_real{}, va_real{}, tax{};
    for (int c = 0; c < C; ++c) {
      const V yc = ld<V>(co + c * L), yr = ld<V>(yreal + c * L), ratio = ld<V>(ratio_ + c * L);
      const V vac = ratio * yc;
      output += yc;
      va += vac;
      output_real += yr;
      va_real += ratio * yr;
      if (ws.manufacturing[c]) mva += vac;
      digital += ws.digital_share[c] * vac;
      sei += ws.sei_share[c] * yc;
      tax += ld<V>(tax_ + c * L) * (ld<V>(price + c * L) * (yr - ld<V>(d + c * L)));
      const V f = y == 0 ? one : ld<V>(factor + c * L) * ld<V>(productivity_ + c * L);
      st<V>(factor + c * L, f);
      const V w = ld<V>(per_worker_ + c * L) * f;
      st<V>(emp + c * L, 1e4 * (yr - ld<V>(d + c * L)) / w);
    }
    if (y > 0) {
      const double* po = po_ + y * P * L;
      const double* yproj = yproj_ + y * P * L;
      for (int p = 0; p < P; ++p) {
        const M listed = ldi<M>(producing_ + p * L);
        const V pp = ld<V>(po + p * L);
        tax = (listed & (pp != zero)) ? tax + ld<V>(project_tax_ + p * L) * pp : tax;
        const V yp = ld<V>(yproj + p * L);
        const M has = listed & (yp != zero);
        const int c = plan.project_cluster[p];
        const int jobs_slot = plan.project[p].jobs;
        V jobs;
        if (jobs_slot >= 0) {
          const V capacity = ld<V>(capacity_ + p * L);
          jobs = capacity > zero ? ld<V>(jobs_ + p * L) * yp / capacity : zero;
        } else {
          jobs = 1e4 * yp / (ld<V>(per_worker_ + c * L) * ld<V>(factor + c * L));
        }
        const V e = ld<V>(emp + c * L);
        st<V>(emp + c * L, has ? e + jobs : e);
      }
    }
    V employment{};
    for (int c = 0; c < C; ++c) {
      const V e = ld<V>(emp + c * L);
      employment += e;
    }
    st<V>(metrics + (m_employment + y) * L, employment);
    st<V>(metrics + (m_tax + y) * L, tax);
    const V rest = ld<V>(rest_ + y * L);
    const V gdp = rest + va;
    st<V>(metrics + (m_output + y) * L, output);
    st<V>(metrics + (m_va + y) * L, va);
    st<V>(metrics + (m_mva + y) * L, mva);
    st<V>(metrics + (m_gdp + y) * L, gdp);
    st<V>(metrics + (m_mva_share + y) * L, mva / gdp);
    st<V>(metrics + (m_digital + y) * L, (digital + digital_rest * rest) / gdp);
    st<V>(metrics + (m_sei + y) * L, output > zero ? sei / output : zero);
    const V gdp_real = ld<V>(rest_real + y * L) + va_real;
    st<V>(metrics + (m_output_real + y) * L, output_real);
    st<V>(metrics + (m_va_real + y) * L, va_real);
    st<V>(metrics + (m_gdp_real + y) * L, gdp_real);
    if (y == 0) {
      st<V>(metrics + (m_va_growth)*L, nans);
      st<V>(metrics + (m_gdp_growth)*L, nans);
      st<V>(metrics + (m_loans)*L, nans);
      st<V>(metrics + (m_loan_share)*L, nans);
    } else {
      st<V>(metrics + (m_va_growth + y) * L, va_real / va_real_prev - 1.0);
      st<V>(metrics + (m_gdp_growth + y) * L, gdp_real / gdp_real_prev - 1.0);
      st<V>(metrics + (m_loans + y) * L, ld<V>(loans_ + (y - 1) * L));
      st<V>(metrics + (m_loan_share + y) * L, ld<V>(loan_share_ + (y - 1) * L));
    }
    va_real_prev = va_real;
    gdp_real_prev = gdp_real;
    // check_draw's conditions.
    bad |= ~((gdp > zero) & (gdp < big) & (gdp_real > zero) & (gdp_real < big) &
             (employment >= zero) & (employment < big));
  }
  for (int k = 0; k < NY * C; ++k) {
    const V y = ld<V>(co_ + k * L);
    bad |= ~((y >= zero) & (y < big));
  }
  // Each lane's rows to its DrawOutput.
  copy_out<V, M>(g.co.data() + k0, 0, NY * C, g.out_co + k0);
  copy_out<V, M>(g.emp.data() + k0, 0, NY * C, g.out_emp + k0);
  const auto metric_rows = [&](Metric from, Metric to) {
    copy_out<V, M>(metrics, static_cast<int>(from) * NY, (static_cast<int>(to) + 1) * NY,
                   g.out_metrics + k0);
  };
  metric_rows(Metric::industrial_output, Metric::employment);
  metric_rows(Metric::new_loans, Metric::manufacturing_loan_share);
  metric_rows(Metric::industrial_output_real, Metric::gdp_real_growth);
  std::uint32_t mask = 0;
  for (std::size_t j = 0; j < sizeof(M) / sizeof(std::int64_t); ++j)
    mask |= static_cast<std::uint32_t>(bad[j] != 0) << (k0 + j);
  return mask;
#undef v
}

// The kernels for each instruction set, over the first n lanes (rounded up
// to whole registers).
template <int W>
CS_INLINE void before_lanes(const Plan& plan, DrawWorkspace& ws, int n, std::int64_t* positive) {
  for (int k0 = 0; k0 < n; k0 += W)
    lanes_before<typename Lane<W>::V, typename Lane<W>::M>(plan, ws, k0, positive);
}
template <int W>
CS_INLINE std::uint32_t after_lanes(const Plan& plan, DrawWorkspace& ws, int n) {
  std::uint32_t bad = 0;
  for (int k0 = 0; k0 < n; k0 += W)
    bad |= lanes_after<typename Lane<W>::V, typename Lane<W>::M>(plan, ws, k0);
  return bad;
}
void lanes_before_default(const Plan& plan, DrawWorkspace& ws, int n, std::int64_t* positive) {
  before_lanes<2>(plan, ws, n, positive);
}
std::uint32_t lanes_after_default(const Plan& plan, DrawWorkspace& ws, int n) {
  return after_lanes<2>(plan, ws, n);
}
#if defined(__x86_64__) && defined(__GNUC__)
#define COUNTYSIM_LANES_X86 1
__attribute__((target("avx2"))) void lanes_before_avx2(const Plan& plan, DrawWorkspace& ws, int n,
                                                       std::int64_t* positive) {
  before_lanes<4>(plan, ws, n, positive);
}
__attribute__((target("avx2"))) std::uint32_t lanes_after_avx2(const Plan& plan, DrawWorkspace& ws,
                                                               int n) {
  return after_lanes<4>(plan, ws, n);
}
__attribute__((target("avx512f"))) void lanes_before_avx512(const Plan& plan, DrawWorkspace& ws,
                                                            int n, std::int64_t* positive) {
  before_lanes<8>(plan, ws, n, positive);
}
__attribute__((target("avx512f"))) std::uint32_t lanes_after_avx512(const Plan& plan,
                                                                    DrawWorkspace& ws, int n) {
  return after_lanes<8>(plan, ws, n);
}
#endif

#pragma GCC diagnostic pop

std::atomic<int> lane_cap{2};

// The widest kernels simd_level() allows, at most lane_cap (every one gives
// the same bits).
int lane_isa() {
#if defined(COUNTYSIM_LANES_X86)
  const int cap = lane_cap.load(std::memory_order_relaxed);
  const SimdLevel level = simd_level();
  if (cap >= 2 && level >= SimdLevel::avx512) return 2;
  if (cap >= 1 && level >= SimdLevel::avx2) return 1;
#endif
  return 0;
}

// One group of n <= L draws. Returns false where a draw is invalid (or a
// stage threw): the caller then runs simulate_draw draw by draw, which
// throws the first draw's error.
bool simulate_group(const Plan& plan, std::uint64_t seed, std::uint64_t first, int n,
                    DrawWorkspace& ws, DrawOutput* outs) {
  const Scenario& sc = *plan.scenario;
  DrawWorkspace::Lanes& g = ws.group;
  for (int j = 0; j < n; ++j) ws.block.inputs(plan, seed, first + j, outs[j].inputs);
  for (int j = 0; j < L; ++j) {
    // Lanes past the group: any valid inputs, and spare outputs.
    g.inputs[j] = j < n ? outs[j].inputs.data() : g.inputs[0];
    g.out_metrics[j] = j < n ? outs[j].year_metrics.data() : g.spare_metrics.data();
    g.out_co[j] = j < n ? outs[j].cluster_output.data() : g.spare_co.data();
    g.out_emp[j] = j < n ? outs[j].cluster_employment.data() : g.spare_emp.data();
  }
  const int isa = lane_isa();
  alignas(64) std::int64_t positive[L];
#if defined(COUNTYSIM_LANES_X86)
  if (isa == 2)
    lanes_before_avx512(plan, ws, n, positive);
  else if (isa == 1)
    lanes_before_avx2(plan, ws, n, positive);
  else
#endif
    lanes_before_default(plan, ws, n, positive);
  for (int j = 0; j < n; ++j) {
    const std::vector<double>& v = outs[j].inputs;
    project_timing(plan, v, ws);
    schedule_factors(plan, v, ws, outs[j]);
    project_production_lane(plan, ws, outs[j], j, positive[j] != 0);
    firm_counts(plan, plan.above_scale, sc.firms.above_scale, Metric::above_scale_firms, ws,
                outs[j]);
    firm_counts(plan, plan.high_tech, sc.firms.high_tech, Metric::high_tech_firms, ws, outs[j]);
  }
  std::uint32_t bad;
#if defined(COUNTYSIM_LANES_X86)
  if (isa == 2)
    bad = lanes_after_avx512(plan, ws, n);
  else if (isa == 1)
    bad = lanes_after_avx2(plan, ws, n);
  else
#endif
    bad = lanes_after_default(plan, ws, n);
  if (bad & ((std::uint32_t{1} << n) - 1)) return false;
  for (int j = 0; j < n; ++j) evaluate_targets(plan, outs[j]);
  return true;
}

}  // namespace

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

int simulate_draws_kernels(int cap) {
  if (cap >= 0) lane_cap.store(cap, std::memory_order_relaxed);
  return lane_isa();
}

void simulate_draws(const Plan& plan, std::uint64_t seed, std::uint64_t first, std::size_t count,
                    DrawWorkspace& ws, DrawOutput* outs) {
  if (ws.prepared_for != plan.id || plan.id == 0) prepare(plan, ws);
  if (ws.group.prepared_for != plan.id || plan.id == 0) size_group(plan, ws.group);
  for (std::size_t j0 = 0; j0 < count; j0 += L) {
    const int n = static_cast<int>(std::min<std::size_t>(L, count - j0));
    bool ok = false;
    try {
      ok = simulate_group(plan, seed, first + j0, n, ws, outs + j0);
    } catch (...) {
      ok = false;
    }
    // An invalid draw in the group: draw by draw, so that the first one
    // throws its own error (the earlier ones are valid and come out the same).
    if (!ok)
      for (int j = 0; j < n; ++j) simulate_draw(plan, seed, first + j0 + j, ws, outs[j0 + j]);
  }
}

}  // namespace countysim
