/*
 * test_limits.c - connection limits of a real hitlqd (docs/RELIABILITY.md T5
 * item 17 and the timeouts of §2.8): the total connection cap, the
 * per-address cap (another source address still gets in), the HELLO
 * deadline (a client that connects and says nothing is closed; one that
 * said HELLO is not) and the idle timeout (an idle client is closed; a
 * busy one and a WATCHing one are not).  In every case a well-behaved
 * client keeps being served.  Run from the repo root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "harness.h"
#include "hitlq_proto.h"

#define N_MAX 40

static void start(struct hserver *s, const char *cfg)
{
    assert_true(harness_server_start(s, cfg) > 0);
}

/* True when the server's log has a line containing text. */
static bool log_has(const struct hserver *s, const char *text)
{
    char line[1024];
    bool found = false;
    FILE *f = fopen(s->logfile, "r");

    assert_non_null(f);
    while (!found && fgets(line, sizeof line, f) != NULL)
        found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

static void stop(struct hserver *s)
{
    assert_int_equal(harness_server_stop(s), 0);
    assert_false(harness_log_has_sanitizer(s));
    harness_server_cleanup(s);
}

/* Opens n connections from src (NULL = 127.0.0.1) and says HELLO on each
 * that stays open; returns how many got a HELLO reply. */
static int open_many(struct hserver *s, struct hconn *c, int n, const char *src)
{
    int ok = 0;

    for (int i = 0; i < n; i++) {
        assert_int_equal(hconn_open_from(&c[i], s->port, src), 0);
        if (hconn_hello(&c[i], "lim") == 0)
            ok++;
    }
    return ok;
}

static void close_many(struct hconn *c, int n)
{
    for (int i = 0; i < n; i++)
        hconn_close(&c[i]);
}

/* T5 item 17: more connections than max_connections: the extra ones are
 * closed at once, the others and a later client (after some close) work. */
static void test_total_cap(void **st)
{
    struct hserver s;
    struct hconn c[N_MAX];

    (void)st;
    start(&s, "max_connections = 30\n");
    assert_int_equal(open_many(&s, c, 36, NULL), 30);
    for (int i = 0; i < 30; i++)
        assert_int_equal(hconn_ping(&c[i], 7), 0);
    for (int i = 30; i < 36; i++)
        assert_true(hconn_expect_closed(&c[i], 2000, NULL));
    close_many(c, 36);
    harness_sleep_ms(200);
    assert_int_equal(open_many(&s, c, 5, NULL), 5);
    close_many(c, 5);
    stop(&s);
}

/* max_connections_per_addr: the 21st connection from 127.0.0.1 is refused,
 * while 127.0.0.2 still gets in. */
static void test_per_address_cap(void **st)
{
    struct hserver s;
    struct hconn c[N_MAX], other;

    (void)st;
    start(&s, "max_connections_per_addr = 20\n");
    assert_int_equal(open_many(&s, c, 24, NULL), 20);
    for (int i = 20; i < 24; i++)
        assert_true(hconn_expect_closed(&c[i], 2000, NULL));
    assert_int_equal(open_many(&s, &other, 1, "127.0.0.2"), 1);
    assert_int_equal(hconn_ping(&other, 9), 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(hconn_ping(&c[i], 8), 0);
    hconn_close(&other);
    close_many(c, 24);
    assert_true(log_has(&s, "max_connections_per_addr"));
    stop(&s);
}

/* The HELLO deadline: silence and a never-finished frame are closed; a
 * client that said HELLO stays. */
static void test_hello_timeout(void **st)
{
    struct hserver s;
    struct hconn silent, partial, ok;
    static const uint8_t half[6] = { 0, 0, 0, 4, 0x51, 0x01 };
    uint64_t t0;

    (void)st;
    start(&s, "hello_timeout_ms = 300\n");
    assert_int_equal(hconn_open(&silent, s.port), 0);
    assert_int_equal(hconn_open(&partial, s.port), 0);
    assert_int_equal(hconn_send(&partial, half, sizeof half, 1000), 0);
    assert_int_equal(open_many(&s, &ok, 1, NULL), 1);
    t0 = harness_now_ms();
    assert_true(hconn_expect_closed(&silent, 3000, NULL));
    assert_true(harness_now_ms() - t0 < 3000);
    assert_true(hconn_expect_closed(&partial, 3000, NULL));
    harness_sleep_ms(400);
    assert_int_equal(hconn_ping(&ok, 3), 0);       /* past the deadline: still open */
    hconn_close(&silent);
    hconn_close(&partial);
    hconn_close(&ok);
    stop(&s);
}

/* idle_timeout_ms: an idle client is closed; one that pings keeps its
 * connection, and so does one that WATCHes the result stream. */
static void test_idle_timeout(void **st)
{
    struct hserver s;
    struct hconn idle, busy, watcher;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    struct hframe f;

    (void)st;
    start(&s, "idle_timeout_ms = 500\n");
    assert_int_equal(open_many(&s, &idle, 1, NULL), 1);
    assert_int_equal(open_many(&s, &busy, 1, NULL), 1);
    assert_int_equal(open_many(&s, &watcher, 1, NULL), 1);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_str(&pk, "cursor");
    msgpack_pack_uint64(&pk, 0);
    assert_int_equal(hconn_call(&watcher, HITLQ_OP_WATCH, 5, sb.data, sb.size, &f, 2000), 1);
    assert_int_equal(f.status, 0);
    hframe_free(&f);
    msgpack_sbuffer_destroy(&sb);
    for (int i = 0; i < 15; i++) {                  /* 1.5 s of activity */
        assert_int_equal(hconn_ping(&busy, 10 + (uint32_t)i), 0);
        harness_sleep_ms(100);
    }
    assert_true(hconn_expect_closed(&idle, 2000, NULL));
    assert_int_equal(hconn_ping(&busy, 99), 0);
    /* the watcher's connection is still open: no EOF within 300 ms */
    assert_int_not_equal(hconn_read_frame(&watcher, &f, 300), 0);
    hconn_close(&idle);
    hconn_close(&busy);
    hconn_close(&watcher);
    stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_total_cap),
        cmocka_unit_test(test_per_address_cap),
        cmocka_unit_test(test_hello_timeout),
        cmocka_unit_test(test_idle_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
