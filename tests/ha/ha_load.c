/*
 * ha_load.c - the failover suite's workload and checker (scripts/ha/test-ha.sh,
 * docs/HA.md "Failover tests").
 *
 *   ha_load run SERVERS SECONDS BOTS SPECIALISTS OUTDIR
 *       bots pipeline SUBMITs with unique keys through libhitlq's server list
 *       (retried with the same key after a failover); specialists claim and
 *       resolve.  Every acknowledgement is appended to OUTDIR/acks.txt:
 *         S <ms> <key> <id>            a SUBMIT acknowledged
 *         C <ms> <id> <lease> <exp>    a CLAIM acknowledged
 *         R <ms> <id> <outcome>        a RESOLVE acknowledged
 *         P <start> <end> <key> <id>   a probe's single SUBMIT: sent at start,
 *                                      acknowledged at end (the failover time
 *                                      is measured from these)
 *       Checkpoints seen during the run go to OUTDIR/cp-<size>.note; the
 *       per-request latencies (ms) to OUTDIR/lat.txt.
 * The checker is tests/ha/ha_check.c.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "credit_items.h"
#include "hitlq.h"

#define BATCH 32

static const char *g_servers, *g_out;
static int g_seconds;
static struct credit_item *g_items;
static size_t g_n_items;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *g_acks, *g_lat;
static atomic_int g_stop;

static uint64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static hitlq *
ha_connect(const char *name)
{
    hitlq_options o = { 0 };

    o.servers = g_servers;
    o.name = name;
    o.timeout_ms = 20000;
    o.failover_ms = 60000;
    return hitlq_connect(&o);
}

/* One bot: batches of BATCH unique keys until the time is up; a batch
 * that failed is sent again with the same keys (idempotent). */
static void *
bot_main(void *arg)
{
    int bot = (int)(intptr_t)arg;
    hitlq *c = ha_connect("ha-bot");
    hitlq_item it[BATCH];
    hitlq_decision *d = calloc(BATCH, sizeof(*d));
    int st[BATCH];
    char keys[BATCH][48];
    uint64_t seq = 0, t0, t1;
    uint64_t run = now_ms();

    while (!atomic_load(&g_stop)) {
        for (int i = 0; i < BATCH; i++) {
            const struct credit_item *ci = &g_items[(seq + (uint64_t)i) % g_n_items];
            snprintf(keys[i], sizeof(keys[i]), "ha-%" PRIu64 "-%d-%" PRIu64, run, bot,
                     seq + (uint64_t)i);
            it[i] = (hitlq_item){ keys[i], "credit_application", ci->fields, ci->fields_len, -1 };
        }
        for (;;) {
            t0 = now_ms();
            int rc = hitlq_submit_batch(c, it, BATCH, BATCH, d, st);
            t1 = now_ms();
            bool all = rc == HITLQ_OK;
            for (int i = 0; all && i < BATCH; i++)
                all = st[i] == HITLQ_OK;
            pthread_mutex_lock(&g_mu);
            for (int i = 0; rc == HITLQ_OK && i < BATCH; i++)
                if (st[i] == HITLQ_OK)
                    fprintf(g_acks, "S %" PRIu64 " %s %" PRIu64 "\n", t1, keys[i], d[i].id);
            if (all)
                fprintf(g_lat, "%" PRIu64 "\n", t1 - t0);
            pthread_mutex_unlock(&g_mu);
            if (all || atomic_load(&g_stop))
                break;
            struct timespec p = { 0, 100000000 };
            nanosleep(&p, NULL);
        }
        seq += BATCH;
    }
    free(d);
    hitlq_free(c);
    return NULL;
}

static void *
specialist_main(void *arg)
{
    hitlq *c = ha_connect("ha-specialist");
    const char *q[] = { "credit_review" };

    (void)arg;
    while (!atomic_load(&g_stop)) {
        struct hitlq_claim cl = { 0 };
        uint64_t rseq;
        if (hitlq_claim(c, q, 1, 30000, 200, "ha-specialist", &cl) != HITLQ_OK) {
            struct timespec p = { 0, 50000000 };
            nanosleep(&p, NULL);
            continue;
        }
        pthread_mutex_lock(&g_mu);
        fprintf(g_acks, "C %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", now_ms(), cl.id,
                cl.lease, cl.expires_ms);
        pthread_mutex_unlock(&g_mu);
        const char *outcome = cl.id % 2 ? "approve" : "reject";
        if (hitlq_resolve(c, cl.id, cl.lease, outcome, NULL, NULL, &rseq) == HITLQ_OK) {
            pthread_mutex_lock(&g_mu);
            fprintf(g_acks, "R %" PRIu64 " %" PRIu64 " %s\n", now_ms(), cl.id, outcome);
            pthread_mutex_unlock(&g_mu);
        }
        hitlq_claim_clear(&cl);
    }
    hitlq_free(c);
    return NULL;
}

/* The probe: one SUBMIT at a time, each logged with when it was sent and
 * when it was acknowledged (a batch's acknowledgement time says nothing
 * about when its items were stored). */
static void *
probe_main(void *arg)
{
    hitlq *c = ha_connect("ha-probe");
    const struct credit_item *ci = &g_items[0];
    hitlq_decision d;
    char key[48];
    uint64_t run = now_ms(), n = 0;

    (void)arg;
    while (!atomic_load(&g_stop)) {
        snprintf(key, sizeof(key), "ha-probe-%" PRIu64 "-%" PRIu64, run, n);
        hitlq_item it = { key, "credit_application", ci->fields, ci->fields_len, -1 };
        uint64_t t0 = now_ms();
        if (hitlq_submit(c, &it, &d) == HITLQ_OK) {
            pthread_mutex_lock(&g_mu);
            fprintf(g_acks, "P %" PRIu64 " %" PRIu64 " %s %" PRIu64 "\n", t0, now_ms(), key, d.id);
            pthread_mutex_unlock(&g_mu);
            n++;
        }
        struct timespec p = { 0, 5000000 };
        nanosleep(&p, NULL);
    }
    hitlq_free(c);
    return NULL;
}

/* Saves every new signed checkpoint the leader serves. */
static void *
checkpoint_main(void *arg)
{
    hitlq *c = ha_connect("ha-auditor");
    uint64_t last = 0;

    (void)arg;
    while (!atomic_load(&g_stop)) {
        char *note = NULL, path[512];
        size_t len = 0;
        uint64_t size = 0;
        if (hitlq_audit_checkpoint(c, &note, &len, &size) == HITLQ_OK && size != last) {
            snprintf(path, sizeof(path), "%s/cp-%" PRIu64 ".note", g_out, size);
            FILE *f = fopen(path, "w");
            if (f) {
                fwrite(note, 1, len, f);
                fclose(f);
            }
            last = size;
        }
        free(note);
        struct timespec p = { 0, 500000000 };
        nanosleep(&p, NULL);
    }
    hitlq_free(c);
    return NULL;
}

static FILE *
out_open(const char *name, const char *mode)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", g_out, name);
    if ((f = fopen(path, mode)) == NULL) {
        perror(path);
        exit(2);
    }
    return f;
}

static int
cmd_run(int bots, int specialists)
{
    pthread_t t[80];
    int n = 0;

    if (credit_items_load(CREDIT_ITEMS_CSV, &g_items, &g_n_items) != 0)
        return 2;
    g_acks = out_open("acks.txt", "a");
    g_lat = out_open("lat.txt", "a");
    for (int i = 0; i < bots && n < 64; i++)
        pthread_create(&t[n++], NULL, bot_main, (void *)(intptr_t)i);
    for (int i = 0; i < specialists && n < 78; i++)
        pthread_create(&t[n++], NULL, specialist_main, NULL);
    pthread_create(&t[n++], NULL, checkpoint_main, NULL);
    pthread_create(&t[n++], NULL, probe_main, NULL);
    for (int s = 0; s < g_seconds * 10; s++) {
        struct timespec p = { 0, 100000000 };
        nanosleep(&p, NULL);
        pthread_mutex_lock(&g_mu);
        fflush(g_acks);
        pthread_mutex_unlock(&g_mu);
    }
    atomic_store(&g_stop, 1);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    fclose(g_acks);
    fclose(g_lat);
    credit_items_free(g_items, g_n_items);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "run") == 0) {
        g_servers = argv[2];
        g_seconds = atoi(argv[3]);
        g_out = argv[6];
        return cmd_run(atoi(argv[4]), atoi(argv[5]));
    }
    fprintf(stderr, "usage: ha_load run SERVERS SECONDS BOTS SPECIALISTS OUTDIR\n"
                    "(the checker is ha_check)\n");
    return 2;
}
