/*
 * work_flow.c - `hitlq work`'s requests and their replies over the
 * asynchronous connection: the CLAIM long poll (skipped items held back
 * while another is claimed), EXTEND heartbeats at a third of the lease,
 * the lease warning and local lease loss, the decisions (RESOLVE,
 * ESCALATE, RELEASE, skip, COMMENT, quit) and the keys that choose them.
 * A lost lease is named exactly (lease_expired, lease_held,
 * already_resolved) and the typed note survives it (work_notes.c).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "work.h"

#define WORK_WARN_MAX_MS 60000       /* warn at most this long before expiry */
#define WORK_RETRY_MS    2000        /* a failed heartbeat is retried after */

void
work_banner(struct work *w, const char *fmt, ...)
{
    char old[sizeof(w->banner)];
    va_list ap;

    memcpy(old, w->banner, sizeof(old));
    va_start(ap, fmt);
    vsnprintf(w->banner, sizeof(w->banner), fmt, ap);
    va_end(ap);
    /* a countdown's new text is not a new warning: the line modes say it once */
    if (w->banner[0] != '\0' && strncmp(old, w->banner, 20) != 0)
        work_ui_event(w, "warning", w->banner);
}

void
work_event(struct work *w, const char *event, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(w->status, sizeof(w->status), fmt, ap);
    va_end(ap);
    work_ui_event(w, event, w->status);
}

/* The server's message of the last failed reply (never NULL). */
static const char *
server_msg(const struct work *w)
{
    return hitlq_async_errstr(w->ac);
}

/* The statuses that say the lease is gone (PROTOCOL.md "Lease rules"). */
static bool
lease_gone(int st)
{
    return st == HITLQ_ST_STALE_LEASE || st == HITLQ_ST_NOT_FOUND ||
           st == HITLQ_ST_LEASE_EXPIRED || st == HITLQ_ST_ALREADY_RESOLVED ||
           st == HITLQ_ST_LEASE_HELD;
}

/* The current item is no longer ours: tell exactly why and claim the next. */
static void
lease_lost(struct work *w, const char *why, const char *detail)
{
    uint64_t id = w->it.id;

    if (w->phase == PH_NOTE && w->note_len > 0)
        w->note_item = id;                  /* the editor closes; the text stays */
    if (w->note_len > 0 && work_notes_save(w) != 0)
        work_banner(w, "cannot save the note to its file: it is kept in memory only");
    work_item_clear(&w->it);
    w->have_item = false;
    work_banner(w, "item %" PRIu64 ": lease lost (%s)%s%s%s", id, why,
                detail[0] ? ": " : "", detail,
                w->note_len > 0 ? " - your note is kept, not sent" : "");
    work_claim(w, w->wait_ms);
}

static bool
was_skipped(const struct work *w, uint64_t id)
{
    size_t i;

    for (i = 0; i < w->n_skipped; i++)
        if (w->skipped[i] == id)
            return true;
    return false;
}

/* Gives back every held skipped item. */
static void
release_held(struct work *w)
{
    size_t i;

    for (i = 0; i < w->n_held; i++)
        work_conn_release(w, &w->held[i]);
    w->n_held = 0;
}

/* Puts a claimed item on screen. */
static void
show_item(struct work *w, struct work_item *it, bool only_skipped)
{
    uint64_t now = work_now_ms();
    uint64_t len = it->expires_ms > now ? it->expires_ms - now : w->lease_ms;

    w->it = *it;
    w->have_item = true;
    w->claimed_ms = now;
    w->lease_len_ms = w->lease_ms > 0 ? w->lease_ms : len;
    w->next_beat_ms = now + w->lease_len_ms / 3;
    w->beat_inflight = w->beat_capped = w->resuming = false;
    w->only_skipped = only_skipped;
    w->pend = WK_NONE;
    w->root_cause[0] = '\0';
    w->phase = PH_ITEM;
    if (only_skipped)
        work_banner(w, "only items you skipped are left: item %" PRIu64 " again", it->id);
    work_ui_item(w);
}

/* Nothing else came: the first held skipped item is shown after all
 * (its lease is still ours), the others go back. */
static void
offer_held(struct work *w)
{
    struct work_item it = w->held[0];

    memmove(&w->held[0], &w->held[1], (w->n_held - 1) * sizeof(w->held[0]));
    w->n_held--;
    release_held(w);
    show_item(w, &it, true);
}

static void
on_claim(hitlq_async *ac, hitlq_reply *r, void *priv)
{
    struct work *w = priv;
    struct work_item it;
    int st;

    if (ac != w->ac)
        return;                             /* a lost connection's CLAIM */
    w->claim_inflight = false;
    if (r == NULL)
        return work_conn_lost(w, ac, "claim");
    st = hitlq_reply_status(r);
    if (w->phase == PH_QUIT && st != HITLQ_ST_OK)
        return work_conn_quit_check(w);
    if (st == HITLQ_ST_EMPTY && w->n_held > 0)
        return offer_held(w);
    if (st == HITLQ_ST_EMPTY) {
        work_claim(w, w->wait_ms);
        return;
    }
    if (st != HITLQ_ST_OK) {
        work_banner(w, "claim refused: %s: %s", hitlq_strerror(st), server_msg(w));
        return work_stop(w, CLI_EXIT_ERR);
    }
    if (work_item_read(&it, hitlq_async_keep(ac)) != 0) {
        work_banner(w, "claim reply without id or lease");
        return work_stop(w, CLI_EXIT_ERR);
    }
    if (w->phase == PH_QUIT) {              /* came while leaving: give it back */
        work_conn_release(w, &it);
        release_held(w);
        return work_conn_quit_check(w);
    }
    if (was_skipped(w, it.id) && w->n_held < WORK_MAX_HELD) {
        w->held[w->n_held++] = it;          /* hold it and look for another */
        work_claim(w, 0);
        return;
    }
    release_held(w);
    show_item(w, &it, was_skipped(w, it.id));
}

int
work_claim(struct work *w, uint32_t wait_ms)
{
    int rc;

    w->phase = w->phase == PH_QUIT ? PH_QUIT : PH_WAIT;
    if (w->ac == NULL) {                    /* offline: the reconnect claims */
        work_ui_refresh(w);
        return 0;
    }
    rc = hitlq_async_claim(w->ac, w->queues, w->nq, w->lease_ms, wait_ms, NULL, on_claim, w);
    w->claim_inflight = rc == HITLQ_OK;
    w->claim_long = wait_ms > 0;
    if (rc != HITLQ_OK) {
        work_banner(w, "claim: %s: %s", hitlq_strerror(rc), server_msg(w));
        work_stop(w, CLI_EXIT_ERR);
        return -1;
    }
    if (wait_ms > 0)
        work_ui_refresh(w);
    return 0;
}

/* ---- heartbeats ---------------------------------------------------------------- */

/* The EXTEND after a reconnect kept the lease: the item is still ours, so
 * a decision whose answer was lost was not applied (a COMMENT may have
 * been: it does not end the lease).  The screen asks again; the line
 * modes, which have no confirm step, send it again. */
static void
resumed(struct work *w)
{
    bool again = w->pend != WK_NONE && w->pend != WK_COMMENT;

    w->resuming = false;
    work_event(w, "resumed", "reconnected: item %" PRIu64 " is still yours%s", w->it.id,
               w->pend == WK_COMMENT ? " (the note may already be saved: see the history; "
                                       "it is kept)"
               : again ? " (the decision was not applied: it is asked again)" : "");
    if (w->pend == WK_COMMENT && w->mode != WORK_TUI) {
        w->pend = WK_NONE;
        w->phase = PH_ITEM;
    }
    if (again && w->mode != WORK_TUI && w->phase == PH_CONFIRM)
        return work_send(w);
    work_ui_refresh(w);
}

static void
on_extend(hitlq_async *ac, hitlq_reply *r, void *priv)
{
    struct work_req *q = priv;
    struct work *w = q->w;
    bool ours = w->have_item && w->it.id == q->id && w->it.lease == q->lease;
    uint64_t exp;
    int st;

    free(q);
    if (ac != w->ac)
        return;                              /* a lost connection's heartbeat */
    if (ours)
        w->beat_inflight = false;
    if (r == NULL)
        return work_conn_lost(w, ac, "heartbeat");
    if (!ours)
        return;                              /* an answer about an item we left */
    st = hitlq_reply_status(r);
    if (st == HITLQ_ST_OK && hitlq_reply_get_u64(r, "expires_ms", &exp)) {
        w->it.expires_ms = exp;
        w->next_beat_ms = work_now_ms() + w->lease_len_ms / 3;
        if (strncmp(w->banner, "heartbeat", 9) == 0 || strncmp(w->banner, "LEASE", 5) == 0)
            w->banner[0] = '\0';
        if (w->resuming)
            return resumed(w);
        work_ui_refresh(w);
        return;
    }
    if (lease_gone(st))
        return lease_lost(w, hitlq_strerror(st), w->resuming && w->pend != WK_NONE ?
                          "after the reconnect (the decision sent before the connection "
                          "dropped may have been applied: see the item's history)" : server_msg(w));
    w->next_beat_ms = work_now_ms() + WORK_RETRY_MS;
    work_banner(w, "heartbeat failed (%s: %s): the lease is not being extended",
                hitlq_strerror(st), server_msg(w));
}

/* A request about the current item, for its reply callback (freed there). */
static struct work_req *
req_new(struct work *w, enum work_kind kind)
{
    struct work_req *q = calloc(1, sizeof(*q));

    if (q != NULL)
        *q = (struct work_req){ .w = w, .id = w->it.id, .lease = w->it.lease, .kind = kind };
    return q;
}

/* Sends EXTEND when due, unless the hold cap is reached. */
static void
heartbeat(struct work *w, uint64_t now)
{
    struct work_req *q;

    if (w->ac == NULL || w->beat_inflight || w->beat_capped || now < w->next_beat_ms)
        return;
    if (w->max_hold_ms > 0 && now - w->claimed_ms >= w->max_hold_ms) {
        w->beat_capped = true;
        work_banner(w, "held for the maximum time (--max-hold): heartbeats stopped");
        return;
    }
    if ((q = req_new(w, WK_NONE)) == NULL ||
        hitlq_async_extend(w->ac, w->it.id, w->it.lease, (uint32_t)w->lease_len_ms,
                           on_extend, q) != HITLQ_OK) {
        free(q);
        w->next_beat_ms = now + WORK_RETRY_MS;
        return;
    }
    w->beat_inflight = true;
}

void
work_beat_now(struct work *w)
{
    w->next_beat_ms = 0;
    if (w->beat_capped)                      /* max hold: only the local countdown */
        w->resuming = false;
    heartbeat(w, work_now_ms());
}

void
work_tick(struct work *w)
{
    uint64_t now = work_now_ms(), warn;
    char rel[48];

    if (!w->have_item || w->phase == PH_BUSY || w->phase == PH_QUIT) {
        work_ui_refresh(w);
        return;
    }
    heartbeat(w, now);
    if (now < w->it.expires_ms && w->ac == NULL) {
        work_ui_refresh(w);                  /* offline: the reconnect banner stays */
        return;
    }
    warn = w->lease_len_ms / 2 < WORK_WARN_MAX_MS ? w->lease_len_ms / 2 : WORK_WARN_MAX_MS;
    if (now >= w->it.expires_ms && !w->beat_inflight)
        return lease_lost(w, "lease_expired", "the lease ran out on this clock; "
                          "the item went back to its queue and an attempt was counted");
    if (w->it.expires_ms - now <= warn)
        work_banner(w, "LEASE EXPIRES %s: decide now or item %" PRIu64
                    " goes back to its queue (attempt counted)",
                    work_relative(w->it.expires_ms, now, rel, sizeof(rel)), w->it.id);
    work_ui_refresh(w);
}

/* ---- decisions ------------------------------------------------------------------ */

static const char *
kind_event(int kind)
{
    switch (kind) {
    case WK_RESOLVE:  return "resolved";
    case WK_ESCALATE: return "escalated";
    case WK_RELEASE:  return "released";
    case WK_SKIP:     return "skipped";
    case WK_COMMENT:  return "noted";
    default:          return "released";     /* WK_QUIT */
    }
}

/* The decision's reply came with status ok. */
static void
decided(struct work *w, const struct work_req *q, hitlq_reply *r)
{
    uint64_t seq = 0;

    if (q->with_note)
        work_notes_done(w);
    if (q->kind == WK_COMMENT) {
        w->phase = PH_ITEM;
        work_event(w, "noted", "item %" PRIu64 ": note saved on the server", q->id);
        work_ui_refresh(w);
        return;
    }
    if (q->kind == WK_SKIP && w->n_skipped < WORK_MAX_SKIPPED)
        w->skipped[w->n_skipped++] = q->id;
    if (q->kind == WK_RESOLVE || q->kind == WK_ESCALATE)
        w->decided++;
    hitlq_reply_get_u64(r, "seq", &seq);
    work_event(w, kind_event(q->kind), "item %" PRIu64 ": %s%s%s", q->id, kind_event(q->kind),
               w->pend_arg[0] && (q->kind == WK_RESOLVE || q->kind == WK_ESCALATE) ? " " : "",
               q->kind == WK_RESOLVE || q->kind == WK_ESCALATE ? w->pend_arg : "");
    work_item_clear(&w->it);
    w->have_item = false;
    w->pend = WK_NONE;
    if (q->kind == WK_QUIT || w->quit_after || (w->mode != WORK_TUI && !work_line_more(w)))
        work_stop(w, w->exit_code);
    else
        work_claim(w, w->wait_ms);
}

static void
on_decision(hitlq_async *ac, hitlq_reply *r, void *priv)
{
    struct work_req *q = priv;
    struct work *w = q->w;
    int st;

    if (r == NULL || ac != w->ac) {
        const char *what = kind_event(q->kind);

        free(q);
        return work_conn_lost(w, ac, what);
    }
    st = hitlq_reply_status(r);
    if (st == HITLQ_ST_OK) {
        decided(w, q, r);
    } else if (lease_gone(st) && q->kind != WK_COMMENT) {
        if (q->kind == WK_QUIT) {
            work_item_clear(&w->it);
            w->have_item = false;
            work_stop(w, w->exit_code);
        } else {
            lease_lost(w, hitlq_strerror(st), server_msg(w));
        }
    } else if (q->kind == WK_QUIT) {          /* leaving anyway: the lease will lapse */
        work_banner(w, "release refused: %s: %s", hitlq_strerror(st), server_msg(w));
        work_stop(w, CLI_EXIT_ERR);
    } else {                                  /* refused: nothing changed, lease kept */
        w->phase = PH_ITEM;
        w->quit_after = false;
        work_banner(w, "%s refused: %s: %s%s", kind_event(q->kind), hitlq_strerror(st),
                    server_msg(w), q->with_note ? " (your note is kept)" : "");
        work_ui_refresh(w);
    }
    free(q);
}

/* Packs COMMENT {id, note} and sends it. */
static int
send_comment(struct work *w, struct work_req *q)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    int rc;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "id", 2);
    msgpack_pack_uint64(&pk, q->id);
    msgpack_pack_str_with_body(&pk, "note", 4);
    msgpack_pack_str_with_body(&pk, w->note, w->note_len);
    rc = hitlq_async_call(w->ac, HITLQ_OP_COMMENT, sb.data, sb.size, on_decision, q);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

void
work_send(struct work *w)
{
    struct work_req *q = req_new(w, w->pend);
    const char *note = NULL, *rc_tag = w->root_cause[0] ? w->root_cause : NULL;
    int rc = HITLQ_ENOMEM;

    if (w->ac == NULL) {                       /* reconnecting: ask again later */
        free(q);
        w->phase = w->have_item && w->pend != WK_QUIT ? PH_CONFIRM : PH_ITEM;
        work_banner(w, "not connected (reconnecting...): %s not sent; confirm again once "
                    "connected", kind_event(w->pend));
        return;
    }
    if (q == NULL || !w->have_item)
        goto fail;
    if (w->note_len > 0 && w->note_item == w->it.id) {
        note = w->note;
        q->with_note = w->pend == WK_RESOLVE || w->pend == WK_ESCALATE || w->pend == WK_COMMENT;
    }
    w->phase = PH_BUSY;
    switch (w->pend) {
    case WK_RESOLVE:
        rc = hitlq_async_resolve(w->ac, q->id, q->lease, w->pend_arg, note, rc_tag, on_decision, q);
        break;
    case WK_ESCALATE:
        rc = hitlq_async_escalate(w->ac, q->id, q->lease, w->pend_arg, note, on_decision, q);
        break;
    case WK_COMMENT:
        rc = note != NULL ? send_comment(w, q) : HITLQ_EINVAL;
        break;
    default:                                   /* release, skip, quit */
        rc = hitlq_async_release(w->ac, q->id, q->lease, 0, on_decision, q);
        break;
    }
    if (rc == HITLQ_OK) {
        work_ui_refresh(w);
        return;
    }
fail:
    free(q);
    w->phase = w->have_item ? PH_ITEM : PH_WAIT;
    work_banner(w, "%s not sent: %s: %s", kind_event(w->pend), hitlq_strerror(rc), server_msg(w));
}

void
work_quit(struct work *w)
{
    if (w->phase == PH_BUSY) {               /* after the decision's answer */
        w->quit_after = true;
        return;
    }
    if (w->have_item && w->ac != NULL) {
        w->pend = WK_QUIT;
        work_send(w);
        w->phase = PH_QUIT;
        return;
    }
    /* Waiting for work (or offline): held skipped items and an item the
     * CLAIM in flight brings are released first (work_conn.c). */
    work_conn_quit(w);
}
