/*
 * pgappend_bench.c - the raw append budget of the HA cluster's PostgreSQL
 * (scripts/ha/cluster.sh; `make bench-ha-append`): one connection appends
 * bytea rows of a fixed size, one INSERT per transaction with
 * synchronous_commit = on (the shape of the leader's batch append in
 * hitlq_log), and prints rows/s, MB/s and the commit latency p50/p99 per
 * size.  Payloads are random (incompressible) and the column is stored
 * EXTERNAL (no compression attempt), so the figures are a lower bound for
 * compressible batches.
 *
 *   pgappend_bench [-c CONNINFO] [-t SECONDS] [-n MAXROWS] [SIZE...]
 *
 * CONNINFO defaults to $HITLQ_PG; SECONDS (per size) to 5; SIZEs (bytes)
 * to 65536 262144 1048576.  Output, one line per size:
 *   pgappend size=B rows=N secs=S rows/s=R MB/s=M p50_ms=X p99_ms=Y sync=NAMES
 */
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define PB_MAXSIZE (64u << 20)  /* largest row accepted: 64 MiB */

/* Returns CLOCK_MONOTONIC in nanoseconds. */
static int64_t pb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Runs sql; returns 0 if it succeeded (command or tuples), else prints the
 * error and returns -1. */
static int pb_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "pgappend_bench: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Copies the value of `SHOW name` into out (at most n bytes). */
static void pb_show(PGconn *c, const char *name, char *out, size_t n)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SHOW %s", name);
    PGresult *r = PQexec(c, sql);
    snprintf(out, n, "%s", PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "?");
    PQclear(r);
}

/* qsort comparator for int64_t. */
static int pb_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Appends one row (seq, buf[0..size)) in its own transaction; returns 0 on
 * a committed INSERT of one row. */
static int pb_append(PGconn *c, int64_t seq, const char *buf, size_t size)
{
    char seqtxt[24];
    snprintf(seqtxt, sizeof seqtxt, "%lld", (long long)seq);
    const char *vals[2] = { seqtxt, buf };
    int lens[2] = { 0, (int)size };
    int fmts[2] = { 0, 1 };
    PGresult *r = PQexecParams(c, "INSERT INTO pgappend_bench VALUES ($1::bigint, $2::bytea)",
                               2, NULL, vals, lens, fmts, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(r), "1") == 0;
    if (!ok)
        fprintf(stderr, "pgappend_bench: INSERT: %s", PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Measures one size for `secs` seconds or `maxrows` rows and prints its
 * line.  Returns 0, or -1 on an error. */
static int pb_run_size(PGconn *c, size_t size, double secs, long maxrows)
{
    char *buf = malloc(size);
    int64_t *lat = malloc(sizeof *lat * (size_t)maxrows);
    char sync[256];
    long n = 0;
    int rc = -1;
    if (buf == NULL || lat == NULL || getrandom(buf, size, 0) < 0 ||
        pb_exec(c, "TRUNCATE pgappend_bench") != 0)
        goto out;
    pb_show(c, "synchronous_standby_names", sync, sizeof sync);
    int64_t t0 = pb_now_ns(), end = t0 + (int64_t)(secs * 1e9);
    while (n < maxrows && pb_now_ns() < end) {
        memcpy(buf, &n, size < sizeof n ? size : sizeof n);    /* every row differs */
        int64_t a = pb_now_ns();
        if (pb_append(c, n + 1, buf, size) != 0)
            goto out;
        lat[n++] = pb_now_ns() - a;
    }
    double el = (double)(pb_now_ns() - t0) / 1e9;
    qsort(lat, (size_t)n, sizeof *lat, pb_cmp);
    printf("pgappend size=%zu rows=%ld secs=%.2f rows/s=%.1f MB/s=%.1f p50_ms=%.2f p99_ms=%.2f sync=%s\n",
           size, n, el, (double)n / el, (double)n * (double)size / el / 1e6,
           n ? (double)lat[n / 2] / 1e6 : 0.0, n ? (double)lat[(n * 99) / 100] / 1e6 : 0.0,
           sync[0] ? sync : "(none: NOT replicated)");
    fflush(stdout);
    rc = 0;
out:
    free(buf);
    free(lat);
    return rc;
}

/* Creates the bench table (EXTERNAL storage) and sets synchronous_commit. */
static int pb_prepare(PGconn *c)
{
    return pb_exec(c, "SET synchronous_commit = on") ||
           pb_exec(c, "CREATE TABLE IF NOT EXISTS pgappend_bench (seq bigint PRIMARY KEY, batch bytea NOT NULL)") ||
           pb_exec(c, "ALTER TABLE pgappend_bench ALTER COLUMN batch SET STORAGE EXTERNAL") ? -1 : 0;
}

int main(int argc, char **argv)
{
    const char *conninfo = getenv("HITLQ_PG");
    double secs = 5;
    long maxrows = 1000000;
    int opt;
    while ((opt = getopt(argc, argv, "c:t:n:")) != -1) {
        if (opt == 'c')
            conninfo = optarg;
        else if (opt == 't')
            secs = atof(optarg);
        else if (opt == 'n')
            maxrows = atol(optarg);
        else
            return 2;
    }
    if (conninfo == NULL || secs <= 0 || secs > 3600 || maxrows <= 0 || maxrows > 10000000) {
        fprintf(stderr, "usage: pgappend_bench [-c CONNINFO | $HITLQ_PG] [-t 1..3600] [-n 1..1e7] [SIZE...]\n");
        return 2;
    }
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pgappend_bench: connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return 1;
    }
    static const size_t defaults[] = { 65536, 262144, 1048576 };
    int rc = pb_prepare(c);
    int nsizes = optind < argc ? argc - optind : 3;
    for (int i = 0; i < nsizes && rc == 0; i++) {
        size_t size = optind < argc ? strtoul(argv[optind + i], NULL, 10) : defaults[i];
        if (size == 0 || size > PB_MAXSIZE) {
            fprintf(stderr, "pgappend_bench: size %zu out of 1..%u\n", size, PB_MAXSIZE);
            rc = -1;
            break;
        }
        rc = pb_run_size(c, size, secs, maxrows);
    }
    if (rc == 0)
        rc = pb_exec(c, "DROP TABLE pgappend_bench");
    PQfinish(c);
    return rc == 0 ? 0 : 1;
}
