/*
 * work_tui.c - `hitlq work`'s ncurses screen: a title line, the warning
 * banner, the status line, the item (work_view.c; fields in two columns),
 * the note editor or the confirm question, and the help line with the
 * key map.  Redrawn every second (countdowns) and after every event.  The
 * line modes (--plain, --json) are in work_line.c; both front-ends are
 * reached through the work_ui_* calls, which dispatch on w->mode.
 */
#include <ctype.h>
#include <curses.h>
#include <string.h>

#include "work.h"

#define KEY_ESC_CH 27
#define CTRL_U     21

struct draw {
    int row, col, half;                 /* next free row; field column state */
};

/* Prints s at (row, 0) cut to the screen width. */
static void
put_line(int row, int attr, const char *s)
{
    if (row < 0 || row >= LINES)
        return;
    attron(attr);
    mvaddnstr(row, 0, s, COLS);
    attroff(attr);
}

static void
draw_fact(void *arg, const char *key, const char *value)
{
    struct draw *d = arg;
    char line[1024];

    if (strncmp(key, "field.", 6) == 0) {          /* two columns */
        snprintf(line, sizeof(line), "  %-20s %s", key + 6, value);
        if (d->row < LINES - 3)
            mvaddnstr(d->row, d->half ? COLS / 2 : 0, line, COLS / 2 - 1);
        d->row += d->half;
        d->half = !d->half;
        return;
    }
    if (d->half) {
        d->row++;
        d->half = 0;
    }
    snprintf(line, sizeof(line), "%-15s %s", key, value);
    if (d->row < LINES - 3)
        put_line(d->row, strcmp(key, "recommendation") == 0 ? A_BOLD : 0, line);
    d->row++;
}

/* The bottom two lines: the editor or question, and the help line. */
static void
draw_bottom(struct work *w)
{
    char buf[WORK_NOTE_MAX + 64];

    if (w->phase == PH_NOTE) {
        snprintf(buf, sizeof(buf), "note> %s_", w->note);
        /* the end of a long note stays visible */
        put_line(LINES - 2, A_BOLD, strlen(buf) > (size_t)COLS ? buf + strlen(buf) - COLS : buf);
    } else if (w->phase == PH_CONFIRM) {
        put_line(LINES - 2, A_BOLD | A_UNDERLINE, work_question(w, buf, sizeof(buf)));
    } else if (w->phase == PH_PICK_ESC || w->phase == PH_PICK_RC || w->phase == PH_PICK_ACT) {
        put_line(LINES - 2, A_BOLD, w->phase == PH_PICK_ESC ? "escalate to which queue?"
                                    : w->phase == PH_PICK_RC ? "which root cause?"
                                                             : "resolve with which action?");
    }
    put_line(LINES - 1, A_REVERSE, work_help(w, buf, sizeof(buf)));
}

static void
tui_draw(struct work *w)
{
    struct draw d = { .row = 3 };
    char buf[1200];
    size_t i, o = 0;

    erase();
    for (i = 0; i < w->nq; i++)
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? "," : "", w->queues[i]);
    snprintf(buf + o, sizeof(buf) - o, "  -  hitlq work - %llu decided",
             (unsigned long long)w->decided);
    put_line(0, A_BOLD, buf);
    if (w->banner[0] != '\0')
        put_line(1, A_REVERSE | A_BOLD, w->banner);
    put_line(2, 0, w->status);
    if (w->have_item && w->phase != PH_WAIT)
        work_view(w, draw_fact, &d);
    else if (w->phase == PH_WAIT)
        put_line(4, A_BOLD, "waiting for work on the queues above ...");
    draw_bottom(w);
    refresh();
}

/* A key while the note editor is open. */
static void
note_key(struct work *w, int ch)
{
    if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        work_note_end(w, true);
    } else if (ch == KEY_ESC_CH) {
        work_note_end(w, false);
    } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        if (w->note_len > 0)
            w->note[--w->note_len] = '\0';
    } else if (ch == CTRL_U) {
        w->note_len = 0;
        w->note[0] = '\0';
    } else if (ch >= 32 && ch < 256 && ch != 127 && w->note_len < WORK_NOTE_MAX) {
        w->note[w->note_len++] = (char)ch;   /* UTF-8 bytes pass through */
        w->note[w->note_len] = '\0';
    }
}

static void
tui_input(struct work *w)
{
    int ch;

    while ((ch = getch()) != ERR) {
        if (ch == KEY_RESIZE)
            continue;
        if (w->phase == PH_NOTE)
            note_key(w, ch);
        else
            (void)work_key(w, ch == KEY_ENTER ? '\n' : ch);
        if (w->phase == PH_QUIT)
            break;
    }
    tui_draw(w);
}

int
work_ui_open(struct work *w)
{
    if (w->mode != WORK_TUI)
        return work_line_open(w);
    if (initscr() == NULL)
        return -1;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    return 0;
}

void
work_ui_close(struct work *w)
{
    if (w->mode != WORK_TUI)
        return;
    endwin();
    if (w->banner[0] != '\0')
        fprintf(stderr, "hitlq: work: %s\n", w->banner);
    fprintf(stderr, "hitlq: work: %llu decided this session\n", (unsigned long long)w->decided);
}

void
work_ui_item(struct work *w)
{
    if (w->mode != WORK_TUI)
        work_line_item(w);
    else
        tui_draw(w);
}

void
work_ui_refresh(struct work *w)
{
    if (w->mode == WORK_TUI)
        tui_draw(w);
    else
        work_line_prompt(w);
}

void
work_ui_event(struct work *w, const char *event, const char *text)
{
    if (w->mode != WORK_TUI)
        work_line_event(w, event, text);
    else if (strcmp(event, "warning") != 0)
        tui_draw(w);
}

void
work_ui_input(struct work *w)
{
    if (w->mode != WORK_TUI)
        work_line_input(w);
    else
        tui_input(w);
}
