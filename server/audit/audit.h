/*
 * audit.h - the signed audit log of hitlqd (proto/AUDIT-FORMAT.md): one
 * AXR1 decision record per model or human decision, appended to an RFC 6962
 * Merkle tree inside the same LMDB write transaction as the state change,
 * and C2SP checkpoints signed with the log's Ed25519 key(s).
 *
 * Storage (store.h):
 *   alog    u64 BE index -> leaf hash[32] || AXR1 record bytes
 *   anodes  u8 level || u64 BE index -> hash of the complete subtree
 *           (level, index), for levels that are multiples of
 *           AUDIT_NODE_STRIDE (level 0 lives in alog); the levels between
 *           are recomputed from the stored level below (<= 15 hashes)
 *   (the item record holds the input salt and its model entry's index,
 *   item.h; the index of each later entry is in its history event)
 *   anotes  u64 BE index -> salt[32] of that entry's note commitment
 *   acps    u64 BE size -> signed checkpoint note (history of checkpoints)
 *   meta    "audit_origin" (str), "audit_keys" (registered vkeys, '\n'
 *           separated), "audit_policy" (digest of the registered policy),
 *           "audit_model:<hex digest>" (registered models),
 *           "audit_model_id:<id@version>" (digest[32] registered under that
 *           id; "audit_model_ids" marks the registry built, audit_models.c)
 *
 * Threads: audit_open/close run before/after the loop and commit threads.
 * The append functions and audit_after_commit are commit-thread only (the
 * tree, hasher, salt pool and secret keys are its own); the published
 * checkpoint is guarded by a mutex; the read functions (audit_read.c) run
 * on the loop thread inside its read transaction.
 *
 * Item events reach the log through the store's journal sink (store.h),
 * which audit_open registers: journal_record calls it inside the batch
 * transaction, and GET and duplicate SUBMITs read entries through it.
 * What the log records of the scoring configuration comes in as values
 * (struct audit_policy), copied by audit_open / audit_reload.
 *
 * Errors: HITLQ_ST_* statuses (journal.c passes them on; INTERNAL or
 * RESOURCE_EXHAUSTED make the commit thread abort the batch).
 */
#ifndef HITLQ_AUDIT_H
#define HITLQ_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <lmdb.h>
#include <msgpack.h>

#include "hitlq_proto.h"
#include "journal.h"

#define AUDIT_HASH_LEN     32u
#define AUDIT_NODE_STRIDE  4u        /* anodes keeps levels 4, 8, 12, ... */
#define AUDIT_NOTE_MAX     4096u     /* a signed checkpoint (few signatures) */
#define AUDIT_KEYS_MAX     8u        /* signing keys at once (rotation overlap) */
#define AUDIT_ITEM_MAX     64u       /* entries listed per item (AUDIT_PROVE) */
#define AUDIT_TOP_MAX      3u        /* TOP_FEATURES entries per model decision */

struct store;
struct hitlq_config;
struct audit;

/* What the log records of one item type's policy (all borrowed for the
 * call that passes them; the log keeps copies). */
struct audit_type {
    const char    *type;
    const char    *auto_action, *reject_action;
    double         auto_threshold;
    const char    *model_id;               /* "id@version" */
    const uint8_t *model_digest;           /* 32 bytes: SHA-256 of the model file */
    const char    *model_kind;             /* "scorecard", "xgboost" */
};

/* What the log records of the scoring configuration (the policy set in
 * force): its id and file digest and its types in file order, for
 * MODEL_REGISTERED / POLICY_CHANGE entries.  Built from the loaded set by
 * the layer that owns it.  (The recommendation of a model decision comes
 * prepared with it, struct audit_decision; a verdict's entry compares with
 * the one its model entry recorded.) */
struct audit_policy {
    const char    *id;                     /* "id@version" */
    const uint8_t *digest;                 /* 32 bytes: SHA-256 of the policy file */
    size_t         n_types;
    const struct audit_type *types;
};

/* What SUBMIT's model decision is, for audit_prepare (loop thread; all
 * borrowed for the call). */
struct audit_decision {
    const char    *key, *actor;            /* idempotency key, bot */
    const uint8_t *fields;                 /* exact msgpack bytes */
    size_t         fields_len;
    const char    *model;                  /* "id@version" */
    const uint8_t *model_digest;           /* 32 bytes */
    const char    *policy_id;
    double         score, threshold;
    bool           is_auto;
    const char    *action;                 /* is_auto */
    const char    *queue;                  /* !is_auto */
    uint32_t       priority;
    uint64_t       deadline_ms, received_ms;
    uint8_t        n_codes;
    const uint16_t *codes;
    const uint8_t *top_ext;                /* TOP_FEATURES body, may be NULL */
    size_t         top_ext_len;
    const uint8_t *scoring_ext;            /* SCORING body (0x0006), may be NULL */
    size_t         scoring_ext_len;
    const uint8_t *rules_ext;              /* RULES body (0x0007), may be NULL */
    size_t         rules_ext_len;
    const uint8_t *rec_ext;                /* RECOMMENDATION body (0x0008), may be NULL */
    size_t         rec_ext_len;
};

#define AUDIT_MAX_CODES    (HITLQ_MAX_REASONS + 16u)   /* reason codes per decision */

/* Loop thread: draws the input salt, computes the input commitment and
 * encodes the whole record but its prefix (magic, type, index, time,
 * item id), which audit_submit writes at commit time; the commit thread
 * then only hashes and stores.  *tail is malloc'd (caller frees). */
int audit_prepare(struct audit *a, const struct audit_decision *in, uint8_t salt[32],
                  uint8_t *type, uint8_t **tail, size_t *tail_len);

/* Opens the log (creating key file and GENESIS on first start), restores
 * the tree, refuses a store that is behind its last signed checkpoint,
 * appends KEY_EVENT / MODEL_REGISTERED / POLICY_CHANGE entries for what
 * changed since the last start (pol: the policy set in force, copied),
 * and signs a checkpoint.  Registers the log as s's journal sink
 * (store.h).  Returns 0 or -1 with a message in err. */
int  audit_open(struct audit **out, struct store *s, const struct hitlq_config *cfg,
                const struct audit_policy *pol, char *err, size_t errlen);
/* Removes the journal sink, wipes the keys, frees a.  NULL ok. */
void audit_close(struct audit *a);

/* The verifier keys, one "name+id+base64" per line (for logs, -K). */
size_t audit_vkeys(const struct audit *a, char *out, size_t cap);

/* Key administration with the server stopped (hitlqd -K, -R, -X): op 'K'
 * prints the verifier keys of the key file (creating it if missing),
 * 'R' adds a new key with the log's origin (both then sign every
 * checkpoint; the next start logs a KEY_EVENT add), 'X' removes the key
 * whose 8-hex-digit ID is arg (the next start logs a KEY_EVENT retire).
 * Prints the resulting verifier keys to out.  0 or -1 (message in err). */
int audit_key_admin(const struct hitlq_config *cfg, char op, const char *arg, FILE *out,
                    char *err, size_t errlen);

/* ---- commit thread ------------------------------------------------------ */

/* Hot reload: from now on the log uses the policy set pol (copied);
 * appends MODEL_REGISTERED for models it has not seen and POLICY_CHANGE
 * if the policy file changed.  An aborted batch restores the old set. */
int  audit_reload(struct audit *a, MDB_txn *txn, const struct audit_policy *pol,
                  uint64_t now_ms);

/* An API key of principal (server/auth/auth.h) was added (action 1) or revoked
 * (3): a KEY_EVENT entry with KEY_INFO role 3 (actor), whose key text is
 * desc ("apikey <key_id> <principal> <role>", at most AUDIT_ACTOR_DESC_MAX
 * bytes), made by admin principal `by` ("hitlqd" = the server itself). */
#define AUDIT_ACTOR_DESC_MAX 255u
int  audit_actor_key(struct audit *a, MDB_txn *txn, const char *desc, size_t len,
                     uint8_t action, const char *by, uint64_t now_ms);

/* Around each batch transaction: begin snapshots the tree, abort rolls the
 * in-memory state back to it (the txn did not commit). */
void audit_txn_begin(struct audit *a, MDB_txn *txn);
void audit_txn_abort(struct audit *a);

/* The model decision of a new item: in->tail from audit_prepare, in->type
 * RECORD_AUTO_DECISION / _ESCALATION; in->index / leaf_hash get its
 * entry (index_set).  Called by the journal sink for SUBMIT. */
int audit_submit(struct audit *a, MDB_txn *txn, struct journal_log_entry *in,
                 uint64_t now_ms);
/* One human or system event of journal.c (RESOLVED, ESCALATED, RELEASED,
 * EXPIRED, DEAD_LETTERED): its entry's index goes to *index (other kinds
 * are not logged: OK with *index = JOURNAL_NO_AUDIT). */
int audit_event(struct audit *a, MDB_txn *txn, const struct journal_item *it,
                const struct journal_ev *ev, uint64_t now_ms, uint64_t *index);
/* Puts a checkpoint signed since the last batch into acps. */
int audit_persist(struct audit *a, MDB_txn *txn);

/* After mdb_txn_commit returned 0 (or on the idle timer): signs a
 * checkpoint of the committed tree when one is due (interval passed or a
 * receipt asked) and publishes it.  Returns true if a new one was
 * published.  *next_ms gets when the next one will be due (0 = none). */
bool audit_after_commit(struct audit *a, uint64_t now_ms, uint64_t *next_ms);
/* True when a signed checkpoint still has to go into acps. */
bool audit_has_unpersisted(const struct audit *a);
/* Gives up storing it (after a failed write; it stays published). */
void audit_drop_unpersisted(struct audit *a);
/* When the commit thread must next call audit_after_commit (and persist)
 * although no batch came: now_ms if a receipt waits or a checkpoint is
 * unstored, the signing deadline if the tree grew, 0 if nothing is due. */
uint64_t audit_due_ms(struct audit *a, uint64_t now_ms);

/* ---- any thread --------------------------------------------------------- */

/* Asks the commit thread to sign as soon as the tree has grown. */
void audit_request_checkpoint(struct audit *a);
/* Copies the latest signed checkpoint; *size gets its tree size.  Returns
 * HITLQ_ST_OK or HITLQ_ST_INTERNAL (none yet / cap too small). */
int  audit_latest(struct audit *a, char *out, size_t cap, size_t *len, uint64_t *size);

/* ---- loop thread, read transaction (audit_read.c) ----------------------- */

/* Number of entries committed (the tree size a read txn sees). */
int audit_count(struct store *s, MDB_txn *txn, uint64_t *n);

/* A copy of the published checkpoint, taken with audit_cp_get BEFORE the
 * read transaction begins (see audit_read.c). */
struct audit_cp {
    uint64_t size;
    size_t   len;
    char     note[AUDIT_NOTE_MAX];
};
int audit_cp_get(struct audit *a, struct audit_cp *cp);

/* AUDIT_ENTRIES reply body for [start, start + count). */
int audit_pack_entries(struct audit *a, MDB_txn *txn, uint64_t start, uint32_t count,
                       msgpack_packer *pk);
/* AUDIT_PROVE reply body: by index (by_item false) or item id; size 0 =
 * the checkpoint in cp.  HITLQ_ST_NOT_FOUND with a message in err. */
int audit_pack_prove(struct audit *a, MDB_txn *txn, uint64_t key, bool by_item,
                     uint64_t size, const struct audit_cp *cp, msgpack_packer *pk,
                     char *err, size_t errlen);
/* AUDIT_CONSISTENCY reply body; size2 0 = cp's size. */
int audit_pack_consistency(struct audit *a, MDB_txn *txn, uint64_t size1, uint64_t size2,
                           const struct audit_cp *cp, msgpack_packer *pk, char *err,
                           size_t errlen);
/* The leaf hash stored with entry `index` (HITLQ_ST_NOT_FOUND if none). */
int audit_leaf(struct audit *a, MDB_txn *txn, uint64_t index, uint8_t out[AUDIT_HASH_LEN]);
/* tlog-proof@v1 text of entry `index` against checkpoint cp, malloc'd in
 * *out (NUL-terminated, *len bytes).  HITLQ_ST_NOT_FOUND when cp does not
 * cover it yet. */
int audit_tlog_proof(struct audit *a, MDB_txn *txn, uint64_t index, const struct audit_cp *cp,
                     char **out, size_t *len);
/* The model file digest the log registered under "id@version" (its last
 * MODEL_REGISTERED for that id; audit_models.c): HITLQ_ST_OK with it in
 * out, or HITLQ_ST_NOT_FOUND.  Any transaction. */
int audit_model_digest(struct audit *a, MDB_txn *txn, const char *id,
                       uint8_t out[AUDIT_HASH_LEN]);

/* The model's recommendation the entry at `index` recorded (its
 * RECOMMENDATION extension; audit_rec.c) into out[0..cap), NUL-terminated
 * ("" = none).  HITLQ_ST_OK; NOT_FOUND when a is NULL, there is no such
 * entry or it has no RECOMMENDATION (format v1); INTERNAL on a bad entry
 * or no memory.  Any transaction. */
int audit_recommendation(struct audit *a, MDB_txn *txn, uint64_t index, char *out,
                         size_t cap);

/* GET's `audit` value: {entries, salt} for item id, or nil. */
int audit_pack_item(struct audit *a, MDB_txn *txn, uint64_t id, msgpack_packer *pk);

#endif
