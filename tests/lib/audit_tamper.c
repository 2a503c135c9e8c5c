/*
 * audit_tamper.c - the bundle editors of audit_tamper.h: a bundle is read
 * whole, split at its u16 length prefixes, and written back with entries
 * dropped, reordered or changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aud.h"
#include "audit_tamper.h"

struct bundle {
    uint8_t *buf;
    size_t   len, off[AUD_TILE_WIDTH + 1], elen[AUD_TILE_WIDTH + 1];
    unsigned n;
};

static void
bundle_load(const char *path, struct bundle *b)
{
    struct aud_buf ab = { 0 };
    size_t pos = 0;

    assert_int_equal(aud_file_read(path, &ab, 1u << 24), 0);
    b->buf = ab.p;
    b->len = ab.len;
    for (b->n = 0; pos < b->len && b->n <= AUD_TILE_WIDTH; b->n++) {
        b->elen[b->n] = (size_t)b->buf[pos] << 8 | b->buf[pos + 1];
        b->off[b->n] = pos + 2;
        pos += 2 + b->elen[b->n];
    }
}

/* Writes entries order[0..n) of b (u16-prefixed) to path. */
static void
bundle_save(const char *path, const struct bundle *b, const unsigned *order,
            unsigned n)
{
    uint8_t *out = malloc(b->len + 1);
    size_t pos = 0;

    assert_non_null(out);
    for (unsigned i = 0; i < n; i++) {
        out[pos++] = (uint8_t)(b->elen[order[i]] >> 8);
        out[pos++] = (uint8_t)b->elen[order[i]];
        memcpy(out + pos, b->buf + b->off[order[i]], b->elen[order[i]]);
        pos += b->elen[order[i]];
    }
    gen_write_file(path, out, pos);
    free(out);
}

static const char *
bundle_path(char *path, const char *dir, uint64_t size, uint64_t idx)
{
    return aud_tile_path(path, dir, AUD_ENTRIES_LEVEL, idx / AUD_TILE_WIDTH,
                         aud_tile_width(size, AUD_ENTRIES_LEVEL, idx / AUD_TILE_WIDTH));
}

void
tamper_bundle_edit(const char *dir, uint64_t size, uint64_t idx, int del,
                   int swap, unsigned keep)
{
    char path[AUD_PATH_MAX];
    unsigned order[AUD_TILE_WIDTH], n = 0, k = (unsigned)(idx % AUD_TILE_WIDTH);
    struct bundle b;

    bundle_load(bundle_path(path, dir, size, idx), &b);
    for (unsigned i = 0; i < b.n && n < keep; i++)
        if (!(del && i == k))
            order[n++] = i;
    if (swap) {
        assert_true(k + 1 < n);
        order[k] = k + 1;
        order[k + 1] = k;
    }
    bundle_save(path, &b, order, n);
    free(b.buf);
}

void
tamper_entry_flip(const char *dir, uint64_t size, uint64_t idx, size_t at,
                  uint8_t mask)
{
    char path[AUD_PATH_MAX];
    unsigned all[AUD_TILE_WIDTH];
    struct bundle b;

    bundle_load(bundle_path(path, dir, size, idx), &b);
    assert_true(at < b.elen[idx % AUD_TILE_WIDTH]);
    b.buf[b.off[idx % AUD_TILE_WIDTH] + at] ^= mask;
    for (unsigned i = 0; i < b.n; i++)
        all[i] = i;
    bundle_save(path, &b, all, b.n);
    free(b.buf);
}

void
tamper_bundle_write(const struct gen_log *l, const char *dir, uint64_t n,
                    const uint64_t *idx)
{
    char path[AUD_PATH_MAX];
    uint8_t *out = malloc(AUD_TILE_WIDTH * (2 + RECORD_LEAF_MAX));
    size_t pos = 0;

    assert_non_null(out);
    for (unsigned i = 0; i < AUD_TILE_WIDTH; i++) {
        out[pos++] = (uint8_t)(l->len[idx[i]] >> 8);
        out[pos++] = (uint8_t)l->len[idx[i]];
        memcpy(out + pos, l->buf + l->off[idx[i]], l->len[idx[i]]);
        pos += l->len[idx[i]];
    }
    gen_write_file(aud_tile_path(path, dir, AUD_ENTRIES_LEVEL, n, AUD_TILE_WIDTH),
                   out, pos);
    free(out);
}
