/*
 * item.h - the on-disk item record (items db value) and a bounded
 * msgpack output buffer used to build index and journal values.
 *
 * Record layout, version ITEM_REC_VERSION.  All integers big-endian.
 * If you change it, bump ITEM_REC_VERSION *and* STORE_SCHEMA_VERSION
 * (store.h) and add the upgrade step in store_open().
 *
 * Fixed header (ITEM_HDR_LEN = 392 bytes), rewritten on every state change:
 *   off size field
 *   0   1    record version (ITEM_REC_VERSION)
 *   1   1    state (enum hitlq_item_state)
 *   2   1    decision outcome (enum decision_outcome)
 *   3   1    queue name length
 *   4   4    priority
 *   8   4    attempts (lease expiries so far)
 *   12  4    lease_ms (length of the current/last lease)
 *   16  8    created_ms
 *   24  8    deadline_ms (0 for auto-resolved items)
 *   32  8    lease token (0 when not leased)
 *   40  8    due_ms: lease expiry when leased, ready time when delayed
 *   48  8    result seq (auto or human resolution; 0 when none)
 *   56  8    resolved_ms
 *   64  4    history event count (next event seq)
 *   68  1    worker name length
 *   69  1    outcome length
 *   70  2    reserved (0)
 *   72  64   current queue name (not NUL-terminated; length at 3)
 *   136 128  worker: lease holder, or last holder
 *   264 128  outcome (auto: the action)
 * Immutable body (written once at SUBMIT, never re-encoded):
 *   five strings, each u8 len + bytes + NUL: key, type, model, action
 *   (auto-resolved only, else ""), original queue (queued only, else "");
 *   8 score (IEEE-754 bits),
 *   u32 len + reasons (msgpack array), u32 len + fields (msgpack map,
 *   exactly the bytes received).
 */
#ifndef HITLQ_ITEM_H
#define HITLQ_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "hitlq_proto.h"

#define ITEM_REC_VERSION 1u
#define ITEM_HDR_LEN     392u

/* Decoded header: the mutable part of an item. */
struct item_hdr {
    uint8_t  state;
    uint8_t  decision;
    uint32_t priority;
    uint32_t attempts;
    uint32_t lease_ms;
    uint64_t created_ms;
    uint64_t deadline_ms;
    uint64_t lease;
    uint64_t due_ms;
    uint64_t result_seq;
    uint64_t resolved_ms;
    uint32_t hist_n;
    char     queue[HITLQ_MAX_QUEUE_NAME + 1];
    char     worker[HITLQ_MAX_NAME + 1];
    char     outcome[HITLQ_MAX_NAME + 1];
};

/* Decoded body: every pointer borrows from the record bytes; the strings
 * are NUL-terminated there. */
struct item_body {
    const char    *key, *type, *model, *action, *queue0;
    uint8_t        key_len, type_len, model_len, action_len, queue0_len;
    double         score;
    const uint8_t *reasons;
    size_t         reasons_len;
    const uint8_t *fields;
    size_t         fields_len;
};

/* Input for building the body of a new record (all borrowed). */
struct item_body_in {
    const char    *key, *type, *model, *action, *queue0;  /* NUL-terminated */
    double         score;
    const uint8_t *reasons;
    size_t         reasons_len;
    const uint8_t *fields;
    size_t         fields_len;
};

void item_hdr_encode(uint8_t *p, const struct item_hdr *h);
/* Returns 0, or -1 when p[0..len) is not a valid version-1 header. */
int  item_hdr_decode(const uint8_t *p, size_t len, struct item_hdr *h);

size_t item_body_size(const struct item_body_in *in);
void   item_body_encode(uint8_t *p, const struct item_body_in *in);
/* Decodes the body that follows the header.  Returns 0 or -1. */
int    item_body_decode(const uint8_t *rec, size_t len, struct item_body *b);

/* A msgpack_packer target writing into caller memory; `overflow` is set
 * (and further bytes dropped) when cap is exceeded. */
struct mpbuf {
    uint8_t *p;        /* borrowed */
    size_t   len, cap;
    bool     overflow;
};

void mpbuf_init(struct mpbuf *b, msgpack_packer *pk, uint8_t *mem, size_t cap);
/* Appends raw (already msgpack-encoded) bytes through a packer. */
void mp_pack_raw(msgpack_packer *pk, const void *p, size_t n);
void mp_pack_strn(msgpack_packer *pk, const char *s, size_t n);

#endif
