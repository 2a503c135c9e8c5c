/*
 * test_policy_load.c - strict policy loading and the binned scorecard
 * feature (tests/lib/policy_fixture.h): every load error names its key
 * (mapping, scorecard, routing and section errors), lean_threshold and
 * actions (defaults, errors, the recommendation rule, declared outcomes),
 * valid variants load
 * and score (small and regression models, a scorecard), and binned
 * features score by bin, treat missing and wrong values, and refuse bad
 * bin tables.  Temporary files go to a mkdtemp directory under /tmp.
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
#include <openssl/evp.h>
#include <sodium.h>

#include "defaults.h"
#include "featmap.h"
#include "policy_fixture.h"
#include "score.h"
#include "tutil.h"

#define SMALL_MODEL "tests/vectors/xgb/credit_small.json"
#define SMALL_PREDS "tests/vectors/xgb/credit_small_preds.csv"
#define REG_MODEL   "tests/vectors/xgb/credit_small_reg.json"

/* ---- 6. policy load errors ------------------------------------------------- */

/* A scorecard reading a number "a" and a category "d". */
static const char *const tiny_scorecard =
    "{\"format\":\"hitlq-scorecard\",\"format_version\":1,\"id\":\"tiny\","
    "\"version\":\"1\",\"link\":\"logistic\",\"bias\":0.25,\"features\":["
    "{\"field\":\"a\",\"kind\":\"numeric\",\"weight\":0.5,\"mean\":1},"
    "{\"field\":\"d\",\"kind\":\"categorical\",\"weights\":{\"x\":1.5,\"y\":-0.5},"
    "\"baseline\":0.5}]}";

static void copy_file(const char *dir, const char *name, const char *src)
{
    size_t len;
    char *bytes = tutil_slurp(src, &len);
    pfx_write_bytes(dir, name, bytes, len);
    free(bytes);
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

/* A copy of the default policy with the type entry edited by the caller. */
static json_t *pol(json_t **type)
{
    json_t *root = pfx_default_policy_json();
    *type = pfx_type_of(root, PFX_TYPE);
    return root;
}

/* A small scorecard type: model "sc.json", fields as given (JSON). */
static json_t *scorecard_pol(const char *fields_json)
{
    json_t *root = pfx_default_policy_json(), *t = json_object();
    json_object_set_new(t, "model", json_string("sc.json"));
    json_object_set_new(t, "auto_threshold", json_real(0.5));
    json_object_set_new(t, "auto_action", json_string("approve"));
    json_object_set_new(t, "queue", json_string("q"));
    json_object_set_new(t, "priority", json_integer(1));
    json_object_set_new(t, "sla_seconds", json_integer(60));
    if (fields_json)
        json_object_set_new(t, "fields", json_loads(fields_json, 0, NULL));
    json_object_set_new(json_object_get(root, "types"), PFX_TYPE, t);
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
    json_object_set_new(pfx_type_of(root, PFX_TYPE), "score_class", json_integer(1));
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
    struct pfx_item it;
    struct score_result r;
    FILE *f = fopen(SMALL_PREDS, "r");

    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(fgets(line, sizeof line, f));
    assert_int_equal(sscanf(line, "%lf,%lf", &pred, &margin), 2);
    fclose(f);
    pfx_item_from_json(&it, pfx_base_item_json);
    assert_int_equal(score_item(ps, &it.up.data, &r), HITLQ_ST_OK);
    assert_true(pfx_near(r.score, pred, 1e-6, 1e-6) && pfx_near(r.margin, margin, 1e-5, 1e-5));
    pfx_item_free(&it);
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
    struct scoring *s = pfx_load_json_policy(dir, "valid.json", root);
    json_decref(root);

    snprintf(path, sizeof path, "%s/m.json", dir);
    bytes = tutil_slurp(path, &len);
    assert_int_equal(EVP_Digest(bytes, len, dg, NULL, EVP_sha256(), NULL), 1);
    free(bytes);
    sodium_bin2hex(hex, sizeof hex, dg, 6);
    snprintf(want, sizeof want, "m@%s", hex);
    assert_int_equal(scoring_n_types(s), 3);
    const struct type_policy *pm = scoring_policy(s, PFX_TYPE);
    const struct type_policy *ps = scoring_policy(s, "credit_small");
    const struct type_policy *pa = scoring_policy(s, "credit_alt");
    assert_string_equal(pm->model->id, want);
    assert_memory_equal(pm->model->digest, dg, 32);
    assert_string_equal(ps->model->id, "small@7");
    assert_ptr_equal(pa->model, pm->model);           /* one file, one model */
    assert_ptr_not_equal(ps->model, pm->model);
    assert_int_equal(featmap_n_inputs(ps->featmap), PFX_N_INPUTS);
    check_small_row1(ps);
    scoring_free(s);
}

/* lean_threshold and actions: defaults, explicit values, errors; the
 * recommendation rule and the declared actions RESOLVE checks. */
static void load_lean_actions(const char *dir)
{
    json_t *t, *root = pol(&t);
    const char *w = "types.\"credit_application\"";
    struct triage tr;

    json_object_set_new(t, "lean_threshold", json_real(1.5));
    expect_policy_error(dir, root, "\"lean_threshold\" must be a number in [0, 1]", w);
    json_object_set_new(t, "lean_threshold", json_string("0.5"));
    expect_policy_error(dir, root, "\"lean_threshold\" must be a number in [0, 1]", w);
    json_object_del(t, "lean_threshold");
    json_object_set_new(t, "actions", json_pack("[s,s]", "refer", "refer"));
    expect_policy_error(dir, root, "actions[1]: duplicate \"refer\"", w);
    json_object_set_new(t, "actions", json_array());
    expect_policy_error(dir, root, "\"actions\" must be an array of 1..64 names", w);
    json_object_set_new(t, "actions", json_pack("[s,i]", "refer", 3));
    expect_policy_error(dir, root, "actions[1] must be a printable name", w);
    /* defaults: the midpoint of 0.85 and 0.25; no reject band: auto_threshold */
    json_object_set_new(t, "actions", json_pack("[s]", "refer"));
    struct scoring *s = pfx_load_json_policy(dir, "lean.json", root);
    const struct type_policy *p = scoring_policy(s, PFX_TYPE);
    assert_true(p->lean_threshold == (0.85 + 0.25) / 2);
    assert_true(score_outcome_declared(p, "approve") && score_outcome_declared(p, "reject") &&
                score_outcome_declared(p, "refer"));
    assert_false(score_outcome_declared(p, "escalate") || score_outcome_declared(p, "Approve"));
    memset(&tr, 0, sizeof tr);
    tr.r.method = SCORE_METHOD_APPROX;
    tr.r.score = 0.55;                                  /* on the lean: auto side */
    assert_string_equal(score_recommendation(p, &tr), "approve");
    tr.r.score = nextafter(0.55, 0.0);
    assert_string_equal(score_recommendation(p, &tr), "reject");
    tr.r.method = SCORE_METHOD_NONE;                    /* unscored: none */
    assert_string_equal(score_recommendation(p, &tr), "");
    scoring_free(s);
    json_object_del(t, "auto_reject_threshold");
    json_object_del(t, "reject_action");
    s = pfx_load_json_policy(dir, "lean2.json", root);
    p = scoring_policy(s, PFX_TYPE);
    assert_true(p->lean_threshold == 0.85);
    assert_false(score_outcome_declared(p, "reject"));
    tr.r.method = SCORE_METHOD_APPROX;
    tr.r.score = 0.5;                                   /* below, no reject side */
    assert_string_equal(score_recommendation(p, &tr), "");
    scoring_free(s);
    json_object_set_new(t, "lean_threshold", json_real(0.4));
    s = pfx_load_json_policy(dir, "lean3.json", root);
    p = scoring_policy(s, PFX_TYPE);
    assert_true(p->lean_threshold == 0.4);
    assert_string_equal(score_recommendation(p, &tr), "approve");
    scoring_free(s);
    json_decref(root);
}

/* root_causes and escalate_to: errors (protocol names only), the root
 * causes RESOLVE accepts and the queues ESCALATE accepts (every queue the
 * policy names, its escalate_to names and the dead-letter queue, sorted). */
static void load_root_causes_queues(const char *dir)
{
    json_t *t, *root = pol(&t);
    const char *w = "types.\"credit_application\"", *q[16];
    bool more = true;

    json_object_set_new(t, "root_causes", json_pack("[s]", "docs missing"));
    expect_policy_error(dir, root, "root_causes[0] must be a protocol (A-Z a-z 0-9 _ - . : @ /) "
                        "name of 1..128 bytes", w);
    json_object_set_new(t, "root_causes", json_pack("[s,s]", "a", "a"));
    expect_policy_error(dir, root, "root_causes[1]: duplicate \"a\"", w);
    json_object_set_new(t, "root_causes", json_pack("[s,s]", "docs_missing", "fraud"));
    json_object_set_new(t, "escalate_to", json_pack("[s]", "credit seniors"));
    expect_policy_error(dir, root, "escalate_to[0] must be a protocol", w);
    json_object_set_new(t, "escalate_to", json_pack("[s]", "q234567890123456789012345678901234"
                                                    "5678901234567890123456789012345"));
    expect_policy_error(dir, root, "escalate_to[0] must be a protocol (A-Z a-z 0-9 _ - . : @ /) "
                        "name of 1..64 bytes", w);
    json_object_set_new(t, "escalate_to", json_array());
    expect_policy_error(dir, root, "\"escalate_to\" must be an array of 1..64 names", w);
    json_object_set_new(t, "escalate_to", json_pack("[s,s]", "credit_fraud", "credit_review"));
    struct scoring *s = pfx_load_json_policy(dir, "lists.json", root);
    const struct type_policy *p = scoring_policy(s, PFX_TYPE);
    assert_true(score_root_cause_declared(p, "fraud") &&
                score_root_cause_declared(p, "docs_missing"));
    assert_false(score_root_cause_declared(p, "Fraud") || score_root_cause_declared(p, "x"));
    /* the queues pol() names: review, senior (hard rule), data quality, qa */
    size_t n = scoring_queues(s, "dead_letter", q, 16, &more);
    static const char *const want[] = { "credit_data_quality", "credit_fraud", "credit_qa",
                                         "credit_review", "credit_senior", "dead_letter" };
    assert_int_equal(n, 6);
    assert_false(more);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(q[i], want[i]);
    assert_int_equal(scoring_queues(s, "dead_letter", q, 2, &more), 2);
    assert_true(more);
    assert_true(scoring_queue_known(s, "dead_letter", "credit_fraud") &&
                scoring_queue_known(s, "dead_letter", "dead_letter") &&
                scoring_queue_known(s, "dlq", "credit_qa"));
    assert_false(scoring_queue_known(s, "dlq", "dead_letter") ||
                 scoring_queue_known(s, "dead_letter", "credit_frau") ||
                 scoring_queue_known(s, "dead_letter", ""));
    scoring_free(s);
    json_object_del(t, "root_causes");
    s = pfx_load_json_policy(dir, "lists2.json", root);
    assert_true(score_root_cause_declared(scoring_policy(s, PFX_TYPE), "anything"));
    scoring_free(s);
    json_decref(root);
}

static void test_policy_load_errors(void **state)
{
    (void)state;
    char dir[] = "/tmp/hitlq-test-policy-XXXXXX";
    size_t len;
    const unsigned char *sc = defaults_scorecard(&len);

    pfx_tmpdir_make(dir);
    pfx_write_default_model(dir, "credit_xgb.json");
    pfx_write_default_model(dir, "m.json");
    copy_file(dir, "reg.json", REG_MODEL);
    copy_file(dir, "small.json", SMALL_MODEL);
    pfx_write_bytes(dir, "full_scorecard.json", sc, len);
    pfx_write_bytes(dir, "sc.json", tiny_scorecard, strlen(tiny_scorecard));
    load_errors_mapping(dir);
    load_errors_scorecard(dir);
    load_errors_routing(dir);
    load_errors_sections(dir);
    load_lean_actions(dir);
    load_root_causes_queues(dir);
    load_valid(dir);
    pfx_tmpdir_remove(dir);
}

/* ---- 7. the binned scorecard feature --------------------------------------- */

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
    struct pfx_item it;
    struct score_result r;
    char json[128];
    double margin = 2.2 + phi;

    snprintf(json, sizeof json, "{\"age\": %s, \"n\": 1}", age);
    pfx_item_from_json(&it, json);
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
    pfx_item_free(&it);
}

static void binned_missing_and_wrong(const struct type_policy *p)
{
    struct pfx_item it;
    struct score_result r;

    pfx_item_from_json(&it, "{\"n\": 3}");
    assert_int_equal(score_item(p, &it.up.data, &r), HITLQ_ST_OK);
    assert_false(r.complete);
    assert_true(fabs(r.margin - (2.2 + 4)) < 1e-12);
    assert_string_equal(r.reasons[1].feature, "age");
    assert_null(r.reasons[1].value);
    assert_true(r.reasons[1].contribution == 0);
    pfx_item_free(&it);
    pfx_item_from_json(&it, "{\"age\": \"old\", \"n\": 1}");
    assert_int_equal(score_item(p, &it.up.data, &r), HITLQ_ST_INVALID_ITEM);
    assert_non_null(strstr(r.err, "\"age\""));
    pfx_item_free(&it);
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

    pfx_tmpdir_make(dir);
    pfx_write_bytes(dir, "sc.json", binned_model, strlen(binned_model));
    root = scorecard_pol("{\"age\": {\"type\": \"number\"}, \"n\": {\"type\": \"integer\"}}");
    s = pfx_load_json_policy(dir, "binned.json", root);
    const struct type_policy *p = scoring_policy(s, PFX_TYPE);
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
    pfx_tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_load_errors),
        cmocka_unit_test(test_binned_scorecard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
