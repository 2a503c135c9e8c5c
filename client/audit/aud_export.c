/*
 * aud_export.c - `hitlq-audit export`: asks a hitlqd for a fresh signed
 * checkpoint (AUDIT_CHECKPOINT {fresh: true}: one that covers every entry
 * committed so far; with --no-fresh the latest signed one, which may lag,
 * and then counts the entries the server holds beyond it), fetches every
 * entry up to its size (AUDIT_ENTRIES; PROTOCOL.md §4.12) and writes them in the tlog-tiles
 * layout (proto/AUDIT-FORMAT.md §10).  Level-0 tiles hold the leaf hashes the server
 * returned, not recomputed ones, so that a server-side change of an entry
 * is pinpointed by the verification that follows.  What was received is
 * written even when it is wrong: it is evidence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aud.h"
#include "hitlq_msgpack.h"

#define AUD_EXPORT_BATCH 1024u           /* AUDIT_ENTRIES count ceiling */

/* Writes DIR/checkpoint verbatim. */
static enum aud_class
aud_export_checkpoint(const char *dir, const char *note, size_t len,
                      struct aud_result *r)
{
    char path[AUD_PATH_MAX];
    int err;

    snprintf(path, sizeof(path), "%s/checkpoint", dir);
    if ((err = aud_mkdirs_for(path)) != 0 ||
        (err = aud_file_write(path, note, len, true)) != 0)
        return aud_fail(r, AUD_IO, "cannot write %s: %s", path, strerror(err));
    return AUD_OK;
}

/* One AUDIT_ENTRIES batch from *pos into the writer; *got = entries. */
static enum aud_class
aud_export_batch(hitlq *c, struct aud_tilewriter *w, uint64_t *pos,
                 uint64_t size, size_t *got, struct aud_result *r)
{
    uint64_t left = size - *pos;
    uint32_t count = left < AUD_EXPORT_BATCH ? (uint32_t)left : AUD_EXPORT_BATCH;
    const msgpack_object *e, *h;
    hitlq_reply *rep = NULL;
    enum aud_class cls = AUD_OK;
    int rc;

    if ((rc = hitlq_audit_entries(c, *pos, count, &rep, got)) != HITLQ_OK)
        return aud_server_error(c, "AUDIT_ENTRIES", rc, r);
    e = hitlq_reply_get(rep, "entries");
    h = hitlq_reply_get(rep, "hashes");
    for (size_t i = 0; cls == AUD_OK && i < *got; i++)
        cls = aud_tilewriter_add(w, (const uint8_t *)e->via.array.ptr[i].via.bin.ptr,
                                 e->via.array.ptr[i].via.bin.size,
                                 (const uint8_t *)h->via.array.ptr[i].via.bin.ptr, r);
    hitlq_reply_free(rep);
    *pos += *got;
    return cls;
}

/* Fetches [0, size) into the layout; a short server stops early (the
 * verification then reports TRUNCATION). */
static enum aud_class
aud_export_entries(hitlq *c, const char *dir, uint64_t size, struct aud_result *r)
{
    struct merkle_hasher h;
    struct aud_tilewriter *w = malloc(sizeof(*w));   /* 64 KB of tiles */
    enum aud_class cls = AUD_OK, fin;
    uint64_t pos = 0;
    size_t got = 1;

    if (w == NULL || merkle_hasher_init(&h) != MERKLE_OK) {
        free(w);
        return aud_fail(r, AUD_IO, "out of memory");
    }
    aud_tilewriter_init(w, dir, &h);
    while (cls == AUD_OK && pos < size && got > 0)
        cls = aud_export_batch(c, w, &pos, size, &got, r);
    if (cls == AUD_OK || cls == AUD_IO) {
        struct aud_result r2;
        fin = aud_tilewriter_finish(w, cls == AUD_OK ? r : &r2);
        if (cls == AUD_OK)
            cls = fin;
    }
    aud_tilewriter_clear(w);
    free(w);
    merkle_hasher_clear(&h);
    return cls;
}

/* How many entries the server holds from `from` on (one AUDIT_ENTRIES
 * call: a lower bound, up to a batch); 0 when none or on error. */
static uint64_t
aud_export_beyond(hitlq *c, uint64_t from)
{
    hitlq_reply *rep = NULL;
    size_t got = 0;

    if (hitlq_audit_entries(c, from, AUD_EXPORT_BATCH, &rep, &got) != HITLQ_OK)
        got = 0;
    hitlq_reply_free(rep);
    return got;
}

/* The checkpoint note from the server: fresh or the latest signed one. */
static enum aud_class
aud_export_cp(hitlq *c, bool fresh, char **note, size_t *len, struct aud_result *r)
{
    uint64_t size = 0;                   /* the reply's; the signed one rules */
    int rc = fresh ? hitlq_audit_checkpoint_fresh(c, note, len, &size)
                   : hitlq_audit_checkpoint(c, note, len, &size);

    return rc == HITLQ_OK ? AUD_OK : aud_server_error(c, "AUDIT_CHECKPOINT", rc, r);
}

enum aud_class
aud_export(const struct aud_server *srv, const char *dir, bool fresh,
           const struct aud_keys *k, struct aud_verify_stats *st,
           struct aud_export_out *out, struct aud_result *r)
{
    struct aud_checkpoint cp;
    struct aud_keys none = { .n = 0 };
    struct aud_verify_opts vo = { .dir = dir, .keys = k };
    char *note = NULL;
    size_t len = 0;
    enum aud_class cls;
    hitlq *c;

    *out = (struct aud_export_out){ 0, 0 };
    if (strlen(dir) > AUD_DIR_MAX)
        return aud_fail(r, AUD_USAGE, "--out path too long");
    if ((cls = aud_server_connect(srv, &c, r)) != AUD_OK)
        return cls;
    if ((cls = aud_export_cp(c, fresh, &note, &len, r)) == AUD_OK)
        cls = aud_export_checkpoint(dir, note, len, r);
    if (cls != AUD_OK) {
        free(note);
        hitlq_free(c);
        return cls;
    }
    /* The signed size rules, not the reply's size field: parse only here
     * (aud_checkpoint_open takes note). */
    cls = aud_checkpoint_open(&cp, note, len, &none, "checkpoint", r);
    if (cls == AUD_OK) {
        out->cp_size = cp.cp.size;
        cls = aud_export_entries(c, dir, cp.cp.size, r);
    }
    if (cls == AUD_OK)
        out->beyond = aud_export_beyond(c, out->cp_size);
    aud_checkpoint_clear(&cp);
    hitlq_free(c);
    if (cls != AUD_OK)
        return cls;
    return aud_verify(&vo, st, r);
}
