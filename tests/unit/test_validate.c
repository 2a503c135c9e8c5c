/*
 * test_validate.c - unit tests of mp_validate and mp_utf8_valid: the
 * hostile-input catalogue of docs/RELIABILITY.md T5 items 6-13 that applies to a
 * validator, the limits of PROTOCOL.md §2, and one valid body per request
 * type of §4 (packed with msgpack-c).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "validate.h"
#include "wire.h"

static char tv_err[160];

static int
tv_check(const void *buf, size_t len)
{
    return mp_validate(buf, len, &mp_limits_default, tv_err, sizeof(tv_err));
}

#define TV_EXPECT(bytes, status) do {                                    \
        static const uint8_t tv_b_[] = bytes;                           \
        assert_int_equal(tv_check(tv_b_, sizeof(tv_b_) - 1), (status)); \
        if ((status) != HITLQ_ST_OK)                                    \
            assert_non_null(strstr(tv_err, "offset "));                 \
    } while (0)

/* A malloc'd buffer: prefix, then `count` copies of unit. */
static uint8_t *
tv_repeat(const char *prefix, size_t plen, const char *unit, size_t ulen,
          size_t count, size_t *len)
{
    uint8_t *b = malloc(plen + ulen * count);

    assert_non_null(b);
    memcpy(b, prefix, plen);
    for (size_t i = 0; i < count; i++)
        memcpy(b + plen + i * ulen, unit, ulen);
    *len = plen + ulen * count;
    return b;
}

static void
test_empty_and_simple(void **state)
{
    (void)state;
    assert_int_equal(tv_check("", 0), HITLQ_ST_OK);
    TV_EXPECT("\x80", HITLQ_ST_OK);
    TV_EXPECT("\xde\x00\x00", HITLQ_ST_OK);
    TV_EXPECT("\x81\xa2id\xcf\xff\xff\xff\xff\xff\xff\xff\xff", HITLQ_ST_OK);
    TV_EXPECT("\x82\xa1" "a\xc0\xa1" "b\x92\xc2\xc3", HITLQ_ST_OK);
    TV_EXPECT("\x81\xa1n\xd3\x80\x00\x00\x00\x00\x00\x00\x00", HITLQ_ST_OK);
    TV_EXPECT("\x81\xa1n\xe0", HITLQ_ST_OK);
}

/* T5 item 6: one 5-byte header must not reach msgpack-c's pre-allocation. */
static void
test_huge_containers(void **state)
{
    (void)state;
    TV_EXPECT("\x81\xa1" "a" "\xdd\xff\xff\xff\xff", HITLQ_ST_LIMIT_EXCEEDED);
    TV_EXPECT("\xdf\xff\xff\xff\xff", HITLQ_ST_LIMIT_EXCEEDED);
    TV_EXPECT("\x81\xa1" "a" "\xdf\xff\xff\xff\xff", HITLQ_ST_LIMIT_EXCEEDED);
    TV_EXPECT("\xdd\xff\xff\xff\xff", HITLQ_ST_BAD_MSGPACK);   /* not a map */
}

/* T5 item 7: 10,000 array16 headers pass any per-container check. */
static void
test_array16_chain(void **state)
{
    size_t len;
    uint8_t *b = tv_repeat("\x81\xa1" "a", 3, "\xdc\xff\xff", 3, 10000, &len);

    (void)state;
    assert_int_equal(tv_check(b, len), HITLQ_ST_LIMIT_EXCEEDED);
    assert_non_null(strstr(tv_err, "element budget"));
    free(b);
}

/* Global element budget: min(4096, len), maps counting twice. */
static void
test_element_budget(void **state)
{
    size_t len;
    uint8_t *b = tv_repeat("\x81\xa1" "a" "\xdd\x00\x00\x0f\xfe", 8, "\xc0", 1, 4094, &len);

    (void)state;
    assert_int_equal(tv_check(b, len), HITLQ_ST_OK);              /* 2 + 4094 */
    free(b);
    b = tv_repeat("\x81\xa1" "a" "\xdd\x00\x00\x0f\xff", 8, "\xc0", 1, 4095, &len);
    assert_int_equal(tv_check(b, len), HITLQ_ST_LIMIT_EXCEEDED);  /* 4097 */
    free(b);
    /* Budget also capped by len: valid input never exceeds it (every
     * element takes a byte), a lying count does: 2 + 15 > 3 bytes. */
    TV_EXPECT("\x81\xa0\x81\xa0\x80", HITLQ_ST_OK);
    TV_EXPECT("\x81\xa0\x9f", HITLQ_ST_LIMIT_EXCEEDED);
}

static void
tv_depth(size_t depth, int want)
{
    size_t len;
    uint8_t *b = tv_repeat("", 0, "\x81\xa1" "a", 3, depth - 1, &len);

    b = realloc(b, len + 1);
    assert_non_null(b);
    b[len++] = 0x80;
    assert_int_equal(tv_check(b, len), want);
    free(b);
}

/* T5 item 8: depth 8 is the limit; 9, 33 and 100,000 are refused. */
static void
test_depth(void **state)
{
    size_t len;
    uint8_t *b;

    (void)state;
    tv_depth(1, HITLQ_ST_OK);
    tv_depth(8, HITLQ_ST_OK);
    tv_depth(9, HITLQ_ST_LIMIT_EXCEEDED);
    tv_depth(33, HITLQ_ST_LIMIT_EXCEEDED);
    tv_depth(100000, HITLQ_ST_LIMIT_EXCEEDED);
    b = tv_repeat("\x81\xa1" "a", 3, "\x91", 1, 100000, &len);
    assert_int_equal(tv_check(b, len), HITLQ_ST_LIMIT_EXCEEDED);
    assert_non_null(strstr(tv_err, "nesting"));
    free(b);
}

/* T5 item 9: declared sizes beyond the limit or beyond the bytes present. */
static void
test_str_bin_sizes(void **state)
{
    (void)state;
    TV_EXPECT("\x81\xa1" "a" "\xdb\xff\xff\xff\xff" "0123456789", HITLQ_ST_LIMIT_EXCEEDED);
    TV_EXPECT("\x81\xa1" "a" "\xc6\xff\xff\xff\xff" "0123456789", HITLQ_ST_LIMIT_EXCEEDED);
    TV_EXPECT("\x81\xa1" "a" "\xda\x03\xe8" "0123456789", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa1" "a" "\xc4\x0b" "0123456789", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa1" "a" "\xc4\x0a" "0123456789", HITLQ_ST_OK);
    TV_EXPECT("\x81\xdb\x00\x00\x00\x01" "a" "\xc0", HITLQ_ST_OK);
}

static void
test_str_at_limit(void **state)
{
    size_t len;
    uint8_t *b = tv_repeat("\x81\xa1" "a" "\xdb\x00\x01\x00\x00", 8, "x", 1, 65536, &len);

    (void)state;
    assert_int_equal(tv_check(b, len), HITLQ_ST_OK);
    free(b);
    b = tv_repeat("\x81\xa1" "a" "\xdb\x00\x01\x00\x01", 8, "x", 1, 65537, &len);
    assert_int_equal(tv_check(b, len), HITLQ_ST_LIMIT_EXCEEDED);
    free(b);
}

static void
test_utf8(void **state)
{
    (void)state;
    assert_true(mp_utf8_valid((const uint8_t *)"plain ascii, longer than 8", 26));
    assert_true(mp_utf8_valid((const uint8_t *)"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", 9));
    assert_true(mp_utf8_valid((const uint8_t *)"\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf", 10));
    assert_true(mp_utf8_valid((const uint8_t *)"a\0b", 3));
    assert_false(mp_utf8_valid((const uint8_t *)"\xc0\xaf", 2));          /* overlong / */
    assert_false(mp_utf8_valid((const uint8_t *)"\xc1\xbf", 2));
    assert_false(mp_utf8_valid((const uint8_t *)"\xe0\x80\xaf", 3));      /* overlong */
    assert_false(mp_utf8_valid((const uint8_t *)"\xf0\x80\x80\xaf", 4));  /* overlong */
    assert_false(mp_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));      /* U+D800 */
    assert_false(mp_utf8_valid((const uint8_t *)"\xed\xbf\xbf", 3));      /* U+DFFF */
    assert_false(mp_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
    assert_false(mp_utf8_valid((const uint8_t *)"\xf5\x80\x80\x80", 4));
    assert_false(mp_utf8_valid((const uint8_t *)"\xff", 1));
    assert_false(mp_utf8_valid((const uint8_t *)"\x80", 1));              /* lone continuation */
    assert_false(mp_utf8_valid((const uint8_t *)"abcdefgh\xe4\xb8", 10)); /* truncated */
    assert_false(mp_utf8_valid((const uint8_t *)"\xe4\x41\xad", 3));
    TV_EXPECT("\x81\xa1" "a" "\xa2\xc0\xaf", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa1" "a" "\xa3\xed\xa0\x80", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa2\xff\xfe" "\x01", HITLQ_ST_BAD_MSGPACK);            /* in a key */
    TV_EXPECT("\x81\xa1" "a" "\xa3\xe4\xb8\xad", HITLQ_ST_OK);
    TV_EXPECT("\x81\xa1" "a" "\xc4\x02\xc0\xaf", HITLQ_ST_OK);              /* bin: any bytes */
}

/* T5 item 10: ext types, the timestamp ext, and 0xc1. */
static void
test_ext_and_reserved(void **state)
{
    (void)state;
    TV_EXPECT("\x81\xa1" "a" "\xd6\xff\xff\xff\xff\xff", HITLQ_ST_BAD_MSGPACK);  /* ts -1 */
    TV_EXPECT("\x81\xa1" "a" "\xd7\xff\x00\x00\x00\x00\x00\x00\x00\x00", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa1" "a" "\xd4\x01\x00", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa1" "a" "\xd5\x01\x00\x00", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa1" "a" "\xd8\x01" "0123456789abcdef", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa1" "a" "\xc7\x01\x05" "x", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa1" "a" "\xc8\x00\x01\x05" "x", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa1" "a" "\xc9\x00\x00\x00\x01\x05" "x", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa1" "a" "\xd4", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa1" "a" "\xc1", HITLQ_ST_BAD_MSGPACK);
    assert_non_null(strstr(tv_err, "0xc1"));
    TV_EXPECT("\xc1", HITLQ_ST_BAD_MSGPACK);
}

/* T5 item 12: NaN and Inf, float32 and float64. */
static void
test_floats(void **state)
{
    (void)state;
    TV_EXPECT("\x81\xa1" "f" "\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa1" "f" "\xcb\xff\xf0\x00\x00\x00\x00\x00\x00", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa1" "f" "\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa1" "f" "\xca\x7f\xc0\x00\x00", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa1" "f" "\xca\xff\x80\x00\x00", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\xa1" "f" "\xcb\x7f\xef\xff\xff\xff\xff\xff\xff", HITLQ_ST_OK);  /* DBL_MAX */
    TV_EXPECT("\x81\xa1" "f" "\xca\x3f\x80\x00\x00", HITLQ_ST_OK);                 /* 1.0f */
    TV_EXPECT("\x81\xa1" "f" "\xcb\x80\x00\x00\x00\x00\x00\x00\x00", HITLQ_ST_OK);  /* -0.0 */
    TV_EXPECT("\x81\xa1" "f" "\xcb\x3f\xf0\x00", HITLQ_ST_BAD_MSGPACK);             /* short */
}

/* T5 item 13 and §2 rule 2: exactly one map, nothing after it. */
static void
test_structure(void **state)
{
    (void)state;
    TV_EXPECT("\x81\xa2id\x01\x00", HITLQ_ST_BAD_MSGPACK);          /* trailing */
    assert_non_null(strstr(tv_err, "trailing"));
    TV_EXPECT("\x81\xa2id\x01\x81\xa2id\x02", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x82\xa2id\x01\xa3key", HITLQ_ST_BAD_MSGPACK);       /* truncated */
    TV_EXPECT("\x81\xa2id", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81", HITLQ_ST_LIMIT_EXCEEDED);   /* 2 elements > 1 byte */
    TV_EXPECT("\x81\xa1" "a" "\xcf\x00\x00", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x93\x01\x02\x03", HITLQ_ST_BAD_MSGPACK);             /* top array */
    TV_EXPECT("\x01", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\xa3" "abc", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\xc0", HITLQ_ST_BAD_MSGPACK);
    TV_EXPECT("\x81\x01\x02", HITLQ_ST_BAD_MSGPACK);                 /* int key */
    assert_non_null(strstr(tv_err, "key"));
    TV_EXPECT("\x81\xa1" "a" "\x81\x90\x01", HITLQ_ST_BAD_MSGPACK);  /* nested array key */
    TV_EXPECT("\x81\xc4\x01" "a" "\x01", HITLQ_ST_BAD_MSGPACK);      /* bin key */
    TV_EXPECT("\x81\xa1" "a" "\x92\x01\x81\x01\x01", HITLQ_ST_BAD_MSGPACK);
}

/* Packs one request body of §4; returns its validator verdict. */
static int
tv_pack_check(void (*fill)(msgpack_packer *))
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    int st;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    fill(&pk);
    st = tv_check(sb.data, sb.size);
    /* Every strict prefix of a valid body is refused. */
    for (size_t n = 1; st == HITLQ_ST_OK && n < sb.size; n++)
        assert_int_not_equal(tv_check(sb.data, n), HITLQ_ST_OK);
    msgpack_sbuffer_destroy(&sb);
    return st;
}

static void tv_hello(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 3);
    wire_pack_kv_u64(pk, "version", 1);
    wire_pack_kv_str(pk, "client", "test_validate/1.0");
    wire_pack_kv_str(pk, "name", "bot-7");
}

static void tv_empty(msgpack_packer *pk) { msgpack_pack_map(pk, 0); }

static void tv_submit(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 4);
    wire_pack_kv_str(pk, "key", "inv-2024-0001");
    wire_pack_kv_str(pk, "type", "credit_application");
    wire_pack_cstr(pk, "fields");
    msgpack_pack_map(pk, 6);
    wire_pack_kv_f64(pk, "amount", 1250.5);
    wire_pack_kv_str(pk, "country", "D\xc3\xa9");
    wire_pack_kv_bool(pk, "new_customer", true);
    wire_pack_kv_nil(pk, "note");
    wire_pack_kv_u64(pk, "age", 41);
    wire_pack_cstr(pk, "delta");
    msgpack_pack_int64(pk, -300000);
    wire_pack_kv_u64(pk, "priority", 500);
}

static void tv_get(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 1);
    wire_pack_kv_u64(pk, "id", 42);
}

static void tv_claim(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 4);
    wire_pack_cstr(pk, "queues");
    msgpack_pack_array(pk, 16);
    for (int i = 0; i < 16; i++)
        wire_pack_cstr(pk, i % 2 ? "review" : "fraud/high");
    wire_pack_kv_u64(pk, "lease_ms", HITLQ_MAX_LEASE_MS);
    wire_pack_kv_u64(pk, "wait_ms", 0);
    wire_pack_kv_str(pk, "worker", "alice@example.com");
}

static void tv_top_array(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 0);   /* not a map: refused */
}

static void tv_resolve(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 5);
    wire_pack_kv_u64(pk, "id", 42);
    wire_pack_kv_u64(pk, "lease", UINT64_MAX);
    wire_pack_kv_str(pk, "outcome", "approve");
    wire_pack_kv_str(pk, "note", "ok \xe4\xb8\xad \xf0\x9f\x98\x80");
    wire_pack_kv_str(pk, "root_cause", "missing_doc");
}

static void tv_extend_release_escalate(msgpack_packer *pk)
{
    /* EXTEND, RELEASE and ESCALATE bodies side by side in one map. */
    msgpack_pack_map(pk, 6);
    wire_pack_kv_u64(pk, "id", 42);
    wire_pack_kv_u64(pk, "lease", 7);
    wire_pack_kv_u64(pk, "lease_ms", 30000);
    wire_pack_kv_u64(pk, "delay_ms", 5000);
    wire_pack_kv_str(pk, "queue", "senior");
    wire_pack_kv_str(pk, "note", "needs a second look");
}

static void tv_watch(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 1);
    wire_pack_kv_u64(pk, "cursor", 0);
}

static void tv_submit_reply(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 3);
    wire_pack_kv_u64(pk, "id", 1);
    wire_pack_cstr(pk, "reasons");
    msgpack_pack_array(pk, 1);
    msgpack_pack_map(pk, 3);
    wire_pack_kv_str(pk, "feature", "amount");
    wire_pack_kv_f64(pk, "value", 12.5);
    wire_pack_kv_f64(pk, "contribution", -0.25);
    wire_pack_kv_f64(pk, "score", 0.93);
}

static void
test_valid_requests(void **state)
{
    (void)state;
    assert_int_equal(tv_pack_check(tv_hello), HITLQ_ST_OK);
    assert_int_equal(tv_pack_check(tv_empty), HITLQ_ST_OK);          /* PING, STATS */
    assert_int_equal(tv_pack_check(tv_submit), HITLQ_ST_OK);
    assert_int_equal(tv_pack_check(tv_get), HITLQ_ST_OK);
    assert_int_equal(tv_pack_check(tv_claim), HITLQ_ST_OK);
    assert_int_equal(tv_pack_check(tv_extend_release_escalate), HITLQ_ST_OK);
    assert_int_equal(tv_pack_check(tv_resolve), HITLQ_ST_OK);
    assert_int_equal(tv_pack_check(tv_watch), HITLQ_ST_OK);
    assert_int_equal(tv_pack_check(tv_submit_reply), HITLQ_ST_OK);
    assert_int_equal(tv_pack_check(tv_top_array), HITLQ_ST_BAD_MSGPACK);  /* array */
}

/* Custom limits are honoured, and NULL err is allowed. */
static void
test_custom_limits(void **state)
{
    struct mp_limits lim = { .max_depth = 2, .max_elements = 4, .max_str = 3 };
    static const uint8_t deep[] = "\x81\xa1" "a" "\x81\xa1" "b" "\x80";
    static const uint8_t longs[] = "\x81\xa1" "a" "\xa4" "abcd";

    (void)state;
    assert_int_equal(mp_validate(deep, sizeof(deep) - 1, &lim, NULL, 0), HITLQ_ST_LIMIT_EXCEEDED);
    lim.max_depth = 3;
    assert_int_equal(mp_validate(deep, sizeof(deep) - 1, &lim, NULL, 0), HITLQ_ST_OK);
    assert_int_equal(mp_validate(longs, sizeof(longs) - 1, &lim, tv_err, 8), HITLQ_ST_LIMIT_EXCEEDED);
    assert_true(strlen(tv_err) < 8);
    assert_int_equal(mp_limits_default.max_depth, HITLQ_MAX_DEPTH);
    assert_int_equal(mp_limits_default.max_elements, HITLQ_MAX_ELEMENTS);
    assert_int_equal(mp_limits_default.max_str, HITLQ_MAX_STR);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_simple),
        cmocka_unit_test(test_huge_containers),
        cmocka_unit_test(test_array16_chain),
        cmocka_unit_test(test_element_budget),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_str_bin_sizes),
        cmocka_unit_test(test_str_at_limit),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_ext_and_reserved),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_valid_requests),
        cmocka_unit_test(test_custom_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
