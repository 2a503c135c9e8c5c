/*
 * test_wire.c - unit tests of the decoding side of wire.h: wire_unpack,
 * strict schema checks in wire_decode (PROTOCOL.md §2 rules 7-8, T5 items
 * 11-12 and 14), the small accessors, status names, and a round trip of
 * wire_pack_error through frame_parse, mp_validate and wire_decode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "frame.h"
#include "validate.h"
#include "wire.h"

/* CLAIM-like schema used by most tests. */
static const struct wire_field tw_schema[] = {
    { "queues",   WIRE_ARRAY, true,  1, HITLQ_MAX_CLAIM_QUEUES },
    { "lease_ms", WIRE_UINT,  false, 1000, HITLQ_MAX_LEASE_MS },
    { "worker",   WIRE_NAME,  false, 0, 0 },
    { "queue",    WIRE_QNAME, false, 0, 0 },
    { "score",    WIRE_FLOAT, false, 0, 0 },
    { "auto",     WIRE_BOOL,  false, 0, 0 },
    { "note",     WIRE_STR,   false, 0, HITLQ_MAX_NOTE },
    { "fields",   WIRE_MAP,   false, 0, 2 },
    { "value",    WIRE_ANY,   false, 0, 0 },
};
#define TW_N (sizeof(tw_schema) / sizeof(tw_schema[0]))

struct tw_ctx {
    msgpack_sbuffer sb;
    msgpack_packer  pk;
    msgpack_zone    zone;
    msgpack_object  obj;
    const msgpack_object *out[TW_N];
    char            err[160];
};

static int
tw_setup(void **state)
{
    static struct tw_ctx c;

    memset(&c, 0, sizeof(c));
    msgpack_sbuffer_init(&c.sb);
    msgpack_packer_init(&c.pk, &c.sb, msgpack_sbuffer_write);
    msgpack_zone_init(&c.zone, 2048);
    *state = &c;
    return 0;
}

static int
tw_teardown(void **state)
{
    struct tw_ctx *c = *state;

    msgpack_sbuffer_destroy(&c->sb);
    msgpack_zone_destroy(&c->zone);
    return 0;
}

/* Validates, unpacks and decodes what was packed into c->sb. */
static int
tw_decode(struct tw_ctx *c)
{
    assert_int_equal(mp_validate((const uint8_t *)c->sb.data, c->sb.size,
                                 &mp_limits_default, c->err, sizeof(c->err)), HITLQ_ST_OK);
    assert_int_equal(wire_unpack((const uint8_t *)c->sb.data, c->sb.size,
                                 &c->zone, &c->obj), HITLQ_ST_OK);
    return wire_decode(&c->obj, tw_schema, TW_N, c->out, c->err, sizeof(c->err));
}

static void
tw_queues(struct tw_ctx *c, int n)
{
    wire_pack_cstr(&c->pk, "queues");
    msgpack_pack_array(&c->pk, (size_t)n);
    for (int i = 0; i < n; i++)
        wire_pack_cstr(&c->pk, "review");
}

static void
test_decode_ok(void **state)
{
    struct tw_ctx *c = *state;
    char buf[8];

    msgpack_pack_map(&c->pk, 6);
    tw_queues(c, 2);
    wire_pack_kv_u64(&c->pk, "lease_ms", 60000);
    wire_pack_kv_str(&c->pk, "worker", "alice@example.com/x:1_2-3");
    wire_pack_cstr(&c->pk, "score");
    msgpack_pack_int64(&c->pk, -2);            /* integers are fine for floats */
    wire_pack_kv_bool(&c->pk, "auto", false);
    wire_pack_kv_str(&c->pk, "note", "");
    assert_int_equal(tw_decode(c), HITLQ_ST_OK);
    assert_int_equal(c->out[0]->via.array.size, 2);
    assert_int_equal(wire_u64(c->out[1]), 60000);
    assert_true(wire_f64(c->out[4]) == -2.0);
    assert_null(c->out[3]);
    assert_null(c->out[7]);
    wire_copy_str(c->out[2], buf, sizeof(buf));
    assert_string_equal(buf, "alice@e");       /* truncated, NUL-terminated */
    assert_ptr_equal(wire_map_get(&c->obj, "lease_ms"), c->out[1]);
    assert_null(wire_map_get(&c->obj, "lease"));
}

static void
test_unknown_key(void **state)
{
    struct tw_ctx *c = *state;

    msgpack_pack_map(&c->pk, 2);
    tw_queues(c, 1);
    wire_pack_kv_u64(&c->pk, "bogus\n\"x", 1);
    assert_int_equal(tw_decode(c), HITLQ_ST_BAD_REQUEST);
    assert_string_equal(c->err, "unknown field \"bogus??x\"");   /* sanitised */
}

static void
test_duplicate_key(void **state)
{
    struct tw_ctx *c = *state;

    msgpack_pack_map(&c->pk, 3);
    tw_queues(c, 1);
    wire_pack_kv_u64(&c->pk, "lease_ms", 2000);
    wire_pack_kv_u64(&c->pk, "lease_ms", 3000);
    assert_int_equal(tw_decode(c), HITLQ_ST_BAD_REQUEST);
    assert_string_equal(c->err, "field \"lease_ms\": duplicate key");
    assert_false(wire_map_keys_unique(&c->obj));
}

static void
test_missing_required(void **state)
{
    struct tw_ctx *c = *state;

    msgpack_pack_map(&c->pk, 1);
    wire_pack_kv_u64(&c->pk, "lease_ms", 2000);
    assert_int_equal(tw_decode(c), HITLQ_ST_BAD_REQUEST);
    assert_string_equal(c->err, "field \"queues\": required");
    /* An empty body is an empty map: also missing "queues". */
    assert_int_equal(wire_unpack((const uint8_t *)"", 0, &c->zone, &c->obj), HITLQ_ST_OK);
    assert_int_equal(c->obj.type, MSGPACK_OBJECT_MAP);
    assert_int_equal(c->obj.via.map.size, 0);
    assert_int_equal(wire_decode(&c->obj, tw_schema, TW_N, c->out, c->err, sizeof(c->err)),
                     HITLQ_ST_BAD_REQUEST);
    assert_true(wire_map_keys_unique(&c->obj));
}

static void
test_wrong_type(void **state)
{
    struct tw_ctx *c = *state;

    msgpack_pack_map(&c->pk, 2);
    tw_queues(c, 1);
    wire_pack_kv_str(&c->pk, "auto", "yes");
    assert_int_equal(tw_decode(c), HITLQ_ST_BAD_REQUEST);
    assert_string_equal(c->err, "field \"auto\": expected bool");
}

static void
test_array_count(void **state)
{
    struct tw_ctx *c = *state;

    msgpack_pack_map(&c->pk, 1);
    tw_queues(c, 17);
    assert_int_equal(tw_decode(c), HITLQ_ST_BAD_REQUEST);
    assert_string_equal(c->err, "field \"queues\": expected array of at most 16");
    msgpack_sbuffer_clear(&c->sb);
    msgpack_pack_map(&c->pk, 1);
    tw_queues(c, 0);
    assert_int_equal(tw_decode(c), HITLQ_ST_BAD_REQUEST);
    assert_string_equal(c->err, "field \"queues\": expected array of at least 1");
}

static void
test_uint_range(void **state)
{
    struct tw_ctx *c = *state;

    msgpack_pack_map(&c->pk, 2);
    tw_queues(c, 1);
    wire_pack_kv_u64(&c->pk, "lease_ms", HITLQ_MAX_LEASE_MS + 1);
    assert_int_equal(tw_decode(c), HITLQ_ST_BAD_REQUEST);
    assert_string_equal(c->err, "field \"lease_ms\": expected integer in 1000..86400000");
    msgpack_sbuffer_clear(&c->sb);
    msgpack_pack_map(&c->pk, 2);
    tw_queues(c, 1);
    wire_pack_kv_u64(&c->pk, "lease_ms", 999);
    assert_int_equal(tw_decode(c), HITLQ_ST_BAD_REQUEST);
    msgpack_sbuffer_clear(&c->sb);
    msgpack_pack_map(&c->pk, 2);
    tw_queues(c, 1);
    wire_pack_kv_u64(&c->pk, "lease_ms", UINT64_MAX);
    assert_int_equal(tw_decode(c), HITLQ_ST_BAD_REQUEST);
}

/* Any integer encoding whose value is in range is accepted (int16 1000). */
static void
test_uint_encodings(void **state)
{
    struct tw_ctx *c = *state;
    static const uint8_t body[] = "\x82\xa6queues\x91\xa1q\xa8lease_ms\xd1\x03\xe8";

    assert_int_equal(wire_unpack(body, sizeof(body) - 1, &c->zone, &c->obj), HITLQ_ST_OK);
    assert_int_equal(wire_decode(&c->obj, tw_schema, TW_N, c->out, c->err, sizeof(c->err)),
                     HITLQ_ST_OK);
    assert_int_equal(wire_u64(c->out[1]), 1000);
}

static void
test_negative_int(void **state)
{
    struct tw_ctx *c = *state;

    msgpack_pack_map(&c->pk, 2);
    tw_queues(c, 1);
    wire_pack_cstr(&c->pk, "lease_ms");
    msgpack_pack_int64(&c->pk, -1);
    assert_int_equal(tw_decode(c), HITLQ_ST_BAD_REQUEST);
    assert_string_equal(c->err, "field \"lease_ms\": expected non-negative integer");
}

static void
test_float_where_uint(void **state)
{
    struct tw_ctx *c = *state;

    msgpack_pack_map(&c->pk, 2);
    tw_queues(c, 1);
    wire_pack_kv_f64(&c->pk, "lease_ms", 2000.0);
    assert_int_equal(tw_decode(c), HITLQ_ST_BAD_REQUEST);
    assert_string_equal(c->err, "field \"lease_ms\": expected integer");
}

static void
test_names(void **state)
{
    struct tw_ctx *c = *state;
    char longq[HITLQ_MAX_QUEUE_NAME + 2];

    (void)state;
    assert_true(wire_is_name("Az09_-.:@/", 10, HITLQ_MAX_NAME));
    assert_false(wire_is_name("", 0, HITLQ_MAX_NAME));
    assert_false(wire_is_name("a b", 3, HITLQ_MAX_NAME));
    assert_false(wire_is_name("a\0b", 3, HITLQ_MAX_NAME));
    assert_false(wire_is_name("caf\xc3\xa9", 5, HITLQ_MAX_NAME));
    assert_false(wire_is_name("abc", 3, 2));
    msgpack_pack_map(&c->pk, 2);
    tw_queues(c, 1);
    wire_pack_kv_str(&c->pk, "worker", "bad name");
    assert_int_equal(tw_decode(c), HITLQ_ST_BAD_REQUEST);
    assert_non_null(strstr(c->err, "field \"worker\": expected name of 1..128"));
    memset(longq, 'q', sizeof(longq));
    longq[sizeof(longq) - 1] = '\0';           /* 65 bytes */
    msgpack_sbuffer_clear(&c->sb);
    msgpack_pack_map(&c->pk, 2);
    tw_queues(c, 1);
    wire_pack_kv_str(&c->pk, "queue", longq);
    assert_int_equal(tw_decode(c), HITLQ_ST_BAD_REQUEST);
    assert_non_null(strstr(c->err, "field \"queue\": expected name of 1..64"));
    longq[HITLQ_MAX_QUEUE_NAME] = '\0';        /* 64 bytes: fine */
    msgpack_sbuffer_clear(&c->sb);
    msgpack_pack_map(&c->pk, 2);
    tw_queues(c, 1);
    wire_pack_kv_str(&c->pk, "queue", longq);
    assert_int_equal(tw_decode(c), HITLQ_ST_OK);
}

static void
test_str_map_float_limits(void **state)
{
    struct tw_ctx *c = *state;
    char note[HITLQ_MAX_NOTE + 2];

    memset(note, 'n', sizeof(note));
    note[sizeof(note) - 1] = '\0';
    msgpack_pack_map(&c->pk, 2);
    tw_queues(c, 1);
    wire_pack_kv_str(&c->pk, "note", note);
    assert_int_equal(tw_decode(c), HITLQ_ST_BAD_REQUEST);
    assert_string_equal(c->err, "field \"note\": expected str of at most 4096 bytes");
    msgpack_sbuffer_clear(&c->sb);
    msgpack_pack_map(&c->pk, 2);
    tw_queues(c, 1);
    wire_pack_cstr(&c->pk, "fields");
    msgpack_pack_map(&c->pk, 3);
    wire_pack_kv_nil(&c->pk, "a");
    wire_pack_kv_nil(&c->pk, "b");
    wire_pack_kv_nil(&c->pk, "c");
    assert_int_equal(tw_decode(c), HITLQ_ST_BAD_REQUEST);
    assert_string_equal(c->err, "field \"fields\": expected map of at most 2");
    msgpack_sbuffer_clear(&c->sb);
    msgpack_pack_map(&c->pk, 2);
    tw_queues(c, 1);
    wire_pack_kv_str(&c->pk, "score", "0.5");
    assert_int_equal(tw_decode(c), HITLQ_ST_BAD_REQUEST);
    assert_string_equal(c->err, "field \"score\": expected finite number");
}

/* A map key that is not a str, decoded without the validator. */
static void
test_non_str_key(void **state)
{
    struct tw_ctx *c = *state;
    static const uint8_t body[] = "\x81\x01\x02";
    static const uint8_t arr[] = "\x91\x01";

    assert_int_equal(wire_unpack(body, 3, &c->zone, &c->obj), HITLQ_ST_OK);
    assert_int_equal(wire_decode(&c->obj, tw_schema, TW_N, c->out, c->err, sizeof(c->err)),
                     HITLQ_ST_BAD_REQUEST);
    assert_false(wire_map_keys_unique(&c->obj));
    assert_int_equal(wire_unpack(arr, 2, &c->zone, &c->obj), HITLQ_ST_BAD_MSGPACK);
    assert_int_equal(wire_unpack(body, 2, &c->zone, &c->obj), HITLQ_ST_BAD_MSGPACK);
    assert_int_equal(wire_unpack((const uint8_t *)"\x80\x80", 2, &c->zone, &c->obj),
                     HITLQ_ST_BAD_MSGPACK);     /* must consume exactly len */
}

/* wire_pack_error -> frame_parse -> mp_validate -> wire_decode. */
static void
test_error_round_trip(void **state)
{
    static const struct wire_field err_schema[] = {
        { "code",    WIRE_NAME, true, 0, 0 },
        { "message", WIRE_STR,  true, 0, 0 },
    };
    struct tw_ctx *c = *state;
    const msgpack_object *out[2];
    struct frame f;
    char code[32], msg[64];
    int st;

    wire_pack_error(&c->sb, &c->pk, HITLQ_OP_CLAIM, HITLQ_ST_STALE_LEASE, 0xABCDEF01u,
                    "lease 7 is not current");
    assert_int_equal(frame_parse((const uint8_t *)c->sb.data, c->sb.size, HITLQ_MAX_FRAME,
                                 &f, &st), FRAME_OK);
    assert_int_equal(f.total_len, c->sb.size);
    assert_int_equal(f.hdr.opcode, HITLQ_OP_CLAIM);
    assert_int_equal(f.hdr.status, HITLQ_ST_STALE_LEASE);
    assert_int_equal(f.hdr.request_id, 0xABCDEF01u);
    assert_int_equal(mp_validate(f.body, f.hdr.body_len, &mp_limits_default, c->err,
                                 sizeof(c->err)), HITLQ_ST_OK);
    assert_int_equal(wire_unpack(f.body, f.hdr.body_len, &c->zone, &c->obj), HITLQ_ST_OK);
    assert_int_equal(wire_decode(&c->obj, err_schema, 2, out, c->err, sizeof(c->err)),
                     HITLQ_ST_OK);
    wire_copy_str(out[0], code, sizeof(code));
    wire_copy_str(out[1], msg, sizeof(msg));
    assert_string_equal(code, "stale_lease");
    assert_string_equal(msg, "lease 7 is not current");
}

static void
test_status_names(void **state)
{
    (void)state;
    assert_string_equal(hitlq_status_str(HITLQ_ST_OK), "ok");
    assert_string_equal(hitlq_status_str(HITLQ_ST_RESOURCE_EXHAUSTED), "resource_exhausted");
    assert_string_equal(hitlq_status_str(9999), "unknown");
    assert_string_equal(hitlq_status_desc(HITLQ_ST_NOT_FOUND), "no such item");
    assert_true(hitlq_status_is_fatal(HITLQ_ST_BAD_FRAME));
    assert_true(hitlq_status_is_fatal(HITLQ_ST_FRAME_TOO_LARGE));
    assert_true(hitlq_status_is_fatal(HITLQ_ST_BAD_MSGPACK));
    assert_true(hitlq_status_is_fatal(HITLQ_ST_LIMIT_EXCEEDED));
    assert_true(hitlq_status_is_fatal(HITLQ_ST_BAD_VERSION));
    assert_true(hitlq_status_is_fatal(HITLQ_ST_NEED_HELLO));
    assert_false(hitlq_status_is_fatal(HITLQ_ST_UNKNOWN_OP));
    assert_false(hitlq_status_is_fatal(HITLQ_ST_BAD_REQUEST));
    assert_false(hitlq_status_is_fatal(HITLQ_ST_TOO_MANY_INFLIGHT));
    assert_false(hitlq_status_is_fatal(HITLQ_ST_OK));
    assert_string_equal(hitlq_op_name(HITLQ_OP_ESCALATE), "ESCALATE");
    assert_string_equal(hitlq_op_name(0x31), "RESULT");
    assert_string_equal(hitlq_op_name(0x03), "AUTH");
    assert_null(hitlq_op_name(0x04));
}

#define TW_TEST(f) cmocka_unit_test_setup_teardown(f, tw_setup, tw_teardown)

/* wire_body_raw returns the exact bytes of a top-level value, whatever
 * encodings surround it (fixstr/str8 keys, arrays, nested maps). */
static void
test_body_raw(void **state)
{
    msgpack_sbuffer sb, want;
    msgpack_packer pk, wpk;
    const uint8_t *v;
    size_t n;
    char longkey[40];

    (void)state;
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    msgpack_sbuffer_init(&sb);
    msgpack_sbuffer_init(&want);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_packer_init(&wpk, &want, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    wire_pack_kv_str(&pk, "key", "k1");
    wire_pack_cstr(&pk, longkey);                 /* str8 key */
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_map(&pk, 1);
    wire_pack_kv_f64(&pk, "x", 2.5);
    wire_pack_cstr(&pk, "fields");
    msgpack_pack_map(&pk, 2);
    wire_pack_kv_u64(&pk, "amount", 70000);
    wire_pack_kv_str(&pk, "purpose", "NewCar");
    wire_pack_kv_nil(&pk, "priority");
    msgpack_pack_map(&wpk, 2);
    wire_pack_kv_u64(&wpk, "amount", 70000);
    wire_pack_kv_str(&wpk, "purpose", "NewCar");

    assert_true(wire_body_raw((uint8_t *)sb.data, sb.size, "fields", &v, &n));
    assert_int_equal(n, want.size);
    assert_memory_equal(v, want.data, n);
    assert_true(wire_body_raw((uint8_t *)sb.data, sb.size, longkey, &v, &n));
    assert_int_equal(v[0], 0x92);
    assert_true(wire_body_raw((uint8_t *)sb.data, sb.size, "priority", &v, &n));
    assert_int_equal(n, 1);
    assert_int_equal(v[0], 0xc0);
    assert_false(wire_body_raw((uint8_t *)sb.data, sb.size, "field", &v, &n));
    assert_false(wire_body_raw((uint8_t *)sb.data, sb.size, "missing", &v, &n));
    assert_false(wire_body_raw((uint8_t *)sb.data, 0, "fields", &v, &n));
    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_destroy(&want);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TW_TEST(test_decode_ok),
        TW_TEST(test_unknown_key),
        TW_TEST(test_duplicate_key),
        TW_TEST(test_missing_required),
        TW_TEST(test_wrong_type),
        TW_TEST(test_array_count),
        TW_TEST(test_uint_range),
        TW_TEST(test_uint_encodings),
        TW_TEST(test_negative_int),
        TW_TEST(test_float_where_uint),
        TW_TEST(test_names),
        TW_TEST(test_str_map_float_limits),
        TW_TEST(test_non_str_key),
        TW_TEST(test_error_round_trip),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_body_raw),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
