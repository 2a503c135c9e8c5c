/*
 * audit_drift.h - the audit log's input-drift entries (proto/AUDIT-FORMAT.md
 * §9): PROFILE_REGISTERED when a reference profile with a new digest is
 * loaded, and INPUT_WINDOW for each closed window's counts.  The extension
 * bodies (PROFILE, INPUT_COUNTS: proto/record_ext.h) come in encoded, made
 * by the layer that owns the profile and the counts; the entry's model
 * fields and policy_id are those the log has for the named type.
 *
 * Commit thread, inside the caller's write transaction (after
 * audit_txn_begin); HITLQ_ST_* as audit.h.
 */
#ifndef HITLQ_AUDIT_DRIFT_H
#define HITLQ_AUDIT_DRIFT_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

struct audit;

/* PROFILE_REGISTERED with PROFILE body[0..len), unless the log already
 * registered digest (meta "audit_profile:<hex digest>").  type: the first
 * type naming the profile. */
int audit_profile_register(struct audit *a, MDB_txn *txn, const char *type,
                           const uint8_t digest[32], const uint8_t *body, size_t len,
                           uint64_t now_ms);

/* INPUT_WINDOW of item type `type` with INPUT_COUNTS body[0..len). */
int audit_input_window(struct audit *a, MDB_txn *txn, const char *type, const uint8_t *body,
                       size_t len, uint64_t now_ms);

#endif
