/*
 * cmd_lease.c - the lease holder's operations (EXTEND, RELEASE, RESOLVE,
 * ESCALATE) and the internal op that expires due leases and delays when
 * the server's timer fires.  RESOLVE's outcome is checked against the
 * item type's declared actions (its root cause and ESCALATE's queue in
 * lease_check.c) before anything is queued; a refused lease says why
 * (lease_refused).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_four_eyes.h"
#include "commit.h"
#include "conn.h"
#include "dispatch.h"
#include "lease_check.h"
#include "log.h"
#include "log_watch.h"
#include "op.h"
#include "score.h"
#include "server.h"
#include "util.h"
#include "wire.h"

/* Commit thread: after a refused lease check, says in op->errmsg what
 * happened (PROTOCOL.md "Lease rules"); the transaction is unchanged, so
 * the item read is the one the check saw.  Returns st. */
static int
lease_refused(struct op *op, struct hitlq_server *srv, MDB_txn *txn, int st)
{
    char who[HITLQ_MAX_NAME + 1];
    unsigned long long id = (unsigned long long)op->u.lease.id;
    uint64_t exp = 0;

    if (st == HITLQ_ST_LEASE_HELD &&
        queue_lease_holder(srv->store, txn, op->u.lease.id, who, sizeof(who), &exp) == 0)
        snprintf(op->errmsg, sizeof(op->errmsg),
                 "item %llu is leased by \"%s\" until %llu (unix ms)", id, who,
                 (unsigned long long)exp);
    else if (st == HITLQ_ST_LEASE_EXPIRED)
        snprintf(op->errmsg, sizeof(op->errmsg),
                 "the lease on item %llu expired; claim it again", id);
    else if (st == HITLQ_ST_ALREADY_RESOLVED)
        snprintf(op->errmsg, sizeof(op->errmsg), "item %llu is already resolved", id);
    else if (st == HITLQ_ST_STALE_LEASE)
        snprintf(op->errmsg, sizeof(op->errmsg),
                 "item %llu is not leased with this token", id);
    return st;
}

static int
extend_apply(struct op *op, struct hitlq_server *srv, MDB_txn *txn,
             uint64_t now_ms, struct queue_fx *fx)
{
    (void)fx;
    return lease_refused(op, srv, txn,
                         queue_extend(srv->store, txn, op->u.lease.id, op->u.lease.lease,
                                      op->u.lease.ms, now_ms, &op->u.lease.t_ms));
}

static int
release_apply(struct op *op, struct hitlq_server *srv, MDB_txn *txn,
              uint64_t now_ms, struct queue_fx *fx)
{
    return lease_refused(op, srv, txn,
                         queue_release_waiting(srv->store, txn, op->u.lease.id,
                                               op->u.lease.lease, op->u.lease.ms,
                                               op->u.lease.name, now_ms,
                                               &op->u.lease.t_ms, fx));
}

static int
resolve_apply(struct op *op, struct hitlq_server *srv, MDB_txn *txn,
              uint64_t now_ms, struct queue_fx *fx)
{
    bool four_eyes;
    int st = four_eyes_resolve(op, srv, txn, now_ms, fx, &four_eyes);

    if (four_eyes || st != HITLQ_ST_OK)
        return st;
    st = queue_resolve(srv->store, txn, op->u.lease.id, op->u.lease.lease,
                       op->u.lease.name, op->u.lease.note,
                       op->u.lease.root_cause[0] ? op->u.lease.root_cause : NULL,
                       now_ms, &op->u.lease.seq, fx);
    return st == HITLQ_ST_OK ? review_verdict(srv, txn, op->u.lease.id, op->u.lease.label, NULL)
                             : lease_refused(op, srv, txn, st);
}

static int
escalate_apply(struct op *op, struct hitlq_server *srv, MDB_txn *txn,
               uint64_t now_ms, struct queue_fx *fx)
{
    char holder[HITLQ_MAX_NAME + 1];
    int st = four_eyes_pre_escalate(op, srv, txn, now_ms, holder);

    if (st == HITLQ_ST_OK)
        st = queue_escalate(srv->store, txn, op->u.lease.id, op->u.lease.lease,
                            op->u.lease.name, op->u.lease.note, now_ms, fx);
    if (st == HITLQ_ST_OK)
        st = four_eyes_escalated(op, srv, txn, holder);
    return st == HITLQ_ST_OK ? review_verdict(srv, txn, op->u.lease.id, REVIEW_LABEL_NONE,
                                              op->u.lease.name)
                             : lease_refused(op, srv, txn, st);
}

static void
lease_pack_body(struct op *op, msgpack_packer *pk)
{
    switch (op->opcode) {
    case HITLQ_OP_EXTEND:
        msgpack_pack_map(pk, 1);
        wire_pack_kv_u64(pk, "expires_ms", op->u.lease.t_ms);
        break;
    case HITLQ_OP_RELEASE:
        msgpack_pack_map(pk, 2);
        wire_pack_kv_str(pk, "state", op->u.lease.ms > 0 ? "delayed" : "queued");
        wire_pack_kv_u64(pk, "ready_ms", op->u.lease.t_ms);
        break;
    case HITLQ_OP_RESOLVE:
        msgpack_pack_map(pk, 1);
        wire_pack_kv_u64(pk, "seq", op->u.lease.seq);
        break;
    default:
        msgpack_pack_map(pk, 1);
        wire_pack_kv_str(pk, "queue", op->u.lease.name);
        break;
    }
}

static void
lease_finish(struct op *op, struct hitlq_server *srv)
{
    size_t off;

    if (op->status != HITLQ_ST_OK) {
        reply_op_error(op);
    } else if (conn_is_open(op->conn)) {
        off = wire_frame_begin(&srv->out);
        lease_pack_body(op, &srv->pk);
        reply_finish(op->conn, off, op->opcode, HITLQ_ST_OK, op->request_id);
    }
    op_done(op);
}

static void
lease_clear(struct op *op)
{
    free(op->u.lease.note);
}

static const struct op_class extend_class = { "extend", extend_apply, lease_finish, lease_clear };
static const struct op_class release_class = { "release", release_apply, lease_finish, lease_clear };
static const struct op_class resolve_class = { "resolve", resolve_apply, lease_finish, lease_clear };
static const struct op_class escalate_class = { "escalate", escalate_apply, lease_finish, lease_clear };

/* Common to the four: args[0] = id, args[1] = lease; `extra` is the name
 * argument (outcome / queue) or NULL, `note` a str or NULL; label the
 * RESOLVE outcome's review label (REVIEW_LABEL_NONE for the others). */
static void
lease_start(struct conn *c, const struct frame_hdr *h, const struct op_class *cls,
            const msgpack_object **args, uint32_t ms, const msgpack_object *extra,
            const msgpack_object *note, const msgpack_object *root_cause, uint8_t label)
{
    struct op *op = op_new(cls, c, h->opcode, h->request_id);

    if (op == NULL) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INTERNAL, "out of memory");
        return;
    }
    op->u.lease.id = wire_u64(args[0]);
    op->u.lease.lease = wire_u64(args[1]);
    op->u.lease.ms = ms;
    op->u.lease.label = label;
    memcpy(op->u.lease.who, c->name, sizeof(op->u.lease.who));
    if (extra)
        wire_copy_str(extra, op->u.lease.name, sizeof(op->u.lease.name));
    if (root_cause)
        wire_copy_str(root_cause, op->u.lease.root_cause, sizeof(op->u.lease.root_cause));
    if (note) {
        op->u.lease.note = malloc(note->via.str.size + 1);
        if (op->u.lease.note == NULL) {
            op->status = HITLQ_ST_INTERNAL;
            reply_op_error(op);
            op_done(op);
            return;
        }
        wire_copy_str(note, op->u.lease.note, note->via.str.size + 1);
    }
    commit_submit(c->srv->commit, op);
}

#define LEASE_FIELDS \
    { "id", WIRE_UINT, true, 1, UINT64_MAX }, \
    { "lease", WIRE_TOKEN, true, 1, UINT64_MAX }

static const struct wire_field extend_schema[] = {
    LEASE_FIELDS, { "lease_ms", WIRE_UINT, false, 1000, HITLQ_MAX_LEASE_MS },
};

static void
extend_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    lease_start(c, h, &extend_class, args, args[2] ? (uint32_t)wire_u64(args[2]) : 0,
                NULL, NULL, NULL, REVIEW_LABEL_NONE);
}

const struct cmd cmd_extend = { "EXTEND", HITLQ_OP_EXTEND, extend_schema, 3, extend_proceed };

static const struct wire_field release_schema[] = {
    LEASE_FIELDS, { "delay_ms", WIRE_UINT, false, 0, HITLQ_MAX_LEASE_MS },
    { "waiting_on", WIRE_NAME, false, 0, 0 },   /* pauses the SLA clock (sla_ladder.h) */
};

static void
release_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    uint32_t delay = args[2] ? (uint32_t)wire_u64(args[2]) : 0;

    if (args[3] != NULL && delay == 0) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_REQUEST,
                        "waiting_on needs delay_ms > 0 (the item waits while delayed)");
        return;
    }
    lease_start(c, h, &release_class, args, delay, args[3], NULL, NULL, REVIEW_LABEL_NONE);
}

const struct cmd cmd_release = { "RELEASE", HITLQ_OP_RELEASE, release_schema, 4, release_proceed };

static const struct wire_field resolve_schema[] = {
    LEASE_FIELDS,
    { "outcome", WIRE_NAME, true, 0, 0 },
    { "note", WIRE_STR, false, 0, HITLQ_MAX_NOTE },
    { "root_cause", WIRE_NAME, false, 0, 0 },
};

/* Appends ", name" (or, when *n == start, the first name) to buf[0..cap)
 * at *n. */
static void
outcome_list_add(char *buf, size_t cap, size_t start, size_t *n, const char *name)
{
    int w = snprintf(buf + *n, cap - *n, "%s%s", *n > start ? ", " : "", name);

    if (w > 0)
        *n = *n + (size_t)w < cap ? *n + (size_t)w : cap - 1;
}

/* RESOLVE's outcome must be one of the declared actions of the item's type
 * in the policy in force (score_outcome_declared); the item's type is read
 * from the store (it never changes).  Items of a type without a policy and
 * items not yet committed are not checked (the lease check decides).
 * *label gets the outcome's review label (cmd_review.h; NONE unchecked).
 * False after replying invalid_outcome: nothing is written. */
bool
resolve_outcome_ok(struct conn *c, const struct frame_hdr *h, const msgpack_object *id,
                   const msgpack_object *outcome, uint8_t *label)
{
    struct hitlq_server *srv = c->srv;
    char type[HITLQ_MAX_NAME + 1], oc[HITLQ_MAX_NAME + 1], msg[1024];
    const struct type_policy *p;
    MDB_txn *txn = server_read_begin(srv);
    size_t n = 0;
    int st;

    *label = REVIEW_LABEL_NONE;
    if (txn == NULL)
        return true;
    st = queue_item_type(srv->store, txn, wire_u64(id), type, sizeof(type));
    server_read_end(srv);
    wire_copy_str(outcome, oc, sizeof(oc));
    if (st != HITLQ_ST_OK || (p = scoring_policy(srv->scoring, type)) == NULL)
        return true;
    if (score_outcome_declared(p, oc)) {
        *label = review_label(p, oc);
        return true;
    }
    snprintf(msg, sizeof(msg), "outcome \"%s\" is not an action of type \"%s\" (declared: ",
             oc, type);
    size_t start = n = strlen(msg);
    outcome_list_add(msg, sizeof(msg), start, &n, p->auto_action);
    if (p->has_reject)
        outcome_list_add(msg, sizeof(msg), start, &n, p->reject_action);
    for (size_t i = 0; i < p->n_actions; i++)
        outcome_list_add(msg, sizeof(msg), start, &n, p->actions[i]);
    snprintf(msg + n, sizeof(msg) - n, ")");
    conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INVALID_OUTCOME, msg);
    return false;
}

static void
resolve_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    uint8_t label;

    if (resolve_outcome_ok(c, h, args[0], args[2], &label) &&
        lease_root_cause_ok(c, h, args[0], args[4]))
        lease_start(c, h, &resolve_class, args, 0, args[2], args[3], args[4], label);
}

const struct cmd cmd_resolve = { "RESOLVE", HITLQ_OP_RESOLVE, resolve_schema, 5, resolve_proceed };

static const struct wire_field escalate_schema[] = {
    LEASE_FIELDS,
    { "queue", WIRE_QNAME, true, 0, 0 },
    { "note", WIRE_STR, false, 0, HITLQ_MAX_NOTE },
};

static void
escalate_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    if (lease_queue_known(c, h, args[2]))
        lease_start(c, h, &escalate_class, args, 0, args[2], args[3], NULL, REVIEW_LABEL_NONE);
}

const struct cmd cmd_escalate = { "ESCALATE", HITLQ_OP_ESCALATE, escalate_schema, 4,
                                  escalate_proceed };

/* ---- lease expiry -------------------------------------------------------- */

#define EXPIRE_MAX_PER_BATCH 1024

/* SLA ladders run here too: their breaches and moves are noted in fx and
 * counted and logged once the batch is durable (server/cmd/sla_fx.c). */
static int
expire_apply(struct op *op, struct hitlq_server *srv, MDB_txn *txn,
             uint64_t now_ms, struct queue_fx *fx)
{
    uint32_t exp0 = fx->expired, dead0 = fx->dead_lettered;
    int st = queue_expire_due(srv->store, txn, now_ms, (uint32_t)srv->cfg->max_attempts,
                              srv->cfg->dead_letter_queue, EXPIRE_MAX_PER_BATCH,
                              &op->u.expire.done, fx);

    op->u.expire.expired = fx->expired - exp0;          /* this op's share of the batch */
    op->u.expire.dead = fx->dead_lettered - dead0;
    op->u.expire.expired_id = fx->expired_id;
    op->u.expire.dead_id = fx->dead_id;
    memcpy(op->u.expire.expired_queue, fx->expired_queue, sizeof(fx->expired_queue));
    memcpy(op->u.expire.dead_from, fx->dead_from, sizeof(fx->dead_from));
    return st;
}

static void
expire_finish(struct op *op, struct hitlq_server *srv)
{
    int status = op->status;

    /* On success the batch re-arms the timer from the timers index (due
     * entries left over fire at once); on failure retry in a second. */
    if (status != HITLQ_ST_OK) {
        log_event(LOG_LVL_ERROR, "commit_failed", "lease expiry not committed; retrying",
                  LOG_STR("op", "expire"), LOG_STR("status", hitlq_status_str(status)));
    } else {
        log_watch_expired(srv->log_watch, op->u.expire.expired, op->u.expire.expired_id,
                          op->u.expire.expired_queue);
        log_watch_dead_lettered(srv->log_watch, op->u.expire.dead, op->u.expire.dead_id,
                                op->u.expire.dead_from, srv->cfg->dead_letter_queue);
    }
    srv->expire_inflight = false;
    op_done(op);
    if (status != HITLQ_ST_OK)
        server_arm_timer(srv, util_now_ms() + 1000);
}

static const struct op_class expire_class = { "expire", expire_apply, expire_finish, NULL };

void
expire_start(struct hitlq_server *srv)
{
    struct op *op;

    if (srv->expire_inflight || srv->stopping)
        return;
    op = op_new(&expire_class, NULL, 0, 0);
    if (op == NULL) {
        server_arm_timer(srv, util_now_ms() + 1000);
        return;
    }
    srv->expire_inflight = true;
    commit_submit(srv->commit, op);
}
