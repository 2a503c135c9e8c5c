/*
 * frame.h - frame header codec and incremental frame reader (no I/O).
 *
 * Shared by hitlqd, libhitlq, the tests and the fuzzers.  Nothing here
 * touches a socket, logs or keeps global state.  Layout: PROTOCOL.md §2.
 *
 * Errors (proto/README.md): HITLQ_ST_* statuses; the parsers return enum
 * frame_rc with the status beside it; frame_reader_feed is the one 0/-1
 * exception.
 */
#ifndef HITLQ_FRAME_H
#define HITLQ_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "hitlq_proto.h"

struct frame_hdr {
    uint32_t body_len;
    uint8_t  opcode;
    uint16_t status;
    uint32_t request_id;
};

/* Writes the 12-byte header for `h` into out (magic included). */
void frame_hdr_encode(uint8_t out[HITLQ_FRAME_HDR_LEN], const struct frame_hdr *h);

/* Decodes a 12-byte header and checks magic and body_len <= max_body.
 * Returns HITLQ_ST_OK, HITLQ_ST_BAD_FRAME (bad magic) or
 * HITLQ_ST_FRAME_TOO_LARGE.  `h` is filled in every case where the bytes
 * could be read (so the caller can echo request_id in the error reply). */
int frame_hdr_decode(const uint8_t in[HITLQ_FRAME_HDR_LEN], uint32_t max_body,
                     struct frame_hdr *h);

/* Result of frame_parse / frame_reader_next. */
enum frame_rc {
    FRAME_NEED_MORE = 0,   /* not enough bytes yet */
    FRAME_OK        = 1,   /* one whole frame available */
    FRAME_ERROR     = -1   /* sticky: see status / errstr */
};

/* A parsed frame.  `body` points INTO the caller's buffer (borrowed: valid
 * until that buffer changes); it is not NUL-terminated. */
struct frame {
    struct frame_hdr hdr;
    const uint8_t   *body;
    size_t           total_len;   /* header + body: bytes to consume */
};

/* Stateless parse of the first frame in buf[0..len).  On FRAME_ERROR,
 * *status is HITLQ_ST_BAD_FRAME or HITLQ_ST_FRAME_TOO_LARGE. */
enum frame_rc frame_parse(const uint8_t *buf, size_t len, uint32_t max_body,
                          struct frame *out, int *status);

/* Incremental reader over a growable buffer it owns (hiredis read.c style):
 * feed() bytes as they arrive, next() frames out.  A frame returned by
 * next() stays valid until the following feed() or next() call.  Errors are
 * sticky: after FRAME_ERROR every call returns FRAME_ERROR. */
struct frame_reader {
    uint8_t  *buf;        /* owned */
    size_t    len;        /* bytes held */
    size_t    cap;
    size_t    pos;        /* start of unconsumed bytes */
    uint32_t  max_body;   /* limit applied to every header */
    int       status;     /* HITLQ_ST_OK or the sticky error */
    char      errstr[128];
};

void frame_reader_init(struct frame_reader *r, uint32_t max_body);
void frame_reader_clear(struct frame_reader *r);       /* frees buf */
/* Returns 0, or -1 on allocation failure / sticky error (never buffers
 * more than one maximal frame plus the bytes given). */
int  frame_reader_feed(struct frame_reader *r, const void *data, size_t len);
enum frame_rc frame_reader_next(struct frame_reader *r, struct frame *out);

#endif
