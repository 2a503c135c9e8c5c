/*
 * fuzz_record.c - libFuzzer target for the AXR1 decision-record decoder
 * (proto/record.c), the parser hitlq-audit feeds with untrusted log
 * entries.  Oracles:
 *
 *  - canonical: whatever record_decode accepts, record_encode writes back
 *    to exactly the input bytes (one encoding per record), and
 *    record_encoded_len agrees;
 *  - sequence: a decoded record passes record_check_sequence at its own
 *    index (unless it is a GENESIS record elsewhere than 0) and fails
 *    with RECORD_ERR_INDEX one position later;
 *  - the leaf hash of the input equals merkle_leaf_hash of it;
 *  - extensions (proto/record_ext.c): the body of every extension with a
 *    codec (hitlq's OUTCOME ... VERDICT included) that its decoder
 *    accepts is encoded back to exactly its bytes; a body of a type the
 *    record codec checks always decodes.
 *
 * Built with HITLQ_FUZZ_REPLAY defined, only fuzz_record_one() is compiled
 * (tests/unit/test_fuzz_replay.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"
#include "record.h"

static struct record fuzz_record_r;          /* ~20 KB: not on the stack */
static uint8_t fuzz_record_out[RECORD_LEAF_MAX];

/* Decodes one body with its type's decoder and encodes it again into
 * fuzz_record_out: the decoder's code, then the encoder's; 1 if the type
 * has no codec. */
#define FUZZ_EXT_RECODE(T, name)                                                \
    case T: {                                                                   \
        static struct record_ext_##name v;                                      \
        if ((rc = record_ext_##name##_decode(e->data, e->len, &v)) == RECORD_OK) \
            rc = record_ext_##name##_encode(&v, fuzz_record_out,                \
                                            sizeof(fuzz_record_out), len);      \
        return rc;                                                              \
    }

static int
fuzz_record_ext_recode(const struct record_ext *e, size_t *len)
{
    int rc;

    switch (e->type) {
    FUZZ_EXT_RECODE(RECORD_EXT_TOP_FEATURES, top_features)
    FUZZ_EXT_RECODE(RECORD_EXT_QUEUE_REF, queue_ref)
    FUZZ_EXT_RECODE(RECORD_EXT_SUBMISSION, submission)
    FUZZ_EXT_RECODE(RECORD_EXT_LATENCY, latency)
    FUZZ_EXT_RECODE(RECORD_EXT_OUTCOME, outcome)
    FUZZ_EXT_RECODE(RECORD_EXT_SCORING, scoring)
    FUZZ_EXT_RECODE(RECORD_EXT_RULES, rules)
    FUZZ_EXT_RECODE(RECORD_EXT_RECOMMENDATION, recommendation)
    FUZZ_EXT_RECODE(RECORD_EXT_VERDICT, verdict)
    FUZZ_EXT_RECODE(RECORD_EXT_MODEL_INFO, model_info)
    FUZZ_EXT_RECODE(RECORD_EXT_POLICY_INFO, policy_info)
    FUZZ_EXT_RECODE(RECORD_EXT_KEY_INFO, key_info)
    FUZZ_EXT_RECODE(RECORD_EXT_CHECKPOINT_REF, checkpoint_ref)
    default:
        return 1;
    }
}

/* The extension oracle (see the top). */
static void
fuzz_record_exts(const struct record *r)
{
    for (size_t i = 0; i < r->ext_count; i++) {
        const struct record_ext *e = &r->ext[i];
        bool hitlq = e->type >= RECORD_EXT_OUTCOME && e->type <= 0x000f;
        size_t len = 0;
        int rc = fuzz_record_ext_recode(e, &len);

        if (rc == 1)
            continue;                   /* opaque */
        if (rc == RECORD_ERR_EXT_BODY && hitlq)
            continue;                   /* not checked by record_decode */
        if (rc != RECORD_OK || len != e->len ||
            (len > 0 && memcmp(fuzz_record_out, e->data, len) != 0))
            abort();
    }
}

static int
fuzz_record_one(const uint8_t *data, size_t size)
{
    struct record *r = &fuzz_record_r;
    uint8_t h1[32], h2[32];
    struct merkle_hasher h;
    size_t len;

    if (record_decode(data, size, r) != RECORD_OK)
        return 0;
    if (record_encoded_len(r) != size ||
        record_encode(r, fuzz_record_out, sizeof(fuzz_record_out), &len) != RECORD_OK ||
        len != size || memcmp(fuzz_record_out, data, size) != 0)
        abort();                        /* not canonical */
    int rc = record_check_sequence(NULL, r, r->index);
    if (rc != RECORD_OK && !(rc == RECORD_ERR_GENESIS && r->index != 0))
        abort();
    if (record_check_sequence(r, r, r->index + 1) != RECORD_ERR_INDEX)
        abort();                        /* index must equal the position */
    if (merkle_hasher_init(&h) != MERKLE_OK)
        abort();
    if (record_leaf_hash(data, size, h1) != RECORD_OK ||
        merkle_leaf_hash(&h, data, size, h2) != MERKLE_OK || memcmp(h1, h2, 32) != 0)
        abort();
    merkle_hasher_clear(&h);
    fuzz_record_exts(r);
    return 0;
}

#ifndef HITLQ_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_record_one(data, size);
}
#endif
