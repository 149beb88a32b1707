#!/usr/bin/env python3
"""Peak and resident memory of `countysim run` as the draws grow.

Usage: python3 bench/memory.py [--draws 1000000 3000000 10000000] [--threads 2]
                               [--binary build/countysim] [--scenario ...] [--dir DIR]

For each draw count it runs the full command once, reads the process's
resident memory (VmRSS) every 0.1 s, and prints the peak (VmHWM, as
/usr/bin/time's %M reports it), the resident memory at each tenth of the
run's wall time, and the seconds the run took. "Flat" means the peak does not
grow with the draws: the rows should end at about the same level. The output
goes to a new file in --dir (default: a temporary directory on the same disk
as /tmp), removed after each run; a run at 10M draws writes about 12 GB.
"""
import argparse
import os
import sys
import tempfile
import time

from bench import start_run  # bench/bench.py, beside this file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def run_once(binary, scenario, draws, threads, out):
    proc, t0 = start_run(binary, scenario, draws, threads, out)
    samples = []  # (seconds, VmRSS kB)
    hwm = 0
    while proc.poll() is None:
        rss = status_kb(proc.pid, "VmRSS")
        peak = status_kb(proc.pid, "VmHWM")
        if rss is not None:
            samples.append((time.perf_counter() - t0, rss))
        if peak is not None:
            hwm = max(hwm, peak)
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode()
    if proc.returncode != 0:
        sys.exit(f"countysim failed ({proc.returncode}): {err}")
    os.remove(out)
    return wall, hwm, samples


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "countysim"))
    ap.add_argument("--scenario", default=os.path.join(ROOT, "scenarios", "taojiang-2022.yaml"))
    ap.add_argument("--dir", default=None)
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="countysim-memory-", dir=a.dir)
    out = os.path.join(d, "memory.h5")
    print(f"scenario {os.path.relpath(a.scenario, ROOT)}, {a.threads} threads")
    print("resident MB at each tenth of the run's time, then the peak (VmHWM)")
    print(f"{'draws':>10} {'seconds':>8}  " + " ".join(f"{k * 10:>4}%" for k in range(1, 11)) +
          f" {'peak MB':>8}")
    for draws in a.draws:
        wall, hwm, samples = run_once(a.binary, a.scenario, draws, a.threads, out)
        cols = []
        for k in range(1, 11):
            t = wall * k / 10
            # The last sample at or before t (the run's memory just then).
            before = [rss for s, rss in samples if s <= t]
            cols.append(f"{before[-1] / 1024:>5.0f}" if before else f"{'-':>5}")
        print(f"{draws:>10} {wall:>8.1f}  " + " ".join(cols) + f" {hwm / 1024:>8.0f}")
        sys.stdout.flush()
    os.rmdir(d)


if __name__ == "__main__":
    main()
