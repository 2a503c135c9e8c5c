/*
 * bench_lmdb.c - the machine's durable-insert ceiling, measured in the same
 * run as hitlqd: raw LMDB puts of the packed German Credit rows (the same
 * ~300-byte fields maps bench_load submits) under monotonic 8-byte
 * big-endian keys, default (durable) flags, K items per mdb_txn_commit, in
 * a fresh environment under a temporary directory, for ~S seconds (and at
 * most N items).  docs/PERFORMANCE.md §3.1 describes the method.
 *
 *   bench_lmdb [-f CSV] [-d PARENT_DIR] [-s SECONDS] [-b PER_COMMIT] [-n MAX]
 *
 * Prints one grep-able line:
 *   bench: raw LMDB durable inserts/s (256/commit) = N (M items, T s, V B avg value)
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

#include "credit_items.h"

static double
bl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
bl_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
bl_usage(void)
{
    fprintf(stderr, "usage: bench_lmdb [-f CSV] [-d PARENT_DIR] [-s SECONDS] "
                    "[-b PER_COMMIT] [-n MAX_ITEMS]\n");
}

int
main(int argc, char **argv)
{
    const char *csv = CREDIT_ITEMS_CSV, *parent = getenv("TMPDIR");
    double secs = 3.0;
    unsigned long per_commit = 256, max_items = 20000000;
    int ch;

    while ((ch = getopt(argc, argv, "f:d:s:b:n:h")) != -1) {
        switch (ch) {
        case 'f': csv = optarg; break;
        case 'd': parent = optarg; break;
        case 's': secs = atof(optarg); break;
        case 'b': per_commit = strtoul(optarg, NULL, 10); break;
        case 'n': max_items = strtoul(optarg, NULL, 10); break;
        default: bl_usage(); return ch == 'h' ? 0 : 2;
        }
    }
    if (secs <= 0 || secs > 60 || per_commit == 0 || per_commit > 1000000 || max_items == 0) {
        bl_usage();
        return 2;
    }
    if (parent == NULL || !parent[0])
        parent = "/tmp";

    struct credit_item *items = NULL;
    size_t n_items = 0;
    if (credit_items_load(csv, &items, &n_items) != 0) {
        fprintf(stderr, "bench_lmdb: cannot load %s: %s\n", csv, strerror(errno));
        return 1;
    }
    size_t total_val = 0;
    for (size_t i = 0; i < n_items; i++)
        total_val += items[i].fields_len;

    char dir[4096];
    snprintf(dir, sizeof dir, "%s/bench_lmdb.XXXXXX", parent);
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "bench_lmdb: mkdtemp %s: %s\n", dir, strerror(errno));
        credit_items_free(items, n_items);
        return 1;
    }

    MDB_env *env = NULL;
    MDB_dbi dbi;
    MDB_txn *txn = NULL;
    int rc = mdb_env_create(&env);
    if (rc == 0)
        rc = mdb_env_set_mapsize(env, (size_t)16 << 30);
    if (rc == 0)
        rc = mdb_env_open(env, dir, 0, 0600);   /* default flags: durable */
    if (rc == 0)
        rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_dbi_open(txn, NULL, 0, &dbi);
    if (rc == 0) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }

    unsigned long done = 0, commits = 0;
    uint64_t key = 1;
    double t0 = bl_now(), t1 = t0, deadline = t0 + secs;
    while (rc == 0 && done < max_items && t1 < deadline) {
        rc = mdb_txn_begin(env, NULL, 0, &txn);
        for (unsigned long i = 0; rc == 0 && i < per_commit; i++, key++) {
            uint8_t kb[8];
            for (int j = 0; j < 8; j++)
                kb[j] = (uint8_t)(key >> (56 - 8 * j));
            const struct credit_item *it = &items[key % n_items];
            MDB_val k = { sizeof kb, kb }, v = { it->fields_len, it->fields };
            rc = mdb_put(txn, dbi, &k, &v, 0);
        }
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
        txn = NULL;
        if (rc == 0) {
            done += per_commit;
            commits++;
        }
        t1 = bl_now();
    }
    if (rc != 0)
        fprintf(stderr, "bench_lmdb: LMDB error: %s\n", mdb_strerror(rc));
    else
        printf("bench: raw LMDB durable inserts/s (%lu/commit) = %.0f "
               "(%lu items, %lu commits, %.2f s, %zu B avg value, 8 B keys)\n",
               per_commit, (double)done / (t1 - t0), done, commits, t1 - t0,
               total_val / n_items);
    if (env)
        mdb_env_close(env);
    nftw(dir, bl_rm, 8, FTW_DEPTH | FTW_PHYS);
    credit_items_free(items, n_items);
    return rc == 0 ? 0 : 1;
}

#include "credit_items.c"
