"""End to end: `countysim batch` on the default scenario and its what-if folder
runs every scenario with one seed and draw count (common random numbers),
writes the comparison table and CSV, the report with the comparison slides
(every image loads in headless Chromium) and a 16:9 handout.pdf whose pages
render back; bad files are all listed before anything runs; --resume skips
what is done; `report STUDY/` reports a batch folder again."""
import csv
import glob
import os
import shutil
import sys
import unittest

import h5py

sys.path.insert(0, os.path.dirname(__file__))
from common import DEFAULT_SCENARIO, SOURCE_DIR, run, tmpdir  # noqa: E402
import test_report  # noqa: E402  (helpers only: its tests are not collected here)

WHAT_IF = os.path.join(SOURCE_DIR, "scenarios", "what-if")


class BatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmpdir()
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        cls.study = os.path.join(cls.dir, "study")
        cls.p = run("batch", DEFAULT_SCENARIO, WHAT_IF, "-o", cls.study, "--draws", 2000,
                    "--seed", 5, "--threads", 2, check=0, timeout=600)
        cls.names = ["taojiang-2022"] + sorted(
            os.path.splitext(f)[0] for f in os.listdir(WHAT_IF) if f.endswith(".yaml"))

    def test_results_share_seed_and_draws(self):
        files = sorted(glob.glob(os.path.join(self.study, "results", "*.h5")))
        self.assertEqual([os.path.basename(f)[:-3] for f in files], sorted(self.names))
        for f in files:
            with h5py.File(f, "r") as h:
                self.assertEqual(int(h.attrs["seed"]), 5, f)
                self.assertEqual(int(h.attrs["draws"]), 2000, f)
        with open(os.path.join(self.study, "batch.txt"), encoding="utf-8") as f:
            self.assertEqual([line.split("\t")[0] for line in f.read().splitlines()], self.names)

    def test_progress_per_scenario(self):
        n = len(self.names)
        for i, name in enumerate(self.names):
            self.assertIn(f"[{i + 1}/{n}] {name}", self.p.stderr)
        self.assertEqual(self.p.stderr.count(": running 2,000 draws"), n)
        self.assertIn("common random numbers", self.p.stderr)

    def test_comparison_table_and_csv(self):
        with open(os.path.join(self.study, "comparison.txt"), encoding="utf-8") as f:
            table = f.read()
        self.assertIn(table, self.p.stdout)
        for name in self.names:
            self.assertIn(name, table)
        self.assertIn("Headline medians in", table)
        with open(os.path.join(self.study, "comparison.csv"), "rb") as f:
            self.assertEqual(f.read(3), b"\xef\xbb\xbf")
        with open(os.path.join(self.study, "comparison.csv"), encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        alts = self.names[1:]
        self.assertEqual(sorted({r["scenario"] for r in rows}), sorted(alts))
        # Every target row is paired, its difference alt - base.
        for r in rows:
            if r["kind"] == "target":
                self.assertEqual(r["paired"], "1")
                self.assertAlmostEqual(float(r["difference"]), float(r["alt"]) - float(r["base"]),
                                       places=12)
        # The base's target probabilities are the file's.
        base = os.path.join(self.study, "results", self.names[0] + ".h5")
        with h5py.File(base, "r") as h:
            ids = [x.decode() for x in h["targets/target"][()]]
            prob = dict(zip(ids, h["targets/probability"][()]))
        for r in rows:
            if r["kind"] == "target" and r["id"] in prob:
                self.assertEqual(float(r["base"]), float(prob[r["id"]]))

    def test_report_and_handout(self):
        rep = os.path.join(self.study, "report")
        slides = test_report.slide_order(rep)
        self.assertEqual(slides[0], "summary")
        self.assertEqual(slides[1], "targets")
        self.assertIn("compare-targets", slides)
        self.assertIn("compare-fan_industrial_output-1", slides)
        self.assertIn("compare-fan_manufacturing_va_share-1", slides)
        for k in range(1, len(self.names)):
            self.assertIn(f"alt{k}-summary", slides)
        # Meeting order: summary, dashboard, fans, ..., projects, comparisons.
        self.assertLess(slides.index("projects"), slides.index("compare-targets"))
        for s in slides:
            self.assertTrue(os.path.isfile(os.path.join(rep, s + ".png")), s)
        test_report.check_in_chromium(self, os.path.join(rep, "index.html"), len(slides))
        test_report.check_handout(self, os.path.join(rep, "handout.pdf"), rep)

    def test_resume_and_report_again(self):
        p = run("batch", DEFAULT_SCENARIO, WHAT_IF, "-o", self.study, "--draws", 2000, "--seed", 5,
                "--threads", 2, "--resume", "--no-pdf", check=0, timeout=600)
        self.assertEqual(p.stderr.count("up to date"), len(self.names))
        self.assertNotIn(": running", p.stderr)
        out = os.path.join(self.dir, "again")
        run("report", self.study, "-o", out, "--lang", "en", check=0, timeout=600)
        self.assertEqual(test_report.slide_order(out)[:2], ["summary", "targets"])
        self.assertIn("compare-targets", test_report.slide_order(out))

    def test_bad_files_are_listed_before_anything_runs(self):
        d = os.path.join(self.dir, "bad")
        os.makedirs(d)
        base = os.path.abspath(DEFAULT_SCENARIO)
        with open(os.path.join(d, "a.yaml"), "w", encoding="utf-8") as f:
            f.write(f"schema: countysim/2\nextends: {base}\nfinance:\n  reference_share: 2\n")
        with open(os.path.join(d, "b.yaml"), "w", encoding="utf-8") as f:
            f.write(f"schema: countysim/2\nextends: {base}\nnmae: typo\n")
        study = os.path.join(self.dir, "bad-study")
        p = run("batch", DEFAULT_SCENARIO, d, "-o", study, "--draws", 100)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stderr.splitlines(), [
            os.path.join(d, "a.yaml") + ":4:20: finance.reference_share: 2 looks like a "
            "percentage; write 0.02 for 2%",
            os.path.join(d, "b.yaml") + ":3:1: unknown key 'nmae'; did you mean 'name'?",
            "2 problems found; nothing was run or written"])
        self.assertFalse(os.path.exists(study))


if __name__ == "__main__":
    unittest.main()
