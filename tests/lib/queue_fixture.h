/*
 * queue_fixture.h - shared by the queue state-machine unit tests
 * (tests/unit/test_queue_claim.c, test_queue_results.c,
 * test_queue_record.c): a real LMDB store in a fresh mkdtemp directory per
 * test, transactions, one-call submit/claim/expire with a time driven by
 * hand, and lookups in the MessagePack of GET and STATS.  Every helper
 * fails the running test (cmocka) instead of returning errors.
 */
#ifndef HITLQ_QUEUE_FIXTURE_H
#define HITLQ_QUEUE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "queue.h"
#include "store.h"

/* The time the tests start at (ms). */
#define QFX_T0 1700000000000ull

/* One test's store: its directory and the open store. */
struct qfx_env {
    char          dir[64];
    struct store *s;
};

/* cmocka setup: a new directory with an open store (*state: a struct
 * qfx_env); -1 when the directory cannot be made. */
int qfx_setup(void **state);
/* cmocka teardown: closes the store and removes the directory. */
int qfx_teardown(void **state);
/* Closes and reopens e's store (a restart). */
void qfx_reopen(struct qfx_env *e);
/* A write / read-only transaction on e's store. */
MDB_txn *qfx_wtxn(struct qfx_env *e);
MDB_txn *qfx_rtxn(struct qfx_env *e);
/* Commits t (must succeed). */
void qfx_commit(MDB_txn *t);

/* {a: 1}, the fields of every qfx_submit_tx item, and [{f: true}], its reasons. */
extern const uint8_t qfx_fields_mp[4];
extern const uint8_t qfx_reasons_mp[5];

/* Submits `key` (queue NULL = auto-resolved "approve", score 0.97;
 * otherwise queued with score 0.25, priority prio, SLA sla ms) in t, with
 * content hash bytes `hash`, at time now, by "bot1".  *d is filled and
 * its reasons allocated (decision_clear frees them); returns
 * queue_submit's status, *dup and *fx as it sets them. */
int qfx_submit_tx(struct qfx_env *e, MDB_txn *t, const char *key, const char *queue,
                  uint32_t prio, uint64_t sla, uint8_t hash, uint64_t now,
                  struct decision *d, bool *dup, struct queue_fx *fx);
/* The same in its own transaction, content hash 1; must be new.  Returns
 * the item's id. */
uint64_t qfx_submit1(struct qfx_env *e, const char *key, const char *queue, uint32_t prio,
                     uint64_t sla, uint64_t now);
/* CLAIM by worker "alice" on q1 (and q2 unless NULL), lease 10 s, in its
 * own transaction; returns the status, the claim in *out (reply_mp to
 * free when ok). */
int qfx_claim_q(struct qfx_env *e, const char *q1, const char *q2, uint64_t now,
                struct claim_out *out);
/* The same: the claimed id (0 when none) and its lease in *lease unless
 * lease is NULL. */
uint64_t qfx_claim_id(struct qfx_env *e, const char *q1, const char *q2, uint64_t now,
                      uint64_t *lease);
/* Expires due leases and delays at now (dead letters after max_attempts);
 * returns how many were handled. */
size_t qfx_expire(struct qfx_env *e, uint64_t now, uint32_t max_attempts);

/* msgpack lookup by key in a map object (m must be a map); NULL if absent. */
const msgpack_object *qfx_mget(const msgpack_object *m, const char *k);
/* The positive integer at key k of m (must be present). */
uint64_t qfx_mu64(const msgpack_object *m, const char *k);
/* The string at key k of m equals want. */
void qfx_mstr_eq(const msgpack_object *m, const char *k, const char *want);
/* Unpacks buf into *res; the result owns a copy of the bytes (strings in
 * it stay valid after buf is freed).  Nothing may follow the object. */
void qfx_unpack(const void *buf, size_t len, msgpack_unpacked *res);
/* GET of id, unpacked into res. */
void qfx_get_item(struct qfx_env *e, uint64_t id, msgpack_unpacked *res);
/* STATS at time now, unpacked into res. */
void qfx_stats(struct qfx_env *e, uint64_t now, msgpack_unpacked *res);
/* The stats entry of queue q (or type q when types is true); fails the
 * test when there is none. */
const msgpack_object *qfx_stats_entry(const msgpack_object *st, bool types, const char *q);

#endif
