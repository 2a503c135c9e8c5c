/*
 * test_ops_traps.c - the operator traps of issue 15 (defect 8), each run
 * against the real build/test/hitlqd: `hitlqd -n` refuses what the real
 * start refuses (plaintext off loopback, key files others can read); a
 * start that fails creates neither audit.key nor admin.key; a plaintext
 * client on the TLS port gets a one-line hint, not a bare reset; relative
 * paths in a config file name files beside it, whatever the current
 * directory; started as root with `user` set, hitlqd serves as that user;
 * every binary answers --version.
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
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "hitlq_proto.h"

static char BASE[64];            /* temp dir of this run */
static char CERTS[96];           /* scripts/make-certs.sh output */

static int run_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run_sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* Exit status of a shell command (-1 when it did not exit normally). */
static int run_rc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run_rc(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    int st;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* The whole file into buf (NUL-terminated; "" when missing). */
static const char *read_text(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;

    buf[0] = '\0';
    if (f != NULL) {
        n = fread(buf, 1, cap - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

static bool exists(const char *dir, const char *name)
{
    char p[512];

    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* A fresh directory under BASE. */
static void subdir(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", BASE, name);
    assert_int_equal(mkdir(out, 0700), 0);
}

static int group_setup(void **st)
{
    (void)st;
    signal(SIGPIPE, SIG_IGN);
    snprintf(BASE, sizeof BASE, "/tmp/hitlq-ops-XXXXXX");
    if (mkdtemp(BASE) == NULL)
        return -1;
    snprintf(CERTS, sizeof CERTS, "%s/certs", BASE);
    if (run_sh("sh scripts/make-certs.sh %s > /dev/null", CERTS) != 0) {
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

/* `hitlqd -n` on a plaintext non-loopback listener (main or HTTP): the
 * real start refuses it, so the check must too, naming the option. */
static void test_check_refuses_plaintext_public(void **st)
{
    char d[128], conf[192], out[192], text[2048];

    (void)st;
    subdir(d, sizeof d, "n_plain");
    snprintf(conf, sizeof conf, "%s/a.conf", d);
    snprintf(out, sizeof out, "%s/n.out", d);
    write_text(conf, "listen = \"0.0.0.0:7420\"\nhttp_listen = \"\"\n");
    assert_int_not_equal(run_rc(HARNESS_HITLQD " -n -c %s -d %s/data >%s 2>&1", conf, d, out), 0);
    if (strstr(read_text(out, text, sizeof text), "plaintext") == NULL)
        fail_msg("hitlqd -n said: %s", text);
    write_text(conf, "listen = \"127.0.0.1:7420\"\nhttp_listen = \"0.0.0.0:7421\"\n");
    assert_int_not_equal(run_rc(HARNESS_HITLQD " -n -c %s -d %s/data >%s 2>&1", conf, d, out), 0);
    if (strstr(read_text(out, text, sizeof text), "http_listen") == NULL)
        fail_msg("hitlqd -n said: %s", text);
    /* allowed with insecure_plaintext, and on loopback */
    write_text(conf, "listen = \"0.0.0.0:7420\"\nhttp_listen = \"\"\ninsecure_plaintext = 1\n");
    assert_int_equal(run_rc(HARNESS_HITLQD " -n -c %s -d %s/data >%s 2>&1", conf, d, out), 0);
    assert_false(exists(d, "data"));           /* -n writes nothing */
}

/* A start refused for its configuration, or for a busy HTTP port, leaves
 * no key file behind (an audit.key would fix a random origin). */
static void test_failed_start_creates_no_keys(void **st)
{
    char d[128], data[160], conf[192], text[4096];
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof sa;
    int busy, one = 1;

    (void)st;
    subdir(d, sizeof d, "nokeys");
    snprintf(data, sizeof data, "%s/data", d);
    snprintf(conf, sizeof conf, "%s/a.conf", d);
    write_text(conf, "auth = 1\nlisten = \"0.0.0.0:0\"\nhttp_listen = \"\"\n");
    assert_int_not_equal(run_rc(HARNESS_HITLQD " -c %s -d %s >%s/log 2>&1", conf, data, d), 0);
    assert_false(exists(data, "audit.key"));
    assert_false(exists(data, "admin.key"));
    /* the HTTP port is taken by someone else */
    busy = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(busy >= 0);
    setsockopt(busy, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(busy, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(busy, 4), 0);
    assert_int_equal(getsockname(busy, (struct sockaddr *)&sa, &len), 0);
    snprintf(text, sizeof text, "auth = 1\nlisten = \"127.0.0.1:0\"\n"
             "http_listen = \"127.0.0.1:%u\"\nhttp_auth = 1\n", (unsigned)ntohs(sa.sin_port));
    write_text(conf, text);
    assert_int_not_equal(run_rc(HARNESS_HITLQD " -c %s -d %s >%s/log 2>&1", conf, data, d), 0);
    close(busy);
    snprintf(conf, sizeof conf, "%s/log", d);
    if (strstr(read_text(conf, text, sizeof text), "in use") == NULL)
        fail_msg("log does not name the busy port: %s", text);
    assert_false(exists(data, "audit.key"));
    assert_false(exists(data, "admin.key"));
}

/* An audit signing key others may read: refused by the start and by -n;
 * chmod 600 makes both accept it. */
static void test_key_file_modes(void **st)
{
    char d[128], data[160], key[192], out[192], conf[192], text[2048];

    (void)st;
    subdir(d, sizeof d, "modes");
    snprintf(data, sizeof data, "%s/data", d);
    snprintf(key, sizeof key, "%s/audit.key", data);
    snprintf(out, sizeof out, "%s/out", d);
    snprintf(conf, sizeof conf, "%s/a.conf", d);
    write_text(conf, "http_listen = \"\"\n");
    assert_int_equal(run_rc(HARNESS_HITLQD " -K -d %s >%s 2>&1", data, out), 0);
    assert_int_equal(run_rc(HARNESS_HITLQD " -n -d %s >%s 2>&1", data, out), 0);
    assert_int_equal(chmod(key, 0640), 0);
    assert_int_not_equal(run_rc(HARNESS_HITLQD " -n -d %s >%s 2>&1", data, out), 0);
    if (strstr(read_text(out, text, sizeof text), "audit.key") == NULL ||
        strstr(text, "chmod 600") == NULL)
        fail_msg("hitlqd -n said: %s", text);
    /* (timeout: an unfixed server would start and serve) */
    assert_int_not_equal(run_rc("timeout 10 " HARNESS_HITLQD " -d %s -l 127.0.0.1:0 -c %s >%s 2>&1",
                                data, conf, out), 0);
    if (strstr(read_text(out, text, sizeof text), "chmod 600") == NULL)
        fail_msg("hitlqd said: %s", text);
    assert_int_equal(chmod(key, 0600), 0);
    assert_int_equal(run_rc(HARNESS_HITLQD " -n -d %s >%s 2>&1", data, out), 0);
}

/* Reads from fd until EOF/reset or 5 s: the bytes into buf; the count. */
static size_t read_all(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    uint64_t end = harness_now_ms() + 5000;

    while (n + 1 < cap && harness_now_ms() < end) {
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t r;

        if (poll(&p, 1, 100) <= 0)
            continue;
        r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return n;
}

/* A HITLQ frame (not a TLS ClientHello) on the TLS port: the server
 * answers one readable line saying the port speaks TLS, then closes. */
static void test_plaintext_on_tls_port(void **st)
{
    struct hserver s;
    struct hconn c;
    char conf[512], got[512];
    uint8_t hdr[12];

    (void)st;
    snprintf(conf, sizeof conf, "tls_cert = \"%s/server.pem\"\ntls_key = \"%s/server.key\"\n",
             CERTS, CERTS);
    assert_true(harness_server_start(&s, conf) > 0);
    assert_int_equal(hconn_open(&c, s.port), 0);
    hframe_header(hdr, 0, HITLQ_MAGIC, HITLQ_OP_PING, 0, 1);
    assert_int_equal(hconn_send(&c, hdr, sizeof hdr, 2000), 0);
    read_all(c.fd, got, sizeof got);
    hconn_close(&c);
    if (strstr(got, "TLS") == NULL || strchr(got, '\n') == NULL)
        fail_msg("a plaintext client got \"%s\"", got);
    assert_int_equal(harness_server_stop(&s), 0);
    harness_server_cleanup(&s);
}

/* tls_cert, tls_key, audit_key, data_dir and auth_bootstrap_key given
 * relative in a config file name files beside it, from any directory. */
static void test_paths_relative_to_config(void **st)
{
    char d[128], conf[192], text[1024], port[192];

    (void)st;
    subdir(d, sizeof d, "rel");
    assert_int_equal(run_sh("cp -r %s %s/tls", CERTS, d), 0);
    snprintf(conf, sizeof conf, "%s/hitlqd.conf", d);
    write_text(conf, "listen = \"127.0.0.1:0\"\nhttp_listen = \"\"\nauth = 1\n"
               "tls_cert = \"tls/server.pem\"\ntls_key = \"tls/server.key\"\n"
               "data_dir = \"state\"\naudit_key = \"signing.key\"\n"
               "auth_bootstrap_key = \"first-admin.key\"\n");
    snprintf(port, sizeof port, "%s/port", d);
    /* -n from the repository root (this test's working directory) */
    assert_int_equal(run_rc(HARNESS_HITLQD " -n -c %s >%s/n.out 2>&1", conf, d), 0);
    /* a real start: port file, then SIGTERM */
    assert_int_equal(run_rc("(" HARNESS_HITLQD " -c %s -P %s >%s/log 2>&1 & pid=$!; "
                            "i=0; while [ ! -s %s ] && [ $i -lt 200 ]; do sleep 0.05; "
                            "i=$((i+1)); done; kill -TERM $pid; wait $pid)", conf, port, d, port),
                     0);
    if (!exists(d, "state/data.mdb") || !exists(d, "signing.key") ||
        !exists(d, "first-admin.key")) {
        snprintf(port, sizeof port, "%s/log", d);
        fail_msg("files not beside the config; log: %s", read_text(port, text, sizeof text));
    }
    assert_false(access("state", F_OK) == 0);
    assert_false(access("signing.key", F_OK) == 0);
}

/* The uid hitlqd runs as, from /proc (or -1). */
static long proc_uid(pid_t pid)
{
    char p[64], line[256];
    long uid = -1;
    FILE *f;

    snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
    if ((f = fopen(p, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "Uid: %*d %ld", &uid) == 1)    /* the effective uid */
            break;
    fclose(f);
    return uid;
}

/* Started as root with user = "nobody": bound and keys read as root, then
 * every uid is nobody's and it still serves (and commits) until SIGTERM. */
static void test_drops_to_user(void **st)
{
    struct hserver s;
    struct hconn c;

    (void)st;
    if (geteuid() != 0)
        skip();
    assert_true(harness_server_start(&s, "user = \"nobody\"\n") > 0);
    assert_int_equal(hconn_open(&c, s.port), 0);
    assert_int_equal(hconn_hello(&c, "after-drop"), 0);
    assert_int_equal(hconn_ping(&c, 2), 0);
    assert_non_null(getpwnam("nobody"));
    assert_int_equal(proc_uid(s.pid), (long)getpwnam("nobody")->pw_uid);
    hconn_close(&c);
    assert_int_equal(harness_server_stop(&s), 0);
    harness_server_cleanup(&s);
}

/* Every binary answers --version with its name and the version. */
static void test_version_flags(void **st)
{
    static const char *const bins[] = { "hitlqd", "hitlq", "hitlq-audit" };
    char out[192], text[256], want[64];

    (void)st;
    snprintf(out, sizeof out, "%s/version.out", BASE);
    for (size_t i = 0; i < sizeof bins / sizeof bins[0]; i++) {
        assert_int_equal(run_rc("build/test/%s --version >%s 2>&1", bins[i], out), 0);
        snprintf(want, sizeof want, "%s %s", bins[i], HITLQ_VERSION);
        if (strncmp(read_text(out, text, sizeof text), want, strlen(want)) != 0)
            fail_msg("%s --version said: %s", bins[i], text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_refuses_plaintext_public),
        cmocka_unit_test(test_failed_start_creates_no_keys),
        cmocka_unit_test(test_key_file_modes),
        cmocka_unit_test(test_plaintext_on_tls_port),
        cmocka_unit_test(test_paths_relative_to_config),
        cmocka_unit_test(test_drops_to_user),
        cmocka_unit_test(test_version_flags),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
