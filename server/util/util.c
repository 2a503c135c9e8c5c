/*
 * util.c - clocks (the server's time: the monotonic clock anchored to the
 * wall clock once, with wall-clock steps logged as `clock_jump`) and
 * strict number parsing, and the port file (hitlqd -P).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "util.h"

/* A step of the wall clock against the server's time larger than this is
 * logged (NTP slews both clocks alike; only steps move them apart). */
#define UTIL_CLOCK_JUMP_MS 1000

static pthread_once_t clock_once = PTHREAD_ONCE_INIT;
static _Atomic(int64_t) clock_off_ns;    /* server time - boot clock, ns */
static _Atomic(int64_t) clock_skew_ms;   /* wall - server time last noted */

/* CLOCK_BOOTTIME in ns: monotonic, never stepped, and it counts a suspend
 * (a suspended host or VM is downtime, which leases must see pass). */
static int64_t
clock_boot_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
clock_wall_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t
util_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Anchored in ns, so that the server's time, truncated to ms, is the wall
 * clock's own reading until the wall clock steps (anchoring in ms let it run
 * up to 1 ms ahead of the wall clock). */
static void
clock_anchor(void)
{
    atomic_store(&clock_off_ns, clock_wall_ns() - clock_boot_ns());
    atomic_store(&clock_skew_ms, 0);
}

/* Logs a step of the wall clock (once per step: the thread that swaps the
 * noted skew logs it). */
static void
clock_check(int64_t server_ms)
{
    int64_t skew = (int64_t)util_wall_ms() - server_ms;
    int64_t seen = atomic_load(&clock_skew_ms);

    if (skew - seen <= UTIL_CLOCK_JUMP_MS && seen - skew <= UTIL_CLOCK_JUMP_MS)
        return;
    if (!atomic_compare_exchange_strong(&clock_skew_ms, &seen, skew))
        return;
    log_event(LOG_LVL_WARN, "clock_jump",
              "the wall clock stepped; leases and timers keep the monotonic clock",
              LOG_INT("step_ms", skew - seen), LOG_INT("wall_minus_server_ms", skew));
}

uint64_t
util_now_ms(void)
{
    int64_t now;

    pthread_once(&clock_once, clock_anchor);
    now = (clock_boot_ns() + atomic_load(&clock_off_ns)) / 1000000;
    clock_check(now);
    return (uint64_t)now;
}

uint64_t
util_clock_floor(uint64_t floor_ms)
{
    uint64_t now = util_now_ms();

    if (now >= floor_ms)
        return 0;
    atomic_fetch_add(&clock_off_ns, (int64_t)(floor_ms - now) * 1000000);
    atomic_store(&clock_skew_ms, (int64_t)util_wall_ms() - (int64_t)floor_ms);
    log_event(LOG_LVL_WARN, "clock_jump",
              "the wall clock is behind the time the store has seen; "
              "the server's time starts there",
              LOG_INT("step_ms", -(int64_t)(floor_ms - now)),
              LOG_UINT("server_ms", floor_ms));
    return floor_ms - now;
}

int64_t
util_clock_skew_ms(void)
{
    return (int64_t)util_wall_ms() - (int64_t)util_now_ms();
}

uint64_t
util_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

void
util_write_portfile(const char *path, unsigned port)
{
    char tmp[600];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
        log_error("cannot write port file %s", path);
}
