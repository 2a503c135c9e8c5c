/*
 * harness.c - see harness.h.
 */
#include "harness.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"

uint64_t harness_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void harness_sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000u, (long)(ms % 1000u) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static void log_tail(const struct hserver *s)
{
    FILE *f = fopen(s->logfile, "r");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, sz > 4000 ? sz - 4000 : 0, SEEK_SET);
    char buf[4097];
    size_t n = fread(buf, 1, 4096, f);
    buf[n] = 0;
    fclose(f);
    fprintf(stderr, "---- tail of %s ----\n%s\n---- end ----\n", s->logfile, buf);
}

/* A config file a test wrote itself without http_listen gets one on an
 * ephemeral port: the default (127.0.0.1:7421) is fixed, and two servers,
 * or anything else on the machine, would collide on it. */
static void cfg_http_ephemeral(const struct hserver *s)
{
    char buf[8192];
    size_t n = 0;
    FILE *f = fopen(s->cfgfile, "r");
    if (f == NULL)
        return;
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    if (strstr(buf, "http_listen") != NULL || (f = fopen(s->cfgfile, "a")) == NULL)
        return;
    fprintf(f, "%shttp_listen = \"127.0.0.1:0\"\n", n > 0 && buf[n - 1] != '\n' ? "\n" : "");
    fclose(f);
}

static int spawn(struct hserver *s)
{
    if (s->has_cfg)
        cfg_http_ephemeral(s);
    unlink(s->portfile);
    signal(SIGPIPE, SIG_IGN);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(s->logfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
            close(fd);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) {
            dup2(nul, 0);
            close(nul);
        }
        /* sanitizer reports go to the log (stderr) and make the exit code
         * non-zero; keep the parent's ASAN_OPTIONS otherwise */
        if (s->has_cfg)
            execl(s->bin, s->bin, "-d", s->data, "-l", "127.0.0.1:0",
                  "-P", s->portfile, "-c", s->cfgfile, (char *)NULL);
        else
            execl(s->bin, s->bin, "-d", s->data, "-l", "127.0.0.1:0",
                  "-P", s->portfile, (char *)NULL);
        fprintf(stderr, "harness: exec %s: %s\n", s->bin, strerror(errno));
        _exit(127);
    }
    s->pid = pid;
    s->starts++;
    uint64_t deadline = harness_now_ms() + 10000;
    while (harness_now_ms() < deadline) {
        FILE *f = fopen(s->portfile, "r");
        if (f) {
            unsigned p = 0;
            int ok = fscanf(f, "%u", &p);
            fclose(f);
            if (ok == 1 && p > 0 && p < 65536) {
                s->port = (uint16_t)p;
                return (int)p;
            }
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->pid = 0;
            fprintf(stderr, "harness: hitlqd exited during start-up (status 0x%x)\n", st);
            log_tail(s);
            return -1;
        }
        harness_sleep_ms(5);
    }
    fprintf(stderr, "harness: no port file after 10 s\n");
    log_tail(s);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    s->pid = 0;
    return -1;
}

int harness_server_start(struct hserver *s, const char *config_text)
{
    return harness_server_start_bin(s, config_text, NULL);
}

int harness_server_start_bin(struct hserver *s, const char *config_text, const char *bin)
{
    char *http_cfg = NULL;

    memset(s, 0, sizeof *s);
    if (bin == NULL)
        bin = getenv("HITLQ_SERVER_BIN");
    s->bin = bin && *bin ? bin : HARNESS_HITLQD;
    snprintf(s->dir, sizeof s->dir, "/tmp/hitlq-test-XXXXXX");
    if (!mkdtemp(s->dir)) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(s->data, sizeof s->data, "%s/data", s->dir);
    snprintf(s->portfile, sizeof s->portfile, "%s/port", s->dir);
    snprintf(s->logfile, sizeof s->logfile, "%s/hitlqd.log", s->dir);
    snprintf(s->cfgfile, sizeof s->cfgfile, "%s/hitlqd.conf", s->dir);
    mkdir(s->data, 0755);
    /* The queue/protocol tests run on the example scorecard policy (their
     * expectations were written for it); a config that names a policy or
     * says HARNESS_EMBEDDED_POLICY gets what it asks for. */
    /* hitlqd's HTTP listener defaults to a fixed port: tests take any free
     * one (hitlqd writes it to <portfile>.http), unless they say otherwise */
    if (config_text == NULL || strstr(config_text, "http_listen") == NULL) {
        size_t n = strlen("http_listen = \"127.0.0.1:0\"\n") + 1 +
                   (config_text ? strlen(config_text) : 0);
        if ((http_cfg = malloc(n)) == NULL)
            return -1;
        snprintf(http_cfg, n, "http_listen = \"127.0.0.1:0\"\n%s", config_text ? config_text : "");
        config_text = http_cfg;
    }
    if (strstr(config_text, "policy") == NULL) {
        char cwd[PATH_MAX], *buf;
        size_t n;

        if (getcwd(cwd, sizeof cwd) == NULL)
            return -1;
        n = strlen(cwd) + 128 + strlen(config_text);
        if ((buf = malloc(n)) == NULL) {
            free(http_cfg);
            return -1;
        }
        snprintf(buf, n, "policy = \"%s/server/score/defaults/scorecard_policy.json\"\n%s", cwd,
                 config_text);
        int rc = write_file(s->cfgfile, buf);
        free(buf);
        free(http_cfg);
        if (rc != 0)
            return -1;
        s->has_cfg = true;
    } else {
        int rc = write_file(s->cfgfile, config_text);
        free(http_cfg);
        if (rc != 0)
            return -1;
        s->has_cfg = true;
    }
    return spawn(s);
}

int harness_server_restart(struct hserver *s)
{
    if (s->pid > 0)
        harness_server_kill(s, SIGKILL);
    return spawn(s);
}

static int wait_bounded(pid_t pid, int *status, int timeout_ms)
{
    uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
        if (harness_now_ms() >= deadline)
            return -1;
        harness_sleep_ms(5);
    }
}

int harness_server_kill(struct hserver *s, int sig)
{
    if (s->pid <= 0)
        return -1;
    if (kill(s->pid, sig) != 0)
        return -1;
    if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT) {
        int st;
        if (wait_bounded(s->pid, &st, 10000) != 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
        }
        s->pid = 0;
    }
    return 0;
}

bool harness_server_alive(struct hserver *s)
{
    if (s->pid <= 0)
        return false;
    int st;
    if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
        fprintf(stderr, "harness: hitlqd died (status 0x%x)\n", st);
        log_tail(s);
        s->pid = 0;
        return false;
    }
    return true;
}

bool harness_log_has_sanitizer(const struct hserver *s)
{
    FILE *f = fopen(s->logfile, "r");
    if (!f)
        return false;
    char line[4096];
    bool bad = false;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "ERROR: AddressSanitizer") || strstr(line, "runtime error") ||
            strstr(line, "ERROR: LeakSanitizer") || strstr(line, "ERROR: UndefinedBehavior")) {
            bad = true;
            break;
        }
    }
    fclose(f);
    return bad;
}

int harness_server_stop(struct hserver *s)
{
    int rc = 0;
    if (s->pid > 0) {
        int st = 0;
        kill(s->pid, SIGTERM);
        if (wait_bounded(s->pid, &st, 15000) != 0) {
            fprintf(stderr, "harness: hitlqd did not exit within 15 s of SIGTERM\n");
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
            rc = -1;
        } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "harness: hitlqd exit status 0x%x after SIGTERM\n", st);
            rc = -1;
        }
        s->pid = 0;
    }
    if (harness_log_has_sanitizer(s)) {
        fprintf(stderr, "harness: sanitizer report in %s\n", s->logfile);
        rc = -1;
    }
    if (rc != 0)
        log_tail(s);
    return rc;
}

void harness_server_cleanup(struct hserver *s)
{
    if (s->pid > 0)
        harness_server_kill(s, SIGKILL);
    if (s->dir[0] && !getenv("HITLQ_KEEP_DIRS")) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "harness: could not remove %s\n", s->dir);
    }
    s->dir[0] = 0;
}

/* ---- raw connections -------------------------------------------------- */

int hconn_open(struct hconn *c, uint16_t port)
{
    return hconn_open_from(c, port, NULL);
}

int hconn_open_from(struct hconn *c, uint16_t port, const char *src_ip)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    signal(SIGPIPE, SIG_IGN);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (src_ip != NULL) {
        struct sockaddr_in s = { .sin_family = AF_INET };
        if (inet_pton(AF_INET, src_ip, &s.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&s, sizeof s) != 0) {
            close(fd);
            return -1;
        }
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    c->fd = fd;
    return 0;
}

void hconn_close(struct hconn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
}

static int poll_fd(int fd, short ev, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = ev };
    int r;
    do {
        r = poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    return r;
}

ssize_t hconn_send_some(struct hconn *c, const void *data, size_t len)
{
    ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    return n;
}

int hconn_send(struct hconn *c, const void *data, size_t len, int timeout_ms)
{
    const uint8_t *p = data;
    uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;
    while (len > 0) {
        ssize_t n = hconn_send_some(c, p, len);
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
        if (len == 0)
            break;
        uint64_t now = harness_now_ms();
        if (now >= deadline)
            return -1;
        poll_fd(c->fd, POLLOUT, (int)(deadline - now));
    }
    return 0;
}

static int fill(struct hconn *c, int timeout_ms)
{
    /* returns >0 bytes read, 0 EOF, -1 timeout, -3 error (treated as EOF) */
    if (poll_fd(c->fd, POLLIN, timeout_ms) <= 0)
        return -1;
    if (c->cap - c->len < 65536) {
        size_t ncap = c->cap ? c->cap * 2 : 131072;
        while (ncap - c->len < 65536)
            ncap *= 2;
        uint8_t *nb = realloc(c->buf, ncap);
        if (!nb)
            return -3;
        c->buf = nb;
        c->cap = ncap;
    }
    ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (n > 0) {
        c->len += (size_t)n;
        return (int)n;
    }
    if (n == 0)
        return 0;
    if (errno == EAGAIN || errno == EINTR)
        return -1;
    return 0;   /* ECONNRESET and friends: the peer closed */
}

void hframe_free(struct hframe *f)
{
    if (f->raw) {
        msgpack_unpacked_destroy(&f->up);
        free(f->raw);
    }
    memset(f, 0, sizeof *f);
}

int hframe_fill(struct hframe *f, const struct frame *fr)
{
    memset(f, 0, sizeof *f);
    f->raw = malloc(fr->hdr.body_len ? fr->hdr.body_len : 1);
    if (!f->raw)
        return -1;
    f->opcode = fr->hdr.opcode;
    f->status = fr->hdr.status;
    f->request_id = fr->hdr.request_id;
    f->body_len = fr->hdr.body_len;
    memcpy(f->raw, fr->body, fr->hdr.body_len);
    msgpack_unpacked_init(&f->up);
    if (fr->hdr.body_len) {
        size_t off = 0;
        if (msgpack_unpack_next(&f->up, (const char *)f->raw, fr->hdr.body_len, &off) ==
            MSGPACK_UNPACK_SUCCESS)
            f->body = f->up.data;
    }
    return 0;
}

int hconn_read_frame(struct hconn *c, struct hframe *f, int timeout_ms)
{
    memset(f, 0, sizeof *f);
    uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        struct frame fr;
        int st = 0;
        enum frame_rc rc = c->len ? frame_parse(c->buf, c->len, 0xffffffffu, &fr, &st)
                                  : FRAME_NEED_MORE;
        if (rc == FRAME_ERROR)
            return -2;
        if (rc == FRAME_OK) {
            if (hframe_fill(f, &fr) != 0)
                return -2;
            memmove(c->buf, c->buf + fr.total_len, c->len - fr.total_len);
            c->len -= fr.total_len;
            return 1;
        }
        uint64_t now = harness_now_ms();
        if (now >= deadline)
            return -1;
        int r = fill(c, (int)(deadline - now));
        if (r == 0 || r == -3)
            return 0;
    }
}

bool hconn_expect_closed(struct hconn *c, int timeout_ms, int *frames)
{
    uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = harness_now_ms();
        if (now >= deadline)
            return false;
        struct hframe f;
        int r = hconn_read_frame(c, &f, (int)(deadline - now));
        if (r == 1) {
            if (frames)
                (*frames)++;
            hframe_free(&f);
            continue;
        }
        if (r == 0)
            return true;
        if (r == -2) {
            /* unparseable bytes: drop them and keep waiting for EOF */
            c->len = 0;
            continue;
        }
        return false;
    }
}

void hframe_header(uint8_t out[12], uint32_t body_len, uint8_t magic, uint8_t opcode,
                   uint16_t status, uint32_t request_id)
{
    out[0] = (uint8_t)(body_len >> 24);
    out[1] = (uint8_t)(body_len >> 16);
    out[2] = (uint8_t)(body_len >> 8);
    out[3] = (uint8_t)body_len;
    out[4] = magic;
    out[5] = opcode;
    out[6] = (uint8_t)(status >> 8);
    out[7] = (uint8_t)status;
    out[8] = (uint8_t)(request_id >> 24);
    out[9] = (uint8_t)(request_id >> 16);
    out[10] = (uint8_t)(request_id >> 8);
    out[11] = (uint8_t)request_id;
}

void hframe_append(msgpack_sbuffer *sb, uint8_t opcode, uint32_t request_id, const void *body,
                   size_t len)
{
    uint8_t h[12];
    hframe_header(h, (uint32_t)len, HITLQ_MAGIC, opcode, 0, request_id);
    msgpack_sbuffer_write(sb, (const char *)h, 12);
    if (len)
        msgpack_sbuffer_write(sb, body, len);
}

int hconn_call(struct hconn *c, uint8_t opcode, uint32_t request_id, const void *body,
               size_t len, struct hframe *reply, int timeout_ms)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    hframe_append(&sb, opcode, request_id, body, len);
    int r = hconn_send(c, sb.data, sb.size, timeout_ms);
    msgpack_sbuffer_destroy(&sb);
    if (r != 0)
        return 0;
    uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = harness_now_ms();
        int rr = hconn_read_frame(c, reply, now < deadline ? (int)(deadline - now) : 0);
        if (rr != 1)
            return rr;
        if (reply->opcode == HITLQ_OP_RESULT || reply->request_id != request_id) {
            hframe_free(reply);
            continue;
        }
        return 1;
    }
}

int hconn_hello(struct hconn *c, const char *name)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, name ? 2 : 1);
    hpk_kv_u64(&pk, "version", 1);
    if (name)
        hpk_kv_str(&pk, "name", name);
    struct hframe f;
    int r = hconn_call(c, HITLQ_OP_HELLO, 1, sb.data, sb.size, &f, 5000);
    msgpack_sbuffer_destroy(&sb);
    if (r != 1)
        return -1;
    int st = f.status;
    hframe_free(&f);
    return st;
}

int hconn_ping(struct hconn *c, uint32_t request_id)
{
    struct hframe f;
    int r = hconn_call(c, HITLQ_OP_PING, request_id, NULL, 0, &f, 5000);
    if (r != 1)
        return -1;
    int st = f.status;
    hframe_free(&f);
    return st;
}

const msgpack_object *hframe_get(const struct hframe *f, const char *key)
{
    if (f->body.type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < f->body.via.map.size; i++) {
        const msgpack_object_kv *kv = &f->body.via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == kl &&
            memcmp(kv->key.via.str.ptr, key, kl) == 0)
            return &kv->val;
    }
    return NULL;
}

bool hobj_str_eq(const msgpack_object *o, const char *s)
{
    if (!o || o->type != MSGPACK_OBJECT_STR)
        return false;
    size_t l = strlen(s);
    return o->via.str.size == l && memcmp(o->via.str.ptr, s, l) == 0;
}

bool hframe_code_is(const struct hframe *f, const char *code)
{
    return hobj_str_eq(hframe_get(f, "code"), code);
}

uint64_t hobj_u64(const msgpack_object *o)
{
    if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return o->via.u64;
    return 0;
}

double hobj_f64(const msgpack_object *o)
{
    if (!o)
        return NAN;
    if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
        return o->via.f64;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return (double)o->via.u64;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return (double)o->via.i64;
    return NAN;
}

void hobj_str(const msgpack_object *o, char *dst, size_t n)
{
    if (!n)
        return;
    dst[0] = 0;
    if (!o || o->type != MSGPACK_OBJECT_STR)
        return;
    size_t l = o->via.str.size < n - 1 ? o->via.str.size : n - 1;
    memcpy(dst, o->via.str.ptr, l);
    dst[l] = 0;
}

void hpk_str(msgpack_packer *pk, const char *s)
{
    size_t l = strlen(s);
    msgpack_pack_str(pk, l);
    msgpack_pack_str_body(pk, s, l);
}

void hpk_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    hpk_str(pk, k);
    hpk_str(pk, v);
}

void hpk_kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
    hpk_str(pk, k);
    msgpack_pack_uint64(pk, v);
}
