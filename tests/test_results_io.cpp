// Results files: write with ResultsWriter (chunks compressed by compress_chunk,
// as the engine does), read back with ResultsReader, HDF5 itself, h5py and xarray.
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "countysim/chunk_codec.hpp"
#include "countysim/errors.hpp"
#include "countysim/h5.hpp"
#include "countysim/results_io.hpp"
#include "countysim/simd.hpp"
#include "countysim/version.hpp"
#include "splitmix.hpp"
#include "temp_dir.hpp"

using namespace countysim;
namespace fs = std::filesystem;

namespace {

struct TempDir : testing::TempDir {
  TempDir() : testing::TempDir("countysim-h5") {}
};

// A small run: 13 draws in chunks of 8, so the second chunk is partial.
struct Sample {
  std::uint64_t draws = 13, chunk_draws = 8;
  RunInfo info;
  Coordinates coords;
  std::vector<DatasetSpec> specs;
  std::vector<MetricSummary> summaries;
  TargetTable targets;

  Sample() {
    info.countysim_version = version;
    info.scenario_schema = scenario_schema;
    info.scenario_name = "示例县 2025–2027";
    info.scenario_file = "scenarios/示例.yaml";
    info.scenario_yaml = "scenario:\n  name: 示例县\n  draws: 13\n";
    info.created = "2025-01-02T03:04:05Z";
    info.command_line = "countysim run scenarios/示例.yaml --seed 18446744073709551557";
    info.seed = 18446744073709551557ull;  // above 2^63: must survive as uint64
    info.draws = draws;
    info.base_year = 2024;
    info.last_year = 2027;

    coords.year = {2024, 2025, 2026, 2027};
    coords.projection_year = {2025, 2026, 2027};
    coords.cluster = {"bamboo", "tea", "digital"};
    coords.cluster_label = {"竹产业", "茶产业", "数字经济"};
    coords.cluster_group = {"green", "green", "digital"};
    coords.cluster_manufacturing = {1, 1, 0};
    coords.project = {"p1", "p2"};
    coords.project_label = {"竹纤维新材料项目", "茶叶精深加工"};
    coords.project_cluster = {"bamboo", "tea"};
    coords.project_planned_start_month = {3, 14};
    coords.target = {"gdp_2027", "green_clusters"};
    coords.target_label = {"2027年GDP达到300亿元", "绿色产业集群两个过百亿"};
    coords.quantile = {0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95};

    auto spec = [&](std::string group, std::string name, DType t, std::vector<std::string> dims,
                    std::string units, std::string long_name, std::string zh) {
      DatasetSpec s;
      s.group = std::move(group);
      s.name = std::move(name);
      s.dtype = t;
      s.dims = std::move(dims);
      for (const auto& d : s.dims)
        s.row_shape.push_back(d == "year"              ? coords.year.size()
                              : d == "projection_year" ? coords.projection_year.size()
                              : d == "cluster"         ? coords.cluster.size()
                              : d == "project"         ? coords.project.size()
                                                       : coords.target.size());
      s.units = std::move(units);
      s.long_name = std::move(long_name);
      s.label_zh = std::move(zh);
      specs.push_back(std::move(s));
    };
    spec("draws", "industrial_output", DType::f32, {"year"}, "亿元", "industrial output",
         "工业总产值");
    spec("draws", "cluster_output", DType::f32, {"year", "cluster"}, "亿元", "cluster output",
         "产业集群产值");
    spec("draws", "projects_started", DType::i32, {"year"}, "count", "projects started", "");
    spec("draws", "target_met", DType::u8, {"target"}, "1", "target met", "");
    spec("draws", "project_start_month", DType::i32, {"project"}, "month", "start month", "");
    spec("inputs", "macro.rest_growth@2025", DType::f32, {}, "1", "rest growth 2025", "");
    spec("inputs", "land.supply_mu", DType::f32, {"projection_year"}, "亩", "land supply",
         "土地供应");

    summaries.push_back(summary("industrial_output", {"year"}, {4}, "亿元", "工业总产值"));
    summaries.push_back(
        summary("cluster_output", {"year", "cluster"}, {4, 3}, "亿元", "产业集群产值"));
    summaries.push_back(summary("project_start_month", {"project"}, {2}, "month", ""));

    TargetRow a;
    a.id = "gdp_2027";
    a.label = coords.target_label[0];
    a.metric = "gdp";
    a.op = "at_least";
    a.threshold = 300;
    a.year = 2027;
    a.probability = 11.0 / 13;
    a.std_error = std::sqrt(a.probability * (1 - a.probability) / 13);
    a.ci_low = 0.5776;
    a.ci_high = 0.9568;
    TargetRow b;
    b.id = "green_clusters";
    b.label = coords.target_label[1];
    b.metric = "clusters_at_least";
    b.op = "at_least";
    b.threshold = 2;
    b.year = 2027;
    b.group = "green";
    b.group_threshold = 100;
    b.probability = 1.0 / 3;
    b.std_error = 0.125;
    b.ci_low = 0.1;
    b.ci_high = 0.6;
    targets.rows = {a, b};
    targets.all_met_probability = 4.0 / 13;
    targets.all_met_std_error = 0.128;
  }

  MetricSummary summary(std::string metric, std::vector<std::string> dims,
                        std::vector<std::size_t> shape, std::string units, std::string zh) {
    MetricSummary s;
    s.metric = metric;
    s.units = std::move(units);
    s.long_name = metric + " (English)";
    s.label_zh = std::move(zh);
    s.dims = std::move(dims);
    s.shape = std::move(shape);
    std::size_t n = 1;
    for (auto k : s.shape) n *= k;
    for (std::size_t i = 0; i < n; ++i) {
      s.mean.push_back(100.0 / 3 + i);
      s.sd.push_back(std::sqrt(2.0) * (i + 1));
      for (std::size_t q = 0; q < coords.quantile.size(); ++q)
        s.quantiles.push_back(s.mean.back() + (coords.quantile[q] - 0.5) * s.sd.back());
    }
    return s;
  }

  // The value of dataset `k` for draw d and row element c, as stored.
  double value(std::size_t k, std::uint64_t d, std::size_t c) const {
    switch (specs[k].dtype) {
      case DType::f32:  // irregular mantissas, so compression has real work to do
        return static_cast<float>(std::exp(0.37 * std::sin(1.3 * d + 0.7 * c + k)) *
                                  (100.0 + 7.5 * c));
      case DType::i32:
        return static_cast<double>(static_cast<int>(d * 10 + c) - 50);
      case DType::u8:
        return static_cast<double>((d * 7 + c * 3 + k) % 256);
      case DType::f64:
        return -0.5 * std::pow(std::sin(0.9 * d + c), 2) - 1e-3 * k;
    }
    return 0;
  }

  std::vector<double> expected(std::size_t k) const {
    const std::size_t row = specs[k].row_elems();
    std::vector<double> out;
    for (std::uint64_t d = 0; d < draws; ++d)
      for (std::size_t c = 0; c < row; ++c) out.push_back(value(k, d, c));
    return out;
  }

  // Full-size chunk `chunk` of column `col` of dataset k, zero-padded past
  // the last draw, as the engine hands it to compress_chunk.
  std::vector<unsigned char> chunk_bytes(std::size_t k, std::uint64_t chunk,
                                         std::size_t col) const {
    const DatasetSpec& s = specs[k];
    const std::size_t es = dtype_size(s.dtype);
    std::vector<unsigned char> buf(chunk_draws * es, 0);
    for (std::uint64_t i = 0; i < chunk_draws; ++i) {
      const std::uint64_t d = chunk * chunk_draws + i;
      if (d >= draws) break;
      unsigned char* p = buf.data() + i * es;
      const double v = value(k, d, col);
      if (s.dtype == DType::f32) {
        const float f = static_cast<float>(v);
        std::memcpy(p, &f, 4);
      } else if (s.dtype == DType::i32) {
        const std::int32_t x = static_cast<std::int32_t>(v);
        std::memcpy(p, &x, 4);
      } else if (s.dtype == DType::f64) {
        std::memcpy(p, &v, 8);
      } else {
        *p = static_cast<std::uint8_t>(v);
      }
    }
    return buf;
  }

  // Writes the whole file the way the engine does: chunks out of order, levels mixed.
  void write(const std::string& path, bool close = true) const {
    ResultsWriter w(path, info, coords, specs, draws, chunk_draws);
    const std::uint64_t chunks = (draws + chunk_draws - 1) / chunk_draws;
    for (std::size_t k = 0; k < specs.size(); ++k)
      for (std::uint64_t c = chunks; c-- > 0;)
        for (std::size_t col = 0; col < specs[k].row_elems(); ++col) {
          const auto raw = chunk_bytes(k, c, col);
          w.write_chunk(
              k, c, col,
              compress_chunk(raw.data(), raw.size(), dtype_size(specs[k].dtype), k % 2 ? 6 : 1));
        }
    for (const auto& s : summaries) w.write_summary(s);
    w.write_targets(targets);
    if (close) w.close();
  }
};

std::string json(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\')
      out += std::string("\\") + ch;
    else if (u < 0x20)
      out += fmt::format("\\u{:04x}", u);
    else
      out += ch;  // UTF-8 passes through
  }
  return out + "\"";
}

std::string json(double x) {
  return std::isnan(x) ? "NaN" : fmt::format("{}", x);
}
std::string json(int x) {
  return std::to_string(x);
}
std::string json(std::uint8_t x) {
  return std::to_string(x);
}

template <class T>
std::string json(const std::vector<T>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + json(v[i]);
  return out + "]";
}

std::string json_var(const std::string& group, const std::string& name,
                     const std::vector<std::string>& dims, const std::string& values,
                     const std::string& dtype = "", const std::string& attrs = "{}") {
  std::string out =
      fmt::format(R"({{"group": {}, "name": {}, "dims": {}, "values": {}, "attrs": {})",
                  json(group), json(name), json(dims), values, attrs);
  if (!dtype.empty()) out += ", \"dtype\": " + json(dtype);
  return out + "}";
}

// What xarray must show: one entry per checked variable.
std::string expectations(const Sample& s) {
  std::vector<std::string> vars;
  const Coordinates& c = s.coords;
  vars.push_back(json_var("", "year", {"year"}, json(c.year), "int32"));
  vars.push_back(json_var("", "cluster", {"cluster"}, json(c.cluster)));
  vars.push_back(json_var("", "cluster_label", {"cluster"}, json(c.cluster_label)));
  vars.push_back(
      json_var("", "cluster_manufacturing", {"cluster"}, json(c.cluster_manufacturing), "uint8"));
  vars.push_back(json_var("", "project_label", {"project"}, json(c.project_label)));
  vars.push_back(json_var("", "project_planned_start_month", {"project"},
                          json(c.project_planned_start_month), "int32"));
  vars.push_back(json_var("", "target_label", {"target"}, json(c.target_label)));
  vars.push_back(json_var("", "quantile", {"quantile"}, json(c.quantile), "float64"));
  const char* dtypes[] = {"float32", "int32", "uint8"};
  for (std::size_t k = 0; k < s.specs.size(); ++k) {
    const DatasetSpec& d = s.specs[k];
    std::vector<std::string> dims{"draw"};
    dims.insert(dims.end(), d.dims.begin(), d.dims.end());
    std::string attrs =
        fmt::format(R"({{"units": {}, "long_name": {})", json(d.units), json(d.long_name));
    if (!d.label_zh.empty()) attrs += ", \"label_zh\": " + json(d.label_zh);
    attrs += "}";
    vars.push_back(json_var(d.group, d.name, dims, json(s.expected(k)),
                            dtypes[static_cast<int>(d.dtype)], attrs));
  }
  vars.push_back(json_var("draws", "cluster", {"cluster"}, json(c.cluster)));
  vars.push_back(
      json_var("inputs", "projection_year", {"projection_year"}, json(c.projection_year)));
  for (const auto& m : s.summaries) {
    const std::string g = "summary/" + m.metric;
    std::vector<std::string> qdims = m.dims;
    qdims.push_back("quantile");
    const std::string attrs =
        m.label_zh.empty() ? "{}" : fmt::format(R"({{"label_zh": {}}})", json(m.label_zh));
    vars.push_back(json_var(g, "mean", m.dims, json(m.mean), "float64", attrs));
    vars.push_back(json_var(g, "sd", m.dims, json(m.sd), "float64"));
    vars.push_back(json_var(g, "quantiles", qdims, json(m.quantiles), "float64"));
    vars.push_back(json_var(g, "quantile", {"quantile"}, json(c.quantile)));
  }
  std::vector<std::string> ids, labels, groups;
  std::vector<double> prob, gthr;
  for (const auto& r : s.targets.rows) {
    ids.push_back(r.id);
    labels.push_back(r.label);
    groups.push_back(r.group);
    prob.push_back(r.probability);
    gthr.push_back(r.metric == "clusters_at_least" ? r.group_threshold
                                                   : std::numeric_limits<double>::quiet_NaN());
  }
  vars.push_back(json_var("targets", "target", {"target"}, json(ids)));
  vars.push_back(json_var("targets", "label", {"target"}, json(labels)));
  vars.push_back(json_var("targets", "group", {"target"}, json(groups)));
  vars.push_back(json_var("targets", "probability", {"target"}, json(prob), "float64"));
  vars.push_back(json_var("targets", "group_threshold", {"target"}, json(gthr), "float64"));

  std::string out = "{\n \"group_attrs\": {\n";
  out += fmt::format(R"(  "": {{"schema": {}, "scenario_name": {}, "seed": {}, "draws": {}, )"
                     R"("base_year": {}, "scenario_yaml": {}}},)",
                     json(std::string(results_schema)), json(s.info.scenario_name), s.info.seed,
                     s.draws, s.info.base_year, json(s.info.scenario_yaml));
  out += fmt::format("\n  \"targets\": {{\"all_met_probability\": {}}},",
                     json(s.targets.all_met_probability));
  out += fmt::format("\n  \"summary/industrial_output\": {{\"units\": {}, \"label_zh\": {}}}",
                     json(s.summaries[0].units), json(s.summaries[0].label_zh));
  out += fmt::format("\n }},\n \"nc_dims\": {{\"\": {{\"draw\": {}, \"year\": 4}}}},", s.draws);
  out += "\n \"sizes\": {";
  out += fmt::format(
      R"("": {{"year": 4, "cluster": 3, "quantile": 7}}, )"
      R"("draws": {{"draw": {0}, "year": 4, "cluster": 3, "target": 2, "project": 2}}, )"
      R"("inputs": {{"draw": {0}, "projection_year": 3}}}},)",
      s.draws);
  out += "\n \"vars\": [\n  ";
  for (std::size_t i = 0; i < vars.size(); ++i) out += (i ? ",\n  " : "") + vars[i];
  return out + "\n ]\n}\n";
}

// A python3 that has xarray, h5netcdf and h5py (Debian's, not a pyenv one).
std::string find_python() {
  std::vector<std::string> candidates;
  if (const char* p = std::getenv("COUNTYSIM_PYTHON")) candidates.emplace_back(p);
  candidates.emplace_back("/usr/bin/python3");
  candidates.emplace_back("python3");
  for (const auto& c : candidates)
    if (std::system((c + " -c 'import xarray, h5netcdf, h5py' >/dev/null 2>&1").c_str()) == 0)
      return c;
  return "";
}

template <class T>
void write_one_chunk_dataset(hid_t file, const char* name, hid_t type, const std::vector<T>& data,
                             int level) {
  const hsize_t n = data.size();
  h5::Handle space(H5Screate_simple(1, &n, nullptr));
  h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  REQUIRE(H5Pset_chunk(dcpl, 1, &n) >= 0);
  REQUIRE(H5Pset_shuffle(dcpl) >= 0);
  REQUIRE(H5Pset_deflate(dcpl, static_cast<unsigned>(level)) >= 0);
  h5::Handle ds(H5Dcreate2(file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  REQUIRE(ds.valid());
  REQUIRE(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) >= 0);
}

std::vector<unsigned char> stored_chunk(hid_t file, const char* name) {
  h5::Handle ds = h5::open_dataset(file, name);
  hsize_t offset = 0, size = 0;
  REQUIRE(H5Dget_chunk_storage_size(ds, &offset, &size) >= 0);
  std::vector<unsigned char> out(size);
  std::uint32_t filters = 99;
  REQUIRE(H5Dread_chunk(ds, H5P_DEFAULT, &offset, &filters, out.data()) >= 0);
  REQUIRE(filters == 0);  // both filters applied
  return out;
}

}  // namespace

// zlib's own decoder on a zlib-format stream: what HDF5's deflate filter runs.
static std::vector<unsigned char> inflate_zlib(const std::vector<unsigned char>& z,
                                               std::size_t size) {
  std::vector<unsigned char> out(size + 1);
  uLongf len = static_cast<uLongf>(out.size());
  REQUIRE(uncompress(out.data(), &len, z.data(), static_cast<uLong>(z.size())) == Z_OK);
  out.resize(len);
  return out;
}

TEST_CASE("compress_chunk produces streams HDF5's shuffle+deflate pipeline decodes", "[h5]") {
  TempDir tmp;
  const std::string path = tmp.file("pipeline.h5");
  std::vector<float> f32;
  std::vector<std::int32_t> i32;
  std::vector<double> f64;
  std::vector<std::uint8_t> u8;
  for (int i = 0; i < 3001; ++i) {  // odd count, irregular content
    f32.push_back(static_cast<float>(std::exp(std::sin(0.1 * i)) * 1234.5));
    i32.push_back(i * i - 70000);
    f64.push_back(std::cos(0.37 * i) / 3);
    u8.push_back(static_cast<std::uint8_t>((i * 37) % 251));
  }
  const int level = GENERATE(0, 1, 6, 9);
  {
    h5::Handle file = h5::create_file(path);
    write_one_chunk_dataset(file, "f32", H5T_NATIVE_FLOAT, f32, std::max(level, 1));
    write_one_chunk_dataset(file, "i32", H5T_NATIVE_INT32, i32, std::max(level, 1));
    write_one_chunk_dataset(file, "f64", H5T_NATIVE_DOUBLE, f64, std::max(level, 1));
    write_one_chunk_dataset(file, "u8", H5T_NATIVE_UINT8, u8, std::max(level, 1));
  }
  // HDF5's own chunks, inflated, are the shuffled bytes; compress_chunk's
  // stream (libdeflate, other compressed bytes) inflates to exactly those.
  h5::Handle file = h5::open_file(path);
  auto same_shuffled = [&](const char* name, const void* p, std::size_t bytes, std::size_t elem) {
    const auto shuffled = inflate_zlib(stored_chunk(file, name), bytes);
    REQUIRE(shuffled.size() == bytes);
    CHECK(inflate_zlib(compress_chunk(p, bytes, elem, level), bytes) == shuffled);
  };
  same_shuffled("f32", f32.data(), f32.size() * 4, 4);
  same_shuffled("i32", i32.data(), i32.size() * 4, 4);
  same_shuffled("f64", f64.data(), f64.size() * 8, 8);
  same_shuffled("u8", u8.data(), u8.size(), 1);
  // A length that is not a whole number of elements keeps its tail bytes last.
  const auto odd = inflate_zlib(compress_chunk(f32.data(), 4 * 10 + 3, 4, level), 4 * 10 + 3);
  REQUIRE(odd.size() == 43);
  const auto* raw = reinterpret_cast<const unsigned char*>(f32.data());
  for (std::size_t j = 0; j < 10; ++j)
    for (std::size_t k = 0; k < 4; ++k) CHECK(odd[k * 10 + j] == raw[4 * j + k]);
  CHECK(std::equal(odd.begin() + 40, odd.end(), raw + 40));
  CHECK_THROWS_WITH(compress_chunk(f32.data(), 16, 4, 10),
                    "compress_chunk: deflate level 10 is not in 0..9");
}

TEST_CASE("level 1 stores noise byte planes as stored blocks that HDF5 reads back", "[h5]") {
  // Values whose low bytes are noise (the model's floats are like this):
  // over 65,535 elements, so that a plane needs two stored blocks, and as
  // the engine's chunks are, the noise planes in one stored block (shuffled
  // straight into the output); and the same column as counts, whose planes
  // are not noise.
  testing::SplitMix mix{7};
  const std::size_t n = GENERATE(70001, 8191);
  std::vector<float> f32(n);
  std::vector<double> f64(n);
  std::vector<std::int32_t> i32(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double u = mix.uniform();
    f32[i] = static_cast<float>(400 + 40 * u);
    f64[i] = -std::exp(3 * u);  // every mantissa bit in play
    i32[i] = static_cast<std::int32_t>(u * 20);
  }
  auto check = [&](const void* p, std::size_t elem, hid_t type, bool stored) {
    const std::size_t bytes = n * elem;
    const auto z1 = compress_chunk(p, bytes, elem, 1);
    INFO("element size " << elem);
    REQUIRE(z1.size() > 3);
    // After the two-byte zlib header: a stored block (BTYPE 00) or not.
    CHECK(((z1[2] >> 1) & 3) == (stored ? 0 : ((z1[2] >> 1) & 3)));
    if (stored) CHECK(z1[2] == 0x00);
    // zlib inflates it to the shuffled bytes...
    const auto plain = inflate_zlib(z1, bytes);
    REQUIRE(plain.size() == bytes);
    const auto* raw = static_cast<const unsigned char*>(p);
    for (std::size_t j = 0; j < n; j += 997)
      for (std::size_t k = 0; k < elem; ++k) REQUIRE(plain[k * n + j] == raw[elem * j + k]);
    // ...and HDF5's pipeline, given the chunk as is, reads back the values.
    TempDir tmp;
    h5::Handle file = h5::create_file(tmp.file("planes.h5"));
    const hsize_t dims = n;
    h5::Handle space(H5Screate_simple(1, &dims, nullptr));
    h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
    REQUIRE(H5Pset_chunk(dcpl, 1, &dims) >= 0);
    REQUIRE(H5Pset_shuffle(dcpl) >= 0);
    REQUIRE(H5Pset_deflate(dcpl, 1) >= 0);
    h5::Handle ds(H5Dcreate2(file, "x", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    const hsize_t offset = 0;
    REQUIRE(H5Dwrite_chunk(ds, H5P_DEFAULT, 0, &offset, z1.size(), z1.data()) >= 0);
    std::vector<unsigned char> back(bytes);
    REQUIRE(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, back.data()) >= 0);
    CHECK(std::memcmp(back.data(), raw, bytes) == 0);
    return z1.size();
  };
  const std::size_t f = check(f32.data(), 4, H5T_NATIVE_FLOAT, true);
  check(f64.data(), 8, H5T_NATIVE_DOUBLE, true);
  // With n = 8191, the float's two noise planes fill one stored block.
  if (n == 8191) {
    const auto z = compress_chunk(f32.data(), n * 4, 4, 1);
    CHECK(static_cast<std::size_t>(z[3] | z[4] << 8) == 2 * n);
  }
  check(i32.data(), 4, H5T_NATIVE_INT32, false);
  // No larger than libdeflate's level 1 on the same bytes (within 1%).
  CHECK(f <= compress_chunk(f32.data(), n * 4, 4, 2).size() * 101 / 100);
}

TEST_CASE("shuffle_bytes: every vector path gives HDF5's shuffle", "[h5]") {
  testing::SplitMix mix{11};
  const std::size_t elem = GENERATE(2, 4, 8);
  for (const std::size_t n : {2, 7, 63, 64, 65, 127, 128, 1000, 8192}) {
    const std::size_t bytes = n * elem + n % elem;  // and bytes past the last element
    std::vector<unsigned char> src(bytes);
    for (auto& b : src) b = static_cast<unsigned char>(mix.uniform() * 256);
    std::vector<unsigned char> want(bytes);
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t k = 0; k < elem; ++k) want[k * n + j] = src[elem * j + k];
    std::copy(src.begin() + static_cast<std::ptrdiff_t>(n * elem), src.end(),
              want.begin() + static_cast<std::ptrdiff_t>(n * elem));
    for (const SimdLevel level : {SimdLevel::scalar, SimdLevel::avx2, SimdLevel::avx512}) {
      const SimdLevel before = set_simd_level_for_testing(level);
      std::vector<unsigned char> got(bytes, 0xa5);
      shuffle_bytes(src.data(), bytes, elem, got.data());
      set_simd_level_for_testing(before);
      INFO("element size " << elem << ", " << n << " elements, " << simd_level_name(level));
      CHECK(got == want);
    }
  }
}

TEST_CASE("HDF5 failures become RunError with HDF5's own reason", "[h5]") {
  TempDir tmp;
  h5::Handle file = h5::create_file(tmp.file("f.h5"));
  CHECK_THROWS_WITH(h5::open_dataset(file, "missing"),
                    Catch::StartsWith("HDF5: cannot open dataset") &&
                        Catch::Contains("f.h5:/missing") && Catch::Contains("doesn't exist"));
  // where() between the failing call and fail() keeps the reason.
  REQUIRE(H5Gopen2(file, "nope", H5P_DEFAULT) < 0);
  const std::string at = h5::where(file, "nope");
  CHECK_THROWS_WITH(h5::fail("cannot open group", at), Catch::Contains("doesn't exist"));
  CHECK_THROWS_AS(h5::create_file(tmp.file("f.h5")), RunError);
}

TEST_CASE("visit_columns gives every chunk's values, through the raw path or HDF5's own", "[h5]") {
  TempDir tmp;
  Sample s;
  // Column cols[i]'s values as visit_columns hands them over, chunk by chunk
  // (calls from several threads: each writes only its own chunk's slots).
  auto visit_all = [&](ResultsWriter& w, std::size_t k, const std::vector<std::size_t>& cols,
                       int threads) {
    std::vector<float> got(cols.size() * s.draws, -1.0f);
    std::vector<int> calls(cols.size() * 2, 0);
    w.visit_columns(
        k, cols, 0, 2, threads, [&](std::size_t i, std::uint64_t c, const float* x, std::size_t n) {
          calls[i * 2 + c] += 1;
          REQUIRE(n == std::min<std::uint64_t>(s.chunk_draws, s.draws - c * s.chunk_draws));
          std::copy(x, x + n,
                    got.begin() + static_cast<std::ptrdiff_t>(i * s.draws + c * s.chunk_draws));
        });
    CHECK(std::all_of(calls.begin(), calls.end(), [](int n) { return n == 1; }));
    return got;
  };
  const std::vector<std::size_t> cols = {7, 2, 11};  // any order, across rows
  for (const bool all_written : {true, false}) {
    INFO((all_written ? "every chunk written (raw path)" : "chunk 1 never written (HDF5's path)"));
    ResultsWriter w(tmp.file(all_written ? "all.h5" : "part.h5"), s.info, s.coords, s.specs,
                    s.draws, s.chunk_draws);
    for (std::size_t k = 0; k < s.specs.size(); ++k)
      for (std::uint64_t c = 0; c < (all_written ? 2u : 1u); ++c)
        for (std::size_t col = 0; col < s.specs[k].row_elems(); ++col) {
          const auto raw = s.chunk_bytes(k, c, col);
          w.write_chunk(k, c, col,
                        compress_chunk(raw.data(), raw.size(), dtype_size(s.specs[k].dtype), 1));
        }
    for (const int threads : {1, 3}) {
      const std::vector<float> got = visit_all(w, 1, cols, threads);  // cluster_output, f32
      for (std::size_t i = 0; i < cols.size(); ++i)
        for (std::uint64_t d = 0; d < s.draws; ++d) {
          // An unwritten chunk's values are undefined (fill time "never"):
          // only the written chunk 0 is checked then.
          if (all_written || d < s.chunk_draws)
            REQUIRE(got[i * s.draws + d] == static_cast<float>(s.value(1, d, cols[i])));
        }
      const std::vector<float> ints = visit_all(w, 2, {3}, threads);  // int32 as float
      for (std::uint64_t d = 0; d < s.draws; ++d)
        if (all_written || d < s.chunk_draws)
          REQUIRE(ints[d] == static_cast<float>(s.value(2, d, 3)));
    }
    CHECK_THROWS_WITH(w.visit_columns(1, {12}, 0, 2, 1, [](auto, auto, auto, auto) {}),
                      "results: column 12 of /draws/cluster_output is past its 12 columns");
    int none = 0;
    w.visit_columns(1, {}, 0, 2, 1, [&](auto, auto, auto, auto) { ++none; });
    w.visit_columns(1, {0}, 2, 5, 1, [&](auto, auto, auto, auto) { ++none; });  // past the end
    CHECK(none == 0);
  }
}

TEST_CASE("results file round-trips through ResultsReader", "[h5]") {
  TempDir tmp;
  const std::string path = tmp.file("run.h5");
  Sample s;
  {
    // read_columns sees the compressed chunks before the file is closed.
    ResultsWriter w(path, s.info, s.coords, s.specs, s.draws, s.chunk_draws);
    REQUIRE(w.specs().size() == s.specs.size());
    for (std::size_t k = 0; k < s.specs.size(); ++k)
      for (std::uint64_t c = 0; c < 2; ++c)
        for (std::size_t col = 0; col < s.specs[k].row_elems(); ++col) {
          const auto raw = s.chunk_bytes(k, c, col);
          w.write_chunk(k, c, col,
                        compress_chunk(raw.data(), raw.size(), dtype_size(s.specs[k].dtype), 1));
        }
    // cluster_output rows are [year 4 x cluster 3]: columns 2..8 cross three rows.
    std::vector<float> cols;
    w.read_columns(1, 2, 7, cols);
    REQUIRE(cols.size() == 7 * s.draws);
    for (std::size_t c = 0; c < 7; ++c)
      for (std::uint64_t d = 0; d < s.draws; ++d)
        REQUIRE(cols[c * s.draws + d] == static_cast<float>(s.value(1, d, 2 + c)));
    std::vector<float> cols3;  // chunks inflated three at a time: the same floats
    w.read_columns(1, 2, 7, cols3, 3);
    CHECK(cols3 == cols);
    w.read_columns(2, 0, 4, cols);  // int32 read as float
    for (std::size_t c = 0; c < 4; ++c)
      for (std::uint64_t d = 0; d < s.draws; ++d)
        REQUIRE(cols[c * s.draws + d] == static_cast<float>(s.value(2, d, c)));
    w.read_columns(5, 0, 1, cols);  // [draw] only
    for (std::uint64_t d = 0; d < s.draws; ++d)
      REQUIRE(cols[d] == static_cast<float>(s.value(5, d, 0)));
    w.read_columns(1, 5, 0, cols);
    CHECK(cols.empty());
    CHECK_THROWS_AS(w.read_columns(1, 10, 3, cols), RunError);
    CHECK_THROWS_WITH(w.write_chunk(0, 2, 0, {}),
                      "results: chunk 2 of /draws/industrial_output is past the last one (1)");
    CHECK_THROWS_WITH(w.write_chunk(1, 0, 12, {}),
                      "results: column 12 of /draws/cluster_output is past its 12 columns");
    for (const auto& m : s.summaries) w.write_summary(m);
    CHECK_THROWS_AS(w.write_summary(s.summaries[0]), RunError);
    w.write_targets(s.targets);
    w.close();
    CHECK_THROWS_AS(w.write_targets(s.targets), RunError);
    CHECK_THROWS_AS(w.close(), RunError);
  }

  ResultsReader r(path);
  const RunInfo& i = r.info();
  CHECK(i.countysim_version == s.info.countysim_version);
  CHECK(i.schema == results_schema);
  CHECK(i.scenario_schema == s.info.scenario_schema);
  CHECK(i.scenario_name == s.info.scenario_name);
  CHECK(i.scenario_file == s.info.scenario_file);
  CHECK(i.scenario_yaml == s.info.scenario_yaml);
  CHECK(i.created == s.info.created);
  CHECK(i.command_line == s.info.command_line);
  CHECK(i.seed == s.info.seed);
  CHECK(i.draws == s.draws);
  CHECK(i.base_year == 2024);
  CHECK(i.last_year == 2027);

  const Coordinates& c = r.coords();
  CHECK(c.year == s.coords.year);
  CHECK(c.projection_year == s.coords.projection_year);
  CHECK(c.cluster == s.coords.cluster);
  CHECK(c.cluster_label == s.coords.cluster_label);
  CHECK(c.cluster_group == s.coords.cluster_group);
  CHECK(c.cluster_manufacturing == s.coords.cluster_manufacturing);
  CHECK(c.project == s.coords.project);
  CHECK(c.project_label == s.coords.project_label);
  CHECK(c.project_cluster == s.coords.project_cluster);
  CHECK(c.project_planned_start_month == s.coords.project_planned_start_month);
  CHECK(c.target == s.coords.target);
  CHECK(c.target_label == s.coords.target_label);
  CHECK(c.quantile == s.coords.quantile);

  for (std::size_t k = 0; k < s.specs.size(); ++k) {
    const DatasetSpec& d = s.specs[k];
    INFO(d.group << "/" << d.name);
    REQUIRE(r.has_dataset(d.group, d.name));
    std::vector<std::size_t> shape;
    CHECK(r.read_dataset(d.group, d.name, &shape) == s.expected(k));
    std::vector<std::size_t> want{s.draws};
    want.insert(want.end(), d.row_shape.begin(), d.row_shape.end());
    CHECK(shape == want);
  }
  CHECK_FALSE(r.has_dataset("draws", "gdp"));
  CHECK_FALSE(r.has_dataset("draws", "../year"));
  CHECK_THROWS_WITH(r.read_dataset("draws", "gdp"),
                    path + ": no dataset /draws/gdp in this results file");

  std::vector<std::string> names;
  for (const auto& m : s.summaries) names.push_back(m.metric);
  CHECK(r.summary_metrics() == names);  // creation order
  for (const auto& m : s.summaries) {
    const MetricSummary got = r.summary(m.metric);
    CHECK(got.metric == m.metric);
    CHECK(got.units == m.units);
    CHECK(got.long_name == m.long_name);
    CHECK(got.label_zh == m.label_zh);
    CHECK(got.dims == m.dims);
    CHECK(got.shape == m.shape);
    CHECK(got.mean == m.mean);
    CHECK(got.sd == m.sd);
    CHECK(got.quantiles == m.quantiles);
  }
  CHECK_THROWS_WITH(r.summary("gdp"), Catch::Contains("no summary of metric 'gdp'") &&
                                          Catch::Contains("industrial_output"));

  const TargetTable t = r.targets();
  CHECK(t.all_met_probability == s.targets.all_met_probability);
  CHECK(t.all_met_std_error == s.targets.all_met_std_error);
  REQUIRE(t.rows.size() == s.targets.rows.size());
  for (std::size_t k = 0; k < t.rows.size(); ++k) {
    const TargetRow &a = t.rows[k], &b = s.targets.rows[k];
    CHECK(a.id == b.id);
    CHECK(a.label == b.label);
    CHECK(a.metric == b.metric);
    CHECK(a.op == b.op);
    CHECK(a.threshold == b.threshold);
    CHECK(a.year == b.year);
    CHECK(a.cluster == b.cluster);
    CHECK(a.group == b.group);
    CHECK(a.group_threshold == b.group_threshold);
    CHECK(a.probability == b.probability);
    CHECK(a.std_error == b.std_error);
    CHECK(a.ci_low == b.ci_low);
    CHECK(a.ci_high == b.ci_high);
  }
}

TEST_CASE("results file with an empty dimension and a single chunk", "[h5]") {
  TempDir tmp;
  Sample s;
  s.coords.project.clear();
  s.coords.project_label.clear();
  s.coords.project_cluster.clear();
  s.coords.project_planned_start_month.clear();
  s.specs[4].row_shape = {0};  // project_start_month with no projects
  s.summaries.pop_back();
  s.chunk_draws = 100;  // more than the draws: one chunk of 13
  const std::string path = tmp.file("empty.h5");
  s.write(path);
  ResultsReader r(path);
  std::vector<std::size_t> shape;
  CHECK(r.read_dataset("draws", "project_start_month", &shape).empty());
  CHECK(shape == std::vector<std::size_t>{13, 0});
  CHECK(r.read_dataset("draws", "cluster_output") == s.expected(1));
  CHECK(r.coords().project.empty());
}

TEST_CASE("ResultsWriter refuses what it cannot write", "[h5]") {
  TempDir tmp;
  Sample s;
  const std::string path = tmp.file("run.h5");
  s.write(path);
  SECTION("an existing file is never overwritten") {
    CHECK_THROWS_WITH(ResultsWriter(path, s.info, s.coords, s.specs, s.draws, s.chunk_draws),
                      Catch::StartsWith("HDF5: cannot create file") && Catch::Contains(path));
    CHECK(ResultsReader(path).info().draws == s.draws);  // untouched
  }
  SECTION("specs that do not match the coordinates") {
    auto specs = s.specs;
    specs[1].row_shape = {4, 2};
    CHECK_THROWS_WITH(
        ResultsWriter(tmp.file("a.h5"), s.info, s.coords, specs, s.draws, s.chunk_draws),
        Catch::Contains("cluster_output") && Catch::Contains("'cluster'"));
    specs = s.specs;
    specs[0].group = "extra";
    CHECK_THROWS_WITH(ResultsWriter(tmp.file("a.h5"), s.info, s.coords, specs, 13, 8),
                      "results: dataset 'industrial_output' in group 'extra': the group must be "
                      "'draws' or 'inputs'");
    specs = s.specs;
    specs[0].name = "year";
    CHECK_THROWS_WITH(ResultsWriter(tmp.file("a.h5"), s.info, s.coords, specs, 13, 8),
                      "results: dataset /draws/year would hide the coordinate of that name");
    specs = s.specs;
    specs[0].name = "a/b";
    CHECK_THROWS_WITH(ResultsWriter(tmp.file("a.h5"), s.info, s.coords, specs, 13, 8),
                      "results: dataset name 'a/b' in /draws must be printable ASCII without '/'");
    specs = s.specs;
    specs[0].dims = {"month"};
    CHECK_THROWS_WITH(ResultsWriter(tmp.file("a.h5"), s.info, s.coords, specs, 13, 8),
                      Catch::Contains("unknown dimension 'month'"));
    CHECK_THROWS_WITH(
        ResultsWriter(tmp.file("a.h5"), s.info, s.coords, s.specs, 0, 8),
        "results: " + tmp.file("a.h5") + ": draws (0) and chunk_draws (8) must be positive");
    CHECK_FALSE(fs::exists(tmp.file("a.h5")));  // checked before creating anything
  }
  SECTION("companion datasets of the wrong length") {
    Coordinates c = s.coords;
    c.cluster_label.pop_back();
    CHECK_THROWS_WITH(ResultsWriter(tmp.file("b.h5"), s.info, c, s.specs, 13, 8),
                      Catch::Contains("cluster_label"));
  }
}

TEST_CASE("ResultsReader rejects files that are not results", "[h5]") {
  TempDir tmp;
  auto message = [](const std::string& path) -> std::string {
    try {
      ResultsReader r(path);
    } catch (const InputError& e) {
      REQUIRE(e.diagnostics().size() == 1);
      CHECK(e.diagnostics()[0].file == path);
      return e.what();
    }
    FAIL("no InputError for " << path);
    return "";
  };
  const std::string missing = tmp.file("missing.h5");
  CHECK_THAT(message(missing), Catch::StartsWith(missing) && Catch::Contains("no such file"));
  const std::string text = tmp.file("notes.h5");
  std::ofstream(text) << "not hdf5\n";
  CHECK_THAT(message(text), Catch::Contains("not an HDF5 file"));
  const std::string plain = tmp.file("plain.h5");
  { h5::Handle f = h5::create_file(plain); }
  CHECK_THAT(message(plain), Catch::Contains("not a countysim results file"));
  const std::string other = tmp.file("other.h5");
  {
    h5::Handle f = h5::create_file(other);
    h5::write_attribute(f, "schema", "countysim-results/99");
  }
  CHECK_THAT(message(other), Catch::Contains("'countysim-results/99' is not supported"));
  const std::string partial = tmp.file("partial.h5");
  {
    h5::Handle f = h5::create_file(partial);
    h5::write_attribute(f, "schema", results_schema);
  }
  CHECK_THAT(message(partial), Catch::Contains("damaged results file"));
}

TEST_CASE("results file opens in xarray (h5netcdf) and h5py with labelled dimensions", "[h5]") {
  const std::string python = find_python();
  if (python.empty())
    FAIL(
        "no python3 with xarray, h5netcdf and h5py (install python3-xarray python3-h5netcdf; "
        "or set COUNTYSIM_PYTHON)");
  TempDir tmp;
  Sample s;
  const std::string path = tmp.file("run.h5"), expect = tmp.file("expect.json");
  s.write(path);
  std::ofstream(expect) << expectations(s);
  const std::string script = std::string(COUNTYSIM_SOURCE_DIR) + "/tests/e2e/xarray_check.py";
  const std::string cmd = fmt::format("{} '{}' '{}' '{}'", python, script, path, expect);
  INFO(cmd);
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("a summary of an all-NaN column round-trips as NaN", "[h5]") {
  // The real growth metrics have no value in the base year (index 0).
  TempDir tmp;
  const std::string path = tmp.file("run.h5");
  Sample s;
  MetricSummary& m = s.summaries[0];
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::size_t nq = s.coords.quantile.size();
  m.mean[0] = m.sd[0] = nan;
  for (std::size_t q = 0; q < nq; ++q) m.quantiles[q] = nan;
  s.write(path);
  const ResultsReader r(path);
  const MetricSummary back = r.summary(m.metric);
  CHECK(std::isnan(back.mean[0]));
  CHECK(std::isnan(back.sd[0]));
  for (std::size_t q = 0; q < nq; ++q) CHECK(std::isnan(back.quantiles[q]));
  CHECK(back.mean[1] == m.mean[1]);
}

TEST_CASE("a conditioned run's targets and observations round-trip", "[h5]") {
  TempDir tmp;
  const std::string path = tmp.file("run.h5");
  Sample s;
  DatasetSpec lw;
  lw.group = "draws";
  lw.name = "log_weight";
  lw.dtype = DType::f64;
  lw.units = "1";
  lw.long_name = "log-likelihood of the observations";
  s.specs.push_back(lw);
  TargetTable& t = s.targets;
  t.conditioned = true;
  t.rows[0].prior_probability = 0.6;
  t.rows[0].prior_std_error = 0.13;
  t.rows[1].prior_probability = 0.25;
  t.rows[1].prior_std_error = 0.12;
  t.prior_all_met_probability = 0.2;
  t.prior_all_met_std_error = 0.11;
  t.effective_sample_size = 9.5;
  ObservationRow a;
  a.id = "gdp2025";
  a.metric = "gdp";
  a.year = 2025;
  a.value = 250.5;
  a.sd = 2.5;
  a.source = "2025年统计公报";
  a.prior_quantile = 0.3;
  a.conditioned_median = 251;
  a.effective_sample_size = 10.5;
  ObservationRow b = a;
  b.id = "bamboo2026";
  b.metric = "cluster_output";
  b.cluster = "bamboo";
  b.year = 2026;
  b.source = "";
  b.conditioned_median = std::numeric_limits<double>::quiet_NaN();
  t.observations = {a, b};
  s.write(path);

  const ResultsReader r(path);
  const TargetTable back = r.targets();
  CHECK(back.conditioned);
  CHECK(back.rows[1].prior_probability == 0.25);
  CHECK(back.rows[0].prior_std_error == 0.13);
  CHECK(back.prior_all_met_probability == 0.2);
  CHECK(back.prior_all_met_std_error == 0.11);
  CHECK(back.effective_sample_size == 9.5);
  REQUIRE(back.observations.size() == 2);
  CHECK(back.observations[0].source == "2025年统计公报");
  CHECK(back.observations[0].value == 250.5);
  CHECK(back.observations[0].sd == 2.5);
  CHECK(back.observations[0].prior_quantile == 0.3);
  CHECK(back.observations[0].conditioned_median == 251);
  CHECK(back.observations[0].effective_sample_size == 10.5);
  CHECK(back.observations[1].cluster == "bamboo");
  CHECK(back.observations[1].metric == "cluster_output");
  CHECK(back.observations[1].year == 2026);
  CHECK(std::isnan(back.observations[1].conditioned_median));
  const auto lwv = r.read_dataset("draws", "log_weight");
  REQUIRE(lwv.size() == s.draws);
  for (std::uint64_t d = 0; d < s.draws; ++d) CHECK(lwv[d] == s.value(s.specs.size() - 1, d, 0));

  // An unconditioned file has none of it.
  Sample plain;
  plain.write(tmp.file("plain.h5"));
  const TargetTable p = ResultsReader(tmp.file("plain.h5")).targets();
  CHECK_FALSE(p.conditioned);
  CHECK(std::isnan(p.rows[0].prior_probability));
  CHECK(p.observations.empty());

  // xarray and h5py open every group of it, /observed included, with labelled axes.
  const std::string python = find_python();
  if (python.empty())
    FAIL(
        "no python3 with xarray, h5netcdf and h5py (install python3-xarray python3-h5netcdf; "
        "or set COUNTYSIM_PYTHON)");
  const std::string script = std::string(COUNTYSIM_SOURCE_DIR) + "/tests/e2e/xarray_check.py";
  const std::string cmd = fmt::format("{} '{}' '{}'", python, script, path);
  INFO(cmd);
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("ResultsReader rejects a damaged conditioned run, naming what is wrong", "[h5]") {
  TempDir tmp;
  auto conditioned = [] {
    Sample s;
    TargetTable& t = s.targets;
    t.conditioned = true;
    for (auto& r : t.rows) {
      r.prior_probability = 0.5;
      r.prior_std_error = 0.1;
    }
    t.prior_all_met_probability = 0.3;
    t.prior_all_met_std_error = 0.1;
    t.effective_sample_size = 9;
    ObservationRow o;
    o.id = "gdp2025";
    o.metric = "gdp";
    o.year = 2025;
    o.value = 250;
    o.sd = 2.5;
    o.prior_quantile = 0.3;
    o.conditioned_median = 251;
    o.effective_sample_size = 10;
    t.observations = {o};
    return s;
  };
  auto message = [&](const Sample& s, const std::string& name) -> std::string {
    const std::string path = tmp.file(name);
    s.write(path);
    try {
      ResultsReader r(path);
    } catch (const InputError& e) {
      return e.what();
    }
    return "no error";
  };
  Sample a = conditioned();
  a.targets.rows[1].prior_probability = 1.5;
  CHECK(message(a, "a.h5") == tmp.file("a.h5") +
                                  ": damaged results file: /targets/prior_probability[1] is 1.5; "
                                  "expected a number in [0, 1]");
  Sample b = conditioned();
  b.targets.effective_sample_size = 14;  // 13 draws
  CHECK(message(b, "b.h5") ==
        tmp.file("b.h5") +
            ": damaged results file: attribute effective_sample_size = 14; expected a number in "
            "0..13");
  Sample c = conditioned();
  c.targets.observations[0].sd = 0;
  CHECK(message(c, "c.h5") == tmp.file("c.h5") +
                                  ": damaged results file: /observed: value[0] = 250, sd[0] = 0; "
                                  "expected a finite value and a positive sd");
  Sample d = conditioned();
  d.targets.observations[0].year = 2024;  // the base year has no outturn
  CHECK(message(d, "d.h5") == tmp.file("d.h5") +
                                  ": damaged results file: /observed/year[0] is 2024; expected "
                                  "2025..2027");
}
