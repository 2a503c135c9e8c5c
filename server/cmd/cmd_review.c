/*
 * cmd_review.c - the live AI-vs-human review (cmd_review.h): the write
 * path's counts (the facts each SUBMIT and verdict adds to its window in
 * the decision's own transaction) and DRIFT_REVIEW (auditors and admins,
 * proto/PROTOCOL.md §4.12b): per window of a range and in total, the
 * confusion counts of the model's recommendation against the human
 * verdict with agreement, Cohen's kappa and the override rate, overall and
 * by queue; the blind QA sample per route with the inverse-probability-
 * weighted error rate of the automated decisions; the score histogram
 * with PSI / Jensen-Shannon against the range's first window.  The
 * figures come from proto/drift_stats.h, as hitlq-audit's do.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_review.h"
#include "conn.h"
#include "dispatch.h"
#include "drift_stats.h"
#include "queue.h"
#include "rollup.h"
#include "score.h"
#include "server.h"
#include "wire.h"

#define REVIEW_WINDOWS_MAX 512u          /* windows in one reply */
#define REVIEW_Q_SLOTS     (REVIEW_QUEUES_MAX + 1u)   /* + "other" */

_Static_assert(ROLLUP_BANDS == REVIEW_BINS, "rollup score bands are the review's bins");

/* ---- write path ------------------------------------------------------------- */

uint8_t
review_label(const struct type_policy *p, const char *name)
{
    if (name == NULL || name[0] == '\0')
        return REVIEW_LABEL_NONE;
    if (strcmp(name, p->auto_action) == 0)
        return 0;
    if (p->has_reject && strcmp(name, p->reject_action) == 0)
        return 1;
    for (size_t i = 0; i < p->n_actions && i + 2 < REVIEW_LABELS; i++)
        if (strcmp(name, p->actions[i]) == 0)
            return (uint8_t)(i + 2);
    return REVIEW_LABEL_NONE;
}

void
review_observe(const struct type_policy *p, const struct triage *t, const struct decision *d,
               struct review_obs *o)
{
    double s = d->score;

    o->rec = review_label(p, score_recommendation(p, t));
    o->act = d->outcome == DECISION_AUTO ? review_label(p, d->action) : REVIEW_LABEL_NONE;
    o->scored = d->method != SCORE_METHOD_NONE;
    o->bin = s >= 1.0 ? REVIEW_BINS - 1 : s <= 0.0 || s != s ? 0 : (uint8_t)(s * REVIEW_BINS);
}

static uint64_t
review_window_ms(const struct hitlq_server *srv)
{
    return srv->cfg->drift_window_s * 1000u;
}

/* Keeps the facts of item id (queued, or a QA copy) for its verdict. */
static int
review_keep(struct hitlq_server *srv, MDB_txn *txn, uint64_t id, const char *type,
            const char *queue, const struct review_obs *o, const struct decision *d,
            uint64_t start)
{
    struct review_item it;

    memset(&it, 0, sizeof it);
    it.version = REVIEW_VERSION;
    it.rec = o->rec;
    it.act = o->act;
    it.route = d->route;
    it.flags = (id == d->qa_id && d->qa ? REVIEW_ITEM_QA : 0) |
               (o->scored ? REVIEW_ITEM_SCORED : 0);
    it.bin = o->bin;
    it.start_ms = start;
    it.end_ms = start + review_window_ms(srv);
    snprintf(it.type, sizeof it.type, "%s", type);
    snprintf(it.queue, sizeof it.queue, "%s", queue);
    return review_item_put(srv->store, txn, id, &it);
}

int
review_submit(struct hitlq_server *srv, MDB_txn *txn, const char *type,
              const struct review_obs *o, const struct decision *d, uint64_t now_ms)
{
    uint64_t w = review_window_ms(srv), start = now_ms - now_ms % w;
    struct review_row delta;
    int st;

    memset(&delta, 0, sizeof delta);
    delta.decisions = 1;
    if (d->route < REVIEW_ROUTES)
        delta.route_n[d->route] = 1;
    if (o->scored) {
        delta.scored = 1;
        delta.hist[o->bin] = 1;
    }
    st = review_store_add(srv->store, txn, type, start, start + w, NULL, &delta);
    if (st == HITLQ_ST_OK && d->outcome != DECISION_AUTO)
        st = review_keep(srv, txn, d->id, type, d->queue, o, d, start);
    if (st == HITLQ_ST_OK && d->outcome == DECISION_AUTO && d->qa)
        st = review_keep(srv, txn, d->qa_id, type, d->qa_queue, o, d, start);
    return st;
}

/* Counts one verdict on item id; keep: the item stays open (a four-eyes
 * verdict that did not close it). */
static int
review_count(struct hitlq_server *srv, MDB_txn *txn, uint64_t id, uint8_t label,
             const char *escalated_to, bool keep)
{
    struct review_item it;
    struct review_row delta;
    int st = review_item_get(srv->store, txn, id, &it);

    if (st == HITLQ_ST_NOT_FOUND)
        return HITLQ_ST_OK;
    if (st != HITLQ_ST_OK)
        return st;
    memset(&delta, 0, sizeof delta);
    if (escalated_to != NULL || it.rec >= REVIEW_LABELS || label >= REVIEW_LABELS)
        delta.not_comparable = 1;
    else
        delta.conf[it.rec][label] = 1;
    if (escalated_to == NULL && (it.flags & REVIEW_ITEM_QA) && it.route < REVIEW_ROUTES) {
        delta.qa_n[it.route] = 1;
        delta.qa_wrong[it.route] = label != it.act;
    }
    st = review_store_add(srv->store, txn, it.type, it.start_ms, it.end_ms, NULL, &delta);
    if (st == HITLQ_ST_OK)
        st = review_store_add(srv->store, txn, it.type, it.start_ms, it.end_ms, it.queue,
                              &delta);
    if (st == HITLQ_ST_OK && escalated_to == NULL)      /* minute rollups (rollup.h) */
        st = rollup_verdict(srv->store, txn, id, it.type, it.queue,
                            (it.flags & REVIEW_ITEM_SCORED) && it.bin < ROLLUP_BANDS
                            ? it.bin : ROLLUP_BAND_NONE,
                            delta.not_comparable ? ROLLUP_NONE
                            : it.rec == label ? ROLLUP_AGREE : ROLLUP_OVERRIDE,
                            (it.flags & REVIEW_ITEM_QA) != 0);
    if (st != HITLQ_ST_OK)
        return st;
    if (keep)
        return HITLQ_ST_OK;
    if (escalated_to == NULL)
        return review_item_del(srv->store, txn, id);
    snprintf(it.queue, sizeof it.queue, "%s", escalated_to);
    return review_item_put(srv->store, txn, id, &it);
}

int
review_verdict(struct hitlq_server *srv, MDB_txn *txn, uint64_t id, uint8_t label,
               const char *escalated_to)
{
    return review_count(srv, txn, id, label, escalated_to, false);
}

int
review_verdict_more(struct hitlq_server *srv, MDB_txn *txn, uint64_t id, uint8_t label)
{
    return review_count(srv, txn, id, label, NULL, true);
}

/* ---- DRIFT_REVIEW: collecting the rows -------------------------------------------- */

struct rv_q {
    char              name[HITLQ_MAX_QUEUE_NAME + 1];
    struct review_row row;
};

/* One window (or the total): its totals and its queue rows. */
struct rv_win {
    uint64_t          start, end;
    struct review_row tot;
    unsigned          nq;
    struct rv_q       q[REVIEW_Q_SLOTS];
};

struct rv_acc {
    struct rv_win *w;                   /* REVIEW_WINDOWS_MAX */
    size_t         n;
    bool           more;                /* windows beyond REVIEW_WINDOWS_MAX */
};

/* Adds queue row `row` to w: merged by name, at most REVIEW_QUEUES_MAX
 * named queues, the rest into "other". */
static void
rv_q_add(struct rv_win *w, const char *name, const struct review_row *row)
{
    unsigned i;

    for (i = 0; i < w->nq && strcmp(w->q[i].name, name) != 0; i++)
        ;
    if (i == w->nq && (w->nq >= REVIEW_QUEUES_MAX || strcmp(name, REVIEW_OTHER) == 0)) {
        name = REVIEW_OTHER;
        for (i = 0; i < w->nq && strcmp(w->q[i].name, name) != 0; i++)
            ;
    }
    if (i == w->nq) {
        w->nq++;
        memset(&w->q[i], 0, sizeof w->q[i]);
        snprintf(w->q[i].name, sizeof w->q[i].name, "%s", name);
    }
    review_row_merge(&w->q[i].row, row);
}

/* review_store_scan's callback: windows in order, each one's queue rows. */
static int
rv_collect(void *arg, uint64_t start, const char *queue, const struct review_row *row)
{
    struct rv_acc *a = arg;
    struct rv_win *w;

    if (queue == NULL) {
        if (a->n == REVIEW_WINDOWS_MAX) {
            a->more = true;
            return HITLQ_ST_OK;
        }
        w = &a->w[a->n++];
        memset(w, 0, sizeof *w);
        w->start = start;
        w->end = row->end_ms;
        w->tot = *row;
        return HITLQ_ST_OK;
    }
    if (a->n > 0 && a->w[a->n - 1].start == start)
        rv_q_add(&a->w[a->n - 1], queue, row);
    return HITLQ_ST_OK;
}

/* The sum of all windows into *t. */
static void
rv_total(const struct rv_acc *a, struct rv_win *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < a->n; i++) {
        const struct rv_win *w = &a->w[i];

        t->start = i == 0 ? w->start : t->start;
        t->end = w->end;
        review_row_merge(&t->tot, &w->tot);
        for (unsigned j = 0; j < w->nq; j++)
            rv_q_add(t, w->q[j].name, &w->q[j].row);
    }
}

/* ---- DRIFT_REVIEW: the figures -------------------------------------------------- */

static void
rv_pack_num(msgpack_packer *pk, const char *k, double x)
{
    if (isfinite(x))
        wire_pack_kv_f64(pk, k, x);
    else
        wire_pack_kv_nil(pk, k);
}

/* The confusion matrix of r over the first k labels (unit weights). */
static void
rv_confusion(const struct review_row *r, unsigned k, struct drift_confusion *c)
{
    drift_confusion_init(c, k);
    for (unsigned a = 0; a < k; a++)
        for (unsigned b = 0; b < k; b++) {
            c->cell[a][b] = r->conf[a][b];
            c->sw += r->conf[a][b];
            c->count += r->conf[a][b];
        }
    c->sw2 = c->sw;
}

#define RV_AGREE_KEYS 10u

/* The agreement figures of r (RV_AGREE_KEYS entries of the caller's map). */
static void
rv_pack_agree(msgpack_packer *pk, const struct review_row *r, unsigned k)
{
    struct drift_confusion c;
    struct drift_kappa kp;
    bool any;

    rv_confusion(r, k, &c);
    drift_kappa(&c, DRIFT_Z95, &kp);
    any = c.count > 0;
    wire_pack_kv_u64(pk, "n", c.count);
    rv_pack_num(pk, "agreement", any ? kp.p_o : NAN);
    rv_pack_num(pk, "override_rate", any ? 1.0 - kp.p_o : NAN);
    rv_pack_num(pk, "expected_agreement", any ? kp.p_e : NAN);
    rv_pack_num(pk, "kappa", kp.kappa);
    rv_pack_num(pk, "kappa_se", kp.se);
    rv_pack_num(pk, "kappa_lo", kp.lo);
    rv_pack_num(pk, "kappa_hi", kp.hi);
    wire_pack_kv_u64(pk, "not_comparable", r->not_comparable);
    wire_pack_cstr(pk, "matrix");
    msgpack_pack_array(pk, k);
    for (unsigned a = 0; a < k; a++) {
        msgpack_pack_array(pk, k);
        for (unsigned b = 0; b < k; b++)
            msgpack_pack_uint64(pk, r->conf[a][b]);
    }
}

static void
rv_pack_queues(msgpack_packer *pk, const struct rv_win *w, unsigned k)
{
    wire_pack_cstr(pk, "by_queue");
    msgpack_pack_array(pk, w->nq);
    for (unsigned i = 0; i < w->nq; i++) {
        msgpack_pack_map(pk, 1 + RV_AGREE_KEYS);
        wire_pack_kv_str(pk, "queue", strcmp(w->q[i].name, REVIEW_OTHER) == 0 ? "other"
                                                                         : w->q[i].name);
        rv_pack_agree(pk, &w->q[i].row, k);
    }
}

/* {by_route: [...], n, wrong, error_rate, lo, hi, n_eff} of the QA sample,
 * each route's verdicts weighted 1/q. */
static void
rv_pack_qa(msgpack_packer *pk, const struct review_row *r, double q)
{
    struct drift_ipw a;
    struct drift_interval iv = { 0 };
    unsigned nr = 0;

    drift_ipw_init(&a);
    for (unsigned rt = 0; rt < REVIEW_ROUTES; rt++) {
        nr += r->qa_n[rt] > 0 || rt == HITLQ_ROUTE_AUTO_APPROVE || rt == HITLQ_ROUTE_AUTO_REJECT;
        if (q > 0 && r->qa_n[rt] > 0) {
            a.count += r->qa_n[rt];
            a.wrong += r->qa_wrong[rt];
            a.sw += r->qa_n[rt] / q;
            a.sw_err += r->qa_wrong[rt] / q;
            a.sw2 += r->qa_n[rt] / (q * q);
        }
    }
    if (drift_ipw_rate(&a, DRIFT_Z95, &iv) != DRIFT_OK)
        iv.est = iv.lo = iv.hi = iv.n_eff = NAN;
    msgpack_pack_map(pk, 7);
    wire_pack_cstr(pk, "by_route");
    msgpack_pack_array(pk, nr);
    for (unsigned rt = 0; rt < REVIEW_ROUTES; rt++) {
        if (!(r->qa_n[rt] > 0 || rt == HITLQ_ROUTE_AUTO_APPROVE || rt == HITLQ_ROUTE_AUTO_REJECT))
            continue;
        msgpack_pack_map(pk, 4);
        wire_pack_kv_str(pk, "route", score_route_name(rt));
        wire_pack_kv_u64(pk, "decisions", r->route_n[rt]);
        wire_pack_kv_u64(pk, "qa", r->qa_n[rt]);
        wire_pack_kv_u64(pk, "disagree", r->qa_wrong[rt]);
    }
    wire_pack_kv_u64(pk, "n", a.count);
    wire_pack_kv_u64(pk, "wrong", a.wrong);
    rv_pack_num(pk, "error_rate", iv.est);
    rv_pack_num(pk, "error_lo", iv.lo);
    rv_pack_num(pk, "error_hi", iv.hi);
    rv_pack_num(pk, "n_eff", iv.n_eff);
}

/* {hist, psi, js_div, js_dist} of w's scores against ref's (ref NULL or
 * an empty side: the comparisons are nil). */
static void
rv_pack_scores(msgpack_packer *pk, const struct review_row *r, const struct review_row *ref)
{
    double cur[REVIEW_BINS], rf[REVIEW_BINS];
    struct drift_dist d = { 0 };
    bool ok = false;

    for (unsigned b = 0; b < REVIEW_BINS; b++) {
        cur[b] = r->hist[b];
        rf[b] = ref != NULL ? ref->hist[b] : 0;
    }
    if (ref != NULL)
        ok = drift_dist_compare(rf, cur, REVIEW_BINS, &d) == DRIFT_OK;
    msgpack_pack_map(pk, 4);
    wire_pack_cstr(pk, "hist");
    msgpack_pack_array(pk, REVIEW_BINS);
    for (unsigned b = 0; b < REVIEW_BINS; b++)
        msgpack_pack_uint64(pk, r->hist[b]);
    rv_pack_num(pk, "psi", ok ? d.psi : NAN);
    rv_pack_num(pk, "js_div", ok ? d.js_div : NAN);
    rv_pack_num(pk, "js_dist", ok ? d.js_dist : NAN);
}

/* One window's (or the total's) map. */
static void
rv_pack_win(msgpack_packer *pk, const struct rv_win *w, const struct review_row *ref,
            unsigned k, double q)
{
    msgpack_pack_map(pk, 7 + RV_AGREE_KEYS);
    wire_pack_kv_u64(pk, "start_ms", w->start);
    wire_pack_kv_u64(pk, "end_ms", w->end);
    wire_pack_kv_u64(pk, "decisions", w->tot.decisions);
    wire_pack_kv_u64(pk, "scored", w->tot.scored);
    rv_pack_agree(pk, &w->tot, k);
    rv_pack_queues(pk, w, k);
    wire_pack_cstr(pk, "qa");
    rv_pack_qa(pk, &w->tot, q);
    wire_pack_cstr(pk, "scores");
    rv_pack_scores(pk, &w->tot, ref);
}

/* The labels of p in confusion order; returns how many. */
static unsigned
rv_labels(const struct type_policy *p, const char **names)
{
    unsigned k = 0;

    names[k++] = p->auto_action;
    names[k++] = p->has_reject ? p->reject_action : "";
    for (size_t i = 0; i < p->n_actions && k < REVIEW_LABELS; i++)
        names[k++] = p->actions[i];
    return k;
}

static void
rv_pack(struct hitlq_server *srv, const struct type_policy *p, const struct rv_acc *a,
        const struct rv_win *total, msgpack_packer *pk)
{
    const char *names[REVIEW_LABELS];
    unsigned k = rv_labels(p, names);
    const struct review_row *ref = a->n > 0 ? &a->w[0].tot : NULL;

    msgpack_pack_map(pk, 7);
    wire_pack_kv_str(pk, "type", p->type);
    wire_pack_kv_u64(pk, "window_ms", review_window_ms(srv));
    wire_pack_cstr(pk, "labels");
    msgpack_pack_array(pk, k);
    for (unsigned i = 0; i < k; i++)
        wire_pack_cstr(pk, names[i]);
    wire_pack_kv_f64(pk, "qa_rate", p->qa_rate);
    wire_pack_kv_bool(pk, "truncated", a->more);
    wire_pack_cstr(pk, "total");
    rv_pack_win(pk, total, NULL, k, p->qa_rate);
    wire_pack_cstr(pk, "windows");
    msgpack_pack_array(pk, a->n);
    for (size_t i = 0; i < a->n; i++)
        rv_pack_win(pk, &a->w[i], ref, k, p->qa_rate);
}

int
review_pack(struct hitlq_server *srv, MDB_txn *txn, const struct type_policy *p,
            uint64_t from, uint64_t to, msgpack_packer *pk)
{
    struct rv_acc a = { calloc(REVIEW_WINDOWS_MAX, sizeof(struct rv_win)), 0, false };
    struct rv_win *total = malloc(sizeof *total);
    int st = HITLQ_ST_INTERNAL;

    if (a.w != NULL && total != NULL)
        st = review_store_scan(srv->store, txn, p->type, from - from % review_window_ms(srv),
                               to, rv_collect, &a);
    if (st == HITLQ_ST_OK) {
        rv_total(&a, total);
        rv_pack(srv, p, &a, total, pk);
    }
    free(a.w);
    free(total);
    return st;
}

static void
drift_review_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    struct hitlq_server *srv = c->srv;
    const struct type_policy *p;
    char type[HITLQ_MAX_NAME + 1], err[200];
    uint64_t from = args[1] != NULL ? wire_u64(args[1]) : 0;
    uint64_t to = args[2] != NULL ? wire_u64(args[2]) : UINT64_MAX;
    MDB_txn *txn = NULL;
    size_t off = 0;
    int st = HITLQ_ST_INTERNAL;

    wire_copy_str(args[0], type, sizeof type);
    snprintf(err, sizeof err, "cannot read the review counts");
    if ((p = scoring_policy(srv->scoring, type)) == NULL) {
        st = HITLQ_ST_UNKNOWN_TYPE;
        snprintf(err, sizeof err, "no policy for item type \"%s\"", type);
    } else if ((txn = server_read_begin(srv)) != NULL) {
        off = wire_frame_begin(&srv->out);
        st = review_pack(srv, txn, p, from, to, &srv->pk);
        server_read_end(srv);
    }
    if (st == HITLQ_ST_OK) {
        reply_finish(c, off, h->opcode, HITLQ_ST_OK, h->request_id);
    } else {
        if (txn != NULL)
            srv->out.size = off;          /* drop a partial body */
        conn_send_error(c, h->opcode, h->request_id, st, err);
    }
}

static const struct wire_field drift_review_schema[] = {
    { "type", WIRE_NAME, true, 0, 0 },
    { "from_ms", WIRE_UINT, false, 0, UINT64_MAX },
    { "to_ms", WIRE_UINT, false, 0, UINT64_MAX },
};

const struct cmd cmd_drift_review = { "DRIFT_REVIEW", HITLQ_OP_DRIFT_REVIEW,
                                      drift_review_schema, 3, drift_review_proceed };
