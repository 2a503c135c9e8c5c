/*
 * park.h - parked requests: requests answered after their own commit (a
 * CLAIM waiting for work, a SUBMIT receipt or AUDIT_CHECKPOINT waiting for
 * a checkpoint, a WATCH stream).  Each kind is a struct park_kind defined
 * in its command file and named once in park.c's PARK_KINDS; this file
 * gives every kind a list and runs the kinds' operations when a batch has
 * committed (park_wake), when a connection closes (park_cancel), when a
 * connection's output drains (park_drain) and at shutdown
 * (park_drop_all).  Loop thread only.  park_cancel, park_drain and
 * park_find walk the lists of the kinds concerned (cost: their entries;
 * a kind with no cancel or no drain is skipped).
 */
#ifndef HITLQ_PARK_H
#define HITLQ_PARK_H

#include <stdbool.h>
#include <stddef.h>

struct conn;
struct hitlq_server;
struct queue_fx;
struct park;

/* Embedded in whatever a kind parks (PARK_ENTRY_OF gets it back). */
struct park_entry {
    struct park_entry *prev, *next;   /* its kind's list */
    struct conn       *conn;          /* the connection it answers on, or NULL
                                       * (the kind holds the reference) */
};

#define PARK_ENTRY_OF(e, type, member) \
    ((type *)(void *)((char *)(e) - offsetof(type, member)))

struct park_list {
    struct park_entry *head, *tail;
};

/* What a committed batch changed. */
struct park_news {
    const struct queue_fx *fx;        /* queues given ready items (n_woken,
                                       * wake_all); results appended (results) */
    bool                   checkpoint;   /* a new audit checkpoint was published */
};

/* When a kind's wake runs, relative to the replies of the batch's ops. */
enum park_phase {
    PARK_BEFORE_REPLIES,   /* answered before the batch's own replies */
    PARK_AFTER_REPLIES,    /* sees what the batch's ops parked */
};

struct park_kind {
    const char     *name;
    enum park_phase phase;
    /* A batch came back: take off l (park_unlink, park_take_all) and
     * answer or re-run what news allows.  May be NULL. */
    void (*wake)(struct hitlq_server *srv, struct park_list *l, const struct park_news *news);
    /* e's connection is closing; e is already off its list: release it.
     * NULL: the kind's entries stay until woken (they answer nobody). */
    void (*cancel)(struct hitlq_server *srv, struct park_entry *e);
    /* e's connection's output drained to half its cap: it may push more.
     * May be NULL. */
    void (*drain)(struct hitlq_server *srv, struct park_entry *e);
    /* Shutdown: e is already off its list: release it without a reply. */
    void (*drop)(struct park_entry *e);
};

/* The lists of every kind in PARK_KINDS (all empty), for srv.  NULL when
 * out of memory. */
struct park *park_new(struct hitlq_server *srv);
/* Drops what is left (park_drop_all) and frees p.  NULL is a no-op. */
void park_free(struct park *p);

/* The list of kind k (which must be in PARK_KINDS). */
struct park_list *park_list(struct park *p, const struct park_kind *k);
/* Parks e for connection c (may be NULL) at the end of l (FIFO). */
void park_append(struct park_list *l, struct park_entry *e, struct conn *c);
/* Parks e for connection c (may be NULL) at the head of l. */
void park_push(struct park_list *l, struct park_entry *e, struct conn *c);
/* Takes e off l. */
void park_unlink(struct park_list *l, struct park_entry *e);
/* Empties l and returns its entries, first to last, still chained by
 * next (whoever walks them must read next before re-parking one). */
struct park_entry *park_take_all(struct park_list *l);
/* The first entry of l parked for c, or NULL. */
struct park_entry *park_find(const struct park_list *l, const struct conn *c);

/* A batch came back from the commit thread: runs the wake of every kind
 * of this phase, in PARK_KINDS order.  commit.c calls it with
 * PARK_BEFORE_REPLIES before finishing the batch's ops, and with
 * PARK_AFTER_REPLIES after. */
void park_wake(struct park *p, enum park_phase phase, const struct park_news *news);
/* c is closing: every entry parked for c by a kind with a cancel is taken
 * off and cancelled. */
void park_cancel(struct park *p, struct conn *c);
/* c's output drained: runs drain for each entry parked for c. */
void park_drain(struct park *p, struct conn *c);
/* Shutdown: takes every entry off and drops it (PARK_KINDS order; each
 * kind's list first to last).  NULL is a no-op. */
void park_drop_all(struct park *p);

#endif
