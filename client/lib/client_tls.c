/*
 * tls.c - libhitlq's TLS client, on when hitlq_options.tls_ca is set:
 * TLS 1.2 or later, the server certificate verified against tls_ca and
 * the expected name (tls_server_name, else the host), an optional client
 * certificate (mutual TLS), the handshake under the connect deadline, and
 * one-step record reads and writes for net.c's poll loops.  Records go out
 * through send(MSG_NOSIGNAL), so a closed peer never raises SIGPIPE in the
 * application.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "client_int.h"

/* ---- a socket BIO that cannot raise SIGPIPE --------------------------- */

static BIO_METHOD    *tls_bio_meth;          /* made once, never freed */
static pthread_once_t tls_bio_once = PTHREAD_ONCE_INIT;

static int
tls_bio_write(BIO *b, const char *buf, int len)
{
    int fd = (int)BIO_get_fd(b, NULL);
    ssize_t n;

    BIO_clear_retry_flags(b);
    do
        n = send(fd, buf, (size_t)len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_write(b);
    return (int)n;
}

static int
tls_bio_read(BIO *b, char *buf, int len)
{
    int fd = (int)BIO_get_fd(b, NULL);
    ssize_t n;

    BIO_clear_retry_flags(b);
    do
        n = recv(fd, buf, (size_t)len, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_read(b);
    return (int)n;
}

static int
tls_bio_puts(BIO *b, const char *s)
{
    return tls_bio_write(b, s, (int)strlen(s));
}

/* OpenSSL's socket BIO with our read and write (its fd handling kept). */
static void
tls_bio_init(void)
{
    const BIO_METHOD *sock = BIO_s_socket();
    int idx = BIO_get_new_index();
    BIO_METHOD *m;

    if (idx == -1)
        return;
    m = BIO_meth_new(idx | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "hitlq socket");
    if (m == NULL)
        return;
    BIO_meth_set_write(m, tls_bio_write);
    BIO_meth_set_read(m, tls_bio_read);
    BIO_meth_set_puts(m, tls_bio_puts);
    BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(sock));
    BIO_meth_set_create(m, BIO_meth_get_create(sock));
    BIO_meth_set_destroy(m, BIO_meth_get_destroy(sock));
    BIO_meth_set_callback_ctrl(m, BIO_meth_get_callback_ctrl(sock));
    tls_bio_meth = m;
}

/* ---- set-up --------------------------------------------------------------- */

/* Records "what file: OpenSSL's reason" as HITLQ_EIO. */
static int
tls_file_err(hitlq *c, const char *what, const char *file)
{
    char detail[256];

    ERR_error_string_n(ERR_get_error(), detail, sizeof(detail));
    ERR_clear_error();
    return hitlq__set_err(c, HITLQ_EIO, "TLS: %s %s: %s", what, file, detail);
}

/* The context: TLS 1.2+, verify the server against tls_ca, optional
 * client certificate. */
static int
tls_ctx_setup(hitlq *c, const hitlq_options *opt)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    const char *key = opt->tls_key ? opt->tls_key : opt->tls_cert;

    if (ctx == NULL)
        return hitlq__set_err(c, HITLQ_ENOMEM, "TLS: cannot create a context");
    c->ssl_ctx = ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                          SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_load_verify_locations(ctx, opt->tls_ca, NULL) != 1)
        return tls_file_err(c, "tls_ca", opt->tls_ca);
    if (opt->tls_cert == NULL)
        return HITLQ_OK;
    if (SSL_CTX_use_certificate_chain_file(ctx, opt->tls_cert) != 1)
        return tls_file_err(c, "tls_cert", opt->tls_cert);
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        return tls_file_err(c, "tls_key", key);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return tls_file_err(c, "tls_key does not match tls_cert:", key);
    return HITLQ_OK;
}

/* The session on c->fd, expecting the server to be `name` (an IP address
 * is matched against IP subjectAltNames, anything else as a DNS name,
 * which is also sent as SNI). */
static int
tls_session_setup(hitlq *c, const char *name)
{
    BIO *bio;

    pthread_once(&tls_bio_once, tls_bio_init);
    if (tls_bio_meth == NULL || (c->ssl = SSL_new(c->ssl_ctx)) == NULL ||
        (bio = BIO_new(tls_bio_meth)) == NULL)
        return hitlq__set_err(c, HITLQ_ENOMEM, "TLS: cannot create a session");
    BIO_set_fd(bio, c->fd, BIO_NOCLOSE);
    SSL_set_bio(c->ssl, bio, bio);                     /* the session owns bio */
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name) != 1 &&
        (SSL_set1_host(c->ssl, name) != 1 || SSL_set_tlsext_host_name(c->ssl, name) != 1))
        return hitlq__set_err(c, HITLQ_EINVAL, "TLS: bad server name \"%s\"", name);
    ERR_clear_error();
    SSL_set_connect_state(c->ssl);
    return HITLQ_OK;
}

/* Why an SSL call failed: certificate check, OpenSSL's reason, errno, or
 * a close.  Returns the code recorded (HITLQ_EIO or HITLQ_EOF). */
static int
tls_io_err(hitlq *c, int ret, int e, const char *what)
{
    long v = SSL_get_verify_result(c->ssl);
    char detail[256];

    if (v != X509_V_OK)
        return hitlq__set_err(c, HITLQ_EIO, "TLS %s: server certificate not accepted: %s",
                              what, X509_verify_cert_error_string(v));
    if (ERR_peek_error() != 0) {
        ERR_error_string_n(ERR_get_error(), detail, sizeof(detail));
        ERR_clear_error();
        return hitlq__set_err(c, HITLQ_EIO, "TLS %s: %s", what, detail);
    }
    if (e == SSL_ERROR_SYSCALL && ret < 0 && errno != 0)
        return hitlq__set_err(c, HITLQ_EIO, "TLS %s: %s", what, strerror(errno));
    return hitlq__set_err(c, HITLQ_EOF, "server closed the connection%s",
                          strcmp(what, "handshake") == 0 ? " during the TLS handshake" : "");
}

static int
tls_handshake(hitlq *c, int64_t deadline)
{
    int rc, e;

    for (;;) {
        ERR_clear_error();
        errno = 0;
        rc = SSL_connect(c->ssl);
        if (rc == 1)
            return HITLQ_OK;
        e = SSL_get_error(c->ssl, rc);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            tls_io_err(c, rc, e, "handshake");
            return c->err == HITLQ_EOF ? hitlq__set_err(c, HITLQ_EIO, "%s", c->errstr)
                                       : c->err;
        }
        rc = hitlq__net_wait(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
        if (rc == 0)
            return hitlq__set_err(c, HITLQ_ETIMEOUT, "timed out in the TLS handshake");
        if (rc < 0)
            return hitlq__set_err(c, HITLQ_EIO, "poll: %s", strerror(errno));
    }
}

int
hitlq__tls_start(hitlq *c, const hitlq_options *opt, const char *host, int64_t deadline)
{
    const char *name = opt->tls_server_name ? opt->tls_server_name : host;
    int rc;

    ERR_clear_error();
    if ((rc = tls_ctx_setup(c, opt)) != HITLQ_OK ||
        (rc = tls_session_setup(c, name)) != HITLQ_OK)
        return rc;
    return tls_handshake(c, deadline);
}

/* ---- records ---------------------------------------------------------------- */

/* The outcome of one SSL_read/SSL_write that returned n. */
static ssize_t
tls_step(hitlq *c, int n, short *ev, const char *what)
{
    int e;

    if (n > 0)
        return n;
    e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        *ev = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return 0;
    }
    if (e == SSL_ERROR_ZERO_RETURN)
        hitlq__set_err(c, HITLQ_EOF, "server closed the connection");
    else
        tls_io_err(c, n, e, what);
    return -1;
}

ssize_t
hitlq__tls_write(hitlq *c, const void *buf, size_t len, short *ev)
{
    ERR_clear_error();
    errno = 0;
    return tls_step(c, SSL_write(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len), ev,
                    "write");
}

ssize_t
hitlq__tls_read(hitlq *c, void *buf, size_t len, short *ev)
{
    ERR_clear_error();
    errno = 0;
    return tls_step(c, SSL_read(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len), ev,
                    "read");
}

void
hitlq__tls_free(hitlq *c)
{
    if (c->ssl != NULL) {
        if (!c->dead)
            (void)SSL_shutdown(c->ssl);   /* close_notify if it fits; no wait */
        SSL_free(c->ssl);
    }
    SSL_CTX_free(c->ssl_ctx);
    ERR_clear_error();
    c->ssl = NULL;
    c->ssl_ctx = NULL;
}
