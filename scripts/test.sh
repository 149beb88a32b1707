#!/usr/bin/env bash
# Set up, build and run every test (what CI runs). Usage: bash scripts/test.sh
# Then the unit tests again under AddressSanitizer and UBSan (about 6 minutes
# on 2 cores; COUNTYSIM_SKIP_SANITIZE=1 skips it), and a short libFuzzer run of
# the scenario loader and the results reader: a fixed seed and a fixed number
# of inputs (COUNTYSIM_FUZZ_RUNS each, default 8000; 0 skips it), so that CI
# gives the same verdict for the same commit. Longer, open-ended runs:
# docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs="$(nproc)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
if [ "${COUNTYSIM_SKIP_SANITIZE:-0}" != 1 ]; then
  cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DCOUNTYSIM_SANITIZE=ON
  cmake --build build-sanitize -j"$jobs" --target countysim_tests
  # Random order (a fresh seed each run, printed) so that no test leans on
  # state another one left behind; rerun a failure with --rng-seed N.
  order_seed="${COUNTYSIM_TEST_ORDER_SEED:-$(date +%s)}"
  echo "unit tests under AddressSanitizer + UndefinedBehaviorSanitizer, random order (--rng-seed $order_seed):"
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    build-sanitize/tests/countysim_tests --order rand --rng-seed "$order_seed"
fi
fuzz_runs="${COUNTYSIM_FUZZ_RUNS:-8000}"
if [ "$fuzz_runs" != 0 ]; then
  cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
    -DCMAKE_CXX_COMPILER=clang++-14 -DCOUNTYSIM_FUZZ=ON -DCOUNTYSIM_TESTS=OFF
  cmake --build build-fuzz -j"$jobs" --target fuzz_scenario fuzz_results
  for pair in scenario:scenario results:edits; do
    target="${pair%%:*}" corpus="${pair##*:}"
    # HDF5 keeps blocks in its caches and free lists across inputs and at
    # exit, which LeakSanitizer reports as leaks of the file-editing harness:
    # not checked there (the unit tests under ASan check the reader for leaks).
    leaks=1; if [ "$target" = results ]; then leaks=0; fi
    work="build-fuzz/corpus-$target"
    rm -rf "$work" && mkdir -p "$work"
    echo "fuzzing the $target reader: $fuzz_runs inputs, seed 1:"
    ASAN_OPTIONS="detect_leaks=$leaks" \
      build-fuzz/fuzz/fuzz_$target "$work" "fuzz/corpus/$corpus" -runs="$fuzz_runs" -seed=1 \
      -max_len=65536 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 -detect_leaks="$leaks" \
      -artifact_prefix=build-fuzz/
  done
fi
