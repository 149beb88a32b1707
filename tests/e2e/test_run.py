"""End to end: `countysim run` on the spec's example writes the layout of
results.md, xarray reads it with labelled dimensions, and the results are the
same bits for any thread count and block size."""
import os
import re
import signal
import subprocess
import sys
import time
import unittest

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import COUNTYSIM, EXAMPLE, run, tmpdir  # noqa: E402


def read_all(path):
    """Every dataset of a results file, by path, as numpy arrays."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.dtype.kind != "O":
                out[name] = obj[()]
        f.visititems(visit)
    return out


class RunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmpdir()
        cls.out = os.path.join(cls.dir, "ex.h5")
        cls.p = run("run", EXAMPLE, "-o", cls.out, "--draws", 5000, check=0)

    def test_prints_target_table_and_quantiles(self):
        self.assertIn("output-100", self.p.stdout)
        self.assertIn("All targets together", self.p.stdout)
        self.assertIn("industrial_output", self.p.stdout)
        self.assertIn("95%", self.p.stdout)

    def test_layout(self):
        with h5py.File(self.out, "r") as f:
            self.assertEqual(f.attrs["schema"], "countysim-results/1")
            self.assertEqual(int(f.attrs["draws"]), 5000)
            self.assertEqual(int(f.attrs["seed"]), 42)
            self.assertIn("示例县", f.attrs["scenario_name"])
            self.assertIn("schema: countysim/1", f.attrs["scenario_yaml"])
            self.assertIn("--draws", f.attrs["command_line"])
            self.assertEqual(list(f["year"][()]), [2021, 2022, 2023, 2024])
            self.assertEqual(f["draws/industrial_output"].shape, (5000, 4))
            self.assertEqual(f["draws/cluster_output"].shape, (5000, 4, 2))
            self.assertEqual(f["draws/project_output"].shape, (5000, 4, 2))
            self.assertEqual(f["draws/project_start_month"].shape, (5000, 2))
            self.assertEqual(f["draws/target_met"].shape, (5000, 6))
            self.assertEqual(f["draws/target_met"].dtype, np.uint8)
            self.assertEqual(f["inputs/clusters.textiles.growth"].shape, (5000, 3))
            self.assertEqual(f["inputs/clusters.textiles.value_added_ratio"].shape, (5000,))
            self.assertNotIn("inputs/clusters.textiles.tax_rate", f)  # a constant
            for name in ("mean", "sd", "quantiles"):
                self.assertIn(name, f["summary/industrial_output"])
            self.assertEqual(f["summary/industrial_output/quantiles"].shape, (4, 7))
            for name in ("probability", "std_error", "ci_low", "ci_high", "threshold"):
                self.assertEqual(f["targets/" + name].shape, (6,))
            self.assertIn("all_met_probability", f["targets"].attrs)
            for ds in ("draws/industrial_output", "summary/industrial_output/mean"):
                self.assertIn("units", f[ds].attrs)
                self.assertIn("long_name", f[ds].attrs)

    def test_target_probability_matches_draws(self):
        with h5py.File(self.out, "r") as f:
            met = f["draws/target_met"][()]
            p = f["targets/probability"][()]
            np.testing.assert_array_equal(p, met.mean(axis=0))
            allp = f["targets"].attrs["all_met_probability"]
            self.assertEqual(allp, met.all(axis=1).mean())
            # The target value is the metric it names, in its year.
            out2024 = f["draws/industrial_output"][:, 3]
            tv = f["draws/target_value"][:, 0]
            np.testing.assert_array_equal(out2024, tv)
            np.testing.assert_array_equal(met[:, 0], (tv >= 100).astype(np.uint8))

    def test_summary_matches_stored_values(self):
        with h5py.File(self.out, "r") as f:
            x = f["draws/gdp"][()].astype(np.float64)
            q = f["summary/gdp/quantiles"][()]
            np.testing.assert_allclose(q, np.quantile(x, [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95], axis=0).T,
                                       rtol=1e-6)
            np.testing.assert_allclose(f["summary/gdp/mean"][()], x.mean(axis=0), rtol=1e-6)
            np.testing.assert_allclose(f["summary/gdp/sd"][()], x.std(axis=0, ddof=1), rtol=1e-4)

    def test_xarray_reads_labelled_dimensions(self):
        import xarray as xr
        with xr.open_dataset(self.out, engine="h5netcdf") as ds:
            self.assertIn("year", ds.coords)
        with xr.open_dataset(self.out, engine="h5netcdf", group="draws") as ds:
            self.assertEqual(ds["cluster_output"].dims, ("draw", "year", "cluster"))
            self.assertEqual(list(ds["cluster"].values), ["textiles", "solar"])
            self.assertFalse(any(d.startswith("phony") for d in ds.dims))
            sel = ds["cluster_output"].sel(year=2024, cluster="solar")
            self.assertEqual(sel.shape, (5000,))
        with xr.open_dataset(self.out, engine="h5netcdf", group="inputs") as ds:
            self.assertEqual(ds["clusters.textiles.growth"].dims, ("draw", "projection_year"))
        with xr.open_dataset(self.out, engine="h5netcdf", group="targets") as ds:
            self.assertEqual(list(ds["target"].values)[0], "output-100")

    def test_summary_verb(self):
        p = run("summary", self.out, check=0)
        self.assertIn("output-100", p.stdout)
        self.assertIn("工业总产值过百亿", p.stdout)
        c = run("summary", self.out, "--csv", check=0)
        lines = c.stdout.strip().splitlines()
        self.assertTrue(lines[0].startswith("target,label,"))
        self.assertEqual(len(lines), 1 + 6 + 1)
        with h5py.File(self.out, "r") as f:
            p0 = f["targets/probability"][0]
        self.assertAlmostEqual(float(lines[1].split(",")[9]), p0, places=12)


class DeterminismTest(unittest.TestCase):
    def test_bits_identical_for_threads_and_block_sizes(self):
        d = tmpdir()
        files = []
        for threads, block in ((1, 1024), (2, 8192), (3, 2048), (2, 1000)):
            out = os.path.join(d, f"t{threads}-b{block}.h5")
            run("run", EXAMPLE, "-o", out, "--draws", 7000, "--threads", threads,
                "--block-size", block, "--quiet", check=0)
            files.append(read_all(out))
        ref = files[0]
        self.assertIn("draws/industrial_output", ref)
        self.assertIn("summary/industrial_output/mean", ref)
        for other in files[1:]:
            self.assertEqual(sorted(ref), sorted(other))
            for k in ref:
                np.testing.assert_array_equal(ref[k], other[k], err_msg=k)

    def test_seed_changes_the_draws(self):
        d = tmpdir()
        a, b = os.path.join(d, "a.h5"), os.path.join(d, "b.h5")
        run("run", EXAMPLE, "-o", a, "--draws", 2000, "--quiet", check=0)
        run("run", EXAMPLE, "-o", b, "--draws", 2000, "--seed", 43, "--quiet", check=0)
        with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
            self.assertFalse(np.array_equal(fa["draws/gdp"][()], fb["draws/gdp"][()]))
            self.assertEqual(int(fb.attrs["seed"]), 43)

    def test_adding_a_project_keeps_other_inputs(self):
        d = tmpdir()
        text = open(EXAMPLE, encoding="utf-8").read()
        extra = text.replace("firms:", """  - id: extra
    name: 新增项目
    cluster: textiles
    planned_start: 2022-09
    start_delay_months: {dist: uniform, min: 0, max: 6}
    construction_months: 8
    ramp_months: 6
    capacity_output: {dist: uniform, min: 2, max: 4}
    success_probability: 0.7
    land_mu: 20
    investment: 1

firms:""", 1)
        path = os.path.join(d, "extra.yaml")
        open(path, "w", encoding="utf-8").write(extra)
        a, b = os.path.join(d, "a.h5"), os.path.join(d, "b.h5")
        run("run", EXAMPLE, "-o", a, "--draws", 3000, "--quiet", check=0)
        run("run", path, "-o", b, "--draws", 3000, "--quiet", check=0)
        with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
            keys = list(fa["inputs"].keys())
            self.assertIn("projects.extra.capacity_output", fb["inputs"])
            for k in keys:
                if k in ("draw", "projection_year") or fa["inputs"][k].ndim == 0:
                    continue
                np.testing.assert_array_equal(fa["inputs"][k][()], fb["inputs"][k][()], err_msg=k)


class UntilSeTest(unittest.TestCase):
    """--until-se stops at a block boundary in draw order, and its file is the
    --draws N run for the N it reports, dataset by dataset, bit for bit."""

    def test_equals_draws_n_bit_for_bit(self):
        d = tmpdir()
        u1, u2, n_run = (os.path.join(d, f) for f in ("u1.h5", "u2.h5", "n.h5"))
        p = run("run", EXAMPLE, "-o", u1, "--until-se", 0.004, "--max-draws", 100000,
                "--block-size", 1024, "--threads", 2, check=0)
        m = re.search(r"--until-se 0.004: stopped at (\d+) draws, every target", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        n = int(m.group(1))
        self.assertEqual(n % 1024, 0)
        self.assertGreater(n, 1024)  # more than one block was needed
        self.assertLess(n, 100000)
        # Same stopping point on one thread.
        run("run", EXAMPLE, "-o", u2, "--until-se", 0.004, "--max-draws", 100000,
            "--block-size", 1024, "--threads", 1, "--quiet", check=0)
        # The plain run of N draws, another block size and thread count.
        run("run", EXAMPLE, "-o", n_run, "--draws", n, "--threads", 3, "--quiet", check=0)
        with h5py.File(u1, "r") as f:
            self.assertEqual(int(f.attrs["draws"]), n)
            self.assertEqual(f["draws/industrial_output"].shape[0], n)
            se = f["targets/std_error"][()]
            self.assertTrue(np.all(se <= 0.004), se)
        ref = read_all(n_run)
        self.assertIn("draws/industrial_output", ref)
        for path in (u1, u2):
            got = read_all(path)
            self.assertEqual(sorted(ref), sorted(got))
            for k in ref:
                np.testing.assert_array_equal(ref[k], got[k], err_msg=k)

    def test_max_draws_and_usage(self):
        d = tmpdir()
        out = os.path.join(d, "m.h5")
        p = run("run", EXAMPLE, "-o", out, "--until-se", 0.0001, "--max-draws", 3000,
                "--block-size", 1024, check=0)
        self.assertIn("stopped at --max-draws (3000 draws)", p.stdout)
        with h5py.File(out, "r") as f:
            self.assertEqual(int(f.attrs["draws"]), 3000)
        p = run("run", EXAMPLE, "-o", out, "--until-se", 0.01, "--draws", 10, check=2)
        self.assertIn("--draws excludes --until-se", p.stderr)
        p = run("run", EXAMPLE, "-o", out, "--max-draws", 10, check=2)
        self.assertIn("--max-draws requires --until-se", p.stderr)
        p = run("run", EXAMPLE, "-o", out, "--until-se", -1, check=2)
        self.assertIn("above 0 and at most 0.5", p.stderr)


class OutputSafetyTest(unittest.TestCase):
    def test_existing_output_needs_force(self):
        d = tmpdir()
        out = os.path.join(d, "r.h5")
        open(out, "wb").write(b"older result")
        p = run("run", EXAMPLE, "-o", out, "--draws", 100, "--quiet")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--force", p.stderr)
        self.assertEqual(open(out, "rb").read(), b"older result")
        run("run", EXAMPLE, "-o", out, "--draws", 100, "--quiet", "--force", check=0)
        with h5py.File(out, "r") as f:
            self.assertEqual(int(f.attrs["draws"]), 100)
        self.assertEqual(sorted(os.listdir(d)), ["r.h5"])

    def test_bad_scenario_writes_nothing_and_keeps_older_file(self):
        d = tmpdir()
        out = os.path.join(d, "r.h5")
        open(out, "wb").write(b"older result")
        bad = os.path.join(d, "bad.yaml")
        open(bad, "w", encoding="utf-8").write(open(EXAMPLE, encoding="utf-8").read().replace(
            "sd: 0.015", "sd: -0.015"))
        p = run("run", bad, "-o", out, "--force", "--quiet")
        self.assertEqual(p.returncode, 2)
        self.assertRegex(p.stderr, r"bad\.yaml:\d+:\d+: ")
        self.assertEqual(open(out, "rb").read(), b"older result")
        self.assertEqual(sorted(os.listdir(d)), ["bad.yaml", "r.h5"])

    def test_interrupt_leaves_nothing(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            d = tmpdir()
            out = os.path.join(d, "r.h5")
            proc = subprocess.Popen([COUNTYSIM, "run", EXAMPLE, "-o", out, "--draws", "50000000",
                                     "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            # Wait until the temporary file exists, i.e. the run is under way.
            for _ in range(200):
                if os.listdir(d):
                    break
                time.sleep(0.05)
            time.sleep(0.3)
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=60)
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn(b"interrupted", err)
            self.assertEqual(os.listdir(d), [], f"left behind after {sig}")

    def test_bad_command_line(self):
        p = run("run")
        self.assertEqual(p.returncode, 2)
        p = run("frobnicate")
        self.assertEqual(p.returncode, 2)
        p = run("run", EXAMPLE, "--draws", "many")
        self.assertEqual(p.returncode, 2)

    def test_summary_of_a_non_results_file(self):
        d = tmpdir()
        junk = os.path.join(d, "junk.h5")
        open(junk, "wb").write(b"not hdf5")
        p = run("summary", junk)
        self.assertEqual(p.returncode, 2)
        self.assertIn("junk.h5", p.stderr)
        p = run("summary", os.path.join(d, "missing.h5"))
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
