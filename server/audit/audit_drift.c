/*
 * audit_drift.c - PROFILE_REGISTERED and INPUT_WINDOW entries (API in
 * audit_drift.h): SYSTEM entries about the scoring configuration and its
 * inputs, filled like MODEL_REGISTERED (item_id "0", actor hitlqd).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit_drift.h"
#include "audit_int.h"

static void
audit_drift_str(struct record_str *dst, const char *s, size_t n)
{
    dst->len = (uint8_t)(n > RECORD_STR_MAX ? RECORD_STR_MAX : n);
    memcpy(dst->data, s, dst->len);
}

/* A SYSTEM record of `rtype` with the model fields of `type` (if the log
 * knows it) and the policy's id, carrying one extension. */
static void
audit_drift_record(struct audit *a, uint8_t rtype, const char *type, uint16_t ext_type,
                   const uint8_t *body, size_t len)
{
    const struct audit_type *t = audit_policy_type(a, type);
    struct record *r = &a->rec;

    record_init(r);
    r->record_type = rtype;
    audit_drift_str(&r->item_id, "0", 1);
    r->actor_type = RECORD_ACTOR_SYSTEM;
    audit_drift_str(&r->actor_id, "hitlqd", 6);
    if (t != NULL) {
        const char *at = strrchr(t->model_id, '@');

        audit_drift_str(&r->model_id, t->model_id,
                        at != NULL ? (size_t)(at - t->model_id) : strlen(t->model_id));
        if (at != NULL)
            audit_drift_str(&r->model_version, at + 1, strlen(at + 1));
        memcpy(r->model_digest, t->model_digest, AUDIT_HASH_LEN);
    }
    if (a->pol != NULL && a->pol->id != NULL)
        audit_drift_str(&r->policy_id, a->pol->id, strlen(a->pol->id));
    r->ext[0] = (struct record_ext){ ext_type, (uint16_t)len, body };
    r->ext_count = 1;
}

int
audit_profile_register(struct audit *a, MDB_txn *txn, const char *type,
                       const uint8_t digest[32], const uint8_t *body, size_t len,
                       uint64_t now_ms)
{
    char name[16 + 2 * AUDIT_HASH_LEN + 1];
    uint8_t hash[AUDIT_HASH_LEN];
    uint64_t index;
    MDB_val v;
    int st;

    if (len > RECORD_EXT_DATA_MAX)
        return HITLQ_ST_INTERNAL;
    memcpy(name, "audit_profile:", 14);
    sodium_bin2hex(name + 14, sizeof(name) - 14, digest, AUDIT_HASH_LEN);
    if (audit_meta_get(a->s, txn, name, &v) == 0)
        return HITLQ_ST_OK;
    audit_drift_record(a, RECORD_PROFILE_REGISTERED, type, RECORD_EXT_PROFILE, body, len);
    if ((st = audit_append(a, txn, &a->rec, now_ms, &index, hash)) != HITLQ_ST_OK)
        return st;
    return store_status(audit_meta_put(a->s, txn, name, &index, sizeof(index)));
}

int
audit_input_window(struct audit *a, MDB_txn *txn, const char *type, const uint8_t *body,
                   size_t len, uint64_t now_ms)
{
    uint8_t hash[AUDIT_HASH_LEN];
    uint64_t index;

    if (len > RECORD_EXT_DATA_MAX)
        return HITLQ_ST_INTERNAL;
    audit_drift_record(a, RECORD_INPUT_WINDOW, type, RECORD_EXT_INPUT_COUNTS, body, len);
    return audit_append(a, txn, &a->rec, now_ms, &index, hash);
}
