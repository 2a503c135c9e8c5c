/*
 * ha_cosign.h - an HA follower as a witness (docs/HA.md §1 "Followers
 * cosign"): it recomputes the Merkle tree from the audit entries it
 * applied, and cosigns (C2SP cosignature/v1) each new checkpoint of the
 * leader whose root it reproduces, publishing the cosigned note in
 * PostgreSQL (hitlq_cosig) for auditors.
 */
#ifndef HITLQ_HA_COSIGN_H
#define HITLQ_HA_COSIGN_H

#include <stddef.h>
#include <stdio.h>

struct hitlq_server;
struct hitlq_config;
struct ha_cosigner;

/* Loads (or makes, mode 0600) this node's witness key and the log's
 * verifier keys.  0, or -1 with the reason in err. */
int  ha_cosigner_new(struct hitlq_server *srv, struct ha_cosigner **out, char *err,
                     size_t errlen);
/* Looks at the newest checkpoint in the store: when it is new, signed by
 * the log's key and its root is the one this node computes from its own
 * entries, cosigns it and publishes it.  Logs a mismatch (and never
 * cosigns past it). */
void ha_cosigner_tick(struct ha_cosigner *w, struct hitlq_server *srv);
void ha_cosigner_free(struct ha_cosigner *w);        /* NULL is a no-op */
/* hitlqd -W: prints this node's witness verifier key (made if missing). */
int  ha_witness_print(const struct hitlq_config *cfg, FILE *out, char *err, size_t errlen);

#endif
