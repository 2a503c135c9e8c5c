#!/usr/bin/env python3
"""drift_report_oracle.py ROWS.tsv REPORT.json - the reference computation
behind tests/e2e/test_drift_e2e.c: recomputes the drift figures from the
rows the test itself submitted and resolved (not from the tool's parsing)
with scikit-learn and numpy, and compares them with `hitlq-audit drift
--json` to 1e-9.

ROWS.tsv lines:
  S <phase> <score>                          a scored submitted item
  V <phase> <score> <rec> <verdict> <qa> <route>
                                             a verdict comparing the model's
                                             recommendation with an action
Phase 0 is the reference (first) window, phase 1 the second.

Checked: Cohen's kappa (sklearn.metrics.cohen_kappa_score) and agreement,
overall and per window; PSI (natural log, empty proportions set to 1e-4 and
renormalised, bins empty in both dropped) and Jensen-Shannon distance (log
base 2) of the 10-bin score histograms, window 1 against window 0; Brier and
ECE (10 equal-width bins) of score against verdict == approve; the Wilson
95 % interval of each automated route's QA error rate (closed form).
Exit status 0 when everything matches.
"""
import json
import math
import sys

import numpy as np
from sklearn.metrics import cohen_kappa_score

TOL = 1e-9
Z = 1.959963984540054


def load(path):
    scores = {0: [], 1: []}
    verdicts = []
    with open(path) as f:
        for line in f:
            f_ = line.rstrip("\n").split("\t")
            if f_[0] == "S":
                scores[int(f_[1])].append(float(f_[2]))
            elif f_[0] == "V":
                verdicts.append({"phase": int(f_[1]), "score": float(f_[2]), "rec": f_[3],
                                 "out": f_[4], "qa": f_[5] == "1", "route": f_[6]})
    return scores, verdicts


def bins10(x):
    return np.minimum(np.floor(np.asarray(x, dtype=float) * 10).astype(int), 9)


def psi_js(ref, cur):
    r = np.bincount(bins10(ref), minlength=10).astype(float)
    c = np.bincount(bins10(cur), minlength=10).astype(float)
    used = (r + c) > 0
    e, a = r[used] / r.sum(), c[used] / c.sum()

    def smooth(p):
        p = np.where(p == 0, 1e-4, p)
        return p / p.sum()

    es, as_ = smooth(e), smooth(a)
    psi = float(np.sum((as_ - es) * np.log(as_ / es)))
    m = (e + a) / 2

    def kl(p, q):
        k = p > 0
        return float(np.sum(p[k] * np.log2(p[k] / q[k])))

    return psi, math.sqrt((kl(e, m) + kl(a, m)) / 2)


def wilson(x, n):
    p = x / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return p, max(0.0, centre - half), min(1.0, centre + half)


class Checker:
    def __init__(self):
        self.errors, self.checked = [], 0

    def num(self, name, got, want):
        self.checked += 1
        if got is None or not math.isfinite(want) or abs(got - want) > TOL:
            self.errors.append("%s: tool %r, oracle %r" % (name, got, want))

    def eq(self, name, got, want):
        self.checked += 1
        if got != want:
            self.errors.append("%s: tool %r, oracle %r" % (name, got, want))


def check_agreement(ck, rep, vs):
    ag = rep["agreement"]
    ov = ag["overall"]
    ck.eq("agreement n", ov["n"], len(vs))
    ck.num("kappa", ov["kappa"], cohen_kappa_score([v["rec"] for v in vs], [v["out"] for v in vs]))
    ck.num("agreement", ov["agreement"], sum(v["rec"] == v["out"] for v in vs) / len(vs))
    for w in (0, 1):
        sub = [v for v in vs if v["phase"] == w]
        row = ag["by_window"][w]
        ck.eq("window %d n" % w, row["n"], len(sub))
        ck.num("window %d kappa" % w, row["kappa"],
               cohen_kappa_score([v["rec"] for v in sub], [v["out"] for v in sub]))


def check_calibration(ck, rep, vs):
    p = np.array([v["score"] for v in vs])
    y = np.array([1.0 if v["out"] == "approve" else 0.0 for v in vs])
    b = bins10(p)
    ece = sum((b == k).sum() / len(p) * abs(y[b == k].mean() - p[b == k].mean())
              for k in range(10) if (b == k).any())
    un = rep["calibration"]["unweighted"]
    ck.num("brier", un["brier"], float(np.mean((p - y) ** 2)))
    ck.num("ece", un["ece"], float(ece))


def check_qa(ck, rep, vs):
    routes = {r["route"]: r for r in rep["qa"]["by_route"]}
    for route in ("auto_approve", "auto_reject"):
        sub = [v for v in vs if v["qa"] and v["route"] == route]
        if not sub:
            continue
        wrong = sum(v["rec"] != v["out"] for v in sub)
        est, lo, hi = wilson(wrong, len(sub))
        got = routes[route]
        ck.eq("qa %s verdicts" % route, got["qa_verdicts"], len(sub))
        ck.num("qa %s error" % route, got["error_rate"]["est"], est)
        ck.num("qa %s wilson lo" % route, got["error_rate"]["lo"], lo)
        ck.num("qa %s wilson hi" % route, got["error_rate"]["hi"], hi)


def main():
    scores, vs = load(sys.argv[1])
    with open(sys.argv[2]) as f:
        rep = json.load(f)
    ck = Checker()
    check_agreement(ck, rep, vs)
    w1 = rep["score_drift"]["by_window"][1]
    psi, js = psi_js(scores[0], scores[1])
    ck.eq("window 0 scored", rep["score_drift"]["by_window"][0]["n"], len(scores[0]))
    ck.eq("window 1 scored", w1["n"], len(scores[1]))
    ck.num("psi", w1["vs_reference"]["psi"], psi)
    ck.num("js", w1["vs_reference"]["js_distance"], js)
    check_calibration(ck, rep, vs)
    check_qa(ck, rep, vs)
    if ck.errors:
        print("\n".join(ck.errors))
        return 1
    print("oracle: %d figures match to %g (kappa %.6f, psi %.6f, js %.6f)"
          % (ck.checked, TOL, rep["agreement"]["overall"]["kappa"], psi, js))
    return 0


if __name__ == "__main__":
    sys.exit(main())
