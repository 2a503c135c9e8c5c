/*
 * net.c - the socket layer of libhitlq: connect with a timeout
 * (getaddrinfo, non-blocking connect + poll, TCP_NODELAY) and poll-based
 * reads and writes against a monotonic deadline, on the socket or through
 * the TLS session (tls.c).  No framing here.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client_int.h"

int64_t
hitlq__now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
hitlq__deadline(int timeout_ms)
{
    return timeout_ms > 0 ? hitlq__now_ms() + timeout_ms : -1;
}

/* Milliseconds left before the deadline, as poll() wants them. */
static int
remaining(int64_t deadline)
{
    int64_t left;

    if (deadline < 0)
        return -1;
    left = deadline - hitlq__now_ms();
    if (left <= 0)
        return 0;
    return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

int
hitlq__net_wait(int fd, short events, int64_t deadline)
{
    struct pollfd p = { .fd = fd, .events = events };
    int rc;

    do
        rc = poll(&p, 1, remaining(deadline));
    while (rc < 0 && errno == EINTR);
    return rc;
}

/* Tries one address: non-blocking connect, then poll for completion. */
static int
try_connect(const struct addrinfo *ai, int64_t deadline, int *saved_errno)
{
    int fd, one = 1, soerr = 0, rc;
    socklen_t sl = sizeof(soerr);

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                ai->ai_protocol);
    if (fd < 0) {
        *saved_errno = errno;
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            *saved_errno = errno;
            close(fd);
            return -1;
        }
        rc = hitlq__net_wait(fd, POLLOUT, deadline);
        if (rc <= 0) {
            *saved_errno = rc == 0 ? ETIMEDOUT : errno;
            close(fd);
            return -1;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
            *saved_errno = soerr ? soerr : errno;
            close(fd);
            return -1;
        }
    }
    if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

int
hitlq__net_connect(const char *host, uint16_t port, int timeout_ms,
                   char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res, *ai;
    char portstr[8];
    int64_t deadline = hitlq__deadline(timeout_ms);
    int fd = -1, e = 0, rc;

    snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s:%u: %s", host, (unsigned)port, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
        fd = try_connect(ai, deadline, &e);
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "connect %s:%u: %s", host, (unsigned)port,
                 strerror(e ? e : ECONNREFUSED));
    return fd;
}

ssize_t
hitlq__send_some(hitlq *c, const void *p, size_t len, short *ev)
{
    ssize_t n;

    if (c->ssl != NULL)
        return hitlq__tls_write(c, p, len, ev);
    *ev = POLLOUT;
    do
        n = send(c->fd, p, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 0;
    hitlq__set_err(c, HITLQ_EIO, "write: %s", strerror(errno));
    return -1;
}

ssize_t
hitlq__recv_some(hitlq *c, void *buf, size_t len, short *ev)
{
    ssize_t n;

    if (c->ssl != NULL)
        return hitlq__tls_read(c, buf, len, ev);
    *ev = POLLIN;
    do
        n = recv(c->fd, buf, len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        return n;
    if (n == 0)
        hitlq__set_err(c, HITLQ_EOF, "server closed the connection");
    else if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 0;
    else
        hitlq__set_err(c, HITLQ_EIO, "read: %s", strerror(errno));
    return -1;
}

/* Waits for ev before the deadline: HITLQ_OK or the error recorded. */
static int
net_wait_for(hitlq *c, short ev, int64_t deadline, const char *what)
{
    int rc = hitlq__net_wait(c->fd, ev, deadline);

    if (rc == 0)
        return hitlq__set_err(c, HITLQ_ETIMEOUT, "timed out %s", what);
    if (rc < 0)
        return hitlq__set_err(c, HITLQ_EIO, "poll: %s", strerror(errno));
    return HITLQ_OK;
}

int
hitlq__net_write(hitlq *c, const void *buf, size_t len, int64_t deadline)
{
    const uint8_t *p = buf;
    ssize_t n;
    short ev;
    int rc;

    while (len > 0) {
        n = hitlq__send_some(c, p, len, &ev);
        if (n < 0)
            return c->err;
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if ((rc = net_wait_for(c, ev, deadline, "writing a request")) != HITLQ_OK) {
            return rc;
        }
    }
    return HITLQ_OK;
}

int
hitlq__net_read(hitlq *c, int64_t deadline)
{
    uint8_t buf[16384];
    ssize_t n;
    short ev;
    int rc;

    while ((n = hitlq__recv_some(c, buf, sizeof(buf), &ev)) <= 0) {
        if (n < 0)
            return c->err;
        if ((rc = net_wait_for(c, ev, deadline, "waiting for the server")) != HITLQ_OK)
            return rc;
    }
    if (frame_reader_feed(&c->rd, buf, (size_t)n) < 0)
        return c->rd.status != HITLQ_ST_OK
                   ? hitlq__set_err(c, HITLQ_EPROTO, "%s", c->rd.errstr)
                   : hitlq__set_err(c, HITLQ_ENOMEM, "out of memory");
    return HITLQ_OK;
}
