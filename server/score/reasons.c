/*
 * reasons.c - packs a triage's reasons as the msgpack array that SUBMIT
 * replies with and the item stores: first the rules that routed it
 * ({rule | hard_rule, field, message}), then the model's top features
 * ({feature, value, contribution}, the value copied as the exact bytes
 * the client sent).  Written directly into a bounded buffer: it runs for
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
 * the reasons array is built for every submit. */
struct fixbuf {
    uint8_t data[4096];
    size_t  len;
    bool    overflow;
};

static void
fb_put(struct fixbuf *fb, const void *p, size_t n)
{
    if (n > sizeof(fb->data) - fb->len) {
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

int
reasons_pack(const struct triage *t, const msgpack_object *fields,
             const uint8_t *raw, size_t raw_len, uint8_t **out, size_t *len)
{
    const struct score_result *r = &t->r;
    size_t nr = t->n_rules;
    static const uint8_t nil = 0xc0;
    uint32_t off[HITLQ_MAX_FIELDS], vl[HITLQ_MAX_FIELDS];
    size_t nf = 0;              /* 0 when raw is not a map: values go out as nil */
    (void)wire_map_value_spans(raw, raw_len, off, vl, HITLQ_MAX_FIELDS, &nf);
    struct fixbuf fb;
    size_t n = r->n_reasons;

    for (;;) {
        size_t cnt = n + nr;
        uint8_t hdr[3] = { 0xdc, (uint8_t)(cnt >> 8), (uint8_t)cnt };

        fb.len = 0;
        fb.overflow = false;
        if (cnt < 16) {
            hdr[0] = (uint8_t)(0x90 | cnt);
            fb_put(&fb, hdr, 1);
        } else {
            fb_put(&fb, hdr, 3);
        }
        for (size_t i = 0; i < nr; i++)
            fb_rule(&fb, &t->rules[i]);
        for (size_t i = 0; i < n; i++) {
            long k = r->reasons[i].value ? reason_index(fields, r->reasons[i].value) : -1;
            uint8_t map3 = 0x83;

            fb_put(&fb, &map3, 1);
            fb_str(&fb, "feature", 7);
            fb_str(&fb, r->reasons[i].feature, strlen(r->reasons[i].feature));
            fb_str(&fb, "value", 5);
            if (k >= 0 && (size_t)k < nf)
                fb_put(&fb, raw + off[k], vl[k]);
            else
                fb_put(&fb, &nil, 1);
            fb_str(&fb, "contribution", 12);
            fb_f64(&fb, r->reasons[i].contribution);
        }
        if (!fb.overflow || (n == 0 && nr == 0))
            break;
        if (n > 0)
            n--;
        else
            nr--;
    }
    *out = malloc(fb.len);
    if (*out == NULL)
        return -1;
    memcpy(*out, fb.data, fb.len);
    *len = fb.len;
    return 0;
}

