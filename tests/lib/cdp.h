/*
 * cdp.h - a minimal Chrome DevTools Protocol client for the browser tests
 * (tests/e2e/test_dashboard.c), with no dependency beyond jansson and
 * libsodium: Debian's chromium runs headless with --remote-debugging-pipe,
 * which speaks CDP as NUL-terminated JSON messages on the child's fds 3
 * (commands in) and 4 (replies and events out).  One page target, attached
 * in flat session mode; evaluate JavaScript in it, take a screenshot.
 */
#ifndef HITLQ_CDP_H
#define HITLQ_CDP_H

#include <stddef.h>

#include <jansson.h>

struct cdp;

/* Starts chromium (headless, fresh --user-data-dir, window w x h) and
 * opens url in a new page target.  NULL with a message in err when
 * chromium is missing or does not answer within timeout_ms. */
struct cdp *cdp_open(const char *url, int w, int h, int timeout_ms, char *err, size_t errlen);

/* Evaluates the JavaScript expression expr in the page (by value) and
 * returns its result (a new reference; JSON null for undefined), or NULL
 * when it threw, the protocol failed or timeout_ms passed. */
json_t *cdp_eval(struct cdp *c, const char *expr, int timeout_ms);

/* Evaluates expr every 100 ms until its result is a string equal to want
 * (or timeout_ms passes); returns 0 when it matched, -1 otherwise, with
 * the last string seen (or "") copied into last. */
int cdp_wait_text(struct cdp *c, const char *expr, const char *want, int timeout_ms,
                  char *last, size_t lastlen);

/* Saves a PNG screenshot of the page to path; 0 or -1. */
int cdp_screenshot(struct cdp *c, const char *path, int timeout_ms);

/* Closes the browser (Browser.close, then SIGKILL if it lingers), reaps
 * it and removes its profile directory.  NULL is fine. */
void cdp_close(struct cdp *c);

#endif
