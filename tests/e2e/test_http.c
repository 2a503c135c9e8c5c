/*
 * test_http.c - hitlqd's HTTP listener (server/http/) with authentication
 * on (auth = 1, http_auth = 1): 401 without or with a bad bearer key, 403
 * for a role a route does not admit, the viewer role on HTTP and on the
 * protocol (STATS and LIST only), and the limits: a huge header, a long
 * URI and 1,000 connections against http_max_connections = 64 leave the
 * server serving.  Then TLS on the listener (certificates from
 * scripts/make-certs.sh, as tests/e2e/test_tls.c does): curl --cacert gets
 * /healthz and /metrics over https, plaintext to it gets nothing, and a
 * non-loopback plaintext http_listen is refused at start unless
 * insecure_plaintext = 1.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth_fixture.h"
#include "harness.h"
#include "hitlq_proto.h"
#include "http_get.h"

static void
read_key(void)
{
    char path[256], buf[128] = "";
    FILE *f;

    snprintf(path, sizeof path, "%s/admin.key", afx_srv.data);
    assert_non_null(f = fopen(path, "r"));
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    memcpy(afx_admin_key, buf, AFX_KEY_LEN);
    afx_admin_key[AFX_KEY_LEN] = '\0';
}

static int
http_setup(void **st)
{
    (void)st;
    if (harness_server_start(&afx_srv, "auth = 1\nhttp_auth = 1\nhttp_max_connections = 64\n"
                                       "http_timeout_ms = 1000\n") < 0)
        return -1;
    read_key();
    return 0;
}

static void
test_http_auth(void **st)
{
    uint16_t hp = http_port_of(&afx_srv);
    char vkey[AFX_KEY_LEN + 1], bkey[AFX_KEY_LEN + 1], id[AFX_ID_LEN + 1], *b = NULL;
    char bad[AFX_KEY_LEN + 1];
    struct hconn admin;

    (void)st;
    assert_true(hp > 0);
    afx_admin_conn(&admin);
    afx_key_add(&admin, "manager", "viewer", NULL, vkey, id);
    afx_key_add(&admin, "intake-bot", "bot", NULL, bkey, id);
    hconn_close(&admin);
    assert_int_equal(http_get(hp, "/healthz", NULL, NULL, NULL, 5000), 401);
    memcpy(bad, vkey, sizeof(bad));
    bad[AFX_KEY_LEN - 1] = bad[AFX_KEY_LEN - 1] == 'A' ? 'B' : 'A';
    assert_int_equal(http_get(hp, "/metrics", bad, NULL, NULL, 5000), 401);
    assert_int_equal(http_get(hp, "/metrics", afx_admin_key, NULL, NULL, 5000), 200);
    assert_int_equal(http_get(hp, "/metrics", vkey, NULL, &b, 5000), 200);
    assert_non_null(strstr(b, "# TYPE hitlq_items_submitted_total counter"));
    free(b);
    assert_int_equal(http_get(hp, "/readyz", vkey, NULL, NULL, 5000), 200);
    assert_int_equal(http_get(hp, "/metrics", bkey, NULL, NULL, 5000), 403);
    assert_int_equal(http_get(hp, "/healthz", bkey, NULL, NULL, 5000), 200);
}

/* On the protocol a viewer may look (STATS, LIST) and do nothing else. */
static void
test_viewer_protocol(void **st)
{
    char vkey[AFX_KEY_LEN + 1], id[AFX_ID_LEN + 1];
    struct hconn admin, v;
    struct afx_body body;

    (void)st;
    afx_admin_conn(&admin);
    afx_key_add(&admin, "manager2", "viewer", NULL, vkey, id);
    hconn_close(&admin);
    afx_open_as(&v, vkey, "viewer");
    assert_int_equal(afx_call(&v, HITLQ_OP_STATS, NULL, NULL), HITLQ_ST_OK);
    afx_body_init(&body, 1);
    msgpack_pack_str_with_body(&body.pk, "queue", 5);
    msgpack_pack_str_with_body(&body.pk, "credit_review", 13);
    assert_int_equal(afx_call(&v, HITLQ_OP_LIST, &body.sb, NULL), HITLQ_ST_OK);
    afx_body_free(&body);
    assert_int_equal(afx_submit(&v, "viewer-item", NULL), HITLQ_ST_FORBIDDEN);
    assert_int_equal(afx_claim(&v, "credit_review", NULL), HITLQ_ST_FORBIDDEN);
    afx_body_init(&body, 0);
    assert_int_equal(afx_call(&v, HITLQ_OP_KEY_LIST, &body.sb, NULL), HITLQ_ST_FORBIDDEN);
    afx_body_free(&body);
    hconn_close(&v);
}

static int
raw_connect(uint16_t port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
test_http_limits(void **st)
{
    uint16_t hp = http_port_of(&afx_srv);
    static int fds[1000];
    char *big = malloc(20000), path[3100];
    int code, n = 0;

    (void)st;
    memset(big, 'a', 19990);
    memcpy(big, "X-Big: ", 7);
    memcpy(big + 19990 - 2, "\r\n", 3);
    code = http_get(hp, "/healthz", afx_admin_key, big, NULL, 5000);
    assert_true(code == 0 || code == 400 || code == 413 || code == 431);
    free(big);
    memset(path, 'p', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    code = http_get(hp, path, afx_admin_key, NULL, NULL, 5000);
    assert_true(code == 0 || code == 400 || code == 414);
    for (int i = 0; i < 1000; i++)
        if ((fds[i] = raw_connect(hp)) >= 0)
            n++;
    assert_true(n > 64);
    assert_true(harness_server_alive(&afx_srv));
    for (int i = 0; i < 1000; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    /* the slots come back once the server has seen the closes */
    code = 0;
    for (int i = 0; i < 50 && code != 200; i++) {
        harness_sleep_ms(100);
        code = http_get(hp, "/healthz", afx_admin_key, NULL, NULL, 2000);
    }
    assert_int_equal(code, 200);
}

/* ---- TLS on the HTTP listener ---------------------------------------------- */

static char cert_dir[64];        /* make-certs.sh output of this run */

static void
make_certs(void)
{
    char cmd[256];

    if (cert_dir[0])
        return;
    snprintf(cert_dir, sizeof cert_dir, "/tmp/hitlq-httptls-XXXXXX");
    assert_non_null(mkdtemp(cert_dir));
    snprintf(cmd, sizeof cmd, "sh scripts/make-certs.sh %s/c > /dev/null", cert_dir);
    assert_int_equal(system(cmd), 0);
}

/* curl's status code for url (000 when no HTTP answer came), with
 * --cacert <cert_dir>/c/ca.pem when with_ca. */
static int
curl_code(const char *url, bool with_ca)
{
    char cmd[512], out[16] = "";
    FILE *p;

    snprintf(cmd, sizeof cmd, "curl -s -o /dev/null -m 5 -w '%%{http_code}' %s%s%s %s",
             with_ca ? "--cacert " : "", with_ca ? cert_dir : "", with_ca ? "/c/ca.pem" : "", url);
    assert_non_null(p = popen(cmd, "r"));
    if (fgets(out, sizeof out, p) == NULL)
        out[0] = '\0';
    pclose(p);
    return atoi(out);
}

/* tls_cert/tls_key set: the HTTP listener speaks TLS only. */
static void
test_http_tls(void **st)
{
    struct hserver s;
    char conf[512], url[128];
    uint16_t hp;

    (void)st;
    make_certs();
    snprintf(conf, sizeof conf, "tls_cert = \"%s/c/server.pem\"\ntls_key = \"%s/c/server.key\"\n",
             cert_dir, cert_dir);
    assert_true(harness_server_start(&s, conf) >= 0);
    assert_true((hp = http_port_of(&s)) > 0);
    snprintf(url, sizeof url, "https://127.0.0.1:%u/healthz", (unsigned)hp);
    assert_int_equal(curl_code(url, true), 200);
    assert_int_equal(curl_code(url, false), 0);          /* unknown CA: not verified */
    snprintf(url, sizeof url, "https://localhost:%u/metrics", (unsigned)hp);
    assert_int_equal(curl_code(url, true), 200);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/healthz", (unsigned)hp);
    assert_int_equal(curl_code(url, false), 0);          /* plaintext: no HTTP answer */
    assert_int_equal(http_get(hp, "/healthz", NULL, NULL, NULL, 3000), 0);
    assert_true(harness_server_alive(&s));
    assert_int_equal(harness_server_stop(&s), 0);
    harness_server_cleanup(&s);
}

/* hitlqd on loopback with config text conf (its http_listen 0.0.0.0:0):
 * its exit status if it exits within 10 s, else 256 once it wrote its
 * port files (*http_port set from <portfile>.http, then still running:
 * *pid_out is its pid, for the caller to stop). */
static int
start_http_any(const char *conf_text, char *dir, pid_t *pid_out, uint16_t *http_port)
{
    char conf[128], data[128], port[128], log[128], hport[140];
    int st = -1, rc = -1;
    FILE *f;
    pid_t pid;

    assert_non_null(mkdtemp(dir));
    snprintf(conf, sizeof conf, "%s/conf", dir);
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(port, sizeof port, "%s/port", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    snprintf(hport, sizeof hport, "%s.http", port);
    assert_non_null(f = fopen(conf, "w"));
    fprintf(f, "http_listen = \"0.0.0.0:0\"\nhttp_auth = 0\n%s", conf_text);
    fclose(f);
    assert_true((pid = fork()) >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

        dup2(fd, 2);
        execl(HARNESS_HITLQD, HARNESS_HITLQD, "-c", conf, "-d", data, "-l", "127.0.0.1:0",
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
    if (rc < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    *pid_out = pid;
    if (rc == 256 && (f = fopen(hport, "r")) != NULL) {
        unsigned v = 0;

        if (fscanf(f, "%u", &v) == 1)
            *http_port = (uint16_t)v;
        fclose(f);
    }
    return rc;
}

/* SIGTERM to pid, which must exit 0; then dir is removed. */
static void
stop_any(pid_t pid, const char *dir)
{
    char cmd[128];
    int st = 0;

    kill(pid, SIGTERM);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* A non-loopback plaintext http_listen refuses to start (naming the fix)
 * unless insecure_plaintext = 1; with tls_cert/tls_key it starts and
 * serves https. */
static void
test_http_nonloopback_plaintext(void **st)
{
    char dir[64], log[96], conf[512], url[128], line[512], cmd[160];
    bool named = false;
    uint16_t hp = 0;
    pid_t pid;
    FILE *f;

    (void)st;
    make_certs();
    snprintf(dir, sizeof dir, "/tmp/hitlq-httpany-XXXXXX");
    assert_int_equal(start_http_any("", dir, &pid, &hp), 5);
    snprintf(log, sizeof log, "%s/log", dir);
    assert_non_null(f = fopen(log, "r"));
    while (fgets(line, sizeof line, f) != NULL)
        named |= strstr(line, "refusing to serve plaintext on a non-loopback") != NULL &&
                 strstr(line, "insecure_plaintext = 1") != NULL;
    fclose(f);
    assert_true(named);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);

    snprintf(dir, sizeof dir, "/tmp/hitlq-httpany-XXXXXX");
    assert_int_equal(start_http_any("insecure_plaintext = 1\n", dir, &pid, &hp), 256);
    assert_true(hp > 0);
    assert_int_equal(http_get(hp, "/healthz", NULL, NULL, NULL, 3000), 200);
    stop_any(pid, dir);

    snprintf(conf, sizeof conf, "tls_cert = \"%s/c/server.pem\"\ntls_key = \"%s/c/server.key\"\n",
             cert_dir, cert_dir);
    snprintf(dir, sizeof dir, "/tmp/hitlq-httpany-XXXXXX");
    hp = 0;
    assert_int_equal(start_http_any(conf, dir, &pid, &hp), 256);
    assert_true(hp > 0);
    snprintf(url, sizeof url, "https://127.0.0.1:%u/healthz", (unsigned)hp);
    assert_int_equal(curl_code(url, true), 200);
    assert_int_equal(http_get(hp, "/healthz", NULL, NULL, NULL, 3000), 0);
    stop_any(pid, dir);
}

static int
http_teardown(void **st)
{
    char cmd[128];

    if (cert_dir[0] && !getenv("HITLQ_KEEP_DIRS")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", cert_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", cert_dir);
    }
    return afx_teardown(st);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_auth),
        cmocka_unit_test(test_viewer_protocol),
        cmocka_unit_test(test_http_limits),
        cmocka_unit_test(test_http_tls),
        cmocka_unit_test(test_http_nonloopback_plaintext),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name("http", tests, http_setup, http_teardown);
}
