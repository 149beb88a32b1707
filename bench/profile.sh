#!/usr/bin/env bash
# Where a `countysim run` spends its CPU time: samples from `perf record`
# (Debian's linux-perf), grouped by function into the stages of a run:
# sampling (Philox, inverse CDFs, copula), model (the rest of a draw),
# rows + moments (fill_row, add_moments), compression (shuffle, ISA-L,
# libdeflate's deflate), writing (HDF5, the kernel's file writes), summaries
# (reading chunks back, inflating, quantiles), threads (OpenMP waits) and
# other. Shares are of all CPU samples of the run, every thread together.
#
# Usage: bench/profile.sh [--draws N] [--threads T] [--scenario FILE] [--build DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
draws=300000
threads=2
scenario="$root/scenarios/taojiang-2022.yaml"
build="$root/build"
while [ $# -gt 0 ]; do
  case "$1" in
    --draws) draws="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --scenario) scenario="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) echo "profile.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v perf >/dev/null || { echo "profile.sh: needs perf (apt-get install linux-perf)" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
perf record -q -o "$tmp/perf.data" "$build/countysim" run "$scenario" -o "$tmp/run.h5" \
  --draws "$draws" --threads "$threads" --quiet 2>/dev/null
"$build/countysim" summary "$tmp/run.h5" >/dev/null  # the file reads back
echo "scenario $(basename "$scenario"), $draws draws, $threads threads, $(nproc) CPUs"
perf report -i "$tmp/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
  python3 -c '
import re, sys
stages = [
    ("sampling", r"uniform|philox|normal_quantile|normal_cdf|QuantileTable|Distribution::|"
                 r"beta_quantile|beta_table|binomial_quantile|sample_inputs|InputBlock|copula|__erfc|__ieee754_log|"
                 r"__log1p|__ieee754_exp|__ieee754_pow|__cos|__sin|stream_uniform|transpose_avx|"
                 r"discrete_quantile|all_inside|scale_clamp|add_scaled|quantile_open|uniforms8|"
                 r"beta_table8|load_pieces|poisson_quantile|affine_avx|sample_block|log@@|exp@@|"
                 r"libm_avx512|libm_fma|libm_generic|exact_exp|exact_log|exact_erfc|normal_tails|"
                 r"from_normal_scores|transpose_rows|write_rows"),
    ("model", r"simulate_draw|simulate_group|project_timing|firm_counts|leontief|__insertion_sort|"
              r"__introsort|lower_bound|model|llround|lround|check_draw|schedule_factors|"
              r"lanes_before|lanes_after|lanes_production|project_production|project_months|"
              r"scheduling_order|firm_openings|producing_months|ramp_|evaluate_targets|year_sums"),
    ("rows + moments", r"fill_row|add_moments|put_row|put_f32|welford"),
    ("compression", r"libisal|compress_chunk|looks_random|adler32|isal_|encode_deflate|build_huff|"
                    r"shuffle4|shuffle_to|plane_looks_random|noise_planes|UninitAllocator|put_stored|"
                    r"create_hufftables"),
    ("summaries", r"quantiles_type7|order_statistics|read_columns|unshuffle|libdeflate|"
                  r"StreamingQuantiles|sort_avx|any_nan|select_avx|narrow_avx|"
                  r"introselect|nth_element|summarise|weighted_quantiles|weighted_moments|"
                  r"inside_avx|inside_tail|keep_inside|frozen_quantiles|radix|visit_columns|"
                  r"ChunkInflater"),
    ("writing", r"libhdf5|H5|copy_folio|ext4|pwrite|generic_perform_write|folio|"
                r"filemap|iomap|jbd2|block_"),
    ("threads", r"libgomp|futex|spin_unlock|schedule|pthread"),
]
totals = {name: 0.0 for name, _ in stages}
totals["other"] = 0.0
others = []  # the largest unclassified symbols, to keep the patterns current
for line in sys.stdin:
    m = re.match(r"\s*([0-9.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*)", line)
    if not m:
        continue
    share, dso, sym = float(m.group(1)), m.group(2), m.group(3)
    key = dso + " " + sym
    for name, pattern in stages:
        if re.search(pattern, key):
            totals[name] += share
            break
    else:
        totals["other"] += share
        if share >= 0.3:
            others.append("%6.2f%%  %s" % (share, key[:100]))
print("%-16s%13s" % ("stage", "share of CPU"))
for name, share in totals.items():
    print("%-16s%12.1f%%" % (name, share))
if others:
    print("largest in other (0.3% and up):")
    print("\n".join(others))
'
