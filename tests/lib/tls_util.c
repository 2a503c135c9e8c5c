/*
 * tls_util.c - the raw OpenSSL test client declared in tls_util.h: TCP
 * connect, a blocking handshake with the test's choice of versions and
 * client certificate, frames read and written over the session.  Errors
 * are returned (and the set-up ones described on stderr), never asserted.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "frame.h"
#include "hitlq_proto.h"
#include "tls_util.h"

#define RTLS_EXPORTER_LABEL "EXPORTER-hitlq-auth"

/* Blocking connect to 127.0.0.1:port with 5 s send/receive timeouts;
 * the fd or -1. */
static int rtls_tcp_connect(uint16_t port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    struct timeval tv = { 5, 0 };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        perror("rtls: socket");
        return -1;
    }
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("rtls: connect");
        close(fd);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

/* Versions, trust anchor and (optionally) the client certificate. */
static bool rtls_ctx_setup(SSL_CTX *ctx, const char *dir_ca, int max_ver, const char *dir_cert)
{
    char p[PATH_MAX], k[PATH_MAX];

    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (max_ver != 0 && SSL_CTX_set_max_proto_version(ctx, max_ver) != 1)
        return false;
    snprintf(p, sizeof p, "%s/ca.pem", dir_ca);
    if (SSL_CTX_load_verify_locations(ctx, p, NULL) != 1) {
        fprintf(stderr, "rtls: cannot load CA %s\n", p);
        return false;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (dir_cert == NULL)
        return true;
    snprintf(p, sizeof p, "%s/client.pem", dir_cert);
    snprintf(k, sizeof k, "%s/client.key", dir_cert);
    if (SSL_CTX_use_certificate_chain_file(ctx, p) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, k, SSL_FILETYPE_PEM) != 1) {
        fprintf(stderr, "rtls: cannot load client certificate %s / %s\n", p, k);
        return false;
    }
    return true;
}

bool rtls_open(struct rtls *t, uint16_t port, const char *dir_ca, int max_ver,
               const char *dir_cert)
{
    memset(t, 0, offsetof(struct rtls, buf));
    t->fd = rtls_tcp_connect(port);
    if (t->fd < 0)
        return false;
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (t->ctx == NULL || !rtls_ctx_setup(t->ctx, dir_ca, max_ver, dir_cert))
        return false;
    t->ssl = SSL_new(t->ctx);
    if (t->ssl == NULL || SSL_set_fd(t->ssl, t->fd) != 1 ||
        SSL_set1_host(t->ssl, "localhost") != 1)
        return false;
    return SSL_connect(t->ssl) == 1;
}

void rtls_close(struct rtls *t)
{
    SSL_free(t->ssl);
    SSL_CTX_free(t->ctx);
    if (t->fd >= 0)
        close(t->fd);
    t->ssl = NULL;
    t->ctx = NULL;
    t->fd = -1;
    t->len = 0;
    ERR_clear_error();
}

bool rtls_send(struct rtls *t, const void *p, size_t n)
{
    if (t->ssl == NULL || n > INT_MAX)
        return false;
    return n == 0 || SSL_write(t->ssl, p, (int)n) == (int)n;
}

/* Reads until buf starts with a whole frame (into *fr, borrowed from
 * buf).  0, or -1 on EOF, error, a full buffer or a malformed frame. */
static int rtls_next_frame(struct rtls *t, struct frame *fr)
{
    for (;;) {
        int st = 0, n;
        enum frame_rc rc = t->len > 0 ? frame_parse(t->buf, t->len, HITLQ_MAX_FRAME, fr, &st)
                                      : FRAME_NEED_MORE;

        if (rc == FRAME_OK)
            return 0;
        if (rc == FRAME_ERROR || t->len == sizeof t->buf || t->ssl == NULL)
            return -1;
        n = SSL_read(t->ssl, t->buf + t->len, (int)(sizeof t->buf - t->len));
        if (n <= 0)
            return -1;
        t->len += (size_t)n;
    }
}

/* Drops the first frame (total bytes) from buf. */
static void rtls_consume(struct rtls *t, size_t total)
{
    memmove(t->buf, t->buf + total, t->len - total);
    t->len -= total;
}

int rtls_read(struct rtls *t, uint32_t *rid)
{
    struct frame fr;
    int status;

    if (rtls_next_frame(t, &fr) != 0)
        return -1;
    status = fr.hdr.status;
    if (rid)
        *rid = fr.hdr.request_id;
    rtls_consume(t, fr.total_len);
    return status;
}

int rtls_read_frame(struct rtls *t, struct hframe *f)
{
    struct frame fr;

    memset(f, 0, sizeof *f);
    if (rtls_next_frame(t, &fr) != 0 || hframe_fill(f, &fr) != 0)
        return -1;
    rtls_consume(t, fr.total_len);
    return 1;
}

/* Sends one request frame; true on success. */
static bool rtls_send_request(struct rtls *t, uint8_t op, uint32_t rid, const void *body,
                              size_t len)
{
    msgpack_sbuffer sb;
    bool ok;

    msgpack_sbuffer_init(&sb);
    hframe_append(&sb, op, rid, body, len);
    ok = rtls_send(t, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return ok;
}

int rtls_call(struct rtls *t, uint8_t op, uint32_t rid, const void *body, size_t len)
{
    uint32_t got = 0;
    int st;

    if (!rtls_send_request(t, op, rid, body, len))
        return -1;
    st = rtls_read(t, &got);
    return st >= 0 && got != rid ? -1 : st;
}

int rtls_call_frame(struct rtls *t, uint8_t op, uint32_t rid, const void *body, size_t len,
                    struct hframe *reply)
{
    memset(reply, 0, sizeof *reply);
    if (!rtls_send_request(t, op, rid, body, len))
        return -1;
    for (;;) {
        if (rtls_read_frame(t, reply) != 1)
            return -1;
        if (reply->opcode != HITLQ_OP_RESULT)
            return reply->status;
        hframe_free(reply);
    }
}

int rtls_hello_ping(struct rtls *t)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    int st;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    hpk_kv_u64(&pk, "version", 1);
    hpk_kv_str(&pk, "name", "raw-tls");
    st = rtls_call(t, HITLQ_OP_HELLO, 1, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return st != 0 ? st : rtls_call(t, HITLQ_OP_PING, 2, NULL, 0);
}

bool rtls_exporter(struct rtls *t, uint8_t out[32])
{
    static const char label[] = RTLS_EXPORTER_LABEL;

    if (t->ssl == NULL || !SSL_is_init_finished(t->ssl))
        return false;
    return SSL_export_keying_material(t->ssl, out, 32, label, sizeof label - 1, NULL, 0, 0) == 1;
}
