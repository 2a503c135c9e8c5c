/*
 * dash_api.h - the live dashboard's JSON API (docs/HTTP-API.md): the
 * documents of GET /api/v1/overview (everything the page shows, in one
 * call) and GET /api/v1/specialists (per-specialist figures, admin and
 * auditor only), built on the loop thread from one read transaction:
 * STATS, the minute rollups (server/store/rollup.h), DRIFT_REVIEW's and
 * DRIFT_INPUTS's builders (cmd_review.h, cmd_drift.h), the audit log's
 * size.  The page itself is dash_page (the embedded
 * server/cmd/dashboard.html).
 */
#ifndef HITLQ_DASH_API_H
#define HITLQ_DASH_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct hitlq_server;

#define DASH_WINDOW_MIN_S     60u
#define DASH_WINDOW_MAX_S     86400u
#define DASH_WINDOW_DEFAULT_S 3600u

/* Parses the request's query string (NULL or "" = defaults) into the
 * window in seconds: `window=<seconds>` within [DASH_WINDOW_MIN_S,
 * DASH_WINDOW_MAX_S].  Returns 0, or -1 with a message in err (an unknown
 * key, a value out of range or not a number). */
int dash_query_window(const char *query, uint64_t *window_s, char *err, size_t errlen);

/* The overview document at now_ms over the last window_s seconds (the
 * hour and day figures are always the last 60 and 1440 minutes).
 * Returns a new reference, or NULL with *status set (HITLQ_ST_*). */
json_t *dash_overview(struct hitlq_server *srv, uint64_t now_ms, uint64_t window_s,
                      int *status);

/* The specialists document: per specialist over the window, decisions,
 * decisions per hour, mean review time, agreement with the model.
 * NULL with *status on error. */
json_t *dash_specialists(struct hitlq_server *srv, uint64_t now_ms, uint64_t window_s,
                         int *status);

/* The dashboard page (server/cmd/dashboard.html, embedded at build time
 * by scripts/embed-file.sh): its bytes and length. */
const char *dash_page(size_t *len);

/* Registers the page and the API on srv's HTTP listener (dash_routes.c;
 * a no-op without one).  0, or -1 with err. */
int dash_routes_register(struct hitlq_server *srv, char *err, size_t errlen);

#endif
