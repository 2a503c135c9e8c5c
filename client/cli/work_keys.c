/*
 * work_keys.c - `hitlq work`'s key map, shared by the screen (work_tui.c)
 * and the line modes (work_line.c): one key per decision on the item
 * screen (1-9 then free letters the type's actions, e escalate, r release,
 * s skip, n note, c root cause, + every action in a pick list, q quit), a
 * key per action, escalation target or root cause in the pick steps, and
 * the confirm step (Enter or y confirms, Esc or n cancels).
 */
#include <inttypes.h>
#include <string.h>

#include "work.h"

#define KEY_ESC   27

/* Asks for confirmation of decision kind with argument arg. */
static void
ask(struct work *w, enum work_kind kind, const char *arg)
{
    w->pend = kind;
    if (arg != w->pend_arg)                  /* escalation: the target is already there */
        snprintf(w->pend_arg, sizeof(w->pend_arg), "%s", arg != NULL ? arg : "");
    w->phase = PH_CONFIRM;
    work_ui_refresh(w);
}

void
work_note_begin(struct work *w, enum work_kind after)
{
    if (w->note_len > 0 && w->note_item != w->it.id)
        w->note_item = w->it.id;           /* a kept note, now about this item */
    w->after_note = after;
    w->phase = PH_NOTE;
    work_ui_refresh(w);
}

void
work_note_end(struct work *w, bool accept)
{
    if (!accept) {
        w->phase = PH_ITEM;
        work_ui_refresh(w);
        return;
    }
    w->note_item = w->it.id;
    if (work_notes_save(w) != 0)
        work_banner(w, "cannot save the note to its file: it is kept in memory only");
    if (w->after_note == WK_COMMENT && w->note_len == 0) {
        w->phase = PH_ITEM;
        work_ui_refresh(w);
        return;
    }
    ask(w, w->after_note, w->after_note == WK_ESCALATE ? w->pend_arg : NULL);
}

/* A key on the item screen. */
static bool
item_key(struct work *w, int ch)
{
    int i = work_choice_index(true, w->it.actions.n, ch);

    if (i >= 0) {
        ask(w, WK_RESOLVE, w->it.actions.name[i]);
        return true;
    }
    switch (ch) {
    case 'e':
        if (w->it.escalate_to.n == 0) {
            work_event(w, "info", "no escalation targets for this item type");
            return true;
        }
        w->phase = PH_PICK_ESC;
        break;
    case 'c':
        if (w->it.root_causes.n == 0) {
            work_event(w, "info", "this item type declares no root causes");
            return true;
        }
        w->phase = PH_PICK_RC;
        break;
    case '+':
        if (w->it.actions.n == 0)
            return false;
        w->phase = PH_PICK_ACT;
        break;
    case 'n': work_note_begin(w, WK_COMMENT); return true;
    case 'r': ask(w, WK_RELEASE, NULL); return true;
    case 's': ask(w, WK_SKIP, NULL); return true;
    case 'q': ask(w, WK_QUIT, NULL); return true;
    default:  return false;
    }
    work_ui_refresh(w);
    return true;
}

/* The list a pick step chooses from. */
static const struct work_choices *
pick_list(const struct work *w)
{
    if (w->phase == PH_PICK_ESC)
        return &w->it.escalate_to;
    return w->phase == PH_PICK_ACT ? &w->it.actions : &w->it.root_causes;
}

/* A key in a pick step (action, escalation target or root cause). */
static bool
pick_key(struct work *w, int ch)
{
    const struct work_choices *c = pick_list(w);
    int i = work_choice_index(false, c->n, ch);

    if (ch == KEY_ESC) {
        w->phase = PH_ITEM;
    } else if (i < 0) {
        return false;
    } else if (w->phase == PH_PICK_ACT) {
        ask(w, WK_RESOLVE, c->name[i]);
        return true;
    } else if (w->phase == PH_PICK_RC) {
        snprintf(w->root_cause, sizeof(w->root_cause), "%s", c->name[i]);
        w->phase = PH_ITEM;
        work_event(w, "info", "root cause %s: sent with the decision", w->root_cause);
    } else {
        snprintf(w->pend_arg, sizeof(w->pend_arg), "%s", c->name[i]);
        work_note_begin(w, WK_ESCALATE);    /* the note that goes to the senior */
        return true;
    }
    work_ui_refresh(w);
    return true;
}

bool
work_key(struct work *w, int ch)
{
    switch (w->phase) {
    case PH_ITEM:
        return item_key(w, ch);
    case PH_PICK_ESC:
    case PH_PICK_RC:
    case PH_PICK_ACT:
        return pick_key(w, ch);
    case PH_CONFIRM:
        if (ch == '\n' || ch == '\r' || ch == 'y') {
            if (w->pend == WK_QUIT)
                work_quit(w);
            else
                work_send(w);
        } else if (ch == KEY_ESC || ch == 'n') {
            w->pend = WK_NONE;
            w->phase = PH_ITEM;
            work_ui_refresh(w);
        } else {
            return false;
        }
        return true;
    case PH_WAIT:
        if (ch == 'q') {
            work_quit(w);
            return true;
        }
        return false;
    default:
        return false;
    }
}

/* The help line of a phase into buf. */
const char *
work_help(const struct work *w, char *buf, size_t len)
{
    const struct work_choices *c = pick_list(w);
    size_t i, o = 0;

    buf[0] = '\0';
    switch (w->phase) {
    case PH_ITEM:
        for (i = 0; i < w->it.actions.n && work_choice_key(true, i); i++)
            o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%c %s  ",
                                  work_choice_key(true, i), w->it.actions.name[i]);
        if (i < w->it.actions.n)
            o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "+ all %zu actions  ",
                                  w->it.actions.n);
        snprintf(buf + (o < len ? o : len - 1), o < len ? len - o : 1,
                 "e escalate  c root cause  n note  r release  s skip  q quit");
        break;
    case PH_PICK_ESC:
    case PH_PICK_RC:
    case PH_PICK_ACT:
        for (i = 0; i < c->n && work_choice_key(false, i); i++)
            o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%c %s  ",
                                  work_choice_key(false, i), c->name[i]);
        snprintf(buf + (o < len ? o : len - 1), o < len ? len - o : 1, "Esc cancel");
        break;
    case PH_NOTE:
        snprintf(buf, len, "type the note; Enter finishes, Esc cancels (the note is kept)");
        break;
    case PH_CONFIRM:
        snprintf(buf, len, "Enter/y confirm  Esc cancel");
        break;
    case PH_WAIT:
        snprintf(buf, len, "q quit");
        break;
    default:
        break;
    }
    return buf;
}

/* The question of the confirm step into buf. */
const char *
work_question(const struct work *w, char *buf, size_t len)
{
    const char *rc = w->root_cause;

    switch (w->pend) {
    case WK_RESOLVE:
        snprintf(buf, len, "Resolve item %" PRIu64 " as \"%s\"%s%s%s?", w->it.id, w->pend_arg,
                 rc[0] ? " (root cause " : "", rc, rc[0] ? ")" : "");
        break;
    case WK_ESCALATE:
        snprintf(buf, len, "Escalate item %" PRIu64 " to %s%s?", w->it.id, w->pend_arg,
                 w->note_len > 0 ? " with your note" : " without a note");
        break;
    case WK_RELEASE:
        snprintf(buf, len, "Release item %" PRIu64 " back to its queue?", w->it.id);
        break;
    case WK_SKIP:
        snprintf(buf, len, "Skip item %" PRIu64 " (release it and take another)?", w->it.id);
        break;
    case WK_COMMENT:
        snprintf(buf, len, "Save the note on item %" PRIu64 " (no decision)?", w->it.id);
        break;
    case WK_QUIT:
        snprintf(buf, len, "Quit (item %" PRIu64 " goes back to its queue)?", w->it.id);
        break;
    default:
        buf[0] = '\0';
    }
    return buf;
}
