/*
 * ops_audit.c - the audit-log operations of libhitlq (PROTOCOL.md §4.12):
 * AUDIT_CHECKPOINT, AUDIT_ENTRIES, AUDIT_PROVE (by index or item),
 * AUDIT_CONSISTENCY and SUBMIT with a receipt.  Unlike the lenient readers
 * of ops.c, replies here feed a verifier, so their shape is checked
 * strictly (every hash a 32-byte bin, counts within the limits, sizes and
 * indices < 2^63, the echoed start/sizes equal to the request) and anything
 * else is HITLQ_EPROTO.  No cryptographic verification: that is the
 * caller's (hitlq-audit).
 */
#include <stdlib.h>
#include <string.h>

#include "client_int.h"
#include "wire.h"

#define AUD_MAX_INDEX     ((uint64_t)INT64_MAX)   /* sizes, indices < 2^63 */
#define AUD_ENTRIES_MAX   1024u                  /* AUDIT_ENTRIES count */
#define AUD_ENTRY_MAX     65535u                 /* tlog-tiles u16 entry */
#define AUD_PROOFS_MAX    64u                    /* AUDIT_PROVE by id */
#define AUD_INCL_MAX      63u                    /* inclusion proof hashes */
#define AUD_CONS_MAX      64u                    /* consistency proof hashes */

/* ---- strict readers --------------------------------------------------- */

static bool
aud_u64(const msgpack_object *o, uint64_t *v)
{
    if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
        o->via.u64 > AUD_MAX_INDEX)
        return false;
    *v = o->via.u64;
    return true;
}

static bool
aud_hash(const msgpack_object *o)
{
    return o != NULL && o->type == MSGPACK_OBJECT_BIN &&
           o->via.bin.size == HITLQ_HASH_LEN;
}

/* A non-empty str. */
static bool
aud_text(const msgpack_object *o)
{
    return o != NULL && o->type == MSGPACK_OBJECT_STR && o->via.str.size > 0;
}

/* An array of at most max 32-byte bins. */
static bool
aud_hash_array(const msgpack_object *o, uint32_t max)
{
    if (o == NULL || o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > max)
        return false;
    for (uint32_t i = 0; i < o->via.array.size; i++)
        if (!aud_hash(&o->via.array.ptr[i]))
            return false;
    return true;
}

/* malloc'd NUL-terminated copy of a str object, or NULL. */
static char *
aud_strdup(const msgpack_object *o)
{
    char *s = malloc(o->via.str.size + 1);

    if (s != NULL) {
        memcpy(s, o->via.str.ptr, o->via.str.size);
        s[o->via.str.size] = '\0';
    }
    return s;
}

/* Frees *r and returns an HITLQ_EPROTO with the detail. */
static int
aud_bad(hitlq *c, hitlq_reply **r, const char *what)
{
    hitlq_reply_free(*r);
    *r = NULL;
    return hitlq__set_err(c, HITLQ_EPROTO, "%s", what);
}

/* ---- AUDIT_CHECKPOINT ------------------------------------------------- */

/* AUDIT_CHECKPOINT, with `fresh: true` when fresh. */
static int
aud_checkpoint_call(hitlq *c, bool fresh, char **note, size_t *note_len, uint64_t *size)
{
    static const uint8_t fresh_body[] = { 0x81, 0xa5, 'f', 'r', 'e', 's', 'h', 0xc3 };
    const msgpack_object *cp;
    hitlq_reply *r = NULL;
    int rc;

    if (c == NULL || note == NULL || size == NULL)
        return c ? hitlq__set_err(c, HITLQ_EINVAL, "NULL argument") : HITLQ_EINVAL;
    *note = NULL;
    rc = hitlq__call(c, HITLQ_OP_AUDIT_CHECKPOINT, fresh ? fresh_body : NULL,
                     fresh ? sizeof(fresh_body) : 0, c->timeout_ms, &r);
    if (rc != HITLQ_OK) {
        hitlq_reply_free(r);
        return rc;
    }
    cp = hitlq_reply_get(r, "checkpoint");
    if (!aud_u64(hitlq_reply_get(r, "size"), size) || !aud_text(cp))
        return aud_bad(c, &r, "AUDIT_CHECKPOINT reply without size or checkpoint");
    if ((*note = aud_strdup(cp)) == NULL) {
        hitlq_reply_free(r);
        return hitlq__set_err(c, HITLQ_ENOMEM, "out of memory");
    }
    if (note_len != NULL)
        *note_len = cp->via.str.size;
    hitlq_reply_free(r);
    return HITLQ_OK;
}

int
hitlq_audit_checkpoint(hitlq *c, char **note, size_t *note_len, uint64_t *size)
{
    return aud_checkpoint_call(c, false, note, note_len, size);
}

int
hitlq_audit_checkpoint_fresh(hitlq *c, char **note, size_t *note_len, uint64_t *size)
{
    return aud_checkpoint_call(c, true, note, note_len, size);
}

/* ---- AUDIT_ENTRIES ---------------------------------------------------- */

/* {start == start, entries: [bin 1..65535] <= count, hashes: same count}. */
static bool
aud_entries_ok(const hitlq_reply *r, uint64_t start, uint32_t count, size_t *n)
{
    const msgpack_object *e = hitlq_reply_get(r, "entries");
    const msgpack_object *h = hitlq_reply_get(r, "hashes");
    uint64_t s;

    if (!aud_u64(hitlq_reply_get(r, "start"), &s) || s != start ||
        e == NULL || e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size > count ||
        !aud_hash_array(h, count) || h->via.array.size != e->via.array.size ||
        start + e->via.array.size > AUD_MAX_INDEX)
        return false;
    for (uint32_t i = 0; i < e->via.array.size; i++) {
        const msgpack_object *b = &e->via.array.ptr[i];
        if (b->type != MSGPACK_OBJECT_BIN || b->via.bin.size == 0 ||
            b->via.bin.size > AUD_ENTRY_MAX)
            return false;
    }
    *n = e->via.array.size;
    return true;
}

int
hitlq_audit_entries(hitlq *c, uint64_t start, uint32_t count,
                    hitlq_reply **out, size_t *n)
{
    hitlq_reply *r = NULL;
    struct hitlq__req q;
    int rc;

    if (c == NULL || out == NULL || n == NULL)
        return c ? hitlq__set_err(c, HITLQ_EINVAL, "NULL argument") : HITLQ_EINVAL;
    *out = NULL;
    *n = 0;
    if (count == 0 || count > AUD_ENTRIES_MAX || start > AUD_MAX_INDEX)
        return hitlq__set_err(c, HITLQ_EINVAL, "AUDIT_ENTRIES count must be 1..%u",
                              AUD_ENTRIES_MAX);
    hitlq__req_init(&q);
    msgpack_pack_map(&q.pk, 2);
    wire_pack_kv_u64(&q.pk, "start", start);
    wire_pack_kv_u64(&q.pk, "count", count);
    rc = hitlq__req_call(c, &q, HITLQ_OP_AUDIT_ENTRIES, c->timeout_ms, &r);
    if (rc != HITLQ_OK) {
        hitlq_reply_free(r);
        return rc;
    }
    if (!aud_entries_ok(r, start, count, n))
        return aud_bad(c, &r, "malformed AUDIT_ENTRIES reply");
    *out = r;
    return HITLQ_OK;
}

/* ---- AUDIT_PROVE ------------------------------------------------------ */

/* One {index < size, leaf_hash, proof: <= 63 hashes, tlog_proof: str}. */
static bool
aud_proof_ok(const msgpack_object *m, uint64_t size, uint64_t *index)
{
    if (m->type != MSGPACK_OBJECT_MAP)
        return false;
    return aud_u64(wire_map_get(m, "index"), index) && *index < size &&
           aud_hash(wire_map_get(m, "leaf_hash")) &&
           aud_hash_array(wire_map_get(m, "proof"), AUD_INCL_MAX) &&
           aud_text(wire_map_get(m, "tlog_proof"));
}

/* {size (== want if want != 0), checkpoint: str, proofs: [1..max] with
 * strictly ascending indices, == index when by_index}. */
static bool
aud_prove_ok(const hitlq_reply *r, uint64_t want_size, bool by_index,
             uint64_t index)
{
    const msgpack_object *p = hitlq_reply_get(r, "proofs");
    uint64_t size, idx, prev = 0;
    uint32_t max = by_index ? 1 : AUD_PROOFS_MAX;

    if (!aud_u64(hitlq_reply_get(r, "size"), &size) ||
        (want_size != 0 && size != want_size) ||
        !aud_text(hitlq_reply_get(r, "checkpoint")) ||
        p == NULL || p->type != MSGPACK_OBJECT_ARRAY ||
        p->via.array.size == 0 || p->via.array.size > max)
        return false;
    for (uint32_t i = 0; i < p->via.array.size; i++) {
        if (!aud_proof_ok(&p->via.array.ptr[i], size, &idx) ||
            (i > 0 && idx <= prev) || (by_index && idx != index))
            return false;
        prev = idx;
    }
    return true;
}

/* AUDIT_PROVE with {index: v, size?} or {id: v, size?}. */
static int
aud_prove(hitlq *c, bool by_index, uint64_t v, uint64_t size, hitlq_reply **out)
{
    hitlq_reply *r = NULL;
    struct hitlq__req q;
    int rc;

    if (c == NULL || out == NULL)
        return c ? hitlq__set_err(c, HITLQ_EINVAL, "NULL argument") : HITLQ_EINVAL;
    *out = NULL;
    if (v > AUD_MAX_INDEX || size > AUD_MAX_INDEX)
        return hitlq__set_err(c, HITLQ_EINVAL, "index or size >= 2^63");
    hitlq__req_init(&q);
    msgpack_pack_map(&q.pk, size != 0 ? 2 : 1);
    wire_pack_kv_u64(&q.pk, by_index ? "index" : "id", v);
    if (size != 0)
        wire_pack_kv_u64(&q.pk, "size", size);
    rc = hitlq__req_call(c, &q, HITLQ_OP_AUDIT_PROVE, c->timeout_ms, &r);
    if (rc != HITLQ_OK) {
        hitlq_reply_free(r);
        return rc;
    }
    if (!aud_prove_ok(r, size, by_index, v))
        return aud_bad(c, &r, "malformed AUDIT_PROVE reply");
    *out = r;
    return HITLQ_OK;
}

int
hitlq_audit_prove(hitlq *c, uint64_t index, uint64_t size, hitlq_reply **out)
{
    return aud_prove(c, true, index, size, out);
}

int
hitlq_audit_prove_item(hitlq *c, uint64_t id, uint64_t size, hitlq_reply **out)
{
    return aud_prove(c, false, id, size, out);
}

/* ---- AUDIT_CONSISTENCY ------------------------------------------------ */

/* {size1 == size1, size2 (== want2 if != 0) >= size1, proof: <= 64
 * hashes, empty iff the sizes are equal}; copies the proof out. */
static bool
aud_consistency_ok(const hitlq_reply *r, uint64_t size1, uint64_t want2,
                   uint8_t proof[][HITLQ_HASH_LEN], size_t *n, uint64_t *size2)
{
    const msgpack_object *p = hitlq_reply_get(r, "proof");
    uint64_t s1;

    if (!aud_u64(hitlq_reply_get(r, "size1"), &s1) || s1 != size1 ||
        !aud_u64(hitlq_reply_get(r, "size2"), size2) || *size2 < size1 ||
        (want2 != 0 && *size2 != want2) || !aud_hash_array(p, AUD_CONS_MAX) ||
        (p->via.array.size == 0) != (*size2 == size1))
        return false;
    for (uint32_t i = 0; i < p->via.array.size; i++)
        memcpy(proof[i], p->via.array.ptr[i].via.bin.ptr, HITLQ_HASH_LEN);
    *n = p->via.array.size;
    return true;
}

int
hitlq_audit_consistency(hitlq *c, uint64_t size1, uint64_t size2,
                        uint8_t proof[][HITLQ_HASH_LEN], size_t *n,
                        uint64_t *size2_out)
{
    hitlq_reply *r = NULL;
    struct hitlq__req q;
    uint64_t got2 = 0;
    int rc;

    if (c == NULL || proof == NULL || n == NULL)
        return c ? hitlq__set_err(c, HITLQ_EINVAL, "NULL argument") : HITLQ_EINVAL;
    *n = 0;
    if (size1 == 0 || size1 > AUD_MAX_INDEX || size2 > AUD_MAX_INDEX ||
        (size2 != 0 && size1 > size2))
        return hitlq__set_err(c, HITLQ_EINVAL, "need 0 < size1 <= size2 < 2^63");
    hitlq__req_init(&q);
    msgpack_pack_map(&q.pk, size2 != 0 ? 2 : 1);
    wire_pack_kv_u64(&q.pk, "size1", size1);
    if (size2 != 0)
        wire_pack_kv_u64(&q.pk, "size2", size2);
    rc = hitlq__req_call(c, &q, HITLQ_OP_AUDIT_CONSISTENCY, c->timeout_ms, &r);
    if (rc == HITLQ_OK && !aud_consistency_ok(r, size1, size2, proof, n, &got2)) {
        *n = 0;
        return aud_bad(c, &r, "malformed AUDIT_CONSISTENCY reply");
    }
    hitlq_reply_free(r);
    if (rc == HITLQ_OK && size2_out != NULL)
        *size2_out = got2;
    return rc;
}

/* ---- SUBMIT with a receipt -------------------------------------------- */

/* The body and the decision are ops.c's (hitlq__pack_submit with a receipt
 * key, hitlq__decode_decision); only the receipt is read strictly here. */

/* audit: {index, leaf_hash} and, when want_proof, tlog_proof: str. */
static int
aud_decode_receipt(hitlq *c, const hitlq_reply *r, bool want_proof,
                   uint64_t *index, uint8_t leaf_hash[HITLQ_HASH_LEN],
                   char **tlog_proof)
{
    const msgpack_object *a = hitlq_reply_get(r, "audit");
    const msgpack_object *t = hitlq_reply_get(r, "tlog_proof");
    const msgpack_object *h;

    if (a == NULL || a->type != MSGPACK_OBJECT_MAP ||
        !aud_u64(wire_map_get(a, "index"), index) ||
        !aud_hash(h = wire_map_get(a, "leaf_hash")) ||
        (want_proof && !aud_text(t)))
        return hitlq__set_err(c, HITLQ_EPROTO, "SUBMIT reply without a valid receipt");
    memcpy(leaf_hash, h->via.bin.ptr, HITLQ_HASH_LEN);
    if (want_proof && tlog_proof != NULL &&
        (*tlog_proof = aud_strdup(t)) == NULL)
        return hitlq__set_err(c, HITLQ_ENOMEM, "out of memory");
    return HITLQ_OK;
}

int
hitlq_submit_receipt(hitlq *c, const hitlq_item *item, bool want_proof,
                     hitlq_decision *out, uint64_t *index,
                     uint8_t leaf_hash[HITLQ_HASH_LEN], char **tlog_proof)
{
    hitlq_reply *r = NULL;
    struct hitlq__req q;
    int rc;

    if (c == NULL || item == NULL || out == NULL || index == NULL ||
        leaf_hash == NULL || (want_proof && tlog_proof == NULL))
        return c ? hitlq__set_err(c, HITLQ_EINVAL, "NULL argument") : HITLQ_EINVAL;
    if (tlog_proof != NULL)
        *tlog_proof = NULL;
    if ((rc = hitlq__check(c)) != HITLQ_OK)
        return rc;
    hitlq__req_init(&q);
    if ((rc = hitlq__pack_submit(c, &q, item,
                                 want_proof ? "checkpoint" : "index")) != HITLQ_OK) {
        hitlq__req_clear(&q);
        return rc;
    }
    rc = hitlq__req_call(c, &q, HITLQ_OP_SUBMIT, c->timeout_ms, &r);
    if (rc == HITLQ_OK)
        rc = hitlq__decode_decision(c, r, out);
    if (rc == HITLQ_OK)
        rc = aud_decode_receipt(c, r, want_proof, index, leaf_hash, tlog_proof);
    hitlq_reply_free(r);
    return rc;
}
