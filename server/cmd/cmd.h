/*
 * cmd.h - what the command files (cmd_*.c) offer the rest of the command
 * layer: the lease-expiry op, reply helpers, and SUBMIT's audit side.
 * (Their parked requests are reached through park.h, their handlers
 * through dispatch.h.)
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

/* cmd_lease.c: the internal op that expires due leases and delays; the
 * expiry timer (server.c) starts it.  Nothing while one is in flight or
 * the server is stopping. */
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
 * receipt in its reply, and receipt_finish: replies with the receipt's
 * proof, or parks the op until a checkpoint covers its entry. */
struct type_policy;
struct triage;
int  submit_audit_fill(struct hitlq_server *srv, struct op *op,
                       const struct type_policy *p, const struct triage *t);
void submit_pack_receipt(msgpack_packer *pk, const struct decision *d, const char *proof,
                         size_t proof_len);
void receipt_finish(struct op *op, struct hitlq_server *srv);

/* cmd_item.c: GET's reply for item id (a bot: only its own items), sent
 * at once from a read transaction; GET_BY_KEY uses it. */
void get_reply(struct conn *c, const struct frame_hdr *h, uint64_t id);

/* cmd_lease.c: true when outcome (a name) is a declared action of item
 * id's type (or the type has no policy / the item is unknown: the state
 * check decides); *label gets its review label.  False after replying
 * invalid_outcome with the declared actions.  RESOLVE and AMEND. */
bool resolve_outcome_ok(struct conn *c, const struct frame_hdr *h, const msgpack_object *id,
                        const msgpack_object *outcome, uint8_t *label);

/* cmd_claim.c: CLAIM's op class; CLAIM_ID (cmd_work.c) runs through it
 * with u.claim.by_id set, so both share the reply (exact reasons). */
extern const struct op_class claim_class;

#endif
