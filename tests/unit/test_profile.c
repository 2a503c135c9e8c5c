/*
 * test_profile.c - the input-drift reference profile (server/score/profile.c):
 * the bundled profile (server/score/defaults/credit_profile.json, written
 * by scripts/train_credit_xgb.py) loads with the bundled policy, and binning
 * every German Credit row (tests/lib/credit_items.c) through it gives back
 * exactly the reference counts the script computed; the binning rules at
 * the edges (edge values, below / above the range, missing, sentinels,
 * unseen categories, string forms); its PROFILE extension decodes to the
 * same bins; loader errors and limits; a policy file naming a profile
 * beside it.  Run from the repo root.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <msgpack.h>
#include <sodium.h>

#include "credit_items.h"
#include "defaults.h"
#include "profile.h"
#include "record.h"
#include "schema.h"
#include "score.h"
#include "tutil.h"

static struct scoring *g_sc;
static const struct type_policy *g_tp;

static int
setup(void **state)
{
    char err[512];

    (void)state;
    if (scoring_load(&g_sc, NULL, err, sizeof err) != 0)
        fail_msg("embedded policy: %s", err);
    g_tp = scoring_policy(g_sc, "credit_application");
    return g_tp == NULL || g_tp->profile == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    (void)state;
    scoring_free(g_sc);
    return 0;
}

/* Index of the feature named field, or fails. */
static size_t
feat_index(const struct profile *p, const char *field)
{
    struct profile_feature f;

    for (size_t i = 0; i < profile_n_features(p); i++) {
        profile_feature_at(p, i, &f);
        if (strcmp(f.field, field) == 0)
            return i;
    }
    fail_msg("no feature %s", field);
    return 0;
}

/* ---- the bundled profile ---------------------------------------------------- */

static void
test_bundled_profile(void **state)
{
    const struct profile *p = g_tp->profile;
    struct profile_feature f;
    uint8_t dg[32];
    size_t len;
    const unsigned char *bytes = defaults_file("credit_profile.json", &len);

    (void)state;
    assert_non_null(bytes);
    crypto_hash_sha256(dg, bytes, len);
    assert_memory_equal(profile_digest(p), dg, 32);
    assert_int_equal(profile_n(p), 1000);
    assert_int_equal(profile_n_features(p), 20);           /* one per mapping entry */
    assert_string_equal(profile_version(p), "credit_xgb@1/1");
    profile_feature_at(p, feat_index(p, "amount"), &f);
    assert_int_equal(f.kind, PROFILE_NUMERIC);
    assert_int_equal(f.n_bins, 10);                         /* deciles */
    profile_feature_at(p, feat_index(p, "purpose"), &f);
    assert_int_equal(f.kind, PROFILE_CATEGORICAL);
    assert_int_equal(f.n_bins, 10);                         /* 10 of 11 levels seen */
    for (unsigned b = 1; b < f.n_bins; b++)
        assert_true(strcmp(f.categories[b - 1], f.categories[b]) < 0);
    profile_feature_at(p, feat_index(p, "telephone"), &f);
    assert_int_equal(f.n_bins, 2);
    assert_string_equal(f.categories[0], "false");
    assert_string_equal(f.categories[1], "true");
}

/* Binning the 1000 training rows reproduces the script's reference counts. */
static void
test_bundled_counts_reproduced(void **state)
{
    const struct profile *p = g_tp->profile;
    static uint32_t got[PROFILE_FEATURES_MAX][PROFILE_BINS_MAX + 2];
    struct credit_item *items = NULL;
    struct profile_feature f;
    uint8_t bins[PROFILE_FEATURES_MAX];
    size_t n = 0, nf = profile_n_features(p);

    (void)state;
    if (credit_items_load(CREDIT_ITEMS_CSV, &items, &n) != 0)
        fail_msg("cannot read %s", CREDIT_ITEMS_CSV);
    assert_int_equal(n, 1000);
    memset(got, 0, sizeof got);
    for (size_t i = 0; i < n; i++) {
        msgpack_unpacked up;

        msgpack_unpacked_init(&up);
        assert_int_equal(msgpack_unpack_next(&up, (const char *)items[i].fields,
                                             items[i].fields_len, NULL), MSGPACK_UNPACK_SUCCESS);
        profile_bin_item(p, &up.data, bins);
        for (size_t k = 0; k < nf; k++)
            got[k][bins[k] == PROFILE_BIN_MISSING ? PROFILE_BINS_MAX
                   : bins[k] == PROFILE_BIN_UNSEEN ? PROFILE_BINS_MAX + 1 : bins[k]]++;
        msgpack_unpacked_destroy(&up);
    }
    for (size_t k = 0; k < nf; k++) {
        profile_feature_at(p, k, &f);
        for (unsigned b = 0; b < f.n_bins; b++)
            if (got[k][b] != f.counts[b])
                fail_msg("%s bin %u: %u items, reference %u", f.field, b, got[k][b],
                         f.counts[b]);
        assert_int_equal(got[k][PROFILE_BINS_MAX], f.missing);
        assert_int_equal(got[k][PROFILE_BINS_MAX + 1], 0);
    }
    credit_items_free(items, n);
}

/* ---- binning rules ------------------------------------------------------------ */

static uint8_t
bin_json(const struct profile *p, size_t i, const char *json)
{
    json_t *j = json_loads(json, JSON_DECODE_ANY, NULL);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_unpacked up;
    uint8_t b;

    assert_non_null(j);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    tutil_pack_json(&pk, j);
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
    b = profile_bin_value(p, i, &up.data);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
    json_decref(j);
    return b;
}

static void
test_bin_rules(void **state)
{
    const struct profile *p = g_tp->profile;
    size_t dur = feat_index(p, "duration_months"), tel = feat_index(p, "telephone");
    size_t sav = feat_index(p, "savings"), amt = feat_index(p, "amount");
    struct profile_feature f;

    (void)state;
    profile_feature_at(p, dur, &f);            /* edges 9 12 15 18 24 30 36 */
    assert_int_equal(f.n_bins, 8);
    assert_int_equal(bin_json(p, dur, "1"), 0);
    assert_int_equal(bin_json(p, dur, "8.99"), 0);
    assert_int_equal(bin_json(p, dur, "9"), 1);           /* an edge opens its bin */
    assert_int_equal(bin_json(p, dur, "9.0"), 1);
    assert_int_equal(bin_json(p, dur, "35.9"), 6);
    assert_int_equal(bin_json(p, dur, "36"), 7);
    assert_int_equal(bin_json(p, dur, "1000000"), 7);
    assert_int_equal(bin_json(p, dur, "-5"), 0);
    assert_int_equal(bin_json(p, dur, "true"), 0);        /* booleans are 1 / 0 */
    assert_int_equal(bin_json(p, dur, "\"12\""), PROFILE_BIN_UNSEEN);
    assert_int_equal(bin_json(p, dur, "null"), PROFILE_BIN_MISSING);
    assert_int_equal(profile_bin_value(p, dur, NULL), PROFILE_BIN_MISSING);
    profile_feature_at(p, amt, &f);
    assert_int_equal(bin_json(p, amt, "7179.4000000000015"), 9);
    assert_int_equal(bin_json(p, amt, "7179.4"), 8);
    assert_int_equal(bin_json(p, tel, "true"), 1);
    assert_int_equal(bin_json(p, tel, "false"), 0);
    assert_int_equal(bin_json(p, tel, "\"true\""), 1);    /* string form */
    assert_int_equal(bin_json(p, tel, "1"), PROFILE_BIN_UNSEEN);
    profile_feature_at(p, sav, &f);
    assert_true(bin_json(p, sav, "\"lt.100\"") < f.n_bins);
    assert_string_equal(f.categories[bin_json(p, sav, "\"lt.100\"")], "lt.100");
    assert_int_equal(bin_json(p, sav, "\"unknown\""), PROFILE_BIN_MISSING);   /* sentinel */
    assert_int_equal(bin_json(p, sav, "\"\""), PROFILE_BIN_MISSING);
    assert_int_equal(bin_json(p, sav, "\"gt.5000\""), PROFILE_BIN_UNSEEN);
    assert_int_equal(bin_json(p, sav, "2.5"), PROFILE_BIN_UNSEEN);
}

/* A whole item: absent fields are missing, unknown fields ignored. */
static void
test_bin_item(void **state)
{
    const struct profile *p = g_tp->profile;
    uint8_t bins[PROFILE_FEATURES_MAX];
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_unpacked up;
    json_t *j = json_loads("{\"amount\": 500, \"purpose\": \"NewCar\", \"zz\": 1, "
                           "\"age\": null, \"duration_months\": 40}", 0, NULL);

    (void)state;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    tutil_pack_json(&pk, j);
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
    profile_bin_item(p, &up.data, bins);
    assert_int_equal(bins[feat_index(p, "amount")], 0);
    assert_int_equal(bins[feat_index(p, "duration_months")], 7);
    assert_int_not_equal(bins[feat_index(p, "purpose")], PROFILE_BIN_UNSEEN);
    assert_int_equal(bins[feat_index(p, "age")], PROFILE_BIN_MISSING);
    assert_int_equal(bins[feat_index(p, "job")], PROFILE_BIN_MISSING);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
    json_decref(j);
}

/* The PROFILE extension the log records holds the same bins and counts. */
static void
test_profile_ext(void **state)
{
    static struct record_ext_profile e;
    const struct profile *p = g_tp->profile;
    struct profile_feature f;
    size_t len;
    const uint8_t *body = profile_ext(p, &len);

    (void)state;
    assert_int_equal(record_ext_profile_decode(body, len, &e), RECORD_OK);
    assert_memory_equal(e.digest, profile_digest(p), 32);
    assert_int_equal(e.n, 1000);
    assert_int_equal(e.n_features, profile_n_features(p));
    for (size_t i = 0; i < e.n_features; i++) {
        profile_feature_at(p, i, &f);
        assert_int_equal(e.f[i].name.len, strlen(f.field));
        assert_memory_equal(e.f[i].name.data, f.field, e.f[i].name.len);
        assert_int_equal(e.f[i].kind, f.kind);
        assert_int_equal(e.f[i].n_bins, f.n_bins);
        assert_memory_equal(e.f[i].count, f.counts, f.n_bins * sizeof(uint32_t));
        for (unsigned b = 0; f.kind == PROFILE_NUMERIC && b + 1u < f.n_bins; b++)
            assert_true(e.f[i].edge[b] == f.edges[b]);
        for (unsigned b = 0; f.kind == PROFILE_CATEGORICAL && b < f.n_bins; b++)
            assert_memory_equal(e.f[i].category[b].data, f.categories[b],
                                e.f[i].category[b].len);
    }
}

/* ---- loader errors --------------------------------------------------------------- */

static struct schema *
test_schema(void)
{
    char err[256];
    json_t *jf = json_loads("{\"x\": {\"type\": \"number\"}, \"c\": {\"type\": \"string\", "
                            "\"missing\": [\"?\"]}, \"b\": {\"type\": \"boolean\"}}", 0, NULL);
    struct schema *s = schema_load(jf, NULL, "t", err, sizeof err);

    json_decref(jf);
    assert_non_null(s);
    return s;
}

#define P_HEAD "{\"format\": \"hitlq-profile\", \"format_version\": 1, \"n\": 4, \"features\": ["
#define P_X    "{\"field\": \"x\", \"kind\": \"numeric\", \"edges\": [1, 2], \"counts\": [1, 1, 1], \"missing\": 1}"
#define P_C    "{\"field\": \"c\", \"kind\": \"categorical\", \"categories\": [\"b\", \"a\"], \"counts\": [3, 1], \"missing\": 0}"

static void
load_bad(const struct schema *s, const char *json, const char *want)
{
    char err[600] = "";
    struct profile *p = profile_load(json, strlen(json), s, "p.json", err, sizeof err);

    if (p != NULL || strstr(err, want) == NULL)
        fail_msg("profile %s: want an error with \"%s\", got %s", json, want,
                 p ? "success" : err);
}

static void
test_load_ok_sorted(void **state)
{
    struct schema *s = test_schema();
    char err[600];
    const char *json = P_HEAD P_X "," P_C "]}";
    struct profile *p = profile_load(json, strlen(json), s, "p.json", err, sizeof err);
    struct profile_feature f;

    (void)state;
    if (p == NULL)
        fail_msg("%s", err);
    profile_feature_at(p, 1, &f);
    assert_string_equal(f.categories[0], "a");           /* sorted, counts along */
    assert_int_equal(f.counts[0], 1);
    assert_int_equal(f.counts[1], 3);
    assert_string_equal(profile_version(p), "");
    profile_free(p);
    schema_free(s);
}

static void
test_load_errors(void **state)
{
    struct schema *s = test_schema();
    char big[70000];
    size_t o;

    (void)state;
    load_bad(s, "{", "invalid JSON");
    load_bad(s, "{\"format\": \"x\"}", "hitlq-profile");
    load_bad(s, "{\"format\": \"hitlq-profile\", \"format_version\": 2}", "format_version");
    load_bad(s, P_HEAD P_X "], \"zz\": 1}", "zz");
    load_bad(s, "{\"format\": \"hitlq-profile\", \"format_version\": 1, \"n\": 0, "
             "\"features\": [" P_X "]}", "\"n\"");
    load_bad(s, P_HEAD "]}", "1..64 features");
    load_bad(s, P_HEAD "{\"field\": \"x\", \"kind\": \"numeric\", \"edges\": [2, 1], "
             "\"counts\": [1, 1, 1], \"missing\": 1}]}", "ascending");
    load_bad(s, P_HEAD "{\"field\": \"x\", \"kind\": \"numeric\", \"edges\": [1], "
             "\"counts\": [1, 1, 1], \"missing\": 1}]}", "len(counts) - 1");
    load_bad(s, P_HEAD "{\"field\": \"x\", \"kind\": \"numeric\", \"edges\": [1, 2], "
             "\"counts\": [1, 1, 1], \"missing\": 0}]}", "must be \"n\"");
    load_bad(s, P_HEAD "{\"field\": \"c\", \"kind\": \"categorical\", \"categories\": "
             "[\"a\", \"a\"], \"counts\": [3, 1], \"missing\": 0}]}", "duplicate");
    load_bad(s, P_HEAD "{\"field\": \"q\", \"kind\": \"categorical\", \"categories\": "
             "[\"a\"], \"counts\": [4], \"missing\": 0}]}", "not declared");
    load_bad(s, P_HEAD "{\"field\": \"c\", \"kind\": \"numeric\", \"edges\": [], "
             "\"counts\": [4], \"missing\": 0}]}", "numeric feature's field");
    load_bad(s, P_HEAD P_X "," P_X "]}", "same \"field\"");
    load_bad(s, P_HEAD "{\"field\": \"x\", \"kind\": \"numeric\", \"categories\": [\"a\"], "
             "\"counts\": [4], \"missing\": 0}]}", "not \"categories\"");
    load_bad(s, P_HEAD "{\"field\": \"x\", \"kind\": \"other\"}]}", "\"kind\"");
    load_bad(s, P_HEAD "{\"field\": \"x\", \"kind\": \"numeric\", \"edges\": [], "
             "\"counts\": [4.5], \"missing\": 0}]}", "integers");
    /* 65 features: refused before anything is parsed. */
    o = (size_t)snprintf(big, sizeof big, "%s", P_HEAD);
    for (int i = 0; i < 65; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "%s%s", i ? "," : "", P_X);
    snprintf(big + o, sizeof big - o, "]}");
    load_bad(s, big, "1..64 features");
    /* 65 bins */
    o = (size_t)snprintf(big, sizeof big, P_HEAD "{\"field\": \"x\", \"kind\": \"numeric\", "
                         "\"missing\": 0, \"counts\": [4");
    for (int i = 0; i < 64; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, ",0");
    snprintf(big + o, sizeof big - o, "]}]}");
    load_bad(s, big, "1..64 counts");
    schema_free(s);
}

/* 64 categorical features of 64 long categories do not fit one entry. */
static void
test_load_too_large(void **state)
{
    static char big[1200000];
    char cat[300];
    size_t o;

    (void)state;
    o = (size_t)snprintf(big, sizeof big, "{\"format\": \"hitlq-profile\", \"format_version\": 1, "
                         "\"n\": 1, \"features\": [");
    for (int i = 0; i < 64; i++) {
        o += (size_t)snprintf(big + o, sizeof big - o, "%s{\"field\": \"f%d\", \"kind\": "
                              "\"categorical\", \"missing\": 0, \"categories\": [", i ? "," : "",
                              i);
        for (int b = 0; b < 64; b++) {
            memset(cat, 'a', 250);
            snprintf(cat + 250, sizeof cat - 250, "%03d", b);
            o += (size_t)snprintf(big + o, sizeof big - o, "%s\"%s\"", b ? "," : "", cat);
        }
        o += (size_t)snprintf(big + o, sizeof big - o, "], \"counts\": [1");
        for (int b = 1; b < 64; b++)
            o += (size_t)snprintf(big + o, sizeof big - o, ",0");
        o += (size_t)snprintf(big + o, sizeof big - o, "]}");
    }
    snprintf(big + o, sizeof big - o, "]}");
    load_bad(NULL, big, "too large for the audit log");
}

/* A policy file names a profile beside it; a missing one is an error. */
static void
test_policy_names_profile(void **state)
{
    char dir[] = "/tmp/hitlq-profile-XXXXXX", path[256], err[600];
    size_t plen = 0, mlen = 0;
    const unsigned char *prof = defaults_file("credit_profile.json", &plen);
    const unsigned char *model = defaults_file("credit_scorecard.json", &mlen);
    struct scoring *sc = NULL;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/prof.json", dir);
    assert_non_null(f = fopen(path, "w"));
    assert_int_equal(fwrite(prof, 1, plen, f), plen);
    fclose(f);
    snprintf(path, sizeof path, "%s/sc.json", dir);
    assert_non_null(f = fopen(path, "w"));
    assert_int_equal(fwrite(model, 1, mlen, f), mlen);
    fclose(f);
    snprintf(path, sizeof path, "%s/policy.json", dir);
    assert_non_null(f = fopen(path, "w"));
    fprintf(f, "{\"format\": \"hitlq-policy\", \"format_version\": 1, \"id\": \"p\", "
            "\"version\": \"1\", \"types\": {\"credit_application\": {\"model\": \"sc.json\", "
            "\"profile\": \"prof.json\", \"auto_threshold\": 0.8, \"auto_action\": \"approve\", "
            "\"queue\": \"q\", \"priority\": 1, \"sla_seconds\": 60}}}");
    fclose(f);
    if (scoring_load(&sc, path, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_non_null(scoring_policy(sc, "credit_application")->profile);
    assert_int_equal(profile_n(scoring_policy(sc, "credit_application")->profile), 1000);
    scoring_free(sc);
    snprintf(path, sizeof path, "%s/prof.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/policy.json", dir);
    assert_int_not_equal(scoring_load(&sc, path, err, sizeof err), 0);
    assert_non_null(strstr(err, "prof.json"));
    unlink(path);
    snprintf(path, sizeof path, "%s/sc.json", dir);
    unlink(path);
    rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundled_profile),
        cmocka_unit_test(test_bundled_counts_reproduced),
        cmocka_unit_test(test_bin_rules),
        cmocka_unit_test(test_bin_item),
        cmocka_unit_test(test_profile_ext),
        cmocka_unit_test(test_load_ok_sorted),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_too_large),
        cmocka_unit_test(test_policy_names_profile),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
