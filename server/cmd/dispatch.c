/*
 * dispatch.c - the command table and the checks that run before any
 * handler: request header sanity, HELLO gating, the allocation-free
 * MessagePack validator, the role x opcode authorization table (authz.c),
 * unpacking into the connection's zone, and strict schema decoding.
 * Handlers (cmd_*.c) only act.
 */
#include <stdio.h>

#include "authz.h"
#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "server.h"
#include "validate.h"
#include "wire.h"

static const struct cmd *const cmd_table[256] = {
    [HITLQ_OP_HELLO]    = &cmd_hello,
    [HITLQ_OP_PING]     = &cmd_ping,
    [HITLQ_OP_AUTH]     = &cmd_auth,
    [HITLQ_OP_SUBMIT]   = &cmd_submit,
    [HITLQ_OP_GET]      = &cmd_get,
    [HITLQ_OP_STATS]    = &cmd_stats,
    [HITLQ_OP_CLAIM]    = &cmd_claim,
    [HITLQ_OP_EXTEND]   = &cmd_extend,
    [HITLQ_OP_RELEASE]  = &cmd_release,
    [HITLQ_OP_RESOLVE]  = &cmd_resolve,
    [HITLQ_OP_ESCALATE] = &cmd_escalate,
    [HITLQ_OP_WATCH]    = &cmd_watch,
    [HITLQ_OP_AUDIT_CHECKPOINT]  = &cmd_audit_checkpoint,
    [HITLQ_OP_AUDIT_ENTRIES]     = &cmd_audit_entries,
    [HITLQ_OP_AUDIT_PROVE]       = &cmd_audit_prove,
    [HITLQ_OP_AUDIT_CONSISTENCY] = &cmd_audit_consistency,
    [HITLQ_OP_DRIFT_INPUTS]      = &cmd_drift_inputs,
    [HITLQ_OP_DRIFT_REVIEW]      = &cmd_drift_review,
    [HITLQ_OP_RELOAD]            = &cmd_reload,
    [HITLQ_OP_KEY_ADD]           = &cmd_key_add,
    [HITLQ_OP_KEY_LIST]          = &cmd_key_list,
    [HITLQ_OP_KEY_REVOKE]        = &cmd_key_revoke,
    [HITLQ_OP_GET_BY_KEY]        = &cmd_get_by_key,   /* cmd_work.c */
    [HITLQ_OP_LIST]              = &cmd_list,
    [HITLQ_OP_CLAIM_ID]          = &cmd_claim_id,
    [HITLQ_OP_COMMENT]           = &cmd_comment,
    [HITLQ_OP_REOPEN]            = &cmd_reopen,
    [HITLQ_OP_AMEND]             = &cmd_amend,
};

const struct cmd *
dispatch_lookup(uint8_t opcode)
{
    return cmd_table[opcode];
}

void
dispatch_frame(struct conn *c, const struct frame_hdr *h, const uint8_t *body)
{
    const struct cmd *cmd = cmd_table[h->opcode];
    const msgpack_object *args[CMD_MAX_FIELDS] = { 0 };
    msgpack_object root;
    char err[160];
    int st;

    if (h->status != 0) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_FRAME,
                        "status must be 0 in requests");
        return;
    }
    if (c->state == CONN_NEW && h->opcode != HITLQ_OP_HELLO) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_NEED_HELLO, NULL);
        return;
    }
    st = mp_validate(body, h->body_len, &mp_limits_default, err, sizeof(err));
    if (st != HITLQ_ST_OK) {
        conn_send_error(c, h->opcode, h->request_id, st, err);
        return;
    }
    if (cmd == NULL) {
        snprintf(err, sizeof(err), "unknown opcode 0x%02x", h->opcode);
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_UNKNOWN_OP, err);
        return;
    }
    if (!authz_allowed(c->auth.role, h->opcode)) {    /* the one authorization check */
        snprintf(err, sizeof(err), "role %s may not send %s", auth_role_name(c->auth.role),
                 cmd->name);
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_FORBIDDEN, err);
        return;
    }
    if (wire_unpack(body, h->body_len, &c->zone, &root) != HITLQ_ST_OK) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_MSGPACK,
                        "body could not be decoded");
        return;
    }
    st = wire_decode(&root, cmd->schema, cmd->n_schema, args, err, sizeof(err));
    if (st != HITLQ_ST_OK) {
        conn_send_error(c, h->opcode, h->request_id, st, err);
        return;
    }
    c->frame_body = body;
    c->frame_len = h->body_len;
    cmd->proceed(c, h, args);
    c->frame_body = NULL;
}
