/*
 * session_auth.h - the connection side of authentication: auth (auth.h)
 * decides and returns verdicts; this carries them out on connections
 * (replies, refusals, deferred refusals and closes), and brings key
 * administration's effects (a revoked key, replaced skills) to the live
 * connections.  The deferred actions are freed by session_later_free_all
 * (cmd.h).
 */
#ifndef HITLQ_SESSION_AUTH_H
#define HITLQ_SESSION_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"

struct conn;
struct hitlq_server;

/* Carries out v on c, whose request (opcode, request_id) asked for it:
 * AUTH_OK makes c CONN_READY, AUTH_CHALLENGE CONN_CHALLENGED (the caller
 * then sends the reply); AUTH_REFUSE sends the error now; AUTH_REFUSE_LATER
 * stops reading and sends it (as a HELLO reply) after v->delay_ms.
 * True when the caller should reply (OK, CHALLENGE), false when refused. */
bool session_auth_apply(struct conn *c, uint8_t opcode, uint32_t request_id,
                        const struct auth_verdict *v);

/* The exporter of c's TLS session for AUTH's signed message: zeros on a
 * plaintext connection, random bytes (matching no signature) if it cannot
 * be computed. */
void session_auth_exporter(const struct conn *c, uint8_t out[AUTH_MSG_EXPORTER_LEN]);

/* After KEY_REVOKE of key_id committed: every live connection that
 * authenticated with it gets `unauthorized` and is cut off within 1 s
 * (auth_revoked), even if it never reads.  Returns how many. */
size_t session_revoke_key(struct hitlq_server *srv, const uint8_t key_id[AUTH_KEY_ID_LEN]);

/* After a KEY_ADD that replaced principal's skills committed: its live
 * connections claim with the new skills at once. */
void session_push_skills(struct hitlq_server *srv, const char *principal, uint8_t n_skills,
                         const char skills[][HITLQ_MAX_QUEUE_NAME + 1]);

#endif
