/*
 * pg_fixture.c - a throwaway PostgreSQL for the HA tests, and an LMDB
 * environment comparison (pg_fixture.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lmdb.h>

#include "pg_fixture.h"

#define PG_BIN "/usr/lib/postgresql/15/bin"

static uint16_t
free_port(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    uint16_t port = 0;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Runs cmd as the cluster's owner (postgres when we are root). */
static int
pg_run(const char *cmd)
{
    char full[1024];

    snprintf(full, sizeof(full), "%s%s", geteuid() == 0
             ? "setpriv --reuid=postgres --regid=postgres --init-groups -- " : "", cmd);
    return system(full) == 0 ? 0 : -1;
}

int
pg_fixture_start(struct pg_fixture *pg)
{
    char cmd[1024];

    memset(pg, 0, sizeof(*pg));
    snprintf(pg->dir, sizeof(pg->dir), "/tmp/hitlq-pg-XXXXXX");
    if (mkdtemp(pg->dir) == NULL || (pg->port = free_port()) == 0)
        return -1;
    if (geteuid() == 0) {
        snprintf(cmd, sizeof(cmd), "chown postgres: %s && chmod 0755 %s", pg->dir, pg->dir);
        if (system(cmd) != 0)
            return -1;
    }
    snprintf(cmd, sizeof(cmd), PG_BIN "/initdb -D %s/data -A trust -U postgres --no-sync "
             ">%s/initdb.log 2>&1", pg->dir, pg->dir);
    if (pg_run(cmd) != 0) {
        fprintf(stderr, "pg_fixture: initdb failed (is postgresql-15 installed?)\n");
        return -1;
    }
    snprintf(cmd, sizeof(cmd), PG_BIN "/pg_ctl -D %s/data -w -t 30 -l %s/pg.log -o "
             "\"-p %u -k %s -c listen_addresses=127.0.0.1\" start >/dev/null", pg->dir, pg->dir,
             (unsigned)pg->port, pg->dir);
    if (pg_run(cmd) != 0) {
        fprintf(stderr, "pg_fixture: pg_ctl start failed (%s/pg.log)\n", pg->dir);
        return -1;
    }
    pg->up = true;
    snprintf(pg->conninfo, sizeof(pg->conninfo),
             "host=127.0.0.1 port=%u dbname=hitlq user=postgres connect_timeout=3",
             (unsigned)pg->port);
    return pg_fixture_sql(pg, "CREATE DATABASE hitlq", NULL, 0) == 0 ? 0 : -1;
}

int
pg_fixture_sql(const struct pg_fixture *pg, const char *sql, char *out, size_t cap)
{
    char cmd[1200];
    FILE *p;
    int rc;

    snprintf(cmd, sizeof(cmd), "psql -h 127.0.0.1 -p %u -U postgres -d %s -qAtX -c \"%s\" 2>&1",
             (unsigned)pg->port, strstr(sql, "DATABASE") ? "postgres" : "hitlq", sql);
    if ((p = popen(cmd, "r")) == NULL)
        return -1;
    if (out != NULL && cap > 0) {
        out[0] = '\0';
        if (fgets(out, (int)cap, p) != NULL)
            out[strcspn(out, "\n")] = '\0';
    }
    while (fgetc(p) != EOF)
        ;
    rc = pclose(p);
    return rc == 0 ? 0 : -1;
}

void
pg_fixture_stop(struct pg_fixture *pg)
{
    char cmd[600];

    if (pg->up) {
        snprintf(cmd, sizeof(cmd), PG_BIN "/pg_ctl -D %s/data -m immediate -w stop >/dev/null 2>&1",
                 pg->dir);
        (void)pg_run(cmd);
        pg->up = false;
    }
    if (pg->dir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf %s", pg->dir);
        (void)system(cmd);
    }
}

/* ---- LMDB comparison ---------------------------------------------------- */

static int
env_open(const char *dir, MDB_env **env, MDB_txn **txn)
{
    if (mdb_env_create(env) != 0)
        return -1;
    mdb_env_set_maxdbs(*env, 64);
    if (mdb_env_open(*env, dir, MDB_RDONLY | MDB_NOLOCK, 0600) != 0 ||
        mdb_txn_begin(*env, NULL, MDB_RDONLY, txn) != 0) {
        mdb_env_close(*env);
        return -1;
    }
    return 0;
}

/* Compares database `name` (NULL = the main one) of both. */
static int
db_compare(MDB_txn *ta, MDB_txn *tb, const char *name, char *why, size_t cap)
{
    MDB_dbi da, db;
    MDB_cursor *ca = NULL, *cb = NULL;
    MDB_val ka, va, kb, vb;
    int ra, rb, rc = -1;

    if (mdb_dbi_open(ta, name, 0, &da) != 0 || mdb_dbi_open(tb, name, 0, &db) != 0 ||
        mdb_cursor_open(ta, da, &ca) != 0 || mdb_cursor_open(tb, db, &cb) != 0) {
        snprintf(why, cap, "database %s missing on one side", name ? name : "(main)");
        goto out;
    }
    for (ra = mdb_cursor_get(ca, &ka, &va, MDB_FIRST), rb = mdb_cursor_get(cb, &kb, &vb, MDB_FIRST);
         ra == 0 && rb == 0;
         ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT), rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT)) {
        if (ka.mv_size != kb.mv_size || memcmp(ka.mv_data, kb.mv_data, ka.mv_size) != 0 ||
            (name != NULL && (va.mv_size != vb.mv_size ||
                              memcmp(va.mv_data, vb.mv_data, va.mv_size) != 0))) {
            snprintf(why, cap, "database %s differs", name ? name : "(main)");
            goto out;
        }
    }
    rc = ra == MDB_NOTFOUND && rb == MDB_NOTFOUND ? 0 : -1;
    if (rc != 0)
        snprintf(why, cap, "database %s: one side has more records", name ? name : "(main)");
out:
    if (ca)
        mdb_cursor_close(ca);
    if (cb)
        mdb_cursor_close(cb);
    return rc;
}

int
lmdb_compare(const char *a, const char *b, char *why, size_t cap)
{
    MDB_env *ea, *eb;
    MDB_txn *ta, *tb;
    MDB_cursor *c;
    MDB_val k, v;
    char name[256];
    int rc;

    if (env_open(a, &ea, &ta) != 0)
        return snprintf(why, cap, "cannot open %s", a), -1;
    if (env_open(b, &eb, &tb) != 0) {
        mdb_txn_abort(ta);
        mdb_env_close(ea);
        return snprintf(why, cap, "cannot open %s", b), -1;
    }
    /* The main database lists the named ones (their values are internal
     * records: only the names are compared). */
    rc = db_compare(ta, tb, NULL, why, cap);
    if (rc == 0 && mdb_cursor_open(ta, 1, &c) == 0) {
        for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0 && rc == 0;
             r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            snprintf(name, sizeof(name), "%.*s", (int)k.mv_size, (const char *)k.mv_data);
            rc = db_compare(ta, tb, name, why, cap);
        }
        mdb_cursor_close(c);
    }
    mdb_txn_abort(ta);
    mdb_txn_abort(tb);
    mdb_env_close(ea);
    mdb_env_close(eb);
    return rc;
}
