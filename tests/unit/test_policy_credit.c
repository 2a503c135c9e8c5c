/*
 * test_policy_credit.c - the bundled XGBoost credit policy
 * (server/score/defaults/credit_policy.json, embedded) on the German
 * Credit data (tests/lib/policy_fixture.h):
 *
 *   - the whole item path (fields map -> feature mapping -> trees) against
 *     python xgboost 1.7.4's predictions in tests/vectors/credit_xgb_items.csv,
 *     full items and items with one field removed;
 *   - explanations: reasons grouped per mapping entry, checked against the
 *     evaluator's per-feature contributions of the raw CSV row, grouped
 *     here from the policy JSON;
 *   - triage routes of all 1000 German Credit rows, expected routes derived
 *     from the reference predictions and the CSV's Amount column.
 *
 * Run from the repo root; the tests skip when tests/vectors/german_credit.csv is absent.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <msgpack.h>

#include "cond.h"
#include "credit_items.h"
#include "featmap.h"
#include "model_xgb.h"
#include "policy_fixture.h"
#include "score.h"

#define REF_ITEMS   "tests/vectors/credit_xgb_items.csv"
#define N_COLS      61u     /* model features: every CSV column but Class */

/* ---- the raw CSV and the reference predictions ----------------------------- */

/* The raw CSV: the 61 model columns as float32 (as XGBoost's DMatrix) and
 * the Amount column. */
struct csv_data {
    char   names[N_COLS][64];
    float  x[PFX_N_ROWS][N_COLS];
    double amount[PFX_N_ROWS];
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
        assert_true(row < PFX_N_ROWS);
        assert_int_equal(credit_csv_split(line, cells, N_COLS + 8), N_COLS + 1);
        for (size_t c = 0, j = 0; c < N_COLS + 1; c++)
            if (c != cls)
                d->x[row][j++] = (float)strtod(cells[c], NULL);
        d->amount[row++] = strtod(cells[amt], NULL);
    }
    fclose(f);
    assert_int_equal(row, PFX_N_ROWS);
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
    struct ref_line *ref = calloc(2 * PFX_N_ROWS, sizeof *ref);
    FILE *f = fopen(REF_ITEMS, "r");

    assert_non_null(ref);
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_int_equal(strncmp(line, "row,dropped_field,pred,margin", 29), 0);
    *n = 0;
    while (fgets(line, sizeof line, f)) {
        struct ref_line *l = &ref[*n];
        assert_true(*n < 2 * PFX_N_ROWS);
        assert_int_equal(sscanf(line, "%d,%39[^,],%lf,%lf", &l->row, l->dropped,
                                &l->pred, &l->margin), 4);
        (*n)++;
    }
    fclose(f);
    return ref;
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

/* ---- 1. the item path against python xgboost ------------------------------- */

/* Scores reference line l: the full row, or the row without l->dropped
 * through score_item_method (triage would send it to data quality). */
static void score_ref_line(const struct type_policy *p, const msgpack_object *full,
                           const struct ref_line *l, struct score_result *r)
{
    struct pfx_item it;
    struct pfx_edit ed = { l->dropped, NULL };

    if (strcmp(l->dropped, "-") == 0) {
        assert_int_equal(score_item(p, full, r), HITLQ_ST_OK);
        return;
    }
    assert_non_null(cond_lookup(full, l->dropped));
    pfx_item_edit(&it, full, &ed, 1);
    assert_null(cond_lookup(&it.up.data, l->dropped));
    assert_int_equal(it.up.data.via.map.size, full->via.map.size - 1);
    assert_int_equal(score_item_method(p, &it.up.data, SCORE_METHOD_APPROX, r), HITLQ_ST_OK);
    pfx_item_free(&it);
}

static void test_item_path_matches_xgboost(void **state)
{
    (void)state;
    if (!pfx_csv_present())
        return;
    struct pfx_credit cs;
    struct scoring *s;
    const struct type_policy *p = pfx_load_default(&s);
    size_t n_ref, compared = 0, n_dropped = 0, fields_seen = 0;
    struct ref_line *ref = ref_read(&n_ref);
    double worst_s = 0, worst_m = 0;
    char seen[PFX_N_INPUTS][40] = { { 0 } };

    pfx_credit_load(&cs);
    assert_int_equal(n_ref, 2 * PFX_N_ROWS);
    for (size_t k = 0; k < n_ref; k++) {
        const struct ref_line *l = &ref[k];
        bool dropped = strcmp(l->dropped, "-") != 0;
        struct score_result r;

        assert_int_equal(l->row, (int)(k / 2 + 1));
        assert_int_equal(dropped, k % 2 == 1);
        score_ref_line(p, &cs.up[l->row - 1].data, l, &r);
        if (!pfx_near(r.score, l->pred, 1e-6, 1e-6) || !pfx_near(r.margin, l->margin, 1e-5, 1e-5))
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
            assert_true(fields_seen < PFX_N_INPUTS);
            snprintf(seen[fields_seen++], sizeof seen[0], "%s", l->dropped);
        }
    }
    print_message("item path: %zu rows compared (%zu with a field removed, %zu distinct "
                  "fields); max |d score| %.3g, max |d margin| %.3g\n",
                  compared, n_dropped, fields_seen, worst_s, worst_m);
    assert_int_equal(compared, 2 * PFX_N_ROWS);
    assert_int_equal(n_dropped, PFX_N_ROWS);
    assert_int_equal(fields_seen, PFX_N_INPUTS);
    free(ref);
    pfx_credit_free(&cs);
    scoring_free(s);
}

/* ---- 2. explanations ------------------------------------------------------- */

/* Reference contributions per mapping entry of x (NaN = missing), grouped
 * by gmap; returns the bias. */
static double ref_groups(const struct xgb_model *xm, const float *x, const long *gmap,
                         int method, double *grp)
{
    double phi[N_COLS + 1];
    int rc = method == SCORE_METHOD_EXACT ? xgb_contribs_exact_class(xm, x, 0, phi)
                                          : xgb_contribs_approx_class(xm, x, 0, phi);
    assert_int_equal(rc, 0);
    memset(grp, 0, PFX_N_INPUTS * sizeof *grp);
    for (size_t j = 0; j < N_COLS; j++)
        grp[gmap[j]] += phi[j];
    return phi[N_COLS];
}

/* r's reasons against the reference groups: the top 8 present inputs by
 * |contribution| and the missing input, all by |contribution| descending
 * (ties by name), codes = entry index + 1, names = item fields. */
static void check_reasons(const struct score_result *r, const double *grp,
                          const json_t *features, const msgpack_object *fields,
                          const char *missing)
{
    bool used[PFX_N_INPUTS] = { false };
    double min_shown = INFINITY, max_hidden = 0;
    size_t n_missing = 0;

    assert_int_equal(r->n_reasons, HITLQ_MAX_REASONS + (missing != NULL));
    for (size_t k = 0; k < r->n_reasons; k++) {
        const struct score_reason *re = &r->reasons[k];
        assert_true(re->code >= 1 && re->code <= PFX_N_INPUTS);
        assert_false(used[re->code - 1]);
        used[re->code - 1] = true;
        assert_string_equal(re->feature, json_string_value(json_object_get(
                                json_array_get(features, re->code - 1), "field")));
        if (fabs(re->contribution - grp[re->code - 1]) > 1e-12)
            fail_msg("%s: %.17g, reference %.17g", re->feature, re->contribution,
                     grp[re->code - 1]);
        if (k > 0) {
            const struct score_reason *pr = &r->reasons[k - 1];
            assert_true(fabs(pr->contribution) >= fabs(re->contribution));
            if (fabs(pr->contribution) == fabs(re->contribution))
                assert_true(strcmp(pr->feature, re->feature) < 0);
        }
        if (missing != NULL && strcmp(re->feature, missing) == 0) {
            assert_null(re->value);
            assert_true(re->missing);
            n_missing++;
            continue;
        }
        assert_false(re->missing);
        assert_ptr_equal(re->value, cond_lookup(fields, re->feature));
        min_shown = fmin(min_shown, fabs(re->contribution));
    }
    assert_int_equal(n_missing, missing != NULL);
    for (size_t g = 0; g < PFX_N_INPUTS; g++)
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
    double grp[2][PFX_N_INPUTS], bias[2];
    float x[N_COLS];
    struct pfx_item it;
    struct pfx_edit ed = { drop, NULL };
    struct score_result r[2];
    long gdrop = -1;

    if (drop)
        pfx_item_edit(&it, full, &ed, 1);
    for (size_t g = 0; drop && g < PFX_N_INPUTS; g++)
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
        for (size_t g = 0; g < PFX_N_INPUTS; g++)
            sum += grp[m][g];
        if (fabs(sum - (r[m].margin - r[m].base_margin)) > 2e-5)
            fail_msg("row %zu: sum(phi) %.9g, margin - base %.9g", row + 1, sum,
                     r[m].margin - r[m].base_margin);
        check_reasons(&r[m], grp[m], features, fields, drop);
    }
    assert_true(r[0].margin == r[1].margin && r[0].base_margin == r[1].base_margin);
    if (drop)
        pfx_item_free(&it);
    for (size_t g = 0; g < PFX_N_INPUTS; g++)
        if (fabs(grp[0][g] - grp[1][g]) > 1e-6)
            return true;
    return false;
}

static void test_explanations(void **state)
{
    (void)state;
    if (!pfx_csv_present())
        return;
    struct pfx_credit cs;
    struct scoring *s;
    const struct type_policy *p = pfx_load_default(&s);
    const struct xgb_model *xm = p->model->impl;
    json_t *root = pfx_default_policy_json();
    const json_t *features = json_object_get(pfx_type_of(root, PFX_TYPE), "features");
    struct csv_data *d = csv_read();
    long gmap[N_COLS];
    size_t n_items = 0, n_differ = 0;

    pfx_credit_load(&cs);
    assert_int_equal(json_array_size(features), PFX_N_INPUTS);
    assert_int_equal(featmap_n_inputs(p->featmap), PFX_N_INPUTS);
    assert_int_equal(xgb_num_feature(xm), N_COLS);
    for (size_t j = 0; j < N_COLS; j++) {
        assert_string_equal(xgb_feature_name(xm, j), d->names[j]);
        gmap[j] = group_of(features, d->names[j]);
        assert_true(gmap[j] >= 0 && gmap[j] < (long)PFX_N_INPUTS);
    }
    for (size_t row = 0; row < PFX_N_ROWS; row += 25) {
        const char *drop = NULL;
        if (row % 100 == 50)
            drop = json_string_value(json_object_get(
                json_array_get(features, (row / 50) % PFX_N_INPUTS), "field"));
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
    pfx_credit_free(&cs);
    scoring_free(s);
}

/* ---- 3. triage routes on the default policy -------------------------------- */

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
    if (!pfx_csv_present())
        return;
    struct pfx_credit cs;
    struct scoring *s;
    const struct type_policy *p = pfx_load_default(&s);
    struct csv_data *d = csv_read();
    size_t n_ref, got[8] = { 0 }, want[8] = { 0 }, n_qa = 0, n_band50 = 0;
    struct ref_line *ref = ref_read(&n_ref);

    pfx_credit_load(&cs);
    for (size_t i = 0; i < PFX_N_ROWS; i++) {
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
        assert_true(pfx_near(t.r.score, l->pred, 1e-6, 1e-6));
        check_triage(p, cs.items[i].key, &cs.up[i].data, &t, &w);
        got[t.route]++;
        want[w.route]++;
        n_qa += t.qa;
        n_band50 += !t.is_auto && t.priority == 50;
    }
    print_message("routes over %u items: auto_approve %zu, auto_reject %zu, review %zu, "
                  "hard_rule %zu, data_quality %zu; humans at priority 50: %zu; "
                  "QA-sampled %zu\n", PFX_N_ROWS, got[TRIAGE_AUTO_APPROVE],
                  got[TRIAGE_AUTO_REJECT], got[TRIAGE_REVIEW], got[TRIAGE_HARD_RULE],
                  got[TRIAGE_DATA_QUALITY], n_band50, n_qa);
    assert_memory_equal(got, want, sizeof got);
    for (unsigned r = TRIAGE_AUTO_APPROVE; r <= TRIAGE_HARD_RULE; r++)
        assert_true(got[r] > 0);
    assert_int_equal(got[TRIAGE_DATA_QUALITY], 0);
    free(ref);
    free(d);
    pfx_credit_free(&cs);
    scoring_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item_path_matches_xgboost),
        cmocka_unit_test(test_explanations),
        cmocka_unit_test(test_triage_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
