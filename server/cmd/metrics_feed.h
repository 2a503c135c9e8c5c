/*
 * metrics_feed.h - feeds the lease, escalation and verdict metrics of
 * server/cmd/metrics_reg.h from the item events the store journals (its
 * journal observer, store.h), counted only once the batch is durable, and
 * sets the per-queue gauges at scrape time.
 */
#ifndef HITLQ_METRICS_FEED_H
#define HITLQ_METRICS_FEED_H

#include <lmdb.h>

struct hitlq_server;
struct metrics_feed;

/* Creates the feed of srv (srv->store and srv->m set) and registers it as
 * the store's journal observer.  NULL when out of memory.  Start-up only,
 * before the commit thread. */
struct metrics_feed *metrics_feed_new(struct hitlq_server *srv);
/* Unregisters and frees (NULL is a no-op); after the commit thread stopped. */
void metrics_feed_free(struct metrics_feed *f);

/* Commit thread.  reset: forgets what the events of an uncommitted
 * transaction staged (a batch begins, or its transaction was aborted or
 * failed to commit).  apply: the batch's transaction is durable: the
 * staged updates go to the metrics, then are forgotten. */
void metrics_feed_reset(struct metrics_feed *f);
void metrics_feed_apply(struct metrics_feed *f);

/* Loop thread, scrape time: hitlq_queue_items{queue,state},
 * hitlq_queue_oldest_ready_timestamp_seconds{queue} (0: none ready) and
 * hitlq_leases_active{queue} from the store in read txn txn. */
void metrics_feed_queues(struct hitlq_server *srv, MDB_txn *txn);

#endif
