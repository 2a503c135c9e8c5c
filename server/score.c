/*
 * score.c - the scoring set: loads a policy file (per item type: model,
 * auto threshold and action, queue, priority, SLA) and the models it
 * names, and scores items with the type's model.
 *
 * Policy format (format_version 1; also in scripts/README-model.md):
 *
 *   {"format": "hitlq-policy", "format_version": 1,
 *    "id": "default", "version": "1", "description": "optional",
 *    "types": {"credit_application": {
 *        "model": "credit_scorecard.json",   path relative to the policy file
 *        "auto_threshold": 0.8,               number in [0, 1]
 *        "auto_action": "approve",            name
 *        "queue": "credit_review",            queue name
 *        "priority": 100,                     int 0..HITLQ_MAX_PRIORITY
 *        "sla_seconds": 14400}}}              int 1..SCORE_MAX_SLA_SECONDS
 *
 * Validation is strict: unknown keys, wrong types and out-of-range values
 * are errors, and every message names the file and the key.  Types that
 * name the same model file share one loaded model.  path == NULL loads the
 * embedded defaults (defaults.h); model names then resolve against the
 * embedded files.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json_util.h"

#include "defaults.h"
#include <sodium.h>

#include "score.h"

#define SCORE_MAX_FILE        (64u * 1024u * 1024u)   /* policy or model file */
#define SCORE_MAX_TYPES       1024u
#define SCORE_MAX_SLA_SECONDS (366ull * 86400ull)    /* a year */

struct score_model_entry {
    char         *name;          /* owned: the policy's "model" string */
    struct model *model;         /* owned */
};

struct scoring {
    char   id[HITLQ_MAX_NAME + 1];          /* "id@version" */
    uint8_t digest[32];                      /* SHA-256 of the policy file bytes */
    struct type_policy *types;               /* owned, policy file order */
    size_t n_types;
    struct score_model_entry *models;        /* owned */
    size_t n_models;
};

/* Where the policy came from: a directory on disk or the embedded set. */
struct score_src {
    const char *policy_name;     /* for messages */
    const char *dir;             /* NULL = embedded */
};

/* ---- small helpers ----------------------------------------------------------- */

static bool score_name_ok(const char *s, size_t max)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* Reads a whole file into a malloc'd buffer (caller frees).  0 or -1. */
static int score_read_file(const char *path, char **out, size_t *len,
                           char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *buf = NULL;                       /* owned until returned */
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8192;
            char *nb = ncap <= SCORE_MAX_FILE ? realloc(buf, ncap) : NULL;
            if (!nb) {
                snprintf(err, errlen, "%s: %s", path, ncap > SCORE_MAX_FILE
                         ? "file too large" : "out of memory");
                goto fail;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        goto fail;
    }
    fclose(f);
    *out = buf;
    *len = n;
    return 0;
fail:
    free(buf);
    fclose(f);
    return -1;
}

/* ---- models --------------------------------------------------------------- */

/* Loads the model `name` from the policy's directory or the embedded set. */
static struct model *score_load_model(const struct score_src *src, const char *name,
                                      const char *where, char *err, size_t errlen)
{
    char path[PATH_MAX], merr[200];
    char *buf = NULL;                       /* owned */
    size_t len = 0;
    struct model *m = NULL;

    if (!src->dir) {
        const unsigned char *p = defaults_file(name, &len);
        if (!p) {
            snprintf(err, errlen, "%s: \"model\": no embedded model \"%s\"", where, name);
            return NULL;
        }
        snprintf(path, sizeof path, "(embedded)/%s", name);
        m = scorecard_load((const char *)p, len, merr, sizeof merr);
    } else {
        int w = name[0] == '/' ? snprintf(path, sizeof path, "%s", name)
                               : snprintf(path, sizeof path, "%s/%s", src->dir, name);
        if (w < 0 || (size_t)w >= sizeof path) {
            snprintf(err, errlen, "%s: \"model\": path too long", where);
            return NULL;
        }
        if (score_read_file(path, &buf, &len, merr, sizeof merr) < 0) {
            snprintf(err, errlen, "%s: \"model\": %s", where, merr);
            return NULL;
        }
        m = scorecard_load(buf, len, merr, sizeof merr);
        free(buf);
    }
    if (!m)
        snprintf(err, errlen, "%s (model of %s): %s", path, where, merr);
    return m;
}

/* The shared model for `name`, loading it on first use. */
static const struct model *score_get_model(struct scoring *s, const struct score_src *src,
                                           const char *name, const char *where,
                                           char *err, size_t errlen)
{
    for (size_t i = 0; i < s->n_models; i++)
        if (strcmp(s->models[i].name, name) == 0)
            return s->models[i].model;
    struct model *m = score_load_model(src, name, where, err, errlen);
    if (!m)
        return NULL;
    struct score_model_entry *e = &s->models[s->n_models];   /* sized to n_types */
    e->name = strdup(name);
    if (!e->name) {
        model_free(m);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->model = m;
    s->n_models++;
    return m;
}

/* ---- policy ------------------------------------------------------------------- */

static int score_get_uint(const json_t *obj, const char *key, uint64_t min, uint64_t max,
                          uint64_t *out, const char *where, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max) {
        snprintf(err, errlen, "%s: \"%s\" must be an integer in [%llu, %llu]",
                 where, key, (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int score_get_name(const json_t *obj, const char *key, size_t max, char *dst,
                          const char *where, char *err, size_t errlen)
{
    const char *v = json_string_value(json_object_get(obj, key));
    if (!score_name_ok(v, max)) {
        snprintf(err, errlen, "%s: \"%s\" must be a printable name of 1..%zu bytes",
                 where, key, max);
        return -1;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int score_load_type(struct scoring *s, const struct score_src *src,
                           struct type_policy *tp, const char *type, const json_t *jt,
                           char *err, size_t errlen)
{
    static const char *const keys[] = { "model", "auto_threshold", "auto_action",
        "queue", "priority", "sla_seconds", "description", NULL };
    char where[HITLQ_MAX_NAME + PATH_MAX / 8];
    uint64_t prio = 0;

    snprintf(where, sizeof where, "%s: types.\"%.*s\"", src->policy_name,
             (int)HITLQ_MAX_NAME, type);
    if (!score_name_ok(type, HITLQ_MAX_NAME)) {
        snprintf(err, errlen, "%s: type must be a printable name of 1..%u bytes",
                 where, HITLQ_MAX_NAME);
        return -1;
    }
    if (!json_is_object(jt)) {
        snprintf(err, errlen, "%s: must be an object", where);
        return -1;
    }
    memcpy(tp->type, type, strlen(type) + 1);
    const json_t *th = json_object_get(jt, "auto_threshold");
    const char *model = json_string_value(json_object_get(jt, "model"));
    if (json_check_keys(jt, keys, where, ": ", err, errlen) < 0)
        return -1;
    if (!model || !model[0] || strlen(model) >= PATH_MAX / 2) {
        snprintf(err, errlen, "%s: \"model\" must be a file name", where);
        return -1;
    }
    if (!json_is_number(th) || !(json_number_value(th) >= 0 && json_number_value(th) <= 1)) {
        snprintf(err, errlen, "%s: \"auto_threshold\" must be a number in [0, 1]", where);
        return -1;
    }
    tp->auto_threshold = json_number_value(th);
    if (score_get_name(jt, "auto_action", HITLQ_MAX_NAME, tp->auto_action,
                       where, err, errlen) < 0 ||
        score_get_name(jt, "queue", HITLQ_MAX_QUEUE_NAME, tp->queue,
                       where, err, errlen) < 0 ||
        score_get_uint(jt, "priority", 0, HITLQ_MAX_PRIORITY, &prio,
                       where, err, errlen) < 0 ||
        score_get_uint(jt, "sla_seconds", 1, SCORE_MAX_SLA_SECONDS, &tp->sla_seconds,
                       where, err, errlen) < 0)
        return -1;
    tp->priority = (uint32_t)prio;
    tp->model = score_get_model(s, src, model, where, err, errlen);
    return tp->model ? 0 : -1;
}

static int score_load_header(struct scoring *s, const json_t *root, const char *name,
                             char *err, size_t errlen)
{
    static const char *const keys[] = { "format", "format_version", "id", "version",
        "description", "types", NULL };
    const char *format = json_string_value(json_object_get(root, "format"));
    const json_t *fv = json_object_get(root, "format_version");
    const char *id = json_string_value(json_object_get(root, "id"));
    const char *ver = json_string_value(json_object_get(root, "version"));

    if (!format || strcmp(format, "hitlq-policy") != 0) {
        snprintf(err, errlen, "%s: unknown format \"%s\" (expected \"hitlq-policy\")",
                 name, format ? format : "(missing)");
        return -1;
    }
    if (!json_is_integer(fv) || json_integer_value(fv) != 1) {
        snprintf(err, errlen, "%s: unsupported \"format_version\" (expected 1)", name);
        return -1;
    }
    if (json_check_keys(root, keys, name, ": ", err, errlen) < 0)
        return -1;
    if (!score_name_ok(id, HITLQ_MAX_NAME) || !score_name_ok(ver, HITLQ_MAX_NAME) ||
        strchr(id, '@') || strlen(id) + 1 + strlen(ver) > HITLQ_MAX_NAME) {
        snprintf(err, errlen, "%s: \"id\" and \"version\" must be printable names "
                 "(id without '@', together at most %u bytes)", name, HITLQ_MAX_NAME - 1);
        return -1;
    }
    size_t id_len = strlen(id);            /* checked: id@ver fits */
    memcpy(s->id, id, id_len);
    s->id[id_len] = '@';
    memcpy(s->id + id_len + 1, ver, strlen(ver) + 1);
    return 0;
}

static int score_load_policy(struct scoring *s, const struct score_src *src,
                             const char *bytes, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "%s: invalid JSON at line %d column %d: %s",
                 src->policy_name, jerr.line, jerr.column, jerr.text);
        return -1;
    }
    int rc = -1;
    const json_t *types = json_object_get(root, "types");
    size_t n = json_object_size(types);
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s: top level must be a JSON object", src->policy_name);
    } else if (score_load_header(s, root, src->policy_name, err, errlen) < 0) {
        /* err filled */
    } else if (!json_is_object(types) || n == 0 || n > SCORE_MAX_TYPES) {
        snprintf(err, errlen, "%s: \"types\" must be an object of 1..%u types",
                 src->policy_name, SCORE_MAX_TYPES);
    } else if (!(s->types = calloc(n, sizeof *s->types)) ||
               !(s->models = calloc(n, sizeof *s->models))) {
        snprintf(err, errlen, "out of memory");
    } else {
        const char *type;
        json_t *jt;
        rc = 0;
        json_object_foreach((json_t *)types, type, jt) {
            if (score_load_type(s, src, &s->types[s->n_types], type, jt, err, errlen) < 0) {
                rc = -1;
                break;
            }
            s->n_types++;
        }
    }
    json_decref(root);
    return rc;
}

/* ---- public ---------------------------------------------------------------- */

int scoring_load(struct scoring **out, const char *path, char *err, size_t errlen)
{
    struct scoring *s = calloc(1, sizeof *s);   /* owned; returned in *out */
    char *buf = NULL, dir[PATH_MAX];            /* buf owned */
    size_t len = 0;
    struct score_src src = { DEFAULTS_POLICY_NAME, NULL };
    int rc;

    *out = NULL;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!path) {
        const unsigned char *p = defaults_policy(&len);
        crypto_hash_sha256(s->digest, p, len);
        rc = score_load_policy(s, &src, (const char *)p, len, err, errlen);
    } else {
        const char *slash = strrchr(path, '/');
        size_t dlen = slash ? (size_t)(slash - path) : 1;
        if (dlen >= sizeof dir) {
            snprintf(err, errlen, "%s: path too long", path);
            scoring_free(s);
            return -1;
        }
        memcpy(dir, slash ? path : ".", dlen);
        dir[dlen] = '\0';
        if (slash == path)
            memcpy(dir, "/", 2);
        src.policy_name = path;
        src.dir = dir;
        rc = score_read_file(path, &buf, &len, err, errlen);
        if (rc == 0) {
            crypto_hash_sha256(s->digest, (const unsigned char *)buf, len);
            rc = score_load_policy(s, &src, buf, len, err, errlen);
        }
        free(buf);
    }
    if (rc < 0) {
        scoring_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void scoring_free(struct scoring *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_models; i++) {
        model_free(s->models[i].model);
        free(s->models[i].name);
    }
    free(s->models);
    free(s->types);
    free(s);
}

const char *scoring_policy_id(const struct scoring *s)
{
    return s->id;
}

const uint8_t *scoring_policy_digest(const struct scoring *s)
{
    return s->digest;
}

size_t scoring_n_types(const struct scoring *s)
{
    return s->n_types;
}

const struct type_policy *scoring_type_at(const struct scoring *s, size_t i)
{
    return i < s->n_types ? &s->types[i] : NULL;
}

const struct type_policy *scoring_policy(const struct scoring *s, const char *type)
{
    for (size_t i = 0; i < s->n_types; i++)
        if (strcmp(s->types[i].type, type) == 0)
            return &s->types[i];
    return NULL;
}

int score_item(const struct type_policy *p, const msgpack_object *fields,
               struct score_result *out)
{
    return p->model->ops->score(p->model, fields, out);
}

bool score_auto_resolves(const struct type_policy *p, const struct score_result *r)
{
    return r->complete && r->score >= p->auto_threshold;
}

void model_free(struct model *m)
{
    if (!m)
        return;
    if (m->ops && m->ops->free)
        m->ops->free(m);
    free(m);
}
