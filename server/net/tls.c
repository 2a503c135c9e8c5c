/*
 * tls.c - the listener's TLS context (settings from docs/RELIABILITY.md §2.9),
 * its reload on SIGHUP, per-session helpers (peer name, exporter), and the
 * one-line hint for a client that speaks plaintext to the TLS port.
 * Loop thread only: contexts are built and swapped where connections are
 * accepted, so no locking.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "log.h"
#include "tls.h"

/* Mozilla "Modern" for TLS 1.3; for TLS 1.2 ("Intermediate") only ECDHE
 * key exchange with AEAD ciphers. */
#define TLS13_SUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
                     "TLS_CHACHA20_POLY1305_SHA256"
#define TLS12_CIPHERS "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
                      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
                      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

const char *
tls_errstr(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();

    if (e == 0)
        snprintf(buf, len, "no detail");
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

/* Formats "what file: openssl reason" into err; returns -1. */
static int
tls_fail(char *err, size_t errlen, const char *what, const char *file)
{
    char detail[256];

    tls_errstr(detail, sizeof(detail));
    snprintf(err, errlen, "%s %s: %s", what, file, detail);
    return -1;
}

/* Protocol floor, suites and the options that stay off. */
static int
tls_ctx_settings(SSL_CTX *ctx, const struct hitlq_config *cfg, char *err, size_t errlen)
{
    int min;

    if (strcmp(cfg->tls_min_version, "1.3") == 0) {
        min = TLS1_3_VERSION;
    } else if (strcmp(cfg->tls_min_version, "1.2") == 0) {
        min = TLS1_2_VERSION;
    } else {
        snprintf(err, errlen, "tls_min_version: \"%s\" is not 1.2 or 1.3",
                 cfg->tls_min_version);
        return -1;
    }
    if (SSL_CTX_set_min_proto_version(ctx, min) != 1 ||
        SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) != 1 ||
        SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
        snprintf(err, errlen, "TLS settings rejected by OpenSSL");
        return -1;
    }
    /* No resumption at all: a resumed session would inherit the client
     * certificate's identity without presenting it again. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                             SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_max_early_data(ctx, 0);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"hitlqd", 6);
    /* Idle connections give their record buffers back (1000 idle clients
     * would otherwise pin ~34 KiB each). */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    return 0;
}

/* Certificate chain, key (checked against the certificate), client CA. */
static int
tls_ctx_files(SSL_CTX *ctx, const struct hitlq_config *cfg, char *err, size_t errlen)
{
    const char *key = cfg->tls_key[0] ? cfg->tls_key : cfg->tls_cert;
    STACK_OF(X509_NAME) *names;

    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1)
        return tls_fail(err, errlen, "tls_cert", cfg->tls_cert);
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        return tls_fail(err, errlen, "tls_key", key);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return tls_fail(err, errlen, "tls_key does not match tls_cert:", key);
    if (cfg->tls_client_ca[0] == '\0')
        return 0;
    if (SSL_CTX_load_verify_locations(ctx, cfg->tls_client_ca, NULL) != 1)
        return tls_fail(err, errlen, "tls_client_ca", cfg->tls_client_ca);
    names = SSL_load_client_CA_file(cfg->tls_client_ca);
    if (names == NULL)
        return tls_fail(err, errlen, "tls_client_ca (no CA names in)", cfg->tls_client_ca);
    SSL_CTX_set_client_CA_list(ctx, names);                /* takes names */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_verify_depth(ctx, 4);
    return 0;
}

SSL_CTX *
tls_ctx_new(const struct hitlq_config *cfg, char *err, size_t errlen)
{
    SSL_CTX *ctx;

    if (cfg->tls_cert[0] == '\0') {
        snprintf(err, errlen, "tls_cert is not set");
        return NULL;
    }
    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        tls_fail(err, errlen, "SSL_CTX_new", "");
        return NULL;
    }
    if (tls_ctx_settings(ctx, cfg, err, errlen) != 0 ||
        tls_ctx_files(ctx, cfg, err, errlen) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int
tls_reload(SSL_CTX **ctx, const struct hitlq_config *cfg, char *err, size_t errlen)
{
    SSL_CTX *fresh = tls_ctx_new(cfg, err, errlen);

    if (fresh == NULL)
        return -1;
    SSL_CTX_free(*ctx);               /* open sessions keep their own ref */
    *ctx = fresh;
    return 0;
}

/* Copies an ASN.1 string when it is all printable ASCII and fits. */
static void
tls_copy_name(const ASN1_STRING *s, char *out, size_t outlen)
{
    const unsigned char *p = ASN1_STRING_get0_data(s);
    int n = ASN1_STRING_length(s);

    out[0] = '\0';
    if (p == NULL || n <= 0 || (size_t)n >= outlen)
        return;
    for (int i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return;
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
}

/* First DNS or e-mail subjectAltName. */
static void
tls_san_name(X509 *x, char *out, size_t outlen)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

    for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);

        if (g->type == GEN_DNS || g->type == GEN_EMAIL) {
            tls_copy_name(g->d.ia5, out, outlen);
            break;
        }
    }
    GENERAL_NAMES_free(names);
}

void
tls_peer_name(SSL *ssl, char *out, size_t outlen)
{
    X509 *x;
    X509_NAME *subj;
    int i;

    if (outlen == 0)
        return;
    out[0] = '\0';
    if (ssl == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
        return;
    x = SSL_get1_peer_certificate(ssl);
    if (x == NULL)
        return;
    subj = X509_get_subject_name(x);
    i = subj ? X509_NAME_get_index_by_NID(subj, NID_commonName, -1) : -1;
    if (i >= 0)
        tls_copy_name(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)), out, outlen);
    else
        tls_san_name(x, out, outlen);
    X509_free(x);
}

int
tls_exporter(SSL *ssl, uint8_t out[32])
{
    static const char label[] = TLS_EXPORTER_LABEL;

    if (ssl == NULL || !SSL_is_init_finished(ssl))
        return -1;
    return SSL_export_keying_material(ssl, out, 32, label, sizeof(label) - 1,
                                      NULL, 0, 0) == 1 ? 0 : -1;
}

bool
tls_error_is_plaintext(unsigned long e)
{
    int r = ERR_GET_REASON(e);

    return ERR_GET_LIB(e) == ERR_LIB_SSL &&
           (r == SSL_R_WRONG_VERSION_NUMBER || r == SSL_R_HTTP_REQUEST ||
            r == SSL_R_HTTPS_PROXY_REQUEST || r == SSL_R_UNKNOWN_PROTOCOL);
}

void
tls_plaintext_hint(int fd)
{
    static const char hint[] = TLS_PLAINTEXT_HINT;
    char sink[4096];
    ssize_t r;
    int budget = 16;                  /* at most 64 KiB drained */

    /* what the client sent and OpenSSL left unread: drained first, so
     * that the close is a FIN after the hint rather than a reset */
    do {
        r = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
    } while ((r > 0 || (r < 0 && errno == EINTR)) && --budget > 0);
    (void)send(fd, hint, sizeof(hint) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)shutdown(fd, SHUT_WR);
}
