/*
 * cmd_four_eyes.h - the four-eyes review in the commands (issue 13 §3):
 * SUBMIT stores an item's reviewer set when its type's policy requires N
 * verdicts (four_eyes.h decides on the loop thread), RESOLVE on such an
 * item records one verdict at a time until N agree, ESCALATE excludes the
 * escalator, and CLAIM learns what to hide from the reviewer
 * (review_blind.h).  The state lives in the store (review_set.h), so it
 * survives a restart.  Reviewer identity is the lease holder (the
 * authenticated principal with auth on; the HELLO or CLAIM worker name
 * without it) and the RESOLVE sender's principal.
 */
#ifndef HITLQ_CMD_FOUR_EYES_H
#define HITLQ_CMD_FOUR_EYES_H

#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include "hitlq_proto.h"

struct hitlq_server;
struct op;
struct queue_fx;

#define FOUR_EYES_BLIND_VERDICTS 0x01u   /* drop earlier verdicts from the reply */
#define FOUR_EYES_BLIND_MODEL    0x02u   /* drop score, recommendation, reasons, route */

/* Commit thread, after a new SUBMIT was stored: the item's reviewer set
 * when op->u.submit.fe says it needs N verdicts.  HITLQ_ST_*. */
int four_eyes_submit(struct hitlq_server *srv, MDB_txn *txn, struct op *op);

/* Commit thread, RESOLVE (op->u.lease): *handled = false when the item
 * has no reviewer set (the caller resolves as usual).  Else records the
 * verdict: REVIEWER_CONFLICT (nothing written) when the lease holder or
 * the sender already gave a verdict on, escalated or decided the item;
 * otherwise the item goes back to its queue, or closes when N verdicts
 * agree (one result), or after a disagreement gets one more reviewer or
 * is escalated by hitlqd.  op->u.lease.seq gets the result's seq (0 when
 * the item did not close). */
int four_eyes_resolve(struct op *op, struct hitlq_server *srv, MDB_txn *txn,
                      uint64_t now_ms, struct queue_fx *fx, bool *handled);

/* Commit thread, ESCALATE (op->u.lease), before queue_escalate: the lease
 * holder's name into holder (HITLQ_MAX_NAME + 1 bytes, "" when none), and
 * LIMIT_EXCEEDED when the item's excluded list is full.  No writes. */
int four_eyes_pre_escalate(struct op *op, struct hitlq_server *srv, MDB_txn *txn,
                           uint64_t now_ms, char *holder);
/* After a successful ESCALATE: excludes holder and the sender from the
 * item's review (no-op without a reviewer set). */
int four_eyes_escalated(struct op *op, struct hitlq_server *srv, MDB_txn *txn,
                        const char *holder);

/* After CLAIM leased item id (commit thread), or for GET of item id (loop
 * thread, read txn): FOUR_EYES_BLIND_* flags for its reply (0 for an item
 * without a reviewer set, or one escalated after a disagreement: its
 * senior reviewer sees everything). */
uint8_t four_eyes_claimed(struct hitlq_server *srv, MDB_txn *txn, uint64_t id);

/* Loop thread, at start: a warning on the log for each item type whose
 * policy declares four_eyes while authentication is off (a reviewer is
 * then whoever the HELLO name says).  Returns how many types. */
size_t four_eyes_warn_auth(struct hitlq_server *srv);

#endif
