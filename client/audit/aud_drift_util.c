/*
 * aud_drift_util.c - small tools of `hitlq-audit drift` (client/audit/aud_drift.h):
 * interned strings with dense ids, counters keyed by three u32, time and
 * width parsing, ISO times, band and route names, JSON numbers.  No clock,
 * no locale: every output depends on the inputs only.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aud_drift.h"
#include "drift_stats.h"

static uint64_t
dr_fnv(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static int
dr_strs_rehash(struct dr_strs *t, uint32_t cap)
{
    uint32_t *slot = calloc(cap, sizeof(*slot));

    if (slot == NULL)
        return -1;
    for (uint32_t id = 0; id < t->n; id++) {
        uint32_t j = (uint32_t)dr_fnv(t->s[id], t->len[id]) & (cap - 1);
        while (slot[j] != 0)
            j = (j + 1) & (cap - 1);
        slot[j] = id + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->slot_cap = cap;
    return 0;
}

/* Appends a new string (the id is t->n); DR_NONE when out of memory. */
static uint32_t
dr_strs_append(struct dr_strs *t, const void *p, size_t n)
{
    char *copy;

    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 64;
        char **s = realloc(t->s, cap * sizeof(*s));
        uint32_t *len;
        if (s == NULL)
            return DR_NONE;
        t->s = s;
        if ((len = realloc(t->len, cap * sizeof(*len))) == NULL)
            return DR_NONE;
        t->len = len;
        t->cap = cap;
    }
    if ((copy = malloc(n + 1)) == NULL)
        return DR_NONE;
    if (n > 0)
        memcpy(copy, p, n);
    copy[n] = '\0';
    t->s[t->n] = copy;
    t->len[t->n] = (uint32_t)n;
    return t->n++;
}

uint32_t
dr_intern(struct dr_strs *t, const void *p, size_t n)
{
    uint32_t j, id;

    if ((t->n + 1) * 2 > t->slot_cap &&
        dr_strs_rehash(t, t->slot_cap ? t->slot_cap * 2 : 128) != 0)
        return DR_NONE;
    j = (uint32_t)dr_fnv(p, n) & (t->slot_cap - 1);
    while (t->slot[j] != 0) {
        id = t->slot[j] - 1;
        if (t->len[id] == n && (n == 0 || memcmp(t->s[id], p, n) == 0))
            return id;
        j = (j + 1) & (t->slot_cap - 1);
    }
    if ((id = dr_strs_append(t, p, n)) == DR_NONE)
        return DR_NONE;
    t->slot[j] = id + 1;
    return id;
}

const char *
dr_str(const struct dr_strs *t, uint32_t id)
{
    return id < t->n ? t->s[id] : "";
}

void
dr_strs_clear(struct dr_strs *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    free(t->len);
    free(t->slot);
    memset(t, 0, sizeof(*t));
}

/* ---- counters ------------------------------------------------------------ */

static size_t
dr_count_hash(uint32_t a, uint32_t b, uint32_t c, size_t cap)
{
    uint32_t k[3] = { a, b, c };

    return (size_t)dr_fnv(k, sizeof(k)) & (cap - 1);
}

static int
dr_counts_grow(struct dr_counts *t)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    struct dr_count_slot *s = calloc(cap, sizeof(*s));

    if (s == NULL)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        size_t j;
        if (!t->s[i].used)
            continue;
        j = dr_count_hash(t->s[i].a, t->s[i].b, t->s[i].c, cap);
        while (s[j].used)
            j = (j + 1) & (cap - 1);
        s[j] = t->s[i];
    }
    free(t->s);
    t->s = s;
    t->cap = cap;
    return 0;
}

/* The slot of (a, b, c) or the empty one where it would go. */
static struct dr_count_slot *
dr_count_find(const struct dr_counts *t, uint32_t a, uint32_t b, uint32_t c)
{
    size_t j = dr_count_hash(a, b, c, t->cap);

    while (t->s[j].used && !(t->s[j].a == a && t->s[j].b == b && t->s[j].c == c))
        j = (j + 1) & (t->cap - 1);
    return &t->s[j];
}

int
dr_count_add(struct dr_counts *t, uint32_t a, uint32_t b, uint32_t c, uint64_t v)
{
    struct dr_count_slot *s;

    if ((t->n + 1) * 10 > t->cap * 7 && dr_counts_grow(t) != 0)
        return -1;
    s = dr_count_find(t, a, b, c);
    if (!s->used) {
        *s = (struct dr_count_slot){ a, b, c, true, 0 };
        t->n++;
    }
    s->n += v;
    return 0;
}

uint64_t
dr_count_get(const struct dr_counts *t, uint32_t a, uint32_t b, uint32_t c)
{
    const struct dr_count_slot *s;

    if (t->cap == 0)
        return 0;
    s = dr_count_find(t, a, b, c);
    return s->used ? s->n : 0;
}

void
dr_counts_clear(struct dr_counts *t)
{
    free(t->s);
    memset(t, 0, sizeof(*t));
}

/* ---- times and numbers ----------------------------------------------------- */

const char *
dr_iso(uint64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    size_t n;

    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(out, 32, "%llu", (unsigned long long)ms);
        return out;
    }
    n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000));
    return out;
}

static bool
dr_all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

bool
dr_parse_time(const char *s, uint64_t *ms)
{
    struct tm tm = { 0 };
    unsigned frac = 0;
    int n = 0, got;
    time_t t;

    if (dr_all_digits(s)) {
        errno = 0;
        *ms = strtoull(s, NULL, 10);
        return errno == 0;
    }
    got = sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n);
    if (got != 3)
        return false;
    s += n;
    if (*s == 'T' || *s == ' ') {
        n = 0;
        if (sscanf(s + 1, "%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &n) != 2)
            return false;
        s += 1 + n;
        if (*s == ':' && (n = 0, sscanf(s + 1, "%2d%n", &tm.tm_sec, &n)) == 1)
            s += 1 + n;
        if (*s == '.' && (n = 0, sscanf(s + 1, "%3u%n", &frac, &n)) == 1 && n == 3)
            s += 1 + n;
    }
    if (*s == 'Z')
        s++;
    if (*s != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    if ((t = timegm(&tm)) < 0)
        return false;
    *ms = (uint64_t)t * 1000u + frac;
    return true;
}

bool
dr_parse_width(const char *s, uint64_t *ms)
{
    static const struct { const char *u; uint64_t ms; } units[] = {
        { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
        { "d", 86400000 }, { "w", 604800000 },
    };
    char *end;
    unsigned long long v;

    if (*s < '1' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || v == 0 || v > 100000000ull)
        return false;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(end, units[i].u) == 0) {
            *ms = v * units[i].ms;
            return true;
        }
    return false;
}

bool
dr_parse_double(const char *s, double lo, double hi, double *v)
{
    char *end;

    if (*s == '\0')
        return false;
    errno = 0;
    *v = strtod(s, &end);
    return errno == 0 && *end == '\0' && isfinite(*v) && *v >= lo && *v <= hi;
}

const char *
dr_hex(const uint8_t d[32], char out[65])
{
    return aud_hex(d, out);
}

json_t *
dr_num(double v)
{
    return isfinite(v) ? json_real(v == 0.0 ? 0.0 : v) : json_null();
}

json_t *
dr_interval_json(const struct drift_interval *iv)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "est", dr_num(iv->est),
                     "lo", dr_num(iv->lo), "hi", dr_num(iv->hi),
                     "n", dr_num(iv->n), "n_eff", dr_num(iv->n_eff));
}

const char *
dr_route_name(unsigned route)
{
    static const char *const names[] = { "?", "auto_approve", "auto_reject", "review",
                                         "hard_rule", "data_quality" };
    return route < sizeof(names) / sizeof(names[0]) ? names[route] : "?";
}

const char *
dr_band(const struct dr_item *it, char out[48], double *lo)
{
    unsigned b;

    *lo = 2.0;
    if (!(it->flags & DR_SCORED))
        return "unscored";
    if (it->flags & DR_HAS_REC) {
        *lo = it->score >= it->auto_thr ? it->auto_thr : it->score >= it->lean ? it->lean :
              (it->flags & DR_REJECT_BAND) && it->score > it->reject_thr ? it->reject_thr : 0.0;
        if ((it->flags & DR_REJECT_BAND) && it->score <= it->reject_thr)
            snprintf(out, 48, "[0,%.4g] auto reject", it->reject_thr);
        else if (it->score >= it->auto_thr)
            snprintf(out, 48, "[%.4g,1] auto", it->auto_thr);
        else if (it->score >= it->lean)
            snprintf(out, 48, "[%.4g,%.4g) review, leans auto", it->lean, it->auto_thr);
        else
            snprintf(out, 48, "(%.4g,%.4g) review, leans reject",
                     (it->flags & DR_REJECT_BAND) ? it->reject_thr : 0.0, it->lean);
        return out;
    }
    b = drift_bin_equal(it->score, 10);
    *lo = b / 10.0;
    snprintf(out, 48, "[%.1f,%.1f%c decile", b / 10.0, (b + 1) / 10.0, b == 9 ? ']' : ')');
    return out;
}

const char *
dr_window_name(const struct dr_ctx *c, uint32_t w, char out[32])
{
    if (w >= c->d->n_windows)
        return "?";
    return dr_iso(c->d->windows[w].start_ms, out);
}

static int
dr_slot_cmp(const void *x, const void *y)
{
    const struct dr_count_slot *a = x, *b = y;

    if (a->b != b->b)
        return a->b < b->b ? -1 : 1;
    return a->c < b->c ? -1 : a->c > b->c;
}

size_t
dr_counts_collect(const struct dr_counts *t, uint32_t a, struct dr_count_slot **out)
{
    size_t n = 0;

    *out = malloc((t->n + 1) * sizeof(**out));
    if (*out == NULL)
        return 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->s[i].used && t->s[i].a == a)
            (*out)[n++] = t->s[i];
    qsort(*out, n, sizeof(**out), dr_slot_cmp);
    return n;
}

const json_t *
dr_get(const json_t *o, const char *path)
{
    char head[64];
    const char *dot = strchr(path, '.');

    if (dot == NULL)
        return json_object_get(o, path);
    snprintf(head, sizeof(head), "%.*s", (int)(dot - path), path);
    return json_object_get(json_object_get(o, head), dot + 1);
}

double
dr_printable(const json_t *v)
{
    double x = json_is_number(v) ? json_number_value(v) : NAN;

    return fabs(x) < 5e-5 ? 0.0 : x;    /* no "-0.0000" at 4 decimals */
}
