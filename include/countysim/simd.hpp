// The one place that decides which vector path the sampler's kernels take
// (rng, quantile functions, distributions, block sampler). Every path gives
// the same bits (docs/distributions.md), so the choice changes speed only.
#pragma once

namespace countysim {

enum class SimdLevel { scalar, avx2, avx512 };

// "scalar", "avx2" or "avx512".
const char* simd_level_name(SimdLevel level);

// The best level this CPU supports: avx512 needs AVX-512 F, DQ, VL and BW
// (what the kernels use), avx2 needs AVX2.
SimdLevel cpu_simd_level();

namespace detail {
extern int simd_level_now;  // -1 until first asked; then a SimdLevel
int init_simd_level();
}  // namespace detail

// The level the kernels use: cpu_simd_level(), capped by the environment
// variable COUNTYSIM_SIMD=scalar|avx2|avx512 read once (an unknown value
// warns once on stderr and is ignored). Inline: the kernels ask once a call.
inline SimdLevel simd_level() {
  const int level = __atomic_load_n(&detail::simd_level_now, __ATOMIC_RELAXED);
  return static_cast<SimdLevel>(level >= 0 ? level : detail::init_simd_level());
}

// Test hook: use `level` (capped by cpu_simd_level(), so that a test can ask
// for every level on any CPU) until the next call; returns the level used
// before. Not for concurrent use with sampling.
SimdLevel set_simd_level_for_testing(SimdLevel level);

}  // namespace countysim
