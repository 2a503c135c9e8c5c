/*
 * test_protocol_rules.c - the framing and session rules PROTOCOL.md §2,
 * §3 and §5 state, checked byte by byte against a real hitlqd (a server
 * per test, frame and HELLO deadlines of 300 ms): the opcode and request
 * id a reply carries (also for connection-level errors), a request with a
 * non-zero status, a refused HELLO that is not "the one HELLO", and the
 * HELLO deadline that runs from the connect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "hitlq_proto.h"

#define CONFIG "frame_timeout_ms = 300\nhello_timeout_ms = 300\n"

static struct hserver S;

static int
setup(void **st)
{
    (void)st;
    return harness_server_start(&S, CONFIG) < 0 ? -1 : 0;
}

static int
teardown(void **st)
{
    (void)st;
    int rc = harness_server_stop(&S);
    harness_server_cleanup(&S);
    return rc;
}

/* Reads one reply and checks its header and code; frees it. */
static void
expect(struct hconn *c, uint8_t opcode, uint16_t status, uint32_t rid, const char *code)
{
    struct hframe f;

    assert_int_equal(hconn_read_frame(c, &f, 3000), 1);
    assert_int_equal(f.opcode, opcode);
    assert_int_equal(f.status, status);
    assert_int_equal(f.request_id, rid);
    if (code != NULL)
        assert_true(hframe_code_is(&f, code));
    hframe_free(&f);
}

/* A connection with HELLO done. */
static void
open_ready(struct hconn *c)
{
    assert_int_equal(hconn_open(c, S.port), 0);
    assert_int_equal(hconn_hello(c, "rules"), HITLQ_ST_OK);
}

static void
send_header(struct hconn *c, uint8_t magic, uint8_t op, uint16_t status, uint32_t rid)
{
    uint8_t h[12];

    hframe_header(h, 0, magic, op, status, rid);
    assert_int_equal(hconn_send(c, h, sizeof h, 3000), 0);
}

/* Every reply carries its request's opcode and request_id, errors too;
 * an unknown opcode is echoed and the connection stays usable. */
static void
test_reply_echoes_opcode(void **st)
{
    struct hconn c;

    (void)st;
    open_ready(&c);
    send_header(&c, HITLQ_MAGIC, HITLQ_OP_PING, 0, 4242);
    expect(&c, HITLQ_OP_PING, HITLQ_ST_OK, 4242, NULL);
    send_header(&c, HITLQ_MAGIC, 0x7e, 0, 7);
    expect(&c, 0x7e, HITLQ_ST_UNKNOWN_OP, 7, "unknown_op");
    send_header(&c, HITLQ_MAGIC, HITLQ_OP_GET, 0, 8);      /* GET without id */
    expect(&c, HITLQ_OP_GET, HITLQ_ST_BAD_REQUEST, 8, "bad_request");
    assert_int_equal(hconn_ping(&c, 9), HITLQ_ST_OK);
    hconn_close(&c);
}

/* Connection-level errors: a bad magic is answered with the opcode and
 * request_id bytes of the header as read; a request with a non-zero
 * status gets bad_frame with its own; both close the connection. */
static void
test_connection_errors(void **st)
{
    struct hconn c;

    (void)st;
    open_ready(&c);
    send_header(&c, 0x52, HITLQ_OP_STATS, 0, 77);
    expect(&c, HITLQ_OP_STATS, HITLQ_ST_BAD_FRAME, 77, "bad_frame");
    assert_true(hconn_expect_closed(&c, 3000, NULL));
    hconn_close(&c);
    open_ready(&c);
    send_header(&c, HITLQ_MAGIC, HITLQ_OP_PING, 5, 78);
    expect(&c, HITLQ_OP_PING, HITLQ_ST_BAD_FRAME, 78, "bad_frame");
    assert_true(hconn_expect_closed(&c, 3000, NULL));
    hconn_close(&c);
}

/* A frame not completed in time: bad_frame with opcode 0 and request_id
 * 0 (the frame is not known), then the close. */
static void
test_frame_deadline_reply(void **st)
{
    struct hconn c;
    uint8_t h[12];

    (void)st;
    open_ready(&c);
    hframe_header(h, 10, HITLQ_MAGIC, HITLQ_OP_PING, 0, 99);
    assert_int_equal(hconn_send(&c, h, sizeof h, 3000), 0);
    expect(&c, 0, HITLQ_ST_BAD_FRAME, 0, "bad_frame");
    assert_true(hconn_expect_closed(&c, 3000, NULL));
    hconn_close(&c);
}

/* HELLO with a schema error is refused bad_request and is not the one
 * HELLO: the connection stays open for a correct HELLO, after which a
 * second HELLO is bad_request. */
static void
test_refused_hello_is_not_the_hello(void **st)
{
    struct hconn c;
    struct hframe f;
    static const uint8_t bogus[] = { 0x82, 0xa7, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01,
                                     0xa5, 'b', 'o', 'g', 'u', 's', 0x01 };

    (void)st;
    assert_int_equal(hconn_open(&c, S.port), 0);
    assert_int_equal(hconn_call(&c, HITLQ_OP_HELLO, 3, bogus, sizeof bogus, &f, 3000), 1);
    assert_int_equal(f.status, HITLQ_ST_BAD_REQUEST);
    assert_int_equal(f.opcode, HITLQ_OP_HELLO);
    assert_int_equal(f.request_id, 3);
    hframe_free(&f);
    assert_int_equal(hconn_hello(&c, "second-try"), HITLQ_ST_OK);
    assert_int_equal(hconn_hello(&c, "third"), HITLQ_ST_BAD_REQUEST);
    assert_int_equal(hconn_ping(&c, 4), HITLQ_ST_OK);
    hconn_close(&c);
}

/* The HELLO deadline runs from the connect: a refused HELLO does not
 * extend it; the close comes without a reply. */
static void
test_hello_deadline_from_connect(void **st)
{
    struct hconn c;
    struct hframe f;
    static const uint8_t v2[] = { 0x81, 0xa7, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0xc0 };
    uint64_t t0;
    int frames = 0;

    (void)st;
    t0 = harness_now_ms();
    assert_int_equal(hconn_open(&c, S.port), 0);
    assert_int_equal(hconn_call(&c, HITLQ_OP_HELLO, 1, v2, sizeof v2, &f, 3000), 1);
    assert_int_equal(f.status, HITLQ_ST_BAD_REQUEST);      /* version nil */
    hframe_free(&f);
    assert_true(hconn_expect_closed(&c, 3000, &frames));
    assert_int_equal(frames, 0);
    assert_true(harness_now_ms() - t0 >= 250);
    assert_true(harness_now_ms() - t0 < 3000);
    hconn_close(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reply_echoes_opcode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frame_deadline_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_hello_is_not_the_hello, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hello_deadline_from_connect, setup, teardown),
    };
    return cmocka_run_group_tests_name("protocol_rules", tests, NULL, NULL);
}
