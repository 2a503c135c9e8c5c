/*
 * util.h - small helpers: the server's clock (monotonic, anchored to the
 * wall clock), wall and monotonic time, strict number parsing.
 */
#ifndef HITLQ_UTIL_H
#define HITLQ_UTIL_H

#include <stdint.h>

/* The server's time, ms since the epoch: CLOCK_BOOTTIME (monotonic,
 * counting suspends) plus an offset fixed at the first call (wall minus
 * that clock then), so it never jumps or goes back when the wall clock is
 * stepped; a step (> 1 s against it) is logged once as a `clock_jump`
 * event.  Every lease, delay, SLA, deadline, timestamp and timer of the
 * server uses it (docs/RELIABILITY.md §1.7).  Thread-safe. */
uint64_t util_now_ms(void);
/* Restart rule: when util_now_ms() is below floor_ms (the latest server
 * time the store recorded), moves the server's time forward to it, logs
 * `clock_jump` and returns by how much (ms); 0 when nothing changed.  Call
 * at start, before other threads read the clock. */
uint64_t util_clock_floor(uint64_t floor_ms);
/* Wall clock minus the server's time, ms (0 unless the wall clock was
 * stepped since the start, or the floor moved the server's time). */
int64_t  util_clock_skew_ms(void);
uint64_t util_wall_ms(void);       /* the wall clock as it is, ms since the epoch */
uint64_t util_mono_ns(void);       /* monotonic, ns */

/* Parses all of s as a decimal unsigned integer in [min, max].  0 or -1. */
int util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
