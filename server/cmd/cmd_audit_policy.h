/*
 * cmd_audit_policy.h - opens and reloads the audit log with a loaded
 * policy set: the assembly layer turns the set (score.h) into the values
 * the log records (struct audit_policy, audit.h), so that the audit wing
 * needs nothing of the scoring core.
 */
#ifndef HITLQ_CMD_AUDIT_POLICY_H
#define HITLQ_CMD_AUDIT_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

struct audit;
struct hitlq_config;
struct scoring;
struct store;

/* audit_open (audit.h) with the policy values of sc.  0 or -1 with a
 * message in err. */
int cmd_audit_open(struct audit **out, struct store *s, const struct hitlq_config *cfg,
                   const struct scoring *sc, char *err, size_t errlen);

/* audit_reload (audit.h) with the policy values of sc (commit thread,
 * inside the batch txn).  HITLQ_ST_* as audit_reload. */
int cmd_audit_reload(struct audit *a, MDB_txn *txn, const struct scoring *sc,
                     uint64_t now_ms);

#endif
