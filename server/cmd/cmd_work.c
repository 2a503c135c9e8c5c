/*
 * cmd_work.c - the specialists' work operations (PROTOCOL.md §4.15-4.20):
 * GET_BY_KEY and LIST, answered at once from a read transaction;
 * CLAIM_ID, which runs through CLAIM's op class (cmd_claim.c) so both
 * share the reply; COMMENT, REOPEN and AMEND, written through group
 * commit and answered after the durable commit like every write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "cmd.h"
#include "commit.h"
#include "conn.h"
#include "dispatch.h"
#include "op.h"
#include "score.h"
#include "server.h"
#include "util.h"
#include "wire.h"

/* ---- GET_BY_KEY and LIST ---------------------------------------------------- */

static void
get_by_key_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    struct hitlq_server *srv = c->srv;
    char key[HITLQ_MAX_NAME + 1];
    MDB_txn *txn = server_read_begin(srv);
    uint64_t id = 0;
    int st;

    if (txn == NULL) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INTERNAL, "read failed");
        return;
    }
    wire_copy_str(args[0], key, sizeof(key));
    st = queue_id_by_key(srv->store, txn, key, &id);
    server_read_end(srv);
    if (st != HITLQ_ST_OK) {
        conn_send_error(c, h->opcode, h->request_id, st,
                        st == HITLQ_ST_NOT_FOUND ? "no item with this key" : NULL);
        return;
    }
    get_reply(c, h, id);               /* GET's reply and checks */
}

static const struct wire_field get_by_key_schema[] = {
    { "key", WIRE_NAME, true, 0, 0 },
};

const struct cmd cmd_get_by_key = { "GET_BY_KEY", HITLQ_OP_GET_BY_KEY, get_by_key_schema, 1,
                                    get_by_key_proceed };

static void
list_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    struct hitlq_server *srv = c->srv;
    char queue[HITLQ_MAX_QUEUE_NAME + 1];
    MDB_txn *txn = server_read_begin(srv);
    size_t off;
    int st;

    if (txn == NULL) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INTERNAL, "read failed");
        return;
    }
    wire_copy_str(args[0], queue, sizeof(queue));
    off = wire_frame_begin(&srv->out);
    st = queue_list(srv->store, txn, queue, args[1] ? wire_u64(args[1]) : 0,
                    args[2] ? (uint32_t)wire_u64(args[2]) : QUEUE_LIST_DEFAULT,
                    util_now_ms(), &srv->pk);
    server_read_end(srv);
    if (st != HITLQ_ST_OK) {
        srv->out.size = off;           /* drop the partial body */
        conn_send_error(c, h->opcode, h->request_id, st, NULL);
        return;
    }
    reply_finish(c, off, h->opcode, HITLQ_ST_OK, h->request_id);
}

static const struct wire_field list_schema[] = {
    { "queue", WIRE_QNAME, true, 0, 0 },
    { "after", WIRE_UINT, false, 0, UINT64_MAX },
    { "limit", WIRE_UINT, false, 1, QUEUE_LIST_MAX },
};

const struct cmd cmd_list = { "LIST", HITLQ_OP_LIST, list_schema, 3, list_proceed };

/* ---- CLAIM_ID ---------------------------------------------------------------- */

/* CLAIM_ID's checks before the commit: the item exists, its type allows
 * claims by id, and the principal may claim from its queue (authz_claim,
 * as CLAIM).  The queue is re-checked in the transaction (CONFLICT if it
 * moved).  False after replying. */
static bool
claim_id_check(struct conn *c, const struct frame_hdr *h, uint64_t id,
               const msgpack_object *worker, char *queue, size_t cap)
{
    struct hitlq_server *srv = c->srv;
    char type[HITLQ_MAX_NAME + 1], err[HITLQ_MAX_NAME * 2 + 160];
    const struct type_policy *p;
    MDB_txn *txn = server_read_begin(srv);
    uint8_t state = 0;
    int st = txn ? queue_item_where(srv->store, txn, id, queue, type, cap, &state)
                 : HITLQ_ST_INTERNAL;

    if (txn != NULL)
        server_read_end(srv);
    if (st != HITLQ_ST_OK) {
        conn_send_error(c, h->opcode, h->request_id, st,
                        st == HITLQ_ST_NOT_FOUND ? "no item with this id" : NULL);
        return false;
    }
    if ((p = scoring_policy(srv->scoring, type)) == NULL || !p->claim_by_id) {
        snprintf(err, sizeof(err), "type \"%s\" does not allow claims by id "
                 "(policy key claim_by_id)", type);
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_FORBIDDEN, err);
        return false;
    }
    msgpack_object q = { .type = MSGPACK_OBJECT_STR,
                         .via.str = { (uint32_t)strlen(queue), queue } };
    msgpack_object_array qs = { 1, &q };
    if (queue[0] != '\0' && authz_claim(&c->auth, c->name, &qs, worker, err, sizeof(err)) != 0) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_FORBIDDEN, err);
        return false;
    }
    return true;
}

static void
claim_id_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    char queue[HITLQ_MAX_QUEUE_NAME + 1];
    uint64_t id = wire_u64(args[0]);
    struct op *op;

    if (!claim_id_check(c, h, id, args[2], queue, sizeof(queue)))
        return;
    if ((op = op_new(&claim_class, c, h->opcode, h->request_id)) == NULL) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INTERNAL, "out of memory");
        return;
    }
    op->u.claim.by_id = id;
    memcpy(op->u.claim.in.queues[0], queue, sizeof(queue));
    op->u.claim.in.n_queues = 1;
    op->u.claim.in.lease_ms = args[1] ? (uint32_t)wire_u64(args[1]) : HITLQ_DEFAULT_LEASE_MS;
    if (args[2])
        wire_copy_str(args[2], op->u.claim.in.worker, sizeof(op->u.claim.in.worker));
    else
        memcpy(op->u.claim.in.worker, c->name, sizeof(c->name));
    commit_submit(c->srv->commit, op);
}

static const struct wire_field claim_id_schema[] = {
    { "id", WIRE_UINT, true, 1, UINT64_MAX },
    { "lease_ms", WIRE_UINT, false, 1000, HITLQ_MAX_LEASE_MS },
    { "worker", WIRE_NAME, false, 0, 0 },
};

const struct cmd cmd_claim_id = { "CLAIM_ID", HITLQ_OP_CLAIM_ID, claim_id_schema, 3,
                                  claim_id_proceed };

/* ---- COMMENT, REOPEN, AMEND -------------------------------------------------- */

static int
comment_apply(struct op *op, struct hitlq_server *srv, MDB_txn *txn,
              uint64_t now_ms, struct queue_fx *fx)
{
    (void)fx;
    op->u.work.seq = now_ms;           /* the reply's at_ms */
    return queue_comment(srv->store, txn, op->u.work.id, op->u.work.actor,
                         op->u.work.note, now_ms);
}

static int
reopen_apply(struct op *op, struct hitlq_server *srv, MDB_txn *txn,
             uint64_t now_ms, struct queue_fx *fx)
{
    char got[HITLQ_MAX_QUEUE_NAME + 1];
    int st = queue_reopen(srv->store, txn, op->u.work.id, op->u.work.actor, op->u.work.queue,
                          op->u.work.note, now_ms, got, &op->u.work.seq, fx, op->errmsg,
                          sizeof(op->errmsg));

    if (st == HITLQ_ST_OK)
        memcpy(op->u.work.queue, got, sizeof(got));
    return st;
}

static int
amend_apply(struct op *op, struct hitlq_server *srv, MDB_txn *txn,
            uint64_t now_ms, struct queue_fx *fx)
{
    return queue_amend(srv->store, txn, op->u.work.id, op->u.work.actor, op->u.work.outcome,
                       op->u.work.note,
                       op->u.work.root_cause[0] ? op->u.work.root_cause : NULL, now_ms,
                       &op->u.work.seq, fx, op->errmsg, sizeof(op->errmsg));
}

static void
work_finish(struct op *op, struct hitlq_server *srv)
{
    size_t off;

    if (op->status != HITLQ_ST_OK) {
        if (op->status == HITLQ_ST_NOT_FOUND && !op->errmsg[0])
            snprintf(op->errmsg, sizeof(op->errmsg), "no item with this id");
        reply_op_error(op);
    } else if (conn_is_open(op->conn)) {
        off = wire_frame_begin(&srv->out);
        if (op->opcode == HITLQ_OP_COMMENT) {
            msgpack_pack_map(&srv->pk, 1);
            wire_pack_kv_u64(&srv->pk, "at_ms", op->u.work.seq);
        } else if (op->opcode == HITLQ_OP_REOPEN) {
            msgpack_pack_map(&srv->pk, 2);
            wire_pack_kv_str(&srv->pk, "queue", op->u.work.queue);
            wire_pack_kv_str(&srv->pk, "state", "queued");
        } else {
            msgpack_pack_map(&srv->pk, 1);
            wire_pack_kv_u64(&srv->pk, "seq", op->u.work.seq);
        }
        reply_finish(op->conn, off, op->opcode, HITLQ_ST_OK, op->request_id);
    }
    op_done(op);
}

static void
work_clear(struct op *op)
{
    free(op->u.work.note);
}

static const struct op_class comment_class = { "comment", comment_apply, work_finish, work_clear };
static const struct op_class reopen_class = { "reopen", reopen_apply, work_finish, work_clear };
static const struct op_class amend_class = { "amend", amend_apply, work_finish, work_clear };

/* REOPEN and AMEND: role admin (or local), or a specialist whose
 * principal has the skill "senior".  False after replying forbidden. */
static bool
work_senior(struct conn *c, const struct frame_hdr *h)
{
    if (c->auth.role != AUTH_ROLE_SPECIALIST)
        return true;                   /* admin or local: the role table let it in */
    for (uint8_t i = 0; i < c->auth.n_skills; i++)
        if (strcmp(c->auth.skills[i], "senior") == 0)
            return true;
    conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_FORBIDDEN,
                    "only an admin or a specialist with the skill \"senior\" may "
                    "reopen or amend a decision");
    return false;
}

/* A work op on item args[0] with note args[1] (required, 1..4096 bytes). */
static struct op *
work_new(struct conn *c, const struct frame_hdr *h, const struct op_class *cls,
         const msgpack_object **args)
{
    const msgpack_object *note = args[1];
    struct op *op;

    if (note->via.str.size == 0) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_REQUEST,
                        "field \"note\": must not be empty");
        return NULL;
    }
    op = op_new(cls, c, h->opcode, h->request_id);
    if (op == NULL || (op->u.work.note = malloc(note->via.str.size + 1)) == NULL) {
        if (op != NULL)
            op_done(op);
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INTERNAL, "out of memory");
        return NULL;
    }
    wire_copy_str(note, op->u.work.note, note->via.str.size + 1);
    op->u.work.id = wire_u64(args[0]);
    snprintf(op->u.work.actor, sizeof(op->u.work.actor), "%s", c->name);
    return op;
}

static void
comment_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    struct op *op = work_new(c, h, &comment_class, args);

    if (op != NULL)
        commit_submit(c->srv->commit, op);
}

#define WORK_FIELDS \
    { "id", WIRE_UINT, true, 1, UINT64_MAX }, \
    { "note", WIRE_STR, true, 0, HITLQ_MAX_NOTE }

static const struct wire_field comment_schema[] = { WORK_FIELDS };

const struct cmd cmd_comment = { "COMMENT", HITLQ_OP_COMMENT, comment_schema, 2,
                                 comment_proceed };

static void
reopen_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    struct op *op;

    if (!work_senior(c, h) || (op = work_new(c, h, &reopen_class, args)) == NULL)
        return;
    if (args[2] != NULL)
        wire_copy_str(args[2], op->u.work.queue, sizeof(op->u.work.queue));
    commit_submit(c->srv->commit, op);
}

static const struct wire_field reopen_schema[] = {
    WORK_FIELDS, { "queue", WIRE_QNAME, false, 0, 0 },
};

const struct cmd cmd_reopen = { "REOPEN", HITLQ_OP_REOPEN, reopen_schema, 3, reopen_proceed };

static void
amend_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    struct op *op;
    uint8_t label;

    if (!work_senior(c, h) || !resolve_outcome_ok(c, h, args[0], args[2], &label) ||
        (op = work_new(c, h, &amend_class, args)) == NULL)
        return;
    wire_copy_str(args[2], op->u.work.outcome, sizeof(op->u.work.outcome));
    if (args[3] != NULL)
        wire_copy_str(args[3], op->u.work.root_cause, sizeof(op->u.work.root_cause));
    commit_submit(c->srv->commit, op);
}

static const struct wire_field amend_schema[] = {
    WORK_FIELDS,
    { "outcome", WIRE_NAME, true, 0, 0 },
    { "root_cause", WIRE_NAME, false, 0, 0 },
};

const struct cmd cmd_amend = { "AMEND", HITLQ_OP_AMEND, amend_schema, 4, amend_proceed };
