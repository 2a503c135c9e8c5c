/*
 * wset.h - every LMDB write of hitlqd goes through these wrappers: write
 * transactions (begin / commit / abort), puts and deletes, cursor puts
 * and deletes.  Without a replication hook they are the LMDB calls plus
 * one branch.  With a hook (store_set_repl, HA mode) the store captures
 * the write-set of each write transaction (its ordered puts and deletes),
 * and store_wtxn_commit hands it to the hook before the local commit;
 * store_wset_apply replays such a write-set on another node.  The bytes
 * of a write-set are described in docs/HA.md "Write-set format".
 *
 * Return codes: every function returning int returns an LMDB return code
 * (0, MDB_*, an errno value) or one of the STORE_RC_* below; name any of
 * them with store_strerror.  store_status (store.h) maps each to a
 * HITLQ_ST_* status and store_fault_of (store.h) judges the STORE_RC_*
 * fatal.  A write transaction of one store is open in one thread at a
 * time (LMDB's writer lock); the capture state lives in the store and is
 * touched only while that lock is held.
 *
 * Rule (scripts/check-style.sh): mdb_put, mdb_del, mdb_cursor_put,
 * mdb_cursor_del and mdb_txn_commit appear only in server/store/wset.c,
 * and mdb_txn_begin elsewhere only for MDB_RDONLY transactions.
 */
#ifndef HITLQ_WSET_H
#define HITLQ_WSET_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "store.h"

/* Store return codes outside LMDB's range (MDB_KEYEXIST -30799 ..
 * MDB_LAST_ERRCODE) and outside errno's (positive). */
#define STORE_RC_FENCED (-31001) /* the hook refused: another leader took over */
#define STORE_RC_REPL   (-31002) /* replication failed or its outcome is unknown;
                                  * also: the local commit failed after the
                                  * write-set was appended */
#define STORE_RC_WSET   (-31003) /* a write-set to apply is malformed, names an
                                  * unknown database or another table version */
#define STORE_RC_SEQ    (-31004) /* a write-set to apply is not the next one
                                  * (its repl_seq is not the store's + 1) */

/* The replication hook (HA mode).  append is called by store_wtxn_commit
 * on the committing thread, with the write transaction still open, for
 * sequence number seq (1, 2, ...: the store's last + 1) and the encoded
 * write-set ws[0..len) (valid only during the call).  It returns 0 when
 * the write-set is durably appended to the system of record (then the
 * local commit follows), STORE_RC_FENCED when another leader holds the
 * log, or STORE_RC_REPL for any other failure or an unknown outcome;
 * anything non-zero aborts the transaction.  arg is passed back. */
struct store_repl {
    int  (*append)(void *arg, uint64_t seq, const uint8_t *ws, size_t len);
    void  *arg;
};

/* Registers the hook (copied) and loads the last sequence number from
 * meta "repl_seq"; NULL (or a NULL append) removes it.  Call with no
 * write transaction open and before other threads use the store, or
 * after they stopped.  Returns 0, ENOMEM, or an LMDB code of the read. */
int  store_set_repl(struct store *s, const struct store_repl *repl);

/* Begins a write transaction (*txn set on 0).  LMDB code. */
int  store_wtxn_begin(struct store *s, MDB_txn **txn);

/* Commits txn, which is consumed whatever the result.  Without a hook:
 * mdb_txn_commit.  With one: puts meta "repl_seq" = last + 1 (u64 BE),
 * encodes the write-set, calls the hook's append and commits only if it
 * returned 0; else aborts and returns its code (STORE_RC_FENCED /
 * STORE_RC_REPL).  A transaction that applied a write-set
 * (store_wset_apply) is committed without append.  A local commit that
 * fails after a successful append returns STORE_RC_REPL (the log holds a
 * batch this node lacks: it must stop and catch up). */
int  store_wtxn_commit(struct store *s, MDB_txn *txn);

/* Aborts txn (NULL is a no-op) and drops its capture. */
void store_wtxn_abort(struct store *s, MDB_txn *txn);

/* mdb_put on a write transaction of s, captured: MDB_APPEND is recorded as
 * a plain put, MDB_NOOVERWRITE / MDB_NODUPDATA only when the put happened,
 * MDB_RESERVE with the bytes the caller writes into v->mv_data before its
 * next store call or the commit. */
int  store_put(struct store *s, MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v,
               unsigned flags);

/* mdb_del, captured (v non-NULL on a dupsort database deletes that one
 * pair and is recorded). */
int  store_del(struct store *s, MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v);

/* mdb_cursor_put / mdb_cursor_del on a cursor of a write transaction of
 * s, captured like store_put / store_del (a cursor delete records the
 * current key, and its value on a dupsort database). */
int  store_cursor_put(struct store *s, MDB_cursor *c, MDB_val *k, MDB_val *v,
                      unsigned flags);
int  store_cursor_del(struct store *s, MDB_cursor *c, unsigned flags);

/* Applies one encoded write-set ws[0..len) inside txn (from
 * store_wtxn_begin on this store; nothing else written in it; commit it
 * with store_wtxn_commit).  Everything is checked before the first put:
 * magic, version, table version, counts against the bytes left, ops,
 * database ids, key sizes (LMDB's maximum), and that it holds exactly one
 * meta "repl_seq" equal to store_repl_seq(s, txn) + 1.  Returns 0,
 * STORE_RC_WSET (malformed), STORE_RC_SEQ (not the next one), or the LMDB
 * code of a failed put (then abort txn). */
int  store_wset_apply(struct store *s, MDB_txn *txn, const uint8_t *ws, size_t len);

/* The sequence number of the last write-set committed in (or applied to)
 * the store as seen by txn (any txn): meta "repl_seq", 0 if none (or if
 * the record is unreadable). */
uint64_t store_repl_seq(struct store *s, MDB_txn *txn);

/* The text of any code the store's functions return (mdb_strerror's
 * texts, and the STORE_RC_* ones). */
const char *store_strerror(int rc);

/* The named databases in their stable order (a write-set names a database
 * by its index here): names[i] is the LMDB name of the database whose
 * handle is at byte offset offs[i] of struct store.  Append only. */
extern const char *const store_db_names[];
extern const size_t      store_db_offs[];
extern const size_t      store_db_count;

#endif
