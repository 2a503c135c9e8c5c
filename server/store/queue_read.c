/*
 * queue_read.c - the read side of the queue: the item summary shared by
 * CLAIM and GET, the GET body with its full history, STATS (counters plus
 * oldest age and SLA breaches from the open/sla indexes) and the result
 * stream reader behind WATCH.  Works in read or write transactions.
 */
#include <math.h>
#include <string.h>

#include "queue_int.h"
#include "sla_clock.h"
#include "util.h"
#include "triage_name.h"
#include "wire.h"

static const char *
queue_state_str(uint8_t state)
{
    switch (state) {
#define HITLQ_X_STR(name, val, str) case val: return str;
    HITLQ_STATES(HITLQ_X_STR)
#undef HITLQ_X_STR
    }
    return "unknown";
}

static void
queue_pack_key(msgpack_packer *pk, const char *k)
{
    wire_pack_cstr(pk, k);
}

void
qi_pack_summary(msgpack_packer *pk, const struct qi_item *it, size_t n_extra)
{
    bool blind = it->b.has_triage && (it->b.flags & ITEM_FLAG_QA_COPY) != 0;
    bool dq = it->b.has_triage && it->b.route == HITLQ_ROUTE_DATA_QUALITY;

    msgpack_pack_map(pk, 13 + n_extra);
    wire_pack_kv_u64(pk, "id", it->id);
    if (it->h.queue[0] != '\0')
        wire_pack_kv_str(pk, "queue", it->h.queue);
    else
        wire_pack_kv_nil(pk, "queue");
    wire_pack_kv_u64(pk, "priority", it->h.priority);
    wire_pack_kv_u64(pk, "deadline_ms", it->h.deadline_ms);
    wire_pack_kv_u64(pk, "attempts", it->h.attempts);
    wire_pack_kv_strn(pk, "key", it->b.key, it->b.key_len);
    wire_pack_kv_strn(pk, "type", it->b.type, it->b.type_len);
    queue_pack_key(pk, "fields");
    if (it->b.fields_len > 0)
        mp_pack_raw(pk, it->b.fields, it->b.fields_len);
    else
        msgpack_pack_map(pk, 0);
    if (blind || dq)                 /* a QA copy shows no model verdict; */
        wire_pack_kv_nil(pk, "score");   /* a data-quality item has none */
    else
        wire_pack_kv_f64(pk, "score", it->b.score);
    wire_pack_kv_strn(pk, "model", it->b.model, it->b.model_len);
    queue_pack_key(pk, "reasons");
    item_reasons_pack(pk, &it->b);
    wire_pack_kv_str(pk, "route", it->b.has_triage ? hitlq_route_name(it->b.route) : "unknown");
    wire_pack_kv_str(pk, "explain", !it->b.has_triage ? "unknown"
                     : hitlq_method_name(it->b.method));
}

/* Packs the submit-time events, rebuilt from the record (journal.h). */
static void
queue_pack_submit_events(const struct qi_item *it, msgpack_packer *pk)
{
    char model_actor[JOURNAL_ACTOR_MAX];
    struct journal_ev ev[JOURNAL_SUBMIT_EVENTS];
    bool dq = it->b.has_triage && (it->b.route == HITLQ_ROUTE_DATA_QUALITY ||
                                   (it->b.flags & ITEM_FLAG_QA_COPY) != 0);
    struct journal_submit js = {
        .actor = it->b.actor, .model = it->b.model, .score = dq ? NAN : it->b.score,
        .is_auto = it->h.decision == DECISION_AUTO, .action = it->b.action,
        .queue = it->b.queue0, .priority = it->b.priority0,
        .deadline_ms = it->b.deadline0,
    };

    journal_submit_events(ev, model_actor, &js);
    journal_pack_events(pk, it->h.created_ms, ev, JOURNAL_SUBMIT_EVENTS);
}

/* Packs array(hist_n): the submit-time events, then the stored history
 * values of item id in key order.  hist_n >= JOURNAL_SUBMIT_EVENTS. */
static int
queue_pack_history(struct store *s, MDB_txn *txn, const struct qi_item *it,
                   msgpack_packer *pk)
{
    MDB_cursor *cur;
    uint8_t kb[12];
    MDB_val k = { sizeof(kb), kb }, d;
    int rc = mdb_cursor_open(txn, s->hist, &cur);

    if (rc != 0)
        return store_status(rc);
    store_put_be64(kb, it->id);
    store_put_be32(kb + 8, 0);
    msgpack_pack_array(pk, it->h.hist_n);
    queue_pack_submit_events(it, pk);
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == 12 && memcmp(k.mv_data, kb, 8) == 0) {
        mp_pack_raw(pk, d.mv_data, d.mv_size);
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? HITLQ_ST_OK : store_status(rc);
}

int
queue_get(struct store *s, MDB_txn *txn, uint64_t id, msgpack_packer *pk)
{
    struct qi_item it;
    int st = qi_item_load(s, txn, id, &it);

    if (st != HITLQ_ST_OK)
        return st;
    if (it.h.hist_n < JOURNAL_SUBMIT_EVENTS) {
        qi_item_done(&it);             /* every item has them */
        return HITLQ_ST_INTERNAL;
    }
    bool copy = it.b.has_triage && (it.b.flags & ITEM_FLAG_QA_COPY) != 0 && it.b.link != 0;

    qi_pack_summary(pk, &it, 6 + copy + (s->sink.pack_item != NULL));
    wire_pack_kv_str(pk, "state", queue_state_str(it.h.state));
    wire_pack_kv_u64(pk, "created_ms", it.h.created_ms);
    if (copy)                          /* the original (redacted for specialists) */
        wire_pack_kv_u64(pk, "qa_of", it.b.link);
    if (it.h.state == HITLQ_STATE_LEASED) {
        queue_pack_key(pk, "lease");
        msgpack_pack_map(pk, 2);
        wire_pack_kv_str(pk, "worker", it.h.worker);
        wire_pack_kv_u64(pk, "expires_ms", it.h.due_ms);
    } else {
        wire_pack_kv_nil(pk, "lease");
    }
    if (it.h.state == HITLQ_STATE_RESOLVED)
        wire_pack_kv_str(pk, "outcome", it.h.outcome);
    else
        wire_pack_kv_nil(pk, "outcome");
    if ((st = sla_clock_pack(s, txn, id, util_now_ms(), pk)) != HITLQ_ST_OK) {
        qi_item_done(&it);             /* the reply is abandoned */
        return st;
    }
    queue_pack_key(pk, "history");
    st = queue_pack_history(s, txn, &it, pk);
    if (st == HITLQ_ST_OK && s->sink.pack_item != NULL) {
        queue_pack_key(pk, "audit");
        st = s->sink.pack_item(s->sink.ctx, txn, id, pk);
    }
    qi_item_done(&it);
    return st;
}

/* Age of the oldest open item of queue `pre` (prefix "q\0", plen bytes). */
static uint64_t
queue_oldest_age(MDB_cursor *cur, const uint8_t *pre, size_t plen, uint64_t now_ms)
{
    MDB_val k = { plen, (void *)pre }, d;

    if (mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE) != 0 ||
        k.mv_size != plen + 8 || memcmp(k.mv_data, pre, plen) != 0 ||
        d.mv_size != 16)
        return 0;
    uint64_t created = store_get_be64(d.mv_data);
    return now_ms > created ? now_ms - created : 0;
}

/* Open items of the queue whose deadline is before now. */
static uint64_t
queue_sla_breached(MDB_cursor *cur, const uint8_t *pre, size_t plen, uint64_t now_ms)
{
    MDB_val k = { plen, (void *)pre }, d;
    uint64_t n = 0;
    int rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);

    while (rc == 0 && k.mv_size == plen + 16 && memcmp(k.mv_data, pre, plen) == 0 &&
           store_get_be64((uint8_t *)k.mv_data + plen) < now_ms) {
        n++;
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    return n;
}

/* One {queue, depth, leased, delayed, oldest_age_ms, sla_breached}. */
static void
queue_pack_qstat(struct store *s, MDB_txn *txn, const MDB_val *k,
                 const MDB_val *d, uint64_t now_ms, msgpack_packer *pk)
{
    uint8_t pre[HITLQ_MAX_QUEUE_NAME + 1];
    size_t plen = k->mv_size < HITLQ_MAX_QUEUE_NAME ? k->mv_size : HITLQ_MAX_QUEUE_NAME;
    MDB_cursor *oc, *sc;
    const uint8_t *v = d->mv_data;

    memcpy(pre, k->mv_data, plen);
    pre[plen++] = 0;
    msgpack_pack_map(pk, 6);
    wire_pack_kv_strn(pk, "queue", k->mv_data, plen - 1);
    wire_pack_kv_u64(pk, "depth", d->mv_size == 24 ? store_get_be64(v) : 0);
    wire_pack_kv_u64(pk, "leased", d->mv_size == 24 ? store_get_be64(v + 8) : 0);
    wire_pack_kv_u64(pk, "delayed", d->mv_size == 24 ? store_get_be64(v + 16) : 0);
    uint64_t age = 0, breached = 0;
    if (mdb_cursor_open(txn, s->open, &oc) == 0) {
        age = queue_oldest_age(oc, pre, plen, now_ms);
        mdb_cursor_close(oc);
    }
    if (mdb_cursor_open(txn, s->sla, &sc) == 0) {
        breached = queue_sla_breached(sc, pre, plen, now_ms);
        mdb_cursor_close(sc);
    }
    wire_pack_kv_u64(pk, "oldest_age_ms", age);
    wire_pack_kv_u64(pk, "sla_breached", breached);
}

static void
queue_pack_tstat(const MDB_val *k, const MDB_val *d, msgpack_packer *pk)
{
    const uint8_t *v = d->mv_data;
    uint64_t sub = 0, autos = 0, queued = 0;

    if (d->mv_size == 24) {
        sub = store_get_be64(v);
        autos = store_get_be64(v + 8);
        queued = store_get_be64(v + 16);
    }
    msgpack_pack_map(pk, 5);
    wire_pack_kv_strn(pk, "type", k->mv_data, k->mv_size);
    wire_pack_kv_u64(pk, "submitted", sub);
    wire_pack_kv_u64(pk, "auto_resolved", autos);
    wire_pack_kv_u64(pk, "queued", queued);
    wire_pack_kv_f64(pk, "auto_rate", sub ? (double)autos / (double)sub : 0.0);
}

/* Packs "name": [ one entry per key of dbi ]. */
static int
queue_pack_counters(struct store *s, MDB_txn *txn, MDB_dbi dbi, bool queues,
                    uint64_t now_ms, msgpack_packer *pk)
{
    MDB_stat st;
    MDB_cursor *cur;
    MDB_val k, d;
    int rc = mdb_stat(txn, dbi, &st);

    if (rc == 0)
        rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        return store_status(rc);
    queue_pack_key(pk, queues ? "queues" : "types");
    msgpack_pack_array(pk, st.ms_entries);
    for (size_t i = 0; i < st.ms_entries; i++) {
        rc = mdb_cursor_get(cur, &k, &d, i == 0 ? MDB_FIRST : MDB_NEXT);
        if (rc != 0)
            break;
        if (queues)
            queue_pack_qstat(s, txn, &k, &d, now_ms, pk);
        else
            queue_pack_tstat(&k, &d, pk);
    }
    mdb_cursor_close(cur);
    return store_status(rc);
}

int
queue_stats(struct store *s, MDB_txn *txn, uint64_t now_ms, msgpack_packer *pk)
{
    int st;

    msgpack_pack_map(pk, 4);
    wire_pack_kv_u64(pk, "time_ms", now_ms);
    if ((st = queue_pack_counters(s, txn, s->qstats, true, now_ms, pk)) != HITLQ_ST_OK ||
        (st = queue_pack_counters(s, txn, s->tstats, false, now_ms, pk)) != HITLQ_ST_OK)
        return st;
    wire_pack_kv_u64(pk, "results", queue_results_next(s, txn));
    return HITLQ_ST_OK;
}

uint64_t
queue_results_next(struct store *s, MDB_txn *txn)
{
    uint64_t seq = 1;

    if (journal_next_seq(s, txn, &seq) != HITLQ_ST_OK)
        return 1;
    return seq;
}

size_t
queue_results_read(struct store *s, MDB_txn *txn, uint64_t from, size_t max,
                   int (*fn)(void *arg, uint64_t seq, const uint8_t *body, size_t len),
                   void *arg)
{
    MDB_cursor *cur;
    uint8_t kb[8];
    MDB_val k = { 8, kb }, d;
    size_t n = 0;
    int rc;

    if (max == 0 || mdb_cursor_open(txn, s->results, &cur) != 0)
        return 0;
    store_put_be64(kb, from);
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    while (rc == 0 && n < max && k.mv_size == 8) {
        n++;
        if (fn(arg, store_get_be64(k.mv_data), d.mv_data, d.mv_size) != 0)
            break;
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return n;
}

int
queue_audit_ref(struct store *s, MDB_txn *txn, uint64_t id, uint64_t *index, uint8_t *salt)
{
    struct qi_item it;
    int st = qi_item_load(s, txn, id, &it);

    if (st != HITLQ_ST_OK)
        return st;
    st = it.b.has_audit ? HITLQ_ST_OK : HITLQ_ST_NOT_FOUND;
    if (it.b.has_audit) {
        *index = it.b.audit_index;
        if (salt != NULL)
            memcpy(salt, it.b.audit_salt, 32);
    }
    qi_item_done(&it);
    return st;
}

int
queue_item_type(struct store *s, MDB_txn *txn, uint64_t id, char *type, size_t cap)
{
    struct qi_item it;
    int st = qi_item_load(s, txn, id, &it);

    if (st != HITLQ_ST_OK)
        return st;
    if (cap == 0 || it.b.type_len >= cap) {
        st = HITLQ_ST_INTERNAL;
    } else {
        memcpy(type, it.b.type, it.b.type_len);
        type[it.b.type_len] = '\0';
    }
    qi_item_done(&it);
    return st;
}
