/*
 * test_interop_reject.c - Go's golang.org/x/mod/sumdb/note and sumdb/tlog
 * (tests/interop/verify.go, tests/lib/interop_go.h) reject tampered
 * audit-log artifacts made from our tree of 1000 AXR1 records
 * (tests/lib/interop_tree.h): a flipped leaf byte, a wrong root, a foreign
 * key, tampered proofs, a fork and a rollback, so the accepting tests
 * (test_interop_log.c) can fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "interop_tree.h"
#include "note.h"
#include "proof.h"
#include "record.h"

/* ---- negative cases: Go must reject ---------------------------------------- */

static uint8_t g_zero_root[32];

static void
test_reject_flipped_leaf(void **state)
{
    uint8_t leaf[RECORD_LEAF_MAX];
    size_t nlen = interop_checkpoint1(1000, interop_note, sizeof interop_note);
    size_t plen =
        interop_receipt(123, 1000, interop_note, nlen, interop_proof, sizeof interop_proof);
    const char *p = interop_put("r.tlog-proof", interop_proof, plen);

    (void)state;
    GO_OK("receipt", interop_vkey1, p,
          interop_put("leaf", interop_leaf[123], interop_leaf_len[123]));
    /* a flipped bit anywhere (past the index field, which is checked
     * separately) must break the inclusion proof */
    static const size_t at[] = { 0, 4, 13, 20, 40, 100, 150, 200, 0 };
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        size_t off = k == sizeof at / sizeof at[0] - 1 ? interop_leaf_len[123] - 1 : at[k];
        memcpy(leaf, interop_leaf[123], interop_leaf_len[123]);
        leaf[off] ^= 0x01;
        GO_REJECTS("inclusion", "receipt", interop_vkey1, p,
                   interop_put("leaf", leaf, interop_leaf_len[123]));
    }
    /* one byte more or less */
    memcpy(leaf, interop_leaf[123], interop_leaf_len[123]);
    leaf[interop_leaf_len[123]] = 0;
    GO_REJECTS("inclusion", "receipt", interop_vkey1, p,
               interop_put("leaf", leaf, interop_leaf_len[123] + 1));
    GO_REJECTS("inclusion", "receipt", interop_vkey1, p,
               interop_put("leaf", leaf, interop_leaf_len[123] - 1));
    /* another record (its AXR1 index differs: caught by the index check) */
    GO_REJECTS("record index 124 != proof index 123", "receipt", interop_vkey1, p,
               interop_put("leaf", interop_leaf[124], interop_leaf_len[124]));
    /* the right leaf with the receipt of its neighbour */
    plen = interop_receipt(124, 1000, interop_note, nlen, interop_proof, sizeof interop_proof);
    memcpy(leaf, interop_leaf[123], interop_leaf_len[123]);
    leaf[12] = 124;                        /* index field now says 124 */
    GO_REJECTS("inclusion", "receipt", interop_vkey1, interop_put("r2", interop_proof, plen),
               interop_put("leaf", leaf, interop_leaf_len[123]));
}

static void
test_reject_wrong_root(void **state)
{
    const struct note_signer *ss[] = { &interop_log1 };
    uint8_t root[32];
    size_t nlen, plen, l1;

    (void)state;
    /* a validly signed checkpoint whose root is not the tree's */
    interop_root_at(1000, root);
    root[31] ^= 0x80;
    nlen = interop_checkpoint(1000, root, INTEROP_ORIGIN, ss, 1, interop_note, sizeof interop_note);
    GO_OK("checkpoint", interop_vkey1, interop_put("cp", interop_note, nlen)); /* signature fine */
    plen = interop_receipt(5, 1000, interop_note, nlen, interop_proof, sizeof interop_proof);
    GO_REJECTS("inclusion", "receipt", interop_vkey1,
               interop_put("r.tlog-proof", interop_proof, plen),
               interop_put("leaf", interop_leaf[5], interop_leaf_len[5]));
    /* the root of a different size */
    interop_root_at(999, root);
    nlen = interop_checkpoint(1000, root, INTEROP_ORIGIN, ss, 1, interop_note, sizeof interop_note);
    plen = interop_receipt(5, 1000, interop_note, nlen, interop_proof, sizeof interop_proof);
    GO_REJECTS("inclusion", "receipt", interop_vkey1,
               interop_put("r.tlog-proof", interop_proof, plen),
               interop_put("leaf", interop_leaf[5], interop_leaf_len[5]));
    /* an all-zero root */
    nlen = interop_checkpoint(1000, g_zero_root, INTEROP_ORIGIN, ss, 1, interop_note,
                              sizeof interop_note);
    plen = interop_receipt(5, 1000, interop_note, nlen, interop_proof, sizeof interop_proof);
    GO_REJECTS("inclusion", "receipt", interop_vkey1,
               interop_put("r.tlog-proof", interop_proof, plen),
               interop_put("leaf", interop_leaf[5], interop_leaf_len[5]));
    /* consistency: the old checkpoint's root is wrong (a fork at size 500) */
    interop_root_at(500, root);
    root[0] ^= 1;
    l1 = interop_checkpoint(500, root, INTEROP_ORIGIN, ss, 1, interop_note, sizeof interop_note);
    nlen = interop_checkpoint1(1000, interop_note2, sizeof interop_note2);
    plen = interop_consistency_text(500, 1000, interop_proof, sizeof interop_proof);
    GO_REJECTS("consistency 500 -> 1000", "consistency", interop_vkey1,
               interop_put("old", interop_note, l1), interop_put("new", interop_note2, nlen),
               interop_put("cproof", interop_proof, plen));
    /* fork at equal sizes: two signed roots for size 1000 */
    interop_root_at(1000, root);
    root[7] ^= 4;
    l1 = interop_checkpoint(1000, root, INTEROP_ORIGIN, ss, 1, interop_note, sizeof interop_note);
    GO_REJECTS("consistency 1000 -> 1000", "consistency", interop_vkey1,
               interop_put("old", interop_note, l1), interop_put("new", interop_note2, nlen),
               interop_put("cproof", "", 0));
    /* rollback: the "new" checkpoint is smaller */
    l1 = interop_checkpoint1(999, interop_note, sizeof interop_note);
    GO_REJECTS("ROLLBACK", "consistency", interop_vkey1, interop_put("old", interop_note2, nlen),
               interop_put("new", interop_note, l1), interop_put("cproof", "", 0));
    /* size 0 must carry SHA-256("") */
    l1 = interop_checkpoint(0, g_zero_root, INTEROP_ORIGIN, ss, 1, interop_note,
                            sizeof interop_note);
    GO_REJECTS("size-0", "consistency", interop_vkey1, interop_put("old", interop_note, l1),
               interop_put("new", interop_note2, nlen), interop_put("cproof", "", 0));
}

static void
test_reject_other_key(void **state)
{
    const struct note_signer *other[] = { &interop_other };
    const struct note_signer *alien[] = { &interop_alien };
    size_t nlen, plen;
    char *p, *nl;

    (void)state;
    /* same name, different key: unknown key to Go -> unverified */
    nlen =
        interop_checkpoint(1000, NULL, INTEROP_ORIGIN, other, 1, interop_note, sizeof interop_note);
    GO_REJECTS("note.Open", "checkpoint", interop_vkey1, interop_put("cp", interop_note, nlen));
    plen = interop_receipt(7, 1000, interop_note, nlen, interop_proof, sizeof interop_proof);
    GO_REJECTS("note.Open", "receipt", interop_vkey1,
               interop_put("r.tlog-proof", interop_proof, plen),
               interop_put("leaf", interop_leaf[7], interop_leaf_len[7]));
    /* another log's key and origin */
    nlen = interop_checkpoint(1000, NULL, "other.example/log", alien, 1, interop_note,
                              sizeof interop_note);
    GO_REJECTS("note.Open", "checkpoint", interop_vkey1, interop_put("cp", interop_note, nlen));
    /* our key, but the origin is not the key name (AUDIT-FORMAT.md §6.4) */
    {
        const struct note_signer *ss[] = { &interop_log1 };
        nlen = interop_checkpoint(1000, NULL, "other.example/log", ss, 1, interop_note,
                                  sizeof interop_note);
        GO_REJECTS("origin", "checkpoint", interop_vkey1, interop_put("cp", interop_note, nlen));
        GO_OK("-origin", "other.example/log", "checkpoint", interop_vkey1,
              interop_put("cp", interop_note, nlen));
    }
    /* a signature by our key moved onto another text: tamper with the
     * signed size 1000 -> 1001 (and with a root byte) */
    nlen = interop_checkpoint1(1000, interop_note, sizeof interop_note);
    p = strstr(interop_note, "\n1000\n");
    assert_non_null(p);
    memcpy(interop_note2, interop_note, nlen);
    interop_note2[(size_t)(p - interop_note) + 4] = '1';
    GO_REJECTS("note.Open", "checkpoint", interop_vkey1, interop_put("cp", interop_note2, nlen));
    memcpy(interop_note2, interop_note, nlen);
    nl = strchr(p + 6, '\n');
    assert_non_null(nl);
    interop_note2[(size_t)(nl - interop_note) - 3] ^= 0x01;    /* a base64 char of the root */
    GO_REJECTS("FAIL", "checkpoint", interop_vkey1, interop_put("cp", interop_note2, nlen));
    /* a flipped bit in the signature */
    memcpy(interop_note2, interop_note, nlen);
    interop_note2[nlen - 10] = interop_note2[nlen - 10] == 'A' ? 'B' : 'A';
    GO_REJECTS("note.Open", "checkpoint", interop_vkey1, interop_put("cp", interop_note2, nlen));
}

static void
test_reject_bad_proofs(void **state)
{
    uint8_t proof[MERKLE_MAX_PROOF][32], extra[32];
    size_t n, nlen, plen;
    const char *leaf = interop_put("leaf", interop_leaf[300], interop_leaf_len[300]);

    (void)state;
    nlen = interop_checkpoint1(1000, interop_note, sizeof interop_note);
    assert_int_equal(
        merkle_inclusion_proof(&interop_hasher, 1000, 300, interop_get_cb, NULL, proof, &n),
        MERKLE_OK);
    assert_true(n >= 2);
    /* a flipped proof hash */
    proof[1][5] ^= 0x20;
    assert_int_equal(tlog_proof_format(300, (const uint8_t (*)[32])proof, n, interop_note, nlen,
                                       interop_proof, sizeof interop_proof, &plen), PROOF_OK);
    GO_REJECTS("inclusion", "receipt", interop_vkey1, interop_put("r", interop_proof, plen), leaf);
    proof[1][5] ^= 0x20;
    /* one hash missing, one hash too many (transparency-dev negatives) */
    assert_int_equal(tlog_proof_format(300, (const uint8_t (*)[32])proof, n - 1, interop_note, nlen,
                                       interop_proof, sizeof interop_proof, &plen), PROOF_OK);
    GO_REJECTS("inclusion", "receipt", interop_vkey1, interop_put("r", interop_proof, plen), leaf);
    interop_sha("extra", extra);
    memcpy(proof[n], extra, 32);
    assert_int_equal(tlog_proof_format(300, (const uint8_t (*)[32])proof, n + 1, interop_note, nlen,
                                       interop_proof, sizeof interop_proof, &plen), PROOF_OK);
    GO_REJECTS("inclusion", "receipt", interop_vkey1, interop_put("r", interop_proof, plen), leaf);
    /* two hashes swapped */
    memcpy(extra, proof[0], 32);
    memcpy(proof[0], proof[1], 32);
    memcpy(proof[1], extra, 32);
    assert_int_equal(tlog_proof_format(300, (const uint8_t (*)[32])proof, n, interop_note, nlen,
                                       interop_proof, sizeof interop_proof, &plen), PROOF_OK);
    GO_REJECTS("inclusion", "receipt", interop_vkey1, interop_put("r", interop_proof, plen), leaf);
    /* sanity: the untampered proof verifies */
    plen = interop_receipt(300, 1000, interop_note, nlen, interop_proof, sizeof interop_proof);
    GO_OK("receipt", interop_vkey1, interop_put("r", interop_proof, plen), leaf);
    /* index beyond the checkpoint */
    nlen = interop_checkpoint1(300, interop_note, sizeof interop_note);
    assert_int_equal(
        merkle_inclusion_proof(&interop_hasher, 1000, 300, interop_get_cb, NULL, proof, &n),
        MERKLE_OK);
    assert_int_equal(tlog_proof_format(300, (const uint8_t (*)[32])proof, n, interop_note, nlen,
                                       interop_proof, sizeof interop_proof, &plen), PROOF_OK);
    GO_REJECTS("not below checkpoint size", "receipt", interop_vkey1,
               interop_put("r", interop_proof, plen), leaf);
    /* malformed tlog-proof texts */
    GO_REJECTS("first line", "receipt", interop_vkey1,
               interop_put_str("r", "c2sp.org/tlog-proof@v2\nindex 0\n\nx\n"), leaf);
    GO_REJECTS("bad index", "receipt", interop_vkey1,
               interop_put_str("r", "c2sp.org/tlog-proof@v1\nindex 0300\n\nx\n"), leaf);
    /* consistency: a proof for other sizes, a truncated proof */
    nlen = interop_checkpoint1(300, interop_note, sizeof interop_note);
    size_t l2 = interop_checkpoint1(1000, interop_note2, sizeof interop_note2);
    plen = interop_consistency_text(301, 1000, interop_proof, sizeof interop_proof);
    GO_REJECTS("consistency 300 -> 1000", "consistency", interop_vkey1,
               interop_put("old", interop_note, nlen), interop_put("new", interop_note2, l2),
               interop_put("cproof", interop_proof, plen));
    plen = interop_consistency_text(300, 1000, interop_proof, sizeof interop_proof);
    GO_REJECTS("consistency 300 -> 1000", "consistency", interop_vkey1,
               interop_put("old", interop_note, nlen), interop_put("new", interop_note2, l2),
               interop_put("cproof", interop_proof, plen - 45));
    GO_OK("consistency", interop_vkey1, interop_put("old", interop_note, nlen),
          interop_put("new", interop_note2, l2), interop_put("cproof", interop_proof, plen));
}

int
main(int argc, char **argv)
{
    interop_set_bdir(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reject_flipped_leaf),
        cmocka_unit_test(test_reject_wrong_root),
        cmocka_unit_test(test_reject_other_key),
        cmocka_unit_test(test_reject_bad_proofs),
    };
    return cmocka_run_group_tests(tests, interop_tree_setup, interop_tree_teardown);
}
