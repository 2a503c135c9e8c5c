/*
 * item.c - encoding and decoding of the item record (layout in item.h) and
 * the bounded msgpack buffer used for index and journal values.
 */
#include <string.h>

#include "item.h"
#include "store.h"

/* Writes a u8-length name (no NUL) of at most cap bytes; returns the end. */
static uint8_t *
item_put_name(uint8_t *p, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);

    *p++ = (uint8_t)n;
    memcpy(p, s, n);
    return p + n;
}

static uint8_t *
item_put_var(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static size_t
item_var_size(uint64_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Reads a varint at *pos (at most 10 bytes, no bits beyond 64). */
static int
item_get_var(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t x = 0;

    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return -1;
        uint8_t b = p[(*pos)++];
        if (shift == 63 && b > 1)
            return -1;
        x |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

static int
item_get_var32(const uint8_t *p, size_t len, size_t *pos, uint32_t *v)
{
    uint64_t x;

    if (item_get_var(p, len, pos, &x) != 0 || x > UINT32_MAX)
        return -1;
    *v = (uint32_t)x;
    return 0;
}

size_t
item_hdr_size(const struct item_hdr *h)
{
    return ITEM_HDR_FIXED + item_var_size(h->priority) +
           item_var_size(h->attempts) + item_var_size(h->lease_ms) +
           item_var_size(h->created_ms) + item_var_size(h->deadline_ms) +
           item_var_size(h->lease) + item_var_size(h->due_ms) +
           item_var_size(h->result_seq) + item_var_size(h->resolved_ms) +
           item_var_size(h->hist_n) + 3 +
           strnlen(h->queue, HITLQ_MAX_QUEUE_NAME) +
           strnlen(h->worker, HITLQ_MAX_NAME) + strnlen(h->outcome, HITLQ_MAX_NAME);
}

size_t
item_hdr_encode(uint8_t *p, const struct item_hdr *h)
{
    uint8_t *e = p + ITEM_HDR_FIXED;

    p[0] = ITEM_REC_VERSION;
    p[1] = h->state;
    p[2] = h->decision;
    e = item_put_var(e, h->priority);
    e = item_put_var(e, h->attempts);
    e = item_put_var(e, h->lease_ms);
    e = item_put_var(e, h->created_ms);
    e = item_put_var(e, h->deadline_ms);
    e = item_put_var(e, h->lease);
    e = item_put_var(e, h->due_ms);
    e = item_put_var(e, h->result_seq);
    e = item_put_var(e, h->resolved_ms);
    e = item_put_var(e, h->hist_n);
    e = item_put_name(e, h->queue, HITLQ_MAX_QUEUE_NAME);
    e = item_put_name(e, h->worker, HITLQ_MAX_NAME);
    e = item_put_name(e, h->outcome, HITLQ_MAX_NAME);
    return (size_t)(e - p);
}

/* Reads a u8-length name at *pos (at most cap bytes) into dst. */
static int
item_get_name(const uint8_t *p, size_t len, size_t *pos, size_t cap, char *dst)
{
    size_t n;

    if (*pos >= len)
        return -1;
    n = p[*pos];
    if (n > cap || len - *pos - 1 < n)
        return -1;
    memcpy(dst, p + *pos + 1, n);
    dst[n] = '\0';
    *pos += 1 + n;
    return 0;
}

int
item_hdr_decode(const uint8_t *p, size_t len, struct item_hdr *h, size_t *hdr_len)
{
    size_t pos = ITEM_HDR_FIXED;

    if (len < ITEM_HDR_FIXED || p[0] != ITEM_REC_VERSION)
        return -1;
    h->state = p[1];
    h->decision = p[2];
    if (item_get_var32(p, len, &pos, &h->priority) != 0 ||
        item_get_var32(p, len, &pos, &h->attempts) != 0 ||
        item_get_var32(p, len, &pos, &h->lease_ms) != 0 ||
        item_get_var(p, len, &pos, &h->created_ms) != 0 ||
        item_get_var(p, len, &pos, &h->deadline_ms) != 0 ||
        item_get_var(p, len, &pos, &h->lease) != 0 ||
        item_get_var(p, len, &pos, &h->due_ms) != 0 ||
        item_get_var(p, len, &pos, &h->result_seq) != 0 ||
        item_get_var(p, len, &pos, &h->resolved_ms) != 0 ||
        item_get_var32(p, len, &pos, &h->hist_n) != 0 ||
        item_get_name(p, len, &pos, HITLQ_MAX_QUEUE_NAME, h->queue) != 0 ||
        item_get_name(p, len, &pos, HITLQ_MAX_NAME, h->worker) != 0 ||
        item_get_name(p, len, &pos, HITLQ_MAX_NAME, h->outcome) != 0)
        return -1;
    *hdr_len = pos;
    return 0;
}

/* ---- reasons (stored form in item.h) ------------------------------------ */

static const uint8_t item_k_feature[] = { 0x83, 0xa7, 'f', 'e', 'a', 't', 'u', 'r', 'e' };
static const uint8_t item_k_value[] = { 0xa5, 'v', 'a', 'l', 'u', 'e' };
static const uint8_t item_k_contrib[] = {
    0xac, 'c', 'o', 'n', 't', 'r', 'i', 'b', 'u', 't', 'i', 'o', 'n', 0xcb,
};

/* Size of the msgpack scalar (nil, bool, int, float, str, bin) at p[0..len),
 * or 0 when it is something else or runs past len. */
static size_t
item_mp_scalar(const uint8_t *p, size_t len)
{
    size_t n, hl;

    if (len == 0)
        return 0;
    uint8_t t = p[0];
    if (t <= 0x7f || t >= 0xe0)
        return 1;
    if (t >= 0xa0 && t <= 0xbf)
        n = 1u + (t & 0x1fu);
    else {
        switch (t) {
        case 0xc0: case 0xc2: case 0xc3:
            return 1;
        case 0xcc: case 0xd0:
            n = 2;
            break;
        case 0xcd: case 0xd1:
            n = 3;
            break;
        case 0xce: case 0xd2: case 0xca:
            n = 5;
            break;
        case 0xcf: case 0xd3: case 0xcb:
            n = 9;
            break;
        case 0xd9: case 0xc4:
            hl = 1;
            goto var;
        case 0xda: case 0xc5:
            hl = 2;
            goto var;
        case 0xdb: case 0xc6:
            hl = 4;
            goto var;
        default:
            return 0;
        }
    }
    return n <= len ? n : 0;
var:
    if (len < 1 + hl)
        return 0;
    n = 0;
    for (size_t i = 0; i < hl; i++)
        n = (n << 8) | p[1 + i];
    return n <= len - 1 - hl ? n + 1 + hl : 0;
}

/* A msgpack str (any width) at p: its size, or 0. */
static size_t
item_mp_str(const uint8_t *p, size_t len)
{
    if (len == 0 || !((p[0] >= 0xa0 && p[0] <= 0xbf) || (p[0] >= 0xd9 && p[0] <= 0xdb)))
        return 0;
    return item_mp_scalar(p, len);
}

static bool
item_mp_lit(const uint8_t *p, size_t len, size_t *pos, const uint8_t *lit, size_t n)
{
    if (len - *pos < n || memcmp(p + *pos, lit, n) != 0)
        return false;
    *pos += n;
    return true;
}

/* ---- the fields map, for reasons that refer to it ---- */

/* Reads a map header at p: pair count and header size, or -1. */
static int
item_mp_map(const uint8_t *p, size_t len, size_t *n, size_t *hl)
{
    if (len >= 1 && (p[0] & 0xf0) == 0x80) {
        *n = p[0] & 0x0fu;
        *hl = 1;
    } else if (len >= 3 && p[0] == 0xde) {
        *n = ((size_t)p[1] << 8) | p[2];
        *hl = 3;
    } else if (len >= 5 && p[0] == 0xdf) {
        *n = store_get_be32(p + 1);
        *hl = 5;
    } else {
        return -1;
    }
    return 0;
}

/* One key/value pair of the fields map (raw msgpack bytes). */
struct item_fpair {
    const uint8_t *k, *v;
    size_t         kl, vl;
};

/* The pairs a compact reason can refer to: the first ITEM_REASON_INLINE
 * pairs of the fields map, up to the first one that is not str -> scalar. */
struct item_fidx {
    size_t             n;
    struct item_fpair  p[ITEM_REASON_INLINE];
};

static void
item_fields_index(const uint8_t *f, size_t len, struct item_fidx *ix)
{
    size_t n, pos, kl, vl;

    ix->n = 0;
    if (item_mp_map(f, len, &n, &pos) != 0)
        return;
    if (n > ITEM_REASON_INLINE)
        n = ITEM_REASON_INLINE;
    for (size_t i = 0; i < n; i++) {
        if ((kl = item_mp_str(f + pos, len - pos)) == 0 ||
            (vl = item_mp_scalar(f + pos + kl, len - pos - kl)) == 0)
            return;
        ix->p[i].k = f + pos;
        ix->p[i].kl = kl;
        ix->p[i].v = f + pos + kl;
        ix->p[i].vl = vl;
        ix->n = i + 1;
        pos += kl + vl;
    }
}

/* Index of the first pair whose key and value bytes are fp's, or
 * ITEM_REASON_INLINE. */
static size_t
item_fields_find(const struct item_fidx *ix, const struct item_fpair *fp)
{
    for (size_t i = 0; i < ix->n; i++) {
        const struct item_fpair *q = &ix->p[i];

        if (q->kl == fp->kl && q->vl == fp->vl && memcmp(q->k, fp->k, fp->kl) == 0 &&
            memcmp(q->v, fp->v, fp->vl) == 0)
            return i;
    }
    return ITEM_REASON_INLINE;
}

/* Writes the stored form of the reasons in `in` (item.h) at dst (room for
 * 1 + in->reasons_len bytes); returns its size. */
static size_t
item_reasons_store(uint8_t *dst, const struct item_body_in *in)
{
    const uint8_t *mp = in->reasons;
    size_t len = in->reasons_len, pos = 1, out = 2, idx;
    unsigned n;
    struct item_fpair fp;
    struct item_fidx ix;

    if (len == 0)
        return 0;
    if ((mp[0] & 0xf0) != 0x90)
        goto raw;
    item_fields_index(in->fields, in->fields_len, &ix);
    n = mp[0] & 0x0fu;
    dst[0] = ITEM_REASONS_COMPACT;
    dst[1] = (uint8_t)n;
    for (unsigned i = 0; i < n; i++) {
        if (!item_mp_lit(mp, len, &pos, item_k_feature, sizeof(item_k_feature)) ||
            (fp.kl = item_mp_str(mp + pos, len - pos)) == 0)
            goto raw;
        fp.k = mp + pos;
        pos += fp.kl;
        if (!item_mp_lit(mp, len, &pos, item_k_value, sizeof(item_k_value)) ||
            (fp.vl = item_mp_scalar(mp + pos, len - pos)) == 0)
            goto raw;
        fp.v = mp + pos;
        pos += fp.vl;
        if (!item_mp_lit(mp, len, &pos, item_k_contrib, sizeof(item_k_contrib)) ||
            len - pos < 8)
            goto raw;
        if ((idx = item_fields_find(&ix, &fp)) < ITEM_REASON_INLINE) {
            dst[out] = (uint8_t)idx;
            out += 1;
        } else {
            dst[out] = ITEM_REASON_INLINE;
            memcpy(dst + out + 1, fp.k, fp.kl);
            memcpy(dst + out + 1 + fp.kl, fp.v, fp.vl);
            out += 1 + fp.kl + fp.vl;
        }
        memcpy(dst + out, mp + pos, 8);
        out += 8;
        pos += 8;
    }
    if (pos == len)
        return out;
raw:       /* (overwrites whatever the compact attempt wrote) */
    dst[0] = ITEM_REASONS_RAW;
    memcpy(dst + 1, mp, len);
    return 1 + len;
}

/* Reason i of the compact form at p[*pos..len): its feature and value
 * (from the fields map when referenced); advances *pos past the
 * contribution, whose 8 bytes are at *contrib.  Returns 0 or -1. */
static int
item_reason_next(const uint8_t *p, size_t len, size_t *pos,
                 const struct item_fidx *ix, struct item_fpair *fp,
                 const uint8_t **contrib)
{
    size_t at = *pos;

    if (at >= len)
        return -1;
    if (p[at] != ITEM_REASON_INLINE) {
        if (p[at] >= ix->n)
            return -1;
        *fp = ix->p[p[at]];
        at += 1;
    } else {
        at += 1;
        if ((fp->kl = item_mp_str(p + at, len - at)) == 0)
            return -1;
        fp->k = p + at;
        at += fp->kl;
        if ((fp->vl = item_mp_scalar(p + at, len - at)) == 0)
            return -1;
        fp->v = p + at;
        at += fp->vl;
    }
    if (len - at < 8)
        return -1;
    *contrib = p + at;
    *pos = at + 8;
    return 0;
}

/* Checks stored reasons against the fields: 0 when well-formed, else -1. */
static int
item_reasons_check(const uint8_t *p, size_t len, const uint8_t *fields,
                   size_t fields_len)
{
    size_t pos = 2;
    struct item_fpair fp;
    struct item_fidx ix;
    const uint8_t *c;

    if (len == 0)
        return 0;
    if (p[0] == ITEM_REASONS_RAW)
        return len > 1 ? 0 : -1;
    if (p[0] != ITEM_REASONS_COMPACT || len < 2 || p[1] > 15)
        return -1;
    item_fields_index(fields, fields_len, &ix);
    for (unsigned i = 0; i < p[1]; i++) {
        if (item_reason_next(p, len, &pos, &ix, &fp, &c) != 0)
            return -1;
    }
    return pos == len ? 0 : -1;
}

void
item_reasons_pack(msgpack_packer *pk, const struct item_body *b)
{
    const uint8_t *p = b->reasons, *c;
    size_t len = b->reasons_len, pos = 2;
    struct item_fpair fp;
    struct item_fidx ix;

    if (len == 0) {
        msgpack_pack_array(pk, 0);
        return;
    }
    if (p[0] == ITEM_REASONS_RAW) {
        mp_pack_raw(pk, p + 1, len - 1);
        return;
    }
    msgpack_pack_array(pk, p[1]);     /* fixarray: n <= 15 */
    item_fields_index(b->fields, b->fields_len, &ix);
    for (unsigned i = 0; i < p[1]; i++) {
        /* checked by item_body_decode */
        if (item_reason_next(p, len, &pos, &ix, &fp, &c) != 0)
            return;
        mp_pack_raw(pk, item_k_feature, sizeof(item_k_feature));
        mp_pack_raw(pk, fp.k, fp.kl);
        mp_pack_raw(pk, item_k_value, sizeof(item_k_value));
        mp_pack_raw(pk, fp.v, fp.vl);
        mp_pack_raw(pk, item_k_contrib, sizeof(item_k_contrib));
        mp_pack_raw(pk, c, 8);
    }
}

/* ---- body ------------------------------------------------------------------ */

size_t
item_body_max(const struct item_body_in *in)
{
    /* stored reasons are at most 1 + reasons_len (raw) */
    return 12 + strlen(in->key) + strlen(in->type) + strlen(in->model) +
           strlen(in->action) + strlen(in->queue0) + strlen(in->actor) +
           8 + 4 + 8 + 4 + 1 + in->reasons_len + 4 + in->fields_len +
           ITEM_TRIAGE_TRAILER + ITEM_AUDIT_TRAILER;
}

static uint8_t *
item_put_short(uint8_t *p, const char *s)
{
    size_t n = strlen(s);

    *p++ = (uint8_t)n;
    memcpy(p, s, n);
    p[n] = '\0';
    return p + n + 1;
}

static uint8_t *
item_put_long(uint8_t *p, const uint8_t *b, size_t n)
{
    store_put_be32(p, (uint32_t)n);
    if (n > 0)
        memcpy(p + 4, b, n);
    return p + 4 + n;
}

size_t
item_body_encode(uint8_t *p, const struct item_body_in *in)
{
    uint8_t *start = p;
    uint64_t bits;

    p = item_put_short(p, in->key);
    p = item_put_short(p, in->type);
    p = item_put_short(p, in->model);
    p = item_put_short(p, in->action);
    p = item_put_short(p, in->queue0);
    p = item_put_short(p, in->actor);
    memcpy(&bits, &in->score, 8);
    store_put_be64(p, bits);
    store_put_be32(p + 8, in->priority0);
    store_put_be64(p + 12, in->deadline0);
    size_t rn = item_reasons_store(p + 24, in);
    store_put_be32(p + 20, (uint32_t)rn);
    p = item_put_long(p + 24 + rn, in->fields, in->fields_len);
    if (in->triage) {
        p[0] = ITEM_TRIAGE_TAG;
        p[1] = in->route;
        p[2] = in->method;
        p[3] = in->flags;
        store_put_be64(p + 4, in->link);
        p += ITEM_TRIAGE_TRAILER;
    }
    if (in->audit_salt != NULL) {
        *p = ITEM_AUDIT_TAG;
        memcpy(p + 1, in->audit_salt, 32);
        store_put_be64(p + 33, in->audit_index);
        p += ITEM_AUDIT_TRAILER;
    }
    return (size_t)(p - start);
}

/* Reads a u8-length string at *pos; returns -1 when it runs past end. */
static int
item_get_short(const uint8_t *rec, size_t len, size_t *pos,
               const char **s, uint8_t *n)
{
    if (*pos >= len || len - *pos < 2 || len - *pos - 2 < rec[*pos])
        return -1;
    *n = rec[*pos];
    if (rec[*pos + 1 + *n] != '\0')
        return -1;
    *s = (const char *)rec + *pos + 1;
    *pos += 2u + *n;
    return 0;
}

static int
item_get_long(const uint8_t *rec, size_t len, size_t *pos,
              const uint8_t **b, size_t *n)
{
    if (len - *pos < 4)
        return -1;
    *n = store_get_be32(rec + *pos);
    if (len - *pos - 4 < *n)
        return -1;
    *b = rec + *pos + 4;
    *pos += 4 + *n;
    return 0;
}

int
item_body_decode(const uint8_t *p, size_t len, struct item_body *b)
{
    size_t pos = 0;
    uint64_t bits;

    if (item_get_short(p, len, &pos, &b->key, &b->key_len) != 0 ||
        item_get_short(p, len, &pos, &b->type, &b->type_len) != 0 ||
        item_get_short(p, len, &pos, &b->model, &b->model_len) != 0 ||
        item_get_short(p, len, &pos, &b->action, &b->action_len) != 0 ||
        item_get_short(p, len, &pos, &b->queue0, &b->queue0_len) != 0 ||
        item_get_short(p, len, &pos, &b->actor, &b->actor_len) != 0 ||
        len - pos < 20)
        return -1;
    bits = store_get_be64(p + pos);
    memcpy(&b->score, &bits, 8);
    b->priority0 = store_get_be32(p + pos + 8);
    b->deadline0 = store_get_be64(p + pos + 12);
    pos += 20;
    if (item_get_long(p, len, &pos, &b->reasons, &b->reasons_len) != 0 ||
        item_get_long(p, len, &pos, &b->fields, &b->fields_len) != 0 ||
        item_reasons_check(b->reasons, b->reasons_len, b->fields,
                           b->fields_len) != 0)
        return -1;
    b->has_triage = len - pos >= ITEM_TRIAGE_TRAILER && p[pos] == ITEM_TRIAGE_TAG;
    if (b->has_triage) {
        b->route = p[pos + 1];
        b->method = p[pos + 2];
        b->flags = p[pos + 3];
        b->link = store_get_be64(p + pos + 4);
        pos += ITEM_TRIAGE_TRAILER;
    } else {
        b->route = b->method = b->flags = 0;
        b->link = 0;
    }
    b->has_audit = len - pos == ITEM_AUDIT_TRAILER && p[pos] == ITEM_AUDIT_TAG;
    if (!b->has_audit)
        return pos == len ? 0 : -1;
    b->audit_salt = p + pos + 1;
    b->audit_index = store_get_be64(p + pos + 33);
    return 0;
}

static int
mpbuf_write(void *data, const char *buf, size_t len)
{
    struct mpbuf *b = data;

    if (b->overflow || b->cap - b->len < len) {
        b->overflow = true;
        return -1;
    }
    memcpy(b->p + b->len, buf, len);
    b->len += len;
    return 0;
}

void
mpbuf_init(struct mpbuf *b, msgpack_packer *pk, uint8_t *mem, size_t cap)
{
    b->p = mem;
    b->len = 0;
    b->cap = cap;
    b->overflow = false;
    msgpack_packer_init(pk, b, mpbuf_write);
}

void
mp_pack_raw(msgpack_packer *pk, const void *p, size_t n)
{
    if (n > 0)
        pk->callback(pk->data, p, n);
}

void
mp_pack_strn(msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}
