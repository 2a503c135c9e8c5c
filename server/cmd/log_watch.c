/*
 * log_watch.c - the rate-limited and periodic log events of hitlqd
 * (log_watch.h): lease_expired / dead_lettered summaries and the
 * storage_near_full / storage_below events, on one 1 s timer, which also
 * writes the tails of the network layer's summaries (net_log.h).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <lmdb.h>

#include "hitlq_proto.h"
#include "log.h"
#include "log_watch.h"
#include "net_log.h"
#include "server.h"
#include "store.h"
#include "store_map.h"
#include "util.h"

#define WATCH_INTERVAL_MS 1000
#define WATCH_HYSTERESIS  2        /* points under a threshold before "below" */

static const int watch_thresholds[] = { 80, 90 };

/* One rate-limited summary: the limiter plus the example of the latest. */
struct watch_sum {
    struct log_limit lim;
    uint64_t         id;
    char             queue[HITLQ_MAX_QUEUE_NAME + 1];
};

struct log_watch {
    struct hitlq_server *srv;
    struct event        *ev;
    struct watch_sum     expired, dead;
    int                  level;        /* thresholds crossed: 0, 1 (80 %) or 2 (90 %) */
};

static uint64_t
watch_now(void)
{
    return util_mono_ns() / 1000000u + 1;      /* never 0 (log_limit's "never") */
}

static void
watch_line_expired(struct log_watch *w, uint64_t count)
{
    log_event(LOG_LVL_WARN, "lease_expired", "leases expired (rate-limited summary)",
              LOG_UINT("count", count), LOG_UINT("example_id", w->expired.id),
              LOG_STR("example_queue", w->expired.queue));
}

static void
watch_line_dead(struct log_watch *w, uint64_t count)
{
    log_event(LOG_LVL_WARN, "dead_lettered", "items moved to the dead-letter queue",
              LOG_UINT("count", count), LOG_UINT("example_id", w->dead.id),
              LOG_STR("example_from", w->dead.queue),
              LOG_STR("queue", w->srv->cfg->dead_letter_queue));
}

/* Counts n occurrences; returns how many the line to write now covers. */
static uint64_t
watch_sum_add(struct watch_sum *s, uint32_t n, uint64_t id, const char *queue)
{
    uint64_t covered;

    s->id = id;
    snprintf(s->queue, sizeof(s->queue), "%s", queue ? queue : "");
    pthread_mutex_lock(&s->lim.mu);
    s->lim.pending += n - 1;                    /* log_limit_hit adds the last one */
    pthread_mutex_unlock(&s->lim.mu);
    covered = log_limit_hit(&s->lim, watch_now(), WATCH_INTERVAL_MS);
    return covered;
}

void
log_watch_expired(struct log_watch *w, uint32_t n, uint64_t id, const char *queue)
{
    uint64_t covered;

    if (w == NULL || n == 0)
        return;
    if ((covered = watch_sum_add(&w->expired, n, id, queue)) > 0)
        watch_line_expired(w, covered);
}

void
log_watch_dead_lettered(struct log_watch *w, uint32_t n, uint64_t id, const char *from,
                        const char *to)
{
    uint64_t covered;

    (void)to;
    if (w == NULL || n == 0)
        return;
    if ((covered = watch_sum_add(&w->dead, n, id, from)) > 0)
        watch_line_dead(w, covered);
}

/* Pages on the free list (the sum of its entries' page counts). */
static size_t
watch_free_pages(MDB_txn *txn)
{
    MDB_cursor *cur;
    MDB_val k, d;
    size_t n = 0;

    if (mdb_cursor_open(txn, 0, &cur) != 0)
        return 0;
    while (mdb_cursor_get(cur, &k, &d, MDB_NEXT) == 0)
        if (d.mv_size >= sizeof(size_t))
            n += *(const size_t *)d.mv_data;
    mdb_cursor_close(cur);
    return n;
}

int
log_watch_storage_pct(struct hitlq_server *srv)
{
    struct store_map_use mu;
    MDB_txn *txn;
    uint64_t freeb;
    bool ok;

    if ((txn = server_read_begin(srv)) == NULL)
        return -1;
    ok = store_map_use(srv->store, &mu);   /* of the ceiling: the map grows to it */
    freeb = (uint64_t)watch_free_pages(txn) * srv->store->map_psize;
    server_read_end(srv);
    if (!ok || mu.max == 0)
        return -1;
    return (int)((mu.used > freeb ? mu.used - freeb : 0) * 100 / mu.max);
}

static void
watch_storage(struct log_watch *w)
{
    int pct = log_watch_storage_pct(w->srv), level = w->level;

    if (pct < 0)
        return;
    while (level < 2 && pct >= watch_thresholds[level])
        level++;
    while (level > 0 && pct < watch_thresholds[level - 1] - WATCH_HYSTERESIS)
        level--;
    if (level > w->level)
        log_event(LOG_LVL_WARN, "storage_near_full", "storage use crossed a threshold",
                  LOG_INT("threshold_pct", watch_thresholds[level - 1]), LOG_INT("use_pct", pct),
                  LOG_UINT("map_size_max_mb", config_map_max_mb(w->srv->cfg)));
    else if (level < w->level)
        log_event(LOG_LVL_INFO, "storage_below", "storage use dropped back under a threshold",
                  LOG_INT("threshold_pct", watch_thresholds[level]), LOG_INT("use_pct", pct),
                  LOG_UINT("map_size_max_mb", config_map_max_mb(w->srv->cfg)));
    w->level = level;
}

static void
watch_flush(struct log_watch *w)
{
    uint64_t now = watch_now(), n;

    if ((n = log_limit_flush(&w->expired.lim, now, WATCH_INTERVAL_MS)) > 0)
        watch_line_expired(w, n);
    if ((n = log_limit_flush(&w->dead.lim, now, WATCH_INTERVAL_MS)) > 0)
        watch_line_dead(w, n);
}

static void
watch_on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct log_watch *w = arg;

    (void)fd;
    (void)what;
    watch_flush(w);
    net_log_flush(&w->srv->net.log, false);    /* preauth_evicted / _closed tails */
    if (!w->srv->stopping)
        watch_storage(w);
}

struct log_watch *
log_watch_new(struct hitlq_server *srv)
{
    struct log_watch *w = calloc(1, sizeof(*w));
    struct timeval tv = { WATCH_INTERVAL_MS / 1000, 0 };

    if (w == NULL)
        return NULL;
    w->srv = srv;
    pthread_mutex_init(&w->expired.lim.mu, NULL);
    pthread_mutex_init(&w->dead.lim.mu, NULL);
    w->ev = event_new(srv->base, -1, EV_PERSIST, watch_on_timer, w);
    if (w->ev == NULL || event_add(w->ev, &tv) != 0) {
        log_watch_free(w);
        return NULL;
    }
    return w;
}

void
log_watch_free(struct log_watch *w)
{
    if (w == NULL)
        return;
    watch_flush(w);
    pthread_mutex_lock(&w->expired.lim.mu);
    w->expired.lim.last_ms = 0;
    pthread_mutex_unlock(&w->expired.lim.mu);
    pthread_mutex_lock(&w->dead.lim.mu);
    w->dead.lim.last_ms = 0;
    pthread_mutex_unlock(&w->dead.lim.mu);
    watch_flush(w);                 /* what the interval still held back */
    if (w->ev)
        event_free(w->ev);
    pthread_mutex_destroy(&w->expired.lim.mu);
    pthread_mutex_destroy(&w->dead.lim.mu);
    free(w);
}
