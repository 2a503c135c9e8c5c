/*
 * test_record.c - unit tests of proto/record.c (proto/AUDIT-FORMAT.md §3,
 * §5, §13): the two AXR1 vectors rebuilt from their field values (commitments,
 * leaf hashes, attestation, 2-leaf root) byte for byte, generated
 * round trips, every truncation, enum/magic flips, non-canonical and
 * oversize encodings, extension list rules, encoder errors, sequence
 * checks (the extension body codecs: tests/unit/test_record_ext.c).
 * Hashes are cross-checked with libsodium's SHA-256.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "merkle.h"
#include "record.h"
#include "record_fixture.h"

/* ---- proto/AUDIT-FORMAT.md §13 vectors -------------------------------- */

static const char v0_hex[] =
    "415852310200000000000000000000018bcfe5687b08494e562d31303031020b636f7265"
    "406e6f64652d31fe397208883951f8d2d99d42c6c52426e1f81cf261a35426098027bd04"
    "8311060966726175642d67626d09323032352e30362e318a00fb104a7109470e13e4bd2f"
    "375f484b0145b2b3a2a0e7d53aec018b2122943612a80cb6d2c681fc6b5b98b967805b95"
    "e11140e8b57caae3505781b311cacd3fe75c28f5c28f5c3fe66666666666660d61702d72"
    "6f7574696e672f7637030201010204ffffffffffffffff00000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000001b000200170d61702d657863657074696f6e7302"
    "0000018bd01c56fb00";
static const char v0_leaf_hex[] =
    "64075592e1872387058a37c249394ea7ae02d18b297fc7b0bbeed8c168bbdf67";
static const char v1_hex[] =
    "415852310300000000000000010000018bcfec605508494e562d313030310305616c6963"
    "65fe397208883951f8d2d99d42c6c52426e1f81cf261a35426098027bd04831106000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000d61702d726f7574696e672f7637010103010000000000000000640755"
    "92e1872387058a37c249394ea7ae02d18b297fc7b0bbeed8c168bbdf67fe5aeff57246f5"
    "2abd7bfd7596d73e3cdf7b3441e380bca8df3df6c0216c15ea0000010196d1a8f43592af"
    "7df7cfb08e71cece2787a7f06665b5b634a37bf1e631d6430346f8b06f435e2c4a3c8802"
    "e2f1377f2fc7638570d49437fbb886c2b3352013eba7474600";
static const char v1_leaf_hex[] =
    "60f000478e2eade7b1874078dfd700288dd8281d09a2433fb860ca34ac0b7253";
static const char v1_attmsg_hex[] =
    "6178722f76312f6174746573746174696f6e0a5b9d840a382bf73c51c1ec24f315a4e0c5"
    "6bf384c5e3b60ddaa9a653aeb040d9";
static const char root2_hex[] =
    "3e7c29aaa66b39be081c301fd5f30d0d27bf474c444df2c86600bb57503dec98";
static const char features_hex[] =
    "41584631000000020008616d6f756e745f7a4004000000000000000f76656e646f725f61"
    "67655f646179734028000000000000";
static const char input_json[] =
    "{\"invoice\":\"INV-1001\",\"amount_cents\":125000,\"vendor\":\"V-77\"}";
static const char note_text[] = "Vendor verified by phone; invoice matches PO-5521.";
#define ALICE_NAME "humans.anchors.example/alice"

/* QUEUE_REF data of vector 0: "ap-exceptions", priority 2, SLA 1700003600123. */


static void
tr_sha(const char *s, uint8_t out[32])
{
    crypto_hash_sha256(out, (const uint8_t *)s, strlen(s));
}

static void
tr_str(struct record_str *s, const char *v)
{
    s->len = (uint8_t)strlen(v);
    memcpy(s->data, v, s->len);
}

static void
tr_commit(const char *salt_label, const void *data, size_t len, uint8_t out[32])
{
    uint8_t salt[32], want[32];
    crypto_hash_sha256_state st;

    tr_sha(salt_label, salt);
    assert_int_equal(record_commit(salt, data, len, out), RECORD_OK);
    crypto_hash_sha256_init(&st);                       /* independent check */
    crypto_hash_sha256_update(&st, salt, sizeof salt);
    crypto_hash_sha256_update(&st, data, len);
    crypto_hash_sha256_final(&st, want);
    assert_memory_equal(out, want, 32);
}

static void
build_v0(struct record *r)
{
    uint8_t feat[128];
    size_t flen = rfx_hex(features_hex, feat, sizeof feat);

    record_init(r);
    r->record_type = RECORD_ESCALATION;
    r->index = 0;
    r->time_ms = UINT64_C(1700000000123);
    tr_str(&r->item_id, "INV-1001");
    r->actor_type = RECORD_ACTOR_MODEL;
    tr_str(&r->actor_id, "core@node-1");
    tr_commit("axr test salt input 0", input_json, strlen(input_json), r->input_commit);
    tr_str(&r->model_id, "fraud-gbm");
    tr_str(&r->model_version, "2025.06.1");
    tr_sha("axr test model artifact fraud-gbm 2025.06.1", r->model_digest);
    tr_commit("axr test salt features 0", feat, flen, r->features_commit);
    r->score = 0.73;
    r->threshold = 0.70;
    tr_str(&r->policy_id, "ap-routing/v7");
    r->decision = RECORD_DEC_ESCALATE;
    r->reason_count = 2;
    r->reason_codes[0] = 0x0101;
    r->reason_codes[1] = 0x0204;
    r->ext_count = 1;
    r->ext[0].type = RECORD_EXT_QUEUE_REF;
    r->ext[0].len = rfx_v0_queue_ref_len;
    r->ext[0].data = rfx_v0_queue_ref;
}

/* Vector 1 without its attestation (att_count 0). */
static void
build_v1_unsigned(struct record *r)
{
    record_init(r);
    r->record_type = RECORD_HUMAN_DECISION;
    r->index = 1;
    r->time_ms = UINT64_C(1700000456789);
    tr_str(&r->item_id, "INV-1001");
    r->actor_type = RECORD_ACTOR_HUMAN;
    tr_str(&r->actor_id, "alice");
    tr_commit("axr test salt input 0", input_json, strlen(input_json), r->input_commit);
    tr_str(&r->policy_id, "ap-routing/v7");
    r->decision = RECORD_DEC_APPROVE;
    r->reason_count = 1;
    r->reason_codes[0] = 0x0301;
    r->ref_index = 0;
    rfx_hex(v0_leaf_hex, r->ref_leaf_hash, 32);
    tr_commit("axr test salt note 1", note_text, strlen(note_text), r->note_commit);
}

/* Field-by-field equality (ext data by content). */
static void
assert_record_equal(const struct record *a, const struct record *b)
{
    size_t i;

    assert_int_equal(a->record_type, b->record_type);
    assert_true(a->index == b->index && a->time_ms == b->time_ms);
    assert_int_equal(a->actor_type, b->actor_type);
    assert_int_equal(a->decision, b->decision);
#define STR_EQ(f) do { assert_int_equal(a->f.len, b->f.len); \
        if (a->f.len > 0) assert_memory_equal(a->f.data, b->f.data, a->f.len); } while (0)
    STR_EQ(item_id); STR_EQ(actor_id); STR_EQ(model_id);
    STR_EQ(model_version); STR_EQ(policy_id);
#undef STR_EQ
    assert_memory_equal(a->input_commit, b->input_commit, 32);
    assert_memory_equal(a->model_digest, b->model_digest, 32);
    assert_memory_equal(a->features_commit, b->features_commit, 32);
    assert_memory_equal(a->ref_leaf_hash, b->ref_leaf_hash, 32);
    assert_memory_equal(a->note_commit, b->note_commit, 32);
    assert_true(memcmp(&a->score, &b->score, 8) == 0 || a->score == b->score);
    assert_true(memcmp(&a->threshold, &b->threshold, 8) == 0 || a->threshold == b->threshold);
    assert_true(a->ref_index == b->ref_index);
    assert_int_equal(a->reason_count, b->reason_count);
    for (i = 0; i < a->reason_count; i++)
        assert_int_equal(a->reason_codes[i], b->reason_codes[i]);
    assert_int_equal(a->ext_count, b->ext_count);
    for (i = 0; i < a->ext_count; i++) {
        assert_int_equal(a->ext[i].type, b->ext[i].type);
        assert_int_equal(a->ext[i].len, b->ext[i].len);
        if (a->ext[i].len > 0)
            assert_memory_equal(a->ext[i].data, b->ext[i].data, a->ext[i].len);
    }
    assert_int_equal(a->att_count, b->att_count);
    for (i = 0; i < a->att_count; i++)
        assert_memory_equal(&a->att[i], &b->att[i], sizeof a->att[i]);
}

static uint8_t g_buf[RECORD_LEAF_MAX + 64];
static uint8_t g_buf2[RECORD_LEAF_MAX + 64];
static struct record g_r, g_d;

static void
test_vector0(void **state)
{
    uint8_t want[400], leaf[32], want_leaf[32];
    size_t wlen = rfx_hex(v0_hex, want, sizeof want), len = 0;

    (void)state;
    assert_int_equal(wlen, 297);
    build_v0(&g_r);
    assert_int_equal(record_encoded_len(&g_r), 297);
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_OK);
    assert_int_equal(len, 297);
    assert_memory_equal(g_buf, want, 297);
    assert_int_equal(record_leaf_hash(g_buf, len, leaf), RECORD_OK);
    rfx_hex(v0_leaf_hex, want_leaf, 32);
    assert_memory_equal(leaf, want_leaf, 32);
    assert_int_equal(record_decode(want, wlen, &g_d), RECORD_OK);
    assert_record_equal(&g_r, &g_d);
    assert_ptr_equal(g_d.ext[0].data, want + 297 - 1 - 23);   /* borrowed */
}

static void
test_vector1(void **state)
{
    uint8_t want[400], leaf[32], want_leaf[32], seed[32], pk[32], sk[64];
    uint8_t msg[19 + 32], want_msg[64], kid[32];
    size_t wlen = rfx_hex(v1_hex, want, sizeof want), len = 0, signed_len;
    crypto_hash_sha256_state st;

    (void)state;
    assert_int_equal(wlen, 313);
    build_v1_unsigned(&g_r);
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_OK);
    signed_len = len - 1;                        /* drop att_count */
    memcpy(msg, "axr/v1/attestation\n", 19);
    crypto_hash_sha256(msg + 19, g_buf, signed_len);
    assert_int_equal(rfx_hex(v1_attmsg_hex, want_msg, sizeof want_msg), sizeof msg);
    assert_memory_equal(msg, want_msg, sizeof msg);

    tr_sha("anchors test human key alice", seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)ALICE_NAME "\n\x01", sizeof ALICE_NAME + 1);
    crypto_hash_sha256_update(&st, pk, 32);
    crypto_hash_sha256_final(&st, kid);
    g_r.att_count = 1;
    g_r.att[0].sig_type = RECORD_SIG_ED25519;
    memcpy(g_r.att[0].key_id, kid, 4);
    crypto_sign_detached(g_r.att[0].sig, NULL, msg, sizeof msg, sk);

    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_OK);
    assert_int_equal(len, 313);
    assert_memory_equal(g_buf, want, 313);
    assert_int_equal(record_leaf_hash(g_buf, len, leaf), RECORD_OK);
    rfx_hex(v1_leaf_hex, want_leaf, 32);
    assert_memory_equal(leaf, want_leaf, 32);
    assert_int_equal(record_decode(want, wlen, &g_d), RECORD_OK);
    assert_record_equal(&g_r, &g_d);
    assert_int_equal(crypto_sign_verify_detached(g_d.att[0].sig, msg, sizeof msg, pk), 0);
}

static void
test_two_leaf_root(void **state)
{
    struct merkle_hasher h = {0};
    uint8_t l0[32], l1[32], buf[400], root[32], want[32];
    size_t n;

    (void)state;
    n = rfx_hex(v0_hex, buf, sizeof buf);
    assert_int_equal(record_leaf_hash(buf, n, l0), RECORD_OK);
    n = rfx_hex(v1_hex, buf, sizeof buf);
    assert_int_equal(record_leaf_hash(buf, n, l1), RECORD_OK);
    assert_int_equal(merkle_hasher_init(&h), MERKLE_OK);
    assert_int_equal(merkle_leaf_hash(&h, buf, n, root), MERKLE_OK);
    assert_memory_equal(root, l1, 32);                 /* same function */
    assert_int_equal(merkle_node_hash(&h, l0, l1, root), MERKLE_OK);
    merkle_hasher_clear(&h);
    rfx_hex(root2_hex, want, 32);
    assert_memory_equal(root, want, 32);
}

static void
test_hash_vectors(void **state)
{
    uint8_t out[32], want[32];

    (void)state;
    /* golang/mod sumdb/tlog RecordHash("hello world") */
    assert_int_equal(record_leaf_hash((const uint8_t *)"hello world", 11, out), RECORD_OK);
    rfx_hex("4eccf34608d31bac5c7becf6006df59005d828181056d092084e341e6bb005bd", want, 32);
    assert_memory_equal(out, want, 32);
    /* transparency-dev rfc6962 leaf "L123456" */
    assert_int_equal(record_leaf_hash((const uint8_t *)"L123456", 7, out), RECORD_OK);
    rfx_hex("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56", want, 32);
    assert_memory_equal(out, want, 32);
    assert_int_equal(record_leaf_hash(NULL, 0, out), RECORD_OK);
    rfx_hex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", want, 32);
    assert_memory_equal(out, want, 32);
    assert_int_equal(record_commit(want, NULL, 0, out), RECORD_OK);
    assert_int_equal(record_commit(NULL, "x", 1, out), RECORD_ERR_INVAL);
    assert_int_equal(record_commit(want, NULL, 1, out), RECORD_ERR_INVAL);
    assert_int_equal(record_leaf_hash(NULL, 1, out), RECORD_ERR_INVAL);
}

/* ---- generated records ------------------------------------------------ */



static const uint8_t rtypes[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x10, 0x11, 0x12, 0x13,
                                   0x20, 0x21, 0x22 };
static uint8_t g_extdata[RECORD_EXT_MAX][300];


static void
rnd_str(struct record_str *s, unsigned min)
{
    unsigned pick = (unsigned)(rfx_rnd() % 4);

    s->len = (uint8_t)(pick == 0 ? min : pick == 1 ? 255 : min + rfx_rnd() % (256 - min));
    rfx_rnd_bytes(s->data, s->len);
}


static void
rnd_exts(struct record *r)
{
    unsigned i, n = (unsigned)(rfx_rnd() % 8 == 0 ? RECORD_EXT_MAX : rfx_rnd() % 4);
    uint16_t type = RECORD_EXT_CHECKPOINT_REF;        /* opaque types only */

    r->ext_count = n;
    for (i = 0; i < n; i++) {
        type = (uint16_t)(type + 1 + rfx_rnd() % 900);
        r->ext[i].type = type;
        r->ext[i].len = (uint16_t)(rfx_rnd() % 300);
        rfx_rnd_bytes(g_extdata[i], r->ext[i].len);
        r->ext[i].data = r->ext[i].len ? g_extdata[i] : NULL;
    }
}

static void
rnd_record(struct record *r)
{
    unsigned i;

    record_init(r);
    r->record_type = rtypes[rfx_rnd() % sizeof rtypes];
    r->index = rfx_rnd() % 3 ? rfx_rnd() % 1000 : rfx_rnd();
    r->time_ms = rfx_rnd();
    rnd_str(&r->item_id, 1);
    r->actor_type = (uint8_t)(1 + rfx_rnd() % 4);
    rnd_str(&r->actor_id, 1);
    rfx_rnd_bytes(r->input_commit, 32);
    rnd_str(&r->model_id, 0);
    rnd_str(&r->model_version, 0);
    rfx_rnd_bytes(r->model_digest, 32);
    rfx_rnd_bytes(r->features_commit, 32);
    r->score = rfx_rnd_f64();
    r->threshold = rfx_rnd_f64();
    rnd_str(&r->policy_id, 0);
    r->decision = (uint8_t)(rfx_rnd() % 6);
    r->reason_count = (uint8_t)(rfx_rnd() % 2 ? rfx_rnd() % 5 : rfx_rnd() % 256);
    for (i = 0; i < r->reason_count; i++)
        r->reason_codes[i] = (uint16_t)rfx_rnd();
    r->ref_index = rfx_rnd() % 2 ? RECORD_REF_NONE : rfx_rnd();
    rfx_rnd_bytes(r->ref_leaf_hash, 32);
    rfx_rnd_bytes(r->note_commit, 32);
    rnd_exts(r);
    r->att_count = (uint8_t)(rfx_rnd() % 4 ? rfx_rnd() % 3 : rfx_rnd() % 256);
    for (i = 0; i < r->att_count; i++) {
        r->att[i].sig_type = RECORD_SIG_ED25519;
        rfx_rnd_bytes(r->att[i].key_id, 4);
        rfx_rnd_bytes(r->att[i].sig, 64);
    }
}

static void
test_roundtrip(void **state)
{
    size_t len = 0, len2 = 0;
    unsigned i, big = 0;

    (void)state;
    for (i = 0; i < 3000; i++) {
        rnd_record(&g_r);
        assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_OK);
        assert_int_equal(len, record_encoded_len(&g_r));
        assert_true(len >= RECORD_MIN_LEN && len <= RECORD_LEAF_MAX);
        big += len > 10000;
        assert_int_equal(record_decode(g_buf, len, &g_d), RECORD_OK);
        if (g_r.score == 0.0)
            g_r.score = 0.0;                  /* -0 decodes as +0 */
        if (g_r.threshold == 0.0)
            g_r.threshold = 0.0;
        assert_record_equal(&g_r, &g_d);
        assert_false(signbit(g_d.score) && g_d.score == 0.0);
        assert_int_equal(record_encode(&g_d, g_buf2, sizeof g_buf2, &len2), RECORD_OK);
        assert_int_equal(len2, len);
        assert_memory_equal(g_buf, g_buf2, len);
    }
    assert_true(big > 0);                     /* large lists were covered */
}

/* Every proper prefix is TRUNCATED; deleting any one byte never decodes. */
static void
check_truncations(const uint8_t *buf, size_t len)
{
    size_t cut;

    for (cut = 0; cut < len; cut++) {
        assert_int_equal(record_decode(buf, cut, &g_d), RECORD_ERR_TRUNCATED);
        memcpy(g_buf2, buf, cut);
        memcpy(g_buf2 + cut, buf + cut + 1, len - cut - 1);
        assert_int_not_equal(record_decode(g_buf2, len - 1, &g_d), RECORD_OK);
    }
}

/* Random 1-4 byte mutations of the vectors: never a crash (ASan), and
 * whatever still decodes re-encodes to the identical bytes (canonical). */
static void
test_mutations(void **state)
{
    uint8_t v[2][400];
    size_t n[2], len = 0;
    unsigned i, k, which, ok = 0;

    (void)state;
    n[0] = rfx_hex(v0_hex, v[0], sizeof v[0]);
    n[1] = rfx_hex(v1_hex, v[1], sizeof v[1]);
    for (i = 0; i < 30000; i++) {
        which = i & 1;
        memcpy(g_buf2, v[which], n[which]);
        for (k = 0; k <= rfx_rnd() % 4; k++)
            g_buf2[rfx_rnd() % n[which]] = (uint8_t)rfx_rnd();
        if (record_decode(g_buf2, n[which], &g_d) != RECORD_OK)
            continue;
        ok++;
        assert_int_equal(record_encode(&g_d, g_buf, sizeof g_buf, &len), RECORD_OK);
        assert_int_equal(len, n[which]);
        assert_memory_equal(g_buf, g_buf2, len);
    }
    assert_true(ok > 0);
}

static void
test_truncation(void **state)
{
    uint8_t v[400];
    size_t n, len = 0;
    unsigned i;

    (void)state;
    n = rfx_hex(v0_hex, v, sizeof v);
    check_truncations(v, n);
    n = rfx_hex(v1_hex, v, sizeof v);
    check_truncations(v, n);
    for (i = 0; i < 40; i++) {
        rnd_record(&g_r);
        if (record_encoded_len(&g_r) > 3000)
            continue;
        assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_OK);
        check_truncations(g_buf, len);
    }
}

/* Byte offsets of vector 0's fields (from the format table). */
#define V0_TYPE      4
#define V0_ACTOR     (22 + 8)
#define V0_SCORE     (V0_ACTOR + 1 + 12 + 32 + 10 + 10 + 64)
#define V0_THRESH    (V0_SCORE + 8)
#define V0_DECISION  (V0_THRESH + 8 + 14)
#define V0_EXTLEN    (V0_DECISION + 1 + 5 + 8 + 64)
#define V0_EXT0LEN   (V0_EXTLEN + 4)
#define V1_SIGTYPE   (313 - 69)

static void
test_enum_flips(void **state)
{
    uint8_t v[400], v1[400];
    size_t n = rfx_hex(v0_hex, v, sizeof v), n1 = rfx_hex(v1_hex, v1, sizeof v1);
    unsigned i, bit, val;
    uint8_t save;

    (void)state;
    assert_int_equal(v[V0_DECISION], 0x03);
    assert_int_equal(v[V0_ACTOR], 0x02);
    assert_int_equal(v[V0_EXTLEN + 1], 0x1b);
    for (i = 0; i < 4; i++)
        for (bit = 0; bit < 8; bit++) {
            v[i] ^= (uint8_t)(1u << bit);
            assert_int_equal(record_decode(v, n, &g_d), RECORD_ERR_MAGIC);
            v[i] ^= (uint8_t)(1u << bit);
        }
    for (val = 0; val < 256; val++) {
        save = v[V0_TYPE];
        v[V0_TYPE] = (uint8_t)val;
        assert_int_equal(record_decode(v, n, &g_d),
                         memchr(rtypes, (int)val, sizeof rtypes) ? RECORD_OK : RECORD_ERR_RECORD_TYPE);
        v[V0_TYPE] = save;
        save = v[V0_ACTOR];
        v[V0_ACTOR] = (uint8_t)val;
        assert_int_equal(record_decode(v, n, &g_d),
                         val >= 1 && val <= 4 ? RECORD_OK : RECORD_ERR_ACTOR_TYPE);
        v[V0_ACTOR] = save;
        save = v[V0_DECISION];
        v[V0_DECISION] = (uint8_t)val;
        assert_int_equal(record_decode(v, n, &g_d), val <= 5 ? RECORD_OK : RECORD_ERR_DECISION);
        v[V0_DECISION] = save;
        v1[V1_SIGTYPE] = (uint8_t)val;
        assert_int_equal(record_decode(v1, n1, &g_d), val == 1 ? RECORD_OK : RECORD_ERR_SIG_TYPE);
    }
    assert_int_equal(record_decode(v, n, &g_d), RECORD_OK);
}

static void
put_be64(uint8_t *p, uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void
test_noncanonical_floats(void **state)
{
    static const uint64_t bad[] = {
        UINT64_C(0x7ff8000000000000), UINT64_C(0x7ff0000000000001),
        UINT64_C(0xfff8000000000000), UINT64_C(0x7fffffffffffffff),
        UINT64_C(0x7ff0000000000000), UINT64_C(0xfff0000000000000),
    };
    uint8_t v[400], orig[8];
    size_t n = rfx_hex(v0_hex, v, sizeof v), i;
    unsigned f, off;

    (void)state;
    for (f = 0; f < 2; f++) {
        off = f ? V0_THRESH : V0_SCORE;
        memcpy(orig, v + off, 8);
        put_be64(v + off, UINT64_C(0x8000000000000000));
        assert_int_equal(record_decode(v, n, &g_d), RECORD_ERR_NEG_ZERO);
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            put_be64(v + off, bad[i]);
            assert_int_equal(record_decode(v, n, &g_d), RECORD_ERR_FLOAT);
        }
        put_be64(v + off, 0);                          /* +0 fine */
        assert_int_equal(record_decode(v, n, &g_d), RECORD_OK);
        put_be64(v + off, UINT64_C(0x8000000000000001)); /* -denormal fine */
        assert_int_equal(record_decode(v, n, &g_d), RECORD_OK);
        memcpy(v + off, orig, 8);
    }
}

static void
test_lengths_and_trailing(void **state)
{
    uint8_t v[400];
    size_t n = rfx_hex(v0_hex, v, sizeof v);

    (void)state;
    v[n] = 0x00;                                           /* trailing */
    assert_int_equal(record_decode(v, n + 1, &g_d), RECORD_ERR_TRAILING);
    v[n] = 0xff;
    assert_int_equal(record_decode(v, n + 1, &g_d), RECORD_ERR_TRAILING);
    v[V0_EXTLEN + 1]++;                                    /* ext_len + 1 */
    assert_int_equal(record_decode(v, n, &g_d), RECORD_ERR_EXT_LEN);
    v[V0_EXTLEN + 1] -= 2;                                 /* ext_len - 1 */
    assert_int_equal(record_decode(v, n, &g_d), RECORD_ERR_EXT_LEN);
    v[V0_EXTLEN + 1]++;
    v[V0_EXTLEN] = 0xff;                                   /* ext_len huge */
    assert_int_equal(record_decode(v, n, &g_d), RECORD_ERR_TRUNCATED);
    v[V0_EXTLEN] = 0;
    v[V0_EXT0LEN + 1]++;                                   /* element len + 1 */
    assert_int_equal(record_decode(v, n, &g_d), RECORD_ERR_EXT_LEN);
    v[V0_EXT0LEN + 1]--;
    v[21] = 0xff;                                          /* item_id len */
    assert_int_not_equal(record_decode(v, n, &g_d), RECORD_OK);
    v[21] = 0x08;
    v[V0_DECISION + 1] = 0xff;                             /* reason_count */
    assert_int_not_equal(record_decode(v, n, &g_d), RECORD_OK);
    v[V0_DECISION + 1] = 0x02;
    v[n - 1] = 1;                                          /* att_count 1, no att */
    assert_int_equal(record_decode(v, n, &g_d), RECORD_ERR_TRUNCATED);
    v[n - 1] = 0;
    assert_int_equal(record_decode(v, n, &g_d), RECORD_OK);
    assert_int_equal(record_decode(g_buf, RECORD_LEAF_MAX + 1, &g_d), RECORD_ERR_TOO_LARGE);
    assert_int_equal(record_decode(NULL, 0, &g_d), RECORD_ERR_TRUNCATED);
    assert_int_equal(record_decode(NULL, 5, &g_d), RECORD_ERR_INVAL);
    assert_int_equal(record_decode(v, n, NULL), RECORD_ERR_INVAL);
}

/* Empty item_id / actor_id on the wire: splice the id bytes out. */
static void
test_empty_ids(void **state)
{
    size_t len = 0;

    (void)state;
    build_v0(&g_r);
    tr_str(&g_r.item_id, "X");
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_OK);
    g_buf[21] = 0;
    memmove(g_buf + 22, g_buf + 23, len - 23);
    assert_int_equal(record_decode(g_buf, len - 1, &g_d), RECORD_ERR_EMPTY_ID);
    tr_str(&g_r.item_id, "INV-1001");
    tr_str(&g_r.actor_id, "Y");
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_OK);
    g_buf[V0_ACTOR + 1] = 0;
    memmove(g_buf + V0_ACTOR + 2, g_buf + V0_ACTOR + 3, len - V0_ACTOR - 3);
    assert_int_equal(record_decode(g_buf, len - 1, &g_d), RECORD_ERR_EMPTY_ID);
    g_r.actor_id.len = 0;
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_ERR_EMPTY_ID);
}

/* Replace vector 0's extension list with `list` (n bytes). */
static size_t
v0_with_exts(const uint8_t *list, size_t n)
{
    uint8_t v[400];
    size_t vn = rfx_hex(v0_hex, v, sizeof v), head = V0_EXTLEN;

    memcpy(g_buf, v, head);
    g_buf[head] = (uint8_t)(n >> 8);
    g_buf[head + 1] = (uint8_t)n;
    if (n > 0)
        memcpy(g_buf + head + 2, list, n);
    g_buf[head + 2 + n] = 0;                               /* att_count */
    assert_int_equal(vn, head + 2 + 27 + 1);
    return head + 2 + n + 1;
}

static void
test_ext_rules(void **state)
{
    static const uint8_t swapped[] = { 0x80, 3, 0, 1, 'a', 0x80, 2, 0, 0 };
    static const uint8_t dup[] = { 0, 0x40, 0, 0, 0, 0x40, 0, 1, 'b' };
    static const uint8_t ok[] = { 0, 0x40, 0, 0, 0x80, 0, 0, 1, 'z', 0xff, 0xff, 0, 0 };
    static const uint8_t partial[] = { 0x80, 2, 0, 0, 0x80, 3, 0 };
    uint8_t list[5 * 4 * 65];
    size_t i, n, len;

    (void)state;
    assert_int_equal(record_decode(g_buf, v0_with_exts(swapped, sizeof swapped), &g_d),
                     RECORD_ERR_EXT_ORDER);
    assert_int_equal(record_decode(g_buf, v0_with_exts(dup, sizeof dup), &g_d),
                     RECORD_ERR_EXT_ORDER);
    assert_int_equal(record_decode(g_buf, v0_with_exts(partial, sizeof partial), &g_d),
                     RECORD_ERR_EXT_LEN);
    assert_int_equal(record_decode(g_buf, v0_with_exts(ok, sizeof ok), &g_d), RECORD_OK);
    assert_int_equal(g_d.ext_count, 3);
    assert_null(g_d.ext[0].data);
    assert_int_equal(g_d.ext[2].type, 0xffff);
    assert_int_equal(record_decode(g_buf, v0_with_exts(NULL, 0), &g_d), RECORD_OK);
    assert_int_equal(g_d.ext_count, 0);
    for (n = 0, i = 0; i < RECORD_EXT_MAX + 1; i++, n += 4) {
        list[n] = 1;                                     /* 0x0101.. opaque */
        list[n + 1] = (uint8_t)(i + 1);
        list[n + 2] = list[n + 3] = 0;
    }
    assert_int_equal(record_decode(g_buf, v0_with_exts(list, n - 4), &g_d), RECORD_OK);
    assert_int_equal(g_d.ext_count, RECORD_EXT_MAX);
    assert_int_equal(record_decode(g_buf, v0_with_exts(list, n), &g_d), RECORD_ERR_EXT_COUNT);

    build_v0(&g_r);                                       /* encoder side */
    g_r.ext_count = 2;
    g_r.ext[1] = g_r.ext[0];
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_ERR_EXT_ORDER);
    g_r.ext[1].type = 1;
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_ERR_EXT_ORDER);
    g_r.ext[1].type = 3;
    g_r.ext[1].data = NULL;
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_ERR_INVAL);
    g_r.ext_count = RECORD_EXT_MAX + 1;
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_ERR_EXT_COUNT);
    assert_int_equal(record_encoded_len(&g_r), 0);
}



static void
test_known_exts(void **state)
{
    uint8_t data[300], list[310];
    size_t i, n, len = 0;
    const struct rfx_ext_case *c;

    (void)state;
    for (i = 0; i < rfx_n_ext_cases; i++) {
        c = &rfx_ext_cases[i];
        memset(data, 0x5a, c->len);                    /* fixed-size prefix */
        n = c->len + rfx_hex(c->hex, data + c->len, sizeof data - c->len);
        list[0] = (uint8_t)(c->type >> 8);
        list[1] = (uint8_t)c->type;
        list[2] = (uint8_t)(n >> 8);
        list[3] = (uint8_t)n;
        memcpy(list + 4, data, n);
        assert_int_equal(record_decode(g_buf, v0_with_exts(list, n + 4), &g_d), c->want);
        build_v0(&g_r);
        g_r.ext[0].type = c->type;
        g_r.ext[0].len = (uint16_t)n;
        g_r.ext[0].data = data;
        assert_int_equal(record_encode(&g_r, g_buf2, sizeof g_buf2, &len), c->want);
        if (c->want == RECORD_OK) {
            assert_int_equal(record_decode(g_buf2, len, &g_d), RECORD_OK);
            assert_record_equal(&g_r, &g_d);
        }
    }
}

static void
test_encode_errors(void **state)
{
    static uint8_t big[40000];
    size_t len = 0;

    (void)state;
    build_v0(&g_r);
    assert_int_equal(record_encode(&g_r, g_buf, 296, &len), RECORD_ERR_BUFFER);
    assert_int_equal(record_encode(&g_r, NULL, 0, &len), RECORD_ERR_BUFFER);
    assert_int_equal(record_encode(&g_r, g_buf, 297, &len), RECORD_OK);
    assert_int_equal(record_encode(NULL, g_buf, 297, &len), RECORD_ERR_INVAL);
    assert_int_equal(record_encode(&g_r, g_buf, 297, NULL), RECORD_ERR_INVAL);
    g_r.record_type = 0x06;
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_ERR_RECORD_TYPE);
    g_r.record_type = RECORD_GENESIS;
    g_r.actor_type = 0;
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_ERR_ACTOR_TYPE);
    g_r.actor_type = RECORD_ACTOR_SYSTEM;
    g_r.decision = 6;
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_ERR_DECISION);
    g_r.decision = RECORD_DEC_NONE;
    g_r.score = NAN;
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_ERR_FLOAT);
    g_r.score = -0.0;
    g_r.threshold = -INFINITY;
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_ERR_FLOAT);
    g_r.threshold = -0.0;
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_OK);
    assert_int_equal(record_decode(g_buf, len, &g_d), RECORD_OK);   /* -0 -> +0 */
    assert_false(signbit(g_d.score) || signbit(g_d.threshold));
    g_r.att_count = 1;
    g_r.att[0].sig_type = 2;
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_ERR_SIG_TYPE);
    g_r.att[0].sig_type = RECORD_SIG_ED25519;
    g_r.ext_count = 2;                                   /* list > 65535 */
    g_r.ext[0].type = 0x8000;
    g_r.ext[0].len = g_r.ext[1].len = 33000;
    g_r.ext[0].data = g_r.ext[1].data = big;
    g_r.ext[1].type = 0x9000;
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_ERR_EXT_LEN);
    g_r.ext[1].len = 32300;                              /* list fits, leaf does not */
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_ERR_TOO_LARGE);
    g_r.ext[1].len = (uint16_t)(RECORD_LEAF_MAX - (297 - 23 + 33000 + 4 + 69));
    assert_int_equal(record_encode(&g_r, g_buf, sizeof g_buf, &len), RECORD_OK);
    assert_int_equal(len, RECORD_LEAF_MAX);              /* exactly at the limit */
    assert_int_equal(record_decode(g_buf, len, &g_d), RECORD_OK);
}

static void
test_sequence(void **state)
{
    struct record *prev = &g_d;

    (void)state;
    build_v0(prev);
    build_v1_unsigned(&g_r);
    assert_int_equal(record_check_sequence(NULL, prev, 0), RECORD_OK);
    assert_int_equal(record_check_sequence(prev, &g_r, 1), RECORD_OK);
    assert_int_equal(record_check_sequence(prev, &g_r, 2), RECORD_ERR_INDEX);
    g_r.time_ms = prev->time_ms;
    assert_int_equal(record_check_sequence(prev, &g_r, 1), RECORD_OK);
    g_r.time_ms = prev->time_ms - 1;
    assert_int_equal(record_check_sequence(prev, &g_r, 1), RECORD_ERR_TIME);
    g_r.time_ms = prev->time_ms;
    g_r.record_type = RECORD_GENESIS;
    assert_int_equal(record_check_sequence(prev, &g_r, 1), RECORD_ERR_GENESIS);
    prev->record_type = RECORD_GENESIS;
    assert_int_equal(record_check_sequence(NULL, prev, 0), RECORD_OK);
    assert_int_equal(record_check_sequence(NULL, NULL, 0), RECORD_ERR_INVAL);
}

static void
test_strerror(void **state)
{
    const char *unknown = record_strerror(12345);
    int c, d;

    (void)state;
    assert_non_null(unknown);
    for (c = RECORD_OK; c >= RECORD_ERR_EXT_BODY; c--) {
        assert_non_null(record_strerror(c));
        assert_string_not_equal(record_strerror(c), unknown);
        for (d = c - 1; d >= RECORD_ERR_EXT_BODY; d--)
            assert_string_not_equal(record_strerror(c), record_strerror(d));
    }
    assert_string_equal(record_strerror(RECORD_ERR_EXT_BODY - 1), unknown);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector0),
        cmocka_unit_test(test_vector1),
        cmocka_unit_test(test_two_leaf_root),
        cmocka_unit_test(test_hash_vectors),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_enum_flips),
        cmocka_unit_test(test_noncanonical_floats),
        cmocka_unit_test(test_lengths_and_trailing),
        cmocka_unit_test(test_empty_ids),
        cmocka_unit_test(test_ext_rules),
        cmocka_unit_test(test_known_exts),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_sequence),
        cmocka_unit_test(test_strerror),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
