/*
 * test_score.c - scoring core tests: loading the shipped policy and
 * scorecard (file and embedded), exact contributions, a reference
 * re-implementation over the German Credit CSV, missing / mistyped /
 * unknown values, reason order, and rejection of bad files.  Run from the
 * repo root; the CSV tests skip when tests/vectors/german_credit.csv is absent.
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
#include <openssl/evp.h>

#include "credit_items.h"
#include "defaults.h"
#include "score.h"
#include "tutil.h"

#define POLICY_PATH "server/score/defaults/scorecard_policy.json"
#define MODEL_PATH  "server/score/defaults/credit_scorecard.json"

/* Row 1 of the CSV as an item (scripts/make_items.py). */
static const char *const base_item_json =
    "{\"duration_months\":6,\"amount\":1169,\"installment_rate\":4,"
    "\"residence_years\":4,\"age\":67,\"existing_credits\":2,\"dependents\":1,"
    "\"telephone\":true,\"foreign_worker\":true,\"checking_account\":\"lt.0\","
    "\"credit_history\":\"Critical\",\"purpose\":\"Radio.Television\","
    "\"savings\":\"Unknown\",\"employment\":\"gt.7\",\"personal\":\"Male.Single\","
    "\"other_debtors\":\"None\",\"property\":\"RealEstate\","
    "\"other_installment_plans\":\"None\",\"housing\":\"Own\","
    "\"job\":\"SkilledEmployee\"}";

/* A small model whose features all fit in the reasons. */
static const char *const tiny_model =
    "{\"format\":\"hitlq-scorecard\",\"format_version\":1,\"id\":\"tiny\","
    "\"version\":\"2\",\"link\":\"logistic\",\"bias\":0.25,\"features\":["
    "{\"field\":\"a\",\"kind\":\"numeric\",\"weight\":0.5,\"mean\":1},"
    "{\"field\":\"b\",\"kind\":\"numeric\",\"weight\":-0.5,\"mean\":1},"
    "{\"field\":\"c\",\"kind\":\"boolean\",\"weight\":2,\"mean\":0.5},"
    "{\"field\":\"d\",\"kind\":\"categorical\",\"weights\":{\"x\":1.5,\"y\":-0.5},"
    "\"baseline\":0.5}]}";

/* ---- helpers ------------------------------------------------------------------- */

struct test_item {
    msgpack_sbuffer  sb;
    msgpack_unpacked up;
};

/* Packs `obj` and unpacks it into it->up.root. */
static void item_from_obj(struct test_item *it, const json_t *obj)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(&it->sb);
    msgpack_packer_init(&pk, &it->sb, msgpack_sbuffer_write);
    tutil_pack_json(&pk, obj);
    msgpack_unpacked_init(&it->up);
    assert_int_equal(msgpack_unpack_next(&it->up, it->sb.data, it->sb.size, NULL),
                     MSGPACK_UNPACK_SUCCESS);
}

/* The base item with `field` replaced by JSON `value` (NULL = removed). */
static void item_with(struct test_item *it, const char *field, const char *value)
{
    json_t *obj = json_loads(base_item_json, 0, NULL);
    assert_non_null(obj);
    if (field && value)
        json_object_set_new(obj, field, json_loads(value, JSON_DECODE_ANY, NULL));
    else if (field)
        json_object_del(obj, field);
    item_from_obj(it, obj);
    json_decref(obj);
}

static void item_free(struct test_item *it)
{
    msgpack_unpacked_destroy(&it->up);
    msgpack_sbuffer_destroy(&it->sb);
}

static const struct type_policy *credit_policy(struct scoring **s)
{
    char err[512];
    int rc = scoring_load(s, POLICY_PATH, err, sizeof err);
    if (rc != 0)
        fail_msg("scoring_load: %s", err);
    const struct type_policy *p = scoring_policy(*s, "credit_application");
    assert_non_null(p);
    return p;
}

static int csv_present(void)
{
    if (access(CREDIT_ITEMS_CSV, R_OK) == 0)
        return 1;
    print_message("skipped: %s not found (run from the repo root)\n", CREDIT_ITEMS_CSV);
    return 0;
}

static int reason_index(const struct score_result *r, const char *feature)
{
    for (size_t i = 0; i < r->n_reasons; i++)
        if (strcmp(r->reasons[i].feature, feature) == 0)
            return (int)i;
    return -1;
}

/* ---- the independent reference: scorecard JSON + raw CSV row ------------------ */

struct ref_map { const char *field, *csv; int true_value; };

static const struct ref_map ref_cols[] = {
    { "duration_months", "Duration", -1 }, { "amount", "Amount", -1 },
    { "installment_rate", "InstallmentRatePercentage", -1 },
    { "residence_years", "ResidenceDuration", -1 }, { "age", "Age", -1 },
    { "existing_credits", "NumberExistingCredits", -1 },
    { "dependents", "NumberPeopleMaintenance", -1 },
    { "telephone", "Telephone", 0 }, { "foreign_worker", "ForeignWorker", 1 },
    { "checking_account", "CheckingAccountStatus.", -1 },
    { "credit_history", "CreditHistory.", -1 }, { "purpose", "Purpose.", -1 },
    { "savings", "SavingsAccountBonds.", -1 }, { "employment", "EmploymentDuration.", -1 },
    { "personal", "Personal.", -1 }, { "other_debtors", "OtherDebtorsGuarantors.", -1 },
    { "property", "Property.", -1 }, { "other_installment_plans", "OtherInstallmentPlans.", -1 },
    { "housing", "Housing.", -1 }, { "job", "Job.", -1 },
};

static size_t csv_cells(char *line, char **cells, size_t max)
{
    size_t n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *tok = strtok(line, ","); tok && n < max; tok = strtok(NULL, ",")) {
        size_t l = strlen(tok);
        if (l >= 2 && tok[0] == '"') {
            tok[l - 1] = '\0';
            tok++;
        }
        cells[n++] = tok;
    }
    return n;
}

/* The raw margin term (w*x or w[v]) of one feature for a CSV row, straight
 * from the JSON; *phi gets its contribution. */
static double ref_term(const json_t *feat, char **hdr, char **row, size_t ncols,
                       double *phi)
{
    const char *field = json_string_value(json_object_get(feat, "field"));
    const char *kind = json_string_value(json_object_get(feat, "kind"));
    const struct ref_map *m = NULL;
    for (size_t i = 0; i < sizeof ref_cols / sizeof ref_cols[0]; i++)
        if (strcmp(ref_cols[i].field, field) == 0)
            m = &ref_cols[i];
    assert_non_null(m);
    for (size_t c = 0; c < ncols; c++) {
        if (strcmp(kind, "categorical") == 0) {
            size_t pl = strlen(m->csv);
            if (strncmp(hdr[c], m->csv, pl) == 0 && atof(row[c]) == 1.0) {
                double w = json_number_value(json_object_get(
                    json_object_get(feat, "weights"), hdr[c] + pl));
                *phi = w - json_number_value(json_object_get(feat, "baseline"));
                return w;
            }
        } else if (strcmp(hdr[c], m->csv) == 0) {
            double x = atof(row[c]);
            if (m->true_value >= 0)
                x = (int)x == m->true_value ? 1 : 0;
            double w = json_number_value(json_object_get(feat, "weight"));
            *phi = w * (x - json_number_value(json_object_get(feat, "mean")));
            return w * x;
        }
    }
    fail_msg("no CSV column for %s", field);
    return 0;
}

/* P(Good) = sigmoid(bias + sum w*x + sum w_cat[v]), the plain way. */
static double ref_score(const json_t *card, char **hdr, char **row, size_t ncols,
                        double *phi_out)
{
    const json_t *feats = json_object_get(card, "features");
    double z = json_number_value(json_object_get(card, "bias"));
    for (size_t i = 0; i < json_array_size(feats); i++)
        z += ref_term(json_array_get(feats, i), hdr, row, ncols, &phi_out[i]);
    return 1.0 / (1.0 + exp(-z));
}

/* ---- loading ---------------------------------------------------------------- */

static void check_credit_policy(struct scoring *s)
{
    const struct type_policy *p = scoring_policy(s, "credit_application");
    assert_non_null(p);
    assert_string_equal(scoring_policy_id(s), "scorecard_example@1");
    assert_string_equal(p->model->id, "credit_scorecard@1");
    assert_string_equal(p->model->ops->kind, "scorecard");
    assert_string_equal(p->auto_action, "approve");
    assert_string_equal(p->queue, "credit_review");
    assert_int_equal(p->priority, 100);
    assert_int_equal(p->sla_seconds, 14400);
    assert_true(p->auto_threshold > 0.5 && p->auto_threshold < 1.0);
    assert_null(scoring_policy(s, "no_such_type"));

    size_t len;
    char *bytes = tutil_slurp(MODEL_PATH, &len);
    uint8_t want[32];
    assert_int_equal(EVP_Digest(bytes, len, want, NULL, EVP_sha256(), NULL), 1);
    assert_memory_equal(p->model->digest, want, 32);
    free(bytes);
}

static void test_load_file(void **state)
{
    (void)state;
    struct scoring *s = NULL;
    char err[512];
    assert_int_equal(scoring_load(&s, POLICY_PATH, err, sizeof err), 0);
    check_credit_policy(s);
    scoring_free(s);
    scoring_free(NULL);
}

static void test_load_embedded(void **state)
{
    (void)state;
    struct scoring *s = NULL;
    char err[512];
    assert_int_equal(scoring_load(&s, NULL, err, sizeof err), 0);
    const struct type_policy *tp = scoring_policy(s, "credit_application");
    assert_non_null(tp);
    assert_string_equal(scoring_policy_id(s), "default@2");
    assert_string_equal(tp->model->id, "credit_xgb@1");
    assert_string_equal(tp->model->ops->kind, "xgboost");
    scoring_free(s);

    size_t len, flen;                       /* the embedded bytes are the files */
    const unsigned char *p = defaults_policy(&len);
    char *file = tutil_slurp("server/score/defaults/credit_policy.json", &flen);
    assert_int_equal(len, flen);
    assert_memory_equal(p, file, len);
    assert_int_equal(p[len], 0);
    free(file);
    assert_non_null(defaults_file("credit_scorecard.json", &len));
    assert_null(defaults_file("nope.json", &len));
}

/* ---- contributions --------------------------------------------------------- */

static void test_contributions_exact_tiny(void **state)
{
    (void)state;
    char err[256];
    struct model *m = scorecard_load(tiny_model, strlen(tiny_model), err, sizeof err);
    assert_non_null(m);
    assert_string_equal(m->id, "tiny@2");
    json_t *obj = json_pack("{s:i, s:f, s:b, s:s}", "a", 3, "b", -1.5, "c", 1, "d", "x");
    struct test_item it;
    item_from_obj(&it, obj);
    struct score_result r;
    assert_int_equal(m->ops->score(m, NULL, &it.up.data, SCORE_METHOD_APPROX, &r), HITLQ_ST_OK);
    assert_true(r.complete);
    assert_int_equal(r.n_reasons, 4);
    /* a: 0.5*(3-1)=1; b: -0.5*(-1.5-1)=1.25; c: 2*(1-0.5)=1; d: 1.5-0.5=1 */
    assert_string_equal(r.reasons[0].feature, "b");
    assert_string_equal(r.reasons[1].feature, "a");   /* ties in feature order */
    assert_string_equal(r.reasons[2].feature, "c");
    assert_string_equal(r.reasons[3].feature, "d");
    double sum = 0;
    for (size_t i = 0; i < r.n_reasons; i++)
        sum += r.reasons[i].contribution;
    assert_true(fabs(sum - (r.margin - r.base_margin)) < 1e-9);
    /* base = 0.25 + 0.5*1 - 0.5*1 + 2*0.5 + 0.5 = 1.75 */
    assert_true(fabs(r.base_margin - 1.75) < 1e-12);
    assert_true(fabs(r.margin - (0.25 + 1.5 + 0.75 + 2 + 1.5)) < 1e-12);
    assert_true(fabs(r.score - 1.0 / (1.0 + exp(-r.margin))) < 1e-15);
    item_free(&it);
    json_decref(obj);
    model_free(m);
    model_free(NULL);
}

/* Reference check over the first rows of the CSV: score to 1e-12, every
 * reason's contribution equal to the reference phi, sum(phi) = margin - base. */
static void test_reference_csv(void **state)
{
    (void)state;
    if (!csv_present())
        return;
    struct scoring *s;
    const struct type_policy *p = credit_policy(&s);
    json_t *card = json_load_file(MODEL_PATH, 0, NULL);
    assert_non_null(card);
    size_t nfeat = json_array_size(json_object_get(card, "features"));
    struct credit_item *items;
    size_t n;
    assert_int_equal(credit_items_load(CREDIT_ITEMS_CSV, &items, &n), 0);
    assert_int_equal(n, 1000);

    FILE *f = fopen(CREDIT_ITEMS_CSV, "r");
    static char hline[8192], line[8192];
    char *hdr[128], *row[128];
    assert_non_null(fgets(hline, sizeof hline, f));
    size_t ncols = csv_cells(hline, hdr, 128);
    for (size_t k = 0; k < 20; k++) {
        assert_non_null(fgets(line, sizeof line, f));
        assert_int_equal(csv_cells(line, row, 128), ncols);
        double phi[256], want = ref_score(card, hdr, row, ncols, phi), sum = 0;
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        assert_int_equal(msgpack_unpack_next(&up, (const char *)items[k].fields,
                                             items[k].fields_len, NULL),
                         MSGPACK_UNPACK_SUCCESS);
        struct score_result r;
        assert_int_equal(score_item(p, &up.data, &r), HITLQ_ST_OK);
        assert_true(r.complete);
        assert_true(fabs(r.score - want) < 1e-12);
        for (size_t i = 0; i < nfeat; i++)
            sum += phi[i];
        assert_true(fabs(sum - (r.margin - r.base_margin)) < 1e-9);
        assert_int_equal(r.n_reasons, HITLQ_MAX_REASONS);
        for (size_t i = 0; i < r.n_reasons; i++) {
            size_t fi = 0;
            while (strcmp(json_string_value(json_object_get(json_array_get(
                       json_object_get(card, "features"), fi), "field")),
                          r.reasons[i].feature) != 0)
                fi++;
            assert_true(fabs(r.reasons[i].contribution - phi[fi]) < 1e-12);
            if (i > 0)
                assert_true(fabs(r.reasons[i - 1].contribution) >=
                            fabs(r.reasons[i].contribution));
        }
        msgpack_unpacked_destroy(&up);
    }
    fclose(f);
    credit_items_free(items, n);
    json_decref(card);
    scoring_free(s);
}

/* ---- missing, mistyped and unknown values ------------------------------------ */

static void score_variant(const struct type_policy *p, const char *field,
                          const char *value, int want_rc, struct score_result *r,
                          struct test_item *it)
{
    item_with(it, field, value);
    assert_int_equal(score_item(p, &it->up.data, r), want_rc);
}

static void test_missing_field(void **state)
{
    (void)state;
    struct scoring *s;
    const struct type_policy *p = credit_policy(&s);
    struct score_result r, full;
    struct test_item it;

    score_variant(p, NULL, NULL, HITLQ_ST_OK, &full, &it);
    assert_true(full.complete);
    item_free(&it);

    score_variant(p, "age", NULL, HITLQ_ST_OK, &r, &it);       /* absent */
    assert_false(r.complete);
    assert_false(score_auto_resolves(p, &r));
    int k = reason_index(&r, "age");
    assert_true(k >= 0);
    assert_null(r.reasons[k].value);
    assert_true(r.reasons[k].contribution == 0.0);
    item_free(&it);

    score_variant(p, "purpose", "null", HITLQ_ST_OK, &r, &it);  /* nil */
    assert_false(r.complete);
    k = reason_index(&r, "purpose");
    assert_true(k == (int)r.n_reasons - 1);
    assert_non_null(r.reasons[k].value);
    assert_int_equal(r.reasons[k].value->type, MSGPACK_OBJECT_NIL);
    item_free(&it);
    scoring_free(s);
}

static void test_wrong_type(void **state)
{
    (void)state;
    static const struct { const char *field, *value, *msg; } cases[] = {
        { "age", "\"67\"", "field \"age\": expected a number" },
        { "age", "true", "field \"age\": expected a number" },
        { "purpose", "3", "field \"purpose\": expected a string" },
        { "telephone", "2", "field \"telephone\": expected a boolean" },
        { "telephone", "\"yes\"", "field \"telephone\": expected a boolean" },
        { "amount", "{}", "field \"amount\": expected a number" },
    };
    struct scoring *s;
    const struct type_policy *p = credit_policy(&s);
    struct score_result r;
    struct test_item it;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        score_variant(p, cases[i].field, cases[i].value, HITLQ_ST_INVALID_ITEM, &r, &it);
        assert_string_equal(r.err, cases[i].msg);
        item_free(&it);
    }
    /* non-finite float: packed by hand, JSON cannot carry it */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "age", 3);
    msgpack_pack_double(&pk, NAN);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(score_item(p, &up.data, &r), HITLQ_ST_INVALID_ITEM);
    assert_string_equal(r.err, "field \"age\": expected a finite number");
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
    scoring_free(s);
}

static void test_numbers_and_booleans(void **state)
{
    (void)state;
    struct scoring *s;
    const struct type_policy *p = credit_policy(&s);
    struct score_result a, b;
    struct test_item ia, ib;

    score_variant(p, NULL, NULL, HITLQ_ST_OK, &a, &ia);
    score_variant(p, "telephone", "1", HITLQ_ST_OK, &b, &ib);    /* 1 == true */
    assert_true(a.score == b.score && b.complete);
    item_free(&ib);
    score_variant(p, "age", "67.0", HITLQ_ST_OK, &b, &ib);       /* float == int */
    assert_true(a.score == b.score);
    item_free(&ib);
    score_variant(p, "telephone", "0", HITLQ_ST_OK, &b, &ib);
    assert_true(b.score < a.score);         /* positive weight: no phone scores lower */
    item_free(&ib);
    score_variant(p, "dependents", "-1", HITLQ_ST_OK, &b, &ib);  /* negative int */
    assert_true(b.complete && b.score > a.score);
    item_free(&ib);
    item_free(&ia);
    scoring_free(s);
}

static void test_unknown_category(void **state)
{
    (void)state;
    struct scoring *s;
    const struct type_policy *p = credit_policy(&s);
    struct score_result r;
    struct test_item it;

    score_variant(p, "purpose", "\"Spaceship\"", HITLQ_ST_OK, &r, &it);
    assert_false(r.complete);
    int k = reason_index(&r, "purpose");
    assert_int_equal(k, (int)r.n_reasons - 1);
    assert_true(r.reasons[k].contribution == 0.0);
    assert_int_equal(r.reasons[k].value->type, MSGPACK_OBJECT_STR);
    assert_memory_equal(r.reasons[k].value->via.str.ptr, "Spaceship", 9);
    assert_int_equal(r.n_reasons, HITLQ_MAX_REASONS + 1);   /* 8 present + the missing one */
    for (size_t i = 1; i < r.n_reasons; i++)
        assert_true(fabs(r.reasons[i - 1].contribution) >= fabs(r.reasons[i].contribution));
    item_free(&it);

    score_variant(p, "unrelated_extra", "\"x\"", HITLQ_ST_OK, &r, &it);  /* ignored */
    assert_true(r.complete);
    item_free(&it);
    scoring_free(s);
}

/* ---- bad files ---------------------------------------------------------------- */

static void expect_model_error(const char *json, const char *want)
{
    char err[256] = "";
    struct model *m = scorecard_load(json, strlen(json), err, sizeof err);
    if (m || !strstr(err, want))
        fail_msg("model %s: got \"%s\", want \"%s\"", json, m ? "(loaded)" : err, want);
}

static void test_bad_models(void **state)
{
    (void)state;
#define HDR "{\"format\":\"hitlq-scorecard\",\"format_version\":1,\"id\":\"t\"," \
            "\"version\":\"1\",\"link\":\"logistic\",\"bias\":0,"
    expect_model_error("{\"format\":", "invalid JSON at line 1");
    expect_model_error("[1]", "top level must be a JSON object");
    expect_model_error("{\"format\":\"xgboost\"}", "unknown format \"xgboost\"");
    expect_model_error(HDR "\"features\":[{\"field\":\"a\",\"kind\":\"numeric\","
                       "\"weight\":1e999,\"mean\":0}]}", "invalid JSON");
    expect_model_error(HDR "\"features\":[{\"field\":\"a\",\"kind\":\"numeric\","
                       "\"weight\":\"1\",\"mean\":0}]}",
                       "features[0] (\"a\"): \"weight\" must be a finite number");
    expect_model_error(HDR "\"features\":[{\"field\":\"a\",\"kind\":\"categorical\","
                       "\"weights\":{\"x\":null},\"baseline\":0}]}",
                       "\"weights\".\"x\" must be a finite number");
    expect_model_error(HDR "\"features\":[{\"field\":\"a\",\"kind\":\"numeric\","
                       "\"weight\":1,\"mean\":0},{\"field\":\"a\",\"kind\":\"boolean\","
                       "\"weight\":1,\"mean\":0}]}", "duplicate field \"a\"");
    expect_model_error(HDR "\"features\":[{\"field\":\"a\",\"kind\":\"ordinal\"}]}",
                       "\"kind\" must be");
    expect_model_error(HDR "\"features\":[{\"field\":\"a\",\"kind\":\"numeric\","
                       "\"weight\":1,\"mean\":0,\"wieght\":2}]}", "unknown key \"wieght\"");
    expect_model_error(HDR "\"features\":[]}", "\"features\" must be an array");
    expect_model_error(HDR "\"features\":[1], \"extra\":1}", "unknown key \"extra\"");
    expect_model_error("{\"format\":\"hitlq-scorecard\",\"format_version\":2}",
                       "format_version");
#undef HDR
}

/* Writes `text` to dir/name. */
static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void expect_policy_error(const char *dir, const char *policy, const char *want)
{
    char path[512], err[512] = "";
    struct scoring *s = NULL;
    write_file(dir, "policy.json", policy);
    snprintf(path, sizeof path, "%s/policy.json", dir);
    if (scoring_load(&s, path, err, sizeof err) == 0 || !strstr(err, want) ||
        !strstr(err, dir))
        fail_msg("policy %s: got \"%s\", want \"%s\"", policy, err, want);
    assert_null(s);
}

static void test_bad_policies(void **state)
{
    (void)state;
    char dir[] = "/tmp/hitlq-test-score-XXXXXX", path[512], err[512];
    assert_non_null(mkdtemp(dir));
    write_file(dir, "m.json", tiny_model);
    write_file(dir, "broken.json", "{\"format\":\"hitlq-scorecard\",\"format_version\":1,"
               "\"id\":\"x\",\"version\":\"1\",\"link\":\"probit\"}");
#define P1 "{\"format\":\"hitlq-policy\",\"format_version\":1,\"id\":\"p\",\"version\":\"3\"," \
           "\"types\":{\"t\":{\"model\":"
#define P2 ",\"auto_action\":\"approve\",\"queue\":\"q\",\"priority\":1,\"sla_seconds\":60}}}"
    expect_policy_error(dir, "{\"types\":", "invalid JSON");
    expect_policy_error(dir, "{\"format\":\"hitlq-policies\"}", "unknown format");
    expect_policy_error(dir, P1 "\"missing.json\",\"auto_threshold\":0.5" P2,
                        "types.\"t\": \"model\": ");
    expect_policy_error(dir, P1 "\"missing.json\",\"auto_threshold\":0.5" P2, "missing.json");
    expect_policy_error(dir, P1 "\"broken.json\",\"auto_threshold\":0.5" P2,
                        "broken.json (model of ");
    expect_policy_error(dir, P1 "\"m.json\",\"auto_threshold\":1.5" P2,
                        "types.\"t\": \"auto_threshold\" must be a number in [0, 1]");
    expect_policy_error(dir, P1 "\"m.json\",\"auto_threshold\":0.5,\"colour\":1" P2,
                        "types.\"t\": unknown key \"colour\"");
    expect_policy_error(dir, P1 "\"m.json\",\"auto_threshold\":0.5,\"priority\":-1,"
                        "\"auto_action\":\"a\",\"queue\":\"q\",\"sla_seconds\":1}}}",
                        "\"priority\" must be an integer");

    /* and a good one: two types sharing one model file */
    write_file(dir, "policy.json", "{\"format\":\"hitlq-policy\",\"format_version\":1,"
               "\"id\":\"p\",\"version\":\"3\",\"types\":{"
               "\"t\":{\"model\":\"m.json\",\"auto_threshold\":0.5,\"auto_action\":\"a\","
               "\"queue\":\"q\",\"priority\":1,\"sla_seconds\":60},"
               "\"u\":{\"model\":\"m.json\",\"auto_threshold\":1,\"auto_action\":\"b\","
               "\"queue\":\"r\",\"priority\":0,\"sla_seconds\":1}}}");
    snprintf(path, sizeof path, "%s/policy.json", dir);
    struct scoring *s;
    if (scoring_load(&s, path, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(scoring_policy_id(s), "p@3");
    assert_ptr_equal(scoring_policy(s, "t")->model, scoring_policy(s, "u")->model);
    assert_string_equal(scoring_policy(s, "u")->queue, "r");
    scoring_free(s);
#undef P1
#undef P2
    assert_int_not_equal(scoring_load(&s, "/nonexistent/policy.json", err, sizeof err), 0);
    assert_non_null(strstr(err, "/nonexistent/policy.json: cannot open"));
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- the whole data set: decision rates and speed ------------------------------ */

static void test_auto_rate_and_speed(void **state)
{
    (void)state;
    if (!csv_present())
        return;
    struct scoring *s;
    const struct type_policy *p = credit_policy(&s);
    struct credit_item *items;
    size_t n, n_auto = 0, n_auto_good = 0;
    assert_int_equal(credit_items_load(CREDIT_ITEMS_CSV, &items, &n), 0);
    msgpack_unpacked *up = calloc(n, sizeof *up);
    assert_non_null(up);
    struct score_result r;
    for (size_t i = 0; i < n; i++) {
        msgpack_unpacked_init(&up[i]);
        assert_int_equal(msgpack_unpack_next(&up[i], (const char *)items[i].fields,
                                             items[i].fields_len, NULL),
                         MSGPACK_UNPACK_SUCCESS);
        assert_int_equal(score_item(p, &up[i].data, &r), HITLQ_ST_OK);
        if (score_auto_resolves(p, &r)) {
            n_auto++;
            n_auto_good += items[i].good;
        }
    }
    print_message("auto-resolved %zu of %zu (%.1f%%), precision %.1f%%\n", n_auto, n,
                  100.0 * (double)n_auto / (double)n,
                  100.0 * (double)n_auto_good / (double)n_auto);
    assert_true(n_auto >= 400 && n_auto <= 600);
    assert_true((double)n_auto_good / (double)n_auto >= 0.9);

    struct timespec t0, t1;
    size_t reps = 50;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t k = 0; k < reps; k++)
        for (size_t i = 0; i < n; i++)
            score_item(p, &up[i].data, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
                (double)(reps * n);
    print_message("score_item: %.0f ns/item (this build)\n", ns);
    for (size_t i = 0; i < n; i++)
        msgpack_unpacked_destroy(&up[i]);
    free(up);
    credit_items_free(items, n);
    scoring_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_load_embedded),
        cmocka_unit_test(test_contributions_exact_tiny),
        cmocka_unit_test(test_reference_csv),
        cmocka_unit_test(test_missing_field),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_numbers_and_booleans),
        cmocka_unit_test(test_unknown_category),
        cmocka_unit_test(test_bad_models),
        cmocka_unit_test(test_bad_policies),
        cmocka_unit_test(test_auto_rate_and_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
