// What one Monte-Carlo draw computes (model.md): from the sampled inputs to
// every metric of every year, and the value each target compares.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "countysim/metrics.hpp"
#include "countysim/plan.hpp"
#include "countysim/sampling.hpp"

namespace countysim {

// Everything a draw produces. Year index 0 is the base year, 1..T the
// projection years. Money is in current prices (nominal: cluster_output,
// project_output) except the *_real metrics. Filled by simulate_draw; sized
// by resize().
struct DrawOutput {
  int years = 0, clusters = 0, projects = 0, targets = 0;
  std::vector<double> year_metrics;        // [metric][year], year_metric_count metrics
  std::vector<double> cluster_output;      // [year][cluster]
  std::vector<double> cluster_employment;  // [year][cluster]
  std::vector<double> project_output;      // [year][project]
  std::vector<int> start_month;            // [project], -1 = none
  std::vector<int> production_month;       // [project], -1 = none (O_p, when inside the horizon)
  std::vector<double> target_value;        // [target]
  std::vector<std::uint8_t> target_met;    // [target]
  std::vector<double> inputs;              // [slot]: sampled inputs (exit counts replace uniforms)

  void resize(const Plan& plan);
  double& metric(Metric m, int year) {
    return year_metrics[static_cast<int>(m) * (years + 1) + year];
  }
  double metric(Metric m, int year) const {
    return year_metrics[static_cast<int>(m) * (years + 1) + year];
  }
};

// A project's timing within one draw.
struct ProjectState {
  bool success = false;
  int ready = 0, construction = 0, start = -1, production = -1;
  double ramp = 0, capacity = 0;
};

// Per-thread scratch space, reused across draws so the hot loop does not allocate.
// Quantities are real (base-year prices) unless named nominal: yinc, d, x,
// yreal, yproj and rest_real are volumes; levels [year][1 + index],
// price [year][cluster] and rest_price [year] are price levels (1 in the base
// year); rest is the nominal rest of the economy.
struct DrawWorkspace {
  std::vector<double> zt, yinc, d, x, rest;
  std::vector<double> yreal, yproj, rest_real, price, rest_price;
  std::vector<double> levels;             // [year][1 + index], 1 at [year][0]
  std::vector<double> opened;             // firm_counts: projects opening per year
  std::vector<double> growth;             // employment: (1 + productivity growth)^y by cluster
  std::vector<int> order;                 // the successful projects in scheduling order
  std::vector<std::uint64_t> order_keys;  // project_timing: sort keys of `order`
  std::vector<int> waiting;               // schedule_factors (over 64 projects): not started yet
  std::vector<std::uint64_t> wake;        // [month] bits: a waiting project becomes ready
  std::vector<std::uint64_t> ready_at;    // [month]: bits of `order` positions that become ready
  std::vector<double> ramp;               // project_production: k / R, k = 1, 2, ...
  // project_production, by project: the bits of the ramp R of the last draw
  // (ramp_seen), and of the ramp whose year sums are in ramp_sums
  // (ramp_tabled; ~0, a NaN that no ramp has, for none); ramp_sums
  // [project][d - 1] the sum of a year that ends d months after O,
  // d = 1 .. 12 T (model_stages::ramp_table).
  std::vector<std::uint64_t> ramp_seen, ramp_tabled;
  std::vector<double> ramp_sums;
  // With ramp_sums, the same sums by production month: [project][O][t - 1]
  // the months of year t, +0 before O's year (simulate_draws).
  std::vector<double> ramp_rows;
  std::vector<int> counts;     // project_production: started and producing by year
  std::vector<int> producing;  // projects with output in the horizon, ascending
  std::vector<ProjectState> projects;
  // Per draw, by cluster: value-added ratio, tax rate, output per worker and
  // 1 + productivity growth, read once from the slots; by project: tax rate.
  std::vector<double> ratio, tax, per_worker, productivity, project_tax;

  // What the draws take from the plan, laid out flat once (prepared_for: the
  // plan's id; a plan is not changed after compile_plan, as for `block`) so
  // that the hot loop does not walk the scenario's structs.
  std::uint64_t prepared_for = 0;
  std::vector<double> land_mu, need_credit;              // [project]
  std::vector<double> land_from, credit_from;            // [project] covers_from(need)
  std::vector<int> planned;                              // [project] planned start month
  std::vector<int> growth_slot, price_slot;              // [year - 1][cluster], [year - 1][index]
  std::vector<double> shock_loading, credit_elasticity;  // [cluster]
  std::vector<char> manufacturing;                       // [cluster]
  std::vector<double> digital_share, sei_share;          // [cluster]
  std::vector<std::uint64_t> static_keys;  // [project] (priority rank, planned, p) in order
  std::vector<double> months;              // 1, 2, ..., 12 T
  InputBlock block;  // the inputs of the next draws, sampled a block at a time

  // simulate_draws: a group of up to `lanes` draws as structure of arrays,
  // lane j of element e at [e * lanes + j], so that the element-wise stages
  // run across the draws in vector lanes.
  static constexpr int lanes = 16;
  struct Lanes {
    std::uint64_t prepared_for = 0;
    const double* inputs[lanes] = {};  // lane j: its draw's inputs
    double* out_metrics[lanes] = {};   // lane j: its DrawOutput's year_metrics,
    double* out_co[lanes] = {};        // cluster_output
    double* out_emp[lanes] = {};       // cluster_employment
    double* out_po[lanes] = {};        // and project_output (past the group: spare)
    std::vector<double> spare_metrics, spare_co, spare_emp, spare_po;
    std::vector<double> metrics;            // [metric][year]
    std::vector<double> loans, loan_share;  // [year - 1]
    std::vector<double> capacity, jobs;     // [project]
    // project_timing's inputs of each project: ready and construction months
    // (whole numbers), the ramp; success ~0 where the project goes ahead.
    std::vector<double> ready, construction, ramp;             // [project]
    std::vector<std::int64_t> success;                         // [project]
    std::vector<double> zt, rest_price, rest_real, rest;       // [year]
    std::vector<double> levels;                                // [year][1 + index]
    std::vector<double> ratio, tax, per_worker, productivity;  // [cluster]
    std::vector<double> factor;                                // [cluster]
    std::vector<double> yinc, price, d, x, yreal, co, emp;     // [year][cluster]
    std::vector<double> yproj, po;                             // [year][project]
    // project_months_lane: a project's producing months of each year (+0
    // before production and without it), and its capacity where it started
    // (+0 where not), so that its output is capacity x months / 12 in lanes.
    std::vector<double> months;            // [year][project]
    std::vector<double> started_capacity;  // [project]
    // project_months_lane: start and production months (+inf where none),
    // from which the lanes count the projects started, producing and
    // opening firms.
    std::vector<double> start_at, production_at;  // [project]
    std::vector<double> project_tax;              // [project]
    std::vector<std::int64_t> producing;          // [project]: ~0 if in the list
    std::vector<double> opened;  // [series][lane][year]: firm_openings of each draw
  } group;
};

// std::lround(x) without the call to libm for |x| < 2^52 (project delays and
// construction months): the truncation i, then one step away from zero when
// the rest x - i (exact) is at least a half; NaN, infinities and larger |x|
// go to std::lround itself. The same value for every x (tests/test_model.cpp).
inline long round_half_away(double x) {
  if (!(std::abs(x) < 0x1.0p52)) return std::lround(x);
  const long i = static_cast<long>(x);
  const double rest = x - static_cast<double>(i);
  return i + (rest >= 0.5) - (rest <= -0.5);
}

// Computes draw `draw`. Throws RunError if the draw is invalid (e.g. the
// rest of the economy would be negative), naming the inputs.
void simulate_draw(const Plan& plan, std::uint64_t seed, std::uint64_t draw, DrawWorkspace& ws,
                   DrawOutput& out);

// Draws first .. first + count - 1 into outs[0 .. count): outs[j] is what
// simulate_draw(plan, seed, first + j, ws, outs[j]) gives, bit for bit (each
// outs[j] sized by resize()). Up to DrawWorkspace::lanes draws at a time,
// the element-wise stages across the draws in vector lanes. A group with an
// invalid draw is redone by simulate_draw draw by draw, so the first invalid
// draw throws what simulate_draw throws for it (earlier outs[j] filled).
void simulate_draws(const Plan& plan, std::uint64_t seed, std::uint64_t first, std::size_t count,
                    DrawWorkspace& ws, DrawOutput* outs);

// The vector kernels simulate_draws runs: 2 AVX-512, 1 AVX2, 0 generic (the
// same bits from each). cap >= 0 limits them to at most cap from now on, for
// every thread (tests and benchmarks); returns the kernels now used.
int simulate_draws_kernels(int cap = -1);

}  // namespace countysim
