/*
 * test_async.c - the asynchronous libhitlq (include/hitlq_async.h) on one
 * libevent loop (include/hitlq_libevent.h) against a real hitlqd: 100
 * connections pipelining SUBMIT -> CLAIM -> RESOLVE with up to 16
 * requests in flight each while one connection WATCHes, every result
 * pushed exactly once and every callback called exactly once; the same
 * over TLS with a few connections; the server killed mid-pipeline (every
 * pending callback gets NULL once, the disconnect callback once); a free
 * inside a callback.  Hostile servers are in test_async_hostile.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"
#include "hitlq_async.h"
#include "hitlq_libevent.h"

#define WINDOW 16

/* One request's bookkeeping: how often its callback ran. */
struct req {
    struct worker *w;
    int            calls;
    bool           null_reply;
    uint8_t        op;
};

/* One connection's state machine: submit `want` items, then claim and
 * resolve until it resolved `want` (claims may take others' items). */
struct worker {
    struct run   *run;
    hitlq_async  *ac;
    int           idx, want, submitted, claims_out, resolving, resolved, inflight;
    int           disconnects;
};

struct run {
    struct event_base *base;
    struct worker     *w;
    int                nw;
    struct req        *reqs;     /* every request made, for the exactly-once check */
    size_t             nreq, capreq;
    uint64_t          *resolved_ids;   /* ids of successful RESOLVEs */
    size_t             nres;
    uint64_t          *pushed_ids;     /* ids of RESULT pushes, in order */
    uint64_t           last_seq;
    size_t             npush, cappush, want_results;
    bool               seq_ok, watching, failed;
};

static struct req *new_req(struct worker *w, uint8_t op)
{
    struct run *r = w->run;
    assert_true(r->nreq < r->capreq);
    struct req *q = &r->reqs[r->nreq++];
    q->w = w;
    q->op = op;
    return q;
}

static void pump(struct worker *w);

static void on_resolve(hitlq_async *ac, hitlq_reply *rep, void *priv)
{
    struct req *q = priv;
    struct worker *w = q->w;
    q->calls++;
    w->inflight--;
    assert_non_null(rep);
    assert_int_equal(hitlq_reply_status(rep), HITLQ_ST_OK);
    assert_true(hitlq_reply_has(rep, "seq"));
    w->resolving--;
    w->resolved++;
    pump(w);
}

static void on_claim(hitlq_async *ac, hitlq_reply *rep, void *priv)
{
    struct req *q = priv;
    struct worker *w = q->w;
    uint64_t id = 0, lease = 0;
    q->calls++;
    w->inflight--;
    w->claims_out--;
    assert_non_null(rep);
    if (hitlq_reply_status(rep) == HITLQ_ST_OK) {
        assert_true(hitlq_reply_get_u64(rep, "id", &id));
        assert_true(hitlq_reply_get_u64(rep, "lease", &lease));
        struct req *rq = new_req(w, HITLQ_OP_RESOLVE);
        assert_int_equal(hitlq_async_resolve(ac, id, lease, "approve", NULL, NULL,
                                             on_resolve, rq), HITLQ_OK);
        w->inflight++;
        w->resolving++;
        w->run->resolved_ids[w->run->nres++] = id;
    } else {
        assert_int_equal(hitlq_reply_status(rep), HITLQ_ST_EMPTY);
    }
    pump(w);
}

static void on_submit(hitlq_async *ac, hitlq_reply *rep, void *priv)
{
    struct req *q = priv;
    hitlq_decision d;
    q->calls++;
    q->w->inflight--;
    assert_non_null(rep);
    assert_int_equal(hitlq_reply_status(rep), HITLQ_ST_OK);
    assert_int_equal(hitlq_reply_decision(rep, &d), HITLQ_OK);
    assert_true(d.queued);
    pump(q->w);
}

/* Fills the window: submits first, then claims for what is left. */
static void pump(struct worker *w)
{
    char key[64];
    while (w->inflight < WINDOW && w->submitted < w->want) {
        snprintf(key, sizeof key, "async-%d-%d", w->idx, w->submitted);
        hitlq_item it = { .key = key, .type = "credit_application",
                          .fields = e2e_small_fields.data,
                          .fields_len = e2e_small_fields.size, .priority = -1 };
        assert_int_equal(hitlq_async_submit(w->ac, &it, on_submit,
                                            new_req(w, HITLQ_OP_SUBMIT)), HITLQ_OK);
        w->submitted++;
        w->inflight++;
    }
    /* claims (up to 4 waiting) for what this worker still owes */
    while (w->inflight < WINDOW && w->claims_out < 4 &&
           w->resolved + w->resolving + w->claims_out < w->want) {
        assert_int_equal(hitlq_async_claim(w->ac, e2e_review, 1, 0, 500, NULL, on_claim,
                                           new_req(w, HITLQ_OP_CLAIM)), HITLQ_OK);
        w->claims_out++;
        w->inflight++;
    }
}

static void on_push(hitlq_async *ac, hitlq_reply *rep, void *priv)
{
    struct run *r = priv;
    uint64_t seq = 0, id = 0;
    assert_int_equal(hitlq_reply_opcode(rep), HITLQ_OP_RESULT);
    assert_true(hitlq_reply_get_u64(rep, "seq", &seq));
    assert_true(hitlq_reply_get_u64(rep, "id", &id));
    if (seq <= r->last_seq)
        r->seq_ok = false;
    r->last_seq = seq;
    assert_true(r->npush < r->cappush);
    r->pushed_ids[r->npush++] = id;
    if (r->npush == r->want_results)
        event_base_loopbreak(r->base);
}

static void on_watch(hitlq_async *ac, hitlq_reply *rep, void *priv)
{
    struct run *r = priv;
    assert_non_null(rep);
    assert_int_equal(hitlq_reply_status(rep), HITLQ_ST_OK);
    r->watching = true;
    event_base_loopbreak(r->base);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct run *r = arg;
    r->failed = true;
    event_base_loopbreak(r->base);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static hitlq_async *connect_async(struct event_base *base, const hitlq_options *o)
{
    hitlq_async *ac = hitlq_async_connect(o);
    assert_non_null(ac);
    if (hitlq_async_err(ac) != HITLQ_OK)
        fail_msg("connect: %s", hitlq_async_errstr(ac));
    assert_int_equal(hitlq_libevent_attach(ac, base), HITLQ_OK);
    return ac;
}

/* nw connections x per items each through SUBMIT/CLAIM/RESOLVE, one more
 * connection watching; checks results and callbacks. */
static void run_pipeline(const hitlq_options *base_opt, int nw, int per)
{
    struct run r = { .nw = nw, .seq_ok = true };
    hitlq_options o = *base_opt;
    size_t i, total = (size_t)nw * (size_t)per;

    r.base = event_base_new();
    r.w = calloc((size_t)nw, sizeof(*r.w));
    r.capreq = total * 3 + (size_t)nw * 4000;
    r.reqs = calloc(r.capreq, sizeof(*r.reqs));
    r.resolved_ids = calloc(total + 1, sizeof(uint64_t));
    r.cappush = total + 1;
    r.pushed_ids = calloc(r.cappush, sizeof(uint64_t));
    r.want_results = total;
    assert_true(r.base && r.w && r.reqs && r.resolved_ids && r.pushed_ids);
    o.name = "watcher";
    hitlq_async *watcher = connect_async(r.base, &o);
    hitlq_async_set_push_cb(watcher, on_push, &r);
    assert_int_equal(hitlq_async_watch(watcher, 0, on_watch, &r), HITLQ_OK);
    assert_int_equal(hitlq_async_watch(watcher, 0, on_watch, &r), HITLQ_EINVAL);
    struct timeval tv = { 120, 0 };
    struct event *to = evtimer_new(r.base, on_timeout, &r);
    evtimer_add(to, &tv);
    event_base_dispatch(r.base);
    assert_true(r.watching);
    o.name = "specialist";
    for (i = 0; i < (size_t)nw; i++) {
        r.w[i] = (struct worker){ .run = &r, .idx = (int)i, .want = per };
        r.w[i].ac = connect_async(r.base, &o);
        pump(&r.w[i]);
    }
    event_base_dispatch(r.base);
    assert_false(r.failed);
    for (i = 0; i < (size_t)nw; i++)
        hitlq_async_free(r.w[i].ac);
    hitlq_async_free(watcher);
    /* every callback exactly once, none with NULL */
    for (i = 0; i < r.nreq; i++)
        if (r.reqs[i].calls != 1)
            fail_msg("request %zu (op 0x%02x): %d calls", i, r.reqs[i].op, r.reqs[i].calls);
    /* every resolved item pushed exactly once, in seq order */
    assert_true(r.seq_ok);
    assert_int_equal(r.nres, total);
    assert_int_equal(r.npush, total);
    qsort(r.resolved_ids, r.nres, sizeof(uint64_t), cmp_u64);
    qsort(r.pushed_ids, r.npush, sizeof(uint64_t), cmp_u64);
    for (i = 0; i < total; i++) {
        assert_int_equal(r.resolved_ids[i], r.pushed_ids[i]);
        if (i > 0)
            assert_true(r.pushed_ids[i] > r.pushed_ids[i - 1]);
    }
    event_free(to);
    event_base_free(r.base);
    free(r.w);
    free(r.reqs);
    free(r.resolved_ids);
    free(r.pushed_ids);
}

static void test_hundred_pipelines(void **st)
{
    (void)st;
    hitlq_options o = { .host = "127.0.0.1", .port = e2e_srv.port, .timeout_ms = 10000 };
    run_pipeline(&o, 100, 10);
}

/* ---- TLS ------------------------------------------------------------------ */

static void test_tls_pipelines(void **st)
{
    (void)st;
    char dir[] = "/tmp/hitlq-async-tls-XXXXXX", cmd[512], conf[512], ca[256];
    struct hserver s = { 0 };
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "sh scripts/make-certs.sh %s > /dev/null", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(conf, sizeof conf, "tls_cert = \"%s/server.pem\"\ntls_key = \"%s/server.key\"\n",
             dir, dir);
    assert_true(harness_server_start(&s, conf) > 0);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    hitlq_options o = { .host = "127.0.0.1", .port = s.port, .timeout_ms = 10000,
                        .tls_ca = ca };
    run_pipeline(&o, 4, 40);
    /* a wrong CA: the handshake fails in connect, the context says why */
    snprintf(ca, sizeof ca, "%s/server.pem", dir);
    hitlq_async *bad = hitlq_async_connect(&o);
    assert_non_null(bad);
    assert_int_equal(hitlq_async_err(bad), HITLQ_EIO);
    assert_int_equal(hitlq_async_call(bad, HITLQ_OP_PING, NULL, 0, NULL, NULL), HITLQ_ECLOSED);
    hitlq_async_free(bad);
    assert_int_equal(harness_server_stop(&s), 0);
    harness_server_cleanup(&s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- the server killed mid-pipeline --------------------------------------- */

struct killrun {
    struct event_base *base;
    struct hserver    *srv;
    int                calls[4][WINDOW], nulls, replies, disconnects[4], codes[4];
    int                outstanding;
};


static void on_any(hitlq_async *ac, hitlq_reply *rep, void *priv)
{
    int *slot = priv;
    (*slot)++;
}

static struct killrun *KR;

static void on_kill_cb(hitlq_async *ac, hitlq_reply *rep, void *priv)
{
    int *slot = priv;
    (*slot)++;
    if (rep == NULL) {
        KR->nulls++;
        /* calls from a dead context's callbacks fail at once */
        assert_int_equal(hitlq_async_call(ac, HITLQ_OP_PING, NULL, 0, on_any, slot),
                         HITLQ_ECLOSED);
    } else {
        KR->replies++;
    }
    if (--KR->outstanding == 0)
        event_base_loopbreak(KR->base);
}

static void on_disc(hitlq_async *ac, int status, void *priv)
{
    int *i = priv;
    KR->disconnects[*i]++;
    KR->codes[*i] = status;
}

static void on_kill_timer(evutil_socket_t fd, short what, void *arg)
{
    struct killrun *k = arg;
    assert_int_equal(harness_server_kill(k->srv, SIGKILL), 0);
}

static void test_server_killed(void **st)
{
    (void)st;
    static struct killrun k;
    hitlq_options o = { .host = "127.0.0.1", .port = e2e_srv.port, .name = "spec",
                        .timeout_ms = 10000 };
    hitlq_async *ac[4];
    int idx[4] = { 0, 1, 2, 3 }, i, j;

    memset(&k, 0, sizeof k);
    KR = &k;
    k.base = event_base_new();
    k.srv = &e2e_srv;
    for (i = 0; i < 4; i++) {
        ac[i] = connect_async(k.base, &o);
        hitlq_async_set_disconnect_cb(ac[i], on_disc, &idx[i]);
        for (j = 0; j < WINDOW; j++) {   /* waiting CLAIMs on an empty queue */
            assert_int_equal(hitlq_async_claim(ac[i], e2e_review, 1, 0, 60000, NULL,
                                               on_kill_cb, &k.calls[i][j]), HITLQ_OK);
            k.outstanding++;
        }
        assert_int_equal(hitlq_async_pending(ac[i]), WINDOW);
    }
    struct timeval tv = { 0, 300000 };
    struct event *t = evtimer_new(k.base, on_kill_timer, &k);
    evtimer_add(t, &tv);
    event_base_dispatch(k.base);
    assert_int_equal(k.outstanding, 0);
    assert_int_equal(k.nulls, 4 * WINDOW);
    for (i = 0; i < 4; i++) {
        for (j = 0; j < WINDOW; j++)
            assert_int_equal(k.calls[i][j], 1);
        assert_int_equal(k.disconnects[i], 1);
        assert_true(k.codes[i] == HITLQ_EOF || k.codes[i] == HITLQ_EIO);
        assert_int_equal(hitlq_async_err(ac[i]), k.codes[i]);
        assert_int_equal(hitlq_async_pending(ac[i]), 0);
        hitlq_async_free(ac[i]);
    }
    event_free(t);
    event_base_free(k.base);
    assert_int_equal(harness_server_restart(&e2e_srv) > 0, 1);
}

/* ---- free inside a callback -------------------------------------------------- */

static int free_calls[3];

static void on_free_first(hitlq_async *ac, hitlq_reply *rep, void *priv)
{
    int *n = priv;
    (*n)++;
    assert_non_null(rep);
    hitlq_async_free(ac);              /* the others get NULL, later */
}

static void on_after_free(hitlq_async *ac, hitlq_reply *rep, void *priv)
{
    int *n = priv;
    (*n)++;
    assert_null(rep);
    assert_int_equal(hitlq_async_err(ac), HITLQ_ECLOSED);
}

static void test_free_in_callback(void **st)
{
    (void)st;
    hitlq_options o = { .host = "127.0.0.1", .port = e2e_srv.port, .name = "x",
                        .timeout_ms = 10000 };
    struct event_base *base = event_base_new();
    hitlq_async *ac = connect_async(base, &o);

    memset(free_calls, 0, sizeof free_calls);
    assert_int_equal(hitlq_async_call(ac, HITLQ_OP_PING, NULL, 0, on_free_first,
                                      &free_calls[0]), HITLQ_OK);
    assert_int_equal(hitlq_async_claim(ac, e2e_review, 1, 0, 30000, NULL, on_after_free,
                                       &free_calls[1]), HITLQ_OK);
    assert_int_equal(hitlq_async_claim(ac, e2e_review, 1, 0, 30000, NULL, on_after_free,
                                       &free_calls[2]), HITLQ_OK);
    assert_null(hitlq_async_keep(ac));     /* outside a callback */
    event_base_dispatch(base);             /* ends: no events left */
    for (int i = 0; i < 3; i++)
        assert_int_equal(free_calls[i], 1);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        E2E_TEST(test_hundred_pipelines),
        E2E_TEST(test_tls_pipelines),
        E2E_TEST(test_server_killed),
        E2E_TEST(test_free_in_callback),
    };
    return e2e_run("async", tests, sizeof tests / sizeof tests[0]);
}
