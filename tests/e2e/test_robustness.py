"""End to end: damaged results and sweep files (issue 13). Each test makes a
damaged copy of a small real file with h5py and checks that `summary`,
`report` and `compare` refuse it with exit status 2, the file's name and what
is wrong, no crash (no signal) and nothing written."""
import os
import shutil
import subprocess
import sys
import unittest

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import EXAMPLE, run, tmpdir  # noqa: E402

DRAWS = 200


def replace(f, path, data, **kw):
    """Replaces dataset `path` by `data` (dimension scales are dropped)."""
    del f[path]
    f.create_dataset(path, data=data, **kw)


# name -> (function damaging an open h5py.File, text the message must hold)
def _empty_summary(f):
    for name in ("mean", "sd", "quantiles"):
        replace(f, f"summary/gdp/{name}", np.zeros((0,)))


def _year_longer(f):
    y = f["year"][()]
    replace(f, "year", np.append(y, y[-1] + 1).astype(np.int32))


def _year_shorter(f):
    replace(f, "year", f["year"][()][:-1])


def _zero_length_axis(f):
    replace(f, "quantile", np.zeros((0,)))


def _wrong_length_coordinate(f):
    replace(f, "project_label", np.array([b"x"], dtype=h5py.string_dtype()))


def _missing_targets(f):
    del f["targets"]


def _draws_disagree(f):
    f.attrs["draws"] = np.uint64(DRAWS + 7)


def _absurd_years(f):
    f.attrs["last_year"] = np.int32(f.attrs["base_year"] + 1000)


def _base_after_last(f):
    f.attrs["base_year"] = np.int32(f.attrs["last_year"] + 1)


def _summary_shorter(f):
    g = f["summary/gdp"]
    for name in ("mean", "sd", "quantiles"):
        data = g[name][()]
        del g[name]
        g.create_dataset(name, data=data[:-2])


def _external_link(f):
    f["secret"] = h5py.ExternalLink("/etc/passwd", "/")


def _soft_link(f):
    f["alias"] = h5py.SoftLink("/year")


def _huge_unwritten(f):
    del f["quantile"]
    f.create_dataset("quantile", shape=(10**12,), dtype="f8", chunks=(1 << 16,))


def _probability_out_of_range(f):
    p = f["targets/probability"][()]
    p[0] = 7.0
    f["targets/probability"][...] = p


def _string_as_numbers(f):
    replace(f, "year", np.array([b"a"] * len(f["year"]), dtype=h5py.string_dtype()))


CASES = {
    "empty_summary": (_empty_summary, "/summary/gdp"),
    "year_longer": (_year_longer, "/year has"),
    "year_shorter": (_year_shorter, "/year has"),
    "zero_length_axis": (_zero_length_axis, "/quantile has no values"),
    "wrong_length_coordinate": (_wrong_length_coordinate, "/project_label has 1 values"),
    "missing_targets": (_missing_targets, "no /targets group"),
    "draws_disagree": (_draws_disagree, "the attribute draws says 207"),
    "absurd_years": (_absurd_years, "at most 50 years between them"),
    "base_after_last": (_base_after_last, "base_year < last_year"),
    "summary_shorter": (_summary_shorter, "/summary/gdp"),
    "external_link": (_external_link, "/secret is an external link"),
    "soft_link": (_soft_link, "/alias is a soft link"),
    "huge_unwritten": (_huge_unwritten, "declares 1000000000000 values"),
    "probability_out_of_range": (_probability_out_of_range, "/targets/probability[0] is 7"),
    "string_as_numbers": (_string_as_numbers, "/year"),
}

# Damage only the report reads (per-draw values), so only `report` refuses it.
REPORT_CASES = {
    "absurd_month": (lambda f: f["draws/project_start_month"].__setitem__((0, 0), 2**31 - 1),
                     "/draws/project_start_month holds 2147483647; expected months from -1 to "
                     "2400"),
}


class DamagedResultsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmpdir()
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        cls.good = os.path.join(cls.dir, "good.h5")
        run("run", EXAMPLE, "-o", cls.good, "--draws", DRAWS, "-q", check=0)

    def damaged_copy(self, name, damage):
        path = os.path.join(self.dir, f"{name}.h5")
        shutil.copy(self.good, path)
        with h5py.File(path, "r+") as f:
            damage(f)
        return path

    def assert_refused(self, p, path, text):
        self.assertNotIn("Traceback", p.stderr)
        self.assertGreaterEqual(p.returncode, 0, "killed by a signal")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(f"{path}: ", p.stderr)
        self.assertIn(text, p.stderr)
        self.assertIn("in the results file (damaged, or not written by countysim)", p.stderr)
        self.assertNotIn("internal error", p.stderr)

    def test_good_file_is_read(self):
        run("summary", self.good, check=0)

    def test_each_damage_is_refused_by_summary_report_and_compare(self):
        for name, (damage, text) in CASES.items():
            with self.subTest(name):
                path = self.damaged_copy(name, damage)
                self.assert_refused(run("summary", path), path, text)
                self.assert_refused(run("summary", "--csv", path), path, text)
                out = os.path.join(self.dir, f"{name}-report")
                self.assert_refused(run("report", path, "-o", out), path, text)
                self.assertFalse(os.path.exists(out), "report left a folder")
                self.assert_refused(run("compare", self.good, path), path, text)
                self.assert_refused(run("compare", path, self.good), path, text)

    def test_damaged_per_draw_values_are_refused_by_report(self):
        for name, (damage, text) in REPORT_CASES.items():
            with self.subTest(name):
                path = self.damaged_copy(name, damage)
                out = os.path.join(self.dir, f"{name}-report")
                self.assert_refused(run("report", path, "-o", out), path, text)
                self.assertFalse(os.path.exists(out), "report left a folder")

    def test_special_files_are_refused(self):
        fifo = os.path.join(self.dir, "fifo.h5")
        os.mkfifo(fifo)
        for path, text in ((fifo, "not a regular file"), ("/dev/zero", "not a regular file"),
                           (self.dir, "is a folder")):
            with self.subTest(path):
                p = run("summary", path, timeout=30)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(f"{path}: {text}", p.stderr)
                p = run("report", path, "-o", os.path.join(self.dir, "r"), timeout=30)
                self.assertEqual(p.returncode, 2, p.stderr)


class DamagedSweepTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmpdir()
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        cls.good = os.path.join(cls.dir, "sweep.h5")
        run("sweep", EXAMPLE, "--vary", "land.supply_mu=500,900", "--draws", 100, "-q", "-o",
            cls.good, check=0)

    def refused(self, name, damage, text):
        path = os.path.join(self.dir, f"{name}.h5")
        shutil.copy(self.good, path)
        with h5py.File(path, "r+") as f:
            damage(f)
        out = os.path.join(self.dir, f"{name}-report")
        p = run("report", path, "-o", out)
        self.assertNotIn("Traceback", p.stderr)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(f"{path}: ", p.stderr)
        self.assertIn(text, p.stderr)
        self.assertIn("in the sweep file", p.stderr)
        self.assertFalse(os.path.exists(out))

    def test_good_sweep_reports(self):
        run("report", self.good, "-o", os.path.join(self.dir, "good-report"), check=0)

    def test_empty_axis(self):
        def damage(f):
            attrs = dict(f["vary_0"].attrs)
            del f["vary_0"]
            d = f.create_dataset("vary_0", data=np.zeros((0,)))
            d.attrs["path"] = attrs["path"]
        self.refused("empty_axis", damage, "/vary_0 (the values of land.supply_mu) is empty")

    def test_short_label_list(self):
        def damage(f):
            labels = f["target_label"][()]
            replace(f, "target_label", labels[:-1])
        self.refused("short_labels", damage, "/target_label has")

    def test_wrong_grid_shape(self):
        def damage(f):
            replace(f, "all_met_probability", np.zeros((5,)))
        self.refused("grid_shape", damage, "/all_met_probability has shape [5]; expected [2]")

    def test_external_link(self):
        def damage(f):
            f["x"] = h5py.ExternalLink("/etc/passwd", "/")
        self.refused("external", damage, "/x is an external link")


class CommandLineTest(unittest.TestCase):
    """Nonsense on the command line: exit 2 before any work, nothing written."""

    def setUp(self):
        self.dir = tmpdir()
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.out = os.path.join(self.dir, "r.h5")

    def refused(self, *args, text):
        p = run("run", EXAMPLE, "-o", self.out, "-q", *args, timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(text, p.stderr)
        self.assertEqual(os.listdir(self.dir), [])

    def test_draws_out_of_range(self):
        for value in ("0", "-1", "1000000001", "18446744073709551616", "1e3", "ten", "+5"):
            with self.subTest(value):
                self.refused("--draws", value,
                             text=f"--draws {value}: expected a whole number from 1 to 1000000000")

    def test_seed_out_of_range(self):
        for value in ("-1", "18446744073709551616", "99999999999999999999999", "1.5", "0x10"):
            with self.subTest(value):
                self.refused("--seed", value, text=f"--seed {value}: expected a whole number from "
                                                   "0 to 18446744073709551615")

    def test_largest_seed_runs(self):
        run("run", EXAMPLE, "-o", self.out, "-q", "--draws", 50, "--seed", "18446744073709551615",
            check=0)
        p = run("summary", self.out, "--csv", check=0)
        self.assertIn("target", p.stdout)

    def test_threads_out_of_range(self):
        p = run("run", EXAMPLE, "-o", self.out, "--threads", "-1")
        self.assertEqual(p.returncode, 2, p.stderr)

    def test_output_naming_a_folder(self):
        new = os.path.join(self.dir, "newdir") + "/"
        p = run("run", EXAMPLE, "-o", new, "-q", "--draws", 100000000)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(f"{new} names a folder; give a file name, e.g. {new}run.h5", p.stderr)
        self.assertFalse(os.path.exists(new))
        existing = os.path.join(self.dir, "existing")
        os.mkdir(existing)
        p = run("run", EXAMPLE, "-o", existing, "-q", "--force", "--draws", 100)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(f"{existing} is a folder; give a file name", p.stderr)
        self.assertTrue(os.path.isdir(existing))

    def test_unwritable_folder(self):
        p = run("run", EXAMPLE, "-o", "/proc/countysim-test/r.h5", "-q", "--draws", 100)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("cannot create the folder /proc/countysim-test", p.stderr)

    def test_dangling_symlink_is_not_replaced_without_force(self):
        os.symlink(os.path.join(self.dir, "nowhere"), self.out)
        p = run("run", EXAMPLE, "-o", self.out, "-q", "--draws", 100)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("already exists", p.stderr)
        self.assertTrue(os.path.islink(self.out))
        p = run("run", EXAMPLE, "-o", self.out, "-q", "--draws", 100, "--force")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("is not a regular file; --force replaces only files", p.stderr)
        self.assertTrue(os.path.islink(self.out))

    def test_stale_temporary_file_is_removed(self):
        stale = self.out + ".tmp.999999999"
        with open(stale, "wb") as f:
            f.write(b"x" * 1000)
        p = run("run", EXAMPLE, "-o", self.out, "-q", "--draws", 100, check=0)
        self.assertIn(f"countysim: note: removed {stale}, left by process 999999999 that no "
                      "longer runs", p.stderr)
        self.assertEqual(sorted(os.listdir(self.dir)), ["r.h5"])

    def test_special_scenario_files(self):
        fifo = os.path.join(self.dir, "s.yaml")
        os.mkfifo(fifo)
        for path in (fifo, "/dev/zero"):
            with self.subTest(path):
                p = run("validate", path, timeout=30)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(f"{path}: cannot read the scenario file: it is not a regular file",
                              p.stderr)
        p = run("validate", self.dir, timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("it is a directory", p.stderr)


class DiskFullTest(unittest.TestCase):
    """A run into a 1 MiB tmpfs: exit 1 with the system's message, no crash,
    no temporary file left, the older result intact."""

    def setUp(self):
        self.dir = tmpdir()
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", self.dir],
                           capture_output=True, text=True)
        if m.returncode != 0:
            self.skipTest(f"cannot mount a small tmpfs here ({m.stderr.strip()}): disk-full case "
                          "not tested")
        self.addCleanup(subprocess.run, ["umount", self.dir])

    def test_disk_full(self):
        out = os.path.join(self.dir, "r.h5")
        with open(out, "wb") as f:
            f.write(b"older result")
        p = run("run", EXAMPLE, "-o", out, "-q", "--draws", 20000, "--force")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("No space left on device", p.stderr)
        self.assertNotIn("time =", p.stderr)
        self.assertEqual(os.listdir(self.dir), ["r.h5"])
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"older result")


class DomainGuardsTest(unittest.TestCase):
    def test_absurd_counts_and_values_are_refused(self):
        for setting, text in (
                ("firms.above_scale.base=3000000000", "firms.above_scale.base: 3000000000 is beyond 10000000"),
                ("macro.gdp_base=1e30", "macro.gdp_base: 1e+30 is beyond"),
                ("clusters.textiles.growth={dist: normal, mean: 0.05, sd: 1e300}",
                 "values reach")):
            with self.subTest(setting):
                p = run("validate", EXAMPLE, "--set", setting)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(text, p.stderr)

    def test_percent_typos_warn(self):
        p = run("validate", EXAMPLE, "--set", "macro.common_shock.sd=2", check=0)
        self.assertIn("macro.common_shock.sd: 2 is a yearly shock of 200%; if you meant 2%, "
                      "write 0.02", p.stderr)
        p = run("validate", EXAMPLE, "--set",
                "clusters.textiles.growth={dist: normal, mean: 0.05, sd: 4}", check=0)
        self.assertIn("of the draws fall below -1", p.stderr)

    def test_a_draw_gone_negative_stops_the_run(self):
        d = tmpdir()
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        out = os.path.join(d, "r.h5")
        p = run("run", EXAMPLE, "-o", out, "-q", "--draws", 2000, "--set",
                "macro.common_shock.sd=2")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertRegex(p.stderr, r"draw \d+: the output of cluster \w+ in 20\d\d is -")
        self.assertIn("macro.common_shock", p.stderr)
        self.assertEqual(os.listdir(d), [])



def many_projects_scenario(path, n):
    """The example scenario with n more small projects (long names included)."""
    with open(EXAMPLE, encoding="utf-8") as f:
        text = f.read()
    extra = []
    for i in range(n):
        name = f"项目{i:03d}" + ("·一个名字很长很长的重点产业园区建设工程" * 2 if i % 50 == 7 else "")
        extra.append(f"  - {{id: p{i:03d}, name: '{name}', cluster: textiles, planned_start: "
                     f"2022-{1 + i % 12:02d}, construction_months: 6, ramp_months: 6, "
                     f"capacity_output: 0.1, land_mu: 1, investment: 0.1, loan_share: 0.5}}\n")
    marker = "\nfirms:\n"
    text = text.replace(marker, "\n" + "".join(extra) + marker, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


class ManyProjectsReportTest(unittest.TestCase):
    def test_250_projects(self):
        d = tmpdir()
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        scenario = os.path.join(d, "many.yaml")
        many_projects_scenario(scenario, 250)
        h5 = os.path.join(d, "many.h5")
        run("run", scenario, "-o", h5, "-q", "--draws", 200, check=0)
        out = os.path.join(d, "slides")
        p = run("report", h5, "-o", out, "--lang", "zh", timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        files = sorted(os.listdir(out))
        pages = [f for f in files if f.startswith("projects") and f.endswith(".svg")]
        self.assertEqual(len(pages), 26)  # 252 projects, 10 a slide
        self.assertIn("projects-26.png", files)
        svg = ""
        for page in pages:
            with open(os.path.join(out, page), encoding="utf-8") as f:
                svg += f.read()
        long_name = "项目057" + "·一个名字很长很长的重点产业园区建设工程" * 2
        self.assertTrue(long_name in svg, "a long project name was cut")
        self.assertFalse("…" in svg, "a project name was cut")
        with open(os.path.join(out, "index.html"), encoding="utf-8") as f:
            index = f.read()
        for page in pages:
            self.assertIn(f'src="{page}"', index)
        self.assertEqual([x for x in os.listdir(d) if ".tmp." in x], [])

    def test_failed_report_leaves_no_folder_and_keeps_old_files(self):
        d = tmpdir()
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        h5 = os.path.join(d, "r.h5")
        run("run", EXAMPLE, "-o", h5, "-q", "--draws", 100, check=0)
        with h5py.File(h5, "r+") as f:
            f["quantile"][0] = 0.06
        # a valid file without the 0.05 quantile: the charts fail after reading
        out = os.path.join(d, "slides")
        os.mkdir(out)
        with open(os.path.join(out, "index.html"), "w") as f:
            f.write("old")
        p = run("report", h5, "-o", out)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(os.listdir(out), ["index.html"])
        with open(os.path.join(out, "index.html")) as f:
            self.assertEqual(f.read(), "old")
        self.assertEqual(sorted(os.listdir(d)), ["r.h5", "slides"])


if __name__ == "__main__":
    unittest.main()
