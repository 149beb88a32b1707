#!/bin/sh
# Time `countysim explain` on a 100,000-draw run of the default scenario with
# the counterfactuals at 20,000 draws (issue 10). Usage:
#   bench/bench_explain.sh [COUNTYSIM_BINARY] [THREADS]
# Prints the wall and CPU time of the run and of explain, and explain's own
# split (importance / counterfactuals) from the last line of its table.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/build/countysim}
threads=${2:-0}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
tflag=""
[ "$threads" != 0 ] && tflag="--threads $threads"
echo "run: 100000 draws"
/usr/bin/time -f "  %e s wall, %U s user, %M KB peak" \
  "$bin" run "$here/scenarios/taojiang-2022.yaml" -o "$dir/base.h5" --draws 100000 -q $tflag
echo "explain: counterfactuals at 20000 draws, all targets"
/usr/bin/time -o "$dir/time.txt" -f "  %e s wall, %U s user, %M KB peak" \
  "$bin" explain "$dir/base.h5" --draws 20000 -o "$dir/explain" $tflag >"$dir/table.txt" 2>/dev/null
cat "$dir/time.txt"
tail -n 1 "$dir/table.txt" | sed 's/^.*Time: /  /'
