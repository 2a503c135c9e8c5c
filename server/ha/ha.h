/*
 * ha.h - high availability on PostgreSQL (docs/HA.md): the replicated log
 * of write-sets (hitlq_log), the fenced leadership (hitlq_leader, an epoch
 * every append checks) and the followers' apply.  This wing talks to
 * PostgreSQL through libpq and to LMDB only through the store's write-set
 * functions (server/store/wset.h); it knows no command and no connection.
 *
 * Threads: the loop thread (follower phase: ha_leader_read, ha_take,
 * ha_catch_up), the commit thread (the append, through the hook that
 * ha_hook registers on the store) and the renewal thread (ha_renew) each
 * use their own PostgreSQL connection.
 */
#ifndef HITLQ_HA_H
#define HITLQ_HA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct ha;

struct ha_config {
    const char *conninfo;      /* libpq conninfo of the PostgreSQL cluster */
    const char *node;          /* this node's name (the leader row's holder) */
    const char *advertise;     /* host:port clients use to reach this node */
    uint32_t    lease_ms;      /* leadership lease */
};

/* The leader row as read (holder "" before anyone led). */
struct ha_leader {
    uint64_t epoch;
    uint64_t durable_seq;      /* the leader's last appended seq (renewals) */
    int64_t  lease_left_ms;    /* < 0: the lease has lapsed */
    char     holder[128];
    char     addr[128];
};

/* Connects (loop-thread connection) and creates the tables if missing.
 * 0, or -1 with the reason in err (then *out is NULL). */
int  ha_open(struct ha **out, const struct ha_config *cfg, char *err, size_t errlen);
/* Closes every connection.  NULL is a no-op. */
void ha_close(struct ha *h);

/* Reads the leader row.  0, or -1 (err). */
int  ha_leader_read(struct ha *h, struct ha_leader *out, char *err, size_t errlen);
/* Takes the next epoch when the lease has lapsed or this node holds it.
 * 1 taken (*epoch set; every row visible afterwards is durable), 0 held
 * by another live leader, -1 error (err). */
int  ha_take(struct ha *h, uint64_t *epoch, char *err, size_t errlen);
/* Applies log rows after the store's sequence number, each in its own
 * write transaction: all visible rows when `all` (only right after
 * ha_take), else only durable ones (seq <= max(durable_seq, max - 1)).
 * Returns how many were applied, or -1 (err: a gap, a bad write-set, a
 * PostgreSQL or LMDB error). */
long ha_catch_up(struct ha *h, struct store *st, bool all, char *err, size_t errlen);
/* Registers the append hook on st for `epoch` (the commit thread's own
 * connection is opened here).  0, or -1 (err). */
int  ha_hook(struct ha *h, struct store *st, uint64_t epoch, char *err, size_t errlen);
/* Renewal thread: extends the lease and publishes the durable sequence.
 * 0 renewed (*lease_end_ns: monotonic time before which no other node can
 * take over), 1 fenced (another epoch exists), -1 not reachable. */
int  ha_renew(struct ha *h, uint64_t *lease_end_ns);
/* At a clean stop, after the last append: ends the lease now so a
 * follower takes over without waiting for it to lapse. */
void ha_release(struct ha *h);
/* Loop thread: publishes a follower's cosigned checkpoint note (the
 * leader's note plus this node's cosignature line) for tree size `size`.
 * 0, or -1 (err). */
int  ha_cosig_put(struct ha *h, uint64_t size, const char *node, const char *note, char *err,
                  size_t errlen);
/* The epoch this node leads (0 = none). */
uint64_t ha_epoch(const struct ha *h);

#endif
