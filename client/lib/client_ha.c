/*
 * client_ha.c - libhitlq with a list of servers (hitlq_options.servers,
 * proto/PROTOCOL.md §9): parsing "host:port,..." (an IPv6 host in
 * brackets), the search for the leader (the last server that served or a
 * leader named by `not_leader` first, then the list in order, with
 * back-off, bounded by failover_ms), and which failures and requests
 * allow a reconnect and a second send.  Sessions are opened by client.c's
 * hitlq__open; the retry loop is in client.c's hitlq__call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_int.h"

#define HA_DEFAULT_FAILOVER_MS 30000
#define HA_BACKOFF_FIRST_MS    50
#define HA_BACKOFF_MAX_MS      1000
#define HA_MAX_HOPS            4      /* not_leader redirects in a row */

/* ---- parsing ----------------------------------------------------------------- */

static bool
host_char(char ch, bool v6)
{
    if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
        return true;
    return v6 ? ch == ':' || ch == '.' || ch == '%' : ch == '.' || ch == '-' || ch == '_';
}

/* The port of "digits" (n bytes): 1..65535, else 0. */
static uint16_t
port_parse(const char *s, size_t n)
{
    unsigned long v = 0;
    size_t i;

    if (n == 0 || n > 5)
        return 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    return v >= 1 && v <= 65535 ? (uint16_t)v : 0;
}

/* Splits s (len bytes, trimmed) into host and port text; NULL or a reason. */
static const char *
srv_split(const char *s, size_t len, const char **host, size_t *hlen, const char **port,
          size_t *plen)
{
    const char *colon;

    if (s[0] == '[') {
        const char *close = memchr(s, ']', len);

        if (close == NULL || close + 1 == s + len || close[1] != ':')
            return "an IPv6 host is written [address]:port";
        *host = s + 1;
        *hlen = (size_t)(close - s - 1);
        colon = close + 1;
    } else {
        colon = memrchr(s, ':', len);
        if (colon == NULL)
            return "missing :port";
        *host = s;
        *hlen = (size_t)(colon - s);
        if (memchr(s, ':', *hlen) != NULL)
            return "an IPv6 host must be in brackets: [address]:port";
    }
    *port = colon + 1;
    *plen = (size_t)(s + len - *port);
    return NULL;
}

int
hitlq__srv_parse(const char *s, size_t len, struct hitlq__srv *out, char *err, size_t errlen)
{
    const char *host, *port, *why;
    size_t hlen, plen, i;

    while (len > 0 && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0) {
        snprintf(err, errlen, "empty server entry");
        return -1;
    }
    why = srv_split(s, len, &host, &hlen, &port, &plen);
    if (why == NULL && (hlen == 0 || hlen > HITLQ_HOST_MAX))
        why = "host must be 1..253 characters";
    for (i = 0; why == NULL && i < hlen; i++)
        if (!host_char(host[i], s[0] == '['))
            why = "bad character in host";
    if (why == NULL && (out->port = port_parse(port, plen)) == 0)
        why = "port must be a number 1..65535";
    if (why != NULL) {
        snprintf(err, errlen, "server \"%.*s\": %s", (int)(len > 80 ? 80 : len), s, why);
        return -1;
    }
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    return 0;
}

/* Parses opt->servers into ha->list.  0, or -1 with the reason in err. */
static int
ha_parse_list(struct hitlq__ha *ha, const char *list, char *err, size_t errlen)
{
    size_t len = strnlen(list, HITLQ_MAX_SERVERS_LEN + 1);
    const char *p = list, *end = list + len, *comma;

    if (len > HITLQ_MAX_SERVERS_LEN) {
        snprintf(err, errlen, "servers: longer than %d bytes", HITLQ_MAX_SERVERS_LEN);
        return -1;
    }
    for (;;) {
        comma = memchr(p, ',', (size_t)(end - p));
        if (ha->n == HITLQ_MAX_SERVERS) {
            snprintf(err, errlen, "servers: more than %d servers", HITLQ_MAX_SERVERS);
            return -1;
        }
        if (hitlq__srv_parse(p, (size_t)((comma ? comma : end) - p), &ha->list[ha->n], err,
                             errlen) != 0)
            return -1;
        ha->n++;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

/* ---- the context's copy of the options --------------------------------------- */

/* *dst = a copy of src (NULL stays NULL); false when out of memory. */
static bool
ha_dup(const char **dst, const char *src)
{
    *dst = NULL;
    if (src == NULL)
        return true;
    return (*dst = strdup(src)) != NULL;
}

static bool
ha_copy_opts(hitlq_options *d, const hitlq_options *s)
{
    *d = (hitlq_options){ .timeout_ms = s->timeout_ms, .failover_ms = s->failover_ms };
    return ha_dup(&d->name, s->name) && ha_dup(&d->tls_ca, s->tls_ca) &&
           ha_dup(&d->tls_cert, s->tls_cert) && ha_dup(&d->tls_key, s->tls_key) &&
           ha_dup(&d->tls_server_name, s->tls_server_name) &&
           ha_dup(&d->api_key, s->api_key) && ha_dup(&d->ed25519_key, s->ed25519_key) &&
           ha_dup(&d->role, s->role);
}

/* Frees a copied string, wiping it first when it is a secret. */
static void
ha_free_str(const char *s, bool secret)
{
    if (s == NULL)
        return;
    if (secret)
        explicit_bzero((char *)s, strlen(s));
    free((char *)s);
}

void
hitlq__ha_free(hitlq *c)
{
    hitlq_options *o;

    if (c->ha == NULL)
        return;
    o = &c->ha->opt;
    ha_free_str(o->name, false);
    ha_free_str(o->tls_ca, false);
    ha_free_str(o->tls_cert, false);
    ha_free_str(o->tls_key, false);
    ha_free_str(o->tls_server_name, false);
    ha_free_str(o->api_key, true);
    ha_free_str(o->ed25519_key, true);
    ha_free_str(o->role, false);
    free(c->ha);
    c->ha = NULL;
}

int
hitlq__ha_init(hitlq *c, const hitlq_options *opt)
{
    char err[256];

    if (opt->failover_ms < 0)
        return hitlq__fail(c, HITLQ_EINVAL, "failover_ms %d < 0", opt->failover_ms);
    if ((c->ha = calloc(1, sizeof(*c->ha))) == NULL)
        return hitlq__fail(c, HITLQ_ENOMEM, "out of memory");
    if (ha_parse_list(c->ha, opt->servers, err, sizeof(err)) != 0) {
        hitlq__ha_free(c);
        return hitlq__fail(c, HITLQ_EINVAL, "%s", err);
    }
    if (!ha_copy_opts(&c->ha->opt, opt)) {
        hitlq__ha_free(c);
        return hitlq__fail(c, HITLQ_ENOMEM, "out of memory");
    }
    c->ha->failover_ms = opt->failover_ms > 0 ? opt->failover_ms : HA_DEFAULT_FAILOVER_MS;
    return HITLQ_OK;
}

/* ---- finding the leader -------------------------------------------------------- */

bool
hitlq__ha_reconnectable(int code)
{
    return code == HITLQ_EIO || code == HITLQ_EOF || code == HITLQ_ETIMEOUT ||
           code == HITLQ_EPROTO || code == HITLQ_ST_NOT_LEADER ||
           code == HITLQ_ST_SHUTTING_DOWN;
}

bool
hitlq__ha_op_retryable(uint8_t opcode)
{
    switch (opcode) {
    case HITLQ_OP_PING: case HITLQ_OP_SUBMIT: case HITLQ_OP_GET: case HITLQ_OP_GET_BY_KEY:
    case HITLQ_OP_LIST: case HITLQ_OP_STATS: case HITLQ_OP_AUDIT_CHECKPOINT:
    case HITLQ_OP_AUDIT_ENTRIES: case HITLQ_OP_AUDIT_PROVE: case HITLQ_OP_AUDIT_CONSISTENCY:
    case HITLQ_OP_DRIFT_INPUTS: case HITLQ_OP_DRIFT_REVIEW: case HITLQ_OP_KEY_LIST:
        return true;
    default:
        return false;
    }
}

void
hitlq__ha_hint(hitlq *c, const hitlq_reply *r)
{
    struct hitlq__srv s;
    char err[160];
    size_t len = 0;
    const char *a;

    if (c->ha == NULL || (a = hitlq_reply_get_str(r, "leader", &len)) == NULL)
        return;
    if (hitlq__srv_parse(a, len, &s, err, sizeof(err)) == 0)
        c->ha->hint = s;
}

static bool
srv_same(const struct hitlq__srv *a, const struct hitlq__srv *b)
{
    return a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* One connection attempt to srv, bounded by the call timeout and the
 * search's deadline. */
static int
ha_open(hitlq *c, const struct hitlq__srv *srv, int64_t deadline, int call_timeout)
{
    int64_t left = deadline - hitlq__now_ms();

    if (left < 1)
        left = 1;
    c->timeout_ms = call_timeout > 0 && call_timeout < left ? call_timeout : (int)left;
    hitlq__conn_reset(c);
    return hitlq__open(c, srv->host, srv->port, &c->ha->opt);
}

/* Tries srv, then the leaders that not_leader replies name (<= HA_MAX_HOPS). */
static int
ha_try(hitlq *c, const struct hitlq__srv *srv, int64_t deadline, int call_timeout)
{
    struct hitlq__ha *ha = c->ha;
    struct hitlq__srv cur = *srv;
    int hops, rc;

    for (hops = 0;; hops++) {
        ha->hint.port = 0;
        rc = ha_open(c, &cur, deadline, call_timeout);
        if (rc == HITLQ_OK) {
            ha->last = cur;
            return HITLQ_OK;
        }
        if (rc != HITLQ_ST_NOT_LEADER || ha->hint.port == 0 || hops == HA_MAX_HOPS ||
            srv_same(&ha->hint, &cur) || hitlq__now_ms() >= deadline)
            return rc;
        cur = ha->hint;
    }
}

/* One pass: `first` (when set), then the list in order.  The last
 * attempt's code (rc, the previous pass's, when none was made). */
static int
ha_pass(hitlq *c, const struct hitlq__srv *first, int64_t deadline, int call_timeout, int rc)
{
    struct hitlq__ha *ha = c->ha;
    size_t i;

    if (first->port != 0 && (rc = ha_try(c, first, deadline, call_timeout)) == HITLQ_OK)
        return HITLQ_OK;
    for (i = 0; i < ha->n && hitlq__ha_reconnectable(rc) && hitlq__now_ms() < deadline; i++) {
        if (first->port != 0 && srv_same(&ha->list[i], first))
            continue;
        if ((rc = ha_try(c, &ha->list[i], deadline, call_timeout)) == HITLQ_OK)
            return HITLQ_OK;
    }
    return rc;
}

static void
ha_sleep(int64_t ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

    if (ms > 0)
        nanosleep(&ts, NULL);
}

/* Passes with back-off until a leader serves or the deadline passes. */
static int
ha_search(hitlq *c, int64_t deadline, int call_timeout)
{
    struct hitlq__ha *ha = c->ha;
    int64_t backoff = HA_BACKOFF_FIRST_MS, left;
    struct hitlq__srv first;
    int rc = HITLQ_ETIMEOUT;

    for (;;) {
        first = ha->hint.port != 0 ? ha->hint : ha->last;
        rc = ha_pass(c, &first, deadline, call_timeout, rc);
        left = deadline - hitlq__now_ms();
        if (rc == HITLQ_OK || !hitlq__ha_reconnectable(rc) || left <= 0)
            return rc;
        ha_sleep(backoff < left ? backoff : left);
        backoff = backoff * 2 < HA_BACKOFF_MAX_MS ? backoff * 2 : HA_BACKOFF_MAX_MS;
    }
}

int
hitlq__ha_connect(hitlq *c)
{
    struct hitlq__ha *ha = c->ha;
    int call_timeout = c->timeout_ms;
    char last[sizeof(c->errstr)];
    int rc;

    ha->connecting = true;
    rc = ha_search(c, hitlq__now_ms() + ha->failover_ms, call_timeout);
    c->timeout_ms = call_timeout;
    ha->connecting = false;
    if (rc != HITLQ_OK && hitlq__ha_reconnectable(rc)) {
        snprintf(last, sizeof(last), "%s", c->errstr);
        hitlq__fail(c, rc, "no leader among %zu servers within %d ms (last, %s: %s)", ha->n,
                    ha->failover_ms, c->addr, last);
    }
    return rc;
}
