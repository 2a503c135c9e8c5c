/*
 * test_queue_claim.c - claiming and leases in the queue state machine on a
 * real LMDB store (tests/lib/queue_fixture.h: a fresh mkdtemp directory per
 * test, time driven by hand): claim order and empty queues, stale lease
 * tokens, EXTEND, RELEASE (now and delayed), ESCALATE, lease expiry and
 * dead letters, and the next timer.
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
test_claim_order(void **state)
{
    struct qfx_env *e = *state;
    uint64_t a1 = qfx_submit1(e, "a1", "qa", 5, 1000, QFX_T0);
    uint64_t b2 = qfx_submit1(e, "b2", "qb", 9, 5000, QFX_T0);
    uint64_t a3 = qfx_submit1(e, "a3", "qa", 9, 3000, QFX_T0);
    uint64_t b4 = qfx_submit1(e, "b4", "qb", 9, 3000, QFX_T0);
    uint64_t a5 = qfx_submit1(e, "a5", "qa", 1, 10, QFX_T0);
    uint64_t c6 = qfx_submit1(e, "c6", "qc", 1000, 10, QFX_T0);

    assert_int_equal(qfx_claim_id(e, "qa", "qb", QFX_T0, NULL), a3);
    assert_int_equal(qfx_claim_id(e, "qa", "qb", QFX_T0, NULL), b4);
    assert_int_equal(qfx_claim_id(e, "qb", "qa", QFX_T0, NULL), b2);
    assert_int_equal(qfx_claim_id(e, "qa", "qb", QFX_T0, NULL), a1);
    assert_int_equal(qfx_claim_id(e, "qa", "qb", QFX_T0, NULL), a5);
    assert_int_equal(qfx_claim_id(e, "qa", "qb", QFX_T0, NULL), 0);
    assert_int_equal(qfx_claim_id(e, "qc", NULL, QFX_T0, NULL), c6);
}

static void
test_claim_empty(void **state)
{
    struct qfx_env *e = *state;
    struct claim_out out;

    assert_int_equal(qfx_claim_q(e, "nothing", NULL, QFX_T0, &out), HITLQ_ST_EMPTY);
    assert_null(out.reply_mp);
    qfx_submit1(e, "x", "q", 1, 10, QFX_T0);
    /* a queue name that is a prefix of another must not match it */
    assert_int_equal(qfx_claim_q(e, "", NULL, QFX_T0, &out), HITLQ_ST_EMPTY);
    assert_int_equal(qfx_claim_q(e, "qq", NULL, QFX_T0, &out), HITLQ_ST_EMPTY);
    assert_int_equal(qfx_claim_q(e, "q", NULL, QFX_T0, &out), HITLQ_ST_OK);
    assert_int_equal(out.expires_ms, QFX_T0 + 10000);
    assert_int_not_equal(out.lease, 0);

    msgpack_unpacked res;
    qfx_unpack(out.reply_mp, out.reply_len, &res);
    assert_int_equal(qfx_mu64(&res.data, "id"), out.id);
    assert_int_equal(qfx_mu64(&res.data, "lease"), out.lease);
    assert_int_equal(qfx_mu64(&res.data, "expires_ms"), out.expires_ms);
    assert_int_equal(qfx_mu64(&res.data, "priority"), 1);
    assert_int_equal(qfx_mu64(&res.data, "deadline_ms"), QFX_T0 + 10);
    assert_int_equal(qfx_mu64(&res.data, "attempts"), 0);
    qfx_mstr_eq(&res.data, "queue", "q");
    qfx_mstr_eq(&res.data, "key", "x");
    qfx_mstr_eq(&res.data, "type", "credit");
    qfx_mstr_eq(&res.data, "model", "m@1");
    assert_int_equal(qfx_mget(&res.data, "fields")->type, MSGPACK_OBJECT_MAP);
    assert_int_equal(qfx_mget(&res.data, "reasons")->via.array.size, 1);
    qfx_mstr_eq(&res.data, "route", "review");
    qfx_mstr_eq(&res.data, "explain", "linear");
    assert_int_equal(qfx_mget(&res.data, "sla")->type, MSGPACK_OBJECT_NIL);   /* no clock */
    assert_int_equal(res.data.via.map.size, 16);
    msgpack_unpacked_destroy(&res);
    free(out.reply_mp);
}

static void
test_stale_lease(void **state)
{
    struct qfx_env *e = *state;
    uint64_t lease, exp, rdy, seq;
    uint64_t id = qfx_submit1(e, "x", "q", 1, 10, QFX_T0);
    uint64_t other = qfx_submit1(e, "y", "q", 0, 10, QFX_T0);
    MDB_txn *t;

    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0, &lease), id);
    t = qfx_wtxn(e);
    /* leased with another token */
    assert_int_equal(queue_extend(e->s, t, id, lease + 1, 0, QFX_T0, &exp), HITLQ_ST_LEASE_HELD);
    assert_int_equal(queue_release(e->s, t, id, lease ^ 4, 0, QFX_T0, &rdy, NULL), HITLQ_ST_LEASE_HELD);
    assert_int_equal(queue_resolve(e->s, t, id, 0, "ok", NULL, NULL, QFX_T0, &seq, NULL),
                     HITLQ_ST_LEASE_HELD);
    assert_int_equal(queue_escalate(e->s, t, id, 7, "z", NULL, QFX_T0, NULL), HITLQ_ST_LEASE_HELD);
    assert_int_equal(queue_extend(e->s, t, 999, lease, 0, QFX_T0, &exp), HITLQ_ST_NOT_FOUND);
    /* not leased */
    assert_int_equal(queue_extend(e->s, t, other, lease, 0, QFX_T0, &exp), HITLQ_ST_STALE_LEASE);
    /* expired, even though the timer has not run yet */
    assert_int_equal(queue_extend(e->s, t, id, lease, 0, QFX_T0 + 10000, &exp),
                     HITLQ_ST_LEASE_EXPIRED);
    assert_int_equal(queue_extend(e->s, t, id, lease, 0, QFX_T0 + 9999, &exp), HITLQ_ST_OK);
    qfx_commit(t);
}

static void
test_extend(void **state)
{
    struct qfx_env *e = *state;
    uint64_t lease, exp;
    uint64_t id = qfx_submit1(e, "x", "q", 1, 10, QFX_T0);
    MDB_txn *t;

    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0, &lease), id);
    t = qfx_rtxn(e);
    assert_int_equal(queue_next_timer(e->s, t), QFX_T0 + 10000);
    mdb_txn_abort(t);
    t = qfx_wtxn(e);
    assert_int_equal(queue_extend(e->s, t, id, lease, 0, QFX_T0 + 5000, &exp), HITLQ_ST_OK);
    assert_int_equal(exp, QFX_T0 + 15000);
    assert_int_equal(queue_next_timer(e->s, t), QFX_T0 + 15000);
    assert_int_equal(queue_extend(e->s, t, id, lease, 60000, QFX_T0 + 6000, &exp), HITLQ_ST_OK);
    assert_int_equal(exp, QFX_T0 + 66000);
    qfx_commit(t);
    /* the old timers are gone: nothing happens at the old times */
    assert_int_equal(qfx_expire(e, QFX_T0 + 20000, 3), 0);
    t = qfx_rtxn(e);
    assert_int_equal(queue_next_timer(e->s, t), QFX_T0 + 66000);
    mdb_txn_abort(t);
    t = qfx_wtxn(e);
    assert_int_equal(queue_extend(e->s, t, id, lease, 0, QFX_T0 + 60000, &exp), HITLQ_ST_OK);
    assert_int_equal(exp, QFX_T0 + 120000);   /* same length as the last lease */
    qfx_commit(t);
}

static void
test_release(void **state)
{
    struct qfx_env *e = *state;
    uint64_t lease, rdy;
    uint64_t id = qfx_submit1(e, "x", "q", 1, 100000, QFX_T0);
    struct queue_fx fx = { 0 };
    msgpack_unpacked res;
    MDB_txn *t;

    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0, &lease), id);
    t = qfx_wtxn(e);
    assert_int_equal(queue_release(e->s, t, id, lease, 0, QFX_T0 + 1, &rdy, &fx), HITLQ_ST_OK);
    assert_int_equal(rdy, QFX_T0 + 1);
    assert_int_equal(fx.n_woken, 1);
    assert_int_equal(queue_release(e->s, t, id, lease, 0, QFX_T0 + 1, &rdy, &fx),
                     HITLQ_ST_STALE_LEASE);
    assert_int_equal(queue_next_timer(e->s, t), 0);
    qfx_commit(t);
    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0 + 2, &lease), id);
    t = qfx_wtxn(e);
    assert_int_equal(queue_release(e->s, t, id, lease, 5000, QFX_T0 + 3, &rdy, NULL), HITLQ_ST_OK);
    assert_int_equal(rdy, QFX_T0 + 5003);
    assert_int_equal(queue_next_timer(e->s, t), QFX_T0 + 5003);
    qfx_commit(t);
    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0 + 4, NULL), 0);
    qfx_get_item(e, id, &res);
    qfx_mstr_eq(&res.data, "state", "delayed");
    assert_int_equal(qfx_mu64(&res.data, "attempts"), 0);
    msgpack_unpacked_destroy(&res);
    qfx_stats(e, QFX_T0 + 10, &res);
    assert_int_equal(qfx_mu64(qfx_stats_entry(&res.data, false, "q"), "delayed"), 1);
    assert_int_equal(qfx_mu64(qfx_stats_entry(&res.data, false, "q"), "depth"), 0);
    msgpack_unpacked_destroy(&res);
    assert_int_equal(qfx_expire(e, QFX_T0 + 5002, 3), 0);
    assert_int_equal(qfx_expire(e, QFX_T0 + 5003, 3), 1);
    qfx_stats(e, QFX_T0 + 10, &res);
    assert_int_equal(qfx_mu64(qfx_stats_entry(&res.data, false, "q"), "delayed"), 0);
    assert_int_equal(qfx_mu64(qfx_stats_entry(&res.data, false, "q"), "depth"), 1);
    msgpack_unpacked_destroy(&res);
    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0 + 5004, NULL), id);
}

static void
test_escalate(void **state)
{
    struct qfx_env *e = *state;
    uint64_t lease;
    uint64_t id = qfx_submit1(e, "x", "qa", 3, 100, QFX_T0);
    struct queue_fx fx = { 0 };
    msgpack_unpacked res;
    MDB_txn *t;

    assert_int_equal(qfx_claim_id(e, "qa", NULL, QFX_T0, &lease), id);
    t = qfx_wtxn(e);
    assert_int_equal(queue_escalate(e->s, t, id, lease, "senior", "too big", QFX_T0 + 1, &fx),
                     HITLQ_ST_OK);
    assert_string_equal(fx.woken[0], "senior");
    qfx_commit(t);
    assert_int_equal(qfx_claim_id(e, "qa", NULL, QFX_T0 + 2, NULL), 0);
    qfx_stats(e, QFX_T0 + 2, &res);
    assert_int_equal(qfx_mu64(qfx_stats_entry(&res.data, false, "senior"), "depth"), 1);
    assert_int_equal(qfx_mu64(qfx_stats_entry(&res.data, false, "senior"), "sla_breached"), 0);
    assert_int_equal(qfx_mu64(qfx_stats_entry(&res.data, false, "qa"), "leased"), 0);
    assert_int_equal(qfx_mu64(qfx_stats_entry(&res.data, false, "qa"), "oldest_age_ms"), 0);
    msgpack_unpacked_destroy(&res);
    assert_int_equal(qfx_claim_id(e, "senior", NULL, QFX_T0 + 3, NULL), id);
    qfx_get_item(e, id, &res);
    qfx_mstr_eq(&res.data, "queue", "senior");
    assert_int_equal(qfx_mu64(&res.data, "priority"), 3);
    assert_int_equal(qfx_mu64(&res.data, "deadline_ms"), QFX_T0 + 100);
    const msgpack_object *h = qfx_mget(&res.data, "history");
    const msgpack_object *ev = &h->via.array.ptr[4];
    qfx_mstr_eq(ev, "event", "escalated");
    qfx_mstr_eq(ev, "from", "qa");
    qfx_mstr_eq(ev, "to", "senior");
    qfx_mstr_eq(ev, "note", "too big");
    qfx_mstr_eq(ev, "actor", "alice");
    msgpack_unpacked_destroy(&res);
}

static void
test_expiry_dead_letter(void **state)
{
    struct qfx_env *e = *state;
    uint64_t lease, exp;
    uint64_t id = qfx_submit1(e, "x", "q", 1, 100, QFX_T0);
    msgpack_unpacked res;
    struct queue_fx fx = { 0 };
    size_t done;
    MDB_txn *t;

    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0, &lease), id);
    assert_int_equal(qfx_expire(e, QFX_T0 + 9999, 2), 0);
    t = qfx_wtxn(e);
    assert_int_equal(queue_expire_due(e->s, t, QFX_T0 + 10000, 2, "dead_letter", 10, &done, &fx),
                     HITLQ_ST_OK);
    assert_int_equal(done, 1);
    assert_int_equal(fx.n_woken, 1);
    assert_string_equal(fx.woken[0], "q");
    qfx_commit(t);
    /* the old token is dead: its holder hears that it expired */
    t = qfx_wtxn(e);
    assert_int_equal(queue_extend(e->s, t, id, lease, 0, QFX_T0 + 10001, &exp),
                     HITLQ_ST_LEASE_EXPIRED);
    assert_int_equal(queue_extend(e->s, t, id, lease + 1, 0, QFX_T0 + 10001, &exp),
                     HITLQ_ST_STALE_LEASE);
    mdb_txn_abort(t);
    qfx_get_item(e, id, &res);
    assert_int_equal(qfx_mu64(&res.data, "attempts"), 1);
    qfx_mstr_eq(&res.data, "state", "queued");
    msgpack_unpacked_destroy(&res);

    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0 + 20000, &lease), id);
    assert_int_equal(qfx_expire(e, QFX_T0 + 30000, 2), 1);
    assert_int_equal(qfx_claim_id(e, "q", NULL, QFX_T0 + 30001, NULL), 0);
    qfx_get_item(e, id, &res);
    assert_int_equal(qfx_mu64(&res.data, "attempts"), 2);
    qfx_mstr_eq(&res.data, "queue", "dead_letter");
    const msgpack_object *h = qfx_mget(&res.data, "history");
    size_t n = h->via.array.size;
    qfx_mstr_eq(&h->via.array.ptr[n - 2], "event", "expired");
    assert_int_equal(qfx_mu64(&h->via.array.ptr[n - 2], "attempts"), 2);
    qfx_mstr_eq(&h->via.array.ptr[n - 1], "event", "dead_lettered");
    qfx_mstr_eq(&h->via.array.ptr[n - 1], "queue", "dead_letter");
    msgpack_unpacked_destroy(&res);
    qfx_stats(e, QFX_T0 + 30001, &res);
    assert_int_equal(qfx_mu64(qfx_stats_entry(&res.data, false, "q"), "depth"), 0);
    assert_int_equal(qfx_mu64(qfx_stats_entry(&res.data, false, "q"), "leased"), 0);
    assert_int_equal(qfx_mu64(qfx_stats_entry(&res.data, false, "dead_letter"), "depth"), 1);
    assert_int_equal(qfx_mu64(qfx_stats_entry(&res.data, false, "dead_letter"), "sla_breached"), 1);
    msgpack_unpacked_destroy(&res);
    /* dead-lettered by expiry: still that lease's token ... */
    MDB_txn *t2 = qfx_wtxn(e);
    assert_int_equal(queue_extend(e->s, t2, id, lease, 0, QFX_T0 + 30001, &exp),
                     HITLQ_ST_LEASE_EXPIRED);
    mdb_txn_abort(t2);
    uint64_t lease2 = 0, seq = 0;
    assert_int_equal(qfx_claim_id(e, "dead_letter", NULL, QFX_T0 + 30002, &lease2), id);
    /* ... until claimed again: then another lease holds it */
    t2 = qfx_wtxn(e);
    assert_int_equal(queue_extend(e->s, t2, id, lease, 0, QFX_T0 + 30003, &exp),
                     HITLQ_ST_LEASE_HELD);
    assert_int_equal(queue_resolve(e->s, t2, id, lease2, "ok", NULL, NULL, QFX_T0 + 30003,
                                   &seq, NULL), HITLQ_ST_OK);
    /* resolved: whatever the token */
    assert_int_equal(queue_resolve(e->s, t2, id, lease2, "ok", NULL, NULL, QFX_T0 + 30004,
                                   &seq, NULL), HITLQ_ST_ALREADY_RESOLVED);
    assert_int_equal(queue_extend(e->s, t2, id, 12345, 0, QFX_T0 + 30004, &exp),
                     HITLQ_ST_ALREADY_RESOLVED);
    mdb_txn_abort(t2);
}

static void
test_next_timer(void **state)
{
    struct qfx_env *e = *state;
    uint64_t lease;
    MDB_txn *t = qfx_rtxn(e);

    assert_int_equal(queue_next_timer(e->s, t), 0);
    mdb_txn_abort(t);
    qfx_submit1(e, "a", "q", 1, 100, QFX_T0);
    qfx_submit1(e, "b", "q", 1, 100, QFX_T0);
    qfx_claim_id(e, "q", NULL, QFX_T0 + 500, &lease);
    qfx_claim_id(e, "q", NULL, QFX_T0 + 100, &lease);
    t = qfx_rtxn(e);
    assert_int_equal(queue_next_timer(e->s, t), QFX_T0 + 10100);
    mdb_txn_abort(t);
    assert_int_equal(qfx_expire(e, QFX_T0 + 10100, 3), 1);
    t = qfx_rtxn(e);
    assert_int_equal(queue_next_timer(e->s, t), QFX_T0 + 10500);
    mdb_txn_abort(t);
    assert_int_equal(qfx_expire(e, QFX_T0 + 99999, 3), 1);
    t = qfx_rtxn(e);
    assert_int_equal(queue_next_timer(e->s, t), 0);
    mdb_txn_abort(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_claim_order, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_claim_empty, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_stale_lease, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_extend, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_release, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_escalate, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_expiry_dead_letter, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_next_timer, qfx_setup, qfx_teardown),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
