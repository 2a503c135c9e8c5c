/*
 * work_item.c - `hitlq work`: the CLAIM reply (PROTOCOL.md §4.6) read into
 * struct work_item, the keys of its choice lists, and the time formats of
 * the screen (local time, "in 3h12m").  Fields a server does not send yet
 * (recommendation, band, actions, escalate_to, root_causes) are simply
 * absent from the item: the screen then omits them.  A four-eyes review
 * that hides the model sends score and recommendation nil: `blind`.
 * The escalation targets are CLAIM's `escalate_to` (every queue the policy
 * knows: the types' `escalate_to` names among them) without the item's own
 * queue.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "work.h"

/* Copies string object o into buf ("" when not a string). */
static void
obj_str(const msgpack_object *o, char *buf, size_t len)
{
    size_t n;

    buf[0] = '\0';
    if (o == NULL || o->type != MSGPACK_OBJECT_STR || len == 0)
        return;
    n = o->via.str.size < len - 1 ? o->via.str.size : len - 1;
    memcpy(buf, o->via.str.ptr, n);
    buf[n] = '\0';
}

static bool
obj_num(const msgpack_object *o, double *out)
{
    if (o == NULL)
        return false;
    if (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32)
        *out = o->via.f64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *out = (double)o->via.u64;
    else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = (double)o->via.i64;
    else
        return false;
    return true;
}

/* A present nil value (not an absent key: an older server). */
static bool
is_nil(const msgpack_object *o)
{
    return o != NULL && o->type == MSGPACK_OBJECT_NIL;
}

/* An array of strings into a choice list (others and overflow dropped). */
static void
read_choices(const hitlq_reply *r, const char *key, struct work_choices *c)
{
    const msgpack_object *a = hitlq_reply_get(r, key);
    uint32_t i;

    c->n = 0;
    if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY)
        return;
    for (i = 0; i < a->via.array.size && c->n < WORK_MAX_CHOICES; i++) {
        if (a->via.array.ptr[i].type != MSGPACK_OBJECT_STR || a->via.array.ptr[i].via.str.size == 0)
            continue;
        obj_str(&a->via.array.ptr[i], c->name[c->n], WORK_NAME);
        c->n++;
    }
}

/* Removes name from c (keeps the order). */
static void
drop_choice(struct work_choices *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->name[i], name) == 0) {
            memmove(c->name[i], c->name[i + 1], (c->n - i - 1) * sizeof(c->name[0]));
            c->n--;
            return;
        }
}

/* `band`: a map {index, min_score}, or an int index with `band_min_score`. */
static void
read_band(const hitlq_reply *r, struct work_item *it)
{
    const msgpack_object *b = hitlq_reply_get(r, "band");
    double v;

    it->has_band = false;
    it->band_min = NAN;
    if (b == NULL)
        return;
    if (b->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        it->band = b->via.u64;
        it->has_band = true;
        if (obj_num(hitlq_reply_get(r, "band_min_score"), &v))
            it->band_min = v;
    } else if (b->type == MSGPACK_OBJECT_MAP) {
        if (obj_num(cli_map_get(b, "index"), &v) && v >= 0) {
            it->band = (uint64_t)v;
            it->has_band = true;
        }
        if (obj_num(cli_map_get(b, "min_score"), &v))
            it->band_min = v;
    }
}

/* The SLA clock map {budget_ms, used_ms, running, waiting_on?, level}. */
static void
read_sla(hitlq_reply *r, struct work_item *it)
{
    const msgpack_object *m = hitlq_reply_get(r, "sla"), *o;
    double v;

    if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
        return;
    it->sla.has = obj_num(cli_map_get(m, "budget_ms"), &v) && v > 0;
    it->sla.budget_ms = it->sla.has ? (uint64_t)v : 0;
    if (obj_num(cli_map_get(m, "used_ms"), &v) && v >= 0)
        it->sla.used_ms = (uint64_t)v;
    if (obj_num(cli_map_get(m, "level"), &v) && v >= 0)
        it->sla.level = (uint64_t)v;
    o = cli_map_get(m, "running");
    it->sla.running = o != NULL && o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean;
    o = cli_map_get(m, "waiting_on");
    if (o != NULL && o->type == MSGPACK_OBJECT_STR)
        snprintf(it->sla.waiting_on, sizeof(it->sla.waiting_on), "%.*s",
                 (int)o->via.str.size, o->via.str.ptr);
}

int
work_item_read(struct work_item *it, hitlq_reply *r)
{
    memset(it, 0, sizeof(*it));
    it->reply = r;
    if (!hitlq_reply_get_u64(r, "id", &it->id) || !hitlq_reply_get_u64(r, "lease", &it->lease)) {
        work_item_clear(it);
        return -1;
    }
    hitlq_reply_get_u64(r, "expires_ms", &it->expires_ms);
    hitlq_reply_get_u64(r, "deadline_ms", &it->deadline_ms);
    hitlq_reply_get_u64(r, "attempts", &it->attempts);
    hitlq_reply_get_u64(r, "priority", &it->priority);
    hitlq_reply_copy_str(r, "queue", it->queue, sizeof(it->queue));
    hitlq_reply_copy_str(r, "type", it->type, sizeof(it->type));
    hitlq_reply_copy_str(r, "key", it->key, sizeof(it->key));
    hitlq_reply_copy_str(r, "route", it->route, sizeof(it->route));
    hitlq_reply_copy_str(r, "model", it->model, sizeof(it->model));
    hitlq_reply_copy_str(r, "explain", it->explain, sizeof(it->explain));
    hitlq_reply_copy_str(r, "recommendation", it->recommendation, sizeof(it->recommendation));
    it->has_score = hitlq_reply_get_f64(r, "score", &it->score);
    it->blind = is_nil(hitlq_reply_get(r, "recommendation")) && is_nil(hitlq_reply_get(r, "score"));
    read_band(r, it);
    read_sla(r, it);
    read_choices(r, "actions", &it->actions);
    read_choices(r, "escalate_to", &it->escalate_to);
    drop_choice(&it->escalate_to, it->queue);   /* escalating to where it is: no */
    read_choices(r, "root_causes", &it->root_causes);
    return 0;
}

void
work_item_clear(struct work_item *it)
{
    hitlq_reply_free(it->reply);
    memset(it, 0, sizeof(*it));
}

int
work_choice_key(bool digits, size_t i)
{
    int k = 'a';

    if (i < 9)
        return '1' + (int)i;
    if (!digits && i < 9 + 26)
        return 'a' + (int)(i - 9);
    if (!digits)
        return i < 9 + 52 ? 'A' + (int)(i - 9 - 26) : 0;
    /* actions: the letters the item screen does not use, in order */
    for (i -= 9;; k++) {
        if (k > 'z')
            return 0;              /* no key left: chosen in the `+` pick list */
        if (strchr(WORK_CMD_KEYS, k) != NULL)
            continue;
        if (i-- == 0)
            return k;
    }
}

int
work_choice_index(bool digits, size_t n, int ch)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (work_choice_key(digits, i) == ch)
            return (int)i;
    return -1;
}

const char *
work_explain_label(const char *explain)
{
    if (strcmp(explain, "exact") == 0)
        return "exact TreeSHAP";
    if (strcmp(explain, "approx") == 0)
        return "path attribution (approximate)";
    if (strcmp(explain, "linear") == 0)
        return "linear (scorecard points)";
    if (strcmp(explain, "none") == 0)
        return "none";
    return explain[0] != '\0' ? explain : "not stated by the server";
}

const char *
work_local_time(uint64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (localtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
        snprintf(buf, len, "%" PRIu64, ms);
    return buf;
}

const char *
work_relative(uint64_t ms, uint64_t now_ms, char *buf, size_t len)
{
    bool past = ms < now_ms;
    uint64_t s = (past ? now_ms - ms : ms - now_ms) / 1000;
    char v[48];

    if (s >= 86400)
        snprintf(v, sizeof(v), "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s % 86400 / 3600);
    else if (s >= 3600)
        snprintf(v, sizeof(v), "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s % 3600 / 60);
    else if (s >= 60)
        snprintf(v, sizeof(v), "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
    else
        snprintf(v, sizeof(v), "%" PRIu64 "s", s);
    snprintf(buf, len, past ? "%s ago" : "in %s", v);
    return buf;
}
