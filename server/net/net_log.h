/*
 * net_log.h - the rate-limited summary events of the network layer: what
 * it does to connections in bulk (evictions for newcomers, closes of
 * unauthenticated connections after a fatal error) is logged at most once
 * a second per event, with the count and the latest case as example; the
 * tail of a burst is written by net_log_flush (server/cmd/log_watch.c's
 * 1 s timer, and at the end).  Loop thread only.
 */
#ifndef HITLQ_NET_LOG_H
#define HITLQ_NET_LOG_H

#include <stdbool.h>

#include "log.h"

/* One summary: its limiter and the latest occurrence's details. */
struct net_sum {
    struct log_limit lim;
    char             peer[64];      /* example_peer */
    char             what[40];      /* budget / status name */
    char             reason[120];   /* sanitized message ("" when none) */
};

struct net_log {
    bool           ready;           /* net_log_init ran */
    struct net_sum evicted;         /* "preauth_evicted" */
    struct net_sum closed;          /* "preauth_closed" */
};

/* Sets l up (empty summaries). */
void net_log_init(struct net_log *l);
/* Writes what is owed (all of it when final) and, when final, frees l's
 * locks.  A no-op on an l that net_log_init never set up. */
void net_log_flush(struct net_log *l, bool final);
/* A silent unauthenticated connection (peer) was closed for a newcomer
 * because of budget (the limit's name). */
void net_log_evicted(struct net_log *l, const char *peer, const char *budget);
/* An unauthenticated connection (peer) was closed after a fatal error:
 * status its name, reason the message sent (sanitized here). */
void net_log_preauth_closed(struct net_log *l, const char *peer, const char *status,
                            const char *reason);

#endif
