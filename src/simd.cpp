#include "countysim/simd.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace countysim {

namespace detail {
int simd_level_now = -1;
}

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::scalar:
      return "scalar";
    case SimdLevel::avx2:
      return "avx2";
    case SimdLevel::avx512:
      return "avx512";
  }
  return "?";
}

SimdLevel cpu_simd_level() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const SimdLevel level = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw"))
      return SimdLevel::avx512;
    if (__builtin_cpu_supports("avx2")) return SimdLevel::avx2;
    return SimdLevel::scalar;
  }();
  return level;
#else
  return SimdLevel::scalar;
#endif
}

namespace {

SimdLevel min_level(SimdLevel a, SimdLevel b) {
  return static_cast<int>(a) < static_cast<int>(b) ? a : b;
}

// cpu_simd_level() capped by COUNTYSIM_SIMD, read once.
SimdLevel environment_level() {
  static const SimdLevel level = [] {
    const SimdLevel cpu = cpu_simd_level();
    const char* env = std::getenv("COUNTYSIM_SIMD");
    if (!env || !*env) return cpu;
    for (const SimdLevel l : {SimdLevel::scalar, SimdLevel::avx2, SimdLevel::avx512})
      if (std::strcmp(env, simd_level_name(l)) == 0) return min_level(l, cpu);
    std::fprintf(stderr,
                 "countysim: ignoring COUNTYSIM_SIMD=%s (expected scalar, avx2 or avx512)\n", env);
    return cpu;
  }();
  return level;
}

}  // namespace

namespace detail {
int init_simd_level() {
  const int level = static_cast<int>(environment_level());
  int unset = -1;  // a test hook's level, set meanwhile, stays
  __atomic_compare_exchange_n(&simd_level_now, &unset, level, false, __ATOMIC_RELAXED,
                              __ATOMIC_RELAXED);
  return __atomic_load_n(&simd_level_now, __ATOMIC_RELAXED);
}
}  // namespace detail

SimdLevel set_simd_level_for_testing(SimdLevel level) {
  const SimdLevel before = simd_level();
  __atomic_store_n(&detail::simd_level_now, static_cast<int>(min_level(level, cpu_simd_level())),
                   __ATOMIC_RELAXED);
  return before;
}

}  // namespace countysim
