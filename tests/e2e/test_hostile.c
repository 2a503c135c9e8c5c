/*
 * test_hostile.c - the hostile-input catalogue (docs/RELIABILITY.md T5, the
 * items that apply without TLS/auth) as raw frames against a real hitlqd.
 *
 * One server for the whole group.  A well-behaved client connects at the
 * start; after every test it must still get PING replies, a fresh client
 * must be able to HELLO+PING, and the server process must still run.  At the
 * end the server is stopped with SIGTERM and must exit 0 with no sanitizer
 * report in its log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <poll.h>
#include <unistd.h>

#include "harness.h"
#include "hitlq_proto.h"

static struct hserver S;
static struct hconn good;     /* the well-behaved client */
static uint32_t good_rid = 1000;

static int group_setup(void **st)
{
    (void)st;
    if (harness_server_start(&S, "frame_timeout_ms = 1500\nslow_reader_timeout_ms = 2000\n") < 0)
        return -1;
    if (hconn_open(&good, S.port) != 0 || hconn_hello(&good, "good-client") != 0)
        return -1;
    return 0;
}

static int group_teardown(void **st)
{
    (void)st;
    hconn_close(&good);
    int rc = harness_server_stop(&S);
    harness_server_cleanup(&S);
    if (rc != 0)
        fprintf(stderr, "hitlqd did not stop cleanly (see above)\n");
    return rc;
}

/* After every test: the server runs and other clients are unaffected. */
static int check_healthy(void **st)
{
    (void)st;
    if (!harness_server_alive(&S)) {
        fprintf(stderr, "hitlqd is not running any more\n");
        return -1;
    }
    uint64_t t0 = harness_now_ms();
    if (hconn_ping(&good, ++good_rid) != 0) {
        fprintf(stderr, "well-behaved client lost its PING reply\n");
        return -1;
    }
    uint64_t dt = harness_now_ms() - t0;
    if (dt > 2000) {
        fprintf(stderr, "well-behaved client PING took %llu ms\n", (unsigned long long)dt);
        return -1;
    }
    struct hconn c;
    if (hconn_open(&c, S.port) != 0)
        return -1;
    int ok = hconn_hello(&c, "fresh") == 0 && hconn_ping(&c, 2) == 0;
    hconn_close(&c);
    if (!ok) {
        fprintf(stderr, "fresh client could not HELLO+PING\n");
        return -1;
    }
    return 0;
}

/* ---- helpers -------------------------------------------------------- */

static void open_conn(struct hconn *c, bool hello)
{
    assert_int_equal(hconn_open(c, S.port), 0);
    if (hello)
        assert_int_equal(hconn_hello(c, "hostile"), 0);
}

/* Reads one reply and checks its status and code string. */
static void expect_error(struct hconn *c, uint16_t status, const char *code, uint32_t rid)
{
    struct hframe f;
    int r = hconn_read_frame(c, &f, 5000);
    if (r != 1)
        fail_msg("expected a %s reply, got read result %d", code, r);
    if (f.status != status || !hframe_code_is(&f, code)) {
        char got[64];
        hobj_str(hframe_get(&f, "code"), got, sizeof got);
        fail_msg("expected status %u (%s), got %u (%s)", status, code, f.status, got);
    }
    assert_non_null(hframe_get(&f, "message"));
    if (rid != UINT32_MAX)
        assert_int_equal(f.request_id, rid);
    hframe_free(&f);
}

static void expect_closed(struct hconn *c)
{
    int frames = 0;
    assert_true(hconn_expect_closed(c, 5000, &frames));
    assert_int_equal(frames, 0);
}

/* Sends a whole frame made of header + body bytes. */
static void send_frame(struct hconn *c, uint8_t op, uint16_t status, uint32_t rid,
                       const void *body, size_t len)
{
    uint8_t h[12];
    hframe_header(h, (uint32_t)len, HITLQ_MAGIC, op, status, rid);
    assert_int_equal(hconn_send(c, h, 12, 5000), 0);
    if (len)
        assert_int_equal(hconn_send(c, body, len, 5000), 0);
}

/* A fatal body error after HELLO: typed reply with status in {a, b}, then
 * the close. */
static void body_fatal(const void *body, size_t len, uint16_t want1, uint16_t want2)
{
    struct hconn c;
    open_conn(&c, true);
    send_frame(&c, HITLQ_OP_PING, 0, 77, body, len);
    struct hframe f;
    assert_int_equal(hconn_read_frame(&c, &f, 5000), 1);
    if (f.status != want1 && f.status != want2) {
        char got[64];
        hobj_str(hframe_get(&f, "code"), got, sizeof got);
        fail_msg("status %u (%s), wanted %u or %u", f.status, got, want1, want2);
    }
    const char *code = f.status == HITLQ_ST_BAD_MSGPACK ? "bad_msgpack" : "limit_exceeded";
    assert_true(hframe_code_is(&f, code));
    assert_int_equal(f.request_id, 77);
    hframe_free(&f);
    expect_closed(&c);
    hconn_close(&c);
}

/* A non-fatal request error: typed reply, then the same connection still
 * answers PING.  Accepts `alt` too (when the spec allows a fatal variant,
 * the close is then required). */
static void request_error(uint8_t op, const void *body, size_t len, uint16_t want,
                          const char *code, uint16_t alt_fatal, const char *alt_code)
{
    struct hconn c;
    open_conn(&c, true);
    send_frame(&c, op, 0, 55, body, len);
    struct hframe f;
    assert_int_equal(hconn_read_frame(&c, &f, 5000), 1);
    assert_int_equal(f.request_id, 55);
    if (alt_fatal && f.status == alt_fatal) {
        assert_true(hframe_code_is(&f, alt_code));
        hframe_free(&f);
        fprintf(stderr, "note: server answered %s (fatal) where bad_request was expected\n",
                alt_code);
        expect_closed(&c);
        hconn_close(&c);
        return;
    }
    if (f.status != want || !hframe_code_is(&f, code)) {
        char got[64], msg[200];
        unsigned gst = f.status;
        hobj_str(hframe_get(&f, "code"), got, sizeof got);
        hobj_str(hframe_get(&f, "message"), msg, sizeof msg);
        hframe_free(&f);
        hconn_close(&c);
        fail_msg("wanted %u %s, got %u %s (%s)", want, code, gst, got, msg);
    }
    hframe_free(&f);
    assert_int_equal(hconn_ping(&c, 56), 0);
    hconn_close(&c);
}

/* Packs a map body with a callback-free builder. */
struct body {
    msgpack_sbuffer sb;
    msgpack_packer  pk;
};
static void body_init(struct body *b)
{
    msgpack_sbuffer_init(&b->sb);
    msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
}
static void body_free(struct body *b) { msgpack_sbuffer_destroy(&b->sb); }

/* ---- framing ---------------------------------------------------------- */

static void test_len_zero_is_empty_map(void **st)
{
    (void)st;
    struct hconn c;
    open_conn(&c, true);
    send_frame(&c, HITLQ_OP_PING, 0, 9, NULL, 0);
    struct hframe f;
    assert_int_equal(hconn_read_frame(&c, &f, 5000), 1);
    assert_int_equal(f.status, 0);
    assert_int_equal(f.request_id, 9);
    assert_non_null(hframe_get(&f, "time_ms"));
    hframe_free(&f);
    /* HELLO with an empty body: missing version */
    struct hconn d;
    open_conn(&d, false);
    send_frame(&d, HITLQ_OP_HELLO, 0, 3, NULL, 0);
    assert_int_equal(hconn_read_frame(&d, &f, 5000), 1);
    assert_true(f.status >= 100);
    hframe_free(&f);
    hconn_close(&d);
    hconn_close(&c);
}

/* Header only: the reply must come although the body never does, proving
 * the server refused before buffering. */
static void too_large(bool hello, uint32_t body_len)
{
    struct hconn c;
    open_conn(&c, hello);
    uint8_t h[12];
    hframe_header(h, body_len, HITLQ_MAGIC, HITLQ_OP_PING, 0, 4242);
    assert_int_equal(hconn_send(&c, h, 12, 5000), 0);
    /* a few body bytes too: they must not matter */
    uint8_t junk[64];
    memset(junk, 0xa1, sizeof junk);
    hconn_send(&c, junk, sizeof junk, 1000);
    expect_error(&c, HITLQ_ST_FRAME_TOO_LARGE, "frame_too_large", 4242);
    expect_closed(&c);
    hconn_close(&c);
}

static void test_len_ffffffff_prehello(void **st) { (void)st; too_large(false, 0xffffffffu); }
static void test_len_ffffffff_posthello(void **st) { (void)st; too_large(true, 0xffffffffu); }
static void test_len_wrap_near_2_32(void **st)
{
    (void)st;
    too_large(true, 0xffffffffu - 11u);   /* header + body wraps to 0 */
    too_large(true, 0xfffffff0u);
}
static void test_len_max_plus_one_prehello(void **st)
{
    (void)st;
    too_large(false, HITLQ_MAX_FRAME_PREAUTH + 1);
}
static void test_len_max_plus_one_posthello(void **st)
{
    (void)st;
    too_large(true, HITLQ_MAX_FRAME + 1);
}

/* A post-HELLO frame of exactly the limit that is otherwise bad is NOT
 * refused as too large (it is read and judged on its content). */
static void test_len_max_exact_posthello(void **st)
{
    (void)st;
    size_t n = HITLQ_MAX_FRAME;
    uint8_t *body = calloc(1, n);
    assert_non_null(body);
    /* map {"s": str32 of n-9 bytes}: 1 + 2 + 5 + (n-8) = n */
    size_t sl = n - 8;
    body[0] = 0x81;
    body[1] = 0xa1;
    body[2] = 's';
    body[3] = 0xdb;
    body[4] = (uint8_t)(sl >> 24);
    body[5] = (uint8_t)(sl >> 16);
    body[6] = (uint8_t)(sl >> 8);
    body[7] = (uint8_t)sl;
    memset(body + 8, 'x', sl);
    struct hconn c;
    open_conn(&c, true);
    send_frame(&c, HITLQ_OP_PING, 0, 5, body, n);
    free(body);
    struct hframe f;
    assert_int_equal(hconn_read_frame(&c, &f, 10000), 1);
    /* str > 65536: a body error, not frame_too_large */
    assert_int_not_equal(f.status, HITLQ_ST_FRAME_TOO_LARGE);
    assert_true(f.status == HITLQ_ST_BAD_MSGPACK || f.status == HITLQ_ST_LIMIT_EXCEEDED);
    hframe_free(&f);
    hconn_close(&c);
}

static void test_bad_magic(void **st)
{
    (void)st;
    struct hconn c;
    open_conn(&c, false);
    uint8_t h[12];
    hframe_header(h, 0, 0x52, HITLQ_OP_PING, 0, 1);
    assert_int_equal(hconn_send(&c, h, 12, 5000), 0);
    expect_error(&c, HITLQ_ST_BAD_FRAME, "bad_frame", UINT32_MAX);
    expect_closed(&c);
    hconn_close(&c);
    /* also after HELLO */
    open_conn(&c, true);
    hframe_header(h, 0, 0x00, HITLQ_OP_PING, 0, 1);
    assert_int_equal(hconn_send(&c, h, 12, 5000), 0);
    expect_error(&c, HITLQ_ST_BAD_FRAME, "bad_frame", UINT32_MAX);
    expect_closed(&c);
    hconn_close(&c);
}

static void test_request_with_status(void **st)
{
    (void)st;
    struct hconn c;
    open_conn(&c, true);
    send_frame(&c, HITLQ_OP_PING, 1, 31, NULL, 0);
    struct hframe f;
    assert_int_equal(hconn_read_frame(&c, &f, 5000), 1);
    /* a request must carry status 0: a malformed header */
    if (f.status != HITLQ_ST_BAD_FRAME) {
        char got[64];
        hobj_str(hframe_get(&f, "code"), got, sizeof got);
        hframe_free(&f);
        fail_msg("request with status 1 answered with status %u (%s), wanted bad_frame",
                 f.status, got);
    }
    assert_true(hframe_code_is(&f, "bad_frame"));
    hframe_free(&f);
    expect_closed(&c);
    hconn_close(&c);
}

static void test_truncated_then_eof(void **st)
{
    (void)st;
    struct hconn c;
    open_conn(&c, true);
    uint8_t h[12];
    hframe_header(h, 40, HITLQ_MAGIC, HITLQ_OP_PING, 0, 8);
    assert_int_equal(hconn_send(&c, h, 12, 5000), 0);
    assert_int_equal(hconn_send(&c, "\x81\xa1", 2, 5000), 0);
    shutdown(c.fd, SHUT_WR);
    expect_closed(&c);
    hconn_close(&c);
    /* truncated header then EOF */
    open_conn(&c, true);
    assert_int_equal(hconn_send(&c, h, 5, 5000), 0);
    shutdown(c.fd, SHUT_WR);
    expect_closed(&c);
    hconn_close(&c);
}

static void test_truncated_then_silence(void **st)
{
    (void)st;
    struct hconn c[3];
    uint8_t h[12];
    hframe_header(h, 100, HITLQ_MAGIC, HITLQ_OP_PING, 0, 8);
    open_conn(&c[0], false);
    assert_int_equal(hconn_send(&c[0], h, 7, 5000), 0);           /* half a header */
    open_conn(&c[1], true);
    assert_int_equal(hconn_send(&c[1], h, 12, 5000), 0);          /* header, no body */
    open_conn(&c[2], true);
    assert_int_equal(hconn_send(&c[2], h, 12, 5000), 0);
    assert_int_equal(hconn_send(&c[2], "\x81", 1, 5000), 0);       /* header, 1 body byte */
    /* while they hang, others are served promptly */
    for (int i = 0; i < 20; i++) {
        uint64_t t0 = harness_now_ms();
        assert_int_equal(hconn_ping(&good, ++good_rid), 0);
        assert_true(harness_now_ms() - t0 < 1000);
        harness_sleep_ms(10);
    }
    /* no reply is owed to a half frame */
    struct hframe f;
    assert_int_equal(hconn_read_frame(&c[1], &f, 200), -1);
    for (int i = 0; i < 3; i++)
        hconn_close(&c[i]);
}

/* docs/RELIABILITY.md T5 item 4: a truncated frame followed by silence is
 * closed at the frame deadline (frame_timeout_ms, 1.5 s in this suite's
 * config; 10 s by default). */
static void test_truncated_frame_deadline(void **st)
{
    (void)st;
    struct hconn c;
    open_conn(&c, true);
    uint8_t h[12];
    hframe_header(h, 100, HITLQ_MAGIC, HITLQ_OP_PING, 0, 8);
    assert_int_equal(hconn_send(&c, h, 12, 5000), 0);
    uint64_t t0 = harness_now_ms();
    int frames = 0;
    bool closed = hconn_expect_closed(&c, 15000, &frames);
    uint64_t dt = harness_now_ms() - t0;
    hconn_close(&c);
    if (!closed)
        fail_msg("half a frame held the connection open for 15 s (no frame deadline)");
    assert_true(dt >= 1000);
    assert_true(dt < 10000);
}

static void test_garbage_bytes(void **st)
{
    (void)st;
    struct hconn c;
    open_conn(&c, false);
    uint8_t g[256];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof g; i++) {
        x = x * 1103515245u + 12345u;
        g[i] = (uint8_t)(x >> 16);
    }
    g[4] = 0x00;   /* not the magic */
    hconn_send(&c, g, sizeof g, 2000);
    struct hframe f;
    int r = hconn_read_frame(&c, &f, 5000);
    assert_int_equal(r, 1);
    assert_true(f.status == HITLQ_ST_BAD_FRAME || f.status == HITLQ_ST_FRAME_TOO_LARGE);
    hframe_free(&f);
    expect_closed(&c);
    hconn_close(&c);
    /* plain text (an HTTP request) */
    open_conn(&c, false);
    const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    hconn_send(&c, http, strlen(http), 2000);
    r = hconn_read_frame(&c, &f, 5000);
    assert_int_equal(r, 1);
    assert_true(f.status == HITLQ_ST_BAD_FRAME || f.status == HITLQ_ST_FRAME_TOO_LARGE);
    hframe_free(&f);
    expect_closed(&c);
    hconn_close(&c);
}

/* ---- session ---------------------------------------------------------- */

static void test_request_before_hello(void **st)
{
    (void)st;
    struct hconn c;
    open_conn(&c, false);
    send_frame(&c, HITLQ_OP_PING, 0, 11, NULL, 0);
    expect_error(&c, HITLQ_ST_NEED_HELLO, "need_hello", 11);
    expect_closed(&c);
    hconn_close(&c);
    open_conn(&c, false);
    struct body b;
    body_init(&b);
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_u64(&b.pk, "id", 1);
    send_frame(&c, HITLQ_OP_GET, 0, 12, b.sb.data, b.sb.size);
    body_free(&b);
    expect_error(&c, HITLQ_ST_NEED_HELLO, "need_hello", 12);
    expect_closed(&c);
    hconn_close(&c);
}

static void test_hello_bad_version(void **st)
{
    (void)st;
    struct hconn c;
    open_conn(&c, false);
    struct body b;
    body_init(&b);
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_u64(&b.pk, "version", 2);
    send_frame(&c, HITLQ_OP_HELLO, 0, 13, b.sb.data, b.sb.size);
    body_free(&b);
    expect_error(&c, HITLQ_ST_BAD_VERSION, "bad_version", 13);
    expect_closed(&c);
    hconn_close(&c);
}

static void test_second_hello(void **st)
{
    (void)st;
    struct hconn c;
    open_conn(&c, true);
    struct body b;
    body_init(&b);
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_u64(&b.pk, "version", 1);
    send_frame(&c, HITLQ_OP_HELLO, 0, 14, b.sb.data, b.sb.size);
    body_free(&b);
    expect_error(&c, HITLQ_ST_BAD_REQUEST, "bad_request", 14);
    assert_int_equal(hconn_ping(&c, 15), 0);
    hconn_close(&c);
}

/* ---- msgpack bombs (fatal) ------------------------------------------- */

static void test_array32_bomb(void **st)
{
    (void)st;
    const uint8_t b1[] = { 0x81, 0xa1, 'a', 0xdd, 0xff, 0xff, 0xff, 0xff };
    body_fatal(b1, sizeof b1, HITLQ_ST_LIMIT_EXCEEDED, HITLQ_ST_BAD_MSGPACK);
    const uint8_t b2[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };   /* body itself */
    body_fatal(b2, sizeof b2, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_LIMIT_EXCEEDED);
}

static void test_map32_bomb(void **st)
{
    (void)st;
    const uint8_t b1[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
    body_fatal(b1, sizeof b1, HITLQ_ST_LIMIT_EXCEEDED, HITLQ_ST_BAD_MSGPACK);
    const uint8_t b2[] = { 0x81, 0xa1, 'a', 0xdf, 0xff, 0xff, 0xff, 0xff };
    body_fatal(b2, sizeof b2, HITLQ_ST_LIMIT_EXCEEDED, HITLQ_ST_BAD_MSGPACK);
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
    body_fatal(b, n, HITLQ_ST_LIMIT_EXCEEDED, HITLQ_ST_LIMIT_EXCEEDED);
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
        request_error(HITLQ_OP_PING, b, n, HITLQ_ST_BAD_REQUEST, "bad_request", 0, NULL);
    } else {
        body_fatal(b, n, want, want);
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
    body_fatal(b, sizeof b, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_LIMIT_EXCEEDED);
    uint8_t c[3 + 5 + 10] = { 0x81, 0xa1, 'a', 0xc6, 0xff, 0xff, 0xff, 0xff };  /* bin32 */
    body_fatal(c, sizeof c, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_LIMIT_EXCEEDED);
}

static void test_invalid_utf8(void **st)
{
    (void)st;
    const uint8_t bad1[] = { 0x81, 0xa1, 'a', 0xa2, 0xc3, 0x28 };          /* bad continuation */
    const uint8_t bad2[] = { 0x81, 0xa1, 'a', 0xa2, 0xc0, 0xaf };          /* overlong '/' */
    const uint8_t bad3[] = { 0x81, 0xa1, 'a', 0xa3, 0xed, 0xa0, 0x80 };    /* surrogate */
    const uint8_t bad4[] = { 0x81, 0xa2, 0xff, 'a', 0x01 };                 /* in a key */
    const uint8_t bad5[] = { 0x81, 0xa1, 'a', 0xa4, 0xf4, 0x90, 0x80, 0x80 }; /* > U+10FFFF */
    body_fatal(bad1, sizeof bad1, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    body_fatal(bad2, sizeof bad2, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    body_fatal(bad3, sizeof bad3, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    body_fatal(bad4, sizeof bad4, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    body_fatal(bad5, sizeof bad5, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
}

static void test_embedded_nul_in_name(void **st)
{
    (void)st;
    /* valid UTF-8 but not a name: non-fatal bad_request */
    struct body b;
    body_init(&b);
    msgpack_pack_map(&b.pk, 3);
    hpk_str(&b.pk, "key");
    msgpack_pack_str(&b.pk, 3);
    msgpack_pack_str_body(&b.pk, "a\0b", 3);
    hpk_kv_str(&b.pk, "type", "credit_application");
    hpk_str(&b.pk, "fields");
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_u64(&b.pk, "amount", 1000);
    request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                  0, NULL);
    body_free(&b);
}

static void test_ext_types(void **st)
{
    (void)st;
    const uint8_t fixext1[] = { 0x81, 0xa1, 'a', 0xd4, 0x01, 0x00 };
    const uint8_t ts_m1[] = { 0x81, 0xa1, 'a', 0xd6, 0xff, 0x00, 0x00, 0x00, 0x00 };
    const uint8_t ext8[] = { 0x81, 0xa1, 'a', 0xc7, 0x02, 0x05, 0x00, 0x00 };
    const uint8_t ext32[] = { 0x81, 0xa1, 'a', 0xc9, 0xff, 0xff, 0xff, 0xff, 0x05 };
    body_fatal(fixext1, sizeof fixext1, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    body_fatal(ts_m1, sizeof ts_m1, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    body_fatal(ext8, sizeof ext8, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    body_fatal(ext32, sizeof ext32, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_LIMIT_EXCEEDED);
}

static void test_reserved_c1(void **st)
{
    (void)st;
    const uint8_t b1[] = { 0x81, 0xa1, 'a', 0xc1 };
    const uint8_t b2[] = { 0xc1 };
    body_fatal(b1, sizeof b1, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    body_fatal(b2, sizeof b2, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
}

static void test_trailing_and_two_objects(void **st)
{
    (void)st;
    const uint8_t trailing[] = { 0x80, 0x00 };
    const uint8_t two[] = { 0x80, 0x80 };
    const uint8_t notmap[] = { 0x92, 0x01, 0x02 };
    const uint8_t scalar[] = { 0x01 };
    const uint8_t intkey[] = { 0x81, 0x01, 0x02 };
    body_fatal(trailing, sizeof trailing, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    body_fatal(two, sizeof two, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    body_fatal(notmap, sizeof notmap, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    body_fatal(scalar, sizeof scalar, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
    body_fatal(intkey, sizeof intkey, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_BAD_MSGPACK);
}

/* T5 item 13: one object split across two frames - each frame is judged
 * alone; the first (a map of 2 with 1 pair) is truncated. */
static void test_object_split_across_frames(void **st)
{
    (void)st;
    struct hconn c;
    open_conn(&c, true);
    const uint8_t part1[] = { 0x82, 0xa1, 'a', 0x01 };
    const uint8_t part2[] = { 0xa1, 'b', 0x02 };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    hframe_append(&sb, HITLQ_OP_PING, 61, part1, sizeof part1);
    hframe_append(&sb, HITLQ_OP_PING, 62, part2, sizeof part2);
    assert_int_equal(hconn_send(&c, sb.data, sb.size, 5000), 0);
    msgpack_sbuffer_destroy(&sb);
    expect_error(&c, HITLQ_ST_BAD_MSGPACK, "bad_msgpack", 61);
    expect_closed(&c);     /* and the second frame is never answered */
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
            request_error(HITLQ_OP_PING, b, len, HITLQ_ST_BAD_REQUEST, "bad_request", 0, NULL);
        else
            body_fatal(b, len, HITLQ_ST_LIMIT_EXCEEDED, HITLQ_ST_LIMIT_EXCEEDED);
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
            request_error(HITLQ_OP_PING, b, len, HITLQ_ST_BAD_REQUEST, "bad_request", 0, NULL);
        else
            body_fatal(b, len, HITLQ_ST_BAD_MSGPACK, HITLQ_ST_LIMIT_EXCEEDED);
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
    struct body b;
    body_init(&b);
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
    open_conn(&c, false);
    send_frame(&c, HITLQ_OP_HELLO, 0, 3, b.sb.data, b.sb.size);
    body_free(&b);
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
    struct body b;
    body_init(&b);
    msgpack_pack_map(&b.pk, 4);
    hpk_kv_u64(&b.pk, "id", 1);
    hpk_kv_u64(&b.pk, "lease", 1);
    hpk_kv_str(&b.pk, "outcome", "approve");
    hpk_kv_str(&b.pk, "note", note);
    request_error(HITLQ_OP_RESOLVE, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                  0, NULL);
    body_free(&b);
    body_init(&b);
    msgpack_pack_map(&b.pk, 4);
    hpk_kv_u64(&b.pk, "id", 1);
    hpk_kv_u64(&b.pk, "lease", 1);
    hpk_kv_str(&b.pk, "queue", "x");
    hpk_kv_str(&b.pk, "note", note);
    request_error(HITLQ_OP_ESCALATE, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                  0, NULL);
    body_free(&b);
    free(note);
    /* a lease op on an unknown id: not_found */
    body_init(&b);
    msgpack_pack_map(&b.pk, 2);
    hpk_kv_u64(&b.pk, "id", 123456789);
    hpk_kv_u64(&b.pk, "lease", 1);
    request_error(HITLQ_OP_RELEASE, b.sb.data, b.sb.size, HITLQ_ST_NOT_FOUND, "not_found", 0,
                  NULL);
    body_free(&b);
}

/* ---- schema errors (non-fatal) --------------------------------------- */

static void pack_submit(struct body *b, const char *key, const char *type, int extra)
{
    body_init(b);
    msgpack_pack_map(&b->pk, 3 + (extra ? 1 : 0));
    hpk_kv_str(&b->pk, "key", key);
    hpk_kv_str(&b->pk, "type", type);
    hpk_str(&b->pk, "fields");
    msgpack_pack_map(&b->pk, 1);
    hpk_kv_u64(&b->pk, "amount", 1000);
}

static void test_duplicate_map_keys(void **st)
{
    (void)st;
    struct body b;
    body_init(&b);
    msgpack_pack_map(&b.pk, 2);
    hpk_kv_u64(&b.pk, "id", 1);
    hpk_kv_u64(&b.pk, "id", 2);
    /* §2 rule 7; §5 lists it under bad_msgpack, rule 8 / the brief under
     * bad_request: either typed error, with a close if fatal */
    request_error(HITLQ_OP_GET, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                  HITLQ_ST_BAD_MSGPACK, "bad_msgpack");
    body_free(&b);
}

/* §2 rule 7 applies to every map, including SUBMIT's fields: a wire error
 * (bad_request, or bad_msgpack per §5), not invalid_item. */
static void test_fields_duplicate_keys(void **st)
{
    (void)st;
    struct body b;
    body_init(&b);
    msgpack_pack_map(&b.pk, 3);
    hpk_kv_str(&b.pk, "key", "dupfields-1");
    hpk_kv_str(&b.pk, "type", "credit_application");
    hpk_str(&b.pk, "fields");
    msgpack_pack_map(&b.pk, 2);
    hpk_kv_u64(&b.pk, "amount", 1000);
    hpk_kv_u64(&b.pk, "amount", 2000);
    request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                  HITLQ_ST_BAD_MSGPACK, "bad_msgpack");
    body_free(&b);
}

static void test_unknown_key(void **st)
{
    (void)st;
    struct body b;
    pack_submit(&b, "unk-1", "credit_application", 1);
    hpk_kv_u64(&b.pk, "bogus", 1);
    request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                  0, NULL);
    body_free(&b);
    body_init(&b);
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_u64(&b.pk, "x", 1);
    request_error(HITLQ_OP_PING, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                  0, NULL);
    body_free(&b);
}

static void test_missing_required(void **st)
{
    (void)st;
    struct body b;
    body_init(&b);
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_str(&b.pk, "key", "missing-1");
    request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                  0, NULL);
    body_free(&b);
    request_error(HITLQ_OP_GET, NULL, 0, HITLQ_ST_BAD_REQUEST, "bad_request", 0, NULL);
    request_error(HITLQ_OP_CLAIM, NULL, 0, HITLQ_ST_BAD_REQUEST, "bad_request", 0, NULL);
    request_error(HITLQ_OP_WATCH, NULL, 0, HITLQ_ST_BAD_REQUEST, "bad_request", 0, NULL);
}

static void test_wrong_types(void **st)
{
    (void)st;
    struct body b;
    body_init(&b);
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_str(&b.pk, "id", "17");
    request_error(HITLQ_OP_GET, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request", 0,
                  NULL);
    body_free(&b);
    body_init(&b);                          /* float where an int is required */
    msgpack_pack_map(&b.pk, 1);
    hpk_str(&b.pk, "id");
    msgpack_pack_double(&b.pk, 1.0);
    request_error(HITLQ_OP_GET, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request", 0,
                  NULL);
    body_free(&b);
    body_init(&b);                          /* negative int */
    msgpack_pack_map(&b.pk, 1);
    hpk_str(&b.pk, "id");
    msgpack_pack_int64(&b.pk, -1);
    request_error(HITLQ_OP_GET, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request", 0,
                  NULL);
    body_free(&b);
    body_init(&b);                          /* queues not an array */
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_str(&b.pk, "queues", "credit_review");
    request_error(HITLQ_OP_CLAIM, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request", 0,
                  NULL);
    body_free(&b);
    body_init(&b);                          /* fields not a map */
    msgpack_pack_map(&b.pk, 3);
    hpk_kv_str(&b.pk, "key", "wt-1");
    hpk_kv_str(&b.pk, "type", "credit_application");
    hpk_str(&b.pk, "fields");
    msgpack_pack_array(&b.pk, 0);
    request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request", 0,
                  NULL);
    body_free(&b);
}

/* §4.3: field values are nil, bool, int, float or str - a request schema
 * rule, so bad_request (rule 8), not invalid_item. */
static void test_fields_value_wrong_type(void **st)
{
    (void)st;
    struct body b;
    body_init(&b);                          /* a field value that is a map */
    msgpack_pack_map(&b.pk, 3);
    hpk_kv_str(&b.pk, "key", "wt-2");
    hpk_kv_str(&b.pk, "type", "credit_application");
    hpk_str(&b.pk, "fields");
    msgpack_pack_map(&b.pk, 1);
    hpk_str(&b.pk, "amount");
    msgpack_pack_map(&b.pk, 0);
    request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request", 0,
                  NULL);
    body_free(&b);
}

static void test_out_of_range_ints(void **st)
{
    (void)st;
    struct body b;
    body_init(&b);                          /* uint64 > INT64_MAX */
    msgpack_pack_map(&b.pk, 2);
    hpk_str(&b.pk, "queues");
    msgpack_pack_array(&b.pk, 1);
    hpk_str(&b.pk, "credit_review");
    hpk_kv_u64(&b.pk, "lease_ms", (uint64_t)INT64_MAX + 2u);
    request_error(HITLQ_OP_CLAIM, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request", 0,
                  NULL);
    body_free(&b);
    pack_submit(&b, "range-1", "credit_application", 1);   /* priority too high */
    hpk_kv_u64(&b.pk, "priority", UINT64_MAX);
    request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                  0, NULL);
    body_free(&b);
    pack_submit(&b, "range-2", "credit_application", 1);
    hpk_kv_u64(&b.pk, "priority", HITLQ_MAX_PRIORITY + 1);
    request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request",
                  0, NULL);
    body_free(&b);
    body_init(&b);                          /* lease_ms below 1000 */
    msgpack_pack_map(&b.pk, 2);
    hpk_str(&b.pk, "queues");
    msgpack_pack_array(&b.pk, 1);
    hpk_str(&b.pk, "credit_review");
    hpk_kv_u64(&b.pk, "lease_ms", 999);
    request_error(HITLQ_OP_CLAIM, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request", 0,
                  NULL);
    body_free(&b);
    body_init(&b);                          /* wait_ms above the ceiling */
    msgpack_pack_map(&b.pk, 2);
    hpk_str(&b.pk, "queues");
    msgpack_pack_array(&b.pk, 1);
    hpk_str(&b.pk, "credit_review");
    hpk_kv_u64(&b.pk, "wait_ms", HITLQ_MAX_WAIT_MS + 1);
    request_error(HITLQ_OP_CLAIM, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request", 0,
                  NULL);
    body_free(&b);
    body_init(&b);                          /* 17 queues */
    msgpack_pack_map(&b.pk, 1);
    hpk_str(&b.pk, "queues");
    msgpack_pack_array(&b.pk, 17);
    for (int i = 0; i < 17; i++) {
        char q[16];
        snprintf(q, sizeof q, "q%d", i);
        hpk_str(&b.pk, q);
    }
    request_error(HITLQ_OP_CLAIM, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request", 0,
                  NULL);
    body_free(&b);
}

static void test_nan_inf(void **st)
{
    (void)st;
    double vals[] = { NAN, INFINITY, -INFINITY };
    for (int i = 0; i < 3; i++) {
        struct body b;
        body_init(&b);
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
        open_conn(&c, true);
        send_frame(&c, HITLQ_OP_SUBMIT, 0, 57, b.sb.data, b.sb.size);
        struct hframe f;
        assert_int_equal(hconn_read_frame(&c, &f, 5000), 1);
        assert_int_equal(f.status, HITLQ_ST_BAD_MSGPACK);
        assert_true(hframe_code_is(&f, "bad_msgpack"));
        hframe_free(&f);
        expect_closed(&c);
        hconn_close(&c);
        body_free(&b);
    }
}

static void test_unknown_opcode(void **st)
{
    (void)st;
    const uint8_t ops[] = { 0x00, 0x04, 0x13, 0x31, 0x7f, 0xff };
    struct hconn c;
    open_conn(&c, true);
    for (size_t i = 0; i < sizeof ops; i++) {
        send_frame(&c, ops[i], 0, 100 + (uint32_t)i, NULL, 0);
        expect_error(&c, HITLQ_ST_UNKNOWN_OP, "unknown_op", 100 + (uint32_t)i);
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
    open_conn(&c, true);
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
        struct body b;
        pack_submit(&b, bad[i], "credit_application", 0);
        request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST,
                      "bad_request", 0, NULL);
        body_free(&b);
        pack_submit(&b, "name-ok-key", bad[i], 0);      /* as the type */
        request_error(HITLQ_OP_SUBMIT, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST,
                      "bad_request", 0, NULL);
        body_free(&b);
    }
    /* a 128-byte key is fine */
    struct body b;
    pack_submit(&b, k128, "credit_application", 0);
    struct hconn c;
    open_conn(&c, true);
    struct hframe f;
    assert_int_equal(hconn_call(&c, HITLQ_OP_SUBMIT, 5, b.sb.data, b.sb.size, &f, 10000), 1);
    assert_int_equal(f.status, 0);
    hframe_free(&f);
    body_free(&b);
    /* queue name of 65 bytes; worker of 129 */
    char q65[66];
    memset(q65, 'q', 65);
    q65[65] = 0;
    body_init(&b);
    msgpack_pack_map(&b.pk, 1);
    hpk_str(&b.pk, "queues");
    msgpack_pack_array(&b.pk, 1);
    hpk_str(&b.pk, q65);
    request_error(HITLQ_OP_CLAIM, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request", 0,
                  NULL);
    body_free(&b);
    body_init(&b);
    msgpack_pack_map(&b.pk, 2);
    hpk_str(&b.pk, "queues");
    msgpack_pack_array(&b.pk, 1);
    hpk_str(&b.pk, "credit_review");
    hpk_kv_str(&b.pk, "worker", k129);
    request_error(HITLQ_OP_CLAIM, b.sb.data, b.sb.size, HITLQ_ST_BAD_REQUEST, "bad_request", 0,
                  NULL);
    body_free(&b);
    hconn_close(&c);
}

/* ---- flow control ------------------------------------------------------ */

static void test_pipelined_10000_pings(void **st)
{
    (void)st;
    enum { N = 10000 };
    struct hconn c;
    open_conn(&c, true);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    for (uint32_t i = 0; i < N; i++)
        hframe_append(&sb, HITLQ_OP_PING, 10 + i, NULL, 0);
    uint8_t *seen = calloc(N, 1);
    assert_non_null(seen);
    size_t off = 0;
    int got = 0;
    uint64_t deadline = harness_now_ms() + 60000;
    /* write as much as the socket takes without reading; read only when
     * the writes stall (the server stops reading when 64 are in flight and
     * its replies are not read) */
    while (got < N && harness_now_ms() < deadline) {
        if (off < sb.size) {
            ssize_t n = hconn_send_some(&c, sb.data + off, sb.size - off);
            assert_true(n >= 0);
            off += (size_t)n;
            if (n > 0)
                continue;
        }
        struct hframe f;
        int r = hconn_read_frame(&c, &f, off < sb.size ? 20 : 5000);
        if (r == -1)
            continue;
        assert_int_equal(r, 1);
        assert_int_equal(f.status, 0);
        assert_int_equal(f.opcode, HITLQ_OP_PING);
        assert_true(f.request_id >= 10 && f.request_id < 10 + N);
        assert_int_equal(seen[f.request_id - 10], 0);
        seen[f.request_id - 10] = 1;
        got++;
        hframe_free(&f);
    }
    assert_int_equal(off, sb.size);
    assert_int_equal(got, N);
    free(seen);
    msgpack_sbuffer_destroy(&sb);
    hconn_close(&c);
}

static long server_rss_kb(void)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)S.pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* A client that never reads: the server must stop reading from it once its
 * unsent replies pass the limit, while serving others.  Replies are made
 * large (GET of an item with ~900 KB of fields) so that a few bytes of
 * request produce a lot of reply. */
static void test_non_reading_client_is_paused(void **st)
{
    (void)st;
    struct hconn w;
    open_conn(&w, true);
    /* one big item: 14 string fields of 60,000 bytes */
    struct body b;
    body_init(&b);
    msgpack_pack_map(&b.pk, 3);
    hpk_kv_str(&b.pk, "key", "big-item-1");
    hpk_kv_str(&b.pk, "type", "credit_application");
    hpk_str(&b.pk, "fields");
    msgpack_pack_map(&b.pk, 15);
    hpk_kv_u64(&b.pk, "amount", 1000);
    char *big = malloc(60000);
    assert_non_null(big);
    memset(big, 'z', 60000);
    for (int i = 0; i < 14; i++) {
        char k[16];
        snprintf(k, sizeof k, "blob%02d", i);
        hpk_str(&b.pk, k);
        msgpack_pack_str(&b.pk, 60000);
        msgpack_pack_str_body(&b.pk, big, 60000);
    }
    free(big);
    struct hframe f;
    assert_int_equal(hconn_call(&w, HITLQ_OP_SUBMIT, 2, b.sb.data, b.sb.size, &f, 20000), 1);
    body_free(&b);
    uint64_t id = 0;
    bool big_ok = f.status == 0;
    size_t reply_size = 900000;
    if (big_ok) {
        id = hobj_u64(hframe_get(&f, "id"));
    } else {
        fprintf(stderr, "note: big item refused (status %u); using small GET replies\n",
                f.status);
    }
    hframe_free(&f);
    if (!big_ok) {
        pack_submit(&b, "small-item-1", "credit_application", 0);
        assert_int_equal(hconn_call(&w, HITLQ_OP_SUBMIT, 3, b.sb.data, b.sb.size, &f, 10000),
                         1);
        assert_int_equal(f.status, 0);
        id = hobj_u64(hframe_get(&f, "id"));
        hframe_free(&f);
        body_free(&b);
        reply_size = 500;
    }
    /* now flood GETs without ever reading */
    body_init(&b);
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_u64(&b.pk, "id", id);
    msgpack_sbuffer req;
    msgpack_sbuffer_init(&req);
    for (int i = 0; i < 4096; i++)
        hframe_append(&req, HITLQ_OP_GET, 1000 + (uint32_t)i, b.sb.data, b.sb.size);
    body_free(&b);
    long rss0 = server_rss_kb();
    size_t sent = 0, frame_bytes = req.size / 4096;
    size_t off = 0;
    uint64_t last_progress = harness_now_ms(), start = last_progress;
    bool stalled = false;
    /* kernel socket buffers absorb some MB of requests; past that the
     * sends must stall.  64 MiB of GETs would be worth terabytes of
     * replies. */
    while (sent < 64u * 1024 * 1024 && harness_now_ms() - start < 30000) {
        ssize_t n = hconn_send_some(&w, req.data + off, req.size - off);
        assert_true(n >= 0);
        if (n > 0) {
            sent += (size_t)n;
            off = (off + (size_t)n) % req.size;
            last_progress = harness_now_ms();
            continue;
        }
        if (harness_now_ms() - last_progress > 1000) {
            stalled = true;
            break;
        }
        /* meanwhile another client is served */
        uint64_t t0 = harness_now_ms();
        assert_int_equal(hconn_ping(&good, ++good_rid), 0);
        assert_true(harness_now_ms() - t0 < 2000);
        harness_sleep_ms(20);
    }
    long rss1 = server_rss_kb();
    fprintf(stderr, "non-reading client: sent %zu GET frames (%zu bytes) before stalling=%d; "
            "server RSS %ld -> %ld kB\n", sent / frame_bytes, sent, (int)stalled, rss0, rss1);
    assert_true(stalled);
    /* bounded: RSS growth far below the replies owed */
    fprintf(stderr, "replies owed if all processed: %.1f MB\n",
            (double)(sent / frame_bytes) * (double)reply_size / 1e6);
    assert_true(rss0 > 0 && rss1 > 0);
    assert_true(rss1 - rss0 < 256 * 1024);
    /* others still served */
    assert_int_equal(hconn_ping(&good, ++good_rid), 0);
    {
        /* T5 item 16: disconnected once its output exceeds 4 MiB for
         * slow_reader_timeout_ms (2 s here, 10 s by default).
         * Detected without reading (reading would drain the output). */
        struct pollfd p = { .fd = w.fd, .events = POLLRDHUP };
        uint64_t t0 = harness_now_ms();
        bool closed = false;
        while (!closed && harness_now_ms() - t0 < 15000) {
            if (poll(&p, 1, 200) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
                closed = true;
            else
                hconn_send_some(&w, req.data, 17);
        }
        if (!closed) {
            msgpack_sbuffer_destroy(&req);
            hconn_close(&w);
            fail_msg("a client that never reads was not disconnected within 15 s "
                     "(docs/RELIABILITY.md T5 item 16)");
        }
    }
    msgpack_sbuffer_destroy(&req);
    hconn_close(&w);
    /* after the non-reader goes away the server settles */
    harness_sleep_ms(200);
    assert_int_equal(hconn_ping(&good, ++good_rid), 0);
}

static void test_200_connections(void **st)
{
    (void)st;
    enum { N = 200 };
    struct hconn *c = calloc(N, sizeof *c);
    assert_non_null(c);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    struct body hb;
    body_init(&hb);
    msgpack_pack_map(&hb.pk, 1);
    hpk_kv_u64(&hb.pk, "version", 1);
    hframe_append(&sb, HITLQ_OP_HELLO, 1, hb.sb.data, hb.sb.size);
    hframe_append(&sb, HITLQ_OP_PING, 2, NULL, 0);
    body_free(&hb);
    for (int i = 0; i < N; i++) {
        assert_int_equal(hconn_open(&c[i], S.port), 0);
        assert_int_equal(hconn_send(&c[i], sb.data, sb.size, 5000), 0);
    }
    for (int i = 0; i < N; i++) {
        for (uint32_t want = 1; want <= 2; want++) {
            struct hframe f;
            assert_int_equal(hconn_read_frame(&c[i], &f, 10000), 1);
            assert_int_equal(f.status, 0);
            assert_int_equal(f.request_id, want);
            hframe_free(&f);
        }
    }
    /* and a second round on every connection */
    for (int i = 0; i < N; i++)
        assert_int_equal(hconn_ping(&c[i], 3), 0);
    for (int i = 0; i < N; i++)
        hconn_close(&c[i]);
    free(c);
    msgpack_sbuffer_destroy(&sb);
}

#define T(f) cmocka_unit_test_teardown(f, check_healthy)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_len_zero_is_empty_map),
        T(test_len_ffffffff_prehello),
        T(test_len_ffffffff_posthello),
        T(test_len_wrap_near_2_32),
        T(test_len_max_plus_one_prehello),
        T(test_len_max_plus_one_posthello),
        T(test_len_max_exact_posthello),
        T(test_bad_magic),
        T(test_request_with_status),
        T(test_truncated_then_eof),
        T(test_truncated_then_silence),
        T(test_truncated_frame_deadline),
        T(test_garbage_bytes),
        T(test_request_before_hello),
        T(test_hello_bad_version),
        T(test_second_hello),
        T(test_array32_bomb),
        T(test_map32_bomb),
        T(test_array16_chain_10000),
        T(test_depth_8_ok),
        T(test_depth_9),
        T(test_depth_33),
        T(test_depth_100000),
        T(test_str32_4gib),
        T(test_invalid_utf8),
        T(test_embedded_nul_in_name),
        T(test_ext_types),
        T(test_reserved_c1),
        T(test_trailing_and_two_objects),
        T(test_object_split_across_frames),
        T(test_duplicate_map_keys),
        T(test_element_budget),
        T(test_str_limit),
        T(test_prehello_exact_limit),
        T(test_note_too_long),
        T(test_fields_duplicate_keys),
        T(test_fields_value_wrong_type),
        T(test_unknown_key),
        T(test_missing_required),
        T(test_wrong_types),
        T(test_out_of_range_ints),
        T(test_nan_inf),
        T(test_unknown_opcode),
        T(test_long_and_bad_names),
        T(test_proof_bad_indices),
        T(test_pipelined_10000_pings),
        T(test_non_reading_client_is_paused),
        T(test_200_connections),
    };
    if (getenv("HITLQ_TEST_FILTER"))
        cmocka_set_test_filter(getenv("HITLQ_TEST_FILTER"));
    return cmocka_run_group_tests_name("hostile", tests, group_setup, group_teardown);
}
