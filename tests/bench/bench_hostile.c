/*
 * bench_hostile.c - a good client under hostile load, for `make bench`
 * section (t) (issue 15: "a good client's submit rate and p99 while 200
 * hostile connections run ... as a ratio to the same client alone in the
 * same run: >= 0.8 throughput, p99 <= 3x").
 *
 *   bench_hostile (-p PORT | -P PORTFILE) [options]
 *
 * The good client is one connection pipelining SUBMITs (-d in flight, 64
 * like section (b)) with distinct idempotency keys (German Credit rows,
 * tests/lib/credit_items.c), timing each request from its send to its
 * reply.  It runs without pause through 2R+1 phases: alone, hostile,
 * alone, hostile, ..., alone.  A hostile phase runs the mix of
 * tests/lib/hostile_mix.c on its own thread: -n connections of each kind
 * (random bytes, slowloris, never-reading GET/PING pipeliners, idle
 * sockets; 4 x 50 = 200), from -a source addresses 127.0.0.2.., each
 * re-opened -R ms after the server closes or refuses it.  Every phase
 * lasts -s settle seconds (not measured: the mix ramps up or winds down)
 * plus -t measured seconds; a reply counts in the phase whose measured
 * window it arrives in (a request still waiting at the window's end counts
 * in the maximum with its wait so far, and is the p99 of a window without
 * any reply: a lower bound).  Round i compares hostile phase i with the alone
 * phases before and after it (their replies pooled): throughput ratio =
 * hostile rate / alone rate, p99 ratio = hostile p99 / alone p99.  The
 * pipeliners GET ids of items the good client created.
 *
 * Options: -t SECONDS (10) -s SETTLE_S (1) -r ROUNDS (5) -n PER_KIND (50)
 *          -d DEPTH (64) -a ADDRS (5) -R RECONNECT_MS (10)
 *          -S SLOW_BYTE_MS (1000) -f CSV -k KIND[,KIND...] (only those
 *          kinds of the mix: random, slowloris, pipeline, idle; to find
 *          which one costs; the line then says "with N hostile" for those)
 *
 * Output: per-phase and per-round lines, then "bench: hostile: ..." (the
 * medians and ratios) and "bench: hostile mix: ..." (what the mix did),
 * fixed format for scripts/bench.sh.  Exit 1 (line "ABORTED") if the good
 * connection is closed or a SUBMIT gets anything but ok.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "credit_items.h"
#include "frame.h"
#include "hitlq_proto.h"
#include "hostile_mix.h"
#include "wire.h"

#define BH_MAX_DEPTH  ((int)HITLQ_MAX_INFLIGHT)
#define BH_HELLO_RID  0xfffffff0u
#define BH_MAX_ROUNDS 50

static struct {
    int         port;
    const char *portfile;
    double      seconds, settle;
    int         rounds, per_kind, depth, addrs, reconnect_ms, slow_ms;
    unsigned    kinds;           /* -k: bit (1 << kind) per kind; 0 = all */
    const char *csv;
} opt = {
    .seconds = 10, .settle = 1, .rounds = 5, .per_kind = 50, .depth = 64,
    .addrs = 5, .reconnect_ms = 10, .slow_ms = 1000, .csv = CREDIT_ITEMS_CSV,
};

/* One phase's measured window and what arrived in it. */
struct phase {
    uint64_t  t0, t1;            /* measured window, monotonic ns */
    uint64_t  ok;
    uint32_t *lat_us;            /* one per ok reply */
    size_t    n_lat, cap_lat;
    uint32_t  stuck_us;          /* at t1, the oldest request's wait so far */
    struct hmix_stats mix;       /* hostile phases */
};

/* The good client's connection. */
static struct {
    int              fd;
    msgpack_sbuffer  ob;
    size_t           ob_off;
    msgpack_packer   pk;
    uint8_t         *in;
    size_t           in_len, in_cap;
    uint64_t         t_sent[BH_MAX_DEPTH];
    bool             busy[BH_MAX_DEPTH];
    int              inflight;
    uint64_t         seq, bad;
    bool             fatal;
} g;

static struct credit_item *gc_items;
static size_t n_items;
static char key_prefix[40];
static uint64_t rng = 0x2545f4914f6cdd1dull;
static msgpack_zone zone;
static _Atomic uint64_t id_max;      /* highest item id the good client got */

static uint64_t
bh_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
bh_die(const char *what)
{
    fprintf(stderr, "bench_hostile: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int
bh_read_portfile(const char *path)
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

/* ---- latency figures -------------------------------------------------------- */

static void
ph_add(struct phase *p, uint64_t ns)
{
    if (p->n_lat == p->cap_lat) {
        size_t nc = p->cap_lat ? p->cap_lat * 2 : 65536;
        uint32_t *n = realloc(p->lat_us, nc * sizeof *n);
        if (!n)
            bh_die("realloc");
        p->lat_us = n;
        p->cap_lat = nc;
    }
    uint64_t us = ns / 1000;
    p->lat_us[p->n_lat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    p->ok++;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Percentile q (0..1) of the pooled latencies of a and b (b may be NULL),
 * in ms; -1 when there are none. */
static double
pct_ms(const struct phase *a, const struct phase *b, double q)
{
    size_t n = a->n_lat + (b ? b->n_lat : 0);
    uint32_t stuck = a->stuck_us;
    if (b && b->stuck_us > stuck)
        stuck = b->stuck_us;
    if (n == 0)                  /* no reply at all: a lower bound */
        return stuck / 1000.0;
    uint32_t *v = malloc(n * sizeof *v);
    if (!v)
        bh_die("malloc");
    memcpy(v, a->lat_us, a->n_lat * sizeof *v);
    if (b)
        memcpy(v + a->n_lat, b->lat_us, b->n_lat * sizeof *v);
    qsort(v, n, sizeof *v, cmp_u32);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    double ms = v[i] / 1000.0;
    if (q >= 1.0 && stuck > v[i])
        ms = stuck / 1000.0;     /* the longest wait may still be going on */
    free(v);
    return ms;
}

static double
rate_of(const struct phase *p)
{
    return (double)p->ok / ((double)(p->t1 - p->t0) / 1e9);
}

static int
cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Number of hostile connections a phase runs. */
static int
n_hostile(void)
{
    int kinds = 0;
    for (int k = 0; k < HMIX_KINDS; k++)
        kinds += opt.kinds == 0 || (opt.kinds & (1u << k));
    return opt.per_kind * kinds;
}

/* ---- the good client --------------------------------------------------------- */

static void
good_send_submit(int s)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    const struct credit_item *it = &gc_items[(rng >> 33) % n_items];
    char key[80];
    int kl = snprintf(key, sizeof key, "%s-%llu", key_prefix, (unsigned long long)g.seq++);
    size_t off = wire_frame_begin(&g.ob);
    msgpack_pack_map(&g.pk, 3);
    wire_pack_kv_strn(&g.pk, "key", key, (size_t)kl);
    wire_pack_kv_str(&g.pk, "type", "credit_application");
    wire_pack_cstr(&g.pk, "fields");
    msgpack_sbuffer_write(&g.ob, (const char *)it->fields, it->fields_len);
    wire_frame_end(&g.ob, off, HITLQ_OP_SUBMIT, 0, (uint32_t)s);
    g.busy[s] = true;
    g.t_sent[s] = bh_now_ns();
    g.inflight++;
}

/* Fills the window, then writes what the socket takes. */
static void
good_pump(void)
{
    for (int s = 0; s < opt.depth && g.inflight < opt.depth; s++)
        if (!g.busy[s])
            good_send_submit(s);
    while (g.ob.size > g.ob_off) {
        ssize_t w = send(g.fd, g.ob.data + g.ob_off, g.ob.size - g.ob_off, MSG_NOSIGNAL);
        if (w > 0)
            g.ob_off += (size_t)w;
        else if (w < 0 && errno == EINTR)
            continue;
        else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        else {
            fprintf(stderr, "bench_hostile: good client: send: %s\n", strerror(errno));
            g.fatal = true;
            return;
        }
    }
    if (g.ob_off == g.ob.size) {
        msgpack_sbuffer_clear(&g.ob);
        g.ob_off = 0;
    }
}

/* A SUBMIT reply: its latency into p (when it arrived in p's window) and
 * the item id into id_max. */
static void
good_on_frame(const struct frame *fr, struct phase *p, uint64_t now)
{
    const struct frame_hdr *h = &fr->hdr;
    uint32_t s = h->request_id;
    if (s >= (uint32_t)BH_MAX_DEPTH || !g.busy[s] || h->status != HITLQ_ST_OK) {
        fprintf(stderr, "bench_hostile: good client: reply rid %u op %u status %s\n",
                s, h->opcode, hitlq_status_str(h->status));
        g.bad++;
        g.fatal = true;
        return;
    }
    g.busy[s] = false;
    g.inflight--;
    if (p && now >= p->t0 && now < p->t1)
        ph_add(p, now - g.t_sent[s]);
    msgpack_object o;
    const msgpack_object *id;
    msgpack_zone_clear(&zone);
    if (wire_unpack(fr->body, h->body_len, &zone, &o) == HITLQ_ST_OK &&
        (id = wire_map_get(&o, "id")) && id->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
        id->via.u64 > atomic_load(&id_max))
        atomic_store(&id_max, id->via.u64);
}

/* Reads what arrived and handles every whole frame. */
static void
good_read(struct phase *p)
{
    for (;;) {
        if (g.in_cap - g.in_len < 65536) {
            g.in_cap = g.in_cap ? g.in_cap * 2 : 262144;
            if (!(g.in = realloc(g.in, g.in_cap)))
                bh_die("realloc");
        }
        ssize_t r = recv(g.fd, g.in + g.in_len, g.in_cap - g.in_len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (r <= 0) {
            fprintf(stderr, "bench_hostile: good client: %s\n",
                    r == 0 ? "the server closed the connection" : strerror(errno));
            g.fatal = true;
            return;
        }
        g.in_len += (size_t)r;
    }
    uint64_t now = bh_now_ns();
    size_t pos = 0;
    struct frame fr;
    int status = 0;
    while (!g.fatal && frame_parse(g.in + pos, g.in_len - pos, HITLQ_MAX_FRAME, &fr, &status)
                       == FRAME_OK) {
        good_on_frame(&fr, p, now);
        pos += fr.total_len;
    }
    memmove(g.in, g.in + pos, g.in_len - pos);
    g.in_len -= pos;
}

/* Runs the good client until t_end (monotonic ns). */
static void
good_run_until(uint64_t t_end, struct phase *p)
{
    while (!g.fatal) {
        uint64_t now = bh_now_ns();
        if (now >= t_end)
            return;
        good_pump();
        struct pollfd pfd = { .fd = g.fd, .events = POLLIN };
        if (g.ob.size > g.ob_off)
            pfd.events |= POLLOUT;
        uint64_t ms = (t_end - now) / 1000000 + 1;
        int n = poll(&pfd, 1, ms > 50 ? 50 : (int)ms);
        if (n < 0 && errno != EINTR)
            bh_die("poll");
        if (n > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP)))
            good_read(p);
    }
}

/* Connects and completes HELLO (blocking, 10 s), then goes non-blocking. */
static void
good_open(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (g.fd < 0 || connect(g.fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        bh_die("connect");
    int one = 1;
    setsockopt(g.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(g.fd, F_SETFL, fcntl(g.fd, F_GETFL) | O_NONBLOCK);
    msgpack_sbuffer_init(&g.ob);
    msgpack_packer_init(&g.pk, &g.ob, msgpack_sbuffer_write);
    size_t off = wire_frame_begin(&g.ob);
    msgpack_pack_map(&g.pk, 3);
    wire_pack_kv_u64(&g.pk, "version", HITLQ_PROTO_VERSION);
    wire_pack_kv_str(&g.pk, "client", "bench_hostile");
    wire_pack_kv_str(&g.pk, "name", "good");
    wire_frame_end(&g.ob, off, HITLQ_OP_HELLO, 0, BH_HELLO_RID);
    if (send(g.fd, g.ob.data, g.ob.size, MSG_NOSIGNAL) != (ssize_t)g.ob.size)
        bh_die("send HELLO");
    msgpack_sbuffer_clear(&g.ob);
    uint8_t buf[4096];
    size_t len = 0;
    struct frame fr;
    int status = 0;
    uint64_t deadline = bh_now_ns() + 10000000000ull;
    while (frame_parse(buf, len, sizeof buf, &fr, &status) != FRAME_OK) {
        struct pollfd pfd = { .fd = g.fd, .events = POLLIN };
        ssize_t r = poll(&pfd, 1, 100) > 0 ? recv(g.fd, buf + len, sizeof buf - len, 0) : 0;
        if (r < 0 || (r == 0 && pfd.revents) || bh_now_ns() > deadline || len == sizeof buf)
            bh_die("HELLO reply");
        len += (size_t)(r > 0 ? r : 0);
    }
    if (fr.hdr.status != HITLQ_ST_OK) {
        fprintf(stderr, "bench_hostile: HELLO refused: %s\n", hitlq_status_str(fr.hdr.status));
        exit(1);
    }
}

/* ---- phases and rounds ------------------------------------------------------- */

/* One phase: settle, then the measured window; with the mix when hostile. */
static void
phase_run(struct phase *p, bool hostile)
{
    struct hmix *m = NULL;
    if (hostile) {
        struct hmix_opts mo = {
            .port = (uint16_t)opt.port, .per_kind = (unsigned)opt.per_kind,
            .n_addrs = (unsigned)opt.addrs, .reconnect_ms = (unsigned)opt.reconnect_ms,
            .slow_byte_ms = (unsigned)opt.slow_ms, .get_id_max = &id_max,
            .kinds = opt.kinds,
        };
        if (!(m = hmix_start(&mo)))
            exit(1);
    }
    uint64_t now = bh_now_ns();
    p->t0 = now + (uint64_t)(opt.settle * 1e9);
    p->t1 = p->t0 + (uint64_t)(opt.seconds * 1e9);
    good_run_until(p->t1, p);
    for (int s = 0; s < BH_MAX_DEPTH; s++)
        if (g.busy[s] && (p->t1 - g.t_sent[s]) / 1000 > p->stuck_us)
            p->stuck_us = (uint32_t)((p->t1 - g.t_sent[s]) / 1000);
    hmix_stop(m, &p->mix);
}

static void
phase_print(const char *what, int i, const struct phase *p)
{
    printf("phase %s %d: %llu submits, %.0f/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
           what, i, (unsigned long long)p->ok, rate_of(p), pct_ms(p, NULL, 0.5),
           pct_ms(p, NULL, 0.99), pct_ms(p, NULL, 1.0));
    if (p->mix.seconds <= 0)
        return;
    printf("  mix over %.1f s:", p->mix.seconds);
    for (int k = 0; k < HMIX_KINDS; k++)
        printf("%s %s opened %llu (failed %llu), closed by server %llu (%llu within 0.5 s), open at end %u",
               k ? ";" : "", hmix_kind_name[k], (unsigned long long)p->mix.opened[k],
               (unsigned long long)p->mix.failed[k], (unsigned long long)p->mix.closed[k],
               (unsigned long long)p->mix.closed_fast[k], p->mix.open_now[k]);
    printf("; random answered %llu, pipeline bytes sent %.1f MB\n",
           (unsigned long long)p->mix.replies[HMIX_RANDOM], p->mix.bytes_out[HMIX_PIPE] / 1e6);
}

/* Figures of one round: alone (phases a, b pooled) vs hostile h. */
struct round_fig { double alone, alone_p99, host, host_p99, host_max, tp, p99x; };

static struct round_fig
round_figures(const struct phase *a, const struct phase *h, const struct phase *b)
{
    struct round_fig f;
    double secs = (double)(a->t1 - a->t0 + b->t1 - b->t0) / 1e9;
    f.alone = (double)(a->ok + b->ok) / secs;
    f.alone_p99 = pct_ms(a, b, 0.99);
    f.host = rate_of(h);
    f.host_p99 = pct_ms(h, NULL, 0.99);
    f.host_max = pct_ms(h, NULL, 1.0);
    f.tp = f.alone > 0 ? f.host / f.alone : 0;
    f.p99x = f.alone_p99 > 0 ? f.host_p99 / f.alone_p99 : 0;
    return f;
}

/* The mix over every hostile phase: per kind, connections opened per
 * second, and those the server refused or closed within 0.5 s. */
static void
print_mix_summary(const struct phase *ph, int n_ph)
{
    struct hmix_stats t = { 0 };
    for (int i = 1; i < n_ph; i += 2) {
        for (int k = 0; k < HMIX_KINDS; k++) {
            t.opened[k] += ph[i].mix.opened[k];
            t.failed[k] += ph[i].mix.failed[k];
            t.closed[k] += ph[i].mix.closed[k];
            t.closed_fast[k] += ph[i].mix.closed_fast[k];
            t.replies[k] += ph[i].mix.replies[k];
            t.bytes_out[k] += ph[i].mix.bytes_out[k];
        }
        t.seconds += ph[i].mix.seconds;
    }
    printf("bench: hostile mix: %d conns (%d of each kind run) from %d addresses, %.0f s in all;",
           n_hostile(), opt.per_kind, opt.addrs, t.seconds);
    for (int k = 0; k < HMIX_KINDS; k++)
        printf("%s %s opened %.0f/s closed %.0f/s (within 0.5 s %.0f/s)", k ? "," : "",
               hmix_kind_name[k], t.opened[k] / t.seconds, t.closed[k] / t.seconds,
               t.closed_fast[k] / t.seconds);
    printf("; failed connects %llu; random answered %.0f%%; pipelined %.1f MB/s\n",
           (unsigned long long)hmix_sum(t.failed),
           t.opened[HMIX_RANDOM] ? 100.0 * t.replies[HMIX_RANDOM] / t.opened[HMIX_RANDOM] : 0,
           t.bytes_out[HMIX_PIPE] / 1e6 / t.seconds);
}

/* Every round's line, then the medians line. */
static void
print_rounds(const struct phase *ph)
{
    double al[BH_MAX_ROUNDS] = { 0 }, alp[BH_MAX_ROUNDS] = { 0 }, ho[BH_MAX_ROUNDS] = { 0 };
    double hop[BH_MAX_ROUNDS] = { 0 }, tp[BH_MAX_ROUNDS] = { 0 }, px[BH_MAX_ROUNDS] = { 0 };
    double mx[BH_MAX_ROUNDS] = { 0 };
    int n = opt.rounds;
    for (int r = 0; r < n; r++) {
        struct round_fig f = round_figures(&ph[2 * r], &ph[2 * r + 1], &ph[2 * r + 2]);
        printf("round %d: alone %.0f/s p99 %.2f ms; with %d hostile %.0f/s p99 %.2f ms; "
               "ratio %.2f throughput, %.2fx p99; hostile max %.0f ms\n", r + 1, f.alone,
               f.alone_p99, n_hostile(), f.host, f.host_p99, f.tp, f.p99x, f.host_max);
        al[r] = f.alone, alp[r] = f.alone_p99, ho[r] = f.host, hop[r] = f.host_p99;
        tp[r] = f.tp, px[r] = f.p99x, mx[r] = f.host_max;
    }
    printf("bench: hostile: good client alone %.0f/s p99 %.2f ms; with %d hostile %.0f/s "
           "p99 %.2f ms; ratio %.2f throughput, %.2fx p99 (median of %d rounds; "
           "longest wait with hostile, median of rounds, %.0f ms)\n",
           median(al, n), median(alp, n), n_hostile(), median(ho, n),
           median(hop, n), median(tp, n), median(px, n), n, median(mx, n));
}

static void
usage(void)
{
    fprintf(stderr, "usage: bench_hostile (-p PORT | -P PORTFILE) [-t S] [-s SETTLE_S] [-r ROUNDS]\n"
                    "       [-n PER_KIND] [-d DEPTH] [-a ADDRS] [-R RECONNECT_MS] [-S SLOW_BYTE_MS] [-f CSV]\n"
                    "       [-k random,slowloris,pipeline,idle]\n");
    exit(2);
}

/* -k's list of kind names into opt.kinds. */
static void
parse_kinds(char *list)
{
    for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
        int k = 0;
        while (k < HMIX_KINDS && strcmp(t, hmix_kind_name[k]) != 0)
            k++;
        if (k == HMIX_KINDS)
            usage();
        opt.kinds |= 1u << k;
    }
}

static void
parse_args(int argc, char **argv)
{
    int ch;
    while ((ch = getopt(argc, argv, "p:P:t:s:r:n:d:a:R:S:f:k:")) != -1) {
        switch (ch) {
        case 'p': opt.port = atoi(optarg); break;
        case 'P': opt.portfile = optarg; break;
        case 't': opt.seconds = atof(optarg); break;
        case 's': opt.settle = atof(optarg); break;
        case 'r': opt.rounds = atoi(optarg); break;
        case 'n': opt.per_kind = atoi(optarg); break;
        case 'd': opt.depth = atoi(optarg); break;
        case 'a': opt.addrs = atoi(optarg); break;
        case 'R': opt.reconnect_ms = atoi(optarg); break;
        case 'S': opt.slow_ms = atoi(optarg); break;
        case 'f': opt.csv = optarg; break;
        case 'k': parse_kinds(optarg); break;
        default: usage();
        }
    }
    if (opt.portfile)
        opt.port = bh_read_portfile(opt.portfile);
    if (opt.port <= 0 || opt.port > 65535 || opt.seconds <= 0 || opt.settle < 0 ||
        opt.rounds < 1 || opt.rounds > BH_MAX_ROUNDS || opt.per_kind < 0 ||
        opt.depth < 1 || opt.depth > BH_MAX_DEPTH || opt.addrs < 0 || opt.addrs > 250 ||
        opt.reconnect_ms < 0 || opt.slow_ms < 1)
        usage();
}

int
main(int argc, char **argv)
{
    parse_args(argc, argv);
    if (credit_items_load(opt.csv, &gc_items, &n_items) != 0 || n_items == 0) {
        fprintf(stderr, "bench_hostile: cannot load %s\n", opt.csv);
        return 1;
    }
    snprintf(key_prefix, sizeof key_prefix, "bh-%d-%llu", (int)getpid(),
             (unsigned long long)bh_now_ns());
    msgpack_zone_init(&zone, 4096);
    good_open(opt.port);
    good_run_until(bh_now_ns() + 1000000000ull, NULL);          /* warm-up: items to GET */
    int n_ph = 2 * opt.rounds + 1;
    struct phase *ph = calloc((size_t)n_ph, sizeof *ph);
    if (!ph)
        bh_die("calloc");
    for (int i = 0; i < n_ph && !g.fatal; i++) {
        phase_run(&ph[i], i % 2 == 1);
        phase_print(i % 2 ? "hostile" : "alone", i / 2 + 1, &ph[i]);
        fflush(stdout);
    }
    if (g.fatal) {
        printf("ABORTED: the good client failed (see stderr)\n");
        return 1;
    }
    print_rounds(ph);
    print_mix_summary(ph, n_ph);
    return 0;
}

#include "credit_items.c"
#include "hostile_mix.c"
