#!/usr/bin/env bash
# Set up, build and run every test (what CI runs). Usage: bash scripts/test.sh
# Then the unit tests again under AddressSanitizer and UBSan (about 6 minutes
# on 2 cores; COUNTYSIM_SKIP_SANITIZE=1 skips it).
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
