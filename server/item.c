/*
 * item.c - encoding and decoding of the item record (layout in item.h) and
 * the bounded msgpack buffer used for index and journal values.
 */
#include <string.h>

#include "item.h"
#include "store.h"

static void
item_put_name(uint8_t *slot, size_t cap, const char *s, uint8_t *len_out)
{
    size_t n = strnlen(s, cap);

    memset(slot, 0, cap);
    memcpy(slot, s, n);
    *len_out = (uint8_t)n;
}

void
item_hdr_encode(uint8_t *p, const struct item_hdr *h)
{
    memset(p, 0, 72);
    p[0] = ITEM_REC_VERSION;
    p[1] = h->state;
    p[2] = h->decision;
    store_put_be32(p + 4, h->priority);
    store_put_be32(p + 8, h->attempts);
    store_put_be32(p + 12, h->lease_ms);
    store_put_be64(p + 16, h->created_ms);
    store_put_be64(p + 24, h->deadline_ms);
    store_put_be64(p + 32, h->lease);
    store_put_be64(p + 40, h->due_ms);
    store_put_be64(p + 48, h->result_seq);
    store_put_be64(p + 56, h->resolved_ms);
    store_put_be32(p + 64, h->hist_n);
    item_put_name(p + 72, HITLQ_MAX_QUEUE_NAME, h->queue, &p[3]);
    item_put_name(p + 136, HITLQ_MAX_NAME, h->worker, &p[68]);
    item_put_name(p + 264, HITLQ_MAX_NAME, h->outcome, &p[69]);
}

static int
item_get_name(const uint8_t *slot, size_t cap, uint8_t n, char *dst)
{
    if (n > cap)
        return -1;
    memcpy(dst, slot, n);
    dst[n] = '\0';
    return 0;
}

int
item_hdr_decode(const uint8_t *p, size_t len, struct item_hdr *h)
{
    if (len < ITEM_HDR_LEN || p[0] != ITEM_REC_VERSION)
        return -1;
    h->state = p[1];
    h->decision = p[2];
    h->priority = store_get_be32(p + 4);
    h->attempts = store_get_be32(p + 8);
    h->lease_ms = store_get_be32(p + 12);
    h->created_ms = store_get_be64(p + 16);
    h->deadline_ms = store_get_be64(p + 24);
    h->lease = store_get_be64(p + 32);
    h->due_ms = store_get_be64(p + 40);
    h->result_seq = store_get_be64(p + 48);
    h->resolved_ms = store_get_be64(p + 56);
    h->hist_n = store_get_be32(p + 64);
    if (item_get_name(p + 72, HITLQ_MAX_QUEUE_NAME, p[3], h->queue) != 0 ||
        item_get_name(p + 136, HITLQ_MAX_NAME, p[68], h->worker) != 0 ||
        item_get_name(p + 264, HITLQ_MAX_NAME, p[69], h->outcome) != 0)
        return -1;
    return 0;
}

size_t
item_body_size(const struct item_body_in *in)
{
    return 10 + strlen(in->key) + strlen(in->type) + strlen(in->model) +
           strlen(in->action) + strlen(in->queue0) + 8 +
           4 + in->reasons_len + 4 + in->fields_len;
}

static uint8_t *
item_put_short(uint8_t *p, const char *s)
{
    size_t n = strlen(s);

    *p++ = (uint8_t)n;
    memcpy(p, s, n);
    p[n] = '\0';
    return p + n + 1;
}

static uint8_t *
item_put_long(uint8_t *p, const uint8_t *b, size_t n)
{
    store_put_be32(p, (uint32_t)n);
    if (n > 0)
        memcpy(p + 4, b, n);
    return p + 4 + n;
}

void
item_body_encode(uint8_t *p, const struct item_body_in *in)
{
    uint64_t bits;

    p = item_put_short(p, in->key);
    p = item_put_short(p, in->type);
    p = item_put_short(p, in->model);
    p = item_put_short(p, in->action);
    p = item_put_short(p, in->queue0);
    memcpy(&bits, &in->score, 8);
    store_put_be64(p, bits);
    p = item_put_long(p + 8, in->reasons, in->reasons_len);
    item_put_long(p, in->fields, in->fields_len);
}

/* Reads a u8-length string at *pos; returns -1 when it runs past end. */
static int
item_get_short(const uint8_t *rec, size_t len, size_t *pos,
               const char **s, uint8_t *n)
{
    if (*pos >= len || len - *pos < 2 || len - *pos - 2 < rec[*pos])
        return -1;
    *n = rec[*pos];
    if (rec[*pos + 1 + *n] != '\0')
        return -1;
    *s = (const char *)rec + *pos + 1;
    *pos += 2u + *n;
    return 0;
}

static int
item_get_long(const uint8_t *rec, size_t len, size_t *pos,
              const uint8_t **b, size_t *n)
{
    if (len - *pos < 4)
        return -1;
    *n = store_get_be32(rec + *pos);
    if (len - *pos - 4 < *n)
        return -1;
    *b = rec + *pos + 4;
    *pos += 4 + *n;
    return 0;
}

int
item_body_decode(const uint8_t *rec, size_t len, struct item_body *b)
{
    size_t pos = ITEM_HDR_LEN;
    uint64_t bits;

    if (len < ITEM_HDR_LEN ||
        item_get_short(rec, len, &pos, &b->key, &b->key_len) != 0 ||
        item_get_short(rec, len, &pos, &b->type, &b->type_len) != 0 ||
        item_get_short(rec, len, &pos, &b->model, &b->model_len) != 0 ||
        item_get_short(rec, len, &pos, &b->action, &b->action_len) != 0 ||
        item_get_short(rec, len, &pos, &b->queue0, &b->queue0_len) != 0 ||
        len - pos < 8)
        return -1;
    bits = store_get_be64(rec + pos);
    memcpy(&b->score, &bits, 8);
    pos += 8;
    if (item_get_long(rec, len, &pos, &b->reasons, &b->reasons_len) != 0 ||
        item_get_long(rec, len, &pos, &b->fields, &b->fields_len) != 0)
        return -1;
    return 0;
}

static int
mpbuf_write(void *data, const char *buf, size_t len)
{
    struct mpbuf *b = data;

    if (b->overflow || b->cap - b->len < len) {
        b->overflow = true;
        return -1;
    }
    memcpy(b->p + b->len, buf, len);
    b->len += len;
    return 0;
}

void
mpbuf_init(struct mpbuf *b, msgpack_packer *pk, uint8_t *mem, size_t cap)
{
    b->p = mem;
    b->len = 0;
    b->cap = cap;
    b->overflow = false;
    msgpack_packer_init(pk, b, mpbuf_write);
}

void
mp_pack_raw(msgpack_packer *pk, const void *p, size_t n)
{
    if (n > 0)
        pk->callback(pk->data, p, n);
}

void
mp_pack_strn(msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}
