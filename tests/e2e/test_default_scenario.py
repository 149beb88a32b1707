"""End to end: the default scenario (countysim/2: volume growth and April-2022
prices), its what-if files and the 2024 update validate and run; the run's
base year reproduces the facts the scenario cites (GDP 2021 = 305, bamboo
133.15) in every draw, and the stored results obey the accounting identities
(industry = sum of clusters, VA = sum of ratio x output, shares = VA / GDP;
with prices: real output = nominal / price level per cluster, real GDP = real
rest + real industry VA, real growth from the real levels) in every draw; the
projection grows in line with the county's history (bands in
docs/calibration.md); and a what-if moves the result the way its question
says, draw by draw (common random numbers)."""
import glob
import os
import sys
import unittest

import h5py
import numpy as np
import yaml

sys.path.insert(0, os.path.dirname(__file__))
from common import DEFAULT_SCENARIO, SOURCE_DIR, run, tmpdir  # noqa: E402

WHAT_IF = sorted(glob.glob(os.path.join(SOURCE_DIR, "scenarios", "what-if", "*.yaml")))
# The 2024 update of issue 9 (extends the default).
UPDATE = os.path.join(SOURCE_DIR, "scenarios", "taojiang-2024-update.yaml")
DRAWS = 4096


def as_str(x):
    return x.decode() if isinstance(x, bytes) else str(x)


class DefaultScenarioTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmpdir()
        cls.out = os.path.join(cls.dir, "default.h5")
        run("run", DEFAULT_SCENARIO, "-o", cls.out, "--draws", DRAWS, "--quiet", check=0)

    def test_validates(self):
        for path in [DEFAULT_SCENARIO] + WHAT_IF + [UPDATE]:
            with self.subTest(path=os.path.basename(path)):
                run("validate", path, check=0)
        self.assertEqual(len(WHAT_IF), 5)

    def test_base_year_reproduces_cited_facts(self):
        with h5py.File(self.out, "r") as f:
            years = list(f["year"][()])
            self.assertEqual(years[0], 2021)
            self.assertEqual(years[-1], 2025)
            # GDP 2021 about 305 亿元 (county work report): R_0 + sum VA = gdp_base.
            np.testing.assert_allclose(f["draws/gdp"][:, 0], 305.0, rtol=1e-5)
            # Clusters add up to industry; bamboo is the cited 133.15 亿元.
            clusters = [as_str(c) for c in f["cluster"][()]]
            y0 = f["draws/cluster_output"][:, 0, :]
            np.testing.assert_allclose(y0.sum(axis=1), f["draws/industrial_output"][:, 0], rtol=1e-5)
            np.testing.assert_allclose(y0[:, clusters.index("bamboo")], 133.15, rtol=1e-5)
            # Base-year VA from each draw's own ratios (stored under /inputs):
            # industry and manufacturing VA are sums of ratio x base output.
            manufacturing = f["cluster_manufacturing"][()].astype(bool)
            va = np.zeros(y0.shape[0])
            mva = np.zeros(y0.shape[0])
            for i, c in enumerate(clusters):
                v = f["inputs/clusters.%s.value_added_ratio" % c][()].astype(float) * y0[:, i]
                va += v
                if manufacturing[i]:
                    mva += v
            np.testing.assert_allclose(f["draws/industrial_value_added"][:, 0], va, rtol=1e-5)
            np.testing.assert_allclose(f["draws/manufacturing_value_added"][:, 0], mva, rtol=1e-5)

    def test_accounting_identities_every_year(self):
        with h5py.File(self.out, "r") as f:
            y = f["draws/cluster_output"][()].astype(float)
            gdp = f["draws/gdp"][()].astype(float)
            va = f["draws/industrial_value_added"][()].astype(float)
            mva = f["draws/manufacturing_value_added"][()].astype(float)
            np.testing.assert_allclose(y.sum(axis=2), f["draws/industrial_output"][()], rtol=1e-5)
            np.testing.assert_allclose(f["draws/employment"][()],
                                       f["draws/cluster_employment"][()].astype(float).sum(axis=2),
                                       rtol=1e-5)
            np.testing.assert_allclose(f["draws/manufacturing_va_share"][()], mva / gdp, rtol=1e-5)
            # GDP = rest of the economy + industry VA, the rest always positive.
            self.assertGreater((gdp - va).min(), 0.0)
            self.assertTrue(np.all(mva <= va))

    def price_levels(self, f):
        """Each cluster's price level [draw, year] and the rest's deflator
        [draw, year], rebuilt from the stored sampled changes and the stored
        merged scenario's price_index: P_0 = 1, P_t = P_{t-1} (1 + change)."""
        merged = yaml.safe_load(as_str(f.attrs["scenario_yaml"]))
        self.assertEqual(merged["schema"], "countysim/2")
        def level(change):
            return np.concatenate([np.ones((change.shape[0], 1)),
                                   np.cumprod(1.0 + change.astype(float), axis=1)], axis=1)
        clusters = [as_str(c) for c in f["cluster"][()]]
        index_of = {c["id"]: c.get("price_index") for c in merged["clusters"]}
        p = []
        for c in clusters:
            self.assertIsNotNone(index_of[c], c)  # every cluster of the default has a price
            p.append(level(f["inputs/prices.%s.change" % index_of[c]][()]))
        return np.stack(p, axis=2), level(f["inputs/macro.rest_price_change"][()])

    def test_real_identities_every_year(self):
        # model.md "Prices": nominal = price level x real, per cluster; real
        # industry VA = sum of ratio x real output; real GDP = real rest +
        # real industry VA, the rest deflated by its own deflator; growth
        # rates from the real levels.
        with h5py.File(self.out, "r") as f:
            price, rest_price = self.price_levels(f)
            clusters = [as_str(c) for c in f["cluster"][()]]
            y = f["draws/cluster_output"][()].astype(float)
            real = y / price
            ratio = np.stack([f["inputs/clusters.%s.value_added_ratio" % c][()].astype(float)
                              for c in clusters], axis=1)
            va_real = (ratio[:, None, :] * real).sum(axis=2)
            gdp = f["draws/gdp"][()].astype(float)
            va = f["draws/industrial_value_added"][()].astype(float)
            gdp_real = (gdp - va) / rest_price + va_real
            np.testing.assert_allclose(f["draws/industrial_output_real"][()], real.sum(axis=2),
                                       rtol=1e-5)
            np.testing.assert_allclose(f["draws/industrial_value_added_real"][()], va_real,
                                       rtol=1e-5)
            np.testing.assert_allclose(f["draws/gdp_real"][()], gdp_real, rtol=1e-5)
            np.testing.assert_allclose(f["draws/industrial_va_real_growth"][:, 1:],
                                       va_real[:, 1:] / va_real[:, :-1] - 1, atol=1e-5)
            np.testing.assert_allclose(f["draws/gdp_real_growth"][:, 1:],
                                       gdp_real[:, 1:] / gdp_real[:, :-1] - 1, atol=1e-5)
            self.assertTrue(np.all(np.isnan(f["draws/gdp_real_growth"][:, 0])))
            # Not vacuous: prices do move, so real and nominal differ by 2025.
            self.assertGreater(np.abs(price[:, -1, :] - 1).max(), 0.05)
            self.assertGreater(np.abs(rest_price[:, -1] - 1).max(), 0.05)

    def test_growth_in_line_with_history(self):
        # Bands (docs/calibration.md): industrial output 6-16% a year nominal
        # (Hunan county industry grew ~8-12%, projects come on top), GDP 5-10%.
        with h5py.File(self.out, "r") as f:
            y = f["draws/industrial_output"][()].astype(float)
            g = f["draws/gdp"][()].astype(float)
        years = y.shape[1] - 1
        y_cagr = np.median((y[:, -1] / y[:, 0]) ** (1 / years) - 1)
        g_cagr = np.median((g[:, -1] / g[:, 0]) ** (1 / years) - 1)
        self.assertGreater(y_cagr, 0.06)
        self.assertLess(y_cagr, 0.16)
        self.assertGreater(g_cagr, 0.05)
        self.assertLess(g_cagr, 0.10)

    def test_every_target_reported(self):
        with h5py.File(self.out, "r") as f:
            ids = [as_str(t) for t in f["target"][()]]
            p = f["targets/probability"][()]
        for tid in ("output-1000", "tax-10", "mfg-va-36", "digital-11-5", "sei-25",
                    "clusters-7x100", "firms-300", "hightech-100", "loan-share"):
            self.assertIn(tid, ids)
        self.assertTrue(np.all((p >= 0) & (p <= 1)))

    def test_guochen_late_lowers_output(self):
        # Same seed, same draws: the paired difference of 2025 output has a
        # negative mean, more than 4 standard errors below zero.
        out = os.path.join(self.dir, "guochen-late.h5")
        path = os.path.join(SOURCE_DIR, "scenarios", "what-if", "guochen-late.yaml")
        run("run", path, "-o", out, "--draws", DRAWS, "--quiet", check=0)
        with h5py.File(self.out, "r") as a, h5py.File(out, "r") as b:
            d = b["draws/industrial_output"][:, -1].astype(float) - \
                a["draws/industrial_output"][:, -1].astype(float)
            # The base year is shared exactly.
            np.testing.assert_array_equal(a["draws/gdp"][:, 0], b["draws/gdp"][:, 0])
        se = d.std(ddof=1) / np.sqrt(len(d))
        self.assertLess(d.mean() + 4 * se, 0.0)


if __name__ == "__main__":
    unittest.main()
