/*
 * audit_models.c - the log's registry of model identities: which model
 * file digest (SHA-256) each "id@version" was registered with, kept in
 * meta as "audit_model_id:<id@version>" -> digest[32] beside the
 * MODEL_REGISTERED entries, rebuilt once from those entries for a log
 * written before the registry existed.  hitlqd refuses a reload that
 * would register a second digest under one id@version (server/cmd/
 * cmd_admin.c asks audit_model_digest).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit_int.h"
#include "log.h"

#define AUDIT_MODEL_ID_KEY  "audit_model_id:"
#define AUDIT_MODEL_IDS_SET "audit_model_ids"     /* marker: registry built */

/* meta key of id into k (>= 16 + HITLQ_MAX_NAME + 1 bytes); its length. */
static size_t
audit_model_key(char *k, size_t cap, const char *id, size_t id_len)
{
    int n = snprintf(k, cap, "%s%.*s", AUDIT_MODEL_ID_KEY, (int)id_len, id);

    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int
audit_model_id_put(struct audit *a, MDB_txn *txn, const char *id, size_t id_len,
                   const uint8_t digest[AUDIT_HASH_LEN])
{
    char k[sizeof(AUDIT_MODEL_ID_KEY) + 2 * RECORD_STR_MAX + 2];
    char h1[2 * AUDIT_HASH_LEN + 1], h2[2 * AUDIT_HASH_LEN + 1];
    size_t kl = audit_model_key(k, sizeof(k), id, id_len);
    MDB_val key = { kl, k }, v;

    if (kl == 0 || kl > 511)
        return HITLQ_ST_INTERNAL;
    if (mdb_get(txn, a->s->meta, &key, &v) == 0 && v.mv_size == AUDIT_HASH_LEN &&
        memcmp(v.mv_data, digest, AUDIT_HASH_LEN) != 0) {
        sodium_bin2hex(h1, sizeof(h1), v.mv_data, AUDIT_HASH_LEN);
        sodium_bin2hex(h2, sizeof(h2), digest, AUDIT_HASH_LEN);
        log_warn("audit: model %.*s was registered with digest %s, now loaded with %s: "
                 "a changed model file should get a new model_version",
                 (int)id_len, id, h1, h2);
    }
    v = (MDB_val){ AUDIT_HASH_LEN, (void *)digest };
    return store_status(store_put(a->s, txn, a->s->meta, &key, &v, 0));
}

/* Registers the model of one stored MODEL_REGISTERED entry (bytes after
 * the leaf hash). */
static int
audit_model_from_entry(struct audit *a, MDB_txn *txn, const uint8_t *p, size_t n)
{
    char id[2 * RECORD_STR_MAX + 2];
    struct record *r = &a->ref;
    int w;

    if (record_decode(p, n, r) != RECORD_OK)
        return HITLQ_ST_INTERNAL;
    w = snprintf(id, sizeof(id), "%.*s@%.*s", r->model_id.len,
                 (const char *)r->model_id.data, r->model_version.len,
                 (const char *)r->model_version.data);
    if (w <= 0 || (size_t)w >= sizeof(id))
        return HITLQ_ST_INTERNAL;
    return audit_model_id_put(a, txn, id, (size_t)w, r->model_digest);
}

int
audit_model_ids_build(struct audit *a, MDB_txn *txn)
{
    MDB_val k = { strlen(AUDIT_MODEL_IDS_SET), (void *)AUDIT_MODEL_IDS_SET }, v;
    MDB_cursor *cur;
    int rc, st = HITLQ_ST_OK;

    if (mdb_get(txn, a->s->meta, &k, &v) == 0)
        return HITLQ_ST_OK;                     /* built before */
    if (mdb_cursor_open(txn, a->s->alog, &cur) != 0)
        return HITLQ_ST_INTERNAL;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && st == HITLQ_ST_OK;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *p = (const uint8_t *)v.mv_data + AUDIT_HASH_LEN;

        if (v.mv_size > AUDIT_HASH_LEN + 4 && p[4] == RECORD_MODEL_REGISTERED)
            st = audit_model_from_entry(a, txn, p, v.mv_size - AUDIT_HASH_LEN);
    }
    mdb_cursor_close(cur);
    if (st != HITLQ_ST_OK || (rc != 0 && rc != MDB_NOTFOUND))
        return st != HITLQ_ST_OK ? st : store_status(rc);
    k = (MDB_val){ strlen(AUDIT_MODEL_IDS_SET), (void *)AUDIT_MODEL_IDS_SET };
    v = (MDB_val){ 1, (void *)"1" };
    return store_status(store_put(a->s, txn, a->s->meta, &k, &v, 0));
}

int
audit_model_digest(struct audit *a, MDB_txn *txn, const char *id,
                   uint8_t out[AUDIT_HASH_LEN])
{
    char k[sizeof(AUDIT_MODEL_ID_KEY) + 2 * RECORD_STR_MAX + 2];
    size_t kl = audit_model_key(k, sizeof(k), id, strlen(id));
    MDB_val key = { kl, k }, v;
    int rc;

    if (kl == 0 || kl > 511)
        return HITLQ_ST_NOT_FOUND;
    rc = mdb_get(txn, a->s->meta, &key, &v);
    if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size != AUDIT_HASH_LEN))
        return HITLQ_ST_NOT_FOUND;
    if (rc != 0)
        return store_status(rc);
    memcpy(out, v.mv_data, AUDIT_HASH_LEN);
    return HITLQ_ST_OK;
}
