/*
 * store.h - the LMDB environment of hitlqd: opening, the named databases,
 * transactions and the on-disk schema version.
 *
 * All durable state lives here.  Write transactions are only ever opened by
 * the commit thread (server/commit.c); read transactions by the event-loop
 * thread.  Default LMDB flags: a commit is durable when mdb_txn_commit
 * returns 0 (never MDB_NOSYNC / NOMETASYNC / MAPASYNC / WRITEMAP).
 */
#ifndef HITLQ_STORE_H
#define HITLQ_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

struct audit;

/* On-disk format version, stored under meta key "schema".  If you change
 * any record layout in queue.c / journal.c, bump this and write the upgrade
 * step in store_open(): old versions are refused with a clear error until
 * an upgrade exists. */
#define STORE_SCHEMA_VERSION 3u   /* 3: audit-log databases (upgrade from 2:
                                    * they are created empty, the log starts
                                    * then); 2: item record v2 (item.h);
                                    * version 1 was pre-release: refused */

struct store {
    MDB_env *env;
    MDB_dbi  meta;     /* counters and schema: str key -> u64 / blob */
    MDB_dbi  items;    /* u64 BE id -> item record */
    MDB_dbi  idem;     /* idempotency key -> id + content hash */
    MDB_dbi  ready;    /* queue \0 prio' deadline id -> (empty): claim order */
    MDB_dbi  open;     /* queue \0 id -> deadline: oldest age, open items */
    MDB_dbi  sla;      /* queue \0 deadline id -> (empty): SLA breach count */
    MDB_dbi  timers;   /* due_ms id -> kind: lease expiry, delayed release */
    MDB_dbi  hist;     /* id seq -> history event (msgpack map) */
    MDB_dbi  results;  /* u64 BE seq -> RESULT body (msgpack map) */
    MDB_dbi  qstats;   /* queue -> counters */
    MDB_dbi  tstats;   /* type -> counters */
    /* The signed audit log (server/audit.h has the layouts). */
    MDB_dbi  alog;     /* u64 BE index -> leaf hash[32] || AXR1 record */
    MDB_dbi  anodes;   /* u8 level || u64 BE index -> Merkle node hash */
    MDB_dbi  anotes;   /* u64 BE entry index -> note salt[32] */
    MDB_dbi  acps;     /* u64 BE tree size -> signed checkpoint note */
    MDB_dbi  principals; /* API-key principals and keys (server/auth.h has the layouts) */
    struct audit *audit;   /* borrowed: the audit log, NULL when off */
};

/* Opens (creating if needed) the environment in directory `dir` (created
 * with mode 0700 if missing) with the given map size in bytes, runs
 * mdb_reader_check, and checks or writes the schema version.  Returns 0 or
 * -1 with a message in err.  On success *out is owned by the caller. */
int  store_open(struct store **out, const char *dir, uint64_t map_size,
                char *err, size_t errlen);
void store_close(struct store *s);           /* NULL is a no-op */

/* Big-endian u64 helpers for keys. */
void     store_put_be64(uint8_t *p, uint64_t v);
uint64_t store_get_be64(const uint8_t *p);
void     store_put_be32(uint8_t *p, uint32_t v);
uint32_t store_get_be32(const uint8_t *p);

#endif
