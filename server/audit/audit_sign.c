/*
 * audit_sign.c - the audit log's keys and checkpoints: the signing-key
 * file (created 0600 on first start, Go note private keys, one per line;
 * every key in it signs each checkpoint), the configuration entries
 * (GENESIS, KEY_EVENT, MODEL_REGISTERED, POLICY_CHANGE), the rollback
 * guard, checkpoint signing and publication, and opening/closing the log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "audit_int.h"
#include "config.h"
#include "log.h"
#include "util.h"
#include "wire.h"

#define AUDIT_KEYFILE_MAX 65536u

/* ---- key file ------------------------------------------------------------ */

/* Creates the key file with one new key named `origin` (O_EXCL, 0600). */
static int
audit_key_create(const char *path, const char *origin, char *err, size_t errlen)
{
    struct note_signer sg;
    uint8_t seed[NOTE_SEED_LEN];
    char line[NOTE_SKEY_MAX + 2];
    size_t n;
    int fd, ok;

    randombytes_buf(seed, sizeof(seed));
    ok = note_signer_init(&sg, origin, strlen(origin), NOTE_SIGTYPE_ED25519, seed) == NOTE_OK &&
         note_skey_format(&sg, line, sizeof(line) - 1, &n) == NOTE_OK;
    sodium_memzero(seed, sizeof(seed));
    note_signer_clear(&sg);
    if (!ok) {
        snprintf(err, errlen, "audit: cannot make a key named \"%s\" (origin must be a "
                 "valid key name: no spaces or '+')", origin);
        return -1;
    }
    line[n++] = '\n';
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ok = fd >= 0 && write(fd, line, n) == (ssize_t)n && fsync(fd) == 0;
    sodium_memzero(line, sizeof(line));
    if (fd >= 0)
        close(fd);
    if (!ok) {
        snprintf(err, errlen, "audit: cannot write key file %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Reads the whole key file into sodium memory (caller frees with
 * sodium_free); refuses files readable by group or others. */
static char *
audit_key_read(const char *path, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    char *buf;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "audit: cannot open key file %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if ((st.st_mode & 077) != 0 || st.st_size > (off_t)AUDIT_KEYFILE_MAX) {
        snprintf(err, errlen, "audit: key file %s must be mode 0600 and small (mode %03o)",
                 path, (unsigned)(st.st_mode & 0777));
        close(fd);
        return NULL;
    }
    buf = sodium_malloc(AUDIT_KEYFILE_MAX + 1);
    n = buf != NULL ? read(fd, buf, AUDIT_KEYFILE_MAX) : -1;
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "audit: cannot read key file %s", path);
        if (buf != NULL)
            sodium_free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* Parses every non-empty line of buf into a->signers (all one origin). */
static int
audit_key_parse(struct audit *a, char *buf, size_t len, char *err, size_t errlen)
{
    char *p = buf, *end = buf + len;

    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        struct note_signer *sg = &a->signers[a->nsigners];

        if (n > 0) {
            if (a->nsigners == AUDIT_KEYS_MAX ||
                note_skey_parse(p, n, sg) != NOTE_OK || sg->pub.type != NOTE_SIGTYPE_ED25519) {
                snprintf(err, errlen, "audit: key file %s: line %zu is not an Ed25519 "
                         "note private key (or more than %u keys)", a->key_path,
                         a->nsigners + 1, AUDIT_KEYS_MAX);
                return -1;
            }
            if (a->nsigners > 0 && strcmp(sg->pub.name, a->signers[0].pub.name) != 0) {
                snprintf(err, errlen, "audit: key file %s: all keys must have the log's "
                         "origin \"%s\" as their name", a->key_path, a->signers[0].pub.name);
                return -1;
            }
            a->nsigners++;
        }
        p += n + 1;
    }
    if (a->nsigners == 0) {
        snprintf(err, errlen, "audit: key file %s holds no key", a->key_path);
        return -1;
    }
    return 0;
}

static void
audit_key_path(const struct hitlq_config *cfg, char *out, size_t cap)
{
    if (cfg->audit_key[0] != '\0')
        snprintf(out, cap, "%s", cfg->audit_key);
    else
        snprintf(out, cap, "%s/audit.key", cfg->data_dir);
}

int
audit_keys_load(struct audit *a, const struct hitlq_config *cfg, char *err, size_t errlen)
{
    char origin[NOTE_NAME_MAX + 1], *buf;
    uint8_t rnd[8];
    size_t len;
    int rc;

    audit_key_path(cfg, a->key_path, sizeof(a->key_path));
    if (access(a->key_path, F_OK) != 0) {
        if (cfg->audit_origin[0] != '\0') {
            snprintf(origin, sizeof(origin), "%s", cfg->audit_origin);
        } else {
            randombytes_buf(rnd, sizeof(rnd));
            snprintf(origin, sizeof(origin), "localhost/hitlq/");
            sodium_bin2hex(origin + 16, sizeof(origin) - 16, rnd, sizeof(rnd));
        }
        if (audit_key_create(a->key_path, origin, err, errlen) != 0)
            return -1;
        log_info("audit: created signing key %s (origin %s)", a->key_path, origin);
    }
    if ((buf = audit_key_read(a->key_path, &len, err, errlen)) == NULL)
        return -1;
    rc = audit_key_parse(a, buf, len, err, errlen);
    sodium_free(buf);                  /* sodium_free wipes */
    if (rc == 0) {
        a->origin_len = a->signers[0].pub.name_len;
        memcpy(a->origin, a->signers[0].pub.name, a->origin_len + 1);
    }
    return rc;
}

size_t
audit_vkeys(const struct audit *a, char *out, size_t cap)
{
    size_t off = 0, n;

    for (size_t i = 0; i < a->nsigners && off + NOTE_VKEY_MAX + 2 <= cap; i++) {
        if (note_vkey_format(&a->signers[i].pub, out + off, cap - off - 1, &n) != NOTE_OK)
            break;
        off += n;
        out[off++] = '\n';
    }
    if (off < cap)
        out[off] = '\0';
    return off;
}

/* ---- configuration entries ------------------------------------------------- */

/* A SYSTEM record about the log itself (no item). */
static void
audit_sys_record(struct record *r, uint8_t type)
{
    record_init(r);
    r->record_type = type;
    r->item_id.len = 1;
    r->item_id.data[0] = '0';
    r->actor_type = RECORD_ACTOR_SYSTEM;
    r->actor_id.len = 6;
    memcpy(r->actor_id.data, "hitlqd", 6);
}

/* GENESIS (first key of a new log) or KEY_EVENT add/retire. */
static int
audit_key_entry(struct audit *a, MDB_txn *txn, const char *vkey, size_t vlen,
                uint8_t action, uint64_t now_ms)
{
    uint8_t body[RECORD_EXT_KEY_INFO_LEN(NOTE_VKEY_MAX)], hash[AUDIT_HASH_LEN];
    struct record *r = &a->rec;
    struct record_ext_key_info ki = {
        .role = RECORD_KEY_ROLE_LOG, .action = action,
        .vkey = { (const uint8_t *)vkey, vlen }, .effective_from_size = a->tree.size,
    };
    uint64_t index;
    size_t n;

    if (record_ext_key_info_encode(&ki, body, sizeof(body), &n) != RECORD_OK)
        return HITLQ_ST_INTERNAL;
    audit_sys_record(r, a->tree.size == 0 ? RECORD_GENESIS : RECORD_KEY_EVENT);
    r->ext[0] = (struct record_ext){ RECORD_EXT_KEY_INFO, (uint16_t)n, body };
    r->ext_count = 1;
    return audit_append(a, txn, r, now_ms, &index, hash);
}

int
audit_actor_key(struct audit *a, MDB_txn *txn, const char *desc, size_t len, uint8_t action,
                const char *by, uint64_t now_ms)
{
    uint8_t body[RECORD_EXT_KEY_INFO_LEN(AUDIT_ACTOR_DESC_MAX)], hash[AUDIT_HASH_LEN];
    struct record *r = &a->rec;
    struct record_ext_key_info ki = {
        .role = RECORD_KEY_ROLE_ACTOR, .action = action,
        .vkey = { (const uint8_t *)desc, len }, .effective_from_size = a->tree.size,
    };
    size_t bl = strlen(by), n;
    uint64_t index;

    if (len > AUDIT_ACTOR_DESC_MAX || bl == 0 || bl > RECORD_STR_MAX ||
        record_ext_key_info_encode(&ki, body, sizeof(body), &n) != RECORD_OK)
        return HITLQ_ST_INTERNAL;
    audit_sys_record(r, RECORD_KEY_EVENT);
    if (strcmp(by, "hitlqd") != 0) {       /* an admin principal did it */
        r->actor_type = RECORD_ACTOR_HUMAN;
        r->actor_id.len = (uint8_t)bl;
        memcpy(r->actor_id.data, by, bl);
    }
    r->ext[0] = (struct record_ext){ RECORD_EXT_KEY_INFO, (uint16_t)n, body };
    r->ext_count = 1;
    return audit_append(a, txn, r, now_ms, &index, hash);
}

/* Registers keys added to or removed from the key file since last start. */
static int
audit_register_keys(struct audit *a, MDB_txn *txn, uint64_t now_ms)
{
    char cur[AUDIT_KEYS_MAX * (NOTE_VKEY_MAX + 1) + 1], old[sizeof(cur)];
    size_t cn = audit_vkeys(a, cur, sizeof(cur)), on = 0;
    MDB_val v;
    int st = HITLQ_ST_OK;

    if (audit_meta_get(a->s, txn, "audit_keys", &v) == 0 && v.mv_size < sizeof(old)) {
        on = v.mv_size;
        memcpy(old, v.mv_data, on);
    }
    old[on] = '\0';
    for (char *p = cur; st == HITLQ_ST_OK && *p != '\0'; p = strchr(p, '\n') + 1) {
        size_t n = (size_t)(strchr(p, '\n') - p);
        char probe[NOTE_VKEY_MAX + 3];
        snprintf(probe, sizeof(probe), "%.*s\n", (int)n, p);
        if (strstr(old, probe) == NULL)
            st = audit_key_entry(a, txn, p, n, 1, now_ms);
    }
    for (char *p = old; st == HITLQ_ST_OK && *p != '\0'; p = strchr(p, '\n') + 1) {
        size_t n = (size_t)(strchr(p, '\n') - p);
        char probe[NOTE_VKEY_MAX + 3];
        snprintf(probe, sizeof(probe), "%.*s\n", (int)n, p);
        if (strstr(cur, probe) == NULL)
            st = audit_key_entry(a, txn, p, n, 2, now_ms);
    }
    if (st == HITLQ_ST_OK && audit_meta_put(a->s, txn, "audit_keys", cur, cn) != 0)
        st = HITLQ_ST_INTERNAL;
    return st;
}

/* MODEL_REGISTERED for a model digest the log has not seen. */
static int
audit_register_model(struct audit *a, MDB_txn *txn, const struct audit_type *m, uint64_t now_ms)
{
    char name[16 + 2 * AUDIT_HASH_LEN + 1], *at;
    uint8_t body[RECORD_EXT_MODEL_INFO_MAX], hash[AUDIT_HASH_LEN];
    struct record *r = &a->rec;
    struct record_ext_model_info mi = {   /* digests zero: not known yet */
        .framework = { (const uint8_t *)m->model_kind, strlen(m->model_kind) },
    };
    uint64_t index;
    size_t n;
    MDB_val v;
    int st;

    memcpy(name, "audit_model:", 12);
    sodium_bin2hex(name + 12, sizeof(name) - 12, m->model_digest, AUDIT_HASH_LEN);
    if ((st = audit_model_id_put(a, txn, m->model_id, strlen(m->model_id),
                                 m->model_digest)) != HITLQ_ST_OK)
        return st;
    if (audit_meta_get(a->s, txn, name, &v) == 0)
        return HITLQ_ST_OK;
    audit_sys_record(r, RECORD_MODEL_REGISTERED);
    at = strrchr(m->model_id, '@');
    r->model_id.len = (uint8_t)(at != NULL ? (size_t)(at - m->model_id) : strlen(m->model_id));
    memcpy(r->model_id.data, m->model_id, r->model_id.len);
    if (at != NULL) {
        r->model_version.len = (uint8_t)strlen(at + 1);
        memcpy(r->model_version.data, at + 1, r->model_version.len);
    }
    memcpy(r->model_digest, m->model_digest, AUDIT_HASH_LEN);
    if (record_ext_model_info_encode(&mi, body, sizeof(body), &n) != RECORD_OK)
        return HITLQ_ST_INTERNAL;
    r->ext[0] = (struct record_ext){ RECORD_EXT_MODEL_INFO, (uint16_t)n, body };
    r->ext_count = 1;
    if ((st = audit_append(a, txn, r, now_ms, &index, hash)) != HITLQ_ST_OK)
        return st;
    return store_status(audit_meta_put(a->s, txn, name, &index, sizeof(index)));
}

/* POLICY_CHANGE when the policy file's digest differs from the last one. */
static int
audit_register_policy(struct audit *a, MDB_txn *txn, uint64_t now_ms)
{
    const uint8_t *dg = a->pol->digest;
    const char *id = a->pol->id;
    const struct audit_type *tp = a->pol->n_types > 0 ? &a->pol->types[0] : NULL;
    uint8_t body[RECORD_EXT_POLICY_INFO_LEN], hash[AUDIT_HASH_LEN];
    struct record *r = &a->rec;
    double thr = tp != NULL ? tp->auto_threshold : 0.0;
    struct record_ext_policy_info pi = {
        .reason_registry_version = 1,
        .threshold = thr == 0.0 ? 0.0 : thr,      /* -0 is written as +0 */
    };
    uint64_t index;
    size_t n;
    MDB_val v;
    int st;

    if (audit_meta_get(a->s, txn, "audit_policy", &v) == 0 &&
        v.mv_size == AUDIT_HASH_LEN && memcmp(v.mv_data, dg, AUDIT_HASH_LEN) == 0)
        return HITLQ_ST_OK;
    audit_sys_record(r, RECORD_POLICY_CHANGE);
    r->policy_id.len = (uint8_t)strlen(id);
    memcpy(r->policy_id.data, id, r->policy_id.len);
    r->threshold = thr;
    memcpy(pi.policy_doc_digest, dg, AUDIT_HASH_LEN);
    if (record_ext_policy_info_encode(&pi, body, sizeof(body), &n) != RECORD_OK)
        return HITLQ_ST_INTERNAL;
    r->ext[0] = (struct record_ext){ RECORD_EXT_POLICY_INFO, (uint16_t)n, body };
    r->ext_count = 1;
    if ((st = audit_append(a, txn, r, now_ms, &index, hash)) != HITLQ_ST_OK)
        return st;
    return store_status(audit_meta_put(a->s, txn, "audit_policy", dg, AUDIT_HASH_LEN));
}

int
audit_reload(struct audit *a, MDB_txn *txn, const struct audit_policy *pol, uint64_t now_ms)
{
    /* audit_txn_abort restores the old set */
    int st = audit_policy_set(a, pol);

    for (size_t i = 0; st == HITLQ_ST_OK && i < a->pol->n_types; i++)
        st = audit_register_model(a, txn, &a->pol->types[i], now_ms);
    if (st == HITLQ_ST_OK)
        st = audit_register_policy(a, txn, now_ms);
    return st;
}

int
audit_register(struct audit *a, MDB_txn *txn, uint64_t now_ms, char *err, size_t errlen)
{
    int st = audit_register_keys(a, txn, now_ms);

    for (size_t i = 0; st == HITLQ_ST_OK && i < a->pol->n_types; i++)
        st = audit_register_model(a, txn, &a->pol->types[i], now_ms);
    if (st == HITLQ_ST_OK)
        st = audit_register_policy(a, txn, now_ms);
    if (st != HITLQ_ST_OK)
        snprintf(err, errlen, "audit: cannot record the configuration entries (%s)",
                 hitlq_status_str(st));
    return st == HITLQ_ST_OK ? 0 : -1;
}

/* ---- rollback guard and signing -------------------------------------------- */

/* The text part of a signed note (up to and including the last text '\n'). */
static size_t
audit_note_text_len(const char *note, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (note[i] == '\n' && note[i + 1] == '\n')
            return i + 1;
    return 0;
}

/* Refuses a store that is behind, or disagrees with, the last checkpoint
 * this log signed (a restored backup, a truncated or rewritten log). */
int
audit_check_rollback(struct audit *a, MDB_txn *txn, char *err, size_t errlen)
{
    struct audit_get g = { a, txn, &a->h };
    struct note_checkpoint cp;
    uint8_t root[AUDIT_HASH_LEN];
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, a->s->acps, &cur);

    if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0 || rc == MDB_NOTFOUND)
        mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        return 0;
    size_t tl = rc == 0 ? audit_note_text_len(v.mv_data, v.mv_size) : 0;
    if (tl == 0 || note_checkpoint_parse(v.mv_data, tl, &cp) != NOTE_OK) {
        snprintf(err, errlen, "audit: the last stored checkpoint is unreadable");
        return -1;
    }
    if (cp.size > a->tree.size) {
        snprintf(err, errlen, "audit: ROLLBACK: the log holds %llu entries but a checkpoint "
                 "of size %llu was signed; refusing to start (restored backup?)",
                 (unsigned long long)a->tree.size, (unsigned long long)cp.size);
        return -1;
    }
    if (cp.size > 0 && (merkle_root_at(&a->h, cp.size, audit_node_get, &g, root) != MERKLE_OK ||
                        memcmp(root, cp.root, AUDIT_HASH_LEN) != 0)) {
        snprintf(err, errlen, "audit: FORK: the first %llu entries no longer hash to the "
                 "signed checkpoint's root; refusing to start", (unsigned long long)cp.size);
        return -1;
    }
    a->signed_size = cp.size;
    return 0;
}

/* Signs a checkpoint of the current tree and publishes it. */
int
audit_sign_now(struct audit *a)
{
    const struct note_signer *sp[AUDIT_KEYS_MAX];
    uint8_t root[AUDIT_HASH_LEN];
    char text[NOTE_CHECKPOINT_MAX(NOTE_NAME_MAX)];
    size_t tl, nl;

    for (size_t i = 0; i < a->nsigners; i++)
        sp[i] = &a->signers[i];
    if (merkle_tree_root(&a->tree, &a->h, root) != MERKLE_OK ||
        note_checkpoint_format(a->origin, a->origin_len, a->tree.size, root, text,
                               sizeof(text), &tl) != NOTE_OK ||
        note_sign(text, tl, sp, a->nsigners, a->pend, sizeof(a->pend), &nl) != NOTE_OK) {
        log_error("audit: cannot sign the checkpoint of size %llu",
                  (unsigned long long)a->tree.size);
        return -1;
    }
    a->pend_len = nl;
    a->pend_size = a->tree.size;
    a->signed_size = a->tree.size;
    a->last_sign_ms = util_now_ms();
    pthread_mutex_lock(&a->mu);
    memcpy(a->pub, a->pend, nl);
    a->pub_len = nl;
    a->pub_size = a->pend_size;
    pthread_mutex_unlock(&a->mu);
    return 0;
}

int
audit_persist(struct audit *a, MDB_txn *txn)
{
    uint8_t kb[8];

    if (a->pend_len == 0)
        return HITLQ_ST_OK;
    store_put_be64(kb, a->pend_size);
    MDB_val k = { 8, kb }, v = { a->pend_len, a->pend };
    int rc = mdb_put(txn, a->s->acps, &k, &v, 0);
    if (rc != 0)
        return store_status(rc);
    a->pend_len = 0;
    return HITLQ_ST_OK;
}

bool
audit_has_unpersisted(const struct audit *a)
{
    return a->pend_len != 0;
}

void
audit_drop_unpersisted(struct audit *a)
{
    a->pend_len = 0;
}

bool
audit_after_commit(struct audit *a, uint64_t now_ms, uint64_t *next_ms)
{
    bool want = atomic_exchange(&a->want_cp, false), published = false;
    bool grown = a->tree.size > a->signed_size;

    a->txn = NULL;
    if (grown && (want || now_ms >= a->last_sign_ms + a->interval_ms)) {
        published = audit_sign_now(a) == 0;
        grown = false;
    } else if (want) {
        published = true;              /* nothing new: let waiters look again */
    }
    *next_ms = grown ? a->last_sign_ms + a->interval_ms : 0;
    return published;
}

int
audit_cp_get(struct audit *a, struct audit_cp *cp)
{
    return audit_latest(a, cp->note, sizeof(cp->note), &cp->len, &cp->size);
}

void
audit_request_checkpoint(struct audit *a)
{
    atomic_store(&a->want_cp, true);
}

int
audit_latest(struct audit *a, char *out, size_t cap, size_t *len, uint64_t *size)
{
    int st = HITLQ_ST_INTERNAL;

    pthread_mutex_lock(&a->mu);
    if (a->pub_len > 0 && a->pub_len <= cap) {
        memcpy(out, a->pub, a->pub_len);
        *len = a->pub_len;
        *size = a->pub_size;
        st = HITLQ_ST_OK;
    }
    pthread_mutex_unlock(&a->mu);
    return st;
}

uint64_t
audit_due_ms(struct audit *a, uint64_t now_ms)
{
    if (atomic_load(&a->want_cp) || a->pend_len != 0)
        return now_ms;
    if (a->tree.size > a->signed_size)
        return a->last_sign_ms + a->interval_ms;
    return 0;
}

/* ---- open / close ------------------------------------------------------------ */

/* Same origin as the log was created with (set on first start). */
static int
audit_check_origin(struct audit *a, MDB_txn *txn, char *err, size_t errlen)
{
    MDB_val v;
    int rc = audit_meta_get(a->s, txn, "audit_origin", &v);

    if (rc == MDB_NOTFOUND) {
        if (a->tree.size != 0) {
            snprintf(err, errlen, "audit: the log has entries but no origin record");
            return -1;
        }
        return audit_meta_put(a->s, txn, "audit_origin", a->origin, a->origin_len) == 0 ? 0 : -1;
    }
    if (rc != 0 || v.mv_size != a->origin_len || memcmp(v.mv_data, a->origin, a->origin_len) != 0) {
        snprintf(err, errlen, "audit: the key file's origin \"%s\" is not this log's "
                 "origin \"%.*s\" (wrong key file?)", a->origin,
                 rc == 0 ? (int)v.mv_size : 0, rc == 0 ? (const char *)v.mv_data : "");
        return -1;
    }
    return 0;
}

/* The id@version -> digest registry, built from the log once. */
static int
audit_open_models(struct audit *a, MDB_txn *txn, char *err, size_t errlen)
{
    int st = audit_model_ids_build(a, txn);

    if (st != HITLQ_ST_OK)
        snprintf(err, errlen, "audit: cannot build the model registry (%s)",
                 hitlq_status_str(st));
    return st == HITLQ_ST_OK ? 0 : -1;
}

/* Restores the tree, checks origin and rollback, appends the
 * configuration entries: one write transaction. */
static int
audit_open_txn(struct audit *a, char *err, size_t errlen)
{
    struct audit_get g = { a, NULL, &a->h };
    MDB_txn *txn;
    uint64_t n;
    int rc = mdb_txn_begin(a->s->env, NULL, 0, &txn);

    if (rc != 0) {
        snprintf(err, errlen, "audit: mdb_txn_begin: %s", mdb_strerror(rc));
        return -1;
    }
    g.txn = txn;
    a->txn = txn;
    rc = audit_count(a->s, txn, &n) != 0 ||
         merkle_tree_restore(&a->tree, n, audit_node_get, &g) != MERKLE_OK;
    if (rc != 0)
        snprintf(err, errlen, "audit: cannot restore the Merkle tree (store damaged?)");
    if (rc == 0)
        rc = audit_check_origin(a, txn, err, errlen) != 0 ||
             audit_check_rollback(a, txn, err, errlen) != 0 ||
             audit_open_models(a, txn, err, errlen) != 0 ||
             audit_register(a, txn, util_now_ms(), err, errlen) != 0;
    if (rc == 0 && (rc = mdb_txn_commit(txn)) != 0)
        snprintf(err, errlen, "audit: commit: %s", mdb_strerror(rc));
    else if (rc != 0)
        mdb_txn_abort(txn);
    a->txn = NULL;
    return rc == 0 ? 0 : -1;
}

/* Signs the committed tree and stores the checkpoint (own transaction). */
static int
audit_open_sign(struct audit *a, char *err, size_t errlen)
{
    MDB_txn *txn;

    if (audit_sign_now(a) != 0 || mdb_txn_begin(a->s->env, NULL, 0, &txn) != 0) {
        snprintf(err, errlen, "audit: cannot sign the first checkpoint");
        return -1;
    }
    if (audit_persist(a, txn) != HITLQ_ST_OK || mdb_txn_commit(txn) != 0) {
        snprintf(err, errlen, "audit: cannot store the first checkpoint");
        return -1;
    }
    return 0;
}

int
audit_open(struct audit **out, struct store *s, const struct hitlq_config *cfg,
           const struct audit_policy *pol, char *err, size_t errlen)
{
    struct audit *a = calloc(1, sizeof(*a));
    char vk[AUDIT_KEYS_MAX * (NOTE_VKEY_MAX + 1) + 1];

    *out = NULL;
    if (a == NULL || sodium_init() < 0) {
        free(a);
        snprintf(err, errlen, "audit: out of memory");
        return -1;
    }
    a->s = s;
    a->interval_ms = (uint32_t)cfg->audit_checkpoint_ms;
    randombytes_buf(a->csalt.key, sizeof(a->csalt.key));
    randombytes_buf(a->lsalt.key, sizeof(a->lsalt.key));
    pthread_mutex_init(&a->mu, NULL);
    atomic_init(&a->want_cp, false);
    merkle_tree_init(&a->tree);
    a->signers = sodium_allocarray(AUDIT_KEYS_MAX, sizeof(struct note_signer));
    if (a->signers == NULL || merkle_hasher_init(&a->h) != MERKLE_OK ||
        merkle_hasher_init(&a->rh) != MERKLE_OK || audit_policy_set(a, pol) != HITLQ_ST_OK) {
        snprintf(err, errlen, "audit: out of memory");
        audit_close(a);
        return -1;
    }
    if (audit_keys_load(a, cfg, err, errlen) != 0 || audit_open_txn(a, err, errlen) != 0 ||
        audit_open_sign(a, err, errlen) != 0) {
        audit_close(a);
        return -1;
    }
    audit_vkeys(a, vk, sizeof(vk));
    log_info("audit: log %s, %llu entries; verifier key(s):\n%s", a->origin,
             (unsigned long long)a->tree.size, vk);
    audit_sink_attach(a);
    *out = a;
    return 0;
}

void
audit_close(struct audit *a)
{
    if (a == NULL)
        return;
    audit_sink_detach(a);
    audit_policy_release(a);
    if (a->signers != NULL)
        sodium_free(a->signers);       /* wipes the secret keys */
    sodium_memzero(&a->csalt, sizeof(a->csalt));
    sodium_memzero(&a->lsalt, sizeof(a->lsalt));
    merkle_hasher_clear(&a->h);
    merkle_hasher_clear(&a->rh);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

/* ---- key administration (hitlqd -K / -R / -X, server stopped) ------------ */

/* Writes text to path atomically (temp file 0600, fsync, rename). */
static int
audit_key_write(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
    char tmp[1100];
    int fd, ok;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ok = fd >= 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "audit: cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Loads the key file into a temporary audit context (keys only). */
static struct audit *
audit_admin_open(const struct hitlq_config *cfg, char *err, size_t errlen)
{
    struct audit *a = calloc(1, sizeof(*a));

    if (a == NULL || sodium_init() < 0 ||
        (a->signers = sodium_allocarray(AUDIT_KEYS_MAX, sizeof(struct note_signer))) == NULL) {
        snprintf(err, errlen, "audit: out of memory");
        free(a);
        return NULL;
    }
    pthread_mutex_init(&a->mu, NULL);
    if (audit_keys_load(a, cfg, err, errlen) != 0) {
        audit_close(a);
        return NULL;
    }
    return a;
}

/* Rewrites the key file with a->signers[0..n) (secret: wiped after). */
static int
audit_admin_save(struct audit *a, char *err, size_t errlen)
{
    char *buf = sodium_malloc(AUDIT_KEYS_MAX * (NOTE_SKEY_MAX + 1));
    size_t off = 0, n;
    int rc = -1;

    if (buf == NULL)
        return -1;
    for (size_t i = 0; i < a->nsigners; i++) {
        if (note_skey_format(&a->signers[i], buf + off, NOTE_SKEY_MAX, &n) != NOTE_OK)
            goto out;
        off += n;
        buf[off++] = '\n';
    }
    rc = audit_key_write(a->key_path, buf, off, err, errlen);
out:
    sodium_free(buf);
    return rc;
}

int
audit_key_admin(const struct hitlq_config *cfg, char op, const char *arg, FILE *out,
                char *err, size_t errlen)
{
    struct audit *a = audit_admin_open(cfg, err, errlen);
    uint8_t seed[NOTE_SEED_LEN];
    char vk[AUDIT_KEYS_MAX * (NOTE_VKEY_MAX + 1) + 1];
    int rc = 0;

    if (a == NULL)
        return -1;
    if (op == 'R') {                   /* rotate: add a key, same origin */
        randombytes_buf(seed, sizeof(seed));
        rc = a->nsigners < AUDIT_KEYS_MAX &&
             note_signer_init(&a->signers[a->nsigners], a->origin, a->origin_len,
                              NOTE_SIGTYPE_ED25519, seed) == NOTE_OK ? 0 : -1;
        sodium_memzero(seed, sizeof(seed));
        if (rc == 0) {
            a->nsigners++;
            rc = audit_admin_save(a, err, errlen);
        } else {
            snprintf(err, errlen, "audit: cannot add a key (at most %u)", AUDIT_KEYS_MAX);
        }
    } else if (op == 'X') {            /* retire the key with this hex ID */
        size_t i, j;
        char id[9];
        for (i = 0; i < a->nsigners; i++) {
            snprintf(id, sizeof(id), "%08x", a->signers[i].pub.key_id);
            if (strcmp(id, arg) == 0)
                break;
        }
        if (i == a->nsigners || a->nsigners == 1) {
            snprintf(err, errlen, "audit: no key %s to retire (or it is the last one)", arg);
            rc = -1;
        } else {
            for (j = i; j + 1 < a->nsigners; j++)
                a->signers[j] = a->signers[j + 1];
            note_signer_clear(&a->signers[--a->nsigners]);
            rc = audit_admin_save(a, err, errlen);
        }
    }
    if (rc == 0) {
        audit_vkeys(a, vk, sizeof(vk));
        fputs(vk, out);
    }
    audit_close(a);
    return rc;
}
