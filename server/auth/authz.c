/*
 * authz.c - the role x operation matrix (PROTOCOL.md §3.1) and the CLAIM
 * checks that depend on the principal.  Deny by default: an opcode with
 * no row is allowed to nobody, and a test makes sure every opcode has one.
 */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "authz.h"

#define AUTHZ_ROW 0x8000u              /* the opcode has an explicit row */

/* R(bot, specialist, auditor, admin): 1 = allowed.  HELLO, AUTH and PING are
 * also open to a connection that has not authenticated yet (the
 * dispatcher lets nothing but HELLO through before it). */
#define R(bot, spec, aud, adm)                                  \
    (AUTHZ_ROW | (unsigned)(bot) << AUTH_ROLE_BOT |             \
     (unsigned)(spec) << AUTH_ROLE_SPECIALIST |                 \
     (unsigned)(aud) << AUTH_ROLE_AUDITOR |                     \
     (unsigned)(adm) << AUTH_ROLE_ADMIN)
#define PUBLIC (1u << AUTH_ROLE_NONE)

static const uint16_t authz_table[256] = {
    /*                                   bot spec aud adm */
    [HITLQ_OP_HELLO]             = R(1,  1,   1,  1) | PUBLIC,
    [HITLQ_OP_PING]              = R(1,  1,   1,  1) | PUBLIC,
    [HITLQ_OP_AUTH]              = R(1,  1,   1,  1) | PUBLIC,  /* once: cmd_session.c */
    [HITLQ_OP_SUBMIT]            = R(1,  0,   0,  0),
    [HITLQ_OP_GET]               = R(1,  1,   1,  1),   /* bot: own items (cmd_item.c) */
    [HITLQ_OP_STATS]             = R(0,  1,   0,  1),
    [HITLQ_OP_CLAIM]             = R(0,  1,   0,  0),   /* skills: authz_claim */
    [HITLQ_OP_EXTEND]            = R(0,  1,   0,  0),   /* lease holder only */
    [HITLQ_OP_RELEASE]           = R(0,  1,   0,  0),
    [HITLQ_OP_RESOLVE]           = R(0,  1,   0,  0),
    [HITLQ_OP_ESCALATE]          = R(0,  1,   0,  0),
    [HITLQ_OP_WATCH]             = R(1,  0,   0,  1),
    [HITLQ_OP_RESULT]            = R(0,  0,   0,  0),   /* server push only */
    [HITLQ_OP_AUDIT_CHECKPOINT]  = R(1,  0,   1,  1),
    [HITLQ_OP_AUDIT_ENTRIES]     = R(0,  0,   1,  0),
    [HITLQ_OP_AUDIT_PROVE]       = R(0,  0,   1,  0),
    [HITLQ_OP_AUDIT_CONSISTENCY] = R(0,  0,   1,  0),
    [HITLQ_OP_DRIFT_INPUTS]      = R(0,  0,   1,  1),
    [HITLQ_OP_DRIFT_REVIEW]      = R(0,  0,   1,  1),
    [HITLQ_OP_RELOAD]            = R(0,  0,   0,  1),
    [HITLQ_OP_KEY_ADD]           = R(0,  0,   0,  1),
    [HITLQ_OP_KEY_LIST]          = R(0,  0,   0,  1),
    [HITLQ_OP_KEY_REVOKE]        = R(0,  0,   0,  1),
    [HITLQ_OP_GET_BY_KEY]        = R(1,  1,   1,  1),   /* as GET */
    [HITLQ_OP_LIST]              = R(0,  1,   1,  1),
    [HITLQ_OP_CLAIM_ID]          = R(0,  1,   0,  0),   /* skills, claim_by_id: cmd_work.c */
    [HITLQ_OP_COMMENT]           = R(0,  1,   0,  1),
    [HITLQ_OP_REOPEN]            = R(0,  1,   0,  1),   /* specialist: skill "senior" */
    [HITLQ_OP_AMEND]             = R(0,  1,   0,  1),   /* specialist: skill "senior" */
};

bool
authz_has_row(uint8_t opcode)
{
    return (authz_table[opcode] & AUTHZ_ROW) != 0;
}

/* The viewer (OPERATIONS.md §7): a manager's read-only principal.  On the
 * protocol it may only look at totals and lists; nothing that decides,
 * reads payloads or administers.  Its HTTP routes: server/cmd/http_ops.c. */
static bool
authz_viewer(uint8_t opcode)
{
    return opcode == HITLQ_OP_HELLO || opcode == HITLQ_OP_PING || opcode == HITLQ_OP_AUTH ||
           opcode == HITLQ_OP_STATS || opcode == HITLQ_OP_LIST;
}

bool
authz_allowed(unsigned role, uint8_t opcode)
{
    if (!authz_has_row(opcode))
        return false;
    if (role == AUTH_ROLE_LOCAL)
        return opcode != HITLQ_OP_RESULT;
    if (role == AUTH_ROLE_VIEWER)
        return authz_viewer(opcode);
    return role < AUTH_ROLE_LOCAL && (authz_table[opcode] & (1u << role)) != 0;
}

/* True when s[0..len) is one of who's skills. */
static bool
authz_has_skill(const struct auth_ident *who, const char *s, size_t len)
{
    for (uint8_t i = 0; i < who->n_skills; i++)
        if (strlen(who->skills[i]) == len && memcmp(who->skills[i], s, len) == 0)
            return true;
    return false;
}

int
authz_claim(const struct auth_ident *who, const char *name, const msgpack_object_array *queues,
            const msgpack_object *worker, char *err, size_t errlen)
{
    if (!who->has_key)
        return 0;                      /* auth off: LOCAL */
    for (uint32_t i = 0; who->n_skills > 0 && i < queues->size; i++) {
        const msgpack_object_str *q = &queues->ptr[i].via.str;
        if (!authz_has_skill(who, q->ptr, q->size)) {
            snprintf(err, errlen, "principal %s may not claim from queue \"%.*s\" "
                     "(not among its skills)", name, (int)q->size, q->ptr);
            return -1;
        }
    }
    if (worker != NULL && (worker->via.str.size != strlen(name) ||
                           memcmp(worker->via.str.ptr, name, worker->via.str.size) != 0)) {
        snprintf(err, errlen, "worker must be the authenticated principal \"%s\"", name);
        return -1;
    }
    return 0;
}
