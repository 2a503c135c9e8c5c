/*
 * aud_summary.c - `hitlq-audit summary`: what an export's decisions say
 * (proto/AUDIT-FORMAT.md §3.4, §9): counts per record type, per decision,
 * per model and per actor; human agreement and override rates from the
 * VERDICT extension (format v2), overall and for the blind QA sample;
 * model decisions per triage route and explanation method (SCORING) and
 * per rule that routed them (RULES); first and last time.  A model is its
 * file's digest (model_digest), shown with the id@version it came under;
 * its mean score counts scored decisions only (RECOMMENDATION flag bit 1;
 * in v1 entries SCORING method != none), never an unscored item's 0.  v1
 * OUTCOME verdicts are counted apart: their agreement (AUDIT-FORMAT.md §9,
 * legacy) is not used.  Four-eyes verdicts (REVIEW, 000C: verdict k of n,
 * recommendation shown or hidden) are counted apart as well - by k of n,
 * closing (FINAL) verdicts, and agreement split by shown / hidden - while
 * staying in the human totals (each verdict is one comparison with the
 * model).  Extension bodies are read with the decoders of
 * proto/record_ext.h; a REVIEW is checked as `verify` checks it
 * (aud_review.c): a malformed one stops the summary with BAD_ENTRY.  A text table, or JSON (jansson) with --json.  It
 * reads the entries strictly but checks no hash or signature: run `verify`
 * for that.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "aud.h"

/* Per-key counters. */
enum { T_ENTRIES, T_AUTO, T_ESCALATED, T_HUMAN, T_AGREED, T_OVERRODE, T_NOTCMP,
       T_LEGACY, T_SCORED, T_N };

struct aud_slot {
    char    *key;                        /* owned, NUL-terminated */
    char    *label;                      /* models: id@version seen first (owned) */
    uint64_t v[T_N];
    double   score_sum;                  /* models: over T_SCORED decisions */
};

/* What a human or queue entry's verdict says. */
struct aud_verdict {
    int  agreement;                      /* VERDICT 0..3; -1 none */
    bool legacy;                         /* a v1 OUTCOME verdict (agreement unused) */
    bool qa;                             /* VERDICT flag: a blind QA copy */
};

/* Open-addressing string table.  Owned slots; aud_tally_clear frees. */
struct aud_tally {
    struct aud_slot *s;
    size_t           cap, n;
};

/* Four-eyes verdicts: [0] recommendation hidden, [1] shown. */
struct aud_fe {
    uint64_t verdicts, final;
    uint64_t kn[6][6];                   /* [k][n], k 1..n, n 2..5 */
    uint64_t agreed[2], overrode[2], not_comparable[2];
};

struct aud_sum {
    uint64_t         entries, first_ms, last_ms;
    uint64_t         types[256], decisions[256];
    uint64_t         agreed, overrode, not_comparable, overrides, legacy;
    uint64_t         qa_agreed, qa_overrode, qa_not_comparable;
    uint64_t         routes[256], methods[256], qa_sampled;   /* 256: aud_json_enum */
    struct aud_tally models, actors, rules;
    struct aud_fe    fe;
};

static uint64_t
aud_fnv(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)k[i]) * 1099511628211ull;
    return h;
}

static int
aud_tally_grow(struct aud_tally *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    struct aud_slot *s = calloc(cap, sizeof(*s));

    if (s == NULL)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        size_t j;
        if (t->s[i].key == NULL)
            continue;
        j = aud_fnv(t->s[i].key, strlen(t->s[i].key)) & (cap - 1);
        while (s[j].key != NULL)
            j = (j + 1) & (cap - 1);
        s[j] = t->s[i];
    }
    free(t->s);
    t->s = s;
    t->cap = cap;
    return 0;
}

/* The slot of key[0..n), created on first use; NULL when out of memory. */
static struct aud_slot *
aud_tally_get(struct aud_tally *t, const char *key, size_t n)
{
    size_t j;

    if ((t->n + 1) * 10 > t->cap * 7 && aud_tally_grow(t) != 0)
        return NULL;
    j = aud_fnv(key, n) & (t->cap - 1);
    while (t->s[j].key != NULL) {
        if (strlen(t->s[j].key) == n && memcmp(t->s[j].key, key, n) == 0)
            return &t->s[j];
        j = (j + 1) & (t->cap - 1);
    }
    if ((t->s[j].key = malloc(n + 1)) == NULL)
        return NULL;
    memcpy(t->s[j].key, key, n);
    t->s[j].key[n] = '\0';
    t->n++;
    return &t->s[j];
}

static void
aud_tally_clear(struct aud_tally *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        free(t->s[i].key);
        free(t->s[i].label);
    }
    free(t->s);
    memset(t, 0, sizeof(*t));
}

/* The verdict of an entry: VERDICT (v2) or OUTCOME (v1, legacy: only
 * counted when it was a verdict, agreement 1 or 2).  Malformed bodies
 * count as none: summary checks nothing. */
static struct aud_verdict
aud_entry_verdict(const struct record *rec)
{
    struct aud_verdict v = { -1, false, false };
    struct record_ext_outcome oc;
    struct record_ext_verdict vd;

    for (size_t i = 0; i < rec->ext_count; i++) {
        const struct record_ext *x = &rec->ext[i];

        if (x->type == RECORD_EXT_VERDICT &&
            record_ext_verdict_decode(x->data, x->len, &vd) == RECORD_OK)
            return (struct aud_verdict){ vd.agreement, false,
                                         (vd.flags & RECORD_VERDICT_FLAG_QA) != 0 };
        if (x->type == RECORD_EXT_OUTCOME &&
            record_ext_outcome_decode(x->data, x->len, &oc) == RECORD_OK)
            v.legacy = oc.agreement != RECORD_AGREE_NONE;
    }
    return v;
}

/* Whether a model decision's score is meaningful: RECOMMENDATION flag
 * bit 1 (v2), else SCORING method != none (v1); true without either. */
static bool
aud_entry_scored(const struct record *rec)
{
    struct record_ext_recommendation rc;
    struct record_ext_scoring sc;
    bool scored = true;

    for (size_t i = 0; i < rec->ext_count; i++) {
        const struct record_ext *x = &rec->ext[i];

        if (x->type == RECORD_EXT_RECOMMENDATION &&
            record_ext_recommendation_decode(x->data, x->len, &rc) == RECORD_OK)
            return (rc.flags & RECORD_REC_FLAG_SCORED) != 0;
        if (x->type == RECORD_EXT_SCORING &&
            record_ext_scoring_decode(x->data, x->len, &sc) == RECORD_OK)
            scored = sc.method != RECORD_METHOD_NONE;
    }
    return scored;
}

static const char *
aud_route_name(unsigned r)
{
    static const char *const names[] = { NULL, "auto_approve", "auto_reject", "review",
                                         "hard_rule", "data_quality", NULL, NULL };
    return r < 8 ? names[r] : NULL;
}

static const char *
aud_method_name(unsigned m)
{
    static const char *const names[] = { "none", "linear", "approx", "exact" };
    return m < 4 ? names[m] : NULL;
}

/* Counts the rules of a RULES body (by kind and id). */
static int
aud_sum_rules(struct aud_sum *s, const struct record_ext_rules *rl)
{
    for (unsigned k = 0; k < rl->n; k++) {
        const struct record_ext_rule *ru = &rl->rule[k];
        char key[8 + RECORD_STR_MAX];
        struct aud_slot *sl;
        int n = snprintf(key, sizeof(key), "%s %.*s",
                         ru->kind == RECORD_RULE_HARD ? "hard" : "check", (int)ru->id.len,
                         (const char *)ru->id.data);
        if ((sl = aud_tally_get(&s->rules, key, (size_t)n)) == NULL)
            return -1;
        sl->v[T_ENTRIES]++;
    }
    return 0;
}

/* SCORING (route, method, QA flag) and RULES (rule ids, by kind) of a
 * model decision.  Malformed bodies are skipped: summary checks nothing. */
static int
aud_sum_scoring(struct aud_sum *s, const struct record *rec)
{
    struct record_ext_scoring sc;
    struct record_ext_rules rl;

    for (size_t i = 0; i < rec->ext_count; i++) {
        const struct record_ext *x = &rec->ext[i];

        if (x->type == RECORD_EXT_SCORING &&
            record_ext_scoring_decode(x->data, x->len, &sc) == RECORD_OK) {
            s->methods[sc.method]++;
            s->routes[sc.route]++;
            s->qa_sampled += sc.flags & RECORD_SCORING_FLAG_QA;
        } else if (x->type == RECORD_EXT_RULES &&
                   record_ext_rules_decode(x->data, x->len, &rl) == RECORD_OK &&
                   aud_sum_rules(s, &rl) != 0) {
            return -1;
        }
    }
    return 0;
}

static const char *
aud_type_name(unsigned t)
{
    switch (t) {
    case RECORD_AUTO_DECISION:    return "AUTO_DECISION";
    case RECORD_ESCALATION:       return "ESCALATION";
    case RECORD_HUMAN_DECISION:   return "HUMAN_DECISION";
    case RECORD_HUMAN_OVERRIDE:   return "HUMAN_OVERRIDE";
    case RECORD_QUEUE_EVENT:      return "QUEUE_EVENT";
    case RECORD_MODEL_REGISTERED: return "MODEL_REGISTERED";
    case RECORD_POLICY_CHANGE:    return "POLICY_CHANGE";
    case RECORD_KEY_EVENT:        return "KEY_EVENT";
    case RECORD_HEARTBEAT:        return "HEARTBEAT";
    case RECORD_GENESIS:          return "GENESIS";
    default:                      return NULL;
    }
}

static const char *
aud_decision_name(unsigned d)
{
    static const char *const names[] = { "NONE", "APPROVE", "REJECT", "ESCALATE",
                                         "REQUEST_INFO", "DEFER" };
    return d < sizeof(names) / sizeof(names[0]) ? names[d] : NULL;
}

static const char *
aud_actor_name(unsigned a)
{
    static const char *const names[] = { "?", "BOT", "MODEL", "HUMAN", "SYSTEM" };
    return a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

/* Counts a verdict into the totals. */
static void
aud_sum_verdict(struct aud_sum *s, const struct aud_verdict *v)
{
    s->legacy += v->legacy;
    s->agreed += v->agreement == RECORD_AGREE_AGREED;
    s->overrode += v->agreement == RECORD_AGREE_OVERRODE;
    s->not_comparable += v->agreement == RECORD_AGREE_NOT_COMPARABLE;
    if (v->qa) {
        s->qa_agreed += v->agreement == RECORD_AGREE_AGREED;
        s->qa_overrode += v->agreement == RECORD_AGREE_OVERRODE;
        s->qa_not_comparable += v->agreement == RECORD_AGREE_NOT_COMPARABLE;
    }
}

/* Counts an entry into its model's slot (keyed by the model file's digest,
 * labelled with the id@version it came under first). */
static int
aud_sum_model(struct aud_sum *s, const struct record *rec, const struct aud_verdict *v)
{
    char key[2 * RECORD_HASH_LEN + 1], label[2 * RECORD_STR_MAX + 2];
    bool model = rec->record_type == RECORD_AUTO_DECISION ||
                 rec->record_type == RECORD_ESCALATION;
    struct aud_slot *m;

    for (size_t i = 0; i < RECORD_HASH_LEN; i++)
        snprintf(key + 2 * i, 3, "%02x", rec->model_digest[i]);
    if ((m = aud_tally_get(&s->models, key, 2 * RECORD_HASH_LEN)) == NULL)
        return -1;
    if (m->label == NULL) {
        snprintf(label, sizeof(label), "%.*s@%.*s", rec->model_id.len,
                 (const char *)rec->model_id.data, rec->model_version.len,
                 (const char *)rec->model_version.data);
        if ((m->label = strdup(label)) == NULL)
            return -1;
    }
    m->v[T_ENTRIES]++;
    m->v[T_AUTO] += rec->record_type == RECORD_AUTO_DECISION;
    m->v[T_ESCALATED] += rec->record_type == RECORD_ESCALATION;
    m->v[T_HUMAN] += rec->record_type == RECORD_HUMAN_DECISION ||
                     rec->record_type == RECORD_HUMAN_OVERRIDE;
    m->v[T_AGREED] += v->agreement == RECORD_AGREE_AGREED;
    m->v[T_OVERRODE] += v->agreement == RECORD_AGREE_OVERRODE;
    m->v[T_NOTCMP] += v->agreement == RECORD_AGREE_NOT_COMPARABLE;
    m->v[T_LEGACY] += v->legacy;
    if (model && aud_entry_scored(rec)) {
        m->v[T_SCORED]++;
        m->score_sum += rec->score;
    }
    return 0;
}

/* Counts a four-eyes verdict (its REVIEW checked by aud_review_check). */
static void
aud_sum_review(struct aud_fe *fe, const struct aud_review *rv, const struct aud_verdict *v)
{
    unsigned sh = rv->shown ? 1u : 0u;

    fe->verdicts++;
    fe->final += rv->final;
    fe->kn[rv->k][rv->n]++;
    fe->agreed[sh] += v->agreement == RECORD_AGREE_AGREED;
    fe->overrode[sh] += v->agreement == RECORD_AGREE_OVERRODE;
    fe->not_comparable[sh] += v->agreement == RECORD_AGREE_NOT_COMPARABLE;
}

/* Counts one decoded entry (rv: its REVIEW, already checked). */
static int
aud_sum_add(struct aud_sum *s, const struct record *rec, const struct aud_review *rv)
{
    char key[2 * RECORD_STR_MAX + 16];
    struct aud_verdict v = aud_entry_verdict(rec);
    struct aud_slot *a;
    int n;

    if (s->entries++ == 0)
        s->first_ms = rec->time_ms;
    s->last_ms = rec->time_ms;
    s->types[rec->record_type]++;
    s->decisions[rec->decision]++;
    s->overrides += rec->record_type == RECORD_HUMAN_OVERRIDE;
    aud_sum_verdict(s, &v);
    if (rv->present)
        aud_sum_review(&s->fe, rv, &v);
    if (rec->model_id.len > 0 && aud_sum_model(s, rec, &v) != 0)
        return -1;
    if (aud_sum_scoring(s, rec) != 0)
        return -1;
    n = snprintf(key, sizeof(key), "%s %.*s", aud_actor_name(rec->actor_type),
                 rec->actor_id.len, (const char *)rec->actor_id.data);
    if ((a = aud_tally_get(&s->actors, key, (size_t)n)) == NULL)
        return -1;
    a->v[T_ENTRIES]++;
    return 0;
}

/* "2025-06-01T12:00:00.123Z" into out[32]. */
static const char *
aud_iso(uint64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    size_t n;

    if (gmtime_r(&t, &tm) == NULL)
        return "?";
    n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000));
    return out;
}

static double
aud_rate(uint64_t a, uint64_t b)
{
    return a + b > 0 ? (double)a / (double)(a + b) : 0.0;
}

/* Slots sorted by entries, largest first (ties by key); caller frees. */
static int
aud_slot_cmp(const void *x, const void *y)
{
    const struct aud_slot *a = *(const struct aud_slot *const *)x;
    const struct aud_slot *b = *(const struct aud_slot *const *)y;

    if (a->v[T_ENTRIES] != b->v[T_ENTRIES])
        return a->v[T_ENTRIES] > b->v[T_ENTRIES] ? -1 : 1;
    return strcmp(a->key, b->key);
}

static struct aud_slot **
aud_tally_sorted(const struct aud_tally *t)
{
    struct aud_slot **v = malloc((t->n + 1) * sizeof(*v));
    size_t k = 0;

    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < t->cap; i++)
        if (t->s[i].key != NULL)
            v[k++] = &t->s[i];
    qsort(v, k, sizeof(*v), aud_slot_cmp);
    return v;
}

static void
aud_sum_text_counts(const struct aud_sum *s)
{
    printf("by record type:\n");
    for (unsigned t = 0; t < 256; t++)
        if (s->types[t] > 0)
            printf("  %-18s %12" PRIu64 "\n",
                   aud_type_name(t) ? aud_type_name(t) : "?", s->types[t]);
    printf("by decision:\n");
    for (unsigned d = 0; d < 256; d++)
        if (s->decisions[d] > 0)
            printf("  %-18s %12" PRIu64 "\n",
                   aud_decision_name(d) ? aud_decision_name(d) : "?", s->decisions[d]);
    printf("model decisions by route (QA-sampled %" PRIu64 "):\n", s->qa_sampled);
    for (unsigned t = 0; t < 8; t++)
        if (s->routes[t] > 0 && aud_route_name(t) != NULL)
            printf("  %-18s %12" PRIu64 "\n", aud_route_name(t), s->routes[t]);
    printf("model decisions by explanation method:\n");
    for (unsigned t = 0; t < 4; t++)
        if (s->methods[t] > 0)
            printf("  %-18s %12" PRIu64 "\n", aud_method_name(t), s->methods[t]);
}

/* Mean score of a model's scored decisions ("-" / null when none). */
static double
aud_mean(const struct aud_slot *m)
{
    return m->v[T_SCORED] > 0 ? m->score_sum / (double)m->v[T_SCORED] : 0.0;
}

static void
aud_sum_text_models(const struct aud_sum *s, struct aud_slot **m)
{
    printf("by model (file digest; id@version):\n  %-16s %-24s %9s %9s %9s %9s %9s %9s "
           "%9s %10s\n", "digest", "model", "entries", "auto", "escalated", "human",
           "agreed", "overrode", "n/c", "mean score");
    for (size_t i = 0; i < s->models.n; i++) {
        char mean[16] = "-";
        if (m[i]->v[T_SCORED] > 0)
            snprintf(mean, sizeof(mean), "%.4f", aud_mean(m[i]));
        printf("  %-16.16s %-24s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64
               " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %10s\n", m[i]->key, m[i]->label,
               m[i]->v[T_ENTRIES], m[i]->v[T_AUTO], m[i]->v[T_ESCALATED], m[i]->v[T_HUMAN],
               m[i]->v[T_AGREED], m[i]->v[T_OVERRODE], m[i]->v[T_NOTCMP], mean);
    }
}

static void
aud_sum_text_humans(const struct aud_sum *s)
{
    printf("humans (v2 VERDICT, agreement with the model's recommendation): agreed %"
           PRIu64 ", overrode %" PRIu64 ", not comparable %" PRIu64 " (HUMAN_OVERRIDE "
           "entries %" PRIu64 "); agreement rate %.4f, override rate %.4f\n",
           s->agreed, s->overrode, s->not_comparable, s->overrides,
           aud_rate(s->agreed, s->overrode), aud_rate(s->overrode, s->agreed));
    printf("blind QA sample: agreed %" PRIu64 ", overrode %" PRIu64 ", not comparable %"
           PRIu64 "; override rate %.4f\n", s->qa_agreed, s->qa_overrode,
           s->qa_not_comparable, aud_rate(s->qa_overrode, s->qa_agreed));
    if (s->legacy > 0)
        printf("legacy v1 OUTCOME verdicts: %" PRIu64 " (legacy agreement: not used; "
               "these entries carry no recommendation, root cause or reviewer)\n",
               s->legacy);
}

static void
aud_sum_text_four_eyes(const struct aud_fe *fe)
{
    static const char *const what[2] = { "hidden (blind)", "shown" };

    printf("four-eyes verdicts (REVIEW; also in the humans line, each verdict one "
           "comparison): %" PRIu64 ", closing (FINAL) %" PRIu64 "\n", fe->verdicts, fe->final);
    if (fe->verdicts == 0)
        return;
    printf("  k of n:");
    for (unsigned n = 2; n <= 5; n++)
        for (unsigned k = 1; k <= n; k++)
            if (fe->kn[k][n] > 0)
                printf(" %u/%u %" PRIu64, k, n, fe->kn[k][n]);
    printf("\n");
    for (int sh = 1; sh >= 0; sh--)
        printf("  recommendation %-15s agreed %" PRIu64 ", overrode %" PRIu64
               ", not comparable %" PRIu64 "; agreement rate %.4f\n", what[sh],
               fe->agreed[sh], fe->overrode[sh], fe->not_comparable[sh],
               aud_rate(fe->agreed[sh], fe->overrode[sh]));
}

static int
aud_sum_text(const struct aud_sum *s)
{
    struct aud_slot **m = aud_tally_sorted(&s->models);
    struct aud_slot **a = aud_tally_sorted(&s->actors);
    char t1[32], t2[32];

    if (m == NULL || a == NULL) {
        free(m);
        free(a);
        return -1;
    }
    printf("entries: %" PRIu64 "\n", s->entries);
    if (s->entries > 0)
        printf("first: %s\nlast:  %s\n", aud_iso(s->first_ms, t1),
               aud_iso(s->last_ms, t2));
    aud_sum_text_counts(s);
    aud_sum_text_models(s, m);
    printf("by actor:\n");
    for (size_t i = 0; i < s->actors.n; i++)
        printf("  %-40s %12" PRIu64 "\n", a[i]->key, a[i]->v[T_ENTRIES]);
    free(a);
    if ((a = aud_tally_sorted(&s->rules)) == NULL) {
        free(m);
        return -1;
    }
    printf("rules that routed decisions:\n");
    for (size_t i = 0; i < s->rules.n; i++)
        printf("  %-40s %12" PRIu64 "\n", a[i]->key, a[i]->v[T_ENTRIES]);
    aud_sum_text_humans(s);
    aud_sum_text_four_eyes(&s->fe);
    free(m);
    free(a);
    return 0;
}

/* {name: count} of the non-zero counters of an enum. */
static json_t *
aud_json_enum(const uint64_t *v, const char *(*name)(unsigned))
{
    json_t *o = json_object();

    for (unsigned i = 0; o != NULL && i < 256; i++)
        if (v[i] > 0 && name(i) != NULL)
            json_object_set_new(o, name(i), json_integer((json_int_t)v[i]));
    return o;
}

static json_t *
aud_json_models(const struct aud_tally *t)
{
    static const char *const f[T_N] = { "entries", "auto", "escalated", "human",
                                        "agreed", "overrode", "not_comparable",
                                        "legacy_verdicts", "scored" };
    json_t *o = json_object();

    for (size_t i = 0; o != NULL && i < t->cap; i++) {
        const struct aud_slot *sl = &t->s[i];
        json_t *m;
        if (sl->key == NULL || (m = json_object()) == NULL)
            continue;
        json_object_set_new(m, "id", json_string(sl->label ? sl->label : ""));
        for (unsigned k = 0; k < T_N; k++)
            json_object_set_new(m, f[k], json_integer((json_int_t)sl->v[k]));
        json_object_set_new(m, "mean_score", sl->v[T_SCORED] > 0 ? json_real(aud_mean(sl))
                                                                 : json_null());
        json_object_set_new(m, "agreement_rate",
                            json_real(aud_rate(sl->v[T_AGREED], sl->v[T_OVERRODE])));
        json_object_set_new(o, sl->key, m);
    }
    return o;
}

/* The "human" object: v2 verdicts, the QA sample, legacy v1 verdicts. */
static json_t *
aud_json_human(const struct aud_sum *s)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:f, s:f, s:{s:I, s:I, s:I, s:f}, s:I}",
                     "agreed", (json_int_t)s->agreed, "overrode", (json_int_t)s->overrode,
                     "not_comparable", (json_int_t)s->not_comparable,
                     "override_entries", (json_int_t)s->overrides,
                     "agreement_rate", aud_rate(s->agreed, s->overrode),
                     "override_rate", aud_rate(s->overrode, s->agreed),
                     "qa", "agreed", (json_int_t)s->qa_agreed,
                     "overrode", (json_int_t)s->qa_overrode,
                     "not_comparable", (json_int_t)s->qa_not_comparable,
                     "override_rate", aud_rate(s->qa_overrode, s->qa_agreed),
                     "legacy_outcome_verdicts", (json_int_t)s->legacy);
}

/* The "four_eyes" object: verdicts, final, k_of_n {"k/n": count}, and
 * agreement with the recommendation shown / hidden. */
static json_t *
aud_json_four_eyes(const struct aud_fe *fe)
{
    json_t *kn = json_object(), *o;
    char key[8];

    for (unsigned n = 2; kn != NULL && n <= 5; n++)
        for (unsigned k = 1; k <= n; k++)
            if (fe->kn[k][n] > 0) {
                snprintf(key, sizeof(key), "%u/%u", k, n);
                json_object_set_new(kn, key, json_integer((json_int_t)fe->kn[k][n]));
            }
    o = json_pack("{s:I, s:I, s:o}", "verdicts", (json_int_t)fe->verdicts, "final",
                  (json_int_t)fe->final, "k_of_n", kn);
    for (int sh = 0; o != NULL && sh < 2; sh++)
        json_object_set_new(o, sh ? "shown" : "hidden", json_pack(
            "{s:I, s:I, s:I, s:f}", "agreed", (json_int_t)fe->agreed[sh],
            "overrode", (json_int_t)fe->overrode[sh],
            "not_comparable", (json_int_t)fe->not_comparable[sh],
            "agreement_rate", aud_rate(fe->agreed[sh], fe->overrode[sh])));
    return o;
}

static int
aud_sum_json(const struct aud_sum *s)
{
    json_t *o = json_object(), *a = json_object();
    char t1[32], t2[32];
    int rc;

    for (size_t i = 0; a != NULL && i < s->actors.cap; i++)
        if (s->actors.s[i].key != NULL)
            json_object_set_new(a, s->actors.s[i].key,
                                json_integer((json_int_t)s->actors.s[i].v[T_ENTRIES]));
    json_object_set_new(o, "entries", json_integer((json_int_t)s->entries));
    json_object_set_new(o, "first_ms", json_integer((json_int_t)s->first_ms));
    json_object_set_new(o, "last_ms", json_integer((json_int_t)s->last_ms));
    json_object_set_new(o, "first", json_string(aud_iso(s->first_ms, t1)));
    json_object_set_new(o, "last", json_string(aud_iso(s->last_ms, t2)));
    json_object_set_new(o, "record_types", aud_json_enum(s->types, aud_type_name));
    json_object_set_new(o, "decisions", aud_json_enum(s->decisions, aud_decision_name));
    json_object_set_new(o, "models", aud_json_models(&s->models));
    json_object_set_new(o, "actors", a);
    json_object_set_new(o, "routes", aud_json_enum(s->routes, aud_route_name));
    json_object_set_new(o, "explain_methods", aud_json_enum(s->methods, aud_method_name));
    json_object_set_new(o, "qa_sampled", json_integer((json_int_t)s->qa_sampled));
    a = json_object();
    for (size_t i = 0; a != NULL && i < s->rules.cap; i++)
        if (s->rules.s[i].key != NULL)
            json_object_set_new(a, s->rules.s[i].key,
                                json_integer((json_int_t)s->rules.s[i].v[T_ENTRIES]));
    json_object_set_new(o, "rules", a);
    json_object_set_new(o, "human", aud_json_human(s));
    json_object_set_new(o, "four_eyes", aud_json_four_eyes(&s->fe));
    rc = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
    fputc('\n', stdout);
    json_decref(o);
    return rc;
}

/* Reads and counts every entry of the export. */
static enum aud_class
aud_sum_read(const char *dir, struct aud_sum *s, struct record *rec,
             struct aud_result *r)
{
    struct aud_keys none = { .n = 0 };
    struct aud_checkpoint cp;
    struct aud_entries it;
    char path[AUD_PATH_MAX];
    enum aud_class cls;

    snprintf(path, sizeof(path), "%s/checkpoint", dir);
    if ((cls = aud_checkpoint_load(&cp, path, &none, r)) != AUD_OK)
        return cls;
    aud_entries_init(&it, dir, cp.cp.size);
    for (uint64_t pos = 0; cls == AUD_OK && pos < cp.cp.size; pos++) {
        struct aud_review rv;
        const uint8_t *p;
        size_t len;
        int rc;
        if ((cls = aud_entries_next(&it, &p, &len, r)) != AUD_OK)
            break;
        if ((rc = record_decode(p, len, rec)) != RECORD_OK)
            cls = aud_fail_at(r, AUD_BAD_ENTRY, pos, "entry %llu does not "
                              "decode: %s", (unsigned long long)pos,
                              record_strerror(rc));
        else if ((cls = aud_review_check(rec, &rv, r)) != AUD_OK)
            break;
        else if (aud_sum_add(s, rec, &rv) != 0)
            cls = aud_fail(r, AUD_IO, "out of memory");
    }
    aud_entries_clear(&it);
    aud_checkpoint_clear(&cp);
    return cls;
}

enum aud_class
aud_summary(const char *dir, bool json, struct aud_result *r)
{
    struct aud_sum *s = calloc(1, sizeof(*s));
    struct record *rec = malloc(sizeof(*rec));
    enum aud_class cls;

    if (s == NULL || rec == NULL)
        cls = aud_fail(r, AUD_IO, "out of memory");
    else if ((cls = aud_sum_read(dir, s, rec, r)) == AUD_OK &&
             (json ? aud_sum_json(s) : aud_sum_text(s)) != 0)
        cls = aud_fail(r, AUD_IO, "cannot write the summary");
    if (s != NULL) {
        aud_tally_clear(&s->models);
        aud_tally_clear(&s->actors);
        aud_tally_clear(&s->rules);
    }
    free(s);
    free(rec);
    return cls;
}
