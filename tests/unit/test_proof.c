/*
 * test_proof.c - unit tests of proto/proof.c, the C2SP tlog-proof@v1 codec:
 * the docs/RELIABILITY.md §4.2 receipt (index 0 of the RFC 6962 8-leaf reference tree,
 * cosigned checkpoint) parses, its signatures verify with the §4.2 vkeys and
 * its inclusion proof verifies against the checkpoint root; format/parse
 * round trips; the C2SP example with an extra line; strict-parse negatives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "merkle.h"
#include "note.h"
#include "proof.h"

#define DASH "\xe2\x80\x94"

/* docs/RELIABILITY.md §4.2 */
static const char log_vkey[] =
    "anchors.example/audit/test-1+06f1c421+AfoXO5W7bOtilrFA1jtI/J4rXEkTY2ulpJyU6qNM9iM1";
static const char wit_vkey[] =
    "witness.anchors.example/w1+da777e40+BKS8tgrY2C3ZxqaV1daED88ayWvC8FiCcjK19NTinjJB";
#define CP8_NOTE \
    "anchors.example/audit/test-1\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n" \
    DASH " anchors.example/audit/test-1 BvHEIa/G1eOJC/uojI2hKV65dezu3+ayHwPQHbanqNzuGt7g6dGJ0cyuz0bY91OVZqIYpaAfSiUEwMgcj6NdzXwU3Qo=\n" \
    DASH " witness.anchors.example/w1 2nd+QAAAAABlU/EAipxJnwttH4gEAnPHAYAyxn3C9zwnbgUPrWcxFc8iApKt3NVVSv8YZ9XAC/S7yX2px+pEtUxq9p3zabi8H8vZBQ==\n"
#define P0_HASHES \
    "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=\n" \
    "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=\n" \
    "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=\n"
static const char proof0[] =
    "c2sp.org/tlog-proof@v1\nindex 0\n" P0_HASHES "\n" CP8_NOTE;

static size_t
parse_ok(const char *s, struct tlog_proof *p)
{
    assert_int_equal(tlog_proof_parse(s, strlen(s), p), PROOF_OK);
    return p->n;
}

static void
parse_err(const char *s, int want)
{
    struct tlog_proof p;

    memset(&p, 0xa5, sizeof(p));
    assert_int_equal(tlog_proof_parse(s, strlen(s), &p), want);
    assert_int_equal(p.n, 0);                     /* zeroed on error */
    assert_null(p.note);
}

/* §4.2: parse, open the note with both keys, verify the inclusion of the
 * empty leaf (index 0) against the signed root. */
static void
test_vector_verifies(void **state)
{
    struct note_verifier vs[2];
    struct note_sigresult res[2];
    struct note_opened op;
    struct note_checkpoint cp;
    struct merkle_hasher h;
    struct tlog_proof p;
    uint8_t leaf[32];

    (void)state;
    assert_int_equal(parse_ok(proof0, &p), 3);
    assert_int_equal(p.index, 0);
    assert_int_equal(p.note_len, strlen(CP8_NOTE));
    assert_memory_equal(p.note, CP8_NOTE, p.note_len);
    assert_int_equal(note_vkey_parse(log_vkey, strlen(log_vkey), &vs[0]), NOTE_OK);
    assert_int_equal(note_vkey_parse(wit_vkey, strlen(wit_vkey), &vs[1]), NOTE_OK);
    assert_int_equal(note_open(p.note, p.note_len, vs, 2, res, &op), NOTE_OK);
    assert_true(res[0].verified && res[1].verified);
    assert_int_equal(res[1].timestamp, 1700000000);
    assert_int_equal(note_checkpoint_parse(op.text, op.text_len, &cp), NOTE_OK);
    assert_int_equal(cp.size, 8);
    assert_int_equal(merkle_hasher_init(&h), MERKLE_OK);
    assert_int_equal(merkle_leaf_hash(&h, NULL, 0, leaf), MERKLE_OK);
    assert_int_equal(merkle_verify_inclusion(&h, leaf, p.index, cp.size,
                                             (const uint8_t (*)[32])p.hashes,
                                             p.n, cp.root), MERKLE_OK);
    /* Another leaf, or the same leaf at another index, must not verify. */
    assert_int_equal(merkle_leaf_hash(&h, "\x00", 1, leaf), MERKLE_OK);
    assert_int_equal(merkle_verify_inclusion(&h, leaf, 0, cp.size,
                                             (const uint8_t (*)[32])p.hashes,
                                             p.n, cp.root), MERKLE_ERR_ROOT_MISMATCH);
    assert_int_equal(merkle_leaf_hash(&h, NULL, 0, leaf), MERKLE_OK);
    assert_int_not_equal(merkle_verify_inclusion(&h, leaf, 1, cp.size,
                                                 (const uint8_t (*)[32])p.hashes,
                                                 p.n, cp.root), MERKLE_OK);
    merkle_hasher_clear(&h);
}

/* Formatting the parsed vector gives back the exact bytes. */
static void
test_format_reproduces_vector(void **state)
{
    struct tlog_proof p;
    char out[2048];
    size_t n;

    (void)state;
    parse_ok(proof0, &p);
    assert_int_equal(tlog_proof_format(p.index, (const uint8_t (*)[32])p.hashes,
                                       p.n, p.note, p.note_len, out,
                                       sizeof(out), &n), PROOF_OK);
    assert_int_equal(n, strlen(proof0));
    assert_string_equal(out, proof0);
    /* cap must hold the NUL too */
    assert_int_equal(tlog_proof_format(p.index, (const uint8_t (*)[32])p.hashes,
                                       p.n, p.note, p.note_len, out, n, &n),
                     PROOF_ERR_BUFFER);
}

/* Round trips over sizes of proof and big indices. */
static void
test_round_trip(void **state)
{
    static const char note[] = "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n"
                               DASH " o AAAA\n";
    uint8_t hs[PROOF_MAX_HASHES][32];
    static const uint64_t idx[] = { 0, 1, 9, 10, 255, 1234567, INT64_MAX, UINT64_MAX };
    char out[4096];
    struct tlog_proof p;
    size_t len;

    (void)state;
    for (size_t i = 0; i < PROOF_MAX_HASHES; i++)
        for (size_t j = 0; j < 32; j++)
            hs[i][j] = (uint8_t)(i * 31 + j * 7);
    for (size_t k = 0; k < sizeof(idx) / sizeof(idx[0]); k++)
        for (size_t n = 0; n <= PROOF_MAX_HASHES; n += (n < 3 ? 1 : 20)) {
            assert_int_equal(tlog_proof_format(idx[k], (const uint8_t (*)[32])hs, n,
                                               note, strlen(note), out,
                                               sizeof(out), &len), PROOF_OK);
            assert_int_equal(strlen(out), len);
            assert_int_equal(tlog_proof_parse(out, len, &p), PROOF_OK);
            assert_int_equal(p.index, idx[k]);
            assert_int_equal(p.n, n);
            if (n > 0)
                assert_memory_equal(p.hashes, hs, n * 32);
            assert_int_equal(p.note_len, strlen(note));
            assert_memory_equal(p.note, note, p.note_len);
        }
    assert_int_equal(tlog_proof_format(0, (const uint8_t (*)[32])hs, 63, note,
                                       strlen(note), out, sizeof(out), &len), PROOF_OK);
    assert_int_equal(tlog_proof_parse(out, len, &p), PROOF_OK);
    assert_int_equal(p.n, 63);
}

static void
test_format_invalid(void **state)
{
    uint8_t hs[64][32] = { { 0 } };
    char out[8192];
    size_t n;

    (void)state;
    assert_int_equal(tlog_proof_format(0, (const uint8_t (*)[32])hs, 64, "x\n", 2,
                                       out, sizeof(out), &n), PROOF_ERR_INVAL);
    assert_int_equal(tlog_proof_format(0, NULL, 1, "x\n", 2, out, sizeof(out), &n),
                     PROOF_ERR_INVAL);
    assert_int_equal(tlog_proof_format(0, NULL, 0, "x\n", 0, out, sizeof(out), &n),
                     PROOF_ERR_INVAL);
    assert_int_equal(tlog_proof_format(0, NULL, 0, NULL, 2, out, sizeof(out), &n),
                     PROOF_ERR_INVAL);
    assert_int_equal(tlog_proof_format(0, NULL, 0, "x\n", 2, out, sizeof(out), NULL),
                     PROOF_ERR_INVAL);
    assert_int_equal(tlog_proof_format(0, NULL, 0, "x\n", 2, NULL, 0, &n),
                     PROOF_ERR_BUFFER);
    assert_int_equal(tlog_proof_format(0, NULL, 0, "x\n", 2, out, sizeof(out), &n),
                     PROOF_OK);
    assert_string_equal(out, "c2sp.org/tlog-proof@v1\nindex 0\n\nx\n");
}

/* The C2SP tlog-proof.md example shape: an extra line is accepted and
 * skipped; the note is everything after the first blank line. */
static void
test_extra_line(void **state)
{
    static const char s[] =
        "c2sp.org/tlog-proof@v1\n"
        "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6\n"
        "index 73894\n"
        "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
        "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
        "\n"
        "example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n"
        DASH " example.com/fancylog AAAA\n";
    struct tlog_proof p;

    (void)state;
    assert_int_equal(parse_ok(s, &p), 2);
    assert_int_equal(p.index, 73894);
    assert_int_equal(p.hashes[0][0], 0x81);
    assert_true(p.note_len > 20 && memcmp(p.note, "example.com/fancylog\n", 21) == 0);
    assert_int_equal(p.note + p.note_len, s + strlen(s));
}

static void
test_negatives(void **state)
{
    (void)state;
    parse_err("", PROOF_ERR_HEADER);
    parse_err("c2sp.org/tlog-proof@v1", PROOF_ERR_HEADER);
    parse_err("c2sp.org/tlog-proof@v2\nindex 0\n\nx\n", PROOF_ERR_HEADER);
    parse_err("c2sp.org/tlog-proof@v1 \nindex 0\n\nx\n", PROOF_ERR_HEADER);
    parse_err("c2sp.org/tlog-proof@v1\r\nindex 0\n\nx\n", PROOF_ERR_HEADER);
    parse_err("c2sp.org/tlog-proof@v1\n", PROOF_ERR_INDEX);
    parse_err("c2sp.org/tlog-proof@v1\nindex 01\n\nx\n", PROOF_ERR_INDEX);
    parse_err("c2sp.org/tlog-proof@v1\nindex -1\n\nx\n", PROOF_ERR_INDEX);
    parse_err("c2sp.org/tlog-proof@v1\nindex +1\n\nx\n", PROOF_ERR_INDEX);
    parse_err("c2sp.org/tlog-proof@v1\nindex \n\nx\n", PROOF_ERR_INDEX);
    parse_err("c2sp.org/tlog-proof@v1\nindex  1\n\nx\n", PROOF_ERR_INDEX);
    parse_err("c2sp.org/tlog-proof@v1\nindex 1 \n\nx\n", PROOF_ERR_INDEX);
    parse_err("c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\nx\n",
              PROOF_ERR_INDEX);
    parse_err("c2sp.org/tlog-proof@v1\nIndex 1\n\nx\n", PROOF_ERR_INDEX);
    parse_err("c2sp.org/tlog-proof@v1\nextra AAAA\n", PROOF_ERR_INDEX);
    parse_err("c2sp.org/tlog-proof@v1\nextra !!notbase64!!\nindex 0\n\nx\n",
              PROOF_ERR_EXTRA);
    parse_err("c2sp.org/tlog-proof@v1\nextra \nindex 0\n\nx\n", PROOF_ERR_EXTRA);
    parse_err("c2sp.org/tlog-proof@v1\nextra AAA\nindex 0\n\nx\n", PROOF_ERR_EXTRA);
    /* extra must come before index, at most once */
    parse_err("c2sp.org/tlog-proof@v1\nindex 0\nextra AAAA\n\nx\n", PROOF_ERR_HASH);
    parse_err("c2sp.org/tlog-proof@v1\nextra AAAA\nextra AAAA\nindex 0\n\nx\n",
              PROOF_ERR_INDEX);
    /* hash lines: length, alphabet, non-canonical padding bits, no padding */
    parse_err("c2sp.org/tlog-proof@v1\nindex 0\n"
              "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c\n\nx\n", PROOF_ERR_HASH);
    parse_err("c2sp.org/tlog-proof@v1\nindex 0\n"
              "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c==\n\nx\n", PROOF_ERR_HASH);
    parse_err("c2sp.org/tlog-proof@v1\nindex 0\n"
              "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh-QQt4YwoJz8c=\n\nx\n", PROOF_ERR_HASH);
    parse_err("c2sp.org/tlog-proof@v1\nindex 0\n"
              "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8d=\n\nx\n", PROOF_ERR_HASH);
    parse_err("c2sp.org/tlog-proof@v1\nindex 0\n"
              "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c= \n\nx\n", PROOF_ERR_HASH);
    parse_err("c2sp.org/tlog-proof@v1\nindex 0\n"
              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\nx\n", PROOF_ERR_HASH);
    /* missing blank line / empty note */
    parse_err("c2sp.org/tlog-proof@v1\nindex 0\n", PROOF_ERR_NOTE);
    parse_err("c2sp.org/tlog-proof@v1\nindex 0\n" P0_HASHES, PROOF_ERR_NOTE);
    parse_err("c2sp.org/tlog-proof@v1\nindex 0\n\n", PROOF_ERR_NOTE);
    parse_err("c2sp.org/tlog-proof@v1\nindex 0\n" P0_HASHES "\n", PROOF_ERR_NOTE);
}

/* 63 hash lines parse, 64 do not. */
static void
test_too_many_hashes(void **state)
{
    static const char line[] = "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=\n";
    char buf[8192];
    struct tlog_proof p;
    size_t n;

    (void)state;
    n = (size_t)snprintf(buf, sizeof(buf), "c2sp.org/tlog-proof@v1\nindex 5\n");
    for (int i = 0; i < 63; i++) {
        memcpy(buf + n, line, sizeof(line) - 1);
        n += sizeof(line) - 1;
    }
    memcpy(buf + n, "\nx\n", 4);
    assert_int_equal(tlog_proof_parse(buf, n + 3, &p), PROOF_OK);
    assert_int_equal(p.n, 63);
    memmove(buf + n + sizeof(line) - 1, buf + n, 4);
    memcpy(buf + n, line, sizeof(line) - 1);
    n += sizeof(line) - 1;
    assert_int_equal(tlog_proof_parse(buf, n + 3, &p), PROOF_ERR_TOO_MANY);
}

/* Every truncation of the vector fails (except none: the note must end in
 * its signature lines, but the codec only needs it non-empty, so cuts past
 * the blank line parse with a shorter note). */
static void
test_truncations(void **state)
{
    const size_t blank = strlen("c2sp.org/tlog-proof@v1\nindex 0\n" P0_HASHES "\n");
    struct tlog_proof p;

    (void)state;
    for (size_t n = 0; n < strlen(proof0); n++) {
        int rc = tlog_proof_parse(proof0, n, &p);
        if (n <= blank)
            assert_int_not_equal(rc, PROOF_OK);
        else {
            assert_int_equal(rc, PROOF_OK);
            assert_int_equal(p.note_len, n - blank);
        }
    }
    assert_int_equal(tlog_proof_parse(NULL, 0, &p), PROOF_ERR_INVAL);
    assert_int_equal(tlog_proof_parse(proof0, 10, NULL), PROOF_ERR_INVAL);
    assert_int_equal(tlog_proof_parse(proof0, PROOF_TEXT_MAX + 1, &p),
                     PROOF_ERR_TOO_LARGE);
    assert_string_equal(proof_strerror(PROOF_ERR_TOO_MANY), "too many proof hashes");
    assert_string_equal(proof_strerror(-99), "unknown proof error");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_verifies),
        cmocka_unit_test(test_format_reproduces_vector),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_format_invalid),
        cmocka_unit_test(test_extra_line),
        cmocka_unit_test(test_negatives),
        cmocka_unit_test(test_too_many_hashes),
        cmocka_unit_test(test_truncations),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
