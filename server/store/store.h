/*
 * store.h - the LMDB environment of hitlqd: opening, the named databases,
 * transactions, the on-disk schema version, the one mapping of LMDB
 * return codes to HITLQ_ST_* statuses, and the journal sink through which
 * a higher layer (the signed audit log) writes its own entries in the
 * same transaction as each item event.
 *
 * All durable state lives here.  Write transactions are only ever opened by
 * the commit thread (server/cmd/commit.c); read transactions by the
 * event-loop thread.  Default LMDB flags: a commit is durable when
 * mdb_txn_commit returns 0 (never MDB_NOSYNC / NOMETASYNC / MAPASYNC /
 * WRITEMAP).
 */
#ifndef HITLQ_STORE_H
#define HITLQ_STORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>
#include <msgpack.h>

#include "hitlq_proto.h"

struct journal_item;
struct journal_ev;
struct rollup_live;

/* What a layer above the store registers to keep its own record of item
 * events (the signed audit log does, at audit_open).  The store calls it
 * by these pointers only; ctx is passed back to each.  With no sink
 * registered (all NULL) items carry no log entries and GET has no
 * `audit` key. */
struct store_journal_sink {
    /* Called by journal_record (journal.h) for the events ev[0..n) of
     * item `it` at time at_ms, inside the caller's write transaction and
     * before the history is written, so the sink's entries commit or
     * abort with the state change.  ev[i].audit arrive as
     * JOURNAL_NO_AUDIT; the sink sets the index of each event's entry
     * (packed into the history) and, for SUBMIT, fills it->log_entry's
     * out fields.  Returns HITLQ_ST_OK or the status journal_record then
     * returns (INTERNAL / RESOURCE_EXHAUSTED: abort the txn). */
    int (*record)(void *ctx, MDB_txn *txn, const struct journal_item *it,
                  struct journal_ev *ev, size_t n, uint64_t at_ms);
    /* The 32-byte leaf hash of entry `index` (a duplicate SUBMIT's
     * receipt).  HITLQ_ST_OK, else any other status. */
    int (*leaf)(void *ctx, MDB_txn *txn, uint64_t index, uint8_t out[32]);
    /* Packs GET's `audit` value for item id (any txn).  HITLQ_ST_*. */
    int (*pack_item)(void *ctx, MDB_txn *txn, uint64_t id, msgpack_packer *pk);
    void *ctx;
};

/* What a layer above the store registers to see item events (the
 * metrics, server/cmd/metrics_feed.c): called by journal_record after
 * the sink's entries and before the history is written (so the item's
 * stored history holds only earlier events), inside the caller's write
 * transaction, which may still abort: an observer keeps what it saw
 * until the commit returned.  ev[i].agreement is set.  Must not write. */
struct store_journal_obs {
    void (*event)(void *ctx, MDB_txn *txn, const struct journal_item *it,
                  const struct journal_ev *ev, size_t n, uint64_t at_ms);
    void *ctx;
};

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
    /* The signed audit log (server/audit/audit.h has the layouts). */
    MDB_dbi  alog;     /* u64 BE index -> leaf hash[32] || AXR1 record */
    MDB_dbi  anodes;   /* u8 level || u64 BE index -> Merkle node hash */
    MDB_dbi  anotes;   /* u64 BE entry index -> note salt[32] */
    MDB_dbi  acps;     /* u64 BE tree size -> signed checkpoint note */
    MDB_dbi  principals; /* API-key principals and keys (server/auth/auth.h has the layouts) */
    MDB_dbi  drift;    /* input-drift window counts (drift_store.h has the layout) */
    MDB_dbi  review;   /* live review window counts (review_store.h has the layout) */
    MDB_dbi  rvitems;  /* u64 BE id -> open item's review facts (review_store.h) */
    MDB_dbi  foureyes; /* u64 BE id -> four-eyes reviewer set (review_set.h) */
    MDB_dbi  slaclk;   /* u64 BE id -> SLA clock and ladder (sla_clock.h) */
    MDB_dbi  rollup;   /* minute rollups and item clocks (rollup.h has the layout) */
    struct rollup_live *rollup_live;  /* the commit thread's rollup scratch (rollup.c) */
    struct store_journal_sink sink;   /* set by store_set_journal_sink; NULLs = none */
    struct store_journal_obs obs;     /* set by store_set_journal_obs; NULLs = none */
    char    *dir;      /* the data directory (statvfs when a write fails) */
    _Atomic int fault; /* enum store_fault of the last write: set by the commit
                        * thread, read by /readyz and the loop thread */
};

/* What the last failed write says about the store (store_fault_of). */
enum store_fault {
    STORE_FAULT_NONE = 0,   /* writes succeed */
    STORE_FAULT_FULL,       /* the map or the disk is full: writes are refused
                             * with RESOURCE_EXHAUSTED until one fits again */
    STORE_FAULT_FATAL       /* the environment cannot be trusted: stop */
};

/* The minimum free space of the data directory's file system under which
 * a write that failed with EIO counts as "disk full": LMDB reports a short
 * write (what a full disk gives) as EIO. */
#define STORE_FULL_FREE_BYTES (8u << 20)

/* Opens (creating if needed) the environment in directory `dir` (created
 * with mode 0700 if missing) with the given map size in bytes, runs
 * mdb_reader_check, and checks or writes the schema version.  Returns 0 or
 * -1 with a message in err.  On success *out is owned by the caller. */
int  store_open(struct store **out, const char *dir, uint64_t map_size,
                char *err, size_t errlen);
void store_close(struct store *s);           /* NULL is a no-op */

/* Registers the journal sink (copied; NULL or all-NULL pointers remove
 * it).  Call before the commit and loop threads use the store, or after
 * they stopped: the pointers are read without a lock. */
void store_set_journal_sink(struct store *s, const struct store_journal_sink *sink);

/* Registers the journal observer (copied; NULL removes it), under the
 * same rule as the sink. */
void store_set_journal_obs(struct store *s, const struct store_journal_obs *obs);

/* THE mapping of an LMDB return code to a HITLQ_ST_* status, for every
 * wing: 0 -> HITLQ_ST_OK, MDB_MAP_FULL -> HITLQ_ST_RESOURCE_EXHAUSTED
 * (the map is full: nothing of the txn may be kept), ENOSPC and EDQUOT
 * -> HITLQ_ST_RESOURCE_EXHAUSTED (the disk is full), anything else
 * (including MDB_NOTFOUND, which is negative, -30798) ->
 * HITLQ_ST_INTERNAL.  A caller for whom absence is an answer tests
 * MDB_NOTFOUND itself first.  After RESOURCE_EXHAUSTED or INTERNAL from a
 * write the caller must abort the transaction. */
int store_status(int mdb_rc);

/* Commit thread, with no transaction open: what a failed write's LMDB
 * code rc (from mdb_txn_begin, a put or mdb_txn_commit) means, recorded in
 * s->fault and returned.  STORE_FAULT_FULL for MDB_MAP_FULL, ENOSPC and
 * EDQUOT, and for EIO while the data directory has less than
 * STORE_FULL_FREE_BYTES free (a short write), provided a write
 * transaction still begins (the environment is not in MDB_PANIC: a failed
 * data-page write or sync aborts only its own transaction, the last
 * committed meta page stays in force).  Anything else, MDB_PANIC included,
 * is STORE_FAULT_FATAL and stays so.  rc 0 clears a FULL state. */
enum store_fault store_fault_of(struct store *s, int rc);

/* Big-endian u64 helpers for keys. */
void     store_put_be64(uint8_t *p, uint64_t v);
uint64_t store_get_be64(const uint8_t *p);
void     store_put_be32(uint8_t *p, uint32_t v);
uint32_t store_get_be32(const uint8_t *p);

#endif
