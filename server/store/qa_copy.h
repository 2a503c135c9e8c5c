/*
 * qa_copy.h - the identity of a blind QA copy (PROTOCOL.md §4.3 step 5):
 * an id from its own range, so it is not the original's id + 1, and an
 * opaque key, a keyed hash of the original's id under a secret the store
 * keeps (meta "qa_secret", 32 random bytes made on first use).  Nobody
 * without the secret can go from the copy's id or key to the original;
 * the link itself stays in the copy's record (item.h `link`) for the
 * audit log and for auditors (GET `qa_of`).
 */
#ifndef HITLQ_QA_COPY_H
#define HITLQ_QA_COPY_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

struct store;

#define QA_COPY_ID_BASE (UINT64_C(1) << 52)  /* first QA copy id (< 2^53: JSON-safe) */
#define QA_COPY_KEY_LEN (3u + 32u)           /* "qa:" + 32 hex digits */

/* Write transaction: the next QA copy id (QA_COPY_ID_BASE, +1, ...),
 * durable with txn.  HITLQ_ST_*. */
int qa_copy_next_id(struct store *s, MDB_txn *txn, uint64_t *id);

/* Write transaction: the copy key of original item orig_id into key
 * (cap >= QA_COPY_KEY_LEN + 1): "qa:" and the hex of the first 16 bytes
 * of BLAKE2b(orig_id as u64 BE, key = the store's QA secret), creating
 * the secret when the store has none.  HITLQ_ST_*. */
int qa_copy_key(struct store *s, MDB_txn *txn, uint64_t orig_id, char *key, size_t cap);

/* Any transaction: the original's id when item id is a QA copy, else 0
 * (also when the item is unknown or unreadable). */
uint64_t qa_copy_of(struct store *s, MDB_txn *txn, uint64_t id);

#endif
