/*
 * proof.c - C2SP tlog-proof@v1 text codec (proof.h): format an inclusion
 * receipt around a signed checkpoint, and parse one strictly.  No I/O, no
 * crypto beyond base64, no allocation; the note inside is borrowed.
 */
#include <string.h>

#include <sodium.h>

#include "note_int.h"
#include "proof.h"

#define PROOF_HEADER_LEN (sizeof(PROOF_HEADER) - 1)

const char *
proof_strerror(int code)
{
    switch (code) {
    case PROOF_OK:             return "ok";
    case PROOF_ERR_INVAL:      return "invalid argument";
    case PROOF_ERR_BUFFER:     return "output buffer too small";
    case PROOF_ERR_TOO_LARGE:  return "proof text too large";
    case PROOF_ERR_HEADER:     return "first line is not c2sp.org/tlog-proof@v1";
    case PROOF_ERR_EXTRA:      return "malformed extra line";
    case PROOF_ERR_INDEX:      return "missing or malformed index line";
    case PROOF_ERR_HASH:       return "malformed proof hash line";
    case PROOF_ERR_TOO_MANY:   return "too many proof hashes";
    case PROOF_ERR_NOTE:       return "missing blank line or checkpoint";
    default:                   return "unknown proof error";
    }
}

int
tlog_proof_format(uint64_t index, const uint8_t (*hashes)[32], size_t n,
                  const char *note, size_t note_len,
                  char *out, size_t cap, size_t *outlen)
{
    char dec[21];
    size_t dlen, need, pos;

    if (outlen == NULL || note == NULL || note_len == 0 ||
        note_len > NOTE_MSG_MAX || n > PROOF_MAX_HASHES ||
        (n > 0 && hashes == NULL))
        return PROOF_ERR_INVAL;
    dlen = note_u64_dec(index, dec);
    need = PROOF_HEADER_LEN + 1 + 6 + dlen + 1 + n * (PROOF_HASH_B64 + 1) +
           1 + note_len;
    if (out == NULL || cap < need + 1)
        return PROOF_ERR_BUFFER;
    memcpy(out, PROOF_HEADER "\nindex ", PROOF_HEADER_LEN + 7);
    pos = PROOF_HEADER_LEN + 7;
    memcpy(out + pos, dec, dlen);
    pos += dlen;
    out[pos++] = '\n';
    for (size_t i = 0; i < n; i++) {
        sodium_bin2base64(out + pos, cap - pos, hashes[i], 32, NOTE_B64);
        pos += PROOF_HASH_B64;
        out[pos++] = '\n';
    }
    out[pos++] = '\n';
    memcpy(out + pos, note, note_len);
    pos += note_len;
    out[pos] = '\0';
    *outlen = pos;
    return PROOF_OK;
}

/* Length of the line at s[0..len) without its '\n'; *next gets the offset
 * after the '\n'.  Returns -1 when there is no '\n'. */
static int
proof_line(const char *s, size_t len, size_t *linelen, size_t *next)
{
    size_t n = note_find(s, len, '\n');

    if (n >= len)
        return -1;
    *linelen = n;
    *next = n + 1;
    return 0;
}

/* The optional "extra <b64>" line: canonical base64, any length >= 1
 * byte; decoded in chunks by note_b64_decode and discarded. */
static bool
proof_extra_valid(const char *s, size_t len)
{
    uint8_t sink[1];
    size_t got;

    return note_b64_decode(s, len, sink, sizeof(sink), &got);
}

/* Header, optional extra and index lines; *pos advances past them. */
static int
proof_parse_head(const char *text, size_t len, size_t *pos, uint64_t *index)
{
    size_t ll, next;

    if (proof_line(text, len, &ll, &next) != 0 || ll != PROOF_HEADER_LEN ||
        memcmp(text, PROOF_HEADER, PROOF_HEADER_LEN) != 0)
        return PROOF_ERR_HEADER;
    *pos = next;
    if (proof_line(text + *pos, len - *pos, &ll, &next) != 0)
        return PROOF_ERR_INDEX;
    if (ll >= 6 && memcmp(text + *pos, "extra ", 6) == 0) {
        if (!proof_extra_valid(text + *pos + 6, ll - 6))
            return PROOF_ERR_EXTRA;
        *pos += next;
        if (proof_line(text + *pos, len - *pos, &ll, &next) != 0)
            return PROOF_ERR_INDEX;
    }
    if (ll < 6 || memcmp(text + *pos, "index ", 6) != 0 ||
        !note_u64_parse(text + *pos + 6, ll - 6, index))
        return PROOF_ERR_INDEX;
    *pos += next;
    return PROOF_OK;
}

/* Hash lines up to and including the blank line. */
static int
proof_parse_hashes(const char *text, size_t len, size_t *pos,
                   struct tlog_proof *out)
{
    size_t ll, next, got;

    for (;;) {
        if (proof_line(text + *pos, len - *pos, &ll, &next) != 0)
            return PROOF_ERR_NOTE;
        if (ll == 0)
            break;
        if (out->n == PROOF_MAX_HASHES)
            return PROOF_ERR_TOO_MANY;
        if (ll != PROOF_HASH_B64 ||
            !note_b64_decode(text + *pos, ll, out->hashes[out->n], 32, &got) ||
            got != 32)
            return PROOF_ERR_HASH;
        out->n++;
        *pos += next;
    }
    *pos += next;
    return PROOF_OK;
}

int
tlog_proof_parse(const char *text, size_t len, struct tlog_proof *out)
{
    size_t pos = 0;
    int rc;

    if (out == NULL)
        return PROOF_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    if (text == NULL)
        return PROOF_ERR_INVAL;
    if (len > PROOF_TEXT_MAX)
        return PROOF_ERR_TOO_LARGE;
    if ((rc = proof_parse_head(text, len, &pos, &out->index)) == PROOF_OK &&
        (rc = proof_parse_hashes(text, len, &pos, out)) == PROOF_OK &&
        pos == len)
        rc = PROOF_ERR_NOTE;
    if (rc != PROOF_OK) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    out->note = text + pos;
    out->note_len = len - pos;
    return PROOF_OK;
}
