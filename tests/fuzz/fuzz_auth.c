/*
 * fuzz_auth.c - libFuzzer target for the authentication inputs that are
 * parsed before anything is trusted (docs/RELIABILITY.md T4 fuzz_auth): Ed25519
 * key strings and key ids (proto/auth_msg.c, KEY_ADD public_key, AUTH
 * key_id) and the challenge message with libsodium's verification over
 * attacker-chosen public key, signature, nonce and role.  Oracle: a key
 * string that parses formats back to itself (lowercase); a hex id that
 * parses has exactly the expected length; nothing crashes, and a random
 * signature never verifies for the message it was not made for.  Built
 * with HITLQ_FUZZ_REPLAY defined, only fuzz_auth_one() is compiled.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth_msg.h"

static void
fuzz_auth_keys(const uint8_t *data, size_t size)
{
    static const char *const prefixes[] = { AUTH_MSG_PK_PREFIX, AUTH_MSG_SK_PREFIX };
    uint8_t key[AUTH_MSG_KEY_LEN], id[AUTH_MSG_KEY_ID_LEN];
    char again[AUTH_MSG_KEYSTR_LEN + 1];

    for (size_t i = 0; i < 2; i++) {
        if (auth_msg_key_parse((const char *)data, size, prefixes[i], key) != 0)
            continue;
        auth_msg_key_format(again, prefixes[i], key);
        if (size < AUTH_MSG_KEYSTR_LEN ||
            strncasecmp(again, (const char *)data, AUTH_MSG_KEYSTR_LEN) != 0)
            abort();
    }
    if (auth_msg_unhex(id, sizeof(id), (const char *)data, size) == 0 && size != 16)
        abort();
}

/* data = pk[32] sig[64] nonce[32] exporter[32] key_id[8] role... */
static void
fuzz_auth_verify(const uint8_t *data, size_t size)
{
    uint8_t msg[AUTH_MSG_MAX];
    size_t n;

    if (size < 32 + 64 + 32 + 32 + 8)
        return;
    n = auth_msg_build(msg, data + 96, data + 128, data + 160, (const char *)data + 168,
                       size - 168);
    if (n == 0)
        return;
    /* A fuzzer cannot forge Ed25519: a "valid" signature means the input
     * was built from a real key pair, which the corpus never contains. */
    if (crypto_sign_verify_detached(data + 32, msg, n, data) == 0)
        abort();
}

int
fuzz_auth_one(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0)
        abort();
    fuzz_auth_keys(data, size);
    fuzz_auth_verify(data, size);
    return 0;
}

#ifndef HITLQ_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_auth_one(data, size);
}
#endif
