/*
 * test_submit.c - HELLO/PING and SUBMIT through libhitlq against a real
 * hitlqd (tests/lib/e2e_util.h: one server per test): auto-resolved and
 * queued decisions with their reasons, the raw SUBMIT reply, unknown types,
 * idempotency (duplicates, conflicts, across a restart), pipelined writes
 * applied in order, and a batch of 1000 credit rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

/* ---- HELLO / PING ---------------------------------------------------------- */

static void test_hello_ping(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("e2e-bot");
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_call(c, HITLQ_OP_PING, NULL, 0, &r), HITLQ_OK);
    const msgpack_object *t = hitlq_reply_get(r, "time_ms");
    assert_non_null(t);
    assert_true(t->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
    uint64_t now = e2e_wall_ms();
    assert_true(t->via.u64 + 60000 > now && t->via.u64 < now + 60000);
    hitlq_reply_free(r);
    hitlq_free(c);

    /* the HELLO reply itself, raw */
    struct hconn h;
    assert_int_equal(hconn_open(&h, e2e_srv.port), 0);
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

/* ---- SUBMIT ---------------------------------------------------------------- */

static bool reasons_sorted(const hitlq_decision *d)
{
    for (size_t i = 1; i < d->n_reasons; i++)
        if (fabs(d->reasons[i].contribution) > fabs(d->reasons[i - 1].contribution) + 1e-12)
            return false;
    return true;
}

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
    hitlq *c = e2e_cli("e2e-bot");
    bool have_auto = false, have_queued = false;
    for (size_t i = 0; i < e2e_nci && i < 1000 && !(have_auto && have_queued); i++) {
        hitlq_item it = { .key = e2e_ci[i].key, .type = "credit_application",
                          .fields = e2e_ci[i].fields, .fields_len = e2e_ci[i].fields_len,
                          .priority = -1 };
        hitlq_decision d;
        memset(&d, 0, sizeof d);
        int rc = hitlq_submit(c, &it, &d);
        if (rc != HITLQ_OK)
            fail_msg("submit %s: %s (%s)", e2e_ci[i].key, hitlq_strerror(rc), hitlq_errstr(c));
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
            uint64_t now = e2e_wall_ms();
            assert_true(d.deadline_ms > now + 4 * 3600 * 1000ull - 120000);
            assert_true(d.deadline_ms < now + 4 * 3600 * 1000ull + 120000);
            have_queued = true;
        }
    }
    assert_true(have_auto);
    assert_true(have_queued);

    /* the raw SUBMIT reply of an auto-resolvable item carries seq, action,
     * no queue; and an incomplete item is queued with a reason list */
    for (size_t i = 0; i < e2e_nci && i < 1000; i++) {
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
        msgpack_sbuffer_write(&sb, (const char *)e2e_ci[i].fields, e2e_ci[i].fields_len);
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
    uint64_t id = e2e_must_queue(c, "incomplete-1", -1);
    assert_true(id > 0);
    assert_int_equal(e2e_submit_queued(c, "incomplete-2", -1, &d), HITLQ_OK);
    assert_true(d.queued);
    assert_true(d.id > id);   /* monotonic */
    assert_true(d.n_reasons >= 1);
    /* unknown type */
    hitlq_item bad = { .key = "unk-type-1", .type = "no_such_type",
                       .fields = e2e_small_fields.data, .fields_len = e2e_small_fields.size,
                       .priority = -1 };
    assert_int_equal(hitlq_submit(c, &bad, &d), HITLQ_ST_UNKNOWN_TYPE);
    hitlq_free(c);
}

static void test_idempotency(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("e2e-bot");
    /* an auto-resolvable row and a queued one */
    hitlq_decision first[2];
    const char *keys[2] = { NULL, "idem-queued" };
    hitlq_item items[2];
    size_t auto_row = SIZE_MAX;
    for (size_t i = 0; i < e2e_nci && i < 1000; i++) {
        hitlq_item it = { .key = e2e_ci[i].key, .type = "credit_application",
                          .fields = e2e_ci[i].fields, .fields_len = e2e_ci[i].fields_len,
                          .priority = -1 };
        assert_int_equal(hitlq_submit(c, &it, &first[0]), HITLQ_OK);
        if (!first[0].queued) {
            auto_row = i;
            break;
        }
    }
    assert_true(auto_row != SIZE_MAX);
    keys[0] = e2e_ci[auto_row].key;
    items[0] = (hitlq_item){ .key = keys[0], .type = "credit_application",
                             .fields = e2e_ci[auto_row].fields,
                             .fields_len = e2e_ci[auto_row].fields_len, .priority = -1 };
    items[1] = (hitlq_item){ .key = keys[1], .type = "credit_application",
                             .fields = e2e_small_fields.data, .fields_len = e2e_small_fields.size,
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
            assert_int_equal(harness_server_stop(&e2e_srv), 0);
            assert_true(harness_server_restart(&e2e_srv) > 0);
            c = e2e_cli("e2e-bot");
        }
    }
    hitlq_free(c);
}

/* ---- pipelining ------------------------------------------------------------ */

/* Writes pipelined on one connection are applied in order: ids increase
 * with the request order, and key reuse in the same pipeline is resolved
 * in order (first wins, the later different one conflicts). */
static void test_pipelined_writes_in_order(void **st)
{
    (void)st;
    struct hconn h;
    assert_int_equal(hconn_open(&h, e2e_srv.port), 0);
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

/* ---- batch ----------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_batch_submit_1000(void **st)
{
    (void)st;
    assert_true(e2e_nci >= 1000);
    hitlq *c = e2e_cli("batch-bot");
    hitlq_item *its = calloc(1000, sizeof *its);
    hitlq_decision *d = calloc(1000, sizeof *d);
    int *sts = calloc(1000, sizeof *sts);
    uint64_t *ids = calloc(1000, sizeof *ids);
    assert_true(its && d && sts && ids);
    for (size_t i = 0; i < 1000; i++)
        its[i] = (hitlq_item){ .key = e2e_ci[i].key, .type = "credit_application",
                               .fields = e2e_ci[i].fields, .fields_len = e2e_ci[i].fields_len,
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
    const msgpack_object *t = e2e_stats_entry(r, "types", "type", "credit_application");
    assert_int_equal((int)e2e_map_num(t, "submitted"), 1000);
    assert_int_equal((int)e2e_map_num(t, "auto_resolved"), (int)n_auto);
    hitlq_reply_free(r);
    free(d2);
    free(its);
    free(d);
    free(sts);
    free(ids);
    hitlq_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        E2E_TEST(test_hello_ping),
        E2E_TEST(test_submit_auto_and_queued),
        E2E_TEST(test_idempotency),
        E2E_TEST(test_pipelined_writes_in_order),
        E2E_TEST(test_batch_submit_1000),
    };
    return e2e_run("submit", tests, sizeof tests / sizeof tests[0]);
}
