/*
 * interop_tree.h - our side of the audit-log interop tests (tests/interop/
 * test_interop_log.c, test_interop_reject.c): a tree of 1000 real AXR1
 * records (GENESIS, then model decisions, escalations and human decisions
 * referring back to them) made by our C code (proto/record.c, merkle.c,
 * note.c, checkpoint.c, proof.c), the log's signers, and signed
 * checkpoints, tlog-proof@v1 receipts and consistency proofs over it.
 * Every artifact helper fails the running test (cmocka) on error.
 */
#ifndef HITLQ_INTEROP_TREE_H
#define HITLQ_INTEROP_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "interop_go.h"
#include "merkle.h"
#include "note.h"

#define INTEROP_ORIGIN  "interop.hitlq.example/audit/test-1"
#define INTEROP_NLEAVES 1000u

/* The tree's hasher, its encoded records (leaves) and their lengths. */
extern struct merkle_hasher interop_hasher;
extern uint8_t *interop_leaf[INTEROP_NLEAVES];
extern size_t interop_leaf_len[INTEROP_NLEAVES];
/* The log's keys (INTEROP_ORIGIN: 1 and 2, a rotation), an attacker's key
 * with the same name, and another log's key; vkeys of keys 1 and 2. */
extern struct note_signer interop_log1, interop_log2, interop_other, interop_alien;
extern char interop_vkey1[NOTE_VKEY_MAX + 1], interop_vkey2[NOTE_VKEY_MAX + 1];
/* Scratch buffers for notes and proofs. */
extern char interop_note[4096], interop_note2[4096], interop_proof[8192];

/* cmocka group setup: interop_go_setup, then the tree and the signers;
 * -1 on failure. */
int interop_tree_setup(void **state);
/* cmocka group teardown: frees them, then interop_go_teardown. */
int interop_tree_teardown(void **state);

/* merkle_get_fn over the tree's stored nodes (arg unused). */
int interop_get_cb(void *arg, unsigned level, uint64_t index, uint8_t out[32]);
/* SHA-256 of the string s. */
void interop_sha(const char *s, uint8_t out[32]);
/* The tree's root at size (the empty root at 0). */
void interop_root_at(uint64_t size, uint8_t out[32]);
/* Signed checkpoint of `size` (root: the tree's, or `root` if not NULL)
 * for origin, signed by the nss signers ss, into out; returns its length. */
size_t interop_checkpoint(uint64_t size, const uint8_t *root, const char *origin,
                          const struct note_signer *const *ss, size_t nss, char *out,
                          size_t cap);
/* The same for INTEROP_ORIGIN signed by interop_log1. */
size_t interop_checkpoint1(uint64_t size, char *out, size_t cap);
/* tlog-proof@v1 text for leaf `index` in the checkpoint note[0..nlen) of
 * `size`; returns its length. */
size_t interop_receipt(uint64_t index, uint64_t size, const char *note, size_t nlen,
                       char *out, size_t cap);
/* Consistency proof size1 -> size2 as base64 lines (NUL-terminated);
 * returns its length. */
size_t interop_consistency_text(uint64_t size1, uint64_t size2, char *out, size_t cap);

#endif
