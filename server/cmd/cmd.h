/*
 * cmd.h - what the command files (cmd_*.c) offer the rest of the server:
 * waiting CLAIMs, WATCH pushing, the lease-expiry op, and reply helpers.
 */
#ifndef HITLQ_CMD_H
#define HITLQ_CMD_H

#include <stdint.h>

#include <msgpack.h>

#include "frame.h"
#include "queue.h"

struct hitlq_server;
struct conn;
struct op;

/* cmd_claim.c: parked CLAIMs. */
void claim_cancel_waiters(struct hitlq_server *srv, struct conn *c);
void claim_wake(struct hitlq_server *srv, const struct queue_fx *fx);
void claim_free_all_waiters(struct hitlq_server *srv);

/* cmd_watch.c: pushes committed results to a watching connection until its
 * output buffer is half full. */
void watch_pump(struct hitlq_server *srv, struct conn *c);
void watch_pump_all(struct hitlq_server *srv);

/* cmd_lease.c: the internal op that expires due leases and delays. */
void expire_start(struct hitlq_server *srv);

/* cmd_session.c: sends a reply frame whose body is already packed in
 * srv->out after wire_frame_begin() returned off. */
void reply_finish(struct conn *c, size_t off, uint8_t opcode, uint16_t status,
                  uint32_t request_id);
/* Sends an op's error reply (status >= 100) with its errmsg, if any. */
void reply_op_error(struct op *op);

/* session_auth.c: drops the deferred refusals and closes still pending
 * (server shutdown). */
void session_later_free_all(struct hitlq_server *srv);

/* cmd_item.c: SUBMIT's reply (with a tlog-proof when proof != NULL), then
 * op_done. */
void submit_reply(struct op *op, struct hitlq_server *srv, const char *proof,
                  size_t proof_len);

/* cmd_audit.c: the audit fields of a SUBMIT decision (0 or -1), the
 * receipt in its reply, and receipts waiting for a checkpoint. */
struct type_policy;
struct triage;
int  submit_audit_fill(struct hitlq_server *srv, struct op *op,
                       const struct type_policy *p, const struct triage *t);
void submit_pack_receipt(msgpack_packer *pk, const struct decision *d, const char *proof,
                         size_t proof_len);
void receipt_finish(struct op *op, struct hitlq_server *srv);
void receipt_wake(struct hitlq_server *srv);
void receipt_free_all(struct hitlq_server *srv);

#endif
