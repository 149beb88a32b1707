#!/usr/bin/env bash
# Thread scaling of countysim on one scenario: draws/s, speed-up and
# efficiency for 1, 2, 4, 8, 16 threads, end to end (`countysim run` with the
# default settings: sampling, model, compression, HDF5 writing, summaries) and
# model-only (`bench_draws`: sampling + model + targets, no output).
#
# Usage: bench/scaling.sh [--draws N] [--model-draws N] [--threads "1 2 4 8 16"]
#                         [--scenario FILE] [--build DIR] [--force-threads]
# Thread counts above nproc are skipped unless --force-threads.
# Speed-up is against the first thread count run (1 by default); efficiency
# is speed-up × first thread count / threads (100% = linear scaling).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
draws=300000
model_draws=""
threads="1 2 4 8 16"
scenario="$root/scenarios/taojiang-2022.yaml"
build="$root/build"
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --draws) draws="$2"; shift 2 ;;
    --model-draws) model_draws="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --scenario) scenario="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --force-threads) force=1; shift ;;
    -h|--help) sed -n 2,12p "$0"; exit 0 ;;
    *) echo "scaling.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
model_draws="${model_draws:-$draws}"
ncpu="$(nproc)"
bin="$build/countysim"
bd="$build/bench/bench_draws"
[ -x "$bin" ] || { echo "scaling.sh: $bin not built" >&2; exit 1; }
if [ ! -x "$bd" ]; then cmake --build "$build" --target bench_draws >/dev/null; fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

list=()
for t in $threads; do
  if [ "$t" -gt "$ncpu" ] && [ "$force" -eq 0 ]; then
    echo "skipping $t threads (nproc = $ncpu; --force-threads to run anyway)"
    continue
  fi
  list+=("$t")
done
[ ${#list[@]} -gt 0 ] || { echo "scaling.sh: no thread count to run" >&2; exit 1; }

now() { date +%s.%N; }
echo "scenario $(basename "$scenario"), $ncpu CPUs, $draws draws end to end, $model_draws model-only"
printf '%-11s %7s %9s %11s %8s %10s\n' mode threads seconds draws/s speed-up efficiency
for mode in end-to-end model-only; do
  base=""
  t0n="${list[0]}"
  for t in "${list[@]}"; do
    if [ "$mode" = end-to-end ]; then
      t0="$(now)"
      "$bin" run "$scenario" -o "$tmp/r.h5" --draws "$draws" --threads "$t" --force --quiet >/dev/null
      t1="$(now)"
      n="$draws"
      secs="$(echo "$t1 - $t0" | bc -l)"
    else
      # bench_draws times sampling alone (1 thread) and then the whole draws;
      # take its own figure for the whole draws.
      line="$(BENCH_NO_HASH=1 "$bd" "$scenario" "$model_draws" "$t" | grep '^whole draws')"
      us="$(echo "$line" | sed -E 's/.*\(([0-9.]+) us\/draw\).*/\1/')"
      n="$model_draws"
      secs="$(echo "$us * $n / 1000000" | bc -l)"
    fi
    rate="$(echo "$n / $secs" | bc -l)"
    [ -n "$base" ] || base="$rate"
    sp="$(echo "$rate / $base" | bc -l)"
    eff="$(echo "$sp * $t0n / $t" | bc -l)"
    printf '%-11s %7d %9.2f %11.0f %7.2fx %9.0f%%\n' "$mode" "$t" "$secs" "$rate" "$sp" "$(echo "$eff * 100" | bc -l)"
  done
done
