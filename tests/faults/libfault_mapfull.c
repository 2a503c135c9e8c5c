/*
 * libfault_mapfull.c - LD_PRELOAD shim (built as
 * build/test/faults/libfault_mapfull.so) for tests/e2e/test_map_size.c:
 * while the file named by $FAULT_MAPFULL_TRIGGER exists, LMDB's mdb_put
 * answers MDB_MAP_FULL for every write of an audit-log Merkle tree node
 * (the `anodes` database, server/audit/audit.c audit_node_store: a 9-byte
 * key whose first byte is the level, a non-zero multiple of 4, and a
 * 32-byte hash, no flags), and only for those: what a map that fills up
 * exactly at a tree-node write does.  A trigger file whose first word is
 * "once" is removed at the first refusal (one full map, then room: what
 * the map's growth gives).  Each refusal appends one line
 * "anodes level=L index=I" to $FAULT_MAPFULL_TRIGGER.hits.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

/* True when the trigger file exists (tests only); a "once" trigger is
 * removed. */
static int
fault_on(void)
{
    const char *t = getenv("FAULT_MAPFULL_TRIGGER");
    char word[8] = "";
    FILE *f;

    if (t == NULL || (f = fopen(t, "re")) == NULL)
        return 0;
    if (fscanf(f, "%7s", word) != 1)
        word[0] = '\0';
    fclose(f);
    if (strcmp(word, "once") == 0)
        unlink(t);
    return 1;
}

/* True for the shape of an anodes put (audit.c: level byte || u64 BE index
 * -> 32-byte hash; levels 4, 8, 12, ...). */
static int
is_tree_node(const MDB_val *k, const MDB_val *v, unsigned flags)
{
    const uint8_t *p = k->mv_data;

    return flags == 0 && k->mv_size == 9 && v->mv_size == 32 && p[0] != 0 && p[0] % 4 == 0 &&
           p[0] <= 64;
}

static void
fault_hit(const MDB_val *k)
{
    const uint8_t *p = k->mv_data;
    const char *t = getenv("FAULT_MAPFULL_TRIGGER");
    uint64_t index = 0;
    char path[512];
    FILE *f;

    for (int i = 1; i < 9; i++)
        index = (index << 8) | p[i];
    snprintf(path, sizeof(path), "%s.hits", t);
    if ((f = fopen(path, "ae")) != NULL) {
        fprintf(f, "anodes level=%u index=%llu\n", p[0], (unsigned long long)index);
        fclose(f);
    }
}

int
mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned int flags)
{
    static int (*real)(MDB_txn *, MDB_dbi, MDB_val *, MDB_val *, unsigned int);

    if (real == NULL)
        real = (int (*)(MDB_txn *, MDB_dbi, MDB_val *, MDB_val *, unsigned int))
            dlsym(RTLD_NEXT, "mdb_put");
    if (is_tree_node(key, data, flags) && fault_on()) {
        fault_hit(key);
        return MDB_MAP_FULL;
    }
    return real(txn, dbi, key, data, flags);
}
