#!/usr/bin/python3
"""drift_oracle.py - reference values for tests/unit/test_drift_stats.c.

The C test writes its inputs (drawn from tests/vectors/german_credit.csv)
to a file, one array per line: "name count v0 v1 ...".  This script
computes every drift statistic from those arrays with numpy, scikit-learn
and scipy (Debian 12: python3-numpy, python3-sklearn, python3-scipy; see
scripts/setup.sh) and prints one "key value" line per figure (%.17g); the C
test checks that proto/drift_stats.c gives each value to 1e-9.

The figures are computed from their textbook definitions, independently of
the C code: cohen_kappa_score, brier_score_loss and chi2_contingency where a
library has them, numpy otherwise.  Conventions shared with the C API
(proto/drift_stats.h): PSI drops bins empty in both histograms, then in each
histogram replaces a proportion of 0 by 1e-4 and renormalises; JS uses log
base 2; calibration bins are floor(score * B) clipped to B - 1; quantile
edges are numpy's default (linear) np.quantile; a value's bin is
searchsorted(edges, x, side='right').

A missing module is an error (exit status 2), never a skip.

Usage:  /usr/bin/python3 tests/unit/drift_oracle.py INPUT
"""

import sys

try:
    import numpy as np
    from scipy import stats
    from sklearn.metrics import brier_score_loss, cohen_kappa_score
except ImportError as e:  # the C test fails on this
    print("drift_oracle: missing module: %s (run scripts/setup.sh)" % e, file=sys.stderr)
    sys.exit(2)

Z95 = 1.959963984540054
BINS = 10


def out(key, value):
    print("%s %.17g" % (key, float(value)))


def read_arrays(path):
    arrays = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            n = int(parts[1])
            values = np.array([float(v) for v in parts[2:]], dtype=float)
            assert len(values) == n, parts[0]
            arrays[parts[0]] = values
    return arrays


def wilson(p, n, z):
    """Wilson score interval (closed form), clipped to [0, 1]."""
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def weighted_wilson(key, w, bad, z):
    sw = w.sum()
    neff = sw * sw / (w * w).sum()
    p = w[bad].sum() / sw
    lo, hi = wilson(p, neff, z)
    out(key + ".est", p)
    out(key + ".lo", lo)
    out(key + ".hi", hi)
    out(key + ".neff", neff)


def kappa_fce(key, a, b, w, k):
    """kappa (scikit-learn) and the Fleiss-Cohen-Everitt (1969) SE."""
    a = a.astype(int)
    b = b.astype(int)
    cm = np.zeros((k, k))
    np.add.at(cm, (a, b), w)
    P = cm / cm.sum()
    row, col = P.sum(axis=1), P.sum(axis=0)
    po, pe = np.trace(P), row @ col
    kap = cohen_kappa_score(a, b, sample_weight=w)
    diag = np.diag(P) * (1 - (row + col) * (1 - kap)) ** 2
    off = P * (col[:, None] + row[None, :]) ** 2
    np.fill_diagonal(off, 0.0)
    var_num = diag.sum() + (1 - kap) ** 2 * off.sum() - (kap - pe * (1 - kap)) ** 2
    neff = w.sum() ** 2 / (w * w).sum()
    se = np.sqrt(max(var_num, 0.0) / (neff * (1 - pe) ** 2))
    out(key + ".po", po)
    out(key + ".pe", pe)
    out(key + ".kappa", kap)
    out(key + ".se", se)
    out(key + ".lo", max(-1.0, kap - Z95 * se))
    out(key + ".hi", min(1.0, kap + Z95 * se))
    out(key + ".neff", neff)


def histogram_stats(key, ref, cur):
    used = (ref + cur) > 0
    r, c = ref[used], cur[used]
    e, a = r / r.sum(), c / c.sum()
    es = np.where(e == 0, 1e-4, e)
    es = es / es.sum()
    as_ = np.where(a == 0, 1e-4, a)
    as_ = as_ / as_.sum()
    out(key + ".psi", np.sum((as_ - es) * np.log(as_ / es)))
    m = (e + a) / 2
    js = 0.5 * np.sum(e[e > 0] * np.log2(e[e > 0] / m[e > 0])) + \
        0.5 * np.sum(a[a > 0] * np.log2(a[a > 0] / m[a > 0]))
    out(key + ".js", js)
    out(key + ".jsd", np.sqrt(js))
    out(key + ".hel", np.sqrt(np.sum((np.sqrt(e) - np.sqrt(a)) ** 2)) / np.sqrt(2))
    out(key + ".linf", np.max(np.abs(e - a)))
    chi2, p, dof, _ = stats.chi2_contingency(np.vstack([r, c]), correction=False)
    out(key + ".chi2", chi2)
    out(key + ".chi2p", p)
    out(key + ".dof", dof)
    out(key + ".crit", stats.chi2.ppf(0.95, dof) * (1 / r.sum() + 1 / c.sum()))


def binned_by_edges(key, ref, cur):
    edges = np.quantile(ref, np.arange(1, BINS) / BINS)
    for i, v in enumerate(edges):
        out("%s.edge.%d" % (key, i), v)
    cref = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=BINS)
    ccur = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=BINS)
    for i in range(BINS):
        out("%s.cref.%d" % (key, i), cref[i])
        out("%s.ccur.%d" % (key, i), ccur[i])
    histogram_stats(key, cref.astype(float), ccur.astype(float))


def calibration(key, s, y, w):
    b = np.minimum(np.floor(s * BINS), BINS - 1).astype(int)
    total, ece = w.sum(), 0.0
    for k in range(BINS):
        sel = b == k
        nb = w[sel].sum()
        out("%s.n.%d" % (key, k), nb)
        if nb > 0:
            pred = np.sum(w[sel] * s[sel]) / nb
            obs = np.sum(w[sel] * y[sel]) / nb
            ece += nb / total * abs(obs - pred)
            out("%s.pred.%d" % (key, k), pred)
            out("%s.obs.%d" % (key, k), obs)
    out(key + ".ece", ece)
    out(key + ".brier", brier_score_loss(y, s, sample_weight=w))


def benjamini_hochberg(p):
    m = len(p)
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    adj = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    res = np.empty(m)
    res[order] = adj
    for i, v in enumerate(res):
        out("bh.%d" % i, v)


def whatif(d):
    s, elig, auto = d["score"], d["elig"] > 0, d["wauto"] > 0
    lab, w, bad = d["wlab"] > 0, d["ww"], d["wwrong"] > 0
    for i, t in enumerate(d["thr"]):
        at = elig & (s >= t)
        sel = at & lab
        key = "whatif.%d" % i
        out(key + ".nauto", at.sum())
        out(key + ".rate", at.sum() / len(s))
        out(key + ".nlab", sel.sum())
        out(key + ".nnew", (at & ~auto).sum())
        out(key + ".nnewun", (at & ~auto & ~lab).sum())
        weighted_wilson(key, w[sel], bad[sel], Z95)


def distributions(d):
    for i, (p, dof) in enumerate(d["cq"].reshape(-1, 2)):
        out("chi2q.%d" % i, stats.chi2.ppf(p, dof))
    for i, (x, dof) in enumerate(d["cs"].reshape(-1, 2)):
        out("chi2s.%d" % i, stats.chi2.sf(x, dof))
    for i, p in enumerate(d["nq"]):
        out("normq.%d" % i, stats.norm.ppf(p))
    for i, (x1, n1, x2, n2) in enumerate(d["tp"].reshape(-1, 4)):
        pbar = (x1 + x2) / (n1 + n2)
        z = (x1 / n1 - x2 / n2) / np.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n2))
        out("tpz.%d.z" % i, z)
        out("tpz.%d.p" % i, 2 * stats.norm.sf(abs(z)))
    for i, (x, n, z) in enumerate(d["wil"].reshape(-1, 3)):
        lo, hi = wilson(x / n, n, z)
        out("wilson.%d.lo" % i, lo)
        out("wilson.%d.hi" % i, hi)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    d = read_arrays(sys.argv[1])
    lab = d["lab"] > 0
    ones = np.ones(int(lab.sum()))
    kappa_fce("k2", d["rec2"][lab], d["human2"][lab], ones, 2)
    kappa_fce("k2w", d["rec2"][lab], d["human2"][lab], d["w"][lab], 2)
    kappa_fce("k3", d["band3"][lab], d["human3"][lab], ones, 3)
    qa = d["q"] > 0
    weighted_wilson("ipw", 1.0 / d["q"][qa], d["qwrong"][qa] > 0, Z95)
    binned_by_edges("amt", d["amt_ref"], d["amt_cur"])
    binned_by_edges("amt0", d["amt_ref"], d["amt_cur0"])
    half = len(d["score"]) // 2
    bins = np.minimum(np.floor(d["score"] * BINS), BINS - 1).astype(int)
    sref = np.bincount(bins[:half], minlength=BINS).astype(float)
    scur = np.bincount(bins[half:], minlength=BINS).astype(float)
    for i in range(BINS):
        out("score.cref.%d" % i, sref[i])
        out("score.ccur.%d" % i, scur[i])
    histogram_stats("score", sref, scur)
    histogram_stats("hand", d["hist_a"], d["hist_b"])
    calibration("cal", d["score"][lab], d["human2"][lab], ones)
    calibration("calw", d["score"][lab], d["human2"][lab], d["w"][lab])
    benjamini_hochberg(d["pv"])
    whatif(d)
    distributions(d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
