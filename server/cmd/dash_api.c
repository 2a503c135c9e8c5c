/*
 * dash_api.c - the live dashboard's JSON documents (dash_api.h): the
 * rollup scan and its sums per queue, per type (with per-minute series
 * for the sparklines), rules, root causes and specialists; STATS and the
 * drift builders packed to MessagePack and turned into JSON by one
 * converter, so each figure has one builder.  Everything is encoded with
 * jansson.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cmd_drift.h"
#include "cmd_review.h"
#include "dash_api.h"
#include "metrics_reg.h"
#include "queue.h"
#include "rollup.h"
#include "score.h"
#include "server.h"

#define DASH_NAMES_MAX   64u        /* queues / types / specialists summed */
#define DASH_TAGS_MAX    256u       /* rule and root-cause rows summed */
#define DASH_TOP         10u        /* rules / root causes shown */
#define DASH_SERIES      60u        /* sparkline minutes */
#define DASH_DAY_MIN     1440u
#define DASH_RISK_SCAN   100000u    /* open items looked at per queue */
#define DASH_MP_DEPTH    16

struct dash_named {
    char              name[ROLLUP_NAME_MAX + 1];
    struct rollup_row win, hour, day;
    uint32_t          s_sub[DASH_SERIES], s_auto[DASH_SERIES];
    uint32_t          band[ROLLUP_BANDS][ROLLUP_AGREEMENTS];   /* verdicts (window) */
};

struct dash_tag {
    char     a[ROLLUP_NAME_MAX + 1], b[ROLLUP_NAME_MAX + 1];
    uint64_t n;
};

struct dash_spec {
    char               name[ROLLUP_NAME_MAX + 1];
    struct rollup_spec s;
};

struct dash_acc {
    uint64_t         now, win_from, hour_from, day_from, series_from;
    size_t           nq, nt, nr, nc, ns;
    bool             more;          /* a table was full: figures left out */
    struct dash_named q[DASH_NAMES_MAX], t[DASH_NAMES_MAX];
    struct dash_tag  r[DASH_TAGS_MAX], c[DASH_TAGS_MAX];
    struct dash_spec sp[DASH_NAMES_MAX];
};

/* ---- query ----------------------------------------------------------------- */

int
dash_query_window(const char *query, uint64_t *window_s, char *err, size_t errlen)
{
    char *end;
    unsigned long long v;

    *window_s = DASH_WINDOW_DEFAULT_S;
    if (query == NULL || query[0] == '\0')
        return 0;
    if (strncmp(query, "window=", 7) != 0 || strchr(query, '&') != NULL) {
        snprintf(err, errlen, "the only parameter is window=<seconds>");
        return -1;
    }
    v = strtoull(query + 7, &end, 10);
    if (end == query + 7 || *end != '\0' || v < DASH_WINDOW_MIN_S || v > DASH_WINDOW_MAX_S) {
        snprintf(err, errlen, "window must be %u..%u seconds", DASH_WINDOW_MIN_S,
                 DASH_WINDOW_MAX_S);
        return -1;
    }
    *window_s = v;
    return 0;
}

/* ---- MessagePack -> JSON ------------------------------------------------------- */

static json_t *
dash_mp_json(const msgpack_object *o, int depth)
{
    json_t *j;

    if (depth > DASH_MP_DEPTH)
        return json_null();
    switch (o->type) {
    case MSGPACK_OBJECT_BOOLEAN:          return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return json_integer((json_int_t)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return isfinite(o->via.f64) ? json_real(o->via.f64) : json_null();
    case MSGPACK_OBJECT_STR:              return json_stringn(o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_ARRAY:
        j = json_array();
        for (uint32_t i = 0; j != NULL && i < o->via.array.size; i++)
            json_array_append_new(j, dash_mp_json(&o->via.array.ptr[i], depth + 1));
        return j;
    case MSGPACK_OBJECT_MAP:
        j = json_object();
        for (uint32_t i = 0; j != NULL && i < o->via.map.size; i++) {
            const msgpack_object *k = &o->via.map.ptr[i].key;

            if (k->type == MSGPACK_OBJECT_STR)
                json_object_setn_new(j, k->via.str.ptr, k->via.str.size,
                                     dash_mp_json(&o->via.map.ptr[i].val, depth + 1));
        }
        return j;
    default:
        return json_null();
    }
}

/* Runs a MessagePack builder and returns its document as JSON (NULL
 * with *st on error). */
typedef int (*dash_mp_fn)(struct hitlq_server *srv, MDB_txn *txn, const void *arg,
                          msgpack_packer *pk);

static json_t *
dash_from_mp(struct hitlq_server *srv, MDB_txn *txn, dash_mp_fn fn, const void *arg, int *st)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_unpacked u;
    json_t *j = NULL;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    *st = fn(srv, txn, arg, &pk);
    msgpack_unpacked_init(&u);
    if (*st == HITLQ_ST_OK && msgpack_unpack_next(&u, sb.data, sb.size, NULL) ==
            MSGPACK_UNPACK_SUCCESS)
        j = dash_mp_json(&u.data, 0);
    if (*st == HITLQ_ST_OK && j == NULL)
        *st = HITLQ_ST_INTERNAL;
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    return j;
}

static int
dash_stats_mp(struct hitlq_server *srv, MDB_txn *txn, const void *arg, msgpack_packer *pk)
{
    return queue_stats(srv->store, txn, *(const uint64_t *)arg, pk);
}

struct dash_range {
    const struct type_policy *tp;
    uint64_t from, to;
};

static int
dash_review_mp(struct hitlq_server *srv, MDB_txn *txn, const void *arg, msgpack_packer *pk)
{
    const struct dash_range *r = arg;

    return review_pack(srv, txn, r->tp, r->from, r->to, pk);
}

static int
dash_inputs_mp(struct hitlq_server *srv, MDB_txn *txn, const void *arg, msgpack_packer *pk)
{
    const struct dash_range *r = arg;

    return drift_inputs_pack(srv, txn, r->tp, r->from, r->to, pk);
}

/* ---- the rollup scan ------------------------------------------------------------- */

static struct dash_named *
dash_named(struct dash_acc *a, struct dash_named *tab, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(tab[i].name, name) == 0)
            return &tab[i];
    if (*n == DASH_NAMES_MAX) {
        a->more = true;
        return NULL;
    }
    memset(&tab[*n], 0, sizeof tab[*n]);
    snprintf(tab[*n].name, sizeof tab[*n].name, "%s", name);
    return &tab[(*n)++];
}

static void
dash_tag_add(struct dash_acc *a, struct dash_tag *tab, size_t *n, const char *x,
             const char *y, uint32_t v)
{
    size_t i;

    for (i = 0; i < *n && (strcmp(tab[i].a, x) != 0 || strcmp(tab[i].b, y) != 0); i++)
        ;
    if (i == *n) {
        if (*n == DASH_TAGS_MAX) {
            a->more = true;
            return;
        }
        snprintf(tab[i].a, sizeof tab[i].a, "%s", x);
        snprintf(tab[i].b, sizeof tab[i].b, "%s", y);
        tab[i].n = 0;
        (*n)++;
    }
    tab[i].n += v;
}

/* Adds row r of minute m to a named entry's window, hour and day sums. */
static void
dash_named_add(const struct dash_acc *a, struct dash_named *e, uint64_t m,
               const struct rollup_row *r)
{
    rollup_row_merge(&e->day, r);
    if (m >= a->hour_from)
        rollup_row_merge(&e->hour, r);
    if (m >= a->win_from)
        rollup_row_merge(&e->win, r);
    if (m >= a->series_from) {
        size_t i = (size_t)((m - a->series_from) / ROLLUP_MINUTE_MS);

        if (i < DASH_SERIES) {
            e->s_sub[i] += r->submits;
            e->s_auto[i] += r->auto_resolved;
        }
    }
}

/* Adds a (type, band) verdict row to the type's band sums. */
static void
dash_band_add(struct dash_acc *a, const char *type, const char *band, const void *val)
{
    struct rollup_band rb;
    struct dash_named *e = dash_named(a, a->t, &a->nt, type);
    char *end;
    unsigned long b = strtoul(band, &end, 10);

    if (e == NULL || end == band || *end != '\0' || b >= ROLLUP_BANDS)
        return;
    memcpy(&rb, val, sizeof rb);
    for (unsigned i = 0; i < ROLLUP_AGREEMENTS; i++)
        e->band[b][i] += rb.verdicts[i];
}

static int
dash_collect(void *arg, uint64_t m, char kind, const char *x, const char *y,
             const void *val, size_t len)
{
    struct dash_acc *a = arg;
    struct dash_named *e;
    struct rollup_row r;
    struct rollup_spec s;
    uint32_t v;

    if (kind == 'Q') {
        memcpy(&r, val, sizeof r);
        if ((e = dash_named(a, a->t, &a->nt, x)) != NULL)
            dash_named_add(a, e, m, &r);
        if (y[0] != '\0' && (e = dash_named(a, a->q, &a->nq, y)) != NULL)
            dash_named_add(a, e, m, &r);
    } else if (m >= a->win_from && kind == 'B') {
        dash_band_add(a, x, y, val);
    } else if (m >= a->win_from && (kind == 'R' || kind == 'C')) {
        memcpy(&v, val, sizeof v);
        if (kind == 'R')
            dash_tag_add(a, a->r, &a->nr, x, y, v);
        else
            dash_tag_add(a, a->c, &a->nc, x, y, v);
    } else if (m >= a->win_from && kind == 'S') {
        memcpy(&s, val, sizeof s);
        size_t i;
        for (i = 0; i < a->ns && strcmp(a->sp[i].name, x) != 0; i++)
            ;
        if (i == a->ns && a->ns == DASH_NAMES_MAX) {
            a->more = true;
            return HITLQ_ST_OK;
        }
        if (i == a->ns) {
            memset(&a->sp[i], 0, sizeof a->sp[i]);
            snprintf(a->sp[i].name, sizeof a->sp[i].name, "%s", x);
            a->ns++;
        }
        rollup_spec_merge(&a->sp[i].s, &s);
    }
    (void)len;
    return HITLQ_ST_OK;
}

/* Scans the last day of rollups into a fresh accumulator (NULL: no
 * memory or *st set). */
static struct dash_acc *
dash_scan(struct hitlq_server *srv, MDB_txn *txn, uint64_t now, uint64_t window_s, int *st)
{
    struct dash_acc *a = calloc(1, sizeof *a);
    uint64_t minute = now - now % ROLLUP_MINUTE_MS, span = window_s * 1000u;

    *st = HITLQ_ST_INTERNAL;
    if (a == NULL)
        return NULL;
    a->now = now;
    a->day_from = now > DASH_DAY_MIN * 60000ull ? now - DASH_DAY_MIN * 60000ull : 0;
    a->hour_from = now > 3600000u ? now - 3600000u : 0;
    a->win_from = now > span ? now - span : 0;
    a->series_from = minute - (DASH_SERIES - 1) * (uint64_t)ROLLUP_MINUTE_MS;
    uint64_t from = a->day_from < a->win_from ? a->day_from : a->win_from;
    *st = rollup_scan(srv->store, txn, from, UINT64_MAX, dash_collect, a);
    if (*st != HITLQ_ST_OK) {
        free(a);
        return NULL;
    }
    return a;
}

/* ---- JSON pieces ------------------------------------------------------------------ */

static json_t *
dash_rate(double x, double n)
{
    return n > 0 ? json_real(x / n) : json_null();
}

/* The score bands with verdicts: [{band, score_lo, score_hi, agree,
 * override, none, agreement, override_rate}]. */
static json_t *
dash_bands(const struct dash_named *e)
{
    json_t *j = json_array();

    for (unsigned b = 0; b < ROLLUP_BANDS; b++) {
        const uint32_t *v = e->band[b];
        double ag = v[ROLLUP_AGREE], ov = v[ROLLUP_OVERRIDE];
        char name[16];

        if (v[ROLLUP_AGREE] + v[ROLLUP_OVERRIDE] + v[ROLLUP_NONE] == 0)
            continue;
        snprintf(name, sizeof name, "%.1f-%.1f", b / 10.0, (b + 1) / 10.0);
        json_array_append_new(j, json_pack("{s:s,s:f,s:f,s:I,s:I,s:I,s:o,s:o}", "band", name,
            "score_lo", b / 10.0, "score_hi", (b + 1) / 10.0,
            "agree", (json_int_t)v[ROLLUP_AGREE], "override", (json_int_t)v[ROLLUP_OVERRIDE],
            "none", (json_int_t)v[ROLLUP_NONE], "agreement", dash_rate(ag, ag + ov),
            "override_rate", dash_rate(ov, ag + ov)));
    }
    return j;
}

static json_t *
dash_verdicts(const struct rollup_row *r)
{
    uint64_t ag = r->verdicts[ROLLUP_AGREE][0] + r->verdicts[ROLLUP_AGREE][1];
    uint64_t ov = r->verdicts[ROLLUP_OVERRIDE][0] + r->verdicts[ROLLUP_OVERRIDE][1];
    uint64_t no = r->verdicts[ROLLUP_NONE][0] + r->verdicts[ROLLUP_NONE][1];
    uint64_t bl = r->verdicts[ROLLUP_AGREE][1] + r->verdicts[ROLLUP_OVERRIDE][1] +
                  r->verdicts[ROLLUP_NONE][1];

    return json_pack("{s:I,s:I,s:I,s:I,s:o,s:o}", "agree", (json_int_t)ag, "override",
                     (json_int_t)ov, "none", (json_int_t)no, "blind", (json_int_t)bl,
                     "agreement", dash_rate((double)ag, (double)(ag + ov)),
                     "override_rate", dash_rate((double)ov, (double)(ag + ov)));
}

/* Sets a queue's rollup figures (over the window) on its STATS object. */
static void
dash_queue_figures(json_t *q, const struct dash_named *e)
{
    const struct rollup_row *r = &e->win;

    json_object_set_new(q, "claims", json_integer(r->claims));
    json_object_set_new(q, "decisions", json_integer(r->decisions));
    json_object_set_new(q, "escalations", json_integer(r->escalations));
    json_object_set_new(q, "dead_letters", json_integer(r->dead_letters));
    json_object_set_new(q, "sla_breaches", json_integer(r->sla_breaches));
    json_object_set_new(q, "wait_p50_s", json_real(rollup_quantile(r->wait_h, r->wait_n, 0.5)));
    json_object_set_new(q, "wait_p95_s", json_real(rollup_quantile(r->wait_h, r->wait_n, 0.95)));
    json_object_set_new(q, "review_p50_s",
                        json_real(rollup_quantile(r->review_h, r->review_n, 0.5)));
    json_object_set_new(q, "review_p95_s",
                        json_real(rollup_quantile(r->review_h, r->review_n, 0.95)));
    json_object_set_new(q, "review_mean_s", dash_rate(r->review_ms / 1000.0, r->review_n));
    json_object_set_new(q, "verdicts", dash_verdicts(r));
}

/* The queues: STATS's entries with SLA risk and the rollup figures. */
static json_t *
dash_queues(struct hitlq_server *srv, MDB_txn *txn, const json_t *stats,
            const struct dash_acc *a)
{
    json_t *out = json_array(), *q;
    size_t i;

    json_array_foreach(json_object_get(stats, "queues"), i, q) {
        const char *name = json_string_value(json_object_get(q, "queue"));
        json_t *c = json_deep_copy(q);
        uint64_t r50 = 0, r75 = 0;

        if (name == NULL || c == NULL) {
            json_decref(c);
            continue;
        }
        rollup_queue_risk(srv->store, txn, name, a->now, DASH_RISK_SCAN, &r50, &r75);
        json_object_set_new(c, "at_risk_50", json_integer((json_int_t)r50));
        json_object_set_new(c, "at_risk_75", json_integer((json_int_t)r75));
        for (size_t k = 0; k < a->nq; k++)
            if (strcmp(a->q[k].name, name) == 0)
                dash_queue_figures(c, &a->q[k]);
        json_array_append_new(out, c);
    }
    return out;
}

static json_t *
dash_series(const uint32_t *v)
{
    json_t *j = json_array();

    for (size_t i = 0; i < DASH_SERIES; i++)
        json_array_append_new(j, json_integer(v[i]));
    return j;
}

static json_t *
dash_routes(const struct rollup_row *r)
{
    json_t *j = json_object();

    for (unsigned rt = 1; rt < ROLLUP_ROUTES; rt++)
        if (r->route[rt] != 0)
            json_object_set_new(j, score_route_name(rt), json_integer(r->route[rt]));
    return j;
}

/* The blind QA sample's agreement with the automated decisions: one
 * minus DRIFT_REVIEW's weighted error rate, with its Wilson interval
 * mirrored ({n, rate, lo, hi}; rate and bounds null without a sample). */
static json_t *
dash_qa_agreement(const json_t *qa)
{
    const json_t *e = json_object_get(qa, "error_rate"), *lo = json_object_get(qa, "error_lo"),
                 *hi = json_object_get(qa, "error_hi");
    bool ok = json_is_number(e) && json_is_number(lo) && json_is_number(hi);

    return json_pack("{s:I,s:o,s:o,s:o}", "n", json_integer_value(json_object_get(qa, "n")),
                     "rate", ok ? json_real(1 - json_number_value(e)) : json_null(),
                     "lo", ok ? json_real(1 - json_number_value(hi)) : json_null(),
                     "hi", ok ? json_real(1 - json_number_value(lo)) : json_null());
}

/* The drift figures of type tp over the last day: DRIFT_REVIEW's total and
 * last window (score PSI against the day's first window), DRIFT_INPUTS's
 * five features that moved most. */
static void
dash_type_drift(struct hitlq_server *srv, MDB_txn *txn, const struct type_policy *tp,
                const struct dash_acc *a, json_t *t)
{
    struct dash_range rg = { tp, a->day_from, UINT64_MAX };
    json_t *rv, *in, *w;
    int st;

    if ((rv = dash_from_mp(srv, txn, dash_review_mp, &rg, &st)) != NULL) {
        w = json_object_get(rv, "windows");
        json_object_set(t, "review", json_object_get(rv, "total"));
        json_object_set_new(t, "qa_agreement",
                            dash_qa_agreement(json_object_get(json_object_get(rv, "total"),
                                                              "qa")));
        json_object_set(t, "score_drift", json_object_get(
                            json_array_get(w, json_array_size(w) - 1), "scores"));
        json_decref(rv);
    }
    if (tp->profile == NULL ||
        (in = dash_from_mp(srv, txn, dash_inputs_mp, &rg, &st)) == NULL)
        return;
    w = json_object_get(in, "features");
    while (json_array_size(w) > 5)
        json_array_remove(w, json_array_size(w) - 1);
    json_object_set(t, "features_moved", w);
    json_decref(in);
}

static json_t *
dash_types(struct hitlq_server *srv, MDB_txn *txn, const struct dash_acc *a, uint64_t win_s)
{
    json_t *out = json_array();

    for (size_t i = 0; i < a->nt; i++) {
        const struct dash_named *e = &a->t[i];
        const struct type_policy *tp = scoring_policy(srv->scoring, e->name);
        json_t *t = json_pack("{s:s,s:I,s:f,s:o,s:o,s:o,s:o,s:o,s:o}", "type", e->name,
            "submits", (json_int_t)e->win.submits,
            "submits_per_s", (double)e->win.submits / (double)win_s,
            "route_mix", dash_routes(&e->win),
            "auto_rate_hour", dash_rate(e->hour.auto_resolved, e->hour.submits),
            "auto_rate_day", dash_rate(e->day.auto_resolved, e->day.submits),
            "series_submits", dash_series(e->s_sub),
            "series_auto", dash_series(e->s_auto),
            "verdicts", dash_verdicts(&e->win));

        if (t != NULL)
            json_object_set_new(t, "verdicts_by_band", dash_bands(e));

        if (t != NULL && tp != NULL)
            dash_type_drift(srv, txn, tp, a, t);
        json_array_append_new(out, t);
    }
    return out;
}

static int
dash_tag_cmp(const void *x, const void *y)
{
    const struct dash_tag *p = x, *q = y;

    return p->n < q->n ? 1 : p->n > q->n ? -1 : strcmp(p->b, q->b);
}

/* The top DASH_TOP of tab as [{ka, kb, count}]. */
static json_t *
dash_top(struct dash_tag *tab, size_t n, const char *ka, const char *kb)
{
    json_t *j = json_array();

    qsort(tab, n, sizeof *tab, dash_tag_cmp);
    for (size_t i = 0; i < n && i < DASH_TOP; i++)
        json_array_append_new(j, json_pack("{s:s,s:s,s:I}", ka, tab[i].a, kb, tab[i].b,
                                           "count", (json_int_t)tab[i].n));
    return j;
}

/* The audit log: entries, the published checkpoint's size, and when this
 * process last signed one (health.cp_ok_ms, set by commit.c; null before
 * the first checkpoint since start). */
static json_t *
dash_audit(struct hitlq_server *srv, MDB_txn *txn, uint64_t now)
{
    struct audit_cp cp;
    uint64_t n = 0, cp_ms = atomic_load(&srv->m->health.cp_ok_ms);

    if (srv->audit == NULL)
        return json_pack("{s:b}", "enabled", 0);
    if (audit_count(srv->store, txn, &n) != 0)
        n = 0;
    if (audit_cp_get(srv->audit, &cp) != 0)
        cp.size = 0;
    return json_pack("{s:b,s:I,s:I,s:I,s:o,s:o}", "enabled", 1, "entries", (json_int_t)n,
                     "checkpoint_size", (json_int_t)cp.size,
                     "not_checkpointed", (json_int_t)(n > cp.size ? n - cp.size : 0),
                     "checkpoint_ms", cp_ms != 0 ? json_integer((json_int_t)cp_ms)
                                                 : json_null(),
                     "checkpoint_age_s", cp_ms != 0 ? json_real(now > cp_ms ?
                                                    (double)(now - cp_ms) / 1000.0 : 0)
                                                    : json_null());
}

static json_t *
dash_health(struct hitlq_server *srv)
{
    MDB_envinfo info;
    MDB_stat st;
    uint64_t used = 0, limit = 0;
    bool ok = mdb_env_info(srv->store->env, &info) == 0 &&
              mdb_env_stat(srv->store->env, &st) == 0;

    if (ok) {
        used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
        limit = info.me_mapsize;
    }
    return json_pack("{s:s,s:I,s:I,s:o}", "status", ok ? "ok" : "storage unreadable",
                     "storage_used_bytes", (json_int_t)used, "storage_limit_bytes",
                     (json_int_t)limit, "storage_used_ratio", dash_rate((double)used,
                                                                        (double)limit));
}

/* ---- the page ---------------------------------------------------------------------- */

/* The page's bytes, generated from server/cmd/dashboard.html at build time
 * (scripts/embed-file.sh; Makefile). */
extern const unsigned char hitlq_dashboard_html[];
extern const size_t hitlq_dashboard_html_len;

const char *
dash_page(size_t *len)
{
    *len = hitlq_dashboard_html_len;
    return (const char *)hitlq_dashboard_html;
}

/* ---- the documents ------------------------------------------------------------------- */

static json_t *
dash_overview_txn(struct hitlq_server *srv, MDB_txn *txn, uint64_t now, uint64_t window_s,
                  int *st)
{
    struct dash_acc *a;
    json_t *stats = dash_from_mp(srv, txn, dash_stats_mp, &now, st), *doc = NULL;

    if (stats == NULL || (a = dash_scan(srv, txn, now, window_s, st)) == NULL) {
        json_decref(stats);
        return NULL;
    }
    doc = json_pack("{s:I,s:I,s:o,s:o,s:o,s:o,s:{s:o,s:o},s:o,s:b}",
        "time_ms", (json_int_t)now, "window_s", (json_int_t)window_s,
        "health", dash_health(srv), "audit", dash_audit(srv, txn, now),
        "queues", dash_queues(srv, txn, stats, a),
        "types", dash_types(srv, txn, a, window_s),
        "smelly", "rules", dash_top(a->r, a->nr, "type", "rule"),
        "root_causes", dash_top(a->c, a->nc, "queue", "tag"),
        "stats", json_incref(stats), "truncated", a->more);
    json_decref(stats);
    free(a);
    if (doc == NULL)
        *st = HITLQ_ST_INTERNAL;
    return doc;
}

json_t *
dash_overview(struct hitlq_server *srv, uint64_t now_ms, uint64_t window_s, int *status)
{
    MDB_txn *txn = server_read_begin(srv);
    json_t *doc;

    *status = HITLQ_ST_INTERNAL;
    if (txn == NULL)
        return NULL;
    doc = dash_overview_txn(srv, txn, now_ms, window_s, status);
    server_read_end(srv);
    return doc;
}

static json_t *
dash_spec_json(const struct dash_spec *p, uint64_t window_s)
{
    const struct rollup_spec *s = &p->s;
    uint32_t ag = s->agreement[ROLLUP_AGREE], ov = s->agreement[ROLLUP_OVERRIDE];

    return json_pack("{s:s,s:I,s:f,s:o,s:I,s:I,s:I,s:o}", "specialist", p->name,
                     "decisions", (json_int_t)s->decisions,
                     "decisions_per_h", s->decisions * 3600.0 / (double)window_s,
                     "review_mean_s", dash_rate(s->review_ms / 1000.0, s->review_n),
                     "agree", (json_int_t)ag, "override", (json_int_t)ov,
                     "not_comparable", (json_int_t)s->agreement[ROLLUP_NONE],
                     "agreement", dash_rate(ag, (double)ag + ov));
}

json_t *
dash_specialists(struct hitlq_server *srv, uint64_t now_ms, uint64_t window_s, int *status)
{
    MDB_txn *txn = server_read_begin(srv);
    struct dash_acc *a;
    json_t *arr, *doc;

    *status = HITLQ_ST_INTERNAL;
    if (txn == NULL)
        return NULL;
    a = dash_scan(srv, txn, now_ms, window_s, status);
    server_read_end(srv);
    if (a == NULL)
        return NULL;
    arr = json_array();
    for (size_t i = 0; i < a->ns; i++)
        json_array_append_new(arr, dash_spec_json(&a->sp[i], window_s));
    doc = json_pack("{s:I,s:I,s:o,s:b}", "time_ms", (json_int_t)now_ms, "window_s",
                    (json_int_t)window_s, "specialists", arr, "truncated", a->more);
    free(a);
    if (doc == NULL)
        *status = HITLQ_ST_INTERNAL;
    return doc;
}
