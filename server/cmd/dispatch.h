/*
 * dispatch.h - opcode -> command table.  Each command has a schema (checked
 * by the dispatcher before the handler runs: state gating, MessagePack
 * validation, strict field decoding) and a proceed function that only acts.
 */
#ifndef HITLQ_DISPATCH_H
#define HITLQ_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <msgpack.h>

#include "frame.h"
#include "wire.h"

struct conn;

struct cmd {
    const char              *name;
    uint8_t                  opcode;
    const struct wire_field *schema;
    size_t                   n_schema;
    /* args[i] is the value for schema[i] or NULL (borrowed from the frame:
     * valid only during the call; copy what must outlive it). */
    void (*proceed)(struct conn *c, const struct frame_hdr *h,
                    const msgpack_object **args);
};

#define CMD_MAX_FIELDS 8

/* The commands, defined in cmd_*.c. */
extern const struct cmd cmd_hello, cmd_ping, cmd_auth, cmd_submit, cmd_get, cmd_stats,
    cmd_claim, cmd_extend, cmd_release, cmd_resolve, cmd_escalate, cmd_watch,
    cmd_audit_checkpoint, cmd_audit_entries, cmd_audit_prove, cmd_audit_consistency,
    cmd_reload, cmd_key_add, cmd_key_list, cmd_key_revoke;
extern const struct cmd cmd_drift_inputs;           /* cmd_drift.c */
extern const struct cmd cmd_drift_review;           /* cmd_review.c */
extern const struct cmd cmd_get_by_key, cmd_list, cmd_claim_id, cmd_comment,
    cmd_reopen, cmd_amend;                          /* cmd_work.c */

/* Looks up an opcode; NULL when unknown. */
const struct cmd *dispatch_lookup(uint8_t opcode);

/* Handles one complete frame of connection c (body borrowed). */
void dispatch_frame(struct conn *c, const struct frame_hdr *h, const uint8_t *body);

#endif
