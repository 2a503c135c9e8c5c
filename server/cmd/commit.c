/*
 * commit.c - the group-commit thread.  This is the one place where every
 * state change, automated or human, becomes durable: ops are applied in
 * arrival order inside one write transaction per batch, and no reply is
 * sent before mdb_txn_commit has returned 0.  A failed commit fails every
 * op in its batch (none of them is acknowledged).  Every failed write
 * (a batch, the idle checkpoint, the readiness probe) goes through
 * commit_fault: a full map or disk refuses writes until one fits again, any
 * other storage error stops the server (docs/RELIABILITY.md §1.3).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "audit.h"
#include "commit.h"
#include "metrics_feed.h"
#include "metrics_reg.h"
#include "drift_commit.h"
#include "log.h"
#include "op.h"
#include "park.h"
#include "server.h"
#include "sla_fx.h"
#include "store.h"
#include "store_clock.h"
#include "util.h"
#include "wire.h"

struct batch {
    struct op      *head, *tail;
    size_t          n;
    int             fatal_rc;      /* LMDB error that must stop the server */
    struct queue_fx fx;
    uint64_t        next_timer;
    bool            cp_new;        /* a new audit checkpoint was published */
    struct batch   *next;
};

struct commit {
    struct hitlq_server *srv;
    pthread_t        thread;
    pthread_mutex_t  mu;
    pthread_cond_t   cv;
    struct batch    *pending;     /* filled by the loop (under mu) */
    struct batch    *done_head, *done_tail;   /* filled by the thread (under mu) */
    bool             stop;
    bool             probe;       /* under mu: commit_probe asked */
    bool             dead;        /* thread only: a fatal storage error happened */
    bool             full;        /* thread only: the last write found storage full */
    size_t           ops_out;     /* loop thread only: ops handed over, not finished */
    struct batch    *staging;     /* loop thread only: this pass's ops */
    struct event    *flush_ev;    /* hands staging over at the end of a pass */
    struct event    *done_ev;     /* eventfd readable: batches came back */
    int              efd;
};

static void
batch_append(struct batch *b, struct op *op)
{
    op->next = NULL;
    if (b->tail)
        b->tail->next = op;
    else
        b->head = op;
    b->tail = op;
    b->n++;
}

static void
batch_fail(struct batch *b, int status, const char *msg)
{
    for (struct op *op = b->head; op; op = op->next) {
        op->status = status;
        op->batch_failed = true;
        snprintf(op->errmsg, sizeof(op->errmsg), "%s", msg);
    }
}

/* Commit thread, no transaction open: the one place a failed write's LMDB
 * code rc is judged (store_fault_of).  Storage full: logged once as
 * `storage_full` (with the real cause) until a write fits again; returns
 * RESOURCE_EXHAUSTED.  Anything else: logged as `storage_failure`, the
 * thread takes no more writes and *fatal_rc asks the loop thread to stop
 * the server (server_fail); returns INTERNAL. */
static int
commit_fault(struct commit *cm, int rc, const char *stage, int *fatal_rc)
{
    enum store_fault f = store_fault_of(cm->srv->store, rc);

    atomic_store(&cm->srv->m->health.commit_fail_rc, rc);
    atomic_store(&cm->srv->m->health.commit_fail_ms, util_now_ms());
    if (f == STORE_FAULT_FULL) {
        if (!cm->full)
            log_event(LOG_LVL_ERROR, "storage_full", "storage full; writes are refused",
                      LOG_STR("stage", stage), LOG_STR("reason", mdb_strerror(rc)),
                      LOG_INT("errno", rc > 0 ? rc : 0));
        cm->full = true;
        return HITLQ_ST_RESOURCE_EXHAUSTED;
    }
    if (!cm->dead)
        log_event(LOG_LVL_ERROR, "storage_failure", "fatal storage error; stopping",
                  LOG_STR("stage", stage), LOG_STR("reason", mdb_strerror(rc)),
                  LOG_INT("errno", rc > 0 ? rc : 0));
    cm->dead = true;
    *fatal_rc = rc != 0 ? rc : EIO;
    return HITLQ_ST_INTERNAL;
}

/* Commit thread: a write committed; a full state ends. */
static void
commit_fits(struct commit *cm)
{
    store_fault_of(cm->srv->store, 0);
    if (cm->full)
        log_event(LOG_LVL_INFO, "storage_recovered", "a write fitted again; writes accepted");
    cm->full = false;
}

/* Commit thread: applies a batch's ops inside a new write transaction.
 * Returns 0 with *txnp open (for the caller to commit), or -1 when
 * the batch has already been failed (no transaction left open). */
static int
commit_stage(struct commit *cm, struct batch *b, MDB_txn **txnp)
{
    struct store *st = cm->srv->store;
    uint64_t now = util_now_ms();
    MDB_txn *txn;
    int rc, fail = 0;

    if (cm->dead) {
        batch_fail(b, HITLQ_ST_INTERNAL, "storage failed; nothing in this batch was stored");
        return -1;
    }
    rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc != 0) {
        log_event(LOG_LVL_ERROR, "commit_failed", "write transaction not begun",
                  LOG_STR("stage", "txn_begin"), LOG_STR("reason", mdb_strerror(rc)),
                  LOG_UINT("batch", b->n));
        fail = commit_fault(cm, rc, "txn_begin", &b->fatal_rc);
        batch_fail(b, fail, fail == HITLQ_ST_RESOURCE_EXHAUSTED
                   ? "storage full; nothing in this batch was stored"
                   : "storage failed; nothing in this batch was stored");
        return -1;
    }
    metrics_feed_reset(cm->srv->feed);                 /* nothing staged yet */
    if (cm->srv->audit != NULL) {
        audit_txn_begin(cm->srv->audit, txn);
        fail = audit_persist(cm->srv->audit, txn);
    }
    if (!fail)
        fail = drift_batch_begin(cm->srv, txn, now);   /* closes ended windows */
    for (struct op *op = b->head; op && !fail; op = op->next) {
        op->status = op->cls->apply(op, cm->srv, txn, now, &b->fx);
        if (op->status == HITLQ_ST_INTERNAL || op->status == HITLQ_ST_RESOURCE_EXHAUSTED) {
            fail = op->status;
            break;
        }
    }
    if (!fail)
        fail = drift_batch_end(cm->srv, txn);          /* the batch's input counts */
    if (!fail)
        fail = store_clock_save(st, txn, now);         /* the restart floor */
    if (fail) {
        drift_batch_abort(cm->srv);
        metrics_feed_reset(cm->srv->feed);
        mdb_txn_abort(txn);
        if (cm->srv->audit != NULL)
            audit_txn_abort(cm->srv->audit);
        log_event(LOG_LVL_ERROR, "commit_failed", "batch aborted; nothing in it was stored",
                  LOG_STR("stage", "apply"), LOG_STR("reason", hitlq_status_str(fail)),
                  LOG_UINT("batch", b->n));
        if (fail == HITLQ_ST_RESOURCE_EXHAUSTED)   /* a put found the map full */
            commit_fault(cm, MDB_MAP_FULL, "apply", &b->fatal_rc);
        batch_fail(b, fail, "write refused; nothing in this batch was stored");
        queue_fx_clear(&b->fx);
        return -1;
    }
    b->next_timer = queue_next_timer(st, txn);
    *txnp = txn;
    return 0;
}

/* Commit thread: hands a processed batch back to the loop thread, which
 * sends the replies and frees the batch and its ops.  The commit thread
 * must not touch b (or any of its ops) after this. */
static void
commit_hand_back(struct commit *cm, struct batch *b)
{
    uint64_t one = 1;

    pthread_mutex_lock(&cm->mu);
    if (cm->done_tail)
        cm->done_tail->next = b;
    else
        cm->done_head = b;
    cm->done_tail = b;
    if (write(cm->efd, &one, sizeof(one)) < 0)
        log_error("commit: eventfd write: %s", strerror(errno));
    pthread_mutex_unlock(&cm->mu);
}

/* Commit thread: an empty batch that asks the loop thread to stop the
 * server (a fatal error outside a batch: checkpoint, probe). */
static void
commit_hand_back_fatal(struct commit *cm, int rc)
{
    struct batch *b = calloc(1, sizeof(*b));

    if (b == NULL) {
        log_error("commit: out of memory; storage failed (%s)", mdb_strerror(rc));
        abort();       /* cannot tell the loop thread: stop loudly anyway */
    }
    b->fatal_rc = rc;
    commit_hand_back(cm, b);
}

/* Commit thread: the outcome of a durable commit for /readyz and the
 * commit metrics (n ops, started at t0 ns). */
static void
commit_note(struct commit *cm, int rc, size_t n, uint64_t t0)
{
    struct srv_metrics *sm = cm->srv->m;

    if (rc == 0) {
        atomic_store(&sm->health.commit_ok_ms, util_now_ms());
        metric_observe(sm->commit_s, (double)(util_mono_ns() - t0) / 1e9);
        if (n > 0)
            metric_observe(sm->batch_items, (double)n);
    } else {
        atomic_store(&sm->health.commit_fail_rc, rc);
        atomic_store(&sm->health.commit_fail_ms, util_now_ms());
    }
}

/* Commit thread, idle, asked by commit_probe: one small durable write. */
static void
commit_do_probe(struct commit *cm)
{
    MDB_txn *txn = NULL;
    uint64_t t0 = util_mono_ns(), now = util_now_ms();
    MDB_val k = { 11, (void *)"ready_probe" }, v = { sizeof(now), &now };
    int rc, fatal = 0;

    if (cm->dead)
        return;
    rc = mdb_txn_begin(cm->srv->store->env, NULL, 0, &txn);
    if (rc == 0 && (rc = mdb_put(txn, cm->srv->store->meta, &k, &v, 0)) != 0)
        mdb_txn_abort(txn);
    else if (rc == 0)
        rc = mdb_txn_commit(txn);
    commit_note(cm, rc, 0, t0);
    if (rc == 0)
        commit_fits(cm);
    else if (commit_fault(cm, rc, "probe", &fatal) != HITLQ_ST_RESOURCE_EXHAUSTED)
        commit_hand_back_fatal(cm, fatal);
}

void
commit_probe(struct commit *cm)
{
    pthread_mutex_lock(&cm->mu);
    if (!cm->probe) {
        cm->probe = true;
        pthread_cond_signal(&cm->cv);
    }
    pthread_mutex_unlock(&cm->mu);
}

#ifndef HITLQ_UNSAFE_ACK_BEFORE_COMMIT
/* Commit thread: commits the transaction commit_stage left open. */
static void
commit_txn(struct commit *cm, struct batch *b, MDB_txn *txn)
{
    uint64_t t0 = util_mono_ns();
    int rc = mdb_txn_commit(txn);
    uint64_t next;

    commit_note(cm, rc, b->n, t0);
    if (rc == 0)
        metrics_feed_apply(cm->srv->feed);   /* durable: the events count now */
    else
        metrics_feed_reset(cm->srv->feed);
    if (rc == 0 && cm->srv->audit != NULL)
        b->cp_new = audit_after_commit(cm->srv->audit, util_now_ms(), &next);
    if (b->cp_new)
        atomic_store(&cm->srv->m->health.cp_ok_ms, util_now_ms());
    if (rc == 0)
        commit_fits(cm);
    if (rc != 0) {
        int st;

        if (cm->srv->audit != NULL)
            audit_txn_abort(cm->srv->audit);
        drift_batch_abort(cm->srv);
        log_event(LOG_LVL_ERROR, "commit_failed", "write transaction not committed",
                  LOG_STR("stage", "txn_commit"), LOG_STR("reason", mdb_strerror(rc)),
                  LOG_UINT("batch", b->n), LOG_BOOL("map_full", rc == MDB_MAP_FULL));
        /* e.g. EIO from the sync: fatal, never retried */
        st = commit_fault(cm, rc, "txn_commit", &b->fatal_rc);
        batch_fail(b, st, st == HITLQ_ST_RESOURCE_EXHAUSTED
                   ? "storage full; nothing in this batch was stored"
                   : "commit failed; nothing in this batch was stored");
        queue_fx_clear(&b->fx);
    }
}

/* Commit thread: applies and commits one batch, then hands it back for
 * the replies (durable first, replies after). */
static void
commit_run(struct commit *cm, struct batch *b)
{
    MDB_txn *txn;

    if (commit_stage(cm, b, &txn) == 0)
        commit_txn(cm, b, txn);
    commit_hand_back(cm, b);
}
#else
/*
 * !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
 * !!  DELIBERATELY BROKEN: TEST-ONLY NEGATIVE CONTROL.  NEVER SHIP THIS.  !!
 * !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
 *
 * HITLQ_UNSAFE_ACK_BEFORE_COMMIT is defined only by the Makefile rule for
 * build/test/hitlqd-unsafe (docs/RELIABILITY.md §3 T1, "negative controls ...
 * must FAIL"): it breaks the one rule this file exists for and sends the
 * replies of a batch BEFORE mdb_txn_commit, then commits ~30 ms later, so
 * a SIGKILL in that window loses acknowledged writes.  tests/e2e/test_crash.c
 * runs its crash-loop checker against that binary and requires it to
 * report lost > 0, which shows the checker can see loss at all.
 *
 * Ownership: once handed back, the batch and its ops belong to the loop
 * thread (which frees them), so everything the delayed commit needs (the
 * open transaction) is taken before the hand-back and b is not touched
 * after it.  A failed delayed commit cannot un-send the replies: it is
 * logged and the storage marked dead, so later batches fail.
 */
#include <time.h>

#define UNSAFE_ACK_DELAY_MS 30

static void
commit_run(struct commit *cm, struct batch *b)
{
    struct timespec delay = { 0, UNSAFE_ACK_DELAY_MS * 1000000L };
    MDB_txn *txn;
    int rc;

    if (commit_stage(cm, b, &txn) != 0) {
        commit_hand_back(cm, b);       /* refused: nothing was acked */
        return;
    }
    commit_hand_back(cm, b);           /* UNSAFE: replies go out now */
    b = NULL;                          /* no longer ours */
    while (nanosleep(&delay, &delay) != 0 && errno == EINTR)
        ;
    rc = mdb_txn_commit(txn);
    if (rc != 0) {
        log_error("commit (UNSAFE ack-before-commit build): mdb_txn_commit: %s; "
                  "acknowledged writes were lost", mdb_strerror(rc));
        cm->dead = true;
    }
}
#endif

/* Commit thread, no batch pending: signs a due checkpoint (the tree grew
 * and the interval passed, or a receipt waits) and stores it in a small
 * transaction of its own; a new checkpoint is handed back as an empty
 * batch so that the loop serves waiting receipts. */
static void
commit_idle_audit(struct commit *cm)
{
    struct audit *a = cm->srv->audit;
    struct batch *b;
    uint64_t next;
    MDB_txn *txn;
    bool cp_new = audit_after_commit(a, util_now_ms(), &next);

    if (cp_new)
        atomic_store(&cm->srv->m->health.cp_ok_ms, util_now_ms());
    if (audit_has_unpersisted(a) && !cm->dead) {
        int rc = mdb_txn_begin(cm->srv->store->env, NULL, 0, &txn), fatal = 0;

        int st = rc == 0 ? audit_persist(a, txn) : HITLQ_ST_OK;

        if (st != HITLQ_ST_OK) {       /* its put failed: map full or worse */
            mdb_txn_abort(txn);
            rc = st == HITLQ_ST_RESOURCE_EXHAUSTED ? MDB_MAP_FULL : MDB_BAD_TXN;
        } else if (rc == 0) {
            rc = mdb_txn_commit(txn);
        }
        if (rc != 0) {
            /* The checkpoint stays published; only its copy in the history
             * is lost (it is signed again at the next start).  Dropping it
             * keeps the idle loop from retrying at once, forever. */
            log_event(LOG_LVL_ERROR, "commit_failed", "audit checkpoint not stored",
                      LOG_STR("stage", "checkpoint"), LOG_STR("reason", mdb_strerror(rc)));
            audit_drop_unpersisted(a);
            if (commit_fault(cm, rc, "checkpoint", &fatal) != HITLQ_ST_RESOURCE_EXHAUSTED)
                commit_hand_back_fatal(cm, fatal);
        } else {
            commit_fits(cm);
        }
    }
    if (cp_new && (b = calloc(1, sizeof(*b))) != NULL) {
        b->cp_new = true;
        commit_hand_back(cm, b);
    }
}

/* Commit thread, under mu: waits for a batch, the stop flag, or the audit
 * log's signing deadline.  Returns true when the audit work is due. */
static bool
commit_wait(struct commit *cm)
{
    while (cm->pending == NULL && !cm->stop) {
        uint64_t now = util_now_ms();

        if (cm->probe)
            return true;
        uint64_t due = cm->srv->audit != NULL ? audit_due_ms(cm->srv->audit, now) : 0;
        uint64_t drift = drift_due_ms(cm->srv);       /* a window to close */
        struct timespec ts;

        if (drift != 0 && (due == 0 || drift < due))
            due = drift;

        if (due != 0 && due <= now)
            return true;
        if (due == 0) {
            pthread_cond_wait(&cm->cv, &cm->mu);
            continue;
        }
        /* cv runs on CLOCK_MONOTONIC (commit_start): a step of the wall
         * clock neither stalls nor hurries the checkpoint cadence */
        uint64_t at = util_mono_ns() + (due - now) * 1000000u;
        ts.tv_sec = (time_t)(at / 1000000000u);
        ts.tv_nsec = (long)(at % 1000000000u);
        pthread_cond_timedwait(&cm->cv, &cm->mu, &ts);
    }
    return false;
}

bool
commit_idle(const struct commit *cm)
{
    return cm->ops_out == 0;
}

void
commit_wake(struct commit *cm)
{
    pthread_mutex_lock(&cm->mu);
    pthread_cond_signal(&cm->cv);
    pthread_mutex_unlock(&cm->mu);
}

static void *
commit_main(void *arg)
{
    struct commit *cm = arg;

    pthread_mutex_lock(&cm->mu);
    for (;;) {
        struct batch *b;

        if (commit_wait(cm)) {
            bool probe = cm->probe;

            cm->probe = false;
            pthread_mutex_unlock(&cm->mu);
            if (probe)
                commit_do_probe(cm);
            drift_idle(cm->srv);
            commit_idle_audit(cm);
            pthread_mutex_lock(&cm->mu);
            continue;
        }
        if (cm->pending == NULL)
            break;
        b = cm->pending;
        cm->pending = b->next;
        b->next = NULL;
        pthread_mutex_unlock(&cm->mu);
        commit_run(cm, b);
        pthread_mutex_lock(&cm->mu);
    }
    pthread_mutex_unlock(&cm->mu);
    return NULL;
}

/* Loop thread: a batch came back.  Parked requests that answer before
 * the batch's replies (a new checkpoint) come first; then the ops are
 * finished (replies, parking); then the parked requests that react to
 * what changed (items made ready, results appended), and the timer. */
static void
commit_finish_batch(struct hitlq_server *srv, struct batch *b)
{
    struct op *op = b->head, *next;
    bool failed = op != NULL && op->batch_failed;
    struct park_news news = { .fx = &b->fx, .checkpoint = b->cp_new };

    park_wake(srv->park, PARK_BEFORE_REPLIES, &news);
    if (b->n == 0) {                   /* an audit checkpoint or a fatal error only */
        if (b->fatal_rc != 0)
            server_fail(srv, mdb_strerror(b->fatal_rc));
        free(b);
        return;
    }
    srv->commit->ops_out -= b->n;
    srv->n_batches++;
    srv->n_ops += b->n;
    for (; op; op = next) {
        next = op->next;
        op->next = NULL;
        op->cls->finish(op, srv);
    }
    park_wake(srv->park, PARK_AFTER_REPLIES, &news);
    if (!failed) {
        sla_fx_apply(srv, &b->fx);
        server_arm_timer(srv, b->next_timer);
    }
    queue_fx_clear(&b->fx);
    if (b->fatal_rc != 0)
        server_fail(srv, mdb_strerror(b->fatal_rc));
    free(b);
}

static void
commit_on_done(evutil_socket_t fd, short what, void *arg)
{
    struct commit *cm = arg;
    struct batch *b;
    uint64_t v;

    (void)what;
    if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        log_error("commit: eventfd read: %s", strerror(errno));
    pthread_mutex_lock(&cm->mu);
    b = cm->done_head;
    cm->done_head = cm->done_tail = NULL;
    pthread_mutex_unlock(&cm->mu);
    while (b) {
        struct batch *next = b->next;
        commit_finish_batch(cm->srv, b);
        b = next;
    }
}

/* Hands the staged ops to the commit thread: appended to the last pending
 * batch while that stays within max_batch, else queued as a batch of its
 * own.  Called at the end of an event-loop pass, and as soon as a pass has
 * staged max_batch ops, so that the commit thread works on one batch while
 * the loop thread decodes and scores the next (the two overlap instead of
 * taking turns). */
static void
commit_handover(struct commit *cm)
{
    struct batch *b = cm->staging, *last;

    if (b == NULL)
        return;
    cm->staging = NULL;
    pthread_mutex_lock(&cm->mu);
    for (last = cm->pending; last != NULL && last->next != NULL; last = last->next)
        ;
    if (last != NULL && last->n + b->n <= cm->srv->cfg->max_batch) {
        last->tail->next = b->head;
        last->tail = b->tail;
        last->n += b->n;
        free(b);
    } else if (last != NULL) {
        last->next = b;
    } else {
        cm->pending = b;
    }
    pthread_cond_signal(&cm->cv);
    pthread_mutex_unlock(&cm->mu);
}

static void
commit_on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    commit_handover(arg);
}

void
commit_submit(struct commit *cm, struct op *op)
{
    if (cm->staging == NULL) {
        cm->staging = calloc(1, sizeof(*cm->staging));
        if (cm->staging == NULL) {
            op->status = HITLQ_ST_INTERNAL;
            snprintf(op->errmsg, sizeof(op->errmsg), "out of memory");
            op->cls->finish(op, cm->srv);
            return;
        }
        event_active(cm->flush_ev, EV_TIMEOUT, 0);
    }
    batch_append(cm->staging, op);
    cm->ops_out++;
    if (cm->staging->n >= cm->srv->cfg->max_batch)
        commit_handover(cm);
}

struct commit *
commit_start(struct hitlq_server *srv, char *err, size_t errlen)
{
    struct commit *cm = calloc(1, sizeof(*cm));

    if (cm == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    cm->srv = srv;
    cm->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&cm->mu, NULL);
    {
        pthread_condattr_t ca;

        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&cm->cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    cm->flush_ev = event_new(srv->base, -1, 0, commit_on_flush, cm);
    if (cm->flush_ev != NULL)
        event_priority_set(cm->flush_ev, SERVER_PRIO_LAST);
    cm->done_ev = cm->efd >= 0 ? event_new(srv->base, cm->efd, EV_READ | EV_PERSIST,
                                          commit_on_done, cm) : NULL;
    if (cm->efd < 0 || cm->flush_ev == NULL || cm->done_ev == NULL ||
        event_add(cm->done_ev, NULL) != 0 ||
        pthread_create(&cm->thread, NULL, commit_main, cm) != 0) {
        snprintf(err, errlen, "cannot start the commit thread");
        if (cm->flush_ev)
            event_free(cm->flush_ev);
        if (cm->done_ev)
            event_free(cm->done_ev);
        if (cm->efd >= 0)
            close(cm->efd);
        free(cm);
        return NULL;
    }
    return cm;
}

void
commit_stop(struct commit *cm)
{
    if (cm == NULL)
        return;
    commit_handover(cm);
    pthread_mutex_lock(&cm->mu);
    cm->stop = true;
    pthread_cond_signal(&cm->cv);
    pthread_mutex_unlock(&cm->mu);
    pthread_join(cm->thread, NULL);
    drift_live_free(cm->srv);
    commit_on_done(cm->efd, 0, cm);
    event_free(cm->flush_ev);
    event_free(cm->done_ev);
    close(cm->efd);
    pthread_mutex_destroy(&cm->mu);
    pthread_cond_destroy(&cm->cv);
    free(cm);
}
