/*
 * ha_node.c - a hitlqd node of an HA cluster (docs/HA.md).  Before it
 * leads, a node follows: a timer on the loop applies the durable rows of
 * the log (server/ha/), reads who leads, and takes the next epoch when
 * the leader's lease has lapsed; meanwhile the listener answers every
 * request but PING with `not_leader` naming the leader.  A leader renews
 * its lease on a thread of its own and stops the process the moment it
 * cannot be sure it still leads (another node may then take over; every
 * append is checked against the epoch anyway).  A follower also witnesses
 * the leader's checkpoints (ha_cosign.c).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conn.h"
#include "ha.h"
#include "ha_cosign.h"
#include "ha_node.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "util.h"
#include "wire.h"

#define HA_TICK_MS     100       /* follower: apply and look at the leader */
#define HA_EXIT_LOST   7         /* exit status: leadership lost */

static const char *ha_portfile;
static bool ha_signalled;

bool
ha_node_signalled(void)
{
    return ha_signalled;
}

void
ha_node_set_portfile(const char *path)
{
    ha_portfile = path;
}

struct ha_follow {
    struct hitlq_server *srv;
    uint64_t             epoch;  /* taken: the epoch this node now leads */
    bool                 failing;/* the last tick failed (logged once) */
};

static void
ha_on_frame(struct conn *c, const struct frame_hdr *h, const uint8_t *body)
{
    struct hitlq_server *srv = c->srv;
    char msg[256];

    (void)body;
    if (h->opcode == HITLQ_OP_PING) {
        size_t off = wire_frame_begin(&srv->out);
        msgpack_pack_map(&srv->pk, 1);
        wire_pack_kv_u64(&srv->pk, "time_ms", util_now_ms());
        wire_frame_end(&srv->out, off, h->opcode, HITLQ_ST_OK, h->request_id);
        conn_flush_out(c);
        return;
    }
    snprintf(msg, sizeof(msg), srv->ha_leader[0] ? "this node follows; the leader is %s"
             : "this node follows; no leader is serving yet (retry)", srv->ha_leader);
    wire_pack_error_kv(&srv->out, &srv->pk, h->opcode, HITLQ_ST_NOT_LEADER, h->request_id,
                       msg, "leader", srv->ha_leader);
    conn_flush_out(c);
    conn_close_flushed(c, HITLQ_ST_NOT_LEADER, msg);
}

static void ha_on_close(struct conn *c) { (void)c; }
static void ha_on_drain(struct conn *c) { (void)c; }

static const struct net_hooks ha_follow_hooks = { ha_on_frame, ha_on_close, ha_on_drain };

/* One follower tick: apply, read the leader row, take over if it lapsed. */
static void
ha_on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct ha_follow *f = arg;
    struct hitlq_server *srv = f->srv;
    struct ha_leader l;
    char err[512] = "";
    int rc = -1;

    (void)fd;
    (void)what;
    if (ha_catch_up(srv->ha, srv->store, false, err, sizeof(err)) >= 0 &&
        ha_leader_read(srv->ha, &l, err, sizeof(err)) == 0) {
        if (srv->ha_witness != NULL)
            ha_cosigner_tick(srv->ha_witness, srv);
        snprintf(srv->ha_leader, sizeof(srv->ha_leader), "%s", l.lease_left_ms >= 0 ? l.addr : "");
        rc = l.lease_left_ms < 0 || strcmp(l.holder, srv->ha_node) == 0
             ? ha_take(srv->ha, &f->epoch, err, sizeof(err)) : 0;
    }
    if (rc < 0 && !f->failing)
        log_event(LOG_LVL_WARN, "ha_follow_failed", "following the log failed; retrying",
                  LOG_STR("reason", err));
    f->failing = rc < 0;
    if (rc == 1)
        event_base_loopbreak(srv->base);
}

/* Follows until this node takes an epoch (0) or a signal stops it (1). */
static int
ha_follow(struct hitlq_server *srv, uint64_t *epoch, char *err, size_t errlen)
{
    struct ha_follow f = { srv, 0, false };
    struct timeval tick = { 0, HA_TICK_MS * 1000 };
    struct event *ev = event_new(srv->base, -1, EV_PERSIST, ha_on_tick, &f);

    if (ev == NULL || evtimer_add(ev, &tick) != 0) {
        snprintf(err, errlen, "out of memory");
        if (ev)
            event_free(ev);
        return -1;
    }
    log_event(LOG_LVL_INFO, "ha_following", "following the leader",
              LOG_STR("node", srv->ha_node), LOG_UINT("port", srv->net.port));
    event_base_dispatch(srv->base);
    event_free(ev);
    *epoch = f.epoch;
    ha_signalled = f.epoch == 0;
    return f.epoch != 0 ? 0 : 1;
}

struct ha_renewal {
    struct hitlq_server *srv;
    pthread_t            thread;
    atomic_bool          stop;
};

/* The leader's lease: renewed every third of it; the process stops when
 * another epoch exists or the lease ran out unrenewed. */
static void *
ha_renew_main(void *arg)
{
    struct ha_renewal *rn = arg;
    struct hitlq_server *srv = rn->srv;
    uint64_t end = util_mono_ns() + srv->cfg->ha_lease_ms * 900000u, next = 0;

    while (!atomic_load(&rn->stop)) {
        if (util_mono_ns() >= next) {
            int rc = ha_renew(srv->ha, &end);
            if (rc == 1 || (rc < 0 && util_mono_ns() >= end)) {
                log_event(LOG_LVL_ERROR, "ha_leadership_lost",
                          "leadership lost; stopping at once (a follower takes over)",
                          LOG_STR("reason", rc == 1 ? "another node took a newer epoch"
                                                    : "the lease ran out unrenewed"),
                          LOG_UINT("epoch", ha_epoch(srv->ha)));
                _exit(HA_EXIT_LOST);
            }
            next = util_mono_ns() + (rc == 0 ? srv->cfg->ha_lease_ms / 3 : 200) * 1000000u;
        }
        nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
    }
    return NULL;
}

/* Becomes the leader of `epoch`: the rest of the log, the hook, the lease. */
static int
ha_lead(struct hitlq_server *srv, uint64_t epoch, char *err, size_t errlen)
{
    long n = ha_catch_up(srv->ha, srv->store, true, err, errlen);
    struct ha_renewal *rn;

    ha_cosigner_free(srv->ha_witness);     /* a leader does not witness itself */
    srv->ha_witness = NULL;
    if (n < 0 || ha_hook(srv->ha, srv->store, epoch, err, errlen) != 0)
        return -1;
    if ((rn = calloc(1, sizeof(*rn))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rn->srv = srv;
    if (pthread_create(&rn->thread, NULL, ha_renew_main, rn) != 0) {
        free(rn);
        snprintf(err, errlen, "cannot start the lease thread");
        return -1;
    }
    srv->ha_renewal = rn;
    log_event(LOG_LVL_INFO, "ha_leading", "this node leads",
              LOG_STR("node", srv->ha_node), LOG_UINT("epoch", epoch),
              LOG_INT("caught_up_rows", n));
    return 0;
}

/* This node's name and client address: configured, or the bound
 * listen address. */
static void
ha_names(struct hitlq_server *srv)
{
    const struct hitlq_config *cfg = srv->cfg;
    char host[96];
    const char *colon = strrchr(cfg->listen, ':');
    size_t hl = colon ? (size_t)(colon - cfg->listen) : strlen(cfg->listen);

    snprintf(host, sizeof(host), "%.*s", (int)(hl < sizeof(host) ? hl : sizeof(host) - 1),
             cfg->listen);
    if (cfg->ha_advertise[0])
        snprintf(srv->ha_addr, sizeof(srv->ha_addr), "%s", cfg->ha_advertise);
    else
        snprintf(srv->ha_addr, sizeof(srv->ha_addr), "%s:%u", host, (unsigned)srv->net.port);
    snprintf(srv->ha_node, sizeof(srv->ha_node), "%s", cfg->ha_node[0] ? cfg->ha_node
                                                                         : srv->ha_addr);
}

int
ha_node_start(struct hitlq_server *srv, char *err, size_t errlen)
{
    struct ha_config hc;
    uint64_t epoch = 0;
    long n;
    int rc;

    net_set_owner(&srv->net, &ha_follow_hooks, srv, &srv->out, &srv->pk);
    if (net_listen(&srv->net, err, errlen) != 0)
        return -1;
    if (ha_portfile != NULL)
        util_write_portfile(ha_portfile, srv->net.port);
    ha_names(srv);
    hc = (struct ha_config){ srv->cfg->ha_pg, srv->ha_node, srv->ha_addr,
                             (uint32_t)srv->cfg->ha_lease_ms };
    if (ha_open(&srv->ha, &hc, err, errlen) != 0)
        return -1;
    n = ha_catch_up(srv->ha, srv->store, false, err, errlen);
    if (n < 0)
        return -1;
    rc = ha_take(srv->ha, &epoch, err, errlen);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        if (ha_cosigner_new(srv, &srv->ha_witness, err, errlen) != 0)
            return -1;
        if ((rc = ha_follow(srv, &epoch, err, errlen)) != 0)
            return rc;
    }
    return ha_lead(srv, epoch, err, errlen);
}

void
ha_node_stop(struct hitlq_server *srv)
{
    struct ha_renewal *rn = srv->ha_renewal;

    if (rn != NULL) {
        atomic_store(&rn->stop, true);
        pthread_join(rn->thread, NULL);
        ha_release(srv->ha);
        free(rn);
        srv->ha_renewal = NULL;
    }
    ha_cosigner_free(srv->ha_witness);
    srv->ha_witness = NULL;
    ha_close(srv->ha);
    srv->ha = NULL;
}
