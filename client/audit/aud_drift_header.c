/*
 * aud_drift_header.c - the header of the drift report (client/audit/aud_drift.h):
 * the signed checkpoint it was computed from (origin, size, root hash), the
 * range and windows of decision times, the entries by record type and
 * format version, the models by digest (id@version beside), the policies
 * with their POLICY_CHANGE digests, and what the log lacks for the review.
 */
#include <stdio.h>
#include <string.h>

#include "aud_drift.h"

static const char *
dr_type_name(unsigned t)
{
    switch (t) {
    case RECORD_AUTO_DECISION:    return "AUTO_DECISION";
    case RECORD_ESCALATION:       return "ESCALATION";
    case RECORD_HUMAN_DECISION:   return "HUMAN_DECISION";
    case RECORD_HUMAN_OVERRIDE:   return "HUMAN_OVERRIDE";
    case RECORD_QUEUE_EVENT:      return "QUEUE_EVENT";
    case RECORD_MODEL_REGISTERED: return "MODEL_REGISTERED";
    case RECORD_POLICY_CHANGE:    return "POLICY_CHANGE";
    case 0x12:                    return "PROFILE_REGISTERED";
    case 0x13:                    return "INPUT_WINDOW";
    case RECORD_KEY_EVENT:        return "KEY_EVENT";
    case RECORD_HEARTBEAT:        return "HEARTBEAT";
    case RECORD_GENESIS:          return "GENESIS";
    default:                      return "OTHER";
    }
}

static json_t *
dr_checkpoint_json(const struct aud_checkpoint *cp)
{
    char b64[45], hex[65];

    return json_pack("{s:s%, s:I, s:s, s:s, s:b}", "origin", cp->cp.origin,
                     cp->cp.origin_len, "size", (json_int_t)cp->cp.size,
                     "root_hash", aud_b64(cp->cp.root, b64), "root_hex",
                     aud_hex(cp->cp.root, hex), "signature_verified", cp->sig_checked);
}

static json_t *
dr_time_or_null(bool set, uint64_t ms)
{
    char t[32];

    return set ? json_string(dr_iso(ms, t)) : json_null();
}

/* {range, windows}: what the figures cover. */
static int
dr_windows_json(const struct dr_ctx *c, json_t *rep)
{
    const struct dr_read *d = c->d;
    json_t *list = json_array(), *w;
    char a[32], b[32];

    for (size_t i = 0; list != NULL && i < d->n_windows; i++) {
        const struct dr_window *x = &d->windows[i];
        json_array_append_new(list, json_pack("{s:s, s:s, s:I, s:I, s:I, s:b}",
                              "start", dr_iso(x->start_ms, a), "end",
                              dr_iso(x->start_ms + c->o->window_ms, b), "decisions",
                              (json_int_t)x->decisions, "scored", (json_int_t)x->scored,
                              "verdicts", (json_int_t)x->verdicts, "reference",
                              (uint32_t)i == c->ref_window));
    }
    json_object_set_new(rep, "range", json_pack(
        "{s:o, s:o, s:o, s:o}", "since", dr_time_or_null(c->o->since_ms > 0, c->o->since_ms),
        "until", dr_time_or_null(c->o->until_ms != UINT64_MAX, c->o->until_ms),
        "first_decision", dr_time_or_null(d->n_items > 0, d->n_items ? d->items[0].time_ms : 0),
        "last_decision", dr_time_or_null(d->n_items > 0,
                                         d->n_items ? d->items[d->n_items - 1].time_ms : 0)));
    w = json_pack("{s:s, s:I, s:s, s:s, s:o}", "width", c->o->window_text, "width_ms",
                  (json_int_t)c->o->window_ms, "by", "time of the model decision (UTC, "
                  "aligned to multiples of the width)", "reference",
                  c->ref_window == DR_NONE ? "none" : c->o->ref_first ? "first window" :
                  dr_window_name(c, c->ref_window, a), "list", list);
    return json_object_set_new(rep, "windows", w);
}

static json_t *
dr_entries_json(const struct dr_read *d)
{
    json_t *types = json_object();

    for (unsigned t = 0; types != NULL && t < 256; t++) {
        uint64_t n = d->rectype[t];
        if (n > 0)
            json_object_set_new(types, dr_type_name(t), json_integer((json_int_t)n));
    }
    return json_pack("{s:I, s:o, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I}}",
                     "total", (json_int_t)d->entries, "by_record_type", types,
                     "model_decisions", (json_int_t)d->n_items, "verdicts",
                     (json_int_t)d->n_verdicts, "decisions_outside_range",
                     (json_int_t)d->n_outside, "verdicts_outside_range",
                     (json_int_t)d->n_orphans, "format", "v1_model_decisions",
                     (json_int_t)d->n_v1_items, "v2_model_decisions",
                     (json_int_t)d->n_v2_items, "v1_verdicts", (json_int_t)d->n_v1_verdicts,
                     "v2_verdicts", (json_int_t)d->n_v2_verdicts);
}

static json_t *
dr_models_json(const struct dr_read *d)
{
    json_t *a = json_array();
    char hex[65], t1[32], t2[32];

    for (size_t i = 0; a != NULL && i < d->n_models; i++) {
        const struct dr_model *m = &d->models[i];
        json_array_append_new(a, json_pack(
            "{s:s, s:s, s:s?, s:o, s:I, s:o, s:o}", "digest", dr_hex(m->digest, hex),
            "model", dr_str(&d->strs, m->name), "framework",
            m->framework == DR_NONE ? NULL : dr_str(&d->strs, m->framework),
            "registered", dr_time_or_null(m->registered, m->registered_ms),
            "decisions", (json_int_t)m->decisions,
            "first", m->decisions ? json_string(dr_iso(m->first_ms, t1)) : json_null(),
            "last", m->decisions ? json_string(dr_iso(m->last_ms, t2)) : json_null()));
    }
    return a;
}

/* Policies in order of first sight: decisions and POLICY_CHANGE entries. */
static json_t *
dr_policies_json(const struct dr_read *d)
{
    json_t *a = json_array();
    char t[32];

    for (uint32_t id = 0; a != NULL && id < d->strs.n; id++) {
        uint64_t n = dr_count_get(&d->counts, DRC_POLICY, id, 0);
        json_t *ch = json_array();
        for (size_t k = 0; ch != NULL && k < d->n_pchanges; k++)
            if (d->pchanges[k].policy == id)
                json_array_append_new(ch, json_pack("{s:s, s:s}", "time",
                                      dr_iso(d->pchanges[k].time_ms, t), "policy_file_sha256",
                                      dr_str(&d->strs, d->pchanges[k].digest)));
        if (n == 0 && json_array_size(ch) == 0) {
            json_decref(ch);
            continue;
        }
        json_array_append_new(a, json_pack("{s:s, s:I, s:o}", "policy", dr_str(&d->strs, id),
                                           "decisions", (json_int_t)n, "changes", ch));
    }
    return a;
}

/* What the log lacks for this review, one sentence each. */
static json_t *
dr_lacks_json(const struct dr_ctx *c)
{
    const struct dr_read *d = c->d;
    json_t *a = json_array();
    char s[512];

    if (d->n_v1_items > 0) {
        snprintf(s, sizeof(s), "%llu model decisions are format v1: no RECOMMENDATION "
                 "(recommendation, lean/auto/reject thresholds, scored flag); they count in "
                 "score drift and root causes only, banded by score decile",
                 (unsigned long long)d->n_v1_items);
        json_array_append_new(a, json_string(s));
    }
    if (d->n_v1_verdicts > 0) {
        snprintf(s, sizeof(s), "%llu human/queue entries are format v1 (OUTCOME only): "
                 "legacy agreement not used; no root-cause tag, reviewer or QA flag",
                 (unsigned long long)d->n_v1_verdicts);
        json_array_append_new(a, json_string(s));
    }
    if (d->n_no_scoring > 0) {
        snprintf(s, sizeof(s), "%llu model decisions have no SCORING: route and QA flag "
                 "unknown", (unsigned long long)d->n_no_scoring);
        json_array_append_new(a, json_string(s));
    }
    if (c->qa_rate_given)
        snprintf(s, sizeof(s), "QA sampling rate not in the log: %.6g from --qa-rate",
                 c->o->qa_rate);
    else
        snprintf(s, sizeof(s), "QA sampling rate not in the log: estimated per route as "
                 "the share of its decisions SCORING marks as drawn for QA");
    json_array_append_new(a, json_string(s));
    for (size_t i = 0; i < d->n_models; i++)
        if (!d->models[i].registered) {
            snprintf(s, sizeof(s), "model %s has no MODEL_REGISTERED entry in the log",
                     dr_str(&d->strs, d->models[i].name));
            json_array_append_new(a, json_string(s));
        }
    if (d->n_input_windows == 0)
        json_array_append_new(a, json_string("no input-drift windows in this log"));
    return a;
}

int
dr_header_json(const struct dr_ctx *c, json_t *rep)
{
    json_t *labels = json_array();

    json_object_set_new(rep, "report", json_string("hitlq drift review"));
    json_object_set_new(rep, "report_format", json_integer(1));
    json_object_set_new(rep, "checkpoint", dr_checkpoint_json(c->cp));
    dr_windows_json(c, rep);
    json_object_set_new(rep, "entries", dr_entries_json(c->d));
    json_object_set_new(rep, "models", dr_models_json(c->d));
    json_object_set_new(rep, "policies", dr_policies_json(c->d));
    for (unsigned i = 0; labels != NULL && i < c->n_labels; i++)
        json_array_append_new(labels, json_string(dr_str(&c->d->strs, c->labels[i])));
    json_object_set_new(rep, "actions", json_pack("{s:o, s:s?, s:s?}", "labels", labels,
                        "auto_action", c->auto_action == DR_NONE ? NULL :
                        dr_str(&c->d->strs, c->auto_action), "reject_action",
                        c->reject_action == DR_NONE ? NULL :
                        dr_str(&c->d->strs, c->reject_action)));
    json_object_set_new(rep, "lacks", dr_lacks_json(c));
    return json_object_get(rep, "lacks") != NULL && json_object_get(rep, "windows") != NULL
           ? 0 : -1;
}
