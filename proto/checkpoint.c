/*
 * checkpoint.c - C2SP tlog-checkpoint note bodies: "origin\nsize\nbase64(root)\n"
 * plus optional extension lines; strict format and parse (no leading zeros,
 * canonical base64 of exactly 32 bytes).  Signing and verifying the note
 * around it is proto/note.c.
 */
#include <stdint.h>
#include <string.h>

#include "note.h"
#include "note_int.h"

int
note_checkpoint_format(const char *origin, size_t origin_len, uint64_t size,
                       const uint8_t root[NOTE_ROOT_LEN],
                       char *out, size_t cap, size_t *outlen)
{
    char dec[21];
    size_t n, dlen;

    if (outlen == NULL || root == NULL || origin_len > NOTE_NAME_MAX ||
        !note_name_valid(origin, origin_len))
        return NOTE_ERR_INVAL;
    dlen = note_u64_dec(size, dec);
    if (out == NULL || cap < origin_len + 1 + dlen + 1 + 44 + 1 + 1)
        return NOTE_ERR_BUFFER;
    memcpy(out, origin, origin_len);
    n = origin_len;
    out[n++] = '\n';
    memcpy(out + n, dec, dlen);
    n += dlen;
    out[n++] = '\n';
    sodium_bin2base64(out + n, cap - n, root, NOTE_ROOT_LEN, NOTE_B64);
    n += 44;
    out[n++] = '\n';
    out[n] = '\0';
    *outlen = n;
    return NOTE_OK;
}

/* "0" or [1-9][0-9]* fitting in uint64 (also proof.c's index line). */
bool
note_u64_parse(const char *s, size_t len, uint64_t *v)
{
    uint64_t x = 0;

    if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return false;
        x = x * 10 + d;
    }
    *v = x;
    return true;
}

/* note_checkpoint_parse without the argument check and final wipe. */
static int
note_checkpoint_lines(const char *text, size_t len, struct note_checkpoint *cp)
{
    size_t a, b, c, pos, rlen;
    int rc;

    if ((rc = note_text_check(text, len)) != NOTE_OK)
        return rc == NOTE_ERR_TOO_LARGE ? rc : NOTE_ERR_CHECKPOINT;
    a = note_find(text, len, '\n');                 /* origin line */
    if (a == 0 || a == len)
        return NOTE_ERR_CHECKPOINT;
    b = a + 1 + note_find(text + a + 1, len - a - 1, '\n');
    if (b >= len || !note_u64_parse(text + a + 1, b - a - 1, &cp->size))
        return NOTE_ERR_CHECKPOINT;
    c = b + 1 + note_find(text + b + 1, len - b - 1, '\n');
    if (c >= len || c - b - 1 != 44 ||
        !note_b64_decode(text + b + 1, 44, cp->root, NOTE_ROOT_LEN, &rlen) ||
        rlen != NOTE_ROOT_LEN)
        return NOTE_ERR_CHECKPOINT;
    for (pos = c + 1; pos < len; cp->ext_lines++) { /* extension lines */
        size_t n = note_find(text + pos, len - pos, '\n');
        if (n == 0)
            return NOTE_ERR_CHECKPOINT;
        pos += n + 1;
    }
    cp->origin = text;
    cp->origin_len = a;
    if (cp->ext_lines > 0) {
        cp->ext = text + c + 1;
        cp->ext_len = len - c - 1;
    }
    return NOTE_OK;
}

int
note_checkpoint_parse(const char *text, size_t len, struct note_checkpoint *cp)
{
    int rc;

    if (cp == NULL)
        return NOTE_ERR_INVAL;
    memset(cp, 0, sizeof(*cp));
    if ((rc = note_checkpoint_lines(text, len, cp)) != NOTE_OK)
        memset(cp, 0, sizeof(*cp));
    return rc;
}
