/*
 * audit_rec.c - reads back the model's recommendation an item's
 * model-decision entry recorded (RECOMMENDATION, proto/AUDIT-FORMAT.md
 * §3.4), so the CLAIM reply shows the reviewer exactly what the log says
 * the model recommended (audit_recommendation, audit.h).
 */
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"

/* The RECOMMENDATION of a decoded record into out, or false. */
static bool
audit_rec_of(const struct record *r, char *out, size_t cap)
{
    struct record_ext_recommendation rc;

    for (size_t i = 0; i < r->ext_count; i++) {
        const struct record_ext *x = &r->ext[i];

        if (x->type != RECORD_EXT_RECOMMENDATION ||
            record_ext_recommendation_decode(x->data, x->len, &rc) != RECORD_OK)
            continue;
        if (rc.recommendation.len >= cap)
            return false;
        memcpy(out, rc.recommendation.data, rc.recommendation.len);
        out[rc.recommendation.len] = '\0';
        return true;
    }
    return false;
}

int
audit_recommendation(struct audit *a, MDB_txn *txn, uint64_t index, char *out, size_t cap)
{
    uint8_t kb[8];
    MDB_val k = { 8, kb }, v;
    struct record *r;
    int st = HITLQ_ST_NOT_FOUND;

    if (a == NULL || cap == 0)
        return HITLQ_ST_NOT_FOUND;
    store_put_be64(kb, index);
    if (mdb_get(txn, a->s->alog, &k, &v) != 0 || v.mv_size <= AUDIT_HASH_LEN)
        return HITLQ_ST_NOT_FOUND;
    if ((r = malloc(sizeof(*r))) == NULL)
        return HITLQ_ST_INTERNAL;
    if (record_decode((const uint8_t *)v.mv_data + AUDIT_HASH_LEN, v.mv_size - AUDIT_HASH_LEN,
                      r) != RECORD_OK)
        st = HITLQ_ST_INTERNAL;
    else if (audit_rec_of(r, out, cap))
        st = HITLQ_ST_OK;
    free(r);
    return st;
}
