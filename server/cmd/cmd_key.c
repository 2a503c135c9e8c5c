/*
 * cmd_key.c - API-key administration (PROTOCOL.md §4.14): KEY_ADD and
 * KEY_REVOKE go through the commit pipeline (the principals db and, with
 * the audit log on, a KEY_EVENT entry in the same transaction); KEY_LIST
 * is read at once.  Admin only (authz.c).  A new key's secret appears in
 * exactly one reply and is wiped with the op (a tls_peer credential has
 * none: it binds a principal to verified client certificates; nor has an
 * Ed25519 credential: the server keeps only the public key).  After a revocation commits,
 * the key's live connections are told and closed, and replaced skills reach
 * the principal's live connections (session_auth.c).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "auth_msg.h"
#include "cmd.h"
#include "commit.h"
#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "op.h"
#include "server.h"
#include "session_auth.h"
#include "wire.h"

static int
key_apply(struct op *op, struct hitlq_server *srv, MDB_txn *txn, uint64_t now_ms,
          struct queue_fx *fx)
{
    (void)fx;
    return auth_keyop_apply(srv->store, srv->audit, txn, op->u.key.ko, now_ms, op->errmsg,
                            sizeof(op->errmsg));
}

static void
key_reply(struct op *op, struct hitlq_server *srv, const char *hex)
{
    const struct auth_keyop *k = op->u.key.ko;
    msgpack_packer *pk = &srv->pk;
    size_t off;

    if (op->conn == NULL || !conn_is_open(op->conn))
        return;
    off = wire_frame_begin(&srv->out);
    msgpack_pack_map(pk, k->revoke ? 3 : 6);
    wire_pack_kv_str(pk, "principal", k->principal);
    wire_pack_kv_str(pk, "key_id", hex);
    if (k->revoke) {
        wire_pack_kv_bool(pk, "revoked", true);
    } else {
        wire_pack_kv_str(pk, "role", auth_role_name(k->role));
        wire_pack_kv_str(pk, "kind", auth_kind_name(k->kind));
        if (k->kind == AUTH_KIND_TLS) {          /* no secret for a certificate */
            wire_pack_kv_str(pk, "tls_peer", k->tls_peer);
        } else if (k->kind == AUTH_KIND_ED25519) { /* nor for a public key */
            char pks[AUTH_MSG_KEYSTR_LEN + 1];
            auth_msg_key_format(pks, AUTH_MSG_PK_PREFIX, k->hash);
            wire_pack_kv_str(pk, "public_key", pks);
        } else {
            wire_pack_kv_str(pk, "api_key", k->api_key);
        }
        wire_pack_cstr(pk, "skills");
        msgpack_pack_array(pk, k->n_skills);
        for (uint8_t i = 0; i < k->n_skills; i++)
            wire_pack_cstr(pk, k->skills[i]);
    }
    reply_finish(op->conn, off, op->opcode, HITLQ_ST_OK, op->request_id);
    /* the packed secret must not linger in the scratch buffer */
    if (srv->out.data != NULL)
        sodium_memzero(srv->out.data, srv->out.alloc);
}

static void
key_finish(struct op *op, struct hitlq_server *srv)
{
    const struct auth_keyop *k = op->u.key.ko;
    char hex[AUTH_KEY_ID_HEX + 1];

    if (op->status != HITLQ_ST_OK) {
        reply_op_error(op);
        op_done(op);
        return;
    }
    const char *what = k->kind == AUTH_KIND_TLS       ? "tls_peer credential"
                       : k->kind == AUTH_KIND_ED25519 ? "Ed25519 key"
                                                      : "API key";

    sodium_bin2hex(hex, sizeof(hex), k->key_id, AUTH_KEY_ID_LEN);
    key_reply(op, srv, hex);
    if (k->revoke) {
        size_t n = session_revoke_key(srv, k->key_id);
        log_info("auth: %s revoked %s %s of principal %s (%zu connection(s) closed)",
                 k->by, what, hex, k->principal, n);
    } else {
        if (k->set_skills)
            session_push_skills(srv, k->principal, k->n_skills, k->skills);
        log_info("auth: %s added %s %s for principal %s (role %s)%s%s", k->by, what, hex,
                 k->principal, auth_role_name(k->role), k->tls_peer[0] ? ": " : "",
                 k->tls_peer);
    }
    op_done(op);
}

static void
key_clear(struct op *op)
{
    auth_keyop_free(op->u.key.ko);
    op->u.key.ko = NULL;
}

static const struct op_class key_class = { "key", key_apply, key_finish, key_clear };

/* Queues a key op for c (takes ko). */
static void
key_submit(struct conn *c, const struct frame_hdr *h, struct auth_keyop *ko)
{
    struct op *op = op_new(&key_class, c, h->opcode, h->request_id);

    if (op == NULL) {
        auth_keyop_free(ko);
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INTERNAL, "out of memory");
        return;
    }
    snprintf(ko->by, sizeof(ko->by), "%s", c->name);
    op->u.key.ko = ko;
    if (c->srv->stopping) {
        op->status = HITLQ_ST_SHUTTING_DOWN;
        reply_op_error(op);
        op_done(op);
        return;
    }
    commit_submit(c->srv->commit, op);
}

/* ---- KEY_ADD -------------------------------------------------------------------- */

/* A tls_peer name: 1..128 printable ASCII characters, copied to out. */
static int
key_tls_peer(const msgpack_object *o, char out[AUTH_TLS_PEER_MAX + 1])
{
    const msgpack_object_str *t = &o->via.str;
    bool good = t->size >= 1 && t->size <= AUTH_TLS_PEER_MAX;

    for (uint32_t i = 0; good && i < t->size; i++)
        good = (unsigned char)t->ptr[i] >= 0x20 && (unsigned char)t->ptr[i] <= 0x7e;
    if (good)
        wire_copy_str(o, out, AUTH_TLS_PEER_MAX + 1);
    return good ? 0 : -1;
}

static void
key_add_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    char principal[HITLQ_MAX_NAME + 1], tls_peer[AUTH_TLS_PEER_MAX + 1];
    uint8_t pk[AUTH_MSG_KEY_LEN];
    const msgpack_object_str *r = &args[1]->via.str;
    enum auth_role role = auth_role_parse(r->ptr, r->size);
    struct auth_keyop *ko;

    if (role == AUTH_ROLE_NONE) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_REQUEST,
                        "field \"role\": bot, specialist, auditor or admin");
        return;
    }
    for (uint32_t i = 0; args[2] != NULL && i < args[2]->via.array.size; i++) {
        const msgpack_object *q = &args[2]->via.array.ptr[i];
        if (q->type != MSGPACK_OBJECT_STR ||
            !wire_is_name(q->via.str.ptr, q->via.str.size, HITLQ_MAX_QUEUE_NAME)) {
            conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_REQUEST,
                            "field \"skills\": each entry must be a queue name");
            return;
        }
    }
    if (args[2] != NULL && args[2]->via.array.size > 0 && role != AUTH_ROLE_SPECIALIST) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_REQUEST,
                        "field \"skills\": only a specialist has skills");
        return;
    }
    if (args[3] != NULL && args[4] != NULL) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_REQUEST,
                        "give at most one of tls_peer and public_key");
        return;
    }
    if (args[3] != NULL && key_tls_peer(args[3], tls_peer) != 0) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_REQUEST,
                        "field \"tls_peer\": 1..128 printable ASCII characters");
        return;
    }
    if (args[4] != NULL && auth_msg_key_parse(args[4]->via.str.ptr, args[4]->via.str.size,
                                              AUTH_MSG_PK_PREFIX, pk) != 0) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_BAD_REQUEST,
                        "field \"public_key\": hitlq_ed25519_pk_ and 64 hex digits");
        return;
    }
    wire_copy_str(args[0], principal, sizeof(principal));
    ko = args[3] != NULL   ? auth_keyop_add_tls(principal, (uint8_t)role, tls_peer)
         : args[4] != NULL ? auth_keyop_add_ed25519(principal, (uint8_t)role, pk)
                           : auth_keyop_add(c->srv->auth, principal, (uint8_t)role);
    if (ko == NULL) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INTERNAL, "out of memory");
        return;
    }
    if (args[2] != NULL) {
        ko->set_skills = true;
        ko->n_skills = (uint8_t)args[2]->via.array.size;
        for (uint8_t i = 0; i < ko->n_skills; i++)
            wire_copy_str(&args[2]->via.array.ptr[i], ko->skills[i], sizeof(ko->skills[i]));
    }
    key_submit(c, h, ko);
}

static const struct wire_field key_add_schema[] = {
    { "principal", WIRE_NAME, true, 0, 0 },
    { "role", WIRE_NAME, true, 0, 0 },
    { "skills", WIRE_ARRAY, false, 0, AUTH_MAX_SKILLS },
    { "tls_peer", WIRE_STR, false, 0, AUTH_TLS_PEER_MAX },
    { "public_key", WIRE_STR, false, 0, AUTH_MSG_KEYSTR_LEN },
};

const struct cmd cmd_key_add = { "KEY_ADD", HITLQ_OP_KEY_ADD, key_add_schema, 5,
                                 key_add_proceed };

/* ---- KEY_REVOKE ------------------------------------------------------------------ */

static void
key_revoke_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    bool bad;
    struct auth_keyop *ko = auth_keyop_revoke(args[0]->via.str.ptr, args[0]->via.str.size, &bad);

    if (ko == NULL) {
        conn_send_error(c, h->opcode, h->request_id,
                        bad ? HITLQ_ST_BAD_REQUEST : HITLQ_ST_INTERNAL,
                        bad ? "field \"key_id\": 16 hex digits" : "out of memory");
        return;
    }
    key_submit(c, h, ko);
}

static const struct wire_field key_revoke_schema[] = {
    { "key_id", WIRE_STR, true, 0, 64 },
};

const struct cmd cmd_key_revoke = { "KEY_REVOKE", HITLQ_OP_KEY_REVOKE, key_revoke_schema, 1,
                                    key_revoke_proceed };

/* ---- KEY_LIST -------------------------------------------------------------------- */

static void
key_list_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    struct hitlq_server *srv = c->srv;
    char principal[HITLQ_MAX_NAME + 1];
    MDB_txn *txn = server_read_begin(srv);
    size_t off;
    int st;

    if (txn == NULL) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INTERNAL, "read failed");
        return;
    }
    if (args[0] != NULL)
        wire_copy_str(args[0], principal, sizeof(principal));
    off = wire_frame_begin(&srv->out);
    st = auth_pack_keys(srv->store, txn, args[0] != NULL ? principal : NULL, &srv->pk);
    server_read_end(srv);
    if (st != HITLQ_ST_OK) {
        msgpack_sbuffer_clear(&srv->out);
        conn_send_error(c, h->opcode, h->request_id, st, NULL);
        return;
    }
    reply_finish(c, off, h->opcode, HITLQ_ST_OK, h->request_id);
}

static const struct wire_field key_list_schema[] = {
    { "principal", WIRE_NAME, false, 0, 0 },
};

const struct cmd cmd_key_list = { "KEY_LIST", HITLQ_OP_KEY_LIST, key_list_schema, 1,
                                  key_list_proceed };
