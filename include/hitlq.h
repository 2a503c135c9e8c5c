/*
 * hitlq.h - libhitlq, the client library of the hitlq exception queue.
 *
 * Blocking calls over one connection (`hitlq`, not thread-safe: one context
 * per thread), plus a pipelined batch submit.  Every call returns an int
 * code: HITLQ_OK (0), a server status (> 0, enum hitlq_status in
 * hitlq_proto.h, e.g. HITLQ_ST_CONFLICT) or a client error (< 0, below).
 * hitlq_strerror() names any of them; hitlq_errstr() gives the detail of
 * the last failure on a context (the server's message, or errno text).
 *
 * Ownership: contexts are freed with hitlq_free(); replies with
 * hitlq_reply_free(); strings inside a reply are borrowed from it.
 *
 * This header needs only the C library: replies are opaque and read with
 * the typed accessors below.  Raw MessagePack access to a reply (nested
 * maps and arrays) is in hitlq_msgpack.h, which needs msgpack-c.
 */
#ifndef HITLQ_H
#define HITLQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hitlq_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HITLQ_OK          0
#define HITLQ_EIO        -1   /* socket error; see errno text in errstr */
#define HITLQ_EPROTO     -2   /* the server sent something that is not the protocol */
#define HITLQ_EOF        -3   /* the server closed the connection */
#define HITLQ_ETIMEOUT   -4   /* no reply within the context's timeout */
#define HITLQ_ENOMEM     -5
#define HITLQ_EINVAL     -6   /* bad argument (detail in errstr) */
#define HITLQ_ECLOSED    -7   /* the context is unusable after an earlier error */

typedef struct hitlq hitlq;

typedef struct hitlq_options {
    const char *host;        /* default "127.0.0.1" */
    uint16_t    port;        /* default 7420 */
    const char *name;        /* HELLO name: who is connecting; default "anonymous" */
    int         timeout_ms;  /* per call; 0 = wait forever (default 30000) */
    /* TLS: on when tls_ca is set (the CA file that signed the server's
     * certificate); tls_cert + tls_key add a client certificate (mutual
     * TLS); tls_server_name is the name to verify (default: host). */
    const char *tls_ca;
    const char *tls_cert;
    const char *tls_key;
    const char *tls_server_name;
    /* Authentication in HELLO: an API key "hitlq_<key_id>_<secret>";
     * NULL = none (only servers without `auth` accept that). */
    const char *api_key;
    /* Or Ed25519 challenge-response (PROTOCOL.md §3.2): the secret key
     * "hitlq_ed25519_sk_" + 64 hex digits (hitlq_ed25519_keygen), and the
     * role the principal was registered with ("bot", "specialist",
     * "auditor" or "admin"; it is signed).  Over TLS the signature is
     * bound to the session.  Not together with api_key. */
    const char *ed25519_key;
    const char *role;
} hitlq_options;

/* Ed25519 keys for challenge-response authentication, as strings:
 * "hitlq_ed25519_sk_" / "hitlq_ed25519_pk_" + 64 lowercase hex digits. */
#define HITLQ_ED25519_KEY_LEN 81
/* A new key pair.  HITLQ_OK or HITLQ_ENOMEM/HITLQ_EIO.  Wipe sk_out. */
int hitlq_ed25519_keygen(char sk_out[HITLQ_ED25519_KEY_LEN + 1],
                         char pk_out[HITLQ_ED25519_KEY_LEN + 1]);
/* The public key of a secret key string.  HITLQ_OK or HITLQ_EINVAL. */
int hitlq_ed25519_public(const char *sk, char pk_out[HITLQ_ED25519_KEY_LEN + 1]);
/* The key id the server derives from a public key string (16 hex digits
 * + NUL).  HITLQ_OK or HITLQ_EINVAL. */
int hitlq_ed25519_key_id(const char *pk, char id_out[17]);

/* Connects and sends HELLO (and AUTH with ed25519_key).  Returns NULL only when out of memory; check
 * hitlq_err() on the result (hiredis convention) and free it either way. */
hitlq *hitlq_connect(const hitlq_options *opt);
void   hitlq_free(hitlq *c);                 /* NULL is a no-op */

int         hitlq_err(const hitlq *c);       /* last code, HITLQ_OK if none */
const char *hitlq_errstr(const hitlq *c);    /* detail of the last error */
const char *hitlq_strerror(int code);        /* static text for any code:
                                                the wire string for server
                                                statuses ("conflict") */
const char *hitlq_strdesc(int code);         /* a sentence for any code */
int         hitlq_fd(const hitlq *c);

/* ---- generic call ------------------------------------------------------ */

/* A decoded reply (opaque): its frame header, and a body that is a
 * MessagePack map, validated and decoded, owned by the reply. */
typedef struct hitlq_reply hitlq_reply;

void hitlq_reply_free(hitlq_reply *r);       /* NULL is a no-op */

/* Sends one request (body: a packed msgpack map, or NULL/0 for empty) and
 * waits for its reply.  On HITLQ_OK or a server status, *out is the reply
 * (owned by the caller).  Returns the reply's status or a client error. */
int hitlq_call(hitlq *c, uint8_t opcode, const void *body, size_t len,
               hitlq_reply **out);

/* ---- reading a reply ------------------------------------------------------
 * The header fields of a reply's frame (r must not be NULL). */
uint8_t  hitlq_reply_opcode(const hitlq_reply *r);
uint16_t hitlq_reply_status(const hitlq_reply *r);    /* HITLQ_ST_* */
uint32_t hitlq_reply_request_id(const hitlq_reply *r);

/* The body as the server sent it: *len bytes of one MessagePack map, for a
 * decoder of the caller's choice.  Borrowed from the reply. */
const void *hitlq_reply_data(const hitlq_reply *r, size_t *len);

/* Top-level keys of the body.  hitlq_reply_has: the key is present (any
 * value, nil included).  The typed getters return true and set *out only
 * when the key is present with a value of that kind, else false and *out
 * untouched: _u64 a non-negative integer; _i64 an integer within int64_t;
 * _f64 a float or an integer (converted); _bool true/false.  r NULL or key
 * NULL is "absent". */
bool hitlq_reply_has(const hitlq_reply *r, const char *key);
bool hitlq_reply_get_u64(const hitlq_reply *r, const char *key, uint64_t *out);
bool hitlq_reply_get_i64(const hitlq_reply *r, const char *key, int64_t *out);
bool hitlq_reply_get_f64(const hitlq_reply *r, const char *key, double *out);
bool hitlq_reply_get_bool(const hitlq_reply *r, const char *key, bool *out);
/* A string (_str) or binary (_bin) value: a pointer into the reply, valid
 * until it is freed and NOT NUL-terminated, with its length in *len (len
 * may be NULL); NULL when absent or of another kind. */
const char *hitlq_reply_get_str(const hitlq_reply *r, const char *key, size_t *len);
const void *hitlq_reply_get_bin(const hitlq_reply *r, const char *key, size_t *len);
/* Copies string `key` into buf (size bytes, NUL-terminated, truncated to
 * fit).  Returns the string's full length (>= size: truncated), or -1 when
 * absent or not a string (buf then holds "" if size > 0). */
long hitlq_reply_copy_str(const hitlq_reply *r, const char *key, char *buf, size_t size);
/* The server's error message of a failed reply ("message"; see
 * hitlq_reply_get_str), or NULL. */
const char *hitlq_reply_message(const hitlq_reply *r, size_t *len);

/* ---- submit -------------------------------------------------------------- */

typedef struct hitlq_item {
    const char    *key;          /* idempotency key (name) */
    const char    *type;         /* item type (name) */
    const void    *fields;       /* packed msgpack map of the item's fields */
    size_t         fields_len;
    int64_t        priority;     /* -1 = the policy's */
} hitlq_item;

typedef struct hitlq_decision {
    uint64_t id;
    bool     queued;             /* false: auto-resolved */
    bool     duplicate;
    char     action[129];        /* auto-resolved: the policy's action */
    char     queue[65];          /* queued: the queue */
    uint32_t priority;
    uint64_t deadline_ms;
    double   score;              /* NaN: not scored (data_quality; server sent nil) */
    char     model[129];
    char     route[16];          /* auto_approve, auto_reject, review, hard_rule,
                                    data_quality ("" from older servers) */
    char     explain[8];         /* how contributions were computed: linear,
                                    approx, exact, none */
    size_t   n_reasons;          /* the reply's first feature reasons (its order:
                                    |contribution| descending, missing inputs too) */
    struct { char feature[129]; double contribution; } reasons[HITLQ_MAX_REASONS];
    size_t   n_rules;            /* validation / hard rules that routed it */
    struct { char id[129]; char field[129]; bool hard; } rules[16];
} hitlq_decision;

int hitlq_submit(hitlq *c, const hitlq_item *item, hitlq_decision *out);
/* The decision of a SUBMIT reply r (e.g. one handed to an asynchronous
 * callback, hitlq_async.h) into *out.  HITLQ_OK, HITLQ_EPROTO when r has
 * no id or outcome (an error reply), HITLQ_EINVAL for NULL arguments. */
int hitlq_reply_decision(const hitlq_reply *r, hitlq_decision *out);

/* Pipelined: sends all n SUBMITs (keeping at most `window` in flight,
 * 0 = 64) and collects every reply.  status[i] gets each item's code and
 * out[i] its decision when status[i] is HITLQ_OK.  Returns HITLQ_OK when
 * every reply arrived (check status[]), or a client error. */
int hitlq_submit_batch(hitlq *c, const hitlq_item *items, size_t n,
                       size_t window, hitlq_decision *out, int *status);

/* ---- specialists --------------------------------------------------------- */

/* A struct tag, not a typedef: the name hitlq_claim is the function. */
struct hitlq_claim {
    uint64_t     id;
    uint64_t     lease;          /* token for extend/release/resolve/escalate */
    uint64_t     expires_ms;
    hitlq_reply *reply;          /* the whole CLAIM reply (fields, reasons ...);
                                    owned: free with hitlq_claim_clear */
};

void hitlq_claim_clear(struct hitlq_claim *cl);

/* Claims the best item from `queues`.  Returns HITLQ_OK (item in *out),
 * HITLQ_ST_EMPTY (nothing before wait_ms) or an error.  lease_ms 0 = the
 * server default; worker NULL = the HELLO name. */
int hitlq_claim(hitlq *c, const char *const *queues, size_t n_queues,
                uint32_t lease_ms, uint32_t wait_ms, const char *worker,
                struct hitlq_claim *out);
int hitlq_extend(hitlq *c, uint64_t id, uint64_t lease, uint32_t lease_ms,
                 uint64_t *expires_ms);
int hitlq_release(hitlq *c, uint64_t id, uint64_t lease, uint32_t delay_ms);
/* RELEASE with waiting_on (a name, e.g. "customer"; NULL or "" = none;
 * not a name: HITLQ_EINVAL): the item waits delay_ms on someone outside
 * the queue and its SLA clock is paused until it is ready again
 * (PROTOCOL.md §4.8; delay_ms 0 with waiting_on: HITLQ_ST_BAD_REQUEST
 * from the server).  hitlq_release is this with NULL. */
int hitlq_release_waiting(hitlq *c, uint64_t id, uint64_t lease, uint32_t delay_ms,
                          const char *waiting_on);
int hitlq_resolve(hitlq *c, uint64_t id, uint64_t lease, const char *outcome,
                  const char *note, const char *root_cause, uint64_t *seq);
int hitlq_escalate(hitlq *c, uint64_t id, uint64_t lease, const char *queue,
                   const char *note);

/* ---- specialists' work operations (PROTOCOL.md §4.15-4.20) ---------------- */

/* GET by the item's idempotency key (global: one key, one item). */
int hitlq_get_by_key(hitlq *c, const char *key, hitlq_reply **out);
/* One page of `queue`'s open items with id > after (0 = from the start),
 * id order, limit 1..1000 (0 = the server default, 100).  *out:
 * {items: [{id, priority, deadline_ms, age_ms, state, attempts, type}],
 * next?}; pass `next` as `after` for the next page. */
int hitlq_list(hitlq *c, const char *queue, uint64_t after, uint32_t limit,
               hitlq_reply **out);
/* Claims item `id` (its type must allow claim_by_id).  As hitlq_claim. */
int hitlq_claim_id(hitlq *c, uint64_t id, uint32_t lease_ms, const char *worker,
                   struct hitlq_claim *out);
/* A note (1..4096 bytes) on an item, no decision; *at_ms (may be NULL)
 * gets its time. */
int hitlq_comment(hitlq *c, uint64_t id, const char *note, uint64_t *at_ms);
/* Sends a resolved item back to `queue` (NULL = the queue it was resolved
 * from) with a required note; queue_out (may be NULL, HITLQ_MAX_QUEUE_NAME
 * + 1 bytes) gets the queue.  Admin, or a specialist with skill "senior". */
int hitlq_reopen(hitlq *c, uint64_t id, const char *queue, const char *note,
                 char *queue_out);
/* Changes a resolved item's outcome (a declared action) with a required
 * note; *seq (may be NULL) gets the new result's sequence number.  Roles
 * as hitlq_reopen. */
int hitlq_amend(hitlq *c, uint64_t id, const char *outcome, const char *note,
                const char *root_cause, uint64_t *seq);

/* ---- inspection and results ---------------------------------------------- */

int hitlq_get(hitlq *c, uint64_t id, hitlq_reply **out);
/* GET with the reasons recomputed as exact TreeSHAP contributions (for an
 * item scored by its type's current tree model; otherwise as stored). */
int hitlq_get_exact(hitlq *c, uint64_t id, hitlq_reply **out);
int hitlq_stats(hitlq *c, hitlq_reply **out);

/* Streams results from `cursor` (0 = only new ones): calls fn for every
 * RESULT (the reply is borrowed: valid during the call) until fn returns
 * non-zero (then returns HITLQ_OK) or an error occurs.  The context's
 * timeout does not apply while waiting for results; idle_ms > 0 makes the
 * call return HITLQ_ETIMEOUT after that long without a result. */
int hitlq_watch(hitlq *c, uint64_t cursor, int idle_ms,
                int (*fn)(void *arg, const hitlq_reply *result), void *arg);

/* ---- audit log (PROTOCOL.md §4.12) ------------------------------------- */

#define HITLQ_HASH_LEN 32

/* The latest signed checkpoint: *note gets a malloc'd NUL-terminated copy of
 * the signed note (free() it), *size its tree size. */
int hitlq_audit_checkpoint(hitlq *c, char **note, size_t *note_len, uint64_t *size);
/* The same with `fresh: true`: the server first signs a checkpoint that
 * covers every entry committed when the request arrived. */
int hitlq_audit_checkpoint_fresh(hitlq *c, char **note, size_t *note_len, uint64_t *size);

/* Entries [start, start + count) as far as the server has them (count
 * 1..1024; the server may return fewer).  *out is the reply: `entries`
 * and `hashes` arrays of bin (see PROTOCOL.md); *n gets how many. */
int hitlq_audit_entries(hitlq *c, uint64_t start, uint32_t count,
                        hitlq_reply **out, size_t *n);

/* Inclusion proof(s) at signed size `size` (0 = the latest checkpoint):
 * by entry index, or for every entry of item `id`.  *out is the reply
 * ({size, checkpoint, proofs: [{index, leaf_hash, proof, tlog_proof}]}). */
int hitlq_audit_prove(hitlq *c, uint64_t index, uint64_t size, hitlq_reply **out);
int hitlq_audit_prove_item(hitlq *c, uint64_t id, uint64_t size, hitlq_reply **out);

/* Consistency proof from size1 to size2 (0 = the latest signed size; the
 * size used is stored in *size2_out when not NULL).  proof must hold 64
 * hashes; *n gets the count. */
int hitlq_audit_consistency(hitlq *c, uint64_t size1, uint64_t size2,
                            uint8_t proof[][HITLQ_HASH_LEN], size_t *n,
                            uint64_t *size2_out);

/* SUBMIT with a receipt (PROTOCOL.md §4.12): like hitlq_submit, and also
 * fills *index and leaf_hash; when want_proof, waits for the checkpoint
 * and sets *tlog_proof to a malloc'd NUL-terminated tlog-proof@v1 text
 * (free() it), else *tlog_proof (if not NULL) is set to NULL. */
int hitlq_submit_receipt(hitlq *c, const hitlq_item *item, bool want_proof,
                         hitlq_decision *out, uint64_t *index,
                         uint8_t leaf_hash[HITLQ_HASH_LEN], char **tlog_proof);

/* ---- input drift (PROTOCOL.md §4.12a) -------------------------------------- */

/* DRIFT_INPUTS (auditor or admin): input drift of item type `type` over
 * the windows starting in [from_ms, to_ms) (0 = no bound) against the
 * type's reference profile.  *out is the reply ({type, profile, version,
 * n_ref, n, windows, from_ms, to_ms, features: [{field, kind, rank, edges
 * | categories, counts, ref_counts, missing, unseen, ref_missing,
 * missing_rate, unseen_rate, ref_missing_rate, psi, js_div, js_dist}]},
 * features ranked by PSI); on a server error it holds the error reply. */
int hitlq_drift_inputs(hitlq *c, const char *type, uint64_t from_ms, uint64_t to_ms,
                       hitlq_reply **out);

/* DRIFT_REVIEW (auditor or admin, PROTOCOL.md §4.12b): the live AI-vs-human
 * review of item type `type` over the windows (of drift_window_s, by the
 * time of the model decision) starting in [from_ms, to_ms) (0 = no bound).
 * *out is the reply ({type, window_ms, labels, qa_rate, truncated, total,
 * windows: [...]}; each window: start_ms, end_ms, decisions, scored, n,
 * agreement, override_rate, expected_agreement, kappa, kappa_se, kappa_lo,
 * kappa_hi, not_comparable, matrix, by_queue, qa, scores); on a server
 * error it holds the error reply. */
int hitlq_drift_review(hitlq *c, const char *type, uint64_t from_ms, uint64_t to_ms,
                       hitlq_reply **out);

/* ---- administration ------------------------------------------------------ */

/* RELOAD: the server loads and validates its configured policy file (and
 * the models it names) again and puts it in force.  Returns HITLQ_OK with
 * the new policy's "id@version" in policy_out (truncated to policy_len,
 * NUL-terminated; may be NULL), or the server's status, e.g.
 * HITLQ_ST_INVALID_POLICY (the old policy stays in force; the reason is in
 * hitlq_errstr) or HITLQ_ST_INVALID_STATE (another reload is in flight). */
int hitlq_reload(hitlq *c, char *policy_out, size_t policy_len);

/* API keys (PROTOCOL.md §3.1, §4.14; the admin role only).  A key is
 * "hitlq_<key_id>_<secret>", HITLQ_API_KEY_LEN characters; its key_id is
 * HITLQ_KEY_ID_LEN hex digits. */
#define HITLQ_API_KEY_LEN 66
#define HITLQ_KEY_ID_LEN  16

/* KEY_ADD: a new key for `principal` (created with `role` - "bot",
 * "specialist", "auditor" or "admin" - if new; an existing principal must
 * have that role).  skills (n_skills queue names, specialists only)
 * replace the queues the principal may claim from; skills NULL keeps them
 * (a new principal: any queue).  The key, which the server shows only
 * this once, is copied to api_key_out (api_key_len >= HITLQ_API_KEY_LEN
 * + 1), its id to key_id_out (HITLQ_KEY_ID_LEN + 1 bytes; may be NULL).
 * Wipe api_key_out when done with it. */
int hitlq_key_add(hitlq *c, const char *principal, const char *role,
                  const char *const *skills, size_t n_skills,
                  char *api_key_out, size_t api_key_len,
                  char *key_id_out, size_t key_id_len);
/* KEY_ADD with tls_peer: instead of an API key, binds `principal` (role
 * and skills as for hitlq_key_add) to mutual-TLS client certificates whose
 * verified CN/SAN is tls_peer (1..128 printable ASCII); a HELLO without
 * api_key over such a connection then authenticates as the principal.
 * The credential's id (revocable with hitlq_key_revoke) is copied to
 * key_id_out (HITLQ_KEY_ID_LEN + 1 bytes; may be NULL).  No secret. */
int hitlq_key_add_tls(hitlq *c, const char *principal, const char *role,
                      const char *tls_peer, const char *const *skills, size_t n_skills,
                      char *key_id_out, size_t key_id_len);
/* KEY_ADD with public_key: registers an Ed25519 public key
 * ("hitlq_ed25519_pk_" + 64 hex digits, from hitlq_ed25519_keygen) for
 * `principal` (role and skills as for hitlq_key_add).  The server keeps
 * only the public key; its key id (derived from it) is copied to
 * key_id_out (HITLQ_KEY_ID_LEN + 1 bytes; may be NULL). */
int hitlq_key_add_ed25519(hitlq *c, const char *principal, const char *role,
                          const char *public_key, const char *const *skills,
                          size_t n_skills, char *key_id_out, size_t key_id_len);
/* KEY_LIST: *out is the reply {keys: [{principal, role, skills, key_id,
 * created_ms, revoked, kind}], truncated} (never secrets); principal NULL
 * = all.  kind is "api_key", "tls_peer" (the entry also has tls_peer) or
 * "ed25519" (the entry also has public_key). */
int hitlq_key_list(hitlq *c, const char *principal, hitlq_reply **out);
/* KEY_REVOKE: the key stops working at once; the server closes the
 * connections that authenticated with it. */
int hitlq_key_revoke(hitlq *c, const char *key_id);

#ifdef __cplusplus
}
#endif

#endif /* HITLQ_H */
