/*
 * work_view.c - what `hitlq work` shows of an item, as (key, value) text
 * pairs in screen order, so the ncurses screen (work_tui.c) and the
 * `--plain` lines (work_line.c) show the same facts: times in local time
 * with "in 3h12m", the score, the model's recommendation and band, the
 * explanation labelled with its method, the fields, the history's notes
 * (the escalation note included) and the keys of the item's choices.  A
 * blind four-eyes reviewer sees "blind review: model hidden" instead of
 * the model's lines.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "work.h"

/* A MessagePack value as text (strings bare) into buf. */
static const char *
obj_text(const msgpack_object *o, char *buf, size_t len)
{
    FILE *f = fmemopen(buf, len, "w");

    buf[0] = '\0';
    if (f == NULL)
        return buf;
    if (o != NULL)
        cli_mp_print(f, o);
    fclose(f);
    buf[len - 1] = '\0';
    return buf;
}

/* A span as "2h05m", "4m10s" or "9s". */
static const char *
view_span(uint64_t ms, char *buf, size_t len)
{
    uint64_t s = ms / 1000;

    if (s >= 3600)
        snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s % 3600 / 60);
    else if (s >= 60)
        snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
    else
        snprintf(buf, len, "%" PRIu64 "s", s);
    return buf;
}

/* The SLA clock: "running: 1m10s of 2m00s used (58%), ladder at 50%" or
 * "paused (waiting on customer): ...". */
static void
view_sla(const struct work *w, work_view_fn *fn, void *arg)
{
    char used[32], budget[32], state[WORK_NAME + 32], level[48] = "", v[320];

    if (!w->it.sla.has)
        return;
    if (w->it.sla.running)
        snprintf(state, sizeof(state), "running");
    else if (w->it.sla.waiting_on[0])
        snprintf(state, sizeof(state), "paused (waiting on %s)", w->it.sla.waiting_on);
    else
        snprintf(state, sizeof(state), "stopped");
    if (w->it.sla.level > 0)
        snprintf(level, sizeof(level), ", ladder at %" PRIu64 "%%", w->it.sla.level);
    snprintf(v, sizeof(v), "%s: %s of %s used (%" PRIu64 "%%)%s", state,
             view_span(w->it.sla.used_ms, used, sizeof(used)),
             view_span(w->it.sla.budget_ms, budget, sizeof(budget)),
             w->it.sla.used_ms * 100 / w->it.sla.budget_ms, level);
    fn(arg, "sla", v);
}

static void
view_times(const struct work *w, work_view_fn *fn, void *arg, uint64_t now)
{
    char t[64], rel[48], v[160];

    if (w->it.deadline_ms > 0) {
        snprintf(v, sizeof(v), "%s (%s)", work_local_time(w->it.deadline_ms, t, sizeof(t)),
                 work_relative(w->it.deadline_ms, now, rel, sizeof(rel)));
        fn(arg, "sla_deadline", v);
    }
    view_sla(w, fn, arg);
    snprintf(v, sizeof(v), "%s (%s)%s", work_local_time(w->it.expires_ms, t, sizeof(t)),
             work_relative(w->it.expires_ms, now, rel, sizeof(rel)),
             w->beat_capped ? " - no more heartbeats (max hold)"
                            : w->beat_inflight ? " - heartbeat sent" : " - kept alive by heartbeats");
    fn(arg, "lease_expires", v);
}

static void
view_model(const struct work *w, work_view_fn *fn, void *arg)
{
    char v[256];

    if (w->it.blind) {                       /* four-eyes: judge without the model */
        fn(arg, "model", "blind review: model hidden (score, recommendation and "
                         "explanation are not shown to this reviewer)");
        return;
    }
    if (w->it.has_score)
        snprintf(v, sizeof(v), "%.4f (model %s)", w->it.score, w->it.model);
    else
        snprintf(v, sizeof(v), "not scored");
    fn(arg, "score", v);
    fn(arg, "recommendation", w->it.recommendation[0] ? w->it.recommendation
                                                      : "none (not sent by the server)");
    if (w->it.has_band) {
        if (isnan(w->it.band_min))
            snprintf(v, sizeof(v), "%" PRIu64, w->it.band);
        else
            snprintf(v, sizeof(v), "%" PRIu64 " (score >= %.2f)", w->it.band, w->it.band_min);
        fn(arg, "band", v);
    }
    if (w->it.route[0])
        fn(arg, "route", w->it.route);
    fn(arg, "explanation", work_explain_label(w->it.explain));
}

/* One reason: "feature = value (+0.1234)" or "rule id: message". */
static void
view_reason(const msgpack_object *r, work_view_fn *fn, void *arg)
{
    const msgpack_object *ru = cli_map_get(r, "rule"), *hr = cli_map_get(r, "hard_rule");
    char a[160], b[160], c[64], v[400];
    double x;

    if (ru != NULL || hr != NULL) {
        snprintf(v, sizeof(v), "%s %s: %s", ru ? "rule" : "hard rule", obj_text(ru ? ru : hr, a, sizeof(a)),
                 obj_text(cli_map_get(r, "message"), b, sizeof(b)));
    } else {
        const msgpack_object *co = cli_map_get(r, "contribution");

        x = co != NULL && co->type == MSGPACK_OBJECT_FLOAT64 ? co->via.f64 : NAN;
        c[0] = '\0';
        if (!isnan(x))
            snprintf(c, sizeof(c), " (%+.4f)", x);
        obj_text(cli_map_get(r, "value"), b, sizeof(b));
        snprintf(v, sizeof(v), "%s%s%s%s", obj_text(cli_map_get(r, "feature"), a, sizeof(a)),
                 b[0] ? " = " : "", b, c);
    }
    fn(arg, "reason", v);
}

/* Every element of array `key` of the reply through each(). */
static void
view_array(const struct work *w, const char *key, work_view_fn *fn, void *arg,
           void (*each)(const msgpack_object *, work_view_fn *, void *))
{
    const msgpack_object *a = hitlq_reply_get(w->it.reply, key);
    uint32_t i;

    if (a != NULL && a->type == MSGPACK_OBJECT_ARRAY)
        for (i = 0; i < a->via.array.size; i++)
            each(&a->via.array.ptr[i], fn, arg);
}

/* A history note: "2026-12-07 10:00:00 CET escalated by alice: text". */
static void
view_note(const msgpack_object *n, work_view_fn *fn, void *arg)
{
    const msgpack_object *at = cli_map_get(n, "at_ms");
    char t[64], e[64], who[160], note[WORK_NOTE_MAX + 1], v[WORK_NOTE_MAX + 300];

    if (at != NULL && at->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        work_local_time(at->via.u64, t, sizeof(t));
    else
        t[0] = '\0';
    snprintf(v, sizeof(v), "%s %s by %s: %s", t, obj_text(cli_map_get(n, "event"), e, sizeof(e)),
             obj_text(cli_map_get(n, "actor"), who, sizeof(who)),
             obj_text(cli_map_get(n, "note"), note, sizeof(note)));
    fn(arg, "history_note", v);
}

static void
view_fields(const struct work *w, work_view_fn *fn, void *arg)
{
    const msgpack_object *m = hitlq_reply_get(w->it.reply, "fields");
    char k[160], key[200], v[400];
    uint32_t i;

    if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
        return;
    for (i = 0; i < m->via.map.size; i++) {
        snprintf(key, sizeof(key), "field.%s", obj_text(&m->via.map.ptr[i].key, k, sizeof(k)));
        fn(arg, key, obj_text(&m->via.map.ptr[i].val, v, sizeof(v)));
    }
}

/* "1=approve 2=reject" for a choice list. */
static void
view_choices(const struct work_choices *c, bool digits, const char *key,
             work_view_fn *fn, void *arg)
{
    char v[2048];
    size_t i, o = 0;

    if (c->n == 0)
        return;
    v[0] = '\0';
    for (i = 0; i < c->n && o < sizeof(v); i++) {
        int k = work_choice_key(digits, i);

        if (k != 0)
            o += (size_t)snprintf(v + o, sizeof(v) - o, "%s%c=%s", i ? " " : "", k, c->name[i]);
        else                                 /* no key: the `+` pick list has it */
            o += (size_t)snprintf(v + o, sizeof(v) - o, " +%s", c->name[i]);
    }
    fn(arg, key, v);
}

void
work_view(const struct work *w, work_view_fn *fn, void *arg)
{
    char v[256];

    snprintf(v, sizeof(v), "%" PRIu64, w->it.id);
    fn(arg, "item", v);
    fn(arg, "queue", w->it.queue);
    fn(arg, "type", w->it.type);
    fn(arg, "key", w->it.key);
    snprintf(v, sizeof(v), "%" PRIu64 " (attempts so far %" PRIu64 ")", w->it.priority, w->it.attempts);
    fn(arg, "priority", v);
    view_times(w, fn, arg, work_now_ms());
    view_model(w, fn, arg);
    view_array(w, "reasons", fn, arg, view_reason);
    view_fields(w, fn, arg);
    view_array(w, "notes", fn, arg, view_note);
    view_choices(&w->it.actions, true, "actions", fn, arg);
    view_choices(&w->it.escalate_to, false, "escalate_to", fn, arg);
    view_choices(&w->it.root_causes, false, "root_causes", fn, arg);
    if (w->root_cause[0])
        fn(arg, "root_cause", w->root_cause);
    if (w->note_len > 0) {
        snprintf(v, sizeof(v), "%" PRIu64 "%s", w->note_item,
                 w->note_item == w->it.id ? "" : " (typed for another item; not sent)");
        fn(arg, "note_for_item", v);
        fn(arg, "note", w->note);
    }
}
