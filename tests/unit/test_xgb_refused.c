/*
 * test_xgb_refused.c - the XGBoost JSON evaluator's rules and refusals
 * (server/score/model/model_xgb.c; tests/lib/xgb_util.h): a hand-made
 * one-split model for the decision rule (strict <, missing goes right,
 * the logistic link); malformed models, single- and multi-class edits of
 * the reference models in tests/vectors/xgb and truncated files, that must
 * be refused with a message and without crashing; multi:softmax evaluated
 * like multi:softprob.
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
#include "score.h"
#include "tutil.h"
#include "xgb_util.h"

/* ---- the decision rule ----------------------------------------------------- */

static void test_tiny_rules(void **state)
{
    (void)state;
    char err[256];
    struct xgb_model *m = xgbu_tiny("0.25", "reg:squarederror", err, sizeof err);
    assert_non_null(m);
    double mg;
    float x[2] = { 0, 0.4999f };
    assert_true(xgb_predict(m, x, &mg) == -0.75);            /* left */
    x[1] = 0.5f;                                             /* strict < */
    assert_true(xgb_predict(m, x, NULL) == 2.25);
    x[1] = NAN;                                              /* default right */
    assert_true(xgb_predict(m, x, NULL) == 2.25);
    xgb_free(m);
    m = xgbu_tiny("0.25", "binary:logistic", err, sizeof err);
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
#define refuse_cls(...) refuse_set(XGBU_CLS_MODEL, __VA_ARGS__, NULL)

static void test_refused_edits(void **state)
{
    (void)state;
    refuse_cls("split_conditions has 30 elements", TREE(3) ".split_conditions.0", NULL);
    refuse_cls("child index out of range", TREE(2) ".left_children.0",
               json_integer(9999));
    refuse_cls("more than one parent", TREE(1) ".right_children.1", json_integer(0));
    refuse_cls("split feature 61 out of range", TREE(0) ".split_indices.0",
               json_integer(XGBU_NFEAT));
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

/* ---- malformed multi-class models (edits of credit_multi.json) ------------- */

#define MC_INFO   "learner.gradient_booster.model.tree_info"
#define MC_PARAM  "learner.learner_model_param.num_class"
#define MC_OBJ    "learner.objective"
#define MC_OPARAM "learner.objective.softmax_multiclass_param.num_class"

#define refuse_mc(...) refuse_set(XGBU_MULTI_MODEL, __VA_ARGS__, NULL)

static void test_refused_multi(void **state)
{
    (void)state;
    refuse_mc("tree 5: tree_info 3 out of range (num_class 3)",
              MC_INFO ".5", json_integer(XGBU_NCLASS));
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
    json_t *doc = json_load_file(XGBU_MULTI_MODEL, 0, &je);
    assert_non_null(doc);
    json_set_path(doc, MC_OBJ ".name", json_string("multi:softmax"));
    char *s = json_dumps(doc, JSON_COMPACT), err[256];
    assert_non_null(s);
    struct xgb_model *a = xgb_load(s, strlen(s), err, sizeof err);
    struct xgb_model *b = xgbu_load(XGBU_MULTI_MODEL);
    assert_non_null(a);
    assert_string_equal(xgb_objective(a), "multi:softmax");
    float x[XGBU_NFEAT];
    for (int i = 0; i < XGBU_NFEAT; i++)
        x[i] = i % 3 ? (float)i : NAN;
    for (size_t c = 0; c < XGBU_NCLASS; c++)
        assert_true(xgb_predict_class(a, x, c, NULL) == xgb_predict_class(b, x, c, NULL));
    xgb_free(a);
    xgb_free(b);
    free(s);
    json_decref(doc);
}

/* ---- other refusals -------------------------------------------------------- */

static void test_refused_misc(void **state)
{
    (void)state;
    char err[256];
    expect_refused("", 0, "JSON error");
    expect_refused("[]", 2, "no \"learner\"");
    expect_refused("{\"learner\":{}}", 14, "version");
    assert_null(xgbu_tiny("1.5", "binary:logistic", err, sizeof err));
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

/* ---- formats and features that are not supported --------------------------- */

/* Native categorical models: a categorical split, "categories" of a tree,
 * a "c" feature type; each refused with "not supported: ..." naming it. */
static void test_refused_categorical(void **state)
{
    (void)state;
    refuse_cls("not supported: native categorical splits (tree 0 node 0)",
               TREE(0) ".split_type.0", json_integer(1));
    refuse_cls("not supported: native categorical splits (tree 2 has \"categories\")",
               TREE(2) ".categories", json_pack("[i,i]", 0, 3));
    refuse_cls("not supported: native categorical feature 1 (feature_types \"c\")",
               "learner.feature_types", json_pack("[s,s]", "q", "c"));
}

/* A model file of `len` bytes in dir/name. */
static void write_bytes(const char *dir, const char *name, const void *p, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* UBJSON and legacy binary files: refused by the evaluator and by the
 * model loader of a policy (not a JSON parse error, not "scorecard"). */
static void test_refused_formats(void **state)
{
    (void)state;
    static const char ubj[] = "{L\0\0\0\0\0\0\0\x07learner{L\0\0\0\0\0\0\0\x0e"
                              "attributes{}}}";
    static const char binf[] = "binf\0\0\0\x3f\x3d\0\0\0\0\0\0\0";
    static const char old[] = "\0\0\0\x3f\x3d\0\0\0\x01\0\0\0\0\0\0\0gbtree";
    expect_refused(ubj, sizeof ubj - 1, "not supported: UBJSON");
    expect_refused(binf, sizeof binf - 1, "not supported: legacy binary XGBoost model");
    expect_refused(old, sizeof old - 1, "not supported: legacy binary XGBoost model");
    assert_null(xgb_format_unsupported("{\"learner\": {}}", 15));
    assert_null(xgb_format_unsupported(" {\"a\":1}", 8));

    char dir[] = "/tmp/hitlq-xgbfmt-XXXXXX", err[512], cmd[64];
    assert_non_null(mkdtemp(dir));
    static const char pol[] =
        "{\"format\": \"hitlq-policy\", \"format_version\": 1, \"id\": \"p\", "
        "\"version\": \"1\", \"types\": {\"t\": {\"model\": \"m.bin\", "
        "\"auto_threshold\": 0.9, \"auto_action\": \"approve\", \"queue\": \"q\", "
        "\"priority\": 1, \"sla_seconds\": 60}}}";
    const char *files[2] = { ubj, binf };
    const size_t lens[2] = { sizeof ubj - 1, sizeof binf - 1 };
    const char *want[2] = { "not supported: UBJSON", "not supported: legacy binary" };
    write_bytes(dir, "policy.json", pol, sizeof pol - 1);
    for (int k = 0; k < 2; k++) {
        char path[128];
        struct scoring *sc = NULL;
        write_bytes(dir, "m.bin", files[k], lens[k]);
        snprintf(path, sizeof path, "%s/policy.json", dir);
        assert_int_equal(scoring_load(&sc, path, err, sizeof err), -1);
        if (!strstr(err, want[k]))
            fail_msg("message \"%s\" does not contain \"%s\"", err, want[k]);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Every prefix (in steps) of a real model must fail cleanly, never crash. */
static void test_truncated(void **state)
{
    (void)state;
    size_t len;
    char *buf = tutil_slurp(XGBU_REG_MODEL, &len);
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
        cmocka_unit_test(test_tiny_rules),
        cmocka_unit_test(test_refused_edits),
        cmocka_unit_test(test_refused_multi),
        cmocka_unit_test(test_multi_softmax),
        cmocka_unit_test(test_refused_misc),
        cmocka_unit_test(test_refused_categorical),
        cmocka_unit_test(test_refused_formats),
        cmocka_unit_test(test_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
