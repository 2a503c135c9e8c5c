/*
 * test_tls.c - TLS on hitlqd's listener and in libhitlq (issue 5 part 1):
 * the server context and its helpers called directly (file errors, peer
 * name, exporter), then a real hitlqd with certificates made at test time
 * by scripts/make-certs.sh: libhitlq and the CLI over TLS, refused CAs and
 * names, plaintext and stalled clients, protocol versions, mutual TLS,
 * certificate reload on SIGHUP, the non-loopback plaintext rule, and
 * client certificates mapped to principals (KEY_ADD tls_peer).
 * The raw OpenSSL client is in tls_util.c; the hostile TLS items of
 * docs/RELIABILITY.md T5 are in test_tls_hostile.c.
 * Every server must stop with exit 0 and no sanitizer report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "config.h"
#include "frame.h"
#include "harness.h"
#include "hitlq_msgpack.h"
#include "tls.h"
#include "tls_util.h"

static char BASE[64];            /* temp dir of this run */
static char A[96], B[96];        /* two independent CAs with their certs */

static int run_sh(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static int run_sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static int group_setup(void **st)
{
    (void)st;
    signal(SIGPIPE, SIG_IGN);
    snprintf(BASE, sizeof BASE, "/tmp/hitlq-tls-XXXXXX");
    if (mkdtemp(BASE) == NULL)
        return -1;
    snprintf(A, sizeof A, "%s/a", BASE);
    snprintf(B, sizeof B, "%s/b", BASE);
    if (run_sh("sh scripts/make-certs.sh %s > /dev/null", A) != 0 ||
        run_sh("sh scripts/make-certs.sh %s mallory > /dev/null", B) != 0) {
        fprintf(stderr, "make-certs.sh failed\n");
        return -1;
    }
    return 0;
}

static int group_teardown(void **st)
{
    (void)st;
    if (BASE[0] && !getenv("HITLQ_KEEP_DIRS"))
        run_sh("rm -rf '%s'", BASE);
    return 0;
}

static const char *path(char *buf, const char *dir, const char *file)
{
    snprintf(buf, PATH_MAX, "%s/%s", dir, file);
    return buf;
}

/* Config text: TLS with dir's server certificate, plus extra. */
static const char *tls_conf(char *buf, size_t n, const char *dir, const char *extra)
{
    snprintf(buf, n, "tls_cert = \"%s/server.pem\"\ntls_key = \"%s/server.key\"\n%s", dir, dir,
             extra ? extra : "");
    return buf;
}

static void start_tls(struct hserver *s, const char *dir, const char *extra)
{
    char conf[2048];

    if (harness_server_start(s, tls_conf(conf, sizeof conf, dir, extra)) < 0)
        fail_msg("hitlqd with TLS did not start");
}

static void stop(struct hserver *s)
{
    int rc = harness_server_stop(s);

    harness_server_cleanup(s);
    assert_int_equal(rc, 0);
}

static bool log_has(const struct hserver *s, const char *needle)
{
    char line[4096];
    bool found = false;
    FILE *f = fopen(s->logfile, "r");

    if (f == NULL)
        return false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static bool wait_log(const struct hserver *s, const char *needle, int ms)
{
    uint64_t end = harness_now_ms() + (uint64_t)ms;

    while (!log_has(s, needle)) {
        if (harness_now_ms() > end)
            return false;
        harness_sleep_ms(20);
    }
    return true;
}

/* ---- libhitlq ----------------------------------------------------------- */

static hitlq *tls_client(uint16_t port, const char *dir_ca, const char *dir_cert,
                         const char *name)
{
    char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
    hitlq_options o = { .host = "127.0.0.1", .port = port, .name = "tls-test",
                        .timeout_ms = 10000, .tls_ca = path(ca, dir_ca, "ca.pem"),
                        .tls_server_name = name };
    hitlq *c;

    if (dir_cert != NULL) {
        o.tls_cert = path(cert, dir_cert, "client.pem");
        o.tls_key = path(key, dir_cert, "client.key");
    }
    c = hitlq_connect(&o);
    assert_non_null(c);
    return c;
}

static int ping(hitlq *c)
{
    hitlq_reply *r = NULL;
    int rc = hitlq_call(c, HITLQ_OP_PING, NULL, 0, &r);

    hitlq_reply_free(r);
    return rc;
}

/* ---- certificates seen by the raw client (tls_util.h) ------------------ */

/* SHA-256 of a certificate: the server's, or the first in a PEM file. */
static void cert_digest(X509 *x, unsigned char md[32])
{
    unsigned int n = 32;

    assert_non_null(x);
    assert_int_equal(X509_digest(x, EVP_sha256(), md, &n), 1);
    X509_free(x);
}

static void peer_digest(struct rtls *t, unsigned char md[32])
{
    cert_digest(SSL_get1_peer_certificate(t->ssl), md);
}

static void file_digest(const char *file, unsigned char md[32])
{
    FILE *f = fopen(file, "r");

    assert_non_null(f);
    cert_digest(PEM_read_X509(f, NULL, NULL, NULL), md);
    fclose(f);
}

/* ---- the server context, in process ---------------------------------------- */

static void cfg_tls(struct hitlq_config *cfg, const char *dir, const char *client_ca)
{
    assert_int_equal(config_load(cfg, NULL, NULL, 0), 0);
    snprintf(cfg->tls_cert, sizeof cfg->tls_cert, "%s/server.pem", dir);
    snprintf(cfg->tls_key, sizeof cfg->tls_key, "%s/server.key", dir);
    if (client_ca)
        snprintf(cfg->tls_client_ca, sizeof cfg->tls_client_ca, "%s", client_ca);
}

/* Handshakes a server and a client SSL over a BIO pair, in memory. */
static bool pair_handshake(SSL *srv, SSL *cli)
{
    BIO *bs, *bc;
    int rs = 0, rc = 0;

    assert_int_equal(BIO_new_bio_pair(&bs, 0, &bc, 0), 1);
    SSL_set_bio(srv, bs, bs);
    SSL_set_bio(cli, bc, bc);
    SSL_set_accept_state(srv);
    SSL_set_connect_state(cli);
    for (int i = 0; i < 100 && (rs != 1 || rc != 1); i++) {
        if (rc != 1)
            rc = SSL_do_handshake(cli);
        if (rs != 1)
            rs = SSL_do_handshake(srv);
    }
    return rs == 1 && rc == 1;
}

/* tls_ctx_new's file checks; tls_peer_name and tls_exporter on a mutual-TLS
 * session (the exporter must match the client's, label EXPORTER-hitlq-auth). */
static void test_tls_unit(void **st)
{
    struct hitlq_config cfg;
    char err[512], name[129], ca[PATH_MAX], p[PATH_MAX];
    uint8_t es[32], ec[32];
    SSL_CTX *sctx, *cctx;
    SSL *s, *c;

    (void)st;
    cfg_tls(&cfg, A, NULL);
    snprintf(cfg.tls_key, sizeof cfg.tls_key, "%s/client.key", A);       /* wrong key */
    assert_null(tls_ctx_new(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "tls_key"));
    assert_non_null(strstr(err, "mismatch"));
    cfg_tls(&cfg, A, NULL);
    snprintf(cfg.tls_cert, sizeof cfg.tls_cert, "%s/missing.pem", A);
    assert_null(tls_ctx_new(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "missing.pem"));
    cfg_tls(&cfg, A, NULL);
    snprintf(cfg.tls_min_version, sizeof cfg.tls_min_version, "1.1");
    assert_null(tls_ctx_new(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "tls_min_version"));

    cfg_tls(&cfg, A, path(ca, A, "ca.pem"));
    sctx = tls_ctx_new(&cfg, err, sizeof err);
    if (sctx == NULL)
        fail_msg("tls_ctx_new: %s", err);
    assert_int_equal(SSL_CTX_get_num_tickets(sctx), 0);
    assert_true(SSL_CTX_get_options(sctx) & SSL_OP_NO_RENEGOTIATION);
    assert_true(SSL_CTX_get_options(sctx) & SSL_OP_NO_COMPRESSION);
    assert_int_equal(SSL_CTX_get_min_proto_version(sctx), TLS1_3_VERSION);
    cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(cctx, ca, NULL);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_use_certificate_chain_file(cctx, path(p, A, "client.pem"));
    SSL_CTX_use_PrivateKey_file(cctx, path(p, A, "client.key"), SSL_FILETYPE_PEM);
    s = SSL_new(sctx);
    c = SSL_new(cctx);
    assert_int_equal(tls_exporter(s, es), -1);             /* not before the handshake */
    assert_true(pair_handshake(s, c));
    tls_peer_name(s, name, sizeof name);
    assert_string_equal(name, "alice");
    tls_peer_name(s, name, 4);                              /* does not fit: no name */
    assert_string_equal(name, "");
    assert_int_equal(tls_exporter(s, es), 0);
    assert_int_equal(SSL_export_keying_material(c, ec, 32, TLS_EXPORTER_LABEL,
                                                strlen(TLS_EXPORTER_LABEL), NULL, 0, 0), 1);
    assert_memory_equal(es, ec, 32);
    SSL_free(s);
    SSL_free(c);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
}

/* ---- against a real hitlqd ------------------------------------------------- */

/* libhitlq over TLS: PING, SUBMIT, STATS; the CLI with --tls-ca and
 * $HITLQ_TLS_CA; the same CLI without TLS is turned away. */
static void test_tls_libhitlq_and_cli(void **st)
{
    struct hserver s;
    msgpack_sbuffer fields;
    msgpack_packer pk;
    hitlq_decision d;
    hitlq_reply *r = NULL;
    hitlq *c;

    (void)st;
    start_tls(&s, A, NULL);
    c = tls_client(s.port, A, NULL, NULL);
    if (hitlq_err(c) != HITLQ_OK)
        fail_msg("TLS connect: %s", hitlq_errstr(c));
    assert_int_equal(ping(c), HITLQ_OK);
    msgpack_sbuffer_init(&fields);
    msgpack_packer_init(&pk, &fields, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "amount", 1000);
    hitlq_item it = { .key = "tls-1", .type = "credit_application", .fields = fields.data,
                      .fields_len = fields.size, .priority = -1 };
    assert_int_equal(hitlq_submit(c, &it, &d), HITLQ_OK);
    assert_true(d.queued);
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    hitlq_reply_free(r);
    hitlq_free(c);
    msgpack_sbuffer_destroy(&fields);

    assert_int_equal(run_sh("%s -p %u --tls-ca %s/ca.pem stats > /dev/null", HARNESS_CLI,
                            s.port, A), 0);
    assert_int_equal(run_sh("HITLQ_TLS_CA=%s/ca.pem %s -p %u -h localhost stats > /dev/null",
                            A, HARNESS_CLI, s.port), 0);
    assert_int_not_equal(run_sh("%s -p %u stats > /dev/null 2>&1", HARNESS_CLI, s.port), 0);
    assert_int_not_equal(run_sh("%s -p %u --tls-cert x stats > /dev/null 2>&1",
                                HARNESS_CLI, s.port), 0);
    stop(&s);
}

/* 300 SUBMITs written at once over TLS: more than the 64 in flight, so
 * the server stops and resumes reading with decrypted bytes already
 * buffered; every reply must still arrive (no stall). */
static void test_tls_pipelined_flow_control(void **st)
{
    enum { N = 300 };
    static struct rtls t;
    struct hserver s;
    msgpack_sbuffer sb, body;
    msgpack_packer pk;
    bool seen[N + 1] = { false };
    int ok = 0;

    (void)st;
    start_tls(&s, A, NULL);
    assert_true(rtls_open(&t, s.port, A, 0, NULL));
    assert_int_equal(rtls_hello_ping(&t), 0);
    msgpack_sbuffer_init(&sb);
    msgpack_sbuffer_init(&body);
    msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
    for (uint32_t i = 1; i <= N; i++) {
        char key[32];

        msgpack_sbuffer_clear(&body);
        snprintf(key, sizeof key, "pipe-%u", i);
        msgpack_pack_map(&pk, 3);
        hpk_kv_str(&pk, "key", key);
        hpk_kv_str(&pk, "type", "credit_application");
        hpk_str(&pk, "fields");
        msgpack_pack_map(&pk, 1);
        hpk_kv_u64(&pk, "amount", 1000 + i);
        hframe_append(&sb, HITLQ_OP_SUBMIT, 100 + i, body.data, body.size);
    }
    assert_true(rtls_send(&t, sb.data, sb.size));
    for (int i = 0; i < N; i++) {
        uint32_t rid = 0;
        int status = rtls_read(&t, &rid);

        assert_int_equal(status, 0);
        assert_true(rid > 100 && rid <= 100 + N && !seen[rid - 100]);
        seen[rid - 100] = true;
        ok++;
    }
    assert_int_equal(ok, N);
    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_destroy(&body);
    rtls_close(&t);
    stop(&s);
}

/* A SUBMIT frame of exactly `total` bytes (header included): fields
 * {amount, note: "xxx..."} with the note sized to fit. */
static void submit_frame_of(msgpack_sbuffer *out, size_t total, uint32_t rid)
{
    msgpack_sbuffer body;
    msgpack_packer pk;
    char key[32];
    char *pad = malloc(total);
    size_t n = total > 200 ? total - 200 : 1;

    assert_non_null(pad);
    memset(pad, 'x', total);
    snprintf(key, sizeof key, "rec-%zu-%u", total, rid);
    msgpack_sbuffer_init(&body);
    msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
    for (int tries = 0; tries < 8; tries++) {              /* str header sizes vary */
        msgpack_sbuffer_clear(&body);
        msgpack_pack_map(&pk, 3);
        hpk_kv_str(&pk, "key", key);
        hpk_kv_str(&pk, "type", "credit_application");
        hpk_str(&pk, "fields");
        msgpack_pack_map(&pk, 2);
        hpk_kv_u64(&pk, "amount", 1000);
        hpk_str(&pk, "note");
        msgpack_pack_str(&pk, n);
        msgpack_pack_str_body(&pk, pad, n);
        if (12 + body.size == total)
            break;
        n += total - (12 + body.size);                     /* may wrap: fixed next turn */
    }
    assert_int_equal(12 + body.size, total);
    msgpack_sbuffer_clear(out);
    hframe_append(out, HITLQ_OP_SUBMIT, rid, body.data, body.size);
    msgpack_sbuffer_destroy(&body);
    free(pad);
}

/* Frames around 1 KiB and around the 16 KiB TLS record size, whole or cut
 * across two records: each is answered at once (no frame waits inside
 * OpenSSL), and the connection stays usable. */
static void test_tls_record_boundaries(void **st)
{
    static const size_t sizes[] = { 1023, 1024, 1025, 16383, 16384, 16385, 2 * 16384 + 7 };
    static struct rtls t;
    struct hserver s;
    msgpack_sbuffer sb;
    uint32_t rid = 10;

    (void)st;
    start_tls(&s, A, NULL);
    assert_true(rtls_open(&t, s.port, A, 0, NULL));
    assert_int_equal(rtls_hello_ping(&t), 0);
    msgpack_sbuffer_init(&sb);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (size_t cut = 0; cut < 3; cut++) {
            size_t at = cut == 0 ? sizes[i] : cut == 1 ? 5 : sizes[i] - 1;
            uint64_t t0;
            uint32_t got = 0;
            int status;

            submit_frame_of(&sb, sizes[i], ++rid);
            assert_true(rtls_send(&t, sb.data, at));
            if (at < sb.size) {
                harness_sleep_ms(20);                      /* separate records */
                assert_true(rtls_send(&t, sb.data + at, sb.size - at));
            }
            t0 = harness_now_ms();
            status = rtls_read(&t, &got);
            if (status < 0 || got != rid)
                fail_msg("frame of %zu bytes (cut at %zu): no reply", sizes[i], at);
            assert_true(harness_now_ms() - t0 < 1000);
        }
    }
    assert_int_equal(rtls_call(&t, HITLQ_OP_PING, 99, NULL, 0), 0);
    msgpack_sbuffer_destroy(&sb);
    rtls_close(&t);
    stop(&s);
}

/* A CA that did not sign the server's certificate, or a name it does not
 * carry: the connect fails with the reason; the server is unaffected. */
static void test_tls_wrong_ca_or_name(void **st)
{
    struct hserver s;
    hitlq *c;

    (void)st;
    start_tls(&s, A, NULL);
    c = tls_client(s.port, B, NULL, NULL);
    assert_int_equal(hitlq_err(c), HITLQ_EIO);
    assert_non_null(strstr(hitlq_errstr(c), "certificate"));
    assert_int_equal(ping(c), HITLQ_ECLOSED);
    hitlq_free(c);
    c = tls_client(s.port, A, NULL, "db.example.com");
    assert_int_equal(hitlq_err(c), HITLQ_EIO);
    assert_non_null(strstr(hitlq_errstr(c), "hostname mismatch"));
    hitlq_free(c);
    c = tls_client(s.port, A, NULL, "localhost");
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    assert_int_equal(ping(c), HITLQ_OK);
    hitlq_free(c);
    stop(&s);
}

/* A plaintext client talking the protocol to a TLS listener is closed;
 * a TLS client connected before and one after keep working. */
static void test_tls_plaintext_client_refused(void **st)
{
    struct hserver s;
    struct hconn h;
    hitlq *before, *after;

    (void)st;
    start_tls(&s, A, NULL);
    before = tls_client(s.port, A, NULL, NULL);
    assert_int_equal(hitlq_err(before), HITLQ_OK);
    assert_int_equal(hconn_open(&h, s.port), 0);
    assert_int_equal(hconn_hello(&h, "plain"), -1);
    assert_true(hconn_expect_closed(&h, 5000, NULL));
    hconn_close(&h);
    after = tls_client(s.port, A, NULL, NULL);
    assert_int_equal(hitlq_err(after), HITLQ_OK);
    assert_int_equal(ping(before), HITLQ_OK);
    assert_int_equal(ping(after), HITLQ_OK);
    hitlq_free(before);
    hitlq_free(after);
    assert_true(harness_server_alive(&s));
    stop(&s);
}

/* A client that connects and says nothing (or half a ClientHello) is
 * closed after handshake_timeout_ms, not before; others are served
 * meanwhile. */
static void test_tls_handshake_timeout(void **st)
{
    static const uint8_t partial[] = { 0x16, 0x03, 0x01, 0x02 };
    struct hserver s;
    struct hconn silent, half;
    uint64_t t0;
    hitlq *c;

    (void)st;
    start_tls(&s, A, "handshake_timeout_ms = 400\n");
    t0 = harness_now_ms();
    assert_int_equal(hconn_open(&silent, s.port), 0);
    assert_int_equal(hconn_open(&half, s.port), 0);
    assert_int_equal(hconn_send(&half, partial, sizeof partial, 1000), 0);
    c = tls_client(s.port, A, NULL, NULL);
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    assert_int_equal(ping(c), HITLQ_OK);
    assert_true(hconn_expect_closed(&silent, 5000, NULL));
    assert_true(harness_now_ms() - t0 >= 350);
    assert_true(hconn_expect_closed(&half, 5000, NULL));
    assert_true(harness_now_ms() - t0 < 3000);
    assert_int_equal(ping(c), HITLQ_OK);                   /* the handshaken one stays */
    hitlq_free(c);
    hconn_close(&silent);
    hconn_close(&half);
    assert_true(wait_log(&s, "TLS handshake not finished within 400 ms", 2000));
    stop(&s);
}

/* tls_min_version: 1.3 (default) refuses a TLS 1.2-only client; "1.2"
 * accepts it; anything else stops the server at start-up. */
static void test_tls_versions(void **st)
{
    static struct rtls t;
    struct hserver s;
    char conf[2048];

    (void)st;
    start_tls(&s, A, NULL);
    assert_false(rtls_open(&t, s.port, A, TLS1_2_VERSION, NULL));
    rtls_close(&t);
    assert_true(rtls_open(&t, s.port, A, 0, NULL));
    assert_int_equal(SSL_version(t.ssl), TLS1_3_VERSION);
    assert_int_equal(rtls_hello_ping(&t), 0);
    rtls_close(&t);
    stop(&s);

    start_tls(&s, A, "tls_min_version = \"1.2\"\n");
    assert_true(rtls_open(&t, s.port, A, TLS1_2_VERSION, NULL));
    assert_int_equal(SSL_version(t.ssl), TLS1_2_VERSION);
    assert_int_equal(rtls_hello_ping(&t), 0);
    rtls_close(&t);
    stop(&s);

    assert_int_equal(harness_server_start(&s, tls_conf(conf, sizeof conf, A,
                                                       "tls_min_version = \"1.0\"\n")), -1);
    assert_true(log_has(&s, "tls_min_version"));
    harness_server_cleanup(&s);
}

/* Mutual TLS: no client certificate, or one from another CA, is refused;
 * ours is accepted and its CN recorded for the connection. */
static void test_tls_mutual(void **st)
{
    struct hserver s;
    char extra[512];
    hitlq *c;

    (void)st;
    snprintf(extra, sizeof extra, "tls_client_ca = \"%s/ca.pem\"\nlog_level = \"debug\"\n", A);
    start_tls(&s, A, extra);
    c = tls_client(s.port, A, NULL, NULL);
    assert_int_not_equal(hitlq_err(c), HITLQ_OK);
    hitlq_free(c);
    c = tls_client(s.port, A, B, NULL);                    /* mallory, from CA B */
    assert_int_not_equal(hitlq_err(c), HITLQ_OK);
    hitlq_free(c);
    assert_false(log_has(&s, "client certificate mallory"));
    c = tls_client(s.port, A, A, NULL);
    if (hitlq_err(c) != HITLQ_OK)
        fail_msg("mutual TLS connect: %s", hitlq_errstr(c));
    assert_int_equal(ping(c), HITLQ_OK);
    hitlq_free(c);
    assert_true(wait_log(&s, "client certificate alice", 2000));
    stop(&s);
}

static void copy_file(const char *from, const char *to)
{
    char tmp[PATH_MAX + 8];

    snprintf(tmp, sizeof tmp, "%s.tmp", to);
    assert_int_equal(run_sh("cp '%s' '%s' && mv '%s' '%s'", from, tmp, tmp, to), 0);
}

/* SIGHUP re-reads the certificate: new connections see the new one, an
 * open connection keeps working; a broken key file keeps the last good
 * certificate. */
static void test_tls_reload_on_sighup(void **st)
{
    static struct rtls t;
    unsigned char first[32], second[32], got[32];
    char R[PATH_MAX], p[PATH_MAX], q[PATH_MAX], conf[2 * PATH_MAX + 64];
    struct hserver s;
    hitlq *open_conn;

    (void)st;
    snprintf(R, sizeof R, "%s/rot", BASE);
    assert_int_equal(run_sh("sh scripts/make-certs.sh %s > /dev/null", R), 0);
    copy_file(path(p, R, "server.pem"), path(q, R, "live.pem"));
    copy_file(path(p, R, "server.key"), path(q, R, "live.key"));
    file_digest(path(p, R, "server.pem"), first);
    snprintf(conf, sizeof conf, "tls_cert = \"%s/live.pem\"\ntls_key = \"%s/live.key\"\n", R, R);
    assert_true(harness_server_start(&s, conf) > 0);
    open_conn = tls_client(s.port, R, NULL, NULL);
    assert_int_equal(hitlq_err(open_conn), HITLQ_OK);
    assert_true(rtls_open(&t, s.port, R, 0, NULL));
    peer_digest(&t, got);
    assert_memory_equal(got, first, 32);
    rtls_close(&t);

    assert_int_equal(run_sh("sh scripts/make-certs.sh %s > /dev/null", R), 0);  /* same CA */
    file_digest(path(p, R, "server.pem"), second);
    assert_memory_not_equal(first, second, 32);
    copy_file(path(p, R, "server.pem"), path(q, R, "live.pem"));
    copy_file(path(p, R, "server.key"), path(q, R, "live.key"));
    assert_int_equal(harness_server_kill(&s, SIGHUP), 0);
    assert_true(wait_log(&s, "TLS: reloaded", 5000));
    assert_true(rtls_open(&t, s.port, R, 0, NULL));
    peer_digest(&t, got);
    assert_memory_equal(got, second, 32);
    rtls_close(&t);
    assert_int_equal(ping(open_conn), HITLQ_OK);

    assert_int_equal(run_sh("echo garbage > '%s'", path(q, R, "live.key")), 0);
    assert_int_equal(harness_server_kill(&s, SIGHUP), 0);
    assert_true(wait_log(&s, "TLS reload failed, keeping the previous certificate", 5000));
    assert_true(rtls_open(&t, s.port, R, 0, NULL));
    peer_digest(&t, got);
    assert_memory_equal(got, second, 32);
    assert_int_equal(rtls_hello_ping(&t), 0);
    rtls_close(&t);
    assert_int_equal(ping(open_conn), HITLQ_OK);
    hitlq_free(open_conn);
    stop(&s);
}

/* Starts hitlqd on 0.0.0.0:0 (the harness always uses loopback) with
 * conf; returns its exit status if it exits within 10 s, or 256 once it
 * is listening (then stopped with SIGTERM, which must give exit 0). */
static int start_any_addr(const char *conf_text, char *logfile, size_t n)
{
    char dir[64] = "/tmp/hitlq-tls-any-XXXXXX", conf[128], data[128], port[128];
    int st = -1, rc = -1;
    FILE *f;
    pid_t pid;

    assert_non_null(mkdtemp(dir));
    snprintf(conf, sizeof conf, "%s/conf", dir);
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(port, sizeof port, "%s/port", dir);
    snprintf(logfile, n, "%s/log", dir);
    f = fopen(conf, "w");
    assert_non_null(f);
    fputs("http_listen = \"127.0.0.1:0\"\n", f);     /* not the fixed default port */
    fputs(conf_text, f);
    fclose(f);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(logfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        execl(HARNESS_HITLQD, HARNESS_HITLQD, "-c", conf, "-d", data, "-l", "0.0.0.0:0",
              "-P", port, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000 && rc < 0; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            rc = WIFEXITED(st) ? WEXITSTATUS(st) : 255;
        else if (access(port, F_OK) == 0)
            rc = 256;
        else
            harness_sleep_ms(10);
    }
    if (rc == 256) {
        kill(pid, SIGTERM);
        waitpid(pid, &st, 0);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    } else if (rc < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    return rc;
}

/* A non-loopback listener without TLS refuses to start (with a message
 * naming the fix) unless insecure_plaintext = 1; with TLS it starts. */
static void test_tls_nonloopback_needs_tls(void **st)
{
    char log[128], conf[3 * PATH_MAX + 256], cwd[PATH_MAX];
    char policy[PATH_MAX + 64];
    struct hserver fake;

    (void)st;
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(policy, sizeof policy, "policy = \"%s/server/score/defaults/scorecard_policy.json\"\n", cwd);
    assert_int_equal(start_any_addr(policy, log, sizeof log), 5);
    snprintf(fake.logfile, sizeof fake.logfile, "%s", log);
    assert_true(log_has(&fake, "refusing to serve plaintext on a non-loopback address"));
    assert_true(log_has(&fake, "insecure_plaintext = 1"));
    run_sh("rm -rf \"$(dirname '%s')\"", log);

    snprintf(conf, sizeof conf, "%sinsecure_plaintext = 1\n", policy);
    assert_int_equal(start_any_addr(conf, log, sizeof log), 256);
    run_sh("rm -rf \"$(dirname '%s')\"", log);

    snprintf(conf, sizeof conf, "%stls_cert = \"%s/server.pem\"\ntls_key = \"%s/server.key\"\n",
             policy, A, A);
    assert_int_equal(start_any_addr(conf, log, sizeof log), 256);
    run_sh("rm -rf \"$(dirname '%s')\"", log);
}

/* ---- mutual TLS mapped to principals (KEY_ADD tls_peer) ---------------- */

/* HELLO {version} (no api_key) on t; principal and role copied from the
 * reply when it is ok.  Returns the status or -1. */
static int rtls_hello_who(struct rtls *t, char *principal, char *role, size_t n)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    struct hframe f;
    int st;

    principal[0] = role[0] = '\0';
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "version", 1);
    st = rtls_call_frame(t, HITLQ_OP_HELLO, 1, sb.data, sb.size, &f);
    msgpack_sbuffer_destroy(&sb);
    if (st < 0)
        return -1;
    hobj_str(hframe_get(&f, "principal"), principal, n);
    hobj_str(hframe_get(&f, "role"), role, n);
    hframe_free(&f);
    return st;
}

static hitlq *mtls_client(uint16_t port, const char *dir_cert, const char *api_key)
{
    char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
    hitlq_options o = { .host = "127.0.0.1", .port = port, .name = "mtls-test",
                        .timeout_ms = 10000, .tls_ca = path(ca, A, "ca.pem"),
                        .tls_server_name = "localhost", .api_key = api_key };
    hitlq *c;

    if (dir_cert != NULL) {
        o.tls_cert = path(cert, dir_cert, "client.pem");
        o.tls_key = path(key, dir_cert, "client.key");
    }
    c = hitlq_connect(&o);
    assert_non_null(c);
    return c;
}

/* auth = 1 with mutual TLS: KEY_ADD tls_peer binds alice's certificate to
 * principal alice (specialist); HELLO without api_key then authenticates
 * as alice, KEY_LIST shows the credential, KEY_REVOKE closes the live
 * connection within 1 s and refuses new ones. */
static void test_tls_mtls_principal(void **st)
{
    struct hserver s;
    char extra[512], fpath[PATH_MAX], admin_key[128] = "", id[HITLQ_KEY_ID_LEN + 1];
    char principal[64], role[64], id2[HITLQ_KEY_ID_LEN + 1];
    const msgpack_object *keys;
    hitlq_reply *r = NULL;
    static struct rtls t;
    hitlq *adm, *c;
    FILE *f;
    bool listed = false;
    uint64_t t0;

    (void)st;
    snprintf(extra, sizeof extra,
             "auth = 1\ntls_client_ca = \"%s/ca.pem\"\nlog_level = \"debug\"\n", A);
    start_tls(&s, A, extra);
    f = fopen(path(fpath, s.data, "admin.key"), "r");
    assert_non_null(f);
    assert_non_null(fgets(admin_key, sizeof admin_key, f));
    fclose(f);
    admin_key[strcspn(admin_key, "\n")] = '\0';
    adm = mtls_client(s.port, A, admin_key);
    if (hitlq_err(adm) != HITLQ_OK)
        fail_msg("admin connect: %s", hitlq_errstr(adm));

    /* no credential yet: alice's certificate alone is not enough */
    assert_true(rtls_open(&t, s.port, A, 0, A));
    assert_int_equal(rtls_hello_who(&t, principal, role, sizeof principal),
                     HITLQ_ST_UNAUTHORIZED);
    rtls_close(&t);

    assert_int_equal(hitlq_key_add_tls(adm, "alice", "specialist", "", NULL, 0, NULL, 0),
                     HITLQ_ST_BAD_REQUEST);
    assert_int_equal(hitlq_key_add_tls(adm, "alice", "specialist", "alice", NULL, 0, id,
                                       sizeof id), HITLQ_OK);
    assert_int_equal(strlen(id), HITLQ_KEY_ID_LEN);
    /* one live binding per certificate name */
    assert_int_equal(hitlq_key_add_tls(adm, "bob", "bot", "alice", NULL, 0, id2, sizeof id2),
                     HITLQ_ST_CONFLICT);

    /* libhitlq with the client certificate and no api_key */
    c = mtls_client(s.port, A, NULL);
    if (hitlq_err(c) != HITLQ_OK)
        fail_msg("mTLS HELLO without api_key: %s", hitlq_errstr(c));
    assert_int_equal(ping(c), HITLQ_OK);
    hitlq_free(c);
    /* the HELLO reply names the principal and role */
    assert_true(rtls_open(&t, s.port, A, 0, A));
    assert_int_equal(rtls_hello_who(&t, principal, role, sizeof principal), HITLQ_ST_OK);
    assert_string_equal(principal, "alice");
    assert_string_equal(role, "specialist");
    assert_int_equal(rtls_call(&t, HITLQ_OP_PING, 2, NULL, 0), HITLQ_ST_OK);

    /* without a client certificate: refused (tls_client_ca makes the
     * handshake demand one, so the HELLO never authenticates) */
    c = mtls_client(s.port, NULL, NULL);
    assert_int_not_equal(hitlq_err(c), HITLQ_OK);
    hitlq_free(c);

    /* KEY_LIST: kind tls_peer, the name, never a secret */
    assert_int_equal(hitlq_key_list(adm, "alice", &r), HITLQ_OK);
    keys = hitlq_reply_get(r, "keys");
    assert_non_null(keys);
    for (uint32_t i = 0; i < keys->via.array.size; i++) {
        const msgpack_object *e = &keys->via.array.ptr[i];
        bool mine = false, kind = false, peer = false;
        for (uint32_t j = 0; j < e->via.map.size; j++) {
            const msgpack_object_kv *kv = &e->via.map.ptr[j];
            mine |= hobj_str_eq(&kv->key, "key_id") && hobj_str_eq(&kv->val, id);
            kind |= hobj_str_eq(&kv->key, "kind") && hobj_str_eq(&kv->val, "tls_peer");
            peer |= hobj_str_eq(&kv->key, "tls_peer") && hobj_str_eq(&kv->val, "alice");
            assert_false(hobj_str_eq(&kv->key, "api_key"));
        }
        listed |= mine && kind && peer;
    }
    assert_true(listed);
    hitlq_reply_free(r);

    /* KEY_REVOKE: the live connection is told and closed within 1 s */
    t0 = harness_now_ms();
    assert_int_equal(hitlq_key_revoke(adm, id), HITLQ_OK);
    assert_int_equal(rtls_read(&t, NULL), HITLQ_ST_UNAUTHORIZED);
    assert_int_equal(rtls_read(&t, NULL), -1);
    assert_true(harness_now_ms() - t0 < 1000);
    rtls_close(&t);
    /* ... and a new one is refused */
    assert_true(rtls_open(&t, s.port, A, 0, A));
    assert_int_equal(rtls_hello_who(&t, principal, role, sizeof principal),
                     HITLQ_ST_UNAUTHORIZED);
    rtls_close(&t);
    c = mtls_client(s.port, A, NULL);
    assert_int_not_equal(hitlq_err(c), HITLQ_OK);
    hitlq_free(c);
    /* an API key still decides when one is given */
    assert_int_equal(ping(adm), HITLQ_OK);
    hitlq_free(adm);
    assert_true(wait_log(&s, "revoked tls_peer credential", 2000));
    stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_unit),
        cmocka_unit_test(test_tls_libhitlq_and_cli),
        cmocka_unit_test(test_tls_pipelined_flow_control),
        cmocka_unit_test(test_tls_record_boundaries),
        cmocka_unit_test(test_tls_wrong_ca_or_name),
        cmocka_unit_test(test_tls_plaintext_client_refused),
        cmocka_unit_test(test_tls_handshake_timeout),
        cmocka_unit_test(test_tls_versions),
        cmocka_unit_test(test_tls_mutual),
        cmocka_unit_test(test_tls_reload_on_sighup),
        cmocka_unit_test(test_tls_nonloopback_needs_tls),
        cmocka_unit_test(test_tls_mtls_principal),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
