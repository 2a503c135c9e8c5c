/*
 * hitlq_libevent.h - attaches an asynchronous libhitlq context
 * (include/hitlq_async.h) to a libevent `struct event_base`: header-only
 * (static inline), as hiredis's adapters/libevent.h.  Include it after
 * <event2/event.h> is on the include path and link libevent.
 *
 *   hitlq_async *ac = hitlq_async_connect(&opt);
 *   if (hitlq_async_err(ac) == HITLQ_OK && hitlq_libevent_attach(ac, base) == HITLQ_OK)
 *       ... queue requests; event_base_dispatch(base);
 *
 * The adapter's events are freed when the connection ends or the context
 * is freed (the cleanup hook), also when that happens inside one of its
 * own callbacks.  Other events (stdin, timers for heartbeats) share the
 * base as usual.
 */
#ifndef HITLQ_LIBEVENT_H
#define HITLQ_LIBEVENT_H

#include <stdbool.h>
#include <stdlib.h>

#include <event2/event.h>

#include "hitlq_async.h"

struct hitlq_libevent {
    hitlq_async  *ac;
    struct event *rev, *wev;
    bool          in_callback;   /* a hitlq_async_handle_* call is running */
    bool          dead;          /* cleanup came during it: free after */
};

static inline void
hitlq_libevent_free_(struct hitlq_libevent *e)
{
    event_free(e->rev);
    event_free(e->wev);
    free(e);
}

/* The event callback: runs the library, then frees the adapter if the
 * library let go of it meanwhile. */
static inline void
hitlq_libevent_on_event_(evutil_socket_t fd, short what, void *arg)
{
    struct hitlq_libevent *e = (struct hitlq_libevent *)arg;

    (void)fd;
    e->in_callback = true;
    if ((what & EV_READ) && !e->dead)
        hitlq_async_handle_read(e->ac);
    if ((what & EV_WRITE) && !e->dead)
        hitlq_async_handle_write(e->ac);
    e->in_callback = false;
    if (e->dead)
        hitlq_libevent_free_(e);
}

static inline void
hitlq_libevent_add_read_(void *p)
{
    event_add(((struct hitlq_libevent *)p)->rev, NULL);
}

static inline void
hitlq_libevent_del_read_(void *p)
{
    event_del(((struct hitlq_libevent *)p)->rev);
}

static inline void
hitlq_libevent_add_write_(void *p)
{
    event_add(((struct hitlq_libevent *)p)->wev, NULL);
}

static inline void
hitlq_libevent_del_write_(void *p)
{
    event_del(((struct hitlq_libevent *)p)->wev);
}

static inline void
hitlq_libevent_cleanup_(void *p)
{
    struct hitlq_libevent *e = (struct hitlq_libevent *)p;

    event_del(e->rev);
    event_del(e->wev);
    e->dead = true;
    if (!e->in_callback)
        hitlq_libevent_free_(e);
}

/* Attaches ac to base.  HITLQ_OK, HITLQ_ENOMEM, or hitlq_async_attach's
 * codes (HITLQ_EINVAL: already attached; HITLQ_ECLOSED). */
static inline int
hitlq_libevent_attach(hitlq_async *ac, struct event_base *base)
{
    struct hitlq_libevent *e = (struct hitlq_libevent *)calloc(1, sizeof(*e));
    hitlq_async_ev ev;
    int fd = hitlq_async_fd(ac), rc;

    if (e == NULL)
        return HITLQ_ENOMEM;
    e->ac = ac;
    e->rev = event_new(base, fd, EV_READ | EV_PERSIST, hitlq_libevent_on_event_, e);
    e->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, hitlq_libevent_on_event_, e);
    if (e->rev == NULL || e->wev == NULL) {
        hitlq_libevent_free_(e);
        return HITLQ_ENOMEM;
    }
    ev.data = e;
    ev.add_read = hitlq_libevent_add_read_;
    ev.del_read = hitlq_libevent_del_read_;
    ev.add_write = hitlq_libevent_add_write_;
    ev.del_write = hitlq_libevent_del_write_;
    ev.cleanup = hitlq_libevent_cleanup_;
    if ((rc = hitlq_async_attach(ac, &ev)) != HITLQ_OK)
        hitlq_libevent_free_(e);
    return rc;
}

#endif /* HITLQ_LIBEVENT_H */
