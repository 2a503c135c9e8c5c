/*
 * cli_json.c - JSON <-> MessagePack for the hitlq CLI: submit lines (JSON)
 * to SUBMIT fields (msgpack map of scalars), and any reply object back to
 * JSON (lease tokens as decimal strings) or to readable text.  No sockets
 * here; unit-tested directly.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void
pack_str(msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

/* Packs one scalar JSON value; -1 for containers. */
static int
pack_scalar(const json_t *v, msgpack_packer *pk)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        pack_str(pk, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);

        if (i >= 0)
            msgpack_pack_uint64(pk, (uint64_t)i);
        else
            msgpack_pack_int64(pk, (int64_t)i);
        return 0;
    }
    case JSON_REAL:
        msgpack_pack_double(pk, json_real_value(v));
        return 0;
    case JSON_TRUE:
        msgpack_pack_true(pk);
        return 0;
    case JSON_FALSE:
        msgpack_pack_false(pk);
        return 0;
    case JSON_NULL:
        msgpack_pack_nil(pk);
        return 0;
    default:
        return -1;
    }
}

int
cli_json_pack_fields(const json_t *obj, msgpack_packer *pk, char *err, size_t errlen)
{
    const char *k;
    json_t *v;

    if (!json_is_object(obj)) {
        snprintf(err, errlen, "\"fields\" must be an object");
        return -1;
    }
    msgpack_pack_map(pk, json_object_size(obj));
    json_object_foreach((json_t *)obj, k, v) {
        pack_str(pk, k, strlen(k));
        if (pack_scalar(v, pk) < 0) {
            snprintf(err, errlen, "field \"%.64s\": nested objects and arrays "
                     "are not allowed", k);
            return -1;
        }
    }
    return 0;
}

void
cli_item_clear(struct cli_item *it)
{
    free(it->key);
    free(it->type);
    msgpack_sbuffer_destroy(&it->fields);
    memset(it, 0, sizeof(*it));
}

/* Reads a required string member into *dst (strdup). */
static int
take_str(const json_t *root, const char *name, char **dst, char *err, size_t errlen)
{
    const json_t *v = json_object_get(root, name);

    if (!json_is_string(v)) {
        snprintf(err, errlen, "\"%s\" must be a string", name);
        return -1;
    }
    *dst = strdup(json_string_value(v));
    if (*dst == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int
check_members(const json_t *root, char *err, size_t errlen)
{
    static const char *const known[] = { "key", "type", "fields", "priority" };
    const char *k;
    json_t *v;
    size_t i;

    json_object_foreach((json_t *)root, k, v) {
        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (strcmp(k, known[i]) == 0)
                break;
        if (i == sizeof(known) / sizeof(known[0])) {
            snprintf(err, errlen, "unknown member \"%.64s\"", k);
            return -1;
        }
    }
    return 0;
}

int
cli_item_parse(const char *line, struct cli_item *it, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root, *prio;
    msgpack_packer pk;
    int rc = -1;

    memset(it, 0, sizeof(*it));
    msgpack_sbuffer_init(&it->fields);
    it->priority = -1;
    root = json_loads(line, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        snprintf(err, errlen, "bad JSON at column %d: %s", je.column, je.text);
        goto out;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "a line must be a JSON object");
        goto out;
    }
    if (check_members(root, err, errlen) < 0 ||
        take_str(root, "key", &it->key, err, errlen) < 0 ||
        take_str(root, "type", &it->type, err, errlen) < 0)
        goto out;
    prio = json_object_get(root, "priority");
    if (prio != NULL && !json_is_null(prio)) {
        if (!json_is_integer(prio) || json_integer_value(prio) < 0) {
            snprintf(err, errlen, "\"priority\" must be a non-negative integer");
            goto out;
        }
        it->priority = json_integer_value(prio);
    }
    msgpack_packer_init(&pk, &it->fields, msgpack_sbuffer_write);
    rc = cli_json_pack_fields(json_object_get(root, "fields"), &pk, err, errlen);
out:
    json_decref(root);
    if (rc < 0)
        cli_item_clear(it);
    return rc;
}

/* ---- MessagePack -> JSON --------------------------------------------------- */

static json_t *
bin_to_json(const char *p, uint32_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *s = malloc((size_t)n * 2 + 1);
    json_t *j;
    uint32_t i;

    if (s == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        s[2 * i] = hex[(uint8_t)p[i] >> 4];
        s[2 * i + 1] = hex[(uint8_t)p[i] & 15];
    }
    s[2 * (size_t)n] = '\0';
    j = json_string(s);
    free(s);
    return j;
}

/* A value under key "lease" (a lease token): decimal digits in a JSON
 * string, so JSON tools that read numbers as doubles keep every digit. */
static json_t *
lease_to_json(const char *key, const msgpack_object *v)
{
    char num[24];

    if (strcmp(key, "lease") != 0 || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return NULL;
    snprintf(num, sizeof(num), "%" PRIu64, v->via.u64);
    return json_string(num);
}

static json_t *
map_to_json(const msgpack_object_map *m)
{
    json_t *j = json_object();
    uint32_t i;

    for (i = 0; j != NULL && i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        char *key;

        if (k->type == MSGPACK_OBJECT_STR) {
            key = strndup(k->via.str.ptr, k->via.str.size);
        } else {
            json_t *kj = cli_mp_to_json(k);

            key = json_dumps(kj, JSON_ENCODE_ANY | JSON_COMPACT);
            json_decref(kj);
        }
        json_t *lv = key != NULL ? lease_to_json(key, &m->ptr[i].val) : NULL;

        if (key != NULL)
            json_object_set_new(j, key, lv != NULL ? lv : cli_mp_to_json(&m->ptr[i].val));
        free(key);
    }
    return j;
}

json_t *
cli_mp_to_json(const msgpack_object *o)
{
    json_t *j;
    uint32_t i;
    char num[24];

    switch (o->type) {
    case MSGPACK_OBJECT_NIL:              return json_null();
    case MSGPACK_OBJECT_BOOLEAN:          return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return json_integer(o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return isfinite(o->via.f64) ? json_real(o->via.f64) : json_null();
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 <= INT64_MAX)
            return json_integer((json_int_t)o->via.u64);
        snprintf(num, sizeof(num), "%" PRIu64, o->via.u64);
        return json_string(num);
    case MSGPACK_OBJECT_STR:
        return json_stringn(o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN:
        return bin_to_json(o->via.bin.ptr, o->via.bin.size);
    case MSGPACK_OBJECT_ARRAY:
        j = json_array();
        for (i = 0; j != NULL && i < o->via.array.size; i++)
            json_array_append_new(j, cli_mp_to_json(&o->via.array.ptr[i]));
        return j;
    case MSGPACK_OBJECT_MAP:
        return map_to_json(&o->via.map);
    default:
        return json_null();
    }
}

void
cli_json_println(FILE *f, json_t *j)
{
    char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(10));

    fprintf(f, "%s\n", s ? s : "null");
    free(s);
}

void
cli_mp_print(FILE *f, const msgpack_object *o)
{
    json_t *j;
    char *s;

    if (o->type == MSGPACK_OBJECT_STR) {
        fprintf(f, "%.*s", (int)o->via.str.size, o->via.str.ptr);
        return;
    }
    j = cli_mp_to_json(o);
    s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(6));
    fputs(s ? s : "?", f);
    free(s);
    json_decref(j);
}

const char *
cli_time(uint64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(buf, len, "%" PRIu64, ms);
    else
        snprintf(buf + strlen(buf), len - strlen(buf), ".%03uZ", (unsigned)(ms % 1000));
    return buf;
}
