// The one place that decides which vector path the kernels take (rng,
// quantile functions, distributions, block sampler, the batched model, the
// chunk shuffle, fill_rows, the moments and the streaming quantiles). Every
// path gives the same bits (docs/distributions.md), so the choice changes
// speed only.
#pragma once

// What an AVX-512 kernel is compiled for (the features cpu_simd_level()
// checks), and the brackets around such kernels: GCC 12's AVX-512 intrinsics
// start some results from a self-initialised "undefined" vector and warn
// about it when inlined (GCC bug 105593), a false warning.
#define COUNTYSIM_AVX512_TARGET __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw")))
#if defined(__GNUC__) && !defined(__clang__)
#define COUNTYSIM_AVX512_BEGIN                                                         \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wuninitialized\"") \
      _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
#define COUNTYSIM_AVX512_END _Pragma("GCC diagnostic pop")
#else
#define COUNTYSIM_AVX512_BEGIN
#define COUNTYSIM_AVX512_END
#endif

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
