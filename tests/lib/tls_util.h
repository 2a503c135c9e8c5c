/*
 * tls_util.h - a raw OpenSSL test client for hitlqd's TLS listener: a
 * blocking TCP connection to 127.0.0.1 with a TLS handshake the test
 * controls (protocol versions, client certificate), then whole frames
 * over it.  Used where libhitlq hides too much (versions, pipelining,
 * record boundaries, the exporter, hostile TLS).  Linked into every test
 * binary; no cmocka asserts inside: every call returns its failure.
 */
#ifndef HITLQ_TEST_TLS_UTIL_H
#define HITLQ_TEST_TLS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "harness.h"

/* One connection.  Large (the receive buffer holds a whole maximum frame):
 * callers use `static struct rtls` or the heap. */
struct rtls {
    int      fd;              /* -1 when closed */
    SSL_CTX *ctx;
    SSL     *ssl;
    size_t   len;             /* bytes in buf not yet returned as frames */
    uint8_t  buf[1u << 21];   /* decrypted, unparsed bytes */
};

/* Blocking TCP connect to 127.0.0.1:port with 5 s socket timeouts, then a
 * TLS handshake (TLS 1.2 min, max_ver 0 = any) verifying dir_ca/ca.pem and
 * the name "localhost"; optional client certificate dir_cert/client.pem +
 * client.key.  Returns true when the handshake completed on our side.
 * Always call rtls_close, whatever it returned. */
bool rtls_open(struct rtls *t, uint16_t port, const char *dir_ca, int max_ver,
               const char *dir_cert);
/* Frees the session and closes the socket; safe to call twice. */
void rtls_close(struct rtls *t);
/* Writes all n bytes; true on success. */
bool rtls_send(struct rtls *t, const void *p, size_t n);
/* Reads one frame: its status (*rid its request id when rid != NULL), or
 * -1 on EOF, error, timeout or a malformed frame. */
int  rtls_read(struct rtls *t, uint32_t *rid);
/* One frame with its body unpacked, filled exactly like hconn_read_frame
 * fills struct hframe (free with hframe_free): 1 ok, -1 failure. */
int  rtls_read_frame(struct rtls *t, struct hframe *f);
/* Sends a request frame and reads one reply: its status, or -1 (I/O error
 * or a reply with another request id). */
int  rtls_call(struct rtls *t, uint8_t op, uint32_t rid, const void *body, size_t len);
/* Sends a request and reads its reply into *reply (skipping frames with
 * opcode HITLQ_OP_RESULT; the request id is not checked, see
 * reply->request_id); returns the reply status or -1 (then *reply holds
 * nothing to free). */
int  rtls_call_frame(struct rtls *t, uint8_t op, uint32_t rid, const void *body, size_t len,
                     struct hframe *reply);
/* HELLO {version: 1, name: "raw-tls"} (request id 1), then PING (id 2):
 * 0 when both succeed, else the first non-zero status or -1. */
int  rtls_hello_ping(struct rtls *t);
/* RFC 5705/8446 exporter of this session, as the server computes it:
 * SSL_export_keying_material(ssl, out, 32, "EXPORTER-hitlq-auth", 19,
 * NULL, 0, 0).  True on success. */
bool rtls_exporter(struct rtls *t, uint8_t out[32]);

#endif
