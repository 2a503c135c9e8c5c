/*
 * test_queue_record.c - what the queue keeps in LMDB (tests/lib/
 * queue_fixture.h: a fresh mkdtemp directory per test, time driven by
 * hand): state across a restart, a volume run, schema and map-full
 * errors, and the compact record (item.h): reasons, long names, the
 * submit-time history rebuilt from the record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "queue_fixture.h"

/* ---- cases ----------------------------------------------------------------- */

static void
test_restart(void **state)
{
    struct qfx_env *e = *state;
    uint64_t lease, lease2, exp, rdy, seq;
    uint64_t a = qfx_submit1(e, "a", "q", 2, 100, QFX_T0);
    uint64_t b = qfx_submit1(e, "b", "q", 1, 100, QFX_T0);
    uint64_t c = qfx_submit1(e, "c", "q", 0, 100, QFX_T0);
    MDB_txn *t;

    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0, &lease), a);
    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0, &lease2), b);
    t = qfx_wtxn(e);
    assert_int_equal(queue_release(e->s, t, b, lease2, 1000, QFX_T0, &rdy, NULL), HITLQ_ST_OK);
    qfx_commit(t);
    qfx_reopen(e);

    t = qfx_wtxn(e);
    assert_int_equal(queue_extend(e->s, t, a, lease, 0, QFX_T0 + 1, &exp), HITLQ_ST_OK);
    assert_int_equal(queue_next_timer(e->s, t), QFX_T0 + 1000);
    qfx_commit(t);
    assert_int_equal(qfx_expire(e, QFX_T0 + 1000, 3), 1);
    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0 + 1001, &lease2), b);
    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0 + 1001, NULL), c);
    qfx_reopen(e);
    t = qfx_wtxn(e);
    assert_int_equal(queue_resolve(e->s, t, a, lease, "ok", NULL, NULL, QFX_T0 + 2, &seq, NULL),
                     HITLQ_ST_OK);
    assert_int_equal(seq, 1);
    qfx_commit(t);
    qfx_reopen(e);
    assert_int_equal(qfx_submit1(e, "d", "q", 0, 100, QFX_T0), 4);
    t = qfx_rtxn(e);
    assert_int_equal(queue_results_next(e->s, t), 2);
    mdb_txn_abort(t);
}

static void
test_volume(void **state)
{
    struct qfx_env *e = *state;
    enum { N = 100000, BATCH = 1000 };
    struct decision d;
    struct queue_fx fx;
    bool dup;
    char key[32];
    msgpack_unpacked res;

    for (int i = 0; i < N; i += BATCH) {
        MDB_txn *t = qfx_wtxn(e);

        memset(&fx, 0, sizeof(fx));
        for (int j = i; j < i + BATCH; j++) {
            snprintf(key, sizeof(key), "k%d", j);
            assert_int_equal(qfx_submit_tx(e, t, key, j % 4 ? "q" : NULL, (uint32_t)(j % 7), 1000,
                                           1, QFX_T0 + (uint64_t)j, &d, &dup, &fx), HITLQ_ST_OK);
            assert_int_equal(d.id, (uint64_t)j + 1);
            decision_clear(&d);
        }
        qfx_commit(t);
    }
    qfx_stats(e, QFX_T0 + N, &res);
    assert_int_equal(qfx_mu64(qfx_stats_entry(&res.data, false, "q"), "depth"), N - N / 4);
    assert_int_equal(qfx_mu64(qfx_stats_entry(&res.data, true, "credit"), "submitted"), N);
    assert_int_equal(qfx_mu64(&res.data, "results"), N / 4 + 1);
    msgpack_unpacked_destroy(&res);
    /* highest priority first, then earliest deadline */
    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0, NULL), 7);
    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0, NULL), 14);
}

static void
test_schema_and_map_full(void **state)
{
    struct qfx_env *e = *state;
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
    t = qfx_wtxn(e);
    for (int i = 0; i < 100000 && st == HITLQ_ST_OK; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        st = qfx_submit_tx(e, t, key, "q", 1, 10, 1, QFX_T0, &d, &dup, NULL);
        decision_clear(&d);
    }
    assert_int_equal(st, HITLQ_ST_RESOURCE_EXHAUSTED);
    mdb_txn_abort(t);
    assert_int_equal(qfx_submit1(e, "after", "q", 1, 10, QFX_T0), 1);

    /* an unknown schema version is refused with a message */
    t = qfx_wtxn(e);
    assert_int_equal(mdb_put(t, e->s->meta, &k, &dv, 0), 0);
    qfx_commit(t);
    store_close(e->s);
    e->s = NULL;
    err[0] = '\0';
    assert_int_equal(store_open(&e->s, e->dir, 1u << 20, err, sizeof(err)), -1);
    assert_null(e->s);
    assert_non_null(strstr(err, "schema version 99"));
}

/* ---- record layout (item.h): compact reasons, names, implied history ------- */

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
submit_rs(struct qfx_env *e, const char *key, const char *queue, const uint8_t *rs,
          size_t rs_len, const char *actor, uint64_t now, struct decision *d, bool *dup)
{
    struct submit_in in = {
        .key = key, .type = "credit", .fields = fields2_mp,
        .fields_len = sizeof(fields2_mp), .actor = actor,
    };
    MDB_txn *t = qfx_wtxn(e);
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
    qfx_commit(t);
    return st;
}

/* The raw bytes of GET's "reasons" equal want. */
static void
get_reasons_eq(struct qfx_env *e, uint64_t id, const uint8_t *want, size_t len)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    static const char key[] = "\xa7reasons";
    MDB_txn *t = qfx_rtxn(e);

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
rec_size(struct qfx_env *e, uint64_t id)
{
    uint8_t kb[8];
    MDB_val k = { 8, kb }, v;
    MDB_txn *t = qfx_rtxn(e);

    store_put_be64(kb, id);
    assert_int_equal(mdb_get(t, e->s->items, &k, &v), 0);
    mdb_txn_abort(t);
    return v.mv_size;
}

static size_t
hist_entries(struct qfx_env *e)
{
    MDB_stat st;
    MDB_txn *t = qfx_rtxn(e);

    assert_int_equal(mdb_stat(t, e->s->hist, &st), 0);
    mdb_txn_abort(t);
    return st.ms_entries;
}

static void
test_record_reasons(void **state)
{
    struct qfx_env *e = *state;
    static const uint8_t empty[] = { 0x90 };
    struct decision d;
    bool dup;

    /* compactable (references and inline values), raw, empty array, none */
    assert_int_equal(submit_rs(e, "r1", "q", reasons3_mp, sizeof(reasons3_mp), "bot1",
                               QFX_T0, &d, &dup), HITLQ_ST_OK);
    decision_clear(&d);
    assert_int_equal(submit_rs(e, "r2", "q", qfx_reasons_mp, sizeof(qfx_reasons_mp), "bot1",
                               QFX_T0, &d, &dup), HITLQ_ST_OK);
    decision_clear(&d);
    assert_int_equal(submit_rs(e, "r3", NULL, empty, sizeof(empty), "bot1", QFX_T0, &d, &dup),
                     HITLQ_ST_OK);
    decision_clear(&d);
    assert_int_equal(submit_rs(e, "r4", NULL, NULL, 0, "bot1", QFX_T0, &d, &dup), HITLQ_ST_OK);
    decision_clear(&d);
    /* r1's reasons are stored compact: well under their 108 bytes */
    assert_true(rec_size(e, 1) < rec_size(e, 4) + sizeof(reasons3_mp) / 2);
    get_reasons_eq(e, 1, reasons3_mp, sizeof(reasons3_mp));
    get_reasons_eq(e, 2, qfx_reasons_mp, sizeof(qfx_reasons_mp));
    get_reasons_eq(e, 3, empty, sizeof(empty));
    get_reasons_eq(e, 4, empty, sizeof(empty));   /* none: an empty array */

    /* a duplicate gets the exact bytes back */
    assert_int_equal(submit_rs(e, "r1", "q", NULL, 0, "bot1", QFX_T0 + 1, &d, &dup), HITLQ_ST_OK);
    assert_true(dup);
    assert_int_equal(d.reasons_len, sizeof(reasons3_mp));
    assert_memory_equal(d.reasons_mp, reasons3_mp, sizeof(reasons3_mp));
    decision_clear(&d);
    assert_int_equal(submit_rs(e, "r4", NULL, NULL, 0, "bot1", QFX_T0 + 1, &d, &dup), HITLQ_ST_OK);
    assert_true(dup);
    assert_int_equal(d.reasons_len, 0);
    decision_clear(&d);

    /* and the CLAIM reply too */
    struct claim_out out;
    assert_int_equal(qfx_claim_q(e, "q", NULL, QFX_T0 + 2, &out), HITLQ_ST_OK);
    assert_int_equal(out.id, 1);
    assert_non_null(memmem(out.reply_mp, out.reply_len, reasons3_mp, sizeof(reasons3_mp)));
    free(out.reply_mp);
}

static void
test_record_names_and_history(void **state)
{
    struct qfx_env *e = *state;
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
                               QFX_T0 + 5, &d, &dup), HITLQ_ST_OK);
    decision_clear(&d);
    assert_int_equal(submit_rs(e, "b", queue, NULL, 0, "bot2", QFX_T0 + 6, &d, &dup),
                     HITLQ_ST_OK);
    decision_clear(&d);
    assert_int_equal(hist_entries(e), 0);         /* submit events are implied */
    qfx_get_item(e, 1, &res);
    const msgpack_object *h = qfx_mget(&res.data, "history");
    assert_int_equal(h->via.array.size, 3);
    qfx_mstr_eq(&h->via.array.ptr[0], "event", "submitted");
    qfx_mstr_eq(&h->via.array.ptr[0], "actor", "anonymous");
    assert_int_equal(h->via.array.ptr[0].via.map.size, 3);
    qfx_mstr_eq(&h->via.array.ptr[1], "event", "scored");
    qfx_mstr_eq(&h->via.array.ptr[1], "actor", "model:m@1");
    assert_true(qfx_mget(&h->via.array.ptr[1], "score")->via.f64 == 0.5);
    qfx_mstr_eq(&h->via.array.ptr[2], "event", "auto_resolved");
    qfx_mstr_eq(&h->via.array.ptr[2], "actor", "model:m@1");
    qfx_mstr_eq(&h->via.array.ptr[2], "action", "approve");
    for (int i = 0; i < 3; i++)
        assert_int_equal(qfx_mu64(&h->via.array.ptr[i], "at_ms"), QFX_T0 + 5);
    qfx_mstr_eq(&res.data, "outcome", "approve");
    msgpack_unpacked_destroy(&res);

    /* the longest names survive header rewrites of other lengths */
    snprintf(ci.queues[0], sizeof(ci.queues[0]), "%s", queue);
    snprintf(ci.worker, sizeof(ci.worker), "%s", worker);
    t = qfx_wtxn(e);
    assert_int_equal(queue_claim(e->s, t, &ci, QFX_T0 + 7, &out), HITLQ_ST_OK);
    qfx_commit(t);
    free(out.reply_mp);
    assert_int_equal(hist_entries(e), 1);
    qfx_get_item(e, 2, &res);
    qfx_mstr_eq(&res.data, "queue", queue);
    qfx_mstr_eq(qfx_mget(&res.data, "lease"), "worker", worker);
    msgpack_unpacked_destroy(&res);
    t = qfx_wtxn(e);
    assert_int_equal(queue_resolve(e->s, t, 2, out.lease, outcome, NULL, NULL, QFX_T0 + 8,
                                   &seq, NULL), HITLQ_ST_OK);
    qfx_commit(t);
    qfx_reopen(e);
    qfx_get_item(e, 2, &res);
    qfx_mstr_eq(&res.data, "state", "resolved");
    qfx_mstr_eq(&res.data, "outcome", outcome);
    qfx_mstr_eq(&res.data, "queue", queue);
    assert_int_equal(qfx_mu64(&res.data, "created_ms"), QFX_T0 + 6);
    assert_int_equal(qfx_mu64(&res.data, "deadline_ms"), QFX_T0 + 506);
    h = qfx_mget(&res.data, "history");
    assert_int_equal(h->via.array.size, 5);
    qfx_mstr_eq(&h->via.array.ptr[0], "actor", "bot2");
    qfx_mstr_eq(&h->via.array.ptr[2], "event", "queued");
    qfx_mstr_eq(&h->via.array.ptr[2], "actor", "system");
    qfx_mstr_eq(&h->via.array.ptr[2], "queue", queue);
    assert_int_equal(qfx_mu64(&h->via.array.ptr[2], "priority"), 2);
    assert_int_equal(qfx_mu64(&h->via.array.ptr[2], "deadline_ms"), QFX_T0 + 506);
    qfx_mstr_eq(&h->via.array.ptr[3], "event", "claimed");
    qfx_mstr_eq(&h->via.array.ptr[3], "worker", worker);
    qfx_mstr_eq(&h->via.array.ptr[4], "event", "resolved");
    qfx_mstr_eq(&h->via.array.ptr[4], "actor", worker);
    qfx_mstr_eq(&h->via.array.ptr[4], "outcome", outcome);
    msgpack_unpacked_destroy(&res);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_restart, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_volume, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_schema_and_map_full, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_record_reasons, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_record_names_and_history, qfx_setup, qfx_teardown),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
