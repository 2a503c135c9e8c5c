/*
 * bench_auth.c - bad-API-key load for `make bench` section (l)
 * (docs/RELIABILITY.md T5 item 19: "1,000 bad API keys per second (rate
 * limited; CPU < 50% of one core)").  One thread, epoll, non-blocking
 * loopback sockets, the raw protocol through the proto codec.
 *
 *   bench_auth (-p PORT | -P PORTFILE) -s SERVER_PID [options]
 *
 * Opens one new connection per attempt at an even rate (-r per second for
 * -t seconds), each from a source address bound before connect: all from
 * 127.0.0.1 (-a 1), or round-robin over -a N addresses from 127.0.0.2 up.
 * Each sends HELLO {version: 1, client, api_key} with a well-formed bad
 * key, alternately an unknown random key id with a random secret, and the
 * key id of -K KEYFILE's key (first line, e.g. the bootstrap admin key)
 * with a random secret; without -K every key id is random.  It then reads
 * the reply and waits for the server to close.
 *
 * Each attempt ends as one of: `verified` (unauthorized, "invalid API
 * key": the key was checked), `blocked` (unauthorized, "too many failed
 * authentications ...": the per-address limit answered unchecked), `other`
 * (any other status or message), `closed` (EOF or reset before a whole
 * reply), `failed` (socket, bind or connect error, connection refused) or
 * `timeout` (no reply and no close within BA_ATTEMPT_MS).
 *
 * Server CPU = (utime + stime) delta of /proc/PID/stat, in clock ticks /
 * sysconf(_SC_CLK_TCK), over the wall time from the first attempt until
 * every attempt has ended.
 *
 * Output: one line "bench: auth ..." of "name = value" pairs, for awk.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>
#include <sodium.h>

#include "frame.h"
#include "hitlq_proto.h"
#include "wire.h"

#define BA_MAX_LIVE     4096u        /* connections open at once */
#define BA_ATTEMPT_MS   3000u        /* an attempt gets this long to end */
#define BA_OUT_MAX      192u         /* one HELLO frame */
#define BA_IN_MAX       512u         /* one error reply */
#define BA_KEY_ID_HEX   16u
#define BA_SECRET_LEN   32u
#define BA_VERIFIED_MSG "invalid API key"
#define BA_BLOCKED_MSG  "too many failed authentications"

enum ba_outcome { O_VERIFIED, O_BLOCKED, O_OTHER, O_CLOSED, O_FAILED, O_TIMEOUT, O_N };
static const char *const ba_outcome_name[O_N] = {
    "verified", "blocked", "other", "closed", "failed", "timeout",
};

enum ba_state { S_FREE, S_CONNECTING, S_SENT, S_REPLIED };

struct attempt {
    int           fd;
    enum ba_state state;
    uint64_t      deadline_ns;
    bool          has_outcome;       /* a reply decided it; EOF pending */
    enum ba_outcome outcome;
    size_t        out_len, out_off, in_len;
    uint8_t       out[BA_OUT_MAX];
    uint8_t       in[BA_IN_MAX];
};

static struct {
    int         port;
    const char *portfile;
    int         srv_pid;
    double      rate, seconds;
    unsigned    addrs;
    char        known_id[BA_KEY_ID_HEX + 1];   /* "" = every id random */
    const char *label;
} opt = { .rate = 1000, .seconds = 5, .addrs = 1, .label = "" };

static struct attempt slots[BA_MAX_LIVE];
static unsigned free_list[BA_MAX_LIVE], n_free;
static int epfd = -1;

static struct {
    uint64_t launched, ended, counts[O_N];
    uint64_t late_max_ns;            /* launch behind schedule, worst */
    uint64_t t0_ns, t_last_launch_ns, t_end_ns;
} st;

/* ---- small helpers ----------------------------------------------------- */

static uint64_t
ba_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
ba_die(const char *what)
{
    fprintf(stderr, "bench_auth: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int
ba_read_portfile(const char *path)
{
    FILE *f = fopen(path, "r");
    int p = -1;

    if (f != NULL) {
        if (fscanf(f, "%d", &p) != 1)
            p = -1;
        fclose(f);
    }
    return p;
}

/* -K: the key id of the key on the file's first line ("" if none). */
static void
ba_read_key_id(const char *path)
{
    char line[256] = "";
    FILE *f = fopen(path, "r");

    if (f == NULL || fgets(line, sizeof(line), f) == NULL || strncmp(line, "hitlq_", 6) != 0 ||
        strlen(line) < 6 + BA_KEY_ID_HEX) {
        fprintf(stderr, "bench_auth: %s: no API key on its first line; ids all random\n", path);
    } else {
        memcpy(opt.known_id, line + 6, BA_KEY_ID_HEX);
        opt.known_id[BA_KEY_ID_HEX] = '\0';
    }
    if (f != NULL)
        fclose(f);
}

/* Server CPU ticks (utime + stime, all threads), or -1. */
static long long
ba_cpu_ticks(int pid)
{
    char path[64], buf[1024];
    unsigned long long ut, stt;
    size_t n;
    FILE *f;
    char *p;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* after "pid (comm) ": state is field 3, utime 14, stime 15 */
    if ((p = strrchr(buf, ')')) == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &stt) != 2)
        return -1;
    return (long long)(ut + stt);
}

/* ---- the bad keys ------------------------------------------------------- */

/* A well-formed key that no principal has: attempt i uses the -K key id
 * with a random secret when i is odd (and -K was given), else a random id. */
static void
ba_make_key(uint64_t i, char *key, size_t n)
{
    uint8_t id[BA_KEY_ID_HEX / 2], secret[BA_SECRET_LEN];
    char hex[BA_KEY_ID_HEX + 1], b64[64];

    randombytes_buf(id, sizeof(id));
    randombytes_buf(secret, sizeof(secret));
    sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
    if ((i & 1u) && opt.known_id[0] != '\0')
        memcpy(hex, opt.known_id, sizeof(hex));
    sodium_bin2base64(b64, sizeof(b64), secret, sizeof(secret),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(key, n, "hitlq_%s_%s", hex, b64);
}

/* The HELLO frame for attempt i into a->out. */
static void
ba_build_hello(struct attempt *a, uint64_t i)
{
    char key[96];
    msgpack_sbuffer sb;
    msgpack_packer pk;
    size_t off;

    ba_make_key(i, key, sizeof(key));
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    off = wire_frame_begin(&sb);
    msgpack_pack_map(&pk, 3);
    wire_pack_kv_u64(&pk, "version", HITLQ_PROTO_VERSION);
    wire_pack_kv_str(&pk, "client", "bench_auth");
    wire_pack_kv_str(&pk, "api_key", key);
    wire_frame_end(&sb, off, HITLQ_OP_HELLO, 0, (uint32_t)(i + 1));
    if (sb.size > sizeof(a->out)) {
        fprintf(stderr, "bench_auth: HELLO frame of %zu bytes\n", sb.size);
        exit(1);
    }
    memcpy(a->out, sb.data, sb.size);
    a->out_len = sb.size;
    a->out_off = 0;
    sodium_memzero(key, sizeof(key));
    msgpack_sbuffer_destroy(&sb);
}

/* ---- one attempt ------------------------------------------------------------ */

/* Source address of attempt i: 127.0.0.1, or 127.0.0.2 + (i mod addrs). */
static struct sockaddr_in
ba_source(uint64_t i)
{
    struct sockaddr_in s = { .sin_family = AF_INET };
    uint32_t host = opt.addrs <= 1 ? 0x7f000001u : 0x7f000002u + (uint32_t)(i % opt.addrs);

    s.sin_addr.s_addr = htonl(host);
    return s;
}

static void
ba_end(struct attempt *a, enum ba_outcome o)
{
    unsigned idx = (unsigned)(a - slots);

    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
    a->state = S_FREE;
    st.counts[o]++;
    st.ended++;
    free_list[n_free++] = idx;
}

/* Non-blocking socket bound to attempt i's source, connect started. */
static int
ba_connect(uint64_t i)
{
    struct sockaddr_in src = ba_source(i);
    struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port) };
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* pick the port at connect (per 4-tuple), not at bind */
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
        (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 && errno != EINPROGRESS)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
ba_launch(uint64_t i, uint64_t now)
{
    unsigned idx = free_list[--n_free];
    struct attempt *a = &slots[idx];
    struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.u32 = idx };

    st.launched++;
    st.t_last_launch_ns = now;
    a->state = S_CONNECTING;
    a->has_outcome = false;
    a->in_len = 0;
    a->deadline_ns = now + BA_ATTEMPT_MS * 1000000ull;
    ba_build_hello(a, i);
    if ((a->fd = ba_connect(i)) < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, a->fd, &ev) != 0)
        ba_end(a, O_FAILED);
}

/* Writes what is left of the HELLO; then waits for input only. */
static void
ba_on_writable(struct attempt *a, unsigned idx)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u32 = idx };
    ssize_t w = send(a->fd, a->out + a->out_off, a->out_len - a->out_off, MSG_NOSIGNAL);

    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (w <= 0) {                       /* connect refused: failed; reset: closed */
        ba_end(a, w < 0 && errno == ECONNREFUSED ? O_FAILED : O_CLOSED);
        return;
    }
    a->out_off += (size_t)w;
    if (a->out_off == a->out_len) {
        a->state = S_SENT;
        epoll_ctl(epfd, EPOLL_CTL_MOD, a->fd, &ev);
    }
}

static bool
ba_str_starts(const msgpack_object *m, const char *prefix)
{
    size_t n = strlen(prefix);

    return m->via.str.size >= n && memcmp(m->via.str.ptr, prefix, n) == 0;
}

/* Classifies a whole reply frame by status and message (server/auth/auth.c). */
static enum ba_outcome
ba_classify(const struct frame *fr)
{
    msgpack_unpacked up;
    const msgpack_object *m;
    enum ba_outcome o;

    if (fr->hdr.opcode != HITLQ_OP_HELLO || fr->hdr.status != HITLQ_ST_UNAUTHORIZED)
        return O_OTHER;
    msgpack_unpacked_init(&up);
    o = O_OTHER;
    if (msgpack_unpack_next(&up, (const char *)fr->body, fr->hdr.body_len, NULL) ==
            MSGPACK_UNPACK_SUCCESS &&
        (m = wire_map_get(&up.data, "message")) != NULL && m->type == MSGPACK_OBJECT_STR) {
        if (ba_str_starts(m, BA_VERIFIED_MSG))
            o = O_VERIFIED;
        else if (ba_str_starts(m, BA_BLOCKED_MSG))
            o = O_BLOCKED;
    }
    msgpack_unpacked_destroy(&up);
    return o;
}

/* Reads; the first whole frame decides the outcome, EOF ends the attempt. */
static void
ba_on_readable(struct attempt *a)
{
    struct frame fr;
    int status;
    ssize_t r;

    for (;;) {
        if (a->in_len == sizeof(a->in))
            a->in_len = 0;              /* bytes after the reply: not kept */
        r = recv(a->fd, a->in + a->in_len, sizeof(a->in) - a->in_len, 0);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) {
            ba_end(a, a->has_outcome ? a->outcome : O_CLOSED);
            return;
        }
        a->in_len += (size_t)r;
        if (!a->has_outcome &&
            frame_parse(a->in, a->in_len, BA_IN_MAX, &fr, &status) == FRAME_OK) {
            a->outcome = ba_classify(&fr);
            a->has_outcome = true;
            a->state = S_REPLIED;
        }
    }
}

static void
ba_on_event(const struct epoll_event *ev)
{
    unsigned idx = ev->data.u32;
    struct attempt *a = &slots[idx];

    if (a->state == S_FREE)
        return;
    if (a->state == S_CONNECTING && (ev->events & EPOLLOUT))
        ba_on_writable(a, idx);
    if (a->state != S_FREE && a->state != S_CONNECTING &&
        (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        ba_on_readable(a);
    else if (a->state == S_CONNECTING && (ev->events & (EPOLLHUP | EPOLLERR)))
        ba_end(a, O_CLOSED);
}

/* Ends attempts past their deadline (a reply with no EOF counts as its
 * reply's outcome). */
static void
ba_expire(uint64_t now)
{
    for (unsigned i = 0; i < BA_MAX_LIVE; i++)
        if (slots[i].state != S_FREE && slots[i].deadline_ns <= now)
            ba_end(&slots[i], slots[i].has_outcome ? slots[i].outcome : O_TIMEOUT);
}

/* ---- the run ------------------------------------------------------------------ */

static uint64_t
ba_due_ns(uint64_t i)
{
    return st.t0_ns + (uint64_t)((double)i * 1e9 / opt.rate);
}

/* Launches every attempt that is due (as far as free slots allow). */
static void
ba_launch_due(uint64_t total, uint64_t now)
{
    while (st.launched < total && ba_due_ns(st.launched) <= now && n_free > 0) {
        uint64_t late = now - ba_due_ns(st.launched);

        if (late > st.late_max_ns)
            st.late_max_ns = late;
        ba_launch(st.launched, now);
    }
}

/* epoll timeout: until the next launch (rounded up), at most 10 ms. */
static int
ba_wait_ms(uint64_t total, uint64_t now)
{
    uint64_t due, ms;

    if (st.launched >= total || n_free == 0)
        return 10;
    due = ba_due_ns(st.launched);
    if (due <= now)
        return 0;
    ms = (due - now + 999999u) / 1000000u;
    return ms > 10 ? 10 : (int)ms;
}

static void
ba_run(uint64_t total)
{
    struct epoll_event evs[256];
    uint64_t now, next_expire = 0;
    int n;

    st.t0_ns = ba_now_ns();
    while (st.ended < total) {
        now = ba_now_ns();
        ba_launch_due(total, now);
        n = epoll_wait(epfd, evs, 256, ba_wait_ms(total, now));
        if (n < 0 && errno != EINTR)
            ba_die("epoll_wait");
        for (int k = 0; k < n; k++)
            ba_on_event(&evs[k]);
        now = ba_now_ns();
        if (now >= next_expire) {
            ba_expire(now);
            next_expire = now + 50000000ull;
        }
    }
    st.t_end_ns = ba_now_ns();
}

static void
ba_setup(void)
{
    struct rlimit rl;

    if (sodium_init() < 0) {
        fprintf(stderr, "bench_auth: sodium_init failed\n");
        exit(1);
    }
    signal(SIGPIPE, SIG_IGN);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        ba_die("epoll_create1");
    for (unsigned i = 0; i < BA_MAX_LIVE; i++) {
        slots[i].fd = -1;
        free_list[n_free++] = BA_MAX_LIVE - 1 - i;
    }
}

static void
ba_report(uint64_t total, long long ticks0, long long ticks1)
{
    double wall = (double)(st.t_end_ns - st.t0_ns) / 1e9;
    double send_s = (double)(st.t_last_launch_ns - st.t0_ns) / 1e9 + 1.0 / opt.rate;
    double cpu = ticks0 < 0 || ticks1 < 0 ? -1
                 : (double)(ticks1 - ticks0) / (double)sysconf(_SC_CLK_TCK) / wall * 100.0;

    printf("bench: auth%s addrs = %u attempts = %llu offered_per_s = %.0f achieved_per_s = %.1f "
           "late_max_ms = %.1f",
           opt.label, opt.addrs, (unsigned long long)total, opt.rate,
           (double)st.launched / send_s, (double)st.late_max_ns / 1e6);
    for (int o = 0; o < O_N; o++)
        printf(" %s = %llu", ba_outcome_name[o], (unsigned long long)st.counts[o]);
    if (cpu < 0)
        printf(" wall_s = %.2f server_cpu_pct = n/a\n", wall);
    else
        printf(" wall_s = %.2f server_cpu_pct = %.1f\n", wall, cpu);
}

static void
ba_usage(void)
{
    fprintf(stderr,
            "usage: bench_auth (-p PORT | -P PORTFILE) -s SERVER_PID [-r RATE (1000)]\n"
            "                  [-t SECONDS (5)] [-a ADDRS (1; >1: from 127.0.0.2)]\n"
            "                  [-K KEYFILE] [-L LABEL]\n");
}

int
main(int argc, char **argv)
{
    int ch;
    uint64_t total;
    long long t0, t1;

    while ((ch = getopt(argc, argv, "p:P:s:r:t:a:K:L:h")) != -1) {
        switch (ch) {
        case 'p': opt.port = atoi(optarg); break;
        case 'P': opt.portfile = optarg; break;
        case 's': opt.srv_pid = atoi(optarg); break;
        case 'r': opt.rate = atof(optarg); break;
        case 't': opt.seconds = atof(optarg); break;
        case 'a': opt.addrs = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'K': ba_read_key_id(optarg); break;
        case 'L': opt.label = optarg; break;
        default: ba_usage(); return ch == 'h' ? 0 : 2;
        }
    }
    if (opt.portfile != NULL)
        opt.port = ba_read_portfile(opt.portfile);
    if (opt.port <= 0 || opt.port > 65535 || opt.srv_pid <= 0 || opt.rate <= 0 ||
        opt.rate > 100000 || opt.seconds <= 0 || opt.seconds > 600 || opt.addrs < 1 ||
        opt.addrs > 65000) {
        ba_usage();
        return 2;
    }
    ba_setup();
    total = (uint64_t)(opt.rate * opt.seconds + 0.5);
    t0 = ba_cpu_ticks(opt.srv_pid);
    ba_run(total);
    t1 = ba_cpu_ticks(opt.srv_pid);
    ba_report(total, t0, t1);
    return 0;
}
