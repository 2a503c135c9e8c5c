/*
 * log.h - hitlqd's one logging module: levels, named events with typed
 * fields, two line formats (plain for humans, JSON lines for machines),
 * two targets (stderr, syslog), rate limiters for noisy events,
 * printf-format checking.  Only daemon code logs; proto/ and client/ never
 * do.  The event names and their fields are listed in docs/OPERATIONS-LOG.md.
 */
#ifndef HITLQ_LOG_H
#define HITLQ_LOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_format { LOG_FMT_PLAIN = 0, LOG_FMT_JSON };
enum log_target { LOG_TGT_STDERR = 0, LOG_TGT_SYSLOG };

/* Sets the threshold; messages above it are dropped.  Read-only after
 * start-up (the only process-wide setting besides signal flags). */
void log_set_level(enum log_level lvl);
int  log_level_parse(const char *s, enum log_level *out);   /* 0 or -1 */

/* Parses "plain"/"json", "stderr"/"syslog" and a syslog facility name
 * ("daemon", "user", "local0".."local7") into *out.  0, or -1 when s is
 * none of them. */
int log_format_parse(const char *s, enum log_format *out);
int log_target_parse(const char *s, enum log_target *out);
int log_facility_parse(const char *s, int *out);

/* Chooses the line format and the target (before any thread starts).
 * LOG_TGT_SYSLOG opens syslog(3) as "hitlqd" with LOG_PID and `facility`
 * (a LOG_* facility of <syslog.h>); syslog adds its own timestamp. */
void log_setup(enum log_format fmt, enum log_target tgt, int facility);

/* One field of an event: a key (a constant identifier, never one of the
 * reserved keys ts, level, event, msg) and a typed value.  Build them with
 * the LOG_* macros below. */
enum log_ftype { LOG_F_STR, LOG_F_INT, LOG_F_UINT, LOG_F_BOOL };
struct log_field {
    const char        *key;
    enum log_ftype     type;
    const char        *s;       /* LOG_F_STR: bytes, any content (escaped) */
    size_t             len;     /* LOG_F_STR: length; SIZE_MAX = strlen(s) */
    long long          i;       /* LOG_F_INT, LOG_F_BOOL (0/1) */
    unsigned long long u;       /* LOG_F_UINT */
};

#define LOG_STR(k, v)      ((struct log_field){ .key = (k), .type = LOG_F_STR, .s = (v), .len = SIZE_MAX })
#define LOG_BYTES(k, p, n) ((struct log_field){ .key = (k), .type = LOG_F_STR, .s = (const char *)(p), .len = (n) })
#define LOG_INT(k, v)      ((struct log_field){ .key = (k), .type = LOG_F_INT, .i = (long long)(v) })
#define LOG_UINT(k, v)     ((struct log_field){ .key = (k), .type = LOG_F_UINT, .u = (unsigned long long)(v) })
#define LOG_BOOL(k, v)     ((struct log_field){ .key = (k), .type = LOG_F_BOOL, .i = (v) ? 1 : 0 })

/* Writes one event line: `event` a stable snake_case name, `msg` a short
 * human sentence (may be NULL), f[0..n) its fields.  Thread-safe (one
 * write per line).  A NULL string value is written as null / "-". */
void log_event_n(enum log_level lvl, const char *event, const char *msg,
                 const struct log_field *f, size_t n);

/* log_event(LOG_LVL_WARN, "lease_expired", "leases expired",
 *           LOG_UINT("count", n), LOG_UINT("example_id", id));
 * needs at least one field (log_event_n(lvl, ev, msg, NULL, 0) for none). */
#define log_event(lvl, event, msg, ...) \
    log_event_n((lvl), (event), (msg), (const struct log_field[]){ __VA_ARGS__ }, \
                sizeof((const struct log_field[]){ __VA_ARGS__ }) / sizeof(struct log_field))

/* The free-text logger: a line with event "log" and msg = the formatted
 * text (in JSON, properly escaped). */
void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Encodes one line (with '\n') into buf[0..cap) in format fmt; ts_ms is the
 * wall-clock time (ms since the epoch) printed as RFC 3339 UTC with ms, or
 * omitted when with_ts is false (syslog).  The output is always a complete
 * line: fields that do not fit are dropped and marked `truncated`.  Returns
 * the line's length (cap must be >= 256).  The one encoder per format,
 * exposed for tests. */
size_t log_encode(enum log_format fmt, char *buf, size_t cap, bool with_ts, uint64_t ts_ms,
                  enum log_level lvl, const char *event, const char *msg,
                  const struct log_field *f, size_t n);

/* A rate limiter: at most one line per interval for one kind of event.
 * log_limit_hit counts one occurrence at now_ms (monotonic) and returns how
 * many occurrences the line to write now covers (this one and those counted
 * silently since the last line), or 0 when a line was written less than
 * interval_ms ago (the occurrence is counted for the next line).
 * log_limit_flush returns the occurrences counted since the last line when
 * the interval has passed (and starts a new interval), else 0: call it
 * from a timer so a burst's tail is reported.  Thread-safe. */
struct log_limit {
    pthread_mutex_t mu;
    uint64_t        last_ms;     /* when the last line was written; 0 = never */
    uint64_t        pending;     /* occurrences since that line */
};
#define LOG_LIMIT_INIT { PTHREAD_MUTEX_INITIALIZER, 0, 0 }
uint64_t log_limit_hit(struct log_limit *l, uint64_t now_ms, uint64_t interval_ms);
uint64_t log_limit_flush(struct log_limit *l, uint64_t now_ms, uint64_t interval_ms);

/* Per-address rate limiting (auth failures): LOG_ADDR_SLOTS limiters chosen
 * by a hash of the address; two addresses sharing a slot share its limit,
 * so the lines per interval stay <= LOG_ADDR_SLOTS whatever the number of
 * addresses.  Same return as log_limit_hit. */
#define LOG_ADDR_SLOTS 64
struct log_addr_limit {
    struct log_limit slot[LOG_ADDR_SLOTS];
};
void     log_addr_limit_init(struct log_addr_limit *t);
uint64_t log_addr_limit_hit(struct log_addr_limit *t, const char *addr,
                            uint64_t now_ms, uint64_t interval_ms);

/* Copies src[0..len) into dst (size dstlen) replacing non-printable bytes
 * with '.', for logging peer-supplied text safely. */
void log_sanitize(char *dst, size_t dstlen, const void *src, size_t len);

#endif
