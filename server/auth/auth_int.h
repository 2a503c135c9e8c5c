/*
 * auth_int.h - private to the files of server/auth: the authentication
 * state, the decoded forms of the principals db records (layouts in
 * auth.h) and the helpers HELLO (auth.c) and AUTH (auth_sig.c) share.
 */
#ifndef HITLQ_AUTH_INT_H
#define HITLQ_AUTH_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "log.h"

/* A revoked key's connection gets `unauthorized` at once and is cut off
 * this much later even if it never reads the notice (PROTOCOL.md §3.1:
 * within 1 s). */
#define AUTH_REVOKE_CLOSE_MS 500u

#define AUTH_REC_VERSION 1u
#define AUTH_REC_VERSION_TLS 2u         /* 'k' record of a tls_peer credential */
#define AUTH_REC_VERSION_ED25519 3u     /* 'k' record of an Ed25519 public key */

/* Failed HELLOs of one client address (auth.c). */
struct auth_fail {
    char     addr[64];                  /* "" = free slot */
    uint64_t at[AUTH_FAIL_MAX + 1];     /* the last failures' times, a ring */
    uint32_t next;                      /* where the next failure goes in at[] */
    uint64_t last_ms;
    uint64_t blocked_until;             /* 0 = not blocked */
};

struct auth {
    struct store      *s;               /* borrowed */
    bool               on;              /* cfg->auth resolved */
    uint8_t           *pepper;          /* AUTH_PEPPER_LEN, sodium_malloc'd */
    uint8_t            dummy[AUTH_HASH_LEN];  /* stands in for an unknown key */
    uint8_t            dummy_pk[AUTH_HASH_LEN]; /* the same for an unknown
                                                 * Ed25519 key (a valid point) */
    struct auth_fail   fails[AUTH_FAIL_SLOTS];
    struct log_addr_limit fail_log;     /* auth_failed lines: one a second per address */
};

/* 'k' key_id record. */
struct auth_keyrec {
    uint8_t  kind;                      /* enum auth_kind */
    uint8_t  hash[AUTH_HASH_LEN];       /* API key: keyed hash; Ed25519: the
                                         * public key; tls_peer: zeros */
    uint64_t created_ms;
    bool     revoked;
    char     principal[HITLQ_MAX_NAME + 1];
    char     tls_peer[AUTH_TLS_PEER_MAX + 1];   /* "" = an API key */
};

/* 'p' name record. */
struct auth_prec {
    uint8_t  role;
    uint64_t created_ms;
    uint8_t  n_skills;
    char     skills[AUTH_MAX_SKILLS][HITLQ_MAX_QUEUE_NAME + 1];
};

/* Both return HITLQ_ST_OK, HITLQ_ST_NOT_FOUND or HITLQ_ST_INTERNAL (a
 * malformed record or an LMDB error). */
int auth_key_get(struct store *s, MDB_txn *txn, const uint8_t id[AUTH_KEY_ID_LEN],
                 struct auth_keyrec *r);
int auth_principal_get(struct store *s, MDB_txn *txn, const char *name, size_t len,
                       struct auth_prec *p);
/* The unrevoked tls_peer credential named peer: HITLQ_ST_OK with id and r
 * filled, HITLQ_ST_NOT_FOUND, or HITLQ_ST_INTERNAL. */
int auth_tls_find(struct store *s, MDB_txn *txn, const char *peer,
                  uint8_t id[AUTH_KEY_ID_LEN], struct auth_keyrec *r);

/* ---- shared by auth.c (HELLO) and auth_sig.c (AUTH) ---------------------- */

/* "ip:port" (peer) -> "ip" (the failure limit's key). */
void auth_peer_addr(const char *peer, char *out, size_t n);
/* The per-address failure limit (now: monotonic ms): auth_fail_note
 * records a failure and blocks the address when it is the
 * (AUTH_FAIL_MAX + 1)-th within AUTH_FAIL_WINDOW_MS (a sliding window: a
 * success forgets nothing). */
bool auth_blocked(struct auth *a, const char *addr, uint64_t now);
void auth_fail_note(struct auth *a, const char *addr, uint64_t now);
/* The "auth_failed" event of a refused HELLO or AUTH from peer (address
 * addr): at most one line a second per address, with the count since the
 * previous one.  `reason` is a fixed text: never the credential. */
void auth_fail_log(struct auth *a, const char *peer, const char *addr, const char *method,
                   const char *reason);
/* The verdict for a blocked address: refused AUTH_BLOCK_DELAY_MS late,
 * reading nothing more meanwhile. */
struct auth_verdict auth_verdict_blocked(void);
/* An immediate `unauthorized` with msg. */
struct auth_verdict auth_verdict_refuse(const char *msg);
/* Authenticated: fills *who and name from the credential and its
 * principal (the address's failures stay counted: a and now are unused);
 * peer and how name it in the log. */
void auth_accept(struct auth *a, const char *peer, const uint8_t id[AUTH_KEY_ID_LEN],
                 const struct auth_keyrec *rec, const struct auth_prec *pr, uint64_t now,
                 const char *how, struct auth_ident *who, char *name, size_t namelen);

#endif
