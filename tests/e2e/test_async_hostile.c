/*
 * test_async_hostile.c - the asynchronous libhitlq (include/hitlq_async.h)
 * against a fake server on loopback that answers HELLO properly and then
 * sends hostile bytes: garbage, a header announcing a body over the limit
 * (refused before allocation), a body that is not a map, a reply whose
 * opcode is not the request's, random bytes, a frame cut short; and a
 * well-formed reply dribbled one byte at a time followed by an unsolicited
 * frame (partial frames reassembled, the push callback).  Every case ends
 * in an error code and every pending callback called once - never a crash
 * (the tests run under ASan and UBSan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "hitlq_async.h"
#include "hitlq_libevent.h"

/* What the fake server sends after its HELLO reply. */
struct fake {
    int            lfd;
    uint16_t       port;
    const uint8_t *bytes;
    size_t         len;
    bool           dribble;      /* one byte per write, 1 ms apart */
    pthread_t      th;
};

static int read_full(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        if (poll(&pf, 1, 10000) <= 0)
            return -1;
        ssize_t k = read(fd, p, n);
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    struct pollfd pf = { .fd = f->lfd, .events = POLLIN };
    uint8_t hdr[12], body[4096], reply[13];
    int fd;

    if (poll(&pf, 1, 10000) <= 0 || (fd = accept(f->lfd, NULL, NULL)) < 0)
        return NULL;
    if (read_full(fd, hdr, 12) == 0) {
        uint32_t blen = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
                        (uint32_t)hdr[2] << 8 | hdr[3];
        uint32_t rid = (uint32_t)hdr[8] << 24 | (uint32_t)hdr[9] << 16 |
                       (uint32_t)hdr[10] << 8 | hdr[11];
        if (blen <= sizeof body && read_full(fd, body, blen) == 0) {
            hframe_header(reply, 1, 0x51, HITLQ_OP_HELLO, 0, rid);
            reply[12] = 0x80;                          /* {} */
            (void)!write(fd, reply, sizeof reply);
            for (size_t i = 0; i < f->len; i += f->dribble ? 1 : f->len) {
                if (write(fd, f->bytes + i, f->dribble ? 1 : f->len) < 0)
                    break;
                if (f->dribble)
                    harness_sleep_ms(1);
            }
        }
    }
    /* read what the client sent, so that close() sends FIN, not RST */
    for (;;) {
        struct pollfd rp = { .fd = fd, .events = POLLIN };
        if (poll(&rp, 1, 100) <= 0 || read(fd, body, sizeof body) <= 0)
            break;
    }
    close(fd);
    return NULL;
}

static void fake_start(struct fake *f)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;

    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->lfd, 1), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &al), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

/* ---- the client side ------------------------------------------------------------ */

struct outcome {
    int   calls[3], got_reply[3], pushes, disconnects, code;
    struct event_base *base;
};

static struct outcome *OUT;

static void on_ping(hitlq_async *ac, hitlq_reply *r, void *priv)
{
    int i = (int)(intptr_t)priv;
    OUT->calls[i]++;
    if (r != NULL) {
        OUT->got_reply[i]++;
        assert_int_equal(hitlq_reply_opcode(r), HITLQ_OP_PING);
        assert_int_equal(hitlq_reply_status(r), HITLQ_ST_OK);
    }
}

static void on_push(hitlq_async *ac, hitlq_reply *r, void *priv)
{
    OUT->pushes++;
    assert_int_equal(hitlq_reply_request_id(r), 999);
}

static void on_disc(hitlq_async *ac, int status, void *priv)
{
    OUT->disconnects++;
    OUT->code = status;
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    fail_msg("the fake server case did not end");
}

/* Connects to a fake server sending bytes, queues three PINGs (request
 * ids 2, 3, 4), runs the loop until the connection ends. */
static void run_case(const uint8_t *bytes, size_t len, bool dribble, struct outcome *o)
{
    struct fake f = { .bytes = bytes, .len = len, .dribble = dribble };
    hitlq_options opt = { .host = "127.0.0.1", .timeout_ms = 5000, .name = "h" };
    struct timeval tv = { 20, 0 };

    memset(o, 0, sizeof(*o));
    OUT = o;
    fake_start(&f);
    opt.port = f.port;
    o->base = event_base_new();
    hitlq_async *ac = hitlq_async_connect(&opt);
    assert_non_null(ac);
    assert_int_equal(hitlq_async_err(ac), HITLQ_OK);
    hitlq_async_set_push_cb(ac, on_push, NULL);
    hitlq_async_set_disconnect_cb(ac, on_disc, NULL);
    assert_int_equal(hitlq_libevent_attach(ac, o->base), HITLQ_OK);
    for (intptr_t i = 0; i < 3; i++)
        assert_int_equal(hitlq_async_call(ac, HITLQ_OP_PING, NULL, 0, on_ping, (void *)i),
                         HITLQ_OK);
    struct event *t = evtimer_new(o->base, on_timeout, NULL);
    evtimer_add(t, &tv);
    event_base_loop(o->base, EVLOOP_ONCE);
    while (o->disconnects == 0)
        event_base_loop(o->base, EVLOOP_ONCE);
    for (int i = 0; i < 3; i++)
        assert_int_equal(o->calls[i], 1);
    assert_int_equal(hitlq_async_err(ac), o->code);
    assert_int_equal(hitlq_async_pending(ac), 0);
    hitlq_async_free(ac);
    event_free(t);
    event_base_free(o->base);
    pthread_join(f.th, NULL);
    close(f.lfd);
}

static void expect_eproto(const uint8_t *bytes, size_t len)
{
    struct outcome o;
    run_case(bytes, len, false, &o);
    assert_int_equal(o.code, HITLQ_EPROTO);
    assert_int_equal(o.got_reply[0] + o.got_reply[1] + o.got_reply[2], 0);
}

static void test_garbage(void **st)
{
    static const char g[] = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello world!";
    (void)st;
    expect_eproto((const uint8_t *)g, sizeof g - 1);
}

static void test_oversized_body(void **st)
{
    uint8_t h[12];
    (void)st;
    hframe_header(h, 0xffffffffu, 0x51, HITLQ_OP_PING, 0, 2);   /* 4 GiB announced */
    expect_eproto(h, sizeof h);
    hframe_header(h, HITLQ_MAX_FRAME + 1, 0x51, HITLQ_OP_PING, 0, 2);
    expect_eproto(h, sizeof h);
}

static void test_body_not_a_map(void **st)
{
    uint8_t b[14];
    (void)st;
    hframe_header(b, 2, 0x51, HITLQ_OP_PING, 0, 2);
    b[12] = 0x91;                                     /* [1] */
    b[13] = 0x01;
    expect_eproto(b, sizeof b);
    hframe_header(b, 2, 0x51, HITLQ_OP_PING, 0, 2);
    b[12] = 0x81;                                     /* a map cut short */
    b[13] = 0xa1;
    expect_eproto(b, sizeof b);
}

static void test_wrong_opcode(void **st)
{
    uint8_t b[13];
    (void)st;
    hframe_header(b, 1, 0x51, HITLQ_OP_GET, 0, 3);   /* GET reply to a PING */
    b[12] = 0x80;
    expect_eproto(b, sizeof b);
}

static void test_random_bytes(void **st)
{
    static uint8_t r[65536];
    uint32_t x = 0x9e3779b9u;
    (void)st;
    for (size_t i = 0; i < sizeof r; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        r[i] = (uint8_t)x;
    }
    expect_eproto(r, sizeof r);
}

static void test_cut_short(void **st)
{
    uint8_t b[12 + 3];
    struct outcome o;
    (void)st;
    hframe_header(b, 10, 0x51, HITLQ_OP_PING, 0, 2);  /* 10 announced, 3 sent */
    memset(b + 12, 0x80, 3);
    run_case(b, sizeof b, false, &o);
    assert_int_equal(o.code, HITLQ_EOF);
}

/* A good reply to id 3 one byte at a time, an unsolicited frame, close:
 * the reply reaches its callback, the frame the push callback, the other
 * two callbacks get NULL with HITLQ_EOF. */
static void test_dribble_and_push(void **st)
{
    uint8_t b[26];
    struct outcome o;
    (void)st;
    hframe_header(b, 1, 0x51, HITLQ_OP_PING, 0, 3);
    b[12] = 0x80;
    hframe_header(b + 13, 1, 0x51, HITLQ_OP_RESULT, 0, 999);
    b[25] = 0x80;
    run_case(b, sizeof b, true, &o);
    assert_int_equal(o.got_reply[1], 1);
    assert_int_equal(o.got_reply[0] + o.got_reply[2], 0);
    assert_int_equal(o.pushes, 1);
    assert_int_equal(o.code, HITLQ_EOF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_oversized_body),
        cmocka_unit_test(test_body_not_a_map),
        cmocka_unit_test(test_wrong_opcode),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_cut_short),
        cmocka_unit_test(test_dribble_and_push),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name("async_hostile", tests, NULL, NULL);
}
