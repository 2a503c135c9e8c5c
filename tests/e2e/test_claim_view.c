/*
 * test_claim_view.c - the CLAIM reply a workstation renders (PROTOCOL.md
 * §4.6), against a policy this file writes and reads back itself (the
 * bundled XGBoost credit policy plus "actions", "root_causes" and
 * "escalate_to"): actions, escalate_to and root_causes equal what the
 * file declares; recommendation equals the RECOMMENDATION of the item's
 * model-decision audit entry (decoded here from AUDIT_ENTRIES) and the
 * lean rule on the replied score; band is the first band at or below the
 * score; reasons are ordered the same in CLAIM and GET; RESOLVE refuses
 * an undeclared root cause and keeps the lease; the escalation note
 * reaches the next claimer's notes.
 */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "credit_items.h"
#include "e2e_util.h"
#include "harness.h"
#include "hitlq.h"
#include "hitlq_msgpack.h"
#include "record.h"
#include "wire.h"

#define TYPE       "credit_application"
#define POLICY_SRC "server/score/defaults/credit_policy.json"
#define MODEL_SRC  "server/score/defaults/credit_xgb.json"

static struct hserver S;
static char PDIR[64];
static json_t *POL;           /* the type's policy object, as written */

/* PDIR/policy.json: the bundled policy with the workstation keys added. */
static void
write_policy(void)
{
    json_error_t je;
    json_t *root = json_load_file(POLICY_SRC, 0, &je), *t;
    char path[PATH_MAX + 64], cwd[PATH_MAX];

    assert_non_null(root);
    assert_non_null(getcwd(cwd, sizeof cwd));
    t = json_object_get(json_object_get(root, "types"), TYPE);
    assert_non_null(t);
    json_object_del(t, "profile");
    snprintf(path, sizeof path, "%s/%s", cwd, MODEL_SRC);
    json_object_set_new(t, "model", json_string(path));
    json_object_set_new(t, "actions", json_pack("[s]", "refer"));
    json_object_set_new(t, "root_causes", json_pack("[s,s]", "income_unverified",
                                                    "docs_missing"));
    json_object_set_new(t, "escalate_to", json_pack("[s,s]", "credit_fraud", "a_first"));
    snprintf(path, sizeof path, "%s/policy.json", PDIR);
    assert_int_equal(json_dump_file(root, path, JSON_INDENT(1)), 0);
    POL = json_incref(t);
    json_decref(root);
}

static int
setup(void **st)
{
    char cfg[256];

    (void)st;
    snprintf(PDIR, sizeof PDIR, "/tmp/hitlq-view-XXXXXX");
    if (mkdtemp(PDIR) == NULL)
        return -1;
    write_policy();
    snprintf(cfg, sizeof cfg, "policy = \"%s/policy.json\"\naudit_checkpoint_ms = 200\n", PDIR);
    return harness_server_start(&S, cfg) < 0 ? -1 : 0;
}

static int
teardown(void **st)
{
    char cmd[128];
    int rc = harness_server_stop(&S);

    (void)st;
    harness_server_cleanup(&S);
    json_decref(POL);
    snprintf(cmd, sizeof cmd, "rm -rf %s", PDIR);
    return system(cmd) == 0 ? rc : -1;
}

/* ---- what the policy file says -------------------------------------------- */

static const char *
pol_str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Asserts that the str array a equals the n names of want, in order. */
static void
assert_names(const msgpack_object *a, const char *const *want, size_t n)
{
    assert_non_null(a);
    assert_int_equal(a->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(a->via.array.size, n);
    for (size_t i = 0; i < n; i++)
        if (!hobj_str_eq(&a->via.array.ptr[i], want[i]))
            fail_msg("entry %zu is not \"%s\"", i, want[i]);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds s to the set q (n entries) unless NULL, empty or present. */
static void
set_add(const char **q, size_t *n, const char *s)
{
    if (s == NULL || s[0] == '\0')
        return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(q[i], s) == 0)
            return;
    q[(*n)++] = s;
}

/* Every queue the file names and dead_letter, sorted. */
static size_t
pol_queues(const char **q)
{
    size_t n = 0, i;
    json_t *v;

    set_add(q, &n, "dead_letter");
    set_add(q, &n, pol_str(POL, "queue"));
    json_array_foreach(json_object_get(POL, "hard_rules"), i, v)
        set_add(q, &n, pol_str(v, "queue"));
    set_add(q, &n, pol_str(json_object_get(POL, "data_quality"), "queue"));
    set_add(q, &n, pol_str(json_object_get(POL, "qa_sample"), "queue"));
    json_array_foreach(json_object_get(POL, "escalate_to"), i, v)
        set_add(q, &n, json_string_value(v));
    qsort(q, n, sizeof *q, cmp_str);
    return n;
}

static void
check_policy_lists(const msgpack_object *b)
{
    const char *acts[8], *rc[8], *q[32];
    size_t na = 0, nr = 0, nq = pol_queues(q), i;
    json_t *v;

    acts[na++] = pol_str(POL, "auto_action");
    acts[na++] = pol_str(POL, "reject_action");
    json_array_foreach(json_object_get(POL, "actions"), i, v)
        acts[na++] = json_string_value(v);
    json_array_foreach(json_object_get(POL, "root_causes"), i, v)
        rc[nr++] = json_string_value(v);
    assert_names(wire_map_get(b, "actions"), acts, na);
    assert_names(wire_map_get(b, "root_causes"), rc, nr);
    assert_names(wire_map_get(b, "escalate_to"), q, nq);
    assert_true(nq >= 6);    /* review, senior, data quality, qa, 2 escalate_to, dead letter */
}

/* ---- what the audit log says ----------------------------------------------- */

/* The RECOMMENDATION of audit entry `index`, decoded here, into out. */
static void
audit_rec(hitlq *c, uint64_t index, char *out, size_t n)
{
    hitlq_reply *rep = NULL;
    size_t got = 0;
    struct record *rec = malloc(sizeof *rec);
    struct record_ext_recommendation rc;
    bool found = false;

    assert_non_null(rec);
    assert_int_equal(hitlq_audit_entries(c, index, 1, &rep, &got), HITLQ_OK);
    assert_int_equal(got, 1);
    const msgpack_object *e = &hitlq_reply_get(rep, "entries")->via.array.ptr[0];
    assert_int_equal(record_decode((const uint8_t *)e->via.bin.ptr, e->via.bin.size, rec),
                     RECORD_OK);
    for (size_t i = 0; i < rec->ext_count; i++)
        if (rec->ext[i].type == RECORD_EXT_RECOMMENDATION) {
            assert_int_equal(record_ext_recommendation_decode(rec->ext[i].data,
                                                              rec->ext[i].len, &rc), RECORD_OK);
            assert_true(rc.recommendation.len < n);
            memcpy(out, rc.recommendation.data, rc.recommendation.len);
            out[rc.recommendation.len] = '\0';
            found = true;
        }
    assert_true(found);
    free(rec);
    hitlq_reply_free(rep);
}

/* ---- the reasons' one order --------------------------------------------------- */

/* Rules first; then features by |contribution| descending, then name. */
static void
check_reason_order(const msgpack_object *rs)
{
    bool seen_feature = false;
    double prev = INFINITY;
    char prev_name[160] = "";

    assert_non_null(rs);
    assert_int_equal(rs->type, MSGPACK_OBJECT_ARRAY);
    for (uint32_t i = 0; i < rs->via.array.size; i++) {
        const msgpack_object *r = &rs->via.array.ptr[i], *f = wire_map_get(r, "feature");
        char name[160];

        if (f == NULL) {
            assert_false(seen_feature);
            continue;
        }
        seen_feature = true;
        double a = fabs(e2e_map_num(r, "contribution"));
        snprintf(name, sizeof name, "%.*s", (int)f->via.str.size, f->via.str.ptr);
        assert_true(a <= prev);
        if (a == prev)
            assert_true(strcmp(prev_name, name) < 0);
        prev = a;
        snprintf(prev_name, sizeof prev_name, "%s", name);
    }
    assert_true(seen_feature);
}

/* ---- tests -------------------------------------------------------------------- */

/* SUBMITs rows from *row on until one is queued for review with a score;
 * returns its decision and model-decision audit index. */
static hitlq_decision
submit_review(hitlq *c, size_t *row, uint64_t *index)
{
    hitlq_decision d;
    uint8_t leaf[32];

    for (; *row < e2e_nci; (*row)++) {
        hitlq_item it = { .key = e2e_ci[*row].key, .type = TYPE,
                          .fields = e2e_ci[*row].fields, .fields_len = e2e_ci[*row].fields_len,
                          .priority = -1 };
        assert_int_equal(hitlq_submit_receipt(c, &it, false, &d, index, leaf, NULL), HITLQ_OK);
        if (d.queued && strcmp(d.route, "review") == 0 && !isnan(d.score)) {
            (*row)++;
            return d;
        }
    }
    fail_msg("no row went to review");
    return d;
}

/* The band index triage matched for score, from the file; -1 if none. */
static long
pol_band(double score, double *min)
{
    size_t i;
    json_t *v;

    json_array_foreach(json_object_get(POL, "bands"), i, v) {
        if (score >= json_number_value(json_object_get(v, "min_score"))) {
            *min = json_number_value(json_object_get(v, "min_score"));
            return (long)i;
        }
    }
    return -1;
}

static void
check_view(hitlq *c, const hitlq_decision *d, uint64_t index, const struct hitlq_claim *cl)
{
    const msgpack_object *b = hitlq_reply_body(cl->reply), *band = wire_map_get(b, "band");
    double hi = json_number_value(json_object_get(POL, "auto_threshold"));
    double lo = json_number_value(json_object_get(POL, "auto_reject_threshold")), min = 0;
    double score = e2e_map_num(b, "score");
    char rec[160], logged[160];
    long bi = pol_band(score, &min);

    assert_true(score == d->score);
    check_policy_lists(b);
    /* the lean rule on the replied score (no lean_threshold in the file:
     * the midpoint), and the very string the audit entry recorded */
    assert_int_equal(e2e_find_str(b, "recommendation", rec, sizeof rec), 0);
    assert_string_equal(rec, score >= (hi + lo) / 2 ? pol_str(POL, "auto_action")
                                                    : pol_str(POL, "reject_action"));
    audit_rec(c, index, logged, sizeof logged);
    assert_string_equal(rec, logged);
    if (bi < 0) {
        assert_null(band);
    } else {
        assert_non_null(band);
        assert_int_equal((long)e2e_map_num(band, "index"), bi);
        assert_true(e2e_map_num(band, "min_score") == min);
    }
    assert_int_equal(wire_map_get(b, "notes")->via.array.size, 0);
    assert_true(hobj_str_eq(wire_map_get(b, "explain"), "exact"));
    check_reason_order(wire_map_get(b, "reasons"));
}

static void
test_view_fields(void **st)
{
    (void)st;
    hitlq *c = e2e_connect(S.port, "vera", 60000);
    size_t row = 0;
    int recs[2] = { 0, 0 };

    /* until both recommendations were seen (at most 12 items) */
    for (int k = 0; k < 12 && (recs[0] == 0 || recs[1] == 0); k++) {
        uint64_t index = 0;
        hitlq_decision d = submit_review(c, &row, &index);
        const char *q[] = { d.queue };
        struct hitlq_claim cl = e2e_must_claim(c, q, 1, 60000, 0);
        char rec[160];
        hitlq_reply *g = NULL;

        assert_int_equal(cl.id, d.id);
        check_view(c, &d, index, &cl);
        e2e_find_str(hitlq_reply_body(cl.reply), "recommendation", rec, sizeof rec);
        recs[strcmp(rec, "approve") == 0]++;
        /* GET: labelled path attribution, the same order rule */
        assert_int_equal(hitlq_get(c, d.id, &g), HITLQ_OK);
        assert_true(hobj_str_eq(hitlq_reply_get(g, "explain"), "approx"));
        check_reason_order(hitlq_reply_get(g, "reasons"));
        hitlq_reply_free(g);
        assert_int_equal(hitlq_get_exact(c, d.id, &g), HITLQ_OK);
        assert_true(hobj_str_eq(hitlq_reply_get(g, "explain"), "exact"));
        check_reason_order(hitlq_reply_get(g, "reasons"));
        hitlq_reply_free(g);
        assert_int_equal(hitlq_resolve(c, d.id, cl.lease, "refer", NULL, NULL, NULL), HITLQ_OK);
        hitlq_claim_clear(&cl);
    }
    assert_true(recs[0] > 0 && recs[1] > 0);
    hitlq_free(c);
}

static void
test_root_cause_checked(void **st)
{
    (void)st;
    hitlq *c = e2e_connect(S.port, "rita", 60000);
    size_t row = 0;
    uint64_t index, exp = 0, seq = 0;
    hitlq_decision d = submit_review(c, &row, &index);
    const char *q[] = { d.queue };
    struct hitlq_claim cl = e2e_must_claim(c, q, 1, 60000, 0);

    assert_int_equal(hitlq_resolve(c, d.id, cl.lease, "approve", NULL, "income_unverifed",
                                   NULL), HITLQ_ST_INVALID_ROOT_CAUSE);
    assert_non_null(strstr(hitlq_errstr(c), "\"income_unverifed\""));
    assert_non_null(strstr(hitlq_errstr(c), "(declared: income_unverified, docs_missing)"));
    /* nothing written, the lease kept */
    assert_int_equal(hitlq_extend(c, d.id, cl.lease, 60000, &exp), HITLQ_OK);
    /* no root cause at all is allowed; a declared one is recorded */
    assert_int_equal(hitlq_resolve(c, d.id, cl.lease, "approve", "ok", "docs_missing", &seq),
                     HITLQ_OK);
    hitlq_reply *g = e2e_check_history(c, d.id, (const char *const[]){ "submitted", "scored",
        "queued", "claimed", "extended", "resolved" }, 6);
    const msgpack_object *h = hitlq_reply_get(g, "history");
    assert_true(hobj_str_eq(wire_map_get(&h->via.array.ptr[5], "root_cause"), "docs_missing"));
    hitlq_reply_free(g);
    hitlq_claim_clear(&cl);
    d = submit_review(c, &row, &index);
    q[0] = d.queue;
    cl = e2e_must_claim(c, q, 1, 60000, 0);
    assert_int_equal(hitlq_resolve(c, d.id, cl.lease, "reject", NULL, NULL, &seq), HITLQ_OK);
    hitlq_claim_clear(&cl);
    hitlq_free(c);
}

/* Asserts note i of a CLAIM reply: event, actor, note, at_ms in [t0, t1]. */
static void
check_note(const msgpack_object *ns, uint32_t i, const char *event, const char *actor,
           const char *note, uint64_t t0, uint64_t t1)
{
    const msgpack_object *n = &ns->via.array.ptr[i];
    double at = e2e_map_num(n, "at_ms");

    assert_true(hobj_str_eq(wire_map_get(n, "event"), event));
    assert_true(hobj_str_eq(wire_map_get(n, "actor"), actor));
    assert_true(hobj_str_eq(wire_map_get(n, "note"), note));
    assert_true(at >= (double)t0 && at <= (double)t1);
}

static void
test_escalation_note_reaches_senior(void **st)
{
    (void)st;
    hitlq *a = e2e_connect(S.port, "ann", 60000), *b = e2e_connect(S.port, "ben", 60000);
    size_t row = 0;
    uint64_t index, t0 = e2e_wall_ms();
    hitlq_decision d = submit_review(a, &row, &index);
    const char *q[] = { d.queue }, *fraud[] = { "credit_fraud" }, *first[] = { "a_first" };
    struct hitlq_claim cl = e2e_must_claim(a, q, 1, 60000, 0);

    assert_int_equal(hitlq_escalate(a, d.id, cl.lease, "credit_fraud", "payslip looks edited"),
                     HITLQ_OK);
    /* an unknown queue is refused before the lease is looked at */
    assert_int_equal(hitlq_escalate(a, d.id, cl.lease, "credit_frau", NULL),
                     HITLQ_ST_UNKNOWN_QUEUE);
    hitlq_claim_clear(&cl);
    assert_int_equal(hitlq_claim(b, fraud, 1, 60000, 0, "ben-desk", &cl), HITLQ_OK);
    assert_int_equal(cl.id, d.id);
    const msgpack_object *ns = wire_map_get(hitlq_reply_body(cl.reply), "notes");
    assert_int_equal(ns->via.array.size, 1);
    check_note(ns, 0, "escalated", "ann", "payslip looks edited", t0, e2e_wall_ms());
    assert_int_equal(hitlq_escalate(b, d.id, cl.lease, "a_first", "second opinion"), HITLQ_OK);
    hitlq_claim_clear(&cl);
    cl = e2e_must_claim(a, first, 1, 60000, 0);
    ns = wire_map_get(hitlq_reply_body(cl.reply), "notes");
    assert_int_equal(ns->via.array.size, 2);
    check_note(ns, 0, "escalated", "ann", "payslip looks edited", t0, e2e_wall_ms());
    check_note(ns, 1, "escalated", "ben-desk", "second opinion", t0, e2e_wall_ms());
    assert_int_equal(hitlq_resolve(a, d.id, cl.lease, "approve", NULL, NULL, NULL), HITLQ_OK);
    hitlq_claim_clear(&cl);
    hitlq_free(a);
    hitlq_free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_view_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_cause_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escalation_note_reaches_senior, setup, teardown),
    };
    return e2e_run("claim_view", tests, sizeof tests / sizeof tests[0]);
}
