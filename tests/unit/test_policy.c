/*
 * test_policy.c - the policy layer end to end on the bundled XGBoost
 * credit policy (server/score/defaults/credit_policy.json, embedded):
 *
 *   - the whole item path (fields map -> feature mapping -> trees) against
 *     python xgboost 1.7.4's predictions in tests/vectors/credit_xgb_items.csv,
 *     full items and items with one field removed;
 *   - explanations: reasons grouped per mapping entry, checked against the
 *     evaluator's per-feature contributions of the raw CSV row, grouped
 *     here from the policy JSON;
 *   - triage routes of all 1000 German Credit rows, expected routes derived
 *     from the reference predictions and the CSV's Amount column;
 *   - data-quality routing (rule ids, codes, totals), optional fields;
 *   - the seeded QA sample; strict policy loading (each error names its
 *     key); the binned scorecard feature.
 *
 * Run from the repo root; the CSV-based tests skip when ../shared/data is
 * absent.  Temporary files go to a mkdtemp directory under /tmp.
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <msgpack.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "cond.h"
#include "credit_items.h"
#include "defaults.h"
#include "featmap.h"
#include "model_xgb.h"
#include "schema.h"
#include "score.h"
#include "tutil.h"

#define REF_ITEMS   "tests/vectors/credit_xgb_items.csv"
#define SMALL_MODEL "tests/vectors/xgb/credit_small.json"
#define SMALL_PREDS "tests/vectors/xgb/credit_small_preds.csv"
#define REG_MODEL   "tests/vectors/xgb/credit_small_reg.json"
#define TYPE        "credit_application"
#define N_ROWS      1000u
#define N_COLS      61u     /* model features: every CSV column but Class */
#define N_INPUTS    20u     /* entries of the default feature mapping */

/* Row 1 of the CSV as an item (pred 0.9399: auto-approved as is). */
static const char *const base_item_json =
    "{\"duration_months\":6,\"amount\":1169,\"installment_rate\":4,"
    "\"residence_years\":4,\"age\":67,\"existing_credits\":2,\"dependents\":1,"
    "\"telephone\":true,\"foreign_worker\":true,\"checking_account\":\"lt.0\","
    "\"credit_history\":\"Critical\",\"purpose\":\"Radio.Television\","
    "\"savings\":\"Unknown\",\"employment\":\"gt.7\",\"personal\":\"Male.Single\","
    "\"other_debtors\":\"None\",\"property\":\"RealEstate\","
    "\"other_installment_plans\":\"None\",\"housing\":\"Own\","
    "\"job\":\"SkilledEmployee\"}";

/* A scorecard reading a number "a" and a category "d". */
static const char *const tiny_scorecard =
    "{\"format\":\"hitlq-scorecard\",\"format_version\":1,\"id\":\"tiny\","
    "\"version\":\"1\",\"link\":\"logistic\",\"bias\":0.25,\"features\":["
    "{\"field\":\"a\",\"kind\":\"numeric\",\"weight\":0.5,\"mean\":1},"
    "{\"field\":\"d\",\"kind\":\"categorical\",\"weights\":{\"x\":1.5,\"y\":-0.5},"
    "\"baseline\":0.5}]}";

/* ---- items ------------------------------------------------------------------ */

struct test_item {
    msgpack_sbuffer  sb;
    msgpack_unpacked up;
};

/* One edit of an item: set `field` to the JSON `value`, or remove it (NULL). */
struct edit {
    const char *field;
    const char *value;
};

static void pack_json_text(msgpack_packer *pk, const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    tutil_pack_json(pk, v);
    json_decref(v);
}

static void item_unpack(struct test_item *it)
{
    msgpack_unpacked_init(&it->up);
    assert_int_equal(msgpack_unpack_next(&it->up, it->sb.data, it->sb.size, NULL),
                     MSGPACK_UNPACK_SUCCESS);
}

static void item_from_json(struct test_item *it, const char *text)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(&it->sb);
    msgpack_packer_init(&pk, &it->sb, msgpack_sbuffer_write);
    pack_json_text(&pk, text);
    item_unpack(it);
}

static int edit_of(const msgpack_object *key, const struct edit *ed, size_t n_ed)
{
    for (size_t e = 0; e < n_ed; e++)
        if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == strlen(ed[e].field) &&
            memcmp(key->via.str.ptr, ed[e].field, key->via.str.size) == 0)
            return (int)e;
    return -1;
}

/* Copies the map `src` into it with the edits applied (setting an absent
 * field appends it). */
static void item_edit(struct test_item *it, const msgpack_object *src,
                      const struct edit *ed, size_t n_ed)
{
    bool seen[32] = { false };
    uint32_t n = 0;
    msgpack_packer pk;

    assert_true(src->type == MSGPACK_OBJECT_MAP && n_ed <= 32);
    for (uint32_t k = 0; k < src->via.map.size; k++) {
        int e = edit_of(&src->via.map.ptr[k].key, ed, n_ed);
        n += e < 0 || ed[e].value != NULL;
        if (e >= 0)
            seen[e] = true;
    }
    for (size_t e = 0; e < n_ed; e++)
        n += !seen[e] && ed[e].value != NULL;
    msgpack_sbuffer_init(&it->sb);
    msgpack_packer_init(&pk, &it->sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, n);
    for (uint32_t k = 0; k < src->via.map.size; k++) {
        const msgpack_object_kv *kv = &src->via.map.ptr[k];
        int e = edit_of(&kv->key, ed, n_ed);
        if (e >= 0 && ed[e].value == NULL)
            continue;
        msgpack_pack_object(&pk, kv->key);
        if (e < 0)
            msgpack_pack_object(&pk, kv->val);
        else
            pack_json_text(&pk, ed[e].value);
    }
    for (size_t e = 0; e < n_ed; e++)
        if (!seen[e] && ed[e].value != NULL) {
            msgpack_pack_str_with_body(&pk, ed[e].field, strlen(ed[e].field));
            pack_json_text(&pk, ed[e].value);
        }
    item_unpack(it);
}

static void item_free(struct test_item *it)
{
    msgpack_unpacked_destroy(&it->up);
    msgpack_sbuffer_destroy(&it->sb);
}

/* ---- the German Credit CSV and the reference predictions -------------------- */

static bool csv_present(void)
{
    if (access(CREDIT_ITEMS_CSV, R_OK) == 0)
        return true;
    print_message("skipped: %s not found (run from the repo root)\n", CREDIT_ITEMS_CSV);
    return false;
}

/* The 1000 rows as packed, unpacked `credit_application` items. */
struct credit_set {
    struct credit_item *items;
    size_t              n;
    msgpack_unpacked   *up;
};

static void credit_load(struct credit_set *cs)
{
    assert_int_equal(credit_items_load(CREDIT_ITEMS_CSV, &cs->items, &cs->n), 0);
    assert_int_equal(cs->n, N_ROWS);
    cs->up = calloc(cs->n, sizeof *cs->up);
    assert_non_null(cs->up);
    for (size_t i = 0; i < cs->n; i++) {
        msgpack_unpacked_init(&cs->up[i]);
        assert_int_equal(msgpack_unpack_next(&cs->up[i], (const char *)cs->items[i].fields,
                                             cs->items[i].fields_len, NULL),
                         MSGPACK_UNPACK_SUCCESS);
    }
}

static void credit_free(struct credit_set *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        msgpack_unpacked_destroy(&cs->up[i]);
    free(cs->up);
    credit_items_free(cs->items, cs->n);
}

/* The raw CSV: the 61 model columns as float32 (as XGBoost's DMatrix) and
 * the Amount column. */
struct csv_data {
    char   names[N_COLS][64];
    float  x[N_ROWS][N_COLS];
    double amount[N_ROWS];
};

static struct csv_data *csv_read(void)
{
    static char line[8192];
    char *cells[N_COLS + 8];
    size_t cls = SIZE_MAX, amt = SIZE_MAX, row = 0;
    struct csv_data *d = calloc(1, sizeof *d);
    FILE *f = fopen(CREDIT_ITEMS_CSV, "r");

    assert_non_null(d);
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_int_equal(credit_csv_split(line, cells, N_COLS + 8), N_COLS + 1);
    for (size_t c = 0, j = 0; c < N_COLS + 1; c++) {
        if (strcmp(cells[c], "Class") == 0) {
            cls = c;
            continue;
        }
        if (strcmp(cells[c], "Amount") == 0)
            amt = c;
        snprintf(d->names[j++], sizeof d->names[0], "%s", cells[c]);
    }
    assert_true(cls != SIZE_MAX && amt != SIZE_MAX);
    while (fgets(line, sizeof line, f)) {
        assert_true(row < N_ROWS);
        assert_int_equal(credit_csv_split(line, cells, N_COLS + 8), N_COLS + 1);
        for (size_t c = 0, j = 0; c < N_COLS + 1; c++)
            if (c != cls)
                d->x[row][j++] = (float)strtod(cells[c], NULL);
        d->amount[row++] = strtod(cells[amt], NULL);
    }
    fclose(f);
    assert_int_equal(row, N_ROWS);
    return d;
}

/* One line of tests/vectors/credit_xgb_items.csv. */
struct ref_line {
    int    row;              /* 1-based CSV row */
    char   dropped[40];      /* "-" = the full item */
    double pred, margin;
};

static struct ref_line *ref_read(size_t *n)
{
    char line[256];
    struct ref_line *ref = calloc(2 * N_ROWS, sizeof *ref);
    FILE *f = fopen(REF_ITEMS, "r");

    assert_non_null(ref);
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_int_equal(strncmp(line, "row,dropped_field,pred,margin", 29), 0);
    *n = 0;
    while (fgets(line, sizeof line, f)) {
        struct ref_line *l = &ref[*n];
        assert_true(*n < 2 * N_ROWS);
        assert_int_equal(sscanf(line, "%d,%39[^,],%lf,%lf", &l->row, l->dropped,
                                &l->pred, &l->margin), 4);
        (*n)++;
    }
    fclose(f);
    return ref;
}

/* ---- policies ---------------------------------------------------------------- */

static const struct type_policy *load_default(struct scoring **s)
{
    char err[512];
    if (scoring_load(s, NULL, err, sizeof err) != 0)
        fail_msg("scoring_load(NULL): %s", err);
    const struct type_policy *p = scoring_policy(*s, TYPE);
    assert_non_null(p);
    assert_true(model_is_tree(p->model));
    return p;
}

static json_t *default_policy_json(void)
{
    size_t len;
    const unsigned char *bytes = defaults_policy(&len);
    json_t *root = json_loadb((const char *)bytes, len, 0, NULL);
    assert_non_null(root);
    return root;
}

static json_t *type_of(json_t *root, const char *type)
{
    json_t *t = json_object_get(json_object_get(root, "types"), type);
    assert_non_null(t);
    return t;
}

/* The mapping entry (reason group) producing model feature `name`, by the
 * policy JSON's "features": -1 if none. */
static long group_of(const json_t *features, const char *name)
{
    size_t i;
    const json_t *e;

    json_array_foreach(features, i, e) {
        const json_t *oh = json_object_get(e, "one_hot"), *v;
        const char *k;
        if (json_is_string(json_object_get(e, "feature")) &&
            strcmp(json_string_value(json_object_get(e, "feature")), name) == 0)
            return (long)i;
        json_object_foreach((json_t *)oh, k, v)
            if (strcmp(json_string_value(v), name) == 0)
                return (long)i;
    }
    return -1;
}

static bool near(double a, double b, double rel, double abs_tol)
{
    return fabs(a - b) <= abs_tol + rel * fabs(b);
}

/* ---- temporary files ------------------------------------------------------------ */

static void make_tmpdir(char *dir)
{
    assert_non_null(mkdtemp(dir));
}

static void rm_tmpdir(const char *dir)
{
    char path[600];
    DIR *d = opendir(dir);
    struct dirent *de;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        assert_int_equal(unlink(path), 0);
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

static void write_bytes(const char *dir, const char *name, const void *bytes, size_t len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void copy_file(const char *dir, const char *name, const char *src)
{
    size_t len;
    char *bytes = tutil_slurp(src, &len);
    write_bytes(dir, name, bytes, len);
    free(bytes);
}

/* The embedded credit_xgb.json written to dir/name. */
static void write_default_model(const char *dir, const char *name)
{
    size_t len;
    const unsigned char *bytes = defaults_file("credit_xgb.json", &len);
    assert_non_null(bytes);
    write_bytes(dir, name, bytes, len);
}

/* Writes root to dir/name and loads it (must succeed). */
static struct scoring *load_json_policy(const char *dir, const char *name, const json_t *root)
{
    char path[600], err[512];
    struct scoring *s = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(json_dump_file(root, path, JSON_INDENT(1)), 0);
    if (scoring_load(&s, path, err, sizeof err) != 0)
        fail_msg("%s: %s", path, err);
    return s;
}

/* Writes root to dir/policy.json; loading must fail with every `want` in
 * the message (and the file name). */
static void expect_policy_error(const char *dir, const json_t *root, const char *want,
                                const char *want2)
{
    char path[600], err[512] = "";
    struct scoring *s = NULL;
    snprintf(path, sizeof path, "%s/policy.json", dir);
    assert_int_equal(json_dump_file(root, path, JSON_INDENT(1)), 0);
    if (scoring_load(&s, path, err, sizeof err) == 0 || strstr(err, want) == NULL ||
        (want2 != NULL && strstr(err, want2) == NULL) || strstr(err, path) == NULL)
        fail_msg("got \"%s\", want \"%s\"%s%s", err, want, want2 ? " and " : "",
                 want2 ? want2 : "");
    assert_null(s);
}

/* ---- 1. the item path against python xgboost ---------------------------------- */

/* Scores reference line l: the full row, or the row without l->dropped
 * through score_item_method (triage would send it to data quality). */
static void score_ref_line(const struct type_policy *p, const msgpack_object *full,
                           const struct ref_line *l, struct score_result *r)
{
    struct test_item it;
    struct edit ed = { l->dropped, NULL };

    if (strcmp(l->dropped, "-") == 0) {
        assert_int_equal(score_item(p, full, r), HITLQ_ST_OK);
        return;
    }
    assert_non_null(cond_lookup(full, l->dropped));
    item_edit(&it, full, &ed, 1);
    assert_null(cond_lookup(&it.up.data, l->dropped));
    assert_int_equal(it.up.data.via.map.size, full->via.map.size - 1);
    assert_int_equal(score_item_method(p, &it.up.data, SCORE_METHOD_APPROX, r), HITLQ_ST_OK);
    item_free(&it);
}

static void test_item_path_matches_xgboost(void **state)
{
    (void)state;
    if (!csv_present())
        return;
    struct credit_set cs;
    struct scoring *s;
    const struct type_policy *p = load_default(&s);
    size_t n_ref, compared = 0, n_dropped = 0, fields_seen = 0;
    struct ref_line *ref = ref_read(&n_ref);
    double worst_s = 0, worst_m = 0;
    char seen[N_INPUTS][40] = { { 0 } };

    credit_load(&cs);
    assert_int_equal(n_ref, 2 * N_ROWS);
    for (size_t k = 0; k < n_ref; k++) {
        const struct ref_line *l = &ref[k];
        bool dropped = strcmp(l->dropped, "-") != 0;
        struct score_result r;

        assert_int_equal(l->row, (int)(k / 2 + 1));
        assert_int_equal(dropped, k % 2 == 1);
        score_ref_line(p, &cs.up[l->row - 1].data, l, &r);
        if (!near(r.score, l->pred, 1e-6, 1e-6) || !near(r.margin, l->margin, 1e-5, 1e-5))
            fail_msg("row %d drop %s: score %.9g margin %.9g, xgboost %.9g %.9g",
                     l->row, l->dropped, r.score, r.margin, l->pred, l->margin);
        if (r.complete == dropped)
            fail_msg("row %d drop %s: complete %d", l->row, l->dropped, r.complete);
        assert_int_equal(r.method, SCORE_METHOD_APPROX);
        worst_s = fmax(worst_s, fabs(r.score - l->pred));
        worst_m = fmax(worst_m, fabs(r.margin - l->margin));
        n_dropped += dropped;
        compared++;
        size_t f = 0;
        while (dropped && f < fields_seen && strcmp(seen[f], l->dropped) != 0)
            f++;
        if (dropped && f == fields_seen) {
            assert_true(fields_seen < N_INPUTS);
            snprintf(seen[fields_seen++], sizeof seen[0], "%s", l->dropped);
        }
    }
    print_message("item path: %zu rows compared (%zu with a field removed, %zu distinct "
                  "fields); max |d score| %.3g, max |d margin| %.3g\n",
                  compared, n_dropped, fields_seen, worst_s, worst_m);
    assert_int_equal(compared, 2 * N_ROWS);
    assert_int_equal(n_dropped, N_ROWS);
    assert_int_equal(fields_seen, N_INPUTS);
    free(ref);
    credit_free(&cs);
    scoring_free(s);
}

/* ---- 2. explanations ------------------------------------------------------------ */

/* Reference contributions per mapping entry of x (NaN = missing), grouped
 * by gmap; returns the bias. */
static double ref_groups(const struct xgb_model *xm, const float *x, const long *gmap,
                         int method, double *grp)
{
    double phi[N_COLS + 1];
    int rc = method == SCORE_METHOD_EXACT ? xgb_contribs_exact_class(xm, x, 0, phi)
                                          : xgb_contribs_approx_class(xm, x, 0, phi);
    assert_int_equal(rc, 0);
    memset(grp, 0, N_INPUTS * sizeof *grp);
    for (size_t j = 0; j < N_COLS; j++)
        grp[gmap[j]] += phi[j];
    return phi[N_COLS];
}

/* r's reasons against the reference groups: the top 8 by |contribution|,
 * missing inputs at the end, codes = entry index + 1, names = item fields. */
static void check_reasons(const struct score_result *r, const double *grp,
                          const json_t *features, const msgpack_object *fields,
                          const char *missing)
{
    bool used[N_INPUTS] = { false };
    double min_shown = INFINITY, max_hidden = 0;
    size_t n_present = r->n_reasons - (missing != NULL);

    assert_int_equal(r->n_reasons, HITLQ_MAX_REASONS);
    for (size_t k = 0; k < r->n_reasons; k++) {
        const struct score_reason *re = &r->reasons[k];
        assert_true(re->code >= 1 && re->code <= N_INPUTS);
        assert_false(used[re->code - 1]);
        used[re->code - 1] = true;
        assert_string_equal(re->feature, json_string_value(json_object_get(
                                json_array_get(features, re->code - 1), "field")));
        if (fabs(re->contribution - grp[re->code - 1]) > 1e-12)
            fail_msg("%s: %.17g, reference %.17g", re->feature, re->contribution,
                     grp[re->code - 1]);
        if (k >= n_present) {
            assert_string_equal(re->feature, missing);
            assert_null(re->value);
            continue;
        }
        assert_ptr_equal(re->value, cond_lookup(fields, re->feature));
        if (k > 0)
            assert_true(fabs(r->reasons[k - 1].contribution) >= fabs(re->contribution));
        min_shown = fmin(min_shown, fabs(re->contribution));
    }
    for (size_t g = 0; g < N_INPUTS; g++)
        if (!used[g])
            max_hidden = fmax(max_hidden, fabs(grp[g]));
    assert_true(min_shown >= max_hidden);
}

/* One item (row, without field `drop` if not NULL), approx then exact;
 * returns true if the two methods' contributions differ. */
static bool explain_one(const struct type_policy *p, const struct csv_data *d, size_t row,
                        const msgpack_object *full, const long *gmap,
                        const json_t *features, const char *drop)
{
    const struct xgb_model *xm = p->model->impl;
    double grp[2][N_INPUTS], bias[2];
    float x[N_COLS];
    struct test_item it;
    struct edit ed = { drop, NULL };
    struct score_result r[2];
    long gdrop = -1;

    if (drop)
        item_edit(&it, full, &ed, 1);
    for (size_t g = 0; drop && g < N_INPUTS; g++)
        if (strcmp(json_string_value(json_object_get(json_array_get(features, g), "field")),
                   drop) == 0)
            gdrop = (long)g;
    assert_true(drop == NULL || gdrop >= 0);
    for (size_t j = 0; j < N_COLS; j++)
        x[j] = gmap[j] == gdrop ? NAN : d->x[row][j];
    for (int m = 0; m < 2; m++) {
        int method = m == 0 ? SCORE_METHOD_APPROX : SCORE_METHOD_EXACT;
        const msgpack_object *fields = drop ? &it.up.data : full;
        double sum = 0;
        bias[m] = ref_groups(xm, x, gmap, method, grp[m]);
        assert_int_equal(score_item_method(p, fields, method, &r[m]), HITLQ_ST_OK);
        assert_int_equal(r[m].method, method);
        assert_int_equal(r[m].complete, drop == NULL);
        assert_true(isfinite(r[m].base_margin));
        assert_true(fabs(r[m].base_margin - bias[m]) < 1e-12);
        for (size_t g = 0; g < N_INPUTS; g++)
            sum += grp[m][g];
        if (fabs(sum - (r[m].margin - r[m].base_margin)) > 2e-5)
            fail_msg("row %zu: sum(phi) %.9g, margin - base %.9g", row + 1, sum,
                     r[m].margin - r[m].base_margin);
        check_reasons(&r[m], grp[m], features, fields, drop);
    }
    assert_true(r[0].margin == r[1].margin && r[0].base_margin == r[1].base_margin);
    if (drop)
        item_free(&it);
    for (size_t g = 0; g < N_INPUTS; g++)
        if (fabs(grp[0][g] - grp[1][g]) > 1e-6)
            return true;
    return false;
}

static void test_explanations(void **state)
{
    (void)state;
    if (!csv_present())
        return;
    struct credit_set cs;
    struct scoring *s;
    const struct type_policy *p = load_default(&s);
    const struct xgb_model *xm = p->model->impl;
    json_t *root = default_policy_json();
    const json_t *features = json_object_get(type_of(root, TYPE), "features");
    struct csv_data *d = csv_read();
    long gmap[N_COLS];
    size_t n_items = 0, n_differ = 0;

    credit_load(&cs);
    assert_int_equal(json_array_size(features), N_INPUTS);
    assert_int_equal(featmap_n_inputs(p->featmap), N_INPUTS);
    assert_int_equal(xgb_num_feature(xm), N_COLS);
    for (size_t j = 0; j < N_COLS; j++) {
        assert_string_equal(xgb_feature_name(xm, j), d->names[j]);
        gmap[j] = group_of(features, d->names[j]);
        assert_true(gmap[j] >= 0 && gmap[j] < (long)N_INPUTS);
    }
    for (size_t row = 0; row < N_ROWS; row += 25) {
        const char *drop = NULL;
        if (row % 100 == 50)
            drop = json_string_value(json_object_get(
                json_array_get(features, (row / 50) % N_INPUTS), "field"));
        n_differ += explain_one(p, d, row, &cs.up[row].data, gmap, features, NULL);
        n_items++;
        if (drop) {
            n_differ += explain_one(p, d, row, &cs.up[row].data, gmap, features, drop);
            n_items++;
        }
    }
    print_message("explanations: %zu items checked by both methods; exact differs from "
                  "approx on %zu\n", n_items, n_differ);
    assert_true(n_items >= 40);
    assert_true(n_differ > 0);
    free(d);
    json_decref(root);
    credit_free(&cs);
    scoring_free(s);
}

/* ---- 3. triage routes on the default policy -------------------------------------- */

struct want_route {
    uint8_t     route;
    const char *action;      /* auto */
    const char *queue;       /* human */
    uint32_t    priority;    /* human */
    uint64_t    sla;         /* human */
};

/* The route of a row from its reference prediction and its amount. */
static void expected_route(double pred, double amount, struct want_route *w)
{
    uint32_t band_prio = pred >= 0.6 ? 50 : 100;
    uint64_t band_sla = pred >= 0.6 ? 28800 : 14400;

    memset(w, 0, sizeof *w);
    w->priority = band_prio;
    w->sla = band_sla;
    if (amount > 15000) {
        w->route = TRIAGE_HARD_RULE;
        w->queue = "credit_senior";
        w->priority = band_prio > 200 ? band_prio : 200;
    } else if (pred >= 0.85) {
        w->route = TRIAGE_AUTO_APPROVE;
        w->action = "approve";
    } else if (pred <= 0.25) {
        w->route = TRIAGE_AUTO_REJECT;
        w->action = "reject";
    } else {
        w->route = TRIAGE_REVIEW;
        w->queue = "credit_review";
    }
}

static void check_triage(const struct type_policy *p, const char *key,
                         const msgpack_object *fields, const struct triage *t,
                         const struct want_route *w)
{
    bool is_auto = w->route == TRIAGE_AUTO_APPROVE || w->route == TRIAGE_AUTO_REJECT;
    struct score_result ap;

    assert_int_equal(t->is_auto, is_auto);
    assert_true(t->r.complete);
    /* every route is explained by explain_auto at triage; exact TreeSHAP
     * for human items is computed at CLAIM (explain.c) */
    assert_int_equal(t->r.method, SCORE_METHOD_APPROX);
    assert_int_equal(score_item_method(p, fields, SCORE_METHOD_APPROX, &ap), HITLQ_ST_OK);
    assert_int_equal(t->r.n_reasons, ap.n_reasons);
    for (size_t k = 0; k < ap.n_reasons; k++)
        assert_true(t->r.reasons[k].code == ap.reasons[k].code &&
                    t->r.reasons[k].contribution == ap.reasons[k].contribution);
    if (is_auto) {
        assert_string_equal(t->action, w->action);
        assert_int_equal(t->qa, score_qa_sampled(p, key));
    } else {
        assert_string_equal(t->queue, w->queue);
        assert_int_equal(t->priority, w->priority);
        assert_int_equal(t->sla_seconds, w->sla);
        assert_false(t->qa);
    }
    if (w->route == TRIAGE_HARD_RULE) {
        assert_int_equal(t->n_rules, 1);
        assert_int_equal(t->n_rules_total, 1);
        assert_int_equal(t->rules[0].kind, 2);
        assert_int_equal(t->rules[0].code, TRIAGE_CODE_HARD | 0u);
        assert_string_equal(t->rules[0].id, "over_authority_limit");
        assert_string_equal(t->rules[0].field, "amount");
    } else {
        assert_int_equal(t->n_rules_total, 0);
        assert_int_equal(t->n_rules, 0);
    }
}

static void test_triage_routes(void **state)
{
    (void)state;
    if (!csv_present())
        return;
    struct credit_set cs;
    struct scoring *s;
    const struct type_policy *p = load_default(&s);
    struct csv_data *d = csv_read();
    size_t n_ref, got[8] = { 0 }, want[8] = { 0 }, n_qa = 0, n_band50 = 0;
    struct ref_line *ref = ref_read(&n_ref);

    credit_load(&cs);
    for (size_t i = 0; i < N_ROWS; i++) {
        const struct ref_line *l = &ref[2 * i];
        struct want_route w;
        struct triage t;

        assert_int_equal(l->row, (int)i + 1);
        assert_string_equal(l->dropped, "-");
        expected_route(l->pred, d->amount[i], &w);
        assert_int_equal(score_triage(p, cs.items[i].key, &cs.up[i].data, &t), HITLQ_ST_OK);
        if (t.route != w.route)
            fail_msg("%s: route %s, want %s (pred %.9g, score %.9g, amount %g)",
                     cs.items[i].key, score_route_name(t.route), score_route_name(w.route),
                     l->pred, t.r.score, d->amount[i]);
        assert_true(near(t.r.score, l->pred, 1e-6, 1e-6));
        check_triage(p, cs.items[i].key, &cs.up[i].data, &t, &w);
        got[t.route]++;
        want[w.route]++;
        n_qa += t.qa;
        n_band50 += !t.is_auto && t.priority == 50;
    }
    print_message("routes over %u items: auto_approve %zu, auto_reject %zu, review %zu, "
                  "hard_rule %zu, data_quality %zu; humans at priority 50: %zu; "
                  "QA-sampled %zu\n", N_ROWS, got[TRIAGE_AUTO_APPROVE],
                  got[TRIAGE_AUTO_REJECT], got[TRIAGE_REVIEW], got[TRIAGE_HARD_RULE],
                  got[TRIAGE_DATA_QUALITY], n_band50, n_qa);
    assert_memory_equal(got, want, sizeof got);
    for (unsigned r = TRIAGE_AUTO_APPROVE; r <= TRIAGE_HARD_RULE; r++)
        assert_true(got[r] > 0);
    assert_int_equal(got[TRIAGE_DATA_QUALITY], 0);
    free(ref);
    free(d);
    credit_free(&cs);
    scoring_free(s);
}

/* ---- 4. data quality ------------------------------------------------------------- */

/* Index of rule `id` by the documented rule order (schema.h), computed from
 * the policy JSON: per field required / type / min / max / values /
 * max_length, then the checks. */
static long rule_index(const json_t *type, const char *id)
{
    static const char *const kinds[] = { "required", "type", "min", "max", "values",
                                         "max_length" };
    const char *name;
    json_t *f, *c;
    long n = 0;
    size_t i;
    char buf[256];

    json_object_foreach(json_object_get(type, "fields"), name, f)
        for (size_t k = 0; k < 6; k++) {
            const json_t *v = json_object_get(f, kinds[k]);
            if (k == 1 ? false : k == 0 ? !json_is_true(v) : v == NULL)
                continue;
            snprintf(buf, sizeof buf, "%s.%s", name, kinds[k]);
            if (strcmp(buf, id) == 0)
                return n;
            n++;
        }
    json_array_foreach(json_object_get(type, "checks"), i, c) {
        if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0)
            return n;
        n++;
    }
    return -n - 1;    /* not found: -(number of rules) - 1 */
}

struct dq_case {
    const char  *what;
    struct edit  ed[4];
    size_t       n_ed;
    const char  *ids[4];     /* broken rules in rule order */
    size_t       n_ids;
};

static const struct dq_case dq_cases[] = {
    { "age 12", { { "age", "12" } }, 1, { "age.min" }, 1 },
    { "purpose Yacht", { { "purpose", "\"Yacht\"" } }, 1, { "purpose.values" }, 1 },
    { "no checking_account", { { "checking_account", NULL } }, 1,
      { "checking_account.required" }, 1 },
    { "checking_account sentinel", { { "checking_account", "\"unknown\"" } }, 1,
      { "checking_account.required" }, 1 },
    { "amount lots", { { "amount", "\"lots\"" } }, 1, { "amount.type" }, 1 },
    { "age 30.5", { { "age", "30.5" } }, 1, { "age.type" }, 1 },
    { "residence > age", { { "age", "3" } }, 1, { "age.min", "residence_within_age" }, 2 },
    { "no age", { { "age", NULL } }, 1, { "age.required", "residence_within_age" }, 2 },
    { "four breaks", { { "purpose", "\"Yacht\"" }, { "age", "12" },
      { "checking_account", NULL }, { "amount", "\"lots\"" } }, 4,
      { "amount.type", "age.min", "checking_account.required", "purpose.values" }, 4 },
};

static void check_dq(const struct type_policy *p, const json_t *type, const struct triage *t,
                     const char *const *ids, size_t n_ids, size_t total)
{
    assert_int_equal(t->route, TRIAGE_DATA_QUALITY);
    assert_false(t->is_auto);
    assert_false(t->qa);
    assert_string_equal(t->queue, "credit_data_quality");
    assert_int_equal(t->priority, 150);
    assert_int_equal(t->sla_seconds, 28800);
    assert_int_equal(t->r.method, SCORE_METHOD_NONE);
    assert_int_equal(t->r.n_reasons, 0);
    assert_int_equal(t->n_rules_total, total);
    assert_int_equal(t->n_rules, n_ids);
    for (size_t k = 0; k < n_ids; k++) {
        long idx = rule_index(type, ids[k]);
        assert_true(idx >= 0);
        assert_int_equal(t->rules[k].kind, 1);
        assert_string_equal(t->rules[k].id, ids[k]);
        assert_int_equal(t->rules[k].code, TRIAGE_CODE_CHECK | (unsigned)idx);
        assert_string_equal(schema_rule_id(p->schema, (size_t)idx), ids[k]);
        assert_non_null(t->rules[k].field);
        assert_true(strncmp(ids[k], t->rules[k].field, strlen(t->rules[k].field)) == 0 ||
                    strcmp(t->rules[k].field, "residence_years") == 0);
        assert_true(t->rules[k].message != NULL && t->rules[k].message[0] != '\0');
    }
}

/* Every field of the base item with a value of the wrong type: 20 type
 * rules and the check break; 16 are kept. */
static void dq_all_wrong(const struct type_policy *p, const json_t *type,
                         const msgpack_object *base)
{
    static char names[32][64];
    struct edit ed[32];
    const char *ids[TRIAGE_MAX_RULES];
    char idbuf[TRIAGE_MAX_RULES][64];
    size_t n = 0;
    struct test_item it;
    struct triage t;

    for (uint32_t k = 0; k < base->via.map.size; k++) {
        const msgpack_object *v = &base->via.map.ptr[k].val;
        snprintf(names[n], sizeof names[n], "%.*s", (int)base->via.map.ptr[k].key.via.str.size,
                 base->via.map.ptr[k].key.via.str.ptr);
        ed[n].field = names[n];
        ed[n].value = v->type == MSGPACK_OBJECT_BOOLEAN ? "\"yes\"" : "true";
        n++;
    }
    assert_int_equal(n, N_INPUTS);
    item_edit(&it, base, ed, n);
    assert_int_equal(score_triage(p, "dq-all", &it.up.data, &t), HITLQ_ST_OK);
    /* declaration order of "fields" = the base item's order */
    for (size_t k = 0; k < TRIAGE_MAX_RULES; k++) {
        snprintf(idbuf[k], sizeof idbuf[k], "%s.type", ed[k].field);
        ids[k] = idbuf[k];
    }
    check_dq(p, type, &t, ids, TRIAGE_MAX_RULES, N_INPUTS + 1);
    item_free(&it);
}

/* Missing optional inputs: not data quality, but incomplete, so never auto. */
static void dq_optional(const struct type_policy *p, const msgpack_object *base,
                        const struct edit *ed, size_t n_ed, uint8_t route,
                        const char *missing)
{
    struct test_item it;
    struct triage t;

    item_edit(&it, base, ed, n_ed);
    assert_int_equal(score_triage(p, "dq-optional", &it.up.data, &t), HITLQ_ST_OK);
    assert_int_equal(t.route, route);
    assert_false(t.is_auto);
    assert_false(t.r.complete);
    assert_int_equal(t.r.method, SCORE_METHOD_APPROX);
    assert_int_equal(t.r.n_reasons, HITLQ_MAX_REASONS);
    assert_string_equal(t.r.reasons[HITLQ_MAX_REASONS - 1].feature, missing);
    assert_null(t.r.reasons[HITLQ_MAX_REASONS - 1].value);
    assert_int_equal(t.n_rules_total, route == TRIAGE_HARD_RULE);
    if (route == TRIAGE_HARD_RULE)
        assert_string_equal(t.queue, "credit_senior");
    else
        assert_string_equal(t.queue, "credit_review");
    item_free(&it);
}

static void test_data_quality(void **state)
{
    (void)state;
    struct scoring *s;
    const struct type_policy *p = load_default(&s);
    json_t *root = default_policy_json();
    const json_t *type = type_of(root, TYPE);
    struct test_item base, it;
    struct triage t;

    assert_int_equal(schema_n_rules(p->schema), (size_t)(-rule_index(type, "?") - 1));
    item_from_json(&base, base_item_json);
    assert_int_equal(score_triage(p, "dq-base", &base.up.data, &t), HITLQ_ST_OK);
    assert_int_equal(t.route, TRIAGE_AUTO_APPROVE);
    assert_true(t.r.complete && t.r.score > 0.9);
    for (size_t c = 0; c < sizeof dq_cases / sizeof dq_cases[0]; c++) {
        const struct dq_case *dc = &dq_cases[c];
        print_message("data quality: %s\n", dc->what);
        item_edit(&it, &base.up.data, dc->ed, dc->n_ed);
        assert_int_equal(score_triage(p, dc->what, &it.up.data, &t), HITLQ_ST_OK);
        check_dq(p, type, &t, dc->ids, dc->n_ids, dc->n_ids);
        item_free(&it);
    }
    dq_all_wrong(p, type, &base.up.data);

    struct edit no_phone = { "telephone", NULL }, savings = { "savings", "\"unknown\"" };
    struct edit big[2] = { { "telephone", NULL }, { "amount", "20000" } };
    struct edit extra = { "note", "\"not a declared field\"" };
    dq_optional(p, &base.up.data, &no_phone, 1, TRIAGE_REVIEW, "telephone");
    dq_optional(p, &base.up.data, &savings, 1, TRIAGE_REVIEW, "savings");
    dq_optional(p, &base.up.data, big, 2, TRIAGE_HARD_RULE, "telephone");
    item_edit(&it, &base.up.data, &extra, 1);
    assert_int_equal(score_triage(p, "dq-extra", &it.up.data, &t), HITLQ_ST_OK);
    assert_int_equal(t.route, TRIAGE_AUTO_APPROVE);
    item_free(&it);
    item_free(&base);
    json_decref(root);
    scoring_free(s);
}

/* ---- 5. the QA sample --------------------------------------------------------------- */

/* The draw as documented in score_triage.c: SipHash-2-4 keyed with
 * BLAKE2b-128 of the seed over type || 0 || key, 8 bytes big-endian
 * < rate * 2^64. */
static bool qa_reference(const char *seed, const char *key, double rate)
{
    uint8_t k[16], h[8], msg[300];
    size_t tl = strlen(TYPE), kl = strlen(key);
    uint64_t u = 0;

    crypto_generichash(k, sizeof k, (const uint8_t *)seed, strlen(seed), NULL, 0);
    memcpy(msg, TYPE, tl);
    msg[tl] = 0;
    memcpy(msg + tl + 1, key, kl);
    crypto_shorthash(h, msg, tl + 1 + kl, k);
    for (int i = 0; i < 8; i++)
        u = u << 8 | h[i];
    return rate > 0 && (double)u < rate * 18446744073709551616.0;
}

/* A variant of the default policy with qa_sample seed / rate, in dir. */
static struct scoring *qa_variant(const char *dir, const char *name, const char *seed,
                                  double rate)
{
    json_t *root = default_policy_json();
    json_t *qa = json_object_get(type_of(root, TYPE), "qa_sample");
    json_object_set_new(qa, "seed", json_string(seed));
    json_object_set_new(qa, "rate", json_real(rate));
    struct scoring *s = load_json_policy(dir, name, root);
    json_decref(root);
    return s;
}

/* Only auto items are drawn: with rate 1, t.qa == is_auto for every row. */
static void qa_only_auto(const struct type_policy *all)
{
    struct credit_set cs;
    size_t n_auto = 0;
    struct triage t;

    if (!csv_present())
        return;
    credit_load(&cs);
    for (size_t i = 0; i < cs.n; i++) {
        assert_int_equal(score_triage(all, cs.items[i].key, &cs.up[i].data, &t), HITLQ_ST_OK);
        assert_int_equal(t.qa, t.is_auto);
        n_auto += t.is_auto;
    }
    assert_true(n_auto > 0 && n_auto < cs.n);
    credit_free(&cs);
}

static void test_qa_sample(void **state)
{
    (void)state;
    char dir[] = "/tmp/hitlq-test-policy-XXXXXX", key[32];
    struct scoring *s, *s_other, *s_zero, *s_one;
    const struct type_policy *p = load_default(&s), *po, *pz, *p1;
    size_t n = 20000, n_def = 0, n_other = 0, n_diff = 0;

    make_tmpdir(dir);
    write_default_model(dir, "credit_xgb.json");
    po = scoring_policy(s_other = qa_variant(dir, "other.json", "another-seed", 0.02), TYPE);
    pz = scoring_policy(s_zero = qa_variant(dir, "zero.json", "hitlq-default-qa-1", 0), TYPE);
    p1 = scoring_policy(s_one = qa_variant(dir, "one.json", "hitlq-default-qa-1", 1), TYPE);
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "qa-key-%05zu", i);
        bool a = score_qa_sampled(p, key), b = score_qa_sampled(po, key);
        assert_int_equal(a, score_qa_sampled(p, key));
        assert_int_equal(a, qa_reference("hitlq-default-qa-1", key, 0.02));
        assert_int_equal(b, qa_reference("another-seed", key, 0.02));
        assert_false(score_qa_sampled(pz, key));
        assert_true(score_qa_sampled(p1, key));
        n_def += a;
        n_other += b;
        n_diff += a != b;
    }
    print_message("QA sample of %zu keys: default seed %zu, other seed %zu, differing %zu\n",
                  n, n_def, n_other, n_diff);
    assert_true(n_def >= 320 && n_def <= 480);       /* [0.016, 0.024] */
    assert_true(n_other >= 320 && n_other <= 480);
    assert_true(n_diff > (n_def + n_other) / 2);
    qa_only_auto(p1);
    scoring_free(s_other);
    scoring_free(s_zero);
    scoring_free(s_one);
    scoring_free(s);
    rm_tmpdir(dir);
}

/* ---- 6. policy load errors ------------------------------------------------------- */

/* A copy of the default policy with the type entry edited by the caller. */
static json_t *pol(json_t **type)
{
    json_t *root = default_policy_json();
    *type = type_of(root, TYPE);
    return root;
}

/* A small scorecard type: model "sc.json", fields as given (JSON). */
static json_t *scorecard_pol(const char *fields_json)
{
    json_t *root = default_policy_json(), *t = json_object();
    json_object_set_new(t, "model", json_string("sc.json"));
    json_object_set_new(t, "auto_threshold", json_real(0.5));
    json_object_set_new(t, "auto_action", json_string("approve"));
    json_object_set_new(t, "queue", json_string("q"));
    json_object_set_new(t, "priority", json_integer(1));
    json_object_set_new(t, "sla_seconds", json_integer(60));
    if (fields_json)
        json_object_set_new(t, "fields", json_loads(fields_json, 0, NULL));
    json_object_set_new(json_object_get(root, "types"), TYPE, t);
    return root;
}

static void load_errors_mapping(const char *dir)
{
    json_t *t, *root = pol(&t), *e;

    e = json_object_get(json_array_get(json_object_get(t, "features"), 11), "one_hot");
    assert_int_equal(json_object_del(e, "Other"), 0);
    expect_policy_error(dir, root, "model feature \"Purpose.Other\" is not produced", NULL);
    json_decref(root);
    root = pol(&t);
    json_array_append_new(json_object_get(t, "features"),
                          json_pack("{s:s, s:s}", "feature", "Foo", "field", "age"));
    expect_policy_error(dir, root, "feature \"Foo\" is not in the model", "features[20]");
    json_decref(root);
    root = pol(&t);
    json_object_del(t, "features");
    expect_policy_error(dir, root, "types.\"credit_application\": a tree model needs the "
                        "type's \"features\" mapping", NULL);
    json_decref(root);
    root = pol(&t);
    json_object_set_new(t, "model", json_string("reg.json"));
    expect_policy_error(dir, root, "\"reg:squarederror\" does not give a probability",
                        "types.\"credit_application\"");
    json_decref(root);
    root = pol(&t);
    json_object_set_new(t, "score_class", json_integer(1));
    expect_policy_error(dir, root, "\"score_class\" 1 is out of range", "types.\"credit");
    json_decref(root);
    root = pol(&t);
    json_object_set_new(t, "model", json_string("full_scorecard.json"));
    expect_policy_error(dir, root, "\"features\" is for tree models", "types.\"credit");
    json_decref(root);
}

static void load_errors_scorecard(const char *dir)
{
    json_t *root = scorecard_pol("{\"a\": {\"type\": \"number\"}}");
    expect_policy_error(dir, root, "the model reads field \"d\", which the type's \"fields\" "
                        "do not declare", "types.\"credit_application\"");
    json_decref(root);
    root = scorecard_pol("{\"a\": {\"type\": \"number\"}, \"d\": {\"type\": \"number\"}}");
    expect_policy_error(dir, root, "field \"d\" is declared with a type the model cannot "
                        "read as a category", "types.\"credit_application\"");
    json_decref(root);
    root = scorecard_pol("{\"a\": {\"type\": \"boolean\"}, \"d\": {\"type\": \"string\"}}");
    expect_policy_error(dir, root, "field \"a\" is declared with a type the model cannot "
                        "read as a number", NULL);
    json_decref(root);
    root = scorecard_pol("{\"a\": {\"type\": \"integer\"}, \"d\": {\"type\": \"string\"}}");
    json_object_set_new(type_of(root, TYPE), "score_class", json_integer(1));
    expect_policy_error(dir, root, "\"score_class\" is for multi-class models", NULL);
    json_decref(root);
}

static void load_errors_routing(const char *dir)
{
    json_t *t, *root = pol(&t);
    const char *w = "types.\"credit_application\"";

    json_object_set_new(t, "auto_reject_threshold", json_real(0.9));
    expect_policy_error(dir, root, "\"auto_reject_threshold\" must be below", w);
    json_object_set_new(t, "auto_reject_threshold", json_real(0.85));
    expect_policy_error(dir, root, "\"auto_reject_threshold\" must be below", w);
    json_object_del(t, "auto_reject_threshold");
    expect_policy_error(dir, root, "\"auto_reject_threshold\" and \"reject_action\" go "
                        "together", w);
    json_decref(root);
    root = pol(&t);
    json_object_set_new(json_array_get(json_object_get(t, "bands"), 0), "min_score",
                        json_real(1.5));
    expect_policy_error(dir, root, "bands[0]: \"min_score\" must be a number in [0, 1]", w);
    json_decref(root);
    root = pol(&t);
    json_object_set_new(json_array_get(json_object_get(t, "hard_rules"), 0), "op",
                        json_string("~"));
    expect_policy_error(dir, root, "hard_rules[0]: \"op\" must be one of", w);
    json_decref(root);
    root = pol(&t);
    json_array_append(json_object_get(t, "hard_rules"),
                      json_array_get(json_object_get(t, "hard_rules"), 0));
    expect_policy_error(dir, root, "hard_rules[1]: duplicate \"id\"", w);
    json_decref(root);
}

static void load_errors_sections(const char *dir)
{
    json_t *t, *root = pol(&t);
    const char *w = "types.\"credit_application\"";

    json_object_del(json_object_get(t, "qa_sample"), "seed");
    expect_policy_error(dir, root, "qa_sample: \"seed\" must be a non-empty string", w);
    json_decref(root);
    root = pol(&t);
    json_object_set_new(json_object_get(t, "explain"), "auto", json_string("fast"));
    expect_policy_error(dir, root, "explain.\"auto\" must be \"approx\" or \"exact\"", w);
    json_decref(root);
    root = pol(&t);
    json_object_set_new(json_object_get(t, "data_quality"), "colour", json_integer(1));
    expect_policy_error(dir, root, "data_quality: unknown key \"colour\"", w);
    json_decref(root);
}

/* The credit_small.json type scores CSV row 1 as its reference file says. */
static void check_small_row1(const struct type_policy *ps)
{
    char line[4096];
    double pred, margin;
    struct test_item it;
    struct score_result r;
    FILE *f = fopen(SMALL_PREDS, "r");

    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(fgets(line, sizeof line, f));
    assert_int_equal(sscanf(line, "%lf,%lf", &pred, &margin), 2);
    fclose(f);
    item_from_json(&it, base_item_json);
    assert_int_equal(score_item(ps, &it.up.data, &r), HITLQ_ST_OK);
    assert_true(near(r.score, pred, 1e-6, 1e-6) && near(r.margin, margin, 1e-5, 1e-5));
    item_free(&it);
}

/* A valid policy: three types over two tree models; ids defaulted. */
static void load_valid(const char *dir)
{
    json_t *t, *root = pol(&t), *small = json_deep_copy(t), *alt = json_deep_copy(t);
    unsigned char dg[32];
    char hex[13], want[64], path[600];
    size_t len;
    char *bytes;

    json_object_del(t, "model_id");
    json_object_del(t, "model_version");
    json_object_set_new(t, "model", json_string("m.json"));
    json_object_set_new(small, "model", json_string("small.json"));
    json_object_set_new(small, "model_id", json_string("small"));
    json_object_set_new(small, "model_version", json_string("7"));
    json_object_set_new(alt, "model", json_string("m.json"));
    json_object_set_new(json_object_get(root, "types"), "credit_small", small);
    json_object_set_new(json_object_get(root, "types"), "credit_alt", alt);
    struct scoring *s = load_json_policy(dir, "valid.json", root);
    json_decref(root);

    snprintf(path, sizeof path, "%s/m.json", dir);
    bytes = tutil_slurp(path, &len);
    assert_int_equal(EVP_Digest(bytes, len, dg, NULL, EVP_sha256(), NULL), 1);
    free(bytes);
    sodium_bin2hex(hex, sizeof hex, dg, 6);
    snprintf(want, sizeof want, "m@%s", hex);
    assert_int_equal(scoring_n_types(s), 3);
    const struct type_policy *pm = scoring_policy(s, TYPE);
    const struct type_policy *ps = scoring_policy(s, "credit_small");
    const struct type_policy *pa = scoring_policy(s, "credit_alt");
    assert_string_equal(pm->model->id, want);
    assert_memory_equal(pm->model->digest, dg, 32);
    assert_string_equal(ps->model->id, "small@7");
    assert_ptr_equal(pa->model, pm->model);           /* one file, one model */
    assert_ptr_not_equal(ps->model, pm->model);
    assert_int_equal(featmap_n_inputs(ps->featmap), N_INPUTS);
    check_small_row1(ps);
    scoring_free(s);
}

static void test_policy_load_errors(void **state)
{
    (void)state;
    char dir[] = "/tmp/hitlq-test-policy-XXXXXX";
    size_t len;
    const unsigned char *sc = defaults_scorecard(&len);

    make_tmpdir(dir);
    write_default_model(dir, "credit_xgb.json");
    write_default_model(dir, "m.json");
    copy_file(dir, "reg.json", REG_MODEL);
    copy_file(dir, "small.json", SMALL_MODEL);
    write_bytes(dir, "full_scorecard.json", sc, len);
    write_bytes(dir, "sc.json", tiny_scorecard, strlen(tiny_scorecard));
    load_errors_mapping(dir);
    load_errors_scorecard(dir);
    load_errors_routing(dir);
    load_errors_sections(dir);
    load_valid(dir);
    rm_tmpdir(dir);
}

/* ---- 7. the binned scorecard feature -------------------------------------------- */

#define BIN_HDR "{\"format\":\"hitlq-scorecard\",\"format_version\":1,\"id\":\"binned\"," \
                "\"version\":\"1\",\"link\":\"logistic\",\"bias\":0.1,\"features\":["
#define BIN_NUM ",{\"field\":\"n\",\"kind\":\"numeric\",\"weight\":2,\"mean\":1}]}"

/* age bins: below 25 -> -0.5, below 40 -> 0.2, rest -> 0.6; baseline 0.1;
 * base margin = 0.1 + 0.1 + 2 * 1 = 2.2. */
static const char *const binned_model = BIN_HDR
    "{\"field\":\"age\",\"kind\":\"binned\",\"bins\":[{\"below\":25,\"weight\":-0.5},"
    "{\"below\":40,\"weight\":0.2},{\"weight\":0.6}],\"baseline\":0.1}" BIN_NUM;

static void binned_case(const struct type_policy *p, const char *age, double phi)
{
    struct test_item it;
    struct score_result r;
    char json[128];
    double margin = 2.2 + phi;

    snprintf(json, sizeof json, "{\"age\": %s, \"n\": 1}", age);
    item_from_json(&it, json);
    assert_int_equal(score_item(p, &it.up.data, &r), HITLQ_ST_OK);
    if (fabs(r.reasons[0].contribution - phi) > 1e-12 || fabs(r.margin - margin) > 1e-12)
        fail_msg("age %s: contribution %.17g margin %.17g, want %.17g %.17g", age,
                 r.reasons[0].contribution, r.margin, phi, margin);
    assert_true(fabs(r.base_margin - 2.2) < 1e-12);
    assert_true(fabs(r.score - 1.0 / (1.0 + exp(-margin))) < 1e-12);
    assert_true(r.complete);
    assert_int_equal(r.method, SCORE_METHOD_LINEAR);
    assert_int_equal(r.n_reasons, 2);
    assert_string_equal(r.reasons[0].feature, "age");
    assert_int_equal(r.reasons[0].code, 1);
    assert_string_equal(r.reasons[1].feature, "n");
    assert_true(r.reasons[1].contribution == 0);
    item_free(&it);
}

static void binned_missing_and_wrong(const struct type_policy *p)
{
    struct test_item it;
    struct score_result r;

    item_from_json(&it, "{\"n\": 3}");
    assert_int_equal(score_item(p, &it.up.data, &r), HITLQ_ST_OK);
    assert_false(r.complete);
    assert_true(fabs(r.margin - (2.2 + 4)) < 1e-12);
    assert_string_equal(r.reasons[1].feature, "age");
    assert_null(r.reasons[1].value);
    assert_true(r.reasons[1].contribution == 0);
    item_free(&it);
    item_from_json(&it, "{\"age\": \"old\", \"n\": 1}");
    assert_int_equal(score_item(p, &it.up.data, &r), HITLQ_ST_INVALID_ITEM);
    assert_non_null(strstr(r.err, "\"age\""));
    item_free(&it);
}

static void expect_bins_error(const char *feature, const char *want)
{
    char json[1024], err[512] = "";
    snprintf(json, sizeof json, "%s%s%s", BIN_HDR, feature, BIN_NUM);
    struct model *m = scorecard_load(json, strlen(json), err, sizeof err);
    if (m != NULL || strstr(err, want) == NULL || strstr(err, "features[0] (\"age\")") == NULL)
        fail_msg("%s: got \"%s\", want \"%s\"", feature, err, want);
}

static void binned_bad(void)
{
#define AGE "{\"field\":\"age\",\"kind\":\"binned\","
    expect_bins_error(AGE "\"bins\":[{\"below\":40,\"weight\":1},{\"below\":25,\"weight\":2},"
                      "{\"weight\":3}],\"baseline\":0}", "bins[1]: \"below\" must be strictly "
                      "ascending");
    expect_bins_error(AGE "\"bins\":[{\"below\":25,\"weight\":1},{\"below\":25,\"weight\":2},"
                      "{\"weight\":3}],\"baseline\":0}", "bins[1]: \"below\" must be strictly "
                      "ascending");
    expect_bins_error(AGE "\"bins\":[{\"below\":25,\"weight\":1},{\"below\":40,\"weight\":2}],"
                      "\"baseline\":0}", "bins[1]: the last bin has no \"below\"");
    expect_bins_error(AGE "\"bins\":[{\"weight\":1},{\"weight\":2}],\"baseline\":0}",
                      "bins[0]: \"below\" is required");
    expect_bins_error(AGE "\"bins\":[{\"weight\":1}],\"baseline\":0}",
                      "\"bins\" must be an array of 2..");
    expect_bins_error(AGE "\"bins\":[],\"baseline\":0}", "\"bins\" must be an array of 2..");
    expect_bins_error(AGE "\"bins\":[{\"below\":25,\"weight\":1},{\"weight\":2}]}",
                      "\"baseline\" must be a finite number");
    expect_bins_error(AGE "\"bins\":[{\"below\":25,\"weight\":1,\"above\":3},{\"weight\":2}],"
                      "\"baseline\":0}", "unknown key \"above\"");
    expect_bins_error(AGE "\"bins\":[{\"below\":25,\"weight\":1},{\"weight\":2}],"
                      "\"baseline\":0,\"weight\":1}", "unknown key \"weight\"");
#undef AGE
}

static void test_binned_scorecard(void **state)
{
    (void)state;
    char dir[] = "/tmp/hitlq-test-policy-XXXXXX", err[512] = "", path[600];
    json_t *root;
    struct scoring *s;

    make_tmpdir(dir);
    write_bytes(dir, "sc.json", binned_model, strlen(binned_model));
    root = scorecard_pol("{\"age\": {\"type\": \"number\"}, \"n\": {\"type\": \"integer\"}}");
    s = load_json_policy(dir, "binned.json", root);
    const struct type_policy *p = scoring_policy(s, TYPE);
    binned_case(p, "-1000", -0.6);
    binned_case(p, "24.999", -0.6);
    binned_case(p, "25", 0.1);
    binned_case(p, "25.0", 0.1);
    binned_case(p, "39.999", 0.1);
    binned_case(p, "40", 0.5);
    binned_case(p, "1e9", 0.5);
    binned_missing_and_wrong(p);
    scoring_free(s);
    json_decref(root);

    root = scorecard_pol("{\"age\": {\"type\": \"string\"}, \"n\": {\"type\": \"integer\"}}");
    snprintf(path, sizeof path, "%s/bad.json", dir);
    assert_int_equal(json_dump_file(root, path, 0), 0);
    assert_int_not_equal(scoring_load(&s, path, err, sizeof err), 0);
    assert_non_null(strstr(err, "field \"age\" is declared with a type the model cannot "
                                "read as a number"));
    json_decref(root);
    binned_bad();
    rm_tmpdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item_path_matches_xgboost),
        cmocka_unit_test(test_explanations),
        cmocka_unit_test(test_triage_routes),
        cmocka_unit_test(test_data_quality),
        cmocka_unit_test(test_qa_sample),
        cmocka_unit_test(test_policy_load_errors),
        cmocka_unit_test(test_binned_scorecard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
