/*
 * test_four_eyes.c - the four-eyes review against a real hitlqd (issue 13
 * §3): a policy with "four_eyes" (2 verdicts on every reviewed item,
 * recommendation hidden, escalate on disagreement) on the example
 * scorecard.  Checks: the first reviewer's verdict sends the item back
 * (no result), nobody gives two verdicts (CLAIM skips, RESOLVE with
 * another's lease is reviewer_conflict), the reviewer's claim reply
 * carries no score, agreement closes with exactly one result, a
 * disagreement is escalated by hitlqd to the senior queue where neither
 * reviewer may claim it, the state survives a restart, and every verdict
 * is its own audit entry whose REVIEW extension (k of n, shown, final),
 * actor and VERDICT outcome are what this file did.  Waiting CLAIMs: a
 * wake-up used by an excluded waiter is passed on to an eligible one
 * behind it, and ends once every waiter had it.  A reopened item is
 * decided by one RESOLVE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "e2e_util.h"
#include "harness.h"
#include "record.h"
#include "record_ext.h"
#include "tutil.h"

static struct hserver S;
static char PDIR[64];
static const char *const REVIEW[] = { "credit_review" };
static const char *const SENIOR[] = { "credit_senior" };

static const char *ON_DISAGREE = "escalate";

static void write_policy(void)
{
    json_error_t je;
    json_t *root = json_load_file("server/score/defaults/scorecard_policy.json", 0, &je);
    char path[128], cmd[256];
    assert_non_null(root);
    json_t *t = json_object_get(json_object_get(root, "types"), "credit_application");
    json_object_set_new(t, "four_eyes", json_pack(
        "{s:i, s:{s:[s]}, s:b, s:s, s:s, s:i}", "verdicts", 2, "when", "routes", "review",
        "hide_recommendation", 1, "on_disagree", ON_DISAGREE, "escalate_to", "credit_senior",
        "max_verdicts", 3));
    json_object_set_new(t, "escalate_to", json_pack("[s, s]", "credit_senior", "credit_second"));
    snprintf(path, sizeof path, "%s/policy.json", PDIR);
    assert_int_equal(json_dump_file(root, path, JSON_INDENT(1)), 0);
    json_decref(root);
    snprintf(cmd, sizeof cmd, "cp server/score/defaults/credit_scorecard.json %s/", PDIR);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **st)
{
    char cfg[256];
    (void)st;
    snprintf(PDIR, sizeof PDIR, "/tmp/hitlq-4eyes-XXXXXX");
    if (mkdtemp(PDIR) == NULL)
        return -1;
    write_policy();
    snprintf(cfg, sizeof cfg, "policy = \"%s/policy.json\"\n", PDIR);
    return harness_server_start(&S, cfg) < 0 ? -1 : 0;
}

static int setup_add(void **st)
{
    ON_DISAGREE = "add_reviewer";
    return setup(st);
}

static int teardown(void **st)
{
    char cmd[128];
    (void)st;
    int rc = harness_server_stop(&S);
    harness_server_cleanup(&S);
    snprintf(cmd, sizeof cmd, "rm -rf %s", PDIR);
    return system(cmd) == 0 ? rc : -1;
}

static hitlq *cli(const char *name)
{
    return e2e_connect(S.port, name, 30000);
}

static uint64_t submit(hitlq *c, const char *key)
{
    hitlq_decision d;
    assert_int_equal(e2e_submit_queued(c, key, -1, &d), HITLQ_OK);
    assert_true(d.queued);
    uint64_t id = d.id;
    return id;
}

static struct hitlq_claim claim(hitlq *c, const char *const *q, int want)
{
    struct hitlq_claim cl;
    memset(&cl, 0, sizeof cl);
    assert_int_equal(hitlq_claim(c, q, 1, 60000, 0, NULL, &cl), want);
    return cl;
}

static void state_is(hitlq *c, uint64_t id, const char *state, const char *queue)
{
    hitlq_reply *r = NULL;
    char q[64];
    assert_int_equal(hitlq_get(c, id, &r), HITLQ_OK);
    assert_true(hobj_str_eq(hitlq_reply_get(r, "state"), state));
    assert_int_equal(e2e_find_str(hitlq_reply_body(r), "queue", q, sizeof q), 0);
    assert_string_equal(q, queue);
    hitlq_reply_free(r);
}

/* The number of history events named ev in GET reply r, and (when ev is
 * "scored") whether any of them carries a non-nil score. */
static size_t events_named(const hitlq_reply *r, const char *ev, bool *scored)
{
    const msgpack_object *h = hitlq_reply_get(r, "history");
    size_t n = 0;
    assert_non_null(h);
    for (uint32_t i = 0; i < h->via.array.size; i++) {
        const msgpack_object *e = &h->via.array.ptr[i];
        bool is = false;
        for (uint32_t j = 0; j < e->via.map.size; j++)
            if (hobj_str_eq(&e->via.map.ptr[j].key, "event"))
                is = hobj_str_eq(&e->via.map.ptr[j].val, ev);
        for (uint32_t j = 0; is && scored != NULL && j < e->via.map.size; j++)
            if (hobj_str_eq(&e->via.map.ptr[j].key, "score"))
                *scored |= e->via.map.ptr[j].val.type != MSGPACK_OBJECT_NIL;
        n += is;
    }
    return n;
}

/* GET of id under review by c: no earlier verdict, no score (hidden). */
static void get_is_blind(hitlq *c, uint64_t id)
{
    hitlq_reply *r = NULL;
    bool scored = false;
    assert_int_equal(hitlq_get(c, id, &r), HITLQ_OK);
    assert_int_equal(events_named(r, "verdict", NULL), 0);
    assert_int_equal(events_named(r, "scored", &scored), 1);
    assert_false(scored);
    assert_int_equal(hitlq_reply_get(r, "score")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal(hitlq_reply_get(r, "reasons")->via.array.size, 0);
    hitlq_reply_free(r);
}

/* A later reviewer's CLAIM reply r: neither the workstation's `notes` nor
 * `recommendation` / `band` give away the earlier verdict (its note
 * "alice says approve") or the model's output. */
static void notes_are_blind(const hitlq_reply *r)
{
    const msgpack_object *n = hitlq_reply_get(r, "notes");
    assert_non_null(n);
    assert_int_equal(n->type, MSGPACK_OBJECT_ARRAY);
    for (uint32_t i = 0; i < n->via.array.size; i++) {
        const msgpack_object *e = &n->via.array.ptr[i];
        for (uint32_t j = 0; j < e->via.map.size; j++) {
            const msgpack_object *v = &e->via.map.ptr[j].val;
            assert_false(v->type == MSGPACK_OBJECT_STR && v->via.str.size >= 5 &&
                         memmem(v->via.str.ptr, v->via.str.size, "alice", 5) != NULL);
        }
    }
    assert_int_equal(hitlq_reply_get(r, "recommendation")->type, MSGPACK_OBJECT_NIL);
    const msgpack_object *b = hitlq_reply_get(r, "band");
    assert_true(b == NULL || b->type == MSGPACK_OBJECT_NIL);
}

/* The REVIEW-carrying entries of item id, decoded, in log order. */
struct vseen { char actor[64], outcome[64]; struct record_ext_review rv; uint16_t type; };

static size_t verdicts_of(hitlq *c, uint64_t id, struct vseen *out, size_t max)
{
    size_t n = 0, got = 0, at = 0;
    do {
        hitlq_reply *rep = NULL;
        assert_int_equal(hitlq_audit_entries(c, at, 512, &rep, &got), HITLQ_OK);
        const msgpack_object *a = hitlq_reply_get(rep, "entries");
        for (size_t i = 0; i < got; i++) {
            static struct record rec;
            const msgpack_object *o = &a->via.array.ptr[i];
            char item[32];
            assert_int_equal(record_decode((const uint8_t *)o->via.bin.ptr, o->via.bin.size,
                                           &rec), RECORD_OK);
            snprintf(item, sizeof item, "%.*s", (int)rec.item_id.len,
                     (const char *)rec.item_id.data);
            if (strtoull(item, NULL, 10) != id)
                continue;
            const struct record_ext *rx = NULL, *vx = NULL;
            for (size_t k = 0; k < rec.ext_count; k++) {
                if (rec.ext[k].type == RECORD_EXT_REVIEW) rx = &rec.ext[k];
                if (rec.ext[k].type == RECORD_EXT_VERDICT) vx = &rec.ext[k];
            }
            if (rx == NULL || n == max)
                continue;
            struct record_ext_verdict vd;
            assert_non_null(vx);
            assert_int_equal(record_ext_review_decode(rx->data, rx->len, &out[n].rv), RECORD_OK);
            assert_int_equal(record_ext_verdict_decode(vx->data, vx->len, &vd), RECORD_OK);
            snprintf(out[n].actor, 64, "%.*s", (int)rec.actor_id.len,
                     (const char *)rec.actor_id.data);
            snprintf(out[n].outcome, 64, "%.*s", (int)vd.outcome.len,
                     (const char *)vd.outcome.data);
            out[n++].type = rec.record_type;
        }
        at += got;
        hitlq_reply_free(rep);
    } while (got > 0);
    return n;
}

static void test_agreement_closes(void **st)
{
    (void)st;
    hitlq *a = cli("alice"), *b = cli("bob");
    uint64_t id = submit(a, "fe-1"), seq = 99;
    struct hitlq_claim ca = claim(a, REVIEW, HITLQ_OK);
    assert_int_equal(ca.id, id);
    assert_int_equal(hitlq_reply_get(ca.reply, "score")->type, MSGPACK_OBJECT_NIL);   /* hidden */
    assert_int_equal(hitlq_resolve(a, id, ca.lease, "approve", "alice says approve", NULL,
                                   &seq), HITLQ_OK);
    assert_int_equal(seq, 0);                          /* not closed: no result */
    state_is(a, id, "queued", "credit_review");
    get_is_blind(b, id);                               /* GET hides as CLAIM does */
    struct hitlq_claim none = claim(a, REVIEW, HITLQ_ST_EMPTY);   /* alice is skipped */
    struct hitlq_claim cb = claim(b, REVIEW, HITLQ_OK);
    assert_int_equal(cb.id, id);
    assert_int_equal(hitlq_reply_get(cb.reply, "score")->type, MSGPACK_OBJECT_NIL);
    notes_are_blind(cb.reply);
    /* alice cannot give a second verdict, even with bob's lease */
    assert_int_equal(hitlq_resolve(a, id, cb.lease, "approve", NULL, NULL, &seq),
                     HITLQ_ST_REVIEWER_CONFLICT);
    state_is(a, id, "leased", "credit_review");        /* nothing written */
    assert_int_equal(hitlq_resolve(b, id, cb.lease, "approve", NULL, NULL, &seq), HITLQ_OK);
    assert_true(seq >= 1);
    state_is(a, id, "resolved", "credit_review");
    hitlq_reply *g = NULL;
    bool scored = false;
    assert_int_equal(hitlq_get(a, id, &g), HITLQ_OK);
    assert_true(hobj_str_eq(hitlq_reply_get(g, "outcome"), "approve"));
    assert_int_equal(events_named(g, "verdict", NULL), 1);   /* closed: nothing hidden */
    assert_int_equal(events_named(g, "scored", &scored), 1);
    assert_true(scored);
    hitlq_reply_free(g);

    struct vseen v[4];
    assert_int_equal(verdicts_of(a, id, v, 4), 2);
    assert_string_equal(v[0].actor, "alice");
    assert_string_equal(v[1].actor, "bob");
    for (int i = 0; i < 2; i++) {
        assert_string_equal(v[i].outcome, "approve");
        assert_int_equal(v[i].rv.k, i + 1);
        assert_int_equal(v[i].rv.n, 2);
        assert_int_equal(v[i].rv.flags & RECORD_REVIEW_FLAG_SHOWN, 0);   /* hidden */
    }
    assert_int_equal(v[0].rv.flags & RECORD_REVIEW_FLAG_FINAL, 0);
    assert_int_equal(v[1].rv.flags & RECORD_REVIEW_FLAG_FINAL, RECORD_REVIEW_FLAG_FINAL);
    hitlq_claim_clear(&ca);
    hitlq_claim_clear(&cb);
    hitlq_claim_clear(&none);
    hitlq_free(a);
    hitlq_free(b);
}

static void test_disagreement_escalates_and_restart(void **st)
{
    (void)st;
    hitlq *a = cli("alice"), *b = cli("bob"), *c = cli("carol");
    uint64_t id = submit(a, "fe-2"), seq = 0;
    struct hitlq_claim ca = claim(a, REVIEW, HITLQ_OK);
    assert_int_equal(hitlq_resolve(a, id, ca.lease, "approve", NULL, NULL, &seq), HITLQ_OK);
    hitlq_free(a);
    hitlq_free(b);
    hitlq_free(c);
    /* restart between the verdicts: the reviewer set is durable */
    assert_int_equal(harness_server_stop(&S), 0);
    assert_true(harness_server_restart(&S) >= 0);
    a = cli("alice"), b = cli("bob"), c = cli("carol");
    struct hitlq_claim none = claim(a, REVIEW, HITLQ_ST_EMPTY);
    struct hitlq_claim cb = claim(b, REVIEW, HITLQ_OK);
    assert_int_equal(cb.id, id);
    assert_int_equal(hitlq_resolve(b, id, cb.lease, "reject", NULL, NULL, &seq), HITLQ_OK);
    assert_int_equal(seq, 0);
    state_is(a, id, "queued", "credit_senior");
    struct hitlq_claim n2 = claim(a, SENIOR, HITLQ_ST_EMPTY);    /* reviewers excluded */
    struct hitlq_claim n3 = claim(b, SENIOR, HITLQ_ST_EMPTY);
    struct hitlq_claim cc = claim(c, SENIOR, HITLQ_OK);
    assert_int_equal(cc.id, id);
    assert_int_equal(hitlq_reply_get(cc.reply, "score")->type, MSGPACK_OBJECT_FLOAT64);
    assert_int_equal(hitlq_resolve(c, id, cc.lease, "reject", NULL, NULL, &seq), HITLQ_OK);
    assert_true(seq >= 1);
    state_is(a, id, "resolved", "credit_senior");
    hitlq_reply *g = NULL;
    char actor[64];
    assert_int_equal(hitlq_get(a, id, &g), HITLQ_OK);
    assert_string_equal(e2e_event_actor(g, "escalated", actor, sizeof actor), "system");
    hitlq_reply_free(g);

    struct vseen v[4];
    assert_int_equal(verdicts_of(a, id, v, 4), 2);
    assert_string_equal(v[0].outcome, "approve");
    assert_string_equal(v[1].outcome, "reject");
    assert_int_equal(v[1].rv.k, 2);
    assert_int_equal(v[1].rv.flags & RECORD_REVIEW_FLAG_FINAL, 0);
    hitlq_claim_clear(&ca);
    hitlq_claim_clear(&cb);
    hitlq_claim_clear(&cc);
    hitlq_claim_clear(&none);
    hitlq_claim_clear(&n2);
    hitlq_claim_clear(&n3);
    hitlq_free(a);
    hitlq_free(b);
    hitlq_free(c);
}

/* add_reviewer: a 1-1 split gets a third reviewer (blind to both
 * verdicts), and a split at max_verdicts (3) is escalated by hitlqd. */
static void test_add_reviewer_then_escalate(void **st)
{
    (void)st;
    hitlq *a = cli("alice"), *b = cli("bob"), *c = cli("carol"), *d = cli("dave");
    uint64_t id = submit(a, "fe-3"), seq = 0;
    struct hitlq_claim ca = claim(a, REVIEW, HITLQ_OK);
    assert_int_equal(hitlq_resolve(a, id, ca.lease, "approve", NULL, NULL, &seq), HITLQ_OK);
    struct hitlq_claim cb = claim(b, REVIEW, HITLQ_OK);
    assert_int_equal(hitlq_resolve(b, id, cb.lease, "reject", NULL, NULL, &seq), HITLQ_OK);
    assert_int_equal(seq, 0);
    state_is(d, id, "queued", "credit_review");        /* back for a third verdict */
    get_is_blind(c, id);
    struct hitlq_claim cc = claim(c, REVIEW, HITLQ_OK);
    assert_int_equal(cc.id, id);
    assert_int_equal(hitlq_reply_get(cc.reply, "score")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal(hitlq_resolve(c, id, cc.lease, "approve", NULL, NULL, &seq), HITLQ_OK);
    assert_int_equal(seq, 0);
    state_is(d, id, "queued", "credit_senior");        /* 2 vs 1 at max: escalated */
    hitlq_reply *g = NULL;
    char actor[64];
    assert_int_equal(hitlq_get(d, id, &g), HITLQ_OK);
    assert_string_equal(e2e_event_actor(g, "escalated", actor, sizeof actor), "system");
    hitlq_reply_free(g);
    struct vseen v[4];
    static const char *const who[] = { "alice", "bob", "carol" }, *const out[] = {
        "approve", "reject", "approve" };
    static const uint8_t n_at[] = { 2, 2, 3 };         /* n when each was given */
    assert_int_equal(verdicts_of(d, id, v, 4), 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(v[i].actor, who[i]);
        assert_string_equal(v[i].outcome, out[i]);
        assert_int_equal(v[i].rv.k, i + 1);
        assert_int_equal(v[i].rv.n, n_at[i]);
        assert_int_equal(v[i].rv.flags, 0);            /* hidden, none final */
    }
    struct hitlq_claim none = claim(c, SENIOR, HITLQ_ST_EMPTY);   /* reviewers excluded */
    struct hitlq_claim cd = claim(d, SENIOR, HITLQ_OK);
    assert_int_equal(hitlq_resolve(d, id, cd.lease, "approve", NULL, NULL, &seq), HITLQ_OK);
    assert_true(seq >= 1);
    hitlq_claim_clear(&ca), hitlq_claim_clear(&cb), hitlq_claim_clear(&cc);
    hitlq_claim_clear(&cd), hitlq_claim_clear(&none);
    hitlq_free(a), hitlq_free(b), hitlq_free(c), hitlq_free(d);
}

/* A waiting CLAIM on credit_review sent on a raw connection named name. */
static void park_claim(struct hconn *h, const char *name, uint32_t wait_ms)
{
    msgpack_sbuffer sb, fr;
    msgpack_packer pk;
    assert_int_equal(hconn_open(h, S.port), 0);
    assert_int_equal(hconn_hello(h, name), 0);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    hpk_str(&pk, "queues");
    msgpack_pack_array(&pk, 1);
    hpk_str(&pk, "credit_review");
    hpk_kv_u64(&pk, "wait_ms", wait_ms);
    hpk_kv_u64(&pk, "lease_ms", 60000);
    msgpack_sbuffer_init(&fr);
    hframe_append(&fr, HITLQ_OP_CLAIM, 7, sb.data, sb.size);
    assert_int_equal(hconn_send(h, fr.data, fr.size, 5000), 0);
    msgpack_sbuffer_destroy(&fr);
    msgpack_sbuffer_destroy(&sb);
}

/* The wake-up of an item that becomes ready again after alice's verdict
 * goes to the oldest waiting CLAIM - alice's own, excluded from it.  Her
 * empty claim passes the wake-up on to bob's, parked behind hers: bob
 * gets the item at once, not `empty` when his wait (5 s) runs out; alice
 * gets `empty` at the end of hers. */
static void test_wake_passed_past_excluded(void **st)
{
    (void)st;
    hitlq *a = cli("alice");
    struct hconn pa, pb;
    struct hframe fa, fb;
    uint64_t id = submit(a, "fe-wake"), seq = 99;
    struct hitlq_claim ca = claim(a, REVIEW, HITLQ_OK);
    park_claim(&pa, "alice", 1500);
    harness_sleep_ms(150);                             /* alice's parks first */
    park_claim(&pb, "bob", 5000);
    harness_sleep_ms(250);                             /* both parked */
    assert_int_equal(hitlq_resolve(a, id, ca.lease, "approve", NULL, NULL, &seq), HITLQ_OK);
    assert_int_equal(seq, 0);                          /* verdict 1 of 2: queued again */
    uint64_t t0 = harness_now_ms();
    assert_int_equal(hconn_read_frame(&pb, &fb, 4000), 1);
    uint64_t waited = harness_now_ms() - t0;
    assert_int_equal(fb.status, HITLQ_ST_OK);
    assert_int_equal(hobj_u64(hframe_get(&fb, "id")), id);
    assert_true(waited < 500);                         /* passed on at once, not at 5 s */
    assert_int_equal(hconn_read_frame(&pa, &fa, 4000), 1);
    assert_int_equal(fa.status, HITLQ_ST_EMPTY);       /* alice: never her item */
    assert_true(harness_now_ms() - t0 >= 800);         /* at her deadline, not woken early */
    assert_int_equal(hitlq_resolve(a, id, hobj_u64(hframe_get(&fb, "lease")), "approve", NULL,
                                   NULL, &seq), HITLQ_ST_REVIEWER_CONFLICT);
    hitlq_claim_clear(&ca);
    hframe_free(&fa), hframe_free(&fb);
    hconn_close(&pa), hconn_close(&pb);
    hitlq_free(a);
}

/* hitlqd's CPU time (user + system) in clock ticks, from /proc. */
static unsigned long long server_cpu_ticks(void)
{
    char path[64], buf[1024];
    unsigned long long ut = 0, stt = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)S.pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');                 /* after "pid (comm)" */
    assert_non_null(p);
    assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                            &ut, &stt), 2);
    return ut + stt;
}

/* Only excluded claims wait: the passed-on wake-up visits each once and
 * stops (no loop: hitlqd stays idle while they wait), each gets `empty`
 * at its own deadline, and the item is still there for bob. */
static void test_wake_pass_ends(void **st)
{
    (void)st;
    hitlq *a = cli("alice"), *b = cli("bob");
    struct hconn p1, p2;
    struct hframe f1, f2;
    uint64_t id = submit(a, "fe-wake-end"), seq = 99;
    struct hitlq_claim ca = claim(a, REVIEW, HITLQ_OK);
    park_claim(&p1, "alice", 1800);
    park_claim(&p2, "alice", 1800);
    harness_sleep_ms(200);
    assert_int_equal(hitlq_resolve(a, id, ca.lease, "approve", NULL, NULL, &seq), HITLQ_OK);
    uint64_t t0 = harness_now_ms();
    unsigned long long cpu0 = server_cpu_ticks();
    assert_int_equal(hconn_read_frame(&p1, &f1, 4000), 1);
    assert_int_equal(hconn_read_frame(&p2, &f2, 4000), 1);
    uint64_t waited = harness_now_ms() - t0;
    unsigned long long cpu = server_cpu_ticks() - cpu0;
    assert_int_equal(f1.status, HITLQ_ST_EMPTY);
    assert_int_equal(f2.status, HITLQ_ST_EMPTY);
    assert_true(waited >= 1200);                       /* at their deadlines */
    assert_true(cpu * 1000 / (unsigned long long)sysconf(_SC_CLK_TCK) < waited / 3);
    struct hitlq_claim cb = claim(b, REVIEW, HITLQ_OK);
    assert_int_equal(cb.id, id);
    hitlq_claim_clear(&ca), hitlq_claim_clear(&cb);
    hframe_free(&f1), hframe_free(&f2);
    hconn_close(&p1), hconn_close(&p2);
    hitlq_free(a), hitlq_free(b);
}

/* A closed four-eyes item that is REOPENed gets no second four-eyes
 * round (proto/PROTOCOL.md §4.9): one ordinary RESOLVE by whoever claims
 * it on the queue REOPEN named (here the senior queue) closes it, the
 * claim shows the model, and that decision's audit entry carries no
 * REVIEW extension - the two verdicts stay the item's only ones. */
static void test_reopened_decided_once(void **st)
{
    (void)st;
    hitlq *a = cli("alice"), *b = cli("bob");
    uint64_t id = submit(a, "fe-reopen"), seq = 0, seq1;
    char q[HITLQ_MAX_QUEUE_NAME + 1];
    struct hitlq_claim ca = claim(a, REVIEW, HITLQ_OK);
    assert_int_equal(hitlq_resolve(a, id, ca.lease, "approve", NULL, NULL, &seq), HITLQ_OK);
    struct hitlq_claim cb = claim(b, REVIEW, HITLQ_OK);
    assert_int_equal(hitlq_resolve(b, id, cb.lease, "approve", NULL, NULL, &seq1), HITLQ_OK);
    assert_true(seq1 >= 1);
    assert_int_equal(hitlq_reopen(a, id, "credit_senior", "recheck income", q), HITLQ_OK);
    assert_string_equal(q, "credit_senior");
    struct hitlq_claim cs = claim(a, SENIOR, HITLQ_OK);  /* a former reviewer may */
    assert_int_equal(cs.id, id);
    assert_int_equal(hitlq_reply_get(cs.reply, "score")->type, MSGPACK_OBJECT_FLOAT64);
    assert_int_equal(hitlq_resolve(a, id, cs.lease, "reject", NULL, NULL, &seq), HITLQ_OK);
    assert_true(seq > seq1);                           /* closed by this one decision */
    state_is(b, id, "resolved", "credit_senior");
    hitlq_reply *g = NULL;
    assert_int_equal(hitlq_get(b, id, &g), HITLQ_OK);
    assert_true(hobj_str_eq(hitlq_reply_get(g, "outcome"), "reject"));
    hitlq_reply_free(g);
    struct vseen v[4];
    assert_int_equal(verdicts_of(a, id, v, 4), 2);     /* alice's and bob's, k 1 and 2 */
    assert_int_equal(v[1].rv.flags & RECORD_REVIEW_FLAG_FINAL, RECORD_REVIEW_FLAG_FINAL);
    hitlq_claim_clear(&ca), hitlq_claim_clear(&cb), hitlq_claim_clear(&cs);
    hitlq_free(a), hitlq_free(b);
}

/* Whoever ESCALATEs an item under four-eyes review is excluded from it:
 * CLAIM skips it for them, and their RESOLVE (with another's lease) is
 * reviewer_conflict with nothing written. */
static void test_escalator_excluded(void **st)
{
    (void)st;
    static const char *const SECOND[] = { "credit_second" };
    hitlq *a = cli("alice"), *b = cli("bob");
    uint64_t id = submit(a, "fe-4"), seq = 0;
    struct hitlq_claim ca = claim(a, REVIEW, HITLQ_OK);
    assert_int_equal(hitlq_escalate(a, id, ca.lease, "credit_second", "unsure"), HITLQ_OK);
    struct hitlq_claim none = claim(a, SECOND, HITLQ_ST_EMPTY);
    struct hitlq_claim cb = claim(b, SECOND, HITLQ_OK);
    assert_int_equal(cb.id, id);
    assert_int_equal(hitlq_resolve(a, id, cb.lease, "approve", NULL, NULL, &seq),
                     HITLQ_ST_REVIEWER_CONFLICT);
    state_is(b, id, "leased", "credit_second");        /* nothing written */
    struct vseen v[2];
    assert_int_equal(verdicts_of(b, id, v, 2), 0);
    assert_int_equal(hitlq_resolve(b, id, cb.lease, "approve", NULL, NULL, &seq), HITLQ_OK);
    assert_int_equal(seq, 0);                          /* verdict 1 of 2 */
    assert_int_equal(verdicts_of(b, id, v, 2), 1);
    assert_string_equal(v[0].actor, "bob");
    struct hitlq_claim n2 = claim(a, SECOND, HITLQ_ST_EMPTY);
    struct hitlq_claim n3 = claim(b, SECOND, HITLQ_ST_EMPTY);
    hitlq_claim_clear(&ca), hitlq_claim_clear(&cb), hitlq_claim_clear(&none);
    hitlq_claim_clear(&n2), hitlq_claim_clear(&n3);
    hitlq_free(a), hitlq_free(b);
}

/* hitlqd warned at start: four_eyes declared, authentication off. */
static void test_warns_without_auth(void **st)
{
    (void)st;
    char *log = tutil_slurp(S.logfile, NULL);
    assert_non_null(log);
    assert_non_null(strstr(log, "type \"credit_application\" declares four_eyes but "
                                "authentication is off"));
    free(log);
}

/* `hitlqd -n` on the policy with four_eyes block fe (owned): its exit
 * status; the output (stdout and stderr) into out. */
static int check_policy(json_t *fe, char *out, size_t n)
{
    json_error_t je;
    char path[128], conf[128], cmd[512];
    json_t *root = json_load_file("server/score/defaults/scorecard_policy.json", 0, &je);
    assert_non_null(root);
    json_object_set_new(json_object_get(json_object_get(root, "types"), "credit_application"),
                        "four_eyes", fe);
    snprintf(path, sizeof path, "%s/bad.json", PDIR);
    assert_int_equal(json_dump_file(root, path, JSON_INDENT(1)), 0);
    json_decref(root);
    snprintf(conf, sizeof conf, "%s/bad.conf", PDIR);
    snprintf(cmd, sizeof cmd, "policy = \"%s\"\n", path);
    tutil_write_file(conf, cmd);
    snprintf(cmd, sizeof cmd, "%s -n -c %s >%s/n.out 2>&1", HARNESS_HITLQD, conf, PDIR);
    int rc = system(cmd);
    snprintf(path, sizeof path, "%s/n.out", PDIR);
    char *o = tutil_slurp(path, NULL);
    assert_non_null(o);
    snprintf(out, n, "%s", o);
    free(o);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* `hitlqd -n` validates the four_eyes block: a bad one is refused with a
 * message naming the key; the good one passes. */
static void test_check_validates_block(void **st)
{
    (void)st;
    char out[1024];
    assert_int_not_equal(check_policy(json_pack("{s:i, s:{s:[s]}}", "verdicts", 7, "when",
                                                "routes", "review"), out, sizeof out), 0);
    assert_non_null(strstr(out, "four_eyes"));
    assert_non_null(strstr(out, "\"verdicts\""));
    assert_int_not_equal(check_policy(json_pack("{s:i, s:{s:[s]}}", "verdicts", 2, "when",
                                                "routes", "nope"), out, sizeof out), 0);
    assert_non_null(strstr(out, "\"routes\""));
    assert_int_not_equal(check_policy(json_pack("{s:i, s:{s:[s]}, s:s}", "verdicts", 2, "when",
                                                "routes", "review", "on_disagree", "vote"),
                                      out, sizeof out), 0);
    assert_non_null(strstr(out, "\"on_disagree\""));
    int rc = check_policy(json_pack("{s:i, s:{s:[s]}, s:s, s:s}", "verdicts", 2, "when",
                                    "routes", "review", "on_disagree", "escalate",
                                    "escalate_to", "credit_senior"), out, sizeof out);
    if (strstr(out, "configuration OK") == NULL)
        fail_msg("hitlqd -n: %s", out);
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_agreement_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disagreement_escalates_and_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_escalator_excluded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_warns_without_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_validates_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_reviewer_then_escalate, setup_add, teardown),
        cmocka_unit_test_setup_teardown(test_wake_passed_past_excluded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopened_decided_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wake_pass_ends, setup, teardown),
    };
    return e2e_run("four_eyes", tests, sizeof tests / sizeof tests[0]);
}
