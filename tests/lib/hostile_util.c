/*
 * hostile_util.c - the group server, the well-behaved client and the
 * raw-frame helpers of the hostile-input tests (hostile_util.h).
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

struct hserver hostile_srv;
struct hconn hostile_good;     /* the well-behaved client */
uint32_t hostile_good_rid = 1000;

int hostile_group_setup(void **st)
{
    (void)st;
    if (harness_server_start(&hostile_srv,
                             "frame_timeout_ms = 1500\nslow_reader_timeout_ms = 2000\n") < 0)
        return -1;
    if (hconn_open(&hostile_good, hostile_srv.port) != 0 ||
        hconn_hello(&hostile_good, "good-client") != 0)
        return -1;
    return 0;
}

int hostile_group_teardown(void **st)
{
    (void)st;
    hconn_close(&hostile_good);
    int rc = harness_server_stop(&hostile_srv);
    harness_server_cleanup(&hostile_srv);
    if (rc != 0)
        fprintf(stderr, "hitlqd did not stop cleanly (see above)\n");
    return rc;
}

/* After every test: the server runs and other clients are unaffected. */
int hostile_check_healthy(void **st)
{
    (void)st;
    if (!harness_server_alive(&hostile_srv)) {
        fprintf(stderr, "hitlqd is not running any more\n");
        return -1;
    }
    uint64_t t0 = harness_now_ms();
    if (hconn_ping(&hostile_good, ++hostile_good_rid) != 0) {
        fprintf(stderr, "well-behaved client lost its PING reply\n");
        return -1;
    }
    uint64_t dt = harness_now_ms() - t0;
    if (dt > 2000) {
        fprintf(stderr, "well-behaved client PING took %llu ms\n", (unsigned long long)dt);
        return -1;
    }
    struct hconn c;
    if (hconn_open(&c, hostile_srv.port) != 0)
        return -1;
    int ok = hconn_hello(&c, "fresh") == 0 && hconn_ping(&c, 2) == 0;
    hconn_close(&c);
    if (!ok) {
        fprintf(stderr, "fresh client could not HELLO+PING\n");
        return -1;
    }
    return 0;
}

int hostile_run(const char *name, const struct CMUnitTest *tests, size_t n)
{
    if (getenv("HITLQ_TEST_FILTER"))
        cmocka_set_test_filter(getenv("HITLQ_TEST_FILTER"));
    return _cmocka_run_group_tests(name, tests, n, hostile_group_setup, hostile_group_teardown);
}

void hostile_open(struct hconn *c, bool hello)
{
    assert_int_equal(hconn_open(c, hostile_srv.port), 0);
    if (hello)
        assert_int_equal(hconn_hello(c, "hostile"), 0);
}

/* Reads one reply and checks its status and code string. */
void hostile_expect_error(struct hconn *c, uint16_t status, const char *code, uint32_t rid)
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

void hostile_expect_closed(struct hconn *c)
{
    int frames = 0;
    assert_true(hconn_expect_closed(c, 5000, &frames));
    assert_int_equal(frames, 0);
}

/* Sends a whole frame made of header + body bytes. */
void hostile_send_frame(struct hconn *c, uint8_t op, uint16_t status, uint32_t rid,
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
void hostile_body_fatal(const void *body, size_t len, uint16_t want1, uint16_t want2)
{
    struct hconn c;
    hostile_open(&c, true);
    hostile_send_frame(&c, HITLQ_OP_PING, 0, 77, body, len);
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
    hostile_expect_closed(&c);
    hconn_close(&c);
}

/* A non-fatal request error: typed reply, then the same connection still
 * answers PING.  Accepts `alt` too (when the spec allows a fatal variant,
 * the close is then required). */
void hostile_request_error(uint8_t op, const void *body, size_t len, uint16_t want,
                           const char *code, uint16_t alt_fatal, const char *alt_code)
{
    struct hconn c;
    hostile_open(&c, true);
    hostile_send_frame(&c, op, 0, 55, body, len);
    struct hframe f;
    assert_int_equal(hconn_read_frame(&c, &f, 5000), 1);
    assert_int_equal(f.request_id, 55);
    if (alt_fatal && f.status == alt_fatal) {
        assert_true(hframe_code_is(&f, alt_code));
        hframe_free(&f);
        fprintf(stderr, "note: server answered %s (fatal) where bad_request was expected\n",
                alt_code);
        hostile_expect_closed(&c);
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

void hostile_body_init(struct hostile_body *b)
{
    msgpack_sbuffer_init(&b->sb);
    msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
}

void hostile_body_free(struct hostile_body *b) { msgpack_sbuffer_destroy(&b->sb); }

void hostile_pack_submit(struct hostile_body *b, const char *key, const char *type, int extra)
{
    hostile_body_init(b);
    msgpack_pack_map(&b->pk, 3 + (extra ? 1 : 0));
    hpk_kv_str(&b->pk, "key", key);
    hpk_kv_str(&b->pk, "type", type);
    hpk_str(&b->pk, "fields");
    msgpack_pack_map(&b->pk, 1);
    hpk_kv_u64(&b->pk, "amount", 1000);
}
