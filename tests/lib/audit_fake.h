/*
 * audit_fake.h - test helper for tests/unit/test_audit_tool.c: a fake hitlqd
 * that speaks the real wire protocol (frames, HELLO, the audit opcodes of
 * PROTOCOL.md §4.12) over loopback from a generated log, with switches to
 * misbehave.  One thread; connections are served one after another.
 */
#ifndef HITLQ_AUDIT_FAKE_H
#define HITLQ_AUDIT_FAKE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit_gen.h"

struct fake_srv {
    /* set before fake_srv_start; borrowed */
    const struct gen_log *log;         /* committed entries: log->n */
    size_t                size;        /* signed size (checkpoint) */
    const char           *note;        /* its signed checkpoint */
    size_t                note_len;
    uint64_t              flip_at;     /* serve this entry with a byte flipped
                                          (stored hash unchanged); GEN_NONE */
    bool                  short_hash;  /* AUDIT_ENTRIES hashes of 31 bytes */
    unsigned              max_batch;   /* entries per AUDIT_ENTRIES reply */
    /* internal */
    int                   lfd;
    uint16_t              port;
    pthread_t             th;
};

void fake_srv_start(struct fake_srv *f);
void fake_srv_stop(struct fake_srv *f);

#endif
