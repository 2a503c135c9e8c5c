/*
 * validate.c - allocation-free MessagePack validator run on every frame
 * body before msgpack-c sees it (PROTOCOL.md §2 rules 2-7, docs/RELIABILITY.md
 * §2.6).  An explicit fixed stack walks the containers; one global element
 * budget bounds what msgpack-c will later pre-allocate.  No I/O, no state.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hitlq_proto.h"
#include "validate.h"

/* Hard ceiling on the explicit stack: lim->max_depth above this is treated
 * as this value (the protocol uses 8; msgpack-c itself stops at 32). */
#define MP_STACK_MAX 64u

const struct mp_limits mp_limits_default = {
    .max_depth = HITLQ_MAX_DEPTH,
    .max_elements = HITLQ_MAX_ELEMENTS,
    .max_str = HITLQ_MAX_STR,
};

struct mp_level {
    uint32_t left;     /* items still to read (maps: 2 per pair) */
    uint32_t is_map;
};

struct mp_walk {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    uint64_t budget;                 /* elements still allowed */
    uint32_t max_depth;
    uint32_t max_str;
    uint32_t depth;
    int pushed;                      /* last element opened a container */
    struct mp_level st[MP_STACK_MAX];
    char *err;
    size_t errlen;
};

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
mp_fail(struct mp_walk *w, int status, size_t off, const char *fmt, ...)
{
    va_list ap;
    int n;

    /* cppcheck-suppress ctuuninitvar ; mp_fail reads only err and errlen, always set */
    if (w->err == NULL || w->errlen == 0)
        return status;
    n = snprintf(w->err, w->errlen, "offset %zu: ", off);
    if (n >= 0 && (size_t)n < w->errlen) {
        va_start(ap, fmt);
        vsnprintf(w->err + n, w->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return status;
}

static uint64_t
mp_be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Multi-byte UTF-8 sequence at s[i] (s[i] >= 0x80); returns its length, or
 * 0 when invalid (Unicode Table 3-7: no overlongs, no surrogates,
 * nothing above U+10FFFF). */
static size_t
mp_utf8_seq(const uint8_t *s, size_t i, size_t len)
{
    uint8_t c = s[i], lo = 0x80, hi = 0xbf;
    size_t n;

    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (len - i < n)
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (s[i + 1] < lo || s[i + 1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if ((s[i + k] & 0xc0) != 0x80)
            return 0;
    return n;
}

bool
mp_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0, n;
    uint64_t w;

    while (i < len) {
        /* ASCII fast path, 8 bytes at a time. */
        while (len - i >= 8) {
            memcpy(&w, s + i, 8);
            if (w & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        while (i < len && s[i] < 0x80)
            i++;
        if (i == len)
            break;
        n = mp_utf8_seq(s, i, len);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* str or bin payload of n bytes starting at w->pos. */
static int
mp_payload(struct mp_walk *w, size_t at, uint64_t n, int is_str)
{
    if (n > w->max_str)
        return mp_fail(w, HITLQ_ST_LIMIT_EXCEEDED, at,
                       "%s of %llu bytes exceeds %u", is_str ? "str" : "bin",
                       (unsigned long long)n, (unsigned)w->max_str);
    if (n > w->len - w->pos)
        return mp_fail(w, HITLQ_ST_BAD_MSGPACK, at, "truncated %s",
                       is_str ? "str" : "bin");
    if (is_str && !mp_utf8_valid(w->buf + w->pos, (size_t)n))
        return mp_fail(w, HITLQ_ST_BAD_MSGPACK, at, "str is not valid UTF-8");
    w->pos += (size_t)n;
    return HITLQ_ST_OK;
}

/* Opens a container of n entries (maps: n pairs). */
static int
mp_open(struct mp_walk *w, size_t at, uint64_t n, int is_map)
{
    uint64_t cost = is_map ? 2 * n : n;

    if (w->depth >= w->max_depth)
        return mp_fail(w, HITLQ_ST_LIMIT_EXCEEDED, at,
                       "nesting deeper than %u", (unsigned)w->max_depth);
    if (cost > w->budget)
        return mp_fail(w, HITLQ_ST_LIMIT_EXCEEDED, at,
                       "%s of %llu entries exceeds the element budget",
                       is_map ? "map" : "array", (unsigned long long)n);
    w->budget -= cost;
    if (cost > 0) {
        w->st[w->depth].left = (uint32_t)cost;
        w->st[w->depth].is_map = (uint32_t)is_map;
        w->depth++;
        w->pushed = 1;
    }
    return HITLQ_ST_OK;
}

/* Float bits: all-ones exponent means NaN or Inf. */
static int
mp_float(struct mp_walk *w, size_t at, unsigned size)
{
    uint64_t v = mp_be(w->buf + w->pos, size);
    int bad = size == 4 ? (v & 0x7f800000u) == 0x7f800000u
                        : (v & UINT64_C(0x7ff0000000000000)) == UINT64_C(0x7ff0000000000000);

    if (bad)
        return mp_fail(w, HITLQ_ST_BAD_MSGPACK, at, "float is NaN or Inf");
    w->pos += size;
    return HITLQ_ST_OK;
}

/* Bytes of the fixed-size argument that follows tag byte c (0xc0..0xdf). */
static const uint8_t mp_arglen[32] = {
    /* c0 nil c1 - c2 c3 bool c4 c5 c6 bin  c7 c8 c9 ext */
    0, 0, 0, 0, 1, 2, 4, 1, 2, 4,
    /* ca cb float  cc..cf uint  d0..d3 int */
    4, 8, 1, 2, 4, 8, 1, 2, 4, 8,
    /* d4..d8 fixext  d9 da db str  dc dd array  de df map */
    1, 1, 1, 1, 1, 1, 2, 4, 2, 4, 2, 4,
};

/* One element whose tag byte is 0xc0..0xdf (its argument is present). */
static int
mp_tagged(struct mp_walk *w, uint8_t c, size_t at)
{
    unsigned an = mp_arglen[c - 0xc0];
    uint64_t arg = mp_be(w->buf + w->pos, an);

    if (c == 0xca || c == 0xcb)
        return mp_float(w, at, an);
    w->pos += an;
    switch (c) {
    case 0xc4: case 0xc5: case 0xc6:
        return mp_payload(w, at, arg, 0);
    case 0xd9: case 0xda: case 0xdb:
        return mp_payload(w, at, arg, 1);
    case 0xdc: case 0xdd:
        return mp_open(w, at, arg, 0);
    case 0xde: case 0xdf:
        return mp_open(w, at, arg, 1);
    }
    return HITLQ_ST_OK;   /* nil, bool, ints */
}

static int
mp_is_str_tag(uint8_t c)
{
    return (c >= 0xa0 && c <= 0xbf) || (c >= 0xd9 && c <= 0xdb);
}

/* Reads one element at w->pos; containers are pushed, not descended. */
static int
mp_element(struct mp_walk *w)
{
    size_t at = w->pos;
    uint8_t c = w->buf[w->pos++];

    if (w->depth > 0 && w->st[w->depth - 1].is_map &&
        (w->st[w->depth - 1].left & 1) == 0 && !mp_is_str_tag(c))
        return mp_fail(w, HITLQ_ST_BAD_MSGPACK, at, "map key is not a str");
    if (c < 0x80 || c >= 0xe0)
        return HITLQ_ST_OK;
    if (c < 0x90)
        return mp_open(w, at, c & 0x0f, 1);
    if (c < 0xa0)
        return mp_open(w, at, c & 0x0f, 0);
    if (c < 0xc0)
        return mp_payload(w, at, c & 0x1f, 1);
    if (c == 0xc1)
        return mp_fail(w, HITLQ_ST_BAD_MSGPACK, at, "reserved byte 0xc1");
    if ((c >= 0xc7 && c <= 0xc9) || (c >= 0xd4 && c <= 0xd8))
        return mp_fail(w, HITLQ_ST_BAD_MSGPACK, at, "ext type 0x%02x", c);
    if (mp_arglen[c - 0xc0] > w->len - w->pos)
        return mp_fail(w, HITLQ_ST_BAD_MSGPACK, at, "truncated element 0x%02x", c);
    return mp_tagged(w, c, at);
}

/* Marks one value of the innermost container done, popping finished ones. */
static void
mp_done(struct mp_walk *w)
{
    while (w->depth > 0) {
        if (--w->st[w->depth - 1].left > 0)
            return;
        w->depth--;
    }
}

int
mp_validate(const uint8_t *buf, size_t len, const struct mp_limits *lim,
            char *err, size_t errlen)
{
    struct mp_walk w;
    uint8_t c;
    int st;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (len == 0)
        return HITLQ_ST_OK;
    w.buf = buf;
    w.len = len;
    w.pos = 0;
    w.budget = lim->max_elements < len ? lim->max_elements : len;
    w.max_depth = lim->max_depth < MP_STACK_MAX ? lim->max_depth : MP_STACK_MAX;
    w.max_str = lim->max_str;
    w.depth = 0;
    w.err = err;
    w.errlen = errlen;
    c = buf[0];
    if (!((c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf))
        return mp_fail(&w, HITLQ_ST_BAD_MSGPACK, 0, "body is not a map");
    do {
        if (w.pos >= len)
            return mp_fail(&w, HITLQ_ST_BAD_MSGPACK, w.pos, "truncated object");
        w.pushed = 0;
        st = mp_element(&w);
        if (st != HITLQ_ST_OK)
            return st;
        /* A container just opened with entries is finished later. */
        if (!w.pushed)
            mp_done(&w);
    } while (w.depth > 0);
    if (w.pos != len)
        return mp_fail(&w, HITLQ_ST_BAD_MSGPACK, w.pos,
                       "%zu trailing bytes", len - w.pos);
    return HITLQ_ST_OK;
}
