/*
 * metrics.c - the metrics registry (metrics.h): families with fixed label
 * names, series in a bounded lock-free open-addressing table per family
 * (inserts under the family's mutex), atomic updates, and the Prometheus
 * text-format 0.0.4 encoder.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define METRICS_MAX_SCRAPE 8u

struct metric_series {
    struct metric *f;
    _Atomic(struct metric_series *) next;          /* creation order */
    uint64_t hash;
    char values[METRICS_MAX_LABELS][METRICS_LABEL_MAX];
    _Atomic uint64_t v;                            /* counter/gauge: double bits */
    _Atomic uint64_t sum;                          /* histogram: double bits */
    _Atomic uint64_t buckets[];                    /* histogram: n_bounds + 1 (+Inf) */
};

struct metric {
    struct metric *next;                           /* declaration order */
    struct metrics *m;
    char name[96];
    char *help;
    enum metric_kind kind;
    size_t n_labels;
    char labels[METRICS_MAX_LABELS][32];
    double bounds[METRICS_MAX_BUCKETS];
    size_t n_bounds;
    size_t max_series, cap;                        /* cap: power of two >= 2 * max */
    size_t n_series;                               /* under lock */
    pthread_mutex_t lock;
    _Atomic(struct metric_series *) first;
    struct metric_series *last;                    /* under lock */
    _Atomic(struct metric_series *) *slots;
};

struct metrics {
    struct metric *first, *last;
    struct metric_series *refused;
    metrics_scrape_fn scrape[METRICS_MAX_SCRAPE];
    void *scrape_arg[METRICS_MAX_SCRAPE];
    size_t n_scrape;
};

static uint64_t
dbl_bits(double d)
{
    uint64_t u;

    memcpy(&u, &d, sizeof(u));
    return u;
}

static double
bits_dbl(uint64_t u)
{
    double d;

    memcpy(&d, &u, sizeof(d));
    return d;
}

/* Adds v to the double held in *a (compare-and-swap loop). */
static void
atomic_add_dbl(_Atomic uint64_t *a, double v)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed), nv;

    do
        nv = dbl_bits(bits_dbl(old) + v);
    while (!atomic_compare_exchange_weak_explicit(a, &old, nv, memory_order_relaxed,
                                                  memory_order_relaxed));
}

static bool
name_ok(const char *s, bool colon)
{
    if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || (colon && *s == ':')))
            return false;
    return true;
}

struct metrics *
metrics_new(void)
{
    struct metrics *m = calloc(1, sizeof(*m));
    struct metric *f;

    if (m == NULL)
        return NULL;
    f = metrics_declare(m, "hitlq_metrics_series_refused_total",
                        "Metric series not created because their family was full", METRIC_COUNTER,
                        NULL, 0, NULL, 0, 1);
    if (f == NULL || (m->refused = metric_get(f, NULL)) == NULL) {
        metrics_free(m);
        return NULL;
    }
    return m;
}

static void
metric_free(struct metric *f)
{
    struct metric_series *s = atomic_load(&f->first), *n;

    for (; s != NULL; s = n) {
        n = atomic_load(&s->next);
        free(s);
    }
    pthread_mutex_destroy(&f->lock);
    free(f->slots);
    free(f->help);
    free(f);
}

void
metrics_free(struct metrics *m)
{
    struct metric *f, *n;

    if (m == NULL)
        return;
    for (f = m->first; f != NULL; f = n) {
        n = f->next;
        metric_free(f);
    }
    free(m);
}

static bool
declare_args_ok(struct metrics *m, const char *name, enum metric_kind kind,
                const char *const *labels, size_t n_labels, const double *bounds,
                size_t n_bounds, size_t max_series)
{
    if (!name_ok(name, true) || strlen(name) >= 96 || metrics_find(m, name) != NULL ||
        n_labels > METRICS_MAX_LABELS || max_series == 0 || max_series > (1u << 20))
        return false;
    for (size_t i = 0; i < n_labels; i++)
        if (!name_ok(labels[i], false) || strlen(labels[i]) >= 32 || strcmp(labels[i], "le") == 0)
            return false;
    if (kind != METRIC_HISTOGRAM)
        return n_bounds == 0;
    if (n_bounds == 0 || n_bounds > METRICS_MAX_BUCKETS)
        return false;
    for (size_t i = 0; i < n_bounds; i++)
        if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
            return false;
    return true;
}

struct metric *
metrics_declare(struct metrics *m, const char *name, const char *help, enum metric_kind kind,
                const char *const *labels, size_t n_labels, const double *bounds,
                size_t n_bounds, size_t max_series)
{
    struct metric *f;

    if (m == NULL || !declare_args_ok(m, name, kind, labels, n_labels, bounds, n_bounds,
                                      max_series))
        return NULL;
    if ((f = calloc(1, sizeof(*f))) == NULL)
        return NULL;
    f->m = m;
    snprintf(f->name, sizeof(f->name), "%s", name);
    f->help = strdup(help != NULL ? help : "");
    f->kind = kind;
    f->n_labels = n_labels;
    for (size_t i = 0; i < n_labels; i++)
        snprintf(f->labels[i], sizeof(f->labels[i]), "%s", labels[i]);
    for (size_t i = 0; i < n_bounds; i++)
        f->bounds[i] = bounds[i];
    f->n_bounds = n_bounds;
    f->max_series = max_series;
    for (f->cap = 4; f->cap < 2 * max_series; f->cap *= 2)
        ;
    f->slots = calloc(f->cap, sizeof(*f->slots));
    if (f->help == NULL || f->slots == NULL || pthread_mutex_init(&f->lock, NULL) != 0) {
        free(f->slots);
        free(f->help);
        free(f);
        return NULL;
    }
    if (m->last != NULL)
        m->last->next = f;
    else
        m->first = f;
    m->last = f;
    return f;
}

struct metric *
metrics_find(struct metrics *m, const char *name)
{
    for (struct metric *f = m != NULL ? m->first : NULL; f != NULL; f = f->next)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

/* The stored length of a label value: at most METRICS_LABEL_MAX - 1 bytes,
 * never ending inside a UTF-8 sequence. */
static size_t
label_len(const char *v)
{
    size_t n = strnlen(v, METRICS_LABEL_MAX);

    if (n < METRICS_LABEL_MAX)
        return n;
    n = METRICS_LABEL_MAX - 1;
    while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static uint64_t
labels_hash(const struct metric *f, const char *const *values)
{
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < f->n_labels; i++) {
        size_t n = label_len(values[i]);
        for (size_t j = 0; j < n; j++)
            h = (h ^ (unsigned char)values[i][j]) * 1099511628211ull;
        h = (h ^ 0xffu) * 1099511628211ull;
    }
    return h;
}

static bool
series_match(const struct metric_series *s, uint64_t h, const char *const *values)
{
    if (s->hash != h)
        return false;
    for (size_t i = 0; i < s->f->n_labels; i++) {
        size_t n = label_len(values[i]);
        if (strlen(s->values[i]) != n || memcmp(s->values[i], values[i], n) != 0)
            return false;
    }
    return true;
}

/* Probes f's table for the series; *free_slot gets the first empty slot
 * seen (or cap when the table is full). */
static struct metric_series *
series_probe(struct metric *f, uint64_t h, const char *const *values, size_t *free_slot)
{
    size_t mask = f->cap - 1;

    for (size_t i = 0, k = (size_t)h & mask; i < f->cap; i++, k = (k + 1) & mask) {
        struct metric_series *s = atomic_load_explicit(&f->slots[k], memory_order_acquire);
        if (s == NULL) {
            *free_slot = k;
            return NULL;
        }
        if (series_match(s, h, values))
            return s;
    }
    *free_slot = f->cap;
    return NULL;
}

static struct metric_series *
series_insert(struct metric *f, uint64_t h, const char *const *values)
{
    size_t slot, nb = f->kind == METRIC_HISTOGRAM ? f->n_bounds + 1 : 0;
    struct metric_series *s = series_probe(f, h, values, &slot);

    if (s != NULL)
        return s;                       /* inserted meanwhile */
    if (f->n_series >= f->max_series || slot == f->cap) {
        metric_inc(f->m->refused);
        return NULL;
    }
    if ((s = calloc(1, sizeof(*s) + nb * sizeof(s->buckets[0]))) == NULL)
        return NULL;
    s->f = f;
    s->hash = h;
    for (size_t i = 0; i < f->n_labels; i++)
        memcpy(s->values[i], values[i], label_len(values[i]));
    if (f->last != NULL)
        atomic_store_explicit(&f->last->next, s, memory_order_release);
    else
        atomic_store_explicit(&f->first, s, memory_order_release);
    f->last = s;
    f->n_series++;
    atomic_store_explicit(&f->slots[slot], s, memory_order_release);
    return s;
}

struct metric_series *
metric_get(struct metric *f, const char *const *values)
{
    struct metric_series *s;
    uint64_t h;
    size_t slot;

    if (f == NULL)
        return NULL;
    for (size_t i = 0; i < f->n_labels; i++)
        if (values == NULL || values[i] == NULL)
            return NULL;
    h = labels_hash(f, values);
    if ((s = series_probe(f, h, values, &slot)) != NULL)
        return s;
    pthread_mutex_lock(&f->lock);
    s = series_insert(f, h, values);
    pthread_mutex_unlock(&f->lock);
    return s;
}

struct metric_series *
metric_get1(struct metric *f, const char *v0)
{
    const char *v[1] = { v0 };

    return metric_get(f, v);
}

struct metric_series *
metric_get2(struct metric *f, const char *v0, const char *v1)
{
    const char *v[2] = { v0, v1 };

    return metric_get(f, v);
}

void
metric_inc(struct metric_series *s)
{
    metric_add(s, 1.0);
}

void
metric_add(struct metric_series *s, double v)
{
    if (s != NULL && s->f->kind != METRIC_HISTOGRAM)
        atomic_add_dbl(&s->v, v);
}

void
metric_set(struct metric_series *s, double v)
{
    if (s != NULL && s->f->kind == METRIC_GAUGE)
        atomic_store_explicit(&s->v, dbl_bits(v), memory_order_relaxed);
}

void
metric_observe(struct metric_series *s, double v)
{
    size_t i = 0;

    if (s == NULL || s->f->kind != METRIC_HISTOGRAM || isnan(v))
        return;
    while (i < s->f->n_bounds && v > s->f->bounds[i])
        i++;
    atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
    atomic_add_dbl(&s->sum, v);
}

static uint64_t
hist_count(const struct metric_series *s)
{
    uint64_t n = 0;

    for (size_t i = 0; i <= s->f->n_bounds; i++)
        n += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
    return n;
}

double
metric_value(const struct metric_series *s)
{
    if (s == NULL)
        return 0;
    if (s->f->kind == METRIC_HISTOGRAM)
        return (double)hist_count(s);
    return bits_dbl(atomic_load_explicit(&s->v, memory_order_relaxed));
}

double
metric_sum(const struct metric_series *s)
{
    if (s == NULL || s->f->kind != METRIC_HISTOGRAM)
        return 0;
    return bits_dbl(atomic_load_explicit(&s->sum, memory_order_relaxed));
}

void
metric_zero_all(struct metric *f)
{
    if (f == NULL || f->kind != METRIC_GAUGE)
        return;
    for (struct metric_series *s = atomic_load(&f->first); s; s = atomic_load(&s->next))
        atomic_store_explicit(&s->v, dbl_bits(0), memory_order_relaxed);
}

int
metrics_on_scrape(struct metrics *m, metrics_scrape_fn fn, void *arg)
{
    if (m == NULL || fn == NULL || m->n_scrape >= METRICS_MAX_SCRAPE)
        return -1;
    m->scrape[m->n_scrape] = fn;
    m->scrape_arg[m->n_scrape++] = arg;
    return 0;
}

/* ---- the text format -------------------------------------------------------- */

char *
metrics_escape_label(const char *v, char *dst, size_t dstlen)
{
    size_t o = 0;

    for (; *v != '\0' && o + 3 < dstlen; v++) {
        unsigned char c = (unsigned char)*v;
        if (c == '\\' || c == '"') {
            dst[o++] = '\\';
            dst[o++] = (char)c;
        } else if (c == '\n') {
            dst[o++] = '\\';
            dst[o++] = 'n';
        } else {
            dst[o++] = c < 0x20 || c == 0x7f ? '_' : (char)c;
        }
    }
    if (dstlen > 0)
        dst[o] = '\0';
    return dst;
}

/* A sample value: integers exactly, NaN and infinities as the format says. */
static void
put_value(FILE *o, double v)
{
    if (isnan(v))
        fputs("NaN", o);
    else if (isinf(v))
        fputs(v > 0 ? "+Inf" : "-Inf", o);
    else
        fprintf(o, "%.17g", v);
}

/* {a="x",b="y"[,le="..."]} or nothing. */
static void
put_labels(FILE *o, const struct metric_series *s, const char *le)
{
    char esc[4 * METRICS_LABEL_MAX];
    const struct metric *f = s->f;

    if (f->n_labels == 0 && le == NULL)
        return;
    fputc('{', o);
    for (size_t i = 0; i < f->n_labels; i++)
        fprintf(o, "%s%s=\"%s\"", i ? "," : "", f->labels[i],
                metrics_escape_label(s->values[i], esc, sizeof(esc)));
    if (le != NULL)
        fprintf(o, "%sle=\"%s\"", f->n_labels ? "," : "", le);
    fputc('}', o);
}

static void
put_help(FILE *o, const struct metric *f)
{
    static const char *const kinds[] = { "counter", "gauge", "histogram" };

    fprintf(o, "# HELP %s ", f->name);
    for (const char *p = f->help; *p; p++) {
        if (*p == '\\')
            fputs("\\\\", o);
        else if (*p == '\n')
            fputs("\\n", o);
        else
            fputc(*p, o);
    }
    fprintf(o, "\n# TYPE %s %s\n", f->name, kinds[f->kind]);
}

static void
put_histogram(FILE *o, const struct metric_series *s)
{
    const struct metric *f = s->f;
    uint64_t cum = 0;
    char le[40];

    for (size_t i = 0; i <= f->n_bounds; i++) {
        cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
        if (i < f->n_bounds)
            snprintf(le, sizeof(le), "%.15g", f->bounds[i]);
        else
            snprintf(le, sizeof(le), "+Inf");
        fprintf(o, "%s_bucket", f->name);
        put_labels(o, s, le);
        fprintf(o, " %llu\n", (unsigned long long)cum);
    }
    fprintf(o, "%s_sum", f->name);
    put_labels(o, s, NULL);
    fputc(' ', o);
    put_value(o, metric_sum(s));
    fprintf(o, "\n%s_count", f->name);
    put_labels(o, s, NULL);
    fprintf(o, " %llu\n", (unsigned long long)cum);
}

static void
put_family(FILE *o, const struct metric *f)
{
    put_help(o, f);
    for (struct metric_series *s = atomic_load(&f->first); s; s = atomic_load(&s->next)) {
        if (f->kind == METRIC_HISTOGRAM) {
            put_histogram(o, s);
            continue;
        }
        fputs(f->name, o);
        put_labels(o, s, NULL);
        fputc(' ', o);
        put_value(o, metric_value(s));
        fputc('\n', o);
    }
}

int
metrics_encode(struct metrics *m, char **out, size_t *len)
{
    FILE *o;

    *out = NULL;
    *len = 0;
    for (size_t i = 0; i < m->n_scrape; i++)
        m->scrape[i](m, m->scrape_arg[i]);
    if ((o = open_memstream(out, len)) == NULL)
        return -1;
    for (const struct metric *f = m->first; f != NULL; f = f->next)
        put_family(o, f);
    if (fclose(o) != 0 || *out == NULL) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}
