/*
 * audit_gen.h - test helper for tests/unit/test_audit_tool.c (linked into that
 * test only): builds audit logs of valid AXR1 records without a server,
 * signs checkpoints with test-only keys, writes tlog-tiles exports through
 * the tool's own writer (client/audit/aud_tiles.c) and computes proofs.  Failures
 * are cmocka assertions.
 */
#ifndef HITLQ_AUDIT_GEN_H
#define HITLQ_AUDIT_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "merkle.h"
#include "note.h"

#define GEN_ORIGIN "audit.test.example/hitlq/gen"
#define GEN_NONE   UINT64_MAX

/* How a log is generated.  Entries are a deterministic function of their
 * index and these options, so two logs share every entry before
 * diverge_at. */
struct gen_opts {
    uint64_t diverge_at;     /* entries >= this differ (actor "mallory"); GEN_NONE */
    uint64_t bad_ref_at;     /* this human entry gets a wrong ref_leaf_hash; GEN_NONE */
};

/* A generated log.  Owned buffers; gen_log_free releases them. */
struct gen_log {
    size_t     n;
    uint8_t   *buf;          /* entries back to back */
    size_t    *off, *len;    /* entry i is buf[off[i] .. off[i]+len[i]) */
    uint8_t  (*leaf)[32];    /* leaf hashes */
};

void gen_log_build(struct gen_log *l, size_t n, const struct gen_opts *o);
void gen_log_free(struct gen_log *l);

/* Test-only Ed25519 log key named `name` from a one-byte seed pattern. */
void gen_signer(struct note_signer *s, const char *name, uint8_t seed_byte);
/* Its vkey string into out (NOTE_VKEY_MAX + 1 bytes). */
void gen_vkey(const struct note_signer *s, char *out);

/* MTH of the first m leaves. */
void gen_root(const struct gen_log *l, size_t m, uint8_t root[32]);
/* Signed checkpoint (origin = the signer's name) of the first m entries:
 * a malloc'd NUL-terminated note, *len its length. */
char *gen_checkpoint(const struct gen_log *l, size_t m,
                     const struct note_signer *s, size_t *len);
/* Export of the first m entries into dir (created) with that note as
 * dir/checkpoint, through the tool's aud_tilewriter. */
void gen_export(const struct gen_log *l, size_t m, const char *dir,
                const char *note, size_t note_len);
/* RFC 9162 proofs over the first `size` leaves; return the hash count. */
size_t gen_inclusion(const struct gen_log *l, size_t size, uint64_t index,
                     uint8_t out[MERKLE_MAX_PROOF][32]);
size_t gen_consistency(const struct gen_log *l, size_t n1, size_t n2,
                       uint8_t out[MERKLE_MAX_PROOF][32]);
/* Writes len bytes to path (assertion on failure). */
void gen_write_file(const char *path, const void *data, size_t len);

#endif
