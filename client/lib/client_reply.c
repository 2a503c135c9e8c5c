/*
 * client_reply.c - the opaque reply of libhitlq: freeing it, its frame
 * header fields, and typed lookups of its body's top-level keys (hitlq.h);
 * raw MessagePack access to the body (hitlq_msgpack.h).  Replies are built
 * by client.c.
 */
#include <stdlib.h>
#include <string.h>

#include "client_int.h"
#include "wire.h"

void
hitlq_reply_free(hitlq_reply *r)
{
    if (r == NULL)
        return;
    msgpack_zone_destroy(&r->zone);
    free(r->raw);
    free(r);
}

uint8_t
hitlq_reply_opcode(const hitlq_reply *r)
{
    return r->opcode;
}

uint16_t
hitlq_reply_status(const hitlq_reply *r)
{
    return r->status;
}

uint32_t
hitlq_reply_request_id(const hitlq_reply *r)
{
    return r->request_id;
}

const void *
hitlq_reply_data(const hitlq_reply *r, size_t *len)
{
    *len = r->raw_len;
    return r->raw;
}

const msgpack_object *
hitlq_reply_body(const hitlq_reply *r)
{
    return &r->body;
}

const msgpack_object *
hitlq_reply_get(const hitlq_reply *r, const char *key)
{
    if (r == NULL || key == NULL)
        return NULL;
    return wire_map_get(&r->body, key);
}

bool
hitlq_reply_has(const hitlq_reply *r, const char *key)
{
    return hitlq_reply_get(r, key) != NULL;
}

bool
hitlq_reply_get_u64(const hitlq_reply *r, const char *key, uint64_t *out)
{
    const msgpack_object *o = hitlq_reply_get(r, key);

    if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return false;
    *out = o->via.u64;
    return true;
}

bool
hitlq_reply_get_i64(const hitlq_reply *r, const char *key, int64_t *out)
{
    const msgpack_object *o = hitlq_reply_get(r, key);

    if (o == NULL)
        return false;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = o->via.i64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
        *out = (int64_t)o->via.u64;
    else
        return false;
    return true;
}

bool
hitlq_reply_get_f64(const hitlq_reply *r, const char *key, double *out)
{
    const msgpack_object *o = hitlq_reply_get(r, key);

    if (o == NULL)
        return false;
    switch (o->type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *out = o->via.f64; return true;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: *out = (double)o->via.u64; return true;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = (double)o->via.i64; return true;
    default: return false;
    }
}

bool
hitlq_reply_get_bool(const hitlq_reply *r, const char *key, bool *out)
{
    const msgpack_object *o = hitlq_reply_get(r, key);

    if (o == NULL || o->type != MSGPACK_OBJECT_BOOLEAN)
        return false;
    *out = o->via.boolean;
    return true;
}

const char *
hitlq_reply_get_str(const hitlq_reply *r, const char *key, size_t *len)
{
    const msgpack_object *o = hitlq_reply_get(r, key);

    if (o == NULL || o->type != MSGPACK_OBJECT_STR)
        return NULL;
    if (len != NULL)
        *len = o->via.str.size;
    return o->via.str.ptr != NULL ? o->via.str.ptr : ""; /* "" may have no pointer */
}

const void *
hitlq_reply_get_bin(const hitlq_reply *r, const char *key, size_t *len)
{
    const msgpack_object *o = hitlq_reply_get(r, key);

    if (o == NULL || o->type != MSGPACK_OBJECT_BIN)
        return NULL;
    if (len != NULL)
        *len = o->via.bin.size;
    return o->via.bin.ptr != NULL ? o->via.bin.ptr : "";
}

long
hitlq_reply_copy_str(const hitlq_reply *r, const char *key, char *buf, size_t size)
{
    size_t n = 0;
    const char *s = hitlq_reply_get_str(r, key, &n);
    size_t k;

    if (size > 0)
        buf[0] = '\0';
    if (s == NULL)
        return -1;
    if (size > 0) {
        k = n < size - 1 ? n : size - 1;
        memcpy(buf, s, k);
        buf[k] = '\0';
    }
    return (long)n;
}

const char *
hitlq_reply_message(const hitlq_reply *r, size_t *len)
{
    return hitlq_reply_get_str(r, "message", len);
}
