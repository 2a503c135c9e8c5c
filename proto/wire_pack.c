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
    size_t off = wire_frame_begin(sb);

    msgpack_pack_map(pk, 2);
    wire_pack_kv_str(pk, "code", hitlq_status_str(status));
    wire_pack_kv_str(pk, "message", message ? message : hitlq_status_desc(status));
    wire_frame_end(sb, off, opcode, status, request_id);
}

void
wire_pack_cstr(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);

    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

void
wire_pack_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    wire_pack_cstr(pk, k);
    wire_pack_cstr(pk, v);
}

void
wire_pack_kv_strn(msgpack_packer *pk, const char *k, const char *v, size_t n)
{
    wire_pack_cstr(pk, k);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, v, n);
}

void
wire_pack_kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
    wire_pack_cstr(pk, k);
    msgpack_pack_uint64(pk, v);
}

void
wire_pack_kv_f64(msgpack_packer *pk, const char *k, double v)
{
    wire_pack_cstr(pk, k);
    msgpack_pack_double(pk, v);
}

void
wire_pack_kv_bool(msgpack_packer *pk, const char *k, bool v)
{
    wire_pack_cstr(pk, k);
    if (v)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

void
wire_pack_kv_nil(msgpack_packer *pk, const char *k)
{
    wire_pack_cstr(pk, k);
    msgpack_pack_nil(pk);
}
