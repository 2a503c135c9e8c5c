/*
 * auth_msg.h - the bytes of Ed25519 challenge-response authentication
 * (PROTOCOL.md §3.2), shared by hitlqd, libhitlq, the tests and the
 * fuzzer.  No I/O and no cryptography: the server verifies with
 * libsodium, the client signs with OpenSSL, both over these bytes.
 *
 * Signed message:  "hitlq-auth-v1" || nonce[32] || exporter[32] ||
 *                  key_id[8] || role (ASCII, no terminator)
 * exporter is the TLS session's RFC 5705/8446 exporter, label
 * "EXPORTER-hitlq-auth", no context, 32 bytes (32 zero bytes on a
 * plaintext connection).  key_id = the first 8 bytes of
 * SHA-256("hitlq-ed25519-key-id" || public_key).
 *
 * Key strings: "hitlq_ed25519_pk_" + 64 lowercase hex digits (the public
 * key) and "hitlq_ed25519_sk_" + 64 hex digits (the 32-byte seed).
 *
 * Return convention (proto/README.md): AUTH_MSG_OK (0) or a negative
 * AUTH_MSG_ERR_* code, named by auth_msg_strerror(); auth_msg_build is
 * the one exception (a length, 0 for a role that is too long).
 */
#ifndef HITLQ_AUTH_MSG_H
#define HITLQ_AUTH_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_MSG_CONTEXT       "hitlq-auth-v1"
#define AUTH_MSG_CONTEXT_LEN   13u
#define AUTH_MSG_KEYID_DOMAIN  "hitlq-ed25519-key-id"
#define AUTH_MSG_KEYID_DOMAIN_LEN 20u
#define AUTH_MSG_NONCE_LEN     32u
#define AUTH_MSG_EXPORTER_LEN  32u
#define AUTH_MSG_KEY_ID_LEN    8u
#define AUTH_MSG_SIG_LEN       64u
#define AUTH_MSG_KEY_LEN       32u      /* public key or seed */
#define AUTH_MSG_ROLE_MAX      16u
#define AUTH_MSG_MAX           (AUTH_MSG_CONTEXT_LEN + AUTH_MSG_NONCE_LEN + \
                                AUTH_MSG_EXPORTER_LEN + AUTH_MSG_KEY_ID_LEN + AUTH_MSG_ROLE_MAX)
#define AUTH_MSG_PK_PREFIX     "hitlq_ed25519_pk_"
#define AUTH_MSG_SK_PREFIX     "hitlq_ed25519_sk_"
#define AUTH_MSG_KEYSTR_LEN    (17u + 2u * AUTH_MSG_KEY_LEN)   /* 81 */

#define AUTH_MSG_OK             0
#define AUTH_MSG_ERR_MALFORMED -1   /* not a key string / hex of the expected length */

/* Static text for any AUTH_MSG_* code (never NULL). */
const char *auth_msg_strerror(int code);

/* Writes the signed message into out (AUTH_MSG_MAX bytes).  Returns its
 * length, or 0 when role is longer than AUTH_MSG_ROLE_MAX. */
size_t auth_msg_build(uint8_t out[AUTH_MSG_MAX], const uint8_t nonce[AUTH_MSG_NONCE_LEN],
                      const uint8_t exporter[AUTH_MSG_EXPORTER_LEN],
                      const uint8_t key_id[AUTH_MSG_KEY_ID_LEN], const char *role,
                      size_t role_len);

/* The key-id hash input: domain || pk, into out (20 + 32 bytes). */
#define AUTH_MSG_KEYID_INPUT_LEN (AUTH_MSG_KEYID_DOMAIN_LEN + AUTH_MSG_KEY_LEN)
void auth_msg_key_id_input(uint8_t out[AUTH_MSG_KEYID_INPUT_LEN],
                           const uint8_t pk[AUTH_MSG_KEY_LEN]);

/* Parses a key string with the given prefix (AUTH_MSG_PK_PREFIX or
 * AUTH_MSG_SK_PREFIX) into 32 bytes.  Trailing whitespace (a newline in a
 * key file) is allowed.  AUTH_MSG_OK, or AUTH_MSG_ERR_MALFORMED. */
int  auth_msg_key_parse(const char *s, size_t len, const char *prefix,
                        uint8_t key[AUTH_MSG_KEY_LEN]);
/* Formats 32 key bytes as a key string (AUTH_MSG_KEYSTR_LEN + 1 bytes). */
void auth_msg_key_format(char out[AUTH_MSG_KEYSTR_LEN + 1], const char *prefix,
                         const uint8_t key[AUTH_MSG_KEY_LEN]);

/* Lowercase hex of n bytes into out (2n + 1); and back (exactly 2n hex
 * digits, either case): AUTH_MSG_OK or AUTH_MSG_ERR_MALFORMED. */
void auth_msg_hex(char *out, const uint8_t *b, size_t n);
int  auth_msg_unhex(uint8_t *out, size_t n, const char *s, size_t len);

#endif
