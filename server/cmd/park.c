/*
 * park.c - the one mechanism for parked requests (park.h): the table of
 * kinds, one list per kind, and the walks that wake, cancel, drain and
 * drop their entries.
 */
#include <stdlib.h>

#include "park.h"

/* Every kind of parked request, in the order they are woken (within a
 * phase), cancelled and dropped.  A new kind: define its struct park_kind
 * in its command file and add its name here. */
#define PARK_KINDS(X) X(claim_parking) X(receipt_parking) X(watch_parking)

#define PARK_DECLARE(k) extern const struct park_kind k;
#define PARK_ADDRESS(k) &k,
PARK_KINDS(PARK_DECLARE)
static const struct park_kind *const park_kinds[] = { PARK_KINDS(PARK_ADDRESS) };

#define PARK_N_KINDS (sizeof(park_kinds) / sizeof(park_kinds[0]))

struct park {
    struct hitlq_server *srv;                  /* borrowed: the owner */
    struct park_list     lists[PARK_N_KINDS];  /* lists[i] holds park_kinds[i]'s */
};

struct park *
park_new(struct hitlq_server *srv)
{
    struct park *p = calloc(1, sizeof(*p));

    if (p != NULL)
        p->srv = srv;
    return p;
}

void
park_free(struct park *p)
{
    park_drop_all(p);
    free(p);
}

struct park_list *
park_list(struct park *p, const struct park_kind *k)
{
    for (size_t i = 0; i < PARK_N_KINDS; i++)
        if (park_kinds[i] == k)
            return &p->lists[i];
    return NULL;
}

void
park_append(struct park_list *l, struct park_entry *e, struct conn *c)
{
    e->conn = c;
    e->next = NULL;
    e->prev = l->tail;
    if (l->tail)
        l->tail->next = e;
    else
        l->head = e;
    l->tail = e;
}

void
park_push(struct park_list *l, struct park_entry *e, struct conn *c)
{
    e->conn = c;
    e->prev = NULL;
    e->next = l->head;
    if (l->head)
        l->head->prev = e;
    else
        l->tail = e;
    l->head = e;
}

void
park_unlink(struct park_list *l, struct park_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        l->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l->tail = e->prev;
    e->next = e->prev = NULL;
}

struct park_entry *
park_take_all(struct park_list *l)
{
    struct park_entry *e = l->head;

    l->head = l->tail = NULL;
    return e;
}

struct park_entry *
park_find(const struct park_list *l, const struct conn *c)
{
    for (struct park_entry *e = l->head; e != NULL; e = e->next)
        if (e->conn == c)
            return e;
    return NULL;
}

void
park_wake(struct park *p, enum park_phase phase, const struct park_news *news)
{
    for (size_t i = 0; i < PARK_N_KINDS; i++)
        if (park_kinds[i]->phase == phase && park_kinds[i]->wake != NULL)
            park_kinds[i]->wake(p->srv, &p->lists[i], news);
}

void
park_cancel(struct park *p, struct conn *c)
{
    for (size_t i = 0; i < PARK_N_KINDS; i++) {
        struct park_entry *e, *next;

        if (park_kinds[i]->cancel == NULL)
            continue;
        for (e = p->lists[i].head; e != NULL; e = next) {
            next = e->next;
            if (e->conn != c)
                continue;
            park_unlink(&p->lists[i], e);
            park_kinds[i]->cancel(p->srv, e);
        }
    }
}

void
park_drain(struct park *p, struct conn *c)
{
    for (size_t i = 0; i < PARK_N_KINDS; i++) {
        struct park_entry *e, *next;

        if (park_kinds[i]->drain == NULL)
            continue;
        for (e = p->lists[i].head; e != NULL; e = next) {
            next = e->next;
            if (e->conn == c)
                park_kinds[i]->drain(p->srv, e);
        }
    }
}

void
park_drop_all(struct park *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < PARK_N_KINDS; i++) {
        while (p->lists[i].head != NULL) {
            struct park_entry *e = p->lists[i].head;

            park_unlink(&p->lists[i], e);
            park_kinds[i]->drop(e);
        }
    }
}
