/*
 * model_tree.c - the XGBoost tree model kind: wraps the JSON evaluator
 * (model_xgb.c) behind `struct model`, builds each item's feature vector
 * with its type's feature mapping (featmap.c), and turns per-feature
 * contributions into reason codes grouped by mapping entry (one reason per
 * item field: a one-hot group's contributions are summed).
 *
 * The score is the model's probability (binary:logistic, reg:logistic, or
 * one class of multi:softprob): policies compare it with thresholds in
 * [0, 1], so objectives with unbounded outputs are refused by
 * model_tree_bind.  Reason codes are the 1-based index of the mapping
 * entry.  Contributions: path attribution (Saabas, SCORE_METHOD_APPROX)
 * or path-dependent TreeSHAP (SCORE_METHOD_EXACT), as XGBoost's
 * pred_contribs with approx_contribs True / False.
 *
 * Scoring allocates nothing: the vectors live on the stack, bounded by
 * TREE_MAX_FEATURES (checked at load).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "featmap.h"
#include "model_xgb.h"
#include "score.h"

#define TREE_MAX_FEATURES 2048u

static int tree_fail(struct score_result *out, const char *what)
{
    snprintf(out->err, sizeof out->err, "%s", what);
    return HITLQ_ST_INTERNAL;
}

/* Picks out->reasons from the per-input contributions (score_pick_reasons:
 * the largest present ones and every missing input). */
static void tree_pick_reasons(const struct featmap *fm, const double *gphi,
                              const msgpack_object *const *vals, struct score_result *out)
{
    size_t n_in = featmap_n_inputs(fm);
    const char *names[TREE_MAX_FEATURES];
    bool missing[TREE_MAX_FEATURES];

    for (size_t i = 0; i < n_in && i < TREE_MAX_FEATURES; i++) {
        names[i] = featmap_input_field(fm, i);
        missing[i] = vals[i] == NULL;
    }
    score_pick_reasons(out, n_in < TREE_MAX_FEATURES ? n_in : TREE_MAX_FEATURES, gphi, vals,
                       missing, names);
}

static int tree_score(const struct model *m, const struct type_policy *tp,
                      const msgpack_object *fields, int method, struct score_result *out)
{
    const struct xgb_model *xm = m->impl;
    const struct featmap *fm = tp->featmap;
    size_t nf = xgb_num_feature(xm), n_in = featmap_n_inputs(fm);
    float x[TREE_MAX_FEATURES];
    double phi[TREE_MAX_FEATURES + 1], gphi[TREE_MAX_FEATURES];
    const msgpack_object *vals[TREE_MAX_FEATURES];
    bool exact = method == SCORE_METHOD_EXACT;
    int rc;

    out->n_reasons = 0;
    out->err[0] = '\0';
    if (fields->type != MSGPACK_OBJECT_MAP) {
        snprintf(out->err, sizeof out->err, "fields: expected a map");
        return HITLQ_ST_INVALID_ITEM;
    }
    size_t missing = featmap_apply(fm, fields, x, vals);
    if (exact) {
        out->score = xgb_predict_class(xm, x, tp->score_class, &out->margin);
        rc = xgb_contribs_exact_class(xm, x, tp->score_class, phi);
    } else {        /* one pass over the trees: same bits as the two calls */
        /* cannot fail: model_tree_bind checked the class and that the
         * model has sum_hessian */
        out->score = xgb_predict_approx_class(xm, x, tp->score_class, &out->margin, phi);
        rc = 0;
    }
    if (rc != 0)
        return tree_fail(out, "contributions failed");
    memset(gphi, 0, n_in * sizeof gphi[0]);
    for (size_t j = 0; j < nf; j++)
        gphi[featmap_input_of(fm, j)] += phi[j];
    out->base_margin = phi[nf];
    out->complete = missing == 0 && isfinite(out->score);
    out->method = exact ? SCORE_METHOD_EXACT : SCORE_METHOD_APPROX;
    tree_pick_reasons(fm, gphi, vals, out);
    return HITLQ_ST_OK;
}

static void tree_free(struct model *m)
{
    xgb_free(m->impl);
    m->impl = NULL;
}

static const struct model_ops tree_ops = {
    .kind  = "xgboost",
    .score = tree_score,
    .free  = tree_free,
};

bool model_is_tree(const struct model *m)
{
    return m != NULL && m->ops == &tree_ops;
}

struct model *model_tree_load(const char *json, size_t len, const char *id,
                              char *err, size_t errlen)
{
    struct model *m = calloc(1, sizeof *m);           /* owned; returned */
    struct xgb_model *xm;                              /* owned by m */

    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if ((xm = xgb_load(json, len, err, errlen)) == NULL) {
        free(m);
        return NULL;
    }
    if (xgb_num_feature(xm) == 0 || xgb_num_feature(xm) > TREE_MAX_FEATURES ||
        EVP_Digest(json, len, m->digest, NULL, EVP_sha256(), NULL) != 1) {
        snprintf(err, errlen, "the model must have 1..%u features", TREE_MAX_FEATURES);
        xgb_free(xm);
        free(m);
        return NULL;
    }
    snprintf(m->id, sizeof m->id, "%s", id);
    m->ops = &tree_ops;
    m->impl = xm;
    return m;
}

int model_tree_bind(const struct model *m, struct type_policy *tp, const char *where,
                    char *err, size_t errlen)
{
    const struct xgb_model *xm = m->impl;
    const char *obj = xgb_objective(xm);
    const char *names[TREE_MAX_FEATURES];
    size_t n = xgb_num_feature(xm);

    if (strcmp(obj, "binary:logistic") != 0 && strcmp(obj, "reg:logistic") != 0 &&
        strcmp(obj, "multi:softprob") != 0) {
        snprintf(err, errlen, "%s: objective \"%s\" does not give a probability; a "
                 "policy model must be binary:logistic, reg:logistic or multi:softprob",
                 where, obj);
        return -1;
    }
    if (tp->score_class >= xgb_num_class(xm)) {
        snprintf(err, errlen, "%s: \"score_class\" %zu is out of range (the model has "
                 "%zu classes)", where, tp->score_class, xgb_num_class(xm));
        return -1;
    }
    if (!xgb_has_contribs(xm)) {
        snprintf(err, errlen, "%s: the model has no sum_hessian (cover) in its trees; "
                 "reason codes need it (save the model with XGBoost >= 1.0 JSON)", where);
        return -1;
    }
    if (tp->featmap == NULL) {
        snprintf(err, errlen, "%s: a tree model needs the type's \"features\" mapping",
                 where);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        names[i] = xgb_feature_name(xm, i);
    return featmap_bind(tp->featmap, names, n, where, err, errlen);
}
