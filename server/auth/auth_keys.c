/*
 * auth_keys.c - the principals db (layouts in auth.h): principal and key
 * records, new keys (KEY_ADD), revocation (KEY_REVOKE), the KEY_LIST
 * reply, and the bot ownership check of GET.  Secrets exist only in a
 * KEY_ADD op, from drawing to the reply, and are wiped with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "auth_int.h"
#include "auth_msg.h"
#include "item.h"
#include "store.h"
#include "wire.h"

#define AUTH_PKEY_MAX  (1u + HITLQ_MAX_NAME)
#define AUTH_PREC_MAX  (1u + 1u + 8u + 1u + AUTH_MAX_SKILLS * (1u + HITLQ_MAX_QUEUE_NAME))
#define AUTH_KREC_MAX  (1u + AUTH_HASH_LEN + 8u + 1u + 1u + HITLQ_MAX_NAME + 1u + \
                        AUTH_TLS_PEER_MAX)

/* store_status, except that absence is an answer here. */
static int
auth_mdb_status(int rc)
{
    return rc == MDB_NOTFOUND ? HITLQ_ST_NOT_FOUND : store_status(rc);
}

/* ---- records ------------------------------------------------------------------ */

int
auth_principal_get(struct store *s, MDB_txn *txn, const char *name, size_t len,
                   struct auth_prec *p)
{
    uint8_t kb[AUTH_PKEY_MAX];
    MDB_val k = { 1 + len, kb }, v;
    const uint8_t *b;
    size_t pos;
    int rc;

    memset(p, 0, sizeof(*p));
    if (len == 0 || len > HITLQ_MAX_NAME)
        return HITLQ_ST_NOT_FOUND;
    kb[0] = 'p';
    memcpy(kb + 1, name, len);
    if ((rc = mdb_get(txn, s->principals, &k, &v)) != 0)
        return auth_mdb_status(rc);
    b = v.mv_data;
    if (v.mv_size < 11 || b[0] != AUTH_REC_VERSION || b[10] > AUTH_MAX_SKILLS)
        return HITLQ_ST_INTERNAL;
    p->role = b[1];
    p->created_ms = store_get_be64(b + 2);
    p->n_skills = b[10];
    pos = 11;
    for (uint8_t i = 0; i < p->n_skills; i++) {
        size_t n = pos < v.mv_size ? b[pos] : 0;
        if (n == 0 || n > HITLQ_MAX_QUEUE_NAME || pos + 1 + n > v.mv_size)
            return HITLQ_ST_INTERNAL;
        memcpy(p->skills[i], b + pos + 1, n);
        p->skills[i][n] = '\0';
        pos += 1 + n;
    }
    if (pos != v.mv_size || p->role < AUTH_ROLE_BOT || p->role > AUTH_ROLE_VIEWER)
        return HITLQ_ST_INTERNAL;
    return HITLQ_ST_OK;
}

static int
auth_principal_put(struct store *s, MDB_txn *txn, const char *name, const struct auth_prec *p)
{
    uint8_t kb[AUTH_PKEY_MAX], vb[AUTH_PREC_MAX];
    size_t len = strlen(name), pos = 11;
    MDB_val k = { 1 + len, kb }, v = { 0, vb };

    kb[0] = 'p';
    memcpy(kb + 1, name, len);
    vb[0] = AUTH_REC_VERSION;
    vb[1] = p->role;
    store_put_be64(vb + 2, p->created_ms);
    vb[10] = p->n_skills;
    for (uint8_t i = 0; i < p->n_skills; i++) {
        size_t n = strlen(p->skills[i]);
        vb[pos] = (uint8_t)n;
        memcpy(vb + pos + 1, p->skills[i], n);
        pos += 1 + n;
    }
    v.mv_size = pos;
    return auth_mdb_status(store_put(s, txn, s->principals, &k, &v, 0));
}

/* Decodes a 'k' record value. */
static int
auth_keyrec_decode(const MDB_val *v, struct auth_keyrec *r)
{
    const uint8_t *b = v->mv_data;
    size_t n, end, pn = 0;

    memset(r, 0, sizeof(*r));
    if (v->mv_size < 1 + AUTH_HASH_LEN + 10 ||
        (b[0] != AUTH_REC_VERSION && b[0] != AUTH_REC_VERSION_TLS &&
         b[0] != AUTH_REC_VERSION_ED25519))
        return HITLQ_ST_INTERNAL;
    r->kind = b[0] == AUTH_REC_VERSION_TLS       ? AUTH_KIND_TLS
              : b[0] == AUTH_REC_VERSION_ED25519 ? AUTH_KIND_ED25519
                                                 : AUTH_KIND_API;
    n = b[1 + AUTH_HASH_LEN + 9];
    end = 1 + AUTH_HASH_LEN + 10 + n;
    if (b[0] == AUTH_REC_VERSION_TLS) {
        pn = end < v->mv_size ? b[end] : 0;
        if (pn == 0 || pn > AUTH_TLS_PEER_MAX)
            return HITLQ_ST_INTERNAL;
        end += 1 + pn;
    }
    if (n == 0 || n > HITLQ_MAX_NAME || v->mv_size != end)
        return HITLQ_ST_INTERNAL;
    if (pn > 0) {
        memcpy(r->tls_peer, b + end - pn, pn);
        r->tls_peer[pn] = '\0';
    }
    memcpy(r->hash, b + 1, AUTH_HASH_LEN);
    r->created_ms = store_get_be64(b + 1 + AUTH_HASH_LEN);
    r->revoked = b[1 + AUTH_HASH_LEN + 8] != 0;
    memcpy(r->principal, b + 1 + AUTH_HASH_LEN + 10, n);
    r->principal[n] = '\0';
    return HITLQ_ST_OK;
}

int
auth_key_get(struct store *s, MDB_txn *txn, const uint8_t id[AUTH_KEY_ID_LEN],
             struct auth_keyrec *r)
{
    uint8_t kb[1 + AUTH_KEY_ID_LEN];
    MDB_val k = { sizeof(kb), kb }, v;
    int rc;

    kb[0] = 'k';
    memcpy(kb + 1, id, AUTH_KEY_ID_LEN);
    if ((rc = mdb_get(txn, s->principals, &k, &v)) != 0) {
        memset(r, 0, sizeof(*r));
        return auth_mdb_status(rc);
    }
    return auth_keyrec_decode(&v, r);
}

static int
auth_key_put(struct store *s, MDB_txn *txn, const uint8_t id[AUTH_KEY_ID_LEN],
             const struct auth_keyrec *r, unsigned flags)
{
    uint8_t kb[1 + AUTH_KEY_ID_LEN], vb[AUTH_KREC_MAX];
    size_t n = strlen(r->principal), pn = strlen(r->tls_peer);
    MDB_val k = { sizeof(kb), kb }, v = { 1 + AUTH_HASH_LEN + 10 + n, vb };

    kb[0] = 'k';
    memcpy(kb + 1, id, AUTH_KEY_ID_LEN);
    vb[0] = r->kind == AUTH_KIND_TLS       ? AUTH_REC_VERSION_TLS
            : r->kind == AUTH_KIND_ED25519 ? AUTH_REC_VERSION_ED25519
                                           : AUTH_REC_VERSION;
    memcpy(vb + 1, r->hash, AUTH_HASH_LEN);
    store_put_be64(vb + 1 + AUTH_HASH_LEN, r->created_ms);
    vb[1 + AUTH_HASH_LEN + 8] = r->revoked ? 1 : 0;
    vb[1 + AUTH_HASH_LEN + 9] = (uint8_t)n;
    memcpy(vb + 1 + AUTH_HASH_LEN + 10, r->principal, n);
    if (r->kind == AUTH_KIND_TLS) {
        vb[v.mv_size] = (uint8_t)pn;
        memcpy(vb + v.mv_size + 1, r->tls_peer, pn);
        v.mv_size += 1 + pn;
    }
    return auth_mdb_status(store_put(s, txn, s->principals, &k, &v, flags));
}

/* ---- KEY_ADD / KEY_REVOKE ------------------------------------------------------------ */

struct auth_keyop *
auth_keyop_add(struct auth *a, const char *principal, uint8_t role)
{
    struct auth_keyop *k = sodium_malloc(sizeof(*k));
    uint8_t secret[AUTH_SECRET_LEN];
    char hex[AUTH_KEY_ID_HEX + 1], b64[sodium_base64_ENCODED_LEN(
                                       AUTH_SECRET_LEN, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

    if (k == NULL)
        return NULL;
    memset(k, 0, sizeof(*k));
    snprintf(k->principal, sizeof(k->principal), "%s", principal);
    k->role = role;
    randombytes_buf(k->key_id, sizeof(k->key_id));
    randombytes_buf(secret, sizeof(secret));
    crypto_generichash(k->hash, sizeof(k->hash), secret, sizeof(secret), a->pepper,
                       AUTH_PEPPER_LEN);
    sodium_bin2hex(hex, sizeof(hex), k->key_id, sizeof(k->key_id));
    sodium_bin2base64(b64, sizeof(b64), secret, sizeof(secret),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(k->api_key, sizeof(k->api_key), "hitlq_%s_%s", hex, b64);
    sodium_memzero(secret, sizeof(secret));
    sodium_memzero(b64, sizeof(b64));
    return k;
}

struct auth_keyop *
auth_keyop_add_tls(const char *principal, uint8_t role, const char *peer)
{
    struct auth_keyop *k = sodium_malloc(sizeof(*k));

    if (k == NULL)
        return NULL;
    memset(k, 0, sizeof(*k));
    snprintf(k->principal, sizeof(k->principal), "%s", principal);
    snprintf(k->tls_peer, sizeof(k->tls_peer), "%s", peer);
    k->kind = AUTH_KIND_TLS;
    k->role = role;
    randombytes_buf(k->key_id, sizeof(k->key_id));
    return k;
}

struct auth_keyop *
auth_keyop_add_ed25519(const char *principal, uint8_t role, const uint8_t pk[32])
{
    struct auth_keyop *k = sodium_malloc(sizeof(*k));
    uint8_t in[AUTH_MSG_KEYID_INPUT_LEN], h[crypto_hash_sha256_BYTES];

    if (k == NULL)
        return NULL;
    memset(k, 0, sizeof(*k));
    snprintf(k->principal, sizeof(k->principal), "%s", principal);
    k->kind = AUTH_KIND_ED25519;
    k->role = role;
    memcpy(k->hash, pk, AUTH_HASH_LEN);
    auth_msg_key_id_input(in, pk);
    crypto_hash_sha256(h, in, sizeof(in));
    memcpy(k->key_id, h, AUTH_KEY_ID_LEN);
    return k;
}

struct auth_keyop *
auth_keyop_revoke(const char *hex, size_t len, bool *bad)
{
    struct auth_keyop *k;
    const char *end = NULL;
    size_t n = 0;

    *bad = false;
    if ((k = sodium_malloc(sizeof(*k))) == NULL)
        return NULL;
    memset(k, 0, sizeof(*k));
    k->revoke = true;
    if (len != AUTH_KEY_ID_HEX ||
        sodium_hex2bin(k->key_id, sizeof(k->key_id), hex, len, NULL, &n, &end) != 0 ||
        n != AUTH_KEY_ID_LEN || end != hex + len) {
        *bad = true;
        sodium_free(k);
        return NULL;
    }
    return k;
}

void
auth_keyop_free(struct auth_keyop *k)
{
    if (k != NULL)
        sodium_free(k);                /* wipes api_key and hash */
}

/* The KEY_EVENT entry's KEY_INFO text: "apikey <key_id> <principal> <role>"
 * ("tlspeer ..." for a tls_peer credential, "ed25519 ..." for a public key). */
static int
auth_keyop_audit(struct audit *audit, MDB_txn *txn, const struct auth_keyop *k,
                 uint8_t role, uint64_t now_ms)
{
    char hex[AUTH_KEY_ID_HEX + 1], desc[8 + AUTH_KEY_ID_HEX + HITLQ_MAX_NAME + 16];
    int n;

    if (audit == NULL)
        return HITLQ_ST_OK;
    sodium_bin2hex(hex, sizeof(hex), k->key_id, sizeof(k->key_id));
    n = snprintf(desc, sizeof(desc), "%s %s %s %s",
                 k->kind == AUTH_KIND_TLS       ? "tlspeer"
                 : k->kind == AUTH_KIND_ED25519 ? "ed25519"
                                                : "apikey", hex,
                 k->principal, auth_role_name(role));
    return audit_actor_key(audit, txn, desc, (size_t)n, k->revoke ? 3 : 1,
                           k->by[0] != '\0' ? k->by : "hitlqd", now_ms);
}

static int
auth_keyop_add_apply(struct store *s, struct audit *audit, MDB_txn *txn, struct auth_keyop *k,
                     uint64_t now_ms, char *err, size_t errlen)
{
    struct auth_keyrec rec;
    struct auth_prec pr;
    int st = auth_principal_get(s, txn, k->principal, strlen(k->principal), &pr);

    if (st == HITLQ_ST_OK && pr.role != k->role) {
        snprintf(err, errlen, "principal \"%s\" exists with role %s", k->principal,
                 auth_role_name(pr.role));
        return HITLQ_ST_CONFLICT;
    }
    if (st == HITLQ_ST_NOT_FOUND) {
        pr.role = k->role;
        pr.created_ms = now_ms;
        st = HITLQ_ST_OK;
    }
    if (st != HITLQ_ST_OK)
        return st;
    if (k->tls_peer[0] != '\0') {
        uint8_t oid[AUTH_KEY_ID_LEN];
        st = auth_tls_find(s, txn, k->tls_peer, oid, &rec);
        if (st == HITLQ_ST_OK) {
            snprintf(err, errlen, "tls_peer \"%s\" is already bound to principal \"%s\"",
                     k->tls_peer, rec.principal);
            return HITLQ_ST_CONFLICT;
        }
        if (st != HITLQ_ST_NOT_FOUND)
            return st;
    }
    if (k->kind == AUTH_KIND_ED25519 && auth_key_get(s, txn, k->key_id, &rec) != HITLQ_ST_NOT_FOUND) {
        snprintf(err, errlen, "this public key is already registered (principal \"%s\")",
                 rec.principal);
        return HITLQ_ST_CONFLICT;
    }
    if (k->set_skills) {
        pr.n_skills = k->n_skills;
        memcpy(pr.skills, k->skills, sizeof(pr.skills));
    }
    memset(&rec, 0, sizeof(rec));
    rec.kind = k->kind;
    memcpy(rec.hash, k->hash, AUTH_HASH_LEN);
    rec.created_ms = k->created_ms = now_ms;
    snprintf(rec.principal, sizeof(rec.principal), "%s", k->principal);
    snprintf(rec.tls_peer, sizeof(rec.tls_peer), "%s", k->tls_peer);
    if ((st = auth_principal_put(s, txn, k->principal, &pr)) != HITLQ_ST_OK ||
        (st = auth_key_put(s, txn, k->key_id, &rec, MDB_NOOVERWRITE)) != HITLQ_ST_OK)
        return st == HITLQ_ST_RESOURCE_EXHAUSTED ? st : HITLQ_ST_INTERNAL;
    k->n_skills = pr.n_skills;         /* for the reply */
    memcpy(k->skills, pr.skills, sizeof(k->skills));
    return auth_keyop_audit(audit, txn, k, k->role, now_ms);
}

static int
auth_keyop_revoke_apply(struct store *s, struct audit *audit, MDB_txn *txn,
                        struct auth_keyop *k, uint64_t now_ms, char *err, size_t errlen)
{
    struct auth_keyrec rec;
    struct auth_prec pr;
    int st = auth_key_get(s, txn, k->key_id, &rec);

    if (st == HITLQ_ST_NOT_FOUND)
        snprintf(err, errlen, "no API key with this key_id");
    if (st != HITLQ_ST_OK)
        return st;
    snprintf(k->principal, sizeof(k->principal), "%s", rec.principal);
    snprintf(k->tls_peer, sizeof(k->tls_peer), "%s", rec.tls_peer);
    k->kind = rec.kind;
    k->created_ms = rec.created_ms;
    if (rec.revoked)
        return HITLQ_ST_OK;            /* already revoked: nothing to record */
    rec.revoked = true;
    if ((st = auth_key_put(s, txn, k->key_id, &rec, 0)) != HITLQ_ST_OK)
        return st;
    st = auth_principal_get(s, txn, rec.principal, strlen(rec.principal), &pr);
    k->role = st == HITLQ_ST_OK ? pr.role : AUTH_ROLE_NONE;
    return auth_keyop_audit(audit, txn, k, st == HITLQ_ST_OK ? pr.role : AUTH_ROLE_BOT,
                            now_ms);
}

int
auth_keyop_apply(struct store *s, struct audit *audit, MDB_txn *txn, struct auth_keyop *k,
                 uint64_t now_ms, char *err, size_t errlen)
{
    return k->revoke ? auth_keyop_revoke_apply(s, audit, txn, k, now_ms, err, errlen)
                     : auth_keyop_add_apply(s, audit, txn, k, now_ms, err, errlen);
}

/* ---- KEY_LIST ------------------------------------------------------------------------------ */

/* Calls fn for each 'k' record (principal filter applied), at most max. */
static size_t
auth_keys_walk(struct store *s, MDB_txn *txn, const char *principal, size_t max, bool *more,
               void (*fn)(void *, MDB_txn *, const uint8_t *, const struct auth_keyrec *),
               void *arg)
{
    MDB_cursor *cur;
    MDB_val k = { 1, (void *)"k" }, v;
    struct auth_keyrec r;
    size_t n = 0;
    int rc;

    *more = false;
    if (mdb_cursor_open(txn, s->principals, &cur) != 0)
        return 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *kb = k.mv_data;
        if (k.mv_size != 1 + AUTH_KEY_ID_LEN || kb[0] != 'k')
            break;
        if (auth_keyrec_decode(&v, &r) != HITLQ_ST_OK ||
            (principal != NULL && strcmp(principal, r.principal) != 0))
            continue;
        if (n == max) {
            *more = true;
            break;
        }
        if (fn != NULL)
            fn(arg, txn, kb + 1, &r);
        n++;
    }
    mdb_cursor_close(cur);
    return n;
}

struct auth_pack_ctx {
    struct store   *s;
    msgpack_packer *pk;
};

static void
auth_pack_key(void *arg, MDB_txn *txn, const uint8_t *id, const struct auth_keyrec *r)
{
    struct auth_pack_ctx *x = arg;
    msgpack_packer *pk = x->pk;
    char hex[AUTH_KEY_ID_HEX + 1];
    struct auth_prec pr;
    bool has = auth_principal_get(x->s, txn, r->principal, strlen(r->principal), &pr) ==
               HITLQ_ST_OK;

    sodium_bin2hex(hex, sizeof(hex), id, AUTH_KEY_ID_LEN);
    msgpack_pack_map(pk, r->kind != AUTH_KIND_API ? 8 : 7);
    wire_pack_kv_str(pk, "principal", r->principal);
    wire_pack_kv_str(pk, "role", has ? auth_role_name(pr.role) : "unknown");
    wire_pack_cstr(pk, "skills");
    msgpack_pack_array(pk, has ? pr.n_skills : 0);
    for (uint8_t i = 0; has && i < pr.n_skills; i++)
        wire_pack_cstr(pk, pr.skills[i]);
    wire_pack_kv_str(pk, "key_id", hex);
    wire_pack_kv_u64(pk, "created_ms", r->created_ms);
    wire_pack_kv_bool(pk, "revoked", r->revoked);
    wire_pack_kv_str(pk, "kind", auth_kind_name(r->kind));
    if (r->kind == AUTH_KIND_TLS) {
        wire_pack_kv_str(pk, "tls_peer", r->tls_peer);
    } else if (r->kind == AUTH_KIND_ED25519) {
        char pks[AUTH_MSG_KEYSTR_LEN + 1];
        auth_msg_key_format(pks, AUTH_MSG_PK_PREFIX, r->hash);
        wire_pack_kv_str(pk, "public_key", pks);
    }
}

int
auth_pack_keys(struct store *s, MDB_txn *txn, const char *principal, msgpack_packer *pk)
{
    struct auth_pack_ctx x = { s, pk };
    bool more;
    size_t n = auth_keys_walk(s, txn, principal, AUTH_LIST_MAX, &more, NULL, NULL);

    msgpack_pack_map(pk, 2);
    wire_pack_cstr(pk, "keys");
    msgpack_pack_array(pk, n);
    if (auth_keys_walk(s, txn, principal, n, &more, auth_pack_key, &x) != n)
        return HITLQ_ST_INTERNAL;
    wire_pack_kv_bool(pk, "truncated", n == AUTH_LIST_MAX && more);
    return HITLQ_ST_OK;
}

struct auth_tls_ctx {
    const char *peer;
    bool        found;
    uint8_t    *id;
    struct auth_keyrec *r;
};

static void
auth_tls_match(void *arg, MDB_txn *txn, const uint8_t *id, const struct auth_keyrec *r)
{
    struct auth_tls_ctx *x = arg;

    (void)txn;
    if (x->found || r->revoked || r->kind != AUTH_KIND_TLS || strcmp(r->tls_peer, x->peer) != 0)
        return;
    x->found = true;
    memcpy(x->id, id, AUTH_KEY_ID_LEN);
    *x->r = *r;
}

int
auth_tls_find(struct store *s, MDB_txn *txn, const char *peer, uint8_t id[AUTH_KEY_ID_LEN],
              struct auth_keyrec *r)
{
    /* cppcheck-suppress ctuuninitvar ; r is an output: only its address is kept */
    struct auth_tls_ctx x = { peer, false, id, r };
    bool more;

    if (peer == NULL || peer[0] == '\0')
        return HITLQ_ST_NOT_FOUND;
    auth_keys_walk(s, txn, NULL, SIZE_MAX, &more, auth_tls_match, &x);
    return x.found ? HITLQ_ST_OK : HITLQ_ST_NOT_FOUND;
}

/* ---- GET by a bot ---------------------------------------------------------------------------- */

bool
auth_item_owned(struct store *s, MDB_txn *txn, uint64_t id, const char *name)
{
    uint8_t kb[8];
    MDB_val k = { 8, kb }, v;
    struct item_hdr h;
    struct item_body b;
    size_t hl, n = strlen(name);
    int rc;

    store_put_be64(kb, id);
    rc = mdb_get(txn, s->items, &k, &v);
    if (rc == MDB_NOTFOUND)
        return true;                   /* GET answers not_found itself */
    if (rc != 0 || item_hdr_decode(v.mv_data, v.mv_size, &h, &hl) != 0 ||
        item_body_decode((const uint8_t *)v.mv_data + hl, v.mv_size - hl, &b) != 0)
        return false;
    return b.actor_len == n && memcmp(b.actor, name, n) == 0;
}
