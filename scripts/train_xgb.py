#!/usr/bin/python3
"""train_xgb.py - make the XGBoost reference vectors for tests/unit/test_xgb_*.c.

Reads the caret-encoded Statlog German Credit CSV (1000 rows; numeric
columns plus 0/1 one-hot columns, label Class Good/Bad), uses every column
except Class as a float32 feature (the CSV is already one-hot, so the 61
columns are the feature vector, in file order), and trains with Debian 12's
python3-xgboost (1.7.4):

  credit_small.json      binary:logistic, P(Good), 20 trees, depth 4
  credit_small_reg.json  reg:squarederror, target Duration (its feature
                         column is set to NaN for training), 10 trees, depth 3

Both are saved with Booster.save_model("....json").  The reference
predictions are written to credit_small_preds.csv / credit_small_reg_preds.csv:
one header line, then per row: expected prediction (output_margin=False),
expected margin (output_margin=True), then the 61 features; numbers %.17g,
missing features as "nan".  For the classifier, also
credit_small_contribs_approx.csv: predict(pred_contribs=True,
approx_contribs=True) for the same rows in the same order, one header line
(the feature names, then "bias"), then 62 values per row (%.9g, which
round-trips float32): the 61 contributions and the bias last, and
credit_small_contribs_exact.csv, the same for predict(pred_contribs=True)
(exact TreeSHAP).

  credit_multi.json      multi:softprob, 3 classes from
                         InstallmentRatePercentage (1-2 -> 0, 3 -> 1, 4 -> 2;
                         that feature set to NaN in training and in every
                         eval row), 12 rounds (36 trees), depth 3

with credit_multi_preds.csv: per row the 3 class probabilities p0..p2, the
3 margins m0..m2, then the 61 features; and credit_multi_contribs_approx.csv
/ credit_multi_contribs_exact.csv: per row one line per class, in class
order (so 3 lines per row): the class, then its 61 contributions and bias
(%.9g).

Rows: the first 120 CSV rows as they are, then 80 rows with ~25 % of
features set to NaN (fixed seed), plus one all-NaN row.

Not used at test time (tests read the committed files); needs
`apt-get install python3-xgboost` to regenerate.

Usage:  /usr/bin/python3 scripts/train_xgb.py [CSV] [--out-dir DIR]
        (defaults: <repo>/tests/vectors/german_credit.csv, tests/vectors/xgb)
"""
import csv
import os
import sys

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    ci = header.index("Class")
    names = [h for i, h in enumerate(header) if i != ci]
    x = np.array([[float(v) for i, v in enumerate(r) if i != ci] for r in body],
                 dtype=np.float32)
    y = np.array([1.0 if r[ci] == "Good" else 0.0 for r in body], dtype=np.float32)
    return names, x, y


def eval_rows(x):
    rng = np.random.RandomState(42)
    a = x[:120].copy()
    b = x[120:200].copy()
    b[rng.rand(*b.shape) < 0.25] = np.nan
    allnan = np.full((1, x.shape[1]), np.nan, dtype=np.float32)
    return np.vstack([a, b, allnan])


def write(out_dir, stem, names, params, rounds, xtr, ytr, xev):
    dtr = xgb.DMatrix(xtr, label=ytr, feature_names=names, missing=np.nan)
    bst = xgb.train(params, dtr, num_boost_round=rounds)
    bst.save_model(os.path.join(out_dir, stem + ".json"))
    dev = xgb.DMatrix(xev, feature_names=names, missing=np.nan)
    p = bst.predict(dev, output_margin=False)
    m = bst.predict(dev, output_margin=True)
    with open(os.path.join(out_dir, stem + "_preds.csv"), "w") as f:
        f.write("pred,margin," + ",".join(names) + "\n")
        for i in range(xev.shape[0]):
            vals = ["%.17g" % float(p[i]), "%.17g" % float(m[i])]
            vals += ["nan" if np.isnan(v) else "%.17g" % float(v) for v in xev[i]]
            f.write(",".join(vals) + "\n")
    return bst, dev


def write_contribs(out_dir, stem, names, bst, dev):
    """Approximate (Saabas) and exact (TreeSHAP) contributions for the rows
    of <stem>_preds.csv."""
    for kind, approx in (("approx", True), ("exact", False)):
        c = bst.predict(dev, pred_contribs=True, approx_contribs=approx)
        with open(os.path.join(out_dir, "%s_contribs_%s.csv" % (stem, kind)),
                  "w") as f:
            f.write(",".join(names) + ",bias\n")
            for row in c:
                f.write(",".join("%.9g" % float(v) for v in row) + "\n")


def write_multi(out_dir, names, params, rounds, xtr, ytr, xev):
    """multi:softprob: probabilities, margins and per-class contributions."""
    stem = "credit_multi"
    ncls = params["num_class"]
    dtr = xgb.DMatrix(xtr, label=ytr, feature_names=names, missing=np.nan)
    bst = xgb.train(params, dtr, num_boost_round=rounds)
    bst.save_model(os.path.join(out_dir, stem + ".json"))
    dev = xgb.DMatrix(xev, feature_names=names, missing=np.nan)
    p = bst.predict(dev, output_margin=False)
    m = bst.predict(dev, output_margin=True)
    with open(os.path.join(out_dir, stem + "_preds.csv"), "w") as f:
        f.write(",".join(["p%d" % k for k in range(ncls)] +
                         ["m%d" % k for k in range(ncls)] + names) + "\n")
        for i in range(xev.shape[0]):
            vals = ["%.17g" % float(v) for v in list(p[i]) + list(m[i])]
            vals += ["nan" if np.isnan(v) else "%.17g" % float(v) for v in xev[i]]
            f.write(",".join(vals) + "\n")
    for kind, approx in (("approx", True), ("exact", False)):
        c = bst.predict(dev, pred_contribs=True, approx_contribs=approx)
        assert c.shape == (xev.shape[0], ncls, len(names) + 1)
        with open(os.path.join(out_dir, "%s_contribs_%s.csv" % (stem, kind)),
                  "w") as f:
            f.write("class," + ",".join(names) + ",bias\n")
            for row in c:
                for k in range(ncls):
                    f.write("%d," % k +
                            ",".join("%.9g" % float(v) for v in row[k]) + "\n")


def main():
    args = sys.argv[1:]
    out_dir = os.path.join(ROOT, "tests", "vectors", "xgb")
    if "--out-dir" in args:
        i = args.index("--out-dir")
        out_dir = args[i + 1]
        del args[i:i + 2]
    csv_path = args[0] if args else os.path.join(ROOT, "tests", "vectors",
                                                 "german_credit.csv")
    names, x, y = load(csv_path)
    xev = eval_rows(x)
    base = {"tree_method": "exact", "seed": 7, "nthread": 1, "eta": 0.3}
    bst, dev = write(out_dir, "credit_small", names,
                     dict(base, objective="binary:logistic", max_depth=4), 20,
                     x, y, xev)
    write_contribs(out_dir, "credit_small", names, bst, dev)
    # Regression: predict Duration from the other features.
    d = names.index("Duration")
    xr = x.copy()
    yr = xr[:, d].copy()
    xr[:, d] = np.nan
    xevr = xev.copy()
    xevr[:, d] = np.nan
    write(out_dir, "credit_small_reg", names,
          dict(base, objective="reg:squarederror", max_depth=3), 10, xr, yr, xevr)
    # Three classes from the instalment rate (1-2, 3, 4), which is hidden.
    r = names.index("InstallmentRatePercentage")
    xm = x.copy()
    ym = np.where(xm[:, r] <= 2, 0, np.where(xm[:, r] == 3, 1, 2)).astype(np.float32)
    xm[:, r] = np.nan
    xevm = xev.copy()
    xevm[:, r] = np.nan
    write_multi(out_dir, names,
                dict(base, objective="multi:softprob", num_class=3, max_depth=3),
                12, xm, ym, xevm)
    print("xgboost", xgb.__version__, "->", out_dir)


if __name__ == "__main__":
    main()
