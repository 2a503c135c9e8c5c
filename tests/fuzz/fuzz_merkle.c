/*
 * fuzz_merkle.c - libFuzzer target for the RFC 6962 / 9162 proof verifiers
 * and generators of proto/merkle.c (docs/RELIABILITY.md T4, proto/AUDIT-FORMAT.md §4).
 *
 * Input layout (missing bytes read as zero):
 *   [0]        flags: bit 0 = small sizes (a, b masked to 10 bits),
 *                     bit 1 = every leaf of the built tree identical
 *   [1..9)     a, u64 big-endian: size (inclusion) / size2 (consistency)
 *   [9..17)    b, u64 big-endian: index (inclusion) / size1 (consistency)
 *   [17]       n: proof hashes (0..71; fewer if the input ends first)
 *   [18..50)   root1        [50..82) root2        [82..114) leaf hash
 *   [114..)    n proof hashes of 32 bytes
 *
 * 1. merkle_verify_inclusion / merkle_verify_consistency run on those raw
 *    values; the result must match an independent computation of the
 *    expected proof length (RANGE / BAD_PROOF_LEN decided without hashing),
 *    and anything accepted must be refused once the root changes.
 * 2. Differential: a tree of L = 1 + (a & 63) leaves derived from the input
 *    is built with merkle_tree_append storing every complete subtree; its
 *    root must equal merkle_root_compute and merkle_root_at; inclusion and
 *    consistency proofs generated from the stored nodes (for the full tree
 *    and an older size) must verify, and flipping one input-chosen bit of
 *    the proof, leaf or roots must make them fail.  The getter aborts if a
 *    generator asks for a node outside the tree size it proves.
 * Built with HITLQ_FUZZ_REPLAY defined, only fuzz_merkle_one() is compiled
 * (tests/unit/test_fuzz_replay.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"

#define FUZZ_MERKLE_HL     MERKLE_HASH_LEN
#define FUZZ_MERKLE_LEAVES 64u
#define FUZZ_MERKLE_LEVELS 7u              /* 64 = 2^6: levels 0..6 */
#define FUZZ_MERKLE_HDR    114u

struct fuzz_merkle_store {
    uint8_t  node[FUZZ_MERKLE_LEVELS][FUZZ_MERKLE_LEAVES][FUZZ_MERKLE_HL];
    uint8_t  have[FUZZ_MERKLE_LEVELS][FUZZ_MERKLE_LEAVES];
    uint64_t size;     /* store: size after the append; get: size proved */
};

static struct merkle_hasher fuzz_merkle_h;
static int fuzz_merkle_ready;

/* Complete subtree (level, index) lies within the first `size` leaves. */
static int
fuzz_merkle_within(unsigned level, uint64_t index, uint64_t size)
{
    return level < FUZZ_MERKLE_LEVELS && index < (FUZZ_MERKLE_LEAVES >> level) &&
           ((index + 1) << level) <= size;
}

static int
fuzz_merkle_store_fn(void *arg, unsigned level, uint64_t index,
                     const uint8_t hash[FUZZ_MERKLE_HL])
{
    struct fuzz_merkle_store *s = arg;

    if (!fuzz_merkle_within(level, index, s->size))
        abort();
    if (s->have[level][index] &&
        memcmp(s->node[level][index], hash, FUZZ_MERKLE_HL) != 0)
        abort();                       /* a complete subtree never changes */
    memcpy(s->node[level][index], hash, FUZZ_MERKLE_HL);
    s->have[level][index] = 1;
    return 0;
}

static int
fuzz_merkle_get_fn(void *arg, unsigned level, uint64_t index,
                   uint8_t out[FUZZ_MERKLE_HL])
{
    struct fuzz_merkle_store *s = arg;

    if (!fuzz_merkle_within(level, index, s->size) || !s->have[level][index])
        abort();                       /* asked for a node it may not use */
    memcpy(out, s->node[level][index], FUZZ_MERKLE_HL);
    return 0;
}

static uint64_t
fuzz_merkle_u64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static unsigned
fuzz_merkle_bitlen(uint64_t x)
{
    unsigned n = 0;

    for (; x != 0; x >>= 1)
        n++;
    return n;
}

static unsigned
fuzz_merkle_popcount(uint64_t x)
{
    unsigned n = 0;

    for (; x != 0; x &= x - 1)
        n++;
    return n;
}

/* Inclusion proof length for index < size (transparency-dev/merkle). */
static size_t
fuzz_merkle_incl_len(uint64_t index, uint64_t size)
{
    unsigned inner = fuzz_merkle_bitlen(index ^ (size - 1));

    return inner + fuzz_merkle_popcount(inner >= 64 ? 0 : index >> inner);
}

/* Consistency proof length for 0 < size1 <= size2. */
static size_t
fuzz_merkle_cons_len(uint64_t size1, uint64_t size2)
{
    unsigned inner, border, shift = 0;

    if (size1 == size2)
        return 0;
    inner = fuzz_merkle_bitlen((size1 - 1) ^ (size2 - 1));
    border = fuzz_merkle_popcount((size1 - 1) >> inner);
    while (!((size1 >> shift) & 1))
        shift++;
    return ((size1 & (size1 - 1)) == 0 ? 0u : 1u) + (inner - shift) + border;
}

/* Part 1: the verifiers on raw attacker values. */
static void
fuzz_merkle_raw(uint64_t a, uint64_t b, const uint8_t (*proof)[FUZZ_MERKLE_HL],
                size_t n, uint8_t root1[FUZZ_MERKLE_HL],
                uint8_t root2[FUZZ_MERKLE_HL], const uint8_t leaf[FUZZ_MERKLE_HL])
{
    struct merkle_hasher *h = &fuzz_merkle_h;
    int rc;

    rc = merkle_verify_inclusion(h, leaf, b, a, proof, n, root1);
    if (a > MERKLE_MAX_SIZE || b >= a) {
        if (rc != MERKLE_ERR_RANGE)
            abort();
    } else if (n != fuzz_merkle_incl_len(b, a)) {
        if (rc != MERKLE_ERR_BAD_PROOF_LEN)
            abort();
    } else if (rc == MERKLE_OK) {
        root1[0] ^= 0x80;
        if (merkle_verify_inclusion(h, leaf, b, a, proof, n, root1) !=
            MERKLE_ERR_ROOT_MISMATCH)
            abort();
        root1[0] ^= 0x80;
    } else if (rc != MERKLE_ERR_ROOT_MISMATCH) {
        abort();
    }

    rc = merkle_verify_consistency(h, b, a, proof, n, root1, root2);
    if (b == 0 || b > a || a > MERKLE_MAX_SIZE) {
        if (rc != MERKLE_ERR_RANGE)
            abort();
    } else if (n != fuzz_merkle_cons_len(b, a)) {
        if (rc != MERKLE_ERR_BAD_PROOF_LEN)
            abort();
    } else if (rc == MERKLE_OK) {
        if (b == a && memcmp(root1, root2, FUZZ_MERKLE_HL) != 0)
            abort();
        root2[31] ^= 0x01;
        if (merkle_verify_consistency(h, b, a, proof, n, root1, root2) !=
            MERKLE_ERR_ROOT_MISMATCH)
            abort();
        root2[31] ^= 0x01;
    } else if (rc != MERKLE_ERR_ROOT_MISMATCH ||
               (b == a && memcmp(root1, root2, FUZZ_MERKLE_HL) == 0)) {
        abort();
    }
}

/* Flips one bit (sel: buffer in the high bits, bit in the low 8) of one
 * of the nbufs 32-byte buffers. */
static void
fuzz_merkle_flip(uint8_t *const *bufs, size_t nbufs, unsigned sel)
{
    uint8_t *p = bufs[(sel >> 8) % nbufs];

    p[(sel & 0xff) >> 3] ^= (uint8_t)(1u << (sel & 7));
}

/* An inclusion proof for (size, index) from the store verifies, and fails
 * after one flipped bit of proof, leaf or root. */
static void
fuzz_merkle_incl_gen(struct fuzz_merkle_store *s, const uint8_t (*leaves)[FUZZ_MERKLE_HL],
                     uint64_t size, uint64_t index, unsigned sel)
{
    struct merkle_hasher *h = &fuzz_merkle_h;
    uint8_t proof[MERKLE_MAX_PROOF][FUZZ_MERKLE_HL];
    uint8_t root[FUZZ_MERKLE_HL], leaf[FUZZ_MERKLE_HL];
    uint8_t *bufs[MERKLE_MAX_PROOF + 2];
    size_t n, nb = 0;

    s->size = size;
    if (merkle_root_compute(h, leaves, size, root) != MERKLE_OK ||
        merkle_inclusion_proof(h, size, index, fuzz_merkle_get_fn, s, proof, &n) !=
            MERKLE_OK ||
        n != fuzz_merkle_incl_len(index, size))
        abort();
    memcpy(leaf, leaves[index], FUZZ_MERKLE_HL);
    if (merkle_verify_inclusion(h, leaf, index, size,
                                (const uint8_t (*)[FUZZ_MERKLE_HL])proof, n,
                                root) != MERKLE_OK)
        abort();
    if (n > 0 && merkle_verify_inclusion(h, leaf, index, size,
                                         (const uint8_t (*)[FUZZ_MERKLE_HL])proof,
                                         n - 1, root) != MERKLE_ERR_BAD_PROOF_LEN)
        abort();
    for (size_t i = 0; i < n; i++)
        bufs[nb++] = proof[i];
    bufs[nb++] = leaf;
    bufs[nb++] = root;
    fuzz_merkle_flip(bufs, nb, sel);
    if (merkle_verify_inclusion(h, leaf, index, size,
                                (const uint8_t (*)[FUZZ_MERKLE_HL])proof, n,
                                root) != MERKLE_ERR_ROOT_MISMATCH)
        abort();
}

/* Same for a consistency proof from size1 to size2. */
static void
fuzz_merkle_cons_gen(struct fuzz_merkle_store *s, const uint8_t (*leaves)[FUZZ_MERKLE_HL],
                     uint64_t size1, uint64_t size2, unsigned sel)
{
    struct merkle_hasher *h = &fuzz_merkle_h;
    uint8_t proof[MERKLE_MAX_PROOF][FUZZ_MERKLE_HL];
    uint8_t root1[FUZZ_MERKLE_HL], root2[FUZZ_MERKLE_HL], r[FUZZ_MERKLE_HL];
    uint8_t *bufs[MERKLE_MAX_PROOF + 2];
    size_t n, nb = 0;

    s->size = size1;
    if (merkle_root_at(h, size1, fuzz_merkle_get_fn, s, root1) != MERKLE_OK ||
        merkle_root_compute(h, leaves, size1, r) != MERKLE_OK ||
        memcmp(r, root1, FUZZ_MERKLE_HL) != 0)
        abort();
    s->size = size2;
    if (merkle_root_compute(h, leaves, size2, root2) != MERKLE_OK ||
        merkle_consistency_proof(h, size1, size2, fuzz_merkle_get_fn, s, proof, &n) !=
            MERKLE_OK ||
        n != fuzz_merkle_cons_len(size1, size2))
        abort();
    if (merkle_verify_consistency(h, size1, size2,
                                  (const uint8_t (*)[FUZZ_MERKLE_HL])proof, n,
                                  root1, root2) != MERKLE_OK)
        abort();
    if (n > 0 && merkle_verify_consistency(h, size1, size2,
                                           (const uint8_t (*)[FUZZ_MERKLE_HL])proof,
                                           n - 1, root1, root2) !=
                     MERKLE_ERR_BAD_PROOF_LEN)
        abort();
    for (size_t i = 0; i < n; i++)
        bufs[nb++] = proof[i];
    bufs[nb++] = root1;
    bufs[nb++] = root2;
    fuzz_merkle_flip(bufs, nb, sel);
    if (merkle_verify_consistency(h, size1, size2,
                                  (const uint8_t (*)[FUZZ_MERKLE_HL])proof, n,
                                  root1, root2) != MERKLE_ERR_ROOT_MISMATCH)
        abort();
}

/* Part 2: build a small tree, generate proofs, verify them. */
static void
fuzz_merkle_tree(uint8_t flags, uint64_t a, uint64_t b, unsigned sel,
                 const uint8_t seed[FUZZ_MERKLE_HL])
{
    static struct fuzz_merkle_store s;
    struct merkle_hasher *h = &fuzz_merkle_h;
    uint8_t leaves[FUZZ_MERKLE_LEAVES][FUZZ_MERKLE_HL];
    uint8_t data[FUZZ_MERKLE_HL + 1], r1[FUZZ_MERKLE_HL], r2[FUZZ_MERKLE_HL];
    struct merkle_tree t, t2;
    uint64_t L = 1 + (a & 63), m = 1 + (b % L), i = b % L;

    memset(&s, 0, sizeof(s));
    merkle_tree_init(&t);
    memcpy(data + 1, seed, FUZZ_MERKLE_HL);
    for (uint64_t k = 0; k < L; k++) {
        data[0] = (flags & 2) ? 0 : (uint8_t)k;
        if (merkle_leaf_hash(h, data, sizeof(data), leaves[k]) != MERKLE_OK)
            abort();
        s.size = k + 1;
        if (merkle_tree_append(&t, h, leaves[k], fuzz_merkle_store_fn, &s) !=
                MERKLE_OK ||
            t.size != k + 1 || t.nroots != fuzz_merkle_popcount(k + 1))
            abort();
    }
    /* Every complete subtree was stored. */
    for (unsigned l = 0; l < FUZZ_MERKLE_LEVELS; l++)
        for (uint64_t x = 0; ((x + 1) << l) <= L; x++)
            if (!s.have[l][x])
                abort();
    s.size = L;
    if (merkle_tree_root(&t, h, r1) != MERKLE_OK ||
        merkle_root_compute(h, (const uint8_t (*)[FUZZ_MERKLE_HL])leaves, L, r2) !=
            MERKLE_OK ||
        memcmp(r1, r2, FUZZ_MERKLE_HL) != 0 ||
        merkle_root_at(h, L, fuzz_merkle_get_fn, &s, r1) != MERKLE_OK ||
        memcmp(r1, r2, FUZZ_MERKLE_HL) != 0)
        abort();
    /* Restoring the compact range of an older size gives its tree. */
    s.size = m;
    if (merkle_tree_restore(&t2, m, fuzz_merkle_get_fn, &s) != MERKLE_OK ||
        t2.size != m || merkle_tree_root(&t2, h, r1) != MERKLE_OK ||
        merkle_root_compute(h, (const uint8_t (*)[FUZZ_MERKLE_HL])leaves, m, r2) !=
            MERKLE_OK ||
        memcmp(r1, r2, FUZZ_MERKLE_HL) != 0)
        abort();

    fuzz_merkle_incl_gen(&s, (const uint8_t (*)[FUZZ_MERKLE_HL])leaves, L, i, sel);
    fuzz_merkle_incl_gen(&s, (const uint8_t (*)[FUZZ_MERKLE_HL])leaves, m, i % m,
                         (sel >> 3) ^ sel);
    fuzz_merkle_cons_gen(&s, (const uint8_t (*)[FUZZ_MERKLE_HL])leaves, m, L, sel);
    if (m > 1)
        fuzz_merkle_cons_gen(&s, (const uint8_t (*)[FUZZ_MERKLE_HL])leaves,
                             1 + i % (m - 1), m, (sel >> 5) ^ sel);

    /* Generators refuse what the verifiers refuse. */
    {
        uint8_t proof[MERKLE_MAX_PROOF][FUZZ_MERKLE_HL];
        size_t n = 99;

        s.size = L;
        if (merkle_inclusion_proof(h, L, L, fuzz_merkle_get_fn, &s, proof, &n) !=
                MERKLE_ERR_RANGE ||
            merkle_consistency_proof(h, 0, L, fuzz_merkle_get_fn, &s, proof, &n) !=
                MERKLE_ERR_RANGE ||
            merkle_consistency_proof(h, L, m, fuzz_merkle_get_fn, &s, proof, &n) !=
                (m < L ? MERKLE_ERR_RANGE : MERKLE_OK))
            abort();
    }
}

int
fuzz_merkle_one(const uint8_t *data, size_t size)
{
    uint8_t hdr[FUZZ_MERKLE_HDR];
    uint8_t (*proof)[FUZZ_MERKLE_HL];
    uint64_t a, b;
    size_t n, avail;

    if (!fuzz_merkle_ready) {
        if (merkle_hasher_init(&fuzz_merkle_h) != MERKLE_OK)
            abort();
        fuzz_merkle_ready = 1;
    }
    memset(hdr, 0, sizeof(hdr));
    if (size > 0)
        memcpy(hdr, data, size < sizeof(hdr) ? size : sizeof(hdr));
    a = fuzz_merkle_u64(hdr + 1);
    b = fuzz_merkle_u64(hdr + 9);
    if (hdr[0] & 1) {
        a &= 0x3ff;
        b &= 0x3ff;
    }
    avail = size > FUZZ_MERKLE_HDR ? (size - FUZZ_MERKLE_HDR) / FUZZ_MERKLE_HL : 0;
    n = hdr[17] % 72u;
    if (n > avail)
        n = avail;
    /* A copy so the verifiers get exactly n hashes (ASan sees overreads). */
    proof = malloc(n > 0 ? n * FUZZ_MERKLE_HL : 1);
    if (proof == NULL)
        abort();
    if (n > 0)
        memcpy(proof, data + FUZZ_MERKLE_HDR, n * FUZZ_MERKLE_HL);
    fuzz_merkle_raw(a, b, (const uint8_t (*)[FUZZ_MERKLE_HL])proof, n,
                    hdr + 18, hdr + 50, hdr + 82);
    free(proof);
    fuzz_merkle_tree(hdr[0], a, b, (unsigned)hdr[50] << 8 | hdr[51], hdr + 82);
    return 0;
}

#ifndef HITLQ_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_merkle_one(data, size);
}
#endif
