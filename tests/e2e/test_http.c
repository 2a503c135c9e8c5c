/*
 * test_http.c - hitlqd's HTTP listener (server/http/) with authentication
 * on (auth = 1, http_auth = 1): 401 without or with a bad bearer key, 403
 * for a role a route does not admit, the viewer role on HTTP and on the
 * protocol (STATS and LIST only), and the limits: a huge header, a long
 * URI and 1,000 connections against http_max_connections = 64 leave the
 * server serving.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_auth),
        cmocka_unit_test(test_viewer_protocol),
        cmocka_unit_test(test_http_limits),
    };

    return cmocka_run_group_tests_name("http", tests, http_setup, afx_teardown);
}
