/*
 * store_clock.c - the server time's high-water mark in the meta database
 * (store_clock.h).
 */
#include "hitlq_proto.h"

#include "store_clock.h"
#include "util.h"

#define STORE_CLOCK_KEY "clock_ms"

/* The stored mark in txn: 0 when absent; -1 on a read error or a record
 * of the wrong size. */
static int
store_clock_get(struct store *s, MDB_txn *txn, uint64_t *ms)
{
    MDB_val k = { sizeof(STORE_CLOCK_KEY) - 1, (void *)STORE_CLOCK_KEY }, d;
    int rc = mdb_get(txn, s->meta, &k, &d);

    *ms = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0 || d.mv_size != 8)
        return -1;
    *ms = store_get_be64(d.mv_data);
    return 0;
}

int
store_clock_save(struct store *s, MDB_txn *txn, uint64_t now_ms)
{
    MDB_val k = { sizeof(STORE_CLOCK_KEY) - 1, (void *)STORE_CLOCK_KEY };
    uint8_t buf[8];
    MDB_val d = { sizeof(buf), buf };
    uint64_t cur;

    if (store_clock_get(s, txn, &cur) == 0 && cur >= now_ms)
        return HITLQ_ST_OK;
    store_put_be64(buf, now_ms);
    return store_status(mdb_put(txn, s->meta, &k, &d, 0));
}

uint64_t
store_clock_resume(struct store *s)
{
    MDB_txn *txn;
    uint64_t ms = 0;

    if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
        return 0;
    if (store_clock_get(s, txn, &ms) != 0)
        ms = 0;
    mdb_txn_abort(txn);
    if (ms != 0)
        (void)util_clock_floor(ms);
    return ms;
}
