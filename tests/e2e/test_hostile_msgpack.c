/*
 * test_hostile_msgpack.c - hostile MessagePack bodies against a real
 * hitlqd (docs/RELIABILITY.md T5): array/map/str32 bombs, 10,000 chained
 * arrays, nesting depth 8 (ok) to 100,000, invalid UTF-8, NUL in names,
 * ext types, the reserved byte 0xc1, trailing objects, an object split
 * across frames, the element budget, string and note limits, the
 * pre-HELLO limit: fatal ones answered with a typed error and a close.
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hitlq_proto.h"
#include "hostile_util.h"

/* ---- msgpack bombs and limits ---------------------------------------------- */

static void test_array32_bomb(void **st)
{
    (void)st;
    const uint8_t b1[] = { 0x81, 0xa1, 'a', 0xdd, 0xff, 0xff, 0xff, 0xff };
    hostile_body_fatal(b1, sizeof b1, HITLQ_ST_LIMIT_EXCEEDED, HITLQ_ST_BAD_MSGPACK);
    const uint8_t b2[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };   /* body itself */
    hostile_body_fatal(b2, sizeof b2, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_LIMIT_EXCEEDED);
}

static void test_map32_bomb(void **st)
{
    (void)st;
    const uint8_t b1[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
    hostile_body_fatal(b1, sizeof b1, HITLQ_ST_LIMIT_EXCEEDED, HITLQ_ST_BAD_MSGPACK);
    const uint8_t b2[] = { 0x81, 0xa1, 'a', 0xdf, 0xff, 0xff, 0xff, 0xff };
    hostile_body_fatal(b2, sizeof b2, HITLQ_ST_LIMIT_EXCEEDED, HITLQ_ST_BAD_MSGPACK);
}

static void test_array16_chain_10000(void **st)
{
    (void)st;
    size_t n = 3 + 10000 * 3;
    uint8_t *b = malloc(n);
    assert_non_null(b);
    b[0] = 0x81;
    b[1] = 0xa1;
    b[2] = 'a';
    for (size_t i = 0; i < 10000; i++) {
        b[3 + 3 * i] = 0xdc;
        b[4 + 3 * i] = 0xff;
        b[5 + 3 * i] = 0xff;
    }
    hostile_body_fatal(b, n, HITLQ_ST_LIMIT_EXCEEDED, HITLQ_ST_LIMIT_EXCEEDED);
    free(b);
}

static void nested(size_t depth, uint16_t want)
{
    /* body map = depth 1, then depth-1 nested fixarrays of one element */
    size_t n = 3 + (depth - 1) + 1;
    uint8_t *b = malloc(n);
    assert_non_null(b);
    b[0] = 0x81;
    b[1] = 0xa1;
    b[2] = 'a';
    memset(b + 3, 0x91, depth - 1);
    b[n - 1] = 0x00;
    if (want == 0) {
        /* depth within the limit: a valid body, PING refuses the key */
        hostile_request_error(HITLQ_OP_PING, b, n, HITLQ_ST_BAD_REQUEST, "bad_request", 0, NULL);
    } else {
        hostile_body_fatal(b, n, want, want);
    }
    free(b);
}

static void test_depth_8_ok(void **st) { (void)st; nested(8, 0); }

static void test_depth_9(void **st) { (void)st; nested(9, HITLQ_ST_LIMIT_EXCEEDED); }

static void test_depth_33(void **st) { (void)st; nested(33, HITLQ_ST_LIMIT_EXCEEDED); }

static void test_depth_100000(void **st) { (void)st; nested(100000, HITLQ_ST_LIMIT_EXCEEDED); }

static void test_str32_4gib(void **st)
{
    (void)st;
    uint8_t b[3 + 5 + 10] = { 0x81, 0xa1, 'a', 0xdb, 0xff, 0xff, 0xff, 0xff };
    memset(b + 8, 'x', 10);
    hostile_body_fatal(b, sizeof b, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_LIMIT_EXCEEDED);
    uint8_t c[3 + 5 + 10] = { 0x81, 0xa1, 'a', 0xc6, 0xff, 0xff, 0xff, 0xff };  /* bin32 */
    hostile_body_fatal(c, sizeof c, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_LIMIT_EXCEEDED);
}

static void test_invalid_utf8(void **st)
{
    (void)st;
    const uint8_t bad1[] = { 0x81, 0xa1, 'a', 0xa2, 0xc3, 0x28 };          /* bad continuation */
    const uint8_t bad2[] = { 0x81, 0xa1, 'a', 0xa2, 0xc0, 0xaf };          /* overlong '/' */
    const uint8_t bad3[] = { 0x81, 0xa1, 'a', 0xa3, 0xed, 0xa0, 0x80 };    /* surrogate */
    const uint8_t bad4[] = { 0x81, 0xa2, 0xff, 'a', 0x01 };                 /* in a key */
    const uint8_t bad5[] = { 0x81, 0xa1, 'a', 0xa4, 0xf4, 0x90, 0x80, 0x80 }; /* > U+10FFFF */
    hostile_body_fatal(bad1, sizeof bad1, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    hostile_body_fatal(bad2, sizeof bad2, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    hostile_body_fatal(bad3, sizeof bad3, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    hostile_body_fatal(bad4, sizeof bad4, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    hostile_body_fatal(bad5, sizeof bad5, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
}

static void test_embedded_nul_in_name(void **st)
{
    (void)st;
    /* valid UTF-8 but not a name: non-fatal bad_request */
    struct hostile_body b;
    hostile_body_init(&b);
    msgpack_pack_map(&b.pk, 3);
    hpk_str(&b.pk, "key");
    msgpack_pack_str(&b.pk, 3);
    msgpack_pack_str_body(&b.pk, "a\0b", 3);
    hpk_kv_str(&b.pk, "type", "credit_application");
    hpk_str(&b.pk, "fields");
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_u64(&b.pk, "amount", 1000);
    hostile_request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST,
                          "bad_request", 0, NULL);
    hostile_body_free(&b);
}

static void test_ext_types(void **st)
{
    (void)st;
    const uint8_t fixext1[] = { 0x81, 0xa1, 'a', 0xd4, 0x01, 0x00 };
    const uint8_t ts_m1[] = { 0x81, 0xa1, 'a', 0xd6, 0xff, 0x00, 0x00, 0x00, 0x00 };
    const uint8_t ext8[] = { 0x81, 0xa1, 'a', 0xc7, 0x02, 0x05, 0x00, 0x00 };
    const uint8_t ext32[] = { 0x81, 0xa1, 'a', 0xc9, 0xff, 0xff, 0xff, 0xff, 0x05 };
    hostile_body_fatal(fixext1, sizeof fixext1, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    hostile_body_fatal(ts_m1, sizeof ts_m1, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    hostile_body_fatal(ext8, sizeof ext8, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    hostile_body_fatal(ext32, sizeof ext32, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_LIMIT_EXCEEDED);
}

static void test_reserved_c1(void **st)
{
    (void)st;
    const uint8_t b1[] = { 0x81, 0xa1, 'a', 0xc1 };
    const uint8_t b2[] = { 0xc1 };
    hostile_body_fatal(b1, sizeof b1, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    hostile_body_fatal(b2, sizeof b2, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
}

static void test_trailing_and_two_objects(void **st)
{
    (void)st;
    const uint8_t trailing[] = { 0x80, 0x00 };
    const uint8_t two[] = { 0x80, 0x80 };
    const uint8_t notmap[] = { 0x92, 0x01, 0x02 };
    const uint8_t scalar[] = { 0x01 };
    const uint8_t intkey[] = { 0x81, 0x01, 0x02 };
    hostile_body_fatal(trailing, sizeof trailing, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    hostile_body_fatal(two, sizeof two, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    hostile_body_fatal(notmap, sizeof notmap, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    hostile_body_fatal(scalar, sizeof scalar, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    hostile_body_fatal(intkey, sizeof intkey, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
}

/* T5 item 13: one object split across two frames - each frame is judged
 * alone; the first (a map of 2 with 1 pair) is truncated. */
static void test_object_split_across_frames(void **st)
{
    (void)st;
    struct hconn c;
    hostile_open(&c, true);
    const uint8_t part1[] = { 0x82, 0xa1, 'a', 0x01 };
    const uint8_t part2[] = { 0xa1, 'b', 0x02 };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    hframe_append(&sb, HITLQ_OP_PING, 61, part1, sizeof part1);
    hframe_append(&sb, HITLQ_OP_PING, 62, part2, sizeof part2);
    assert_int_equal(hconn_send(&c, sb.data, sb.size, 5000), 0);
    msgpack_sbuffer_destroy(&sb);
    hostile_expect_error(&c, HITLQ_ST_BAD_MSGPACK, "bad_msgpack", 61);
    hostile_expect_closed(&c);     /* and the second frame is never answered */
    hconn_close(&c);
}

/* §2 rule 4: elements = array lengths + 2 x map lengths <= 4096. */
static void test_element_budget(void **st)
{
    (void)st;
    /* {"a": [0 x n]}: 2 + n elements */
    for (int k = 0; k < 2; k++) {
        size_t n = k == 0 ? 4094 : 4095;
        size_t len = 3 + 3 + n;
        uint8_t *b = malloc(len);
        assert_non_null(b);
        b[0] = 0x81;
        b[1] = 0xa1;
        b[2] = 'a';
        b[3] = 0xdc;
        b[4] = (uint8_t)(n >> 8);
        b[5] = (uint8_t)n;
        memset(b + 6, 0x00, n);
        if (k == 0)   /* exactly 4096: valid msgpack, PING refuses the key */
            hostile_request_error(HITLQ_OP_PING, b, len, HITLQ_ST_BAD_REQUEST, "bad_request", 0,
                                  NULL);
        else
            hostile_body_fatal(b, len, HITLQ_ST_LIMIT_EXCEEDED, HITLQ_ST_LIMIT_EXCEEDED);
        free(b);
    }
}

/* §2 rule 6: str <= 65,536 bytes. */
static void test_str_limit(void **st)
{
    (void)st;
    for (int k = 0; k < 2; k++) {
        size_t sl = 65536 + (size_t)k;
        size_t len = 3 + 5 + sl;
        uint8_t *b = malloc(len);
        assert_non_null(b);
        b[0] = 0x81;
        b[1] = 0xa1;
        b[2] = 'a';
        b[3] = 0xdb;
        b[4] = (uint8_t)(sl >> 24);
        b[5] = (uint8_t)(sl >> 16);
        b[6] = (uint8_t)(sl >> 8);
        b[7] = (uint8_t)sl;
        memset(b + 8, 'x', sl);
        if (k == 0)
            hostile_request_error(HITLQ_OP_PING, b, len, HITLQ_ST_BAD_REQUEST, "bad_request", 0,
                                  NULL);
        else
            hostile_body_fatal(b, len, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_LIMIT_EXCEEDED);
        free(b);
    }
}

/* Pre-HELLO: a body of exactly 4096 bytes is read and judged (HELLO with
 * an over-long client string: bad_request), not frame_too_large. */
static void test_prehello_exact_limit(void **st)
{
    (void)st;
    /* map, "version", 1, "client", str16 header */
    size_t sl = HITLQ_MAX_FRAME_PREAUTH - (1 + 8 + 1 + 7 + 3);
    struct hostile_body b;
    hostile_body_init(&b);
    msgpack_pack_map(&b.pk, 2);
    hpk_kv_u64(&b.pk, "version", 1);
    hpk_str(&b.pk, "client");
    char *str = malloc(sl);
    assert_non_null(str);
    memset(str, 'c', sl);
    msgpack_pack_str(&b.pk, sl);
    msgpack_pack_str_body(&b.pk, str, sl);
    free(str);
    assert_int_equal(b.sb.size, HITLQ_MAX_FRAME_PREAUTH);
    struct hconn c;
    hostile_open(&c, false);
    hostile_send_frame(&c, HITLQ_OP_HELLO, 0, 3, b.sb.data, b.sb.size);
    hostile_body_free(&b);
    struct hframe f;
    assert_int_equal(hconn_read_frame(&c, &f, 5000), 1);
    assert_int_not_equal(f.status, HITLQ_ST_FRAME_TOO_LARGE);
    assert_int_equal(f.status, HITLQ_ST_BAD_REQUEST);   /* client > 128 bytes */
    hframe_free(&f);
    hconn_close(&c);
}

/* note <= 4096 bytes (RESOLVE/ESCALATE): schema error before any lookup. */
static void test_note_too_long(void **st)
{
    (void)st;
    char *note = malloc(4098);
    assert_non_null(note);
    memset(note, 'n', 4097);
    note[4097] = 0;
    struct hostile_body b;
    hostile_body_init(&b);
    msgpack_pack_map(&b.pk, 4);
    hpk_kv_u64(&b.pk, "id", 1);
    hpk_kv_u64(&b.pk, "lease", 1);
    hpk_kv_str(&b.pk, "outcome", "approve");
    hpk_kv_str(&b.pk, "note", note);
    hostile_request_error(HITLQ_OP_RESOLVE, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST,
                          "bad_request", 0, NULL);
    hostile_body_free(&b);
    hostile_body_init(&b);
    msgpack_pack_map(&b.pk, 4);
    hpk_kv_u64(&b.pk, "id", 1);
    hpk_kv_u64(&b.pk, "lease", 1);
    hpk_kv_str(&b.pk, "queue", "x");
    hpk_kv_str(&b.pk, "note", note);
    hostile_request_error(HITLQ_OP_ESCALATE, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST,
                          "bad_request", 0, NULL);
    hostile_body_free(&b);
    free(note);
    /* a lease op on an unknown id: not_found */
    hostile_body_init(&b);
    msgpack_pack_map(&b.pk, 2);
    hpk_kv_u64(&b.pk, "id", 123456789);
    hpk_kv_u64(&b.pk, "lease", 1);
    hostile_request_error(HITLQ_OP_RELEASE, b.sb.data, b.sb.size, HITLQ_ST_NOT_FOUND, "not_found",
                          0, NULL);
    hostile_body_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HOSTILE_TEST(test_array32_bomb),
        HOSTILE_TEST(test_map32_bomb),
        HOSTILE_TEST(test_array16_chain_10000),
        HOSTILE_TEST(test_depth_8_ok),
        HOSTILE_TEST(test_depth_9),
        HOSTILE_TEST(test_depth_33),
        HOSTILE_TEST(test_depth_100000),
        HOSTILE_TEST(test_str32_4gib),
        HOSTILE_TEST(test_invalid_utf8),
        HOSTILE_TEST(test_embedded_nul_in_name),
        HOSTILE_TEST(test_ext_types),
        HOSTILE_TEST(test_reserved_c1),
        HOSTILE_TEST(test_trailing_and_two_objects),
        HOSTILE_TEST(test_object_split_across_frames),
        HOSTILE_TEST(test_element_budget),
        HOSTILE_TEST(test_str_limit),
        HOSTILE_TEST(test_prehello_exact_limit),
        HOSTILE_TEST(test_note_too_long),
    };
    return hostile_run("hostile_msgpack", tests, sizeof tests / sizeof tests[0]);
}
