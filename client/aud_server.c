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

enum aud_class
aud_server_connect(const struct aud_server *srv, hitlq **out, struct aud_result *r)
{
    /* an auditor's credentials and TLS trust come from the environment
     * (HITLQ_API_KEY, HITLQ_TLS_CA), as for the hitlq CLI */
    hitlq_options o = { .host = srv->host, .port = srv->port,
                        .name = srv->name ? srv->name : "hitlq-audit",
                        .timeout_ms = 60000, .api_key = getenv("HITLQ_API_KEY"),
                        .tls_ca = getenv("HITLQ_TLS_CA") };
    hitlq *c = hitlq_connect(&o);

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
