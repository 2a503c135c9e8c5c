/*
 * frame.c - frame header codec (PROTOCOL.md §2), the stateless frame_parse
 * and the incremental frame_reader.  The reader owns one growable buffer,
 * refuses an oversized body_len as soon as the header is complete (before
 * the body is buffered) and keeps errors sticky.  No I/O, no logging.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

/* Buffers above this size are freed once they hold nothing, so a single
 * large frame does not pin 1 MiB per idle connection. */
#define FRAME_READER_KEEP   (64u * 1024u)
#define FRAME_READER_MIN    4096u

static uint32_t
frame_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
frame_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void
frame_hdr_encode(uint8_t out[HITLQ_FRAME_HDR_LEN], const struct frame_hdr *h)
{
    frame_put32(out, h->body_len);
    out[4] = HITLQ_MAGIC;
    out[5] = h->opcode;
    out[6] = (uint8_t)(h->status >> 8);
    out[7] = (uint8_t)h->status;
    frame_put32(out + 8, h->request_id);
}

int
frame_hdr_decode(const uint8_t in[HITLQ_FRAME_HDR_LEN], uint32_t max_body,
                 struct frame_hdr *h)
{
    h->body_len = frame_get32(in);
    h->opcode = in[5];
    h->status = (uint16_t)((unsigned)in[6] << 8 | in[7]);
    h->request_id = frame_get32(in + 8);
    if (in[4] != HITLQ_MAGIC)
        return HITLQ_ST_BAD_FRAME;
    if (h->body_len > max_body)
        return HITLQ_ST_FRAME_TOO_LARGE;
    return HITLQ_ST_OK;
}

enum frame_rc
frame_parse(const uint8_t *buf, size_t len, uint32_t max_body,
            struct frame *out, int *status)
{
    int st;

    *status = HITLQ_ST_OK;
    if (len < HITLQ_FRAME_HDR_LEN)
        return FRAME_NEED_MORE;
    st = frame_hdr_decode(buf, max_body, &out->hdr);
    if (st != HITLQ_ST_OK) {
        *status = st;
        return FRAME_ERROR;
    }
    /* body_len <= max_body <= UINT32_MAX: compare without adding, so the
     * header + body sum cannot wrap where size_t is 32 bits. */
    if (len - HITLQ_FRAME_HDR_LEN < out->hdr.body_len)
        return FRAME_NEED_MORE;
    out->body = buf + HITLQ_FRAME_HDR_LEN;
    out->total_len = HITLQ_FRAME_HDR_LEN + (size_t)out->hdr.body_len;
    return FRAME_OK;
}

void
frame_reader_init(struct frame_reader *r, uint32_t max_body)
{
    memset(r, 0, sizeof(*r));
    r->max_body = max_body;
    r->status = HITLQ_ST_OK;
}

void
frame_reader_clear(struct frame_reader *r)
{
    free(r->buf);
    r->buf = NULL;
    r->len = r->cap = r->pos = 0;
}

/* Records a sticky error; always returns FRAME_ERROR. */
static enum frame_rc
frame_reader_fail(struct frame_reader *r, int status, const uint8_t *hdr)
{
    r->status = status;
    if (status == HITLQ_ST_BAD_FRAME)
        snprintf(r->errstr, sizeof(r->errstr), "bad magic 0x%02x (want 0x%02x)",
                 hdr[4], HITLQ_MAGIC);
    else
        snprintf(r->errstr, sizeof(r->errstr), "body_len %u exceeds limit %u",
                 (unsigned)frame_get32(hdr), (unsigned)r->max_body);
    return FRAME_ERROR;
}

/* Checks the header of the first unconsumed frame once it is complete, so
 * an oversized body_len is refused before its body is buffered. */
static int
frame_reader_check(struct frame_reader *r)
{
    struct frame_hdr h;
    int st;

    if (r->len - r->pos < HITLQ_FRAME_HDR_LEN)
        return 0;
    st = frame_hdr_decode(r->buf + r->pos, r->max_body, &h);
    if (st != HITLQ_ST_OK) {
        frame_reader_fail(r, st, r->buf + r->pos);
        return -1;
    }
    return 0;
}

/* Moves unconsumed bytes to the front; frees a large empty buffer. */
static void
frame_reader_compact(struct frame_reader *r)
{
    if (r->pos == r->len) {
        r->pos = r->len = 0;
        if (r->cap > FRAME_READER_KEEP)
            frame_reader_clear(r);
        return;
    }
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
}

/* Grows buf to hold `need` bytes: doubling, but never past
 * max(need, one maximal frame). */
static int
frame_reader_reserve(struct frame_reader *r, size_t need)
{
    size_t cap, frame_max;
    uint8_t *nb;

    if (need <= r->cap)
        return 0;
    frame_max = HITLQ_FRAME_HDR_LEN + (size_t)r->max_body;
    if (frame_max < HITLQ_FRAME_HDR_LEN)
        frame_max = SIZE_MAX;
    cap = r->cap ? r->cap : FRAME_READER_MIN;
    while (cap < need && cap <= SIZE_MAX / 2)
        cap *= 2;
    if (cap > frame_max)
        cap = frame_max;
    if (cap < need)
        cap = need;
    nb = realloc(r->buf, cap);
    if (nb == NULL)
        return -1;
    r->buf = nb;
    r->cap = cap;
    return 0;
}

int
frame_reader_feed(struct frame_reader *r, const void *data, size_t len)
{
    if (r->status != HITLQ_ST_OK)
        return -1;
    if (len == 0)
        return 0;
    frame_reader_compact(r);
    if (len > SIZE_MAX - r->len || frame_reader_reserve(r, r->len + len) < 0)
        return -1;
    memcpy(r->buf + r->len, data, len);
    r->len += len;
    return frame_reader_check(r);
}

enum frame_rc
frame_reader_next(struct frame_reader *r, struct frame *out)
{
    enum frame_rc rc;
    int st;

    if (r->status != HITLQ_ST_OK)
        return FRAME_ERROR;
    if (r->pos == r->len) {
        frame_reader_compact(r);
        return FRAME_NEED_MORE;
    }
    rc = frame_parse(r->buf + r->pos, r->len - r->pos, r->max_body, out, &st);
    if (rc == FRAME_ERROR)
        return frame_reader_fail(r, st, r->buf + r->pos);
    if (rc == FRAME_OK)
        r->pos += out->total_len;
    return rc;
}
