"""Writes fuzz/corpus/results/minimal.h5: the smallest file the results reader
accepts (root attributes, coordinates, /targets, one summary with dimension
scales, one per-draw dataset), a few KB, as the fuzzer's seed. Rerun after a
change of the results layout: /usr/bin/python3 fuzz/make_results_seed.py"""
import os

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "results", "minimal.h5")
S = h5py.string_dtype()


def scale(loc, name, data, dtype=None):
    d = loc.create_dataset(name, data=np.asarray(data, dtype=dtype))
    d.make_scale(name)
    return d


with h5py.File(OUT, "w", libver="latest") as f:
    for k, v in {"countysim_version": "0.1.0", "schema": "countysim-results/1",
                 "scenario_schema": "countysim/1", "scenario_name": "seed",
                 "scenario_file": "seed.yaml", "scenario_yaml": "schema: countysim/1\n",
                 "created": "2026-01-01T00:00:00Z", "command_line": "countysim run seed.yaml"}.items():
        f.attrs[k] = v
    f.attrs["seed"] = np.uint64(1)
    f.attrs["draws"] = np.uint64(2)
    f.attrs["base_year"] = np.int32(2021)
    f.attrs["last_year"] = np.int32(2023)
    year = scale(f, "year", [2021, 2022, 2023], "i4")
    scale(f, "projection_year", [2022, 2023], "i4")
    scale(f, "cluster", ["a"], S)
    f.create_dataset("cluster_label", data=np.array(["A"], dtype=S))
    f.create_dataset("cluster_group", data=np.array(["main"], dtype=S))
    f.create_dataset("cluster_manufacturing", data=np.array([1], dtype="u1"))
    scale(f, "project", [], S)
    for name in ("project_label", "project_cluster"):
        f.create_dataset(name, data=np.array([], dtype=S))
    f.create_dataset("project_planned_start_month", data=np.array([], dtype="i4"))
    target = scale(f, "target", ["t"], S)
    f.create_dataset("target_label", data=np.array(["T"], dtype=S))
    q = scale(f, "quantile", [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95], "f8")
    g = f.create_group("targets")
    g.attrs["all_met_probability"] = 0.5
    g.attrs["all_met_std_error"] = 0.35
    for name, value in (("target", "t"), ("label", "T"), ("metric", "gdp"), ("op", "at_least"),
                        ("cluster", ""), ("group", "")):
        g.create_dataset(name, data=np.array([value], dtype=S))
    for name, value in (("threshold", 100.0), ("group_threshold", np.nan), ("probability", 0.5),
                        ("std_error", 0.35), ("ci_low", 0.1), ("ci_high", 0.9)):
        g.create_dataset(name, data=np.array([value]))
    g.create_dataset("year", data=np.array([2023], dtype="i4"))
    s = f.create_group("summary/gdp")
    s.attrs["units"] = "亿元"
    s.attrs["long_name"] = "GDP"
    sy = scale(s, "year", [2021, 2022, 2023], "i4")
    sq = scale(s, "quantile", [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95], "f8")
    for name, shape in (("mean", (3,)), ("sd", (3,)), ("quantiles", (3, 7))):
        d = s.create_dataset(name, data=np.linspace(100, 120, int(np.prod(shape))).reshape(shape))
        d.dims[0].attach_scale(sy)
        if len(shape) == 2:
            d.dims[1].attach_scale(sq)
    dr = f.create_group("draws")
    draw = dr.create_dataset("draw", shape=(2,), dtype="f4")
    draw.make_scale("draw")
    dt = scale(dr, "target", ["t"], S)
    met = dr.create_dataset("target_met", data=np.array([[1], [0]], dtype="u1"))
    met.dims[0].attach_scale(draw)
    met.dims[1].attach_scale(dt)
print(OUT, os.path.getsize(OUT), "bytes")
