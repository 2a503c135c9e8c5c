/*
 * queue_gauge.h - reads behind the metrics (server/cmd/metrics_feed.c):
 * per-queue figures from the maintained qstats counters and the open
 * index (scrape time), and the times an item's stored history gives for
 * its current stay (when it last became ready, when its lease began).
 */
#ifndef HITLQ_QUEUE_GAUGE_H
#define HITLQ_QUEUE_GAUGE_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "store.h"

/* Open items this far into a queue's open index are read at most to find
 * its oldest ready one (queue_gauges). */
#define QUEUE_GAUGE_SCAN 64u

/* One queue's figures: items ready, leased and delayed (the qstats
 * counters STATS shows), and the submit time (Unix ms) of its oldest
 * ready item (0 when none is ready).  When more than QUEUE_GAUGE_SCAN
 * older open items are leased or delayed, the oldest open item's submit
 * time stands in (older than the truth, never younger). */
struct queue_gauge {
    const char *queue;          /* NUL-terminated, borrowed for the call */
    uint64_t    ready, leased, delayed;
    uint64_t    oldest_ready_ms;
};

/* Calls fn(arg, g) for every queue that has (or had) items, in name
 * order.  Any txn.  HITLQ_ST_OK or a store status. */
int queue_gauges(struct store *s, MDB_txn *txn,
                 void (*fn)(void *arg, const struct queue_gauge *g), void *arg);

/* From item id's stored history (journal.h; the submit-time events are
 * not stored): *claimed_ms = at_ms of the latest "claimed" event, and
 * *ready_ms = when it last became ready again: the latest "released"
 * (at_ms + delay_ms), "expired", "escalated", "reopened", or "sla" move
 * to another queue; 0 when there is no such event (ready since submit).
 * Any txn.  HITLQ_ST_OK or a store status. */
int queue_hist_times(struct store *s, MDB_txn *txn, uint64_t id, uint64_t *claimed_ms,
                     uint64_t *ready_ms);

#endif
