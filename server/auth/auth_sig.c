/*
 * auth_sig.c - Ed25519 challenge-response authentication (PROTOCOL.md
 * §3.2, docs/RELIABILITY.md §2.9): HELLO with `challenge` draws a 32-byte
 * nonce; AUTH carries a signature over "hitlq-auth-v1" || nonce || the TLS
 * session's exporter || key_id || role (proto/auth_msg.h), so a signature
 * is good for one nonce on one TLS session: it cannot be replayed on a
 * later connection or relayed into another session.  The server stores
 * only public keys.  Failures share the per-address limit of API keys
 * (auth.c) and get one status and message whatever failed.
 */
#include <string.h>

#include <sodium.h>

#include "auth_int.h"
#include "auth_msg.h"
#include "log.h"
#include "util.h"

struct auth_verdict
auth_challenge(struct auth *a, const char *peer, struct auth_ident *who,
               uint8_t nonce[AUTH_MSG_NONCE_LEN])
{
    struct auth_verdict v = { AUTH_OK, HITLQ_ST_OK, 0, NULL };
    char addr[64];

    if (!a->on) {
        who->role = AUTH_ROLE_LOCAL;
        return v;
    }
    auth_peer_addr(peer, addr, sizeof(addr));
    if (auth_blocked(a, addr, util_mono_ns() / 1000000u))
        return auth_verdict_blocked();
    randombytes_buf(nonce, AUTH_MSG_NONCE_LEN);
    v.kind = AUTH_CHALLENGE;
    return v;
}

/* Checks the signature and the store; every path does one key lookup,
 * one Ed25519 verification and one principal lookup.  True with *rec and
 * *pr filled when all is well. */
static bool
auth_sig_check(struct auth *a, MDB_txn *txn, const struct auth_respond_in *in,
               const uint8_t id[AUTH_KEY_ID_LEN], bool id_ok, struct auth_keyrec *rec,
               struct auth_prec *pr)
{
    uint8_t msg[AUTH_MSG_MAX];
    size_t n;
    bool found, sig_ok, role_ok;

    found = id_ok && auth_key_get(a->s, txn, id, rec) == HITLQ_ST_OK &&
            rec->kind == AUTH_KIND_ED25519;
    if (!found) {
        memset(rec, 0, sizeof(*rec));
        memcpy(rec->hash, a->dummy_pk, AUTH_HASH_LEN);
    }
    n = auth_msg_build(msg, in->nonce, in->exporter, id, in->role, in->role_len);
    sig_ok = n > 0 && crypto_sign_verify_detached(in->sig, msg, n, rec->hash) == 0;
    role_ok = auth_principal_get(a->s, txn, rec->principal, strlen(rec->principal), pr) ==
                  HITLQ_ST_OK &&
              auth_role_parse(in->role, in->role_len) == (enum auth_role)pr->role;
    return found & sig_ok & role_ok & !rec->revoked;
}

struct auth_verdict
auth_respond(struct auth *a, MDB_txn *txn, const struct auth_respond_in *in,
             struct auth_ident *who, char *name, size_t namelen)
{
    struct auth_verdict v = { AUTH_OK, HITLQ_ST_OK, 0, NULL };
    char addr[64];
    uint8_t id[AUTH_KEY_ID_LEN];
    struct auth_keyrec rec;
    struct auth_prec pr;
    uint64_t now = util_mono_ns() / 1000000u;
    bool id_ok, ok = false;

    auth_peer_addr(in->peer, addr, sizeof(addr));
    if (auth_blocked(a, addr, now)) {
        sodium_memzero(in->nonce, AUTH_MSG_NONCE_LEN);
        return auth_verdict_blocked();
    }
    id_ok = auth_msg_unhex(id, sizeof(id), in->key_id, in->key_id_len) == 0;
    if (!id_ok)
        memset(id, 0, sizeof(id));
    if (txn != NULL)
        ok = auth_sig_check(a, txn, in, id, id_ok, &rec, &pr);
    sodium_memzero(in->nonce, AUTH_MSG_NONCE_LEN);      /* one use */
    if (ok) {
        auth_accept(a, in->peer, id, &rec, &pr, now, "Ed25519 key", who, name, namelen);
        return v;
    }
    auth_fail_note(a, addr, now);
    auth_fail_log(a, in->peer, addr, "AUTH",
                  "bad signature, unknown or revoked key, or wrong role");
    return auth_verdict_refuse("authentication failed");
}
