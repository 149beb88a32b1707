"""End to end: `countysim report` on a run of the spec's example writes every
chart (SVG that parses as XML, PNG at 2x the SVG's size and >= 150 dpi), CSVs
(UTF-8 with BOM) that read back to the numbers in the HDF5, and an index.html
that headless Chromium renders with every image loaded."""
import csv
import glob
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
import zlib

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import EXAMPLE, run, tmpdir  # noqa: E402

SVG_NS = "{http://www.w3.org/2000/svg}"
# headline_metrics() in metrics.cpp, in its order.
HEADLINE = ["industrial_output", "industrial_tax", "gdp", "manufacturing_va_share", "employment"]


def strs(ds):
    return [x.decode() if isinstance(x, bytes) else str(x) for x in ds[()]]


def png_chunks(path):
    """(type, data) of every chunk, checking the signature and each CRC."""
    with open(path, "rb") as f:
        b = f.read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n", path
    out, i = [], 8
    while i < len(b):
        (n,) = struct.unpack(">I", b[i:i + 4])
        kind, data = b[i + 4:i + 8], b[i + 8:i + 8 + n]
        (crc,) = struct.unpack(">I", b[i + 8 + n:i + 12 + n])
        assert zlib.crc32(kind + data) == crc, f"{path}: bad CRC in {kind}"
        out.append((kind, data))
        i += 12 + n
    return out


def read_csv(path):
    with open(path, "rb") as f:
        assert f.read(3) == b"\xef\xbb\xbf", f"{path}: no UTF-8 BOM"
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def check_in_chromium(test, index, n_images):
    """Headless Chromium loads index.html with all n_images images."""
    exe = chromium()
    if exe is None:
        print("SKIP: chromium not installed (apt-get install chromium)")
        return
    profile = tempfile.mkdtemp(prefix="countysim-chromium-")
    try:
        p = subprocess.run(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--dump-dom", "file://" + os.path.abspath(index)],
            capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    m = re.search(r'data-images-loaded="(\d+)/(\d+)"', p.stdout)
    test.assertIsNotNone(m, p.stderr[-2000:])
    test.assertEqual(m.group(1), m.group(2))
    test.assertEqual(int(m.group(2)), n_images)


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmpdir()
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        cls.h5 = os.path.join(cls.dir, "x.h5")
        run("run", EXAMPLE, "--draws", 2000, "-o", cls.h5, "--quiet", check=0)
        cls.rep = os.path.join(cls.dir, "rep")
        run("report", cls.h5, "-o", cls.rep, check=0)
        cls.rep_en = os.path.join(cls.dir, "rep_en")
        run("report", cls.h5, "-o", cls.rep_en, "--lang", "en", check=0)

    def expected_stems(self):
        with h5py.File(self.h5, "r") as f:
            targets = strs(f["targets/target"])
            # Fans: the headline metrics, then any other yearly metric a target uses.
            fans = list(HEADLINE)
            for m in strs(f["targets/metric"]):
                if m not in fans and m in f["summary"] and f["summary"][m]["mean"].ndim == 1:
                    fans.append(m)
            prob = f["targets/probability"][()]
        stems = ["summary", "targets", "clusters", "projects"] + ["fan_" + m for m in fans]
        # A target no draw met gets no distribution chart (the summary names it).
        return stems + ["target_" + re.sub(r"[^A-Za-z0-9_-]", "_", t)
                        for t, p in zip(targets, prob) if p > 0]

    def test_every_file(self):
        for rep in (self.rep, self.rep_en):
            for stem in self.expected_stems():
                for ext in (".svg", ".png"):
                    self.assertTrue(os.path.isfile(os.path.join(rep, stem + ext)), stem + ext)
            for name in ("index.html", "targets.csv", "quantiles.csv", "project_timing.csv"):
                self.assertTrue(os.path.isfile(os.path.join(rep, name)), name)

    def test_svg_parse_and_png_size(self):
        svgs = sorted(glob.glob(os.path.join(self.rep, "*.svg")))
        self.assertEqual(len(svgs), len(self.expected_stems()))
        for path in svgs:
            with self.subTest(svg=os.path.basename(path)):
                root = ET.parse(path).getroot()
                self.assertEqual(root.tag, SVG_NS + "svg")
                self.assertIn("Noto Sans CJK SC", root.get("font-family"))
                w, h = float(root.get("width")), float(root.get("height"))
                chunks = png_chunks(path[:-4] + ".png")
                self.assertEqual(chunks[0][0], b"IHDR")
                pw, ph = struct.unpack(">II", chunks[0][1][:8])
                # Stated size: twice the SVG's px size (1600x900 for the 800x450 charts).
                self.assertEqual((pw, ph), (round(2 * w), round(2 * h)))
                phys = [d for k, d in chunks if k == b"pHYs"]
                self.assertEqual(len(phys), 1)
                ppx, ppy, unit = struct.unpack(">IIB", phys[0])
                self.assertEqual(unit, 1)
                self.assertGreaterEqual(ppx / 39.37, 150)  # dpi
                self.assertEqual(ppx, ppy)

    def test_language(self):
        zh = ET.tostring(ET.parse(os.path.join(self.rep, "fan_industrial_output.svg")).getroot(),
                         encoding="unicode")
        en = ET.tostring(ET.parse(os.path.join(self.rep_en, "fan_industrial_output.svg")).getroot(),
                         encoding="unicode")
        self.assertIn("工业总产值（亿元）", zh)
        self.assertIn("中位数", zh)
        self.assertIn("Gross industrial output (100m yuan)", en)
        self.assertNotIn("中位数", en)
        with open(os.path.join(self.rep, "targets.svg"), encoding="utf-8") as f:
            dash_zh = f.read()
        self.assertIn("工业总产值过百亿", dash_zh)  # label from the file
        self.assertIn("2/3", dash_zh)  # the likelihood scale is stated
        self.assertIn("目标实现概率", dash_zh)

    def test_targets_csv(self):
        # Headers in the report's language; values in the charts' units (% for
        # probabilities and shares).
        with open(os.path.join(self.rep, "targets.csv"), encoding="utf-8-sig") as f:
            self.assertTrue(f.readline().startswith("编号,目标,指标,"))
        rows = read_csv(os.path.join(self.rep_en, "targets.csv"))
        with h5py.File(self.h5, "r") as f:
            g = f["targets"]
            ids = strs(g["target"])
            self.assertEqual([r["id"] for r in rows[:-1]], ids)
            self.assertEqual([r["label"] for r in rows[:-1]], strs(g["label"]))
            for key, col in (("probability", "probability (%)"), ("std_error", "std_error (points)"),
                             ("ci_low", "ci_low (%)"), ("ci_high", "ci_high (%)")):
                for r, want in zip(rows[:-1], g[key][()]):
                    self.assertTrue(math.isclose(float(r[col]), 100 * float(want), rel_tol=1e-9,
                                                 abs_tol=1e-12), (key, r[col], want))
            for r, want, metric in zip(rows[:-1], g["threshold"][()], strs(g["metric"])):
                scale = 100 if metric.endswith("share") else 1
                self.assertTrue(math.isclose(float(r["threshold"]), scale * float(want), rel_tol=1e-9))
            self.assertEqual([int(r["year"]) for r in rows[:-1]], [int(x) for x in g["year"][()]])
            self.assertEqual(rows[-1]["id"], "(all)")
            self.assertTrue(math.isclose(float(rows[-1]["probability (%)"]),
                                         100 * float(g.attrs["all_met_probability"]), rel_tol=1e-9,
                                         abs_tol=1e-12))

    def test_quantiles_csv(self):
        rows = read_csv(os.path.join(self.rep_en, "quantiles.csv"))
        by_key = {(r["metric"], r["year"], r["cluster"], r["project"]): r for r in rows}
        n = 0
        with h5py.File(self.h5, "r") as f:
            qs = [round(q * 100) for q in f["quantile"][()]]
            for metric, g in f["summary"].items():
                mean, sd, quant = g["mean"][()], g["sd"][()], g["quantiles"][()]
                # The charts' units: persons in 10k, fractions in %.
                units = g.attrs["units"]
                units = units.decode() if isinstance(units, bytes) else str(units)
                scale = {"persons": 1e-4, "fraction": 100}.get(units, 1)
                years = [int(y) for y in g["year"][()]]
                other = "cluster" if "cluster" in g else "project" if "project" in g else None
                members = strs(g[other]) if other else [""]
                for iy, year in enumerate(years):
                    for im, member in enumerate(members):
                        idx = (iy, im) if other else (iy,)
                        key = (metric, str(year), member if other == "cluster" else "",
                               member if other == "project" else "")
                        r = by_key[key]
                        # NaN (flows in the base year) is an empty cell.
                        def same(cell, want):
                            if math.isnan(want):
                                return cell == ""
                            return math.isclose(float(cell), scale * float(want), rel_tol=1e-9,
                                                abs_tol=1e-9)
                        self.assertTrue(same(r["mean"], mean[idx]), key)
                        self.assertTrue(same(r["sd"], sd[idx]), key)
                        for k, q in enumerate(qs):
                            self.assertTrue(same(r[f"q{q:02d}"], quant[idx][k]), (key, q))
                        n += 1
        self.assertEqual(n, len(rows))
        self.assertGreater(n, 40)

    def test_project_timing_csv(self):
        rows = read_csv(os.path.join(self.rep_en, "project_timing.csv"))
        with h5py.File(self.h5, "r") as f:
            self.assertEqual([r["project"] for r in rows], strs(f["project"]))
            planned = f["project_planned_start_month"][()]
            years = f["year"][()]
            horizon = 12 * int(years[-1] - years[0])
            for kind, name in (("start", "project_start_month"), ("production", "project_production_month")):
                if "draws/" + name not in f:
                    continue
                months = f["draws/" + name][()]
                for p, r in enumerate(rows):
                    v = months[:, p]
                    v = v[v >= 0].astype(float)
                    share = "started (%)" if kind == "start" else "production_in_horizon (%)"
                    want = 100 * np.count_nonzero(v < horizon) / months.shape[0]
                    self.assertTrue(math.isclose(float(r[share]), want, rel_tol=1e-9), (kind, p))
                    for q in (5, 10, 25, 50, 75, 90, 95):
                        want = np.quantile(v, q / 100) if len(v) else None
                        cell = r[f"{kind}_q{q:02d}"]
                        if want is None:
                            self.assertEqual(cell, "")
                        else:
                            self.assertTrue(math.isclose(float(cell), want, rel_tol=1e-12, abs_tol=1e-9),
                                            (kind, p, q, cell, want))
            self.assertEqual([int(r["planned_start_month"]) for r in rows], [int(x) for x in planned])
        self.assertEqual(rows[0]["planned_start"], "2022-04")  # dyeing: planned_start 2022-04

    def test_index_renders_with_every_image(self):
        with open(os.path.join(self.rep, "index.html"), encoding="utf-8") as f:
            html = f.read()
        srcs = re.findall(r'<img src="([^"]+)"', html)
        self.assertEqual(len(srcs), len(self.expected_stems()))
        # Fan charts in the order of the headline metrics, then the targets' own.
        fans = [s for s in srcs if s.startswith("fan_")]
        self.assertEqual(fans, [s + ".svg" for s in self.expected_stems() if s.startswith("fan_")])
        for s in srcs:
            self.assertTrue(os.path.isfile(os.path.join(self.rep, s)), s)
        self.assertNotRegex(html, r'(src|href)="(https?:)?//')  # offline
        check_in_chromium(self, os.path.join(self.rep, "index.html"), len(srcs))

    def test_pdf_handout(self):
        out = os.path.join(self.dir, "rep_pdf")
        p = run("report", self.h5, "-o", out, "--pdf", check=0)
        self.assertIn("handout.pdf", p.stdout)
        pdf = os.path.join(out, "handout.pdf")
        check_handout(self, pdf, out)


def slide_order(rep):
    """The slides of a report folder in index.html's order (= the handout's)."""
    with open(os.path.join(rep, "index.html"), encoding="utf-8") as f:
        return re.findall(r'<img src="([^"]+)\.svg"', f.read())


def check_handout(test, pdf, rep):
    """handout.pdf: one 16:9 page per slide in index order, pages that render."""
    if shutil.which("pdfinfo") is None:
        print("SKIP: poppler-utils not installed (scripts/setup.sh)")
        return
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    slides = slide_order(rep)
    test.assertEqual(pages, len(slides))
    # Every page 800 x 450 px = 600 x 337.5 pt (16:9).
    sizes = subprocess.run(["pdfinfo", "-f", "1", "-l", str(pages), pdf], capture_output=True,
                           text=True, check=True).stdout
    found = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", sizes)
    test.assertEqual(len(found), pages)
    for w, h in found:
        test.assertEqual((float(w), float(h)), (600.0, 337.5))
    # The first page is the one-page summary, the second the dashboard.
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "2", pdf, "-"], capture_output=True,
                          text=True, check=True).stdout
    first, second = text.split("\f")[:2]
    test.assertTrue("一页纸" in first or "One page" in first, first[:200])
    test.assertTrue("目标实现概率" in second or "Probability of meeting" in second, second[:200])
    # Rendered back to PNG: every page, none blank.
    d = tempfile.mkdtemp(prefix="countysim-pdf-")
    try:
        subprocess.run(["pdftoppm", "-r", "24", "-gray", pdf, os.path.join(d, "p")], check=True)
        pgm = sorted(glob.glob(os.path.join(d, "p-*.pgm")))
        test.assertEqual(len(pgm), pages)
        for path in pgm:
            with open(path, "rb") as f:
                data = f.read()
            # P5 header: magic, width, height, maxval; then the pixels.
            parts = data.split(b"\n", 3)
            w, h = map(int, parts[1].split())
            test.assertEqual((w, h), (200, 113))  # 600 x 337.5 pt at 24 dpi
            pixels = parts[3]
            dark = sum(1 for b in pixels if b < 128)
            test.assertGreater(dark, 200, f"{path}: a blank page")
    finally:
        shutil.rmtree(d, ignore_errors=True)


class ErrorsTest(unittest.TestCase):
    dir = None

    @classmethod
    def setUpClass(cls):
        cls.dir = tmpdir()
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        cls.h5 = os.path.join(cls.dir, "x.h5")
        run("run", EXAMPLE, "--draws", 500, "-o", cls.h5, "--quiet", check=0)

    def test_errors(self):
        p = run("report", os.path.join(self.dir, "missing.h5"), "-o", os.path.join(self.dir, "r"))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("missing.h5", p.stderr)
        blocker = os.path.join(self.dir, "afile")
        open(blocker, "w").close()
        p = run("report", self.h5, "-o", os.path.join(blocker, "rep"))
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(os.path.join(blocker, "rep") + ": cannot create the report folder: "
                      "Not a directory", p.stderr)


if __name__ == "__main__":
    unittest.main()
