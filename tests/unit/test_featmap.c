/*
 * test_featmap.c - item fields -> model feature vectors (server/score/featmap.c):
 * numeric, boolean, map and one-hot entries with defaults and NaN, the
 * value pointers, bind errors (unmapped, unknown, twice mapped, index out
 * of range, names missing), loader errors, schema cross-checks, and the
 * realistic case: tests/vectors/credit_features.json maps every German
 * Credit item (tests/lib/credit_items.c) back onto the CSV's 61 feature
 * columns exactly, for all 1000 rows, and onto the XGBoost reference
 * model (tests/vectors/xgb) with its reference predictions; a dropped
 * one-hot level maps to all 0.  Prints a rough ns/item for featmap_apply.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <msgpack.h>

#include "cond.h"
#include "credit_items.h"
#include "featmap.h"
#include "model_xgb.h"
#include "schema.h"
#include "tutil.h"

#define CREDIT_FEATURES "tests/vectors/credit_features.json"
#define XGB_MODEL       "tests/vectors/xgb/credit_small.json"
#define XGB_PREDS       "tests/vectors/xgb/credit_small_preds.csv"
#define NFEAT           61
#define MAXF            64

/* ---- helpers: JSON text -> msgpack item ----------------------------------------- */

struct item {
    msgpack_sbuffer  sb;
    msgpack_unpacked up;
};

static const msgpack_object *item_make(struct item *it, const char *json)
{
    json_error_t jerr;
    json_t *j = json_loads(json, 0, &jerr);
    if (!j)
        fail_msg("bad test JSON %s: %s", json, jerr.text);
    msgpack_packer pk;
    msgpack_sbuffer_init(&it->sb);
    msgpack_packer_init(&pk, &it->sb, msgpack_sbuffer_write);
    tutil_pack_json(&pk, j);
    json_decref(j);
    msgpack_unpacked_init(&it->up);
    assert_int_equal(msgpack_unpack_next(&it->up, it->sb.data, it->sb.size, NULL),
                     MSGPACK_UNPACK_SUCCESS);
    return &it->up.data;
}

static void item_done(struct item *it)
{
    msgpack_unpacked_destroy(&it->up);
    msgpack_sbuffer_destroy(&it->sb);
}

static json_t *jparse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!j)
        fail_msg("bad test JSON %s: %s", text, jerr.text);
    return j;
}

/* ---- helpers: featmap ------------------------------------------------------------ */

static struct featmap *fm_from(const char *features, const struct schema *s)
{
    char err[512];
    json_t *j = jparse(features);
    struct featmap *fm = featmap_load(j, s, "pol.json: types.\"t\"", err, sizeof err);
    json_decref(j);
    if (!fm)
        fail_msg("featmap_load: %s", err);
    return fm;
}

static void fm_fails(const char *features, const struct schema *s, const char *want)
{
    char err[512] = "";
    json_t *j = jparse(features);
    struct featmap *fm = featmap_load(j, s, "pol.json: types.\"t\"", err, sizeof err);
    json_decref(j);
    if (fm)
        fail_msg("featmap_load(%s) succeeded", features);
    if (!strstr(err, want) || strncmp(err, "pol.json: types.\"t\": ", 21) != 0)
        fail_msg("featmap_load: \"%s\" lacks \"%s\"", err, want);
}

static void bind_ok(struct featmap *fm, const char *const *names, size_t n)
{
    char err[512];
    if (featmap_bind(fm, names, n, "m.json", err, sizeof err) != 0)
        fail_msg("featmap_bind: %s", err);
    assert_int_equal(featmap_n_features(fm), n);
}

static void bind_fails(struct featmap *fm, const char *const *names, size_t n, const char *want)
{
    char err[512] = "";
    assert_int_equal(featmap_bind(fm, names, n, "m.json", err, sizeof err), -1);
    if (!strstr(err, want) || strncmp(err, "m.json: ", 8) != 0)
        fail_msg("featmap_bind: \"%s\" lacks \"%s\"", err, want);
    assert_int_equal(featmap_n_features(fm), 0);
}

static struct schema *schema_from(const char *fields)
{
    char err[512];
    json_t *j = jparse(fields);
    struct schema *s = schema_load(j, NULL, "pol.json", err, sizeof err);
    json_decref(j);
    if (!s)
        fail_msg("schema_load: %s", err);
    return s;
}

/* Applies fm to item `ij`: x (MAXF), vals (MAXF); returns the missing count. */
static size_t apply(const struct featmap *fm, const char *ij, float *x,
                    const msgpack_object **vals, struct item *it)
{
    for (size_t i = 0; i < MAXF; i++)
        x[i] = 12345.0f;                          /* must all be overwritten */
    size_t miss = featmap_apply(fm, item_make(it, ij), x, vals);
    for (size_t i = 0; i < featmap_n_features(fm); i++)
        assert_true(x[i] != 12345.0f);
    return miss;
}

/* ---- entry kinds ------------------------------------------------------------------- */

static void test_numeric(void **st)
{
    (void)st;
    static const char *const names[] = { "a", "b", "c", "d" };
    struct featmap *fm = fm_from(
        "[{\"feature\": \"a\", \"field\": \"x\"}, {\"feature\": \"b\", \"field\": \"t\"},"
        " {\"feature\": \"c\", \"field\": \"age\", \"default\": 35},"
        " {\"feature\": \"d\", \"field\": \"f\", \"description\": \"a float\"}]", NULL);
    bind_ok(fm, names, 4);
    assert_int_equal(featmap_n_inputs(fm), 4);
    struct item it;
    float x[MAXF];
    const msgpack_object *vals[MAXF];
    assert_int_equal(apply(fm, "{\"x\": 16777217, \"t\": true, \"age\": 40.5, \"f\": 0.1}",
                           x, vals, &it), 0);
    assert_true(x[0] == 16777216.0f);            /* (float)(double)16777217 */
    assert_true(x[1] == 1.0f);
    assert_true(x[2] == 40.5f);
    assert_true(x[3] == (float)0.1);
    for (int i = 0; i < 4; i++)
        assert_ptr_equal(vals[i], cond_lookup(&it.up.data, (const char *[]){ "x", "t", "age", "f" }[i]));
    item_done(&it);

    assert_int_equal(apply(fm, "{\"t\": false, \"age\": null, \"f\": \"3\", \"zz\": 1}", x, vals, &it), 3);
    assert_true(isnan(x[0]));                    /* absent, no default */
    assert_true(x[1] == 0.0f);
    assert_true(x[2] == 35.0f);                  /* nil -> default */
    assert_true(isnan(x[3]));                    /* wrong type */
    assert_null(vals[0]);
    assert_ptr_equal(vals[1], cond_lookup(&it.up.data, "t"));
    assert_null(vals[2]);
    assert_ptr_equal(vals[3], cond_lookup(&it.up.data, "f"));   /* present but unusable */
    item_done(&it);

    assert_int_equal(apply(fm, "{\"x\": -9007199254740993, \"t\": 2, \"age\": [1], \"f\": -0.0}",
                           x, NULL, &it), 1);
    assert_true(x[0] == (float)(double)-9007199254740993LL);
    assert_true(x[1] == 2.0f);
    assert_true(x[2] == 35.0f);
    assert_true(x[3] == 0.0f && signbit(x[3]));
    item_done(&it);
    featmap_free(fm);
}

static void test_map(void **st)
{
    (void)st;
    static const char *const names[] = { "tel", "lvl", "code" };
    struct featmap *fm = fm_from(
        "[{\"feature\": \"tel\", \"field\": \"telephone\", \"map\": {\"true\": 0, \"false\": 1}},"
        " {\"feature\": \"lvl\", \"field\": \"level\", \"map\": {\"low\": 1, \"mid\": 2.5, \"high\": 4}},"
        " {\"feature\": \"code\", \"field\": \"code\", \"map\": {\"-2\": 10, \"7\": 70, \"18446744073709551615\": 5},"
        "  \"default\": -1}]", NULL);
    bind_ok(fm, names, 3);
    struct item it;
    float x[MAXF];
    const msgpack_object *vals[MAXF];
    assert_int_equal(apply(fm, "{\"telephone\": true, \"level\": \"mid\", \"code\": -2}", x, vals, &it), 0);
    assert_true(x[0] == 0.0f && x[1] == 2.5f && x[2] == 10.0f);
    item_done(&it);
    assert_int_equal(apply(fm, "{\"telephone\": false, \"level\": \"none\", \"code\": 7.0}", x, vals, &it), 1);
    assert_true(x[0] == 1.0f && isnan(x[1]) && x[2] == 70.0f);
    assert_ptr_equal(vals[1], cond_lookup(&it.up.data, "level"));   /* not in the map */
    item_done(&it);
    assert_int_equal(apply(fm, "{\"level\": 3, \"code\": 8}", x, vals, &it), 3);
    assert_true(isnan(x[0]) && isnan(x[1]) && x[2] == -1.0f);
    assert_null(vals[0]);
    assert_non_null(vals[1]);
    item_done(&it);
    assert_int_equal(apply(fm, "{\"telephone\": \"true\", \"level\": \"low\", \"code\": 7.5}", x, vals, &it), 1);
    assert_true(x[0] == 0.0f && x[1] == 1.0f && x[2] == -1.0f);  /* "true" string matches too */
    item_done(&it);
    /* uint64 max in decimal */
    msgpack_sbuffer_init(&it.sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &it.sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "code", 4);
    msgpack_pack_uint64(&pk, UINT64_MAX);
    msgpack_unpacked_init(&it.up);
    assert_int_equal(msgpack_unpack_next(&it.up, it.sb.data, it.sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(featmap_apply(fm, &it.up.data, x, vals), 2);
    assert_true(x[2] == 5.0f);
    item_done(&it);
    featmap_free(fm);
}

static void test_one_hot(void **st)
{
    (void)st;
    static const char *const names[] = { "C.none", "C.lt.0", "N2", "C.gt.200", "N1", "B.yes" };
    struct featmap *fm = fm_from(
        "[{\"field\": \"c\", \"one_hot\": {\"lt.0\": \"C.lt.0\", \"none\": \"C.none\", \"gt.200\": \"C.gt.200\"}},"
        " {\"field\": \"n\", \"one_hot\": {\"1\": \"N1\", \"2\": \"N2\"}, \"default\": 0},"
        " {\"field\": \"b\", \"one_hot\": {\"true\": 5}}]", NULL);       /* 5: B.yes by index */
    bind_ok(fm, names, 6);
    assert_int_equal(featmap_input_of(fm, 0), 0);
    assert_int_equal(featmap_input_of(fm, 2), 1);
    assert_int_equal(featmap_input_of(fm, 5), 2);
    assert_string_equal(featmap_input_field(fm, 1), "n");
    struct item it;
    float x[MAXF];
    const msgpack_object *vals[MAXF];
    assert_int_equal(apply(fm, "{\"c\": \"none\", \"n\": 2, \"b\": true}", x, vals, &it), 0);
    static const float want1[] = { 1, 0, 1, 0, 0, 1 };
    assert_memory_equal(x, want1, sizeof want1);
    item_done(&it);
    /* a dropped level ("0.to.200") -> all 0; "1" as a string; false not in the group */
    assert_int_equal(apply(fm, "{\"c\": \"0.to.200\", \"n\": \"1\", \"b\": false}", x, vals, &it), 0);
    static const float want2[] = { 0, 0, 0, 0, 1, 0 };
    assert_memory_equal(x, want2, sizeof want2);
    assert_non_null(vals[0]);
    item_done(&it);
    /* missing -> all NaN, or all default */
    assert_int_equal(apply(fm, "{\"c\": null, \"n\": null}", x, vals, &it), 3);
    assert_true(isnan(x[0]) && isnan(x[1]) && isnan(x[3]) && isnan(x[5]));
    assert_true(x[2] == 0.0f && x[4] == 0.0f);
    assert_null(vals[0]);
    assert_null(vals[1]);
    assert_null(vals[2]);
    item_done(&it);
    /* no string form (non-integral float, array) -> as missing, value still shown */
    assert_int_equal(apply(fm, "{\"c\": 1.5, \"n\": 2.0, \"b\": [true]}", x, vals, &it), 2);
    assert_true(isnan(x[0]) && isnan(x[1]) && isnan(x[3]) && isnan(x[5]));
    assert_true(x[2] == 1.0f && x[4] == 0.0f);                   /* 2.0 -> "2" */
    assert_ptr_equal(vals[0], cond_lookup(&it.up.data, "c"));
    item_done(&it);
    featmap_free(fm);
}

/* ---- bind ------------------------------------------------------------------------ */

static void test_bind_errors(void **st)
{
    (void)st;
    struct featmap *fm = fm_from(
        "[{\"feature\": \"a\", \"field\": \"x\"}, {\"field\": \"c\", \"one_hot\": {\"p\": \"P\", \"q\": \"Q\"}}]",
        NULL);
    bind_fails(fm, (const char *[]){ "a", "P", "Q", "Purpose.Other" }, 4,
               "model feature \"Purpose.Other\" is not produced by the type's feature mapping");
    bind_fails(fm, (const char *[]){ "a", "P" }, 2,
               "features[1]: feature \"Q\" is not in the model (2 features)");
    bind_fails(fm, (const char *[]){ "a", "P", "Q", "a" }, 4, "feature \"a\" is ambiguous");
    bind_fails(fm, NULL, 3, "feature \"a\" is named but the model has no feature names");
    bind_fails(fm, (const char *[]){ NULL, NULL, NULL }, 3, "the model has no feature names");
    /* a failed bind leaves the map unbound: apply answers "all missing" */
    struct item it;
    float x[4] = { 7, 7, 7, 7 };
    const msgpack_object *vals[2] = { (void *)1, (void *)1 };
    assert_int_equal(featmap_apply(fm, item_make(&it, "{\"x\": 1}"), x, vals), 2);
    assert_null(vals[0]);
    assert_true(x[0] == 7.0f);
    item_done(&it);
    assert_int_equal(featmap_input_of(fm, 0), SIZE_MAX);
    bind_ok(fm, (const char *[]){ "Q", "P", "a" }, 3);              /* rebind works */
    assert_int_equal(featmap_input_of(fm, 0), 1);
    assert_int_equal(featmap_input_of(fm, 2), 0);
    featmap_free(fm);

    fm = fm_from("[{\"feature\": \"Age\", \"field\": \"x\"}, {\"feature\": \"Age\", \"field\": \"y\"}]", NULL);
    bind_fails(fm, (const char *[]){ "Age" }, 1,
               "features[1]: model feature \"Age\" is mapped twice (also by features[0])");
    featmap_free(fm);
    fm = fm_from("[{\"field\": \"c\", \"one_hot\": {\"p\": \"P\", \"q\": \"P\"}}]", NULL);
    bind_fails(fm, (const char *[]){ "P" }, 1, "model feature \"P\" is mapped twice");
    featmap_free(fm);
    fm = fm_from("[{\"feature\": 1, \"field\": \"x\"}, {\"feature\": 0, \"field\": \"y\"}]", NULL);
    bind_ok(fm, NULL, 2);
    bind_fails(fm, NULL, 3, "model feature 2 is not produced");
    bind_fails(fm, NULL, 1, "features[0]: feature 1 is out of range (the model has 1 features)");
    bind_fails(fm, (const char *[]){ "zero", "one", "two" }, 3,
               "model feature \"two\" is not produced");
    bind_ok(fm, (const char *[]){ "zero", NULL }, 2);
    float xx[MAXF];
    assert_true(apply(fm, "{\"x\": 1, \"y\": 2}", xx, NULL, &it) == 0);
    assert_true(xx[0] == 2.0f && xx[1] == 1.0f);
    item_done(&it);
    featmap_free(fm);
    fm = fm_from("[{\"feature\": 0, \"field\": \"y\"}, {\"feature\": \"one\", \"field\": \"x\"}]", NULL);
    bind_ok(fm, (const char *[]){ NULL, "one" }, 2);
    featmap_free(fm);
}

static void test_load_errors(void **st)
{
    (void)st;
    fm_fails("[{\"feature\": \"a\", \"field\": \"x\", \"feat\": 1}]", NULL, "features[0]: unknown key \"feat\"");
    fm_fails("[{\"feature\": \"a\", \"field\": \"x\", \"one_hot\": {\"p\": \"P\"}}]", NULL,
             "features[0]: \"feature\" cannot be used with \"one_hot\"");
    fm_fails("[{\"map\": {\"p\": 1}, \"field\": \"x\", \"one_hot\": {\"p\": \"P\"}}]", NULL,
             "\"map\" cannot be used with \"one_hot\"");
    fm_fails("[{\"field\": \"x\"}]", NULL, "\"feature\" (or \"one_hot\") is required");
    fm_fails("[{\"feature\": \"a\"}]", NULL, "features[0]: \"field\"");
    fm_fails("[{\"feature\": \"a\", \"field\": \"\"}]", NULL, "\"field\"");
    fm_fails("[{\"feature\": \"a\", \"field\": \"x\", \"default\": \"1\"}]", NULL, "\"default\" must be a number");
    fm_fails("[{\"feature\": \"a\", \"field\": \"x\", \"map\": {\"p\": \"1\"}}]", NULL,
             "\"map\".\"p\" must be a number");
    fm_fails("[{\"feature\": \"a\", \"field\": \"x\", \"map\": {}}]", NULL, "\"map\" must be an object");
    fm_fails("[{\"field\": \"x\", \"one_hot\": {\"p\": true}}]", NULL, "\"one_hot\".\"p\" must be a feature");
    fm_fails("[{\"field\": \"x\", \"one_hot\": []}]", NULL, "\"one_hot\" must be an object");
    fm_fails("[{\"feature\": -1, \"field\": \"x\"}]", NULL, "\"feature\" must be a feature name");
    fm_fails("[{\"feature\": \"\", \"field\": \"x\"}]", NULL, "\"feature\" must be a feature name");
    fm_fails("[{\"feature\": 1.5, \"field\": \"x\"}]", NULL, "\"feature\" must be a feature name");
    fm_fails("[{\"feature\": \"a\", \"field\": \"x\", \"description\": 3}]", NULL, "\"description\"");
    fm_fails("[{\"feature\": \"a\", \"field\": \"x\"}, 3]", NULL, "features[1]: must be an object");
    fm_fails("[]", NULL, "\"features\" must be an array");
    fm_fails("{}", NULL, "\"features\" must be an array");
    static char big[32 * 1024];
    strcpy(big, "[");
    for (int i = 0; i < 257; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big), "%s{\"feature\": %d, \"field\": \"f%d\"}",
                 i ? "," : "", i, i);
    strcat(big, "]");
    fm_fails(big, NULL, "features[256]: the mapping reads more than 256 distinct fields");
}

static void test_schema_cross_checks(void **st)
{
    (void)st;
    struct schema *s = schema_from(
        "{\"amount\": {\"type\": \"number\"}, \"months\": {\"type\": \"integer\"},"
        " \"tel\": {\"type\": \"boolean\"}, \"note\": {\"type\": \"string\"},"
        " \"purpose\": {\"type\": \"string\", \"values\": [\"Car\", \"Other\"], \"missing\": [\"unknown\"]},"
        " \"code\": {\"type\": \"integer\", \"missing\": [-1]}}");
    fm_fails("[{\"feature\": 0, \"field\": \"zz\"}]", s, "features[0]: field \"zz\" is not declared");
    fm_fails("[{\"feature\": 0, \"field\": \"note\"}]", s, "a numeric entry needs a number");
    fm_fails("[{\"field\": \"amount\", \"one_hot\": {\"1\": 0}}]", s, "\"map\" and \"one_hot\" need a string");
    fm_fails("[{\"field\": \"purpose\", \"one_hot\": {\"Car\": 0, \"Boat\": 1}}]", s,
             "key \"Boat\" is not a possible value of string field \"purpose\" (not among its \"values\")");
    fm_fails("[{\"feature\": 0, \"field\": \"tel\", \"map\": {\"yes\": 1}}]", s,
             "key \"yes\" is not a possible value of boolean field \"tel\"");
    fm_fails("[{\"feature\": 0, \"field\": \"months\", \"map\": {\"01\": 1}}]", s, "key \"01\"");
    fm_fails("[{\"feature\": 0, \"field\": \"months\", \"map\": {\"-0\": 1}}]", s, "key \"-0\"");
    struct featmap *fm = fm_from(
        "[{\"feature\": 0, \"field\": \"amount\"}, {\"feature\": 1, \"field\": \"tel\"},"
        " {\"feature\": 2, \"field\": \"months\", \"map\": {\"-12\": 1, \"0\": 2}},"
        " {\"field\": \"note\", \"one_hot\": {\"anything\": 3}},"
        " {\"field\": \"purpose\", \"one_hot\": {\"Car\": 4}},"
        " {\"feature\": 5, \"field\": \"code\", \"default\": 9}]", s);
    bind_ok(fm, NULL, 6);
    struct item it;
    float x[MAXF];
    const msgpack_object *vals[MAXF];
    assert_int_equal(apply(fm, "{\"amount\": 1, \"tel\": true, \"months\": -12, \"note\": \"x\","
                               " \"purpose\": \"unknown\", \"code\": -1}", x, vals, &it), 2);
    assert_true(x[0] == 1.0f && x[1] == 1.0f && x[2] == 1.0f && x[3] == 0.0f);
    assert_true(isnan(x[4]));                    /* sentinel -> missing */
    assert_true(x[5] == 9.0f);                   /* numeric sentinel -> default */
    assert_null(vals[4]);
    assert_null(vals[5]);
    item_done(&it);
    assert_int_equal(apply(fm, "{\"amount\": 1, \"tel\": true, \"months\": 0, \"note\": \"x\","
                               " \"purpose\": \"Other\", \"code\": -2}", x, vals, &it), 0);
    assert_true(x[2] == 2.0f && x[4] == 0.0f && x[5] == -2.0f);
    assert_non_null(vals[4]);
    item_done(&it);
    featmap_free(fm);
    schema_free(s);
}

/* ---- the German-credit mapping on every CSV row ------------------------------------- */

/* The CSV without Class: names (61, strdup'ed) and rows (1000 x 61 floats). */
struct csv {
    char  *names[NFEAT];
    float (*rows)[NFEAT];
    size_t n;
};

static void csv_load(struct csv *c)
{
    FILE *f = fopen(CREDIT_ITEMS_CSV, "r");
    char line[8192], *cells[80];
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    size_t nc = credit_csv_split(line, cells, 80), k = 0, klass = SIZE_MAX;
    assert_int_equal(nc, NFEAT + 1);
    for (size_t i = 0; i < nc; i++) {
        if (strcmp(cells[i], "Class") == 0)
            klass = i;
        else
            c->names[k++] = strdup(cells[i]);
    }
    assert_true(klass != SIZE_MAX);
    c->rows = calloc(1100, sizeof *c->rows);
    assert_non_null(c->rows);
    c->n = 0;
    while (fgets(line, sizeof line, f) && c->n < 1100) {
        assert_int_equal(credit_csv_split(line, cells, 80), nc);
        k = 0;
        for (size_t i = 0; i < nc; i++)
            if (i != klass)
                c->rows[c->n][k++] = (float)strtod(cells[i], NULL);
        c->n++;
    }
    fclose(f);
}

static void csv_free(struct csv *c)
{
    for (size_t i = 0; i < NFEAT; i++)
        free(c->names[i]);
    free(c->rows);
}

static json_t *credit_json(void)
{
    json_error_t jerr;
    json_t *j = json_load_file(CREDIT_FEATURES, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        fail_msg("%s: %s", CREDIT_FEATURES, jerr.text);
    return j;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

struct credit_fixture {
    struct csv          csv;
    struct credit_item *items;
    size_t              n;
    msgpack_unpacked   *up;
    json_t             *root;
    struct schema      *s;
};

static int credit_setup(void **st)
{
    if (access(CREDIT_ITEMS_CSV, R_OK) != 0) {
        print_message("skipped: %s not found (run from the repo root)\n", CREDIT_ITEMS_CSV);
        *st = NULL;
        return 0;
    }
    struct credit_fixture *cf = calloc(1, sizeof *cf);
    char err[512];
    assert_non_null(cf);
    csv_load(&cf->csv);
    assert_int_equal(credit_items_load(CREDIT_ITEMS_CSV, &cf->items, &cf->n), 0);
    assert_int_equal(cf->n, cf->csv.n);
    assert_int_equal(cf->n, 1000);
    cf->up = calloc(cf->n, sizeof *cf->up);
    assert_non_null(cf->up);
    for (size_t i = 0; i < cf->n; i++) {
        msgpack_unpacked_init(&cf->up[i]);
        assert_int_equal(msgpack_unpack_next(&cf->up[i], (const char *)cf->items[i].fields,
                                             cf->items[i].fields_len, NULL), MSGPACK_UNPACK_SUCCESS);
    }
    cf->root = credit_json();
    cf->s = schema_load(json_object_get(cf->root, "fields"), NULL, CREDIT_FEATURES, err, sizeof err);
    if (!cf->s)
        fail_msg("%s", err);
    *st = cf;
    return 0;
}

static int credit_teardown(void **st)
{
    struct credit_fixture *cf = *st;
    if (!cf)
        return 0;
    for (size_t i = 0; i < cf->n; i++)
        msgpack_unpacked_destroy(&cf->up[i]);
    free(cf->up);
    credit_items_free(cf->items, cf->n);
    schema_free(cf->s);
    json_decref(cf->root);
    csv_free(&cf->csv);
    free(cf);
    return 0;
}

static void test_credit_csv_exact(void **st)
{
    struct credit_fixture *cf = *st;
    char err[512];
    if (!cf)
        skip();
    struct featmap *fm = featmap_load(json_object_get(cf->root, "features"), cf->s,
                                      CREDIT_FEATURES, err, sizeof err);
    if (!fm)
        fail_msg("%s", err);
    assert_int_equal(featmap_n_inputs(fm), 20);
    bind_ok(fm, (const char *const *)cf->csv.names, NFEAT);
    float x[NFEAT];
    const msgpack_object *vals[32];
    for (size_t r = 0; r < cf->n; r++) {
        assert_int_equal(featmap_apply(fm, &cf->up[r].data, x, vals), 0);
        for (size_t j = 0; j < NFEAT; j++)
            if (memcmp(&x[j], &cf->csv.rows[r][j], sizeof x[j]) != 0)
                fail_msg("%s: feature %s = %g, CSV %g", cf->items[r].key, cf->csv.names[j],
                         (double)x[j], (double)cf->csv.rows[r][j]);
        for (size_t i = 0; i < 20; i++)
            assert_ptr_equal(vals[i], cond_lookup(&cf->up[r].data, featmap_input_field(fm, i)));
    }
    /* every one-hot column belongs to its group's entry */
    assert_string_equal(featmap_input_field(fm, featmap_input_of(fm, 60)), "job");
    assert_string_equal(featmap_input_field(fm, featmap_input_of(fm, 7)), "telephone");
    size_t reps = 200;
    double t0 = now_ns();
    for (size_t k = 0; k < reps; k++)
        for (size_t r = 0; r < cf->n; r++)
            featmap_apply(fm, &cf->up[r].data, x, vals);
    print_message("featmap_apply: %.0f ns/item (20 inputs, 61 features; this build)\n",
                  (now_ns() - t0) / (double)(reps * cf->n));
    featmap_free(fm);
}

/* The same mapping bound to the XGBoost reference model: the predictions of
 * rows 1-120 match Debian xgboost's (tests/vectors/xgb). */
static void test_credit_xgb_model(void **st)
{
    struct credit_fixture *cf = *st;
    char err[512];
    if (!cf)
        skip();
    FILE *f = fopen(XGB_MODEL, "rb");
    assert_non_null(f);
    static char buf[4 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct xgb_model *m = xgb_load(buf, len, err, sizeof err);
    if (!m)
        fail_msg("%s", err);
    assert_int_equal(xgb_num_feature(m), NFEAT);
    const char *names[NFEAT];
    for (size_t j = 0; j < NFEAT; j++)
        names[j] = xgb_feature_name(m, j);
    struct featmap *fm = featmap_load(json_object_get(cf->root, "features"), cf->s,
                                      CREDIT_FEATURES, err, sizeof err);
    assert_non_null(fm);
    bind_ok(fm, names, NFEAT);
    f = fopen(XGB_PREDS, "r");
    assert_non_null(f);
    char line[8192];
    assert_non_null(fgets(line, sizeof line, f));
    for (size_t r = 0; r < 120; r++) {
        assert_non_null(fgets(line, sizeof line, f));
        double want = strtod(line, NULL);
        float x[NFEAT];
        assert_int_equal(featmap_apply(fm, &cf->up[r].data, x, NULL), 0);
        double got = xgb_predict(m, x, NULL);
        if (fabs(got - want) > 1e-6)
            fail_msg("row %zu: %.9g, xgboost %.9g", r + 1, got, want);
    }
    fclose(f);
    featmap_free(fm);
    xgb_free(m);
}

/* A model without the column of a level: that level maps to all 0. */
static void test_credit_dropped_level(void **st)
{
    struct credit_fixture *cf = *st;
    char err[512];
    if (!cf)
        skip();
    json_t *features = json_deep_copy(json_object_get(cf->root, "features"));
    json_t *oh = json_object_get(json_array_get(features, 9), "one_hot");
    assert_non_null(json_object_get(oh, "none"));
    assert_int_equal(json_object_del(oh, "none"), 0);
    const char *names[NFEAT - 1];
    size_t k = 0, dropped = SIZE_MAX;
    for (size_t j = 0; j < NFEAT; j++) {
        if (strcmp(cf->csv.names[j], "CheckingAccountStatus.none") == 0)
            dropped = j;
        else
            names[k++] = cf->csv.names[j];
    }
    assert_true(dropped != SIZE_MAX);
    struct featmap *fm = featmap_load(features, cf->s, CREDIT_FEATURES, err, sizeof err);
    assert_non_null(fm);
    bind_ok(fm, names, NFEAT - 1);
    size_t n_none = 0;
    for (size_t r = 0; r < cf->n; r++) {
        float x[NFEAT - 1];
        assert_int_equal(featmap_apply(fm, &cf->up[r].data, x, NULL), 0);
        n_none += cf->csv.rows[r][dropped] == 1.0f;
        for (size_t j = 0, c = 0; j < NFEAT; j++)
            if (j != dropped)
                assert_true(x[c++] == cf->csv.rows[r][j]);
    }
    assert_int_equal(n_none, 394);   /* rows whose checking group is now all 0 */
    featmap_free(fm);
    json_decref(features);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_one_hot),
        cmocka_unit_test(test_bind_errors),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_schema_cross_checks),
    };
    const struct CMUnitTest credit[] = {
        cmocka_unit_test(test_credit_csv_exact),
        cmocka_unit_test(test_credit_xgb_model),
        cmocka_unit_test(test_credit_dropped_level),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | cmocka_run_group_tests(credit, credit_setup, credit_teardown);
}
