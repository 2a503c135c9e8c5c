/*
 * conn.c - client connections on libevent bufferevents: framed input with
 * the header checked before the body is buffered, flow control by explicit
 * EV_READ disable/enable (never read watermarks: see docs/RELIABILITY.md §2.8),
 * replies, and deferred free through reference counts.  With TLS the
 * bufferevent is libevent's OpenSSL socket variant (never the filter one,
 * libevent #952), with a handshake deadline of its own.  Complete frames,
 * closes and drained output go to the owner through net->hooks.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conn.h"
#include "frame.h"
#include "log.h"
#include "net.h"
#include "tls.h"
#include "util.h"
#include "wire.h"

static const char *const conn_state_names[] = { "new", "ready", "closing", "closed",
                                                 "challenged" };

static void conn_on_read(struct bufferevent *bev, void *arg);
static void conn_on_write(struct bufferevent *bev, void *arg);
static void conn_on_event(struct bufferevent *bev, short what, void *arg);
static unsigned conn_process_input(struct conn *c);
static void conn_on_frame_timeout(evutil_socket_t fd, short what, void *arg);
static void conn_on_stall_timeout(evutil_socket_t fd, short what, void *arg);
static void conn_on_hs_timeout(evutil_socket_t fd, short what, void *arg);
static void conn_on_hello_timeout(evutil_socket_t fd, short what, void *arg);
static void conn_on_idle_check(evutil_socket_t fd, short what, void *arg);

static void
conn_arm(struct event *ev, uint64_t ms)
{
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };

    if (!evtimer_pending(ev, NULL))
        evtimer_add(ev, &tv);
}

void
conn_set_state(struct conn *c, enum conn_state st)
{
    if (c->state == st)
        return;
    log_debug("conn %s: %s -> %s", c->peer, conn_state_names[c->state],
              conn_state_names[st]);
    c->state = st;
    if (st == CONN_READY)
        c->preauth = false;          /* out of the unauthenticated budget */
    if (st == CONN_READY && c->hello_ev != NULL) {     /* HELLO done in time */
        event_free(c->hello_ev);
        c->hello_ev = NULL;
    }
}

bool
conn_is_open(const struct conn *c)
{
    return c->bev != NULL &&
           (c->state == CONN_NEW || c->state == CONN_READY || c->state == CONN_CHALLENGED);
}

void
conn_addr_str(const struct sockaddr *sa, char out[48])
{
    snprintf(out, 48, "?");
    if (sa->sa_family == AF_INET)
        evutil_inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, 48);
    else if (sa->sa_family == AF_INET6)
        evutil_inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, 48);
}

static void
conn_peer_name(struct conn *c, const struct sockaddr *sa)
{
    char host[48] = "?";
    unsigned port = 0;

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        evutil_inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        evutil_inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
    }
    snprintf(c->peer, sizeof(c->peer), "%s:%u", host, port);
}

/* The connection's bufferevent: a plain socket one, or the server side of
 * a TLS session when the listener has a context.  Takes fd: on failure it
 * is closed and NULL returned. */
static struct bufferevent *
conn_bev_new(struct net *n, evutil_socket_t fd)
{
    struct bufferevent *bev;
    SSL *ssl;

    if (n->tls_ctx == NULL) {
        bev = bufferevent_socket_new(n->base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (bev == NULL)
            evutil_closesocket(fd);
        return bev;
    }
    ssl = SSL_new(n->tls_ctx);          /* holds a ref to the current ctx */
    if (ssl == NULL) {
        ERR_clear_error();
        evutil_closesocket(fd);
        return NULL;
    }
    /* CLOSE_ON_FREE: the bufferevent owns ssl and fd.  When it cannot be
     * made, libevent 2.1.12 has freed ssl but left fd open. */
    bev = bufferevent_openssl_socket_new(n->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        evutil_closesocket(fd);
        return NULL;
    }
    /* A client that closes without close_notify has just gone (EOF). */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

/* Frees what conn_new made of c before it failed, and c. */
static void
conn_free_parts(struct conn *c)
{
    if (c->bev)
        bufferevent_free(c->bev);
    if (c->frame_ev)
        event_free(c->frame_ev);
    if (c->stall_ev)
        event_free(c->stall_ev);
    if (c->hs_ev)
        event_free(c->hs_ev);
    if (c->hello_ev)
        event_free(c->hello_ev);
    if (c->idle_ev)
        event_free(c->idle_ev);
    free(c);
}

struct conn *
conn_new(struct net *n, evutil_socket_t fd, const struct sockaddr *sa, int salen)
{
    const struct hitlq_config *cfg = n->cfg;
    struct conn *c = calloc(1, sizeof(*c));
    int one = 1, lowat = CONN_NOTSENT_LOWAT;

    (void)salen;
    if (c == NULL) {
        evutil_closesocket(fd);
        return NULL;
    }
    c->bev = conn_bev_new(n, fd);
    c->frame_ev = evtimer_new(n->base, conn_on_frame_timeout, c);
    c->stall_ev = evtimer_new(n->base, conn_on_stall_timeout, c);
    if (n->tls_ctx != NULL)
        c->hs_ev = evtimer_new(n->base, conn_on_hs_timeout, c);
    c->hello_ev = evtimer_new(n->base, conn_on_hello_timeout, c);
    if (cfg->idle_timeout_ms > 0)
        c->idle_ev = event_new(n->base, -1, EV_PERSIST, conn_on_idle_check, c);
    if (c->bev == NULL || c->frame_ev == NULL || c->stall_ev == NULL ||
        (n->tls_ctx != NULL && c->hs_ev == NULL) || c->hello_ev == NULL ||
        (cfg->idle_timeout_ms > 0 && c->idle_ev == NULL)) {
        conn_free_parts(c);
        return NULL;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
    if (c->hs_ev != NULL)
        conn_arm(c->hs_ev, cfg->handshake_timeout_ms);
    conn_arm(c->hello_ev, cfg->hello_timeout_ms);
    if (c->idle_ev != NULL)
        conn_arm(c->idle_ev, cfg->idle_timeout_ms / 2 + 1);
    c->last_frame_ms = util_now_ms();
    conn_addr_str(sa, c->ip);
    c->net = n;
    c->srv = n->owner;
    c->refs = 1;
    c->state = CONN_NEW;
    c->preauth = true;
    snprintf(c->name, sizeof(c->name), "anonymous");
    conn_peer_name(c, sa);
    msgpack_zone_init(&c->zone, 4096);
    bufferevent_setcb(c->bev, conn_on_read, conn_on_write, conn_on_event, c);
    bufferevent_setwatermark(c->bev, EV_WRITE, CONN_OUT_PAUSE / 2, 0);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->reading = true;
    c->next = n->conns;
    if (n->conns)
        n->conns->prev = c;
    n->conns = c;
    n->n_conns++;
    log_debug("conn %s: accepted", c->peer);
    return c;
}

void
conn_ref(struct conn *c)
{
    c->refs++;
}

void
conn_unref(struct conn *c)
{
    if (--c->refs > 0)
        return;
    msgpack_zone_destroy(&c->zone);
    free(c);
}

void
conn_close(struct conn *c)
{
    struct net *n = c->net;

    if (c->bev == NULL)
        return;
    conn_set_state(c, CONN_CLOSED);
    bufferevent_free(c->bev);
    c->bev = NULL;
    event_free(c->frame_ev);
    event_free(c->stall_ev);
    if (c->hs_ev != NULL)
        event_free(c->hs_ev);
    if (c->hello_ev != NULL)
        event_free(c->hello_ev);
    if (c->idle_ev != NULL)
        event_free(c->idle_ev);
    c->frame_ev = c->stall_ev = c->hs_ev = c->hello_ev = c->idle_ev = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        n->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    n->n_conns--;
    if (n->hooks.on_close != NULL)
        n->hooks.on_close(c);      /* the owner drops what waits on c */
    conn_unref(c);                 /* the socket's reference */
}

static size_t
conn_outlen(const struct conn *c)
{
    return evbuffer_get_length(bufferevent_get_output(c->bev));
}

void
conn_flush_out(struct conn *c)
{
    struct net *n = c->net;

    if (c->bev != NULL && c->state != CONN_CLOSED) {
        bufferevent_write(c->bev, n->out->data, n->out->size);
        if (conn_outlen(c) > HITLQ_MAX_OUTBUF && !c->stall_cap) {
            c->stall_cap = true;          /* the cap's deadline starts now */
            c->stall_out = conn_outlen(c);
            evtimer_del(c->stall_ev);
            conn_arm(c->stall_ev, n->cfg->slow_reader_timeout_ms);
        }
    }
    msgpack_sbuffer_clear(n->out);
}

/* The close of c after a fatal status: one info line per connection once
 * authenticated; before that a rate-limited summary ("preauth_closed":
 * random bytes from many peers make thousands a second). */
static void
conn_log_fatal(const struct conn *c, int status, const char *message)
{
    char safe[200];

    if (c->preauth) {
        net_log_preauth_closed(&c->net->log, c->peer, hitlq_status_str(status), message);
        return;
    }
    log_sanitize(safe, sizeof(safe), message, strlen(message));
    log_info("conn %s: closing after %s: %s", c->peer, hitlq_status_str(status), safe);
}

void
conn_send_error(struct conn *c, uint8_t opcode, uint32_t request_id,
                int status, const char *message)
{
    struct net *n = c->net;

    msgpack_sbuffer_clear(n->out);
    wire_pack_error(n->out, n->pk, opcode, (uint16_t)status, request_id, message);
    conn_flush_out(c);
    if (hitlq_status_is_fatal(status))
        conn_close_flushed(c, status, message);
}

void
conn_close_flushed(struct conn *c, int status, const char *message)
{
    if (c->bev == NULL)
        return;
    conn_log_fatal(c, status, message ? message : "");
    conn_set_state(c, CONN_CLOSING);
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    bufferevent_disable(c->bev, EV_READ);
    c->reading = false;
    if (conn_outlen(c) == 0)
        conn_close(c);
}

static bool
conn_may_read(const struct conn *c)
{
    return c->inflight < HITLQ_MAX_INFLIGHT && conn_outlen(c) < CONN_OUT_PAUSE;
}

/* Reading of c stops (conn_may_read is false): when that is for its
 * unsent replies, the slow-reader deadline starts, with the output's size
 * as the reference its progress is measured against. */
static void
conn_pause(struct conn *c)
{
    bufferevent_disable(c->bev, EV_READ);
    c->reading = false;
    if (conn_outlen(c) >= CONN_OUT_PAUSE && !evtimer_pending(c->stall_ev, NULL)) {
        c->stall_out = conn_outlen(c);
        conn_arm(c->stall_ev, c->net->cfg->slow_reader_timeout_ms);
    }
}

/* Reading was disabled explicitly (no read watermarks: with TLS they can
 * stall or spin, libevent #690/#854/#891).  With TLS nothing is left
 * inside OpenSSL meanwhile: before calling us, libevent moved every
 * decrypted byte (SSL_pending) into the input evbuffer, so processing
 * that buffer here is what bufferevent_trigger(EV_READ) would do. */
static void
conn_resume(struct conn *c)
{
    if (!conn_is_open(c) || c->reading || c->queued || !conn_may_read(c))
        return;
    bufferevent_enable(c->bev, EV_READ);
    c->reading = true;
    (void)conn_process_input(c);    /* frames already buffered */
}

void
conn_request_done(struct conn *c)
{
    if (c->inflight > 0)
        c->inflight--;
    conn_resume(c);
}

/* Reads one frame if complete.  Returns true when a frame was handled and
 * the loop may continue. */
static bool
conn_read_frame(struct conn *c, struct evbuffer *in)
{
    uint8_t hb[HITLQ_FRAME_HDR_LEN];
    struct frame_hdr h;
    uint32_t max = c->state != CONN_READY ? HITLQ_MAX_FRAME_PREAUTH : HITLQ_MAX_FRAME;
    size_t avail = evbuffer_get_length(in), total;
    const uint8_t *p;
    int st;

    if (avail < HITLQ_FRAME_HDR_LEN)
        return false;
    if (c->idle_ev != NULL)
        c->last_frame_ms = util_now_ms();
    evbuffer_copyout(in, hb, sizeof(hb));
    st = frame_hdr_decode(hb, max, &h);
    if (st != HITLQ_ST_OK) {
        conn_send_error(c, h.opcode, h.request_id, st,
                        st == HITLQ_ST_FRAME_TOO_LARGE ? "frame body exceeds the limit"
                                                       : "bad magic in frame header");
        return false;
    }
    total = HITLQ_FRAME_HDR_LEN + (size_t)h.body_len;
    if (avail < total)
        return false;
    p = evbuffer_pullup(in, (ev_ssize_t)total);
    if (p == NULL) {
        conn_close(c);
        return false;
    }
    c->net->hooks.on_frame(c, &h, p + HITLQ_FRAME_HDR_LEN);
    msgpack_zone_clear(&c->zone);
    if (c->bev == NULL)
        return false;
    evbuffer_drain(in, total);
    return true;
}

/* Stops reading c until its turn in the backlog (next loop pass). */
static void
conn_defer(struct conn *c)
{
    struct net *n = c->net;
    static const struct timeval now = { 0, 0 };

    bufferevent_disable(c->bev, EV_READ);
    c->reading = false;
    if (c->queued)
        return;
    conn_ref(c);                     /* the backlog's reference */
    c->queued = true;
    c->rr_next = NULL;
    if (n->backlog_tail != NULL)
        n->backlog_tail->rr_next = c;
    else
        n->backlog = c;
    n->backlog_tail = c;
    /* a timer, not event_active: it fires after the next poll, so every
     * socket that became readable meanwhile gets its turn first */
    if (!evtimer_pending(n->backlog_ev, NULL))
        evtimer_add(n->backlog_ev, &now);
}

/* Frames of c's current go answered at once: those handled (done) less
 * those still waiting for a commit (in flight since the go began, bounded
 * by HITLQ_MAX_INFLIGHT: the group commit wants them all in one pass). */
static unsigned
conn_answered(const struct conn *c, uint32_t inflight0, unsigned done)
{
    uint32_t parked = c->inflight > inflight0 ? c->inflight - inflight0 : 0;

    return done > parked ? done - (unsigned)parked : 0;
}

/* Handles c's buffered frames until CONN_FRAMES_PER_PASS of them were
 * answered at once; more wait in the backlog (one connection's pipeline
 * never takes the loop).  Reading pauses while c is over its in-flight or
 * output cap.  Returns the number of frames answered at once. */
static unsigned
conn_process_input(struct conn *c)
{
    bool paused = false;
    uint32_t inflight0 = c->inflight;
    unsigned done = 0, answered = 0;

    conn_ref(c);
    while (conn_is_open(c)) {
        if (!conn_may_read(c)) {
            conn_pause(c);
            paused = true;
            break;
        }
        if (answered >= CONN_FRAMES_PER_PASS) {
            if (evbuffer_get_length(bufferevent_get_input(c->bev)) >= HITLQ_FRAME_HDR_LEN) {
                conn_defer(c);
                paused = true;
            }
            break;
        }
        if (!conn_read_frame(c, bufferevent_get_input(c->bev)))
            break;
        answered = conn_answered(c, inflight0, ++done);
    }
    if (conn_is_open(c) && !paused && !c->reading) {     /* back from the backlog */
        bufferevent_enable(c->bev, EV_READ);
        c->reading = true;
    }
    /* A frame the client started must be finished in time (slowloris);
     * while we pause reading, the wait is ours, not the client's. */
    if (conn_is_open(c)) {
        if (!paused && evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
            conn_arm(c->frame_ev, c->net->cfg->frame_timeout_ms);
        else
            evtimer_del(c->frame_ev);
    }
    conn_unref(c);
    return answered;
}

void
conn_run_backlog(evutil_socket_t fd, short what, void *arg)
{
    static const struct timeval now = { 0, 0 };
    struct net *n = arg;
    struct conn *c;
    unsigned frames = 0;

    (void)fd;
    (void)what;
    /* round after round (a connection re-queued by its go goes to the
     * tail), until CONN_FRAMES_PER_RUN frames were answered: a lone
     * pipeliner gets several goes a run, many get one each in turn */
    while ((c = n->backlog) != NULL && frames < CONN_FRAMES_PER_RUN) {
        n->backlog = c->rr_next;
        if (n->backlog == NULL)
            n->backlog_tail = NULL;
        c->rr_next = NULL;
        c->queued = false;
        if (conn_is_open(c))
            frames += conn_process_input(c);
        conn_unref(c);
    }
    if (n->backlog == NULL)
        evtimer_del(n->backlog_ev);          /* armed by a go of this run */
    else if (!evtimer_pending(n->backlog_ev, NULL))
        evtimer_add(n->backlog_ev, &now);
}

void
conn_backlog_clear(struct net *n)
{
    struct conn *c = n->backlog, *next;

    n->backlog = n->backlog_tail = NULL;
    for (; c != NULL; c = next) {
        next = c->rr_next;
        c->rr_next = NULL;
        c->queued = false;
        conn_unref(c);
    }
}

static void
conn_on_frame_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    char msg[96];

    (void)fd;
    (void)what;
    if (!conn_is_open(c) || !c->reading)
        return;
    snprintf(msg, sizeof(msg), "frame not completed within %llu ms",
             (unsigned long long)c->net->cfg->frame_timeout_ms);
    conn_send_error(c, 0, 0, HITLQ_ST_BAD_FRAME, msg);
}

/* Slow reader: closes c when its unsent replies stayed over the cap
 * (HITLQ_MAX_OUTBUF, not back to half) for slow_reader_timeout_ms, or
 * when reading is paused for them (CONN_OUT_PAUSE) and they did not shrink
 * over that time; a reader that took some gets another period. */
static void
conn_on_stall_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    size_t len;
    bool stuck;

    (void)fd;
    (void)what;
    if (c->bev == NULL)
        return;
    len = conn_outlen(c);
    stuck = c->stall_cap && len > HITLQ_MAX_OUTBUF / 2;
    c->stall_cap = false;
    if (!stuck && (c->reading || len < CONN_OUT_PAUSE))
        return;                            /* drained: reading resumed */
    if (!stuck && len < c->stall_out) {    /* it took some: another period */
        c->stall_out = len;
        conn_arm(c->stall_ev, c->net->cfg->slow_reader_timeout_ms);
        return;
    }
    log_info("conn %s: not reading its replies (%zu bytes unsent); disconnecting",
             c->peer, len);
    conn_close(c);
}

/* TLS: the handshake did not finish in time (a stalled or slow client
 * holds a connection slot; nothing can be sent to it yet). */
static void
conn_on_hs_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    (void)fd;
    (void)what;
    log_info("conn %s: TLS handshake not finished within %llu ms; closing", c->peer,
             (unsigned long long)c->net->cfg->handshake_timeout_ms);
    conn_close(c);
}

/* HELLO (and authentication) not done in time: slowloris before auth. */
static void
conn_on_hello_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    (void)fd;
    (void)what;
    log_info("conn %s: no successful HELLO within %llu ms; closing", c->peer,
             (unsigned long long)c->net->cfg->hello_timeout_ms);
    conn_close(c);
}

/* Every idle_timeout/2: closes a connection that sent nothing for
 * idle_timeout_ms and waits for nothing (no request in flight, nothing of
 * the owner's holding a reference: a parked request, a subscription). */
static void
conn_on_idle_check(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    uint64_t now = util_now_ms();

    (void)fd;
    (void)what;
    if (c->inflight > 0 || c->refs > 1 ||
        now - c->last_frame_ms < c->net->cfg->idle_timeout_ms)
        return;
    log_info("conn %s: idle for %llu ms; closing", c->peer,
             (unsigned long long)(now - c->last_frame_ms));
    conn_close(c);
}

/* TLS handshake done: stop its deadline, note the client certificate. */
static void
conn_on_tls_ready(struct conn *c)
{
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

    if (c->hs_ev != NULL) {
        event_free(c->hs_ev);
        c->hs_ev = NULL;
    }
    tls_peer_name(ssl, c->tls_peer, sizeof(c->tls_peer));
    log_debug("conn %s: TLS handshake done (%s, %s), client certificate %s", c->peer,
              SSL_get_version(ssl), SSL_get_cipher_name(ssl),
              c->tls_peer[0] ? c->tls_peer : "none");
}

/* The "tls_error" event: at most one line a second for the whole server,
 * with the count since the previous line and this failure as example. */
static void
conn_log_tls_event(const struct conn *c, const char *what, const char *reason)
{
    static struct log_limit lim = LOG_LIMIT_INIT;      /* loop thread only */
    uint64_t n = log_limit_hit(&lim, util_mono_ns() / 1000000u + 1, 1000);

    if (n > 0)
        log_event(LOG_LVL_WARN, "tls_error", "TLS sessions failed", LOG_UINT("count", n),
                  LOG_STR("example_peer", c->peer), LOG_STR("stage", what),
                  LOG_STR("reason", reason));
}

/* Logs why a TLS session failed (debug: clients cause these).  libevent
 * queues OpenSSL's errors and also SSL_get_error()'s small code; the code
 * is shown only when there is nothing better. */
static void
conn_log_tls_errors(struct conn *c)
{
    const char *what = c->hs_ev != NULL ? "handshake failed" : "error";
    unsigned long e, code = 0;
    char buf[256];
    int n = 0;

    while ((e = bufferevent_get_openssl_error(c->bev)) != 0) {
        if (e <= SSL_ERROR_WANT_CLIENT_HELLO_CB) {
            code = e;
            continue;
        }
        if (c->hs_ev != NULL && n == 0 && tls_error_is_plaintext(e))
            tls_plaintext_hint(bufferevent_getfd(c->bev));     /* before the close */
        ERR_error_string_n(e, buf, sizeof(buf));
        log_debug("conn %s: TLS %s: %s", c->peer, what, buf);
        if (n++ == 0)
            conn_log_tls_event(c, what, buf);
    }
    if (n == 0 && code != 0) {
        log_debug("conn %s: TLS %s: SSL_get_error() = %lu%s", c->peer, what, code,
                  code == SSL_ERROR_SYSCALL ? " (connection reset or closed)" : "");
        snprintf(buf, sizeof(buf), "SSL_get_error() = %lu", code);
        conn_log_tls_event(c, what, buf);
    }
}

struct ssl_st *
conn_ssl(const struct conn *c)
{
    return c->bev != NULL ? bufferevent_openssl_get_ssl(c->bev) : NULL;
}

bool
conn_has_input(const struct conn *c)
{
    evutil_socket_t fd;
    int waiting = 0;

    if (c->bev == NULL)
        return false;
    if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
        return true;
    fd = bufferevent_getfd(c->bev);
    return fd >= 0 && ioctl(fd, FIONREAD, &waiting) == 0 && waiting > 0;
}

bool
conn_is_silent(const struct conn *c)
{
    SSL *ssl;

    if (c->heard || c->bev == NULL)
        return false;
    if ((ssl = conn_ssl(c)) != NULL && !SSL_in_before(ssl))
        return false;                    /* a handshake message arrived */
    return !conn_has_input(c);
}

static void
conn_on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    ((struct conn *)arg)->heard = true;
    (void)conn_process_input(arg);
}

static void
conn_on_write(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;

    (void)bev;
    if (c->state == CONN_CLOSING) {
        if (conn_outlen(c) == 0)
            conn_close(c);
        return;
    }
    if (conn_outlen(c) <= CONN_OUT_PAUSE / 2) {    /* the low watermark */
        evtimer_del(c->stall_ev);
        c->stall_cap = false;
    }
    if (c->net->hooks.on_drain != NULL)
        c->net->hooks.on_drain(c);
    conn_resume(c);
}

static void
conn_on_event(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;

    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        conn_on_tls_ready(c);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        conn_log_tls_errors(c);
        log_debug("conn %s: %s", c->peer, (what & BEV_EVENT_EOF) ? "eof" : "error");
        conn_close(c);
    }
}
