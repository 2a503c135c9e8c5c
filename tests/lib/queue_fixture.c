/*
 * queue_fixture.c - the per-test LMDB store and the submit/claim/GET/STATS
 * helpers of the queue state-machine unit tests (queue_fixture.h).
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

#include "queue_fixture.h"

/* ---- fixture -------------------------------------------------------- */

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static void
env_open(struct qfx_env *e)
{
    char err[256];

    assert_int_equal(store_open(&e->s, e->dir, 256u << 20, err, sizeof(err)), 0);
}

int
qfx_setup(void **state)
{
    struct qfx_env *e = calloc(1, sizeof(*e));

    snprintf(e->dir, sizeof(e->dir), "/tmp/hitlq-tq-XXXXXX");
    if (mkdtemp(e->dir) == NULL)
        return -1;
    env_open(e);
    *state = e;
    return 0;
}

int
qfx_teardown(void **state)
{
    struct qfx_env *e = *state;

    store_close(e->s);
    nftw(e->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    free(e);
    return 0;
}

void
qfx_reopen(struct qfx_env *e)
{
    store_close(e->s);
    env_open(e);
}

MDB_txn *
qfx_wtxn(struct qfx_env *e)
{
    MDB_txn *t;

    assert_int_equal(mdb_txn_begin(e->s->env, NULL, 0, &t), 0);
    return t;
}

MDB_txn *
qfx_rtxn(struct qfx_env *e)
{
    MDB_txn *t;

    assert_int_equal(mdb_txn_begin(e->s->env, NULL, MDB_RDONLY, &t), 0);
    return t;
}

void
qfx_commit(MDB_txn *t)
{
    assert_int_equal(mdb_txn_commit(t), 0);
}

/* ---- helpers ---------------------------------------------------------- */

const uint8_t qfx_fields_mp[4] = { 0x81, 0xa1, 'a', 0x01 };     /* {a: 1} */

const uint8_t qfx_reasons_mp[5] = { 0x91, 0x81, 0xa1, 'f', 0xc3 }; /* [{f:true}] */

/* Submits `key` (queue NULL = auto-resolved "approve"). */
int
qfx_submit_tx(struct qfx_env *e, MDB_txn *t, const char *key, const char *queue,
              uint32_t prio, uint64_t sla, uint8_t hash, uint64_t now,
              struct decision *d, bool *dup, struct queue_fx *fx)
{
    struct submit_in in = {
        .key = key, .type = "credit", .fields = qfx_fields_mp,
        .fields_len = sizeof(qfx_fields_mp), .actor = "bot1",
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
    d->reasons_mp = malloc(sizeof(qfx_reasons_mp));
    memcpy(d->reasons_mp, qfx_reasons_mp, sizeof(qfx_reasons_mp));
    d->reasons_len = sizeof(qfx_reasons_mp);
    (void)e;
    return queue_submit(e->s, t, &in, now, d, dup, fx);
}

uint64_t
qfx_submit1(struct qfx_env *e, const char *key, const char *queue, uint32_t prio,
            uint64_t sla, uint64_t now)
{
    struct decision d;
    struct queue_fx fx = { 0 };
    bool dup;
    MDB_txn *t = qfx_wtxn(e);

    assert_int_equal(qfx_submit_tx(e, t, key, queue, prio, sla, 1, now, &d, &dup, &fx),
                     HITLQ_ST_OK);
    assert_false(dup);
    qfx_commit(t);
    decision_clear(&d);
    return d.id;
}

int
qfx_claim_q(struct qfx_env *e, const char *q1, const char *q2, uint64_t now,
            struct claim_out *out)
{
    struct claim_in in = { .n_queues = q2 ? 2 : 1, .lease_ms = 10000 };
    MDB_txn *t = qfx_wtxn(e);
    int st;

    snprintf(in.queues[0], sizeof(in.queues[0]), "%s", q1);
    if (q2)
        snprintf(in.queues[1], sizeof(in.queues[1]), "%s", q2);
    snprintf(in.worker, sizeof(in.worker), "alice");
    st = queue_claim(e->s, t, &in, now, out);
    qfx_commit(t);
    return st;
}

uint64_t
qfx_claim_id(struct qfx_env *e, const char *q1, const char *q2, uint64_t now, uint64_t *lease)
{
    struct claim_out out;
    int st = qfx_claim_q(e, q1, q2, now, &out);

    if (st != HITLQ_ST_OK)
        return 0;
    free(out.reply_mp);
    if (lease)
        *lease = out.lease;
    return out.id;
}

size_t
qfx_expire(struct qfx_env *e, uint64_t now, uint32_t max_attempts)
{
    size_t done = 0;
    MDB_txn *t = qfx_wtxn(e);

    assert_int_equal(queue_expire_due(e->s, t, now, max_attempts, "dead_letter",
                                      100, &done, NULL), HITLQ_ST_OK);
    qfx_commit(t);
    return done;
}

/* msgpack lookup by key in a map object. */
const msgpack_object *
qfx_mget(const msgpack_object *m, const char *k)
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

uint64_t
qfx_mu64(const msgpack_object *m, const char *k)
{
    const msgpack_object *o = qfx_mget(m, k);

    assert_non_null(o);
    assert_int_equal(o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    return o->via.u64;
}

void
qfx_mstr_eq(const msgpack_object *m, const char *k, const char *want)
{
    const msgpack_object *o = qfx_mget(m, k);

    assert_non_null(o);
    assert_int_equal(o->type, MSGPACK_OBJECT_STR);
    assert_int_equal(o->via.str.size, strlen(want));
    assert_memory_equal(o->via.str.ptr, want, strlen(want));
}

/* Unpacks buf into *res; the result owns a copy of the bytes (strings in
 * it stay valid after buf is freed). */
void
qfx_unpack(const void *buf, size_t len, msgpack_unpacked *res)
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
void
qfx_get_item(struct qfx_env *e, uint64_t id, msgpack_unpacked *res)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    MDB_txn *t = qfx_rtxn(e);

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(queue_get(e->s, t, id, &pk), HITLQ_ST_OK);
    mdb_txn_abort(t);
    qfx_unpack(sb.data, sb.size, res);
    msgpack_sbuffer_destroy(&sb);
}

void
qfx_stats(struct qfx_env *e, uint64_t now, msgpack_unpacked *res)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    MDB_txn *t = qfx_rtxn(e);

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(queue_stats(e->s, t, now, &pk), HITLQ_ST_OK);
    mdb_txn_abort(t);
    qfx_unpack(sb.data, sb.size, res);
    msgpack_sbuffer_destroy(&sb);
}

/* The stats entry of queue q (or type q when types is true). */
const msgpack_object *
qfx_stats_entry(const msgpack_object *st, bool types, const char *q)
{
    const msgpack_object *a = qfx_mget(st, types ? "types" : "queues");

    for (uint32_t i = 0; i < a->via.array.size; i++) {
        const msgpack_object *o = qfx_mget(&a->via.array.ptr[i], types ? "type" : "queue");

        if (o->via.str.size == strlen(q) && memcmp(o->via.str.ptr, q, strlen(q)) == 0)
            return &a->via.array.ptr[i];
    }
    fail_msg("no stats entry %s", q);
    return NULL;
}
