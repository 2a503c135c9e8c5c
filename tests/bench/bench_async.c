/*
 * bench_async.c - claim+resolve cycles/s through libhitlq for `make bench`
 * (scripts/bench.sh section (p)): C specialists over a pre-filled queue,
 * each cycle CLAIM (wait_ms 1000) -> RESOLVE "approve" -> CLAIM ...
 *
 *   bench_async async    (-p PORT | -P PORTFILE) [-c CONNS] [-d DEPTH] [-t SECONDS] [-q QUEUE]
 *   bench_async blocking (-p PORT | -P PORTFILE) [-c CONNS] [-t SECONDS] [-q QUEUE]
 *
 * async: C contexts of the asynchronous API (include/hitlq_async.h) on one
 * libevent loop (include/hitlq_libevent.h), DEPTH cycles in flight each
 * (default 1: a specialist decides one item at a time; -d 16 is the shape
 * of section (d)'s pipelined claim+resolve).
 * blocking: C threads, each with a blocking context (include/hitlq.h).
 * Cycles are counted over T seconds (default 16 conns, 3 s, credit_review);
 * a CLAIM that finds the queue empty ends that specialist (the figure is
 * then marked EMPTY: fill more).  Output: one line starting "bench: ".
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hitlq.h"
#include "hitlq_async.h"
#include "hitlq_libevent.h"

#define MAX_CONNS 256

static const char *queue_name = "credit_review";
static atomic_ulong cycles, empties, errors;
static double t_end;
static bool stopping;              /* contexts being freed: NULL replies expected */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- async ---------------------------------------------------------------- */

static struct event_base *base;

static void claim_next(hitlq_async *ac);

static void on_resolve(hitlq_async *ac, hitlq_reply *r, void *priv)
{
    (void)priv;
    if (r == NULL || hitlq_reply_status(r) != HITLQ_ST_OK) {
        if (!stopping)
            atomic_fetch_add(&errors, 1);
        return;
    }
    atomic_fetch_add(&cycles, 1);
    claim_next(ac);
}

static void on_claim(hitlq_async *ac, hitlq_reply *r, void *priv)
{
    uint64_t id = 0, lease = 0;

    (void)priv;
    if (r == NULL) {
        if (!stopping)
            atomic_fetch_add(&errors, 1);
        return;
    }
    if (hitlq_reply_status(r) == HITLQ_ST_EMPTY) {
        atomic_fetch_add(&empties, 1);
        return;
    }
    if (hitlq_reply_status(r) != HITLQ_ST_OK || !hitlq_reply_get_u64(r, "id", &id) ||
        !hitlq_reply_get_u64(r, "lease", &lease) ||
        hitlq_async_resolve(ac, id, lease, "approve", NULL, NULL, on_resolve, NULL) != HITLQ_OK)
        atomic_fetch_add(&errors, 1);
}

static void claim_next(hitlq_async *ac)
{
    const char *qs[1] = { queue_name };

    if (now_s() >= t_end)
        return;
    if (hitlq_async_claim(ac, qs, 1, 0, 1000, NULL, on_claim, NULL) != HITLQ_OK)
        atomic_fetch_add(&errors, 1);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static int run_async(const hitlq_options *o, int n, int depth, int secs)
{
    hitlq_async *ac[MAX_CONNS];
    struct timeval tv = { secs, 0 };
    struct event *stop;
    int i;

    base = event_base_new();
    for (i = 0; i < n; i++) {
        ac[i] = hitlq_async_connect(o);
        if (ac[i] == NULL || hitlq_async_err(ac[i]) != HITLQ_OK ||
            hitlq_libevent_attach(ac[i], base) != HITLQ_OK) {
            fprintf(stderr, "bench_async: connect: %s\n", hitlq_async_errstr(ac[i]));
            return 1;
        }
    }
    stop = evtimer_new(base, on_stop, base);
    evtimer_add(stop, &tv);
    t_end = now_s() + secs;
    for (i = 0; i < n; i++)
        for (int d = 0; d < depth; d++)
            claim_next(ac[i]);
    event_base_dispatch(base);
    stopping = true;
    for (i = 0; i < n; i++)
        hitlq_async_free(ac[i]);
    event_free(stop);
    event_base_free(base);
    return 0;
}

/* ---- blocking ------------------------------------------------------------- */

static void *blocking_main(void *arg)
{
    const hitlq_options *o = arg;
    const char *qs[1] = { queue_name };
    hitlq *c = hitlq_connect(o);
    struct hitlq_claim cl;
    int rc;

    if (c == NULL || hitlq_err(c) != HITLQ_OK) {
        atomic_fetch_add(&errors, 1);
        hitlq_free(c);
        return NULL;
    }
    while (now_s() < t_end) {
        rc = hitlq_claim(c, qs, 1, 0, 1000, NULL, &cl);
        if (rc == HITLQ_ST_EMPTY) {
            atomic_fetch_add(&empties, 1);
            break;
        }
        if (rc == HITLQ_OK)
            rc = hitlq_resolve(c, cl.id, cl.lease, "approve", NULL, NULL, NULL);
        hitlq_claim_clear(&cl);
        if (rc != HITLQ_OK) {
            atomic_fetch_add(&errors, 1);
            break;
        }
        if (now_s() < t_end)
            atomic_fetch_add(&cycles, 1);
    }
    hitlq_free(c);
    return NULL;
}

static int run_blocking(const hitlq_options *o, int n, int secs)
{
    pthread_t th[MAX_CONNS];
    int i;

    t_end = now_s() + secs;
    for (i = 0; i < n; i++)
        if (pthread_create(&th[i], NULL, blocking_main, (void *)o) != 0)
            return 1;
    for (i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    return 0;
}

/* ---- main --------------------------------------------------------------- */

static int read_port(const char *file)
{
    int port = 0;
    FILE *f = fopen(file, "r");

    if (f != NULL) {
        if (fscanf(f, "%d", &port) != 1)
            port = 0;
        fclose(f);
    }
    return port;
}

int main(int argc, char **argv)
{
    hitlq_options o = { .host = "127.0.0.1", .name = "bench-specialist", .timeout_ms = 30000 };
    int n = 16, depth = 1, secs = 3, port = 0, opt, rc;
    bool async_mode;

    if (argc < 2 || (strcmp(argv[1], "async") != 0 && strcmp(argv[1], "blocking") != 0)) {
        fprintf(stderr, "usage: bench_async async|blocking (-p PORT | -P PORTFILE) "
                        "[-c CONNS] [-d DEPTH (async)] [-t SECONDS] [-q QUEUE]\n");
        return 2;
    }
    async_mode = strcmp(argv[1], "async") == 0;
    optind = 2;
    while ((opt = getopt(argc, argv, "p:P:c:d:t:q:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'P': port = read_port(optarg); break;
        case 'c': n = atoi(optarg); break;
        case 'd': depth = atoi(optarg); break;
        case 't': secs = atoi(optarg); break;
        case 'q': queue_name = optarg; break;
        default: return 2;
        }
    }
    if (port <= 0 || port > 65535 || n < 1 || n > MAX_CONNS || secs < 1 || secs > 600 ||
        depth < 1 || depth > 64 || (!async_mode && depth != 1)) {
        fprintf(stderr, "bench_async: bad port, -c (1..%d), -d (1..64, async only) or -t "
                "(1..600)\n", MAX_CONNS);
        return 2;
    }
    o.port = (uint16_t)port;
    rc = async_mode ? run_async(&o, n, depth, secs) : run_blocking(&o, n, secs);
    if (rc != 0)
        return rc;
    printf("bench: %s claim+resolve cycles/s = %.0f (%d specialists x %d in flight, %d s, "
           "%lu errors%s)\n", argv[1], (double)atomic_load(&cycles) / secs, n, depth, secs,
           atomic_load(&errors),
           atomic_load(&empties) ? ", EMPTY: queue ran out" : "");
    return atomic_load(&errors) ? 1 : 0;
}
