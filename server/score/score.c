/*
 * score.c - the scoring set: loads a policy file and the models it names
 * (hitlq scorecards and XGBoost JSON models, told apart by content),
 * builds each type's policy (score_policy.c), checks that each model fits
 * its type's schema and feature mapping, and scores items with the type's
 * model.  Triage (rules, bands, QA sampling) is in score_triage.c.
 *
 * Policy format: scripts/README-model.md "Policy file" (format_version 1;
 * keys added since are optional, so older files still load).  Validation
 * is strict: unknown keys, wrong types and out-of-range values are errors,
 * and every message names the file and the key.  Types that name the same
 * model file share one loaded model (a tree model's id comes from the
 * first type naming it).  path == NULL loads the embedded defaults
 * (defaults.h); model names then resolve against the embedded files.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json_util.h"
#include "profile.h"

#include "defaults.h"
#include <sodium.h>

#include "model_xgb.h"

#include "schema.h"
#include "score.h"
#include "score_int.h"

#define SCORE_MAX_FILE        (64u * 1024u * 1024u)   /* policy or model file */
#define SCORE_MAX_TYPES       1024u

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
    struct score_sla *slas;                  /* owned: "queues" (score_sla.c) */
    size_t n_slas;
};

/* Where the policy came from: a directory on disk or the embedded set. */
struct score_src {
    const char *policy_name;     /* for messages */
    const char *dir;             /* NULL = embedded */
};

/* ---- small helpers ----------------------------------------------------------- */

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

/* The model's id for a tree model: "model_id@model_version" from the
 * policy, defaulting to the file's stem and the first 12 hex digits of
 * its SHA-256. */
static int score_tree_id(const json_t *jt, const char *name, const char *bytes,
                         size_t len, char *id, const char *where, char *err, size_t errlen)
{
    const char *mid = json_string_value(json_object_get(jt, "model_id"));
    const char *mver = json_string_value(json_object_get(jt, "model_version"));
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    size_t stem = strcspn(base, ".");
    unsigned char dg[32];
    char hex[13];

    crypto_hash_sha256(dg, (const unsigned char *)bytes, len);
    sodium_bin2hex(hex, sizeof hex, dg, 6);
    if ((mid && (!score_name_ok(mid, HITLQ_MAX_NAME) || strchr(mid, '@'))) ||
        (mver && !score_name_ok(mver, HITLQ_MAX_NAME)))
        return score_err(err, errlen, where, "\"model_id\" / \"model_version\" must be "
                         "printable names (id without '@')");
    int w = mid ? snprintf(id, HITLQ_MAX_NAME + 1, "%s@%s", mid, mver ? mver : hex)
                : snprintf(id, HITLQ_MAX_NAME + 1, "%.*s@%s", (int)(stem ? stem : strlen(base)),
                           base, mver ? mver : hex);
    if (w < 0 || w > (int)HITLQ_MAX_NAME)
        return score_err(err, errlen, where, "model id@version is too long");
    return 0;
}

/* Parses model bytes: an XGBoost JSON model (it has a "learner") or a
 * hitlq scorecard; XGBoost's UBJSON and legacy binary files are refused
 * as "not supported: ..." (xgb_format_unsupported). */
static struct model *score_parse_model(const json_t *jt, const char *name, const char *bytes,
                                       size_t len, const char *where, char *err, size_t errlen)
{
    char id[HITLQ_MAX_NAME + 1];
    const char *why = xgb_format_unsupported(bytes, len);

    if (why != NULL) {
        snprintf(err, errlen, "%s", why);
        return NULL;
    }
    if (memmem(bytes, len, "\"learner\"", 9) == NULL)
        return scorecard_load(bytes, len, err, errlen);
    if (score_tree_id(jt, name, bytes, len, id, where, err, errlen) < 0)
        return NULL;
    return model_tree_load(bytes, len, id, err, errlen);
}

/* Loads the model `name` from the policy's directory or the embedded set. */
static struct model *score_load_model(const struct score_src *src, const json_t *jt,
                                      const char *name, const char *where,
                                      char *err, size_t errlen)
{
    char path[PATH_MAX], merr[300];
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
        m = score_parse_model(jt, name, (const char *)p, len, where, merr, sizeof merr);
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
        m = score_parse_model(jt, name, buf, len, where, merr, sizeof merr);
        free(buf);
    }
    if (!m)
        snprintf(err, errlen, "%s (model of %s): %s", path, where, merr);
    return m;
}

/* The type's "profile" (profile.h), if it names one: from the policy's
 * directory or the embedded set, like its model (after the type loaded). */
static int score_load_profile(const struct score_src *src, struct type_policy *tp,
                              const json_t *jt, char *err, size_t errlen)
{
    const json_t *jp = json_object_get(jt, "profile");
    const char *name = json_string_value(jp);
    char path[PATH_MAX], where[SCORE_WHERE_MAX], w[SCORE_WHERE_MAX + PATH_MAX + 32];
    char *buf = NULL;                       /* owned */
    const char *bytes;
    size_t len = 0;

    if (jp == NULL)
        return 0;
    snprintf(where, sizeof where, "%s: types.\"%s\"", src->policy_name, tp->type);
    if (!name || !name[0] || strlen(name) >= PATH_MAX / 2)
        return score_err(err, errlen, where, "\"profile\" must be a file name");
    if (!src->dir) {
        snprintf(path, sizeof path, "(embedded)/%s", name);
        if ((bytes = (const char *)defaults_file(name, &len)) == NULL)
            return score_err(err, errlen, where, "\"profile\": no such embedded file");
    } else {
        snprintf(path, sizeof path, name[0] == '/' ? "%s%s" : "%s/%s",
                 name[0] == '/' ? "" : src->dir, name);
        if (score_read_file(path, &buf, &len, err, errlen) < 0)
            return -1;
        bytes = buf;
    }
    snprintf(w, sizeof w, "%s (profile of %s)", path, where);
    tp->profile = profile_load(bytes, len, tp->schema, w, err, errlen);
    free(buf);
    return tp->profile != NULL ? 0 : -1;
}

/* The shared model for `name`, loading it on first use. */
static const struct model *score_get_model(struct scoring *s, const struct score_src *src,
                                           const json_t *jt, const char *name,
                                           const char *where, char *err, size_t errlen)
{
    for (size_t i = 0; i < s->n_models; i++)
        if (strcmp(s->models[i].name, name) == 0)
            return s->models[i].model;
    struct model *m = score_load_model(src, jt, name, where, err, errlen);
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

/* Parses a type's entry, loads (or shares) its model and checks that the
 * model and the type's schema and feature mapping fit together. */
static int score_load_type(struct scoring *s, const struct score_src *src,
                           struct type_policy *tp, const char *type, const json_t *jt,
                           char *err, size_t errlen)
{
    char where[SCORE_WHERE_MAX];
    const char *model = json_string_value(json_object_get(jt, "model"));

    snprintf(where, sizeof where, "%s: types.\"%.*s\"", src->policy_name,
             (int)HITLQ_MAX_NAME, type);
    if (score_type_parse(tp, type, jt, where, err, errlen) < 0)
        return -1;
    if (!model || !model[0] || strlen(model) >= PATH_MAX / 2)
        return score_err(err, errlen, where, "\"model\" must be a file name");
    if ((tp->model = score_get_model(s, src, jt, model, where, err, errlen)) == NULL)
        return -1;
    if (model_is_tree(tp->model))
        return model_tree_bind(tp->model, tp, where, err, errlen);
    if (tp->featmap != NULL)
        return score_err(err, errlen, where, "\"features\" is for tree models; a "
                         "scorecard names its fields itself");
    if (tp->score_class != 0)
        return score_err(err, errlen, where, "\"score_class\" is for multi-class models");
    return scorecard_check_schema(tp->model, tp->schema, where, err, errlen);
}

/* ---- policy ------------------------------------------------------------------- */

static int score_load_header(struct scoring *s, const json_t *root, const char *name,
                             char *err, size_t errlen)
{
    static const char *const keys[] = { "format", "format_version", "id", "version",
        "description", "types", "queues", NULL };
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
            s->n_types++;           /* so that a partial entry is freed */
            if (score_load_type(s, src, &s->types[s->n_types - 1], type, jt,
                                err, errlen) < 0 ||
                score_load_profile(src, &s->types[s->n_types - 1], jt, err, errlen) < 0) {
                rc = -1;
                break;
            }
        }
        if (rc == 0)
            rc = score_sla_load(s, json_object_get(root, "queues"), &s->slas, &s->n_slas,
                                src->policy_name, err, errlen);
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
    for (size_t i = 0; s->types != NULL && i < s->n_types; i++)
        score_type_free(&s->types[i]);
    free(s->types);
    free(s->slas);
    free(s);
}

const struct score_sla *scoring_sla(const struct scoring *s, const char *queue)
{
    for (size_t i = 0; s != NULL && i < s->n_slas; i++)
        if (strcmp(s->slas[i].queue, queue) == 0)
            return &s->slas[i];
    return NULL;
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

bool scoring_has_trees(const struct scoring *s)
{
    for (size_t i = 0; i < s->n_models; i++)
        if (model_is_tree(s->models[i].model))
            return true;
    return false;
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
    return p->model->ops->score(p->model, p, fields, p->explain_auto, out);
}

int score_item_method(const struct type_policy *p, const msgpack_object *fields,
                      int method, struct score_result *out)
{
    return p->model->ops->score(p->model, p, fields, method, out);
}

bool score_auto_resolves(const struct type_policy *p, const struct score_result *r)
{
    return r->complete && r->score >= p->auto_threshold;
}

bool score_outcome_declared(const struct type_policy *p, const char *outcome)
{
    if (strcmp(outcome, p->auto_action) == 0 ||
        (p->has_reject && strcmp(outcome, p->reject_action) == 0))
        return true;
    for (size_t i = 0; i < p->n_actions; i++)
        if (strcmp(outcome, p->actions[i]) == 0)
            return true;
    return false;
}

void model_free(struct model *m)
{
    if (!m)
        return;
    if (m->ops && m->ops->free)
        m->ops->free(m);
    free(m);
}
