/*
 * audit_tamper.h - test helper for tests/unit/test_audit_tool.c: edits an
 * export's entry bundles in place the way a dishonest log or a damaged
 * copy would (flip a byte, delete, swap, cut off, rewrite a bundle).
 * Failures are cmocka assertions.
 */
#ifndef HITLQ_AUDIT_TAMPER_H
#define HITLQ_AUDIT_TAMPER_H

#include <stddef.h>
#include <stdint.h>

#include "audit_gen.h"

/* In the bundle holding entry idx of an export of `size` entries: delete
 * that entry (del), or swap it with the next one (swap), and keep at most
 * `keep` entries of the bundle. */
void tamper_bundle_edit(const char *dir, uint64_t size, uint64_t idx, int del,
                        int swap, unsigned keep);
/* XORs byte `at` of entry idx with mask. */
void tamper_entry_flip(const char *dir, uint64_t size, uint64_t idx, size_t at,
                       uint8_t mask);
/* Rewrites full bundle n with the log's entries idx[0..256). */
void tamper_bundle_write(const struct gen_log *l, const char *dir, uint64_t n,
                         const uint64_t *idx);

#endif
