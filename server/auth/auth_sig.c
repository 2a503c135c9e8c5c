/*
 * auth_sig.c - Ed25519 challenge-response authentication (PROTOCOL.md
 * §3.2, RELIABILITY.md §2.9): HELLO with `challenge` draws a 32-byte
 * nonce; AUTH carries a signature over "hitlq-auth-v1" || nonce || the TLS
 * session's exporter || key_id || role (proto/auth_msg.h), so a signature
 * is good for one nonce on one TLS session: it cannot be replayed on a
 * later connection or relayed into another session.  The server stores
 * only public keys.  Failures share the per-address limit of API keys
 * (auth.c) and get one status and message whatever failed.
 */
#include <string.h>

#include <event2/bufferevent.h>
#include <sodium.h>

#include "auth_int.h"
#include "auth_msg.h"
#include "conn.h"
#include "log.h"
#include "server.h"
#include "tls.h"
#include "util.h"

int
auth_challenge(struct auth *a, struct conn *c, uint32_t request_id)
{
    char addr[sizeof(c->peer)];

    if (!a->on) {
        c->auth.role = AUTH_ROLE_LOCAL;
        return 1;
    }
    auth_peer_addr(c, addr, sizeof(addr));
    if (auth_blocked(a, addr, util_mono_ns() / 1000000u)) {
        auth_refuse_blocked(a, c, request_id);
        return -1;
    }
    randombytes_buf(c->nonce, sizeof(c->nonce));
    conn_set_state(c, CONN_CHALLENGED);
    return 0;
}

/* The exporter of c's TLS session, or zeros on a plaintext connection. */
static void
auth_exporter(struct conn *c, uint8_t out[AUTH_MSG_EXPORTER_LEN])
{
    struct ssl_st *ssl = conn_ssl(c);

    memset(out, 0, AUTH_MSG_EXPORTER_LEN);
    if (ssl != NULL && tls_exporter(ssl, out) != 0)
        randombytes_buf(out, AUTH_MSG_EXPORTER_LEN);   /* matches no signature */
}

/* Checks the signature and the store; every path does one key lookup,
 * one Ed25519 verification and one principal lookup.  True with *rec and
 * *pr filled when all is well. */
static bool
auth_sig_check(struct auth *a, struct conn *c, MDB_txn *txn, const uint8_t id[AUTH_KEY_ID_LEN],
               bool id_ok, const msgpack_object_str *role, const uint8_t *sig,
               struct auth_keyrec *rec, struct auth_prec *pr)
{
    uint8_t msg[AUTH_MSG_MAX], exp[AUTH_MSG_EXPORTER_LEN];
    size_t n;
    bool found, sig_ok, role_ok;

    found = id_ok && auth_key_get(a->s, txn, id, rec) == HITLQ_ST_OK &&
            rec->kind == AUTH_KIND_ED25519;
    if (!found) {
        memset(rec, 0, sizeof(*rec));
        memcpy(rec->hash, a->dummy_pk, AUTH_HASH_LEN);
    }
    auth_exporter(c, exp);
    n = auth_msg_build(msg, c->nonce, exp, id, role->ptr, role->size);
    sig_ok = n > 0 && crypto_sign_verify_detached(sig, msg, n, rec->hash) == 0;
    role_ok = auth_principal_get(a->s, txn, rec->principal, strlen(rec->principal), pr) ==
                  HITLQ_ST_OK &&
              auth_role_parse(role->ptr, role->size) == (enum auth_role)pr->role;
    sodium_memzero(c->nonce, sizeof(c->nonce));         /* one use */
    return found & sig_ok & role_ok & !rec->revoked;
}

int
auth_respond(struct auth *a, struct conn *c, const msgpack_object *key_id,
             const msgpack_object *role, const msgpack_object *sig, uint32_t request_id)
{
    char addr[sizeof(c->peer)];
    uint8_t id[AUTH_KEY_ID_LEN];
    struct auth_keyrec rec;
    struct auth_prec pr;
    uint64_t now = util_mono_ns() / 1000000u;
    bool id_ok, ok = false;
    MDB_txn *txn;

    auth_peer_addr(c, addr, sizeof(addr));
    if (auth_blocked(a, addr, now)) {
        sodium_memzero(c->nonce, sizeof(c->nonce));
        auth_refuse_blocked(a, c, request_id);
        return -1;
    }
    id_ok = auth_msg_unhex(id, sizeof(id), key_id->via.str.ptr, key_id->via.str.size) == 0;
    if (!id_ok)
        memset(id, 0, sizeof(id));
    if ((txn = server_read_begin(c->srv)) != NULL) {
        ok = auth_sig_check(a, c, txn, id, id_ok, &role->via.str,
                            (const uint8_t *)sig->via.bin.ptr, &rec, &pr);
        server_read_end(c->srv);
    }
    if (ok) {
        auth_accept(a, c, id, &rec, &pr, now, "Ed25519 key");
        return 0;
    }
    auth_fail_note(a, addr, now);
    log_info("auth: AUTH from %s refused (bad signature, unknown or revoked key, or wrong "
             "role)", c->peer);
    conn_send_error(c, HITLQ_OP_AUTH, request_id, HITLQ_ST_UNAUTHORIZED,
                    "authentication failed");
    return -1;
}
