/*
 * test_auth_sig.c - Ed25519 challenge-response authentication
 * (PROTOCOL.md §3.2, docs/RELIABILITY.md §2.9 and T5 item 19): the signed
 * message and key strings; libhitlq's OpenSSL signatures checked with
 * libsodium and 10,000 replayed or relayed ones refused; then a real
 * hitlqd with `auth = 1`: login through libhitlq and the CLI, a replayed
 * signature, a signature over another nonce or another TLS exporter value
 * (relay), the wrong role, unknown, malformed and oversized key ids, AUTH
 * twice, AUTH switching identity, AUTH out of order, revocation,
 * duplicate keys, the failure limit, and `auth = 0`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "auth_msg.h"
#include "client_int.h"
#include "harness.h"
#include "hitlq_msgpack.h"
#include "hitlq_proto.h"
#include "tls_util.h"
#include "tutil.h"

static struct hserver S;               /* auth = 1, plaintext */
static char ADMIN_KEY[HITLQ_API_KEY_LEN + 1];
static uint32_t REQ = 100;
static const uint8_t zero32[32];

/* A registered (or not) Ed25519 identity. */
struct ident {
    char    sk[HITLQ_ED25519_KEY_LEN + 1], pk[HITLQ_ED25519_KEY_LEN + 1];
    char    id[HITLQ_KEY_ID_LEN + 1];
    uint8_t seed[32], raw_id[8];
};

/* ---- helpers ------------------------------------------------------------------------- */

static void ident_new(struct ident *k)
{
    assert_int_equal(hitlq_ed25519_keygen(k->sk, k->pk), HITLQ_OK);
    assert_int_equal(hitlq_ed25519_key_id(k->pk, k->id), HITLQ_OK);
    assert_int_equal(auth_msg_key_parse(k->sk, strlen(k->sk), AUTH_MSG_SK_PREFIX, k->seed), 0);
    assert_int_equal(auth_msg_unhex(k->raw_id, 8, k->id, 16), 0);
}

/* libsodium's signature by k over the challenge message. */
static void ident_sign(const struct ident *k, const uint8_t nonce[32], const uint8_t exp[32],
                       const char *role, uint8_t sig[64])
{
    uint8_t pk[32], sk[64], msg[AUTH_MSG_MAX];
    size_t n = auth_msg_build(msg, nonce, exp, k->raw_id, role, strlen(role));
    assert_true(n > 0);
    crypto_sign_seed_keypair(pk, sk, k->seed);
    crypto_sign_detached(sig, NULL, msg, n, sk);
    sodium_memzero(sk, sizeof sk);
}

static hitlq *connect_with(uint16_t port, const char *api_key, const char *sk, const char *role)
{
    hitlq_options o = { .port = port, .timeout_ms = 10000, .api_key = api_key,
                        .ed25519_key = sk, .role = role };
    hitlq *c = hitlq_connect(&o);
    assert_non_null(c);
    return c;
}

/* Registers k for principal with role through the admin key. */
static void ident_register(const struct ident *k, const char *principal, const char *role)
{
    char id[HITLQ_KEY_ID_LEN + 1];
    hitlq *a = connect_with(S.port, ADMIN_KEY, NULL, NULL);
    assert_int_equal(hitlq_err(a), HITLQ_OK);
    assert_int_equal(hitlq_key_add_ed25519(a, principal, role, k->pk, NULL, 0, id, sizeof id),
                     HITLQ_OK);
    assert_string_equal(id, k->id);    /* the server derives the same id */
    hitlq_free(a);
}

/* The HELLO body {version: 1, challenge: true}. */
static void challenge_body(msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    hpk_kv_u64(&pk, "version", 1);
    hpk_str(&pk, "challenge");
    msgpack_pack_true(&pk);
}

/* HELLO {version, challenge: true} on a new raw connection from src (NULL
 * = 127.0.0.1): the nonce.  Returns the status. */
static int hello_challenge(struct hconn *c, const char *src, uint8_t nonce[32])
{
    msgpack_sbuffer sb;
    struct hframe f;
    assert_int_equal(hconn_open_from(c, S.port, src), 0);
    challenge_body(&sb);
    assert_int_equal(hconn_call(c, HITLQ_OP_HELLO, 1, sb.data, sb.size, &f, 5000), 1);
    msgpack_sbuffer_destroy(&sb);
    int st = f.status;
    const msgpack_object *n = hframe_get(&f, "nonce");
    if (st == HITLQ_ST_OK) {
        assert_non_null(n);
        assert_int_equal(n->type, MSGPACK_OBJECT_BIN);
        assert_int_equal(n->via.bin.size, 32);
        memcpy(nonce, n->via.bin.ptr, 32);
        assert_true(hobj_str_eq(hframe_get(&f, "role"), "none"));
    }
    hframe_free(&f);
    return st;
}

/* The AUTH body {key_id, role, signature}. */
static void auth_body(msgpack_sbuffer *sb, const char *key_id, const char *role,
                      const uint8_t *sig, size_t siglen)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    hpk_kv_str(&pk, "key_id", key_id);
    hpk_kv_str(&pk, "role", role);
    hpk_str(&pk, "signature");
    msgpack_pack_bin(&pk, siglen);
    msgpack_pack_bin_body(&pk, sig, siglen);
}

/* Sends AUTH; returns the status (*f keeps the reply when not NULL). */
static int send_auth(struct hconn *c, const char *key_id, const char *role, const uint8_t *sig,
                     size_t siglen, struct hframe *keep)
{
    msgpack_sbuffer sb;
    struct hframe f;
    auth_body(&sb, key_id, role, sig, siglen);
    int r = hconn_call(c, HITLQ_OP_AUTH, ++REQ, sb.data, sb.size, &f, 5000);
    msgpack_sbuffer_destroy(&sb);
    if (r != 1)
        fail_msg("AUTH: no reply (%d)", r);
    int st = f.status;
    if (keep)
        *keep = f;
    else
        hframe_free(&f);
    return st;
}

static int ping(struct hconn *c)
{
    return hconn_ping(c, ++REQ);
}

/* The role a connection acts with, seen through STATS (specialist, admin)
 * versus SUBMIT-only bots: STATS's status. */
static int stats_status(struct hconn *c)
{
    struct hframe f;
    assert_int_equal(hconn_call(c, HITLQ_OP_STATS, ++REQ, NULL, 0, &f, 5000), 1);
    int st = f.status;
    hframe_free(&f);
    return st;
}

/* A fresh challenged connection from src authenticated as k/role: 0 ok. */
static int login_raw(struct hconn *c, const char *src, const struct ident *k, const char *role)
{
    uint8_t nonce[32], zero[32] = { 0 }, sig[64];
    if (hello_challenge(c, src, nonce) != HITLQ_ST_OK)
        return -1;
    ident_sign(k, nonce, zero, role, sig);
    return send_auth(c, k->id, role, sig, sizeof sig, NULL);
}

static int srv_setup(void **st)
{
    (void)st;
    if (harness_server_start(&S, "auth = 1\n") < 0)
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/admin.key", S.data);
    char *k = tutil_slurp(path, NULL);
    snprintf(ADMIN_KEY, sizeof ADMIN_KEY, "%.*s", (int)HITLQ_API_KEY_LEN, k);
    free(k);
    return 0;
}

static int srv_teardown(void **st)
{
    (void)st;
    int rc = harness_server_stop(&S);
    harness_server_cleanup(&S);
    return rc;
}

/* ---- units: message, keys, signatures ------------------------------------------------- */

static void test_message_and_keys(void **st)
{
    (void)st;
    uint8_t nonce[32], exp[32], id[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, msg[AUTH_MSG_MAX], k[32];
    memset(nonce, 0xAA, 32);
    memset(exp, 0xBB, 32);
    size_t n = auth_msg_build(msg, nonce, exp, id, "specialist", 10);
    assert_int_equal(n, 13 + 32 + 32 + 8 + 10);
    assert_memory_equal(msg, "hitlq-auth-v1", 13);
    assert_int_equal(msg[13], 0xAA);
    assert_int_equal(msg[13 + 32], 0xBB);
    assert_memory_equal(msg + 77, id, 8);
    assert_memory_equal(msg + 85, "specialist", 10);
    assert_int_equal(auth_msg_build(msg, nonce, exp, id, "rrrrrrrrrrrrrrrrr", 17), 0);
    /* key strings: round trip, trailing newline, every malformation */
    struct ident a;
    ident_new(&a);
    char again[HITLQ_ED25519_KEY_LEN + 1], line[100];
    assert_int_equal(hitlq_ed25519_public(a.sk, again), HITLQ_OK);
    assert_string_equal(again, a.pk);
    snprintf(line, sizeof line, "%s\n", a.pk);
    assert_int_equal(auth_msg_key_parse(line, strlen(line), AUTH_MSG_PK_PREFIX, k), 0);
    assert_int_equal(auth_msg_key_parse(a.pk, strlen(a.pk), AUTH_MSG_SK_PREFIX, k), -1);
    assert_int_equal(auth_msg_key_parse(a.pk, strlen(a.pk) - 1, AUTH_MSG_PK_PREFIX, k), -1);
    snprintf(line, sizeof line, "%s", a.pk);
    line[40] = 'g';
    assert_int_equal(auth_msg_key_parse(line, strlen(line), AUTH_MSG_PK_PREFIX, k), -1);
    assert_int_equal(hitlq_ed25519_public("hitlq_ed25519_sk_00", again), HITLQ_EINVAL);
    /* the key id: SHA-256(domain || pk), first 8 bytes, as libsodium computes it */
    uint8_t pk[32], in[AUTH_MSG_KEYID_INPUT_LEN], h[32];
    char hex[17];
    assert_int_equal(auth_msg_key_parse(a.pk, strlen(a.pk), AUTH_MSG_PK_PREFIX, pk), 0);
    auth_msg_key_id_input(in, pk);
    crypto_hash_sha256(h, in, sizeof in);
    sodium_bin2hex(hex, sizeof hex, h, 8);
    assert_string_equal(hex, a.id);
}

/* libhitlq signs with OpenSSL; libsodium must accept exactly that message
 * and refuse it for 10,000 other nonces and 10,000 other exporter values
 * (replays and relays), and for another role or key id. */
static void test_openssl_signature_libsodium_verifies(void **st)
{
    (void)st;
    struct ident a;
    struct hitlq fake;
    uint8_t nonce[32], zero[32] = { 0 }, sig[64], msg[AUTH_MSG_MAX], pk[32], other[32];
    char id[17];
    ident_new(&a);
    memset(&fake, 0, sizeof fake);
    fake.fd = -1;                      /* plaintext: exporter = zeros */
    randombytes_buf(nonce, sizeof nonce);
    assert_int_equal(hitlq__auth_sign(&fake, a.sk, nonce, "bot", id, sig), HITLQ_OK);
    assert_string_equal(id, a.id);
    assert_int_equal(auth_msg_key_parse(a.pk, strlen(a.pk), AUTH_MSG_PK_PREFIX, pk), 0);
    size_t n = auth_msg_build(msg, nonce, zero, a.raw_id, "bot", 3);
    assert_int_equal(crypto_sign_verify_detached(sig, msg, n, pk), 0);
    unsigned accepted = 0;
    for (int i = 0; i < 10000; i++) {
        randombytes_buf(other, sizeof other);
        n = auth_msg_build(msg, other, zero, a.raw_id, "bot", 3);       /* replay */
        accepted += crypto_sign_verify_detached(sig, msg, n, pk) == 0;
        n = auth_msg_build(msg, nonce, other, a.raw_id, "bot", 3);      /* relay */
        accepted += crypto_sign_verify_detached(sig, msg, n, pk) == 0;
    }
    assert_int_equal(accepted, 0);
    n = auth_msg_build(msg, nonce, zero, a.raw_id, "admin", 5);
    assert_int_not_equal(crypto_sign_verify_detached(sig, msg, n, pk), 0);
    assert_int_equal(hitlq__auth_sign(&fake, "hitlq_ed25519_sk_zz", nonce, "bot", id, sig),
                     HITLQ_EINVAL);
}

/* ---- a real server ---------------------------------------------------------------------- */

static void test_login_libhitlq_and_cli(void **st)
{
    (void)st;
    struct ident a;
    ident_new(&a);
    ident_register(&a, "sig-bot", "bot");
    hitlq *c = connect_with(S.port, NULL, a.sk, "bot");
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    msgpack_sbuffer fb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&fb);
    msgpack_packer_init(&pk, &fb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "amount", 1000);
    hitlq_item it = { .key = "sig-1", .type = "credit_application", .fields = fb.data,
                      .fields_len = fb.size, .priority = -1 };
    hitlq_decision d;
    assert_int_equal(hitlq_submit(c, &it, &d), HITLQ_OK);
    assert_true(d.id > 0);
    msgpack_sbuffer_destroy(&fb);
    hitlq_free(c);
    /* the wrong role is refused like a bad signature */
    c = connect_with(S.port, NULL, a.sk, "admin");
    assert_int_equal(hitlq_err(c), HITLQ_ST_UNAUTHORIZED);
    hitlq_free(c);
    /* the CLI: keygen, key add --public-key, a command with --key-file */
    char cmd[1024], dir[] = "/tmp/hitlq-sig-XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "set -e; export HITLQ_PORT=%u; cd %s; %s/" HARNESS_CLI " keygen spec.sk > spec.pk; "
             "%s/" HARNESS_CLI " --api-key %s key add sig-spec specialist --public-key "
             "\"$(cat spec.pk)\" >/dev/null 2>&1; "
             "%s/" HARNESS_CLI " --key-file spec.sk --role specialist stats >/dev/null; "
             "test \"$(stat -c %%a spec.sk)\" = 600; "
             "! %s/" HARNESS_CLI " --key-file spec.sk --role bot stats 2>/dev/null",
             S.port, dir, getenv("PWD"), getenv("PWD"), ADMIN_KEY, getenv("PWD"), getenv("PWD"));
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_replayed_signature_refused(void **st)
{
    (void)st;
    struct ident a;
    struct hconn c1, c2;
    uint8_t n1[32], n2[32], zero[32] = { 0 }, sig[64];
    ident_new(&a);
    ident_register(&a, "sig-replay", "bot");
    assert_int_equal(hello_challenge(&c1, "127.0.0.21", n1), HITLQ_ST_OK);
    ident_sign(&a, n1, zero, "bot", sig);
    struct hframe f;
    assert_int_equal(send_auth(&c1, a.id, "bot", sig, sizeof sig, &f), HITLQ_ST_OK);
    assert_true(hobj_str_eq(hframe_get(&f, "principal"), "sig-replay"));
    assert_true(hobj_str_eq(hframe_get(&f, "role"), "bot"));
    hframe_free(&f);
    assert_int_equal(ping(&c1), HITLQ_ST_OK);
    /* the same signature on a later connection (another nonce) */
    assert_int_equal(hello_challenge(&c2, "127.0.0.21", n2), HITLQ_ST_OK);
    assert_memory_not_equal(n1, n2, 32);
    assert_int_equal(send_auth(&c2, a.id, "bot", sig, sizeof sig, &f), HITLQ_ST_UNAUTHORIZED);
    assert_true(hobj_str_eq(hframe_get(&f, "message"), "authentication failed"));
    hframe_free(&f);
    assert_true(hconn_expect_closed(&c2, 2000, NULL));
    hconn_close(&c2);
    /* a signature over another nonce */
    assert_int_equal(hello_challenge(&c2, "127.0.0.21", n2), HITLQ_ST_OK);
    n2[0] ^= 1;
    ident_sign(&a, n2, zero, "bot", sig);
    assert_int_equal(send_auth(&c2, a.id, "bot", sig, sizeof sig, NULL), HITLQ_ST_UNAUTHORIZED);
    hconn_close(&c2);
    /* over a non-zero exporter value on a plaintext connection (relayed
     * from a TLS session) */
    uint8_t exp[32];
    memset(exp, 7, sizeof exp);
    assert_int_equal(hello_challenge(&c2, "127.0.0.21", n2), HITLQ_ST_OK);
    ident_sign(&a, n2, exp, "bot", sig);
    assert_int_equal(send_auth(&c2, a.id, "bot", sig, sizeof sig, NULL), HITLQ_ST_UNAUTHORIZED);
    hconn_close(&c2);
    assert_int_equal(ping(&c1), HITLQ_ST_OK);   /* the first session is untouched */
    hconn_close(&c1);
}

/* Unknown, malformed and oversized key ids; a bad signature length; the
 * role another principal has. */
static void test_bad_key_ids(void **st)
{
    (void)st;
    struct ident a, stranger;
    struct hconn c;
    struct hframe f;
    uint8_t nonce[32], zero[32] = { 0 }, sig[64];
    char big[200];
    ident_new(&a);
    ident_new(&stranger);
    ident_register(&a, "sig-ids", "auditor");
    /* unknown key (well signed by a key the server never saw) */
    assert_int_equal(hello_challenge(&c, "127.0.0.22", nonce), HITLQ_ST_OK);
    ident_sign(&stranger, nonce, zero, "auditor", sig);
    assert_int_equal(send_auth(&c, stranger.id, "auditor", sig, 64, &f), HITLQ_ST_UNAUTHORIZED);
    assert_true(hobj_str_eq(hframe_get(&f, "message"), "authentication failed"));
    hframe_free(&f);
    hconn_close(&c);
    /* malformed id: same status and message */
    assert_int_equal(hello_challenge(&c, "127.0.0.23", nonce), HITLQ_ST_OK);
    ident_sign(&a, nonce, zero, "auditor", sig);
    assert_int_equal(send_auth(&c, "zzzzzzzzzzzzzzzz", "auditor", sig, 64, &f),
                     HITLQ_ST_UNAUTHORIZED);
    assert_true(hobj_str_eq(hframe_get(&f, "message"), "authentication failed"));
    hframe_free(&f);
    hconn_close(&c);
    /* oversized id, short signature: rejected by the schema, the nonce
     * stays usable once */
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(hello_challenge(&c, "127.0.0.24", nonce), HITLQ_ST_OK);
    assert_int_equal(send_auth(&c, big, "auditor", sig, 64, NULL), HITLQ_ST_BAD_REQUEST);
    assert_int_equal(send_auth(&c, a.id, "auditor", sig, 63, NULL), HITLQ_ST_BAD_REQUEST);
    ident_sign(&a, nonce, zero, "auditor", sig);
    assert_int_equal(send_auth(&c, a.id, "auditor", sig, 64, NULL), HITLQ_ST_OK);
    hconn_close(&c);
    /* a valid signature claiming another role than the principal's */
    assert_int_equal(hello_challenge(&c, "127.0.0.24", nonce), HITLQ_ST_OK);
    ident_sign(&a, nonce, zero, "admin", sig);
    assert_int_equal(send_auth(&c, a.id, "admin", sig, 64, NULL), HITLQ_ST_UNAUTHORIZED);
    hconn_close(&c);
}

/* AUTH twice, AUTH switching identity, AUTH before HELLO or after an
 * API-key HELLO, other requests while challenged. */
static void test_auth_once_per_connection(void **st)
{
    (void)st;
    struct ident bot, spec;
    struct hconn c;
    uint8_t nonce[32], zero[32] = { 0 }, sig[64];
    ident_new(&bot);
    ident_new(&spec);
    ident_register(&bot, "sig-once-bot", "bot");
    ident_register(&spec, "sig-once-spec", "specialist");
    assert_int_equal(login_raw(&c, "127.0.0.25", &bot, "bot"), HITLQ_ST_OK);
    assert_int_equal(stats_status(&c), HITLQ_ST_FORBIDDEN);     /* a bot */
    /* the same AUTH again, then the specialist's (signed over the old
     * nonce: the only one it could know) */
    ident_sign(&spec, zero, zero, "specialist", sig);
    assert_int_equal(send_auth(&c, spec.id, "specialist", sig, 64, NULL), HITLQ_ST_BAD_REQUEST);
    assert_int_equal(send_auth(&c, bot.id, "bot", sig, 64, NULL), HITLQ_ST_BAD_REQUEST);
    assert_int_equal(stats_status(&c), HITLQ_ST_FORBIDDEN);     /* still the bot */
    assert_int_equal(ping(&c), HITLQ_ST_OK);
    hconn_close(&c);
    /* AUTH before HELLO */
    assert_int_equal(hconn_open(&c, S.port), 0);
    assert_int_equal(send_auth(&c, bot.id, "bot", sig, 64, NULL), HITLQ_ST_NEED_HELLO);
    assert_true(hconn_expect_closed(&c, 2000, NULL));
    hconn_close(&c);
    /* AUTH after an API-key HELLO */
    hitlq *h = connect_with(S.port, ADMIN_KEY, NULL, NULL);
    assert_int_equal(hitlq_err(h), HITLQ_OK);
    msgpack_sbuffer sb;
    hitlq_reply *r = NULL;
    auth_body(&sb, spec.id, "specialist", sig, 64);
    assert_int_equal(hitlq_call(h, HITLQ_OP_AUTH, sb.data, sb.size, &r), HITLQ_ST_BAD_REQUEST);
    hitlq_reply_free(r);
    msgpack_sbuffer_destroy(&sb);
    hitlq_free(h);
    /* while challenged: only AUTH and PING; a second HELLO is refused */
    assert_int_equal(hello_challenge(&c, "127.0.0.25", nonce), HITLQ_ST_OK);
    assert_int_equal(ping(&c), HITLQ_ST_OK);
    assert_int_equal(stats_status(&c), HITLQ_ST_FORBIDDEN);
    struct hframe f;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "version", 1);
    assert_int_equal(hconn_call(&c, HITLQ_OP_HELLO, ++REQ, sb.data, sb.size, &f, 5000), 1);
    assert_int_equal(f.status, HITLQ_ST_BAD_REQUEST);
    hframe_free(&f);
    msgpack_sbuffer_destroy(&sb);
    ident_sign(&spec, nonce, zero, "specialist", sig);
    assert_int_equal(send_auth(&c, spec.id, "specialist", sig, 64, NULL), HITLQ_ST_OK);
    assert_int_equal(stats_status(&c), HITLQ_ST_OK);
    hconn_close(&c);
}

static void test_revoke_and_list(void **st)
{
    (void)st;
    struct ident a;
    struct hconn c;
    struct hframe f;
    ident_new(&a);
    ident_register(&a, "sig-revoke", "specialist");
    /* the same public key twice: conflict */
    hitlq *adm = connect_with(S.port, ADMIN_KEY, NULL, NULL);
    char id[HITLQ_KEY_ID_LEN + 1];
    assert_int_equal(hitlq_key_add_ed25519(adm, "sig-other", "bot", a.pk, NULL, 0, id, sizeof id),
                     HITLQ_ST_CONFLICT);
    assert_int_equal(hitlq_key_add_ed25519(adm, "sig-other", "bot", "hitlq_ed25519_pk_12", NULL,
                                           0, id, sizeof id), HITLQ_ST_BAD_REQUEST);
    /* KEY_LIST: kind and public key, nothing secret */
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_key_list(adm, "sig-revoke", &r), HITLQ_OK);
    const msgpack_object *keys = hitlq_reply_get(r, "keys");
    assert_int_equal(keys->via.array.size, 1);
    const msgpack_object *k0 = &keys->via.array.ptr[0];
    for (uint32_t i = 0; i < k0->via.map.size; i++) {
        const msgpack_object_kv *kv = &k0->via.map.ptr[i];
        char name[32], val[128];
        hobj_str(&kv->key, name, sizeof name);
        hobj_str(&kv->val, val, sizeof val);
        if (strcmp(name, "kind") == 0)
            assert_string_equal(val, "ed25519");
        if (strcmp(name, "public_key") == 0)
            assert_string_equal(val, a.pk);
        assert_null(strstr(val, "hitlq_ed25519_sk_"));
    }
    hitlq_reply_free(r);
    /* revocation closes the live session within 1 s; a new AUTH fails */
    assert_int_equal(login_raw(&c, "127.0.0.26", &a, "specialist"), HITLQ_ST_OK);
    uint64_t t0 = harness_now_ms();
    assert_int_equal(hitlq_key_revoke(adm, a.id), HITLQ_OK);
    assert_int_equal(hconn_read_frame(&c, &f, 2000), 1);
    assert_int_equal(f.status, HITLQ_ST_UNAUTHORIZED);
    hframe_free(&f);
    assert_true(hconn_expect_closed(&c, 2000, NULL));
    assert_true(harness_now_ms() - t0 < 1000 + 500);   /* 1 s, + ASan slack */
    hconn_close(&c);
    assert_int_equal(login_raw(&c, "127.0.0.26", &a, "specialist"), HITLQ_ST_UNAUTHORIZED);
    hconn_close(&c);
    hitlq_free(adm);
}

/* Failed AUTHs count toward the address's limit: after 5 the next HELLO
 * is refused unchecked, and other addresses are unaffected. */
static void test_auth_failures_rate_limited(void **st)
{
    (void)st;
    struct ident a, stranger;
    struct hconn c;
    uint8_t nonce[32];
    ident_new(&a);
    ident_new(&stranger);
    ident_register(&a, "sig-limit", "bot");
    for (unsigned i = 0; i < AUTH_FAIL_MAX + 1; i++) {
        assert_int_equal(login_raw(&c, "127.0.0.27", &stranger, "bot"), HITLQ_ST_UNAUTHORIZED);
        hconn_close(&c);
    }
    assert_int_equal(hello_challenge(&c, "127.0.0.27", nonce), HITLQ_ST_UNAUTHORIZED);
    hconn_close(&c);
    assert_int_equal(login_raw(&c, "127.0.0.28", &a, "bot"), HITLQ_ST_OK);
    hconn_close(&c);
}

/* ---- over TLS: the signature is bound to the session ------------------------------------ */

/* HELLO {challenge} on a TLS connection: the nonce; the status. */
static int tls_challenge(struct rtls *t, uint8_t nonce[32])
{
    msgpack_sbuffer sb;
    struct hframe f;
    challenge_body(&sb);
    int st = rtls_call_frame(t, HITLQ_OP_HELLO, 1, sb.data, sb.size, &f);
    msgpack_sbuffer_destroy(&sb);
    if (st == HITLQ_ST_OK) {
        const msgpack_object *n = hframe_get(&f, "nonce");
        assert_true(n != NULL && n->type == MSGPACK_OBJECT_BIN && n->via.bin.size == 32);
        memcpy(nonce, n->via.bin.ptr, 32);
    }
    if (st >= 0)
        hframe_free(&f);
    return st;
}

static int tls_auth(struct rtls *t, const struct ident *k, const char *role,
                    const uint8_t sig[64])
{
    msgpack_sbuffer sb;
    auth_body(&sb, k->id, role, sig, 64);
    int st = rtls_call(t, HITLQ_OP_AUTH, 2, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return st;
}

/* A man in the middle holds TLS session A with the client and B with the
 * server: the client signs A's exporter, which the server's B does not
 * have, so the relayed signature fails; signed for B it works.  libhitlq
 * binds its signatures to the session too. */
static void test_tls_relay_refused(void **st)
{
    (void)st;
    static struct rtls a, b;
    struct hserver ts;
    char dir[] = "/tmp/hitlq-sigtls-XXXXXX", cmd[512], conf[1024], ca[600];
    uint8_t na[32], nb[32], ea[32], eb[32], sig[64];
    struct ident k;
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "sh scripts/make-certs.sh %s > /dev/null 2>&1", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(conf, sizeof conf, "auth = 1\ntls_cert = \"%s/server.pem\"\n"
             "tls_key = \"%s/server.key\"\n", dir, dir);
    assert_true(harness_server_start(&ts, conf) > 0);
    /* register through libhitlq over TLS with the bootstrap admin key */
    char path[256], id[HITLQ_KEY_ID_LEN + 1];
    snprintf(path, sizeof path, "%s/admin.key", ts.data);
    char *ak = tutil_slurp(path, NULL);
    ak[HITLQ_API_KEY_LEN] = '\0';
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    hitlq_options o = { .port = ts.port, .timeout_ms = 10000, .api_key = ak, .tls_ca = ca,
                        .tls_server_name = "localhost" };
    hitlq *adm = hitlq_connect(&o);
    assert_int_equal(hitlq_err(adm), HITLQ_OK);
    ident_new(&k);
    assert_int_equal(hitlq_key_add_ed25519(adm, "tls-bot", "bot", k.pk, NULL, 0, id, sizeof id),
                     HITLQ_OK);
    hitlq_free(adm);
    free(ak);
    /* two sessions: different exporters */
    assert_true(rtls_open(&a, ts.port, dir, 0, NULL));
    assert_true(rtls_open(&b, ts.port, dir, 0, NULL));
    assert_true(rtls_exporter(&a, ea) && rtls_exporter(&b, eb));
    assert_memory_not_equal(ea, eb, 32);
    assert_int_equal(tls_challenge(&a, na), HITLQ_ST_OK);
    assert_int_equal(tls_challenge(&b, nb), HITLQ_ST_OK);
    ident_sign(&k, nb, ea, "bot", sig);        /* B's nonce, A's session */
    assert_int_equal(tls_auth(&b, &k, "bot", sig), HITLQ_ST_UNAUTHORIZED);
    ident_sign(&k, na, zero32, "bot", sig);    /* no binding at all */
    assert_int_equal(tls_auth(&a, &k, "bot", sig), HITLQ_ST_UNAUTHORIZED);
    rtls_close(&a);
    rtls_close(&b);
    assert_true(rtls_open(&b, ts.port, dir, 0, NULL));
    assert_true(rtls_exporter(&b, eb));
    assert_int_equal(tls_challenge(&b, nb), HITLQ_ST_OK);
    ident_sign(&k, nb, eb, "bot", sig);        /* the right session */
    assert_int_equal(tls_auth(&b, &k, "bot", sig), HITLQ_ST_OK);
    assert_int_equal(rtls_call(&b, HITLQ_OP_PING, 3, NULL, 0), HITLQ_ST_OK);
    rtls_close(&b);
    /* libhitlq over TLS */
    hitlq_options ok = { .port = ts.port, .timeout_ms = 10000, .tls_ca = ca,
                         .tls_server_name = "localhost", .ed25519_key = k.sk, .role = "bot" };
    hitlq *c = hitlq_connect(&ok);
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&ts), 0);
    harness_server_cleanup(&ts);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* With authentication off a challenge is not needed: role local, no nonce,
 * and libhitlq with a key still connects. */
static void test_auth_off(void **st)
{
    (void)st;
    struct hserver off;
    struct ident a;
    ident_new(&a);
    assert_true(harness_server_start(&off, "auth = 0\n") > 0);
    hitlq *c = connect_with(off.port, NULL, a.sk, "bot");
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);      /* role local may */
    hitlq_reply_free(r);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&off), 0);
    harness_server_cleanup(&off);
}

int main(void)
{
    const struct CMUnitTest units[] = {
        cmocka_unit_test(test_message_and_keys),
        cmocka_unit_test(test_openssl_signature_libsodium_verifies),
        cmocka_unit_test(test_auth_off),
        cmocka_unit_test(test_tls_relay_refused),
    };
    const struct CMUnitTest server[] = {
        cmocka_unit_test(test_login_libhitlq_and_cli),
        cmocka_unit_test(test_replayed_signature_refused),
        cmocka_unit_test(test_bad_key_ids),
        cmocka_unit_test(test_auth_once_per_connection),
        cmocka_unit_test(test_revoke_and_list),
        cmocka_unit_test(test_auth_failures_rate_limited),
    };
    if (sodium_init() < 0)
        return 1;
    int rc = cmocka_run_group_tests_name("auth_sig units", units, NULL, NULL);
    return rc | cmocka_run_group_tests_name("auth_sig server", server, srv_setup, srv_teardown);
}
