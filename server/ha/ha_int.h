/*
 * ha_int.h - what the files of server/ha/ share: the connections and the
 * state of one node's link to the PostgreSQL cluster.
 */
#ifndef HITLQ_HA_INT_H
#define HITLQ_HA_INT_H

#include <stdatomic.h>
#include <stdbool.h>

#include <libpq-fe.h>

#include "ha.h"

/* One PostgreSQL session, used by one thread only. */
struct ha_conn {
    PGconn     *pg;
    const char *who;           /* "loop", "commit", "renew" (logs) */
    bool        warned;        /* a notice said replication was cut short */
};

/* A reusable buffer. */
struct ha_buf {
    uint8_t *p;
    size_t   cap;
};

struct ha {
    char             conninfo[1024];
    char             node[128];
    char             addr[128];
    uint32_t         lease_ms;
    struct ha_conn   loop, commit, renew;
    _Atomic uint64_t epoch;        /* the epoch this node leads, 0 = none */
    _Atomic uint64_t appended;     /* last seq this node appended */
    bool             renew_failing;/* renewal thread: the last renewal failed */
    struct ha_buf    zout;         /* commit thread: the compressed write-set */
    struct ha_buf    zin;          /* loop thread: a decompressed log row */
    void            *cctx;         /* commit thread: ZSTD_CCtx */
    void            *dctx;         /* loop thread: ZSTD_DCtx */
};

/* Log rows hold the write-set compressed (zstd, level HA_ZSTD_LEVEL); a row
 * whose write-set would exceed HA_WSET_MAX is refused before allocating. */
#define HA_ZSTD_LEVEL 1
/* The deadline of a control statement (leader row, read-back, catch-up). */
#define HA_STMT_MS    3000
#define HA_WSET_MAX   (256u << 20)

/* Compresses ws into h->zout (commit thread).  0 (*out, *outlen set) or -1. */
int ha_pack(struct ha *h, const uint8_t *ws, size_t len, const uint8_t **out, size_t *outlen);
/* Decompresses a log row into h->zin (loop thread), checking its declared
 * size against HA_WSET_MAX first.  0 (*out, *outlen set) or -1. */
int ha_unpack(struct ha *h, const uint8_t *row, size_t len, const uint8_t **out,
              size_t *outlen);

/* Runs one statement with parameters (text format unless fmts says 1 =
 * binary) and waits up to timeout_ms (< 0: no limit), connecting first
 * if needed.  Returns the result (caller PQclear()s it; its status may be
 * an error: read it with ha_result_ok / PQresultErrorField), or NULL when
 * the connection failed or timed out (err set; the connection is then
 * dropped and the next call reconnects). */
PGresult *ha_exec(struct ha *h, struct ha_conn *c, const char *sql, int n,
                  const char *const *vals, const int *lens, const int *fmts,
                  int binary_result, int timeout_ms, char *err, size_t errlen);
/* True when r is a success; else err gets the server's message. */
bool ha_result_ok(const PGresult *r, char *err, size_t errlen);
/* Closes c's session (NULL-safe). */
void ha_conn_drop(struct ha_conn *c);
/* A big-endian 8-byte integer from a binary result field. */
uint64_t ha_be64(const char *p);

#endif
