/*
 * explain.c - rewrites an item summary with exact (TreeSHAP)
 * contributions, for CLAIM replies and GET on request (explain.h).  The
 * summary is re-packed key by key: every value but "reasons" and
 * "explain" is copied as the exact bytes it had (the fields map stays
 * byte-identical); "reasons" keeps its rule maps and gets the exact
 * feature reasons after them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "explain.h"
#include "reasons.h"
#include "score.h"
#include "wire.h"

#define EXPLAIN_MAX_KEYS 64u

static bool
explain_str_is(const msgpack_object *o, const char *s)
{
    return o != NULL && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* The type's policy if this summary should be made exact, else NULL. */
static const struct type_policy *
explain_policy(const struct scoring *sc, const msgpack_object *m, int force)
{
    const msgpack_object *type = wire_map_get(m, "type"), *model = wire_map_get(m, "model");
    const msgpack_object *ex = wire_map_get(m, "explain");
    char tname[HITLQ_MAX_NAME + 1];
    const struct type_policy *p;

    if (type == NULL || type->type != MSGPACK_OBJECT_STR ||
        type->via.str.size > HITLQ_MAX_NAME || !explain_str_is(ex, "approx"))
        return NULL;
    memcpy(tname, type->via.str.ptr, type->via.str.size);
    tname[type->via.str.size] = '\0';
    p = scoring_policy(sc, tname);
    if (p == NULL || !model_is_tree(p->model) || !explain_str_is(model, p->model->id) ||
        (!force && p->explain_review != SCORE_METHOD_EXACT))
        return NULL;
    return p;
}

/* Packs the new reasons array: the old rule maps, then the exact ones. */
static void
explain_pack_reasons(msgpack_packer *pk, const msgpack_object *old, const uint8_t *fr,
                     size_t fr_len)
{
    uint32_t n_rules = 0, n_feat;
    size_t hdr = (fr[0] & 0xf0) == 0x90 ? 1 : 3;

    n_feat = hdr == 1 ? (uint32_t)(fr[0] & 0x0f) : (uint32_t)(fr[1] << 8 | fr[2]);
    for (uint32_t i = 0; old != NULL && old->type == MSGPACK_OBJECT_ARRAY &&
                         i < old->via.array.size; i++) {
        const msgpack_object *r = &old->via.array.ptr[i];
        n_rules += wire_map_get(r, "rule") != NULL || wire_map_get(r, "hard_rule") != NULL;
    }
    msgpack_pack_array(pk, n_rules + n_feat);
    for (uint32_t i = 0; n_rules > 0 && i < old->via.array.size; i++) {
        const msgpack_object *r = &old->via.array.ptr[i];
        if (wire_map_get(r, "rule") != NULL || wire_map_get(r, "hard_rule") != NULL)
            msgpack_pack_object(pk, *r);
    }
    pk->callback(pk->data, (const char *)fr + hdr, fr_len - hdr);
}

/* Re-packs the summary map with the new reasons and explain "exact". */
static int
explain_repack(const uint8_t *mp, size_t len, const msgpack_object *m, const uint8_t *fr,
               size_t fr_len, uint8_t **out, size_t *out_len)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, m->via.map.size);
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object_kv *kv = &m->via.map.ptr[i];
        char key[64];
        const uint8_t *raw;
        size_t rl;

        if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size >= sizeof(key))
            goto fail;
        memcpy(key, kv->key.via.str.ptr, kv->key.via.str.size);
        key[kv->key.via.str.size] = '\0';
        msgpack_pack_object(&pk, kv->key);
        if (strcmp(key, "reasons") == 0)
            explain_pack_reasons(&pk, &kv->val, fr, fr_len);
        else if (strcmp(key, "explain") == 0)
            msgpack_pack_str_with_body(&pk, "exact", 5);
        else if (wire_body_raw(mp, len, key, &raw, &rl))
            pk.callback(pk.data, (const char *)raw, rl);
        else
            goto fail;
    }
    if (sb.data == NULL)
        goto fail;
    *out_len = sb.size;
    *out = (uint8_t *)msgpack_sbuffer_release(&sb);
    return 1;
fail:
    msgpack_sbuffer_destroy(&sb);
    return -1;
}

int
explain_summary(const struct scoring *sc, const uint8_t *mp, size_t len, int force,
                uint8_t **out, size_t *out_len)
{
    msgpack_unpacked u;
    const msgpack_object *fields;
    const struct type_policy *p;
    const uint8_t *raw;
    uint8_t *fr = NULL;
    size_t rl, fr_len = 0;
    struct triage t;
    int rc = 0;

    if (!scoring_has_trees(sc))
        return 0;               /* scorecards are exact already */
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, (const char *)mp, len, NULL) != MSGPACK_UNPACK_SUCCESS ||
        u.data.type != MSGPACK_OBJECT_MAP) {
        msgpack_unpacked_destroy(&u);
        return -1;
    }
    p = explain_policy(sc, &u.data, force);
    fields = wire_map_get(&u.data, "fields");
    if (p != NULL && fields != NULL && fields->type == MSGPACK_OBJECT_MAP &&
        wire_body_raw(mp, len, "fields", &raw, &rl)) {
        memset(&t, 0, sizeof(t));
        if (score_item_method(p, fields, SCORE_METHOD_EXACT, &t.r) != HITLQ_ST_OK ||
            reasons_pack(&t, fields, raw, rl, &fr, &fr_len) != 0)
            rc = -1;
        else
            rc = explain_repack(mp, len, &u.data, fr, fr_len, out, out_len);
    }
    free(fr);
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* ---- one order for every reasons array (explain_sort_reasons) ---------- */

#define EXPLAIN_SORT_MAX 256u

struct explain_elem {
    size_t      off, len;
    bool        rule;
    double      mag;            /* |contribution| */
    const char *name;           /* feature, borrowed from the unpacked copy */
    uint32_t    name_len, pos;
};

static int
explain_elem_cmp(const void *pa, const void *pb)
{
    const struct explain_elem *a = pa, *b = pb;
    uint32_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c;

    if (a->rule != b->rule)
        return a->rule ? -1 : 1;
    if (!a->rule && a->mag != b->mag)
        return a->mag > b->mag ? -1 : 1;
    if (!a->rule && (c = memcmp(a->name, b->name, n)) != 0)
        return c;
    if (!a->rule && a->name_len != b->name_len)
        return a->name_len < b->name_len ? -1 : 1;
    return a->pos < b->pos ? -1 : (a->pos > b->pos);
}

/* Reads element e (decoded in o) of a reasons array. */
static void
explain_elem_read(struct explain_elem *e, const msgpack_object *o)
{
    const msgpack_object *f = wire_map_get(o, "feature"), *c = wire_map_get(o, "contribution");

    e->rule = wire_map_get(o, "rule") != NULL || wire_map_get(o, "hard_rule") != NULL ||
              f == NULL || f->type != MSGPACK_OBJECT_STR;
    e->mag = c != NULL ? fabs(wire_f64(c)) : 0.0;
    e->name = e->rule ? "" : f->via.str.ptr;
    e->name_len = e->rule ? 0 : f->via.str.size;
}

/* Writes the header and the elements in sorted order; they must cover
 * arr exactly.  0, or -1 (out untouched). */
static int
explain_sort_finish(const uint8_t *arr, size_t len, size_t hdr, struct explain_elem *el,
                    size_t n, size_t end, uint8_t *out)
{
    size_t o = hdr;

    if (end != len)
        return -1;
    qsort(el, n, sizeof(el[0]), explain_elem_cmp);
    memcpy(out, arr, hdr);
    for (size_t i = 0; i < n; i++) {
        memcpy(out + o, arr + el[i].off, el[i].len);
        o += el[i].len;
    }
    return 0;
}

int
explain_sort_reasons(const uint8_t *arr, size_t len, uint8_t *out)
{
    struct explain_elem el[EXPLAIN_SORT_MAX];
    msgpack_unpacked u;
    size_t hdr = (arr[0] & 0xf0) == 0x90 ? 1 : arr[0] == 0xdc ? 3 : 0, off, n;

    if (len == 0 || hdr == 0)
        return -1;
    n = hdr == 1 ? (size_t)(arr[0] & 0x0f) : (size_t)(arr[1] << 8 | arr[2]);
    if (n > EXPLAIN_SORT_MAX)
        return -1;
    msgpack_unpacked_init(&u);
    off = hdr;
    for (size_t i = 0; i < n; i++) {
        size_t start = off;
        struct explain_elem *e = &el[i];

        if (msgpack_unpack_next(&u, (const char *)arr, len, &off) != MSGPACK_UNPACK_SUCCESS) {
            msgpack_unpacked_destroy(&u);
            return -1;
        }
        explain_elem_read(e, &u.data);     /* a str points into arr (msgpack-c) */
        e->off = start;
        e->len = off - start;
        e->pos = (uint32_t)i;
    }
    msgpack_unpacked_destroy(&u);
    return explain_sort_finish(arr, len, hdr, el, n, off, out);
}
