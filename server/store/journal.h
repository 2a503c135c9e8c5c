/*
 * journal.h - the single place where item events become durable: history
 * entries (hist db) and result-stream entries (results db), written in the
 * caller's write transaction together with the journal sink's entries
 * (store.h: the signed audit log's, when it is on).
 *
 * hist db:    key id BE64 + seq BE32 (seq = index of the value's first
 *             event), value = one or more msgpack maps {at_ms, event,
 *             actor, ...details, audit?} concatenated; `audit` is the index
 *             of the event's entry in the journal sink's log (human and
 *             system decisions, when a sink is registered), so an item's
 *             entries are found from its history without an index that
 *             every event would rewrite.  The item header's hist_n is the
 *             total number of events, so GET packs
 *             array(hist_n), the JOURNAL_SUBMIT_EVENTS submit-time events
 *             rebuilt from the item record, then the values in key order.
 *             The submit-time events (submitted, scored, queued |
 *             auto_resolved, seq 0..2) are journalled like any other but
 *             not stored here: everything they say is in the item's
 *             immutable body (item.h), so the first stored seq is 3.
 * results db: key seq BE64, value = the RESULT body of PROTOCOL.md §4.11.
 * meta "next_seq": BE64, the seq the next result gets (absent = 1).
 */
#ifndef HITLQ_JOURNAL_H
#define HITLQ_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>
#include <msgpack.h>

#include "hitlq_proto.h"

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
    JOURNAL_RESOLVED,        /* outcome, note, root_cause; appends a result */
    JOURNAL_COMMENTED,       /* note (COMMENT: no decision) */
    JOURNAL_REOPENED,        /* queue, note, ref; appends a result with
                              * `reopens` = prev_seq (REOPEN) */
    JOURNAL_AMENDED,         /* outcome, note, root_cause, ref; appends a
                              * result with `amends` = prev_seq (AMEND) */
    JOURNAL_VERDICT,         /* outcome, note, verdict k of n: one of a four-eyes
                              * item's verdicts that did not close it (no result) */
    JOURNAL_SLA              /* level, from, to, priority: an SLA ladder step by
                              * hitlqd (sla_ladder.c); with notify, a result
                              * with `event: "sla"` (PROTOCOL.md §4.11) */
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
    uint64_t    audit;          /* index of its audit-log entry; JOURNAL_NO_AUDIT
                                 * = none (packed as `audit` when set) */
    uint64_t    ref;            /* REOPENED / AMENDED: the audit entry of the
                                 * decision they act on (0 = the item's model
                                 * entry, as for every other event) */
    uint64_t    prev_seq;       /* REOPENED / AMENDED: the result they withdraw
                                 * or amend (its seq; 0 = none) */
    uint8_t     review_k, review_n;  /* four-eyes: verdict k of n (RESOLVED, VERDICT);
                                      * review_n = 0: not a four-eyes verdict */
    uint8_t     review_flags;   /* RECORD_REVIEW_FLAG_* (proto/record_ext.h) */
    bool        system;         /* decided by hitlqd itself (a four-eyes
                                 * disagreement's ESCALATED) */
    uint8_t     sla_level;      /* SLA: 50, 75 or 100 (% of the budget) */
    bool        notify;         /* SLA: also append an `event: "sla"` result */
    uint8_t     agreement;      /* out, set by the journal sink: the agreement
                                 * byte of the event's audit VERDICT (RECORD_AGREE_*,
                                 * proto/record_ext.h; NONE for events that are
                                 * not verdicts); JOURNAL_AGREE_UNKNOWN without
                                 * a sink.  What the store's observer sees. */
};

#define JOURNAL_NO_AUDIT UINT64_MAX
#define JOURNAL_AGREE_UNKNOWN 0xffu

/* SUBMIT's model-decision entry for the journal sink (store.h): the
 * record prepared before the transaction (struct decision's audit_tail,
 * queue.h), opaque bytes to the store, and what the sink reports back. */
struct journal_log_entry {
    uint64_t       id;                     /* the item */
    uint8_t        type;                   /* record type, from the preparer */
    const uint8_t *tail;                   /* borrowed */
    size_t         tail_len;
    /* out */
    bool           index_set;
    uint64_t       index;
    uint8_t        leaf_hash[32];
};

/* The item the events belong to.  *hist_n is the item's event counter:
 * read, and advanced by the number of events written (the caller stores
 * it back in the item header in the same txn). */
struct journal_item {
    uint64_t    id;
    const char *key, *type, *model;   /* borrowed */
    double      score;
    uint32_t   *hist_n;
    /* SUBMIT only: its log entry (in/out, borrowed); NULL for later
     * events, and when no entry was prepared (no sink). */
    struct journal_log_entry *log_entry;
    /* Later events: the item's model-decision entry (from its record);
     * audit_ref = JOURNAL_NO_AUDIT when it has none. */
    uint64_t    audit_ref;
    /* The item is a blind QA copy (queue.c): at SUBMIT it has no
     * model-decision entry of its own (its record points at the
     * original's); later events say so in their audit entry. */
    bool        qa_copy;
    /* The item was not scored (data-quality route, or a QA copy): its
     * RESULT carries score nil. */
    bool        unscored;
    /* For the store's observer (store.h): the queue the events happen on
     * (for an expiry that dead-letters, the queue it expired on; NULL when
     * not known) and when the item was submitted. */
    const char *queue;
    uint64_t    created_ms;
};

/* Appends events ev[0..n) (n >= 1) for item `it` at time at_ms: first
 * the journal sink's entries (store.h; none without a sink), then the
 * history, then the result.  For
 * JOURNAL_AUTO_RESOLVED / JOURNAL_RESOLVED also appends the result-stream
 * entry and stores its seq in *result_seq (else *result_seq is 0).
 * The submit-time kinds (SUBMITTED, SCORED, AUTO_RESOLVED, QUEUED) may
 * only come as the JOURNAL_SUBMIT_EVENTS first events of an item (from
 * journal_submit_events); they are counted in *hist_n but not stored.
 * Returns HITLQ_ST_OK, HITLQ_ST_RESOURCE_EXHAUSTED or HITLQ_ST_INTERNAL
 * (the caller must then abort the txn). */
int journal_record(struct store *s, MDB_txn *txn, const struct journal_item *it,
                   uint64_t at_ms, const struct journal_ev *ev, size_t n,
                   uint64_t *result_seq);

/* True for the submit-time kinds (SUBMITTED, SCORED, AUTO_RESOLVED,
 * QUEUED): implied by the item record, never stored in hist. */
bool journal_kind_implied(enum journal_kind k);

/* Every item's first events: submitted, scored, queued | auto_resolved. */
#define JOURNAL_SUBMIT_EVENTS 3u
#define JOURNAL_EV_MAX        4u     /* events per journal_record call */
#define JOURNAL_ACTOR_MAX     (HITLQ_MAX_NAME + 8u)   /* "model:" + model */

/* What the submit-time events say (all borrowed). */
struct journal_submit {
    const char *actor;        /* the submitter */
    const char *model;        /* "id@version" */
    double      score;        /* NaN: not scored (packed as nil) */
    bool        is_auto;
    const char *action;       /* is_auto */
    const char *queue;        /* !is_auto */
    uint32_t    priority;     /* !is_auto */
    uint64_t    deadline_ms;  /* !is_auto */
};

/* Fills ev[0..JOURNAL_SUBMIT_EVENTS) from in; model_actor (caller memory,
 * JOURNAL_ACTOR_MAX bytes) receives "model:<model>" and is borrowed by
 * ev.  Used by SUBMIT to journal them and by GET to rebuild them. */
void journal_submit_events(struct journal_ev *ev, char *model_actor,
                           const struct journal_submit *in);

/* Packs ev[0..n) as history maps {at_ms, event, actor, ...details,
 * audit?}.  Events built with journal_submit_events have no audit index. */
void journal_pack_events(msgpack_packer *pk, uint64_t at_ms,
                         const struct journal_ev *ev, size_t n);

/* The seq the next result will get (1 for an empty stream). */
int journal_next_seq(struct store *s, MDB_txn *txn, uint64_t *seq);

#endif
