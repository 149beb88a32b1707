#!/usr/bin/env python3
"""Throughput and memory of `countysim run` on the default scenario.

Usage: python3 bench/bench.py [--draws 1000000] [--threads 1 2] [--binary build/countysim]
                              [--scenario scenarios/taojiang-2022.yaml] [--repeat 1]

For each thread count it runs the full command (draws, compression, HDF5
writing, summaries) and reports draws per second, peak resident memory of the
process (from wait4's rusage), bytes written and bytes per draw. It also runs
a 10x smaller job to show that memory stays flat as draws grow. Times on a
shared machine are noisy: compare ratios (2 threads / 1 thread) rather than
absolute numbers, and repeat. Every run writes a new file (the old one is
removed and the page cache written back before the clock starts).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_run(binary, scenario, draws, threads, out):
    """Starts `countysim run` writing `out`; returns the process and its start time."""
    # Each run writes a new file, as `countysim run` does by default, on a
    # settled page cache. Before the clock starts: the previous output is
    # removed (replacing it with --force would add the kernel's freeing of
    # its 1.2 GB of pages to the run: 0.7 s in the rename at one million
    # draws) and sync writes back its dirty pages (else the kernel writes
    # them while this run computes).
    if os.path.exists(out):
        os.remove(out)
    os.sync()
    t0 = time.perf_counter()
    proc = subprocess.Popen([binary, "run", scenario, "-o", out, "--draws", str(draws),
                             "--threads", str(threads), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc, t0


def run_once(binary, scenario, draws, threads, out):
    proc, t0 = start_run(binary, scenario, draws, threads, out)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode()
    if status != 0:
        sys.exit(f"countysim failed ({status}): {err}")
    return wall, usage.ru_maxrss / 1024.0, os.path.getsize(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=1_000_000)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "countysim"))
    ap.add_argument("--scenario", default=os.path.join(ROOT, "scenarios", "taojiang-2022.yaml"))
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="countysim-bench-")
    out = os.path.join(d, "bench.h5")
    print(f"scenario {os.path.relpath(a.scenario, ROOT)}, {os.cpu_count()} CPUs")
    print(f"{'draws':>10} {'threads':>7} {'seconds':>8} {'draws/s':>10} {'peak MB':>8} "
          f"{'MB written':>10} {'bytes/draw':>10}")
    base = None
    for draws in (a.draws // 10, a.draws):
        for threads in a.threads:
            best = None
            for _ in range(a.repeat):
                r = run_once(a.binary, a.scenario, draws, threads, out)
                best = r if best is None or r[0] < best[0] else best
            wall, rss, size = best
            print(f"{draws:>10} {threads:>7} {wall:>8.2f} {draws / wall:>10.0f} {rss:>8.0f} "
                  f"{size / 1e6:>10.1f} {size / draws:>10.0f}")
            if draws == a.draws:
                if base is None:
                    base = wall
                else:
                    print(f"{'':>10} speed-up {threads} vs {a.threads[0]} threads: {base / wall:.2f}x")
    os.remove(out)
    os.rmdir(d)


if __name__ == "__main__":
    main()
