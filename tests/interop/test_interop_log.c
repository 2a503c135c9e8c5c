/*
 * test_interop_log.c - an independent implementation accepts our audit-log
 * artifacts (docs/RELIABILITY.md §4.3 item 6, proto/AUDIT-FORMAT.md §11 and §13):
 * checkpoints, tlog-proof@v1 receipts and consistency proofs made by our C
 * code over a tree of 1000 real AXR1 records (tests/lib/interop_tree.h)
 * are verified by tests/interop/verify.go (tests/lib/interop_go.h), at
 * every interesting size and index, dual-signed across a key rotation, and
 * on the specification's vectors.  Reverse direction: notes signed by Go
 * verify with our note_open, byte for byte.
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

#include <unistd.h>

#include "interop_tree.h"
#include "note.h"
#include "proof.h"

#define DASH      "\xe2\x80\x94"

/* ---- positive cases -------------------------------------------------------- */

static const uint64_t SIZES[] = { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 255, 256, 257,
                                  511, 512, 513, 999, 1000 };
#define NSIZES (sizeof SIZES / sizeof SIZES[0])

static void
test_checkpoints_accepted(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSIZES; i++) {
        size_t len = interop_checkpoint1(SIZES[i], interop_note, sizeof interop_note);
        GO_OK("checkpoint", interop_vkey1, interop_put("cp", interop_note, len));
        char want[64];
        snprintf(want, sizeof want, " size=%llu ", (unsigned long long)SIZES[i]);
        assert_non_null(strstr(interop_out, want));
    }
    /* the empty tree: root SHA-256("") */
    size_t len = interop_checkpoint1(0, interop_note, sizeof interop_note);
    GO_OK("checkpoint", interop_vkey1, interop_put("cp0", interop_note, len));
    assert_non_null(strstr(interop_out, "root=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
}

static void
test_receipts_accepted(void **state)
{
    static const uint64_t idx[] = { 0, 1, 2, 3, 7, 8, 100, 254, 255, 256, 257, 500,
                                    511, 512, 767, 998, 999 };
    size_t ok = 0;

    (void)state;
    for (size_t s = 0; s < NSIZES; s++) {
        size_t nlen = interop_checkpoint1(SIZES[s], interop_note, sizeof interop_note);
        for (size_t k = 0; k < sizeof idx / sizeof idx[0]; k++) {
            uint64_t i = idx[k];
            if (i >= SIZES[s])
                continue;
            /* at most 3 indices per small size, all at the big ones */
            if (SIZES[s] < 256 && k > 3 && i != SIZES[s] - 1)
                continue;
            size_t plen = interop_receipt(i, SIZES[s], interop_note, nlen, interop_proof,
                                          sizeof interop_proof);
            GO_OK("receipt", interop_vkey1, interop_put("r.tlog-proof", interop_proof, plen),
                  interop_put("leaf", interop_leaf[i], interop_leaf_len[i]));
            ok++;
        }
    }
    /* the last leaf of every size (right edge: incomplete subtrees) */
    for (size_t s = 0; s < NSIZES; s++) {
        uint64_t i = SIZES[s] - 1;
        size_t nlen = interop_checkpoint1(SIZES[s], interop_note, sizeof interop_note);
        size_t plen =
            interop_receipt(i, SIZES[s], interop_note, nlen, interop_proof, sizeof interop_proof);
        GO_OK("receipt", interop_vkey1, interop_put("r.tlog-proof", interop_proof, plen),
              interop_put("leaf", interop_leaf[i], interop_leaf_len[i]));
        ok++;
    }
    print_message("Go verified %zu receipts\n", ok);
}

static void
test_consistency_accepted(void **state)
{
    static const uint64_t pairs[][2] = {
        { 1, 1 }, { 1, 2 }, { 1, 1000 }, { 2, 3 }, { 3, 7 }, { 7, 8 }, { 8, 9 },
        { 8, 1000 }, { 15, 17 }, { 255, 256 }, { 255, 257 }, { 256, 1000 },
        { 257, 999 }, { 500, 700 }, { 511, 513 }, { 999, 1000 }, { 1000, 1000 },
        { 0, 5 }, { 0, 1000 },
    };

    (void)state;
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        size_t l1 = interop_checkpoint1(pairs[k][0], interop_note, sizeof interop_note);
        size_t l2 = interop_checkpoint1(pairs[k][1], interop_note2, sizeof interop_note2);
        size_t pl =
            interop_consistency_text(pairs[k][0], pairs[k][1], interop_proof, sizeof interop_proof);
        GO_OK("consistency", interop_vkey1, interop_put("old", interop_note, l1),
              interop_put("new", interop_note2, l2), interop_put("cproof", interop_proof, pl));
    }
}

/* Rotation (AUDIT-FORMAT.md §7): checkpoints dual-signed by the old and the
 * new key verify with either key alone and with both required. */
static void
test_dual_signed(void **state)
{
    const struct note_signer *both[] = { &interop_log1, &interop_log2 };
    const struct note_signer *new_only[] = { &interop_log2 };
    char keys[2 * NOTE_VKEY_MAX + 8], arg[600];
    size_t len;

    (void)state;
    snprintf(keys, sizeof keys, "%s\n%s\n", interop_vkey1, interop_vkey2);
    snprintf(arg, sizeof arg, "@%s", interop_put_str("vkeys", keys));
    len =
        interop_checkpoint(1000, NULL, INTEROP_ORIGIN, both, 2, interop_note, sizeof interop_note);
    GO_OK("checkpoint", arg, interop_put("cp", interop_note, len));
    GO_OK("checkpoint", interop_vkey1, interop_put("cp", interop_note, len));
    GO_OK("checkpoint", interop_vkey2, interop_put("cp", interop_note, len));
    size_t plen = interop_receipt(42, 1000, interop_note, len, interop_proof, sizeof interop_proof);
    GO_OK("receipt", arg, interop_put("r.tlog-proof", interop_proof, plen),
          interop_put("leaf", interop_leaf[42], interop_leaf_len[42]));
    /* signed by the new key only: both required -> rejected */
    len = interop_checkpoint(1000, NULL, INTEROP_ORIGIN, new_only, 1, interop_note,
                             sizeof interop_note);
    GO_OK("checkpoint", interop_vkey2, interop_put("cp", interop_note, len));
    snprintf(arg, sizeof arg, "@%s", interop_put_str("vkeys", keys));
    GO_REJECTS("no valid signature by " INTEROP_ORIGIN, "checkpoint", arg,
               interop_put("cp", interop_note, len));
}

/* The vectors of proto/AUDIT-FORMAT.md §13. */
static const char spec_vkey[] =
    "anchors.example/audit/test-1+06f1c421+AfoXO5W7bOtilrFA1jtI/J4rXEkTY2ulpJyU6qNM9iM1";
static const char spec_cp8[] =
    "anchors.example/audit/test-1\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n"
    DASH " anchors.example/audit/test-1 BvHEIa/G1eOJC/uojI2hKV65dezu3+ayHwPQHbanqNzuGt7g6dGJ0cyuz0bY91OVZqIYpaAfSiUEwMgcj6NdzXwU3Qo=\n"
    DASH " witness.anchors.example/w1 2nd+QAAAAABlU/EAipxJnwttH4gEAnPHAYAyxn3C9zwnbgUPrWcxFc8iApKt3NVVSv8YZ9XAC/S7yX2px+pEtUxq9p3zabi8H8vZBQ==\n";
static const char spec_proof0_head[] =
    "c2sp.org/tlog-proof@v1\nindex 0\n"
    "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=\n"
    "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=\n"
    "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=\n\n";
static const char spec_cp1[] =
    "anchors.example/audit/test-1\n1\nZAdVkuGHI4cFijfCSTlOp64C0Yspf8ewu+7YwWi732c=\n\n"
    DASH " anchors.example/audit/test-1 BvHEIaGAJQ1u3xuw9QyyedyJU0uCohZm7Q8lFWKBaWOfX4AaYBYufbrLHkPzAVkQO3OGZPmVAFbf6MEgmbDrhHBrWAE=\n";
static const char spec_cp2[] =
    "anchors.example/audit/test-1\n2\nPnwpqqZrOb4IHDAf1fMNDSe/R0xETfLIZgC7V1A97Jg=\n\n"
    DASH " anchors.example/audit/test-1 BvHEIS6qfm0YBG+xZmqzg46qzZ+z200LTh+H69UBqkW1sFbxNmd8oxrWTLukn+nXAvtZ53Kdh/6n9q7Qk7mMy9Fkkgk=\n";
/* AXR1 record index 1 (HUMAN_DECISION by alice), 313 bytes */
static const char spec_v1_hex[] =
    "415852310300000000000000010000018bcfec605508494e562d313030310305616c696365fe39"
    "7208883951f8d2d99d42c6c52426e1f81cf261a35426098027bd04831106000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000d61702d72"
    "6f7574696e672f763701010301000000000000000064075592e1872387058a37c249394ea7ae02"
    "d18b297fc7b0bbeed8c168bbdf67fe5aeff57246f52abd7bfd7596d73e3cdf7b3441e380bca8df"
    "3df6c0216c15ea0000010196d1a8f43592af7df7cfb08e71cece2787a7f06665b5b634a37bf1e6"
    "31d6430346f8b06f435e2c4a3c8802e2f1377f2fc7638570d49437fbb886c2b3352013eba74746"
    "00";
static const char spec_leaf0_hash_b64[] = "ZAdVkuGHI4cFijfCSTlOp64C0Yspf8ewu+7YwWi732c=";
static const char spec_leaf1_hash_b64[] = "YPAAR44ureexh0B439cAKI3YKB0JokM/uGDKNKwLclM=";

static void
test_spec_vectors(void **state)
{
    uint8_t v1[400];
    size_t v1len;
    char buf[1024];

    (void)state;
    assert_int_equal(sodium_hex2bin(v1, sizeof v1, spec_v1_hex, strlen(spec_v1_hex),
                                    NULL, &v1len, NULL), 0);
    assert_int_equal(v1len, 313);
    /* the cosigned checkpoint (the witness line is an unknown key to Go) */
    GO_OK("checkpoint", spec_vkey, interop_put_str("cp8", spec_cp8));
    /* tlog-proof for index 0 (empty leaf) of the RFC 6962 8-leaf tree */
    snprintf(buf, sizeof buf, "%s%s", spec_proof0_head, spec_cp8);
    GO_OK("receipt", spec_vkey, interop_put_str("p0", buf), interop_put("leaf", "", 0));
    /* AXR1 record 1 in the 2-leaf tree: proof [leafhash0] */
    snprintf(buf, sizeof buf, "c2sp.org/tlog-proof@v1\nindex 1\n%s\n\n%s",
             spec_leaf0_hash_b64, spec_cp2);
    GO_OK("receipt", spec_vkey, interop_put_str("p1", buf), interop_put("leaf", v1, v1len));
    assert_non_null(strstr(interop_out, spec_leaf1_hash_b64));
    /* consistency 1 -> 2 is [leafhash1] */
    snprintf(buf, sizeof buf, "%s\n", spec_leaf1_hash_b64);
    GO_OK("consistency", spec_vkey, interop_put_str("c1", spec_cp1),
          interop_put_str("c2", spec_cp2), interop_put_str("cp12", buf));
    /* ... and our signer reproduces the size-2 checkpoint byte for byte */
    {
        struct note_signer s;
        uint8_t seed[32], root[32];
        const struct note_signer *ss[] = { &s };
        interop_sha("anchors test log key 1", seed);
        assert_int_equal(note_signer_init(&s, "anchors.example/audit/test-1", 28,
                                          NOTE_SIGTYPE_ED25519, seed), NOTE_OK);
        size_t rl;
        assert_int_equal(sodium_base642bin(root, 32, "PnwpqqZrOb4IHDAf1fMNDSe/R0xETfLIZgC7V1A97Jg=",
                                           44, NULL, &rl, NULL, INTEROP_B64), 0);
        size_t len = interop_checkpoint(2, root, "anchors.example/audit/test-1", ss, 1,
                                        interop_note, sizeof interop_note);
        note_signer_clear(&s);
        assert_int_equal(len, strlen(spec_cp2));
        assert_memory_equal(interop_note, spec_cp2, len);
    }
}

/* ---- reverse direction: Go signs, we verify -------------------------------- */

static void
test_go_signs_we_verify(void **state)
{
    char skey[NOTE_SKEY_MAX + 1], text[512], ours[4096];
    size_t sklen, tlen, olen;
    struct note_sigresult res[1];
    struct note_opened op;
    struct note_checkpoint cp;
    const struct note_signer *ss[] = { &interop_log1 };
    uint8_t root[32];
    int rc;

    (void)state;
    /* 1. Go signs a checkpoint with our key (Go-format private key string) */
    assert_int_equal(note_skey_format(&interop_log1, skey, sizeof skey, &sklen), NOTE_OK);
    const char *kf = interop_put("skey", skey, sklen);
    sodium_memzero(skey, sizeof skey);
    interop_root_at(777, root);
    assert_int_equal(note_checkpoint_format(INTEROP_ORIGIN, strlen(INTEROP_ORIGIN), 777, root, text,
                                            sizeof text, &tlen), NOTE_OK);
    GO_OK("sign", kf, interop_put("text", text, tlen));
    unlink(kf);
    size_t glen = strlen(interop_out);
    assert_int_equal(note_open(interop_out, glen, &interop_log1.pub, 1, res, &op), NOTE_OK);
    assert_int_equal(res[0].verified, 1);
    assert_int_equal(note_checkpoint_parse(op.text, op.text_len, &cp), NOTE_OK);
    assert_int_equal(cp.size, 777);
    assert_memory_equal(cp.root, root, 32);
    /* Ed25519 is deterministic: Go's signed note equals ours byte for byte */
    assert_int_equal(note_sign(text, tlen, ss, 1, ours, sizeof ours, &olen), NOTE_OK);
    assert_int_equal(olen, glen);
    assert_memory_equal(ours, interop_out, olen);

    /* 2. a key generated by Go: we parse both strings, derive the same
     * key ID, and Go verifies what we sign with it */
    char gen[1024], gskey[NOTE_SKEY_MAX + 1], gvkey[NOTE_VKEY_MAX + 1], name[64];
    struct note_signer gs;
    struct note_verifier gv;
    snprintf(name, sizeof name, "go.example/interop/%d", (int)getpid());
    GO_OK("genkey", name);
    size_t gl = strlen(interop_out);
    assert_true(gl < sizeof gen);
    memcpy(gen, interop_out, gl + 1);
    sodium_memzero(interop_out, sizeof interop_out);
    char *nl = strchr(gen, '\n');
    assert_non_null(nl);
    *nl = '\0';
    assert_true(strlen(gen) < sizeof gskey);
    memcpy(gskey, gen, strlen(gen) + 1);
    size_t vl = strcspn(nl + 1, "\n");
    assert_true(vl > 0 && vl < sizeof gvkey);
    memcpy(gvkey, nl + 1, vl);
    gvkey[vl] = '\0';
    rc = note_skey_parse(gskey, strlen(gskey), &gs);
    sodium_memzero(gen, sizeof gen);
    sodium_memzero(gskey, sizeof gskey);
    assert_int_equal(rc, NOTE_OK);
    assert_int_equal(note_vkey_parse(gvkey, strlen(gvkey), &gv), NOTE_OK);
    assert_int_equal(gv.key_id, gs.pub.key_id);
    assert_memory_equal(gv.pk, gs.pub.pk, 32);
    {
        const struct note_signer *gss[] = { &gs };
        size_t len =
            interop_checkpoint(1000, NULL, name, gss, 1, interop_note, sizeof interop_note);
        note_signer_clear(&gs);
        GO_OK("checkpoint", gvkey, interop_put("cp", interop_note, len));
        size_t plen =
            interop_receipt(999, 1000, interop_note, len, interop_proof, sizeof interop_proof);
        GO_OK("receipt", gvkey, interop_put("r", interop_proof, plen),
              interop_put("leaf", interop_leaf[999], interop_leaf_len[999]));
    }
}

int
main(int argc, char **argv)
{
    interop_set_bdir(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkpoints_accepted),
        cmocka_unit_test(test_receipts_accepted),
        cmocka_unit_test(test_consistency_accepted),
        cmocka_unit_test(test_dual_signed),
        cmocka_unit_test(test_spec_vectors),
        cmocka_unit_test(test_go_signs_we_verify),
    };
    return cmocka_run_group_tests(tests, interop_tree_setup, interop_tree_teardown);
}
