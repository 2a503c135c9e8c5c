/*
 * featmap.c - loads an item type's feature mapping (format in featmap.h),
 * binds it to a model's feature list and builds feature vectors.
 *
 * featmap_apply makes one pass over the item's map, resolving every field
 * the mapping reads through a hashed name index (cond_index); map and
 * one-hot keys are found by binary search over keys sorted by their hash
 * (cond_hash), comparing bytes only on a hash match.  Integers are turned into their decimal string form on
 * the stack.  Nothing is allocated per item.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cond.h"
#include "featmap.h"
#include "json_util.h"

enum fm_kind { FM_NUMERIC, FM_MAP, FM_ONE_HOT };

/* A reference to a model feature, by name or by index. */
struct fm_feat {
    char    *name;              /* owned; NULL when by index */
    int64_t  index;             /* >= 0 when by index, else -1 */
    size_t   bound;             /* model feature index after bind */
};

struct fm_key {
    char          *key;         /* owned, NUL-terminated */
    size_t         len;
    uint32_t       hash;        /* cond_hash(key, len) */
    float          num;         /* FM_MAP: the mapped value */
    struct fm_feat feat;        /* FM_ONE_HOT: the feature set to 1 */
};

struct fm_entry {
    char          *field;       /* owned */
    int            slot;        /* in fm->ix */
    int            sfield;      /* schema field index, -1 without a schema */
    enum fm_kind   kind;
    float          dflt;        /* "default", or NaN */
    struct fm_feat feat;        /* FM_NUMERIC, FM_MAP */
    struct fm_key *keys;        /* owned, sorted by hash; FM_MAP, FM_ONE_HOT */
    size_t         n_keys;
};

struct featmap {
    struct fm_entry     *entries;     /* owned */
    size_t               n;
    struct cond_index   *ix;          /* owned: the fields read */
    const struct schema *schema;      /* borrowed, may be NULL */
    size_t               n_features;  /* after bind */
    size_t              *input_of;    /* owned: n_features entries; NULL = unbound */
};

/* ---- keys ------------------------------------------------------------------ */

static int fm_key_cmp(const void *a, const void *b)
{
    const struct fm_key *ka = a, *kb = b;
    return (ka->hash > kb->hash) - (ka->hash < kb->hash);
}

/* Index of the key s[0..len) in e->keys, or -1. */
static long fm_key_find(const struct fm_entry *e, const char *s, size_t len)
{
    uint32_t h = cond_hash(s, len);
    size_t lo = 0, hi = e->n_keys;

    while (lo < hi) {                           /* first key with hash >= h */
        size_t mid = lo + (hi - lo) / 2;
        if (e->keys[mid].hash < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < e->n_keys && e->keys[lo].hash == h; lo++)
        if (e->keys[lo].len == len && memcmp(e->keys[lo].key, s, len) == 0)
            return (long)lo;
    return -1;
}

/* Decimal form of u, written backwards ending at end; returns the start. */
static char *fm_utoa(uint64_t u, char *end)
{
    do {
        *--end = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    return end;
}

/* The string form of v for map / one-hot lookup (buf: >= 24 bytes).
 * False if v has none (nil, non-integral float, array, map, bin, ext). */
static bool fm_key_of(const msgpack_object *v, char *buf, size_t buflen,
                      const char **s, size_t *len)
{
    char *end = buf + buflen, *p;
    uint64_t mag;
    bool neg = false;

    switch (v->type) {
    case MSGPACK_OBJECT_STR:
        *s = v->via.str.ptr;
        *len = v->via.str.size;
        return true;
    case MSGPACK_OBJECT_BOOLEAN:
        *s = v->via.boolean ? "true" : "false";
        *len = v->via.boolean ? 4 : 5;
        return true;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        mag = v->via.u64;
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        neg = v->via.i64 < 0;
        mag = neg ? (uint64_t)0 - (uint64_t)v->via.i64 : (uint64_t)v->via.i64;
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (!(fabs(v->via.f64) < 9223372036854775808.0) ||
            floor(v->via.f64) != v->via.f64)
            return false;
        neg = v->via.f64 < 0;
        mag = neg ? (uint64_t)0 - (uint64_t)(int64_t)v->via.f64 : (uint64_t)v->via.f64;
        break;
    default:
        return false;
    }
    p = fm_utoa(mag, end);
    if (neg)
        *--p = '-';
    *s = p;
    *len = (size_t)(end - p);
    return true;
}

/* ---- apply ------------------------------------------------------------------- */

/* A numeric entry's value; false if v cannot be used (wrong type, NaN). */
static bool fm_num_of(const msgpack_object *v, float *out)
{
    switch (v->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        *out = (float)(double)v->via.u64;
        return true;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *out = (float)(double)v->via.i64;
        return true;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        *out = (float)v->via.f64;
        return !isnan(v->via.f64);
    case MSGPACK_OBJECT_BOOLEAN:
        *out = v->via.boolean ? 1.0f : 0.0f;
        return true;
    default:
        return false;
    }
}

/* Writes entry e's features for value v (NULL = missing).  Returns false
 * when the entry got its default / NaN. */
static bool fm_apply_entry(const struct fm_entry *e, const msgpack_object *v, float *x)
{
    char buf[24];
    const char *s = NULL;
    size_t len = 0;
    float f;

    if (e->kind == FM_NUMERIC) {
        bool ok = v && fm_num_of(v, &f);
        x[e->feat.bound] = ok ? f : e->dflt;
        return ok;
    }
    bool has_key = v && fm_key_of(v, buf, sizeof buf, &s, &len);
    long k = has_key ? fm_key_find(e, s, len) : -1;
    if (e->kind == FM_MAP) {
        x[e->feat.bound] = k >= 0 ? e->keys[k].num : e->dflt;
        return k >= 0;
    }
    for (size_t j = 0; j < e->n_keys; j++)
        x[e->keys[j].feat.bound] = !has_key ? e->dflt : (long)j == k ? 1.0f : 0.0f;
    return has_key;
}

size_t featmap_apply(const struct featmap *fm, const msgpack_object *fields, float *x,
                     const msgpack_object **vals)
{
    const msgpack_object *slots[FEATMAP_MAX_FIELDS];
    size_t missing = 0;

    if (!fm->input_of) {
        for (size_t i = 0; vals && i < fm->n; i++)
            vals[i] = NULL;
        return fm->n;
    }
    cond_index_fill(fm->ix, fields, slots);
    for (size_t i = 0; i < fm->n; i++) {
        const struct fm_entry *e = &fm->entries[i];
        const msgpack_object *v = slots[e->slot];
        if (fm->schema ? schema_is_missing_at(fm->schema, e->sfield, v)
                       : v == NULL || v->type == MSGPACK_OBJECT_NIL)
            v = NULL;
        if (vals)
            vals[i] = v;
        missing += !fm_apply_entry(e, v, x);
    }
    return missing;
}

/* ---- loading ------------------------------------------------------------------ */

/* Reads a feature reference (string name or integer index). */
static int fm_load_feat(struct fm_feat *f, const json_t *j, const char *where,
                        const char *what, char *err, size_t errlen)
{
    const char *s = json_string_value(j);

    f->index = -1;
    if (json_is_integer(j) && json_integer_value(j) >= 0 &&
        json_integer_value(j) <= (json_int_t)INT32_MAX) {
        f->index = (int64_t)json_integer_value(j);
        return 0;
    }
    if (s && json_string_length(j) == strlen(s) && s[0] &&
        strlen(s) <= FEATMAP_MAX_NAME) {
        if (!(f->name = strdup(s))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen, "%s: %s must be a feature name (1..%u bytes) or an index "
             "(integer >= 0)", where, what, FEATMAP_MAX_NAME);
    return -1;
}

/* Reads "map" (numbers) or "one_hot" (features) into e->keys, sorted. */
static int fm_load_keys(struct fm_entry *e, const json_t *obj, const char *key,
                        const char *where, char *err, size_t errlen)
{
    size_t n = json_object_size(obj);
    const char *k;
    json_t *v;
    char what[64];

    if (!json_is_object(obj) || n == 0 || n > FEATMAP_MAX_KEYS) {
        snprintf(err, errlen, "%s: \"%s\" must be an object of 1..%u entries", where, key,
                 FEATMAP_MAX_KEYS);
        return -1;
    }
    if (!(e->keys = calloc(n, sizeof *e->keys))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_object_foreach((json_t *)obj, k, v) {
        struct fm_key *fk = &e->keys[e->n_keys];
        if (!(fk->key = strdup(k))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        fk->len = strlen(k);
        fk->hash = cond_hash(k, fk->len);
        e->n_keys++;
        snprintf(what, sizeof what, "\"%s\".\"%.32s\"", key, k);
        if (e->kind == FM_ONE_HOT) {
            if (fm_load_feat(&fk->feat, v, where, what, err, errlen) < 0)
                return -1;
        } else if (!json_is_number(v)) {
            snprintf(err, errlen, "%s: %s must be a number", where, what);
            return -1;
        } else {
            fk->num = (float)json_number_value(v);
        }
    }
    qsort(e->keys, e->n_keys, sizeof *e->keys, fm_key_cmp);
    return 0;
}

/* "feature", "map", "one_hot" and "default" of one entry. */
static int fm_load_shape(struct fm_entry *e, const json_t *je, const char *where,
                         char *err, size_t errlen)
{
    const json_t *jfeat = json_object_get(je, "feature");
    const json_t *jmap = json_object_get(je, "map");
    const json_t *joh = json_object_get(je, "one_hot");
    const json_t *jdef = json_object_get(je, "default");

    if (jdef && !json_is_number(jdef)) {
        snprintf(err, errlen, "%s: \"default\" must be a number", where);
        return -1;
    }
    e->dflt = jdef ? (float)json_number_value(jdef) : NAN;
    if (joh) {
        if (jfeat || jmap) {
            snprintf(err, errlen, "%s: \"%s\" cannot be used with \"one_hot\" (its keys "
                     "name the features)", where, jfeat ? "feature" : "map");
            return -1;
        }
        e->kind = FM_ONE_HOT;
        return fm_load_keys(e, joh, "one_hot", where, err, errlen);
    }
    if (!jfeat) {
        snprintf(err, errlen, "%s: \"feature\" (or \"one_hot\") is required", where);
        return -1;
    }
    e->kind = jmap ? FM_MAP : FM_NUMERIC;
    if (fm_load_feat(&e->feat, jfeat, where, "\"feature\"", err, errlen) < 0)
        return -1;
    return jmap ? fm_load_keys(e, jmap, "map", where, err, errlen) : 0;
}

/* True if s is a canonical decimal integer ("0", "-12", not "007" or "-0"). */
static bool fm_is_decimal(const char *s)
{
    const char *p = s + (s[0] == '-');

    if (p[0] < '0' || p[0] > '9' || (p[0] == '0' && (p[1] != '\0' || p != s)))
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    return *p == '\0' && strlen(s) <= 20;
}

/* Checks a map / one_hot key against the field's declaration. */
static bool fm_key_declared(const char *key, enum schema_type t, const char *const *vals,
                            size_t nv)
{
    if (t == SCHEMA_BOOLEAN)
        return strcmp(key, "true") == 0 || strcmp(key, "false") == 0;
    if (t == SCHEMA_INTEGER)
        return fm_is_decimal(key);
    for (size_t i = 0; i < nv; i++)
        if (strcmp(vals[i], key) == 0)
            return true;
    return vals == NULL;
}

/* Cross-checks entry e with the schema's declaration of its field. */
static int fm_check_schema(struct fm_entry *e, const struct schema *s, const char *where,
                           char *err, size_t errlen)
{
    static const char *const tn[] = { "number", "integer", "string", "boolean" };
    enum schema_type t = SCHEMA_NUMBER;
    size_t nv = 0;

    if ((e->sfield = schema_field_type(s, e->field, &t)) < 0) {
        snprintf(err, errlen, "%s: field \"%s\" is not declared in the type's \"fields\"",
                 where, e->field);
        return -1;
    }
    if (e->kind == FM_NUMERIC ? t == SCHEMA_STRING : t == SCHEMA_NUMBER) {
        snprintf(err, errlen, "%s: field \"%s\" is declared %s; %s", where, e->field,
                 tn[t], e->kind == FM_NUMERIC
                 ? "a numeric entry needs a number, integer or boolean field (use "
                   "\"map\" or \"one_hot\")"
                 : "\"map\" and \"one_hot\" need a string, boolean or integer field");
        return -1;
    }
    const char *const *vals = schema_field_values(s, e->field, &nv);
    for (size_t i = 0; i < e->n_keys; i++)
        if (!fm_key_declared(e->keys[i].key, t, vals, nv)) {
            snprintf(err, errlen, "%s: key \"%s\" is not a possible value of %s field "
                     "\"%s\"%s", where, e->keys[i].key, tn[t], e->field,
                     vals ? " (not among its \"values\")" : "");
            return -1;
        }
    return 0;
}

static int fm_load_entry(struct featmap *fm, size_t i, const json_t *je,
                         const char *where0, char *err, size_t errlen)
{
    static const char *const keys[] = { "feature", "field", "default", "map", "one_hot",
                                        "description", NULL };
    struct fm_entry *e = &fm->entries[fm->n];         /* sized at load */
    const char *field = json_string_value(json_object_get(je, "field"));
    char where[512];

    snprintf(where, sizeof where, "%.400s: features[%zu]", where0, i);
    e->sfield = -1;
    fm->n++;                                          /* owns what is loaded so far */
    if (!json_is_object(je)) {
        snprintf(err, errlen, "%s: must be an object", where);
        return -1;
    }
    if (json_check_keys(je, keys, where, ": ", err, errlen) < 0)
        return -1;
    if (!cond_name_ok(field, COND_MAX_NAME)) {
        snprintf(err, errlen, "%s: \"field\" must be a printable name of 1..%u bytes",
                 where, COND_MAX_NAME);
        return -1;
    }
    const json_t *desc = json_object_get(je, "description");
    if (desc && !json_is_string(desc)) {
        snprintf(err, errlen, "%s: \"description\" must be a string", where);
        return -1;
    }
    if (!(e->field = strdup(field)) || (e->slot = cond_index_add(fm->ix, field)) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (cond_index_size(fm->ix) > FEATMAP_MAX_FIELDS) {
        snprintf(err, errlen, "%s: the mapping reads more than %u distinct fields",
                 where, FEATMAP_MAX_FIELDS);
        return -1;
    }
    if (fm_load_shape(e, je, where, err, errlen) < 0)
        return -1;
    return fm->schema ? fm_check_schema(e, fm->schema, where, err, errlen) : 0;
}

struct featmap *featmap_load(const json_t *features_json, const struct schema *s,
                             const char *where, char *err, size_t errlen)
{
    struct featmap *fm = calloc(1, sizeof *fm);       /* owned; returned */
    size_t n = json_array_size(features_json);

    if (!fm) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    fm->schema = s;
    if (!json_is_array(features_json) || n == 0 || n > FEATMAP_MAX_INPUTS) {
        snprintf(err, errlen, "%s: \"features\" must be an array of 1..%u entries",
                 where, FEATMAP_MAX_INPUTS);
        goto fail;
    }
    if (!(fm->entries = calloc(n, sizeof *fm->entries)) ||
        !(fm->ix = cond_index_new(n < FEATMAP_MAX_FIELDS ? n : FEATMAP_MAX_FIELDS + 1))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++)
        if (fm_load_entry(fm, i, json_array_get(features_json, i), where, err, errlen) < 0)
            goto fail;
    return fm;
fail:
    featmap_free(fm);
    return NULL;
}

void featmap_free(struct featmap *fm)
{
    if (!fm)
        return;
    for (size_t i = 0; i < fm->n; i++) {
        struct fm_entry *e = &fm->entries[i];
        for (size_t k = 0; k < e->n_keys; k++) {
            free(e->keys[k].key);
            free(e->keys[k].feat.name);
        }
        free(e->keys);
        free(e->feat.name);
        free(e->field);
    }
    free(fm->entries);
    cond_index_free(fm->ix);
    free(fm->input_of);
    free(fm);
}

/* ---- bind --------------------------------------------------------------------- */

struct fm_named {
    const char *name;           /* borrowed from the caller's names */
    size_t      index;
};

struct fm_binder {
    const char *const *names;   /* borrowed, may be NULL */
    size_t              n;
    struct fm_named    *sorted; /* owned by fm_bind_all: non-NULL names, by strcmp */
    size_t              n_sorted;
    size_t             *owner;  /* owned: entry producing each feature, SIZE_MAX = none */
};

static int fm_named_cmp(const void *a, const void *b)
{
    return strcmp(((const struct fm_named *)a)->name, ((const struct fm_named *)b)->name);
}

/* The model feature's label for messages: "\"Age\"" or "12". */
static void fm_feature_label(const struct fm_binder *b, size_t j, char *buf, size_t len)
{
    if (b->names && b->names[j])
        snprintf(buf, len, "\"%.*s\"", (int)FEATMAP_MAX_NAME, b->names[j]);
    else
        snprintf(buf, len, "%zu", j);
}

/* Resolves f to a model feature index (by name: binary search; unique). */
static int fm_resolve(const struct fm_binder *b, const struct fm_feat *f, size_t *j,
                      const char *where, char *err, size_t errlen)
{
    if (f->index >= 0) {
        if ((uint64_t)f->index < b->n) {
            *j = (size_t)f->index;
            return 0;
        }
        snprintf(err, errlen, "%s: feature %lld is out of range (the model has %zu "
                 "features)", where, (long long)f->index, b->n);
        return -1;
    }
    size_t lo = 0, hi = b->n_sorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(f->name, b->sorted[mid].name);
        if (r == 0) {
            bool dup = (mid > 0 && strcmp(b->sorted[mid - 1].name, f->name) == 0) ||
                       (mid + 1 < b->n_sorted && strcmp(b->sorted[mid + 1].name, f->name) == 0);
            if (dup) {
                snprintf(err, errlen, "%s: feature \"%s\" is ambiguous: the model has "
                         "several features of that name", where, f->name);
                return -1;
            }
            *j = b->sorted[mid].index;
            return 0;
        }
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (b->n_sorted == 0)
        snprintf(err, errlen, "%s: feature \"%s\" is named but the model has no feature "
                 "names (use indices)", where, f->name);
    else
        snprintf(err, errlen, "%s: feature \"%s\" is not in the model (%zu features)",
                 where, f->name, b->n);
    return -1;
}

/* Binds one feature reference of entry i. */
static int fm_bind_feat(struct fm_binder *b, struct fm_feat *f, size_t i,
                        const char *where, char *err, size_t errlen)
{
    char label[FEATMAP_MAX_NAME + 8];
    size_t j;

    if (fm_resolve(b, f, &j, where, err, errlen) < 0)
        return -1;
    if (b->owner[j] != SIZE_MAX) {
        fm_feature_label(b, j, label, sizeof label);
        snprintf(err, errlen, "%s: model feature %s is mapped twice (also by "
                 "features[%zu])", where, label, b->owner[j]);
        return -1;
    }
    b->owner[j] = i;
    f->bound = j;
    return 0;
}

static int fm_bind_all(struct featmap *fm, struct fm_binder *b, const char *where0,
                       char *err, size_t errlen)
{
    char where[512], label[FEATMAP_MAX_NAME + 8];

    for (size_t i = 0; i < fm->n; i++) {
        struct fm_entry *e = &fm->entries[i];
        snprintf(where, sizeof where, "%.400s: features[%zu]", where0, i);
        if (e->kind != FM_ONE_HOT &&
            fm_bind_feat(b, &e->feat, i, where, err, errlen) < 0)
            return -1;
        for (size_t k = 0; e->kind == FM_ONE_HOT && k < e->n_keys; k++)
            if (fm_bind_feat(b, &e->keys[k].feat, i, where, err, errlen) < 0)
                return -1;
    }
    for (size_t j = 0; j < b->n; j++)
        if (b->owner[j] == SIZE_MAX) {
            fm_feature_label(b, j, label, sizeof label);
            snprintf(err, errlen, "%s: model feature %s is not produced by the type's "
                     "feature mapping", where0, label);
            return -1;
        }
    return 0;
}

int featmap_bind(struct featmap *fm, const char *const *names, size_t n,
                 const char *where, char *err, size_t errlen)
{
    struct fm_binder b = { names, n, NULL, 0, NULL };
    int rc = -1;

    free(fm->input_of);
    fm->input_of = NULL;
    fm->n_features = 0;
    b.owner = malloc((n ? n : 1) * sizeof *b.owner);
    b.sorted = malloc((n ? n : 1) * sizeof *b.sorted);
    if (!b.owner || !b.sorted) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t j = 0; j < n; j++) {
        b.owner[j] = SIZE_MAX;
        if (names && names[j])
            b.sorted[b.n_sorted++] = (struct fm_named){ names[j], j };
    }
    qsort(b.sorted, b.n_sorted, sizeof *b.sorted, fm_named_cmp);
    if (fm_bind_all(fm, &b, where, err, errlen) == 0) {
        fm->input_of = b.owner;
        fm->n_features = n;
        b.owner = NULL;
        rc = 0;
    }
out:
    free(b.owner);
    free(b.sorted);
    return rc;
}

/* ---- introspection --------------------------------------------------------------- */

size_t featmap_n_features(const struct featmap *fm)
{
    return fm->n_features;
}

size_t featmap_n_inputs(const struct featmap *fm)
{
    return fm->n;
}

const char *featmap_input_field(const struct featmap *fm, size_t input)
{
    return input < fm->n ? fm->entries[input].field : NULL;
}

size_t featmap_input_of(const struct featmap *fm, size_t feature)
{
    return fm->input_of && feature < fm->n_features ? fm->input_of[feature] : SIZE_MAX;
}
