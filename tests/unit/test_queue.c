/*
 * test_queue.c - the queue state machine on a real LMDB store in a fresh
 * mkdtemp directory: submit and idempotency, claim order, leases, release,
 * resolve and the result stream, escalate, expiry and dead letters, GET
 * history, STATS, restart, a volume run, and the compact record (reasons,
 * long names, submit-time history rebuilt from the record).  Time is
 * driven by hand.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "queue.h"
#include "store.h"

#define T0 1700000000000ull

struct fx_env {
    char          dir[64];
    struct store *s;
};

/* ---- fixture -------------------------------------------------------- */

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static void
env_open(struct fx_env *e)
{
    char err[256];

    assert_int_equal(store_open(&e->s, e->dir, 256u << 20, err, sizeof(err)), 0);
}

static int
setup(void **state)
{
    struct fx_env *e = calloc(1, sizeof(*e));

    snprintf(e->dir, sizeof(e->dir), "/tmp/hitlq-tq-XXXXXX");
    if (mkdtemp(e->dir) == NULL)
        return -1;
    env_open(e);
    *state = e;
    return 0;
}

static int
teardown(void **state)
{
    struct fx_env *e = *state;

    store_close(e->s);
    nftw(e->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    free(e);
    return 0;
}

static void
env_reopen(struct fx_env *e)
{
    store_close(e->s);
    env_open(e);
}

static MDB_txn *
wtxn(struct fx_env *e)
{
    MDB_txn *t;

    assert_int_equal(mdb_txn_begin(e->s->env, NULL, 0, &t), 0);
    return t;
}

static MDB_txn *
rtxn(struct fx_env *e)
{
    MDB_txn *t;

    assert_int_equal(mdb_txn_begin(e->s->env, NULL, MDB_RDONLY, &t), 0);
    return t;
}

static void
commit(MDB_txn *t)
{
    assert_int_equal(mdb_txn_commit(t), 0);
}

/* ---- helpers ---------------------------------------------------------- */

static const uint8_t fields_mp[] = { 0x81, 0xa1, 'a', 0x01 };     /* {a: 1} */
static const uint8_t reasons_mp[] = { 0x91, 0x81, 0xa1, 'f', 0xc3 }; /* [{f:true}] */

/* Submits `key` (queue NULL = auto-resolved "approve"). */
static int
submit_tx(struct fx_env *e, MDB_txn *t, const char *key, const char *queue,
          uint32_t prio, uint64_t sla, uint8_t hash, uint64_t now,
          struct decision *d, bool *dup, struct queue_fx *fx)
{
    struct submit_in in = {
        .key = key, .type = "credit", .fields = fields_mp,
        .fields_len = sizeof(fields_mp), .actor = "bot1",
    };

    memset(in.content_hash, hash, 16);
    memset(d, 0, sizeof(*d));
    d->outcome = queue ? DECISION_QUEUED : DECISION_AUTO;
    snprintf(d->action, sizeof(d->action), "approve");
    snprintf(d->queue, sizeof(d->queue), "%s", queue ? queue : "");
    snprintf(d->model, sizeof(d->model), "m@1");
    d->priority = prio;
    d->sla_ms = sla;
    d->score = queue ? 0.25 : 0.97;
    d->route = queue ? 3 : 1;          /* review / auto_approve */
    d->method = 1;                     /* linear */
    d->reasons_mp = malloc(sizeof(reasons_mp));
    memcpy(d->reasons_mp, reasons_mp, sizeof(reasons_mp));
    d->reasons_len = sizeof(reasons_mp);
    (void)e;
    return queue_submit(e->s, t, &in, now, d, dup, fx);
}

static uint64_t
submit1(struct fx_env *e, const char *key, const char *queue, uint32_t prio,
        uint64_t sla, uint64_t now)
{
    struct decision d;
    struct queue_fx fx = { 0 };
    bool dup;
    MDB_txn *t = wtxn(e);

    assert_int_equal(submit_tx(e, t, key, queue, prio, sla, 1, now, &d, &dup, &fx), HITLQ_ST_OK);
    assert_false(dup);
    commit(t);
    decision_clear(&d);
    return d.id;
}

static int
claim_q(struct fx_env *e, const char *q1, const char *q2, uint64_t now,
        struct claim_out *out)
{
    struct claim_in in = { .n_queues = q2 ? 2 : 1, .lease_ms = 10000 };
    MDB_txn *t = wtxn(e);
    int st;

    snprintf(in.queues[0], sizeof(in.queues[0]), "%s", q1);
    if (q2)
        snprintf(in.queues[1], sizeof(in.queues[1]), "%s", q2);
    snprintf(in.worker, sizeof(in.worker), "alice");
    st = queue_claim(e->s, t, &in, now, out);
    commit(t);
    return st;
}

static uint64_t
claim_id(struct fx_env *e, const char *q1, const char *q2, uint64_t now, uint64_t *lease)
{
    struct claim_out out;
    int st = claim_q(e, q1, q2, now, &out);

    if (st != HITLQ_ST_OK)
        return 0;
    free(out.reply_mp);
    if (lease)
        *lease = out.lease;
    return out.id;
}

static size_t
expire(struct fx_env *e, uint64_t now, uint32_t max_attempts)
{
    size_t done = 0;
    MDB_txn *t = wtxn(e);

    assert_int_equal(queue_expire_due(e->s, t, now, max_attempts, "dead_letter",
                                      100, &done, NULL), HITLQ_ST_OK);
    commit(t);
    return done;
}

/* msgpack lookup by key in a map object. */
static const msgpack_object *
mget(const msgpack_object *m, const char *k)
{
    assert_int_equal(m->type, MSGPACK_OBJECT_MAP);
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object_kv *kv = &m->via.map.ptr[i];

        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(k) &&
            memcmp(kv->key.via.str.ptr, k, strlen(k)) == 0)
            return &kv->val;
    }
    return NULL;
}

static uint64_t
mu64(const msgpack_object *m, const char *k)
{
    const msgpack_object *o = mget(m, k);

    assert_non_null(o);
    assert_int_equal(o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    return o->via.u64;
}

static void
mstr_eq(const msgpack_object *m, const char *k, const char *want)
{
    const msgpack_object *o = mget(m, k);

    assert_non_null(o);
    assert_int_equal(o->type, MSGPACK_OBJECT_STR);
    assert_int_equal(o->via.str.size, strlen(want));
    assert_memory_equal(o->via.str.ptr, want, strlen(want));
}

/* Unpacks buf into *res; the result owns a copy of the bytes (strings in
 * it stay valid after buf is freed). */
static void
unpack(const void *buf, size_t len, msgpack_unpacked *res)
{
    msgpack_unpacker up;

    assert_true(msgpack_unpacker_init(&up, len + 16));
    memcpy(msgpack_unpacker_buffer(&up), buf, len);
    msgpack_unpacker_buffer_consumed(&up, len);
    msgpack_unpacked_init(res);
    assert_int_equal(msgpack_unpacker_next(&up, res), MSGPACK_UNPACK_SUCCESS);
    {
        msgpack_unpacked extra;    /* nothing may follow the object */

        msgpack_unpacked_init(&extra);
        assert_int_equal(msgpack_unpacker_next(&up, &extra), MSGPACK_UNPACK_CONTINUE);
        msgpack_unpacked_destroy(&extra);
    }
    msgpack_unpacker_destroy(&up);
}

/* GET of id, unpacked into res (sbuffer freed). */
static void
get_item(struct fx_env *e, uint64_t id, msgpack_unpacked *res)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    MDB_txn *t = rtxn(e);

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(queue_get(e->s, t, id, &pk), HITLQ_ST_OK);
    mdb_txn_abort(t);
    unpack(sb.data, sb.size, res);
    msgpack_sbuffer_destroy(&sb);
}

static void
stats(struct fx_env *e, uint64_t now, msgpack_unpacked *res)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    MDB_txn *t = rtxn(e);

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(queue_stats(e->s, t, now, &pk), HITLQ_ST_OK);
    mdb_txn_abort(t);
    unpack(sb.data, sb.size, res);
    msgpack_sbuffer_destroy(&sb);
}

/* The stats entry of queue q (or type q when types is true). */
static const msgpack_object *
stats_entry(const msgpack_object *st, bool types, const char *q)
{
    const msgpack_object *a = mget(st, types ? "types" : "queues");

    for (uint32_t i = 0; i < a->via.array.size; i++) {
        const msgpack_object *o = mget(&a->via.array.ptr[i], types ? "type" : "queue");

        if (o->via.str.size == strlen(q) && memcmp(o->via.str.ptr, q, strlen(q)) == 0)
            return &a->via.array.ptr[i];
    }
    fail_msg("no stats entry %s", q);
    return NULL;
}

/* ---- cases ------------------------------------------------------------ */

static void
test_submit_idempotency(void **state)
{
    struct fx_env *e = *state;
    struct decision d;
    struct queue_fx fx = { 0 };
    bool dup;
    MDB_txn *t = wtxn(e);

    assert_int_equal(submit_tx(e, t, "k1", "review", 7, 5000, 1, T0, &d, &dup, &fx), HITLQ_ST_OK);
    assert_false(dup);
    assert_int_equal(d.id, 1);
    assert_int_equal(d.deadline_ms, T0 + 5000);
    assert_int_equal(fx.n_woken, 1);
    assert_string_equal(fx.woken[0], "review");
    decision_clear(&d);
    assert_int_equal(submit_tx(e, t, "k2", NULL, 0, 0, 1, T0, &d, &dup, &fx), HITLQ_ST_OK);
    assert_int_equal(d.id, 2);
    assert_int_equal(d.seq, 1);
    assert_true(fx.results);
    decision_clear(&d);
    commit(t);

    for (int round = 0; round < 2; round++) {
        t = wtxn(e);
        /* same key, same hash: the original decision, whatever we pass */
        assert_int_equal(submit_tx(e, t, "k1", "other", 1, 1, 1, T0 + 99, &d, &dup, NULL),
                         HITLQ_ST_OK);
        assert_true(dup);
        assert_int_equal(d.id, 1);
        assert_int_equal(d.outcome, DECISION_QUEUED);
        assert_string_equal(d.queue, "review");
        assert_int_equal(d.priority, 7);
        assert_int_equal(d.deadline_ms, T0 + 5000);
        assert_string_equal(d.model, "m@1");
        assert_true(d.score == 0.25);
        assert_int_equal(d.reasons_len, sizeof(reasons_mp));
        assert_memory_equal(d.reasons_mp, reasons_mp, sizeof(reasons_mp));
        decision_clear(&d);
        assert_int_equal(submit_tx(e, t, "k2", NULL, 0, 0, 1, T0, &d, &dup, NULL), HITLQ_ST_OK);
        assert_true(dup);
        assert_int_equal(d.outcome, DECISION_AUTO);
        assert_string_equal(d.action, "approve");
        assert_int_equal(d.seq, 1);
        decision_clear(&d);
        /* same key, other content */
        assert_int_equal(submit_tx(e, t, "k1", "review", 7, 5000, 2, T0, &d, &dup, NULL),
                         HITLQ_ST_CONFLICT);
        decision_clear(&d);
        commit(t);
        env_reopen(e);
    }
    t = rtxn(e);
    assert_int_equal(queue_results_next(e->s, t), 2);
    mdb_txn_abort(t);
    assert_int_equal(submit1(e, "k3", "review", 0, 1, T0), 3);
}

static void
test_claim_order(void **state)
{
    struct fx_env *e = *state;
    uint64_t a1 = submit1(e, "a1", "qa", 5, 1000, T0);
    uint64_t b2 = submit1(e, "b2", "qb", 9, 5000, T0);
    uint64_t a3 = submit1(e, "a3", "qa", 9, 3000, T0);
    uint64_t b4 = submit1(e, "b4", "qb", 9, 3000, T0);
    uint64_t a5 = submit1(e, "a5", "qa", 1, 10, T0);
    uint64_t c6 = submit1(e, "c6", "qc", 1000, 10, T0);

    assert_int_equal(claim_id(e, "qa", "qb", T0, NULL), a3);
    assert_int_equal(claim_id(e, "qa", "qb", T0, NULL), b4);
    assert_int_equal(claim_id(e, "qb", "qa", T0, NULL), b2);
    assert_int_equal(claim_id(e, "qa", "qb", T0, NULL), a1);
    assert_int_equal(claim_id(e, "qa", "qb", T0, NULL), a5);
    assert_int_equal(claim_id(e, "qa", "qb", T0, NULL), 0);
    assert_int_equal(claim_id(e, "qc", NULL, T0, NULL), c6);
}

static void
test_claim_empty(void **state)
{
    struct fx_env *e = *state;
    struct claim_out out;

    assert_int_equal(claim_q(e, "nothing", NULL, T0, &out), HITLQ_ST_EMPTY);
    assert_null(out.reply_mp);
    submit1(e, "x", "q", 1, 10, T0);
    /* a queue name that is a prefix of another must not match it */
    assert_int_equal(claim_q(e, "", NULL, T0, &out), HITLQ_ST_EMPTY);
    assert_int_equal(claim_q(e, "qq", NULL, T0, &out), HITLQ_ST_EMPTY);
    assert_int_equal(claim_q(e, "q", NULL, T0, &out), HITLQ_ST_OK);
    assert_int_equal(out.expires_ms, T0 + 10000);
    assert_int_not_equal(out.lease, 0);

    msgpack_unpacked res;
    unpack(out.reply_mp, out.reply_len, &res);
    assert_int_equal(mu64(&res.data, "id"), out.id);
    assert_int_equal(mu64(&res.data, "lease"), out.lease);
    assert_int_equal(mu64(&res.data, "expires_ms"), out.expires_ms);
    assert_int_equal(mu64(&res.data, "priority"), 1);
    assert_int_equal(mu64(&res.data, "deadline_ms"), T0 + 10);
    assert_int_equal(mu64(&res.data, "attempts"), 0);
    mstr_eq(&res.data, "queue", "q");
    mstr_eq(&res.data, "key", "x");
    mstr_eq(&res.data, "type", "credit");
    mstr_eq(&res.data, "model", "m@1");
    assert_int_equal(mget(&res.data, "fields")->type, MSGPACK_OBJECT_MAP);
    assert_int_equal(mget(&res.data, "reasons")->via.array.size, 1);
    mstr_eq(&res.data, "route", "review");
    mstr_eq(&res.data, "explain", "linear");
    assert_int_equal(res.data.via.map.size, 15);
    msgpack_unpacked_destroy(&res);
    free(out.reply_mp);
}

static void
test_stale_lease(void **state)
{
    struct fx_env *e = *state;
    uint64_t lease, exp, rdy, seq;
    uint64_t id = submit1(e, "x", "q", 1, 10, T0);
    uint64_t other = submit1(e, "y", "q", 0, 10, T0);
    MDB_txn *t;

    assert_int_equal(claim_id(e, "q", NULL, T0, &lease), id);
    t = wtxn(e);
    assert_int_equal(queue_extend(e->s, t, id, lease + 1, 0, T0, &exp), HITLQ_ST_STALE_LEASE);
    assert_int_equal(queue_release(e->s, t, id, lease ^ 4, 0, T0, &rdy, NULL), HITLQ_ST_STALE_LEASE);
    assert_int_equal(queue_resolve(e->s, t, id, 0, "ok", NULL, NULL, T0, &seq, NULL),
                     HITLQ_ST_STALE_LEASE);
    assert_int_equal(queue_escalate(e->s, t, id, 7, "z", NULL, T0, NULL), HITLQ_ST_STALE_LEASE);
    assert_int_equal(queue_extend(e->s, t, 999, lease, 0, T0, &exp), HITLQ_ST_NOT_FOUND);
    /* not leased */
    assert_int_equal(queue_extend(e->s, t, other, lease, 0, T0, &exp), HITLQ_ST_STALE_LEASE);
    /* expired, even though the timer has not run yet */
    assert_int_equal(queue_extend(e->s, t, id, lease, 0, T0 + 10000, &exp), HITLQ_ST_STALE_LEASE);
    assert_int_equal(queue_extend(e->s, t, id, lease, 0, T0 + 9999, &exp), HITLQ_ST_OK);
    commit(t);
}

static void
test_extend(void **state)
{
    struct fx_env *e = *state;
    uint64_t lease, exp;
    uint64_t id = submit1(e, "x", "q", 1, 10, T0);
    MDB_txn *t;

    assert_int_equal(claim_id(e, "q", NULL, T0, &lease), id);
    t = rtxn(e);
    assert_int_equal(queue_next_timer(e->s, t), T0 + 10000);
    mdb_txn_abort(t);
    t = wtxn(e);
    assert_int_equal(queue_extend(e->s, t, id, lease, 0, T0 + 5000, &exp), HITLQ_ST_OK);
    assert_int_equal(exp, T0 + 15000);
    assert_int_equal(queue_next_timer(e->s, t), T0 + 15000);
    assert_int_equal(queue_extend(e->s, t, id, lease, 60000, T0 + 6000, &exp), HITLQ_ST_OK);
    assert_int_equal(exp, T0 + 66000);
    commit(t);
    /* the old timers are gone: nothing happens at the old times */
    assert_int_equal(expire(e, T0 + 20000, 3), 0);
    t = rtxn(e);
    assert_int_equal(queue_next_timer(e->s, t), T0 + 66000);
    mdb_txn_abort(t);
    t = wtxn(e);
    assert_int_equal(queue_extend(e->s, t, id, lease, 0, T0 + 60000, &exp), HITLQ_ST_OK);
    assert_int_equal(exp, T0 + 120000);   /* same length as the last lease */
    commit(t);
}

static void
test_release(void **state)
{
    struct fx_env *e = *state;
    uint64_t lease, rdy;
    uint64_t id = submit1(e, "x", "q", 1, 100000, T0);
    struct queue_fx fx = { 0 };
    msgpack_unpacked res;
    MDB_txn *t;

    assert_int_equal(claim_id(e, "q", NULL, T0, &lease), id);
    t = wtxn(e);
    assert_int_equal(queue_release(e->s, t, id, lease, 0, T0 + 1, &rdy, &fx), HITLQ_ST_OK);
    assert_int_equal(rdy, T0 + 1);
    assert_int_equal(fx.n_woken, 1);
    assert_int_equal(queue_release(e->s, t, id, lease, 0, T0 + 1, &rdy, &fx),
                     HITLQ_ST_STALE_LEASE);
    assert_int_equal(queue_next_timer(e->s, t), 0);
    commit(t);
    assert_int_equal(claim_id(e, "q", NULL, T0 + 2, &lease), id);
    t = wtxn(e);
    assert_int_equal(queue_release(e->s, t, id, lease, 5000, T0 + 3, &rdy, NULL), HITLQ_ST_OK);
    assert_int_equal(rdy, T0 + 5003);
    assert_int_equal(queue_next_timer(e->s, t), T0 + 5003);
    commit(t);
    assert_int_equal(claim_id(e, "q", NULL, T0 + 4, NULL), 0);
    get_item(e, id, &res);
    mstr_eq(&res.data, "state", "delayed");
    assert_int_equal(mu64(&res.data, "attempts"), 0);
    msgpack_unpacked_destroy(&res);
    stats(e, T0 + 10, &res);
    assert_int_equal(mu64(stats_entry(&res.data, false, "q"), "delayed"), 1);
    assert_int_equal(mu64(stats_entry(&res.data, false, "q"), "depth"), 0);
    msgpack_unpacked_destroy(&res);
    assert_int_equal(expire(e, T0 + 5002, 3), 0);
    assert_int_equal(expire(e, T0 + 5003, 3), 1);
    stats(e, T0 + 10, &res);
    assert_int_equal(mu64(stats_entry(&res.data, false, "q"), "delayed"), 0);
    assert_int_equal(mu64(stats_entry(&res.data, false, "q"), "depth"), 1);
    msgpack_unpacked_destroy(&res);
    assert_int_equal(claim_id(e, "q", NULL, T0 + 5004, NULL), id);
}

struct results_acc {
    size_t          n;
    uint64_t        seqs[8];
    msgpack_sbuffer last;
};

static int
results_cb(void *arg, uint64_t seq, const uint8_t *body, size_t len)
{
    struct results_acc *a = arg;

    a->seqs[a->n++] = seq;
    a->last.size = 0;
    msgpack_sbuffer_write(&a->last, (const char *)body, len);
    return 0;
}

static void
test_resolve_result(void **state)
{
    struct fx_env *e = *state;
    uint64_t lease, seq;
    uint64_t auto_id = submit1(e, "auto", NULL, 0, 0, T0);
    uint64_t id = submit1(e, "x", "q", 1, 100, T0);
    struct queue_fx fx = { 0 };
    struct results_acc acc = { 0 };
    msgpack_unpacked res;
    MDB_txn *t;

    assert_int_equal(claim_id(e, "q", NULL, T0, &lease), id);
    t = wtxn(e);
    assert_int_equal(queue_resolve(e->s, t, id, lease, "approved", "looks fine", "docs",
                                   T0 + 50, &seq, &fx), HITLQ_ST_OK);
    assert_int_equal(seq, 2);
    assert_true(fx.results);
    assert_int_equal(queue_resolve(e->s, t, id, lease, "approved", NULL, NULL, T0 + 50,
                                   &seq, &fx), HITLQ_ST_STALE_LEASE);
    commit(t);

    msgpack_sbuffer_init(&acc.last);
    t = rtxn(e);
    assert_int_equal(queue_results_next(e->s, t), 3);
    assert_int_equal(queue_results_read(e->s, t, 1, 10, results_cb, &acc), 2);
    assert_int_equal(acc.seqs[0], 1);
    assert_int_equal(acc.seqs[1], 2);
    mdb_txn_abort(t);
    unpack(acc.last.data, acc.last.size, &res);
    assert_int_equal(res.data.via.map.size, 11);
    assert_int_equal(mu64(&res.data, "seq"), 2);
    assert_int_equal(mu64(&res.data, "id"), id);
    mstr_eq(&res.data, "key", "x");
    mstr_eq(&res.data, "type", "credit");
    mstr_eq(&res.data, "outcome", "approved");
    assert_false(mget(&res.data, "auto")->via.boolean);
    mstr_eq(&res.data, "actor", "alice");
    assert_true(mget(&res.data, "score")->via.f64 == 0.25);
    assert_int_equal(mu64(&res.data, "at_ms"), T0 + 50);
    mstr_eq(&res.data, "note", "looks fine");
    mstr_eq(&res.data, "root_cause", "docs");
    msgpack_unpacked_destroy(&res);

    acc.n = 0;
    t = rtxn(e);
    assert_int_equal(queue_results_read(e->s, t, 1, 1, results_cb, &acc), 1);
    mdb_txn_abort(t);
    unpack(acc.last.data, acc.last.size, &res);
    assert_int_equal(res.data.via.map.size, 9);
    assert_int_equal(mu64(&res.data, "id"), auto_id);
    mstr_eq(&res.data, "outcome", "approve");
    assert_true(mget(&res.data, "auto")->via.boolean);
    mstr_eq(&res.data, "actor", "model:m@1");
    msgpack_unpacked_destroy(&res);
    acc.n = 0;
    t = rtxn(e);
    assert_int_equal(queue_results_read(e->s, t, 3, 10, results_cb, &acc), 0);
    mdb_txn_abort(t);
    msgpack_sbuffer_destroy(&acc.last);

    get_item(e, id, &res);
    mstr_eq(&res.data, "state", "resolved");
    mstr_eq(&res.data, "outcome", "approved");
    msgpack_unpacked_destroy(&res);
    stats(e, T0 + 1000, &res);
    const msgpack_object *q = stats_entry(&res.data, false, "q");
    assert_int_equal(mu64(q, "depth") + mu64(q, "leased") + mu64(q, "delayed"), 0);
    assert_int_equal(mu64(q, "sla_breached"), 0);
    assert_int_equal(mu64(q, "oldest_age_ms"), 0);
    msgpack_unpacked_destroy(&res);
}

static void
test_escalate(void **state)
{
    struct fx_env *e = *state;
    uint64_t lease;
    uint64_t id = submit1(e, "x", "qa", 3, 100, T0);
    struct queue_fx fx = { 0 };
    msgpack_unpacked res;
    MDB_txn *t;

    assert_int_equal(claim_id(e, "qa", NULL, T0, &lease), id);
    t = wtxn(e);
    assert_int_equal(queue_escalate(e->s, t, id, lease, "senior", "too big", T0 + 1, &fx),
                     HITLQ_ST_OK);
    assert_string_equal(fx.woken[0], "senior");
    commit(t);
    assert_int_equal(claim_id(e, "qa", NULL, T0 + 2, NULL), 0);
    stats(e, T0 + 2, &res);
    assert_int_equal(mu64(stats_entry(&res.data, false, "senior"), "depth"), 1);
    assert_int_equal(mu64(stats_entry(&res.data, false, "senior"), "sla_breached"), 0);
    assert_int_equal(mu64(stats_entry(&res.data, false, "qa"), "leased"), 0);
    assert_int_equal(mu64(stats_entry(&res.data, false, "qa"), "oldest_age_ms"), 0);
    msgpack_unpacked_destroy(&res);
    assert_int_equal(claim_id(e, "senior", NULL, T0 + 3, NULL), id);
    get_item(e, id, &res);
    mstr_eq(&res.data, "queue", "senior");
    assert_int_equal(mu64(&res.data, "priority"), 3);
    assert_int_equal(mu64(&res.data, "deadline_ms"), T0 + 100);
    const msgpack_object *h = mget(&res.data, "history");
    const msgpack_object *ev = &h->via.array.ptr[4];
    mstr_eq(ev, "event", "escalated");
    mstr_eq(ev, "from", "qa");
    mstr_eq(ev, "to", "senior");
    mstr_eq(ev, "note", "too big");
    mstr_eq(ev, "actor", "alice");
    msgpack_unpacked_destroy(&res);
}

static void
test_expiry_dead_letter(void **state)
{
    struct fx_env *e = *state;
    uint64_t lease, exp;
    uint64_t id = submit1(e, "x", "q", 1, 100, T0);
    msgpack_unpacked res;
    struct queue_fx fx = { 0 };
    size_t done;
    MDB_txn *t;

    assert_int_equal(claim_id(e, "q", NULL, T0, &lease), id);
    assert_int_equal(expire(e, T0 + 9999, 2), 0);
    t = wtxn(e);
    assert_int_equal(queue_expire_due(e->s, t, T0 + 10000, 2, "dead_letter", 10, &done, &fx),
                     HITLQ_ST_OK);
    assert_int_equal(done, 1);
    assert_int_equal(fx.n_woken, 1);
    assert_string_equal(fx.woken[0], "q");
    commit(t);
    /* the old token is dead */
    t = wtxn(e);
    assert_int_equal(queue_extend(e->s, t, id, lease, 0, T0 + 10001, &exp), HITLQ_ST_STALE_LEASE);
    mdb_txn_abort(t);
    get_item(e, id, &res);
    assert_int_equal(mu64(&res.data, "attempts"), 1);
    mstr_eq(&res.data, "state", "queued");
    msgpack_unpacked_destroy(&res);

    assert_int_equal(claim_id(e, "q", NULL, T0 + 20000, &lease), id);
    assert_int_equal(expire(e, T0 + 30000, 2), 1);
    assert_int_equal(claim_id(e, "q", NULL, T0 + 30001, NULL), 0);
    get_item(e, id, &res);
    assert_int_equal(mu64(&res.data, "attempts"), 2);
    mstr_eq(&res.data, "queue", "dead_letter");
    const msgpack_object *h = mget(&res.data, "history");
    size_t n = h->via.array.size;
    mstr_eq(&h->via.array.ptr[n - 2], "event", "expired");
    assert_int_equal(mu64(&h->via.array.ptr[n - 2], "attempts"), 2);
    mstr_eq(&h->via.array.ptr[n - 1], "event", "dead_lettered");
    mstr_eq(&h->via.array.ptr[n - 1], "queue", "dead_letter");
    msgpack_unpacked_destroy(&res);
    stats(e, T0 + 30001, &res);
    assert_int_equal(mu64(stats_entry(&res.data, false, "q"), "depth"), 0);
    assert_int_equal(mu64(stats_entry(&res.data, false, "q"), "leased"), 0);
    assert_int_equal(mu64(stats_entry(&res.data, false, "dead_letter"), "depth"), 1);
    assert_int_equal(mu64(stats_entry(&res.data, false, "dead_letter"), "sla_breached"), 1);
    msgpack_unpacked_destroy(&res);
    assert_int_equal(claim_id(e, "dead_letter", NULL, T0 + 30002, NULL), id);
}

static void
test_next_timer(void **state)
{
    struct fx_env *e = *state;
    uint64_t lease;
    MDB_txn *t = rtxn(e);

    assert_int_equal(queue_next_timer(e->s, t), 0);
    mdb_txn_abort(t);
    submit1(e, "a", "q", 1, 100, T0);
    submit1(e, "b", "q", 1, 100, T0);
    claim_id(e, "q", NULL, T0 + 500, &lease);
    claim_id(e, "q", NULL, T0 + 100, &lease);
    t = rtxn(e);
    assert_int_equal(queue_next_timer(e->s, t), T0 + 10100);
    mdb_txn_abort(t);
    assert_int_equal(expire(e, T0 + 10100, 3), 1);
    t = rtxn(e);
    assert_int_equal(queue_next_timer(e->s, t), T0 + 10500);
    mdb_txn_abort(t);
    assert_int_equal(expire(e, T0 + 99999, 3), 1);
    t = rtxn(e);
    assert_int_equal(queue_next_timer(e->s, t), 0);
    mdb_txn_abort(t);
}

static void
test_get_history(void **state)
{
    struct fx_env *e = *state;
    static const char *const want[] = {
        "submitted", "scored", "queued", "claimed", "extended", "released",
        "claimed", "resolved",
    };
    uint64_t lease, exp, rdy, seq;
    uint64_t id = submit1(e, "x", "q", 4, 100, T0);
    msgpack_unpacked res;
    MDB_txn *t;

    get_item(e, id, &res);
    mstr_eq(&res.data, "state", "queued");
    assert_int_equal(mget(&res.data, "lease")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal(mget(&res.data, "outcome")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal(res.data.via.map.size, 18);
    msgpack_unpacked_destroy(&res);
    assert_int_equal(claim_id(e, "q", NULL, T0 + 1, &lease), id);
    get_item(e, id, &res);
    mstr_eq(&res.data, "state", "leased");
    mstr_eq(mget(&res.data, "lease"), "worker", "alice");
    assert_int_equal(mu64(mget(&res.data, "lease"), "expires_ms"), T0 + 10001);
    msgpack_unpacked_destroy(&res);
    t = wtxn(e);
    assert_int_equal(queue_extend(e->s, t, id, lease, 0, T0 + 2, &exp), HITLQ_ST_OK);
    assert_int_equal(queue_release(e->s, t, id, lease, 0, T0 + 3, &rdy, NULL), HITLQ_ST_OK);
    commit(t);
    assert_int_equal(claim_id(e, "q", NULL, T0 + 4, &lease), id);
    t = wtxn(e);
    assert_int_equal(queue_resolve(e->s, t, id, lease, "done", NULL, NULL, T0 + 5, &seq, NULL),
                     HITLQ_ST_OK);
    commit(t);

    get_item(e, id, &res);
    const msgpack_object *m = &res.data;
    assert_int_equal(mu64(m, "id"), id);
    mstr_eq(m, "key", "x");
    mstr_eq(m, "type", "credit");
    mstr_eq(m, "state", "resolved");
    mstr_eq(m, "queue", "q");
    assert_int_equal(mu64(m, "priority"), 4);
    assert_int_equal(mu64(m, "created_ms"), T0);
    assert_int_equal(mu64(m, "deadline_ms"), T0 + 100);
    mstr_eq(m, "outcome", "done");
    assert_int_equal(mget(m, "fields")->via.map.size, 1);
    const msgpack_object *h = mget(m, "history");
    assert_int_equal(h->via.array.size, 8);
    for (size_t i = 0; i < 8; i++) {
        mstr_eq(&h->via.array.ptr[i], "event", want[i]);
        assert_true(mu64(&h->via.array.ptr[i], "at_ms") >= T0);
    }
    mstr_eq(&h->via.array.ptr[0], "actor", "bot1");
    mstr_eq(&h->via.array.ptr[1], "actor", "model:m@1");
    mstr_eq(&h->via.array.ptr[1], "model", "m@1");
    mstr_eq(&h->via.array.ptr[2], "queue", "q");
    assert_int_equal(mu64(&h->via.array.ptr[2], "deadline_ms"), T0 + 100);
    mstr_eq(&h->via.array.ptr[3], "worker", "alice");
    assert_int_equal(mu64(&h->via.array.ptr[4], "expires_ms"), T0 + 10002);
    assert_int_equal(mu64(&h->via.array.ptr[5], "delay_ms"), 0);
    mstr_eq(&h->via.array.ptr[7], "outcome", "done");
    assert_int_equal(mget(&h->via.array.ptr[7], "note")->type, MSGPACK_OBJECT_NIL);
    msgpack_unpacked_destroy(&res);

    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    t = rtxn(e);
    assert_int_equal(queue_get(e->s, t, 12345, &pk), HITLQ_ST_NOT_FOUND);
    mdb_txn_abort(t);
    assert_int_equal(sb.size, 0);
    msgpack_sbuffer_destroy(&sb);
}

static void
test_stats(void **state)
{
    struct fx_env *e = *state;
    uint64_t lease, rdy;
    msgpack_unpacked res;
    MDB_txn *t;

    submit1(e, "a1", NULL, 0, 0, T0);
    submit1(e, "a2", NULL, 0, 0, T0);
    submit1(e, "q1", "q", 9, 1000, T0);          /* will be leased */
    uint64_t d = submit1(e, "q2", "q", 5, 1000, T0 + 100);  /* delayed */
    submit1(e, "q3", "q", 1, 5000, T0 + 200);    /* queued */
    submit1(e, "r1", "r", 1, 5000, T0 + 300);
    claim_id(e, "q", NULL, T0 + 400, &lease);
    assert_int_equal(claim_id(e, "q", NULL, T0 + 400, &lease), d);
    t = wtxn(e);
    assert_int_equal(queue_release(e->s, t, d, lease, 60000, T0 + 500, &rdy, NULL), HITLQ_ST_OK);
    commit(t);

    stats(e, T0 + 2000, &res);
    const msgpack_object *m = &res.data;
    assert_int_equal(mu64(m, "time_ms"), T0 + 2000);
    assert_int_equal(mu64(m, "results"), 3);
    assert_int_equal(mget(m, "queues")->via.array.size, 2);
    const msgpack_object *q = stats_entry(m, false, "q");
    assert_int_equal(mu64(q, "depth"), 1);
    assert_int_equal(mu64(q, "leased"), 1);
    assert_int_equal(mu64(q, "delayed"), 1);
    assert_int_equal(mu64(q, "oldest_age_ms"), 2000);
    assert_int_equal(mu64(q, "sla_breached"), 2);
    const msgpack_object *r = stats_entry(m, false, "r");
    assert_int_equal(mu64(r, "depth"), 1);
    assert_int_equal(mu64(r, "oldest_age_ms"), 1700);
    assert_int_equal(mu64(r, "sla_breached"), 0);
    const msgpack_object *ty = stats_entry(m, true, "credit");
    assert_int_equal(mu64(ty, "submitted"), 6);
    assert_int_equal(mu64(ty, "auto_resolved"), 2);
    assert_int_equal(mu64(ty, "queued"), 4);
    assert_true(mget(ty, "auto_rate")->via.f64 > 0.333 && mget(ty, "auto_rate")->via.f64 < 0.334);
    msgpack_unpacked_destroy(&res);
}

/* An auto item drawn for the QA sample gets a blind copy on the QA queue:
 * next id, key "qa:<id>", no idempotency entry, no score or reasons shown,
 * the original's fields; a duplicate SUBMIT does not make another. */
static void
test_qa_copy(void **state)
{
    struct fx_env *e = *state;
    struct decision d;
    struct queue_fx fx = { 0 };
    struct claim_out out;
    msgpack_unpacked res;
    bool dup;
    MDB_txn *t = wtxn(e);

    memset(&d, 0, sizeof(d));
    assert_int_equal(submit_tx(e, t, "k-qa", NULL, 0, 0, 1, T0, &d, &dup, &fx), HITLQ_ST_OK);
    commit(t);
    decision_clear(&d);
    /* an auto item with the QA draw set */
    t = wtxn(e);
    struct submit_in in = { .key = "k-qa3", .type = "credit", .fields = fields_mp,
                            .fields_len = sizeof(fields_mp), .actor = "bot1" };
    memset(in.content_hash, 3, 16);
    memset(&d, 0, sizeof(d));
    d.outcome = DECISION_AUTO;
    d.route = 1;
    d.method = 2;
    snprintf(d.action, sizeof(d.action), "approve");
    snprintf(d.model, sizeof(d.model), "m@1");
    d.score = 0.99;
    d.qa = true;
    snprintf(d.qa_queue, sizeof(d.qa_queue), "qa");
    d.qa_priority = 7;
    d.qa_sla_ms = 5000;
    assert_int_equal(queue_submit(e->s, t, &in, T0, &d, &dup, &fx), HITLQ_ST_OK);
    commit(t);
    assert_int_equal(d.qa_id, d.id + 1);
    uint64_t orig = d.id;
    decision_clear(&d);

    char want_key[32];
    snprintf(want_key, sizeof(want_key), "qa:%llu", (unsigned long long)orig);
    get_item(e, orig + 1, &res);
    mstr_eq(&res.data, "key", want_key);
    mstr_eq(&res.data, "queue", "qa");
    mstr_eq(&res.data, "route", "qa_sample");
    assert_int_equal(mget(&res.data, "score")->type, MSGPACK_OBJECT_NIL);
    mstr_eq(&res.data, "model", "");
    assert_int_equal(mget(&res.data, "reasons")->via.array.size, 0);
    assert_int_equal(mget(&res.data, "fields")->via.map.size, 1);
    assert_int_equal(mu64(&res.data, "priority"), 7);
    assert_int_equal(mu64(&res.data, "deadline_ms"), T0 + 5000);
    msgpack_unpacked_destroy(&res);
    get_item(e, orig, &res);
    mstr_eq(&res.data, "route", "auto_approve");
    mstr_eq(&res.data, "explain", "approx");
    mstr_eq(&res.data, "state", "resolved");
    msgpack_unpacked_destroy(&res);

    /* the copy is claimable on its queue; the duplicate makes no new copy */
    assert_int_equal(claim_q(e, "qa", NULL, T0 + 1, &out), HITLQ_ST_OK);
    assert_int_equal(out.id, orig + 1);
    free(out.reply_mp);
    t = wtxn(e);
    memset(&d, 0, sizeof(d));
    d.outcome = DECISION_AUTO;
    d.qa = true;
    snprintf(d.qa_queue, sizeof(d.qa_queue), "qa");
    assert_int_equal(queue_submit(e->s, t, &in, T0 + 2, &d, &dup, &fx), HITLQ_ST_OK);
    assert_true(dup);
    assert_int_equal(d.id, orig);
    assert_true(d.qa);
    assert_int_equal(d.qa_id, orig + 1);
    commit(t);
    decision_clear(&d);
    assert_int_equal(claim_q(e, "qa", NULL, T0 + 3, &out), HITLQ_ST_EMPTY);
}

static void
test_restart(void **state)
{
    struct fx_env *e = *state;
    uint64_t lease, lease2, exp, rdy, seq;
    uint64_t a = submit1(e, "a", "q", 2, 100, T0);
    uint64_t b = submit1(e, "b", "q", 1, 100, T0);
    uint64_t c = submit1(e, "c", "q", 0, 100, T0);
    MDB_txn *t;

    assert_int_equal(claim_id(e, "q", NULL, T0, &lease), a);
    assert_int_equal(claim_id(e, "q", NULL, T0, &lease2), b);
    t = wtxn(e);
    assert_int_equal(queue_release(e->s, t, b, lease2, 1000, T0, &rdy, NULL), HITLQ_ST_OK);
    commit(t);
    env_reopen(e);

    t = wtxn(e);
    assert_int_equal(queue_extend(e->s, t, a, lease, 0, T0 + 1, &exp), HITLQ_ST_OK);
    assert_int_equal(queue_next_timer(e->s, t), T0 + 1000);
    commit(t);
    assert_int_equal(expire(e, T0 + 1000, 3), 1);
    assert_int_equal(claim_id(e, "q", NULL, T0 + 1001, &lease2), b);
    assert_int_equal(claim_id(e, "q", NULL, T0 + 1001, NULL), c);
    env_reopen(e);
    t = wtxn(e);
    assert_int_equal(queue_resolve(e->s, t, a, lease, "ok", NULL, NULL, T0 + 2, &seq, NULL),
                     HITLQ_ST_OK);
    assert_int_equal(seq, 1);
    commit(t);
    env_reopen(e);
    assert_int_equal(submit1(e, "d", "q", 0, 100, T0), 4);
    t = rtxn(e);
    assert_int_equal(queue_results_next(e->s, t), 2);
    mdb_txn_abort(t);
}

static void
test_volume(void **state)
{
    struct fx_env *e = *state;
    enum { N = 100000, BATCH = 1000 };
    struct decision d;
    struct queue_fx fx;
    bool dup;
    char key[32];
    msgpack_unpacked res;

    for (int i = 0; i < N; i += BATCH) {
        MDB_txn *t = wtxn(e);

        memset(&fx, 0, sizeof(fx));
        for (int j = i; j < i + BATCH; j++) {
            snprintf(key, sizeof(key), "k%d", j);
            assert_int_equal(submit_tx(e, t, key, j % 4 ? "q" : NULL, (uint32_t)(j % 7), 1000,
                                       1, T0 + (uint64_t)j, &d, &dup, &fx), HITLQ_ST_OK);
            assert_int_equal(d.id, (uint64_t)j + 1);
            decision_clear(&d);
        }
        commit(t);
    }
    stats(e, T0 + N, &res);
    assert_int_equal(mu64(stats_entry(&res.data, false, "q"), "depth"), N - N / 4);
    assert_int_equal(mu64(stats_entry(&res.data, true, "credit"), "submitted"), N);
    assert_int_equal(mu64(&res.data, "results"), N / 4 + 1);
    msgpack_unpacked_destroy(&res);
    /* highest priority first, then earliest deadline */
    assert_int_equal(claim_id(e, "q", NULL, T0, NULL), 7);
    assert_int_equal(claim_id(e, "q", NULL, T0, NULL), 14);
}

static void
test_schema_and_map_full(void **state)
{
    struct fx_env *e = *state;
    struct decision d;
    bool dup;
    char key[32], err[256];
    uint8_t v[4] = { 0, 0, 0, 99 };
    MDB_val k = { 6, (void *)"schema" }, dv = { 4, v };
    int st = HITLQ_ST_OK;
    MDB_txn *t;

    /* a small map fills up: RESOURCE_EXHAUSTED, then the txn is aborted */
    store_close(e->s);
    assert_int_equal(store_open(&e->s, e->dir, 1u << 20, err, sizeof(err)), 0);
    t = wtxn(e);
    for (int i = 0; i < 100000 && st == HITLQ_ST_OK; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        st = submit_tx(e, t, key, "q", 1, 10, 1, T0, &d, &dup, NULL);
        decision_clear(&d);
    }
    assert_int_equal(st, HITLQ_ST_RESOURCE_EXHAUSTED);
    mdb_txn_abort(t);
    assert_int_equal(submit1(e, "after", "q", 1, 10, T0), 1);

    /* an unknown schema version is refused with a message */
    t = wtxn(e);
    assert_int_equal(mdb_put(t, e->s->meta, &k, &dv, 0), 0);
    commit(t);
    store_close(e->s);
    e->s = NULL;
    err[0] = '\0';
    assert_int_equal(store_open(&e->s, e->dir, 1u << 20, err, sizeof(err)), -1);
    assert_null(e->s);
    assert_non_null(strstr(err, "schema version 99"));
}

/* ---- record layout (item.h): compact reasons, names, implied history ---- */

/* {a: 1, b: "xy"} */
static const uint8_t fields2_mp[] = { 0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0xa2, 'x', 'y' };
/* As the scoring core packs them: [{feature, value, contribution}...]:
 * "a" = 1 (the field's bytes: stored as a reference), "z" = nil (no such
 * field: inline), "b" = "xz" (not the field's value: inline). */
static const uint8_t reasons3_mp[] = {
    0x93,
    0x83, 0xa7, 'f', 'e', 'a', 't', 'u', 'r', 'e', 0xa1, 'a', 0xa5, 'v', 'a', 'l', 'u', 'e',
    0x01, 0xac, 'c', 'o', 'n', 't', 'r', 'i', 'b', 'u', 't', 'i', 'o', 'n',
    0xcb, 0x3f, 0xea, 0x1f, 0x4d, 0xab, 0x45, 0xe6, 0x3c,
    0x83, 0xa7, 'f', 'e', 'a', 't', 'u', 'r', 'e', 0xa1, 'z', 0xa5, 'v', 'a', 'l', 'u', 'e',
    0xc0, 0xac, 'c', 'o', 'n', 't', 'r', 'i', 'b', 'u', 't', 'i', 'o', 'n',
    0xcb, 0xbf, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a,
    0x83, 0xa7, 'f', 'e', 'a', 't', 'u', 'r', 'e', 0xa1, 'b', 0xa5, 'v', 'a', 'l', 'u', 'e',
    0xa2, 'x', 'z', 0xac, 'c', 'o', 'n', 't', 'r', 'i', 'b', 'u', 't', 'i', 'o', 'n',
    0xcb, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

/* Submits with fields2_mp and the given reasons and actor. */
static int
submit_rs(struct fx_env *e, const char *key, const char *queue, const uint8_t *rs,
          size_t rs_len, const char *actor, uint64_t now, struct decision *d, bool *dup)
{
    struct submit_in in = {
        .key = key, .type = "credit", .fields = fields2_mp,
        .fields_len = sizeof(fields2_mp), .actor = actor,
    };
    MDB_txn *t = wtxn(e);
    int st;

    memset(in.content_hash, 3, 16);
    memset(d, 0, sizeof(*d));
    d->outcome = queue ? DECISION_QUEUED : DECISION_AUTO;
    snprintf(d->action, sizeof(d->action), "approve");
    snprintf(d->queue, sizeof(d->queue), "%s", queue ? queue : "");
    snprintf(d->model, sizeof(d->model), "m@1");
    d->priority = 2;
    d->sla_ms = 500;
    d->score = 0.5;
    d->reasons_mp = malloc(rs_len ? rs_len : 1);
    if (rs_len > 0)
        memcpy(d->reasons_mp, rs, rs_len);
    d->reasons_len = rs_len;
    st = queue_submit(e->s, t, &in, now, d, dup, NULL);
    commit(t);
    return st;
}

/* The raw bytes of GET's "reasons" equal want. */
static void
get_reasons_eq(struct fx_env *e, uint64_t id, const uint8_t *want, size_t len)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    static const char key[] = "\xa7reasons";
    MDB_txn *t = rtxn(e);

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(queue_get(e->s, t, id, &pk), HITLQ_ST_OK);
    mdb_txn_abort(t);
    const char *at = memmem(sb.data, sb.size, key, sizeof(key) - 1);
    assert_non_null(at);
    at += sizeof(key) - 1;
    assert_true((size_t)(sb.data + sb.size - at) >= len);
    assert_memory_equal(at, want, len);
    msgpack_sbuffer_destroy(&sb);
}

/* Size of item id's record in the items db. */
static size_t
rec_size(struct fx_env *e, uint64_t id)
{
    uint8_t kb[8];
    MDB_val k = { 8, kb }, v;
    MDB_txn *t = rtxn(e);

    store_put_be64(kb, id);
    assert_int_equal(mdb_get(t, e->s->items, &k, &v), 0);
    mdb_txn_abort(t);
    return v.mv_size;
}

static size_t
hist_entries(struct fx_env *e)
{
    MDB_stat st;
    MDB_txn *t = rtxn(e);

    assert_int_equal(mdb_stat(t, e->s->hist, &st), 0);
    mdb_txn_abort(t);
    return st.ms_entries;
}

static void
test_record_reasons(void **state)
{
    struct fx_env *e = *state;
    static const uint8_t empty[] = { 0x90 };
    struct decision d;
    bool dup;

    /* compactable (references and inline values), raw, empty array, none */
    assert_int_equal(submit_rs(e, "r1", "q", reasons3_mp, sizeof(reasons3_mp), "bot1",
                               T0, &d, &dup), HITLQ_ST_OK);
    decision_clear(&d);
    assert_int_equal(submit_rs(e, "r2", "q", reasons_mp, sizeof(reasons_mp), "bot1",
                               T0, &d, &dup), HITLQ_ST_OK);
    decision_clear(&d);
    assert_int_equal(submit_rs(e, "r3", NULL, empty, sizeof(empty), "bot1", T0, &d, &dup),
                     HITLQ_ST_OK);
    decision_clear(&d);
    assert_int_equal(submit_rs(e, "r4", NULL, NULL, 0, "bot1", T0, &d, &dup), HITLQ_ST_OK);
    decision_clear(&d);
    /* r1's reasons are stored compact: well under their 108 bytes */
    assert_true(rec_size(e, 1) < rec_size(e, 4) + sizeof(reasons3_mp) / 2);
    get_reasons_eq(e, 1, reasons3_mp, sizeof(reasons3_mp));
    get_reasons_eq(e, 2, reasons_mp, sizeof(reasons_mp));
    get_reasons_eq(e, 3, empty, sizeof(empty));
    get_reasons_eq(e, 4, empty, sizeof(empty));   /* none: an empty array */

    /* a duplicate gets the exact bytes back */
    assert_int_equal(submit_rs(e, "r1", "q", NULL, 0, "bot1", T0 + 1, &d, &dup), HITLQ_ST_OK);
    assert_true(dup);
    assert_int_equal(d.reasons_len, sizeof(reasons3_mp));
    assert_memory_equal(d.reasons_mp, reasons3_mp, sizeof(reasons3_mp));
    decision_clear(&d);
    assert_int_equal(submit_rs(e, "r4", NULL, NULL, 0, "bot1", T0 + 1, &d, &dup), HITLQ_ST_OK);
    assert_true(dup);
    assert_int_equal(d.reasons_len, 0);
    decision_clear(&d);

    /* and the CLAIM reply too */
    struct claim_out out;
    assert_int_equal(claim_q(e, "q", NULL, T0 + 2, &out), HITLQ_ST_OK);
    assert_int_equal(out.id, 1);
    assert_non_null(memmem(out.reply_mp, out.reply_len, reasons3_mp, sizeof(reasons3_mp)));
    free(out.reply_mp);
}

static void
test_record_names_and_history(void **state)
{
    struct fx_env *e = *state;
    char worker[HITLQ_MAX_NAME + 1], outcome[HITLQ_MAX_NAME + 1];
    char queue[HITLQ_MAX_QUEUE_NAME + 1];
    struct claim_in ci = { .n_queues = 1, .lease_ms = 1000 };
    struct claim_out out;
    struct decision d;
    msgpack_unpacked res;
    uint64_t seq;
    bool dup;
    MDB_txn *t;

    memset(worker, 'w', HITLQ_MAX_NAME);
    worker[HITLQ_MAX_NAME] = '\0';
    memset(outcome, 'o', HITLQ_MAX_NAME);
    outcome[HITLQ_MAX_NAME] = '\0';
    memset(queue, 'q', HITLQ_MAX_QUEUE_NAME);
    queue[HITLQ_MAX_QUEUE_NAME] = '\0';

    /* auto-resolved, anonymous submitter: three implied events */
    assert_int_equal(submit_rs(e, "a", NULL, reasons3_mp, sizeof(reasons3_mp), NULL,
                               T0 + 5, &d, &dup), HITLQ_ST_OK);
    decision_clear(&d);
    assert_int_equal(submit_rs(e, "b", queue, NULL, 0, "bot2", T0 + 6, &d, &dup),
                     HITLQ_ST_OK);
    decision_clear(&d);
    assert_int_equal(hist_entries(e), 0);         /* submit events are implied */
    get_item(e, 1, &res);
    const msgpack_object *h = mget(&res.data, "history");
    assert_int_equal(h->via.array.size, 3);
    mstr_eq(&h->via.array.ptr[0], "event", "submitted");
    mstr_eq(&h->via.array.ptr[0], "actor", "anonymous");
    assert_int_equal(h->via.array.ptr[0].via.map.size, 3);
    mstr_eq(&h->via.array.ptr[1], "event", "scored");
    mstr_eq(&h->via.array.ptr[1], "actor", "model:m@1");
    assert_true(mget(&h->via.array.ptr[1], "score")->via.f64 == 0.5);
    mstr_eq(&h->via.array.ptr[2], "event", "auto_resolved");
    mstr_eq(&h->via.array.ptr[2], "actor", "model:m@1");
    mstr_eq(&h->via.array.ptr[2], "action", "approve");
    for (int i = 0; i < 3; i++)
        assert_int_equal(mu64(&h->via.array.ptr[i], "at_ms"), T0 + 5);
    mstr_eq(&res.data, "outcome", "approve");
    msgpack_unpacked_destroy(&res);

    /* the longest names survive header rewrites of other lengths */
    snprintf(ci.queues[0], sizeof(ci.queues[0]), "%s", queue);
    snprintf(ci.worker, sizeof(ci.worker), "%s", worker);
    t = wtxn(e);
    assert_int_equal(queue_claim(e->s, t, &ci, T0 + 7, &out), HITLQ_ST_OK);
    commit(t);
    free(out.reply_mp);
    assert_int_equal(hist_entries(e), 1);
    get_item(e, 2, &res);
    mstr_eq(&res.data, "queue", queue);
    mstr_eq(mget(&res.data, "lease"), "worker", worker);
    msgpack_unpacked_destroy(&res);
    t = wtxn(e);
    assert_int_equal(queue_resolve(e->s, t, 2, out.lease, outcome, NULL, NULL, T0 + 8,
                                   &seq, NULL), HITLQ_ST_OK);
    commit(t);
    env_reopen(e);
    get_item(e, 2, &res);
    mstr_eq(&res.data, "state", "resolved");
    mstr_eq(&res.data, "outcome", outcome);
    mstr_eq(&res.data, "queue", queue);
    assert_int_equal(mu64(&res.data, "created_ms"), T0 + 6);
    assert_int_equal(mu64(&res.data, "deadline_ms"), T0 + 506);
    h = mget(&res.data, "history");
    assert_int_equal(h->via.array.size, 5);
    mstr_eq(&h->via.array.ptr[0], "actor", "bot2");
    mstr_eq(&h->via.array.ptr[2], "event", "queued");
    mstr_eq(&h->via.array.ptr[2], "actor", "system");
    mstr_eq(&h->via.array.ptr[2], "queue", queue);
    assert_int_equal(mu64(&h->via.array.ptr[2], "priority"), 2);
    assert_int_equal(mu64(&h->via.array.ptr[2], "deadline_ms"), T0 + 506);
    mstr_eq(&h->via.array.ptr[3], "event", "claimed");
    mstr_eq(&h->via.array.ptr[3], "worker", worker);
    mstr_eq(&h->via.array.ptr[4], "event", "resolved");
    mstr_eq(&h->via.array.ptr[4], "actor", worker);
    mstr_eq(&h->via.array.ptr[4], "outcome", outcome);
    msgpack_unpacked_destroy(&res);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_submit_idempotency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_lease, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_result, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escalate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_dead_letter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qa_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_volume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_and_map_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_names_and_history, setup, teardown),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
