/*
 * ha_log.c - the replicated log: the leader's append (the store's
 * replication hook, on the commit thread: one INSERT per write
 * transaction, checked against the epoch, acknowledged only when
 * PostgreSQL's synchronous commit returned) and the apply of log rows to
 * the local LMDB (followers, and a node catching up before it serves).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ha_int.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "wset.h"


/* After an append whose outcome is unknown (the session broke): a
 * synchronous write transaction that also reads whether the row is
 * there.  Its commit waits for the standby to flush everything before it,
 * so a row it sees is durable.  0 stored, STORE_RC_FENCED, STORE_RC_REPL
 * (not stored, or still unknown at the deadline). */
static int
ha_resolve(struct ha *h, const char *seq, const char *epoch)
{
    static const char sql[] =
        "UPDATE hitlq_leader SET lease_until = lease_until WHERE id = 1 AND epoch = $2::bigint"
        " RETURNING (SELECT count(*) FROM hitlq_log WHERE seq = $1::bigint AND epoch = $2::bigint)";
    const char *v[2] = { seq, epoch };
    uint64_t end = util_mono_ns() + (uint64_t)h->lease_ms * 1000000u;
    char err[512] = "";

    while (util_mono_ns() < end) {
        PGresult *r = ha_exec(h, &h->commit, sql, 2, v, NULL, NULL, 0, HA_STMT_MS, err,
                              sizeof(err));
        if (r != NULL && ha_result_ok(r, err, sizeof(err)) && !h->commit.warned) {
            int rc = PQntuples(r) == 0 ? STORE_RC_FENCED
                     : strcmp(PQgetvalue(r, 0, 0), "1") == 0 ? 0 : STORE_RC_REPL;
            PQclear(r);
            log_event(LOG_LVL_WARN, "ha_append_resolved", "an append's outcome was read back",
                      LOG_STR("seq", seq), LOG_STR("outcome", rc == 0 ? "stored"
                              : rc == STORE_RC_FENCED ? "fenced" : "not stored"));
            return rc;
        }
        PQclear(r);
        nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
    }
    log_event(LOG_LVL_ERROR, "ha_append_unknown", "an append's outcome stayed unknown",
              LOG_STR("seq", seq), LOG_STR("reason", err));
    return STORE_RC_REPL;
}

/* The store's replication hook (commit thread): see wset.h. */
static int
ha_append_now(struct ha *h, uint64_t seq, const uint8_t *ws, size_t len)
{
    static const char sql[] =
        "INSERT INTO hitlq_log (seq, epoch, batch) SELECT $1::bigint, $2::bigint, $3::bytea"
        " FROM hitlq_leader WHERE id = 1 AND epoch = $2::bigint FOR SHARE";
    char s[24], e[24], err[512] = "";
    const char *v[3] = { s, e, NULL };
    int lens[3] = { 0, 0, 0 }, fmts[3] = { 0, 0, 1 }, rc;
    const uint8_t *z;
    size_t zlen;
    PGresult *r;
    const char *state;

    snprintf(s, sizeof(s), "%llu", (unsigned long long)seq);
    snprintf(e, sizeof(e), "%llu", (unsigned long long)atomic_load(&h->epoch));
    if (ha_pack(h, ws, len, &z, &zlen) != 0 || zlen > INT32_MAX) {
        log_event(LOG_LVL_ERROR, "ha_append_failed", "write-set not compressed",
                  LOG_STR("seq", s), LOG_UINT("bytes", len));
        return STORE_RC_REPL;
    }
    v[2] = (const char *)z;
    lens[2] = (int)zlen;
    r = ha_exec(h, &h->commit, sql, 3, v, lens, fmts, 0, -1, err, sizeof(err));
    if (r != NULL && ha_result_ok(r, err, sizeof(err)))
        rc = h->commit.warned ? STORE_RC_REPL
             : strcmp(PQcmdTuples(r), "1") == 0 ? 0 : STORE_RC_FENCED;
    else if (r != NULL && (state = PQresultErrorField(r, PG_DIAG_SQLSTATE)) != NULL &&
             strcmp(state, "23505") == 0)
        rc = STORE_RC_FENCED;            /* another node wrote this seq */
    else
        rc = ha_resolve(h, s, e);
    PQclear(r);
    if (rc == 0)
        atomic_store(&h->appended, seq);
    else
        log_event(LOG_LVL_ERROR, "ha_append_failed", "write-set not appended",
                  LOG_STR("seq", s), LOG_STR("epoch", e),
                  LOG_STR("reason", rc == STORE_RC_FENCED ? "fenced: another leader" : err));
    return rc;
}

#ifndef HITLQ_UNSAFE_HA_ACK_EARLY
static int
ha_append(void *arg, uint64_t seq, const uint8_t *ws, size_t len)
{
    return ha_append_now(arg, seq, ws, len);
}
#else
/* NEGATIVE CONTROL ONLY (build/ha-unsafe/hitlqd, make test-ha-unsafe): the
 * write-sets are appended about HA_UNSAFE_LAG_MS late, as asynchronous
 * replication would, so their batches are committed locally and
 * acknowledged before PostgreSQL has them.  The failover suite must catch
 * it (acknowledged items missing after the leader is killed). */
#define HA_UNSAFE_LAG_MS 300u
struct ha_late {
    struct ha_late *next;
    uint64_t        seq, at_ns;
    size_t          len;
    uint8_t         ws[];
};
static struct ha_late *late_head, *late_tail;

static int
ha_append(void *arg, uint64_t seq, const uint8_t *ws, size_t len)
{
    struct ha_late *l = malloc(sizeof(*l) + len), *x;
    int rc = 0;

    if (l == NULL)
        return STORE_RC_REPL;
    *l = (struct ha_late){ NULL, seq, util_mono_ns(), len };
    memcpy(l->ws, ws, len);
    if (late_tail)
        late_tail->next = l;
    else
        late_head = l;
    late_tail = l;
    while (rc == 0 && (x = late_head) != NULL &&
           util_mono_ns() - x->at_ns >= HA_UNSAFE_LAG_MS * 1000000ull) {
        rc = ha_append_now(arg, x->seq, x->ws, x->len);
        late_head = x->next;
        if (late_head == NULL)
            late_tail = NULL;
        free(x);
    }
    return rc;
}
#endif

int
ha_hook(struct ha *h, struct store *st, uint64_t epoch, char *err, size_t errlen)
{
    struct store_repl repl = { ha_append, h };
    int rc;

    atomic_store(&h->epoch, epoch);
    rc = store_set_repl(st, &repl);
    if (rc != 0) {
        snprintf(err, errlen, "store: %s", store_strerror(rc));
        return -1;
    }
    return 0;
}

/* The store's last sequence number. */
static int
ha_local_seq(struct store *st, uint64_t *seq)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);

    if (rc == 0) {
        *seq = store_repl_seq(st, txn);
        mdb_txn_abort(txn);
    }
    return rc;
}

/* The highest sequence number this node may apply. */
static int
ha_horizon(struct ha *h, bool all, uint64_t *out, char *err, size_t errlen)
{
    static const char sql[] =
        "SELECT coalesce(max(seq), 0), (SELECT durable_seq FROM hitlq_leader WHERE id = 1)"
        " FROM hitlq_log";
    PGresult *r = ha_exec(h, &h->loop, sql, 0, NULL, NULL, NULL, 0, HA_STMT_MS, err, errlen);
    bool ok = r != NULL && ha_result_ok(r, err, errlen) && PQntuples(r) == 1;

    if (ok) {
        uint64_t max = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
        uint64_t dur = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
        /* Row N+1 exists only after N's synchronous commit returned. */
        uint64_t below = max > 0 ? max - 1 : 0;
        *out = all ? max : dur > below ? (dur < max ? dur : max) : below;
    }
    PQclear(r);
    return ok ? 0 : -1;
}

/* Applies rows of r (seq, batch; binary) in one local transaction. */
static int
ha_apply_rows(struct ha *h, struct store *st, PGresult *r, uint64_t *local, char *err,
              size_t errlen)
{
    MDB_txn *txn;
    int rc = store_wtxn_begin(st, &txn);

    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        uint64_t seq = PQgetlength(r, i, 0) == 8 ? ha_be64(PQgetvalue(r, i, 0)) : 0;
        const uint8_t *ws;
        size_t len;
        if (seq == *local + 1 && ha_unpack(h, (const uint8_t *)PQgetvalue(r, i, 1),
                                           (size_t)PQgetlength(r, i, 1), &ws, &len) != 0) {
            snprintf(err, errlen, "log row %llu: not a compressed write-set",
                     (unsigned long long)seq);
            store_wtxn_abort(st, txn);
            return -1;
        }
        if (seq != *local + 1) {
            snprintf(err, errlen, "log gap: have %llu, next row is %llu",
                     (unsigned long long)*local, (unsigned long long)seq);
            store_wtxn_abort(st, txn);
            return -1;
        }
        rc = store_wset_apply(st, txn, ws, len);
        if (rc == 0)
            *local = seq;
    }
    if (rc == 0)
        rc = store_wtxn_commit(st, txn);
    else
        store_wtxn_abort(st, txn);
    if (rc != 0)
        snprintf(err, errlen, "applying log row %llu: %s", (unsigned long long)*local + 1,
                 store_strerror(rc));
    return rc == 0 ? 0 : -1;
}

long
ha_catch_up(struct ha *h, struct store *st, bool all, char *err, size_t errlen)
{
    static const char sql[] =
        "SELECT seq, batch FROM hitlq_log WHERE seq > $1::bigint AND seq <= $2::bigint"
        " ORDER BY seq LIMIT 64";             /* rows per local write transaction */
    uint64_t local = 0, upto, start;
    char a[24], b[24];
    const char *v[2] = { a, b };

    err[0] = '\0';
    if (ha_local_seq(st, &local) != 0 || ha_horizon(h, all, &upto, err, errlen) != 0) {
        if (!err[0])
            snprintf(err, errlen, "cannot read the local sequence number");
        return -1;
    }
    start = local;
    while (local < upto) {
        PGresult *r;
        snprintf(a, sizeof(a), "%llu", (unsigned long long)local);
        snprintf(b, sizeof(b), "%llu", (unsigned long long)upto);
        r = ha_exec(h, &h->loop, sql, 2, v, NULL, NULL, 1, 30000, err, errlen);
        if (r == NULL || !ha_result_ok(r, err, errlen) || PQntuples(r) == 0 ||
            ha_apply_rows(h, st, r, &local, err, errlen) != 0) {
            if (r != NULL && PQntuples(r) == 0 && err[0] == '\0')
                snprintf(err, errlen, "log rows up to %llu are missing",
                         (unsigned long long)upto);
            PQclear(r);
            return -1;
        }
        PQclear(r);
    }
    return (long)(local - start);
}
