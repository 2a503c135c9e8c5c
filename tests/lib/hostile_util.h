/*
 * hostile_util.h - shared by the hostile-input tests (tests/e2e/
 * test_hostile_frames.c, test_hostile_msgpack.c, test_hostile_schema.c):
 * one hitlqd for a whole group (frame_timeout_ms = 1500,
 * slow_reader_timeout_ms = 2000) with a well-behaved client connected from
 * the start, a health check after every test, and helpers that send raw
 * frames and expect typed errors or a close, failing the running test
 * (cmocka) otherwise.
 */
#ifndef HITLQ_HOSTILE_UTIL_H
#define HITLQ_HOSTILE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "harness.h"

struct CMUnitTest;

/* The group's server, its well-behaved client and that client's last
 * request id. */
extern struct hserver hostile_srv;
extern struct hconn hostile_good;
extern uint32_t hostile_good_rid;

/* cmocka group setup: starts hostile_srv and connects hostile_good (HELLO);
 * -1 on failure. */
int hostile_group_setup(void **st);
/* cmocka group teardown: closes hostile_good, stops the server (0 only on
 * exit 0 without sanitizer report) and removes its directory. */
int hostile_group_teardown(void **st);
/* cmocka teardown after every test: 0 when the server still runs,
 * hostile_good gets its PING reply within 2 s and a fresh client can
 * HELLO+PING; -1 (reason on stderr) otherwise. */
int hostile_check_healthy(void **st);
/* A test followed by the health check. */
#define HOSTILE_TEST(f) cmocka_unit_test_teardown(f, hostile_check_healthy)
/* Runs the n tests as the cmocka group `name` between the group setup and
 * teardown ($HITLQ_TEST_FILTER filters them); returns cmocka's result. */
int hostile_run(const char *name, const struct CMUnitTest *tests, size_t n);

/* Connects c to the server, with a HELLO when hello is true. */
void hostile_open(struct hconn *c, bool hello);
/* Reads one reply and checks its status, its code string, that it has a
 * message and (unless rid is UINT32_MAX) its request id. */
void hostile_expect_error(struct hconn *c, uint16_t status, const char *code, uint32_t rid);
/* The server closes c within 5 s without sending a frame first. */
void hostile_expect_closed(struct hconn *c);
/* Sends a whole frame made of header + body bytes. */
void hostile_send_frame(struct hconn *c, uint8_t op, uint16_t status, uint32_t rid,
                        const void *body, size_t len);
/* A fatal body error after HELLO: sent as a PING body on a new connection,
 * it gets a typed reply with status want1 or want2 (bad_msgpack or
 * limit_exceeded), then the close. */
void hostile_body_fatal(const void *body, size_t len, uint16_t want1, uint16_t want2);
/* A non-fatal request error: on a new connection, request op with body
 * gets status want with code `code`, then the same connection still
 * answers PING.  When alt_fatal is non-zero, that status with alt_code
 * followed by the close is accepted too (where the spec allows a fatal
 * variant). */
void hostile_request_error(uint8_t op, const void *body, size_t len, uint16_t want,
                           const char *code, uint16_t alt_fatal, const char *alt_code);

/* A body being packed: sb with pk writing into it. */
struct hostile_body {
    msgpack_sbuffer sb;
    msgpack_packer  pk;
};
void hostile_body_init(struct hostile_body *b);
void hostile_body_free(struct hostile_body *b);
/* A SUBMIT body {key, type, fields: {amount: 1000}} into a fresh b, its map
 * announced with one more entry when extra is non-zero (for the caller to
 * pack). */
void hostile_pack_submit(struct hostile_body *b, const char *key, const char *type, int extra);

#endif
