#!/usr/bin/env python3
"""Checks that a countysim results file opens in xarray (h5netcdf) and h5py.

Usage: xarray_check.py RESULTS.h5 [EXPECT.json]

Without EXPECT.json: opens the root and every group, and fails if any axis is
unlabelled (phony_dim) or a per-draw dataset does not read back through h5py.
With EXPECT.json (written by tests/test_results_io.cpp), also compares dims,
values and attributes of the listed variables exactly. Exits non-zero on failure.
"""
import json
import sys

import h5netcdf
import h5py
import numpy as np
import xarray as xr

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, file=sys.stderr)


def groups_of(path):
    """Every group below the root that holds datasets ('' is the root)."""
    out = [""]
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Group) and any(
                    isinstance(v, h5py.Dataset) for v in obj.values()):
                out.append(name)
        f.visititems(visit)
    return out


def open_group(path, group):
    kw = {"group": group} if group else {}
    return xr.open_dataset(path, engine="h5netcdf", **kw)


def same_values(actual, expected):
    actual = np.asarray(actual)
    if actual.dtype.kind in "OUS":  # h5py gives bytes, xarray str
        text = [a.decode("utf-8") if isinstance(a, bytes) else str(a) for a in actual.ravel()]
        return text == list(expected)
    exp = np.array(expected, dtype=np.float64).astype(actual.dtype)
    return np.array_equal(actual.ravel(), exp.ravel(),
                          equal_nan=actual.dtype.kind == "f")


def check_structure(path):
    datasets = {}
    for g in groups_of(path):
        try:
            ds = open_group(path, g)
        except Exception as e:  # noqa: BLE001 - report any failure to open
            fail(f"group /{g}: xarray cannot open it: {e}")
            continue
        datasets[g] = ds
        for d in ds.dims:
            if str(d).startswith("phony_dim"):
                fail(f"group /{g}: unlabelled axis {d}")
    with h5py.File(path, "r") as f:
        for g in ("draws", "inputs"):
            if g not in f:
                fail(f"no group /{g}")
                continue
            for name, obj in f[g].items():
                if obj.attrs.get("CLASS") == b"DIMENSION_SCALE":
                    continue
                data = obj[()]  # inflates every chunk through h5py's filters
                if obj.size and (obj.compression != "gzip" or not obj.shuffle):
                    fail(f"/{g}/{name}: expected shuffle+gzip, got "
                         f"{obj.compression} shuffle={obj.shuffle}")
                xv = datasets[g].get(name) if g in datasets else None
                if xv is not None and not np.array_equal(
                        np.asarray(xv.values), data, equal_nan=data.dtype.kind == "f"):
                    fail(f"/{g}/{name}: xarray and h5py disagree")
    return datasets


def check_expectations(path, datasets, expect):
    for g, attrs in expect.get("group_attrs", {}).items():
        ds = datasets.get(g)
        if ds is None:
            fail(f"group /{g} missing")
            continue
        for k, v in attrs.items():
            got = ds.attrs.get(k)
            if isinstance(v, float):
                ok = got is not None and float(got) == v
            elif isinstance(v, int):
                ok = got is not None and int(got) == v
            else:
                ok = got == v
            if not ok:
                fail(f"/{g} attribute {k}: got {got!r}, expected {v!r}")
    for g, sizes in expect.get("sizes", {}).items():
        ds = datasets.get(g)
        if ds is None:
            fail(f"group /{g} missing")
            continue
        for dim, n in sizes.items():
            if ds.sizes.get(dim) != n:
                fail(f"/{g}: dimension {dim} has size {ds.sizes.get(dim)}, expected {n}")
    # Dimensions no variable uses (the root's draw) exist for netCDF readers
    # but xarray drops them, so ask h5netcdf.
    with h5netcdf.File(path, "r") as nc:
        for g, sizes in expect.get("nc_dims", {}).items():
            grp = nc[g] if g else nc
            for dim, n in sizes.items():
                got = grp.dimensions[dim].size if dim in grp.dimensions else None
                if got != n:
                    fail(f"/{g}: netCDF dimension {dim} has size {got}, expected {n}")
    with h5py.File(path, "r") as f:
        for v in expect.get("vars", []):
            g, name = v["group"], v["name"]
            where = f"/{g}/{name}" if g else f"/{name}"
            ds = datasets.get(g)
            if ds is None or name not in ds.variables:
                fail(f"{where}: not a variable in xarray")
                continue
            var = ds[name]
            if list(var.dims) != v["dims"]:
                fail(f"{where}: dims {list(var.dims)}, expected {v['dims']}")
            if "dtype" in v and str(var.dtype) != v["dtype"]:
                fail(f"{where}: dtype {var.dtype}, expected {v['dtype']}")
            if not same_values(var.values, v["values"]):
                fail(f"{where}: xarray values {np.asarray(var.values).ravel()[:8]} ... "
                     f"differ from {v['values'][:8]} ...")
            if not same_values(f[where][()], v["values"]):
                fail(f"{where}: h5py values differ")
            for k, val in v.get("attrs", {}).items():
                if var.attrs.get(k) != val:
                    fail(f"{where} attribute {k}: got {var.attrs.get(k)!r}, expected {val!r}")


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    path = sys.argv[1]
    datasets = check_structure(path)
    if len(sys.argv) == 3:
        with open(sys.argv[2], encoding="utf-8") as fh:
            check_expectations(path, datasets, json.load(fh))
    for ds in datasets.values():
        ds.close()
    if failures:
        print(f"{len(failures)} problem(s) in {path}", file=sys.stderr)
        return 1
    print(f"ok: {path} ({', '.join('/' + g for g in datasets)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
