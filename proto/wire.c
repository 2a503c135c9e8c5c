/*
 * wire.c - decoding side of message bodies: unpacking a validated body into
 * a caller-owned msgpack zone, strict schema checks of request maps
 * (PROTOCOL.md §2 rules 7-8) and small accessors.  No I/O, no state.
 * Packing lives in wire_pack.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "wire.h"

/* §2 name charset: A-Z a-z 0-9 _ - . : @ / */
static const uint8_t wire_name_chars[256] = {
    ['-'] = 1, ['.'] = 1, ['/'] = 1, [':'] = 1, ['@'] = 1, ['_'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
    ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
    ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

int
wire_unpack(const uint8_t *body, size_t len, msgpack_zone *zone,
            msgpack_object *out)
{
    size_t off = 0;
    msgpack_unpack_return rc;

    if (len == 0) {
        memset(out, 0, sizeof(*out));
        out->type = MSGPACK_OBJECT_MAP;
        return HITLQ_ST_OK;
    }
    /* msgpack_unpack (not _next) unpacks into the caller's zone. */
    rc = msgpack_unpack((const char *)body, len, &off, zone, out);
    if (rc != MSGPACK_UNPACK_SUCCESS || off != len ||
        out->type != MSGPACK_OBJECT_MAP)
        return HITLQ_ST_BAD_MSGPACK;
    return HITLQ_ST_OK;
}

bool
wire_is_name(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!wire_name_chars[(uint8_t)s[i]])
            return false;
    return true;
}

/* Copies at most 32 bytes of a peer-supplied key for an error message,
 * replacing anything outside the name charset with '?'. */
static void
wire_key_excerpt(const msgpack_object_str *k, char *dst, size_t dstlen)
{
    size_t n = k->size < 32 ? k->size : 32, i;

    if (n >= dstlen)
        n = dstlen - 1;
    for (i = 0; i < n; i++)
        dst[i] = wire_name_chars[(uint8_t)k->ptr[i]] ? k->ptr[i] : '?';
    dst[i] = '\0';
}

static bool
wire_str_eq(const msgpack_object_str *k, const char *s)
{
    size_t n = strlen(s);

    return k->size == n && memcmp(k->ptr, s, n) == 0;
}

static bool
wire_finite(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return isfinite(o->via.f64);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return true;
    default:
        return false;
    }
}

static int
wire_bad(char *err, size_t errlen, const char *name, const char *what)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "field \"%s\": %s", name, what);
    return HITLQ_ST_BAD_REQUEST;
}

/* Checks a count or length n against [min, max] (max 0 = no cap). */
static int
wire_count(const struct wire_field *f, uint64_t n, const char *noun,
           const char *unit, char *err, size_t errlen)
{
    char what[96];

    if (f->max > 0 && n > f->max)
        snprintf(what, sizeof(what), "expected %s of at most %llu%s", noun,
                 (unsigned long long)f->max, unit);
    else if (n < f->min)
        snprintf(what, sizeof(what), "expected %s of at least %llu%s", noun,
                 (unsigned long long)f->min, unit);
    else
        return HITLQ_ST_OK;
    return wire_bad(err, errlen, f->name, what);
}

static int
wire_check_uint(const struct wire_field *f, const msgpack_object *v,
                char *err, size_t errlen)
{
    char what[96];
    uint64_t max = f->max ? f->max : UINT64_MAX;

    if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return wire_bad(err, errlen, f->name, "expected non-negative integer");
    if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return wire_bad(err, errlen, f->name, "expected integer");
    if (v->via.u64 < f->min || v->via.u64 > max) {
        snprintf(what, sizeof(what), "expected integer in %llu..%llu",
                 (unsigned long long)f->min, (unsigned long long)max);
        return wire_bad(err, errlen, f->name, what);
    }
    return HITLQ_ST_OK;
}

bool
wire_dec_u64(const char *s, size_t len, uint64_t *v)
{
    uint64_t x = 0;

    if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';

        if (d > 9 || x > (UINT64_MAX - d) / 10)
            return false;
        x = x * 10 + d;
    }
    *v = x;
    return true;
}

/* WIRE_TOKEN: an integer, or its decimal str, in [min, max]. */
static int
wire_check_token(const struct wire_field *f, const msgpack_object *v,
                 char *err, size_t errlen)
{
    msgpack_object o = *v;

    if (v->type == MSGPACK_OBJECT_STR) {
        o.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        if (!wire_dec_u64(v->via.str.ptr, v->via.str.size, &o.via.u64))
            return wire_bad(err, errlen, f->name,
                            "expected integer or its decimal digits as a str");
    }
    return wire_check_uint(f, &o, err, errlen);
}

static int
wire_check_name(const struct wire_field *f, const msgpack_object *v,
                size_t limit, char *err, size_t errlen)
{
    char what[96];
    size_t max = f->max > 0 && f->max < limit ? (size_t)f->max : limit;

    if (v->type == MSGPACK_OBJECT_STR &&
        wire_is_name(v->via.str.ptr, v->via.str.size, max))
        return HITLQ_ST_OK;
    snprintf(what, sizeof(what),
             "expected name of 1..%zu characters A-Z a-z 0-9 _ - . : @ /", max);
    return wire_bad(err, errlen, f->name, what);
}

static int
wire_check_str(const struct wire_field *f, const msgpack_object *v,
               char *err, size_t errlen)
{
    struct wire_field g = *f;

    if (v->type != MSGPACK_OBJECT_STR)
        return wire_bad(err, errlen, f->name, "expected str");
    if (g.max == 0)
        g.max = HITLQ_MAX_STR;
    return wire_count(&g, v->via.str.size, "str", " bytes", err, errlen);
}

/* Checks one value against its schema entry. */
static int
wire_check(const struct wire_field *f, const msgpack_object *v,
           char *err, size_t errlen)
{
    switch (f->kind) {
    case WIRE_UINT:
        return wire_check_uint(f, v, err, errlen);
    case WIRE_FLOAT:
        return wire_finite(v) ? HITLQ_ST_OK
               : wire_bad(err, errlen, f->name, "expected finite number");
    case WIRE_BOOL:
        return v->type == MSGPACK_OBJECT_BOOLEAN ? HITLQ_ST_OK
               : wire_bad(err, errlen, f->name, "expected bool");
    case WIRE_STR:
        return wire_check_str(f, v, err, errlen);
    case WIRE_NAME:
        return wire_check_name(f, v, HITLQ_MAX_NAME, err, errlen);
    case WIRE_QNAME:
        return wire_check_name(f, v, HITLQ_MAX_QUEUE_NAME, err, errlen);
    case WIRE_MAP:
        if (v->type != MSGPACK_OBJECT_MAP)
            return wire_bad(err, errlen, f->name, "expected map");
        return wire_count(f, v->via.map.size, "map", "", err, errlen);
    case WIRE_ARRAY:
        if (v->type != MSGPACK_OBJECT_ARRAY)
            return wire_bad(err, errlen, f->name, "expected array");
        return wire_count(f, v->via.array.size, "array", "", err, errlen);
    case WIRE_BIN:
        if (v->type != MSGPACK_OBJECT_BIN)
            return wire_bad(err, errlen, f->name, "expected bin");
        return wire_count(f, v->via.bin.size, "bin", " bytes", err, errlen);
    case WIRE_ANY:
        return HITLQ_ST_OK;
    case WIRE_TOKEN:
        return wire_check_token(f, v, err, errlen);
    }
    return wire_bad(err, errlen, f->name, "bad schema kind");
}

/* Places one key/value pair into out[]; rejects unknown and repeated keys. */
static int
wire_place(const msgpack_object_kv *kv, const struct wire_field *schema,
           size_t n, const msgpack_object **out, char *err, size_t errlen)
{
    char key[40];

    if (kv->key.type != MSGPACK_OBJECT_STR) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "map key is not a str");
        return HITLQ_ST_BAD_REQUEST;
    }
    for (size_t i = 0; i < n; i++) {
        if (!wire_str_eq(&kv->key.via.str, schema[i].name))
            continue;
        if (out[i] != NULL)
            return wire_bad(err, errlen, schema[i].name, "duplicate key");
        out[i] = &kv->val;
        return wire_check(&schema[i], &kv->val, err, errlen);
    }
    wire_key_excerpt(&kv->key.via.str, key, sizeof(key));
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "unknown field \"%s\"", key);
    return HITLQ_ST_BAD_REQUEST;
}

int
wire_decode(const msgpack_object *map, const struct wire_field *schema,
            size_t n, const msgpack_object **out, char *err, size_t errlen)
{
    int st;

    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (map->type != MSGPACK_OBJECT_MAP) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "body is not a map");
        return HITLQ_ST_BAD_REQUEST;
    }
    for (uint32_t k = 0; k < map->via.map.size; k++) {
        st = wire_place(&map->via.map.ptr[k], schema, n, out, err, errlen);
        if (st != HITLQ_ST_OK)
            return st;
    }
    for (size_t i = 0; i < n; i++)
        if (schema[i].required && out[i] == NULL)
            return wire_bad(err, errlen, schema[i].name, "required");
    return HITLQ_ST_OK;
}

void
wire_copy_str(const msgpack_object *o, char *dst, size_t dstlen)
{
    size_t n = 0;

    if (dstlen == 0)
        return;
    if (o != NULL && o->type == MSGPACK_OBJECT_STR) {
        n = o->via.str.size < dstlen - 1 ? o->via.str.size : dstlen - 1;
        memcpy(dst, o->via.str.ptr, n);
    }
    dst[n] = '\0';
}

bool
wire_map_keys_unique(const msgpack_object *m)
{
    const msgpack_object_kv *kv;

    if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
        return false;
    kv = m->via.map.ptr;
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        if (kv[i].key.type != MSGPACK_OBJECT_STR)
            return false;
        for (uint32_t j = 0; j < i; j++)
            if (kv[j].key.via.str.size == kv[i].key.via.str.size &&
                memcmp(kv[j].key.via.str.ptr, kv[i].key.via.str.ptr,
                       kv[i].key.via.str.size) == 0)
                return false;
    }
    return true;
}

const msgpack_object *
wire_map_get(const msgpack_object *m, const char *key)
{
    if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object_kv *kv = &m->via.map.ptr[i];

        if (kv->key.type == MSGPACK_OBJECT_STR && wire_str_eq(&kv->key.via.str, key))
            return &kv->val;
    }
    return NULL;
}

uint64_t
wire_u64(const msgpack_object *o)
{
    uint64_t v = 0;

    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return o->via.u64;
    if (o->type == MSGPACK_OBJECT_STR && wire_dec_u64(o->via.str.ptr, o->via.str.size, &v))
        return v;
    return 0;
}

double
wire_f64(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return o->via.f64;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return (double)o->via.u64;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return (double)o->via.i64;
    default:
        return 0.0;
    }
}
