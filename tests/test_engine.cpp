// The draw loop's plumbing: errors raised inside a run (in an OpenMP worker
// or the writer thread) come out of run_to_file as exceptions, a cancelled
// run stops with Interrupted, and neither leaves a file behind.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include "countysim/block_flow.hpp"
#include "countysim/bounded_queue.hpp"
#include "countysim/cancel.hpp"
#include "countysim/engine.hpp"
#include "countysim/scenario.hpp"
#include "temp_dir.hpp"

using namespace countysim;
namespace fs = std::filesystem;

namespace {

// One cluster, every input constant, 3000 draws in blocks of 1024.
const char* county = R"(schema: countysim/1
name: test county
horizon: {base_year: 2021, last_year: 2023}
simulation: {draws: 3000, seed: 7}
macro:
  gdp_base: 1000
  rest_growth: 0.05
  rest_shock_loading: 0.5
  common_shock: {sd: 0.05, persistence: 0.5}
  digital_share_of_rest: 0.1
finance:
  new_loans: 10
  manufacturing_loan_share: 0.2
  reference_share: 0.2
  project_credit_fraction: 0.5
land:
  initial_stock_mu: 1000
  supply_mu: 0
clusters:
  - id: a
    name: 甲
    group: g
    base_output: 50
    growth: 0.1
    value_added_ratio: 0.25
    tax_rate: 0.01
    output_per_worker: 50
    productivity_growth: 0.1
targets:
  - {id: out, label: 产值, metric: industrial_output, at_least: 60}
)";

RunOptions options(const testing::TempDir& tmp) {
  RunOptions opt;
  opt.output = tmp.file("run.h5");
  opt.threads = 2;
  opt.block_draws = 1024;
  return opt;
}

bool empty_folder(const testing::TempDir& tmp) {
  return fs::is_empty(tmp.path);
}

}  // namespace

TEST_CASE("an invalid draw stops the run with its message and no file", "[engine]") {
  testing::TempDir tmp("countysim-engine");
  Scenario sc = load_scenario_text(county, "test.yaml");
  // Past the scenario checks: every draw has R0 = 10 - 0.25 x 50 < 0.
  sc.macro.gdp_base = 10;
  const Plan plan = compile_plan(sc);
  const std::string message =
      "draw 0: the rest of the economy in 2021 is -2.500 亿元 (macro.gdp_base 10 minus "
      "industrial value added 12.500 = sum of clusters.*.value_added_ratio x base_output); it "
      "must be positive: lower the value-added ratios or base outputs, or raise gdp_base";
  // Every block fails; the first block's error is reported whatever the threads.
  CHECK_THROWS_WITH(run_to_file(plan, options(tmp)), message);
  CHECK(empty_folder(tmp));
  CHECK_THROWS_WITH(count_targets(plan, 7, 3000, 2), message);
}

TEST_CASE("a failure in the workers' compression stops the run with no file", "[engine]") {
  testing::TempDir tmp("countysim-engine");
  const Scenario sc = load_scenario_text(county, "test.yaml");
  const Plan plan = compile_plan(sc);
  RunOptions opt = options(tmp);
  opt.compression_level = 10;  // zlib has levels 0-9 (the command line checks)
  CHECK_THROWS_WITH(run_to_file(plan, opt), "compress_chunk: deflate level 10 is not in 0..9");
  CHECK(empty_folder(tmp));
}

TEST_CASE("a cancelled run throws Interrupted and writes nothing", "[engine]") {
  testing::TempDir tmp("countysim-engine");
  const Scenario sc = load_scenario_text(county, "test.yaml");
  const Plan plan = compile_plan(sc);
  CancelToken cancel;
  RunOptions opt = options(tmp);
  opt.cancel = &cancel;
  cancel.cancel();
  CHECK_THROWS_AS(run_to_file(plan, opt), Interrupted);
  CHECK(empty_folder(tmp));
  CHECK_THROWS_AS(count_targets(plan, 7, 3000, 2, &cancel), Interrupted);

  cancel.reset();
  const RunSummary r = run_to_file(plan, opt);
  CHECK(fs::exists(opt.output));
  // The token does not change what is counted.
  const TargetCounts counts = count_targets(plan, 7, 3000, 2, &cancel);
  CHECK(counts.met == count_targets(plan, 7, 3000, 1).met);
  CHECK(r.targets.rows.at(0).probability == static_cast<double>(counts.met[0]) / 3000);
}

TEST_CASE("the chunk pool lends at most its limit, except to the block the writer waits for",
          "[engine]") {
  using namespace std::chrono_literals;
  ChunkPool pool(1);
  const auto never = [] { return false; };
  const auto always = [] { return true; };
  ByteBuffer first = pool.take(never, never);
  first.resize(100);  // a used buffer comes back empty, its room kept
  // The limit is reached: the writer's next block still gets one, at once.
  ByteBuffer extra = pool.take(always, never);
  // A later block waits until a buffer is handed back.
  std::atomic<bool> taken{false};
  std::size_t room = 0;
  std::thread later([&] {
    ByteBuffer b = pool.take(never, never);
    room = b.capacity();
    taken = true;
  });
  std::this_thread::sleep_for(100ms);
  CHECK_FALSE(taken);
  pool.give(std::move(extra));  // two out -> one: still at the limit
  std::this_thread::sleep_for(100ms);
  CHECK_FALSE(taken);
  pool.give(std::move(first));
  later.join();
  CHECK(taken);
  CHECK(room >= 100);  // the first buffer, reused (the pool hands out the last one given)
  // A stopped run does not wait.
  ByteBuffer stopped = pool.take(never, always);
  CHECK(stopped.empty());
}

TEST_CASE("the block gate lets a block start only within its limit of the writer", "[engine]") {
  using namespace std::chrono_literals;
  BlockGate gate(2);
  const auto never = [] { return false; };
  gate.wait_to_start(0, never);
  gate.wait_to_start(1, never);
  CHECK(gate.next() == 0);
  std::atomic<bool> started{false};
  std::thread third([&] {
    gate.wait_to_start(2, never);
    started = true;
  });
  std::this_thread::sleep_for(100ms);
  CHECK_FALSE(started);
  gate.written(1);
  third.join();
  CHECK(started);
  CHECK(gate.next() == 1);
}

TEST_CASE("the writer thread is joined when its scope is left by an exception", "[engine]") {
  BoundedQueue<int> queue(1);
  int consumed = 0;
  try {
    JoiningThread consumer(
        [&] {
          while (auto x = queue.pop()) consumed += *x;
        },
        [&] { queue.close(); });
    for (int i = 1; i <= 4; ++i) queue.push(i);  // capacity 1: waits for the consumer
    throw std::runtime_error("failure between start and join");
  } catch (const std::runtime_error&) {
  }
  // Without the join this process would have ended in std::terminate.
  CHECK(consumed == 10);
}
