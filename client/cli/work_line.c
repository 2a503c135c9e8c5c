/*
 * work_line.c - `hitlq work --plain` and `--json`: the workstation for
 * screen readers and scripts.  Commands come as lines on stdin (typed
 * ahead lines wait until an item is shown); the Enter of a line is its
 * confirmation.  --plain prints each item as `key: value` lines (the
 * facts of work_view.c) and a `> ` prompt, events as `event: text`;
 * --json prints one JSON object per line per item (the CLAIM reply with
 * `lease` as a decimal string) and per event.
 *
 * Commands: an action's key (1-9) or name, `e QUEUE|KEY`, `escalate
 * QUEUE`, `c TAG|KEY`, `root-cause TAG`, `n TEXT`, `note TEXT`, `r`,
 * `release`, `s`, `skip`, `q`, `quit`, `show`.  A resolve or escalate
 * line may end with a note: `approve income checked`.  End of input quits.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "work.h"

static char   in_buf[WORK_NOTE_MAX + 512];
static size_t in_len;

int
work_line_open(struct work *w)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    w->prompted = PH_BUSY;                      /* announce the first wait */
    return 0;
}

static void
plain_fact(void *arg, const char *key, const char *value)
{
    printf("%s: %s\n", key, value);
}

/* The CLAIM reply as one JSON object, lease as a string. */
static void
json_item(struct work *w)
{
    json_t *j = cli_mp_to_json(hitlq_reply_body(w->it.reply));
    char lease[32];

    if (j == NULL)
        return;
    snprintf(lease, sizeof(lease), "%" PRIu64, w->it.lease);
    json_object_set_new(j, "lease", json_string(lease));
    json_object_set_new(j, "event", json_string("item"));
    json_object_set_new(j, "explain_label", json_string(work_explain_label(w->it.explain)));
    json_object_set_new(j, "only_skipped", json_boolean(w->only_skipped));
    cli_json_println(stdout, j);
    json_decref(j);
}

static void line_run(struct work *w);

void
work_line_prompt(struct work *w)
{
    char help[2048];

    if (w->phase == w->prompted)
        return;
    w->prompted = w->phase;
    if (w->phase == PH_WAIT) {
        work_line_event(w, "waiting", w->queue_arg);
        w->prompted = PH_WAIT;
        if (w->stdin_eof)
            line_run(w);                         /* the input ended: quit */
    } else if (w->phase == PH_ITEM) {
        if (w->mode == WORK_PLAIN) {
            printf("keys: %s\n> ", work_help(w, help, sizeof(help)));
            fflush(stdout);
        }
        line_run(w);                             /* lines typed ahead */
    }
}

void
work_line_event(struct work *w, const char *event, const char *text)
{
    json_t *j;

    w->prompted = PH_BUSY;               /* prompt (and run typed lines) again */
    if (w->mode == WORK_PLAIN) {
        printf("%s: %s\n", event, text);
        return;
    }
    j = json_pack("{s:s,s:s}", "event", event, "message", text);
    if (j != NULL && w->have_item)
        json_object_set_new(j, "id", json_integer((json_int_t)w->it.id));
    if (j != NULL)
        cli_json_println(stdout, j);
    json_decref(j);
}

/* Sends decision kind with argument arg; rest (may be "") is its note. */
static void
line_decide(struct work *w, enum work_kind kind, const char *arg, const char *rest)
{
    size_t n = strlen(rest);

    if (n > 0 && (kind == WK_RESOLVE || kind == WK_ESCALATE || kind == WK_COMMENT)) {
        if (n > WORK_NOTE_MAX)
            n = WORK_NOTE_MAX;
        memcpy(w->note, rest, n);
        w->note[n] = '\0';
        w->note_len = n;
        w->note_item = w->it.id;
        if (work_notes_save(w) != 0)
            work_banner(w, "cannot save the note to its file: it is kept in memory only");
    }
    w->pend = kind;
    snprintf(w->pend_arg, sizeof(w->pend_arg), "%s", arg);
    if (kind == WK_QUIT)
        work_quit(w);
    else
        work_send(w);
}

/* A name or a key of list c (digits: the actions' keys). */
static const char *
line_choice(const struct work_choices *c, bool digits, const char *word)
{
    size_t i;
    int k;

    for (i = 0; i < c->n; i++)
        if (strcmp(c->name[i], word) == 0)
            return c->name[i];
    if (strlen(word) == 1 && (k = work_choice_index(digits, c->n, word[0])) >= 0)
        return c->name[k];
    return NULL;
}

/* Splits the first word off line (in place); returns the rest. */
static char *
first_word(char *line)
{
    char *sp = strchr(line, ' ');

    if (sp == NULL)
        return line + strlen(line);
    *sp = '\0';
    return sp + 1 + strspn(sp + 1, " ");
}

/* One command on the item.  False when it means nothing. */
static bool
line_command(struct work *w, char *line)
{
    char *rest = first_word(line);
    const char *a;

    if ((a = line_choice(&w->it.actions, true, line)) != NULL) {
        line_decide(w, WK_RESOLVE, a, rest);
    } else if (strcmp(line, "e") == 0 || strcmp(line, "escalate") == 0) {
        char *note = first_word(rest);

        if ((a = line_choice(&w->it.escalate_to, false, rest)) == NULL && w->it.escalate_to.n > 0)
            return false;
        line_decide(w, WK_ESCALATE, a != NULL ? a : rest, note);
    } else if (strcmp(line, "c") == 0 || strcmp(line, "root-cause") == 0) {
        if ((a = line_choice(&w->it.root_causes, false, rest)) == NULL)
            return false;
        snprintf(w->root_cause, sizeof(w->root_cause), "%s", a);
        work_event(w, "info", "root cause %s: sent with the decision", a);
    } else if ((strcmp(line, "n") == 0 || strcmp(line, "note") == 0) && rest[0] != '\0') {
        line_decide(w, WK_COMMENT, "", rest);
    } else if (strcmp(line, "r") == 0 || strcmp(line, "release") == 0) {
        line_decide(w, WK_RELEASE, "", "");
    } else if (strcmp(line, "s") == 0 || strcmp(line, "skip") == 0) {
        line_decide(w, WK_SKIP, "", "");
    } else if (strcmp(line, "q") == 0 || strcmp(line, "quit") == 0) {
        line_decide(w, WK_QUIT, "", "");
    } else if (strcmp(line, "show") == 0) {
        work_line_item(w);
    } else {
        return false;
    }
    return true;
}

/* Runs the buffered lines while an item is shown (or `q` while waiting). */
static void
line_run(struct work *w)
{
    char *nl;

    while ((nl = memchr(in_buf, '\n', in_len)) != NULL) {
        size_t n = (size_t)(nl - in_buf) + 1;
        char line[sizeof(in_buf)];
        bool quit;

        memcpy(line, in_buf, n - 1);
        line[n - 1] = '\0';
        if (n > 1 && line[n - 2] == '\r')
            line[n - 2] = '\0';
        quit = strcmp(line, "q") == 0 || strcmp(line, "quit") == 0;
        if (w->phase != PH_ITEM && !(w->phase == PH_WAIT && quit))
            return;                              /* typed ahead: wait for the item */
        memmove(in_buf, in_buf + n, in_len - n);
        in_len -= n;
        if (line[0] == '\0')
            continue;
        if (w->phase == PH_WAIT)
            work_quit(w);
        else if (!line_command(w, line))
            work_event(w, "error", "unknown command \"%s\" (keys: 1-9 or an action, e QUEUE, "
                       "c TAG, n TEXT, r, s, q, show)", line);
    }
    if (w->stdin_eof && in_len == 0 && (w->phase == PH_ITEM || w->phase == PH_WAIT))
        work_quit(w);
}

bool
work_line_more(const struct work *w)
{
    return !w->stdin_eof || in_len > 0;
}

void
work_line_item(struct work *w)
{
    if (w->mode == WORK_JSON) {
        json_item(w);
    } else {
        printf("--- item\n");
        work_view(w, plain_fact, NULL);
    }
    w->prompted = PH_BUSY;
    work_line_prompt(w);
}

void
work_line_input(struct work *w)
{
    ssize_t k = read(STDIN_FILENO, in_buf + in_len, sizeof(in_buf) - in_len);

    if (k < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (k <= 0) {
        w->stdin_eof = true;
        event_del(w->in_ev);
        if (in_len > 0 && in_buf[in_len - 1] != '\n' && in_len < sizeof(in_buf))
            in_buf[in_len++] = '\n';
    } else {
        in_len += (size_t)k;
        if (in_len == sizeof(in_buf) && memchr(in_buf, '\n', in_len) == NULL) {
            in_len = 0;
            work_event(w, "error", "input line too long: dropped");
        }
    }
    line_run(w);
}
