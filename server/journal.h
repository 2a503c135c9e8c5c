/*
 * journal.h - the single place where item events become durable: history
 * entries (hist db) and result-stream entries (results db), written in the
 * caller's write transaction.
 *
 * hist db:    key id BE64 + seq BE32 (seq = index of the value's first
 *             event), value = one or more msgpack maps {at_ms, event,
 *             actor, ...details} concatenated.  The item header's hist_n
 *             is the total number of events, so GET packs
 *             array(hist_n) followed by the values in key order.
 * results db: key seq BE64, value = the RESULT body of PROTOCOL.md §4.11.
 * meta "next_seq": BE64, the seq the next result gets (absent = 1).
 */
#ifndef HITLQ_JOURNAL_H
#define HITLQ_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "store.h"

enum journal_kind {
    JOURNAL_SUBMITTED,
    JOURNAL_SCORED,          /* score, model */
    JOURNAL_AUTO_RESOLVED,   /* action; appends a result */
    JOURNAL_QUEUED,          /* queue, priority, deadline_ms */
    JOURNAL_CLAIMED,         /* worker, expires_ms */
    JOURNAL_EXTENDED,        /* expires_ms */
    JOURNAL_RELEASED,        /* delay_ms */
    JOURNAL_EXPIRED,         /* attempts */
    JOURNAL_DEAD_LETTERED,   /* queue */
    JOURNAL_ESCALATED,       /* from, to, note */
    JOURNAL_RESOLVED         /* outcome, note, root_cause; appends a result */
};

/* One event.  Only the details of its kind are read; strings borrowed,
 * note/root_cause may be NULL (packed as nil in history, left out of the
 * RESULT body). */
struct journal_ev {
    enum journal_kind kind;
    const char *actor;
    double      score;
    const char *model, *action, *queue, *worker, *from, *to;
    const char *note, *root_cause, *outcome;
    uint32_t    priority, attempts;
    uint64_t    deadline_ms, expires_ms, delay_ms;
};

/* The item the events belong to.  *hist_n is the item's event counter:
 * read, and advanced by the number of events written (the caller stores
 * it back in the item header in the same txn). */
struct journal_item {
    uint64_t    id;
    const char *key, *type, *model;   /* borrowed */
    double      score;
    uint32_t   *hist_n;
};

/* Appends events ev[0..n) (n >= 1) for item `it` at time at_ms.  For
 * JOURNAL_AUTO_RESOLVED / JOURNAL_RESOLVED also appends the result-stream
 * entry and stores its seq in *result_seq (else *result_seq is 0).
 * Returns HITLQ_ST_OK, HITLQ_ST_RESOURCE_EXHAUSTED or HITLQ_ST_INTERNAL
 * (the caller must then abort the txn). */
int journal_record(struct store *s, MDB_txn *txn, const struct journal_item *it,
                   uint64_t at_ms, const struct journal_ev *ev, size_t n,
                   uint64_t *result_seq);

/* The seq the next result will get (1 for an empty stream). */
int journal_next_seq(struct store *s, MDB_txn *txn, uint64_t *seq);

#endif
