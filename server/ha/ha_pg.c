/*
 * ha_pg.c - PostgreSQL sessions for the HA wing: connecting with the
 * session settings every statement relies on (synchronous_commit = on),
 * running a statement with a deadline on the libpq asynchronous API, and
 * creating the tables (docs/HA.md).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include <zstd.h>

#include "ha_int.h"
#include "log.h"
#include "util.h"

/* Drops the newline libpq ends its messages with. */
static void
ha_chomp(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* A notice on a commit that waited for a standby and was cut short says
 * the transaction "has already committed locally, but might not have been
 * replicated": such a commit is not acknowledged. */
static void
ha_on_notice(void *arg, const PGresult *r)
{
    struct ha_conn *c = arg;
    const char *m = PQresultErrorMessage(r);

    if (m != NULL && strstr(m, "replicat") != NULL) {
        c->warned = true;
        log_event(LOG_LVL_WARN, "ha_replication_notice", "PostgreSQL cut a replication wait short",
                  LOG_STR("conn", c->who), LOG_STR("notice", m));
    }
}

void
ha_conn_drop(struct ha_conn *c)
{
    if (c->pg != NULL)
        PQfinish(c->pg);
    c->pg = NULL;
}

static int
ha_connect(struct ha *h, struct ha_conn *c, char *err, size_t errlen)
{
    char app[200];
    PGresult *r;

    if (c->pg != NULL && PQstatus(c->pg) == CONNECTION_OK)
        return 0;
    ha_conn_drop(c);
    c->pg = PQconnectdb(h->conninfo);
    if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
        snprintf(err, errlen, "PostgreSQL: %s", c->pg ? PQerrorMessage(c->pg) : "out of memory");
        ha_chomp(err);
        ha_conn_drop(c);
        return -1;
    }
    PQsetNoticeReceiver(c->pg, ha_on_notice, c);
    snprintf(app, sizeof(app), "SET synchronous_commit = on; SET application_name = 'hitlqd-%s-%s'",
             h->node, c->who);
    r = PQexec(c->pg, app);
    if (!ha_result_ok(r, err, errlen)) {
        PQclear(r);
        ha_conn_drop(c);
        return -1;
    }
    PQclear(r);
    return 0;
}

bool
ha_result_ok(const PGresult *r, char *err, size_t errlen)
{
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
        return true;
    snprintf(err, errlen, "PostgreSQL: %s", r ? PQresultErrorMessage(r) : "no result");
    ha_chomp(err);
    return false;
}

/* Waits until c's socket is readable (or writable when `out`), up to
 * the deadline (0 = none).  0 ready, -1 timed out or failed. */
static int
ha_wait(struct ha_conn *c, bool out, uint64_t deadline_ms)
{
    struct pollfd p = { PQsocket(c->pg), out ? POLLOUT : POLLIN, 0 };
    int ms = -1, rc;

    if (deadline_ms != 0) {
        uint64_t now = util_mono_ns() / 1000000u;
        if (now >= deadline_ms)
            return -1;
        ms = (int)(deadline_ms - now);
    }
    do
        rc = poll(&p, 1, ms);
    while (rc < 0 && errno == EINTR);
    return rc > 0 ? 0 : -1;
}

/* Reads every result of the statement sent on c; keeps the last one. */
static PGresult *
ha_collect(struct ha_conn *c, uint64_t deadline_ms)
{
    PGresult *last = NULL, *r;

    for (;;) {
        while (PQisBusy(c->pg)) {
            if (ha_wait(c, false, deadline_ms) != 0 || !PQconsumeInput(c->pg)) {
                PQclear(last);
                return NULL;
            }
        }
        if ((r = PQgetResult(c->pg)) == NULL)
            return last != NULL ? last : PQmakeEmptyPGresult(c->pg, PGRES_FATAL_ERROR);
        PQclear(last);
        last = r;
    }
}

PGresult *
ha_exec(struct ha *h, struct ha_conn *c, const char *sql, int n, const char *const *vals,
        const int *lens, const int *fmts, int binary_result, int timeout_ms, char *err,
        size_t errlen)
{
    uint64_t deadline = timeout_ms < 0 ? 0 : util_mono_ns() / 1000000u + (uint64_t)timeout_ms;
    PGresult *r;
    int f;

    if (ha_connect(h, c, err, errlen) != 0)
        return NULL;
    c->warned = false;
    if (n == 0 && binary_result == 0 ? !PQsendQuery(c->pg, sql)     /* may be a script */
        : !PQsendQueryParams(c->pg, sql, n, NULL, vals, lens, fmts, binary_result))
        goto broken;
    while ((f = PQflush(c->pg)) == 1)
        if (ha_wait(c, true, deadline) != 0)
            goto broken;
    if (f < 0 || (r = ha_collect(c, deadline)) == NULL)
        goto broken;
    return r;
broken:
    snprintf(err, errlen, "PostgreSQL (%s session): %s", c->who,
             PQstatus(c->pg) == CONNECTION_OK ? "no answer before the deadline"
                                              : PQerrorMessage(c->pg));
    ha_chomp(err);
    ha_conn_drop(c);
    return NULL;
}

uint64_t
ha_be64(const char *p)
{
    const unsigned char *b = (const unsigned char *)p;
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

/* One implicit transaction; the advisory lock serialises nodes that start
 * together (CREATE TABLE IF NOT EXISTS alone can race). */
static const char ha_schema[] =
    "SELECT pg_advisory_xact_lock(7420);"
    "CREATE TABLE IF NOT EXISTS hitlq_log (seq bigint PRIMARY KEY, epoch bigint NOT NULL,"
    " batch bytea NOT NULL);"
    "ALTER TABLE hitlq_log ALTER COLUMN batch SET STORAGE EXTERNAL;"
    "CREATE TABLE IF NOT EXISTS hitlq_leader (id int PRIMARY KEY CHECK (id = 1),"
    " epoch bigint NOT NULL, holder text NOT NULL, addr text NOT NULL,"
    " lease_until timestamptz NOT NULL, durable_seq bigint NOT NULL DEFAULT 0);"
    "INSERT INTO hitlq_leader VALUES (1, 0, '', '', 'epoch', 0) ON CONFLICT DO NOTHING;"
    "CREATE TABLE IF NOT EXISTS hitlq_cosig (size bigint NOT NULL, node text NOT NULL,"
    " cosig text NOT NULL, PRIMARY KEY (size, node));";

/* Creates the tables (a few tries: the cluster may still be electing). */
static int
ha_schema_ensure(struct ha *h, char *err, size_t errlen)
{
    for (int i = 0; i < 10; i++) {
        PGresult *r = ha_exec(h, &h->loop, ha_schema, 0, NULL, NULL, NULL, 0, 10000, err,
                              errlen);
        bool ok = r != NULL && ha_result_ok(r, err, errlen);

        PQclear(r);
        if (ok)
            return 0;
        nanosleep(&(struct timespec){ 0, 500000000 }, NULL);
    }
    return -1;
}

int
ha_open(struct ha **out, const struct ha_config *cfg, char *err, size_t errlen)
{
    struct ha *h = calloc(1, sizeof(*h));

    *out = NULL;
    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* A connection attempt must never block a thread for good: libpq waits
     * forever unless told otherwise. */
    snprintf(h->conninfo, sizeof(h->conninfo), "%s%s", cfg->conninfo,
             strstr(cfg->conninfo, "connect_timeout") || strncmp(cfg->conninfo, "postgres", 8) == 0
             ? "" : " connect_timeout=3");
    snprintf(h->node, sizeof(h->node), "%s", cfg->node);
    snprintf(h->addr, sizeof(h->addr), "%s", cfg->advertise);
    h->lease_ms = cfg->lease_ms;
    h->loop.who = "loop";
    h->commit.who = "commit";
    h->renew.who = "renew";
    if (ha_schema_ensure(h, err, errlen) != 0) {
        ha_close(h);
        return -1;
    }
    *out = h;
    return 0;
}

void
ha_close(struct ha *h)
{
    if (h == NULL)
        return;
    ha_conn_drop(&h->loop);
    ha_conn_drop(&h->commit);
    ha_conn_drop(&h->renew);
    ZSTD_freeCCtx(h->cctx);
    ZSTD_freeDCtx(h->dctx);
    free(h->zout.p);
    free(h->zin.p);
    free(h);
}

uint64_t
ha_epoch(const struct ha *h)
{
    return atomic_load(&((struct ha *)h)->epoch);
}

/* Makes b hold at least n bytes.  0 or -1. */
static int
ha_buf_reserve(struct ha_buf *b, size_t n)
{
    uint8_t *p;

    if (n <= b->cap)
        return 0;
    if ((p = realloc(b->p, n)) == NULL)
        return -1;
    b->p = p;
    b->cap = n;
    return 0;
}

int
ha_pack(struct ha *h, const uint8_t *ws, size_t len, const uint8_t **out, size_t *outlen)
{
    size_t n;

    if (h->cctx == NULL && (h->cctx = ZSTD_createCCtx()) == NULL)
        return -1;
    if (ha_buf_reserve(&h->zout, ZSTD_compressBound(len)) != 0)
        return -1;
    n = ZSTD_compressCCtx(h->cctx, h->zout.p, h->zout.cap, ws, len, HA_ZSTD_LEVEL);
    if (ZSTD_isError(n))
        return -1;
    *out = h->zout.p;
    *outlen = n;
    return 0;
}

int
ha_unpack(struct ha *h, const uint8_t *row, size_t len, const uint8_t **out, size_t *outlen)
{
    unsigned long long want = ZSTD_getFrameContentSize(row, len);
    size_t n;

    if (want == ZSTD_CONTENTSIZE_ERROR || want == ZSTD_CONTENTSIZE_UNKNOWN || want == 0 ||
        want > HA_WSET_MAX)
        return -1;
    if ((h->dctx == NULL && (h->dctx = ZSTD_createDCtx()) == NULL) ||
        ha_buf_reserve(&h->zin, (size_t)want) != 0)
        return -1;
    n = ZSTD_decompressDCtx(h->dctx, h->zin.p, (size_t)want, row, len);
    if (ZSTD_isError(n) || n != want)
        return -1;
    *out = h->zin.p;
    *outlen = n;
    return 0;
}
