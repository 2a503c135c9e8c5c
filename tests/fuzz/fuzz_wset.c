/*
 * fuzz_wset.c - libFuzzer target for the write-set decoder
 * (server/store/wset.c, store_wset_apply): arbitrary bytes are applied to
 * an empty LMDB store in a temporary directory (made at the first input,
 * removed at exit), in a write transaction that is then aborted, so every
 * input meets the same empty store.  Oracle: the code returned is 0,
 * STORE_RC_WSET, STORE_RC_SEQ or an LMDB code of a put or delete (a
 * delete of a key the empty store lacks, a full map); a refused
 * write-set (STORE_RC_WSET / STORE_RC_SEQ) changed nothing in the
 * transaction; an applied one set repl_seq to 1.  Built with
 * HITLQ_FUZZ_REPLAY defined, only fuzz_wset_one() is compiled.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static struct store *fuzz_wset_st;
static char fuzz_wset_dir[64];

static int
fuzz_wset_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static void
fuzz_wset_cleanup(void)
{
    store_close(fuzz_wset_st);
    fuzz_wset_st = NULL;
    nftw(fuzz_wset_dir, fuzz_wset_rm, 8, FTW_DEPTH | FTW_PHYS);
}

/* The empty store every input is applied to. */
static struct store *
fuzz_wset_store(void)
{
    char err[256];

    if (fuzz_wset_st != NULL)
        return fuzz_wset_st;
    snprintf(fuzz_wset_dir, sizeof(fuzz_wset_dir), "/tmp/hitlq-fw-XXXXXX");
    if (mkdtemp(fuzz_wset_dir) == NULL ||
        store_open(&fuzz_wset_st, fuzz_wset_dir, 64u << 20, err, sizeof(err)) != 0)
        abort();
    atexit(fuzz_wset_cleanup);
    return fuzz_wset_st;
}

/* Records in every named database, as txn sees them. */
static size_t
fuzz_wset_entries(struct store *s, MDB_txn *txn)
{
    size_t n = 0;

    for (size_t i = 0; i < store_db_count; i++) {
        MDB_stat st;

        if (mdb_stat(txn, *(MDB_dbi *)((char *)s + store_db_offs[i]), &st) != 0)
            abort();
        n += st.ms_entries;
    }
    return n;
}

int
fuzz_wset_one(const uint8_t *data, size_t size)
{
    struct store *s = fuzz_wset_store();
    MDB_txn *txn;
    size_t before;
    int rc;

    if (store_wtxn_begin(s, &txn) != 0)
        abort();
    before = fuzz_wset_entries(s, txn);
    rc = store_wset_apply(s, txn, data, size);
    if ((rc == STORE_RC_WSET || rc == STORE_RC_SEQ) &&
        (fuzz_wset_entries(s, txn) != before || store_repl_seq(s, txn) != 0))
        abort();                       /* refused, yet something was written */
    if (rc == 0 && store_repl_seq(s, txn) != 1)
        abort();
    if (rc != 0 && rc != STORE_RC_WSET && rc != STORE_RC_SEQ && rc != MDB_NOTFOUND &&
        rc != MDB_MAP_FULL && rc != MDB_TXN_FULL)
        abort();
    store_wtxn_abort(s, txn);
    return 0;
}

#ifndef HITLQ_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_wset_one(data, size);
}
#endif
