/*
 * profile.h - an item type's reference profile for input drift: the
 * training data's distribution of each model input (one per item field of
 * the feature mapping), written by the training script beside the model
 * (scripts/train_credit_xgb.py) and named by the policy's "profile" key.
 *
 *   {"format": "hitlq-profile", "format_version": 1, "version": "credit_xgb@1/1",
 *    "description": "...", "n": 1000,
 *    "features": [
 *      {"field": "amount", "kind": "numeric", "edges": [932.0, 1262.0],
 *       "counts": [99, 99, 802], "missing": 0},
 *      {"field": "housing", "kind": "categorical", "categories": ["Own", "Rent"],
 *       "counts": [713, 287], "missing": 0}]}
 *
 * numeric: 0..63 strictly ascending finite inner edges and one count per
 * bin (edges + 1); a value v falls in bin "number of edges <= v".
 * categorical: 1..64 distinct category strings (any order in the file;
 * kept sorted bytewise) and one count each; a value is compared by its
 * string form (strings as is, booleans "true" / "false", integers and
 * integral floats in decimal) and is "unseen" when not listed.  Per
 * feature sum(counts) + missing == n; at most 64 features with distinct
 * fields, each declared in the type's schema when it has one.  Missing =
 * absent, nil or a schema sentinel (schema_is_missing); a numeric field
 * whose value is not a number (a string, NaN) counts as unseen.
 *
 * The bins and counts are those of the audit log's PROFILE extension
 * (proto/AUDIT-FORMAT.md §3.4), whose encoded body a loaded profile keeps
 * (a profile whose body exceeds 64,000 bytes, so that its entry might not
 * fit one record, is refused).  Limits are
 * checked before anything is allocated.  A loaded profile is immutable and
 * may be shared read-only between threads.
 */
#ifndef HITLQ_PROFILE_H
#define HITLQ_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "schema.h"

#define PROFILE_FEATURES_MAX 64u
#define PROFILE_BINS_MAX     64u
#define PROFILE_FILE_MAX     (4u * 1024u * 1024u)
#define PROFILE_BIN_MISSING  0xFEu   /* profile_bin_item: absent, nil or sentinel */
#define PROFILE_BIN_UNSEEN   0xFFu   /* a category not in the profile, or not a number */

enum profile_kind {
    PROFILE_NUMERIC     = 1,          /* = RECORD_FEATURE_NUMERIC */
    PROFILE_CATEGORICAL = 2,          /* = RECORD_FEATURE_CATEGORICAL */
};

struct profile;   /* opaque, immutable after load */

/* One feature of a loaded profile (all borrowed from it). */
struct profile_feature {
    const char         *field;
    uint8_t             kind;          /* enum profile_kind */
    uint8_t             n_bins;        /* 1..64 */
    const double       *edges;         /* numeric: n_bins - 1 */
    const char *const  *categories;    /* categorical: n_bins, sorted bytewise */
    const uint32_t     *counts;        /* n_bins reference counts */
    uint32_t            missing;
};

/* Parses and checks the profile file bytes[0..len).  s (may be NULL) is
 * the type's schema: fields must be declared in it, and it is borrowed
 * (must outlive the profile) for the missing sentinels.  Messages start
 * with `where`.  Returns an owned profile (profile_free) or NULL. */
struct profile *profile_load(const char *bytes, size_t len, const struct schema *s,
                             const char *where, char *err, size_t errlen);
void profile_free(struct profile *p);                 /* NULL is a no-op */

/* SHA-256 of the file bytes (32 bytes, owned by p). */
const uint8_t *profile_digest(const struct profile *p);
const char *profile_version(const struct profile *p); /* "" if none */
uint32_t profile_n(const struct profile *p);          /* reference rows */
size_t profile_n_features(const struct profile *p);
/* Feature i (< profile_n_features) into *out. */
void profile_feature_at(const struct profile *p, size_t i, struct profile_feature *out);
/* Every feature's n_bins (profile_n_features bytes, borrowed). */
const uint8_t *profile_bins(const struct profile *p);
/* The encoded PROFILE extension body (proto/record_ext.h), borrowed. */
const uint8_t *profile_ext(const struct profile *p, size_t *len);

/* Feature i's bin for one value (v NULL = absent): 0..n_bins - 1,
 * PROFILE_BIN_MISSING or PROFILE_BIN_UNSEEN. */
uint8_t profile_bin_value(const struct profile *p, size_t i, const msgpack_object *v);
/* Every feature's bin for an item's fields map (out: profile_n_features
 * bytes).  One pass over the map; allocates nothing. */
void profile_bin_item(const struct profile *p, const msgpack_object *fields, uint8_t *out);

#endif
