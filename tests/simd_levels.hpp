// The SIMD levels a test can run on this CPU, and a scope that runs under
// one of them: the tests that hold every vector path to the scalar one.
#pragma once
#include <vector>

#include "countysim/simd.hpp"

namespace countysim::testing {

// The levels this CPU can run, scalar first.
inline std::vector<SimdLevel> simd_levels() {
  std::vector<SimdLevel> l = {SimdLevel::scalar};
  if (cpu_simd_level() >= SimdLevel::avx2) l.push_back(SimdLevel::avx2);
  if (cpu_simd_level() >= SimdLevel::avx512) l.push_back(SimdLevel::avx512);
  return l;
}

// Runs under `level` until destroyed, then restores the level before.
class LevelScope {
 public:
  explicit LevelScope(SimdLevel level) : before_(set_simd_level_for_testing(level)) {}
  ~LevelScope() { set_simd_level_for_testing(before_); }
  LevelScope(const LevelScope&) = delete;
  LevelScope& operator=(const LevelScope&) = delete;

 private:
  SimdLevel before_;
};

}  // namespace countysim::testing
