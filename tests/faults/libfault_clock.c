/*
 * libfault_clock.c - LD_PRELOAD shim that shifts the wall clock of the
 * process it is loaded into: clock_gettime(CLOCK_REALTIME*),
 * gettimeofday() and time() return the real wall time plus an offset in
 * milliseconds (signed decimal) read from the file named by
 * $HITLQ_FAULT_CLOCK_FILE.  The test writes the file at run time (a jump
 * of the clock), the shim re-reads it at most every 10 ms of monotonic
 * time; a missing or unreadable file means offset 0.  CLOCK_MONOTONIC and
 * CLOCK_BOOTTIME are untouched, as a real clock step leaves them.  Built
 * without sanitizers into build/test/faults/libfault_clock.so (Makefile);
 * used by tests/e2e/test_clock_jump.c.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static _Atomic(int64_t) fault_offset_ms;
static _Atomic(int64_t) fault_read_at_ns = -1;

/* The C library's clock_gettime (the next definition after this one). */
static int
fault_real_gettime(clockid_t clk, struct timespec *ts)
{
    static _Atomic(clock_gettime_fn) real;
    clock_gettime_fn fn = atomic_load(&real);

    if (fn == NULL) {
        fn = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
        if (fn == NULL)
            return -1;
        atomic_store(&real, fn);
    }
    return fn(clk, ts);
}

/* Reads the offset file (at most every 10 ms); returns the offset. */
static int64_t
fault_offset(void)
{
    struct timespec m;
    int64_t now, last = atomic_load(&fault_read_at_ns);
    const char *path = getenv("HITLQ_FAULT_CLOCK_FILE");
    char buf[32];
    ssize_t n;
    int fd;

    if (path == NULL || fault_real_gettime(CLOCK_MONOTONIC, &m) != 0)
        return 0;
    now = (int64_t)m.tv_sec * 1000000000 + m.tv_nsec;
    if (last >= 0 && now - last < 10000000)
        return atomic_load(&fault_offset_ms);
    atomic_store(&fault_read_at_ns, now);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        atomic_store(&fault_offset_ms, 0);
        return 0;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    atomic_store(&fault_offset_ms, strtoll(buf, NULL, 10));
    return atomic_load(&fault_offset_ms);
}

/* Adds ms milliseconds to *ts, keeping tv_nsec in [0, 1e9). */
static void
fault_shift(struct timespec *ts, int64_t ms)
{
    int64_t ns = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec + ms * 1000000;

    ts->tv_sec = (time_t)(ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
}

int
clock_gettime(clockid_t clk, struct timespec *ts)
{
    int rc = fault_real_gettime(clk, ts);

    if (rc == 0 && (clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE))
        fault_shift(ts, fault_offset());
    return rc;
}

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    struct timespec ts;

    (void)tz;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return -1;
    tv->tv_sec = ts.tv_sec;              /* tv: non-null by its declaration */
    tv->tv_usec = ts.tv_nsec / 1000;
    return 0;
}

time_t
time(time_t *out)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (time_t)-1;
    if (out != NULL)
        *out = ts.tv_sec;
    return ts.tv_sec;
}
