/*
 * test_policy_e2e.c - the scoring core end to end against a real hitlqd:
 * triage of the German-credit items by the bundled XGBoost policy (routes,
 * explanation methods, hard rules, the data-quality queue, counts that
 * agree with STATS), the blind QA sample (copies, what they show, and the
 * audit entries a specialist's verdict on a copy produces), hot reload by
 * RELOAD and SIGHUP (good files in force, bad files refused with the old
 * set kept, a reload under a pipelined burst losing nothing), and the
 * CLI's reload command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "credit_items.h"
#include "e2e_util.h"
#include "harness.h"
#include "hitlq_msgpack.h"
#include "qa_copy.h"
#include "record.h"
#include "tutil.h"

#define TYPE          "credit_application"
#define POLICY_SRC    "server/score/defaults/credit_policy.json"
#define MODEL_SRC     "server/score/defaults/credit_xgb.json"

static struct hserver S;
static struct credit_item *CI;
static size_t NCI;
static char PDIR[64];                  /* temp dir of the test's policy files */
static char PFILE[128];                /* PDIR/credit_policy.json */

/* ---- helpers ------------------------------------------------------------ */

static hitlq *cli(const char *name)
{
    hitlq_options o = { .host = "127.0.0.1", .port = S.port, .name = name,
                        .timeout_ms = 60000 };
    hitlq *c = hitlq_connect(&o);
    assert_non_null(c);
    if (hitlq_err(c) != HITLQ_OK)
        fail_msg("connect: %s", hitlq_errstr(c));
    return c;
}

static void write_all(const char *path, const char *text)
{
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);   /* never a half-written file */
}

/* s with the one occurrence of `from` replaced by `to` (malloc'd; s freed). */
static char *replace1(char *s, const char *from, const char *to)
{
    char *at = strstr(s, from);
    if (at == NULL)
        fail_msg("policy text has no \"%s\"", from);
    assert_null(strstr(at + 1, from));
    size_t fl = strlen(from), tl = strlen(to), n = strlen(s);
    char *o = malloc(n - fl + tl + 1);
    assert_non_null(o);
    memcpy(o, s, (size_t)(at - s));
    memcpy(o + (at - s), to, tl);
    memcpy(o + (at - s) + tl, at + fl, n - (size_t)(at - s) - fl + 1);
    free(s);
    return o;
}

/* Writes PFILE: the bundled policy with version, auto_threshold and QA
 * rate changed (NULL = keep). */
static void write_policy(const char *version, const char *auto_thr, const char *qa_rate)
{
    char *p = tutil_slurp(POLICY_SRC, NULL), buf[64];
    if (version != NULL) {
        snprintf(buf, sizeof buf, "\"version\": \"%s\"", version);
        p = replace1(p, "\"version\": \"2\"", buf);
    }
    if (auto_thr != NULL) {
        snprintf(buf, sizeof buf, "\"auto_threshold\": %s", auto_thr);
        p = replace1(p, "\"auto_threshold\": 0.85", buf);
    }
    if (qa_rate != NULL) {
        snprintf(buf, sizeof buf, "\"rate\": %s", qa_rate);
        p = replace1(p, "\"rate\": 0.02", buf);
    }
    write_all(PFILE, p);
    free(p);
}

/* Makes PDIR with the model and a policy; returns the server config. */
static void policy_dir(const char *qa_rate, char *cfg, size_t n)
{
    char path[160];
    snprintf(PDIR, sizeof PDIR, "/tmp/hitlq-policy-XXXXXX");
    assert_non_null(mkdtemp(PDIR));
    snprintf(PFILE, sizeof PFILE, "%s/credit_policy.json", PDIR);
    snprintf(path, sizeof path, "%s/credit_xgb.json", PDIR);
    char *m = tutil_slurp(MODEL_SRC, NULL);
    write_all(path, m);
    free(m);
    snprintf(path, sizeof path, "%s/credit_profile.json", PDIR);   /* the policy's profile */
    m = tutil_slurp("server/score/defaults/credit_profile.json", NULL);
    write_all(path, m);
    free(m);
    write_policy(NULL, NULL, qa_rate);
    snprintf(cfg, n, "policy = \"%s\"\naudit_checkpoint_ms = 200\n", PFILE);
}

static void policy_dir_remove(void)
{
    char cmd[128];
    if (PDIR[0] == '\0' || getenv("HITLQ_KEEP_DIRS"))
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", PDIR);
    assert_int_equal(system(cmd), 0);
    PDIR[0] = '\0';
}

static int srv_embedded(void **st)
{
    (void)st;
    return harness_server_start(&S, HARNESS_EMBEDDED_POLICY "audit_checkpoint_ms = 200\n") < 0
               ? -1 : 0;
}

static int srv_qa(void **st)
{
    char cfg[256];
    (void)st;
    policy_dir("1.0", cfg, sizeof cfg);
    return harness_server_start(&S, cfg) < 0 ? -1 : 0;
}

static int srv_file(void **st)
{
    char cfg[256];
    (void)st;
    policy_dir(NULL, cfg, sizeof cfg);
    return harness_server_start(&S, cfg) < 0 ? -1 : 0;
}

static int srv_teardown(void **st)
{
    (void)st;
    int rc = harness_server_stop(&S);
    harness_server_cleanup(&S);
    policy_dir_remove();
    return rc;
}

/* Item i's fields with `field` set to the integer v (added if absent). */
static void patched_fields(size_t i, const char *field, int64_t v, msgpack_sbuffer *out)
{
    msgpack_unpacked up;
    msgpack_packer pk;
    size_t off = 0;
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, (const char *)CI[i].fields, CI[i].fields_len,
                                         &off), MSGPACK_UNPACK_SUCCESS);
    const msgpack_object_map *m = &up.data.via.map;
    bool found = false;
    for (uint32_t k = 0; k < m->size; k++)
        found |= hobj_str_eq(&m->ptr[k].key, field);
    msgpack_sbuffer_init(out);
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, m->size + !found);
    for (uint32_t k = 0; k < m->size; k++) {
        msgpack_pack_object(&pk, m->ptr[k].key);
        if (hobj_str_eq(&m->ptr[k].key, field))
            msgpack_pack_int64(&pk, v);
        else
            msgpack_pack_object(&pk, m->ptr[k].val);
    }
    if (!found) {
        hpk_str(&pk, field);
        msgpack_pack_int64(&pk, v);
    }
    msgpack_unpacked_destroy(&up);
}

static void submit_one(hitlq *c, const char *key, const void *f, size_t fl, hitlq_decision *d)
{
    hitlq_item it = { .key = key, .type = TYPE, .fields = f, .fields_len = fl, .priority = -1 };
    int rc = hitlq_submit(c, &it, d);
    if (rc != HITLQ_OK)
        fail_msg("submit %s: %s (%s)", key, hitlq_strerror(rc), hitlq_errstr(c));
}

/* Pipelined submits of items [from, from + n) with keys "<prefix><key>";
 * every one must be acknowledged.  keys: n * 32 bytes, kept by the caller. */
static void submit_batch(hitlq *c, const char *prefix, size_t from, size_t n,
                         hitlq_decision *d, char (*keys)[32])
{
    hitlq_item *items = calloc(n, sizeof *items);
    int *sts = calloc(n, sizeof *sts);
    assert_true(items != NULL && sts != NULL);
    for (size_t i = 0; i < n; i++) {
        const struct credit_item *ci = &CI[(from + i) % NCI];
        snprintf(keys[i], 32, "%s%s", prefix, ci->key);
        items[i] = (hitlq_item){ .key = keys[i], .type = TYPE, .fields = ci->fields,
                                 .fields_len = ci->fields_len, .priority = -1 };
    }
    assert_int_equal(hitlq_submit_batch(c, items, n, 64, d, sts), HITLQ_OK);
    for (size_t i = 0; i < n; i++)
        if (sts[i] != HITLQ_OK)
            fail_msg("submit %s: %s", keys[i], hitlq_strerror(sts[i]));
    free(items);
    free(sts);
}

/* Map value by key inside any map object. */
static const msgpack_object *mget(const msgpack_object *m, const char *key)
{
    if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < m->via.map.size; i++)
        if (hobj_str_eq(&m->via.map.ptr[i].key, key))
            return &m->via.map.ptr[i].val;
    return NULL;
}

/* STATS: the type's counters, and the depth of a queue (0 if absent). */
static void stats_type(hitlq *c, uint64_t *sub, uint64_t *autos, uint64_t *queued)
{
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    const msgpack_object *t = hitlq_reply_get(r, "types");
    assert_true(t != NULL && t->type == MSGPACK_OBJECT_ARRAY);
    *sub = *autos = *queued = UINT64_MAX;
    for (uint32_t i = 0; i < t->via.array.size; i++) {
        const msgpack_object *e = &t->via.array.ptr[i];
        if (!hobj_str_eq(mget(e, "type"), TYPE))
            continue;
        *sub = hobj_u64(mget(e, "submitted"));
        *autos = hobj_u64(mget(e, "auto_resolved"));
        *queued = hobj_u64(mget(e, "queued"));
    }
    hitlq_reply_free(r);
    assert_true(*sub != UINT64_MAX);
}

static uint64_t stats_depth(hitlq *c, const char *queue)
{
    hitlq_reply *r = NULL;
    uint64_t depth = 0;
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    const msgpack_object *q = hitlq_reply_get(r, "queues");
    assert_true(q != NULL && q->type == MSGPACK_OBJECT_ARRAY);
    for (uint32_t i = 0; i < q->via.array.size; i++)
        if (hobj_str_eq(mget(&q->via.array.ptr[i], "queue"), queue))
            depth = hobj_u64(mget(&q->via.array.ptr[i], "depth"));
    hitlq_reply_free(r);
    return depth;
}

/* Checks an item view (GET or CLAIM reply) of a blind QA copy of orig:
 * an opaque key ("qa:" + 32 hex digits, neither the original's key nor
 * "qa:<orig>"), and qa_of = orig where present (GET without auth). */
static void check_blind(const msgpack_object *body, uint64_t orig, const char *orig_key)
{
    char old[32], key[160];
    snprintf(old, sizeof old, "qa:%" PRIu64, orig);
    hobj_str(mget(body, "key"), key, sizeof key);
    assert_int_equal(strlen(key), 35);
    assert_int_equal(strncmp(key, "qa:", 3), 0);
    assert_int_equal(strspn(key + 3, "0123456789abcdef"), 32);
    assert_string_not_equal(key, old);
    assert_string_not_equal(key, orig_key);
    const msgpack_object *q = mget(body, "qa_of");
    if (q != NULL)
        assert_int_equal(hobj_u64(q), orig);
    assert_true(hobj_str_eq(mget(body, "queue"), "credit_qa"));
    assert_true(hobj_str_eq(mget(body, "route"), "qa_sample"));
    const msgpack_object *o = mget(body, "score");
    assert_non_null(o);
    assert_int_equal(o->type, MSGPACK_OBJECT_NIL);
    assert_true(hobj_str_eq(mget(body, "model"), ""));
    o = mget(body, "reasons");
    assert_true(o != NULL && o->type == MSGPACK_OBJECT_ARRAY);
    assert_int_equal(o->via.array.size, 0);
    assert_true(hobj_str_eq(mget(body, "type"), TYPE));
    assert_true(hobj_str_eq(mget(body, "explain"), "none"));
}

/* ---- audit helpers -------------------------------------------------------- */

static const struct record_ext *find_ext(const struct record *r, uint16_t type)
{
    for (size_t i = 0; i < r->ext_count; i++)
        if (r->ext[i].type == type)
            return &r->ext[i];
    return NULL;
}

/* Entry `index` decoded into *r; its bytes (borrowed by r's extensions)
 * go to *bytes (free them).  Its stored leaf hash to leaf if not NULL. */
static void fetch_entry(hitlq *c, uint64_t index, struct record *r, uint8_t **bytes,
                        uint8_t leaf[32])
{
    hitlq_reply *rep = NULL;
    size_t n = 0;
    assert_int_equal(hitlq_audit_entries(c, index, 1, &rep, &n), HITLQ_OK);
    assert_int_equal(n, 1);
    const msgpack_object *e = hitlq_reply_get(rep, "entries"), *h = hitlq_reply_get(rep, "hashes");
    const msgpack_object *b = &e->via.array.ptr[0];
    *bytes = malloc(b->via.bin.size);
    assert_non_null(*bytes);
    memcpy(*bytes, b->via.bin.ptr, b->via.bin.size);
    if (leaf != NULL)
        memcpy(leaf, h->via.array.ptr[0].via.bin.ptr, 32);
    assert_int_equal(record_decode(*bytes, b->via.bin.size, r), RECORD_OK);
    assert_int_equal(r->index, index);
    hitlq_reply_free(rep);
}

/* GET's audit.entries of item id into out (at most max); returns how many. */
static size_t item_entries(hitlq *c, uint64_t id, uint64_t *out, size_t max)
{
    hitlq_reply *g = NULL;
    size_t n = 0;
    assert_int_equal(hitlq_get(c, id, &g), HITLQ_OK);
    const msgpack_object *e = mget(hitlq_reply_get(g, "audit"), "entries");
    assert_true(e != NULL && e->type == MSGPACK_OBJECT_ARRAY);
    for (uint32_t i = 0; i < e->via.array.size && n < max; i++)
        out[n++] = hobj_u64(&e->via.array.ptr[i]);
    hitlq_reply_free(g);
    return n;
}

static bool rstr_eq(const struct record_str *s, const char *want)
{
    return s->len == strlen(want) && memcmp(s->data, want, s->len) == 0;
}

/* The policy id recorded with a new model decision (SUBMIT with a receipt). */
static void submit_policy_id(hitlq *c, const char *key, size_t i, char *out, size_t n)
{
    hitlq_item it = { .key = key, .type = TYPE, .fields = CI[i].fields,
                      .fields_len = CI[i].fields_len, .priority = -1 };
    hitlq_decision d;
    uint64_t index = 0;
    uint8_t leaf[32], *bytes;
    struct record *r = calloc(1, sizeof *r);
    assert_non_null(r);
    int rc = hitlq_submit_receipt(c, &it, false, &d, &index, leaf, NULL);
    if (rc != HITLQ_OK)
        fail_msg("submit %s: %s (%s)", key, hitlq_strerror(rc), hitlq_errstr(c));
    fetch_entry(c, index, r, &bytes, NULL);
    snprintf(out, n, "%.*s", (int)r->policy_id.len, (const char *)r->policy_id.data);
    free(bytes);
    free(r);
}

static bool log_has(const char *what)
{
    FILE *f = fopen(S.logfile, "r");
    char line[2048];
    bool found = false;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        found |= strstr(line, what) != NULL;
    if (f != NULL)
        fclose(f);
    return found;
}

/* ---- 1. triage by the embedded default ------------------------------------ */

static bool is_auto_route(const char *r)
{
    return strcmp(r, "auto_approve") == 0 || strcmp(r, "auto_reject") == 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_default_triage(void **st)
{
    (void)st;
    hitlq *c = cli("triage-bot");
    size_t n = NCI;
    hitlq_decision *d = calloc(n, sizeof *d);
    char (*keys)[32] = calloc(n, 32);
    uint64_t *ids = calloc(n, sizeof *ids);
    assert_true(d != NULL && keys != NULL && ids != NULL);
    size_t n_auto = 0, n_review = 0, n_hard = 0, n_rej = 0;
    submit_batch(c, "", 0, n, d, keys);
    for (size_t i = 0; i < n; i++) {
        const char *r = d[i].route;
        ids[i] = d[i].id;
        assert_false(d[i].duplicate);
        assert_string_equal(d[i].model, "credit_xgb@1");
        if (is_auto_route(r)) {
            assert_false(d[i].queued);
            assert_string_equal(d[i].explain, "approx");
            assert_string_equal(d[i].action, strcmp(r, "auto_approve") == 0 ? "approve"
                                                                              : "reject");
            assert_true(strcmp(r, "auto_approve") == 0 ? d[i].score >= 0.85
                                                       : d[i].score <= 0.25);
            assert_int_equal(d[i].n_rules, 0);
            n_auto++;
            n_rej += strcmp(r, "auto_reject") == 0;
        } else if (strcmp(r, "review") == 0 || strcmp(r, "hard_rule") == 0) {
            assert_true(d[i].queued);
            /* SUBMIT pays only for path attribution; the exact TreeSHAP
             * reasons come when a specialist claims it (below) */
            assert_string_equal(d[i].explain, "approx");
            if (strcmp(r, "review") == 0) {
                assert_string_equal(d[i].queue, "credit_review");
                assert_int_equal(d[i].n_rules, 0);
                n_review++;
            } else {
                assert_string_equal(d[i].queue, "credit_senior");
                assert_true(d[i].n_rules >= 1 && d[i].rules[0].hard);
                assert_string_equal(d[i].rules[0].id, "over_authority_limit");
                assert_string_equal(d[i].rules[0].field, "amount");
                assert_int_equal(d[i].priority, 200);
                n_hard++;
            }
        } else {
            fail_msg("item %s: route \"%s\"", keys[i], r);
        }
        assert_true(d[i].n_reasons >= 1);          /* scored: top features */
    }
    /* a real triage: all three outcomes occur */
    assert_true(n_auto > 0 && n_rej > 0 && n_review > 0);
    /* the counts are those of STATS */
    uint64_t sub, autos, queued;
    stats_type(c, &sub, &autos, &queued);
    assert_int_equal(sub, n);
    assert_int_equal(autos, n_auto);
    assert_int_equal(queued, n_review + n_hard);
    assert_int_equal(stats_depth(c, "credit_review"), n_review);
    assert_int_equal(stats_depth(c, "credit_senior"), n_hard);
    /* the 2 % QA sample: no gap in the ordinary ids (a gap would tell a
     * bot its item was sampled); the copies have their own id range,
     * each of an auto item, found by qa_of (no auth: trusted) */
    qsort(ids, n, sizeof *ids, cmp_u64);
    for (size_t i = 1; i < n; i++)
        assert_int_equal(ids[i], ids[i - 1] + 1);
    size_t n_copies = 0;
    hitlq_reply *g = NULL;
    while (hitlq_get(c, QA_COPY_ID_BASE + n_copies, &g) == HITLQ_OK) {
        uint64_t orig = hobj_u64(hitlq_reply_get(g, "qa_of"));
        size_t k = 0;
        while (k < n && d[k].id != orig)
            k++;
        assert_true(k < n && is_auto_route(d[k].route));
        check_blind(hitlq_reply_body(g), orig, keys[k]);
        hitlq_reply_free(g);
        g = NULL;
        n_copies++;
    }
    hitlq_reply_free(g);
    assert_int_equal(stats_depth(c, "credit_qa"), n_copies);
    print_message("default policy: %zu auto (%zu rejected), %zu review, %zu hard rule, "
                  "%zu QA copies\n", n_auto, n_rej, n_review, n_hard, n_copies);

    /* a hard rule: the amount over the automation limit */
    hitlq_decision h;
    msgpack_sbuffer f;
    size_t pick = 0;
    while (pick < n && !(strcmp(d[pick].route, "auto_approve") == 0))
        pick++;
    assert_true(pick < n);                          /* a model-approved item ... */
    patched_fields(pick, "amount", 20000, &f);
    submit_one(c, "hard-1", f.data, f.size, &h);     /* ... over the limit */
    msgpack_sbuffer_destroy(&f);
    assert_true(h.queued);
    assert_string_equal(h.route, "hard_rule");
    assert_string_equal(h.queue, "credit_senior");
    assert_string_equal(h.explain, "approx");
    assert_int_equal(h.priority, 200);
    assert_int_equal(h.n_rules, 1);
    assert_true(h.rules[0].hard);
    assert_string_equal(h.rules[0].id, "over_authority_limit");

    /* a validation rule: data quality, unscored, the rule as its reason */
    patched_fields(0, "age", 12, &f);
    submit_one(c, "dq-1", f.data, f.size, &h);
    msgpack_sbuffer_destroy(&f);
    assert_true(h.queued);
    assert_string_equal(h.route, "data_quality");
    assert_string_equal(h.queue, "credit_data_quality");
    assert_string_equal(h.explain, "none");
    assert_int_equal(h.priority, 150);
    assert_int_equal(h.n_reasons, 0);
    assert_int_equal(h.n_rules, 1);
    assert_false(h.rules[0].hard);
    assert_string_equal(h.rules[0].id, "age.min");
    assert_string_equal(h.rules[0].field, "age");
    g = NULL;
    assert_int_equal(hitlq_get(c, h.id, &g), HITLQ_OK);
    assert_true(hobj_str_eq(hitlq_reply_get(g, "route"), "data_quality"));
    assert_true(hobj_str_eq(hitlq_reply_get(g, "queue"), "credit_data_quality"));
    const msgpack_object *rs = hitlq_reply_get(g, "reasons");
    assert_true(rs != NULL && rs->type == MSGPACK_OBJECT_ARRAY && rs->via.array.size == 1);
    assert_true(hobj_str_eq(mget(&rs->via.array.ptr[0], "rule"), "age.min"));
    assert_true(hobj_str_eq(mget(&rs->via.array.ptr[0], "field"), "age"));
    char msg[200];
    hobj_str(mget(&rs->via.array.ptr[0], "message"), msg, sizeof msg);
    assert_non_null(strstr(msg, "age"));
    hitlq_reply_free(g);
    assert_int_equal(stats_depth(c, "credit_data_quality"), 1);

    /* specialists see exact reasons: CLAIM, and GET when asked */
    static const char *const QS[] = { "credit_senior", "credit_review",
                                      "credit_data_quality" };
    for (size_t q = 0; q < 3; q++) {
        struct hitlq_claim cl;
        assert_int_equal(hitlq_claim(c, &QS[q], 1, 60000, 0, "ann", &cl), HITLQ_OK);
        const msgpack_object *b = hitlq_reply_body(cl.reply);
        const msgpack_object *rr = mget(b, "reasons");
        assert_true(rr != NULL && rr->type == MSGPACK_OBJECT_ARRAY && rr->via.array.size >= 1);
        if (q == 2) {                               /* not scored: nothing to explain */
            assert_true(hobj_str_eq(mget(b, "explain"), "none"));
            assert_true(hobj_str_eq(mget(&rr->via.array.ptr[0], "rule"), "age.min"));
        } else {
            assert_true(hobj_str_eq(mget(b, "explain"), "exact"));
            assert_true(hobj_str_eq(mget(b, "route"), q == 0 ? "hard_rule" : "review"));
            if (q == 0)                             /* the rule stays first */
                assert_true(hobj_str_eq(mget(&rr->via.array.ptr[0], "hard_rule"),
                                        "over_authority_limit"));
            else
                assert_non_null(mget(&rr->via.array.ptr[0], "feature"));
        }
        assert_int_equal(hitlq_release(c, cl.id, cl.lease, 0), HITLQ_OK);
        hitlq_claim_clear(&cl);
    }
    size_t rv = 0;
    while (strcmp(d[rv].route, "review") != 0)
        rv++;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    hpk_kv_u64(&pk, "id", d[rv].id);
    hpk_kv_str(&pk, "explain", "exact");
    assert_int_equal(hitlq_get(c, d[rv].id, &g), HITLQ_OK);
    assert_true(hobj_str_eq(hitlq_reply_get(g, "explain"), "approx"));
    hitlq_reply_free(g);
    assert_int_equal(hitlq_call(c, HITLQ_OP_GET, sb.data, sb.size, &g), HITLQ_OK);
    assert_true(hobj_str_eq(hitlq_reply_get(g, "explain"), "exact"));
    assert_true(hobj_f64(hitlq_reply_get(g, "score")) == d[rv].score);
    hitlq_reply_free(g);
    msgpack_sbuffer_destroy(&sb);
    free(ids);
    free(keys);
    free(d);
    hitlq_free(c);
}

/* ---- 2. the blind QA sample ------------------------------------------------- */

static void test_qa_sample(void **st)
{
    (void)st;
    hitlq *c = cli("qa-bot");
    enum { N = 60 };
    hitlq_decision *d = calloc(N, sizeof *d);
    char (*keys)[32] = calloc(N, 32);
    struct record *r = calloc(1, sizeof *r);
    assert_true(d != NULL && keys != NULL && r != NULL);
    submit_batch(c, "qa-", 0, N, d, keys);
    size_t n_auto = 0, n_copies = 0;
    for (size_t i = 0; i < N; i++)
        n_auto += is_auto_route(d[i].route);        /* rate 1.0: every auto item */
    bool *seen = calloc(N, sizeof *seen);
    assert_non_null(seen);
    hitlq_reply *cg = NULL;                          /* copies: their own id range */
    while (hitlq_get(c, QA_COPY_ID_BASE + n_copies, &cg) == HITLQ_OK) {
        uint64_t orig = hobj_u64(hitlq_reply_get(cg, "qa_of"));
        size_t i = 0;
        while (i < N && d[i].id != orig)
            i++;
        assert_true(i < N && is_auto_route(d[i].route) && !seen[i]);
        seen[i] = true;                             /* one copy per auto item */
        check_blind(hitlq_reply_body(cg), orig, keys[i]);
        assert_true(hobj_str_eq(hitlq_reply_get(cg, "state"), "queued"));
        hitlq_reply_free(cg);
        cg = NULL;
        n_copies++;
    }
    hitlq_reply_free(cg);
    free(seen);
    assert_int_equal(n_copies, n_auto);
    assert_true(n_auto >= 4);
    assert_int_equal(stats_depth(c, "credit_qa"), n_auto);
    uint64_t sub, autos, queued;                    /* copies are not submissions */
    stats_type(c, &sub, &autos, &queued);
    assert_int_equal(sub, N);
    assert_int_equal(autos, n_auto);

    /* specialists judge the copies blind; the log compares with the model */
    static const char *const Q[] = { "credit_qa" };
    int overrides_of_approve = 0, agreements_with_approve = 0, k = 0;
    struct hitlq_claim cl;
    int crc;
    while ((crc = hitlq_claim(c, Q, 1, 60000, 0, "qa-ann", &cl)) == HITLQ_OK) {
        const msgpack_object *body = hitlq_reply_body(cl.reply);
        char key[64];
        hobj_str(mget(body, "key"), key, sizeof key);
        assert_int_equal(strncmp(key, "qa:", 3), 0);
        uint64_t orig = e2e_qa_of(c, cl.id), copy = cl.id;
        size_t i = 0;
        while (i < N && d[i].id != orig)
            i++;
        assert_true(i < N && is_auto_route(d[i].route));
        check_blind(body, orig, keys[i]);
        bool approved = strcmp(d[i].action, "approve") == 0;
        bool disagree = k++ % 2 == 0;
        const char *verdict = approved == disagree ? "reject" : "approve";
        uint64_t seq = 0;
        assert_int_equal(hitlq_resolve(c, cl.id, cl.lease, verdict, NULL, NULL, &seq),
                         HITLQ_OK);
        hitlq_claim_clear(&cl);
        /* the copy's entries: the original's model decision, then the verdict */
        uint64_t oe[4], ce[4];
        uint8_t mleaf[32], *bytes;
        assert_int_equal(item_entries(c, orig, oe, 4), 1);
        assert_int_equal(item_entries(c, copy, ce, 4), 2);
        assert_int_equal(ce[0], oe[0]);
        fetch_entry(c, oe[0], r, &bytes, mleaf);
        assert_int_equal(r->record_type, RECORD_AUTO_DECISION);
        assert_int_equal(r->decision, approved ? RECORD_DEC_APPROVE : RECORD_DEC_REJECT);
        free(bytes);
        fetch_entry(c, ce[1], r, &bytes, NULL);
        assert_int_equal(r->record_type, disagree ? RECORD_HUMAN_OVERRIDE
                                                  : RECORD_HUMAN_DECISION);
        assert_int_equal(r->actor_type, RECORD_ACTOR_HUMAN);
        assert_true(rstr_eq(&r->actor_id, "qa-ann"));
        assert_int_equal(r->ref_index, oe[0]);
        assert_memory_equal(r->ref_leaf_hash, mleaf, 32);
        assert_int_equal(r->decision, strcmp(verdict, "approve") == 0 ? RECORD_DEC_APPROVE
                                                                      : RECORD_DEC_REJECT);
        const struct record_ext *o = find_ext(r, RECORD_EXT_VERDICT);
        struct record_ext_verdict vd;
        assert_non_null(o);
        assert_null(find_ext(r, RECORD_EXT_OUTCOME));      /* format v2 */
        assert_int_equal(record_ext_verdict_decode(o->data, o->len, &vd), RECORD_OK);
        assert_int_equal(vd.agreement, disagree ? 2 : 1);
        assert_int_equal(vd.flags, RECORD_VERDICT_FLAG_QA);
        /* the recommendation in VERDICT is the model's action: an auto
         * item's score lies beyond the lean on its action's side */
        assert_int_equal(vd.recommendation.len, strlen(d[i].action));
        assert_memory_equal(vd.recommendation.data, d[i].action, strlen(d[i].action));
        free(bytes);
        overrides_of_approve += approved && disagree;
        agreements_with_approve += approved && !disagree;
        /* the original stays as the model resolved it */
        hitlq_reply *g = NULL;
        assert_int_equal(hitlq_get(c, orig, &g), HITLQ_OK);
        assert_true(hobj_str_eq(hitlq_reply_get(g, "outcome"), d[i].action));
        hitlq_reply_free(g);
    }
    assert_int_equal(crc, HITLQ_ST_EMPTY);
    assert_int_equal(k, (int)n_auto);
    assert_true(overrides_of_approve >= 1 && agreements_with_approve >= 1);
    /* a duplicate of a sampled item makes no second copy */
    hitlq_decision dup;
    size_t a = 0;
    while (!is_auto_route(d[a].route))
        a++;
    submit_one(c, keys[a], CI[a].fields, CI[a].fields_len, &dup);
    assert_true(dup.duplicate);
    assert_int_equal(dup.id, d[a].id);
    assert_int_equal(stats_depth(c, "credit_qa"), 0);
    free(r);
    free(keys);
    free(d);
    hitlq_free(c);
}

/* ---- 3. hot reload ------------------------------------------------------------ */

/* What a walk over the log from an index found. */
struct scan {
    const char *pc;              /* POLICY_CHANGE for this policy id ... */
    bool        pc_found;
    double      pc_threshold;    /* ... and its threshold */
    const char *pol[2];          /* model decisions recorded under these ids */
    size_t      n_pol[2];
    uint64_t    end;             /* the log's size */
};

static void audit_scan(hitlq *c, uint64_t from, struct scan *sc)
{
    struct record *r = calloc(1, sizeof *r);
    uint64_t at = from;
    assert_non_null(r);
    for (;;) {
        hitlq_reply *rep = NULL;
        size_t n = 0;
        if (hitlq_audit_entries(c, at, 256, &rep, &n) != HITLQ_OK || n == 0) {
            hitlq_reply_free(rep);
            break;
        }
        const msgpack_object *e = hitlq_reply_get(rep, "entries");
        for (size_t i = 0; i < n; i++) {
            const msgpack_object *b = &e->via.array.ptr[i];
            assert_int_equal(record_decode((const uint8_t *)b->via.bin.ptr, b->via.bin.size, r),
                             RECORD_OK);
            if (r->record_type == RECORD_POLICY_CHANGE && sc->pc != NULL &&
                rstr_eq(&r->policy_id, sc->pc)) {
                sc->pc_found = true;
                sc->pc_threshold = r->threshold;
            }
            if (r->record_type == RECORD_AUTO_DECISION || r->record_type == RECORD_ESCALATION)
                for (size_t k = 0; k < 2; k++)
                    sc->n_pol[k] += sc->pol[k] != NULL && rstr_eq(&r->policy_id, sc->pol[k]);
        }
        at += n;
        hitlq_reply_free(rep);
    }
    sc->end = at;
    free(r);
}

/* Finds a POLICY_CHANGE entry at or after `from` for policy `id`. */
static bool find_policy_change(hitlq *c, uint64_t from, const char *id, double *threshold)
{
    struct scan sc = { .pc = id };
    audit_scan(c, from, &sc);
    *threshold = sc.pc_threshold;
    return sc.pc_found;
}

/* RELOAD through the library; expects status want (message in errstr). */
static void reload_expect(hitlq *c, int want, const char *policy_or_msg)
{
    char pol[160];
    int rc = hitlq_reload(c, pol, sizeof pol);
    if (rc != want)
        fail_msg("reload: %s (%s), wanted %s", hitlq_strerror(rc), hitlq_errstr(c),
                 hitlq_strerror(want));
    if (want == HITLQ_OK)
        assert_string_equal(pol, policy_or_msg);
    else if (strstr(hitlq_errstr(c), policy_or_msg) == NULL)
        fail_msg("reload refused with \"%s\": no \"%s\" in it", hitlq_errstr(c), policy_or_msg);
}

/* The expected route of an item scored s (complete) under thresholds. */
static const char *route_for(const hitlq_decision *was, double auto_thr)
{
    if (strcmp(was->route, "hard_rule") == 0)
        return "hard_rule";
    if (strcmp(was->route, "review") == 0 && was->score >= 0.85)
        return "review";                           /* incomplete: never auto */
    if (was->score >= auto_thr)
        return "auto_approve";
    if (was->score <= 0.25)
        return "auto_reject";
    return "review";
}

static void frame_submit(msgpack_sbuffer *fr, uint32_t rid, const char *key, size_t i)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    hpk_kv_str(&pk, "key", key);
    hpk_kv_str(&pk, "type", TYPE);
    hpk_str(&pk, "fields");
    msgpack_sbuffer_write(&sb, (const char *)CI[i].fields, CI[i].fields_len);
    hframe_append(fr, HITLQ_OP_SUBMIT, rid, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
}

/* ~2000 pipelined submits on a raw connection; a RELOAD on another one
 * when half are acknowledged.  Every submit is acknowledged, both
 * connections live on, every item is readable. */
static void reload_under_burst(hitlq *c)
{
    enum { NB = 2000, WIN = 64 };
    struct hconn b, a;
    struct scan before = { 0 };
    audit_scan(c, 0, &before);
    uint64_t from = before.end, *ids = calloc(NB, sizeof *ids);
    assert_non_null(ids);
    assert_int_equal(hconn_open(&b, S.port), 0);
    assert_int_equal(hconn_hello(&b, "burst"), 0);
    assert_int_equal(hconn_open(&a, S.port), 0);
    assert_int_equal(hconn_hello(&a, "admin"), 0);
    size_t sent = 0, got = 0;
    bool reload_sent = false;
    msgpack_sbuffer fr;
    msgpack_sbuffer_init(&fr);
    while (got < NB) {
        fr.size = 0;
        while (sent < NB && sent - got < WIN) {
            char key[32];
            snprintf(key, sizeof key, "burst-%zu", sent);
            frame_submit(&fr, (uint32_t)(1000 + sent), key, sent % NCI);
            sent++;
        }
        if (fr.size > 0)
            assert_int_equal(hconn_send(&b, fr.data, fr.size, 30000), 0);
        struct hframe f;
        assert_int_equal(hconn_read_frame(&b, &f, 30000), 1);
        assert_int_equal(f.opcode, HITLQ_OP_SUBMIT);
        if (f.status != HITLQ_ST_OK)
            fail_msg("burst submit %u: status %u", f.request_id, f.status);
        assert_true(f.request_id >= 1000 && f.request_id < 1000 + NB);
        size_t k = f.request_id - 1000;
        assert_int_equal(ids[k], 0);
        ids[k] = hobj_u64(hframe_get(&f, "id"));
        assert_true(ids[k] > 0);
        hframe_free(&f);
        got++;
        if (!reload_sent && got == NB / 4) {
            fr.size = 0;
            hframe_append(&fr, HITLQ_OP_RELOAD, 7, NULL, 0);
            assert_int_equal(hconn_send(&a, fr.data, fr.size, 30000), 0);
            reload_sent = true;
        }
    }
    msgpack_sbuffer_destroy(&fr);
    struct hframe f;
    assert_int_equal(hconn_read_frame(&a, &f, 30000), 1);
    assert_int_equal(f.opcode, HITLQ_OP_RELOAD);
    assert_int_equal(f.status, HITLQ_ST_OK);
    assert_true(hobj_str_eq(hframe_get(&f, "policy"), "default@5"));
    assert_true(hobj_str_eq(hframe_get(&f, "previous"), "default@4"));
    hframe_free(&f);
    /* the reload landed inside the burst: both policies decided some */
    struct scan sc = { .pc = "default@5", .pol = { "default@4", "default@5" } };
    audit_scan(c, from, &sc);
    assert_true(sc.pc_found);
    print_message("burst: %zu decisions under default@4, %zu under default@5\n",
                  sc.n_pol[0], sc.n_pol[1]);
    assert_int_equal(sc.n_pol[0] + sc.n_pol[1], NB);
    assert_true(sc.n_pol[0] >= NB / 4 && sc.n_pol[1] > 0);
    assert_int_equal(hconn_ping(&b, 1), 0);
    assert_int_equal(hconn_ping(&a, 2), 0);
    hconn_close(&b);
    hconn_close(&a);
    for (size_t i = 0; i < NB; i++) {
        hitlq_reply *g = NULL;
        char key[32], want[32];
        assert_int_equal(hitlq_get(c, ids[i], &g), HITLQ_OK);
        hobj_str(hitlq_reply_get(g, "key"), key, sizeof key);
        snprintf(want, sizeof want, "burst-%zu", i);
        assert_string_equal(key, want);
        hitlq_reply_free(g);
    }
    free(ids);
}

static void test_reload(void **st)
{
    (void)st;
    enum { N = 200 };
    hitlq *c = cli("admin-bot");
    hitlq_decision *a = calloc(N, sizeof *a), *b = calloc(N, sizeof *b);
    char (*keys)[32] = calloc(N, 32), pol[160];
    assert_true(a != NULL && b != NULL && keys != NULL);
    submit_batch(c, "a-", 0, N, a, keys);
    submit_policy_id(c, "pol-1", 0, pol, sizeof pol);
    assert_string_equal(pol, "default@2");

    /* a good file: in force at once, recorded in the log */
    write_policy("3", "0.5", NULL);
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_call(c, HITLQ_OP_RELOAD, NULL, 0, &r), HITLQ_OK);
    assert_true(hobj_str_eq(hitlq_reply_get(r, "policy"), "default@3"));
    assert_true(hobj_str_eq(hitlq_reply_get(r, "previous"), "default@2"));
    const msgpack_object *ts = hitlq_reply_get(r, "types");
    assert_true(ts != NULL && ts->type == MSGPACK_OBJECT_ARRAY && ts->via.array.size == 1);
    assert_true(hobj_str_eq(mget(&ts->via.array.ptr[0], "type"), TYPE));
    assert_true(hobj_str_eq(mget(&ts->via.array.ptr[0], "model"), "credit_xgb@1"));
    assert_true(hobj_str_eq(mget(&ts->via.array.ptr[0], "kind"), "xgboost"));
    hitlq_reply_free(r);
    double thr = 0;
    assert_true(find_policy_change(c, 0, "default@3", &thr));
    assert_true(thr == 0.5);
    submit_batch(c, "b-", 0, N, b, keys);
    size_t flipped = 0;
    for (size_t i = 0; i < N; i++) {
        assert_true(b[i].score == a[i].score);     /* same model */
        assert_string_equal(b[i].route, route_for(&a[i], 0.5));
        flipped += strcmp(a[i].route, "review") == 0 && strcmp(b[i].route, "auto_approve") == 0;
    }
    assert_true(flipped > 0);
    submit_policy_id(c, "pol-2", 0, pol, sizeof pol);
    assert_string_equal(pol, "default@3");

    /* bad files are refused, with the reason; the old set stays */
    write_all(PFILE, "{ \"format\": \"hitlq-policy\", \"id\": ");
    reload_expect(c, HITLQ_ST_INVALID_POLICY, "credit_policy.json");
    char *p = tutil_slurp(POLICY_SRC, NULL);
    p = replace1(p, "\"version\": \"2\"", "\"version\": \"9\"");
    p = replace1(p, "    {\n     \"feature\": \"Duration\",\n     \"field\": \"duration_months\"\n"
                    "    },\n", "");
    write_all(PFILE, p);
    free(p);
    reload_expect(c, HITLQ_ST_INVALID_POLICY, "Duration");
    submit_policy_id(c, "pol-3", 0, pol, sizeof pol);
    assert_string_equal(pol, "default@3");
    for (size_t i = 0; i < N; i++) {               /* still the 0.5 threshold */
        if (strcmp(b[i].route, "auto_approve") != 0 || strcmp(a[i].route, "review") != 0)
            continue;
        hitlq_decision d;
        submit_one(c, "c-after-bad", CI[i].fields, CI[i].fields_len, &d);
        assert_string_equal(d.route, "auto_approve");
        break;
    }
    assert_false(find_policy_change(c, 0, "default@9", &thr));

    /* one reload at a time */
    write_policy("3", "0.5", NULL);
    struct hconn h;
    msgpack_sbuffer fr;
    assert_int_equal(hconn_open(&h, S.port), 0);
    assert_int_equal(hconn_hello(&h, "double"), 0);
    msgpack_sbuffer_init(&fr);
    hframe_append(&fr, HITLQ_OP_RELOAD, 1, NULL, 0);
    hframe_append(&fr, HITLQ_OP_RELOAD, 2, NULL, 0);
    assert_int_equal(hconn_send(&h, fr.data, fr.size, 10000), 0);
    msgpack_sbuffer_destroy(&fr);
    int st1 = -1, st2 = -1;
    for (int i = 0; i < 2; i++) {
        struct hframe f;
        assert_int_equal(hconn_read_frame(&h, &f, 30000), 1);
        assert_int_equal(f.opcode, HITLQ_OP_RELOAD);
        if (f.request_id == 1)
            st1 = f.status;
        else
            st2 = f.status;
        hframe_free(&f);
    }
    assert_int_equal(st1, HITLQ_ST_OK);
    assert_int_equal(st2, HITLQ_ST_INVALID_STATE);
    hconn_close(&h);

    /* SIGHUP: the same reload, outcome in the log */
    write_policy("4", NULL, NULL);
    assert_int_equal(kill(S.pid, SIGHUP), 0);
    uint64_t t0 = harness_now_ms();
    while (!log_has("policy default@4 in force") && harness_now_ms() - t0 < 20000)
        harness_sleep_ms(20);
    assert_true(log_has("policy default@4 in force"));
    submit_policy_id(c, "pol-4", 0, pol, sizeof pol);
    assert_string_equal(pol, "default@4");
    assert_true(find_policy_change(c, 0, "default@4", &thr));
    assert_true(thr == 0.85);

    /* a reload in the middle of a pipelined burst */
    write_policy("5", NULL, NULL);
    reload_under_burst(c);
    submit_policy_id(c, "pol-5", 0, pol, sizeof pol);
    assert_string_equal(pol, "default@5");
    free(keys);
    free(a);
    free(b);
    hitlq_free(c);
}

/* ---- 4. the CLI ------------------------------------------------------------- */

static int run_cli(const char *args, char *out, size_t n)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s -p %u -n cli-user %s 2>&1", HARNESS_CLI, S.port, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t len = 0;
    while (len + 1 < n) {
        size_t k = fread(out + len, 1, n - 1 - len, p);
        if (k == 0)
            break;
        len += k;
    }
    out[len] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli_reload(void **st)
{
    (void)st;
    char out[2048];
    write_policy("7", NULL, NULL);
    assert_int_equal(run_cli("reload", out, sizeof out), 0);
    assert_string_equal(out, "policy default@7 in force\n");
    assert_int_equal(run_cli("--json reload", out, sizeof out), 0);
    assert_non_null(strstr(out, "\"policy\":\"default@7\""));
    write_all(PFILE, "not json at all");
    assert_int_equal(run_cli("reload", out, sizeof out), 1);
    if (strstr(out, "invalid_policy") == NULL)
        fail_msg("CLI said: %s", out);
    assert_int_equal(run_cli("reload extra", out, sizeof out), 2);
    hitlq *c = cli("after-cli");
    char pol[160];
    submit_policy_id(c, "pol-cli", 0, pol, sizeof pol);
    assert_string_equal(pol, "default@7");
    hitlq_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_triage, srv_embedded, srv_teardown),
        cmocka_unit_test_setup_teardown(test_qa_sample, srv_qa, srv_teardown),
        cmocka_unit_test_setup_teardown(test_reload, srv_file, srv_teardown),
        cmocka_unit_test_setup_teardown(test_cli_reload, srv_file, srv_teardown),
    };
    if (credit_items_load(CREDIT_ITEMS_CSV, &CI, &NCI) != 0 || NCI < 1000) {
        fprintf(stderr, "cannot load %s\n", CREDIT_ITEMS_CSV);
        return 1;
    }
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    credit_items_free(CI, NCI);
    return rc;
}
