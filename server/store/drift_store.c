/*
 * drift_store.c - the `drift` database of input-drift window counts
 * (layout and API in drift_store.h): merge a batch's counts into a window,
 * close due windows, sum a range of windows.
 */
#include <stdio.h>
#include <string.h>

#include "drift_store.h"

#define DRIFT_VERSION   1u
#define DRIFT_CLOSED    0x01u
#define DRIFT_HDR       16u                     /* version..end_ms */
#define DRIFT_KEY_MAX   (HITLQ_MAX_NAME + 1u + 32u + 8u)

void
drift_counts_init(struct drift_counts *c, const struct drift_obs *o)
{
    c->n = 0;
    c->k = o->k;
    memcpy(c->m, o->m, o->k);
    for (unsigned i = 0; i < o->k; i++)
        memset(c->c[i], 0, (o->m[i] + 2u) * sizeof(uint32_t));
}

void
drift_counts_add(struct drift_counts *c, const struct drift_obs *o)
{
    c->n++;
    for (unsigned i = 0; i < o->k; i++) {
        unsigned b = o->bin[i];

        b = b == DRIFT_BIN_MISSING ? DRIFT_SLOT_MISSING(o->m[i])
          : b == DRIFT_BIN_UNSEEN  ? DRIFT_SLOT_UNSEEN(o->m[i]) : b;
        c->c[i][b]++;
    }
}

/* ---- key and value ------------------------------------------------------- */

static size_t
drift_key_pack(const struct drift_key *k, uint8_t *out)
{
    size_t tl = strlen(k->type) + 1;

    memcpy(out, k->type, tl);
    memcpy(out + tl, k->digest, 32);
    store_put_be64(out + tl + 32, k->start_ms);
    return tl + 32 + 8;
}

static int
drift_key_unpack(const MDB_val *v, struct drift_key *k)
{
    const uint8_t *p = v->mv_data;
    const uint8_t *nul = memchr(p, 0, v->mv_size);
    size_t tl;

    if (nul == NULL || (tl = (size_t)(nul - p) + 1) > HITLQ_MAX_NAME + 1 ||
        v->mv_size != tl + 40)
        return -1;
    memcpy(k->type, p, tl);
    memcpy(k->digest, p + tl, 32);
    k->start_ms = store_get_be64(p + tl + 32);
    return 0;
}

static size_t
drift_slots(const struct drift_counts *c)
{
    size_t n = 0;

    for (unsigned i = 0; i < c->k; i++)
        n += c->m[i] + 2u;
    return n;
}

static size_t
drift_val_len(const struct drift_counts *c)
{
    return DRIFT_HDR + ((c->k + 3u) & ~3u) + 4u * drift_slots(c);
}

/* Unpacks a stored value into *c (flags and end_ms out).  -1: malformed. */
static int
drift_val_unpack(const MDB_val *v, struct drift_counts *c, uint8_t *flags, uint64_t *end_ms)
{
    const uint8_t *p = v->mv_data;
    size_t off;

    if (v->mv_size < DRIFT_HDR || p[0] != DRIFT_VERSION || p[2] == 0 ||
        p[2] > DRIFT_STORE_FEATURES_MAX || v->mv_size < DRIFT_HDR + p[2])
        return -1;
    *flags = p[1];
    c->k = p[2];
    memcpy(&c->n, p + 4, 4);
    memcpy(end_ms, p + 8, 8);
    memcpy(c->m, p + DRIFT_HDR, c->k);
    for (unsigned i = 0; i < c->k; i++)
        if (c->m[i] == 0 || c->m[i] > DRIFT_STORE_BINS_MAX)
            return -1;
    if (v->mv_size != drift_val_len(c))
        return -1;
    off = DRIFT_HDR + ((c->k + 3u) & ~3u);
    for (unsigned i = 0; i < c->k; i++) {
        memcpy(c->c[i], p + off, 4u * (c->m[i] + 2u));
        off += 4u * (c->m[i] + 2u);
    }
    return 0;
}

static void
drift_val_pack(const struct drift_counts *c, uint8_t flags, uint64_t end_ms, uint8_t *p)
{
    size_t off = DRIFT_HDR + ((c->k + 3u) & ~3u);

    memset(p, 0, off);
    p[0] = DRIFT_VERSION;
    p[1] = flags;
    p[2] = c->k;
    memcpy(p + 4, &c->n, 4);
    memcpy(p + 8, &end_ms, 8);
    memcpy(p + DRIFT_HDR, c->m, c->k);
    for (unsigned i = 0; i < c->k; i++) {
        memcpy(p + off, c->c[i], 4u * (c->m[i] + 2u));
        off += 4u * (c->m[i] + 2u);
    }
}

/* Writes c as the value of key kv (MDB_RESERVE, then packed in place). */
static int
drift_val_put(struct store *s, MDB_txn *txn, MDB_val *kv, const struct drift_counts *c,
              uint8_t flags, uint64_t end_ms)
{
    MDB_val v = { drift_val_len(c), NULL };
    int rc = store_put(s, txn, s->drift, kv, &v, MDB_RESERVE);

    if (rc != 0)
        return store_status(rc);
    drift_val_pack(c, flags, end_ms, v.mv_data);
    return HITLQ_ST_OK;
}

static bool
drift_same_shape(const struct drift_counts *a, const struct drift_counts *b)
{
    return a->k == b->k && memcmp(a->m, b->m, a->k) == 0;
}

/* ---- operations ------------------------------------------------------------ */

int
drift_store_add(struct store *s, MDB_txn *txn, const struct drift_key *k, uint64_t end_ms,
                const struct drift_counts *delta)
{
    static __thread struct drift_counts cur;     /* commit thread: 17 KB off the stack */
    uint8_t kb[DRIFT_KEY_MAX], flags = 0;
    MDB_val kv = { drift_key_pack(k, kb), kb }, v;
    uint64_t old_end;
    int rc = mdb_get(txn, s->drift, &kv, &v);

    if (rc == MDB_NOTFOUND)
        return drift_val_put(s, txn, &kv, delta, 0, end_ms);
    if (rc != 0)
        return store_status(rc);
    if (drift_val_unpack(&v, &cur, &flags, &old_end) != 0 || !drift_same_shape(&cur, delta))
        return HITLQ_ST_INTERNAL;
    cur.n += delta->n;
    for (unsigned i = 0; i < cur.k; i++)
        for (unsigned b = 0; b < cur.m[i] + 2u; b++)
            cur.c[i][b] += delta->c[i][b];
    return drift_val_put(s, txn, &kv, &cur, flags, old_end);
}

int
drift_store_close_due(struct store *s, MDB_txn *txn, uint64_t now_ms, drift_close_fn fn,
                      void *arg, uint64_t *next_end)
{
    static __thread struct drift_counts c;
    struct drift_key key;
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t end;
    uint8_t flags;
    int st = HITLQ_ST_OK, rc = mdb_cursor_open(txn, s->drift, &cur);

    *next_end = 0;
    if (rc != 0)
        return store_status(rc);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && st == HITLQ_ST_OK;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (drift_key_unpack(&k, &key) != 0 || drift_val_unpack(&v, &c, &flags, &end) != 0) {
            st = HITLQ_ST_INTERNAL;
            break;
        }
        if ((flags & DRIFT_CLOSED) != 0)
            continue;
        if (end > now_ms) {
            *next_end = *next_end == 0 || end < *next_end ? end : *next_end;
            continue;
        }
        if ((st = fn(arg, &key, end, &c)) == HITLQ_ST_OK)
            st = drift_val_put(s, txn, &k, &c, flags | DRIFT_CLOSED, end);
    }
    mdb_cursor_close(cur);
    if (st == HITLQ_ST_OK && rc != 0 && rc != MDB_NOTFOUND)
        st = store_status(rc);
    return st;
}

static void
drift_sum_add(struct drift_counts *sum, const struct drift_counts *c)
{
    if (sum->k == 0) {
        *sum = *c;
        return;
    }
    sum->n += c->n;
    for (unsigned i = 0; i < c->k; i++)
        for (unsigned b = 0; b < c->m[i] + 2u; b++)
            sum->c[i][b] += c->c[i][b];
}

int
drift_store_sum(struct store *s, MDB_txn *txn, const char *type, const uint8_t digest[32],
                uint64_t from_ms, uint64_t to_ms, struct drift_counts *sum,
                uint32_t *n_windows, uint64_t *first, uint64_t *last)
{
    static __thread struct drift_counts c;
    struct drift_key want = { .start_ms = from_ms }, key;
    uint8_t kb[DRIFT_KEY_MAX], flags;
    MDB_val k = { 0, kb }, v;
    MDB_cursor *cur;
    uint64_t end;
    int st = HITLQ_ST_OK, rc;

    sum->k = 0;
    sum->n = 0;
    *n_windows = 0;
    *first = *last = 0;
    snprintf(want.type, sizeof want.type, "%s", type);
    memcpy(want.digest, digest, 32);
    k.mv_size = drift_key_pack(&want, kb);
    if ((rc = mdb_cursor_open(txn, s->drift, &cur)) != 0)
        return store_status(rc);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (drift_key_unpack(&k, &key) != 0 || strcmp(key.type, type) != 0 ||
            memcmp(key.digest, digest, 32) != 0 || key.start_ms >= to_ms)
            break;
        if (drift_val_unpack(&v, &c, &flags, &end) != 0 ||
            (sum->k != 0 && !drift_same_shape(sum, &c))) {
            st = HITLQ_ST_INTERNAL;
            break;
        }
        drift_sum_add(sum, &c);
        *first = *n_windows == 0 ? key.start_ms : *first;
        *last = end;
        (*n_windows)++;
    }
    mdb_cursor_close(cur);
    return st;
}
