/*
 * test_slow_reader.c - what a client that does not read its replies costs
 * the server (issue 15 performance, server/net/conn.c CONN_OUT_PAUSE and
 * CONN_NOTSENT_LOWAT).  A client pipelines GETs of a ~60 kB item and
 * never reads: the server keeps little of the owed replies in the kernel
 * (its send queue, read from /proc/net/tcp, stays far under what is owed),
 * stops reading it, and closes it after slow_reader_timeout_ms although
 * less than HITLQ_MAX_OUTBUF is owed (it used to serve it up to 4 MiB
 * plus the kernel's buffers, and keep it).  A client that reads slowly but
 * steadily is kept and gets every reply.  Run from the repo root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <msgpack.h>

#include "harness.h"
#include "hitlq_proto.h"

#define SR_TIMEOUT_MS 1000           /* slow_reader_timeout_ms of the server */
#define SR_BLOB       60000          /* bytes of the item's one big field */

static const char SR_CONFIG[] = "slow_reader_timeout_ms = 1000\n";

static struct hserver sr_srv;

static int sr_setup(void **st)
{
    (void)st;
    return harness_server_start(&sr_srv, SR_CONFIG) < 0 ? -1 : 0;
}

static int sr_teardown(void **st)
{
    (void)st;
    int rc = harness_server_stop(&sr_srv);
    harness_server_cleanup(&sr_srv);
    return rc;
}

/* A client (HELLO done; with a small receive buffer when small_rcv), and
 * the id of an item whose GET reply is over SR_BLOB bytes. */
static uint64_t sr_open_with_item(struct hconn *c, const char *key, bool small_rcv)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    struct hframe f;
    char *blob = malloc(SR_BLOB);
    int rcv = 16 * 1024;
    uint64_t id;

    assert_non_null(blob);
    memset(blob, 'z', SR_BLOB);
    assert_int_equal(hconn_open(c, sr_srv.port), 0);
    assert_int_equal(hconn_hello(c, "slow"), 0);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    hpk_kv_str(&pk, "key", key);
    hpk_kv_str(&pk, "type", "credit_application");
    hpk_str(&pk, "fields");
    msgpack_pack_map(&pk, 2);
    hpk_kv_u64(&pk, "amount", 1000);
    hpk_str(&pk, "blob");
    msgpack_pack_str(&pk, SR_BLOB);
    msgpack_pack_str_body(&pk, blob, SR_BLOB);
    free(blob);
    assert_int_equal(hconn_call(c, HITLQ_OP_SUBMIT, 2, sb.data, sb.size, &f, 20000), 1);
    msgpack_sbuffer_destroy(&sb);
    assert_int_equal(f.status, 0);
    id = hobj_u64(hframe_get(&f, "id"));
    hframe_free(&f);
    assert_true(id > 0);
    if (small_rcv)
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    return id;
}

/* Sends n GET {id} frames, request ids 100.., all at once. */
static void sr_send_gets(struct hconn *c, uint64_t id, int n)
{
    msgpack_sbuffer body, req;
    msgpack_packer pk;

    msgpack_sbuffer_init(&body);
    msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "id", id);
    msgpack_sbuffer_init(&req);
    for (int i = 0; i < n; i++)
        hframe_append(&req, HITLQ_OP_GET, 100 + (uint32_t)i, body.data, body.size);
    assert_int_equal(hconn_send(c, req.data, req.size, 5000), 0);
    msgpack_sbuffer_destroy(&body);
    msgpack_sbuffer_destroy(&req);
}

/* The server side of connection c in /proc/net/tcp: its send queue
 * (bytes written, not acknowledged) in *sendq; returns its TCP state (1 =
 * established), or -1 when the server side is gone. */
static int sr_server_side(const struct hconn *c, long *sendq)
{
    struct sockaddr_in me;
    socklen_t len = sizeof(me);
    char line[512];
    int state = -1;
    FILE *fp;

    if (getsockname(c->fd, (struct sockaddr *)&me, &len) != 0 ||
        (fp = fopen("/proc/net/tcp", "r")) == NULL)
        return -1;
    while (fgets(line, sizeof line, fp) != NULL) {
        unsigned lport, rport, st;
        unsigned long tx, rx;

        if (sscanf(line, " %*d: %*8x:%4x %*8x:%4x %2x %8lx:%8lx", &lport, &rport, &st, &tx,
                   &rx) == 5 && lport == sr_srv.port && rport == ntohs(me.sin_port)) {
            state = (int)st;
            *sendq = (long)tx;
        }
    }
    fclose(fp);
    return state;
}

/* 40 GETs owe ~2.4 MB, under HITLQ_MAX_OUTBUF: never read, the client is
 * closed (the server's side leaves ESTABLISHED) after
 * slow_reader_timeout_ms, and meanwhile the kernel holds a small part of
 * what is owed. */
static void test_non_reader_under_cap_is_closed(void **st)
{
    struct hconn c;
    uint64_t t0, waited = 0;
    long sendq = -1;
    bool closed = false;

    (void)st;
    sr_send_gets(&c, sr_open_with_item(&c, "sr-1", true), 40);
    t0 = harness_now_ms();
    harness_sleep_ms(SR_TIMEOUT_MS / 2);
    assert_int_equal(sr_server_side(&c, &sendq), 1);
    fprintf(stderr, "server send queue of a non-reader: %ld bytes (owed ~%d)\n", sendq,
            40 * SR_BLOB);
    assert_true(sendq >= 0 && sendq <= 512 * 1024);
    while (!closed && (waited = harness_now_ms() - t0) < 10000) {
        harness_sleep_ms(50);
        closed = sr_server_side(&c, &sendq) != 1;
    }
    fprintf(stderr, "non-reader closed=%d after %llu ms\n", (int)closed,
            (unsigned long long)waited);
    assert_true(closed);
    hconn_close(&c);
}

/* Reads what c has now, at most max bytes, into the frame buffer. */
static void sr_read_some(struct hconn *c, size_t max)
{
    if (c->cap - c->len < max) {
        c->buf = realloc(c->buf, c->len + max);
        assert_non_null(c->buf);
        c->cap = c->len + max;
    }
    ssize_t n = recv(c->fd, c->buf + c->len, max, MSG_DONTWAIT);
    assert_true(n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)));
    if (n > 0)
        c->len += (size_t)n;
}

/* A reader of 32 kB every 100 ms (~1.2 MB owed take it ~4 s: its output
 * stays over the pause mark for several slow_reader_timeout_ms, but
 * shrinks) is kept: every reply arrives, in order, ok. */
static void test_slow_steady_reader_is_kept(void **st)
{
    enum { N = 20 };
    struct hconn c;
    struct hframe f;
    int got = 0;
    uint64_t t0 = harness_now_ms();

    (void)st;
    sr_send_gets(&c, sr_open_with_item(&c, "sr-2", false), N);
    while (got < N && harness_now_ms() - t0 < 30000) {
        harness_sleep_ms(100);
        sr_read_some(&c, 32 * 1024);
        while (got < N && hconn_read_frame(&c, &f, 0) == 1) {
            assert_int_equal(f.request_id, 100 + (uint32_t)got);
            assert_int_equal(f.status, 0);
            hframe_free(&f);
            got++;
        }
    }
    fprintf(stderr, "slow reader: %d of %d replies in %llu ms\n", got, N,
            (unsigned long long)(harness_now_ms() - t0));
    assert_int_equal(got, N);
    assert_int_equal(hconn_ping(&c, 999), 0);
    hconn_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_non_reader_under_cap_is_closed, sr_setup,
                                        sr_teardown),
        cmocka_unit_test_setup_teardown(test_slow_steady_reader_is_kept, sr_setup,
                                        sr_teardown),
    };
    return cmocka_run_group_tests_name("slow_reader", tests, NULL, NULL);
}
