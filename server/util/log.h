/*
 * log.h - hitlqd's one logging module: levels, stderr output with a
 * timestamp, printf-format checking.  Only daemon code logs; proto/ and
 * client/ never do.
 */
#ifndef HITLQ_LOG_H
#define HITLQ_LOG_H

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Sets the threshold; messages above it are dropped.  Read-only after
 * start-up (the only process-wide setting besides signal flags). */
void log_set_level(enum log_level lvl);
int  log_level_parse(const char *s, enum log_level *out);   /* 0 or -1 */

void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Copies src[0..len) into dst (size dstlen) replacing non-printable bytes
 * with '.', for logging peer-supplied text safely. */
void log_sanitize(char *dst, size_t dstlen, const void *src, size_t len);

#endif
