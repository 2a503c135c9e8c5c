/*
 * async_io.c - non-blocking I/O of the asynchronous libhitlq: the
 * event-loop entry points hitlq_async_handle_read/_write, reads into the
 * frame reader (its size limit is checked on each header, before the body
 * is buffered) with every complete frame validated and dispatched, and
 * writes of the output buffer.  Plain sockets or TLS records
 * (client_tls.c): a TLS read that must write first, or a write that must
 * read first, is remembered and retried on the other event.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "async_int.h"

void
hitlq__async_flush(hitlq_async *ac)
{
    ssize_t n;
    short ev = POLLOUT;

    ac->write_wants_read = false;
    while (!ac->closed && ac->out_off < ac->out_len) {
        n = hitlq__send_some(ac->c, ac->out + ac->out_off, ac->out_len - ac->out_off, &ev);
        if (n < 0) {
            hitlq__async_disconnect(ac);
            return;
        }
        if (n == 0) {                  /* TLS may need to read first */
            ac->write_wants_read = ev == POLLIN;
            break;
        }
        ac->out_off += (size_t)n;
    }
    if (ac->out_off == ac->out_len)
        ac->out_off = ac->out_len = 0;
    if (!ac->closed)
        hitlq__async_want_write(ac, (ac->out_len > 0 && !ac->write_wants_read) ||
                             ac->read_wants_write);
}

/* Dispatches every complete frame in the reader.  HITLQ_OK or an error
 * (recorded; the context is dead). */
static int
drain_frames(hitlq_async *ac)
{
    struct frame f;
    enum frame_rc frc;
    hitlq_reply *r;
    int rc;

    for (;;) {
        if (ac->closed || ac->free_pending)
            return HITLQ_OK;
        frc = frame_reader_next(&ac->c->rd, &f);
        if (frc == FRAME_ERROR)
            return hitlq__fail(ac->c, HITLQ_EPROTO, "bad reply frame: %s",
                               ac->c->rd.errstr);
        if (frc != FRAME_OK)
            return HITLQ_OK;
        if ((rc = hitlq__make_reply(ac->c, &f, &r)) != HITLQ_OK ||
            (rc = hitlq__async_dispatch(ac, r)) != HITLQ_OK)
            return rc;
        if (ac->c->dead && !ac->closed)    /* a fatal status, e.g. after a refused op */
            return ac->c->err;
    }
}

void
hitlq__async_read(hitlq_async *ac)
{
    uint8_t buf[16384];
    ssize_t n;
    short ev = POLLIN;

    ac->read_wants_write = false;
    while (!ac->closed && !ac->free_pending) {
        n = hitlq__recv_some(ac->c, buf, sizeof(buf), &ev);
        if (n == 0) {                  /* would block; TLS may need to write */
            ac->read_wants_write = ev == POLLOUT;
            if (ac->read_wants_write)
                hitlq__async_want_write(ac, true);
            return;
        }
        if (n < 0 || frame_reader_feed(&ac->c->rd, buf, (size_t)n) < 0) {
            if (n > 0)
                hitlq__set_err(ac->c, ac->c->rd.status != HITLQ_ST_OK ? HITLQ_EPROTO
                                                                      : HITLQ_ENOMEM,
                               "%s", ac->c->rd.status != HITLQ_ST_OK ? ac->c->rd.errstr
                                                                    : "out of memory");
            hitlq__async_disconnect(ac);
            return;
        }
        if (drain_frames(ac) != HITLQ_OK) {
            hitlq__async_disconnect(ac);
            return;
        }
    }
}

/* Frames already buffered (bytes that came with the handshake's last
 * reply); true when the context is still usable after them. */
static bool
drain_buffered(hitlq_async *ac)
{
    if (drain_frames(ac) != HITLQ_OK)
        hitlq__async_disconnect(ac);
    return !ac->closed && !ac->free_pending;
}

void
hitlq_async_handle_read(hitlq_async *ac)
{
    if (ac == NULL || ac->closed || ac->free_pending)
        return;
    ac->depth++;
    if (!drain_buffered(ac)) {
        hitlq__async_leave(ac);
        return;
    }
    if (ac->write_wants_read)
        hitlq__async_flush(ac);
    if (!ac->closed && !ac->free_pending)
        hitlq__async_read(ac);
    hitlq__async_leave(ac);
}

void
hitlq_async_handle_write(hitlq_async *ac)
{
    if (ac == NULL || ac->closed || ac->free_pending)
        return;
    ac->depth++;
    if (!drain_buffered(ac)) {
        hitlq__async_leave(ac);
        return;
    }
    if (ac->read_wants_write)
        hitlq__async_read(ac);
    if (!ac->closed && !ac->free_pending)
        hitlq__async_flush(ac);
    hitlq__async_leave(ac);
}
