/*
 * hostile_mix.c - the hostile connection mix of hostile_mix.h: one thread,
 * one epoll set, level-triggered, non-blocking loopback sockets.
 *
 * Per kind, what a connection does once its connect completed:
 *   random    writes HM_RANDOM_LEN random bytes, then reads (and counts the
 *             reply headers) until the server closes it;
 *   slowloris writes one byte of a HELLO frame every slow_byte_ms and
 *             never more, until the server closes it (frame or HELLO
 *             deadline);
 *   pipeline  writes HELLO, then GET/PING frames whenever the socket takes
 *             them, never reads: only a close (RDHUP/HUP/ERR) is watched;
 *   idle      writes nothing; only a close is watched.
 * A closed (or failed) connection is re-opened reconnect_ms later.
 */
#include "hostile_mix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "hitlq_proto.h"

#define HM_RANDOM_LEN   256u
#define HM_PIPE_CHUNK   65536u      /* pipelined frames written in a cycle */
#define HM_FAST_NS      500000000ull
#define HM_TICK_MS      20

const char *const hmix_kind_name[HMIX_KINDS] = { "random", "slowloris", "pipeline", "idle" };

enum hm_state { HM_DOWN, HM_CONNECTING, HM_UP };

struct hm_conn {
    int           fd;
    enum hmix_kind kind;
    enum hm_state state;
    unsigned      addr;          /* source address index, 0 = unbound */
    uint64_t      due_ns;        /* DOWN: reconnect; slowloris UP: next byte */
    uint64_t      t_open_ns;
    size_t        off;           /* bytes of the kind's stream written */
    uint8_t      *chunk;         /* pipeline: frames to write, cycled */
    size_t        chunk_len, chunk_first;   /* chunk_first: HELLO's length */
    bool          answered;      /* random: a reply byte arrived */
};

struct hmix {
    struct hmix_opts  o;
    struct hm_conn   *c;
    unsigned          n;
    int               epfd;
    pthread_t         th;
    atomic_bool       stop;
    uint64_t          rng, t0_ns;
    struct hmix_stats st;
    uint8_t           hello[64];
    size_t            hello_len;
};

static uint64_t
hm_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
hm_rand(struct hmix *m)
{
    m->rng ^= m->rng << 13;
    m->rng ^= m->rng >> 7;
    m->rng ^= m->rng << 17;
    return m->rng;
}

uint64_t
hmix_sum(const uint64_t v[HMIX_KINDS])
{
    uint64_t s = 0;
    for (int k = 0; k < HMIX_KINDS; k++)
        s += v[k];
    return s;
}

/* ---- frames --------------------------------------------------------------- */

/* Appends header + body to buf at *len (room checked by the caller). */
static void
hm_frame(uint8_t *buf, size_t *len, uint8_t op, uint32_t rid, const void *body, size_t blen)
{
    uint8_t *h = buf + *len;
    h[0] = (uint8_t)(blen >> 24); h[1] = (uint8_t)(blen >> 16);
    h[2] = (uint8_t)(blen >> 8);  h[3] = (uint8_t)blen;
    h[4] = HITLQ_MAGIC; h[5] = op; h[6] = 0; h[7] = 0;
    h[8] = (uint8_t)(rid >> 24); h[9] = (uint8_t)(rid >> 16);
    h[10] = (uint8_t)(rid >> 8); h[11] = (uint8_t)rid;
    memcpy(h + 12, body, blen);
    *len += 12 + blen;
}

/* The HELLO {version: 1, name: "hostile"} every slowloris and pipeliner sends. */
static void
hm_build_hello(struct hmix *m)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "version", 7);
    msgpack_pack_uint64(&pk, HITLQ_PROTO_VERSION);
    msgpack_pack_str_with_body(&pk, "name", 4);
    msgpack_pack_str_with_body(&pk, "hostile", 7);
    hm_frame(m->hello, &m->hello_len, HITLQ_OP_HELLO, 1, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
}

/* A pipeliner's stream: HELLO, then GET {id} (ids of existing items) and
 * PING frames alternating until the chunk is full.  0, or -1 (no memory). */
static int
hm_build_pipe(struct hmix *m, struct hm_conn *c)
{
    if (!c->chunk && !(c->chunk = malloc(HM_PIPE_CHUNK)))
        return -1;
    uint64_t max = m->o.get_id_max ? atomic_load(m->o.get_id_max) : 0;
    c->chunk_len = 0;
    hm_frame(c->chunk, &c->chunk_len, HITLQ_OP_HELLO, 1, m->hello + 12, m->hello_len - 12);
    c->chunk_first = c->chunk_len;
    for (uint32_t rid = 2; c->chunk_len + 32 <= HM_PIPE_CHUNK; rid++) {
        uint8_t body[16] = { 0 };
        size_t bl = 0;
        if (max > 0 && (rid & 1)) {
            uint64_t id = 1 + hm_rand(m) % max;
            body[bl++] = 0x81;                          /* map of 1 */
            body[bl++] = 0xa2; body[bl++] = 'i'; body[bl++] = 'd';
            body[bl++] = 0xcf;                          /* uint 64 */
            for (int s = 56; s >= 0; s -= 8)
                body[bl++] = (uint8_t)(id >> s);
        }
        hm_frame(c->chunk, &c->chunk_len, bl ? HITLQ_OP_GET : HITLQ_OP_PING, rid, body, bl);
    }
    return 0;
}

/* ---- connections ------------------------------------------------------------ */

static void
hm_watch(struct hmix *m, struct hm_conn *c, uint32_t events, int op)
{
    struct epoll_event ev = { .events = events, .data.u32 = (uint32_t)(c - m->c) };
    epoll_ctl(m->epfd, op, c->fd, &ev);
}

/* Closes c (with a reset when rst) and schedules its re-open. */
static void
hm_down(struct hmix *m, struct hm_conn *c, bool rst, uint64_t now)
{
    if (c->fd >= 0) {
        if (rst) {
            struct linger lg = { 1, 0 };
            setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        epoll_ctl(m->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = HM_DOWN;
    c->due_ns = now + (uint64_t)m->o.reconnect_ms * 1000000ull;
}

/* The server closed (or refused) an open connection. */
static void
hm_closed(struct hmix *m, struct hm_conn *c, uint64_t now)
{
    m->st.closed[c->kind]++;
    if (now - c->t_open_ns < HM_FAST_NS)
        m->st.closed_fast[c->kind]++;
    hm_down(m, c, false, now);
}

/* Starts a non-blocking connect from the connection's source address. */
static void
hm_connect(struct hmix *m, struct hm_conn *c, uint64_t now)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        m->st.failed[c->kind]++;
        hm_down(m, c, false, now);
        return;
    }
    struct sockaddr_in sa = { .sin_family = AF_INET };
    if (c->addr > 0) {
        sa.sin_addr.s_addr = htonl(0x7f000001u + c->addr);
        bind(c->fd, (struct sockaddr *)&sa, sizeof sa);     /* best effort */
    }
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(m->o.port);
    int r = connect(c->fd, (struct sockaddr *)&sa, sizeof sa);
    if (r != 0 && errno != EINPROGRESS) {
        m->st.failed[c->kind]++;
        hm_down(m, c, false, now);
        return;
    }
    c->state = HM_CONNECTING;
    c->off = 0;
    hm_watch(m, c, EPOLLOUT, EPOLL_CTL_ADD);
}

/* Writes what the socket takes of buf[*off, len); false when the
 * connection failed (already taken down). */
static bool
hm_write(struct hmix *m, struct hm_conn *c, const uint8_t *buf, size_t len, uint64_t now)
{
    while (c->off < len) {
        ssize_t w = send(c->fd, buf + c->off, len - c->off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (w <= 0) {
            hm_closed(m, c, now);
            return false;
        }
        c->off += (size_t)w;
        m->st.bytes_out[c->kind] += (uint64_t)w;
    }
    return true;
}

/* The connect completed (or failed): the kind's first writes and watch. */
static void
hm_on_connected(struct hmix *m, struct hm_conn *c, uint64_t now)
{
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
        m->st.failed[c->kind]++;
        hm_down(m, c, false, now);
        return;
    }
    m->st.opened[c->kind]++;
    c->state = HM_UP;
    c->t_open_ns = now;
    c->answered = false;
    if (c->kind == HMIX_RANDOM) {
        uint8_t junk[HM_RANDOM_LEN];
        for (size_t i = 0; i < sizeof junk; i += 8) {
            uint64_t r = hm_rand(m);
            memcpy(junk + i, &r, 8);
        }
        hm_watch(m, c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
        hm_write(m, c, junk, sizeof junk, now);
    } else if (c->kind == HMIX_PIPE) {
        if (hm_build_pipe(m, c) != 0) {
            hm_down(m, c, true, now);
            return;
        }
        hm_watch(m, c, EPOLLOUT | EPOLLRDHUP, EPOLL_CTL_MOD);
        hm_write(m, c, c->chunk, c->chunk_len, now);
    } else {
        c->due_ns = now;                    /* slowloris: first byte now */
        hm_watch(m, c, EPOLLRDHUP, EPOLL_CTL_MOD);
    }
}

/* A random sender: reads what came (a reply, then the close). */
static void
hm_on_random_input(struct hmix *m, struct hm_conn *c, uint64_t now)
{
    uint8_t buf[4096];
    for (;;) {
        ssize_t r = recv(c->fd, buf, sizeof buf, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) {
            hm_closed(m, c, now);
            return;
        }
        if (!c->answered) {
            c->answered = true;
            m->st.replies[c->kind]++;
        }
    }
}

/* A pipeliner's socket takes more: writes up to 4 chunks, cycling through
 * the frames after HELLO. */
static void
hm_on_pipe_writable(struct hmix *m, struct hm_conn *c, uint64_t now)
{
    for (int i = 0; i < 4; i++) {
        if (!hm_write(m, c, c->chunk, c->chunk_len, now))
            return;
        if (c->off < c->chunk_len)
            return;
        c->off = c->chunk_first;
    }
}

static void
hm_on_event(struct hmix *m, struct hm_conn *c, uint32_t ev, uint64_t now)
{
    if (c->state == HM_CONNECTING) {
        hm_on_connected(m, c, now);
        return;
    }
    if (c->state != HM_UP)
        return;
    if (c->kind == HMIX_RANDOM)
        hm_on_random_input(m, c, now);
    else if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        hm_closed(m, c, now);
    else if (c->kind == HMIX_PIPE && (ev & EPOLLOUT))
        hm_on_pipe_writable(m, c, now);
}

/* Timers: re-opens, and the slowloris bytes. */
static void
hm_on_tick(struct hmix *m, uint64_t now)
{
    for (unsigned i = 0; i < m->n; i++) {
        struct hm_conn *c = &m->c[i];
        if (c->due_ns > now)
            continue;
        if (c->state == HM_DOWN) {
            hm_connect(m, c, now);
        } else if (c->state == HM_UP && c->kind == HMIX_SLOW) {
            size_t at = c->off % m->hello_len;
            ssize_t w = send(c->fd, m->hello + at, 1, MSG_NOSIGNAL);
            if (w == 1) {
                c->off++;
                m->st.bytes_out[c->kind]++;
            } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                hm_closed(m, c, now);
                continue;
            }
            c->due_ns = now + (uint64_t)m->o.slow_byte_ms * 1000000ull;
        }
    }
}

static void *
hm_main(void *arg)
{
    struct hmix *m = arg;
    struct epoll_event evs[64];
    uint64_t next_tick = 0;
    while (!atomic_load(&m->stop)) {
        uint64_t now = hm_now_ns();
        if (now >= next_tick) {
            hm_on_tick(m, now);
            next_tick = now + HM_TICK_MS * 1000000ull;
        }
        int n = epoll_wait(m->epfd, evs, 64, HM_TICK_MS);
        now = hm_now_ns();
        for (int i = 0; i < n; i++)
            hm_on_event(m, &m->c[evs[i].data.u32], evs[i].events, now);
    }
    return NULL;
}

/* ---- start and stop ---------------------------------------------------------- */

static void
hm_free(struct hmix *m)
{
    for (unsigned i = 0; i < m->n; i++)
        free(m->c[i].chunk);
    if (m->epfd >= 0)
        close(m->epfd);
    free(m->c);
    free(m);
}

struct hmix *
hmix_start(const struct hmix_opts *o)
{
    struct hmix *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->o = *o;
    m->n = o->per_kind * HMIX_KINDS;
    m->c = calloc(m->n ? m->n : 1, sizeof *m->c);
    m->epfd = epoll_create1(EPOLL_CLOEXEC);
    m->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
    m->t0_ns = hm_now_ns();
    if (!m->c || m->epfd < 0) {
        fprintf(stderr, "hostile_mix: %s\n", strerror(errno));
        hm_free(m);
        return NULL;
    }
    hm_build_hello(m);
    for (unsigned i = 0; i < m->n; i++) {
        struct hm_conn *c = &m->c[i];
        c->fd = -1;
        c->kind = (enum hmix_kind)(i % HMIX_KINDS);
        c->addr = o->n_addrs ? 1 + (i / HMIX_KINDS) % o->n_addrs : 0;
        c->due_ns = UINT64_MAX;                     /* a kind left out: never */
        if (o->kinds == 0 || (o->kinds & (1u << c->kind)))
            hm_connect(m, c, m->t0_ns);
    }
    if (pthread_create(&m->th, NULL, hm_main, m) != 0) {
        fprintf(stderr, "hostile_mix: cannot start the thread\n");
        for (unsigned i = 0; i < m->n; i++)
            hm_down(m, &m->c[i], true, 0);
        hm_free(m);
        return NULL;
    }
    return m;
}

void
hmix_stop(struct hmix *m, struct hmix_stats *out)
{
    if (!m)
        return;
    atomic_store(&m->stop, true);
    pthread_join(m->th, NULL);
    m->st.seconds = (double)(hm_now_ns() - m->t0_ns) / 1e9;
    for (unsigned i = 0; i < m->n; i++) {
        struct hm_conn *c = &m->c[i];
        if (c->state == HM_UP)
            m->st.open_now[c->kind]++;
        hm_down(m, c, true, 0);
    }
    if (out)
        *out = m->st;
    hm_free(m);
}
