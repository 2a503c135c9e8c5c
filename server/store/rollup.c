/*
 * rollup.c - minute rollups (rollup.h): the write side (submits, item
 * events from journal_record, human verdicts), the per-item clocks,
 * bounded pruning of minutes older than ROLLUP_KEEP_MS, the scan and the
 * histogram helpers.  Every write is a read-add-put in the caller's
 * transaction, so an aborted batch leaves nothing behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue_int.h"
#include "rollup.h"
#include "util.h"

#define RK_MAX   (8u + 1u + 2u * ROLLUP_NAME_MAX + 2u)
#define RK_ITEM  0xFFu

const uint32_t rollup_bucket_s[ROLLUP_BUCKETS - 1] = {
    1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
};

/* The commit thread's scratch: who gave the last decision on which item
 * (for rollup_verdict), and when pruning last ran. */
struct rollup_live {
    uint64_t id, at_ms, pruned_minute;
    char     actor[HITLQ_MAX_NAME + 1];
};

unsigned
rollup_bucket(uint64_t ms)
{
    unsigned b = 0;

    while (b < ROLLUP_BUCKETS - 1 && ms > (uint64_t)rollup_bucket_s[b] * 1000u)
        b++;
    return b;
}

double
rollup_quantile(const uint32_t h[ROLLUP_BUCKETS], uint32_t n, double q)
{
    uint64_t acc = 0;

    if (n == 0)
        return 0;
    for (unsigned b = 0; b < ROLLUP_BUCKETS; b++) {
        acc += h[b];
        if ((double)acc >= q * n)
            return rollup_bucket_s[b < ROLLUP_BUCKETS - 1 ? b : ROLLUP_BUCKETS - 2];
    }
    return rollup_bucket_s[ROLLUP_BUCKETS - 2];
}

static struct rollup_live *
rollup_live(struct store *s)
{
    if (s->rollup_live == NULL)
        s->rollup_live = calloc(1, sizeof(struct rollup_live));
    return s->rollup_live;
}

void
rollup_free(struct store *s)
{
    free(s->rollup_live);
    s->rollup_live = NULL;
}

/* Builds the key of (minute, kind, a, b); returns its length. */
static size_t
rk_make(uint8_t *k, uint64_t at_ms, char kind, const char *a, const char *b)
{
    size_t la = strnlen(a, ROLLUP_NAME_MAX), lb = strnlen(b, ROLLUP_NAME_MAX);

    store_put_be64(k, at_ms - at_ms % ROLLUP_MINUTE_MS);
    k[8] = (uint8_t)kind;
    memcpy(k + 9, a, la);
    k[9 + la] = 0;
    memcpy(k + 10 + la, b, lb);
    return 10 + la + lb;
}

/* Reads the value of key k into val (size len; zeroed and versioned when
 * absent); *found tells which. */
static int
rk_get(struct store *s, MDB_txn *txn, uint8_t *k, size_t kl, void *val, size_t len)
{
    MDB_val key = { kl, k }, d;
    int rc = mdb_get(txn, s->rollup, &key, &d);

    memset(val, 0, len);
    if (rc == MDB_NOTFOUND) {
        if (len > sizeof(uint32_t))       /* a row: versioned; a count: 0 */
            memcpy(val, &(uint32_t){ ROLLUP_VERSION }, sizeof(uint32_t));
        return HITLQ_ST_OK;
    }
    if (rc != 0)
        return store_status(rc);
    if (d.mv_size != len)
        return HITLQ_ST_INTERNAL;
    memcpy(val, d.mv_data, len);
    return HITLQ_ST_OK;
}

static int
rk_put(struct store *s, MDB_txn *txn, uint8_t *k, size_t kl, const void *val, size_t len)
{
    MDB_val key = { kl, k }, d = { len, (void *)val };

    return store_status(mdb_put(txn, s->rollup, &key, &d, 0));
}

/* Adds one to the u32 counter of (minute, kind, a, b). */
static int
rollup_count(struct store *s, MDB_txn *txn, uint64_t at_ms, char kind, const char *a,
             const char *b)
{
    uint8_t k[RK_MAX];
    size_t kl = rk_make(k, at_ms, kind, a, b);
    uint32_t v;
    int st = rk_get(s, txn, k, kl, &v, sizeof v);

    if (st != HITLQ_ST_OK)
        return st;
    return rk_put(s, txn, k, kl, &(uint32_t){ v + 1 }, sizeof v);
}

/* Read-modify-write of a (minute, type, queue) row with fn. */
static int
rollup_row_edit(struct store *s, MDB_txn *txn, uint64_t at_ms, const char *type,
                const char *queue, void (*fn)(struct rollup_row *, const void *),
                const void *arg)
{
    uint8_t k[RK_MAX];
    size_t kl = rk_make(k, at_ms, 'Q', type, queue);
    struct rollup_row r;
    int st = rk_get(s, txn, k, kl, &r, sizeof r);

    if (st != HITLQ_ST_OK)
        return st;
    fn(&r, arg);
    return rk_put(s, txn, k, kl, &r, sizeof r);
}

/* ---- item clocks ------------------------------------------------------------ */

static size_t
ri_key(uint8_t *k, uint64_t id)
{
    k[0] = RK_ITEM;
    store_put_be64(k + 1, id);
    return 9;
}

static int
ri_get(struct store *s, MDB_txn *txn, uint64_t id, struct rollup_item *ri, bool *found)
{
    uint8_t k[9];
    MDB_val key = { ri_key(k, id), k }, d;
    int rc = mdb_get(txn, s->rollup, &key, &d);

    *found = rc == 0 && d.mv_size == sizeof *ri;
    memset(ri, 0, sizeof *ri);
    if (*found)
        memcpy(ri, d.mv_data, sizeof *ri);
    return rc == 0 || rc == MDB_NOTFOUND ? HITLQ_ST_OK : store_status(rc);
}

static int
ri_put(struct store *s, MDB_txn *txn, uint64_t id, uint64_t ready_ms, uint64_t claim_ms)
{
    uint8_t k[9];
    struct rollup_item ri = { ROLLUP_VERSION, 0, ready_ms, claim_ms };

    return rk_put(s, txn, k, ri_key(k, id), &ri, sizeof ri);
}

static int
ri_del(struct store *s, MDB_txn *txn, uint64_t id)
{
    uint8_t k[9];
    MDB_val key = { ri_key(k, id), k };
    int rc = mdb_del(txn, s->rollup, &key, NULL);

    return rc == MDB_NOTFOUND ? HITLQ_ST_OK : store_status(rc);
}

/* ---- pruning ------------------------------------------------------------------ */

/* Deletes up to ROLLUP_PRUNE_MAX minute keys older than the retention, at
 * most once per minute unless the limit was reached. */
static int
rollup_prune(struct store *s, MDB_txn *txn, uint64_t now_ms)
{
    struct rollup_live *rl = rollup_live(s);
    uint64_t minute = now_ms / ROLLUP_MINUTE_MS, cut = now_ms > ROLLUP_KEEP_MS
                      ? now_ms - ROLLUP_KEEP_MS : 0;
    MDB_cursor *cur;
    MDB_val k, d;
    unsigned n = 0;
    int rc;

    if (rl == NULL || rl->pruned_minute == minute)
        return HITLQ_ST_OK;
    if ((rc = mdb_cursor_open(txn, s->rollup, &cur)) != 0)
        return store_status(rc);
    rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST);
    while (rc == 0 && n < ROLLUP_PRUNE_MAX && k.mv_size > 9 &&
           store_get_be64(k.mv_data) < cut) {
        if ((rc = mdb_cursor_del(cur, 0)) == 0)
            rc = mdb_cursor_get(cur, &k, &d, MDB_GET_CURRENT);
        n++;
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_status(rc);
    if (n < ROLLUP_PRUNE_MAX)
        rl->pruned_minute = minute;
    return HITLQ_ST_OK;
}

/* ---- SUBMIT ------------------------------------------------------------------------ */

static void
row_submit(struct rollup_row *r, const void *arg)
{
    const struct decision *d = arg;

    r->submits++;
    if (d->route < ROLLUP_ROUTES)
        r->route[d->route]++;
    if (d->outcome == DECISION_AUTO)
        r->auto_resolved++;
    else
        r->queued++;
    r->qa_sampled += d->outcome == DECISION_AUTO && d->qa;
}

/* Counts the `rule` of every reason map (the data-quality route's). */
static int
rollup_rules(struct store *s, MDB_txn *txn, const char *type, const struct decision *d,
             uint64_t now_ms)
{
    msgpack_unpacked u;
    int st = HITLQ_ST_OK;

    if (d->reasons_mp == NULL || d->route != HITLQ_ROUTE_DATA_QUALITY)
        return HITLQ_ST_OK;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, (const char *)d->reasons_mp, d->reasons_len, NULL) ==
            MSGPACK_UNPACK_SUCCESS && u.data.type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < u.data.via.array.size && st == HITLQ_ST_OK; i++) {
            const msgpack_object *m = &u.data.via.array.ptr[i];
            char id[HITLQ_MAX_NAME + 1];

            for (uint32_t j = 0; m->type == MSGPACK_OBJECT_MAP && j < m->via.map.size; j++) {
                const msgpack_object *kk = &m->via.map.ptr[j].key, *v = &m->via.map.ptr[j].val;

                if (kk->type != MSGPACK_OBJECT_STR || kk->via.str.size != 4 ||
                    memcmp(kk->via.str.ptr, "rule", 4) != 0 ||
                    v->type != MSGPACK_OBJECT_STR || v->via.str.size > HITLQ_MAX_NAME)
                    continue;
                memcpy(id, v->via.str.ptr, v->via.str.size);
                id[v->via.str.size] = '\0';
                st = rollup_count(s, txn, now_ms, 'R', type, id);
            }
        }
    }
    msgpack_unpacked_destroy(&u);
    return st;
}

int
rollup_submit(struct store *s, MDB_txn *txn, const char *type, const struct decision *d,
              uint64_t now_ms)
{
    bool queued = d->outcome != DECISION_AUTO;
    int st = rollup_prune(s, txn, now_ms);

    if (st == HITLQ_ST_OK)
        st = rollup_row_edit(s, txn, now_ms, type, queued ? d->queue : "", row_submit, d);
    if (st == HITLQ_ST_OK)
        st = rollup_rules(s, txn, type, d, now_ms);
    if (st == HITLQ_ST_OK && queued)
        st = ri_put(s, txn, d->id, now_ms, 0);
    if (st == HITLQ_ST_OK && !queued && d->qa)
        st = ri_put(s, txn, d->qa_id, now_ms, 0);
    return st;
}

/* ---- item events ------------------------------------------------------------------ */

/* What one event adds to its queue row. */
struct ev_delta {
    const struct journal_ev *e;
    uint64_t wait_ms, review_ms;
    bool     has_wait, has_review, breach;
};

static void
row_event(struct rollup_row *r, const void *arg)
{
    const struct ev_delta *x = arg;

    switch (x->e->kind) {
    case JOURNAL_CLAIMED:       r->claims++; break;
    case JOURNAL_RELEASED:      r->releases++; break;
    case JOURNAL_EXPIRED:       r->expiries++; break;
    case JOURNAL_ESCALATED:     r->escalations++; break;
    case JOURNAL_DEAD_LETTERED: r->dead_letters++; break;
    case JOURNAL_RESOLVED:      r->decisions++; break;
    default: break;
    }
    r->sla_breaches += x->breach;
    if (x->has_wait) {
        r->wait_n++;
        r->wait_ms += x->wait_ms;
        r->wait_h[rollup_bucket(x->wait_ms)]++;
    }
    if (x->has_review) {
        r->review_n++;
        r->review_ms += x->review_ms;
        r->review_h[rollup_bucket(x->review_ms)]++;
    }
}

/* The specialist's row: one more decision, with its review time. */
static int
rollup_spec_decision(struct store *s, MDB_txn *txn, uint64_t at_ms, const char *actor,
                     const struct ev_delta *x)
{
    uint8_t k[RK_MAX];
    size_t kl = rk_make(k, at_ms, 'S', actor, "");
    struct rollup_spec sp;
    int st = rk_get(s, txn, k, kl, &sp, sizeof sp);

    if (st != HITLQ_ST_OK)
        return st;
    sp.decisions++;
    if (x->has_review) {
        sp.review_n++;
        sp.review_ms += x->review_ms;
    }
    return rk_put(s, txn, k, kl, &sp, sizeof sp);
}

/* Moves the item's clock for event e; fills x's times. */
static int
rollup_clock(struct store *s, MDB_txn *txn, const struct qi_item *qi, uint64_t at_ms,
             struct ev_delta *x)
{
    struct rollup_item ri;
    bool found;
    int st = ri_get(s, txn, qi->id, &ri, &found);
    uint64_t ready = found ? ri.ready_ms : qi->h.created_ms;
    uint64_t claim = found ? ri.claim_ms : qi->h.due_ms - qi->h.lease_ms;
    bool final = x->e->kind == JOURNAL_RESOLVED || x->e->kind == JOURNAL_DEAD_LETTERED;

    if (st != HITLQ_ST_OK)
        return st;
    switch (x->e->kind) {
    case JOURNAL_CLAIMED:
        x->has_wait = at_ms >= ready;
        x->wait_ms = at_ms - ready;
        return ri_put(s, txn, qi->id, ready, at_ms);
    case JOURNAL_RELEASED:
        return ri_put(s, txn, qi->id, at_ms + x->e->delay_ms, 0);
    case JOURNAL_EXPIRED:
    case JOURNAL_ESCALATED:
    case JOURNAL_REOPENED:
        return ri_put(s, txn, qi->id, at_ms, 0);
    case JOURNAL_RESOLVED:
    case JOURNAL_VERDICT:
        x->has_review = qi->h.state == HITLQ_STATE_LEASED && claim != 0 && at_ms >= claim;
        x->review_ms = at_ms - claim;
        x->breach = x->e->kind == JOURNAL_RESOLVED && qi->h.deadline_ms != 0 &&
                    at_ms > qi->h.deadline_ms;
        break;
    default:
        break;
    }
    return final ? ri_del(s, txn, qi->id) : HITLQ_ST_OK;
}

/* One later event of item qi (whose stored header is the state before). */
static int
rollup_event(struct store *s, MDB_txn *txn, const struct journal_item *it,
             const struct qi_item *qi, uint64_t at_ms, const struct journal_ev *e)
{
    struct rollup_live *rl = rollup_live(s);
    struct ev_delta x = { .e = e };
    bool decision = e->kind == JOURNAL_RESOLVED || e->kind == JOURNAL_VERDICT;
    int st = rollup_clock(s, txn, qi, at_ms, &x);

    if (st == HITLQ_ST_OK && e->kind != JOURNAL_VERDICT)
        st = rollup_row_edit(s, txn, at_ms, it->type, qi->h.queue, row_event, &x);
    if (st == HITLQ_ST_OK && e->kind == JOURNAL_RESOLVED && e->root_cause != NULL &&
        e->root_cause[0] != '\0')
        st = rollup_count(s, txn, at_ms, 'C', qi->h.queue, e->root_cause);
    if (st == HITLQ_ST_OK && decision && e->actor != NULL)
        st = rollup_spec_decision(s, txn, at_ms, e->actor, &x);
    if (st == HITLQ_ST_OK && decision && rl != NULL && e->actor != NULL) {
        rl->id = it->id;
        rl->at_ms = at_ms;
        snprintf(rl->actor, sizeof rl->actor, "%s", e->actor);
    }
    return st;
}

int
rollup_journal(struct store *s, MDB_txn *txn, const struct journal_item *it,
               uint64_t at_ms, const struct journal_ev *ev, size_t n)
{
    struct qi_item qi;
    bool loaded = false;
    int st = HITLQ_ST_OK;

    for (size_t i = 0; i < n && st == HITLQ_ST_OK; i++) {
        if (journal_kind_implied(ev[i].kind) || ev[i].kind == JOURNAL_EXTENDED ||
            ev[i].kind == JOURNAL_COMMENTED || ev[i].kind == JOURNAL_AMENDED)
            continue;
        if (!loaded) {
            st = qi_item_load(s, txn, it->id, &qi);
            if (st == HITLQ_ST_NOT_FOUND)
                return HITLQ_ST_OK;
            if (st != HITLQ_ST_OK)
                return st;
            loaded = true;
        }
        st = rollup_event(s, txn, it, &qi, at_ms, &ev[i]);
    }
    if (loaded)
        qi_item_done(&qi);
    return st;
}

/* ---- verdicts ------------------------------------------------------------------------ */

struct verdict_delta {
    enum rollup_agreement a;
    bool blind;
};

static void
row_verdict(struct rollup_row *r, const void *arg)
{
    const struct verdict_delta *v = arg;

    r->verdicts[v->a][v->blind]++;
}

/* One more verdict of agreement a in (minute at, type, band). */
static int
rollup_band_count(struct store *s, MDB_txn *txn, uint64_t at, const char *type,
                  unsigned band, enum rollup_agreement a)
{
    uint8_t k[RK_MAX];
    char b[4];
    size_t kl;
    struct rollup_band rb;
    int st;

    snprintf(b, sizeof b, "%u", band);
    kl = rk_make(k, at, 'B', type, b);
    if ((st = rk_get(s, txn, k, kl, &rb, sizeof rb)) != HITLQ_ST_OK)
        return st;
    rb.verdicts[a]++;
    return rk_put(s, txn, k, kl, &rb, sizeof rb);
}

int
rollup_verdict(struct store *s, MDB_txn *txn, uint64_t id, const char *type,
               const char *queue, unsigned band, enum rollup_agreement a, bool blind)
{
    struct rollup_live *rl = rollup_live(s);
    struct verdict_delta v = { a < ROLLUP_AGREEMENTS ? a : ROLLUP_NONE, blind };
    bool mine = rl != NULL && rl->id == id;
    uint64_t at = mine ? rl->at_ms : util_now_ms();
    int st = rollup_row_edit(s, txn, at, type, queue, row_verdict, &v);

    if (st == HITLQ_ST_OK && band < ROLLUP_BANDS)
        st = rollup_band_count(s, txn, at, type, band, v.a);

    if (st == HITLQ_ST_OK && mine) {
        uint8_t k[RK_MAX];
        size_t kl = rk_make(k, at, 'S', rl->actor, "");
        struct rollup_spec sp;

        if ((st = rk_get(s, txn, k, kl, &sp, sizeof sp)) != HITLQ_ST_OK)
            return st;
        sp.agreement[v.a]++;
        st = rk_put(s, txn, k, kl, &sp, sizeof sp);
    }
    return st;
}

/* ---- reading ----------------------------------------------------------------------------- */

static size_t
rollup_kind_size(char kind)
{
    switch (kind) {
    case 'Q': return sizeof(struct rollup_row);
    case 'S': return sizeof(struct rollup_spec);
    case 'B': return sizeof(struct rollup_band);
    case 'R': case 'C': return sizeof(uint32_t);
    default: return 0;
    }
}

/* Splits key k into kind and names (copied, NUL-terminated); false when
 * malformed. */
static bool
rollup_key_split(const MDB_val *k, char *kind, char *a, char *b)
{
    const uint8_t *p = k->mv_data;
    const uint8_t *z;
    size_t la, lb;

    if (k->mv_size < 10 || k->mv_size > RK_MAX || p[0] == RK_ITEM)
        return false;
    *kind = (char)p[8];
    z = memchr(p + 9, 0, k->mv_size - 9);
    if (z == NULL)
        return false;
    la = (size_t)(z - (p + 9));
    lb = k->mv_size - 10 - la;
    if (la > ROLLUP_NAME_MAX || lb > ROLLUP_NAME_MAX)
        return false;
    memcpy(a, p + 9, la);
    a[la] = '\0';
    memcpy(b, z + 1, lb);
    b[lb] = '\0';
    return true;
}

int
rollup_scan(struct store *s, MDB_txn *txn, uint64_t from_ms, uint64_t to_ms,
            rollup_fn fn, void *arg)
{
    char a[ROLLUP_NAME_MAX + 1], b[ROLLUP_NAME_MAX + 1], kind;
    uint8_t kb[8];
    MDB_cursor *cur;
    MDB_val k = { 8, kb }, d;
    int rc, st = HITLQ_ST_OK;

    if ((rc = mdb_cursor_open(txn, s->rollup, &cur)) != 0)
        return store_status(rc);
    store_put_be64(kb, from_ms - from_ms % ROLLUP_MINUTE_MS);
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    while (rc == 0 && st == HITLQ_ST_OK && rollup_key_split(&k, &kind, a, b)) {
        uint64_t minute = store_get_be64(k.mv_data);

        if (minute >= to_ms)
            break;
        if (d.mv_size == rollup_kind_size(kind))
            st = fn(arg, minute, kind, a, b, d.mv_data, d.mv_size);
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (st == HITLQ_ST_OK && rc != 0 && rc != MDB_NOTFOUND)
        st = store_status(rc);
    return st;
}

void
rollup_row_merge(struct rollup_row *dst, const struct rollup_row *src)
{
    dst->submits += src->submits;
    dst->auto_resolved += src->auto_resolved;
    dst->queued += src->queued;
    dst->qa_sampled += src->qa_sampled;
    for (unsigned i = 0; i < ROLLUP_ROUTES; i++)
        dst->route[i] += src->route[i];
    dst->claims += src->claims;
    dst->decisions += src->decisions;
    dst->escalations += src->escalations;
    dst->releases += src->releases;
    dst->expiries += src->expiries;
    dst->dead_letters += src->dead_letters;
    dst->sla_breaches += src->sla_breaches;
    for (unsigned a = 0; a < ROLLUP_AGREEMENTS; a++) {
        dst->verdicts[a][0] += src->verdicts[a][0];
        dst->verdicts[a][1] += src->verdicts[a][1];
    }
    dst->review_n += src->review_n;
    dst->wait_n += src->wait_n;
    dst->review_ms += src->review_ms;
    dst->wait_ms += src->wait_ms;
    for (unsigned b = 0; b < ROLLUP_BUCKETS; b++) {
        dst->review_h[b] += src->review_h[b];
        dst->wait_h[b] += src->wait_h[b];
    }
}

void
rollup_spec_merge(struct rollup_spec *dst, const struct rollup_spec *src)
{
    dst->decisions += src->decisions;
    dst->review_n += src->review_n;
    dst->review_ms += src->review_ms;
    for (unsigned a = 0; a < ROLLUP_AGREEMENTS; a++)
        dst->agreement[a] += src->agreement[a];
}

/* ---- SLA risk of open items ----------------------------------------------------------- */

int
rollup_queue_risk(struct store *s, MDB_txn *txn, const char *queue, uint64_t now_ms,
                  uint32_t max, uint64_t *r50, uint64_t *r75)
{
    uint8_t pre[HITLQ_MAX_QUEUE_NAME + 1];
    size_t pl = strnlen(queue, HITLQ_MAX_QUEUE_NAME);
    MDB_cursor *cur;
    MDB_val k = { pl + 1, pre }, d;
    uint32_t n = 0;
    int rc;

    *r50 = *r75 = 0;
    memcpy(pre, queue, pl);
    pre[pl] = 0;
    if ((rc = mdb_cursor_open(txn, s->open, &cur)) != 0)
        return store_status(rc);
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    while (rc == 0 && n++ < max && k.mv_size == pl + 9 && memcmp(k.mv_data, pre, pl + 1) == 0) {
        uint64_t created = d.mv_size == 16 ? store_get_be64(d.mv_data) : 0;
        uint64_t deadline = d.mv_size == 16 ? store_get_be64((const uint8_t *)d.mv_data + 8) : 0;

        if (deadline > created && now_ms < deadline) {
            uint64_t budget = deadline - created, used = now_ms > created ? now_ms - created : 0;

            *r50 += used * 2 >= budget;
            *r75 += used * 4 >= budget * 3;
        }
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? HITLQ_ST_OK : store_status(rc);
}
