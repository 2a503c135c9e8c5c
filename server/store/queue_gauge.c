/*
 * queue_gauge.c - the metrics' reads (queue_gauge.h): per-queue counts
 * and oldest ready item from qstats and the open index, and the claim and
 * ready times from an item's stored history.
 */
#include <string.h>

#include "queue_gauge.h"
#include "queue_int.h"
#include "wire.h"

/* Submit time of the oldest ready item among the first open entries of
 * queue prefix pre (plen bytes, "q\0"); see struct queue_gauge. */
static uint64_t
gauge_oldest_ready(struct store *s, MDB_txn *txn, MDB_cursor *oc, const uint8_t *pre,
                   size_t plen, const struct queue_gauge *g)
{
    MDB_val k = { plen, (void *)pre }, d;
    uint64_t first = 0;
    int rc = mdb_cursor_get(oc, &k, &d, MDB_SET_RANGE);

    for (unsigned i = 0; rc == 0 && i < QUEUE_GAUGE_SCAN; i++) {
        if (k.mv_size != plen + 8 || memcmp(k.mv_data, pre, plen) != 0 || d.mv_size != 16)
            break;
        uint64_t created = store_get_be64(d.mv_data);
        struct qi_item it;

        if (first == 0)
            first = created;
        if (g->leased + g->delayed == 0)    /* every open item is ready */
            return created;
        if (qi_item_load(s, txn, store_get_be64((uint8_t *)k.mv_data + plen), &it) ==
            HITLQ_ST_OK) {
            bool ready = it.h.state == HITLQ_STATE_QUEUED;

            qi_item_done(&it);
            if (ready)
                return created;
        }
        rc = mdb_cursor_get(oc, &k, &d, MDB_NEXT);
    }
    return first;
}

int
queue_gauges(struct store *s, MDB_txn *txn,
             void (*fn)(void *arg, const struct queue_gauge *g), void *arg)
{
    MDB_cursor *cur, *oc;
    MDB_val k, d;
    uint8_t pre[HITLQ_MAX_QUEUE_NAME + 1];
    int rc = mdb_cursor_open(txn, s->qstats, &cur);

    if (rc != 0)
        return store_status(rc);
    if ((rc = mdb_cursor_open(txn, s->open, &oc)) != 0) {
        mdb_cursor_close(cur);
        return store_status(rc);
    }
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        const uint8_t *v = d.mv_data;
        size_t plen = k.mv_size < HITLQ_MAX_QUEUE_NAME ? k.mv_size : HITLQ_MAX_QUEUE_NAME;
        struct queue_gauge g = { (const char *)pre, 0, 0, 0, 0 };

        if (d.mv_size != 24)
            continue;
        memcpy(pre, k.mv_data, plen);
        pre[plen] = 0;
        g.ready = store_get_be64(v);
        g.leased = store_get_be64(v + 8);
        g.delayed = store_get_be64(v + 16);
        if (g.ready > 0)
            g.oldest_ready_ms = gauge_oldest_ready(s, txn, oc, pre, plen + 1, &g);
        fn(arg, &g);
    }
    mdb_cursor_close(oc);
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? HITLQ_ST_OK : store_status(rc);
}

/* Updates the times from one stored event map. */
static void
hist_times_event(const msgpack_object *ev, uint64_t *claimed_ms, uint64_t *ready_ms)
{
    const msgpack_object *e = wire_map_get(ev, "event"), *at = wire_map_get(ev, "at_ms");
    const msgpack_object *from, *to;
    uint64_t t;

    if (e == NULL || e->type != MSGPACK_OBJECT_STR || at == NULL)
        return;
    t = wire_u64(at);
#define IS(w) (e->via.str.size == sizeof(w) - 1 && memcmp(e->via.str.ptr, w, sizeof(w) - 1) == 0)
    if (IS("claimed")) {
        *claimed_ms = t;
    } else if (IS("released")) {
        const msgpack_object *dl = wire_map_get(ev, "delay_ms");

        *ready_ms = t + (dl != NULL ? wire_u64(dl) : 0);
    } else if (IS("expired") || IS("escalated") || IS("reopened")) {
        *ready_ms = t;
    } else if (IS("sla") && (from = wire_map_get(ev, "from")) != NULL &&
               (to = wire_map_get(ev, "to")) != NULL && from->type == MSGPACK_OBJECT_STR &&
               to->type == MSGPACK_OBJECT_STR &&
               (from->via.str.size != to->via.str.size ||
                memcmp(from->via.str.ptr, to->via.str.ptr, to->via.str.size) != 0)) {
        *ready_ms = t;
    }
#undef IS
}

int
queue_hist_times(struct store *s, MDB_txn *txn, uint64_t id, uint64_t *claimed_ms,
                 uint64_t *ready_ms)
{
    MDB_cursor *cur;
    uint8_t kb[12];
    MDB_val k = { sizeof(kb), kb }, d;
    msgpack_unpacked u;
    int rc = mdb_cursor_open(txn, s->hist, &cur);

    *claimed_ms = *ready_ms = 0;
    if (rc != 0)
        return store_status(rc);
    store_put_be64(kb, id);
    store_put_be32(kb + 8, 0);
    msgpack_unpacked_init(&u);
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == 12 && memcmp(k.mv_data, kb, 8) == 0) {
        size_t off = 0;           /* a value holds one or more event maps */

        while (off < d.mv_size &&
               msgpack_unpack_next(&u, d.mv_data, d.mv_size, &off) == MSGPACK_UNPACK_SUCCESS)
            if (u.data.type == MSGPACK_OBJECT_MAP)
                hist_times_event(&u.data, claimed_ms, ready_ms);
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    msgpack_unpacked_destroy(&u);
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? HITLQ_ST_OK : store_status(rc);
}
