/*
 * test_xgb.c - the standalone XGBoost JSON evaluator (server/model_xgb.c)
 * against reference predictions of Debian's xgboost 1.7.4
 * (tests/vectors/xgb, made by scripts/train_xgb.py; rows with missing
 * features included; approximate contributions for the classifier), a
 * hand-made one-split model for the decision rule,
 * and malformed models that must be refused with a message and without
 * crashing.  Run from the repo root.
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

#define VEC_DIR   "tests/vectors/xgb/"
#define CLS_MODEL VEC_DIR "credit_small.json"
#define REG_MODEL VEC_DIR "credit_small_reg.json"
#define NFEAT     61

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static struct xgb_model *load_file(const char *path)
{
    size_t len;
    char err[256];
    char *buf = slurp(path, &len);
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

/* Approximate (Saabas) contributions against XGBoost 1.7.4's
 * predict(pred_contribs=True, approx_contribs=True) for every row of
 * credit_small_preds.csv (same rows, same order), and their sum against
 * the margin. */
static void test_credit_contribs_approx(void **state)
{
    (void)state;
    struct xgb_model *m = load_file(CLS_MODEL);
    FILE *fp = fopen(VEC_DIR "credit_small_preds.csv", "r");
    FILE *fc = fopen(VEC_DIR "credit_small_contribs_approx.csv", "r");
    assert_non_null(fp);
    assert_non_null(fc);
    static char lp[8192], lc[8192];
    assert_non_null(fgets(lp, sizeof lp, fp));
    assert_non_null(fgets(lc, sizeof lc, fc));
    assert_non_null(strstr(lc, ",bias"));
    int rows = 0;
    double worst = 0, worst_sum = 0;
    while (fgets(lp, sizeof lp, fp)) {
        assert_non_null(fgets(lc, sizeof lc, fc));
        double in[2 + NFEAT], want[NFEAT + 1], phi[NFEAT + 1];
        float x[NFEAT];
        parse_row(lp, in, 2 + NFEAT);
        parse_row(lc, want, NFEAT + 1);
        for (int i = 0; i < NFEAT; i++)
            x[i] = (float)in[2 + i];
        assert_int_equal(xgb_contribs_approx(m, x, phi), 0);
        double sum = 0, margin;
        xgb_predict(m, x, &margin);
        for (int i = 0; i <= NFEAT; i++) {
            double d = fabs(phi[i] - want[i]);
            if (d > 1e-5)
                fail_msg("row %d, %s %d: got %.9g, want %.9g", rows + 1,
                         i == NFEAT ? "bias" : "feature", i, phi[i], want[i]);
            worst = d > worst ? d : worst;
            sum += phi[i];
        }
        double ds = fabs(sum - margin);
        if (ds > 1e-5 || fabs(sum - in[1]) > 1e-5)
            fail_msg("row %d: contributions sum to %.9g, margin %.9g (file %.9g)",
                     rows + 1, sum, margin, in[1]);
        worst_sum = ds > worst_sum ? ds : worst_sum;
        rows++;
    }
    assert_null(fgets(lc, sizeof lc, fc));
    fclose(fp);
    fclose(fc);
    print_message("approx contributions: %d rows, max |diff| %.3g, max |sum - margin| "
                  "%.3g\n", rows, worst, worst_sum);
    assert_int_equal(rows, 201);
    xgb_free(m);
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
    assert_true(phi[0] == 7 && phi[2] == 7);
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

/* Loads the classifier, applies `edit` to the JSON, expects refusal. */
static void refuse_edited(void (*edit)(json_t *), const char *needle)
{
    json_error_t je;
    json_t *doc = json_load_file(CLS_MODEL, 0, &je);
    assert_non_null(doc);
    edit(doc);
    char *s = json_dumps(doc, JSON_COMPACT);
    assert_non_null(s);
    expect_refused(s, strlen(s), needle);
    free(s);
    json_decref(doc);
}

static json_t *tree(json_t *doc, size_t i)
{
    json_t *l = json_object_get(doc, "learner");
    json_t *g = json_object_get(json_object_get(l, "gradient_booster"), "model");
    return json_array_get(json_object_get(g, "trees"), i);
}

static json_t *lparam(json_t *doc)
{
    return json_object_get(json_object_get(doc, "learner"), "learner_model_param");
}

static void ed_short_conditions(json_t *d)
{
    json_array_remove(json_object_get(tree(d, 3), "split_conditions"), 0);
}
static void ed_child_range(json_t *d)
{
    json_array_set_new(json_object_get(tree(d, 2), "left_children"), 0,
                       json_integer(9999));
}
static void ed_cycle(json_t *d)
{
    json_array_set_new(json_object_get(tree(d, 1), "right_children"), 1,
                       json_integer(0));
}
static void ed_feature_range(json_t *d)
{
    json_array_set_new(json_object_get(tree(d, 0), "split_indices"), 0,
                       json_integer(NFEAT));
}
static void ed_num_feature(json_t *d)
{
    json_object_set_new(json_object_get(tree(d, 4), "tree_param"), "num_feature",
                        json_string("60"));
}
static void ed_objective(json_t *d)
{
    json_object_set_new(json_object_get(json_object_get(d, "learner"), "objective"),
                        "name", json_string("reg:gamma"));
}
static void ed_multiclass(json_t *d)
{
    json_object_set_new(json_object_get(json_object_get(d, "learner"), "objective"),
                        "name", json_string("multi:softprob"));
    json_object_set_new(lparam(d), "num_class", json_string("3"));
}
static void ed_base_score(json_t *d)
{
    json_object_set_new(lparam(d), "base_score", json_string("abc"));
}
static void ed_dart(json_t *d)
{
    json_t *l = json_object_get(d, "learner");
    json_object_set_new(json_object_get(l, "gradient_booster"), "name",
                        json_string("dart"));
}
static void ed_value_type(json_t *d)
{
    json_array_set_new(json_object_get(tree(d, 5), "left_children"), 2,
                       json_string("x"));
}
static void ed_names(json_t *d)
{
    json_array_remove(json_object_get(json_object_get(d, "learner"), "feature_names"), 3);
}
static void ed_neg_count(json_t *d)
{
    json_object_set_new(lparam(d), "num_feature", json_string(" -1"));
}
static void ed_num_trees(json_t *d)
{
    json_t *l = json_object_get(d, "learner");
    json_t *g = json_object_get(json_object_get(l, "gradient_booster"), "model");
    json_array_remove(json_object_get(g, "trees"), 19);
    json_array_remove(json_object_get(g, "tree_info"), 19);
}

static void ed_hessian(json_t *d)
{
    json_array_remove(json_object_get(tree(d, 6), "sum_hessian"), 0);
}
static void ed_hessian_neg(json_t *d)
{
    json_array_set_new(json_object_get(tree(d, 7), "sum_hessian"), 1, json_real(-1.0));
}

static void test_refused_edits(void **state)
{
    (void)state;
    refuse_edited(ed_short_conditions, "split_conditions has 30 elements");
    refuse_edited(ed_child_range, "child index out of range");
    refuse_edited(ed_cycle, "more than one parent");
    refuse_edited(ed_feature_range, "split feature 61 out of range");
    refuse_edited(ed_num_feature, "num_feature 60, model has 61");
    refuse_edited(ed_objective, "unsupported objective \"reg:gamma\"");
    refuse_edited(ed_multiclass, "unsupported objective \"multi:softprob\"");
    refuse_edited(ed_base_score, "base_score: not a number");
    refuse_edited(ed_dart, "unsupported booster \"dart\"");
    refuse_edited(ed_value_type, "wrong value type");
    refuse_edited(ed_num_trees, "num_trees does not match");
    refuse_edited(ed_names, "feature_names has 60 entries");
    refuse_edited(ed_neg_count, "num_feature: not a count");
    refuse_edited(ed_hessian, "tree 6: sum_hessian has 28 elements");
    refuse_edited(ed_hessian_neg, "sum_hessian not a finite non-negative");
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
    char *buf = slurp(REG_MODEL, &len);
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
        cmocka_unit_test(test_contribs_no_hessian),
        cmocka_unit_test(test_credit_regression),
        cmocka_unit_test(test_tiny_rules),
        cmocka_unit_test(test_refused_edits),
        cmocka_unit_test(test_refused_misc),
        cmocka_unit_test(test_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
