/*
 * review_set.h - the durable four-eyes state of an item (database
 * `foureyes`, one record per item that needs N verdicts, written at SUBMIT
 * in the item's own transaction and deleted when the item closes): how
 * many verdicts it needs, the verdicts given so far (principal and
 * outcome), the principals excluded from reviewing it (verdict givers,
 * escalators) and what a disagreement does.  CLAIM skips items whose set
 * excludes the claimant (review_set_excludes_id); RESOLVE consults and
 * extends it (server/cmd/cmd_four_eyes.c).
 *
 * Value (version REVIEW_SET_VERSION), integers one byte each:
 *   version, need, max, flags (REVIEW_SET_*), n_verdicts, n_excluded,
 *   escalate_to (u8 len + bytes), n_verdicts x (principal, outcome) and
 *   n_excluded x principal, each a u8 len + bytes (no NUL).
 * Functions run in the caller's transaction and return HITLQ_ST_* (NOT_FOUND
 * when the item has no set; INTERNAL for a value of another shape).
 */
#ifndef HITLQ_REVIEW_SET_H
#define HITLQ_REVIEW_SET_H

#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include "hitlq_proto.h"
#include "store.h"

#define REVIEW_SET_VERSION      1u
#define REVIEW_SET_MAX_VERDICTS 5u
#define REVIEW_SET_MAX_EXCLUDED 16u
#define REVIEW_SET_HIDE         0x01u   /* reviewers do not see the recommendation */
#define REVIEW_SET_ESCALATE     0x02u   /* on disagreement: escalate (else add a reviewer) */
#define REVIEW_SET_ESCALATED    0x04u   /* the verdicts disagreed: the item waits at
                                         * escalate_to for one ordinary decision */

struct review_set {
    uint8_t need, max, flags, n_verdicts, n_excluded;
    char    escalate_to[HITLQ_MAX_QUEUE_NAME + 1];
    char    who[REVIEW_SET_MAX_VERDICTS][HITLQ_MAX_NAME + 1];
    char    outcome[REVIEW_SET_MAX_VERDICTS][HITLQ_MAX_NAME + 1];
    char    excluded[REVIEW_SET_MAX_EXCLUDED][HITLQ_MAX_NAME + 1];
};

int review_set_get(struct store *s, MDB_txn *txn, uint64_t id, struct review_set *rs);
int review_set_put(struct store *s, MDB_txn *txn, uint64_t id, const struct review_set *rs);
int review_set_del(struct store *s, MDB_txn *txn, uint64_t id);   /* absent is OK */

/* True when `who` gave a verdict on the item or is excluded from it. */
bool review_set_excludes(const struct review_set *rs, const char *who);
/* The same by item id: false when the item has no set.  *st gets the
 * lookup's status (OK also when absent). */
bool review_set_excludes_id(struct store *s, MDB_txn *txn, uint64_t id, const char *who,
                            int *st);
/* Adds who to the excluded principals (no-op when already excluded).
 * False when the list is full (REVIEW_SET_MAX_EXCLUDED). */
bool review_set_exclude(struct review_set *rs, const char *who);

#endif
