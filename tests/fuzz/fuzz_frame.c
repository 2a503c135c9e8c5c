/*
 * fuzz_frame.c - libFuzzer target for the incremental frame reader
 * (docs/RELIABILITY.md §2.7, T4).  The first input byte picks a feed chunk size
 * of 1..256; the rest is fed in such chunks, frames are drained after each
 * feed, checked against the stateless frame_parse over the same stream, and
 * each body goes through mp_validate.  Built with HITLQ_FUZZ_REPLAY defined,
 * only fuzz_frame_one() is compiled (tests/unit/test_fuzz_replay.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "validate.h"

struct fuzz_frame_ctx {
    const uint8_t *stream;   /* the bytes after the chunk-size byte */
    size_t         len;
    size_t         off;      /* where the next frame starts in stream */
};

/* The reader must agree with frame_parse over the whole stream. */
static void
fuzz_frame_check(struct fuzz_frame_ctx *c, const struct frame *f,
                 uint32_t max_body)
{
    struct frame g;
    char err[128];
    int st;

    if (frame_parse(c->stream + c->off, c->len - c->off, max_body, &g, &st) != FRAME_OK)
        abort();
    if (g.total_len != f->total_len || g.hdr.request_id != f->hdr.request_id ||
        g.hdr.opcode != f->hdr.opcode || g.hdr.status != f->hdr.status ||
        memcmp(g.body, f->body, f->hdr.body_len) != 0)
        abort();
    if (f->total_len != HITLQ_FRAME_HDR_LEN + (size_t)f->hdr.body_len ||
        f->hdr.body_len > max_body)
        abort();
    c->off += f->total_len;
    st = mp_validate(f->body, f->hdr.body_len, &mp_limits_default, err, sizeof(err));
    if (st != HITLQ_ST_OK && st != HITLQ_ST_BAD_MSGPACK && st != HITLQ_ST_LIMIT_EXCEEDED)
        abort();
    if (st != HITLQ_ST_OK && err[0] == '\0')
        abort();
}

/* Drains every complete frame; returns 0 on FRAME_ERROR. */
static int
fuzz_frame_drain(struct frame_reader *r, struct fuzz_frame_ctx *c)
{
    struct frame f;
    enum frame_rc rc;

    while ((rc = frame_reader_next(r, &f)) == FRAME_OK)
        fuzz_frame_check(c, &f, r->max_body);
    if (rc == FRAME_ERROR) {
        if (r->status != HITLQ_ST_BAD_FRAME && r->status != HITLQ_ST_FRAME_TOO_LARGE)
            abort();
        if (frame_reader_next(r, &f) != FRAME_ERROR)   /* sticky */
            abort();
        return 0;
    }
    /* Bounded buffering: never more than one frame plus a chunk. */
    if (r->len - r->pos > HITLQ_FRAME_HDR_LEN + (size_t)r->max_body + 256)
        abort();
    return 1;
}

int
fuzz_frame_one(const uint8_t *data, size_t size)
{
    struct frame_reader r;
    struct fuzz_frame_ctx c;
    size_t chunk, n;
    uint32_t max_body;

    if (size < 1)
        return 0;
    chunk = (size_t)data[0] + 1;
    max_body = (size & 1) ? HITLQ_MAX_FRAME : HITLQ_MAX_FRAME_PREAUTH;
    c.stream = data + 1;
    c.len = size - 1;
    c.off = 0;
    frame_reader_init(&r, max_body);
    for (size_t at = 0; at < c.len; at += n) {
        n = c.len - at < chunk ? c.len - at : chunk;
        if (frame_reader_feed(&r, c.stream + at, n) < 0) {
            if (r.status == HITLQ_ST_OK)
                abort();   /* allocation failure is not expected here */
            break;
        }
        if (!fuzz_frame_drain(&r, &c))
            break;
    }
    if (r.status == HITLQ_ST_OK && c.off < c.len) {
        /* What is left must be an incomplete frame. */
        struct frame g;
        int st;

        if (frame_parse(c.stream + c.off, c.len - c.off, max_body, &g, &st) != FRAME_NEED_MORE)
            abort();
    }
    frame_reader_clear(&r);
    return 0;
}

#ifndef HITLQ_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_frame_one(data, size);
}
#endif
