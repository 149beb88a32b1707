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
// yreal, yproj and rest_real are volumes; index_price [year][index],
// price [year][cluster] and rest_price [year] are price levels (1 in the base
// year); rest is the nominal rest of the economy.
struct DrawWorkspace {
  std::vector<double> scratch, zt, yinc, d, x, rest;
  std::vector<double> yreal, yproj, rest_real, index_price, price, rest_price;
  std::vector<double> opened;  // firm_counts: projects opening per year
  std::vector<double> growth;  // employment: (1 + productivity growth)^y by cluster
  std::vector<int> order;
  std::vector<std::uint64_t> order_keys;  // project_timing: sort keys of `order`
  std::vector<int> waiting;               // schedule_factors: projects not started yet
  std::vector<char> wake;                 // [month]: a waiting project becomes ready
  std::vector<ProjectState> projects;
  InputBlock block;  // the inputs of the next draws, sampled a block at a time
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

}  // namespace countysim
