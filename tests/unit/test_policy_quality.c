/*
 * test_policy_quality.c - the review side of the bundled XGBoost credit
 * policy (tests/lib/policy_fixture.h): data-quality routing (rule ids,
 * codes and totals for wrong, missing and optional fields) and the seeded
 * QA sample (its rate against an independent re-computation, only ever of
 * auto-resolved items).
 *
 * Run from the repo root; the QA test's CSV part skips when tests/vectors/german_credit.csv
 * is absent.  Temporary files go to a mkdtemp directory under /tmp.
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
#include <sodium.h>

#include "credit_items.h"
#include "policy_fixture.h"
#include "schema.h"
#include "score.h"

/* ---- 4. data quality ------------------------------------------------------- */

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
    struct pfx_edit  ed[4];
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
    struct pfx_edit ed[32];
    const char *ids[TRIAGE_MAX_RULES];
    char idbuf[TRIAGE_MAX_RULES][64];
    size_t n = 0;
    struct pfx_item it;
    struct triage t;

    for (uint32_t k = 0; k < base->via.map.size; k++) {
        const msgpack_object *v = &base->via.map.ptr[k].val;
        snprintf(names[n], sizeof names[n], "%.*s", (int)base->via.map.ptr[k].key.via.str.size,
                 base->via.map.ptr[k].key.via.str.ptr);
        ed[n].field = names[n];
        ed[n].value = v->type == MSGPACK_OBJECT_BOOLEAN ? "\"yes\"" : "true";
        n++;
    }
    assert_int_equal(n, PFX_N_INPUTS);
    pfx_item_edit(&it, base, ed, n);
    assert_int_equal(score_triage(p, "dq-all", &it.up.data, &t), HITLQ_ST_OK);
    /* declaration order of "fields" = the base item's order */
    for (size_t k = 0; k < TRIAGE_MAX_RULES; k++) {
        snprintf(idbuf[k], sizeof idbuf[k], "%s.type", ed[k].field);
        ids[k] = idbuf[k];
    }
    check_dq(p, type, &t, ids, TRIAGE_MAX_RULES, PFX_N_INPUTS + 1);
    pfx_item_free(&it);
}

/* Missing optional inputs: not data quality, but incomplete, so never auto. */
static void dq_optional(const struct type_policy *p, const msgpack_object *base,
                        const struct pfx_edit *ed, size_t n_ed, uint8_t route,
                        const char *missing)
{
    struct pfx_item it;
    struct triage t;

    pfx_item_edit(&it, base, ed, n_ed);
    assert_int_equal(score_triage(p, "dq-optional", &it.up.data, &t), HITLQ_ST_OK);
    assert_int_equal(t.route, route);
    assert_false(t.is_auto);
    assert_false(t.r.complete);
    assert_int_equal(t.r.method, SCORE_METHOD_APPROX);
    assert_int_equal(t.r.n_reasons, HITLQ_MAX_REASONS + 1);   /* 8 present + the missing */
    size_t k = 0;
    while (k < t.r.n_reasons && strcmp(t.r.reasons[k].feature, missing) != 0)
        k++;
    assert_true(k < t.r.n_reasons && t.r.reasons[k].missing);
    assert_null(t.r.reasons[k].value);
    assert_int_equal(t.n_rules_total, route == TRIAGE_HARD_RULE);
    if (route == TRIAGE_HARD_RULE)
        assert_string_equal(t.queue, "credit_senior");
    else
        assert_string_equal(t.queue, "credit_review");
    pfx_item_free(&it);
}

static void test_data_quality(void **state)
{
    (void)state;
    struct scoring *s;
    const struct type_policy *p = pfx_load_default(&s);
    json_t *root = pfx_default_policy_json();
    const json_t *type = pfx_type_of(root, PFX_TYPE);
    struct pfx_item base, it;
    struct triage t;

    assert_int_equal(schema_n_rules(p->schema), (size_t)(-rule_index(type, "?") - 1));
    pfx_item_from_json(&base, pfx_base_item_json);
    assert_int_equal(score_triage(p, "dq-base", &base.up.data, &t), HITLQ_ST_OK);
    assert_int_equal(t.route, TRIAGE_AUTO_APPROVE);
    assert_true(t.r.complete && t.r.score > 0.9);
    for (size_t c = 0; c < sizeof dq_cases / sizeof dq_cases[0]; c++) {
        const struct dq_case *dc = &dq_cases[c];
        print_message("data quality: %s\n", dc->what);
        pfx_item_edit(&it, &base.up.data, dc->ed, dc->n_ed);
        assert_int_equal(score_triage(p, dc->what, &it.up.data, &t), HITLQ_ST_OK);
        check_dq(p, type, &t, dc->ids, dc->n_ids, dc->n_ids);
        pfx_item_free(&it);
    }
    dq_all_wrong(p, type, &base.up.data);

    struct pfx_edit no_phone = { "telephone", NULL }, savings = { "savings", "\"unknown\"" };
    struct pfx_edit big[2] = { { "telephone", NULL }, { "amount", "20000" } };
    struct pfx_edit extra = { "note", "\"not a declared field\"" };
    dq_optional(p, &base.up.data, &no_phone, 1, TRIAGE_REVIEW, "telephone");
    dq_optional(p, &base.up.data, &savings, 1, TRIAGE_REVIEW, "savings");
    dq_optional(p, &base.up.data, big, 2, TRIAGE_HARD_RULE, "telephone");
    pfx_item_edit(&it, &base.up.data, &extra, 1);
    assert_int_equal(score_triage(p, "dq-extra", &it.up.data, &t), HITLQ_ST_OK);
    assert_int_equal(t.route, TRIAGE_AUTO_APPROVE);
    pfx_item_free(&it);
    pfx_item_free(&base);
    json_decref(root);
    scoring_free(s);
}

/* ---- 5. the QA sample ------------------------------------------------------ */

/* The draw as documented in score_triage.c: SipHash-2-4 keyed with
 * BLAKE2b-128 of the seed over type || 0 || key, 8 bytes big-endian
 * < rate * 2^64. */
static bool qa_reference(const char *seed, const char *key, double rate)
{
    uint8_t k[16], h[8], msg[300];
    size_t tl = strlen(PFX_TYPE), kl = strlen(key);
    uint64_t u = 0;

    crypto_generichash(k, sizeof k, (const uint8_t *)seed, strlen(seed), NULL, 0);
    memcpy(msg, PFX_TYPE, tl);
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
    json_t *root = pfx_default_policy_json();
    json_t *qa = json_object_get(pfx_type_of(root, PFX_TYPE), "qa_sample");
    json_object_set_new(qa, "seed", json_string(seed));
    json_object_set_new(qa, "rate", json_real(rate));
    struct scoring *s = pfx_load_json_policy(dir, name, root);
    json_decref(root);
    return s;
}

/* Only auto items are drawn: with rate 1, t.qa == is_auto for every row. */
static void qa_only_auto(const struct type_policy *all)
{
    struct pfx_credit cs;
    size_t n_auto = 0;
    struct triage t;

    if (!pfx_csv_present())
        return;
    pfx_credit_load(&cs);
    for (size_t i = 0; i < cs.n; i++) {
        assert_int_equal(score_triage(all, cs.items[i].key, &cs.up[i].data, &t), HITLQ_ST_OK);
        assert_int_equal(t.qa, t.is_auto);
        n_auto += t.is_auto;
    }
    assert_true(n_auto > 0 && n_auto < cs.n);
    pfx_credit_free(&cs);
}

static void test_qa_sample(void **state)
{
    (void)state;
    char dir[] = "/tmp/hitlq-test-policy-XXXXXX", key[32];
    struct scoring *s, *s_other, *s_zero, *s_one;
    const struct type_policy *p = pfx_load_default(&s), *po, *pz, *p1;
    size_t n = 20000, n_def = 0, n_other = 0, n_diff = 0;

    pfx_tmpdir_make(dir);
    pfx_write_default_model(dir, "credit_xgb.json");
    po = scoring_policy(s_other = qa_variant(dir, "other.json", "another-seed", 0.02), PFX_TYPE);
    pz = scoring_policy(s_zero = qa_variant(dir, "zero.json", "hitlq-default-qa-1", 0), PFX_TYPE);
    p1 = scoring_policy(s_one = qa_variant(dir, "one.json", "hitlq-default-qa-1", 1), PFX_TYPE);
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
    pfx_tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_quality),
        cmocka_unit_test(test_qa_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
