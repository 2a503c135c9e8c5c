/*
 * audit_gen.c - builds audit logs for tests/unit/test_audit_tool.c (see
 * audit_gen.h): a GENESIS entry, then a repeating pattern of ESCALATION
 * (model entry, QUEUE_REF + TOP_FEATURES), HUMAN_DECISION or
 * HUMAN_OVERRIDE resolving it (ref + OUTCOME) and AUTO_DECISION
 * (SUBMISSION), about 300 bytes each, as hitlqd fills them
 * (proto/AUDIT-FORMAT.md §9); extension bodies are written with the
 * encoders of proto/record_ext.h.  Keys and seeds are test-only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aud.h"
#include "audit_gen.h"
#include "record.h"

#define GEN_T0 1750000000000ull          /* 2025-06-15, ms */

static void
gen_str(struct record_str *s, const char *v)
{
    s->len = (uint8_t)strlen(v);
    memcpy(s->data, v, s->len);
}

/* s as an extension body field. */
static struct record_ext_bytes
gen_bytes(const char *s)
{
    return (struct record_ext_bytes){ (const uint8_t *)s, strlen(s) };
}

/* Extension bodies of one entry, kept beside it while it is encoded. */
struct gen_ext {
    uint8_t a[512], b[512];
};

/* ESCALATION by the model: TOP_FEATURES + QUEUE_REF. */
static void
gen_model_entry(struct record *r, struct gen_ext *x, uint64_t i)
{
    static const char *const feats[] = { "amount_z", "vendor_age_days", "country_risk" };
    struct record_ext_top_features tf = { .n = 3 };
    struct record_ext_queue_ref q = {
        .queue = gen_bytes("credit_review"), .priority = 100,
        .sla_deadline_ms = GEN_T0 + i * 1000 + 3600000,
    };
    size_t n = 0;

    r->record_type = RECORD_ESCALATION;
    r->actor_type = RECORD_ACTOR_MODEL;
    gen_str(&r->actor_id, "model:fraud-gbm@2025.06.1");
    r->score = 0.5 + (double)(i % 40) / 100.0;
    r->decision = RECORD_DEC_ESCALATE;
    r->reason_count = 2;
    r->reason_codes[0] = 0x0101;
    r->reason_codes[1] = (uint16_t)(0x0200 + i % 7);
    for (size_t k = 0; k < 3; k++)
        tf.f[k] = (struct record_ext_feature){ gen_bytes(feats[k]), 0.0,
                                               0.25 - 0.1 * (double)k };
    assert_int_equal(record_ext_top_features_encode(&tf, x->a, sizeof(x->a), &n), RECORD_OK);
    r->ext[0] = (struct record_ext){ RECORD_EXT_TOP_FEATURES, (uint16_t)n, x->a };
    assert_int_equal(record_ext_queue_ref_encode(&q, x->b, sizeof(x->b), &n), RECORD_OK);
    r->ext[1] = (struct record_ext){ RECORD_EXT_QUEUE_REF, (uint16_t)n, x->b };
    r->ext_count = 2;
}

/* HUMAN_DECISION / HUMAN_OVERRIDE resolving entry i - 1: OUTCOME. */
static void
gen_human_entry(struct record *r, struct gen_ext *x, uint64_t i,
                const uint8_t ref_leaf[32], const char *who)
{
    bool override = i % 7 == 5;
    struct record_ext_outcome oc = {
        .outcome = gen_bytes(override ? "reject" : "approve"),
        .recommendation = gen_bytes("review"),
        .agreement = override ? RECORD_AGREE_OVERRODE : RECORD_AGREE_AGREED,
    };
    size_t n = 0;

    r->record_type = override ? RECORD_HUMAN_OVERRIDE : RECORD_HUMAN_DECISION;
    r->actor_type = RECORD_ACTOR_HUMAN;
    gen_str(&r->actor_id, who);
    r->decision = override ? RECORD_DEC_REJECT : RECORD_DEC_APPROVE;
    r->ref_index = i - 1;
    memcpy(r->ref_leaf_hash, ref_leaf, 32);
    memset(r->note_commit, 0x5a, 32);
    assert_int_equal(record_ext_outcome_encode(&oc, x->a, sizeof(x->a), &n), RECORD_OK);
    r->ext[0] = (struct record_ext){ RECORD_EXT_OUTCOME, (uint16_t)n, x->a };
    r->ext_count = 1;
}

/* AUTO_DECISION APPROVE with SUBMISSION. */
static void
gen_auto_entry(struct record *r, struct gen_ext *x, uint64_t i)
{
    char req[32];
    struct record_ext_submission sub = {
        .bot_id = gen_bytes("bot-7"), .submitted_ms = GEN_T0 + i * 1000 - 5,
    };
    size_t n = 0;

    r->record_type = RECORD_AUTO_DECISION;
    r->actor_type = RECORD_ACTOR_MODEL;
    gen_str(&r->actor_id, "model:fraud-gbm@2025.06.1");
    r->score = 0.95;
    r->decision = RECORD_DEC_APPROVE;
    snprintf(req, sizeof(req), "req-%llu", (unsigned long long)i);
    sub.request_id = gen_bytes(req);
    assert_int_equal(record_ext_submission_encode(&sub, x->a, sizeof(x->a), &n), RECORD_OK);
    r->ext[0] = (struct record_ext){ RECORD_EXT_SUBMISSION, (uint16_t)n, x->a };
    r->ext_count = 1;
}

/* Fields shared by every non-genesis entry. */
static void
gen_common(struct record *r, uint64_t i)
{
    char item[32];

    snprintf(item, sizeof(item), "%llu",
             (unsigned long long)(i % 3 == 2 ? i - 1 : i));
    gen_str(&r->item_id, item);
    memset(r->input_commit, (int)(i & 0xff), 32);
    gen_str(&r->model_id, "fraud-gbm");
    gen_str(&r->model_version, "2025.06.1");
    memset(r->model_digest, 0x8a, 32);
    r->threshold = 0.7;
    gen_str(&r->policy_id, "credit@3");
}

/* Encodes entry i of l (leaves before it are known). */
static void
gen_entry(struct gen_log *l, uint64_t i, const struct gen_opts *o, uint8_t *out,
          size_t *len)
{
    struct record *r = malloc(sizeof(*r));
    struct gen_ext x;
    uint8_t bad[32];
    bool alt = i >= o->diverge_at;

    assert_non_null(r);
    record_init(r);
    r->index = i;
    r->time_ms = GEN_T0 + i * 1000;
    if (i == 0) {
        r->record_type = RECORD_GENESIS;
        r->actor_type = RECORD_ACTOR_SYSTEM;
        gen_str(&r->item_id, "0");
        gen_str(&r->actor_id, "hitlqd");
    } else {
        gen_common(r, i);
        if (i % 3 == 1)
            gen_model_entry(r, &x, i);
        else if (i % 3 == 2) {
            memcpy(bad, l->leaf[i - 1], 32);
            bad[0] ^= (i == o->bad_ref_at);
            gen_human_entry(r, &x, i, bad, alt ? "mallory" : "alice");
        } else
            gen_auto_entry(r, &x, i);
    }
    if (alt && i % 3 != 2)
        gen_str(&r->actor_id, "mallory");
    assert_int_equal(record_encode(r, out, RECORD_LEAF_MAX, len), RECORD_OK);
    free(r);
}

void
gen_log_build(struct gen_log *l, size_t n, const struct gen_opts *o)
{
    struct merkle_hasher h;
    size_t total = 0, len;

    memset(l, 0, sizeof(*l));
    l->n = n;
    l->buf = malloc(n * 1024 + 1);
    l->off = malloc((n + 1) * sizeof(size_t));
    l->len = malloc((n + 1) * sizeof(size_t));
    l->leaf = malloc((n + 1) * 32);
    assert_true(l->buf && l->off && l->len && l->leaf);
    assert_int_equal(merkle_hasher_init(&h), MERKLE_OK);
    for (size_t i = 0; i < n; i++) {
        gen_entry(l, i, o, l->buf + total, &len);
        assert_true(len < 1024);
        l->off[i] = total;
        l->len[i] = len;
        assert_int_equal(merkle_leaf_hash(&h, l->buf + total, len, l->leaf[i]),
                         MERKLE_OK);
        total += len;
    }
    merkle_hasher_clear(&h);
}

void
gen_log_free(struct gen_log *l)
{
    free(l->buf);
    free(l->off);
    free(l->len);
    free(l->leaf);
    memset(l, 0, sizeof(*l));
}

void
gen_signer(struct note_signer *s, const char *name, uint8_t seed_byte)
{
    uint8_t seed[NOTE_SEED_LEN];

    for (size_t i = 0; i < sizeof(seed); i++)
        seed[i] = (uint8_t)(seed_byte + i * 13);
    assert_int_equal(note_signer_init(s, name, strlen(name), NOTE_SIGTYPE_ED25519,
                                      seed), NOTE_OK);
}

void
gen_vkey(const struct note_signer *s, char *out)
{
    size_t n;

    assert_int_equal(note_vkey_format(&s->pub, out, NOTE_VKEY_MAX + 1, &n), NOTE_OK);
}

void
gen_root(const struct gen_log *l, size_t m, uint8_t root[32])
{
    struct merkle_hasher h;

    assert_int_equal(merkle_hasher_init(&h), MERKLE_OK);
    assert_int_equal(merkle_root_compute(&h, (const uint8_t (*)[32])l->leaf, m, root),
                     MERKLE_OK);
    merkle_hasher_clear(&h);
}

char *
gen_checkpoint(const struct gen_log *l, size_t m, const struct note_signer *s,
               size_t *len)
{
    const struct note_signer *ss[1] = { s };
    char text[512], *note = malloc(4096);
    uint8_t root[32];
    size_t tlen;

    assert_non_null(note);
    gen_root(l, m, root);
    assert_int_equal(note_checkpoint_format(s->pub.name, s->pub.name_len, m, root,
                                            text, sizeof(text), &tlen), NOTE_OK);
    assert_int_equal(note_sign(text, tlen, ss, 1, note, 4096, len), NOTE_OK);
    return note;
}

void
gen_write_file(const char *path, const void *data, size_t len)
{
    FILE *f;

    assert_int_equal(aud_mkdirs_for(path), 0);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

void
gen_export(const struct gen_log *l, size_t m, const char *dir, const char *note,
           size_t note_len)
{
    struct aud_tilewriter *w = malloc(sizeof(*w));
    struct merkle_hasher h;
    struct aud_result r;
    char path[AUD_PATH_MAX];

    assert_non_null(w);
    assert_int_equal(merkle_hasher_init(&h), MERKLE_OK);
    aud_tilewriter_init(w, dir, &h);
    for (size_t i = 0; i < m; i++)
        assert_int_equal(aud_tilewriter_add(w, l->buf + l->off[i], l->len[i],
                                            l->leaf[i], &r), AUD_OK);
    assert_int_equal(aud_tilewriter_finish(w, &r), AUD_OK);
    aud_tilewriter_clear(w);
    free(w);
    merkle_hasher_clear(&h);
    snprintf(path, sizeof(path), "%s/checkpoint", dir);
    gen_write_file(path, note, note_len);
}

/* merkle_get_fn over the generated leaves: any complete subtree. */
static int
gen_get(void *arg, unsigned level, uint64_t index, uint8_t out[32])
{
    const struct gen_log *l = arg;
    struct merkle_hasher h;
    int rc;

    if (merkle_hasher_init(&h) != MERKLE_OK)
        return -1;
    rc = merkle_root_compute(&h, (const uint8_t (*)[32])l->leaf + (index << level),
                             1ull << level, out);
    merkle_hasher_clear(&h);
    return rc == MERKLE_OK ? 0 : -1;
}

size_t
gen_inclusion(const struct gen_log *l, size_t size, uint64_t index,
              uint8_t out[MERKLE_MAX_PROOF][32])
{
    struct merkle_hasher h;
    size_t n = 0;

    assert_int_equal(merkle_hasher_init(&h), MERKLE_OK);
    assert_int_equal(merkle_inclusion_proof(&h, size, index, gen_get, (void *)l,
                                            out, &n), MERKLE_OK);
    merkle_hasher_clear(&h);
    return n;
}

size_t
gen_consistency(const struct gen_log *l, size_t n1, size_t n2,
                uint8_t out[MERKLE_MAX_PROOF][32])
{
    struct merkle_hasher h;
    size_t n = 0;

    assert_int_equal(merkle_hasher_init(&h), MERKLE_OK);
    assert_int_equal(merkle_consistency_proof(&h, n1, n2, gen_get, (void *)l,
                                              out, &n), MERKLE_OK);
    merkle_hasher_clear(&h);
    return n;
}
