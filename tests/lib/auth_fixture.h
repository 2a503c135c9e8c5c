/*
 * auth_fixture.h - shared by the authentication and authorization tests
 * (tests/e2e/test_auth_keys.c, test_auth_roles.c): one hitlqd with
 * `auth = 1` for a whole group and its first admin key, authenticated raw
 * connections, requests with packed bodies, KEY_ADD, SUBMIT and CLAIM.
 * The helpers fail the running test (cmocka) where they say so.
 */
#ifndef HITLQ_AUTH_FIXTURE_H
#define HITLQ_AUTH_FIXTURE_H

#include <stdint.h>

#include <msgpack.h>

#include "harness.h"

#define AFX_KEY_LEN 66      /* an API key: "hitlq_" + key id + secret */
#define AFX_ID_LEN  16      /* a key id (hex) */

/* The group's server (auth = 1) and its first admin key, read from
 * <data>/admin.key. */
extern struct hserver afx_srv;
extern char afx_admin_key[AFX_KEY_LEN + 1];

/* cmocka group setup: starts afx_srv and reads the admin key (fails the
 * test unless the file is mode 0600 and holds one key); -1 when the server
 * does not start. */
int afx_setup(void **st);
/* cmocka group teardown: stops the server (0 only on exit 0 without
 * sanitizer report) and removes its directory. */
int afx_teardown(void **st);

/* Sends HELLO {version, name: "spoofed-name", api_key unless key is NULL}
 * on a new connection c to port; *f gets the reply (the caller frees it).
 * Returns its status, or -1 on I/O error. */
int afx_hello(struct hconn *c, uint16_t port, const char *key, struct hframe *f);
/* Opens an authenticated connection to afx_srv; fails the test unless
 * HELLO is ok (and, unless want_role is NULL, the role is want_role). */
void afx_open_as(struct hconn *c, const char *key, const char *want_role);
/* afx_open_as with the admin key, role "admin". */
void afx_admin_conn(struct hconn *c);
/* One request op with a packed body (NULL: empty); returns the status
 * (fails the test when no reply comes); the reply is freed unless keep is
 * not NULL.  RESULT requests are matched by request id. */
int afx_call(struct hconn *c, uint8_t op, const msgpack_sbuffer *body, struct hframe *keep);

/* A body being packed: sb with pk writing into it. */
struct afx_body {
    msgpack_sbuffer sb;
    msgpack_packer  pk;
};
/* Starts b with a map of n entries. */
void afx_body_init(struct afx_body *b, uint32_t n);
void afx_body_free(struct afx_body *b);

/* KEY_ADD {principal, role, skills: [skill] unless skill is NULL} through
 * connection admin; fails the test unless ok, copies the key and its id. */
void afx_key_add(struct hconn *admin, const char *principal, const char *role,
                 const char *skill, char key[AFX_KEY_LEN + 1], char id[AFX_ID_LEN + 1]);
/* SUBMIT {key, type, fields: {amount}} on c; returns the status, the id in
 * *id unless id is NULL. */
int afx_submit(struct hconn *c, const char *key, uint64_t *id);
/* CLAIM {queues: [queue], worker unless NULL} on c; returns the status. */
int afx_claim(struct hconn *c, const char *queue, const char *worker);

#endif
