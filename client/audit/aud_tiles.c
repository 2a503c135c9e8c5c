/*
 * aud_tiles.c - the C2SP tlog-tiles layout (c2sp.org/tlog-tiles, proto/AUDIT-FORMAT.md
 * §10) for hitlq-audit: tile and entry-bundle paths ("x001/x234/067"
 * index encoding, ".p/<W>" partial tiles), tile widths for a tree size,
 * the writer that lays out an export as entries arrive, and the loader of
 * one tile file for verification.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aud.h"

const char *
aud_tile_path(char out[AUD_PATH_MAX], const char *dir, int level, uint64_t n,
              unsigned w)
{
    unsigned groups[7];            /* 2^64 < 1000^7 */
    size_t ng = 0, pos;
    int k;

    do {
        groups[ng++] = (unsigned)(n % 1000);
        n /= 1000;
    } while (n > 0);
    if (level < 0)
        k = snprintf(out, AUD_PATH_MAX, "%s/tile/entries/", dir);
    else
        k = snprintf(out, AUD_PATH_MAX, "%s/tile/%d/", dir, level);
    pos = k < 0 ? 0 : (size_t)k;
    for (size_t i = ng; i-- > 1 && pos < AUD_PATH_MAX;)
        pos += (size_t)snprintf(out + pos, AUD_PATH_MAX - pos, "x%03u/", groups[i]);
    if (pos < AUD_PATH_MAX)
        pos += (size_t)snprintf(out + pos, AUD_PATH_MAX - pos, "%03u", groups[0]);
    if (w > 0 && w < AUD_TILE_WIDTH && pos < AUD_PATH_MAX)
        snprintf(out + pos, AUD_PATH_MAX - pos, ".p/%u", w);
    return out;
}

unsigned
aud_tile_width(uint64_t size, int level, uint64_t n)
{
    uint64_t count;

    if (level < 0)
        level = 0;
    if ((unsigned)level >= AUD_TILE_LEVELS)
        return 0;
    count = size >> (AUD_TILE_HEIGHT * (unsigned)level);  /* hashes at level */
    if (n < count / AUD_TILE_WIDTH)
        return AUD_TILE_WIDTH;
    if (n == count / AUD_TILE_WIDTH)
        return (unsigned)(count % AUD_TILE_WIDTH);
    return 0;
}

/* ---- loading ------------------------------------------------------------ */

int
aud_tile_read(const char *dir, int level, uint64_t n, unsigned w, size_t max,
              struct aud_buf *b, unsigned *got_w, char path[AUD_PATH_MAX])
{
    struct stat sb;
    int err;

    *got_w = w;
    aud_tile_path(path, dir, level, n, w);
    if ((err = aud_file_read(path, b, max)) != ENOENT)
        return err;
    *got_w = 0;
    for (unsigned w2 = w > 1 ? w - 1 : 0; w2 >= 1; w2--) {
        char p2[AUD_PATH_MAX];
        aud_tile_path(p2, dir, level, n, w2);
        if (stat(p2, &sb) == 0) {
            *got_w = w2;
            return aud_file_read(p2, b, max);
        }
    }
    return 0;                        /* absent: b->len == 0 */
}

bool
aud_tile_later_exist(const char *dir, int level, uint64_t size, uint64_t n)
{
    char path[AUD_PATH_MAX];
    uint64_t count = size >> (AUD_TILE_HEIGHT * (unsigned)(level < 0 ? 0 : level));
    uint64_t last;
    struct stat sb;

    if (count == 0)
        return false;
    last = (count - 1) / AUD_TILE_WIDTH;
    if (n >= last)
        return false;
    aud_tile_path(path, dir, level, last, aud_tile_width(size, level, last));
    return stat(path, &sb) == 0;
}

enum aud_class
aud_tile_load(const char *dir, int level, uint64_t n, uint64_t size,
              struct aud_buf *b, struct aud_result *r)
{
    char path[AUD_PATH_MAX];
    unsigned w = aud_tile_width(size, level, n), got;
    int err = aud_tile_read(dir, level, n, w, (size_t)AUD_TILE_WIDTH * 32u + 1u,
                            b, &got, path);

    if (err == EFBIG || (err == 0 && b->len > (size_t)w * 32u))
        return aud_fail_at(r, AUD_BAD_HASH,
                           n << (AUD_TILE_HEIGHT * ((unsigned)level + 1)),
                           "%s holds more than %u hashes", path, w);
    if (err != 0)
        return aud_fail(r, AUD_IO, "cannot read %s: %s", path, strerror(err));
    b->len -= b->len % 32u;          /* a torn last hash does not count */
    return AUD_OK;
}

/* ---- writing ------------------------------------------------------------ */

static int
aud_buf_append(struct aud_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        uint8_t *q;
        while (cap < b->len + n)
            cap *= 2;
        if ((q = realloc(b->p, cap)) == NULL)
            return ENOMEM;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

/* Writes one tile or bundle file; records the errno and path on failure. */
static int
aud_tilewriter_put(struct aud_tilewriter *w, int level, uint64_t n, unsigned width,
                   const void *data, size_t len)
{
    aud_tile_path(w->errpath, w->dir, level, n, width);
    if ((w->err = aud_mkdirs_for(w->errpath)) == 0)
        w->err = aud_file_write(w->errpath, data, len, false);
    return w->err;
}

/* merkle_store_fn: each complete subtree at a multiple of 8 levels is one
 * hash of the tile level above; full tiles are written at once. */
static int
aud_tilewriter_store(void *arg, unsigned level, uint64_t index,
                     const uint8_t hash[MERKLE_HASH_LEN])
{
    struct aud_tilewriter *w = arg;
    unsigned k = level / AUD_TILE_HEIGHT;

    if (level % AUD_TILE_HEIGHT != 0 || k >= AUD_TILE_LEVELS)
        return 0;
    (void)index;
    memcpy(w->tile[k][w->width[k]++], hash, 32);
    if (w->width[k] < AUD_TILE_WIDTH)
        return 0;
    if (aud_tilewriter_put(w, (int)k, w->tile_n[k], AUD_TILE_WIDTH, w->tile[k],
                           sizeof(w->tile[k])) != 0)
        return -1;
    w->tile_n[k]++;
    w->width[k] = 0;
    return 0;
}

void
aud_tilewriter_init(struct aud_tilewriter *w, const char *dir,
                    struct merkle_hasher *h)
{
    memset(w, 0, sizeof(*w));
    w->dir = dir;
    w->h = h;
    merkle_tree_init(&w->tree);
}

enum aud_class
aud_tilewriter_add(struct aud_tilewriter *w, const uint8_t *entry, size_t len,
                   const uint8_t hash[32], struct aud_result *r)
{
    uint8_t be[2] = { (uint8_t)(len >> 8), (uint8_t)len };
    uint64_t index = w->tree.size;
    int rc;

    if (len == 0 || len > RECORD_LEAF_MAX)
        return aud_fail_at(r, AUD_BAD_ENTRY, index, "entry of %zu bytes does "
                           "not fit a tlog-tiles bundle (1..65535)", len);
    if (aud_buf_append(&w->bundle, be, 2) != 0 ||
        aud_buf_append(&w->bundle, entry, len) != 0)
        return aud_fail(r, AUD_IO, "out of memory");
    rc = merkle_tree_append(&w->tree, w->h, hash, aud_tilewriter_store, w);
    if (rc == MERKLE_ERR_CALLBACK)
        return aud_fail(r, AUD_IO, "cannot write %s: %s", w->errpath,
                        strerror(w->err));
    if (rc != MERKLE_OK)
        return aud_fail(r, AUD_IO, "merkle: %s", merkle_strerror(rc));
    if (++w->bundle_n < AUD_TILE_WIDTH)
        return AUD_OK;
    if (aud_tilewriter_put(w, AUD_ENTRIES_LEVEL, index / AUD_TILE_WIDTH,
                           AUD_TILE_WIDTH, w->bundle.p, w->bundle.len) != 0)
        return aud_fail(r, AUD_IO, "cannot write %s: %s", w->errpath,
                        strerror(w->err));
    w->bundle.len = 0;
    w->bundle_n = 0;
    return AUD_OK;
}

enum aud_class
aud_tilewriter_finish(struct aud_tilewriter *w, struct aud_result *r)
{
    for (unsigned k = 0; k < AUD_TILE_LEVELS; k++)
        if (w->width[k] > 0 &&
            aud_tilewriter_put(w, (int)k, w->tile_n[k], w->width[k], w->tile[k],
                               (size_t)w->width[k] * 32u) != 0)
            return aud_fail(r, AUD_IO, "cannot write %s: %s", w->errpath,
                            strerror(w->err));
    if (w->bundle_n > 0 &&
        aud_tilewriter_put(w, AUD_ENTRIES_LEVEL, w->tree.size / AUD_TILE_WIDTH,
                           w->bundle_n, w->bundle.p, w->bundle.len) != 0)
        return aud_fail(r, AUD_IO, "cannot write %s: %s", w->errpath,
                        strerror(w->err));
    return AUD_OK;
}

void
aud_tilewriter_clear(struct aud_tilewriter *w)
{
    aud_buf_clear(&w->bundle);
}
