/*
 * queue_ready.c - queue_has_ready (queue_ready.h): one seek on the ready
 * index (layout in queue_int.h) to the queue's first key.
 */
#include <string.h>

#include "queue_int.h"
#include "queue_ready.h"

int
queue_has_ready(struct store *s, MDB_txn *txn, const char *queue, bool *any)
{
    uint8_t pre[HITLQ_MAX_QUEUE_NAME + 1];
    size_t plen = strnlen(queue, HITLQ_MAX_QUEUE_NAME) + 1;
    MDB_val k = { plen, pre }, d;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->ready, &cur);

    *any = false;
    if (rc != 0)
        return store_status(rc);
    memcpy(pre, queue, plen - 1);
    pre[plen - 1] = 0;
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    if (rc == 0)
        *any = k.mv_size == plen + 20 && memcmp(k.mv_data, pre, plen) == 0;
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? HITLQ_ST_OK : store_status(rc);
}
