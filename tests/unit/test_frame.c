/*
 * test_frame.c - unit tests of the frame header codec, frame_parse and the
 * incremental frame_reader (PROTOCOL.md §2, docs/RELIABILITY.md T5 items 1-4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"

/* Writes a frame with a body of n bytes (value i & 0xff) into out. */
static size_t
tf_build(uint8_t *out, uint8_t op, uint32_t rid, uint32_t n)
{
    struct frame_hdr h = { .body_len = n, .opcode = op, .status = 0, .request_id = rid };

    frame_hdr_encode(out, &h);
    for (uint32_t i = 0; i < n; i++)
        out[HITLQ_FRAME_HDR_LEN + i] = (uint8_t)(i + rid);
    return HITLQ_FRAME_HDR_LEN + n;
}

static void
test_hdr_round_trip(void **state)
{
    struct frame_hdr h = { 0x01020304u, HITLQ_OP_SUBMIT, 0xBEEF, 0xA1B2C3D4u }, g;
    static const uint8_t want[12] = { 1, 2, 3, 4, 0x51, 0x10, 0xBE, 0xEF,
                                      0xA1, 0xB2, 0xC3, 0xD4 };
    uint8_t b[HITLQ_FRAME_HDR_LEN];

    (void)state;
    frame_hdr_encode(b, &h);
    assert_memory_equal(b, want, sizeof(want));
    assert_int_equal(frame_hdr_decode(b, UINT32_MAX, &g), HITLQ_ST_OK);
    assert_int_equal(g.body_len, h.body_len);
    assert_int_equal(g.opcode, h.opcode);
    assert_int_equal(g.status, h.status);
    assert_int_equal(g.request_id, h.request_id);
}

static void
test_hdr_bad_magic(void **state)
{
    struct frame_hdr h = { 0, HITLQ_OP_PING, 0, 77 }, g;
    uint8_t b[HITLQ_FRAME_HDR_LEN];

    (void)state;
    frame_hdr_encode(b, &h);
    b[4] = 0x52;
    assert_int_equal(frame_hdr_decode(b, HITLQ_MAX_FRAME, &g), HITLQ_ST_BAD_FRAME);
    assert_int_equal(g.request_id, 77);   /* still filled in for the reply */
}

static void
test_hdr_limits(void **state)
{
    struct frame_hdr h = { HITLQ_MAX_FRAME, HITLQ_OP_SUBMIT, 0, 1 }, g;
    uint8_t b[HITLQ_FRAME_HDR_LEN];

    (void)state;
    frame_hdr_encode(b, &h);
    assert_int_equal(frame_hdr_decode(b, HITLQ_MAX_FRAME, &g), HITLQ_ST_OK);
    h.body_len = HITLQ_MAX_FRAME + 1;
    frame_hdr_encode(b, &h);
    assert_int_equal(frame_hdr_decode(b, HITLQ_MAX_FRAME, &g), HITLQ_ST_FRAME_TOO_LARGE);
    h.body_len = HITLQ_MAX_FRAME_PREAUTH + 1;
    frame_hdr_encode(b, &h);
    assert_int_equal(frame_hdr_decode(b, HITLQ_MAX_FRAME_PREAUTH, &g),
                     HITLQ_ST_FRAME_TOO_LARGE);
    h.body_len = 0xFFFFFFFFu;
    frame_hdr_encode(b, &h);
    assert_int_equal(frame_hdr_decode(b, HITLQ_MAX_FRAME, &g), HITLQ_ST_FRAME_TOO_LARGE);
    assert_int_equal(g.body_len, 0xFFFFFFFFu);
}

static void
test_parse_stateless(void **state)
{
    uint8_t b[64];
    size_t n = tf_build(b, HITLQ_OP_GET, 9, 5);
    struct frame f;
    int st;

    (void)state;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(frame_parse(b, i, HITLQ_MAX_FRAME, &f, &st), FRAME_NEED_MORE);
    assert_int_equal(frame_parse(b, n, HITLQ_MAX_FRAME, &f, &st), FRAME_OK);
    assert_int_equal(st, HITLQ_ST_OK);
    assert_int_equal(f.total_len, n);
    assert_ptr_equal(f.body, b + HITLQ_FRAME_HDR_LEN);
    assert_int_equal(f.hdr.request_id, 9);
    /* 0xFFFFFFFF is refused from the header alone, without the body. */
    b[0] = b[1] = b[2] = b[3] = 0xff;
    assert_int_equal(frame_parse(b, HITLQ_FRAME_HDR_LEN, HITLQ_MAX_FRAME, &f, &st), FRAME_ERROR);
    assert_int_equal(st, HITLQ_ST_FRAME_TOO_LARGE);
}

/* A frame fed one byte at a time comes out once, at the last byte. */
static void
test_reader_byte_by_byte(void **state)
{
    uint8_t b[64];
    size_t n = tf_build(b, HITLQ_OP_SUBMIT, 42, 20);
    struct frame_reader r;
    struct frame f;

    (void)state;
    frame_reader_init(&r, HITLQ_MAX_FRAME);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(frame_reader_feed(&r, b + i, 1), 0);
        if (i + 1 < n)
            assert_int_equal(frame_reader_next(&r, &f), FRAME_NEED_MORE);
    }
    assert_int_equal(frame_reader_next(&r, &f), FRAME_OK);
    assert_int_equal(f.hdr.request_id, 42);
    assert_int_equal(f.hdr.body_len, 20);
    assert_memory_equal(f.body, b + HITLQ_FRAME_HDR_LEN, 20);
    assert_int_equal(frame_reader_next(&r, &f), FRAME_NEED_MORE);
    frame_reader_clear(&r);
    assert_null(r.buf);
}

/* Several pipelined frames in one feed, including an empty body. */
static void
test_reader_pipelined(void **state)
{
    uint8_t b[512];
    size_t n = 0;
    struct frame_reader r;
    struct frame f;

    (void)state;
    for (uint32_t i = 0; i < 5; i++)
        n += tf_build(b + n, HITLQ_OP_PING, 100 + i, i * 7);
    frame_reader_init(&r, HITLQ_MAX_FRAME_PREAUTH);
    assert_int_equal(frame_reader_feed(&r, b, n), 0);
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal(frame_reader_next(&r, &f), FRAME_OK);
        assert_int_equal(f.hdr.request_id, 100 + i);
        assert_int_equal(f.hdr.body_len, i * 7);
        if (i > 0)
            assert_int_equal(f.body[0], (uint8_t)(100 + i));
    }
    assert_int_equal(frame_reader_next(&r, &f), FRAME_NEED_MORE);
    assert_int_equal(r.len, 0);   /* consumed bytes were compacted away */
    frame_reader_clear(&r);
}

/* Header split over feeds, then a body split; the buffer is compacted. */
static void
test_reader_split_header(void **state)
{
    uint8_t b[128];
    size_t n1 = tf_build(b, HITLQ_OP_GET, 1, 10);
    size_t n2 = tf_build(b + n1, HITLQ_OP_GET, 2, 30);
    struct frame_reader r;
    struct frame f;

    (void)state;
    frame_reader_init(&r, HITLQ_MAX_FRAME);
    assert_int_equal(frame_reader_feed(&r, b, n1 + 5), 0);   /* frame 1 + 5 hdr bytes */
    assert_int_equal(frame_reader_next(&r, &f), FRAME_OK);
    assert_int_equal(f.hdr.request_id, 1);
    assert_int_equal(frame_reader_next(&r, &f), FRAME_NEED_MORE);
    assert_int_equal(frame_reader_feed(&r, b + n1 + 5, 9), 0);  /* rest of hdr + 2 */
    assert_int_equal(r.pos, 0);
    assert_int_equal(r.len, 14);
    assert_int_equal(frame_reader_next(&r, &f), FRAME_NEED_MORE);
    assert_int_equal(frame_reader_feed(&r, b + n1 + 14, n2 - 14), 0);
    assert_int_equal(frame_reader_next(&r, &f), FRAME_OK);
    assert_int_equal(f.hdr.request_id, 2);
    assert_memory_equal(f.body, b + n1 + HITLQ_FRAME_HDR_LEN, 30);
    frame_reader_clear(&r);
}

/* An oversized header is refused at feed time, and the error sticks. */
static void
test_reader_sticky_error(void **state)
{
    uint8_t b[64];
    size_t n = tf_build(b, HITLQ_OP_HELLO, 5, 4);
    struct frame_reader r;
    struct frame f;

    (void)state;
    frame_reader_init(&r, HITLQ_MAX_FRAME_PREAUTH);
    b[0] = b[1] = b[2] = b[3] = 0xff;
    assert_int_equal(frame_reader_feed(&r, b, HITLQ_FRAME_HDR_LEN), -1);
    assert_int_equal(r.status, HITLQ_ST_FRAME_TOO_LARGE);
    assert_non_null(strstr(r.errstr, "4294967295"));
    assert_int_equal(frame_reader_next(&r, &f), FRAME_ERROR);
    assert_int_equal(frame_reader_feed(&r, b, n), -1);
    assert_int_equal(frame_reader_next(&r, &f), FRAME_ERROR);
    frame_reader_clear(&r);

    /* Bad magic after a good frame: the good one is still delivered. */
    frame_reader_init(&r, HITLQ_MAX_FRAME);
    n = tf_build(b, HITLQ_OP_PING, 1, 0);
    n += tf_build(b + n, HITLQ_OP_PING, 2, 0);
    b[n - 12 + 4] = 0;
    assert_int_equal(frame_reader_feed(&r, b, n), 0);
    assert_int_equal(frame_reader_next(&r, &f), FRAME_OK);
    assert_int_equal(frame_reader_next(&r, &f), FRAME_ERROR);
    assert_int_equal(r.status, HITLQ_ST_BAD_FRAME);
    assert_non_null(strstr(r.errstr, "magic"));
    assert_int_equal(frame_reader_next(&r, &f), FRAME_ERROR);
    frame_reader_clear(&r);
}

/* The largest legal frame arrives whole; max+1 is refused before its body. */
static void
test_reader_max_frame(void **state)
{
    size_t n = HITLQ_FRAME_HDR_LEN + HITLQ_MAX_FRAME;
    uint8_t *b = malloc(n);
    struct frame_reader r;
    struct frame f;

    (void)state;
    assert_non_null(b);
    tf_build(b, HITLQ_OP_SUBMIT, 3, HITLQ_MAX_FRAME);
    frame_reader_init(&r, HITLQ_MAX_FRAME);
    for (size_t at = 0; at < n; at += 65536)
        assert_int_equal(frame_reader_feed(&r, b + at, n - at < 65536 ? n - at : 65536), 0);
    assert_true(r.cap <= n);   /* never more than one maximal frame */
    assert_int_equal(frame_reader_next(&r, &f), FRAME_OK);
    assert_int_equal(f.hdr.body_len, HITLQ_MAX_FRAME);
    assert_int_equal(frame_reader_next(&r, &f), FRAME_NEED_MORE);
    assert_null(r.buf);        /* a large idle buffer is released */
    frame_reader_clear(&r);

    frame_reader_init(&r, HITLQ_MAX_FRAME);
    {
        struct frame_hdr h = { HITLQ_MAX_FRAME + 1, HITLQ_OP_SUBMIT, 0, 4 };

        frame_hdr_encode(b, &h);
    }
    assert_int_equal(frame_reader_feed(&r, b, HITLQ_FRAME_HDR_LEN), -1);
    assert_int_equal(r.status, HITLQ_ST_FRAME_TOO_LARGE);
    frame_reader_clear(&r);
    free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hdr_round_trip),
        cmocka_unit_test(test_hdr_bad_magic),
        cmocka_unit_test(test_hdr_limits),
        cmocka_unit_test(test_parse_stateless),
        cmocka_unit_test(test_reader_byte_by_byte),
        cmocka_unit_test(test_reader_pipelined),
        cmocka_unit_test(test_reader_split_header),
        cmocka_unit_test(test_reader_sticky_error),
        cmocka_unit_test(test_reader_max_frame),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
