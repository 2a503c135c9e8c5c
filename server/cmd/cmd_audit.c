/*
 * cmd_audit.c - handlers for the audit opcodes (PROTOCOL.md §4.12):
 * AUDIT_CHECKPOINT, AUDIT_ENTRIES, AUDIT_PROVE, AUDIT_CONSISTENCY, all
 * answered at once from the loop thread's read transaction; plus the audit
 * side of SUBMIT: the decision's audit fields (built from the policy on
 * the loop thread), its receipt, and receipts parked until a checkpoint
 * covers their entry (receipt_parking, a kind of park.h, which also holds
 * AUDIT_CHECKPOINT {fresh: true} until a checkpoint covers its size).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cmd.h"
#include "commit.h"
#include "conn.h"
#include "dispatch.h"
#include "op.h"
#include "park.h"
#include "record.h"
#include "score.h"
#include "server.h"
#include "store.h"
#include "wire.h"

#define TOP_EXT_MAX RECORD_EXT_TOP_FEATURES_MAX(AUDIT_TOP_MAX)

/* ---- SUBMIT: audit fields and receipts ----------------------------------- */

/* v, with -0 written as +0 (the canonical zero). */
static double
canon_f64(double v)
{
    return v == 0.0 ? 0.0 : v;
}

/* b's bytes: s clipped to opaque<..255>. */
static struct record_ext_bytes
ext_str(const char *s)
{
    size_t l = strlen(s);

    return (struct record_ext_bytes){ (const uint8_t *)s, l > 255 ? 255 : l };
}

/* TOP_FEATURES body: the AUDIT_TOP_MAX largest contributions by name
 * (every reason is in reason_codes; this one is in every entry, so kept
 * short).  Values stay behind the input commitment: written as 0.
 * Returns the body's length, 0 when it cannot be encoded. */
static size_t
submit_top_features(const struct score_result *r, uint8_t *buf)
{
    struct record_ext_top_features tf = { 0 };
    size_t n;

    tf.n = (uint8_t)(r->n_reasons < AUDIT_TOP_MAX ? r->n_reasons : AUDIT_TOP_MAX);
    for (size_t i = 0; i < tf.n; i++)
        tf.f[i] = (struct record_ext_feature){ ext_str(r->reasons[i].feature), 0.0,
                                               canon_f64(r->reasons[i].contribution) };
    return record_ext_top_features_encode(&tf, buf, TOP_EXT_MAX, &n) == RECORD_OK ? n : 0;
}

/* SCORING body: method, route, flags (bit 0: QA-sampled), margin, base
 * value (proto/AUDIT-FORMAT.md §3.4).  0 when it cannot be encoded. */
static size_t
submit_scoring_ext(const struct triage *t, uint8_t *p)
{
    bool scored = t->r.method != SCORE_METHOD_NONE;
    struct record_ext_scoring sc = {
        .method = t->r.method, .route = t->route,
        .flags = t->qa ? RECORD_SCORING_FLAG_QA : 0,
        .margin = canon_f64(scored && isfinite(t->r.margin) ? t->r.margin : 0.0),
        .base_value = canon_f64(scored && isfinite(t->r.base_margin) ? t->r.base_margin : 0.0),
    };
    size_t n;

    return record_ext_scoring_encode(&sc, p, RECORD_EXT_SCORING_LEN, &n) == RECORD_OK ? n : 0;
}

/* RULES body: the rules that routed the item (kind, id).  0 when it
 * cannot be encoded. */
static size_t
submit_rules_ext(const struct triage *t, uint8_t *p)
{
    struct record_ext_rules ru = { 0 };
    size_t n;

    ru.n = (uint8_t)(t->n_rules < RECORD_EXT_RULE_COUNT_MAX ? t->n_rules
                                                             : RECORD_EXT_RULE_COUNT_MAX);
    for (size_t i = 0; i < ru.n; i++)
        ru.rule[i] = (struct record_ext_rule){ t->rules[i].kind, ext_str(t->rules[i].id) };
    return record_ext_rules_encode(&ru, p, RECORD_EXT_RULES_MAX, &n) == RECORD_OK ? n : 0;
}

/* RECOMMENDATION body (format v2): the model's recommendation in the
 * policy's action names (score_recommendation), the lean, auto and reject
 * thresholds, and the flags (reject band, scored, hard rule).  0 when it
 * cannot be encoded. */
static size_t
submit_rec_ext(const struct type_policy *p, const struct triage *t, uint8_t *buf)
{
    struct record_ext_recommendation rc = {
        .recommendation = ext_str(score_recommendation(p, t)),
        .lean_threshold = canon_f64(p->lean_threshold),
        .auto_threshold = canon_f64(p->auto_threshold),
        .reject_threshold = canon_f64(p->has_reject ? p->reject_threshold : 0.0),
        .flags = (uint8_t)((p->has_reject ? RECORD_REC_FLAG_REJECT_BAND : 0) |
                           (t->r.method != SCORE_METHOD_NONE ? RECORD_REC_FLAG_SCORED : 0) |
                           (t->route == TRIAGE_HARD_RULE ? RECORD_REC_FLAG_HARD_RULE : 0)),
    };
    size_t n;

    return record_ext_recommendation_encode(&rc, buf, RECORD_EXT_RECOMMENDATION_MAX, &n) ==
           RECORD_OK ? n : 0;
}

int
submit_audit_fill(struct hitlq_server *srv, struct op *op, const struct type_policy *p,
                  const struct triage *t)
{
    struct decision *d = &op->u.submit.d;
    const struct score_result *r = &t->r;
    uint8_t top[TOP_EXT_MAX], sx[RECORD_EXT_SCORING_LEN], rx[RECORD_EXT_RULES_MAX];
    uint8_t rcx[RECORD_EXT_RECOMMENDATION_MAX];
    uint16_t codes[AUDIT_MAX_CODES];
    size_t nc = 0;
    bool is_auto = d->outcome == DECISION_AUTO;

    if (srv->audit == NULL)
        return 0;
    for (size_t i = 0; i < t->n_rules && nc < AUDIT_MAX_CODES; i++)
        codes[nc++] = t->rules[i].code;
    for (size_t i = 0; i < r->n_reasons && nc < AUDIT_MAX_CODES; i++)
        codes[nc++] = r->reasons[i].code;
    struct audit_decision ad = {
        .key = op->u.submit.key,
        .actor = op->conn != NULL && op->conn->name[0] != '\0' ? op->conn->name : "anonymous",
        .fields = op->u.submit.fields, .fields_len = op->u.submit.fields_len,
        .model = d->model, .model_digest = p->model->digest,
        .policy_id = scoring_policy_id(srv->scoring), .score = d->score,
        .threshold = t->route == TRIAGE_AUTO_REJECT ? p->reject_threshold
                                                    : p->auto_threshold,
        .is_auto = is_auto, .action = d->action,
        .queue = d->queue, .priority = d->priority,
        .deadline_ms = is_auto ? 0 : d->received_ms + d->sla_ms,
        .received_ms = d->received_ms, .n_codes = (uint8_t)nc, .codes = codes,
        .top_ext = top, .top_ext_len = submit_top_features(r, top),
        .scoring_ext = sx, .scoring_ext_len = submit_scoring_ext(t, sx),
        .rules_ext = t->n_rules > 0 ? rx : NULL,
        .rules_ext_len = t->n_rules > 0 ? submit_rules_ext(t, rx) : 0,
        .rec_ext = rcx, .rec_ext_len = submit_rec_ext(p, t, rcx),
    };
    if (ad.top_ext_len == 0 || ad.scoring_ext_len == 0 || ad.rec_ext_len == 0 ||
        (t->n_rules > 0 && ad.rules_ext_len == 0))
        return -1;
    return audit_prepare(srv->audit, &ad, d->audit_salt, &d->audit_type,
                         &d->audit_tail, &d->audit_tail_len) == HITLQ_ST_OK ? 0 : -1;
}

void
submit_pack_receipt(msgpack_packer *pk, const struct decision *d, const char *proof,
                    size_t proof_len)
{
    wire_pack_cstr(pk, "audit");
    msgpack_pack_map(pk, 2);
    wire_pack_kv_u64(pk, "index", d->audit_index);
    wire_pack_cstr(pk, "leaf_hash");
    msgpack_pack_bin(pk, sizeof(d->leaf_hash));
    msgpack_pack_bin_body(pk, d->leaf_hash, sizeof(d->leaf_hash));
    if (proof != NULL)
        wire_pack_kv_strn(pk, "tlog_proof", proof, proof_len);
}

static void receipt_park(struct op *op, struct hitlq_server *srv);

void
receipt_finish(struct op *op, struct hitlq_server *srv)
{
    struct audit *a = srv->audit;
    struct audit_cp *cp = malloc(sizeof(*cp));
    char *proof = NULL;
    size_t len = 0;
    MDB_txn *txn;
    int st = HITLQ_ST_INTERNAL;

    if (cp != NULL && audit_cp_get(a, cp) == HITLQ_ST_OK) {
        st = HITLQ_ST_NOT_FOUND;
        if (cp->size > op->u.submit.d.audit_index && (txn = server_read_begin(srv)) != NULL) {
            st = audit_tlog_proof(a, txn, op->u.submit.d.audit_index, cp, &proof, &len);
            server_read_end(srv);
        }
    }
    free(cp);
    if (st == HITLQ_ST_NOT_FOUND && !srv->stopping) {
        receipt_park(op, srv);         /* until the next checkpoint */
        return;
    }
    if (st != HITLQ_ST_OK) {
        op->status = HITLQ_ST_INTERNAL;
        snprintf(op->errmsg, sizeof(op->errmsg),
                 "the item is stored, but its receipt could not be made");
    }
    submit_reply(op, srv, proof, len);
    free(proof);
}

extern const struct park_kind receipt_parking;

/* Parks op until the next checkpoint (receipt_wake looks again); the
 * newest parked is the first looked at. */
static void
receipt_park(struct op *op, struct hitlq_server *srv)
{
    park_push(park_list(srv->park, &receipt_parking), &op->park, op->conn);
    audit_request_checkpoint(srv->audit);
    commit_wake(srv->commit);
}

static void
cpwait_reply(struct op *op, struct hitlq_server *srv, const struct audit_cp *cp)
{
    size_t off;

    if (conn_is_open(op->conn)) {
        off = wire_frame_begin(&srv->out);
        msgpack_pack_map(&srv->pk, 2);
        wire_pack_kv_u64(&srv->pk, "size", cp->size);
        wire_pack_kv_strn(&srv->pk, "checkpoint", cp->note, cp->len);
        reply_finish(op->conn, off, op->opcode, HITLQ_ST_OK, op->request_id);
    }
    op_done(op);
}

/* AUDIT_CHECKPOINT {fresh: true}: replies once a checkpoint covers the
 * size committed when it arrived. */
static void
cpwait_finish(struct op *op, struct hitlq_server *srv)
{
    struct audit_cp *cp = malloc(sizeof(*cp));

    if (cp == NULL || audit_cp_get(srv->audit, cp) != HITLQ_ST_OK) {
        free(cp);
        conn_send_error(op->conn, op->opcode, op->request_id, HITLQ_ST_INTERNAL, NULL);
        op_done(op);
        return;
    }
    if (cp->size < op->u.cpwait.size && !srv->stopping)
        receipt_park(op, srv);
    else
        cpwait_reply(op, srv, cp);
    free(cp);
}

static const struct op_class cpwait_class = { "checkpoint-wait", NULL, cpwait_finish, NULL };

/* A new checkpoint, before the batch's replies: every parked receipt
 * and checkpoint wait looks again (and parks again if still not covered). */
static void
receipt_wake(struct hitlq_server *srv, struct park_list *l, const struct park_news *news)
{
    struct park_entry *e, *next;

    if (!news->checkpoint)
        return;
    for (e = park_take_all(l); e != NULL; e = next) {
        struct op *op = PARK_ENTRY_OF(e, struct op, park);

        next = e->next;
        e->next = e->prev = NULL;
        if (op->cls == &cpwait_class)
            cpwait_finish(op, srv);
        else
            receipt_finish(op, srv);
    }
}

/* Shutdown: the receipt or checkpoint wait goes unanswered. */
static void
receipt_drop(struct park_entry *e)
{
    op_done(PARK_ENTRY_OF(e, struct op, park));
}

/* No cancel: a receipt whose connection closed stays parked until the
 * next checkpoint, then finds nobody to answer. */
const struct park_kind receipt_parking = {
    .name = "receipt", .phase = PARK_BEFORE_REPLIES,
    .wake = receipt_wake, .drop = receipt_drop,
};

/* ---- the audit opcodes ------------------------------------------------------ */

/* Common frame: checks the log is on, takes the checkpoint, then the read
 * txn, runs fn and sends its reply or error. */
typedef int (*audit_read_fn)(struct audit *a, MDB_txn *txn, const struct audit_cp *cp,
                             const msgpack_object **args, msgpack_packer *pk,
                             char *err, size_t errlen);

static void
audit_reply(struct conn *c, const struct frame_hdr *h, const msgpack_object **args,
            audit_read_fn fn)
{
    struct hitlq_server *srv = c->srv;
    struct audit *a = srv->audit;
    struct audit_cp *cp;
    char err[160] = "";
    MDB_txn *txn;
    size_t off;
    int st = HITLQ_ST_INTERNAL;

    if (a == NULL) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_NOT_FOUND,
                        "the audit log is off on this server");
        return;
    }
    if ((cp = malloc(sizeof(*cp))) != NULL && audit_cp_get(a, cp) == HITLQ_ST_OK &&
        (txn = server_read_begin(srv)) != NULL) {
        off = wire_frame_begin(&srv->out);
        st = fn(a, txn, cp, args, &srv->pk, err, sizeof(err));
        server_read_end(srv);
        if (st == HITLQ_ST_OK)
            reply_finish(c, off, h->opcode, HITLQ_ST_OK, h->request_id);
        else
            msgpack_sbuffer_clear(&srv->out);
    }
    free(cp);
    if (st != HITLQ_ST_OK)
        conn_send_error(c, h->opcode, h->request_id, st, err[0] ? err : NULL);
}

static int
checkpoint_fn(struct audit *a, MDB_txn *txn, const struct audit_cp *cp,
              const msgpack_object **args, msgpack_packer *pk, char *err, size_t errlen)
{
    msgpack_pack_map(pk, 2);
    wire_pack_kv_u64(pk, "size", cp->size);
    wire_pack_kv_strn(pk, "checkpoint", cp->note, cp->len);
    return HITLQ_ST_OK;
}

static int
entries_fn(struct audit *a, MDB_txn *txn, const struct audit_cp *cp,
           const msgpack_object **args, msgpack_packer *pk, char *err, size_t errlen)
{
    uint32_t count = args[1] != NULL ? (uint32_t)wire_u64(args[1]) : 256u;

    return audit_pack_entries(a, txn, wire_u64(args[0]), count, pk);
}

static int
prove_fn(struct audit *a, MDB_txn *txn, const struct audit_cp *cp,
         const msgpack_object **args, msgpack_packer *pk, char *err, size_t errlen)
{
    bool by_item = args[1] != NULL;
    uint64_t size = args[2] != NULL ? wire_u64(args[2]) : 0;

    if ((args[0] != NULL) == by_item) {
        snprintf(err, errlen, "give exactly one of index and id");
        return HITLQ_ST_BAD_REQUEST;
    }
    return audit_pack_prove(a, txn, wire_u64(by_item ? args[1] : args[0]), by_item, size,
                            cp, pk, err, errlen);
}

static int
consistency_fn(struct audit *a, MDB_txn *txn, const struct audit_cp *cp,
               const msgpack_object **args, msgpack_packer *pk, char *err, size_t errlen)
{
    return audit_pack_consistency(a, txn, wire_u64(args[0]),
                                  args[1] != NULL ? wire_u64(args[1]) : 0, cp, pk, err,
                                  errlen);
}

static void
checkpoint_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    struct hitlq_server *srv = c->srv;
    MDB_txn *txn;
    uint64_t committed = 0;
    struct op *op;

    if (args[0] == NULL || args[0]->type != MSGPACK_OBJECT_BOOLEAN || !args[0]->via.boolean ||
        srv->audit == NULL) {
        audit_reply(c, h, args, checkpoint_fn);
        return;
    }
    if ((txn = server_read_begin(srv)) != NULL) {
        if (audit_count(srv->store, txn, &committed) != 0)
            committed = 0;
        server_read_end(srv);
    }
    if ((op = op_new(&cpwait_class, c, h->opcode, h->request_id)) == NULL) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INTERNAL, "out of memory");
        return;
    }
    op->u.cpwait.size = committed;
    cpwait_finish(op, srv);
}

static void
entries_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    audit_reply(c, h, args, entries_fn);
}

static void
prove_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    audit_reply(c, h, args, prove_fn);
}

static void
consistency_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    audit_reply(c, h, args, consistency_fn);
}

#define AUDIT_SIZE_MAX ((uint64_t)INT64_MAX)

static const struct wire_field entries_schema[] = {
    { "start", WIRE_UINT, true, 0, AUDIT_SIZE_MAX },
    { "count", WIRE_UINT, false, 1, 1024 },
};
static const struct wire_field prove_schema[] = {
    { "index", WIRE_UINT, false, 0, AUDIT_SIZE_MAX },
    { "id", WIRE_UINT, false, 1, UINT64_MAX },
    { "size", WIRE_UINT, false, 1, AUDIT_SIZE_MAX },
};
static const struct wire_field consistency_schema[] = {
    { "size1", WIRE_UINT, true, 1, AUDIT_SIZE_MAX },
    { "size2", WIRE_UINT, false, 1, AUDIT_SIZE_MAX },
};

static const struct wire_field checkpoint_schema[] = {
    { "fresh", WIRE_BOOL, false, 0, 0 },
};

const struct cmd cmd_audit_checkpoint = { "AUDIT_CHECKPOINT", HITLQ_OP_AUDIT_CHECKPOINT,
                                          checkpoint_schema, 1, checkpoint_proceed };
const struct cmd cmd_audit_entries = { "AUDIT_ENTRIES", HITLQ_OP_AUDIT_ENTRIES,
                                       entries_schema, 2, entries_proceed };
const struct cmd cmd_audit_prove = { "AUDIT_PROVE", HITLQ_OP_AUDIT_PROVE,
                                     prove_schema, 3, prove_proceed };
const struct cmd cmd_audit_consistency = { "AUDIT_CONSISTENCY", HITLQ_OP_AUDIT_CONSISTENCY,
                                           consistency_schema, 2, consistency_proceed };
