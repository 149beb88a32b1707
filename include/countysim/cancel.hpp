// A request to stop, passed to long-running library calls instead of a
// global: main sets it from its signal handler; the draw loop looks at it
// between blocks and throws Interrupted. Tests make their own.
#pragma once
#include <atomic>

namespace countysim {

class CancelToken {
 public:
  void cancel() noexcept { flag_.store(true, std::memory_order_relaxed); }
  bool cancelled() const noexcept { return flag_.load(std::memory_order_relaxed); }
  void reset() noexcept { flag_.store(false, std::memory_order_relaxed); }

 private:
  std::atomic<bool> flag_{false};
  static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");
};

}  // namespace countysim
