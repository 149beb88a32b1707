// Results files, the writing half (layout in docs/results-format.md): the
// writer the engine's writer thread owns, and reading its columns back for
// the summaries. The chunks' bytes are chunk_codec's.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>

#include "countysim/chunk_codec.hpp"
#include "countysim/errors.hpp"
#include "countysim/h5.hpp"
#include "countysim/results_io.hpp"
#include "countysim/version.hpp"

namespace countysim {

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32:
      return 4;
    case DType::i32:
      return 4;
    case DType::u8:
      return 1;
    case DType::f64:
      return 8;
  }
  return 0;
}

std::size_t DatasetSpec::row_elems() const {
  return std::accumulate(row_shape.begin(), row_shape.end(), std::size_t{1},
                         [](std::size_t a, std::size_t b) { return a * b; });
}

namespace {

// The deflate level the dataset filter records; readers ignore it, and
// compress_chunk() may be called with any level.
constexpr unsigned file_deflate_level = 1;

const char* const draw_dim = "draw";

hid_t file_type(DType t) {
  switch (t) {
    case DType::f32:
      return H5T_IEEE_F32LE;
    case DType::i32:
      return H5T_STD_I32LE;
    case DType::u8:
      return H5T_STD_U8LE;
    case DType::f64:
      return H5T_IEEE_F64LE;
  }
  return H5T_IEEE_F32LE;
}

std::size_t dim_size(const std::string& dim, const Coordinates& c, std::uint64_t draws) {
  if (dim == draw_dim) return draws;
  if (dim == "year") return c.year.size();
  if (dim == "projection_year") return c.projection_year.size();
  if (dim == "cluster") return c.cluster.size();
  if (dim == "project") return c.project.size();
  if (dim == "target") return c.target.size();
  if (dim == "quantile") return c.quantile.size();
  throw RunError(
      fmt::format("results: unknown dimension '{}' (known: draw, year, "
                  "projection_year, cluster, project, target, quantile)",
                  dim));
}

void describe(hid_t obj, const std::string& units, const std::string& long_name,
              const std::string& label_zh = "") {
  h5::write_attribute(obj, "units", units);
  h5::write_attribute(obj, "long_name", long_name);
  if (!label_zh.empty()) h5::write_attribute(obj, "label_zh", label_zh);
}

// Writes dimension `dim` into `loc`: the coordinate with its values, or for
// draw a dimension without values.
h5::Handle write_coordinate(hid_t loc, const std::string& dim, const Coordinates& c,
                            std::uint64_t draws, bool shrinkable = false) {
  if (dim == draw_dim) return h5::make_dimension(loc, dim, draws, shrinkable);
  h5::Handle ds;
  if (dim == "year") {
    ds = h5::make_dimension_scale(loc, dim, c.year);
    describe(ds, "year", "calendar year (index 0 is the base year)");
  } else if (dim == "projection_year") {
    ds = h5::make_dimension_scale(loc, dim, c.projection_year);
    describe(ds, "year", "projection year (base year + 1 .. last year)");
  } else if (dim == "cluster") {
    ds = h5::make_dimension_scale(loc, dim, c.cluster);
    describe(ds, "", "industrial cluster id");
  } else if (dim == "project") {
    ds = h5::make_dimension_scale(loc, dim, c.project);
    describe(ds, "", "investment project id");
  } else if (dim == "target") {
    ds = h5::make_dimension_scale(loc, dim, c.target);
    describe(ds, "", "target id");
  } else if (dim == "quantile") {
    ds = h5::make_dimension_scale(loc, dim, c.quantile);
    describe(ds, "1", "probability level of the quantile");
  } else {
    dim_size(dim, c, draws);  // throws for an unknown name
  }
  return ds;
}

template <class T>
void write_companion(hid_t loc, const std::string& name, const std::vector<T>& values,
                     const std::string& dim, hid_t scale, std::size_t size,
                     const std::string& units, const std::string& long_name) {
  if (values.size() != size)
    throw RunError(
        fmt::format("results: {} has {} entries but {} has {}", name, values.size(), dim, size));
  h5::Handle ds = h5::write_dataset(loc, name, values);
  h5::attach_scales(ds, {scale});
  describe(ds, units, long_name);
}

// Coordinates `dims` in the order they first appear, with draw first if `with_draw`.
std::vector<std::string> ordered_dims(const std::vector<std::vector<std::string>>& uses,
                                      bool with_draw) {
  std::vector<std::string> out;
  if (with_draw) out.push_back(draw_dim);
  for (const auto& dims : uses)
    for (const auto& d : dims)
      if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
  return out;
}

std::size_t product(const std::vector<std::size_t>& v) {
  return std::accumulate(v.begin(), v.end(), std::size_t{1},
                         [](std::size_t a, std::size_t b) { return a * b; });
}

}  // namespace

// ---------------------------------------------------------------------------
// Writer

struct ResultsWriter::Impl {
  std::string path;
  Coordinates coords;
  std::vector<DatasetSpec> specs;
  std::uint64_t draws = 0, chunk_draws = 0;
  bool shrinkable = false;
  bool closed = false;
  // [dataset][column * chunks() + chunk]: bytes of each chunk this writer
  // wrote (0: none), so that reading back needs no lookup of the size.
  std::vector<std::vector<std::uint32_t>> stored;
  // Destroyed in reverse order: datasets and groups close before the file.
  h5::Handle file;
  h5::Handle summary;
  std::vector<h5::Handle> datasets;

  void check_open() const {
    if (closed) throw RunError(fmt::format("results: {} is already closed", path));
  }
  const DatasetSpec& spec(std::size_t i) const {
    if (i >= specs.size())
      throw RunError(fmt::format("results: no dataset {} (there are {})", i, specs.size()));
    return specs[i];
  }
  std::uint64_t chunks() const { return (draws + chunk_draws - 1) / chunk_draws; }
  void write_root(const RunInfo& info);
  void write_group(const std::string& group);
  void write_conditioning(hid_t targets, hid_t scale, const TargetTable& t);
};

void ResultsWriter::Impl::write_root(const RunInfo& info) {
  if (!info.schema.empty() && info.schema != results_schema)
    throw RunError(fmt::format("results: schema '{}' given, but this writer produces '{}'",
                               info.schema, results_schema));
  auto or_default = [](const std::string& s, const char* d) { return s.empty() ? d : s; };
  h5::write_attribute(file, "countysim_version", or_default(info.countysim_version, version));
  h5::write_attribute(file, "schema", results_schema);
  h5::write_attribute(file, "scenario_schema", or_default(info.scenario_schema, scenario_schema));
  h5::write_attribute(file, "scenario_name", info.scenario_name);
  h5::write_attribute(file, "scenario_file", info.scenario_file);
  h5::write_attribute(file, "seed", info.seed);
  h5::write_attribute(file, "draws", draws);
  h5::write_attribute(file, "base_year", info.base_year);
  h5::write_attribute(file, "last_year", info.last_year);
  h5::write_attribute(file, "created", info.created);
  h5::write_attribute(file, "command_line", info.command_line);
  h5::write_attribute(file, "scenario_yaml", info.scenario_yaml);

  const Coordinates& c = coords;
  write_coordinate(file, "year", c, draws);
  write_coordinate(file, "projection_year", c, draws);
  {
    h5::Handle s = write_coordinate(file, "cluster", c, draws);
    write_companion(file, "cluster_label", c.cluster_label, "cluster", s, c.cluster.size(), "",
                    "cluster name");
    write_companion(file, "cluster_group", c.cluster_group, "cluster", s, c.cluster.size(), "",
                    "cluster group");
    write_companion(file, "cluster_manufacturing", c.cluster_manufacturing, "cluster", s,
                    c.cluster.size(), "1", "1 if the cluster counts as manufacturing");
  }
  {
    h5::Handle s = write_coordinate(file, "project", c, draws);
    write_companion(file, "project_label", c.project_label, "project", s, c.project.size(), "",
                    "project name");
    write_companion(file, "project_cluster", c.project_cluster, "project", s, c.project.size(), "",
                    "cluster id of the project");
    write_companion(file, "project_planned_start_month", c.project_planned_start_month, "project",
                    s, c.project.size(), "month",
                    "planned start, months after January of the first projection year");
  }
  {
    h5::Handle s = write_coordinate(file, "target", c, draws);
    write_companion(file, "target_label", c.target_label, "target", s, c.target.size(), "",
                    "target name");
  }
  write_coordinate(file, "quantile", c, draws);
  write_coordinate(file, draw_dim, c, draws, shrinkable);
}

void ResultsWriter::Impl::write_group(const std::string& group) {
  std::vector<std::vector<std::string>> uses;
  for (const auto& s : specs)
    if (s.group == group) uses.push_back(s.dims);
  h5::Handle g = h5::create_group(file, group);
  std::vector<std::string> dims = ordered_dims(uses, true);
  std::vector<h5::Handle> scales;
  for (const auto& d : dims) scales.push_back(write_coordinate(g, d, coords, draws, shrinkable));
  auto scale_of = [&](const std::string& d) -> hid_t {
    return scales[std::find(dims.begin(), dims.end(), d) - dims.begin()];
  };

  for (std::size_t i = 0; i < specs.size(); ++i) {
    const DatasetSpec& s = specs[i];
    if (s.group != group) continue;
    // One column a chunk: chunk_draws values of one element of the row. A
    // column's bytes, shuffled, deflate smaller and faster than whole rows
    // (its exponents repeat), and a column reads back alone.
    std::vector<hsize_t> shape{draws}, chunk{chunk_draws};
    shape.insert(shape.end(), s.row_shape.begin(), s.row_shape.end());
    chunk.resize(shape.size(), 1);
    h5::Handle space(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr));
    h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
    const std::string at = h5::where(g, s.name);
    if (!space.valid() || !dcpl.valid()) h5::fail("cannot prepare dataset", at);
    bool ok =
        H5Pset_attr_creation_order(dcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) >= 0 &&
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0;
    // An empty row (a scenario without projects) cannot be chunked; it holds no data.
    if (s.row_elems() > 0)
      ok = ok && H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()) >= 0 &&
           H5Pset_shuffle(dcpl) >= 0 && H5Pset_deflate(dcpl, file_deflate_level) >= 0;
    if (!ok) h5::fail("cannot set storage properties of", at);
    h5::Handle ds(
        H5Dcreate2(g, s.name.c_str(), file_type(s.dtype), space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    if (!ds.valid()) h5::fail("cannot create dataset", at);
    describe(ds, s.units, s.long_name, s.label_zh);
    std::vector<hid_t> attach{scale_of(draw_dim)};
    for (const auto& d : s.dims) attach.push_back(scale_of(d));
    h5::attach_scales(ds, attach);
    datasets[i] = std::move(ds);
  }
}

ResultsWriter::ResultsWriter(const std::string& path, const RunInfo& info,
                             const Coordinates& coords, std::vector<DatasetSpec> specs,
                             std::uint64_t draws, std::uint64_t chunk_draws, bool shrinkable)
    : impl_(std::make_unique<Impl>()) {
  h5::quiet();
  Impl& m = *impl_;
  m.path = path;
  m.shrinkable = shrinkable;
  m.coords = coords;
  m.specs = std::move(specs);
  m.draws = draws;
  m.chunk_draws = std::min(chunk_draws, draws);
  if (draws == 0 || chunk_draws == 0)
    throw RunError(fmt::format("results: {}: draws ({}) and chunk_draws ({}) must be positive",
                               path, draws, chunk_draws));

  const std::vector<std::string> coord_names{"draw",    "year",   "projection_year", "cluster",
                                             "project", "target", "quantile"};
  for (std::size_t i = 0; i < m.specs.size(); ++i) {
    const DatasetSpec& s = m.specs[i];
    if (s.group != "draws" && s.group != "inputs")
      throw RunError(
          fmt::format("results: dataset '{}' in group '{}': the group must be "
                      "'draws' or 'inputs'",
                      s.name, s.group));
    if (!h5::valid_name(s.name))
      throw RunError(
          fmt::format("results: dataset name '{}' in /{} must be printable ASCII "
                      "without '/'",
                      s.name, s.group));
    if (std::find(coord_names.begin(), coord_names.end(), s.name) != coord_names.end())
      throw RunError(fmt::format("results: dataset /{}/{} would hide the coordinate of that name",
                                 s.group, s.name));
    for (std::size_t j = 0; j < i; ++j)
      if (m.specs[j].group == s.group && m.specs[j].name == s.name)
        throw RunError(fmt::format("results: dataset /{}/{} is declared twice", s.group, s.name));
    if (s.dims.size() != s.row_shape.size())
      throw RunError(fmt::format("results: /{}/{} has {} dims but {} sizes", s.group, s.name,
                                 s.dims.size(), s.row_shape.size()));
    for (std::size_t k = 0; k < s.dims.size(); ++k)
      if (s.dims[k] == draw_dim || dim_size(s.dims[k], coords, draws) != s.row_shape[k])
        throw RunError(fmt::format(
            "results: /{}/{}: dimension '{}' has size {} in the spec "
            "but {} in the coordinates",
            s.group, s.name, s.dims[k], s.row_shape[k], dim_size(s.dims[k], coords, draws)));
  }

  m.file = h5::create_file(path);
  m.datasets.resize(m.specs.size());
  m.write_root(info);
  m.write_group("draws");
  m.write_group("inputs");
  m.summary = h5::create_group(m.file, "summary");
}

ResultsWriter::~ResultsWriter() = default;

const std::vector<DatasetSpec>& ResultsWriter::specs() const {
  return impl_->specs;
}

void ResultsWriter::shrink_draws(std::uint64_t draws) {
  h5::quiet();
  Impl& m = *impl_;
  m.check_open();
  if (!m.shrinkable || draws == 0 || draws > m.draws)
    throw RunError(fmt::format("results: {} cannot shrink from {} to {} draws{}", m.path, m.draws,
                               draws, m.shrinkable ? "" : " (not made shrinkable)"));
  if (draws == m.draws) return;
  // No chunk past `draws` may have been written: the file would keep its bytes.
  for (std::size_t i = 0; i < m.specs.size(); ++i) {
    std::vector<hsize_t> dims{draws};
    dims.insert(dims.end(), m.specs[i].row_shape.begin(), m.specs[i].row_shape.end());
    if (H5Dset_extent(m.datasets[i], dims.data()) < 0)
      h5::fail("cannot change the size of", h5::where(m.datasets[i]));
  }
  for (const char* dim : {"/draw", "/draws/draw", "/inputs/draw"}) {
    if (H5Lexists(m.file, dim, H5P_DEFAULT) <= 0) continue;
    h5::Handle ds = h5::open_dataset(m.file, dim);
    h5::shrink_dimension(ds, draws);
  }
  h5::overwrite_attribute(m.file, "draws", draws);
  m.draws = draws;
  m.stored.clear();  // indexed by the old number of chunks; HDF5 says the sizes now
}

namespace {

// The chunk offset of column `column` (row-major index into the row shape)
// in chunk `chunk_index` along draw.
std::vector<hsize_t> chunk_offset(const DatasetSpec& s, std::uint64_t chunk_index,
                                  std::uint64_t chunk_draws, std::size_t column) {
  std::vector<hsize_t> offset(1 + s.row_shape.size(), 0);
  offset[0] = chunk_index * chunk_draws;
  for (std::size_t k = s.row_shape.size(); k-- > 0;) {
    offset[k + 1] = column % s.row_shape[k];
    column /= s.row_shape[k];
  }
  return offset;
}

}  // namespace

void ResultsWriter::write_chunk(std::size_t dataset, std::uint64_t chunk_index, std::size_t column,
                                const unsigned char* compressed, std::size_t bytes) {
  h5::quiet();
  Impl& m = *impl_;
  m.check_open();
  const DatasetSpec& s = m.spec(dataset);
  if (chunk_index >= m.chunks())
    throw RunError(fmt::format("results: chunk {} of /{}/{} is past the last one ({})", chunk_index,
                               s.group, s.name, m.chunks() - 1));
  if (column >= s.row_elems())
    throw RunError(fmt::format("results: column {} of /{}/{} is past its {} columns", column,
                               s.group, s.name, s.row_elems()));
  const std::vector<hsize_t> offset = chunk_offset(s, chunk_index, m.chunk_draws, column);
  if (H5Dwrite_chunk(m.datasets[dataset], H5P_DEFAULT, 0, offset.data(), bytes, compressed) < 0)
    h5::fail(fmt::format("cannot write chunk {} of", chunk_index), h5::where(m.datasets[dataset]));
  if (m.stored.empty()) m.stored.resize(m.specs.size());
  std::vector<std::uint32_t>& sizes = m.stored[dataset];
  if (sizes.empty()) sizes.assign(s.row_elems() * m.chunks(), 0);
  sizes[column * m.chunks() + chunk_index] =
      bytes <= 0xffffffffu ? static_cast<std::uint32_t>(bytes) : 0;
}

namespace {

// read_columns' and visit_columns' fast path: the column chunks as this
// writer stored them (shuffle + zlib-format deflate, filter mask 0), read by
// this thread (HDF5 is not reentrant), then inflated (ChunkInflater), chunks
// shared among the threads in one parallel region. Job i * (chunk1 -
// chunk0) + k is chunk chunk0 + k of column cols[i]; use(inflater, buffer,
// job, stream, bytes, nd) inflates it (nd values) on the thread that took
// it, `buffer` that thread's own. False before anything is read when a
// chunk is stored otherwise (the caller then takes HDF5's path).
template <class Use>
bool read_chunks_raw(hid_t ds, const DatasetSpec& s, std::uint64_t draws, std::uint64_t chunk_draws,
                     const std::vector<std::size_t>& cols, std::uint64_t chunk0,
                     std::uint64_t chunk1, const std::vector<std::uint32_t>* stored, int threads,
                     const Use& use) {
  const std::uint16_t one = 1;
  unsigned char little = 0;
  std::memcpy(&little, &one, 1);
  if (!little) return false;
  const std::uint64_t nchunks = (draws + chunk_draws - 1) / chunk_draws;
  const std::uint64_t sel = chunk1 - chunk0;
  const std::size_t jobs = cols.size() * sel;  // [column][chunk]
  std::vector<std::vector<hsize_t>> offsets(jobs);
  std::vector<std::size_t> bytes(jobs);
  for (std::size_t job = 0; job < jobs; ++job) {
    const std::uint64_t chunk = chunk0 + job % sel;
    const std::size_t col = cols[job / sel];
    offsets[job] = chunk_offset(s, chunk, chunk_draws, col);
    hsize_t n = 0;
    if (stored && !stored->empty()) n = (*stored)[col * nchunks + chunk];
    if (n == 0 && (H5Dget_chunk_storage_size(ds, offsets[job].data(), &n) < 0 || n == 0))
      return false;
    bytes[job] = n;
  }
  // Batches of about 8 MiB of stored chunks, back to back in one buffer kept
  // between calls: bounded memory, and no heap of chunk-sized blocks.
  thread_local std::vector<unsigned char> kept_raw;
  std::vector<unsigned char>& raw = kept_raw;  // this thread's, also inside the region below
  std::vector<std::size_t> at(jobs + 1, 0);
  std::atomic<bool> ok{true};
  for (std::size_t j0 = 0, j1 = 0; j0 < jobs && ok; j0 = j1) {
    at[j0] = 0;
    for (j1 = j0; j1 < jobs && (j1 == j0 || at[j1] + bytes[j1] <= (8u << 20)); ++j1)
      at[j1 + 1] = at[j1] + bytes[j1];
    if (raw.size() < at[j1]) raw.resize(at[j1]);
    for (std::size_t job = j0; job < j1; ++job) {
      std::uint32_t mask = 1;
      if (H5Dread_chunk(ds, H5P_DEFAULT, offsets[job].data(), &mask, raw.data() + at[job]) < 0)
        h5::fail("cannot read a chunk of", h5::where(ds));
      if (mask != 0) {
        if (j0 == 0) return false;  // not a chunk this writer wrote; nothing written yet
        h5::fail("cannot read a chunk of", h5::where(ds));
      }
    }
#pragma omp parallel num_threads(threads)
    {
      ChunkInflater inflater;
      std::vector<float> buffer;
#pragma omp for schedule(dynamic, 4)
      for (std::size_t job = j0; job < j1; ++job) {
        const std::uint64_t d0 = (chunk0 + job % sel) * chunk_draws;
        const std::size_t nd = std::min<std::uint64_t>(chunk_draws, draws - d0);
        if (!use(inflater, buffer, job, raw.data() + at[job], bytes[job], nd)) ok = false;
      }
    }
  }
  if (!ok) h5::fail("cannot inflate a chunk of", h5::where(ds));
  return true;
}

}  // namespace

void ResultsWriter::read_columns(std::size_t dataset, std::size_t first_col, std::size_t ncols,
                                 std::vector<float>& out, int threads) {
  h5::quiet();
  Impl& m = *impl_;
  m.check_open();
  const DatasetSpec& s = m.spec(dataset);
  const std::size_t row = s.row_elems();
  if (first_col + ncols > row)
    throw RunError(fmt::format("results: columns {}..{} of /{}/{} are past its {} columns",
                               first_col, first_col + ncols, s.group, s.name, row));
  out.resize(ncols * m.draws);  // every value is written below
  if (ncols == 0) return;
  const hid_t ds = m.datasets[dataset];
  const std::vector<std::uint32_t>* stored =
      dataset < m.stored.size() ? &m.stored[dataset] : nullptr;
  std::vector<std::size_t> cols(ncols);
  std::iota(cols.begin(), cols.end(), first_col);
  const std::uint64_t nchunks = m.chunks(), chunk_draws = m.chunk_draws, draws = m.draws;
  float* const dst = out.data();
  auto into_out = [&](ChunkInflater& inflater, std::vector<float>&, std::size_t job,
                      const unsigned char* stream, std::size_t bytes, std::size_t nd) {
    const std::size_t c = job / nchunks;
    const std::uint64_t d0 = job % nchunks * chunk_draws;
    return inflater.inflate(stream, bytes, chunk_draws, s.dtype, nd, dst + c * draws + d0);
  };
  if (read_chunks_raw(ds, s, draws, chunk_draws, cols, 0, nchunks, stored, threads, into_out))
    return;
  // HDF5's own pipeline, one column at a time.
  const std::string at = h5::where(ds);
  h5::Handle fspace(H5Dget_space(ds));
  if (!fspace.valid()) h5::fail("cannot read", at);
  const std::size_t rank = 1 + s.row_shape.size();
  const hsize_t nd = m.draws;
  h5::Handle mspace(H5Screate_simple(1, &nd, nullptr));
  for (std::size_t c = 0; c < ncols; ++c) {
    std::vector<hsize_t> start = chunk_offset(s, 0, m.chunk_draws, first_col + c);
    std::vector<hsize_t> count(rank, 1);
    count[0] = m.draws;
    if (H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) <
            0 ||
        !mspace.valid() ||
        H5Dread(ds, H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, out.data() + c * m.draws) < 0)
      h5::fail("cannot read columns of", at);
  }
}

std::uint64_t ResultsWriter::chunk_draws() const {
  return impl_->chunk_draws;
}

void ResultsWriter::visit_columns(std::size_t dataset, const std::vector<std::size_t>& cols,
                                  std::uint64_t chunk0, std::uint64_t chunk1, int threads,
                                  const ChunkVisitor& visit) {
  h5::quiet();
  Impl& m = *impl_;
  m.check_open();
  const DatasetSpec& s = m.spec(dataset);
  const std::size_t row = s.row_elems();
  for (const std::size_t c : cols)
    if (c >= row)
      throw RunError(fmt::format("results: column {} of /{}/{} is past its {} columns", c, s.group,
                                 s.name, row));
  chunk1 = std::min(chunk1, m.chunks());
  if (cols.empty() || chunk0 >= chunk1) return;
  const hid_t ds = m.datasets[dataset];
  const std::vector<std::uint32_t>* stored =
      dataset < m.stored.size() ? &m.stored[dataset] : nullptr;
  const std::uint64_t sel = chunk1 - chunk0, chunk_draws = m.chunk_draws;
  auto to_visit = [&](ChunkInflater& inflater, std::vector<float>& buffer, std::size_t job,
                      const unsigned char* stream, std::size_t bytes, std::size_t nd) {
    buffer.resize(chunk_draws);
    if (!inflater.inflate(stream, bytes, chunk_draws, s.dtype, nd, buffer.data())) return false;
    visit(job / sel, chunk0 + job % sel, buffer.data(), nd);
    return true;
  };
  if (read_chunks_raw(ds, s, m.draws, chunk_draws, cols, chunk0, chunk1, stored, threads, to_visit))
    return;
  // HDF5's own pipeline, a chunk at a time, on this thread.
  const std::string at = h5::where(ds);
  h5::Handle fspace(H5Dget_space(ds));
  if (!fspace.valid()) h5::fail("cannot read", at);
  const std::size_t rank = 1 + s.row_shape.size();
  std::vector<float> buffer(chunk_draws);
  for (std::size_t i = 0; i < cols.size(); ++i)
    for (std::uint64_t k = chunk0; k < chunk1; ++k) {
      const hsize_t nd = std::min<std::uint64_t>(chunk_draws, m.draws - k * chunk_draws);
      h5::Handle mspace(H5Screate_simple(1, &nd, nullptr));
      std::vector<hsize_t> start = chunk_offset(s, k, chunk_draws, cols[i]);
      std::vector<hsize_t> count(rank, 1);
      count[0] = nd;
      if (H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, count.data(),
                              nullptr) < 0 ||
          !mspace.valid() ||
          H5Dread(ds, H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, buffer.data()) < 0)
        h5::fail("cannot read columns of", at);
      visit(i, k, buffer.data(), static_cast<std::size_t>(nd));
    }
}

void ResultsWriter::write_summary(const MetricSummary& s) {
  h5::quiet();
  Impl& m = *impl_;
  m.check_open();
  if (!h5::valid_name(s.metric))
    throw RunError(fmt::format("results: summary name '{}' must be printable ASCII", s.metric));
  if (h5::exists(m.summary, s.metric))
    throw RunError(fmt::format("results: summary of {} written twice", s.metric));
  if (s.dims.size() != s.shape.size())
    throw RunError(fmt::format("results: summary of {} has {} dims but {} sizes", s.metric,
                               s.dims.size(), s.shape.size()));
  for (std::size_t k = 0; k < s.dims.size(); ++k)
    if (s.dims[k] == draw_dim || s.dims[k] == "quantile" ||
        dim_size(s.dims[k], m.coords, m.draws) != s.shape[k])
      throw RunError(
          fmt::format("results: summary of {}: dimension '{}' of size {} does not "
                      "match the coordinates",
                      s.metric, s.dims[k], s.shape[k]));
  const std::size_t n = product(s.shape), nq = m.coords.quantile.size();
  if (s.mean.size() != n || s.sd.size() != n || s.quantiles.size() != n * nq)
    throw RunError(
        fmt::format("results: summary of {}: {} means, {} sds and {} quantiles for "
                    "{} cells and {} quantile levels",
                    s.metric, s.mean.size(), s.sd.size(), s.quantiles.size(), n, nq));

  h5::Handle g = h5::create_group(m.summary, s.metric);
  h5::write_attribute(g, "metric", s.metric);
  describe(g, s.units, s.long_name, s.label_zh);
  std::vector<hid_t> scales;
  std::vector<h5::Handle> owned;
  for (const auto& d : s.dims) {
    owned.push_back(write_coordinate(g, d, m.coords, m.draws));
    scales.push_back(owned.back());
  }
  owned.push_back(write_coordinate(g, "quantile", m.coords, m.draws));
  const hid_t qscale = owned.back();

  h5::Handle mean = h5::write_dataset(g, "mean", s.mean, s.shape);
  h5::attach_scales(mean, scales);
  describe(mean, s.units, "mean of " + s.long_name, s.label_zh);
  h5::Handle sd = h5::write_dataset(g, "sd", s.sd, s.shape);
  h5::attach_scales(sd, scales);
  describe(sd, s.units, "standard deviation of " + s.long_name, s.label_zh);
  std::vector<std::size_t> qshape = s.shape;
  qshape.push_back(nq);
  h5::Handle q = h5::write_dataset(g, "quantiles", s.quantiles, qshape);
  scales.push_back(qscale);
  h5::attach_scales(q, scales);
  describe(q, s.units, "quantiles of " + s.long_name, s.label_zh);
}

void ResultsWriter::write_targets(const TargetTable& t) {
  h5::quiet();
  Impl& m = *impl_;
  m.check_open();
  if (h5::exists(m.file, "targets")) throw RunError("results: targets written twice");
  const std::size_t n = t.rows.size();
  std::vector<std::string> id(n), label(n), metric(n), op(n), cluster(n), group(n);
  std::vector<double> threshold(n), group_threshold(n), probability(n), std_error(n), ci_low(n),
      ci_high(n);
  std::vector<int> year(n);
  for (std::size_t i = 0; i < n; ++i) {
    const TargetRow& r = t.rows[i];
    id[i] = r.id;
    label[i] = r.label;
    metric[i] = r.metric;
    op[i] = r.op;
    cluster[i] = r.cluster;
    group[i] = r.group;
    threshold[i] = r.threshold;
    year[i] = r.year;
    group_threshold[i] = r.metric == "clusters_at_least" ? r.group_threshold
                                                         : std::numeric_limits<double>::quiet_NaN();
    probability[i] = r.probability;
    std_error[i] = r.std_error;
    ci_low[i] = r.ci_low;
    ci_high[i] = r.ci_high;
  }

  h5::Handle g = h5::create_group(m.file, "targets");
  h5::write_attribute(g, "all_met_probability", t.all_met_probability);
  h5::write_attribute(g, "all_met_std_error", t.all_met_std_error);
  h5::Handle scale = h5::make_dimension_scale(g, "target", id);
  describe(scale, "", "target id");
  auto put = [&](const char* name, const auto& values, const std::string& units,
                 const std::string& long_name) {
    h5::Handle ds = h5::write_dataset(g, name, values);
    h5::attach_scales(ds, {scale});
    describe(ds, units, long_name);
  };
  put("probability", probability, "1", "share of draws that meet the target");
  put("std_error", std_error, "1", "Monte-Carlo standard error of the probability");
  put("ci_low", ci_low, "1", "lower end of the 95% interval of the probability");
  put("ci_high", ci_high, "1", "upper end of the 95% interval of the probability");
  put("label", label, "", "target name");
  put("metric", metric, "", "metric the target compares");
  put("op", op, "", "comparison: at_least or at_most");
  put("threshold", threshold, "", "threshold, in the metric's units");
  put("year", year, "year", "year the target compares");
  put("cluster", cluster, "", "cluster id, empty when not applicable");
  put("group", group, "", "cluster group (clusters_at_least), empty when not applicable");
  put("group_threshold", group_threshold, "",
      "output each cluster of the group must reach (clusters_at_least), NaN otherwise");
  if (t.conditioned) m.write_conditioning(g, scale, t);
}

// v2 (results.md "Additions for outturns"): the prior estimates beside the
// conditioned ones, the ESS on the root, and /observed.
void ResultsWriter::Impl::write_conditioning(hid_t g, hid_t scale, const TargetTable& t) {
  const std::size_t n = t.rows.size();
  std::vector<double> prior(n), prior_se(n);
  for (std::size_t i = 0; i < n; ++i) {
    prior[i] = t.rows[i].prior_probability;
    prior_se[i] = t.rows[i].prior_std_error;
  }
  auto put = [&](hid_t loc, hid_t sc, const char* name, const auto& values,
                 const std::string& units, const std::string& long_name) {
    h5::Handle ds = h5::write_dataset(loc, name, values);
    h5::attach_scales(ds, {sc});
    describe(ds, units, long_name);
  };
  put(g, scale, "prior_probability", prior, "1",
      "share of draws that meet the target, before conditioning on the observations");
  put(g, scale, "prior_std_error", prior_se, "1",
      "Monte-Carlo standard error of the prior probability");
  h5::write_attribute(g, "prior_all_met_probability", t.prior_all_met_probability);
  h5::write_attribute(g, "prior_all_met_std_error", t.prior_all_met_std_error);
  h5::write_attribute(file, "effective_sample_size", t.effective_sample_size);

  const std::size_t no = t.observations.size();
  std::vector<std::string> id(no), metric(no), cluster(no), source(no);
  std::vector<int> year(no);
  std::vector<double> value(no), sd(no), quantile(no), median(no), ess(no);
  for (std::size_t i = 0; i < no; ++i) {
    const ObservationRow& o = t.observations[i];
    id[i] = o.id;
    metric[i] = o.metric;
    cluster[i] = o.cluster;
    source[i] = o.source;
    year[i] = o.year;
    value[i] = o.value;
    sd[i] = o.sd;
    quantile[i] = o.prior_quantile;
    median[i] = o.conditioned_median;
    ess[i] = o.effective_sample_size;
  }
  h5::Handle og = h5::create_group(file, "observed");
  h5::Handle os = h5::make_dimension_scale(og, "observation", id);
  describe(os, "", "observation id");
  put(og, os, "metric", metric, "", "metric observed");
  put(og, os, "year", year, "year", "year observed");
  put(og, os, "cluster", cluster, "", "cluster id (cluster_output), empty when not applicable");
  put(og, os, "value", value, "as the metric", "published value of the metric");
  put(og, os, "sd", sd, "as the metric", "standard deviation of its error (absolute)");
  put(og, os, "source", source, "", "where the figure was published");
  put(og, os, "prior_quantile", quantile, "1",
      "share of unconditioned draws at or below the value");
  put(og, os, "conditioned_median", median, "as the metric",
      "median of the metric over the draws, conditioned on all observations");
  put(og, os, "effective_sample_size", ess, "1",
      "effective sample size this observation alone would leave");
}

void ResultsWriter::close() {
  h5::quiet();
  Impl& m = *impl_;
  m.check_open();
  m.closed = true;
  for (auto& d : m.datasets) d.close(m.path);
  m.summary.close(m.path);
  m.file.close(m.path);
}

}  // namespace countysim
