/*
 * work_conn.c - `hitlq work`'s server connection: opening it, losing it
 * without ending the session (a restarted hitlqd: "reconnecting..." with
 * a doubling backoff; the item on screen, the decision waiting for its
 * confirmation and the typed note are kept; once connected again an
 * EXTEND re-takes the item with its lease, or the next item is claimed),
 * and quitting with every lease given back (held skipped items, an item a
 * CLAIM in flight brings) before the loop stops.
 */
#include <inttypes.h>
#include <string.h>

#include <event2/event.h>

#include "hitlq_libevent.h"
#include "work.h"

#define RETRY_FIRST_MS 250           /* first reconnect attempt after the loss */
#define RETRY_MAX_MS   5000          /* the backoff's cap */
#define QUIT_GRACE_MS  2000          /* wait for release replies / a CLAIM's answer */
#define QUIT_PARK_MS   300           /* ... for a long-poll CLAIM that may be parked */

static void
on_disconnect(hitlq_async *ac, int status, void *priv)
{
    work_conn_lost(priv, ac, "connection");
}

int
work_conn_open(struct work *w)
{
    char sk[HITLQ_ED25519_KEY_LEN + 8];
    hitlq_options o;
    hitlq_async *ac;

    w->ac = NULL;
    if (cli_options(w->cl, &o, sk, sizeof(sk)) != CLI_EXIT_OK) {
        snprintf(w->status, sizeof(w->status), "bad connection options");
        return -1;
    }
    ac = hitlq_async_connect(&o);
    explicit_bzero(sk, sizeof(sk));
    if (ac == NULL || hitlq_async_err(ac) != HITLQ_OK ||
        hitlq_libevent_attach(ac, w->base) != HITLQ_OK) {
        snprintf(w->status, sizeof(w->status), "%s: %s",
                 hitlq_strerror(ac ? hitlq_async_err(ac) : HITLQ_ENOMEM),
                 ac ? hitlq_async_errstr(ac) : "");
        hitlq_async_free(ac);
        return -1;
    }
    hitlq_async_set_disconnect_cb(ac, on_disconnect, w);
    w->ac = ac;
    return 0;
}

/* Shows the reconnect banner and arms the timer for the next attempt. */
static void
retry_later(struct work *w, const char *why)
{
    struct timeval tv = { w->retry_ms / 1000, (w->retry_ms % 1000) * 1000 };

    work_banner(w, "reconnecting... connection lost during %s (%s); attempt %u in %.1f s%s",
                w->lost_what, why, w->retries + 1, w->retry_ms / 1000.0,
                w->note_len > 0 ? "; your note is kept" : "");
    evtimer_add(w->retry_ev, &tv);
}

/* Connected again: re-take the item on screen, or claim the next. */
static void
resume(struct work *w)
{
    w->retries = 0;
    w->retry_ms = RETRY_FIRST_MS;
    w->banner[0] = '\0';
    if (w->have_item && w->phase != PH_QUIT) {
        w->resuming = true;
        work_event(w, "reconnected", "reconnected: checking that item %" PRIu64
                   " is still yours", w->it.id);
        work_beat_now(w);
        return;
    }
    work_event(w, "reconnected", "reconnected");
    work_claim(w, w->wait_ms);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
    struct work *w = arg;

    w->retries++;
    if (work_conn_open(w) == 0)
        return resume(w);
    if (w->retry_ms < RETRY_MAX_MS)
        w->retry_ms = w->retry_ms * 2 < RETRY_MAX_MS ? w->retry_ms * 2 : RETRY_MAX_MS;
    retry_later(w, w->status);
}

void
work_conn_lost(struct work *w, hitlq_async *ac, const char *what)
{
    char why[256];

    if (w->closing || ac != w->ac || ac == NULL)
        return;                     /* an old context's pending calls, or leaving */
    snprintf(why, sizeof(why), "%s", hitlq_strerror(hitlq_async_err(ac)));
    hitlq_async_free(ac);           /* deferred to the end of this callback */
    w->ac = NULL;
    w->beat_inflight = w->claim_inflight = w->resuming = false;
    if (w->phase == PH_QUIT) {      /* leaving anyway: the leases will lapse */
        work_banner(w, "connection lost while quitting (%s): leases held lapse at expiry", why);
        return work_stop(w, w->exit_code);
    }
    if (w->phase == PH_BUSY)        /* unknown whether it was applied: ask again */
        w->phase = w->pend != WK_NONE ? PH_CONFIRM : PH_ITEM;
    if (w->retry_ev == NULL &&
        (w->retry_ev = evtimer_new(w->base, on_retry, w)) == NULL) {
        work_banner(w, "connection lost during %s: %s", what, why);
        return work_stop(w, CLI_EXIT_ERR);
    }
    snprintf(w->lost_what, sizeof(w->lost_what), "%s", what);
    w->retries = 0;
    w->retry_ms = RETRY_FIRST_MS;
    retry_later(w, why);
    work_ui_refresh(w);
}

/* ---- quitting ------------------------------------------------------------------- */

static void
on_quit_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct work *w = arg;

    work_banner(w, "quit: no answer within %d ms; a lease not released lapses at expiry",
                QUIT_GRACE_MS);
    work_stop(w, w->exit_code);
}

void
work_conn_quit_check(struct work *w)
{
    if (w->phase == PH_QUIT && w->quit_waits == 0 && !w->claim_inflight)
        work_stop(w, w->exit_code);
}

void
work_conn_quit_done(struct work *w)
{
    if (w->quit_waits > 0)
        w->quit_waits--;
    work_conn_quit_check(w);
}

static void
on_quit_release(hitlq_async *ac, hitlq_reply *r, void *priv)
{
    work_conn_quit_done(priv);
}

void
work_conn_release(struct work *w, struct work_item *it)
{
    bool quitting = w->phase == PH_QUIT;

    if (w->ac != NULL &&
        hitlq_async_release(w->ac, it->id, it->lease, 0, quitting ? on_quit_release : NULL,
                            w) == HITLQ_OK && quitting)
        w->quit_waits++;
    work_item_clear(it);
}

void
work_conn_quit(struct work *w)
{
    struct timeval tv = { QUIT_GRACE_MS / 1000, (QUIT_GRACE_MS % 1000) * 1000 };
    size_t i;

    w->phase = PH_QUIT;
    if (w->ac == NULL) {
        work_banner(w, "quit while not connected: leases held lapse at expiry");
        return work_stop(w, w->exit_code);
    }
    for (i = 0; i < w->n_held; i++)
        work_conn_release(w, &w->held[i]);
    w->n_held = 0;
    if (w->quit_waits == 0 && !w->claim_inflight)
        return work_stop(w, w->exit_code);
    /* a parked CLAIM dies with the connection (the server cancels it); one
     * answered meanwhile is given back by on_claim: a long poll gets a short
     * grace (it is usually parked), releases and a no-wait CLAIM the full one */
    if (w->quit_waits == 0 && w->claim_long)
        tv = (struct timeval){ 0, QUIT_PARK_MS * 1000 };
    if (w->quit_ev == NULL)
        w->quit_ev = evtimer_new(w->base, on_quit_timeout, w);
    if (w->quit_ev == NULL || evtimer_add(w->quit_ev, &tv) != 0)
        work_stop(w, w->exit_code);
    work_ui_refresh(w);
}

void
work_conn_close(struct work *w)
{
    if (w->retry_ev != NULL)
        event_free(w->retry_ev);
    if (w->quit_ev != NULL)
        event_free(w->quit_ev);
    w->retry_ev = w->quit_ev = NULL;
}
