/*
 * merkle.c - RFC 6962 / 9162 Merkle tree (proto/AUDIT-FORMAT.md §4): SHA-256 leaf and
 * node hashes through a reused OpenSSL context, the compact-range tree,
 * inclusion/consistency proofs built from stored complete subtrees, and the
 * RFC 9162 §2.1.3.2 / §2.1.4.2 verifiers transcribed step by step.
 * No I/O, no logging, no globals; checkpoints and storage live elsewhere.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "merkle.h"

#define MERKLE_PREFIX_NONE  (-1)
#define MERKLE_PREFIX_LEAF  0x00
#define MERKLE_PREFIX_NODE  0x01

/* A leaf range [lo, hi) of the tree. */
struct merkle_span {
    uint64_t lo, hi;
};

const char *
merkle_strerror(int code)
{
    switch (code) {
    case MERKLE_OK:                return "ok";
    case MERKLE_ERR_RANGE:         return "index or tree size out of range";
    case MERKLE_ERR_BAD_PROOF_LEN: return "proof has the wrong number of hashes";
    case MERKLE_ERR_ROOT_MISMATCH: return "proof does not lead to the expected root";
    case MERKLE_ERR_CRYPTO:        return "SHA-256 (OpenSSL) failure";
    case MERKLE_ERR_CALLBACK:      return "node store or lookup failed";
    case MERKLE_ERR_INVAL:         return "invalid argument";
    default:                       return "unknown merkle error";
    }
}

int
merkle_hasher_init(struct merkle_hasher *h)
{
    if (h == NULL)
        return MERKLE_ERR_INVAL;
    h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    h->ctx = EVP_MD_CTX_new();
    if (h->md == NULL || h->ctx == NULL) {
        merkle_hasher_clear(h);
        return MERKLE_ERR_CRYPTO;
    }
    return MERKLE_OK;
}

void
merkle_hasher_clear(struct merkle_hasher *h)
{
    if (h == NULL)
        return;
    EVP_MD_CTX_free(h->ctx);
    EVP_MD_free(h->md);
    h->ctx = NULL;
    h->md = NULL;
}

/* out = SHA-256([prefix] || a || b); prefix < 0 means none.  out may alias
 * a or b: it is written only by the final step. */
static int
merkle_digest(struct merkle_hasher *h, int prefix, const void *a, size_t alen,
              const void *b, size_t blen, uint8_t out[MERKLE_HASH_LEN])
{
    EVP_MD_CTX *ctx;
    uint8_t p = (uint8_t)prefix;
    unsigned int outlen = 0;

    if (h == NULL || h->ctx == NULL || out == NULL)
        return MERKLE_ERR_INVAL;
    ctx = h->ctx;
    if (EVP_DigestInit_ex2(ctx, h->md, NULL) != 1)
        return MERKLE_ERR_CRYPTO;
    if (prefix >= 0 && EVP_DigestUpdate(ctx, &p, 1) != 1)
        return MERKLE_ERR_CRYPTO;
    if (alen > 0 && EVP_DigestUpdate(ctx, a, alen) != 1)
        return MERKLE_ERR_CRYPTO;
    if (blen > 0 && EVP_DigestUpdate(ctx, b, blen) != 1)
        return MERKLE_ERR_CRYPTO;
    if (EVP_DigestFinal_ex(ctx, out, &outlen) != 1 || outlen != MERKLE_HASH_LEN)
        return MERKLE_ERR_CRYPTO;
    return MERKLE_OK;
}

int
merkle_empty_root(struct merkle_hasher *h, uint8_t out[MERKLE_HASH_LEN])
{
    return merkle_digest(h, MERKLE_PREFIX_NONE, NULL, 0, NULL, 0, out);
}

int
merkle_leaf_hash(struct merkle_hasher *h, const void *data, size_t len,
                 uint8_t out[MERKLE_HASH_LEN])
{
    if (data == NULL && len > 0)
        return MERKLE_ERR_INVAL;
    return merkle_digest(h, MERKLE_PREFIX_LEAF, data, len, NULL, 0, out);
}

int
merkle_node_hash(struct merkle_hasher *h, const uint8_t l[MERKLE_HASH_LEN],
                 const uint8_t r[MERKLE_HASH_LEN], uint8_t out[MERKLE_HASH_LEN])
{
    if (l == NULL || r == NULL)
        return MERKLE_ERR_INVAL;
    return merkle_digest(h, MERKLE_PREFIX_NODE, l, MERKLE_HASH_LEN, r, MERKLE_HASH_LEN, out);
}

/* Largest power of two strictly below n (n >= 2): RFC 9162's split k. */
static uint64_t
merkle_split(uint64_t n)
{
    return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

static int
merkle_mth(struct merkle_hasher *h, const uint8_t (*leaves)[MERKLE_HASH_LEN],
           uint64_t n, uint8_t out[MERKLE_HASH_LEN])
{
    uint8_t l[MERKLE_HASH_LEN], r[MERKLE_HASH_LEN];
    uint64_t k;
    int rc;

    if (n == 1) {
        memcpy(out, leaves[0], MERKLE_HASH_LEN);
        return MERKLE_OK;
    }
    k = merkle_split(n);
    if ((rc = merkle_mth(h, leaves, k, l)) != MERKLE_OK ||
        (rc = merkle_mth(h, leaves + k, n - k, r)) != MERKLE_OK)
        return rc;
    return merkle_node_hash(h, l, r, out);
}

int
merkle_root_compute(struct merkle_hasher *h, const uint8_t (*leaves)[MERKLE_HASH_LEN],
                    uint64_t n, uint8_t out[MERKLE_HASH_LEN])
{
    if (n > MERKLE_MAX_SIZE)
        return MERKLE_ERR_RANGE;
    if (n == 0)
        return merkle_empty_root(h, out);
    if (leaves == NULL || out == NULL)
        return MERKLE_ERR_INVAL;
    return merkle_mth(h, leaves, n, out);
}

/* ---- incremental tree ------------------------------------------------- */

void
merkle_tree_init(struct merkle_tree *t)
{
    memset(t, 0, sizeof(*t));
}

int
merkle_tree_restore(struct merkle_tree *t, uint64_t size, merkle_get_fn get, void *arg)
{
    struct merkle_tree nt;

    if (t == NULL || (get == NULL && size > 0))
        return MERKLE_ERR_INVAL;
    if (size > MERKLE_MAX_SIZE)
        return MERKLE_ERR_RANGE;
    merkle_tree_init(&nt);
    nt.size = size;
    for (int b = 63; b >= 0; b--) {
        if (!((size >> b) & 1))
            continue;
        /* The perfect subtree of 2^b leaves that ends at this bit. */
        if (get(arg, (unsigned)b, (size >> b) - 1, nt.roots[nt.nroots]) != 0)
            return MERKLE_ERR_CALLBACK;
        nt.nroots++;
    }
    *t = nt;
    return MERKLE_OK;
}

int
merkle_tree_append(struct merkle_tree *t, struct merkle_hasher *h,
                   const uint8_t leaf_hash[MERKLE_HASH_LEN],
                   merkle_store_fn store, void *arg)
{
    uint8_t cur[MERKLE_HASH_LEN];
    unsigned sp, level = 0;
    uint64_t idx;
    int rc;

    if (t == NULL || h == NULL || leaf_hash == NULL)
        return MERKLE_ERR_INVAL;
    if (t->size >= MERKLE_MAX_SIZE)
        return MERKLE_ERR_RANGE;
    memcpy(cur, leaf_hash, MERKLE_HASH_LEN);
    sp = t->nroots;
    idx = t->size;
    /* Merge with the right-edge roots while the new subtree is a right
     * child; t->roots is only read here, so a failure leaves t unchanged. */
    for (;;) {
        if (store != NULL && store(arg, level, idx, cur) != 0)
            return MERKLE_ERR_CALLBACK;
        if (!(idx & 1))
            break;
        if ((rc = merkle_node_hash(h, t->roots[--sp], cur, cur)) != MERKLE_OK)
            return rc;
        level++;
        idx >>= 1;
    }
    memcpy(t->roots[sp], cur, MERKLE_HASH_LEN);
    t->nroots = sp + 1;
    t->size++;
    return MERKLE_OK;
}

int
merkle_tree_root(const struct merkle_tree *t, struct merkle_hasher *h,
                 uint8_t out[MERKLE_HASH_LEN])
{
    uint8_t acc[MERKLE_HASH_LEN];
    int rc;

    if (t == NULL || out == NULL)
        return MERKLE_ERR_INVAL;
    if (t->nroots == 0)
        return merkle_empty_root(h, out);
    memcpy(acc, t->roots[t->nroots - 1], MERKLE_HASH_LEN);
    for (int k = (int)t->nroots - 2; k >= 0; k--)
        if ((rc = merkle_node_hash(h, t->roots[k], acc, acc)) != MERKLE_OK)
            return rc;
    memcpy(out, acc, MERKLE_HASH_LEN);
    return MERKLE_OK;
}

/* ---- proofs from stored nodes ----------------------------------------- */

/* MTH of leaves [lo, hi) from stored perfect subtrees.  Valid for the spans
 * RFC 9162's recursion produces: lo is a multiple of the largest power of
 * two <= hi - lo, so the span splits into aligned perfect subtrees, one per
 * set bit of hi - lo; they are folded from the right (smallest) end. */
static int
merkle_span_hash(struct merkle_hasher *h, struct merkle_span s, merkle_get_fn get,
                 void *arg, uint8_t out[MERKLE_HASH_LEN])
{
    uint8_t part[MERKLE_HASH_LEN], acc[MERKLE_HASH_LEN];
    uint64_t m = s.hi - s.lo, end = s.hi;
    int have = 0, rc;

    if (s.hi <= s.lo)
        return MERKLE_ERR_RANGE;
    if (s.lo & (((uint64_t)1 << (63 - __builtin_clzll(m))) - 1))
        return MERKLE_ERR_RANGE;          /* not a span of the recursion */
    for (unsigned b = 0; b < 64; b++) {
        if (!((m >> b) & 1))
            continue;
        end -= (uint64_t)1 << b;
        if (get(arg, b, end >> b, have ? part : acc) != 0)
            return MERKLE_ERR_CALLBACK;
        if (have && (rc = merkle_node_hash(h, part, acc, acc)) != MERKLE_OK)
            return rc;
        have = 1;
    }
    memcpy(out, acc, MERKLE_HASH_LEN);
    return MERKLE_OK;
}

int
merkle_root_at(struct merkle_hasher *h, uint64_t size, merkle_get_fn get,
               void *arg, uint8_t out[MERKLE_HASH_LEN])
{
    if (size > MERKLE_MAX_SIZE)
        return MERKLE_ERR_RANGE;
    if (size == 0)
        return merkle_empty_root(h, out);
    if (get == NULL || out == NULL)
        return MERKLE_ERR_INVAL;
    return merkle_span_hash(h, (struct merkle_span){ 0, size }, get, arg, out);
}

/* Appends the hashes of sp[cnt-1] down to sp[0] to out[*n...]. */
static int
merkle_emit_reversed(struct merkle_hasher *h, const struct merkle_span *sp, size_t cnt,
                     merkle_get_fn get, void *arg,
                     uint8_t out[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], size_t *n)
{
    int rc;

    while (cnt > 0) {
        if (*n >= MERKLE_MAX_PROOF)
            return MERKLE_ERR_RANGE;      /* unreachable for size <= MERKLE_MAX_SIZE */
        if ((rc = merkle_span_hash(h, sp[--cnt], get, arg, out[*n])) != MERKLE_OK)
            return rc;
        (*n)++;
    }
    return MERKLE_OK;
}

int
merkle_inclusion_proof(struct merkle_hasher *h, uint64_t size, uint64_t index,
                       merkle_get_fn get, void *arg,
                       uint8_t out[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], size_t *n)
{
    struct merkle_span sib[MERKLE_MAX_PROOF];
    uint64_t lo = 0, hi = size, k;
    size_t cnt = 0;

    if (get == NULL || out == NULL || n == NULL)
        return MERKLE_ERR_INVAL;
    *n = 0;
    if (size > MERKLE_MAX_SIZE || index >= size)
        return MERKLE_ERR_RANGE;
    /* Walk down from the root; siblings come out root-first. */
    while (hi - lo > 1) {
        k = merkle_split(hi - lo);
        if (index < lo + k) {
            sib[cnt++] = (struct merkle_span){ lo + k, hi };
            hi = lo + k;
        } else {
            sib[cnt++] = (struct merkle_span){ lo, lo + k };
            lo += k;
        }
    }
    return merkle_emit_reversed(h, sib, cnt, get, arg, out, n);
}

int
merkle_consistency_proof(struct merkle_hasher *h, uint64_t size1, uint64_t size2,
                         merkle_get_fn get, void *arg,
                         uint8_t out[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], size_t *n)
{
    struct merkle_span sib[MERKLE_MAX_PROOF];
    uint64_t lo = 0, hi = size2, m = size1, k;
    size_t cnt = 0;
    int whole = 1, rc;   /* RFC 9162's b: still on the path of the old root */

    if (get == NULL || out == NULL || n == NULL)
        return MERKLE_ERR_INVAL;
    *n = 0;
    if (size2 > MERKLE_MAX_SIZE || size1 == 0 || size1 > size2)
        return MERKLE_ERR_RANGE;
    /* SUBPROOF(m, D[lo:hi], whole), unrolled; pushes are root-first. */
    while (m != hi - lo) {
        k = merkle_split(hi - lo);
        if (m <= k) {
            sib[cnt++] = (struct merkle_span){ lo + k, hi };
            hi = lo + k;
        } else {
            sib[cnt++] = (struct merkle_span){ lo, lo + k };
            lo += k;
            m -= k;
            whole = 0;
        }
    }
    if (!whole) {
        if ((rc = merkle_span_hash(h, (struct merkle_span){ lo, hi }, get, arg, out[0])) != MERKLE_OK)
            return rc;
        *n = 1;
    }
    return merkle_emit_reversed(h, sib, cnt, get, arg, out, n);
}

/* ---- verification (RFC 9162 §2.1.3.2, §2.1.4.2) ------------------------ */

/* Right-shifts fn and sn together while fn is even and non-zero. */
static void
merkle_shift_even(uint64_t *fn, uint64_t *sn)
{
    while (*fn != 0 && !(*fn & 1)) {
        *fn >>= 1;
        *sn >>= 1;
    }
}

static int
merkle_equal(const uint8_t a[MERKLE_HASH_LEN], const uint8_t b[MERKLE_HASH_LEN])
{
    return CRYPTO_memcmp(a, b, MERKLE_HASH_LEN) == 0;
}

int
merkle_verify_inclusion(struct merkle_hasher *h, const uint8_t leaf_hash[MERKLE_HASH_LEN],
                        uint64_t index, uint64_t size,
                        const uint8_t (*proof)[MERKLE_HASH_LEN], size_t n,
                        const uint8_t root[MERKLE_HASH_LEN])
{
    uint8_t r[MERKLE_HASH_LEN];
    uint64_t fn = index, sn;
    int rc;

    if (leaf_hash == NULL || root == NULL || (proof == NULL && n > 0))
        return MERKLE_ERR_INVAL;
    if (size > MERKLE_MAX_SIZE || index >= size)
        return MERKLE_ERR_RANGE;
    if (n > MERKLE_MAX_PROOF)
        return MERKLE_ERR_BAD_PROOF_LEN;
    sn = size - 1;
    memcpy(r, leaf_hash, MERKLE_HASH_LEN);
    for (size_t i = 0; i < n; i++) {
        if (sn == 0)
            return MERKLE_ERR_BAD_PROOF_LEN;      /* trailing hashes */
        if ((fn & 1) || fn == sn) {
            rc = merkle_node_hash(h, proof[i], r, r);
            merkle_shift_even(&fn, &sn);
        } else {
            rc = merkle_node_hash(h, r, proof[i], r);
        }
        if (rc != MERKLE_OK)
            return rc;
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return MERKLE_ERR_BAD_PROOF_LEN;          /* missing hashes */
    return merkle_equal(r, root) ? MERKLE_OK : MERKLE_ERR_ROOT_MISMATCH;
}

int
merkle_verify_consistency(struct merkle_hasher *h, uint64_t size1, uint64_t size2,
                          const uint8_t (*proof)[MERKLE_HASH_LEN], size_t n,
                          const uint8_t root1[MERKLE_HASH_LEN],
                          const uint8_t root2[MERKLE_HASH_LEN])
{
    uint8_t fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
    uint64_t fn, sn;
    size_t i = 0;
    int rc;

    if (root1 == NULL || root2 == NULL || (proof == NULL && n > 0))
        return MERKLE_ERR_INVAL;
    if (size1 == 0 || size1 > size2 || size2 > MERKLE_MAX_SIZE)
        return MERKLE_ERR_RANGE;
    if (n > MERKLE_MAX_PROOF)
        return MERKLE_ERR_BAD_PROOF_LEN;
    if (size1 == size2) {
        if (n != 0)
            return MERKLE_ERR_BAD_PROOF_LEN;
        return merkle_equal(root1, root2) ? MERKLE_OK : MERKLE_ERR_ROOT_MISMATCH;
    }
    if (n == 0)
        return MERKLE_ERR_BAD_PROOF_LEN;
    /* A power-of-two size1 is its own subtree: root1 is the implicit first
     * element; otherwise proof[0] is. */
    memcpy(fr, (size1 & (size1 - 1)) == 0 ? root1 : proof[i++], MERKLE_HASH_LEN);
    memcpy(sr, fr, MERKLE_HASH_LEN);
    fn = size1 - 1;
    sn = size2 - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; i < n; i++) {
        if (sn == 0)
            return MERKLE_ERR_BAD_PROOF_LEN;      /* trailing hashes */
        if ((fn & 1) || fn == sn) {
            if ((rc = merkle_node_hash(h, proof[i], fr, fr)) != MERKLE_OK)
                return rc;
            rc = merkle_node_hash(h, proof[i], sr, sr);
            merkle_shift_even(&fn, &sn);
        } else {
            rc = merkle_node_hash(h, sr, proof[i], sr);
        }
        if (rc != MERKLE_OK)
            return rc;
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return MERKLE_ERR_BAD_PROOF_LEN;          /* missing hashes */
    return merkle_equal(fr, root1) && merkle_equal(sr, root2) ? MERKLE_OK
                                                              : MERKLE_ERR_ROOT_MISMATCH;
}
