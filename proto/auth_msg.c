/*
 * auth_msg.c - the signed message, key id input and key strings of
 * Ed25519 challenge-response authentication (auth_msg.h).
 */
#include <string.h>

#include "auth_msg.h"

const char *
auth_msg_strerror(int code)
{
    switch (code) {
    case AUTH_MSG_OK:            return "ok";
    case AUTH_MSG_ERR_MALFORMED: return "malformed key string or hex";
    default:                     return "unknown auth_msg error code";
    }
}

size_t
auth_msg_build(uint8_t out[AUTH_MSG_MAX], const uint8_t nonce[AUTH_MSG_NONCE_LEN],
               const uint8_t exporter[AUTH_MSG_EXPORTER_LEN],
               const uint8_t key_id[AUTH_MSG_KEY_ID_LEN], const char *role, size_t role_len)
{
    size_t n = 0;

    if (role_len > AUTH_MSG_ROLE_MAX)
        return 0;
    memcpy(out + n, AUTH_MSG_CONTEXT, AUTH_MSG_CONTEXT_LEN);
    n += AUTH_MSG_CONTEXT_LEN;
    memcpy(out + n, nonce, AUTH_MSG_NONCE_LEN);
    n += AUTH_MSG_NONCE_LEN;
    memcpy(out + n, exporter, AUTH_MSG_EXPORTER_LEN);
    n += AUTH_MSG_EXPORTER_LEN;
    memcpy(out + n, key_id, AUTH_MSG_KEY_ID_LEN);
    n += AUTH_MSG_KEY_ID_LEN;
    if (role_len > 0)
        memcpy(out + n, role, role_len);
    return n + role_len;
}

void
auth_msg_key_id_input(uint8_t out[AUTH_MSG_KEYID_INPUT_LEN], const uint8_t pk[AUTH_MSG_KEY_LEN])
{
    memcpy(out, AUTH_MSG_KEYID_DOMAIN, AUTH_MSG_KEYID_DOMAIN_LEN);
    memcpy(out + AUTH_MSG_KEYID_DOMAIN_LEN, pk, AUTH_MSG_KEY_LEN);
}

void
auth_msg_hex(char *out, const uint8_t *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Value of one hex digit, or -1. */
static int
auth_msg_nibble(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int
auth_msg_unhex(uint8_t *out, size_t n, const char *s, size_t len)
{
    if (len != 2 * n)
        return AUTH_MSG_ERR_MALFORMED;
    for (size_t i = 0; i < n; i++) {
        int hi = auth_msg_nibble(s[2 * i]), lo = auth_msg_nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return AUTH_MSG_ERR_MALFORMED;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return AUTH_MSG_OK;
}

int
auth_msg_key_parse(const char *s, size_t len, const char *prefix, uint8_t key[AUTH_MSG_KEY_LEN])
{
    size_t pl = strlen(prefix);

    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' ||
                       s[len - 1] == '\t'))
        len--;
    if (len != AUTH_MSG_KEYSTR_LEN || pl != AUTH_MSG_KEYSTR_LEN - 2 * AUTH_MSG_KEY_LEN ||
        memcmp(s, prefix, pl) != 0)
        return AUTH_MSG_ERR_MALFORMED;
    return auth_msg_unhex(key, AUTH_MSG_KEY_LEN, s + pl, 2 * AUTH_MSG_KEY_LEN);
}

void
auth_msg_key_format(char out[AUTH_MSG_KEYSTR_LEN + 1], const char *prefix,
                    const uint8_t key[AUTH_MSG_KEY_LEN])
{
    size_t pl = strlen(prefix);

    memcpy(out, prefix, pl);
    auth_msg_hex(out + pl, key, AUTH_MSG_KEY_LEN);
}
