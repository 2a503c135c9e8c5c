/*
 * aud_entries.c - reading the entries of a tlog-tiles export in order for
 * hitlq-audit: one entry bundle at a time, read whole into a reused
 * buffer, u16 length-prefixed entries handed out by pointer (no copy, no
 * per-entry allocation).  Absent, short and overlong bundles are
 * classified here; what the entries say is the caller's business.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "aud.h"

/* Largest bundle: 256 entries of 2 + 65535 bytes. */
#define AUD_BUNDLE_MAX ((size_t)AUD_TILE_WIDTH * (2u + RECORD_LEAF_MAX))

void
aud_entries_init(struct aud_entries *e, const char *dir, uint64_t size)
{
    memset(e, 0, sizeof(*e));
    e->dir = dir;
    e->size = size;
}

void
aud_entries_clear(struct aud_entries *e)
{
    aud_buf_clear(&e->buf);
}

/* Loads the bundle holding e->pos, after checking the previous one was
 * consumed exactly. */
static enum aud_class
aud_entries_load(struct aud_entries *e, struct aud_result *r)
{
    unsigned got;
    int err;

    if (e->loaded && e->off != e->buf.len)
        return aud_fail_at(r, AUD_BAD_ENTRY, e->pos, "%s holds %zu bytes after "
                           "its %u entries", e->path, e->buf.len - e->off,
                           e->bundle_w);
    e->bundle_n = e->pos / AUD_TILE_WIDTH;
    e->bundle_w = aud_tile_width(e->size, AUD_ENTRIES_LEVEL, e->bundle_n);
    err = aud_tile_read(e->dir, AUD_ENTRIES_LEVEL, e->bundle_n, e->bundle_w,
                        AUD_BUNDLE_MAX, &e->buf, &got, e->path);
    e->got_w = got;
    if (err == EFBIG)
        return aud_fail_at(r, AUD_BAD_ENTRY, e->pos, "%s is larger than any "
                           "bundle of 256 entries", e->path);
    if (err != 0)
        return aud_fail(r, AUD_IO, "cannot read %s: %s", e->path, strerror(err));
    e->loaded = true;
    e->off = 0;
    e->taken = 0;
    return AUD_OK;
}

/* No entry left in the bundle where position e->pos should be. */
static enum aud_class
aud_entries_absent(struct aud_entries *e, struct aud_result *r)
{
    enum aud_class cls = aud_tile_later_exist(e->dir, AUD_ENTRIES_LEVEL, e->size, e->bundle_n) ?
                         AUD_MISSING : AUD_TRUNCATION;

    if (e->got_w == 0)
        return aud_fail_at(r, cls, e->pos, "entry %llu absent: %s not found "
                           "(checkpoint size %llu)", (unsigned long long)e->pos,
                           e->path, (unsigned long long)e->size);
    if (e->got_w != e->bundle_w)
        return aud_fail_at(r, cls, e->pos, "entry %llu absent: %s not found, "
                           "only its partial of width %u, holding %u entries "
                           "(checkpoint size %llu)", (unsigned long long)e->pos,
                           e->path, e->got_w, e->taken, (unsigned long long)e->size);
    return aud_fail_at(r, cls, e->pos, "entry %llu absent: %s holds only %u of "
                       "its %u entries (checkpoint size %llu)",
                       (unsigned long long)e->pos, e->path, e->taken,
                       e->bundle_w, (unsigned long long)e->size);
}

enum aud_class
aud_entries_next(struct aud_entries *e, const uint8_t **p, size_t *len,
                 struct aud_result *r)
{
    enum aud_class cls;
    size_t n;

    if (!e->loaded || e->taken == e->bundle_w)
        if ((cls = aud_entries_load(e, r)) != AUD_OK)
            return cls;
    if (e->off == e->buf.len)
        return aud_entries_absent(e, r);
    if (e->buf.len - e->off < 2)
        return aud_fail_at(r, AUD_BAD_ENTRY, e->pos, "%s ends inside the length "
                           "prefix of entry %llu", e->path, (unsigned long long)e->pos);
    n = (size_t)e->buf.p[e->off] << 8 | e->buf.p[e->off + 1];
    if (n > e->buf.len - e->off - 2)
        return aud_fail_at(r, aud_tile_later_exist(e->dir, AUD_ENTRIES_LEVEL, e->size, e->bundle_n) ?
                           AUD_BAD_ENTRY : AUD_TRUNCATION, e->pos,
                           "%s ends inside entry %llu (%zu of %zu bytes)", e->path,
                           (unsigned long long)e->pos, e->buf.len - e->off - 2, n);
    *p = e->buf.p + e->off + 2;
    *len = n;
    e->off += 2 + n;
    e->taken++;
    e->pos++;
    return AUD_OK;
}

/* The index field of an AXR1 entry (bytes 5..12), or UINT64_MAX. */
static uint64_t
aud_entry_peek_index(const uint8_t *p, size_t len)
{
    uint64_t v = 0;

    if (len < 13 || memcmp(p, RECORD_MAGIC, RECORD_MAGIC_LEN) != 0)
        return UINT64_MAX;
    for (size_t i = 5; i < 13; i++)
        v = v << 8 | p[i];
    return v;
}

/* Scans buf[off..len) from position pos for `want`. */
static uint64_t
aud_entries_scan(const struct aud_buf *b, size_t off, uint64_t pos, uint64_t want)
{
    while (b->len - off >= 2) {
        size_t n = (size_t)b->p[off] << 8 | b->p[off + 1];
        if (n > b->len - off - 2)
            break;
        if (aud_entry_peek_index(b->p + off + 2, n) == want)
            return pos;
        off += 2 + n;
        pos++;
    }
    return UINT64_MAX;
}

uint64_t
aud_entries_find(const struct aud_entries *e, uint64_t want)
{
    struct aud_buf b = { 0 };
    char path[AUD_PATH_MAX];
    uint64_t at = aud_entries_scan(&e->buf, e->off, e->pos, want);
    uint64_t nb = (e->size + AUD_TILE_WIDTH - 1) / AUD_TILE_WIDTH;
    unsigned got;

    for (uint64_t n = e->bundle_n + 1; at == UINT64_MAX && n < nb; n++) {
        unsigned w = aud_tile_width(e->size, AUD_ENTRIES_LEVEL, n);
        if (aud_tile_read(e->dir, AUD_ENTRIES_LEVEL, n, w, AUD_BUNDLE_MAX, &b,
                          &got, path) == 0)
            at = aud_entries_scan(&b, 0, n * AUD_TILE_WIDTH, want);
    }
    aud_buf_clear(&b);
    return at;
}

enum aud_class
aud_entries_end(struct aud_entries *e, struct aud_result *r)
{
    if (e->loaded && e->off != e->buf.len)
        return aud_fail_at(r, AUD_BAD_ENTRY, e->pos, "%s holds %zu bytes after "
                           "its %u entries", e->path, e->buf.len - e->off,
                           e->bundle_w);
    return AUD_OK;
}
