/*
 * queue_notes.c - the notes of an item's history (queue_notes_pack,
 * queue.h): the stored events that carry a `note` (ESCALATE, RESOLVE),
 * so the escalation note that sent an item to a queue reaches the
 * person who claims it there.  Works in read or write transactions.
 */
#include <string.h>

#include "queue_int.h"
#include "wire.h"

/* The note of a stored history event (a msgpack map), or NULL. */
static const msgpack_object *
queue_note_of(const msgpack_object *ev)
{
    const msgpack_object *n = wire_map_get(ev, "note");

    return n != NULL && n->type == MSGPACK_OBJECT_STR ? n : NULL;
}

/* Packs the key/value under `key` of ev as is, or nil when absent. */
static void
queue_note_copy(msgpack_packer *pk, const msgpack_object *ev, const char *key)
{
    const msgpack_object *v = wire_map_get(ev, key);

    wire_pack_cstr(pk, key);
    if (v != NULL)
        msgpack_pack_object(pk, *v);
    else
        msgpack_pack_nil(pk);
}

/* Walks item id's stored events in order: with pk NULL counts those with
 * a note into *n; else packs the ones with a note whose rank is >= skip. */
static int
queue_notes_walk(struct store *s, MDB_txn *txn, uint64_t id, msgpack_packer *pk,
                 size_t skip, size_t *n)
{
    MDB_cursor *cur;
    uint8_t kb[12];
    MDB_val k = { sizeof(kb), kb }, d;
    msgpack_unpacked u;
    int rc = mdb_cursor_open(txn, s->hist, &cur);

    if (rc != 0)
        return store_status(rc);
    store_put_be64(kb, id);
    store_put_be32(kb + 8, 0);
    msgpack_unpacked_init(&u);
    *n = 0;
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == 12 && memcmp(k.mv_data, kb, 8) == 0) {
        const msgpack_object *note;

        if (msgpack_unpack_next(&u, d.mv_data, d.mv_size, NULL) == MSGPACK_UNPACK_SUCCESS &&
            (note = queue_note_of(&u.data)) != NULL && (*n)++ >= skip && pk != NULL) {
            msgpack_pack_map(pk, 4);
            queue_note_copy(pk, &u.data, "at_ms");
            queue_note_copy(pk, &u.data, "event");
            queue_note_copy(pk, &u.data, "actor");
            wire_pack_cstr(pk, "note");
            msgpack_pack_object(pk, *note);
        }
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    msgpack_unpacked_destroy(&u);
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? HITLQ_ST_OK : store_status(rc);
}

int
queue_notes_pack(struct store *s, MDB_txn *txn, uint64_t id, size_t max, msgpack_packer *pk)
{
    size_t n = 0, skip, again;
    int st = queue_notes_walk(s, txn, id, NULL, 0, &n);

    if (st != HITLQ_ST_OK)
        return st;
    skip = n > max ? n - max : 0;
    msgpack_pack_array(pk, (uint32_t)(n - skip));
    if (n - skip == 0)
        return HITLQ_ST_OK;
    st = queue_notes_walk(s, txn, id, pk, skip, &again);
    return st == HITLQ_ST_OK && again != n ? HITLQ_ST_INTERNAL : st;
}
