/*
 * http_ops.c - the daemon's HTTP routes (http_ops.h): /metrics, /healthz,
 * /readyz, and the scrape callback that sets the gauges computed at
 * scrape time (storage, audit log, connections, queues, process).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <lmdb.h>

#include "audit.h"
#include "auth.h"
#include "commit.h"
#include "conn.h"
#include "http.h"
#include "http_ops.h"
#include "log.h"
#include "metrics.h"
#include "metrics_feed.h"
#include "metrics_reg.h"
#include "server.h"
#include "store.h"
#include "util.h"

/* Every authenticated role may ask for health; the figures are for the
 * roles that watch the operation. */
#define ROLES_HEALTH (HTTP_ROLE(AUTH_ROLE_BOT) | HTTP_ROLE(AUTH_ROLE_SPECIALIST) | \
                      HTTP_ROLE(AUTH_ROLE_AUDITOR) | HTTP_ROLE(AUTH_ROLE_ADMIN) |   \
                      HTTP_ROLE(AUTH_ROLE_VIEWER))
#define ROLES_METRICS (HTTP_ROLE(AUTH_ROLE_ADMIN) | HTTP_ROLE(AUTH_ROLE_VIEWER))

/* Map use and size, and the data directory's free bytes. */
struct ops_storage {
    double used, limit, disk_free;
};

static void
ops_storage(struct hitlq_server *srv, struct ops_storage *st)
{
    MDB_envinfo info;
    MDB_stat ms;
    struct statvfs vfs;

    memset(st, 0, sizeof(*st));
    if (mdb_env_info(srv->store->env, &info) == 0 && mdb_env_stat(srv->store->env, &ms) == 0) {
        st->used = (double)(info.me_last_pgno + 1) * ms.ms_psize;
        st->limit = (double)info.me_mapsize;
    }
    if (statvfs(srv->cfg->data_dir, &vfs) == 0)
        st->disk_free = (double)vfs.f_bavail * (double)vfs.f_frsize;
}

static void
ops_scrape_conns(struct hitlq_server *srv)
{
    double n[AUTH_N_ROLES] = { 0 };

    for (const struct conn *c = srv->net.conns; c != NULL; c = c->next)
        if (c->auth.role < AUTH_N_ROLES)
            n[c->auth.role]++;
    for (unsigned r = 0; r < AUTH_N_ROLES; r++)
        metric_set(metric_get1(srv->m->connections, auth_role_name(r)), n[r]);
}

/* metrics_encode's callback: the scrape-time gauges. */
static void
ops_scrape(struct metrics *m, void *arg)
{
    struct hitlq_server *srv = arg;
    struct srv_metrics *sm = srv->m;
    struct ops_storage st;
    uint64_t n = 0, cp = atomic_load(&sm->health.cp_ok_ms);
    MDB_txn *txn;

    (void)m;
    ops_storage(srv, &st);
    metric_set(sm->storage_used, st.used);
    metric_set(sm->storage_limit, st.limit);
    metric_set(sm->disk_free, st.disk_free);
    if (cp != 0)
        metric_set(sm->tlog_cp_ts, (double)cp / 1000.0);
    if ((txn = server_read_begin(srv)) != NULL) {
        if (srv->audit != NULL && audit_count(srv->store, txn, &n) == HITLQ_ST_OK)
            metric_set(sm->tlog_entries, (double)n);
        metrics_feed_queues(srv, txn);
        server_read_end(srv);
    }
    ops_scrape_conns(srv);
    metrics_reg_process(sm);
}

static void
ops_count(struct hitlq_server *srv, const char *route, int code)
{
    char c[8];

    snprintf(c, sizeof(c), "%d", code);
    metric_inc(metric_get2(srv->m->http_requests, route, c));
}

static void
ops_metrics(struct http_req *r, void *arg)
{
    struct hitlq_server *srv = arg;
    char *text;
    size_t len;

    if (metrics_encode(srv->metrics, &text, &len) != 0) {
        http_reply_text(r, 503, "out of memory\n");
        return;
    }
    http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
    ops_count(srv, "/metrics", 200);
}

static void
ops_healthz(struct http_req *r, void *arg)
{
    http_reply_text(r, 200, "ok\n");
    ops_count(arg, "/healthz", 200);
}

/* The audit signer's reason not to be ready, into out ("" when fine):
 * entries committed that no checkpoint covers, and none signed (since
 * the start) for HTTP_OPS_SIGNER_PERIODS signing intervals. */
static void
ops_signer_reason(struct hitlq_server *srv, uint64_t now, char *out, size_t outlen)
{
    const struct srv_health *hl = &srv->m->health;
    struct audit_cp cp = { 0 };
    uint64_t n = 0, last = atomic_load(&hl->cp_ok_ms), lim;
    MDB_txn *txn;

    out[0] = '\0';
    if (srv->audit == NULL || audit_cp_get(srv->audit, &cp) != HITLQ_ST_OK)
        cp.size = 0;                   /* none yet: every entry waits */
    if (srv->audit == NULL || (txn = server_read_begin(srv)) == NULL)
        return;
    if (audit_count(srv->store, txn, &n) != HITLQ_ST_OK)
        n = 0;
    server_read_end(srv);
    lim = HTTP_OPS_SIGNER_PERIODS * srv->cfg->audit_checkpoint_ms;
    if (lim < HTTP_OPS_SIGNER_MIN_MS)
        lim = HTTP_OPS_SIGNER_MIN_MS;
    if (last == 0)
        last = hl->start_ms;
    if (n > cp.size && now > last + lim)
        snprintf(out, outlen, "audit signer: %llu entries unsigned, no checkpoint for %llu ms\n",
                 (unsigned long long)(n - cp.size), (unsigned long long)(now - last));
}

/* Appends the reasons the server is not ready to out (one per line). */
static void
ops_ready_reasons(struct hitlq_server *srv, char *out, size_t outlen)
{
    struct srv_health *hl = &srv->m->health;
    uint64_t now = util_now_ms(), ok = atomic_load(&hl->commit_ok_ms);
    uint64_t bad = atomic_load(&hl->commit_fail_ms);
    struct ops_storage st;
    size_t o = 0;

#define REASON(...) (o += (size_t)snprintf(out + o, o < outlen ? outlen - o : 0, __VA_ARGS__))
    out[0] = '\0';
    if (srv->failed || srv->stopping)
        REASON("%s\n", srv->failed ? "storage failed" : "stopping");
    ops_storage(srv, &st);
    if (bad > ok && atomic_load(&hl->commit_fail_rc) == MDB_MAP_FULL)
        REASON("storage full (the last write did not fit in map_size_mb)\n");
    else if (bad > ok && atomic_load(&srv->store->fault) == STORE_FAULT_FULL)
        REASON("storage full (%s: the disk is full)\n",
               mdb_strerror(atomic_load(&hl->commit_fail_rc)));
    else if (st.limit > 0 && st.used >= HTTP_OPS_STORAGE_FULL * st.limit)
        REASON("storage full (%.0f of %.0f bytes of the map in use)\n", st.used, st.limit);
    else if (bad > ok)
        REASON("storage: the last write failed (%s)\n",
               mdb_strerror(atomic_load(&hl->commit_fail_rc)));
    if (st.disk_free < 16.0 * 1024 * 1024)
        REASON("disk almost full (%.0f bytes free)\n", st.disk_free);
    /* Idle: ask for a probe write and judge it at the next request.  A
     * healthy idle server stays ready (the probe commits in ms); one whose
     * probe has not committed within HTTP_OPS_COMMIT_FRESH_MS is not. */
    if (ok + HTTP_OPS_COMMIT_FRESH_MS < now) {
        if (hl->probe_asked_ms <= ok) {
            hl->probe_asked_ms = now;
            commit_probe(srv->commit);
        } else if (hl->probe_asked_ms + HTTP_OPS_COMMIT_FRESH_MS < now) {
            REASON("no write committed in %llu ms (a probe write asked %llu ms ago has "
                   "not committed)\n", (unsigned long long)(now - ok),
                   (unsigned long long)(now - hl->probe_asked_ms));
        }
    }
    {
        char sig[160];

        ops_signer_reason(srv, now, sig, sizeof(sig));
        REASON("%s", sig);
    }
#undef REASON
}

static void
ops_readyz(struct http_req *r, void *arg)
{
    struct hitlq_server *srv = arg;
    char why[1024];

    ops_ready_reasons(srv, why, sizeof(why));
    http_reply_text(r, why[0] ? 503 : 200, why[0] ? why : "ready\n");
    ops_count(srv, "/readyz", why[0] ? 503 : 200);
}

int
http_ops_register(struct hitlq_server *srv, char *err, size_t errlen)
{
    if (metrics_on_scrape(srv->metrics, ops_scrape, srv) != 0) {
        snprintf(err, errlen, "metrics: too many scrape callbacks");
        return -1;
    }
    if (srv->http == NULL)
        return 0;
    if (http_route(srv->http, "/metrics", ROLES_METRICS, ops_metrics, srv) != 0 ||
        http_route(srv->http, "/healthz", ROLES_HEALTH, ops_healthz, srv) != 0 ||
        http_route(srv->http, "/readyz", ROLES_HEALTH, ops_readyz, srv) != 0) {
        snprintf(err, errlen, "http: cannot register the routes");
        return -1;
    }
    return 0;
}
