/*
 * dash_routes.c - the live dashboard on the HTTP listener (dash_api.h):
 * "/" and "/dashboard" serve the embedded page, "/api/v1/overview" and
 * "/api/v1/specialists" the JSON documents of dash_api.c (GET only, the
 * listener refuses the rest).  Roles: the page and the overview for every
 * role that watches the operation (viewer, auditor, admin); the
 * per-specialist figures only for auditor and admin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "dash_api.h"
#include "http.h"
#include "server.h"
#include "util.h"

#define ROLES_DASH  (HTTP_ROLE(AUTH_ROLE_VIEWER) | HTTP_ROLE(AUTH_ROLE_AUDITOR) | \
                     HTTP_ROLE(AUTH_ROLE_ADMIN))
#define ROLES_SPECS (HTTP_ROLE(AUTH_ROLE_AUDITOR) | HTTP_ROLE(AUTH_ROLE_ADMIN))

static void
dash_send_page(struct http_req *r, void *arg)
{
    size_t len;
    const char *p = dash_page(&len);

    (void)arg;
    http_req_header(r, "Cache-Control", "no-store");
    http_req_header(r, "Content-Security-Policy",
                    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                    "img-src data:; connect-src 'self'");
    http_reply(r, 200, "text/html; charset=utf-8", p, len);
}

/* Answers with doc (stolen) as JSON, or 500. */
static void
dash_send_json(struct http_req *r, json_t *doc)
{
    char *body = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;

    json_decref(doc);
    if (body == NULL) {
        http_reply_text(r, 500, "cannot build the document");
        return;
    }
    http_req_header(r, "Cache-Control", "no-store");
    http_reply(r, 200, "application/json", body, strlen(body));
    free(body);
}

/* The window of the request (its only parameter), or a 400 reply. */
static int
dash_window(struct http_req *r, uint64_t *window_s)
{
    const char *w = http_req_query(r, "window");
    char q[64], err[128];

    snprintf(q, sizeof q, "window=%.50s", w != NULL ? w : "");
    if (dash_query_window(w != NULL ? q : NULL, window_s, err, sizeof err) != 0) {
        http_reply_text(r, 400, err);
        return -1;
    }
    return 0;
}

static void
dash_send_overview(struct http_req *r, void *arg)
{
    uint64_t window_s;
    int st;

    if (dash_window(r, &window_s) == 0)
        dash_send_json(r, dash_overview(arg, util_now_ms(), window_s, &st));
}

static void
dash_send_specialists(struct http_req *r, void *arg)
{
    uint64_t window_s;
    int st;

    if (dash_window(r, &window_s) == 0)
        dash_send_json(r, dash_specialists(arg, util_now_ms(), window_s, &st));
}

int
dash_routes_register(struct hitlq_server *srv, char *err, size_t errlen)
{
    if (srv->http == NULL)
        return 0;
    if (http_route(srv->http, "/", ROLES_DASH, dash_send_page, srv) != 0 ||
        http_route(srv->http, "/dashboard", ROLES_DASH, dash_send_page, srv) != 0 ||
        http_route(srv->http, "/api/v1/overview", ROLES_DASH, dash_send_overview, srv) != 0 ||
        http_route(srv->http, "/api/v1/specialists", ROLES_SPECS, dash_send_specialists,
                   srv) != 0) {
        snprintf(err, errlen, "http: cannot register the dashboard's routes");
        return -1;
    }
    return 0;
}
