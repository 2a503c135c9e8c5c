/*
 * test_work_ops.c - the specialists' work operations against a real
 * hitlqd (PROTOCOL.md §4.15-4.20): GET_BY_KEY, LIST paged while another
 * connection claims, CLAIM_ID (and its refusal when the policy's
 * claim_by_id is off), COMMENT in the history, AMEND and REOPEN with their
 * audit entries decoded and checked against what the test did (ref = the
 * decision acted on, outcome, actor, agreement recomputed from the model
 * entry's recommendation) and their result-stream entries seen by WATCH;
 * every role's refusal on a server with authentication; the CLI commands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "auth_fixture.h"
#include "e2e_util.h"
#include "hitlq_proto.h"
#include "record.h"
#include "record_ext.h"
#include "tutil.h"

#define TYPE       "credit_application"
#define POLICY_SRC "server/score/defaults/scorecard_policy.json"
#define MODEL_SRC  "server/score/defaults/credit_scorecard.json"

static char PDIR[64];

/* ---- set-up: the scorecard policy with claim_by_id ---------------------- */

/* PDIR/policy.json: the example scorecard policy with claim_by_id = on. */
static int write_policy(bool on)
{
    json_error_t je;
    json_t *root = json_load_file(POLICY_SRC, 0, &je);
    char path[128], cmd[256];

    snprintf(PDIR, sizeof PDIR, "/tmp/hitlq-work-XXXXXX");
    if (root == NULL || mkdtemp(PDIR) == NULL)
        return -1;
    json_object_set_new(json_object_get(json_object_get(root, "types"), TYPE), "claim_by_id",
                        json_boolean(on));
    snprintf(path, sizeof path, "%s/policy.json", PDIR);
    int rc = json_dump_file(root, path, JSON_INDENT(1));
    json_decref(root);
    snprintf(cmd, sizeof cmd, "cp %s %s/", MODEL_SRC, PDIR);
    return rc == 0 && system(cmd) == 0 ? 0 : -1;
}

static int work_setup(void **st)
{
    char cfg[256];
    (void)st;
    if (write_policy(true) < 0)
        return -1;
    snprintf(cfg, sizeof cfg, "policy = \"%s/policy.json\"\nmax_attempts = 2\n", PDIR);
    return harness_server_start(&e2e_srv, cfg) < 0 ? -1 : 0;
}

static int work_teardown(void **st)
{
    char cmd[128];
    int rc = e2e_srv_teardown(st);
    snprintf(cmd, sizeof cmd, "rm -rf %s", PDIR);
    return system(cmd) == 0 ? rc : -1;
}

#define WORK_TEST(f) cmocka_unit_test_setup_teardown(f, work_setup, work_teardown)

/* ---- helpers ------------------------------------------------------------- */

/* Submits n queued items "<prefix><i>" (priority (i * 37) % 11), ids in ids. */
static void submit_many(hitlq *c, const char *prefix, size_t n, uint64_t *ids)
{
    char (*keys)[32] = calloc(n, sizeof *keys);
    hitlq_item *items = calloc(n, sizeof *items);
    hitlq_decision *d = calloc(n, sizeof *d);
    int *st = calloc(n, sizeof *st);
    assert_true(keys && items && d && st);
    for (size_t i = 0; i < n; i++) {
        snprintf(keys[i], sizeof keys[i], "%s%zu", prefix, i);
        items[i] = (hitlq_item){ .key = keys[i], .type = TYPE, .fields = e2e_small_fields.data,
                                 .fields_len = e2e_small_fields.size,
                                 .priority = (int64_t)((i * 37) % 11) };
    }
    assert_int_equal(hitlq_submit_batch(c, items, n, 32, d, st), HITLQ_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(st[i], HITLQ_OK);
        assert_true(d[i].queued);
        ids[i] = d[i].id;
    }
    free(keys);
    free(items);
    free(d);
    free(st);
}

/* The body bytes of reply r (packed again: the reply's own bytes are not
 * public), for comparing two replies. */
static void body_bytes(const hitlq_reply *r, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_object(&pk, *hitlq_reply_body(r));
}

/* The history array of GET reply r. */
static const msgpack_object_array *history(const hitlq_reply *r)
{
    const msgpack_object *h = hitlq_reply_get(r, "history");
    assert_non_null(h);
    assert_int_equal(h->type, MSGPACK_OBJECT_ARRAY);
    return &h->via.array;
}

/* The `audit` index of the last event named ev in item id's history. */
static uint64_t event_audit(hitlq *c, uint64_t id, const char *ev)
{
    hitlq_reply *r = NULL;
    uint64_t ix = UINT64_MAX;
    assert_int_equal(hitlq_get(c, id, &r), HITLQ_OK);
    const msgpack_object_array *h = history(r);
    for (uint32_t i = 0; i < h->size; i++) {
        char name[32];
        e2e_find_str(&h->ptr[i], "event", name, sizeof name);
        if (strcmp(name, ev) == 0 && !isnan(e2e_map_num(&h->ptr[i], "audit")))
            ix = (uint64_t)e2e_map_num(&h->ptr[i], "audit");
    }
    hitlq_reply_free(r);
    if (ix == UINT64_MAX)
        fail_msg("item %" PRIu64 " has no audited \"%s\" event", id, ev);
    return ix;
}

/* One audit entry, decoded; its reply stays alive for rec's extensions. */
struct entry {
    hitlq_reply  *rep;
    struct record rec;
    uint8_t       leaf[32];
};

static void entry_get(hitlq *c, uint64_t index, struct entry *e)
{
    size_t got = 0;
    assert_int_equal(hitlq_audit_entries(c, index, 1, &e->rep, &got), HITLQ_OK);
    assert_int_equal(got, 1);
    const msgpack_object *b = &hitlq_reply_get(e->rep, "entries")->via.array.ptr[0];
    const msgpack_object *h = &hitlq_reply_get(e->rep, "hashes")->via.array.ptr[0];
    assert_int_equal(record_decode((const uint8_t *)b->via.bin.ptr, b->via.bin.size, &e->rec),
                     RECORD_OK);
    assert_int_equal(h->via.bin.size, 32);
    memcpy(e->leaf, h->via.bin.ptr, 32);
    assert_int_equal(e->rec.index, index);
}

static const struct record_ext *ext_of(const struct record *r, uint16_t type)
{
    for (size_t i = 0; i < r->ext_count; i++)
        if (r->ext[i].type == type)
            return &r->ext[i];
    return NULL;
}

static bool bytes_eq(const struct record_ext_bytes *b, const char *s)
{
    return b->len == strlen(s) && (b->len == 0 || memcmp(b->data, s, b->len) == 0);
}

static bool str_eq(const struct record_str *s, const char *want)
{
    return s->len == strlen(want) && memcmp(s->data, want, s->len) == 0;
}

/* The VERDICT of rec, decoded (fails when absent). */
static struct record_ext_verdict verdict_of(const struct record *rec)
{
    struct record_ext_verdict vd;
    const struct record_ext *x = ext_of(rec, RECORD_EXT_VERDICT);
    assert_non_null(x);
    assert_int_equal(record_ext_verdict_decode(x->data, x->len, &vd), RECORD_OK);
    return vd;
}

/* ---- GET_BY_KEY ---------------------------------------------------------- */

static void test_get_by_key(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("kim");
    uint64_t id = e2e_must_queue(c, "gbk-1", 7);
    hitlq_reply *a = NULL, *b = NULL;
    msgpack_sbuffer sa, sb;

    assert_int_equal(hitlq_comment(c, id, "first look", NULL), HITLQ_OK);
    assert_int_equal(hitlq_get_by_key(c, "gbk-1", &a), HITLQ_OK);
    assert_int_equal(hitlq_get(c, id, &b), HITLQ_OK);
    body_bytes(a, &sa);
    body_bytes(b, &sb);
    assert_int_equal(sa.size, sb.size);                 /* exactly GET's reply */
    assert_memory_equal(sa.data, sb.data, sa.size);
    assert_int_equal(hobj_u64(hitlq_reply_get(a, "id")), id);
    msgpack_sbuffer_destroy(&sa);
    msgpack_sbuffer_destroy(&sb);
    hitlq_reply_free(a);
    hitlq_reply_free(b);
    a = NULL;
    assert_int_equal(hitlq_get_by_key(c, "gbk-2", &a), HITLQ_ST_NOT_FOUND);
    assert_non_null(strstr(hitlq_errstr(c), "key"));
    hitlq_reply_free(a);
    assert_int_equal(hitlq_get_by_key(c, "gbk-", &a), HITLQ_ST_NOT_FOUND);   /* a prefix */
    hitlq_reply_free(a);
    assert_int_equal(hitlq_get_by_key(c, "bad key", &a), HITLQ_EINVAL);      /* not a name */
    hitlq_free(c);
}

/* ---- LIST, paged while another connection claims ------------------------- */

struct claimer {
    uint16_t port;
    size_t   n;
    uint64_t ids[64];
};

static void *claim_loop(void *arg)
{
    struct claimer *cl = arg;
    hitlq *c = e2e_connect(cl->port, "claimer", 30000);
    const char *q[] = { "credit_review" };
    for (size_t i = 0; i < 64; i++) {
        struct hitlq_claim got;
        if (hitlq_claim(c, q, 1, 60000, 0, NULL, &got) != HITLQ_OK)
            break;
        cl->ids[cl->n++] = got.id;
        hitlq_claim_clear(&got);
    }
    hitlq_free(c);
    return NULL;
}

static void test_list_paging(void **st)
{
    (void)st;
    enum { N = 230, PAGE = 17 };
    hitlq *c = e2e_cli("lou");
    uint64_t ids[N], got[N + PAGE], after = 0;
    size_t n = 0, pages = 0;
    struct claimer cl = { .port = e2e_srv.port };
    pthread_t th;

    submit_many(c, "lp-", N, ids);
    assert_int_equal(pthread_create(&th, NULL, claim_loop, &cl), 0);
    for (;;) {
        hitlq_reply *r = NULL;
        assert_int_equal(hitlq_list(c, "credit_review", after, PAGE, &r), HITLQ_OK);
        const msgpack_object *items = hitlq_reply_get(r, "items"), *next = hitlq_reply_get(r, "next");
        assert_true(items->via.array.size <= PAGE);
        for (uint32_t i = 0; i < items->via.array.size; i++) {
            const msgpack_object *it = &items->via.array.ptr[i];
            char state[16], type[64];
            assert_true(n < N);
            got[n++] = (uint64_t)e2e_map_num(it, "id");
            e2e_find_str(it, "state", state, sizeof state);
            e2e_find_str(it, "type", type, sizeof type);
            assert_true(strcmp(state, "queued") == 0 || strcmp(state, "leased") == 0);
            assert_string_equal(type, TYPE);
            assert_false(isnan(e2e_map_num(it, "age_ms")));
        }
        pages++;
        if (next == NULL) {
            hitlq_reply_free(r);
            break;
        }
        assert_int_equal(next->via.u64, got[n - 1]);
        after = next->via.u64;
        hitlq_reply_free(r);
    }
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(cl.n, 64);                          /* claims ran alongside */
    assert_int_equal(n, N);                              /* no gap, no duplicate */
    for (size_t i = 0; i < N; i++)
        assert_int_equal(got[i], ids[i]);                /* in id order */
    assert_int_equal(pages, (N + PAGE - 1) / PAGE);
    /* the claimed items are listed as leased now */
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_list(c, "credit_review", cl.ids[0] - 1, 1, &r), HITLQ_OK);
    const msgpack_object *one = &hitlq_reply_get(r, "items")->via.array.ptr[0];
    char state[16];
    e2e_find_str(one, "state", state, sizeof state);
    assert_string_equal(state, "leased");
    hitlq_reply_free(r);
    /* limits: the client refuses 1001; the default page is 100 */
    assert_int_equal(hitlq_list(c, "credit_review", 0, 1001, &r), HITLQ_EINVAL);
    assert_int_equal(hitlq_list(c, "credit_review", 0, 0, &r), HITLQ_OK);
    assert_int_equal(hitlq_reply_get(r, "items")->via.array.size, 100);
    hitlq_reply_free(r);
    hitlq_free(c);
}

/* ---- CLAIM_ID ------------------------------------------------------------ */

static void test_claim_id(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("cora");
    uint64_t lo = e2e_must_queue(c, "cid-lo", 1), hi = e2e_must_queue(c, "cid-hi", 90), seq;
    struct hitlq_claim cl, again;

    /* the low-priority one, although CLAIM would take hi first */
    assert_int_equal(hitlq_claim_id(c, lo, 60000, NULL, &cl), HITLQ_OK);
    assert_int_equal(cl.id, lo);
    assert_true(cl.lease != 0);
    assert_true(hobj_str_eq(hitlq_reply_get(cl.reply, "key"), "cid-lo"));
    assert_non_null(hitlq_reply_get(cl.reply, "fields"));
    assert_non_null(hitlq_reply_get(cl.reply, "reasons"));
    assert_true(hobj_str_eq(hitlq_reply_get(cl.reply, "queue"), "credit_review"));
    assert_int_equal(hitlq_claim_id(c, lo, 0, NULL, &again), HITLQ_ST_INVALID_STATE);
    assert_non_null(strstr(hitlq_errstr(c), "leased"));
    assert_int_equal(hitlq_claim_id(c, 99999, 0, NULL, &again), HITLQ_ST_NOT_FOUND);
    /* the lease works like CLAIM's */
    assert_int_equal(hitlq_resolve(c, lo, cl.lease, "approve", NULL, NULL, &seq), HITLQ_OK);
    hitlq_claim_clear(&cl);
    assert_int_equal(hitlq_claim_id(c, lo, 0, NULL, &again), HITLQ_ST_INVALID_STATE);
    assert_non_null(strstr(hitlq_errstr(c), "resolved"));
    /* CLAIM still finds hi: CLAIM_ID took lo off the ready index only */
    struct hitlq_claim next = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    assert_int_equal(next.id, hi);
    hitlq_claim_clear(&next);
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_get(c, lo, &r), HITLQ_OK);
    char actor[64];
    assert_string_equal(e2e_event_actor(r, "claimed", actor, sizeof actor), "cora");
    hitlq_reply_free(r);
    hitlq_free(c);
}

/* The policy in force does not set claim_by_id: forbidden, nothing changed. */
static void test_claim_id_policy_off(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("cora");
    uint64_t id = e2e_must_queue(c, "cid-off", -1);
    struct hitlq_claim cl;
    assert_int_equal(hitlq_claim_id(c, id, 0, NULL, &cl), HITLQ_ST_FORBIDDEN);
    assert_non_null(strstr(hitlq_errstr(c), "claim_by_id"));
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_get(c, id, &r), HITLQ_OK);
    assert_true(hobj_str_eq(hitlq_reply_get(r, "state"), "queued"));
    hitlq_reply_free(r);
    hitlq_free(c);
}

/* ---- COMMENT --------------------------------------------------------------- */

/* A comment's audit entry: a queue event by the commenter deciding nothing,
 * VERDICT "comment" agreement 0, ref = the item's model entry. */
static void check_comment_entry(hitlq *c, uint64_t id, uint64_t index, const char *who)
{
    struct entry e, m;
    entry_get(c, index, &e);
    char idstr[24];
    snprintf(idstr, sizeof idstr, "%" PRIu64, id);
    assert_true(str_eq(&e.rec.item_id, idstr));
    assert_int_equal(e.rec.record_type, RECORD_QUEUE_EVENT);
    assert_int_equal(e.rec.actor_type, RECORD_ACTOR_HUMAN);
    assert_true(str_eq(&e.rec.actor_id, who));
    assert_int_equal(e.rec.decision, RECORD_DEC_NONE);
    struct record_ext_verdict vd = verdict_of(&e.rec);
    assert_true(bytes_eq(&vd.outcome, "comment"));
    assert_int_equal(vd.agreement, RECORD_AGREE_NONE);
    assert_true(bytes_eq(&vd.reviewer, who));
    entry_get(c, e.rec.ref_index, &m);                 /* the model decision */
    assert_int_equal(m.rec.record_type, RECORD_ESCALATION);
    assert_true(str_eq(&m.rec.item_id, idstr));
    assert_memory_equal(e.rec.ref_leaf_hash, m.leaf, 32);
    hitlq_reply_free(e.rep);
    hitlq_reply_free(m.rep);
}

static void test_comment(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("cleo");
    uint64_t id = e2e_must_queue(c, "cm-1", -1), at = 0, t0 = e2e_wall_ms();
    char note[HITLQ_MAX_NOTE + 2];

    assert_int_equal(hitlq_comment(c, id, "income looks seasonal", &at), HITLQ_OK);
    assert_true(at >= t0 && at <= e2e_wall_ms());
    struct hitlq_claim cl = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    assert_int_equal(hitlq_comment(c, id, "asked for payslips", NULL), HITLQ_OK);   /* leased */
    assert_int_equal(hitlq_resolve(c, id, cl.lease, "approve", NULL, NULL, NULL), HITLQ_OK);
    hitlq_claim_clear(&cl);
    assert_int_equal(hitlq_comment(c, id, "payslips arrived", NULL), HITLQ_OK);   /* resolved */
    /* refusals: empty, too long, unknown item */
    assert_int_equal(hitlq_comment(c, id, "", NULL), HITLQ_EINVAL);
    memset(note, 'x', sizeof note - 1);
    note[sizeof note - 1] = '\0';
    assert_int_equal(hitlq_comment(c, id, note, NULL), HITLQ_EINVAL);
    note[HITLQ_MAX_NOTE] = '\0';                        /* exactly the limit: fine */
    assert_int_equal(hitlq_comment(c, id, note, NULL), HITLQ_OK);
    assert_int_equal(hitlq_comment(c, 424242, "nobody", NULL), HITLQ_ST_NOT_FOUND);
    /* history: comment, claimed, comment, resolved, comment, comment */
    static const char *const want[] = { "submitted", "scored", "queued", "comment", "claimed",
                                        "comment", "resolved", "comment", "comment" };
    hitlq_reply *r = e2e_check_history(c, id, want, 9);
    const msgpack_object_array *h = history(r);
    char s[64];
    e2e_find_str(&h->ptr[3], "note", s, sizeof s);
    assert_string_equal(s, "income looks seasonal");
    e2e_find_str(&h->ptr[3], "actor", s, sizeof s);
    assert_string_equal(s, "cleo");
    assert_true(e2e_map_num(&h->ptr[3], "at_ms") == (double)at);
    assert_true(hobj_str_eq(hitlq_reply_get(r, "outcome"), "approve"));   /* no decision */
    uint64_t ix = (uint64_t)e2e_map_num(&h->ptr[7], "audit");
    hitlq_reply_free(r);
    check_comment_entry(c, id, ix, "cleo");
    hitlq_free(c);
}

/* ---- AMEND and REOPEN -------------------------------------------------------- */

/* The agreement a verdict `outcome` must have with the model entry at
 * index model_ix, computed here from its RECOMMENDATION (AUDIT-FORMAT.md
 * §3.4): 3 without one, 1 equal, 2 different. */
static uint8_t agreement_with(hitlq *c, uint64_t model_ix, const char *outcome)
{
    struct entry m;
    struct record_ext_recommendation rc;
    entry_get(c, model_ix, &m);
    const struct record_ext *x = ext_of(&m.rec, RECORD_EXT_RECOMMENDATION);
    assert_non_null(x);
    assert_int_equal(record_ext_recommendation_decode(x->data, x->len, &rc), RECORD_OK);
    uint8_t a = rc.recommendation.len == 0 ? 3 : bytes_eq(&rc.recommendation, outcome) ? 1 : 2;
    hitlq_reply_free(m.rep);
    return a;
}

/* The entry at index: item id, by `who`, ref = entry ref_ix (its leaf hash
 * too), the model fields those of the item's model entry. */
static void check_work_entry(hitlq *c, const struct entry *e, uint64_t id, const char *who,
                             uint64_t ref_ix, uint64_t model_ix)
{
    struct entry ref, m;
    char idstr[24];
    snprintf(idstr, sizeof idstr, "%" PRIu64, id);
    assert_true(str_eq(&e->rec.item_id, idstr));
    assert_int_equal(e->rec.actor_type, RECORD_ACTOR_HUMAN);
    assert_true(str_eq(&e->rec.actor_id, who));
    assert_int_equal(e->rec.ref_index, ref_ix);
    entry_get(c, ref_ix, &ref);
    assert_memory_equal(e->rec.ref_leaf_hash, ref.leaf, 32);
    assert_true(str_eq(&ref.rec.item_id, idstr));
    entry_get(c, model_ix, &m);
    assert_memory_equal(e->rec.model_digest, m.rec.model_digest, 32);
    assert_memory_equal(e->rec.input_commit, m.rec.input_commit, 32);
    hitlq_reply_free(ref.rep);
    hitlq_reply_free(m.rep);
}

/* The results the test watches: seq, id, outcome, actor, amends, reopens. */
struct seen {
    size_t n;
    struct { uint64_t seq, id, amends, reopens; char outcome[32], actor[32]; } r[8];
};

static int on_result(void *arg, const hitlq_reply *res)
{
    struct seen *s = arg;
    uint64_t v;
    assert_true(s->n < 8);
    hitlq_reply_get_u64(res, "seq", &s->r[s->n].seq);
    hitlq_reply_get_u64(res, "id", &s->r[s->n].id);
    s->r[s->n].amends = hitlq_reply_get_u64(res, "amends", &v) ? v : 0;
    s->r[s->n].reopens = hitlq_reply_get_u64(res, "reopens", &v) ? v : 0;
    hitlq_reply_copy_str(res, "outcome", s->r[s->n].outcome, sizeof s->r[0].outcome);
    hitlq_reply_copy_str(res, "actor", s->r[s->n].actor, sizeof s->r[0].actor);
    return ++s->n == 3;
}

/* The item was resolved "approve" (seq s1) by ann; boss amends, then reopens. */
static void amend_then_reopen(hitlq *c, uint64_t id, uint64_t s1)
{
    uint64_t model_ix = event_audit(c, id, "resolved"), res_ix = model_ix, s2 = 0;
    char q[HITLQ_MAX_QUEUE_NAME + 1];
    struct entry e;
    hitlq_reply *g = NULL;

    assert_int_equal(hitlq_get(c, id, &g), HITLQ_OK);   /* audit.entries[0]: the model's */
    const msgpack_object *a = hitlq_reply_get(g, "audit");
    assert_non_null(a);
    for (uint32_t i = 0; i < a->via.map.size; i++)
        if (hobj_str_eq(&a->via.map.ptr[i].key, "entries"))
            model_ix = a->via.map.ptr[i].val.via.array.ptr[0].via.u64;
    hitlq_reply_free(g);
    assert_true(model_ix < res_ix);
    assert_int_equal(hitlq_amend(c, id, "maybe", "n", NULL, &s2), HITLQ_ST_INVALID_OUTCOME);
    assert_int_equal(hitlq_amend(c, id, "reject", "income unverified", "docs", &s2), HITLQ_OK);
    assert_int_equal(s2, s1 + 1);
    uint64_t am_ix = event_audit(c, id, "amended");
    entry_get(c, am_ix, &e);
    check_work_entry(c, &e, id, "boss", res_ix, model_ix);   /* ref: the RESOLVE's entry */
    struct record_ext_verdict vd = verdict_of(&e.rec);
    uint8_t want = agreement_with(c, model_ix, "reject");
    assert_true(bytes_eq(&vd.outcome, "reject"));
    assert_int_equal(vd.agreement, want);
    assert_true(bytes_eq(&vd.root_cause, "docs"));
    assert_true(bytes_eq(&vd.reviewer, "boss"));
    assert_int_equal(e.rec.decision, RECORD_DEC_REJECT);
    assert_int_equal(e.rec.record_type, want == 2 ? RECORD_HUMAN_OVERRIDE : RECORD_HUMAN_DECISION);
    hitlq_reply_free(e.rep);

    assert_int_equal(hitlq_reopen(c, id, NULL, "second opinion", q), HITLQ_OK);
    assert_string_equal(q, "credit_review");            /* the queue it was resolved from */
    uint64_t ro_ix = event_audit(c, id, "reopened");
    entry_get(c, ro_ix, &e);
    check_work_entry(c, &e, id, "boss", am_ix, model_ix);    /* ref: the last decision */
    vd = verdict_of(&e.rec);
    assert_true(bytes_eq(&vd.outcome, "reopen"));
    assert_int_equal(vd.agreement, RECORD_AGREE_NONE);
    assert_int_equal(e.rec.record_type, RECORD_QUEUE_EVENT);
    assert_int_equal(e.rec.decision, RECORD_DEC_DEFER);
    struct record_ext_queue_ref qr;
    const struct record_ext *x = ext_of(&e.rec, RECORD_EXT_QUEUE_REF);
    assert_non_null(x);
    assert_int_equal(record_ext_queue_ref_decode(x->data, x->len, &qr), RECORD_OK);
    assert_true(bytes_eq(&qr.queue, "credit_review"));
    hitlq_reply_free(e.rep);
}

static void test_amend_reopen(void **st)
{
    (void)st;
    hitlq *ann = e2e_cli("ann"), *boss = e2e_cli("boss"), *w = e2e_cli("watcher");
    uint64_t id = e2e_must_queue(ann, "ar-1", -1), s1 = 0;
    char q[HITLQ_MAX_QUEUE_NAME + 1];

    /* neither before the item is resolved */
    assert_int_equal(hitlq_amend(boss, id, "reject", "n", NULL, NULL), HITLQ_ST_INVALID_STATE);
    assert_non_null(strstr(hitlq_errstr(boss), "queued"));
    assert_int_equal(hitlq_reopen(boss, id, NULL, "n", q), HITLQ_ST_INVALID_STATE);
    assert_int_equal(hitlq_reopen(boss, 777777, NULL, "n", q), HITLQ_ST_NOT_FOUND);
    assert_int_equal(hitlq_amend(boss, id, "reject", "", NULL, NULL), HITLQ_EINVAL);   /* note */
    struct hitlq_claim cl = e2e_must_claim(ann, e2e_review, 1, 60000, 0);
    assert_int_equal(hitlq_resolve(ann, id, cl.lease, "approve", "ok", NULL, &s1), HITLQ_OK);
    hitlq_claim_clear(&cl);
    amend_then_reopen(boss, id, s1);

    /* WATCH sees the three results: resolved, amended, reopened */
    struct seen s = { 0 };
    assert_int_equal(hitlq_watch(w, s1, 10000, on_result, &s), HITLQ_OK);
    assert_int_equal(s.r[0].seq, s1);
    assert_string_equal(s.r[0].outcome, "approve");
    assert_string_equal(s.r[1].outcome, "reject");
    assert_string_equal(s.r[1].actor, "boss");
    assert_int_equal(s.r[1].amends, s1);
    assert_string_equal(s.r[2].outcome, "reopened");
    assert_int_equal(s.r[2].reopens, s1 + 1);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(s.r[i].id, id);

    /* GET: both decisions and the reopening; queued again, decided again */
    static const char *const want[] = { "submitted", "scored", "queued", "claimed", "resolved",
                                        "amended", "reopened", "claimed", "resolved" };
    cl = e2e_must_claim(ann, e2e_review, 1, 60000, 0);
    assert_int_equal(cl.id, id);
    assert_int_equal(hitlq_resolve(ann, id, cl.lease, "reject", NULL, NULL, NULL), HITLQ_OK);
    hitlq_claim_clear(&cl);
    hitlq_reply_free(e2e_check_history(boss, id, want, 9));
    hitlq_free(ann);
    hitlq_free(boss);
    hitlq_free(w);
}

/* An auto-resolved item: REOPEN needs a queue; its ref is the model's
 * AUTO_DECISION (there is no human decision to reopen). */
static void test_reopen_auto(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("boss");
    hitlq_decision d = { 0 };
    char q[HITLQ_MAX_QUEUE_NAME + 1];
    size_t i;

    for (i = 0; i < e2e_nci; i++) {
        hitlq_item it = { .key = e2e_ci[i].key, .type = TYPE, .fields = e2e_ci[i].fields,
                          .fields_len = e2e_ci[i].fields_len, .priority = -1 };
        assert_int_equal(hitlq_submit(c, &it, &d), HITLQ_OK);
        if (!d.queued)
            break;
    }
    assert_true(i < e2e_nci);
    assert_int_equal(hitlq_reopen(c, d.id, NULL, "check it", q), HITLQ_ST_INVALID_STATE);
    assert_non_null(strstr(hitlq_errstr(c), "queue"));
    assert_int_equal(hitlq_reopen(c, d.id, "second_look", "check it", q), HITLQ_OK);
    assert_string_equal(q, "second_look");
    uint64_t ix = event_audit(c, d.id, "reopened");
    struct entry e, m;
    entry_get(c, ix, &e);
    entry_get(c, e.rec.ref_index, &m);
    assert_int_equal(m.rec.record_type, RECORD_AUTO_DECISION);
    assert_memory_equal(e.rec.ref_leaf_hash, m.leaf, 32);
    hitlq_reply_free(e.rep);
    hitlq_reply_free(m.rep);
    hitlq_reply *r = NULL;                               /* on its new queue */
    assert_int_equal(hitlq_list(c, "second_look", 0, 10, &r), HITLQ_OK);
    assert_int_equal(hitlq_reply_get(r, "items")->via.array.size, 1);
    assert_true(e2e_map_num(&hitlq_reply_get(r, "items")->via.array.ptr[0], "id") == (double)d.id);
    hitlq_reply_free(r);
    hitlq_free(c);
}

/* ---- roles (auth = 1) ------------------------------------------------------ */

static int auth_setup(void **st)
{
    char cfg[256], path[256], buf[128] = "";
    (void)st;
    if (write_policy(true) < 0)
        return -1;
    snprintf(cfg, sizeof cfg, "auth = 1\npolicy = \"%s/policy.json\"\n", PDIR);
    if (harness_server_start(&afx_srv, cfg) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/admin.key", afx_srv.data);
    FILE *f = fopen(path, "r");
    if (f == NULL || fgets(buf, sizeof buf, f) == NULL || strlen(buf) != AFX_KEY_LEN + 1)
        return -1;
    fclose(f);
    memcpy(afx_admin_key, buf, AFX_KEY_LEN);
    afx_admin_key[AFX_KEY_LEN] = '\0';
    return 0;
}

static int auth_teardown(void **st)
{
    char cmd[128];
    int rc = afx_teardown(st);
    snprintf(cmd, sizeof cmd, "rm -rf %s", PDIR);
    return system(cmd) == 0 ? rc : -1;
}

/* A request {id} plus the optional pairs; returns the status; the reply's
 * message must contain `msg` unless NULL. */
static int req(struct hconn *c, uint8_t op, uint64_t id, const char *k1, const char *v1,
               const char *k2, const char *v2, const char *msg)
{
    struct afx_body b;
    struct hframe f;
    afx_body_init(&b, (id != 0) + (k1 != NULL) + (k2 != NULL));
    if (id != 0)
        hpk_kv_u64(&b.pk, "id", id);
    if (k1 != NULL)
        hpk_kv_str(&b.pk, k1, v1);
    if (k2 != NULL)
        hpk_kv_str(&b.pk, k2, v2);
    int s = afx_call(c, op, &b.sb, &f);
    afx_body_free(&b);
    if (msg != NULL) {
        char m[256];
        hobj_str(hframe_get(&f, "message"), m, sizeof m);
        if (strstr(m, msg) == NULL)
            fail_msg("op 0x%02x: message \"%s\" lacks \"%s\"", op, m, msg);
    }
    hframe_free(&f);
    return s;
}

struct who {
    struct hconn bot1, bot2, spec, other, senior, aud, admin;
};

static void who_open(struct who *w)
{
    char key[AFX_KEY_LEN + 1], id[AFX_ID_LEN + 1];
    afx_admin_conn(&w->admin);
    static const struct { const char *p, *role, *skill; size_t off; } k[] = {
        { "bot1", "bot", NULL, offsetof(struct who, bot1) },
        { "bot2", "bot", NULL, offsetof(struct who, bot2) },
        { "spec", "specialist", "credit_review", offsetof(struct who, spec) },
        { "other", "specialist", "elsewhere", offsetof(struct who, other) },
        { "senior1", "specialist", "senior", offsetof(struct who, senior) },
        { "aud", "auditor", NULL, offsetof(struct who, aud) },
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        afx_key_add(&w->admin, k[i].p, k[i].role, k[i].skill, key, id);
        afx_open_as((struct hconn *)((char *)w + k[i].off), key, k[i].role);
    }
}

static void who_close(struct who *w)
{
    struct hconn *all[] = { &w->bot1, &w->bot2, &w->spec, &w->other, &w->senior, &w->aud,
                            &w->admin };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        hconn_close(all[i]);
}

static void test_roles(void **st)
{
    (void)st;
    struct who w;
    uint64_t id1, id2;
    const char *FB = "may not send";                     /* the role table's refusal */

    who_open(&w);
    assert_int_equal(afx_submit(&w.bot1, "rk1", &id1), HITLQ_ST_OK);
    assert_int_equal(afx_submit(&w.bot2, "rk2", &id2), HITLQ_ST_OK);
    /* GET_BY_KEY: as GET (a bot: its own items) */
    assert_int_equal(req(&w.bot1, HITLQ_OP_GET_BY_KEY, 0, "key", "rk1", NULL, NULL, NULL), 0);
    assert_int_equal(req(&w.bot1, HITLQ_OP_GET_BY_KEY, 0, "key", "rk2", NULL, NULL, "submitted"),
                     HITLQ_ST_FORBIDDEN);
    assert_int_equal(req(&w.aud, HITLQ_OP_GET_BY_KEY, 0, "key", "rk2", NULL, NULL, NULL), 0);
    assert_int_equal(req(&w.spec, HITLQ_OP_GET_BY_KEY, 0, "key", "none", NULL, NULL, "key"),
                     HITLQ_ST_NOT_FOUND);
    /* LIST: specialist, auditor, admin; limit checked by the server */
    assert_int_equal(req(&w.bot1, HITLQ_OP_LIST, 0, "queue", "credit_review", NULL, NULL, FB),
                     HITLQ_ST_FORBIDDEN);
    assert_int_equal(req(&w.aud, HITLQ_OP_LIST, 0, "queue", "credit_review", NULL, NULL, NULL), 0);
    assert_int_equal(req(&w.admin, HITLQ_OP_LIST, 0, "queue", "credit_review", NULL, NULL, NULL),
                     0);
    struct afx_body b;
    afx_body_init(&b, 2);
    hpk_kv_str(&b.pk, "queue", "credit_review");
    hpk_kv_u64(&b.pk, "limit", 1001);
    assert_int_equal(afx_call(&w.spec, HITLQ_OP_LIST, &b.sb, NULL), HITLQ_ST_BAD_REQUEST);
    afx_body_free(&b);
    /* CLAIM_ID: specialists whose skills cover the item's queue */
    assert_int_equal(req(&w.bot1, HITLQ_OP_CLAIM_ID, id1, NULL, NULL, NULL, NULL, FB),
                     HITLQ_ST_FORBIDDEN);
    assert_int_equal(req(&w.admin, HITLQ_OP_CLAIM_ID, id1, NULL, NULL, NULL, NULL, FB),
                     HITLQ_ST_FORBIDDEN);
    assert_int_equal(req(&w.other, HITLQ_OP_CLAIM_ID, id1, NULL, NULL, NULL, NULL, "skills"),
                     HITLQ_ST_FORBIDDEN);
    assert_int_equal(req(&w.spec, HITLQ_OP_CLAIM_ID, id1, "worker", "someone", NULL, NULL,
                         "worker"), HITLQ_ST_FORBIDDEN);
    struct afx_body cb;
    struct hframe f;
    afx_body_init(&cb, 1);
    hpk_kv_u64(&cb.pk, "id", id1);
    assert_int_equal(afx_call(&w.spec, HITLQ_OP_CLAIM_ID, &cb.sb, &f), HITLQ_ST_OK);
    afx_body_free(&cb);
    uint64_t lease = hobj_u64(hframe_get(&f, "lease"));
    hframe_free(&f);
    afx_body_init(&cb, 3);
    hpk_kv_u64(&cb.pk, "id", id1);
    hpk_kv_u64(&cb.pk, "lease", lease);
    hpk_kv_str(&cb.pk, "outcome", "approve");
    assert_int_equal(afx_call(&w.spec, HITLQ_OP_RESOLVE, &cb.sb, NULL), HITLQ_ST_OK);
    afx_body_free(&cb);
    /* COMMENT: specialist, admin */
    assert_int_equal(req(&w.bot1, HITLQ_OP_COMMENT, id1, "note", "n", NULL, NULL, FB),
                     HITLQ_ST_FORBIDDEN);
    assert_int_equal(req(&w.aud, HITLQ_OP_COMMENT, id1, "note", "n", NULL, NULL, FB),
                     HITLQ_ST_FORBIDDEN);
    assert_int_equal(req(&w.spec, HITLQ_OP_COMMENT, id1, "note", "n", NULL, NULL, NULL), 0);
    assert_int_equal(req(&w.admin, HITLQ_OP_COMMENT, id1, "note", "n", NULL, NULL, NULL), 0);
    assert_int_equal(req(&w.spec, HITLQ_OP_COMMENT, id1, "note", "", NULL, NULL, "empty"),
                     HITLQ_ST_BAD_REQUEST);
    assert_int_equal(req(&w.spec, HITLQ_OP_COMMENT, id1, NULL, NULL, NULL, NULL, NULL),
                     HITLQ_ST_BAD_REQUEST);                  /* note is required */
    static char big[HITLQ_MAX_NOTE + 2];                     /* one byte over the limit */
    memset(big, 'n', HITLQ_MAX_NOTE + 1);
    assert_int_equal(req(&w.spec, HITLQ_OP_COMMENT, id1, "note", big, NULL, NULL, "note"),
                     HITLQ_ST_BAD_REQUEST);
    /* AMEND and REOPEN: admin, or a specialist with the skill "senior" */
    assert_int_equal(req(&w.aud, HITLQ_OP_AMEND, id1, "note", "n", "outcome", "reject", FB),
                     HITLQ_ST_FORBIDDEN);
    assert_int_equal(req(&w.spec, HITLQ_OP_AMEND, id1, "note", "n", "outcome", "reject",
                         "senior"), HITLQ_ST_FORBIDDEN);
    assert_int_equal(req(&w.senior, HITLQ_OP_AMEND, id1, "note", "n", "outcome", "reject",
                         NULL), 0);
    assert_int_equal(req(&w.admin, HITLQ_OP_AMEND, id1, "note", "n", "outcome", "approve", NULL),
                     0);
    assert_int_equal(req(&w.bot1, HITLQ_OP_REOPEN, id1, "note", "n", NULL, NULL, FB),
                     HITLQ_ST_FORBIDDEN);
    assert_int_equal(req(&w.spec, HITLQ_OP_REOPEN, id1, "note", "n", NULL, NULL, "senior"),
                     HITLQ_ST_FORBIDDEN);
    assert_int_equal(req(&w.senior, HITLQ_OP_REOPEN, id1, "note", "n", NULL, NULL, NULL), 0);
    assert_int_equal(req(&w.admin, HITLQ_OP_REOPEN, id1, "note", "n", NULL, NULL, "queued"),
                     HITLQ_ST_INVALID_STATE);
    who_close(&w);
}

/* ---- the CLI ----------------------------------------------------------------- */

/* Runs `hitlq --json <args>` against the server; its stdout into out. */
static int run_cli(const char *args, char *out, size_t n)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "HITLQ_PORT=%u " HARNESS_CLI " --json %s 2>/dev/null",
             e2e_srv.port, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The JSON line in out, parsed (fails unless it parses). */
static json_t *parse(const char *out)
{
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (j == NULL)
        fail_msg("not JSON: %s", out);
    return j;
}

static void test_cli(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("cli");
    uint64_t ids[3];
    char out[65536], args[128];
    json_t *j;

    submit_many(c, "cl-", 3, ids);
    assert_int_equal(run_cli("get-key cl-1", out, sizeof out), 0);
    j = parse(out);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), ids[1]);
    json_decref(j);
    assert_int_equal(run_cli("list credit_review --limit 2", out, sizeof out), 0);
    j = parse(out);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "next")), ids[1]);
    json_decref(j);
    snprintf(args, sizeof args, "list credit_review --after %" PRIu64, ids[1]);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    j = parse(out);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
    assert_null(json_object_get(j, "next"));
    json_decref(j);
    snprintf(args, sizeof args, "claim-id %" PRIu64, ids[2]);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    j = parse(out);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), ids[2]);
    json_t *jl = json_object_get(j, "lease");          /* > INT64_MAX: a string */
    uint64_t lease = json_is_string(jl) ? strtoull(json_string_value(jl), NULL, 10)
                                        : (uint64_t)json_integer_value(jl);
    json_decref(j);
    snprintf(args, sizeof args, "comment %" PRIu64 " 'from the shell'", ids[2]);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    assert_int_equal(hitlq_resolve(c, ids[2], lease, "approve", NULL, NULL, NULL), HITLQ_OK);
    snprintf(args, sizeof args, "amend %" PRIu64 " reject --note 'on review'", ids[2]);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "reopen %" PRIu64 " --note again --queue cli_q", ids[2]);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    j = parse(out);
    assert_string_equal(json_string_value(json_object_get(j, "queue")), "cli_q");
    json_decref(j);
    snprintf(args, sizeof args, "reopen %" PRIu64, ids[2]);      /* --note is required */
    assert_int_equal(run_cli(args, out, sizeof out), 2);
    static const char *const want[] = { "submitted", "scored", "queued", "claimed", "comment",
                                        "resolved", "amended", "reopened" };
    hitlq_reply_free(e2e_check_history(c, ids[2], want, 8));
    hitlq_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        WORK_TEST(test_get_by_key),
        WORK_TEST(test_list_paging),
        WORK_TEST(test_claim_id),
        E2E_TEST(test_claim_id_policy_off),
        WORK_TEST(test_comment),
        WORK_TEST(test_amend_reopen),
        WORK_TEST(test_reopen_auto),
        cmocka_unit_test_setup_teardown(test_roles, auth_setup, auth_teardown),
        WORK_TEST(test_cli),
    };
    return e2e_run("work_ops", tests, sizeof tests / sizeof tests[0]);
}
