/*
 * test_tls_hostile.c - the TLS items of the hostile-input catalogue
 * (docs/RELIABILITY.md T5 items 5, 17 and 18) against a real hitlqd with
 * certificates made at test time by scripts/make-certs.sh:
 *   - slowloris: a real ClientHello sent 1 byte per second is closed at
 *     handshake_timeout_ms (T5.5, the handshake half);
 *   - 500 half-open TLS connections (full ClientHello, then silence) are
 *     all closed by the handshake deadline, with bounded memory (T5.17);
 *   - TLS 1.0, 1.1 and 1.2 ClientHellos against the default 1.3-only
 *     server, a renegotiation attempt (server at tls_min_version 1.2),
 *     garbage records after the handshake, early data offered (T5.18).
 * Plaintext on the TLS port (also T5.18) is test_tls_plaintext_client_refused
 * in test_tls.c, and a slowloris frame in test_hostile_frames.c; not repeated here.
 *
 * In every test the hostile connection is closed (possibly after a TLS
 * alert), the server's RSS grows by at most 1 MiB per hostile connection,
 * a well-behaved TLS client connected beforehand keeps getting PING
 * replies during the attack (< 2 s each: the machine is small and the
 * server runs under ASan, so no tight latency bound), a fresh client can
 * handshake + HELLO + PING afterwards, and the server stops with exit 0 and
 * no sanitizer report.  Run from the repo root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "harness.h"
#include "hitlq_proto.h"
#include "tls_util.h"

#define KIB          1024L
#define RTT_LIMIT_MS 2000     /* generous: 2-core VM, server under ASan */

static char BASE[64];         /* temp dir of this run */
static char A[96];            /* CA and certificates */

/* One attack: the server, a well-behaved client and the figures. */
struct bench {
    struct hserver s;
    long           rss0_kb;   /* server RSS before the attack */
    uint64_t       max_rtt;   /* slowest PING of the good client (ms) */
    int            pings;
    uint32_t       rid;
};

static struct rtls good;      /* the well-behaved client of the current test */

/* ---- set-up ---------------------------------------------------------------- */

static int group_setup(void **st)
{
    char cmd[256];
    struct rlimit rl;

    (void)st;
    signal(SIGPIPE, SIG_IGN);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;            /* 500 connections + the server's */
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    snprintf(BASE, sizeof BASE, "/tmp/hitlq-tlsh-XXXXXX");
    if (mkdtemp(BASE) == NULL)
        return -1;
    snprintf(A, sizeof A, "%s/a", BASE);
    snprintf(cmd, sizeof cmd, "sh scripts/make-certs.sh %s > /dev/null", A);
    if (system(cmd) != 0) {
        fprintf(stderr, "make-certs.sh failed\n");
        return -1;
    }
    return 0;
}

static int group_teardown(void **st)
{
    char cmd[128];

    (void)st;
    if (BASE[0] && !getenv("HITLQ_KEEP_DIRS")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", BASE);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", BASE);
    }
    return 0;
}

static long server_rss_kb(const struct hserver *s)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", (int)s->pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (kb < 0 && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) != 1)
            kb = -1;
    fclose(f);
    return kb;
}

/* Starts hitlqd with conf; with live_rss its ASan quarantine is off
 * (quarantine_size_mb=0 appended to ASAN_OPTIONS) so that its RSS shows
 * live memory rather than up to 256 MiB of freed blocks held back by ASan;
 * redzones (overflows) and leak checking stay on. */
static void server_start(struct hserver *s, const char *conf, bool live_rss)
{
    const char *env = getenv("ASAN_OPTIONS");
    char old[512], opt[600];
    int port;

    snprintf(old, sizeof old, "%s", env ? env : "");
    if (live_rss) {
        snprintf(opt, sizeof opt, "%s%squarantine_size_mb=0", old, old[0] ? ":" : "");
        setenv("ASAN_OPTIONS", opt, 1);
    }
    port = harness_server_start(s, conf);
    if (live_rss && env)
        setenv("ASAN_OPTIONS", old, 1);
    else if (live_rss)
        unsetenv("ASAN_OPTIONS");
    if (port < 0)
        fail_msg("hitlqd with TLS did not start");
}

/* Starts hitlqd with TLS (A's server certificate) plus extra config,
 * connects the good client (HELLO + PING) and a throw-away one (so the
 * first-use allocations are behind us), then takes the RSS baseline. */
static void bench_start(struct bench *b, const char *extra, bool live_rss)
{
    char conf[1024];
    static struct rtls warm;

    memset(b, 0, sizeof *b);
    b->rid = 100;
    snprintf(conf, sizeof conf, "tls_cert = \"%s/server.pem\"\ntls_key = \"%s/server.key\"\n%s",
             A, A, extra ? extra : "");
    server_start(&b->s, conf, live_rss);
    assert_true(rtls_open(&warm, b->s.port, A, 0, NULL));
    assert_int_equal(rtls_hello_ping(&warm), 0);
    rtls_close(&warm);
    assert_true(rtls_open(&good, b->s.port, A, 0, NULL));
    assert_int_equal(rtls_hello_ping(&good), 0);
    b->rss0_kb = server_rss_kb(&b->s);
    assert_true(b->rss0_kb > 0);
}

/* One PING round trip of the good client: it must succeed within
 * RTT_LIMIT_MS; the slowest is kept. */
static void good_ping(struct bench *b)
{
    uint64_t t0 = harness_now_ms(), dt;

    assert_int_equal(rtls_call(&good, HITLQ_OP_PING, ++b->rid, NULL, 0), 0);
    dt = harness_now_ms() - t0;
    if (dt > b->max_rtt)
        b->max_rtt = dt;
    b->pings++;
    assert_true(dt < RTT_LIMIT_MS);
}

/* A new client completes handshake + HELLO + PING now; its time in ms. */
static uint64_t fresh_client(const struct bench *b)
{
    static struct rtls t;
    uint64_t t0 = harness_now_ms();

    assert_true(rtls_open(&t, b->s.port, A, 0, NULL));
    assert_int_equal(rtls_hello_ping(&t), 0);
    rtls_close(&t);
    return harness_now_ms() - t0;
}

/* RSS now against the baseline: at most 1 MiB per hostile connection. */
static long rss_check(const struct bench *b, const char *what, int nconn)
{
    long rss = server_rss_kb(&b->s), delta = rss - b->rss0_kb;

    print_message("%s: server RSS %ld -> %ld kB (%+ld kB for %d hostile connection%s)\n", what,
                  b->rss0_kb, rss, delta, nconn, nconn == 1 ? "" : "s");
    assert_true(rss > 0);
    assert_true(delta <= (long)nconn * KIB);
    return delta;
}

/* After the attack: the good client and a fresh one are served, the RSS
 * bound holds, and the server stops with exit 0 and a clean log. */
static void bench_finish(struct bench *b, const char *what, int nconn)
{
    int rc;

    good_ping(b);
    rss_check(b, what, nconn);                             /* before the fresh client's churn */
    print_message("%s: good client %d PINGs, slowest %llu ms; fresh client %llu ms\n", what,
                  b->pings, (unsigned long long)b->max_rtt,
                  (unsigned long long)fresh_client(b));
    assert_true(harness_server_alive(&b->s));
    rtls_close(&good);
    rc = harness_server_stop(&b->s);
    harness_server_cleanup(&b->s);
    assert_int_equal(rc, 0);
}

/* ---- raw sockets ------------------------------------------------------------ */

static int tcp_connect(uint16_t port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Waits for the peer to close fd (EOF or reset) within timeout_ms, reading
 * and dropping what arrives; the first bytes go to first[0..*nfirst) when
 * first != NULL.  True when closed. */
static bool raw_closed(int fd, int timeout_ms, uint8_t *first, size_t *nfirst, size_t cap)
{
    uint64_t end = harness_now_ms() + (uint64_t)timeout_ms;
    uint8_t buf[4096];

    if (nfirst)
        *nfirst = 0;
    for (;;) {
        uint64_t now = harness_now_ms();
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (now >= end || poll(&p, 1, (int)(end - now)) <= 0)
            return false;
        n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return true;
        for (ssize_t i = 0; first && n > 0 && i < n && *nfirst < cap; i++)
            first[(*nfirst)++] = buf[i];
    }
}

/* The bytes of a TLS client's first flight (its ClientHello) for versions
 * min_ver..max_ver, written to a memory BIO.  Security level 0 so that
 * OpenSSL offers TLS 1.0 and 1.1 at all.  Returns the length (> 0). */
static size_t client_hello(uint8_t *out, size_t cap, int min_ver, int max_ver)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    SSL *ssl;
    int n;

    assert_non_null(ctx);
    SSL_CTX_set_security_level(ctx, 0);
    assert_int_equal(SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0"), 1);
    assert_int_equal(SSL_CTX_set_min_proto_version(ctx, min_ver), 1);
    assert_int_equal(SSL_CTX_set_max_proto_version(ctx, max_ver), 1);
    ssl = SSL_new(ctx);
    assert_non_null(ssl);
    SSL_set_bio(ssl, rb, wb);                              /* takes both */
    SSL_set_tlsext_host_name(ssl, "localhost");
    assert_int_equal(SSL_connect(ssl), -1);                /* wants the ServerHello */
    assert_int_equal(SSL_get_error(ssl, -1), SSL_ERROR_WANT_READ);
    n = BIO_read(wb, out, (int)cap);
    assert_true(n > 9 && out[0] == 0x16 && out[5] == 0x01);  /* handshake: ClientHello */
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return (size_t)n;
}

/* ---- T5.5: slowloris during the handshake ---------------------------------- */

/* Waits until `until` (monotonic ms) for the peer to close any of the
 * fds still open (closed_at[i] < 0); a close is noted as ms since t0.
 * Returns how many are still open. */
static int wait_closes(const int *fds, int n, int64_t *closed_at, uint64_t t0, uint64_t until)
{
    int open = n;

    for (;;) {
        struct pollfd p[8];
        uint64_t now = harness_now_ms();

        open = 0;
        for (int i = 0; i < n; i++) {
            p[i] = (struct pollfd){ .fd = closed_at[i] < 0 ? fds[i] : -1, .events = POLLIN };
            open += closed_at[i] < 0;
        }
        if (open == 0 || now >= until || poll(p, (nfds_t)n, (int)(until - now)) <= 0)
            return open;
        for (int i = 0; i < n; i++) {
            uint8_t buf[4096];
            ssize_t r;

            if (p[i].revents == 0)
                continue;
            r = recv(fds[i], buf, sizeof buf, MSG_DONTWAIT);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                closed_at[i] = (int64_t)(harness_now_ms() - t0);
        }
    }
}

/* Three connections each send a real ClientHello 1 byte per second, with
 * handshake_timeout_ms = 2000: the server closes every one at about 2 s
 * (not before 1.8 s, not after 3.5 s), long before the hello is complete;
 * the good client gets a PING reply every second meanwhile. */
static void test_tls_slowloris_handshake(void **st)
{
    enum { SLOW = 3, DEADLINE = 2000, SLACK = 1500 };
    struct bench b;
    uint8_t hello[2048];
    size_t n = client_hello(hello, sizeof hello, TLS1_2_VERSION, 0), sent = 0;
    int64_t closed_at[SLOW] = { -1, -1, -1 };
    int fds[SLOW], open = SLOW;
    uint64_t t0;

    (void)st;
    bench_start(&b, "handshake_timeout_ms = 2000\n", false);
    for (int i = 0; i < SLOW; i++)
        fds[i] = tcp_connect(b.s.port);
    t0 = harness_now_ms();
    while (open > 0 && harness_now_ms() - t0 < DEADLINE + SLACK) {
        for (int i = 0; i < SLOW; i++)
            if (closed_at[i] < 0)
                assert_int_equal(send(fds[i], hello + sent, 1, MSG_NOSIGNAL), 1);
        sent++;
        good_ping(&b);
        open = wait_closes(fds, SLOW, closed_at, t0, t0 + 1000 * sent);
    }
    for (int i = 0; i < SLOW; i++) {
        print_message("slowloris %d: closed after %lld ms, %zu of %zu ClientHello bytes sent\n",
                      i, (long long)closed_at[i], sent, n);
        assert_true(closed_at[i] >= DEADLINE - 200);
        assert_true(closed_at[i] <= DEADLINE + SLACK);
        close(fds[i]);
    }
    assert_true(sent < n);
    bench_finish(&b, "slowloris", SLOW);
}

/* ---- T5.17: 500 half-open TLS connections ------------------------------------ */

enum { HALF_OPEN = 500, HS_TIMEOUT = 4000 };

/* How many of fds the peer has closed (FIN or reset seen). */
static int count_closed(const int *fds, int n)
{
    static struct pollfd p[HALF_OPEN];
    int closed = 0;

    for (int i = 0; i < n; i++)
        p[i] = (struct pollfd){ .fd = fds[i], .events = POLLRDHUP };
    assert_true(poll(p, (nfds_t)n, 0) >= 0);
    for (int i = 0; i < n; i++)
        closed += (p[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
    return closed;
}

/* Counts the server log lines containing needle. */
static int log_count(const struct hserver *s, const char *needle)
{
    char line[1024];
    int n = 0;
    FILE *f = fopen(s->logfile, "r");

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* Opens HALF_OPEN connections, each sending the whole ClientHello and
 * nothing more (the good client PINGs every 100); returns when the last
 * one was opened. */
static uint64_t flood_half_open(struct bench *b, int *fds, const uint8_t *hello, size_t n)
{
    for (int i = 0; i < HALF_OPEN; i++) {
        fds[i] = tcp_connect(b->s.port);
        send_all(fds[i], hello, n);
        if (i % 100 == 99)
            good_ping(b);
    }
    return harness_now_ms();
}

/* Until all fds are closed or `until`, PINGs with the good client every
 * 100 ms; *first_close gets the time the first close was seen.  Returns
 * how many are closed. */
static int wait_all_closed(struct bench *b, const int *fds, uint64_t until, uint64_t *first_close)
{
    int closed;

    *first_close = 0;
    while ((closed = count_closed(fds, HALF_OPEN)) < HALF_OPEN && harness_now_ms() < until) {
        if (closed > 0 && *first_close == 0)
            *first_close = harness_now_ms();
        good_ping(b);
        harness_sleep_ms(100);
    }
    if (*first_close == 0)
        *first_close = harness_now_ms();
    return closed;
}

/* 500 connections (max_connections_per_addr raised to 1024: they all come
 * from 127.0.0.1) each send one whole ClientHello and then nothing.  While
 * they hang: none is closed yet, the server's RSS grows by far less than
 * 1 MiB each (<= 64 MiB in all, measured without ASan's quarantine), the
 * good client gets PING replies and a fresh client completes handshake +
 * HELLO + PING.  Then all 500 are closed by the handshake deadline (4 s,
 * none before it) and logged as such. */
static void test_tls_half_open_500(void **st)
{
    static int fds[HALF_OPEN];
    struct bench b;
    uint8_t hello[2048];
    size_t n = client_hello(hello, sizeof hello, TLS1_2_VERSION, 0);
    uint64_t t_first, t_last, t_fresh, first_close;
    int closed;

    (void)st;
    bench_start(&b, "max_connections_per_addr = 1024\nhandshake_timeout_ms = 4000\n", true);
    t_first = harness_now_ms();
    t_last = flood_half_open(&b, fds, hello, n);
    harness_sleep_ms(300);                                 /* let the server take them in */
    good_ping(&b);
    t_fresh = fresh_client(&b);
    closed = count_closed(fds, HALF_OPEN);
    print_message("half-open: 500 opened in %llu ms; fresh client %llu ms meanwhile; "
                  "%d closed so far\n", (unsigned long long)(t_last - t_first),
                  (unsigned long long)t_fresh, closed);
    assert_int_equal(closed, 0);
    assert_true(rss_check(&b, "half-open (while they hang)", HALF_OPEN) <= 64 * KIB);

    closed = wait_all_closed(&b, fds, t_last + HS_TIMEOUT + 4000, &first_close);
    print_message("half-open: %d of 500 closed; first close seen %llu ms, last %llu ms after "
                  "the first connect\n", closed, (unsigned long long)(first_close - t_first),
                  (unsigned long long)(harness_now_ms() - t_first));
    assert_int_equal(closed, HALF_OPEN);
    assert_true(first_close - t_first >= HS_TIMEOUT - 200);
    for (int i = 0; i < HALF_OPEN; i++)
        close(fds[i]);
    assert_true(log_count(&b.s, "TLS handshake not finished within 4000 ms") >= HALF_OPEN);
    bench_finish(&b, "half-open (after)", HALF_OPEN);
}

/* ---- T5.18: old versions, renegotiation, garbage, early data -------------- */

/* Sends a ClientHello offering at most max_ver to the 1.3-only server:
 * the answer is at most an alert record (never a ServerHello), then the
 * close. */
static void hello_refused(struct bench *b, int max_ver, uint8_t want_version_lo)
{
    uint8_t hello[2048], got[64];
    size_t n = client_hello(hello, sizeof hello, max_ver, max_ver), ngot = 0;
    int fd = tcp_connect(b->s.port);

    assert_int_equal(hello[9], 0x03);                      /* legacy_version offered */
    assert_int_equal(hello[10], want_version_lo);
    send_all(fd, hello, n);
    assert_true(raw_closed(fd, 5000, got, &ngot, sizeof got));
    if (ngot > 0) {
        assert_int_equal(got[0], 0x15);                    /* alert record */
        assert_true(ngot >= 7);
        assert_int_equal(got[6], 70);                      /* protocol_version */
    }
    print_message("ClientHello 3.%u: refused (%zu bytes back)\n", want_version_lo, ngot);
    close(fd);
    good_ping(b);
}

/* TLS 1.0, 1.1 and 1.2 ClientHellos against the default (1.3-only)
 * server: each gets a protocol_version alert (or nothing) and the close. */
static void test_tls_old_versions_refused(void **st)
{
    static struct rtls t;
    struct bench b;

    (void)st;
    bench_start(&b, NULL, false);
    hello_refused(&b, TLS1_VERSION, 0x01);
    hello_refused(&b, TLS1_1_VERSION, 0x02);
    hello_refused(&b, TLS1_2_VERSION, 0x03);
    /* the same through a real client pinned to 1.2 */
    assert_false(rtls_open(&t, b.s.port, A, TLS1_2_VERSION, NULL));
    assert_true(raw_closed(t.fd, 5000, NULL, NULL, 0));
    rtls_close(&t);
    bench_finish(&b, "old versions", 4);
}

enum { REPEAT = 4 };           /* single-connection attacks, for the RSS bound */

/* One renegotiation attempt on a TLS 1.2 session after HELLO + PING: the
 * client's SSL_do_handshake fails with OpenSSL's "no renegotiation" (the
 * server answered the new ClientHello with a no_renegotiation alert), so
 * no second handshake happened. */
static void renegotiate_once(struct bench *b)
{
    static struct rtls t;
    unsigned long e;
    int hs;

    assert_true(rtls_open(&t, b->s.port, A, TLS1_2_VERSION, NULL));
    assert_int_equal(SSL_version(t.ssl), TLS1_2_VERSION);
    assert_int_equal(rtls_hello_ping(&t), 0);
    assert_int_equal(SSL_renegotiate(t.ssl), 1);
    hs = SSL_do_handshake(t.ssl);
    e = ERR_peek_error();
    assert_int_not_equal(hs, 1);
    assert_int_equal(SSL_get_error(t.ssl, hs), SSL_ERROR_SSL);
    if (ERR_GET_REASON(e) != SSL_R_NO_RENEGOTIATION)
        fail_msg("renegotiation failed, but not as refused: %s", ERR_reason_error_string(e));
    rtls_close(&t);
    good_ping(b);
}

/* Server at tls_min_version 1.2, client pinned to TLS 1.2: renegotiation
 * attempts (REPEAT connections) are refused; the server is unaffected. */
static void test_tls_renegotiation_refused(void **st)
{
    struct bench b;

    (void)st;
    bench_start(&b, "tls_min_version = \"1.2\"\n", false);
    for (int i = 0; i < REPEAT; i++)
        renegotiate_once(&b);
    bench_finish(&b, "renegotiation", REPEAT);
}

/* After a completed TLS 1.3 handshake and HELLO + PING, a fake
 * application-data record (17 03 03 00 40 + 64 random bytes) written on
 * the raw socket fails authentication: the server closes the connection
 * (REPEAT times). */
static void test_tls_garbage_record(void **st)
{
    static struct rtls t;
    struct bench b;
    uint8_t rec[5 + 64] = { 0x17, 0x03, 0x03, 0x00, 0x40 };

    (void)st;
    bench_start(&b, NULL, false);
    for (int i = 0; i < REPEAT; i++) {
        assert_true(rtls_open(&t, b.s.port, A, 0, NULL));
        assert_int_equal(rtls_hello_ping(&t), 0);
        assert_int_equal(RAND_bytes(rec + 5, 64), 1);
        send_all(t.fd, rec, sizeof rec);
        assert_true(raw_closed(t.fd, 5000, NULL, NULL, 0));
        rtls_close(&t);
        good_ping(&b);
    }
    bench_finish(&b, "garbage record", REPEAT);
}

/* A TLS 1.3 session for an external PSK that allows early data: what a
 * client holding a (forged or stolen) ticket would offer 0-RTT with. */
static SSL_SESSION *forged_session(SSL *ssl)
{
    static const unsigned char aes128gcm[2] = { 0x13, 0x01 };
    unsigned char key[32];
    SSL_SESSION *sess = SSL_SESSION_new();

    assert_non_null(sess);
    assert_int_equal(RAND_bytes(key, sizeof key), 1);
    assert_int_equal(SSL_SESSION_set1_master_key(sess, key, sizeof key), 1);
    assert_int_equal(SSL_SESSION_set_cipher(sess, SSL_CIPHER_find(ssl, aes128gcm)), 1);
    assert_int_equal(SSL_SESSION_set_protocol_version(sess, TLS1_3_VERSION), 1);
    assert_int_equal(SSL_SESSION_set_max_early_data(sess, 16384), 1);
    return sess;
}

static int psk_use(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
                   SSL_SESSION **sess)
{
    (void)md;
    *id = (const unsigned char *)"hitlq-psk";
    *idlen = 9;
    *sess = forged_session(ssl);
    return 1;
}

/* A TLS client on a new connection with no handshake yet (and no
 * certificate check: these tests are about what the server accepts), for
 * handshakes the test drives itself.  rtls_close frees it. */
static void raw_ssl(struct rtls *t, uint16_t port)
{
    memset(t, 0, offsetof(struct rtls, buf));
    t->fd = tcp_connect(port);
    t->ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(t->ctx);
    t->ssl = SSL_new(t->ctx);
    assert_non_null(t->ssl);
    assert_int_equal(SSL_set_fd(t->ssl, t->fd), 1);
}

/* Offers early data on the wire: a PING frame written as 0-RTT data under
 * a PSK the server does not know.  The server must not accept it (status
 * not ACCEPTED) and must not answer that PING; the connection is then
 * either closed or a normal 1-RTT session where HELLO + PING work. */
static void early_data_offered(struct bench *b)
{
    static struct rtls t;
    uint8_t ping[12];
    size_t written = 0;
    int hs, wr;

    hframe_header(ping, 0, HITLQ_MAGIC, HITLQ_OP_PING, 0, 77);
    raw_ssl(&t, b->s.port);
    SSL_set_psk_use_session_callback(t.ssl, psk_use);
    wr = SSL_write_early_data(t.ssl, ping, sizeof ping, &written);
    print_message("early data: SSL_write_early_data = %d, %zu bytes\n", wr, written);
    assert_int_equal(wr, 1);                               /* really offered */
    assert_int_equal(written, sizeof ping);
    hs = SSL_connect(t.ssl);
    print_message("early data: handshake %d, status %d (accepted = %d)\n", hs,
                  SSL_get_early_data_status(t.ssl), SSL_EARLY_DATA_ACCEPTED);
    assert_int_not_equal(SSL_get_early_data_status(t.ssl), SSL_EARLY_DATA_ACCEPTED);
    if (hs == 1) {
        /* a 1-RTT session; a reply to the early PING (rid 77) would make
         * these calls see the wrong request id */
        assert_int_equal(rtls_hello_ping(&t), 0);
        assert_int_equal(rtls_call(&t, HITLQ_OP_PING, 78, NULL, 0), 0);
    } else {
        assert_true(raw_closed(t.fd, 5000, NULL, NULL, 0));
    }
    rtls_close(&t);
}

/* No session tickets: after a handshake and a read, the client's session
 * is not resumable and allows no early data; a second connection trying
 * SSL_write_early_data with it is refused or not accepted.  Then early
 * data really put on the wire (see early_data_offered). */
static void test_tls_early_data_refused(void **st)
{
    static struct rtls t, t2;
    struct bench b;
    SSL_SESSION *sess;
    size_t written = 0;
    int wr;

    (void)st;
    bench_start(&b, NULL, false);
    assert_true(rtls_open(&t, b.s.port, A, 0, NULL));
    assert_int_equal(rtls_hello_ping(&t), 0);              /* tickets would have come */
    sess = SSL_get1_session(t.ssl);
    assert_non_null(sess);
    assert_int_equal(SSL_SESSION_is_resumable(sess), 0);
    assert_int_equal(SSL_SESSION_get_max_early_data(sess), 0);
    rtls_close(&t);

    raw_ssl(&t2, b.s.port);
    assert_int_equal(SSL_set_session(t2.ssl, sess), 1);
    wr = SSL_write_early_data(t2.ssl, "x", 1, &written);
    print_message("early data with the first session: SSL_write_early_data = %d\n", wr);
    if (wr == 1) {                                         /* offered: must not be taken */
        SSL_connect(t2.ssl);
        assert_int_not_equal(SSL_get_early_data_status(t2.ssl), SSL_EARLY_DATA_ACCEPTED);
    }
    SSL_SESSION_free(sess);
    rtls_close(&t2);

    early_data_offered(&b);
    good_ping(&b);
    bench_finish(&b, "early data", 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_slowloris_handshake),
        cmocka_unit_test(test_tls_half_open_500),
        cmocka_unit_test(test_tls_old_versions_refused),
        cmocka_unit_test(test_tls_renegotiation_refused),
        cmocka_unit_test(test_tls_garbage_record),
        cmocka_unit_test(test_tls_early_data_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
