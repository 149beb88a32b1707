// Exact type-7 quantiles of many columns that arrive a block of draws at a
// time, without keeping the columns: the summaries of a run, computed while
// the draws are made instead of from the file read back afterwards.
//
// For every column and quantile q a window [lo, hi] of values is kept: how
// many values fell below lo, how many equal lo and hi, and the values
// strictly between. After the first block the windows sit around the
// block's q-quantile, `band` standard errors of rank either side; they narrow
// (never widen) as draws accumulate, so what is kept grows like the square
// root of the draws. At the end a quantile whose two order statistics lie
// in its window is exact (the same bits as quantiles_type7 over the whole
// column, NaN if any value is NaN); a column for which that fails, or whose
// windows were dropped to keep within the memory budget, is reported as not
// done and the caller reads it back. The windows only decide speed:
// which values are found in them never changes a result.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace countysim {

class StreamingQuantiles {
 public:
  // The windows workers sort a block's values against: [column * nq + q].
  struct Windows {
    std::vector<float> lo, hi;
  };
  // One block's values as a worker sorted them (add_column), for merge().
  struct Part {
    std::shared_ptr<const Windows> windows;  // null: whole columns in `values`
    std::uint64_t draws = 0;
    std::vector<std::uint64_t> below, eq_lo, eq_hi;  // [column * nq + q]
    std::vector<float> values;                       // slot j (column, or column * nq + q) ...
    std::vector<std::size_t> ends;                   // ... is values[ends[j], ends[j + 1])
    std::vector<std::uint8_t> nan;                   // [column]: a NaN was seen
  };

  // `band` standard errors of rank either side of each quantile;
  // `budget_bytes` bounds the values kept between blocks (columns beyond it
  // are dropped, to be read back).
  StreamingQuantiles(std::size_t columns, std::vector<double> qs, double band = 4.0,
                     std::size_t budget_bytes = std::size_t{24} << 20);

  std::size_t columns() const { return columns_; }
  std::size_t quantile_count() const { return qs_.size(); }

  // Worker side, any thread: waits until the first part has been merged and
  // windows exist, or stop() is true (checked every few milliseconds). A
  // worker calls it for every block but the first, so that only the first
  // block carries its columns whole.
  void wait_for_windows(const std::function<bool()>& stop) const;
  // Start a part for a block of `draws` draws with the current windows,
  // then add columns 0, 1, ... in order.
  void begin_part(Part& p, std::uint64_t draws) const;
  static void add_column(Part& p, std::size_t nq, std::size_t column, const float* x,
                         std::size_t n);

  // Writer side, one thread, blocks in draw order.
  void merge(Part&& p);

  // Column c's quantiles (qs order) into out, if every order statistic they
  // need was kept; false: the caller computes them from the whole column.
  // (Reorders the values kept.)
  bool quantiles(std::size_t c, double* out);

  // A column whose windows outgrew the budget is frozen rather than dropped:
  // its windows keep their edges and go on counting every draw against them
  // (below, equal to an edge, strictly inside), but hold no values. Its
  // quantiles are then found from the file in one pass that keeps only the
  // values inside (a few per thousand draws), not the whole column.
  struct Bracket {
    float lo = 0, hi = 0;
    std::uint64_t below = 0, eq_lo = 0, inside = 0, eq_hi = 0;
  };
  // Column c's windows, qs order, into out (quantile_count() of them), if c
  // is frozen (and has no NaN); false otherwise.
  bool brackets(std::size_t c, Bracket* out) const;
  // For such windows of a column of `draws` values: false if an order
  // statistic type 7 needs lies outside its window; else need[q] says
  // whether one lies strictly inside window q (its values must be found).
  static bool bracket_needs(std::uint64_t draws, const std::vector<double>& qs, const Bracket* br,
                            std::uint8_t* need);
  // The values of x[0, n) strictly inside each window q with need[q],
  // appended to out in their order, window after window: window q's are
  // out[ends[q - 1], ends[q]) (ends[-1] the size before). The same on every
  // vector path.
  static void keep_inside(const float* x, std::size_t n, const Bracket* br,
                          const std::uint8_t* need, std::size_t nq, std::vector<float>& out,
                          std::size_t* ends);
  // The quantiles (qs order) from the windows and inside[q], every value of
  // the column strictly inside window q where bracket_needs set need[q]
  // (any order; taken): the same bits as quantiles() and quantiles_type7.
  // False if an order statistic is outside its window or a count differs.
  static bool bracket_quantiles(std::uint64_t draws, const std::vector<double>& qs,
                                const Bracket* br, std::vector<float>* inside, double* out);

  // Frees the windows (after the last quantiles() call).
  void release();

  // Room for values held now (capacity), all windows together.
  std::size_t kept_values() const;

 private:
  struct Window {
    float lo = 0, hi = 0;
    std::uint64_t below = 0, eq_lo = 0, eq_hi = 0;  // eq_hi is 0 when lo == hi
    std::vector<float> inner;                       // lo < v < hi
    std::uint64_t inside = 0;                       // frozen: how many lo < v < hi
    void add(float v, std::uint64_t count);
    // add() for a frozen window: the value is counted, not kept.
    void count(float v, std::uint64_t count);
    // add(x[i], 1) for values all known to be strictly inside, at once.
    void add_inside(const float* x, std::size_t n);
    // The value of rank `rank`, if kept. Reorders inner from index `from`
    // on (0, or where the previous call left it: inner values from there on
    // are at least the previous value, so a higher rank sorts only those).
    bool order_statistic(std::uint64_t rank, float& v, std::size_t& from);
    void narrow(float new_lo, float new_hi);
  };
  void narrow_one(std::size_t c, std::size_t q);
  void publish();
  // Freezes the columns that hold most, largest first, until the windows'
  // capacity is within the budget; with `next`, the capacity they will have
  // once that part is added (so that merging it never goes over).
  void enforce_budget(const Part* next = nullptr);

  std::size_t columns_;
  std::vector<double> qs_;
  double band_;
  std::size_t budget_values_;
  std::uint64_t draws_ = 0, narrowed_at_ = 0;
  bool started_ = false;
  std::vector<Window> windows_;        // [column * nq + q]
  std::vector<std::uint8_t> dropped_;  // [column]: NaN seen (windows gone)
  std::vector<std::uint8_t> frozen_;   // [column]: over budget, counting only
  std::vector<std::uint8_t> nan_;      // [column]: NaN seen (every quantile NaN)
  mutable std::mutex mutex_;           // guards published_
  mutable std::condition_variable published_cv_;
  std::shared_ptr<const Windows> published_;
};

}  // namespace countysim
