#!/usr/bin/python3
"""Joint plausibility of published 2022 outturns in a countysim results file.

Usage:
  /usr/bin/python3 check.py RESULTS.h5 [--year 2022] [--gdp 317.93]
         [--bamboo 147.28] [--loans 41.5] [--cluster bamboo] [--k 400]
         [--condition [--sd GDP_SD BAMBOO_SD LOANS_SD] [--ind-va VALUE SD]]

For the three outturns (GDP, the bamboo cluster's gross output, all new
loans) in one projection year it reports:

1. each outturn's percentile in the model (share of draws at or below it);
2. each outturn's percentile given the other two (and given each single
   other one), two ways:
   - Gaussian conditional on logs: the draws' log values are summarised by
     their mean vector and covariance; the conditional law of one log given
     the others is normal with the usual Schur-complement mean and variance;
   - nearest neighbours: the k draws closest to the other outturns (distance
     in standardised logs of the conditioning variables), share of those at
     or below the outturn (a model-free check of the Gaussian one);
3. the joint Mahalanobis distance of the three log outturns from the model's
   log mean, under the model's log covariance, with its chi-square tail
   probability (df = 3), and the empirical share of draws at least as far;
4. the share of draws in the "corner" the outturns define (each variable on
   the outturn's side of it, e.g. GDP <= 317.93 and bamboo >= 147.28 and
   loans >= 41.5);
5. with --condition: a preview of v2 conditioning (model.md) on these draws:
   weights w ∝ exp(-1/2 sum((x-y)/s)^2), ESS, and each target's probability
   before and after (self-normalised, with its standard error).

Needs only numpy and h5py (no scipy). Datasets read:
/draws/gdp [draw, year], /draws/cluster_output [draw, year, cluster],
/draws/new_loans [draw, year], /year, /cluster.
"""
import argparse
import math
import sys

import h5py
import numpy as np


def norm_cdf(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def chi2_sf_df3(x):
    """P(chi2_3 > x) = 2(1 - Phi(sqrt x)) + sqrt(2x/pi) exp(-x/2)."""
    if x <= 0:
        return 1.0
    r = math.sqrt(x)
    return 2.0 * (1.0 - norm_cdf(r)) + math.sqrt(2.0 * x / math.pi) * math.exp(-x / 2.0)


def chi2_sf(x, df):
    if df == 3:
        return chi2_sf_df3(x)
    if df == 2:
        return math.exp(-x / 2.0)
    if df == 1:
        return 2.0 * (1.0 - norm_cdf(math.sqrt(max(x, 0.0))))
    raise ValueError(df)


def decode(a):
    return [x.decode() if isinstance(x, bytes) else str(x) for x in a]


def load(path, year, cluster):
    with h5py.File(path, "r") as f:
        years = [int(y) for y in f["year"][:]]
        clusters = decode(f["cluster"][:])
        if year not in years:
            sys.exit(f"year {year} not in {years}")
        if cluster not in clusters:
            sys.exit(f"cluster {cluster} not in {clusters}")
        yi, ci = years.index(year), clusters.index(cluster)
        gdp = f["draws/gdp"][:, yi].astype(np.float64)
        bam = f["draws/cluster_output"][:, yi, ci].astype(np.float64)
        loans = f["draws/new_loans"][:, yi].astype(np.float64)
        extra = {}
        for k in ("industrial_value_added", "industrial_output"):
            if "draws/" + k in f:
                extra[k] = f["draws/" + k][:, yi].astype(np.float64)
        name = f.attrs.get("scenario_name", "")
        if isinstance(name, bytes):
            name = name.decode()
        lw = f["draws/log_weight"][:] if "draws/log_weight" in f else None
    return name, np.column_stack([gdp, bam, loans]), extra, lw


def gauss_cond(mu, S, y, i, given):
    """Mean and sd of component i given components `given` = y[given]."""
    g = list(given)
    if not g:
        return mu[i], math.sqrt(S[i, i])
    Sig = S[np.ix_(g, g)]
    c = S[i, g]
    w = np.linalg.solve(Sig, c)
    m = mu[i] + w @ (y[g] - mu[g])
    v = S[i, i] - c @ w
    return m, math.sqrt(max(v, 1e-300))


def knn_pct(L, ly, i, given, k):
    g = list(given)
    sd = L[:, g].std(axis=0)
    d2 = (((L[:, g] - ly[g]) / sd) ** 2).sum(axis=1)
    idx = np.argpartition(d2, k)[:k]
    below = (L[idx, i] <= ly[i]).mean()
    radius = math.sqrt(d2[idx].max())
    return below, radius


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("--year", type=int, default=2022)
    ap.add_argument("--gdp", type=float, default=317.93)
    ap.add_argument("--bamboo", type=float, default=147.28)
    ap.add_argument("--loans", type=float, default=41.5)
    ap.add_argument("--cluster", default="bamboo")
    ap.add_argument("--k", type=int, default=400, help="neighbours for the kNN conditional")
    ap.add_argument("--condition", action="store_true",
                    help="also reweight draws by the v2 'observed' likelihood (model.md) and show target probabilities before/after, ESS")
    ap.add_argument("--sd", type=float, nargs=3, default=[0.01 * 317.93, 4.0, 0.02 * 41.5],
                    metavar=("GDP_SD", "BAMBOO_SD", "LOANS_SD"),
                    help="observation errors s_o for --condition (default: rel_sd 0.01, sd 4, rel_sd 0.02)")
    ap.add_argument("--ind-va", type=float, nargs=2, metavar=("VALUE", "SD"),
                    help="with --condition: also observe industrial_value_added in --year "
                         "(e.g. 120.5 6.5: 47.9%% x 317.93 less ~10%% construction)")
    a = ap.parse_args()

    name, X, extra, lw = load(a.results, a.year, a.cluster)
    names = ["gdp", f"{a.cluster} output", "new loans"]
    y = np.array([a.gdp, a.bamboo, a.loans])
    n = X.shape[0]
    L = np.log(X)
    ly = np.log(y)
    mu = L.mean(axis=0)
    S = np.cov(L, rowvar=False)
    sdv = np.sqrt(np.diag(S))
    R = S / np.outer(sdv, sdv)

    print(f"# {a.results}  ({name}; {n} draws; year {a.year})")
    if lw is not None:
        print("note: file has /draws/log_weight; all figures below are UNWEIGHTED (prior)")
    print()
    print("## Model distribution of the three metrics (year %d)" % a.year)
    print("| metric | outturn | model 5% | 50% | 95% | outturn percentile (share of draws <= outturn) |")
    print("|---|---|---|---|---|---|")
    for j in range(3):
        q = np.quantile(X[:, j], [0.05, 0.5, 0.95])
        print(f"| {names[j]} | {y[j]:.2f} | {q[0]:.2f} | {q[1]:.2f} | {q[2]:.2f} | {(X[:, j] <= y[j]).mean():.4f} |")
    for k, v in extra.items():
        q = np.quantile(v, [0.05, 0.5, 0.95])
        sh = np.quantile(v / X[:, 0], [0.05, 0.5, 0.95])
        print(f"| ({k}, info) | — | {q[0]:.1f} | {q[1]:.1f} | {q[2]:.1f} | share of GDP 5/50/95%: {sh[0]:.3f} / {sh[1]:.3f} / {sh[2]:.3f} |")
    print()
    print("Correlations of the logs (model):")
    print("| | " + " | ".join(names) + " |")
    print("|---|---|---|---|")
    for i in range(3):
        print(f"| {names[i]} | " + " | ".join(f"{R[i, j]:+.3f}" for j in range(3)) + " |")
    print()

    print("## Conditional percentiles (outturn's percentile given the other outturns)")
    print(f"Gaussian: on logs, Schur complement. kNN: share <= outturn among the {a.k} draws nearest the conditioning outturns (standardised logs; radius = distance of the farthest neighbour, in sd).")
    print("| metric | given | Gaussian percentile | cond. median | kNN percentile | kNN radius (sd) |")
    print("|---|---|---|---|---|---|")
    for i in range(3):
        others = [j for j in range(3) if j != i]
        for given in ([others[0]], [others[1]], others):
            m, s = gauss_cond(mu, S, ly, i, given)
            gp = norm_cdf((ly[i] - m) / s)
            kp, rad = knn_pct(L, ly, i, given, a.k)
            gname = " & ".join(names[j] for j in given)
            print(f"| {names[i]} | {gname} | {gp:.4f} | {math.exp(m):.2f} | {kp:.4f} | {rad:.2f} |")
    print()

    d = ly - mu
    Sinv = np.linalg.inv(S)
    md2 = float(d @ Sinv @ d)
    D = L - mu
    md2_draws = np.einsum("ij,jk,ik->i", D, Sinv, D)
    emp = (md2_draws >= md2).mean()
    print("## Joint plausibility (logs)")
    print(f"- Mahalanobis distance d = {math.sqrt(md2):.3f} (d^2 = {md2:.3f}); chi-square(3) tail P(chi2_3 >= d^2) = {chi2_sf(md2, 3):.4g}; empirical share of draws at least as far = {emp:.4g}")
    # marginal-only comparison: same distance ignoring correlations
    md2_ind = float((d / sdv) @ (d / sdv))
    print(f"- for comparison, ignoring correlations (diagonal covariance): d^2 = {md2_ind:.3f}, tail = {chi2_sf(md2_ind, 3):.4g}")
    for pair in ((0, 1), (0, 2), (1, 2)):
        p = list(pair)
        dd = d[p]
        m2 = float(dd @ np.linalg.inv(S[np.ix_(p, p)]) @ dd)
        print(f"- pair {names[p[0]]} & {names[p[1]]}: d^2 = {m2:.3f}, chi-square(2) tail = {chi2_sf(m2, 2):.4g}")
    med = np.median(X, axis=0)
    side = np.sign(y - med)
    corner = np.all((X - y) * side >= 0, axis=1)
    desc = " and ".join(f"{names[j]} {'>=' if side[j] > 0 else '<='} {y[j]:g}" for j in range(3))
    indep = np.prod([((X[:, j] - y[j]) * side[j] >= 0).mean() for j in range(3)])
    print(f"- corner share ({desc}): {corner.mean():.4%} of draws ({corner.sum()} draws); if independent: {indep:.4%}")

    if a.condition:
        sd = np.array(a.sd)
        ll = -0.5 * (((X - y) / sd) ** 2).sum(axis=1)
        if a.ind_va:
            if "industrial_value_added" not in extra:
                sys.exit("--ind-va: no /draws/industrial_value_added in the file")
            va_y, va_s = a.ind_va
            ll = ll - 0.5 * ((extra["industrial_value_added"] - va_y) / va_s) ** 2
            sd = np.append(sd, va_s)
        w = np.exp(ll - ll.max())
        ess = w.sum() ** 2 / (w ** 2).sum()
        print()
        print("## Conditioning preview (v2 'observed' reweighting done on this file's draws)")
        print(f"- s_o = {', '.join(f'{v:.3g}' for v in sd)}; ESS = {ess:.0f} of {n} ({ess / n:.1%})")
        with h5py.File(a.results, "r") as f:
            ids = decode(f["target"][:]) if "target" in f else decode(f["draws/target"][:])
            met = f["draws/target_met"][:].astype(np.float64)
        print("| target | prior P | P given 2022 outturns | s.e. |")
        print("|---|---|---|---|")
        for j, t in enumerate(ids):
            p0 = met[:, j].mean()
            p1 = (w * met[:, j]).sum() / w.sum()
            se = math.sqrt((w ** 2 * (met[:, j] - p1) ** 2).sum()) / w.sum()
            print(f"| {t} | {p0:.3f} | {p1:.3f} | {se:.3f} |")
        allm = met.min(axis=1)
        print(f"| (all) | {allm.mean():.3f} | {(w * allm).sum() / w.sum():.3f} | |")


if __name__ == "__main__":
    main()
