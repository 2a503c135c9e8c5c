/*
 * auth.h - authenticated principals (docs/RELIABILITY.md §2.9, PROTOCOL.md §3.1):
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
 * Authentication never touches a connection: it takes plain values (the
 * peer address, the presented credential, the TLS exporter computed by
 * the caller) and returns a verdict (struct auth_verdict) that the session
 * code (server/cmd/session_auth.c) carries out on the connection.
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

#include "auth_msg.h"
#include "hitlq_proto.h"

struct store;
struct hitlq_config;
struct auth;

/* Roles.  NONE: before HELLO; LOCAL: auth is off, everything is allowed.
 * The values are stored (principal records): only add before LOCAL. */
enum auth_role {
    AUTH_ROLE_NONE = 0,
    AUTH_ROLE_BOT,
    AUTH_ROLE_SPECIALIST,
    AUTH_ROLE_AUDITOR,
    AUTH_ROLE_ADMIN,
    AUTH_ROLE_VIEWER,                   /* read-only: HTTP pages, STATS, LIST */
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

/* Who a connection is (held in struct conn, set after HELLO/AUTH). */
struct auth_ident {
    uint8_t role;                       /* enum auth_role */
    bool    has_key;                    /* authenticated with key_id */
    uint8_t key_id[AUTH_KEY_ID_LEN];
    uint8_t n_skills;                   /* 0 = may claim from any queue */
    char    skills[AUTH_MAX_SKILLS][HITLQ_MAX_QUEUE_NAME + 1];
};

/* Role names as on the wire ("bot", ..., "viewer", "local"); NULL for an
 * unknown value.  auth_role_parse returns AUTH_ROLE_NONE for anything but
 * the five assignable roles. */
const char    *auth_role_name(unsigned role);
enum auth_role auth_role_parse(const char *s, size_t len);

/* Opens the authentication state: resolves cfg->auth (2 = on unless the
 * listen address is loopback), creates the pepper once and, with auth on
 * and no principal yet, an "admin" principal whose key goes to
 * cfg->auth_bootstrap_key (0600), with its KEY_EVENT entry in the audit
 * log when audit != NULL (actor hitlqd).  0 or -1 with a message in err. */
struct audit;
int  auth_open(struct auth **out, struct store *s, struct audit *audit,
               const struct hitlq_config *cfg, char *err, size_t errlen);
void auth_close(struct auth *a);       /* NULL is a no-op; wipes the pepper */
bool auth_enabled(const struct auth *a);

/* ---- verdicts ------------------------------------------------------------------ */

/* What the session code must do with the connection after HELLO, AUTH or
 * a revocation. */
enum auth_verdict_kind {
    AUTH_OK = 0,          /* authenticated (or LOCAL): ident and name are set */
    AUTH_CHALLENGE,       /* HELLO challenge: nonce drawn, AUTH must follow */
    AUTH_REFUSE,          /* send status + msg now (unauthorized: closes) */
    AUTH_REFUSE_LATER,    /* blocked address: read nothing more; send status
                           * + msg (as a HELLO reply) after delay_ms */
    AUTH_CLOSE_LATER      /* send status + msg now, cut off after delay_ms
                           * even if the peer never reads it */
};

struct auth_verdict {
    enum auth_verdict_kind kind;
    uint16_t    status;                 /* REFUSE*, CLOSE_LATER: HITLQ_ST_* */
    unsigned    delay_ms;               /* *_LATER */
    const char *msg;                    /* static text; NULL when OK/CHALLENGE */
};

/* The message to send instead of a deferred refusal that cannot be
 * scheduled (out of memory): the refusal goes out at once. */
#define AUTH_REFUSE_NOW_MSG "authentication refused"

/* What HELLO presents, as plain values. */
struct auth_hello_in {
    const char *peer;                   /* "ip:port" (logs; the failure limit
                                         * counts per ip) */
    const char *tls_peer;               /* verified client certificate's name,
                                         * "" when none */
    char       *api_key;                /* NULL when absent; wiped */
    size_t      api_key_len;
};

/* HELLO: with auth off the connection is LOCAL (AUTH_OK, who->role set,
 * name untouched).  With auth on it verifies in->api_key in constant time
 * with the same work and error for every failure; without api_key, a
 * verified client certificate (in->tls_peer) is authenticated by the
 * unrevoked tls_peer credential of that name, if any.  txn: a read
 * transaction (NULL counts as a failure).  On success fills *who and
 * name (the principal; namelen bytes) and returns AUTH_OK; a blocked
 * address gets AUTH_REFUSE_LATER; any other failure AUTH_REFUSE
 * (unauthorized).  The presented key bytes are wiped in every case. */
struct auth_verdict auth_hello(struct auth *a, MDB_txn *txn, const struct auth_hello_in *in,
                               struct auth_ident *who, char *name, size_t namelen);

/* HELLO with `challenge` (auth_sig.c): draws a nonce into nonce and
 * returns AUTH_CHALLENGE (the caller replies with it and waits for AUTH),
 * or AUTH_REFUSE_LATER when the address of peer ("ip:port") is blocked.
 * With auth off it makes who LOCAL like auth_hello and returns AUTH_OK. */
struct auth_verdict auth_challenge(struct auth *a, const char *peer, struct auth_ident *who,
                                   uint8_t nonce[AUTH_MSG_NONCE_LEN]);

/* What AUTH presents, as plain values. */
struct auth_respond_in {
    const char    *peer;                        /* "ip:port" */
    uint8_t       *nonce;                       /* HELLO's challenge
                                                 * (AUTH_MSG_NONCE_LEN); wiped:
                                                 * it is used once */
    const uint8_t *exporter;                    /* the TLS session's exporter
                                                 * (AUTH_MSG_EXPORTER_LEN):
                                                 * zeros on plaintext */
    const char    *key_id;                      /* 16 hex digits, not terminated */
    size_t         key_id_len;
    const char    *role;                        /* not terminated */
    size_t         role_len;
    const uint8_t *sig;                         /* AUTH_MSG_SIG_LEN bytes */
};

/* AUTH: verifies an Ed25519 signature over the challenge message
 * (proto/auth_msg.h) by key key_id for role, with the same work and error
 * for an unknown key, a wrong signature, a revoked key and a role that is
 * not the principal's.  txn: a read transaction (NULL counts as a
 * failure).  AUTH_OK with *who and name filled; AUTH_REFUSE_LATER for a
 * blocked address; else AUTH_REFUSE (unauthorized). */
struct auth_verdict auth_respond(struct auth *a, MDB_txn *txn, const struct auth_respond_in *in,
                                 struct auth_ident *who, char *name, size_t namelen);

/* After KEY_REVOKE of key_id committed: AUTH_CLOSE_LATER (`unauthorized`
 * now, cut off within 1 s) when who authenticated with that key, else
 * AUTH_OK. */
struct auth_verdict auth_revoked(const struct auth_ident *who,
                                 const uint8_t key_id[AUTH_KEY_ID_LEN]);

/* GET by a bot: true when item `id` was submitted by `name` (or does not
 * exist, so that GET answers not_found as usual). */
bool auth_item_owned(struct store *s, MDB_txn *txn, uint64_t id, const char *name);

/* ---- key administration (server/cmd/cmd_key.c) --------------------------------- */

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
 * (audit != NULL) also appends its KEY_EVENT entry.  Message in err.
 * Afterwards k tells what changed, for the session code to act on live
 * connections: a revoked key_id (auth_revoked), or a principal whose
 * skills were replaced (set_skills, n_skills, skills). */
int auth_keyop_apply(struct store *s, struct audit *audit, MDB_txn *txn,
                     struct auth_keyop *k, uint64_t now_ms, char *err, size_t errlen);

/* KEY_LIST reply body {keys: [...], truncated}: at most AUTH_LIST_MAX keys
 * (only principal's when principal != NULL), never secrets or hashes. */
#define AUTH_LIST_MAX 1000u
int auth_pack_keys(struct store *s, MDB_txn *txn, const char *principal, msgpack_packer *pk);

#endif
