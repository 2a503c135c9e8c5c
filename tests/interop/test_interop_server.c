/*
 * test_interop_server.c - Go's golang.org/x/mod/sumdb/note and sumdb/tlog
 * (tests/interop/verify.go, tests/lib/interop_go.h) accept the audit-log
 * artifacts of a running hitlqd: a SUBMIT with receipt "checkpoint",
 * AUDIT_CHECKPOINT, AUDIT_ENTRIES, AUDIT_PROVE and AUDIT_CONSISTENCY,
 * checked with the server's own keys.  It skips while the server answers
 * unknown_op to the audit opcodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include <errno.h>

#include "harness.h"
#include "hitlq_proto.h"
#include "interop_go.h"
#include "note.h"
#include "proof.h"
#include "record.h"

/* ---- a real hitlqd --------------------------------------------------------- */

static int
call(struct hconn *c, uint8_t op, msgpack_sbuffer *sb, struct hframe *f)
{
    static uint32_t rid = 1;
    int rc = hconn_call(c, op, rid++, sb->data, sb->size, f, 30000);
    msgpack_sbuffer_clear(sb);
    return rc;
}

/* A str or bin object copied to a file. */
static const char *
put_obj(const char *name, const msgpack_object *o)
{
    assert_non_null(o);
    if (o->type == MSGPACK_OBJECT_STR)
        return interop_put(name, o->via.str.ptr, o->via.str.size);
    assert_int_equal(o->type, MSGPACK_OBJECT_BIN);
    return interop_put(name, o->via.bin.ptr, o->via.bin.size);
}

/* The server's vkeys from <data>/audit.key (Go-format private keys, one a
 * line: AUDIT-FORMAT.md §6.4), as an @file argument for the Go verifier. */
static void
server_vkeys(const struct hserver *s, char *arg, size_t cap)
{
    char path[300], line[NOTE_SKEY_MAX + 8], keys[4096] = "";
    size_t klen = 0;
    FILE *f;

    snprintf(path, sizeof path, "%s/audit.key", s->data);
    f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot read the server's key file %s: %s", path, strerror(errno));
    while (fgets(line, sizeof line, f) != NULL) {
        struct note_signer k;
        size_t l = strcspn(line, "\r\n"), vl;
        if (l == 0)
            continue;
        assert_int_equal(note_skey_parse(line, l, &k), NOTE_OK);
        assert_true(sizeof keys - klen > NOTE_VKEY_MAX + 2);
        assert_int_equal(note_vkey_format(&k.pub, keys + klen, sizeof keys - klen, &vl), NOTE_OK);
        note_signer_clear(&k);
        klen += vl;
        keys[klen++] = '\n';
    }
    sodium_memzero(line, sizeof line);
    fclose(f);
    assert_true(klen > 0);
    snprintf(arg, cap, "@%s", interop_put("server.vkeys", keys, klen));
}

/* SUBMIT {key, type, fields: {amount}, receipt: "checkpoint"}. */
static void
submit_receipt(struct hconn *c, const char *key, struct hframe *f)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    hpk_kv_str(&pk, "key", key);
    hpk_kv_str(&pk, "type", "credit_application");
    hpk_str(&pk, "fields");
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "amount", 1000);
    hpk_kv_str(&pk, "receipt", "checkpoint");
    assert_int_equal(call(c, HITLQ_OP_SUBMIT, &sb, f), 1);
    msgpack_sbuffer_destroy(&sb);
    if (f->status != HITLQ_ST_OK)
        fail_msg("SUBMIT with receipt: status %u", f->status);
}

/* The checkpoint size inside a tlog-proof text. */
static uint64_t
proof_size(const msgpack_object *tp)
{
    struct tlog_proof p;
    const char *sep;
    struct note_checkpoint cp;

    assert_non_null(tp);
    assert_int_equal(tp->type, MSGPACK_OBJECT_STR);
    assert_int_equal(tlog_proof_parse(tp->via.str.ptr, tp->via.str.size, &p), PROOF_OK);
    sep = memmem(p.note, p.note_len, "\n\n", 2);
    assert_non_null(sep);
    assert_int_equal(note_checkpoint_parse(p.note, (size_t)(sep - p.note) + 1, &cp), NOTE_OK);
    return cp.size;
}

/* Leaf bytes of entry `index` via AUDIT_ENTRIES, checked against hash. */
static const char *
server_leaf(struct hconn *c, uint64_t index, const msgpack_object *hash, const char *name)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    struct hframe f;
    const msgpack_object *e, *h;
    uint8_t lh[32];
    const char *path;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    hpk_kv_u64(&pk, "start", index);
    hpk_kv_u64(&pk, "count", 1);
    assert_int_equal(call(c, HITLQ_OP_AUDIT_ENTRIES, &sb, &f), 1);
    msgpack_sbuffer_destroy(&sb);
    assert_int_equal(f.status, HITLQ_ST_OK);
    e = hframe_get(&f, "entries");
    h = hframe_get(&f, "hashes");
    assert_true(e != NULL && e->type == MSGPACK_OBJECT_ARRAY && e->via.array.size >= 1);
    assert_true(h != NULL && h->type == MSGPACK_OBJECT_ARRAY && h->via.array.size >= 1);
    const msgpack_object *leaf = &e->via.array.ptr[0];
    assert_int_equal(leaf->type, MSGPACK_OBJECT_BIN);
    assert_int_equal(record_leaf_hash((const uint8_t *)leaf->via.bin.ptr, leaf->via.bin.size, lh),
                     RECORD_OK);
    assert_int_equal(h->via.array.ptr[0].type, MSGPACK_OBJECT_BIN);
    assert_int_equal(h->via.array.ptr[0].via.bin.size, 32);
    assert_memory_equal(h->via.array.ptr[0].via.bin.ptr, lh, 32);
    if (hash != NULL) {
        assert_int_equal(hash->type, MSGPACK_OBJECT_BIN);
        assert_int_equal(hash->via.bin.size, 32);
        assert_memory_equal(hash->via.bin.ptr, lh, 32);
    }
    path = put_obj(name, leaf);
    hframe_free(&f);
    return path;
}

static void
test_real_server(void **state)
{
    struct hserver s;
    struct hconn c;
    struct hframe f, f2;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    char vkeys[600];
    const char *leaf;

    (void)state;
    memset(&s, 0, sizeof s);
    assert_true(harness_server_start(&s, NULL) > 0);
    assert_int_equal(hconn_open(&c, s.port), 0);
    assert_int_equal(hconn_hello(&c, "interop"), 0);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 0);
    assert_int_equal(call(&c, HITLQ_OP_AUDIT_CHECKPOINT, &sb, &f), 1);
    if (f.status == HITLQ_ST_UNKNOWN_OP) {
        hframe_free(&f);
        hconn_close(&c);
        msgpack_sbuffer_destroy(&sb);
        assert_int_equal(harness_server_stop(&s), 0);
        harness_server_cleanup(&s);
        print_message("hitlqd has no audit log yet (AUDIT_CHECKPOINT: unknown_op)\n");
        skip();
    }
    assert_int_equal(f.status, HITLQ_ST_OK);
    hframe_free(&f);
    server_vkeys(&s, vkeys, sizeof vkeys);

    /* receipt of a first submission: strong receipt, leaf from AUDIT_ENTRIES */
    submit_receipt(&c, "interop-1", &f);
    const msgpack_object *au = hframe_get(&f, "audit");
    assert_true(au != NULL && au->type == MSGPACK_OBJECT_MAP);
    uint64_t idx1 = 0;
    const msgpack_object *lh1 = NULL;
    for (uint32_t k = 0; k < au->via.map.size; k++) {
        if (hobj_str_eq(&au->via.map.ptr[k].key, "index"))
            idx1 = hobj_u64(&au->via.map.ptr[k].val);
        else if (hobj_str_eq(&au->via.map.ptr[k].key, "leaf_hash"))
            lh1 = &au->via.map.ptr[k].val;
    }
    assert_non_null(lh1);
    uint64_t size1 = proof_size(hframe_get(&f, "tlog_proof"));
    assert_true(size1 > idx1);
    leaf = server_leaf(&c, idx1, lh1, "srv-leaf1");
    GO_OK("receipt", vkeys, put_obj("srv-r1.tlog-proof", hframe_get(&f, "tlog_proof")), leaf);
    hframe_free(&f);

    /* a second one grows the tree */
    submit_receipt(&c, "interop-2", &f2);
    uint64_t size2 = proof_size(hframe_get(&f2, "tlog_proof"));
    assert_true(size2 > size1);
    hframe_free(&f2);

    /* the latest checkpoint */
    msgpack_pack_map(&pk, 0);
    assert_int_equal(call(&c, HITLQ_OP_AUDIT_CHECKPOINT, &sb, &f), 1);
    assert_int_equal(f.status, HITLQ_ST_OK);
    const char *cpn = put_obj("srv-latest.note", hframe_get(&f, "checkpoint"));
    uint64_t latest = hobj_u64(hframe_get(&f, "size"));
    assert_true(latest >= size2);
    GO_OK("checkpoint", vkeys, cpn);
    hframe_free(&f);

    /* AUDIT_PROVE of the GENESIS entry (index 0) at size1 */
    msgpack_pack_map(&pk, 2);
    hpk_kv_u64(&pk, "index", 0);
    hpk_kv_u64(&pk, "size", size1);
    assert_int_equal(call(&c, HITLQ_OP_AUDIT_PROVE, &sb, &f), 1);
    assert_int_equal(f.status, HITLQ_ST_OK);
    const char *cp1 = put_obj("srv-cp1.note", hframe_get(&f, "checkpoint"));
    const msgpack_object *ps = hframe_get(&f, "proofs");
    assert_true(ps != NULL && ps->type == MSGPACK_OBJECT_ARRAY && ps->via.array.size == 1);
    const msgpack_object *tp = NULL;
    for (uint32_t k = 0; k < ps->via.array.ptr[0].via.map.size; k++)
        if (hobj_str_eq(&ps->via.array.ptr[0].via.map.ptr[k].key, "tlog_proof"))
            tp = &ps->via.array.ptr[0].via.map.ptr[k].val;
    leaf = server_leaf(&c, 0, NULL, "srv-leaf0");
    GO_OK("receipt", vkeys, put_obj("srv-r0.tlog-proof", tp), leaf);
    GO_OK("checkpoint", vkeys, cp1);
    hframe_free(&f);

    /* consistency size1 -> latest */
    msgpack_pack_map(&pk, 2);
    hpk_kv_u64(&pk, "size1", size1);
    hpk_kv_u64(&pk, "size2", latest);
    assert_int_equal(call(&c, HITLQ_OP_AUDIT_CONSISTENCY, &sb, &f), 1);
    assert_int_equal(f.status, HITLQ_ST_OK);
    const msgpack_object *pr = hframe_get(&f, "proof");
    assert_true(pr != NULL && pr->type == MSGPACK_OBJECT_ARRAY);
    char lines[64 * 46];
    size_t ll = 0;
    for (uint32_t k = 0; k < pr->via.array.size && k < 64; k++) {
        assert_int_equal(pr->via.array.ptr[k].via.bin.size, 32);
        sodium_bin2base64(lines + ll, sizeof lines - ll,
                          (const uint8_t *)pr->via.array.ptr[k].via.bin.ptr, 32, INTEROP_B64);
        ll += 44;
        lines[ll++] = '\n';
    }
    GO_OK("consistency", vkeys, cp1, cpn, interop_put("srv-cproof", lines, ll));
    hframe_free(&f);

    msgpack_sbuffer_destroy(&sb);
    hconn_close(&c);
    assert_int_equal(harness_server_stop(&s), 0);
    harness_server_cleanup(&s);
}

int
main(int argc, char **argv)
{
    interop_set_bdir(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_server),
    };
    return cmocka_run_group_tests(tests, interop_go_setup, interop_go_teardown);
}
