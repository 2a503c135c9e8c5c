/*
 * ha_node.h - a hitlqd node of an HA cluster (docs/HA.md): the follower
 * phase before this node leads, taking over, and the leader's lease.
 */
#ifndef HITLQ_HA_NODE_H
#define HITLQ_HA_NODE_H

#include <stdbool.h>
#include <stddef.h>

struct hitlq_server;

/* With cfg->ha_pg set: connects to the cluster, catches up from the log,
 * then follows (applies the log, listens and answers every request but
 * PING with not_leader naming the leader) until this node takes the next
 * epoch; then catches up to the last row, registers the append hook on
 * the store and starts the lease renewal.  Must run after store_open and
 * before any other write.  Returns 0 when this node leads, 1 when a
 * signal stopped it while following, -1 with the reason in err.  The net
 * hooks are the follower's on return: the caller sets its own. */
int  ha_node_start(struct hitlq_server *srv, char *err, size_t errlen);
/* hitlqd -P FILE: a follower writes its port there once it listens (the
 * leader's start writes it again).  NULL = none. */
void ha_node_set_portfile(const char *path);
/* True when a signal stopped this process while it followed (ha_node_start
 * returned 1): a clean stop. */
bool ha_node_signalled(void);
/* At a clean stop: gives the lease up so a follower takes over at once.
 * No-op without HA. */
void ha_node_stop(struct hitlq_server *srv);

#endif
