/*
 * aud_keys.c - hitlq-audit's trust anchors and checkpoint opening: the
 * vkeys given with --vkey / --vkey-file (the only keys trusted), and the
 * check of a signed checkpoint against them (C2SP signed-note rules plus
 * proto/AUDIT-FORMAT.md §6.4: a trusted Ed25519 log key named like the origin signs).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aud.h"

enum aud_class
aud_keys_add(struct aud_keys *k, const char *vkey, size_t len,
             struct aud_result *r)
{
    int rc;

    if (k->n == AUD_KEYS_MAX)
        return aud_fail(r, AUD_USAGE, "more than %u trusted keys", AUD_KEYS_MAX);
    if ((rc = note_vkey_parse(vkey, len, &k->v[k->n])) != NOTE_OK)
        return aud_fail(r, AUD_USAGE, "bad vkey \"%.*s\": %s",
                        (int)(len > 200 ? 200 : len), vkey, note_strerror(rc));
    k->n++;
    return AUD_OK;
}

enum aud_class
aud_keys_load(struct aud_keys *k, const char *path, struct aud_result *r)
{
    struct aud_buf b = { 0 };
    enum aud_class cls = AUD_OK;
    size_t pos = 0;
    int err;

    if ((err = aud_file_read(path, &b, 1u << 20)) != 0)
        return aud_fail(r, AUD_USAGE, "cannot read vkey file %s: %s", path,
                        strerror(err));
    while (cls == AUD_OK && pos < b.len) {
        const char *line = (const char *)b.p + pos;
        const char *nl = memchr(line, '\n', b.len - pos);
        size_t n = nl ? (size_t)(nl - line) : b.len - pos;

        pos += n + 1;
        while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
            n--;
        while (n > 0 && *line == ' ') {
            line++;
            n--;
        }
        if (n > 0 && line[0] != '#')
            cls = aud_keys_add(k, line, n, r);
    }
    aud_buf_clear(&b);
    if (cls == AUD_OK && k->n == 0)
        return aud_fail(r, AUD_USAGE, "no vkey in %s", path);
    return cls;
}

/* After a verified note_open: a trusted type-0x01 key named like the
 * origin must be among the verified ones. */
static bool
aud_origin_signed(const struct aud_keys *k, const struct note_sigresult *res,
                  const struct note_checkpoint *cp)
{
    for (size_t i = 0; i < k->n; i++)
        if (res[i].verified && k->v[i].type == NOTE_SIGTYPE_ED25519 &&
            k->v[i].name_len == cp->origin_len &&
            memcmp(k->v[i].name, cp->origin, cp->origin_len) == 0)
            return true;
    return false;
}

/* note_open with the trusted keys, classifying its errors. */
static enum aud_class
aud_note_verify(const char *note, size_t len, const struct aud_keys *k,
                struct note_sigresult *res, struct note_opened *op,
                const char *what, struct aud_result *r)
{
    int rc = note_open(note, len, k->v, k->n, k->n ? res : NULL, op);

    switch (rc) {
    case NOTE_OK:
        return AUD_OK;
    case NOTE_ERR_UNVERIFIED:
        if (k->n == 0)
            return AUD_OK;           /* parsed; nothing to verify with */
        return aud_fail(r, AUD_UNKNOWN_KEY, "%s: no trusted key signed it "
                        "(%zu signature lines, all by unknown keys)", what, op->nsigs);
    case NOTE_ERR_BAD_SIG:
        return aud_fail(r, AUD_BAD_SIGNATURE, "%s: a signature by a trusted key "
                        "does not verify over the note text", what);
    case NOTE_ERR_AMBIGUOUS:
        return aud_fail(r, AUD_USAGE, "%s: two trusted keys share a name and "
                        "key ID", what);
    default:
        return aud_fail(r, AUD_BAD_SIGNATURE, "%s: not a well-formed signed "
                        "note: %s", what, note_strerror(rc));
    }
}

enum aud_class
aud_checkpoint_open(struct aud_checkpoint *c, char *note, size_t len,
                    const struct aud_keys *k, const char *what,
                    struct aud_result *r)
{
    struct note_sigresult res[AUD_KEYS_MAX];
    struct note_opened op;
    enum aud_class cls;
    int rc;

    memset(c, 0, sizeof(*c));
    c->note = note;
    c->note_len = len;
    if ((cls = aud_note_verify(note, len, k, res, &op, what, r)) != AUD_OK)
        return cls;
    if ((rc = note_checkpoint_parse(op.text, op.text_len, &c->cp)) != NOTE_OK)
        return aud_fail(r, AUD_BAD_SIGNATURE, "%s: signed text is not a "
                        "checkpoint: %s", what, note_strerror(rc));
    if (c->cp.size > MERKLE_MAX_SIZE)
        return aud_fail(r, AUD_BAD_SIGNATURE, "%s: tree size %llu above 2^63-1",
                        what, (unsigned long long)c->cp.size);
    if (k->n > 0 && !aud_origin_signed(k, res, &c->cp))
        return aud_fail(r, AUD_UNKNOWN_KEY, "%s: origin \"%.*s\" is not signed "
                        "by a trusted Ed25519 log key of that name", what,
                        (int)(c->cp.origin_len > 200 ? 200 : c->cp.origin_len),
                        c->cp.origin);
    c->sig_checked = k->n > 0;
    return AUD_OK;
}

enum aud_class
aud_checkpoint_load(struct aud_checkpoint *c, const char *path,
                    const struct aud_keys *k, struct aud_result *r)
{
    struct aud_buf b = { 0 };
    int err;

    memset(c, 0, sizeof(*c));
    if ((err = aud_file_read(path, &b, NOTE_MSG_MAX)) != 0) {
        aud_buf_clear(&b);
        return aud_fail(r, AUD_IO, "cannot read %s: %s", path, strerror(err));
    }
    return aud_checkpoint_open(c, (char *)b.p, b.len, k, path, r);
}

void
aud_checkpoint_clear(struct aud_checkpoint *c)
{
    free(c->note);
    memset(c, 0, sizeof(*c));
}
