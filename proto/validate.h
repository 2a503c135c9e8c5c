/*
 * validate.h - allocation-free MessagePack validator (PROTOCOL.md §2).
 *
 * Walks a frame body with an explicit stack before msgpack-c ever sees it,
 * so that msgpack-c's unbounded pre-allocation (a 5-byte array header can
 * ask for ~96 GB) can never be triggered by a peer.  No I/O, no globals.
 * Errors (proto/README.md): HITLQ_ST_* statuses; predicates return bool.
 */
#ifndef HITLQ_VALIDATE_H
#define HITLQ_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mp_limits {
    uint32_t max_depth;      /* HITLQ_MAX_DEPTH */
    uint32_t max_elements;   /* HITLQ_MAX_ELEMENTS; also capped at len */
    uint32_t max_str;        /* HITLQ_MAX_STR, for str and bin */
};

/* The protocol's limits. */
extern const struct mp_limits mp_limits_default;

/* Checks that buf[0..len) is exactly one MessagePack map that obeys `lim`:
 * depth, global element budget (sum of array counts + 2 * map counts),
 * string/bin sizes, valid UTF-8 in str, str map keys, no ext types, no 0xc1,
 * no NaN/Inf floats, no trailing bytes.  len == 0 is valid (empty body).
 * Returns HITLQ_ST_OK, HITLQ_ST_BAD_MSGPACK or HITLQ_ST_LIMIT_EXCEEDED and,
 * on error, writes a short reason (with the byte offset) into err. */
int mp_validate(const uint8_t *buf, size_t len, const struct mp_limits *lim,
                char *err, size_t errlen);

/* True when s[0..len) is valid UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
bool mp_utf8_valid(const uint8_t *s, size_t len);

#endif
