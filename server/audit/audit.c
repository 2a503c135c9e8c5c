/*
 * audit.c - the audit log's write path: builds the AXR1 record of each
 * decision (model decisions from SUBMIT, human and system events from
 * journal.c, through the journal sink of audit_sink.c), appends it to the
 * Merkle tree and stores entry, nodes, salts and the item's entry list in
 * the batch's write transaction.  Signing, configuration entries, opening
 * and closing: audit_sign.c.  Reads and proofs: audit_read.c.  The policy
 * copy: audit_policy.c.  The journal sink: audit_sink.c.  Layouts in
 * audit.h.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "audit_int.h"
#include "config.h"
#include "log.h"

/* ---- storage helpers ---------------------------------------------------- */

int
audit_meta_get(struct store *s, MDB_txn *txn, const char *name, MDB_val *v)
{
    MDB_val k = { strlen(name), (void *)name };

    return mdb_get(txn, s->meta, &k, v);
}

int
audit_meta_put(struct store *s, MDB_txn *txn, const char *name, const void *p, size_t n)
{
    MDB_val k = { strlen(name), (void *)name }, v = { n, (void *)p };

    return mdb_put(txn, s->meta, &k, &v, 0);
}

int
audit_count(struct store *s, MDB_txn *txn, uint64_t *n)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, s->alog, &cur);

    if (rc != 0)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND) {
        *n = 0;
        return 0;
    }
    if (rc != 0)
        return rc;
    if (k.mv_size != 8)
        return MDB_CORRUPTED;
    *n = store_get_be64(k.mv_data) + 1;
    return 0;
}

int
audit_node_get(void *arg, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN])
{
    struct audit_get *g = arg;
    uint8_t kb[9], l[MERKLE_HASH_LEN], r[MERKLE_HASH_LEN];
    MDB_val k, v;

    if (level % AUDIT_NODE_STRIDE != 0) {
        if (audit_node_get(arg, level - 1, index * 2, l) != 0 ||
            audit_node_get(arg, level - 1, index * 2 + 1, r) != 0)
            return -1;
        return merkle_node_hash(g->h, l, r, out) == MERKLE_OK ? 0 : -1;
    }
    if (level == 0) {
        store_put_be64(kb, index);
        k = (MDB_val){ 8, kb };
        if (mdb_get(g->txn, g->a->s->alog, &k, &v) != 0 || v.mv_size < MERKLE_HASH_LEN)
            return -1;
    } else {
        kb[0] = (uint8_t)level;
        store_put_be64(kb + 1, index);
        k = (MDB_val){ 9, kb };
        if (mdb_get(g->txn, g->a->s->anodes, &k, &v) != 0 || v.mv_size != MERKLE_HASH_LEN)
            return -1;
    }
    memcpy(out, v.mv_data, MERKLE_HASH_LEN);
    return 0;
}

/* merkle_store_fn: keeps the stride levels (level 0 is stored with the
 * entry itself). */
static int
audit_node_store(void *arg, unsigned level, uint64_t index, const uint8_t hash[MERKLE_HASH_LEN])
{
    struct audit *a = arg;
    uint8_t kb[9];

    if (level == 0 || level % AUDIT_NODE_STRIDE != 0)
        return 0;
    kb[0] = (uint8_t)level;
    store_put_be64(kb + 1, index);
    MDB_val k = { 9, kb }, v = { MERKLE_HASH_LEN, (void *)hash };
    /* Not MDB_APPEND: keys sort by level first, so a new level-4 node
     * comes before the level-8 nodes already stored.  The code is kept:
     * a full map must reach the client as resource_exhausted. */
    a->node_rc = mdb_put(a->txn, a->s->anodes, &k, &v, 0);
    return a->node_rc;
}

int
audit_commit_hash(struct merkle_hasher *h, const uint8_t *salt, const void *data,
                  size_t len, uint8_t out[AUDIT_HASH_LEN])
{
    EVP_MD_CTX *ctx = (EVP_MD_CTX *)h->ctx;

    if (EVP_DigestInit_ex(ctx, (const EVP_MD *)h->md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, salt, RECORD_SALT_LEN) != 1 ||
        (len > 0 && EVP_DigestUpdate(ctx, data, len) != 1) ||
        EVP_DigestFinal_ex(ctx, out, NULL) != 1)
        return -1;
    return 0;
}

/* Salts: a ChaCha20 keystream under a random key drawn when the log is
 * opened, nonce = refill counter (one getrandom per process, not one per
 * salt; a salt only has to be unpredictable and never reused).  One pool
 * per thread (commit: note salts; loop: input salts). */
static const uint8_t *
audit_salt(struct audit_salts *sp)
{
    if (sp->left == 0) {
        uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];

        store_put_be64(nonce, sp->ctr++);
        crypto_stream_chacha20((uint8_t *)sp->pool, sizeof(sp->pool), nonce, sp->key);
        sp->left = AUDIT_SALT_POOL;
    }
    return sp->pool[--sp->left];
}

/* Decimal ASCII of v into buf (>= 20 bytes); returns the length. */
static size_t
audit_u64_str(char *buf, uint64_t v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

/* ---- append ------------------------------------------------------------- */

/* Hashes the record at a->enc + 32 (len bytes, time t) into a->enc[0..32),
 * appends it to the tree and stores it. */
static int
audit_store_entry(struct audit *a, MDB_txn *txn, size_t len, uint64_t t)
{
    uint8_t kb[8];
    uint64_t index = a->tree.size;
    int rc;

    if (merkle_leaf_hash(&a->h, a->enc + AUDIT_HASH_LEN, len, a->enc) != MERKLE_OK)
        return HITLQ_ST_INTERNAL;
    a->txn = txn;
    a->node_rc = 0;
    if (merkle_tree_append(&a->tree, &a->h, a->enc, audit_node_store, a) != MERKLE_OK)
        return a->node_rc != 0 ? store_status(a->node_rc) : HITLQ_ST_INTERNAL;
    store_put_be64(kb, index);
    MDB_val k = { 8, kb }, v = { AUDIT_HASH_LEN + len, a->enc };
    rc = mdb_put(txn, a->s->alog, &k, &v, MDB_APPEND);
    if (rc != 0)
        return store_status(rc);
    a->last_time = t;
    return HITLQ_ST_OK;
}

int
audit_append(struct audit *a, MDB_txn *txn, struct record *r, uint64_t now_ms,
             uint64_t *index, uint8_t leaf_hash[AUDIT_HASH_LEN])
{
    size_t len;
    int st;

    r->index = a->tree.size;
    r->time_ms = now_ms > a->last_time ? now_ms : a->last_time;
    if (record_encode(r, a->enc + AUDIT_HASH_LEN, RECORD_LEAF_MAX, &len) != RECORD_OK)
        return HITLQ_ST_INTERNAL;
    if ((st = audit_store_entry(a, txn, len, r->time_ms)) != HITLQ_ST_OK)
        return st;
    *index = r->index;
    if (leaf_hash != NULL)
        memcpy(leaf_hash, a->enc, AUDIT_HASH_LEN);
    return HITLQ_ST_OK;
}

void
audit_txn_begin(struct audit *a, MDB_txn *txn)
{
    a->snap = a->tree;
    a->snap_last_time = a->last_time;
    audit_policy_begin(a);
    a->txn = txn;
}

void
audit_txn_abort(struct audit *a)
{
    a->tree = a->snap;
    a->last_time = a->snap_last_time;
    audit_policy_abort(a);
    a->txn = NULL;
}

/* ---- record building ------------------------------------------------------ */

static void
audit_str(struct record_str *dst, const char *s, size_t n)
{
    if (n > RECORD_STR_MAX)
        n = RECORD_STR_MAX;
    dst->len = (uint8_t)n;
    memcpy(dst->data, s, n);
}

/* APPROVE / REJECT / NONE for an action or outcome string. */
static uint8_t
audit_decision_of(const char *s)
{
    static const char *const yes[] = { "approve", "approved", "accept", "accepted" };
    static const char *const no[] = { "reject", "rejected", "decline", "declined",
                                      "deny", "denied" };

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        if (strcmp(s, yes[i]) == 0)
            return RECORD_DEC_APPROVE;
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (strcmp(s, no[i]) == 0)
            return RECORD_DEC_REJECT;
    return RECORD_DEC_NONE;
}

/* Extension scratch: QUEUE_REF and SUBMISSION bodies, a VERDICT body. */
struct audit_ext {
    uint8_t b[3][2 * (1 + RECORD_STR_MAX) + 16];
    uint8_t v[RECORD_EXT_VERDICT_MAX];
    uint8_t rv[RECORD_EXT_REVIEW_LEN];
};

/* s as an extension body field, cut at RECORD_STR_MAX bytes. */
static struct record_ext_bytes
audit_bytes(const char *s)
{
    size_t n = strlen(s);

    if (n > RECORD_STR_MAX)
        n = RECORD_STR_MAX;
    return (struct record_ext_bytes){ (const uint8_t *)s, n };
}

static void
audit_ext_add(struct record *r, uint16_t type, const uint8_t *p, size_t n)
{
    r->ext[r->ext_count].type = type;
    r->ext[r->ext_count].len = (uint16_t)n;
    r->ext[r->ext_count].data = p;
    r->ext_count++;
}

/* QUEUE_REF body into p (RECORD_EXT_QUEUE_REF_MAX bytes), *n its length;
 * the priority is capped at 255.  RECORD_OK or a RECORD_ERR_* code. */
static int
audit_queue_body(uint8_t *p, const char *queue, uint32_t priority, uint64_t deadline_ms,
                 size_t *n)
{
    struct record_ext_queue_ref q = {
        .queue = audit_bytes(queue),
        .priority = (uint8_t)(priority > 255 ? 255 : priority),
        .sla_deadline_ms = deadline_ms,
    };

    return record_ext_queue_ref_encode(&q, p, RECORD_EXT_QUEUE_REF_MAX, n);
}

/* Adds a QUEUE_REF (body written into p) to r; false if it cannot be encoded. */
static bool
audit_ext_queue(struct record *r, uint8_t *p, const char *queue, uint32_t priority,
                uint64_t deadline_ms)
{
    size_t n;

    if (audit_queue_body(p, queue, priority, deadline_ms, &n) != RECORD_OK)
        return false;
    audit_ext_add(r, RECORD_EXT_QUEUE_REF, p, n);
    return true;
}

/* Record bytes before the tail: magic, type, index, time, item id. */
#define AUDIT_PREFIX_FIXED 21u                 /* 4 + 1 + 8 + 8 */

/* Bound of a model decision's tail: every opaque at 255 bytes, 255 reasons,
 * the three extensions (TOP_FEATURES as given). */
#define AUDIT_TAIL_FIXED (1 + 256 + 32 + 2 * 256 + 32 + 32 + 8 + 8 + 256 + 1 + \
                          1 + 2 * AUDIT_MAX_CODES + 8 + 32 + 32 + 2 + \
                          4 + (4 + 256 + 1 + 8) + (4 + 2 * 256 + 8) + 1)

static uint8_t *
tail_opaque(uint8_t *p, const char *s, size_t n)
{
    if (n > RECORD_STR_MAX)
        n = RECORD_STR_MAX;
    *p = (uint8_t)n;
    memcpy(p + 1, s, n);
    return p + 1 + n;
}

static uint8_t *
tail_f64(uint8_t *p, double v)
{
    uint64_t u;

    if (v == 0.0)
        v = 0.0;                       /* -0 is written as +0 */
    memcpy(&u, &v, sizeof(u));
    store_put_be64(p, u);
    return p + 8;
}

static uint8_t *
tail_ext(uint8_t *p, uint16_t type, const uint8_t *data, size_t len)
{
    p[0] = (uint8_t)(type >> 8);
    p[1] = (uint8_t)type;
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    memcpy(p + 4, data, len);
    return p + 4 + len;
}

/* Writes the extension list of a model decision at p (after its u16
 * length, filled here); QUEUE_REF and SUBMISSION through their proto
 * encoders, the other bodies as prepared by the caller.  Returns the end
 * of the list, or NULL if a body cannot be encoded. */
static uint8_t *
audit_tail_exts(uint8_t *p, const struct audit_decision *in)
{
    struct audit_ext x;
    struct record_ext_submission sub = {
        .bot_id = audit_bytes(in->actor),
        .request_id = audit_bytes(in->key),
        .submitted_ms = in->received_ms,
    };
    uint8_t *ext_len = p;
    size_t n;

    p = ext_len + 2;
    if (in->top_ext != NULL)
        p = tail_ext(p, RECORD_EXT_TOP_FEATURES, in->top_ext, in->top_ext_len);
    if (!in->is_auto) {
        /* cppcheck-suppress uninitvar ; x.b[0] is audit_queue_body's output */
        if (audit_queue_body(x.b[0], in->queue, in->priority, in->deadline_ms, &n) != RECORD_OK)
            return NULL;
        p = tail_ext(p, RECORD_EXT_QUEUE_REF, x.b[0], n);
    }
    if (record_ext_submission_encode(&sub, x.b[1], sizeof(x.b[1]), &n) != RECORD_OK)
        return NULL;
    p = tail_ext(p, RECORD_EXT_SUBMISSION, x.b[1], n);
    if (in->scoring_ext != NULL)
        p = tail_ext(p, RECORD_EXT_SCORING, in->scoring_ext, in->scoring_ext_len);
    if (in->rules_ext != NULL)
        p = tail_ext(p, RECORD_EXT_RULES, in->rules_ext, in->rules_ext_len);
    if (in->rec_ext != NULL)
        p = tail_ext(p, RECORD_EXT_RECOMMENDATION, in->rec_ext, in->rec_ext_len);
    n = (size_t)(p - ext_len - 2);
    ext_len[0] = (uint8_t)(n >> 8);
    ext_len[1] = (uint8_t)n;
    return p;
}

/* Writes the record from actor_type on (AUDIT-FORMAT.md §3; canonical by
 * construction: the same bytes record_encode writes, which the strict
 * decoder in the tests and in hitlq-audit checks on every entry).
 * Returns the end of what was written, or NULL if an extension body
 * cannot be encoded. */
static uint8_t *
audit_tail_write(uint8_t *p, const struct audit_decision *in, const uint8_t commit[32])
{
    const char *at = strrchr(in->model, '@');
    size_t ml = at != NULL ? (size_t)(at - in->model) : strlen(in->model);

    *p++ = RECORD_ACTOR_MODEL;         /* the model itself: model_* fields */
    p = tail_opaque(p, AUDIT_MODEL_ACTOR, sizeof(AUDIT_MODEL_ACTOR) - 1);
    memcpy(p, commit, AUDIT_HASH_LEN);
    p = tail_opaque(p + AUDIT_HASH_LEN, in->model, ml);
    p = tail_opaque(p, at != NULL ? at + 1 : "", at != NULL ? strlen(at + 1) : 0);
    memcpy(p, in->model_digest, AUDIT_HASH_LEN);
    memset(p + AUDIT_HASH_LEN, 0, AUDIT_HASH_LEN);            /* features_commit */
    p = tail_f64(tail_f64(p + 2 * AUDIT_HASH_LEN, in->score), in->threshold);
    p = tail_opaque(p, in->policy_id, strlen(in->policy_id));
    *p++ = in->is_auto ? audit_decision_of(in->action) : RECORD_DEC_ESCALATE;
    *p++ = in->n_codes;
    for (size_t i = 0; i < in->n_codes; i++, p += 2) {
        p[0] = (uint8_t)(in->codes[i] >> 8);
        p[1] = (uint8_t)in->codes[i];
    }
    store_put_be64(p, RECORD_REF_NONE);
    memset(p + 8, 0, 2 * AUDIT_HASH_LEN);                     /* ref leaf, note */
    p = audit_tail_exts(p + 8 + 2 * AUDIT_HASH_LEN, in);
    if (p == NULL)
        return NULL;
    *p++ = 0;                                                 /* no attestations */
    return p;
}

int
audit_prepare(struct audit *a, const struct audit_decision *in, uint8_t salt[32],
              uint8_t *type, uint8_t **tail, size_t *tail_len)
{
    uint8_t commit[AUDIT_HASH_LEN], *end;
    size_t cap = AUDIT_TAIL_FIXED + in->top_ext_len + 4 + in->scoring_ext_len + 4 +
                 in->rules_ext_len + 4 + in->rec_ext_len;

    /* n_codes is a u8: at most AUDIT_MAX_CODES */
    if (!isfinite(in->score) || !isfinite(in->threshold) ||
        in->top_ext_len > RECORD_EXT_TOP_FEATURES_MAX(AUDIT_TOP_MAX) ||
        in->scoring_ext_len > RECORD_EXT_SCORING_LEN ||
        in->rules_ext_len > RECORD_EXT_RULES_MAX ||
        in->rec_ext_len > RECORD_EXT_RECOMMENDATION_MAX || in->actor[0] == '\0')
        return HITLQ_ST_INTERNAL;
    *type = in->is_auto ? RECORD_AUTO_DECISION : RECORD_ESCALATION;
    memcpy(salt, audit_salt(&a->lsalt), RECORD_SALT_LEN);
    if (audit_commit_hash(&a->rh, salt, in->fields, in->fields_len, commit) != 0 ||
        (*tail = malloc(cap)) == NULL)
        return HITLQ_ST_INTERNAL;
    if ((end = audit_tail_write(*tail, in, commit)) == NULL) {
        free(*tail);
        *tail = NULL;
        return HITLQ_ST_INTERNAL;
    }
    *tail_len = (size_t)(end - *tail);
    return HITLQ_ST_OK;
}

/* Commit thread: prefix + the prepared tail, then the usual append. */
int
audit_submit(struct audit *a, MDB_txn *txn, struct journal_log_entry *in, uint64_t now_ms)
{
    uint8_t *p = a->enc + AUDIT_HASH_LEN;
    uint64_t index = a->tree.size, t = now_ms > a->last_time ? now_ms : a->last_time;
    size_t idl, len;
    int st;

    memcpy(p, RECORD_MAGIC, RECORD_MAGIC_LEN);
    p[4] = in->type;
    store_put_be64(p + 5, index);
    store_put_be64(p + 13, t);
    idl = audit_u64_str((char *)p + AUDIT_PREFIX_FIXED + 1, in->id);
    p[AUDIT_PREFIX_FIXED] = (uint8_t)idl;
    len = AUDIT_PREFIX_FIXED + 1 + idl;
    if (len + in->tail_len > RECORD_LEAF_MAX)
        return HITLQ_ST_INTERNAL;
    memcpy(p + len, in->tail, in->tail_len);
    if ((st = audit_store_entry(a, txn, len + in->tail_len, t)) != HITLQ_ST_OK)
        return st;
    in->index_set = true;
    in->index = index;
    memcpy(in->leaf_hash, a->enc, AUDIT_HASH_LEN);
    return HITLQ_ST_OK;                /* salt and index go into the item record */
}

/* ---- human and system events ---------------------------------------------- */

/* What an event's entry refers to: the item's model decision. */
struct audit_refd {
    bool     found;
    uint64_t index;
    uint8_t  hash[AUDIT_HASH_LEN];
};

/* Reads the item's model-decision entry (it->audit_ref, from the item
 * record) and decodes it into a->ref. */
static int
audit_load_ref(struct audit *a, MDB_txn *txn, const struct journal_item *it,
               struct audit_refd *rf)
{
    uint8_t kb[8];
    MDB_val k = { 8, kb }, v;

    rf->found = false;
    if (it->audit_ref == JOURNAL_NO_AUDIT)
        return HITLQ_ST_OK;            /* an item from before the log began */
    rf->index = it->audit_ref;
    store_put_be64(kb, rf->index);
    if (mdb_get(txn, a->s->alog, &k, &v) != 0 || v.mv_size <= AUDIT_HASH_LEN)
        return HITLQ_ST_INTERNAL;
    memcpy(rf->hash, v.mv_data, AUDIT_HASH_LEN);
    if (record_decode((const uint8_t *)v.mv_data + AUDIT_HASH_LEN,
                      v.mv_size - AUDIT_HASH_LEN, &a->ref) != RECORD_OK)
        return HITLQ_ST_INTERNAL;
    rf->found = true;
    return HITLQ_ST_OK;
}

/* Copies what the model decided (and on what) from a->ref into r. */
static void
audit_copy_model(struct record *r, const struct record *m)
{
    memcpy(r->input_commit, m->input_commit, AUDIT_HASH_LEN);
    r->model_id = m->model_id;
    r->model_version = m->model_version;
    memcpy(r->model_digest, m->model_digest, AUDIT_HASH_LEN);
    r->score = m->score;
    r->threshold = m->threshold;
    r->policy_id = m->policy_id;
}

/* The RECOMMENDATION of the model entry in a->ref: true with its
 * recommendation in *rec (borrowed from the stored entry), false when the
 * item has no model entry or it is a v1 entry without one. */
static bool
audit_ref_recommendation(const struct audit *a, const struct audit_refd *rf,
                         struct record_ext_bytes *rec)
{
    struct record_ext_recommendation rc;

    for (size_t i = 0; rf->found && i < a->ref.ext_count; i++) {
        const struct record_ext *x = &a->ref.ext[i];

        if (x->type == RECORD_EXT_RECOMMENDATION &&
            record_ext_recommendation_decode(x->data, x->len, &rc) == RECORD_OK) {
            *rec = rc.recommendation;
            return true;
        }
    }
    return false;
}

/* What an event says (audit_event_fill): the outcome string, whether it
 * is a verdict (RESOLVE, ESCALATE) and whether it escalates. */
struct audit_said {
    const char *outcome;
    bool        verdict, escalate;
};

/* Agreement of a verdict with the model's recommendation (AUDIT-FORMAT.md
 * §3.4 VERDICT): 0 for events, 3 when not comparable (no recommendation:
 * unscored item or a v1 model entry; or an escalation), else 1 when the
 * outcome is exactly the recommendation, 2 when not. */
static uint8_t
audit_agreement(const struct audit_said *sd, bool has_rec, const struct record_ext_bytes *rec)
{
    size_t n = strlen(sd->outcome);

    if (!sd->verdict)
        return RECORD_AGREE_NONE;
    if (sd->escalate || !has_rec || rec->len == 0)
        return RECORD_AGREE_NOT_COMPARABLE;
    return rec->len == n && memcmp(rec->data, sd->outcome, n) == 0 ? RECORD_AGREE_AGREED
                                                                   : RECORD_AGREE_OVERRODE;
}

/* VERDICT body (format v2) into p (RECORD_EXT_VERDICT_MAX bytes): outcome,
 * the model entry's recommendation, the agreement, the RESOLVE root cause,
 * the reviewer (empty for system events) and the QA-copy flag.  Returns
 * the agreement byte, or -1 if the body cannot be encoded. */
static int
audit_verdict(struct audit *a, const struct journal_item *it, const struct journal_ev *ev,
              const struct audit_refd *rf, const struct audit_said *sd, uint8_t *p, size_t *n)
{
    struct record_ext_bytes rec = { NULL, 0 };
    bool has_rec = audit_ref_recommendation(a, rf, &rec);
    bool human = ev->kind != JOURNAL_EXPIRED && ev->kind != JOURNAL_DEAD_LETTERED &&
                 !ev->system;
    struct record_ext_verdict vd = {
        .outcome = audit_bytes(sd->outcome),
        .recommendation = rec,
        .agreement = audit_agreement(sd, has_rec, &rec),
        .root_cause = audit_bytes((ev->kind == JOURNAL_RESOLVED || ev->kind == JOURNAL_AMENDED ||
                                   ev->kind == JOURNAL_VERDICT) && ev->root_cause != NULL
                                  ? ev->root_cause : ""),
        .reviewer = audit_bytes(human && ev->actor != NULL ? ev->actor : ""),
        .flags = it->qa_copy ? RECORD_VERDICT_FLAG_QA : 0,
    };

    if (record_ext_verdict_encode(&vd, p, RECORD_EXT_VERDICT_MAX, n) != RECORD_OK)
        return -1;
    return vd.agreement;
}

/* The specialists' work events (COMMENT, REOPEN, AMEND; AUDIT-FORMAT.md
 * §9): a comment decides nothing (decision NONE), a reopening defers the
 * decision to a queue, an amendment is a verdict like RESOLVE's. */
static bool
audit_event_kind_work(struct record *r, const struct journal_ev *ev, struct audit_said *sd,
                      const char **queue)
{
    switch (ev->kind) {
    case JOURNAL_COMMENTED:
        sd->outcome = "comment";
        r->decision = RECORD_DEC_NONE;
        return true;
    case JOURNAL_REOPENED:
        sd->outcome = "reopen";
        *queue = ev->queue;
        return true;
    case JOURNAL_AMENDED:
        *sd = (struct audit_said){ ev->outcome, true, false };
        r->decision = audit_decision_of(ev->outcome);
        return true;
    case JOURNAL_SLA:                  /* an SLA ladder step (sla_ladder.c) */
        sd->outcome = ev->sla_level >= 100 ? "sla_breach"
                      : ev->sla_level >= 75 ? "sla_75" : "sla_50";
        r->actor_type = RECORD_ACTOR_SYSTEM;
        r->decision = strcmp(ev->from, ev->to) != 0 ? RECORD_DEC_ESCALATE : RECORD_DEC_NONE;
        *queue = ev->to;
        return true;
    default:
        return false;
    }
}

/* Type, actor, decision, outcome and new queue of an event's record;
 * false for kinds that are not logged. */
static bool
audit_event_kind(struct record *r, const struct journal_ev *ev, struct audit_said *sd,
                 const char **queue)
{
    *sd = (struct audit_said){ NULL, false, false };
    *queue = NULL;
    r->record_type = RECORD_QUEUE_EVENT;
    r->actor_type = RECORD_ACTOR_HUMAN;
    r->decision = RECORD_DEC_DEFER;
    switch (ev->kind) {
    case JOURNAL_RESOLVED:
    case JOURNAL_VERDICT:              /* one of a four-eyes item's verdicts */
        *sd = (struct audit_said){ ev->outcome, true, false };
        r->decision = audit_decision_of(ev->outcome);
        return true;
    case JOURNAL_ESCALATED:
        *sd = (struct audit_said){ "escalate", true, true };
        r->decision = RECORD_DEC_ESCALATE;
        *queue = ev->to;
        if (ev->system)                /* a four-eyes disagreement */
            r->actor_type = RECORD_ACTOR_SYSTEM;
        return true;
    case JOURNAL_RELEASED:
        sd->outcome = "release";
        return true;
    case JOURNAL_EXPIRED:
        sd->outcome = "lease_expired";
        r->actor_type = RECORD_ACTOR_SYSTEM;
        return true;
    case JOURNAL_DEAD_LETTERED:
        sd->outcome = "dead_lettered";
        r->actor_type = RECORD_ACTOR_SYSTEM;
        r->decision = RECORD_DEC_ESCALATE;
        *queue = ev->queue;
        return true;
    default:
        return audit_event_kind_work(r, ev, sd, queue);
    }
}

/* The REVIEW extension (k of n, shown, final) of a four-eyes verdict;
 * nothing for other events.  False with *st = INTERNAL when it cannot be
 * encoded. */
static bool
audit_review_ext(struct record *r, const struct journal_ev *ev, struct audit_ext *x, int *st)
{
    struct record_ext_review rv = { ev->review_k, ev->review_n, ev->review_flags };
    size_t n;

    if (ev->review_n == 0)
        return true;
    if (record_ext_review_encode(&rv, x->rv, sizeof x->rv, &n) != RECORD_OK) {
        *st = HITLQ_ST_INTERNAL;
        return false;
    }
    audit_ext_add(r, RECORD_EXT_REVIEW, x->rv, n);
    return true;
}

/* Fills type, actor, decision and extensions of an event's record: a
 * verdict is HUMAN_OVERRIDE when it overrides the model's recommendation,
 * else HUMAN_DECISION; other events are QUEUE_EVENTs.  False when the
 * event is not logged (*st untouched), or when an extension body cannot
 * be encoded (*st = HITLQ_ST_INTERNAL). */
static bool
audit_event_fill(struct audit *a, struct record *r, const struct journal_item *it,
                 const struct journal_ev *ev, const struct audit_refd *rf,
                 struct audit_ext *x, int *st)
{
    struct audit_said sd;
    const char *queue;
    int agree;
    size_t n;

    if (!audit_event_kind(r, ev, &sd, &queue))
        return false;
    if ((queue != NULL && !audit_ext_queue(r, x->b[0], queue,
                                           ev->kind == JOURNAL_SLA ? ev->priority : 0,
                                           ev->kind == JOURNAL_SLA ? ev->deadline_ms : 0)) ||
        (agree = audit_verdict(a, it, ev, rf, &sd, x->v, &n)) < 0) {
        *st = HITLQ_ST_INTERNAL;
        return false;
    }
    a->ev_agreement = (uint8_t)agree;
    if (sd.verdict)
        r->record_type = agree == RECORD_AGREE_OVERRODE ? RECORD_HUMAN_OVERRIDE
                                                        : RECORD_HUMAN_DECISION;
    audit_ext_add(r, RECORD_EXT_VERDICT, x->v, n);
    return audit_review_ext(r, ev, x, st);
}

/* Stores the salt of entry `index`'s note commitment. */
static int
audit_note_salt(struct audit *a, MDB_txn *txn, uint64_t index, const uint8_t *salt)
{
    uint8_t kb[8];

    store_put_be64(kb, index);
    MDB_val k = { 8, kb }, v = { RECORD_SALT_LEN, (void *)salt };
    return store_status(mdb_put(txn, a->s->anotes, &k, &v, MDB_APPEND));
}

int
audit_event(struct audit *a, MDB_txn *txn, const struct journal_item *it,
            const struct journal_ev *ev, uint64_t now_ms, uint64_t *index)
{
    struct record *r = &a->rec;
    struct audit_refd rf = { .found = false, .index = RECORD_REF_NONE };
    struct audit_ext x;
    const uint8_t *nsalt = NULL;
    const char *actor = ev->actor != NULL ? ev->actor : "unknown";
    char buf[24];
    int st;

    *index = JOURNAL_NO_AUDIT;
    a->ev_agreement = RECORD_AGREE_NONE;
    record_init(r);
    st = audit_load_ref(a, txn, it, &rf);
    if (st != HITLQ_ST_OK || !audit_event_fill(a, r, it, ev, &rf, &x, &st))
        return st;
    audit_str(&r->item_id, buf, audit_u64_str(buf, it->id));
    if (r->actor_type == RECORD_ACTOR_SYSTEM)
        actor = "hitlqd";
    audit_str(&r->actor_id, actor, strlen(actor));
    if (rf.found) {
        audit_copy_model(r, &a->ref);
        r->ref_index = rf.index;
        memcpy(r->ref_leaf_hash, rf.hash, AUDIT_HASH_LEN);
    }
    if (ev->ref != 0) {                /* REOPEN / AMEND: the decision acted on */
        r->ref_index = ev->ref;
        if (audit_leaf(a, txn, ev->ref, r->ref_leaf_hash) != HITLQ_ST_OK)
            return HITLQ_ST_INTERNAL;
    }
    if (ev->note != NULL && ev->note[0] != '\0') {
        nsalt = audit_salt(&a->csalt);
        if (audit_commit_hash(&a->h, nsalt, ev->note, strlen(ev->note), r->note_commit) != 0)
            return HITLQ_ST_INTERNAL;
    }
    if ((st = audit_append(a, txn, r, now_ms, index, NULL)) == HITLQ_ST_OK && nsalt != NULL)
        st = audit_note_salt(a, txn, *index, nsalt);
    return st;
}
