/*
 * bench_audit.c - the audit log's own costs, on hitlqd's real code
 * (server/audit*.c) and a real LMDB store in a temporary directory:
 *   1. append: N model-decision entries (German Credit rows, scored by the
 *      embedded scorecard) in write transactions of B entries, as the
 *      commit thread does; CPU microseconds per entry spent in the audit
 *      code (record, commitments, leaf and node hashes, puts), and the
 *      durable append rate including the commits;
 *   2. inclusion proofs at size N: hashes per proof, and the time to serve
 *      one (audit_pack_prove: LMDB reads, proof, tlog-proof text), median
 *      and p99 over random indices;
 *   3. consistency proofs between random sizes (median).
 * With -k DIR the store is left in DIR (for `hitlq-audit verify`).
 *
 *   bench_audit [-f CSV] [-d PARENT_DIR] [-n ENTRIES] [-b PER_TXN] [-k KEEP_DIR]
 */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "audit_int.h"
#include "cmd_audit_policy.h"
#include "config.h"
#include "score.h"

#include "credit_items.c"

static double ba_now(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int ba_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static int ba_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* What SUBMIT's loop thread prepares (cmd_audit.c: submit_audit_fill). */
struct ba_item {
    struct decision_like {
        double   score;
        uint8_t  n;
        uint16_t codes[HITLQ_MAX_REASONS];
        uint8_t  top[1 + HITLQ_MAX_REASONS * (1 + 255 + 16)];
        size_t   top_len;
    } d;
};

static size_t ba_f64(uint8_t *p, double v)
{
    uint64_t u;
    if (v == 0.0)
        v = 0.0;
    memcpy(&u, &v, 8);
    store_put_be64(p, u);
    return 8;
}

static void ba_prepare(const struct type_policy *p, struct credit_item *ci, struct ba_item *bi)
{
    msgpack_unpacked up;
    struct score_result r;
    size_t n = 1;

    msgpack_unpacked_init(&up);
    memset(&r, 0, sizeof r);
    if (msgpack_unpack_next(&up, (const char *)ci->fields, ci->fields_len, NULL) !=
            MSGPACK_UNPACK_SUCCESS || score_item(p, &up.data, &r) != HITLQ_ST_OK) {
        fprintf(stderr, "bench_audit: cannot score %s\n", ci->key);
        exit(1);
    }
    bi->d.score = r.score;
    /* complete rows: 8 reasons; more (missing inputs) are not benchmarked */
    size_t nr = r.n_reasons < HITLQ_MAX_REASONS ? r.n_reasons : HITLQ_MAX_REASONS;
    bi->d.n = (uint8_t)nr;
    bi->d.top[0] = (uint8_t)(nr < AUDIT_TOP_MAX ? nr : AUDIT_TOP_MAX);
    for (size_t i = 0; i < nr; i++)
        bi->d.codes[i] = r.reasons[i].code;
    for (size_t i = 0; i < bi->d.top[0]; i++) {
        size_t fl = strlen(r.reasons[i].feature);
        bi->d.top[n++] = (uint8_t)fl;
        memcpy(bi->d.top + n, r.reasons[i].feature, fl);
        n += fl;
        n += ba_f64(bi->d.top + n, 0.0);
        n += ba_f64(bi->d.top + n, r.reasons[i].contribution);
    }
    bi->d.top_len = n;
    msgpack_unpacked_destroy(&up);
}

/* Prepares (loop thread's share) and appends (commit thread's share) n
 * entries; returns the CPU seconds of each share. */
static void ba_append(struct audit *a, struct store *st, const struct type_policy *p,
                      struct credit_item *ci, size_t nci, struct ba_item *bi,
                      uint64_t n, unsigned per_txn, double *cpu_prep, double *cpu_commit)
{
    uint64_t next;
    uint8_t **tails = calloc(per_txn, sizeof *tails), salts[512][32], types[512];
    size_t *lens = calloc(per_txn, sizeof *lens);

    if (per_txn > 512 || tails == NULL || lens == NULL)
        exit(2);
    *cpu_prep = *cpu_commit = 0;
    for (uint64_t done = 0; done < n;) {
        MDB_txn *txn;
        unsigned m = (unsigned)(n - done < per_txn ? n - done : per_txn);
        double t0 = ba_now(CLOCK_THREAD_CPUTIME_ID);
        for (unsigned k = 0; k < m; k++) {
            size_t j = (done + k) % nci;
            struct audit_decision ad = {
                .key = ci[j].key, .actor = "bench-bot", .fields = ci[j].fields,
                .fields_len = ci[j].fields_len, .model = p->model->id,
                .model_digest = p->model->digest, .policy_id = "bench@1",
                .score = bi[j].d.score, .threshold = p->auto_threshold,
                .is_auto = bi[j].d.score >= p->auto_threshold, .action = "approve",
                .queue = "credit_review", .priority = 100, .deadline_ms = 1700000000000ull,
                .received_ms = 1700000000000ull, .n_codes = bi[j].d.n, .codes = bi[j].d.codes,
                .top_ext = bi[j].d.top, .top_ext_len = bi[j].d.top_len,
            };
            if (audit_prepare(a, &ad, salts[k], &types[k], &tails[k], &lens[k]) != HITLQ_ST_OK)
                exit(1);
        }
        double t1 = ba_now(CLOCK_THREAD_CPUTIME_ID);
        if (mdb_txn_begin(st->env, NULL, 0, &txn) != 0)
            exit(1);
        audit_txn_begin(a, txn);
        for (unsigned k = 0; k < m; k++) {
            struct journal_log_entry as = { .id = done + k + 1, .type = types[k],
                                            .tail = tails[k], .tail_len = lens[k] };
            if (audit_submit(a, txn, &as, 1700000000000ull + done) != HITLQ_ST_OK) {
                fprintf(stderr, "bench_audit: append failed at %llu\n",
                        (unsigned long long)(done + k));
                exit(1);
            }
        }
        double t2 = ba_now(CLOCK_THREAD_CPUTIME_ID);
        *cpu_prep += t1 - t0;
        *cpu_commit += t2 - t1;
        for (unsigned k = 0; k < m; k++)
            free(tails[k]);
        if (mdb_txn_commit(txn) != 0)
            exit(1);
        audit_after_commit(a, 0, &next);
        done += m;
    }
    free(tails);
    free(lens);
}

/* Serves `reps` AUDIT_PROVE bodies for random indices; fills us[]. */
static size_t ba_proofs(struct audit *a, struct store *st, uint64_t size, size_t reps,
                        double *us)
{
    struct audit_cp *cp = malloc(sizeof *cp);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
    size_t maxlen = 0;
    char err[160];
    MDB_txn *txn;

    if (cp == NULL || audit_cp_get(a, cp) != HITLQ_ST_OK || cp->size != size)
        exit(1);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (size_t i = 0; i < reps; i++) {
        uint64_t ix = randombytes_uniform((uint32_t)(size < UINT32_MAX ? size : UINT32_MAX));
        struct audit_get g;
        size_t n;
        if (mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn) != 0)
            exit(1);
        msgpack_sbuffer_clear(&sb);
        double t0 = ba_now(CLOCK_MONOTONIC);
        if (audit_pack_prove(a, txn, ix, false, 0, cp, &pk, err, sizeof err) != HITLQ_ST_OK) {
            fprintf(stderr, "bench_audit: prove %llu: %s\n", (unsigned long long)ix, err);
            exit(1);
        }
        us[i] = (ba_now(CLOCK_MONOTONIC) - t0) * 1e6;
        g = (struct audit_get){ a, txn, &a->rh };
        if (merkle_inclusion_proof(&a->rh, size, ix, audit_node_get, &g, proof, &n) != MERKLE_OK)
            exit(1);
        if (n > maxlen)
            maxlen = n;
        mdb_txn_abort(txn);
    }
    msgpack_sbuffer_destroy(&sb);
    free(cp);
    qsort(us, reps, sizeof *us, ba_cmp);
    return maxlen;
}

/* Median microseconds of consistency proofs between random sizes. */
static double ba_consistency(struct audit *a, struct store *st, uint64_t size, size_t reps)
{
    uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
    double *us = calloc(reps, sizeof *us), med;
    MDB_txn *txn;

    for (size_t i = 0; i < reps; i++) {
        uint64_t s1 = 1 + randombytes_uniform((uint32_t)size - 1), n;
        struct audit_get g;
        if (mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn) != 0)
            exit(1);
        g = (struct audit_get){ a, txn, &a->rh };
        double t0 = ba_now(CLOCK_MONOTONIC);
        size_t pn;
        if (merkle_consistency_proof(&a->rh, s1, size, audit_node_get, &g, proof, &pn) !=
            MERKLE_OK)
            exit(1);
        us[i] = (ba_now(CLOCK_MONOTONIC) - t0) * 1e6;
        n = pn;
        (void)n;
        mdb_txn_abort(txn);
    }
    qsort(us, reps, sizeof *us, ba_cmp);
    med = us[reps / 2];
    free(us);
    return med;
}

static void ba_usage(void)
{
    fprintf(stderr, "usage: bench_audit [-f CSV] [-d PARENT_DIR] [-n ENTRIES] [-b PER_TXN] "
                    "[-k KEEP_DIR]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *csv = CREDIT_ITEMS_CSV, *parent = getenv("TMPDIR"), *keep = NULL;
    unsigned long n = 1000000, per_txn = 512;
    char dir[400], err[256];
    struct hitlq_config cfg;
    struct credit_item *ci;
    struct scoring *sc;
    struct store *st;
    struct audit *a;
    size_t nci;
    int ch;

    while ((ch = getopt(argc, argv, "f:d:n:b:k:h")) != -1) {
        switch (ch) {
        case 'f': csv = optarg; break;
        case 'd': parent = optarg; break;
        case 'n': n = strtoul(optarg, NULL, 10); break;
        case 'b': per_txn = strtoul(optarg, NULL, 10); break;
        case 'k': keep = optarg; break;
        default: ba_usage();
        }
    }
    if (n < 16 || per_txn == 0 || sodium_init() < 0)
        ba_usage();
    if (keep != NULL)
        snprintf(dir, sizeof dir, "%s", keep);
    else
        snprintf(dir, sizeof dir, "%s/hitlq-bench-audit.XXXXXX", parent ? parent : "/tmp");
    if (keep == NULL && mkdtemp(dir) == NULL)
        return 1;
    if (credit_items_load(csv, &ci, &nci) != 0 || nci == 0 ||
        config_load(&cfg, NULL, err, sizeof err) != 0 ||
        scoring_load(&sc, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "bench_audit: setup: %s\n", err);
        return 1;
    }
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s/data", dir);
    if (store_open(&st, cfg.data_dir, 16ull << 30, err, sizeof err) != 0 ||
        cmd_audit_open(&a, st, &cfg, sc, err, sizeof err) != 0) {
        fprintf(stderr, "bench_audit: %s\n", err);
        return 1;
    }
    const struct type_policy *p = scoring_policy(sc, "credit_application");
    struct ba_item *bi = calloc(nci, sizeof *bi);
    for (size_t i = 0; i < nci; i++)
        ba_prepare(p, &ci[i], &bi[i]);

    uint64_t base = a->tree.size;
    double w0 = ba_now(CLOCK_MONOTONIC);
    double cpu_prep, cpu;
    ba_append(a, st, p, ci, nci, bi, n, (unsigned)per_txn, &cpu_prep, &cpu);
    double wall = ba_now(CLOCK_MONOTONIC) - w0;
    MDB_txn *txn;
    uint64_t next;
    audit_request_checkpoint(a);
    audit_after_commit(a, 0, &next);
    if (mdb_txn_begin(st->env, NULL, 0, &txn) != 0 || audit_persist(a, txn) != HITLQ_ST_OK ||
        mdb_txn_commit(txn) != 0)
        return 1;
    uint64_t size = a->tree.size;
    printf("bench: audit append = %.2f us/entry CPU on the commit thread + %.2f us on the loop "
           "thread, %.0f entries/s durable (%lu entries, %lu per txn, %.1f s)\n",
           cpu * 1e6 / (double)n, cpu_prep * 1e6 / (double)n, (double)n / wall, n, per_txn, wall);
    size_t reps = 2000;
    double *us = calloc(reps, sizeof *us);
    size_t maxlen = ba_proofs(a, st, size, reps, us);
    printf("bench: inclusion proof at %llu entries = %zu hashes max, served in median %.1f us, "
           "p99 %.1f us (audit_pack_prove, %zu random indices)\n",
           (unsigned long long)size, maxlen, us[reps / 2], us[reps * 99 / 100], reps);
    printf("bench: consistency proof to %llu entries = median %.1f us\n",
           (unsigned long long)size, ba_consistency(a, st, size, 500));
    (void)base;
    free(us);
    free(bi);
    audit_close(a);
    store_close(st);
    scoring_free(sc);
    credit_items_free(ci, nci);
    if (keep == NULL)
        nftw(dir, ba_rm, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
