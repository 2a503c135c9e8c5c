/*
 * test_fairness.c - one connection's pipeline must not take the event loop
 * (issue 15 defect 7; server/net/conn.c processes a bounded number of
 * requests per connection per loop pass, round-robin).  A well-behaved
 * submitter is measured alone, then while 25 clients pipeline GETs
 * without ever reading their replies (re-connecting when the server drops
 * them): its p99 latency stays under a generous 200 ms and its rate is not
 * cut tenfold.  Run from the repo root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <msgpack.h>

#include "e2e_util.h"
#include "harness.h"
#include "hitlq.h"
#include "hitlq_proto.h"

#define N_GREEDY   25
#define N_GETS     4000       /* GET frames in one greedy client's buffer */
#define N_SUBMITS  300

struct greedy {
    struct hconn     c[N_GREEDY];
    msgpack_sbuffer  gets;        /* N_GETS GET frames */
    size_t           off[N_GREEDY];
    volatile bool    stop;
    volatile size_t  sent;        /* bytes of GETs sent, all clients */
};

/* N_GETS GET {id} frames into g->gets. */
static void greedy_pack(struct greedy *g, uint64_t id)
{
    msgpack_sbuffer body;
    msgpack_packer pk;

    msgpack_sbuffer_init(&body);
    msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "id", id);
    msgpack_sbuffer_init(&g->gets);
    for (uint32_t i = 0; i < N_GETS; i++)
        hframe_append(&g->gets, HITLQ_OP_GET, 1000 + i, body.data, body.size);
    msgpack_sbuffer_destroy(&body);
}

/* Connects greedy client i (HELLO answered); -1 on failure. */
static int greedy_open(struct greedy *g, int i)
{
    g->off[i] = 0;
    if (hconn_open(&g->c[i], e2e_srv.port) != 0)
        return -1;
    return hconn_hello(&g->c[i], "greedy") == 0 ? 0 : -1;
}

/* Sends what greedy client i's socket takes; re-connects when closed. */
static void greedy_push(struct greedy *g, int i)
{
    ssize_t n;

    if (g->c[i].fd < 0 && greedy_open(g, i) != 0) {
        hconn_close(&g->c[i]);
        return;
    }
    n = hconn_send_some(&g->c[i], g->gets.data + g->off[i], g->gets.size - g->off[i]);
    if (n < 0) {
        hconn_close(&g->c[i]);
        return;
    }
    g->off[i] = (g->off[i] + (size_t)n) % g->gets.size;
    g->sent += (size_t)n;
}

/* The greedy clients: pipeline GETs, never read a reply. */
static void *greedy_main(void *arg)
{
    struct greedy *g = arg;

    while (!g->stop) {
        for (int i = 0; i < N_GREEDY && !g->stop; i++)
            greedy_push(g, i);
        harness_sleep_ms(1);
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* n queued submits on c, keys prefix-0.. : the rate (per s) and the p99
 * latency (ms) in *p99. */
static double submit_run(hitlq *c, const char *prefix, int n, uint64_t *p99)
{
    uint64_t *lat = calloc((size_t)n, sizeof(*lat)), t0 = harness_now_ms(), total;
    char key[48];

    assert_non_null(lat);
    for (int i = 0; i < n; i++) {
        uint64_t t = harness_now_ms();

        snprintf(key, sizeof key, "%s-%d", prefix, i);
        e2e_must_queue(c, key, -1);
        lat[i] = harness_now_ms() - t;
    }
    total = harness_now_ms() - t0;
    qsort(lat, (size_t)n, sizeof(*lat), cmp_u64);
    *p99 = lat[(size_t)n * 99 / 100];
    free(lat);
    return n * 1000.0 / (double)(total ? total : 1);
}

static void test_greedy_pipeliners_do_not_stall_submitter(void **st)
{
    static struct greedy g;
    hitlq *c = e2e_cli("good");
    uint64_t p99_alone, p99_busy, id;
    double alone, busy;
    pthread_t th;

    (void)st;
    id = e2e_must_queue(c, "target", -1);
    alone = submit_run(c, "alone", N_SUBMITS, &p99_alone);
    memset(&g, 0, sizeof g);
    for (int i = 0; i < N_GREEDY; i++)
        g.c[i].fd = -1;
    greedy_pack(&g, id);
    assert_int_equal(pthread_create(&th, NULL, greedy_main, &g), 0);
    harness_sleep_ms(500);
    busy = submit_run(c, "busy", N_SUBMITS, &p99_busy);
    g.stop = true;
    pthread_join(th, NULL);
    fprintf(stderr, "fairness: alone %.0f/s p99 %llu ms; with %d greedy pipeliners "
            "(%zu KiB of GETs sent) %.0f/s p99 %llu ms\n", alone,
            (unsigned long long)p99_alone, N_GREEDY, g.sent >> 10, busy,
            (unsigned long long)p99_busy);
    assert_true(g.sent >= 1u << 20);                 /* the load really ran */
    assert_true(p99_busy < 200);
    assert_true(busy * 10 > alone);
    for (int i = 0; i < N_GREEDY; i++)
        hconn_close(&g.c[i]);
    msgpack_sbuffer_destroy(&g.gets);
    hitlq_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        E2E_TEST(test_greedy_pipeliners_do_not_stall_submitter),
    };
    return e2e_run("fairness", tests, sizeof tests / sizeof tests[0]);
}
