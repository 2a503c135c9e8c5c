/*
 * model_scorecard.c - the logistic scorecard model kind: loads a
 * "hitlq-scorecard" JSON file and scores an item's msgpack fields map with
 * exact per-feature contributions (reason codes).
 *
 * File format (format_version 1; also in scripts/README-model.md):
 *
 *   {"format": "hitlq-scorecard", "format_version": 1,
 *    "id": "credit_scorecard", "version": "1", "link": "logistic",
 *    "bias": b,
 *    "features": [
 *      {"field": "age", "kind": "numeric", "weight": w, "mean": m},
 *      {"field": "telephone", "kind": "boolean", "weight": w, "mean": p},
 *      {"field": "purpose", "kind": "categorical",
 *       "weights": {"NewCar": w1, ...}, "baseline": c},
 *      {"field": "age", "kind": "binned", "bins": [
 *         {"below": 25, "weight": w1}, {"below": 40, "weight": w2},
 *         {"weight": w3}], "baseline": c}],
 *    "training": {...free-form metadata...},
 *    "description": "optional free text"}
 *
 * Unknown keys are rejected; every number must be finite; field names are
 * unique printable ASCII of at most HITLQ_MAX_NAME bytes.
 *
 * Evaluation: margin = b + sum(w * x) + sum(weights[v]) + sum(bin weight);
 * score = sigmoid(margin) (P(Good) for the credit model).  A binned
 * numeric takes the weight of the first bin with x < below (the last bin,
 * without "below", takes the rest; bounds strictly ascending).
 * Contributions are exact: numeric/boolean phi = w * (x - mean),
 * categorical and binned phi = weight - baseline, so sum(phi) = margin -
 * base_margin where base_margin = b + sum(w * mean) + sum(baseline).  Numbers are msgpack int or float
 * (finite); booleans are true/false or the ints 0/1; categoricals are
 * strings.  A feature whose field is absent or nil, or a category value
 * the model does not know, contributes 0 and makes the result incomplete;
 * such features are always named in the reasons (at the end, contribution
 * 0).  A value of the wrong type is HITLQ_ST_INVALID_ITEM naming the field.
 * Reasons: the largest |phi| first, ties in feature order.
 *
 * Scoring allocates nothing: per-call state lives on the stack, bounded by
 * SC_MAX_FEATURES.  Field names and category values are found by binary
 * search over arrays sorted by (length, bytes).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json_util.h"
#include <openssl/evp.h>

#include "schema.h"
#include "score.h"

#define SC_MAX_FEATURES HITLQ_MAX_FIELDS   /* one feature per item field at most */
#define SC_MAX_LEVELS   4096u              /* categories per feature */

enum sc_kind { SC_NUMERIC, SC_BOOLEAN, SC_CATEGORICAL, SC_BINNED };
#define SC_MAX_BINS 64u

struct sc_level {               /* one category value */
    char    *name;              /* owned */
    size_t   len;
    double   phi;               /* weight - baseline */
};

struct sc_feature {
    char    *field;             /* owned, NUL-terminated */
    size_t   field_len;
    enum sc_kind kind;
    double   weight;            /* numeric, boolean */
    double   mean;              /* numeric, boolean */
    double   baseline;          /* categorical */
    struct sc_level *levels;    /* owned; sorted by (len, bytes) */
    size_t   n_levels;
    double  *bin_below;         /* owned, binned: n_bins - 1 ascending bounds */
    double  *bin_phi;           /* owned, binned: n_bins (weight - baseline) */
    size_t   n_bins;
};

struct scorecard {
    double   base_margin;       /* bias + sum(w * mean) + sum(baseline) */
    struct sc_feature *features;/* owned, in file order */
    size_t   n_features;
    uint16_t *by_name;          /* owned: feature indices sorted by field name */
};

enum sc_state { SC_PRESENT, SC_MISSING, SC_UNKNOWN };

/* ---- helpers ---------------------------------------------------------------- */

static int sc_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return alen < blen ? -1 : 1;
    return memcmp(a, b, alen);
}

static int sc_level_cmp(const void *pa, const void *pb)
{
    const struct sc_level *a = pa, *b = pb;
    return sc_name_cmp(a->name, a->len, b->name, b->len);
}

static bool sc_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > HITLQ_MAX_NAME)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    return true;
}

static double sc_sigmoid(double z)
{
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

/* Reads a finite number at obj[key] into *out; 0 or -1 with err filled. */
static int sc_get_finite(const json_t *obj, const char *key, const char *where,
                         double *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_number(v) || !isfinite(json_number_value(v))) {
        snprintf(err, errlen, "%s\"%s\" must be a finite number", where, key);
        return -1;
    }
    *out = json_number_value(v);
    return 0;
}

/* ---- loading ---------------------------------------------------------------- */

static void sc_free_impl(struct scorecard *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; i < sc->n_features; i++) {
        struct sc_feature *f = &sc->features[i];
        for (size_t j = 0; j < f->n_levels; j++)
            free(f->levels[j].name);
        free(f->levels);
        free(f->bin_below);
        free(f->bin_phi);
        free(f->field);
    }
    free(sc->features);
    free(sc->by_name);
    free(sc);
}

static int sc_load_levels(struct sc_feature *f, const json_t *jf,
                          const char *where, char *err, size_t errlen)
{
    const json_t *jw = json_object_get(jf, "weights");
    size_t n = json_object_size(jw);
    if (!json_is_object(jw) || n == 0 || n > SC_MAX_LEVELS) {
        snprintf(err, errlen, "%s\"weights\" must be an object of 1..%u "
                 "category weights", where, SC_MAX_LEVELS);
        return -1;
    }
    if (sc_get_finite(jf, "baseline", where, &f->baseline, err, errlen) < 0)
        return -1;
    f->levels = calloc(n, sizeof *f->levels);
    if (!f->levels) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)jw, key, val) {
        if (!json_is_number(val) || !isfinite(json_number_value(val))) {
            snprintf(err, errlen, "%s\"weights\".\"%s\" must be a finite "
                     "number", where, key);
            return -1;
        }
        struct sc_level *lv = &f->levels[f->n_levels++];
        lv->len = strlen(key);
        lv->name = strdup(key);
        lv->phi = json_number_value(val) - f->baseline;
        if (!lv->name) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    qsort(f->levels, f->n_levels, sizeof *f->levels, sc_level_cmp);
    return 0;
}

/* "bins": [{"below": x, "weight": w}, ..., {"weight": w}] */
static int sc_load_bins(struct sc_feature *f, const json_t *jf,
                        const char *where, char *err, size_t errlen)
{
    static const char *const keys[] = { "below", "weight", NULL };
    const json_t *jb = json_object_get(jf, "bins");
    size_t n = json_array_size(jb);

    if (!json_is_array(jb) || n < 2 || n > SC_MAX_BINS) {
        snprintf(err, errlen, "%s\"bins\" must be an array of 2..%u bins", where,
                 SC_MAX_BINS);
        return -1;
    }
    if (sc_get_finite(jf, "baseline", where, &f->baseline, err, errlen) < 0)
        return -1;
    f->bin_below = calloc(n, sizeof *f->bin_below);
    f->bin_phi = calloc(n, sizeof *f->bin_phi);
    if (!f->bin_below || !f->bin_phi) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *b = json_array_get(jb, i);
        char bw[64 + HITLQ_MAX_NAME];
        bool last = i + 1 == n;

        snprintf(bw, sizeof bw, "%sbins[%zu]: ", where, i);
        if (!json_is_object(b)) {
            snprintf(err, errlen, "%smust be an object", bw);
            return -1;
        }
        if (json_check_keys(b, keys, bw, "", err, errlen) < 0 ||
            sc_get_finite(b, "weight", bw, &f->bin_phi[i], err, errlen) < 0)
            return -1;
        f->bin_phi[i] -= f->baseline;
        if (last != (json_object_get(b, "below") == NULL)) {
            snprintf(err, errlen, "%s%s", bw, last ? "the last bin has no \"below\""
                     : "\"below\" is required (all but the last bin)");
            return -1;
        }
        if (!last && (sc_get_finite(b, "below", bw, &f->bin_below[i], err, errlen) < 0))
            return -1;
        if (!last && i > 0 && !(f->bin_below[i] > f->bin_below[i - 1])) {
            snprintf(err, errlen, "%s\"below\" must be strictly ascending", bw);
            return -1;
        }
    }
    f->n_bins = n;
    return 0;
}

static int sc_load_feature(struct sc_feature *f, const json_t *jf, size_t idx,
                           char *err, size_t errlen)
{
    static const char *const bin_keys[] = { "field", "kind", "bins", "baseline", NULL };
    static const char *const num_keys[] = { "field", "kind", "weight", "mean", NULL };
    static const char *const cat_keys[] = { "field", "kind", "weights", "baseline", NULL };
    char where[48 + HITLQ_MAX_NAME];
    const char *field = json_string_value(json_object_get(jf, "field"));
    const char *kind = json_string_value(json_object_get(jf, "kind"));

    snprintf(where, sizeof where, "features[%zu]: ", idx);
    if (!json_is_object(jf) || !field || !sc_name_ok(field, strlen(field))) {
        snprintf(err, errlen, "%s\"field\" must be a printable name of 1..%u "
                 "bytes", where, HITLQ_MAX_NAME);
        return -1;
    }
    snprintf(where, sizeof where, "features[%zu] (\"%s\"): ", idx, field);
    f->field_len = strlen(field);
    f->field = strdup(field);
    if (!f->field) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (kind && (!strcmp(kind, "numeric") || !strcmp(kind, "boolean"))) {
        f->kind = !strcmp(kind, "numeric") ? SC_NUMERIC : SC_BOOLEAN;
        if (json_check_keys(jf, num_keys, where, "", err, errlen) < 0 ||
            sc_get_finite(jf, "weight", where, &f->weight, err, errlen) < 0 ||
            sc_get_finite(jf, "mean", where, &f->mean, err, errlen) < 0)
            return -1;
        return 0;
    }
    if (kind && !strcmp(kind, "categorical")) {
        f->kind = SC_CATEGORICAL;
        if (json_check_keys(jf, cat_keys, where, "", err, errlen) < 0)
            return -1;
        return sc_load_levels(f, jf, where, err, errlen);
    }
    if (kind && !strcmp(kind, "binned")) {
        f->kind = SC_BINNED;
        if (json_check_keys(jf, bin_keys, where, "", err, errlen) < 0)
            return -1;
        return sc_load_bins(f, jf, where, err, errlen);
    }
    snprintf(err, errlen, "%s\"kind\" must be \"numeric\", \"boolean\", "
             "\"categorical\" or \"binned\"", where);
    return -1;
}

/* Sorts the field-name index and rejects duplicate field names. */
static int sc_index_fields(struct scorecard *sc, char *err, size_t errlen)
{
    sc->by_name = malloc(sc->n_features * sizeof *sc->by_name);
    if (!sc->by_name) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < sc->n_features; i++) {     /* insertion sort: n <= 256 */
        const struct sc_feature *f = &sc->features[i];
        size_t j = i;
        while (j > 0) {
            const struct sc_feature *g = &sc->features[sc->by_name[j - 1]];
            int c = sc_name_cmp(g->field, g->field_len, f->field, f->field_len);
            if (c == 0) {
                snprintf(err, errlen, "features[%zu]: duplicate field \"%s\"",
                         i, f->field);
                return -1;
            }
            if (c < 0)
                break;
            sc->by_name[j] = sc->by_name[j - 1];
            j--;
        }
        sc->by_name[j] = (uint16_t)i;
    }
    return 0;
}

static int sc_load_features(struct scorecard *sc, const json_t *jfeat,
                            double bias, char *err, size_t errlen)
{
    size_t n = json_array_size(jfeat);
    if (!json_is_array(jfeat) || n == 0 || n > SC_MAX_FEATURES) {
        snprintf(err, errlen, "\"features\" must be an array of 1..%u features",
                 SC_MAX_FEATURES);
        return -1;
    }
    sc->features = calloc(n, sizeof *sc->features);
    if (!sc->features) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sc->base_margin = bias;
    for (size_t i = 0; i < n; i++) {
        struct sc_feature *f = &sc->features[i];
        sc->n_features = i + 1;
        if (sc_load_feature(f, json_array_get(jfeat, i), i, err, errlen) < 0)
            return -1;
        sc->base_margin += f->kind == SC_CATEGORICAL || f->kind == SC_BINNED
                           ? f->baseline : f->weight * f->mean;
    }
    if (!isfinite(sc->base_margin)) {
        snprintf(err, errlen, "base margin is not finite");
        return -1;
    }
    return sc_index_fields(sc, err, errlen);
}

/* Checks the header keys and fills m->id ("id@version"). */
static int sc_load_header(struct model *m, const json_t *root, char *err, size_t errlen)
{
    static const char *const keys[] = { "format", "format_version", "id", "version",
        "link", "bias", "features", "training", "description", NULL };
    const char *format = json_string_value(json_object_get(root, "format"));
    const json_t *fv = json_object_get(root, "format_version");
    const char *id = json_string_value(json_object_get(root, "id"));
    const char *ver = json_string_value(json_object_get(root, "version"));
    const char *link = json_string_value(json_object_get(root, "link"));

    if (!format || strcmp(format, "hitlq-scorecard") != 0) {
        snprintf(err, errlen, "unknown format \"%s\" (expected \"hitlq-scorecard\")",
                 format ? format : "(missing)");
        return -1;
    }
    if (!json_is_integer(fv) || json_integer_value(fv) != 1) {
        snprintf(err, errlen, "unsupported \"format_version\" (expected 1)");
        return -1;
    }
    if (json_check_keys(root, keys, "", "", err, errlen) < 0)
        return -1;
    if (!id || !ver || !sc_name_ok(id, strlen(id)) || !sc_name_ok(ver, strlen(ver)) ||
        strlen(id) + 1 + strlen(ver) > HITLQ_MAX_NAME || strchr(id, '@')) {
        snprintf(err, errlen, "\"id\" and \"version\" must be printable names "
                 "(id without '@', together at most %u bytes)", HITLQ_MAX_NAME - 1);
        return -1;
    }
    if (!link || strcmp(link, "logistic") != 0) {
        snprintf(err, errlen, "\"link\" must be \"logistic\"");
        return -1;
    }
    size_t id_len = strlen(id);            /* checked: id@ver fits */
    memcpy(m->id, id, id_len);
    m->id[id_len] = '@';
    memcpy(m->id + id_len + 1, ver, strlen(ver) + 1);
    return 0;
}

/* ---- scoring ---------------------------------------------------------------- */

/* Index of the feature named by `key`, or -1; `hint` is tried first. */
static int sc_find_field(const struct scorecard *sc, const msgpack_object_str *key,
                         size_t hint)
{
    if (hint < sc->n_features) {
        const struct sc_feature *f = &sc->features[hint];
        if (f->field_len == key->size && memcmp(f->field, key->ptr, key->size) == 0)
            return (int)hint;
    }
    size_t lo = 0, hi = sc->n_features;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct sc_feature *f = &sc->features[sc->by_name[mid]];
        int c = sc_name_cmp(f->field, f->field_len, key->ptr, key->size);
        if (c == 0)
            return sc->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static const struct sc_level *sc_find_level(const struct sc_feature *f,
                                            const msgpack_object_str *v)
{
    size_t lo = 0, hi = f->n_levels;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct sc_level *lv = &f->levels[mid];
        int c = sc_name_cmp(lv->name, lv->len, v->ptr, v->size);
        if (c == 0)
            return lv;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int sc_invalid(const struct sc_feature *f, const char *what,
                      struct score_result *out)
{
    snprintf(out->err, sizeof out->err, "field \"%s\": %s", f->field, what);
    return HITLQ_ST_INVALID_ITEM;
}

/* The contribution of one feature for value v (NULL or nil = missing). */
static int sc_feature_phi(const struct sc_feature *f, const msgpack_object *v,
                          double *phi, enum sc_state *st, struct score_result *out)
{
    double x;
    *phi = 0;
    *st = SC_MISSING;
    if (!v || v->type == MSGPACK_OBJECT_NIL)
        return HITLQ_ST_OK;
    switch (f->kind) {
    case SC_CATEGORICAL: {
        if (v->type != MSGPACK_OBJECT_STR)
            return sc_invalid(f, "expected a string", out);
        const struct sc_level *lv = sc_find_level(f, &v->via.str);
        *st = lv ? SC_PRESENT : SC_UNKNOWN;
        *phi = lv ? lv->phi : 0;
        return HITLQ_ST_OK;
    }
    case SC_BOOLEAN:
        if (v->type == MSGPACK_OBJECT_BOOLEAN)
            x = v->via.boolean ? 1 : 0;
        else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= 1)
            x = (double)v->via.u64;
        else
            return sc_invalid(f, "expected a boolean", out);
        break;
    case SC_NUMERIC:
    case SC_BINNED:
        if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            x = (double)v->via.u64;
        else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            x = (double)v->via.i64;
        else if (v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64)
            x = v->via.f64;
        else
            return sc_invalid(f, "expected a number", out);
        if (!isfinite(x))
            return sc_invalid(f, "expected a finite number", out);
        break;
    default:
        return sc_invalid(f, "unsupported feature kind", out);
    }
    *st = SC_PRESENT;
    if (f->kind == SC_BINNED) {
        size_t b = 0;
        while (b + 1 < f->n_bins && !(x < f->bin_below[b]))
            b++;
        *phi = f->bin_phi[b];
    } else {
        *phi = f->weight * (x - f->mean);
    }
    return HITLQ_ST_OK;
}

/* Fills out->reasons (score_pick_reasons): the present features with the
 * largest |phi| and every missing or unknown one (phi 0). */
static void sc_pick_reasons(const struct scorecard *sc, const double *phi,
                            const enum sc_state *st, const msgpack_object *const *vals,
                            struct score_result *out)
{
    const char *names[SC_MAX_FEATURES];
    bool missing[SC_MAX_FEATURES];

    for (size_t i = 0; i < sc->n_features; i++) {
        names[i] = sc->features[i].field;
        missing[i] = st[i] != SC_PRESENT;
    }
    score_pick_reasons(out, sc->n_features, phi, vals, missing, names);
}

static int sc_score(const struct model *m, const struct type_policy *tp,
                    const msgpack_object *fields, int method, struct score_result *out)
{
    const struct scorecard *sc = m->impl;
    const msgpack_object *vals[SC_MAX_FEATURES];
    double phi[SC_MAX_FEATURES];
    enum sc_state st[SC_MAX_FEATURES];

    out->score = out->margin = out->base_margin = 0;
    out->complete = false;
    out->method = SCORE_METHOD_LINEAR;
    out->n_reasons = 0;
    out->err[0] = '\0';
    if (fields->type != MSGPACK_OBJECT_MAP) {
        snprintf(out->err, sizeof out->err, "fields: expected a map");
        return HITLQ_ST_INVALID_ITEM;
    }
    memset(vals, 0, sc->n_features * sizeof vals[0]);
    size_t hint = 0;
    for (uint32_t k = 0; k < fields->via.map.size; k++) {
        const msgpack_object_kv *kv = &fields->via.map.ptr[k];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            continue;
        int i = sc_find_field(sc, &kv->key.via.str, hint);
        if (i < 0)
            continue;
        if (vals[i])
            return sc_invalid(&sc->features[i], "duplicate field", out);
        vals[i] = &kv->val;
        hint = (size_t)i + 1;
    }
    double margin = sc->base_margin;
    bool complete = true;
    for (size_t i = 0; i < sc->n_features; i++) {
        int rc = sc_feature_phi(&sc->features[i], vals[i], &phi[i], &st[i], out);
        if (rc != HITLQ_ST_OK)
            return rc;
        margin += phi[i];
        complete = complete && st[i] == SC_PRESENT;
    }
    out->margin = margin;
    out->base_margin = sc->base_margin;
    out->score = sc_sigmoid(margin);
    out->complete = complete;
    sc_pick_reasons(sc, phi, st, vals, out);
    return HITLQ_ST_OK;
}

static void sc_free(struct model *m)
{
    sc_free_impl(m->impl);
    m->impl = NULL;
}

static const struct model_ops sc_ops = {
    .kind  = "scorecard",
    .score = sc_score,
    .free  = sc_free,
};

struct model *scorecard_load(const char *json, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "invalid JSON at line %d column %d: %s",
                 jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    struct model *m = calloc(1, sizeof *m);           /* owned; returned */
    struct scorecard *sc = calloc(1, sizeof *sc);     /* owned by m */
    double bias = 0;
    int ok = m && sc && json_is_object(root);
    if (!ok)
        snprintf(err, errlen, m && sc ? "top level must be a JSON object"
                                      : "out of memory");
    ok = ok && sc_load_header(m, root, err, errlen) == 0 &&
         sc_get_finite(root, "bias", "", &bias, err, errlen) == 0 &&
         sc_load_features(sc, json_object_get(root, "features"), bias,
                          err, errlen) == 0;
    if (ok && EVP_Digest(json, len, m->digest, NULL, EVP_sha256(), NULL) != 1) {
        snprintf(err, errlen, "SHA-256 failed");
        ok = 0;
    }
    json_decref(root);
    if (!ok) {
        sc_free_impl(sc);
        free(m);
        return NULL;
    }
    m->ops = &sc_ops;
    m->impl = sc;
    return m;
}

int scorecard_check_schema(const struct model *m, const struct schema *s,
                           const char *where, char *err, size_t errlen)
{
    const struct scorecard *sc = m->impl;

    for (size_t i = 0; s != NULL && i < sc->n_features; i++) {
        const struct sc_feature *f = &sc->features[i];
        enum schema_type t;
        bool ok;

        if (schema_field_type(s, f->field, &t) < 0) {
            snprintf(err, errlen, "%s: the model reads field \"%s\", which the type's "
                     "\"fields\" do not declare", where, f->field);
            return -1;
        }
        ok = f->kind == SC_CATEGORICAL ? t == SCHEMA_STRING
           : f->kind == SC_BOOLEAN ? t == SCHEMA_BOOLEAN
           : t == SCHEMA_NUMBER || t == SCHEMA_INTEGER;
        if (!ok) {
            snprintf(err, errlen, "%s: field \"%s\" is declared with a type the model "
                     "cannot read as %s", where, f->field,
                     f->kind == SC_CATEGORICAL ? "a category" : f->kind == SC_BOOLEAN
                     ? "a boolean" : "a number");
            return -1;
        }
    }
    return 0;
}
