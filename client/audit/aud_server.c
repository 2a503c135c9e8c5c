/*
 * aud_server.c - hitlq-audit's link to a hitlqd: parsing --server
 * HOST:PORT (IPv6 as [addr]:port) and connecting through libhitlq.  The
 * server is never trusted: everything it returns is verified against the
 * keys given on the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aud.h"
#include "hitlq.h"

enum aud_class
aud_server_parse(const char *s, struct aud_server *srv, struct aud_result *r)
{
    const char *colon = s ? strrchr(s, ':') : NULL;
    size_t hl;
    char *end;
    unsigned long port;

    if (colon == NULL || colon == s)
        return aud_fail(r, AUD_USAGE, "--server wants HOST:PORT, not \"%s\"",
                        s ? s : "");
    hl = (size_t)(colon - s);
    if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') {
        s++;
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof(srv->host))
        return aud_fail(r, AUD_USAGE, "bad host in --server");
    port = strtoul(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || port == 0 ||
        port > 65535)
        return aud_fail(r, AUD_USAGE, "bad port in --server \"%s\"", colon + 1);
    memcpy(srv->host, s, hl);
    srv->host[hl] = '\0';
    srv->port = (uint16_t)port;
    return AUD_OK;
}

/* $HITLQ_KEY_FILE's Ed25519 secret key into buf, or NULL when unset or
 * unreadable. */
static const char *
aud_server_key(char *buf, size_t cap)
{
    const char *path = getenv("HITLQ_KEY_FILE");
    FILE *f = path != NULL && *path != '\0' ? fopen(path, "re") : NULL;
    size_t n = f != NULL ? fread(buf, 1, cap - 1, f) : 0;

    if (f != NULL)
        fclose(f);
    buf[n] = '\0';
    return n > 0 ? buf : NULL;
}

enum aud_class
aud_server_connect(const struct aud_server *srv, hitlq **out, struct aud_result *r)
{
    /* an auditor's credentials and TLS trust come from the environment
     * (HITLQ_API_KEY or HITLQ_KEY_FILE with HITLQ_ROLE, default auditor;
     * HITLQ_TLS_CA), as for the hitlq CLI */
    char sk[HITLQ_ED25519_KEY_LEN + 8];
    const char *role = getenv("HITLQ_ROLE");
    hitlq_options o = { .host = srv->host, .port = srv->port,
                        .name = srv->name ? srv->name : "hitlq-audit",
                        .timeout_ms = 60000, .api_key = getenv("HITLQ_API_KEY"),
                        .tls_ca = getenv("HITLQ_TLS_CA") };
    hitlq *c;

    if ((o.ed25519_key = aud_server_key(sk, sizeof(sk))) != NULL) {
        o.api_key = NULL;
        o.role = role != NULL && *role != '\0' ? role : "auditor";
    }
    c = hitlq_connect(&o);
    explicit_bzero(sk, sizeof(sk));
    *out = NULL;
    if (c == NULL)
        return aud_fail(r, AUD_IO, "out of memory");
    if (hitlq_err(c) != HITLQ_OK) {
        aud_fail(r, AUD_IO, "cannot connect to %s:%u: %s", srv->host, srv->port,
                 hitlq_errstr(c));
        hitlq_free(c);
        return AUD_IO;
    }
    *out = c;
    return AUD_OK;
}

enum aud_class
aud_server_error(hitlq *c, const char *what, int rc, struct aud_result *r)
{
    return aud_fail(r, AUD_IO, "%s: %s (%s)", what, hitlq_strerror(rc),
                    hitlq_errstr(c));
}
