/*
 * wset.c - the write wrappers of wset.h: the only place hitlqd calls
 * mdb_put, mdb_del, mdb_cursor_put, mdb_cursor_del and mdb_txn_commit.
 * Without a replication hook each wrapper is its LMDB call behind one
 * branch.  With a hook, each write of the open transaction is appended,
 * already encoded (docs/HA.md "Write-set format"), to the store's
 * capture buffer, and store_wtxn_commit hands the buffer to the hook
 * before committing.  Also the decoder that applies a write-set
 * (store_wset_apply) and the stable table of database names.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define WSET_MAGIC     "HQWS"
#define WSET_VERSION   1u
#define WSET_HDR_LEN   13u       /* magic 4, version 1, table hash 4, count 4 */
#define WSET_REC_MIN   10u       /* op 1, db 1, klen 4, vlen 4 */
#define WSET_MAX_DBI   64u       /* handles above this are refused (maxdbs 32) */
#define WSET_BUF_INIT  (64u << 10)
#define WSET_BUF_KEEP  (4u << 20) /* a larger buffer is freed after its txn */

enum wset_op { WSET_PUT = 1, WSET_DEL = 2, WSET_DELDUP = 3 };

struct store_wset {
    struct store_repl repl;
    uint64_t seq;          /* last sequence number committed (when seq_ok) */
    bool     seq_ok;       /* false: reload from the txn at the next commit */
    bool     applied;      /* the open txn applied a write-set */
    uint8_t  map[WSET_MAX_DBI];   /* MDB_dbi -> table index + 1 (0 unknown) */
    uint8_t *buf;          /* header + records of the open txn */
    size_t   len, cap;
    uint32_t count;        /* records in buf */
    uint8_t *res_ptr;      /* a MDB_RESERVE value still to copy, or NULL */
    size_t   res_off, res_len;
};

#define DB(name) offsetof(struct store, name)
const char *const store_db_names[] = {
    "meta", "items", "idem", "ready", "open", "sla",
    "timers", "hist", "results", "qstats", "tstats",
    "alog", "anodes", "anotes", "acps", "principals", "drift",
    "review", "rvitems", "foureyes", "slaclk", "rollup",
};
const size_t store_db_offs[] = {
    DB(meta), DB(items), DB(idem), DB(ready), DB(open), DB(sla),
    DB(timers), DB(hist), DB(results), DB(qstats), DB(tstats),
    DB(alog), DB(anodes), DB(anotes), DB(acps), DB(principals), DB(drift),
    DB(review), DB(rvitems), DB(foureyes), DB(slaclk), DB(rollup),
};
#undef DB
const size_t store_db_count = sizeof(store_db_names) / sizeof(store_db_names[0]);
_Static_assert(sizeof(store_db_names) / sizeof(store_db_names[0]) ==
               sizeof(store_db_offs) / sizeof(store_db_offs[0]), "db table");
_Static_assert(sizeof(store_db_names) / sizeof(store_db_names[0]) < 256, "db id is u8");

static const uint8_t wset_seq_key[8] = "repl_seq";

/* The table version: FNV-1a (32 bit) of the names, each with its NUL. */
static uint32_t
wset_table_hash(void)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < store_db_count; i++) {
        const char *p = store_db_names[i];
        do {
            h = (h ^ (uint8_t)*p) * 16777619u;
        } while (*p++ != '\0');
    }
    return h;
}

static MDB_dbi
wset_dbi_of(const struct store *s, size_t i)
{
    return *(const MDB_dbi *)((const char *)s + store_db_offs[i]);
}

const char *
store_strerror(int rc)
{
    switch (rc) {
    case STORE_RC_FENCED:
        return "replication: fenced (another leader holds the log)";
    case STORE_RC_REPL:
        return "replication: append failed or its outcome is unknown";
    case STORE_RC_WSET:
        return "replication: malformed write-set";
    case STORE_RC_SEQ:
        return "replication: write-set out of sequence";
    default:
        return mdb_strerror(rc);
    }
}

uint64_t
store_repl_seq(struct store *s, MDB_txn *txn)
{
    MDB_val k = { sizeof(wset_seq_key), (void *)wset_seq_key }, v;

    if (mdb_get(txn, s->meta, &k, &v) != 0 || v.mv_size != 8)
        return 0;
    return store_get_be64(v.mv_data);
}

/* ---- the capture buffer ------------------------------------------------ */

/* Empties the capture (header kept), freeing an oversized buffer. */
static void
wset_reset(struct store_wset *w)
{
    if (w->cap > WSET_BUF_KEEP) {
        uint8_t *nb = realloc(w->buf, WSET_BUF_INIT);
        if (nb != NULL) {
            w->buf = nb;
            w->cap = WSET_BUF_INIT;
        }
    }
    w->len = WSET_HDR_LEN;
    w->count = 0;
    w->res_ptr = NULL;
    w->applied = false;
}

/* Room for `more` bytes after len.  0 or ENOMEM. */
static int
wset_grow(struct store_wset *w, size_t more)
{
    size_t cap = w->cap;

    if (more <= cap - w->len)
        return 0;
    if (more > SIZE_MAX / 2 - w->len)
        return ENOMEM;
    while (cap - w->len < more)
        cap *= 2;
    uint8_t *nb = realloc(w->buf, cap);
    if (nb == NULL)
        return ENOMEM;
    w->buf = nb;
    w->cap = cap;
    return 0;
}

/* Copies a pending MDB_RESERVE value (the caller has written it by now:
 * its pointer is valid until the next update of the txn). */
static void
wset_flush(struct store_wset *w)
{
    if (w->res_ptr != NULL) {
        memcpy(w->buf + w->res_off, w->res_ptr, w->res_len);
        w->res_ptr = NULL;
    }
}

/* The table index of dbi, or -1. */
static int
wset_db(const struct store_wset *w, MDB_dbi dbi)
{
    return dbi < WSET_MAX_DBI && w->map[dbi] != 0 ? w->map[dbi] - 1 : -1;
}

/* Writes a record at len without counting it (wset_keep does); room must
 * have been made by wset_grow(WSET_REC_MIN + klen + vlen).  v NULL: vlen
 * bytes are left for the caller (MDB_RESERVE).  Returns the value's
 * offset. */
static size_t
wset_stage(struct store_wset *w, enum wset_op op, int db, const MDB_val *k,
           const void *v, size_t vlen)
{
    uint8_t *p = w->buf + w->len;

    p[0] = (uint8_t)op;
    p[1] = (uint8_t)db;
    store_put_be32(p + 2, (uint32_t)k->mv_size);
    memcpy(p + 6, k->mv_data, k->mv_size);
    p += 6 + k->mv_size;
    store_put_be32(p, (uint32_t)vlen);
    if (v != NULL && vlen > 0)
        memcpy(p + 4, v, vlen);
    return (size_t)(p + 4 - w->buf);
}

/* Counts the record staged at len (its value ends at vend). */
static void
wset_keep(struct store_wset *w, size_t vend)
{
    w->len = vend;
    w->count++;
}

/* Checks before a captured write: no pending reserve, not an apply txn,
 * a known database, sizes that fit the format, room in the buffer.
 * Returns 0 with *db set, or an error code (nothing written). */
static int
wset_prepare(struct store_wset *w, MDB_dbi dbi, size_t klen, size_t vlen, int *db)
{
    wset_flush(w);
    if (w->applied || (*db = wset_db(w, dbi)) < 0)
        return EINVAL;
    if (klen > UINT32_MAX || vlen > UINT32_MAX)
        return MDB_BAD_VALSIZE;
    return wset_grow(w, WSET_REC_MIN + klen + vlen);
}

/* ---- the wrappers ------------------------------------------------------- */

/* Records a successful put of k/v (flags as given to LMDB) into dbi. */
static void
wset_put_done(struct store_wset *w, int db, const MDB_val *k, const MDB_val *v,
              unsigned flags)
{
    bool reserve = (flags & MDB_RESERVE) != 0;
    size_t off = wset_stage(w, WSET_PUT, db, k, reserve ? NULL : v->mv_data, v->mv_size);

    if (reserve && v->mv_size > 0) {
        w->res_ptr = v->mv_data;
        w->res_off = off;
        w->res_len = v->mv_size;
    }
    wset_keep(w, off + v->mv_size);
}

static int
wset_put(struct store *s, MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v,
         unsigned flags)
{
    struct store_wset *w = s->wset;
    int db, rc = (flags & MDB_MULTIPLE) ? EINVAL
                 : wset_prepare(w, dbi, k->mv_size, v->mv_size, &db);

    if (rc == 0)
        rc = mdb_put(txn, dbi, k, v, flags);
    if (rc == 0)                       /* MDB_KEYEXIST: nothing happened */
        wset_put_done(w, db, k, v, flags);
    return rc;
}

int
store_put(struct store *s, MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v,
          unsigned flags)
{
    if (s->wset == NULL)
        return mdb_put(txn, dbi, k, v, flags);
    return wset_put(s, txn, dbi, k, v, flags);
}

/* True when dbi is a dupsort database (a delete with data names a pair). */
static bool
wset_dupsort(MDB_txn *txn, MDB_dbi dbi)
{
    unsigned fl = 0;

    return mdb_dbi_flags(txn, dbi, &fl) == 0 && (fl & MDB_DUPSORT) != 0;
}

int
store_del(struct store *s, MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
    struct store_wset *w = s->wset;
    int db, rc;

    if (w == NULL)
        return mdb_del(txn, dbi, k, v);
    if (v != NULL && !wset_dupsort(txn, dbi))
        v = NULL;                      /* LMDB ignores it too */
    rc = wset_prepare(w, dbi, k->mv_size, v != NULL ? v->mv_size : 0, &db);
    if (rc == 0)
        rc = mdb_del(txn, dbi, k, v);
    if (rc == 0)
        wset_keep(w, v != NULL ? wset_stage(w, WSET_DELDUP, db, k, v->mv_data, v->mv_size)
                                     + v->mv_size
                               : wset_stage(w, WSET_DEL, db, k, NULL, 0));
    return rc;
}

int
store_cursor_put(struct store *s, MDB_cursor *c, MDB_val *k, MDB_val *v, unsigned flags)
{
    struct store_wset *w = s->wset;
    int db, rc;

    if (w == NULL)
        return mdb_cursor_put(c, k, v, flags);
    rc = (flags & MDB_MULTIPLE) ? EINVAL
         : wset_prepare(w, mdb_cursor_dbi(c), k->mv_size, v->mv_size, &db);
    if (rc == 0)
        rc = mdb_cursor_put(c, k, v, flags);
    if (rc == 0)
        wset_put_done(w, db, k, v, flags);
    return rc;
}

int
store_cursor_del(struct store *s, MDB_cursor *c, unsigned flags)
{
    struct store_wset *w = s->wset;
    MDB_val k, v;
    size_t end;
    bool pair;
    int db, rc;

    if (w == NULL)
        return mdb_cursor_del(c, flags);
    wset_flush(w);
    rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
    if (rc != 0)
        return rc;
    pair = (flags & MDB_NODUPDATA) == 0 &&
           wset_dupsort(mdb_cursor_txn(c), mdb_cursor_dbi(c));
    rc = wset_prepare(w, mdb_cursor_dbi(c), k.mv_size, pair ? v.mv_size : 0, &db);
    if (rc != 0)
        return rc;
    /* staged before the delete: k and v point into the page it changes */
    end = pair ? wset_stage(w, WSET_DELDUP, db, &k, v.mv_data, v.mv_size) + v.mv_size
               : wset_stage(w, WSET_DEL, db, &k, NULL, 0);
    rc = mdb_cursor_del(c, flags);
    if (rc == 0)
        wset_keep(w, end);
    return rc;
}

/* ---- transactions ------------------------------------------------------- */

int
store_wtxn_begin(struct store *s, MDB_txn **txn)
{
    int rc = mdb_txn_begin(s->env, NULL, 0, txn);

    if (rc == 0 && s->wset != NULL)
        wset_reset(s->wset);           /* under the writer lock from here */
    return rc;
}

void
store_wtxn_abort(struct store *s, MDB_txn *txn)
{
    if (txn == NULL)
        return;
    if (s->wset != NULL)
        wset_reset(s->wset);           /* before the lock is released */
    mdb_txn_abort(txn);
}

/* Commits a txn that applied write-sets: no append; the cached sequence
 * number is reloaded at the next hooked commit. */
static int
wset_commit_applied(struct store_wset *w, MDB_txn *txn)
{
    wset_reset(w);
    w->seq_ok = false;
    return mdb_txn_commit(txn);
}

/* Hooked commit: repl_seq, the header, append, then the local commit. */
static int
wset_commit(struct store *s, MDB_txn *txn)
{
    struct store_wset *w = s->wset;
    uint8_t b[8];
    MDB_val k = { sizeof(wset_seq_key), (void *)wset_seq_key }, v = { 8, b };
    int rc;

    wset_flush(w);
    if (w->applied)
        return wset_commit_applied(w, txn);
    if (w->count == 0) {               /* nothing written: nothing to replicate */
        wset_reset(w);
        return mdb_txn_commit(txn);
    }
    if (!w->seq_ok)
        w->seq = store_repl_seq(s, txn);
    store_put_be64(b, w->seq + 1);
    rc = wset_put(s, txn, s->meta, &k, &v, 0);
    if (rc != 0) {
        store_wtxn_abort(s, txn);
        return rc;
    }
    store_put_be32(w->buf + 9, w->count);
    rc = w->repl.append(w->repl.arg, w->seq + 1, w->buf, w->len);
    wset_reset(w);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc == STORE_RC_FENCED ? STORE_RC_FENCED : STORE_RC_REPL;
    }
    w->seq++;                          /* the log has it, whatever follows */
    w->seq_ok = true;
    return mdb_txn_commit(txn) == 0 ? 0 : STORE_RC_REPL;
}

int
store_wtxn_commit(struct store *s, MDB_txn *txn)
{
    if (s->wset == NULL)
        return mdb_txn_commit(txn);
    return wset_commit(s, txn);
}

/* Builds the MDB_dbi -> table index map.  0 or EINVAL. */
static int
wset_map_build(struct store_wset *w, const struct store *s)
{
    memset(w->map, 0, sizeof(w->map));
    for (size_t i = 0; i < store_db_count; i++) {
        MDB_dbi dbi = wset_dbi_of(s, i);

        if (dbi >= WSET_MAX_DBI || w->map[dbi] != 0)
            return EINVAL;
        w->map[dbi] = (uint8_t)(i + 1);
    }
    return 0;
}

/* A new capture state for s with hook r.  0, ENOMEM, EINVAL or LMDB. */
static int
wset_new(struct store *s, const struct store_repl *r, struct store_wset **out)
{
    struct store_wset *w = calloc(1, sizeof(*w));
    MDB_txn *txn = NULL;
    int rc = w == NULL || (w->buf = malloc(WSET_BUF_INIT)) == NULL ? ENOMEM : 0;

    if (rc == 0)
        rc = wset_map_build(w, s);
    if (rc == 0)
        rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc == 0) {
        w->seq = store_repl_seq(s, txn);
        w->seq_ok = true;
        mdb_txn_abort(txn);
        w->repl = *r;
        w->cap = WSET_BUF_INIT;
        memcpy(w->buf, WSET_MAGIC, 4);
        w->buf[4] = WSET_VERSION;
        store_put_be32(w->buf + 5, wset_table_hash());
        wset_reset(w);
        *out = w;
        return 0;
    }
    if (w != NULL)
        free(w->buf);
    free(w);
    return rc;
}

int
store_set_repl(struct store *s, const struct store_repl *repl)
{
    struct store_wset *w = NULL;
    int rc = 0;

    if (repl != NULL && repl->append != NULL && (rc = wset_new(s, repl, &w)) != 0)
        return rc;
    if (s->wset != NULL)
        free(s->wset->buf);
    free(s->wset);
    s->wset = w;
    return 0;
}

/* ---- applying ----------------------------------------------------------- */

/* One decoded record (pointers into the write-set). */
struct wset_rec {
    uint8_t op, db;
    MDB_val k, v;
};

/* Decodes the record at *pos of ws[0..len), every size checked before
 * use.  Returns 0 (and advances *pos) or STORE_RC_WSET. */
static int
wset_next(const uint8_t *ws, size_t len, size_t *pos, struct wset_rec *r)
{
    size_t p = *pos, klen, vlen;

    if (len - p < WSET_REC_MIN)
        return STORE_RC_WSET;
    r->op = ws[p];
    r->db = ws[p + 1];
    klen = store_get_be32(ws + p + 2);
    p += 6;
    if (klen > len - p || len - p - klen < 4)
        return STORE_RC_WSET;
    r->k = (MDB_val){ klen, (void *)(ws + p) };
    p += klen;
    vlen = store_get_be32(ws + p);
    p += 4;
    if (vlen > len - p)
        return STORE_RC_WSET;
    r->v = (MDB_val){ vlen, (void *)(ws + p) };
    *pos = p + vlen;
    return 0;
}

/* Checks one record's meaning: op, database, key size, value size.
 * Counts meta "repl_seq" puts in *nseq and keeps the last in *seq. */
static int
wset_check_rec(struct store *s, MDB_txn *txn, const struct wset_rec *r,
               size_t *nseq, uint64_t *seq)
{
    size_t maxkey = (size_t)mdb_env_get_maxkeysize(s->env);
    bool dup, is_seq;

    if (r->op < WSET_PUT || r->op > WSET_DELDUP || r->db >= store_db_count)
        return STORE_RC_WSET;
    if (r->k.mv_size == 0 || r->k.mv_size > maxkey)
        return STORE_RC_WSET;
    dup = wset_dupsort(txn, wset_dbi_of(s, r->db));
    if ((r->op == WSET_DEL && r->v.mv_size != 0) ||
        (r->op == WSET_DELDUP && !dup) ||
        (dup && r->op != WSET_DEL && r->v.mv_size > maxkey))
        return STORE_RC_WSET;
    is_seq = r->db == 0 && r->k.mv_size == sizeof(wset_seq_key) &&
             memcmp(r->k.mv_data, wset_seq_key, sizeof(wset_seq_key)) == 0;
    if (is_seq && (r->op != WSET_PUT || r->v.mv_size != 8))
        return STORE_RC_WSET;
    if (is_seq) {
        (*nseq)++;
        *seq = store_get_be64(r->v.mv_data);
    }
    return 0;
}

/* Checks the header and every record of ws[0..len).  Returns 0 with
 * *count set, STORE_RC_WSET or STORE_RC_SEQ. */
static int
wset_check(struct store *s, MDB_txn *txn, const uint8_t *ws, size_t len, uint32_t *count)
{
    size_t pos = WSET_HDR_LEN, nseq = 0;
    uint64_t seq = 0;
    struct wset_rec r;

    if (ws == NULL || len < WSET_HDR_LEN || memcmp(ws, WSET_MAGIC, 4) != 0 ||
        ws[4] != WSET_VERSION || store_get_be32(ws + 5) != wset_table_hash())
        return STORE_RC_WSET;
    *count = store_get_be32(ws + 9);
    if (*count == 0 || *count > (len - WSET_HDR_LEN) / WSET_REC_MIN)
        return STORE_RC_WSET;
    for (uint32_t i = 0; i < *count; i++) {
        int rc = wset_next(ws, len, &pos, &r);

        if (rc == 0)
            rc = wset_check_rec(s, txn, &r, &nseq, &seq);
        if (rc != 0)
            return rc;
    }
    if (pos != len || nseq != 1)
        return STORE_RC_WSET;
    return seq == store_repl_seq(s, txn) + 1 ? 0 : STORE_RC_SEQ;
}

int
store_wset_apply(struct store *s, MDB_txn *txn, const uint8_t *ws, size_t len)
{
    struct store_wset *w = s->wset;
    size_t pos = WSET_HDR_LEN;
    uint32_t count;
    struct wset_rec r;
    int rc;

    if (w != NULL) {
        wset_flush(w);
        if (w->count != 0)             /* this txn wrote for itself */
            return EINVAL;
    }
    if ((rc = wset_check(s, txn, ws, len, &count)) != 0)
        return rc;
    if (w != NULL)
        w->applied = true;
    for (uint32_t i = 0; i < count && rc == 0; i++) {
        MDB_dbi dbi;

        wset_next(ws, len, &pos, &r);  /* checked above */
        dbi = wset_dbi_of(s, r.db);
        if (r.op == WSET_PUT)
            rc = mdb_put(txn, dbi, &r.k, &r.v, 0);
        else
            rc = mdb_del(txn, dbi, &r.k, r.op == WSET_DELDUP ? &r.v : NULL);
    }
    return rc;
}
