/*
 * aud_prove.c - `hitlq-audit prove`: fetches the tlog-proof@v1 receipt(s)
 * of one entry or of every entry of one item from a hitlqd (AUDIT_PROVE,
 * PROTOCOL.md §4.12), fetches each entry itself (AUDIT_ENTRIES) and
 * verifies everything before writing a receipt: the entry decodes, its
 * leaf hash is the one proved (and the one the server stores), it belongs
 * to the item asked for, and the receipt verifies offline (aud_receipt.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aud.h"
#include "hitlq_msgpack.h"
#include "wire.h"

/* Fetches entry idx, decodes it into rec, checks its leaf hash against
 * the proved one and the server's stored one. */
static enum aud_class
aud_prove_entry(hitlq *c, uint64_t idx, const uint8_t proved[32],
                struct merkle_hasher *h, struct record *rec, struct aud_result *r)
{
    const msgpack_object *e, *s;
    hitlq_reply *rep = NULL;
    uint8_t leaf[32];
    char a[65], b[65];
    enum aud_class cls = AUD_OK;
    size_t n = 0;
    int rc;

    if ((rc = hitlq_audit_entries(c, idx, 1, &rep, &n)) != HITLQ_OK)
        return aud_server_error(c, "AUDIT_ENTRIES", rc, r);
    if (n != 1) {
        hitlq_reply_free(rep);
        return aud_fail_at(r, AUD_MISSING, idx, "the server proves entry %llu "
                           "but does not return it", (unsigned long long)idx);
    }
    e = &hitlq_reply_get(rep, "entries")->via.array.ptr[0];
    s = &hitlq_reply_get(rep, "hashes")->via.array.ptr[0];
    if ((rc = record_decode((const uint8_t *)e->via.bin.ptr, e->via.bin.size, rec)) != RECORD_OK)
        cls = aud_fail_at(r, AUD_BAD_ENTRY, idx, "entry %llu does not decode: %s",
                          (unsigned long long)idx, record_strerror(rc));
    else if (merkle_leaf_hash(h, e->via.bin.ptr, e->via.bin.size, leaf) != MERKLE_OK)
        cls = aud_fail(r, AUD_IO, "SHA-256 failed");
    else if (memcmp(leaf, proved, 32) != 0 || memcmp(leaf, s->via.bin.ptr, 32) != 0)
        cls = aud_fail_at(r, AUD_BAD_HASH, idx, "entry %llu hashes to %s, but the "
                          "proof is for leaf %s", (unsigned long long)idx,
                          aud_hex(leaf, a), aud_hex(proved, b));
    hitlq_reply_free(rep);
    return cls;
}

/* Writes one receipt to --out (FILE, or FILE.<index> when several) or
 * stdout. */
static enum aud_class
aud_prove_write(const struct aud_prove_opts *o, uint64_t idx, bool several,
                const char *text, size_t len, struct aud_result *r)
{
    char path[AUD_PATH_MAX];
    int err;

    if (o->out == NULL) {
        fwrite(text, 1, len, stdout);
        return ferror(stdout) ? aud_fail(r, AUD_IO, "cannot write stdout") : AUD_OK;
    }
    if (several)
        snprintf(path, sizeof(path), "%s.%" PRIu64, o->out, idx);
    else
        snprintf(path, sizeof(path), "%s", o->out);
    if ((err = aud_file_write(path, text, len, true)) != 0)
        return aud_fail(r, AUD_IO, "cannot write %s: %s", path, strerror(err));
    return AUD_OK;
}

/* One element of the reply's proofs array. */
static enum aud_class
aud_prove_one(const struct aud_prove_opts *o, hitlq *c, const msgpack_object *m,
              bool several, struct merkle_hasher *h, struct record *rec,
              struct aud_result *r)
{
    const msgpack_object *lh = wire_map_get(m, "leaf_hash");
    const msgpack_object *t = wire_map_get(m, "tlog_proof");
    uint64_t idx = wire_map_get(m, "index")->via.u64, pidx;
    char want[24];
    enum aud_class cls;

    if ((cls = aud_prove_entry(c, idx, (const uint8_t *)lh->via.bin.ptr, h, rec, r)) != AUD_OK)
        return cls;
    snprintf(want, sizeof(want), "%" PRIu64, o->value);
    if (o->by_item && (rec->item_id.len != strlen(want) ||
                       memcmp(rec->item_id.data, want, rec->item_id.len) != 0))
        return aud_fail_at(r, AUD_BAD_ENTRY, idx, "entry %llu is for item \"%.*s\", "
                           "not item %s", (unsigned long long)idx,
                           (int)rec->item_id.len, rec->item_id.data, want);
    if ((cls = aud_receipt_check(t->via.str.ptr, t->via.str.size,
                                 (const uint8_t *)lh->via.bin.ptr, rec, o->keys, h,
                                 &pidx, r)) != AUD_OK)
        return cls;
    if (pidx != idx)
        return aud_fail_at(r, AUD_BAD_PROOF, idx, "the receipt for entry %llu "
                           "says index %llu", (unsigned long long)idx,
                           (unsigned long long)pidx);
    return aud_prove_write(o, idx, several, t->via.str.ptr, t->via.str.size, r);
}

enum aud_class
aud_prove(const struct aud_prove_opts *o, struct aud_result *r)
{
    struct record *rec = malloc(sizeof(*rec));
    struct merkle_hasher h;
    hitlq_reply *rep = NULL;
    const msgpack_object *ps;
    enum aud_class cls;
    hitlq *c = NULL;
    int rc;

    if (rec == NULL || merkle_hasher_init(&h) != MERKLE_OK) {
        free(rec);
        return aud_fail(r, AUD_IO, "out of memory");
    }
    if ((cls = aud_server_connect(o->srv, &c, r)) == AUD_OK) {
        rc = o->by_item ? hitlq_audit_prove_item(c, o->value, 0, &rep)
                        : hitlq_audit_prove(c, o->value, 0, &rep);
        if (rc != HITLQ_OK)
            cls = aud_server_error(c, "AUDIT_PROVE", rc, r);
    }
    ps = cls == AUD_OK ? hitlq_reply_get(rep, "proofs") : NULL;
    for (uint32_t i = 0; cls == AUD_OK && i < ps->via.array.size; i++)
        cls = aud_prove_one(o, c, &ps->via.array.ptr[i], ps->via.array.size > 1,
                            &h, rec, r);
    if (cls == AUD_OK)
        snprintf(r->msg, sizeof(r->msg), "%u receipt(s) verified",
                 ps->via.array.size);
    hitlq_reply_free(rep);
    hitlq_free(c);
    merkle_hasher_clear(&h);
    free(rec);
    return cls;
}
