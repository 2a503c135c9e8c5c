/*
 * harness.h - integration-test helpers: run a real hitlqd as a child on an
 * ephemeral loopback port with a private data directory, and talk raw
 * frames to it.  Linked into every test binary; depends only on libc,
 * msgpack-c and the proto codec (frame.h).
 */
#ifndef HITLQ_TEST_HARNESS_H
#define HITLQ_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <msgpack.h>

#define HARNESS_HITLQD "build/test/hitlqd"
#define HARNESS_CLI    "build/test/hitlq"
/* Test-only negative control: acknowledges before the durable commit
 * (server/cmd/commit.c, HITLQ_UNSAFE_ACK_BEFORE_COMMIT). */
#define HARNESS_HITLQD_UNSAFE "build/test/hitlqd-unsafe"

struct hserver {
    char     dir[128];        /* private data directory (mkdtemp) */
    char     data[192];       /* dir/data: hitlqd -d */
    char     portfile[192];
    char     logfile[192];    /* hitlqd stderr (appended across restarts) */
    char     cfgfile[192];
    bool     has_cfg;
    const char *bin;          /* server binary (see harness_server_start_bin) */
    pid_t    pid;             /* 0 when not running */
    uint16_t port;
    int      starts;
};

/* Creates the data dir, writes the config (if any), starts hitlqd and waits
 * (<= 10 s) for the port file.  Returns the port, or -1 (log on stderr). */
/* Without "policy" in config_text the server runs the example scorecard
 * policy (server/score/defaults/scorecard_policy.json); put
 * HARNESS_EMBEDDED_POLICY in config_text for the embedded default. */
#define HARNESS_EMBEDDED_POLICY "# policy: embedded default\n"
int  harness_server_start(struct hserver *s, const char *config_text);
/* The same with a chosen server binary; bin NULL means $HITLQ_SERVER_BIN
 * if set, else HARNESS_HITLQD (which is what harness_server_start uses).
 * Restarts keep the binary. */
int  harness_server_start_bin(struct hserver *s, const char *config_text,
                              const char *bin);
/* Starts hitlqd again on the same data dir (after kill/stop). */
int  harness_server_restart(struct hserver *s);
/* Sends sig; for SIGKILL/SIGTERM/SIGINT also reaps the child (<= 10 s).
 * Returns 0, or -1 on failure. */
int  harness_server_kill(struct hserver *s, int sig);
/* True while the child has not exited (reaps it if it has). */
bool harness_server_alive(struct hserver *s);
/* SIGTERM, wait <= 15 s (then SIGKILL).  Returns 0 when the server exited
 * with status 0 and its log has no sanitizer report; -1 otherwise (the
 * reason and the log's tail go to stderr).  Does not remove the dir. */
int  harness_server_stop(struct hserver *s);
/* True when the server log contains an ASan/UBSan/LSan report. */
bool harness_log_has_sanitizer(const struct hserver *s);
/* Kills the child if still running and removes the directory. */
void harness_server_cleanup(struct hserver *s);

/* Monotonic milliseconds. */
uint64_t harness_now_ms(void);
void     harness_sleep_ms(unsigned ms);

/* ---- raw connections -------------------------------------------------- */

struct hconn {
    int      fd;
    uint8_t *buf;             /* received, not yet returned as a frame */
    size_t   len, cap;
};

/* A received frame, body unpacked (body.type NIL when body_len is 0). */
struct hframe {
    uint8_t          opcode;
    uint16_t         status;
    uint32_t         request_id;
    uint32_t         body_len;
    uint8_t         *raw;     /* owned copy of the body */
    msgpack_unpacked up;
    msgpack_object   body;
};

/* Connects to 127.0.0.1:port (blocking connect, non-blocking I/O after).
 * Returns 0 or -1. */
int  hconn_open(struct hconn *c, uint16_t port);
/* The same from a chosen source address (e.g. "127.0.0.2"). */
int  hconn_open_from(struct hconn *c, uint16_t port, const char *src_ip);
void hconn_close(struct hconn *c);
/* Sends all bytes within timeout_ms.  Returns 0, or -1 (error/timeout;
 * EPIPE/ECONNRESET included). */
int  hconn_send(struct hconn *c, const void *data, size_t len, int timeout_ms);
/* Sends what the socket takes now without blocking; returns bytes sent
 * (0 when the socket is full) or -1 on error. */
ssize_t hconn_send_some(struct hconn *c, const void *data, size_t len);
/* Reads one frame.  Returns 1 (frame in *f: free with hframe_free), 0 on
 * EOF/reset before a complete frame, -1 on timeout, -2 on a malformed
 * frame from the server. */
int  hconn_read_frame(struct hconn *c, struct hframe *f, int timeout_ms);
void hframe_free(struct hframe *f);
/* Fills *f from a parsed frame (a copy of its body, unpacked).  0, or -1
 * when out of memory. */
struct frame;
int  hframe_fill(struct hframe *f, const struct frame *fr);
/* Waits for the server to close: frames received meanwhile are dropped
 * (their count added to *frames if non-NULL).  Returns true on EOF/reset
 * within timeout_ms. */
bool hconn_expect_closed(struct hconn *c, int timeout_ms, int *frames);

/* Builds a 12-byte header with arbitrary fields (magic too). */
void hframe_header(uint8_t out[12], uint32_t body_len, uint8_t magic,
                   uint8_t opcode, uint16_t status, uint32_t request_id);
/* Appends a request frame (header + body) to sb. */
void hframe_append(msgpack_sbuffer *sb, uint8_t opcode, uint32_t request_id,
                   const void *body, size_t len);
/* Sends one request frame and reads its reply (skipping RESULT pushes).
 * Returns like hconn_read_frame. */
int  hconn_call(struct hconn *c, uint8_t opcode, uint32_t request_id,
                const void *body, size_t len, struct hframe *reply,
                int timeout_ms);
/* HELLO {version: 1, name}.  Returns the reply status, or -1 on I/O error. */
int  hconn_hello(struct hconn *c, const char *name);
/* PING round trip; returns the status or -1. */
int  hconn_ping(struct hconn *c, uint32_t request_id);

/* Map lookup in a frame body: NULL when absent or body is not a map. */
const msgpack_object *hframe_get(const struct hframe *f, const char *key);
/* The body's `code` string (a static empty string when absent); copied to
 * a small static-per-call buffer: use at once. */
bool hframe_code_is(const struct hframe *f, const char *code);
bool hobj_str_eq(const msgpack_object *o, const char *s);
uint64_t hobj_u64(const msgpack_object *o);     /* 0 when not an int */
double   hobj_f64(const msgpack_object *o);     /* NAN when not a number */
/* Copies a str object into a NUL-terminated buffer ("" if not a str). */
void hobj_str(const msgpack_object *o, char *dst, size_t n);

/* msgpack helpers for building bodies. */
void hpk_str(msgpack_packer *pk, const char *s);
void hpk_kv_str(msgpack_packer *pk, const char *k, const char *v);
void hpk_kv_u64(msgpack_packer *pk, const char *k, uint64_t v);

#endif
