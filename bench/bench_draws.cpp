// Draws per second of the model alone (sampling + one draw + targets), without
// any output: separates the cost of the model from compression and HDF5.
// Usage: bench_draws SCENARIO [draws] [threads...]
//
// Prints sampling alone (1 thread), whole draws (sampling + model + targets,
// through count_targets) at each thread count, the share of a draw that is
// sampling, and a 64-bit hash of every DrawOutput of the draws (computed once,
// 1 thread): a change of any bit of any draw changes the hash, so a speed-up
// can be checked to leave the numbers alone (bench/README.md).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "countysim/engine.hpp"
#include "countysim/model.hpp"
#include "countysim/sampling.hpp"
#include "countysim/scenario.hpp"

namespace {

// FNV-1a over the bytes of every field of a draw's output.
struct Hash {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  void bytes(const void* p, std::size_t n) {
    const auto* c = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) {
      h ^= c[i];
      h *= 0x100000001b3ULL;
    }
  }
  template <class T>
  void vec(const std::vector<T>& v) {
    bytes(v.data(), v.size() * sizeof(T));
  }
  // Every field of a draw's output, in one fixed order.
  void output(const countysim::DrawOutput& o) {
    vec(o.year_metrics);
    vec(o.cluster_output);
    vec(o.cluster_employment);
    vec(o.project_output);
    vec(o.start_month);
    vec(o.production_month);
    vec(o.target_value);
    vec(o.target_met);
    vec(o.inputs);
  }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: bench_draws SCENARIO [draws] [threads...]\n");
    return 2;
  }
  const auto sc = countysim::load_scenario(argv[1]);
  const auto plan = countysim::compile_plan(sc);
  const std::uint64_t draws = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 100000;
  std::vector<int> threads;
  for (int i = 3; i < argc; ++i) threads.push_back(std::atoi(argv[i]));
  if (threads.empty()) threads = {1};
  fmt::print("{} random inputs of {} slots, {} draws\n", plan.random_slots.size(),
             plan.slots.size(), draws);

  // Sampling alone: the scalar reference (one draw at a time), then as the
  // model samples (InputBlock: blocks of draws, input by input).
  // BENCH_DRAWS_ONLY=1 skips both (for profiles of whole draws alone).
  std::vector<double> values, scratch;
  double s_sample = 0;
  const char* only = std::getenv("BENCH_DRAWS_ONLY");
  auto t0 = std::chrono::steady_clock::now();
  if (!(only && *only)) {
    for (std::uint64_t d = 0; d < draws; ++d)
      countysim::sample_inputs(plan, sc.seed, d, values, scratch);
    const double s_scalar = seconds_since(t0);
    fmt::print("sampling only, scalar sample_inputs (1 thread): {:.0f} draws/s ({:.3f} us/draw)\n",
               draws / s_scalar, 1e6 * s_scalar / draws);
    countysim::InputBlock block;
    t0 = std::chrono::steady_clock::now();
    for (std::uint64_t d = 0; d < draws; ++d) block.inputs(plan, sc.seed, d, values);
    s_sample = seconds_since(t0);
    fmt::print("sampling only, block sampler (1 thread): {:.0f} draws/s ({:.3f} us/draw)\n",
               draws / s_sample, 1e6 * s_sample / draws);
  }

  double s_one = 0;
  for (const int n : threads) {
    t0 = std::chrono::steady_clock::now();
    const auto counts = countysim::count_targets(plan, sc.seed, draws, n);
    const double s_all = seconds_since(t0);
    if (n == 1) s_one = s_all;
    fmt::print(
        "whole draws ({} threads): {:.0f} draws/s ({:.3f} us/draw); P(first target) {:.4f}\n", n,
        draws / s_all, 1e6 * s_all / draws, double(counts.met[0]) / draws);
  }
  {
    // The batched model (simulate_draws), as the engine calls it: groups of 16.
    countysim::DrawWorkspace ws;
    std::vector<countysim::DrawOutput> outs(16);
    for (auto& o : outs) o.resize(plan);
    t0 = std::chrono::steady_clock::now();
    for (std::uint64_t d = 0; d < draws; d += 16)
      countysim::simulate_draws(plan, sc.seed, d, std::min<std::uint64_t>(16, draws - d), ws,
                                outs.data());
    const double s_batch = seconds_since(t0);
    fmt::print("whole draws, batched model (1 thread): {:.0f} draws/s ({:.3f} us/draw)\n",
               draws / s_batch, 1e6 * s_batch / draws);
  }
  if (s_one > 0 && s_sample > 0)
    fmt::print("share of a draw (1 thread): sampling {:.0f}%, model and targets {:.0f}%\n",
               100 * s_sample / s_one, 100 * (1 - s_sample / s_one));

  if (const char* no = std::getenv("BENCH_NO_HASH"); no && *no) return 0;
  countysim::DrawWorkspace ws;
  countysim::DrawOutput out;
  out.resize(plan);
  Hash h;
  for (std::uint64_t d = 0; d < draws; ++d) {
    countysim::simulate_draw(plan, sc.seed, d, ws, out);
    h.output(out);
  }
  fmt::print("hash of every DrawOutput: {:016x}\n", h.h);
  // The same through simulate_draws (groups of 16): the same hash.
  std::vector<countysim::DrawOutput> outs(16);
  for (auto& o : outs) o.resize(plan);
  Hash hb;
  for (std::uint64_t d = 0; d < draws; d += 16) {
    const std::size_t n = std::min<std::uint64_t>(16, draws - d);
    countysim::simulate_draws(plan, sc.seed, d, n, ws, outs.data());
    for (std::size_t j = 0; j < n; ++j) hb.output(outs[j]);
  }
  fmt::print("hash of every DrawOutput, batched model: {:016x}\n", hb.h);
}
