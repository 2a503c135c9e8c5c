/*
 * op.h - a write request on its way through group commit.  The loop thread
 * decodes a frame into an op (proceed), the commit thread applies it inside
 * the batch's LMDB write transaction (apply), and the loop thread sends its
 * reply after the commit returned (finish).  Internal ops (lease expiry)
 * have no connection.
 */
#ifndef HITLQ_OP_H
#define HITLQ_OP_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <lmdb.h>

#include "cmd_review.h"
#include "drift_store.h"
#include "four_eyes.h"
#include "hitlq_proto.h"
#include "park.h"
#include "queue.h"

struct scoring;
struct auth_keyop;

struct hitlq_server;
struct conn;
struct op;

struct op_class {
    const char *name;
    /* Commit thread, inside the write txn.  Returns a HITLQ_ST_* status. */
    int  (*apply)(struct op *op, struct hitlq_server *srv, MDB_txn *txn,
                  uint64_t now_ms, struct queue_fx *fx);
    /* Loop thread, after the commit: reply (or park).  Must end with
     * op_done() unless it kept the op (parked: park.h). */
    void (*finish)(struct op *op, struct hitlq_server *srv);
    /* Frees what the op owns (never the op itself).  May be NULL. */
    void (*clear)(struct op *op);
};

#define SUBMIT_RECEIPT_NONE       0
#define SUBMIT_RECEIPT_INDEX      1
#define SUBMIT_RECEIPT_CHECKPOINT 2

struct op {
    struct op            *next;          /* batch list */
    struct park_entry     park;          /* while parked (a waiting CLAIM,
                                          * receipt or checkpoint wait) */
    const struct op_class *cls;
    struct conn          *conn;          /* holds a reference; NULL if internal */
    uint8_t               opcode;
    uint32_t              request_id;
    int                   status;        /* set by apply / the commit thread */
    char                  errmsg[256];   /* optional detail for error replies */
    bool                  batch_failed;  /* status came from a failed commit */
    union {
        struct {
            char            key[HITLQ_MAX_NAME + 1];
            char            type[HITLQ_MAX_NAME + 1];
            uint8_t        *fields;      /* owned: re-packed fields map */
            size_t          fields_len;
            struct submit_in in;
            struct decision d;           /* reasons_mp, top_ext owned */
            bool            duplicate;
            uint8_t         receipt;     /* SUBMIT_RECEIPT_* */
            struct drift_obs drift;      /* input bins (drift_commit.h) */
            struct review_obs review;    /* review facts (cmd_review.h) */
            struct four_eyes_need fe;    /* four-eyes review (cmd_four_eyes.h) */
        } submit;
        struct {
            struct claim_in  in;
            struct claim_out out;        /* reply_mp owned */
            uint64_t         wait_until_ms;   /* 0 = no wait */
            struct event    *wait_ev;    /* owned while parked */
            uint64_t         by_id;      /* CLAIM_ID: the item (in.queues[0] its
                                          * queue, checked); 0 = CLAIM */
            uint8_t          blind;      /* FOUR_EYES_BLIND_* (cmd_four_eyes.h) */
            /* A wake-up this claim carries (cmd_claim.c): the chain it was
             * last woken by (0 = none), 1 + the index in in.queues of the
             * queue it was woken for (0 = not for one queue), and whether
             * it came back empty while that queue still had ready items
             * (set by apply: the wake-up is passed on). */
            uint64_t         wake_chain;
            uint8_t          wake_q;
            bool             wake_pass;
        } claim;
        struct {                         /* COMMENT, REOPEN, AMEND (cmd_work.c) */
            uint64_t id, seq;
            char     actor[HITLQ_MAX_NAME + 1];
            char     queue[HITLQ_MAX_QUEUE_NAME + 1];  /* REOPEN: asked / got */
            char     outcome[HITLQ_MAX_NAME + 1];      /* AMEND */
            char     root_cause[HITLQ_MAX_NAME + 1];   /* AMEND, may be "" */
            char    *note;               /* owned */
        } work;
        struct {
            uint64_t id, lease;
            uint32_t ms;                 /* lease_ms or delay_ms */
            uint64_t t_ms;               /* expires_ms or ready_ms */
            uint64_t seq;
            char     name[HITLQ_MAX_NAME + 1];        /* outcome or queue */
            char     root_cause[HITLQ_MAX_NAME + 1];
            uint8_t  label;              /* RESOLVE: the outcome's review label */
            char    *note;               /* owned, may be NULL */
            char     who[HITLQ_MAX_NAME + 1];   /* the sender's principal */
        } lease;
        struct {
            size_t done;
            uint32_t expired, dead;      /* lease expiries, of which dead-lettered */
            uint64_t expired_id, dead_id;                /* examples */
            char     expired_queue[HITLQ_MAX_QUEUE_NAME + 1];
            char     dead_from[HITLQ_MAX_QUEUE_NAME + 1];
        } expire;
        struct {
            uint64_t size;               /* AUDIT_CHECKPOINT fresh: wanted size */
        } cpwait;
        struct {
            struct scoring *sc;          /* owned until installed (cmd_admin.c) */
        } reload;
        struct {
            struct auth_keyop *ko;       /* owned (cmd_key.c); wiped when freed */
        } key;
    } u;
};

/* Allocates a zeroed op; takes a reference on conn (may be NULL). */
struct op *op_new(const struct op_class *cls, struct conn *conn,
                  uint8_t opcode, uint32_t request_id);
/* Releases the op: clear(), drops the connection reference and frees. */
void op_done(struct op *op);

#endif
