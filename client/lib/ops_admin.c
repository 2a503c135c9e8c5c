/*
 * ops_admin.c - the administration operations of libhitlq: RELOAD (the
 * server loads and validates its policy file again and, if it is good,
 * puts it in force; PROTOCOL.md, RELOAD) and API-key administration
 * (KEY_ADD, KEY_LIST, KEY_REVOKE; PROTOCOL.md §4.14).
 */
#include <stdint.h>
#include <string.h>

#include "client_int.h"
#include "wire.h"

int
hitlq_reload(hitlq *c, char *policy_out, size_t policy_len)
{
    hitlq_reply *r = NULL;
    const msgpack_object *p;
    int rc;

    if (c == NULL)
        return HITLQ_EINVAL;
    if (policy_out != NULL && policy_len > 0)
        policy_out[0] = '\0';
    rc = hitlq__call(c, HITLQ_OP_RELOAD, NULL, 0, c->timeout_ms, &r);
    if (rc == HITLQ_OK) {
        p = hitlq_reply_get(r, "policy");
        if (p == NULL || p->type != MSGPACK_OBJECT_STR)
            rc = hitlq__set_err(c, HITLQ_EPROTO, "RELOAD reply without policy");
        else if (policy_out != NULL && policy_len > 0) {
            size_t n = p->via.str.size < policy_len - 1 ? p->via.str.size : policy_len - 1;

            memcpy(policy_out, p->via.str.ptr, n);
            policy_out[n] = '\0';
        }
    }
    hitlq_reply_free(r);
    return rc;
}

/* ---- API keys ---------------------------------------------------------------- */

/* Copies reply string `key` to out (NUL-terminated); HITLQ_EPROTO when absent
 * or longer than cap - 1. */
static int
admin_copy_str(hitlq *c, const hitlq_reply *r, const char *key, char *out, size_t cap)
{
    const msgpack_object *p = hitlq_reply_get(r, key);

    if (p == NULL || p->type != MSGPACK_OBJECT_STR || p->via.str.size >= cap)
        return hitlq__set_err(c, HITLQ_EPROTO, "KEY_ADD reply: bad or missing %s", key);
    memcpy(out, p->via.str.ptr, p->via.str.size);
    out[p->via.str.size] = '\0';
    return HITLQ_OK;
}

int
hitlq_key_add(hitlq *c, const char *principal, const char *role,
              const char *const *skills, size_t n_skills,
              char *api_key_out, size_t api_key_len, char *key_id_out, size_t key_id_len)
{
    struct hitlq__req q;
    hitlq_reply *r = NULL;
    const msgpack_object *k;
    int rc;

    if (c == NULL || principal == NULL || role == NULL || api_key_out == NULL ||
        api_key_len <= HITLQ_API_KEY_LEN || (skills == NULL && n_skills > 0) ||
        (key_id_out != NULL && key_id_len <= HITLQ_KEY_ID_LEN))
        return c == NULL ? HITLQ_EINVAL
                         : hitlq__set_err(c, HITLQ_EINVAL, "hitlq_key_add: bad argument");
    api_key_out[0] = '\0';
    hitlq__req_init(&q);
    msgpack_pack_map(&q.pk, skills != NULL ? 3 : 2);
    wire_pack_kv_str(&q.pk, "principal", principal);
    wire_pack_kv_str(&q.pk, "role", role);
    if (skills != NULL) {
        wire_pack_cstr(&q.pk, "skills");
        msgpack_pack_array(&q.pk, n_skills);
        for (size_t i = 0; i < n_skills; i++)
            wire_pack_cstr(&q.pk, skills[i]);
    }
    rc = hitlq__req_call(c, &q, HITLQ_OP_KEY_ADD, c->timeout_ms, &r);
    if (rc == HITLQ_OK) {
        rc = admin_copy_str(c, r, "api_key", api_key_out, api_key_len);
        if (rc == HITLQ_OK && key_id_out != NULL)
            rc = admin_copy_str(c, r, "key_id", key_id_out, key_id_len);
    }
    /* the reply held the secret: wipe it before it is freed */
    if (r != NULL && (k = hitlq_reply_get(r, "api_key")) != NULL &&
        k->type == MSGPACK_OBJECT_STR)
        explicit_bzero((void *)(uintptr_t)k->via.str.ptr, k->via.str.size);
    hitlq_reply_free(r);
    return rc;
}

/* KEY_ADD of a credential without a secret: field ("tls_peer" or
 * "public_key") = value. */
static int
admin_key_add_cred(hitlq *c, const char *what, const char *principal, const char *role,
                   const char *field, const char *value, const char *const *skills,
                   size_t n_skills, char *key_id_out, size_t key_id_len)
{
    struct hitlq__req q;
    hitlq_reply *r = NULL;
    int rc;

    if (c == NULL || principal == NULL || role == NULL || value == NULL ||
        (skills == NULL && n_skills > 0) ||
        (key_id_out != NULL && key_id_len <= HITLQ_KEY_ID_LEN))
        return c == NULL ? HITLQ_EINVAL
                         : hitlq__set_err(c, HITLQ_EINVAL, "%s: bad argument", what);
    hitlq__req_init(&q);
    msgpack_pack_map(&q.pk, skills != NULL ? 4 : 3);
    wire_pack_kv_str(&q.pk, "principal", principal);
    wire_pack_kv_str(&q.pk, "role", role);
    wire_pack_kv_str(&q.pk, field, value);
    if (skills != NULL) {
        wire_pack_cstr(&q.pk, "skills");
        msgpack_pack_array(&q.pk, n_skills);
        for (size_t i = 0; i < n_skills; i++)
            wire_pack_cstr(&q.pk, skills[i]);
    }
    rc = hitlq__req_call(c, &q, HITLQ_OP_KEY_ADD, c->timeout_ms, &r);
    if (rc == HITLQ_OK && key_id_out != NULL)
        rc = admin_copy_str(c, r, "key_id", key_id_out, key_id_len);
    hitlq_reply_free(r);
    return rc;
}

int
hitlq_key_add_tls(hitlq *c, const char *principal, const char *role, const char *tls_peer,
                  const char *const *skills, size_t n_skills, char *key_id_out,
                  size_t key_id_len)
{
    return admin_key_add_cred(c, "hitlq_key_add_tls", principal, role, "tls_peer", tls_peer,
                              skills, n_skills, key_id_out, key_id_len);
}

int
hitlq_key_add_ed25519(hitlq *c, const char *principal, const char *role,
                      const char *public_key, const char *const *skills, size_t n_skills,
                      char *key_id_out, size_t key_id_len)
{
    return admin_key_add_cred(c, "hitlq_key_add_ed25519", principal, role, "public_key",
                              public_key, skills, n_skills, key_id_out, key_id_len);
}

int
hitlq_key_list(hitlq *c, const char *principal, hitlq_reply **out)
{
    struct hitlq__req q;

    if (c == NULL || out == NULL)
        return HITLQ_EINVAL;
    hitlq__req_init(&q);
    msgpack_pack_map(&q.pk, principal != NULL ? 1 : 0);
    if (principal != NULL)
        wire_pack_kv_str(&q.pk, "principal", principal);
    return hitlq__req_call(c, &q, HITLQ_OP_KEY_LIST, c->timeout_ms, out);
}

int
hitlq_key_revoke(hitlq *c, const char *key_id)
{
    struct hitlq__req q;
    hitlq_reply *r = NULL;
    int rc;

    if (c == NULL || key_id == NULL)
        return HITLQ_EINVAL;
    hitlq__req_init(&q);
    msgpack_pack_map(&q.pk, 1);
    wire_pack_kv_str(&q.pk, "key_id", key_id);
    rc = hitlq__req_call(c, &q, HITLQ_OP_KEY_REVOKE, c->timeout_ms, &r);
    hitlq_reply_free(r);
    return rc;
}
