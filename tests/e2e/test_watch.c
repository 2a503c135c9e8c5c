/*
 * test_watch.c - the WATCH result stream through libhitlq and raw frames
 * against a real hitlqd (tests/lib/e2e_util.h: one server per test):
 * every result once and in order while it is produced, resuming from a
 * cursor, cursor 0, and a watcher that does not read while ~16 MB of
 * results are produced (back-pressure without stalling other clients).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

/* ---- WATCH ----------------------------------------------------------------- */

struct wres {
    uint64_t seq, id;
    bool     is_auto;
    char     actor[80];
    char     outcome[40];
};

struct watch_col {
    struct wres *r;
    size_t       n, want, cap;
};

static int collect(void *arg, const hitlq_reply *res)
{
    struct watch_col *w = arg;
    if (w->n < w->cap) {
        struct wres *x = &w->r[w->n];
        x->seq = hobj_u64(hitlq_reply_get(res, "seq"));
        x->id = hobj_u64(hitlq_reply_get(res, "id"));
        const msgpack_object *a = hitlq_reply_get(res, "auto");
        x->is_auto = a && a->type == MSGPACK_OBJECT_BOOLEAN && a->via.boolean;
        hobj_str(hitlq_reply_get(res, "actor"), x->actor, sizeof x->actor);
        hobj_str(hitlq_reply_get(res, "outcome"), x->outcome, sizeof x->outcome);
    }
    w->n++;
    return w->n >= w->want;
}

struct watch_thread {
    uint16_t         port;
    uint64_t         cursor;
    struct watch_col col;
    int              rc;
};

static void *watch_main(void *arg)
{
    struct watch_thread *wt = arg;
    hitlq_options o = { .host = "127.0.0.1", .port = wt->port, .name = "watcher",
                        .timeout_ms = 30000 };
    hitlq *c = hitlq_connect(&o);
    if (!c || hitlq_err(c) != HITLQ_OK) {
        wt->rc = -100;
        hitlq_free(c);
        return NULL;
    }
    wt->rc = hitlq_watch(c, wt->cursor, 20000, collect, &wt->col);
    hitlq_free(c);
    return NULL;
}

/* produces results: n_auto auto-resolutions from the CSV (starting at row
 * *row) and n_human human resolutions; records expected ids in order */
static size_t produce(hitlq *c, size_t *row, unsigned n_auto, unsigned n_human, uint64_t *ids,
                      size_t nids, int tag)
{
    unsigned got_rows = 0;   /* every CSV row gives exactly one result */
    while (got_rows < n_auto && *row < e2e_nci) {
        got_rows++;
        hitlq_item it = { .key = e2e_ci[*row].key, .type = "credit_application",
                          .fields = e2e_ci[*row].fields, .fields_len = e2e_ci[*row].fields_len,
                          .priority = -1 };
        (*row)++;
        hitlq_decision d;
        assert_int_equal(hitlq_submit(c, &it, &d), HITLQ_OK);
        if (!d.queued) {
            ids[nids++] = d.id;
        } else {
            /* resolve queued rows by hand too: they are results */
            struct hitlq_claim cl = e2e_must_claim(c, e2e_review, 1, 60000, 0);
            assert_int_equal(cl.id, d.id);
            assert_int_equal(hitlq_resolve(c, cl.id, cl.lease, "reject", NULL, NULL, NULL),
                             HITLQ_OK);
            ids[nids++] = cl.id;
            hitlq_claim_clear(&cl);
        }
    }
    assert_int_equal(got_rows, n_auto);
    for (unsigned i = 0; i < n_human; i++) {
        char k[32];
        snprintf(k, sizeof k, "w%d-%u", tag, i);
        uint64_t id = e2e_must_queue(c, k, -1);
        struct hitlq_claim cl = e2e_must_claim(c, e2e_review, 1, 60000, 0);
        assert_int_equal(cl.id, id);
        uint64_t seq = 0;
        assert_int_equal(hitlq_resolve(c, cl.id, cl.lease, "approve", "ok", NULL, &seq),
                         HITLQ_OK);
        ids[nids++] = id;
        hitlq_claim_clear(&cl);
    }
    return nids;
}

static void test_watch_stream(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("dave");
    uint64_t ids[400];
    size_t nids = 0, row = 0;
    nids = produce(c, &row, 5, 5, ids, nids, 1);
    size_t phase1 = nids;

    /* a watcher from cursor 1 that must see phase1 + phase2 results */
    struct watch_thread wt = { .port = e2e_srv.port, .cursor = 1 };
    wt.col.cap = 400;
    wt.col.r = calloc(400, sizeof *wt.col.r);
    assert_non_null(wt.col.r);
    pthread_t th;
    /* phase 2 is produced while it streams */
    wt.col.want = phase1 + 20;
    assert_int_equal(pthread_create(&th, NULL, watch_main, &wt), 0);
    harness_sleep_ms(200);
    nids = produce(c, &row, 10, 10, ids, nids, 2);
    assert_int_equal(nids, phase1 + 20);
    pthread_join(th, NULL);
    assert_int_equal(wt.rc, HITLQ_OK);
    assert_int_equal(wt.col.n, nids);
    size_t seen_auto = 0, seen_human = 0;
    for (size_t i = 0; i < nids; i++) {
        struct wres *x = &wt.col.r[i];
        assert_int_equal(x->seq, i + 1);
        if (x->id != ids[i])
            fail_msg("result %zu: id %" PRIu64 ", want %" PRIu64, i, x->id, ids[i]);
        if (x->is_auto) {
            assert_true(strncmp(x->actor, "model:", 6) == 0);
            assert_string_equal(x->outcome, "approve");
            seen_auto++;
        } else {
            assert_string_equal(x->actor, "dave");
            seen_human++;
        }
    }
    assert_true(seen_auto > 0);
    assert_true(seen_human > 0);
    /* exactly once: no further result is pushed */
    struct watch_col extra = { .r = calloc(8, sizeof(struct wres)), .cap = 8, .want = 1 };
    hitlq *w2 = e2e_cli("watcher2");
    assert_int_equal(hitlq_watch(w2, nids + 1, 500, collect, &extra), HITLQ_ETIMEOUT);
    assert_int_equal(extra.n, 0);
    hitlq_free(w2);

    /* reconnect from last+1 after more results: resumes without gaps */
    size_t before = nids;
    nids = produce(c, &row, 3, 3, ids, nids, 3);
    struct watch_col res = { .r = calloc(16, sizeof(struct wres)), .cap = 16,
                             .want = nids - before };
    w2 = e2e_cli("watcher3");
    assert_int_equal(hitlq_watch(w2, before + 1, 10000, collect, &res), HITLQ_OK);
    assert_int_equal(res.n, nids - before);
    for (size_t i = 0; i < res.n; i++) {
        assert_int_equal(res.r[i].seq, before + 1 + i);
        assert_int_equal(res.r[i].id, ids[before + i]);
    }
    hitlq_free(w2);
    /* cursor 0: only new results */
    free(extra.r);
    extra = (struct watch_col){ .r = calloc(8, sizeof(struct wres)), .cap = 8, .want = 1 };
    w2 = e2e_cli("watcher4");
    assert_int_equal(hitlq_watch(w2, 0, 500, collect, &extra), HITLQ_ETIMEOUT);
    assert_int_equal(extra.n, 0);
    hitlq_free(w2);
    free(extra.r);
    free(res.r);
    free(wt.col.r);
    hitlq_free(c);
}

/* ---- WATCH back-pressure --------------------------------------------------- */

struct resolver {
    uint16_t port;
    int      n;
    int      rc;
    char     note[4001];
};

static void *resolver_main(void *arg)
{
    struct resolver *rs = arg;
    hitlq_options o = { .host = "127.0.0.1", .port = rs->port, .name = "bulk",
                        .timeout_ms = 30000 };
    hitlq *c = hitlq_connect(&o);
    if (!c || hitlq_err(c) != HITLQ_OK) {
        rs->rc = -100;
        hitlq_free(c);
        return NULL;
    }
    for (int i = 0; i < rs->n; i++) {
        struct hitlq_claim cl;
        memset(&cl, 0, sizeof cl);
        int rc = hitlq_claim(c, e2e_review, 1, 60000, 2000, NULL, &cl);
        if (rc == HITLQ_OK)
            rc = hitlq_resolve(c, cl.id, cl.lease, "approve", rs->note, NULL, NULL);
        hitlq_claim_clear(&cl);
        if (rc != HITLQ_OK) {
            rs->rc = rc;
            break;
        }
    }
    hitlq_free(c);
    return NULL;
}

/* A watcher that does not read while ~16 MB of results (4 KB notes) are
 * produced: the server must not stall other clients, and once the watcher
 * reads, every result arrives in order, once. */
static void test_watch_backpressure(void **st)
{
    (void)st;
    enum { N = 4000 };
    struct hconn w;
    assert_int_equal(hconn_open(&w, e2e_srv.port), 0);
    assert_int_equal(hconn_hello(&w, "slow-watcher"), 0);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "cursor", 1);
    struct hframe f;
    assert_int_equal(hconn_call(&w, HITLQ_OP_WATCH, 77, sb.data, sb.size, &f, 5000), 1);
    assert_int_equal(f.status, 0);
    hframe_free(&f);
    msgpack_sbuffer_destroy(&sb);

    hitlq *c = e2e_cli("bulk-bot");
    hitlq_item *its = calloc(N, sizeof *its);
    hitlq_decision *d = calloc(N, sizeof *d);
    int *sts = calloc(N, sizeof *sts);
    char (*keys)[16] = calloc(N, 16);
    assert_true(its && d && sts && keys);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], 16, "bp-%d", i);
        its[i] = (hitlq_item){ .key = keys[i], .type = "credit_application",
                               .fields = e2e_small_fields.data, .fields_len = e2e_small_fields.size,
                               .priority = -1 };
    }
    assert_int_equal(hitlq_submit_batch(c, its, N, 0, d, sts), HITLQ_OK);
    for (int i = 0; i < N; i++)
        assert_int_equal(sts[i], HITLQ_OK);
    struct resolver rs[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        memset(&rs[i], 0, sizeof rs[i]);
        rs[i].port = e2e_srv.port;
        rs[i].n = N / 2;
        memset(rs[i].note, 'n', 4000);
        assert_int_equal(pthread_create(&th[i], NULL, resolver_main, &rs[i]), 0);
    }
    /* meanwhile a PING on another connection stays fast */
    for (int i = 0; i < 10; i++) {
        uint64_t t0 = harness_now_ms();
        hitlq_reply *pr = NULL;
        assert_int_equal(hitlq_call(c, HITLQ_OP_PING, NULL, 0, &pr), HITLQ_OK);
        hitlq_reply_free(pr);
        assert_true(harness_now_ms() - t0 < 2000);
        harness_sleep_ms(50);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        if (rs[i].rc != 0)
            fail_msg("resolver %d: %s", i, hitlq_strerror(rs[i].rc));
    }
    /* now read: N results, seq 1..N, in order */
    for (int i = 0; i < N; i++) {
        int r = hconn_read_frame(&w, &f, 10000);
        if (r != 1)
            fail_msg("result %d: read %d", i, r);
        assert_int_equal(f.opcode, HITLQ_OP_RESULT);
        assert_int_equal(f.request_id, 77);
        assert_int_equal(hobj_u64(hframe_get(&f, "seq")), (uint64_t)i + 1);
        hframe_free(&f);
    }
    assert_int_equal(hconn_read_frame(&w, &f, 300), -1);   /* nothing more */
    hconn_close(&w);
    free(its);
    free(d);
    free(sts);
    free(keys);
    hitlq_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        E2E_TEST(test_watch_stream),
        E2E_TEST(test_watch_backpressure),
    };
    return e2e_run("watch", tests, sizeof tests / sizeof tests[0]);
}
