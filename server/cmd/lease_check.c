/*
 * lease_check.c - checks of ESCALATE's queue and RESOLVE's root cause
 * against the policy in force, on the loop thread before the op is
 * queued (lease_check.h).  A refusal names what would have been accepted.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "conn.h"
#include "lease_check.h"
#include "queue.h"
#include "score.h"
#include "server.h"
#include "wire.h"

#define LEASE_CHECK_MSG    1024u
#define LEASE_CHECK_QUEUES 256u

/* A message that lists names: ", " between them, "..." once full. */
struct lease_msg {
    char   text[LEASE_CHECK_MSG];
    size_t n, start;
    bool   full;
};

static void
lease_msg_add(struct lease_msg *m, const char *name)
{
    const char *sep = m->n > m->start ? ", " : "";

    if (m->full)
        return;
    if (m->n + strlen(name) + 8 >= sizeof(m->text)) {
        m->n += (size_t)snprintf(m->text + m->n, sizeof(m->text) - m->n, "%s...", sep);
        m->full = true;
        return;
    }
    m->n += (size_t)snprintf(m->text + m->n, sizeof(m->text) - m->n, "%s%s", sep, name);
}

/* Starts m with `what "name" tail (list: ` (shorter than 512 bytes). */
static void
lease_msg_begin(struct lease_msg *m, const char *what, const char *name, const char *tail,
                const char *list)
{
    snprintf(m->text, sizeof(m->text), "%s \"%s\" %s (%s: ", what, name, tail, list);
    m->n = m->start = strlen(m->text);
    m->full = false;
}

static void
lease_msg_end(struct lease_msg *m)
{
    snprintf(m->text + m->n, sizeof(m->text) - m->n, ")");
}

bool
lease_queue_known(struct conn *c, const struct frame_hdr *h, const msgpack_object *queue)
{
    struct hitlq_server *srv = c->srv;
    char q[HITLQ_MAX_QUEUE_NAME + 1];
    const char *known[LEASE_CHECK_QUEUES];
    struct lease_msg m = { .n = 0 };
    size_t k;
    bool more = false;

    wire_copy_str(queue, q, sizeof(q));
    if (scoring_queue_known(srv->scoring, srv->cfg->dead_letter_queue, q))
        return true;
    k = scoring_queues(srv->scoring, srv->cfg->dead_letter_queue, known, LEASE_CHECK_QUEUES,
                       &more);
    lease_msg_begin(&m, "no queue", q, "in the policy in force", "known");
    for (size_t i = 0; i < k; i++)
        lease_msg_add(&m, known[i]);
    if (more)
        lease_msg_add(&m, "...");
    lease_msg_end(&m);
    conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_UNKNOWN_QUEUE, m.text);
    return false;
}

bool
lease_root_cause_ok(struct conn *c, const struct frame_hdr *h, const msgpack_object *id,
                    const msgpack_object *root_cause)
{
    struct hitlq_server *srv = c->srv;
    char type[HITLQ_MAX_NAME + 1], rc[HITLQ_MAX_NAME + 1];
    const struct type_policy *p;
    struct lease_msg m = { .n = 0 };
    MDB_txn *txn;
    int st;

    if (root_cause == NULL || (txn = server_read_begin(srv)) == NULL)
        return true;
    st = queue_item_type(srv->store, txn, wire_u64(id), type, sizeof(type));
    server_read_end(srv);
    wire_copy_str(root_cause, rc, sizeof(rc));
    if (st != HITLQ_ST_OK || (p = scoring_policy(srv->scoring, type)) == NULL ||
        score_root_cause_declared(p, rc))
        return true;
    lease_msg_begin(&m, "root cause", rc, "is not one the item's type declares",
                    "declared");
    for (size_t i = 0; i < p->n_root_causes; i++)
        lease_msg_add(&m, p->root_causes[i]);
    lease_msg_end(&m);
    conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_INVALID_ROOT_CAUSE, m.text);
    return false;
}
