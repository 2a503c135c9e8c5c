/*
 * review_store.c - the `review` and `rvitems` databases of the live
 * AI-vs-human review (layout and API in review_store.h): add a delta to
 * a window's totals or queue row (bounding the queue rows), keep the open
 * items' facts, scan a type's rows over a range of windows.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "review_store.h"

#define REVIEW_KEY_MAX (HITLQ_MAX_NAME + 1u + 8u + HITLQ_MAX_QUEUE_NAME)

_Static_assert(sizeof(struct review_row) == 224, "review_row v1 is 224 bytes");

void
review_row_merge(struct review_row *dst, const struct review_row *src)
{
    dst->not_comparable += src->not_comparable;
    dst->decisions += src->decisions;
    dst->scored += src->scored;
    for (unsigned b = 0; b < REVIEW_BINS; b++)
        dst->hist[b] += src->hist[b];
    for (unsigned r = 0; r < REVIEW_ROUTES; r++) {
        dst->route_n[r] += src->route_n[r];
        dst->qa_n[r] += src->qa_n[r];
        dst->qa_wrong[r] += src->qa_wrong[r];
    }
    for (unsigned a = 0; a < REVIEW_LABELS; a++)
        for (unsigned b = 0; b < REVIEW_LABELS; b++)
            dst->conf[a][b] += src->conf[a][b];
}

/* type\0 || be64 start || queue (NULL: nothing). */
static size_t
review_key_pack(const char *type, uint64_t start_ms, const char *queue, uint8_t *out)
{
    size_t tl = strlen(type) + 1, ql = queue != NULL ? strlen(queue) : 0;

    memcpy(out, type, tl);
    store_put_be64(out + tl, start_ms);
    memcpy(out + tl + 8, queue != NULL ? queue : "", ql);
    return tl + 8 + ql;
}

/* Reads the row at kv into *row: 1 found, 0 absent, or -HITLQ_ST_*. */
static int
review_row_get(struct store *s, MDB_txn *txn, MDB_val *kv, struct review_row *row)
{
    MDB_val v;
    int rc = mdb_get(txn, s->review, kv, &v);

    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return -store_status(rc);
    if (v.mv_size != sizeof *row || ((const uint8_t *)v.mv_data)[0] != REVIEW_VERSION)
        return -HITLQ_ST_INTERNAL;
    memcpy(row, v.mv_data, sizeof *row);
    return 1;
}

static int
review_row_put(struct store *s, MDB_txn *txn, MDB_val *kv, const struct review_row *row)
{
    MDB_val v = { sizeof *row, (void *)row };
    int rc = store_put(s, txn, s->review, kv, &v, 0);

    return rc == 0 ? HITLQ_ST_OK : store_status(rc);
}

/* Adds delta to the row at kv (made with end_ms when new); *made tells
 * whether it was new. */
static int
review_row_add(struct store *s, MDB_txn *txn, MDB_val *kv, uint64_t end_ms,
               const struct review_row *delta, bool *made)
{
    struct review_row row;
    int got = review_row_get(s, txn, kv, &row);

    if (got < 0)
        return -got;
    *made = got == 0;
    if (got == 0) {
        memset(&row, 0, sizeof row);
        row.version = REVIEW_VERSION;
        row.end_ms = end_ms;
    }
    review_row_merge(&row, delta);
    return review_row_put(s, txn, kv, &row);
}

/* The queue row's key for queue: its own while the window has room (the
 * totals row counts the queue rows made), else the "other" row. */
static int
review_queue_key(struct store *s, MDB_txn *txn, const char *type, uint64_t start_ms,
                 uint64_t end_ms, const char *queue, uint8_t *kb, MDB_val *kv)
{
    uint8_t tb[REVIEW_KEY_MAX];
    MDB_val tk = { review_key_pack(type, start_ms, NULL, tb), tb }, v;
    struct review_row tot;
    int got, rc;

    kv->mv_size = review_key_pack(type, start_ms, queue, kb);
    kv->mv_data = kb;
    if ((rc = mdb_get(txn, s->review, kv, &v)) == 0)
        return HITLQ_ST_OK;
    if (rc != MDB_NOTFOUND)
        return store_status(rc);
    if ((got = review_row_get(s, txn, &tk, &tot)) < 0)
        return -got;
    if (got == 0) {
        memset(&tot, 0, sizeof tot);
        tot.version = REVIEW_VERSION;
        tot.end_ms = end_ms;
    }
    if (tot.n_queues >= REVIEW_QUEUES_MAX) {
        kv->mv_size = review_key_pack(type, start_ms, REVIEW_OTHER, kb);
        return HITLQ_ST_OK;
    }
    tot.n_queues++;
    return review_row_put(s, txn, &tk, &tot);
}

int
review_store_add(struct store *s, MDB_txn *txn, const char *type, uint64_t start_ms,
                 uint64_t end_ms, const char *queue, const struct review_row *delta)
{
    uint8_t kb[REVIEW_KEY_MAX];
    MDB_val kv;
    bool made;
    int st;

    if (strlen(type) > HITLQ_MAX_NAME || (queue != NULL && strlen(queue) > HITLQ_MAX_QUEUE_NAME))
        return HITLQ_ST_INTERNAL;
    if (queue == NULL) {
        kv = (MDB_val){ review_key_pack(type, start_ms, NULL, kb), kb };
        return review_row_add(s, txn, &kv, end_ms, delta, &made);
    }
    st = review_queue_key(s, txn, type, start_ms, end_ms, queue, kb, &kv);
    return st == HITLQ_ST_OK ? review_row_add(s, txn, &kv, end_ms, delta, &made) : st;
}

/* ---- items ----------------------------------------------------------------- */

int
review_item_put(struct store *s, MDB_txn *txn, uint64_t id, const struct review_item *it)
{
    uint8_t kb[8];
    MDB_val k = { 8, kb }, v = { sizeof *it, (void *)it };
    int rc;

    store_put_be64(kb, id);
    rc = store_put(s, txn, s->rvitems, &k, &v, 0);
    return rc == 0 ? HITLQ_ST_OK : store_status(rc);
}

int
review_item_get(struct store *s, MDB_txn *txn, uint64_t id, struct review_item *it)
{
    uint8_t kb[8];
    MDB_val k = { 8, kb }, v;
    int rc;

    store_put_be64(kb, id);
    rc = mdb_get(txn, s->rvitems, &k, &v);
    if (rc == MDB_NOTFOUND)
        return HITLQ_ST_NOT_FOUND;
    if (rc != 0)
        return store_status(rc);
    if (v.mv_size != sizeof *it || ((const uint8_t *)v.mv_data)[0] != REVIEW_VERSION)
        return HITLQ_ST_INTERNAL;
    memcpy(it, v.mv_data, sizeof *it);
    it->type[HITLQ_MAX_NAME] = '\0';
    it->queue[HITLQ_MAX_QUEUE_NAME] = '\0';
    return HITLQ_ST_OK;
}

int
review_item_del(struct store *s, MDB_txn *txn, uint64_t id)
{
    uint8_t kb[8];
    MDB_val k = { 8, kb };
    int rc;

    store_put_be64(kb, id);
    rc = store_del(s, txn, s->rvitems, &k, NULL);
    return rc == 0 || rc == MDB_NOTFOUND ? HITLQ_ST_OK : store_status(rc);
}

/* ---- scan -------------------------------------------------------------------- */

/* Splits a key of `type` into start and queue (qb; NULL for totals).
 * False when the key belongs to another type or is malformed. */
static bool
review_key_split(const MDB_val *k, const char *type, uint64_t *start, char *qb,
                 const char **queue)
{
    size_t tl = strlen(type) + 1, ql;

    if (k->mv_size < tl + 8 || memcmp(k->mv_data, type, tl) != 0)
        return false;
    ql = k->mv_size - tl - 8;
    if (ql > HITLQ_MAX_QUEUE_NAME)
        return false;
    *start = store_get_be64((const uint8_t *)k->mv_data + tl);
    memcpy(qb, (const uint8_t *)k->mv_data + tl + 8, ql);
    qb[ql] = '\0';
    *queue = ql == 0 ? NULL : qb;
    return true;
}

int
review_store_scan(struct store *s, MDB_txn *txn, const char *type, uint64_t from_ms,
                  uint64_t to_ms, review_row_fn fn, void *arg)
{
    uint8_t kb[REVIEW_KEY_MAX];
    char qb[HITLQ_MAX_QUEUE_NAME + 1];
    MDB_val k = { 0, kb }, v;
    MDB_cursor *cur;
    struct review_row row;
    const char *queue;
    uint64_t start;
    int st = HITLQ_ST_OK, rc;

    if (strlen(type) > HITLQ_MAX_NAME)
        return HITLQ_ST_OK;
    k.mv_size = review_key_pack(type, from_ms, NULL, kb);
    if ((rc = mdb_cursor_open(txn, s->review, &cur)) != 0)
        return store_status(rc);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && st == HITLQ_ST_OK;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (!review_key_split(&k, type, &start, qb, &queue) || start >= to_ms)
            break;
        if (v.mv_size != sizeof row || ((const uint8_t *)v.mv_data)[0] != REVIEW_VERSION) {
            st = HITLQ_ST_INTERNAL;
            break;
        }
        memcpy(&row, v.mv_data, sizeof row);
        st = fn(arg, start, queue, &row);
    }
    mdb_cursor_close(cur);
    return st;
}
