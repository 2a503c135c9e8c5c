/*
 * cmd_session.c - HELLO and PING, and the reply helpers every command
 * uses.
 */
#include <string.h>

#include "auth.h"
#include "cmd.h"
#include "conn.h"
#include "dispatch.h"
#include "op.h"
#include "server.h"
#include "util.h"
#include "wire.h"

void
reply_finish(struct conn *c, size_t off, uint8_t opcode, uint16_t status,
             uint32_t request_id)
{
    wire_frame_end(&c->srv->out, off, opcode, status, request_id);
    conn_flush_out(c);
}

void
reply_op_error(struct op *op)
{
    if (op->conn == NULL || !conn_is_open(op->conn))
        return;
    conn_send_error(op->conn, op->opcode, op->request_id, op->status,
                    op->errmsg[0] ? op->errmsg : NULL);
}

static const struct wire_field hello_schema[] = {
    { "version", WIRE_UINT, true, 0, UINT32_MAX },
    { "client", WIRE_STR, false, 0, HITLQ_MAX_NAME },
    { "name", WIRE_NAME, false, 0, 0 },
    { "api_key", WIRE_STR, false, 0, HITLQ_MAX_NAME },
};

static void
hello_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    struct hitlq_server *srv = c->srv;
    msgpack_packer *pk = &srv->pk;
    size_t off;

    if (c->state != CONN_NEW) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_REQUEST,
                        "HELLO was already sent on this connection");
        return;
    }
    if (wire_u64(args[0]) != HITLQ_PROTO_VERSION) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_VERSION,
                        "this server speaks protocol version 1");
        return;
    }
    if (args[2] && !auth_enabled(srv->auth))     /* with auth: the principal */
        wire_copy_str(args[2], c->name, sizeof(c->name));
    if (auth_hello(srv->auth, c, args[3], h->request_id) != 0)
        return;                        /* refused: unauthorized, closing */
    conn_set_state(c, CONN_READY);
    off = wire_frame_begin(&srv->out);
    msgpack_pack_map(pk, 7);
    wire_pack_kv_str(pk, "principal", c->name);
    wire_pack_kv_str(pk, "role", auth_role_name(c->auth.role));
    wire_pack_kv_u64(pk, "version", HITLQ_PROTO_VERSION);
    wire_pack_kv_str(pk, "server", "hitlqd/" HITLQ_VERSION);
    wire_pack_kv_u64(pk, "max_frame", HITLQ_MAX_FRAME);
    wire_pack_kv_u64(pk, "max_inflight", HITLQ_MAX_INFLIGHT);
    wire_pack_kv_u64(pk, "time_ms", util_now_ms());
    reply_finish(c, off, h->opcode, HITLQ_ST_OK, h->request_id);
}

const struct cmd cmd_hello = {
    "HELLO", HITLQ_OP_HELLO, hello_schema, 4, hello_proceed
};

static void
ping_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    struct hitlq_server *srv = c->srv;
    size_t off = wire_frame_begin(&srv->out);

    (void)args;
    msgpack_pack_map(&srv->pk, 1);
    wire_pack_kv_u64(&srv->pk, "time_ms", util_now_ms());
    reply_finish(c, off, h->opcode, HITLQ_ST_OK, h->request_id);
}

const struct cmd cmd_ping = { "PING", HITLQ_OP_PING, NULL, 0, ping_proceed };
