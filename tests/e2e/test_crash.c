/*
 * test_crash.c - kill -9 crash loop under load (docs/RELIABILITY.md T1, adapted:
 * no TLS, SIGKILL only).
 *
 * Each cycle: (re)start hitlqd on the same data dir; 4 submitter threads
 * (own connections) submit unique keys in pipelined batches, recording
 * every acknowledged SUBMIT (key -> id); 2 specialist threads claim with
 * short leases and resolve (recording acknowledged resolutions id -> seq),
 * sometimes releasing or letting a lease expire; after 0.2-1.5 s (fixed
 * seed) the server gets SIGKILL.  Failed or cut-off operations are "info"
 * (unknown) and their keys are retried after the restart.
 *
 * After the last cycle: clean restart, then the checker: lost = 0,
 * duplicated = 0 (same key -> same id), every acked resolve resolved and in
 * the result stream exactly once with its seq, no id twice in the stream,
 * no acked-resolved item offered again; then drain and check one stream
 * entry per item.  HITLQ_CRASH_CYCLES overrides the cycle count (30).
 *
 * Negative control (test_negative_control_detects_loss): the same crash
 * loop (8 cycles, SIGKILL only) and the same checker against
 * build/test/hitlqd-unsafe, which acknowledges ~30 ms before it commits;
 * it passes only if the checker reports lost > 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "credit_items.h"
#include "harness.h"
#include "hitlq_msgpack.h"

#define N_SUBMITTERS   4
#define N_SPECIALISTS  2
#define BATCH          8
#define MAX_KEYS       20000          /* per submitter */
#define MAX_IDS        (1u << 20)
#define SEED           20261122u

static struct credit_item *CI;
static size_t NCI;
static struct hserver S;

static atomic_bool stop_load;
static _Atomic uint16_t cur_port;

/* ---- records ------------------------------------------------------------ */

enum kstate { K_NEW = 0, K_UNKNOWN, K_ACKED };

struct krec {
    char          key[24];
    uint8_t       small[16];        /* packed {"amount": n} when !csv */
    uint8_t       small_len;
    bool          csv;
    size_t        row;
    enum kstate   st;
    uint64_t      id;
};

struct submitter {
    int          idx;
    struct krec *k;
    size_t       n;                 /* keys created */
    size_t       acked, info;
    unsigned     rng;
};

static struct submitter SUB[N_SUBMITTERS];

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
/* per id: acked resolve seq (0 = none) */
static uint64_t *resolved_seq;
/* per id: the lease a specialist believes it holds (expires_ms wall clock,
 * holder index + 1; 0 = none or unknown) */
static uint64_t *lease_exp;
static uint8_t  *lease_holder;
static atomic_size_t anom_lease_overlap;
static size_t    n_resolve_acked;
/* anomalies */
static atomic_size_t anom_id_mismatch;     /* same key acked with two ids */
static atomic_size_t anom_offered_again;   /* acked-resolved item claimed again */
static atomic_size_t anom_submit_refused;  /* conflict/invalid on our own resubmit */
static atomic_size_t n_info_resolve, n_expire_let, n_release;

static void krec_init(struct submitter *s, size_t i)
{
    struct krec *k = &s->k[i];
    snprintf(k->key, sizeof k->key, "crash-%d-%zu", s->idx, i);
    /* one in three queued for sure (incomplete), the rest CSV rows */
    k->csv = (i % 3) != 0;
    k->row = (i * N_SUBMITTERS + (size_t)s->idx) % NCI;
    if (!k->csv) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 1);
        hpk_kv_u64(&pk, "amount", 1000 + i % 5000);
        memcpy(k->small, sb.data, sb.size);
        k->small_len = (uint8_t)sb.size;
        msgpack_sbuffer_destroy(&sb);
    }
}

static hitlq_item krec_item(const struct krec *k)
{
    hitlq_item it = { .key = k->key, .type = "credit_application", .priority = -1 };
    if (k->csv) {
        it.fields = CI[k->row].fields;
        it.fields_len = CI[k->row].fields_len;
    } else {
        it.fields = k->small;
        it.fields_len = k->small_len;
    }
    return it;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static hitlq *connect_now(const char *name, int timeout_ms)
{
    hitlq_options o = { .host = "127.0.0.1", .port = atomic_load(&cur_port), .name = name,
                        .timeout_ms = timeout_ms };
    hitlq *c = hitlq_connect(&o);
    if (c && hitlq_err(c) != HITLQ_OK) {
        hitlq_free(c);
        c = NULL;
    }
    return c;
}

/* Files one reply; returns true if acked. */
static void file_submit(struct submitter *s, size_t i, int st, const hitlq_decision *d)
{
    struct krec *k = &s->k[i];
    if (st == HITLQ_OK) {
        if (k->st == K_ACKED && (k->id != d->id || !d->duplicate)) {
            fprintf(stderr, "ANOMALY: %s acked as %" PRIu64 ", resubmit gave %" PRIu64
                    " duplicate=%d\n", k->key, k->id, d->id, d->duplicate);
            atomic_fetch_add(&anom_id_mismatch, 1);
        }
        if (k->st != K_ACKED)
            s->acked++;
        k->st = K_ACKED;
        k->id = d->id;
    } else if (st == HITLQ_ST_CONFLICT || st == HITLQ_ST_INVALID_ITEM ||
               st == HITLQ_ST_BAD_REQUEST || st == HITLQ_ST_UNKNOWN_TYPE) {
        fprintf(stderr, "submit %s refused: %s\n", k->key, hitlq_strerror(st));
        atomic_fetch_add(&anom_submit_refused, 1);
        if (k->st != K_ACKED)
            k->st = K_UNKNOWN;
    } else if (k->st != K_ACKED) {
        if (k->st != K_UNKNOWN)
            s->info++;
        k->st = K_UNKNOWN;
    }
}

static void *submitter_main(void *arg)
{
    struct submitter *s = arg;
    hitlq *c = NULL;
    char name[32];
    snprintf(name, sizeof name, "bot-%d", s->idx);
    size_t retry_pos = 0;
    while (!atomic_load(&stop_load)) {
        if (!c) {
            c = connect_now(name, 5000);
            if (!c) {
                harness_sleep_ms(20);
                continue;
            }
        }
        /* batch: unknown keys first (retry with the same key), then new */
        size_t idx[BATCH], n = 0;
        for (; retry_pos < s->n && n < BATCH / 2; retry_pos++)
            if (s->k[retry_pos].st == K_UNKNOWN)
                idx[n++] = retry_pos;
        if (retry_pos >= s->n)
            retry_pos = 0;
        /* one already-acked key again: must be a duplicate with its id */
        if (s->n > 0) {
            size_t j = (size_t)rand_r(&s->rng) % s->n;
            if (s->k[j].st == K_ACKED)
                idx[n++] = j;
        }
        while (n < BATCH && s->n < MAX_KEYS) {
            krec_init(s, s->n);
            idx[n++] = s->n++;
        }
        if (n == 0)
            break;
        hitlq_item items[BATCH];
        hitlq_decision dec[BATCH];
        int sts[BATCH];
        for (size_t j = 0; j < n; j++) {
            items[j] = krec_item(&s->k[idx[j]]);
            sts[j] = HITLQ_EIO;
        }
        int rc = hitlq_submit_batch(c, items, n, BATCH, dec, sts);
        for (size_t j = 0; j < n; j++)
            file_submit(s, idx[j], sts[j], &dec[j]);
        if (rc != HITLQ_OK) {
            hitlq_free(c);
            c = NULL;
            continue;
        }
        harness_sleep_ms(15);   /* keep the item count (and the drain) bounded */
    }
    hitlq_free(c);
    return NULL;
}

struct specialist {
    int      idx;
    unsigned rng;
    size_t   resolved;
};

static struct specialist SPEC[N_SPECIALISTS];

static void *specialist_main(void *arg)
{
    struct specialist *sp = arg;
    hitlq *c = NULL;
    char name[32];
    snprintf(name, sizeof name, "spec-%d", sp->idx);
    const char *qs[] = { "credit_review", "dead_letter" };
    while (!atomic_load(&stop_load)) {
        if (!c) {
            c = connect_now(name, 5000);
            if (!c) {
                harness_sleep_ms(20);
                continue;
            }
        }
        struct hitlq_claim cl;
        memset(&cl, 0, sizeof cl);
        int rc = hitlq_claim(c, qs, 2, 1000, 200, NULL, &cl);
        if (rc == HITLQ_ST_EMPTY)
            continue;
        if (rc != HITLQ_OK) {
            hitlq_claim_clear(&cl);
            hitlq_free(c);
            c = NULL;
            continue;
        }
        pthread_mutex_lock(&mu);
        if (cl.id < MAX_IDS && resolved_seq[cl.id] != 0) {
            fprintf(stderr, "ANOMALY: item %" PRIu64 " offered again after acked resolve "
                    "(seq %" PRIu64 ")\n", cl.id, resolved_seq[cl.id]);
            atomic_fetch_add(&anom_offered_again, 1);
        }
        if (cl.id < MAX_IDS) {
            uint64_t now = wall_ms();
            /* another specialist's lease on this item has not run out
             * (100 ms slack for clock reads) */
            if (lease_holder[cl.id] && lease_holder[cl.id] != sp->idx + 1 &&
                lease_exp[cl.id] > now + 100) {
                fprintf(stderr, "ANOMALY: item %" PRIu64 " claimed by spec-%d while spec-%d "
                        "holds a lease for %" PRIu64 " ms more\n", cl.id, sp->idx,
                        lease_holder[cl.id] - 1, lease_exp[cl.id] - now);
                atomic_fetch_add(&anom_lease_overlap, 1);
            }
            lease_holder[cl.id] = (uint8_t)(sp->idx + 1);
            lease_exp[cl.id] = cl.expires_ms;
        }
        pthread_mutex_unlock(&mu);
        unsigned r = (unsigned)rand_r(&sp->rng) % 100;
        if (r >= 8 && cl.id < MAX_IDS) {
            /* about to release or resolve: from the moment the request is
             * sent, another specialist may legitimately get the item */
            pthread_mutex_lock(&mu);
            if (lease_holder[cl.id] == sp->idx + 1)
                lease_holder[cl.id] = 0;
            pthread_mutex_unlock(&mu);
        }
        if (r < 8) {
            /* let the lease expire: just forget it */
            atomic_fetch_add(&n_expire_let, 1);
        } else if (r < 16) {
            rc = hitlq_release(c, cl.id, cl.lease, r < 12 ? 0 : 100);
            atomic_fetch_add(&n_release, 1);
        } else {
            uint64_t seq = 0;
            rc = hitlq_resolve(c, cl.id, cl.lease, (r & 1) ? "approve" : "reject", "crash",
                               NULL, &seq);
            if (rc == HITLQ_OK) {
                pthread_mutex_lock(&mu);
                if (cl.id < MAX_IDS) {
                    resolved_seq[cl.id] = seq;
                    n_resolve_acked++;
                }
                pthread_mutex_unlock(&mu);
                sp->resolved++;
            } else if (rc < 0) {
                atomic_fetch_add(&n_info_resolve, 1);
            }
        }
        hitlq_claim_clear(&cl);
        if (rc < 0) {
            hitlq_free(c);
            c = NULL;
        }
    }
    hitlq_free(c);
    return NULL;
}

/* ---- result stream ------------------------------------------------------- */

struct stream {
    uint64_t *seq, *id;
    size_t    n, cap, want;
};

static int stream_fn(void *arg, const hitlq_reply *r)
{
    struct stream *s = arg;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->seq = realloc(s->seq, s->cap * sizeof *s->seq);
        s->id = realloc(s->id, s->cap * sizeof *s->id);
        if (!s->seq || !s->id)
            return 1;
    }
    const msgpack_object *q = hitlq_reply_get(r, "seq"), *i = hitlq_reply_get(r, "id");
    s->seq[s->n] = q && q->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? q->via.u64 : 0;
    s->id[s->n] = i && i->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? i->via.u64 : 0;
    s->n++;
    return s->n >= s->want;
}

static uint64_t next_result_seq(hitlq *c, uint64_t *submitted)
{
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    const msgpack_object *o = hitlq_reply_get(r, "results");
    assert_non_null(o);
    uint64_t next = o->via.u64;
    if (submitted) {
        *submitted = 0;
        const msgpack_object *t = hitlq_reply_get(r, "types");
        for (uint32_t i = 0; t && i < t->via.array.size; i++) {
            const msgpack_object *m = &t->via.array.ptr[i];
            for (uint32_t k = 0; k < m->via.map.size; k++)
                if (hobj_str_eq(&m->via.map.ptr[k].key, "submitted"))
                    *submitted += hobj_u64(&m->via.map.ptr[k].val);
        }
    }
    hitlq_reply_free(r);
    return next;
}

/* Reads the whole stream [1, next). */
static void read_stream(hitlq *c, struct stream *st)
{
    uint64_t next = next_result_seq(c, NULL);
    memset(st, 0, sizeof *st);
    st->want = next - 1;
    if (st->want == 0)
        return;
    hitlq *w = connect_now("auditor", 30000);
    assert_non_null(w);
    int rc = hitlq_watch(w, 1, 10000, stream_fn, st);
    if (rc != HITLQ_OK)
        fail_msg("watch: %s after %zu of %zu results", hitlq_strerror(rc), st->n, st->want);
    hitlq_free(w);
    assert_int_equal(st->n, st->want);
}

static void stream_free(struct stream *s)
{
    free(s->seq);
    free(s->id);
    memset(s, 0, sizeof *s);
}

/* ---- drain -------------------------------------------------------------- */

struct drainer {
    size_t resolved;
    int    err;
};

static void *drain_main(void *arg)
{
    struct drainer *d = arg;
    hitlq *c = connect_now("drainer", 30000);
    if (!c) {
        d->err = -1;
        return NULL;
    }
    const char *qs[] = { "credit_review", "dead_letter" };
    for (int guard = 0; guard < 200000; guard++) {
        struct hitlq_claim cl;
        memset(&cl, 0, sizeof cl);
        /* leases from before the crash run out within ~1 s: wait for them */
        int rc = hitlq_claim(c, qs, 2, 60000, 2500, NULL, &cl);
        if (rc == HITLQ_ST_EMPTY)
            break;
        if (rc != HITLQ_OK) {
            d->err = rc;
            break;
        }
        pthread_mutex_lock(&mu);
        if (cl.id < MAX_IDS && resolved_seq[cl.id] != 0)
            atomic_fetch_add(&anom_offered_again, 1);
        pthread_mutex_unlock(&mu);
        rc = hitlq_resolve(c, cl.id, cl.lease, "approve", "drain", NULL, NULL);
        hitlq_claim_clear(&cl);
        if (rc != HITLQ_OK) {
            d->err = rc;
            break;
        }
        d->resolved++;
    }
    hitlq_free(c);
    return NULL;
}

/* ---- the crash loop and its checker (shared by both tests) --------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Fresh records and counters (each test starts from nothing). */
static void crash_state_init(void)
{
    resolved_seq = calloc(MAX_IDS, sizeof *resolved_seq);
    assert_non_null(resolved_seq);
    lease_exp = calloc(MAX_IDS, sizeof *lease_exp);
    lease_holder = calloc(MAX_IDS, 1);
    assert_true(lease_exp && lease_holder);
    n_resolve_acked = 0;
    atomic_store(&anom_lease_overlap, 0);
    atomic_store(&anom_id_mismatch, 0);
    atomic_store(&anom_offered_again, 0);
    atomic_store(&anom_submit_refused, 0);
    atomic_store(&n_info_resolve, 0);
    atomic_store(&n_expire_let, 0);
    atomic_store(&n_release, 0);
    for (int i = 0; i < N_SUBMITTERS; i++) {
        memset(&SUB[i], 0, sizeof SUB[i]);
        SUB[i].idx = i;
        SUB[i].rng = SEED + 101u * (unsigned)i;
        SUB[i].k = calloc(MAX_KEYS, sizeof *SUB[i].k);
        assert_non_null(SUB[i].k);
    }
    for (int i = 0; i < N_SPECIALISTS; i++) {
        memset(&SPEC[i], 0, sizeof SPEC[i]);
        SPEC[i].idx = i;
        SPEC[i].rng = SEED + 17u * (unsigned)i;
    }
}

static void crash_state_free(void)
{
    for (int i = 0; i < N_SUBMITTERS; i++) {
        free(SUB[i].k);
        SUB[i].k = NULL;
    }
    free(resolved_seq);
    free(lease_exp);
    free(lease_holder);
    resolved_seq = NULL;
    lease_exp = NULL;
    lease_holder = NULL;
}

struct crash_plan {
    const char *bin;              /* server binary; NULL: the harness default */
    int         cycles;
    unsigned    load_min_ms;      /* load window: min + rand % span */
    unsigned    load_span_ms;
    bool        kill_only;        /* SIGKILL every cycle (else 70/15/15 mix) */
};

/* Starts the server and runs the cycles; returns the time taken (ms).
 * The server is down (killed or stopped) afterwards. */
static uint64_t crash_run_cycles(const struct crash_plan *p)
{
    unsigned rng = SEED;
    assert_true(harness_server_start_bin(&S, NULL, p->bin) > 0);
    uint64_t t_start = harness_now_ms();
    size_t prev_acked = 0;
    int n_kill = 0, n_pause = 0, n_term = 0;
    for (int cyc = 0; cyc < p->cycles; cyc++) {
        if (cyc > 0) {
            uint64_t t0 = harness_now_ms();
            if (harness_server_restart(&S) <= 0)
                fail_msg("restart failed in cycle %d", cyc);
            uint64_t dt = harness_now_ms() - t0;
            if (dt > 2000)
                fprintf(stderr, "cycle %d: restart took %llu ms\n", cyc,
                        (unsigned long long)dt);
        }
        atomic_store(&cur_port, S.port);
        atomic_store(&stop_load, false);
        pthread_t th[N_SUBMITTERS + N_SPECIALISTS];
        for (int i = 0; i < N_SUBMITTERS; i++)
            assert_int_equal(pthread_create(&th[i], NULL, submitter_main, &SUB[i]), 0);
        for (int i = 0; i < N_SPECIALISTS; i++)
            assert_int_equal(
                pthread_create(&th[N_SUBMITTERS + i], NULL, specialist_main, &SPEC[i]), 0);
        unsigned load_ms = p->load_min_ms + (unsigned)rand_r(&rng) % p->load_span_ms;
        unsigned how = (unsigned)rand_r(&rng) % 100;
        if (p->kill_only)
            how = 0;
        harness_sleep_ms(load_ms);
        /* mid-traffic: 70% SIGKILL; 15% SIGSTOP past the lease length,
         * SIGCONT, more load, then SIGKILL; 15% SIGTERM (must exit 0) */
        assert_true(harness_server_alive(&S));
        if (how < 70) {
            assert_int_equal(harness_server_kill(&S, SIGKILL), 0);
            n_kill++;
        } else if (how < 85) {
            assert_int_equal(harness_server_kill(&S, SIGSTOP), 0);
            harness_sleep_ms(1300);
            assert_int_equal(harness_server_kill(&S, SIGCONT), 0);
            harness_sleep_ms(300);
            assert_true(harness_server_alive(&S));
            assert_int_equal(harness_server_kill(&S, SIGKILL), 0);
            n_pause++;
        } else {
            if (harness_server_stop(&S) != 0)
                fail_msg("cycle %d: SIGTERM under load: unclean exit", cyc);
            n_term++;
        }
        atomic_store(&stop_load, true);
        for (int i = 0; i < N_SUBMITTERS + N_SPECIALISTS; i++)
            pthread_join(th[i], NULL);
        size_t acked = 0;
        for (int i = 0; i < N_SUBMITTERS; i++)
            acked += SUB[i].acked;
        if (cyc < 3 || cyc == p->cycles - 1)
            fprintf(stderr, "cycle %d: load %u ms, %zu submits acked (total %zu), "
                    "%zu resolves acked\n", cyc, load_ms, acked - prev_acked, acked,
                    n_resolve_acked);
        prev_acked = acked;
        if (harness_log_has_sanitizer(&S))
            fail_msg("sanitizer report in the server log (cycle %d)", cyc);
    }
    uint64_t t_load = harness_now_ms() - t_start;
    fprintf(stderr, "cycles: %d SIGKILL, %d SIGSTOP+SIGCONT+SIGKILL, %d SIGTERM\n", n_kill,
            n_pause, n_term);
    return t_load;
}

/* What the checker found (Jepsen total-queue style counts plus ours). */
struct crash_counts {
    size_t acked, info, recovered;          /* submits */
    size_t lost, dup;
    size_t id_mismatch, offered_again, refused, lease_overlap;   /* during the load */
    size_t stream_n, twice, res_missing, res_wrong_seq, res_not_resolved;
};

/* The checker: clean restart, then counts (and prints) every anomaly;
 * asserts only what it needs to go on.  Returns the checker connection
 * (the server stays up).
 *   1. lost: every acked key exists with that id and key;
 *   2. duplicated: resubmitting every key returns the same id (acked) /
 *      some id (info: "recovered" when duplicate);
 *   3. acked resolves: resolved in GET, exactly once in the stream with
 *      their seq; no id twice in the stream. */
static hitlq *crash_check(int cycles, uint64_t t_load, struct crash_counts *k)
{
    memset(k, 0, sizeof *k);
    assert_true(harness_server_restart(&S) > 0);
    atomic_store(&cur_port, S.port);
    hitlq *c = connect_now("checker", 30000);
    assert_non_null(c);

    /* 1. lost */
    for (int s = 0; s < N_SUBMITTERS; s++) {
        for (size_t i = 0; i < SUB[s].n; i++) {
            struct krec *kr = &SUB[s].k[i];
            if (kr->st != K_ACKED)
                continue;
            k->acked++;
            hitlq_reply *r = NULL;
            int rc = hitlq_get(c, kr->id, &r);
            if (rc != HITLQ_OK || !hobj_str_eq(hitlq_reply_get(r, "key"), kr->key)) {
                if (k->lost < 10)
                    fprintf(stderr, "LOST: %s id %" PRIu64 " (%s)\n", kr->key, kr->id,
                            hitlq_strerror(rc));
                k->lost++;
            }
            hitlq_reply_free(r);
        }
    }
    /* 2. duplicated */
    for (int s = 0; s < N_SUBMITTERS; s++) {
        for (size_t i = 0; i < SUB[s].n; i += BATCH) {
            size_t n = SUB[s].n - i < BATCH ? SUB[s].n - i : BATCH;
            hitlq_item items[BATCH];
            hitlq_decision dec[BATCH];
            int sts[BATCH];
            for (size_t j = 0; j < n; j++)
                items[j] = krec_item(&SUB[s].k[i + j]);
            assert_int_equal(hitlq_submit_batch(c, items, n, BATCH, dec, sts), HITLQ_OK);
            for (size_t j = 0; j < n; j++) {
                struct krec *kr = &SUB[s].k[i + j];
                if (sts[j] != HITLQ_OK)
                    fail_msg("resubmit %s: %s", kr->key, hitlq_strerror(sts[j]));
                if (kr->st == K_ACKED) {
                    if (!dec[j].duplicate || dec[j].id != kr->id) {
                        if (k->dup < 10)
                            fprintf(stderr, "DUPLICATED: %s acked id %" PRIu64 ", now %" PRIu64
                                    " duplicate=%d\n", kr->key, kr->id, dec[j].id,
                                    dec[j].duplicate);
                        k->dup++;
                    }
                } else {
                    k->info++;
                    if (dec[j].duplicate)
                        k->recovered++;
                    kr->st = K_ACKED;     /* now it is */
                    kr->id = dec[j].id;
                }
            }
        }
    }
    k->id_mismatch = atomic_load(&anom_id_mismatch);
    k->refused = atomic_load(&anom_submit_refused);
    k->lease_overlap = atomic_load(&anom_lease_overlap);
    fprintf(stderr, "crash loop: %d cycles in %llu ms; submits acked %zu, info %zu "
            "(recovered %zu); resolves acked %zu (info %zu); leases let expire %zu, "
            "releases %zu\n", cycles, (unsigned long long)t_load, k->acked, k->info,
            k->recovered, n_resolve_acked, (size_t)n_info_resolve, (size_t)n_expire_let,
            (size_t)n_release);
    fprintf(stderr, "anomalies: lost %zu, duplicated %zu, id mismatch %zu, offered again %zu, "
            "refused %zu, lease overlap %zu\n", k->lost, k->dup, k->id_mismatch,
            (size_t)anom_offered_again, k->refused, k->lease_overlap);

    /* 3. acked resolves */
    struct stream sm;
    read_stream(c, &sm);
    uint64_t *ids = malloc((sm.n + 1) * sizeof *ids);
    assert_non_null(ids);
    for (size_t i = 0; i < sm.n; i++) {
        assert_int_equal(sm.seq[i], i + 1);
        ids[i] = sm.id[i];
    }
    qsort(ids, sm.n, sizeof *ids, cmp_u64);
    for (size_t i = 1; i < sm.n; i++)
        if (ids[i] == ids[i - 1])
            k->twice++;
    uint64_t *seq_of = calloc(MAX_IDS, sizeof *seq_of);
    assert_non_null(seq_of);
    for (size_t i = 0; i < sm.n; i++)
        if (sm.id[i] < MAX_IDS)
            seq_of[sm.id[i]] = sm.seq[i];
    for (uint64_t id = 1; id < MAX_IDS; id++) {
        if (!resolved_seq[id])
            continue;
        if (seq_of[id] == 0)
            k->res_missing++;
        else if (seq_of[id] != resolved_seq[id])
            k->res_wrong_seq++;
        hitlq_reply *r = NULL;
        if (hitlq_get(c, id, &r) != HITLQ_OK ||
            !hobj_str_eq(hitlq_reply_get(r, "state"), "resolved"))
            k->res_not_resolved++;
        hitlq_reply_free(r);
    }
    k->stream_n = sm.n;
    k->offered_again = atomic_load(&anom_offered_again);
    fprintf(stderr, "stream: %zu results; ids twice %zu; acked resolves missing %zu, "
            "wrong seq %zu, not resolved %zu\n", sm.n, k->twice, k->res_missing,
            k->res_wrong_seq, k->res_not_resolved);
    stream_free(&sm);
    free(ids);
    free(seq_of);
    return c;
}

/* ---- the tests ------------------------------------------------------------ */

static void test_crash_loop(void **st)
{
    (void)st;
    struct crash_plan plan = { .bin = NULL, .cycles = 30, .load_min_ms = 200,
                               .load_span_ms = 1301, .kill_only = false };
    const char *env = getenv("HITLQ_CRASH_CYCLES");
    if (env && atoi(env) > 0)
        plan.cycles = atoi(env);
    harness_server_cleanup(&S);
    crash_state_init();
    uint64_t t_load = crash_run_cycles(&plan);

    /* ---- checker ---- */
    struct crash_counts k;
    hitlq *c = crash_check(plan.cycles, t_load, &k);
    assert_true(k.acked >= (size_t)plan.cycles * 50 / 2);
    assert_int_equal(k.lost, 0);
    assert_int_equal(k.dup, 0);
    assert_int_equal(k.id_mismatch, 0);
    assert_int_equal(k.refused, 0);
    assert_int_equal(k.lease_overlap, 0);
    assert_int_equal(k.twice, 0);
    assert_int_equal(k.res_missing, 0);
    assert_int_equal(k.res_wrong_seq, 0);
    assert_int_equal(k.res_not_resolved, 0);
    assert_int_equal(k.offered_again, 0);

    /* 4. drain: everything left in credit_review / dead_letter */
    struct stream sm;
    struct drainer dr[4] = { { 0 } };
    pthread_t dth[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&dth[i], NULL, drain_main, &dr[i]), 0);
    size_t drained = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(dth[i], NULL);
        if (dr[i].err != 0)
            fail_msg("drainer %d: %s", i, hitlq_strerror(dr[i].err));
        drained += dr[i].resolved;
    }
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    const msgpack_object *qa = hitlq_reply_get(r, "queues");
    for (uint32_t i = 0; qa && i < qa->via.array.size; i++) {
        const msgpack_object *m = &qa->via.array.ptr[i];
        for (uint32_t kk = 0; kk < m->via.map.size; kk++) {
            const msgpack_object_kv *kv = &m->via.map.ptr[kk];
            if (hobj_str_eq(&kv->key, "depth") || hobj_str_eq(&kv->key, "leased") ||
                hobj_str_eq(&kv->key, "delayed"))
                assert_int_equal(hobj_u64(&kv->val), 0);
        }
    }
    hitlq_reply_free(r);
    uint64_t submitted = 0;
    uint64_t next = next_result_seq(c, &submitted);
    read_stream(c, &sm);
    fprintf(stderr, "drain: %zu resolved; items %" PRIu64 ", stream %zu (next %" PRIu64 ")\n",
            drained, submitted, sm.n, next);
    /* one entry per item, each item once */
    assert_int_equal(sm.n, submitted);
    uint64_t *ids = malloc((sm.n + 1) * sizeof *ids);
    assert_non_null(ids);
    for (size_t i = 0; i < sm.n; i++) {
        assert_int_equal(sm.seq[i], i + 1);
        ids[i] = sm.id[i];
    }
    qsort(ids, sm.n, sizeof *ids, cmp_u64);
    for (size_t i = 1; i < sm.n; i++)
        assert_true(ids[i] != ids[i - 1]);
    /* every acked key's item is in the stream */
    uint64_t *seq_of = calloc(MAX_IDS, sizeof *seq_of);
    assert_non_null(seq_of);
    for (size_t i = 0; i < sm.n; i++)
        if (sm.id[i] < MAX_IDS)
            seq_of[sm.id[i]] = sm.seq[i];
    size_t not_in_stream = 0;
    for (int s = 0; s < N_SUBMITTERS; s++)
        for (size_t i = 0; i < SUB[s].n; i++)
            if (SUB[s].k[i].st == K_ACKED && SUB[s].k[i].id < MAX_IDS &&
                seq_of[SUB[s].k[i].id] == 0)
                not_in_stream++;
    assert_int_equal(not_in_stream, 0);
    stream_free(&sm);
    free(ids);
    free(seq_of);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&S), 0);
    harness_server_cleanup(&S);
    crash_state_free();
}

/* Negative control (docs/RELIABILITY.md §3 T1: negative controls must FAIL):
 * the same crash loop and checker against build/test/hitlqd-unsafe, whose
 * commit thread sends replies ~30 ms before it commits.  SIGKILL in that
 * window loses acknowledged submits, and the checker must see it: this
 * test passes only when the checker reports lost > 0. */
static void test_negative_control_detects_loss(void **st)
{
    (void)st;
    struct crash_plan plan = { .bin = HARNESS_HITLQD_UNSAFE, .cycles = 8,
                               .load_min_ms = 250, .load_span_ms = 251, .kill_only = true };
    if (access(HARNESS_HITLQD_UNSAFE, X_OK) != 0)
        fail_msg("%s missing: build it with make test-build", HARNESS_HITLQD_UNSAFE);
    harness_server_cleanup(&S);
    crash_state_init();
    uint64_t t_load = crash_run_cycles(&plan);

    struct crash_counts k;
    hitlq *c = crash_check(plan.cycles, t_load, &k);
    fprintf(stderr, "negative control (ack before commit): lost %zu of %zu acked submits, "
            "duplicated %zu, id mismatch %zu, offered again %zu, lease overlap %zu; "
            "acked resolves missing %zu, wrong seq %zu, not resolved %zu\n", k.lost,
            k.acked, k.dup, k.id_mismatch, k.offered_again, k.lease_overlap, k.res_missing,
            k.res_wrong_seq, k.res_not_resolved);
    assert_true(k.acked > 0);
    if (k.lost == 0)
        fail_msg("negative control: the checker found no lost write against a server "
                 "that acknowledges before committing: it cannot detect loss");
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&S), 0);
    harness_server_cleanup(&S);
    crash_state_free();
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (credit_items_load(CREDIT_ITEMS_CSV, &CI, &NCI) != 0) {
        fprintf(stderr, "cannot load %s\n", CREDIT_ITEMS_CSV);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_loop),
        cmocka_unit_test(test_negative_control_detects_loss),
    };
    int rc = cmocka_run_group_tests_name("crash", tests, NULL, NULL);
    harness_server_cleanup(&S);
    credit_items_free(CI, NCI);
    return rc;
}
