/*
 * wire.h - message bodies: strict schema decoding of request/reply maps
 * (msgpack-c objects) and helpers to pack bodies and whole frames.
 *
 * No I/O.  Decoding runs only on bodies that mp_validate() accepted, so
 * msgpack-c's allocations are bounded by the element budget.
 * Errors (proto/README.md): HITLQ_ST_* statuses; predicates return bool.
 */
#ifndef HITLQ_WIRE_H
#define HITLQ_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "hitlq_proto.h"

/* Unpacks a validated body into `zone` (caller-owned, reusable: call
 * msgpack_zone_clear between frames).  Strings in *out point into body
 * (borrowed).  An empty body yields an empty map.  Returns HITLQ_ST_OK or
 * HITLQ_ST_BAD_MSGPACK. */
int wire_unpack(const uint8_t *body, size_t len, msgpack_zone *zone,
                msgpack_object *out);

/* Value kinds a schema can demand. */
enum wire_kind {
    WIRE_UINT,     /* non-negative integer in [min, max] */
    WIRE_FLOAT,    /* float or integer, finite */
    WIRE_BOOL,
    WIRE_STR,      /* any UTF-8 str, length <= max (0 = HITLQ_MAX_STR) */
    WIRE_NAME,     /* name charset of PROTOCOL.md §2, 1..HITLQ_MAX_NAME */
    WIRE_QNAME,    /* name, 1..HITLQ_MAX_QUEUE_NAME */
    WIRE_MAP,      /* map with at most max entries (0 = no extra cap) */
    WIRE_ARRAY,    /* array with at most max entries */
    WIRE_BIN,      /* bin of min..max bytes */
    WIRE_ANY,
    WIRE_TOKEN     /* WIRE_UINT, or the same integer as a str of 1..20 decimal
                    * digits without leading zeros (lease tokens: JSON tools
                    * round 64-bit integers) */
};

struct wire_field {
    const char    *name;
    enum wire_kind kind;
    bool           required;
    uint64_t       min, max;     /* WIRE_UINT range; max length/count otherwise */
};

/* Checks `map` against `schema` (n entries): it must be a map, keys must be
 * str and unique, every key must be in the schema, required keys present,
 * kinds and ranges right.  out[i] is set to the value of schema[i] or NULL
 * when absent (borrowed from the map).  Returns HITLQ_ST_OK or
 * HITLQ_ST_BAD_REQUEST with a message naming the key in err. */
int wire_decode(const msgpack_object *map, const struct wire_field *schema,
                size_t n, const msgpack_object **out, char *err, size_t errlen);

/* True when s[0..len) is a valid name (charset of §2, 1..max bytes). */
bool wire_is_name(const char *s, size_t len, size_t max);

/* Copies a str object into dst (size dstlen, NUL-terminated).  The object
 * must already have been checked (WIRE_NAME/WIRE_QNAME/WIRE_STR). */
void wire_copy_str(const msgpack_object *o, char *dst, size_t dstlen);

/* True when every key of map `m` is a str and none repeats (§2 rule 7);
 * for nested maps such as SUBMIT's `fields`.  O(n^2): use on maps already
 * capped by their schema (e.g. HITLQ_MAX_FIELDS). */
bool wire_map_keys_unique(const msgpack_object *m);

/* Returns the value stored under `key` in map `m`, or NULL. */
const msgpack_object *wire_map_get(const msgpack_object *m, const char *key);

/* True with the value in *v when s[0..len) is 1..20 decimal digits, no
 * leading zero (but "0"), at most UINT64_MAX. */
bool wire_dec_u64(const char *s, size_t len, uint64_t *v);

/* Reading numbers from an already-checked object (wire_u64 also reads a
 * WIRE_TOKEN's decimal str; 0 for anything else). */
uint64_t wire_u64(const msgpack_object *o);
double   wire_f64(const msgpack_object *o);

/* ---- packing ---------------------------------------------------------
 * A frame is built in a msgpack_sbuffer: wire_frame_begin() reserves the
 * 12-byte header, the body is packed with the msgpack_packer, and
 * wire_frame_end() patches the header (body_len = bytes since begin).
 * Several frames may be appended to one sbuffer this way. */
size_t wire_frame_begin(msgpack_sbuffer *sb);               /* returns offset */
void   wire_frame_end(msgpack_sbuffer *sb, size_t off, uint8_t opcode,
                      uint16_t status, uint32_t request_id);

/* Appends a complete error frame {code, message} to sb. */
void wire_pack_error(msgpack_sbuffer *sb, msgpack_packer *pk, uint8_t opcode,
                     uint16_t status, uint32_t request_id, const char *message);
/* The same with one more string key (val NULL or "" packs nil), e.g.
 * not_leader's `leader`. */
void wire_pack_error_kv(msgpack_sbuffer *sb, msgpack_packer *pk, uint8_t opcode,
                        uint16_t status, uint32_t request_id, const char *message,
                        const char *key, const char *val);

/* Small packing helpers: a NUL-terminated string, and "key: value" pairs.
 * Inline so that the length of a literal key is folded at compile time
 * (they run for every field of every reply). */
static inline void
wire_pack_cstr(msgpack_packer *pk, const char *s)
{
    size_t n = __builtin_strlen(s);

    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static inline void
wire_pack_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    wire_pack_cstr(pk, k);
    wire_pack_cstr(pk, v);
}

static inline void
wire_pack_kv_strn(msgpack_packer *pk, const char *k, const char *v, size_t n)
{
    wire_pack_cstr(pk, k);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, v, n);
}

static inline void
wire_pack_kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
    wire_pack_cstr(pk, k);
    msgpack_pack_uint64(pk, v);
}

static inline void
wire_pack_kv_bin(msgpack_packer *pk, const char *k, const void *v, size_t n)
{
    wire_pack_cstr(pk, k);
    msgpack_pack_bin(pk, n);
    msgpack_pack_bin_body(pk, v, n);
}

static inline void
wire_pack_kv_f64(msgpack_packer *pk, const char *k, double v)
{
    wire_pack_cstr(pk, k);
    msgpack_pack_double(pk, v);
}

static inline void
wire_pack_kv_bool(msgpack_packer *pk, const char *k, bool v)
{
    wire_pack_cstr(pk, k);
    if (v)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

static inline void
wire_pack_kv_nil(msgpack_packer *pk, const char *k)
{
    wire_pack_cstr(pk, k);
    msgpack_pack_nil(pk);
}

/* For a VALIDATED msgpack map at raw[0..len): the byte span of each value,
 * in map order (off[i], vlen[i]), for at most max entries; *n gets their
 * number.  Returns HITLQ_ST_OK, or HITLQ_ST_BAD_MSGPACK (*n = 0) if raw is
 * not a map. */
int wire_map_value_spans(const uint8_t *raw, size_t len, uint32_t *off,
                         uint32_t *vlen, size_t max, size_t *n);

/* Finds the value stored under `key` in the top-level map of a VALIDATED
 * body and returns its exact bytes (borrowed from body) in *val, *vlen.
 * Lets a handler keep a sub-object as received, without re-packing.
 * Returns true when found. */
bool wire_body_raw(const uint8_t *body, size_t len, const char *key,
                   const uint8_t **val, size_t *vlen);

/* ---- status and opcode names (proto/status.c) ------------------------ */
const char *hitlq_status_str(int status);    /* wire string, "unknown" if none */
const char *hitlq_status_desc(int status);   /* human description */
bool        hitlq_status_is_fatal(int status);
const char *hitlq_op_name(int opcode);       /* "SUBMIT", or NULL if unknown */

#endif
