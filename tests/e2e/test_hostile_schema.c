/*
 * test_hostile_schema.c - well-formed MessagePack with the wrong shape
 * against a real hitlqd (docs/RELIABILITY.md T5): duplicate keys (also inside
 * fields), unknown and missing keys, wrong types, out-of-range integers,
 * NaN and infinities, unknown opcodes, bad proof indices, long and bad
 * names: each a typed bad_request on a connection that stays usable.
 *
 * One server for the whole group (tests/lib/hostile_util.h).  A
 * well-behaved client connects at the start; after every test it must
 * still get PING replies, a fresh client must be able to HELLO+PING, and
 * the server process must still run.  At the end the server is stopped
 * with SIGTERM and must exit 0 with no sanitizer report in its log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hitlq_proto.h"
#include "hostile_util.h"

/* ---- schema errors (non-fatal) --------------------------------------------- */

static void test_duplicate_map_keys(void **st)
{
    (void)st;
    struct hostile_body b;
    hostile_body_init(&b);
    msgpack_pack_map(&b.pk, 2);
    hpk_kv_u64(&b.pk, "id", 1);
    hpk_kv_u64(&b.pk, "id", 2);
    /* §2 rule 7, §5: bad_request (not fatal) */
    hostile_request_error(HITLQ_OP_GET, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                          0, NULL);
    hostile_body_free(&b);
}

/* §2 rule 7 applies to every map, including SUBMIT's fields: bad_request,
 * not invalid_item. */
static void test_fields_duplicate_keys(void **st)
{
    (void)st;
    struct hostile_body b;
    hostile_body_init(&b);
    msgpack_pack_map(&b.pk, 3);
    hpk_kv_str(&b.pk, "key", "dupfields-1");
    hpk_kv_str(&b.pk, "type", "credit_application");
    hpk_str(&b.pk, "fields");
    msgpack_pack_map(&b.pk, 2);
    hpk_kv_u64(&b.pk, "amount", 1000);
    hpk_kv_u64(&b.pk, "amount", 2000);
    hostile_request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST,
                          "bad_request", 0, NULL);
    hostile_body_free(&b);
}

static void test_unknown_key(void **st)
{
    (void)st;
    struct hostile_body b;
    hostile_pack_submit(&b, "unk-1", "credit_application", 1);
    hpk_kv_u64(&b.pk, "bogus", 1);
    hostile_request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST,
                          "bad_request", 0, NULL);
    hostile_body_free(&b);
    hostile_body_init(&b);
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_u64(&b.pk, "x", 1);
    hostile_request_error(HITLQ_OP_PING, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                          0, NULL);
    hostile_body_free(&b);
}

static void test_missing_required(void **st)
{
    (void)st;
    struct hostile_body b;
    hostile_body_init(&b);
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_str(&b.pk, "key", "missing-1");
    hostile_request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST,
                          "bad_request", 0, NULL);
    hostile_body_free(&b);
    hostile_request_error(HITLQ_OP_GET, NULL, 0, HITLQ_ST_BAD_REQUEST, "bad_request", 0, NULL);
    hostile_request_error(HITLQ_OP_CLAIM, NULL, 0, HITLQ_ST_BAD_REQUEST, "bad_request", 0, NULL);
    hostile_request_error(HITLQ_OP_WATCH, NULL, 0, HITLQ_ST_BAD_REQUEST, "bad_request", 0, NULL);
}

static void test_wrong_types(void **st)
{
    (void)st;
    struct hostile_body b;
    hostile_body_init(&b);
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_str(&b.pk, "id", "17");
    hostile_request_error(HITLQ_OP_GET, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                          0, NULL);
    hostile_body_free(&b);
    hostile_body_init(&b);                          /* float where an int is required */
    msgpack_pack_map(&b.pk, 1);
    hpk_str(&b.pk, "id");
    msgpack_pack_double(&b.pk, 1.0);
    hostile_request_error(HITLQ_OP_GET, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                          0, NULL);
    hostile_body_free(&b);
    hostile_body_init(&b);                          /* negative int */
    msgpack_pack_map(&b.pk, 1);
    hpk_str(&b.pk, "id");
    msgpack_pack_int64(&b.pk, -1);
    hostile_request_error(HITLQ_OP_GET, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                          0, NULL);
    hostile_body_free(&b);
    hostile_body_init(&b);                          /* queues not an array */
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_str(&b.pk, "queues", "credit_review");
    hostile_request_error(HITLQ_OP_CLAIM, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                          0, NULL);
    hostile_body_free(&b);
    hostile_body_init(&b);                          /* fields not a map */
    msgpack_pack_map(&b.pk, 3);
    hpk_kv_str(&b.pk, "key", "wt-1");
    hpk_kv_str(&b.pk, "type", "credit_application");
    hpk_str(&b.pk, "fields");
    msgpack_pack_array(&b.pk, 0);
    hostile_request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST,
                          "bad_request", 0, NULL);
    hostile_body_free(&b);
}

/* §4.3: field values are nil, bool, int, float or str - a request schema
 * rule, so bad_request (rule 8), not invalid_item. */
static void test_fields_value_wrong_type(void **st)
{
    (void)st;
    struct hostile_body b;
    hostile_body_init(&b);                          /* a field value that is a map */
    msgpack_pack_map(&b.pk, 3);
    hpk_kv_str(&b.pk, "key", "wt-2");
    hpk_kv_str(&b.pk, "type", "credit_application");
    hpk_str(&b.pk, "fields");
    msgpack_pack_map(&b.pk, 1);
    hpk_str(&b.pk, "amount");
    msgpack_pack_map(&b.pk, 0);
    hostile_request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST,
                          "bad_request", 0, NULL);
    hostile_body_free(&b);
}

static void test_out_of_range_ints(void **st)
{
    (void)st;
    struct hostile_body b;
    hostile_body_init(&b);                          /* uint64 > INT64_MAX */
    msgpack_pack_map(&b.pk, 2);
    hpk_str(&b.pk, "queues");
    msgpack_pack_array(&b.pk, 1);
    hpk_str(&b.pk, "credit_review");
    hpk_kv_u64(&b.pk, "lease_ms", (uint64_t)INT64_MAX + 2u);
    hostile_request_error(HITLQ_OP_CLAIM, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                          0, NULL);
    hostile_body_free(&b);
    hostile_pack_submit(&b, "range-1", "credit_application", 1);   /* priority too high */
    hpk_kv_u64(&b.pk, "priority", UINT64_MAX);
    hostile_request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST,
                          "bad_request", 0, NULL);
    hostile_body_free(&b);
    hostile_pack_submit(&b, "range-2", "credit_application", 1);
    hpk_kv_u64(&b.pk, "priority", HITLQ_MAX_PRIORITY + 1);
    hostile_request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST,
                          "bad_request", 0, NULL);
    hostile_body_free(&b);
    hostile_body_init(&b);                          /* lease_ms below 1000 */
    msgpack_pack_map(&b.pk, 2);
    hpk_str(&b.pk, "queues");
    msgpack_pack_array(&b.pk, 1);
    hpk_str(&b.pk, "credit_review");
    hpk_kv_u64(&b.pk, "lease_ms", 999);
    hostile_request_error(HITLQ_OP_CLAIM, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                          0, NULL);
    hostile_body_free(&b);
    hostile_body_init(&b);                          /* wait_ms above the ceiling */
    msgpack_pack_map(&b.pk, 2);
    hpk_str(&b.pk, "queues");
    msgpack_pack_array(&b.pk, 1);
    hpk_str(&b.pk, "credit_review");
    hpk_kv_u64(&b.pk, "wait_ms", HITLQ_MAX_WAIT_MS + 1);
    hostile_request_error(HITLQ_OP_CLAIM, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                          0, NULL);
    hostile_body_free(&b);
    hostile_body_init(&b);                          /* 17 queues */
    msgpack_pack_map(&b.pk, 1);
    hpk_str(&b.pk, "queues");
    msgpack_pack_array(&b.pk, 17);
    for (int i = 0; i < 17; i++) {
        char q[16];
        snprintf(q, sizeof q, "q%d", i);
        hpk_str(&b.pk, q);
    }
    hostile_request_error(HITLQ_OP_CLAIM, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                          0, NULL);
    hostile_body_free(&b);
}

static void test_nan_inf(void **st)
{
    (void)st;
    double vals[] = { NAN, INFINITY, -INFINITY };
    for (int i = 0; i < 3; i++) {
        struct hostile_body b;
        hostile_body_init(&b);
        msgpack_pack_map(&b.pk, 3);
        char key[32];
        snprintf(key, sizeof key, "nan-%d", i);
        hpk_kv_str(&b.pk, "key", key);
        hpk_kv_str(&b.pk, "type", "credit_application");
        hpk_str(&b.pk, "fields");
        msgpack_pack_map(&b.pk, 1);
        hpk_str(&b.pk, "amount");
        msgpack_pack_double(&b.pk, vals[i]);
        /* refused everywhere by the body validator (PROTOCOL.md §2
         * rule 5): bad_msgpack, fatal */
        struct hconn c;
        hostile_open(&c, true);
        hostile_send_frame(&c, HITLQ_OP_SUBMIT, 0, 57, b.sb.data, b.sb.size);
        struct hframe f;
        assert_int_equal(hconn_read_frame(&c, &f, 5000), 1);
        assert_int_equal(f.status, HITLQ_ST_BAD_MSGPACK);
        assert_true(hframe_code_is(&f, "bad_msgpack"));
        hframe_free(&f);
        hostile_expect_closed(&c);
        hconn_close(&c);
        hostile_body_free(&b);
    }
}

static void test_unknown_opcode(void **st)
{
    (void)st;
    const uint8_t ops[] = { 0x00, 0x04, 0x6e, 0x31, 0x7f, 0xff };
    struct hconn c;
    hostile_open(&c, true);
    for (size_t i = 0; i < sizeof ops; i++) {
        hostile_send_frame(&c, ops[i], 0, 100 + (uint32_t)i, NULL, 0);
        hostile_expect_error(&c, HITLQ_ST_UNKNOWN_OP, "unknown_op", 100 + (uint32_t)i);
        assert_int_equal(hconn_ping(&c, 200 + (uint32_t)i), 0);
    }
    hconn_close(&c);
}

/* T5 item 22: proof requests with inverted or out-of-range indices get a
 * typed error (never a crash, never `internal`), and the connection goes
 * on. */
static void test_proof_bad_indices(void **st)
{
    (void)st;
    static const struct { uint8_t op; const char *k1; uint64_t v1; const char *k2; uint64_t v2; }
    reqs[] = {
        { HITLQ_OP_AUDIT_PROVE, "index", 1000000, NULL, 0 },
        { HITLQ_OP_AUDIT_PROVE, "index", UINT64_MAX, NULL, 0 },
        { HITLQ_OP_AUDIT_PROVE, "index", 0, "size", 1000000 },
        { HITLQ_OP_AUDIT_CONSISTENCY, "size1", 2, "size2", 1 },          /* inverted */
        { HITLQ_OP_AUDIT_CONSISTENCY, "size1", 1000000, NULL, 0 },
        { HITLQ_OP_AUDIT_CONSISTENCY, "size1", 1, "size2", 1000000 },
        { HITLQ_OP_AUDIT_CONSISTENCY, "size1", 0, "size2", 1 },
        { HITLQ_OP_AUDIT_ENTRIES, "start", UINT64_MAX, NULL, 0 },
    };
    struct hconn c;
    hostile_open(&c, true);
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        struct hframe f;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, reqs[i].k2 ? 2 : 1);
        hpk_kv_u64(&pk, reqs[i].k1, reqs[i].v1);
        if (reqs[i].k2)
            hpk_kv_u64(&pk, reqs[i].k2, reqs[i].v2);
        assert_int_equal(hconn_call(&c, reqs[i].op, 300 + (uint32_t)i, sb.data, sb.size, &f,
                                    5000), 1);
        msgpack_sbuffer_destroy(&sb);
        if (f.status < HITLQ_ST_BAD_REQUEST || f.status == HITLQ_ST_INTERNAL ||
            hframe_get(&f, "message") == NULL)
            fail_msg("request %zu: status %u", i, f.status);
        hframe_free(&f);
        assert_int_equal(hconn_ping(&c, 400 + (uint32_t)i), 0);
    }
    /* a range past the end is not an error: no entries */
    msgpack_sbuffer sb;
    msgpack_packer pk;
    struct hframe f;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    hpk_kv_u64(&pk, "start", 1000000);
    hpk_kv_u64(&pk, "count", 10);
    assert_int_equal(hconn_call(&c, HITLQ_OP_AUDIT_ENTRIES, 500, sb.data, sb.size, &f, 5000), 1);
    msgpack_sbuffer_destroy(&sb);
    assert_int_equal(f.status, HITLQ_ST_OK);
    assert_int_equal(hframe_get(&f, "entries")->via.array.size, 0);
    hframe_free(&f);
    hconn_close(&c);
}

static void test_long_and_bad_names(void **st)
{
    (void)st;
    char k129[130], k128[129];
    memset(k129, 'k', 129);
    k129[129] = 0;
    memset(k128, 'k', 128);
    k128[128] = 0;
    const char *bad[] = { k129, "has space", "semi;colon", "quote\"", "\xc3\xa9t\xc3\xa9", "" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct hostile_body b;
        hostile_pack_submit(&b, bad[i], "credit_application", 0);
        hostile_request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST,
                              "bad_request", 0, NULL);
        hostile_body_free(&b);
        hostile_pack_submit(&b, "name-ok-key", bad[i], 0);      /* as the type */
        hostile_request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST,
                              "bad_request", 0, NULL);
        hostile_body_free(&b);
    }
    /* a 128-byte key is fine */
    struct hostile_body b;
    hostile_pack_submit(&b, k128, "credit_application", 0);
    struct hconn c;
    hostile_open(&c, true);
    struct hframe f;
    assert_int_equal(hconn_call(&c, HITLQ_OP_SUBMIT, 5, b.sb.data, b.sb.size, &f, 10000), 1);
    assert_int_equal(f.status, 0);
    hframe_free(&f);
    hostile_body_free(&b);
    /* queue name of 65 bytes; worker of 129 */
    char q65[66];
    memset(q65, 'q', 65);
    q65[65] = 0;
    hostile_body_init(&b);
    msgpack_pack_map(&b.pk, 1);
    hpk_str(&b.pk, "queues");
    msgpack_pack_array(&b.pk, 1);
    hpk_str(&b.pk, q65);
    hostile_request_error(HITLQ_OP_CLAIM, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                          0, NULL);
    hostile_body_free(&b);
    hostile_body_init(&b);
    msgpack_pack_map(&b.pk, 2);
    hpk_str(&b.pk, "queues");
    msgpack_pack_array(&b.pk, 1);
    hpk_str(&b.pk, "credit_review");
    hpk_kv_str(&b.pk, "worker", k129);
    hostile_request_error(HITLQ_OP_CLAIM, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                          0, NULL);
    hostile_body_free(&b);
    hconn_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HOSTILE_TEST(test_duplicate_map_keys),
        HOSTILE_TEST(test_fields_duplicate_keys),
        HOSTILE_TEST(test_fields_value_wrong_type),
        HOSTILE_TEST(test_unknown_key),
        HOSTILE_TEST(test_missing_required),
        HOSTILE_TEST(test_wrong_types),
        HOSTILE_TEST(test_out_of_range_ints),
        HOSTILE_TEST(test_nan_inf),
        HOSTILE_TEST(test_unknown_opcode),
        HOSTILE_TEST(test_long_and_bad_names),
        HOSTILE_TEST(test_proof_bad_indices),
    };
    return hostile_run("hostile_schema", tests, sizeof tests / sizeof tests[0]);
}
