// Results files (HDF5, layout in docs/results-format.md): the writer the
// engine's writer thread owns, and the reader behind `summary`, `report` and
// `compare`. With sweep_io.hpp (sweep files) this is the results layer:
// nothing else opens a results or sweep file, and all go through h5.hpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "countysim/results_types.hpp"

namespace countysim {

enum class DType { f32, i32, u8, f64 };
std::size_t dtype_size(DType t);

// One per-draw dataset: /<group>/<name> with shape [draw, row_shape...].
struct DatasetSpec {
  std::string group;  // "draws" or "inputs"
  std::string name;   // metric name or input key (ASCII)
  DType dtype = DType::f32;
  std::vector<std::string> dims;       // dimension names after "draw"
  std::vector<std::size_t> row_shape;  // their sizes
  std::string units, long_name, label_zh;
  std::size_t row_elems() const;
};

class ResultsWriter {
 public:
  // Creates `path` (which must not exist), all coordinates, attributes and the
  // per-draw datasets, shuffle+deflate, one column a chunk: chunk_draws values
  // along draw of one element of the row (chunk shape [chunk_draws, 1, ...]).
  // With `shrinkable`, shrink_draws() may later cut the draw axis.
  ResultsWriter(const std::string& path, const RunInfo& info, const Coordinates& coords,
                std::vector<DatasetSpec> specs, std::uint64_t draws, std::uint64_t chunk_draws,
                bool shrinkable = false);
  ~ResultsWriter();
  ResultsWriter(const ResultsWriter&) = delete;
  ResultsWriter& operator=(const ResultsWriter&) = delete;

  const std::vector<DatasetSpec>& specs() const;
  // Writes chunk `chunk_index` (draws chunk_index*chunk_draws ...) of column
  // `column` (row-major index into the row shape) of dataset `dataset`,
  // already compressed by compress_chunk() (chunk_codec.hpp) from
  // chunk_draws values.
  void write_chunk(std::size_t dataset, std::uint64_t chunk_index, std::size_t column,
                   const unsigned char* compressed, std::size_t bytes);
  void write_chunk(std::size_t dataset, std::uint64_t chunk_index, std::size_t column,
                   const std::vector<unsigned char>& compressed) {
    write_chunk(dataset, chunk_index, column, compressed.data(), compressed.size());
  }
  // Cuts every per-draw dataset, the draw dimensions and the `draws`
  // attribute to `draws` (--until-se, which stops before the draws it made
  // room for). No chunk past `draws` may have been written.
  void shrink_draws(std::uint64_t draws);
  // Reads columns [first_col, first_col + ncols) of a dataset's rows for all
  // draws, as float, column-major: out[c * draws + d]. Only those columns'
  // chunks are read; they are inflated `threads` at a time.
  void read_columns(std::size_t dataset, std::size_t first_col, std::size_t ncols,
                    std::vector<float>& out, int threads = 1);
  // The same values a chunk at a time, never a whole column: for every
  // column cols[i] and chunk k in [chunk0, chunk1) (draws k * chunk_draws()
  // on), visit(i, k, x, n) with its n values at x (valid during the call).
  // The chunks are inflated `threads` at a time, so calls come from as many
  // threads at once, in no set order; visit must not throw.
  using ChunkVisitor =
      std::function<void(std::size_t i, std::uint64_t k, const float* x, std::size_t n)>;
  void visit_columns(std::size_t dataset, const std::vector<std::size_t>& cols,
                     std::uint64_t chunk0, std::uint64_t chunk1, int threads,
                     const ChunkVisitor& visit);
  std::uint64_t chunk_draws() const;
  void write_summary(const MetricSummary& s);  // /summary/<metric>/...
  void write_targets(const TargetTable& t);    // /targets/...
  void close();                                // flushes and closes; further calls are errors

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class ResultsReader {
 public:
  explicit ResultsReader(const std::string& path);  // throws InputError if not a results file
  ~ResultsReader();
  ResultsReader(const ResultsReader&) = delete;
  ResultsReader& operator=(const ResultsReader&) = delete;

  const std::string& path() const;  // as given
  const RunInfo& info() const;
  const Coordinates& coords() const;
  TargetTable targets() const;
  std::vector<std::string> summary_metrics() const;
  MetricSummary summary(const std::string& metric) const;
  bool has_dataset(const std::string& group, const std::string& name) const;
  // Whole dataset as double, row-major [draw, ...], with its shape.
  std::vector<double> read_dataset(const std::string& group, const std::string& name,
                                   std::vector<std::size_t>* shape = nullptr) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace countysim
