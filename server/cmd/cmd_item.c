/*
 * cmd_item.c - SUBMIT (validate, score and decide on the loop thread,
 * store on the commit thread, reply after the commit), GET and STATS (read
 * transactions on the loop thread).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cmd.h"
#include "conn.h"
#include "dispatch.h"
#include "drift_commit.h"
#include "explain.h"
#include "cmd_four_eyes.h"
#include "log.h"
#include "metrics_reg.h"
#include "op.h"
#include "qa_copy.h"
#include "reasons.h"
#include "rollup.h"
#include "review_blind.h"
#include "score.h"
#include "server.h"
#include "commit.h"
#include "util.h"
#include "wire.h"

/* Fields: str keys of 1..HITLQ_MAX_NAME bytes, unique, scalar values. */
static int
submit_check_fields(const msgpack_object *f, char *err, size_t errlen)
{
    const msgpack_object_map *m = &f->via.map;

    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;

        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size == 0 ||
            k->via.str.size > HITLQ_MAX_NAME) {
            snprintf(err, errlen, "fields: keys must be strings of 1..%u bytes",
                     HITLQ_MAX_NAME);
            return HITLQ_ST_BAD_REQUEST;
        }
        for (uint32_t j = 0; j < i; j++) {
            const msgpack_object *k2 = &m->ptr[j].key;
            if (k2->via.str.size == k->via.str.size &&
                memcmp(k2->via.str.ptr, k->via.str.ptr, k->via.str.size) == 0) {
                snprintf(err, errlen, "fields: key \"%.*s\" appears twice",
                         (int)k->via.str.size, k->via.str.ptr);
                return HITLQ_ST_BAD_REQUEST;
            }
        }
        if (v->type == MSGPACK_OBJECT_ARRAY || v->type == MSGPACK_OBJECT_MAP ||
            v->type == MSGPACK_OBJECT_BIN || v->type == MSGPACK_OBJECT_EXT) {
            snprintf(err, errlen, "field \"%.*s\": values must be nil, bool, number or string",
                     (int)k->via.str.size, k->via.str.ptr);
            return HITLQ_ST_BAD_REQUEST;
        }
    }
    return HITLQ_ST_OK;
}

static void
submit_hash(struct op *op, uint64_t priority)
{
    crypto_generichash_state st;
    uint8_t pb[8];

    for (int i = 0; i < 8; i++)
        pb[i] = (uint8_t)(priority >> (56 - 8 * i));
    crypto_generichash_init(&st, NULL, 0, sizeof(op->u.submit.in.content_hash));
    crypto_generichash_update(&st, (const uint8_t *)op->u.submit.type,
                              strlen(op->u.submit.type) + 1);
    crypto_generichash_update(&st, pb, sizeof(pb));
    crypto_generichash_update(&st, op->u.submit.fields, op->u.submit.fields_len);
    crypto_generichash_final(&st, op->u.submit.in.content_hash,
                             sizeof(op->u.submit.in.content_hash));
}

static void
submit_decide(struct decision *d, const struct type_policy *p, const struct triage *t,
              const msgpack_object *prio)
{
    d->score = t->r.score;
    memcpy(d->model, p->model->id, sizeof(d->model));
    d->priority = prio ? (uint32_t)wire_u64(prio) : t->priority;
    d->sla_ms = t->sla_seconds * 1000u;
    d->route = t->route;
    d->method = t->r.method;
    if (t->is_auto) {
        d->outcome = DECISION_AUTO;
        snprintf(d->action, sizeof(d->action), "%s", t->action);
    } else {
        d->outcome = DECISION_QUEUED;
        snprintf(d->queue, sizeof(d->queue), "%s", t->queue);
    }
    d->qa = t->qa;
    if (t->qa) {
        memcpy(d->qa_queue, p->qa_queue, sizeof(d->qa_queue));
        d->qa_priority = p->qa_priority;
        d->qa_sla_ms = p->qa_sla_seconds * 1000u;
    }
}

/* The SLA clock of a queued item (sla_clock.h) from its queue's
 * declaration in the policy (score.h scoring_sla): the queue's
 * sla_seconds wins over the type's or band's (d->sla_ms follows, so the
 * deadline is the breach time); the ladder always ends with the breach
 * (level 100), declared or not.  Nothing for queues without one. */
static void
submit_sla(struct decision *d, const struct scoring *sc)
{
    const struct score_sla *q;
    struct sla_plan *pl = &d->sla;

    memset(pl, 0, sizeof(*pl));
    if (d->outcome != DECISION_QUEUED || (q = scoring_sla(sc, d->queue)) == NULL)
        return;
    if (q->sla_seconds != 0)
        d->sla_ms = q->sla_seconds * 1000u;
    pl->budget_ms = d->sla_ms;
    for (size_t i = 0; i < q->n_steps && i < SLA_MAX_STEPS; i++) {
        struct sla_step *st = &pl->steps[pl->n_steps++];

        st->level = q->steps[i].level;
        st->flags = (uint8_t)((q->steps[i].has_raise ? SLA_STEP_RAISE : 0) |
                              (q->steps[i].notify ? SLA_STEP_NOTIFY : 0));
        st->priority = q->steps[i].raise_priority;
        memcpy(st->move_to, q->steps[i].move_to, sizeof(st->move_to));
    }
    if (pl->n_steps == 0 || pl->steps[pl->n_steps - 1].level != 100)
        pl->steps[pl->n_steps++] = (struct sla_step){ .level = 100 };
}

extern const struct op_class submit_class;

/* Keeps the fields map exactly as received (the bytes the idempotency
 * hash covers and GET returns). */
static int
submit_copy_fields(struct conn *c, struct op *op)
{
    const uint8_t *raw;
    size_t n;

    if (!wire_body_raw(c->frame_body, c->frame_len, "fields", &raw, &n))
        return -1;
    op->u.submit.fields = malloc(n);
    if (op->u.submit.fields == NULL)
        return -1;
    memcpy(op->u.submit.fields, raw, n);
    op->u.submit.fields_len = n;
    return 0;
}

/* SUBMIT_RECEIPT_* of the optional `receipt` value; 0 when invalid. */
static uint8_t
submit_receipt_kind(const msgpack_object *o)
{
    if (o == NULL)
        return SUBMIT_RECEIPT_NONE;
    if (o->via.str.size == 5 && memcmp(o->via.str.ptr, "index", 5) == 0)
        return SUBMIT_RECEIPT_INDEX;
    if (o->via.str.size == 10 && memcmp(o->via.str.ptr, "checkpoint", 10) == 0)
        return SUBMIT_RECEIPT_CHECKPOINT;
    return 0;
}

/* Validates, triages and scores on the loop thread; NULL after replying
 * with an error.  *t is filled. */
static const struct type_policy *
submit_triage(struct conn *c, const struct frame_hdr *h, const msgpack_object **args,
              char *type, struct triage *t)
{
    const struct type_policy *p;
    char key[HITLQ_MAX_NAME + 1], err[200];
    uint64_t t0;
    int st;

    wire_copy_str(args[1], type, HITLQ_MAX_NAME + 1);
    wire_copy_str(args[0], key, sizeof(key));
    p = scoring_policy(c->srv->scoring, type);
    if (p == NULL) {
        metric_inc(metric_get1(c->srv->m->rejected, hitlq_status_str(HITLQ_ST_UNKNOWN_TYPE)));
        snprintf(err, sizeof(err), "no policy for item type \"%s\"", type);
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_UNKNOWN_TYPE, err);
        return NULL;
    }
    st = submit_check_fields(args[2], err, sizeof(err));
    t0 = util_mono_ns();
    if (st == HITLQ_ST_OK && (st = score_triage(p, key, args[2], t)) != HITLQ_ST_OK)
        snprintf(err, sizeof(err), "%s", t->r.err);
    else if (st == HITLQ_ST_OK)
        metric_observe(c->srv->m->score_s, (double)(util_mono_ns() - t0) / 1e9);
    if (st == HITLQ_ST_OK && args[4] != NULL && submit_receipt_kind(args[4]) == 0) {
        st = HITLQ_ST_BAD_REQUEST;
        snprintf(err, sizeof(err), "receipt must be \"index\" or \"checkpoint\"");
    }
    if (st != HITLQ_ST_OK) {
        metric_inc(metric_get1(c->srv->m->rejected, hitlq_status_str(st)));
        conn_send_error(c, h->opcode, h->request_id, st, err);
        return NULL;
    }
    return p;
}

static void
submit_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    struct hitlq_server *srv = c->srv;
    const struct type_policy *p;
    struct triage t;
    struct op *op;
    char type[HITLQ_MAX_NAME + 1];

    if ((p = submit_triage(c, h, args, type, &t)) == NULL)
        return;
    op = op_new(&submit_class, c, h->opcode, h->request_id);
    if (op == NULL) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INTERNAL, "out of memory");
        return;
    }
    wire_copy_str(args[0], op->u.submit.key, sizeof(op->u.submit.key));
    memcpy(op->u.submit.type, type, sizeof(type));
    submit_decide(&op->u.submit.d, p, &t, args[3]);
    submit_sla(&op->u.submit.d, srv->scoring);
    drift_observe(p, args[2], &op->u.submit.drift);
    review_observe(p, &t, &op->u.submit.d, &op->u.submit.review);
    four_eyes_need(p, op->u.submit.key, &t, &op->u.submit.fe);
    op->u.submit.d.received_ms = util_now_ms();
    op->u.submit.receipt = submit_receipt_kind(args[4]);
    if (submit_copy_fields(c, op) != 0 ||
        submit_audit_fill(srv, op, p, &t) != 0 ||
        reasons_pack(&t, args[2], op->u.submit.fields, op->u.submit.fields_len,
                     &op->u.submit.d.reasons_mp, &op->u.submit.d.reasons_len) != 0) {
        op->status = HITLQ_ST_INTERNAL;
        reply_op_error(op);
        op_done(op);
        return;
    }
    submit_hash(op, args[3] ? wire_u64(args[3]) : UINT64_MAX);
    op->u.submit.in.key = op->u.submit.key;
    op->u.submit.in.type = op->u.submit.type;
    op->u.submit.in.fields = op->u.submit.fields;
    op->u.submit.in.fields_len = op->u.submit.fields_len;
    op->u.submit.in.actor = c->name;
    commit_submit(srv->commit, op);
}

static int
submit_apply(struct op *op, struct hitlq_server *srv, MDB_txn *txn,
             uint64_t now_ms, struct queue_fx *fx)
{
    int st = queue_submit(srv->store, txn, &op->u.submit.in, now_ms, &op->u.submit.d,
                          &op->u.submit.duplicate, fx);

    if (st == HITLQ_ST_OK && !op->u.submit.duplicate)
        st = drift_batch_add(srv, txn, op->u.submit.type, &op->u.submit.drift);
    if (st == HITLQ_ST_OK && !op->u.submit.duplicate)
        st = review_submit(srv, txn, op->u.submit.type, &op->u.submit.review,
                           &op->u.submit.d, now_ms);
    if (st == HITLQ_ST_OK && !op->u.submit.duplicate)
        st = four_eyes_submit(srv, txn, op);
    if (st == HITLQ_ST_OK && !op->u.submit.duplicate)   /* minute rollups (rollup.h) */
        st = rollup_submit(srv->store, txn, op->u.submit.type, &op->u.submit.d, now_ms);
    if (st == HITLQ_ST_CONFLICT)
        snprintf(op->errmsg, sizeof(op->errmsg),
                 "key \"%s\" was already used for different content", op->u.submit.key);
    return st;
}

void
submit_reply(struct op *op, struct hitlq_server *srv, const char *proof, size_t proof_len)
{
    const struct decision *d = &op->u.submit.d;
    msgpack_packer *pk = &srv->pk;
    bool is_auto = d->outcome == DECISION_AUTO;
    bool receipt = op->u.submit.receipt != SUBMIT_RECEIPT_NONE && d->audited;
    size_t off;

    if (op->status != HITLQ_ST_OK) {
        reply_op_error(op);
    } else if (conn_is_open(op->conn)) {
        off = wire_frame_begin(&srv->out);
        msgpack_pack_map(pk, 8 + (is_auto ? 2 : 3) + receipt + (proof != NULL));
        if (receipt)
            submit_pack_receipt(pk, d, proof, proof_len);
        wire_pack_kv_u64(pk, "id", d->id);
        wire_pack_kv_str(pk, "outcome", is_auto ? "auto_resolved" : "queued");
        if (is_auto) {
            wire_pack_kv_str(pk, "action", d->action);
            wire_pack_kv_u64(pk, "seq", d->seq);
        } else {
            wire_pack_kv_str(pk, "queue", d->queue);
            wire_pack_kv_u64(pk, "priority", d->priority);
            wire_pack_kv_u64(pk, "deadline_ms", d->deadline_ms);
        }
        if (d->method == SCORE_METHOD_NONE)
            wire_pack_kv_nil(pk, "score");     /* not scored (data quality) */
        else
            wire_pack_kv_f64(pk, "score", d->score);
        wire_pack_kv_str(pk, "model", d->model);
        wire_pack_kv_str(pk, "route", score_route_name(d->route));
        wire_pack_kv_str(pk, "explain", score_method_name(d->method));
        wire_pack_cstr(pk, "reasons");
        msgpack_sbuffer_write(&srv->out, (const char *)d->reasons_mp, d->reasons_len);
        wire_pack_kv_bool(pk, "duplicate", op->u.submit.duplicate);
        reply_finish(op->conn, off, op->opcode, HITLQ_ST_OK, op->request_id);
    }
    op_done(op);
}

/* The intake metrics of a SUBMIT that came back from the commit: only
 * what was durably acknowledged counts as submitted. */
static void
submit_count(const struct op *op, struct hitlq_server *srv)
{
    const struct decision *d = &op->u.submit.d;
    const struct srv_metrics *sm = srv->m;
    const char *v[3] = { op->u.submit.type, score_route_name(d->route), d->model };

    if (op->status != HITLQ_ST_OK) {
        metric_inc(metric_get1(sm->rejected, hitlq_status_str(op->status)));
        return;
    }
    metric_observe(sm->submit_s, (double)(util_now_ms() - d->received_ms) / 1000.0);
    if (op->u.submit.duplicate) {
        metric_inc(metric_get1(sm->deduplicated, op->u.submit.type));
        return;
    }
    metric_inc(metric_get1(sm->submitted, op->u.submit.type));
    metric_inc(metric_get(sm->decisions, v));
}

static void
submit_finish(struct op *op, struct hitlq_server *srv)
{
    submit_count(op, srv);
    if (op->status == HITLQ_ST_OK && op->u.submit.d.audited &&
        op->u.submit.receipt == SUBMIT_RECEIPT_CHECKPOINT)
        receipt_finish(op, srv);       /* replies now, or parks until signed */
    else
        submit_reply(op, srv, NULL, 0);
}

static void
submit_clear(struct op *op)
{
    free(op->u.submit.fields);
    decision_clear(&op->u.submit.d);
}

const struct op_class submit_class = { "submit", submit_apply, submit_finish, submit_clear };

static const struct wire_field submit_schema[] = {
    { "key", WIRE_NAME, true, 0, 0 },
    { "type", WIRE_NAME, true, 0, 0 },
    { "fields", WIRE_MAP, true, 0, HITLQ_MAX_FIELDS },
    { "priority", WIRE_UINT, false, 0, HITLQ_MAX_PRIORITY },
    { "receipt", WIRE_NAME, false, 0, 0 },
};

const struct cmd cmd_submit = { "SUBMIT", HITLQ_OP_SUBMIT, submit_schema, 5, submit_proceed };

/* ---- GET and STATS: answered at once from a read transaction ---------- */

/* GET {explain: "exact"}: replaces the body packed at off with exact
 * reasons when the item's model allows (explain.c). */
static void
get_explain(struct hitlq_server *srv, size_t off)
{
    size_t body = off + HITLQ_FRAME_HDR_LEN, nl = 0;
    uint8_t *ex = NULL;

    if (explain_summary(srv->scoring, (const uint8_t *)srv->out.data + body,
                        srv->out.size - body, 1, &ex, &nl) != 1)
        return;
    srv->out.size = body;
    msgpack_sbuffer_write(&srv->out, (const char *)ex, nl);
    free(ex);
}

/* What GET of item id hides from c (review_blind.h): auditors and admins
 * see everything; anyone else gets a four-eyes item under review as its
 * reviewers' CLAIM does (no earlier verdict; no model output when the
 * policy hides it); a QA copy's link to its original (qa_of, audit) is
 * hidden from every authenticated role but those two (without auth the
 * connection is trusted: PROTOCOL.md §4.4). */
static unsigned
get_blind(struct conn *c, MDB_txn *txn, uint64_t id)
{
    unsigned role = c->auth.role, what = 0;
    uint8_t fe;

    if (role == AUTH_ROLE_AUDITOR || role == AUTH_ROLE_ADMIN)
        return 0;
    if (role != AUTH_ROLE_LOCAL && qa_copy_of(c->srv->store, txn, id) != 0)
        what |= REVIEW_BLIND_AUDIT;
    fe = four_eyes_claimed(c->srv, txn, id);
    what |= ((fe & FOUR_EYES_BLIND_VERDICTS) ? REVIEW_BLIND_VERDICTS : 0) |
            ((fe & FOUR_EYES_BLIND_MODEL) ? REVIEW_BLIND_MODEL : 0);
    return what;
}

/* GET: puts the body's reasons (packed at off) in the order every reply
 * uses (explain_sort_reasons), in place: the bytes only move. */
static void
get_sort_reasons(struct hitlq_server *srv, size_t off)
{
    size_t body = off + HITLQ_FRAME_HDR_LEN, rl;
    const uint8_t *raw;
    uint8_t *tmp;

    if (!wire_body_raw((const uint8_t *)srv->out.data + body, srv->out.size - body, "reasons",
                       &raw, &rl) || (tmp = malloc(rl)) == NULL)
        return;
    if (explain_sort_reasons(raw, rl, tmp) == 0)
        memcpy((uint8_t *)srv->out.data + (raw - (const uint8_t *)srv->out.data), tmp, rl);
    free(tmp);
}

static void
read_reply(struct conn *c, const struct frame_hdr *h, uint64_t id, bool stats, bool exact)
{
    struct hitlq_server *srv = c->srv;
    MDB_txn *txn = server_read_begin(srv);
    size_t off;
    unsigned what;
    int st;

    if (txn == NULL) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INTERNAL, "read failed");
        return;
    }
    if (!stats && c->auth.role == AUTH_ROLE_BOT &&
        !auth_item_owned(srv->store, txn, id, c->name)) {
        server_read_end(srv);          /* a bot reads only what it submitted */
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_FORBIDDEN,
                        "a bot may only GET the items it submitted");
        return;
    }
    off = wire_frame_begin(&srv->out);
    st = stats ? queue_stats(srv->store, txn, util_now_ms(), &srv->pk)
               : queue_get(srv->store, txn, id, &srv->pk);
    what = stats || st != HITLQ_ST_OK ? 0 : get_blind(c, txn, id);
    server_read_end(srv);
    if (st == HITLQ_ST_OK && exact && !(what & REVIEW_BLIND_MODEL))
        get_explain(srv, off);
    review_blind_body(&srv->out, off + HITLQ_FRAME_HDR_LEN, what);
    if (st == HITLQ_ST_OK && !stats)
        get_sort_reasons(srv, off);
    if (st != HITLQ_ST_OK) {
        msgpack_sbuffer_clear(&srv->out);
        conn_send_error(c, h->opcode, h->request_id, st,
                        st == HITLQ_ST_NOT_FOUND ? "no item with this id" : NULL);
        return;
    }
    reply_finish(c, off, h->opcode, HITLQ_ST_OK, h->request_id);
}

void
get_reply(struct conn *c, const struct frame_hdr *h, uint64_t id)
{
    read_reply(c, h, id, false, false);
}

static void
get_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    bool exact = args[1] != NULL && args[1]->via.str.size == 5 &&
                 memcmp(args[1]->via.str.ptr, "exact", 5) == 0;

    if (args[1] != NULL && !exact) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_REQUEST,
                        "explain must be \"exact\"");
        return;
    }
    read_reply(c, h, wire_u64(args[0]), false, exact);
}

static const struct wire_field get_schema[] = {
    { "id", WIRE_UINT, true, 1, UINT64_MAX },
    { "explain", WIRE_NAME, false, 0, 0 },
};

const struct cmd cmd_get = { "GET", HITLQ_OP_GET, get_schema, 2, get_proceed };

static void
stats_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    (void)args;
    read_reply(c, h, 0, true, false);
}

const struct cmd cmd_stats = { "STATS", HITLQ_OP_STATS, NULL, 0, stats_proceed };
