/*
 * work.h - `hitlq work`, the specialist's workstation: one libevent loop
 * over stdin and one asynchronous server connection (include/hitlq_async.h).
 * It claims the next item itself, keeps the lease alive with EXTEND
 * heartbeats while the person reads, and sends one decision per key.
 *
 * The files: work_main.c (options, the loop, connection), work_flow.c
 * (requests and replies: claim, heartbeat, decisions, lease loss),
 * work_item.c (the CLAIM reply read into struct work_item, time
 * formatting), work_view.c (the facts shown, in order), work_keys.c (the
 * key map), work_notes.c (the unsent note's file), work_conn.c (the
 * connection: reconnect with backoff, quitting with every lease given
 * back), work_help.c (`hitlq work --help`), work_tui.c (the
 * ncurses screen and its keys), work_line.c (--plain and --json: line
 * commands in, `key: value` lines or JSON objects out).
 */
#ifndef HITLQ_WORK_H
#define HITLQ_WORK_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "hitlq_async.h"

struct event_base;
struct event;

#define WORK_MAX_QUEUES  16
#define WORK_MAX_CHOICES 66          /* actions (policy: <= 64 + 2) / targets / root causes */
#define WORK_NAME        129
#define WORK_NOTE_MAX    4096        /* PROTOCOL.md: note str <= 4096 */
#define WORK_MAX_SKIPPED 1024        /* ids skipped this session */
#define WORK_MAX_HELD    8           /* skipped items held while claiming another */
#define WORK_CMD_KEYS    "cenqrs"    /* the item screen's command letters */

enum work_mode { WORK_TUI, WORK_PLAIN, WORK_JSON };

/* What the person is doing on the current item. */
enum work_phase {
    PH_WAIT,          /* a CLAIM is in flight: "waiting for work" */
    PH_ITEM,          /* an item is shown; keys decide */
    PH_PICK_ESC,      /* `e`: choose the escalation target by key */
    PH_PICK_RC,       /* `c`: choose the root cause by key */
    PH_PICK_ACT,      /* `+`: choose any action from the full list */
    PH_NOTE,          /* `n` (or after `e`): typing the note */
    PH_CONFIRM,       /* a decision waits for Enter/y (Esc cancels) */
    PH_BUSY,          /* the decision's request is in flight */
    PH_QUIT           /* leaving: the lease is being released */
};

enum work_kind { WK_NONE, WK_RESOLVE, WK_ESCALATE, WK_RELEASE, WK_SKIP, WK_COMMENT, WK_QUIT };

/* One list of names from the CLAIM reply, each with its key. */
struct work_choices {
    size_t n;
    char   name[WORK_MAX_CHOICES][WORK_NAME];
};

/* The item on screen, read from its CLAIM reply (work_item.c). */
struct work_item {
    hitlq_reply *reply;               /* owned; fields, reasons, notes are read from it */
    uint64_t     id, lease, expires_ms, deadline_ms, attempts, priority;
    char         queue[WORK_NAME], type[WORK_NAME], key[WORK_NAME], route[32];
    char         model[WORK_NAME], explain[16], recommendation[WORK_NAME];
    bool         has_score, has_band;
    bool         blind;               /* four-eyes: the model is hidden (score, recommendation nil) */
    double       score, band_min;
    uint64_t     band;
    struct work_choices actions, escalate_to, root_causes;
    struct {                          /* the SLA clock (reply key "sla"; has: sent) */
        bool     has, running;
        uint64_t budget_ms, used_ms, level;
        char     waiting_on[WORK_NAME];
    } sla;
};

/* A request about one item, the privdata of its reply callback. */
struct work;
struct work_req {
    struct work   *w;
    uint64_t       id, lease;
    int            kind;          /* enum work_kind */
    bool           with_note;     /* the request carried the kept note */
};

struct work {
    struct cli        *cl;
    enum work_mode     mode;
    const char        *queues[WORK_MAX_QUEUES];
    size_t             nq;
    char               qlist[1024];          /* the QUEUE[,QUEUE] argument, split */
    const char        *queue_arg;            /* the argument as given */
    uint32_t           lease_ms, wait_ms;
    uint64_t           max_hold_ms;          /* stop extending after this hold */
    struct event_base *base;
    struct event      *tick, *in_ev;
    hitlq_async       *ac;

    enum work_phase    phase;
    struct work_item   it;
    bool               have_item;
    uint64_t           claimed_ms;           /* wall ms when this item came */
    uint64_t           lease_len_ms;         /* each heartbeat extends by this */
    uint64_t           next_beat_ms;         /* next EXTEND due (0: none) */
    bool               beat_inflight, beat_capped;

    enum work_kind     pend;                 /* decision waiting for confirm */
    char               pend_arg[WORK_NAME];  /* outcome / target queue */
    char               root_cause[WORK_NAME];
    char               note[WORK_NOTE_MAX + 1];   /* typed, not yet acknowledged */
    size_t             note_len;
    uint64_t           note_item;            /* the item it was typed for (0: none) */
    enum work_kind     after_note;           /* what the editor leads to */

    char               banner[512];          /* warning shown until cleared */
    char               status[512];          /* the last thing that happened */
    uint64_t           skipped[WORK_MAX_SKIPPED];
    size_t             n_skipped;
    struct work_item   held[WORK_MAX_HELD];  /* skipped items claimed again, not shown */
    size_t             n_held;
    bool               only_skipped;         /* the item shown was skipped before */
    uint64_t           decided;              /* decisions acknowledged */
    int                exit_code;
    bool               stdin_eof;
    enum work_phase    prompted;             /* line modes: phase last announced */
    bool               closing;              /* the context is being freed */
    bool               quit_after;           /* `q` while a decision was in flight */

    /* the connection (work_conn.c) */
    struct event      *retry_ev;             /* the next reconnect attempt */
    uint32_t           retry_ms;             /* its backoff (doubles, capped) */
    unsigned           retries;              /* attempts since the loss */
    char               lost_what[64];        /* the request or state it was lost in */
    bool               resuming;             /* reconnected: the EXTEND re-takes the item */
    bool               claim_inflight;       /* a CLAIM awaits its reply */
    bool               claim_long;           /* ... and it is a long poll (wait_ms > 0) */
    unsigned           quit_waits;           /* releases awaited before stopping */
    struct event      *quit_ev;              /* bounds the wait for them */
};

/* ---- work_main.c ------------------------------------------------------------ */

/* `hitlq work QUEUE[,QUEUE] [--lease-ms N] [--max-hold SEC] [--wait SEC]
 * [--plain | --json]`: runs the workstation until `q`, end of input or a
 * lost connection.  Returns a CLI_EXIT_* code. */
int cli_work(struct cli *cl, int argc, char **argv);
/* Ends the loop after the current callbacks (the lease must be released
 * first: see work_quit). */
void work_stop(struct work *w, int exit_code);
/* Wall-clock milliseconds. */
uint64_t work_now_ms(void);

/* ---- work_flow.c ------------------------------------------------------------ */

/* Sends a CLAIM (long poll); the phase becomes PH_WAIT.  0 or -1 (the
 * request could not be queued: the loop is stopped).  While offline it
 * only waits: the reconnect claims. */
int  work_claim(struct work *w, uint32_t wait_ms);
/* Sends an EXTEND of the current item now (after a reconnect). */
void work_beat_now(struct work *w);
/* Once a second: EXTEND heartbeats, the lease warning, local lease loss. */
void work_tick(struct work *w);
/* Sends the confirmed decision w->pend (with the kept note). */
void work_send(struct work *w);
/* `q`: releases the lease (if any) and stops once the server answered. */
void work_quit(struct work *w);
/* Sets the banner (printf format); the front-end shows it. */
void work_banner(struct work *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets the status line and tells the front-end (event name for --json). */
void work_event(struct work *w, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- work_item.c ------------------------------------------------------------ */

/* Reads a CLAIM reply (taken: owned by it afterwards) into it.  0, or -1
 * when the reply has no id or lease (it is then freed). */
int  work_item_read(struct work_item *it, hitlq_reply *r);
void work_item_clear(struct work_item *it);
/* The key of choice i in a list: '1'..'9', then letters: for actions on
 * the item screen (digits true) the letters it does not use (WORK_CMD_KEYS
 * skipped), in pick lists 'a'..'z' then 'A'..'Z'.  0: no key (an action
 * without one is chosen in the `+` pick list). */
int  work_choice_key(bool digits, size_t i);
/* The index of key ch in a list of n choices, or -1. */
int  work_choice_index(bool digits, size_t n, int ch);
/* A readable name of the explanation method ("exact TreeSHAP" ...). */
const char *work_explain_label(const char *explain);
/* Local time "YYYY-MM-DD HH:MM:SS TZ" of epoch ms into buf. */
const char *work_local_time(uint64_t ms, char *buf, size_t len);
/* Relative time "in 3h12m" / "5m02s ago" from now_ms to ms into buf. */
const char *work_relative(uint64_t ms, uint64_t now_ms, char *buf, size_t len);

/* ---- work_view.c ------------------------------------------------------------ */

/* Receives the item's facts one by one, in screen order: key ("item",
 * "sla_deadline", "sla" (the clock: used share, paused), "lease_expires", "score", "recommendation", "band",
 * "explanation", "reason" (repeated), "field.NAME", "history_note"
 * (repeated), "actions", "escalate_to", "root_causes", "note" ...) and its
 * text.  Both are valid during the call only. */
typedef void work_view_fn(void *arg, const char *key, const char *value);
/* Calls fn for each fact of the current item (w->have_item must hold). */
void work_view(const struct work *w, work_view_fn *fn, void *arg);

/* ---- work_conn.c ------------------------------------------------------------ */

/* Connects (blocking handshake), attaches to w->base and installs the
 * disconnect callback; w->ac is the new context.  0, or -1 (w->ac NULL,
 * the reason in w->status). */
int  work_conn_open(struct work *w);
/* The connection behind ac ended (a callback got NULL, or the disconnect
 * callback ran) while doing `what`: unless ac is an old context or the
 * session is leaving, frees it, keeps the item, the pending decision and
 * the note, shows "reconnecting..." and retries with backoff; then the
 * current item is re-taken with an EXTEND (or the next one claimed). */
void work_conn_lost(struct work *w, hitlq_async *ac, const char *what);
/* Releases every lease held (the held skipped items, an item a CLAIM in
 * flight brings) and stops once the server answered, bounded by a grace
 * timer.  Called by work_quit when no item is on screen. */
void work_conn_quit(struct work *w);
/* Quitting: stops once no release and no CLAIM awaits an answer. */
void work_conn_quit_check(struct work *w);
/* A release sent while quitting was answered (or failed): one less to
 * await, then work_conn_quit_check. */
void work_conn_quit_done(struct work *w);
/* Releases item it (taken: cleared here); counted when quitting. */
void work_conn_release(struct work *w, struct work_item *it);
/* Frees the connection's timers (end of the session). */
void work_conn_close(struct work *w);

/* ---- work_help.c -------------------------------------------------------------- */

/* Prints `hitlq work --help` (every option and key) to f. */
void work_help_print(FILE *f);

/* ---- work_notes.c ----------------------------------------------------------- */

/* The file that keeps the unsent note: $XDG_STATE_HOME/hitlq/notes or
 * ~/.local/state/hitlq/notes (directories created).  0 or -1. */
int  work_notes_path(char *buf, size_t len);
/* Writes the note (item id + text) durably; removes the file when the
 * note is empty.  0 or -1 (errno). */
int  work_notes_save(const struct work *w);
/* Loads a note left by an earlier session into w (0: none, 1: loaded). */
int  work_notes_load(struct work *w);
/* The note was acknowledged by the server: forget it (memory and file). */
void work_notes_done(struct work *w);

/* ---- the front-ends: work_tui.c and work_line.c ----------------------------- */

/* Starts the front-end of w->mode (ncurses on stdin/stdout for WORK_TUI).
 * 0 or -1. */
int  work_ui_open(struct work *w);
void work_ui_close(struct work *w);
/* Redraws (TUI) or prints what changed: the item when it is new. */
void work_ui_item(struct work *w);
void work_ui_refresh(struct work *w);
/* Tells the person what happened (status line, a line, or a JSON event). */
void work_ui_event(struct work *w, const char *event, const char *text);
/* stdin is readable: reads keys or lines and acts on them. */
void work_ui_input(struct work *w);

/* The line modes (work_line.c), reached through the work_ui_* calls. */
int  work_line_open(struct work *w);
void work_line_item(struct work *w);
void work_line_prompt(struct work *w);
void work_line_event(struct work *w, const char *event, const char *text);
void work_line_input(struct work *w);
/* False once the input ended and every line was run: no next item then. */
bool work_line_more(const struct work *w);

/* ---- work_keys.c: the key map shared by the front-ends --------------------- */

/* The person pressed ch (a character, '\n' or 27 for Esc) in the current
 * phase.  Returns false when the key means nothing there. */
bool work_key(struct work *w, int ch);
/* Opens the note editor (the front-end edits w->note); `after` is what
 * the finished note leads to (WK_COMMENT or WK_ESCALATE). */
void work_note_begin(struct work *w, enum work_kind after);
/* The editor finished (accept: Enter) or was cancelled (the text stays
 * in memory either way; accepted text is saved to the notes file). */
void work_note_end(struct work *w, bool accept);
/* The help line (keys of the phase) and the confirm question into buf. */
const char *work_help(const struct work *w, char *buf, size_t len);
const char *work_question(const struct work *w, char *buf, size_t len);

#endif
