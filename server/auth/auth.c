/*
 * auth.c - API-key authentication in HELLO (auth.h): opening (auth mode,
 * pepper, the first admin key), constant-time verification with the same
 * work and error for every kind of failure, the per-address failure limit,
 * and the verdicts it returns (late refusals of a blocked address, the
 * hard close of a revoked key's connections), which the session code
 * carries out.  The principals' records and key administration are
 * auth_keys.c; which role may do what is authz.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "auth_int.h"
#include "config.h"
#include "log.h"
#include "store.h"
#include "util.h"

static const char *const auth_role_names[AUTH_N_ROLES] = {
    "none", "bot", "specialist", "auditor", "admin", "viewer", "local",
};

const char *
auth_role_name(unsigned role)
{
    return role < AUTH_N_ROLES ? auth_role_names[role] : NULL;
}

const char *
auth_kind_name(unsigned kind)
{
    static const char *const names[] = { "api_key", "tls_peer", "ed25519" };

    return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

enum auth_role
auth_role_parse(const char *s, size_t len)
{
    for (unsigned r = AUTH_ROLE_BOT; r <= AUTH_ROLE_VIEWER; r++)
        if (strlen(auth_role_names[r]) == len && memcmp(auth_role_names[r], s, len) == 0)
            return (enum auth_role)r;
    return AUTH_ROLE_NONE;
}

bool
auth_enabled(const struct auth *a)
{
    return a != NULL && a->on;
}

/* ---- opening ---------------------------------------------------------------- */

/* True when the host part of "host:port" / "[v6]:port" is a loopback
 * address (127.0.0.0/8, ::1, ::ffff:127.x).  Anything else, including a
 * wildcard or an unparsable address, counts as reachable from outside. */
static bool
auth_listen_is_loopback(const char *spec)
{
    const char *colon = strrchr(spec, ':');
    char host[128];
    size_t hl;
    struct in_addr v4;
    struct in6_addr v6;

    if (colon == NULL)
        return false;
    hl = (size_t)(colon - spec);
    if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
        spec++;
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof(host))
        return false;
    memcpy(host, spec, hl);
    host[hl] = '\0';
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6) ||
               (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
    return false;
}

/* Reads the pepper from meta "auth_pepper", creating it on first start. */
static int
auth_pepper_load(struct auth *a, MDB_txn *txn)
{
    MDB_val k = { 11, (void *)"auth_pepper" }, v;
    int rc = mdb_get(txn, a->s->meta, &k, &v);

    if (rc == MDB_NOTFOUND) {
        randombytes_buf(a->pepper, AUTH_PEPPER_LEN);
        v.mv_size = AUTH_PEPPER_LEN;
        v.mv_data = a->pepper;
        return store_put(a->s, txn, a->s->meta, &k, &v, 0);
    }
    if (rc != 0)
        return rc;
    if (v.mv_size != AUTH_PEPPER_LEN)
        return MDB_CORRUPTED;
    memcpy(a->pepper, v.mv_data, AUTH_PEPPER_LEN);
    return 0;
}

/* Writes the bootstrap key to path: mode 0600, never through a symlink. */
static int
auth_write_keyfile(const char *path, const char *key, char *err, size_t errlen)
{
    size_t n = strlen(key);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && fchmod(fd, 0600) == 0 && write(fd, key, n) == (ssize_t)n &&
              write(fd, "\n", 1) == 1 && fsync(fd) == 0;

    if (fd >= 0)
        close(fd);
    if (!ok) {
        snprintf(err, errlen, "auth: cannot write the admin key file %s: %s", path,
                 strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

/* With auth on and no principal: creates "admin" and its key file, in txn. */
static int
auth_bootstrap(struct auth *a, MDB_txn *txn, struct audit *audit, const struct hitlq_config *cfg,
               char *path, size_t pathlen, bool *made, char *err, size_t errlen)
{
    struct auth_keyop *k;
    MDB_stat st;
    int rc = mdb_stat(txn, a->s->principals, &st);

    *made = false;
    if (rc != 0 || st.ms_entries > 0)
        return rc;
    if (cfg->auth_bootstrap_key[0] != '\0')
        snprintf(path, pathlen, "%s", cfg->auth_bootstrap_key);
    else if ((size_t)snprintf(path, pathlen, "%s/admin.key", cfg->data_dir) >= pathlen)
        return ENAMETOOLONG;
    if ((k = auth_keyop_add(a, "admin", AUTH_ROLE_ADMIN)) == NULL)
        return ENOMEM;
    snprintf(k->by, sizeof(k->by), "hitlqd");
    rc = 0;
    if (audit != NULL)                 /* its KEY_EVENT entry, actor hitlqd */
        audit_txn_begin(audit, txn);
    if (auth_keyop_apply(a->s, audit, txn, k, util_now_ms(), err, errlen) != HITLQ_ST_OK) {
        snprintf(err, errlen, "auth: cannot store the first admin principal");
        rc = -1;
    }
    if (rc == 0 && auth_write_keyfile(path, k->api_key, err, errlen) != 0)
        rc = -1;
    *made = rc == 0;
    if (rc != 0 && audit != NULL)
        audit_txn_abort(audit);
    auth_keyop_free(k);
    return rc;
}

/* A public key no one holds the secret of: an unknown Ed25519 key id is
 * checked against it, so that it costs what a known one does. */
static void
auth_dummy_pk(uint8_t pk[crypto_sign_PUBLICKEYBYTES])
{
    uint8_t sk[crypto_sign_SECRETKEYBYTES];

    crypto_sign_keypair(pk, sk);
    sodium_memzero(sk, sizeof(sk));
}

int
auth_open(struct auth **out, struct store *s, struct audit *audit,
          const struct hitlq_config *cfg, char *err, size_t errlen)
{
    struct auth *a = calloc(1, sizeof(*a));
    char path[sizeof(cfg->data_dir) + sizeof(cfg->auth_bootstrap_key)];
    bool made = false;
    MDB_txn *txn = NULL;
    int rc;

    *out = NULL;
    if (a == NULL || (a->pepper = sodium_malloc(AUTH_PEPPER_LEN)) == NULL) {
        free(a);
        snprintf(err, errlen, "auth: out of memory");
        return -1;
    }
    a->s = s;
    log_addr_limit_init(&a->fail_log);
    a->on = cfg->auth == 2 ? !auth_listen_is_loopback(cfg->listen) : cfg->auth == 1;
    randombytes_buf(a->dummy, sizeof(a->dummy));
    auth_dummy_pk(a->dummy_pk);
    err[0] = '\0';
    rc = store_wtxn_begin(s, &txn);
    if (rc == 0)
        rc = auth_pepper_load(a, txn);
    if (rc == 0 && a->on)
        rc = auth_bootstrap(a, txn, audit, cfg, path, sizeof(path), &made, err, errlen);
    if (rc == 0)
        rc = store_wtxn_commit(s, txn);
    else if (txn != NULL)
        store_wtxn_abort(s, txn);
    if (made && audit != NULL) {       /* the entry is signed with the next checkpoint */
        uint64_t next;
        if (rc == 0)
            (void)audit_after_commit(audit, util_now_ms(), &next);
        else
            audit_txn_abort(audit);
    }
    if (rc != 0) {
        if (made)
            unlink(path);
        if (rc != -1)
            snprintf(err, errlen, "auth: cannot set up the principals store: %s",
                     rc > 0 ? strerror(rc) : mdb_strerror(rc));
        auth_close(a);
        return -1;
    }
    if (made)
        log_warn("auth: created principal \"admin\" (role admin); its API key is in %s "
                 "(mode 0600): store it safely, then delete the file", path);
    log_info("auth: %s%s", a->on ? "on: every connection must present an API key"
                                 : "off: every connection may do everything",
             cfg->auth == 2 ? " (auto, from the listen address)" : "");
    *out = a;
    return 0;
}

void
auth_close(struct auth *a)
{
    if (a == NULL)
        return;
    sodium_free(a->pepper);            /* sodium_free wipes it */
    sodium_memzero(a->dummy, sizeof(a->dummy));
    free(a);
}

/* ---- failure limit ---------------------------------------------------------------- */

/* The slot of addr, or NULL. */
static struct auth_fail *
auth_fail_find(struct auth *a, const char *addr)
{
    for (size_t i = 0; i < AUTH_FAIL_SLOTS; i++)
        if (a->fails[i].addr[0] != '\0' && strcmp(a->fails[i].addr, addr) == 0)
            return &a->fails[i];
    return NULL;
}

bool
auth_blocked(struct auth *a, const char *addr, uint64_t now)
{
    struct auth_fail *f = auth_fail_find(a, addr);

    return f != NULL && f->blocked_until > now;
}

void
auth_fail_note(struct auth *a, const char *addr, uint64_t now)
{
    struct auth_fail *f = auth_fail_find(a, addr);

    if (f == NULL) {                   /* a free slot, else the stalest */
        f = &a->fails[0];
        for (size_t i = 0; i < AUTH_FAIL_SLOTS && f->addr[0] != '\0'; i++)
            if (a->fails[i].addr[0] == '\0' || a->fails[i].last_ms < f->last_ms)
                f = &a->fails[i];
        memset(f, 0, sizeof(*f));
        snprintf(f->addr, sizeof(f->addr), "%s", addr);
    }
    /* at[next] is the oldest of the last AUTH_FAIL_MAX + 1 failures once
     * this one is written over it: the ring then holds them all */
    f->at[f->next] = now;
    f->next = (f->next + 1) % (AUTH_FAIL_MAX + 1);
    f->last_ms = now;
    if (f->at[f->next] != 0 && now - f->at[f->next] <= AUTH_FAIL_WINDOW_MS &&
        f->blocked_until <= now) {
        f->blocked_until = now + AUTH_BLOCK_MS;
        log_event(LOG_LVL_WARN, "auth_blocked", "too many failed authentications; "
                  "refusing the address for a while", LOG_STR("addr", addr),
                  LOG_UINT("failures", AUTH_FAIL_MAX + 1u),
                  LOG_UINT("window_s", AUTH_FAIL_WINDOW_MS / 1000u),
                  LOG_UINT("blocked_s", AUTH_BLOCK_MS / 1000u));
    }
}

void
auth_fail_log(struct auth *a, const char *peer, const char *addr, const char *method,
              const char *reason)
{
    uint64_t n = log_addr_limit_hit(&a->fail_log, addr, util_mono_ns() / 1000000u + 1, 1000);

    if (n > 0)
        log_event(LOG_LVL_WARN, "auth_failed", "authentication refused", LOG_STR("peer", peer),
                  LOG_STR("method", method), LOG_STR("reason", reason), LOG_UINT("count", n));
}

/* "ip:port" -> "ip". */
void
auth_peer_addr(const char *peer, char *out, size_t n)
{
    const char *colon = strrchr(peer, ':');
    size_t len = colon != NULL ? (size_t)(colon - peer) : strlen(peer);

    snprintf(out, n, "%.*s", (int)len, peer);
}

/* ---- verdicts ------------------------------------------------------------------------- */

static struct auth_verdict
auth_verdict_ok(enum auth_verdict_kind kind)
{
    struct auth_verdict v = { kind, HITLQ_ST_OK, 0, NULL };

    return v;
}

struct auth_verdict
auth_verdict_refuse(const char *msg)
{
    struct auth_verdict v = { AUTH_REFUSE, HITLQ_ST_UNAUTHORIZED, 0, msg };

    return v;
}

struct auth_verdict
auth_verdict_blocked(void)
{
    struct auth_verdict v = {
        AUTH_REFUSE_LATER, HITLQ_ST_UNAUTHORIZED, AUTH_BLOCK_DELAY_MS,
        "too many failed authentications from this address; retry later"
    };

    return v;
}

/* ---- HELLO ---------------------------------------------------------------------------- */

/* Splits "hitlq_<16 hex>_<43 base64url>" into key id and secret. */
static int
auth_parse_key(const char *s, size_t len, uint8_t id[AUTH_KEY_ID_LEN],
               uint8_t secret[AUTH_SECRET_LEN])
{
    size_t n = 0;
    const char *end = NULL;

    if (len != AUTH_KEY_STR_LEN || memcmp(s, "hitlq_", 6) != 0 || s[6 + AUTH_KEY_ID_HEX] != '_')
        return -1;
    if (sodium_hex2bin(id, AUTH_KEY_ID_LEN, s + 6, AUTH_KEY_ID_HEX, NULL, &n, &end) != 0 ||
        n != AUTH_KEY_ID_LEN || end != s + 6 + AUTH_KEY_ID_HEX)
        return -1;
    if (sodium_base642bin(secret, AUTH_SECRET_LEN, s + 7 + AUTH_KEY_ID_HEX, 43, NULL, &n, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n != AUTH_SECRET_LEN || end != s + len)
        return -1;
    return 0;
}

/* Verifies key bytes against the store.  Every path does one key lookup
 * attempt, one keyed hash and one constant-time compare.  Returns true
 * with *rec and *pr filled when the key is valid, unrevoked and its
 * principal exists. */
static bool
auth_verify(struct auth *a, MDB_txn *txn, const char *key, size_t len,
            uint8_t id[AUTH_KEY_ID_LEN], struct auth_keyrec *rec, struct auth_prec *pr)
{
    uint8_t secret[AUTH_SECRET_LEN], got[AUTH_HASH_LEN];
    bool parsed = key != NULL && auth_parse_key(key, len, id, secret) == 0;
    bool found = false, match, ok;

    memset(rec, 0, sizeof(*rec));
    if (!parsed) {
        memset(id, 0, AUTH_KEY_ID_LEN);
        memcpy(secret, a->dummy, sizeof(secret));
    }
    found = parsed && auth_key_get(a->s, txn, id, rec) == HITLQ_ST_OK;
    if (!found)
        memcpy(rec->hash, a->dummy, AUTH_HASH_LEN);
    crypto_generichash(got, sizeof(got), secret, sizeof(secret), a->pepper, AUTH_PEPPER_LEN);
    match = crypto_verify_32(got, rec->hash) == 0;
    sodium_memzero(secret, sizeof(secret));
    sodium_memzero(got, sizeof(got));
    ok = parsed & found & match & !rec->revoked & (rec->kind == AUTH_KIND_API);
    return ok && auth_principal_get(a->s, txn, rec->principal, strlen(rec->principal), pr) ==
                     HITLQ_ST_OK;
}

void
auth_accept(struct auth *a, const char *peer, const uint8_t id[AUTH_KEY_ID_LEN],
            const struct auth_keyrec *rec, const struct auth_prec *pr, uint64_t now,
            const char *how, struct auth_ident *who, char *name, size_t namelen)
{
    char hex[AUTH_KEY_ID_HEX + 1];

    (void)a;
    (void)now;
    who->role = pr->role;
    who->has_key = true;
    memcpy(who->key_id, id, AUTH_KEY_ID_LEN);
    who->n_skills = pr->n_skills;
    memcpy(who->skills, pr->skills, sizeof(who->skills));
    snprintf(name, namelen, "%s", rec->principal);
    /* a success forgets no failure of this address (auth_fail_note) */
    sodium_bin2hex(hex, sizeof(hex), id, AUTH_KEY_ID_LEN);
    log_debug("auth: %s is %s (role %s, %s %s)", peer, name, auth_role_name(pr->role), how,
              hex);
}

/* HELLO's credential check (auth on, address not blocked): the API key,
 * or (cert) the tls_peer credential of the verified client certificate. */
static bool
auth_hello_check(struct auth *a, MDB_txn *txn, const struct auth_hello_in *in, bool cert,
                 uint8_t id[AUTH_KEY_ID_LEN], struct auth_keyrec *rec, struct auth_prec *pr)
{
    if (txn == NULL)
        return false;
    if (cert)
        return auth_tls_find(a->s, txn, in->tls_peer, id, rec) == HITLQ_ST_OK &&
               auth_principal_get(a->s, txn, rec->principal, strlen(rec->principal), pr) ==
                   HITLQ_ST_OK;
    return auth_verify(a, txn, in->api_key, in->api_key_len, id, rec, pr);
}

struct auth_verdict
auth_hello(struct auth *a, MDB_txn *txn, const struct auth_hello_in *in,
           struct auth_ident *who, char *name, size_t namelen)
{
    char addr[64];
    uint8_t id[AUTH_KEY_ID_LEN];
    struct auth_keyrec rec;
    struct auth_prec pr;
    uint64_t now = util_mono_ns() / 1000000u;     /* the failure limit's clock */
    /* no API key: a verified client certificate may stand in */
    bool cert = in->api_key == NULL && in->tls_peer != NULL && in->tls_peer[0] != '\0' &&
                txn != NULL;
    bool blocked = false, ok = false;

    if (a->on) {
        auth_peer_addr(in->peer, addr, sizeof(addr));
        blocked = auth_blocked(a, addr, now);
        ok = !blocked && auth_hello_check(a, txn, in, cert, id, &rec, &pr);
    }
    /* The key's bytes are the frame's own (borrowed from the input
     * buffer, writable, dropped after this frame): wipe them. */
    if (in->api_key != NULL)
        sodium_memzero(in->api_key, in->api_key_len);
    if (!a->on) {
        who->role = AUTH_ROLE_LOCAL;
        return auth_verdict_ok(AUTH_OK);
    }
    if (blocked)                        /* the refusal comes later */
        return auth_verdict_blocked();
    if (ok) {
        auth_accept(a, in->peer, id, &rec, &pr, now, cert ? "tls_peer credential" : "key", who,
                    name, namelen);
        return auth_verdict_ok(AUTH_OK);
    }
    auth_fail_note(a, addr, now);
    auth_fail_log(a, in->peer, addr, "HELLO",
                  in->api_key != NULL ? "invalid API key"
                  : cert              ? "no API key, no tls_peer credential for the client "
                                        "certificate"
                                      : "no API key");
    return auth_verdict_refuse(in->api_key == NULL
                                   ? "this server requires an API key (HELLO api_key)"
                                   : "invalid API key");
}

/* ---- revocation --------------------------------------------------------------------- */

struct auth_verdict
auth_revoked(const struct auth_ident *who, const uint8_t key_id[AUTH_KEY_ID_LEN])
{
    struct auth_verdict v = auth_verdict_ok(AUTH_OK);

    if (!who->has_key || sodium_memcmp(who->key_id, key_id, AUTH_KEY_ID_LEN) != 0)
        return v;
    /* The notice is flushed if the peer reads; it is cut off regardless
     * once AUTH_REVOKE_CLOSE_MS have passed. */
    v.kind = AUTH_CLOSE_LATER;
    v.status = HITLQ_ST_UNAUTHORIZED;
    v.delay_ms = AUTH_REVOKE_CLOSE_MS;
    v.msg = "API key revoked";
    return v;
}
