/*
 * aud_verify.c - `hitlq-audit verify`: offline verification of a
 * tlog-tiles export (proto/AUDIT-FORMAT.md §11 C-D).  One pass over the entries in
 * order: strict AXR1 decode, index == position and time order, the
 * four-eyes REVIEW extension (aud_review.c; hitlq's other reserved-range
 * extensions stay opaque here, as in the record codec), leaf hash
 * == the level-0 tile hash, references to earlier entries, then the leaf
 * joins an incremental tree whose complete 256^k subtrees are checked
 * against the higher tiles; finally size and root against the signed
 * checkpoint, and consistency with the --state checkpoint.  The first
 * failure stops the pass and names its index.
 *
 * Hot path: no per-entry allocation; bundles and tiles are read whole into
 * reused buffers; two reused struct record (current and previous); one
 * reused merkle_hasher.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aud.h"

/* A cached hash tile of one level. */
struct aud_hitile {
    struct aud_buf b;
    uint64_t       n;
    bool           loaded;
};

struct aud_vctx {
    const struct aud_verify_opts *o;
    struct aud_result     *r;
    struct aud_checkpoint  cp;
    struct aud_checkpoint  old;         /* --state; old.note NULL if none */
    struct merkle_hasher   h;
    struct merkle_tree     tree;
    struct aud_entries     it;
    struct aud_hitile      hi[AUD_TILE_LEVELS];  /* hi[0]: level-0 tile */
    struct aud_hitile      ref;         /* level-0 tile for references */
    struct record          rec[2];      /* current and previous entry */
    unsigned               cur;
};

/* Hash tile n of `level` into t (cached). */
static enum aud_class
aud_verify_tile(struct aud_vctx *v, struct aud_hitile *t, int level, uint64_t n)
{
    enum aud_class cls;

    if (t->loaded && t->n == n)
        return AUD_OK;
    cls = aud_tile_load(v->o->dir, level, n, v->cp.cp.size, &t->b, v->r);
    t->loaded = cls == AUD_OK;
    t->n = n;
    return cls;
}

/* merkle_store_fn: a complete subtree of 256^k leaves (k >= 1) must equal
 * hash index%256 of tile index/256 at level k. */
static int
aud_verify_store(void *arg, unsigned level, uint64_t index,
                 const uint8_t hash[MERKLE_HASH_LEN])
{
    struct aud_vctx *v = arg;
    unsigned k = level / AUD_TILE_HEIGHT, slot = (unsigned)(index % AUD_TILE_WIDTH);
    struct aud_hitile *t = &v->hi[k];
    char path[AUD_PATH_MAX], a[65], b[65];
    uint64_t first = index << level;

    if (level == 0 || level % AUD_TILE_HEIGHT != 0 || k >= AUD_TILE_LEVELS)
        return 0;
    if (aud_verify_tile(v, t, (int)k, index / AUD_TILE_WIDTH) != AUD_OK)
        return -1;
    aud_tile_path(path, v->o->dir, (int)k, index / AUD_TILE_WIDTH,
                  aud_tile_width(v->cp.cp.size, (int)k, index / AUD_TILE_WIDTH));
    if (t->b.len < (size_t)(slot + 1) * 32u) {
        aud_fail_at(v->r, AUD_TRUNCATION, first, "%s holds only %zu hashes; "
                    "hash %u (entries %llu..%llu) is absent", path, t->b.len / 32,
                    slot, (unsigned long long)first,
                    (unsigned long long)(first + (1ull << level) - 1));
        return -1;
    }
    if (memcmp(t->b.p + (size_t)slot * 32u, hash, 32) == 0)
        return 0;
    aud_fail_at(v->r, AUD_BAD_HASH, first, "%s hash %u (entries %llu..%llu) is "
                "%s, but the level-%u hashes below give %s", path, slot,
                (unsigned long long)first,
                (unsigned long long)(first + (1ull << level) - 1),
                aud_hex(t->b.p + (size_t)slot * 32u, a), k - 1, aud_hex(hash, b));
    return -1;
}

/* The verified leaf hash of entry ref < current position. */
static enum aud_class
aud_verify_ref_hash(struct aud_vctx *v, uint64_t ref, const uint8_t **out)
{
    struct aud_hitile *t = &v->hi[0];
    enum aud_class cls;

    if (!(t->loaded && t->n == ref / AUD_TILE_WIDTH)) {
        t = &v->ref;
        if ((cls = aud_verify_tile(v, t, 0, ref / AUD_TILE_WIDTH)) != AUD_OK)
            return cls;
        if (t->b.len < (ref % AUD_TILE_WIDTH + 1) * 32u)
            return aud_fail(v->r, AUD_IO, "level-0 tile of entry %llu changed "
                            "during verification", (unsigned long long)ref);
    }
    *out = t->b.p + (ref % AUD_TILE_WIDTH) * 32u;
    return AUD_OK;
}

/* Semantic checks of the references: a human decision refers to an
 * earlier entry, and ref_leaf_hash is that entry's leaf hash. */
static enum aud_class
aud_verify_ref(struct aud_vctx *v, uint64_t pos, const struct record *rec)
{
    static const uint8_t zero[32];
    const uint8_t *lh = NULL;
    enum aud_class cls;
    char a[65], b[65];

    if (rec->ref_index == RECORD_REF_NONE) {
        if (rec->record_type == RECORD_HUMAN_DECISION ||
            rec->record_type == RECORD_HUMAN_OVERRIDE)
            return aud_fail_at(v->r, AUD_BAD_ENTRY, pos, "human decision "
                               "without a referenced entry");
        if (memcmp(rec->ref_leaf_hash, zero, 32) != 0)
            return aud_fail_at(v->r, AUD_BAD_ENTRY, pos, "ref_leaf_hash set "
                               "without ref_index");
        return AUD_OK;
    }
    if (rec->ref_index >= pos)
        return aud_fail_at(v->r, AUD_BAD_ENTRY, pos, "ref_index %llu is not "
                           "before the entry", (unsigned long long)rec->ref_index);
    if ((cls = aud_verify_ref_hash(v, rec->ref_index, &lh)) != AUD_OK)
        return cls;
    if (memcmp(lh, rec->ref_leaf_hash, 32) != 0)
        return aud_fail_at(v->r, AUD_BAD_ENTRY, pos, "ref_leaf_hash %s is not "
                           "the leaf hash %s of entry %llu",
                           aud_hex(rec->ref_leaf_hash, a), aud_hex(lh, b),
                           (unsigned long long)rec->ref_index);
    return AUD_OK;
}

/* record_check_sequence failed at pos: MISSING, REORDERED or BAD_ENTRY. */
static enum aud_class
aud_verify_sequence_error(struct aud_vctx *v, uint64_t pos,
                          const struct record *rec, const struct record *prev,
                          int rc)
{
    unsigned long long p = pos, j = rec->index;
    uint64_t at;

    if (rc == RECORD_ERR_TIME)
        return aud_fail_at(v->r, AUD_BAD_ENTRY, pos, "time_ms %llu is before "
                           "the previous entry's %llu",
                           (unsigned long long)rec->time_ms,
                           (unsigned long long)prev->time_ms);
    if (rc != RECORD_ERR_INDEX)
        return aud_fail_at(v->r, AUD_BAD_ENTRY, pos, "%s", record_strerror(rc));
    if (rec->index < pos)
        return aud_fail_at(v->r, AUD_REORDERED, pos, "position %llu holds entry "
                           "%llu, which belongs earlier", p, j);
    at = aud_entries_find(&v->it, pos);
    if (at != UINT64_MAX)
        return aud_fail_at(v->r, AUD_REORDERED, pos, "position %llu holds entry "
                           "%llu; entry %llu is at position %llu", p, j, p,
                           (unsigned long long)at);
    return aud_fail_at(v->r, AUD_MISSING, pos, "entry %llu is missing: position "
                       "%llu holds entry %llu", p, p, j);
}

/* Leaf hash of the entry at pos against the level-0 tile. */
static enum aud_class
aud_verify_leaf(struct aud_vctx *v, uint64_t pos, const uint8_t lh[32])
{
    struct aud_hitile *t = &v->hi[0];
    size_t slot = pos % AUD_TILE_WIDTH;
    char path[AUD_PATH_MAX], a[65], b[65];
    enum aud_class cls;

    if ((cls = aud_verify_tile(v, t, 0, pos / AUD_TILE_WIDTH)) != AUD_OK)
        return cls;
    if (t->b.len >= (slot + 1) * 32u && memcmp(t->b.p + slot * 32u, lh, 32) == 0)
        return AUD_OK;
    aud_tile_path(path, v->o->dir, 0, pos / AUD_TILE_WIDTH,
                  aud_tile_width(v->cp.cp.size, 0, pos / AUD_TILE_WIDTH));
    if (t->b.len < (slot + 1) * 32u)
        return aud_fail_at(v->r, aud_tile_later_exist(v->o->dir, 0, v->cp.cp.size,
                                                      pos / AUD_TILE_WIDTH) ?
                           AUD_MISSING : AUD_TRUNCATION, pos,
                           "leaf hash of entry %llu absent: %s holds %zu hashes",
                           (unsigned long long)pos, path, t->b.len / 32);
    return aud_fail_at(v->r, AUD_BAD_HASH, pos, "leaf hash of entry %llu is %s, "
                       "but %s holds %s", (unsigned long long)pos, aud_hex(lh, a),
                       path, aud_hex(t->b.p + slot * 32u, b));
}

/* Root of the first old-size leaves == the --state checkpoint's root. */
static enum aud_class
aud_verify_prefix(struct aud_vctx *v)
{
    uint8_t root[32];
    char a[45], b[45], c[45];

    if (merkle_tree_root(&v->tree, &v->h, root) != MERKLE_OK)
        return aud_fail(v->r, AUD_IO, "SHA-256 failed");
    if (memcmp(root, v->old.cp.root, 32) == 0)
        return AUD_OK;
    return aud_fail(v->r, AUD_FORK, "the first %llu entries have root %s, but "
                    "the previously verified checkpoint of size %llu (%s) has "
                    "root %s; the new checkpoint has size %llu, root %s",
                    (unsigned long long)v->tree.size, aud_b64(root, a),
                    (unsigned long long)v->old.cp.size, v->o->state,
                    aud_b64(v->old.cp.root, b), (unsigned long long)v->cp.cp.size,
                    aud_b64(v->cp.cp.root, c));
}

/* Everything about the entry at position pos. */
static enum aud_class
aud_verify_entry(struct aud_vctx *v, uint64_t pos)
{
    struct record *rec = &v->rec[v->cur], *prev = &v->rec[v->cur ^ 1u];
    struct aud_review rv;
    const uint8_t *p;
    uint8_t lh[32];
    enum aud_class cls;
    size_t len;
    int rc;

    if ((cls = aud_entries_next(&v->it, &p, &len, v->r)) != AUD_OK)
        return cls;
    if ((rc = record_decode(p, len, rec)) != RECORD_OK)
        return aud_fail_at(v->r, AUD_BAD_ENTRY, pos, "entry %llu does not "
                           "decode: %s", (unsigned long long)pos,
                           record_strerror(rc));
    if ((rc = record_check_sequence(pos > 0 ? prev : NULL, rec, pos)) != RECORD_OK)
        return aud_verify_sequence_error(v, pos, rec, prev, rc);
    if ((cls = aud_review_check(rec, &rv, v->r)) != AUD_OK)
        return cls;
    if (merkle_leaf_hash(&v->h, p, len, lh) != MERKLE_OK)
        return aud_fail(v->r, AUD_IO, "SHA-256 failed");
    if ((cls = aud_verify_leaf(v, pos, lh)) != AUD_OK ||
        (cls = aud_verify_ref(v, pos, rec)) != AUD_OK)
        return cls;
    rc = merkle_tree_append(&v->tree, &v->h, lh, aud_verify_store, v);
    if (rc == MERKLE_ERR_CALLBACK)
        return v->r->cls;
    if (rc != MERKLE_OK)
        return aud_fail(v->r, AUD_IO, "merkle: %s", merkle_strerror(rc));
    if (v->o->on_entry != NULL &&
        (cls = v->o->on_entry(v->o->on_entry_arg, pos, rec, v->r)) != AUD_OK)
        return cls;
    v->cur ^= 1u;
    if (v->old.note != NULL && v->tree.size == v->old.cp.size)
        return aud_verify_prefix(v);
    return AUD_OK;
}

/* Checkpoint, --state, hasher. */
static enum aud_class
aud_verify_open(struct aud_vctx *v)
{
    char path[AUD_PATH_MAX];
    enum aud_class cls;

    snprintf(path, sizeof(path), "%s/checkpoint", v->o->dir);
    if ((cls = aud_checkpoint_load(&v->cp, path, v->o->keys, v->r)) != AUD_OK)
        return cls;
    if (v->o->state != NULL &&
        ((cls = aud_state_load(v->o->state, v->o->keys, &v->old, v->r)) != AUD_OK ||
         (v->old.note != NULL &&
          (cls = aud_state_compare(&v->old, &v->cp, v->r)) != AUD_OK)))
        return cls;
    if (merkle_hasher_init(&v->h) != MERKLE_OK)
        return aud_fail(v->r, AUD_IO, "cannot set up SHA-256");
    merkle_tree_init(&v->tree);
    aud_entries_init(&v->it, v->o->dir, v->cp.cp.size);
    if (v->old.note != NULL && v->old.cp.size == 0)
        return aud_verify_prefix(v);
    return AUD_OK;
}

/* After the last entry: nothing left over, root as signed. */
static enum aud_class
aud_verify_close(struct aud_vctx *v)
{
    uint8_t root[32];
    char a[45], b[45];
    enum aud_class cls;

    if ((cls = aud_entries_end(&v->it, v->r)) != AUD_OK)
        return cls;
    if (merkle_tree_root(&v->tree, &v->h, root) != MERKLE_OK)
        return aud_fail(v->r, AUD_IO, "SHA-256 failed");
    if (memcmp(root, v->cp.cp.root, 32) != 0)
        return aud_fail(v->r, AUD_BAD_HASH, "root mismatch: the %llu entries "
                        "give root %s, the signed checkpoint says %s",
                        (unsigned long long)v->tree.size, aud_b64(root, a),
                        aud_b64(v->cp.cp.root, b));
    if (v->o->state != NULL && v->cp.sig_checked)
        return aud_state_save(v->o->state, &v->cp, v->r);
    return AUD_OK;
}

static void
aud_verify_free(struct aud_vctx *v)
{
    for (unsigned k = 0; k < AUD_TILE_LEVELS; k++)
        aud_buf_clear(&v->hi[k].b);
    aud_buf_clear(&v->ref.b);
    aud_entries_clear(&v->it);
    merkle_hasher_clear(&v->h);
    aud_checkpoint_clear(&v->cp);
    aud_checkpoint_clear(&v->old);
    free(v);
}

enum aud_class
aud_verify(const struct aud_verify_opts *o, struct aud_verify_stats *st,
           struct aud_result *r)
{
    struct aud_vctx *v = calloc(1, sizeof(*v));     /* ~45 KB: not on the stack */
    struct timespec t0, t1;
    enum aud_class cls;

    if (v == NULL)
        return aud_fail(r, AUD_IO, "out of memory");
    v->o = o;
    v->r = r;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cls = aud_verify_open(v);
    for (uint64_t pos = 0; cls == AUD_OK && pos < v->cp.cp.size; pos++)
        cls = aud_verify_entry(v, pos);
    if (cls == AUD_OK)
        cls = aud_verify_close(v);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (st != NULL) {
        st->entries = v->tree.size;
        st->seconds = (double)(t1.tv_sec - t0.tv_sec) +
                      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    }
    aud_verify_free(v);
    return cls;
}
