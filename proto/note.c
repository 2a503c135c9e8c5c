/*
 * note.c - C2SP signed-note, tlog-checkpoint and tlog-cosignature (Ed25519)
 * codec (proto/AUDIT-FORMAT.md §1, §6), following Go's golang.org/x/mod/sumdb/note
 * where the spec leaves room.  Strict, bounded parsers over attacker text;
 * libsodium for SHA-256, Ed25519 and constant-time base64.  No I/O, no
 * logging, no global mutable state; the only allocation is the temporary
 * cosignature message in note_open.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "note.h"
#include "note_int.h"

_Static_assert(NOTE_PK_LEN == crypto_sign_PUBLICKEYBYTES, "pk size");
_Static_assert(NOTE_SK_LEN == crypto_sign_SECRETKEYBYTES, "sk size");
_Static_assert(NOTE_SEED_LEN == crypto_sign_SEEDBYTES, "seed size");


#define NOTE_SIG_LEN    crypto_sign_BYTES                      /* 64 */
/* Largest signature payload we ever need whole: id4 || u64 time || sig64. */
#define NOTE_PAYLOAD_MAX (4 + 8 + NOTE_SIG_LEN)                 /* 76 */
/* Key bytes held while parsing a key string: type || 32, with slack so
 * that "too long" is told apart from "hash mismatch" like Go does. */
#define NOTE_KEYBUF_MAX 64
#define NOTE_COSIG_HDR  "cosignature/v1\ntime "
/* "cosignature/v1\ntime " (20) + up to 20 digits + '\n' */
#define NOTE_COSIG_PREFIX_MAX (sizeof(NOTE_COSIG_HDR) - 1 + 20 + 1)
static const char note_dash[] = "\xe2\x80\x94 ";               /* "— " */
#define NOTE_DASH_LEN   4

static const char *const note_errstr[] = {
    "ok",                                 /* NOTE_OK */
    "malformed note",                     /* NOTE_ERR_MALFORMED */
    "note too large",                     /* NOTE_ERR_TOO_LARGE */
    "malformed key",                      /* NOTE_ERR_KEY */
    "key ID does not match key",          /* NOTE_ERR_KEY_HASH */
    "unknown key algorithm",              /* NOTE_ERR_KEY_ALG */
    "ambiguous key",                      /* NOTE_ERR_AMBIGUOUS */
    "invalid signature from a known key", /* NOTE_ERR_BAD_SIG */
    "note has no verifiable signatures",  /* NOTE_ERR_UNVERIFIED */
    "malformed checkpoint",               /* NOTE_ERR_CHECKPOINT */
    "output buffer too small",            /* NOTE_ERR_BUFFER */
    "invalid argument",                   /* NOTE_ERR_INVAL */
    "crypto library failure",             /* NOTE_ERR_CRYPTO */
};

const char *
note_strerror(int code)
{
    if (code > 0 || code < NOTE_ERR_CRYPTO)
        return "unknown note error";
    return note_errstr[-code];
}

/* ---- text scanning ------------------------------------------------------ */

/* Decodes one UTF-8 scalar at s[0..len) (len >= 1): returns it and sets
 * *n, or returns -1 for an invalid, overlong, surrogate or > U+10FFFF
 * sequence. */
static int32_t
note_utf8_next(const uint8_t *s, size_t len, size_t *n)
{
    uint8_t c = s[0], lo = 0x80, hi = 0xbf;
    size_t need;
    int32_t cp;

    if (c < 0x80) { *n = 1; return c; }
    if (c >= 0xc2 && c <= 0xdf) { need = 1; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) {
        need = 2; cp = c & 0x0f;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3; cp = c & 0x07;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return -1;
    }
    if (len < need + 1)
        return -1;
    for (size_t i = 1; i <= need; i++) {
        uint8_t d = s[i];
        if (d < (i == 1 ? lo : 0x80) || d > (i == 1 ? hi : 0xbf))
            return -1;
        cp = (cp << 6) | (d & 0x3f);
    }
    *n = need + 1;
    return cp;
}

/* Go's unicode.IsSpace (the White_Space property). */
static int
note_is_space(int32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 ||
           cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
           cp == 0x3000;
}

/* 1 when s[0..len) is valid UTF-8 with no code point below U+0020 other
 * than '\n' (C2SP signed-note, Go's Open). */
static int
note_scan_text(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0, n;

    while (i < len) {
        if (p[i] >= 0x20 && p[i] < 0x80) { i++; continue; }   /* fast path */
        int32_t cp = note_utf8_next(p + i, len - i, &n);
        if (cp < 0 || (cp < 0x20 && cp != '\n'))
            return 0;
        i += n;
    }
    return 1;
}

bool
note_name_valid(const char *name, size_t len)
{
    const uint8_t *p = (const uint8_t *)name;
    size_t i = 0, n;

    if (name == NULL || len == 0)
        return false;
    while (i < len) {
        int32_t cp = note_utf8_next(p + i, len - i, &n);
        if (cp < 0x20 || cp == '+' || note_is_space(cp))   /* cp < 0: bad */
            return false;
        i += n;
    }
    return true;
}

int
note_text_check(const char *text, size_t len)
{
    if (len > NOTE_MSG_MAX)
        return NOTE_ERR_TOO_LARGE;
    if (text == NULL || len == 0 || text[len - 1] != '\n' ||
        !note_scan_text(text, len))
        return NOTE_ERR_MALFORMED;
    return NOTE_OK;
}

/* ---- encodings ---------------------------------------------------------- */

/* 1 when every byte of s[0..len) is in the base64 alphabet or '='.
 * Needed because libsodium 1.0.18's sodium_base642bin decodes every byte
 * >= 0x80 as '/' (sign extension in b64_char_to_byte).  Branch-free per
 * byte, since key strings hold secrets. */
static int
note_b64_alphabet(const char *s, size_t len)
{
    unsigned bad = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)s[i];
        unsigned ok = ((c - 'A') < 26u) | ((c - 'a') < 26u) |
                      ((c - '0') < 10u) | (c == '+') | (c == '/') | (c == '=');
        bad |= ok ^ 1u;
    }
    return bad == 0;
}

/* Strict standard base64 (RFC 4648 §4: padded, canonical, nothing ignored)
 * of in[0..len).  The decoded length goes to *outlen and its first
 * min(*outlen, cap) bytes to out; longer inputs are still fully checked, in
 * chunks, so arbitrarily long (unknown-key) signatures need no allocation.
 * Returns false when in is not canonical base64. */
bool
note_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap,
                size_t *outlen)
{
    uint8_t tmp[768];
    size_t total, got, pos = 0, done = 0;

    if (len == 0 || len % 4 != 0 || !note_b64_alphabet(in, len))
        return false;
    total = len / 4 * 3 - (in[len - 1] == '=') - (in[len - 2] == '=');
    if (total <= cap) {
        if (sodium_base642bin(out, cap, in, len, NULL, &got, NULL,
                              NOTE_B64) != 0 || got != total)
            return false;
        *outlen = got;
        return true;
    }
    while (pos < len) {                /* chunks of 1024 chars = 768 bytes */
        size_t n = len - pos < 1024 ? len - pos : 1024;
        /* Only the final chunk may hold padding. */
        if (pos + n < len && memchr(in + pos, '=', n) != NULL)
            break;
        if (sodium_base642bin(tmp, sizeof(tmp), in + pos, n, NULL, &got,
                              NULL, NOTE_B64) != 0)
            break;
        if (done < cap)
            memcpy(out + done, tmp, got < cap - done ? got : cap - done);
        done += got;
        pos += n;
    }
    sodium_memzero(tmp, sizeof(tmp));   /* may be a (malformed) key string */
    *outlen = done;
    return pos == len;
}

/* Exactly 8 lowercase hex digits (C2SP: fixed-length lowercase). */
static int
note_hex32_parse(const char *s, size_t len, uint32_t *v)
{
    uint32_t x = 0;

    if (len != 8)
        return -1;
    for (size_t i = 0; i < 8; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9')      x = (x << 4) | (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') x = (x << 4) | (uint32_t)(c - 'a' + 10);
        else return -1;
    }
    *v = x;
    return 0;
}

static void
note_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);  p[3] = (uint8_t)v;
}

static uint32_t
note_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

/* Decimal without leading zeros into buf (>= 21 bytes); returns length. */
size_t
note_u64_dec(uint64_t v, char *buf)
{
    char tmp[20];
    size_t n = 0, i;

    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v != 0);
    for (i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

/* Position of the first c in s[0..len), or len. */
size_t
note_find(const char *s, size_t len, char c)
{
    const char *p = memchr(s, c, len);
    return p ? (size_t)(p - s) : len;
}

/* ---- keys --------------------------------------------------------------- */

/* Key ID over "type || key" of any length, as Go's keyHash. */
static uint32_t
note_key_id_raw(const char *name, size_t name_len, const uint8_t *key,
                size_t key_len)
{
    crypto_hash_sha256_state st;
    uint8_t h[crypto_hash_sha256_BYTES];
    const uint8_t nl = '\n';

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)name, name_len);
    crypto_hash_sha256_update(&st, &nl, 1);
    crypto_hash_sha256_update(&st, key, key_len);
    crypto_hash_sha256_final(&st, h);
    return note_get32(h);
}

uint32_t
note_key_id(const char *name, size_t name_len, uint8_t type,
            const uint8_t pk[NOTE_PK_LEN])
{
    uint8_t key[1 + NOTE_PK_LEN];

    key[0] = type;
    memcpy(key + 1, pk, NOTE_PK_LEN);
    return note_key_id_raw(name, name_len, key, sizeof(key));
}

static int
note_type_known(uint8_t type)
{
    return type == NOTE_SIGTYPE_ED25519 || type == NOTE_SIGTYPE_COSIG;
}

/* A usable key struct: bounded valid name, known type. */
static int
note_verifier_ok(const struct note_verifier *v)
{
    return v->name_len <= NOTE_NAME_MAX &&
           note_name_valid(v->name, v->name_len) && note_type_known(v->type);
}

int
note_signer_init(struct note_signer *s, const char *name, size_t name_len,
                 uint8_t type, const uint8_t seed[NOTE_SEED_LEN])
{
    if (s == NULL)
        return NOTE_ERR_INVAL;
    sodium_memzero(s, sizeof(*s));
    if (seed == NULL || !note_type_known(type) || name_len > NOTE_NAME_MAX ||
        !note_name_valid(name, name_len))
        return NOTE_ERR_INVAL;
    if (sodium_init() < 0 ||
        crypto_sign_seed_keypair(s->pub.pk, s->sk, seed) != 0) {
        sodium_memzero(s, sizeof(*s));
        return NOTE_ERR_CRYPTO;
    }
    memcpy(s->pub.name, name, name_len);
    s->pub.name[name_len] = '\0';
    s->pub.name_len = name_len;
    s->pub.type = type;
    s->pub.key_id = note_key_id(name, name_len, type, s->pub.pk);
    return NOTE_OK;
}

void
note_signer_clear(struct note_signer *s)
{
    if (s != NULL)
        sodium_memzero(s, sizeof(*s));
}

/* Splits "<name>+<hex8>+<base64>" (the base64 may itself hold '+'):
 * checks name and ID syntax, decodes the key into key[0..NOTE_KEYBUF_MAX).
 * Returns NOTE_OK or NOTE_ERR_KEY. */
static int
note_keystr_split(const char *s, size_t len, const char **name,
                  size_t *name_len, uint32_t *id, uint8_t *key,
                  size_t *key_len)
{
    size_t n = note_find(s, len, '+'), h;

    if (n == len || n > NOTE_NAME_MAX || !note_name_valid(s, n))
        return NOTE_ERR_KEY;
    h = note_find(s + n + 1, len - n - 1, '+');
    if (h == len - n - 1 || note_hex32_parse(s + n + 1, h, id) != 0)
        return NOTE_ERR_KEY;
    if (!note_b64_decode(s + n + 2 + h, len - n - 2 - h, key, NOTE_KEYBUF_MAX,
                         key_len) || *key_len == 0 ||
        *key_len > NOTE_KEYBUF_MAX)
        return NOTE_ERR_KEY;
    *name = s;
    *name_len = n;
    return NOTE_OK;
}

int
note_vkey_parse(const char *vkey, size_t len, struct note_verifier *v)
{
    uint8_t key[NOTE_KEYBUF_MAX];
    const char *name;
    size_t name_len, key_len;
    uint32_t id;
    int rc;

    if (v == NULL || vkey == NULL)
        return NOTE_ERR_INVAL;
    memset(v, 0, sizeof(*v));
    if (len > NOTE_VKEY_MAX)
        return NOTE_ERR_KEY;
    rc = note_keystr_split(vkey, len, &name, &name_len, &id, key, &key_len);
    if (rc != NOTE_OK)
        return rc;
    if (note_key_id_raw(name, name_len, key, key_len) != id)
        return NOTE_ERR_KEY_HASH;
    if (!note_type_known(key[0]))
        return NOTE_ERR_KEY_ALG;
    if (key_len != 1 + NOTE_PK_LEN)
        return NOTE_ERR_KEY;
    memcpy(v->name, name, name_len);
    v->name[name_len] = '\0';
    v->name_len = name_len;
    v->key_id = id;
    v->type = key[0];
    memcpy(v->pk, key + 1, NOTE_PK_LEN);
    return NOTE_OK;
}

/* "<name>+<hex8>+base64(type || bytes32)" into out. */
static int
note_keystr_format(const char *prefix, const struct note_verifier *v,
                   const uint8_t bytes[32], char *out, size_t cap,
                   size_t *outlen)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t raw[1 + 32];
    size_t plen = strlen(prefix), n;

    n = plen + v->name_len + 1 + 8 + 1 + NOTE_KEY_B64_LEN;
    if (out == NULL || cap < n + 1)
        return NOTE_ERR_BUFFER;
    memcpy(out, prefix, plen);
    memcpy(out + plen, v->name, v->name_len);
    n = plen + v->name_len;
    out[n++] = '+';
    for (int i = 7; i >= 0; i--)
        out[n++] = hex[(v->key_id >> (4 * i)) & 0xf];
    out[n++] = '+';
    raw[0] = v->type;
    memcpy(raw + 1, bytes, 32);
    sodium_bin2base64(out + n, cap - n, raw, sizeof(raw), NOTE_B64);
    sodium_memzero(raw, sizeof(raw));
    *outlen = n + NOTE_KEY_B64_LEN;
    return NOTE_OK;
}

int
note_vkey_format(const struct note_verifier *v, char *out, size_t cap,
                 size_t *outlen)
{
    if (v == NULL || outlen == NULL || !note_verifier_ok(v))
        return NOTE_ERR_INVAL;
    return note_keystr_format("", v, v->pk, out, cap, outlen);
}

int
note_skey_format(const struct note_signer *s, char *out, size_t cap,
                 size_t *outlen)
{
    uint8_t seed[NOTE_SEED_LEN];
    int rc;

    if (s == NULL || outlen == NULL || !note_verifier_ok(&s->pub))
        return NOTE_ERR_INVAL;
    crypto_sign_ed25519_sk_to_seed(seed, s->sk);
    rc = note_keystr_format("PRIVATE+KEY+", &s->pub, seed, out, cap, outlen);
    sodium_memzero(seed, sizeof(seed));
    return rc;
}

static int
note_skey_parse_inner(const char *skey, size_t len, struct note_signer *s,
                      uint8_t key[NOTE_KEYBUF_MAX])
{
    const char *name;
    size_t name_len, key_len;
    uint32_t id;
    int rc;

    if (len > NOTE_SKEY_MAX || len < 12 || memcmp(skey, "PRIVATE+KEY+", 12))
        return NOTE_ERR_KEY;
    rc = note_keystr_split(skey + 12, len - 12, &name, &name_len, &id, key,
                           &key_len);
    if (rc != NOTE_OK)
        return rc;
    if (!note_type_known(key[0]))
        return NOTE_ERR_KEY_ALG;
    if (key_len != 1 + NOTE_SEED_LEN)
        return NOTE_ERR_KEY;
    rc = note_signer_init(s, name, name_len, key[0], key + 1);
    if (rc != NOTE_OK)
        return rc == NOTE_ERR_INVAL ? NOTE_ERR_KEY : rc;
    if (s->pub.key_id != id)
        return NOTE_ERR_KEY_HASH;
    return NOTE_OK;
}

int
note_skey_parse(const char *skey, size_t len, struct note_signer *s)
{
    uint8_t key[NOTE_KEYBUF_MAX];
    int rc;

    if (s == NULL || skey == NULL)
        return NOTE_ERR_INVAL;
    sodium_memzero(s, sizeof(*s));
    rc = note_skey_parse_inner(skey, len, s, key);
    sodium_memzero(key, sizeof(key));
    if (rc != NOTE_OK)
        sodium_memzero(s, sizeof(*s));
    return rc;
}

/* ---- signing ------------------------------------------------------------ */

/* "— <name> base64(payload)\n" into out; returns NOTE_OK or BUFFER. */
static int
note_line_put(const struct note_verifier *v, const uint8_t *payload,
              size_t plen, char *out, size_t cap, size_t *outlen)
{
    size_t b64 = sodium_base64_ENCODED_LEN(plen, NOTE_B64) - 1;
    size_t n = NOTE_DASH_LEN + v->name_len + 1 + b64 + 1;

    if (out == NULL || cap < n + 1)
        return NOTE_ERR_BUFFER;
    memcpy(out, note_dash, NOTE_DASH_LEN);
    memcpy(out + NOTE_DASH_LEN, v->name, v->name_len);
    out[NOTE_DASH_LEN + v->name_len] = ' ';
    sodium_bin2base64(out + NOTE_DASH_LEN + v->name_len + 1, b64 + 1,
                      payload, plen, NOTE_B64);
    out[n - 1] = '\n';
    out[n] = '\0';
    *outlen = n;
    return NOTE_OK;
}

int
note_sign_line(const struct note_signer *s, const char *text, size_t len,
               char *out, size_t cap, size_t *outlen)
{
    uint8_t payload[4 + NOTE_SIG_LEN];
    int rc;

    if (s == NULL || outlen == NULL || !note_verifier_ok(&s->pub) ||
        s->pub.type != NOTE_SIGTYPE_ED25519)
        return NOTE_ERR_INVAL;
    if ((rc = note_text_check(text, len)) != NOTE_OK)
        return rc;
    note_put32(payload, s->pub.key_id);
    if (crypto_sign_detached(payload + 4, NULL, (const uint8_t *)text, len,
                             s->sk) != 0)
        return NOTE_ERR_CRYPTO;
    return note_line_put(&s->pub, payload, sizeof(payload), out, cap, outlen);
}

/* The cosignature/v1 message for one text and several times: the text is
 * copied once to buf + NOTE_COSIG_PREFIX_MAX and each time's header is
 * written just before it. */
struct note_cosig_ctx {
    char       *buf;    /* owned: malloc'd on first use, freed by the user */
    const char *text;   /* borrowed */
    size_t      len;
};

/* Points *msg at "cosignature/v1\ntime <t>\n" || text.  NOTE_OK or
 * NOTE_ERR_CRYPTO (malloc failure). */
static int
note_cosig_msg(struct note_cosig_ctx *cc, uint64_t t, const uint8_t **msg,
               size_t *mlen)
{
    char dec[21], *end, *p;
    size_t n = note_u64_dec(t, dec), h = sizeof(NOTE_COSIG_HDR) - 1;

    if (cc->buf == NULL) {
        cc->buf = malloc(NOTE_COSIG_PREFIX_MAX + cc->len);
        if (cc->buf == NULL)
            return NOTE_ERR_CRYPTO;
        memcpy(cc->buf + NOTE_COSIG_PREFIX_MAX, cc->text, cc->len);
    }
    end = cc->buf + NOTE_COSIG_PREFIX_MAX;
    p = end - (h + n + 1);
    memcpy(p, NOTE_COSIG_HDR, h);
    memcpy(p + h, dec, n);
    p[h + n] = '\n';
    *msg = (const uint8_t *)p;
    *mlen = h + n + 1 + cc->len;
    return NOTE_OK;
}

int
note_cosign_line(const struct note_signer *s, uint64_t timestamp,
                 const char *text, size_t len,
                 char *out, size_t cap, size_t *outlen)
{
    uint8_t payload[NOTE_PAYLOAD_MAX];
    struct note_cosig_ctx cc = { NULL, text, len };
    struct note_checkpoint cp;
    const uint8_t *msg;
    size_t mlen;
    int rc;

    if (s == NULL || outlen == NULL || !note_verifier_ok(&s->pub) ||
        s->pub.type != NOTE_SIGTYPE_COSIG || timestamp > NOTE_COSIG_TIME_MAX)
        return NOTE_ERR_INVAL;
    if ((rc = note_checkpoint_parse(text, len, &cp)) != NOTE_OK)
        return rc;
    if ((rc = note_cosig_msg(&cc, timestamp, &msg, &mlen)) != NOTE_OK)
        return rc;
    note_put32(payload, s->pub.key_id);
    note_put32(payload + 4, (uint32_t)(timestamp >> 32));
    note_put32(payload + 8, (uint32_t)timestamp);
    rc = crypto_sign_detached(payload + 12, NULL, msg, mlen, s->sk);
    free(cc.buf);
    if (rc != 0)
        return NOTE_ERR_CRYPTO;
    return note_line_put(&s->pub, payload, sizeof(payload), out, cap, outlen);
}

int
note_sign(const char *text, size_t len,
          const struct note_signer *const *signers, size_t nsigners,
          char *out, size_t cap, size_t *outlen)
{
    size_t need, n, ln;
    int rc;

    if (outlen == NULL || (signers == NULL && nsigners > 0) || nsigners == 0)
        return NOTE_ERR_INVAL;
    if ((rc = note_text_check(text, len)) != NOTE_OK)
        return rc;
    need = len + 1;
    for (size_t i = 0; i < nsigners; i++) {
        if (signers[i] == NULL || signers[i]->pub.name_len > NOTE_NAME_MAX)
            return NOTE_ERR_INVAL;
        need += NOTE_DASH_LEN + signers[i]->pub.name_len + 1 +
                NOTE_SIG_B64_LEN + 1;
    }
    if (need > NOTE_MSG_MAX)
        return NOTE_ERR_TOO_LARGE;
    if (out == NULL || cap < need + 1)
        return NOTE_ERR_BUFFER;
    memcpy(out, text, len);
    out[len] = '\n';
    n = len + 1;
    for (size_t i = 0; i < nsigners; i++) {
        rc = note_sign_line(signers[i], text, len, out + n, cap - n, &ln);
        if (rc != NOTE_OK)
            return rc;
        n += ln;
    }
    *outlen = n;
    return NOTE_OK;
}

/* ---- opening ------------------------------------------------------------ */

/* One parsed signature line. */
struct note_sigline {
    const char *name;
    size_t      name_len;
    uint32_t    key_id;
    uint8_t     payload[NOTE_PAYLOAD_MAX];  /* first bytes after the ID */
    size_t      plen;                       /* full length after the ID */
};

/* Parses "— <name> <base64>" (line without its '\n') like Go's Open. */
static int
note_sigline_parse(const char *line, size_t len, struct note_sigline *sl)
{
    uint8_t raw[4 + NOTE_PAYLOAD_MAX];
    size_t n, rawlen;

    if (len < NOTE_DASH_LEN || memcmp(line, note_dash, NOTE_DASH_LEN) != 0)
        return NOTE_ERR_MALFORMED;
    line += NOTE_DASH_LEN;
    len -= NOTE_DASH_LEN;
    n = note_find(line, len, ' ');
    if (n == len || !note_name_valid(line, n))
        return NOTE_ERR_MALFORMED;
    if (!note_b64_decode(line + n + 1, len - n - 1, raw, sizeof(raw), &rawlen) ||
        rawlen < 5)
        return NOTE_ERR_MALFORMED;
    sl->name = line;
    sl->name_len = n;
    sl->key_id = note_get32(raw);
    sl->plen = rawlen - 4;
    memcpy(sl->payload, raw + 4,
           sl->plen < NOTE_PAYLOAD_MAX ? sl->plen : NOTE_PAYLOAD_MAX);
    return NOTE_OK;
}

/* Index of the one verifier matching (name, id), -1 if none, or
 * NOTE_ERR_AMBIGUOUS (< -1) if several do. */
static long
note_verifier_find(const struct note_verifier *vs, size_t nvs,
                   const struct note_sigline *sl)
{
    long found = -1;

    for (size_t i = 0; i < nvs; i++) {
        if (vs[i].key_id != sl->key_id || vs[i].name_len != sl->name_len ||
            memcmp(vs[i].name, sl->name, sl->name_len) != 0)
            continue;
        if (found >= 0)
            return NOTE_ERR_AMBIGUOUS;
        found = (long)i;
    }
    return found;
}

static int
note_cosig_verify(struct note_cosig_ctx *cc, const struct note_verifier *v,
                  const struct note_sigline *sl, uint64_t *ts)
{
    const uint8_t *msg;
    size_t mlen;
    uint64_t t;
    int rc;

    if (sl->plen != 8 + NOTE_SIG_LEN)
        return NOTE_ERR_BAD_SIG;
    t = (uint64_t)note_get32(sl->payload) << 32 | note_get32(sl->payload + 4);
    if (t > NOTE_COSIG_TIME_MAX)
        return NOTE_ERR_BAD_SIG;
    if ((rc = note_cosig_msg(cc, t, &msg, &mlen)) != NOTE_OK)
        return rc;
    if (crypto_sign_verify_detached(sl->payload + 8, msg, mlen, v->pk) != 0)
        return NOTE_ERR_BAD_SIG;
    *ts = t;
    return NOTE_OK;
}

static int
note_sig_verify(struct note_cosig_ctx *cc, const struct note_verifier *v,
                const struct note_sigline *sl, uint64_t *ts)
{
    *ts = 0;
    if (v->type == NOTE_SIGTYPE_COSIG)
        return note_cosig_verify(cc, v, sl, ts);
    if (v->type != NOTE_SIGTYPE_ED25519 || sl->plen != NOTE_SIG_LEN ||
        crypto_sign_verify_detached(sl->payload, (const uint8_t *)cc->text,
                                    cc->len, v->pk) != 0)
        return NOTE_ERR_BAD_SIG;
    return NOTE_OK;
}

/* Walks the signature block sigs[0..len) (ends with '\n'). */
static int
note_open_sigs(const char *sigs, size_t len, const struct note_verifier *vs,
               size_t nvs, struct note_sigresult *res, struct note_opened *out,
               struct note_cosig_ctx *cc)
{
    struct note_sigline sl;
    size_t pos = 0;

    while (pos < len) {
        size_t n = note_find(sigs + pos, len - pos, '\n');
        uint64_t ts;
        long idx;
        int rc;

        if (note_sigline_parse(sigs + pos, n, &sl) != NOTE_OK ||
            ++out->nsigs > NOTE_SIGS_MAX)
            return NOTE_ERR_MALFORMED;
        pos += n + 1;
        idx = note_verifier_find(vs, nvs, &sl);
        if (idx == -1) {
            out->nunknown++;
            continue;
        }
        if (idx < 0)
            return (int)idx;
        if ((rc = note_sig_verify(cc, &vs[idx], &sl, &ts)) != NOTE_OK)
            return rc;
        if (!res[idx].verified) {
            res[idx].verified = 1;
            res[idx].timestamp = ts;
            out->nverified++;
        }
    }
    return out->nverified > 0 ? NOTE_OK : NOTE_ERR_UNVERIFIED;
}

int
note_open(const char *msg, size_t len, const struct note_verifier *vs,
          size_t nvs, struct note_sigresult *res, struct note_opened *out)
{
    struct note_cosig_ctx cc = { NULL, msg, 0 };
    size_t split;
    int rc;

    if (out == NULL || (nvs > 0 && (vs == NULL || res == NULL)) ||
        (msg == NULL && len > 0))
        return NOTE_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    if (nvs > 0)
        memset(res, 0, nvs * sizeof(*res));
    for (size_t i = 0; i < nvs; i++)
        if (!note_verifier_ok(&vs[i]))
            return NOTE_ERR_INVAL;
    if (len > NOTE_MSG_MAX)
        return NOTE_ERR_TOO_LARGE;
    if (!note_scan_text(msg, len))
        return NOTE_ERR_MALFORMED;
    /* The text ends at the last blank line: find the last "\n\n". */
    for (split = len; split >= 2; split--)
        if (msg[split - 2] == '\n' && msg[split - 1] == '\n')
            break;
    if (split < 2 || split == len || msg[len - 1] != '\n')
        return NOTE_ERR_MALFORMED;
    /* msg[split-2..split) is "\n\n": the text keeps the first '\n'. */
    out->text = msg;
    out->text_len = cc.len = split - 1;
    if (sodium_init() < 0)
        return NOTE_ERR_CRYPTO;
    rc = note_open_sigs(msg + split, len - split, vs, nvs, res, out, &cc);
    free(cc.buf);
    return rc;
}
