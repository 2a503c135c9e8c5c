/*
 * test_audit_review.c - hitlq-audit on a log with four-eyes review, REOPEN,
 * AMEND and COMMENT traffic from a real hitlqd.  The policy has three types
 * on the example scorecard (lean_threshold 0.5 and a reject band, so every
 * scored item has a recommendation): credit_application (four-eyes, 2
 * verdicts, recommendation hidden, escalate on disagreement),
 * credit_shown (four-eyes, recommendation shown) and credit_plain (one
 * decision).  The test decides items, amends, reopens and comments, and
 * keeps its own tally of what it sent: each verdict's agreement from the
 * score SUBMIT returned (score >= 0.5 -> "approve", else "reject") and the
 * outcome it gave, which decisions a later AMEND / REOPEN withdrew, the
 * four-eyes verdicts (k of n, shown, final).  Then `hitlq-audit export`,
 * `verify`, `summary --json` and `drift --json`, whose counts must equal
 * that tally (not anything computed by hitlq-audit's code).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "credit_items.h"
#include "e2e_util.h"
#include "harness.h"
#include "tutil.h"

#define TOOL "build/test/hitlq-audit"

static char PDIR[64];

/* What the test sent, tallied independently.  Visibility: 0 four-eyes
 * shown, 1 four-eyes hidden, 2 not recorded (no blind QA copies here). */
struct tally {
    int counted, agreed, not_comparable, events, withdrawn;   /* in force */
    int amend_withdrew, reopen_withdrew;
    int vis_n[3], vis_agreed[3], vis_withdrawn[3];
    int all_agreed, all_overrode;          /* every verdict entry (summary) */
    int fe_verdicts, fe_final, fe_shown, fe_kn[6][6], fe_agreed[2], fe_overrode[2];
    int entries;                           /* human and queue entries */
};
static struct tally T;

/* One human verdict the test gave (or hitlqd's escalation). */
struct verdict {
    int  agreement;                        /* 1 agree, 2 override, 3 n/c */
    int  vis;
    bool withdrawn;
};
static struct verdict V[64];
static int NV;

static void put_type(json_t *types, const json_t *base, const char *name, const char *queue,
                     json_t *four_eyes)
{
    json_t *t = json_deep_copy(base);
    json_object_set_new(t, "queue", json_string(queue));
    json_object_set_new(t, "claim_by_id", json_true());
    json_object_set_new(t, "lean_threshold", json_real(0.5));
    json_object_set_new(t, "auto_reject_threshold", json_real(0.02));
    json_object_set_new(t, "reject_action", json_string("reject"));
    json_object_set_new(t, "actions", json_pack("[s]", "refer"));
    json_object_set_new(t, "escalate_to", json_pack("[s]", "credit_senior"));
    if (four_eyes != NULL)
        json_object_set_new(t, "four_eyes", four_eyes);
    json_object_set_new(types, name, t);
}

static void write_policy(void)
{
    json_error_t je;
    json_t *root = json_load_file("server/score/defaults/scorecard_policy.json", 0, &je);
    char path[128], cmd[256];
    assert_non_null(root);
    json_t *types = json_object_get(root, "types");
    json_t *base = json_deep_copy(json_object_get(types, "credit_application"));
    for (int hide = 1; hide >= 0; hide--)
        put_type(types, base, hide ? "credit_application" : "credit_shown",
                 hide ? "credit_review" : "shown_review", json_pack(
                     "{s:i, s:{s:[s]}, s:b, s:s, s:s}", "verdicts", 2, "when", "routes",
                     "review", "hide_recommendation", hide, "on_disagree", "escalate",
                     "escalate_to", "credit_senior"));
    put_type(types, base, "credit_plain", "plain_review", NULL);
    json_decref(base);
    snprintf(path, sizeof path, "%s/policy.json", PDIR);
    assert_int_equal(json_dump_file(root, path, JSON_INDENT(1)), 0);
    json_decref(root);
    snprintf(cmd, sizeof cmd, "cp server/score/defaults/credit_scorecard.json %s/", PDIR);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **st)
{
    char cfg[256];
    snprintf(PDIR, sizeof PDIR, "/tmp/hitlq-audrev-XXXXXX");
    if (mkdtemp(PDIR) == NULL)
        return -1;
    write_policy();
    snprintf(cfg, sizeof cfg, "policy = \"%s/policy.json\"\naudit_checkpoint_ms = 200\n", PDIR);
    if (harness_server_start(&e2e_srv, cfg) < 0)
        return -1;
    (void)st;
    return 0;
}

static int teardown(void **st)
{
    char cmd[128];
    int rc = e2e_srv_teardown(st);
    snprintf(cmd, sizeof cmd, "rm -rf %s", PDIR);
    return system(cmd) == 0 ? rc : -1;
}

/* An item of `type` (a German-credit row from *next on) that hitlqd
 * queued (queued = true) or auto-resolved; *rec gets its recommendation
 * by the policy's rule (score >= 0.5 -> approve, else reject). */
static uint64_t submit(hitlq *c, const char *type, bool queued, size_t *next, const char **rec)
{
    hitlq_decision d;
    char key[64];
    for (; *next < e2e_nci; (*next)++) {
        hitlq_item it = { .key = key, .type = type, .fields = e2e_ci[*next].fields,
                          .fields_len = e2e_ci[*next].fields_len, .priority = -1 };
        snprintf(key, sizeof key, "%s-%zu", type, *next);
        assert_int_equal(hitlq_submit(c, &it, &d), HITLQ_OK);
        if (d.queued == queued && !isnan(d.score)) {
            (*next)++;
            *rec = d.score >= 0.5 ? "approve" : "reject";
            return d.id;
        }
    }
    fail_msg("no %s item for %s", queued ? "queued" : "auto-resolved", type);
    return 0;
}

/* Tallies a verdict entry with outcome `out` against recommendation rec;
 * returns its position in V.  k = 0: not a four-eyes verdict. */
static int tally(const char *out, const char *rec, int vis, int k, int n, bool final)
{
    int a = strcmp(out, "escalate") == 0 ? 3 : strcmp(out, rec) == 0 ? 1 : 2;
    assert_true(NV < 64);
    V[NV] = (struct verdict){ a, vis, false };
    T.entries++;
    T.all_agreed += a == 1;
    T.all_overrode += a == 2;
    if (k > 0) {
        T.fe_verdicts++;
        T.fe_final += final;
        T.fe_shown += vis == 0;
        T.fe_kn[k][n]++;
        T.fe_agreed[vis == 0] += a == 1;
        T.fe_overrode[vis == 0] += a == 2;
    }
    return NV++;
}

static void withdraw(int i, bool by_amend)
{
    V[i].withdrawn = true;
    T.amend_withdrew += by_amend;
    T.reopen_withdrew += !by_amend;
}

static void event(void)
{
    T.entries++;
    T.events++;
}

/* c claims item id by id and resolves it with outcome. */
static void decide(hitlq *c, uint64_t id, const char *outcome)
{
    struct hitlq_claim cl;
    memset(&cl, 0, sizeof cl);
    assert_int_equal(hitlq_claim_id(c, id, 60000, NULL, &cl), HITLQ_OK);
    assert_int_equal(hitlq_resolve(c, id, cl.lease, outcome, NULL, NULL, NULL), HITLQ_OK);
    hitlq_claim_clear(&cl);
}

/* Four-eyes item of `type`: a and b give verdicts oa, ob; on disagreement
 * hitlqd escalates to credit_senior and carol decides oc.  Returns the
 * position in V of the verdict that closed the item. */
static int four_eyes(hitlq **p, const char *type, size_t *next, const char *oa, const char *ob,
                     const char *oc, uint64_t *id_out, const char **rec_out)
{
    const char *rec;
    int vis = strcmp(type, "credit_shown") == 0 ? 0 : 1;
    uint64_t id = submit(p[0], type, true, next, &rec);
    bool agree = strcmp(oa, ob) == 0;
    decide(p[0], id, oa);
    tally(oa, rec, vis, 1, 2, false);
    decide(p[1], id, ob);
    int last = tally(ob, rec, vis, 2, 2, agree);
    *id_out = id;
    *rec_out = rec;
    if (agree)
        return last;
    tally("escalate", rec, 2, 0, 0, false);          /* hitlqd's ESCALATE */
    decide(p[2], id, oc);
    return tally(oc, rec, 2, 0, 0, false);
}

/* The traffic; fills T and V. */
static void traffic(void)
{
    hitlq *p[3] = { e2e_cli("alice"), e2e_cli("bob"), e2e_cli("carol") };
    hitlq *dave = e2e_cli("dave"), *boss = e2e_cli("boss");
    size_t next = 0;
    uint64_t id, s = 0;
    const char *rec;
    char q[HITLQ_MAX_QUEUE_NAME + 1];

    /* H1 agreed (hidden), then amended: the closing verdict is withdrawn */
    int fin = four_eyes(p, "credit_application", &next, "approve", "approve", NULL, &id, &rec);
    assert_int_equal(hitlq_amend(boss, id, "reject", "documents late", NULL, &s), HITLQ_OK);
    withdraw(fin, true);
    tally("reject", rec, 2, 0, 0, false);
    /* H2 disagreement (hidden) -> escalated -> carol */
    four_eyes(p, "credit_application", &next, "approve", "reject", "reject", &id, &rec);
    /* S1 agreed, recommendation shown */
    four_eyes(p, "credit_shown", &next, "reject", "reject", NULL, &id, &rec);
    /* P1: decided, commented, reopened (withdraws), decided again */
    id = submit(dave, "credit_plain", true, &next, &rec);
    decide(dave, id, "approve");
    int p1 = tally("approve", rec, 2, 0, 0, false);
    assert_int_equal(hitlq_comment(boss, id, "call the applicant", NULL), HITLQ_OK);
    event();
    assert_int_equal(hitlq_reopen(boss, id, NULL, "new payslip", q), HITLQ_OK);
    withdraw(p1, false);
    event();
    decide(dave, id, "reject");
    tally("reject", rec, 2, 0, 0, false);
    /* P2: decided, amended twice (each amend withdraws the one before) */
    id = submit(dave, "credit_plain", true, &next, &rec);
    decide(dave, id, "reject");
    int p2 = tally("reject", rec, 2, 0, 0, false);
    assert_int_equal(hitlq_amend(boss, id, "approve", "override", NULL, &s), HITLQ_OK);
    withdraw(p2, true);
    int a1 = tally("approve", rec, 2, 0, 0, false);
    assert_int_equal(hitlq_amend(boss, id, "refer", "second thoughts", NULL, &s), HITLQ_OK);
    withdraw(a1, true);
    tally("refer", rec, 2, 0, 0, false);
    /* P3: a comment while queued, then decided */
    id = submit(dave, "credit_plain", true, &next, &rec);
    assert_int_equal(hitlq_comment(dave, id, "looks fine", NULL), HITLQ_OK);
    event();
    decide(dave, id, "approve");
    tally("approve", rec, 2, 0, 0, false);
    /* A1: auto-resolved, reopened into plain_review (ref: its AUTO_DECISION) */
    id = submit(dave, "credit_plain", false, &next, &rec);
    assert_int_equal(hitlq_reopen(boss, id, "plain_review", "spot check", q), HITLQ_OK);
    event();
    decide(dave, id, "reject");
    tally("reject", rec, 2, 0, 0, false);
    for (int i = 0; i < 3; i++)
        hitlq_free(p[i]);
    hitlq_free(dave);
    hitlq_free(boss);
}

/* The in-force figures of T from V. */
static void tally_close(void)
{
    for (int i = 0; i < NV; i++) {
        const struct verdict *v = &V[i];
        if (v->withdrawn) {
            T.withdrawn++;
            T.vis_withdrawn[v->vis]++;
        } else if (v->agreement == 3) {
            T.not_comparable++;
        } else {
            T.counted++;
            T.agreed += v->agreement == 1;
            T.vis_n[v->vis]++;
            T.vis_agreed[v->vis] += v->agreement == 1;
        }
    }
}

static json_t *load(const char *name)
{
    char path[128];
    json_error_t je;
    snprintf(path, sizeof path, "%s/%s", PDIR, name);
    json_t *j = json_load_file(path, 0, &je);
    if (j == NULL)
        fail_msg("%s: %s", path, je.text);
    return j;
}

static json_int_t jint(const json_t *o, const char *a, const char *b)
{
    const json_t *x = json_object_get(o, a);
    assert_non_null(x);
    x = b != NULL ? json_object_get(x, b) : x;
    assert_non_null(x);
    assert_true(json_is_integer(x));
    return json_integer_value(x);
}

/* The summary's four_eyes and human objects against T. */
static void check_summary(const json_t *j)
{
    const json_t *fe = json_object_get(j, "four_eyes"), *h = json_object_get(j, "human");
    static const char *const vis[2] = { "hidden", "shown" };
    char key[8];
    assert_non_null(fe);
    assert_int_equal(jint(fe, "verdicts", NULL), T.fe_verdicts);
    assert_int_equal(jint(fe, "final", NULL), T.fe_final);
    for (int n = 2; n <= 5; n++)
        for (int k = 1; k <= n; k++) {
            snprintf(key, sizeof key, "%d/%d", k, n);
            json_t *x = json_object_get(json_object_get(fe, "k_of_n"), key);
            assert_int_equal(x ? json_integer_value(x) : 0, T.fe_kn[k][n]);
        }
    for (int sh = 0; sh < 2; sh++) {
        assert_int_equal(jint(fe, vis[sh], "agreed"), T.fe_agreed[sh]);
        assert_int_equal(jint(fe, vis[sh], "overrode"), T.fe_overrode[sh]);
    }
    assert_int_equal(jint(h, "agreed", NULL), T.all_agreed);
    assert_int_equal(jint(h, "overrode", NULL), T.all_overrode);
}

/* The group of by_visibility named key (NULL when absent). */
static const json_t *vis_group(const json_t *a, const char *key)
{
    size_t i;
    const json_t *g;
    json_array_foreach(json_object_get(a, "by_visibility"), i, g)
        if (strcmp(json_string_value(json_object_get(g, "key")), key) == 0)
            return g;
    return NULL;
}

/* drift --json: agreement counts, withdrawn decisions, events, four-eyes. */
static void check_drift(const json_t *j)
{
    static const char *const vis[3] = { "four_eyes_shown", "four_eyes_hidden", "not_recorded" };
    const json_t *a = json_object_get(j, "agreement"), *o = json_object_get(a, "overall");
    const json_t *b = json_object_get(a, "beside");
    assert_int_equal(jint(j, "entries", "verdicts_outside_range"), 0);   /* no orphans */
    assert_int_equal(jint(j, "entries", "verdicts"), T.entries);
    assert_int_equal(jint(o, "n", NULL), T.counted);
    assert_true(fabs(json_real_value(json_object_get(o, "agreement")) -
                     (double)T.agreed / T.counted) < 1e-12);
    assert_int_equal(jint(o, "not_comparable", NULL), T.not_comparable);
    assert_int_equal(jint(o, "events", NULL), T.events);
    assert_int_equal(jint(o, "withdrawn", NULL), T.withdrawn);
    assert_int_equal(jint(b, "withdrawn", "by_amend"), T.amend_withdrew);
    assert_int_equal(jint(b, "withdrawn", "by_reopen"), T.reopen_withdrew);
    assert_int_equal(jint(b, "events_by_name", "comment"), 2);
    assert_int_equal(jint(b, "events_by_name", "reopen"), 2);
    assert_int_equal(jint(b, "four_eyes", "verdicts"), T.fe_verdicts);
    assert_int_equal(jint(b, "four_eyes", "final"), T.fe_final);
    assert_int_equal(jint(b, "four_eyes", "shown"), T.fe_shown);
    assert_int_equal(jint(b, "four_eyes", "hidden"), T.fe_verdicts - T.fe_shown);
    for (int v = 0; v < 3; v++) {
        const json_t *g = vis_group(a, vis[v]);
        assert_non_null(g);
        assert_int_equal(jint(g, "n", NULL), T.vis_n[v]);
        assert_int_equal(jint(g, "withdrawn", NULL), T.vis_withdrawn[v]);
        if (T.vis_n[v] > 0)
            assert_true(fabs(json_real_value(json_object_get(g, "agreement")) -
                             (double)T.vis_agreed[v] / T.vis_n[v]) < 1e-12);
    }
    assert_null(vis_group(a, "blind_qa"));
}

static void test_review_reopen_amend(void **st)
{
    char out[4096];
    (void)st;
    traffic();
    tally_close();
    /* sanity of the tally itself: what the traffic above is made of */
    assert_int_equal(T.fe_verdicts, 6);
    assert_int_equal(T.amend_withdrew, 3);
    assert_int_equal(T.reopen_withdrew, 1);
    assert_int_equal(T.events, 4);
    assert_true(T.counted >= 10 && T.agreed > 0 && T.agreed < T.counted);   /* both kinds */
    assert_true(T.vis_n[0] == 2 && T.vis_n[1] == 3);
    assert_int_equal(tutil_sh(out, sizeof out, "%s -d %s -K > %s/vk", HARNESS_HITLQD,
                              e2e_srv.data, PDIR), 0);
    if (tutil_sh(out, sizeof out, "%s export --server 127.0.0.1:%u --out %s/exp", TOOL,
                 e2e_srv.port, PDIR) != 0)
        fail_msg("export: %s", out);
    if (tutil_sh(out, sizeof out, "%s verify --vkey-file %s/vk %s/exp", TOOL, PDIR, PDIR) != 0)
        fail_msg("verify: %s", out);
    assert_int_equal(tutil_sh(out, sizeof out, "%s summary %s/exp --json > %s/sum.json", TOOL,
                              PDIR, PDIR), 0);
    assert_int_equal(tutil_sh(out, sizeof out, "%s summary %s/exp > %s/sum.txt", TOOL, PDIR,
                              PDIR), 0);
    if (tutil_sh(out, sizeof out, "%s drift --vkey-file %s/vk %s/exp --json > %s/drift.json",
                 TOOL, PDIR, PDIR, PDIR) != 0)
        fail_msg("drift: %s", out);
    json_t *j = load("sum.json");
    check_summary(j);
    json_decref(j);
    j = load("drift.json");
    check_drift(j);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_review_reopen_amend, setup, teardown),
    };
    return e2e_run("audit_review", tests, sizeof tests / sizeof tests[0]);
}
