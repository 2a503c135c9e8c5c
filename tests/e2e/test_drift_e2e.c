/*
 * test_drift_e2e.c - `hitlq-audit drift` end to end: a real hitlqd with the
 * bundled credit policy (its QA rate raised to 0.25 so that the blind
 * sample has substance), the German-credit rows submitted in two windows
 * of decision time (the second with `duration_months` shifted up by 24, a
 * deliberate input shift), specialists resolving every queued item and
 * QA copy with the row's true outcome (Good -> approve, Bad -> reject),
 * some escalated first; then `hitlq-audit export`, and `drift`:
 *   - its kappa, PSI/JS, ECE/Brier and Wilson intervals equal an
 *     independent Python computation (tests/e2e/drift_report_oracle.py:
 *     scikit-learn's cohen_kappa_score, numpy) to 1e-9, from the
 *     (score, recommendation, verdict) rows this test knows it submitted and
 *     resolved, not from the tool's parsing;
 *   - the same export gives the same bytes twice, in every format;
 *   - input drift from the log's INPUT_WINDOW entries ranks the shifted
 *     field first, and nothing drifts in the reference window;
 *   - the HTML is self-contained (no http, no src=) and has its charts;
 *   - a tampered export gets no report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "credit_items.h"
#include "e2e_util.h"
#include "harness.h"
#include "hitlq_msgpack.h"
#include "tutil.h"

#define TYPE        "credit_application"
#define POLICY_SRC  "server/score/defaults/credit_policy.json"
#define MODEL_SRC   "server/score/defaults/credit_xgb.json"
#define PROFILE_SRC "server/score/defaults/credit_profile.json"
/* The retrained version for the second window: the same 61 columns,
 * trained separately (tests/vectors/xgb/README.md: 20 trees, depth 4). */
#define MODEL_V2    "tests/vectors/xgb/credit_small.json"
#define TOOL        "build/test/hitlq-audit"
#define ORACLE      "tests/e2e/drift_report_oracle.py"
#define WINDOW_MS   10000u          /* --window 10s */
#define LEAN        ((0.85 + 0.25) / 2)   /* the bundled policy's midpoint */

static struct hserver S;
static struct credit_item *CI;
static size_t NCI;
static char DIR_[64];               /* temp dir: policy, exports, outputs */

/* One submitted row. */
struct row {
    char           key[32];
    size_t         ci;
    int            phase;           /* 0: reference window, 1: shifted */
    bool           escalated;
    hitlq_decision d;
};

static struct row *R;
static size_t NR;

static int setup(void **st)
{
    (void)st;
    char cfg[256], path[128], *p, *q;
    if (credit_items_load(CREDIT_ITEMS_CSV, &CI, &NCI) != 0 || NCI < 1000)
        return -1;
    snprintf(DIR_, sizeof DIR_, "/tmp/hitlq-drift-XXXXXX");
    if (mkdtemp(DIR_) == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/credit_xgb.json", DIR_);
    p = tutil_slurp(MODEL_SRC, NULL);
    tutil_write_file(path, p);
    free(p);
    if (access(PROFILE_SRC, R_OK) == 0) {          /* the input-drift reference */
        snprintf(path, sizeof path, "%s/credit_profile.json", DIR_);
        p = tutil_slurp(PROFILE_SRC, NULL);
        tutil_write_file(path, p);
        free(p);
    }
    p = tutil_slurp(POLICY_SRC, NULL);
    q = strstr(p, "\"rate\": 0.02");
    if (q == NULL)
        return -1;
    memcpy(q, "\"rate\": 0.25", 12);
    snprintf(path, sizeof path, "%s/credit_policy.json", DIR_);
    tutil_write_file(path, p);
    free(p);
    snprintf(cfg, sizeof cfg, "policy = \"%s\"\naudit_checkpoint_ms = 200\n"
             "drift_window_s = %u\n", path, WINDOW_MS / 1000u);
    return harness_server_start(&S, cfg) < 0 ? -1 : 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[128];
    int rc = harness_server_stop(&S);
    harness_server_cleanup(&S);
    credit_items_free(CI, NCI);
    free(R);
    if (DIR_[0] != '\0' && getenv("HITLQ_KEEP_DIRS") == NULL) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", DIR_);
        rc |= system(cmd);
    }
    return rc;
}

static hitlq *cli(const char *name)
{
    return e2e_connect(S.port, name, 60000);
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Sleeps until 300 ms into the next window of decision time. */
static void next_window(void)
{
    uint64_t now = wall_ms(), at = now - now % WINDOW_MS + WINDOW_MS + 300;
    harness_sleep_ms((unsigned)(at - now));
}

/* Row i's fields with duration_months raised by 24 (at most 120). */
static void shifted_fields(size_t i, msgpack_sbuffer *out)
{
    msgpack_unpacked up;
    msgpack_packer pk;
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, (const char *)CI[i].fields, CI[i].fields_len,
                                         NULL), MSGPACK_UNPACK_SUCCESS);
    const msgpack_object_map *m = &up.data.via.map;
    msgpack_sbuffer_init(out);
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, m->size);
    for (uint32_t k = 0; k < m->size; k++) {
        msgpack_pack_object(&pk, m->ptr[k].key);
        if (hobj_str_eq(&m->ptr[k].key, "duration_months")) {
            uint64_t v = hobj_u64(&m->ptr[k].val) + 24;
            msgpack_pack_uint64(&pk, v > 120 ? 120 : v);
        } else {
            msgpack_pack_object(&pk, m->ptr[k].val);
        }
    }
    msgpack_unpacked_destroy(&up);
}

/* Submits rows [from, from + n) as phase `phase`. */
static void submit_phase(hitlq *c, size_t from, size_t n, int phase)
{
    hitlq_item *items = calloc(n, sizeof *items);
    hitlq_decision *d = calloc(n, sizeof *d);
    msgpack_sbuffer *sb = calloc(n, sizeof *sb);
    int *sts = calloc(n, sizeof *sts);
    assert_true(items != NULL && d != NULL && sb != NULL && sts != NULL);
    uint64_t t0 = wall_ms();
    for (size_t i = 0; i < n; i++) {
        struct row *r = &R[NR + i];
        r->ci = from + i;
        r->phase = phase;
        snprintf(r->key, sizeof r->key, "p%d-%s", phase, CI[r->ci].key);
        items[i] = (hitlq_item){ .key = r->key, .type = TYPE, .fields = CI[r->ci].fields,
                                 .fields_len = CI[r->ci].fields_len, .priority = -1 };
        if (phase == 1) {
            shifted_fields(r->ci, &sb[i]);
            items[i].fields = sb[i].data;
            items[i].fields_len = sb[i].size;
        }
    }
    assert_int_equal(hitlq_submit_batch(c, items, n, 64, d, sts), HITLQ_OK);
    uint64_t t1 = wall_ms();
    if (t0 / WINDOW_MS != t1 / WINDOW_MS)
        fail_msg("phase %d took %" PRIu64 " ms and crossed a window boundary", phase, t1 - t0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sts[i], HITLQ_OK);
        R[NR + i].d = d[i];
        if (phase == 1)
            msgpack_sbuffer_destroy(&sb[i]);
    }
    NR += n;
    free(items);
    free(d);
    free(sb);
    free(sts);
}

static struct row *row_by_id(uint64_t id)
{
    for (size_t i = 0; i < NR; i++)
        if (R[i].d.id == id)
            return &R[i];
    fail_msg("no submitted item %" PRIu64, id);
    return NULL;
}

static bool scored(const struct row *r)
{
    return strcmp(r->d.route, "data_quality") != 0;
}

/* The model's recommendation by the v2 rule, derived here independently. */
static const char *recommendation(const struct row *r)
{
    return !scored(r) ? "" : r->d.score >= LEAN ? "approve" : "reject";
}

/* Claims and decides every queued item and QA copy with the true outcome;
 * every 40th review item is escalated to credit_senior first.  Writes one
 * "V" line per verdict that compares a recommendation with an action. */
static void resolve_all(FILE *tsv)
{
    static const char *const Q[] = { "credit_review", "credit_senior", "credit_data_quality",
                                     "credit_qa" };
    static const char *const WHO[] = { "spec-ann", "spec-bob", "spec-cy" };
    hitlq *c = cli("drift-specialists");
    struct hitlq_claim cl;
    unsigned k = 0, escalated = 0;
    int rc;
    while ((rc = hitlq_claim(c, Q, 4, 60000, 0, WHO[k % 3], &cl)) == HITLQ_OK) {
        char key[64];
        uint64_t seq;
        hobj_str(hitlq_reply_get(cl.reply, "key"), key, sizeof key);
        bool qa = strncmp(key, "qa:", 3) == 0;
        struct row *r = row_by_id(qa ? e2e_qa_of(c, cl.id) : cl.id);
        const char *rec = recommendation(r), *out = CI[r->ci].good ? "approve" : "reject";
        if (!qa && !r->escalated && strcmp(r->d.route, "review") == 0 && k % 40 == 7) {
            assert_int_equal(hitlq_escalate(c, cl.id, cl.lease, "credit_senior", NULL), HITLQ_OK);
            r->escalated = true;
            escalated++;
        } else {
            const char *tag = rec[0] == '\0' || strcmp(rec, out) == 0 ? NULL :
                              strcmp(out, "reject") == 0 ? "missed_risk" : "too_strict";
            assert_int_equal(hitlq_resolve(c, cl.id, cl.lease, out, NULL, tag, &seq), HITLQ_OK);
            if (rec[0] != '\0')
                fprintf(tsv, "V\t%d\t%.17g\t%s\t%s\t%d\t%s\n", r->phase, r->d.score, rec, out,
                        qa, r->d.route);
        }
        hitlq_claim_clear(&cl);
        k++;
    }
    assert_int_equal(rc, HITLQ_ST_EMPTY);
    assert_true(escalated > 0);
    hitlq_free(c);
}

/* Files a and b have the same bytes. */
static void same_bytes(const char *a, const char *b)
{
    size_t la, lb;
    char *x = tutil_slurp(a, &la), *y = tutil_slurp(b, &lb);
    if (la != lb || memcmp(x, y, la) != 0)
        fail_msg("%s and %s differ: the report is not deterministic", a, b);
    free(x);
    free(y);
}

/* A python3 with numpy and scikit-learn, or NULL. */
static const char *oracle_python(void)
{
    static const char *const cand[] = { "/usr/bin/python3", "python3" };
    char out[256];
    for (size_t i = 0; i < 2; i++)
        if (tutil_sh(out, sizeof out, "%s -c 'import numpy, sklearn'", cand[i]) == 0)
            return cand[i];
    return NULL;
}

static void run_reports(const char *exp, const char *opts)
{
    char out[4096];
    for (int i = 0; i < 2; i++) {
        if (tutil_sh(out, sizeof out, "%s drift --vkey-file %s/vk %s %s --json > %s/r%d.json", TOOL,
               DIR_, exp, opts, DIR_, i) != 0)
            fail_msg("drift --json failed: %s", out);
        assert_int_equal(tutil_sh(out, sizeof out, "%s drift --vkey-file %s/vk %s %s > %s/r%d.txt",
                            TOOL, DIR_, exp, opts, DIR_, i), 0);
        assert_int_equal(tutil_sh(out, sizeof out, "%s drift --vkey-file %s/vk %s %s --html "
                            "%s/r%d.html", TOOL, DIR_, exp, opts, DIR_, i), 0);
    }
    static const char *const ext[] = { "json", "txt", "html" };
    for (int e = 0; e < 3; e++) {
        char a[128], b[128];
        snprintf(a, sizeof a, "%s/r0.%s", DIR_, ext[e]);
        snprintf(b, sizeof b, "%s/r1.%s", DIR_, ext[e]);
        same_bytes(a, b);
    }
}

static void check_html(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/r0.html", DIR_);
    char *h = tutil_slurp(path, NULL);
    assert_null(strstr(h, "http"));
    assert_null(strstr(h, "src="));
    assert_null(strstr(h, "<script"));
    assert_null(strstr(h, "<link"));
    assert_non_null(strstr(h, "<svg"));
    assert_non_null(strstr(h, "Reliability diagram"));
    assert_non_null(strstr(h, "Score histogram"));
    assert_non_null(strstr(h, "Agreement by score band"));
    assert_non_null(strstr(h, "PSI per feature"));
    assert_non_null(strstr(h, "Trends by window"));
    free(h);
}

/* What the report says about the log itself. */
static void check_json_shape(void)
{
    char path[128];
    json_error_t je;
    snprintf(path, sizeof path, "%s/r0.json", DIR_);
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    json_t *wl = json_object_get(json_object_get(j, "windows"), "list");
    assert_int_equal(json_array_size(wl), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(wl, 0), "decisions")),
                     500);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(wl, 1), "decisions")),
                     500);
    json_t *cp = json_object_get(j, "checkpoint");
    assert_true(json_integer_value(json_object_get(cp, "size")) > 1000);
    assert_non_null(json_string_value(json_object_get(cp, "root_hash")));
    /* the retrained version is a second model, by file digest */
    json_t *ms = json_object_get(j, "models");
    assert_int_equal(json_array_size(ms), 2);
    const char *names[2], *dg[2];
    for (size_t i = 0; i < 2; i++) {
        json_t *m = json_array_get(ms, i);
        dg[i] = json_string_value(json_object_get(m, "digest"));
        names[i] = json_string_value(json_object_get(m, "model"));
        assert_int_equal(strlen(dg[i]), 64);
    }
    assert_string_not_equal(dg[0], dg[1]);
    assert_true((strcmp(names[0], "credit_xgb@1") == 0 && strcmp(names[1], "credit_xgb@2") == 0) ||
                (strcmp(names[0], "credit_xgb@2") == 0 && strcmp(names[1], "credit_xgb@1") == 0));
    /* the shifted window's score distribution moved */
    json_t *w1 = json_array_get(json_object_get(json_object_get(j, "score_drift"), "by_window"),
                                1);
    assert_true(json_real_value(json_object_get(json_object_get(w1, "vs_reference"), "psi")) >
                0.0);
    /* the routing mix: each share against the reference window's, a
     * two-proportion z computed here in closed form */
    json_t *w0r = json_object_get(json_array_get(json_object_get(json_object_get(j,
                                  "score_drift"), "by_window"), 0), "routes");
    json_t *w1r = json_object_get(w1, "routes");
    const char *rk;
    json_t *rv;
    json_object_foreach(w1r, rk, rv) {
        double k1 = (double)json_integer_value(json_object_get(rv, "n"));
        double k0 = (double)json_integer_value(json_object_get(json_object_get(w0r, rk), "n"));
        double p1 = k1 / 500.0, p0 = k0 / 500.0, pb = (k0 + k1) / 1000.0;
        double z = (p1 - p0) / sqrt(pb * (1.0 - pb) * (2.0 / 500.0));
        assert_true(fabs(json_real_value(json_object_get(rv, "z_vs_reference")) - z) < 1e-9);
    }
    assert_true(json_real_value(json_object_get(json_object_get(w1r, "auto_reject"),
                                                "p_vs_reference")) < 0.05);
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "what_if"),
                                                     "thresholds")), 3);
    /* input drift from the log's INPUT_WINDOW entries: the shifted field first */
    json_t *in = json_object_get(j, "input_drift");
    assert_true(json_is_true(json_object_get(in, "available")));
    json_t *top = json_array_get(json_object_get(in, "features"), 0);
    assert_string_equal(json_string_value(json_object_get(top, "feature")), "duration_months");
    assert_true(json_real_value(json_object_get(top, "psi")) > 0.25);
    assert_true(json_is_true(json_object_get(top, "drifted")));
    json_t *w0 = json_object_get(json_array_get(json_object_get(in, "by_window"), 0),
                                 "features");
    for (size_t i = 0; i < json_array_size(w0); i++)   /* the reference window: no drift */
        assert_true(json_real_value(json_object_get(json_array_get(w0, i), "psi")) < 0.1);
    json_decref(j);
}

/* Exports (a fresh checkpoint) until both windows' INPUT_WINDOW entries
 * (closed by the server's idle tick once their 10 s are over) are in. */
static void export_with_input_windows(void)
{
    char out[4096], path[128];
    json_error_t je;
    uint64_t deadline = wall_ms() + 30000;
    json_int_t n = 0;
    do {
        if (tutil_sh(out, sizeof out, "rm -rf %s/exp && %s export --server 127.0.0.1:%u --out %s/exp",
               DIR_, TOOL, S.port, DIR_) != 0)
            fail_msg("export: %s", out);
        assert_int_equal(tutil_sh(out, sizeof out, "%s drift --vkey-file %s/vk %s/exp --window 10s "
                            "--json > %s/probe.json", TOOL, DIR_, DIR_, DIR_), 0);
        snprintf(path, sizeof path, "%s/probe.json", DIR_);
        json_t *j = json_load_file(path, 0, &je);
        assert_non_null(j);
        n = json_integer_value(json_object_get(json_object_get(j, "input_drift"),
                                               "input_windows"));
        json_decref(j);
        if (n < 2)
            harness_sleep_ms(1000);
    } while (n < 2 && wall_ms() < deadline);
    assert_true(n >= 2);
}

/* Between the windows the model is retrained: the policy now names
 * credit_xgb_v2.json as credit_xgb@2, installed by RELOAD.  The report must
 * then show two models, told apart by their file digests. */
static void retrain_reload(hitlq *c)
{
    static const char OLD_M[] = "\"model\": \"credit_xgb.json\"";
    static const char OLD_V[] = "\"model_version\": \"1\"";
    char path[128], pol[128];
    char *p = tutil_slurp(MODEL_V2, NULL), *m, *v;

    assert_non_null(p);
    snprintf(path, sizeof path, "%s/credit_xgb_v2.json", DIR_);
    tutil_write_file(path, p);
    free(p);
    snprintf(path, sizeof path, "%s/credit_policy.json", DIR_);
    p = tutil_slurp(path, NULL);
    assert_non_null(p);
    assert_non_null(m = strstr(p, OLD_M));
    assert_non_null(v = strstr(m, OLD_V));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%.*s\"model\": \"credit_xgb_v2.json\"%.*s\"model_version\": \"2\"%s",
            (int)(m - p), p, (int)(v - m - (sizeof OLD_M - 1)), m + sizeof OLD_M - 1,
            v + sizeof OLD_V - 1);
    assert_int_equal(fclose(f), 0);
    free(p);
    assert_int_equal(hitlq_reload(c, pol, sizeof pol), HITLQ_OK);
}

static void test_drift_credit(void **st)
{
    (void)st;
    char out[8192], path[128];
    R = calloc(1000, sizeof *R);
    assert_non_null(R);
    hitlq *c = cli("drift-bot");
    next_window();
    submit_phase(c, 0, 500, 0);
    retrain_reload(c);
    next_window();
    submit_phase(c, 500, 500, 1);
    hitlq_free(c);
    snprintf(path, sizeof path, "%s/rows.tsv", DIR_);
    FILE *tsv = fopen(path, "w");
    assert_non_null(tsv);
    for (size_t i = 0; i < NR; i++)
        if (scored(&R[i]))
            fprintf(tsv, "S\t%d\t%.17g\n", R[i].phase, R[i].d.score);
    resolve_all(tsv);
    assert_int_equal(fclose(tsv), 0);
    assert_int_equal(tutil_sh(out, sizeof out, "%s -d %s -K > %s/vk", HARNESS_HITLQD, S.data, DIR_),
                     0);
    export_with_input_windows();
    snprintf(path, sizeof path, "%s/exp", DIR_);
    run_reports(path, "--window 10s --what-if 0.7 --what-if 0.9");
    check_json_shape();
    check_html();
    const char *py = oracle_python();
    if (py == NULL) {
        fprintf(stderr, "test_drift_e2e: no python3 with numpy and scikit-learn "
                        "(apt-get install python3-sklearn): oracle check skipped\n");
        skip();
    }
    if (tutil_sh(out, sizeof out, "%s %s %s/rows.tsv %s/r0.json", py, ORACLE, DIR_, DIR_) != 0)
        fail_msg("the oracle disagrees:\n%s", out);
    printf("%s", out);
}

/* An export whose entry bundle was altered gets no report. */
static void test_drift_refuses_tampered(void **st)
{
    (void)st;
    char out[4096];
    /* flip (complement) one byte inside the first full entry tile */
    assert_int_equal(tutil_sh(out, sizeof out, "cp -a %s/exp %s/bad && f=$(find %s/bad/tile/entries "
                        "-type f -size +1k | sort | head -1) && [ -n \"$f\" ] && python3 -c "
                        "'import sys; f = open(sys.argv[1], \"r+b\"); f.seek(300); "
                        "b = f.read(1)[0]; f.seek(300); f.write(bytes([b ^ 0xff]))' \"$f\"",
                        DIR_, DIR_, DIR_), 0);
    int rc = tutil_sh(out, sizeof out, "%s drift --vkey-file %s/vk %s/bad --json", TOOL, DIR_, DIR_);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "no report"));
    assert_null(strstr(out, "\"agreement\""));
    /* and without a trusted key there is no report either */
    rc = tutil_sh(out, sizeof out, "%s drift %s/exp --json", TOOL, DIR_);
    assert_int_equal(rc, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drift_credit),
        cmocka_unit_test(test_drift_refuses_tampered),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
