#include "countysim/results_layout.hpp"

#include <immintrin.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include "countysim/metrics.hpp"
#include "countysim/simd.hpp"

namespace countysim {

ResultsLayout make_layout(const Plan& plan) {
  const Scenario& sc = *plan.scenario;
  const std::size_t ny = plan.years + 1, nc = plan.clusters, np = plan.projects,
                    nt = sc.targets.size();
  ResultsLayout l;
  auto add = [&](DatasetSpec s, RowSource src, int index, bool summary) {
    if (summary) {
      l.summarised.push_back(l.specs.size());
      l.summary_columns += s.row_elems();
    }
    l.elems.push_back(s.row_elems());
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
  // Without price indices and with the rest's deflator constant at 0 (every
  // countysim/1 scenario), every price level is 1 and the constant-price
  // metrics equal the current-price ones bit for bit: not stored again.
  bool prices_move = !plan.price_change.empty();
  for (int slot : plan.rest_price_change)
    prices_move = prices_move || plan.slots[static_cast<std::size_t>(slot)].random ||
                  plan.constant_values[static_cast<std::size_t>(slot)] != 0;
  for (int m = 0; m < year_metric_count; ++m) {
    const auto& info = metric_catalogue()[m];
    if (info.metric == Metric::above_scale_firms && !plan.above_scale.present) continue;
    if (info.metric == Metric::high_tech_firms && !plan.high_tech.present) continue;
    if (is_constant_price_metric(info.metric) && !prices_move) continue;
    add(spec(info, {"year"}, {ny}), RowSource::year_metric, m, true);
  }
  add(spec(metric_info(Metric::cluster_output), {"year", "cluster"}, {ny, nc}),
      RowSource::cluster_output, 0, true);
  add(spec(metric_info(Metric::cluster_employment), {"year", "cluster"}, {ny, nc}),
      RowSource::cluster_employment, 0, true);
  if (np > 0) {
    add(spec(metric_info(Metric::project_output), {"year", "project"}, {ny, np}),
        RowSource::project_output, 0, true);
    add(spec(metric_info(Metric::project_start_month), {"project"}, {np}), RowSource::start_month,
        0, false);
    DatasetSpec prod = spec(metric_info(Metric::project_start_month), {"project"}, {np});
    prod.name = "project_production_month";
    prod.long_name =
        "production start O_p = start + construction, months from January of the first "
        "projection year (-1: never started)";
    prod.label_zh = "投产月份";
    add(prod, RowSource::production_month, 0, false);
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
    add(met, RowSource::target_met, 0, false);
    DatasetSpec val = met;
    val.name = "target_value";
    val.dtype = DType::f32;
    val.units = "as the target's metric";
    val.long_name = "value of the metric each target compares";
    val.label_zh = "目标指标值";
    add(val, RowSource::target_value, 0, false);
  }
  if (!sc.observed.empty()) {
    // float64: weights are exp(ℓ_d - max ℓ), and float32 would round ℓ.
    DatasetSpec lw;
    lw.group = "draws";
    lw.name = "log_weight";
    lw.dtype = DType::f64;
    lw.units = "1";
    lw.long_name =
        "log-likelihood of the observed outturns, sum of -1/2 ((x - value) / sd)^2; the "
        "conditioned weight is exp(log_weight - max log_weight)";
    lw.label_zh = "对数权重";
    add(lw, RowSource::log_weight, 0, false);
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
    add(s, RowSource::input, static_cast<int>(k), false);
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

std::size_t column_stride(std::size_t rows, std::size_t size) {
  // Runs a power of two apart would put every column's next value in the
  // same cache set; one line more spreads them.
  return rows * size + 64;
}

namespace {

// Rows [0, g) of every column i, at dst + i * stride + j * size, converted
// to T as the file stores it: column by column, so each column's run gets
// its g values at once (whole cache lines) rather than one a draw.
template <class T, class Get>
void put_rows(unsigned char* dst, std::size_t stride, std::size_t n, std::size_t g, Get get) {
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char* run = dst + stride * i;
    for (std::size_t j = 0; j < g; ++j) {
      const double x = get(j, i);
      T v;
      if constexpr (std::is_same_v<T, std::int32_t>)
        v = static_cast<std::int32_t>(std::lround(x));
      else
        v = static_cast<T>(x);
      std::memcpy(run + j * sizeof(T), &v, sizeof(T));
    }
  }
}

// put_rows<float> for values p[j][i] (each draw's values contiguous), with
// AVX2: four columns of four draws at a time are converted (as
// static_cast<float> rounds) and transposed, so that each column gets its
// draws' floats in one store. Returns the columns done (a multiple of 4);
// rows past the last group of four draws are left to the caller.
__attribute__((target("avx2"))) std::size_t put_f32_avx2(unsigned char* dst, std::size_t stride,
                                                         std::size_t n, std::size_t g,
                                                         const double* const* p) {
  const std::size_t g4 = g / 4 * 4;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    unsigned char* run = dst + stride * i;
    for (std::size_t j = 0; j < g4; j += 4) {
      __m128 r0 = _mm256_cvtpd_ps(_mm256_loadu_pd(p[j] + i));
      __m128 r1 = _mm256_cvtpd_ps(_mm256_loadu_pd(p[j + 1] + i));
      __m128 r2 = _mm256_cvtpd_ps(_mm256_loadu_pd(p[j + 2] + i));
      __m128 r3 = _mm256_cvtpd_ps(_mm256_loadu_pd(p[j + 3] + i));
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);  // r_k: column i + k, draws j .. j + 3
      _mm_storeu_ps(reinterpret_cast<float*>(run + j * 4), r0);
      _mm_storeu_ps(reinterpret_cast<float*>(run + stride + j * 4), r1);
      _mm_storeu_ps(reinterpret_cast<float*>(run + 2 * stride + j * 4), r2);
      _mm_storeu_ps(reinterpret_cast<float*>(run + 3 * stride + j * 4), r3);
    }
    for (std::size_t j = g4; j < g; ++j)
      for (std::size_t k = 0; k < 4; ++k) {
        const float v = static_cast<float>(p[j][i + k]);
        std::memcpy(run + k * stride + j * 4, &v, 4);
      }
  }
  return i;
}

// Rows [0, g) of float columns whose values are p[j][i].
void put_f32_rows(unsigned char* dst, std::size_t stride, std::size_t n, std::size_t g,
                  const double* const* p) {
  std::size_t i = simd_level() >= SimdLevel::avx2 ? put_f32_avx2(dst, stride, n, g, p) : 0;
  put_rows<float>(dst + stride * i, stride, n - i, g,
                  [p, i](std::size_t j, std::size_t c) { return p[j][i + c]; });
}

template <class Get>
void put_rows(DType t, unsigned char* dst, std::size_t stride, std::size_t n, std::size_t g,
              Get get) {
  switch (t) {
    case DType::f32:
      put_rows<float>(dst, stride, n, g, get);
      break;
    case DType::i32:
      put_rows<std::int32_t>(dst, stride, n, g, get);
      break;
    case DType::u8:
      put_rows<std::uint8_t>(dst, stride, n, g, get);
      break;
    case DType::f64:
      put_rows<double>(dst, stride, n, g, get);
      break;
  }
}

}  // namespace

void fill_rows(const ResultsLayout& l, const Plan& plan, const DrawOutput* outs,
               const double* log_weights, std::size_t g, std::size_t row, std::size_t rows,
               std::vector<std::vector<unsigned char>>& bufs) {
  if (g > row_group)
    throw std::logic_error("fill_rows: more draws than row_group");  // a caller's bug
  for (std::size_t k = 0; k < l.specs.size(); ++k) {
    const DatasetSpec& s = l.specs[k];
    const std::size_t n = l.elems[k];
    const std::size_t size = dtype_size(s.dtype);
    // Element i of draw j goes to column i's run of `rows` values, row `row + j`.
    unsigned char* dst = bufs[k].data() + row * size;
    const std::size_t stride = column_stride(rows, size);
    const RowSource src = l.sources[k].first;  // not a structured binding: lambdas capture it
    const int index = l.sources[k].second;
    auto put = [&](auto get) { put_rows(s.dtype, dst, stride, n, g, get); };
    // Columns of doubles stored as float: the vector path.
    auto put_doubles = [&](const auto& x) {
      if (s.dtype == DType::f32)
        put_f32_rows(dst, stride, n, g, x.data());
      else
        put([&x](std::size_t j, std::size_t i) { return x[j][i]; });
    };
    // Each draw's array of this source, so the loops index without reloading.
    auto each = [&](auto field) {
      using P = decltype(field(outs[0]));
      std::array<P, row_group> p;  // only [0, g) is read: no zeroing
      for (std::size_t j = 0; j < g; ++j) p[j] = field(outs[j]);
      return p;
    };
    switch (src) {
      case RowSource::year_metric: {
        const auto x = each([&](const DrawOutput& o) { return o.year_metrics.data() + index * n; });
        put_doubles(x);
        break;
      }
      case RowSource::cluster_output: {
        const auto x = each([](const DrawOutput& o) { return o.cluster_output.data(); });
        put_doubles(x);
        break;
      }
      case RowSource::cluster_employment: {
        const auto x = each([](const DrawOutput& o) { return o.cluster_employment.data(); });
        put_doubles(x);
        break;
      }
      case RowSource::project_output: {
        const auto x = each([](const DrawOutput& o) { return o.project_output.data(); });
        put_doubles(x);
        break;
      }
      case RowSource::start_month: {
        const auto x = each([](const DrawOutput& o) { return o.start_month.data(); });
        put([&x](std::size_t j, std::size_t i) { return static_cast<double>(x[j][i]); });
        break;
      }
      case RowSource::production_month: {
        const auto x = each([](const DrawOutput& o) { return o.production_month.data(); });
        put([&x](std::size_t j, std::size_t i) { return static_cast<double>(x[j][i]); });
        break;
      }
      case RowSource::target_met: {
        const auto x = each([](const DrawOutput& o) { return o.target_met.data(); });
        put([&x](std::size_t j, std::size_t i) { return static_cast<double>(x[j][i]); });
        break;
      }
      case RowSource::target_value: {
        const auto x = each([](const DrawOutput& o) { return o.target_value.data(); });
        put_doubles(x);
        break;
      }
      case RowSource::log_weight:
        put([log_weights](std::size_t j, std::size_t) { return log_weights[j]; });
        break;
      case RowSource::input: {
        const int* slots = plan.input_datasets[index].slots.data();
        bool run = n > 0;  // slots one after another (per-year inputs are)
        for (std::size_t i = 1; run && i < n; ++i) run = slots[i] == slots[0] + static_cast<int>(i);
        if (run) {
          const auto first = static_cast<std::size_t>(slots[0]);
          put_doubles(each([first](const DrawOutput& o) { return o.inputs.data() + first; }));
          break;
        }
        const auto x = each([](const DrawOutput& o) { return o.inputs.data(); });
        put([&x, slots](std::size_t j, std::size_t i) {
          return x[j][static_cast<std::size_t>(slots[i])];
        });
        break;
      }
    }
  }
}

namespace {

// Moments::add for columns [0, k) at once, four at a time, the same
// operations in the same order (no FMA: the bits of the scalar code).
// Returns how many columns it did.
__attribute__((target("avx2"))) std::size_t welford_avx2(const double* x, double* mean, double* m2,
                                                         std::size_t k, double n) {
  const __m256d vn = _mm256_set1_pd(n);
  std::size_t i = 0;
  for (; i + 4 <= k; i += 4) {
    const __m256d xv = _mm256_loadu_pd(x + i);
    __m256d mv = _mm256_loadu_pd(mean + i);
    const __m256d d = _mm256_sub_pd(xv, mv);
    mv = _mm256_add_pd(mv, _mm256_div_pd(d, vn));
    const __m256d m2v =
        _mm256_add_pd(_mm256_loadu_pd(m2 + i), _mm256_mul_pd(d, _mm256_sub_pd(xv, mv)));
    _mm256_storeu_pd(mean + i, mv);
    _mm256_storeu_pd(m2 + i, m2v);
  }
  return i;
}

}  // namespace

void welford_add(const double* x, double* mean, double* m2, std::size_t k, double n) {
  std::size_t i = simd_level() >= SimdLevel::avx2 ? welford_avx2(x, mean, m2, k, n) : 0;
  for (; i < k; ++i) {  // as Moments::add
    const double d = x[i] - mean[i];
    mean[i] += d / n;
    m2[i] += d * (x[i] - mean[i]);
  }
}

void add_moments(const ResultsLayout& l, const DrawOutput& out, GranuleMoments& g) {
  g.n += 1;
  std::size_t col = 0;
  for (std::size_t k : l.summarised) {
    const RowSource src = l.sources[k].first;  // not a structured binding: lambdas capture it
    const int index = l.sources[k].second;
    const std::size_t n = l.elems[k];
    const double* x = nullptr;
    switch (src) {
      case RowSource::year_metric:
        x = out.year_metrics.data() + index * n;
        break;
      case RowSource::cluster_output:
        x = out.cluster_output.data();
        break;
      case RowSource::cluster_employment:
        x = out.cluster_employment.data();
        break;
      case RowSource::project_output:
        x = out.project_output.data();
        break;
      default:
        break;
    }
    welford_add(x, g.mean.data() + col, g.m2.data() + col, n, g.n);
    col += n;
  }
}

}  // namespace countysim
