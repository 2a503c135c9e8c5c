/*
 * record_fixture.h - what the audit-record codec tests share
 * (tests/unit/test_record.c, tests/unit/test_record_ext.c): hex decoding,
 * a seeded generator, the table of known extension bodies (one valid and
 * several malformed per type) and vector 0's QUEUE_REF body.
 */
#ifndef HITLQ_RECORD_FIXTURE_H
#define HITLQ_RECORD_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

/* Decodes hex into out (at most cap bytes; the test fails on bad hex).
 * Returns the byte count. */
size_t rfx_hex(const char *hex, uint8_t *out, size_t cap);

/* xorshift64 with a fixed seed: the same sequence in every run. */
uint64_t rfx_rnd(void);
void     rfx_rnd_bytes(uint8_t *p, size_t n);
/* A double from rfx_rnd: zeros of both signs, fractions, extremes, and
 * random finite bit patterns. */
double   rfx_rnd_f64(void);

/* A known extension body: `len` bytes of 0x5a (a fixed-size prefix) then
 * `hex`, and the result its decoder must give. */
struct rfx_ext_case {
    uint16_t    type;
    int         want;
    size_t      len;
    const char *hex;
};
extern const struct rfx_ext_case rfx_ext_cases[];
extern const size_t              rfx_n_ext_cases;

extern const uint8_t rfx_v0_queue_ref[];      /* vector 0's QUEUE_REF body */
extern const size_t  rfx_v0_queue_ref_len;

#endif
