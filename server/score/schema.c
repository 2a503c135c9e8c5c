/*
 * schema.c - loads an item type's field declarations and checks (format
 * and semantics in schema.h) and validates items against them.
 *
 * Every rule's id and message are built at load, so schema_check only
 * reads: one pass over the item's map resolves every declared field and
 * check operand through a hashed name index (cond_index), then each field
 * and check is tested in rule order.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cond.h"
#include "json_util.h"
#include "schema.h"

#define SCHEMA_RULES_PER_FIELD 6u
#define SCHEMA_MAX_SLOTS (SCHEMA_MAX_FIELDS + 2 * SCHEMA_MAX_CHECKS)
#define SCHEMA_NO_RULE   UINT16_MAX
#define SCHEMA_LIST_TEXT 300u        /* bytes of the value list in a values message */

enum { R_REQUIRED, R_TYPE, R_MIN, R_MAX, R_VALUES, R_MAX_LENGTH };

static const char *const schema_rule_suffix[] = { "required", "type", "min", "max",
                                                  "values", "max_length" };
static const char *const schema_type_names[] = { "number", "integer", "string",
                                                 "boolean" };

/* A "missing" sentinel: a string or a number. */
struct schema_sentinel {
    bool            is_str;
    struct cond_num num;
    char           *s;          /* owned when is_str */
    size_t          len;
};

struct schema_field {
    char                   *name;        /* owned */
    enum schema_type        type;
    bool                    has_min, has_max;
    struct cond_num         min, max;
    char                  **values;      /* owned: NUL-terminated strings, or NULL */
    size_t                 *value_lens;  /* owned */
    uint32_t               *value_hashes;/* owned: cond_hash of each value */
    size_t                  n_values;
    bool                    has_max_length;
    size_t                  max_length;  /* characters */
    struct schema_sentinel *missing;     /* owned */
    size_t                  n_missing;
    uint16_t                rule[SCHEMA_RULES_PER_FIELD];   /* SCHEMA_NO_RULE if absent */
};

struct schema_check_rule {
    struct cond *cond;          /* owned */
    int          slot1, slot2;  /* name-index slots of the operands; slot2 -1: constant */
    uint16_t     rule;
};

struct schema_rule {
    char       *id;             /* owned */
    const char *field;          /* borrowed from the field or the check's cond */
    char       *message;        /* owned */
};

struct schema {
    struct schema_field      *fields;   /* owned, declaration order */
    size_t                    n_fields;
    struct schema_check_rule *checks;   /* owned */
    size_t                    n_checks;
    struct schema_rule       *rules;    /* owned */
    size_t                    n_rules;
    struct cond_index        *ix;       /* owned: fields are slots 0..n_fields-1 */
};

/* ---- rules ------------------------------------------------------------------- */

/* Appends a rule (id and message copied).  Returns its index, or -1. */
static int schema_add_rule(struct schema *s, const char *id, const char *field,
                           const char *message)
{
    struct schema_rule *r = &s->rules[s->n_rules];    /* sized at load */

    r->id = strdup(id);
    r->message = strdup(message);
    r->field = field;
    if (!r->id || !r->message) {
        free(r->id);
        free(r->message);
        r->id = r->message = NULL;
        return -1;
    }
    return (int)s->n_rules++;
}

static bool schema_rule_exists(const struct schema *s, const char *id)
{
    for (size_t i = 0; i < s->n_rules; i++)
        if (strcmp(s->rules[i].id, id) == 0)
            return true;
    return false;
}

/* The message of a values rule: "f must be one of \"a\", \"b\"" (cut with "..."). */
static void schema_values_message(const struct schema_field *f, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "%s must be one of ", f->name);

    for (size_t i = 0; i < f->n_values && used < len; i++) {
        if (used + f->value_lens[i] + 8 > SCHEMA_LIST_TEXT + COND_MAX_NAME) {
            snprintf(buf + used, len - used, "...");
            return;
        }
        used += (size_t)snprintf(buf + used, len - used, "%s\"%s\"", i ? ", " : "",
                                 f->values[i]);
    }
}

static int schema_field_rules(struct schema *s, struct schema_field *f, bool required)
{
    char id[COND_MAX_NAME + 16], msg[SCHEMA_LIST_TEXT + COND_MAX_NAME + 64], num[40];
    bool on[SCHEMA_RULES_PER_FIELD] = { required, true, f->has_min, f->has_max,
                                        f->values != NULL, f->has_max_length };

    for (int k = 0; k < (int)SCHEMA_RULES_PER_FIELD; k++) {
        f->rule[k] = SCHEMA_NO_RULE;
        if (!on[k])
            continue;
        snprintf(id, sizeof id, "%s.%s", f->name, schema_rule_suffix[k]);
        if (k == R_REQUIRED)
            snprintf(msg, sizeof msg, "%s is required", f->name);
        else if (k == R_TYPE)
            snprintf(msg, sizeof msg, "%s must be %s %s", f->name,
                     f->type == SCHEMA_INTEGER ? "an" : "a", schema_type_names[f->type]);
        else if (k == R_MIN || k == R_MAX) {
            cond_num_format(k == R_MIN ? &f->min : &f->max, num, sizeof num);
            snprintf(msg, sizeof msg, "%s must be %s %s", f->name,
                     k == R_MIN ? ">=" : "<=", num);
        } else if (k == R_VALUES)
            schema_values_message(f, msg, sizeof msg);
        else
            snprintf(msg, sizeof msg, "%s must be at most %zu characters", f->name,
                     f->max_length);
        int r = schema_add_rule(s, id, f->name, msg);
        if (r < 0)
            return -1;
        f->rule[k] = (uint16_t)r;
    }
    return 0;
}

/* ---- loading fields ----------------------------------------------------------- */

/* A string copy of JSON string j (no NUL inside, <= COND_MAX_STR bytes). */
static char *schema_str_copy(const json_t *j, size_t *len)
{
    const char *s = json_string_value(j);
    size_t n = json_string_length(j);

    if (!s || n > COND_MAX_STR || memchr(s, '\0', n))
        return NULL;
    char *copy = malloc(n + 1);
    if (copy) {
        memcpy(copy, s, n + 1);
        *len = n;
    }
    return copy;
}

static int schema_load_values(struct schema_field *f, const json_t *jv,
                              const char *where, char *err, size_t errlen)
{
    size_t n = json_array_size(jv);

    if (!json_is_array(jv) || n == 0 || n > SCHEMA_MAX_VALUES) {
        snprintf(err, errlen, "%s: \"values\" must be an array of 1..%u strings",
                 where, SCHEMA_MAX_VALUES);
        return -1;
    }
    f->values = calloc(n + 1, sizeof *f->values);
    f->value_lens = calloc(n, sizeof *f->value_lens);
    f->value_hashes = calloc(n, sizeof *f->value_hashes);
    if (!f->values || !f->value_lens || !f->value_hashes) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *v = schema_str_copy(json_array_get(jv, i), &len);
        if (!v) {
            snprintf(err, errlen, "%s: \"values\"[%zu] must be a string of at most %u "
                     "bytes without NUL", where, i, COND_MAX_STR);
            return -1;
        }
        f->values[f->n_values] = v;
        f->value_hashes[f->n_values] = cond_hash(v, len);
        f->value_lens[f->n_values++] = len;
        for (size_t k = 0; k < i; k++)
            if (strcmp(f->values[k], v) == 0) {
                snprintf(err, errlen, "%s: \"values\": duplicate value \"%s\"", where, v);
                return -1;
            }
    }
    return 0;
}

static int schema_load_missing(struct schema_field *f, const json_t *jm,
                               const char *where, char *err, size_t errlen)
{
    size_t n = json_array_size(jm);

    if (!json_is_array(jm) || n == 0 || n > SCHEMA_MAX_MISSING) {
        snprintf(err, errlen, "%s: \"missing\" must be an array of 1..%u strings or "
                 "numbers", where, SCHEMA_MAX_MISSING);
        return -1;
    }
    if (!(f->missing = calloc(n, sizeof *f->missing))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *j = json_array_get(jm, i);
        struct schema_sentinel *sn = &f->missing[i];
        if (json_is_string(j)) {
            sn->is_str = true;
            sn->s = schema_str_copy(j, &sn->len);
        }
        if (json_is_string(j) ? !sn->s : !cond_num_of_json(j, &sn->num)) {
            snprintf(err, errlen, "%s: \"missing\"[%zu] must be a number or a string of "
                     "at most %u bytes without NUL", where, i, COND_MAX_STR);
            return -1;
        }
        f->n_missing++;
    }
    return 0;
}

/* "min" / "max" of a number or integer field. */
static int schema_load_bounds(struct schema_field *f, const json_t *jf,
                              const char *where, char *err, size_t errlen)
{
    static const char *const keys[] = { "min", "max" };
    bool numeric = f->type == SCHEMA_NUMBER || f->type == SCHEMA_INTEGER;

    for (int k = 0; k < 2; k++) {
        const json_t *j = json_object_get(jf, keys[k]);
        if (!j)
            continue;
        if (!numeric) {
            snprintf(err, errlen, "%s: \"%s\" applies only to number and integer fields",
                     where, keys[k]);
            return -1;
        }
        if (!cond_num_of_json(j, k == 0 ? &f->min : &f->max)) {
            snprintf(err, errlen, "%s: \"%s\" must be a number", where, keys[k]);
            return -1;
        }
        *(k == 0 ? &f->has_min : &f->has_max) = true;
    }
    if (f->has_min && f->has_max && cond_num_cmp(&f->min, &f->max) > 0) {
        snprintf(err, errlen, "%s: \"min\" is greater than \"max\"", where);
        return -1;
    }
    return 0;
}

static int schema_load_type(struct schema_field *f, const json_t *jf,
                            const char *where, char *err, size_t errlen)
{
    const char *t = json_string_value(json_object_get(jf, "type"));

    for (size_t i = 0; t && i < sizeof schema_type_names / sizeof schema_type_names[0]; i++)
        if (strcmp(t, schema_type_names[i]) == 0) {
            f->type = (enum schema_type)i;
            return 0;
        }
    snprintf(err, errlen, "%s: \"type\" must be one of \"number\", \"integer\", "
             "\"string\", \"boolean\"", where);
    return -1;
}

/* String-only keys: "values", "max_length". */
static int schema_load_string_keys(struct schema_field *f, const json_t *jf,
                                   const char *where, char *err, size_t errlen)
{
    const json_t *jv = json_object_get(jf, "values");
    const json_t *jl = json_object_get(jf, "max_length");

    if ((jv || jl) && f->type != SCHEMA_STRING) {
        snprintf(err, errlen, "%s: \"%s\" applies only to string fields", where,
                 jv ? "values" : "max_length");
        return -1;
    }
    if (jv && schema_load_values(f, jv, where, err, errlen) < 0)
        return -1;
    if (jl) {
        if (!json_is_integer(jl) || json_integer_value(jl) < 0 ||
            json_integer_value(jl) > (json_int_t)UINT32_MAX) {
            snprintf(err, errlen, "%s: \"max_length\" must be an integer in [0, %u]",
                     where, UINT32_MAX);
            return -1;
        }
        f->has_max_length = true;
        f->max_length = (size_t)json_integer_value(jl);
    }
    return 0;
}

static int schema_load_field(struct schema *s, const char *name, const json_t *jf,
                             const char *where0, char *err, size_t errlen)
{
    static const char *const keys[] = { "type", "required", "min", "max", "values",
        "max_length", "missing", "description", NULL };
    struct schema_field *f = &s->fields[s->n_fields];   /* sized at load */
    char where[COND_MAX_NAME + 512];
    const json_t *req = json_object_get(jf, "required");
    const json_t *desc = json_object_get(jf, "description");
    const json_t *miss = json_object_get(jf, "missing");

    snprintf(where, sizeof where, "%.400s: fields.\"%.*s\"", where0,
             (int)COND_MAX_NAME, name);
    if (!cond_name_ok(name, COND_MAX_NAME)) {
        snprintf(err, errlen, "%s: field names must be printable, 1..%u bytes", where,
                 COND_MAX_NAME);
        return -1;
    }
    if (!json_is_object(jf)) {
        snprintf(err, errlen, "%s: must be an object", where);
        return -1;
    }
    if (json_check_keys(jf, keys, where, ": ", err, errlen) < 0 ||
        schema_load_type(f, jf, where, err, errlen) < 0)
        return -1;
    if ((req && !json_is_boolean(req)) || (desc && !json_is_string(desc))) {
        snprintf(err, errlen, "%s: \"%s\" must be a %s", where,
                 req && !json_is_boolean(req) ? "required" : "description",
                 req && !json_is_boolean(req) ? "boolean" : "string");
        return -1;
    }
    if (!(f->name = strdup(name))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->n_fields++;                      /* owns what is loaded so far */
    if (schema_load_bounds(f, jf, where, err, errlen) < 0 ||
        schema_load_string_keys(f, jf, where, err, errlen) < 0 ||
        (miss && schema_load_missing(f, miss, where, err, errlen) < 0))
        return -1;
    if (cond_index_add(s->ix, name) != (int)(s->n_fields - 1) ||
        schema_field_rules(s, f, json_is_true(req)) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int schema_load_fields(struct schema *s, const json_t *jfields,
                              const char *where, char *err, size_t errlen)
{
    const char *name;
    json_t *jf;

    json_object_foreach((json_t *)jfields, name, jf) {
        if (schema_load_field(s, name, jf, where, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* ---- loading checks ----------------------------------------------------------- */

/* A check message: 1..SCHEMA_MAX_MESSAGE bytes of UTF-8 (jansson checked it)
 * without control characters. */
static bool schema_text_ok(const json_t *j)
{
    const char *s = json_string_value(j);
    size_t len = json_string_length(j);

    if (!s || len == 0 || len > SCHEMA_MAX_MESSAGE)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return false;
    return true;
}

static int schema_load_check(struct schema *s, size_t i, const json_t *jc,
                             const char *where0, char *err, size_t errlen)
{
    static const char *const extra[] = { "id", "message", NULL };
    struct schema_check_rule *ck = &s->checks[s->n_checks];   /* sized at load */
    char where[512];
    const json_t *jmsg = json_object_get(jc, "message");
    const char *id = json_string_value(json_object_get(jc, "id"));
    const char *msg = json_string_value(jmsg);

    snprintf(where, sizeof where, "%.400s: checks[%zu]", where0, i);
    if (!(ck->cond = cond_parse(jc, extra, where, err, errlen)))
        return -1;
    s->n_checks++;                      /* owns the cond */
    if (!cond_name_ok(id, COND_MAX_NAME)) {
        snprintf(err, errlen, "%s: \"id\" must be a printable name of 1..%u bytes",
                 where, COND_MAX_NAME);
        return -1;
    }
    if (jmsg && !schema_text_ok(jmsg)) {
        snprintf(err, errlen, "%s: \"message\" must be text of 1..%u bytes without "
                 "control characters",
                 where, SCHEMA_MAX_MESSAGE);
        return -1;
    }
    if (schema_rule_exists(s, id)) {
        snprintf(err, errlen, "%s: duplicate rule id \"%s\"", where, id);
        return -1;
    }
    const char *f2 = cond_field2(ck->cond);
    ck->slot1 = cond_index_add(s->ix, cond_field(ck->cond));
    ck->slot2 = f2 ? cond_index_add(s->ix, f2) : -1;
    int r = schema_add_rule(s, id, cond_field(ck->cond), msg ? msg : cond_text(ck->cond));
    if (ck->slot1 < 0 || (f2 && ck->slot2 < 0) || r < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ck->rule = (uint16_t)r;
    return 0;
}

static int schema_load_checks(struct schema *s, const json_t *jchecks,
                              const char *where, char *err, size_t errlen)
{
    for (size_t i = 0; i < json_array_size(jchecks); i++)
        if (schema_load_check(s, i, json_array_get(jchecks, i), where, err, errlen) < 0)
            return -1;
    return 0;
}

/* ---- public: load / free -------------------------------------------------------- */

static int schema_alloc(struct schema *s, size_t nf, size_t nc)
{
    s->fields = calloc(nf ? nf : 1, sizeof *s->fields);
    s->checks = calloc(nc ? nc : 1, sizeof *s->checks);
    s->rules = calloc(nf * SCHEMA_RULES_PER_FIELD + nc + 1, sizeof *s->rules);
    s->ix = cond_index_new(nf + 2 * nc);
    return s->fields && s->checks && s->rules && s->ix ? 0 : -1;
}

struct schema *schema_load(const json_t *fields_json, const json_t *checks_json,
                           const char *where, char *err, size_t errlen)
{
    struct schema *s = calloc(1, sizeof *s);          /* owned; returned */
    size_t nf = json_object_size(fields_json), nc = json_array_size(checks_json);

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (fields_json && (!json_is_object(fields_json) || nf > SCHEMA_MAX_FIELDS)) {
        snprintf(err, errlen, "%s: \"fields\" must be an object of at most %u fields",
                 where, SCHEMA_MAX_FIELDS);
    } else if (checks_json && (!json_is_array(checks_json) || nc > SCHEMA_MAX_CHECKS)) {
        snprintf(err, errlen, "%s: \"checks\" must be an array of at most %u checks",
                 where, SCHEMA_MAX_CHECKS);
    } else if (schema_alloc(s, nf, nc) < 0) {
        snprintf(err, errlen, "out of memory");
    } else if (schema_load_fields(s, fields_json, where, err, errlen) == 0 &&
               schema_load_checks(s, checks_json, where, err, errlen) == 0) {
        return s;
    }
    schema_free(s);
    return NULL;
}

static void schema_field_free(struct schema_field *f)
{
    for (size_t i = 0; i < f->n_values; i++)
        free(f->values[i]);
    free(f->values);
    free(f->value_lens);
    free(f->value_hashes);
    for (size_t i = 0; i < f->n_missing; i++)
        free(f->missing[i].s);
    free(f->missing);
    free(f->name);
}

void schema_free(struct schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_fields; i++)
        schema_field_free(&s->fields[i]);
    for (size_t i = 0; i < s->n_checks; i++)
        cond_free(s->checks[i].cond);
    for (size_t i = 0; i < s->n_rules; i++) {
        free(s->rules[i].id);
        free(s->rules[i].message);
    }
    free(s->fields);
    free(s->checks);
    free(s->rules);
    cond_index_free(s->ix);
    free(s);
}

/* ---- checking -------------------------------------------------------------------- */

static bool schema_sentinel_match(const struct schema_field *f, const msgpack_object *v)
{
    struct cond_num num;
    bool is_num = cond_num_of(v, &num);

    for (size_t i = 0; i < f->n_missing; i++) {
        const struct schema_sentinel *sn = &f->missing[i];
        if (sn->is_str ? v->type == MSGPACK_OBJECT_STR && v->via.str.size == sn->len &&
                         (sn->len == 0 || memcmp(v->via.str.ptr, sn->s, sn->len) == 0)
                       : is_num && cond_num_cmp(&num, &sn->num) == 0)
            return true;
    }
    return false;
}

bool schema_is_missing_at(const struct schema *s, int field, const msgpack_object *v)
{
    if (v == NULL || v->type == MSGPACK_OBJECT_NIL)
        return true;
    if (field < 0 || (size_t)field >= s->n_fields)
        return false;
    return s->fields[field].n_missing > 0 && schema_sentinel_match(&s->fields[field], v);
}

bool schema_is_missing(const struct schema *s, const char *name, const msgpack_object *v)
{
    return schema_is_missing_at(s, schema_field_index(s, name), v);
}

/* True if v has f's type; *num is set for number / integer fields. */
static bool schema_type_ok(const struct schema_field *f, const msgpack_object *v,
                           struct cond_num *num)
{
    switch (f->type) {
    case SCHEMA_NUMBER:
        return cond_num_of(v, num) && (num->kind != COND_NUM_REAL || isfinite(num->v.d));
    case SCHEMA_INTEGER:
        return cond_num_of(v, num) && (num->kind != COND_NUM_REAL ||
                                       (isfinite(num->v.d) && floor(num->v.d) == num->v.d));
    case SCHEMA_STRING:
        return v->type == MSGPACK_OBJECT_STR;
    default:
        return v->type == MSGPACK_OBJECT_BOOLEAN;
    }
}

static bool schema_value_allowed(const struct schema_field *f, const msgpack_object *v)
{
    uint32_t h = cond_hash(v->via.str.ptr, v->via.str.size);

    for (size_t i = 0; i < f->n_values; i++)
        if (f->value_hashes[i] == h && f->value_lens[i] == v->via.str.size &&
            memcmp(f->values[i], v->via.str.ptr, v->via.str.size) == 0)
            return true;
    return false;
}

/* UTF-8 code points of a msgpack str (bytes that are not continuation bytes). */
static size_t schema_utf8_len(const msgpack_object *v)
{
    size_t n = 0;
    for (uint32_t i = 0; i < v->via.str.size; i++)
        n += ((unsigned char)v->via.str.ptr[i] & 0xc0) != 0x80;
    return n;
}

struct schema_out {
    const struct schema *s;
    struct schema_hit   *hits;
    size_t               max, total;
};

static void schema_hit_add(struct schema_out *o, uint16_t rule)
{
    if (o->total < o->max) {
        const struct schema_rule *r = &o->s->rules[rule];
        o->hits[o->total] = (struct schema_hit){ rule, r->id, r->field, r->message };
    }
    o->total++;
}

static void schema_check_field(struct schema_out *o, const struct schema_field *f,
                               const msgpack_object *v)
{
    struct cond_num num;

    if (v == NULL || v->type == MSGPACK_OBJECT_NIL ||
        (f->n_missing > 0 && schema_sentinel_match(f, v))) {
        if (f->rule[R_REQUIRED] != SCHEMA_NO_RULE)
            schema_hit_add(o, f->rule[R_REQUIRED]);
        return;
    }
    if (!schema_type_ok(f, v, &num)) {
        schema_hit_add(o, f->rule[R_TYPE]);
        return;
    }
    if (f->has_min && cond_num_cmp(&num, &f->min) < 0)
        schema_hit_add(o, f->rule[R_MIN]);
    if (f->has_max && cond_num_cmp(&num, &f->max) > 0)
        schema_hit_add(o, f->rule[R_MAX]);
    if (f->values && !schema_value_allowed(f, v))
        schema_hit_add(o, f->rule[R_VALUES]);
    if (f->has_max_length && schema_utf8_len(v) > f->max_length)
        schema_hit_add(o, f->rule[R_MAX_LENGTH]);
}

/* A check operand: its value, or NULL if absent or a declared field's sentinel. */
static const msgpack_object *schema_operand(const struct schema *s, int slot,
                                            const msgpack_object *const *vals)
{
    const msgpack_object *v = vals[slot];
    return schema_is_missing_at(s, slot, v) ? NULL : v;
}

size_t schema_check(const struct schema *s, const msgpack_object *fields,
                    struct schema_hit *hits, size_t max)
{
    const msgpack_object *vals[SCHEMA_MAX_SLOTS];
    struct schema_out o = { s, hits, hits ? max : 0, 0 };

    cond_index_fill(s->ix, fields, vals);
    for (size_t i = 0; i < s->n_fields; i++)
        schema_check_field(&o, &s->fields[i], vals[i]);
    for (size_t i = 0; i < s->n_checks; i++) {
        const struct schema_check_rule *ck = &s->checks[i];
        const msgpack_object *a = schema_operand(s, ck->slot1, vals);
        const msgpack_object *b = ck->slot2 >= 0 ? schema_operand(s, ck->slot2, vals) : NULL;
        if (cond_eval_with(ck->cond, a, b) != COND_TRUE)
            schema_hit_add(&o, ck->rule);
    }
    return o.total;
}

/* ---- introspection ----------------------------------------------------------------- */

size_t schema_n_rules(const struct schema *s)
{
    return s->n_rules;
}

const char *schema_rule_id(const struct schema *s, size_t rule)
{
    return rule < s->n_rules ? s->rules[rule].id : NULL;
}

const char *schema_rule_field(const struct schema *s, size_t rule)
{
    return rule < s->n_rules ? s->rules[rule].field : NULL;
}

const char *schema_rule_message(const struct schema *s, size_t rule)
{
    return rule < s->n_rules ? s->rules[rule].message : NULL;
}

size_t schema_n_fields(const struct schema *s)
{
    return s->n_fields;
}

const char *schema_field_name(const struct schema *s, size_t i)
{
    return i < s->n_fields ? s->fields[i].name : NULL;
}

int schema_field_index(const struct schema *s, const char *name)
{
    int k = cond_index_find(s->ix, name, strlen(name));
    return k >= 0 && (size_t)k < s->n_fields ? k : -1;
}

int schema_field_type(const struct schema *s, const char *name, enum schema_type *type)
{
    int k = schema_field_index(s, name);
    if (k >= 0 && type)
        *type = s->fields[k].type;
    return k;
}

const char *const *schema_field_values(const struct schema *s, const char *name, size_t *n)
{
    int k = schema_field_index(s, name);

    *n = 0;
    if (k < 0 || !s->fields[k].values)
        return NULL;
    *n = s->fields[k].n_values;
    return (const char *const *)s->fields[k].values;
}
