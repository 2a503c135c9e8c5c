/*
 * rollup.h - minute rollups in LMDB: per minute, per (item type, queue),
 * the counts an operations dashboard charts (submits and their route mix,
 * auto-resolved, queued, claims, decisions, human verdicts by agreement
 * with the model and blind flag, review and wait time as sum, count and a
 * fixed histogram, SLA breaches, dead letters), the validation rules that
 * failed, the root-cause tags given, and per specialist their decisions,
 * review time and agreement with the model.  Written by the commit thread
 * in the transaction of the events they count (journal_record calls
 * rollup_journal; SUBMIT's apply calls rollup_submit; the review's verdict
 * count calls rollup_verdict), so they agree with the store exactly and
 * survive restarts.  Minutes older than ROLLUP_KEEP_MS are pruned, at most
 * ROLLUP_PRUNE_MAX keys per call.
 *
 * Database `rollup` (store.h):
 *   key   u64 BE minute start ms || kind (one char) || a || NUL || b
 *     'Q' a = type, b = queue ("" for items not queued): struct rollup_row
 *     'R' a = type, b = validation rule id:              u32 count
 *     'C' a = queue, b = root-cause tag:                 u32 count
 *     'S' a = specialist, b = "":                        struct rollup_spec
 *     'B' a = type, b = score band "0".."9":             struct rollup_band
 *   key   0xFF || u64 BE item id: struct rollup_item, the open item's
 *         ready and claim times (deleted at its decision)
 *   values in host byte order (the store is local).
 *
 * Functions run inside the caller's transaction and return HITLQ_ST_*
 * (store_status of an LMDB error; INTERNAL for a value of another shape).
 */
#ifndef HITLQ_ROLLUP_H
#define HITLQ_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "hitlq_proto.h"
#include "store.h"

struct decision;
struct journal_item;
struct journal_ev;

#define ROLLUP_MINUTE_MS  60000u
#define ROLLUP_KEEP_MS    (25ull * 3600u * 1000u)   /* >= 24 h of history */
#define ROLLUP_PRUNE_MAX  256u                      /* keys deleted per call */
#define ROLLUP_VERSION    1u
#define ROLLUP_ROUTES     8u          /* enum hitlq_route values 0..7 */
#define ROLLUP_BUCKETS    12u         /* time histogram; last is +Inf */
#define ROLLUP_BANDS      10u         /* score bands [b/10, (b+1)/10), last closed */
#define ROLLUP_BAND_NONE  0xFFu       /* an unscored item: no band row */
#define ROLLUP_NAME_MAX   (HITLQ_MAX_NAME > HITLQ_MAX_QUEUE_NAME ? HITLQ_MAX_NAME \
                                                                 : HITLQ_MAX_QUEUE_NAME)

enum rollup_agreement { ROLLUP_AGREE, ROLLUP_OVERRIDE, ROLLUP_NONE, ROLLUP_AGREEMENTS };

/* Upper bounds (seconds) of the time histogram's buckets 0..BUCKETS-2. */
extern const uint32_t rollup_bucket_s[ROLLUP_BUCKETS - 1];

/* One (minute, type, queue) row (v1). */
struct rollup_row {
    uint32_t version;                       /* ROLLUP_VERSION */
    uint32_t submits;                       /* new items (SUBMIT, not duplicates) */
    uint32_t auto_resolved, queued, qa_sampled;
    uint32_t route[ROLLUP_ROUTES];          /* submits by route */
    uint32_t claims, decisions, escalations, releases, expiries;
    uint32_t dead_letters;
    uint32_t sla_breaches;                  /* decided after their deadline */
    uint32_t verdicts[ROLLUP_AGREEMENTS][2];   /* [agreement][blind] */
    uint32_t review_n, wait_n;
    uint64_t review_ms, wait_ms;            /* sums */
    uint32_t review_h[ROLLUP_BUCKETS];      /* claimed -> decided */
    uint32_t wait_h[ROLLUP_BUCKETS];        /* ready -> claimed */
};

/* One (minute, specialist) row (v1). */
struct rollup_spec {
    uint32_t version;
    uint32_t decisions;                     /* RESOLVE and four-eyes verdicts */
    uint32_t review_n;
    uint32_t agreement[ROLLUP_AGREEMENTS];  /* with the model's recommendation */
    uint64_t review_ms;
};

/* One (minute, type, score band) row of human verdicts (v1): by
 * agreement with the model's recommendation. */
struct rollup_band {
    uint32_t version;
    uint32_t verdicts[ROLLUP_AGREEMENTS];
};

/* An open item's clock (v1). */
struct rollup_item {
    uint32_t version;
    uint32_t reserved;
    uint64_t ready_ms;                      /* last became claimable */
    uint64_t claim_ms;                      /* last claimed (0: not leased) */
};

/* The bucket of a duration in ms. */
unsigned rollup_bucket(uint64_t ms);

/* A new item decided as d at now_ms (commit thread, after queue_submit):
 * counts it in its (type, queue) row with its route, the validation
 * rules its data-quality reasons name, and starts its clock (and its QA
 * copy's).  Also prunes old minutes (bounded). */
int rollup_submit(struct store *s, MDB_txn *txn, const char *type,
                  const struct decision *d, uint64_t now_ms);

/* Called by journal_record for the events of item `it` at at_ms, before
 * the caller saves the item (its stored header is the state before the
 * events): claims, releases, expiries, escalations, dead letters,
 * decisions with review time, SLA breach and root cause, per specialist.
 * The submit-time kinds are left to rollup_submit. */
int rollup_journal(struct store *s, MDB_txn *txn, const struct journal_item *it,
                   uint64_t at_ms, const struct journal_ev *ev, size_t n);

/* A human verdict on item `id` of `type` waiting in `queue`, whose model
 * score fell in score band `band` (0..ROLLUP_BANDS-1, or ROLLUP_BAND_NONE):
 * counted by agreement and blind flag in the minute of its decision
 * event, by band, and for the specialist who gave it (the last decision
 * rollup_journal saw on that item in this thread). */
int rollup_verdict(struct store *s, MDB_txn *txn, uint64_t id, const char *type,
                   const char *queue, unsigned band, enum rollup_agreement a, bool blind);

/* Frees the store's rollup scratch (store_close). */
void rollup_free(struct store *s);

/* Reading: calls fn for every minute key in [from_ms, to_ms), in key
 * order, with the kind, the two names and the value bytes (checked to
 * have the kind's size; val may be unaligned: copy it out).  A status other than OK from fn stops the scan
 * and is returned. */
typedef int (*rollup_fn)(void *arg, uint64_t minute_ms, char kind, const char *a,
                         const char *b, const void *val, size_t len);
int rollup_scan(struct store *s, MDB_txn *txn, uint64_t from_ms, uint64_t to_ms,
                rollup_fn fn, void *arg);

/* dst += src, counter by counter. */
void rollup_row_merge(struct rollup_row *dst, const struct rollup_row *src);
void rollup_spec_merge(struct rollup_spec *dst, const struct rollup_spec *src);

/* The q-quantile (0 < q < 1) of histogram h with n entries: the upper
 * bound in seconds of the bucket where it falls (the last finite bound
 * for the +Inf bucket); 0 when n is 0. */
double rollup_quantile(const uint32_t h[ROLLUP_BUCKETS], uint32_t n, double q);

/* The open items of `queue` (at most `max` looked at) past 50 % (*r50)
 * and 75 % (*r75) of their SLA budget (created -> deadline) at now_ms
 * and not yet breached; *r75 items are also in *r50.  HITLQ_ST_*. */
int rollup_queue_risk(struct store *s, MDB_txn *txn, const char *queue, uint64_t now_ms,
                      uint32_t max, uint64_t *r50, uint64_t *r75);

#endif
