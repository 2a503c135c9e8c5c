/*
 * hitlq_msgpack.h - optional raw MessagePack access to libhitlq replies,
 * for callers that walk nested maps and arrays with msgpack-c (the hitlq
 * CLI's JSON printer, hitlq-audit, the tests).  Needs msgpack-c's headers
 * (pkg-config msgpack); everything else is in hitlq.h, which does not.
 *
 * The objects returned are owned by the reply: valid until
 * hitlq_reply_free(), never to be freed or changed by the caller.
 */
#ifndef HITLQ_MSGPACK_H
#define HITLQ_MSGPACK_H

#include <msgpack.h>

#include "hitlq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The reply's body: always a MSGPACK_OBJECT_MAP (r must not be NULL). */
const msgpack_object *hitlq_reply_body(const hitlq_reply *r);

/* Looks up `key` in the reply's body map: NULL when absent (or r or key
 * is NULL). */
const msgpack_object *hitlq_reply_get(const hitlq_reply *r, const char *key);

#ifdef __cplusplus
}
#endif

#endif /* HITLQ_MSGPACK_H */
