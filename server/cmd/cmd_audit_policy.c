/*
 * cmd_audit_policy.c - the values of a loaded policy set that the audit
 * log records (its id and digest; per type the actions, the threshold and
 * the model's id, digest and kind), handed to audit_open / audit_reload,
 * which copy them; then the PROFILE_REGISTERED entries of its input-drift
 * profiles (drift_commit.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "audit.h"
#include "cmd_audit_policy.h"
#include "drift_commit.h"
#include "store.h"
#include "util.h"
#include "score.h"

/* Fills pol from sc; the types array is malloc'd (caller frees *types).
 * Returns 0 or -1 (out of memory). */
static int
cmd_audit_policy(const struct scoring *sc, struct audit_policy *pol, struct audit_type **types)
{
    size_t n = scoring_n_types(sc);

    *types = calloc(n > 0 ? n : 1, sizeof(**types));
    if (*types == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const struct type_policy *tp = scoring_type_at(sc, i);

        (*types)[i] = (struct audit_type){
            .type = tp->type, .auto_action = tp->auto_action,
            .reject_action = tp->reject_action, .auto_threshold = tp->auto_threshold,
            .model_id = tp->model->id, .model_digest = tp->model->digest,
            .model_kind = tp->model->ops->kind,
        };
    }
    *pol = (struct audit_policy){
        .id = scoring_policy_id(sc), .digest = scoring_policy_digest(sc),
        .n_types = n, .types = *types,
    };
    return 0;
}

/* PROFILE_REGISTERED entries at start, in a transaction of their own
 * (after the configuration entries audit_open wrote). */
static int
cmd_audit_profiles(struct audit *a, struct store *s, const struct scoring *sc)
{
    MDB_txn *txn;
    int st;

    if (store_wtxn_begin(s, &txn) != 0)
        return HITLQ_ST_INTERNAL;
    audit_txn_begin(a, txn);
    st = drift_register_profiles(a, txn, sc, util_now_ms());
    if (st != HITLQ_ST_OK) {
        store_wtxn_abort(s, txn);
        audit_txn_abort(a);
    } else if (store_wtxn_commit(s, txn) != 0) {
        audit_txn_abort(a);
        st = HITLQ_ST_INTERNAL;
    }
    return st;
}

int
cmd_audit_open(struct audit **out, struct store *s, const struct hitlq_config *cfg,
               const struct scoring *sc, char *err, size_t errlen)
{
    struct audit_policy pol;
    struct audit_type *types;
    int rc;

    *out = NULL;
    if (cmd_audit_policy(sc, &pol, &types) != 0) {
        snprintf(err, errlen, "audit: out of memory");
        return -1;
    }
    rc = audit_open(out, s, cfg, &pol, err, errlen);
    free(types);
    if (rc == 0 && cmd_audit_profiles(*out, s, sc) != HITLQ_ST_OK) {
        snprintf(err, errlen, "audit: cannot record the input-drift profiles");
        audit_close(*out);
        *out = NULL;
        rc = -1;
    }
    return rc;
}

int
cmd_audit_reload(struct audit *a, MDB_txn *txn, const struct scoring *sc, uint64_t now_ms)
{
    struct audit_policy pol;
    struct audit_type *types;
    int st;

    if (cmd_audit_policy(sc, &pol, &types) != 0)
        return HITLQ_ST_INTERNAL;
    st = audit_reload(a, txn, &pol, now_ms);
    free(types);
    if (st == HITLQ_ST_OK)
        st = drift_register_profiles(a, txn, sc, now_ms);
    return st;
}
