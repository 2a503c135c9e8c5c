/*
 * test_e2e.c - end-to-end tests through libhitlq (and the CLI) against a
 * real hitlqd child.  Every test gets its own server and data directory
 * (config: max_attempts = 2) and must leave it stoppable with exit 0 and no
 * sanitizer report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "credit_items.h"
#include "harness.h"
#include "hitlq_msgpack.h"

#define CONFIG "max_attempts = 2\n"

static struct hserver S;
static struct credit_item *CI;
static size_t NCI;

static int srv_setup(void **st)
{
    (void)st;
    return harness_server_start(&S, CONFIG) < 0 ? -1 : 0;
}

static int srv_teardown(void **st)
{
    (void)st;
    int rc = harness_server_stop(&S);
    harness_server_cleanup(&S);
    return rc;
}

static uint64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

static hitlq *cli(const char *name)
{
    hitlq_options o = { .host = "127.0.0.1", .port = S.port, .name = name,
                        .timeout_ms = 30000 };
    hitlq *c = hitlq_connect(&o);
    assert_non_null(c);
    if (hitlq_err(c) != HITLQ_OK)
        fail_msg("connect: %s", hitlq_errstr(c));
    return c;
}

/* A packed {"amount": 1000} map: incomplete, therefore queued. */
static msgpack_sbuffer small_fields;

static void pack_small_fields(void)
{
    msgpack_sbuffer_init(&small_fields);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &small_fields, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "amount", 1000);
}

static int submit_queued(hitlq *c, const char *key, int64_t prio, hitlq_decision *d)
{
    hitlq_item it = { .key = key, .type = "credit_application", .fields = small_fields.data,
                      .fields_len = small_fields.size, .priority = prio };
    return hitlq_submit(c, &it, d);
}

static uint64_t must_queue(hitlq *c, const char *key, int64_t prio)
{
    hitlq_decision d;
    int rc = submit_queued(c, key, prio, &d);
    if (rc != HITLQ_OK)
        fail_msg("submit %s: %s (%s)", key, hitlq_strerror(rc), hitlq_errstr(c));
    assert_true(d.queued);
    assert_false(d.duplicate);
    return d.id;
}

static const char *const REVIEW[] = { "credit_review" };

static struct hitlq_claim must_claim(hitlq *c, const char *const *qs, size_t nq,
                                     uint32_t lease_ms, uint32_t wait_ms)
{
    struct hitlq_claim cl;
    memset(&cl, 0, sizeof cl);
    int rc = hitlq_claim(c, qs, nq, lease_ms, wait_ms, NULL, &cl);
    if (rc != HITLQ_OK)
        fail_msg("claim: %s (%s)", hitlq_strerror(rc), hitlq_errstr(c));
    assert_true(cl.id > 0);
    assert_non_null(cl.reply);
    return cl;
}

static bool reasons_sorted(const hitlq_decision *d)
{
    for (size_t i = 1; i < d->n_reasons; i++)
        if (fabs(d->reasons[i].contribution) > fabs(d->reasons[i - 1].contribution) + 1e-12)
            return false;
    return true;
}

/* ---- HELLO / PING --------------------------------------------------- */

static void test_hello_ping(void **st)
{
    (void)st;
    hitlq *c = cli("e2e-bot");
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_call(c, HITLQ_OP_PING, NULL, 0, &r), HITLQ_OK);
    const msgpack_object *t = hitlq_reply_get(r, "time_ms");
    assert_non_null(t);
    assert_true(t->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
    uint64_t now = wall_ms();
    assert_true(t->via.u64 + 60000 > now && t->via.u64 < now + 60000);
    hitlq_reply_free(r);
    hitlq_free(c);

    /* the HELLO reply itself, raw */
    struct hconn h;
    assert_int_equal(hconn_open(&h, S.port), 0);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    hpk_kv_u64(&pk, "version", 1);
    hpk_kv_str(&pk, "client", "test_e2e");
    hpk_kv_str(&pk, "name", "raw-bot");
    struct hframe f;
    assert_int_equal(hconn_call(&h, HITLQ_OP_HELLO, 7, sb.data, sb.size, &f, 5000), 1);
    msgpack_sbuffer_destroy(&sb);
    assert_int_equal(f.status, 0);
    assert_int_equal(f.opcode, HITLQ_OP_HELLO);
    assert_int_equal(hobj_u64(hframe_get(&f, "version")), 1);
    assert_int_equal(hobj_u64(hframe_get(&f, "max_frame")), HITLQ_MAX_FRAME);
    assert_int_equal(hobj_u64(hframe_get(&f, "max_inflight")), HITLQ_MAX_INFLIGHT);
    char server[64];
    hobj_str(hframe_get(&f, "server"), server, sizeof server);
    assert_true(strncmp(server, "hitlqd/", 7) == 0);
    assert_non_null(hframe_get(&f, "time_ms"));
    hframe_free(&f);
    assert_int_equal(hconn_ping(&h, 8), 0);
    hconn_close(&h);
}

/* ---- SUBMIT --------------------------------------------------------- */

static void check_reasons(const msgpack_object *rs)
{
    assert_non_null(rs);
    assert_int_equal(rs->type, MSGPACK_OBJECT_ARRAY);
    assert_true(rs->via.array.size >= 1 && rs->via.array.size <= HITLQ_MAX_REASONS);
    double prev = INFINITY;
    for (uint32_t i = 0; i < rs->via.array.size; i++) {
        const msgpack_object *m = &rs->via.array.ptr[i];
        assert_int_equal(m->type, MSGPACK_OBJECT_MAP);
        bool feat = false, val = false;
        double contrib = NAN;
        for (uint32_t k = 0; k < m->via.map.size; k++) {
            const msgpack_object_kv *kv = &m->via.map.ptr[k];
            if (hobj_str_eq(&kv->key, "feature"))
                feat = kv->val.type == MSGPACK_OBJECT_STR && kv->val.via.str.size > 0;
            else if (hobj_str_eq(&kv->key, "value"))
                val = true;
            else if (hobj_str_eq(&kv->key, "contribution"))
                contrib = hobj_f64(&kv->val);
        }
        assert_true(feat);
        assert_true(val);
        assert_false(isnan(contrib));
        assert_true(fabs(contrib) <= prev + 1e-12);
        prev = fabs(contrib);
    }
}

static void test_submit_auto_and_queued(void **st)
{
    (void)st;
    hitlq *c = cli("e2e-bot");
    bool have_auto = false, have_queued = false;
    for (size_t i = 0; i < NCI && i < 1000 && !(have_auto && have_queued); i++) {
        hitlq_item it = { .key = CI[i].key, .type = "credit_application",
                          .fields = CI[i].fields, .fields_len = CI[i].fields_len,
                          .priority = -1 };
        hitlq_decision d;
        memset(&d, 0, sizeof d);
        int rc = hitlq_submit(c, &it, &d);
        if (rc != HITLQ_OK)
            fail_msg("submit %s: %s (%s)", CI[i].key, hitlq_strerror(rc), hitlq_errstr(c));
        assert_true(d.id > 0);
        assert_false(d.duplicate);
        assert_true(d.score >= 0.0 && d.score <= 1.0);
        assert_true(d.model[0] != 0 && strchr(d.model, '@') != NULL);
        assert_true(d.n_reasons >= 1 && d.n_reasons <= HITLQ_MAX_REASONS);
        assert_true(reasons_sorted(&d));
        for (size_t k = 0; k < d.n_reasons; k++)
            assert_true(d.reasons[k].feature[0] != 0);
        if (!d.queued) {
            assert_string_equal(d.action, "approve");
            have_auto = true;
        } else {
            assert_string_equal(d.queue, "credit_review");
            assert_int_equal(d.priority, 100);
            uint64_t now = wall_ms();
            assert_true(d.deadline_ms > now + 4 * 3600 * 1000ull - 120000);
            assert_true(d.deadline_ms < now + 4 * 3600 * 1000ull + 120000);
            have_queued = true;
        }
    }
    assert_true(have_auto);
    assert_true(have_queued);

    /* the raw SUBMIT reply of an auto-resolvable item carries seq, action,
     * no queue; and an incomplete item is queued with a reason list */
    for (size_t i = 0; i < NCI && i < 1000; i++) {
        char key[32];
        snprintf(key, sizeof key, "raw-%zu", i);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 3);
        hpk_kv_str(&pk, "key", key);
        hpk_kv_str(&pk, "type", "credit_application");
        hpk_str(&pk, "fields");
        msgpack_sbuffer_write(&sb, (const char *)CI[i].fields, CI[i].fields_len);
        hitlq_reply *r = NULL;
        assert_int_equal(hitlq_call(c, HITLQ_OP_SUBMIT, sb.data, sb.size, &r), HITLQ_OK);
        msgpack_sbuffer_destroy(&sb);
        const msgpack_object *oc = hitlq_reply_get(r, "outcome");
        check_reasons(hitlq_reply_get(r, "reasons"));
        if (hobj_str_eq(oc, "auto_resolved")) {
            assert_true(hobj_str_eq(hitlq_reply_get(r, "action"), "approve"));
            assert_null(hitlq_reply_get(r, "queue"));
            assert_true(hobj_u64(hitlq_reply_get(r, "seq")) >= 1);
            assert_true(hitlq_reply_get(r, "duplicate")->type == MSGPACK_OBJECT_BOOLEAN);
            hitlq_reply_free(r);
            break;
        }
        assert_true(hobj_str_eq(oc, "queued"));
        assert_null(hitlq_reply_get(r, "seq"));
        hitlq_reply_free(r);
    }
    hitlq_decision d;
    uint64_t id = must_queue(c, "incomplete-1", -1);
    assert_true(id > 0);
    assert_int_equal(submit_queued(c, "incomplete-2", -1, &d), HITLQ_OK);
    assert_true(d.queued);
    assert_true(d.id > id);   /* monotonic */
    assert_true(d.n_reasons >= 1);
    /* unknown type */
    hitlq_item bad = { .key = "unk-type-1", .type = "no_such_type",
                       .fields = small_fields.data, .fields_len = small_fields.size,
                       .priority = -1 };
    assert_int_equal(hitlq_submit(c, &bad, &d), HITLQ_ST_UNKNOWN_TYPE);
    hitlq_free(c);
}

static void test_idempotency(void **st)
{
    (void)st;
    hitlq *c = cli("e2e-bot");
    /* an auto-resolvable row and a queued one */
    hitlq_decision first[2];
    const char *keys[2] = { NULL, "idem-queued" };
    hitlq_item items[2];
    size_t auto_row = SIZE_MAX;
    for (size_t i = 0; i < NCI && i < 1000; i++) {
        hitlq_item it = { .key = CI[i].key, .type = "credit_application",
                          .fields = CI[i].fields, .fields_len = CI[i].fields_len,
                          .priority = -1 };
        assert_int_equal(hitlq_submit(c, &it, &first[0]), HITLQ_OK);
        if (!first[0].queued) {
            auto_row = i;
            break;
        }
    }
    assert_true(auto_row != SIZE_MAX);
    keys[0] = CI[auto_row].key;
    items[0] = (hitlq_item){ .key = keys[0], .type = "credit_application",
                             .fields = CI[auto_row].fields,
                             .fields_len = CI[auto_row].fields_len, .priority = -1 };
    items[1] = (hitlq_item){ .key = keys[1], .type = "credit_application",
                             .fields = small_fields.data, .fields_len = small_fields.size,
                             .priority = 7 };
    assert_int_equal(hitlq_submit(c, &items[1], &first[1]), HITLQ_OK);
    assert_true(first[1].queued);
    assert_int_equal(first[1].priority, 7);

    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < 2; k++) {
            hitlq_decision d;
            int rc = hitlq_submit(c, &items[k], &d);
            if (rc != HITLQ_OK)
                fail_msg("resubmit %s (round %d): %s", keys[k], round, hitlq_strerror(rc));
            assert_true(d.duplicate);
            assert_int_equal(d.id, first[k].id);
            assert_int_equal(d.queued, first[k].queued);
            assert_true(fabs(d.score - first[k].score) < 1e-9);
            assert_string_equal(d.model, first[k].model);
            if (d.queued) {
                assert_string_equal(d.queue, first[k].queue);
                assert_int_equal(d.deadline_ms, first[k].deadline_ms);
            } else {
                assert_string_equal(d.action, first[k].action);
            }
        }
        /* same key, different content: conflict, nothing overwritten */
        msgpack_sbuffer other;
        msgpack_sbuffer_init(&other);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &other, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 1);
        hpk_kv_u64(&pk, "amount", 2000);
        hitlq_item diff = items[1];
        diff.fields = other.data;
        diff.fields_len = other.size;
        hitlq_decision d;
        assert_int_equal(hitlq_submit(c, &diff, &d), HITLQ_ST_CONFLICT);
        diff = items[0];
        diff.fields = other.data;
        diff.fields_len = other.size;
        assert_int_equal(hitlq_submit(c, &diff, &d), HITLQ_ST_CONFLICT);
        diff = items[1];
        diff.priority = 8;          /* only the priority differs */
        assert_int_equal(hitlq_submit(c, &diff, &d), HITLQ_ST_CONFLICT);
        msgpack_sbuffer_destroy(&other);
        /* the stored item still has the original fields */
        hitlq_reply *r = NULL;
        assert_int_equal(hitlq_get(c, first[1].id, &r), HITLQ_OK);
        const msgpack_object *fl = hitlq_reply_get(r, "fields");
        assert_non_null(fl);
        assert_int_equal(fl->type, MSGPACK_OBJECT_MAP);
        assert_int_equal(fl->via.map.size, 1);
        assert_int_equal(fl->via.map.ptr[0].val.via.u64, 1000);
        assert_int_equal(hobj_u64(hitlq_reply_get(r, "priority")), 7);
        hitlq_reply_free(r);

        if (round == 0) {
            /* restart: duplicates must survive */
            hitlq_free(c);
            assert_int_equal(harness_server_stop(&S), 0);
            assert_true(harness_server_restart(&S) > 0);
            c = cli("e2e-bot");
        }
    }
    hitlq_free(c);
}

/* ---- CLAIM ordering ------------------------------------------------- */

static void test_claim_order(void **st)
{
    (void)st;
    hitlq *c = cli("specialist-1");
    /* x goes to a second queue via ESCALATE, keeping priority 500 */
    uint64_t x = must_queue(c, "order-x", 500);
    struct hitlq_claim cl = must_claim(c, REVIEW, 1, 60000, 0);
    assert_int_equal(cl.id, x);
    assert_int_equal(hitlq_escalate(c, cl.id, cl.lease, "fraud_review", "looks odd"), HITLQ_OK);
    hitlq_claim_clear(&cl);
    /* escalate with the now-ended lease is stale */
    uint64_t p10 = must_queue(c, "order-p10", 10);
    uint64_t p50a = must_queue(c, "order-p50a", 50);
    harness_sleep_ms(5);   /* strictly later deadline */
    uint64_t p50b = must_queue(c, "order-p50b", 50);
    uint64_t p900 = must_queue(c, "order-p900", 900);
    uint64_t p0 = must_queue(c, "order-p0", 0);
    /* a claim on credit_review alone never sees fraud_review */
    const char *both[] = { "credit_review", "fraud_review" };
    uint64_t want[] = { p900, x, p50a, p50b, p10, p0 };
    for (size_t i = 0; i < 6; i++) {
        cl = must_claim(c, both, 2, 60000, 0);
        if (cl.id != want[i])
            fail_msg("claim %zu: got id %" PRIu64 ", want %" PRIu64, i, cl.id, want[i]);
        const msgpack_object *q = hitlq_reply_get(cl.reply, "queue");
        assert_true(hobj_str_eq(q, want[i] == x ? "fraud_review" : "credit_review"));
        hitlq_claim_clear(&cl);
    }
    assert_int_equal(hitlq_claim(c, both, 2, 60000, 0, NULL, &cl), HITLQ_ST_EMPTY);

    /* equal priority and (batch) equal-ish deadlines: lowest id first */
    hitlq_item its[3];
    char keys[3][16];
    for (int i = 0; i < 3; i++) {
        snprintf(keys[i], sizeof keys[i], "tie-%d", i);
        its[i] = (hitlq_item){ .key = keys[i], .type = "credit_application",
                               .fields = small_fields.data, .fields_len = small_fields.size,
                               .priority = 42 };
    }
    hitlq_decision d[3];
    int sts[3];
    assert_int_equal(hitlq_submit_batch(c, its, 3, 0, d, sts), HITLQ_OK);
    uint64_t prev_id = 0, prev_dl = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sts[i], HITLQ_OK);
        cl = must_claim(c, REVIEW, 1, 60000, 0);
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

/* ---- blocking CLAIM ---------------------------------------------------- */

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
    w->rc = hitlq_claim(c, REVIEW, 1, 60000, w->wait_ms, NULL, &cl);
    w->elapsed_ms = harness_now_ms() - t0;
    w->id = cl.id;
    hitlq_claim_clear(&cl);
    hitlq_free(c);
    return NULL;
}

static void test_claim_wait_woken_by_submit(void **st)
{
    (void)st;
    struct waiter w = { .port = S.port, .wait_ms = 20000 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, claim_waiter, &w), 0);
    harness_sleep_ms(400);   /* the claim is parked by now */
    hitlq *c = cli("e2e-bot");
    uint64_t id = must_queue(c, "wake-1", -1);
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
    hitlq *c = cli("specialist");
    struct hitlq_claim cl;
    memset(&cl, 0, sizeof cl);
    uint64_t t0 = harness_now_ms();
    assert_int_equal(hitlq_claim(c, REVIEW, 1, 0, 700, NULL, &cl), HITLQ_ST_EMPTY);
    uint64_t dt = harness_now_ms() - t0;
    assert_true(dt >= 600);
    assert_true(dt < 5000);
    /* wait 0: immediately */
    t0 = harness_now_ms();
    assert_int_equal(hitlq_claim(c, REVIEW, 1, 0, 0, NULL, &cl), HITLQ_ST_EMPTY);
    assert_true(harness_now_ms() - t0 < 2000);
    /* the connection is still usable */
    must_queue(c, "after-empty", -1);
    cl = must_claim(c, REVIEW, 1, 0, 0);
    hitlq_claim_clear(&cl);
    hitlq_free(c);
}

/* ---- leases ---------------------------------------------------------- */

static int find_str(const msgpack_object *m, const char *k, char *out, size_t n)
{
    out[0] = 0;
    if (!m || m->type != MSGPACK_OBJECT_MAP)
        return -1;
    for (uint32_t i = 0; i < m->via.map.size; i++)
        if (hobj_str_eq(&m->via.map.ptr[i].key, k)) {
            hobj_str(&m->via.map.ptr[i].val, out, n);
            return 0;
        }
    return -1;
}

/* Checks the GET history's event names are exactly `want` (n of them),
 * and returns the reply for more checks. */
static hitlq_reply *check_history(hitlq *c, uint64_t id, const char *const *want, size_t n)
{
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_get(c, id, &r), HITLQ_OK);
    const msgpack_object *h = hitlq_reply_get(r, "history");
    assert_non_null(h);
    assert_int_equal(h->type, MSGPACK_OBJECT_ARRAY);
    char got[1024] = "", ev[64];
    for (uint32_t i = 0; i < h->via.array.size; i++) {
        find_str(&h->via.array.ptr[i], "event", ev, sizeof ev);
        strncat(got, ev, sizeof got - strlen(got) - 2);
        strcat(got, " ");
    }
    char exp[1024] = "";
    for (size_t i = 0; i < n; i++) {
        strncat(exp, want[i], sizeof exp - strlen(exp) - 2);
        strcat(exp, " ");
    }
    if (strcmp(got, exp) != 0)
        fail_msg("history of %" PRIu64 ":\n  got  %s\n  want %s", id, got, exp);
    /* at_ms non-decreasing, every event has an actor */
    uint64_t prev = 0;
    for (uint32_t i = 0; i < h->via.array.size; i++) {
        const msgpack_object *e = &h->via.array.ptr[i];
        uint64_t at = 0;
        bool actor = false;
        for (uint32_t k = 0; k < e->via.map.size; k++) {
            if (hobj_str_eq(&e->via.map.ptr[k].key, "at_ms"))
                at = hobj_u64(&e->via.map.ptr[k].val);
            if (hobj_str_eq(&e->via.map.ptr[k].key, "actor"))
                actor = true;
        }
        assert_true(actor);
        assert_true(at >= prev);
        prev = at;
    }
    return r;
}

static const char *event_actor(const hitlq_reply *r, const char *event, char *out, size_t n)
{
    const msgpack_object *h = hitlq_reply_get(r, "history");
    out[0] = 0;
    char ev[64];
    for (uint32_t i = 0; h && i < h->via.array.size; i++) {
        find_str(&h->via.array.ptr[i], "event", ev, sizeof ev);
        if (strcmp(ev, event) == 0)
            find_str(&h->via.array.ptr[i], "actor", out, n);
    }
    return out;
}

static void test_lease_ops_and_history(void **st)
{
    (void)st;
    hitlq *c = cli("alice");
    uint64_t id = must_queue(c, "lease-1", -1);
    struct hitlq_claim cl = must_claim(c, REVIEW, 1, 60000, 0);
    assert_int_equal(cl.id, id);
    assert_true(cl.lease != 0);
    assert_int_equal(hobj_u64(hitlq_reply_get(cl.reply, "attempts")), 0);
    assert_true(hobj_str_eq(hitlq_reply_get(cl.reply, "key"), "lease-1"));
    assert_true(hobj_str_eq(hitlq_reply_get(cl.reply, "type"), "credit_application"));
    assert_non_null(hitlq_reply_get(cl.reply, "fields"));
    assert_non_null(hitlq_reply_get(cl.reply, "reasons"));
    uint64_t now = wall_ms();
    assert_true(cl.expires_ms > now + 50000 && cl.expires_ms < now + 70000);

    /* GET while leased */
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_get(c, id, &r), HITLQ_OK);
    assert_true(hobj_str_eq(hitlq_reply_get(r, "state"), "leased"));
    const msgpack_object *lease = hitlq_reply_get(r, "lease");
    assert_non_null(lease);
    assert_int_equal(lease->type, MSGPACK_OBJECT_MAP);
    char worker[64];
    find_str(lease, "worker", worker, sizeof worker);
    assert_string_equal(worker, "alice");
    hitlq_reply_free(r);

    uint64_t exp = 0;
    assert_int_equal(hitlq_extend(c, id, cl.lease, 120000, &exp), HITLQ_OK);
    assert_true(exp > cl.expires_ms + 30000);
    assert_int_equal(hitlq_extend(c, id, cl.lease + 1, 120000, &exp), HITLQ_ST_STALE_LEASE);
    assert_int_equal(hitlq_extend(c, 999999, cl.lease, 120000, &exp), HITLQ_ST_NOT_FOUND);

    /* immediate release: claimable again with a new token */
    uint64_t old = cl.lease;
    assert_int_equal(hitlq_release(c, id, cl.lease, 0), HITLQ_OK);
    hitlq_claim_clear(&cl);
    assert_int_equal(hitlq_resolve(c, id, old, "approve", NULL, NULL, NULL),
                     HITLQ_ST_STALE_LEASE);   /* not leased */
    cl = must_claim(c, REVIEW, 1, 60000, 0);
    assert_int_equal(cl.id, id);
    assert_true(cl.lease != old);
    assert_int_equal(hobj_u64(hitlq_reply_get(cl.reply, "attempts")), 0);   /* not raised */
    assert_int_equal(hitlq_resolve(c, id, old, "approve", NULL, NULL, NULL),
                     HITLQ_ST_STALE_LEASE);   /* old token */

    /* delayed release: not claimable at once, claimable after */
    assert_int_equal(hitlq_release(c, id, cl.lease, 300), HITLQ_OK);
    uint64_t t_rel = harness_now_ms();
    hitlq_claim_clear(&cl);
    assert_int_equal(hitlq_get(c, id, &r), HITLQ_OK);
    assert_true(hobj_str_eq(hitlq_reply_get(r, "state"), "delayed"));
    hitlq_reply_free(r);
    struct hitlq_claim none;
    memset(&none, 0, sizeof none);
    assert_int_equal(hitlq_claim(c, REVIEW, 1, 0, 0, NULL, &none), HITLQ_ST_EMPTY);
    cl = must_claim(c, REVIEW, 1, 60000, 5000);   /* woken when it becomes ready */
    uint64_t dt = harness_now_ms() - t_rel;
    assert_int_equal(cl.id, id);
    assert_true(dt >= 250);
    assert_true(dt < 4000);

    /* resolve */
    uint64_t seq = 0;
    assert_int_equal(hitlq_resolve(c, id, cl.lease, "approve", "checked by hand",
                                   "docs_missing", &seq), HITLQ_OK);
    assert_true(seq >= 1);
    assert_int_equal(hitlq_resolve(c, id, cl.lease, "approve", NULL, NULL, NULL) ==
                         HITLQ_ST_STALE_LEASE ||
                     hitlq_err(c) == HITLQ_ST_INVALID_STATE, 1);
    hitlq_claim_clear(&cl);

    static const char *const want[] = { "submitted", "scored", "queued", "claimed",
                                        "extended", "released", "claimed", "released",
                                        "claimed", "resolved" };
    r = check_history(c, id, want, sizeof want / sizeof *want);
    assert_true(hobj_str_eq(hitlq_reply_get(r, "state"), "resolved"));
    assert_true(hobj_str_eq(hitlq_reply_get(r, "outcome"), "approve"));
    assert_true(hobj_str_eq(hitlq_reply_get(r, "queue"), "credit_review"));
    char a[64];
    assert_string_equal(event_actor(r, "claimed", a, sizeof a), "alice");
    assert_string_equal(event_actor(r, "resolved", a, sizeof a), "alice");
    const msgpack_object *ls = hitlq_reply_get(r, "lease");
    assert_true(ls == NULL || ls->type == MSGPACK_OBJECT_NIL);
    hitlq_reply_free(r);

    /* an auto-resolved item's history */
    for (size_t i = 0; i < NCI && i < 1000; i++) {
        hitlq_item it = { .key = CI[i].key, .type = "credit_application",
                          .fields = CI[i].fields, .fields_len = CI[i].fields_len,
                          .priority = -1 };
        hitlq_decision d;
        assert_int_equal(hitlq_submit(c, &it, &d), HITLQ_OK);
        if (!d.queued) {
            static const char *const aw[] = { "submitted", "scored", "auto_resolved" };
            r = check_history(c, d.id, aw, 3);
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
    hitlq *c = cli("bob");
    uint64_t id = must_queue(c, "expire-1", -1);
    struct hitlq_claim cl = must_claim(c, REVIEW, 1, 1000, 0);
    assert_int_equal(cl.id, id);
    uint64_t tok1 = cl.lease;
    hitlq_claim_clear(&cl);
    /* not claimable while leased */
    struct hitlq_claim none;
    memset(&none, 0, sizeof none);
    assert_int_equal(hitlq_claim(c, REVIEW, 1, 0, 0, NULL, &none), HITLQ_ST_EMPTY);
    /* after expiry it is claimable again, attempts 1 */
    uint64_t t0 = harness_now_ms();
    cl = must_claim(c, REVIEW, 1, 1000, 5000);
    assert_int_equal(cl.id, id);
    assert_true(harness_now_ms() - t0 >= 700);
    assert_int_equal(hobj_u64(hitlq_reply_get(cl.reply, "attempts")), 1);
    assert_int_equal(hitlq_resolve(c, id, tok1, "approve", NULL, NULL, NULL),
                     HITLQ_ST_STALE_LEASE);
    uint64_t exp_ms = 0;
    assert_int_equal(hitlq_extend(c, id, tok1, 5000, &exp_ms), HITLQ_ST_STALE_LEASE);
    assert_int_equal(hitlq_release(c, id, tok1, 0), HITLQ_ST_STALE_LEASE);
    assert_int_equal(hitlq_escalate(c, id, tok1, "elsewhere", NULL), HITLQ_ST_STALE_LEASE);
    hitlq_claim_clear(&cl);
    /* second expiry: max_attempts = 2 -> dead_letter */
    harness_sleep_ms(1100);
    t0 = harness_now_ms();
    assert_int_equal(hitlq_claim(c, REVIEW, 1, 0, 0, NULL, &none), HITLQ_ST_EMPTY);
    const char *dl[] = { "dead_letter" };
    cl = must_claim(c, dl, 1, 60000, 5000);
    assert_int_equal(cl.id, id);
    assert_true(hobj_str_eq(hitlq_reply_get(cl.reply, "queue"), "dead_letter"));
    assert_int_equal(hobj_u64(hitlq_reply_get(cl.reply, "attempts")), 2);
    uint64_t seq = 0;
    assert_int_equal(hitlq_resolve(c, id, cl.lease, "reject", NULL, NULL, &seq), HITLQ_OK);
    hitlq_claim_clear(&cl);
    static const char *const want[] = { "submitted", "scored", "queued", "claimed", "expired",
                                        "claimed", "expired", "dead_lettered", "claimed",
                                        "resolved" };
    hitlq_reply *r = check_history(c, id, want, sizeof want / sizeof *want);
    assert_true(hobj_str_eq(hitlq_reply_get(r, "queue"), "dead_letter"));
    assert_int_equal(hobj_u64(hitlq_reply_get(r, "attempts")), 2);
    hitlq_reply_free(r);
    hitlq_free(c);
}

/* ---- STATS ------------------------------------------------------------- */

static const msgpack_object *stats_entry(const hitlq_reply *r, const char *list,
                                         const char *kname, const char *name)
{
    const msgpack_object *a = hitlq_reply_get(r, list);
    if (!a || a->type != MSGPACK_OBJECT_ARRAY)
        return NULL;
    for (uint32_t i = 0; i < a->via.array.size; i++) {
        char n[80];
        find_str(&a->via.array.ptr[i], kname, n, sizeof n);
        if (strcmp(n, name) == 0)
            return &a->via.array.ptr[i];
    }
    return NULL;
}

static double map_num(const msgpack_object *m, const char *k)
{
    for (uint32_t i = 0; m && i < m->via.map.size; i++)
        if (hobj_str_eq(&m->via.map.ptr[i].key, k))
            return hobj_f64(&m->via.map.ptr[i].val);
    return NAN;
}

static void test_stats(void **st)
{
    (void)st;
    hitlq *c = cli("carol");
    unsigned n_auto = 0, n_queued = 0;
    for (size_t i = 0; i < NCI && i < 40; i++) {
        hitlq_item it = { .key = CI[i].key, .type = "credit_application",
                          .fields = CI[i].fields, .fields_len = CI[i].fields_len,
                          .priority = -1 };
        hitlq_decision d;
        assert_int_equal(hitlq_submit(c, &it, &d), HITLQ_OK);
        if (d.queued)
            n_queued++;
        else
            n_auto++;
    }
    for (int i = 0; i < 4; i++) {
        char k[16];
        snprintf(k, sizeof k, "st-%d", i);
        must_queue(c, k, -1);
        n_queued++;
    }
    struct hitlq_claim a = must_claim(c, REVIEW, 1, 60000, 0);
    struct hitlq_claim b = must_claim(c, REVIEW, 1, 60000, 0);
    struct hitlq_claim d = must_claim(c, REVIEW, 1, 60000, 0);
    assert_int_equal(hitlq_release(c, b.id, b.lease, 60000), HITLQ_OK);
    uint64_t seq = 0;
    assert_int_equal(hitlq_resolve(c, d.id, d.lease, "reject", NULL, NULL, &seq), HITLQ_OK);

    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    const msgpack_object *q = stats_entry(r, "queues", "queue", "credit_review");
    assert_non_null(q);
    assert_int_equal((int)map_num(q, "depth"), (int)n_queued - 3);
    assert_int_equal((int)map_num(q, "leased"), 1);
    assert_int_equal((int)map_num(q, "delayed"), 1);
    assert_int_equal((int)map_num(q, "sla_breached"), 0);
    assert_true(map_num(q, "oldest_age_ms") >= 0);
    const msgpack_object *t = stats_entry(r, "types", "type", "credit_application");
    assert_non_null(t);
    assert_int_equal((int)map_num(t, "submitted"), (int)(n_auto + n_queued));
    assert_int_equal((int)map_num(t, "auto_resolved"), (int)n_auto);
    assert_int_equal((int)map_num(t, "queued"), (int)n_queued);
    double rate = map_num(t, "auto_rate");
    assert_true(fabs(rate - (double)n_auto / (double)(n_auto + n_queued)) < 1e-6);
    /* next result seq = results so far + 1 */
    assert_int_equal(hobj_u64(hitlq_reply_get(r, "results")), n_auto + 1 + 1);
    assert_int_equal(seq, n_auto + 1);
    hitlq_reply_free(r);
    hitlq_claim_clear(&a);
    hitlq_claim_clear(&b);
    hitlq_claim_clear(&d);
    hitlq_free(c);
}

/* ---- WATCH --------------------------------------------------------------- */

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
    while (got_rows < n_auto && *row < NCI) {
        got_rows++;
        hitlq_item it = { .key = CI[*row].key, .type = "credit_application",
                          .fields = CI[*row].fields, .fields_len = CI[*row].fields_len,
                          .priority = -1 };
        (*row)++;
        hitlq_decision d;
        assert_int_equal(hitlq_submit(c, &it, &d), HITLQ_OK);
        if (!d.queued) {
            ids[nids++] = d.id;
        } else {
            /* resolve queued rows by hand too: they are results */
            struct hitlq_claim cl = must_claim(c, REVIEW, 1, 60000, 0);
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
        uint64_t id = must_queue(c, k, -1);
        struct hitlq_claim cl = must_claim(c, REVIEW, 1, 60000, 0);
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
    hitlq *c = cli("dave");
    uint64_t ids[400];
    size_t nids = 0, row = 0;
    nids = produce(c, &row, 5, 5, ids, nids, 1);
    size_t phase1 = nids;

    /* a watcher from cursor 1 that must see phase1 + phase2 results */
    struct watch_thread wt = { .port = S.port, .cursor = 1 };
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
    hitlq *w2 = cli("watcher2");
    assert_int_equal(hitlq_watch(w2, nids + 1, 500, collect, &extra), HITLQ_ETIMEOUT);
    assert_int_equal(extra.n, 0);
    hitlq_free(w2);

    /* reconnect from last+1 after more results: resumes without gaps */
    size_t before = nids;
    nids = produce(c, &row, 3, 3, ids, nids, 3);
    struct watch_col res = { .r = calloc(16, sizeof(struct wres)), .cap = 16,
                             .want = nids - before };
    w2 = cli("watcher3");
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
    w2 = cli("watcher4");
    assert_int_equal(hitlq_watch(w2, 0, 500, collect, &extra), HITLQ_ETIMEOUT);
    assert_int_equal(extra.n, 0);
    hitlq_free(w2);
    free(extra.r);
    free(res.r);
    free(wt.col.r);
    hitlq_free(c);
}


/* ---- ESCALATE, worker override, WATCH details -------------------------- */

static void test_escalate_and_worker(void **st)
{
    (void)st;
    hitlq *c = cli("erin");
    uint64_t id = must_queue(c, "esc-1", 300);
    struct hitlq_claim cl;
    memset(&cl, 0, sizeof cl);
    assert_int_equal(hitlq_claim(c, REVIEW, 1, 60000, 0, "erin-desk-2", &cl), HITLQ_OK);
    assert_int_equal(cl.id, id);
    assert_int_equal(hitlq_escalate(c, id, cl.lease + 1, "fraud_review", NULL),
                     HITLQ_ST_STALE_LEASE);
    assert_int_equal(hitlq_escalate(c, id, cl.lease, "fraud_review", "second look"), HITLQ_OK);
    /* the lease ended */
    assert_int_equal(hitlq_resolve(c, id, cl.lease, "approve", NULL, NULL, NULL),
                     HITLQ_ST_STALE_LEASE);
    hitlq_claim_clear(&cl);
    struct hitlq_claim none;
    memset(&none, 0, sizeof none);
    assert_int_equal(hitlq_claim(c, REVIEW, 1, 0, 0, NULL, &none), HITLQ_ST_EMPTY);
    const char *fr[] = { "fraud_review" };
    cl = must_claim(c, fr, 1, 60000, 0);
    assert_int_equal(cl.id, id);
    assert_int_equal(hobj_u64(hitlq_reply_get(cl.reply, "priority")), 300);
    uint64_t seq = 0;
    assert_int_equal(hitlq_resolve(c, id, cl.lease, "reject", "fraud", "identity_theft", &seq),
                     HITLQ_OK);
    hitlq_claim_clear(&cl);
    static const char *const want[] = { "submitted", "scored", "queued", "claimed",
                                        "escalated", "claimed", "resolved" };
    hitlq_reply *r = check_history(c, id, want, 7);
    char a[64];
    assert_string_equal(event_actor(r, "claimed", a, sizeof a), "erin");
    assert_true(hobj_str_eq(hitlq_reply_get(r, "queue"), "fraud_review"));
    assert_true(hobj_str_eq(hitlq_reply_get(r, "outcome"), "reject"));
    /* escalated event carries from/to/note */
    const msgpack_object *h = hitlq_reply_get(r, "history");
    char ev[32], from[64], to[64], note[64], worker[64];
    bool found = false;
    for (uint32_t i = 0; i < h->via.array.size; i++) {
        find_str(&h->via.array.ptr[i], "event", ev, sizeof ev);
        if (strcmp(ev, "escalated") == 0) {
            find_str(&h->via.array.ptr[i], "from", from, sizeof from);
            find_str(&h->via.array.ptr[i], "to", to, sizeof to);
            find_str(&h->via.array.ptr[i], "note", note, sizeof note);
            assert_string_equal(from, "credit_review");
            assert_string_equal(to, "fraud_review");
            assert_string_equal(note, "second look");
            found = true;
        }
        if (strcmp(ev, "claimed") == 0 && i == 3) {
            find_str(&h->via.array.ptr[i], "worker", worker, sizeof worker);
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
    assert_int_equal(hconn_open(&raw, S.port), 0);
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

/* State survives kill -9: queued, leased (token still valid, not claimable)
 * and delayed items. */
static void test_state_survives_kill9(void **st)
{
    (void)st;
    hitlq *c = cli("frank");
    uint64_t q1 = must_queue(c, "surv-queued", 10);
    uint64_t l1 = must_queue(c, "surv-leased", 900);
    uint64_t d1 = must_queue(c, "surv-delayed", 800);
    struct hitlq_claim cl = must_claim(c, REVIEW, 1, 60000, 0);
    assert_int_equal(cl.id, l1);
    struct hitlq_claim cd = must_claim(c, REVIEW, 1, 60000, 0);
    assert_int_equal(cd.id, d1);
    assert_int_equal(hitlq_release(c, d1, cd.lease, 1500), HITLQ_OK);
    uint64_t t_rel = harness_now_ms();
    hitlq_claim_clear(&cd);
    hitlq_free(c);
    assert_int_equal(harness_server_kill(&S, SIGKILL), 0);
    assert_true(harness_server_restart(&S) > 0);
    c = cli("frank");
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_get(c, l1, &r), HITLQ_OK);
    assert_true(hobj_str_eq(hitlq_reply_get(r, "state"), "leased"));
    hitlq_reply_free(r);
    assert_int_equal(hitlq_get(c, d1, &r), HITLQ_OK);
    assert_true(hobj_str_eq(hitlq_reply_get(r, "state"), "delayed"));
    hitlq_reply_free(r);
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    const msgpack_object *q = stats_entry(r, "queues", "queue", "credit_review");
    assert_non_null(q);
    assert_int_equal((int)map_num(q, "depth"), 1);
    assert_int_equal((int)map_num(q, "leased"), 1);
    assert_int_equal((int)map_num(q, "delayed"), 1);
    hitlq_reply_free(r);
    /* the lease token from before the crash still works */
    uint64_t exp = 0;
    assert_int_equal(hitlq_extend(c, l1, cl.lease, 60000, &exp), HITLQ_OK);
    struct hitlq_claim x = must_claim(c, REVIEW, 1, 60000, 0);
    assert_int_equal(x.id, q1);               /* not the leased nor the delayed one */
    hitlq_claim_clear(&x);
    x = must_claim(c, REVIEW, 1, 60000, 5000);  /* the delayed one, once ready */
    assert_int_equal(x.id, d1);
    assert_true(harness_now_ms() - t_rel >= 1300);
    hitlq_claim_clear(&x);
    uint64_t seq = 0;
    assert_int_equal(hitlq_resolve(c, l1, cl.lease, "approve", NULL, NULL, &seq), HITLQ_OK);
    hitlq_claim_clear(&cl);
    hitlq_free(c);
}


/* ---- waiters, pipelining, shutdown ----------------------------------- */

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
        assert_int_equal(hconn_open(&w[i], S.port), 0);
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
    hitlq *c = cli("e2e-bot");
    uint64_t id = must_queue(c, "after-gone", -1);
    struct hitlq_claim cl = must_claim(c, REVIEW, 1, 60000, 2000);
    assert_int_equal(cl.id, id);
    assert_int_equal(hobj_u64(hitlq_reply_get(cl.reply, "attempts")), 0);
    hitlq_claim_clear(&cl);
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_get(c, id, &r), HITLQ_OK);
    static const char *const want[] = { "submitted", "scored", "queued", "claimed" };
    hitlq_reply_free(r);
    r = check_history(c, id, want, 4);
    hitlq_reply_free(r);
    msgpack_sbuffer_destroy(&sb);
    hitlq_free(c);
}

/* Two waiters, one item: exactly one gets it; the other gets EMPTY. */
static void test_claim_two_waiters_one_item(void **st)
{
    (void)st;
    struct waiter a = { .port = S.port, .wait_ms = 2500 };
    struct waiter b = { .port = S.port, .wait_ms = 2500 };
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, claim_waiter, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, claim_waiter, &b), 0);
    harness_sleep_ms(300);
    hitlq *c = cli("e2e-bot");
    uint64_t id = must_queue(c, "one-for-two", -1);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_true((a.rc == HITLQ_OK) != (b.rc == HITLQ_OK));
    struct waiter *won = a.rc == HITLQ_OK ? &a : &b, *lost = a.rc == HITLQ_OK ? &b : &a;
    assert_int_equal(won->id, id);
    assert_int_equal(lost->rc, HITLQ_ST_EMPTY);
    assert_true(won->elapsed_ms < 2300);
    hitlq_free(c);
}

/* Writes pipelined on one connection are applied in order: ids increase
 * with the request order, and key reuse in the same pipeline is resolved
 * in order (first wins, the later different one conflicts). */
static void test_pipelined_writes_in_order(void **st)
{
    (void)st;
    struct hconn h;
    assert_int_equal(hconn_open(&h, S.port), 0);
    assert_int_equal(hconn_hello(&h, "pipe"), 0);
    msgpack_sbuffer fr;
    msgpack_sbuffer_init(&fr);
    enum { N = 40 };
    for (uint32_t i = 0; i < N; i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 3);
        char key[32];
        /* request 30 reuses key of request 10 with other content */
        snprintf(key, sizeof key, "pipe-%u", i == 30 ? 10u : i);
        hpk_kv_str(&pk, "key", key);
        hpk_kv_str(&pk, "type", "credit_application");
        hpk_str(&pk, "fields");
        msgpack_pack_map(&pk, 1);
        hpk_kv_u64(&pk, "amount", 1000 + i);
        hframe_append(&fr, HITLQ_OP_SUBMIT, 100 + i, sb.data, sb.size);
        msgpack_sbuffer_destroy(&sb);
    }
    assert_int_equal(hconn_send(&h, fr.data, fr.size, 5000), 0);
    msgpack_sbuffer_destroy(&fr);
    uint64_t ids[N] = { 0 };
    uint16_t sts[N];
    for (int n = 0; n < N; n++) {
        struct hframe f;
        assert_int_equal(hconn_read_frame(&h, &f, 10000), 1);
        assert_true(f.request_id >= 100 && f.request_id < 100 + N);
        uint32_t i = f.request_id - 100;
        sts[i] = f.status;
        ids[i] = hobj_u64(hframe_get(&f, "id"));
        hframe_free(&f);
    }
    uint64_t prev = 0;
    for (int i = 0; i < N; i++) {
        if (i == 30) {
            assert_int_equal(sts[i], HITLQ_ST_CONFLICT);
            continue;
        }
        assert_int_equal(sts[i], 0);
        assert_true(ids[i] > prev);
        prev = ids[i];
    }
    hconn_close(&h);
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
    assert_int_equal(hconn_open(&w, S.port), 0);
    assert_int_equal(hconn_hello(&w, "parked"), 0);
    assert_int_equal(hconn_send(&w, fr.data, fr.size, 5000), 0);
    msgpack_sbuffer_destroy(&fr);
    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "cursor", 0);
    assert_int_equal(hconn_open(&watch, S.port), 0);
    assert_int_equal(hconn_hello(&watch, "watcher"), 0);
    struct hframe f;
    assert_int_equal(hconn_call(&watch, HITLQ_OP_WATCH, 6, sb.data, sb.size, &f, 5000), 1);
    assert_int_equal(f.status, 0);
    hframe_free(&f);
    msgpack_sbuffer_destroy(&sb);
    assert_int_equal(hconn_open(&half, S.port), 0);
    assert_int_equal(hconn_hello(&half, "half"), 0);
    uint8_t h[12];
    hframe_header(h, 50, HITLQ_MAGIC, HITLQ_OP_PING, 0, 1);
    assert_int_equal(hconn_send(&half, h, 12, 5000), 0);
    harness_sleep_ms(200);
    uint64_t t0 = harness_now_ms();
    assert_int_equal(harness_server_stop(&S), 0);
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
    assert_true(harness_server_restart(&S) > 0);
}


/* ---- SLA ---------------------------------------------------------------- */

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    assert_non_null(a);
    assert_non_null(b);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        assert_int_equal(fwrite(buf, 1, n, b), n);
    fclose(a);
    fclose(b);
}

/* A policy with a 1 s SLA: STATS counts open items past their deadline. */
static void test_sla_breached(void **st)
{
    (void)st;
    assert_int_equal(harness_server_stop(&S), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/credit_scorecard.json", S.dir);
    copy_file("server/score/defaults/credit_scorecard.json", path);
    snprintf(path, sizeof path, "%s/policy.json", S.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"format\": \"hitlq-policy\", \"format_version\": 1, \"id\": \"sla-test\", "
               "\"version\": \"1\", \"types\": {\"credit_application\": {"
               "\"model\": \"credit_scorecard.json\", \"auto_threshold\": 0.8, "
               "\"auto_action\": \"approve\", \"queue\": \"credit_review\", "
               "\"priority\": 100, \"sla_seconds\": 1}}}\n");
    fclose(f);
    f = fopen(S.cfgfile, "w");
    assert_non_null(f);
    fprintf(f, "max_attempts = 2\npolicy = \"%s\"\n", path);
    fclose(f);
    S.has_cfg = true;
    assert_true(harness_server_restart(&S) > 0);
    hitlq *c = cli("sla");
    hitlq_decision d;
    assert_int_equal(submit_queued(c, "sla-1", -1, &d), HITLQ_OK);
    uint64_t now = wall_ms();
    assert_true(d.deadline_ms <= now + 1000 + 50 && d.deadline_ms + 5000 > now + 1000);
    must_queue(c, "sla-2", -1);
    must_queue(c, "sla-3", -1);
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    const msgpack_object *q = stats_entry(r, "queues", "queue", "credit_review");
    assert_int_equal((int)map_num(q, "depth"), 3);
    assert_int_equal((int)map_num(q, "sla_breached"), 0);
    hitlq_reply_free(r);
    struct hitlq_claim cl = must_claim(c, REVIEW, 1, 60000, 0);
    harness_sleep_ms(1300);
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    q = stats_entry(r, "queues", "queue", "credit_review");
    assert_int_equal((int)map_num(q, "depth"), 2);
    assert_int_equal((int)map_num(q, "leased"), 1);
    assert_int_equal((int)map_num(q, "sla_breached"), 3);   /* leased counts: open */
    assert_true(map_num(q, "oldest_age_ms") >= 1200);
    hitlq_reply_free(r);
    assert_int_equal(hitlq_resolve(c, cl.id, cl.lease, "approve", NULL, NULL, NULL), HITLQ_OK);
    hitlq_claim_clear(&cl);
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    q = stats_entry(r, "queues", "queue", "credit_review");
    assert_int_equal((int)map_num(q, "sla_breached"), 2);
    hitlq_reply_free(r);
    hitlq_free(c);
}


/* ---- WATCH back-pressure --------------------------------------------- */

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
        int rc = hitlq_claim(c, REVIEW, 1, 60000, 2000, NULL, &cl);
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
    assert_int_equal(hconn_open(&w, S.port), 0);
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

    hitlq *c = cli("bulk-bot");
    hitlq_item *its = calloc(N, sizeof *its);
    hitlq_decision *d = calloc(N, sizeof *d);
    int *sts = calloc(N, sizeof *sts);
    char (*keys)[16] = calloc(N, 16);
    assert_true(its && d && sts && keys);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], 16, "bp-%d", i);
        its[i] = (hitlq_item){ .key = keys[i], .type = "credit_application",
                               .fields = small_fields.data, .fields_len = small_fields.size,
                               .priority = -1 };
    }
    assert_int_equal(hitlq_submit_batch(c, its, N, 0, d, sts), HITLQ_OK);
    for (int i = 0; i < N; i++)
        assert_int_equal(sts[i], HITLQ_OK);
    struct resolver rs[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        memset(&rs[i], 0, sizeof rs[i]);
        rs[i].port = S.port;
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

/* ---- batch ------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_batch_submit_1000(void **st)
{
    (void)st;
    assert_true(NCI >= 1000);
    hitlq *c = cli("batch-bot");
    hitlq_item *its = calloc(1000, sizeof *its);
    hitlq_decision *d = calloc(1000, sizeof *d);
    int *sts = calloc(1000, sizeof *sts);
    uint64_t *ids = calloc(1000, sizeof *ids);
    assert_true(its && d && sts && ids);
    for (size_t i = 0; i < 1000; i++)
        its[i] = (hitlq_item){ .key = CI[i].key, .type = "credit_application",
                               .fields = CI[i].fields, .fields_len = CI[i].fields_len,
                               .priority = -1 };
    uint64_t t0 = harness_now_ms();
    int rc = hitlq_submit_batch(c, its, 1000, 0, d, sts);
    if (rc != HITLQ_OK)
        fail_msg("batch: %s (%s)", hitlq_strerror(rc), hitlq_errstr(c));
    fprintf(stderr, "batch of 1000: %llu ms\n", (unsigned long long)(harness_now_ms() - t0));
    size_t n_auto = 0;
    for (size_t i = 0; i < 1000; i++) {
        if (sts[i] != HITLQ_OK)
            fail_msg("item %zu: %s", i, hitlq_strerror(sts[i]));
        assert_false(d[i].duplicate);
        assert_true(d[i].score >= 0 && d[i].score <= 1);
        ids[i] = d[i].id;
        n_auto += !d[i].queued;
    }
    qsort(ids, 1000, sizeof *ids, cmp_u64);
    for (size_t i = 1; i < 1000; i++)
        assert_true(ids[i] != ids[i - 1]);
    assert_true(n_auto > 0 && n_auto < 1000);
    /* the same batch again: all duplicates with the same ids */
    hitlq_decision *d2 = calloc(1000, sizeof *d2);
    assert_int_equal(hitlq_submit_batch(c, its, 1000, 16, d2, sts), HITLQ_OK);
    for (size_t i = 0; i < 1000; i++) {
        assert_int_equal(sts[i], HITLQ_OK);
        assert_true(d2[i].duplicate);
        assert_int_equal(d2[i].id, d[i].id);
    }
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    const msgpack_object *t = stats_entry(r, "types", "type", "credit_application");
    assert_int_equal((int)map_num(t, "submitted"), 1000);
    assert_int_equal((int)map_num(t, "auto_resolved"), (int)n_auto);
    hitlq_reply_free(r);
    free(d2);
    free(its);
    free(d);
    free(sts);
    free(ids);
    hitlq_free(c);
}

/* ---- CLI ---------------------------------------------------------------- */

static int run_cli(const char *args, char *out, size_t n)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s -p %u -n cli-user %s 2>&1", HARNESS_CLI, S.port, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t len = 0;
    out[0] = 0;
    while (len + 1 < n) {
        size_t k = fread(out + len, 1, n - 1 - len, p);
        if (k == 0)
            break;
        len += k;
    }
    out[len] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static uint64_t json_u64(const char *s, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(s, pat);
    if (!p)
        return 0;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    if (*p == '"')      /* the CLI prints uint64 > INT64_MAX (lease tokens) as strings */
        p++;
    return strtoull(p, NULL, 10);
}

static void test_cli(void **st)
{
    (void)st;
    char path[256];
    snprintf(path, sizeof path, "%s/items.jsonl", S.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"key\": \"cli-1\", \"type\": \"credit_application\", "
               "\"fields\": {\"amount\": 1000}}\n");
    fprintf(f, "{\"key\": \"cli-2\", \"type\": \"credit_application\", "
               "\"fields\": {\"amount\": 2500, \"age\": 30}, \"priority\": 5}\n");
    fclose(f);
    char out[65536], args[512];
    snprintf(args, sizeof args, "submit %s", path);
    int rc = run_cli(args, out, sizeof out);
    if (rc != 0)
        fail_msg("hitlq submit exit %d: %s", rc, out);
    assert_non_null(strstr(out, "queued"));
    /* again: duplicates, still exit 0 */
    rc = run_cli(args, out, sizeof out);
    assert_int_equal(rc, 0);

    rc = run_cli("--json claim credit_review --lease 60", out, sizeof out);
    if (rc != 0)
        fail_msg("hitlq claim exit %d: %s", rc, out);
    uint64_t id = json_u64(out, "id"), lease = json_u64(out, "lease");
    assert_true(id > 0);
    assert_true(lease > 0);
    assert_non_null(strstr(out, "cli-1"));   /* priority 100 beats 5 */
    snprintf(args, sizeof args, "resolve %" PRIu64 " %" PRIu64 " approve --note fine", id,
             lease);
    rc = run_cli(args, out, sizeof out);
    if (rc != 0)
        fail_msg("hitlq resolve exit %d: %s", rc, out);
    assert_non_null(strstr(out, "seq"));
    /* stale: the same resolve again fails with exit 1 */
    rc = run_cli(args, out, sizeof out);
    assert_int_equal(rc, 1);
    snprintf(args, sizeof args, "--json get %" PRIu64, id);
    rc = run_cli(args, out, sizeof out);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "\"resolved\""));
    assert_non_null(strstr(out, "cli-user"));
    assert_non_null(strstr(out, "history"));
    rc = run_cli("stats", out, sizeof out);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "credit_review"));
    assert_non_null(strstr(out, "credit_application"));
    /* claim the second, then nothing: exit 3 */
    rc = run_cli("claim credit_review", out, sizeof out);
    assert_int_equal(rc, 0);
    rc = run_cli("claim credit_review", out, sizeof out);
    assert_int_equal(rc, 3);
    rc = run_cli("--json watch --from 1 --count 1 --idle 5", out, sizeof out);
    assert_int_equal(rc, 0);
    assert_int_equal(json_u64(out, "seq"), 1);
    assert_int_equal(json_u64(out, "id"), id);
    rc = run_cli("frobnicate", out, sizeof out);
    assert_int_equal(rc, 2);
}

#define TS(f) cmocka_unit_test_setup_teardown(f, srv_setup, srv_teardown)

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (credit_items_load(CREDIT_ITEMS_CSV, &CI, &NCI) != 0) {
        fprintf(stderr, "cannot load %s\n", CREDIT_ITEMS_CSV);
        return 1;
    }
    pack_small_fields();
    const struct CMUnitTest tests[] = {
        TS(test_hello_ping),
        TS(test_submit_auto_and_queued),
        TS(test_idempotency),
        TS(test_claim_order),
        TS(test_claim_wait_woken_by_submit),
        TS(test_claim_wait_empty),
        TS(test_lease_ops_and_history),
        TS(test_lease_expiry_and_dead_letter),
        TS(test_stats),
        TS(test_watch_stream),
        TS(test_escalate_and_worker),
        TS(test_state_survives_kill9),
        TS(test_claim_waiter_disconnects),
        TS(test_claim_two_waiters_one_item),
        TS(test_pipelined_writes_in_order),
        TS(test_shutdown_with_open_work),
        TS(test_sla_breached),
        TS(test_watch_backpressure),
        TS(test_batch_submit_1000),
        TS(test_cli),
    };
    if (getenv("HITLQ_TEST_FILTER"))
        cmocka_set_test_filter(getenv("HITLQ_TEST_FILTER"));
    int rc = cmocka_run_group_tests_name("e2e", tests, NULL, NULL);
    msgpack_sbuffer_destroy(&small_fields);
    credit_items_free(CI, NCI);
    return rc;
}
