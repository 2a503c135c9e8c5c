/*
 * queue_review.h - the item moves of a four-eyes review (queue_review.c):
 * a verdict that does not close the item puts it back on its queue (or,
 * after a disagreement, escalates it in the name of hitlqd), and the
 * verdict that closes it resolves it like RESOLVE with the review's k of
 * n in its event.  Same conventions as queue.h: run in the caller's write
 * transaction, check everything before the first write, HITLQ_ST_*.
 */
#ifndef HITLQ_QUEUE_REVIEW_H
#define HITLQ_QUEUE_REVIEW_H

#include <stdint.h>

#include <lmdb.h>

#include "journal.h"
#include "queue.h"

/* The lease holder (worker name, HITLQ_MAX_NAME + 1 bytes) of item id
 * leased with `lease` at now_ms: NOT_FOUND, STALE_LEASE or OK. */
int queue_review_holder(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
                        uint64_t now_ms, char *worker);

/* A verdict that does not close item id: journals *verdict (kind
 * JOURNAL_VERDICT, its actor the lease holder) and makes the item ready
 * again on its queue; with escalate_to != NULL instead journals an
 * ESCALATED event by hitlqd (note esc_note) and moves the item there. */
int queue_review_verdict(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
                         const struct journal_ev *verdict, const char *escalate_to,
                         const char *esc_note, uint64_t now_ms, struct queue_fx *fx);

/* The verdict that closes item id: as queue_resolve, with *ev (kind
 * JOURNAL_RESOLVED, its review fields set) as the event; *seq gets the
 * result's seq. */
int queue_review_close(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
                       const struct journal_ev *ev, uint64_t now_ms, uint64_t *seq,
                       struct queue_fx *fx);

#endif
