/*
 * test_rollup.c - the minute rollups on their own (server/store/rollup.h)
 * on a real LMDB store (tests/lib/queue_fixture.h) with a clock driven by
 * hand: submits land in the minute that holds their time; minutes older
 * than ROLLUP_KEEP_MS (25 h) are pruned, at most ROLLUP_PRUNE_MAX keys per
 * call, while 24 h old ones stay; the wait histogram is fed by a CLAIM's
 * journal event; bucket edges and quantiles agree with a direct
 * computation over the sorted durations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "queue_fixture.h"
#include "rollup.h"

#define TYPE "credit"
#define MIN  ROLLUP_MINUTE_MS
#define HOUR (3600ull * 1000u)

/* What a scan saw: the 'Q' rows of TYPE by minute (at most 512). */
struct seen {
    size_t   n;
    uint64_t minute[512];
    struct rollup_row row[512];
};

static int
seen_add(void *arg, uint64_t m, char kind, const char *a, const char *b, const void *val,
         size_t len)
{
    struct seen *s = arg;

    assert_int_equal(m % MIN, 0);
    if (kind != 'Q' || strcmp(a, TYPE) != 0)
        return HITLQ_ST_OK;
    assert_int_equal(len, sizeof(struct rollup_row));
    assert_true(s->n < 512);
    s->minute[s->n] = m;
    memcpy(&s->row[s->n++], val, sizeof(struct rollup_row));
    (void)b;
    return HITLQ_ST_OK;
}

static void
scan(struct qfx_env *e, uint64_t from, uint64_t to, struct seen *s)
{
    MDB_txn *t = qfx_rtxn(e);

    memset(s, 0, sizeof *s);
    assert_int_equal(rollup_scan(e->s, t, from, to, seen_add, s), HITLQ_ST_OK);
    mdb_txn_abort(t);
}

/* An auto-resolved "approve" decision counted at now, in its own txn. */
static void
submit_auto(struct qfx_env *e, uint64_t now)
{
    struct decision d;
    MDB_txn *t = qfx_wtxn(e);

    memset(&d, 0, sizeof d);
    d.outcome = DECISION_AUTO;
    d.route = HITLQ_ROUTE_AUTO_APPROVE;
    strcpy(d.action, "approve");
    assert_int_equal(rollup_submit(e->s, t, TYPE, &d, now), HITLQ_ST_OK);
    qfx_commit(t);
}

static void
test_minute_bucketing(void **state)
{
    struct qfx_env *e = *state;
    uint64_t m0 = QFX_T0 - QFX_T0 % MIN;
    struct seen s;

    submit_auto(e, QFX_T0);
    submit_auto(e, m0 + MIN - 1);               /* last ms of the same minute */
    submit_auto(e, m0 + MIN);                   /* first ms of the next */
    submit_auto(e, m0 + 3 * MIN + 5);
    scan(e, 0, UINT64_MAX, &s);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.minute[0], m0);
    assert_int_equal(s.row[0].submits, 2);
    assert_int_equal(s.row[0].auto_resolved, 2);
    assert_int_equal(s.row[0].route[HITLQ_ROUTE_AUTO_APPROVE], 2);
    assert_int_equal(s.minute[1], m0 + MIN);
    assert_int_equal(s.row[1].submits, 1);
    assert_int_equal(s.minute[2], m0 + 3 * MIN);
    /* from inside a minute includes it; to is exclusive */
    scan(e, m0 + MIN + 30000, m0 + 3 * MIN, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.minute[0], m0 + MIN);
    qfx_reopen(e);                              /* durable: the same after a restart */
    scan(e, 0, UINT64_MAX, &s);
    assert_int_equal(s.n, 3);
}

static void
test_prune_after_25h(void **state)
{
    struct qfx_env *e = *state;
    uint64_t m0 = QFX_T0 - QFX_T0 % MIN;
    struct seen s;

    submit_auto(e, m0);
    submit_auto(e, m0 + 24 * HOUR);             /* 24 h later: m0 is kept */
    scan(e, 0, UINT64_MAX, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.minute[0], m0);
    submit_auto(e, m0 + ROLLUP_KEEP_MS + MIN);  /* 25 h + 1 min: m0 goes */
    scan(e, 0, UINT64_MAX, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.minute[0], m0 + 24 * HOUR);
    assert_int_equal(s.minute[1], m0 + ROLLUP_KEEP_MS + MIN);
}

/* 300 old minutes: one call prunes ROLLUP_PRUNE_MAX of them, the next
 * call (same minute: the limit was reached) the rest. */
static void
test_prune_bounded(void **state)
{
    struct qfx_env *e = *state;
    uint64_t m0 = QFX_T0 - QFX_T0 % MIN, later = m0 + 300 * MIN + ROLLUP_KEEP_MS + MIN;
    struct seen *s = malloc(sizeof *s);

    assert_non_null(s);
    for (uint64_t i = 0; i < 300; i++)
        submit_auto(e, m0 + i * MIN);
    scan(e, 0, UINT64_MAX, s);
    assert_int_equal(s->n, 300);
    submit_auto(e, later);
    scan(e, 0, UINT64_MAX, s);
    assert_int_equal(s->n, 300 - ROLLUP_PRUNE_MAX + 1);
    assert_int_equal(s->minute[0], m0 + ROLLUP_PRUNE_MAX * MIN);
    submit_auto(e, later + 1);
    scan(e, 0, UINT64_MAX, s);
    assert_int_equal(s->n, 1);
    assert_int_equal(s->minute[0], later);
    assert_int_equal(s->row[0].submits, 2);
    free(s);
}

/* A queued item claimed 5 s after it was submitted: one claim and a wait
 * of 5000 ms in bucket "<= 5 s" of its queue's row, in the claim's minute. */
static void
test_wait_from_claim(void **state)
{
    struct qfx_env *e = *state;
    struct seen s;
    uint64_t id = qfx_submit1(e, "w1", "review", 5, 60000, QFX_T0);  /* type "credit" */
    uint64_t at = QFX_T0 + 5000;

    assert_int_equal(qfx_claim_id(e, "review", NULL, at, NULL), id);
    scan(e, 0, UINT64_MAX, &s);
    assert_int_equal(s.n, 1);                   /* the claim's (minute, credit, review) row */
    assert_int_equal(s.minute[0], at - at % MIN);
    assert_int_equal(s.row[0].claims, 1);
    assert_int_equal(s.row[0].wait_n, 1);
    assert_int_equal(s.row[0].wait_ms, 5000);
    assert_int_equal(s.row[0].wait_h[rollup_bucket(5000)], 1);
    assert_int_equal(rollup_bucket(5000), 2);   /* the "<= 5 s" bucket */
    assert_true(rollup_quantile(s.row[0].wait_h, s.row[0].wait_n, 0.5) == 5);
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static void
test_buckets_and_quantiles(void **state)
{
    enum { N = 1000 };
    static uint64_t ms[N];
    uint32_t h[ROLLUP_BUCKETS] = { 0 };
    uint32_t lcg = 12345;
    const double qs[] = { 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999 };

    (void)state;
    assert_int_equal(rollup_bucket(0), 0);
    assert_int_equal(rollup_bucket(1000), 0);                   /* upper bounds are <= */
    assert_int_equal(rollup_bucket(1001), 1);
    assert_int_equal(rollup_bucket(3600000), ROLLUP_BUCKETS - 2);
    assert_int_equal(rollup_bucket(3600001), ROLLUP_BUCKETS - 1);   /* +Inf */
    assert_true(rollup_quantile(h, 0, 0.5) == 0);
    for (int i = 0; i < N; i++) {
        lcg = lcg * 1103515245u + 12345u;
        ms[i] = (uint64_t)(lcg >> 8) % 4000000u;                 /* 0 .. 66 min */
        h[rollup_bucket(ms[i])]++;
    }
    qsort(ms, N, sizeof ms[0], cmp_u64);
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        size_t rank = (size_t)(qs[i] * N + 0.999999);            /* nearest rank, 1-based */
        uint64_t x = ms[rank - 1];
        double want = 0;

        /* the smallest listed bound >= x; the last finite one past it */
        for (size_t b = 0; b < ROLLUP_BUCKETS - 1; b++) {
            want = rollup_bucket_s[b];
            if (x <= (uint64_t)rollup_bucket_s[b] * 1000u)
                break;
        }
        assert_true(rollup_quantile(h, N, qs[i]) == want);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_minute_bucketing, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_prune_after_25h, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_prune_bounded, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_wait_from_claim, qfx_setup, qfx_teardown),
        cmocka_unit_test(test_buckets_and_quantiles),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
