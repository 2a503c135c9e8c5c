/*
 * cdp.c - a minimal Chrome DevTools Protocol client over
 * --remote-debugging-pipe (cdp.h): spawns headless chromium with its fds 3
 * and 4 on two pipes, sends commands as NUL-terminated JSON (jansson),
 * reads replies (skipping events) with a deadline, and decodes the
 * screenshot's base64 with libsodium.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cdp.h"

#define CDP_MSG_MAX  (64u << 20)     /* a screenshot fits; anything larger is refused */
#define CDP_FLAGS    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", \
                     "--disable-background-networking", "--disable-component-update", \
                     "--disable-sync", "--remote-debugging-pipe"

struct cdp {
    pid_t  pid;
    int    wfd, rfd;                 /* to fd 3, from fd 4 of the child */
    int    next_id;
    char  *buf;                      /* bytes read, not yet a whole message */
    size_t len, cap;
    char   session[128];
    char   dir[64];                  /* the profile directory */
    int    dir_made;
};

static int64_t
cdp_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: fds 3 and 4 on the pipes, stdio on /dev/null, exec. */
static void
cdp_child(int in, int out, const char *dir, int w, int h)
{
    char udd[128], size[64];
    int a = fcntl(in, F_DUPFD, 10), b = fcntl(out, F_DUPFD, 10);
    int null = open("/dev/null", O_RDWR);

    if (a < 0 || b < 0 || null < 0 || dup2(a, 3) != 3 || dup2(b, 4) != 4)
        _exit(126);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    snprintf(udd, sizeof udd, "--user-data-dir=%s", dir);
    snprintf(size, sizeof size, "--window-size=%d,%d", w, h);
    execlp("chromium", "chromium", CDP_FLAGS, udd, size, "about:blank", (char *)NULL);
    _exit(127);
}

static int
cdp_spawn(struct cdp *c, int w, int h)
{
    int in[2], out[2];

    if (pipe2(in, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    c->pid = fork();
    if (c->pid == 0)
        cdp_child(in[0], out[1], c->dir, w, h);
    close(in[0]);
    close(out[1]);
    c->wfd = in[1];
    c->rfd = out[0];
    return c->pid > 0 ? 0 : -1;
}

/* The next whole message (a new reference), or NULL at the deadline, at
 * EOF or on a message that is not JSON. */
static json_t *
cdp_read(struct cdp *c, int64_t deadline)
{
    for (;;) {
        char *z = c->len > 0 ? memchr(c->buf, 0, c->len) : NULL;

        if (z != NULL) {
            size_t n = (size_t)(z - c->buf);
            json_t *j = json_loadb(c->buf, n, 0, NULL);

            memmove(c->buf, z + 1, c->len - n - 1);
            c->len -= n + 1;
            return j;
        }
        if (c->len == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 1 << 16;
            char *nb = cap <= CDP_MSG_MAX ? realloc(c->buf, cap) : NULL;

            if (nb == NULL)
                return NULL;
            c->buf = nb;
            c->cap = cap;
        }
        struct pollfd p = { c->rfd, POLLIN, 0 };
        int64_t left = deadline - cdp_now_ms();

        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return NULL;
        ssize_t r = read(c->rfd, c->buf + c->len, c->cap - c->len);

        if (r <= 0 && !(r < 0 && errno == EINTR))
            return NULL;
        c->len += r > 0 ? (size_t)r : 0;
    }
}

static int
cdp_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Sends method(params: stolen; NULL = {}) to the browser (in_page false)
 * or the page's session; returns the reply's result (new reference) or
 * NULL on an error reply, I/O failure or timeout. */
static json_t *
cdp_call(struct cdp *c, const char *method, json_t *params, int in_page, int timeout_ms)
{
    int id = ++c->next_id;
    int64_t deadline = cdp_now_ms() + timeout_ms;
    json_t *m = json_pack("{s:i,s:s,s:o}", "id", id, "method", method,
                          "params", params != NULL ? params : json_object());
    char *txt;
    int rc;

    if (m == NULL)
        return NULL;
    if (in_page)
        json_object_set_new(m, "sessionId", json_string(c->session));
    txt = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    if (txt == NULL)
        return NULL;
    rc = cdp_write_all(c->wfd, txt, strlen(txt) + 1);      /* with its NUL */
    free(txt);
    while (rc == 0) {
        json_t *r = cdp_read(c, deadline), *res;

        if (r == NULL)
            return NULL;
        if (json_integer_value(json_object_get(r, "id")) == id) {
            res = json_incref(json_object_get(r, "result"));
            json_decref(r);
            return res;
        }
        json_decref(r);                                     /* an event */
    }
    return NULL;
}

/* Creates the page target on url and attaches to it (flat session). */
static int
cdp_attach(struct cdp *c, const char *url, int w, int h, int timeout_ms)
{
    json_t *t = cdp_call(c, "Target.createTarget", json_pack("{s:s}", "url", url), 0,
                         timeout_ms);
    json_t *s = NULL;
    const char *id = json_string_value(json_object_get(t, "targetId"));
    const char *sid;

    if (id != NULL)
        s = cdp_call(c, "Target.attachToTarget", json_pack("{s:s,s:b}", "targetId", id,
                                                           "flatten", 1), 0, timeout_ms);
    json_decref(t);
    sid = json_string_value(json_object_get(s, "sessionId"));
    if (sid == NULL || strlen(sid) >= sizeof c->session) {
        json_decref(s);
        return -1;
    }
    snprintf(c->session, sizeof c->session, "%s", sid);
    json_decref(s);
    json_decref(cdp_call(c, "Emulation.setDeviceMetricsOverride",
                         json_pack("{s:i,s:i,s:i,s:b}", "width", w, "height", h,
                                   "deviceScaleFactor", 1, "mobile", 0), 1, timeout_ms));
    return 0;
}

struct cdp *
cdp_open(const char *url, int w, int h, int timeout_ms, char *err, size_t errlen)
{
    struct cdp *c = calloc(1, sizeof *c);

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    signal(SIGPIPE, SIG_IGN);
    c->wfd = c->rfd = -1;
    snprintf(c->dir, sizeof c->dir, "/tmp/hitlq-cdp-XXXXXX");
    c->dir_made = mkdtemp(c->dir) != NULL;
    if (!c->dir_made || cdp_spawn(c, w, h) != 0) {
        snprintf(err, errlen, "cannot start chromium: %s", strerror(errno));
        cdp_close(c);
        return NULL;
    }
    if (cdp_attach(c, url, w, h, timeout_ms) != 0) {
        snprintf(err, errlen, "chromium did not open %s over --remote-debugging-pipe "
                 "(is Debian's chromium installed? scripts/setup.sh)", url);
        cdp_close(c);
        return NULL;
    }
    return c;
}

json_t *
cdp_eval(struct cdp *c, const char *expr, int timeout_ms)
{
    json_t *r = cdp_call(c, "Runtime.evaluate",
                         json_pack("{s:s,s:b,s:b}", "expression", expr, "returnByValue", 1,
                                   "awaitPromise", 1), 1, timeout_ms);
    json_t *v;

    if (r == NULL || json_object_get(r, "exceptionDetails") != NULL) {
        json_decref(r);
        return NULL;
    }
    v = json_object_get(json_object_get(r, "result"), "value");
    v = v != NULL ? json_incref(v) : json_null();
    json_decref(r);
    return v;
}

int
cdp_wait_text(struct cdp *c, const char *expr, const char *want, int timeout_ms,
              char *last, size_t lastlen)
{
    int64_t deadline = cdp_now_ms() + timeout_ms;

    snprintf(last, lastlen, "%s", "");
    for (;;) {
        json_t *v = cdp_eval(c, expr, 2000);
        const char *s = json_string_value(v);
        int match = s != NULL && strcmp(s, want) == 0;

        if (s != NULL)
            snprintf(last, lastlen, "%s", s);
        json_decref(v);
        if (match)
            return 0;
        if (cdp_now_ms() >= deadline)
            return -1;
        usleep(100 * 1000);
    }
}

int
cdp_screenshot(struct cdp *c, const char *path, int timeout_ms)
{
    json_t *r = cdp_call(c, "Page.captureScreenshot", json_pack("{s:s}", "format", "png"), 1,
                         timeout_ms);
    const char *b64 = json_string_value(json_object_get(r, "data"));
    size_t n = b64 != NULL ? strlen(b64) : 0, bin_len = 0;
    unsigned char *bin = n > 0 ? malloc(n / 4 * 3 + 3) : NULL;
    FILE *f = NULL;
    int rc = -1;

    if (bin != NULL && sodium_base642bin(bin, n / 4 * 3 + 3, b64, n, NULL, &bin_len, NULL,
                                         sodium_base64_VARIANT_ORIGINAL) == 0 &&
        (f = fopen(path, "wb")) != NULL)
        rc = fwrite(bin, 1, bin_len, f) == bin_len ? 0 : -1;
    if (f != NULL && fclose(f) != 0)
        rc = -1;
    free(bin);
    json_decref(r);
    return rc;
}

void
cdp_close(struct cdp *c)
{
    char cmd[128];
    int status;

    if (c == NULL)
        return;
    if (c->pid > 0 && c->wfd >= 0)
        json_decref(cdp_call(c, "Browser.close", NULL, 0, 3000));
    if (c->wfd >= 0)
        close(c->wfd);
    if (c->rfd >= 0)
        close(c->rfd);
    for (int i = 0; c->pid > 0 && i < 50; i++, usleep(100 * 1000))
        if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
            c->pid = 0;
            break;
        }
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, &status, 0);
    }
    if (c->dir_made) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cdp: could not remove %s\n", c->dir);
    }
    free(c->buf);
    free(c);
}
