"""Baselines: what users read and what the results files hold, pinned byte for
byte, so that a refactor which is meant to change nothing can show that it
changed nothing.

Two kinds of baseline live in tests/baselines/:

* <name>.txt -- approval baselines of a command's exit status, stdout and
  stderr (fixed --seed, --draws and --threads 2), after `normalise()` has
  replaced the few volatile parts: the temp dir, the source dir, timings and
  file sizes.  On a mismatch the test prints a unified diff.
* draws_sha256.txt -- sha256 of the raw bytes (plus dtype and shape) of every
  /draws/*, /inputs/*, /summary/* and /targets/* dataset of two fixed runs.
  On a mismatch the test lists the datasets that differ.

A diff means that behaviour changed.  If the change is intended (a better
message, a new column, a deliberate change to the model), update the baselines
deliberately and review the diff of tests/baselines/ before committing it:

    COUNTYSIM_UPDATE_BASELINES=1 COUNTYSIM=build/countysim \\
        COUNTYSIM_SOURCE_DIR=$PWD /usr/bin/python3 tests/e2e/test_baselines.py

Baselines whose names start with `results_error_` record how a damaged or
missing results file is reported; that wording is expected to change.

Inputs for the bad-scenario cases are in tests/baselines/inputs/.
"""
import difflib
import hashlib
import os
import re
import shutil
import sys
import tempfile
import unittest

import h5py

sys.path.insert(0, os.path.dirname(__file__))
from common import COUNTYSIM, DEFAULT_SCENARIO, EXAMPLE, SOURCE_DIR, run  # noqa: E402

BASELINES = os.path.join(SOURCE_DIR, "tests", "baselines")
INPUTS = os.path.join(BASELINES, "inputs")
BAD = os.path.join(SOURCE_DIR, "tests", "data", "bad")
LOAN_UP = os.path.join(SOURCE_DIR, "scenarios", "what-if", "loan-share-up.yaml")
UPDATE = os.environ.get("COUNTYSIM_UPDATE_BASELINES") == "1"
THREADS = ("--threads", 2)


def normalise(text, tmp):
    """The output with its volatile parts replaced; everything else is kept."""
    text = text.replace(tmp, "<TMP>")                        # temp dir of the test class
    text = text.replace(SOURCE_DIR, "<SRC>")                 # where the checkout is
    text = re.sub(r"\b\d+(?:\.\d+)? s\b", "<T> s", text)     # timings: "0.42 s"
    text = re.sub(r"\b\d+(?:\.\d+)? [kKMG]i?B\b", "<SIZE>", text)  # file sizes: "1.5 MB"
    return text


def render(p, tmp):
    return normalise(f"exit: {p.returncode}\n--- stdout ---\n{p.stdout}--- stderr ---\n{p.stderr}", tmp)


def countysim(*args, cwd):
    return run(*args, cwd=cwd, encoding="utf-8", errors="replace")


def check_baseline(test, name, actual):
    """Compares `actual` with tests/baselines/<name>.txt (or rewrites it)."""
    path = os.path.join(BASELINES, name + ".txt")
    if UPDATE:
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(actual)
        return
    if not os.path.exists(path):
        test.fail(f"no baseline {path}; create it with COUNTYSIM_UPDATE_BASELINES=1")
    with open(path, encoding="utf-8", newline="") as f:
        expected = f.read()
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True),
            fromfile=f"baselines/{name}.txt", tofile=f"{COUNTYSIM} now"))
        test.fail(f"{name}: output differs from the baseline (behaviour changed?)\n{diff}")


class TempDirCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="countysim-baselines-")
        try:
            cls.prepare()
        except BaseException:
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def prepare(cls):
        pass

    @classmethod
    def path(cls, name):
        return os.path.join(cls.dir, name)


class ValidateBaselineTest(TempDirCase):
    def check(self, name, *args):
        with self.subTest(name):
            check_baseline(self, name, render(countysim(*args, cwd=self.dir), self.dir))

    def test_bad_files(self):
        names = sorted(os.listdir(BAD))
        self.assertIn("binary.bin", names)
        for n in names:
            self.check("validate_bad_" + os.path.splitext(n)[0], "validate", os.path.join(BAD, n))

    def test_bad_scenarios(self):
        # extends_cycle_b.yaml is only there for extends_cycle_a.yaml to extend.
        for n in ("unknown_key", "percent_typo", "wrong_type", "unknown_dist",
                  "unknown_metric", "extends_cycle_a", "yaml_syntax"):
            self.check("validate_input_" + n, "validate", os.path.join(INPUTS, n + ".yaml"))

    def test_good_scenarios(self):
        self.check("validate_example", "validate", EXAMPLE)
        self.check("validate_taojiang", "validate", DEFAULT_SCENARIO)


class RunBaselineTest(TempDirCase):
    """run, summary, compare, solve, sweep and a results-file error."""

    @classmethod
    def prepare(cls):
        d = cls.dir
        cls.ex, cls.tj = cls.path("ex.h5"), cls.path("tj.h5")
        cls.loan, cls.loan12 = cls.path("loan.h5"), cls.path("loan12.h5")
        cls.runs = {
            "run_example": countysim("run", EXAMPLE, "-o", cls.ex, "--draws", 4000, "--seed", 7,
                                     *THREADS, cwd=d),
            "run_taojiang": countysim("run", DEFAULT_SCENARIO, "-o", cls.tj, "--draws", 3000,
                                      "--seed", 11, *THREADS, cwd=d),
        }
        for out, seed in ((cls.loan, 11), (cls.loan12, 12)):
            run("run", LOAN_UP, "-o", out, "--draws", 3000, "--seed", seed, *THREADS, "-q",
                cwd=d, check=0)

    def check(self, name, *args):
        with self.subTest(name):
            check_baseline(self, name, render(countysim(*args, cwd=self.dir), self.dir))

    def test_run(self):
        for name, p in self.runs.items():
            with self.subTest(name):
                check_baseline(self, name, render(p, self.dir))

    def test_summary(self):
        for label, f in (("example", self.ex), ("taojiang", self.tj)):
            self.check("summary_" + label, "summary", f)
            self.check("summary_" + label + "_csv", "summary", f, "--csv")

    def test_compare(self):
        self.check("compare_paired", "compare", self.tj, self.loan)
        self.check("compare_paired_csv", "compare", self.tj, self.loan, "--csv")
        self.check("compare_unpaired", "compare", self.tj, self.loan12)
        self.check("compare_unpaired_csv", "compare", self.tj, self.loan12, "--csv")

    def test_solve(self):
        common = (DEFAULT_SCENARIO, "--draws", 2000, "--seed", 3, *THREADS)
        self.check("solve_loan_share", "solve", *common, "--target", "loan-share",
                   "--probability", 0.8, "--vary", "finance.manufacturing_loan_share",
                   "--range", "0.1:0.3")
        self.check("solve_project_credit", "solve", *common, "--target", "mfg-va-36",
                   "--probability", 0.15, "--vary", "finance.project_credit_fraction",
                   "--range", "0.2:1")
        self.check("solve_unreachable", "solve", *common, "--target", "mfg-va-36",
                   "--probability", 0.3, "--vary", "finance.project_credit_fraction",
                   "--range", "0.2:1")

    def test_sweep(self):
        self.check("sweep_land_supply", "sweep", DEFAULT_SCENARIO, "--vary", "land.supply_mu=500,900",
                   "--draws", 2000, "--seed", 3, *THREADS, "-o", self.path("sweep.h5"))

    def test_results_file_errors(self):
        # Expected to change in the refactor: see the module docstring.
        text = self.path("notes.txt")
        with open(text, "w", encoding="utf-8") as f:
            f.write("not a results file\n")
        self.check("results_error_summary_text_file", "summary", text)
        self.check("results_error_compare_text_file", "compare", self.tj, text)
        self.check("results_error_summary_missing", "summary", self.path("missing.h5"))


def dataset_lines(label, path):
    """'label dataset dtype shape sha256' for each dataset of the hashed groups."""
    lines = []
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if not isinstance(obj, h5py.Dataset) or name.split("/")[0] not in (
                    "draws", "inputs", "summary", "targets"):
                return
            data = obj[()]
            if obj.dtype.kind == "O":  # variable-length strings
                info = h5py.check_string_dtype(obj.dtype)
                dtype = f"vlen-str({info.encoding if info else '?'})"
                items = data.ravel() if hasattr(data, "ravel") else [data]
                raw = b"\0".join(x if isinstance(x, bytes) else str(x).encode() for x in items)
            else:
                dtype, raw = str(data.dtype), data.tobytes()
            shape = "x".join(map(str, obj.shape)) or "scalar"
            lines.append(f"{label} /{name} {dtype} {shape} {hashlib.sha256(raw).hexdigest()}")
        f.visititems(visit)
    return lines


class DrawsHashTest(TempDirCase):
    @classmethod
    def prepare(cls):
        cls.lines = []
        for label, scenario, draws, seed in (("taojiang-2022", DEFAULT_SCENARIO, 5000, 20220401),
                                             ("example", EXAMPLE, 3000, 5)):
            out = cls.path(label + ".h5")
            run("run", scenario, "-o", out, "--draws", draws, "--seed", seed, *THREADS, "-q",
                cwd=cls.dir, check=0)
            cls.lines += dataset_lines(label, out)
        cls.lines.sort()

    def test_dataset_hashes(self):
        path = os.path.join(BASELINES, "draws_sha256.txt")
        actual = "".join(line + "\n" for line in self.lines)
        if UPDATE:
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(actual)
            return
        with open(path, encoding="utf-8") as f:
            expected = f.read().splitlines()
        key = lambda line: " ".join(line.split()[:2])  # noqa: E731  label + dataset
        want = {key(x): x for x in expected}
        got = {key(x): x for x in self.lines}
        problems = []
        for k in sorted(set(want) | set(got)):
            if k not in got:
                problems.append(f"missing now:  {want[k]}")
            elif k not in want:
                problems.append(f"new dataset:  {got[k]}")
            elif want[k] != got[k]:
                problems.append(f"differs:      {k}\n  baseline: {want[k]}\n  now:      {got[k]}")
        if problems:
            self.fail(f"{len(problems)} of {len(want)} datasets differ from baselines/draws_sha256.txt "
                      "(behaviour changed?):\n" + "\n".join(problems))
        self.assertGreater(len(self.lines), 300)


if __name__ == "__main__":
    unittest.main()
