/*
 * drift_commit.h - input drift in the write path: the loop thread bins
 * each SUBMIT's model inputs against its type's reference profile
 * (drift_observe, with the scoring); the commit thread merges a batch's
 * bins per (type, profile, window) and adds them to the `drift` database
 * (server/store/drift_store.h) in the batch's own transaction, closes the
 * windows that have ended (an INPUT_WINDOW audit entry each, first thing
 * in a batch or on its idle tick), and PROFILE_REGISTERED entries are
 * appended when a profile with a new digest is loaded (start, reload).
 * Windows are [k*W, (k+1)*W) in ms, W = the config's drift_window_s.
 */
#ifndef HITLQ_DRIFT_COMMIT_H
#define HITLQ_DRIFT_COMMIT_H

#include <stdint.h>

#include <lmdb.h>
#include <msgpack.h>

#include "drift_store.h"

struct audit;
struct hitlq_server;
struct scoring;
struct type_policy;

/* Loop thread: o gets the item's bins (o->k = 0 when the type has no
 * profile). */
void drift_observe(const struct type_policy *p, const msgpack_object *fields,
                   struct drift_obs *o);

/* ---- commit thread --------------------------------------------------------
 * Each returns HITLQ_ST_*; INTERNAL / RESOURCE_EXHAUSTED abort the batch. */

/* Start of a batch at now_ms: closes the windows that have ended (when the
 * audit log is on) and empties the batch's sums. */
int  drift_batch_begin(struct hitlq_server *srv, MDB_txn *txn, uint64_t now_ms);
/* One new item of `type` (a non-duplicate SUBMIT): counted in the batch's
 * window. */
int  drift_batch_add(struct hitlq_server *srv, MDB_txn *txn, const char *type,
                     const struct drift_obs *o);
/* End of the batch: adds its sums to the store. */
int  drift_batch_end(struct hitlq_server *srv, MDB_txn *txn);
/* The batch's transaction was aborted: forget its sums. */
void drift_batch_abort(struct hitlq_server *srv);
/* When the idle commit thread must close windows (0 = never). */
uint64_t drift_due_ms(struct hitlq_server *srv);
/* Idle tick: closes due windows in a transaction of its own.  Returns 0,
 * or the store code of the failed write (retried later; the caller judges
 * it with commit_fault like every other write). */
int  drift_idle(struct hitlq_server *srv);
/* Frees the commit thread's state (after the thread stopped). */
void drift_live_free(struct hitlq_server *srv);

/* PROFILE_REGISTERED entries for the profiles of sc whose digest the log
 * has not seen (inside txn, after audit_txn_begin).  HITLQ_ST_*. */
int  drift_register_profiles(struct audit *a, MDB_txn *txn, const struct scoring *sc,
                             uint64_t now_ms);

#endif
