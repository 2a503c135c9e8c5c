/*
 * test_xgb_fused.c - xgb_predict_approx_class (server/score/model/
 * model_xgb.c) bit for bit equal to xgb_predict_class +
 * xgb_contribs_approx_class: every reference row of tests/vectors/xgb and
 * every class, more NaN rows; synthetic models with a root-leaf tree,
 * repeated features, a 60-deep tree, and the models it has no Saabas
 * table for; and its errors (tests/lib/xgb_util.h).
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
#include "xgb_util.h"

/* ---- xgb_predict_approx_class: the two calls' bits in one pass ------------- */

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
        double in[6 + XGBU_NFEAT];
        float x[XGBU_NFEAT];
        xgbu_parse_row(line, in, (int)(lead + XGBU_NFEAT));
        for (int i = 0; i < XGBU_NFEAT; i++)
            x[i] = (float)in[lead + i];
        for (size_t c = 0; c < ncls; c++)
            expect_fused(m, x, c, csv, rows + 1, st);
        for (size_t i = rows % 4; i < XGBU_NFEAT; i += 4)
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
    const char *models[3] = { XGBU_CLS_MODEL, XGBU_REG_MODEL, XGBU_MULTI_MODEL };
    const char *rows[3] = { XGBU_VEC_DIR "credit_small_preds.csv",
                            XGBU_VEC_DIR "credit_small_reg_preds.csv",
                            XGBU_VEC_DIR "credit_multi_preds.csv" };
    for (int k = 0; k < 3; k++) {
        struct fused_stats st = { 0 };
        struct xgb_model *m = xgbu_load(models[k]);
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
    double phi[XGBU_NFEAT + 1], margin = 0;
    float x[XGBU_NFEAT] = { 0 };
    for (int i = 0; i <= XGBU_NFEAT; i++)
        phi[i] = 7;
    struct xgb_model *m = xgbu_load(XGBU_MULTI_MODEL);
    assert_true(isnan(xgb_predict_approx_class(m, x, XGBU_NCLASS, &margin, phi)));
    assert_true(isnan(margin));
    assert_true(isnan(xgb_predict_approx_class(m, x, SIZE_MAX, NULL, phi)));
    xgb_free(m);
    m = xgbu_load(XGBU_CLS_MODEL);
    margin = 0;
    assert_true(isnan(xgb_predict_approx_class(m, x, 1, &margin, phi)));
    assert_true(isnan(margin));
    xgb_free(m);
    m = xgbu_tiny("0.25", "reg:squarederror", err, sizeof err);       /* no sum_hessian */
    assert_non_null(m);
    margin = 0;
    assert_true(isnan(xgb_predict_approx_class(m, x, 0, &margin, phi)));
    assert_true(isnan(margin));
    assert_true(isnan(xgb_predict_approx_class(m, x, 0, NULL, phi)));
    xgb_free(m);
    for (int i = 0; i <= XGBU_NFEAT; i++)
        assert_true(phi[i] == 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fused_vectors),
        cmocka_unit_test(test_fused_synthetic),
        cmocka_unit_test(test_fused_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
