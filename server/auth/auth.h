/*
 * auth.h - authenticated principals (RELIABILITY.md §2.9, PROTOCOL.md §3.1):
 * bearer API keys stored as keyed BLAKE2b hashes, HELLO verification with
 * a per-address failure limit, the first admin key, and the key-admin
 * operations' storage side.  Which role may do what is authz.h.
 *
 * Key string: "hitlq_" <key_id: 16 lowercase hex digits> "_" <secret: 32
 * bytes, base64url without padding (43 chars)>.  Only
 * BLAKE2b-256(secret, key = pepper) is stored; the pepper is 32 random
 * bytes created once (meta "auth_pepper").
 *
 * Storage, db "principals" (integers big-endian):
 *   'p' name          -> u8 version (1), u8 role, u64 created_ms,
 *                        u8 n_skills, n x (u8 len, queue name bytes)
 *   'k' key_id[8]     -> u8 version (1), hash[32], u64 created_ms,
 *                        u8 revoked, u8 name_len, principal name bytes
 *                        (an API key), or u8 version (2), the same fields
 *                        (hash all zero), u8 peer_len, peer bytes (a
 *                        tls_peer credential: mutual-TLS client
 *                        certificates whose verified CN/SAN is peer)
 * A principal's role is fixed when it is created; KEY_ADD for an existing
 * principal must name the same role (its skills are replaced when given).
 *
 * Threads: auth_open/auth_close run before/after the loop; auth_hello,
 * auth_pack_keys and the keyop constructors run on the loop thread (read
 * transaction); auth_keyop_apply on the commit thread (write transaction).
 */
#ifndef HITLQ_AUTH_H
#define HITLQ_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>
#include <msgpack.h>

#include "hitlq_proto.h"

struct store;
struct conn;
struct hitlq_config;
struct hitlq_server;
struct auth;
struct event_base;

/* Roles.  NONE: before HELLO; LOCAL: auth is off, everything is allowed. */
enum auth_role {
    AUTH_ROLE_NONE = 0,
    AUTH_ROLE_BOT,
    AUTH_ROLE_SPECIALIST,
    AUTH_ROLE_AUDITOR,
    AUTH_ROLE_ADMIN,
    AUTH_ROLE_LOCAL,
    AUTH_N_ROLES
};

#define AUTH_KEY_ID_LEN   8u
#define AUTH_SECRET_LEN   32u
#define AUTH_HASH_LEN     32u
#define AUTH_PEPPER_LEN   32u
#define AUTH_MAX_SKILLS   HITLQ_MAX_CLAIM_QUEUES
/* "hitlq_" + 16 hex + "_" + 43 base64url = 66 characters. */
#define AUTH_KEY_STR_LEN  (6u + 2u * AUTH_KEY_ID_LEN + 1u + 43u)
#define AUTH_KEY_ID_HEX   (2u * AUTH_KEY_ID_LEN)
#define AUTH_TLS_PEER_MAX 128u          /* a tls_peer credential's name */

/* Failure limit per client address: more than AUTH_FAIL_MAX failed HELLOs
 * within AUTH_FAIL_WINDOW_MS block the address for AUTH_BLOCK_MS (every
 * HELLO then gets `unauthorized` unchecked, AUTH_BLOCK_DELAY_MS late).
 * The table keeps AUTH_FAIL_SLOTS addresses (least recently failed are
 * forgotten first). */
#define AUTH_FAIL_MAX        5u
#define AUTH_FAIL_WINDOW_MS  10000u
#define AUTH_BLOCK_MS        10000u
#define AUTH_BLOCK_DELAY_MS  100u
#define AUTH_FAIL_SLOTS      256u

/* Credential kinds ('k' records; KEY_LIST `kind`). */
enum auth_kind {
    AUTH_KIND_API = 0,                  /* bearer API key */
    AUTH_KIND_TLS,                      /* mutual-TLS client certificate name */
    AUTH_KIND_ED25519                   /* Ed25519 public key (HELLO challenge + AUTH) */
};
const char *auth_kind_name(unsigned kind);

/* Who a connection is (struct conn, after HELLO). */
struct auth_ident {
    uint8_t role;                       /* enum auth_role */
    bool    has_key;                    /* authenticated with key_id */
    uint8_t key_id[AUTH_KEY_ID_LEN];
    uint8_t n_skills;                   /* 0 = may claim from any queue */
    char    skills[AUTH_MAX_SKILLS][HITLQ_MAX_QUEUE_NAME + 1];
};

/* Role names as on the wire ("bot", ..., "local"); NULL for an unknown
 * value.  auth_role_parse returns AUTH_ROLE_NONE for anything but the four
 * assignable roles. */
const char    *auth_role_name(unsigned role);
enum auth_role auth_role_parse(const char *s, size_t len);

/* Opens the authentication state: resolves cfg->auth (2 = on unless the
 * listen address is loopback), creates the pepper once and, with auth on
 * and no principal yet, an "admin" principal whose key goes to
 * cfg->auth_bootstrap_key (0600), with its KEY_EVENT entry in the audit
 * log when audit != NULL (actor hitlqd).  0 or -1 with a message in err. */
struct audit;
int  auth_open(struct auth **out, struct store *s, struct audit *audit,
               const struct hitlq_config *cfg, struct event_base *base, char *err,
               size_t errlen);
void auth_close(struct auth *a);       /* NULL is a no-op; wipes the pepper */
bool auth_enabled(const struct auth *a);

/* HELLO: with auth off the connection becomes LOCAL (0).  With auth on it
 * verifies api_key (may be NULL) in constant time with the same work and
 * error for every failure; without api_key, a connection with a verified
 * client certificate (c->tls_peer) is authenticated by the unrevoked
 * tls_peer credential of that name, if any.  On success fills c->auth and c->name (the
 * principal) and returns 0; on failure it has sent (or scheduled, when the
 * address is blocked) `unauthorized`, which closes the connection, and
 * returns -1.  The presented key bytes are wiped. */
int  auth_hello(struct auth *a, struct conn *c, const msgpack_object *api_key,
                uint32_t request_id);

/* HELLO with `challenge` (auth_sig.c): draws a nonce into c->nonce and
 * moves the connection to CONN_CHALLENGED (the caller replies with it).
 * 0, or -1 when the address is blocked (refusal scheduled).  With auth
 * off it makes the connection LOCAL like auth_hello and returns 1. */
int  auth_challenge(struct auth *a, struct conn *c, uint32_t request_id);
/* AUTH: verifies an Ed25519 signature over the challenge message
 * (proto/auth_msg.h) by key key_id (16 hex digits) for role, with the same
 * work and error for an unknown key, a wrong signature, a revoked key and
 * a role that is not the principal's.  The nonce is used once.  0 on
 * success (c->auth, c->name set); -1 after sending `unauthorized`
 * (closing). */
int  auth_respond(struct auth *a, struct conn *c, const msgpack_object *key_id,
                  const msgpack_object *role, const msgpack_object *sig, uint32_t request_id);

/* GET by a bot: true when item `id` was submitted by `name` (or does not
 * exist, so that GET answers not_found as usual). */
bool auth_item_owned(struct store *s, MDB_txn *txn, uint64_t id, const char *name);

/* ---- key administration (server/cmd_key.c) --------------------------------- */

/* One KEY_ADD or KEY_REVOKE on its way through the commit pipeline. */
struct auth_keyop {
    bool     revoke;
    char     principal[HITLQ_MAX_NAME + 1];
    char     by[HITLQ_MAX_NAME + 1];          /* who asked (audit actor) */
    uint8_t  role;
    bool     set_skills;
    uint8_t  n_skills;
    char     skills[AUTH_MAX_SKILLS][HITLQ_MAX_QUEUE_NAME + 1];
    uint8_t  key_id[AUTH_KEY_ID_LEN];
    uint8_t  hash[AUTH_HASH_LEN];
    char     api_key[AUTH_KEY_STR_LEN + 1];  /* KEY_ADD: shown once, then wiped */
    uint8_t  kind;                            /* enum auth_kind */
    char     tls_peer[AUTH_TLS_PEER_MAX + 1]; /* KEY_ADD of a tls_peer credential
                                                (api_key, hash unused); "" = API key */
    uint64_t created_ms;
};

/* Loop thread: a KEY_ADD with a new key (key_id, secret, hash) drawn now.
 * NULL when out of memory.  Free with auth_keyop_free (wipes the key). */
struct auth_keyop *auth_keyop_add(struct auth *a, const char *principal, uint8_t role);
/* Loop thread: a KEY_ADD of a tls_peer credential (a new key_id, no
 * secret) binding principal to client certificates named peer.  NULL when
 * out of memory. */
struct auth_keyop *auth_keyop_add_tls(const char *principal, uint8_t role, const char *peer);
/* Loop thread: a KEY_ADD of an Ed25519 public key (kept in `hash`); its
 * key_id is derived from the key (proto/auth_msg.h).  NULL when out of
 * memory. */
struct auth_keyop *auth_keyop_add_ed25519(const char *principal, uint8_t role,
                                          const uint8_t pk[32]);
/* Loop thread: a KEY_REVOKE of the key whose 16-hex-digit id is hex;
 * NULL (with *bad set) when hex is not a key id, or out of memory. */
struct auth_keyop *auth_keyop_revoke(const char *hex, size_t len, bool *bad);
void auth_keyop_free(struct auth_keyop *k);

/* Commit thread, inside the batch txn: stores the key (KEY_ADD; CONFLICT
 * when the principal exists with another role) or marks it revoked
 * (NOT_FOUND when unknown; revoking twice is OK).  With the audit log on
 * (audit != NULL) also appends its KEY_EVENT entry.  Message in err. */
struct audit;
int auth_keyop_apply(struct store *s, struct audit *audit, MDB_txn *txn,
                     struct auth_keyop *k, uint64_t now_ms, char *err, size_t errlen);

/* Loop thread, after KEY_REVOKE committed: every live connection that
 * authenticated with key_id gets `unauthorized` and is closed (except
 * `keep`, which is closed after its reply was queued).  Returns how many. */
size_t auth_close_key_conns(struct hitlq_server *srv, const uint8_t key_id[AUTH_KEY_ID_LEN]);

/* Loop thread, after a KEY_ADD that replaced a principal's skills
 * committed: its live connections claim with the new skills at once. */
void auth_set_skills(struct hitlq_server *srv, const char *principal, uint8_t n_skills,
                     const char skills[][HITLQ_MAX_QUEUE_NAME + 1]);

/* KEY_LIST reply body {keys: [...], truncated}: at most AUTH_LIST_MAX keys
 * (only principal's when principal != NULL), never secrets or hashes. */
#define AUTH_LIST_MAX 1000u
int auth_pack_keys(struct store *s, MDB_txn *txn, const char *principal, msgpack_packer *pk);

#endif
