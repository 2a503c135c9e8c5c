/*
 * queue_index.c - the LMDB plumbing under the queue: error mapping, meta
 * counters, item record load/save, and the ready/open/sla/timers indexes
 * and per-queue / per-type counters (layouts in queue_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "queue_int.h"

int
qi_meta_get(struct store *s, MDB_txn *txn, const char *name, uint64_t *v)
{
    MDB_val k = { strlen(name), (void *)name }, d;
    int rc = mdb_get(txn, s->meta, &k, &d);

    if (rc == MDB_NOTFOUND) {
        *v = 1;
        return HITLQ_ST_OK;
    }
    if (rc != 0 || d.mv_size != 8)
        return HITLQ_ST_INTERNAL;
    *v = store_get_be64(d.mv_data);
    return HITLQ_ST_OK;
}

int
qi_meta_put(struct store *s, MDB_txn *txn, const char *name, uint64_t v)
{
    uint8_t buf[8];
    MDB_val k = { strlen(name), (void *)name }, d = { 8, buf };

    store_put_be64(buf, v);
    return store_status(mdb_put(txn, s->meta, &k, &d, 0));
}

int
qi_item_load(struct store *s, MDB_txn *txn, uint64_t id, struct qi_item *it)
{
    uint8_t kb[8];
    MDB_val k = { 8, kb }, d;
    int rc;

    it->id = id;
    it->rec = NULL;
    store_put_be64(kb, id);
    rc = mdb_get(txn, s->items, &k, &d);
    if (rc == MDB_NOTFOUND)
        return HITLQ_ST_NOT_FOUND;
    if (rc != 0)
        return HITLQ_ST_INTERNAL;
    it->rec = d.mv_size <= sizeof(it->stack) ? it->stack : malloc(d.mv_size);
    if (it->rec == NULL)
        return HITLQ_ST_INTERNAL;
    memcpy(it->rec, d.mv_data, d.mv_size);
    it->len = d.mv_size;
    if (item_hdr_decode(it->rec, it->len, &it->h, &it->body_off) != 0 ||
        item_body_decode(it->rec + it->body_off, it->len - it->body_off,
                         &it->b) != 0) {
        qi_item_done(it);
        return HITLQ_ST_INTERNAL;
    }
    return HITLQ_ST_OK;
}

int
qi_item_save(struct store *s, MDB_txn *txn, struct qi_item *it)
{
    uint8_t kb[8], hb[ITEM_HDR_MAX];
    size_t hl = item_hdr_encode(hb, &it->h), bl = it->len - it->body_off;
    MDB_val k = { 8, kb }, d = { hl + bl, NULL };
    int rc;

    store_put_be64(kb, it->id);
    rc = mdb_put(txn, s->items, &k, &d, MDB_RESERVE);
    if (rc != 0)
        return store_status(rc);
    memcpy(d.mv_data, hb, hl);
    memcpy((uint8_t *)d.mv_data + hl, it->rec + it->body_off, bl);
    return HITLQ_ST_OK;
}

void
qi_item_done(struct qi_item *it)
{
    if (it->rec != NULL && it->rec != it->stack)
        free(it->rec);
    it->rec = NULL;
}

void
qi_item_journal(struct qi_item *it, struct journal_item *ji)
{
    ji->id = it->id;
    ji->key = it->b.key;
    ji->type = it->b.type;
    ji->model = it->b.model;
    ji->score = it->b.score;
    ji->hist_n = &it->h.hist_n;
    ji->log_entry = NULL;
    ji->audit_ref = it->b.has_audit ? it->b.audit_index : JOURNAL_NO_AUDIT;
    ji->qa_copy = it->b.has_triage && (it->b.flags & ITEM_FLAG_QA_COPY) != 0;
    ji->unscored = ji->qa_copy || (it->b.has_triage && it->b.route == HITLQ_ROUTE_DATA_QUALITY);
    ji->queue = it->h.queue;
    ji->created_ms = it->h.created_ms;
}

int
qi_lease_check(const struct qi_item *it, uint64_t lease, uint64_t now_ms)
{
    bool mine = lease != 0 && it->h.lease == lease;

    if (it->h.state == HITLQ_STATE_RESOLVED)
        return HITLQ_ST_ALREADY_RESOLVED;
    if (it->h.state == HITLQ_STATE_LEASED && !mine)
        return HITLQ_ST_LEASE_HELD;
    if (mine && (it->h.state != HITLQ_STATE_LEASED || it->h.due_ms <= now_ms))
        return HITLQ_ST_LEASE_EXPIRED;    /* a queued item keeps its expired token */
    return mine ? HITLQ_ST_OK : HITLQ_ST_STALE_LEASE;
}

/* Writes "queue\0" into k; returns its length. */
static size_t
qi_qprefix(uint8_t *k, const char *queue)
{
    size_t n = strlen(queue);

    memcpy(k, queue, n);
    k[n] = 0;
    return n + 1;
}

static size_t
qi_ready_key(uint8_t *k, const struct qi_item *it)
{
    size_t n = qi_qprefix(k, it->h.queue);

    store_put_be32(k + n, UINT32_MAX - it->h.priority);
    store_put_be64(k + n + 4, it->h.deadline_ms);
    store_put_be64(k + n + 12, it->id);
    return n + 20;
}

int
qi_ready_put(struct store *s, MDB_txn *txn, const struct qi_item *it)
{
    uint8_t kb[QI_KEY_MAX];
    MDB_val k = { qi_ready_key(kb, it), kb }, d = { 0, kb };

    return store_status(mdb_put(txn, s->ready, &k, &d, 0));
}

int
qi_ready_del(struct store *s, MDB_txn *txn, const struct qi_item *it)
{
    uint8_t kb[QI_KEY_MAX];
    MDB_val k = { qi_ready_key(kb, it), kb };
    int rc = mdb_del(txn, s->ready, &k, NULL);

    return rc == MDB_NOTFOUND ? HITLQ_ST_OK : store_status(rc);
}

int
qi_open_put(struct store *s, MDB_txn *txn, const struct qi_item *it)
{
    uint8_t kb[QI_KEY_MAX], vb[16];
    size_t n = qi_qprefix(kb, it->h.queue);
    MDB_val k = { n + 8, kb }, d = { 16, vb };
    int rc;

    store_put_be64(kb + n, it->id);
    store_put_be64(vb, it->h.created_ms);
    store_put_be64(vb + 8, it->h.deadline_ms);
    rc = mdb_put(txn, s->open, &k, &d, 0);
    if (rc != 0)
        return store_status(rc);
    store_put_be64(kb + n, it->h.deadline_ms);
    store_put_be64(kb + n + 8, it->id);
    k.mv_size = n + 16;
    d.mv_size = 0;
    return store_status(mdb_put(txn, s->sla, &k, &d, 0));
}

int
qi_open_del(struct store *s, MDB_txn *txn, const struct qi_item *it)
{
    uint8_t kb[QI_KEY_MAX];
    size_t n = qi_qprefix(kb, it->h.queue);
    MDB_val k = { n + 8, kb };
    int rc;

    store_put_be64(kb + n, it->id);
    rc = mdb_del(txn, s->open, &k, NULL);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_status(rc);
    store_put_be64(kb + n, it->h.deadline_ms);
    store_put_be64(kb + n + 8, it->id);
    k.mv_size = n + 16;
    rc = mdb_del(txn, s->sla, &k, NULL);
    return rc == MDB_NOTFOUND ? HITLQ_ST_OK : store_status(rc);
}

int
qi_timer_put(struct store *s, MDB_txn *txn, uint64_t due, uint64_t id, uint8_t kind)
{
    uint8_t kb[16];
    MDB_val k = { 16, kb }, d = { 1, &kind };

    store_put_be64(kb, due);
    store_put_be64(kb + 8, id);
    return store_status(mdb_put(txn, s->timers, &k, &d, 0));
}

int
qi_timer_del(struct store *s, MDB_txn *txn, uint64_t due, uint64_t id)
{
    uint8_t kb[16];
    MDB_val k = { 16, kb };
    int rc;

    store_put_be64(kb, due);
    store_put_be64(kb + 8, id);
    rc = mdb_del(txn, s->timers, &k, NULL);
    return rc == MDB_NOTFOUND ? HITLQ_ST_OK : store_status(rc);
}

/* Adds three signed deltas to the three BE64 counters under key in dbi. */
static int
qi_counters_add(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t key_len,
                const int64_t delta[3])
{
    uint8_t vb[24] = { 0 };
    MDB_val k = { key_len, (void *)key }, d;
    int rc = mdb_get(txn, dbi, &k, &d);

    if (rc == 0 && d.mv_size == sizeof(vb))
        memcpy(vb, d.mv_data, sizeof(vb));
    else if (rc != 0 && rc != MDB_NOTFOUND)
        return store_status(rc);
    for (int i = 0; i < 3; i++) {
        uint64_t v = store_get_be64(vb + 8 * i) + (uint64_t)delta[i];

        store_put_be64(vb + 8 * i, v);
    }
    d.mv_size = sizeof(vb);
    d.mv_data = vb;
    return store_status(mdb_put(txn, dbi, &k, &d, 0));
}

int
qi_qstats_add(struct store *s, MDB_txn *txn, const char *queue,
              int64_t depth, int64_t leased, int64_t delayed)
{
    const int64_t delta[3] = { depth, leased, delayed };

    return qi_counters_add(txn, s->qstats, queue, strlen(queue), delta);
}

int
qi_tstats_add(struct store *s, MDB_txn *txn, const char *type, size_t type_len,
              int64_t submitted, int64_t autos, int64_t queued)
{
    const int64_t delta[3] = { submitted, autos, queued };

    return qi_counters_add(txn, s->tstats, type, type_len, delta);
}

int
qi_enqueue(struct store *s, MDB_txn *txn, struct qi_item *it, struct queue_fx *fx)
{
    int st;

    it->h.state = HITLQ_STATE_QUEUED;
    it->h.lease = 0;
    it->h.due_ms = 0;
    if ((st = qi_ready_put(s, txn, it)) != HITLQ_ST_OK ||
        (st = qi_open_put(s, txn, it)) != HITLQ_ST_OK ||
        (st = qi_qstats_add(s, txn, it->h.queue, 1, 0, 0)) != HITLQ_ST_OK)
        return st;
    queue_fx_wake(fx, it->h.queue, 1);
    return HITLQ_ST_OK;
}

int
qi_unlist(struct store *s, MDB_txn *txn, const struct qi_item *it)
{
    return qi_open_del(s, txn, it);
}

int
qi_ready_again(struct store *s, MDB_txn *txn, struct qi_item *it, struct queue_fx *fx)
{
    int st;

    it->h.state = HITLQ_STATE_QUEUED;
    it->h.lease = 0;
    it->h.due_ms = 0;
    if ((st = qi_ready_put(s, txn, it)) != HITLQ_ST_OK ||
        (st = qi_qstats_add(s, txn, it->h.queue, 1, 0, 0)) != HITLQ_ST_OK)
        return st;
    queue_fx_wake(fx, it->h.queue, 1);
    return HITLQ_ST_OK;
}
