/*
 * aud_consistency.c - `hitlq-audit consistency`: are two signed
 * checkpoints of one log views of the same append-only history (proto/AUDIT-FORMAT.md
 * §11 C)?  Both signatures must verify with the trusted keys; then a
 * smaller new size is ROLLBACK, equal sizes must have equal roots, and
 * otherwise the RFC 9162 consistency proof (from the server, or base64
 * lines in a file) must verify.  Any disagreement is a FORK: the two
 * signed notes are the evidence, and both are printed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "aud.h"
#include "hitlq.h"

/* "size N, root B64 (FILE)" */
#define AUD_CP_FMT "size %llu, root %s (%s)"

/* One hash per line, at most MERKLE_MAX_PROOF; blank lines ignored. */
static enum aud_class
aud_consistency_file(const char *path, uint8_t proof[MERKLE_MAX_PROOF][32],
                     size_t *n, struct aud_result *r)
{
    struct aud_buf b = { 0 };
    size_t pos = 0;
    int err;

    *n = 0;
    if ((err = aud_file_read(path, &b, 1u << 16)) != 0)
        return aud_fail(r, AUD_IO, "cannot read %s: %s", path, strerror(err));
    while (pos < b.len) {
        const char *line = (const char *)b.p + pos;
        const char *nl = memchr(line, '\n', b.len - pos);
        size_t len = nl ? (size_t)(nl - line) : b.len - pos;

        pos += len + 1;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len == 0)
            continue;
        if (*n == MERKLE_MAX_PROOF || aud_b64_hash_parse(line, len, proof[*n]) != 0) {
            aud_buf_clear(&b);
            return aud_fail(r, AUD_BAD_PROOF, "%s: line %zu is not a base64 "
                            "SHA-256 hash, or more than %u lines", path, *n + 1,
                            MERKLE_MAX_PROOF);
        }
        (*n)++;
    }
    aud_buf_clear(&b);
    return AUD_OK;
}

static enum aud_class
aud_consistency_server(const struct aud_server *srv, uint64_t n1, uint64_t n2,
                       uint8_t proof[MERKLE_MAX_PROOF][32], size_t *n,
                       struct aud_result *r)
{
    enum aud_class cls;
    uint64_t got2 = 0;
    hitlq *c;
    int rc;

    if ((cls = aud_server_connect(srv, &c, r)) != AUD_OK)
        return cls;
    rc = hitlq_audit_consistency(c, n1, n2, proof, n, &got2);
    if (rc != HITLQ_OK)
        cls = aud_server_error(c, "AUDIT_CONSISTENCY", rc, r);
    hitlq_free(c);
    return cls;
}

/* Sizes and roots alone: ROLLBACK, FORK at equal sizes, or go on (1). */
static enum aud_class
aud_consistency_sizes(const struct aud_checkpoint *o, const struct aud_checkpoint *c,
                      const struct aud_consistency_opts *op, struct aud_result *r,
                      bool *need_proof)
{
    char a[45], b[45];
    unsigned long long s1 = o->cp.size, s2 = c->cp.size;

    *need_proof = false;
    if (o->cp.origin_len != c->cp.origin_len ||
        memcmp(o->cp.origin, c->cp.origin, o->cp.origin_len) != 0)
        return aud_fail(r, AUD_USAGE, "the checkpoints are of different logs "
                        "(\"%.*s\" and \"%.*s\")", (int)o->cp.origin_len,
                        o->cp.origin, (int)c->cp.origin_len, c->cp.origin);
    if (s2 < s1)
        return aud_fail(r, AUD_ROLLBACK, "new checkpoint " AUD_CP_FMT " is "
                        "smaller than old checkpoint " AUD_CP_FMT, s2,
                        aud_b64(c->cp.root, a), op->new_path, s1,
                        aud_b64(o->cp.root, b), op->old_path);
    if (s1 == s2 && memcmp(o->cp.root, c->cp.root, 32) != 0)
        return aud_fail(r, AUD_FORK, "two signed checkpoints of the same size "
                        "with different roots: " AUD_CP_FMT " and " AUD_CP_FMT,
                        s1, aud_b64(o->cp.root, a), op->old_path, s2,
                        aud_b64(c->cp.root, b), op->new_path);
    *need_proof = s1 != s2;
    snprintf(r->msg, sizeof(r->msg), "consistent: both checkpoints have size %llu "
             "and root %s", s1, aud_b64(o->cp.root, a));
    return AUD_OK;
}

/* The proof itself, once obtained. */
static enum aud_class
aud_consistency_verify(const struct aud_checkpoint *o, const struct aud_checkpoint *c,
                       const struct aud_consistency_opts *op,
                       uint8_t proof[MERKLE_MAX_PROOF][32], size_t n,
                       struct aud_result *r)
{
    struct merkle_hasher h;
    uint8_t empty[32];
    char a[45], b[45];
    int rc;

    if (merkle_hasher_init(&h) != MERKLE_OK)
        return aud_fail(r, AUD_IO, "cannot set up SHA-256");
    if (o->cp.size == 0)                 /* everything extends the empty tree */
        rc = merkle_empty_root(&h, empty) != MERKLE_OK ? MERKLE_ERR_CRYPTO :
             memcmp(empty, o->cp.root, 32) == 0 ? MERKLE_OK : MERKLE_ERR_ROOT_MISMATCH;
    else
        rc = merkle_verify_consistency(&h, o->cp.size, c->cp.size,
                                       (const uint8_t (*)[32])proof, n,
                                       o->cp.root, c->cp.root);
    merkle_hasher_clear(&h);
    if (rc == MERKLE_OK) {
        snprintf(r->msg, sizeof(r->msg), "consistent: size %llu (%s) is a prefix "
                 "of size %llu (%s)", (unsigned long long)o->cp.size, op->old_path,
                 (unsigned long long)c->cp.size, op->new_path);
        return AUD_OK;
    }
    if (rc == MERKLE_ERR_CRYPTO)
        return aud_fail(r, AUD_IO, "SHA-256 failed");
    return aud_fail(r, AUD_FORK, "old checkpoint " AUD_CP_FMT " and new "
                    "checkpoint " AUD_CP_FMT " are not consistent: the %zu-hash "
                    "consistency proof does not verify (%s)",
                    (unsigned long long)o->cp.size, aud_b64(o->cp.root, a),
                    op->old_path, (unsigned long long)c->cp.size,
                    aud_b64(c->cp.root, b), op->new_path, n, merkle_strerror(rc));
}

enum aud_class
aud_consistency(const struct aud_consistency_opts *op, struct aud_result *r)
{
    struct aud_checkpoint o, c;
    uint8_t proof[MERKLE_MAX_PROOF][32];
    size_t n = 0;
    bool need;
    enum aud_class cls;

    memset(&c, 0, sizeof(c));
    if ((cls = aud_checkpoint_load(&o, op->old_path, op->keys, r)) == AUD_OK &&
        (cls = aud_checkpoint_load(&c, op->new_path, op->keys, r)) == AUD_OK &&
        (cls = aud_consistency_sizes(&o, &c, op, r, &need)) == AUD_OK && need) {
        if (op->proof_path != NULL)
            cls = aud_consistency_file(op->proof_path, proof, &n, r);
        else if (o.cp.size > 0)
            cls = aud_consistency_server(op->srv, o.cp.size, c.cp.size, proof, &n, r);
        if (cls == AUD_OK)
            cls = aud_consistency_verify(&o, &c, op, proof, n, r);
    }
    aud_checkpoint_clear(&o);
    aud_checkpoint_clear(&c);
    return cls;
}
