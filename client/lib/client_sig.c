/*
 * sig.c - libhitlq's side of Ed25519 challenge-response authentication
 * (PROTOCOL.md §3.2): key pairs as strings, the key id, and the signature
 * over the challenge message of proto/auth_msg.h, made with OpenSSL (the
 * server verifies with libsodium; the tests check both agree).
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include "auth_msg.h"
#include "client_int.h"

/* The raw public key of a 32-byte seed.  0 or -1. */
static int
sig_public_raw(const uint8_t seed[AUTH_MSG_KEY_LEN], uint8_t pk[AUTH_MSG_KEY_LEN])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, AUTH_MSG_KEY_LEN);
    size_t n = AUTH_MSG_KEY_LEN;
    int ok = k != NULL && EVP_PKEY_get_raw_public_key(k, pk, &n) == 1 && n == AUTH_MSG_KEY_LEN;

    EVP_PKEY_free(k);
    return ok ? 0 : -1;
}

static void
sig_key_id_raw(const uint8_t pk[AUTH_MSG_KEY_LEN], uint8_t id[AUTH_MSG_KEY_ID_LEN])
{
    uint8_t in[AUTH_MSG_KEYID_INPUT_LEN], h[SHA256_DIGEST_LENGTH];

    auth_msg_key_id_input(in, pk);
    SHA256(in, sizeof(in), h);
    memcpy(id, h, AUTH_MSG_KEY_ID_LEN);
}

int
hitlq_ed25519_keygen(char sk_out[HITLQ_ED25519_KEY_LEN + 1],
                     char pk_out[HITLQ_ED25519_KEY_LEN + 1])
{
    uint8_t seed[AUTH_MSG_KEY_LEN], pk[AUTH_MSG_KEY_LEN];
    int rc = HITLQ_OK;

    if (sk_out == NULL || pk_out == NULL)
        return HITLQ_EINVAL;
    if (RAND_priv_bytes(seed, sizeof(seed)) != 1 || sig_public_raw(seed, pk) != 0)
        rc = HITLQ_EIO;
    if (rc == HITLQ_OK) {
        auth_msg_key_format(sk_out, AUTH_MSG_SK_PREFIX, seed);
        auth_msg_key_format(pk_out, AUTH_MSG_PK_PREFIX, pk);
    }
    OPENSSL_cleanse(seed, sizeof(seed));
    return rc;
}

int
hitlq_ed25519_public(const char *sk, char pk_out[HITLQ_ED25519_KEY_LEN + 1])
{
    uint8_t seed[AUTH_MSG_KEY_LEN], pk[AUTH_MSG_KEY_LEN];
    int rc = HITLQ_EINVAL;

    if (sk != NULL && pk_out != NULL &&
        auth_msg_key_parse(sk, strlen(sk), AUTH_MSG_SK_PREFIX, seed) == 0 &&
        sig_public_raw(seed, pk) == 0) {
        auth_msg_key_format(pk_out, AUTH_MSG_PK_PREFIX, pk);
        rc = HITLQ_OK;
    }
    OPENSSL_cleanse(seed, sizeof(seed));
    return rc;
}

int
hitlq_ed25519_key_id(const char *pk, char id_out[17])
{
    uint8_t raw[AUTH_MSG_KEY_LEN], id[AUTH_MSG_KEY_ID_LEN];

    if (pk == NULL || id_out == NULL ||
        auth_msg_key_parse(pk, strlen(pk), AUTH_MSG_PK_PREFIX, raw) != 0)
        return HITLQ_EINVAL;
    sig_key_id_raw(raw, id);
    auth_msg_hex(id_out, id, sizeof(id));
    return HITLQ_OK;
}

/* The session's exporter, zeros on plaintext.  0 or -1. */
static int
sig_exporter(hitlq *c, uint8_t out[AUTH_MSG_EXPORTER_LEN])
{
    static const char label[] = "EXPORTER-hitlq-auth";

    memset(out, 0, AUTH_MSG_EXPORTER_LEN);
    if (c->ssl == NULL)
        return 0;
    return SSL_export_keying_material(c->ssl, out, AUTH_MSG_EXPORTER_LEN, label,
                                      sizeof(label) - 1, NULL, 0, 0) == 1 ? 0 : -1;
}

int
hitlq__auth_sign(hitlq *c, const char *sk, const uint8_t nonce[32], const char *role,
                 char key_id_hex[17], uint8_t sig[64])
{
    uint8_t seed[AUTH_MSG_KEY_LEN], pk[AUTH_MSG_KEY_LEN], id[AUTH_MSG_KEY_ID_LEN];
    uint8_t exp[AUTH_MSG_EXPORTER_LEN], msg[AUTH_MSG_MAX];
    size_t n = 0, siglen = AUTH_MSG_SIG_LEN;
    EVP_PKEY *k = NULL;
    EVP_MD_CTX *md = NULL;
    int ok;

    ok = auth_msg_key_parse(sk, strlen(sk), AUTH_MSG_SK_PREFIX, seed) == 0 &&
         sig_public_raw(seed, pk) == 0 && sig_exporter(c, exp) == 0;
    if (ok) {
        sig_key_id_raw(pk, id);
        auth_msg_hex(key_id_hex, id, sizeof(id));
        n = auth_msg_build(msg, nonce, exp, id, role, strlen(role));
        k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
        md = EVP_MD_CTX_new();
    }
    ok = ok && n > 0 && k != NULL && md != NULL &&
         EVP_DigestSignInit(md, NULL, NULL, NULL, k) == 1 &&
         EVP_DigestSign(md, sig, &siglen, msg, n) == 1 && siglen == AUTH_MSG_SIG_LEN;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);                  /* OpenSSL wipes the key it held */
    OPENSSL_cleanse(seed, sizeof(seed));
    if (!ok)
        return hitlq__set_err(c, HITLQ_EINVAL, "ed25519_key: not a usable "
                              "hitlq_ed25519_sk_ key, or role too long");
    return HITLQ_OK;
}
