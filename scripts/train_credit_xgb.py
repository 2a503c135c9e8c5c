#!/usr/bin/python3
"""train_credit_xgb.py - train hitlqd's bundled credit_application model.

Reads the caret-encoded Statlog German Credit CSV (1000 rows: 7 numeric
columns, 0/1 flags and one-hot groups, label Class Good/Bad) and trains an
XGBoost binary:logistic model for P(Good) with Debian 12's python3-xgboost
(1.7.4) on the 61 CSV columns (file order, Class left out) as float32
features named after the columns.  Writes:

  server/score/defaults/credit_xgb.json     Booster.save_model (XGBoost JSON)
  server/score/defaults/credit_policy.json  the bundled policy: field schema,
                                      validation rules, the feature mapping
                                      from item fields to the 61 columns,
                                      bands, a hard rule, QA sample
  server/score/defaults/credit_profile.json  the reference profile for
                                      input drift (format below), named
                                      by the policy's "profile" key
  tests/vectors/credit_xgb_items.csv  reference predictions for the test
                                      of the whole item path: per CSV row,
                                      once with every field and once with
                                      one item field left out (its
                                      columns NaN, as hitlq's mapping does)

Hyper-parameters: 60 rounds, max_depth 3, eta 0.1, min_child_weight 2,
nthread 1, seed 0 (deterministic).  Before the final fit on all rows the
script prints 5-fold cross-validated AUC and the routing rates the policy
thresholds give on out-of-fold scores (so the rates are honest).

The reference profile ("format": "hitlq-profile", format_version 1) has,
per item field of the feature mapping (one per reason group, in mapping
order), the training data's distribution: a numeric field its deciles as
up to 9 strictly ascending inner edges (np.quantile, duplicates dropped)
and the count of rows per bin (bin = number of edges <= value), a boolean
or one-hot field its categories (the value's string form: "true"/"false",
the one-hot level) with their counts, sorted bytewise; each with the count
of missing values, plus n (rows) and a version.  hitlqd bins each item
the same way (server/score/profile.c; proto/AUDIT-FORMAT.md §3.4).

Not used at build or test time (the outputs are committed); needs
`apt-get install python3-xgboost` to re-run:

    /usr/bin/python3 scripts/train_credit_xgb.py [CSV]
"""
import csv
import json
import os
import sys

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PARAMS = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.1,
          "min_child_weight": 2, "nthread": 1, "seed": 0,
          "eval_metric": "auc"}
ROUNDS = 60
AUTO_APPROVE = 0.85
AUTO_REJECT = 0.25
AUTHORITY_LIMIT = 15000

NUMERIC = [("duration_months", "Duration", "integer", 1, 120),
           ("amount", "Amount", "number", 1, 1000000),
           ("installment_rate", "InstallmentRatePercentage", "integer", 1, 4),
           ("residence_years", "ResidenceDuration", "integer", 1, 4),
           ("age", "Age", "integer", 18, 120),
           ("existing_credits", "NumberExistingCredits", "integer", 0, 10),
           ("dependents", "NumberPeopleMaintenance", "integer", 0, 10)]
GROUPS = [("checking_account", "CheckingAccountStatus"),
          ("credit_history", "CreditHistory"), ("purpose", "Purpose"),
          ("savings", "SavingsAccountBonds"),
          ("employment", "EmploymentDuration"), ("personal", "Personal"),
          ("other_debtors", "OtherDebtorsGuarantors"),
          ("property", "Property"),
          ("other_installment_plans", "OtherInstallmentPlans"),
          ("housing", "Housing"), ("job", "Job")]


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


def auc(y, p):
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    pos = y == 1
    return (ranks[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum())


def cross_validate(names, x, y):
    idx = np.random.RandomState(7).permutation(len(y))
    oof = np.zeros(len(y))
    for k in range(5):
        test = idx[k::5]
        train = np.setdiff1d(idx, test)
        d = xgb.DMatrix(x[train], label=y[train], feature_names=names)
        b = xgb.train(PARAMS, d, ROUNDS)
        oof[test] = b.predict(xgb.DMatrix(x[test], feature_names=names))
    app, rej = oof >= AUTO_APPROVE, oof <= AUTO_REJECT
    print("5-fold CV AUC %.3f; out-of-fold routing: auto-approve %.1f%% (bad among them "
          "%.1f%%), auto-reject %.1f%% (good among them %.1f%%), review %.1f%%" % (
              auc(y, oof), 100 * app.mean(), 100 * (1 - y[app].mean()), 100 * rej.mean(),
              100 * y[rej].mean(), 100 * (1 - app.mean() - rej.mean())), file=sys.stderr)


def mapping(names):
    feats = [{"feature": col, "field": f} for f, col, _, _, _ in NUMERIC]
    feats.append({"feature": "Telephone", "field": "telephone",
                  "map": {"true": 0, "false": 1}})
    feats.append({"feature": "ForeignWorker", "field": "foreign_worker",
                  "map": {"true": 1, "false": 0}})
    for f, g in GROUPS:
        cols = [n for n in names if n.startswith(g + ".")]
        feats.append({"field": f, "one_hot": {c[len(g) + 1:]: c for c in cols}})
    return feats


def fields_schema(names):
    fields = {}
    for f, _, t, lo, hi in NUMERIC:
        fields[f] = {"type": t, "required": True, "min": lo, "max": hi}
    fields["telephone"] = {"type": "boolean"}
    fields["foreign_worker"] = {"type": "boolean", "required": True}
    for f, g in GROUPS:
        vals = [n[len(g) + 1:] for n in names if n.startswith(g + ".")]
        fields[f] = {"type": "string", "values": vals, "missing": ["", "unknown"],
                     "required": f in ("checking_account", "credit_history", "purpose")}
    return fields


def policy(names):
    return {
        "format": "hitlq-policy", "format_version": 1, "id": "default", "version": "2",
        "description": "Bundled example: XGBoost credit model (scripts/train_credit_xgb.py)",
        "types": {"credit_application": {
            "model": "credit_xgb.json", "model_id": "credit_xgb", "model_version": "1",
            "profile": "credit_profile.json",
            "auto_threshold": AUTO_APPROVE, "auto_action": "approve",
            "auto_reject_threshold": AUTO_REJECT, "reject_action": "reject",
            "queue": "credit_review", "priority": 100, "sla_seconds": 14400,
            "bands": [{"min_score": 0.6, "priority": 50, "sla_seconds": 28800},
                      {"min_score": 0.0, "priority": 100, "sla_seconds": 14400}],
            "hard_rules": [{"id": "over_authority_limit", "field": "amount", "op": ">",
                            "value": AUTHORITY_LIMIT, "queue": "credit_senior",
                            "priority": 200}],
            "data_quality": {"queue": "credit_data_quality", "priority": 150,
                             "sla_seconds": 28800},
            "qa_sample": {"rate": 0.02, "queue": "credit_qa", "seed": "hitlq-default-qa-1",
                          "priority": 10, "sla_seconds": 604800},
            "explain": {"auto": "approx", "review": "exact"},
            "fields": fields_schema(names),
            "checks": [{"id": "residence_within_age", "field": "residence_years", "op": "<=",
                        "field2": "age",
                        "message": "years at the residence exceed the applicant's age"}],
            "features": mapping(names)}}}


def item_columns(names):
    """item field -> list of CSV column indices it feeds."""
    cols = {}
    for f, col, _, _, _ in NUMERIC:
        cols[f] = [names.index(col)]
    cols["telephone"] = [names.index("Telephone")]
    cols["foreign_worker"] = [names.index("ForeignWorker")]
    for f, g in GROUPS:
        cols[f] = [i for i, n in enumerate(names) if n.startswith(g + ".")]
    return cols


def bool_field(x, names, col, true_value):
    v = x[:, names.index(col)]
    return ["true" if c == true_value else "false" for c in v]


def categorical(values):
    cats = sorted(set(values), key=lambda c: c.encode())
    return {"kind": "categorical", "categories": cats,
            "counts": [int(sum(1 for v in values if v == c)) for c in cats], "missing": 0}


def profile(names, x):
    """The reference profile of the training rows x (see the top)."""
    feats = []
    for f, col, _, _, _ in NUMERIC:
        v = x[:, names.index(col)].astype(np.float64)
        edges = np.unique(np.quantile(v, np.arange(1, 10) / 10.0))
        counts = np.bincount(np.searchsorted(edges, v, side="right"),
                             minlength=len(edges) + 1)
        feats.append({"field": f, "kind": "numeric", "edges": [float(e) for e in edges],
                      "counts": [int(c) for c in counts], "missing": 0})
    feats.append(dict(field="telephone", **categorical(bool_field(x, names, "Telephone", 0))))
    feats.append(dict(field="foreign_worker",
                      **categorical(bool_field(x, names, "ForeignWorker", 1))))
    for f, g in GROUPS:
        cols = [i for i, n in enumerate(names) if n.startswith(g + ".")]
        vals = [names[cols[int(np.argmax(r[cols]))]][len(g) + 1:] for r in x]
        assert all(r[cols].sum() == 1 for r in x), "one-hot group %s not one level" % g
        feats.append(dict(field=f, **categorical(vals)))
    return {"format": "hitlq-profile", "format_version": 1, "version": "credit_xgb@1/1",
            "description": "German credit training data (scripts/train_credit_xgb.py)",
            "n": int(len(x)), "features": feats}


def main():
    csv_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        ROOT, "tests", "vectors", "german_credit.csv")
    names, x, y = load(csv_path)
    cross_validate(names, x, y)
    bst = xgb.train(PARAMS, xgb.DMatrix(x, label=y, feature_names=names), ROUNDS)
    out_dir = os.path.join(ROOT, "server", "score", "defaults")
    bst.save_model(os.path.join(out_dir, "credit_xgb.json"))
    with open(os.path.join(out_dir, "credit_policy.json"), "w") as f:
        json.dump(policy(names), f, indent=1)
        f.write("\n")
    with open(os.path.join(out_dir, "credit_profile.json"), "w") as f:
        json.dump(profile(names, x), f, indent=1)
        f.write("\n")
    fields = list(item_columns(names).items())
    rows, drops = [], []
    for i in range(len(x)):
        rows.append(x[i].copy())
        drops.append("-")
        f, cols = fields[i % len(fields)]
        r = x[i].copy()
        r[cols] = np.nan
        rows.append(r)
        drops.append(f)
    m = np.array(rows, dtype=np.float32)
    d = xgb.DMatrix(m, feature_names=names, missing=np.nan)
    pred, margin = bst.predict(d), bst.predict(d, output_margin=True)
    full = bst.predict(xgb.DMatrix(x, feature_names=names))
    print("bundled model (fit on all rows): auto-approve %.1f%%, auto-reject %.1f%%" % (
        100 * (full >= AUTO_APPROVE).mean(), 100 * (full <= AUTO_REJECT).mean()),
        file=sys.stderr)
    out = os.path.join(ROOT, "tests", "vectors", "credit_xgb_items.csv")
    with open(out, "w") as f:
        f.write("row,dropped_field,pred,margin\n")
        for k in range(len(rows)):
            f.write("%d,%s,%.17g,%.17g\n" % (k // 2 + 1, drops[k], pred[k], margin[k]))


if __name__ == "__main__":
    main()
