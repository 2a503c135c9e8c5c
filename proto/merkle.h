/*
 * merkle.h - RFC 6962 / RFC 9162 Merkle tree codec for the audit log
 * (proto/AUDIT-FORMAT.md §4): SHA-256 leaf and node hashes, the compact-range tree
 * for O(1) amortised appends, inclusion and consistency proof generation
 * from stored complete-subtree hashes, and proof verification.
 *
 * Pure functions: no I/O, no logging, no global mutable state.  Hashing
 * goes through a caller-owned `struct merkle_hasher` (one per thread); every
 * function that hashes takes one.  Checkpoints, tiles and storage are not
 * here.
 *
 * Return convention: MERKLE_OK (0) or a negative MERKLE_ERR_* code whose
 * meaning is stable (part of the API); merkle_strerror() names it.
 * (The convention of all of proto/: proto/README.md.)
 */
#ifndef HITLQ_MERKLE_H
#define HITLQ_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN   32              /* SHA-256 */

/* Largest tree size accepted anywhere (INT64_MAX, the int64 log index of Go
 * sumdb and Rekor).  It bounds the tree height to 63, which gives every
 * bound below: an inclusion proof has at most 63 hashes, a consistency
 * proof at most 1 + 63 = 64, and the compact range at most 63 roots. */
#define MERKLE_MAX_SIZE   ((uint64_t)INT64_MAX)
#define MERKLE_MAX_PROOF  64              /* hashes in any proof */
#define MERKLE_MAX_LEVELS 64              /* levels 0..63 */

#define MERKLE_OK                  0
#define MERKLE_ERR_RANGE          -1  /* index >= size, size1 > size2, size1 == 0,
                                         size > MERKLE_MAX_SIZE, tree full */
#define MERKLE_ERR_BAD_PROOF_LEN  -2  /* proof has too many or too few hashes */
#define MERKLE_ERR_ROOT_MISMATCH  -3  /* proof is well formed, recomputed root differs */
#define MERKLE_ERR_CRYPTO         -4  /* OpenSSL failed (allocation, fetch, digest) */
#define MERKLE_ERR_CALLBACK       -5  /* a get/store callback returned non-zero */
#define MERKLE_ERR_INVAL          -6  /* NULL argument or bad buffer size */

/* Static text for any MERKLE_* code (never NULL). */
const char *merkle_strerror(int code);

/* SHA-256 with the digest fetched once and one reused EVP_MD_CTX
 * (docs/PERFORMANCE.md §3.2: ~0.15 µs per node, ~3x faster than one-shot EVP_Digest).
 * Not shareable between threads: give each thread its own.  The struct is
 * owned by the caller; init/clear manage the OpenSSL objects inside. */
struct evp_md_st;        /* EVP_MD, forward-declared: no OpenSSL include here */
struct evp_md_ctx_st;    /* EVP_MD_CTX */
struct merkle_hasher {
    struct evp_md_st     *md;    /* owned: EVP_MD_fetch(NULL, "SHA256", NULL) */
    struct evp_md_ctx_st *ctx;   /* owned, reused for every hash */
};

/* Returns MERKLE_OK or MERKLE_ERR_CRYPTO (then nothing needs clearing,
 * though calling merkle_hasher_clear is harmless). */
int  merkle_hasher_init(struct merkle_hasher *h) __attribute__((warn_unused_result));
/* Frees the OpenSSL objects; safe on a zeroed or already cleared hasher. */
void merkle_hasher_clear(struct merkle_hasher *h);

/* out = SHA-256("") : the root of the empty tree. */
int merkle_empty_root(struct merkle_hasher *h, uint8_t out[MERKLE_HASH_LEN])
    __attribute__((warn_unused_result));
/* out = SHA-256(0x00 || data[0..len)).  data may be NULL when len == 0. */
int merkle_leaf_hash(struct merkle_hasher *h, const void *data, size_t len,
                     uint8_t out[MERKLE_HASH_LEN]) __attribute__((warn_unused_result));
/* out = SHA-256(0x01 || l || r).  out may alias l or r. */
int merkle_node_hash(struct merkle_hasher *h, const uint8_t l[MERKLE_HASH_LEN],
                     const uint8_t r[MERKLE_HASH_LEN], uint8_t out[MERKLE_HASH_LEN])
    __attribute__((warn_unused_result));

/* MTH of n leaf hashes (RFC 9162 §2.1.1), recursively; for tests and small
 * trees.  leaves may be NULL when n == 0 (then out = SHA-256("")). */
int merkle_root_compute(struct merkle_hasher *h, const uint8_t (*leaves)[MERKLE_HASH_LEN],
                        uint64_t n, uint8_t out[MERKLE_HASH_LEN])
    __attribute__((warn_unused_result));

/* Complete subtree addressing used by the callbacks: (level, index) is the
 * perfect subtree of 2^level leaves covering leaves
 * [index << level, (index + 1) << level); level 0 holds the leaf hashes. */

/* Called by merkle_tree_append for each complete subtree the append
 * creates, level 0 (the leaf hash itself) first.  `hash` is borrowed for
 * the call only.  Return 0, or non-zero to make the append fail. */
typedef int (*merkle_store_fn)(void *arg, unsigned level, uint64_t index,
                               const uint8_t hash[MERKLE_HASH_LEN]);
/* Fills out with the hash stored for (level, index); return 0, or non-zero
 * if it is not available (the caller then gets MERKLE_ERR_CALLBACK). */
typedef int (*merkle_get_fn)(void *arg, unsigned level, uint64_t index,
                             uint8_t out[MERKLE_HASH_LEN]);

/* Incremental tree: the compact range [0, size), i.e. the roots of the
 * perfect subtrees on the right edge, largest (leftmost) first.  Plain
 * value, no heap: copy it freely; state is 64 hashes at most. */
struct merkle_tree {
    uint64_t size;                                     /* leaves so far */
    unsigned nroots;                                   /* == popcount(size) */
    uint8_t  roots[MERKLE_MAX_LEVELS][MERKLE_HASH_LEN];
};

/* Empty tree. */
void merkle_tree_init(struct merkle_tree *t);

/* Rebuilds the compact range of a tree of `size` leaves from stored nodes
 * (one get per set bit of size), e.g. after a restart. */
int merkle_tree_restore(struct merkle_tree *t, uint64_t size, merkle_get_fn get,
                        void *arg) __attribute__((warn_unused_result));

/* Appends one leaf hash.  If store is not NULL it is called, in order of
 * increasing level, for every complete subtree this append creates:
 * (0, size) for the leaf, then (1, size >> 1) ... while the merged subtree
 * is complete.  Storing all of them is exactly what the proof functions
 * below need.  On any error (MERKLE_ERR_RANGE when full, CRYPTO, CALLBACK)
 * the tree is left unchanged; nodes already stored are valid and a retry
 * stores the same values again. */
int merkle_tree_append(struct merkle_tree *t, struct merkle_hasher *h,
                       const uint8_t leaf_hash[MERKLE_HASH_LEN],
                       merkle_store_fn store, void *arg) __attribute__((warn_unused_result));

/* out = MTH of the current tree (SHA-256("") when empty). */
int merkle_tree_root(const struct merkle_tree *t, struct merkle_hasher *h,
                     uint8_t out[MERKLE_HASH_LEN]) __attribute__((warn_unused_result));

/* out = MTH of the first `size` leaves, from stored nodes only (the tree
 * may have grown since): at most ~log2(size) gets and node hashes. */
int merkle_root_at(struct merkle_hasher *h, uint64_t size, merkle_get_fn get,
                   void *arg, uint8_t out[MERKLE_HASH_LEN]) __attribute__((warn_unused_result));

/* Inclusion proof (RFC 9162 §2.1.3.1) of leaf `index` in the tree of `size`
 * leaves, from stored nodes; hashes of incomplete right-edge subtrees are
 * computed on the fly.  out must hold MERKLE_MAX_PROOF hashes; *n gets the
 * count (0 for size 1).  MERKLE_ERR_RANGE if index >= size or size is out
 * of range. */
int merkle_inclusion_proof(struct merkle_hasher *h, uint64_t size, uint64_t index,
                           merkle_get_fn get, void *arg,
                           uint8_t out[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], size_t *n)
    __attribute__((warn_unused_result));

/* Consistency proof (RFC 9162 §2.1.4.1) from size1 to size2, from stored
 * nodes.  Empty when size1 == size2.  size1 == 0 is MERKLE_ERR_RANGE (the
 * empty tree is consistent with everything; callers special-case it, as
 * the verifier does), as is size1 > size2. */
int merkle_consistency_proof(struct merkle_hasher *h, uint64_t size1, uint64_t size2,
                             merkle_get_fn get, void *arg,
                             uint8_t out[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], size_t *n)
    __attribute__((warn_unused_result));

/* RFC 9162 §2.1.3.2.  Returns MERKLE_OK when `proof` (n hashes) proves that
 * leaf_hash is leaf `index` of the tree of `size` leaves whose root is
 * `root`.  Errors: RANGE (index >= size, size too large), BAD_PROOF_LEN,
 * ROOT_MISMATCH, CRYPTO.  Every proof hash is consumed. */
int merkle_verify_inclusion(struct merkle_hasher *h, const uint8_t leaf_hash[MERKLE_HASH_LEN],
                            uint64_t index, uint64_t size,
                            const uint8_t (*proof)[MERKLE_HASH_LEN], size_t n,
                            const uint8_t root[MERKLE_HASH_LEN])
    __attribute__((warn_unused_result));

/* RFC 9162 §2.1.4.2 (with size1 == size2 requiring an empty proof and equal
 * roots).  Errors: RANGE (size1 == 0, size1 > size2, size2 too large),
 * BAD_PROOF_LEN, ROOT_MISMATCH, CRYPTO.  For size1 == 0 the caller checks
 * root1 == SHA-256("") itself: everything is consistent with it. */
int merkle_verify_consistency(struct merkle_hasher *h, uint64_t size1, uint64_t size2,
                              const uint8_t (*proof)[MERKLE_HASH_LEN], size_t n,
                              const uint8_t root1[MERKLE_HASH_LEN],
                              const uint8_t root2[MERKLE_HASH_LEN])
    __attribute__((warn_unused_result));

#endif /* HITLQ_MERKLE_H */
