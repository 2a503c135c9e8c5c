/*
 * bench_load.c - hitlqd load generator for `make bench`: one thread, epoll,
 * non-blocking loopback sockets, the raw protocol through the proto codec
 * (frame_parse, wire_frame_begin/end, msgpack-c).  Items are the German
 * Credit rows (tests/lib/credit_items.c), resampled at random, under unique
 * idempotency keys.
 *
 *   bench_load MODE (-p PORT | -P PORTFILE) [options]
 *
 * Modes (every loop is bounded by a count AND a time limit):
 *   submit         C conns x D in flight, closed loop, N items or T s:
 *                  durable submits/s and latency p50/p99/p99.9
 *   submit-rate    open loop at R/s over C conns (latency measured from the
 *                  scheduled send time, so client-side queueing counts)
 *   fill           submit N items as fast as possible (queue filling)
 *   claim          C conns, each with D CLAIM->RESOLVE cycles in flight
 *   claim-latency  one conn, sequential CLAIM then RESOLVE, N samples
 *   ping           wait for PORTFILE, then HELLO+PING; times from -0 T0_NS
 *   stats          HELLO+STATS, prints queue/type counters and any extra keys
 *   idle-tls       open N (-n, 1000) TLS connections, HELLO+PING on each,
 *                  hold them -t s (1); with -s PID prints that server's
 *                  VmRSS before and after (needs -A)
 *
 * Options: -c CONNS (16) -d DEPTH (64, <= 64) -n COUNT -t SECONDS
 *          -r RATE (20000) -f CSV -m (drop one model field: never
 *          auto-resolved) -q QUEUE (credit_review) -L LABEL
 *          -T TIMEOUT_S (ping, 10) -0 T0_NS (ping: CLOCK_REALTIME ns of exec)
 *          -A CAFILE (every mode over TLS 1.3/1.2 with OpenSSL, verifying
 *          the server as 127.0.0.1 against CAFILE; handshakes happen before
 *          the clock starts) -K KEYFILE (HELLO api_key: the key's first
 *          line) -s PID (idle-tls: the server's pid)
 *
 * Output: lines starting "bench: ", fixed format, meant for grep/awk.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "credit_items.h"
#include "frame.h"
#include "hitlq_proto.h"
#include "wire.h"

#define BL_MAX_DEPTH   ((int)HITLQ_MAX_INFLIGHT)
#define BL_HELLO_RID   0xfffffff0u
#define BL_DRAIN_NS    (15ull * 1000000000ull)   /* wait for replies after the run */

/* ---- time and latency histogram --------------------------------------- */

static uint64_t
bl_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
bl_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* 1 µs buckets up to 100 ms, then 1 ms buckets up to 100 s. */
#define H_FINE   100000u
#define H_COARSE 100000u
struct hist {
    uint32_t fine[H_FINE], coarse[H_COARSE];
    uint64_t n, max_ns, sum_ns;
};
static struct hist hist_main;    /* the mode's latency */
static struct hist hist_sent;    /* submit-rate: from the actual send */

static void
h_add(struct hist *h, uint64_t ns)
{
    uint64_t us = ns / 1000;
    if (us < H_FINE)
        h->fine[us]++;
    else if (us / 1000 < H_COARSE)
        h->coarse[us / 1000]++;
    else
        h->coarse[H_COARSE - 1]++;
    h->n++;
    h->sum_ns += ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

/* Percentile p (0..100) in µs: the upper edge of the bucket holding it. */
static double
h_pct(const struct hist *h, double p)
{
    if (h->n == 0)
        return 0;
    uint64_t want = (uint64_t)((double)h->n * p / 100.0 + 0.999999), seen = 0;
    if (want == 0)
        want = 1;
    for (uint32_t i = 0; i < H_FINE; i++)
        if ((seen += h->fine[i]) >= want)
            return i + 1;
    for (uint32_t i = 0; i < H_COARSE; i++)
        if ((seen += h->coarse[i]) >= want)
            return (i + 1) * 1000.0;
    return (double)h->max_ns / 1000.0;
}

/* ---- options and shared state ----------------------------------------- */

enum bl_mode { M_SUBMIT, M_RATE, M_FILL, M_CLAIM, M_CLAIM_LAT, M_PING, M_STATS, M_IDLE_TLS };

static struct {
    enum bl_mode mode;
    const char  *mode_name;
    int          port;
    const char  *portfile;
    int          conns, depth;
    uint64_t     count;
    double       seconds;
    double       rate;
    const char  *csv;
    bool         missing;
    const char  *queue;
    const char  *label;
    double       timeout_s;
    uint64_t     t0_real_ns;
    const char  *tls_ca;        /* -A: TLS on */
    char         api_key[256];  /* -K: sent in HELLO when not empty */
    int          srv_pid;       /* -s */
} opt = {
    .conns = 16, .depth = 64, .rate = 20000, .csv = CREDIT_ITEMS_CSV,
    .queue = "credit_review", .label = "", .timeout_s = 10,
};

static struct credit_item *bl_items;
static size_t n_items;
static char key_prefix[32];
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
bl_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Counters of the run. */
static struct {
    uint64_t sent, ok, errors, queued, autos, empties, cycles, late;
    uint64_t by_status[400];
    uint64_t t_start, t_last_reply;
    bool     stop_sending;
    bool     fatal;
} st;

struct slot {
    uint64_t t_ns;          /* send time (or scheduled time, submit-rate) */
    uint64_t t_sent_ns;     /* actual send time */
    uint64_t id, lease;     /* claim: the leased item */
    uint8_t  kind;          /* 0 free, 1 submit, 2 claim, 3 resolve */
};

struct bconn {
    int              fd, idx;
    SSL             *ssl;   /* -A: the session; NULL = plaintext */
    msgpack_sbuffer  ob;    /* unsent request bytes from ob_off */
    size_t           ob_off;
    msgpack_packer   pk;
    uint8_t         *in;
    size_t           in_len, in_cap;
    bool             hello_done, want_out, closed, drained;
    int              inflight;
    uint8_t          free_slots[BL_MAX_DEPTH];
    int              n_free;
    struct slot      slots[BL_MAX_DEPTH];
    uint64_t         seq;
};

static struct bconn *conns;
static int epfd = -1;
static msgpack_zone zone;

static void
bl_die(const char *what)
{
    fprintf(stderr, "bench_load: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* ---- connections ------------------------------------------------------- */

static int
bl_read_portfile(const char *path)
{
    FILE *f = fopen(path, "r");
    int p = -1;
    if (f) {
        if (fscanf(f, "%d", &p) != 1)
            p = -1;
        fclose(f);
    }
    return p;
}

static int
bl_connect_blocking(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        bl_die("socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* ---- TLS (-A) ------------------------------------------------------------ */

static SSL_CTX *bl_tls;

static void
bl_tls_init(void)
{
    bl_tls = SSL_CTX_new(TLS_client_method());
    if (bl_tls == NULL || SSL_CTX_load_verify_locations(bl_tls, opt.tls_ca, NULL) != 1) {
        fprintf(stderr, "bench_load: TLS: cannot load %s\n", opt.tls_ca);
        ERR_print_errors_fp(stderr);
        exit(1);
    }
    SSL_CTX_set_min_proto_version(bl_tls, TLS1_2_VERSION);
    SSL_CTX_set_verify(bl_tls, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(bl_tls, SSL_MODE_ENABLE_PARTIAL_WRITE |
                             SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/* Handshake on a blocking socket; NULL when TLS is off.  Dies on failure. */
static SSL *
bl_tls_connect(int fd)
{
    SSL *ssl;

    if (opt.tls_ca == NULL)
        return NULL;
    ssl = SSL_new(bl_tls);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 ||
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1") != 1 ||
        SSL_connect(ssl) != 1) {
        fprintf(stderr, "bench_load: TLS handshake failed\n");
        ERR_print_errors_fp(stderr);
        exit(1);
    }
    return ssl;
}

/* write()/read() through the session when there is one: -1 with errno
 * EAGAIN when it would block, 0 on EOF. */
static ssize_t
bl_tls_result(SSL *ssl, int r)
{
    int e;

    if (r > 0)
        return r;
    e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && r == 0))
        return 0;
    if (e != SSL_ERROR_SYSCALL)
        errno = EPROTO;
    return -1;
}

static ssize_t
bl_write(int fd, SSL *ssl, const void *p, size_t n)
{
    if (ssl == NULL)
        return write(fd, p, n);
    ERR_clear_error();
    return bl_tls_result(ssl, SSL_write(ssl, p, n > INT32_MAX ? INT32_MAX : (int)n));
}

static ssize_t
bl_read_some(int fd, SSL *ssl, void *p, size_t n)
{
    if (ssl == NULL)
        return read(fd, p, n);
    ERR_clear_error();
    return bl_tls_result(ssl, SSL_read(ssl, p, n > INT32_MAX ? INT32_MAX : (int)n));
}

static void
bl_update_events(struct bconn *c)
{
    bool want = c->ob.size > c->ob_off;
    if (want == c->want_out || c->closed)
        return;
    struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c };
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        bl_die("epoll_ctl");
    c->want_out = want;
}

static void
bl_flush(struct bconn *c)
{
    while (c->ob.size > c->ob_off && !c->closed) {
        ssize_t w = bl_write(c->fd, c->ssl, c->ob.data + c->ob_off, c->ob.size - c->ob_off);
        if (w > 0) {
            c->ob_off += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            fprintf(stderr, "bench_load: conn %d: write: %s\n", c->idx, strerror(errno));
            c->closed = true;
            st.fatal = true;
            return;
        }
    }
    if (c->ob_off == c->ob.size) {
        msgpack_sbuffer_clear(&c->ob);
        c->ob_off = 0;
    }
    bl_update_events(c);
}

static int
bl_slot_get(struct bconn *c)
{
    if (c->n_free == 0)
        return -1;
    int s = c->free_slots[--c->n_free];
    c->inflight++;
    return s;
}

static void
bl_slot_put(struct bconn *c, int s)
{
    c->slots[s].kind = 0;
    c->free_slots[c->n_free++] = (uint8_t)s;
    c->inflight--;
}

static void
bl_send_hello(struct bconn *c)
{
    char name[32];
    snprintf(name, sizeof name, "bench-%d", c->idx);
    size_t off = wire_frame_begin(&c->ob);
    msgpack_pack_map(&c->pk, opt.api_key[0] ? 4 : 3);
    wire_pack_kv_u64(&c->pk, "version", HITLQ_PROTO_VERSION);
    wire_pack_kv_str(&c->pk, "client", "bench_load");
    wire_pack_kv_str(&c->pk, "name", name);
    if (opt.api_key[0])
        wire_pack_kv_str(&c->pk, "api_key", opt.api_key);
    wire_frame_end(&c->ob, off, HITLQ_OP_HELLO, 0, BL_HELLO_RID);
}

static void
bl_send_submit(struct bconn *c, int s, uint64_t t_ns)
{
    const struct credit_item *it = &bl_items[bl_rand() % n_items];
    char key[64];
    int kl = snprintf(key, sizeof key, "%s-%d-%llu", key_prefix, c->idx,
                      (unsigned long long)c->seq++);
    size_t off = wire_frame_begin(&c->ob);
    msgpack_pack_map(&c->pk, 3);
    wire_pack_kv_strn(&c->pk, "key", key, (size_t)kl);
    wire_pack_kv_str(&c->pk, "type", "credit_application");
    wire_pack_cstr(&c->pk, "fields");
    msgpack_sbuffer_write(&c->ob, (const char *)it->fields, it->fields_len);
    wire_frame_end(&c->ob, off, HITLQ_OP_SUBMIT, 0, (uint32_t)s);
    c->slots[s].kind = 1;
    c->slots[s].t_ns = t_ns;
    c->slots[s].t_sent_ns = bl_now_ns();
    st.sent++;
}

static void
bl_send_claim(struct bconn *c, int s)
{
    size_t off = wire_frame_begin(&c->ob);
    msgpack_pack_map(&c->pk, 2);
    wire_pack_cstr(&c->pk, "queues");
    msgpack_pack_array(&c->pk, 1);
    wire_pack_cstr(&c->pk, opt.queue);
    wire_pack_kv_u64(&c->pk, "lease_ms", 60000);
    wire_frame_end(&c->ob, off, HITLQ_OP_CLAIM, 0, (uint32_t)s);
    c->slots[s].kind = 2;
    c->slots[s].t_ns = bl_now_ns();
    st.sent++;
}

static void
bl_send_resolve(struct bconn *c, int s)
{
    size_t off = wire_frame_begin(&c->ob);
    msgpack_pack_map(&c->pk, 3);
    wire_pack_kv_u64(&c->pk, "id", c->slots[s].id);
    wire_pack_kv_u64(&c->pk, "lease", c->slots[s].lease);
    wire_pack_kv_str(&c->pk, "outcome", "approve");
    wire_frame_end(&c->ob, off, HITLQ_OP_RESOLVE, 0, (uint32_t)s);
    c->slots[s].kind = 3;
    c->slots[s].t_ns = bl_now_ns();
}

/* ---- the modes' send side ---------------------------------------------- */

static uint64_t rate_next_i;     /* submit-rate: next scheduled request */
static uint64_t rate_total;

static uint64_t
rate_due(uint64_t i)
{
    return st.t_start + (uint64_t)((double)i * 1e9 / opt.rate);
}

static bool
bl_all_hello(void)
{
    for (int i = 0; i < opt.conns; i++)
        if (!conns[i].hello_done)
            return false;
    return true;
}

static void
bl_pump(struct bconn *c, uint64_t now)
{
    if (!c->hello_done || c->closed || st.stop_sending)
        return;
    switch (opt.mode) {
    case M_SUBMIT:
    case M_FILL:
        while (c->inflight < opt.depth && st.sent < opt.count) {
            int s = bl_slot_get(c);
            bl_send_submit(c, s, now);
        }
        break;
    case M_CLAIM:
    case M_CLAIM_LAT:
        while (!c->drained && c->inflight < opt.depth && st.sent < opt.count) {
            int s = bl_slot_get(c);
            bl_send_claim(c, s);
        }
        break;
    default:
        break;
    }
}

/* submit-rate: send everything scheduled up to now, in order. */
static void
bl_pump_rate(uint64_t now)
{
    while (rate_next_i < rate_total && rate_due(rate_next_i) <= now) {
        struct bconn *c = &conns[rate_next_i % (uint64_t)opt.conns];
        if (c->closed)
            return;
        if (c->inflight >= opt.depth)
            break;        /* server cap: the request waits; its latency grows */
        uint64_t due = rate_due(rate_next_i);
        if (now - due > 1000000)
            st.late++;
        bl_send_submit(c, bl_slot_get(c), due);
        rate_next_i++;
    }
}

/* ---- the modes' receive side -------------------------------------------- */

static void
bl_count_status(int status)
{
    st.errors++;
    st.by_status[status < 400 ? status : 399]++;
}

static void
bl_on_frame(struct bconn *c, const struct frame *fr, uint64_t now)
{
    const struct frame_hdr *h = &fr->hdr;
    if (h->request_id == BL_HELLO_RID && !c->hello_done) {
        if (h->status != HITLQ_ST_OK) {
            fprintf(stderr, "bench_load: HELLO refused: %s\n", hitlq_status_str(h->status));
            st.fatal = true;
            return;
        }
        c->hello_done = true;
        return;
    }
    if (h->request_id >= BL_MAX_DEPTH || c->slots[h->request_id].kind == 0) {
        fprintf(stderr, "bench_load: conn %d: unexpected reply rid %u op %u status %u\n",
                c->idx, h->request_id, h->opcode, h->status);
        bl_count_status(h->status);
        return;
    }
    int s = (int)h->request_id;
    struct slot *sl = &c->slots[s];
    st.t_last_reply = now;
    if (sl->kind == 1) {                      /* SUBMIT */
        if (h->status == HITLQ_ST_OK) {
            st.ok++;
            h_add(&hist_main, now - sl->t_ns);
            h_add(&hist_sent, now - sl->t_sent_ns);
            if (memmem(fr->body, h->body_len, "\xa6queued", 7))
                st.queued++;
            else if (memmem(fr->body, h->body_len, "\xad" "auto_resolved", 14))
                st.autos++;
        } else {
            bl_count_status(h->status);
        }
        bl_slot_put(c, s);
    } else if (sl->kind == 2) {               /* CLAIM */
        if (opt.mode == M_CLAIM_LAT && h->status == HITLQ_ST_OK)
            h_add(&hist_main, now - sl->t_ns);
        if (h->status == HITLQ_ST_OK) {
            msgpack_object o;
            const msgpack_object *id, *lease;
            msgpack_zone_clear(&zone);
            if (wire_unpack(fr->body, h->body_len, &zone, &o) != HITLQ_ST_OK ||
                !(id = wire_map_get(&o, "id")) || !(lease = wire_map_get(&o, "lease")) ||
                id->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
                lease->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
                fprintf(stderr, "bench_load: CLAIM reply without id/lease\n");
                bl_count_status(399);
                bl_slot_put(c, s);
                return;
            }
            sl->id = id->via.u64;
            sl->lease = lease->via.u64;
            bl_send_resolve(c, s);
        } else {
            if (h->status == HITLQ_ST_EMPTY) {
                st.empties++;
                c->drained = true;
            } else {
                bl_count_status(h->status);
            }
            bl_slot_put(c, s);
        }
    } else if (sl->kind == 3) {               /* RESOLVE */
        if (h->status == HITLQ_ST_OK) {
            st.cycles++;
            st.ok++;
        } else {
            bl_count_status(h->status);
        }
        bl_slot_put(c, s);
    }
}

static void
bl_read(struct bconn *c, uint64_t now)
{
    for (;;) {
        if (c->in_cap - c->in_len < 65536) {
            size_t ncap = c->in_cap ? c->in_cap * 2 : 262144;
            uint8_t *n = realloc(c->in, ncap);
            if (!n)
                bl_die("realloc");
            c->in = n;
            c->in_cap = ncap;
        }
        ssize_t r = bl_read_some(c->fd, c->ssl, c->in + c->in_len, c->in_cap - c->in_len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (r <= 0) {
            fprintf(stderr, "bench_load: conn %d: %s\n", c->idx,
                    r == 0 ? "server closed the connection" : strerror(errno));
            c->closed = true;
            st.fatal = true;
            epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
            return;
        }
        c->in_len += (size_t)r;
        if (c->ssl == NULL && (size_t)r < c->in_cap - c->in_len + (size_t)r)
            break;      /* short read: socket drained (TLS: one record per read) */
    }
    size_t pos = 0;
    for (;;) {
        struct frame fr;
        int status = 0;
        enum frame_rc rc = frame_parse(c->in + pos, c->in_len - pos, HITLQ_MAX_FRAME, &fr, &status);
        if (rc == FRAME_NEED_MORE)
            break;
        if (rc == FRAME_ERROR) {
            fprintf(stderr, "bench_load: conn %d: bad frame from server (%s)\n", c->idx,
                    hitlq_status_str(status));
            c->closed = true;
            st.fatal = true;
            return;
        }
        bl_on_frame(c, &fr, now);
        pos += fr.total_len;
    }
    if (pos > 0) {
        memmove(c->in, c->in + pos, c->in_len - pos);
        c->in_len -= pos;
    }
}

/* ---- the event loop ----------------------------------------------------- */

static void
bl_open_conns(int port)
{
    conns = calloc((size_t)opt.conns, sizeof *conns);
    if (!conns)
        bl_die("calloc");
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        bl_die("epoll_create1");
    for (int i = 0; i < opt.conns; i++) {
        struct bconn *c = &conns[i];
        c->idx = i;
        c->fd = bl_connect_blocking(port);
        if (c->fd < 0)
            bl_die("connect");
        c->ssl = bl_tls_connect(c->fd);          /* before the clock starts */
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
        msgpack_sbuffer_init(&c->ob);
        msgpack_packer_init(&c->pk, &c->ob, msgpack_sbuffer_write);
        for (int s = opt.depth - 1; s >= 0; s--)
            c->free_slots[c->n_free++] = (uint8_t)s;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
            bl_die("epoll_ctl");
        bl_send_hello(c);
        bl_flush(c);
    }
}

static int
bl_total_inflight(void)
{
    int n = 0;
    for (int i = 0; i < opt.conns; i++)
        if (!conns[i].closed)
            n += conns[i].inflight;
    return n;
}

/* Runs until the mode's work is done (or the time limit), then drains. */
static void
bl_run(void)
{
    struct epoll_event evs[64];
    uint64_t hello_deadline = bl_now_ns() + 10000000000ull, t_end = 0, drain_end = 0;
    bool started = false;

    for (;;) {
        uint64_t now = bl_now_ns();
        if (!started) {
            if (bl_all_hello()) {
                started = true;
                st.t_start = now;
                t_end = now + (uint64_t)(opt.seconds * 1e9);
                for (int i = 0; i < opt.conns; i++)
                    bl_pump(&conns[i], now);
            } else if (now > hello_deadline) {
                fprintf(stderr, "bench_load: no HELLO reply within 10 s\n");
                st.fatal = true;
            }
        } else {
            if (!st.stop_sending) {
                bool done = now >= t_end;
                if (opt.mode == M_RATE)
                    done = done || rate_next_i >= rate_total;
                else if (opt.mode == M_CLAIM || opt.mode == M_CLAIM_LAT) {
                    bool all_drained = true;
                    for (int i = 0; i < opt.conns; i++)
                        all_drained = all_drained && (conns[i].drained || conns[i].closed);
                    done = done || st.sent >= opt.count || all_drained;
                } else
                    done = done || st.sent >= opt.count;
                if (done) {
                    st.stop_sending = true;
                    drain_end = now + BL_DRAIN_NS;
                }
            }
            if (st.stop_sending && (bl_total_inflight() == 0 || now > drain_end)) {
                if (bl_total_inflight() > 0)
                    fprintf(stderr, "bench_load: %d replies still missing after %.0f s drain\n",
                            bl_total_inflight(), BL_DRAIN_NS / 1e9);
                return;
            }
            if (opt.mode == M_RATE && !st.stop_sending)
                bl_pump_rate(now);
        }
        if (st.fatal)
            return;
        for (int i = 0; i < opt.conns; i++)
            bl_flush(&conns[i]);

        /* Wait: until the next scheduled send (rate mode) or up to 100 ms. */
        struct timespec to = { 0, 100000000 };
        if (opt.mode == M_RATE && started && !st.stop_sending && rate_next_i < rate_total) {
            uint64_t due = rate_due(rate_next_i), n2 = bl_now_ns();
            uint64_t d = due > n2 ? due - n2 : 0;
            if (d < 100000000)
                to.tv_nsec = (long)d;
        }
        int n = epoll_pwait2(epfd, evs, 64, &to, NULL);
        if (n < 0 && errno != EINTR)
            bl_die("epoll_pwait2");
        now = bl_now_ns();
        for (int i = 0; i < n; i++) {
            struct bconn *c = evs[i].data.ptr;
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                bl_read(c, now);
            if (st.fatal)
                return;
            if (evs[i].events & EPOLLOUT)
                bl_flush(c);
        }
        if (started)
            for (int i = 0; i < opt.conns; i++)
                bl_pump(&conns[i], now);
    }
}

static void
bl_print_errors(void)
{
    if (st.errors == 0)
        return;
    fprintf(stdout, "bench: errors by status:");
    for (int i = 0; i < 400; i++)
        if (st.by_status[i])
            fprintf(stdout, " %s=%llu", i == 399 ? "other" : hitlq_status_str(i),
                    (unsigned long long)st.by_status[i]);
    fprintf(stdout, "\n");
}

/* ---- blocking one-shot helpers (ping, stats) ---------------------------- */

static int
bl_rpc(int fd, SSL *ssl, uint8_t op, msgpack_sbuffer *sb, size_t off, uint32_t rid,
       uint8_t **buf, size_t *cap, struct frame *fr, double timeout_s)
{
    wire_frame_end(sb, off, op, 0, rid);
    size_t w = 0;
    while (w < sb->size) {
        ssize_t r = bl_write(fd, ssl, sb->data + w, sb->size - w);
        if (r <= 0)
            return -1;
        w += (size_t)r;
    }
    msgpack_sbuffer_clear(sb);
    struct timeval tv = { (time_t)timeout_s, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t len = 0;
    for (;;) {
        int status;
        if (frame_parse(*buf, len, HITLQ_MAX_FRAME, fr, &status) == FRAME_OK)
            return fr->hdr.status;
        if (len == *cap) {
            *cap = *cap ? *cap * 2 : 65536;
            *buf = realloc(*buf, *cap);
            if (!*buf)
                bl_die("realloc");
        }
        ssize_t r = bl_read_some(fd, ssl, *buf + len, *cap - len);
        if (r <= 0)
            return -1;
        len += (size_t)r;
    }
}

static int
bl_hello_blocking(int fd, SSL *ssl, msgpack_sbuffer *sb, msgpack_packer *pk, uint8_t **buf,
                  size_t *cap, double timeout_s)
{
    struct frame fr;
    size_t off = wire_frame_begin(sb);
    msgpack_pack_map(pk, opt.api_key[0] ? 3 : 2);
    wire_pack_kv_u64(pk, "version", HITLQ_PROTO_VERSION);
    wire_pack_kv_str(pk, "client", "bench_load");
    if (opt.api_key[0])
        wire_pack_kv_str(pk, "api_key", opt.api_key);
    return bl_rpc(fd, ssl, HITLQ_OP_HELLO, sb, off, 1, buf, cap, &fr, timeout_s);
}

static int
bl_mode_ping(void)
{
    uint64_t t0 = opt.t0_real_ns ? opt.t0_real_ns : bl_real_ns();
    uint64_t limit = bl_now_ns() + (uint64_t)(opt.timeout_s * 1e9);
    int port = opt.port;
    double t_port = 0;
    struct timespec ms1 = { 0, 1000000 };

    if (opt.portfile) {
        while ((port = bl_read_portfile(opt.portfile)) <= 0) {
            if (bl_now_ns() > limit) {
                printf("bench: ping: no port file %s within %.0f s\n", opt.portfile, opt.timeout_s);
                return 1;
            }
            nanosleep(&ms1, NULL);
        }
        t_port = (double)(bl_real_ns() - t0) / 1e6;
    }
    int fd;
    while ((fd = bl_connect_blocking(port)) < 0) {
        if (bl_now_ns() > limit) {
            printf("bench: ping: cannot connect to port %d within %.0f s\n", port, opt.timeout_s);
            return 1;
        }
        nanosleep(&ms1, NULL);
    }
    msgpack_sbuffer sb;
    msgpack_packer pk;
    uint8_t *buf = NULL;
    size_t cap = 0;
    struct frame fr;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    SSL *ssl = bl_tls_connect(fd);
    int rc = bl_hello_blocking(fd, ssl, &sb, &pk, &buf, &cap, opt.timeout_s);
    if (rc == HITLQ_ST_OK) {
        size_t off = wire_frame_begin(&sb);
        rc = bl_rpc(fd, ssl, HITLQ_OP_PING, &sb, off, 2, &buf, &cap, &fr, opt.timeout_s);
    }
    double t_ping = (double)(bl_real_ns() - t0) / 1e6;
    SSL_free(ssl);
    close(fd);
    free(buf);
    msgpack_sbuffer_destroy(&sb);
    if (rc != HITLQ_ST_OK) {
        printf("bench: ping: failed (%s)\n", rc < 0 ? "connection" : hitlq_status_str(rc));
        return 1;
    }
    printf("bench: ping%s port file after = %.1f ms, first PING answered after = %.1f ms\n",
           opt.label, t_port, t_ping);
    return 0;
}

static uint64_t
bl_obj_u64(const msgpack_object *m, const char *k)
{
    const msgpack_object *o = wire_map_get(m, k);
    return o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? o->via.u64 : 0;
}

static int
bl_mode_stats(void)
{
    int port = opt.portfile ? bl_read_portfile(opt.portfile) : opt.port;
    int fd = port > 0 ? bl_connect_blocking(port) : -1;
    if (fd < 0) {
        printf("bench: stats: cannot connect\n");
        return 1;
    }
    msgpack_sbuffer sb;
    msgpack_packer pk;
    uint8_t *buf = NULL;
    size_t cap = 0;
    struct frame fr;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    SSL *ssl = bl_tls_connect(fd);
    int rc = bl_hello_blocking(fd, ssl, &sb, &pk, &buf, &cap, opt.timeout_s);
    if (rc == HITLQ_ST_OK) {
        size_t off = wire_frame_begin(&sb);
        rc = bl_rpc(fd, ssl, HITLQ_OP_STATS, &sb, off, 2, &buf, &cap, &fr, opt.timeout_s);
    }
    msgpack_object o;
    if (rc != HITLQ_ST_OK || wire_unpack(fr.body, fr.hdr.body_len, &zone, &o) != HITLQ_ST_OK ||
        o.type != MSGPACK_OBJECT_MAP) {
        printf("bench: stats: failed\n");
        return 1;
    }
    for (uint32_t i = 0; i < o.via.map.size; i++) {
        const msgpack_object_kv *kv = &o.via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            continue;
        int kl = (int)kv->key.via.str.size;
        const char *k = kv->key.via.str.ptr;
        bool is_q = kl == 6 && memcmp(k, "queues", 6) == 0;
        bool is_t = kl == 5 && memcmp(k, "types", 5) == 0;
        if ((is_q || is_t) && kv->val.type == MSGPACK_OBJECT_ARRAY) {
            for (uint32_t j = 0; j < kv->val.via.array.size; j++) {
                const msgpack_object *e = &kv->val.via.array.ptr[j];
                const msgpack_object *nm = wire_map_get(e, is_q ? "queue" : "type");
                if (!nm || nm->type != MSGPACK_OBJECT_STR)
                    continue;
                if (is_q)
                    printf("bench: stats queue %.*s depth=%llu leased=%llu delayed=%llu\n",
                           (int)nm->via.str.size, nm->via.str.ptr,
                           (unsigned long long)bl_obj_u64(e, "depth"),
                           (unsigned long long)bl_obj_u64(e, "leased"),
                           (unsigned long long)bl_obj_u64(e, "delayed"));
                else
                    printf("bench: stats type %.*s submitted=%llu auto_resolved=%llu queued=%llu\n",
                           (int)nm->via.str.size, nm->via.str.ptr,
                           (unsigned long long)bl_obj_u64(e, "submitted"),
                           (unsigned long long)bl_obj_u64(e, "auto_resolved"),
                           (unsigned long long)bl_obj_u64(e, "queued"));
            }
        } else if (kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            printf("bench: stats key %.*s = %llu\n", kl, k,
                   (unsigned long long)kv->val.via.u64);
        } else if (kv->val.type == MSGPACK_OBJECT_MAP) {
            /* e.g. a future {batches, ops, ...} block: print its integers */
            for (uint32_t j = 0; j < kv->val.via.map.size; j++) {
                const msgpack_object_kv *s2 = &kv->val.via.map.ptr[j];
                if (s2->key.type == MSGPACK_OBJECT_STR &&
                    s2->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                    printf("bench: stats key %.*s.%.*s = %llu\n", kl, k,
                           (int)s2->key.via.str.size, s2->key.via.str.ptr,
                           (unsigned long long)s2->val.via.u64);
            }
        }
    }
    SSL_free(ssl);
    close(fd);
    free(buf);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}

/* ---- idle-tls: many idle authenticated TLS connections ------------------ */

/* VmRSS of pid in kB, -1 when unknown. */
static long
bl_rss_kb(int pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* Opens opt.count TLS connections, HELLO+PING on each, holds them. */
static int
bl_mode_idle_tls(int port)
{
    size_t n = (size_t)opt.count, cap = 0;
    int *fds = calloc(n, sizeof *fds);
    SSL **ssls = calloc(n, sizeof *ssls);
    long before = opt.srv_pid ? bl_rss_kb(opt.srv_pid) : -1, after;
    uint64_t t0 = bl_now_ns();
    msgpack_sbuffer sb;
    msgpack_packer pk;
    uint8_t *buf = NULL;
    struct frame fr;
    int rc = HITLQ_ST_OK;

    if (fds == NULL || ssls == NULL)
        bl_die("calloc");
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (size_t i = 0; i < n && rc == HITLQ_ST_OK; i++) {
        if ((fds[i] = bl_connect_blocking(port)) < 0)
            bl_die("connect");
        ssls[i] = bl_tls_connect(fds[i]);
        rc = bl_hello_blocking(fds[i], ssls[i], &sb, &pk, &buf, &cap, opt.timeout_s);
        if (rc == HITLQ_ST_OK)
            rc = bl_rpc(fds[i], ssls[i], HITLQ_OP_PING, &sb, wire_frame_begin(&sb), 2, &buf,
                        &cap, &fr, opt.timeout_s);
        if (rc != HITLQ_ST_OK)
            printf("bench: idle-tls: connection %zu: %s\n", i,
                   rc < 0 ? "failed" : hitlq_status_str(rc));
    }
    double t_open = (double)(bl_now_ns() - t0) / 1e9;
    struct timespec hold = { (time_t)opt.seconds,
                             (long)((opt.seconds - (double)(time_t)opt.seconds) * 1e9) };
    nanosleep(&hold, NULL);
    after = opt.srv_pid ? bl_rss_kb(opt.srv_pid) : -1;
    if (rc == HITLQ_ST_OK)
        printf("bench: idle-tls conns = %zu%s (HELLO%s + PING each, opened in %.2f s), "
               "server VmRSS before = %ld kB after = %ld kB delta = %ld kB\n", n, opt.label,
               opt.api_key[0] ? " with api_key" : " without api_key", t_open, before, after,
               before >= 0 && after >= 0 ? after - before : -1);
    for (size_t i = 0; i < n; i++) {
        SSL_free(ssls[i]);
        if (fds[i] > 0)
            close(fds[i]);
    }
    free(fds);
    free(ssls);
    free(buf);
    msgpack_sbuffer_destroy(&sb);
    return rc == HITLQ_ST_OK ? 0 : 1;
}

/* ---- items -------------------------------------------------------------- */

/* -m: drop the first entry of every fields map (a model feature), so that
 * the item is incomplete and never auto-resolved. */
static void
bl_drop_first_field(void)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (size_t i = 0; i < n_items; i++) {
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        if (msgpack_unpack_next(&u, (const char *)bl_items[i].fields, bl_items[i].fields_len, NULL) !=
                MSGPACK_UNPACK_SUCCESS || u.data.type != MSGPACK_OBJECT_MAP ||
            u.data.via.map.size < 2) {
            fprintf(stderr, "bench_load: item %zu: cannot re-pack\n", i);
            exit(1);
        }
        msgpack_sbuffer_clear(&sb);
        msgpack_pack_map(&pk, u.data.via.map.size - 1);
        for (uint32_t j = 1; j < u.data.via.map.size; j++) {
            msgpack_pack_object(&pk, u.data.via.map.ptr[j].key);
            msgpack_pack_object(&pk, u.data.via.map.ptr[j].val);
        }
        msgpack_unpacked_destroy(&u);
        memcpy(bl_items[i].fields, sb.data, sb.size);    /* never longer than before */
        bl_items[i].fields_len = sb.size;
    }
    msgpack_sbuffer_destroy(&sb);
}

/* ---- main ---------------------------------------------------------------- */

static void
bl_usage(void)
{
    fprintf(stderr,
        "usage: bench_load submit|submit-rate|fill|claim|claim-latency|ping|stats|idle-tls\n"
        "       (-p PORT | -P PORTFILE) [-c CONNS] [-d DEPTH] [-n COUNT] [-t SECONDS]\n"
        "       [-r RATE] [-f CSV] [-m] [-q QUEUE] [-L LABEL] [-T TIMEOUT_S] [-0 T0_NS]\n"
        "       [-A CAFILE] [-K KEYFILE] [-s SERVER_PID]\n");
}

static const struct { const char *name; enum bl_mode mode; } bl_modes[] = {
    { "submit", M_SUBMIT }, { "submit-rate", M_RATE }, { "fill", M_FILL },
    { "claim", M_CLAIM }, { "claim-latency", M_CLAIM_LAT }, { "ping", M_PING },
    { "stats", M_STATS }, { "idle-tls", M_IDLE_TLS },
};

/* -K: the API key is the file's first line. */
static void
bl_read_key(const char *file)
{
    FILE *f = fopen(file, "r");

    if (f == NULL || fgets(opt.api_key, sizeof opt.api_key, f) == NULL)
        bl_die(file);
    fclose(f);
    opt.api_key[strcspn(opt.api_key, "\r\n")] = '\0';
}

int
main(int argc, char **argv)
{
    bool have_n = false, have_t = false, have_c = false, have_d = false;
    int ch;

    if (argc < 2) {
        bl_usage();
        return 2;
    }
    opt.mode_name = argv[1];
    size_t mi;
    for (mi = 0; mi < sizeof bl_modes / sizeof bl_modes[0]; mi++)
        if (strcmp(argv[1], bl_modes[mi].name) == 0)
            break;
    if (mi == sizeof bl_modes / sizeof bl_modes[0]) {
        bl_usage();
        return 2;
    }
    opt.mode = bl_modes[mi].mode;
    optind = 2;
    while ((ch = getopt(argc, argv, "p:P:c:d:n:t:r:f:mq:L:T:0:A:K:s:h")) != -1) {
        switch (ch) {
        case 'p': opt.port = atoi(optarg); break;
        case 'P': opt.portfile = optarg; break;
        case 'c': opt.conns = atoi(optarg); have_c = true; break;
        case 'd': opt.depth = atoi(optarg); have_d = true; break;
        case 'n': opt.count = strtoull(optarg, NULL, 10); have_n = true; break;
        case 't': opt.seconds = atof(optarg); have_t = true; break;
        case 'r': opt.rate = atof(optarg); break;
        case 'f': opt.csv = optarg; break;
        case 'm': opt.missing = true; break;
        case 'q': opt.queue = optarg; break;
        case 'L': opt.label = optarg; break;
        case 'T': opt.timeout_s = atof(optarg); break;
        case '0': opt.t0_real_ns = strtoull(optarg, NULL, 10); break;
        case 'A': opt.tls_ca = optarg; break;
        case 'K': bl_read_key(optarg); break;
        case 's': opt.srv_pid = atoi(optarg); break;
        default: bl_usage(); return ch == 'h' ? 0 : 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    msgpack_zone_init(&zone, 65536);
    if (opt.tls_ca != NULL)
        bl_tls_init();
    else if (opt.mode == M_IDLE_TLS) {
        fprintf(stderr, "bench_load: idle-tls needs -A CAFILE\n");
        return 2;
    }
    if (opt.mode == M_IDLE_TLS) {
        int iport = opt.portfile ? bl_read_portfile(opt.portfile) : opt.port;
        if (!have_n)
            opt.count = 1000;
        if (!have_t)
            opt.seconds = 1;
        return iport > 0 ? bl_mode_idle_tls(iport) : 2;
    }
    if (opt.mode == M_PING)
        return bl_mode_ping();
    if (opt.mode == M_STATS)
        return bl_mode_stats();

    /* Per-mode defaults; every run is bounded by count and time. */
    if (opt.mode == M_CLAIM_LAT) {
        if (!have_c)
            opt.conns = 1;
        if (!have_d)
            opt.depth = 1;
    }
    if (!have_n)
        opt.count = opt.mode == M_FILL ? 100000 : opt.mode == M_CLAIM_LAT ? 2000 : 10000000;
    if (!have_t)
        opt.seconds = opt.mode == M_FILL ? 120 : opt.mode == M_CLAIM_LAT ? 30 : 5;
    if (opt.conns < 1 || opt.conns > 1024 || opt.depth < 1 || opt.depth > BL_MAX_DEPTH ||
        opt.seconds <= 0 || opt.seconds > 600 || opt.count == 0 || opt.rate <= 0) {
        fprintf(stderr, "bench_load: bad option value (conns 1..1024, depth 1..%d, "
                        "seconds 0..600)\n", BL_MAX_DEPTH);
        return 2;
    }
    if (opt.mode == M_RATE) {
        rate_total = (uint64_t)(opt.rate * opt.seconds);
        if (have_n && opt.count < rate_total)
            rate_total = opt.count;
        opt.seconds += 1.0;    /* the schedule ends first; this is a backstop */
    }
    int port = opt.portfile ? bl_read_portfile(opt.portfile) : opt.port;
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "bench_load: no port (-p PORT or -P PORTFILE)\n");
        return 2;
    }
    if (opt.mode == M_SUBMIT || opt.mode == M_RATE || opt.mode == M_FILL) {
        if (credit_items_load(opt.csv, &bl_items, &n_items) != 0) {
            fprintf(stderr, "bench_load: cannot load %s: %s\n", opt.csv, strerror(errno));
            return 1;
        }
        if (opt.missing)
            bl_drop_first_field();
    }
    rng ^= bl_real_ns() ^ ((uint64_t)getpid() << 32);
    snprintf(key_prefix, sizeof key_prefix, "b%llx",
             (unsigned long long)(bl_real_ns() / 1000 ^ (uint64_t)getpid()));

    bl_open_conns(port);
    bl_run();
    double secs = st.t_last_reply > st.t_start ? (double)(st.t_last_reply - st.t_start) / 1e9 : 0;
    if (st.fatal)
        printf("bench: %s%s ABORTED (connection or protocol failure; see stderr)\n",
               opt.mode_name, opt.label);
    switch (opt.mode) {
    case M_SUBMIT:
        printf("bench: durable submits/s%s = %.0f (%d conns x %d in flight, %llu items, "
               "%llu errors, %.2f s; queued %llu, auto_resolved %llu)\n",
               opt.label, secs > 0 ? (double)st.ok / secs : 0, opt.conns, opt.depth,
               (unsigned long long)st.ok, (unsigned long long)st.errors, secs,
               (unsigned long long)st.queued, (unsigned long long)st.autos);
        printf("bench: submit latency us%s p50 = %.0f p99 = %.0f p99.9 = %.0f max = %.0f "
               "(closed loop, %d x %d)\n", opt.label, h_pct(&hist_main, 50), h_pct(&hist_main, 99), h_pct(&hist_main, 99.9),
               (double)hist_main.max_ns / 1e3, opt.conns, opt.depth);
        break;
    case M_FILL:
        printf("bench: fill%s = %llu items ok (queued %llu, auto_resolved %llu, %llu errors) "
               "in %.2f s = %.0f/s\n", opt.label, (unsigned long long)st.ok,
               (unsigned long long)st.queued, (unsigned long long)st.autos,
               (unsigned long long)st.errors, secs, secs > 0 ? (double)st.ok / secs : 0);
        break;
    case M_RATE: {
        double sched = (double)rate_total / opt.rate;
        printf("bench: submit-rate offered %.0f/s achieved = %.0f/s (%d conns, %llu items, "
               "%llu errors, %llu sent >1 ms late, %.2f s)\n", opt.rate,
               secs > 0 ? (double)st.ok / (secs > sched ? secs : sched) : 0, opt.conns,
               (unsigned long long)st.ok, (unsigned long long)st.errors,
               (unsigned long long)st.late, secs);
        printf("bench: submit latency us at %.0f/s%s p50 = %.0f p99 = %.0f p99.9 = %.0f "
               "max = %.0f (open loop, from scheduled send)\n", opt.rate, opt.label,
               h_pct(&hist_main, 50), h_pct(&hist_main, 99), h_pct(&hist_main, 99.9), (double)hist_main.max_ns / 1e3);
        printf("bench: submit latency us at %.0f/s from actual send%s p50 = %.0f p99 = %.0f "
               "p99.9 = %.0f max = %.0f (excludes client-side lateness)\n", opt.rate, opt.label,
               h_pct(&hist_sent, 50), h_pct(&hist_sent, 99), h_pct(&hist_sent, 99.9),
               (double)hist_sent.max_ns / 1e3);
        break;
    }
    case M_CLAIM:
        printf("bench: claim+resolve cycles/s%s = %.0f (%d conns x %d in flight, %llu cycles, "
               "%llu errors, %llu empty, %.2f s)\n", opt.label,
               secs > 0 ? (double)st.cycles / secs : 0, opt.conns, opt.depth,
               (unsigned long long)st.cycles, (unsigned long long)st.errors,
               (unsigned long long)st.empties, secs);
        break;
    case M_CLAIM_LAT:
        printf("bench: claim latency us%s p50 = %.0f p99 = %.0f mean = %.0f max = %.0f "
               "(%llu samples, %llu errors, %llu empty)\n", opt.label, h_pct(&hist_main, 50), h_pct(&hist_main, 99),
               hist_main.n ? (double)hist_main.sum_ns / (double)hist_main.n / 1e3 : 0, (double)hist_main.max_ns / 1e3,
               (unsigned long long)hist_main.n, (unsigned long long)st.errors,
               (unsigned long long)st.empties);
        break;
    default:
        break;
    }
    bl_print_errors();
    for (int i = 0; i < opt.conns; i++) {
        SSL_free(conns[i].ssl);
        close(conns[i].fd);
        msgpack_sbuffer_destroy(&conns[i].ob);
        free(conns[i].in);
    }
    free(conns);
    credit_items_free(bl_items, n_items);
    msgpack_zone_destroy(&zone);
    return st.fatal ? 1 : 0;
}

#include "credit_items.c"
