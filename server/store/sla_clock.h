/*
 * sla_clock.h - an item's SLA clock and its escalation ladder, kept in
 * the `slaclk` database (one record per item whose queue declares an SLA
 * in the policy) and driven by the store's timers index (queue_expire.c,
 * timer kind QI_TIMER_SLA).  The clock starts when the item is queued,
 * pauses while the item waits on someone (RELEASE with waiting_on) and
 * resumes when it is ready again, and stops at the decision; the elapsed
 * budget is computed from the stored clock state, never from wall time
 * since submit.  Each ladder step runs once: `done` is durable and
 * advanced in the transaction that runs the step.
 *
 * Record (slaclk db, key id BE64), version SLA_REC_VERSION, big-endian:
 *   1 version, 1 flags (SLA_F_*), 1 done, 1 n_steps,
 *   8 budget_ms, 8 elapsed_ms (before since_ms), 8 since_ms (running: when
 *   the current run began), 8 due_ms (the armed timer; 0 = none),
 *   u8 len + waiting_on, then n_steps times: 1 level, 1 step flags,
 *   4 priority, u8 len + move_to.
 */
#ifndef HITLQ_SLA_CLOCK_H
#define HITLQ_SLA_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>
#include <msgpack.h>

#include "hitlq_proto.h"
#include "store.h"

#define SLA_REC_VERSION 1u
#define SLA_MAX_STEPS   3u          /* levels 50, 75, 100 */
#define SLA_REC_MAX     (4u + 32u + 1u + HITLQ_MAX_NAME + \
                         SLA_MAX_STEPS * (6u + 1u + HITLQ_MAX_QUEUE_NAME))
#define SLA_F_RUNNING   0x01u
#define SLA_F_STOPPED   0x02u       /* decided: never runs again */
#define SLA_STEP_RAISE  0x01u
#define SLA_STEP_NOTIFY 0x02u

struct sla_step {
    uint8_t  level;                 /* 50, 75, 100 (% of the budget) */
    uint8_t  flags;                 /* SLA_STEP_* */
    uint32_t priority;              /* SLA_STEP_RAISE: raise to at least this */
    char     move_to[HITLQ_MAX_QUEUE_NAME + 1];   /* "" = stay */
};

/* What the policy declared for the item's queue when it was queued: the
 * budget and the ladder (ascending levels; the last is always 100). */
struct sla_plan {
    uint64_t budget_ms;             /* 0 = no clock */
    uint8_t  n_steps;
    struct sla_step steps[SLA_MAX_STEPS];
};

struct sla_clock {
    struct sla_plan plan;
    uint8_t  flags;                 /* SLA_F_* */
    uint8_t  done;                  /* ladder steps run so far */
    uint64_t elapsed_ms, since_ms, due_ms;
    char     waiting_on[HITLQ_MAX_NAME + 1];
};

/* ---- pure arithmetic (unit-tested) ------------------------------------ */

/* Budget used at now_ms: elapsed_ms plus the running span (0 if now is
 * before since). */
uint64_t sla_elapsed(const struct sla_clock *c, uint64_t now_ms);
/* Budget share of a level: budget * level / 100 (rounded down). */
uint64_t sla_level_ms(uint64_t budget_ms, uint8_t level);
/* When the next step is due (wall ms) while running, else 0 (paused,
 * stopped, or every step done).  A step already due gives since_ms or
 * now-ish values <= now: the caller fires at once. */
uint64_t sla_next_due(const struct sla_clock *c);
/* Wall time the budget runs out while running from since_ms (may be in
 * the past); 0 while paused or stopped. */
uint64_t sla_breach_at(const struct sla_clock *c);
/* Record codec: encode returns the size written (<= SLA_REC_MAX); decode
 * returns 0 or -1 for a malformed record. */
size_t   sla_encode(const struct sla_clock *c, uint8_t *p);
int      sla_decode(const uint8_t *p, size_t len, struct sla_clock *c);

/* ---- the store's records (write txn on the commit thread) ------------ */

/* HITLQ_ST_OK, NOT_FOUND (no clock) or INTERNAL. */
int sla_clock_get(struct store *s, MDB_txn *txn, uint64_t id, struct sla_clock *c);
int sla_clock_put(struct store *s, MDB_txn *txn, uint64_t id, const struct sla_clock *c);
/* Moves the item's SLA timer to sla_next_due(c) (c->due_ms updated). */
int sla_clock_arm(struct store *s, MDB_txn *txn, uint64_t id, struct sla_clock *c);

/* Packs GET's key "sla" and its value: nil without a clock, else
 * {budget_ms, used_ms (at now_ms), running, waiting_on? (while paused by
 * RELEASE waiting_on), level (the last ladder step run: 0, 50, 75, 100),
 * breach_at_ms? (while running)}.  HITLQ_ST_OK or a storage status. */
int sla_clock_pack(struct store *s, MDB_txn *txn, uint64_t id, uint64_t now_ms,
                   msgpack_packer *pk);

#endif
