#include "countysim/engine.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "countysim/model.hpp"
#include "countysim/stats.hpp"
#include "countysim/output_file.hpp"
#include "countysim/version.hpp"

namespace countysim {

std::atomic<bool>& interrupt_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

namespace {

namespace fs = std::filesystem;

enum class Source {
  year_metric,
  cluster_output,
  cluster_employment,
  project_output,
  start_month,
  production_month,
  target_met,
  target_value,
  input
};

struct Layout {
  std::vector<DatasetSpec> specs;
  std::vector<std::pair<Source, int>> sources;  // per spec: what fills it
  std::vector<std::size_t> summarised;          // specs with a /summary group
  std::size_t summary_columns = 0;
};

Layout make_layout(const Plan& plan) {
  const Scenario& sc = *plan.scenario;
  const std::size_t ny = plan.years + 1, nc = plan.clusters, np = plan.projects,
                    nt = sc.targets.size();
  Layout l;
  auto add = [&](DatasetSpec s, Source src, int index, bool summary) {
    if (summary) {
      l.summarised.push_back(l.specs.size());
      l.summary_columns += s.row_elems();
    }
    l.specs.push_back(std::move(s));
    l.sources.emplace_back(src, index);
  };
  auto spec = [](const MetricInfo& m, std::vector<std::string> dims,
                 std::vector<std::size_t> shape) {
    DatasetSpec s;
    s.group = "draws";
    s.name = m.name;
    s.dtype = m.integer ? DType::i32 : DType::f32;
    s.dims = std::move(dims);
    s.row_shape = std::move(shape);
    s.units = m.units;
    s.long_name = m.long_name;
    s.label_zh = m.label_zh;
    return s;
  };
  for (int m = 0; m < year_metric_count; ++m) {
    const auto& info = metric_catalogue()[m];
    if (info.metric == Metric::above_scale_firms && !plan.above_scale.present) continue;
    if (info.metric == Metric::high_tech_firms && !plan.high_tech.present) continue;
    add(spec(info, {"year"}, {ny}), Source::year_metric, m, true);
  }
  add(spec(metric_info(Metric::cluster_output), {"year", "cluster"}, {ny, nc}),
      Source::cluster_output, 0, true);
  add(spec(metric_info(Metric::cluster_employment), {"year", "cluster"}, {ny, nc}),
      Source::cluster_employment, 0, true);
  if (np > 0) {
    add(spec(metric_info(Metric::project_output), {"year", "project"}, {ny, np}),
        Source::project_output, 0, true);
    add(spec(metric_info(Metric::project_start_month), {"project"}, {np}), Source::start_month, 0,
        false);
    DatasetSpec prod = spec(metric_info(Metric::project_start_month), {"project"}, {np});
    prod.name = "project_production_month";
    prod.long_name =
        "production start O_p = start + construction, months from January of the first "
        "projection year (-1: never started)";
    prod.label_zh = "投产月份";
    add(prod, Source::production_month, 0, false);
  }
  if (nt > 0) {
    DatasetSpec met;
    met.group = "draws";
    met.name = "target_met";
    met.dtype = DType::u8;
    met.dims = {"target"};
    met.row_shape = {nt};
    met.units = "1";
    met.long_name = "1 when the draw meets the target";
    met.label_zh = "是否达标";
    add(met, Source::target_met, 0, false);
    DatasetSpec val = met;
    val.name = "target_value";
    val.dtype = DType::f32;
    val.units = "as the target's metric";
    val.long_name = "value of the metric each target compares";
    val.label_zh = "目标指标值";
    add(val, Source::target_value, 0, false);
  }
  for (std::size_t k = 0; k < plan.input_datasets.size(); ++k) {
    const auto& in = plan.input_datasets[k];
    DatasetSpec s;
    s.group = "inputs";
    s.name = in.key;
    s.dtype = DType::f32;
    if (in.per_year) {
      s.dims = {"projection_year"};
      s.row_shape = {static_cast<std::size_t>(plan.years)};
    }
    s.units = "as in the scenario";
    s.long_name = "sampled input " + in.key;
    add(s, Source::input, static_cast<int>(k), false);
  }
  return l;
}

Coordinates make_coordinates(const Scenario& sc) {
  Coordinates c;
  for (int y = sc.base_year; y <= sc.last_year; ++y) c.year.push_back(y);
  for (int y = sc.base_year + 1; y <= sc.last_year; ++y) c.projection_year.push_back(y);
  for (const auto& cl : sc.clusters) {
    c.cluster.push_back(cl.id);
    c.cluster_label.push_back(cl.name);
    c.cluster_group.push_back(cl.group);
    c.cluster_manufacturing.push_back(cl.manufacturing ? 1 : 0);
  }
  for (const auto& p : sc.projects) {
    c.project.push_back(p.id);
    c.project_label.push_back(p.name);
    c.project_cluster.push_back(p.cluster);
    c.project_planned_start_month.push_back(p.planned_start_month);
  }
  for (const auto& t : sc.targets) {
    c.target.push_back(t.id);
    c.target_label.push_back(t.label);
  }
  c.quantile = summary_quantiles();
  return c;
}

// Writes one draw's values into row `row` of every dataset buffer.
void fill_row(const Layout& l, const Plan& plan, const DrawOutput& out, std::size_t row,
              std::vector<std::vector<unsigned char>>& bufs) {
  for (std::size_t k = 0; k < l.specs.size(); ++k) {
    const DatasetSpec& s = l.specs[k];
    const std::size_t n = s.row_elems();
    unsigned char* dst = bufs[k].data() + row * n * dtype_size(s.dtype);
    const auto [src, index] = l.sources[k];
    auto put = [&](std::size_t i, double x) {
      switch (s.dtype) {
        case DType::f32: {
          const float f = static_cast<float>(x);
          std::memcpy(dst + 4 * i, &f, 4);
          break;
        }
        case DType::i32: {
          const std::int32_t v = static_cast<std::int32_t>(std::lround(x));
          std::memcpy(dst + 4 * i, &v, 4);
          break;
        }
        case DType::u8:
          dst[i] = static_cast<unsigned char>(x);
          break;
      }
    };
    switch (src) {
      case Source::year_metric:
        for (std::size_t i = 0; i < n; ++i) put(i, out.year_metrics[index * n + i]);
        break;
      case Source::cluster_output:
        for (std::size_t i = 0; i < n; ++i) put(i, out.cluster_output[i]);
        break;
      case Source::cluster_employment:
        for (std::size_t i = 0; i < n; ++i) put(i, out.cluster_employment[i]);
        break;
      case Source::project_output:
        for (std::size_t i = 0; i < n; ++i) put(i, out.project_output[i]);
        break;
      case Source::start_month:
        for (std::size_t i = 0; i < n; ++i) put(i, out.start_month[i]);
        break;
      case Source::production_month:
        for (std::size_t i = 0; i < n; ++i) put(i, out.production_month[i]);
        break;
      case Source::target_met:
        for (std::size_t i = 0; i < n; ++i) put(i, out.target_met[i]);
        break;
      case Source::target_value:
        for (std::size_t i = 0; i < n; ++i) put(i, out.target_value[i]);
        break;
      case Source::input: {
        const auto& slots = plan.input_datasets[index].slots;
        for (std::size_t i = 0; i < n; ++i) put(i, out.inputs[slots[i]]);
        break;
      }
    }
  }
}

// The summarised values of one draw, in summary-column order (float64).
void add_moments(const Layout& l, const DrawOutput& out, Moments* m) {
  std::size_t col = 0;
  for (std::size_t k : l.summarised) {
    const auto [src, index] = l.sources[k];
    const std::size_t n = l.specs[k].row_elems();
    const double* x = nullptr;
    switch (src) {
      case Source::year_metric:
        x = out.year_metrics.data() + index * n;
        break;
      case Source::cluster_output:
        x = out.cluster_output.data();
        break;
      case Source::cluster_employment:
        x = out.cluster_employment.data();
        break;
      case Source::project_output:
        x = out.project_output.data();
        break;
      default:
        break;
    }
    for (std::size_t i = 0; i < n; ++i) m[col + i].add(x[i]);
    col += n;
  }
}

struct BlockResult {
  std::uint64_t index = 0;
  std::vector<std::vector<unsigned char>> chunks;  // compressed, per dataset
  std::vector<Moments> granules;                   // [granule][summary column]
  std::size_t granule_count = 0;
};

// A bounded queue between the workers and the writer thread: workers wait when
// it is full, which keeps memory flat however many draws are asked for.
class BlockQueue {
 public:
  explicit BlockQueue(std::size_t capacity) : capacity_(capacity) {}
  void push(BlockResult r) {
    std::unique_lock<std::mutex> lock(mutex_);
    not_full_.wait(lock, [&] { return queue_.size() < capacity_ || closed_; });
    queue_.push_back(std::move(r));
    not_empty_.notify_one();
  }
  std::optional<BlockResult> pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    not_empty_.wait(lock, [&] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return std::nullopt;
    BlockResult r = std::move(queue_.front());
    queue_.pop_front();
    not_full_.notify_one();
    return r;
  }
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  std::size_t capacity_;
  std::deque<BlockResult> queue_;
  bool closed_ = false;
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
};

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

int thread_count(int requested) {
  return requested > 0 ? requested : omp_get_max_threads();
}

}  // namespace

RunSummary run_to_file(const Plan& plan, const RunOptions& opt) {
  const Scenario& sc = *plan.scenario;
  const std::uint64_t draws = opt.draws ? opt.draws : sc.draws;
  const std::uint64_t seed = opt.seed_given ? opt.seed : sc.seed;
  if (draws == 0) throw UsageError("--draws must be at least 1");
  const std::uint64_t block =
      std::max<std::uint64_t>(1, (opt.block_draws + granule_draws - 1) / granule_draws) *
      granule_draws;
  const std::uint64_t chunk_rows = std::min(block, draws);
  const std::uint64_t nblocks = (draws + block - 1) / block;

  const fs::path out_path(opt.output);
  prepare_output(opt.output, opt.force);
  TempFile tmp(opt.output);

  const Layout layout = make_layout(plan);
  RunInfo info;
  info.countysim_version = version;
  info.schema = results_schema;
  info.scenario_schema = scenario_schema;
  info.scenario_name = sc.name;
  info.scenario_file = sc.path;
  info.scenario_yaml = sc.merged_yaml;
  info.created = iso_now();
  info.command_line = opt.command_line;
  info.seed = seed;
  info.draws = draws;
  info.base_year = sc.base_year;
  info.last_year = sc.last_year;

  std::optional<ResultsWriter> writer;
  writer.emplace(tmp.path(), info, make_coordinates(sc), layout.specs, draws, chunk_rows);

  const int threads = thread_count(opt.threads);
  const std::size_t ncols = layout.summary_columns;
  const std::size_t nt = sc.targets.size();
  BlockQueue queue(2 * static_cast<std::size_t>(threads) + 2);
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };

  // Writer thread: the only user of the HDF5 file while the loop runs. It
  // folds the granule moments in global draw order.
  std::vector<Moments> moments(ncols);
  std::exception_ptr writer_error;
  std::atomic<bool> abort{false};
  std::thread writer_thread([&] {
    std::map<std::uint64_t, BlockResult> pending;
    std::uint64_t next = 0, done_draws = 0;
    bool shown = false;
    while (auto r = queue.pop()) {
      try {
        if (!abort) {
          for (std::size_t k = 0; k < r->chunks.size(); ++k)
            writer->write_chunk(k, r->index, r->chunks[k]);
          done_draws += std::min(block, draws - r->index * block);
          r->chunks.clear();
          pending.emplace(r->index, std::move(*r));
          for (auto it = pending.find(next); it != pending.end(); it = pending.find(next)) {
            const BlockResult& b = it->second;
            for (std::size_t g = 0; g < b.granule_count; ++g)
              for (std::size_t c = 0; c < ncols; ++c) moments[c].merge(b.granules[g * ncols + c]);
            pending.erase(it);
            ++next;
          }
          if (opt.progress && (shown || elapsed() > 1.0)) {
            shown = true;
            print_progress(done_draws, draws, elapsed());
          }
        }
      } catch (...) {
        if (!writer_error) writer_error = std::current_exception();
        abort = true;
      }
    }
    if (shown) fmt::print(stderr, "\n");
  });

  std::vector<std::uint64_t> met(nt, 0);
  std::uint64_t all_met = 0;
  std::exception_ptr worker_error;
  std::uint64_t worker_error_block = ~0ull;
  std::mutex reduce_mutex;

#pragma omp parallel num_threads(threads)
  {
    DrawWorkspace ws;
    DrawOutput out;
    out.resize(plan);
    std::vector<std::vector<unsigned char>> bufs(layout.specs.size());
    std::vector<std::uint64_t> local_met(nt, 0);
    std::uint64_t local_all = 0;
#pragma omp for schedule(dynamic, 1)
    for (std::uint64_t b = 0; b < nblocks; ++b) {
      if (abort || interrupt_flag()) continue;
      try {
        const std::uint64_t first = b * block;
        const std::uint64_t n = std::min(block, draws - first);
        for (std::size_t k = 0; k < bufs.size(); ++k)
          bufs[k].assign(
              chunk_rows * layout.specs[k].row_elems() * dtype_size(layout.specs[k].dtype), 0);
        BlockResult r;
        r.index = b;
        r.granule_count = (n + granule_draws - 1) / granule_draws;
        r.granules.assign(r.granule_count * ncols, Moments{});
        for (std::uint64_t i = 0; i < n; ++i) {
          simulate_draw(plan, seed, first + i, ws, out);
          fill_row(layout, plan, out, i, bufs);
          add_moments(layout, out, &r.granules[(i / granule_draws) * ncols]);
          bool all = true;
          for (std::size_t k = 0; k < nt; ++k) {
            local_met[k] += out.target_met[k];
            all = all && out.target_met[k];
          }
          local_all += all;
        }
        r.chunks.reserve(bufs.size());
        for (std::size_t k = 0; k < bufs.size(); ++k)
          r.chunks.push_back(compress_chunk(bufs[k].data(), bufs[k].size(),
                                            dtype_size(layout.specs[k].dtype),
                                            opt.compression_level));
        queue.push(std::move(r));
      } catch (...) {
        std::lock_guard<std::mutex> lock(reduce_mutex);
        if (b < worker_error_block) {
          worker_error_block = b;
          worker_error = std::current_exception();
        }
        abort = true;
      }
    }
    std::lock_guard<std::mutex> lock(reduce_mutex);
    for (std::size_t k = 0; k < nt; ++k) met[k] += local_met[k];  // integers: order-free
    all_met += local_all;
  }
  queue.close();
  writer_thread.join();
  if (worker_error) std::rethrow_exception(worker_error);
  if (writer_error) std::rethrow_exception(writer_error);
  if (interrupt_flag()) throw Interrupted();

  RunSummary summary;
  summary.draws = draws;
  summary.seed = seed;
  summary.seconds_simulation = elapsed();

  // Summaries: mean and sd from the float64 moments; quantiles as exact order
  // statistics of the stored values, read back a few columns at a time.
  const auto& qs = summary_quantiles();
  std::size_t col = 0;
  const std::size_t budget_floats = std::max<std::size_t>(draws, (64u << 20) / sizeof(float));
  std::vector<float> columns;
  for (std::size_t k : layout.summarised) {
    const DatasetSpec& s = layout.specs[k];
    const std::size_t n = s.row_elems();
    MetricSummary ms;
    ms.metric = s.name;
    ms.units = s.units;
    ms.long_name = s.long_name;
    ms.label_zh = s.label_zh;
    ms.dims = s.dims;
    ms.shape = s.row_shape;
    ms.mean.resize(n);
    ms.sd.resize(n);
    ms.quantiles.resize(n * qs.size());
    for (std::size_t i = 0; i < n; ++i) {
      ms.mean[i] = moments[col + i].mean;
      ms.sd[i] = moments[col + i].sd();
    }
    const std::size_t per_read = std::max<std::size_t>(1, budget_floats / draws);
    for (std::size_t c0 = 0; c0 < n; c0 += per_read) {
      if (interrupt_flag()) throw Interrupted();
      const std::size_t nc = std::min(per_read, n - c0);
      writer->read_columns(k, c0, nc, columns);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
      for (std::size_t c = 0; c < nc; ++c) {
        auto q = quantiles_type7(columns.data() + c * draws, draws, qs);
        std::copy(q.begin(), q.end(), ms.quantiles.begin() + (c0 + c) * qs.size());
      }
    }
    col += n;
    writer->write_summary(ms);
    summary.summaries.push_back(std::move(ms));
  }
  TargetCounts counts{draws, met, all_met};
  summary.targets = make_target_table(sc, counts);
  writer->write_targets(summary.targets);
  writer->close();
  writer.reset();
  if (interrupt_flag()) throw Interrupted();

  tmp.publish(opt.force);
  summary.bytes_written = fs::file_size(out_path);
  summary.seconds_summary = elapsed() - summary.seconds_simulation;
  return summary;
}

TargetCounts count_targets(const Plan& plan, std::uint64_t seed, std::uint64_t draws, int threads) {
  const std::size_t nt = plan.scenario->targets.size();
  TargetCounts counts;
  counts.draws = draws;
  counts.met.assign(nt, 0);
  std::exception_ptr error;
  std::uint64_t error_draw = ~0ull;
  std::mutex mutex;
  const std::uint64_t block = granule_draws;
  const std::uint64_t nblocks = (draws + block - 1) / block;
#pragma omp parallel num_threads(thread_count(threads))
  {
    DrawWorkspace ws;
    DrawOutput out;
    out.resize(plan);
    std::vector<std::uint64_t> met(nt, 0);
    std::uint64_t all = 0;
#pragma omp for schedule(dynamic, 1)
    for (std::uint64_t b = 0; b < nblocks; ++b) {
      if (interrupt_flag()) continue;
      for (std::uint64_t d = b * block; d < std::min(draws, (b + 1) * block); ++d) {
        try {
          simulate_draw(plan, seed, d, ws, out);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mutex);
          if (d < error_draw) {
            error_draw = d;
            error = std::current_exception();
          }
          break;
        }
        bool a = true;
        for (std::size_t k = 0; k < nt; ++k) {
          met[k] += out.target_met[k];
          a = a && out.target_met[k];
        }
        all += a;
      }
    }
    std::lock_guard<std::mutex> lock(mutex);
    for (std::size_t k = 0; k < nt; ++k) counts.met[k] += met[k];
    counts.all_met += all;
  }
  if (error) std::rethrow_exception(error);
  if (interrupt_flag()) throw Interrupted();
  return counts;
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
    const Proportion p = proportion(counts.met[k], counts.draws);
    row.probability = p.p;
    row.std_error = p.std_error;
    row.ci_low = p.ci_low;
    row.ci_high = p.ci_high;
    t.rows.push_back(row);
  }
  const Proportion all = proportion(counts.all_met, counts.draws);
  t.all_met_probability = all.p;
  t.all_met_std_error = all.std_error;
  return t;
}

}  // namespace countysim
