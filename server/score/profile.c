/*
 * profile.c - loads an input-drift reference profile (format and rules in
 * profile.h), keeps its PROFILE extension body for the audit log, and
 * bins an item's values against it on the loop thread (a binary search
 * per field; no allocation).
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "hitlq_proto.h"
#include "json_util.h"
#include "profile.h"
#include "record_ext.h"

/* Largest PROFILE body: with the entry's other fields at their maximum
 * (ids, model and policy names) the record stays within 65,535 bytes. */
#define PROFILE_EXT_MAX 64000u
/* Open-addressing tables (field name -> feature, category -> bin): at most
 * 64 keys in 128 slots, so a probe ends after a few steps. */
#define PROFILE_SLOTS   128u

/* One entry of an open-addressing table: key (borrowed from the profile)
 * -> val; key NULL = empty. */
struct profile_slot {
    const char *key;
    uint32_t    len;
    uint32_t    val;
};

struct profile_feat {
    char     field[HITLQ_MAX_NAME + 1];
    size_t   field_len;
    int      sfield;                             /* schema field index, -1 */
    uint8_t  kind, n_bins;
    double   edge[PROFILE_BINS_MAX - 1];
    char    *cat[PROFILE_BINS_MAX];              /* owned, sorted bytewise */
    size_t   cat_len[PROFILE_BINS_MAX];
    bool     cat_missing[PROFILE_BINS_MAX];      /* the category is a schema sentinel */
    struct profile_slot cat_slot[PROFILE_SLOTS]; /* category -> bin */
    uint32_t count[PROFILE_BINS_MAX];
    uint32_t missing;
};

struct profile {
    uint8_t              digest[32];
    char                 version[RECORD_EXT_STR_MAX + 1];
    uint32_t             n;
    size_t               n_feat;
    struct profile_feat *f;                      /* owned, n_feat */
    struct profile_slot  name_slot[PROFILE_SLOTS];        /* field -> feature */
    uint8_t              n_bins[PROFILE_FEATURES_MAX];
    const struct schema *schema;                 /* borrowed, may be NULL */
    uint8_t             *ext;                    /* owned PROFILE body */
    size_t               ext_len;
    const char          *cat_ptrs[PROFILE_FEATURES_MAX][PROFILE_BINS_MAX];
};

/* Writes "<where>: <what>" to err; returns -1. */
static int
profile_err(char *err, size_t errlen, const char *where, const char *what)
{
    snprintf(err, errlen, "%s: %s", where, what);
    return -1;
}

/* Bytewise order, a shorter prefix first (the order of PROFILE categories). */
static int
profile_bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c != 0)
        return c;
    return (alen > blen) - (alen < blen);
}

/* ---- parsing -------------------------------------------------------------- */

/* An integer in [0, UINT32_MAX]. */
static int
profile_u32(const json_t *v, uint32_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > (json_int_t)UINT32_MAX)
        return -1;
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

static int
profile_edges(struct profile_feat *f, const json_t *je, size_t n_counts, const char *w,
              char *err, size_t errlen)
{
    if (!json_is_array(je) || json_array_size(je) + 1 != n_counts)
        return profile_err(err, errlen, w, "\"edges\" must be an array of len(counts) - 1 "
                           "numbers");
    for (size_t i = 0; i < json_array_size(je); i++) {
        const json_t *v = json_array_get(je, i);
        double d = json_number_value(v);

        if (!json_is_number(v) || !isfinite(d) || (i > 0 && !(d > f->edge[i - 1])))
            return profile_err(err, errlen, w, "\"edges\" must be finite and strictly "
                               "ascending");
        f->edge[i] = d == 0.0 ? 0.0 : d;          /* -0 -> +0 (AUDIT-FORMAT.md §3.1) */
    }
    return 0;
}

/* Sorts the categories bytewise (their counts with them); duplicates are an error. */
static int
profile_sort_cats(struct profile_feat *f, const char *w, char *err, size_t errlen)
{
    for (size_t i = 1; i < f->n_bins; i++)          /* insertion sort: <= 64 */
        for (size_t j = i; j > 0 && profile_bytes_cmp(f->cat[j - 1], f->cat_len[j - 1],
                                                      f->cat[j], f->cat_len[j]) > 0; j--) {
            char *c = f->cat[j];
            size_t l = f->cat_len[j];
            uint32_t k = f->count[j];

            f->cat[j] = f->cat[j - 1], f->cat_len[j] = f->cat_len[j - 1];
            f->count[j] = f->count[j - 1];
            f->cat[j - 1] = c, f->cat_len[j - 1] = l, f->count[j - 1] = k;
        }
    for (size_t i = 1; i < f->n_bins; i++)
        if (profile_bytes_cmp(f->cat[i - 1], f->cat_len[i - 1], f->cat[i], f->cat_len[i]) == 0)
            return profile_err(err, errlen, w, "\"categories\" has a duplicate");
    return 0;
}

static int
profile_cats(struct profile_feat *f, const json_t *jc, size_t n_counts, const char *w,
             char *err, size_t errlen)
{
    if (!json_is_array(jc) || json_array_size(jc) != n_counts)
        return profile_err(err, errlen, w, "\"categories\" must be an array as long as "
                           "\"counts\"");
    for (size_t i = 0; i < n_counts; i++) {
        const char *s = json_string_value(json_array_get(jc, i));
        size_t l = s != NULL ? json_string_length(json_array_get(jc, i)) : 0;

        if (l == 0 || l > RECORD_EXT_STR_MAX)
            return profile_err(err, errlen, w, "\"categories\" must be strings of 1..255 "
                               "bytes");
        if ((f->cat[i] = malloc(l + 1)) == NULL)
            return profile_err(err, errlen, w, "out of memory");
        memcpy(f->cat[i], s, l + 1);
        f->cat_len[i] = l;
    }
    return profile_sort_cats(f, w, err, errlen);
}

/* "counts" and "missing"; their sum must be n. */
static int
profile_counts(struct profile_feat *f, const json_t *jf, uint32_t n, const char *w,
               char *err, size_t errlen)
{
    const json_t *jc = json_object_get(jf, "counts");
    uint64_t sum = 0;

    for (size_t i = 0; i < f->n_bins; i++) {
        if (profile_u32(json_array_get(jc, i), &f->count[i]) != 0)
            return profile_err(err, errlen, w, "\"counts\" must be integers in [0, 2^32)");
        sum += f->count[i];
    }
    if (profile_u32(json_object_get(jf, "missing"), &f->missing) != 0)
        return profile_err(err, errlen, w, "\"missing\" must be an integer in [0, 2^32)");
    if (sum + f->missing != n)
        return profile_err(err, errlen, w, "sum of \"counts\" and \"missing\" must be \"n\"");
    return 0;
}

/* The feature's field: a name, declared in the schema (if any) with a type
 * its kind can bin. */
static int
profile_field(struct profile_feat *f, const json_t *jf, const struct schema *s,
              const char *w, char *err, size_t errlen)
{
    const char *field = json_string_value(json_object_get(jf, "field"));
    enum schema_type t;

    if (field == NULL || field[0] == '\0' || strlen(field) > HITLQ_MAX_NAME)
        return profile_err(err, errlen, w, "\"field\" must be a name of 1..128 bytes");
    f->field_len = strlen(field);
    memcpy(f->field, field, f->field_len + 1);
    f->sfield = s != NULL ? schema_field_type(s, field, &t) : -1;
    if (s != NULL && f->sfield < 0)
        return profile_err(err, errlen, w, "\"field\" is not declared in the type's "
                           "\"fields\"");
    if (s != NULL && f->kind == PROFILE_NUMERIC && t == SCHEMA_STRING)
        return profile_err(err, errlen, w, "a numeric feature's field must be a number, "
                           "integer or boolean");
    return 0;
}

static int
profile_feature(struct profile_feat *f, const json_t *jf, const struct schema *s, uint32_t n,
                const char *w, char *err, size_t errlen)
{
    static const char *const keys[] = { "field", "kind", "edges", "categories", "counts",
                                        "missing", "description", NULL };
    const char *kind = json_string_value(json_object_get(jf, "kind"));
    size_t nc = json_array_size(json_object_get(jf, "counts"));

    if (!json_is_object(jf))
        return profile_err(err, errlen, w, "must be an object");
    if (json_check_keys(jf, keys, w, ": ", err, errlen) < 0)
        return -1;
    if (kind != NULL && strcmp(kind, "numeric") == 0)
        f->kind = PROFILE_NUMERIC;
    else if (kind != NULL && strcmp(kind, "categorical") == 0)
        f->kind = PROFILE_CATEGORICAL;
    else
        return profile_err(err, errlen, w, "\"kind\" must be \"numeric\" or \"categorical\"");
    if (!json_is_array(json_object_get(jf, "counts")) || nc < 1 || nc > PROFILE_BINS_MAX)
        return profile_err(err, errlen, w, "\"counts\" must be an array of 1..64 counts");
    f->n_bins = (uint8_t)nc;
    if (profile_field(f, jf, s, w, err, errlen) < 0 ||
        profile_counts(f, jf, n, w, err, errlen) < 0)     /* before the sort */
        return -1;
    if (json_object_get(jf, f->kind == PROFILE_NUMERIC ? "categories" : "edges") != NULL)
        return profile_err(err, errlen, w, f->kind == PROFILE_NUMERIC
                           ? "a numeric feature has \"edges\", not \"categories\""
                           : "a categorical feature has \"categories\", not \"edges\"");
    if (f->kind == PROFILE_NUMERIC
            ? profile_edges(f, json_object_get(jf, "edges"), nc, w, err, errlen) < 0
            : profile_cats(f, json_object_get(jf, "categories"), nc, w, err, errlen) < 0)
        return -1;
    return 0;
}

/* ---- the loaded profile ---------------------------------------------------- */

/* The slot where a probe for s[0..n) starts: a hash of the length and of
 * three bytes (O(1); collisions are resolved by probing). */
static unsigned
profile_hash(const char *s, size_t n)
{
    uint32_t h = (uint32_t)n * 0x9E3779B1u;

    if (n > 0)
        h ^= ((uint32_t)(uint8_t)s[0] << 16 | (uint32_t)(uint8_t)s[n / 2] << 8 |
              (uint8_t)s[n - 1]) * 0x85EBCA6Bu;
    return (h ^ (h >> 16) ^ (h >> 24)) & (PROFILE_SLOTS - 1);
}

/* Key equality: keys of up to 16 bytes compared as two overlapping words
 * (no libc call, no byte loop), longer ones with memcmp. */
static inline bool
profile_eq(const char *a, const char *b, size_t n)
{
    uint64_t x0, x1, y0, y1;
    uint32_t u0, u1, v0, v1;

    if (n > 16)
        return memcmp(a, b, n) == 0;
    if (n >= 8) {
        memcpy(&x0, a, 8), memcpy(&x1, a + n - 8, 8);
        memcpy(&y0, b, 8), memcpy(&y1, b + n - 8, 8);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    if (n >= 4) {
        memcpy(&u0, a, 4), memcpy(&u1, a + n - 4, 4);
        memcpy(&v0, b, 4), memcpy(&v1, b + n - 4, 4);
        return ((u0 ^ v0) | (u1 ^ v1)) == 0;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* The slot holding key s[0..n) in table, or the empty slot where it would go. */
static inline unsigned
profile_probe(const struct profile_slot *table, const char *s, size_t n)
{
    unsigned h = profile_hash(s, n);

    while (table[h].key != NULL && !(table[h].len == n && profile_eq(table[h].key, s, n)))
        h = (h + 1) & (PROFILE_SLOTS - 1);
    return h;
}

/* The lookup tables of fields and categories; two features of one field
 * are an error. */
static int
profile_index(struct profile *p, const char *where, char *err, size_t errlen)
{
    for (size_t i = 0; i < p->n_feat; i++) {
        struct profile_feat *f = &p->f[i];
        unsigned h = profile_probe(p->name_slot, f->field, f->field_len);

        if (p->name_slot[h].key != NULL)
            return profile_err(err, errlen, where, "two features name the same \"field\"");
        p->name_slot[h] = (struct profile_slot){ f->field, (uint32_t)f->field_len, (uint32_t)i };
        for (unsigned b = 0; f->kind == PROFILE_CATEGORICAL && b < f->n_bins; b++) {
            h = profile_probe(f->cat_slot, f->cat[b], f->cat_len[b]);
            f->cat_slot[h] = (struct profile_slot){ f->cat[b], (uint32_t)f->cat_len[b], b };
        }
    }
    return 0;
}

/* Encodes the PROFILE extension body (and so checks that it fits one). */
static int
profile_encode(struct profile *p, const char *where, char *err, size_t errlen)
{
    struct record_ext_profile *e = calloc(1, sizeof *e);
    size_t n = 0;
    int rc;

    p->ext = malloc(PROFILE_EXT_MAX);
    if (e == NULL || p->ext == NULL) {
        free(e);
        return profile_err(err, errlen, where, "out of memory");
    }
    memcpy(e->digest, p->digest, sizeof e->digest);
    e->version = (struct record_ext_bytes){ (const uint8_t *)p->version, strlen(p->version) };
    e->n = p->n;
    e->n_features = (uint8_t)p->n_feat;
    for (size_t i = 0; i < p->n_feat; i++) {
        const struct profile_feat *f = &p->f[i];
        struct record_ext_profile_feature *g = &e->f[i];

        g->name = (struct record_ext_bytes){ (const uint8_t *)f->field, f->field_len };
        g->kind = f->kind;
        g->n_bins = f->n_bins;
        memcpy(g->edge, f->edge, sizeof g->edge);
        for (size_t b = 0; f->kind == PROFILE_CATEGORICAL && b < f->n_bins; b++)
            g->category[b] = (struct record_ext_bytes){ (const uint8_t *)f->cat[b],
                                                        f->cat_len[b] };
        memcpy(g->count, f->count, sizeof g->count);
        g->missing = f->missing;
    }
    rc = record_ext_profile_encode(e, p->ext, PROFILE_EXT_MAX, &n);
    free(e);
    if (rc != 0)
        return profile_err(err, errlen, where, "too large for the audit log's PROFILE "
                           "entry (64000 bytes encoded)");
    p->ext_len = n;
    return 0;
}

/* The top level: format, version, n, features (count checked before use). */
static int
profile_header(struct profile *p, const json_t *root, const char *where, char *err,
               size_t errlen)
{
    static const char *const keys[] = { "format", "format_version", "version",
                                        "description", "n", "features", NULL };
    const char *fmt = json_string_value(json_object_get(root, "format"));
    const json_t *jv = json_object_get(root, "version");
    const json_t *jf = json_object_get(root, "features");
    const json_t *fv = json_object_get(root, "format_version");

    if (!json_is_object(root) || fmt == NULL || strcmp(fmt, "hitlq-profile") != 0)
        return profile_err(err, errlen, where, "not a profile (\"format\": \"hitlq-profile\")");
    if (!json_is_integer(fv) || json_integer_value(fv) != 1)
        return profile_err(err, errlen, where, "unsupported \"format_version\" (expected 1)");
    if (json_check_keys(root, keys, where, ": ", err, errlen) < 0)
        return -1;
    if (jv != NULL && (!json_is_string(jv) || json_string_length(jv) > RECORD_EXT_STR_MAX))
        return profile_err(err, errlen, where, "\"version\" must be a string of at most 255 "
                           "bytes");
    snprintf(p->version, sizeof p->version, "%s", jv != NULL ? json_string_value(jv) : "");
    if (profile_u32(json_object_get(root, "n"), &p->n) != 0 || p->n == 0)
        return profile_err(err, errlen, where, "\"n\" must be an integer in [1, 2^32)");
    if (!json_is_array(jf) || json_array_size(jf) == 0 ||
        json_array_size(jf) > PROFILE_FEATURES_MAX)
        return profile_err(err, errlen, where, "\"features\" must be an array of 1..64 "
                           "features");
    p->n_feat = json_array_size(jf);
    return 0;
}

static int
profile_parse(struct profile *p, const json_t *root, const struct schema *s,
              const char *where, char *err, size_t errlen)
{
    char w[600];

    if (profile_header(p, root, where, err, errlen) < 0)
        return -1;
    if ((p->f = calloc(p->n_feat, sizeof *p->f)) == NULL)
        return profile_err(err, errlen, where, "out of memory");
    for (size_t i = 0; i < p->n_feat; i++) {
        snprintf(w, sizeof w, "%s: features[%zu]", where, i);
        if (profile_feature(&p->f[i], json_array_get(json_object_get(root, "features"), i), s,
                            p->n, w, err, errlen) < 0)
            return -1;
        p->n_bins[i] = p->f[i].n_bins;
        for (size_t b = 0; b < p->f[i].n_bins; b++) {
            msgpack_object o = { .type = MSGPACK_OBJECT_STR };

            p->cat_ptrs[i][b] = p->f[i].cat[b];
            o.via.str.ptr = p->f[i].cat[b];
            o.via.str.size = (uint32_t)p->f[i].cat_len[b];
            p->f[i].cat_missing[b] = p->f[i].cat[b] != NULL && s != NULL &&
                                     schema_is_missing_at(s, p->f[i].sfield, &o);
        }
    }
    return profile_index(p, where, err, errlen);
}

struct profile *
profile_load(const char *bytes, size_t len, const struct schema *s, const char *where,
             char *err, size_t errlen)
{
    struct profile *p;
    json_error_t jerr;
    json_t *root;

    if (len > PROFILE_FILE_MAX) {
        profile_err(err, errlen, where, "profile file too large (at most 4 MiB)");
        return NULL;
    }
    if ((root = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
        snprintf(err, errlen, "%s: invalid JSON at line %d column %d: %s", where, jerr.line,
                 jerr.column, jerr.text);
        return NULL;
    }
    if ((p = calloc(1, sizeof *p)) == NULL) {
        json_decref(root);
        profile_err(err, errlen, where, "out of memory");
        return NULL;
    }
    p->schema = s;
    crypto_hash_sha256(p->digest, (const unsigned char *)bytes, len);
    if (profile_parse(p, root, s, where, err, errlen) < 0 ||
        profile_encode(p, where, err, errlen) < 0) {
        profile_free(p);
        p = NULL;
    }
    json_decref(root);
    return p;
}

void
profile_free(struct profile *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; p->f != NULL && i < p->n_feat; i++)
        for (size_t b = 0; b < PROFILE_BINS_MAX; b++)
            free(p->f[i].cat[b]);
    free(p->f);
    free(p->ext);
    free(p);
}

const uint8_t *
profile_digest(const struct profile *p)
{
    return p->digest;
}

const char *
profile_version(const struct profile *p)
{
    return p->version;
}

uint32_t
profile_n(const struct profile *p)
{
    return p->n;
}

size_t
profile_n_features(const struct profile *p)
{
    return p->n_feat;
}

void
profile_feature_at(const struct profile *p, size_t i, struct profile_feature *out)
{
    const struct profile_feat *f = &p->f[i];

    *out = (struct profile_feature){
        .field = f->field, .kind = f->kind, .n_bins = f->n_bins, .edges = f->edge,
        .categories = p->cat_ptrs[i], .counts = f->count, .missing = f->missing,
    };
}

const uint8_t *
profile_bins(const struct profile *p)
{
    return p->n_bins;
}

const uint8_t *
profile_ext(const struct profile *p, size_t *len)
{
    *len = p->ext_len;
    return p->ext;
}

/* ---- binning --------------------------------------------------------------- */

/* Number of edges <= v. */
static uint8_t
profile_bin_numeric(const struct profile_feat *f, double v)
{
    unsigned lo = 0, hi = f->n_bins - 1u;

    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;

        if (f->edge[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint8_t)lo;
}

/* The category bin of the string s[0..len), or PROFILE_BIN_UNSEEN. */
static uint8_t
profile_bin_cat(const struct profile_feat *f, const char *s, size_t len)
{
    unsigned h = profile_probe(f->cat_slot, s, len);

    return f->cat_slot[h].key != NULL ? (uint8_t)f->cat_slot[h].val : PROFILE_BIN_UNSEEN;
}

/* A value's string form (featmap.h's "map" rule); false if it has none. */
static bool
profile_str_form(const msgpack_object *v, char *buf, size_t cap, const char **s, size_t *len)
{
    int n = -1;

    switch (v->type) {
    case MSGPACK_OBJECT_STR:
        *s = v->via.str.ptr;
        *len = v->via.str.size;
        return true;
    case MSGPACK_OBJECT_BOOLEAN:
        *s = v->via.boolean ? "true" : "false";
        *len = strlen(*s);
        return true;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        n = snprintf(buf, cap, "%llu", (unsigned long long)v->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        n = snprintf(buf, cap, "%lld", (long long)v->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (v->via.f64 == floor(v->via.f64) && fabs(v->via.f64) < 9007199254740992.0)
            n = snprintf(buf, cap, "%lld", (long long)v->via.f64);
        break;
    default:
        break;
    }
    *s = buf;
    *len = n > 0 ? (size_t)n : 0;
    return n > 0;
}

uint8_t
profile_bin_value(const struct profile *p, size_t i, const msgpack_object *v)
{
    const struct profile_feat *f = &p->f[i];
    char buf[32];
    const char *s;
    size_t len;

    uint8_t b;

    if (v == NULL || v->type == MSGPACK_OBJECT_NIL)
        return PROFILE_BIN_MISSING;
    if (f->kind == PROFILE_CATEGORICAL) {
        /* A listed category that is no sentinel needs no schema check. */
        b = profile_str_form(v, buf, sizeof buf, &s, &len) ? profile_bin_cat(f, s, len)
                                                            : PROFILE_BIN_UNSEEN;
        if (b != PROFILE_BIN_UNSEEN && !f->cat_missing[b])
            return b;
        return p->schema != NULL && schema_is_missing_at(p->schema, f->sfield, v)
                   ? PROFILE_BIN_MISSING : b;
    }
    if (p->schema != NULL && schema_is_missing_at(p->schema, f->sfield, v))
        return PROFILE_BIN_MISSING;
    switch (v->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return profile_bin_numeric(f, (double)v->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return profile_bin_numeric(f, (double)v->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return isnan(v->via.f64) ? PROFILE_BIN_UNSEEN : profile_bin_numeric(f, v->via.f64);
    case MSGPACK_OBJECT_BOOLEAN:
        return profile_bin_numeric(f, v->via.boolean ? 1.0 : 0.0);
    default:
        return PROFILE_BIN_UNSEEN;
    }
}

/* The feature whose field is name[0..len), or -1. */
static int
profile_find(const struct profile *p, const char *name, size_t len)
{
    unsigned h = profile_probe(p->name_slot, name, len);

    return p->name_slot[h].key != NULL ? (int)p->name_slot[h].val : -1;
}

void
profile_bin_item(const struct profile *p, const msgpack_object *fields, uint8_t *out)
{
    memset(out, PROFILE_BIN_MISSING, p->n_feat);
    if (fields == NULL || fields->type != MSGPACK_OBJECT_MAP)
        return;
    for (uint32_t k = 0; k < fields->via.map.size; k++) {
        const msgpack_object_kv *kv = &fields->via.map.ptr[k];
        int i = kv->key.type == MSGPACK_OBJECT_STR
                    ? profile_find(p, kv->key.via.str.ptr, kv->key.via.str.size) : -1;

        if (i >= 0)
            out[i] = profile_bin_value(p, (size_t)i, &kv->val);
    }
}
