/*
 * queue.c - SUBMIT: idempotency check, new item record, the submit-time
 * history (submitted, scored, auto_resolved | queued: journalled, but
 * implied by the record rather than stored), and either the
 * auto-resolution result or the queue entry.  Also decision_clear and the
 * side effects of a batch (queue_fx_wake, queue_fx_sla, queue_fx_clear).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qa_copy.h"
#include "queue_int.h"
#include "sla_ladder.h"

#define IDEM_VAL_LEN 24u   /* id64 + content_hash[16] */

void
decision_clear(struct decision *d)
{
    if (d == NULL)
        return;
    free(d->reasons_mp);
    d->reasons_mp = NULL;
    d->reasons_len = 0;
    free(d->audit_tail);
    d->audit_tail = NULL;
    d->audit_tail_len = 0;
}

void
queue_fx_wake(struct queue_fx *fx, const char *queue, uint32_t n)
{
    if (fx == NULL)
        return;
    for (size_t i = 0; i < fx->n_woken; i++) {
        if (strcmp(fx->woken[i], queue) == 0) {
            fx->woken_count[i] += n;
            return;
        }
    }
    if (fx->n_woken == HITLQ_MAX_CLAIM_QUEUES) {
        fx->wake_all = true;
        return;
    }
    snprintf(fx->woken[fx->n_woken], sizeof(fx->woken[0]), "%s", queue);
    fx->woken_count[fx->n_woken++] = n;
}

int
queue_fx_sla(struct queue_fx *fx, const struct queue_sla_note *n)
{
    if (fx == NULL)
        return HITLQ_ST_OK;
    if (fx->n_sla == fx->cap_sla) {
        size_t cap = fx->cap_sla ? 2 * fx->cap_sla : 16;
        struct queue_sla_note *p = realloc(fx->sla, cap * sizeof(*p));

        if (p == NULL)
            return HITLQ_ST_RESOURCE_EXHAUSTED;
        fx->sla = p;
        fx->cap_sla = cap;
    }
    fx->sla[fx->n_sla++] = *n;
    return HITLQ_ST_OK;
}

void
queue_fx_clear(struct queue_fx *fx)
{
    free(fx->sla);
    memset(fx, 0, sizeof(*fx));
}

/* Fills d with the original decision of item id (a duplicate SUBMIT). */
static int
queue_submit_dup(struct store *s, MDB_txn *txn, uint64_t id, struct decision *d)
{
    struct qi_item it;
    int st = qi_item_load(s, txn, id, &it);

    if (st != HITLQ_ST_OK)
        return st == HITLQ_ST_NOT_FOUND ? HITLQ_ST_INTERNAL : st;
    decision_clear(d);
    if (it.b.reasons_len > 0) {
        msgpack_sbuffer sb;
        msgpack_packer pk;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        item_reasons_pack(&pk, &it.b);
        d->reasons_len = sb.size;
        d->reasons_mp = (uint8_t *)msgpack_sbuffer_release(&sb);
    } else {
        d->reasons_mp = malloc(1);
        d->reasons_len = 0;
    }
    if (d->reasons_mp == NULL) {
        d->reasons_len = 0;
        qi_item_done(&it);
        return HITLQ_ST_INTERNAL;
    }
    d->id = id;
    d->outcome = it.h.decision;
    snprintf(d->action, sizeof(d->action), "%s", it.b.action);
    snprintf(d->queue, sizeof(d->queue), "%s", it.b.queue0);
    snprintf(d->model, sizeof(d->model), "%s", it.b.model);
    d->priority = it.b.priority0;
    d->deadline_ms = it.b.deadline0;
    d->sla_ms = it.b.deadline0 ? it.b.deadline0 - it.h.created_ms : 0;
    d->score = it.b.score;
    d->seq = it.h.decision == DECISION_AUTO ? it.h.result_seq : 0;
    d->route = it.b.has_triage ? it.b.route : 0;
    d->method = it.b.has_triage ? it.b.method : 0;
    d->qa = (it.b.flags & ITEM_FLAG_QA_SAMPLED) != 0;
    d->qa_id = d->qa ? it.b.link : 0;
    d->audited = it.b.has_audit;
    d->audit_index = it.b.has_audit ? it.b.audit_index : 0;
    qi_item_done(&it);
    return HITLQ_ST_OK;
}

/* Looks up the idempotency key: *found and, when found, OK/CONFLICT. */
static int
queue_idem_check(struct store *s, MDB_txn *txn, const struct submit_in *in,
                 bool *found, uint64_t *id)
{
    MDB_val k = { strlen(in->key), (void *)in->key }, d;
    int rc = mdb_get(txn, s->idem, &k, &d);

    *found = false;
    if (rc == MDB_NOTFOUND)
        return HITLQ_ST_OK;
    if (rc != 0 || d.mv_size != IDEM_VAL_LEN)
        return HITLQ_ST_INTERNAL;
    *found = true;
    *id = store_get_be64(d.mv_data);
    if (memcmp((const uint8_t *)d.mv_data + 8, in->content_hash, 16) != 0)
        return HITLQ_ST_CONFLICT;
    return HITLQ_ST_OK;
}

/* Writes record it->id: header from it->h, body from bi. */
static int
queue_record_put(struct store *s, MDB_txn *txn, const struct item_body_in *bi,
                 const struct qi_item *it)
{
    uint8_t kb[8], stack[QI_REC_STACK], *rec;
    size_t cap = item_hdr_size(&it->h) + item_body_max(bi), hl;
    MDB_val k = { 8, kb }, v;
    int rc;

    /* Encoded once into scratch memory (the compact reasons are only
     * known once encoded), then copied by the put. */
    rec = cap <= sizeof(stack) ? stack : malloc(cap);
    if (rec == NULL)
        return HITLQ_ST_INTERNAL;
    hl = item_hdr_encode(rec, &it->h);
    v.mv_size = hl + item_body_encode(rec + hl, bi);
    v.mv_data = rec;
    store_put_be64(kb, it->id);
    /* QA copies (qa_copy.h) hold the largest keys: ordinary ids are put
     * below them once the first copy exists, so only copies can append */
    rc = mdb_put(txn, s->items, &k, &v, it->id >= QA_COPY_ID_BASE ? MDB_APPEND
                                                                 : MDB_NOOVERWRITE);
    if (rec != stack)
        free(rec);
    return store_status(rc);
}

/* Writes the new record (body from in/d) and the idempotency entry. */
static int
queue_submit_put(struct store *s, MDB_txn *txn, const struct submit_in *in,
                 const struct decision *d, const struct qi_item *it)
{
    bool is_auto = d->outcome == DECISION_AUTO;
    struct item_body_in bi = {
        .key = in->key, .type = in->type, .model = d->model,
        .action = is_auto ? d->action : "", .queue0 = is_auto ? "" : d->queue,
        .actor = in->actor != NULL ? in->actor : "anonymous",
        .score = d->score, .priority0 = it->h.priority,
        .deadline0 = it->h.deadline_ms, .reasons = d->reasons_mp,
        .reasons_len = d->reasons_len, .fields = in->fields,
        .fields_len = in->fields_len,
        .audit_salt = d->audited ? d->audit_salt : NULL, .audit_index = d->audit_index,
        .triage = true, .route = d->route, .method = d->method,
        .flags = d->qa ? ITEM_FLAG_QA_SAMPLED : 0, .link = d->qa ? d->qa_id : 0,
    };
    uint8_t vb[IDEM_VAL_LEN];
    MDB_val k = { strlen(in->key), (void *)in->key }, v = { sizeof(vb), vb };
    int st = queue_record_put(s, txn, &bi, it);

    if (st != HITLQ_ST_OK)
        return st;
    store_put_be64(vb, it->id);
    memcpy(vb + 8, in->content_hash, 16);
    return store_status(mdb_put(txn, s->idem, &k, &v, MDB_NOOVERWRITE));
}

/* The blind QA copy of auto item `orig`: an id of the QA range and an
 * opaque key (qa_copy.h), linked to orig_id in its record only. */
static int
queue_submit_qa(struct store *s, MDB_txn *txn, const struct submit_in *in,
                struct decision *d, uint64_t orig_id, uint64_t now_ms, struct queue_fx *fx)
{
    char key[QA_COPY_KEY_LEN + 1];
    struct qi_item it;
    struct journal_item ji;
    struct journal_ev ev[JOURNAL_SUBMIT_EVENTS];
    char model_actor[JOURNAL_ACTOR_MAX];
    uint64_t seq;
    int st;

    if ((st = qa_copy_key(s, txn, orig_id, key, sizeof key)) != HITLQ_ST_OK)
        return st;
    memset(&it.h, 0, sizeof(it.h));
    it.rec = NULL;
    it.id = d->qa_id;                  /* qa_copy_next_id, by queue_submit */
    it.h.state = HITLQ_STATE_QUEUED;
    it.h.decision = DECISION_QUEUED;
    it.h.priority = d->qa_priority;
    it.h.created_ms = now_ms;
    it.h.deadline_ms = now_ms + d->qa_sla_ms;
    snprintf(it.h.queue, sizeof(it.h.queue), "%s", d->qa_queue);
    struct journal_submit js = {
        .actor = "qa-sample", .model = "", .score = 0, .is_auto = false, .action = "",
        .queue = d->qa_queue, .priority = d->qa_priority, .deadline_ms = it.h.deadline_ms,
    };
    struct item_body_in bi = {
        .key = key, .type = in->type, .model = "", .action = "", .queue0 = d->qa_queue,
        .actor = "qa-sample", .score = 0, .priority0 = d->qa_priority,
        .deadline0 = it.h.deadline_ms, .fields = in->fields, .fields_len = in->fields_len,
        .audit_salt = d->audited ? d->audit_salt : NULL, .audit_index = d->audit_index,
        .triage = true, .route = ITEM_ROUTE_QA, .flags = ITEM_FLAG_QA_COPY, .link = orig_id,
    };
    memset(&ji, 0, sizeof(ji));
    ji.id = it.id;
    ji.key = key;
    ji.type = in->type;
    ji.model = "";
    ji.hist_n = &it.h.hist_n;
    ji.audit_ref = JOURNAL_NO_AUDIT;
    ji.qa_copy = true;                 /* no model-decision entry of its own */
    journal_submit_events(ev, model_actor, &js);
    if ((st = journal_record(s, txn, &ji, now_ms, ev, JOURNAL_SUBMIT_EVENTS, &seq)) != HITLQ_ST_OK ||
        (st = queue_record_put(s, txn, &bi, &it)) != HITLQ_ST_OK ||
        (st = qi_enqueue(s, txn, &it, fx)) != HITLQ_ST_OK)
        return st;
    return HITLQ_ST_OK;
}

/* Journals the submit-time events (journal.c keeps them out of hist: the
 * record implies them) and, through the journal sink, the prepared log
 * entry (d->audit_index, leaf_hash); sets it->h.result_seq for auto. */
static int
queue_submit_journal(struct store *s, MDB_txn *txn, const struct submit_in *in,
                     struct decision *d, struct qi_item *it, uint64_t now_ms)
{
    char model_actor[JOURNAL_ACTOR_MAX];
    struct journal_item ji = {
        .id = it->id, .key = in->key, .type = in->type, .model = d->model,
        .score = d->score, .hist_n = &it->h.hist_n, .audit_ref = JOURNAL_NO_AUDIT,
    };
    struct journal_submit js = {
        .actor = in->actor != NULL ? in->actor : "anonymous",
        .model = d->model, .score = d->score,
        .is_auto = d->outcome == DECISION_AUTO, .action = d->action,
        .queue = d->queue, .priority = d->priority,
        .deadline_ms = it->h.deadline_ms,
    };
    struct journal_ev ev[JOURNAL_SUBMIT_EVENTS];
    struct journal_log_entry as = {
        .id = it->id, .type = d->audit_type, .tail = d->audit_tail,
        .tail_len = d->audit_tail_len,
    };
    int st;

    ji.log_entry = d->audit_tail != NULL ? &as : NULL;
    journal_submit_events(ev, model_actor, &js);
    st = journal_record(s, txn, &ji, now_ms, ev, JOURNAL_SUBMIT_EVENTS,
                        &it->h.result_seq);
    d->audited = as.index_set;
    d->audit_index = as.index;
    memcpy(d->leaf_hash, as.leaf_hash, sizeof(d->leaf_hash));
    return st;
}

/* Header of a new item from the decision. */
static void
queue_submit_hdr(struct qi_item *it, const struct decision *d, uint64_t now_ms)
{
    bool is_auto = d->outcome == DECISION_AUTO;

    memset(&it->h, 0, sizeof(it->h));
    it->rec = NULL;
    it->h.state = is_auto ? HITLQ_STATE_RESOLVED : HITLQ_STATE_QUEUED;
    it->h.decision = d->outcome;
    it->h.priority = d->priority;
    it->h.created_ms = now_ms;
    it->h.deadline_ms = is_auto ? 0 : (d->received_ms ? d->received_ms : now_ms) + d->sla_ms;
    it->h.resolved_ms = is_auto ? now_ms : 0;
    snprintf(it->h.queue, sizeof(it->h.queue), "%s", is_auto ? "" : d->queue);
    snprintf(it->h.outcome, sizeof(it->h.outcome), "%s", is_auto ? d->action : "");
}

int
queue_submit(struct store *s, MDB_txn *txn, const struct submit_in *in,
             uint64_t now_ms, struct decision *d, bool *duplicate,
             struct queue_fx *fx)
{
    bool found, is_auto = d->outcome == DECISION_AUTO;
    struct qi_item it;
    uint64_t id = 0;
    int st = queue_idem_check(s, txn, in, &found, &id);

    *duplicate = false;
    if (st != HITLQ_ST_OK)
        return st;
    if (found) {
        st = queue_submit_dup(s, txn, id, d);
        *duplicate = st == HITLQ_ST_OK;
        if (st == HITLQ_ST_OK && s->sink.leaf != NULL && d->audited)
            d->audited = s->sink.leaf(s->sink.ctx, txn, d->audit_index,
                                      d->leaf_hash) == HITLQ_ST_OK;
        return st;
    }
    if ((st = qi_meta_get(s, txn, "next_id", &id)) != HITLQ_ST_OK ||
        (st = qi_meta_put(s, txn, "next_id", id + 1)) != HITLQ_ST_OK)
        return st;
    it.id = id;
    d->qa_id = 0;
    if (is_auto && d->qa && (st = qa_copy_next_id(s, txn, &d->qa_id)) != HITLQ_ST_OK)
        return st;
    queue_submit_hdr(&it, d, now_ms);
    if ((st = queue_submit_journal(s, txn, in, d, &it, now_ms)) != HITLQ_ST_OK ||
        (st = queue_submit_put(s, txn, in, d, &it)) != HITLQ_ST_OK ||
        (st = qi_tstats_add(s, txn, in->type, strlen(in->type), 1,
                            is_auto, !is_auto)) != HITLQ_ST_OK)
        return st;
    if (!is_auto && ((st = qi_enqueue(s, txn, &it, fx)) != HITLQ_ST_OK ||
                     (st = sla_start(s, txn, &it, &d->sla, now_ms)) != HITLQ_ST_OK))
        return st;
    if (is_auto && d->qa && (st = queue_submit_qa(s, txn, in, d, id, now_ms, fx)) != HITLQ_ST_OK)
        return st;
    d->id = id;
    d->deadline_ms = it.h.deadline_ms;
    d->seq = it.h.result_seq;
    if (is_auto && fx != NULL)
        fx->results = true;
    return HITLQ_ST_OK;
}
