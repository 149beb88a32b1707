// What a results file holds for one plan: the per-draw datasets (DatasetSpec
// list, in file order), where each takes its values in a DrawOutput, and which
// are summarised. The engine fills rows and moments through it; the writer
// only sees the specs.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

#include "countysim/model.hpp"
#include "countysim/plan.hpp"
#include "countysim/results_io.hpp"
#include "countysim/stats.hpp"

namespace countysim {

// Which part of a DrawOutput fills a dataset.
enum class RowSource {
  year_metric,
  cluster_output,
  cluster_employment,
  project_output,
  start_month,
  production_month,
  target_met,
  target_value,
  log_weight,  // v2: ℓ_d, scenarios with observations only
  input
};

struct ResultsLayout {
  std::vector<DatasetSpec> specs;
  std::vector<std::pair<RowSource, int>> sources;  // per spec: what fills it, and which one
  std::vector<std::size_t> elems;                  // per spec: row_elems(), kept for the loop
  std::vector<std::size_t> summarised;             // specs with a /summary group
  std::size_t summary_columns = 0;                 // their row elements together
  // fill_rows' float32 columns that come from float64 arrays, as runs of
  // consecutive elements of one DrawOutput array, across datasets where one
  // follows on from the last (year metrics in catalogue order, scalar
  // inputs in slot order, over gaps of a few slots, whose columns are
  // written nowhere): each run is one transposing pass.
  struct FloatRun {
    RowSource source;
    std::size_t offset;      // first element in the source array
    std::size_t begin, end;  // its columns [begin, end) (moment_runs: summary columns)
  };
  struct RunPiece {
    std::size_t spec;   // dataset, or no_spec for a gap
    std::size_t count;  // its elements 0 .. count - 1, the run's next columns
  };
  static constexpr std::size_t no_spec = ~std::size_t{0};
  std::vector<FloatRun> float_runs;
  std::vector<std::vector<RunPiece>> run_pieces;  // per float run
  std::vector<unsigned char> in_run;              // per spec: filled by a float run
  // add_moments' summary columns the same way: begin, end are summary columns.
  std::vector<FloatRun> moment_runs;
};

ResultsLayout make_layout(const Plan& plan);
Coordinates make_coordinates(const Scenario& scenario);

// Bytes from one column's run to the next in a block buffer of `rows` rows
// of `size`-byte values (the run, then padding); a buffer holds row_elems()
// runs.
std::size_t column_stride(std::size_t rows, std::size_t size);

// The most draws fill_rows takes at once: 16 float32 values, a cache line.
inline constexpr std::size_t row_group = 16;

// Writes draws outs[0, g) (g <= row_group) as rows row .. row + g - 1 of
// every dataset buffer, in the dataset's file type, column by column as the
// chunks store them: element i of draw j at byte i * column_stride(rows, size)
// + (row + j) * size. log_weights[j] is draw j's ℓ_d (stored only when the
// scenario has observations).
void fill_rows(const ResultsLayout& layout, const Plan& plan, const DrawOutput* outs,
               const double* log_weights, std::size_t g, std::size_t row, std::size_t rows,
               std::vector<std::vector<unsigned char>>& buffers);

// Welford's running mean and sum of squared deviations of one granule's
// draws for every summary column, as arrays (so the divisions run four at a
// time): every column has seen the same n draws. Column c equals a Moments
// fed the same values one by one, bit for bit.
struct GranuleMoments {
  double n = 0;
  std::vector<double> mean, m2;  // [summary column]
  void reset(std::size_t columns) {
    n = 0;
    mean.assign(columns, 0.0);
    m2.assign(columns, 0.0);
  }
  Moments column(std::size_t c) const { return Moments{n, mean[c], m2[c]}; }
};

// Moments::add of x[c] to column c's (mean, m2), c < k, each having seen n
// values with this one: AVX2 where there is, the same bits.
void welford_add(const double* x, double* mean, double* m2, std::size_t k, double n);

// Adds one draw's summarised values (float64, summary-column order) to g.
void add_moments(const ResultsLayout& layout, const DrawOutput& out, GranuleMoments& g);

}  // namespace countysim
