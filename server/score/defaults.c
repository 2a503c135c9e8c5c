/*
 * defaults.c - embeds server/score/defaults/credit_policy.json,
 * credit_xgb.json (the bundled XGBoost model), credit_profile.json (its
 * input-drift reference profile) and credit_scorecard.json into the binary with the GNU
 * assembler's .incbin (paths are relative to the repo root, where the
 * compiler runs) and exposes them through defaults.h.
 *
 * Each blob is followed by a NUL byte and its length is computed by the
 * assembler (end - start), so C never subtracts unrelated pointers.  The
 * Makefile makes defaults.o depend on the files in server/score/defaults/.
 */
#include <stdint.h>
#include <string.h>

#include "defaults.h"

#define DEFAULTS_BLOB(sym, file)                                  \
    "    .pushsection .rodata\n"                                  \
    "    .balign 16\n"                                            \
    "    .globl " #sym "_data\n"                                  \
    "    .hidden " #sym "_data\n"                                 \
    #sym "_data:\n"                                               \
    "    .incbin \"" file "\"\n"                                  \
    #sym "_end:\n"                                                \
    "    .byte 0\n"                                               \
    "    .balign 8\n"                                             \
    "    .globl " #sym "_len\n"                                   \
    "    .hidden " #sym "_len\n"                                  \
    #sym "_len:\n"                                                \
    "    .8byte " #sym "_end - " #sym "_data\n"                   \
    "    .popsection\n"

__asm__(
    DEFAULTS_BLOB(defaults_policy_blob, "server/score/defaults/credit_policy.json")
    DEFAULTS_BLOB(defaults_scorecard_blob, "server/score/defaults/credit_scorecard.json")
    DEFAULTS_BLOB(defaults_xgb_blob, "server/score/defaults/credit_xgb.json")
    DEFAULTS_BLOB(defaults_profile_blob, "server/score/defaults/credit_profile.json")
);

#define DEFAULTS_EXTERN __attribute__((visibility("hidden"))) extern
DEFAULTS_EXTERN const unsigned char defaults_policy_blob_data[];
DEFAULTS_EXTERN const uint64_t defaults_policy_blob_len;
DEFAULTS_EXTERN const unsigned char defaults_scorecard_blob_data[];
DEFAULTS_EXTERN const uint64_t defaults_scorecard_blob_len;
DEFAULTS_EXTERN const unsigned char defaults_xgb_blob_data[];
DEFAULTS_EXTERN const uint64_t defaults_xgb_blob_len;
DEFAULTS_EXTERN const unsigned char defaults_profile_blob_data[];
DEFAULTS_EXTERN const uint64_t defaults_profile_blob_len;

const unsigned char *defaults_policy(size_t *len)
{
    *len = (size_t)defaults_policy_blob_len;
    return defaults_policy_blob_data;
}

const unsigned char *defaults_scorecard(size_t *len)
{
    *len = (size_t)defaults_scorecard_blob_len;
    return defaults_scorecard_blob_data;
}

const unsigned char *defaults_file(const char *name, size_t *len)
{
    if (strcmp(name, "credit_scorecard.json") == 0)
        return defaults_scorecard(len);
    if (strcmp(name, "credit_policy.json") == 0)
        return defaults_policy(len);
    if (strcmp(name, "credit_xgb.json") == 0) {
        *len = (size_t)defaults_xgb_blob_len;
        return defaults_xgb_blob_data;
    }
    if (strcmp(name, "credit_profile.json") == 0) {
        *len = (size_t)defaults_profile_blob_len;
        return defaults_profile_blob_data;
    }
    return NULL;
}
