/*
 * authz.h - authorization: which role may send which opcode (one static
 * table, checked by the dispatcher before any handler; deny by default),
 * and the CLAIM rules that need the request (skills, worker name).
 * Object-level rules live in the handlers: a bot's GET (cmd_item.c) and
 * the lease tokens of EXTEND/RELEASE/RESOLVE/ESCALATE (queue_lease.c).
 * The matrix is PROTOCOL.md §3.1.
 */
#ifndef HITLQ_AUTHZ_H
#define HITLQ_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

struct auth_ident;

/* True when `role` (enum auth_role) may send `opcode`.  AUTH_ROLE_LOCAL
 * (auth off) may send everything that has a row. */
bool authz_allowed(unsigned role, uint8_t opcode);

/* True when the table has an explicit row for opcode (even one that
 * allows nobody).  A test checks this for every opcode of HITLQ_OPCODES. */
bool authz_has_row(uint8_t opcode);

/* CLAIM by principal `name` authenticated as who: every queue must be
 * among the specialist's skills (when it has any) and `worker`, if given,
 * must be the principal.  Anything goes when who has no key (auth off).
 * Returns 0, or -1 with the reason in err. */
int authz_claim(const struct auth_ident *who, const char *name,
                const msgpack_object_array *queues, const msgpack_object *worker, char *err,
                size_t errlen);

#endif
