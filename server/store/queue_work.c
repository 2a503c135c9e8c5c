/*
 * queue_work.c - the specialists' work operations on the store: an item by
 * its idempotency key (GET_BY_KEY), a queue's open items page by page
 * (LIST, on the `open` index), a claim of one named item (CLAIM_ID), a
 * comment, and the two changes to a resolved item: REOPEN (back on a
 * queue) and AMEND (a new outcome).  Every check happens before the first
 * write, so a refused request leaves the transaction unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue_int.h"
#include "wire.h"

#define IDEM_VAL_LEN 24u       /* id64 + content_hash[16] (queue.c) */

int
queue_id_by_key(struct store *s, MDB_txn *txn, const char *key, uint64_t *id)
{
    MDB_val k = { strlen(key), (void *)key }, d;
    int rc = mdb_get(txn, s->idem, &k, &d);

    if (rc == MDB_NOTFOUND)
        return HITLQ_ST_NOT_FOUND;
    if (rc != 0 || d.mv_size != IDEM_VAL_LEN)
        return HITLQ_ST_INTERNAL;
    *id = store_get_be64(d.mv_data);
    return HITLQ_ST_OK;
}

int
queue_item_where(struct store *s, MDB_txn *txn, uint64_t id, char *queue,
                 char *type, size_t cap, uint8_t *state)
{
    struct qi_item it;
    int st = qi_item_load(s, txn, id, &it);

    if (st != HITLQ_ST_OK)
        return st;
    snprintf(queue, cap, "%s", it.h.queue);
    snprintf(type, cap, "%.*s", (int)it.b.type_len, it.b.type);
    *state = it.h.state;
    qi_item_done(&it);
    return HITLQ_ST_OK;
}

/* ---- LIST ------------------------------------------------------------------ */

static const char *
queue_work_state(uint8_t state)
{
    switch (state) {
#define HITLQ_X_STR(name, val, str) case val: return str;
    HITLQ_STATES(HITLQ_X_STR)
#undef HITLQ_X_STR
    }
    return "unknown";
}

/* Up to max ids of queue's open entries after `after` into ids; *more
 * when another follows.  Returns the count, or -1 (*st set). */
static long
queue_list_ids(struct store *s, MDB_txn *txn, const char *queue, uint64_t after,
               uint32_t max, uint64_t *ids, bool *more, int *st)
{
    uint8_t kb[QI_KEY_MAX];
    size_t plen = strlen(queue) + 1;
    MDB_cursor *cur;
    MDB_val k, d;
    long n = 0;
    int rc = mdb_cursor_open(txn, s->open, &cur);

    *more = false;
    if (rc != 0) {
        *st = store_status(rc);
        return -1;
    }
    memcpy(kb, queue, plen);           /* "queue\0" then id > after */
    store_put_be64(kb + plen, after == UINT64_MAX ? after : after + 1);
    k = (MDB_val){ plen + 8, kb };
    rc = after == UINT64_MAX ? MDB_NOTFOUND : mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == plen + 8 && memcmp(k.mv_data, kb, plen) == 0) {
        if ((uint32_t)n == max) {
            *more = true;
            break;
        }
        ids[n++] = store_get_be64((const uint8_t *)k.mv_data + plen);
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        *st = store_status(rc);
        return -1;
    }
    return n;
}

/* One LIST entry {id, priority, deadline_ms, age_ms, state, attempts, type}. */
static int
queue_list_one(struct store *s, MDB_txn *txn, uint64_t id, uint64_t now_ms,
               msgpack_packer *pk)
{
    struct qi_item it;

    if (qi_item_load(s, txn, id, &it) != HITLQ_ST_OK)
        return HITLQ_ST_INTERNAL;      /* the index points at no item */
    msgpack_pack_map(pk, 7);
    wire_pack_kv_u64(pk, "id", id);
    wire_pack_kv_u64(pk, "priority", it.h.priority);
    wire_pack_kv_u64(pk, "deadline_ms", it.h.deadline_ms);
    wire_pack_kv_u64(pk, "age_ms", now_ms > it.h.created_ms ? now_ms - it.h.created_ms : 0);
    wire_pack_kv_str(pk, "state", queue_work_state(it.h.state));
    wire_pack_kv_u64(pk, "attempts", it.h.attempts);
    wire_pack_kv_strn(pk, "type", it.b.type, it.b.type_len);
    qi_item_done(&it);
    return HITLQ_ST_OK;
}

int
queue_list(struct store *s, MDB_txn *txn, const char *queue, uint64_t after,
           uint32_t limit, uint64_t now_ms, msgpack_packer *pk)
{
    uint64_t *ids;
    bool more;
    int st = HITLQ_ST_OK;
    long n;

    if (limit == 0 || limit > QUEUE_LIST_MAX)
        return HITLQ_ST_BAD_REQUEST;
    if ((ids = malloc(limit * sizeof(*ids))) == NULL)
        return HITLQ_ST_INTERNAL;
    n = queue_list_ids(s, txn, queue, after, limit, ids, &more, &st);
    if (n >= 0) {
        msgpack_pack_map(pk, 1 + more);
        wire_pack_cstr(pk, "items");
        msgpack_pack_array(pk, (uint32_t)n);
        for (long i = 0; i < n && st == HITLQ_ST_OK; i++)
            st = queue_list_one(s, txn, ids[i], now_ms, pk);
        if (more && st == HITLQ_ST_OK)
            wire_pack_kv_u64(pk, "next", ids[n - 1]);
    }
    free(ids);
    return st;
}

/* ---- CLAIM_ID ---------------------------------------------------------------- */

int
queue_claim_id(struct store *s, MDB_txn *txn, uint64_t id, const char *queue,
               const struct claim_in *in, uint64_t now_ms, struct claim_out *out,
               char *err, size_t errlen)
{
    struct qi_item it;
    int st = qi_item_load(s, txn, id, &it);

    memset(out, 0, sizeof(*out));
    if (st != HITLQ_ST_OK)
        return st;
    if (it.h.state != HITLQ_STATE_QUEUED) {
        snprintf(err, errlen, "item %llu is %s, not queued", (unsigned long long)id,
                 queue_work_state(it.h.state));
        st = HITLQ_ST_INVALID_STATE;
    } else if (strcmp(it.h.queue, queue) != 0) {
        snprintf(err, errlen, "item %llu moved to queue \"%s\"", (unsigned long long)id,
                 it.h.queue);
        st = HITLQ_ST_CONFLICT;
    }
    if (st == HITLQ_ST_OK)
        st = qi_ready_del(s, txn, &it);
    if (st == HITLQ_ST_OK)
        st = queue_claim_item(s, txn, in, now_ms, &it);
    if (st == HITLQ_ST_OK)
        st = queue_claim_reply(s, txn, &it, now_ms, out);
    if (st == HITLQ_ST_OK) {
        out->id = it.id;
        out->lease = it.h.lease;
        out->expires_ms = it.h.due_ms;
    }
    qi_item_done(&it);
    return st;
}

/* ---- COMMENT, REOPEN, AMEND ------------------------------------------------ */

/* Journals ev (actor set by the caller) for the loaded item, keeps a
 * result's seq in its header and *seq, saves and frees it. */
static int
queue_work_commit(struct store *s, MDB_txn *txn, struct qi_item *it, uint64_t now_ms,
                  struct journal_ev *ev, uint64_t *seq)
{
    struct journal_item ji;
    uint64_t rseq;
    int st;

    qi_item_journal(it, &ji);
    st = journal_record(s, txn, &ji, now_ms, ev, 1, &rseq);
    if (rseq != 0)
        it->h.result_seq = rseq;
    if (seq != NULL)
        *seq = rseq;
    if (st == HITLQ_ST_OK)
        st = qi_item_save(s, txn, it);
    qi_item_done(it);
    return st;
}

int
queue_comment(struct store *s, MDB_txn *txn, uint64_t id, const char *actor,
              const char *note, uint64_t now_ms)
{
    struct qi_item it;
    struct journal_ev ev = { .kind = JOURNAL_COMMENTED, .actor = actor, .note = note };
    int st = qi_item_load(s, txn, id, &it);

    if (st != HITLQ_ST_OK)
        return st;
    return queue_work_commit(s, txn, &it, now_ms, &ev, NULL);
}

/* The `audit` index of the last `resolved` / `amended` event among the
 * history maps in p[0..len), kept in *index (unchanged when none). */
static void
queue_scan_decisions(const uint8_t *p, size_t len, uint64_t *index)
{
    msgpack_unpacked u;
    size_t off = 0;

    msgpack_unpacked_init(&u);
    while (msgpack_unpack_next(&u, (const char *)p, len, &off) == MSGPACK_UNPACK_SUCCESS) {
        const msgpack_object *o = &u.data, *ev = NULL, *ix = NULL;

        for (uint32_t i = 0; o->type == MSGPACK_OBJECT_MAP && i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];

            if (kv->key.type != MSGPACK_OBJECT_STR)
                continue;
            if (kv->key.via.str.size == 5 && memcmp(kv->key.via.str.ptr, "event", 5) == 0)
                ev = &kv->val;
            else if (kv->key.via.str.size == 5 && memcmp(kv->key.via.str.ptr, "audit", 5) == 0)
                ix = &kv->val;
        }
        if (ev != NULL && ix != NULL && ev->type == MSGPACK_OBJECT_STR &&
            ix->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
            ((ev->via.str.size == 8 && memcmp(ev->via.str.ptr, "resolved", 8) == 0) ||
             (ev->via.str.size == 7 && memcmp(ev->via.str.ptr, "amended", 7) == 0)))
            *index = ix->via.u64;
    }
    msgpack_unpacked_destroy(&u);
}

/* The audit index of the decision a REOPEN / AMEND acts on: the last
 * `resolved` or `amended` event's entry, else (auto-resolved) the model
 * decision's; 0 when there is none (no audit log). */
static int
queue_last_decision(struct store *s, MDB_txn *txn, const struct qi_item *it, uint64_t *index)
{
    MDB_cursor *cur;
    uint8_t kb[12];
    MDB_val k = { sizeof(kb), kb }, d;
    int rc = mdb_cursor_open(txn, s->hist, &cur);

    *index = it->b.has_audit ? it->b.audit_index : 0;
    if (rc != 0)
        return store_status(rc);
    store_put_be64(kb, it->id);
    store_put_be32(kb + 8, 0);
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == 12 && memcmp(k.mv_data, kb, 8) == 0) {
        queue_scan_decisions(d.mv_data, d.mv_size, index);
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? HITLQ_ST_OK : store_status(rc);
}

/* Loads a resolved item for REOPEN / AMEND and finds the decision acted
 * on; on success the caller owns *it. */
static int
queue_resolved_load(struct store *s, MDB_txn *txn, uint64_t id, struct qi_item *it,
                    uint64_t *ref, char *err, size_t errlen)
{
    int st = qi_item_load(s, txn, id, it);

    if (st != HITLQ_ST_OK)
        return st;
    if (it->h.state != HITLQ_STATE_RESOLVED) {
        snprintf(err, errlen, "item %llu is %s, not resolved", (unsigned long long)id,
                 queue_work_state(it->h.state));
        st = HITLQ_ST_INVALID_STATE;
    } else {
        st = queue_last_decision(s, txn, it, ref);
    }
    if (st != HITLQ_ST_OK)
        qi_item_done(it);
    return st;
}

int
queue_reopen(struct store *s, MDB_txn *txn, uint64_t id, const char *actor,
             const char *queue, const char *note, uint64_t now_ms, char *queue_out,
             uint64_t *seq, struct queue_fx *fx, char *err, size_t errlen)
{
    struct qi_item it;
    struct journal_ev ev = { .kind = JOURNAL_REOPENED, .actor = actor, .note = note };
    int st = queue_resolved_load(s, txn, id, &it, &ev.ref, err, errlen);

    if (st != HITLQ_ST_OK)
        return st;
    if (queue != NULL && queue[0] != '\0')
        snprintf(it.h.queue, sizeof(it.h.queue), "%s", queue);
    if (it.h.queue[0] == '\0') {
        snprintf(err, errlen, "item %llu was auto-resolved and was on no queue: "
                 "name one with \"queue\"", (unsigned long long)id);
        qi_item_done(&it);
        return HITLQ_ST_INVALID_STATE;
    }
    ev.prev_seq = it.h.result_seq;
    ev.queue = queue_out;
    snprintf(queue_out, HITLQ_MAX_QUEUE_NAME + 1, "%s", it.h.queue);
    it.h.resolved_ms = 0;
    if ((st = qi_enqueue(s, txn, &it, fx)) != HITLQ_ST_OK) {
        qi_item_done(&it);
        return st;
    }
    st = queue_work_commit(s, txn, &it, now_ms, &ev, seq);
    if (st == HITLQ_ST_OK && fx != NULL)
        fx->results = true;
    return st;
}

int
queue_amend(struct store *s, MDB_txn *txn, uint64_t id, const char *actor,
            const char *outcome, const char *note, const char *root_cause,
            uint64_t now_ms, uint64_t *seq, struct queue_fx *fx, char *err, size_t errlen)
{
    struct qi_item it;
    struct journal_ev ev = {
        .kind = JOURNAL_AMENDED, .actor = actor, .outcome = outcome, .note = note,
        .root_cause = root_cause,
    };
    int st = queue_resolved_load(s, txn, id, &it, &ev.ref, err, errlen);

    if (st != HITLQ_ST_OK)
        return st;
    ev.prev_seq = it.h.result_seq;
    snprintf(it.h.outcome, sizeof(it.h.outcome), "%s", outcome);
    st = queue_work_commit(s, txn, &it, now_ms, &ev, seq);
    if (st == HITLQ_ST_OK && fx != NULL)
        fx->results = true;
    return st;
}
