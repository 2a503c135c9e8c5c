/*
 * test_xgb_eval.c - the standalone XGBoost JSON evaluator
 * (server/score/model/model_xgb.c, xgb_shap.c) against reference outputs of
 * Debian's xgboost 1.7.4 (tests/vectors/xgb, made by scripts/train_xgb.py;
 * rows with missing features and an all-NaN row included; tests/lib/
 * xgb_util.h):
 *
 *  - predictions and margins of a binary:logistic, a reg:squarederror and
 *    a 3-class multi:softprob model (every class);
 *  - Saabas and exact TreeSHAP contributions (every class of the
 *    multi-class model) within 1e-5, summing to the margin;
 *  - TreeSHAP of every classifier tree, alone, against the Shapley values
 *    computed from their definition over all feature subsets.
 *
 * Run from the repo root.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "model_xgb.h"
#include "tutil.h"
#include "xgb_util.h"

/* ---- predictions ----------------------------------------------------------- */

/* Compares every row of a *_preds.csv (pred, margin, XGBU_NFEAT features). */
static void check_preds(const struct xgb_model *m, const char *csv, double tol)
{
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    char line[8192];
    assert_non_null(fgets(line, sizeof line, f));          /* header */
    int rows = 0, missing_rows = 0;
    double worst = 0, worst_margin = 0;
    while (fgets(line, sizeof line, f)) {
        float x[XGBU_NFEAT];
        double want[2];
        char *p = line, *end;
        int nan_here = 0;
        for (int i = 0; i < 2 + XGBU_NFEAT; i++) {
            double v = strtod(p, &end);
            assert_true(end != p);
            if (i < 2)
                want[i] = v;
            else {
                x[i - 2] = (float)v;
                nan_here |= isnan(v);
            }
            p = *end == ',' ? end + 1 : end;
        }
        double margin, got = xgb_predict(m, x, &margin);
        double d = fabs(got - want[0]), dm = fabs(margin - want[1]);
        if (d > tol || dm > tol)
            fail_msg("%s row %d: got %.17g (margin %.17g), want %.17g (margin %.17g)",
                     csv, rows + 1, got, margin, want[0], want[1]);
        worst = d > worst ? d : worst;
        worst_margin = dm > worst_margin ? dm : worst_margin;
        rows++;
        missing_rows += nan_here;
    }
    fclose(f);
    print_message("%s: %d rows (%d with missing features), max |diff| %.3g, "
                  "margin %.3g\n", csv, rows, missing_rows, worst, worst_margin);
    assert_true(rows >= 200);
    assert_true(missing_rows >= 50);
}

static void test_credit_logistic(void **state)
{
    (void)state;
    struct xgb_model *m = xgbu_load(XGBU_CLS_MODEL);
    assert_int_equal(xgb_num_feature(m), XGBU_NFEAT);
    assert_int_equal(xgb_num_trees(m), 20);
    assert_string_equal(xgb_objective(m), "binary:logistic");
    assert_string_equal(xgb_feature_name(m, 0), "Duration");
    assert_string_equal(xgb_feature_name(m, 60), "Job.Management.SelfEmp.HighlyQualified");
    assert_null(xgb_feature_name(m, 61));
    check_preds(m, XGBU_VEC_DIR "credit_small_preds.csv", 1e-6);
    xgb_free(m);
}

/* ---- contributions --------------------------------------------------------- */

typedef int (*contribs_fn)(const struct xgb_model *, const float *, size_t, double *);

/* Contributions of every row of <stem>_preds.csv against <contribs_csv>
 * (same rows, same order), within tol of the file and summing to the
 * margin within 1e-5.  Single-output files: one line per row (the 61
 * contributions, bias last).  Multi-class files: a leading class column
 * and one line per class, classes in order.  Returns the worst |diff|. */
static double check_contribs(const struct xgb_model *m, const char *preds_csv,
                             const char *contribs_csv, contribs_fn fn, double tol)
{
    size_t ncls = xgb_num_class(m), lead = ncls > 1 ? 2 * ncls : 2;
    size_t skip = ncls > 1 ? 1 : 0;
    FILE *fp = fopen(preds_csv, "r"), *fc = fopen(contribs_csv, "r");
    assert_non_null(fp);
    assert_non_null(fc);
    static char lp[8192], lc[8192];
    assert_non_null(fgets(lp, sizeof lp, fp));
    assert_non_null(fgets(lc, sizeof lc, fc));
    assert_non_null(strstr(lc, ",bias"));
    int rows = 0;
    double worst = 0, worst_sum = 0;
    while (fgets(lp, sizeof lp, fp)) {
        double in[6 + XGBU_NFEAT], want[1 + XGBU_NFEAT + 1], phi[XGBU_NFEAT + 1];
        float x[XGBU_NFEAT];
        xgbu_parse_row(lp, in, (int)(lead + XGBU_NFEAT));
        for (int i = 0; i < XGBU_NFEAT; i++)
            x[i] = (float)in[lead + i];
        for (size_t c = 0; c < ncls; c++) {
            assert_non_null(fgets(lc, sizeof lc, fc));
            xgbu_parse_row(lc, want, (int)(skip + XGBU_NFEAT + 1));
            assert_true(skip == 0 || want[0] == (double)c);
            assert_int_equal(fn(m, x, c, phi), 0);
            double sum = 0, margin;
            xgb_predict_class(m, x, c, &margin);
            for (int i = 0; i <= XGBU_NFEAT; i++) {
                double d = fabs(phi[i] - want[skip + i]);
                if (d > tol)
                    fail_msg("%s row %d class %zu, %s %d: got %.9g, want %.9g",
                             contribs_csv, rows + 1, c,
                             i == XGBU_NFEAT ? "bias" : "feature", i, phi[i], want[skip + i]);
                worst = d > worst ? d : worst;
                sum += phi[i];
            }
            double ds = fabs(sum - margin), file_margin = in[ncls > 1 ? ncls + c : 1];
            if (ds > 1e-5 || fabs(sum - file_margin) > 1e-5)
                fail_msg("row %d class %zu: contributions sum to %.9g, margin %.9g "
                         "(file %.9g)", rows + 1, c, sum, margin, file_margin);
            worst_sum = ds > worst_sum ? ds : worst_sum;
        }
        rows++;
    }
    assert_null(fgets(lc, sizeof lc, fc));
    fclose(fp);
    fclose(fc);
    print_message("%s: %d rows x %zu classes, max |diff| %.3g, max |sum - margin| "
                  "%.3g\n", contribs_csv, rows, ncls, worst, worst_sum);
    assert_int_equal(rows, 201);
    return worst;
}

/* Approximate (Saabas) contributions against XGBoost 1.7.4's
 * predict(pred_contribs=True, approx_contribs=True), through both the
 * single-output and the per-class entry points. */
static int approx_single(const struct xgb_model *m, const float *x, size_t cls,
                         double *phi)
{
    assert_int_equal(cls, 0);
    return xgb_contribs_approx(m, x, phi);
}

static int exact_single(const struct xgb_model *m, const float *x, size_t cls,
                        double *phi)
{
    assert_int_equal(cls, 0);
    return xgb_contribs_exact(m, x, phi);
}

/* The fused call's contributions, checked like the others (its
 * prediction: test_fused_vectors). */
static int approx_fused(const struct xgb_model *m, const float *x, size_t cls,
                        double *phi)
{
    double margin, p = xgb_predict_approx_class(m, x, cls, &margin, phi);
    return isnan(p) && isnan(margin) ? -1 : 0;
}

static void test_credit_contribs_approx(void **state)
{
    (void)state;
    struct xgb_model *m = xgbu_load(XGBU_CLS_MODEL);
    check_contribs(m, XGBU_VEC_DIR "credit_small_preds.csv",
                   XGBU_VEC_DIR "credit_small_contribs_approx.csv", approx_single, 1e-5);
    check_contribs(m, XGBU_VEC_DIR "credit_small_preds.csv",
                   XGBU_VEC_DIR "credit_small_contribs_approx.csv",
                   xgb_contribs_approx_class, 1e-5);
    check_contribs(m, XGBU_VEC_DIR "credit_small_preds.csv",
                   XGBU_VEC_DIR "credit_small_contribs_approx.csv", approx_fused, 1e-5);
    xgb_free(m);
}

/* Exact TreeSHAP against XGBoost 1.7.4's predict(pred_contribs=True). */
static void test_credit_contribs_exact(void **state)
{
    (void)state;
    struct xgb_model *m = xgbu_load(XGBU_CLS_MODEL);
    check_contribs(m, XGBU_VEC_DIR "credit_small_preds.csv",
                   XGBU_VEC_DIR "credit_small_contribs_exact.csv", exact_single, 1e-5);
    check_contribs(m, XGBU_VEC_DIR "credit_small_preds.csv",
                   XGBU_VEC_DIR "credit_small_contribs_exact.csv",
                   xgb_contribs_exact_class, 1e-5);
    xgb_free(m);
}

/* ---- TreeSHAP against the Shapley definition ------------------------------- */

/* One tree straight from the JSON, for the brute-force reference. */
struct bf_tree {
    int     n, left[64], right[64], feat[64], dleft[64];
    double  cond[64], hess[64];
    int     nfeat, feats[16];     /* distinct split features */
    int     slot[XGBU_NFEAT];          /* feature -> bit in a subset mask, -1 if unused */
};

static void bf_read(json_t *t, struct bf_tree *b)
{
    const char *keys[6] = { "left_children", "right_children", "split_indices",
                            "default_left", "split_conditions", "sum_hessian" };
    int *ia[4] = { b->left, b->right, b->feat, b->dleft };
    double *da[2] = { b->cond, b->hess };
    b->n = (int)json_array_size(json_object_get(t, keys[0]));
    assert_true(b->n > 0 && b->n <= 64);
    for (int k = 0; k < 6; k++)
        for (int i = 0; i < b->n; i++) {
            json_t *v = json_array_get(json_object_get(t, keys[k]), i);
            if (k < 4)
                ia[k][i] = (int)json_integer_value(v);
            else
                da[k - 4][i] = json_number_value(v);
        }
    b->nfeat = 0;
    memset(b->slot, -1, sizeof b->slot);
    for (int i = 0; i < b->n; i++)
        if (b->left[i] >= 0 && b->slot[b->feat[i]] < 0) {
            assert_true(b->nfeat < 16);
            b->slot[b->feat[i]] = b->nfeat;
            b->feats[b->nfeat++] = b->feat[i];
        }
}

/* E[f(x) | the features in mask are known]: known splits follow x
 * (missing -> default), unknown ones average the children by cover. */
static double bf_value(const struct bf_tree *b, int i, const float *x, unsigned mask)
{
    if (b->left[i] < 0)
        return (float)b->cond[i];
    int f = b->feat[i], l = b->left[i], r = b->right[i];
    if (mask >> b->slot[f] & 1) {
        int go_left = isnan(x[f]) ? b->dleft[i] : x[f] < (float)b->cond[i];
        return bf_value(b, go_left ? l : r, x, mask);
    }
    return (b->hess[l] * bf_value(b, l, x, mask) + b->hess[r] * bf_value(b, r, x, mask))
           / b->hess[i];
}

/* Whether some feature is split on twice along one root-to-leaf path. */
static int bf_repeats(const struct bf_tree *b, int i, unsigned seen)
{
    if (b->left[i] < 0)
        return 0;
    unsigned bit = 1u << b->slot[b->feat[i]];
    return (seen & bit) || bf_repeats(b, b->left[i], seen | bit) ||
           bf_repeats(b, b->right[i], seen | bit);
}

/* Shapley values of the tree's features by the definition, over all 2^k
 * subsets; returns the worst |diff| against phi (tree model, base 0.5). */
static double bf_compare(const struct bf_tree *b, const float *x, const double *phi)
{
    int k = b->nfeat;
    double *v = malloc(sizeof *v << k), fact[17] = { 1 }, worst = 0;
    assert_non_null(v);
    for (int i = 1; i <= 16; i++)
        fact[i] = fact[i - 1] * i;
    for (unsigned s = 0; s < 1u << k; s++)
        v[s] = bf_value(b, 0, x, s);
    for (int j = 0; j < k; j++) {
        double want = 0;
        for (unsigned s = 0; s < 1u << k; s++) {
            if (s >> j & 1)
                continue;
            int size = __builtin_popcount(s);
            want += fact[size] * fact[k - size - 1] / fact[k] * (v[s | 1u << j] - v[s]);
        }
        double d = fabs(want - phi[b->feats[j]]);
        worst = d > worst ? d : worst;
    }
    double d = fabs(v[0] - phi[XGBU_NFEAT]);                /* bias: base margin 0 */
    free(v);
    return d > worst ? d : worst;
}

/* Every tree of the classifier as a one-tree model: xgb_contribs_exact
 * against the Shapley definition on a plain, a NaN and the all-NaN row. */
static void test_exact_definition(void **state)
{
    (void)state;
    json_error_t je;
    json_t *doc = json_load_file(XGBU_CLS_MODEL, 0, &je);
    assert_non_null(doc);
    json_t *lp = json_object_get(json_object_get(doc, "learner"), "learner_model_param");
    assert_string_equal(json_string_value(json_object_get(lp, "base_score")), "5E-1");
    json_t *g = json_object_get(json_object_get(json_object_get(doc, "learner"),
                                                "gradient_booster"), "model");
    json_t *trees = json_incref(json_object_get(g, "trees"));
    json_object_set_new(g, "tree_info", json_pack("[i]", 0));
    json_object_set_new(json_object_get(g, "gbtree_model_param"), "num_trees",
                        json_string("1"));
    FILE *f = fopen(XGBU_VEC_DIR "credit_small_preds.csv", "r");
    assert_non_null(f);
    static char line[8192];
    float rows[3][XGBU_NFEAT];
    for (int r = 0, want[3] = { 1, 130, 201 }, ln = 0; r < 3; ln++) {
        assert_non_null(fgets(line, sizeof line, f));
        if (ln != want[r])
            continue;
        double in[2 + XGBU_NFEAT];
        xgbu_parse_row(line, in, 2 + XGBU_NFEAT);
        for (int i = 0; i < XGBU_NFEAT; i++)
            rows[r][i] = (float)in[2 + i];
        r++;
    }
    fclose(f);
    double worst = 0;
    int repeats = 0;
    for (size_t t = 0; t < json_array_size(trees); t++) {
        json_t *one = json_array_get(trees, t);
        struct bf_tree b;
        bf_read(one, &b);
        repeats += bf_repeats(&b, 0, 0);
        json_object_set_new(g, "trees", json_pack("[O]", one));
        char *s = json_dumps(doc, JSON_COMPACT), err[256];
        struct xgb_model *m = xgb_load(s, strlen(s), err, sizeof err);
        if (!m)
            fail_msg("tree %zu: %s", t, err);
        for (int r = 0; r < 3; r++) {
            double phi[XGBU_NFEAT + 1];
            assert_int_equal(xgb_contribs_exact(m, rows[r], phi), 0);
            double d = bf_compare(&b, rows[r], phi);
            if (d > 1e-6)
                fail_msg("tree %zu row %d: |diff| %.3g from the definition", t, r, d);
            worst = d > worst ? d : worst;
        }
        xgb_free(m);
        free(s);
    }
    print_message("TreeSHAP vs Shapley definition: %zu trees x 3 rows (%d trees "
                  "repeat a feature on a path), max |diff| %.3g\n",
                  json_array_size(trees), repeats, worst);
    assert_true(repeats > 0);
    json_decref(trees);
    json_decref(doc);
}

/* Without sum_hessian there are no node means: contributions refused. */
static void test_contribs_no_hessian(void **state)
{
    (void)state;
    char err[256];
    double phi[3] = { 7, 7, 7 };
    float x[2] = { 0, 0 };
    struct xgb_model *m = xgbu_tiny("0.25", "reg:squarederror", err, sizeof err);
    assert_non_null(m);
    assert_int_equal(xgb_contribs_approx(m, x, phi), -1);
    assert_int_equal(xgb_contribs_exact(m, x, phi), -1);
    assert_int_equal(xgb_contribs_approx_class(m, x, 0, phi), -1);
    assert_int_equal(xgb_contribs_exact_class(m, x, 0, phi), -1);
    assert_true(phi[0] == 7 && phi[2] == 7);
    assert_int_equal(xgb_num_class(m), 1);
    double mg, mg0;
    assert_true(xgb_predict_class(m, x, 0, &mg) == xgb_predict(m, x, &mg0) && mg == mg0);
    assert_true(isnan(xgb_predict_class(m, x, 1, NULL)));
    xgb_free(m);
}

/* ---- regression and multi-class -------------------------------------------- */

static void test_credit_regression(void **state)
{
    (void)state;
    struct xgb_model *m = xgbu_load(XGBU_REG_MODEL);
    assert_int_equal(xgb_num_trees(m), 10);
    assert_string_equal(xgb_objective(m), "reg:squarederror");
    /* Predictions are months (~20): 1e-6 relative is float32's own limit. */
    check_preds(m, XGBU_VEC_DIR "credit_small_reg_preds.csv", 1e-5);
    xgb_free(m);
}

/* multi:softprob: every class's probability and margin against
 * predict(output_margin=False / True) of XGBoost 1.7.4. */
static void test_multi_preds(void **state)
{
    (void)state;
    struct xgb_model *m = xgbu_load(XGBU_MULTI_MODEL);
    assert_int_equal(xgb_num_class(m), XGBU_NCLASS);
    assert_int_equal(xgb_num_trees(m), 36);
    assert_string_equal(xgb_objective(m), "multi:softprob");
    FILE *f = fopen(XGBU_VEC_DIR "credit_multi_preds.csv", "r");
    assert_non_null(f);
    static char line[8192];
    assert_non_null(fgets(line, sizeof line, f));
    int rows = 0, nan_rows = 0;
    double worst_p = 0, worst_m = 0;
    while (fgets(line, sizeof line, f)) {
        double in[2 * XGBU_NCLASS + XGBU_NFEAT], psum = 0, margin;
        float x[XGBU_NFEAT];
        xgbu_parse_row(line, in, 2 * XGBU_NCLASS + XGBU_NFEAT);
        int nan_here = 0;
        for (int i = 0; i < XGBU_NFEAT; i++) {
            x[i] = (float)in[2 * XGBU_NCLASS + i];
            nan_here |= i != 2 && isnan(x[i]);    /* feature 2 is always NaN */
        }
        for (size_t c = 0; c < XGBU_NCLASS; c++) {
            double p = xgb_predict_class(m, x, c, &margin);
            double dp = fabs(p - in[c]), dm = fabs(margin - in[XGBU_NCLASS + c]);
            if (dp > 1e-6 || dm > 1e-6)
                fail_msg("row %d class %zu: got p %.9g m %.9g, want p %.9g m %.9g",
                         rows + 1, c, p, margin, in[c], in[XGBU_NCLASS + c]);
            worst_p = dp > worst_p ? dp : worst_p;
            worst_m = dm > worst_m ? dm : worst_m;
            psum += p;
        }
        assert_true(fabs(psum - 1) < 1e-6);
        double m0, p0 = xgb_predict(m, x, &m0), m0c;
        assert_true(p0 == xgb_predict_class(m, x, 0, &m0c) && m0 == m0c);
        assert_true(isnan(xgb_predict_class(m, x, XGBU_NCLASS, &margin)) && isnan(margin));
        rows++;
        nan_rows += nan_here;
    }
    fclose(f);
    print_message("credit_multi_preds.csv: %d rows (%d with missing features), max "
                  "|diff| prob %.3g, margin %.3g\n", rows, nan_rows, worst_p, worst_m);
    assert_int_equal(rows, 201);
    assert_true(nan_rows >= 50);
    xgb_free(m);
}

/* Per-class contributions of the multi-class model, both methods. */
static void test_multi_contribs(void **state)
{
    (void)state;
    struct xgb_model *m = xgbu_load(XGBU_MULTI_MODEL);
    check_contribs(m, XGBU_VEC_DIR "credit_multi_preds.csv",
                   XGBU_VEC_DIR "credit_multi_contribs_approx.csv",
                   xgb_contribs_approx_class, 1e-5);
    check_contribs(m, XGBU_VEC_DIR "credit_multi_preds.csv",
                   XGBU_VEC_DIR "credit_multi_contribs_approx.csv", approx_fused, 1e-5);
    check_contribs(m, XGBU_VEC_DIR "credit_multi_preds.csv",
                   XGBU_VEC_DIR "credit_multi_contribs_exact.csv",
                   xgb_contribs_exact_class, 1e-5);
    double phi[XGBU_NFEAT + 1], want[XGBU_NFEAT + 1];
    float x[XGBU_NFEAT];
    for (int i = 0; i < XGBU_NFEAT; i++)
        x[i] = (float)i;
    assert_int_equal(xgb_contribs_exact_class(m, x, 0, want), 0);
    assert_int_equal(xgb_contribs_exact(m, x, phi), 0);      /* = class 0 */
    assert_memory_equal(phi, want, sizeof phi);
    assert_int_equal(xgb_contribs_approx_class(m, x, 0, want), 0);
    assert_int_equal(xgb_contribs_approx(m, x, phi), 0);
    assert_memory_equal(phi, want, sizeof phi);
    phi[0] = 7;
    assert_int_equal(xgb_contribs_exact_class(m, x, XGBU_NCLASS, phi), -1);
    assert_int_equal(xgb_contribs_approx_class(m, x, XGBU_NCLASS, phi), -1);
    assert_true(phi[0] == 7);
    xgb_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_credit_logistic),
        cmocka_unit_test(test_credit_contribs_approx),
        cmocka_unit_test(test_credit_contribs_exact),
        cmocka_unit_test(test_exact_definition),
        cmocka_unit_test(test_contribs_no_hessian),
        cmocka_unit_test(test_credit_regression),
        cmocka_unit_test(test_multi_preds),
        cmocka_unit_test(test_multi_contribs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
