/*
 * drift_commit.c - input drift in the write path (drift_commit.h): the
 * loop thread's binning, the commit thread's per-batch sums, window
 * closing with INPUT_WINDOW entries and profile registration.  The
 * commit thread's state (struct drift_live) is srv->drift, made on first
 * use; per item the commit thread does one increment per feature.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "audit_drift.h"
#include "drift_commit.h"
#include "log.h"
#include "profile.h"
#include "record.h"
#include "score.h"
#include "server.h"
#include "util.h"
#include "wire.h"

_Static_assert(PROFILE_BIN_MISSING == DRIFT_BIN_MISSING, "one missing bin");
_Static_assert(PROFILE_BIN_UNSEEN == DRIFT_BIN_UNSEEN, "one unseen bin");
_Static_assert(PROFILE_FEATURES_MAX == DRIFT_STORE_FEATURES_MAX &&
               PROFILE_BINS_MAX == DRIFT_STORE_BINS_MAX &&
               DRIFT_STORE_BINS_MAX == RECORD_EXT_DRIFT_BINS_MAX, "one set of limits");

#define DRIFT_SLOTS     8u              /* (type, profile, window) sums per batch */
#define DRIFT_UNKNOWN   1u              /* next_close: scan the store to find out */
#define DRIFT_RETRY_MS  1000u           /* after a failed close */

struct drift_slot {
    struct drift_key    key;
    uint64_t            end_ms;
    struct drift_counts c;
};

struct drift_live {
    uint64_t          now;              /* this batch's time (never decreasing) */
    uint64_t          next_close;       /* smallest end of an open window; 0 none */
    size_t            n;                /* slots in use */
    MDB_txn          *txn;              /* the batch's, while closing windows */
    struct drift_slot slot[DRIFT_SLOTS];
    struct record_ext_input_counts ext; /* INPUT_COUNTS scratch */
    uint8_t           body[RECORD_EXT_INPUT_COUNTS_MAX];
};

/* ---- loop thread ----------------------------------------------------------- */

void
drift_observe(const struct type_policy *p, const msgpack_object *fields, struct drift_obs *o)
{
    const struct profile *pr = p->profile;

    o->k = 0;
    if (pr == NULL)
        return;
    o->k = (uint8_t)profile_n_features(pr);
    memcpy(o->digest, profile_digest(pr), sizeof o->digest);
    memcpy(o->m, profile_bins(pr), o->k);
    profile_bin_item(pr, fields, o->bin);
}

/* ---- commit thread ----------------------------------------------------------- */

static struct drift_live *
drift_live(struct hitlq_server *srv)
{
    if (srv->drift == NULL && (srv->drift = calloc(1, sizeof *srv->drift)) != NULL)
        srv->drift->next_close = DRIFT_UNKNOWN;
    return srv->drift;
}

static uint64_t
drift_window_ms(const struct hitlq_server *srv)
{
    return srv->cfg->drift_window_s * 1000u;
}

/* drift_store_close_due's callback: the window's INPUT_WINDOW entry. */
static int
drift_close_one(void *arg, const struct drift_key *k, uint64_t end_ms,
                const struct drift_counts *c)
{
    struct hitlq_server *srv = arg;
    struct drift_live *dl = srv->drift;
    struct record_ext_input_counts *e = &dl->ext;
    size_t len = 0;

    memcpy(e->profile_digest, k->digest, sizeof e->profile_digest);
    e->item_type = (struct record_ext_bytes){ (const uint8_t *)k->type, strlen(k->type) };
    e->window_start_ms = k->start_ms;
    e->window_end_ms = end_ms;
    e->n = c->n;
    e->n_features = c->k;
    for (unsigned i = 0; i < c->k; i++) {
        e->f[i].n_bins = c->m[i];
        memcpy(e->f[i].count, c->c[i], c->m[i] * sizeof(uint32_t));
        e->f[i].missing = c->c[i][DRIFT_SLOT_MISSING(c->m[i])];
        e->f[i].unseen = c->c[i][DRIFT_SLOT_UNSEEN(c->m[i])];
    }
    if (record_ext_input_counts_encode(e, dl->body, sizeof dl->body, &len) != RECORD_OK) {
        log_error("drift: window %s@%llu does not encode", k->type,
                  (unsigned long long)k->start_ms);
        return HITLQ_ST_INTERNAL;
    }
    return audit_input_window(srv->audit, dl->txn, k->type, dl->body, len, dl->now);
}

/* Closes the windows that ended by dl->now, if any may have. */
static int
drift_close_due(struct hitlq_server *srv, MDB_txn *txn)
{
    struct drift_live *dl = srv->drift;
    uint64_t next = 0;
    int st;

    if (srv->audit == NULL || dl->next_close == 0 || dl->now < dl->next_close)
        return HITLQ_ST_OK;
    dl->txn = txn;
    st = drift_store_close_due(srv->store, txn, dl->now, drift_close_one, srv, &next);
    dl->txn = NULL;
    dl->next_close = st == HITLQ_ST_OK ? next : dl->now + DRIFT_RETRY_MS;
    return st;
}

int
drift_batch_begin(struct hitlq_server *srv, MDB_txn *txn, uint64_t now_ms)
{
    struct drift_live *dl = drift_live(srv);

    if (dl == NULL)
        return HITLQ_ST_INTERNAL;
    dl->now = now_ms > dl->now ? now_ms : dl->now;
    dl->n = 0;
    return drift_close_due(srv, txn);
}

/* Adds every slot's sums to the store and empties the slots. */
static int
drift_flush(struct hitlq_server *srv, MDB_txn *txn)
{
    struct drift_live *dl = srv->drift;
    int st = HITLQ_ST_OK;

    for (size_t i = 0; i < dl->n && st == HITLQ_ST_OK; i++) {
        struct drift_slot *s = &dl->slot[i];

        st = drift_store_add(srv->store, txn, &s->key, s->end_ms, &s->c);
        if (dl->next_close == 0 || s->end_ms < dl->next_close)
            dl->next_close = s->end_ms;
    }
    dl->n = 0;
    return st;
}

int
drift_batch_add(struct hitlq_server *srv, MDB_txn *txn, const char *type,
                const struct drift_obs *o)
{
    struct drift_live *dl = srv->drift;
    uint64_t w = drift_window_ms(srv), start = dl->now - dl->now % w;
    struct drift_slot *s = NULL;
    int st;

    if (o->k == 0)
        return HITLQ_ST_OK;
    for (size_t i = 0; i < dl->n && s == NULL; i++)
        if (dl->slot[i].key.start_ms == start && strcmp(dl->slot[i].key.type, type) == 0 &&
            memcmp(dl->slot[i].key.digest, o->digest, sizeof o->digest) == 0)
            s = &dl->slot[i];
    if (s == NULL) {
        if (dl->n == DRIFT_SLOTS && (st = drift_flush(srv, txn)) != HITLQ_ST_OK)
            return st;
        s = &dl->slot[dl->n++];
        snprintf(s->key.type, sizeof s->key.type, "%s", type);
        memcpy(s->key.digest, o->digest, sizeof o->digest);
        s->key.start_ms = start;
        s->end_ms = start + w;
        drift_counts_init(&s->c, o);
    }
    drift_counts_add(&s->c, o);
    return HITLQ_ST_OK;
}

int
drift_batch_end(struct hitlq_server *srv, MDB_txn *txn)
{
    return srv->drift != NULL ? drift_flush(srv, txn) : HITLQ_ST_OK;
}

void
drift_batch_abort(struct hitlq_server *srv)
{
    if (srv->drift != NULL) {
        srv->drift->n = 0;
        srv->drift->next_close = DRIFT_UNKNOWN;   /* closes may have been undone */
    }
}

uint64_t
drift_due_ms(struct hitlq_server *srv)
{
    struct drift_live *dl = drift_live(srv);

    return srv->audit != NULL && dl != NULL ? dl->next_close : 0;
}

int
drift_idle(struct hitlq_server *srv)
{
    struct drift_live *dl = drift_live(srv);
    MDB_txn *txn;
    int st, rc;

    if (dl == NULL || srv->audit == NULL || dl->next_close == 0 ||
        util_now_ms() < dl->next_close)
        return 0;
    if ((rc = store_wtxn_begin(srv->store, &txn)) != 0) {
        dl->next_close = util_now_ms() + DRIFT_RETRY_MS;
        return rc;
    }
    audit_txn_begin(srv->audit, txn);
    st = drift_batch_begin(srv, txn, util_now_ms());
    if (st != HITLQ_ST_OK) {
        store_wtxn_abort(srv->store, txn);
        rc = st == HITLQ_ST_RESOURCE_EXHAUSTED ? MDB_MAP_FULL : MDB_BAD_TXN;
    } else {
        rc = store_wtxn_commit(srv->store, txn);
    }
    if (rc != 0) {
        audit_txn_abort(srv->audit);
        log_error("drift: cannot close input-drift windows (%s); retrying",
                  store_strerror(rc));
        dl->next_close = util_now_ms() + DRIFT_RETRY_MS;
    }
    return rc;
}

void
drift_live_free(struct hitlq_server *srv)
{
    free(srv->drift);
    srv->drift = NULL;
}

int
drift_register_profiles(struct audit *a, MDB_txn *txn, const struct scoring *sc,
                        uint64_t now_ms)
{
    int st = HITLQ_ST_OK;

    for (size_t i = 0; st == HITLQ_ST_OK && i < scoring_n_types(sc); i++) {
        const struct type_policy *tp = scoring_type_at(sc, i);
        const uint8_t *body;
        size_t len;

        if (tp->profile == NULL)
            continue;
        body = profile_ext(tp->profile, &len);
        st = audit_profile_register(a, txn, tp->type, profile_digest(tp->profile), body, len,
                                    now_ms);
    }
    return st;
}
