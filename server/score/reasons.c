/*
 * reasons.c - packs a triage's reasons as the msgpack array that SUBMIT
 * replies with and the item stores: first the rules that routed it
 * ({rule | hard_rule, field, message}), then the model's top features
 * ({feature, value, contribution}, the value copied as the exact bytes
 * the client sent): score_pick_reasons' choice and order, every missing
 * input included.  Written directly into a bounded buffer: it runs for
 * every submit.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "reasons.h"
#include "score.h"
#include "wire.h"

/* Direct msgpack writing into a bounded buffer (no per-token callbacks):
 * the reasons array is built for every submit.  It starts in `stack` and
 * moves to the heap when more is needed, up to REASONS_MAX_BYTES. */
#define REASONS_MAX_BYTES (512u * 1024u)

struct fixbuf {
    uint8_t *data;
    size_t   len, cap;
    bool     overflow;
    uint8_t  stack[4096];
};

static bool
fb_grow(struct fixbuf *fb, size_t need)
{
    size_t cap = fb->cap;
    uint8_t *d;

    while (cap < need && cap < REASONS_MAX_BYTES)
        cap *= 2;
    if (cap < need || cap > REASONS_MAX_BYTES)
        return false;
    if ((d = fb->data == fb->stack ? malloc(cap) : realloc(fb->data, cap)) == NULL)
        return false;
    if (fb->data == fb->stack)
        memcpy(d, fb->stack, fb->len);
    fb->data = d;
    fb->cap = cap;
    return true;
}

static void
fb_put(struct fixbuf *fb, const void *p, size_t n)
{
    if (fb->overflow || (n > fb->cap - fb->len && !fb_grow(fb, fb->len + n))) {
        fb->overflow = true;
        return;
    }
    memcpy(fb->data + fb->len, p, n);
    fb->len += n;
}

static void
fb_str(struct fixbuf *fb, const char *s, size_t n)
{
    uint8_t h[3];

    if (n < 32) {
        h[0] = (uint8_t)(0xa0 | n);
        fb_put(fb, h, 1);
    } else if (n < 256) {
        h[0] = 0xd9;
        h[1] = (uint8_t)n;
        fb_put(fb, h, 2);
    } else {
        h[0] = 0xda;
        h[1] = (uint8_t)(n >> 8);
        h[2] = (uint8_t)n;
        fb_put(fb, h, 3);
    }
    fb_put(fb, s, n);
}

static void
fb_f64(struct fixbuf *fb, double v)
{
    uint8_t b[9];
    uint64_t u;

    memcpy(&u, &v, sizeof(u));
    b[0] = 0xcb;
    for (int i = 0; i < 8; i++)
        b[1 + i] = (uint8_t)(u >> (56 - 8 * i));
    fb_put(fb, b, sizeof(b));
}

/* Index of the fields-map pair whose value `v` points at, or -1. */
static long
reason_index(const msgpack_object *fields, const msgpack_object *v)
{
    const msgpack_object_map *m = &fields->via.map;

    for (uint32_t i = 0; i < m->size; i++)
        if (&m->ptr[i].val == v)
            return (long)i;
    return -1;
}

static void
fb_rule(struct fixbuf *fb, const struct triage_rule *r)
{
    uint8_t map3 = 0x83;
    const char *k = r->kind == 2 ? "hard_rule" : "rule";

    fb_put(fb, &map3, 1);
    fb_str(fb, k, strlen(k));
    fb_str(fb, r->id, strlen(r->id));
    fb_str(fb, "field", 5);
    fb_str(fb, r->field, strlen(r->field));
    fb_str(fb, "message", 7);
    fb_str(fb, r->message, strlen(r->message));
}

/* Writes the array of the first nr rules and the reasons keep[] selects. */
static void
fb_reasons(struct fixbuf *fb, const struct triage *t, size_t nr, const bool *keep,
           const msgpack_object *fields, const uint8_t *raw, const uint32_t *off,
           const uint32_t *vl, size_t nf)
{
    const struct score_result *r = &t->r;
    static const uint8_t nil = 0xc0, map3 = 0x83;
    size_t cnt = nr;
    uint8_t hdr[3];

    for (size_t i = 0; i < r->n_reasons; i++)
        cnt += keep[i];
    hdr[0] = cnt < 16 ? (uint8_t)(0x90 | cnt) : 0xdc;
    hdr[1] = (uint8_t)(cnt >> 8);
    hdr[2] = (uint8_t)cnt;
    fb->len = 0;
    fb->overflow = false;
    fb_put(fb, hdr, cnt < 16 ? 1 : 3);
    for (size_t i = 0; i < nr; i++)
        fb_rule(fb, &t->rules[i]);
    for (size_t i = 0; i < r->n_reasons; i++) {
        long k = r->reasons[i].value ? reason_index(fields, r->reasons[i].value) : -1;

        if (!keep[i])
            continue;
        fb_put(fb, &map3, 1);
        fb_str(fb, "feature", 7);
        fb_str(fb, r->reasons[i].feature, strlen(r->reasons[i].feature));
        fb_str(fb, "value", 5);
        if (k >= 0 && (size_t)k < nf)
            fb_put(fb, raw + off[k], vl[k]);
        else
            fb_put(fb, &nil, 1);
        fb_str(fb, "contribution", 12);
        fb_f64(fb, r->reasons[i].contribution);
    }
}

/* What to leave out when the array does not fit: the present input with
 * the smallest |contribution| (the last one), then the last rule, and
 * missing inputs only when nothing else is left.  False when nothing is. */
static bool
fb_drop_one(const struct score_result *r, bool *keep, size_t *nr)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = r->n_reasons; i-- > 0;)
            if (keep[i] && (pass == 1 || !r->reasons[i].missing)) {
                keep[i] = false;
                return true;
            }
        if (pass == 0 && *nr > 0) {
            (*nr)--;
            return true;
        }
    }
    return false;
}

int
reasons_pack(const struct triage *t, const msgpack_object *fields,
             const uint8_t *raw, size_t raw_len, uint8_t **out, size_t *len)
{
    uint32_t off[HITLQ_MAX_FIELDS], vl[HITLQ_MAX_FIELDS];
    size_t nf = 0, nr = t->n_rules;    /* nf 0 when raw is not a map: values go out nil */
    bool keep[SCORE_MAX_REASONS];
    struct fixbuf fb;

    (void)wire_map_value_spans(raw, raw_len, off, vl, HITLQ_MAX_FIELDS, &nf);
    fb.data = fb.stack;
    fb.cap = sizeof(fb.stack);
    for (size_t i = 0; i < t->r.n_reasons; i++)
        keep[i] = true;
    do
        fb_reasons(&fb, t, nr, keep, fields, raw, off, vl, nf);
    while (fb.overflow && fb_drop_one(&t->r, keep, &nr));
    *out = fb.overflow ? NULL : malloc(fb.len);
    if (*out != NULL) {
        memcpy(*out, fb.data, fb.len);
        *len = fb.len;
    }
    if (fb.data != fb.stack)
        free(fb.data);
    return *out != NULL ? 0 : -1;
}
