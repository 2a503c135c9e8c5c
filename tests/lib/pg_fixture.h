/*
 * pg_fixture.h - test helper: a throwaway PostgreSQL 15 server (initdb and
 * pg_ctl from /usr/lib/postgresql/15/bin, run as the postgres user when the
 * test runs as root) on a free loopback port with a database `hitlq`, for
 * the HA tests (tests/e2e/test_ha.c).  Also compares two LMDB environments.
 */
#ifndef HITLQ_PG_FIXTURE_H
#define HITLQ_PG_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

struct pg_fixture {
    char     dir[128];          /* mkdtemp: data/, the socket, log */
    uint16_t port;
    char     conninfo[256];     /* libpq conninfo of database hitlq */
    bool     up;
};

/* Starts it (<= 30 s).  0, or -1 with the reason on stderr. */
int  pg_fixture_start(struct pg_fixture *pg);
/* Runs one SQL statement with psql; its first output line into out (may
 * be NULL).  0, or -1. */
int  pg_fixture_sql(const struct pg_fixture *pg, const char *sql, char *out, size_t cap);
/* Stops it and removes the directory. */
void pg_fixture_stop(struct pg_fixture *pg);

/* Compares every named database of the LMDB environments in dirs a and b
 * (opened read-only).  0 when equal; else -1 with the first difference
 * in why. */
int  lmdb_compare(const char *a, const char *b, char *why, size_t cap);

#endif
