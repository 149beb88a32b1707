// The block sampler (issue 12): the inputs of n consecutive draws, taken
// input by input, so that Philox runs over consecutive counters of one key
// (four lanes at a time) and each inverse CDF over a contiguous array with
// its family's branch hoisted out of the loop. The numbers are those of
// sample_inputs, draw by draw, bit for bit: sample_inputs stays the
// reference, and tests/test_sampling.cpp compares the two.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "countysim/plan.hpp"

namespace countysim {

// Samples every slot of draws first .. first + n - 1 into `values`, slot by
// slot: values[s * n + i] is slot s of draw first + i (resized to
// slots.size() * n). `scratch` is reused between calls (the copula's normal
// scores).
void sample_inputs_block(const Plan& plan, std::uint64_t seed, std::uint64_t first, std::size_t n,
                         std::vector<double>& values, std::vector<double>& scratch);

// A block of sampled draws that the model keeps in its workspace: draws come
// in runs of consecutive indices (the engine's blocks), so the next
// `capacity` draws are sampled at once when a draw is not in the block.
class InputBlock {
 public:
  // Draws per refill: a divisor of the engine's granule (1024), so that a
  // run of whole granules samples no draw it does not use. 256 (560 KB of
  // values at 273 slots, inside a core's L2): per-input calls and part-filled
  // tail registers a quarter of 64's; whole draws about 4% faster than 64.
  static constexpr std::size_t capacity = 256;

  // Writes the inputs of `draw` (as sample_inputs would) into `values`,
  // sampling draws draw .. draw + capacity - 1 first unless they are here.
  void inputs(const Plan& plan, std::uint64_t seed, std::uint64_t draw,
              std::vector<double>& values);

  // The inputs of draws first .. first + n - 1 into row(0) .. row(n - 1)
  // (each a std::vector<double>&, resized to the slot count), as inputs()
  // would write them one by one: transposed from the block straight into
  // the rows (no copy of the block by draw, no copy a draw).
  template <class Row>
  void inputs(const Plan& plan, std::uint64_t seed, std::uint64_t first, std::size_t n, Row&& row) {
    constexpr std::size_t chunk = 16;
    double* out[chunk];
    for (std::size_t j = 0; j < n; j += chunk) {
      const std::size_t m = std::min(chunk, n - j);
      for (std::size_t k = 0; k < m; ++k) {
        std::vector<double>& v = row(j + k);
        v.resize(plan.slots.size());
        out[k] = v.data();
      }
      write_rows(plan, seed, first + j, m, out);
    }
  }

  // The same into out[0 .. n), each plan.slots.size() doubles.
  void write_rows(const Plan& plan, std::uint64_t seed, std::uint64_t first, std::size_t n,
                  double* const* out);

 private:
  // Samples draws draw .. draw + capacity - 1 unless `draw` is here.
  void refill(const Plan& plan, std::uint64_t seed, std::uint64_t draw);

  std::uint64_t plan_id_ = 0, seed_ = 0, first_ = 0;
  std::size_t n_ = 0;
  std::vector<double> values_, scratch_;
  // values_ by draw, rows_[i * slots + s], made when inputs() first asks
  // for a draw of the block (one copy a draw).
  std::vector<double> rows_;
  bool rows_ready_ = false;
};

}  // namespace countysim
