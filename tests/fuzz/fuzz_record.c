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
 *  - the leaf hash of the input equals merkle_leaf_hash of it.
 *
 * Built with HITLQ_FUZZ_REPLAY defined, only fuzz_record_one() is compiled
 * (tests/test_fuzz_replay.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"
#include "record.h"

static struct record fuzz_record_r;          /* ~20 KB: not on the stack */
static uint8_t fuzz_record_out[RECORD_LEAF_MAX];

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
