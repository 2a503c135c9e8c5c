/*
 * cmd_drift.c - DRIFT_INPUTS (auditors and admins): a type's input drift
 * over a range of windows against its reference profile, per feature the
 * window counts beside the reference counts, PSI and Jensen-Shannon, the
 * missing and unseen rates, ranked by PSI (proto/PROTOCOL.md §4.12a).  A
 * read transaction on the loop thread; the profile is the one in force.
 * The figures come from proto/drift_stats.h (drift_dist_compare) over
 * each feature's bins plus its missing and unseen counts, so hitlq-audit
 * gets the same numbers from the same counts.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cmd_drift.h"
#include "conn.h"
#include "dispatch.h"
#include "drift_stats.h"
#include "drift_store.h"
#include "profile.h"
#include "score.h"
#include "server.h"
#include "cmd.h"
#include "wire.h"

#define DRIFT_SLOTS_MAX (DRIFT_STORE_BINS_MAX + 2u)

/* One feature's figures. */
struct drift_fig {
    unsigned          index;            /* profile order */
    struct drift_dist d;                /* valid when the window has items */
};

/* Reference and window histograms of feature i: bins, missing, unseen. */
static unsigned
drift_hists(const struct profile_feature *f, const struct drift_counts *c, unsigned i,
            double *ref, double *cur)
{
    unsigned m = f->n_bins;

    for (unsigned b = 0; b < m; b++) {
        ref[b] = f->counts[b];
        cur[b] = c->k != 0 ? c->c[i][b] : 0;
    }
    ref[m] = f->missing;
    ref[m + 1] = 0;
    cur[m] = c->k != 0 ? c->c[i][DRIFT_SLOT_MISSING(m)] : 0;
    cur[m + 1] = c->k != 0 ? c->c[i][DRIFT_SLOT_UNSEEN(m)] : 0;
    return m + 2;
}

/* k: x, or nil when there is nothing to compute it from. */
static void
drift_pack_opt(msgpack_packer *pk, const char *k, double x, bool have)
{
    if (have)
        wire_pack_kv_f64(pk, k, x);
    else
        wire_pack_kv_nil(pk, k);
}

static void
drift_pack_u32s(msgpack_packer *pk, const char *k, const double *v, unsigned n)
{
    wire_pack_cstr(pk, k);
    msgpack_pack_array(pk, n);
    for (unsigned i = 0; i < n; i++)
        msgpack_pack_uint64(pk, (uint64_t)v[i]);
}

static void
drift_pack_feature(msgpack_packer *pk, const struct profile *pr, const struct drift_counts *c,
                   const struct drift_fig *g, unsigned rank)
{
    double ref[DRIFT_SLOTS_MAX], cur[DRIFT_SLOTS_MAX];
    struct profile_feature f;
    unsigned m;

    profile_feature_at(pr, g->index, &f);
    m = f.n_bins;
    drift_hists(&f, c, g->index, ref, cur);
    msgpack_pack_map(pk, 17);
    wire_pack_kv_str(pk, "field", f.field);
    wire_pack_kv_str(pk, "kind", f.kind == PROFILE_NUMERIC ? "numeric" : "categorical");
    wire_pack_kv_u64(pk, "rank", rank);
    wire_pack_cstr(pk, f.kind == PROFILE_NUMERIC ? "edges" : "categories");
    msgpack_pack_array(pk, f.kind == PROFILE_NUMERIC ? m - 1 : m);
    for (unsigned b = 0; f.kind == PROFILE_NUMERIC && b + 1 < m; b++)
        msgpack_pack_double(pk, f.edges[b]);
    for (unsigned b = 0; f.kind == PROFILE_CATEGORICAL && b < m; b++)
        wire_pack_cstr(pk, f.categories[b]);
    drift_pack_u32s(pk, "counts", cur, m);
    drift_pack_u32s(pk, "ref_counts", ref, m);
    wire_pack_kv_u64(pk, "missing", (uint64_t)cur[m]);
    wire_pack_kv_u64(pk, "unseen", (uint64_t)cur[m + 1]);
    wire_pack_kv_u64(pk, "ref_missing", f.missing);
    drift_pack_opt(pk, "missing_rate", cur[m] / c->n, c->n > 0);
    drift_pack_opt(pk, "unseen_rate", cur[m + 1] / c->n, c->n > 0);
    wire_pack_kv_f64(pk, "ref_missing_rate", (double)f.missing / profile_n(pr));
    drift_pack_opt(pk, "psi", g->d.psi, c->n > 0);
    drift_pack_opt(pk, "psi_crit", g->d.psi_crit, c->n > 0);
    drift_pack_opt(pk, "js_div", g->d.js_div, c->n > 0);
    drift_pack_opt(pk, "js_dist", g->d.js_dist, c->n > 0);
    drift_pack_opt(pk, "chi2_p", g->d.chi2_p, c->n > 0);
}

/* Figures of every feature, sorted by PSI (largest first, then profile order). */
static size_t
drift_figures(const struct profile *pr, const struct drift_counts *c, struct drift_fig *g)
{
    double ref[DRIFT_SLOTS_MAX], cur[DRIFT_SLOTS_MAX];
    size_t n = profile_n_features(pr);
    struct profile_feature f;

    for (unsigned i = 0; i < n; i++) {
        unsigned nb;

        profile_feature_at(pr, i, &f);
        nb = drift_hists(&f, c, i, ref, cur);
        g[i] = (struct drift_fig){ .index = i };
        if (c->n > 0 && drift_dist_compare(ref, cur, nb, &g[i].d) != DRIFT_OK)
            g[i].d = (struct drift_dist){ 0 };    /* cannot happen: both totals > 0 */
    }
    for (size_t i = 1; i < n; i++)                     /* insertion sort: <= 64 */
        for (size_t j = i; j > 0 && g[j].d.psi > g[j - 1].d.psi; j--) {
            struct drift_fig t = g[j];

            g[j] = g[j - 1];
            g[j - 1] = t;
        }
    return n;
}

static void
drift_pack(msgpack_packer *pk, const struct type_policy *tp, const struct drift_counts *c,
           uint32_t windows, uint64_t first, uint64_t last)
{
    const struct profile *pr = tp->profile;
    struct drift_fig g[DRIFT_STORE_FEATURES_MAX];
    char hex[65];
    size_t n = drift_figures(pr, c, g);

    sodium_bin2hex(hex, sizeof hex, profile_digest(pr), 32);
    msgpack_pack_map(pk, 9);
    wire_pack_kv_str(pk, "type", tp->type);
    wire_pack_kv_str(pk, "profile", hex);
    wire_pack_kv_str(pk, "version", profile_version(pr));
    wire_pack_kv_u64(pk, "n_ref", profile_n(pr));
    wire_pack_kv_u64(pk, "n", c->n);
    wire_pack_kv_u64(pk, "windows", windows);
    wire_pack_kv_u64(pk, "from_ms", first);
    wire_pack_kv_u64(pk, "to_ms", last);
    wire_pack_cstr(pk, "features");
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        drift_pack_feature(pk, pr, c, &g[i], (unsigned)i + 1);
}

int
drift_inputs_pack(struct hitlq_server *srv, MDB_txn *txn, const struct type_policy *tp,
                  uint64_t from, uint64_t to, msgpack_packer *pk)
{
    static struct drift_counts sum;     /* loop thread only */
    uint64_t first, last;
    uint32_t windows;
    int st = drift_store_sum(srv->store, txn, tp->type, profile_digest(tp->profile), from, to,
                             &sum, &windows, &first, &last);

    if (st == HITLQ_ST_OK && sum.k != 0 && sum.k != profile_n_features(tp->profile))
        st = HITLQ_ST_INTERNAL;
    if (st == HITLQ_ST_OK)
        drift_pack(pk, tp, &sum, windows, first, last);
    return st;
}

static void
drift_inputs_proceed(struct conn *c, const struct frame_hdr *h, const msgpack_object **args)
{
    struct hitlq_server *srv = c->srv;
    const struct type_policy *tp;
    char type[HITLQ_MAX_NAME + 1], err[200];
    uint64_t from = args[1] != NULL ? wire_u64(args[1]) : 0;
    uint64_t to = args[2] != NULL ? wire_u64(args[2]) : UINT64_MAX;
    MDB_txn *txn;
    size_t off;
    int st;

    wire_copy_str(args[0], type, sizeof type);
    if ((tp = scoring_policy(srv->scoring, type)) == NULL || tp->profile == NULL) {
        snprintf(err, sizeof err, tp == NULL ? "no policy for item type \"%s\""
                 : "item type \"%s\" has no input-drift profile", type);
        conn_send_error(c, h->opcode, h->request_id,
                        tp == NULL ? HITLQ_ST_UNKNOWN_TYPE : HITLQ_ST_NOT_FOUND, err);
        return;
    }
    if ((txn = server_read_begin(srv)) == NULL) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INTERNAL, "read failed");
        return;
    }
    off = wire_frame_begin(&srv->out);
    st = drift_inputs_pack(srv, txn, tp, from, to, &srv->pk);
    server_read_end(srv);
    if (st != HITLQ_ST_OK) {
        srv->out.size = off;             /* nothing was packed */
        conn_send_error(c, h->opcode, h->request_id, st, "cannot read the drift counts");
        return;
    }
    reply_finish(c, off, h->opcode, HITLQ_ST_OK, h->request_id);
}

static const struct wire_field drift_inputs_schema[] = {
    { "type", WIRE_NAME, true, 0, 0 },
    { "from_ms", WIRE_UINT, false, 0, UINT64_MAX },
    { "to_ms", WIRE_UINT, false, 0, UINT64_MAX },
};

const struct cmd cmd_drift_inputs = { "DRIFT_INPUTS", HITLQ_OP_DRIFT_INPUTS,
                                      drift_inputs_schema, 3, drift_inputs_proceed };
