/*
 * wire_pack.c - packing side of message bodies: frames built in a
 * msgpack_sbuffer (header reserved, then patched), error frames, and small
 * "key: value" helpers.  No I/O.  Decoding lives in wire.c.
 */
#include <string.h>

#include "frame.h"
#include "wire.h"

size_t
wire_frame_begin(msgpack_sbuffer *sb)
{
    static const char zero[HITLQ_FRAME_HDR_LEN];
    size_t off = sb->size;

    msgpack_sbuffer_write(sb, zero, sizeof(zero));
    return off;
}

void
wire_frame_end(msgpack_sbuffer *sb, size_t off, uint8_t opcode,
               uint16_t status, uint32_t request_id)
{
    struct frame_hdr h = {
        .body_len = (uint32_t)(sb->size - off - HITLQ_FRAME_HDR_LEN),
        .opcode = opcode,
        .status = status,
        .request_id = request_id,
    };

    frame_hdr_encode((uint8_t *)sb->data + off, &h);
}

void
wire_pack_error(msgpack_sbuffer *sb, msgpack_packer *pk, uint8_t opcode,
                uint16_t status, uint32_t request_id, const char *message)
{
    wire_pack_error_kv(sb, pk, opcode, status, request_id, message, NULL, NULL);
}

void
wire_pack_error_kv(msgpack_sbuffer *sb, msgpack_packer *pk, uint8_t opcode,
                   uint16_t status, uint32_t request_id, const char *message,
                   const char *key, const char *val)
{
    size_t off = wire_frame_begin(sb);

    msgpack_pack_map(pk, key != NULL ? 3 : 2);
    wire_pack_kv_str(pk, "code", hitlq_status_str(status));
    wire_pack_kv_str(pk, "message", message ? message : hitlq_status_desc(status));
    if (key != NULL) {
        wire_pack_cstr(pk, key);
        if (val != NULL && val[0] != '\0')
            wire_pack_cstr(pk, val);
        else
            msgpack_pack_nil(pk);
    }
    wire_frame_end(sb, off, opcode, status, request_id);
}

/* ---- raw access to a validated body ------------------------------------ */

/* Header of the object at p: its total header+payload length for scalars
 * (*hdr), and how many child objects follow (*kids).  Input is validated,
 * so every length fits in the buffer. */
static size_t
mp_head(const uint8_t *p, uint64_t *kids)
{
    uint8_t b = p[0];

    *kids = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 1;
    if (b >= 0x80 && b <= 0x8f) { *kids = 2u * (b & 0x0f); return 1; }
    if (b >= 0x90 && b <= 0x9f) { *kids = b & 0x0f; return 1; }
    if (b >= 0xa0 && b <= 0xbf) return 1u + (b & 0x1f);
    switch (b) {
    case 0xc4: case 0xd9: return 2u + p[1];
    case 0xc5: case 0xda: return 3u + ((size_t)p[1] << 8 | p[2]);
    case 0xc6: case 0xdb:
        return 5u + ((size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4]);
    case 0xca: case 0xce: case 0xd2: return 5;
    case 0xcb: case 0xcf: case 0xd3: return 9;
    case 0xcc: case 0xd0: return 2;
    case 0xcd: case 0xd1: return 3;
    case 0xdc: *kids = (uint64_t)p[1] << 8 | p[2]; return 3;
    case 0xdd: *kids = (uint64_t)p[1] << 24 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 8 | p[4];
        return 5;
    case 0xde: *kids = 2u * ((uint64_t)p[1] << 8 | p[2]); return 3;
    case 0xdf: *kids = 2u * ((uint64_t)p[1] << 24 | (uint64_t)p[2] << 16 |
                             (uint64_t)p[3] << 8 | p[4]);
        return 5;
    default: return 0;   /* ext or 0xc1: never in a validated body */
    }
}

/* Length of the whole object starting at p (0 if malformed). */
static size_t
mp_skip(const uint8_t *p, size_t len)
{
    uint64_t pending = 1, kids;
    size_t off = 0, h;

    while (pending > 0) {
        if (off >= len || (h = mp_head(p + off, &kids)) == 0 || h > len - off)
            return 0;
        off += h;
        pending += kids - 1;
    }
    return off;
}

/* True when the str object at p (of total length ks) equals key. */
static bool
mp_str_is(const uint8_t *p, size_t ks, const char *key, size_t klen)
{
    size_t hl;

    if (p[0] >= 0xa0 && p[0] <= 0xbf)
        hl = 1;
    else if (p[0] == 0xd9)
        hl = 2;
    else if (p[0] == 0xda)
        hl = 3;
    else if (p[0] == 0xdb)
        hl = 5;
    else
        return false;
    return ks - hl == klen && memcmp(p + hl, key, klen) == 0;
}

bool
wire_body_raw(const uint8_t *body, size_t len, const char *key,
              const uint8_t **val, size_t *vlen)
{
    size_t klen = strlen(key), off;
    uint64_t n;

    if (len == 0 || !((body[0] & 0xf0) == 0x80 || body[0] == 0xde || body[0] == 0xdf))
        return false;
    off = mp_head(body, &n);
    for (n /= 2; n > 0; n--) {
        size_t ks = mp_skip(body + off, len - off), vs;
        bool match;

        if (ks == 0)
            return false;
        match = mp_str_is(body + off, ks, key, klen);
        off += ks;
        vs = mp_skip(body + off, len - off);
        if (vs == 0)
            return false;
        if (match) {
            *val = body + off;
            *vlen = vs;
            return true;
        }
        off += vs;
    }
    return false;
}

int
wire_map_value_spans(const uint8_t *raw, size_t len, uint32_t *off,
                     uint32_t *vlen, size_t max, size_t *n)
{
    size_t at;
    uint64_t cnt;

    *n = 0;
    if (len == 0 || !((raw[0] & 0xf0) == 0x80 || raw[0] == 0xde || raw[0] == 0xdf))
        return HITLQ_ST_BAD_MSGPACK;
    at = mp_head(raw, &cnt);
    cnt /= 2;
    if (cnt > max)
        cnt = max;
    for (size_t i = 0; i < cnt; i++) {
        size_t ks = mp_skip(raw + at, len - at), vs;

        if (ks == 0)
            return HITLQ_ST_BAD_MSGPACK;
        at += ks;
        vs = mp_skip(raw + at, len - at);
        if (vs == 0)
            return HITLQ_ST_BAD_MSGPACK;
        off[i] = (uint32_t)at;
        vlen[i] = (uint32_t)vs;
        at += vs;
    }
    *n = (size_t)cnt;
    return HITLQ_ST_OK;
}
