/*
 * aud_state.c - hitlq-audit's --state file (proto/AUDIT-FORMAT.md §11 C): the last
 * checkpoint this auditor verified, kept as the signed note verbatim.  A
 * new checkpoint must not be smaller (ROLLBACK) nor of the same size with
 * another root (FORK); the prefix check against the entries is in
 * aud_verify.c.  Saved atomically: tmp file, fsync, rename, fsync dir.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "aud.h"

enum aud_class
aud_state_load(const char *path, const struct aud_keys *k,
               struct aud_checkpoint *old, struct aud_result *r)
{
    struct aud_buf b = { 0 };
    char what[AUD_PATH_MAX + 16];
    int err;

    memset(old, 0, sizeof(*old));
    err = aud_file_read(path, &b, NOTE_MSG_MAX);
    if (err == ENOENT) {
        aud_buf_clear(&b);
        return AUD_OK;                   /* first run: nothing verified yet */
    }
    if (err != 0) {
        aud_buf_clear(&b);
        return aud_fail(r, AUD_IO, "cannot read state file %s: %s", path,
                        strerror(err));
    }
    snprintf(what, sizeof(what), "state file %s", path);
    return aud_checkpoint_open(old, (char *)b.p, b.len, k, what, r);
}

enum aud_class
aud_state_compare(const struct aud_checkpoint *old,
                  const struct aud_checkpoint *cur, struct aud_result *r)
{
    const struct note_checkpoint *o = &old->cp, *c = &cur->cp;
    char a[45], b[45];

    if (o->origin_len != c->origin_len ||
        memcmp(o->origin, c->origin, o->origin_len) != 0)
        return aud_fail(r, AUD_USAGE, "the state file is for log \"%.*s\", the "
                        "checkpoint for \"%.*s\"", (int)o->origin_len, o->origin,
                        (int)c->origin_len, c->origin);
    if (c->size < o->size)
        return aud_fail(r, AUD_ROLLBACK, "checkpoint size %llu (root %s) is "
                        "below the previously verified size %llu (root %s): "
                        "the log was rolled back or truncated",
                        (unsigned long long)c->size, aud_b64(c->root, a),
                        (unsigned long long)o->size, aud_b64(o->root, b));
    if (c->size == o->size && memcmp(c->root, o->root, 32) != 0)
        return aud_fail(r, AUD_FORK, "two signed checkpoints of size %llu with "
                        "different roots: %s (verified before) and %s (now)",
                        (unsigned long long)c->size, aud_b64(o->root, a),
                        aud_b64(c->root, b));
    return AUD_OK;
}

enum aud_class
aud_state_save(const char *path, const struct aud_checkpoint *cur,
               struct aud_result *r)
{
    int err = aud_file_write(path, cur->note, cur->note_len, true);

    if (err != 0)
        return aud_fail(r, AUD_IO, "cannot write state file %s: %s", path,
                        strerror(err));
    return AUD_OK;
}
