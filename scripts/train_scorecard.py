#!/usr/bin/env python3
"""train_scorecard.py - train the default credit_application scorecard.

Reads the caret-encoded Statlog German Credit CSV (1000 rows, one-hot
columns, label Class Good/Bad), turns every row into a hitlq
`credit_application` item (the item shape below), fits an L2-regularised
logistic regression for P(Good) with Newton/IRLS, folds the
standardisation back into raw-unit weights and writes

    server/score/defaults/credit_scorecard.json   (format: scripts/README-model.md)
    server/score/defaults/scorecard_policy.json   (auto_threshold chosen below; the
                                            bundled default policy is made by
                                            scripts/train_credit_xgb.py)

Python 3 standard library only; the output is byte-for-byte deterministic.

Usage:  python3 scripts/train_scorecard.py [CSV] [--out-dir DIR]
        (CSV defaults to <repo>/tests/vectors/german_credit.csv)

Item shape of `credit_application` (the `fields` map of SUBMIT)
----------------------------------------------------------------
numbers (int or float):
    duration_months   <- Duration
    amount            <- Amount
    installment_rate  <- InstallmentRatePercentage
    residence_years   <- ResidenceDuration
    age               <- Age
    existing_credits  <- NumberExistingCredits
    dependents        <- NumberPeopleMaintenance
booleans (true/false; 0/1 accepted):
    telephone         <- Telephone == 0   (caret codes 1 = "none", i.e. the
                                           original level A191; so
                                           telephone = true means the
                                           applicant has a registered phone)
    foreign_worker    <- ForeignWorker == 1
categorical strings (value = CSV column name after "<Group>."):
    checking_account  <- CheckingAccountStatus.*   lt.0 0.to.200 gt.200 none
    credit_history    <- CreditHistory.*
    purpose           <- Purpose.*                 NewCar UsedCar ...
    savings           <- SavingsAccountBonds.*
    employment        <- EmploymentDuration.*
    personal          <- Personal.*
    other_debtors     <- OtherDebtorsGuarantors.*
    property          <- Property.*
    other_installment_plans <- OtherInstallmentPlans.*
    housing           <- Housing.*
    job               <- Job.*
A row whose one-hot group is all zero (caret drops a level in some
releases; this CSV has every level) maps to the group's DROPPED_LEVEL
below; a row with two ones in a group is an error.
"""

import csv
import hashlib
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_CSV = os.path.join(REPO, "tests", "vectors", "german_credit.csv")

NUMERIC = [
    ("duration_months", "Duration"),
    ("amount", "Amount"),
    ("installment_rate", "InstallmentRatePercentage"),
    ("residence_years", "ResidenceDuration"),
    ("age", "Age"),
    ("existing_credits", "NumberExistingCredits"),
    ("dependents", "NumberPeopleMaintenance"),
]
BOOLEAN = [
    ("telephone", "Telephone", 0),        # true when the CSV flag is 0
    ("foreign_worker", "ForeignWorker", 1),
]
CATEGORICAL = [
    ("checking_account", "CheckingAccountStatus"),
    ("credit_history", "CreditHistory"),
    ("purpose", "Purpose"),
    ("savings", "SavingsAccountBonds"),
    ("employment", "EmploymentDuration"),
    ("personal", "Personal"),
    ("other_debtors", "OtherDebtorsGuarantors"),
    ("property", "Property"),
    ("other_installment_plans", "OtherInstallmentPlans"),
    ("housing", "Housing"),
    ("job", "Job"),
]
# Level used when a row's group is all zero (the level caret's
# dummyVars/fullRank encoding drops: the last one of each group).
DROPPED_LEVEL = {
    "CheckingAccountStatus": "none",
    "CreditHistory": "Critical",
    "Purpose": "Other",
    "SavingsAccountBonds": "Unknown",
    "EmploymentDuration": "Unemployed",
    "Personal": "Female.Single",
    "OtherDebtorsGuarantors": "Guarantor",
    "Property": "Unknown",
    "OtherInstallmentPlans": "None",
    "Housing": "ForFree",
    "Job": "Management.SelfEmp.HighlyQualified",
}

L2_LAMBDA = 1.0          # on standardised / one-hot weights, not the bias
NEWTON_ITERS = 50
HOLDOUT_FROM = 800       # rows 0..799 train, 800..999 test
# Threshold rule: the smallest multiple of 0.01 whose auto-approvals on
# the hold-out rows are >= TARGET_PRECISION Good, provided the full-data
# auto-resolve rate stays within [MIN_AUTO, MAX_AUTO].
TARGET_PRECISION = 0.90
MIN_AUTO, MAX_AUTO = 0.40, 0.60


# ---- CSV -> items -----------------------------------------------------------

def read_csv(path):
    """Returns (header, rows) with rows as dicts of strings."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def number(text):
    v = float(text)
    return int(v) if v == int(v) else v


def levels_of(header, group):
    prefix = group + "."
    return [c[len(prefix):] for c in header if c.startswith(prefix)]


def row_to_fields(header, row):
    """The `fields` map of one CSV row (see the module docstring)."""
    fields = {}
    for name, col in NUMERIC:
        fields[name] = number(row[col])
    for name, col, true_value in BOOLEAN:
        fields[name] = int(float(row[col])) == true_value
    for name, group in CATEGORICAL:
        hot = [lv for lv in levels_of(header, group)
               if int(float(row[group + "." + lv])) == 1]
        if len(hot) > 1:
            raise ValueError("row has several levels of %s: %s" % (group, hot))
        fields[name] = hot[0] if hot else DROPPED_LEVEL[group]
    return fields


def row_label(row):
    if row["Class"] not in ("Good", "Bad"):
        raise ValueError("bad Class %r" % row["Class"])
    return 1 if row["Class"] == "Good" else 0


def all_levels(header):
    """Category vocabulary per field, in CSV column order (+ dropped level)."""
    out = {}
    for name, group in CATEGORICAL:
        lv = levels_of(header, group)
        if DROPPED_LEVEL[group] not in lv:
            lv.append(DROPPED_LEVEL[group])
        out[name] = lv
    return out


# ---- design matrix --------------------------------------------------------

def design(items, vocab, stats):
    """Rows of standardised numerics/booleans then one-hot categoricals."""
    X = []
    for f in items:
        x = []
        for name, _ in NUMERIC:
            m, s = stats[name]
            x.append((f[name] - m) / s)
        for name, _, _ in BOOLEAN:
            m, s = stats[name]
            x.append(((1.0 if f[name] else 0.0) - m) / s)
        for name, _ in CATEGORICAL:
            x.extend(1.0 if f[name] == lv else 0.0 for lv in vocab[name])
        X.append(x)
    return X


def column_stats(items):
    """Mean and population standard deviation of numerics and booleans."""
    stats = {}
    names = [n for n, _ in NUMERIC] + [n for n, _, _ in BOOLEAN]
    for name in names:
        vals = [float(f[name]) for f in items]
        m = math.fsum(vals) / len(vals)
        s = math.sqrt(math.fsum((v - m) ** 2 for v in vals) / len(vals))
        stats[name] = (m, s if s > 0 else 1.0)
    return stats


# ---- logistic regression (Newton / IRLS) -------------------------------------

def sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def solve(A, b):
    """Solves A x = b (A symmetric positive definite) by Gaussian elimination."""
    n = len(b)
    M = [row[:] + [b[i]] for i, row in enumerate(A)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(M[r][c]))
        M[c], M[p] = M[p], M[c]
        piv = M[c][c]
        for r in range(c + 1, n):
            f = M[r][c] / piv
            if f:
                Mr, Mc = M[r], M[c]
                for k in range(c, n + 1):
                    Mr[k] -= f * Mc[k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (M[r][n] - sum(M[r][k] * x[k] for k in range(r + 1, n))) / M[r][r]
    return x


def fit_logistic(X, y, lam):
    """Returns weights w (w[0] = bias) minimising log-loss + lam/2 |w[1:]|^2."""
    n, d = len(X), len(X[0]) + 1
    Z = [[1.0] + x for x in X]
    w = [0.0] * d
    for _ in range(NEWTON_ITERS):
        g = [0.0] * d
        H = [[0.0] * d for _ in range(d)]
        for z, t in zip(Z, y):
            p = sigmoid(sum(a * b for a, b in zip(w, z)))
            r, h = p - t, p * (1.0 - p)
            for i in range(d):
                if z[i]:
                    g[i] += r * z[i]
                    hz = h * z[i]
                    Hi = H[i]
                    for j in range(i, d):
                        if z[j]:
                            Hi[j] += hz * z[j]
        for i in range(d):
            for j in range(i):
                H[i][j] = H[j][i]
            if i:
                g[i] += lam * w[i]
                H[i][i] += lam
        step = solve(H, g)
        w = [a - b for a, b in zip(w, step)]
        if max(abs(s) for s in step) < 1e-12:
            break
    return w


# ---- the scorecard --------------------------------------------------------

def build_scorecard(items, vocab, stats, w):
    """Folds standardisation back into raw units; returns (bias, features)."""
    bias = w[0]
    feats = []
    k = 1
    for name, _ in NUMERIC:
        m, s = stats[name]
        feats.append({"field": name, "kind": "numeric",
                      "weight": w[k] / s, "mean": m})
        bias -= w[k] / s * m
        k += 1
    for name, _, _ in BOOLEAN:
        m, s = stats[name]
        feats.append({"field": name, "kind": "boolean",
                      "weight": w[k] / s, "mean": m})
        bias -= w[k] / s * m
        k += 1
    for name, _ in CATEGORICAL:
        weights = {}
        for lv in vocab[name]:
            weights[lv] = w[k]
            k += 1
        base = math.fsum(weights[f[name]] for f in items) / len(items)
        feats.append({"field": name, "kind": "categorical",
                      "weights": weights, "baseline": base})
    return bias, feats


def card_margin(bias, feats, f):
    """bias + sum w*x + sum w_cat[v]: the reference evaluation."""
    z = bias
    for ft in feats:
        v = f[ft["field"]]
        if ft["kind"] == "categorical":
            z += ft["weights"][v]
        else:
            z += ft["weight"] * (1.0 if v is True else 0.0 if v is False else v)
    return z


def auc(scores, labels):
    """Mann-Whitney AUC with average ranks for ties."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    pos = sum(labels)
    neg = len(labels) - pos
    rsum = math.fsum(r for r, t in zip(ranks, labels) if t)
    return (rsum - pos * (pos + 1) / 2.0) / (pos * neg)


def accuracy(scores, labels):
    return sum(1 for s, t in zip(scores, labels) if (s >= 0.5) == bool(t)) / len(labels)


def auto_stats(scores, labels, t):
    """(auto-resolve rate, precision of auto-approvals) at threshold t."""
    auto = [lab for s, lab in zip(scores, labels) if s >= t]
    if not auto:
        return 0.0, 1.0
    return len(auto) / len(scores), sum(auto) / len(auto)


def fit(items, labels, vocab):
    stats = column_stats(items)
    w = fit_logistic(design(items, vocab, stats), labels, L2_LAMBDA)
    bias, feats = build_scorecard(items, vocab, stats, w)
    scores = [sigmoid(card_margin(bias, feats, f)) for f in items]
    return bias, feats, scores


def choose_threshold(hold_scores, hold_labels, full_scores, full_labels):
    for i in range(50, 100):
        t = i / 100.0
        rate, prec = auto_stats(hold_scores, hold_labels, t)
        full_rate, _ = auto_stats(full_scores, full_labels, t)
        if prec >= TARGET_PRECISION and MIN_AUTO <= full_rate <= MAX_AUTO:
            return t
    raise SystemExit("no threshold meets the precision/auto-rate target")


# ---- output ---------------------------------------------------------------

def write_json(path, obj):
    text = json.dumps(obj, indent=1, ensure_ascii=True, allow_nan=False) + "\n"
    with open(path, "w", newline="\n") as f:
        f.write(text)


def main(argv):
    args = argv[1:]
    out_dir = os.path.join(REPO, "server", "defaults")
    if "--out-dir" in args:
        i = args.index("--out-dir")
        out_dir = args[i + 1]
        del args[i:i + 2]
    csv_path = args[0] if args else DEFAULT_CSV
    with open(csv_path, "rb") as f:
        data_sha = hashlib.sha256(f.read()).hexdigest()
    header, rows = read_csv(csv_path)
    items = [row_to_fields(header, r) for r in rows]
    labels = [row_label(r) for r in rows]
    vocab = all_levels(header)

    # 1. fixed 80/20 split by row index: honest hold-out figures
    tb, tf, _ = fit(items[:HOLDOUT_FROM], labels[:HOLDOUT_FROM], vocab)
    hold = [sigmoid(card_margin(tb, tf, f)) for f in items[HOLDOUT_FROM:]]
    hl = labels[HOLDOUT_FROM:]
    # 2. the shipped model: all rows
    bias, feats, scores = fit(items, labels, vocab)

    t = choose_threshold(hold, hl, scores, labels)
    h_rate, h_prec = auto_stats(hold, hl, t)
    f_rate, f_prec = auto_stats(scores, labels, t)
    r = lambda v: round(v, 4)
    training = {
        "data": os.path.basename(csv_path), "data_sha256": data_sha,
        "rows": len(rows), "target": "P(Class == Good)",
        "method": "logistic regression, L2 lambda=%g on standardised "
                  "numerics/booleans and one-hot categoricals (bias "
                  "unpenalised), Newton/IRLS; folded back to raw units"
                  % L2_LAMBDA,
        "holdout": {"train_rows": "0-%d" % (HOLDOUT_FROM - 1),
                    "test_rows": "%d-%d" % (HOLDOUT_FROM, len(rows) - 1),
                    "auc": r(auc(hold, hl)), "accuracy": r(accuracy(hold, hl)),
                    "auto_rate": r(h_rate), "auto_precision": r(h_prec)},
        "full": {"auc": r(auc(scores, labels)),
                 "accuracy": r(accuracy(scores, labels)),
                 "auto_rate": r(f_rate), "auto_precision": r(f_prec)},
        "auto_threshold": t,
        "script": "scripts/train_scorecard.py",
    }
    card = {"format": "hitlq-scorecard", "format_version": 1,
            "id": "credit_scorecard", "version": "1", "link": "logistic",
            "bias": bias, "features": feats, "training": training}
    policy = {"format": "hitlq-policy", "format_version": 1,
              "id": "scorecard_example", "version": "1",
              "types": {"credit_application": {
                  "model": "credit_scorecard.json", "auto_threshold": t,
                  "auto_action": "approve", "actions": ["reject"],
                  "queue": "credit_review", "escalate_to": ["credit_senior"],
                  "priority": 100, "sla_seconds": 14400}}}
    os.makedirs(out_dir, exist_ok=True)
    write_json(os.path.join(out_dir, "credit_scorecard.json"), card)
    write_json(os.path.join(out_dir, "scorecard_policy.json"), policy)

    print("hold-out (rows %d-%d, model fit on 0-%d): AUC %.4f  accuracy %.4f"
          % (HOLDOUT_FROM, len(rows) - 1, HOLDOUT_FROM - 1,
             auc(hold, hl), accuracy(hold, hl)))
    print("full data (shipped model, in-sample):    AUC %.4f  accuracy %.4f"
          % (auc(scores, labels), accuracy(scores, labels)))
    print("auto_threshold %.2f: hold-out auto-resolve %.1f%% precision %.1f%%;"
          " all rows auto-resolve %.1f%% precision %.1f%%"
          % (t, 100 * h_rate, 100 * h_prec, 100 * f_rate, 100 * f_prec))
    print("wrote %s/credit_scorecard.json and scorecard_policy.json" % out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
