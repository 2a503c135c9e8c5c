/*
 * audit_policy.c - the audit log's own copy of the policy values it
 * records (struct audit_policy, audit.h): one allocation per copy, the
 * lookup by item type, and the snapshot an aborted batch restores.
 * Commit thread only (and audit_open / audit_close around it).
 */
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"

static const char *
audit_policy_cstr(const char *s)
{
    return s != NULL ? s : "";
}

/* Bytes of a copy of in: header, types, then strings and digests. */
static size_t
audit_policy_size(const struct audit_policy *in)
{
    size_t n = sizeof(*in) + in->n_types * sizeof(struct audit_type) + AUDIT_HASH_LEN +
               strlen(audit_policy_cstr(in->id)) + 1;

    for (size_t i = 0; i < in->n_types; i++) {
        const struct audit_type *t = &in->types[i];

        n += AUDIT_HASH_LEN + strlen(audit_policy_cstr(t->type)) + 1 +
             strlen(audit_policy_cstr(t->auto_action)) + 1 +
             strlen(audit_policy_cstr(t->reject_action)) + 1 +
             strlen(audit_policy_cstr(t->model_id)) + 1 +
             strlen(audit_policy_cstr(t->model_kind)) + 1;
    }
    return n;
}

/* Copies string s to *p (advanced past it); returns the copy. */
static const char *
audit_policy_str(uint8_t **p, const char *s)
{
    char *out = (char *)*p;
    size_t n = strlen(audit_policy_cstr(s)) + 1;

    memcpy(out, audit_policy_cstr(s), n);
    *p += n;
    return out;
}

/* Copies a 32-byte digest (zeros for NULL) to *p (advanced past it). */
static const uint8_t *
audit_policy_digest(uint8_t **p, const uint8_t *d)
{
    uint8_t *out = *p;

    if (d != NULL)
        memcpy(out, d, AUDIT_HASH_LEN);
    else
        memset(out, 0, AUDIT_HASH_LEN);
    *p += AUDIT_HASH_LEN;
    return out;
}

/* A deep copy of in in one malloc'd block (free() releases it), or NULL. */
static struct audit_policy *
audit_policy_dup(const struct audit_policy *in)
{
    struct audit_policy *c = malloc(audit_policy_size(in));
    struct audit_type *types;
    uint8_t *p;

    if (c == NULL)
        return NULL;
    types = (struct audit_type *)(c + 1);
    p = (uint8_t *)(types + in->n_types);
    c->id = audit_policy_str(&p, in->id);
    c->digest = audit_policy_digest(&p, in->digest);
    c->n_types = in->n_types;
    c->types = types;
    for (size_t i = 0; i < in->n_types; i++) {
        const struct audit_type *t = &in->types[i];

        types[i].type = audit_policy_str(&p, t->type);
        types[i].auto_action = audit_policy_str(&p, t->auto_action);
        types[i].reject_action = audit_policy_str(&p, t->reject_action);
        types[i].auto_threshold = t->auto_threshold;
        types[i].model_id = audit_policy_str(&p, t->model_id);
        types[i].model_digest = audit_policy_digest(&p, t->model_digest);
        types[i].model_kind = audit_policy_str(&p, t->model_kind);
    }
    return c;
}

int
audit_policy_set(struct audit *a, const struct audit_policy *in)
{
    struct audit_policy *c = audit_policy_dup(in);

    if (c == NULL)
        return HITLQ_ST_INTERNAL;
    if (a->pol != a->snap_pol)
        free(a->pol);                  /* an earlier reload in this batch */
    a->pol = c;
    return HITLQ_ST_OK;
}

void
audit_policy_begin(struct audit *a)
{
    if (a->snap_pol != a->pol)
        free(a->snap_pol);             /* the reload of the last batch committed */
    a->snap_pol = a->pol;
}

void
audit_policy_abort(struct audit *a)
{
    if (a->pol != a->snap_pol)
        free(a->pol);
    a->pol = a->snap_pol;
}

void
audit_policy_release(struct audit *a)
{
    if (a->snap_pol != a->pol)
        free(a->snap_pol);
    free(a->pol);
    a->pol = a->snap_pol = NULL;
}

const struct audit_type *
audit_policy_type(const struct audit *a, const char *type)
{
    for (size_t i = 0; a->pol != NULL && i < a->pol->n_types; i++)
        if (strcmp(a->pol->types[i].type, type) == 0)
            return &a->pol->types[i];
    return NULL;
}
