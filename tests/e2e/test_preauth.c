/*
 * test_preauth.c - the pre-authentication connection budget of a real
 * hitlqd with auth = 1 (issue 15 defect 6; server/net/net.c): connections
 * that have not authenticated yet have a budget of their own
 * (max_unauthenticated in total, max_unauthenticated_per_addr per
 * address), and a new one evicts the oldest unauthenticated connection
 * when a budget is full, but only one that never sent a byte.  An attacker holding 1,100 idle sockets from five
 * addresses, re-opening every one the server closes, must not lock an
 * authenticated client out: it still connects, authenticates and submits.
 * Run from the repo root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth_fixture.h"
#include "harness.h"
#include "hitlq_proto.h"

#define N_IDLE   1100     /* more than max_connections (1024) */
#define N_SRC    5        /* attacker addresses 127.0.0.2 .. 127.0.0.6 */

struct flood {
    struct hconn     c[N_IDLE];
    volatile bool    stop;
    volatile int     opened;      /* connects made (re-opens included) */
    volatile bool    filled;      /* every slot opened at least once */
};

/* True when the server closed fd (EOF or reset); never blocks. */
static bool fd_closed(int fd)
{
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);

    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Opens slot i from its attacker address; -1 when connect failed. */
static int flood_open(struct flood *fl, int i)
{
    char src[16];

    snprintf(src, sizeof src, "127.0.0.%d", 2 + i % N_SRC);
    if (hconn_open_from(&fl->c[i], afx_srv.port, src) != 0)
        return -1;
    fl->opened++;
    return 0;
}

/* The attacker: opens N_IDLE sockets that never send a byte, then keeps
 * re-opening each one the server closes until told to stop. */
static void *flood_main(void *arg)
{
    struct flood *fl = arg;

    for (int i = 0; i < N_IDLE && !fl->stop; i++)
        flood_open(fl, i);
    fl->filled = true;
    while (!fl->stop) {
        for (int i = 0; i < N_IDLE && !fl->stop; i++) {
            if (fl->c[i].fd >= 0 && !fd_closed(fl->c[i].fd))
                continue;
            hconn_close(&fl->c[i]);
            flood_open(fl, i);
        }
        harness_sleep_ms(20);
    }
    return NULL;
}

/* 1,100 idle sockets from 5 addresses, re-opened as they are closed: an
 * authenticated client still gets in, three times in a row, each time
 * within 5 s, and submits. */
static void test_idle_flood_good_client_gets_in(void **st)
{
    static struct flood fl;
    char bot[AFX_KEY_LEN + 1], bot_id[AFX_ID_LEN + 1];
    struct hconn admin;
    pthread_t th;

    (void)st;
    afx_admin_conn(&admin);
    afx_key_add(&admin, "flood-bot", "bot", NULL, bot, bot_id);
    hconn_close(&admin);
    memset(&fl, 0, sizeof fl);
    for (int i = 0; i < N_IDLE; i++)
        fl.c[i].fd = -1;
    assert_int_equal(pthread_create(&th, NULL, flood_main, &fl), 0);
    while (!fl.filled)
        harness_sleep_ms(20);
    harness_sleep_ms(300);
    for (int round = 0; round < 3; round++) {
        struct hconn good;
        uint64_t t0 = harness_now_ms(), id = 0;
        char key[32];

        afx_open_as(&good, bot, "bot");
        snprintf(key, sizeof key, "preauth-%d", round);
        assert_int_equal(afx_submit(&good, key, &id), HITLQ_ST_OK);
        assert_true(id > 0);
        assert_true(harness_now_ms() - t0 < 5000);
        hconn_close(&good);
    }
    fl.stop = true;
    pthread_join(th, NULL);
    /* the attacker kept re-opening: the server evicted its sockets */
    assert_true(fl.opened > N_IDLE);
    for (int i = 0; i < N_IDLE; i++)
        hconn_close(&fl.c[i]);
}

/* The per-address budget (default 8): the ninth silent connection from
 * one address evicts that address's oldest, at once (well before the
 * HELLO deadline); the newest stay open. */
static void test_per_address_evicts_oldest(void **st)
{
    struct hconn c[9];

    (void)st;
    for (int i = 0; i < 9; i++) {
        assert_int_equal(hconn_open_from(&c[i], afx_srv.port, "127.0.0.7"), 0);
        harness_sleep_ms(20);
    }
    assert_true(hconn_expect_closed(&c[0], 2000, NULL));
    harness_sleep_ms(100);
    for (int i = 1; i < 9; i++)
        assert_false(fd_closed(c[i].fd));
    for (int i = 0; i < 9; i++)
        hconn_close(&c[i]);
}

/* Only silent connections give way: eight from one address that sent
 * part of a HELLO (a slow link, a client mid-handshake) stay open when a
 * ninth and a tenth arrive; the tenth evicts the ninth, the silent one. */
static void test_talkers_are_not_evicted(void **st)
{
    static const uint8_t part[3] = { 0x51, 0x01, 0x00 };   /* a frame's start */
    struct hconn c[10];

    (void)st;
    for (int i = 0; i < 8; i++) {
        assert_int_equal(hconn_open_from(&c[i], afx_srv.port, "127.0.0.8"), 0);
        assert_int_equal(hconn_send(&c[i], part, sizeof part, 2000), 0);
    }
    harness_sleep_ms(50);
    for (int i = 8; i < 10; i++) {
        assert_int_equal(hconn_open_from(&c[i], afx_srv.port, "127.0.0.8"), 0);
        harness_sleep_ms(50);
    }
    assert_true(hconn_expect_closed(&c[8], 2000, NULL));
    harness_sleep_ms(100);
    for (int i = 0; i < 8; i++)
        assert_false(fd_closed(c[i].fd));
    assert_false(fd_closed(c[9].fd));
    for (int i = 0; i < 10; i++)
        hconn_close(&c[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_address_evicts_oldest),
        cmocka_unit_test(test_talkers_are_not_evicted),
        cmocka_unit_test(test_idle_flood_good_client_gets_in),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name("preauth", tests, afx_setup, afx_teardown);
}
