/*
 * net.c - the socket layer of libhitlq: connect with a timeout
 * (getaddrinfo, non-blocking connect + poll, TCP_NODELAY) and poll-based
 * reads and writes against a monotonic deadline.  No framing here.
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

/* Waits for events on fd.  Returns 1 when ready, 0 on timeout, -1 on error. */
static int
wait_fd(int fd, short events, int64_t deadline)
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
        rc = wait_fd(fd, POLLOUT, deadline);
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

int
hitlq__net_write(hitlq *c, const void *buf, size_t len, int64_t deadline)
{
    const uint8_t *p = buf;
    ssize_t n;
    int rc;

    while (len > 0) {
        n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return hitlq__set_err(c, HITLQ_EIO, "write: %s", strerror(errno));
        rc = wait_fd(c->fd, POLLOUT, deadline);
        if (rc == 0)
            return hitlq__set_err(c, HITLQ_ETIMEOUT, "timed out writing a request");
        if (rc < 0)
            return hitlq__set_err(c, HITLQ_EIO, "poll: %s", strerror(errno));
    }
    return HITLQ_OK;
}

int
hitlq__net_read(hitlq *c, int64_t deadline)
{
    uint8_t buf[16384];
    ssize_t n;
    int rc;

    for (;;) {
        n = recv(c->fd, buf, sizeof(buf), 0);
        if (n > 0)
            break;
        if (n == 0)
            return hitlq__set_err(c, HITLQ_EOF, "server closed the connection");
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return hitlq__set_err(c, HITLQ_EIO, "read: %s", strerror(errno));
        rc = wait_fd(c->fd, POLLIN, deadline);
        if (rc == 0)
            return hitlq__set_err(c, HITLQ_ETIMEOUT, "timed out waiting for the server");
        if (rc < 0)
            return hitlq__set_err(c, HITLQ_EIO, "poll: %s", strerror(errno));
    }
    if (frame_reader_feed(&c->rd, buf, (size_t)n) < 0)
        return c->rd.status != HITLQ_ST_OK
                   ? hitlq__set_err(c, HITLQ_EPROTO, "%s", c->rd.errstr)
                   : hitlq__set_err(c, HITLQ_ENOMEM, "out of memory");
    return HITLQ_OK;
}
