/*
 * test_hostile_frames.c - hostile byte streams against a real hitlqd
 * (docs/RELIABILITY.md T5, the items that apply without TLS/auth): frame
 * lengths from 0 to 2^32-1, bad magic, a status in a request, truncated
 * frames (EOF, silence, the frame deadline), garbage bytes; the session
 * order (requests before HELLO, bad versions, a second HELLO); and flow
 * control: 10,000 pipelined PINGs, a client that never reads, 200
 * connections.
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

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <poll.h>
#include <unistd.h>

#include "hitlq_proto.h"
#include "hostile_util.h"

/* ---- framing --------------------------------------------------------------- */

static void test_len_zero_is_empty_map(void **st)
{
    (void)st;
    struct hconn c;
    hostile_open(&c, true);
    hostile_send_frame(&c, HITLQ_OP_PING, 0, 9, NULL, 0);
    struct hframe f;
    assert_int_equal(hconn_read_frame(&c, &f, 5000), 1);
    assert_int_equal(f.status, 0);
    assert_int_equal(f.request_id, 9);
    assert_non_null(hframe_get(&f, "time_ms"));
    hframe_free(&f);
    /* HELLO with an empty body: missing version */
    struct hconn d;
    hostile_open(&d, false);
    hostile_send_frame(&d, HITLQ_OP_HELLO, 0, 3, NULL, 0);
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
    hostile_open(&c, hello);
    uint8_t h[12];
    hframe_header(h, body_len, HITLQ_MAGIC, HITLQ_OP_PING, 0, 4242);
    assert_int_equal(hconn_send(&c, h, 12, 5000), 0);
    /* a few body bytes too: they must not matter */
    uint8_t junk[64];
    memset(junk, 0xa1, sizeof junk);
    hconn_send(&c, junk, sizeof junk, 1000);
    hostile_expect_error(&c, HITLQ_ST_FRAME_TOO_LARGE, "frame_too_large", 4242);
    hostile_expect_closed(&c);
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
    hostile_open(&c, true);
    hostile_send_frame(&c, HITLQ_OP_PING, 0, 5, body, n);
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
    hostile_open(&c, false);
    uint8_t h[12];
    hframe_header(h, 0, 0x52, HITLQ_OP_PING, 0, 1);
    assert_int_equal(hconn_send(&c, h, 12, 5000), 0);
    hostile_expect_error(&c, HITLQ_ST_BAD_FRAME, "bad_frame", UINT32_MAX);
    hostile_expect_closed(&c);
    hconn_close(&c);
    /* also after HELLO */
    hostile_open(&c, true);
    hframe_header(h, 0, 0x00, HITLQ_OP_PING, 0, 1);
    assert_int_equal(hconn_send(&c, h, 12, 5000), 0);
    hostile_expect_error(&c, HITLQ_ST_BAD_FRAME, "bad_frame", UINT32_MAX);
    hostile_expect_closed(&c);
    hconn_close(&c);
}

static void test_request_with_status(void **st)
{
    (void)st;
    struct hconn c;
    hostile_open(&c, true);
    hostile_send_frame(&c, HITLQ_OP_PING, 1, 31, NULL, 0);
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
    hostile_expect_closed(&c);
    hconn_close(&c);
}

static void test_truncated_then_eof(void **st)
{
    (void)st;
    struct hconn c;
    hostile_open(&c, true);
    uint8_t h[12];
    hframe_header(h, 40, HITLQ_MAGIC, HITLQ_OP_PING, 0, 8);
    assert_int_equal(hconn_send(&c, h, 12, 5000), 0);
    assert_int_equal(hconn_send(&c, "\x81\xa1", 2, 5000), 0);
    shutdown(c.fd, SHUT_WR);
    hostile_expect_closed(&c);
    hconn_close(&c);
    /* truncated header then EOF */
    hostile_open(&c, true);
    assert_int_equal(hconn_send(&c, h, 5, 5000), 0);
    shutdown(c.fd, SHUT_WR);
    hostile_expect_closed(&c);
    hconn_close(&c);
}

static void test_truncated_then_silence(void **st)
{
    (void)st;
    struct hconn c[3];
    uint8_t h[12];
    hframe_header(h, 100, HITLQ_MAGIC, HITLQ_OP_PING, 0, 8);
    hostile_open(&c[0], false);
    assert_int_equal(hconn_send(&c[0], h, 7, 5000), 0);           /* half a header */
    hostile_open(&c[1], true);
    assert_int_equal(hconn_send(&c[1], h, 12, 5000), 0);          /* header, no body */
    hostile_open(&c[2], true);
    assert_int_equal(hconn_send(&c[2], h, 12, 5000), 0);
    assert_int_equal(hconn_send(&c[2], "\x81", 1, 5000), 0);       /* header, 1 body byte */
    /* while they hang, others are served promptly */
    for (int i = 0; i < 20; i++) {
        uint64_t t0 = harness_now_ms();
        assert_int_equal(hconn_ping(&hostile_good, ++hostile_good_rid), 0);
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
    hostile_open(&c, true);
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
    hostile_open(&c, false);
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
    hostile_expect_closed(&c);
    hconn_close(&c);
    /* plain text (an HTTP request) */
    hostile_open(&c, false);
    const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    hconn_send(&c, http, strlen(http), 2000);
    r = hconn_read_frame(&c, &f, 5000);
    assert_int_equal(r, 1);
    assert_true(f.status == HITLQ_ST_BAD_FRAME || f.status == HITLQ_ST_FRAME_TOO_LARGE);
    hframe_free(&f);
    hostile_expect_closed(&c);
    hconn_close(&c);
}

/* ---- session --------------------------------------------------------------- */

static void test_request_before_hello(void **st)
{
    (void)st;
    struct hconn c;
    hostile_open(&c, false);
    hostile_send_frame(&c, HITLQ_OP_PING, 0, 11, NULL, 0);
    hostile_expect_error(&c, HITLQ_ST_NEED_HELLO, "need_hello", 11);
    hostile_expect_closed(&c);
    hconn_close(&c);
    hostile_open(&c, false);
    struct hostile_body b;
    hostile_body_init(&b);
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_u64(&b.pk, "id", 1);
    hostile_send_frame(&c, HITLQ_OP_GET, 0, 12, b.sb.data, b.sb.size);
    hostile_body_free(&b);
    hostile_expect_error(&c, HITLQ_ST_NEED_HELLO, "need_hello", 12);
    hostile_expect_closed(&c);
    hconn_close(&c);
}

static void test_hello_bad_version(void **st)
{
    (void)st;
    struct hconn c;
    hostile_open(&c, false);
    struct hostile_body b;
    hostile_body_init(&b);
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_u64(&b.pk, "version", 2);
    hostile_send_frame(&c, HITLQ_OP_HELLO, 0, 13, b.sb.data, b.sb.size);
    hostile_body_free(&b);
    hostile_expect_error(&c, HITLQ_ST_BAD_VERSION, "bad_version", 13);
    hostile_expect_closed(&c);
    hconn_close(&c);
}

static void test_second_hello(void **st)
{
    (void)st;
    struct hconn c;
    hostile_open(&c, true);
    struct hostile_body b;
    hostile_body_init(&b);
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_u64(&b.pk, "version", 1);
    hostile_send_frame(&c, HITLQ_OP_HELLO, 0, 14, b.sb.data, b.sb.size);
    hostile_body_free(&b);
    hostile_expect_error(&c, HITLQ_ST_BAD_REQUEST, "bad_request", 14);
    assert_int_equal(hconn_ping(&c, 15), 0);
    hconn_close(&c);
}

/* ---- flow control ---------------------------------------------------------- */

static void test_pipelined_10000_pings(void **st)
{
    (void)st;
    enum { N = 10000 };
    struct hconn c;
    hostile_open(&c, true);
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
    snprintf(path, sizeof path, "/proc/%d/status", (int)hostile_srv.pid);
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
    hostile_open(&w, true);
    /* one big item: 14 string fields of 60,000 bytes */
    struct hostile_body b;
    hostile_body_init(&b);
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
    hostile_body_free(&b);
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
        hostile_pack_submit(&b, "small-item-1", "credit_application", 0);
        assert_int_equal(hconn_call(&w, HITLQ_OP_SUBMIT, 3, b.sb.data, b.sb.size, &f, 10000),
                         1);
        assert_int_equal(f.status, 0);
        id = hobj_u64(hframe_get(&f, "id"));
        hframe_free(&f);
        hostile_body_free(&b);
        reply_size = 500;
    }
    /* now flood GETs without ever reading */
    hostile_body_init(&b);
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_u64(&b.pk, "id", id);
    msgpack_sbuffer req;
    msgpack_sbuffer_init(&req);
    for (int i = 0; i < 4096; i++)
        hframe_append(&req, HITLQ_OP_GET, 1000 + (uint32_t)i, b.sb.data, b.sb.size);
    hostile_body_free(&b);
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
        assert_int_equal(hconn_ping(&hostile_good, ++hostile_good_rid), 0);
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
    assert_int_equal(hconn_ping(&hostile_good, ++hostile_good_rid), 0);
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
    assert_int_equal(hconn_ping(&hostile_good, ++hostile_good_rid), 0);
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
    struct hostile_body hb;
    hostile_body_init(&hb);
    msgpack_pack_map(&hb.pk, 1);
    hpk_kv_u64(&hb.pk, "version", 1);
    hframe_append(&sb, HITLQ_OP_HELLO, 1, hb.sb.data, hb.sb.size);
    hframe_append(&sb, HITLQ_OP_PING, 2, NULL, 0);
    hostile_body_free(&hb);
    for (int i = 0; i < N; i++) {
        assert_int_equal(hconn_open(&c[i], hostile_srv.port), 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        HOSTILE_TEST(test_len_zero_is_empty_map),
        HOSTILE_TEST(test_len_ffffffff_prehello),
        HOSTILE_TEST(test_len_ffffffff_posthello),
        HOSTILE_TEST(test_len_wrap_near_2_32),
        HOSTILE_TEST(test_len_max_plus_one_prehello),
        HOSTILE_TEST(test_len_max_plus_one_posthello),
        HOSTILE_TEST(test_len_max_exact_posthello),
        HOSTILE_TEST(test_bad_magic),
        HOSTILE_TEST(test_request_with_status),
        HOSTILE_TEST(test_truncated_then_eof),
        HOSTILE_TEST(test_truncated_then_silence),
        HOSTILE_TEST(test_truncated_frame_deadline),
        HOSTILE_TEST(test_garbage_bytes),
        HOSTILE_TEST(test_request_before_hello),
        HOSTILE_TEST(test_hello_bad_version),
        HOSTILE_TEST(test_second_hello),
        HOSTILE_TEST(test_pipelined_10000_pings),
        HOSTILE_TEST(test_non_reading_client_is_paused),
        HOSTILE_TEST(test_200_connections),
    };
    return hostile_run("hostile_frames", tests, sizeof tests / sizeof tests[0]);
}
