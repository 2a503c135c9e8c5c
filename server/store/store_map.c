/*
 * store_map.c - the LMDB map's use, size and ceiling, and its growth
 * between write transactions (store_map.h has the threading rule: the
 * commit thread remaps only under s->map_mu, which the loop thread holds
 * while its read transaction is active).
 */
#include <errno.h>
#include <sys/mman.h>

#include "store_map.h"

#define MAP_MIB      ((uint64_t)1 << 20)
#define MAP_MAX_MIB  ((uint64_t)1 << 24)     /* the bound of map_size_mb too */

int
store_map_init(struct store *s)
{
    MDB_envinfo info;
    MDB_stat st;
    int rc = mdb_env_info(s->env, &info);

    if (rc == 0)
        rc = mdb_env_stat(s->env, &st);
    if (rc != 0)
        return rc;
    rc = pthread_mutex_init(&s->map_mu, NULL);
    if (rc != 0)
        return rc;
    s->map_mu_ok = true;
    s->map_psize = st.ms_psize;
    atomic_store(&s->map_size, (uint64_t)info.me_mapsize);
    atomic_store(&s->map_max, (uint64_t)info.me_mapsize);
    return 0;
}

void
store_map_set_max(struct store *s, uint64_t max)
{
    uint64_t size = atomic_load(&s->map_size);

    max -= max % MAP_MIB;
    if (max > MAP_MAX_MIB * MAP_MIB)
        max = MAP_MAX_MIB * MAP_MIB;
    atomic_store(&s->map_max, max > size ? max : size);
}

void
store_map_hold(struct store *s)
{
    if (s->map_holds++ == 0)
        pthread_mutex_lock(&s->map_mu);
}

void
store_map_release(struct store *s)
{
    if (s->map_holds > 0 && --s->map_holds == 0)
        pthread_mutex_unlock(&s->map_mu);
}

/* The map's use, with the map held (or by the commit thread). */
static bool
store_map_read(struct store *s, struct store_map_use *u)
{
    MDB_envinfo info;

    u->size = atomic_load(&s->map_size);
    u->max = atomic_load(&s->map_max);
    if (mdb_env_info(s->env, &info) != 0) {
        u->used = 0;
        return false;
    }
    u->used = (uint64_t)(info.me_last_pgno + 1) * s->map_psize;
    return true;
}

bool
store_map_use(struct store *s, struct store_map_use *u)
{
    bool ok;

    store_map_hold(s);
    ok = store_map_read(s, u);
    store_map_release(s);
    return ok;
}

/* The next size for a map of `size` bytes: doubled, whole MiB, at most max. */
static uint64_t
store_map_next(uint64_t size, uint64_t max)
{
    uint64_t next = size * 2;

    next = (next + MAP_MIB - 1) / MAP_MIB * MAP_MIB;
    return next < max ? next : max;
}

/* True when `bytes` of address space can be mapped now: a remap that fails
 * after LMDB unmapped the old map leaves the environment without one. */
static bool
store_map_fits(uint64_t bytes)
{
    void *p = mmap(NULL, (size_t)bytes, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    if (p == MAP_FAILED)
        return false;
    munmap(p, (size_t)bytes);
    return true;
}

/* With map_mu held: remaps to `next` bytes.  LMDB unmaps the old map
 * first, so any error leaves the environment without a map (BROKEN, the
 * code in *rc). */
static enum store_map_step
store_map_remap(struct store *s, uint64_t next, int *rc)
{
    MDB_envinfo info;

    if (!store_map_fits(next))
        return STORE_MAP_KEPT;
    *rc = mdb_env_set_mapsize(s->env, (size_t)next);
    if (*rc == 0)
        *rc = mdb_env_info(s->env, &info);
    if (*rc != 0)
        return STORE_MAP_BROKEN;
    atomic_store(&s->map_size, (uint64_t)info.me_mapsize);
    return info.me_mapsize >= next ? STORE_MAP_GROWN : STORE_MAP_KEPT;
}

enum store_map_step
store_map_grow(struct store *s, bool full, uint64_t *from, uint64_t *to, int *rc)
{
    struct store_map_use u;
    enum store_map_step step = STORE_MAP_KEPT;
    uint64_t next;

    *rc = 0;
    pthread_mutex_lock(&s->map_mu);
    (void)store_map_read(s, &u);
    *from = u.size;
    next = store_map_next(u.size, u.max);
    if (next > u.size && (full || u.used * 100 >= u.size * STORE_MAP_GROW_PCT))
        step = store_map_remap(s, next, rc);
    *to = atomic_load(&s->map_size);
    pthread_mutex_unlock(&s->map_mu);
    return step;
}
