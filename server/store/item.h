/*
 * item.h - the on-disk item record (items db value) and a bounded
 * msgpack output buffer used to build index and journal values.
 *
 * Record layout, version ITEM_REC_VERSION.  Fixed-width integers are
 * big-endian; "var" is an unsigned LEB128 varint (7 bits a byte, low
 * first, at most 10 bytes; a u32 field must fit in 32 bits).
 * If you change it, bump ITEM_REC_VERSION *and* STORE_SCHEMA_VERSION
 * (store.h) and add the upgrade step in store_open().
 *
 * Header (ITEM_HDR_FIXED bytes, then varints and names; at most
 * ITEM_HDR_MAX bytes), rewritten on every state change:
 *   1    record version (ITEM_REC_VERSION)
 *   1    state (enum hitlq_item_state)
 *   1    decision outcome (enum decision_outcome)
 *   var  priority (u32)
 *   var  attempts (u32: lease expiries so far)
 *   var  lease_ms (u32: length of the current/last lease)
 *   var  created_ms
 *   var  deadline_ms (0 for auto-resolved items)
 *   var  lease token (0 when not leased)
 *   var  due_ms: lease expiry when leased, ready time when delayed
 *   var  result seq (auto or human resolution; 0 when none)
 *   var  resolved_ms
 *   var  history event count (u32: next event seq)
 *   three names, each u8 len + bytes (no NUL): current queue, worker
 *   (lease holder, or last holder), outcome (auto: the action)
 * Immutable body (written once at SUBMIT, never re-encoded; it follows
 * the header, so a save that changes a name's length moves it):
 *   six strings, each u8 len + bytes + NUL: key, type, model, action
 *   (auto-resolved only, else ""), original queue (queued only, else ""),
 *   submitter (the "submitted" event's actor);
 *   8 score (IEEE-754 bits), 4 original priority, 8 original deadline_ms,
 *   u32 len + stored reasons (below; len 0 = none), u32 len + fields
 *   (msgpack map, exactly the bytes received);
 *   optionally (items since issue 4) a triage trailer: 'S', u8 route
 *   (enum hitlq_route, ITEM_ROUTE_QA for a QA copy), u8 explanation
 *   method (enum hitlq_method), u8 flags (ITEM_FLAG_*), u64 link (a QA
 *   copy: the original item's id; a sampled original: its copy's id);
 *   with the audit log on, a trailer: 'A', salt[32] of the input
 *   commitment, u64 index of the model decision's audit entry (nothing
 *   may follow; without the log the body ends after the fields or the
 *   triage trailer).
 * Stored reasons: a format byte, then
 *   ITEM_REASONS_RAW:     the msgpack array, verbatim;
 *   ITEM_REASONS_COMPACT: u8 n, then n times: u8 ref, [feature (msgpack
 *     str), value (msgpack scalar) when ref is ITEM_REASON_INLINE],
 *     contribution (8 bytes, the float64's bits).  Any other ref is the
 *     index of a pair of the fields map (< ITEM_REASON_INLINE, with only
 *     str -> scalar pairs before it) whose key and value bytes are
 *     exactly the reason's feature and value.  This is the array of n
 *     maps {feature, value, contribution} that the scoring core packs,
 *     without the key names and with the field it names referenced.  Used
 *     only when the array is exactly that shape (fixarray of fixmaps with
 *     those keys in that order, a str feature, a scalar value, a float64
 *     contribution), so item_reasons_pack gives back the received bytes
 *     exactly; anything else is stored raw.
 * The body holds everything the submit-time history events (submitted,
 * scored, queued / auto_resolved) say, so they are not stored in the hist
 * db but rebuilt from the record (journal.h).
 *
 * Version 1 (fixed 392-byte header with 64/128/128-byte name slots, no
 * submitter/priority/deadline in the body, submit events in hist) was
 * never released: version-1 data directories are refused by the schema
 * check in store.c and there is no upgrade step.
 */
#ifndef HITLQ_ITEM_H
#define HITLQ_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "hitlq_proto.h"

#define ITEM_REC_VERSION     2u
#define ITEM_HDR_FIXED       3u
#define ITEM_HDR_NVAR        10u     /* varints after the fixed bytes */
#define ITEM_HDR_MAX         (ITEM_HDR_FIXED + 10u * ITEM_HDR_NVAR + 3u + \
                              HITLQ_MAX_QUEUE_NAME + 2u * HITLQ_MAX_NAME)
#define ITEM_REASONS_RAW     0u
#define ITEM_REASONS_COMPACT 1u
#define ITEM_REASON_INLINE   0xffu   /* compact reason not in the fields */

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
    const char    *key, *type, *model, *action, *queue0, *actor;
    uint8_t        key_len, type_len, model_len, action_len, queue0_len, actor_len;
    double         score;
    uint32_t       priority0;
    uint64_t       deadline0;
    const uint8_t *reasons;        /* stored form (see above): use */
    size_t         reasons_len;    /* item_reasons_pack to read them */
    const uint8_t *fields;
    size_t         fields_len;
    bool           has_audit;      /* the audit trailer is present: */
    const uint8_t *audit_salt;     /* 32 bytes: salt of the input commitment */
    uint64_t       audit_index;    /* the model decision's audit entry */
    bool           has_triage;     /* the triage trailer is present: */
    uint8_t        route, method, flags;
    uint64_t       link;
};

/* Input for building the body of a new record (all borrowed). */
struct item_body_in {
    const char    *key, *type, *model, *action, *queue0, *actor; /* NUL-terminated */
    double         score;
    uint32_t       priority0;
    uint64_t       deadline0;
    const uint8_t *reasons;
    size_t         reasons_len;
    const uint8_t *fields;
    size_t         fields_len;
    const uint8_t *audit_salt;     /* NULL: no audit trailer */
    uint64_t       audit_index;
    bool           triage;         /* write the triage trailer: */
    uint8_t        route, method, flags;
    uint64_t       link;
};

#define ITEM_TRIAGE_TAG     0x53u    /* 'S' */
#define ITEM_TRIAGE_TRAILER (1u + 3u + 8u)
#define ITEM_ROUTE_QA       HITLQ_ROUTE_QA_SAMPLE   /* route of a blind QA copy */
#define ITEM_FLAG_QA_SAMPLED 0x01u   /* auto item drawn for the QA sample */
#define ITEM_FLAG_QA_COPY    0x02u   /* the blind review copy of one */
#define ITEM_AUDIT_TAG     0x41u     /* 'A' */
#define ITEM_AUDIT_TRAILER (1u + 32u + 8u)

/* Encoded size of the header (<= ITEM_HDR_MAX). */
size_t item_hdr_size(const struct item_hdr *h);
/* Writes item_hdr_size(h) bytes at p and returns that size. */
size_t item_hdr_encode(uint8_t *p, const struct item_hdr *h);
/* Returns 0 and the header's size in *hdr_len, or -1 when p[0..len) does
 * not start with a valid version-ITEM_REC_VERSION header. */
int    item_hdr_decode(const uint8_t *p, size_t len, struct item_hdr *h,
                       size_t *hdr_len);

/* An upper bound of the encoded body's size. */
size_t item_body_max(const struct item_body_in *in);
/* Writes the body at p (item_body_max(in) bytes of room); returns its
 * size. */
size_t item_body_encode(uint8_t *p, const struct item_body_in *in);
/* Decodes a body (the record bytes after the header), checking the
 * stored reasons.  Returns 0 or -1. */
int    item_body_decode(const uint8_t *p, size_t len, struct item_body *b);

/* A msgpack_packer target writing into caller memory; `overflow` is set
 * (and further bytes dropped) when cap is exceeded. */
struct mpbuf {
    uint8_t *p;        /* borrowed */
    size_t   len, cap;
    bool     overflow;
};

void mpbuf_init(struct mpbuf *b, msgpack_packer *pk, uint8_t *mem, size_t cap);

/* Packs b's reasons as the msgpack array that was submitted (an empty
 * array when there are none). */
void item_reasons_pack(msgpack_packer *pk, const struct item_body *b);
/* Appends raw (already msgpack-encoded) bytes through a packer. */
void mp_pack_raw(msgpack_packer *pk, const void *p, size_t n);
void mp_pack_strn(msgpack_packer *pk, const char *s, size_t n);

#endif
