/*
 * test_claim.c - CLAIM through libhitlq and raw frames against a real
 * hitlqd (tests/lib/e2e_util.h: one server per test): claim order
 * (priority, escalated queues, deadline and id ties), blocking claims woken
 * by a submit or timing out, waiters that disconnect or race for one item,
 * and SIGTERM with a parked claim, a WATCH and a half-sent frame open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "e2e_util.h"

/* ---- CLAIM ordering -------------------------------------------------------- */

static void test_claim_order(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("specialist-1");
    /* x goes to a second queue via ESCALATE, keeping priority 500 */
    uint64_t x = e2e_must_queue(c, "order-x", 500);
    struct hitlq_claim cl = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    assert_int_equal(cl.id, x);
    assert_int_equal(hitlq_escalate(c, cl.id, cl.lease, "credit_senior", "looks odd"), HITLQ_OK);
    hitlq_claim_clear(&cl);
    /* escalate with the now-ended lease is stale */
    uint64_t p10 = e2e_must_queue(c, "order-p10", 10);
    uint64_t p50a = e2e_must_queue(c, "order-p50a", 50);
    harness_sleep_ms(5);   /* strictly later deadline */
    uint64_t p50b = e2e_must_queue(c, "order-p50b", 50);
    uint64_t p900 = e2e_must_queue(c, "order-p900", 900);
    uint64_t p0 = e2e_must_queue(c, "order-p0", 0);
    /* a claim on credit_review alone never sees credit_senior */
    const char *both[] = { "credit_review", "credit_senior" };
    uint64_t want[] = { p900, x, p50a, p50b, p10, p0 };
    for (size_t i = 0; i < 6; i++) {
        cl = e2e_must_claim(c, both, 2, 60000, 0);
        if (cl.id != want[i])
            fail_msg("claim %zu: got id %" PRIu64 ", want %" PRIu64, i, cl.id, want[i]);
        const msgpack_object *q = hitlq_reply_get(cl.reply, "queue");
        assert_true(hobj_str_eq(q, want[i] == x ? "credit_senior" : "credit_review"));
        hitlq_claim_clear(&cl);
    }
    assert_int_equal(hitlq_claim(c, both, 2, 60000, 0, NULL, &cl), HITLQ_ST_EMPTY);

    /* equal priority and (batch) equal-ish deadlines: lowest id first */
    hitlq_item its[3];
    char keys[3][16];
    for (int i = 0; i < 3; i++) {
        snprintf(keys[i], sizeof keys[i], "tie-%d", i);
        its[i] = (hitlq_item){ .key = keys[i], .type = "credit_application",
                               .fields = e2e_small_fields.data, .fields_len = e2e_small_fields.size,
                               .priority = 42 };
    }
    hitlq_decision d[3];
    int sts[3];
    assert_int_equal(hitlq_submit_batch(c, its, 3, 0, d, sts), HITLQ_OK);
    uint64_t prev_id = 0, prev_dl = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sts[i], HITLQ_OK);
        cl = e2e_must_claim(c, e2e_review, 1, 60000, 0);
        const msgpack_object *dl = hitlq_reply_get(cl.reply, "deadline_ms");
        /* deadline non-decreasing; among equal deadlines id increasing */
        assert_true(hobj_u64(dl) >= prev_dl);
        if (hobj_u64(dl) == prev_dl)
            assert_true(cl.id > prev_id);
        prev_dl = hobj_u64(dl);
        prev_id = cl.id;
        hitlq_claim_clear(&cl);
    }
    hitlq_free(c);
}

/* ---- blocking CLAIM -------------------------------------------------------- */

struct waiter {
    uint16_t port;
    uint32_t wait_ms;
    int      rc;
    uint64_t id;
    uint64_t elapsed_ms;
};

static void *claim_waiter(void *arg)
{
    struct waiter *w = arg;
    hitlq_options o = { .host = "127.0.0.1", .port = w->port, .name = "waiter",
                        .timeout_ms = 30000 };
    hitlq *c = hitlq_connect(&o);
    if (!c || hitlq_err(c) != HITLQ_OK) {
        w->rc = -100;
        hitlq_free(c);
        return NULL;
    }
    struct hitlq_claim cl;
    memset(&cl, 0, sizeof cl);
    uint64_t t0 = harness_now_ms();
    w->rc = hitlq_claim(c, e2e_review, 1, 60000, w->wait_ms, NULL, &cl);
    w->elapsed_ms = harness_now_ms() - t0;
    w->id = cl.id;
    hitlq_claim_clear(&cl);
    hitlq_free(c);
    return NULL;
}

static void test_claim_wait_woken_by_submit(void **st)
{
    (void)st;
    struct waiter w = { .port = e2e_srv.port, .wait_ms = 20000 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, claim_waiter, &w), 0);
    harness_sleep_ms(400);   /* the claim is parked by now */
    hitlq *c = e2e_cli("e2e-bot");
    uint64_t id = e2e_must_queue(c, "wake-1", -1);
    pthread_join(th, NULL);
    assert_int_equal(w.rc, HITLQ_OK);
    assert_int_equal(w.id, id);
    assert_true(w.elapsed_ms >= 300);
    assert_true(w.elapsed_ms < 10000);     /* well before wait_ms (20 s) ran out */
    hitlq_free(c);
}

static void test_claim_wait_empty(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("specialist");
    struct hitlq_claim cl;
    memset(&cl, 0, sizeof cl);
    uint64_t t0 = harness_now_ms();
    assert_int_equal(hitlq_claim(c, e2e_review, 1, 0, 700, NULL, &cl), HITLQ_ST_EMPTY);
    uint64_t dt = harness_now_ms() - t0;
    assert_true(dt >= 600);
    assert_true(dt < 5000);
    /* wait 0: immediately */
    t0 = harness_now_ms();
    assert_int_equal(hitlq_claim(c, e2e_review, 1, 0, 0, NULL, &cl), HITLQ_ST_EMPTY);
    assert_true(harness_now_ms() - t0 < 2000);
    /* the connection is still usable */
    e2e_must_queue(c, "after-empty", -1);
    cl = e2e_must_claim(c, e2e_review, 1, 0, 0);
    hitlq_claim_clear(&cl);
    hitlq_free(c);
}

/* ---- waiters, shutdown ----------------------------------------------------- */

static void pack_claim_body(msgpack_sbuffer *sb, uint32_t wait_ms)
{
    msgpack_sbuffer_init(sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    hpk_str(&pk, "queues");
    msgpack_pack_array(&pk, 1);
    hpk_str(&pk, "credit_review");
    hpk_kv_u64(&pk, "wait_ms", wait_ms);
    hpk_kv_u64(&pk, "lease_ms", 60000);
}

/* A waiting CLAIM whose client went away must not swallow the next item. */
static void test_claim_waiter_disconnects(void **st)
{
    (void)st;
    msgpack_sbuffer sb;
    pack_claim_body(&sb, 20000);
    struct hconn w[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hconn_open(&w[i], e2e_srv.port), 0);
        assert_int_equal(hconn_hello(&w[i], "gone"), 0);
        msgpack_sbuffer fr;
        msgpack_sbuffer_init(&fr);
        hframe_append(&fr, HITLQ_OP_CLAIM, 5, sb.data, sb.size);
        assert_int_equal(hconn_send(&w[i], fr.data, fr.size, 5000), 0);
        msgpack_sbuffer_destroy(&fr);
    }
    harness_sleep_ms(300);
    for (int i = 0; i < 3; i++)
        hconn_close(&w[i]);
    harness_sleep_ms(200);
    hitlq *c = e2e_cli("e2e-bot");
    uint64_t id = e2e_must_queue(c, "after-gone", -1);
    struct hitlq_claim cl = e2e_must_claim(c, e2e_review, 1, 60000, 2000);
    assert_int_equal(cl.id, id);
    assert_int_equal(hobj_u64(hitlq_reply_get(cl.reply, "attempts")), 0);
    hitlq_claim_clear(&cl);
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_get(c, id, &r), HITLQ_OK);
    static const char *const want[] = { "submitted", "scored", "queued", "claimed" };
    hitlq_reply_free(r);
    r = e2e_check_history(c, id, want, 4);
    hitlq_reply_free(r);
    msgpack_sbuffer_destroy(&sb);
    hitlq_free(c);
}

/* Two waiters, one item: exactly one gets it; the other gets EMPTY. */
static void test_claim_two_waiters_one_item(void **st)
{
    (void)st;
    struct waiter a = { .port = e2e_srv.port, .wait_ms = 2500 };
    struct waiter b = { .port = e2e_srv.port, .wait_ms = 2500 };
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, claim_waiter, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, claim_waiter, &b), 0);
    harness_sleep_ms(300);
    hitlq *c = e2e_cli("e2e-bot");
    uint64_t id = e2e_must_queue(c, "one-for-two", -1);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_true((a.rc == HITLQ_OK) != (b.rc == HITLQ_OK));
    struct waiter *won = a.rc == HITLQ_OK ? &a : &b, *lost = a.rc == HITLQ_OK ? &b : &a;
    assert_int_equal(won->id, id);
    assert_int_equal(lost->rc, HITLQ_ST_EMPTY);
    assert_true(won->elapsed_ms < 2300);
    hitlq_free(c);
}

/* SIGTERM with a parked CLAIM, a WATCH and a half-sent frame open: the
 * server exits 0 without sanitizer reports (checked by the teardown). */
static void test_shutdown_with_open_work(void **st)
{
    (void)st;
    struct hconn w, watch, half;
    msgpack_sbuffer sb, fr;
    pack_claim_body(&sb, 60000);
    msgpack_sbuffer_init(&fr);
    hframe_append(&fr, HITLQ_OP_CLAIM, 5, sb.data, sb.size);
    assert_int_equal(hconn_open(&w, e2e_srv.port), 0);
    assert_int_equal(hconn_hello(&w, "parked"), 0);
    assert_int_equal(hconn_send(&w, fr.data, fr.size, 5000), 0);
    msgpack_sbuffer_destroy(&fr);
    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "cursor", 0);
    assert_int_equal(hconn_open(&watch, e2e_srv.port), 0);
    assert_int_equal(hconn_hello(&watch, "watcher"), 0);
    struct hframe f;
    assert_int_equal(hconn_call(&watch, HITLQ_OP_WATCH, 6, sb.data, sb.size, &f, 5000), 1);
    assert_int_equal(f.status, 0);
    hframe_free(&f);
    msgpack_sbuffer_destroy(&sb);
    assert_int_equal(hconn_open(&half, e2e_srv.port), 0);
    assert_int_equal(hconn_hello(&half, "half"), 0);
    uint8_t h[12];
    hframe_header(h, 50, HITLQ_MAGIC, HITLQ_OP_PING, 0, 1);
    assert_int_equal(hconn_send(&half, h, 12, 5000), 0);
    harness_sleep_ms(200);
    uint64_t t0 = harness_now_ms();
    assert_int_equal(harness_server_stop(&e2e_srv), 0);
    assert_true(harness_now_ms() - t0 < 10000);
    /* the parked claim got an answer (shutting_down or empty) or a close */
    int r = hconn_read_frame(&w, &f, 2000);
    if (r == 1) {
        assert_true(f.status == HITLQ_ST_SHUTTING_DOWN || f.status == HITLQ_ST_EMPTY);
        hframe_free(&f);
    } else {
        assert_int_equal(r, 0);
    }
    hconn_close(&w);
    hconn_close(&watch);
    hconn_close(&half);
    /* restart so the teardown has something to stop */
    assert_true(harness_server_restart(&e2e_srv) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        E2E_TEST(test_claim_order),
        E2E_TEST(test_claim_wait_woken_by_submit),
        E2E_TEST(test_claim_wait_empty),
        E2E_TEST(test_claim_waiter_disconnects),
        E2E_TEST(test_claim_two_waiters_one_item),
        E2E_TEST(test_shutdown_with_open_work),
    };
    return e2e_run("claim", tests, sizeof tests / sizeof tests[0]);
}
