/*
 * status.c - names and descriptions of status codes and opcodes, generated
 * from the X-macros in hitlq_proto.h, and the set of fatal statuses
 * (PROTOCOL.md §5).  Pure lookups: no state, no I/O.
 */
#include "wire.h"

const char *
hitlq_status_str(int status)
{
    switch (status) {
#define HITLQ_X_STR(name, val, str, desc) case (val): return (str);
    HITLQ_STATUSES(HITLQ_X_STR)
#undef HITLQ_X_STR
    }
    return "unknown";
}

const char *
hitlq_status_desc(int status)
{
    switch (status) {
#define HITLQ_X_DESC(name, val, str, desc) case (val): return (desc);
    HITLQ_STATUSES(HITLQ_X_DESC)
#undef HITLQ_X_DESC
    }
    return "unknown status";
}

/* §5: the connection is closed after these replies. */
bool
hitlq_status_is_fatal(int status)
{
    switch (status) {
    case HITLQ_ST_BAD_FRAME:
    case HITLQ_ST_FRAME_TOO_LARGE:
    case HITLQ_ST_BAD_MSGPACK:
    case HITLQ_ST_LIMIT_EXCEEDED:
    case HITLQ_ST_BAD_VERSION:
    case HITLQ_ST_NEED_HELLO:
    case HITLQ_ST_UNAUTHORIZED:        /* HELLO refused, or the key was revoked */
    case HITLQ_ST_NOT_LEADER:          /* an HA follower: go to the leader */
        return true;
    default:
        return false;
    }
}

const char *
hitlq_op_name(int opcode)
{
    switch (opcode) {
#define HITLQ_X_NAME(name, val, desc) case (val): return #name;
    HITLQ_OPCODES(HITLQ_X_NAME)
#undef HITLQ_X_NAME
    }
    return NULL;
}
