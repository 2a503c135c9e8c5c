/*
 * http_get.h - a tiny blocking HTTP/1.1 client for the tests of hitlqd's
 * HTTP listener (tests/e2e/test_http.c, test_metrics.c): the listener's
 * port from <portfile>.http, one GET per connection, and a sample's value
 * in a Prometheus text scrape.
 */
#ifndef HITLQ_HTTP_GET_H
#define HITLQ_HTTP_GET_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"

/* The HTTP port hitlqd wrote to s->portfile + ".http"; 0 when none. */
uint16_t http_port_of(const struct hserver *s);

/* GET path with "Authorization: Bearer <key>" unless key is NULL and any
 * extra header lines (each ending in \r\n; NULL for none).  Returns the
 * status code (0 on I/O error or timeout_ms) and the body, malloc'd and
 * NUL-terminated, in *body (NULL allowed: dropped). */
int http_get(uint16_t port, const char *path, const char *key, const char *extra,
             char **body, int timeout_ms);

/* The value of the sample line "<series> <value>" (series exactly as
 * written, labels included) in a text scrape; -1 when absent. */
double http_metric(const char *scrape, const char *series);

#endif
