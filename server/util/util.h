/*
 * util.h - small helpers: wall-clock and monotonic milliseconds, strict
 * number parsing.
 */
#ifndef HITLQ_UTIL_H
#define HITLQ_UTIL_H

#include <stdint.h>

uint64_t util_now_ms(void);        /* wall clock, ms since the epoch */
uint64_t util_mono_ns(void);       /* monotonic, ns */

/* Parses all of s as a decimal unsigned integer in [min, max].  0 or -1. */
int util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
