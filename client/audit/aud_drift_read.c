/*
 * aud_drift_read.c - the rows `hitlq-audit drift` keeps of a verified
 * export (client/audit/aud_drift.h): one struct dr_item per model decision
 * inside --since/--until, one struct dr_verdict per human or queue entry
 * that refers to one of them, the models by digest, the policies, the
 * windows of decision times, and the counts that need no pairing (rules,
 * reasons of items sent to humans, root-cause tags, routes).
 *
 * Extension bodies are decoded with proto/record_ext.h.  The record codec
 * treats hitlq's own types (OUTCOME, SCORING, RULES, RECOMMENDATION,
 * VERDICT) as opaque, so a log can verify with a malformed one: the
 * review refuses it (BAD_ENTRY at its index) rather than guess.
 *
 * Format v2 entries carry RECOMMENDATION (model decisions) and VERDICT
 * (human and queue entries); v1 entries carry OUTCOME, whose agreement
 * followed the old rule and is not used (proto/AUDIT-FORMAT.md §9).
 *
 * REOPEN and AMEND refer to the decision they act on (a human entry), not
 * to the model decision: the item is found through that entry's row.  The
 * decision they act on is marked withdrawn: an AMEND's outcome replaces it
 * as the item's decision, a REOPEN sends the item back for a new one (the
 * next RESOLVE), so agreement counts the decisions in force.  A four-eyes
 * verdict (REVIEW, checked by aud_review.c) is one verdict like any other.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aud_drift.h"

int
dr_grow(void **p, size_t *cap, size_t n, size_t elem)
{
    size_t c = *cap ? *cap * 2 : 1024;
    void *q;

    if (n < *cap)
        return 0;
    if ((q = realloc(*p, c * elem)) == NULL)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

void
dr_read_init(struct dr_read *d, const struct dr_opts *o)
{
    memset(d, 0, sizeof(*d));
    d->o = o;
    d->last_model = DR_NONE;
    d->last_policy = DR_NONE;
}

int
dr_read_flush_policy(struct dr_read *d)
{
    if (d->last_policy == DR_NONE || d->policy_run == 0)
        return 0;
    if (dr_count_add(&d->counts, DRC_POLICY, d->last_policy, 0, d->policy_run) != 0)
        return -1;
    d->policy_run = 0;
    return 0;
}

void
dr_read_clear(struct dr_read *d)
{
    dr_strs_clear(&d->strs);
    dr_counts_clear(&d->counts);
    free(d->items);
    free(d->verdicts);
    free(d->models);
    free(d->windows);
    free(d->pchanges);
    free(d->features);
    free(d->profiles);
    free(d->inwin);
    free(d->scratch);
    memset(d, 0, sizeof(*d));
}

static uint32_t
dr_intern_bytes(struct dr_read *d, const struct record_ext_bytes *b)
{
    return dr_intern(&d->strs, b->data, b->len);
}

/* The model of rec's digest (added on first sight); DR_NONE when OOM. */
static uint32_t
dr_model_of(struct dr_read *d, const struct record *rec)
{
    char name[2 * RECORD_STR_MAX + 2];
    struct dr_model *m;
    int n;

    if (d->last_model != DR_NONE &&
        memcmp(d->models[d->last_model].digest, rec->model_digest, 32) == 0)
        return d->last_model;
    for (size_t i = 0; i < d->n_models; i++)
        if (memcmp(d->models[i].digest, rec->model_digest, 32) == 0)
            return d->last_model = (uint32_t)i;
    if (dr_grow((void **)&d->models, &d->cap_models, d->n_models, sizeof(*m)) != 0)
        return DR_NONE;
    m = &d->models[d->n_models];
    memset(m, 0, sizeof(*m));
    memcpy(m->digest, rec->model_digest, 32);
    n = snprintf(name, sizeof(name), "%.*s@%.*s", rec->model_id.len,
                 (const char *)rec->model_id.data, rec->model_version.len,
                 (const char *)rec->model_version.data);
    m->framework = DR_NONE;
    if ((m->name = dr_intern(&d->strs, name, (size_t)n)) == DR_NONE)
        return DR_NONE;
    return d->last_model = (uint32_t)d->n_models++;
}

/* The string id of rec's policy_id; decisions are counted per policy in
 * runs (the same policy for many entries in a row). */
static uint32_t
dr_policy_of(struct dr_read *d, const struct record *rec)
{
    uint32_t id;

    if (d->last_policy != DR_NONE && d->strs.len[d->last_policy] == rec->policy_id.len &&
        memcmp(d->strs.s[d->last_policy], rec->policy_id.data, rec->policy_id.len) == 0) {
        d->policy_run++;
        return d->last_policy;
    }
    if (dr_read_flush_policy(d) != 0)
        return DR_NONE;
    if ((id = dr_intern(&d->strs, rec->policy_id.data, rec->policy_id.len)) == DR_NONE)
        return DR_NONE;
    d->last_policy = id;
    d->policy_run = 1;
    return id;
}

/* The window ordinal of a decision time (times arrive non-decreasing). */
static uint32_t
dr_window_of(struct dr_read *d, uint64_t t)
{
    uint64_t start = t - t % d->o->window_ms;
    struct dr_window *w;

    if (d->n_windows > 0 && d->windows[d->n_windows - 1].start_ms == start)
        return (uint32_t)(d->n_windows - 1);
    if (dr_grow((void **)&d->windows, &d->cap_windows, d->n_windows, sizeof(*w)) != 0)
        return DR_NONE;
    w = &d->windows[d->n_windows];
    memset(w, 0, sizeof(*w));
    w->start_ms = start;
    return (uint32_t)d->n_windows++;
}

/* Importance sums and the reason-code names of a TOP_FEATURES body. */
static int
dr_read_features(struct dr_read *d, const struct record *rec,
                 const struct record_ext_top_features *tf)
{
    unsigned k = 0;

    for (unsigned i = 0; i < tf->n; i++) {
        uint32_t id = dr_intern_bytes(d, &tf->f[i].name);
        size_t j;
        if (id == DR_NONE)
            return -1;
        for (j = 0; j < d->n_features && d->features[j].name != id; j++)
            ;
        if (j == d->n_features) {
            if (dr_grow((void **)&d->features, &d->cap_features, d->n_features,
                        sizeof(*d->features)) != 0)
                return -1;
            d->features[d->n_features++] = (struct dr_feature){ id, 0.0, 0 };
        }
        d->features[j].sum_abs += fabs(tf->f[i].contribution);
        d->features[j].n++;
        /* the i-th model reason is the i-th largest contribution */
        while (k < rec->reason_count && rec->reason_codes[k] >= 0x4000)
            k++;
        if (k < rec->reason_count && d->reason_name[rec->reason_codes[k]] == 0)
            d->reason_name[rec->reason_codes[k]] = id + 1;
        k++;
    }
    return 0;
}

/* Rule counts of a RULES body, by kind and window. */
static int
dr_read_rules(struct dr_read *d, const struct record_ext_rules *rl, uint32_t w)
{
    for (unsigned i = 0; i < rl->n; i++) {
        uint32_t id = dr_intern_bytes(d, &rl->rule[i].id);
        uint32_t kind = rl->rule[i].kind == RECORD_RULE_HARD ? DRC_RULE_HARD : DRC_RULE_CHECK;
        if (id == DR_NONE || dr_count_add(&d->counts, kind, id, w, 1) != 0)
            return -1;
    }
    return 0;
}

static void
dr_read_recommendation(struct dr_read *d, struct dr_item *it,
                       const struct record_ext_recommendation *rc)
{
    it->rec = dr_intern_bytes(d, &rc->recommendation);
    it->lean = rc->lean_threshold;
    it->auto_thr = rc->auto_threshold;
    it->reject_thr = rc->reject_threshold;
    it->flags |= DR_HAS_REC;
    it->flags = (uint8_t)((it->flags & ~DR_SCORED) |
                          ((rc->flags & RECORD_REC_FLAG_SCORED) ? DR_SCORED : 0));
    if (rc->flags & RECORD_REC_FLAG_REJECT_BAND)
        it->flags |= DR_REJECT_BAND;
    if (rc->flags & RECORD_REC_FLAG_HARD_RULE)
        it->flags |= DR_HARD;
}

/* One extension of a model decision; 1 when its body is malformed. */
static int
dr_read_item_ext(struct dr_read *d, struct dr_item *it, const struct record *rec,
                 const struct record_ext *x)
{
    union {
        struct record_ext_queue_ref q;
        struct record_ext_scoring sc;
        struct record_ext_rules rl;
        struct record_ext_recommendation rc;
    } ub, *u = &ub;

    switch (x->type) {
    case RECORD_EXT_TOP_FEATURES:
        if (record_ext_top_features_decode(x->data, x->len, &d->tf) != RECORD_OK)
            return 1;
        return dr_read_features(d, rec, &d->tf);
    case RECORD_EXT_QUEUE_REF:
        if (record_ext_queue_ref_decode(x->data, x->len, &u->q) != RECORD_OK)
            return 1;
        it->queue = it->cur_queue = dr_intern_bytes(d, &u->q.queue);
        return 0;
    case RECORD_EXT_SCORING:
        if (record_ext_scoring_decode(x->data, x->len, &u->sc) != RECORD_OK)
            return 1;
        it->route = u->sc.route;
        it->flags |= DR_HAS_SCORING | ((u->sc.flags & RECORD_SCORING_FLAG_QA) ? DR_QA : 0);
        if (!(it->flags & DR_HAS_REC) && u->sc.route == RECORD_ROUTE_DATA_QUALITY)
            it->flags &= (uint8_t)~DR_SCORED;      /* v1: score 0 means none */
        if (u->sc.route == RECORD_ROUTE_HARD_RULE)
            it->flags |= DR_HARD;
        return 0;
    case RECORD_EXT_RULES:
        if (record_ext_rules_decode(x->data, x->len, &u->rl) != RECORD_OK)
            return 1;
        return dr_read_rules(d, &u->rl, it->window);
    case RECORD_EXT_RECOMMENDATION:
        if (record_ext_recommendation_decode(x->data, x->len, &u->rc) != RECORD_OK)
            return 1;
        dr_read_recommendation(d, it, &u->rc);
        return 0;
    default:
        return 0;
    }
}

/* A failed extension: 1 = malformed (BAD_ENTRY), else out of memory. */
static enum aud_class
dr_read_fail(const struct record *rec, const struct record_ext *x, int rc,
             struct aud_result *r)
{
    if (rc == 1)
        return aud_fail_at(r, AUD_BAD_ENTRY, rec->index, "entry %llu: extension "
                           "%04x does not decode (proto/AUDIT-FORMAT.md §3.4)",
                           (unsigned long long)rec->index, x->type);
    return aud_fail(r, AUD_IO, "out of memory");
}

/* The first model reason code (rules have 0x4000 or 0x8000 set). */
static uint16_t
dr_first_reason(const struct record *rec)
{
    for (unsigned k = 0; k < rec->reason_count; k++)
        if (rec->reason_codes[k] < 0x4000)
            return rec->reason_codes[k];
    return 0;
}

/* Counts of a model decision that need its extensions read first. */
static int
dr_read_item_counts(struct dr_read *d, const struct dr_item *it)
{
    struct dr_window *w = &d->windows[it->window];

    w->decisions++;
    w->scored += (it->flags & DR_SCORED) != 0;
    d->models[it->model].decisions++;
    if (d->models[it->model].first_ms == 0)
        d->models[it->model].first_ms = it->time_ms;
    d->models[it->model].last_ms = it->time_ms;
    if (it->flags & DR_HAS_REC)
        d->n_v2_items++;
    else
        d->n_v1_items++;
    d->n_no_scoring += !(it->flags & DR_HAS_SCORING);
    w->routes[it->route & 7]++;
    if (!(it->flags & DR_AUTO) && it->reason != 0 &&
        dr_count_add(&d->counts, DRC_REASON, it->reason, it->window, 1) != 0)
        return -1;
    return 0;
}

/* AUTO_DECISION or ESCALATION. */
static enum aud_class
dr_read_item(struct dr_read *d, const struct record *rec, struct aud_result *r)
{
    struct dr_item *it;
    int rc = 0;

    if (rec->time_ms < d->o->since_ms || rec->time_ms >= d->o->until_ms) {
        d->n_outside++;
        return AUD_OK;
    }
    if (dr_grow((void **)&d->items, &d->cap_items, d->n_items, sizeof(*it)) != 0)
        return aud_fail(r, AUD_IO, "out of memory");
    it = &d->items[d->n_items];
    *it = (struct dr_item){
        .index = rec->index, .time_ms = rec->time_ms, .score = rec->score,
        .auto_thr = rec->threshold, .lean = rec->threshold, .queue = DR_NONE,
        .cur_queue = DR_NONE, .rec = DR_NONE, .reason = dr_first_reason(rec),
        .flags = (uint8_t)(DR_SCORED | (rec->record_type == RECORD_AUTO_DECISION ? DR_AUTO : 0)),
    };
    it->model = dr_model_of(d, rec);
    it->policy = dr_policy_of(d, rec);
    it->window = dr_window_of(d, rec->time_ms);
    if (it->model == DR_NONE || it->policy == DR_NONE || it->window == DR_NONE)
        return aud_fail(r, AUD_IO, "out of memory");
    /* RECOMMENDATION (0008) comes after SCORING (0006): the scored flag
     * of a v2 entry is RECOMMENDATION's */
    for (size_t i = 0; rc == 0 && i < rec->ext_count; i++)
        if ((rc = dr_read_item_ext(d, it, rec, &rec->ext[i])) != 0)
            return dr_read_fail(rec, &rec->ext[i], rc, r);
    if (!(it->flags & DR_SCORED))
        it->score = NAN;
    if (dr_read_item_counts(d, it) != 0)
        return aud_fail(r, AUD_IO, "out of memory");
    d->n_items++;
    return AUD_OK;
}

/* The position in items[] of the model decision at log index ix. */
static uint32_t
dr_item_at(const struct dr_read *d, uint64_t ix)
{
    size_t lo = 0, hi = d->n_items;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->items[mid].index < ix)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->n_items && d->items[lo].index == ix ? (uint32_t)lo : DR_NONE;
}

/* The position in verdicts[] of the human or queue entry at log index ix. */
static uint32_t
dr_verdict_at(const struct dr_read *d, uint64_t ix)
{
    size_t lo = 0, hi = d->n_verdicts;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->verdicts[mid].index < ix)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->n_verdicts && d->verdicts[lo].index == ix ? (uint32_t)lo : DR_NONE;
}

/* VERDICT (v2) or OUTCOME (v1) and QUEUE_REF of a human or queue entry
 * into v; *new_queue gets QUEUE_REF's queue (DR_NONE).  1 = malformed. */
static int
dr_read_verdict_ext(struct dr_read *d, struct dr_verdict *v, const struct record *rec,
                    uint32_t *new_queue)
{
    struct record_ext_verdict vd;
    struct record_ext_outcome oc;
    struct record_ext_queue_ref q;

    for (size_t i = 0; i < rec->ext_count; i++) {
        const struct record_ext *x = &rec->ext[i];
        if (x->type == RECORD_EXT_QUEUE_REF) {
            if (record_ext_queue_ref_decode(x->data, x->len, &q) != RECORD_OK)
                return 1;
            *new_queue = dr_intern_bytes(d, &q.queue);
        } else if (x->type == RECORD_EXT_OUTCOME && v->outcome == DR_NONE) {
            if (record_ext_outcome_decode(x->data, x->len, &oc) != RECORD_OK)
                return 1;
            v->outcome = dr_intern_bytes(d, &oc.outcome);
            v->rec = dr_intern_bytes(d, &oc.recommendation);
            v->flags |= DRV_LEGACY;
        } else if (x->type == RECORD_EXT_VERDICT) {
            if (record_ext_verdict_decode(x->data, x->len, &vd) != RECORD_OK)
                return 1;
            v->outcome = dr_intern_bytes(d, &vd.outcome);
            v->rec = dr_intern_bytes(d, &vd.recommendation);
            v->root_cause = dr_intern_bytes(d, &vd.root_cause);
            if (vd.reviewer.len > 0)
                v->reviewer = dr_intern_bytes(d, &vd.reviewer);
            v->agreement = vd.agreement;
            v->flags = (uint8_t)((v->flags & ~DRV_LEGACY) |
                                 ((vd.flags & RECORD_VERDICT_FLAG_QA) ? DRV_QA : 0));
        }
    }
    return 0;
}

/* Counts of a verdict: window, version, root-cause tags. */
static int
dr_read_verdict_counts(struct dr_read *d, const struct dr_verdict *v)
{
    const struct dr_item *it = &d->items[v->item];

    d->windows[it->window].verdicts++;
    if (v->flags & DRV_LEGACY)
        d->n_v1_verdicts++;
    else
        d->n_v2_verdicts++;
    if (v->root_cause == DR_NONE || d->strs.len[v->root_cause] == 0)
        return 0;
    return dr_count_add(&d->counts, DRC_ROOT, v->root_cause, it->window, 1) != 0 ||
           dr_count_add(&d->counts, DRC_ROOT_QUEUE, v->root_cause, v->queue, 1) != 0 ? -1 : 0;
}

/* v acts on the decision in verdicts[via] (it refers to it): an AMEND
 * (a human verdict entry) or a REOPEN withdraws that decision; a comment
 * or another event leaves it in force. */
static void
dr_read_withdraw(struct dr_read *d, const struct record *rec, const struct dr_verdict *v,
                 uint32_t via)
{
    struct dr_verdict *old = &d->verdicts[via];
    bool amend = rec->record_type == RECORD_HUMAN_DECISION ||
                 rec->record_type == RECORD_HUMAN_OVERRIDE;
    bool reopen = rec->record_type == RECORD_QUEUE_EVENT &&
                  strcmp(dr_str(&d->strs, v->outcome), "reopen") == 0;

    if ((!amend && !reopen) || (old->flags & DRV_WITHDRAWN))
        return;
    old->flags |= DRV_WITHDRAWN;
    d->n_amended += amend;
    d->n_reopened += reopen;
}

/* The review's flags of a checked REVIEW (aud_review.c). */
static uint8_t
dr_review_flags(const struct aud_review *rv)
{
    if (!rv->present)
        return 0;
    return (uint8_t)(DRV_REVIEW | (rv->shown ? DRV_SHOWN : 0) | (rv->final ? DRV_FINAL : 0));
}

/* HUMAN_DECISION, HUMAN_OVERRIDE or QUEUE_EVENT. */
static enum aud_class
dr_read_verdict(struct dr_read *d, const struct record *rec, struct aud_result *r)
{
    uint32_t at = rec->ref_index == RECORD_REF_NONE ? DR_NONE : dr_item_at(d, rec->ref_index);
    uint32_t new_queue = DR_NONE, via = DR_NONE;
    struct aud_review rv;
    struct dr_item *it;
    struct dr_verdict *v;
    enum aud_class cls;
    int rc;

    if ((cls = aud_review_check(rec, &rv, r)) != AUD_OK)
        return cls;
    if (at == DR_NONE && rec->ref_index != RECORD_REF_NONE &&
        (via = dr_verdict_at(d, rec->ref_index)) != DR_NONE)
        at = d->verdicts[via].item;      /* AMEND / REOPEN: through the decision */
    if (at == DR_NONE) {
        d->n_orphans++;              /* its model decision is outside the range */
        return AUD_OK;
    }
    if (dr_grow((void **)&d->verdicts, &d->cap_verdicts, d->n_verdicts, sizeof(*v)) != 0)
        return aud_fail(r, AUD_IO, "out of memory");
    it = &d->items[at];
    v = &d->verdicts[d->n_verdicts];
    *v = (struct dr_verdict){ .index = rec->index, .time_ms = rec->time_ms, .item = at,
                              .outcome = DR_NONE, .rec = DR_NONE, .root_cause = DR_NONE,
                              .reviewer = DR_NONE, .queue = it->cur_queue,
                              .flags = (uint8_t)(dr_review_flags(&rv) |
                                                 (via != DR_NONE ? DRV_CHAINED : 0)) };
    if (rec->actor_type == RECORD_ACTOR_HUMAN)
        v->reviewer = dr_intern(&d->strs, rec->actor_id.data, rec->actor_id.len);
    if ((rc = dr_read_verdict_ext(d, v, rec, &new_queue)) != 0)
        return aud_fail_at(r, AUD_BAD_ENTRY, rec->index, "entry %llu: its VERDICT, "
                           "OUTCOME or QUEUE_REF does not decode (proto/AUDIT-FORMAT.md "
                           "§3.4)", (unsigned long long)rec->index);
    /* v1 has no QA flag: a human verdict on an auto-resolved item is on its
     * blind QA copy; v2 says so in VERDICT (an AMEND of an auto decision, or
     * the decision after its REOPEN, is not a QA verdict) */
    if ((it->flags & DR_AUTO) && (v->flags & DRV_LEGACY))
        v->flags |= DRV_QA;
    if (v->flags & DRV_QA)
        v->queue = dr_intern(&d->strs, "(blind QA)", 10);
    if (new_queue != DR_NONE)
        it->cur_queue = new_queue;
    if (v->outcome == DR_NONE)
        v->outcome = dr_intern(&d->strs, "", 0);
    if (via != DR_NONE)
        dr_read_withdraw(d, rec, v, via);
    if (dr_read_verdict_counts(d, v) != 0)
        return aud_fail(r, AUD_IO, "out of memory");
    d->n_verdicts++;
    return AUD_OK;
}

/* MODEL_REGISTERED: the model's registration time and framework. */
static enum aud_class
dr_read_model(struct dr_read *d, const struct record *rec, struct aud_result *r)
{
    struct record_ext_model_info mi;
    uint32_t m = dr_model_of(d, rec);

    if (m == DR_NONE)
        return aud_fail(r, AUD_IO, "out of memory");
    if (!d->models[m].registered) {
        d->models[m].registered = true;
        d->models[m].registered_ms = rec->time_ms;
    }
    for (size_t i = 0; i < rec->ext_count; i++)
        if (rec->ext[i].type == RECORD_EXT_MODEL_INFO &&
            record_ext_model_info_decode(rec->ext[i].data, rec->ext[i].len, &mi) == RECORD_OK)
            d->models[m].framework = dr_intern_bytes(d, &mi.framework);
    return AUD_OK;
}

/* POLICY_CHANGE: the policy file's digest and time. */
static enum aud_class
dr_read_policy(struct dr_read *d, const struct record *rec, struct aud_result *r)
{
    struct record_ext_policy_info pi;
    struct dr_pchange *pc;
    char hex[65];

    if (dr_grow((void **)&d->pchanges, &d->cap_pchanges, d->n_pchanges, sizeof(*pc)) != 0)
        return aud_fail(r, AUD_IO, "out of memory");
    pc = &d->pchanges[d->n_pchanges];
    pc->policy = dr_intern(&d->strs, rec->policy_id.data, rec->policy_id.len);
    pc->digest = dr_intern(&d->strs, "", 0);
    pc->time_ms = rec->time_ms;
    for (size_t i = 0; i < rec->ext_count; i++)
        if (rec->ext[i].type == RECORD_EXT_POLICY_INFO &&
            record_ext_policy_info_decode(rec->ext[i].data, rec->ext[i].len, &pi) == RECORD_OK)
            pc->digest = dr_intern(&d->strs, dr_hex(pi.policy_doc_digest, hex), 64);
    if (pc->policy == DR_NONE || pc->digest == DR_NONE)
        return aud_fail(r, AUD_IO, "out of memory");
    d->n_pchanges++;
    return AUD_OK;
}

enum aud_class
dr_read_entry(struct dr_read *d, uint64_t pos, const struct record *rec,
              struct aud_result *r)
{
    if (d->entries++ == 0)
        d->first_ms = rec->time_ms;
    d->last_ms = rec->time_ms;
    d->rectype[rec->record_type]++;
    (void)pos;
    switch (rec->record_type) {
    case RECORD_AUTO_DECISION:
    case RECORD_ESCALATION:
        return dr_read_item(d, rec, r);
    case RECORD_HUMAN_DECISION:
    case RECORD_HUMAN_OVERRIDE:
    case RECORD_QUEUE_EVENT:
        return dr_read_verdict(d, rec, r);
    case RECORD_MODEL_REGISTERED:
        return dr_read_model(d, rec, r);
    case RECORD_POLICY_CHANGE:
        return dr_read_policy(d, rec, r);
    case RECORD_PROFILE_REGISTERED:
        return dr_read_profile(d, rec, r);
    case RECORD_INPUT_WINDOW:
        return dr_read_input_window(d, rec, r);
    default:
        return AUD_OK;
    }
}
