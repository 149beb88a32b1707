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
  l.in_run.assign(l.specs.size(), 0);
  for (std::size_t k = 0; k < l.specs.size(); ++k) {
    const std::size_t n = l.elems[k];
    if (l.specs[k].dtype != DType::f32 || n == 0) continue;
    const auto [src, index] = l.sources[k];
    std::size_t offset = 0;
    switch (src) {
      case RowSource::year_metric:
        offset = static_cast<std::size_t>(index) * n;
        break;
      case RowSource::cluster_output:
      case RowSource::cluster_employment:
      case RowSource::project_output:
      case RowSource::target_value:
        break;
      case RowSource::input: {
        // Only slots one after another (per-year inputs are) make a run.
        const auto& slots = plan.input_datasets[static_cast<std::size_t>(index)].slots;
        bool run = true;
        for (std::size_t i = 1; run && i < n; ++i) run = slots[i] == slots[0] + static_cast<int>(i);
        if (!run) continue;
        offset = static_cast<std::size_t>(slots[0]);
        break;
      }
      default:
        continue;
    }
    l.in_run[k] = 1;
    // A gap of a few slots (values no dataset stores) costs less as columns
    // written nowhere than as a run broken in two.
    constexpr std::size_t most_gap = 4;
    ResultsLayout::FloatRun* last = l.float_runs.empty() ? nullptr : &l.float_runs.back();
    const std::size_t last_end = last ? last->offset + last->end : 0;
    if (last && last->source == src && offset >= last_end && offset - last_end <= most_gap) {
      if (offset > last_end)
        l.run_pieces.back().push_back({ResultsLayout::no_spec, offset - last_end});
      last->end += offset - last_end + n;
    } else {
      l.float_runs.push_back({src, offset, 0, n});
      l.run_pieces.emplace_back();
    }
    l.run_pieces.back().push_back({k, n});
  }
  std::size_t col = 0;
  for (std::size_t k : l.summarised) {
    const auto [src, index] = l.sources[k];
    const std::size_t n = l.elems[k];
    const std::size_t offset =
        src == RowSource::year_metric ? static_cast<std::size_t>(index) * n : 0;
    ResultsLayout::FloatRun* last = l.moment_runs.empty() ? nullptr : &l.moment_runs.back();
    if (last && last->source == src && last->offset + (last->end - last->begin) == offset)
      last->end += n;
    else
      l.moment_runs.push_back({src, offset, col, col + n});
    col += n;
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

// static_cast<std::int32_t>(std::lround(x)) without the call to libm where
// x is well inside int32 (the truncation and the fraction left are exact
// there; halves go away from zero, as lround rounds them).
inline std::int32_t round_to_i32(double x) {
  if (std::fabs(x) < 2147483647.0) {  // false for NaN
    const auto t = static_cast<std::int64_t>(x);
    const double f = x - static_cast<double>(t);
    return static_cast<std::int32_t>(t + (f >= 0.5) - (f <= -0.5));
  }
  return static_cast<std::int32_t>(std::lround(x));
}

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
        v = round_to_i32(x);
      else
        v = static_cast<T>(x);
      std::memcpy(run + j * sizeof(T), &v, sizeof(T));
    }
  }
}

// Float columns i in [0, n) whose draw j is p[j][i], row j of column i
// going to dst[i] + 4 j: the float runs of fill_rows.
//
// AVX2: four columns of four draws at a time are converted (as
// static_cast<float> rounds) and transposed, so that each column gets its
// draws' floats in one store. Returns the columns done (a multiple of 4);
// rows past the last group of four draws are left to the caller.
__attribute__((target("avx2"))) std::size_t put_f32_avx2(unsigned char* const* dst, std::size_t n,
                                                         std::size_t g, const double* const* p) {
  const std::size_t g4 = g / 4 * 4;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (std::size_t j = 0; j < g4; j += 4) {
      __m128 r0 = _mm256_cvtpd_ps(_mm256_loadu_pd(p[j] + i));
      __m128 r1 = _mm256_cvtpd_ps(_mm256_loadu_pd(p[j + 1] + i));
      __m128 r2 = _mm256_cvtpd_ps(_mm256_loadu_pd(p[j + 2] + i));
      __m128 r3 = _mm256_cvtpd_ps(_mm256_loadu_pd(p[j + 3] + i));
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);  // r_k: column i + k, draws j .. j + 3
      _mm_storeu_ps(reinterpret_cast<float*>(dst[i] + j * 4), r0);
      _mm_storeu_ps(reinterpret_cast<float*>(dst[i + 1] + j * 4), r1);
      _mm_storeu_ps(reinterpret_cast<float*>(dst[i + 2] + j * 4), r2);
      _mm_storeu_ps(reinterpret_cast<float*>(dst[i + 3] + j * 4), r3);
    }
    for (std::size_t j = g4; j < g; ++j)
      for (std::size_t k = 0; k < 4; ++k) {
        const float v = static_cast<float>(p[j][i + k]);
        std::memcpy(dst[i + k] + j * 4, &v, 4);
      }
  }
  return i;
}

// AVX-512, a whole group of 16 draws: eight columns at a time, draw j's
// eight floats and draw j + 8's in one register, then an 8 x 8 transpose in
// each half leaves each column's 16 draws, a cache line, in one register.
// Returns the columns done (a multiple of 8).
COUNTYSIM_AVX512_BEGIN
COUNTYSIM_AVX512_TARGET std::size_t put_f32_avx512(unsigned char* const* dst, std::size_t n,
                                                   const double* const* p) {
  static_assert(row_group == 16, "one register of floats a column");
  // Columns c and c + 4 from s_c (draws 0-3 and 8-11) and s_{c+4} (4-7, 12-15).
  const __m512i first = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
  const __m512i second =
      _mm512_setr_epi32(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m512 r[8];
#pragma GCC unroll 8
    for (std::size_t j = 0; j < 8; ++j)
      r[j] = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(_mm512_loadu_pd(p[j] + i))),
                                _mm512_cvtpd_ps(_mm512_loadu_pd(p[j + 8] + i)), 1);
    __m512 t[8], u[8];
#pragma GCC unroll 8
    for (std::size_t j = 0; j < 8; j += 2) {
      t[j] = _mm512_unpacklo_ps(r[j], r[j + 1]);
      t[j + 1] = _mm512_unpackhi_ps(r[j], r[j + 1]);
    }
#pragma GCC unroll 8
    for (std::size_t j = 0; j < 8; j += 4) {
      u[j] = _mm512_shuffle_ps(t[j], t[j + 2], 0x44);
      u[j + 1] = _mm512_shuffle_ps(t[j], t[j + 2], 0xee);
      u[j + 2] = _mm512_shuffle_ps(t[j + 1], t[j + 3], 0x44);
      u[j + 3] = _mm512_shuffle_ps(t[j + 1], t[j + 3], 0xee);
    }
#pragma GCC unroll 8
    for (std::size_t c = 0; c < 4; ++c) {
      _mm512_storeu_ps(dst[i + c], _mm512_permutex2var_ps(u[c], first, u[c + 4]));
      _mm512_storeu_ps(dst[i + c + 4], _mm512_permutex2var_ps(u[c], second, u[c + 4]));
    }
  }
  return i;
}
COUNTYSIM_AVX512_END

void put_f32_columns(unsigned char* const* dst, std::size_t n, std::size_t g,
                     const double* const* p) {
  std::size_t i = 0;
  if (simd_level() >= SimdLevel::avx512 && g == row_group) i = put_f32_avx512(dst, n, p);
  if (i < n && simd_level() >= SimdLevel::avx2) {
    std::array<const double*, row_group> q;
    for (std::size_t j = 0; j < g; ++j) q[j] = p[j] + i;
    i += put_f32_avx2(dst + i, n - i, g, q.data());
  }
  for (; i < n; ++i)
    for (std::size_t j = 0; j < g; ++j) {
      const float v = static_cast<float>(p[j][i]);
      std::memcpy(dst[i] + j * 4, &v, 4);
    }
}

// The array a float run takes its values from.
const double* source_array(const DrawOutput& o, RowSource src) {
  switch (src) {
    case RowSource::year_metric:
      return o.year_metrics.data();
    case RowSource::cluster_output:
      return o.cluster_output.data();
    case RowSource::cluster_employment:
      return o.cluster_employment.data();
    case RowSource::project_output:
      return o.project_output.data();
    case RowSource::target_value:
      return o.target_value.data();
    case RowSource::input:
      return o.inputs.data();
    default:
      return nullptr;
  }
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
  // The float runs: each column's destination, then one pass each.
  const std::size_t stride4 = column_stride(rows, 4);
  thread_local std::vector<unsigned char*> dst;
  alignas(64) static thread_local unsigned char nowhere[row_group * 4];  // gaps' columns
  for (std::size_t r = 0; r < l.float_runs.size(); ++r) {
    const ResultsLayout::FloatRun& run = l.float_runs[r];
    dst.resize(run.end);
    std::size_t i = 0;
    for (const ResultsLayout::RunPiece& piece : l.run_pieces[r]) {
      if (piece.spec == ResultsLayout::no_spec) {
        for (std::size_t e = 0; e < piece.count; ++e) dst[i++] = nowhere;
      } else {
        unsigned char* base = bufs[piece.spec].data() + row * 4;
        for (std::size_t e = 0; e < piece.count; ++e) dst[i++] = base + e * stride4;
      }
    }
    std::array<const double*, row_group> p;  // only [0, g) is read: no zeroing
    for (std::size_t j = 0; j < g; ++j) p[j] = source_array(outs[j], run.source) + run.offset;
    put_f32_columns(dst.data(), run.end, g, p.data());
  }
  for (std::size_t k = 0; k < l.specs.size(); ++k) {
    if (l.in_run[k]) continue;
    const DatasetSpec& s = l.specs[k];
    const std::size_t n = l.elems[k];
    const std::size_t size = dtype_size(s.dtype);
    // Element i of draw j goes to column i's run of `rows` values, row `row + j`.
    unsigned char* dst = bufs[k].data() + row * size;
    const std::size_t stride = column_stride(rows, size);
    const RowSource src = l.sources[k].first;  // not a structured binding: lambdas capture it
    const int index = l.sources[k].second;
    auto put = [&](auto get) { put_rows(s.dtype, dst, stride, n, g, get); };
    // Each draw's array of this source, so the loops index without reloading.
    auto each = [&](auto field) {
      using P = decltype(field(outs[0]));
      std::array<P, row_group> p;  // only [0, g) is read: no zeroing
      for (std::size_t j = 0; j < g; ++j) p[j] = field(outs[j]);
      return p;
    };
    switch (src) {
      case RowSource::year_metric:
      case RowSource::cluster_output:
      case RowSource::cluster_employment:
      case RowSource::project_output:
      case RowSource::target_value: {
        const auto x = each([src](const DrawOutput& o) { return source_array(o, src); });
        const std::size_t first = src == RowSource::year_metric ? index * n : 0;
        put([&x, first](std::size_t j, std::size_t i) { return x[j][first + i]; });
        break;
      }
      case RowSource::start_month:
      case RowSource::production_month: {
        const auto x = each([src](const DrawOutput& o) {
          return src == RowSource::start_month ? o.start_month.data() : o.production_month.data();
        });
        if (s.dtype == DType::i32) {  // int to int32: what rounding the double would give
          for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < g; ++j) {
              const std::int32_t v = x[j][i];
              std::memcpy(dst + i * stride + j * 4, &v, 4);
            }
          break;
        }
        put([&x](std::size_t j, std::size_t i) { return static_cast<double>(x[j][i]); });
        break;
      }
      case RowSource::target_met: {
        const auto x = each([](const DrawOutput& o) { return o.target_met.data(); });
        put([&x](std::size_t j, std::size_t i) { return static_cast<double>(x[j][i]); });
        break;
      }
      case RowSource::log_weight:
        put([log_weights](std::size_t j, std::size_t) { return log_weights[j]; });
        break;
      case RowSource::input: {
        const int* slots = plan.input_datasets[index].slots.data();
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

// As welford_avx2, eight columns at a time.
COUNTYSIM_AVX512_BEGIN
COUNTYSIM_AVX512_TARGET std::size_t welford_avx512(const double* x, double* mean, double* m2,
                                                   std::size_t k, double n) {
  const __m512d vn = _mm512_set1_pd(n);
  std::size_t i = 0;
  for (; i + 8 <= k; i += 8) {
    const __m512d xv = _mm512_loadu_pd(x + i);
    __m512d mv = _mm512_loadu_pd(mean + i);
    const __m512d d = _mm512_sub_pd(xv, mv);
    mv = _mm512_add_pd(mv, _mm512_div_pd(d, vn));
    const __m512d m2v =
        _mm512_add_pd(_mm512_loadu_pd(m2 + i), _mm512_mul_pd(d, _mm512_sub_pd(xv, mv)));
    _mm512_storeu_pd(mean + i, mv);
    _mm512_storeu_pd(m2 + i, m2v);
  }
  return i;
}
COUNTYSIM_AVX512_END

}  // namespace

void welford_add(const double* x, double* mean, double* m2, std::size_t k, double n) {
  const SimdLevel level = simd_level();
  std::size_t i = level >= SimdLevel::avx512 ? welford_avx512(x, mean, m2, k, n) : 0;
  if (level >= SimdLevel::avx2) i += welford_avx2(x + i, mean + i, m2 + i, k - i, n);
  for (; i < k; ++i) {  // as Moments::add
    const double d = x[i] - mean[i];
    mean[i] += d / n;
    m2[i] += d * (x[i] - mean[i]);
  }
}

void add_moments(const ResultsLayout& l, const DrawOutput& out, GranuleMoments& g) {
  g.n += 1;
  // Runs of summary columns one after another in one array: one call each.
  for (const ResultsLayout::FloatRun& run : l.moment_runs)
    welford_add(source_array(out, run.source) + run.offset, g.mean.data() + run.begin,
                g.m2.data() + run.begin, run.end - run.begin, g.n);
}

}  // namespace countysim
