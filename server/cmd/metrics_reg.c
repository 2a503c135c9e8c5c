/*
 * metrics_reg.c - declares hitlqd's metric families (metrics_reg.h) and
 * reads the process_* figures from /proc/self.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "metrics_reg.h"

static const double dur_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                     0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
static const double batch_bounds[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048,
                                       4096, 16384, 65536 };
/* human times: 10 s .. 1 week (SLA targets are minutes to days) */
static const double human_bounds[] = { 10, 30, 60, 300, 900, 1800, 3600, 7200, 14400,
                                       28800, 86400, 172800, 604800 };
#define NB(a) (sizeof(a) / sizeof((a)[0]))

#define QUEUES 4096u         /* series per queue-labelled family */

static struct metric *
fam(struct metrics *m, const char *name, const char *help, enum metric_kind k,
    const char *l0, const char *l1, const char *l2, size_t max)
{
    const char *labels[3] = { l0, l1, l2 };
    size_t n = l2 ? 3 : l1 ? 2 : l0 ? 1 : 0;

    return metrics_declare(m, name, help, k, labels, n, NULL, 0, max);
}

static struct metric *
hist(struct metrics *m, const char *name, const char *help, const double *b, size_t nb,
     const char *l0, const char *l1, size_t max)
{
    const char *labels[2] = { l0, l1 };

    return metrics_declare(m, name, help, METRIC_HISTOGRAM, labels, l1 ? 2 : l0 ? 1 : 0, b,
                           nb, max);
}

/* A label-less family and its one series. */
static struct metric_series *
one(struct metrics *m, const char *name, const char *help, enum metric_kind k)
{
    return metric_get(fam(m, name, help, k, NULL, NULL, NULL, 1), NULL);
}

static struct metric_series *
one_hist(struct metrics *m, const char *name, const char *help, const double *b, size_t nb)
{
    return metric_get(hist(m, name, help, b, nb, NULL, NULL, 1), NULL);
}

static void
reg_intake(struct metrics *m, struct srv_metrics *sm)
{
    sm->submitted = fam(m, "hitlq_items_submitted_total", "Durably acknowledged submits",
                        METRIC_COUNTER, "type", NULL, NULL, 256);
    sm->rejected = fam(m, "hitlq_items_rejected_total", "Submits refused at intake, by reason",
                       METRIC_COUNTER, "reason", NULL, NULL, 32);
    sm->deduplicated = fam(m, "hitlq_items_deduplicated_total",
                           "Submits answered from an earlier one (idempotency key)",
                           METRIC_COUNTER, "type", NULL, NULL, 256);
    sm->decisions = fam(m, "hitlq_decisions_total", "Triage decisions of durable submits",
                        METRIC_COUNTER, "type", "route", "model_version", 2048);
    sm->submit_s = one_hist(m, "hitlq_submit_duration_seconds",
                            "SUBMIT: frame in to durable reply", dur_bounds, NB(dur_bounds));
    sm->score_s = one_hist(m, "hitlq_score_duration_seconds",
                           "Scoring core time per submitted item", dur_bounds, NB(dur_bounds));
    sm->batch_items = one_hist(m, "hitlq_commit_batch_items", "Operations per durable commit",
                               batch_bounds, NB(batch_bounds));
    sm->commit_s = one_hist(m, "hitlq_commit_duration_seconds",
                            "Write transaction and sync of one group commit", dur_bounds,
                            NB(dur_bounds));
}

static void
reg_queues(struct metrics *m, struct srv_metrics *sm)
{
    sm->queue_items = fam(m, "hitlq_queue_items", "Items per queue and state (ready, leased, "
                          "delayed)", METRIC_GAUGE, "queue", "state", NULL, 3 * QUEUES);
    sm->queue_oldest = fam(m, "hitlq_queue_oldest_ready_timestamp_seconds",
                           "Unix time the oldest ready item of the queue became ready",
                           METRIC_GAUGE, "queue", NULL, NULL, QUEUES);
    sm->leases_active = fam(m, "hitlq_leases_active", "Items leased now", METRIC_GAUGE,
                            "queue", NULL, NULL, QUEUES);
    sm->claims = fam(m, "hitlq_claims_total", "Items leased by CLAIM or CLAIM_ID",
                     METRIC_COUNTER, "queue", NULL, NULL, QUEUES);
    sm->expirations = fam(m, "hitlq_lease_expirations_total", "Leases that expired",
                          METRIC_COUNTER, "queue", NULL, NULL, QUEUES);
    sm->releases = fam(m, "hitlq_releases_total", "Leases given back by RELEASE",
                       METRIC_COUNTER, "queue", NULL, NULL, QUEUES);
    sm->escalations = fam(m, "hitlq_escalations_total", "Items moved to another queue",
                          METRIC_COUNTER, "from_queue", "to_queue", "reason", QUEUES);
    sm->verdicts = fam(m, "hitlq_human_verdicts_total",
                       "Human decisions, by agreement with the model's recommendation",
                       METRIC_COUNTER, "queue", "agreement", "blind", QUEUES);
    sm->dead_letter = fam(m, "hitlq_dead_letter_total", "Items moved to the dead-letter queue",
                          METRIC_COUNTER, "queue", NULL, NULL, QUEUES);
    sm->queue_wait = hist(m, "hitlq_queue_wait_seconds", "Ready to claimed", human_bounds,
                          NB(human_bounds), "queue", NULL, QUEUES);
    sm->review_time = hist(m, "hitlq_review_seconds", "Claimed to decided", human_bounds,
                           NB(human_bounds), "queue", "outcome", QUEUES);
    sm->time_to_decision = hist(m, "hitlq_time_to_decision_seconds",
                                "Submitted to final decision", human_bounds, NB(human_bounds),
                                "queue", NULL, QUEUES);
    sm->sla_breaches = fam(m, "hitlq_sla_breaches_total", "SLA breach events", METRIC_COUNTER,
                           "queue", NULL, NULL, QUEUES);
    sm->sla_at_risk = fam(m, "hitlq_sla_items_at_risk",
                          "Items past 50 or 75 percent of their SLA budget", METRIC_GAUGE,
                          "queue", "level", NULL, 2 * QUEUES);
}

static void
reg_server(struct metrics *m, struct srv_metrics *sm)
{
    sm->tlog_entries = one(m, "hitlq_tlog_entries", "Entries in the audit log", METRIC_GAUGE);
    sm->tlog_cp_ts = one(m, "hitlq_tlog_checkpoint_timestamp_seconds",
                         "Unix time of the latest signed checkpoint", METRIC_GAUGE);
    sm->storage_used = one(m, "hitlq_storage_used_bytes", "LMDB map in use", METRIC_GAUGE);
    sm->storage_limit = one(m, "hitlq_storage_limit_bytes",
                            "LMDB map size now (grows up to hitlq_storage_max_bytes)",
                            METRIC_GAUGE);
    sm->storage_max = one(m, "hitlq_storage_max_bytes",
                          "The most the LMDB map may grow to (map_size_max_mb)", METRIC_GAUGE);
    sm->disk_free = one(m, "hitlq_storage_disk_free_bytes",
                        "Free bytes of the data directory's file system", METRIC_GAUGE);
    sm->connections = fam(m, "hitlq_connections", "Open protocol connections by role",
                          METRIC_GAUGE, "role", NULL, NULL, 16);
    sm->http_requests = fam(m, "hitlq_http_requests_total", "HTTP requests answered",
                            METRIC_COUNTER, "route", "code", NULL, 256);
    metric_set(metric_get1(fam(m, "hitlq_build_info", "Always 1; the version in its label",
                               METRIC_GAUGE, "version", NULL, NULL, 1), HITLQ_VERSION), 1);
    sm->proc_cpu = one(m, "process_cpu_seconds_total", "User and system CPU time",
                       METRIC_COUNTER);
    sm->proc_rss = one(m, "process_resident_memory_bytes", "Resident memory", METRIC_GAUGE);
    sm->proc_fds = one(m, "process_open_fds", "Open file descriptors", METRIC_GAUGE);
    sm->proc_max_fds = one(m, "process_max_fds", "Limit of open file descriptors",
                           METRIC_GAUGE);
    sm->proc_start = one(m, "process_start_time_seconds", "Unix time the process started",
                         METRIC_GAUGE);
}

struct srv_metrics *
metrics_reg_new(struct metrics *m)
{
    struct srv_metrics *sm = calloc(1, sizeof(*sm));

    if (sm == NULL)
        return NULL;
    reg_intake(m, sm);
    reg_queues(m, sm);
    reg_server(m, sm);
    if (sm->submitted == NULL || sm->sla_at_risk == NULL || sm->proc_start == NULL ||
        sm->commit_s == NULL || sm->http_requests == NULL) {
        free(sm);
        return NULL;
    }
    return sm;
}

void
metrics_reg_free(struct srv_metrics *sm)
{
    free(sm);
}

static double
proc_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    double n = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1;                        /* the directory's own fd */
}

/* Start time (field 22 of /proc/self/stat, clock ticks since boot) as
 * Unix time, with /proc/stat's btime. */
static double
proc_start_time(long tick)
{
    char buf[1024], *p;
    unsigned long long start = 0, btime = 0;
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

    if (f)
        fclose(f);
    buf[n] = '\0';
    if ((p = strrchr(buf, ')')) == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
               "%*d %*d %llu", &start) != 1)
        return 0;
    if ((f = fopen("/proc/stat", "r")) == NULL)
        return 0;
    while (fgets(buf, sizeof(buf), f) != NULL)
        if (sscanf(buf, "btime %llu", &btime) == 1)
            break;
    fclose(f);
    return (double)btime + (double)start / (double)tick;
}

void
metrics_reg_process(struct srv_metrics *sm)
{
    struct rusage ru;
    struct rlimit rl;
    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    unsigned long long size = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f != NULL) {
        if (fscanf(f, "%llu %llu", &size, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    metric_set(sm->proc_rss, (double)rss * (double)page);
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                     (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
        metric_add(sm->proc_cpu, cpu - metric_value(sm->proc_cpu));
    }
    metric_set(sm->proc_fds, proc_open_fds());
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        metric_set(sm->proc_max_fds, (double)rl.rlim_cur);
    if (metric_value(sm->proc_start) == 0 && tick > 0)
        metric_set(sm->proc_start, proc_start_time(tick));
}
