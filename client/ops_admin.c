/*
 * ops_admin.c - the administration operations of libhitlq: RELOAD (the
 * server loads and validates its policy file again and, if it is good,
 * puts it in force; PROTOCOL.md, RELOAD).
 */
#include <string.h>

#include "client_int.h"
#include "wire.h"

int
hitlq_reload(hitlq *c, char *policy_out, size_t policy_len)
{
    hitlq_reply *r = NULL;
    const msgpack_object *p;
    int rc;

    if (c == NULL)
        return HITLQ_EINVAL;
    if (policy_out != NULL && policy_len > 0)
        policy_out[0] = '\0';
    rc = hitlq__call(c, HITLQ_OP_RELOAD, NULL, 0, c->timeout_ms, &r);
    if (rc == HITLQ_OK) {
        p = hitlq_reply_get(r, "policy");
        if (p == NULL || p->type != MSGPACK_OBJECT_STR)
            rc = hitlq__set_err(c, HITLQ_EPROTO, "RELOAD reply without policy");
        else if (policy_out != NULL && policy_len > 0) {
            size_t n = p->via.str.size < policy_len - 1 ? p->via.str.size : policy_len - 1;

            memcpy(policy_out, p->via.str.ptr, n);
            policy_out[n] = '\0';
        }
    }
    hitlq_reply_free(r);
    return rc;
}
