/*
 * audit_int.h - private to server/audit/audit*.c: the audit log's state
 * and the helpers its files share (node getter, meta blobs, signing, the
 * policy copy, the journal sink).
 */
#ifndef HITLQ_AUDIT_INT_H
#define HITLQ_AUDIT_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "audit.h"
#include "merkle.h"
#include "note.h"
#include "record.h"
#include "store.h"

#define AUDIT_SALT_POOL   128u                  /* salts per getrandom */
#define AUDIT_ENTRY_MAX   (AUDIT_HASH_LEN + RECORD_LEAF_MAX)
#define AUDIT_MODEL_ACTOR "core"                /* actor_id of model decisions */

/* A stream of salts (see audit_salt in audit.c); one per thread.  The
 * key is secret: wiped by audit_close. */
struct audit_salts {
    uint8_t  key[32];
    uint64_t ctr;
    uint8_t  pool[AUDIT_SALT_POOL][RECORD_SALT_LEN];
    size_t   left;
};

struct audit {
    struct store         *s;              /* borrowed */
    struct audit_policy  *pol;            /* owned copy; replaced by audit_reload (commit
                                           * thread), restored by audit_txn_abort */
    struct audit_policy  *snap_pol;       /* pol when the batch txn began (owned;
                                           * the same as pol unless a reload came) */
    char                  origin[NOTE_NAME_MAX + 1];
    size_t                origin_len;
    char                  key_path[1024];
    uint32_t              interval_ms;

    /* Secret keys: sodium_malloc'd array, wiped and freed by audit_close. */
    struct note_signer   *signers;
    size_t                nsigners;

    /* Commit thread (and audit_open before it starts). */
    struct merkle_hasher  h;
    struct merkle_tree    tree, snap;
    uint64_t              last_time, snap_last_time;
    MDB_txn              *txn;            /* batch txn seen by the node store */
    int                   node_rc;        /* the node store's last LMDB code */
    struct audit_salts    csalt;          /* commit thread's salts (notes) */
    uint8_t               enc[AUDIT_ENTRY_MAX];    /* hash || record */
    struct record         rec, ref;       /* reused: ~20 KB each */
    uint8_t               ev_agreement;   /* the last audit_event's VERDICT agreement
                                           * (RECORD_AGREE_*; NONE when not logged) */
    uint64_t              signed_size;    /* last size signed */
    uint64_t              last_sign_ms;
    char                  pend[AUDIT_NOTE_MAX];    /* signed, not yet in acps */
    size_t                pend_len;
    uint64_t              pend_size;

    /* Published checkpoint (any thread, under mu). */
    pthread_mutex_t       mu;
    char                  pub[AUDIT_NOTE_MAX];
    size_t                pub_len;
    uint64_t              pub_size;
    atomic_bool           want_cp;

    /* Loop thread. */
    struct merkle_hasher  rh;
    struct audit_salts    lsalt;          /* input salts (audit_prepare) */
};

/* merkle_get_fn over a transaction: level 0 from alog, stride levels from
 * anodes, the levels between recomputed. */
struct audit_get {
    struct audit         *a;
    MDB_txn              *txn;
    struct merkle_hasher *h;
};
int audit_node_get(void *arg, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN]);

/* meta blob helpers, returning LMDB codes: get returns MDB_NOTFOUND
 * (negative, -30798) when absent. */
int audit_meta_get(struct store *s, MDB_txn *txn, const char *name, MDB_val *v);
int audit_meta_put(struct store *s, MDB_txn *txn, const char *name,
                   const void *p, size_t n);

/* Appends record r (index and time are set here) to the log. */
int audit_append(struct audit *a, MDB_txn *txn, struct record *r, uint64_t now_ms,
                 uint64_t *index, uint8_t leaf_hash[AUDIT_HASH_LEN]);

/* audit_sign.c: key file, configuration entries, signing. */
int  audit_keys_load(struct audit *a, const struct hitlq_config *cfg, char *err, size_t errlen);
int  audit_register(struct audit *a, MDB_txn *txn, uint64_t now_ms, char *err, size_t errlen);
int  audit_sign_now(struct audit *a);
int  audit_check_rollback(struct audit *a, MDB_txn *txn, char *err, size_t errlen);

/* audit_policy.c: the log's copy of the policy values (audit.h).  set
 * copies in (HITLQ_ST_OK, or INTERNAL with pol unchanged); begin / abort
 * snapshot and restore it around a batch; release frees both copies. */
int  audit_policy_set(struct audit *a, const struct audit_policy *in);
void audit_policy_begin(struct audit *a);
void audit_policy_abort(struct audit *a);
void audit_policy_release(struct audit *a);
/* The type named `type` of a->pol, or NULL. */
const struct audit_type *audit_policy_type(const struct audit *a, const char *type);

/* audit_models.c: the id@version -> model digest registry.  id_put
 * records that id (id_len bytes) was registered with digest (warning in
 * the server log when it had another); ids_build fills the registry once
 * from the MODEL_REGISTERED entries of a log written before it existed.
 * HITLQ_ST_* statuses. */
int  audit_model_id_put(struct audit *a, MDB_txn *txn, const char *id, size_t id_len,
                        const uint8_t digest[AUDIT_HASH_LEN]);
int  audit_model_ids_build(struct audit *a, MDB_txn *txn);

/* audit_sink.c: registers / removes a as its store's journal sink. */
void audit_sink_attach(struct audit *a);
void audit_sink_detach(struct audit *a);

/* SHA-256(salt || data) with the given hasher's context. */
int audit_commit_hash(struct merkle_hasher *h, const uint8_t *salt, const void *data,
                      size_t len, uint8_t out[AUDIT_HASH_LEN]);

#endif
