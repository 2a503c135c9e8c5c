/*
 * test_xgb.c - the standalone XGBoost JSON evaluator (server/model_xgb.c,
 * server/xgb_shap.c) against reference outputs of Debian's xgboost 1.7.4
 * (tests/vectors/xgb, made by scripts/train_xgb.py; rows with missing
 * features and an all-NaN row included):
 *
 *  - predictions and margins of a binary:logistic, a reg:squarederror and
 *    a 3-class multi:softprob model (every class);
 *  - Saabas and exact TreeSHAP contributions (every class of the
 *    multi-class model) within 1e-5, summing to the margin;
 *  - TreeSHAP of every classifier tree, alone, against the Shapley values
 *    computed from their definition over all feature subsets;
 *  - xgb_predict_approx_class bit for bit equal to xgb_predict_class +
 *    xgb_contribs_approx_class (every reference row, every class, more
 *    NaN rows; synthetic models with a root-leaf tree, repeated features,
 *    a 60-deep tree, and the models it has no Saabas table for), and its
 *    errors;
 *  - a hand-made one-split model for the decision rule;
 *  - malformed models (single- and multi-class) that must be refused with
 *    a message and without crashing.
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

#define VEC_DIR   "tests/vectors/xgb/"
#define CLS_MODEL VEC_DIR "credit_small.json"
#define REG_MODEL VEC_DIR "credit_small_reg.json"
#define MULTI_MODEL VEC_DIR "credit_multi.json"
#define NCLASS    3
#define NFEAT     61

static struct xgb_model *load_file(const char *path)
{
    size_t len;
    char err[256];
    char *buf = tutil_slurp(path, &len);
    struct xgb_model *m = xgb_load(buf, len, err, sizeof err);
    if (!m)
        fail_msg("%s: %s", path, err);
    free(buf);
    return m;
}

/* Compares every row of a *_preds.csv (pred, margin, NFEAT features). */
static void check_preds(const struct xgb_model *m, const char *csv, double tol)
{
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    char line[8192];
    assert_non_null(fgets(line, sizeof line, f));          /* header */
    int rows = 0, missing_rows = 0;
    double worst = 0, worst_margin = 0;
    while (fgets(line, sizeof line, f)) {
        float x[NFEAT];
        double want[2];
        char *p = line, *end;
        int nan_here = 0;
        for (int i = 0; i < 2 + NFEAT; i++) {
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
    struct xgb_model *m = load_file(CLS_MODEL);
    assert_int_equal(xgb_num_feature(m), NFEAT);
    assert_int_equal(xgb_num_trees(m), 20);
    assert_string_equal(xgb_objective(m), "binary:logistic");
    assert_string_equal(xgb_feature_name(m, 0), "Duration");
    assert_string_equal(xgb_feature_name(m, 60), "Job.Management.SelfEmp.HighlyQualified");
    assert_null(xgb_feature_name(m, 61));
    check_preds(m, VEC_DIR "credit_small_preds.csv", 1e-6);
    xgb_free(m);
}

static struct xgb_model *tiny(const char *base, const char *obj, char *err, size_t n);

/* Parses n comma-separated numbers of one CSV line into out. */
static void parse_row(const char *line, double *out, int n)
{
    const char *p = line;
    char *end;
    for (int i = 0; i < n; i++) {
        out[i] = strtod(p, &end);
        assert_true(end != p);
        p = *end == ',' ? end + 1 : end;
    }
}

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
        double in[6 + NFEAT], want[1 + NFEAT + 1], phi[NFEAT + 1];
        float x[NFEAT];
        parse_row(lp, in, (int)(lead + NFEAT));
        for (int i = 0; i < NFEAT; i++)
            x[i] = (float)in[lead + i];
        for (size_t c = 0; c < ncls; c++) {
            assert_non_null(fgets(lc, sizeof lc, fc));
            parse_row(lc, want, (int)(skip + NFEAT + 1));
            assert_true(skip == 0 || want[0] == (double)c);
            assert_int_equal(fn(m, x, c, phi), 0);
            double sum = 0, margin;
            xgb_predict_class(m, x, c, &margin);
            for (int i = 0; i <= NFEAT; i++) {
                double d = fabs(phi[i] - want[skip + i]);
                if (d > tol)
                    fail_msg("%s row %d class %zu, %s %d: got %.9g, want %.9g",
                             contribs_csv, rows + 1, c,
                             i == NFEAT ? "bias" : "feature", i, phi[i], want[skip + i]);
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
    struct xgb_model *m = load_file(CLS_MODEL);
    check_contribs(m, VEC_DIR "credit_small_preds.csv",
                   VEC_DIR "credit_small_contribs_approx.csv", approx_single, 1e-5);
    check_contribs(m, VEC_DIR "credit_small_preds.csv",
                   VEC_DIR "credit_small_contribs_approx.csv",
                   xgb_contribs_approx_class, 1e-5);
    check_contribs(m, VEC_DIR "credit_small_preds.csv",
                   VEC_DIR "credit_small_contribs_approx.csv", approx_fused, 1e-5);
    xgb_free(m);
}

/* Exact TreeSHAP against XGBoost 1.7.4's predict(pred_contribs=True). */
static void test_credit_contribs_exact(void **state)
{
    (void)state;
    struct xgb_model *m = load_file(CLS_MODEL);
    check_contribs(m, VEC_DIR "credit_small_preds.csv",
                   VEC_DIR "credit_small_contribs_exact.csv", exact_single, 1e-5);
    check_contribs(m, VEC_DIR "credit_small_preds.csv",
                   VEC_DIR "credit_small_contribs_exact.csv",
                   xgb_contribs_exact_class, 1e-5);
    xgb_free(m);
}

/* ---- TreeSHAP against the Shapley definition ---------------------------------- */

/* One tree straight from the JSON, for the brute-force reference. */
struct bf_tree {
    int     n, left[64], right[64], feat[64], dleft[64];
    double  cond[64], hess[64];
    int     nfeat, feats[16];     /* distinct split features */
    int     slot[NFEAT];          /* feature -> bit in a subset mask, -1 if unused */
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
    double d = fabs(v[0] - phi[NFEAT]);                /* bias: base margin 0 */
    free(v);
    return d > worst ? d : worst;
}

/* Every tree of the classifier as a one-tree model: xgb_contribs_exact
 * against the Shapley definition on a plain, a NaN and the all-NaN row. */
static void test_exact_definition(void **state)
{
    (void)state;
    json_error_t je;
    json_t *doc = json_load_file(CLS_MODEL, 0, &je);
    assert_non_null(doc);
    json_t *lp = json_object_get(json_object_get(doc, "learner"), "learner_model_param");
    assert_string_equal(json_string_value(json_object_get(lp, "base_score")), "5E-1");
    json_t *g = json_object_get(json_object_get(json_object_get(doc, "learner"),
                                                "gradient_booster"), "model");
    json_t *trees = json_incref(json_object_get(g, "trees"));
    json_object_set_new(g, "tree_info", json_pack("[i]", 0));
    json_object_set_new(json_object_get(g, "gbtree_model_param"), "num_trees",
                        json_string("1"));
    FILE *f = fopen(VEC_DIR "credit_small_preds.csv", "r");
    assert_non_null(f);
    static char line[8192];
    float rows[3][NFEAT];
    for (int r = 0, want[3] = { 1, 130, 201 }, ln = 0; r < 3; ln++) {
        assert_non_null(fgets(line, sizeof line, f));
        if (ln != want[r])
            continue;
        double in[2 + NFEAT];
        parse_row(line, in, 2 + NFEAT);
        for (int i = 0; i < NFEAT; i++)
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
            double phi[NFEAT + 1];
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
    struct xgb_model *m = tiny("0.25", "reg:squarederror", err, sizeof err);
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

static void test_credit_regression(void **state)
{
    (void)state;
    struct xgb_model *m = load_file(REG_MODEL);
    assert_int_equal(xgb_num_trees(m), 10);
    assert_string_equal(xgb_objective(m), "reg:squarederror");
    /* Predictions are months (~20): 1e-6 relative is float32's own limit. */
    check_preds(m, VEC_DIR "credit_small_reg_preds.csv", 1e-5);
    xgb_free(m);
}

/* multi:softprob: every class's probability and margin against
 * predict(output_margin=False / True) of XGBoost 1.7.4. */
static void test_multi_preds(void **state)
{
    (void)state;
    struct xgb_model *m = load_file(MULTI_MODEL);
    assert_int_equal(xgb_num_class(m), NCLASS);
    assert_int_equal(xgb_num_trees(m), 36);
    assert_string_equal(xgb_objective(m), "multi:softprob");
    FILE *f = fopen(VEC_DIR "credit_multi_preds.csv", "r");
    assert_non_null(f);
    static char line[8192];
    assert_non_null(fgets(line, sizeof line, f));
    int rows = 0, nan_rows = 0;
    double worst_p = 0, worst_m = 0;
    while (fgets(line, sizeof line, f)) {
        double in[2 * NCLASS + NFEAT], psum = 0, margin;
        float x[NFEAT];
        parse_row(line, in, 2 * NCLASS + NFEAT);
        int nan_here = 0;
        for (int i = 0; i < NFEAT; i++) {
            x[i] = (float)in[2 * NCLASS + i];
            nan_here |= i != 2 && isnan(x[i]);    /* feature 2 is always NaN */
        }
        for (size_t c = 0; c < NCLASS; c++) {
            double p = xgb_predict_class(m, x, c, &margin);
            double dp = fabs(p - in[c]), dm = fabs(margin - in[NCLASS + c]);
            if (dp > 1e-6 || dm > 1e-6)
                fail_msg("row %d class %zu: got p %.9g m %.9g, want p %.9g m %.9g",
                         rows + 1, c, p, margin, in[c], in[NCLASS + c]);
            worst_p = dp > worst_p ? dp : worst_p;
            worst_m = dm > worst_m ? dm : worst_m;
            psum += p;
        }
        assert_true(fabs(psum - 1) < 1e-6);
        double m0, p0 = xgb_predict(m, x, &m0), m0c;
        assert_true(p0 == xgb_predict_class(m, x, 0, &m0c) && m0 == m0c);
        assert_true(isnan(xgb_predict_class(m, x, NCLASS, &margin)) && isnan(margin));
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
    struct xgb_model *m = load_file(MULTI_MODEL);
    check_contribs(m, VEC_DIR "credit_multi_preds.csv",
                   VEC_DIR "credit_multi_contribs_approx.csv",
                   xgb_contribs_approx_class, 1e-5);
    check_contribs(m, VEC_DIR "credit_multi_preds.csv",
                   VEC_DIR "credit_multi_contribs_approx.csv", approx_fused, 1e-5);
    check_contribs(m, VEC_DIR "credit_multi_preds.csv",
                   VEC_DIR "credit_multi_contribs_exact.csv",
                   xgb_contribs_exact_class, 1e-5);
    double phi[NFEAT + 1], want[NFEAT + 1];
    float x[NFEAT];
    for (int i = 0; i < NFEAT; i++)
        x[i] = (float)i;
    assert_int_equal(xgb_contribs_exact_class(m, x, 0, want), 0);
    assert_int_equal(xgb_contribs_exact(m, x, phi), 0);      /* = class 0 */
    assert_memory_equal(phi, want, sizeof phi);
    assert_int_equal(xgb_contribs_approx_class(m, x, 0, want), 0);
    assert_int_equal(xgb_contribs_approx(m, x, phi), 0);
    assert_memory_equal(phi, want, sizeof phi);
    phi[0] = 7;
    assert_int_equal(xgb_contribs_exact_class(m, x, NCLASS, phi), -1);
    assert_int_equal(xgb_contribs_approx_class(m, x, NCLASS, phi), -1);
    assert_true(phi[0] == 7);
    xgb_free(m);
}

/* ---- xgb_predict_approx_class: the two calls' bits in one pass ---------------- */

#define FUSED_MAXF 4096           /* widest synthetic model + 1 */

struct fused_stats {
    size_t calls;                 /* row x class comparisons */
    double pred, margin, phi;     /* max |fused - separate| (NaN = NaN: 0) */
};

static double fdiff(double a, double b)
{
    return isnan(a) && isnan(b) ? 0 : fabs(a - b);
}

/* The fused call for x and class cls against xgb_predict_class +
 * xgb_contribs_approx_class: the same bits in the prediction, the margin
 * and all of phi (which starts as garbage), also with margin_out NULL. */
static void expect_fused(const struct xgb_model *m, const float *x, size_t cls,
                         const char *what, size_t row, struct fused_stats *st)
{
    static double want[FUSED_MAXF], got[FUSED_MAXF];
    size_t nf = xgb_num_feature(m);
    double wm, gm;
    assert_true(nf < FUSED_MAXF);
    double wp = xgb_predict_class(m, x, cls, &wm);
    assert_int_equal(xgb_contribs_approx_class(m, x, cls, want), 0);
    memset(got, 0xa5, sizeof got);
    double gp = xgb_predict_approx_class(m, x, cls, &gm, got);
    st->pred = fmax(st->pred, fdiff(gp, wp));
    st->margin = fmax(st->margin, fdiff(gm, wm));
    for (size_t i = 0; i <= nf; i++)
        st->phi = fmax(st->phi, fdiff(got[i], want[i]));
    if (memcmp(&gp, &wp, sizeof gp) || memcmp(&gm, &wm, sizeof gm))
        fail_msg("%s row %zu class %zu: fused p %.17g m %.17g, separate p %.17g m %.17g",
                 what, row, cls, gp, gm, wp, wm);
    for (size_t i = 0; i <= nf; i++)
        if (memcmp(&got[i], &want[i], sizeof got[i]))
            fail_msg("%s row %zu class %zu phi[%zu]: fused %.17g, separate %.17g", what,
                     row, cls, i, got[i], want[i]);
    memset(got, 0x5a, sizeof got);
    gp = xgb_predict_approx_class(m, x, cls, NULL, got);
    assert_memory_equal(&gp, &wp, sizeof gp);
    assert_memory_equal(got, want, (nf + 1) * sizeof got[0]);
    st->calls++;
}

/* Every row of a *_preds.csv, every class; each row also with a quarter
 * of its features turned NaN. */
static void fused_rows(const struct xgb_model *m, const char *csv, struct fused_stats *st)
{
    size_t ncls = xgb_num_class(m), lead = ncls > 1 ? 2 * ncls : 2, rows = 0;
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    static char line[8192];
    assert_non_null(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f)) {
        double in[6 + NFEAT];
        float x[NFEAT];
        parse_row(line, in, (int)(lead + NFEAT));
        for (int i = 0; i < NFEAT; i++)
            x[i] = (float)in[lead + i];
        for (size_t c = 0; c < ncls; c++)
            expect_fused(m, x, c, csv, rows + 1, st);
        for (size_t i = rows % 4; i < NFEAT; i += 4)
            x[i] = NAN;
        for (size_t c = 0; c < ncls; c++)
            expect_fused(m, x, c, csv, rows + 1, st);
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, 201);
}

static void test_fused_vectors(void **state)
{
    (void)state;
    const char *models[3] = { CLS_MODEL, REG_MODEL, MULTI_MODEL };
    const char *rows[3] = { VEC_DIR "credit_small_preds.csv",
                            VEC_DIR "credit_small_reg_preds.csv",
                            VEC_DIR "credit_multi_preds.csv" };
    for (int k = 0; k < 3; k++) {
        struct fused_stats st = { 0 };
        struct xgb_model *m = load_file(models[k]);
        fused_rows(m, rows[k], &st);
        print_message("fused vs separate, %s: %zu row x class calls bit-identical, max "
                      "|diff| pred %g margin %g phi %g\n", models[k], st.calls, st.pred,
                      st.margin, st.phi);
        assert_true(st.pred == 0 && st.margin == 0 && st.phi == 0);
        xgb_free(m);
    }
}

/* A chain of `depth` splits: node 2k (k < depth) splits feature
 * (k * step + shift) % nsplit at 0.1 k (missing: left for odd k), its
 * left child 2k + 1 is a leaf, its right child the next split; node
 * 2 depth is the last leaf.  Covers add up. */
static json_t *chain_tree(int depth, int nsplit, int step, int shift, int num_feature)
{
    enum { MAXN = 2 * 64 + 1 };
    int n = 2 * depth + 1;
    double hess[MAXN];
    char buf[32];
    assert_true(depth >= 0 && n <= MAXN);
    hess[n - 1] = 2;
    for (int k = depth - 1; k >= 0; k--) {
        hess[2 * k + 1] = 1 + k % 3;
        hess[2 * k] = hess[2 * k + 1] + hess[2 * k + 2];
    }
    const char *names[6] = { "left_children", "right_children", "split_indices",
                             "split_conditions", "default_left", "sum_hessian" };
    json_t *a[6];
    for (int k = 0; k < 6; k++)
        a[k] = json_array();
    for (int i = 0; i < n; i++) {
        int inner = i % 2 == 0 && i < n - 1, k = i / 2;
        json_array_append_new(a[0], json_integer(inner ? i + 1 : -1));
        json_array_append_new(a[1], json_integer(inner ? i + 2 : -1));
        json_array_append_new(a[2], json_integer(inner ? (k * step + shift) % nsplit : 0));
        json_array_append_new(a[3], json_real(inner ? 0.1 * k : 0.05 * (i % 7 - 3)));
        json_array_append_new(a[4], json_integer(inner ? k % 2 : 0));
        json_array_append_new(a[5], json_real(hess[i]));
    }
    snprintf(buf, sizeof buf, "%d", num_feature);
    json_t *t = json_pack("{s:{s:s,s:s}}", "tree_param", "num_nodes", "", "num_feature", buf);
    snprintf(buf, sizeof buf, "%d", n);
    json_object_set_new(json_object_get(t, "tree_param"), "num_nodes", json_string(buf));
    for (int k = 0; k < 6; k++)
        json_object_set_new(t, names[k], a[k]);
    return t;
}

/* binary:logistic, base_score 0.3, the given trees (reference stolen). */
static struct xgb_model *synthetic_model(json_t *trees, int num_feature)
{
    char nf[32], err[256];
    json_t *info = json_array();
    for (size_t i = 0; i < json_array_size(trees); i++)
        json_array_append_new(info, json_integer(0));
    snprintf(nf, sizeof nf, "%d", num_feature);
    json_t *doc = json_pack("{s:[i,i,i],s:{s:{s:s,s:s},s:{s:s},s:{s:s,s:{s:o,s:o}}}}",
                            "version", 1, 7, 4, "learner", "learner_model_param",
                            "base_score", "3E-1", "num_feature", nf, "objective", "name",
                            "binary:logistic", "gradient_booster", "name", "gbtree",
                            "model", "trees", trees, "tree_info", info);
    assert_non_null(doc);
    char *s = json_dumps(doc, JSON_COMPACT);
    struct xgb_model *m = xgb_load(s, strlen(s), err, sizeof err);
    if (!m)
        fail_msg("synthetic model: %s", err);
    free(s);
    json_decref(doc);
    return m;
}

/* Pseudo-random rows: values in [-0.5, 7) (the chains' thresholds span
 * 0 .. 6.3), one in five missing. */
static void fused_random_rows(const struct xgb_model *m, const char *what, int nrows,
                              struct fused_stats *st)
{
    static float x[FUSED_MAXF];
    size_t nf = xgb_num_feature(m);
    uint32_t seed = 12345;
    for (int r = 0; r < nrows; r++) {
        for (size_t i = 0; i < nf; i++) {
            seed = seed * 1664525u + 1013904223u;
            x[i] = seed >> 29 == 0 ? NAN : (float)(seed >> 8) / (1 << 24) * 7.5f - 0.5f;
        }
        expect_fused(m, x, 0, what, (size_t)r + 1, st);
    }
}

/* Synthetic models: the lanes' tail, a root-leaf tree, features repeated
 * along paths, a 60-deep tree; then models without a Saabas table (too
 * many features; too many terms per node), where the fused call makes
 * the two calls. */
static void test_fused_synthetic(void **state)
{
    (void)state;
    struct fused_stats st = { 0 };
    json_t *trees = json_array();
    json_array_append_new(trees, chain_tree(5, 3, 1, 0, 8));     /* repeats */
    json_array_append_new(trees, chain_tree(0, 1, 1, 0, 8));     /* root leaf */
    json_array_append_new(trees, chain_tree(60, 2, 1, 1, 8));    /* deep */
    for (int t = 0; t < 10; t++)                                   /* 13 trees */
        json_array_append_new(trees, chain_tree(1 + t % 6, 8, 3, t, 8));
    struct xgb_model *m = synthetic_model(trees, 8);
    fused_random_rows(m, "synthetic", 400, &st);
    float x[8] = { 7, 7, 7, 7, 7, 7, 7, 7 };            /* deepest leaves */
    expect_fused(m, x, 0, "synthetic all-right", 0, &st);
    xgb_free(m);

    trees = json_array();                               /* 3000 features */
    for (int t = 0; t < 9; t++)
        json_array_append_new(trees, chain_tree(6, 3000, 331, 7 * t, 3000));
    m = synthetic_model(trees, 3000);
    fused_random_rows(m, "wide", 50, &st);
    xgb_free(m);

    trees = json_array();                   /* 61 x 60 terms for 121 nodes */
    json_array_append_new(trees, chain_tree(60, 61, 1, 0, 61));
    json_array_append_new(trees, chain_tree(3, 61, 5, 2, 61));
    m = synthetic_model(trees, 61);
    fused_random_rows(m, "deep-distinct", 200, &st);
    xgb_free(m);
    print_message("fused vs separate, synthetic models: %zu calls bit-identical, max "
                  "|diff| pred %g margin %g phi %g\n", st.calls, st.pred, st.margin, st.phi);
    assert_true(st.pred == 0 && st.margin == 0 && st.phi == 0);
}

/* Errors: NAN (and a NAN margin), phi untouched. */
static void test_fused_errors(void **state)
{
    (void)state;
    char err[256];
    double phi[NFEAT + 1], margin = 0;
    float x[NFEAT] = { 0 };
    for (int i = 0; i <= NFEAT; i++)
        phi[i] = 7;
    struct xgb_model *m = load_file(MULTI_MODEL);
    assert_true(isnan(xgb_predict_approx_class(m, x, NCLASS, &margin, phi)));
    assert_true(isnan(margin));
    assert_true(isnan(xgb_predict_approx_class(m, x, SIZE_MAX, NULL, phi)));
    xgb_free(m);
    m = load_file(CLS_MODEL);
    margin = 0;
    assert_true(isnan(xgb_predict_approx_class(m, x, 1, &margin, phi)));
    assert_true(isnan(margin));
    xgb_free(m);
    m = tiny("0.25", "reg:squarederror", err, sizeof err);       /* no sum_hessian */
    assert_non_null(m);
    margin = 0;
    assert_true(isnan(xgb_predict_approx_class(m, x, 0, &margin, phi)));
    assert_true(isnan(margin));
    assert_true(isnan(xgb_predict_approx_class(m, x, 0, NULL, phi)));
    xgb_free(m);
    for (int i = 0; i <= NFEAT; i++)
        assert_true(phi[i] == 7);
}

/* One split on f1 at 0.5, missing goes right; leaves -1 / +2; base 0.25. */
#define TINY_FMT \
    "{\"version\":[1,7,4],\"learner\":{" \
    "\"learner_model_param\":{\"base_score\":\"%s\",\"num_class\":\"0\"," \
    "\"num_feature\":\"2\",\"num_target\":\"1\"}," \
    "\"objective\":{\"name\":\"%s\"}," \
    "\"gradient_booster\":{\"name\":\"gbtree\",\"model\":{" \
    "\"gbtree_model_param\":{\"num_trees\":\"1\",\"num_parallel_tree\":\"1\"}," \
    "\"tree_info\":[0],\"trees\":[{\"tree_param\":{\"num_nodes\":\"3\"," \
    "\"num_feature\":\"2\"},\"left_children\":[1,-1,-1]," \
    "\"right_children\":[2,-1,-1],\"split_indices\":[1,0,0]," \
    "\"split_conditions\":[0.5,-1.0,2.0],\"default_left\":[0,0,0]," \
    "\"split_type\":[0,0,0]}]}}}}"

static struct xgb_model *tiny(const char *base, const char *obj, char *err, size_t n)
{
    char buf[2048];
    int len = snprintf(buf, sizeof buf, TINY_FMT, base, obj);
    return xgb_load(buf, (size_t)len, err, n);
}

static void test_tiny_rules(void **state)
{
    (void)state;
    char err[256];
    struct xgb_model *m = tiny("0.25", "reg:squarederror", err, sizeof err);
    assert_non_null(m);
    double mg;
    float x[2] = { 0, 0.4999f };
    assert_true(xgb_predict(m, x, &mg) == -0.75);            /* left */
    x[1] = 0.5f;                                             /* strict < */
    assert_true(xgb_predict(m, x, NULL) == 2.25);
    x[1] = NAN;                                              /* default right */
    assert_true(xgb_predict(m, x, NULL) == 2.25);
    xgb_free(m);
    m = tiny("0.25", "binary:logistic", err, sizeof err);
    assert_non_null(m);
    x[1] = 0;
    double p = xgb_predict(m, x, &mg);
    assert_true(fabs(mg - (log(0.25 / 0.75) - 1.0)) < 1e-6);
    assert_true(fabs(p - 1.0 / (1.0 + exp(-mg))) < 1e-7);
    xgb_free(m);
}

/* ---- refused models -------------------------------------------------------- */

static void expect_refused(const char *json, size_t len, const char *needle)
{
    char err[256] = "";
    struct xgb_model *m = xgb_load(json, len, err, sizeof err);
    if (m) {
        xgb_free(m);
        fail_msg("loaded a model that should be refused (%s)", needle);
    }
    if (!strstr(err, needle))
        fail_msg("message \"%s\" does not contain \"%s\"", err, needle);
}

/* Sets the element of doc at the dotted path (object keys, array
 * indices) to v (a new reference; NULL deletes it). */
static void json_set_path(json_t *doc, const char *path, json_t *v)
{
    char buf[256], *save = NULL, *key, *next;
    json_t *at = doc;
    snprintf(buf, sizeof buf, "%s", path);
    key = strtok_r(buf, ".", &save);
    for (; (next = strtok_r(NULL, ".", &save)); key = next)
        at = json_is_array(at) ? json_array_get(at, strtoul(key, NULL, 10))
                               : json_object_get(at, key);
    if (json_is_array(at))
        assert_int_equal(v ? json_array_set_new(at, strtoul(key, NULL, 10), v)
                           : json_array_remove(at, strtoul(key, NULL, 10)), 0);
    else
        assert_int_equal(v ? json_object_set_new(at, key, v)
                           : json_object_del(at, key), 0);
}

/* Loads model, applies the (path, value) pairs that follow needle
 * (NULL-terminated, see json_set_path), expects refusal with needle in
 * the message. */
static void refuse_set(const char *model, const char *needle, ...)
{
    json_error_t je;
    json_t *doc = json_load_file(model, 0, &je);
    assert_non_null(doc);
    va_list ap;
    va_start(ap, needle);
    for (const char *path; (path = va_arg(ap, const char *));)
        json_set_path(doc, path, va_arg(ap, json_t *));
    va_end(ap);
    char *s = json_dumps(doc, JSON_COMPACT);
    assert_non_null(s);
    expect_refused(s, strlen(s), needle);
    free(s);
    json_decref(doc);
}

#define TREE(i)  "learner.gradient_booster.model.trees." #i
#define LPARAM   "learner.learner_model_param"
#define refuse_cls(...) refuse_set(CLS_MODEL, __VA_ARGS__, NULL)

static void test_refused_edits(void **state)
{
    (void)state;
    refuse_cls("split_conditions has 30 elements", TREE(3) ".split_conditions.0", NULL);
    refuse_cls("child index out of range", TREE(2) ".left_children.0",
               json_integer(9999));
    refuse_cls("more than one parent", TREE(1) ".right_children.1", json_integer(0));
    refuse_cls("split feature 61 out of range", TREE(0) ".split_indices.0",
               json_integer(NFEAT));
    refuse_cls("num_feature 60, model has 61", TREE(4) ".tree_param.num_feature",
               json_string("60"));
    refuse_cls("unsupported objective \"reg:gamma\"", "learner.objective.name",
               json_string("reg:gamma"));
    refuse_cls("num_class mismatch: class 0 has 20 of the 20 trees",
               "learner.objective.name", json_string("multi:softprob"),
               LPARAM ".num_class", json_string("3"));
    refuse_cls("num_class mismatch: 3 classes for the single-output objective "
               "binary:logistic", LPARAM ".num_class", json_string("3"));
    refuse_cls("base_score: not a number", LPARAM ".base_score", json_string("abc"));
    refuse_cls("unsupported booster \"dart\"", "learner.gradient_booster.name",
               json_string("dart"));
    refuse_cls("wrong value type", TREE(5) ".left_children.2", json_string("x"));
    refuse_cls("num_trees does not match", TREE(19), NULL,
               "learner.gradient_booster.model.tree_info.19", NULL);
    refuse_cls("feature_names has 60 entries", "learner.feature_names.3", NULL);
    refuse_cls("num_feature: not a count", LPARAM ".num_feature", json_string(" -1"));
    refuse_cls("tree 6: sum_hessian has 28 elements", TREE(6) ".sum_hessian.0", NULL);
    refuse_cls("sum_hessian not a finite non-negative", TREE(7) ".sum_hessian.1",
               json_real(-1.0));
}

/* ---- malformed multi-class models (edits of credit_multi.json) ---------------- */

#define MC_INFO   "learner.gradient_booster.model.tree_info"
#define MC_PARAM  "learner.learner_model_param.num_class"
#define MC_OBJ    "learner.objective"
#define MC_OPARAM "learner.objective.softmax_multiclass_param.num_class"

#define refuse_mc(...) refuse_set(MULTI_MODEL, __VA_ARGS__, NULL)

static void test_refused_multi(void **state)
{
    (void)state;
    refuse_mc("tree 5: tree_info 3 out of range (num_class 3)",
              MC_INFO ".5", json_integer(NCLASS));
    refuse_mc("tree 0: tree_info -1 out of range", MC_INFO ".0", json_integer(-1));
    refuse_mc("tree 1: tree_info is not an integer", MC_INFO ".1", json_string("1"));
    refuse_mc("tree_info has 35 entries for 36", MC_INFO ".35", NULL);
    refuse_mc("tree_info has 0 entries for 36", MC_INFO, NULL);
    refuse_mc("num_class mismatch: class 0 has 11 of the 36 trees",
              MC_INFO ".3", json_integer(1));
    refuse_mc("num_class mismatch: objective says 3, learner_model_param says 4",
              MC_PARAM, json_string("4"));
    refuse_mc("num_class mismatch: class 0 has 12 of the 36 trees (num_class 4)",
              MC_PARAM, json_string("4"), MC_OPARAM, json_string("4"));
    refuse_mc("num_class mismatch: multi:softprob needs 2 to",
              MC_PARAM, json_string("1"), MC_OPARAM, json_string("1"));
    refuse_mc("num_class mismatch: 3 classes for",
              MC_OBJ ".name", json_string("binary:logistic"));
}

/* multi:softmax is evaluated like multi:softprob (class probabilities). */
static void test_multi_softmax(void **state)
{
    (void)state;
    json_error_t je;
    json_t *doc = json_load_file(MULTI_MODEL, 0, &je);
    assert_non_null(doc);
    json_set_path(doc, MC_OBJ ".name", json_string("multi:softmax"));
    char *s = json_dumps(doc, JSON_COMPACT), err[256];
    assert_non_null(s);
    struct xgb_model *a = xgb_load(s, strlen(s), err, sizeof err);
    struct xgb_model *b = load_file(MULTI_MODEL);
    assert_non_null(a);
    assert_string_equal(xgb_objective(a), "multi:softmax");
    float x[NFEAT];
    for (int i = 0; i < NFEAT; i++)
        x[i] = i % 3 ? (float)i : NAN;
    for (size_t c = 0; c < NCLASS; c++)
        assert_true(xgb_predict_class(a, x, c, NULL) == xgb_predict_class(b, x, c, NULL));
    xgb_free(a);
    xgb_free(b);
    free(s);
    json_decref(doc);
}

static void test_refused_misc(void **state)
{
    (void)state;
    char err[256];
    expect_refused("", 0, "JSON error");
    expect_refused("[]", 2, "no \"learner\"");
    expect_refused("{\"learner\":{}}", 14, "version");
    assert_null(tiny("1.5", "binary:logistic", err, sizeof err));
    assert_non_null(strstr(err, "outside (0, 1)"));
    /* A 70-deep chain: node 2k has children 2k+1 (leaf) and 2k+2. */
    enum { DEPTH = 70, N = 2 * DEPTH + 1 };
    json_t *t = json_pack("{s:{s:s,s:s}}", "tree_param", "num_nodes", "141",
                          "num_feature", "2");
    json_t *a[5];
    for (int k = 0; k < 5; k++)
        a[k] = json_array();
    for (int i = 0; i < N; i++) {
        int inner = i % 2 == 0 && i < N - 1;
        json_array_append_new(a[0], json_integer(inner ? i + 1 : -1));
        json_array_append_new(a[1], json_integer(inner ? i + 2 : -1));
        json_array_append_new(a[2], json_integer(0));
        json_array_append_new(a[3], json_real(0.5));
        json_array_append_new(a[4], json_integer(1));
    }
    const char *names[5] = { "left_children", "right_children", "split_indices",
                             "split_conditions", "default_left" };
    for (int k = 0; k < 5; k++)
        json_object_set_new(t, names[k], a[k]);
    json_t *doc = json_pack("{s:[i,i,i],s:{s:{s:s,s:s},s:{s:s},s:{s:s,s:{s:[o]}}}}",
                            "version", 1, 7, 4, "learner", "learner_model_param",
                            "base_score", "0", "num_feature", "2", "objective",
                            "name", "reg:squarederror", "gradient_booster",
                            "name", "gbtree", "model", "trees", t);
    assert_non_null(doc);
    char *s = json_dumps(doc, JSON_COMPACT);
    expect_refused(s, strlen(s), "deeper than 64");
    free(s);
    json_decref(doc);
}

/* Every prefix (in steps) of a real model must fail cleanly, never crash. */
static void test_truncated(void **state)
{
    (void)state;
    size_t len;
    char *buf = tutil_slurp(REG_MODEL, &len);
    char err[256];
    for (size_t n = 0; n < len; n += 13) {
        err[0] = '\0';
        struct xgb_model *m = xgb_load(buf, n, err, sizeof err);
        assert_null(m);
        assert_true(err[0] != '\0');
    }
    struct xgb_model *m = xgb_load(buf, len, err, sizeof err);
    assert_non_null(m);
    xgb_free(m);
    free(buf);
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
        cmocka_unit_test(test_fused_vectors),
        cmocka_unit_test(test_fused_synthetic),
        cmocka_unit_test(test_fused_errors),
        cmocka_unit_test(test_tiny_rules),
        cmocka_unit_test(test_refused_edits),
        cmocka_unit_test(test_refused_multi),
        cmocka_unit_test(test_multi_softmax),
        cmocka_unit_test(test_refused_misc),
        cmocka_unit_test(test_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
