/*
 * test_wset.c - write-set capture and apply (server/store/wset.c) on real
 * LMDB stores in a temporary directory.  Store A has a recording
 * replication hook and is driven through the real store and audit code
 * (audit open with its start-up entries and checkpoint, submits with
 * their audit entries, claims, a resolution, a lease expiry by cursor
 * delete, drift windows and the item records written with MDB_RESERVE,
 * checkpoints); every write-set it captured is applied in order to store
 * B, and then every named database of A and B must hold the same bytes,
 * and B's audit leaves must hash to A's Merkle root.  Also: a failing
 * hook commits nothing and its code reaches the caller; hostile
 * write-sets are refused before anything is written.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit_int.h"
#include "cmd_audit_policy.h"
#include "config.h"
#include "drift_store.h"
#include "queue.h"
#include "score.h"
#include "store.h"

#define T0 1700000000000ull
#define MAX_WS 256

/* What the recording hook keeps, and how it answers. */
struct rec {
    uint8_t *ws[MAX_WS];
    size_t   len[MAX_WS];
    uint64_t seq[MAX_WS];
    size_t   n, calls;
    int      answer;           /* returned by the hook */
};

struct env {
    char                dir[64];
    struct hitlq_config cfg;
    struct scoring     *sc;
    struct store       *a, *b;
    struct audit       *aud;
    struct rec          rec;
};

static int
rec_append(void *arg, uint64_t seq, const uint8_t *ws, size_t len)
{
    struct rec *r = arg;

    r->calls++;
    if (r->answer != 0)
        return r->answer;
    assert_true(r->n < MAX_WS);
    r->ws[r->n] = malloc(len);
    memcpy(r->ws[r->n], ws, len);
    r->len[r->n] = len;
    r->seq[r->n++] = seq;
    return 0;
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static struct store *
open_store(struct env *e, const char *name)
{
    char path[128], err[256];
    struct store *s;

    snprintf(path, sizeof(path), "%s/%s", e->dir, name);
    assert_int_equal(store_open(&s, path, 64u << 20, err, sizeof(err)), 0);
    return s;
}

/* A with the hook, then its audit log opened (start-up writes captured). */
static int
setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    struct store_repl hook = { rec_append, &e->rec };
    char err[256];

    snprintf(e->dir, sizeof(e->dir), "/tmp/hitlq-tw-XXXXXX");
    if (mkdtemp(e->dir) == NULL || sodium_init() < 0 ||
        config_load(&e->cfg, NULL, err, sizeof(err)) != 0 ||
        scoring_load(&e->sc, NULL, err, sizeof(err)) != 0)
        return -1;
    e->a = open_store(e, "a");
    e->b = open_store(e, "b");
    assert_int_equal(store_set_repl(e->a, &hook), 0);
    snprintf(e->cfg.data_dir, sizeof(e->cfg.data_dir), "%s/a", e->dir);
    assert_int_equal(cmd_audit_open(&e->aud, e->a, &e->cfg, e->sc, err, sizeof(err)), 0);
    *state = e;
    return 0;
}

static int
teardown(void **state)
{
    struct env *e = *state;

    audit_close(e->aud);
    store_close(e->a);
    store_close(e->b);
    scoring_free(e->sc);
    for (size_t i = 0; i < e->rec.n; i++)
        free(e->rec.ws[i]);
    nftw(e->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    free(e);
    return 0;
}

/* ---- driving A as the commit thread does ---------------------------------- */

static MDB_txn *
a_begin(struct env *e)
{
    MDB_txn *t;

    assert_int_equal(store_wtxn_begin(e->a, &t), 0);
    audit_txn_begin(e->aud, t);
    return t;
}

/* Commits t (must succeed), then signs a due checkpoint at time now. */
static void
a_commit(struct env *e, MDB_txn *t, uint64_t now)
{
    uint64_t next;

    assert_int_equal(store_wtxn_commit(e->a, t), 0);
    audit_after_commit(e->aud, now, &next);
}

/* Stores the signed-but-unstored checkpoint, as the idle commit thread. */
static void
a_persist(struct env *e)
{
    uint64_t next;
    MDB_txn *t;

    audit_request_checkpoint(e->aud);
    audit_after_commit(e->aud, T0, &next);
    assert_true(audit_has_unpersisted(e->aud));
    assert_int_equal(store_wtxn_begin(e->a, &t), 0);
    assert_int_equal(audit_persist(e->aud, t), HITLQ_ST_OK);
    assert_int_equal(store_wtxn_commit(e->a, t), 0);
}

/* Submits key (queued on "review" unless queue is NULL: auto) with its
 * audit entry, in t at now.  Returns the item id. */
static uint64_t
a_submit(struct env *e, MDB_txn *t, const char *key, const char *queue, uint64_t now)
{
    static const uint8_t fields[4] = { 0x81, 0xa1, 'a', 0x01 };
    static const uint8_t reasons[5] = { 0x91, 0x81, 0xa1, 'f', 0xc3 };
    const struct type_policy *p = scoring_policy(e->sc, "credit_application");
    struct submit_in in = { .key = key, .type = "credit", .fields = fields,
                            .fields_len = sizeof(fields), .actor = "bot1" };
    struct decision d = { .outcome = queue ? DECISION_QUEUED : DECISION_AUTO,
                          .priority = 5, .sla_ms = 60000, .score = queue ? 0.25 : 0.97,
                          .route = queue ? 3 : 1, .method = 1, .received_ms = now };
    uint8_t top[1] = { 0 };
    struct queue_fx fx = { 0 };
    bool dup;

    assert_non_null(p);
    snprintf(d.action, sizeof(d.action), "approve");
    snprintf(d.queue, sizeof(d.queue), "%s", queue ? queue : "");
    snprintf(d.model, sizeof(d.model), "%s", p->model->id);
    d.reasons_mp = malloc(sizeof(reasons));
    memcpy(d.reasons_mp, reasons, sizeof(reasons));
    d.reasons_len = sizeof(reasons);
    struct audit_decision ad = {
        .key = key, .actor = "bot1", .fields = fields, .fields_len = sizeof(fields),
        .model = p->model->id, .model_digest = p->model->digest, .policy_id = "t@1",
        .score = d.score, .threshold = p->auto_threshold, .is_auto = queue == NULL,
        .action = "approve", .queue = d.queue, .priority = 5,
        .deadline_ms = queue ? now + 60000 : 0, .received_ms = now,
        .top_ext = top, .top_ext_len = sizeof(top),
    };
    assert_int_equal(audit_prepare(e->aud, &ad, d.audit_salt, &d.audit_type, &d.audit_tail,
                                   &d.audit_tail_len), HITLQ_ST_OK);
    memset(in.content_hash, 7, sizeof(in.content_hash));
    assert_int_equal(queue_submit(e->a, t, &in, now, &d, &dup, &fx), HITLQ_ST_OK);
    queue_fx_clear(&fx);
    decision_clear(&d);          /* frees the audit tail too */
    return d.id;
}

/* CLAIM on "review" by alice at now; returns the lease (id in *id). */
static uint64_t
a_claim(struct env *e, MDB_txn *t, uint64_t now, uint64_t *id)
{
    struct claim_in in = { .n_queues = 1, .lease_ms = 10000 };
    struct claim_out out;

    snprintf(in.queues[0], sizeof(in.queues[0]), "review");
    snprintf(in.worker, sizeof(in.worker), "alice");
    assert_int_equal(queue_claim(e->a, t, &in, now, &out), HITLQ_ST_OK);
    free(out.reply_mp);
    *id = out.id;
    return out.lease;
}

/* Adds one observation to a drift window (a MDB_RESERVE put). */
static void
a_drift(struct env *e, MDB_txn *t, uint8_t bin)
{
    struct drift_obs o = { .k = 2, .m = { 4, 3 }, .bin = { bin, 1 } };
    struct drift_key k = { .start_ms = T0 };
    struct drift_counts *c = malloc(sizeof(*c));

    memset(o.digest, 9, sizeof(o.digest));
    memcpy(k.digest, o.digest, sizeof(k.digest));
    snprintf(k.type, sizeof(k.type), "credit");
    drift_counts_init(c, &o);
    drift_counts_add(c, &o);
    assert_int_equal(drift_store_add(e->a, t, &k, T0 + 3600000, c), HITLQ_ST_OK);
    free(c);
}

/* The whole life of a few items on A, one write txn per step. */
static void
drive_a(struct env *e)
{
    uint64_t id1, id2, lease1, lease2, seq;
    struct queue_fx fx = { 0 };
    size_t done = 0;
    MDB_txn *t = a_begin(e);

    a_submit(e, t, "k1", "review", T0);
    a_submit(e, t, "k2", NULL, T0);
    a_submit(e, t, "k3", "review", T0 + 1);
    a_drift(e, t, 0);
    a_drift(e, t, 2);                  /* same window again: get + RESERVE */
    a_commit(e, t, T0 + 2);
    t = a_begin(e);
    lease1 = a_claim(e, t, T0 + 10, &id1);
    lease2 = a_claim(e, t, T0 + 11, &id2);
    a_submit(e, t, "k4", "review", T0 + 12);
    a_commit(e, t, T0 + 12);
    t = a_begin(e);
    assert_int_equal(queue_resolve(e->a, t, id1, lease1, "approved", "ok", NULL, T0 + 20,
                                   &seq, &fx), HITLQ_ST_OK);
    queue_fx_clear(&fx);
    a_commit(e, t, T0 + 20);
    a_persist(e);                      /* a checkpoint in acps */
    t = a_begin(e);                    /* lease 2 runs out: cursor delete of its timer */
    assert_int_equal(queue_expire_due(e->a, t, T0 + 11 + 10000, 3, "dead_letter", 100,
                                      &done, &fx), HITLQ_ST_OK);
    assert_int_equal(done, 1);
    queue_fx_clear(&fx);
    a_commit(e, t, T0 + 20000);
    a_persist(e);
    (void)lease2;
    (void)id2;
}

/* ---- comparing ---------------------------------------------------------- */

/* Every named database of A and B holds the same keys and values. */
static void
assert_same_dbs(struct store *a, struct store *b)
{
    MDB_txn *ta, *tb;

    assert_int_equal(mdb_txn_begin(a->env, NULL, MDB_RDONLY, &ta), 0);
    assert_int_equal(mdb_txn_begin(b->env, NULL, MDB_RDONLY, &tb), 0);
    for (size_t i = 0; i < store_db_count; i++) {
        MDB_dbi da = *(MDB_dbi *)((char *)a + store_db_offs[i]);
        MDB_dbi db = *(MDB_dbi *)((char *)b + store_db_offs[i]);
        MDB_cursor *ca, *cb;
        MDB_val ka, va, kb, vb;
        int ra, rb;

        assert_int_equal(mdb_cursor_open(ta, da, &ca), 0);
        assert_int_equal(mdb_cursor_open(tb, db, &cb), 0);
        ra = mdb_cursor_get(ca, &ka, &va, MDB_FIRST);
        rb = mdb_cursor_get(cb, &kb, &vb, MDB_FIRST);
        while (ra == 0 && rb == 0) {
            if (ka.mv_size != kb.mv_size || memcmp(ka.mv_data, kb.mv_data, ka.mv_size) != 0 ||
                va.mv_size != vb.mv_size || memcmp(va.mv_data, vb.mv_data, va.mv_size) != 0)
                fail_msg("database %s differs", store_db_names[i]);
            ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT);
            rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT);
        }
        if (ra != MDB_NOTFOUND || rb != MDB_NOTFOUND)
            fail_msg("database %s: one side has more records", store_db_names[i]);
        mdb_cursor_close(ca);
        mdb_cursor_close(cb);
    }
    mdb_txn_abort(ta);
    mdb_txn_abort(tb);
}

/* The root of B's audit leaves (alog: leaf hash || record), computed
 * from scratch, equals A's in-memory tree root, at A's size. */
static void
assert_same_root(struct audit *aud, struct store *b)
{
    struct merkle_hasher h;
    uint8_t (*leaves)[32] = calloc(aud->tree.size + 1, 32), ra[32], rb[32];
    uint64_t n = 0;
    MDB_txn *t;
    MDB_cursor *c;
    MDB_val k, v;

    assert_int_equal(merkle_hasher_init(&h), 0);
    assert_int_equal(mdb_txn_begin(b->env, NULL, MDB_RDONLY, &t), 0);
    assert_int_equal(mdb_cursor_open(t, b->alog, &c), 0);
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        assert_true(n < aud->tree.size && v.mv_size > 32);
        assert_int_equal(store_get_be64(k.mv_data), n);
        memcpy(leaves[n++], v.mv_data, 32);
    }
    mdb_cursor_close(c);
    mdb_txn_abort(t);
    assert_true(n > 5);                /* GENESIS, config entries, 4 submits, events */
    assert_int_equal(n, aud->tree.size);
    assert_int_equal(merkle_root_compute(&h, leaves, n, rb), 0);
    assert_int_equal(merkle_tree_root(&aud->tree, &h, ra), 0);
    assert_memory_equal(ra, rb, 32);
    merkle_hasher_clear(&h);
    free(leaves);
}

/* Applies write-set i of the recording to B in a txn of its own. */
static int
apply_one(struct env *e, size_t i)
{
    MDB_txn *t;
    int rc;

    assert_int_equal(store_wtxn_begin(e->b, &t), 0);
    rc = store_wset_apply(e->b, t, e->rec.ws[i], e->rec.len[i]);
    if (rc != 0) {
        store_wtxn_abort(e->b, t);
        return rc;
    }
    assert_int_equal(store_wtxn_commit(e->b, t), 0);
    return 0;
}

static uint64_t
seq_of(struct store *s)
{
    MDB_txn *t;
    uint64_t v;

    assert_int_equal(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &t), 0);
    v = store_repl_seq(s, t);
    mdb_txn_abort(t);
    return v;
}

/* ---- tests ---------------------------------------------------------------- */

/* With HITLQ_WSET_DUMP=DIR set, writes the recorded write-sets to
 * DIR/ws-N (how tests/fuzz/corpus/fuzz_wset/ was seeded). */
static void
dump_ws(const struct env *e)
{
    const char *dir = getenv("HITLQ_WSET_DUMP");
    char path[512];

    for (size_t i = 0; dir != NULL && i < e->rec.n; i++) {
        FILE *f;

        snprintf(path, sizeof(path), "%s/ws-%zu", dir, i + 1);
        assert_non_null(f = fopen(path, "wb"));
        assert_int_equal(fwrite(e->rec.ws[i], 1, e->rec.len[i], f), e->rec.len[i]);
        fclose(f);
    }
}

static void
test_replay_equal(void **state)
{
    struct env *e = *state;

    drive_a(e);
    dump_ws(e);
    assert_true(e->rec.n >= 8);        /* audit open (2), 4 batches, 2 checkpoints */
    for (size_t i = 0; i < e->rec.n; i++) {
        assert_int_equal(e->rec.seq[i], i + 1);
        assert_int_equal(apply_one(e, i), 0);
    }
    assert_int_equal(seq_of(e->a), e->rec.n);
    assert_int_equal(seq_of(e->b), e->rec.n);
    assert_same_dbs(e->a, e->b);
    assert_same_root(e->aud, e->b);
}

/* Only a full replay is equal: the comparison sees a missing write-set. */
static void
test_replay_partial_differs(void **state)
{
    struct env *e = *state;
    MDB_txn *ta, *tb;
    uint64_t na, nb;

    drive_a(e);
    for (size_t i = 0; i + 1 < e->rec.n; i++)
        assert_int_equal(apply_one(e, i), 0);
    assert_int_equal(mdb_txn_begin(e->a->env, NULL, MDB_RDONLY, &ta), 0);
    assert_int_equal(mdb_txn_begin(e->b->env, NULL, MDB_RDONLY, &tb), 0);
    assert_int_equal(store_repl_seq(e->b, tb) + 1, store_repl_seq(e->a, ta));
    assert_int_equal(audit_count(e->a, ta, &na), 0);
    assert_int_equal(audit_count(e->b, tb, &nb), 0);
    assert_int_equal(na, nb);          /* the last one stored a checkpoint only */
    MDB_val k = { 8, (void *)"repl_seq" }, va, vb;
    assert_int_equal(mdb_get(ta, e->a->meta, &k, &va), 0);
    assert_int_equal(mdb_get(tb, e->b->meta, &k, &vb), 0);
    assert_memory_not_equal(va.mv_data, vb.mv_data, 8);
    mdb_txn_abort(ta);
    mdb_txn_abort(tb);
}

/* A hook that refuses: nothing committed, its code returned, seq kept. */
static void
test_hook_refuses(void **state)
{
    struct env *e = *state;
    int answers[] = { STORE_RC_FENCED, STORE_RC_REPL, -1 };
    int want[] = { STORE_RC_FENCED, STORE_RC_REPL, STORE_RC_REPL };

    for (size_t i = 0; i < 3; i++) {
        uint64_t before = seq_of(e->a), id = 0, calls = e->rec.calls, n0;
        MDB_txn *t = a_begin(e), *r;
        char key[8];

        snprintf(key, sizeof(key), "f%zu", i);
        a_submit(e, t, key, "review", T0);
        e->rec.answer = answers[i];
        assert_int_equal(store_wtxn_commit(e->a, t), want[i]);
        audit_txn_abort(e->aud);
        e->rec.answer = 0;
        assert_int_equal(e->rec.calls, calls + 1);
        assert_int_equal(seq_of(e->a), before);
        assert_int_equal(mdb_txn_begin(e->a->env, NULL, MDB_RDONLY, &r), 0);
        assert_int_equal(queue_id_by_key(e->a, r, key, &id), HITLQ_ST_NOT_FOUND);
        assert_int_equal(audit_count(e->a, r, &n0), 0);
        assert_int_equal(n0, e->aud->tree.size);
        mdb_txn_abort(r);
        assert_int_equal(store_status(want[i]), HITLQ_ST_INTERNAL);
        assert_non_null(strstr(store_strerror(want[i]), "replication"));
    }
    /* the next commit goes through with the next number */
    MDB_txn *t = a_begin(e);
    a_submit(e, t, "ok", "review", T0);
    a_commit(e, t, T0);
    assert_int_equal(e->rec.seq[e->rec.n - 1], seq_of(e->a));
    assert_int_equal(store_fault_of(e->a, STORE_RC_FENCED), STORE_FAULT_FATAL);
}

/* Without a hook: the wrappers write, nothing is captured or numbered. */
static void
test_no_hook(void **state)
{
    struct env *e = *state;
    size_t calls = e->rec.calls;
    uint64_t before = seq_of(e->a);
    MDB_txn *t;

    assert_int_equal(store_set_repl(e->a, NULL), 0);
    assert_null(e->a->wset);
    t = a_begin(e);
    a_submit(e, t, "nh", "review", T0);
    a_commit(e, t, T0);
    assert_int_equal(e->rec.calls, calls);
    assert_int_equal(seq_of(e->a), before);
}

/* A write-set's seq must be the next: replays and gaps are refused. */
static void
test_apply_order(void **state)
{
    struct env *e = *state;

    drive_a(e);
    assert_int_equal(apply_one(e, 1), STORE_RC_SEQ);      /* a gap */
    assert_int_equal(seq_of(e->b), 0);
    assert_int_equal(apply_one(e, 0), 0);
    assert_int_equal(apply_one(e, 0), STORE_RC_SEQ);      /* again */
    assert_int_equal(apply_one(e, 1), 0);
    assert_int_equal(seq_of(e->b), 2);
}

/* Applies bytes to B expecting rc; B stays untouched. */
static void
apply_bad(struct env *e, const uint8_t *ws, size_t len, int want)
{
    MDB_txn *t;

    assert_int_equal(store_wtxn_begin(e->b, &t), 0);
    assert_int_equal(store_wset_apply(e->b, t, ws, len), want);
    store_wtxn_abort(e->b, t);
    assert_int_equal(seq_of(e->b), 0);
}

static void
test_apply_hostile(void **state)
{
    struct env *e = *state;
    uint8_t *w;
    size_t n;

    drive_a(e);
    n = e->rec.len[0];
    w = malloc(n + 600);
    for (size_t cut = 0; cut < n; cut++)                    /* every truncation */
        apply_bad(e, e->rec.ws[0], cut, STORE_RC_WSET);
    memcpy(w, e->rec.ws[0], n);
    w[n] = 0;
    apply_bad(e, w, n + 1, STORE_RC_WSET);                 /* a trailing byte */
    store_put_be32(w + 9, 0xffffffffu);                     /* a huge count */
    apply_bad(e, w, n, STORE_RC_WSET);
    memcpy(w, e->rec.ws[0], n);
    w[0] = 'X';                                             /* magic */
    apply_bad(e, w, n, STORE_RC_WSET);
    memcpy(w, e->rec.ws[0], n);
    w[5] ^= 1;                                              /* table version */
    apply_bad(e, w, n, STORE_RC_WSET);
    memcpy(w, e->rec.ws[0], n);
    w[13 + 1] = (uint8_t)store_db_count;                    /* unknown db */
    apply_bad(e, w, n, STORE_RC_WSET);
    memcpy(w, e->rec.ws[0], n);
    w[13] = 9;                                              /* unknown op */
    apply_bad(e, w, n, STORE_RC_WSET);
    /* one record, a 600-byte key (LMDB's maximum is 511) */
    memcpy(w, e->rec.ws[0], 13);
    store_put_be32(w + 9, 1);
    w[13] = 1;
    w[14] = 1;
    store_put_be32(w + 15, 600);
    memset(w + 19, 'k', 600);
    store_put_be32(w + 19 + 600, 0);
    apply_bad(e, w, 19 + 600 + 4, STORE_RC_WSET);
    store_put_be32(w + 15, 1);                              /* valid, but no repl_seq */
    store_put_be32(w + 20, 0);
    apply_bad(e, w, 24, STORE_RC_WSET);
    w[13] = 2;                                              /* a DEL with a value */
    store_put_be32(w + 20, 1);
    w[24] = 0;
    apply_bad(e, w, 25, STORE_RC_WSET);
    apply_bad(e, NULL, 0, STORE_RC_WSET);
    free(w);
    assert_int_equal(apply_one(e, 0), 0);                   /* the real one still fits */
}

/* The flags' effective changes are what is recorded: a refused
 * NOOVERWRITE or APPEND and a delete of nothing are not; cursor writes,
 * a cursor RESERVE and cursor deletes are. */
static void
test_wrapper_flags(void **state)
{
    struct env *e = *state;
    MDB_val k = { 5, (void *)"t_one" }, v1 = { 1, (void *)"1" }, v2 = { 1, (void *)"2" };
    MDB_val k0 = { 5, (void *)"t_aaa" }, kz = { 5, (void *)"t_zzz" }, r = { 4, NULL };
    MDB_cursor *c;
    MDB_txn *t;

    assert_int_equal(store_wtxn_begin(e->a, &t), 0);
    assert_int_equal(store_put(e->a, t, e->a->meta, &k, &v1, 0), 0);
    assert_int_equal(store_put(e->a, t, e->a->meta, &k, &v2, MDB_NOOVERWRITE), MDB_KEYEXIST);
    v2 = (MDB_val){ 1, (void *)"2" };
    MDB_val ka = { 5, (void *)"t_abc" };  /* before t_one: an APPEND is refused */
    assert_int_equal(store_put(e->a, t, e->a->meta, &ka, &v2, MDB_APPEND), MDB_KEYEXIST);
    assert_int_equal(store_del(e->a, t, e->a->meta, &kz, NULL), MDB_NOTFOUND);
    assert_int_equal(mdb_cursor_open(t, e->a->meta, &c), 0);
    assert_int_equal(store_cursor_put(e->a, c, &kz, &r, MDB_RESERVE), 0);
    memcpy(r.mv_data, "zzzz", 4);      /* written after the put, as LMDB allows */
    assert_int_equal(store_cursor_put(e->a, c, &k0, &v2, 0), 0);
    assert_int_equal(mdb_cursor_get(c, &k0, &v2, MDB_SET), 0);
    assert_int_equal(store_cursor_del(e->a, c, 0), 0);
    mdb_cursor_close(c);
    assert_int_equal(store_wtxn_commit(e->a, t), 0);
    for (size_t i = 0; i < e->rec.n; i++)
        assert_int_equal(apply_one(e, i), 0);
    assert_same_dbs(e->a, e->b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replay_equal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_partial_differs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hook_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrapper_flags, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
