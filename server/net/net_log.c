/*
 * net_log.c - the network layer's rate-limited summary events (net_log.h):
 * "preauth_evicted" and "preauth_closed", one line a second at most each,
 * with the count since the previous line; one line per connection only at
 * debug level (a hostile peer makes thousands a second).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "net_log.h"
#include "util.h"

#define NET_LOG_INTERVAL_MS 1000

static uint64_t
net_log_now(void)
{
    return util_mono_ns() / 1000000u + 1;      /* never 0 (log_limit's "never") */
}

static void
net_log_line_evicted(const struct net_sum *s, uint64_t count)
{
    log_event(LOG_LVL_WARN, "preauth_evicted",
              "closed the oldest silent unauthenticated connection for a new one",
              LOG_UINT("count", count), LOG_STR("example_peer", s->peer),
              LOG_STR("budget", s->what));
}

static void
net_log_line_closed(const struct net_sum *s, uint64_t count)
{
    log_event(LOG_LVL_INFO, "preauth_closed",
              "closed unauthenticated connections after a fatal error",
              LOG_UINT("count", count), LOG_STR("example_peer", s->peer),
              LOG_STR("status", s->what), LOG_STR("reason", s->reason));
}

void
net_log_init(struct net_log *l)
{
    memset(l, 0, sizeof(*l));
    pthread_mutex_init(&l->evicted.lim.mu, NULL);
    pthread_mutex_init(&l->closed.lim.mu, NULL);
    l->ready = true;
}

/* The occurrences of s still owed a line: those of the current interval
 * too when final. */
static uint64_t
net_log_owed(struct net_sum *s, bool final)
{
    if (final) {
        pthread_mutex_lock(&s->lim.mu);
        s->lim.last_ms = 0;                  /* the interval no longer holds back */
        pthread_mutex_unlock(&s->lim.mu);
    }
    return log_limit_flush(&s->lim, net_log_now(), NET_LOG_INTERVAL_MS);
}

void
net_log_flush(struct net_log *l, bool final)
{
    uint64_t n;

    if (!l->ready)
        return;
    if ((n = net_log_owed(&l->evicted, final)) > 0)
        net_log_line_evicted(&l->evicted, n);
    if ((n = net_log_owed(&l->closed, final)) > 0)
        net_log_line_closed(&l->closed, n);
    if (final) {
        pthread_mutex_destroy(&l->evicted.lim.mu);
        pthread_mutex_destroy(&l->closed.lim.mu);
        l->ready = false;
    }
}

void
net_log_evicted(struct net_log *l, const char *peer, const char *budget)
{
    uint64_t n;

    log_debug("conn %s: evicted (%s) for a new connection", peer, budget);
    snprintf(l->evicted.peer, sizeof(l->evicted.peer), "%s", peer);
    snprintf(l->evicted.what, sizeof(l->evicted.what), "%s", budget);
    if ((n = log_limit_hit(&l->evicted.lim, net_log_now(), NET_LOG_INTERVAL_MS)) > 0)
        net_log_line_evicted(&l->evicted, n);
}

void
net_log_preauth_closed(struct net_log *l, const char *peer, const char *status,
                       const char *reason)
{
    uint64_t n;

    log_sanitize(l->closed.reason, sizeof(l->closed.reason), reason, strlen(reason));
    log_debug("conn %s: closing after %s: %s", peer, status, l->closed.reason);
    snprintf(l->closed.peer, sizeof(l->closed.peer), "%s", peer);
    snprintf(l->closed.what, sizeof(l->closed.what), "%s", status);
    if ((n = log_limit_hit(&l->closed.lim, net_log_now(), NET_LOG_INTERVAL_MS)) > 0)
        net_log_line_closed(&l->closed, n);
}
