/*
 * cmd_claim.c - CLAIM: lease the best ready item, and park claims that
 * asked to wait (claim_parking, a kind of park.h).  A parked claim costs
 * one timer and a list entry; it is re-run only when a commit made items
 * ready on one of its queues (no polling), in the order the claims
 * parked, and answered `empty` when its wait runs out.  A woken claim
 * that comes back empty while the queue it was woken for still has a
 * ready item (a four-eyes item it may not review) passes its wake-up on
 * to the oldest parked claim of that queue the wake-up has not visited
 * (claim_pass_on): one claim at a time, each at most once per wake-up.
 */
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "claim_view.h"
#include "cmd.h"
#include "cmd_four_eyes.h"
#include "commit.h"
#include "conn.h"
#include "dispatch.h"
#include "explain.h"
#include "op.h"
#include "park.h"
#include "queue_ready.h"
#include "review_blind.h"
#include "server.h"
#include "util.h"
#include "wire.h"

extern const struct op_class claim_class;
extern const struct park_kind claim_parking;

/* The last wake-up chain handed out (claim_wake, claim_pass_on); loop
 * thread only.  Only its uniqueness matters. */
static uint64_t claim_chain_last;

/* The parked claims, oldest first. */
static struct park_list *
claim_waiters(struct hitlq_server *srv)
{
    return park_list(srv->park, &claim_parking);
}

static void
claim_stop_timer(struct op *op)
{
    if (op->u.claim.wait_ev) {
        event_free(op->u.claim.wait_ev);
        op->u.claim.wait_ev = NULL;
    }
}

static void
claim_reply_empty(struct op *op)
{
    struct hitlq_server *srv;
    size_t off;

    if (op->conn == NULL || !conn_is_open(op->conn))
        return;
    srv = op->conn->srv;
    off = wire_frame_begin(&srv->out);
    msgpack_pack_map(&srv->pk, 0);
    reply_finish(op->conn, off, op->opcode, HITLQ_ST_EMPTY, op->request_id);
}

static void
claim_on_wait_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct op *op = arg;

    (void)fd;
    (void)what;
    park_unlink(claim_waiters(op->conn->srv), &op->park);
    claim_stop_timer(op);
    claim_reply_empty(op);
    op_done(op);
}

static void
claim_park(struct hitlq_server *srv, struct op *op, uint64_t now)
{
    uint64_t d = op->u.claim.wait_until_ms - now;
    struct timeval tv = { (time_t)(d / 1000), (suseconds_t)((d % 1000) * 1000) };

    op->u.claim.wait_ev = evtimer_new(srv->base, claim_on_wait_timeout, op);
    if (op->u.claim.wait_ev == NULL) {
        claim_reply_empty(op);
        op_done(op);
        return;
    }
    evtimer_add(op->u.claim.wait_ev, &tv);
    park_append(claim_waiters(srv), &op->park, op->conn);
}

/* Returns the index of a woken queue this claim listens on with items
 * left to hand out, or -1. */
static int
claim_matches(const struct op *op, const struct queue_fx *fx, const uint32_t *left)
{
    for (size_t i = 0; i < fx->n_woken; i++) {
        if (left[i] == 0)
            continue;
        for (size_t q = 0; q < op->u.claim.in.n_queues; q++)
            if (strcmp(op->u.claim.in.queues[q], fx->woken[i]) == 0)
                return (int)i;
    }
    return -1;
}

/* 1 + the index of queue name q in op's queues, or 0. */
static uint8_t
claim_queue_slot(const struct op *op, const char *q)
{
    for (size_t i = 0; i < op->u.claim.in.n_queues; i++)
        if (strcmp(op->u.claim.in.queues[i], q) == 0)
            return (uint8_t)(i + 1);
    return 0;
}

/* Takes op off the parked list and re-runs it carrying wake-up chain
 * `chain` for its queue slot (0: woken for every queue). */
static void
claim_rerun(struct hitlq_server *srv, struct op *op, uint64_t chain, uint8_t slot)
{
    park_unlink(claim_waiters(srv), &op->park);
    claim_stop_timer(op);
    op->u.claim.wake_chain = chain;
    op->u.claim.wake_q = slot;
    commit_submit(srv->commit, op);
}

/* op, woken by chain for queue q, found only items it may not take while
 * q still had ready ones: the oldest parked claim on q that this chain
 * has not woken yet is re-run with it.  Each parked claim is visited at
 * most once per chain, so a wake-up makes at most one pass per waiter,
 * one at a time (each waits for the previous one's commit). */
static void
claim_pass_on(struct hitlq_server *srv, const struct op *op)
{
    const char *q = op->u.claim.in.queues[op->u.claim.wake_q - 1];

    for (struct park_entry *e = claim_waiters(srv)->head; e != NULL; e = e->next) {
        struct op *w = PARK_ENTRY_OF(e, struct op, park);
        uint8_t slot;

        if (w->u.claim.wake_chain == op->u.claim.wake_chain ||
            (slot = claim_queue_slot(w, q)) == 0)
            continue;
        claim_rerun(srv, w, op->u.claim.wake_chain, slot);
        return;
    }
}

/* After the batch's replies: re-runs, oldest first, the parked claims
 * that listen on a queue given ready items, as many per queue as it got
 * (all of them when too many queues were woken to list). */
static void
claim_wake(struct hitlq_server *srv, struct park_list *l, const struct park_news *news)
{
    const struct queue_fx *fx = news->fx;
    uint32_t left[HITLQ_MAX_CLAIM_QUEUES];
    struct park_entry *e, *next;

    if (fx->n_woken == 0 && !fx->wake_all)
        return;
    /* While stopping, the commit thread takes nothing new: parked claims
     * stay parked and are dropped at shutdown (park_drop_all). */
    if (srv->stopping)
        return;
    memcpy(left, fx->woken_count, sizeof(left));
    for (e = l->head; e; e = next) {
        struct op *op = PARK_ENTRY_OF(e, struct op, park);
        int i = 0;

        next = e->next;
        if (!fx->wake_all && (i = claim_matches(op, fx, left)) < 0)
            continue;
        if (!fx->wake_all)
            left[i]--;
        claim_rerun(srv, op, ++claim_chain_last,
                    fx->wake_all ? 0 : claim_queue_slot(op, fx->woken[i]));
    }
}

/* Connection closed, or shutdown: the claim goes unanswered. */
static void
claim_drop(struct park_entry *e)
{
    struct op *op = PARK_ENTRY_OF(e, struct op, park);

    claim_stop_timer(op);
    op_done(op);
}

static void
claim_cancel(struct hitlq_server *srv, struct park_entry *e)
{
    (void)srv;
    claim_drop(e);
}

const struct park_kind claim_parking = {
    .name = "claim", .phase = PARK_AFTER_REPLIES,
    .wake = claim_wake, .cancel = claim_cancel, .drop = claim_drop,
};

static int
claim_apply(struct op *op, struct hitlq_server *srv, MDB_txn *txn,
            uint64_t now_ms, struct queue_fx *fx)
{
    (void)fx;
    free(op->u.claim.out.reply_mp);
    memset(&op->u.claim.out, 0, sizeof(op->u.claim.out));
    int st;
    if (op->u.claim.by_id != 0)        /* CLAIM_ID (cmd_work.c) */
        st = queue_claim_id(srv->store, txn, op->u.claim.by_id, op->u.claim.in.queues[0],
                            &op->u.claim.in, now_ms, &op->u.claim.out, op->errmsg,
                            sizeof(op->errmsg));
    else
        st = queue_claim(srv->store, txn, &op->u.claim.in, now_ms, &op->u.claim.out);
    op->u.claim.blind = st == HITLQ_ST_OK ? four_eyes_claimed(srv, txn, op->u.claim.out.id) : 0;
    op->u.claim.wake_pass = false;
    if (st == HITLQ_ST_EMPTY && op->u.claim.wake_q != 0 &&
        queue_has_ready(srv->store, txn, op->u.claim.in.queues[op->u.claim.wake_q - 1],
                        &op->u.claim.wake_pass) != HITLQ_ST_OK)
        op->u.claim.wake_pass = false;   /* a read error: no pass, the claim stays correct */
    return st;
}

/* A four-eyes reviewer's reply, packed at off: without earlier verdicts
 * and, when the policy hides it, the model's output (review_blind.h).
 * Applied to the whole reply, the workstation fields included. */
static void
claim_blind(struct op *op, struct hitlq_server *srv, size_t off)
{
    unsigned what = ((op->u.claim.blind & FOUR_EYES_BLIND_VERDICTS) ? REVIEW_BLIND_VERDICTS : 0) |
                    ((op->u.claim.blind & FOUR_EYES_BLIND_MODEL) ? REVIEW_BLIND_MODEL : 0);

    review_blind_body(&srv->out, off + HITLQ_FRAME_HDR_LEN, what);
}

static void
claim_finish(struct op *op, struct hitlq_server *srv)
{
    uint64_t now = util_now_ms();
    size_t off;

    if (op->status == HITLQ_ST_EMPTY && op->u.claim.wake_pass && !srv->stopping)
        claim_pass_on(srv, op);
    op->u.claim.wake_q = 0;
    op->u.claim.wake_pass = false;
    if (op->status == HITLQ_ST_EMPTY && op->u.claim.wait_until_ms > now &&
        op->conn != NULL && conn_is_open(op->conn) && !srv->stopping) {
        claim_park(srv, op, now);
        return;
    }
    if (op->status == HITLQ_ST_EMPTY) {
        claim_reply_empty(op);
    } else if (op->status != HITLQ_ST_OK) {
        reply_op_error(op);
    } else if (conn_is_open(op->conn)) {
        uint8_t *ex = NULL;
        size_t exl = 0;

        /* exact reasons for the specialist (explain.review), computed here
         * rather than at SUBMIT */
        if (explain_summary(srv->scoring, op->u.claim.out.reply_mp, op->u.claim.out.reply_len,
                            0, &ex, &exl) == 1) {
            free(op->u.claim.out.reply_mp);
            op->u.claim.out.reply_mp = ex;
            op->u.claim.out.reply_len = exl;
        }
        off = wire_frame_begin(&srv->out);
        if (claim_view_pack(srv, op->u.claim.out.reply_mp, op->u.claim.out.reply_len,
                            &srv->pk) == HITLQ_ST_OK) {
            claim_blind(op, srv, off);
            reply_finish(op->conn, off, op->opcode, HITLQ_ST_OK, op->request_id);
        } else {
            srv->out.size = off;
            op->status = HITLQ_ST_INTERNAL;
            reply_op_error(op);
        }
    }
    op_done(op);
}

static void
claim_clear(struct op *op)
{
    free(op->u.claim.out.reply_mp);
    if (op->u.claim.wait_ev)
        event_free(op->u.claim.wait_ev);
}

const struct op_class claim_class = { "claim", claim_apply, claim_finish, claim_clear };

static void
claim_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    const msgpack_object_array *qs = &args[0]->via.array;
    char err[HITLQ_MAX_NAME + HITLQ_MAX_QUEUE_NAME + 96];
    struct op *op;

    if (qs->size == 0) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_REQUEST,
                        "field \"queues\": name at least one queue");
        return;
    }
    for (uint32_t i = 0; i < qs->size; i++) {
        const msgpack_object *q = &qs->ptr[i];
        if (q->type != MSGPACK_OBJECT_STR ||
            !wire_is_name(q->via.str.ptr, q->via.str.size, HITLQ_MAX_QUEUE_NAME)) {
            conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_REQUEST,
                            "field \"queues\": each entry must be a queue name");
            return;
        }
    }
    if (authz_claim(&c->auth, c->name, qs, args[3], err, sizeof(err)) != 0) {   /* skills, worker */
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_FORBIDDEN, err);
        return;
    }
    op = op_new(&claim_class, c, h->opcode, h->request_id);
    if (op == NULL) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INTERNAL, "out of memory");
        return;
    }
    for (uint32_t i = 0; i < qs->size; i++)
        wire_copy_str(&qs->ptr[i], op->u.claim.in.queues[i], sizeof(op->u.claim.in.queues[i]));
    op->u.claim.in.n_queues = qs->size;
    op->u.claim.in.lease_ms = args[1] ? (uint32_t)wire_u64(args[1]) : HITLQ_DEFAULT_LEASE_MS;
    if (args[3])
        wire_copy_str(args[3], op->u.claim.in.worker, sizeof(op->u.claim.in.worker));
    else
        memcpy(op->u.claim.in.worker, c->name, sizeof(c->name));
    if (args[2] && wire_u64(args[2]) > 0)
        op->u.claim.wait_until_ms = util_now_ms() + wire_u64(args[2]);
    commit_submit(c->srv->commit, op);
}

static const struct wire_field claim_schema[] = {
    { "queues", WIRE_ARRAY, true, 0, HITLQ_MAX_CLAIM_QUEUES },
    { "lease_ms", WIRE_UINT, false, 1000, HITLQ_MAX_LEASE_MS },
    { "wait_ms", WIRE_UINT, false, 0, HITLQ_MAX_WAIT_MS },
    { "worker", WIRE_NAME, false, 0, 0 },
};

const struct cmd cmd_claim = { "CLAIM", HITLQ_OP_CLAIM, claim_schema, 4, claim_proceed };
