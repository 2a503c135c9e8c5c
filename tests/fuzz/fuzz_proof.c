/*
 * fuzz_proof.c - libFuzzer target for the C2SP tlog-proof@v1 parser of
 * proto/proof.c (proto/AUDIT-FORMAT.md §8).  The whole input goes through:
 *
 *  - tlog_proof_parse: on success, n <= 63, the note is a non-empty suffix
 *    of the input, and tlog_proof_format of the parsed fields reproduces
 *    the input exactly (minus an "extra" line, which is skipped); on
 *    failure *out is zeroed;
 *  - the verifier path a receipt takes: note_open with the docs/RELIABILITY.md §4.2
 *    log and witness keys, note_checkpoint_parse, merkle_verify_inclusion
 *    of the empty leaf (must never crash; the receipt seed verifies);
 *  - the reverse round trip: the input used as a note, wrapped by
 *    tlog_proof_format with hashes taken from the input, parses back to
 *    the same index, hashes and note bytes.
 *
 * Built with HITLQ_FUZZ_REPLAY defined, only fuzz_proof_one() is compiled
 * (tests/unit/test_fuzz_replay.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"
#include "note.h"
#include "proof.h"

/* docs/RELIABILITY.md §4.2 (tests/unit/test_proof.c) */
static const char *const fuzz_proof_vkeys[] = {
    "anchors.example/audit/test-1+06f1c421+AfoXO5W7bOtilrFA1jtI/J4rXEkTY2ulpJyU6qNM9iM1",
    "witness.anchors.example/w1+da777e40+BKS8tgrY2C3ZxqaV1daED88ayWvC8FiCcjK19NTinjJB",
};
#define FUZZ_PROOF_NVS 2u
/* Formatting at most one maximal proof around a note of up to this many
 * input bytes; longer inputs are not used for the reverse round trip. */
#define FUZZ_PROOF_NOTE_MAX 8192u
#define FUZZ_PROOF_OUT_MAX  (PROOF_FIXED_MAX + FUZZ_PROOF_NOTE_MAX + 1u)

static struct {
    int                  ready;
    struct note_verifier vs[FUZZ_PROOF_NVS];
    struct merkle_hasher h;
} fuzz_proof_ctx;

static void
fuzz_proof_setup(void)
{
    if (fuzz_proof_ctx.ready)
        return;
    for (size_t i = 0; i < FUZZ_PROOF_NVS; i++)
        if (note_vkey_parse(fuzz_proof_vkeys[i], strlen(fuzz_proof_vkeys[i]),
                            &fuzz_proof_ctx.vs[i]) != NOTE_OK)
            abort();
    if (merkle_hasher_init(&fuzz_proof_ctx.h) != MERKLE_OK)
        abort();
    fuzz_proof_ctx.ready = 1;
}

/* Length of the "extra ..." line including '\n' right after the header,
 * or 0. */
static size_t
fuzz_proof_extra_len(const char *s, size_t len)
{
    const size_t hl = sizeof(PROOF_HEADER);          /* header + '\n' */
    const char *nl;

    if (len < hl + 6 || memcmp(s + hl, "extra ", 6) != 0)
        return 0;
    nl = memchr(s + hl, '\n', len - hl);
    return nl ? (size_t)(nl - (s + hl)) + 1 : 0;
}

/* Parsed proof -> format -> the input (without its extra line). */
static void
fuzz_proof_reformat(const char *s, size_t len, const struct tlog_proof *p)
{
    const size_t hl = sizeof(PROOF_HEADER);
    size_t extra = fuzz_proof_extra_len(s, len), outlen;
    char *out;

    if (p->n > PROOF_MAX_HASHES || p->note_len == 0 || p->note < s ||
        p->note + p->note_len != s + len)
        abort();
    if (p->note_len > NOTE_MSG_MAX)
        return;                            /* format refuses such notes */
    out = malloc(len + 1);
    if (out == NULL)
        abort();
    if (tlog_proof_format(p->index, (const uint8_t (*)[32])p->hashes, p->n,
                          p->note, p->note_len, out, len + 1, &outlen) != PROOF_OK ||
        outlen != len - extra || memcmp(out, s, hl) != 0 ||
        memcmp(out + hl, s + hl + extra, outlen - hl) != 0)
        abort();
    free(out);
}

/* The receipt verifier's path over a parsed proof. */
static void
fuzz_proof_verify(const struct tlog_proof *p)
{
    struct note_sigresult res[FUZZ_PROOF_NVS];
    struct note_opened op;
    struct note_checkpoint cp;
    uint8_t leaf[32];
    int rc;

    if (note_open(p->note, p->note_len, fuzz_proof_ctx.vs, FUZZ_PROOF_NVS,
                  res, &op) != NOTE_OK)
        return;
    if (note_checkpoint_parse(op.text, op.text_len, &cp) != NOTE_OK)
        return;
    if (merkle_leaf_hash(&fuzz_proof_ctx.h, NULL, 0, leaf) != MERKLE_OK)
        abort();
    rc = merkle_verify_inclusion(&fuzz_proof_ctx.h, leaf, p->index, cp.size,
                                 (const uint8_t (*)[32])p->hashes, p->n, cp.root);
    if (rc != MERKLE_OK && rc != MERKLE_ERR_RANGE &&
        rc != MERKLE_ERR_BAD_PROOF_LEN && rc != MERKLE_ERR_ROOT_MISMATCH)
        abort();
}

/* The input as a note: format around it, parse back. */
static void
fuzz_proof_wrap(const uint8_t *data, size_t size)
{
    static char out[FUZZ_PROOF_OUT_MAX];
    uint8_t hs[PROOF_MAX_HASHES][32];
    struct tlog_proof p;
    uint64_t index = 0;
    size_t n, outlen;

    if (size == 0 || size > FUZZ_PROOF_NOTE_MAX)
        return;
    for (size_t i = 0; i < 8 && i < size; i++)
        index = index << 8 | data[i];
    n = data[0] % (PROOF_MAX_HASHES + 1);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < 32; j++)
            hs[i][j] = data[(i * 32 + j) % size];
    if (tlog_proof_format(index, (const uint8_t (*)[32])hs, n, (const char *)data,
                          size, out, sizeof(out), &outlen) != PROOF_OK ||
        tlog_proof_parse(out, outlen, &p) != PROOF_OK ||
        p.index != index || p.n != n || p.note_len != size ||
        memcmp(p.note, data, size) != 0 ||
        (n > 0 && memcmp(p.hashes, hs, n * 32) != 0))
        abort();
}

int
fuzz_proof_one(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct tlog_proof p;

    fuzz_proof_setup();
    if (tlog_proof_parse(s, size, &p) == PROOF_OK) {
        fuzz_proof_reformat(s, size, &p);
        fuzz_proof_verify(&p);
    } else if (p.n != 0 || p.note != NULL || p.index != 0) {
        abort();
    }
    fuzz_proof_wrap(data, size);
    return 0;
}

#ifndef HITLQ_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_proof_one(data, size);
}
#endif
