/*
 * tls.h - hitlqd's TLS (docs/RELIABILITY.md §2.9): the listener's SSL_CTX built
 * from the tls_* options (TLS 1.3 by default, no renegotiation,
 * compression, session tickets or 0-RTT; client certificates required
 * when tls_client_ca is set), reloaded on SIGHUP by building a new context
 * and swapping it in, and two per-session helpers: the client
 * certificate's name and the RFC 5705 exporter for channel binding.
 */
#ifndef HITLQ_TLS_H
#define HITLQ_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct hitlq_config;

/* The exporter label for channel binding (docs/RELIABILITY.md §2.9). */
#define TLS_EXPORTER_LABEL "EXPORTER-hitlq-auth"

/* Builds a server context from cfg's tls_cert, tls_key, tls_client_ca and
 * tls_min_version; every file is read now, and the key must match the
 * certificate.  Returns the new context (the caller owns it:
 * SSL_CTX_free) or NULL with the reason in err. */
SSL_CTX *tls_ctx_new(const struct hitlq_config *cfg, char *err, size_t errlen);

/* Builds a new context from the same files and, if that works, puts it in
 * *ctx and drops our reference to the old one.  Connections already open
 * keep the context they were made with (each SSL holds a reference), so
 * only new connections see the new certificate.  On error *ctx is
 * unchanged: -1 with the reason in err. */
int tls_reload(SSL_CTX **ctx, const struct hitlq_config *cfg, char *err, size_t errlen);

/* The verified client certificate's subject CN, else its first DNS or
 * e-mail subjectAltName, into out (NUL-terminated).  "" when there is no
 * verified certificate or the name is not printable ASCII or does not fit:
 * a name that had to be altered must not match a principal. */
void tls_peer_name(SSL *ssl, char *out, size_t outlen);

/* 32 bytes of keying material exported with TLS_EXPORTER_LABEL and no
 * context (RFC 5705 / RFC 8446 §7.5).  0, or -1 before the handshake has
 * completed. */
int tls_exporter(SSL *ssl, uint8_t out[32]);

/* What a plaintext client on the TLS port reads before the close. */
#define TLS_PLAINTEXT_HINT "hitlqd: this port speaks TLS; connect with TLS " \
                           "(hitlq --tls-ca FILE, or the client's TLS options)\n"

/* True when OpenSSL error e says the peer's first bytes were not TLS (a
 * wrong record version, an HTTP request, an unknown protocol). */
bool tls_error_is_plaintext(unsigned long e);

/* Answers a plaintext client on the TLS port: drains what it sent (up to
 * 64 KiB, without blocking), writes TLS_PLAINTEXT_HINT on the raw socket
 * fd and shuts the sending side; the caller then closes as usual.  No
 * alert is possible: OpenSSL sends none to a peer that is not TLS. */
void tls_plaintext_hint(int fd);

/* The oldest queued OpenSSL error as text into buf (or "no detail"), and
 * clears this thread's error queue.  Returns buf. */
const char *tls_errstr(char *buf, size_t len);

#endif
