/*
 * test_upgrade.c - an old data directory keeps working: the new hitlqd on
 * tests/vectors/v1-datadir/ (written by the release before audit format v2;
 * tests/vectors/v1-datadir/README.md says how), copied to a temp dir.
 * It must start (no ROLLBACK/FORK refusal) and serve the old items (GET,
 * the result stream); the old log's entries stay byte-identical to the old
 * auditor's export kept in the fixture; an old queued item claimed and
 * resolved now gets a v2 VERDICT with agreement 3 (not comparable: its
 * model entry is v1, without RECOMMENDATION) referring to that v1 entry,
 * and the lease left open at shutdown expires with a v2 QUEUE_EVENT; the
 * upgraded directory restarts.  The auditor's side: hitlq-audit verifies
 * the old export and then the mixed v1/v2 export with the saved verifier
 * key and one --state file (the new log extends the old one), proves
 * consistency old -> new checkpoint, `summary` reports the v1 verdicts
 * as legacy, and `drift --json` reads the mixed log, counts v1 and v2
 * entries apart and says which fields the log lacks.  Entries are
 * decoded with proto/record.h and proto/record_ext.h, never with server
 * code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <jansson.h>

#include "e2e_util.h"
#include "record.h"
#include "record_ext.h"
#include "tutil.h"

#define FIX        "tests/vectors/v1-datadir"
#define VKEY       FIX "/verifier.vkey"
#define AUDIT_TOOL "build/test/hitlq-audit"
#define CONFIG     HARNESS_EMBEDDED_POLICY "audit_checkpoint_ms = 200\n"
#define MAX_ACTS   16

/* Entries of a log, in index order (owned copies). */
struct entries {
    size_t    n;
    uint8_t **b;
    size_t   *len;
};

/* One line of the fixture's actions.txt: "ID VERB ARG WORKER  # comment". */
struct fx_act {
    uint64_t id;
    char     verb[16], arg[32], who[16];
};

/* What the fixture holds, read from its files (never from the server). */
struct fixture {
    bool          loaded;
    struct entries log;              /* v1-export: the old log, as exported */
    struct fx_act act[MAX_ACTS];
    size_t        n_act;
    uint64_t      n_items, n_auto;   /* submit.txt: items, auto-resolved */
    uint64_t      first_auto;        /* the first auto-resolved item's id */
    char          first_action[16];  /* and its action */
    uint64_t      legacy;            /* v1 OUTCOME entries with agreement 1/2 */
    uint64_t      v1_models, v1_events;   /* model decisions, human/queue entries */
};

static struct fixture FX;

/* ---- entries ------------------------------------------------------------- */

static void entries_push(struct entries *e, const uint8_t *p, size_t len)
{
    e->b = realloc(e->b, (e->n + 1) * sizeof *e->b);
    e->len = realloc(e->len, (e->n + 1) * sizeof *e->len);
    assert_true(e->b != NULL && e->len != NULL);
    e->b[e->n] = malloc(len);
    assert_non_null(e->b[e->n]);
    memcpy(e->b[e->n], p, len);
    e->len[e->n++] = len;
}

static void entries_free(struct entries *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->b[i]);
    free(e->b);
    free(e->len);
    memset(e, 0, sizeof *e);
}

/* Every entry the server has (AUDIT_ENTRIES from 0). */
static void entries_read(hitlq *c, struct entries *e)
{
    size_t got;
    memset(e, 0, sizeof *e);
    do {
        hitlq_reply *rep = NULL;
        assert_int_equal(hitlq_audit_entries(c, e->n, 1024, &rep, &got), HITLQ_OK);
        const msgpack_object *a = hitlq_reply_get(rep, "entries");
        for (size_t i = 0; i < got; i++)
            entries_push(e, (const uint8_t *)a->via.array.ptr[i].via.bin.ptr,
                         a->via.array.ptr[i].via.bin.size);
        hitlq_reply_free(rep);
    } while (got > 0);
}

/* The entries of a tlog-tiles export dir (proto/AUDIT-FORMAT.md §10): the
 * checkpoint's size, then the one partial entry bundle (size < 256). */
static void export_read(const char *dir, struct entries *e)
{
    char path[512];
    size_t len, off = 0;
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    char *cp = tutil_slurp(path, &len), *nl = cp ? strchr(cp, '\n') : NULL;
    assert_non_null(nl);
    uint64_t size = strtoull(nl + 1, NULL, 10);
    free(cp);
    assert_true(size > 0 && size < 256);
    snprintf(path, sizeof path, "%s/tile/entries/000.p/%" PRIu64, dir, size);
    uint8_t *b = (uint8_t *)tutil_slurp(path, &len);
    assert_non_null(b);
    memset(e, 0, sizeof *e);
    while (off + 2 <= len) {
        size_t l = (size_t)b[off] << 8 | b[off + 1];
        assert_true(off + 2 + l <= len);
        entries_push(e, b + off + 2, l);
        off += 2 + l;
    }
    assert_int_equal(off, len);
    assert_int_equal(e->n, size);
    free(b);
}

/* got's first FX.log.n entries are the old log's, byte for byte. */
static void check_old_prefix(const struct entries *got)
{
    assert_true(got->n >= FX.log.n);
    for (size_t i = 0; i < FX.log.n; i++) {
        if (got->len[i] != FX.log.len[i] || memcmp(got->b[i], FX.log.b[i], got->len[i]) != 0)
            fail_msg("old entry %zu differs after the upgrade", i);
    }
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

static bool str_eq(const struct record_str *s, const char *z)
{
    return s->len == strlen(z) && memcmp(s->data, z, s->len) == 0;
}

static uint64_t item_of(const struct record *r)
{
    char s[32];
    snprintf(s, sizeof s, "%.*s", r->item_id.len, (const char *)r->item_id.data);
    return strtoull(s, NULL, 10);
}

static struct record *decode(const struct entries *e, size_t i)
{
    struct record *r = malloc(sizeof *r);
    assert_non_null(r);
    assert_true(i < e->n);
    if (record_decode(e->b[i], e->len[i], r) != RECORD_OK)
        fail_msg("entry %zu does not decode", i);
    return r;
}

/* ---- the fixture --------------------------------------------------------- */

/* Every old entry is v1: no RECOMMENDATION, no VERDICT; every human or
 * queue entry carries OUTCOME.  Counts the v1 verdicts (agreement 1/2). */
static void fixture_check_v1(void)
{
    struct record_ext_outcome oc;
    for (size_t i = 0; i < FX.log.n; i++) {
        struct record *r = decode(&FX.log, i);
        const struct record_ext *x = ext_of(r, RECORD_EXT_OUTCOME);
        assert_int_equal(r->index, i);
        assert_null(ext_of(r, RECORD_EXT_RECOMMENDATION));
        assert_null(ext_of(r, RECORD_EXT_VERDICT));
        FX.v1_models += r->record_type == RECORD_AUTO_DECISION ||
                        r->record_type == RECORD_ESCALATION;
        if (r->record_type == RECORD_HUMAN_DECISION || r->record_type == RECORD_HUMAN_OVERRIDE ||
            r->record_type == RECORD_QUEUE_EVENT) {
            assert_non_null(x);
            assert_int_equal(record_ext_outcome_decode(x->data, x->len, &oc), RECORD_OK);
            FX.legacy += oc.agreement != RECORD_AGREE_NONE;
            FX.v1_events++;
        }
        free(r);
    }
}

static void fixture_read_actions(void)
{
    FILE *f = fopen(FIX "/actions.txt", "r");
    char line[256];
    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL) {
        struct fx_act *a = &FX.act[FX.n_act];
        assert_true(FX.n_act < MAX_ACTS);
        assert_int_equal(sscanf(line, "%" SCNu64 " %15s %31s %15s", &a->id, a->verb, a->arg,
                                a->who), 4);
        FX.n_act++;
    }
    fclose(f);
}

static void fixture_read_submits(void)
{
    FILE *f = fopen(FIX "/submit.txt", "r");
    char line[256];
    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL) {
        uint64_t id;
        char action[16];
        FX.n_items++;
        if (sscanf(line, "%" SCNu64 " auto_resolved %15s", &id, action) != 2)
            continue;
        if (FX.n_auto++ == 0) {
            FX.first_auto = id;
            snprintf(FX.first_action, sizeof FX.first_action, "%s", action);
        }
    }
    fclose(f);
}

/* Reads the fixture once (every test calls it first). */
static void fixture_load(void)
{
    if (FX.loaded)
        return;
    export_read(FIX "/v1-export", &FX.log);
    fixture_check_v1();
    fixture_read_actions();
    fixture_read_submits();
    assert_true(FX.log.n >= FX.n_items && FX.n_act >= 8 && FX.n_items >= 40 && FX.n_auto > 0);
    FX.loaded = true;
}

/* The fixture's action of verb `verb` (the first one). */
static const struct fx_act *fixture_act(const char *verb)
{
    for (size_t i = 0; i < FX.n_act; i++)
        if (strcmp(FX.act[i].verb, verb) == 0)
            return &FX.act[i];
    fail_msg("fixture has no \"%s\" action", verb);
    return NULL;
}

/* ---- the server on a copy of the fixture ---------------------------------- */

/* cmocka setup: a harness server dir whose data dir is rebuilt from the
 * fixture (mdb_load of store.dump, the signing key installed 0600; a fresh
 * start first makes the dir, then its data is replaced);
 * the server is not running afterwards. */
static int upgrade_setup(void **st)
{
    char cmd[2048];
    (void)st;
    if (harness_server_start(&e2e_srv, CONFIG) < 0 || harness_server_stop(&e2e_srv) != 0)
        return -1;
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -m 700 %s && mdb_load -f %s/store.dump %s "
             "2>/dev/null && cp %s/audit-key.txt %s/audit.key && chmod 600 %s/*",
             e2e_srv.data, e2e_srv.data, FIX, e2e_srv.data, FIX, e2e_srv.data, e2e_srv.data);
    return system(cmd) == 0 ? 0 : -1;
}

static bool log_has(const char *needle)
{
    size_t len;
    char *log = tutil_slurp(e2e_srv.logfile, &len);
    bool has = log != NULL && strstr(log, needle) != NULL;
    free(log);
    return has;
}

/* Starts the new hitlqd on the (old or upgraded) directory. */
static void start_on_fixture(void)
{
    if (harness_server_restart(&e2e_srv) < 0)
        fail_msg("the new hitlqd refused the old data directory (log above)");
    assert_false(log_has("ROLLBACK"));
    assert_false(log_has("FORK"));
}

/* ---- items --------------------------------------------------------------- */

static void reply_str(const hitlq_reply *r, const char *k, char *out, size_t n)
{
    hobj_str(hitlq_reply_get(r, k), out, n);
}

/* The audit indices of item id (GET's audit.entries); returns the count. */
static size_t item_audit(hitlq *c, uint64_t id, uint64_t *idx, size_t max)
{
    hitlq_reply *g = NULL;
    size_t n = 0;
    assert_int_equal(hitlq_get(c, id, &g), HITLQ_OK);
    const msgpack_object *a = hitlq_reply_get(g, "audit");
    assert_non_null(a);
    for (uint32_t i = 0; a->type == MSGPACK_OBJECT_MAP && i < a->via.map.size; i++) {
        const msgpack_object *v = &a->via.map.ptr[i].val;
        if (!hobj_str_eq(&a->via.map.ptr[i].key, "entries"))
            continue;
        for (uint32_t k = 0; k < v->via.array.size && n < max; k++)
            idx[n++] = hobj_u64(&v->via.array.ptr[k]);
    }
    hitlq_reply_free(g);
    return n;
}

/* GET of an old item: state and queue (or outcome) as expected. */
static void check_item(hitlq *c, uint64_t id, const char *state, const char *queue,
                       const char *outcome)
{
    hitlq_reply *g = NULL;
    char s[32], q[32], o[32];
    assert_int_equal(hitlq_get(c, id, &g), HITLQ_OK);
    reply_str(g, "state", s, sizeof s);
    reply_str(g, "queue", q, sizeof q);
    reply_str(g, "outcome", o, sizeof o);
    if (strcmp(s, state) != 0 || (queue && strcmp(q, queue) != 0) ||
        (outcome && strcmp(o, outcome) != 0))
        fail_msg("item %" PRIu64 ": %s/%s/%s, want %s/%s/%s", id, s, q, o, state,
                 queue ? queue : "-", outcome ? outcome : "-");
    assert_false(isnan(hobj_f64(hitlq_reply_get(g, "score"))));   /* scored under v1 */
    hitlq_reply_free(g);
}

/* The released item's delay ran out long ago; the new server's delay
 * timer puts it back on its queue shortly after start (within 10 s). */
static void wait_ready(hitlq *c, uint64_t id)
{
    uint64_t deadline = harness_now_ms() + 10000;
    char s[32] = "";
    while (harness_now_ms() < deadline) {
        hitlq_reply *g = NULL;
        assert_int_equal(hitlq_get(c, id, &g), HITLQ_OK);
        reply_str(g, "state", s, sizeof s);
        hitlq_reply_free(g);
        if (strcmp(s, "delayed") != 0)
            break;
        harness_sleep_ms(50);
    }
    check_item(c, id, "queued", "credit_review", NULL);
}

/* A fixture action's item: what GET says, and its last old entry (v1). */
static void check_act(hitlq *c, const struct fx_act *a)
{
    uint64_t idx[8];
    struct record_ext_outcome oc;
    if (strcmp(a->verb, "resolve") == 0)
        check_item(c, a->id, "resolved", NULL, a->arg);
    else if (strcmp(a->verb, "escalate") == 0)
        check_item(c, a->id, "queued", a->arg, NULL);
    else if (strcmp(a->verb, "release") == 0)
        wait_ready(c, a->id);
    else
        return;                                   /* the open lease: check_expired */
    size_t n = item_audit(c, a->id, idx, 8);
    assert_int_equal(n, 2);                       /* model decision + the human entry */
    assert_true(idx[1] < FX.log.n);
    struct record *r = decode(&FX.log, idx[1]);
    const struct record_ext *x = ext_of(r, RECORD_EXT_OUTCOME);
    assert_int_equal(item_of(r), a->id);
    assert_true(str_eq(&r->actor_id, a->who));
    assert_non_null(x);
    assert_int_equal(record_ext_outcome_decode(x->data, x->len, &oc), RECORD_OK);
    if (strcmp(a->verb, "resolve") == 0)
        assert_true(bytes_eq(&oc.outcome, a->arg));
    free(r);
}

/* Claims the best item of queue as worker and resolves it; the claimed
 * item must be an old one.  Returns its id. */
static uint64_t resolve_old(hitlq *c, const char *queue, const char *worker,
                            const char *outcome, const char *root)
{
    const char *qs[] = { queue };
    struct hitlq_claim cl;
    memset(&cl, 0, sizeof cl);
    int rc = hitlq_claim(c, qs, 1, 60000, 0, worker, &cl);
    if (rc != HITLQ_OK)
        fail_msg("claim %s: %s (%s)", queue, hitlq_strerror(rc), hitlq_errstr(c));
    uint64_t id = cl.id;
    assert_true(id >= 1 && id <= FX.n_items);
    assert_int_equal(hitlq_resolve(c, id, cl.lease, outcome, NULL, root, NULL), HITLQ_OK);
    hitlq_claim_clear(&cl);
    return id;
}

/* ---- the new entries ------------------------------------------------------ */

/* Entry idx of all: a v2 entry on item `item` whose model entry is v1: a
 * VERDICT (no OUTCOME) with an empty recommendation, the agreement given,
 * the RESOLVE root cause and the reviewer; it refers to the item's old
 * model decision by index and leaf hash and copies its model fields. */
static void check_v2_on_v1(const struct entries *all, uint64_t idx, uint64_t item, uint8_t type,
                           const char *outcome, uint8_t agreement, const char *root,
                           const char *reviewer)
{
    struct record_ext_verdict vd;
    uint8_t leaf[RECORD_HASH_LEN];
    assert_true(idx >= FX.log.n);
    struct record *r = decode(all, idx);
    const struct record_ext *x = ext_of(r, RECORD_EXT_VERDICT);
    assert_int_equal(item_of(r), item);
    assert_int_equal(r->record_type, type);
    assert_null(ext_of(r, RECORD_EXT_OUTCOME));
    assert_non_null(x);
    assert_int_equal(record_ext_verdict_decode(x->data, x->len, &vd), RECORD_OK);
    assert_true(bytes_eq(&vd.outcome, outcome));
    assert_true(bytes_eq(&vd.recommendation, ""));
    assert_int_equal(vd.agreement, agreement);
    assert_true(bytes_eq(&vd.root_cause, root));
    assert_true(bytes_eq(&vd.reviewer, reviewer));
    assert_int_equal(vd.flags, 0);
    /* the reference: the item's v1 model decision, by index and leaf hash */
    assert_true(r->ref_index < FX.log.n);
    assert_int_equal(record_leaf_hash(FX.log.b[r->ref_index], FX.log.len[r->ref_index], leaf),
                     RECORD_OK);
    assert_memory_equal(r->ref_leaf_hash, leaf, RECORD_HASH_LEN);
    struct record *m = decode(&FX.log, r->ref_index);
    assert_int_equal(item_of(m), item);
    assert_true(m->record_type == RECORD_ESCALATION || m->record_type == RECORD_AUTO_DECISION);
    assert_null(ext_of(m, RECORD_EXT_RECOMMENDATION));
    assert_memory_equal(r->model_digest, m->model_digest, RECORD_HASH_LEN);
    assert_true(r->score == m->score && r->threshold == m->threshold);
    free(m);
    free(r);
}

/* The item left leased at shutdown: its lease expires under the new
 * server (within 10 s of start); returns its lease_expired entry index. */
static uint64_t wait_expired(hitlq *c, const struct fx_act *a)
{
    uint64_t idx[8], deadline = harness_now_ms() + 10000;
    size_t n;
    while ((n = item_audit(c, a->id, idx, 8)) < 2 && harness_now_ms() < deadline)
        harness_sleep_ms(50);
    if (n != 2)
        fail_msg("the lease of old item %" PRIu64 " did not expire", a->id);
    check_item(c, a->id, "queued", "credit_review", NULL);
    return idx[1];
}

/* The last audit index of item id. */
static uint64_t item_last_entry(hitlq *c, uint64_t id)
{
    uint64_t idx[8];
    size_t n = item_audit(c, id, idx, 8);
    assert_true(n >= 1);
    return idx[n - 1];
}

/* ---- the result stream --------------------------------------------------- */

struct watch_state {
    uint64_t want, seen, last_ids[2];
    char     last_outcome[2][16];
};

static int on_result(void *arg, const hitlq_reply *res)
{
    struct watch_state *w = arg;
    uint64_t id = hobj_u64(hitlq_reply_get(res, "id"));
    char oc[16];
    hobj_str(hitlq_reply_get(res, "outcome"), oc, sizeof oc);
    assert_true(id >= 1 && id <= FX.n_items);
    w->last_ids[0] = w->last_ids[1];
    w->last_ids[1] = id;
    memcpy(w->last_outcome[0], w->last_outcome[1], sizeof oc);
    memcpy(w->last_outcome[1], oc, sizeof oc);
    return ++w->seen == w->want;
}

/* Every old result, then the two new ones (ids a, b), from seq 1. */
static void check_results(hitlq *c, uint64_t a, uint64_t b)
{
    size_t resolves = 0;
    for (size_t i = 0; i < FX.n_act; i++)
        resolves += strcmp(FX.act[i].verb, "resolve") == 0;
    struct watch_state w = { .want = FX.n_auto + resolves + 2 };
    assert_int_equal(hitlq_watch(c, 1, 10000, on_result, &w), HITLQ_OK);
    assert_int_equal(w.last_ids[0], a);
    assert_string_equal(w.last_outcome[0], "approve");
    assert_int_equal(w.last_ids[1], b);
    assert_string_equal(w.last_outcome[1], "reject");
}

/* ---- test 1: the server side --------------------------------------------- */

static const char *const AUTO_HISTORY[] = { "submitted", "scored", "auto_resolved" };

static void test_old_directory_serves(void **st)
{
    struct entries e0, e1, e2;
    (void)st;
    fixture_load();
    start_on_fixture();
    hitlq *c = e2e_cli("upgrade-bot");
    entries_read(c, &e0);
    check_old_prefix(&e0);                        /* nothing rewritten at start */
    for (size_t i = 0; i < FX.n_act; i++)
        check_act(c, &FX.act[i]);
    hitlq_reply_free(e2e_check_history(c, FX.first_auto, AUTO_HISTORY, 3));
    check_item(c, FX.first_auto, "resolved", NULL, FX.first_action);
    const struct fx_act *lease = fixture_act("lease"), *esc = fixture_act("escalate");
    uint64_t expired = wait_expired(c, lease);
    /* an old queued item and the old escalated one, decided now */
    uint64_t a = resolve_old(c, "credit_review", "dave", "approve", "docs_ok");
    uint64_t b = resolve_old(c, esc->arg, "erin", "reject", NULL);
    assert_int_equal(b, esc->id);
    entries_read(c, &e1);
    check_old_prefix(&e1);
    check_v2_on_v1(&e1, expired, lease->id, RECORD_QUEUE_EVENT, "lease_expired", 0, "", "");
    check_v2_on_v1(&e1, item_last_entry(c, a), a, RECORD_HUMAN_DECISION, "approve", 3,
                   "docs_ok", "dave");
    check_v2_on_v1(&e1, item_last_entry(c, b), b, RECORD_HUMAN_DECISION, "reject", 3, "",
                   "erin");
    check_results(c, a, b);
    hitlq_free(c);
    /* the upgraded directory stops cleanly and starts again, log intact */
    assert_int_equal(harness_server_stop(&e2e_srv), 0);
    start_on_fixture();
    c = e2e_cli("upgrade-bot");
    entries_read(c, &e2);
    assert_true(e2.n >= e1.n);
    for (size_t i = 0; i < e1.n; i++)
        assert_true(e2.len[i] == e1.len[i] && memcmp(e2.b[i], e1.b[i], e1.len[i]) == 0);
    check_item(c, a, "resolved", NULL, "approve");
    fprintf(stderr, "upgrade: %zu old entries kept byte for byte; %zu after the upgrade run, "
            "%zu after a restart\n", FX.log.n, e1.n, e2.n);
    hitlq_free(c);
    entries_free(&e0);
    entries_free(&e1);
    entries_free(&e2);
}

/* ---- test 2: the auditor's side ------------------------------------------ */

static int run_cmd(const char *cmd, char *out, size_t n)
{
    char full[1200];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t len = fread(out, 1, n - 1, p);
    out[len] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs an hitlq-audit command line (printf-style); fails unless exit 0.
 * The output is in out. */
static void audit_ok(char *out, size_t n, const char *fmt, ...)
{
    char cmd[1024] = AUDIT_TOOL " ";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), fmt, ap);
    va_end(ap);
    if (run_cmd(cmd, out, n) != 0)
        fail_msg("%s:\n%s", cmd, out);
}

static json_int_t human_int(json_t *j, const char *k)
{
    json_t *v = json_object_get(json_object_get(j, "human"), k);
    if (!json_is_integer(v))
        fail_msg("summary has no human.%s", k);
    return json_integer_value(v);
}

/* summary: the v1 verdicts as legacy (text and JSON), the new one as not
 * comparable. */
static void check_summary(const char *exp)
{
    char out[16384], want[128];
    json_error_t je;
    audit_ok(out, sizeof out, "summary %s", exp);
    snprintf(want, sizeof want, "legacy v1 OUTCOME verdicts: %" PRIu64
             " (legacy agreement: not used;", FX.legacy);
    if (strstr(out, want) == NULL)
        fail_msg("summary lacks \"%s\":\n%s", want, out);
    audit_ok(out, sizeof out, "summary --json %s 2>/dev/null", exp);
    json_t *j = json_loads(out, 0, &je);
    if (j == NULL)
        fail_msg("summary --json is not JSON: %s", out);
    assert_int_equal(human_int(j, "legacy_outcome_verdicts"), FX.legacy);
    assert_int_equal(human_int(j, "not_comparable"), 1);
    assert_int_equal(human_int(j, "agreed"), 0);
    assert_int_equal(human_int(j, "overrode"), 0);
    json_decref(j);
}

static json_int_t jpath_int(json_t *j, const char *a, const char *b, const char *c)
{
    json_t *v = json_object_get(json_object_get(json_object_get(j, a), b), c);
    if (!json_is_integer(v))
        fail_msg("drift report has no %s.%s.%s", a, b, c);
    return json_integer_value(v);
}

/* The lacks sentence that starts with the count n and contains what. */
static void check_lacks(json_t *j, uint64_t n, const char *what)
{
    json_t *a = json_object_get(j, "lacks");
    char head[32];
    snprintf(head, sizeof head, "%" PRIu64 " ", n);
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (s != NULL && strncmp(s, head, strlen(head)) == 0 && strstr(s, what) != NULL)
            return;
    }
    fail_msg("drift report's \"lacks\" has no \"%s...%s...\"", head, what);
}

/* drift --json reads the mixed log: the checkpoint it names, the format
 * counts, the v1 verdicts as legacy (not in the agreement), and which
 * fields the log lacks. */
static void check_drift(const char *exp, const struct entries *e, uint64_t v2_events)
{
    char out[1 << 16];
    json_error_t je;
    audit_ok(out, sizeof out, "drift --vkey-file %s %s --json 2>/dev/null", VKEY, exp);
    json_t *j = json_loads(out, 0, &je);
    if (j == NULL)
        fail_msg("drift --json is not JSON: %.500s", out);
    json_t *cp = json_object_get(j, "checkpoint");
    assert_int_equal(json_integer_value(json_object_get(cp, "size")), e->n);
    assert_true(json_is_true(json_object_get(cp, "signature_verified")));
    assert_int_equal(jpath_int(j, "entries", "format", "v1_model_decisions"), FX.v1_models);
    assert_int_equal(jpath_int(j, "entries", "format", "v2_model_decisions"), 0);
    assert_int_equal(jpath_int(j, "entries", "format", "v1_verdicts"), FX.v1_events);
    assert_int_equal(jpath_int(j, "entries", "format", "v2_verdicts"), v2_events);
    assert_int_equal(jpath_int(j, "agreement", "overall", "n"), 0);
    assert_int_equal(jpath_int(j, "agreement", "overall", "not_comparable"), 1);
    assert_int_equal(jpath_int(j, "agreement", "overall", "legacy_not_used"), FX.v1_events);
    check_lacks(j, FX.v1_models, "model decisions are format v1: no RECOMMENDATION");
    check_lacks(j, FX.v1_events, "format v1 (OUTCOME only): legacy agreement not used; "
                "no root-cause tag, reviewer or QA flag");
    json_decref(j);
}

/* The v2 human/queue entries (VERDICT) of e. */
static uint64_t count_v2_events(const struct entries *e)
{
    uint64_t n = 0;
    for (size_t i = FX.log.n; i < e->n; i++) {
        struct record *r = decode(e, i);
        n += ext_of(r, RECORD_EXT_VERDICT) != NULL;
        free(r);
    }
    return n;
}

static void test_auditor_reads_mixed_log(void **st)
{
    char exp[256], state[256], out[16384];
    struct entries e;
    (void)st;
    fixture_load();
    assert_true(FX.legacy > 0);
    start_on_fixture();
    hitlq *c = e2e_cli("upgrade-bot");
    wait_expired(c, fixture_act("lease"));
    resolve_old(c, "credit_review", "dave", "approve", "docs_ok");
    snprintf(exp, sizeof exp, "%s/exp", e2e_srv.dir);
    snprintf(state, sizeof state, "%s/auditor.state", e2e_srv.dir);
    /* the old export, then the mixed one, against one saved state */
    audit_ok(out, sizeof out, "verify --vkey-file %s --state %s %s/v1-export", VKEY, state, FIX);
    audit_ok(out, sizeof out, "export --server 127.0.0.1:%u --out %s --vkey-file %s",
             (unsigned)e2e_srv.port, exp, VKEY);
    assert_non_null(strstr(out, "(fresh"));
    audit_ok(out, sizeof out, "verify --vkey-file %s --state %s %s", VKEY, state, exp);
    audit_ok(out, sizeof out, "consistency --vkey-file %s %s/v1-export/checkpoint "
             "%s/checkpoint --server 127.0.0.1:%u", VKEY, FIX, exp, (unsigned)e2e_srv.port);
    export_read(exp, &e);
    check_old_prefix(&e);                         /* the export too: old bytes kept */
    assert_true(e.n >= FX.log.n + 2);
    check_summary(exp);
    uint64_t v2 = count_v2_events(&e);
    assert_int_equal(v2, 2);                      /* lease_expired, the resolution */
    check_drift(exp, &e, v2);
    fprintf(stderr, "upgrade: the v1 export and the mixed export (%zu entries) verify with one "
            "state; %" PRIu64 " legacy v1 verdicts\n", e.n, FX.legacy);
    entries_free(&e);
    hitlq_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_old_directory_serves, upgrade_setup,
                                        e2e_srv_teardown),
        cmocka_unit_test_setup_teardown(test_auditor_reads_mixed_log, upgrade_setup,
                                        e2e_srv_teardown),
    };
    int rc = e2e_run("upgrade", tests, sizeof tests / sizeof tests[0]);
    entries_free(&FX.log);
    return rc;
}
