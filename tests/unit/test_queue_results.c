/*
 * test_queue_results.c - submitting and resolving in the queue state
 * machine on a real LMDB store (tests/lib/queue_fixture.h: a fresh mkdtemp
 * directory per test, time driven by hand): submit idempotency, RESOLVE
 * and the result stream, GET history, STATS, and the blind QA copy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "qa_copy.h"
#include "queue_fixture.h"

/* ---- cases ----------------------------------------------------------------- */

static void
test_submit_idempotency(void **state)
{
    struct qfx_env *e = *state;
    struct decision d;
    struct queue_fx fx = { 0 };
    bool dup;
    MDB_txn *t = qfx_wtxn(e);

    assert_int_equal(qfx_submit_tx(e, t, "k1", "review", 7, 5000, 1, QFX_T0, &d, &dup, &fx),
                     HITLQ_ST_OK);
    assert_false(dup);
    assert_int_equal(d.id, 1);
    assert_int_equal(d.deadline_ms, QFX_T0 + 5000);
    assert_int_equal(fx.n_woken, 1);
    assert_string_equal(fx.woken[0], "review");
    decision_clear(&d);
    assert_int_equal(qfx_submit_tx(e, t, "k2", NULL, 0, 0, 1, QFX_T0, &d, &dup, &fx), HITLQ_ST_OK);
    assert_int_equal(d.id, 2);
    assert_int_equal(d.seq, 1);
    assert_true(fx.results);
    decision_clear(&d);
    qfx_commit(t);

    for (int round = 0; round < 2; round++) {
        t = qfx_wtxn(e);
        /* same key, same hash: the original decision, whatever we pass */
        assert_int_equal(qfx_submit_tx(e, t, "k1", "other", 1, 1, 1, QFX_T0 + 99, &d, &dup, NULL),
                         HITLQ_ST_OK);
        assert_true(dup);
        assert_int_equal(d.id, 1);
        assert_int_equal(d.outcome, DECISION_QUEUED);
        assert_string_equal(d.queue, "review");
        assert_int_equal(d.priority, 7);
        assert_int_equal(d.deadline_ms, QFX_T0 + 5000);
        assert_string_equal(d.model, "m@1");
        assert_true(d.score == 0.25);
        assert_int_equal(d.reasons_len, sizeof(qfx_reasons_mp));
        assert_memory_equal(d.reasons_mp, qfx_reasons_mp, sizeof(qfx_reasons_mp));
        decision_clear(&d);
        assert_int_equal(qfx_submit_tx(e, t, "k2", NULL, 0, 0, 1, QFX_T0, &d, &dup, NULL),
                         HITLQ_ST_OK);
        assert_true(dup);
        assert_int_equal(d.outcome, DECISION_AUTO);
        assert_string_equal(d.action, "approve");
        assert_int_equal(d.seq, 1);
        decision_clear(&d);
        /* same key, other content */
        assert_int_equal(qfx_submit_tx(e, t, "k1", "review", 7, 5000, 2, QFX_T0, &d, &dup, NULL),
                         HITLQ_ST_CONFLICT);
        decision_clear(&d);
        qfx_commit(t);
        qfx_reopen(e);
    }
    t = qfx_rtxn(e);
    assert_int_equal(queue_results_next(e->s, t), 2);
    mdb_txn_abort(t);
    assert_int_equal(qfx_submit1(e, "k3", "review", 0, 1, QFX_T0), 3);
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
    struct qfx_env *e = *state;
    uint64_t lease, seq;
    uint64_t auto_id = qfx_submit1(e, "auto", NULL, 0, 0, QFX_T0);
    uint64_t id = qfx_submit1(e, "x", "q", 1, 100, QFX_T0);
    struct queue_fx fx = { 0 };
    struct results_acc acc = { 0 };
    msgpack_unpacked res;
    MDB_txn *t;

    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0, &lease), id);
    t = qfx_wtxn(e);
    assert_int_equal(queue_resolve(e->s, t, id, lease, "approved", "looks fine", "docs",
                                   QFX_T0 + 50, &seq, &fx), HITLQ_ST_OK);
    assert_int_equal(seq, 2);
    assert_true(fx.results);
    assert_int_equal(queue_resolve(e->s, t, id, lease, "approved", NULL, NULL, QFX_T0 + 50,
                                   &seq, &fx), HITLQ_ST_ALREADY_RESOLVED);
    qfx_commit(t);

    msgpack_sbuffer_init(&acc.last);
    t = qfx_rtxn(e);
    assert_int_equal(queue_results_next(e->s, t), 3);
    assert_int_equal(queue_results_read(e->s, t, 1, 10, results_cb, &acc), 2);
    assert_int_equal(acc.seqs[0], 1);
    assert_int_equal(acc.seqs[1], 2);
    mdb_txn_abort(t);
    qfx_unpack(acc.last.data, acc.last.size, &res);
    assert_int_equal(res.data.via.map.size, 11);
    assert_int_equal(qfx_mu64(&res.data, "seq"), 2);
    assert_int_equal(qfx_mu64(&res.data, "id"), id);
    qfx_mstr_eq(&res.data, "key", "x");
    qfx_mstr_eq(&res.data, "type", "credit");
    qfx_mstr_eq(&res.data, "outcome", "approved");
    assert_false(qfx_mget(&res.data, "auto")->via.boolean);
    qfx_mstr_eq(&res.data, "actor", "alice");
    assert_true(qfx_mget(&res.data, "score")->via.f64 == 0.25);
    assert_int_equal(qfx_mu64(&res.data, "at_ms"), QFX_T0 + 50);
    qfx_mstr_eq(&res.data, "note", "looks fine");
    qfx_mstr_eq(&res.data, "root_cause", "docs");
    msgpack_unpacked_destroy(&res);

    acc.n = 0;
    t = qfx_rtxn(e);
    assert_int_equal(queue_results_read(e->s, t, 1, 1, results_cb, &acc), 1);
    mdb_txn_abort(t);
    qfx_unpack(acc.last.data, acc.last.size, &res);
    assert_int_equal(res.data.via.map.size, 9);
    assert_int_equal(qfx_mu64(&res.data, "id"), auto_id);
    qfx_mstr_eq(&res.data, "outcome", "approve");
    assert_true(qfx_mget(&res.data, "auto")->via.boolean);
    qfx_mstr_eq(&res.data, "actor", "model:m@1");
    msgpack_unpacked_destroy(&res);
    acc.n = 0;
    t = qfx_rtxn(e);
    assert_int_equal(queue_results_read(e->s, t, 3, 10, results_cb, &acc), 0);
    mdb_txn_abort(t);
    msgpack_sbuffer_destroy(&acc.last);

    qfx_get_item(e, id, &res);
    qfx_mstr_eq(&res.data, "state", "resolved");
    qfx_mstr_eq(&res.data, "outcome", "approved");
    msgpack_unpacked_destroy(&res);
    qfx_stats(e, QFX_T0 + 1000, &res);
    const msgpack_object *q = qfx_stats_entry(&res.data, false, "q");
    assert_int_equal(qfx_mu64(q, "depth") + qfx_mu64(q, "leased") + qfx_mu64(q, "delayed"), 0);
    assert_int_equal(qfx_mu64(q, "sla_breached"), 0);
    assert_int_equal(qfx_mu64(q, "oldest_age_ms"), 0);
    msgpack_unpacked_destroy(&res);
}

static void
test_get_history(void **state)
{
    struct qfx_env *e = *state;
    static const char *const want[] = {
        "submitted", "scored", "queued", "claimed", "extended", "released",
        "claimed", "resolved",
    };
    uint64_t lease, exp, rdy, seq;
    uint64_t id = qfx_submit1(e, "x", "q", 4, 100, QFX_T0);
    msgpack_unpacked res;
    MDB_txn *t;

    qfx_get_item(e, id, &res);
    qfx_mstr_eq(&res.data, "state", "queued");
    assert_int_equal(qfx_mget(&res.data, "lease")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal(qfx_mget(&res.data, "outcome")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal(qfx_mget(&res.data, "sla")->type, MSGPACK_OBJECT_NIL);   /* no clock */
    assert_int_equal(res.data.via.map.size, 19);
    msgpack_unpacked_destroy(&res);
    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0 + 1, &lease), id);
    qfx_get_item(e, id, &res);
    qfx_mstr_eq(&res.data, "state", "leased");
    qfx_mstr_eq(qfx_mget(&res.data, "lease"), "worker", "alice");
    assert_int_equal(qfx_mu64(qfx_mget(&res.data, "lease"), "expires_ms"), QFX_T0 + 10001);
    msgpack_unpacked_destroy(&res);
    t = qfx_wtxn(e);
    assert_int_equal(queue_extend(e->s, t, id, lease, 0, QFX_T0 + 2, &exp), HITLQ_ST_OK);
    assert_int_equal(queue_release(e->s, t, id, lease, 0, QFX_T0 + 3, &rdy, NULL), HITLQ_ST_OK);
    qfx_commit(t);
    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0 + 4, &lease), id);
    t = qfx_wtxn(e);
    assert_int_equal(queue_resolve(e->s, t, id, lease, "done", NULL, NULL, QFX_T0 + 5, &seq, NULL),
                     HITLQ_ST_OK);
    qfx_commit(t);

    qfx_get_item(e, id, &res);
    const msgpack_object *m = &res.data;
    assert_int_equal(qfx_mu64(m, "id"), id);
    qfx_mstr_eq(m, "key", "x");
    qfx_mstr_eq(m, "type", "credit");
    qfx_mstr_eq(m, "state", "resolved");
    qfx_mstr_eq(m, "queue", "q");
    assert_int_equal(qfx_mu64(m, "priority"), 4);
    assert_int_equal(qfx_mu64(m, "created_ms"), QFX_T0);
    assert_int_equal(qfx_mu64(m, "deadline_ms"), QFX_T0 + 100);
    qfx_mstr_eq(m, "outcome", "done");
    assert_int_equal(qfx_mget(m, "fields")->via.map.size, 1);
    const msgpack_object *h = qfx_mget(m, "history");
    assert_int_equal(h->via.array.size, 8);
    for (size_t i = 0; i < 8; i++) {
        qfx_mstr_eq(&h->via.array.ptr[i], "event", want[i]);
        assert_true(qfx_mu64(&h->via.array.ptr[i], "at_ms") >= QFX_T0);
    }
    qfx_mstr_eq(&h->via.array.ptr[0], "actor", "bot1");
    qfx_mstr_eq(&h->via.array.ptr[1], "actor", "model:m@1");
    qfx_mstr_eq(&h->via.array.ptr[1], "model", "m@1");
    qfx_mstr_eq(&h->via.array.ptr[2], "queue", "q");
    assert_int_equal(qfx_mu64(&h->via.array.ptr[2], "deadline_ms"), QFX_T0 + 100);
    qfx_mstr_eq(&h->via.array.ptr[3], "worker", "alice");
    assert_int_equal(qfx_mu64(&h->via.array.ptr[4], "expires_ms"), QFX_T0 + 10002);
    assert_int_equal(qfx_mu64(&h->via.array.ptr[5], "delay_ms"), 0);
    qfx_mstr_eq(&h->via.array.ptr[7], "outcome", "done");
    assert_int_equal(qfx_mget(&h->via.array.ptr[7], "note")->type, MSGPACK_OBJECT_NIL);
    msgpack_unpacked_destroy(&res);

    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    t = qfx_rtxn(e);
    assert_int_equal(queue_get(e->s, t, 12345, &pk), HITLQ_ST_NOT_FOUND);
    mdb_txn_abort(t);
    assert_int_equal(sb.size, 0);
    msgpack_sbuffer_destroy(&sb);
}

static void
test_stats(void **state)
{
    struct qfx_env *e = *state;
    uint64_t lease, rdy;
    msgpack_unpacked res;
    MDB_txn *t;

    qfx_submit1(e, "a1", NULL, 0, 0, QFX_T0);
    qfx_submit1(e, "a2", NULL, 0, 0, QFX_T0);
    qfx_submit1(e, "q1", "q", 9, 1000, QFX_T0);          /* will be leased */
    uint64_t d = qfx_submit1(e, "q2", "q", 5, 1000, QFX_T0 + 100);  /* delayed */
    qfx_submit1(e, "q3", "q", 1, 5000, QFX_T0 + 200);    /* queued */
    qfx_submit1(e, "r1", "r", 1, 5000, QFX_T0 + 300);
    qfx_claim_id(e, "q", NULL, QFX_T0 + 400, &lease);
    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0 + 400, &lease), d);
    t = qfx_wtxn(e);
    assert_int_equal(queue_release(e->s, t, d, lease, 60000, QFX_T0 + 500, &rdy, NULL),
                     HITLQ_ST_OK);
    qfx_commit(t);

    qfx_stats(e, QFX_T0 + 2000, &res);
    const msgpack_object *m = &res.data;
    assert_int_equal(qfx_mu64(m, "time_ms"), QFX_T0 + 2000);
    assert_int_equal(qfx_mu64(m, "results"), 3);
    assert_int_equal(qfx_mget(m, "queues")->via.array.size, 2);
    const msgpack_object *q = qfx_stats_entry(m, false, "q");
    assert_int_equal(qfx_mu64(q, "depth"), 1);
    assert_int_equal(qfx_mu64(q, "leased"), 1);
    assert_int_equal(qfx_mu64(q, "delayed"), 1);
    assert_int_equal(qfx_mu64(q, "oldest_age_ms"), 2000);
    assert_int_equal(qfx_mu64(q, "sla_breached"), 2);
    const msgpack_object *r = qfx_stats_entry(m, false, "r");
    assert_int_equal(qfx_mu64(r, "depth"), 1);
    assert_int_equal(qfx_mu64(r, "oldest_age_ms"), 1700);
    assert_int_equal(qfx_mu64(r, "sla_breached"), 0);
    const msgpack_object *ty = qfx_stats_entry(m, true, "credit");
    assert_int_equal(qfx_mu64(ty, "submitted"), 6);
    assert_int_equal(qfx_mu64(ty, "auto_resolved"), 2);
    assert_int_equal(qfx_mu64(ty, "queued"), 4);
    assert_true(qfx_mget(ty, "auto_rate")->via.f64 > 0.333 &&
                qfx_mget(ty, "auto_rate")->via.f64 < 0.334);
    msgpack_unpacked_destroy(&res);
}

/* An auto item drawn for the QA sample gets a blind copy on the QA queue:
 * an id of the QA range (not the original's + 1), an opaque key "qa:" +
 * 32 hex digits (a keyed hash: qa_copy.h), qa_of = the
 * original, no idempotency entry, no score or reasons shown, the
 * original's fields; the next SUBMIT gets the next ordinary id; a
 * duplicate SUBMIT does not make another copy. */
static void
test_qa_copy(void **state)
{
    struct qfx_env *e = *state;
    struct decision d;
    struct queue_fx fx = { 0 };
    struct claim_out out;
    msgpack_unpacked res;
    bool dup;
    MDB_txn *t = qfx_wtxn(e);

    memset(&d, 0, sizeof(d));
    assert_int_equal(qfx_submit_tx(e, t, "k-qa", NULL, 0, 0, 1, QFX_T0, &d, &dup, &fx),
                     HITLQ_ST_OK);
    qfx_commit(t);
    decision_clear(&d);
    /* an auto item with the QA draw set */
    t = qfx_wtxn(e);
    struct submit_in in = { .key = "k-qa3", .type = "credit", .fields = qfx_fields_mp,
                            .fields_len = sizeof(qfx_fields_mp), .actor = "bot1" };
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
    assert_int_equal(queue_submit(e->s, t, &in, QFX_T0, &d, &dup, &fx), HITLQ_ST_OK);
    qfx_commit(t);
    assert_int_equal(d.qa_id, QA_COPY_ID_BASE);
    uint64_t orig = d.id, copy = d.qa_id;
    decision_clear(&d);

    qfx_get_item(e, copy, &res);
    const msgpack_object *key = qfx_mget(&res.data, "key");
    assert_int_equal(key->via.str.size, QA_COPY_KEY_LEN);
    assert_memory_equal(key->via.str.ptr, "qa:", 3);
    for (uint32_t i = 3; i < key->via.str.size; i++)
        assert_non_null(strchr("0123456789abcdef", key->via.str.ptr[i]));
    assert_int_equal(qfx_mu64(&res.data, "qa_of"), orig);
    qfx_mstr_eq(&res.data, "queue", "qa");
    qfx_mstr_eq(&res.data, "route", "qa_sample");
    assert_int_equal(qfx_mget(&res.data, "score")->type, MSGPACK_OBJECT_NIL);
    qfx_mstr_eq(&res.data, "model", "");
    assert_int_equal(qfx_mget(&res.data, "reasons")->via.array.size, 0);
    assert_int_equal(qfx_mget(&res.data, "fields")->via.map.size, 1);
    assert_int_equal(qfx_mu64(&res.data, "priority"), 7);
    assert_int_equal(qfx_mu64(&res.data, "deadline_ms"), QFX_T0 + 5000);
    msgpack_unpacked_destroy(&res);
    qfx_get_item(e, orig, &res);
    qfx_mstr_eq(&res.data, "route", "auto_approve");
    qfx_mstr_eq(&res.data, "explain", "approx");
    qfx_mstr_eq(&res.data, "state", "resolved");
    msgpack_unpacked_destroy(&res);

    /* the copy is claimable on its queue; the duplicate makes no new copy */
    assert_int_equal(qfx_claim_q(e, "qa", NULL, QFX_T0 + 1, &out), HITLQ_ST_OK);
    assert_int_equal(out.id, copy);
    free(out.reply_mp);
    t = qfx_wtxn(e);
    memset(&d, 0, sizeof(d));
    d.outcome = DECISION_AUTO;
    d.qa = true;
    snprintf(d.qa_queue, sizeof(d.qa_queue), "qa");
    assert_int_equal(queue_submit(e->s, t, &in, QFX_T0 + 2, &d, &dup, &fx), HITLQ_ST_OK);
    assert_true(dup);
    assert_int_equal(d.id, orig);
    assert_true(d.qa);
    assert_int_equal(d.qa_id, copy);
    qfx_commit(t);
    decision_clear(&d);
    assert_int_equal(qfx_claim_q(e, "qa", NULL, QFX_T0 + 3, &out), HITLQ_ST_EMPTY);
    t = qfx_wtxn(e);                   /* no gap in the ordinary ids */
    memset(&d, 0, sizeof(d));
    assert_int_equal(qfx_submit_tx(e, t, "k-qa4", NULL, 0, 0, 1, QFX_T0 + 4, &d, &dup, &fx),
                     HITLQ_ST_OK);
    qfx_commit(t);
    assert_int_equal(d.id, orig + 1);
    decision_clear(&d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_submit_idempotency, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_resolve_result, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_get_history, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_stats, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_qa_copy, qfx_setup, qfx_teardown),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
