/*
 * store_map.h - the LMDB map of hitlqd's store: how much of it is in use,
 * its size now and the ceiling it may grow to (map_size_max_mb), and its
 * growth between write transactions (mdb_env_set_mapsize).
 *
 * LMDB allows a new map size only while no transaction of this process is
 * active, and a remap moves every page: the commit thread grows the map
 * (between its write transactions) only while it holds s->map_mu, and the
 * loop thread holds the same mutex while its read transaction is active
 * (store_map_hold / store_map_release around server_read_begin/end).
 */
#ifndef HITLQ_STORE_MAP_H
#define HITLQ_STORE_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* Use at or above this percentage of the map grows it before the next
 * write transaction (store_map_grow with full = false). */
#define STORE_MAP_GROW_PCT 80u

/* The map's use, size and ceiling, in bytes. */
struct store_map_use {
    uint64_t used;    /* pages up to the last one written, times the page size */
    uint64_t size;    /* the map now: what the store can hold until it grows */
    uint64_t max;     /* the ceiling the map may grow to (map_size_max_mb) */
};

/* What store_map_grow did. */
enum store_map_step {
    STORE_MAP_KEPT = 0,   /* no growth needed, or the ceiling is reached */
    STORE_MAP_GROWN,      /* the map is larger now: a write may be tried again */
    STORE_MAP_BROKEN      /* the remap failed: the environment is unusable (fatal) */
};

/* Called by store_open once the environment is open: records the map size
 * LMDB chose and sets the ceiling to it (no growth until
 * store_map_set_max).  Returns 0 or an errno value. */
int store_map_init(struct store *s);

/* Before the commit and loop threads use the store: the map may grow up
 * to max bytes (rounded down to whole MiB, at most 2^24 MiB); a ceiling
 * below the map's size now leaves the size as the ceiling. */
void store_map_set_max(struct store *s, uint64_t max);

/* Loop thread: keeps the map where it is (no growth) until the matching
 * store_map_release.  Nests: only the outermost pair locks. */
void store_map_hold(struct store *s);
void store_map_release(struct store *s);

/* Loop thread (holds the map itself, nesting with a hold of the
 * caller's): the map's use, size and ceiling.  Returns false (and zeros)
 * when LMDB cannot tell. */
bool store_map_use(struct store *s, struct store_map_use *u);

/* Commit thread, with no transaction of its own open: grows the map,
 * doubling it up to the ceiling, when full is true (a write found it full)
 * or its use is at or above STORE_MAP_GROW_PCT.  *from and *to get the
 * sizes before and after (equal unless GROWN), *rc LMDB's code when
 * BROKEN (else 0).  Waits for the loop thread's read transaction to end. */
enum store_map_step store_map_grow(struct store *s, bool full, uint64_t *from, uint64_t *to,
                                   int *rc);

#endif
