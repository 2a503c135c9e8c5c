/*
 * review_store.h - the live AI-vs-human review counts in LMDB: per (item
 * type, window start) one row of totals (decisions, the score histogram,
 * decisions and blind-QA verdicts per route, the confusion counts of the
 * model's recommendation against the human verdict) and up to
 * REVIEW_QUEUES_MAX rows of the same shape per queue (verdicts only; the
 * other queues share one "other" row), and per open item the facts its
 * verdict is counted against.  Written by the commit thread in the
 * transaction of the decisions they count; read by DRIFT_REVIEW
 * (server/cmd/cmd_review.c).  Windows are those of the model decision.
 *
 * Database `review`:
 *   key   type (NUL-terminated) || u64 BE window start ms || queue name
 *         (absent: the window's totals; "\x01": the "other" queues)
 *   value struct review_row, host byte order (the store is local)
 * Database `rvitems`:
 *   key   u64 BE item id (a queued item or a blind QA copy, until resolved)
 *   value struct review_item
 *
 * Functions run inside the caller's transaction and return HITLQ_ST_*
 * (store_status of an LMDB error; INTERNAL for a value of another shape).
 */
#ifndef HITLQ_REVIEW_STORE_H
#define HITLQ_REVIEW_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include "hitlq_proto.h"
#include "store.h"

#define REVIEW_VERSION     1u
#define REVIEW_LABELS      4u       /* confusion labels: auto, reject, 2 more actions */
#define REVIEW_LABEL_NONE  0xFFu    /* no recommendation / not an action */
#define REVIEW_ROUTES      8u       /* enum hitlq_route values 0..7 */
#define REVIEW_BINS        10u      /* score histogram: [b/10, (b+1)/10), last closed */
#define REVIEW_QUEUES_MAX  16u      /* queue rows per window; then "other" */
#define REVIEW_OTHER       "\x01"   /* the queue key of the "other" row */
#define REVIEW_ITEM_QA     0x01u    /* review_item.flags: a blind QA copy */
#define REVIEW_ITEM_SCORED 0x02u    /* review_item.flags: bin holds the model score's bin */

/* One row (v1): 224 bytes.  Queue rows use the verdict fields only. */
struct review_row {
    uint8_t  version;                       /* REVIEW_VERSION */
    uint8_t  n_queues;                      /* totals row: queue rows made */
    uint16_t reserved;
    uint32_t not_comparable;                /* verdicts without a comparable pair */
    uint64_t end_ms;                        /* window end */
    uint32_t decisions;                     /* model decisions (SUBMIT) */
    uint32_t scored;                        /* of them scored */
    uint32_t hist[REVIEW_BINS];             /* scored decisions by score */
    uint32_t route_n[REVIEW_ROUTES];        /* decisions by route */
    uint32_t qa_n[REVIEW_ROUTES];           /* QA verdicts by the original's route */
    uint32_t qa_wrong[REVIEW_ROUTES];       /* of them != the automated action */
    uint32_t conf[REVIEW_LABELS][REVIEW_LABELS];   /* [recommendation][verdict] */
};

/* What an open item's verdict is counted against (v1). */
struct review_item {
    uint8_t  version;
    uint8_t  rec;                           /* recommendation label or NONE */
    uint8_t  act;                           /* QA copy: the automated action's label */
    uint8_t  route;                         /* enum hitlq_route (the original's) */
    uint8_t  flags;                         /* REVIEW_ITEM_* */
    uint8_t  bin;                           /* score bin (REVIEW_ITEM_SCORED) */
    uint8_t  reserved[2];
    uint64_t start_ms;                      /* window of the model decision */
    uint64_t end_ms;
    char     type[HITLQ_MAX_NAME + 1];
    char     queue[HITLQ_MAX_QUEUE_NAME + 1];   /* where it waits now */
};

/* Adds the counters of delta to the row of (type, start_ms, queue) -
 * queue NULL: the totals row; a queue beyond the window's first
 * REVIEW_QUEUES_MAX goes to the "other" row.  A new row gets end_ms. */
int review_store_add(struct store *s, MDB_txn *txn, const char *type, uint64_t start_ms,
                     uint64_t end_ms, const char *queue, const struct review_row *delta);

/* Item records: put (insert or replace), get (HITLQ_ST_NOT_FOUND when
 * absent), delete (absent is OK). */
int review_item_put(struct store *s, MDB_txn *txn, uint64_t id, const struct review_item *it);
int review_item_get(struct store *s, MDB_txn *txn, uint64_t id, struct review_item *it);
int review_item_del(struct store *s, MDB_txn *txn, uint64_t id);

/* Calls fn for every row of `type` whose window start is in [from_ms,
 * to_ms), in key order: per window its totals row first, then its queue
 * rows (queue NULL for totals, REVIEW_OTHER for the other queues).  A
 * status other than OK from fn stops the scan and is returned. */
typedef int (*review_row_fn)(void *arg, uint64_t start_ms, const char *queue,
                             const struct review_row *row);
int review_store_scan(struct store *s, MDB_txn *txn, const char *type, uint64_t from_ms,
                      uint64_t to_ms, review_row_fn fn, void *arg);

/* dst += src, counter by counter (header fields untouched). */
void review_row_merge(struct review_row *dst, const struct review_row *src);

#endif
