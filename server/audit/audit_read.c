/*
 * audit_read.c - the audit log's read side, on the loop thread inside its
 * read transaction: entry ranges, inclusion proofs (by index or item),
 * consistency proofs, receipts (tlog-proof@v1) and GET's audit map.
 *
 * Callers read the published checkpoint (audit_latest) BEFORE beginning the
 * read transaction: a checkpoint is signed only after its commit, so the
 * transaction then sees every entry it covers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"
#include "proof.h"
#include "queue.h"
#include "wire.h"

#define AUDIT_ENTRIES_BYTES (768u * 1024u)

static void
pack_bin(msgpack_packer *pk, const void *p, size_t n)
{
    msgpack_pack_bin(pk, n);
    msgpack_pack_bin_body(pk, p, n);
}

/* Entries from start: how many fit (count, byte budget, committed size). */
static uint32_t
audit_range_n(struct audit *a, MDB_txn *txn, uint64_t start, uint32_t count)
{
    uint8_t kb[8];
    size_t bytes = 0;
    uint32_t n = 0;
    MDB_cursor *cur;
    MDB_val k = { 8, kb }, v;
    int rc;

    store_put_be64(kb, start);
    if (mdb_cursor_open(txn, a->s->alog, &cur) != 0)
        return 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0 && n < count;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (n > 0 && bytes + v.mv_size > AUDIT_ENTRIES_BYTES)
            break;
        bytes += v.mv_size;
        n++;
    }
    mdb_cursor_close(cur);
    return n;
}

/* Packs n entries from start: records (hashes == false) or leaf hashes. */
static int
audit_range_pack(struct audit *a, MDB_txn *txn, uint64_t start, uint32_t n,
                 bool hashes, msgpack_packer *pk)
{
    uint8_t kb[8];
    MDB_cursor *cur;
    MDB_val k = { 8, kb }, v;
    int rc;

    store_put_be64(kb, start);
    msgpack_pack_array(pk, n);
    if (n == 0)
        return HITLQ_ST_OK;            /* start at the end: an empty range */
    if (mdb_cursor_open(txn, a->s->alog, &cur) != 0)
        return HITLQ_ST_INTERNAL;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        if (v.mv_size <= AUDIT_HASH_LEN)
            rc = MDB_CORRUPTED;
        else if (hashes)
            pack_bin(pk, v.mv_data, AUDIT_HASH_LEN);
        else
            pack_bin(pk, (const uint8_t *)v.mv_data + AUDIT_HASH_LEN,
                     v.mv_size - AUDIT_HASH_LEN);
        if (rc == 0 && i + 1 < n)
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == 0 ? HITLQ_ST_OK : HITLQ_ST_INTERNAL;
}

int
audit_pack_entries(struct audit *a, MDB_txn *txn, uint64_t start, uint32_t count,
                   msgpack_packer *pk)
{
    uint32_t n = audit_range_n(a, txn, start, count);
    int st;

    msgpack_pack_map(pk, 3);
    wire_pack_kv_u64(pk, "start", start);
    wire_pack_cstr(pk, "entries");
    if ((st = audit_range_pack(a, txn, start, n, false, pk)) != HITLQ_ST_OK)
        return st;
    wire_pack_cstr(pk, "hashes");
    return audit_range_pack(a, txn, start, n, true, pk);
}

int
audit_leaf(struct audit *a, MDB_txn *txn, uint64_t index, uint8_t out[AUDIT_HASH_LEN])
{
    uint8_t kb[8];
    MDB_val k = { 8, kb }, v;

    store_put_be64(kb, index);
    if (mdb_get(txn, a->s->alog, &k, &v) != 0 || v.mv_size <= AUDIT_HASH_LEN)
        return HITLQ_ST_NOT_FOUND;
    memcpy(out, v.mv_data, AUDIT_HASH_LEN);
    return HITLQ_ST_OK;
}

/* One {index, leaf_hash, proof, tlog_proof} map; note is the checkpoint
 * of `size`. */
static int
audit_pack_one(struct audit *a, MDB_txn *txn, uint64_t index, uint64_t size,
               const char *note, size_t note_len, msgpack_packer *pk)
{
    struct audit_get g = { a, txn, &a->rh };
    uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], leaf[AUDIT_HASH_LEN];
    char *text;
    size_t n, tl;
    int st = audit_leaf(a, txn, index, leaf);

    if (st != HITLQ_ST_OK)
        return st;
    if (merkle_inclusion_proof(&a->rh, size, index, audit_node_get, &g, proof, &n) != MERKLE_OK)
        return HITLQ_ST_INTERNAL;
    text = malloc(PROOF_FIXED_MAX + note_len + 1);
    if (text == NULL ||
        tlog_proof_format(index, (const uint8_t (*)[32])proof, n, note, note_len, text,
                          PROOF_FIXED_MAX + note_len + 1, &tl) != PROOF_OK) {
        free(text);
        return HITLQ_ST_INTERNAL;
    }
    msgpack_pack_map(pk, 4);
    wire_pack_kv_u64(pk, "index", index);
    wire_pack_cstr(pk, "leaf_hash");
    pack_bin(pk, leaf, AUDIT_HASH_LEN);
    wire_pack_cstr(pk, "proof");
    msgpack_pack_array(pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        pack_bin(pk, proof[i], MERKLE_HASH_LEN);
    wire_pack_kv_strn(pk, "tlog_proof", text, tl);
    free(text);
    return HITLQ_ST_OK;
}

/* The signed note of checkpoint `size` (acps, or the published one). */
static int
audit_note_at(struct audit *a, MDB_txn *txn, uint64_t size, const char **note, size_t *len,
              const struct audit_cp *cp)
{
    uint8_t kb[8];
    MDB_val k = { 8, kb }, v;

    if (size == cp->size) {
        *note = cp->note;
        *len = cp->len;
        return HITLQ_ST_OK;
    }
    store_put_be64(kb, size);
    if (mdb_get(txn, a->s->acps, &k, &v) != 0)
        return HITLQ_ST_NOT_FOUND;
    *note = v.mv_data;
    *len = v.mv_size;
    return HITLQ_ST_OK;
}

/* Appends the `audit` values of the history maps in buf[0..len) to out
 * (below size, at most AUDIT_ITEM_MAX in all). */
static size_t
audit_hist_indices(const uint8_t *buf, size_t len, uint64_t size, uint64_t *out, size_t n)
{
    msgpack_unpacked up;
    size_t off = 0;

    msgpack_unpacked_init(&up);
    while (n < AUDIT_ITEM_MAX &&
           msgpack_unpack_next(&up, (const char *)buf, len, &off) == MSGPACK_UNPACK_SUCCESS) {
        const msgpack_object *m = &up.data;
        if (m->type != MSGPACK_OBJECT_MAP)
            continue;
        for (uint32_t i = 0; i < m->via.map.size; i++) {
            const msgpack_object_kv *kv = &m->via.map.ptr[i];
            if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 5 &&
                memcmp(kv->key.via.str.ptr, "audit", 5) == 0 &&
                kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
                kv->val.via.u64 < size && n < AUDIT_ITEM_MAX)
                out[n++] = kv->val.via.u64;
        }
    }
    msgpack_unpacked_destroy(&up);
    return n;
}

/* Indices of item id's entries below size, oldest first (at most
 * AUDIT_ITEM_MAX): its model decision (from the item record), then the
 * `audit` index of each of its history events.  salt (may be NULL) gets
 * the input salt.  0 when the item is unknown or has no entry. */
static size_t
audit_item_indices(struct audit *a, MDB_txn *txn, uint64_t id, uint64_t size,
                   uint64_t *out, uint8_t *salt)
{
    uint8_t kb[12];
    MDB_val k, v;
    MDB_cursor *cur;
    uint64_t first;
    size_t n = 0;
    int rc;

    if (queue_audit_ref(a->s, txn, id, &first, salt) != HITLQ_ST_OK)
        return 0;
    if (first < size)
        out[n++] = first;
    if (mdb_cursor_open(txn, a->s->hist, &cur) != 0)
        return n;
    store_put_be64(kb, id);
    store_put_be32(kb + 8, 0);
    k = (MDB_val){ 12, kb };
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0 && k.mv_size == 12 && memcmp(k.mv_data, kb, 8) == 0 && n < AUDIT_ITEM_MAX;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        n = audit_hist_indices(v.mv_data, v.mv_size, size, out, n);
    mdb_cursor_close(cur);
    return n;
}

int
audit_pack_prove(struct audit *a, MDB_txn *txn, uint64_t key, bool by_item,
                 uint64_t size, const struct audit_cp *cp, msgpack_packer *pk,
                 char *err, size_t errlen)
{
    uint64_t idx[AUDIT_ITEM_MAX];
    const char *note;
    size_t n = 0, nl;
    int st;

    if (size == 0)
        size = cp->size;
    if (audit_note_at(a, txn, size, &note, &nl, cp) != HITLQ_ST_OK) {
        snprintf(err, errlen, "no signed checkpoint of size %llu", (unsigned long long)size);
        return HITLQ_ST_NOT_FOUND;
    }
    if (by_item)
        n = audit_item_indices(a, txn, key, size, idx, NULL);
    else if (key < size)
        idx[n++] = key;
    if (n == 0) {
        snprintf(err, errlen, by_item ? "item %llu has no entry in the tree of size %llu"
                                      : "entry %llu is not in the tree of size %llu",
                 (unsigned long long)key, (unsigned long long)size);
        return HITLQ_ST_NOT_FOUND;
    }
    msgpack_pack_map(pk, 3);
    wire_pack_kv_u64(pk, "size", size);
    wire_pack_kv_strn(pk, "checkpoint", note, nl);
    wire_pack_cstr(pk, "proofs");
    msgpack_pack_array(pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        if ((st = audit_pack_one(a, txn, idx[i], size, note, nl, pk)) != HITLQ_ST_OK)
            return st;
    return HITLQ_ST_OK;
}

int
audit_pack_consistency(struct audit *a, MDB_txn *txn, uint64_t size1, uint64_t size2,
                       const struct audit_cp *cp, msgpack_packer *pk, char *err,
                       size_t errlen)
{
    struct audit_get g = { a, txn, &a->rh };
    uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
    uint64_t committed;
    size_t n;

    if (size2 == 0)
        size2 = cp->size;
    if (audit_count(a->s, txn, &committed) != 0)
        return HITLQ_ST_INTERNAL;
    if (size1 == 0 || size1 > size2 || size2 > committed) {
        snprintf(err, errlen, "need 0 < size1 <= size2 <= %llu (the committed size)",
                 (unsigned long long)committed);
        return HITLQ_ST_BAD_REQUEST;
    }
    if (merkle_consistency_proof(&a->rh, size1, size2, audit_node_get, &g, proof, &n) != MERKLE_OK)
        return HITLQ_ST_INTERNAL;
    msgpack_pack_map(pk, 3);
    wire_pack_kv_u64(pk, "size1", size1);
    wire_pack_kv_u64(pk, "size2", size2);
    wire_pack_cstr(pk, "proof");
    msgpack_pack_array(pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        pack_bin(pk, proof[i], MERKLE_HASH_LEN);
    return HITLQ_ST_OK;
}

int
audit_tlog_proof(struct audit *a, MDB_txn *txn, uint64_t index, const struct audit_cp *cp,
                 char **out, size_t *len)
{
    struct audit_get g = { a, txn, &a->rh };
    uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
    size_t n, cap = PROOF_FIXED_MAX + cp->len + 1;

    *out = NULL;
    if (index >= cp->size)
        return HITLQ_ST_NOT_FOUND;
    if (merkle_inclusion_proof(&a->rh, cp->size, index, audit_node_get, &g, proof, &n) != MERKLE_OK ||
        (*out = malloc(cap)) == NULL)
        return HITLQ_ST_INTERNAL;
    if (tlog_proof_format(index, (const uint8_t (*)[32])proof, n, cp->note, cp->len, *out,
                          cap, len) != PROOF_OK) {
        free(*out);
        *out = NULL;
        return HITLQ_ST_INTERNAL;
    }
    return HITLQ_ST_OK;
}

int
audit_pack_item(struct audit *a, MDB_txn *txn, uint64_t id, msgpack_packer *pk)
{
    uint64_t idx[AUDIT_ITEM_MAX];
    uint8_t salt[RECORD_SALT_LEN];
    size_t n = audit_item_indices(a, txn, id, UINT64_MAX, idx, salt);

    if (n == 0) {
        msgpack_pack_nil(pk);
        return HITLQ_ST_OK;
    }
    msgpack_pack_map(pk, 2);
    wire_pack_cstr(pk, "entries");
    msgpack_pack_array(pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        msgpack_pack_uint64(pk, idx[i]);
    wire_pack_cstr(pk, "salt");
    pack_bin(pk, salt, RECORD_SALT_LEN);
    return HITLQ_ST_OK;
}
