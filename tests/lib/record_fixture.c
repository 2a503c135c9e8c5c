/*
 * record_fixture.c - shared data and helpers of the audit-record codec
 * tests (tests/lib/record_fixture.h).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "record.h"
#include "record_fixture.h"

size_t
rfx_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t len = 0;

    assert_int_equal(sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &len, NULL), 0);
    return len;
}

static uint64_t g_rng = 0x9e3779b97f4a7c15u;   /* rfx_rnd's state: tests only */

uint64_t
rfx_rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

void
rfx_rnd_bytes(uint8_t *p, size_t n)
{
    while (n-- > 0)
        *p++ = (uint8_t)rfx_rnd();
}

double
rfx_rnd_f64(void)
{
    uint64_t u;
    double d;

    switch (rfx_rnd() % 5) {
    case 0: return 0.0;
    case 1: return -0.0;                   /* encoder writes +0 */
    case 2: return (double)(rfx_rnd() % 1000) / 1000.0;
    case 3: return -1e300;
    default:
        do {
            u = rfx_rnd();
            memcpy(&d, &u, 8);
        } while (!isfinite(d) || u == UINT64_C(0x8000000000000000));
        return d;
    }
}

const struct rfx_ext_case rfx_ext_cases[] = {
    { 0x0001, RECORD_OK, 0, "00" },
    { 0x0001, RECORD_OK, 0, "0108616d6f756e745f7a40040000000000003fe0000000000000" },
    { 0x0001, RECORD_ERR_EXT_BODY, 0, "01" },
    { 0x0001, RECORD_ERR_EXT_BODY, 0, "0100400400000000000000000000000000000000" },  /* empty name */
    { 0x0001, RECORD_ERR_EXT_BODY, 0, "01016140040000000000008000000000000000" },    /* -0 */
    { 0x0001, RECORD_ERR_EXT_BODY, 0, "0101617ff80000000000000000000000000000" },    /* NaN */
    { 0x0001, RECORD_ERR_EXT_BODY, 0, "0101614004000000000000000000000000000000" },  /* extra */
    { 0x0002, RECORD_OK, 0, "0171020000018bd01c56fb" },
    { 0x0002, RECORD_ERR_EXT_BODY, 0, "00020000018bd01c56fb" },
    { 0x0002, RECORD_ERR_EXT_BODY, 0, "0171020000018bd01c56" },
    { 0x0003, RECORD_OK, 0, "0162017200000000000000ff" },
    { 0x0003, RECORD_ERR_EXT_BODY, 0, "016200000000000000000000" },
    { 0x0004, RECORD_OK, 0, "000003e8" },
    { 0x0004, RECORD_ERR_EXT_BODY, 0, "0003e8" },
    { 0x0004, RECORD_ERR_EXT_BODY, 0, "000003e800" },
    { 0x0010, RECORD_OK, 64, "00" },
    { 0x0010, RECORD_OK, 64, "036c6762" },
    { 0x0010, RECORD_ERR_EXT_BODY, 64, "046c6762" },
    { 0x0011, RECORD_OK, 34, "3fe6666666666666" },
    { 0x0011, RECORD_ERR_EXT_BODY, 34, "fff0000000000000" },
    { 0x0011, RECORD_ERR_EXT_BODY, 34, "8000000000000000" },
    { 0x0020, RECORD_OK, 0, "010100020a0b0000000000000001" },
    { 0x0020, RECORD_OK, 0, "04030000ffffffffffffffff" },
    { 0x0020, RECORD_ERR_EXT_BODY, 0, "050100000000000000000000" },
    { 0x0020, RECORD_ERR_EXT_BODY, 0, "010400000000000000000000" },
    { 0x0020, RECORD_ERR_EXT_BODY, 0, "000100000000000000000000" },
    { 0x0020, RECORD_ERR_EXT_BODY, 0, "0101000100000000000000000000" },
    { 0x0021, RECORD_OK, 0, "0000" },
    { 0x0021, RECORD_OK, 0, "0003414243" },
    { 0x0021, RECORD_ERR_EXT_BODY, 0, "000341424344" },
    { 0x0021, RECORD_ERR_EXT_BODY, 0, "00" },
    { 0x0005, RECORD_OK, 0, "ff" },                      /* hitlq range: opaque */
    { 0x0008, RECORD_OK, 0, "ff" },                      /* to record.c */
    { 0x0009, RECORD_OK, 0, "" },
    { 0xbeef, RECORD_OK, 0, "" },                        /* private: opaque */
};
const size_t rfx_n_ext_cases = sizeof rfx_ext_cases / sizeof rfx_ext_cases[0];

const uint8_t rfx_v0_queue_ref[] = {
    0x0d, 'a', 'p', '-', 'e', 'x', 'c', 'e', 'p', 't', 'i', 'o', 'n', 's',
    0x02, 0x00, 0x00, 0x01, 0x8b, 0xd0, 0x1c, 0x56, 0xfb,
};
const size_t rfx_v0_queue_ref_len = sizeof rfx_v0_queue_ref;
