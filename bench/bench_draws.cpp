// Draws per second of the model alone (sampling + one draw + targets), without
// any output: separates the cost of the model from compression and HDF5.
// Usage: bench_draws SCENARIO [draws] [threads]
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>

#include "countysim/engine.hpp"
#include "countysim/model.hpp"
#include "countysim/scenario.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: bench_draws SCENARIO [draws] [threads]\n");
    return 2;
  }
  const auto sc = countysim::load_scenario(argv[1]);
  const auto plan = countysim::compile_plan(sc);
  const std::uint64_t draws = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 100000;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 1;
  // Sampling alone, then the whole draw.
  std::vector<double> values, scratch;
  auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t d = 0; d < draws; ++d)
    countysim::sample_inputs(plan, sc.seed, d, values, scratch);
  auto t1 = std::chrono::steady_clock::now();
  const auto counts = countysim::count_targets(plan, sc.seed, draws, threads);
  auto t2 = std::chrono::steady_clock::now();
  const double s_sample = std::chrono::duration<double>(t1 - t0).count();
  const double s_all = std::chrono::duration<double>(t2 - t1).count();
  fmt::print("{} random inputs of {} slots\n", plan.random_slots.size(), plan.slots.size());
  fmt::print("sampling only (1 thread): {:.0f} draws/s ({:.2f} us/draw)\n", draws / s_sample,
             1e6 * s_sample / draws);
  fmt::print("whole draws ({} threads): {:.0f} draws/s ({:.2f} us/draw); P(first target) {:.4f}\n",
             threads, draws / s_all, 1e6 * s_all / draws, double(counts.met[0]) / draws);
}
