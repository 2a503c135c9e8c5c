/*
 * cmd_session.c - HELLO, AUTH and PING, and the reply helpers every
 * command uses.  HELLO and AUTH hand the presented credential to auth
 * (auth.h) as plain values and carry out its verdict (session_auth.c).
 */
#include <string.h>

#include "auth.h"
#include "cmd.h"
#include "conn.h"
#include "dispatch.h"
#include "op.h"
#include "server.h"
#include "session_auth.h"
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
    { "challenge", WIRE_BOOL, false, 0, 0 },
};

/* The reply of a successful HELLO or AUTH: who the connection is now. */
static void
hello_reply(struct conn *c, const struct frame_hdr *h)
{
    struct hitlq_server *srv = c->srv;
    msgpack_packer *pk = &srv->pk;
    bool nonce = c->state == CONN_CHALLENGED;
    size_t off = wire_frame_begin(&srv->out);

    msgpack_pack_map(pk, nonce ? 8 : 7);
    wire_pack_kv_str(pk, "principal", nonce ? "" : c->name);
    wire_pack_kv_str(pk, "role", auth_role_name(c->auth.role));
    wire_pack_kv_u64(pk, "version", HITLQ_PROTO_VERSION);
    wire_pack_kv_str(pk, "server", "hitlqd/" HITLQ_VERSION);
    wire_pack_kv_u64(pk, "max_frame", HITLQ_MAX_FRAME);
    wire_pack_kv_u64(pk, "max_inflight", HITLQ_MAX_INFLIGHT);
    wire_pack_kv_u64(pk, "time_ms", util_now_ms());
    if (nonce)
        wire_pack_kv_bin(pk, "nonce", c->nonce, sizeof(c->nonce));
    reply_finish(c, off, h->opcode, HITLQ_ST_OK, h->request_id);
}

/* HELLO's credential (api_key, else the client certificate) checked by
 * auth in a read transaction. */
static struct auth_verdict
hello_check(struct conn *c, const msgpack_object *api_key)
{
    struct hitlq_server *srv = c->srv;
    struct auth_hello_in in = { c->peer, c->tls_peer, NULL, 0 };
    MDB_txn *txn = auth_enabled(srv->auth) ? server_read_begin(srv) : NULL;
    struct auth_verdict v;

    if (api_key != NULL) {
        /* the frame's own bytes (writable, dropped after it): auth wipes them */
        in.api_key = (char *)(uintptr_t)api_key->via.str.ptr;
        in.api_key_len = api_key->via.str.size;
    }
    v = auth_hello(srv->auth, txn, &in, &c->auth, c->name, sizeof(c->name));
    if (txn != NULL)
        server_read_end(srv);
    return v;
}

static void
hello_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    struct hitlq_server *srv = c->srv;
    bool challenge = args[4] != NULL && args[4]->via.boolean;
    struct auth_verdict v;

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
    if (challenge && args[3] != NULL) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_REQUEST,
                        "give either api_key or challenge, not both");
        return;
    }
    if (args[2] && !auth_enabled(srv->auth))     /* with auth: the principal */
        wire_copy_str(args[2], c->name, sizeof(c->name));
    v = challenge ? auth_challenge(srv->auth, c->peer, &c->auth, c->nonce)
                  : hello_check(c, args[3]);
    if (!session_auth_apply(c, h->opcode, h->request_id, &v))
        return;                        /* refused (now or later): closing */
    hello_reply(c, h);                 /* with the nonce when CONN_CHALLENGED */
}

const struct cmd cmd_hello = {
    "HELLO", HITLQ_OP_HELLO, hello_schema, 5, hello_proceed
};

/* AUTH's signature (over the nonce and this TLS session's exporter)
 * checked by auth in a read transaction; the nonce is wiped. */
static struct auth_verdict
auth_check(struct conn *c, const msgpack_object **args)
{
    struct hitlq_server *srv = c->srv;
    uint8_t exporter[AUTH_MSG_EXPORTER_LEN];
    struct auth_respond_in in = {
        c->peer, c->nonce, exporter, args[0]->via.str.ptr, args[0]->via.str.size,
        args[1]->via.str.ptr, args[1]->via.str.size, (const uint8_t *)args[2]->via.bin.ptr
    };
    MDB_txn *txn;
    struct auth_verdict v;

    session_auth_exporter(c, exporter);
    txn = server_read_begin(srv);
    v = auth_respond(srv->auth, txn, &in, &c->auth, c->name, sizeof(c->name));
    if (txn != NULL)
        server_read_end(srv);
    return v;
}

/* AUTH: the answer to HELLO's challenge (server/auth/auth_sig.c).  Only
 * once, right after that HELLO: a connection's identity never changes. */
static void
auth_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    struct auth_verdict v;

    if (c->state != CONN_CHALLENGED) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_REQUEST,
                        c->auth.role == AUTH_ROLE_LOCAL
                            ? "authentication is off on this server"
                            : "already authenticated: a connection's identity cannot change");
        return;
    }
    v = auth_check(c, args);
    if (!session_auth_apply(c, h->opcode, h->request_id, &v))
        return;                        /* refused (now or later): closing */
    hello_reply(c, h);
}

static const struct wire_field auth_schema[] = {
    { "key_id", WIRE_STR, true, 0, 64 },
    { "role", WIRE_STR, true, 0, 64 },
    { "signature", WIRE_BIN, true, 64, 64 },
};

const struct cmd cmd_auth = { "AUTH", HITLQ_OP_AUTH, auth_schema, 3, auth_proceed };

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
