/*
 * commit.h - group commit.  Ops enqueued by the loop thread during one
 * event-loop pass are handed to the commit thread as one batch: one LMDB
 * write transaction, one durable mdb_txn_commit, then the batch comes back
 * to the loop thread, which replies.  The loop never waits for a sync.
 */
#ifndef HITLQ_COMMIT_H
#define HITLQ_COMMIT_H

#include <stdbool.h>
#include <stddef.h>

struct hitlq_server;
struct op;
struct commit;

/* Starts the commit thread.  Returns NULL with a message in err. */
struct commit *commit_start(struct hitlq_server *srv, char *err, size_t errlen);
/* Queues op (loop thread).  Ownership passes to the pipeline until finish. */
void commit_submit(struct commit *cm, struct op *op);
/* Hands over what is staged, lets the thread commit every pending batch,
 * stops it, and finishes what came back (replies are still sent).  Nothing
 * may be submitted afterwards (callers check srv->stopping). */
void commit_stop(struct commit *cm);

/* Wakes the commit thread so it looks at the audit log's signing
 * deadline (a receipt is waiting for a checkpoint).  Any thread. */
void commit_wake(struct commit *cm);

/* Loop thread: true when every op handed to commit_submit has been
 * finished (its reply sent or its failure answered): nothing is left in
 * the commit pipeline.  The clean stop waits for it (server.c). */
bool commit_idle(const struct commit *cm);

/* Asks the idle commit thread for a probe write (readiness, server/cmd/
 * http_ops.c): a tiny meta record committed durably, its outcome in
 * srv->m->health.  Ignored while batches flow (they prove the same). */
void commit_probe(struct commit *cm);

#endif
