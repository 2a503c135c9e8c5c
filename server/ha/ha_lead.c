/*
 * ha_lead.c - the leadership of the cluster: one row in hitlq_leader with
 * an epoch, its holder, the holder's client address and a lease judged by
 * PostgreSQL's own clock (so the nodes' clocks never compare).  Taking
 * the next epoch fences the previous leader: every append checks the
 * epoch (ha_log.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha_int.h"
#include "log.h"
#include "util.h"


int
ha_leader_read(struct ha *h, struct ha_leader *out, char *err, size_t errlen)
{
    static const char sql[] =
        "SELECT epoch, durable_seq, holder, addr,"
        " (extract(epoch FROM (lease_until - clock_timestamp())) * 1000)::bigint"
        " FROM hitlq_leader WHERE id = 1";
    PGresult *r = ha_exec(h, &h->loop, sql, 0, NULL, NULL, NULL, 0, HA_STMT_MS, err, errlen);
    bool ok = r != NULL && ha_result_ok(r, err, errlen);

    if (ok && PQntuples(r) != 1) {
        snprintf(err, errlen, "hitlq_leader has no row");
        ok = false;
    }
    if (ok) {
        out->epoch = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
        out->durable_seq = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
        snprintf(out->holder, sizeof(out->holder), "%s", PQgetvalue(r, 0, 2));
        snprintf(out->addr, sizeof(out->addr), "%s", PQgetvalue(r, 0, 3));
        out->lease_left_ms = strtoll(PQgetvalue(r, 0, 4), NULL, 10);
    }
    PQclear(r);
    return ok ? 0 : -1;
}

int
ha_take(struct ha *h, uint64_t *epoch, char *err, size_t errlen)
{
    static const char sql[] =
        "UPDATE hitlq_leader SET epoch = epoch + 1, holder = $1, addr = $2,"
        " lease_until = clock_timestamp() + $3::bigint * interval '1 millisecond'"
        " WHERE id = 1 AND (lease_until < clock_timestamp() OR holder = $1)"
        " RETURNING epoch";
    char ms[24];
    const char *v[3] = { h->node, h->addr, ms };
    PGresult *r;
    int rc = -1;

    snprintf(ms, sizeof(ms), "%u", h->lease_ms);
    r = ha_exec(h, &h->loop, sql, 3, v, NULL, NULL, 0, HA_STMT_MS, err, errlen);
    if (r != NULL && ha_result_ok(r, err, errlen)) {
        rc = PQntuples(r) == 1;
        if (rc == 1) {
            *epoch = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
            atomic_store(&h->epoch, *epoch);
        }
    }
    PQclear(r);
    return rc;
}

int
ha_renew(struct ha *h, uint64_t *lease_end_ns)
{
    static const char sql[] =
        "UPDATE hitlq_leader SET durable_seq = greatest(durable_seq, $2::bigint),"
        " lease_until = clock_timestamp() + $3::bigint * interval '1 millisecond'"
        " WHERE id = 1 AND epoch = $1::bigint";
    char e[24], d[24], ms[24], err[512];
    const char *v[3] = { e, d, ms };
    uint64_t sent = util_mono_ns();
    PGresult *r;
    int rc = -1;

    snprintf(e, sizeof(e), "%llu", (unsigned long long)atomic_load(&h->epoch));
    snprintf(d, sizeof(d), "%llu", (unsigned long long)atomic_load(&h->appended));
    snprintf(ms, sizeof(ms), "%u", h->lease_ms);
    r = ha_exec(h, &h->renew, sql, 3, v, NULL, NULL, 0, (int)(h->lease_ms / 3), err,
                sizeof(err));
    if (r != NULL && ha_result_ok(r, err, sizeof(err))) {
        rc = strcmp(PQcmdTuples(r), "1") == 0 ? 0 : 1;
        /* PostgreSQL started the lease after we sent: ending ours a little
         * earlier still keeps it inside theirs (clock rates differ). */
        if (rc == 0)
            *lease_end_ns = sent + (uint64_t)h->lease_ms * 950000u;
    } else if (!h->renew_failing) {      /* once per streak: retried every 200 ms */
        log_event(LOG_LVL_WARN, "ha_renew_failed", "leadership lease not renewed; retrying",
                  LOG_STR("reason", err));
    }
    if (rc == 0 && h->renew_failing)
        log_event(LOG_LVL_INFO, "ha_renewed", "leadership lease renewed again",
                  LOG_UINT("epoch", atomic_load(&h->epoch)));
    h->renew_failing = rc != 0;
    PQclear(r);
    return rc;
}

void
ha_release(struct ha *h)
{
    static const char sql[] =
        "UPDATE hitlq_leader SET lease_until = 'epoch' WHERE id = 1 AND epoch = $1::bigint";
    char e[24], err[512];
    const char *v[1] = { e };
    PGresult *r;

    snprintf(e, sizeof(e), "%llu", (unsigned long long)atomic_load(&h->epoch));
    r = ha_exec(h, &h->renew, sql, 1, v, NULL, NULL, 0, HA_STMT_MS, err, sizeof(err));
    if (r == NULL || !ha_result_ok(r, err, sizeof(err)))
        log_event(LOG_LVL_WARN, "ha_release_failed", "lease not given up; a follower takes "
                  "over when it lapses", LOG_STR("reason", err));
    PQclear(r);
}

int
ha_cosig_put(struct ha *h, uint64_t size, const char *node, const char *note, char *err,
             size_t errlen)
{
    static const char sql[] =
        "INSERT INTO hitlq_cosig (size, node, cosig) VALUES ($1::bigint, $2, $3)"
        " ON CONFLICT DO NOTHING";
    char sz[24];
    const char *v[3] = { sz, node, note };
    PGresult *r;
    bool ok;

    snprintf(sz, sizeof(sz), "%llu", (unsigned long long)size);
    r = ha_exec(h, &h->loop, sql, 3, v, NULL, NULL, 0, HA_STMT_MS, err, errlen);
    ok = r != NULL && ha_result_ok(r, err, errlen);
    PQclear(r);
    return ok ? 0 : -1;
}
