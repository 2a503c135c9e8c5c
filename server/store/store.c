/*
 * store.c - opens the LMDB environment of hitlqd: data directory, map size,
 * stale-reader check, the named databases and the schema version under
 * meta "schema".  Also the big-endian key helpers used by every module.
 *
 * Default LMDB flags only (no NOSYNC/NOMETASYNC/MAPASYNC/WRITEMAP): a
 * commit is durable when mdb_txn_commit returns 0.  Also store_status
 * (LMDB codes to statuses) and the journal sink registration.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "rollup.h"
#include "store.h"

#define STORE_MAX_DBS 32u

void
store_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

uint64_t
store_get_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

void
store_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

uint32_t
store_get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

int
store_status(int mdb_rc)
{
    if (mdb_rc == 0)
        return HITLQ_ST_OK;
    return mdb_rc == MDB_MAP_FULL || mdb_rc == ENOSPC || mdb_rc == EDQUOT
               ? HITLQ_ST_RESOURCE_EXHAUSTED : HITLQ_ST_INTERNAL;
}

/* True when the data directory's file system has almost no free space. */
static bool
store_disk_full(const struct store *s)
{
    struct statvfs v;

    return s->dir != NULL && statvfs(s->dir, &v) == 0 &&
           (double)v.f_bavail * (double)v.f_frsize < (double)STORE_FULL_FREE_BYTES;
}

/* True when a write transaction still begins (no MDB_PANIC). */
static bool
store_env_usable(struct store *s)
{
    MDB_txn *txn;

    if (mdb_txn_begin(s->env, NULL, 0, &txn) != 0)
        return false;
    mdb_txn_abort(txn);
    return true;
}

enum store_fault
store_fault_of(struct store *s, int rc)
{
    int f = STORE_FAULT_FATAL;

    if (atomic_load(&s->fault) == STORE_FAULT_FATAL)
        return STORE_FAULT_FATAL;
    if (rc == 0)
        f = STORE_FAULT_NONE;
    else if (rc == MDB_MAP_FULL)
        f = STORE_FAULT_FULL;
    else if ((rc == ENOSPC || rc == EDQUOT || (rc == EIO && store_disk_full(s))) &&
             store_env_usable(s))
        f = STORE_FAULT_FULL;
    atomic_store(&s->fault, f);
    return (enum store_fault)f;
}

void
store_set_journal_sink(struct store *s, const struct store_journal_sink *sink)
{
    if (sink != NULL)
        s->sink = *sink;
    else
        memset(&s->sink, 0, sizeof(s->sink));
}

void
store_set_journal_obs(struct store *s, const struct store_journal_obs *obs)
{
    if (obs != NULL)
        s->obs = *obs;
    else
        memset(&s->obs, 0, sizeof(s->obs));
}

/* Opens every named database in one write txn. */
static int
store_open_dbis(struct store *s, MDB_txn *txn)
{
    static const char *const names[] = {
        "meta", "items", "idem", "ready", "open", "sla",
        "timers", "hist", "results", "qstats", "tstats",
        "alog", "anodes", "anotes", "acps", "principals", "drift",
        "review", "rvitems",
        "foureyes",
        "slaclk",
        "rollup",
    };
    MDB_dbi *dbis[] = {
        &s->meta, &s->items, &s->idem, &s->ready, &s->open, &s->sla,
        &s->timers, &s->hist, &s->results, &s->qstats, &s->tstats,
        &s->alog, &s->anodes, &s->anotes, &s->acps, &s->principals, &s->drift,
        &s->review, &s->rvitems,
        &s->foureyes,
        &s->slaclk,
        &s->rollup,
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int rc = mdb_dbi_open(txn, names[i], MDB_CREATE, dbis[i]);

        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Checks the schema version, writing it into a fresh store.  Returns 0,
 * an LMDB error, or -1 (unsupported version, message in err). */
static int
store_check_schema(struct store *s, MDB_txn *txn, char *err, size_t errlen)
{
    MDB_val k = { 6, (void *)"schema" }, v;
    uint8_t buf[4];
    int rc = mdb_get(txn, s->meta, &k, &v);

    if (rc == MDB_NOTFOUND) {
        store_put_be32(buf, STORE_SCHEMA_VERSION);
        v.mv_size = sizeof(buf);
        v.mv_data = buf;
        return mdb_put(txn, s->meta, &k, &v, 0);
    }
    if (rc != 0)
        return rc;
    if (v.mv_size != 4) {
        snprintf(err, errlen, "store: malformed schema version record");
        return -1;
    }
    uint32_t ver = store_get_be32(v.mv_data);
    if (ver == 2u) {
        /* 2 -> 3: the audit-log databases (just created, empty) are all
         * that is new; the log starts now, with its GENESIS entry. */
        store_put_be32(buf, STORE_SCHEMA_VERSION);
        v.mv_size = sizeof(buf);
        v.mv_data = buf;
        return mdb_put(txn, s->meta, &k, &v, 0);
    }
    if (ver != STORE_SCHEMA_VERSION) {
        /* Only 2 -> 3 exists: refuse older and newer formats. */
        snprintf(err, errlen,
                 "store: on-disk schema version %u is not supported by this "
                 "build (schema %u); no upgrade path exists",
                 (unsigned)ver, (unsigned)STORE_SCHEMA_VERSION);
        return -1;
    }
    return 0;
}

/* Opens dbis and checks the schema in one txn.  Returns 0 or -1 (err set). */
static int
store_init_txn(struct store *s, char *err, size_t errlen)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);

    if (rc != 0) {
        snprintf(err, errlen, "store: mdb_txn_begin: %s", mdb_strerror(rc));
        return -1;
    }
    rc = store_open_dbis(s, txn);
    if (rc == 0)
        rc = store_check_schema(s, txn, err, errlen);
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (rc > 0 || rc < -1)
        snprintf(err, errlen, "store: init: %s", mdb_strerror(rc));
    return rc == 0 ? 0 : -1;
}

int
store_open(struct store **out, const char *dir, uint64_t map_size,
           char *err, size_t errlen)
{
    struct store *s;
    int rc, dead = 0;

    *out = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "store: mkdir %s: %s", dir, strerror(errno));
        return -1;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "store: out of memory");
        return -1;
    }
    s->dir = strdup(dir);
    rc = s->dir != NULL ? mdb_env_create(&s->env) : ENOMEM;
    if (rc == 0)
        rc = mdb_env_set_maxdbs(s->env, STORE_MAX_DBS);
    if (rc == 0 && map_size > 0)
        rc = mdb_env_set_mapsize(s->env, (size_t)map_size);
    if (rc == 0)
        rc = mdb_env_open(s->env, dir, 0, 0600);
    if (rc == 0)
        rc = mdb_reader_check(s->env, &dead);
    if (rc != 0) {
        snprintf(err, errlen, "store: open %s: %s", dir, mdb_strerror(rc));
        store_close(s);
        return -1;
    }
    if (store_init_txn(s, err, errlen) != 0) {
        store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void
store_close(struct store *s)
{
    if (s == NULL)
        return;
    if (s->env != NULL)
        mdb_env_close(s->env);
    rollup_free(s);
    free(s->dir);
    free(s);
}
