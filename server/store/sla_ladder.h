/*
 * sla_ladder.h - the item side of the SLA clock (sla_clock.h): start it
 * when an item is queued, pause it while the item waits on someone,
 * resume it when the item is ready again, stop it at the decision, and
 * run the ladder's steps when its timer fires.  Store-internal: called by
 * queue.c, queue_lease.c and queue_expire.c inside their transaction.
 */
#ifndef HITLQ_SLA_LADDER_H
#define HITLQ_SLA_LADDER_H

#include "queue_int.h"
#include "sla_clock.h"

/* Starts item it's clock with plan (nothing when plan is NULL or has no
 * budget or no step): the clock began at it->h.deadline_ms - budget (the
 * SUBMIT's arrival), so the breach time is the item's deadline. */
int sla_start(struct store *s, MDB_txn *txn, const struct qi_item *it,
              const struct sla_plan *plan, uint64_t now_ms);
/* RELEASE with waiting_on: pauses item id's running clock at now_ms
 * (nothing without a clock or when stopped). */
int sla_pause(struct store *s, MDB_txn *txn, uint64_t id, const char *waiting_on,
              uint64_t now_ms);
/* The item becomes ready again: a paused clock resumes at now_ms and the
 * item's deadline (header, open/sla index; the caller then puts its
 * ready entry) moves to the new breach time. */
int sla_resume(struct store *s, MDB_txn *txn, struct qi_item *it, uint64_t now_ms);
/* The decision: the clock stops for good (its timer removed); an item at
 * risk on `queue` leaves that level (noted in fx). */
int sla_stop(struct store *s, MDB_txn *txn, uint64_t id, const char *queue, uint64_t now_ms,
             struct queue_fx *fx);
/* The at-risk level of a clock: the level (50, 75) of the last step run
 * while the clock is not stopped and has not breached, else 0. */
uint8_t sla_risk_level(const struct sla_clock *c);
/* Item id moves from queue `from` to `to` outside the ladder (ESCALATE,
 * dead letter, review escalation): an item at risk changes queue in the
 * at-risk figures (noted in fx). */
int sla_risk_move(struct store *s, MDB_txn *txn, uint64_t id, const char *from,
                  const char *to, struct queue_fx *fx);
/* A QI_TIMER_SLA timer of item id due at `due` (already removed from the
 * index): runs every step whose share of the budget has elapsed, each
 * once (raise priority, move, journal + audit, notify result; the step
 * and the at-risk changes noted in fx), then arms the next.  A stale timer or a decided item does nothing; an item on
 * `dead_letter` is never moved off it (the step is still journalled). */
int sla_fire(struct store *s, MDB_txn *txn, uint64_t due, uint64_t id, uint64_t now_ms,
             const char *dead_letter, struct queue_fx *fx);

#endif
