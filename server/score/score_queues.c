/*
 * score_queues.c - the queues a policy set knows (score.h,
 * scoring_queues): every queue the policy in force names (each type's
 * review queue, hard-rule queues, data-quality queue, QA-sample queue,
 * escalate_to lists) plus the server's dead-letter queue.  ESCALATE sends
 * only to these (unknown_queue otherwise) and CLAIM shows them; and the
 * check of RESOLVE's root_cause against a type's "root_causes".
 */
#include <stdlib.h>
#include <string.h>

#include "score.h"

/* Calls fn(arg, name) for every non-empty queue name type p names. */
static void
score_type_queues(const struct type_policy *p, void (*fn)(void *, const char *), void *arg)
{
    fn(arg, p->queue);
    for (size_t i = 0; i < p->n_hard; i++)
        fn(arg, p->hard[i].queue);
    fn(arg, p->dq_queue);
    fn(arg, p->qa_queue);
    for (size_t i = 0; i < p->n_escalate_to; i++)
        fn(arg, p->escalate_to[i]);
}

struct score_qlist {
    const char **out;
    size_t       cap, n;
    bool         full;
};

/* Adds name to the list unless empty or already there. */
static void
score_qlist_add(void *arg, const char *name)
{
    struct score_qlist *l = arg;

    if (name == NULL || name[0] == '\0')
        return;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->out[i], name) == 0)
            return;
    if (l->n == l->cap) {
        l->full = true;
        return;
    }
    l->out[l->n++] = name;
}

static int
score_qname_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t
scoring_queues(const struct scoring *s, const char *extra, const char **out, size_t cap,
               bool *truncated)
{
    struct score_qlist l = { out, cap, 0, false };

    score_qlist_add(&l, extra);
    for (size_t t = 0; s != NULL && t < scoring_n_types(s); t++)
        score_type_queues(scoring_type_at(s, t), score_qlist_add, &l);
    qsort(out, l.n, sizeof(*out), score_qname_cmp);
    if (truncated != NULL)
        *truncated = l.full;
    return l.n;
}

struct score_qfind {
    const char *name;
    bool        found;
};

static void
score_qfind_one(void *arg, const char *name)
{
    struct score_qfind *f = arg;

    f->found = f->found || (name[0] != '\0' && strcmp(name, f->name) == 0);
}

bool
scoring_queue_known(const struct scoring *s, const char *extra, const char *name)
{
    struct score_qfind f = { name, extra != NULL && strcmp(extra, name) == 0 };

    for (size_t t = 0; s != NULL && !f.found && t < scoring_n_types(s); t++)
        score_type_queues(scoring_type_at(s, t), score_qfind_one, &f);
    return f.found;
}

bool
score_root_cause_declared(const struct type_policy *p, const char *root_cause)
{
    if (p->n_root_causes == 0)
        return true;
    for (size_t i = 0; i < p->n_root_causes; i++)
        if (strcmp(root_cause, p->root_causes[i]) == 0)
            return true;
    return false;
}
