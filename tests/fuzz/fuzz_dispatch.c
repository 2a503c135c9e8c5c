/*
 * fuzz_dispatch.c - libFuzzer target for the request path up to the
 * handlers (docs/RELIABILITY.md T4): the input is a byte stream of frames; each
 * frame found by frame_parse goes through what dispatch_frame does before
 * a handler runs — header rules, mp_validate, the opcode table
 * (dispatch_lookup), wire_unpack and the command's schema (wire_decode).
 * Oracle: every frame ends in a typed status (never a crash or an
 * unbounded allocation), a decoded request honours its schema (required
 * fields present, types as declared), and the stream is consumed.  Built
 * with HITLQ_FUZZ_REPLAY defined, only fuzz_dispatch_one() is compiled.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "frame.h"
#include "hitlq_proto.h"
#include "validate.h"
#include "wire.h"

/* Checks what wire_decode promises for one decoded argument. */
static void
fuzz_dispatch_arg(const struct wire_field *f, const msgpack_object *v)
{
    if (v == NULL) {
        if (f->required)
            abort();
        return;
    }
    switch (f->kind) {
    case WIRE_NAME:
    case WIRE_QNAME:
        if (v->type != MSGPACK_OBJECT_STR ||
            !wire_is_name(v->via.str.ptr, v->via.str.size,
                          f->kind == WIRE_QNAME ? HITLQ_MAX_QUEUE_NAME : HITLQ_MAX_NAME))
            abort();
        break;
    case WIRE_UINT:
        if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 < f->min ||
            v->via.u64 > f->max)
            abort();
        break;
    case WIRE_MAP:
        if (v->type != MSGPACK_OBJECT_MAP)
            abort();
        break;
    case WIRE_ARRAY:
        if (v->type != MSGPACK_OBJECT_ARRAY)
            abort();
        break;
    case WIRE_BIN:
        if (v->type != MSGPACK_OBJECT_BIN || v->via.bin.size < f->min ||
            (f->max > 0 && v->via.bin.size > f->max))
            abort();
        break;
    default:
        break;
    }
}

/* One frame body through the pre-handler steps. */
static void
fuzz_dispatch_frame(const struct frame *fr)
{
    const msgpack_object *args[CMD_MAX_FIELDS];
    const struct cmd *cmd = dispatch_lookup(fr->hdr.opcode);
    msgpack_zone zone;
    msgpack_object root;
    char err[160];
    int st;

    st = mp_validate(fr->body, fr->hdr.body_len, &mp_limits_default, err, sizeof(err));
    if (st != HITLQ_ST_OK) {
        if ((st != HITLQ_ST_BAD_MSGPACK && st != HITLQ_ST_LIMIT_EXCEEDED) || err[0] == '\0')
            abort();
        return;
    }
    if (cmd == NULL)
        return;                        /* unknown_op */
    if (cmd->opcode != fr->hdr.opcode || cmd->n_schema > CMD_MAX_FIELDS)
        abort();
    if (!msgpack_zone_init(&zone, 4096))
        abort();
    if (wire_unpack(fr->body, fr->hdr.body_len, &zone, &root) != HITLQ_ST_OK)
        abort();                       /* validated bytes must unpack */
    memset(args, 0, sizeof(args));
    st = wire_decode(&root, cmd->schema, cmd->n_schema, args, err, sizeof(err));
    if (st == HITLQ_ST_OK) {
        for (size_t i = 0; i < cmd->n_schema; i++)
            fuzz_dispatch_arg(&cmd->schema[i], args[i]);
    } else if (st != HITLQ_ST_BAD_REQUEST || err[0] == '\0') {
        abort();
    }
    msgpack_zone_destroy(&zone);
}

int
fuzz_dispatch_one(const uint8_t *data, size_t size)
{
    size_t off = 0;

    while (off < size) {
        struct frame fr;
        int status = 0;
        enum frame_rc rc = frame_parse(data + off, size - off, HITLQ_MAX_FRAME, &fr, &status);

        if (rc == FRAME_NEED_MORE)
            break;
        if (rc == FRAME_ERROR) {
            if (status != HITLQ_ST_BAD_FRAME && status != HITLQ_ST_FRAME_TOO_LARGE)
                abort();
            break;                     /* the server closes the connection */
        }
        if (fr.total_len == 0 || fr.total_len > size - off)
            abort();
        fuzz_dispatch_frame(&fr);
        off += fr.total_len;
    }
    return 0;
}

#ifndef HITLQ_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_dispatch_one(data, size);
}
#endif
