/*
 * test_audit_e2e.c - the signed audit log of a real hitlqd, checked with
 * hitlq's own proto/ verifiers (Merkle proofs, signed notes, AXR1 codec):
 * every decision is an entry in the same transaction, entries carry what an
 * auditor needs, checkpoints verify with the key from the key file,
 * receipts and proofs verify, the tree survives restarts and kill -9, and
 * a store that is behind or disagrees with its signed checkpoint refuses
 * to start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "credit_items.h"
#include "harness.h"
#include "hitlq_msgpack.h"
#include "merkle.h"
#include "note.h"
#include "proof.h"
#include "record.h"
#include "tutil.h"

static struct hserver S;
static struct credit_item *CI;
static size_t NCI;
static struct merkle_hasher H;

static int srv_setup(void **st)
{
    (void)st;
    return harness_server_start(&S, "max_attempts = 2\naudit_checkpoint_ms = 200\n") < 0 ? -1 : 0;
}

static int srv_teardown(void **st)
{
    (void)st;
    int rc = harness_server_stop(&S);
    harness_server_cleanup(&S);
    return rc;
}

static hitlq *cli(const char *name)
{
    hitlq_options o = { .host = "127.0.0.1", .port = S.port, .name = name,
                        .timeout_ms = 30000 };
    hitlq *c = hitlq_connect(&o);
    assert_non_null(c);
    if (hitlq_err(c) != HITLQ_OK)
        fail_msg("connect: %s", hitlq_errstr(c));
    return c;
}

/* The verifier key of the server's key file (the auditor's trust anchor). */
static struct note_verifier server_vkey(void)
{
    char path[256], buf[1024];
    struct note_signer sg;
    struct stat stt;
    snprintf(path, sizeof path, "%s/audit.key", S.data);
    assert_int_equal(stat(path, &stt), 0);
    assert_int_equal(stt.st_mode & 0777, 0600);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_int_equal(note_skey_parse(buf, strcspn(buf, "\n"), &sg), NOTE_OK);
    struct note_verifier v = sg.pub;
    note_signer_clear(&sg);
    return v;
}

/* Opens a signed checkpoint with v; returns its size and root. */
static uint64_t open_checkpoint(const char *note, size_t len, const struct note_verifier *v,
                                uint8_t root[32])
{
    struct note_sigresult res;
    struct note_opened op;
    struct note_checkpoint cp;
    assert_int_equal(note_open(note, len, v, 1, &res, &op), NOTE_OK);
    assert_int_equal(res.verified, 1);
    assert_int_equal(note_checkpoint_parse(op.text, op.text_len, &cp), NOTE_OK);
    assert_int_equal(cp.origin_len, v->name_len);
    assert_memory_equal(cp.origin, v->name, v->name_len);
    memcpy(root, cp.root, 32);
    return cp.size;
}

static uint64_t get_checkpoint(hitlq *c, const struct note_verifier *v, uint8_t root[32])
{
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_call(c, HITLQ_OP_AUDIT_CHECKPOINT, NULL, 0, &r), HITLQ_OK);
    const msgpack_object *n = hitlq_reply_get(r, "checkpoint");
    assert_non_null(n);
    assert_int_equal(n->type, MSGPACK_OBJECT_STR);
    uint64_t size = open_checkpoint(n->via.str.ptr, n->via.str.size, v, root);
    assert_int_equal(size, hobj_u64(hitlq_reply_get(r, "size")));
    hitlq_reply_free(r);
    return size;
}

/* Fetches entries [start, start + n): record bytes (malloc'd) and hashes. */
static size_t get_entries(hitlq *c, uint64_t start, uint32_t n, uint8_t **recs, size_t *lens,
                          uint8_t (*hashes)[32])
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    hpk_kv_u64(&pk, "start", start);
    hpk_kv_u64(&pk, "count", n);
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_call(c, HITLQ_OP_AUDIT_ENTRIES, sb.data, sb.size, &r), HITLQ_OK);
    msgpack_sbuffer_destroy(&sb);
    const msgpack_object *e = hitlq_reply_get(r, "entries"), *h = hitlq_reply_get(r, "hashes");
    assert_true(e != NULL && h != NULL && e->via.array.size == h->via.array.size);
    size_t got = e->via.array.size;
    assert_true(got <= n);
    for (size_t i = 0; i < got; i++) {
        const msgpack_object *b = &e->via.array.ptr[i], *hb = &h->via.array.ptr[i];
        assert_int_equal(b->type, MSGPACK_OBJECT_BIN);
        assert_int_equal(hb->via.bin.size, 32);
        recs[i] = malloc(b->via.bin.size);
        memcpy(recs[i], b->via.bin.ptr, b->via.bin.size);
        lens[i] = b->via.bin.size;
        memcpy(hashes[i], hb->via.bin.ptr, 32);
    }
    hitlq_reply_free(r);
    return got;
}

/* Submits item i of the credit data, asking for a receipt. */
static hitlq_reply *submit_receipt(hitlq *c, size_t i, const char *receipt)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    hpk_kv_str(&pk, "key", CI[i].key);
    hpk_kv_str(&pk, "type", "credit_application");
    hpk_str(&pk, "fields");
    msgpack_sbuffer_write(&sb, (const char *)CI[i].fields, CI[i].fields_len);
    hpk_kv_str(&pk, "receipt", receipt);
    hitlq_reply *r = NULL;
    int rc = hitlq_call(c, HITLQ_OP_SUBMIT, sb.data, sb.size, &r);
    msgpack_sbuffer_destroy(&sb);
    if (rc != HITLQ_OK)
        fail_msg("submit: %s (%s)", hitlq_strerror(rc), hitlq_errstr(c));
    return r;
}

/* Verifies a tlog-proof text for leaf_hash with v; returns the index. */
static uint64_t verify_tlog_proof(const char *text, size_t len, const struct note_verifier *v,
                                  const uint8_t leaf_hash[32])
{
    struct tlog_proof p;
    uint8_t root[32];
    assert_int_equal(tlog_proof_parse(text, len, &p), PROOF_OK);
    uint64_t size = open_checkpoint(p.note, p.note_len, v, root);
    assert_int_equal(merkle_verify_inclusion(&H, leaf_hash, p.index, size,
                                             (const uint8_t (*)[32])p.hashes, p.n, root),
                     MERKLE_OK);
    return p.index;
}

static void free_recs(uint8_t **recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(recs[i]);
}

/* Every entry of the tree hashes into the signed root; returns its size. */
static uint64_t verify_whole_log(hitlq *c, const struct note_verifier *v, struct record *r)
{
    uint8_t root[32], got[32];
    uint64_t size = get_checkpoint(c, v, root);
    uint8_t (*hs)[32] = malloc((size + 1) * 32);
    uint8_t *recs[256];
    size_t lens[256];
    struct record *prev = calloc(1, sizeof *prev);
    assert_true(hs != NULL && prev != NULL && size > 0);
    for (uint64_t at = 0; at < size;) {
        size_t n = get_entries(c, at, (uint32_t)(size - at < 256 ? size - at : 256), recs, lens,
                               hs + at);
        assert_true(n > 0);
        for (size_t i = 0; i < n; i++) {
            uint8_t lh[32];
            assert_int_equal(record_leaf_hash(recs[i], lens[i], lh), RECORD_OK);
            assert_memory_equal(lh, hs[at + i], 32);
            assert_int_equal(record_decode(recs[i], lens[i], r), RECORD_OK);
            assert_int_equal(record_check_sequence(at + i ? prev : NULL, r, at + i), RECORD_OK);
            *prev = *r;
        }
        free_recs(recs, n);
        at += n;
    }
    assert_int_equal(merkle_root_compute(&H, (const uint8_t (*)[32])hs, size, got), MERKLE_OK);
    assert_memory_equal(got, root, 32);
    free(prev);
    free(hs);
    return size;
}

static void test_genesis_and_configuration(void **st)
{
    (void)st;
    hitlq *c = cli("auditor");
    struct note_verifier v = server_vkey();
    struct record *r = calloc(1, sizeof *r);
    uint8_t *recs[8], hashes[8][32];
    size_t lens[8];
    char vk[NOTE_VKEY_MAX + 1];
    size_t vn;
    uint64_t size = verify_whole_log(c, &v, r);
    assert_true(size >= 3);
    assert_int_equal(get_entries(c, 0, 3, recs, lens, hashes), 3);
    assert_int_equal(record_decode(recs[0], lens[0], r), RECORD_OK);
    assert_int_equal(r->record_type, RECORD_GENESIS);
    assert_int_equal(r->ext_count, 1);
    assert_int_equal(r->ext[0].type, RECORD_EXT_KEY_INFO);
    assert_int_equal(note_vkey_format(&v, vk, sizeof vk, &vn), NOTE_OK);
    assert_int_equal(r->ext[0].len, 4 + vn + 8);
    assert_memory_equal(r->ext[0].data + 4, vk, vn);    /* the log's own key */
    assert_int_equal(record_decode(recs[1], lens[1], r), RECORD_OK);
    assert_int_equal(r->record_type, RECORD_MODEL_REGISTERED);
    uint8_t zero[32] = { 0 };
    assert_memory_not_equal(r->model_digest, zero, 32);
    assert_true(r->model_id.len > 0 && r->model_version.len > 0);
    assert_int_equal(record_decode(recs[2], lens[2], r), RECORD_OK);
    assert_int_equal(r->record_type, RECORD_POLICY_CHANGE);
    assert_true(r->policy_id.len > 0);
    assert_true(r->threshold > 0.5 && r->threshold < 1.0);
    free_recs(recs, 3);
    free(r);
    hitlq_free(c);
}

static const struct record_ext *find_ext(const struct record *r, uint16_t type)
{
    for (size_t i = 0; i < r->ext_count; i++)
        if (r->ext[i].type == type)
            return &r->ext[i];
    return NULL;
}

/* Index and leaf hash from a SUBMIT reply's `audit` map. */
static uint64_t reply_receipt(const hitlq_reply *rep, uint8_t leaf[32])
{
    const msgpack_object *a = hitlq_reply_get(rep, "audit");
    assert_non_null(a);
    assert_int_equal(a->type, MSGPACK_OBJECT_MAP);
    uint64_t index = UINT64_MAX;
    for (uint32_t i = 0; i < a->via.map.size; i++) {
        const msgpack_object_kv *kv = &a->via.map.ptr[i];
        if (hobj_str_eq(&kv->key, "index"))
            index = hobj_u64(&kv->val);
        else if (hobj_str_eq(&kv->key, "leaf_hash")) {
            assert_int_equal(kv->val.via.bin.size, 32);
            memcpy(leaf, kv->val.via.bin.ptr, 32);
        }
    }
    assert_true(index != UINT64_MAX);
    return index;
}

/* Fetches entry `index` and checks its stored hash. */
static void fetch_record(hitlq *c, uint64_t index, const uint8_t leaf[32], struct record *r,
                         uint8_t **bytes, size_t *len)
{
    uint8_t h[1][32];
    assert_int_equal(get_entries(c, index, 1, bytes, len, h), 1);
    assert_memory_equal(h[0], leaf, 32);
    assert_int_equal(record_decode(*bytes, *len, r), RECORD_OK);
    assert_int_equal(r->index, index);
}

/* GET's audit map: the input salt and the first entry index. */
static uint64_t get_audit(hitlq *c, uint64_t id, uint8_t salt[32], size_t *n_entries)
{
    hitlq_reply *g = NULL;
    assert_int_equal(hitlq_get(c, id, &g), HITLQ_OK);
    const msgpack_object *a = hitlq_reply_get(g, "audit");
    assert_non_null(a);
    assert_int_equal(a->type, MSGPACK_OBJECT_MAP);
    uint64_t first = UINT64_MAX;
    for (uint32_t i = 0; i < a->via.map.size; i++) {
        const msgpack_object_kv *kv = &a->via.map.ptr[i];
        if (hobj_str_eq(&kv->key, "salt")) {
            assert_int_equal(kv->val.via.bin.size, 32);
            memcpy(salt, kv->val.via.bin.ptr, 32);
        } else if (hobj_str_eq(&kv->key, "entries")) {
            *n_entries = kv->val.via.array.size;
            first = hobj_u64(&kv->val.via.array.ptr[0]);
        }
    }
    hitlq_reply_free(g);
    return first;
}

static void test_submit_entry_and_receipts(void **st)
{
    (void)st;
    hitlq *c = cli("audit-bot");
    struct note_verifier v = server_vkey();
    struct record *r = calloc(1, sizeof *r);
    uint8_t leaf[32], salt[32], commit[32], *bytes;
    size_t len, ne = 0;
    bool seen_auto = false, seen_queued = false;
    for (size_t i = 0; i < NCI && !(seen_auto && seen_queued); i++) {
        hitlq_reply *rep = submit_receipt(c, i, i % 2 ? "checkpoint" : "index");
        uint64_t id = hobj_u64(hitlq_reply_get(rep, "id"));
        bool is_auto = hobj_str_eq(hitlq_reply_get(rep, "outcome"), "auto_resolved");
        uint64_t index = reply_receipt(rep, leaf);
        const msgpack_object *tp = hitlq_reply_get(rep, "tlog_proof");
        if (i % 2) {                   /* strong receipt: offline-verifiable */
            assert_non_null(tp);
            assert_int_equal(verify_tlog_proof(tp->via.str.ptr, tp->via.str.size, &v, leaf),
                             index);
        } else {
            assert_null(tp);
        }
        fetch_record(c, index, leaf, r, &bytes, &len);
        char idbuf[24];
        snprintf(idbuf, sizeof idbuf, "%" PRIu64, id);
        assert_int_equal(r->item_id.len, strlen(idbuf));
        assert_memory_equal(r->item_id.data, idbuf, r->item_id.len);
        assert_int_equal(r->actor_type, RECORD_ACTOR_MODEL);
        assert_int_equal(r->record_type, is_auto ? RECORD_AUTO_DECISION : RECORD_ESCALATION);
        assert_int_equal(r->decision, is_auto ? RECORD_DEC_APPROVE : RECORD_DEC_ESCALATE);
        assert_true(r->score == hobj_f64(hitlq_reply_get(rep, "score")));
        assert_true(r->threshold > 0.5 && r->threshold < 1.0);
        assert_true(is_auto ? r->score >= r->threshold : true);
        assert_true(r->reason_count >= 1 && r->policy_id.len > 0);
        assert_non_null(find_ext(r, RECORD_EXT_TOP_FEATURES));
        assert_non_null(find_ext(r, RECORD_EXT_SUBMISSION));
        assert_true((find_ext(r, RECORD_EXT_QUEUE_REF) != NULL) == !is_auto);
        /* the input commitment opens with GET's salt and the exact fields */
        assert_int_equal(get_audit(c, id, salt, &ne), index);
        assert_int_equal(ne, 1);
        assert_int_equal(record_commit(salt, CI[i].fields, CI[i].fields_len, commit), RECORD_OK);
        assert_memory_equal(commit, r->input_commit, 32);
        /* no raw field value is in the record */
        assert_null(memmem(bytes, len, "A11", 3));
        free(bytes);
        seen_auto |= is_auto;
        seen_queued |= !is_auto;
        hitlq_reply_free(rep);
        /* a duplicate submit answers with the original entry */
        rep = submit_receipt(c, i, "index");
        assert_true(hobj_u64(hitlq_reply_get(rep, "id")) == id);
        uint8_t leaf2[32];
        assert_int_equal(reply_receipt(rep, leaf2), index);
        assert_memory_equal(leaf2, leaf, 32);
        hitlq_reply_free(rep);
    }
    assert_true(seen_auto && seen_queued);
    free(r);
    hitlq_free(c);
}

/* {"amount": 1000}: incomplete, so queued whatever the score. */
static uint64_t submit_small(hitlq *c, const char *key)
{
    msgpack_sbuffer f;
    msgpack_packer pk;
    msgpack_sbuffer_init(&f);
    msgpack_packer_init(&pk, &f, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "amount", 1000);
    hitlq_item it = { .key = key, .type = "credit_application", .fields = f.data,
                      .fields_len = f.size, .priority = -1 };
    hitlq_decision d;
    assert_int_equal(hitlq_submit(c, &it, &d), HITLQ_OK);
    msgpack_sbuffer_destroy(&f);
    assert_true(d.queued);
    return d.id;
}

/* Checks entry `index` is a human/system event about item id that refers
 * to the model entry (model_index, model_leaf), with a VERDICT naming its
 * reviewer; returns its agreement. */
static int check_event(hitlq *c, uint64_t index, uint8_t type, uint8_t actor, const char *who,
                       uint64_t model_index, const uint8_t model_leaf[32], struct record *r)
{
    uint8_t *recs[1], h[1][32];
    size_t lens[1];
    assert_int_equal(get_entries(c, index, 1, recs, lens, h), 1);
    assert_int_equal(record_decode(recs[0], lens[0], r), RECORD_OK);
    assert_int_equal(r->record_type, type);
    assert_int_equal(r->actor_type, actor);
    assert_int_equal(r->actor_id.len, strlen(who));
    assert_memory_equal(r->actor_id.data, who, r->actor_id.len);
    assert_int_equal(r->ref_index, model_index);
    assert_memory_equal(r->ref_leaf_hash, model_leaf, 32);
    const struct record_ext *o = find_ext(r, RECORD_EXT_VERDICT);
    struct record_ext_verdict vd;
    assert_non_null(o);
    assert_int_equal(record_ext_verdict_decode(o->data, o->len, &vd), RECORD_OK);
    assert_int_equal(vd.reviewer.len, strlen(who));
    assert_memory_equal(vd.reviewer.data, who, vd.reviewer.len);
    int agree = vd.agreement;
    free(recs[0]);
    return agree;
}

/* The k-th entry index in GET's audit.entries for item id. */
static uint64_t audit_entry_at(hitlq *c, uint64_t id, uint32_t k)
{
    hitlq_reply *g = NULL;
    uint64_t v = UINT64_MAX;
    assert_int_equal(hitlq_get(c, id, &g), HITLQ_OK);
    const msgpack_object *a = hitlq_reply_get(g, "audit");
    assert_true(a != NULL && a->type == MSGPACK_OBJECT_MAP);
    for (uint32_t i = 0; i < a->via.map.size; i++)
        if (hobj_str_eq(&a->via.map.ptr[i].key, "entries") &&
            a->via.map.ptr[i].val.type == MSGPACK_OBJECT_ARRAY &&
            k < a->via.map.ptr[i].val.via.array.size)
            v = hobj_u64(&a->via.map.ptr[i].val.via.array.ptr[k]);
    hitlq_reply_free(g);
    assert_true(v != UINT64_MAX);
    return v;
}

static void test_human_decisions_linked(void **st)
{
    (void)st;
    hitlq *c = cli("spec-ann");
    struct note_verifier v = server_vkey();
    struct record *r = calloc(1, sizeof *r);
    static const char *const Q[] = { "credit_review" };
    uint8_t salt[32], mleaf[32], h[1][32], *rec[1], zero[32] = { 0 };
    size_t ne, len[1];
    uint64_t id1 = submit_small(c, "hum-1"), id2 = submit_small(c, "hum-2");
    uint64_t m1 = get_audit(c, id1, salt, &ne);
    assert_int_equal(get_entries(c, m1, 1, rec, len, h), 1);
    memcpy(mleaf, h[0], 32);
    assert_int_equal(record_decode(rec[0], len[0], r), RECORD_OK);
    /* the model's recommendation: the scorecard policy has no reject band,
     * so it leans to "approve" at score >= auto_threshold (the record's
     * threshold), else recommends nothing */
    bool leans_yes = r->score >= r->threshold;
    free(rec[0]);
    /* approve: agrees with an "approve" recommendation, else not comparable */
    struct hitlq_claim cl;
    assert_int_equal(hitlq_claim(c, Q, 1, 60000, 0, "ann", &cl), HITLQ_OK);
    assert_int_equal(cl.id, id1);
    uint64_t seq;
    assert_int_equal(hitlq_resolve(c, id1, cl.lease, "approve", "phoned the bank", NULL, &seq),
                     HITLQ_OK);
    hitlq_claim_clear(&cl);
    assert_int_equal(get_audit(c, id1, salt, &ne), m1);
    assert_int_equal(ne, 2);
    uint64_t e1 = audit_entry_at(c, id1, 1);
    assert_int_equal(check_event(c, e1, RECORD_HUMAN_DECISION, RECORD_ACTOR_HUMAN, "ann", m1,
                                 mleaf, r), leans_yes ? 1 : 3);
    assert_int_equal(r->decision, RECORD_DEC_APPROVE);
    assert_memory_not_equal(r->note_commit, zero, 32);
    /* release, then reject: overrides an "approve" recommendation */
    assert_int_equal(hitlq_claim(c, Q, 1, 60000, 0, "ann", &cl), HITLQ_OK);
    assert_int_equal(cl.id, id2);
    assert_int_equal(hitlq_release(c, id2, cl.lease, 0), HITLQ_OK);
    hitlq_claim_clear(&cl);
    assert_int_equal(hitlq_claim(c, Q, 1, 60000, 0, "bob", &cl), HITLQ_OK);
    assert_int_equal(hitlq_resolve(c, id2, cl.lease, "reject", NULL, NULL, &seq), HITLQ_OK);
    hitlq_claim_clear(&cl);
    uint64_t m2 = get_audit(c, id2, salt, &ne);
    assert_int_equal(ne, 3);
    assert_int_equal(get_entries(c, m2, 1, rec, len, h), 1);
    free(rec[0]);
    /* AUDIT_PROVE by item: every entry of the item, each verifying */
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "id", id2);
    hitlq_reply *p = NULL;
    for (int tries = 0; tries < 50; tries++) {     /* until a checkpoint covers them */
        hitlq_reply_free(p);
        p = NULL;
        if (hitlq_call(c, HITLQ_OP_AUDIT_PROVE, sb.data, sb.size, &p) == HITLQ_OK &&
            hitlq_reply_get(p, "proofs")->via.array.size == 3)
            break;
        harness_sleep_ms(100);
    }
    msgpack_sbuffer_destroy(&sb);
    const msgpack_object *ps = hitlq_reply_get(p, "proofs");
    assert_int_equal(ps->via.array.size, 3);
    for (uint32_t i = 0; i < 3; i++) {
        const msgpack_object *e = &ps->via.array.ptr[i], *lh = NULL, *tp = NULL;
        uint64_t ix = 0;
        for (uint32_t k = 0; k < e->via.map.size; k++) {
            if (hobj_str_eq(&e->via.map.ptr[k].key, "leaf_hash")) lh = &e->via.map.ptr[k].val;
            if (hobj_str_eq(&e->via.map.ptr[k].key, "tlog_proof")) tp = &e->via.map.ptr[k].val;
            if (hobj_str_eq(&e->via.map.ptr[k].key, "index")) ix = hobj_u64(&e->via.map.ptr[k].val);
        }
        assert_true(lh != NULL && tp != NULL);
        assert_int_equal(verify_tlog_proof(tp->via.str.ptr, tp->via.str.size, &v,
                                           (const uint8_t *)lh->via.bin.ptr), ix);
        if (i == 1)
            assert_int_equal(check_event(c, ix, RECORD_QUEUE_EVENT, RECORD_ACTOR_HUMAN, "ann",
                                         m2, h[0], r), 0);
        if (i == 2) {
            assert_int_equal(check_event(c, ix, leans_yes ? RECORD_HUMAN_OVERRIDE
                                                          : RECORD_HUMAN_DECISION,
                                         RECORD_ACTOR_HUMAN, "bob", m2, h[0], r),
                             leans_yes ? 2 : 3);
            assert_int_equal(r->decision, RECORD_DEC_REJECT);
        }
    }
    hitlq_reply_free(p);
    free(r);
    hitlq_free(c);
}

static void must_consistent(hitlq *c, uint64_t s1, const uint8_t r1[32], uint64_t s2,
                            const uint8_t r2[32])
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    hpk_kv_u64(&pk, "size1", s1);
    hpk_kv_u64(&pk, "size2", s2);
    hitlq_reply *p = NULL;
    assert_int_equal(hitlq_call(c, HITLQ_OP_AUDIT_CONSISTENCY, sb.data, sb.size, &p), HITLQ_OK);
    msgpack_sbuffer_destroy(&sb);
    const msgpack_object *pr = hitlq_reply_get(p, "proof");
    uint8_t proof[64][32];
    assert_true(pr->via.array.size <= 64);
    for (uint32_t i = 0; i < pr->via.array.size; i++)
        memcpy(proof[i], pr->via.array.ptr[i].via.bin.ptr, 32);
    assert_int_equal(merkle_verify_consistency(&H, s1, s2, (const uint8_t (*)[32])proof,
                                               pr->via.array.size, r1, r2), MERKLE_OK);
    /* and a wrong old root does not verify */
    uint8_t bad[32];
    memcpy(bad, r1, 32);
    bad[0] ^= 1;
    if (s1 != s2)
        assert_int_not_equal(merkle_verify_consistency(&H, s1, s2, (const uint8_t (*)[32])proof,
                                                       pr->via.array.size, bad, r2), MERKLE_OK);
    hitlq_reply_free(p);
}

/* Waits (<= 5 s) for a checkpoint larger than `than`. */
static uint64_t wait_checkpoint(hitlq *c, const struct note_verifier *v, uint64_t than,
                                uint8_t root[32])
{
    uint64_t size = 0;
    for (int i = 0; i < 100 && (size = get_checkpoint(c, v, root)) <= than; i++)
        harness_sleep_ms(50);
    assert_true(size > than);
    return size;
}

static void test_consistency_across_restart_and_kill9(void **st)
{
    (void)st;
    hitlq *c = cli("audit-bot2");
    struct note_verifier v = server_vkey();
    struct record *r = calloc(1, sizeof *r);
    uint8_t ra[32], rb[32], rc[32];
    uint64_t a = get_checkpoint(c, &v, ra);
    for (size_t i = 0; i < 40; i++)
        hitlq_reply_free(submit_receipt(c, 100 + i, "index"));
    uint64_t b = wait_checkpoint(c, &v, a, rb);
    must_consistent(c, a, ra, b, rb);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&S), 0);
    assert_true(harness_server_restart(&S) > 0);
    c = cli("audit-bot2");
    for (size_t i = 0; i < 40; i++)
        hitlq_reply_free(submit_receipt(c, 200 + i, "index"));
    uint64_t cs = wait_checkpoint(c, &v, b, rc);
    must_consistent(c, b, rb, cs, rc);
    must_consistent(c, a, ra, cs, rc);
    /* acknowledged work survives kill -9 with its entries; the log is whole */
    hitlq_item items[100];
    hitlq_decision d[100];
    int stt[100];
    for (size_t i = 0; i < 100; i++)
        items[i] = (hitlq_item){ .key = CI[300 + i].key, .type = "credit_application",
                                 .fields = CI[300 + i].fields,
                                 .fields_len = CI[300 + i].fields_len, .priority = -1 };
    assert_int_equal(hitlq_submit_batch(c, items, 100, 32, d, stt), HITLQ_OK);
    hitlq_free(c);
    assert_int_equal(harness_server_kill(&S, SIGKILL), 0);
    assert_true(harness_server_restart(&S) > 0);
    c = cli("audit-bot2");
    uint8_t salt[32];
    size_t ne;
    for (size_t i = 0; i < 100; i++) {
        assert_int_equal(stt[i], HITLQ_OK);
        assert_true(get_audit(c, d[i].id, salt, &ne) < UINT64_MAX);
    }
    uint64_t size = verify_whole_log(c, &v, r);
    assert_true(size >= cs + 100);
    uint8_t rd[32];
    uint64_t ds = get_checkpoint(c, &v, rd);
    must_consistent(c, cs, rc, ds, rd);
    free(r);
    hitlq_free(c);
}


/* Runs hitlqd KEY_OP on the stopped server's data dir; returns its stdout. */
static void key_admin(const char *args, char *out, size_t n)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s -d %s %s 2>/dev/null", HARNESS_HITLQD, S.data, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    assert_int_equal(pclose(p), 0);
}

/* Finds the KEY_EVENT entry (action) for vkey in the log; true if found. */
static bool has_key_event(hitlq *c, uint64_t size, const char *vkey, uint8_t action,
                          struct record *r)
{
    uint8_t *recs[256], hs[256][32];
    size_t lens[256];
    bool found = false;
    for (uint64_t at = 0; at < size;) {
        size_t n = get_entries(c, at, 256, recs, lens, hs);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(record_decode(recs[i], lens[i], r), RECORD_OK);
            const struct record_ext *e = find_ext(r, RECORD_EXT_KEY_INFO);
            if ((r->record_type == RECORD_KEY_EVENT || r->record_type == RECORD_GENESIS) &&
                e != NULL && e->data[1] == action && e->len == 12 + strlen(vkey) &&
                memcmp(e->data + 4, vkey, strlen(vkey)) == 0)
                found = true;
        }
        free_recs(recs, n);
        at += n;
    }
    return found;
}

static void test_key_rotation(void **st)
{
    (void)st;
    hitlq *c = cli("rot-bot");
    struct note_verifier old = server_vkey(), vs[2];
    uint8_t r1[32], r2[32], r3[32];
    struct record *r = calloc(1, sizeof *r);
    uint64_t s1 = get_checkpoint(c, &old, r1);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&S), 0);
    char out[2048], vk2[NOTE_VKEY_MAX + 1], vk1[NOTE_VKEY_MAX + 1];
    key_admin("-R", out, sizeof out);             /* prints both vkeys */
    char *nl = strchr(out, '\n');
    assert_non_null(nl);
    snprintf(vk1, sizeof vk1, "%.*s", (int)(nl - out), out);
    snprintf(vk2, sizeof vk2, "%.*s", (int)strcspn(nl + 1, "\n"), nl + 1);
    assert_int_equal(note_vkey_parse(vk1, strlen(vk1), &vs[0]), NOTE_OK);
    assert_int_equal(note_vkey_parse(vk2, strlen(vk2), &vs[1]), NOTE_OK);
    assert_int_equal(vs[0].key_id, old.key_id);
    assert_string_equal(vs[1].name, old.name);    /* same origin */
    assert_true(harness_server_restart(&S) > 0);
    c = cli("rot-bot");
    /* both keys sign every checkpoint now; the add is in the log */
    hitlq_reply *rep = NULL;
    assert_int_equal(hitlq_call(c, HITLQ_OP_AUDIT_CHECKPOINT, NULL, 0, &rep), HITLQ_OK);
    const msgpack_object *n = hitlq_reply_get(rep, "checkpoint");
    struct note_sigresult res[2];
    struct note_opened op;
    assert_int_equal(note_open(n->via.str.ptr, n->via.str.size, vs, 2, res, &op), NOTE_OK);
    assert_true(res[0].verified && res[1].verified);
    hitlq_reply_free(rep);
    uint64_t s2 = get_checkpoint(c, &vs[1], r2);
    assert_true(s2 > s1);
    must_consistent(c, s1, r1, s2, r2);
    assert_true(has_key_event(c, s2, vk2, 1, r));
    hitlq_free(c);
    /* retire the old key: only the new one signs; the retirement is logged */
    assert_int_equal(harness_server_stop(&S), 0);
    char arg[32];
    snprintf(arg, sizeof arg, "-X %08x", old.key_id);
    key_admin(arg, out, sizeof out);
    assert_memory_equal(out, vk2, strlen(vk2));   /* only the new key is left */
    assert_string_equal(out + strlen(vk2), "\n");
    assert_true(harness_server_restart(&S) > 0);
    c = cli("rot-bot");
    assert_int_equal(hitlq_call(c, HITLQ_OP_AUDIT_CHECKPOINT, NULL, 0, &rep), HITLQ_OK);
    n = hitlq_reply_get(rep, "checkpoint");
    assert_int_equal(note_open(n->via.str.ptr, n->via.str.size, &old, 1, res, &op),
                     NOTE_ERR_UNVERIFIED);
    hitlq_reply_free(rep);
    uint64_t s3 = get_checkpoint(c, &vs[1], r3);
    must_consistent(c, s1, r1, s3, r3);
    assert_true(has_key_event(c, s3, vk1, 2, r));
    free(r);
    hitlq_free(c);
}

/* With a 60 s signing interval, a fresh checkpoint and a strong receipt
 * come at once: signing on demand. */
static void test_checkpoint_on_demand(void **st)
{
    (void)st;
    struct hserver t;
    memset(&t, 0, sizeof t);
    assert_true(harness_server_start(&t, "audit_checkpoint_ms = 60000\n") > 0);
    S.port = t.port;
    memcpy(S.data, t.data, sizeof S.data);
    hitlq *c = cli("demand-bot");
    struct note_verifier v = server_vkey();
    uint8_t root[32], leaf[32];
    uint64_t before = get_checkpoint(c, &v, root);
    for (size_t i = 0; i < 10; i++)
        hitlq_reply_free(submit_receipt(c, 600 + i, "index"));
    assert_int_equal(get_checkpoint(c, &v, root), before);      /* not signed yet */
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_str(&pk, "fresh");
    msgpack_pack_true(&pk);
    hitlq_reply *r = NULL;
    uint64_t t0 = harness_now_ms();
    assert_int_equal(hitlq_call(c, HITLQ_OP_AUDIT_CHECKPOINT, sb.data, sb.size, &r), HITLQ_OK);
    msgpack_sbuffer_destroy(&sb);
    const msgpack_object *n = hitlq_reply_get(r, "checkpoint");
    assert_int_equal(open_checkpoint(n->via.str.ptr, n->via.str.size, &v, root), before + 10);
    hitlq_reply_free(r);
    hitlq_reply *rep = submit_receipt(c, 610, "checkpoint");
    const msgpack_object *tp = hitlq_reply_get(rep, "tlog_proof");
    assert_non_null(tp);
    uint64_t idx = reply_receipt(rep, leaf);
    assert_int_equal(verify_tlog_proof(tp->via.str.ptr, tp->via.str.size, &v, leaf), idx);
    hitlq_reply_free(rep);
    assert_true(harness_now_ms() - t0 < 5000);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&t), 0);
    harness_server_cleanup(&t);
}

/* ---- the auditor's tool against a real server -------------------------- */

#define AUDIT_TOOL "build/test/hitlq-audit"

/* Submits items [from, from + n) of the credit data; the last one waits
 * for a checkpoint that covers it. */
static void submit_signed(uint16_t port, size_t from, size_t n)
{
    S.port = port;
    hitlq *c = cli("fork-bot");
    for (size_t i = from; i < from + n; i++)
        hitlq_reply_free(submit_receipt(c, i, i + 1 == from + n ? "checkpoint" : "index"));
    hitlq_free(c);
}

static void test_auditor_detects_rollback_and_fork(void **st)
{
    (void)st;
    struct hserver t;
    char out[8192], *d;
    memset(&t, 0, sizeof t);
    assert_true(harness_server_start(&t, NULL) > 0);
    d = t.dir;
    submit_signed(t.port, 700, 20);
    /* the trust anchor, taken out of band from the key file */
    assert_int_equal(tutil_sh(out, sizeof out, "(%s -d %s -K > %s/vk)", HARNESS_HITLQD, t.data, d),
                     0);
    assert_int_equal(tutil_sh(out, sizeof out, "%s export --server 127.0.0.1:%u --out %s/e1 && "
                             "%s verify --vkey-file %s/vk --state %s/state %s/e1", AUDIT_TOOL,
                             t.port, d, AUDIT_TOOL, d, d, d), 0);
    /* the auditor's saved state moves on to a bigger tree */
    assert_int_equal(harness_server_stop(&t), 0);
    assert_int_equal(tutil_sh(out, sizeof out, "cp -a %s %s/snap", t.data, d), 0);
    assert_true(harness_server_restart(&t) > 0);
    submit_signed(t.port, 720, 20);
    assert_int_equal(tutil_sh(out, sizeof out, "%s export --server 127.0.0.1:%u --out %s/e2 && "
                             "%s verify --vkey-file %s/vk --state %s/state %s/e2 && "
                             "cp %s/e2/checkpoint %s/cpB", AUDIT_TOOL, t.port, d, AUDIT_TOOL,
                             d, d, d, d, d), 0);
    /* the operator restores the old data directory: a rolled-back log */
    assert_int_equal(harness_server_stop(&t), 0);
    assert_int_equal(tutil_sh(out, sizeof out, "rm -rf %s && cp -a %s/snap %s", t.data, d,
                             t.data), 0);
    assert_true(harness_server_restart(&t) > 0);
    submit_signed(t.port, 800, 5);
    assert_int_equal(tutil_sh(out, sizeof out, "%s export --server 127.0.0.1:%u --out %s/e3 && "
                             "%s verify --vkey-file %s/vk --state %s/state %s/e3", AUDIT_TOOL,
                             t.port, d, AUDIT_TOOL, d, d, d), 1);
    if (strstr(out, "ROLLBACK") == NULL)
        fail_msg("no ROLLBACK in: %s", out);
    /* grown past the saved size on another history: two valid checkpoints fork */
    submit_signed(t.port, 805, 30);
    assert_int_equal(tutil_sh(out, sizeof out, "%s export --server 127.0.0.1:%u --out %s/e4",
                             AUDIT_TOOL, t.port, d), 0);
    assert_int_equal(tutil_sh(out, sizeof out, "%s consistency --vkey-file %s/vk %s/cpB "
                             "%s/e4/checkpoint --server 127.0.0.1:%u", AUDIT_TOOL, d, d, d,
                             t.port), 1);
    if (strstr(out, "FORK") == NULL)
        fail_msg("no FORK in: %s", out);
    assert_int_equal(tutil_sh(out, sizeof out, "%s verify --vkey-file %s/vk --state %s/state "
                             "%s/e4", AUDIT_TOOL, d, d, d), 1);
    if (strstr(out, "FORK") == NULL && strstr(out, "ROLLBACK") == NULL)
        fail_msg("no FORK in: %s", out);
    /* and the current export on its own verifies: each history is valid */
    assert_int_equal(tutil_sh(out, sizeof out, "%s verify --vkey-file %s/vk %s/e4", AUDIT_TOOL,
                             d, d), 0);
    assert_int_equal(harness_server_stop(&t), 0);
    harness_server_cleanup(&t);
}

/* ---- a store that disagrees with its signed checkpoints ------------------- */

/* Opens the stopped server's LMDB and applies fn to the alog database. */
static void tamper_alog(struct hserver *s, void (*fn)(MDB_txn *txn, MDB_dbi dbi))
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 24), 0);
    assert_int_equal(mdb_env_set_mapsize(env, 64u << 20), 0);
    assert_int_equal(mdb_env_open(env, s->data, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "alog", 0, &dbi), 0);
    fn(txn, dbi);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void drop_last(MDB_txn *txn, MDB_dbi dbi)
{
    MDB_cursor *cur;
    MDB_val k, v;
    assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
    assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_LAST), 0);
    assert_int_equal(mdb_cursor_del(cur, 0), 0);
    mdb_cursor_close(cur);
}

static void flip_hash_1(MDB_txn *txn, MDB_dbi dbi)
{
    uint8_t kb[8] = { 0, 0, 0, 0, 0, 0, 0, 1 }, buf[70000];
    MDB_val k = { 8, kb }, v;
    assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
    assert_true(v.mv_size <= sizeof buf);
    memcpy(buf, v.mv_data, v.mv_size);
    buf[5] ^= 0x40;                    /* the stored leaf hash of entry 1 */
    v.mv_data = buf;
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
}

static bool log_has(const struct hserver *s, const char *what)
{
    FILE *f = fopen(s->logfile, "r");
    char line[1024];
    bool found = false;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        found |= strstr(line, what) != NULL;
    if (f != NULL)
        fclose(f);
    return found;
}

static void refused_after(void (*fn)(MDB_txn *, MDB_dbi), const char *why)
{
    struct hserver t;
    memset(&t, 0, sizeof t);
    assert_true(harness_server_start(&t, NULL) > 0);
    S.port = t.port;
    hitlq *c = cli("tamper-bot");
    for (size_t i = 0; i < 5; i++)
        hitlq_reply_free(submit_receipt(c, 500 + i, "checkpoint"));   /* signed */
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&t), 0);
    tamper_alog(&t, fn);
    assert_true(harness_server_restart(&t) < 0);     /* refuses to start */
    assert_true(log_has(&t, why));
    harness_server_cleanup(&t);
}

static void test_truncated_log_refused(void **st)
{
    (void)st;
    refused_after(drop_last, "ROLLBACK");
}

static void test_rewritten_log_refused(void **st)
{
    (void)st;
    refused_after(flip_hash_1, "FORK");
}

static void test_audit_off_is_fixed(void **st)
{
    (void)st;
    struct hserver t;
    memset(&t, 0, sizeof t);
    assert_true(harness_server_start(&t, "audit = 0\n") > 0);
    S.port = t.port;
    hitlq *c = cli("off-bot");
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_call(c, HITLQ_OP_AUDIT_CHECKPOINT, NULL, 0, &r), HITLQ_ST_NOT_FOUND);
    hitlq_reply_free(r);
    r = submit_receipt(c, 0, "index");               /* works, without a receipt */
    assert_null(hitlq_reply_get(r, "audit"));
    hitlq_reply_free(r);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&t), 0);
    /* the same data directory with the log on would have a gap: refused */
    FILE *f = fopen(t.cfgfile, "w");
    assert_non_null(f);
    fputs("audit = 1\n", f);
    fclose(f);
    assert_true(harness_server_restart(&t) < 0);
    assert_true(log_has(&t, "audit = 0"));
    harness_server_cleanup(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_genesis_and_configuration, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_submit_entry_and_receipts, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_human_decisions_linked, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_consistency_across_restart_and_kill9, srv_setup,
                                        srv_teardown),
        cmocka_unit_test_setup_teardown(test_key_rotation, srv_setup, srv_teardown),
        cmocka_unit_test(test_checkpoint_on_demand),
        cmocka_unit_test(test_auditor_detects_rollback_and_fork),
        cmocka_unit_test(test_truncated_log_refused),
        cmocka_unit_test(test_rewritten_log_refused),
        cmocka_unit_test(test_audit_off_is_fixed),
    };
    if (credit_items_load(CREDIT_ITEMS_CSV, &CI, &NCI) != 0 || NCI < 600) {
        fprintf(stderr, "cannot load %s\n", CREDIT_ITEMS_CSV);
        return 1;
    }
    if (sodium_init() < 0 || merkle_hasher_init(&H) != MERKLE_OK)
        return 1;
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    merkle_hasher_clear(&H);
    credit_items_free(CI, NCI);
    return rc;
}
