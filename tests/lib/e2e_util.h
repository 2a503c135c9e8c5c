/*
 * e2e_util.h - shared by the libhitlq end-to-end tests (tests/e2e/
 * test_submit.c, test_claim.c, test_lease.c, test_watch.c, test_stats.c):
 * every test gets its own hitlqd child and data directory (config:
 * max_attempts = 2) that must stop with exit 0 and no sanitizer report;
 * helpers to connect, queue, claim and read GET histories and STATS
 * replies, failing the running test (cmocka) instead of returning errors.
 */
#ifndef HITLQ_E2E_UTIL_H
#define HITLQ_E2E_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "credit_items.h"
#include "harness.h"
#include "hitlq_msgpack.h"

struct CMUnitTest;

/* The server of the running test (started by e2e_srv_setup). */
extern struct hserver e2e_srv;
/* The German Credit rows (loaded by e2e_run). */
extern struct credit_item *e2e_ci;
extern size_t e2e_nci;
/* A packed {"amount": 1000} map: incomplete, therefore queued. */
extern msgpack_sbuffer e2e_small_fields;
/* The one queue the default policy routes to: { "credit_review" }. */
extern const char *const e2e_review[];

/* cmocka setup: starts a fresh hitlqd (max_attempts = 2) in e2e_srv;
 * -1 when it does not start. */
int e2e_srv_setup(void **st);
/* cmocka teardown: stops it (0 only on exit 0 without sanitizer report)
 * and removes its directory. */
int e2e_srv_teardown(void **st);
/* Every test of a file: its own server (e2e_srv_setup/teardown). */
#define E2E_TEST(f) cmocka_unit_test_setup_teardown(f, e2e_srv_setup, e2e_srv_teardown)

/* Runs the n tests as the cmocka group `name` ($HITLQ_TEST_FILTER
 * filters them): ignores SIGPIPE, loads the credit rows and packs
 * e2e_small_fields first, frees them after.  Returns cmocka's result, 1
 * when the CSV cannot be read. */
int e2e_run(const char *name, const struct CMUnitTest *tests, size_t n);

/* Wall-clock milliseconds (the server's time_ms and deadlines are). */
uint64_t e2e_wall_ms(void);
/* A libhitlq plaintext connection to 127.0.0.1:port with HELLO name `name`
 * and the given reply timeout; fails the test unless connected. */
hitlq *e2e_connect(uint16_t port, const char *name, int timeout_ms);
/* e2e_connect to e2e_srv with a 30 s timeout. */
hitlq *e2e_cli(const char *name);
/* SUBMIT of e2e_small_fields as a credit_application `key` with priority
 * prio (-1: the policy's); returns the libhitlq status, *d the decision. */
int e2e_submit_queued(hitlq *c, const char *key, int64_t prio, hitlq_decision *d);
/* The same, failing the test unless it was queued and new; returns the id. */
uint64_t e2e_must_queue(hitlq *c, const char *key, int64_t prio);
/* CLAIM on the nq queues qs; fails the test unless an item came.  The
 * caller clears the result with hitlq_claim_clear. */
struct hitlq_claim e2e_must_claim(hitlq *c, const char *const *qs, size_t nq,
                                  uint32_t lease_ms, uint32_t wait_ms);

/* Copies the str value of key k of map m into out (n bytes); 0, or -1
 * (out "") when m is not a map or has no k. */
int e2e_find_str(const msgpack_object *m, const char *k, char *out, size_t n);
/* GET of id: fails the test unless the history's event names are exactly
 * the n of want, at_ms non-decreasing and every event has an actor.
 * Returns the reply (the caller frees it) for more checks. */
hitlq_reply *e2e_check_history(hitlq *c, uint64_t id, const char *const *want, size_t n);
/* The actor of the last `event` of the GET reply r, copied to out ("" if
 * none); returns out. */
const char *e2e_event_actor(const hitlq_reply *r, const char *event, char *out, size_t n);
/* The entry of STATS array `list` ("queues"/"types") whose key kname is
 * name; NULL if none. */
const msgpack_object *e2e_stats_entry(const hitlq_reply *r, const char *list,
                                      const char *kname, const char *name);
/* Number at key k of map m (NAN when absent or not a number). */
double e2e_map_num(const msgpack_object *m, const char *k);
/* GET of id by c (which must see QA links: no auth, auditor or admin):
 * the original's id when id is a blind QA copy (its `qa_of`), else 0. */
uint64_t e2e_qa_of(hitlq *c, uint64_t id);

/* Starts hitlqd (harness_server_start) with the LD_PRELOAD fault shim at
 * so_path (relative to the repository root).  The shim stays off until its
 * trigger file exists: a fresh temporary directory goes to dir and the
 * trigger's path (not created) to trig, exported to the shim as the
 * environment variable trig_env.  ASan is told the shim comes first.  The
 * port, or -1. */
int e2e_start_shimmed(struct hserver *s, const char *cfg, const char *so_path,
                      const char *trig_env, char dir[64], char trig[128]);

#endif
