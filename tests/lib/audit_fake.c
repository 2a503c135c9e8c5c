/*
 * audit_fake.c - the fake audit server of audit_fake.h: reads request
 * frames, answers HELLO, AUDIT_CHECKPOINT, AUDIT_ENTRIES, AUDIT_PROVE (by
 * index or item) and AUDIT_CONSISTENCY from a generated log, packing
 * replies with the codec's own wire helpers.  Proofs come from audit_gen.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "audit_fake.h"
#include "frame.h"
#include "proof.h"
#include "record.h"
#include "wire.h"

struct fake_req {
    struct frame_hdr h;
    msgpack_zone     zone;
    msgpack_object   body;
    uint8_t         *raw;
};

static bool
fake_read_n(int fd, void *buf, size_t n)
{
    uint8_t *p = buf;

    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

static void
fake_write(int fd, const void *p, size_t n)
{
    const uint8_t *q = p;

    while (n > 0) {
        ssize_t w = write(fd, q, n);
        if (w <= 0)
            return;                  /* the client went away */
        q += w;
        n -= (size_t)w;
    }
}

static bool
fake_read_req(int fd, struct fake_req *q)
{
    uint8_t hdr[HITLQ_FRAME_HDR_LEN];

    if (!fake_read_n(fd, hdr, sizeof(hdr)) ||
        frame_hdr_decode(hdr, HITLQ_MAX_FRAME, &q->h) != HITLQ_ST_OK)
        return false;
    q->raw = malloc(q->h.body_len + 1);
    if (q->raw == NULL || !fake_read_n(fd, q->raw, q->h.body_len)) {
        free(q->raw);
        return false;
    }
    msgpack_zone_init(&q->zone, 1024);
    if (wire_unpack(q->raw, q->h.body_len, &q->zone, &q->body) != HITLQ_ST_OK) {
        msgpack_zone_destroy(&q->zone);
        free(q->raw);
        return false;
    }
    return true;
}

static void
fake_req_free(struct fake_req *q)
{
    msgpack_zone_destroy(&q->zone);
    free(q->raw);
}

static uint64_t
fake_u64(const struct fake_req *q, const char *k, uint64_t dflt)
{
    const msgpack_object *o = wire_map_get(&q->body, k);

    return o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? o->via.u64 : dflt;
}

static void
fake_pack_bin(msgpack_packer *pk, const void *p, size_t n)
{
    msgpack_pack_bin(pk, n);
    msgpack_pack_bin_body(pk, p, n);
}

static void
fake_pack_str(msgpack_packer *pk, const char *k, const char *v, size_t n)
{
    wire_pack_kv_strn(pk, k, v, n);
}

static void
fake_entries(struct fake_srv *f, msgpack_packer *pk, const struct fake_req *q)
{
    uint64_t start = fake_u64(q, "start", 0), count = fake_u64(q, "count", 256);
    uint64_t n = start < f->log->n ? f->log->n - start : 0;
    uint8_t tmp[RECORD_LEAF_MAX];

    if (n > count)
        n = count;
    if (n > f->max_batch)
        n = f->max_batch;
    msgpack_pack_map(pk, 3);
    wire_pack_kv_u64(pk, "start", start);
    wire_pack_cstr(pk, "entries");
    msgpack_pack_array(pk, (size_t)n);
    for (uint64_t i = start; i < start + n; i++) {
        memcpy(tmp, f->log->buf + f->log->off[i], f->log->len[i]);
        if (i == f->flip_at)
            tmp[22] ^= 0x01;         /* a byte of item_id: still decodes */
        fake_pack_bin(pk, tmp, f->log->len[i]);
    }
    wire_pack_cstr(pk, "hashes");
    msgpack_pack_array(pk, (size_t)n);
    for (uint64_t i = start; i < start + n; i++)
        fake_pack_bin(pk, f->log->leaf[i], f->short_hash ? 31 : 32);
}

/* The tlog-proof text of entry idx at the signed size, as a str value. */
static void
fake_pack_str_value(struct fake_srv *f, msgpack_packer *pk, uint64_t idx)
{
    uint8_t hs[MERKLE_MAX_PROOF][32];
    size_t n = gen_inclusion(f->log, f->size, idx, hs), tlen;
    char *text = malloc(PROOF_FIXED_MAX + f->note_len + 1);

    assert_non_null(text);
    assert_int_equal(tlog_proof_format(idx, (const uint8_t (*)[32])hs, n, f->note,
                                       f->note_len, text,
                                       PROOF_FIXED_MAX + f->note_len + 1, &tlen),
                     PROOF_OK);
    msgpack_pack_str(pk, tlen);
    msgpack_pack_str_body(pk, text, tlen);
    free(text);
}

/* One {index, leaf_hash, proof, tlog_proof} at the signed size. */
static void
fake_one_proof(struct fake_srv *f, msgpack_packer *pk, uint64_t idx)
{
    uint8_t hs[MERKLE_MAX_PROOF][32];
    size_t n = gen_inclusion(f->log, f->size, idx, hs);

    msgpack_pack_map(pk, 4);
    wire_pack_kv_u64(pk, "index", idx);
    wire_pack_cstr(pk, "leaf_hash");
    fake_pack_bin(pk, f->log->leaf[idx], 32);
    wire_pack_cstr(pk, "proof");
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        fake_pack_bin(pk, hs[i], 32);
    wire_pack_cstr(pk, "tlog_proof");
    fake_pack_str_value(f, pk, idx);
}

/* By index; or by item: the generator's item X (X % 3 == 1) has entries
 * X and X + 1, other items one entry. */
static void
fake_prove(struct fake_srv *f, msgpack_packer *pk, const struct fake_req *q)
{
    uint64_t idx = fake_u64(q, "index", GEN_NONE), id = fake_u64(q, "id", GEN_NONE);
    uint64_t first = idx != GEN_NONE ? idx : id;
    size_t n = idx == GEN_NONE && id % 3 == 1 && id + 1 < f->size ? 2 : 1;

    msgpack_pack_map(pk, 3);
    wire_pack_kv_u64(pk, "size", f->size);
    fake_pack_str(pk, "checkpoint", f->note, f->note_len);
    wire_pack_cstr(pk, "proofs");
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        fake_one_proof(f, pk, first + i);
}

static void
fake_consistency(struct fake_srv *f, msgpack_packer *pk, const struct fake_req *q)
{
    uint8_t hs[MERKLE_MAX_PROOF][32];
    uint64_t s1 = fake_u64(q, "size1", 1), s2 = fake_u64(q, "size2", f->size);
    size_t n = gen_consistency(f->log, s1, s2, hs);

    msgpack_pack_map(pk, 3);
    wire_pack_kv_u64(pk, "size1", s1);
    wire_pack_kv_u64(pk, "size2", s2);
    wire_pack_cstr(pk, "proof");
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        fake_pack_bin(pk, hs[i], 32);
}

/* SUBMIT with a receipt: a queued decision recorded as entry 43 (item
 * 43 is an AUTO_DECISION in the generator; any index will do here).
 * Without the `receipt` key, no audit map (the client must object). */
static void
fake_submit(struct fake_srv *f, msgpack_packer *pk, const struct fake_req *q)
{
    const msgpack_object *rc = wire_map_get(&q->body, "receipt");
    bool proof = rc != NULL && rc->type == MSGPACK_OBJECT_STR &&
                 rc->via.str.size == 10 && memcmp(rc->via.str.ptr, "checkpoint", 10) == 0;

    msgpack_pack_map(pk, 3 + (rc != NULL) + proof);
    wire_pack_kv_u64(pk, "id", 43);
    wire_pack_kv_str(pk, "outcome", "queued");
    wire_pack_kv_str(pk, "queue", "credit_review");
    if (rc != NULL) {
        wire_pack_cstr(pk, "audit");
        msgpack_pack_map(pk, 2);
        wire_pack_kv_u64(pk, "index", 43);
        wire_pack_cstr(pk, "leaf_hash");
        fake_pack_bin(pk, f->log->leaf[43], f->short_hash ? 31 : 32);
    }
    if (proof) {
        wire_pack_cstr(pk, "tlog_proof");
        fake_pack_str_value(f, pk, 43);
    }
}

/* Answers one request; false to close the connection. */
static bool
fake_answer(struct fake_srv *f, int fd, const struct fake_req *q)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    size_t off;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    off = wire_frame_begin(&sb);
    switch (q->h.opcode) {
    case HITLQ_OP_HELLO:
        msgpack_pack_map(&pk, 1);
        wire_pack_kv_u64(&pk, "version", HITLQ_PROTO_VERSION);
        break;
    case HITLQ_OP_AUDIT_CHECKPOINT:
        msgpack_pack_map(&pk, 2);
        wire_pack_kv_u64(&pk, "size", f->size);
        fake_pack_str(&pk, "checkpoint", f->note, f->note_len);
        break;
    case HITLQ_OP_AUDIT_ENTRIES:     fake_entries(f, &pk, q); break;
    case HITLQ_OP_AUDIT_PROVE:       fake_prove(f, &pk, q); break;
    case HITLQ_OP_AUDIT_CONSISTENCY: fake_consistency(f, &pk, q); break;
    case HITLQ_OP_SUBMIT:            fake_submit(f, &pk, q); break;
    default:
        msgpack_sbuffer_destroy(&sb);
        return false;
    }
    wire_frame_end(&sb, off, q->h.opcode, HITLQ_ST_OK, q->h.request_id);
    fake_write(fd, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return true;
}

static void *
fake_main(void *arg)
{
    struct fake_srv *f = arg;
    int fd;

    while ((fd = accept(f->lfd, NULL, NULL)) >= 0) {
        struct fake_req q;
        bool more = true;
        while (more && fake_read_req(fd, &q)) {
            more = fake_answer(f, fd, &q);
            fake_req_free(&q);
        }
        close(fd);
    }
    return NULL;
}

void
fake_srv_start(struct fake_srv *f)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t sl = sizeof(sa);

    if (f->max_batch == 0)
        f->max_batch = 1024;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(f->lfd, 4), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
    f->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

void
fake_srv_stop(struct fake_srv *f)
{
    shutdown(f->lfd, SHUT_RDWR);     /* wakes accept() */
    pthread_join(f->th, NULL);
    close(f->lfd);
}
