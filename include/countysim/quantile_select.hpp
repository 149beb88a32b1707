// Exact order-statistic quantiles of many columns whose values are seen in
// passes (each pass visits every value once, in any order), with memory that
// does not grow with the number of values: each pass narrows, per needed
// rank, the range of float keys that holds it (a 4096-bin histogram), and the
// last pass keeps only the few values of that range. Three passes for
// 10 million values. The results equal quantiles_type7 on the same data.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace countysim {

class ColumnQuantiles {
 public:
  // Passes over the values that most columns need (the last keeps values).
  static constexpr int typical_passes = 3;

  ColumnQuantiles(std::size_t columns, std::uint64_t n, const std::vector<double>& qs);

  bool done() const;  // every quantile of every column is known
  // `count` values of column c, `stride` floats apart. Calls for different
  // columns may run concurrently; one column's calls must not.
  void add(std::size_t c, const float* x, std::size_t count, std::size_t stride);
  // Ends a pass over all values (column c alone: may run concurrently).
  void end_pass(std::size_t c);
  // Type-7 quantiles of column c (NaN when it held a NaN); after done().
  std::vector<double> quantiles(std::size_t c) const;
  int passes() const { return passes_; }
  void count_pass() { ++passes_; }

 private:
  struct Range {
    std::uint32_t lo = 0, hi = 0;  // keys, inclusive
    std::uint64_t before = 0;      // values with a key below lo
    bool collect = false;          // keep the values (few), else histogram them
    int shift = 0;                 // bin = (key - lo) >> shift (<< -shift when negative)
    std::vector<std::uint32_t> counts;
    std::vector<float> values;
    std::vector<std::size_t> ranks;  // indices into ranks_
  };
  struct Column {
    bool nan = false;
    std::vector<Range> ranges;            // ascending, disjoint
    std::vector<std::uint64_t> prefixes;  // 16-bit key prefixes that meet a range
    std::vector<float> stat;              // [rank]
  };
  std::uint64_t n_;
  std::vector<double> qs_;
  std::vector<std::uint64_t> ranks_;  // ascending, distinct
  std::vector<Column> cols_;
  int passes_ = 0;
};

}  // namespace countysim
