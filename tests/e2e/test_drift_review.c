/*
 * test_drift_review.c - the live AI-vs-human review (DRIFT_REVIEW) through
 * a real hitlqd with the bundled credit policy: the first German Credit
 * rows (tests/lib/credit_items.c) are submitted, every queued item and
 * blind QA copy is resolved with the row's true outcome (Good -> approve,
 * Bad -> reject) and some are escalated first.  The test tallies
 * (recommendation, verdict) itself - the recommendation recomputed from
 * the SUBMIT reply's score and the policy's thresholds (lean = midpoint of
 * 0.85 and 0.25, the bundled policy sets no lean_threshold) - and checks
 * the server's totals: confusion counts, not-comparable verdicts, the QA
 * sample's counts, the score histogram, and Cohen's kappa against a
 * closed-form computation made here; the windows add up to the total.
 * Computed two ways must agree: `hitlq-audit drift --json` on an export of
 * the same server gives the same overall confusion counts, not-comparable
 * count and kappa as DRIFT_REVIEW.  Also: an unknown type, and the CLI's
 * table and --json.
 */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <msgpack.h>

#include "credit_items.h"
#include "e2e_util.h"
#include "harness.h"
#include "hitlq_msgpack.h"

#define N_ROWS   300u
#define LEAN     ((0.85 + 0.25) / 2.0)
#define L_NONE   2                       /* tally index of "no recommendation" */
#define TOOL     "build/test/hitlq-audit"

static struct hserver S;
static struct credit_item *CI;
static size_t NCI;

/* What the test knows of each submitted row. */
struct row {
    uint64_t id;
    double   score;                      /* NaN: unscored */
    bool     queued;
    char     action[32];                 /* auto: approve / reject */
};

struct tally {
    uint64_t conf[2][2];                 /* [rec][verdict]: 0 approve, 1 reject */
    uint64_t not_comparable;
    uint64_t qa_n, qa_wrong;
    uint64_t hist[10], scored;
};

static struct row R[N_ROWS];
static struct tally T;
static char DIR_[64];                    /* temp dir: key, export, report */

static int
srv_setup(void **st)
{
    (void)st;
    if (credit_items_load(CREDIT_ITEMS_CSV, &CI, &NCI) != 0 || NCI < N_ROWS)
        return -1;
    snprintf(DIR_, sizeof DIR_, "/tmp/hitlq-review-XXXXXX");
    if (mkdtemp(DIR_) == NULL)
        return -1;
    return harness_server_start(&S, HARNESS_EMBEDDED_POLICY "drift_window_s = 3600\n"
                                "audit_checkpoint_ms = 200\n") < 0 ? -1 : 0;
}

static int
srv_teardown(void **st)
{
    (void)st;
    int rc = harness_server_stop(&S);

    char cmd[128];

    harness_server_cleanup(&S);
    credit_items_free(CI, NCI);
    if (DIR_[0] != '\0' && getenv("HITLQ_KEEP_DIRS") == NULL) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", DIR_);
        rc |= system(cmd);
    }
    return rc;
}

static hitlq *
cli(void)
{
    return e2e_connect(S.port, "review-test", 60000);
}

/* 0 approve, 1 reject, L_NONE unscored: the model's recommendation. */
static int
rec_of(const struct row *r)
{
    if (isnan(r->score))
        return L_NONE;
    return r->score >= LEAN ? 0 : 1;
}

static void
submit_all(hitlq *c)
{
    hitlq_item *it = calloc(N_ROWS, sizeof *it);
    hitlq_decision *d = calloc(N_ROWS, sizeof *d);
    int *st = calloc(N_ROWS, sizeof *st);

    for (size_t i = 0; i < N_ROWS; i++)
        it[i] = (hitlq_item){ .key = CI[i].key, .type = "credit_application",
                              .fields = CI[i].fields, .fields_len = CI[i].fields_len,
                              .priority = -1 };
    assert_int_equal(hitlq_submit_batch(c, it, N_ROWS, 32, d, st), HITLQ_OK);
    for (size_t i = 0; i < N_ROWS; i++) {
        assert_int_equal(st[i], HITLQ_OK);
        R[i] = (struct row){ .id = d[i].id, .score = d[i].score, .queued = d[i].queued };
        snprintf(R[i].action, sizeof R[i].action, "%s", d[i].action);
        if (!isnan(d[i].score)) {
            unsigned b = d[i].score >= 1.0 ? 9u : (unsigned)(d[i].score * 10.0);

            T.hist[b]++;
            T.scored++;
        }
    }
    free(it), free(d), free(st);
}

/* The row of a claimed item: by id, or for a QA copy (key "qa:...") by
 * the original's id (GET qa_of); *qa tells which. */
static size_t
row_of(hitlq *c, const struct hitlq_claim *cl, bool *qa)
{
    const msgpack_object *k = hitlq_reply_get(cl->reply, "key");
    char key[64] = "";
    uint64_t want = cl->id;

    assert_non_null(k);
    snprintf(key, sizeof key, "%.*s", (int)k->via.str.size, k->via.str.ptr);
    *qa = strncmp(key, "qa:", 3) == 0;
    if (*qa)
        want = e2e_qa_of(c, cl->id);
    for (size_t i = 0; i < N_ROWS; i++)
        if (R[i].id == want)
            return i;
    fail_msg("claimed item %" PRIu64 " (%s) is not one of ours", cl->id, key);
    return 0;
}

/* Claims and decides everything: every 9th first-time claim of a
 * reviewed item is escalated to credit_senior (and decided there later). */
static void
resolve_all(hitlq *c)
{
    static const char *const qs[] = { "credit_review", "credit_senior",
                                      "credit_data_quality", "credit_qa" };
    static bool escalated[N_ROWS];
    struct hitlq_claim cl;
    unsigned k = 0;
    int rc;

    while ((rc = hitlq_claim(c, qs, 4, 60000, 0, "reviewer-1", &cl)) == HITLQ_OK) {
        bool qa;
        size_t i = row_of(c, &cl, &qa);
        int rec = rec_of(&R[i]), verdict = CI[i].good ? 0 : 1;

        if (!qa && !escalated[i] && ++k % 9 == 0) {
            escalated[i] = true;
            assert_int_equal(hitlq_escalate(c, cl.id, cl.lease, "credit_senior", NULL),
                             HITLQ_OK);
            T.not_comparable++;
        } else {
            assert_int_equal(hitlq_resolve(c, cl.id, cl.lease, verdict ? "reject" : "approve",
                                           NULL, NULL, NULL), HITLQ_OK);
            if (rec == L_NONE)
                T.not_comparable++;
            else
                T.conf[rec][verdict]++;
            if (qa) {
                T.qa_n++;
                T.qa_wrong += strcmp(R[i].action, verdict ? "reject" : "approve") != 0;
            }
        }
        hitlq_claim_clear(&cl);
    }
    assert_int_equal(rc, HITLQ_ST_EMPTY);
}

/* ---- reading the reply -------------------------------------------------------- */

static const msgpack_object *
get(const msgpack_object *m, const char *key)
{
    assert_int_equal(m->type, MSGPACK_OBJECT_MAP);
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key;

        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
            memcmp(k->via.str.ptr, key, k->via.str.size) == 0)
            return &m->via.map.ptr[i].val;
    }
    fail_msg("no key %s", key);
    return NULL;
}

static uint64_t
u64(const msgpack_object *m, const char *key)
{
    const msgpack_object *o = get(m, key);

    assert_int_equal(o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    return o->via.u64;
}

static double
f64(const msgpack_object *m, const char *key)
{
    const msgpack_object *o = get(m, key);

    if (o->type == MSGPACK_OBJECT_NIL)
        return NAN;
    assert_true(o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32);
    return o->via.f64;
}

static uint64_t
cell(const msgpack_object *w, unsigned a, unsigned b)
{
    const msgpack_object *m = get(w, "matrix");

    assert_int_equal(m->type, MSGPACK_OBJECT_ARRAY);
    assert_true(m->via.array.size >= 2);
    return m->via.array.ptr[a].via.array.ptr[b].via.u64;
}

/* Cohen's kappa of the 2 x 2 tally, closed form. */
static double
kappa_closed(const struct tally *t)
{
    double n = 0, po, pe = 0;

    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            n += (double)t->conf[a][b];
    po = ((double)t->conf[0][0] + (double)t->conf[1][1]) / n;
    for (int i = 0; i < 2; i++)
        pe += ((double)(t->conf[i][0] + t->conf[i][1]) / n) *
              ((double)(t->conf[0][i] + t->conf[1][i]) / n);
    return (po - pe) / (1.0 - pe);
}

/* The total of the reply equals the tally. */
static void
check_total(const msgpack_object *t)
{
    const msgpack_object *qa = get(t, "qa"), *h = get(get(t, "scores"), "hist");
    uint64_t n = T.conf[0][0] + T.conf[0][1] + T.conf[1][0] + T.conf[1][1];
    double kp = kappa_closed(&T);

    assert_int_equal(u64(t, "decisions"), N_ROWS);
    assert_int_equal(u64(t, "scored"), T.scored);
    for (unsigned a = 0; a < 2; a++)
        for (unsigned b = 0; b < 2; b++)
            assert_int_equal(cell(t, a, b), T.conf[a][b]);
    assert_int_equal(u64(t, "n"), n);
    assert_int_equal(u64(t, "not_comparable"), T.not_comparable);
    assert_true(fabs(f64(t, "kappa") - kp) < 1e-12);
    assert_true(f64(t, "kappa_lo") <= kp && kp <= f64(t, "kappa_hi"));
    assert_true(fabs(f64(t, "agreement") + f64(t, "override_rate") - 1.0) < 1e-12);
    assert_true(fabs(f64(t, "agreement") -
                     (double)(T.conf[0][0] + T.conf[1][1]) / (double)n) < 1e-12);
    assert_int_equal(u64(qa, "n"), T.qa_n);
    assert_int_equal(u64(qa, "wrong"), T.qa_wrong);
    for (unsigned b = 0; b < 10; b++)
        assert_int_equal(h->via.array.ptr[b].via.u64, T.hist[b]);
}

/* The windows' confusion counts add up to the total's. */
static void
check_windows(const msgpack_object *body, const msgpack_object *t)
{
    const msgpack_object *ws = get(body, "windows");
    uint64_t sum[2][2] = { { 0 } }, dec = 0;

    assert_int_equal(ws->type, MSGPACK_OBJECT_ARRAY);
    assert_true(ws->via.array.size >= 1 && ws->via.array.size <= 2);
    for (uint32_t w = 0; w < ws->via.array.size; w++) {
        dec += u64(&ws->via.array.ptr[w], "decisions");
        for (unsigned a = 0; a < 2; a++)
            for (unsigned b = 0; b < 2; b++)
                sum[a][b] += cell(&ws->via.array.ptr[w], a, b);
    }
    assert_int_equal(dec, u64(t, "decisions"));
    for (unsigned a = 0; a < 2; a++)
        for (unsigned b = 0; b < 2; b++)
            assert_int_equal(sum[a][b], cell(t, a, b));
}

static void
test_review_matches_tally(void **st)
{
    (void)st;
    hitlq *c = cli();
    hitlq_reply *r = NULL;
    const msgpack_object *body, *t;

    submit_all(c);
    resolve_all(c);
    print_message("tally: agree %" PRIu64 ", override %" PRIu64 ", not comparable %" PRIu64
                  ", QA %" PRIu64 " (%" PRIu64 " wrong)\n", T.conf[0][0] + T.conf[1][1],
                  T.conf[0][1] + T.conf[1][0], T.not_comparable, T.qa_n, T.qa_wrong);
    assert_true(T.conf[0][0] + T.conf[1][1] > 0 && T.conf[0][1] + T.conf[1][0] > 0);
    assert_int_equal(hitlq_drift_review(c, "credit_application", 0, 0, &r), HITLQ_OK);
    body = hitlq_reply_body(r);
    t = get(body, "total");
    check_total(t);
    check_windows(body, t);
    assert_true(fabs(f64(body, "qa_rate") - 0.02) < 1e-12);
    hitlq_reply_free(r);
    assert_int_equal(hitlq_drift_review(c, "no_such_type", 0, 0, &r), HITLQ_ST_UNKNOWN_TYPE);
    hitlq_reply_free(r);
    hitlq_free(c);
}

/* The CLI prints the table and, with --json, the reply. */
static void
test_cli(void **st)
{
    (void)st;
    char cmd[512], out[8192];
    FILE *p;
    size_t n;

    snprintf(cmd, sizeof cmd, "%s -p %u drift-review credit_application 2>&1",
             HARNESS_CLI, (unsigned)S.port);
    assert_non_null(p = popen(cmd, "r"));
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_non_null(strstr(out, "KAPPA"));
    assert_non_null(strstr(out, "total"));
    assert_non_null(strstr(out, "credit_review"));
    snprintf(cmd, sizeof cmd, "%s -p %u --json drift-review credit_application 2>&1",
             HARNESS_CLI, (unsigned)S.port);
    assert_non_null(p = popen(cmd, "r"));
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_non_null(strstr(out, "\"kappa\""));
}

/* Runs a shell command with output to DIR_/cmd.out; its exit status. */
static int
sh(const char *cmd)
{
    char full[1024];
    int st;

    snprintf(full, sizeof full, "(%s) > %s/cmd.out 2>&1", cmd, DIR_);
    st = system(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The offline review of an export of the same server agrees with the
 * live one: overall confusion counts, not comparable, kappa. */
static void
test_offline_agrees(void **st)
{
    (void)st;
    char cmd[768], path[128];
    hitlq *c = cli();
    hitlq_reply *r = NULL;
    const msgpack_object *t;
    json_error_t je;
    json_t *j, *o, *m;

    assert_int_equal(hitlq_drift_review(c, "credit_application", 0, 0, &r), HITLQ_OK);
    t = get(hitlq_reply_body(r), "total");
    snprintf(cmd, sizeof cmd, "%s -d %s -K > %s/vk", HARNESS_HITLQD, S.data, DIR_);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s export --server 127.0.0.1:%u --out %s/exp && %s drift "
             "--vkey-file %s/vk %s/exp --json > %s/r.json", TOOL, (unsigned)S.port, DIR_, TOOL,
             DIR_, DIR_, DIR_);
    if (sh(cmd) != 0)
        fail_msg("export / drift failed (see %s/cmd.out)", DIR_);
    snprintf(path, sizeof path, "%s/r.json", DIR_);
    assert_non_null(j = json_load_file(path, 0, &je));
    o = json_object_get(json_object_get(j, "agreement"), "overall");
    assert_non_null(o);
    m = json_object_get(o, "matrix");          /* labels sorted: approve, reject */
    for (size_t a = 0; a < 2; a++)
        for (size_t b = 0; b < 2; b++)
            assert_int_equal(json_integer_value(json_array_get(json_array_get(m, a), b)),
                             cell(t, (unsigned)a, (unsigned)b));
    assert_int_equal(json_integer_value(json_object_get(o, "n")), u64(t, "n"));
    assert_int_equal(json_integer_value(json_object_get(o, "not_comparable")),
                     u64(t, "not_comparable"));
    assert_true(fabs(json_real_value(json_object_get(o, "kappa")) - f64(t, "kappa")) < 1e-12);
    json_decref(j);
    hitlq_reply_free(r);
    hitlq_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_review_matches_tally),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_offline_agrees),
    };

    return cmocka_run_group_tests(tests, srv_setup, srv_teardown);
}
