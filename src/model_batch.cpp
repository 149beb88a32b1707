// simulate_draws: a group of draws in vector lanes (model.hpp). The stages
// that branch per draw come from model.cpp through model_stages.hpp.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#include "countysim/model.hpp"
#include "countysim/simd.hpp"
#include "model_stages.hpp"

namespace countysim {

using namespace model_stages;

namespace {

// Each lane holds one draw and does the same operations in the same order
// as the stages of model.cpp (GCC vector extensions: IEEE +, -, x, / lane by
// lane, no contraction under -ffp-contract=off), so every lane has
// simulate_draw's bits. The branchy stages (timing, scheduling, production, firm counts) run
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
template <class M>
CS_INLINE bool all_lanes(const M& m) {
  std::int64_t all = -1;
#pragma GCC unroll 8
  for (std::size_t j = 0; j < sizeof(M) / sizeof(std::int64_t); ++j) all &= m[j];
  return all == -1;
}
template <class V, class T>
CS_INLINE V splat(T x) {
  V v;
#pragma GCC unroll 8
  for (std::size_t j = 0; j < sizeof(V) / sizeof(double); ++j) v[j] = x;
  return v;
}

// add + std::max(0, static_cast<int>(round_half_away(x))) of each lane, as
// a double (a whole number; add a month number, far below 2^30): for
// |x| < 2^30 by exact operations (the truncation as floor(|x|) with its
// sign: |x| + 2^52 - 2^52 rounds |x| to a whole number, one less where that
// is above |x|; the rest x - i exact; i + 1 or i - 1 exact), other lanes
// (larger, NaN) by the scalar code, the sum of ints wrapping as it does there.
template <class V, class M>
CS_INLINE V rounded_months(const V& x, int add) {
  constexpr int W = sizeof(V) / sizeof(double);
  const M sign = splat<M>(std::int64_t{1} << 63);
  const V ax = (V)((M)x & ~sign);
  const V big = splat<V>(0x1.0p52), one = splat<V>(1.0), zero{};
  V r = (ax + big) - big;
  r = r > ax ? r - one : r;
  const V i = (V)((M)r | ((M)x & sign));
  const V rest = x - i;
  const V half = splat<V>(0.5);
  V n = i + (rest >= half ? one : zero) - (rest <= -half ? one : zero);
  n = (n > zero ? n : zero) + static_cast<double>(add);
  const M inside = ax < splat<V>(0x1.0p30);
  if (!all_lanes(inside)) {
#pragma GCC unroll 8
    for (int j = 0; j < W; ++j)
      if (!inside[j]) {
        const int m = std::max(0, static_cast<int>(round_half_away(x[j])));
        n[j] = static_cast<int>(static_cast<unsigned>(add) + static_cast<unsigned>(m));
      }
  }
  return n;
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
  for (auto* v : {&g.ready, &g.construction, &g.ramp}) lanes(*v, P);
  g.success.assign(std::max<std::size_t>(P, 1) * L, 0);
  for (auto* v : {&g.zt, &g.rest_price, &g.rest_real, &g.rest}) lanes(*v, NY);
  lanes(g.levels, NY * (I + 1));
  for (auto* v : {&g.ratio, &g.tax, &g.per_worker, &g.productivity, &g.factor}) lanes(*v, C);
  for (auto* v : {&g.yinc, &g.price, &g.d, &g.x, &g.yreal, &g.co, &g.emp}) lanes(*v, NY * C);
  lanes(g.yproj, NY * P);
  lanes(g.po, NY * P);  // year 0 stays +0: project_output's base year
  lanes(g.months, NY * P);
  lanes(g.started_capacity, P);
  lanes(g.start_at, P);
  lanes(g.production_at, P);
  lanes(g.project_tax, P);
  lanes(g.opened, 2 * NY);
  g.producing.assign(std::max<std::size_t>(P, 1) * L, 0);
  g.spare_metrics.assign(static_cast<std::size_t>(year_metric_count) * NY, 0.0);
  lanes(g.metrics, static_cast<std::size_t>(year_metric_count) * NY);
  g.spare_co.assign(std::max<std::size_t>(NY * C, 1), 0.0);
  g.spare_emp.assign(std::max<std::size_t>(NY * C, 1), 0.0);
  g.spare_po.assign(std::max<std::size_t>(NY * P, 1), 0.0);
  g.prepared_for = plan.id;
}

// Stages before the projects: common shock, the per-draw inputs, incumbent
// output and price levels (common_shock, gather_inputs, incumbent_output,
// price_levels).
template <class V, class M>
CS_INLINE void lanes_before(const Plan& plan, DrawWorkspace& ws, int k0) {
  const Scenario& sc = *plan.scenario;
  DrawWorkspace::Lanes& g = ws.group;
  // The chunk's first lane of each array, read once (the vector stores may
  // alias anything, so g's members would be loaded again after each).
  auto* const capacity_ = g.capacity.data() + k0;
  auto* const jobs_ = g.jobs.data() + k0;
  auto* const ready_ = g.ready.data() + k0;
  auto* const construction_ = g.construction.data() + k0;
  auto* const ramp_ = g.ramp.data() + k0;
  auto* const success_ = g.success.data() + k0;
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
  const V half = splat<V>(0.5), zero{};
  for (int p = 0; p < P; ++p) {
    const ProjectSlots& s = plan.project[p];
    const int slot = s.tax_rate;
    st<V>(project_tax_ + p * L, slot >= 0 ? v(slot) : ld<V>(tax_ + plan.project_cluster[p] * L));
    st<V>(capacity_ + p * L, v(s.capacity));
    if (s.jobs >= 0) st<V>(jobs_ + p * L, v(s.jobs));
    // project_timing's element-wise part (project_timing_lane the rest).
    const M success = v(s.success) > half;
    std::memcpy(success_ + p * L, &success, sizeof success);
    st<V>(ready_ + p * L, rounded_months<V, M>(v(s.delay), ws.planned[p]));
    st<V>(construction_ + p * L, rounded_months<V, M>(v(s.construction), 0));
    const V ramp = v(s.ramp);
    st<V>(ramp_ + p * L, zero < ramp ? ramp : zero);  // std::max(0.0, ramp)
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
  // What the projects' output adds to: zeros (+0.0), a register at a time
  // (memset is out of line). Not yproj, po and the producing list:
  // lanes_production writes every element of those.
  double* const end = g.d.data() + g.d.size();
  for (double* e = g.d.data() + k0; e < end; e += L) st<V>(e, zero);
#undef v
}

// project_timing for lane j from the group's arrays (lanes_before), then
// the scheduling order as project_timing has it.
void project_timing_lane(const Plan& plan, DrawWorkspace& ws, int j) {
  const int P = plan.projects;
  const DrawWorkspace::Lanes& g = ws.group;
  ProjectState* ps = ws.projects.data();
  const double* ready = g.ready.data() + j;
  const double* construction = g.construction.data() + j;
  const double* ramp = g.ramp.data() + j;
  const double* capacity = g.capacity.data() + j;
  const std::int64_t* success = g.success.data() + j;
  for (int p = 0; p < P; ++p) {
    ProjectState& st = ps[p];
    st.success = success[p * L] != 0;
    st.ready = static_cast<int>(ready[p * L]);
    st.construction = static_cast<int>(construction[p * L]);
    st.ramp = ramp[p * L];
    st.capacity = capacity[p * L];
    st.start = st.production = -1;
  }
  scheduling_order(plan, ws);
}

// project_production for lane j, the part that branches: the start and
// production months, the counts of projects started and producing, and for
// each project its producing months of each year into g.months (+0 before
// production), its capacity into g.started_capacity (+0 where it did not
// start) and whether it is in the producing list; lanes_production then
// computes the output of every lane at once. A year's output is capacity x
// months / 12, which before production is capacity x 0 / 12: the bits of
// capacity x 0 (a zero divided by 12 keeps its sign, a NaN stays the same
// NaN), the y0 of project_production. Where project_production leaves a +0
// output (and the cluster's sum, and nominal +0 at positive prices) as they
// were filled, the lanes write +0 (price x +0 at positive prices) and add it
// to d (a sum from +0 is never -0, so adding +0 leaves it the same).
void project_months_lane(const Plan& plan, DrawWorkspace& ws, DrawOutput& out, int j) {
  const int T = plan.years, P = plan.projects, M = 12 * T;
  DrawWorkspace::Lanes& g = ws.group;
  ProjectState* ps = ws.projects.data();
  double* months_ = g.months.data() + j;
  double* capacity_ = g.started_capacity.data() + j;
  double* start_at = g.start_at.data() + j;
  double* production_at = g.production_at.data() + j;
  std::int64_t* listed = g.producing.data() + j;
  double* q = ws.ramp.data();
  const double* month_numbers = ws.months.data();
  int* start_month = out.start_month.data();
  int* production_month = out.production_month.data();
  const std::size_t step = static_cast<std::size_t>(P) * L;
  for (int p = 0; p < P; ++p) {
    ProjectState& st = ps[p];
    double* m = months_ + (P + p) * L;  // year 1, then step by step
    start_month[p] = st.start;
    if (st.start < 0) {
      production_month[p] = -1;
      start_at[p * L] = production_at[p * L] = inf;
      capacity_[p * L] = 0.0;
      listed[p * L] = 0;
      for (int t = 1; t <= T; ++t, m += step) *m = 0.0;
      continue;
    }
    const int o = st.production = st.start + st.construction;
    production_month[p] = o;
    start_at[p * L] = st.start;
    production_at[p * L] = o;
    const double capacity = st.capacity;
    capacity_[p * L] = capacity;
    if (o >= M) {
      // No producing month in the horizon: listed where capacity x 0 is
      // not zero (a NaN capacity).
      listed[p * L] = capacity * 0.0 != 0.0 ? ~std::int64_t{0} : 0;
      for (int t = 1; t <= T; ++t, m += step) *m = 0.0;
      continue;
    }
    listed[p * L] = ~std::int64_t{0};
    const double* sums = ramp_table(ws, p, st.ramp, M);
    if (sums) {
      // The table's row for O (ramp_rows, built with sums).
      const double* row = ws.ramp_rows.data() + (static_cast<std::size_t>(p) * M + o) * T;
      for (int t = 0; t < T; ++t, m += step) *m = row[t];
    } else {
      const int n = ramp_fractions(st.ramp, M - o, month_numbers, q);
      const int first = o / 12 + 1;
      for (int t = 1; t <= T; ++t, m += step)
        *m = t < first ? 0.0 : year_months(nullptr, q, o, n, t);
    }
  }
}

// project_production's output of the lanes (project_months_lane): real
// output capacity x months / 12 of each project and year, added to its
// cluster's d in the order of the projects, and nominal output price x real
// (to the lanes, then to each draw's project_output, year 0 +0).
template <class V, class M>
CS_INLINE void lanes_production(const Plan& plan, DrawWorkspace& ws, int k0) {
  DrawWorkspace::Lanes& g = ws.group;
  const int T = plan.years, C = plan.clusters, P = plan.projects, NY = T + 1;
  double* const yproj = g.yproj.data() + k0;
  double* const d = g.d.data() + k0;
  double* const po = g.po.data() + k0;
  const double* const price = g.price.data() + k0;
  const double* const months = g.months.data() + k0;
  const double* const capacity = g.started_capacity.data() + k0;
  for (int p = 0; p < P; ++p) {
    const int c = plan.project_cluster[p];
    const V k = ld<V>(capacity + p * L);
    for (int t = 1; t <= T; ++t) {
      const int e = (t * P + p) * L, ec = (t * C + c) * L;
      const V y = k * ld<V>(months + e) / 12.0;
      st<V>(yproj + e, y);
      st<V>(d + ec, ld<V>(d + ec) + y);
      st<V>(po + e, ld<V>(price + ec) * y);
    }
  }
  copy_out<V, M>(po, 0, NY * P, g.out_po + k0);
  // The projects started and producing by year y (project_production's
  // counts: started from the year after its start month's, producing from
  // the year after its production month's, i.e. months below 12 y). Counted
  // as integers (one cycle an add, where a chain of double adds waits on
  // each), then 2^52 + n - 2^52, exact. (Every compare feeds a select of two
  // values: GCC 12 lowers a compare used as a mask value, or a select with a
  // constant 0 (an AND with the mask), lane by lane with scalar compares.)
  const double* const start_at = g.start_at.data() + k0;
  const double* const production_at = g.production_at.data() + k0;
  const V two52 = splat<V>(0x1.0p52);  // n as a double: 2^52 + n (bits), less 2^52
  const M m1 = splat<M>(std::int64_t{1});
  double* const metrics = g.metrics.data() + k0;
  const int m_started = static_cast<int>(Metric::projects_started) * NY;
  const int m_producing = static_cast<int>(Metric::projects_producing) * NY;
  for (int y = 0; y < NY; ++y) {
    const V end = splat<V>(12.0 * y);
    M started{}, producing{};
    for (int p = 0; p < P; ++p) {
      started = ld<V>(start_at + p * L) < end ? started + m1 : started;
      producing = ld<V>(production_at + p * L) < end ? producing + m1 : producing;
    }
    st<V>(metrics + (m_started + y) * L, (V)(started | (M)two52) - two52);
    st<V>(metrics + (m_producing + y) * L, (V)(producing | (M)two52) - two52);
  }
  // firm_openings of each lane: the flagged projects whose production month
  // is in year t (12 (t - 1) <= O < 12 t), to g.opened [series][lane][year].
  constexpr int W = sizeof(V) / sizeof(double);
  const FirmSlots* series[2] = {&plan.above_scale, &plan.high_tech};
  for (int k = 0; k < 2; ++k) {
    double* const opened = g.opened.data() + (k * L + k0) * NY;
#pragma GCC unroll 8
    for (int j = 0; j < W; ++j) opened[j * NY] = 0;
    for (int t = 1; t <= T; ++t) {
      const V lo = splat<V>(12.0 * (t - 1)), hi = splat<V>(12.0 * t);
      // Those from 12 (t - 1) on, less those from 12 t on (+inf: neither).
      M count{};
      for (const int p : series[k]->flagged) {
        const V o = ld<V>(production_at + p * L);
        count = o >= lo ? count + m1 : count;
        count = o >= hi ? count - m1 : count;
      }
      const V c = (V)(count | (M)two52) - two52;
#pragma GCC unroll 8
      for (int j = 0; j < W; ++j) opened[j * NY + t] = c[j];
    }
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
  lanes_production<V, M>(plan, ws, k0);
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
        // A column of d_j = 0 is skipped in every lane: +0 or -0, no bit
        // but the sign (bit operations, not a compare's mask).
        if (!any_lane((M)dj & ~(M)splat<V>(-0.0))) continue;
        const double* col = l + static_cast<std::size_t>(jc) * C;
        for (int i = 0; i < C; ++i) {
          const V xi = ld<V>(x + i * L);
          st<V>(x + i * L, dj != zero ? xi + col[i] * dj : xi);
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
  // check_draw's conditions: bad counts, lane by lane, those not met.
  const M m1 = splat<M>(std::int64_t{1});
  M bad = r0 > zero ? M{} : m1;
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
    bad = gdp > zero ? bad : bad + m1;
    bad = gdp < big ? bad : bad + m1;
    bad = gdp_real > zero ? bad : bad + m1;
    bad = gdp_real < big ? bad : bad + m1;
    bad = employment >= zero ? bad : bad + m1;
    bad = employment < big ? bad : bad + m1;
  }
  for (int k = 0; k < NY * C; ++k) {
    const V y = ld<V>(co_ + k * L);
    bad = y >= zero ? bad : bad + m1;
    bad = y < big ? bad : bad + m1;
  }
  // Each lane's rows to its DrawOutput.
  copy_out<V, M>(g.co.data() + k0, 0, NY * C, g.out_co + k0);
  copy_out<V, M>(g.emp.data() + k0, 0, NY * C, g.out_emp + k0);
  // The metric rows the lanes computed (a loop, not a lambda: a lambda
  // does not take the kernel's target, and ran the transposes without it).
  static constexpr Metric metric_rows[][2] = {
      {Metric::industrial_output, Metric::employment},
      {Metric::new_loans, Metric::manufacturing_loan_share},
      {Metric::projects_started, Metric::projects_producing},
      {Metric::industrial_output_real, Metric::gdp_real_growth}};
  for (const auto& r : metric_rows)
    copy_out<V, M>(metrics, static_cast<int>(r[0]) * NY, (static_cast<int>(r[1]) + 1) * NY,
                   g.out_metrics + k0);
  std::uint32_t mask = 0;
  for (std::size_t j = 0; j < sizeof(M) / sizeof(std::int64_t); ++j)
    mask |= static_cast<std::uint32_t>(bad[j] != 0) << (k0 + j);
  return mask;
#undef v
}

// The kernels for each instruction set, over the first n lanes (rounded up
// to whole registers).
template <int W>
CS_INLINE void before_lanes(const Plan& plan, DrawWorkspace& ws, int n) {
  for (int k0 = 0; k0 < n; k0 += W)
    lanes_before<typename Lane<W>::V, typename Lane<W>::M>(plan, ws, k0);
}
template <int W>
CS_INLINE std::uint32_t after_lanes(const Plan& plan, DrawWorkspace& ws, int n) {
  std::uint32_t bad = 0;
  for (int k0 = 0; k0 < n; k0 += W)
    bad |= lanes_after<typename Lane<W>::V, typename Lane<W>::M>(plan, ws, k0);
  return bad;
}
void lanes_before_default(const Plan& plan, DrawWorkspace& ws, int n) {
  before_lanes<2>(plan, ws, n);
}
std::uint32_t lanes_after_default(const Plan& plan, DrawWorkspace& ws, int n) {
  return after_lanes<2>(plan, ws, n);
}
#if defined(__x86_64__) && defined(__GNUC__)
#define COUNTYSIM_LANES_X86 1
__attribute__((target("avx2"))) void lanes_before_avx2(const Plan& plan, DrawWorkspace& ws, int n) {
  before_lanes<4>(plan, ws, n);
}
__attribute__((target("avx2"))) std::uint32_t lanes_after_avx2(const Plan& plan, DrawWorkspace& ws,
                                                               int n) {
  return after_lanes<4>(plan, ws, n);
}
__attribute__((target("avx512f"))) void lanes_before_avx512(const Plan& plan, DrawWorkspace& ws,
                                                            int n) {
  before_lanes<8>(plan, ws, n);
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
  ws.block.inputs(plan, seed, first, static_cast<std::size_t>(n),
                  [outs](std::size_t j) -> std::vector<double>& { return outs[j].inputs; });
  for (int j = 0; j < L; ++j) {
    // Lanes past the group: any valid inputs, and spare outputs.
    g.inputs[j] = j < n ? outs[j].inputs.data() : g.inputs[0];
    g.out_metrics[j] = j < n ? outs[j].year_metrics.data() : g.spare_metrics.data();
    g.out_co[j] = j < n ? outs[j].cluster_output.data() : g.spare_co.data();
    g.out_emp[j] = j < n ? outs[j].cluster_employment.data() : g.spare_emp.data();
    g.out_po[j] = j < n ? outs[j].project_output.data() : g.spare_po.data();
  }
  const int isa = lane_isa(), NY = plan.years + 1;
#if defined(COUNTYSIM_LANES_X86)
  if (isa == 2)
    lanes_before_avx512(plan, ws, n);
  else if (isa == 1)
    lanes_before_avx2(plan, ws, n);
  else
#endif
    lanes_before_default(plan, ws, n);
  for (int j = 0; j < n; ++j) {
    project_timing_lane(plan, ws, j);
    schedule_factors(plan, outs[j].inputs, ws, outs[j]);
    project_months_lane(plan, ws, outs[j], j);
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
  // The firm counts of all the group's draws together (exits in lanes), from
  // the openings lanes_after counted.
  firm_counts_lanes(plan, plan.above_scale, sc.firms.above_scale, Metric::above_scale_firms,
                    g.opened.data(), n, outs);
  firm_counts_lanes(plan, plan.high_tech, sc.firms.high_tech, Metric::high_tech_firms,
                    g.opened.data() + L * NY, n, outs);
  for (int j = 0; j < n; ++j) evaluate_targets(plan, outs[j]);
  return true;
}

}  // namespace

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
