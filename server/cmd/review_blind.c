/*
 * review_blind.c - re-packs an item reply without what a blind reviewer
 * must not see (review_blind.h).  Keys keep their place, so a client that
 * expects them finds them (with nil or empty values).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "review_blind.h"

static bool
rb_key_is(const msgpack_object *k, const char *s)
{
    size_t n = strlen(s);

    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
           memcmp(k->via.str.ptr, s, n) == 0;
}

/* True when the history event map e is a four-eyes verdict. */
static bool
rb_is_verdict(const msgpack_object *e)
{
    if (e->type != MSGPACK_OBJECT_MAP)
        return false;
    for (uint32_t i = 0; i < e->via.map.size; i++) {
        const msgpack_object_kv *kv = &e->via.map.ptr[i];
        if (rb_key_is(&kv->key, "event"))
            return rb_key_is(&kv->val, "verdict");
    }
    return false;
}

/* True when the history event map e is a "scored" event (score, model). */
static bool
rb_is_scored(const msgpack_object *e)
{
    if (e->type != MSGPACK_OBJECT_MAP)
        return false;
    for (uint32_t i = 0; i < e->via.map.size; i++)
        if (rb_key_is(&e->via.map.ptr[i].key, "event"))
            return rb_key_is(&e->via.map.ptr[i].val, "scored");
    return false;
}

/* Packs history event e; with REVIEW_BLIND_MODEL a "scored" event's score
 * and model become nil and "". */
static void
rb_pack_event(msgpack_packer *pk, const msgpack_object *e, unsigned what)
{
    if (!(what & REVIEW_BLIND_MODEL) || !rb_is_scored(e)) {
        msgpack_pack_object(pk, *e);
        return;
    }
    msgpack_pack_map(pk, e->via.map.size);
    for (uint32_t i = 0; i < e->via.map.size; i++) {
        const msgpack_object_kv *kv = &e->via.map.ptr[i];
        msgpack_pack_object(pk, kv->key);
        if (rb_key_is(&kv->key, "score"))
            msgpack_pack_nil(pk);
        else if (rb_key_is(&kv->key, "model"))
            msgpack_pack_str(pk, 0);
        else
            msgpack_pack_object(pk, kv->val);
    }
}

static void
rb_pack_history(msgpack_packer *pk, const msgpack_object *h, unsigned what)
{
    bool drop = (what & REVIEW_BLIND_VERDICTS) != 0;
    uint32_t n = 0;

    for (uint32_t i = 0; i < h->via.array.size; i++)
        n += !(drop && rb_is_verdict(&h->via.array.ptr[i]));
    msgpack_pack_array(pk, n);
    for (uint32_t i = 0; i < h->via.array.size; i++)
        if (!(drop && rb_is_verdict(&h->via.array.ptr[i])))
            rb_pack_event(pk, &h->via.array.ptr[i], what);
}

/* Packs the value of key k, redacted as `what` says. */
static void
rb_pack_value(msgpack_packer *pk, const msgpack_object *k, const msgpack_object *v,
              unsigned what)
{
    static const char *const model_nil[] = { "score", "recommendation", "route", "explain",
                                             "explanation", "band", NULL };

    if (what & REVIEW_BLIND_MODEL) {
        for (size_t i = 0; model_nil[i] != NULL; i++)
            if (rb_key_is(k, model_nil[i])) {
                msgpack_pack_nil(pk);
                return;
            }
        if (rb_key_is(k, "reasons")) {
            msgpack_pack_array(pk, 0);
            return;
        }
        if (rb_key_is(k, "model")) {
            msgpack_pack_str(pk, 0);
            return;
        }
    }
    if ((what & REVIEW_BLIND_AUDIT) && (rb_key_is(k, "audit") || rb_key_is(k, "qa_of"))) {
        msgpack_pack_nil(pk);
        return;
    }
    if ((what & (REVIEW_BLIND_VERDICTS | REVIEW_BLIND_MODEL)) &&
        (rb_key_is(k, "history") || rb_key_is(k, "notes")) &&
        v->type == MSGPACK_OBJECT_ARRAY) {
        rb_pack_history(pk, v, what);
        return;
    }
    msgpack_pack_object(pk, *v);
}

int
review_blind_redact(const uint8_t *in, size_t len, unsigned what, uint8_t **out,
                    size_t *out_len)
{
    msgpack_unpacked u;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    size_t off = 0;
    int rc = -1;

    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, (const char *)in, len, &off) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP) {
        const msgpack_object_map *m = &u.data.via.map;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, m->size);
        for (uint32_t i = 0; i < m->size; i++) {
            msgpack_pack_object(&pk, m->ptr[i].key);
            rb_pack_value(&pk, &m->ptr[i].key, &m->ptr[i].val, what);
        }
        if (sb.data != NULL) {
            *out_len = sb.size;
            *out = (uint8_t *)msgpack_sbuffer_release(&sb);
            rc = 0;
        }
        msgpack_sbuffer_destroy(&sb);
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

void
review_blind_body(msgpack_sbuffer *out, size_t body, unsigned what)
{
    size_t nl = 0;
    uint8_t *b = NULL;

    if (what == 0 || review_blind_redact((const uint8_t *)out->data + body, out->size - body,
                                         what, &b, &nl) != 0)
        return;
    out->size = body;
    msgpack_sbuffer_write(out, (const char *)b, nl);
    free(b);
}
