/*
 * aud_receipt.c - `hitlq-audit receipt`: offline check of one decision's
 * C2SP tlog-proof@v1 receipt (proto/AUDIT-FORMAT.md §8, §11 A): the checkpoint is
 * signed by a trusted log key, the leaf (from the raw AXR1 entry, or given
 * as a hash) is included at the proof's index under the signed root, and
 * the entry's own index field is that index.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aud.h"
#include "proof.h"

enum aud_class
aud_receipt_check(const char *text, size_t len, const uint8_t leaf[32],
                  const struct record *rec, const struct aud_keys *k,
                  struct merkle_hasher *h, uint64_t *index, struct aud_result *r)
{
    struct tlog_proof *p = malloc(sizeof(*p));
    struct aud_checkpoint cp;
    enum aud_class cls;
    char *note;
    char a[45];
    int rc;

    if (p == NULL)
        return aud_fail(r, AUD_IO, "out of memory");
    if ((rc = tlog_proof_parse(text, len, p)) != PROOF_OK) {
        free(p);
        return aud_fail(r, AUD_BAD_PROOF, "not a tlog-proof@v1 receipt: %s",
                        proof_strerror(rc));
    }
    *index = p->index;
    if ((note = malloc(p->note_len + 1)) == NULL) {
        free(p);
        return aud_fail(r, AUD_IO, "out of memory");
    }
    memcpy(note, p->note, p->note_len);
    note[p->note_len] = '\0';
    cls = aud_checkpoint_open(&cp, note, p->note_len, k, "receipt checkpoint", r);
    if (cls == AUD_OK && rec != NULL && rec->index != p->index)
        cls = aud_fail_at(r, AUD_BAD_ENTRY, p->index, "the entry's index field "
                          "is %llu, the receipt is for index %llu",
                          (unsigned long long)rec->index,
                          (unsigned long long)p->index);
    if (cls == AUD_OK &&
        (rc = merkle_verify_inclusion(h, leaf, p->index, cp.cp.size,
                                      (const uint8_t (*)[32])p->hashes, p->n,
                                      cp.cp.root)) == MERKLE_OK)
        snprintf(r->msg, sizeof(r->msg), "entry %llu is included in the %s "
                 "checkpoint of size %llu (root %s)", (unsigned long long)p->index,
                 cp.sig_checked ? "signed" : "UNVERIFIED (no --vkey)",
                 (unsigned long long)cp.cp.size, aud_b64(cp.cp.root, a));
    else if (cls == AUD_OK)
        cls = aud_fail_at(r, AUD_BAD_PROOF, p->index, "inclusion proof of entry "
                          "%llu (%zu hashes) does not verify against the signed "
                          "root %s of size %llu: %s", (unsigned long long)p->index,
                          p->n, aud_b64(cp.cp.root, a),
                          (unsigned long long)cp.cp.size, merkle_strerror(rc));
    aud_checkpoint_clear(&cp);
    free(p);
    return cls;
}

/* The leaf hash of a raw AXR1 entry file, decoded into rec. */
static enum aud_class
aud_receipt_entry(const char *path, struct merkle_hasher *h, struct record *rec,
                  uint8_t leaf[32], struct aud_result *r)
{
    struct aud_buf b = { 0 };
    int err, rc;

    if ((err = aud_file_read(path, &b, RECORD_LEAF_MAX)) != 0)
        return aud_fail(r, err == EFBIG ? AUD_BAD_ENTRY : AUD_IO,
                        "cannot read entry %s: %s", path, strerror(err));
    if ((rc = record_decode(b.p, b.len, rec)) != RECORD_OK) {
        aud_buf_clear(&b);
        return aud_fail(r, AUD_BAD_ENTRY, "%s is not an AXR1 entry: %s", path,
                        record_strerror(rc));
    }
    rc = merkle_leaf_hash(h, b.p, b.len, leaf);
    aud_buf_clear(&b);
    return rc == MERKLE_OK ? AUD_OK : aud_fail(r, AUD_IO, "SHA-256 failed");
}

/* Leaf from --entry and/or --leaf-hash (they must agree). */
static enum aud_class
aud_receipt_leaf(const struct aud_receipt_opts *o, struct merkle_hasher *h,
                 struct record *rec, uint8_t leaf[32], bool *have_rec,
                 struct aud_result *r)
{
    uint8_t given[32];
    char a[65], b[65];
    enum aud_class cls;

    *have_rec = false;
    if (o->leaf_hex != NULL && aud_hex_parse(o->leaf_hex, given) != 0)
        return aud_fail(r, AUD_USAGE, "--leaf-hash wants 64 hex digits");
    if (o->entry_path == NULL) {
        if (o->leaf_hex == NULL)
            return aud_fail(r, AUD_USAGE, "give the entry (--entry FILE) or its "
                            "leaf hash (--leaf-hash HEX)");
        memcpy(leaf, given, 32);
        return AUD_OK;
    }
    if ((cls = aud_receipt_entry(o->entry_path, h, rec, leaf, r)) != AUD_OK)
        return cls;
    *have_rec = true;
    if (o->leaf_hex != NULL && memcmp(given, leaf, 32) != 0)
        return aud_fail_at(r, AUD_BAD_HASH, rec->index, "the entry's leaf hash "
                           "is %s, not the given %s", aud_hex(leaf, a),
                           aud_hex(given, b));
    return AUD_OK;
}

enum aud_class
aud_receipt(const struct aud_receipt_opts *o, struct aud_result *r)
{
    struct record *rec = malloc(sizeof(*rec));
    struct aud_buf text = { 0 };
    struct merkle_hasher h;
    uint8_t leaf[32];
    uint64_t index;
    bool have_rec;
    enum aud_class cls;
    int err;

    if (rec == NULL || merkle_hasher_init(&h) != MERKLE_OK) {
        free(rec);
        return aud_fail(r, AUD_IO, "out of memory");
    }
    if ((err = aud_file_read(o->receipt_path, &text, PROOF_TEXT_MAX)) != 0)
        cls = aud_fail(r, AUD_IO, "cannot read %s: %s", o->receipt_path,
                       strerror(err));
    else if ((cls = aud_receipt_leaf(o, &h, rec, leaf, &have_rec, r)) == AUD_OK)
        cls = aud_receipt_check((const char *)text.p, text.len, leaf,
                                have_rec ? rec : NULL, o->keys, &h, &index, r);
    aud_buf_clear(&text);
    merkle_hasher_clear(&h);
    free(rec);
    return cls;
}
