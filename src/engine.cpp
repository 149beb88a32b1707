// The parallel draw loop (engine.hpp): OpenMP workers simulate and compress
// blocks of draws, one writer thread owns the HDF5 file, and the reduction
// runs in block order so every bit is independent of threads and block size.
#include "countysim/engine.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <omp.h>

#include <array>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "countysim/block_flow.hpp"
#include "countysim/bounded_queue.hpp"
#include "countysim/chunk_codec.hpp"
#include "countysim/conditioning.hpp"
#include "countysim/model.hpp"
#include "countysim/output_file.hpp"
#include "countysim/results_layout.hpp"
#include "countysim/simd.hpp"
#include "countysim/stats.hpp"
#include "countysim/streaming_quantiles.hpp"
#include "countysim/summaries.hpp"
#include "countysim/version.hpp"

namespace countysim {

namespace {

namespace fs = std::filesystem;

struct BlockResult {
  std::uint64_t index = 0;
  std::uint64_t draws = 0;         // draws in the block
  std::vector<std::uint64_t> met;  // [target] draws meeting it
  std::uint64_t all_met = 0;       // draws meeting every target
  // The compressed chunks back to back, [dataset][column] in layout order:
  // chunk j is bytes[ends[j], ends[j + 1]). One buffer a block, recycled
  // through a ChunkPool, so steady state allocates and faults nothing.
  ByteBuffer bytes;
  std::vector<std::size_t> ends;
  std::vector<GranuleMoments> granules;
  std::size_t granule_count = 0;
  StreamingQuantiles::Part part;  // the summarised columns' values near each quantile
};

// A stored column of n values as float, as H5Dread converts them.
void column_as_float(DType t, const unsigned char* src, std::size_t n, float* dst) {
  switch (t) {
    case DType::f32:
      std::memcpy(dst, src, n * sizeof(float));
      break;
    case DType::f64:
      for (std::size_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, src + i * 8, 8);
        dst[i] = static_cast<float>(v);
      }
      break;
    case DType::i32:
      for (std::size_t i = 0; i < n; ++i) {
        std::int32_t v;
        std::memcpy(&v, src + i * 4, 4);
        dst[i] = static_cast<float>(v);
      }
      break;
    case DType::u8:
      for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
      break;
  }
}

// Draws first .. first + g - 1 into outs: through simulate_draws, whose
// element-wise stages run across the draws in vector lanes, when the CPU
// has AVX2 (its SSE2 kernels take more instructions than one draw at a
// time); either way the same bits.
void simulate_group(const Plan& plan, std::uint64_t seed, std::uint64_t first, std::size_t g,
                    DrawWorkspace& ws, DrawOutput* outs) {
  if (simd_level() >= SimdLevel::avx2) {
    simulate_draws(plan, seed, first, g, ws, outs);
  } else {
    for (std::size_t j = 0; j < g; ++j) simulate_draw(plan, seed, first + j, ws, outs[j]);
  }
}

std::string iso_now() {
  const auto now = std::chrono::system_clock::now();
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(now)));
}

void print_progress(std::uint64_t done, std::uint64_t total, double seconds) {
  const int width = 30;
  const int filled = static_cast<int>(width * static_cast<double>(done) / total);
  fmt::print(stderr, "\r[{}{}] {:3.0f}%  {}/{} draws  {:.1f} s", std::string(filled, '#'),
             std::string(width - filled, ' '), 100.0 * done / total, done, total, seconds);
  std::fflush(stderr);
}

class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

int thread_count(int requested) {
  return requested > 0 ? requested : omp_get_max_threads();
}

RunInfo make_info(const Scenario& sc, const RunOptions& opt, std::uint64_t seed,
                  std::uint64_t draws) {
  RunInfo info;
  info.countysim_version = version;
  info.schema = results_schema;
  info.scenario_schema = sc.schema.empty() ? std::string(scenario_schema) : sc.schema;
  info.scenario_name = sc.name;
  info.scenario_file = sc.path;
  info.scenario_yaml = sc.merged_yaml;
  info.created = iso_now();
  info.command_line = opt.command_line;
  info.seed = seed;
  info.draws = draws;
  info.base_year = sc.base_year;
  info.last_year = sc.last_year;
  return info;
}

// The first failure by block (or draw) index, so the error a run reports does
// not depend on which thread got there first.
class FirstError {
 public:
  void record(std::uint64_t index) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (index < index_) {
      index_ = index;
      error_ = std::current_exception();
    }
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
  std::uint64_t index_ = std::numeric_limits<std::uint64_t>::max();
};

struct Blocking {
  std::uint64_t draws = 0, seed = 0;
  std::uint64_t block = 0;       // draws per block, whole granules
  std::uint64_t chunk_rows = 0;  // rows of every dataset chunk
  std::uint64_t blocks = 0;
  int threads = 1;
  std::size_t summary_read_floats = 0;  // RunOptions::summary_read_floats
};

// What the loop hands to the summary stage.
// Weighted target sums over a growing run of draws, for --until-se: the
// reference log weight is the running max, and the sums are rescaled when it
// rises. Standard errors are ratios, so the reference does not change them;
// the draws are added in draw order, so the bits depend on nothing else.
struct RunningSums {
  double top = -std::numeric_limits<double>::infinity();
  double sw = 0, sw2 = 0;
  std::vector<double> mw, mw2;
  explicit RunningSums(std::size_t nt) : mw(nt, 0.0), mw2(nt, 0.0) {}
  void add(double l, const std::uint8_t* met) {
    if (!(l > -std::numeric_limits<double>::infinity())) return;  // weight 0 (or NaN)
    if (l > top) {
      const double f = std::isfinite(top) ? std::exp(top - l) : 0.0;
      sw *= f;
      sw2 *= f * f;
      for (std::size_t k = 0; k < mw.size(); ++k) {
        mw[k] *= f;
        mw2[k] *= f * f;
      }
      top = l;
    }
    const double w = std::exp(l - top);
    sw += w;
    sw2 += w * w;
    for (std::size_t k = 0; k < mw.size(); ++k)
      if (met[k]) {
        mw[k] += w;
        mw2[k] += w * w;
      }
  }
};

struct LoopTotals {
  std::vector<Moments> moments;  // [summary column], merged in block order
  TargetCounts counts;           // counts.draws: the draws taken (--until-se: N)
  bool reached_max = false;      // --until-se: stopped at the last draw, not precise
  // v2, scenarios with observations: per draw, each slot written by the
  // thread that computed the draw (so no order question arises).
  std::vector<double> log_weight;  // [draw] ℓ_d
  std::vector<double> observed_x;  // [observation][draw] the draw's value
  std::vector<std::uint8_t> met;   // [draw][target]
  // Unconditioned runs: the summaries' quantiles, kept while drawing.
  std::unique_ptr<StreamingQuantiles> quantiles;
};

// Simulates the blocks: workers fill, summarise and compress a block and
// queue it; the writer thread takes the blocks in block order, writes their
// chunks, merges their moments and target counts and, with --until-se, stops
// at the first block boundary at which every target's standard error is at
// most opt.until_se (bk.draws is then the most it may take): the later blocks
// are neither written nor counted, so the run is the --draws N run for that
// N. Errors are rethrown here, after the writer thread is joined.
LoopTotals run_blocks(const Plan& plan, const ResultsLayout& layout, ResultsWriter& writer,
                      const Blocking& bk, const RunOptions& opt, const Stopwatch& clock) {
  const std::size_t ncols = layout.summary_columns;
  const std::size_t nt = plan.scenario->targets.size();
  auto cancelled = [&] { return opt.cancel && opt.cancel->cancelled(); };
  LoopTotals totals;
  totals.moments.assign(ncols, Moments{});
  totals.counts.met.assign(nt, 0);
  const std::vector<Observation>& observed = plan.scenario->observed;
  const std::size_t nobs = observed.size();
  const int base_year = plan.scenario->base_year;
  if (nobs > 0) {
    totals.log_weight.assign(bk.draws, 0.0);
    totals.observed_x.assign(nobs * bk.draws, 0.0);
    totals.met.assign(bk.draws * nt, 0);
  }
  FirstError worker_error, writer_error;
  std::atomic<bool> abort{false}, enough{false};
  // Finished blocks wait here for the writer; the gate bounds how many
  // exist (threads + 2: one being written, one a worker, one spare), the
  // pool how many hold compressed chunks (threads + 1: the spare block may
  // start, but takes a buffer only once the writer has handed one back).
  BoundedQueue<BlockResult> queue(static_cast<std::size_t>(bk.threads) + 1);
  BlockGate gate(static_cast<std::uint64_t>(bk.threads) + 2);
  ChunkPool pool(static_cast<std::size_t>(bk.threads) + 1);
  if (nobs == 0 && ncols > 0 && opt.stream_quantiles)
    totals.quantiles = std::make_unique<StreamingQuantiles>(
        ncols, summary_quantiles(), 4.0,
        opt.stream_budget_bytes ? opt.stream_budget_bytes : std::size_t{24} << 20);
  StreamingQuantiles* const streamed = totals.quantiles.get();

  // The only user of the HDF5 file while the loop runs.
  auto write_blocks = [&] {
    std::map<std::uint64_t, BlockResult> pending;
    std::uint64_t next = 0, done_draws = 0;
    bool shown = false;
    RunningSums sums(nt);
    while (auto r = queue.pop()) {
      if (abort) continue;  // drain, so no worker waits on a full queue
      try {
        const std::uint64_t index = r->index;
        pending.emplace(index, std::move(*r));
        for (auto it = pending.find(next); it != pending.end(); it = pending.find(next)) {
          BlockResult& b = it->second;
          if (!enough) {
            for (std::size_t k = 0, j = 0; k < layout.specs.size(); ++k)
              for (std::size_t c = 0; c < layout.elems[k]; ++c, ++j)
                writer.write_chunk(k, b.index, c, b.bytes.data() + b.ends[j],
                                   b.ends[j + 1] - b.ends[j]);
            for (std::size_t g = 0; g < b.granule_count; ++g)
              for (std::size_t c = 0; c < ncols; ++c)
                totals.moments[c].merge(b.granules[g].column(c));
            if (streamed) streamed->merge(std::move(b.part));
            for (std::size_t k = 0; k < nt; ++k) totals.counts.met[k] += b.met[k];  // integers
            totals.counts.all_met += b.all_met;
            const std::uint64_t first = b.index * bk.block;
            done_draws += b.draws;
            if (opt.until_se > 0) {
              bool precise = true;
              if (nobs > 0) {
                for (std::uint64_t d = first; d < first + b.draws; ++d)
                  sums.add(totals.log_weight[d], totals.met.data() + d * nt);
                precise = sums.sw > 0;
              }
              for (std::size_t k = 0; k < nt; ++k) {
                const double e =
                    nobs > 0
                        ? weighted_proportion(sums.mw[k], sums.mw2[k], sums.sw, sums.sw2).std_error
                        : proportion(totals.counts.met[k], done_draws).std_error;
                precise = precise && e <= opt.until_se;
              }
              if (precise) enough = true;
            }
          }
          pool.give(std::move(b.bytes));
          pending.erase(it);
          gate.written(++next);
        }
        if (opt.progress && (shown || clock.seconds() > 1.0)) {
          shown = true;
          print_progress(done_draws, bk.draws, clock.seconds());
        }
      } catch (...) {
        writer_error.record(0);
        abort = true;
      }
    }
    totals.counts.draws = done_draws;
    if (shown) fmt::print(stderr, "\n");
  };
  JoiningThread writer_thread(write_blocks, [&] { queue.close(); });

#pragma omp parallel num_threads(bk.threads)
  {
    DrawWorkspace ws;
    std::vector<DrawOutput> outs(row_group);
    std::array<double, row_group> lws{};
    std::vector<std::vector<unsigned char>> bufs(layout.specs.size());
    std::vector<float> column;  // a summarised column as float
    bool ready = false;
    try {
      for (DrawOutput& o : outs) o.resize(plan);
      ready = true;
    } catch (...) {
      worker_error.record(0);
      abort = true;
    }
    // Every thread reaches the worksharing loop, even one that failed above.
#pragma omp for schedule(dynamic, 1)
    for (std::uint64_t b = 0; b < bk.blocks; ++b) {
      if (!ready || abort || enough || cancelled()) continue;
      gate.wait_to_start(b, [&] { return abort || enough || cancelled(); });
      if (abort || enough || cancelled()) continue;
      try {
        const std::uint64_t first = b * bk.block;
        const std::uint64_t n = std::min(bk.block, bk.draws - first);
        // Every row below n is written in full; only a last, short block
        // leaves padding, which is zeroed so the file's bytes are fixed.
        for (std::size_t k = 0; k < bufs.size(); ++k) {
          bufs[k].resize(layout.elems[k] *
                         column_stride(bk.chunk_rows, dtype_size(layout.specs[k].dtype)));
          if (n < bk.chunk_rows) std::fill(bufs[k].begin(), bufs[k].end(), 0);
        }
        BlockResult r;
        r.index = b;
        r.granule_count = (n + granule_draws - 1) / granule_draws;
        r.granules.resize(r.granule_count);
        for (GranuleMoments& g : r.granules) g.reset(ncols);
        r.draws = n;
        r.met.assign(nt, 0);
        // Draws a group at a time, so that fill_rows writes each column's
        // values of the group together; everything else goes draw by draw.
        for (std::uint64_t i0 = 0; i0 < n; i0 += row_group) {
          const std::size_t g =
              static_cast<std::size_t>(std::min<std::uint64_t>(row_group, n - i0));
          // The group's draws at once (the model's element-wise stages run
          // across them in vector lanes; the same bits as one at a time).
          simulate_group(plan, bk.seed, first + i0, g, ws, outs.data());
          for (std::size_t j = 0; j < g; ++j) {
            const std::uint64_t i = i0 + j;
            DrawOutput& out = outs[j];
            double lw = 0;  // ℓ_d, summed in scenario order as log_likelihood() does
            if (nobs > 0) {
              const std::uint64_t d = first + i;
              for (std::size_t o = 0; o < nobs; ++o) {
                const double x = observed_value(observed[o], out, base_year);
                totals.observed_x[o * bk.draws + d] = x;
                lw += log_likelihood_term(observed[o], x);
              }
              totals.log_weight[d] = lw;
              std::copy(out.target_met.begin(), out.target_met.end(), totals.met.begin() + d * nt);
            }
            lws[j] = lw;
            add_moments(layout, out, r.granules[i / granule_draws]);
            bool all = true;
            for (std::size_t k = 0; k < nt; ++k) {
              r.met[k] += out.target_met[k];
              all = all && out.target_met[k];
            }
            r.all_met += all;
          }
          fill_rows(layout, plan, outs.data(), lws.data(), g, i0, bk.chunk_rows, bufs);
        }
        if (streamed) {
          // Only block 0 carries its columns whole; the others wait (once,
          // for about a block) for the windows the writer makes of it.
          if (b > 0) streamed->wait_for_windows([&] { return abort || cancelled(); });
          streamed->begin_part(r.part, n);
          column.resize(n);
          std::size_t col = 0;
          for (std::size_t k : layout.summarised) {
            const std::size_t size = dtype_size(layout.specs[k].dtype);
            const std::size_t stride = column_stride(bk.chunk_rows, size);
            for (std::size_t c = 0; c < layout.elems[k]; ++c, ++col) {
              const unsigned char* run = bufs[k].data() + c * stride;
              const float* x = column.data();
              if (layout.specs[k].dtype == DType::f32)
                x = reinterpret_cast<const float*>(run);  // as stored: no copy
              else
                column_as_float(layout.specs[k].dtype, run, n, column.data());
              StreamingQuantiles::add_column(r.part, summary_quantiles().size(), col, x, n);
            }
          }
        }
        r.bytes = pool.take([&] { return gate.next() == b; },
                            [&] { return abort || enough || cancelled(); });
        std::size_t bound = 0, nchunks = 0;
        for (std::size_t k = 0; k < bufs.size(); ++k) {
          const std::size_t size = dtype_size(layout.specs[k].dtype);
          bound += layout.elems[k] * compress_chunk_bound(bk.chunk_rows * size);
          nchunks += layout.elems[k];
        }
        r.bytes.reserve(bound);  // no copy while appending
        r.ends.reserve(nchunks + 1);
        r.ends.push_back(0);
        for (std::size_t k = 0; k < bufs.size(); ++k) {
          const std::size_t size = dtype_size(layout.specs[k].dtype);
          const std::size_t stride = column_stride(bk.chunk_rows, size);
          for (std::size_t c = 0; c < layout.elems[k]; ++c) {
            compress_chunk_append(bufs[k].data() + c * stride, bk.chunk_rows * size, size,
                                  opt.compression_level, r.bytes);
            r.ends.push_back(r.bytes.size());
          }
        }
        queue.push(std::move(r));
      } catch (...) {
        worker_error.record(b);
        abort = true;
      }
    }
  }
  writer_thread.join();
  worker_error.rethrow();
  writer_error.rethrow();
  if (cancelled()) throw Interrupted();
  totals.reached_max = opt.until_se > 0 && !enough;
  return totals;
}

SummaryReading summary_reading(const Blocking& bk) {
  return SummaryReading{bk.draws, bk.threads, bk.summary_read_floats};
}

}  // namespace

RunSummary run_to_file(const Plan& plan, const RunOptions& opt) {
  const Scenario& sc = *plan.scenario;
  Blocking bk;
  bk.draws = opt.draws ? opt.draws : sc.draws;
  bk.seed = opt.seed_given ? opt.seed : sc.seed;
  if (opt.until_se > 0 && opt.max_draws == 0) throw UsageError("--max-draws must be at least 1");
  if (bk.draws == 0) throw UsageError("--draws must be at least 1");
  const ResultsLayout layout = make_layout(plan);
  bk.block = std::max<std::uint64_t>(1, (opt.block_draws + granule_draws - 1) / granule_draws) *
             granule_draws;
  // A block's rows are held uncompressed by each worker and the queue, so cap
  // them at block_bytes_cap: memory then stays bounded with thousands of
  // projects. Results do not depend on the block size.
  std::uint64_t bytes_per_draw = 0;
  for (const DatasetSpec& s : layout.specs) bytes_per_draw += s.row_elems() * dtype_size(s.dtype);
  const std::uint64_t cap_granules = std::max<std::uint64_t>(
      1, block_bytes_cap / std::max<std::uint64_t>(1, bytes_per_draw) / granule_draws);
  bk.block = std::min(bk.block, cap_granules * granule_draws);
  bk.threads = thread_count(opt.threads);
  bk.summary_read_floats = opt.summary_read_floats;

  prepare_output(opt.output, opt.force);
  TempFile tmp(opt.output);  // removed on every path that does not publish

  // --until-se: room for max_draws, cut to the N at which the loop stopped.
  if (opt.until_se > 0) bk.draws = opt.max_draws;
  bk.chunk_rows = std::min(bk.block, bk.draws);
  bk.blocks = (bk.draws + bk.block - 1) / bk.block;

  std::optional<ResultsWriter> writer;
  writer.emplace(tmp.path(), make_info(sc, opt, bk.seed, bk.draws), make_coordinates(sc),
                 layout.specs, bk.draws, bk.chunk_rows, opt.until_se > 0);

  const Stopwatch clock;
  LoopTotals totals = run_blocks(plan, layout, *writer, bk, opt, clock);
  if (totals.counts.draws < bk.draws) {
    const std::uint64_t n = totals.counts.draws;
    writer->shrink_draws(n);
    if (!sc.observed.empty()) {
      for (std::size_t o = 1; o < sc.observed.size(); ++o)  // rows of n, packed
        std::copy_n(totals.observed_x.begin() + static_cast<std::ptrdiff_t>(o * bk.draws), n,
                    totals.observed_x.begin() + static_cast<std::ptrdiff_t>(o * n));
      totals.observed_x.resize(sc.observed.size() * n);
      totals.log_weight.resize(n);
      totals.met.resize(n * sc.targets.size());
    }
    bk.draws = n;
    bk.blocks = (n + bk.block - 1) / bk.block;
  }
  const bool reached_max = totals.reached_max;

  RunSummary summary;
  summary.draws = bk.draws;
  summary.reached_max_draws = reached_max;
  summary.seed = bk.seed;
  summary.seconds_simulation = clock.seconds();
  if (sc.observed.empty()) {
    summary.summaries = summarise(layout, *writer, totals.moments, summary_reading(bk), opt.cancel,
                                  summary, nullptr, totals.quantiles.get());
    summary.targets = make_target_table(sc, totals.counts);
  } else {
    // Conditioned: weights from the exact max over all draws, then every
    // weighted sum in draw order.
    const std::vector<double> w = normalised_weights(totals.log_weight);
    summary.summaries =
        summarise(layout, *writer, totals.moments, summary_reading(bk), opt.cancel, summary, &w);
    TargetFlags flags;
    flags.draws = bk.draws;
    flags.targets = sc.targets.size();
    flags.met = std::move(totals.met);  // no copy: the loop is done
    flags.log_weight = std::move(totals.log_weight);
    summary.targets = make_target_table(sc, counts_from_flags(flags, &w));
    for (std::size_t o = 0; o < sc.observed.size(); ++o)
      summary.targets.observations.push_back(observation_row(
          sc.observed[o], totals.observed_x.data() + o * bk.draws, w.data(), bk.draws));
  }
  writer->write_targets(summary.targets);
  writer->close();
  writer.reset();
  if (opt.cancel && opt.cancel->cancelled()) throw Interrupted();

  tmp.publish(opt.force);
  summary.bytes_written = fs::file_size(opt.output);
  summary.seconds_summary = clock.seconds() - summary.seconds_simulation;
  return summary;
}

namespace {

// The draw loop without a file, for count_targets and target_flags: granule
// blocks under OpenMP, visit(state, d, out) for every draw in the thread that
// computed it, then merge(state) once per thread under a lock (integer
// counts, so the merge order does not matter). Rethrows the first failing
// draw's error; Interrupted when cancelled.
template <class State, class Visit, class Merge>
void for_each_draw(const Plan& plan, std::uint64_t seed, std::uint64_t draws, int threads,
                   const CancelToken* cancel, const State& init, Visit visit, Merge merge) {
  auto cancelled = [&] { return cancel && cancel->cancelled(); };
  FirstError error;
  std::mutex mutex;
  const std::uint64_t block = granule_draws;
  const std::uint64_t nblocks = (draws + block - 1) / block;
#pragma omp parallel num_threads(thread_count(threads))
  {
    DrawWorkspace ws;
    std::vector<DrawOutput> outs(row_group);
    for (DrawOutput& o : outs) o.resize(plan);
    State state = init;
#pragma omp for schedule(dynamic, 1)
    for (std::uint64_t b = 0; b < nblocks; ++b) {
      if (cancelled()) continue;
      const std::uint64_t end = std::min(draws, (b + 1) * block);
      for (std::uint64_t d0 = b * block; d0 < end; d0 += row_group) {
        const std::size_t g =
            static_cast<std::size_t>(std::min<std::uint64_t>(row_group, end - d0));
        try {
          simulate_group(plan, seed, d0, g, ws, outs.data());
        } catch (...) {
          // Which draw: the first that fails alone (the error thrown is its own).
          std::uint64_t d = d0;
          for (; d < d0 + g; ++d) {
            try {
              simulate_draw(plan, seed, d, ws, outs[0]);
            } catch (...) {
              break;
            }
          }
          error.record(d < d0 + g ? d : d0);
          break;
        }
        for (std::size_t j = 0; j < g; ++j) visit(state, d0 + j, outs[j]);
      }
    }
    std::lock_guard<std::mutex> lock(mutex);
    merge(state);
  }
  error.rethrow();
  if (cancelled()) throw Interrupted();
}

}  // namespace

TargetCounts count_targets(const Plan& plan, std::uint64_t seed, std::uint64_t draws, int threads,
                           const CancelToken* cancel) {
  // Conditioned counts need every draw's ℓ before any weight is known.
  if (!plan.scenario->observed.empty())
    return counts_from_flags(target_flags(plan, seed, draws, threads, cancel));
  const std::size_t nt = plan.scenario->targets.size();
  TargetCounts counts;
  counts.draws = draws;
  counts.met.assign(nt, 0);
  struct Local {
    std::vector<std::uint64_t> met;
    std::uint64_t all = 0;
  };
  for_each_draw(
      plan, seed, draws, threads, cancel, Local{std::vector<std::uint64_t>(nt, 0), 0},
      [nt](Local& l, std::uint64_t, const DrawOutput& out) {
        bool a = true;
        for (std::size_t k = 0; k < nt; ++k) {
          l.met[k] += out.target_met[k];
          a = a && out.target_met[k];
        }
        l.all += a;
      },
      [&](const Local& l) {
        for (std::size_t k = 0; k < nt; ++k) counts.met[k] += l.met[k];
        counts.all_met += l.all;
      });
  return counts;
}

TargetFlags target_flags(const Plan& plan, std::uint64_t seed, std::uint64_t draws, int threads,
                         const CancelToken* cancel) {
  const std::size_t nt = plan.scenario->targets.size();
  TargetFlags flags;
  flags.draws = draws;
  flags.targets = nt;
  flags.met.assign(draws * nt, 0);
  flags.all_met.assign(draws, 0);
  const std::vector<Observation>& observed = plan.scenario->observed;
  const int base_year = plan.scenario->base_year;
  if (!observed.empty()) flags.log_weight.assign(draws, 0.0);
  struct None {};
  for_each_draw(
      plan, seed, draws, threads, cancel, None{},
      [&](None&, std::uint64_t d, const DrawOutput& out) {
        bool a = true;
        for (std::size_t k = 0; k < nt; ++k) {
          const bool m = out.target_met[k];
          flags.met[d * nt + k] = m;  // each draw owns its own bytes
          a = a && m;
        }
        flags.all_met[d] = a;
        if (!observed.empty()) flags.log_weight[d] = log_likelihood(observed, out, base_year);
      },
      [](const None&) {});
  return flags;
}

TargetCounts counts_from_flags(const TargetFlags& f, const std::vector<double>* weights) {
  const std::size_t nt = f.targets;
  TargetCounts c;
  c.draws = f.draws;
  c.met.assign(nt, 0);
  for (std::uint64_t d = 0; d < f.draws; ++d) {
    for (std::size_t k = 0; k < nt; ++k) c.met[k] += f.met[d * nt + k];
  }
  for (std::uint64_t d = 0; d < f.draws; ++d) {
    bool a = true;
    for (std::size_t k = 0; k < nt; ++k) a = a && f.met[d * nt + k];
    c.all_met += a;
  }
  if (f.log_weight.empty()) return c;
  std::vector<double> own;
  if (!weights) own = normalised_weights(f.log_weight);
  const std::vector<double>& w = weights ? *weights : own;
  c.weighted = true;
  c.met_w.assign(nt, 0.0);
  c.met_w2.assign(nt, 0.0);
  for (std::uint64_t d = 0; d < f.draws; ++d) {  // draw order: the same bits for any threads
    const double wd = w[d], wd2 = wd * wd;
    c.sum_w += wd;
    c.sum_w2 += wd2;
    bool a = true;
    for (std::size_t k = 0; k < nt; ++k) {
      const bool m = f.met[d * nt + k];
      a = a && m;
      if (m) {
        c.met_w[k] += wd;
        c.met_w2[k] += wd2;
      }
    }
    if (a) {
      c.all_met_w += wd;
      c.all_met_w2 += wd2;
    }
  }
  return c;
}

Proportion target_estimate(const TargetCounts& c, std::size_t k) {
  const bool all = k == c.met.size();
  if (c.weighted)
    return all ? weighted_proportion(c.all_met_w, c.all_met_w2, c.sum_w, c.sum_w2)
               : weighted_proportion(c.met_w[k], c.met_w2[k], c.sum_w, c.sum_w2);
  return proportion(all ? c.all_met : c.met[k], c.draws);
}

TargetTable make_target_table(const Scenario& sc, const TargetCounts& counts) {
  TargetTable t;
  for (std::size_t k = 0; k < sc.targets.size(); ++k) {
    const Target& tg = sc.targets[k];
    TargetRow row;
    row.id = tg.id;
    row.label = tg.label;
    row.metric = metric_info(tg.metric).name;
    row.op = tg.at_least ? "at_least" : "at_most";
    row.threshold = tg.threshold;
    row.year = tg.year;
    row.cluster = tg.cluster;
    row.group = tg.group;
    row.group_threshold = tg.metric == Metric::clusters_at_least
                              ? tg.group_threshold
                              : std::numeric_limits<double>::quiet_NaN();
    const Proportion p = target_estimate(counts, k);
    row.probability = p.p;
    row.std_error = p.std_error;
    row.ci_low = p.ci_low;
    row.ci_high = p.ci_high;
    if (counts.weighted) {
      const Proportion prior = proportion(counts.met[k], counts.draws);
      row.prior_probability = prior.p;
      row.prior_std_error = prior.std_error;
    }
    t.rows.push_back(row);
  }
  const Proportion all = target_estimate(counts, sc.targets.size());
  t.all_met_probability = all.p;
  t.all_met_std_error = all.std_error;
  if (counts.weighted) {
    const Proportion prior = proportion(counts.all_met, counts.draws);
    t.conditioned = true;
    t.prior_all_met_probability = prior.p;
    t.prior_all_met_std_error = prior.std_error;
    t.effective_sample_size = counts.sum_w2 > 0 ? counts.sum_w * counts.sum_w / counts.sum_w2 : 0;
  }
  return t;
}

}  // namespace countysim
