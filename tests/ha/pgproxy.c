/*
 * pgproxy.c - the network-partition device of the HA development cluster
 * (scripts/ha/cluster.sh, docs/HA.md "Development cluster"): a TCP
 * forwarder from 127.0.0.1:LPORT to 127.0.0.1:TPORT that can be told to
 * black-hole its traffic.
 *
 *   pgproxy LPORT TPORT
 *
 * Every accepted connection is forwarded to a new connection to TPORT.
 * SIGUSR1 starts a partition: nothing is forwarded any more in either
 * direction and connections stay open (no FIN, no RST), new connections
 * are accepted but not connected upstream; both ends just stop hearing
 * from each other.  SIGUSR2 heals it: bytes held in the socket buffers
 * flow again and held connections are connected upstream (closed if the
 * target refuses, like a host with no listener).  SIGTERM/SIGINT exit.
 * One process per (hitlqd, PostgreSQL node) pair; single-threaded poll().
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PX_MAXCONN 128          /* connection pairs held at once */
#define PX_BUF     65536        /* bytes buffered per direction */

/* One direction of a pair: bytes read from `from`, not yet written to `to`. */
typedef struct {
    char buf[PX_BUF];
    size_t off, len;
    int eof;                    /* `from` reached EOF or failed */
} px_dir;

/* One proxied connection: cli = accepted side, up = upstream (-1 while held). */
typedef struct {
    int cli, up;
    px_dir d[2];                /* d[0]: cli -> up, d[1]: up -> cli */
} px_pair;

static volatile sig_atomic_t px_blocked, px_stop;
static px_pair *px_pairs[PX_MAXCONN];
static int px_target;

/* Signal handler: USR1 partitions, USR2 heals, TERM/INT stop. */
static void px_on_signal(int sig)
{
    if (sig == SIGUSR1)
        px_blocked = 1;
    else if (sig == SIGUSR2)
        px_blocked = 0;
    else
        px_stop = 1;
}

/* Returns a non-blocking TCP socket listening on 127.0.0.1:port, or -1. */
static int px_listen(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Returns a non-blocking socket connected to 127.0.0.1:px_target, or -1
 * (the connect on loopback completes or is refused at once). */
static int px_connect_up(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)px_target),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Closes both sockets of pair slot i and frees it. */
static void px_drop(int i)
{
    close(px_pairs[i]->cli);
    if (px_pairs[i]->up >= 0)
        close(px_pairs[i]->up);
    free(px_pairs[i]);
    px_pairs[i] = NULL;
}

/* Accepts one pending connection into a free slot (connected upstream at
 * once unless partitioned).  Refuses (closes) when every slot is used. */
static void px_accept(int lfd)
{
    int one = 1, fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
    if (fd < 0)
        return;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (int i = 0; i < PX_MAXCONN; i++) {
        if (px_pairs[i] != NULL)
            continue;
        px_pairs[i] = calloc(1, sizeof *px_pairs[i]);
        if (px_pairs[i] == NULL)
            break;
        px_pairs[i]->cli = fd;
        px_pairs[i]->up = px_blocked ? -1 : px_connect_up();
        if (!px_blocked && px_pairs[i]->up < 0)
            px_drop(i);
        return;
    }
    close(fd);
}

/* Moves bytes of one direction: reads from `from` when the buffer is
 * empty, writes what is buffered to `to`.  Returns -1 when the pair must
 * close (error, or EOF with nothing left to deliver). */
static int px_pump(px_dir *d, int from, int to, short rev_from, short rev_to)
{
    if (d->len == 0 && !d->eof && (rev_from & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t n = read(from, d->buf, sizeof d->buf);
        if (n > 0) {
            d->off = 0;
            d->len = (size_t)n;
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            d->eof = 1;
        }
    }
    if (d->len > 0 && (rev_to & POLLOUT)) {
        ssize_t n = write(to, d->buf + d->off, d->len);
        if (n > 0) {
            d->off += (size_t)n;
            d->len -= (size_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return -1;
        }
    }
    return (d->eof && d->len == 0) ? -1 : 0;
}

/* Connects every held pair upstream after a heal (closing those refused). */
static void px_connect_held(void)
{
    for (int i = 0; i < PX_MAXCONN; i++) {
        if (px_pairs[i] == NULL || px_pairs[i]->up >= 0)
            continue;
        px_pairs[i]->up = px_connect_up();
        if (px_pairs[i]->up < 0)
            px_drop(i);
    }
}

/* Fills pfd for the listener and, unless partitioned, every pair; slot[k]
 * is the pair index of pfd[k] (pairs take two entries).  Returns count. */
static nfds_t px_fill(struct pollfd *pfd, int *slot, int lfd)
{
    nfds_t n = 0;
    pfd[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
    for (int i = 0; i < PX_MAXCONN && !px_blocked; i++) {
        px_pair *p = px_pairs[i];
        if (p == NULL || p->up < 0)
            continue;
        short ec = (short)((p->d[0].len == 0 ? POLLIN : 0) | (p->d[1].len ? POLLOUT : 0));
        short eu = (short)((p->d[1].len == 0 ? POLLIN : 0) | (p->d[0].len ? POLLOUT : 0));
        slot[n] = i;
        pfd[n++] = (struct pollfd){ .fd = p->cli, .events = ec };
        slot[n] = i;
        pfd[n++] = (struct pollfd){ .fd = p->up, .events = eu };
    }
    return n;
}

/* The forwarding loop; returns when px_stop is set. */
static void px_loop(int lfd)
{
    static struct pollfd pfd[1 + 2 * PX_MAXCONN];
    static int slot[1 + 2 * PX_MAXCONN];
    int was_blocked = 0;
    while (!px_stop) {
        if (was_blocked && !px_blocked)
            px_connect_held();
        was_blocked = px_blocked;
        nfds_t n = px_fill(pfd, slot, lfd);
        if (poll(pfd, n, 100) <= 0 || px_blocked)
            continue;
        if (pfd[0].revents & POLLIN)
            px_accept(lfd);
        for (nfds_t k = 1; k + 1 < n; k += 2) {
            px_pair *p = px_pairs[slot[k]];
            short rc = pfd[k].revents, ru = pfd[k + 1].revents;
            if (p == NULL || (rc == 0 && ru == 0))
                continue;
            if (px_pump(&p->d[0], p->cli, p->up, rc, ru) < 0 ||
                px_pump(&p->d[1], p->up, p->cli, ru, rc) < 0)
                px_drop(slot[k]);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: pgproxy LPORT TPORT\n");
        return 2;
    }
    int lport = atoi(argv[1]);
    px_target = atoi(argv[2]);
    if (lport <= 0 || lport > 65535 || px_target <= 0 || px_target > 65535) {
        fprintf(stderr, "pgproxy: bad port\n");
        return 2;
    }
    struct sigaction sa = { .sa_handler = px_on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int lfd = px_listen(lport);
    if (lfd < 0) {
        fprintf(stderr, "pgproxy: cannot listen on 127.0.0.1:%d: %s\n", lport, strerror(errno));
        return 1;
    }
    px_loop(lfd);
    close(lfd);
    return 0;
}
