/*
 * test_queue_work.c - the specialists' work operations of the store
 * (server/store/queue_work.c) on a real LMDB store (tests/lib/
 * queue_fixture.h, time driven by hand): lookup by idempotency key, LIST
 * paging on the open index, CLAIM_ID's state and queue checks, COMMENT in
 * the history, AMEND and REOPEN with their result-stream entries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "queue_fixture.h"

/* LIST of q after `after`, limit n, unpacked into res. */
static void
list_page(struct qfx_env *e, const char *q, uint64_t after, uint32_t n, msgpack_unpacked *res)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    MDB_txn *t = qfx_rtxn(e);

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(queue_list(e->s, t, q, after, n, QFX_T0 + 1000, &pk), HITLQ_ST_OK);
    mdb_txn_abort(t);
    qfx_unpack(sb.data, sb.size, res);
    msgpack_sbuffer_destroy(&sb);
}

static void
test_id_by_key(void **state)
{
    struct qfx_env *e = *state;
    uint64_t a = qfx_submit1(e, "ka", "review", 5, 1000, QFX_T0);
    uint64_t b = qfx_submit1(e, "kb", NULL, 0, 0, QFX_T0);
    uint64_t id = 0;
    MDB_txn *t = qfx_rtxn(e);

    assert_int_equal(queue_id_by_key(e->s, t, "ka", &id), HITLQ_ST_OK);
    assert_int_equal(id, a);
    assert_int_equal(queue_id_by_key(e->s, t, "kb", &id), HITLQ_ST_OK);
    assert_int_equal(id, b);
    assert_int_equal(queue_id_by_key(e->s, t, "kc", &id), HITLQ_ST_NOT_FOUND);
    assert_int_equal(queue_id_by_key(e->s, t, "k", &id), HITLQ_ST_NOT_FOUND);   /* a prefix */
    mdb_txn_abort(t);
}

static void
test_list_pages(void **state)
{
    struct qfx_env *e = *state;
    uint64_t ids[10], got[10], after = 0, lease;
    size_t n = 0;
    char key[16];

    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "l%d", i);
        ids[i] = qfx_submit1(e, key, i == 3 ? "other" : "review", (uint32_t)(i * 7 % 5),
                             1000, QFX_T0 + (uint64_t)i);
    }
    /* the best by priority (not the lowest id) is leased: still listed */
    uint64_t leased = qfx_claim_id(e, "review", NULL, QFX_T0 + 20, &lease);
    assert_true(leased != 0);
    for (int page = 0;; page++) {
        msgpack_unpacked r;
        list_page(e, "review", after, 4, &r);
        const msgpack_object *items = qfx_mget(&r.data, "items"), *next = qfx_mget(&r.data, "next");
        assert_true(items->via.array.size <= 4);
        for (uint32_t i = 0; i < items->via.array.size; i++) {
            const msgpack_object *it = &items->via.array.ptr[i];
            got[n++] = qfx_mu64(it, "id");
            qfx_mstr_eq(it, "state", got[n - 1] == leased ? "leased" : "queued");
            assert_int_equal(qfx_mu64(it, "age_ms"), 1000 - (got[n - 1] - ids[0]));
            qfx_mstr_eq(it, "type", "credit");
        }
        if (next == NULL) {
            assert_int_equal(page, 2);   /* 9 items: 4 + 4 + 1 */
            msgpack_unpacked_destroy(&r);
            break;
        }
        after = next->via.u64;
        assert_int_equal(after, got[n - 1]);
        msgpack_unpacked_destroy(&r);
    }
    assert_int_equal(n, 9);
    for (size_t i = 0, j = 0; i < 10; i++)
        if (i != 3)
            assert_int_equal(got[j++], ids[i]);   /* id order, no gap, no duplicate */
    msgpack_unpacked r;
    list_page(e, "review", ids[9], 4, &r);      /* past the end */
    assert_int_equal(qfx_mget(&r.data, "items")->via.array.size, 0);
    assert_null(qfx_mget(&r.data, "next"));
    msgpack_unpacked_destroy(&r);
    list_page(e, "revie", 0, 100, &r);          /* a prefix of a queue is another queue */
    assert_int_equal(qfx_mget(&r.data, "items")->via.array.size, 0);
    msgpack_unpacked_destroy(&r);
}

static int
claim_by_id(struct qfx_env *e, uint64_t id, const char *queue, char *err, size_t n)
{
    struct claim_in in = { .n_queues = 0, .lease_ms = 10000 };
    struct claim_out out;
    MDB_txn *t = qfx_wtxn(e);
    int st;

    snprintf(in.worker, sizeof(in.worker), "carol");
    err[0] = '\0';
    st = queue_claim_id(e->s, t, id, queue, &in, QFX_T0 + 50, &out, err, n);
    if (st == HITLQ_ST_OK) {
        assert_int_equal(out.id, id);
        assert_true(out.lease != 0 && out.reply_mp != NULL);
        free(out.reply_mp);
        qfx_commit(t);
    } else {
        assert_null(out.reply_mp);
        mdb_txn_abort(t);
    }
    return st;
}

static void
test_claim_id(void **state)
{
    struct qfx_env *e = *state;
    uint64_t lo = qfx_submit1(e, "c1", "review", 1, 1000, QFX_T0);
    uint64_t hi = qfx_submit1(e, "c2", "review", 9, 1000, QFX_T0);
    uint64_t au = qfx_submit1(e, "c3", NULL, 0, 0, QFX_T0);
    char err[256];

    assert_int_equal(claim_by_id(e, lo, "other", err, sizeof(err)), HITLQ_ST_CONFLICT);
    assert_non_null(strstr(err, "review"));
    assert_int_equal(claim_by_id(e, lo, "review", err, sizeof(err)), HITLQ_ST_OK);
    assert_int_equal(claim_by_id(e, lo, "review", err, sizeof(err)), HITLQ_ST_INVALID_STATE);
    assert_non_null(strstr(err, "leased"));
    assert_int_equal(claim_by_id(e, au, "", err, sizeof(err)), HITLQ_ST_INVALID_STATE);
    assert_non_null(strstr(err, "resolved"));
    assert_int_equal(claim_by_id(e, 999, "review", err, sizeof(err)), HITLQ_ST_NOT_FOUND);
    /* the low-priority item was taken off the ready index: CLAIM gets hi, then none */
    assert_int_equal(qfx_claim_id(e, "review", NULL, QFX_T0 + 60, NULL), hi);
    assert_int_equal(qfx_claim_id(e, "review", NULL, QFX_T0 + 61, NULL), 0);
    msgpack_unpacked r;
    qfx_get_item(e, lo, &r);
    qfx_mstr_eq(&r.data, "state", "leased");
    qfx_mstr_eq(qfx_mget(&r.data, "lease"), "worker", "carol");
    msgpack_unpacked_destroy(&r);
}

/* The result-stream entry seq, unpacked into res. */
static int
result_copy(void *arg, uint64_t seq, const uint8_t *body, size_t len)
{
    (void)seq;
    qfx_unpack(body, len, arg);
    return 1;
}

static void
result_at(struct qfx_env *e, uint64_t seq, msgpack_unpacked *res)
{
    MDB_txn *t = qfx_rtxn(e);

    assert_int_equal(queue_results_read(e->s, t, seq, 1, result_copy, res), 1);
    mdb_txn_abort(t);
}

/* The last history event of item id, unpacked into *r; returns it. */
static const msgpack_object *
last_event(struct qfx_env *e, uint64_t id, msgpack_unpacked *r)
{
    qfx_get_item(e, id, r);
    const msgpack_object *h = qfx_mget(&r->data, "history");
    return &h->via.array.ptr[h->via.array.size - 1];
}

static void
test_comment_amend_reopen(void **state)
{
    struct qfx_env *e = *state;
    uint64_t id = qfx_submit1(e, "w1", "review", 3, 1000, QFX_T0), lease, s1, s2, s3;
    char q[HITLQ_MAX_QUEUE_NAME + 1], err[256];
    msgpack_unpacked r;
    MDB_txn *t;

    assert_int_equal(qfx_claim_id(e, "review", NULL, QFX_T0 + 1, &lease), id);
    t = qfx_wtxn(e);
    assert_int_equal(queue_comment(e->s, t, id, "dave", "looks odd", QFX_T0 + 2), HITLQ_ST_OK);
    assert_int_equal(queue_comment(e->s, t, 77, "dave", "x", QFX_T0 + 2), HITLQ_ST_NOT_FOUND);
    /* neither AMEND nor REOPEN before the item is resolved */
    assert_int_equal(queue_amend(e->s, t, id, "boss", "reject", "n", NULL, QFX_T0 + 2, &s2,
                                 NULL, err, sizeof(err)), HITLQ_ST_INVALID_STATE);
    assert_non_null(strstr(err, "leased"));
    assert_int_equal(queue_reopen(e->s, t, id, "boss", NULL, "n", QFX_T0 + 2, q, &s3, NULL,
                                  err, sizeof(err)), HITLQ_ST_INVALID_STATE);
    assert_int_equal(queue_resolve(e->s, t, id, lease, "approve", NULL, NULL, QFX_T0 + 3, &s1,
                                   NULL), HITLQ_ST_OK);
    qfx_commit(t);
    const msgpack_object *ev = last_event(e, id, &r);
    qfx_mstr_eq(ev, "event", "resolved");
    msgpack_unpacked_destroy(&r);

    t = qfx_wtxn(e);
    assert_int_equal(queue_amend(e->s, t, id, "boss", "reject", "wrong call", "fraud",
                                 QFX_T0 + 4, &s2, NULL, err, sizeof(err)), HITLQ_ST_OK);
    assert_int_equal(s2, s1 + 1);
    qfx_commit(t);
    result_at(e, s2, &r);
    qfx_mstr_eq(&r.data, "outcome", "reject");
    qfx_mstr_eq(&r.data, "actor", "boss");
    qfx_mstr_eq(&r.data, "root_cause", "fraud");
    assert_int_equal(qfx_mu64(&r.data, "amends"), s1);
    msgpack_unpacked_destroy(&r);
    qfx_get_item(e, id, &r);
    qfx_mstr_eq(&r.data, "outcome", "reject");
    qfx_mstr_eq(&r.data, "state", "resolved");
    msgpack_unpacked_destroy(&r);

    t = qfx_wtxn(e);
    assert_int_equal(queue_reopen(e->s, t, id, "boss", NULL, "look again", QFX_T0 + 5, q, &s3,
                                  NULL, err, sizeof(err)), HITLQ_ST_OK);
    assert_string_equal(q, "review");
    qfx_commit(t);
    result_at(e, s3, &r);
    qfx_mstr_eq(&r.data, "outcome", "reopened");
    assert_int_equal(qfx_mu64(&r.data, "reopens"), s2);
    qfx_mstr_eq(&r.data, "note", "look again");
    msgpack_unpacked_destroy(&r);
    /* the history: comment, resolved, amended, reopened, in that order */
    qfx_get_item(e, id, &r);
    const msgpack_object *h = qfx_mget(&r.data, "history");
    static const char *const tail[] = { "comment", "resolved", "amended", "reopened" };
    for (size_t i = 0; i < 4; i++)
        qfx_mstr_eq(&h->via.array.ptr[h->via.array.size - 4 + i], "event", tail[i]);
    qfx_mstr_eq(&h->via.array.ptr[h->via.array.size - 4], "note", "looks odd");
    qfx_mstr_eq(&h->via.array.ptr[h->via.array.size - 4], "actor", "dave");
    qfx_mstr_eq(&h->via.array.ptr[h->via.array.size - 1], "queue", "review");
    qfx_mstr_eq(&r.data, "state", "queued");
    msgpack_unpacked_destroy(&r);
    /* queued again: CLAIM takes it */
    assert_int_equal(qfx_claim_id(e, "review", NULL, QFX_T0 + 6, NULL), id);
}

static void
test_reopen_auto(void **state)
{
    struct qfx_env *e = *state;
    uint64_t id = qfx_submit1(e, "a1", NULL, 0, 0, QFX_T0), seq;
    char q[HITLQ_MAX_QUEUE_NAME + 1], err[256];
    MDB_txn *t = qfx_wtxn(e);

    /* auto-resolved: on no queue, so one must be named */
    assert_int_equal(queue_reopen(e->s, t, id, "boss", "", "n", QFX_T0 + 1, q, &seq, NULL,
                                  err, sizeof(err)), HITLQ_ST_INVALID_STATE);
    assert_non_null(strstr(err, "queue"));
    assert_int_equal(queue_reopen(e->s, t, id, "boss", "second", "n", QFX_T0 + 1, q, &seq,
                                  NULL, err, sizeof(err)), HITLQ_ST_OK);
    assert_string_equal(q, "second");
    qfx_commit(t);
    assert_int_equal(qfx_claim_id(e, "second", NULL, QFX_T0 + 2, NULL), id);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_id_by_key, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_list_pages, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_claim_id, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_comment_amend_reopen, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_auto, qfx_setup, qfx_teardown),
    };

    return cmocka_run_group_tests_name("queue_work", tests, NULL, NULL);
}
