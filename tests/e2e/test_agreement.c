/*
 * test_agreement.c - the audit log's facts against a real hitlqd, checked
 * by an independent computation (proto/AUDIT-FORMAT.md §3.4, §9): a few
 * hundred German-credit rows are submitted under (a) the bundled credit
 * policy (high score = approve) and (b) a policy on the same XGBoost model
 * file where a high score means deny (auto_action "deny" at score >= 0.8,
 * reject_action "approve" at score <= 0.3, lean_threshold 0.6, extra
 * action "refer"); some rows are made to break a validation rule.  Every
 * queued item and blind QA copy is resolved, escalated or released with
 * varied outcomes, root causes and reviewers.  Then every audit entry is
 * read back (AUDIT_ENTRIES) and decoded with proto/record.c and the
 * record_ext decoders, and each model decision's RECOMMENDATION and each
 * human/queue entry's VERDICT must equal what this file computes from the
 * SUBMIT reply's score, the policy's thresholds and the verdict given -
 * never by calling server code.  Also: RESOLVE of an undeclared outcome is
 * invalid_outcome and writes nothing; unscored (data-quality) items carry
 * score nil in SUBMIT, GET and on the result stream; hitlq-audit export
 * takes a fresh checkpoint covering every entry and summary counts the
 * same agreements; (b) a RELOAD of a changed model file under the same
 * id@version is refused naming both digests, and nothing changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "credit_items.h"
#include "e2e_util.h"
#include "harness.h"
#include "hitlq_msgpack.h"
#include "qa_copy.h"
#include "record.h"
#include "tutil.h"

#define TYPE       "credit_application"
#define POLICY_SRC "server/score/defaults/credit_policy.json"
#define MODEL_SRC  "server/score/defaults/credit_xgb.json"
#define AUDIT_TOOL "build/test/hitlq-audit"
#define N_ROWS     300
#define MAX_IDS    1024
/* The slot of item id in run.it: ordinary ids as they are, QA copies
 * (their own id range, qa_copy.h) from MAX_IDS / 2 on. */
#define SLOT(id) ((id) >= QA_COPY_ID_BASE ? MAX_IDS / 2 + ((id) - QA_COPY_ID_BASE) : (id))
#define SECOND_Q   "credit_second"

/* The policy under test, as this file knows it (not from the server). */
struct pol {
    const char *auto_action, *reject_action, *extra;   /* extra: NULL or "refer" */
    double      t_hi, t_lo, lean;
    bool        lean_key;                              /* lean given in the file */
    const char *model_id, *model_version;
};

static const struct pol POL_APPROVE = { "approve", "reject", NULL, 0.85, 0.25,
                                        (0.85 + 0.25) / 2, false, "credit_xgb", "1" };
static const struct pol POL_DENY = { "deny", "approve", "refer", 0.8, 0.3, 0.6, true,
                                     "risk_xgb", "1" };

/* What the test knows of one item id. */
struct item {
    bool   used, dq, hard, qa_copy;
    uint64_t orig;                     /* a QA copy: its original's id */
    double score;                      /* SUBMIT reply's; NaN when not scored */
    char   rec[16];                    /* independent recommendation */
};

/* One human or queue event the test caused, in log order. */
enum act_kind { ACT_RESOLVE, ACT_ESCALATE, ACT_RELEASE };
struct act {
    uint64_t      id;
    enum act_kind kind;
    char          outcome[16], root[24], worker[8];
};

struct run {
    const struct pol *p;
    struct item  it[MAX_IDS];
    struct act   acts[4 * MAX_IDS];
    size_t       n_acts, n_results, n_dq;
    uint64_t     agree, override, notcmp, qa_agree, qa_override, dq_seen;
    uint8_t      digest[32];           /* the model file's SHA-256 */
};

static struct hserver S;
static struct credit_item *CI;
static size_t NCI;
static char PDIR[64];

/* ---- the independent rule ------------------------------------------------ */

/* AUDIT-FORMAT.md §3.4 RECOMMENDATION, computed here from the score. */
static const char *expect_rec(const struct pol *p, const struct item *it)
{
    if (it->dq)
        return "";
    return it->score >= p->lean ? p->auto_action : p->reject_action;
}

/* VERDICT agreement for outcome against recommendation rec. */
static uint8_t expect_agreement(const struct act *a, const char *rec)
{
    if (a->kind == ACT_RELEASE)
        return 0;
    if (a->kind == ACT_ESCALATE || rec[0] == '\0')
        return 3;
    return strcmp(a->outcome, rec) == 0 ? 1 : 2;
}

/* ---- set-up: the policy directory and the server ------------------------- */

static void write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* PDIR/policy.json: the bundled policy edited for p, model version ver. */
static void write_policy(const struct pol *p, const char *ver)
{
    json_error_t je;
    json_t *root = json_load_file(POLICY_SRC, 0, &je), *t;
    char path[128];
    assert_non_null(root);
    t = json_object_get(json_object_get(root, "types"), TYPE);
    assert_non_null(t);
    json_object_set_new(json_object_get(t, "qa_sample"), "rate", json_real(0.3));
    json_object_del(t, "profile");       /* no input-drift profile in PDIR */
    json_object_set_new(t, "auto_action", json_string(p->auto_action));
    json_object_set_new(t, "reject_action", json_string(p->reject_action));
    json_object_set_new(t, "auto_threshold", json_real(p->t_hi));
    json_object_set_new(t, "auto_reject_threshold", json_real(p->t_lo));
    json_object_set_new(t, "model_id", json_string(p->model_id));
    json_object_set_new(t, "model_version", json_string(ver));
    if (p->lean_key)
        json_object_set_new(t, "lean_threshold", json_real(p->lean));
    if (p->extra != NULL)
        json_object_set_new(t, "actions", json_pack("[s]", p->extra));
    json_object_set_new(t, "escalate_to", json_pack("[s]", SECOND_Q));   /* a known queue */
    snprintf(path, sizeof path, "%s/policy.json", PDIR);
    assert_int_equal(json_dump_file(root, path, JSON_INDENT(1)), 0);
    json_decref(root);
}

/* PDIR/credit_xgb.json: the bundled model, plus `tail` bytes (whitespace:
 * the same model in a file with another digest); its digest into dg. */
static void write_model(const char *tail, uint8_t dg[32])
{
    size_t len, tl = strlen(tail);
    char *m = tutil_slurp(MODEL_SRC, &len), path[128];
    m = realloc(m, len + tl + 1);
    assert_non_null(m);
    memcpy(m + len, tail, tl + 1);
    snprintf(path, sizeof path, "%s/credit_xgb.json", PDIR);
    write_text(path, m, len + tl);
    crypto_hash_sha256(dg, (const unsigned char *)m, len + tl);
    free(m);
}

static int start(const struct pol *p, struct run *r)
{
    char cfg[256];
    snprintf(PDIR, sizeof PDIR, "/tmp/hitlq-agree-XXXXXX");
    if (mkdtemp(PDIR) == NULL)
        return -1;
    memset(r, 0, sizeof *r);
    r->p = p;
    write_policy(p, p->model_version);
    write_model("", r->digest);
    snprintf(cfg, sizeof cfg, "policy = \"%s/policy.json\"\naudit_checkpoint_ms = 200\n", PDIR);
    return harness_server_start(&S, cfg) < 0 ? -1 : 0;
}

static int stop(void)
{
    char cmd[128];
    int rc = harness_server_stop(&S);
    harness_server_cleanup(&S);
    snprintf(cmd, sizeof cmd, "rm -rf %s", PDIR);
    return system(cmd) == 0 ? rc : -1;
}

static hitlq *cli(const char *name)
{
    return e2e_connect(S.port, name, 60000);
}

/* ---- submitting ---------------------------------------------------------- */

/* Row i's fields, with duration_months = 0 (breaks its min rule) when bad. */
static void row_fields(size_t i, bool bad, msgpack_sbuffer *out)
{
    msgpack_unpacked up;
    msgpack_packer pk;
    size_t off = 0;
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, (const char *)CI[i].fields, CI[i].fields_len,
                                         &off), MSGPACK_UNPACK_SUCCESS);
    const msgpack_object_map *m = &up.data.via.map;
    msgpack_sbuffer_init(out);
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, m->size);
    for (uint32_t k = 0; k < m->size; k++) {
        msgpack_pack_object(&pk, m->ptr[k].key);
        if (bad && hobj_str_eq(&m->ptr[k].key, "duration_months"))
            msgpack_pack_int64(&pk, 0);
        else
            msgpack_pack_object(&pk, m->ptr[k].val);
    }
    msgpack_unpacked_destroy(&up);
}

/* Submits N_ROWS rows (every 23rd broken), pipelined; records each item. */
static void submit_rows(hitlq *c, struct run *r)
{
    msgpack_sbuffer *fb = calloc(N_ROWS, sizeof *fb);
    hitlq_item *items = calloc(N_ROWS, sizeof *items);
    hitlq_decision *d = calloc(N_ROWS, sizeof *d);
    int *st = calloc(N_ROWS, sizeof *st);
    assert_true(fb && items && d && st && NCI >= N_ROWS);
    for (size_t i = 0; i < N_ROWS; i++) {
        row_fields(i, i % 23 == 5, &fb[i]);
        items[i] = (hitlq_item){ .key = CI[i].key, .type = TYPE, .fields = fb[i].data,
                                 .fields_len = fb[i].size, .priority = -1 };
    }
    assert_int_equal(hitlq_submit_batch(c, items, N_ROWS, 32, d, st), HITLQ_OK);
    for (size_t i = 0; i < N_ROWS; i++) {
        assert_int_equal(st[i], HITLQ_OK);
        assert_true(d[i].id < MAX_IDS / 2);
        struct item *it = &r->it[d[i].id];
        it->used = true;
        it->dq = strcmp(d[i].route, "data_quality") == 0;
        it->hard = strcmp(d[i].route, "hard_rule") == 0;
        it->score = d[i].score;
        assert_true(it->dq || i % 23 != 5);              /* broken rows: data quality */
        assert_true(it->dq == isnan(d[i].score));        /* unscored: nil */
        r->n_dq += it->dq;
        snprintf(it->rec, sizeof it->rec, "%s", expect_rec(r->p, it));
        if (!d[i].queued)                                /* the auto action's side */
            assert_string_equal(d[i].action, it->score >= r->p->t_hi ? r->p->auto_action
                                                                      : r->p->reject_action);
        msgpack_sbuffer_destroy(&fb[i]);
    }
    r->n_results = 0;
    for (size_t i = 0; i < N_ROWS; i++)
        r->n_results += !d[i].queued;
    free(fb);
    free(items);
    free(d);
    free(st);
}

/* ---- resolving ----------------------------------------------------------- */

/* The outcome of the k-th verdict on an item recommending rec. */
static const char *pick_outcome(const struct pol *p, const char *rec, size_t k)
{
    if (p->extra != NULL && k % 9 == 4)
        return p->extra;
    switch (k % 4) {
    case 0:  return rec[0] != '\0' ? rec : p->auto_action;           /* agree */
    case 1:  return strcmp(rec, p->auto_action) == 0 ? p->reject_action
                                                     : p->auto_action;  /* override */
    case 2:  return p->auto_action;
    default: return p->reject_action;
    }
}

static struct act *act_add(struct run *r, uint64_t id, enum act_kind kind, const char *worker)
{
    assert_true(r->n_acts < sizeof r->acts / sizeof r->acts[0]);
    struct act *a = &r->acts[r->n_acts++];
    memset(a, 0, sizeof *a);
    a->id = id;
    a->kind = kind;
    snprintf(a->worker, sizeof a->worker, "%s", worker);
    return a;
}

/* The number of audit entries of item id (GET's audit.entries). */
static size_t item_entries(hitlq *c, uint64_t id)
{
    hitlq_reply *g = NULL;
    size_t n = 0;
    assert_int_equal(hitlq_get(c, id, &g), HITLQ_OK);
    const msgpack_object *a = hitlq_reply_get(g, "audit");
    for (uint32_t i = 0; a != NULL && a->type == MSGPACK_OBJECT_MAP && i < a->via.map.size; i++)
        if (hobj_str_eq(&a->via.map.ptr[i].key, "entries"))
            n = a->via.map.ptr[i].val.via.array.size;
    hitlq_reply_free(g);
    return n;
}

/* RESOLVE of an undeclared outcome: invalid_outcome, nothing written, the
 * lease still good. */
static void check_invalid_outcome(hitlq *c, const struct hitlq_claim *cl)
{
    size_t before = item_entries(c, cl->id);
    assert_int_equal(hitlq_resolve(c, cl->id, cl->lease, "maybe", NULL, NULL, NULL),
                     HITLQ_ST_INVALID_OUTCOME);
    assert_non_null(strstr(hitlq_errstr(c), "\"maybe\" is not an action"));
    assert_string_equal(hitlq_strerror(HITLQ_ST_INVALID_OUTCOME), "invalid_outcome");
    assert_int_equal(item_entries(c, cl->id), before);
}

/* One claimed item (the k-th claim, by "ann" or "bob"): escalate (once
 * per item), release (once), or resolve. */
static void handle(hitlq *c, struct run *r, const struct hitlq_claim *cl, size_t k,
                   bool *released)
{
    char key[64], queue[64];
    static const char *const roots[] = { "", "missing_docs", "income_mismatch", "fraud_ring" };
    const char *worker = k % 2 ? "bob" : "ann";
    struct item *it = &r->it[SLOT(cl->id)];
    hobj_str(hitlq_reply_get(cl->reply, "key"), key, sizeof key);
    hobj_str(hitlq_reply_get(cl->reply, "queue"), queue, sizeof queue);
    if (strncmp(key, "qa:", 3) == 0 && !it->used) {        /* a blind QA copy */
        uint64_t orig = e2e_qa_of(c, cl->id);
        assert_true(orig > 0 && orig < MAX_IDS / 2);
        assert_true(r->it[SLOT(orig)].used && !r->it[SLOT(orig)].dq);
        *it = r->it[SLOT(orig)];
        it->qa_copy = true;
        it->orig = orig;
    }
    assert_true(it->used);
    if (k % 7 == 3 && strcmp(queue, SECOND_Q) != 0) {
        assert_int_equal(hitlq_escalate(c, cl->id, cl->lease, SECOND_Q, "second look"),
                         HITLQ_OK);
        act_add(r, cl->id, ACT_ESCALATE, worker);
    } else if (k % 11 == 6 && !released[SLOT(cl->id)]) {
        released[SLOT(cl->id)] = true;
        assert_int_equal(hitlq_release(c, cl->id, cl->lease, 0), HITLQ_OK);
        act_add(r, cl->id, ACT_RELEASE, worker);
    } else {
        struct act *a = act_add(r, cl->id, ACT_RESOLVE, worker);
        snprintf(a->outcome, sizeof a->outcome, "%s", pick_outcome(r->p, it->rec, k));
        snprintf(a->root, sizeof a->root, "%s", roots[k % 4]);
        assert_int_equal(hitlq_resolve(c, cl->id, cl->lease, a->outcome, NULL,
                                       a->root[0] ? a->root : NULL, NULL), HITLQ_OK);
        r->n_results++;
    }
}

/* Claims and handles until every queue is empty. */
static void resolve_all(hitlq *c, struct run *r)
{
    static const char *const Q[] = { "credit_review", "credit_senior", "credit_data_quality",
                                     "credit_qa", SECOND_Q };
    bool *released = calloc(MAX_IDS, sizeof *released);
    struct hitlq_claim cl;
    size_t k = 0;
    int rc;
    assert_non_null(released);
    while ((rc = hitlq_claim(c, Q, 5, 600000, 0, k % 2 ? "bob" : "ann", &cl)) == HITLQ_OK) {
        assert_true(SLOT(cl.id) < MAX_IDS);
        if (k == 0)
            check_invalid_outcome(c, &cl);
        handle(c, r, &cl, k++, released);
        hitlq_claim_clear(&cl);
    }
    assert_int_equal(rc, HITLQ_ST_EMPTY);
    assert_true(k > N_ROWS / 4);
    free(released);
}

/* ---- reading the log back ------------------------------------------------ */

struct entries {
    size_t    n;
    uint8_t **b;
    size_t   *len;
};

static void entries_read(hitlq *c, struct entries *e)
{
    size_t cap = 0, got;
    memset(e, 0, sizeof *e);
    do {
        hitlq_reply *rep = NULL;
        assert_int_equal(hitlq_audit_entries(c, e->n, 1024, &rep, &got), HITLQ_OK);
        const msgpack_object *a = hitlq_reply_get(rep, "entries");
        if (e->n + got > cap) {
            cap = (e->n + got) * 2;
            e->b = realloc(e->b, cap * sizeof *e->b);
            e->len = realloc(e->len, cap * sizeof *e->len);
            assert_true(e->b != NULL && e->len != NULL);
        }
        for (size_t i = 0; i < got; i++) {
            const msgpack_object *o = &a->via.array.ptr[i];
            e->b[e->n + i] = malloc(o->via.bin.size);
            memcpy(e->b[e->n + i], o->via.bin.ptr, o->via.bin.size);
            e->len[e->n + i] = o->via.bin.size;
        }
        e->n += got;
        hitlq_reply_free(rep);
    } while (got > 0);
}

static void entries_free(struct entries *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->b[i]);
    free(e->b);
    free(e->len);
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

static uint64_t item_of(const struct record *r)
{
    char s[32];
    snprintf(s, sizeof s, "%.*s", r->item_id.len, (const char *)r->item_id.data);
    return strtoull(s, NULL, 10);
}

/* A model decision: RECOMMENDATION as computed here, score as replied. */
static void check_model_entry(const struct run *r, const struct record *rec)
{
    uint64_t id = item_of(rec);
    const struct item *it = &r->it[SLOT(id)];
    const struct record_ext *x = ext_of(rec, RECORD_EXT_RECOMMENDATION);
    struct record_ext_recommendation rc;
    assert_true(SLOT(id) < MAX_IDS && it->used && !it->qa_copy);
    assert_non_null(x);
    assert_int_equal(record_ext_recommendation_decode(x->data, x->len, &rc), RECORD_OK);
    if (!bytes_eq(&rc.recommendation, it->rec))
        fail_msg("item %" PRIu64 " score %.17g: recommendation \"%.*s\", computed \"%s\"",
                 id, it->score, (int)rc.recommendation.len,
                 (const char *)rc.recommendation.data, it->rec);
    assert_true(rc.lean_threshold == r->p->lean);
    assert_true(rc.auto_threshold == r->p->t_hi && rc.reject_threshold == r->p->t_lo);
    assert_int_equal(rc.flags, RECORD_REC_FLAG_REJECT_BAND |
                               (it->dq ? 0 : RECORD_REC_FLAG_SCORED) |
                               (it->hard ? RECORD_REC_FLAG_HARD_RULE : 0));
    if (it->dq)
        assert_true(rec->score == 0.0);                 /* null: flag bit 1 = 0 */
    else
        assert_true(rec->score == it->score);
    assert_memory_equal(rec->model_digest, r->digest, 32);
    assert_null(ext_of(rec, RECORD_EXT_OUTCOME));
}

/* A human/queue entry against the next act the test caused. */
static void check_verdict_entry(struct run *r, const struct entries *e, const struct record *rec,
                                const struct act *a)
{
    const struct item *it = &r->it[SLOT(a->id)];
    const struct record_ext *x = ext_of(rec, RECORD_EXT_VERDICT);
    struct record_ext_verdict vd;
    struct record ref;
    uint8_t want = expect_agreement(a, it->rec);
    assert_int_equal(item_of(rec), a->id);
    assert_non_null(x);
    assert_null(ext_of(rec, RECORD_EXT_OUTCOME));
    assert_int_equal(record_ext_verdict_decode(x->data, x->len, &vd), RECORD_OK);
    assert_true(bytes_eq(&vd.outcome, a->kind == ACT_ESCALATE ? "escalate" :
                                      a->kind == ACT_RELEASE ? "release" : a->outcome));
    assert_true(bytes_eq(&vd.recommendation, it->rec));
    if (vd.agreement != want)
        fail_msg("item %" PRIu64 " (%s, score %.17g): \"%s\" vs \"%s\": agreement %u, "
                 "computed %u", a->id, it->qa_copy ? "QA copy" : "item", it->score,
                 a->outcome, it->rec, vd.agreement, want);
    assert_true(bytes_eq(&vd.root_cause, a->root));
    assert_true(bytes_eq(&vd.reviewer, a->worker));
    assert_int_equal(vd.flags, it->qa_copy ? RECORD_VERDICT_FLAG_QA : 0);
    assert_int_equal(rec->record_type, a->kind == ACT_RELEASE ? RECORD_QUEUE_EVENT
                                       : want == 2 ? RECORD_HUMAN_OVERRIDE
                                                   : RECORD_HUMAN_DECISION);
    /* it refers to the model decision of the item (a QA copy: the original's) */
    assert_true(rec->ref_index < e->n);
    assert_int_equal(record_decode(e->b[rec->ref_index], e->len[rec->ref_index], &ref),
                     RECORD_OK);
    assert_int_equal(item_of(&ref), it->qa_copy ? it->orig : a->id);
    if (a->kind == ACT_RESOLVE) {
        r->agree += want == 1;
        r->override += want == 2;
        r->notcmp += want == 3;
        r->qa_agree += it->qa_copy && want == 1;
        r->qa_override += it->qa_copy && want == 2;
    } else {
        r->notcmp += want == 3;                        /* escalations */
    }
}

/* Every entry of the log, in order, against what the test did. */
static void check_log(hitlq *c, struct run *r, struct entries *e)
{
    struct record *rec = malloc(sizeof *rec);
    size_t next = 0, models = 0;
    assert_non_null(rec);
    entries_read(c, e);
    for (size_t i = 0; i < e->n; i++) {
        assert_int_equal(record_decode(e->b[i], e->len[i], rec), RECORD_OK);
        switch (rec->record_type) {
        case RECORD_AUTO_DECISION:
        case RECORD_ESCALATION:
            check_model_entry(r, rec);
            models++;
            break;
        case RECORD_HUMAN_DECISION:
        case RECORD_HUMAN_OVERRIDE:
        case RECORD_QUEUE_EVENT:
            assert_true(next < r->n_acts);
            check_verdict_entry(r, e, rec, &r->acts[next++]);
            break;
        default:
            break;
        }
    }
    assert_int_equal(models, N_ROWS);
    assert_int_equal(next, r->n_acts);
    /* the verdicts were varied: each kind of agreement occurred */
    assert_true(r->agree > 0 && r->override > 0 && r->notcmp > 0);
    assert_true(r->qa_agree > 0 && r->qa_override > 0);
    free(rec);
}

/* ---- scores on the result stream ----------------------------------------- */

static int on_result(void *arg, const hitlq_reply *res)
{
    struct run *r = arg;
    uint64_t id = hobj_u64(hitlq_reply_get(res, "id"));
    const msgpack_object *s = hitlq_reply_get(res, "score");
    assert_true(SLOT(id) < MAX_IDS && r->it[SLOT(id)].used && s != NULL);
    if (r->it[SLOT(id)].dq || r->it[SLOT(id)].qa_copy) {
        assert_int_equal(s->type, MSGPACK_OBJECT_NIL);   /* never 0.0 */
        r->dq_seen += r->it[SLOT(id)].dq;
    } else {
        assert_true(hobj_f64(s) == r->it[SLOT(id)].score);
    }
    return --r->n_results == 0;
}

static void check_results(hitlq *c, struct run *r)
{
    hitlq_reply *g = NULL;
    uint64_t dq = 0;
    for (uint64_t id = 0; id < MAX_IDS; id++)
        if (r->it[SLOT(id)].used && r->it[SLOT(id)].dq && dq++ == 0) {
            assert_int_equal(hitlq_get(c, id, &g), HITLQ_OK);
            assert_int_equal(hitlq_reply_get(g, "score")->type, MSGPACK_OBJECT_NIL);
            hitlq_reply_free(g);
        }
    assert_int_equal(hitlq_watch(c, 1, 10000, on_result, r), HITLQ_OK);
    assert_int_equal(r->dq_seen, dq);
}

/* ---- hitlq-audit export (fresh) and summary ------------------------------ */

static int run_cmd(const char *cmd, char *out, size_t n)
{
    char full[1024];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t len = fread(out, 1, n - 1, p);
    out[len] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static json_int_t jint(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(json_object_get(o, a), b);
    if (!json_is_integer(v))
        fail_msg("summary has no %s.%s", a, b);
    return json_integer_value(v);
}

static void check_auditor(const struct run *r, size_t n_entries)
{
    char cmd[512], out[16384], want[64];
    json_error_t je;
    snprintf(cmd, sizeof cmd, "%s export --server 127.0.0.1:%u --out %s/exp", AUDIT_TOOL,
             (unsigned)S.port, PDIR);
    if (run_cmd(cmd, out, sizeof out) != 0)
        fail_msg("export: %s", out);
    snprintf(want, sizeof want, "checkpoint: size %zu (fresh", n_entries);
    if (strstr(out, want) == NULL)
        fail_msg("export output lacks \"%s\": %s", want, out);
    snprintf(cmd, sizeof cmd, "%s summary --json %s/exp 2>/dev/null", AUDIT_TOOL, PDIR);
    assert_int_equal(run_cmd(cmd, out, sizeof out), 0);
    json_t *j = json_loads(out, 0, &je);
    if (j == NULL)
        fail_msg("summary is not JSON: %s", out);
    assert_int_equal(jint(j, "human", "agreed"), r->agree);
    assert_int_equal(jint(j, "human", "overrode"), r->override);
    assert_int_equal(jint(j, "human", "not_comparable"), r->notcmp);
    assert_int_equal(jint(j, "human", "legacy_outcome_verdicts"), 0);
    json_t *qa = json_object_get(json_object_get(j, "human"), "qa");
    assert_int_equal(json_integer_value(json_object_get(qa, "agreed")), r->qa_agree);
    assert_int_equal(json_integer_value(json_object_get(qa, "overrode")), r->qa_override);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, r->digest, 32);
    json_t *m = json_object_get(json_object_get(j, "models"), hex);
    assert_non_null(m);
    assert_int_equal(json_integer_value(json_object_get(m, "scored")),
                     N_ROWS - r->n_dq);                  /* the data-quality rows are not */
    json_decref(j);
}

/* ---- (b) only: a changed model file under the same id@version ------------ */

static void check_reload_refused(hitlq *c, struct run *r)
{
    uint8_t dg2[32];
    char h1[65], h2[65], pol[160];
    write_model("\n\n", dg2);                      /* same trees, another file */
    sodium_bin2hex(h1, sizeof h1, r->digest, 32);
    sodium_bin2hex(h2, sizeof h2, dg2, 32);
    assert_int_equal(hitlq_reload(c, pol, sizeof pol), HITLQ_ST_INVALID_POLICY);
    const char *msg = hitlq_errstr(c);
    if (!strstr(msg, "risk_xgb@1") || !strstr(msg, h1) || !strstr(msg, h2))
        fail_msg("refusal does not name the model and both digests: %s", msg);
    /* nothing changed: a new decision still names the old file */
    hitlq_item it = { .key = "after-refusal", .type = TYPE, .fields = CI[0].fields,
                      .fields_len = CI[0].fields_len, .priority = -1 };
    uint64_t index;
    uint8_t leaf[32];
    hitlq_decision d;
    hitlq_reply *rep = NULL;
    size_t got;
    assert_int_equal(hitlq_submit_receipt(c, &it, false, &d, &index, leaf, NULL), HITLQ_OK);
    assert_int_equal(hitlq_audit_entries(c, index, 1, &rep, &got), HITLQ_OK);
    const msgpack_object *e = &hitlq_reply_get(rep, "entries")->via.array.ptr[0];
    struct record *rec = malloc(sizeof *rec);
    assert_non_null(rec);
    assert_int_equal(record_decode((const uint8_t *)e->via.bin.ptr, e->via.bin.size, rec),
                     RECORD_OK);
    assert_memory_equal(rec->model_digest, r->digest, 32);
    hitlq_reply_free(rep);
    /* a new model_version for the new file is accepted */
    write_policy(r->p, "2");
    assert_int_equal(hitlq_reload(c, pol, sizeof pol), HITLQ_OK);
    it.key = "after-new-version";
    assert_int_equal(hitlq_submit_receipt(c, &it, false, &d, &index, leaf, NULL), HITLQ_OK);
    assert_string_equal(d.model, "risk_xgb@2");
    free(rec);
}

/* ---- the two policies ---------------------------------------------------- */

static void run_policy(const struct pol *p)
{
    struct run *r = calloc(1, sizeof *r);
    struct entries e;
    assert_non_null(r);
    if (start(p, r) != 0)
        fail_msg("hitlqd did not start");
    hitlq *c = cli("agree-bot");
    submit_rows(c, r);
    resolve_all(c, r);
    check_log(c, r, &e);
    check_results(c, r);
    check_auditor(r, e.n);
    fprintf(stderr, "agreement [%s at high scores]: %zu entries, %zu events; verdicts: "
            "agree %" PRIu64 ", override %" PRIu64 ", not comparable %" PRIu64 " (QA: agree %"
            PRIu64 ", override %" PRIu64 "); %zu data-quality items\n", p->auto_action, e.n,
            r->n_acts, r->agree, r->override, r->notcmp, r->qa_agree, r->qa_override, r->n_dq);
    if (p == &POL_DENY)
        check_reload_refused(c, r);
    entries_free(&e);
    hitlq_free(c);
    assert_int_equal(stop(), 0);
    free(r);
}

static void test_high_score_approves(void **st)
{
    (void)st;
    run_policy(&POL_APPROVE);
}

static void test_high_score_denies(void **st)
{
    (void)st;
    run_policy(&POL_DENY);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (credit_items_load(CREDIT_ITEMS_CSV, &CI, &NCI) != 0) {
        fprintf(stderr, "test_agreement: cannot read %s\n", CREDIT_ITEMS_CSV);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_high_score_approves),
        cmocka_unit_test(test_high_score_denies),
    };
    int rc = cmocka_run_group_tests_name("agreement", tests, NULL, NULL);
    credit_items_free(CI, NCI);
    return rc;
}
