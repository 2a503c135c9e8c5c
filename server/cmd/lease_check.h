/*
 * lease_check.h - the policy checks of a lease holder's decision before
 * anything is queued (lease_check.c): ESCALATE's target queue and
 * RESOLVE's root cause.  Both answer the request themselves when they
 * refuse it.
 */
#ifndef HITLQ_LEASE_CHECK_H
#define HITLQ_LEASE_CHECK_H

#include <stdbool.h>

#include <msgpack.h>

struct conn;
struct frame_hdr;

/* ESCALATE: `queue` (a checked WIRE_QNAME) must be a queue the policy in
 * force knows (scoring_queue_known with the server's dead-letter queue).
 * False after replying unknown_queue, whose message lists the known
 * queues; nothing is written. */
bool lease_queue_known(struct conn *c, const struct frame_hdr *h, const msgpack_object *queue);

/* RESOLVE: when the type of item `id` declares "root_causes",
 * `root_cause` (a checked WIRE_NAME or NULL) must be one of them
 * (score_root_cause_declared; an absent root cause is allowed).  Items of
 * a type without a policy and unknown items are not checked (the lease
 * check decides).  False after replying invalid_root_cause, whose message
 * lists the declared ones; nothing is written, the lease is kept. */
bool lease_root_cause_ok(struct conn *c, const struct frame_hdr *h, const msgpack_object *id,
                         const msgpack_object *root_cause);

#endif
