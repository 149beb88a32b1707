"""End to end: the what-if verbs on the default scenario. `compare` pairs runs
that share seed and draws, `sweep` writes a labelled grid xarray can open, and
`solve` finds the loan share where the loan-share target flips (known: the
target's threshold, 18%) or says plainly that no value reaches it."""
import os
import re
import shutil
import sys
import unittest

import h5py
import xarray

sys.path.insert(0, os.path.dirname(__file__))
from common import DEFAULT_SCENARIO, SOURCE_DIR, run, tmpdir  # noqa: E402

LOAN_UP = os.path.join(SOURCE_DIR, "scenarios", "what-if", "loan-share-up.yaml")
DRAWS = 2000


class WhatIfTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmpdir()
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        cls.base = os.path.join(cls.dir, "base.h5")
        cls.alt = os.path.join(cls.dir, "alt.h5")
        cls.other_seed = os.path.join(cls.dir, "other.h5")
        run("run", DEFAULT_SCENARIO, "-o", cls.base, "--draws", DRAWS, "-q", check=0)
        run("run", LOAN_UP, "-o", cls.alt, "--draws", DRAWS, "-q", check=0)
        run("run", LOAN_UP, "-o", cls.other_seed, "--draws", DRAWS, "--seed", 1, "-q", check=0)

    def test_compare_paired(self):
        p = run("compare", self.base, self.alt, check=0)
        self.assertIn("Paired draw by draw", p.stdout)
        self.assertIn("common random numbers", p.stdout)
        self.assertIn("loan-share", p.stdout)
        self.assertIn("unpaired s.e.", p.stdout)
        self.assertIn("industrial_output", p.stdout)
        self.assertIn("50% shift", p.stdout)

    def test_compare_csv(self):
        p = run("compare", self.base, self.alt, "--csv", check=0)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0], "target,label,p_base,p_alt,difference,std_error,"
                                   "unpaired_std_error,paired")
        rows = {line.split(",")[0]: line.split(",") for line in lines[1:]}
        self.assertIn("all", rows)
        loan = rows["loan-share"]
        # Raising the loan share raises the chance of the loan-share target.
        self.assertGreater(float(loan[4]), 0)
        self.assertLessEqual(float(loan[5]), float(loan[6]))
        self.assertEqual(loan[7], "1")

    def test_compare_unpaired(self):
        p = run("compare", self.base, self.other_seed, check=0)
        self.assertIn("Unpaired", p.stdout)
        self.assertIn("seeds differ", p.stdout)

    def test_compare_bad_file(self):
        p = run("compare", self.base, os.path.join(self.dir, "missing.h5"))
        self.assertEqual(p.returncode, 2, p.stderr)

    def test_sweep(self):
        out = os.path.join(self.dir, "sweep.h5")
        args = ["sweep", DEFAULT_SCENARIO, "--vary", "finance.manufacturing_loan_share=0.15,0.2",
                "--vary", "land.supply_mu=600:900:300", "--draws", DRAWS, "-o", out]
        p = run(*args, check=0)
        self.assertIn("common random numbers", p.stdout)
        self.assertIn("loan-share", p.stdout)
        ds = xarray.open_dataset(out, engine="h5netcdf")
        self.assertEqual(ds["probability"].dims, ("vary_0", "vary_1", "target"))
        self.assertEqual(ds.sizes["vary_0"], 2)
        self.assertEqual(ds.sizes["vary_1"], 2)
        self.assertEqual(list(ds["vary_1"].values), [600.0, 900.0])
        self.assertEqual(ds["vary_0"].attrs["path"], "finance.manufacturing_loan_share")
        self.assertIn("loan-share", list(ds["target"].values))
        loan = ds["probability"].sel(target="loan-share")
        # A constant share of 0.15 never reaches 18%, 0.2 always does.
        self.assertTrue((loan.sel(vary_0=0.15) == 0).all())
        self.assertTrue((loan.sel(vary_0=0.2) == 1).all())
        ds.close()
        with h5py.File(out, "r") as f:
            self.assertEqual(f.attrs["schema"], "countysim-sweep/1")
            self.assertEqual(int(f.attrs["draws"]), DRAWS)
        rep = os.path.join(self.dir, "sweep-report")
        run("report", out, "-o", rep, check=0)
        self.assertTrue(os.path.exists(os.path.join(rep, "sweep-heat-loan-share.svg")))
        # A heat map per target and the index linking them; no PNGs for sweeps.
        with h5py.File(out, "r") as f:
            heats = ["sweep-heat-" + t.decode() + ".svg" for t in f["target"][()]]
        pngs = [h[:-4] + ".png" for h in heats]
        self.assertEqual(sorted(os.listdir(rep)), sorted(heats + pngs + ["index.html"]))
        with open(os.path.join(rep, "index.html"), encoding="utf-8") as f:
            self.assertEqual(re.findall(r'<img src="([^"]+)"', f.read()), heats)
        again = run(*args)
        self.assertEqual(again.returncode, 2)
        self.assertIn("--force", again.stderr)

    def test_sweep_one_path_line_chart(self):
        out = os.path.join(self.dir, "sweep1.h5")
        run("sweep", DEFAULT_SCENARIO, "--vary", "land.supply_mu=500,900,1300", "--draws", 500,
            "-o", out, "-q", check=0)
        ds = xarray.open_dataset(out, engine="h5netcdf")
        self.assertEqual(ds["probability"].dims, ("vary_0", "target"))
        ds.close()
        rep = os.path.join(self.dir, "sweep1-report")
        run("report", out, "-o", rep, check=0)
        self.assertTrue(os.path.exists(os.path.join(rep, "sweep-lines.svg")))
        self.assertTrue(os.path.exists(os.path.join(rep, "sweep-lines.png")))

    def test_sweep_bad_vary(self):
        out = os.path.join(self.dir, "bad.h5")
        p = run("sweep", DEFAULT_SCENARIO, "--vary", "land.supply_mu=a,b", "-o", out)
        self.assertEqual(p.returncode, 2)
        p = run("sweep", DEFAULT_SCENARIO, "--vary", "land.suply_mu=1,2", "--draws", 100, "-o", out)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--set", p.stderr)
        self.assertFalse(os.path.exists(out))

    def test_solve_known_answer(self):
        p = run("solve", DEFAULT_SCENARIO, "--target", "loan-share", "--probability", 0.8,
                "--vary", "finance.manufacturing_loan_share", "--range", "0.1:0.3",
                "--draws", DRAWS, check=0)
        m = re.search(r"finance\.manufacturing_loan_share = ([0-9.]+)", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        # A constant share meets the target exactly when it is at least 0.18.
        self.assertAlmostEqual(float(m.group(1)), 0.18, delta=1e-4)
        self.assertIn("Monte-Carlo interval", p.stdout)

    def test_solve_unreachable(self):
        p = run("solve", DEFAULT_SCENARIO, "--target", "loan-share", "--vary",
                "finance.manufacturing_loan_share", "--range", "0.05:0.15", "--draws", DRAWS,
                check=0)
        self.assertIn("no value in [0.05, 0.15] reaches P >= 0.8", p.stdout)

    def test_solve_unknown_target(self):
        p = run("solve", DEFAULT_SCENARIO, "--target", "nope", "--vary",
                "finance.manufacturing_loan_share", "--range", "0.1:0.3", "--draws", DRAWS)
        self.assertEqual(p.returncode, 2)
        self.assertIn("loan-share", p.stderr)


if __name__ == "__main__":
    unittest.main()
