/*
 * test_lease.c - leases through libhitlq against a real hitlqd
 * (tests/lib/e2e_util.h: one server per test): EXTEND, RELEASE (now and
 * delayed), RESOLVE and the GET history they leave, expiry and dead
 * letters (max_attempts = 2), ESCALATE with a worker name and the RESULT
 * it produces, and queued, leased and delayed items surviving kill -9.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>

#include "e2e_util.h"

/* ---- leases ---------------------------------------------------------------- */

static void test_lease_ops_and_history(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("alice");
    uint64_t id = e2e_must_queue(c, "lease-1", -1);
    struct hitlq_claim cl = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    assert_int_equal(cl.id, id);
    assert_true(cl.lease != 0);
    assert_int_equal(hobj_u64(hitlq_reply_get(cl.reply, "attempts")), 0);
    assert_true(hobj_str_eq(hitlq_reply_get(cl.reply, "key"), "lease-1"));
    assert_true(hobj_str_eq(hitlq_reply_get(cl.reply, "type"), "credit_application"));
    assert_non_null(hitlq_reply_get(cl.reply, "fields"));
    assert_non_null(hitlq_reply_get(cl.reply, "reasons"));
    uint64_t now = e2e_wall_ms();
    assert_true(cl.expires_ms > now + 50000 && cl.expires_ms < now + 70000);

    /* GET while leased */
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_get(c, id, &r), HITLQ_OK);
    assert_true(hobj_str_eq(hitlq_reply_get(r, "state"), "leased"));
    const msgpack_object *lease = hitlq_reply_get(r, "lease");
    assert_non_null(lease);
    assert_int_equal(lease->type, MSGPACK_OBJECT_MAP);
    char worker[64];
    e2e_find_str(lease, "worker", worker, sizeof worker);
    assert_string_equal(worker, "alice");
    hitlq_reply_free(r);

    uint64_t exp = 0;
    assert_int_equal(hitlq_extend(c, id, cl.lease, 120000, &exp), HITLQ_OK);
    assert_true(exp > cl.expires_ms + 30000);
    assert_int_equal(hitlq_extend(c, id, cl.lease + 1, 120000, &exp), HITLQ_ST_LEASE_HELD);
    assert_int_equal(hitlq_extend(c, 999999, cl.lease, 120000, &exp), HITLQ_ST_NOT_FOUND);

    /* immediate release: claimable again with a new token */
    uint64_t old = cl.lease;
    assert_int_equal(hitlq_release(c, id, cl.lease, 0), HITLQ_OK);
    hitlq_claim_clear(&cl);
    assert_int_equal(hitlq_resolve(c, id, old, "approve", NULL, NULL, NULL),
                     HITLQ_ST_STALE_LEASE);   /* not leased */
    cl = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    assert_int_equal(cl.id, id);
    assert_true(cl.lease != old);
    assert_int_equal(hobj_u64(hitlq_reply_get(cl.reply, "attempts")), 0);   /* not raised */
    assert_int_equal(hitlq_resolve(c, id, old, "approve", NULL, NULL, NULL),
                     HITLQ_ST_LEASE_HELD);   /* old token, claimed again */

    /* delayed release: not claimable at once, claimable after */
    assert_int_equal(hitlq_release(c, id, cl.lease, 300), HITLQ_OK);
    uint64_t t_rel = harness_now_ms();
    hitlq_claim_clear(&cl);
    assert_int_equal(hitlq_get(c, id, &r), HITLQ_OK);
    assert_true(hobj_str_eq(hitlq_reply_get(r, "state"), "delayed"));
    hitlq_reply_free(r);
    struct hitlq_claim none;
    memset(&none, 0, sizeof none);
    assert_int_equal(hitlq_claim(c, e2e_review, 1, 0, 0, NULL, &none), HITLQ_ST_EMPTY);
    cl = e2e_must_claim(c, e2e_review, 1, 60000, 5000);   /* woken when it becomes ready */
    uint64_t dt = harness_now_ms() - t_rel;
    assert_int_equal(cl.id, id);
    assert_true(dt >= 250);
    assert_true(dt < 4000);

    /* resolve */
    uint64_t seq = 0;
    assert_int_equal(hitlq_resolve(c, id, cl.lease, "approve", "checked by hand",
                                   "docs_missing", &seq), HITLQ_OK);
    assert_true(seq >= 1);
    assert_int_equal(hitlq_resolve(c, id, cl.lease, "approve", NULL, NULL, NULL),
                     HITLQ_ST_ALREADY_RESOLVED);
    hitlq_claim_clear(&cl);

    static const char *const want[] = { "submitted", "scored", "queued", "claimed",
                                        "extended", "released", "claimed", "released",
                                        "claimed", "resolved" };
    r = e2e_check_history(c, id, want, sizeof want / sizeof *want);
    assert_true(hobj_str_eq(hitlq_reply_get(r, "state"), "resolved"));
    assert_true(hobj_str_eq(hitlq_reply_get(r, "outcome"), "approve"));
    assert_true(hobj_str_eq(hitlq_reply_get(r, "queue"), "credit_review"));
    char a[64];
    assert_string_equal(e2e_event_actor(r, "claimed", a, sizeof a), "alice");
    assert_string_equal(e2e_event_actor(r, "resolved", a, sizeof a), "alice");
    const msgpack_object *ls = hitlq_reply_get(r, "lease");
    assert_true(ls == NULL || ls->type == MSGPACK_OBJECT_NIL);
    hitlq_reply_free(r);

    /* an auto-resolved item's history */
    for (size_t i = 0; i < e2e_nci && i < 1000; i++) {
        hitlq_item it = { .key = e2e_ci[i].key, .type = "credit_application",
                          .fields = e2e_ci[i].fields, .fields_len = e2e_ci[i].fields_len,
                          .priority = -1 };
        hitlq_decision d;
        assert_int_equal(hitlq_submit(c, &it, &d), HITLQ_OK);
        if (!d.queued) {
            static const char *const aw[] = { "submitted", "scored", "auto_resolved" };
            r = e2e_check_history(c, d.id, aw, 3);
            assert_true(hobj_str_eq(hitlq_reply_get(r, "state"), "resolved"));
            hitlq_reply_free(r);
            break;
        }
        /* queued ones: drain so the queue stays small */
    }
    assert_int_equal(hitlq_get(c, 987654321, &r), HITLQ_ST_NOT_FOUND);
    hitlq_reply_free(r);
    hitlq_free(c);
}

static void test_lease_expiry_and_dead_letter(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("bob");
    uint64_t id = e2e_must_queue(c, "expire-1", -1);
    struct hitlq_claim cl = e2e_must_claim(c, e2e_review, 1, 1000, 0);
    assert_int_equal(cl.id, id);
    uint64_t tok1 = cl.lease;
    hitlq_claim_clear(&cl);
    /* not claimable while leased */
    struct hitlq_claim none;
    memset(&none, 0, sizeof none);
    assert_int_equal(hitlq_claim(c, e2e_review, 1, 0, 0, NULL, &none), HITLQ_ST_EMPTY);
    /* after expiry it is claimable again, attempts 1 */
    uint64_t t0 = harness_now_ms();
    cl = e2e_must_claim(c, e2e_review, 1, 1000, 5000);
    assert_int_equal(cl.id, id);
    assert_true(harness_now_ms() - t0 >= 700);
    assert_int_equal(hobj_u64(hitlq_reply_get(cl.reply, "attempts")), 1);
    assert_int_equal(hitlq_resolve(c, id, tok1, "approve", NULL, NULL, NULL),
                     HITLQ_ST_LEASE_HELD);
    uint64_t exp_ms = 0;
    assert_int_equal(hitlq_extend(c, id, tok1, 5000, &exp_ms), HITLQ_ST_LEASE_HELD);
    assert_int_equal(hitlq_release(c, id, tok1, 0), HITLQ_ST_LEASE_HELD);
    assert_int_equal(hitlq_escalate(c, id, tok1, "elsewhere", NULL), HITLQ_ST_LEASE_HELD);
    hitlq_claim_clear(&cl);
    /* second expiry: max_attempts = 2 -> dead_letter */
    harness_sleep_ms(1100);
    t0 = harness_now_ms();
    assert_int_equal(hitlq_claim(c, e2e_review, 1, 0, 0, NULL, &none), HITLQ_ST_EMPTY);
    const char *dl[] = { "dead_letter" };
    cl = e2e_must_claim(c, dl, 1, 60000, 5000);
    assert_int_equal(cl.id, id);
    assert_true(hobj_str_eq(hitlq_reply_get(cl.reply, "queue"), "dead_letter"));
    assert_int_equal(hobj_u64(hitlq_reply_get(cl.reply, "attempts")), 2);
    uint64_t seq = 0;
    assert_int_equal(hitlq_resolve(c, id, cl.lease, "reject", NULL, NULL, &seq), HITLQ_OK);
    hitlq_claim_clear(&cl);
    static const char *const want[] = { "submitted", "scored", "queued", "claimed", "expired",
                                        "claimed", "expired", "dead_lettered", "claimed",
                                        "resolved" };
    hitlq_reply *r = e2e_check_history(c, id, want, sizeof want / sizeof *want);
    assert_true(hobj_str_eq(hitlq_reply_get(r, "queue"), "dead_letter"));
    assert_int_equal(hobj_u64(hitlq_reply_get(r, "attempts")), 2);
    hitlq_reply_free(r);
    hitlq_free(c);
}

/* ---- ESCALATE, worker override, WATCH details ------------------------------ */

static void test_escalate_and_worker(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("erin");
    uint64_t id = e2e_must_queue(c, "esc-1", 300);
    struct hitlq_claim cl;
    memset(&cl, 0, sizeof cl);
    assert_int_equal(hitlq_claim(c, e2e_review, 1, 60000, 0, "erin-desk-2", &cl), HITLQ_OK);
    assert_int_equal(cl.id, id);
    assert_int_equal(hitlq_escalate(c, id, cl.lease + 1, "fraud_review", NULL),
                     HITLQ_ST_LEASE_HELD);
    assert_int_equal(hitlq_escalate(c, id, cl.lease, "fraud_review", "second look"), HITLQ_OK);
    /* the lease ended */
    assert_int_equal(hitlq_resolve(c, id, cl.lease, "approve", NULL, NULL, NULL),
                     HITLQ_ST_STALE_LEASE);
    hitlq_claim_clear(&cl);
    struct hitlq_claim none;
    memset(&none, 0, sizeof none);
    assert_int_equal(hitlq_claim(c, e2e_review, 1, 0, 0, NULL, &none), HITLQ_ST_EMPTY);
    const char *fr[] = { "fraud_review" };
    cl = e2e_must_claim(c, fr, 1, 60000, 0);
    assert_int_equal(cl.id, id);
    assert_int_equal(hobj_u64(hitlq_reply_get(cl.reply, "priority")), 300);
    uint64_t seq = 0;
    assert_int_equal(hitlq_resolve(c, id, cl.lease, "reject", "fraud", "identity_theft", &seq),
                     HITLQ_OK);
    hitlq_claim_clear(&cl);
    static const char *const want[] = { "submitted", "scored", "queued", "claimed",
                                        "escalated", "claimed", "resolved" };
    hitlq_reply *r = e2e_check_history(c, id, want, 7);
    char a[64];
    assert_string_equal(e2e_event_actor(r, "claimed", a, sizeof a), "erin");
    assert_true(hobj_str_eq(hitlq_reply_get(r, "queue"), "fraud_review"));
    assert_true(hobj_str_eq(hitlq_reply_get(r, "outcome"), "reject"));
    /* escalated event carries from/to/note */
    const msgpack_object *h = hitlq_reply_get(r, "history");
    char ev[32], from[64], to[64], note[64], worker[64];
    bool found = false;
    for (uint32_t i = 0; i < h->via.array.size; i++) {
        e2e_find_str(&h->via.array.ptr[i], "event", ev, sizeof ev);
        if (strcmp(ev, "escalated") == 0) {
            e2e_find_str(&h->via.array.ptr[i], "from", from, sizeof from);
            e2e_find_str(&h->via.array.ptr[i], "to", to, sizeof to);
            e2e_find_str(&h->via.array.ptr[i], "note", note, sizeof note);
            assert_string_equal(from, "credit_review");
            assert_string_equal(to, "fraud_review");
            assert_string_equal(note, "second look");
            found = true;
        }
        if (strcmp(ev, "claimed") == 0 && i == 3) {
            e2e_find_str(&h->via.array.ptr[i], "worker", worker, sizeof worker);
            assert_string_equal(worker, "erin-desk-2");
        }
    }
    assert_true(found);
    hitlq_reply_free(r);
    /* the RESULT carries note and root_cause, actor = HELLO name */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "cursor", seq);
    struct hconn raw;
    assert_int_equal(hconn_open(&raw, e2e_srv.port), 0);
    assert_int_equal(hconn_hello(&raw, "raw-watch"), 0);
    struct hframe f;
    assert_int_equal(hconn_call(&raw, HITLQ_OP_WATCH, 9, sb.data, sb.size, &f, 5000), 1);
    assert_int_equal(f.status, 0);
    assert_int_equal(hobj_u64(hframe_get(&f, "cursor")), seq);
    hframe_free(&f);
    assert_int_equal(hconn_read_frame(&raw, &f, 5000), 1);
    assert_int_equal(f.opcode, HITLQ_OP_RESULT);
    assert_int_equal(f.request_id, 9);
    assert_int_equal(hobj_u64(hframe_get(&f, "seq")), seq);
    assert_int_equal(hobj_u64(hframe_get(&f, "id")), id);
    assert_true(hobj_str_eq(hframe_get(&f, "key"), "esc-1"));
    assert_true(hobj_str_eq(hframe_get(&f, "type"), "credit_application"));
    assert_true(hobj_str_eq(hframe_get(&f, "outcome"), "reject"));
    assert_true(hobj_str_eq(hframe_get(&f, "note"), "fraud"));
    assert_true(hobj_str_eq(hframe_get(&f, "root_cause"), "identity_theft"));
    hobj_str(hframe_get(&f, "actor"), a, sizeof a);
    /* actor: the worker that resolved (the HELLO name here) */
    assert_string_equal(a, "erin");
    const msgpack_object *au = hframe_get(&f, "auto");
    assert_true(au && au->type == MSGPACK_OBJECT_BOOLEAN && !au->via.boolean);
    assert_non_null(hframe_get(&f, "score"));
    assert_non_null(hframe_get(&f, "at_ms"));
    hframe_free(&f);
    /* a second WATCH on the same connection is bad_request */
    assert_int_equal(hconn_call(&raw, HITLQ_OP_WATCH, 10, sb.data, sb.size, &f, 5000), 1);
    assert_int_equal(f.status, HITLQ_ST_BAD_REQUEST);
    hframe_free(&f);
    msgpack_sbuffer_destroy(&sb);
    hconn_close(&raw);
    hitlq_free(c);
}

/* ---- kill -9 --------------------------------------------------------------- */

/* State survives kill -9: queued, leased (token still valid, not claimable)
 * and delayed items. */
static void test_state_survives_kill9(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("frank");
    uint64_t q1 = e2e_must_queue(c, "surv-queued", 10);
    uint64_t l1 = e2e_must_queue(c, "surv-leased", 900);
    uint64_t d1 = e2e_must_queue(c, "surv-delayed", 800);
    struct hitlq_claim cl = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    assert_int_equal(cl.id, l1);
    struct hitlq_claim cd = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    assert_int_equal(cd.id, d1);
    assert_int_equal(hitlq_release(c, d1, cd.lease, 1500), HITLQ_OK);
    uint64_t t_rel = harness_now_ms();
    hitlq_claim_clear(&cd);
    hitlq_free(c);
    assert_int_equal(harness_server_kill(&e2e_srv, SIGKILL), 0);
    assert_true(harness_server_restart(&e2e_srv) > 0);
    c = e2e_cli("frank");
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_get(c, l1, &r), HITLQ_OK);
    assert_true(hobj_str_eq(hitlq_reply_get(r, "state"), "leased"));
    hitlq_reply_free(r);
    assert_int_equal(hitlq_get(c, d1, &r), HITLQ_OK);
    assert_true(hobj_str_eq(hitlq_reply_get(r, "state"), "delayed"));
    hitlq_reply_free(r);
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    const msgpack_object *q = e2e_stats_entry(r, "queues", "queue", "credit_review");
    assert_non_null(q);
    assert_int_equal((int)e2e_map_num(q, "depth"), 1);
    assert_int_equal((int)e2e_map_num(q, "leased"), 1);
    assert_int_equal((int)e2e_map_num(q, "delayed"), 1);
    hitlq_reply_free(r);
    /* the lease token from before the crash still works */
    uint64_t exp = 0;
    assert_int_equal(hitlq_extend(c, l1, cl.lease, 60000, &exp), HITLQ_OK);
    struct hitlq_claim x = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    assert_int_equal(x.id, q1);               /* not the leased nor the delayed one */
    hitlq_claim_clear(&x);
    x = e2e_must_claim(c, e2e_review, 1, 60000, 5000);  /* the delayed one, once ready */
    assert_int_equal(x.id, d1);
    assert_true(harness_now_ms() - t_rel >= 1300);
    hitlq_claim_clear(&x);
    uint64_t seq = 0;
    assert_int_equal(hitlq_resolve(c, l1, cl.lease, "approve", NULL, NULL, &seq), HITLQ_OK);
    hitlq_claim_clear(&cl);
    hitlq_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        E2E_TEST(test_lease_ops_and_history),
        E2E_TEST(test_lease_expiry_and_dead_letter),
        E2E_TEST(test_escalate_and_worker),
        E2E_TEST(test_state_survives_kill9),
    };
    return e2e_run("lease", tests, sizeof tests / sizeof tests[0]);
}
