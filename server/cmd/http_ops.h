/*
 * http_ops.h - the daemon's HTTP routes on its listener (server/http/http.h):
 * /metrics (Prometheus text format, scrape-time gauges from a read
 * transaction), /healthz and /readyz.  Other route files register theirs
 * the same way (http_route).
 */
#ifndef HITLQ_HTTP_OPS_H
#define HITLQ_HTTP_OPS_H

#include <stddef.h>

struct hitlq_server;

/* Readiness: a write must have committed within this (else a probe write
 * is asked of the commit thread), storage below this share of the map. */
#define HTTP_OPS_COMMIT_FRESH_MS 5000u
#define HTTP_OPS_STORAGE_FULL    0.95
/* The audit signer is judged stuck when entries wait unsigned and no
 * checkpoint was signed for this many audit_checkpoint_ms (at least
 * HTTP_OPS_SIGNER_MIN_MS). */
#define HTTP_OPS_SIGNER_PERIODS  3u
#define HTTP_OPS_SIGNER_MIN_MS   10000u

/* Registers the routes and the scrape callback.  A no-op when the server
 * has no HTTP listener (the metrics are still kept).  0 or -1 with err. */
int http_ops_register(struct hitlq_server *srv, char *err, size_t errlen);

#endif
