/*
 * qa_copy.c - ids and opaque keys of blind QA copies (qa_copy.h).
 */
#include <string.h>

#include <sodium.h>

#include "hitlq_proto.h"
#include "qa_copy.h"
#include "queue_int.h"

#define QA_SECRET_LEN 32u

int
qa_copy_next_id(struct store *s, MDB_txn *txn, uint64_t *id)
{
    uint64_t n;
    int st = qi_meta_get(s, txn, "qa_next_id", &n);   /* 1 when absent */

    if (st != HITLQ_ST_OK)
        return st;
    if (n < QA_COPY_ID_BASE)
        n = QA_COPY_ID_BASE;
    *id = n;
    return qi_meta_put(s, txn, "qa_next_id", n + 1);
}

/* The store's QA secret into sec, made (random) and stored when absent. */
static int
qa_copy_secret(struct store *s, MDB_txn *txn, uint8_t sec[QA_SECRET_LEN])
{
    static const char name[] = "qa_secret";
    MDB_val k = { sizeof name - 1, (void *)name }, d;
    int rc = mdb_get(txn, s->meta, &k, &d);

    if (rc == 0) {
        if (d.mv_size != QA_SECRET_LEN)
            return HITLQ_ST_INTERNAL;
        memcpy(sec, d.mv_data, QA_SECRET_LEN);
        return HITLQ_ST_OK;
    }
    if (rc != MDB_NOTFOUND)
        return store_status(rc);
    randombytes_buf(sec, QA_SECRET_LEN);
    d.mv_size = QA_SECRET_LEN;
    d.mv_data = sec;
    return store_status(store_put(s, txn, s->meta, &k, &d, MDB_NOOVERWRITE));
}

int
qa_copy_key(struct store *s, MDB_txn *txn, uint64_t orig_id, char *key, size_t cap)
{
    uint8_t sec[QA_SECRET_LEN], in[8], h[16];
    int st;

    if (cap < QA_COPY_KEY_LEN + 1)
        return HITLQ_ST_INTERNAL;
    if ((st = qa_copy_secret(s, txn, sec)) != HITLQ_ST_OK)
        return st;
    store_put_be64(in, orig_id);
    crypto_generichash(h, sizeof h, in, sizeof in, sec, sizeof sec);
    sodium_memzero(sec, sizeof sec);
    memcpy(key, "qa:", 3);
    sodium_bin2hex(key + 3, cap - 3, h, sizeof h);
    return HITLQ_ST_OK;
}

uint64_t
qa_copy_of(struct store *s, MDB_txn *txn, uint64_t id)
{
    struct qi_item it;
    uint64_t orig = 0;

    if (qi_item_load(s, txn, id, &it) != HITLQ_ST_OK)
        return 0;
    if (it.b.has_triage && (it.b.flags & ITEM_FLAG_QA_COPY) != 0)
        orig = it.b.link;
    qi_item_done(&it);
    return orig;
}
