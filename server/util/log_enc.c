/*
 * log_enc.c - the two line encoders of log events: plain (for humans:
 * "<ts> hitlqd <level>: <event>: <msg> key=value ...") and JSON lines
 * ({"ts":..,"level":..,"event":..,"msg":..,<fields>}).  Strings are
 * escaped per format: JSON gets \" \\ \uXXXX for control bytes and U+FFFD
 * for invalid UTF-8; plain quotes values with spaces and writes
 * non-printable bytes as \xNN.  Output is always one complete line.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define LOG_VALUE_MAX 512           /* bytes of one string value kept */
#define LOG_TAIL      24            /* room kept for the truncation mark and the end */

static const char *const enc_level_names[] = { "error", "warn", "info", "debug" };

struct enc_buf {
    char  *p;
    size_t len, cap;                 /* cap excludes the reserved tail */
    bool   over;
};

static void
enc_put(struct enc_buf *b, const char *s, size_t n)
{
    if (b->over || n > b->cap - b->len) {
        b->over = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void
enc_puts(struct enc_buf *b, const char *s)
{
    enc_put(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when invalid
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t
enc_utf8_len(const unsigned char *s, size_t n)
{
    size_t need;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) { need = 2; cp = s[0] & 0x1fu; }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) { need = 3; cp = s[0] & 0x0fu; }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) { need = 4; cp = s[0] & 0x07u; }
    else
        return 0;
    if (need > n)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return need;
}

static void
enc_json_str(struct enc_buf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    char esc[8];

    enc_put(b, "\"", 1);
    for (size_t i = 0; i < len && !b->over;) {
        size_t k = enc_utf8_len(u + i, len - i);

        if (k == 0) {
            enc_puts(b, "\\ufffd");
            i++;
        } else if (u[i] == '"' || u[i] == '\\') {
            esc[0] = '\\';
            esc[1] = (char)u[i];
            enc_put(b, esc, 2);
            i++;
        } else if (u[i] < 0x20 || u[i] == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", u[i]);
            enc_put(b, esc, 6);
            i++;
        } else {
            enc_put(b, s + i, k);
            i += k;
        }
    }
    enc_put(b, "\"", 1);
}

static bool
enc_plain_bare(const unsigned char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\' || s[i] == '=')
            return false;
    return true;
}

static void
enc_plain_str(struct enc_buf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    char esc[8];

    if (enc_plain_bare(u, len)) {
        enc_put(b, s, len);
        return;
    }
    enc_put(b, "\"", 1);
    for (size_t i = 0; i < len && !b->over; i++) {
        if (u[i] == '"' || u[i] == '\\') {
            esc[0] = '\\';
            esc[1] = (char)u[i];
            enc_put(b, esc, 2);
        } else if (u[i] < 0x20 || u[i] >= 0x7f) {
            snprintf(esc, sizeof(esc), "\\x%02x", u[i]);
            enc_put(b, esc, 4);
        } else {
            enc_put(b, s + i, 1);
        }
    }
    enc_put(b, "\"", 1);
}

static void
enc_value(struct enc_buf *b, enum log_format fmt, const struct log_field *f)
{
    char num[32];
    size_t len;

    switch (f->type) {
    case LOG_F_STR:
        if (f->s == NULL) {
            enc_puts(b, fmt == LOG_FMT_JSON ? "null" : "-");
            return;
        }
        len = f->len == SIZE_MAX ? strlen(f->s) : f->len;
        if (len > LOG_VALUE_MAX)
            len = LOG_VALUE_MAX;
        (fmt == LOG_FMT_JSON ? enc_json_str : enc_plain_str)(b, f->s, len);
        return;
    case LOG_F_INT:  snprintf(num, sizeof(num), "%lld", f->i); break;
    case LOG_F_UINT: snprintf(num, sizeof(num), "%llu", f->u); break;
    default:         snprintf(num, sizeof(num), "%s", f->i ? "true" : "false"); break;
    }
    enc_puts(b, num);
}

/* Appends field f, or nothing (and *dropped) when it does not fit whole. */
static void
enc_field(struct enc_buf *b, enum log_format fmt, const struct log_field *f, bool *dropped)
{
    size_t mark = b->len;

    if (fmt == LOG_FMT_JSON) {
        enc_put(b, ",", 1);
        enc_json_str(b, f->key, strlen(f->key));
        enc_put(b, ":", 1);
    } else {
        enc_put(b, " ", 1);
        enc_puts(b, f->key);
        enc_put(b, "=", 1);
    }
    enc_value(b, fmt, f);
    if (b->over) {
        b->len = mark;
        b->over = false;
        *dropped = true;
    }
}

static void
enc_ts(char *out, size_t cap, uint64_t ts_ms)
{
    time_t sec = (time_t)(ts_ms / 1000);
    struct tm tm;
    size_t n;

    gmtime_r(&sec, &tm);
    n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, cap - n, ".%03uZ", (unsigned)(ts_ms % 1000));
}

static void
enc_head_json(struct enc_buf *b, bool with_ts, const char *ts, const char *lvl,
              const char *event, const char *msg)
{
    enc_put(b, "{", 1);
    if (with_ts) {
        enc_puts(b, "\"ts\":\"");
        enc_puts(b, ts);
        enc_puts(b, "\",");
    }
    enc_puts(b, "\"level\":\"");
    enc_puts(b, lvl);
    enc_puts(b, "\",\"event\":");
    enc_json_str(b, event, strlen(event));
    enc_puts(b, ",\"msg\":");
    enc_json_str(b, msg, strlen(msg) > 2 * LOG_VALUE_MAX ? 2 * LOG_VALUE_MAX : strlen(msg));
}

static void
enc_head_plain(struct enc_buf *b, bool with_ts, const char *ts, const char *lvl,
               const char *event, const char *msg)
{
    const unsigned char *u = (const unsigned char *)msg;

    if (with_ts) {
        enc_puts(b, ts);
        enc_puts(b, " hitlqd ");
    }
    enc_puts(b, lvl);
    enc_puts(b, ": ");
    if (strcmp(event, "log") != 0) {
        enc_puts(b, event);
        enc_puts(b, ":");
        if (msg[0] != '\0')
            enc_puts(b, " ");
    }
    for (size_t i = 0; i < 2 * LOG_VALUE_MAX && u[i] != '\0'; i++)
        enc_put(b, (u[i] >= 0x20 && u[i] < 0x7f) ? msg + i : ".", 1);
}

size_t
log_encode(enum log_format fmt, char *buf, size_t cap, bool with_ts, uint64_t ts_ms,
           enum log_level lvl, const char *event, const char *msg,
           const struct log_field *f, size_t n)
{
    struct enc_buf b = { buf, 0, cap - LOG_TAIL, false };
    char ts[40];
    bool dropped = false;
    const char *lname = enc_level_names[(unsigned)lvl < 4 ? lvl : LOG_LVL_DEBUG];

    enc_ts(ts, sizeof(ts), ts_ms);
    (fmt == LOG_FMT_JSON ? enc_head_json : enc_head_plain)(&b, with_ts, ts, lname, event,
                                                           msg ? msg : "");
    if (b.over) {                    /* the head alone is bounded well below 256 + 2 KiB */
        b.len = 0;
        b.over = false;
        (fmt == LOG_FMT_JSON ? enc_head_json : enc_head_plain)(&b, with_ts, ts, lname,
                                                               event, "");
        dropped = true;
    }
    for (size_t i = 0; i < n; i++)
        enc_field(&b, fmt, &f[i], &dropped);
    b.cap = cap;
    if (dropped)
        enc_puts(&b, fmt == LOG_FMT_JSON ? ",\"truncated\":true" : " truncated=true");
    enc_puts(&b, fmt == LOG_FMT_JSON ? "}\n" : "\n");
    return b.len;
}
