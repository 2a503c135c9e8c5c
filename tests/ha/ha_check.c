/*
 * ha_check.c - the failover suite's checker (scripts/ha/test-ha.sh): reads
 * the acknowledgements tests/ha/ha_load.c logged and asks the cluster's
 * leader whether each is there.
 *
 *   ha_check SERVERS OUTDIR
 *       every acknowledged SUBMIT is found by its key with the same id (and a
 *       key was never acknowledged with two ids), every acknowledged RESOLVE
 *       is resolved with its outcome, and no two acknowledged leases of one
 *       item overlap (a later lease starts after the earlier one expired).
 *       Prints "ha-check: ok ..." or each violation (at most 20); exit 0 / 1.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hitlq.h"

#define LEASE_MS 30000u          /* ha_load's claims */
#define SKEW_MS  1000u           /* server clocks of two nodes */

struct ack { char kind; uint64_t ms, id, lease, exp; char key[64], outcome[32]; };

static int bad;

static void __attribute__((format(printf, 1, 2)))
violation(const char *fmt, ...)
{
    va_list ap;

    if (bad++ >= 20)
        return;
    va_start(ap, fmt);
    printf("ha-check: VIOLATION ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static int
by_key(const void *a, const void *b)
{
    const struct ack *x = a, *y = b;
    int k = x->kind - y->kind;
    if (k)
        return k;
    if (x->kind == 'S')
        return strcmp(x->key, y->key);
    return x->id < y->id ? -1 : x->id > y->id ? 1 : x->ms < y->ms ? -1 : x->ms > y->ms;
}

static struct ack *
load(const char *dir, size_t *n)
{
    char path[512], line[256];
    size_t cap = 1024;
    struct ack *a = malloc(cap * sizeof(*a));
    FILE *f;

    snprintf(path, sizeof(path), "%s/acks.txt", dir);
    if ((f = fopen(path, "r")) == NULL || a == NULL) {
        perror(path);
        exit(2);
    }
    *n = 0;
    while (fgets(line, sizeof(line), f)) {
        struct ack x = { 0 };
        uint64_t sent;
        x.kind = line[0] == 'P' ? 'S' : line[0];       /* a probe's SUBMIT */
        if ((line[0] == 'S' && sscanf(line, "S %" SCNu64 " %63s %" SCNu64, &x.ms, x.key, &x.id) == 3) ||
            (line[0] == 'P' && sscanf(line, "P %" SCNu64 " %" SCNu64 " %63s %" SCNu64, &sent, &x.ms,
                                      x.key, &x.id) == 4) ||
            (x.kind == 'C' && sscanf(line, "C %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64, &x.ms,
                                     &x.id, &x.lease, &x.exp) == 4) ||
            (x.kind == 'R' && sscanf(line, "R %" SCNu64 " %" SCNu64 " %31s", &x.ms, &x.id,
                                     x.outcome) == 3)) {
            if (*n == cap && (a = realloc(a, (cap *= 2) * sizeof(*a))) == NULL)
                exit(2);
            a[(*n)++] = x;
        }
    }
    fclose(f);
    qsort(a, *n, sizeof(*a), by_key);
    return a;
}

static void
check_submit(hitlq *c, const struct ack *a, size_t n, size_t *keys)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].kind != 'S')
            continue;
        if (i > 0 && a[i - 1].kind == 'S' && strcmp(a[i - 1].key, a[i].key) == 0) {
            if (a[i - 1].id != a[i].id)
                violation("key %s acknowledged as ids %" PRIu64 " and %" PRIu64, a[i].key,
                          a[i - 1].id, a[i].id);
            continue;
        }
        hitlq_reply *r = NULL;
        uint64_t id = 0;
        (*keys)++;
        if (hitlq_get_by_key(c, a[i].key, &r) != HITLQ_OK || !hitlq_reply_get_u64(r, "id", &id))
            violation("key %s (id %" PRIu64 ") acknowledged but missing", a[i].key, a[i].id);
        else if (id != a[i].id)
            violation("key %s acknowledged as id %" PRIu64 ", stored as %" PRIu64, a[i].key,
                      a[i].id, id);
        hitlq_reply_free(r);
    }
}

static void
check_resolve(hitlq *c, const struct ack *a, size_t n, size_t *count)
{
    for (size_t i = 0; i < n; i++) {
        hitlq_reply *r = NULL;
        size_t sl = 0, ol = 0;
        const char *st, *oc;
        if (a[i].kind != 'R')
            continue;
        (*count)++;
        if (hitlq_get(c, a[i].id, &r) != HITLQ_OK) {
            violation("resolution of item %" PRIu64 " acknowledged, item missing", a[i].id);
        } else {
            st = hitlq_reply_get_str(r, "state", &sl);
            oc = hitlq_reply_get_str(r, "outcome", &ol);
            if (!st || sl != 8 || memcmp(st, "resolved", 8) != 0 || !oc ||
                ol != strlen(a[i].outcome) || memcmp(oc, a[i].outcome, ol) != 0)
                violation("resolution of item %" PRIu64 " (acknowledged) not stored", a[i].id);
        }
        hitlq_reply_free(r);
    }
}

/* Claims sorted by item then acknowledgement time: a later lease with
 * another token must start after the earlier one expired. */
static void
check_leases(const struct ack *a, size_t n, size_t *count)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].kind != 'C')
            continue;
        (*count)++;
        for (size_t j = i + 1; j < n && a[j].kind == 'C' && a[j].id == a[i].id; j++) {
            uint64_t start = a[j].exp - LEASE_MS;
            if (a[j].lease != a[i].lease && start + SKEW_MS < a[i].exp)
                violation("item %" PRIu64 ": two valid leases (the second starts %" PRIu64
                          " ms before the first expired)", a[i].id, a[i].exp - start);
        }
    }
}

int
main(int argc, char **argv)
{
    hitlq_options o = { 0 };
    size_t n, keys = 0, res = 0, claims = 0;
    struct ack *a;
    hitlq *c;

    if (argc != 3) {
        fprintf(stderr, "usage: ha_check SERVERS OUTDIR\n");
        return 2;
    }
    a = load(argv[2], &n);
    o.servers = argv[1];
    o.name = "ha-check";
    o.failover_ms = 60000;
    c = hitlq_connect(&o);
    if (c == NULL || hitlq_err(c) != HITLQ_OK) {
        fprintf(stderr, "ha-check: cannot reach the leader: %s\n", c ? hitlq_errstr(c) : "oom");
        return 2;
    }
    check_submit(c, a, n, &keys);
    check_resolve(c, a, n, &res);
    check_leases(a, n, &claims);
    printf("ha-check: %s: %zu acknowledged keys, %zu resolutions, %zu claims checked on %s; "
           "%d violations\n", bad ? "FAILED" : "ok", keys, res, claims, hitlq_server_addr(c), bad);
    hitlq_free(c);
    free(a);
    return bad ? 1 : 0;
}
