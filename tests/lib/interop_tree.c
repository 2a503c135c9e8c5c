/*
 * interop_tree.c - the tree of 1000 AXR1 records, the signers and the
 * artifacts over them for the interop tests (interop_tree.h).
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

#include "interop_tree.h"
#include "proof.h"
#include "record.h"

/* ---- a tree of INTEROP_NLEAVES AXR1 records ------------------------------ */

struct merkle_hasher interop_hasher;
uint8_t *interop_leaf[INTEROP_NLEAVES];          /* encoded records */
size_t interop_leaf_len[INTEROP_NLEAVES];
static uint8_t g_lhash[INTEROP_NLEAVES][32];
static uint8_t (*g_nodes[MERKLE_MAX_LEVELS])[32];   /* [level][index] */
struct note_signer interop_log1, interop_log2, interop_other, interop_alien;
char interop_vkey1[NOTE_VKEY_MAX + 1], interop_vkey2[NOTE_VKEY_MAX + 1];

char interop_note[4096], interop_note2[4096], interop_proof[8192];

static int
store_cb(void *arg, unsigned level, uint64_t index, const uint8_t hash[32])
{
    (void)arg;
    if (level >= MERKLE_MAX_LEVELS || g_nodes[level] == NULL ||
        index > (INTEROP_NLEAVES >> level))
        return -1;
    memcpy(g_nodes[level][index], hash, 32);
    return 0;
}

int
interop_get_cb(void *arg, unsigned level, uint64_t index, uint8_t out[32])
{
    (void)arg;
    if (level >= MERKLE_MAX_LEVELS || g_nodes[level] == NULL ||
        index >= (INTEROP_NLEAVES >> level))
        return -1;
    memcpy(out, g_nodes[level][index], 32);
    return 0;
}

void
interop_sha(const char *s, uint8_t out[32])
{
    crypto_hash_sha256(out, (const uint8_t *)s, strlen(s));
}

static void
rstr(struct record_str *s, const char *v)
{
    s->len = (uint8_t)strlen(v);
    memcpy(s->data, v, s->len);
}

/* Record i of the test log: GENESIS, then a mix of model decisions,
 * escalations and human decisions referring back to them. */
static int
build_record(uint64_t i, struct record *r, uint8_t *ext_buf, size_t ext_cap)
{
    char buf[64];
    uint8_t salt[32];
    size_t ne = 0;

    record_init(r);
    r->index = i;
    r->time_ms = 1700000000000ull + i * 7u;
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)(i / 3));
    rstr(&r->item_id, i == 0 ? "0" : buf);
    if (i == 0) {
        r->record_type = RECORD_GENESIS;
        r->actor_type = RECORD_ACTOR_SYSTEM;
        rstr(&r->actor_id, "hitlqd");
        r->decision = RECORD_DEC_NONE;
        return 0;
    }
    snprintf(buf, sizeof buf, "interop salt %llu", (unsigned long long)i);
    interop_sha(buf, salt);
    snprintf(buf, sizeof buf, "{\"amount\":%llu}", (unsigned long long)(i * 37u));
    if (record_commit(salt, buf, strlen(buf), r->input_commit) != RECORD_OK)
        return -1;
    rstr(&r->model_id, "credit-scorecard");
    rstr(&r->model_version, "2025.1");
    interop_sha("interop model artifact", r->model_digest);
    r->score = (double)(i % 100) / 100.0;
    r->threshold = 0.7;
    rstr(&r->policy_id, "credit_application@1");
    r->reason_count = 2;
    r->reason_codes[0] = (uint16_t)(1 + i % 9);
    r->reason_codes[1] = (uint16_t)(10 + i % 5);
    if (i % 3 == 2) {                              /* a human decides */
        r->record_type = (i % 6 == 2) ? RECORD_HUMAN_DECISION : RECORD_HUMAN_OVERRIDE;
        r->actor_type = RECORD_ACTOR_HUMAN;
        rstr(&r->actor_id, "alice");
        r->decision = (i % 6 == 2) ? RECORD_DEC_APPROVE : RECORD_DEC_REJECT;
        r->ref_index = i - 1;
        memcpy(r->ref_leaf_hash, g_lhash[i - 1], 32);
        interop_sha("a note", r->note_commit);
        return 0;
    }
    r->actor_type = RECORD_ACTOR_MODEL;
    rstr(&r->actor_id, "model:credit-scorecard@2025.1");
    if (r->score >= r->threshold && i % 3 == 0) {
        r->record_type = RECORD_AUTO_DECISION;
        r->decision = RECORD_DEC_APPROVE;
    } else {
        /* QUEUE_REF: opaque queue<1..255>; u8 priority; u64 sla_deadline_ms */
        static const char q[] = "credit_review";
        uint64_t dl = r->time_ms + 4u * 3600u * 1000u;
        size_t n = 0;
        if (ext_cap < 1 + sizeof q - 1 + 1 + 8)
            return -1;
        ext_buf[n++] = (uint8_t)(sizeof q - 1);
        memcpy(ext_buf + n, q, sizeof q - 1);
        n += sizeof q - 1;
        ext_buf[n++] = 100;
        for (int b = 7; b >= 0; b--)
            ext_buf[n++] = (uint8_t)(dl >> (8 * b));
        r->record_type = RECORD_ESCALATION;
        r->decision = RECORD_DEC_ESCALATE;
        r->ext[ne].type = RECORD_EXT_QUEUE_REF;
        r->ext[ne].len = (uint16_t)n;
        r->ext[ne].data = ext_buf;
        ne++;
    }
    r->ext_count = ne;
    return 0;
}

static int
signer(struct note_signer *s, const char *name, const char *seed_label)
{
    uint8_t seed[32];
    int rc;

    interop_sha(seed_label, seed);
    rc = note_signer_init(s, name, strlen(name), NOTE_SIGTYPE_ED25519, seed);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

int
interop_tree_setup(void **state)
{
    static struct record r;
    static uint8_t enc[RECORD_LEAF_MAX];
    struct merkle_tree t;
    uint8_t ext[64];
    size_t len;

    (void)state;
    if (interop_go_setup(state) != 0 || merkle_hasher_init(&interop_hasher) != MERKLE_OK)
        return -1;
    for (unsigned l = 0; l < MERKLE_MAX_LEVELS && (INTEROP_NLEAVES >> l) > 0; l++)
        if ((g_nodes[l] = calloc((INTEROP_NLEAVES >> l) + 1, 32)) == NULL)
            return -1;
    merkle_tree_init(&t);
    for (uint64_t i = 0; i < INTEROP_NLEAVES; i++) {
        if (build_record(i, &r, ext, sizeof ext) != 0 ||
            record_encode(&r, enc, sizeof enc, &len) != RECORD_OK ||
            (interop_leaf[i] = malloc(len)) == NULL)
            return -1;
        memcpy(interop_leaf[i], enc, len);
        interop_leaf_len[i] = len;
        if (record_leaf_hash(enc, len, g_lhash[i]) != RECORD_OK ||
            merkle_tree_append(&t, &interop_hasher, g_lhash[i], store_cb, NULL) != MERKLE_OK)
            return -1;
    }
    if (signer(&interop_log1, INTEROP_ORIGIN, "hitlq interop test log key 1") != NOTE_OK ||
        signer(&interop_log2, INTEROP_ORIGIN, "hitlq interop test log key 2") != NOTE_OK ||
        signer(&interop_other, INTEROP_ORIGIN, "hitlq interop attacker key, same name") !=
            NOTE_OK ||
        signer(&interop_alien, "other.example/log", "hitlq interop other log") != NOTE_OK ||
        note_vkey_format(&interop_log1.pub, interop_vkey1, sizeof interop_vkey1, &len) != NOTE_OK ||
        note_vkey_format(&interop_log2.pub, interop_vkey2, sizeof interop_vkey2, &len) != NOTE_OK)
        return -1;
    return 0;
}

int
interop_tree_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < INTEROP_NLEAVES; i++)
        free(interop_leaf[i]);
    for (unsigned l = 0; l < MERKLE_MAX_LEVELS; l++)
        free(g_nodes[l]);
    note_signer_clear(&interop_log1);
    note_signer_clear(&interop_log2);
    note_signer_clear(&interop_other);
    note_signer_clear(&interop_alien);
    merkle_hasher_clear(&interop_hasher);
    return interop_go_teardown(state);
}

/* ---- artifacts --------------------------------------------------------- */

void
interop_root_at(uint64_t size, uint8_t out[32])
{
    if (size == 0)
        assert_int_equal(merkle_empty_root(&interop_hasher, out), MERKLE_OK);
    else
        assert_int_equal(merkle_root_at(&interop_hasher, size, interop_get_cb, NULL, out),
                         MERKLE_OK);
}

/* Signed checkpoint of `size` (root: the tree's, or `root` if not NULL). */
size_t
interop_checkpoint(uint64_t size, const uint8_t *root, const char *origin,
                   const struct note_signer *const *ss, size_t nss, char *out, size_t cap)
{
    char text[512];
    uint8_t r[32];
    size_t tlen, len;

    if (root == NULL) {
        interop_root_at(size, r);
        root = r;
    }
    assert_int_equal(note_checkpoint_format(origin, strlen(origin), size, root,
                                            text, sizeof text, &tlen), NOTE_OK);
    assert_int_equal(note_sign(text, tlen, ss, nss, out, cap, &len), NOTE_OK);
    return len;
}

size_t
interop_checkpoint1(uint64_t size, char *out, size_t cap)
{
    const struct note_signer *ss[] = { &interop_log1 };
    return interop_checkpoint(size, NULL, INTEROP_ORIGIN, ss, 1, out, cap);
}

/* tlog-proof@v1 text for leaf `index` in the checkpoint note[0..nlen). */
size_t
interop_receipt(uint64_t index, uint64_t size, const char *note, size_t nlen,
                char *out, size_t cap)
{
    uint8_t proof[MERKLE_MAX_PROOF][32];
    size_t n, len;

    assert_int_equal(
        merkle_inclusion_proof(&interop_hasher, size, index, interop_get_cb, NULL, proof, &n),
        MERKLE_OK);
    assert_int_equal(tlog_proof_format(index, (const uint8_t (*)[32])proof, n,
                                       note, nlen, out, cap, &len), PROOF_OK);
    return len;
}

/* Consistency proof size1 -> size2 as base64 lines. */
size_t
interop_consistency_text(uint64_t size1, uint64_t size2, char *out, size_t cap)
{
    uint8_t proof[MERKLE_MAX_PROOF][32];
    size_t n = 0, len = 0;

    if (size1 > 0)
        assert_int_equal(merkle_consistency_proof(&interop_hasher, size1, size2, interop_get_cb,
                                                  NULL, proof, &n),
                         MERKLE_OK);
    for (size_t i = 0; i < n; i++) {
        assert_true(cap - len > 46);
        sodium_bin2base64(out + len, cap - len, proof[i], 32, INTEROP_B64);
        len += 44;
        out[len++] = '\n';
    }
    out[len] = '\0';
    return len;
}
