/*
 * record_int.h - the bounded big-endian reader shared by proto/record.c
 * (the AXR1 record) and proto/record_ext.c (extension bodies).  Not part
 * of the codec API.  Every take checks the remaining length first and
 * returns RECORD_OK or a negative RECORD_ERR_* code (proto/record.h).
 */
#ifndef HITLQ_RECORD_INT_H
#define HITLQ_RECORD_INT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "record.h"

/* Reader over p[0..left). */
struct record_rd {
    const uint8_t *p;
    size_t         left;
};

/* Copies the next n bytes into dst (dst may be NULL when n == 0). */
static inline int
rd_bytes(struct record_rd *rd, void *dst, size_t n)
{
    if (rd->left < n)
        return RECORD_ERR_TRUNCATED;
    if (n > 0)
        memcpy(dst, rd->p, n);
    rd->p += n;
    rd->left -= n;
    return RECORD_OK;
}

/* Skips n bytes; *at (if not NULL) gets where they start. */
static inline int
rd_skip(struct record_rd *rd, size_t n, const uint8_t **at)
{
    if (rd->left < n)
        return RECORD_ERR_TRUNCATED;
    if (at != NULL)
        *at = rd->p;
    rd->p += n;
    rd->left -= n;
    return RECORD_OK;
}

/* An n-byte big-endian unsigned integer (n <= 8). */
static inline int
rd_be(struct record_rd *rd, uint64_t *v, unsigned n)
{
    uint64_t x = 0;

    if (rd->left < n)
        return RECORD_ERR_TRUNCATED;
    while (n-- > 0) {
        x = (x << 8) | *rd->p++;
        rd->left--;
    }
    *v = x;
    return RECORD_OK;
}

static inline int
rd_u8(struct record_rd *rd, uint8_t *v)
{
    return rd_bytes(rd, v, 1);
}

static inline int
rd_u16(struct record_rd *rd, uint16_t *v)
{
    uint64_t x = 0;
    int rc = rd_be(rd, &x, 2);

    *v = (uint16_t)x;
    return rc;
}

/* f64: finite, and -0 rejected as the non-canonical form of +0. */
static inline int
rd_f64(struct record_rd *rd, double *d)
{
    uint64_t u;
    int rc;

    if ((rc = rd_be(rd, &u, 8)) != RECORD_OK)
        return rc;
    if (u == UINT64_C(0x8000000000000000))
        return RECORD_ERR_NEG_ZERO;
    memcpy(d, &u, sizeof *d);
    return isfinite(*d) ? RECORD_OK : RECORD_ERR_FLOAT;
}

#endif /* HITLQ_RECORD_INT_H */
