/*
 * cmd_review.h - the live AI-vs-human review (DRIFT_REVIEW, cmd_review.c):
 * the loop thread notes each SUBMIT's review facts (review_observe) and
 * each RESOLVE's verdict label (review_label); the commit thread adds them
 * to the `review` database (server/store/review_store.h) in the decision's
 * own transaction (review_submit at SUBMIT, review_verdict at RESOLVE and
 * ESCALATE).  Windows are those of drift_window_s, by the time of the
 * model decision.
 */
#ifndef HITLQ_CMD_REVIEW_H
#define HITLQ_CMD_REVIEW_H

#include <stdint.h>

#include <lmdb.h>
#include <msgpack.h>

#include "review_store.h"

struct decision;
struct hitlq_server;
struct triage;
struct type_policy;

/* One SUBMIT's facts for the review, made on the loop thread. */
struct review_obs {
    uint8_t rec;        /* recommendation label or REVIEW_LABEL_NONE */
    uint8_t act;        /* auto items: the action's label */
    uint8_t scored;     /* 1: bin is meaningful */
    uint8_t bin;        /* score bin 0..REVIEW_BINS-1 */
};

/* The confusion label of action `name` for type p: 0 the auto action, 1
 * the reject action, 2.. the other declared actions in policy order;
 * REVIEW_LABEL_NONE for "" or a name that is none of them (or beyond
 * REVIEW_LABELS). */
uint8_t review_label(const struct type_policy *p, const char *name);

/* Loop thread: the review facts of a triaged item (t) with decision d. */
void review_observe(const struct type_policy *p, const struct triage *t,
                    const struct decision *d, struct review_obs *o);

/* Commit thread, a new (non-duplicate) SUBMIT of `type` decided as d:
 * counts it in its window and keeps the facts of its queued item or blind
 * QA copy for the verdict.  HITLQ_ST_*. */
int review_submit(struct hitlq_server *srv, MDB_txn *txn, const char *type,
                  const struct review_obs *o, const struct decision *d, uint64_t now_ms);

/* Commit thread, a verdict on item id: RESOLVE with the outcome's label
 * (escalated_to NULL), or ESCALATE to queue escalated_to (not
 * comparable; the item then waits there).  Items without review facts
 * (submitted before the review existed) are not counted.  HITLQ_ST_*. */
int review_verdict(struct hitlq_server *srv, MDB_txn *txn, uint64_t id, uint8_t label,
                   const char *escalated_to);

/* Commit thread, a four-eyes verdict on item id that did not close it:
 * counted like review_verdict's RESOLVE (each verdict is one comparison
 * with the model), the item's facts kept for the next one.  HITLQ_ST_*. */
int review_verdict_more(struct hitlq_server *srv, MDB_txn *txn, uint64_t id, uint8_t label);

/* Loop thread: DRIFT_REVIEW's reply body for type p over windows
 * starting in [from, to), packed with pk (also the live dashboard's,
 * server/cmd/dash_api.c).  HITLQ_ST_*; on error pk may hold a partial
 * body. */
int review_pack(struct hitlq_server *srv, MDB_txn *txn, const struct type_policy *p,
                uint64_t from, uint64_t to, msgpack_packer *pk);

#endif
