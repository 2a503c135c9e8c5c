/*
 * log.c - where log lines go: the level threshold, the format and target
 * chosen at start-up (stderr with one write per line, or syslog(3)), the
 * free-text logger on top of the event encoder (log_enc.c) and the rate
 * limiters of noisy events.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define LOG_LINE_MAX 4096

/* Read-only after start-up (log_set_level, log_setup run before threads). */
static enum log_level  log_threshold = LOG_LVL_INFO;
static enum log_format log_fmt = LOG_FMT_PLAIN;
static enum log_target log_tgt = LOG_TGT_STDERR;

static const char *const log_names[] = { "error", "warn", "info", "debug" };

void
log_set_level(enum log_level lvl)
{
    log_threshold = lvl;
}

int
log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
        if (strcmp(s, log_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

int
log_format_parse(const char *s, enum log_format *out)
{
    if (strcmp(s, "plain") == 0)
        *out = LOG_FMT_PLAIN;
    else if (strcmp(s, "json") == 0)
        *out = LOG_FMT_JSON;
    else
        return -1;
    return 0;
}

int
log_target_parse(const char *s, enum log_target *out)
{
    if (strcmp(s, "stderr") == 0)
        *out = LOG_TGT_STDERR;
    else if (strcmp(s, "syslog") == 0)
        *out = LOG_TGT_SYSLOG;
    else
        return -1;
    return 0;
}

int
log_facility_parse(const char *s, int *out)
{
    static const struct { const char *name; int fac; } facs[] = {
        { "daemon", LOG_DAEMON }, { "user", LOG_USER },
        { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
        { "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
        { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
    };

    for (size_t i = 0; i < sizeof(facs) / sizeof(facs[0]); i++) {
        if (strcmp(s, facs[i].name) == 0) {
            *out = facs[i].fac;
            return 0;
        }
    }
    return -1;
}

void
log_setup(enum log_format fmt, enum log_target tgt, int facility)
{
    log_fmt = fmt;
    log_tgt = tgt;
    if (tgt == LOG_TGT_SYSLOG)
        openlog("hitlqd", LOG_PID | LOG_NDELAY, facility);
}

static int
log_syslog_prio(enum log_level lvl)
{
    static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

    return prio[(unsigned)lvl < 4 ? lvl : LOG_LVL_DEBUG];
}

void
log_event_n(enum log_level lvl, const char *event, const char *msg,
            const struct log_field *f, size_t n)
{
    char line[LOG_LINE_MAX];
    size_t len;
    bool sys = log_tgt == LOG_TGT_SYSLOG;

    if (lvl > log_threshold)
        return;
    len = log_encode(log_fmt, line, sizeof(line), !sys, util_wall_ms(), lvl, event, msg, f, n);
    if (sys) {
        line[len - 1] = '\0';            /* syslog ends the record itself */
        syslog(log_syslog_prio(lvl), "%s", line);
    } else if (write(STDERR_FILENO, line, len) < 0) {
        /* nowhere left to report a failed log write */
    }
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    if (lvl > log_threshold)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    log_event_n(lvl, "log", text, NULL, 0);
}

uint64_t
log_limit_hit(struct log_limit *l, uint64_t now_ms, uint64_t interval_ms)
{
    uint64_t covered = 0;

    pthread_mutex_lock(&l->mu);
    l->pending++;
    if (l->last_ms == 0 || now_ms - l->last_ms >= interval_ms || now_ms < l->last_ms) {
        covered = l->pending;
        l->pending = 0;
        l->last_ms = now_ms ? now_ms : 1;
    }
    pthread_mutex_unlock(&l->mu);
    return covered;
}

uint64_t
log_limit_flush(struct log_limit *l, uint64_t now_ms, uint64_t interval_ms)
{
    uint64_t covered = 0;

    pthread_mutex_lock(&l->mu);
    if (l->pending > 0 && (l->last_ms == 0 || now_ms - l->last_ms >= interval_ms || now_ms < l->last_ms)) {
        covered = l->pending;
        l->pending = 0;
        l->last_ms = now_ms ? now_ms : 1;
    }
    pthread_mutex_unlock(&l->mu);
    return covered;
}

void
log_addr_limit_init(struct log_addr_limit *t)
{
    for (size_t i = 0; i < LOG_ADDR_SLOTS; i++) {
        pthread_mutex_init(&t->slot[i].mu, NULL);
        t->slot[i].last_ms = 0;
        t->slot[i].pending = 0;
    }
}

uint64_t
log_addr_limit_hit(struct log_addr_limit *t, const char *addr, uint64_t now_ms,
                   uint64_t interval_ms)
{
    uint32_t h = 2166136261u;                  /* FNV-1a */

    for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
        h = (h ^ *p) * 16777619u;
    return log_limit_hit(&t->slot[h % LOG_ADDR_SLOTS], now_ms, interval_ms);
}

void
log_sanitize(char *dst, size_t dstlen, const void *src, size_t len)
{
    const unsigned char *s = src;
    size_t i;

    if (dstlen == 0)
        return;
    for (i = 0; i < len && i + 1 < dstlen; i++)
        dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '.';
    dst[i] = '\0';
}
