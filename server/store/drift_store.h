/*
 * drift_store.h - input-drift histograms in LMDB: per (item type, profile
 * digest, window start) the counts of each model input's bins, missing
 * and unseen values (the bins of the type's reference profile,
 * server/score/profile.h), added by the commit thread in the transaction
 * of the decisions they count, and read by DRIFT_INPUTS.
 *
 * Database `drift` (store.h):
 *   key   type (NUL-terminated) || profile digest[32] || u64 BE window start ms
 *   value u8 version (1) || u8 flags (bit 0: closed, its INPUT_WINDOW entry
 *         is in the audit log) || u8 k || u8 0 || u32 n || u64 end_ms ||
 *         u8 m[k] (bins per feature) || then per feature m + 2 u32 counts
 *         (bins, missing, unseen), host byte order (the store is local)
 *
 * Functions run inside the caller's transaction and return HITLQ_ST_*
 * (store_status of an LMDB error; INTERNAL for a value of another shape).
 */
#ifndef HITLQ_DRIFT_STORE_H
#define HITLQ_DRIFT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "hitlq_proto.h"
#include "store.h"

#define DRIFT_STORE_FEATURES_MAX 64u
#define DRIFT_STORE_BINS_MAX     64u
#define DRIFT_BIN_MISSING  0xFEu       /* = PROFILE_BIN_MISSING */
#define DRIFT_BIN_UNSEEN   0xFFu       /* = PROFILE_BIN_UNSEEN */
#define DRIFT_SLOT_MISSING(m) (m)      /* slot of the missing count */
#define DRIFT_SLOT_UNSEEN(m)  ((m) + 1u)

/* One item's input bins, made on the loop thread (k 0: no profile). */
struct drift_obs {
    uint8_t digest[32];
    uint8_t k;                          /* features */
    uint8_t m[DRIFT_STORE_FEATURES_MAX];      /* bins per feature */
    uint8_t bin[DRIFT_STORE_FEATURES_MAX];    /* 0..m-1, DRIFT_BIN_MISSING / _UNSEEN */
};

/* Counts of one window (or a sum of windows): c[i][0..m[i]) the bins of
 * feature i, then missing and unseen.  About 17 KB. */
struct drift_counts {
    uint32_t n;
    uint8_t  k;
    uint8_t  m[DRIFT_STORE_FEATURES_MAX];
    uint32_t c[DRIFT_STORE_FEATURES_MAX][DRIFT_STORE_BINS_MAX + 2];
};

struct drift_key {
    char     type[HITLQ_MAX_NAME + 1];
    uint8_t  digest[32];
    uint64_t start_ms;
};

/* Empties c and gives it the shape of o. */
void drift_counts_init(struct drift_counts *c, const struct drift_obs *o);
/* Adds one item: n + 1 and one count per feature. */
void drift_counts_add(struct drift_counts *c, const struct drift_obs *o);

/* Adds delta to the window k (created open with end_ms if new). */
int drift_store_add(struct store *s, MDB_txn *txn, const struct drift_key *k,
                    uint64_t end_ms, const struct drift_counts *delta);

/* Calls fn for every open window whose end_ms <= now_ms (any type), then
 * marks it closed; a status other than OK from fn stops and is returned.
 * *next_end gets the smallest end_ms of the windows still open (0: none). */
typedef int (*drift_close_fn)(void *arg, const struct drift_key *k, uint64_t end_ms,
                              const struct drift_counts *c);
int drift_store_close_due(struct store *s, MDB_txn *txn, uint64_t now_ms, drift_close_fn fn,
                          void *arg, uint64_t *next_end);

/* Sums the windows of (type, digest) whose start lies in [from_ms, to_ms)
 * into *sum (zeroed first; k 0 when there is none); *n_windows counts
 * them and *first / *last get the first start and the last end. */
int drift_store_sum(struct store *s, MDB_txn *txn, const char *type, const uint8_t digest[32],
                    uint64_t from_ms, uint64_t to_ms, struct drift_counts *sum,
                    uint32_t *n_windows, uint64_t *first, uint64_t *last);

#endif
