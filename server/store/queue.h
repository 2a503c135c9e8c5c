/*
 * queue.h - the item state machine on LMDB: submit (with idempotency),
 * claim by cursor seek, leases, release, resolve, escalate, expiry, and the
 * reads behind GET, STATS and WATCH.
 *
 * Every write function runs inside a write transaction owned by the caller
 * (the commit thread) and takes the current time as a parameter, so tests
 * drive time by hand.  Functions return a HITLQ_ST_* status; any status
 * other than OK/EMPTY leaves the transaction unchanged *unless* it is
 * HITLQ_ST_INTERNAL or HITLQ_ST_RESOURCE_EXHAUSTED, after which the caller
 * must abort the whole transaction (LMDB marks it failed).
 * Nothing here keeps per-item state in memory.
 */
#ifndef HITLQ_QUEUE_H
#define HITLQ_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>
#include <msgpack.h>

#include "hitlq_proto.h"
#include "sla_clock.h"
#include "store.h"

enum decision_outcome { DECISION_AUTO = 1, DECISION_QUEUED = 2 };

/* A triage decision: made by the scoring core before the transaction,
 * made durable by queue_submit, and returned as-is for duplicates. */
struct decision {
    uint64_t id;                               /* set by queue_submit */
    uint8_t  outcome;                          /* enum decision_outcome */
    char     action[HITLQ_MAX_NAME + 1];       /* DECISION_AUTO: e.g. "approve" */
    char     queue[HITLQ_MAX_QUEUE_NAME + 1];  /* DECISION_QUEUED */
    uint32_t priority;
    uint64_t deadline_ms;                      /* queued: now + sla; set by queue_submit */
    uint64_t sla_ms;                           /* input: SLA length */
    struct sla_plan sla;                       /* input: the queue's SLA clock and
                                                * ladder (sla_clock.h; no budget = none) */
    double   score;
    char     model[HITLQ_MAX_NAME + 1];        /* "id@version" */
    uint8_t *reasons_mp;                       /* msgpack array of reason maps; owned (malloc) */
    size_t   reasons_len;
    uint64_t seq;                              /* auto: result-stream seq; set by queue_submit */
    uint64_t received_ms;                      /* when SUBMIT arrived: deadline base */
    /* For the audit log: the model-decision record, encoded on the loop
     * thread (audit_prepare) but for its index, time and item id. */
    uint8_t *audit_tail;                       /* owned (malloc), NULL when the log is off */
    size_t   audit_tail_len;
    uint8_t  audit_type;                       /* AUTO_DECISION or ESCALATION */
    uint8_t  audit_salt[32];                   /* of the input commitment */
    /* Triage (score_triage): route, explanation method, and for an
     * auto item drawn for the QA sample, where its blind copy goes. */
    uint8_t  route;                            /* enum hitlq_route (hitlq_proto.h) */
    uint8_t  method;                           /* enum hitlq_method (hitlq_proto.h) */
    bool     qa;
    char     qa_queue[HITLQ_MAX_QUEUE_NAME + 1];
    uint32_t qa_priority;
    uint64_t qa_sla_ms;
    uint64_t qa_id;                            /* set by queue_submit: the copy's id */
    /* Set by queue_submit when the audit log is on (also for duplicates). */
    bool     audited;
    uint64_t audit_index;                      /* the model decision's entry */
    uint8_t  leaf_hash[32];
};

/* Frees reasons_mp and clears it.  NULL-safe. */
void decision_clear(struct decision *d);

struct submit_in {
    const char    *key;          /* NUL-terminated name, borrowed */
    const char    *type;         /* NUL-terminated name, borrowed */
    const uint8_t *fields;       /* raw msgpack map bytes as received, borrowed */
    size_t         fields_len;
    uint8_t        content_hash[16]; /* BLAKE2b-128 of type, priority, fields */
    const char    *actor;        /* HELLO name of the submitter, borrowed;
                                  * NULL = "anonymous" (history actor) */
};

/* One SLA fact.  risk == 0: ladder step `level` (50, 75, 100) of item id
 * ran, the item went from -> to (equal when it stayed).  risk == +1/-1:
 * the item entered/left the at-risk level `level` (50, 75) on queue
 * `from` (hitlq_sla_items_at_risk). */
struct queue_sla_note {
    uint64_t id;
    uint8_t  level;
    int8_t   risk;
    char     from[HITLQ_MAX_QUEUE_NAME + 1], to[HITLQ_MAX_QUEUE_NAME + 1];
};

/* Side effects the event loop must act on after the commit. */
struct queue_fx {
    char     woken[HITLQ_MAX_CLAIM_QUEUES][HITLQ_MAX_QUEUE_NAME + 1];
    uint32_t woken_count[HITLQ_MAX_CLAIM_QUEUES]; /* items made ready per queue */
    size_t   n_woken;
    bool     wake_all;           /* more queues than fit above */
    bool     results;            /* result-stream entries were appended */
    /* lease expiries of the batch (queue_expire.c), for the log events */
    uint32_t expired, dead_lettered;
    uint64_t expired_id, dead_id;                 /* the last of each, as examples */
    char     expired_queue[HITLQ_MAX_QUEUE_NAME + 1];   /* queue of expired_id */
    char     dead_from[HITLQ_MAX_QUEUE_NAME + 1];       /* dead_id's queue before */
    /* SLA facts of this batch (sla_ladder.c) for the metrics and the log,
     * applied by the loop thread once the batch is durable
     * (server/cmd/sla_fx.c); malloc'd, freed by queue_fx_clear. */
    struct queue_sla_note *sla;
    size_t   n_sla, cap_sla;
};

/* Appends a copy of *n to fx (nothing when fx is NULL).  HITLQ_ST_OK, or
 * RESOURCE_EXHAUSTED when out of memory. */
int queue_fx_sla(struct queue_fx *fx, const struct queue_sla_note *n);
/* Frees fx's notes and zeroes the whole of *fx. */
void queue_fx_clear(struct queue_fx *fx);

/* Calls fn(arg, queue, level) for every undecided item whose SLA clock is
 * at risk (level 50 or 75: the last ladder step run, not yet breached),
 * read from the slaclk records (start-up: the at-risk gauge).
 * HITLQ_ST_OK or a storage status. */
typedef void (*queue_sla_risk_fn)(void *arg, const char *queue, uint8_t level);
int queue_sla_at_risk(struct store *s, MDB_txn *txn, queue_sla_risk_fn fn, void *arg);

/* Records that `n` items became ready on `queue` (used by queue.c). */
void queue_fx_wake(struct queue_fx *fx, const char *queue, uint32_t n);

/* SUBMIT.  New key: assigns the next id, stores the item, its idempotency
 * entry and history, and either appends the auto-resolution to the result
 * stream or puts the item on its queue with deadline now + d->sla_ms.
 * An auto item with d->qa also gets a blind QA copy (next id, key
 * "qa:<id>", no idempotency entry, no score, model or reasons shown; its
 * audit trailer points at the original's model decision, so the human
 * verdict on it is logged against what the model decided).
 * Known key with the same content_hash: fills *d with the ORIGINAL decision
 * (reasons_mp replaced by a malloc'd copy) and sets *duplicate.  Known key,
 * other hash: HITLQ_ST_CONFLICT. */
int queue_submit(struct store *s, MDB_txn *txn, const struct submit_in *in,
                 uint64_t now_ms, struct decision *d, bool *duplicate,
                 struct queue_fx *fx);

struct claim_in {
    char     queues[HITLQ_MAX_CLAIM_QUEUES][HITLQ_MAX_QUEUE_NAME + 1];
    size_t   n_queues;
    char     worker[HITLQ_MAX_NAME + 1];
    uint32_t lease_ms;
};

struct claim_out {
    uint64_t id;
    uint64_t lease;               /* random non-zero token */
    uint64_t expires_ms;
    /* The claimed item's GET-style summary (without history), packed as the
     * CLAIM reply body: {id, lease, expires_ms, queue, priority, deadline_ms,
     * attempts, key, type, fields, score, model, reasons}.  Owned (malloc). */
    uint8_t *reply_mp;
    size_t   reply_len;
};

/* CLAIM: takes the best ready item over the named queues (highest priority,
 * then earliest deadline, then lowest id) and leases it.  Returns
 * HITLQ_ST_OK or HITLQ_ST_EMPTY. */
int queue_claim(struct store *s, MDB_txn *txn, const struct claim_in *in,
                uint64_t now_ms, struct claim_out *out);

/* Lease operations: all check that the item exists (NOT_FOUND), is leased
 * with this token and not expired at now_ms (else ALREADY_RESOLVED,
 * LEASE_HELD, LEASE_EXPIRED or STALE_LEASE: qi_lease_check, queue_int.h). */
int queue_extend(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
                 uint32_t lease_ms /* 0 = same length as before */,
                 uint64_t now_ms, uint64_t *expires_ms);
int queue_release(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
                  uint32_t delay_ms, uint64_t now_ms, uint64_t *ready_ms,
                  struct queue_fx *fx);
/* RELEASE with waiting_on (a name; NULL or "" = none): as queue_release,
 * and while delayed the item's SLA clock is paused (sla_ladder.h); it
 * resumes when the item is ready again. */
int queue_release_waiting(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
                          uint32_t delay_ms, const char *waiting_on, uint64_t now_ms,
                          uint64_t *ready_ms, struct queue_fx *fx);
int queue_resolve(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
                  const char *outcome, const char *note /* may be NULL */,
                  const char *root_cause /* may be NULL */, uint64_t now_ms,
                  uint64_t *seq, struct queue_fx *fx);
int queue_escalate(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
                   const char *to_queue, const char *note /* may be NULL */,
                   uint64_t now_ms, struct queue_fx *fx);

/* Processes at most `max` timers due at or before now_ms: expired leases go
 * back to their queue with attempts + 1, or to `dead_letter` once attempts
 * reaches max_attempts; delayed items become ready.  *done = number
 * processed. */
int queue_expire_due(struct store *s, MDB_txn *txn, uint64_t now_ms,
                     uint32_t max_attempts, const char *dead_letter,
                     size_t max, size_t *done, struct queue_fx *fx);

/* Earliest due time in the timers index, or 0 when there is none.  Works in
 * a read or write txn. */
uint64_t queue_next_timer(struct store *s, MDB_txn *txn);

/* ---- reads (any txn) ---------------------------------------------------- */

/* Packs the GET reply body for item `id` (PROTOCOL.md §4.4) into pk.
 * Returns HITLQ_ST_OK or HITLQ_ST_NOT_FOUND (nothing packed). */
int queue_get(struct store *s, MDB_txn *txn, uint64_t id, msgpack_packer *pk);

/* Packs the STATS reply body (PROTOCOL.md §4.5). */
int queue_stats(struct store *s, MDB_txn *txn, uint64_t now_ms, msgpack_packer *pk);

/* Sequence number the next result will get (1 for an empty stream). */
uint64_t queue_results_next(struct store *s, MDB_txn *txn);

/* Calls fn(arg, seq, body, len) for results seq >= from, in order, at most
 * max of them; body is the RESULT frame body (msgpack map) borrowed from
 * LMDB (valid during the call).  Stops early when fn returns non-zero.
 * Returns the number delivered. */
size_t queue_results_read(struct store *s, MDB_txn *txn, uint64_t from,
                          size_t max,
                          int (*fn)(void *arg, uint64_t seq, const uint8_t *body, size_t len),
                          void *arg);

/* The audit trailer of item id's record: the index of its model-decision
 * entry and (if salt != NULL) the 32-byte input salt.  HITLQ_ST_NOT_FOUND
 * when the item is unknown or was stored without the audit log. */
int queue_audit_ref(struct store *s, MDB_txn *txn, uint64_t id, uint64_t *index,
                    uint8_t *salt);

/* The item type of item id into type[0..cap) (NUL-terminated): the item's
 * type never changes, so any read txn will do.  HITLQ_ST_NOT_FOUND when the
 * item is unknown, HITLQ_ST_INTERNAL when cap is too small. */
int queue_item_type(struct store *s, MDB_txn *txn, uint64_t id, char *type, size_t cap);

/* ---- the specialists' work operations (queue_work.c) ------------------- */

#define QUEUE_LIST_MAX     1000u     /* LIST limit ceiling */
#define QUEUE_LIST_DEFAULT 100u

/* The item with idempotency key `key` (NUL-terminated): *id.  The index
 * is global (SUBMIT's: one key, one item, whoever submitted it).
 * HITLQ_ST_OK, HITLQ_ST_NOT_FOUND or HITLQ_ST_INTERNAL. */
int queue_id_by_key(struct store *s, MDB_txn *txn, const char *key, uint64_t *id);

/* Where item id is: its current queue (cap bytes; "" when auto-resolved),
 * type (cap bytes) and state (enum hitlq_item_state).  HITLQ_ST_OK,
 * HITLQ_ST_NOT_FOUND or HITLQ_ST_INTERNAL. */
int queue_item_where(struct store *s, MDB_txn *txn, uint64_t id, char *queue,
                     char *type, size_t cap, uint8_t *state);

/* LIST: packs {items: [{id, priority, deadline_ms, age_ms, state,
 * attempts, type}], next?} for the open (queued, leased, delayed) items
 * of `queue` with id > after, in id order, at most limit (1..
 * QUEUE_LIST_MAX) of them; `next` (the last id packed) only when more
 * follow.  Reads at most limit + 1 index entries and limit records. */
int queue_list(struct store *s, MDB_txn *txn, const char *queue, uint64_t after,
               uint32_t limit, uint64_t now_ms, msgpack_packer *pk);

/* CLAIM_ID: leases item id to in->worker as CLAIM would (in->queues is
 * not read).  NOT_FOUND; INVALID_STATE (with the state in err) unless
 * queued; CONFLICT when it is no longer on `queue` (the queue the
 * caller's skills were checked against).  out as queue_claim's. */
int queue_claim_id(struct store *s, MDB_txn *txn, uint64_t id, const char *queue,
                   const struct claim_in *in, uint64_t now_ms, struct claim_out *out,
                   char *err, size_t errlen);

/* COMMENT: a "comment" event by actor with note on item id, any state.
 * NOT_FOUND or OK. */
int queue_comment(struct store *s, MDB_txn *txn, uint64_t id, const char *actor,
                  const char *note, uint64_t now_ms);

/* REOPEN: a resolved item goes back on `queue` (NULL or "": the queue it
 * was resolved from) with its priority and deadline; journals
 * "reopened" and a result with `reopens`.  *queue_out (HITLQ_MAX_QUEUE_NAME
 * + 1 bytes) gets the queue.  NOT_FOUND; INVALID_STATE (err says why)
 * when not resolved or auto-resolved without a queue named. */
int queue_reopen(struct store *s, MDB_txn *txn, uint64_t id, const char *actor,
                 const char *queue, const char *note, uint64_t now_ms, char *queue_out,
                 uint64_t *seq, struct queue_fx *fx, char *err, size_t errlen);

/* AMEND: a resolved item's outcome becomes `outcome` (the caller checked
 * it); journals "amended" and a result with `amends` = the previous
 * result's seq; *seq = the new result's.  NOT_FOUND; INVALID_STATE when
 * not resolved. */
int queue_amend(struct store *s, MDB_txn *txn, uint64_t id, const char *actor,
                const char *outcome, const char *note, const char *root_cause,
                uint64_t now_ms, uint64_t *seq, struct queue_fx *fx, char *err,
                size_t errlen);
/* Packs the notes of item id's history (queue_notes.c): an array of
 * {at_ms, event, actor, note}, one per stored event that carries a note
 * (escalated, resolved), oldest first, the last `max` of them.  Any txn.
 * HITLQ_ST_OK (an empty array for an unknown item), or a store status
 * after which what was packed must be discarded. */
int queue_notes_pack(struct store *s, MDB_txn *txn, uint64_t id, size_t max,
                     msgpack_packer *pk);

/* For the message of a refused lease operation on item id (queue_lease.c):
 * the lease holder and its expiry while leased, else the last holder and
 * 0.  HITLQ_ST_OK, NOT_FOUND or INTERNAL. */
int queue_lease_holder(struct store *s, MDB_txn *txn, uint64_t id, char *worker,
                       size_t cap, uint64_t *expires_ms);

/* Packs the notes of item id's history (queue_notes.c): an array of
 * {at_ms, event, actor, note}, one per stored event that carries a note
 * (escalated, resolved), oldest first, the last `max` of them.  Any txn.
 * HITLQ_ST_OK (an empty array for an unknown item), or a store status
 * after which what was packed must be discarded. */
int queue_notes_pack(struct store *s, MDB_txn *txn, uint64_t id, size_t max,
                     msgpack_packer *pk);

/* For the message of a refused lease operation on item id (queue_lease.c):
 * the lease holder and its expiry while leased, else the last holder and
 * 0.  HITLQ_ST_OK, NOT_FOUND or INTERNAL. */
int queue_lease_holder(struct store *s, MDB_txn *txn, uint64_t id, char *worker,
                       size_t cap, uint64_t *expires_ms);

#endif
