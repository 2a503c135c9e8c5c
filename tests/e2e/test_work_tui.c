/*
 * test_work_tui.c - `hitlq work` (client/cli/work_*.c) driven the way a
 * person uses it: the ncurses screen inside tmux (new-session -d,
 * send-keys, capture-pane) against a real hitlqd, every outcome checked
 * on the server with GET.  20 items decided with one key and Enter each;
 * a lease kept past its length by heartbeats; a slow read warned before
 * the lease lapses (heartbeats capped by --max-hold) with the typed note
 * kept; an escalation whose note appears on the senior's screen; and the
 * --plain and --json line modes.  The rough edges (issue 13 follow-up):
 * hitlqd restarted mid-session (reconnect, the half-typed note kept, the
 * item decided afterwards), `q` while a skip's follow-up CLAIM is in
 * flight (every lease released), a COMMENT on the next claimer's screen,
 * a blind four-eyes review, more than 9 actions, `work --help`.  The
 * tmux tests are skipped (and say so) without tmux.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "e2e_util.h"

#define POLICY "server/score/defaults/scorecard_policy.json"

#define TMUX_W 200
#define TMUX_H 60
#define CAP    (64 * 1024)

static char tmux_sock[64];             /* this process's private tmux server */
static char state_dir[128];            /* XDG_STATE_HOME of the workstations */

static bool
have_tmux(void)
{
    return system("tmux -V >/dev/null 2>&1") == 0;
}

/* Runs a shell command line built from fmt; returns its exit status. */
static int
sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* Starts `hitlq work ARGS` as worker `name` in tmux session `name`;
 * stderr goes to STATE/name.err, the exit code is printed in the pane. */
static void
work_start(const char *name, const char *args)
{
    assert_int_equal(sh("tmux -L %s -f /dev/null new-session -d -s %s -x %d -y %d "
                        "\"env XDG_STATE_HOME=%s ASAN_OPTIONS=detect_leaks=1 %s -p %u -n %s "
                        "work %s 2>%s/%s.err; echo EXIT=\\$?; sleep 60\"",
                        tmux_sock, name, TMUX_W, TMUX_H, state_dir, HARNESS_CLI,
                        (unsigned)e2e_srv.port, name, args, state_dir, name), 0);
}

/* send-keys to session name (tmux key names, e.g. "1 C-m"). */
static void
keys(const char *name, const char *k)
{
    assert_int_equal(sh("tmux -L %s send-keys -t %s %s", tmux_sock, name, k), 0);
}

/* The pane's text into buf. */
static void
capture(const char *name, char *buf, size_t len)
{
    char cmd[256];
    FILE *f;
    size_t n;

    snprintf(cmd, sizeof(cmd), "tmux -L %s capture-pane -p -t %s", tmux_sock, name);
    f = popen(cmd, "r");
    assert_non_null(f);
    n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    pclose(f);
}

/* Waits (<= ms) until the pane shows text; fails the test with the
 * pane's text otherwise.  buf gets the last capture. */
static void
wait_for(const char *name, const char *text, int ms, char *buf)
{
    uint64_t end = harness_now_ms() + (uint64_t)ms;

    for (;;) {
        capture(name, buf, CAP);
        if (strstr(buf, text) != NULL)
            return;
        if (harness_now_ms() > end)
            fail_msg("\"%s\" not shown on %s's screen within %d ms; screen:\n%s", text, name, ms, buf);
        harness_sleep_ms(50);
    }
}

/* The id of the item on screen (the "item" line), 0 if none. */
static uint64_t
screen_item(const char *buf)
{
    const char *p = strstr(buf, "\nitem   ");   /* the item line, not the status */
    unsigned long long id = 0;

    if (p == NULL || sscanf(p + 6, " %llu", &id) != 1)
        return 0;
    return id;
}

/* Waits for an item other than `prev` on the screen; returns its id. */
static uint64_t
next_item(const char *name, uint64_t prev, char *buf)
{
    uint64_t end = harness_now_ms() + 15000, id;

    for (;;) {
        capture(name, buf, CAP);
        id = screen_item(buf);
        if (id != 0 && id != prev && strstr(buf, "e escalate") != NULL)
            return id;
        if (harness_now_ms() > end)
            fail_msg("no new item on %s's screen; screen:\n%s", name, buf);
        harness_sleep_ms(50);
    }
}

/* Quits the workstation with q + Enter and checks it exited 0 with no
 * sanitizer report in its stderr. */
static void
work_quit_clean(const char *name, char *buf)
{
    char path[256], err[8192] = "";
    FILE *f;
    size_t n;

    keys(name, "q C-m");
    wait_for(name, "EXIT=0", 15000, buf);
    snprintf(path, sizeof(path), "%s/%s.err", state_dir, name);
    if ((f = fopen(path, "r")) != NULL) {
        n = fread(err, 1, sizeof(err) - 1, f);
        err[n] = '\0';
        fclose(f);
    }
    if (strstr(err, "Sanitizer") != NULL || strstr(err, "runtime error") != NULL)
        fail_msg("%s's workstation reported:\n%s", name, err);
}

/* GET id: its state and outcome (outcome "" while not resolved). */
static void
get_state(hitlq *c, uint64_t id, char *state, char *outcome, uint64_t *attempts)
{
    hitlq_reply *r = NULL;

    assert_int_equal(hitlq_get(c, id, &r), HITLQ_OK);
    hitlq_reply_copy_str(r, "state", state, 32);
    if (hitlq_reply_copy_str(r, "outcome", outcome, 64) < 0)
        outcome[0] = '\0';
    if (attempts != NULL)
        hitlq_reply_get_u64(r, "attempts", attempts);
    hitlq_reply_free(r);
}

/* The number of history events named ev of item id. */
static int
count_events(hitlq *c, uint64_t id, const char *ev)
{
    hitlq_reply *r = NULL;
    const msgpack_object *h;
    char name[32];
    uint32_t i;
    int n = 0;

    assert_int_equal(hitlq_get(c, id, &r), HITLQ_OK);
    h = hitlq_reply_get(r, "history");
    for (i = 0; h != NULL && h->type == MSGPACK_OBJECT_ARRAY && i < h->via.array.size; i++)
        if (e2e_find_str(&h->via.array.ptr[i], "event", name, sizeof(name)) == 0 &&
            strcmp(name, ev) == 0)
            n++;
    hitlq_reply_free(r);
    return n;
}

static int
tui_setup(void **st)
{
    snprintf(tmux_sock, sizeof(tmux_sock), "hitlq-work-%d", (int)getpid());
    snprintf(state_dir, sizeof(state_dir), "/tmp/hitlq-work-XXXXXX");
    if (mkdtemp(state_dir) == NULL)
        return -1;
    return e2e_srv_setup(st);
}

static int
tui_teardown(void **st)
{
    sh("tmux -L %s kill-server >/dev/null 2>&1", tmux_sock);
    sh("rm -rf %s", state_dir);
    return e2e_srv_teardown(st);
}

#define SKIP_WITHOUT_TMUX()                                                  \
    do {                                                                     \
        if (!have_tmux()) {                                                  \
            fprintf(stderr, "tmux is missing (scripts/setup.sh installs it): skipped\n"); \
            skip();                                                          \
        }                                                                    \
    } while (0)

/* 20 items, one key + Enter each, alternating the two declared actions of
 * the scorecard policy (approve = auto_action, reject = its `actions`). */
static void
test_twenty_items_one_key_each(void **st)
{
    static char buf[CAP];
    static const char *const outcome[2] = { "approve", "reject" };
    hitlq *c;
    uint64_t ids[20], prev = 0;
    char key[32], state[32], out[64];
    int i;

    SKIP_WITHOUT_TMUX();
    c = e2e_cli("feeder");
    for (i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "tui-%02d", i);
        (void)e2e_must_queue(c, key, -1);
    }
    work_start("alice", "credit_review --lease-ms 60000");
    for (i = 0; i < 20; i++) {
        ids[i] = prev = next_item("alice", prev, buf);
        assert_non_null(strstr(buf, "1 approve  2 reject"));    /* the help line's keys */
        keys("alice", i % 2 ? "2" : "1");
        wait_for("alice", i % 2 ? "as \"reject\"?" : "as \"approve\"?", 5000, buf);
        keys("alice", "C-m");
    }
    wait_for("alice", "20 decided", 15000, buf);
    wait_for("alice", "waiting for work", 5000, buf);
    work_quit_clean("alice", buf);
    for (i = 0; i < 20; i++) {
        get_state(c, ids[i], state, out, NULL);
        assert_string_equal(state, "resolved");
        assert_string_equal(out, outcome[i % 2]);
        assert_int_equal(count_events(c, ids[i], "resolved"), 1);
    }
    hitlq_free(c);
}

/* A 2 s lease read for 5 s: heartbeats keep it; the decision is taken. */
static void
test_heartbeat_keeps_lease(void **st)
{
    static char buf[CAP];
    char state[32], out[64];
    uint64_t id, attempts = 9;
    hitlq *c;

    SKIP_WITHOUT_TMUX();
    c = e2e_cli("feeder");
    (void)e2e_must_queue(c, "hb-1", -1);
    work_start("alice", "credit_review --lease-ms 2000");
    id = next_item("alice", 0, buf);
    harness_sleep_ms(5000);                       /* 2.5 lease lengths */
    capture("alice", buf, CAP);
    assert_int_equal(screen_item(buf), id);       /* still ours */
    assert_null(strstr(buf, "lease lost"));
    keys("alice", "1 C-m");
    wait_for("alice", "1 decided", 5000, buf);
    work_quit_clean("alice", buf);
    get_state(c, id, state, out, &attempts);
    assert_string_equal(state, "resolved");
    assert_string_equal(out, "approve");
    assert_int_equal(attempts, 0);                /* never expired */
    assert_true(count_events(c, id, "extended") >= 3);
    assert_int_equal(count_events(c, id, "expired"), 0);
    hitlq_free(c);
}

/* Heartbeats capped after 1 s of a 3 s lease: the warning comes before the
 * lease lapses, then the loss is named; the typed note survives it. */
static void
test_slow_read_warned_note_kept(void **st)
{
    static char buf[CAP];
    char path[256], file[1024] = "";
    uint64_t id, attempts = 0;
    char state[32], out[64];
    hitlq *c;
    FILE *f;

    SKIP_WITHOUT_TMUX();
    c = e2e_cli("feeder");
    (void)e2e_must_queue(c, "slow-1", -1);
    work_start("alice", "credit_review --lease-ms 3000 --max-hold 1");
    id = next_item("alice", 0, buf);
    keys("alice", "n");
    keys("alice", "-l \"income proof missing\"");
    wait_for("alice", "LEASE EXPIRES in", 3000, buf);
    assert_int_equal(screen_item(buf), id);       /* warned while still held */
    wait_for("alice", "lease lost (lease_expired)", 5000, buf);
    /* the same item comes back (the only one): the note is still there */
    wait_for("alice", "income proof missing", 5000, buf);
    snprintf(path, sizeof(path), "%s/hitlq/notes", state_dir);
    f = fopen(path, "r");
    assert_non_null(f);
    file[fread(file, 1, sizeof(file) - 1, f)] = '\0';
    fclose(f);
    assert_non_null(strstr(file, "income proof missing"));
    work_quit_clean("alice", buf);
    get_state(c, id, state, out, &attempts);
    assert_string_equal(state, "queued");
    assert_true(attempts >= 1);                   /* the lapse was counted */
    assert_true(count_events(c, id, "expired") >= 1);
    hitlq_free(c);
}

/* The pick list on screen (buf) offers every name of the policy's
 * escalate_to of credit_application with a key, and not the item's own
 * queue (CLAIM's escalate_to lists every known queue, PROTOCOL.md §4.6). */
static void
pick_shows_policy_targets(const char *buf)
{
    json_error_t e;
    json_t *root = json_load_file(POLICY, 0, &e), *to;
    const char *line = strstr(buf, "Esc cancel");
    char want[128];
    size_t i;

    assert_non_null(root);
    assert_non_null(line);
    while (line > buf && line[-1] != '\n')
        line--;                                   /* the help line's start */
    to = json_object_get(json_object_get(json_object_get(root, "types"), "credit_application"),
                         "escalate_to");
    assert_true(json_array_size(to) >= 1);
    for (i = 0; i < json_array_size(to); i++) {
        snprintf(want, sizeof(want), " %s  ", json_string_value(json_array_get(to, i)));
        if (strstr(line, want) == NULL)
            fail_msg("pick list without \"%s\": %s", want, line);
    }
    if (strstr(line, " credit_review  ") != NULL)
        fail_msg("pick list offers the item's own queue: %s", line);
    json_decref(root);
}

/* Escalation to credit_senior with a note; bob, claiming there, sees it. */
static void
test_escalation_note_reaches_senior(void **st)
{
    static char buf[CAP];
    char state[32], out[64], *p;
    uint64_t id, bid;
    hitlq *c;

    SKIP_WITHOUT_TMUX();
    c = e2e_cli("feeder");
    (void)e2e_must_queue(c, "esc-1", -1);
    work_start("alice", "credit_review");
    id = next_item("alice", 0, buf);
    keys("alice", "e");
    wait_for("alice", "escalate to which queue?", 5000, buf);
    pick_shows_policy_targets(buf);
    p = strstr(buf, " credit_senior  ");          /* "1 credit_senior  Esc cancel" */
    assert_non_null(p);
    char k[4] = { p[-1], '\0' };
    keys("alice", k);
    wait_for("alice", "note>", 5000, buf);
    keys("alice", "-l \"please check the income proof\"");
    keys("alice", "C-m");
    wait_for("alice", "Escalate item", 5000, buf);
    keys("alice", "C-m");
    wait_for("alice", "1 decided", 5000, buf);
    work_start("bob", "credit_senior");
    bid = next_item("bob", 0, buf);
    assert_int_equal(bid, id);
    wait_for("bob", "escalated by alice: please check the income proof", 5000, buf);
    keys("bob", "2 C-m");
    wait_for("bob", "1 decided", 5000, buf);
    work_quit_clean("bob", buf);
    work_quit_clean("alice", buf);
    get_state(c, id, state, out, NULL);
    assert_string_equal(state, "resolved");
    assert_string_equal(out, "reject");
    hitlq_free(c);
}

/* Runs `hitlq work ARGS` with `input` on stdin; its stdout into buf.
 * Returns its exit status. */
static int
work_lines(const char *args, const char *input, char *buf, size_t len)
{
    char inpath[256], outpath[256];
    FILE *f;
    size_t n;
    int rc;

    snprintf(inpath, sizeof(inpath), "%s/in.txt", state_dir);
    snprintf(outpath, sizeof(outpath), "%s/out.txt", state_dir);
    f = fopen(inpath, "w");
    assert_non_null(f);
    fputs(input, f);
    fclose(f);
    rc = sh("env XDG_STATE_HOME=%s timeout 60 %s -p %u -n carol %s work %s <%s >%s",
            state_dir, HARNESS_CLI, (unsigned)e2e_srv.port,
            strstr(args, "--json") ? "--json" : "", args, inpath, outpath);
    f = fopen(outpath, "r");
    assert_non_null(f);
    n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
    return rc;
}

/* --plain: commands typed ahead as lines, one per item (a note with a
 * resolve, a comment, a skip); each outcome checked with GET. */
static void
test_plain_lines(void **st)
{
    static char buf[CAP];
    char state[32], out[64];
    uint64_t id[4];
    hitlq *c = e2e_cli("feeder");
    hitlq_reply *r = NULL;
    const msgpack_object *h;
    int i, comments = 0;

    for (i = 0; i < 4; i++) {
        char key[16];

        snprintf(key, sizeof(key), "pl-%d", i);
        id[i] = e2e_must_queue(c, key, -1);
    }
    assert_int_equal(work_lines("credit_review --plain",
                                "1\nn first look done\nreject too risky\n2\napprove\n",
                                buf, CAP), 0);
    assert_non_null(strstr(buf, "explanation: "));
    assert_non_null(strstr(buf, "actions: 1=approve 2=reject"));
    assert_non_null(strstr(buf, "noted: item"));
    /* items come in id order (equal priority and deadline order) */
    get_state(c, id[0], state, out, NULL);
    assert_string_equal(out, "approve");
    get_state(c, id[1], state, out, NULL);
    assert_string_equal(out, "reject");
    get_state(c, id[2], state, out, NULL);
    assert_string_equal(out, "reject");
    get_state(c, id[3], state, out, NULL);
    assert_string_equal(out, "approve");
    /* item 2: the comment and the resolve note */
    assert_int_equal(hitlq_get(c, id[1], &r), HITLQ_OK);
    h = hitlq_reply_get(r, "history");
    for (i = 0; h != NULL && i < (int)h->via.array.size; i++) {
        char ev[32], note[64];

        e2e_find_str(&h->via.array.ptr[i], "event", ev, sizeof(ev));
        if (e2e_find_str(&h->via.array.ptr[i], "note", note, sizeof(note)) != 0)
            continue;
        if (strcmp(ev, "comment") == 0 && strcmp(note, "first look done") == 0)
            comments++;
        if (strcmp(ev, "resolved") == 0)
            assert_string_equal(note, "too risky");
    }
    assert_int_equal(comments, 1);
    hitlq_reply_free(r);
    hitlq_free(c);
}

/* --json: one object per line; the item's lease is a decimal string equal
 * to the token the server holds (a RESOLVE with it succeeds later). */
static void
test_json_lines(void **st)
{
    static char buf[CAP];
    char state[32], out[64], *line, *save = NULL;
    bool item_seen = false, resolved_seen = false;
    uint64_t id;
    hitlq *c = e2e_cli("feeder");

    id = e2e_must_queue(c, "js-1", -1);
    assert_int_equal(work_lines("credit_review --json", "s\n2\n", buf, CAP), 0);
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t e;
        json_t *j = json_loads(line, 0, &e);
        const char *ev;

        assert_non_null(j);
        ev = json_string_value(json_object_get(j, "event"));
        assert_non_null(ev);
        if (strcmp(ev, "item") == 0) {
            assert_true(json_is_string(json_object_get(j, "lease")));
            assert_int_equal(json_integer_value(json_object_get(j, "id")), (json_int_t)id);
            item_seen = true;
        }
        if (strcmp(ev, "resolved") == 0)
            resolved_seen = true;
        json_decref(j);
    }
    assert_true(item_seen && resolved_seen);
    get_state(c, id, state, out, NULL);
    assert_string_equal(out, "reject");     /* skipped, offered again (only one), rejected */
    assert_int_equal(count_events(c, id, "released"), 1);
    hitlq_free(c);
}

/* ---- the rough edges ----------------------------------------------------------- */

/* Starts hitlqd again on the SAME port and data directory after a kill
 * (harness_server_restart picks a new port; a workstation reconnects to
 * the address it was given). */
static void
start_same_port(void)
{
    char listen[32];
    uint64_t end = harness_now_ms() + 10000;
    pid_t pid;

    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)e2e_srv.port);
    unlink(e2e_srv.portfile);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(e2e_srv.logfile, O_WRONLY | O_CREAT | O_APPEND, 0644);

        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(e2e_srv.bin, e2e_srv.bin, "-d", e2e_srv.data, "-l", listen, "-P",
              e2e_srv.portfile, "-c", e2e_srv.cfgfile, (char *)NULL);
        _exit(127);
    }
    e2e_srv.pid = pid;
    while (access(e2e_srv.portfile, F_OK) != 0) {
        assert_true(harness_server_alive(&e2e_srv));
        if (harness_now_ms() > end)
            fail_msg("hitlqd did not come back on port %u", (unsigned)e2e_srv.port);
        harness_sleep_ms(20);
    }
}

/* hitlqd killed while alice is typing a note: the screen says
 * "reconnecting...", the session survives, the item is re-taken with its
 * lease (no attempt counted), the note is sent and the item decided. */
static void
test_restart_mid_session(void **st)
{
    static char buf[CAP];
    char state[32], out[64];
    uint64_t id, attempts = 9;
    hitlq *c = e2e_cli("feeder");

    SKIP_WITHOUT_TMUX();
    (void)e2e_must_queue(c, "rs-1", -1);
    hitlq_free(c);
    work_start("alice", "credit_review --lease-ms 60000");
    id = next_item("alice", 0, buf);
    keys("alice", "n");
    keys("alice", "-l \"payslip seen, \"");
    assert_int_equal(harness_server_kill(&e2e_srv, SIGKILL), 0);
    wait_for("alice", "reconnecting...", 5000, buf);
    assert_int_equal(screen_item(buf), id);       /* the item stays on screen */
    assert_non_null(strstr(buf, "note> payslip seen, "));
    harness_sleep_ms(1200);                       /* a few refused attempts */
    keys("alice", "-l \"income ok\"");            /* typing goes on meanwhile */
    start_same_port();
    wait_for("alice", "is still yours", 15000, buf);
    keys("alice", "C-m");
    wait_for("alice", "Save the note", 5000, buf);
    keys("alice", "C-m");
    wait_for("alice", "note saved on the server", 5000, buf);
    keys("alice", "1");
    wait_for("alice", "as \"approve\"?", 5000, buf);
    keys("alice", "C-m");
    wait_for("alice", "1 decided", 5000, buf);
    work_quit_clean("alice", buf);
    c = e2e_cli("feeder");
    get_state(c, id, state, out, &attempts);
    assert_string_equal(state, "resolved");
    assert_string_equal(out, "approve");
    assert_int_equal(attempts, 0);                /* the lease was never lost */
    assert_int_equal(count_events(c, id, "comment"), 1);
    assert_int_equal(count_events(c, id, "claimed"), 1);
    hitlq_free(c);
}

/* --plain "s" then "q": the q arrives while the skip's follow-up CLAIM is
 * in flight; every lease that CLAIM brought is released before exit. */
static void
test_quit_during_followup_claim(void **st)
{
    static char buf[CAP];
    char state[32], out[64];
    uint64_t id[2];
    int claimed = 0, released = 0;
    hitlq *c = e2e_cli("feeder");

    id[0] = e2e_must_queue(c, "pq-1", -1);
    id[1] = e2e_must_queue(c, "pq-2", -1);
    assert_int_equal(work_lines("credit_review --plain", "s\nq\n", buf, CAP), 0);
    assert_non_null(strstr(buf, "skipped: item"));
    for (int i = 0; i < 2; i++) {
        get_state(c, id[i], state, out, NULL);
        assert_string_equal(state, "queued");     /* no lease left behind */
        claimed += count_events(c, id[i], "claimed");
        released += count_events(c, id[i], "released");
    }
    /* the first item, the follow-up (and a skipped item held meanwhile) */
    if (claimed < 2 || released != claimed)
        fail_msg("%d claims, %d releases; the workstation printed:\n%s", claimed, released, buf);
    hitlq_free(c);
}

/* alice's COMMENT (n) is on bob's screen, with its event name, when bob
 * claims the item after alice released it. */
static void
test_comment_on_next_screen(void **st)
{
    static char buf[CAP];
    uint64_t id;
    hitlq *c = e2e_cli("feeder");

    SKIP_WITHOUT_TMUX();
    (void)e2e_must_queue(c, "cm-1", -1);
    work_start("alice", "credit_review");
    id = next_item("alice", 0, buf);
    keys("alice", "n");
    keys("alice", "-l \"called the customer, waiting for docs\"");
    keys("alice", "C-m");
    wait_for("alice", "Save the note", 5000, buf);
    keys("alice", "C-m");
    wait_for("alice", "note saved on the server", 5000, buf);
    keys("alice", "r");
    wait_for("alice", "back to its queue?", 5000, buf);
    keys("alice", "C-m");
    wait_for("alice", "released", 5000, buf);
    work_quit_clean("alice", buf);
    work_start("bob", "credit_review");
    assert_int_equal(next_item("bob", 0, buf), id);
    wait_for("bob", "comment by alice: called the customer, waiting for docs", 5000, buf);
    work_quit_clean("bob", buf);
    assert_int_equal(count_events(c, id, "comment"), 1);
    hitlq_free(c);
}

/* The test's policy: the scorecard policy changed by policy_edit. */
static void (*policy_edit)(json_t *type);

static int
policy_setup(void **st)
{
    char path[256], cfg[600];
    json_error_t e;
    json_t *root;

    if (tui_setup(st) != 0)
        return -1;
    harness_server_cleanup(&e2e_srv);             /* tui_setup's default server */
    root = json_load_file(POLICY, 0, &e);
    if (root == NULL)
        return -1;
    policy_edit(json_object_get(json_object_get(root, "types"), "credit_application"));
    snprintf(path, sizeof(path), "%s/policy.json", state_dir);
    if (json_dump_file(root, path, JSON_INDENT(1)) != 0)
        return -1;
    json_decref(root);
    if (sh("cp server/score/defaults/credit_scorecard.json %s/", state_dir) != 0)
        return -1;
    snprintf(cfg, sizeof(cfg), "policy = \"%s\"\nmax_attempts = 2\n", path);
    return harness_server_start(&e2e_srv, cfg) < 0 ? -1 : 0;
}

static void
edit_four_eyes(json_t *t)
{
    json_object_set_new(t, "four_eyes", json_pack(
        "{s:i, s:{s:[s]}, s:b, s:s, s:s}", "verdicts", 2, "when", "routes", "review",
        "hide_recommendation", 1, "on_disagree", "escalate", "escalate_to", "credit_senior"));
}

/* Four-eyes with the model hidden: the screen says so instead of empty
 * model lines; the verdict is taken (the item waits for the second). */
static void
test_four_eyes_blind_screen(void **st)
{
    static char buf[CAP];
    char state[32], out[64];
    uint64_t id;
    hitlq *c = e2e_cli("feeder");

    SKIP_WITHOUT_TMUX();
    (void)e2e_must_queue(c, "fe-1", -1);
    work_start("alice", "credit_review");
    id = next_item("alice", 0, buf);
    assert_non_null(strstr(buf, "blind review: model hidden"));
    assert_null(strstr(buf, "\nscore "));
    assert_null(strstr(buf, "\nrecommendation "));
    keys("alice", "2 C-m");
    wait_for("alice", "1 decided", 5000, buf);
    work_quit_clean("alice", buf);
    get_state(c, id, state, out, NULL);
    assert_string_equal(state, "queued");         /* waits for the second verdict */
    work_start("bob", "credit_review");
    assert_int_equal(next_item("bob", 0, buf), id);
    assert_non_null(strstr(buf, "blind review: model hidden"));
    assert_null(strstr(buf, "by alice"));         /* nor alice's verdict */
    keys("bob", "2 C-m");
    wait_for("bob", "1 decided", 5000, buf);
    work_quit_clean("bob", buf);
    get_state(c, id, state, out, NULL);
    assert_string_equal(state, "resolved");
    assert_string_equal(out, "reject");
    hitlq_free(c);
}

static void
edit_many_actions(json_t *t)
{
    json_t *a = json_array();

    for (int i = 1; i <= 11; i++)
        json_array_append_new(a, json_sprintf("act%02d", i));
    json_object_set_new(t, "actions", a);         /* + approve: 12 outcomes */
}

/* 12 actions: 1-9, then letters past the command letters (a, b, d); the
 * 12th is taken with its letter key, and one through the `+` pick list. */
static void
test_many_actions_keys(void **st)
{
    static char buf[CAP];
    char state[32], out[64];
    uint64_t id1, id2;
    hitlq *c = e2e_cli("feeder");
    const char *p;

    SKIP_WITHOUT_TMUX();
    (void)e2e_must_queue(c, "ma-1", -1);
    (void)e2e_must_queue(c, "ma-2", -1);
    work_start("alice", "credit_review");
    id1 = next_item("alice", 0, buf);
    p = strstr(buf, "9 ");
    assert_non_null(p);
    assert_non_null(strstr(buf, "  a act"));
    assert_non_null(strstr(buf, "  b act"));
    assert_non_null(strstr(buf, "  d act11"));    /* c is the root-cause key */
    keys("alice", "d");
    wait_for("alice", "as \"act11\"?", 5000, buf);
    keys("alice", "C-m");
    id2 = next_item("alice", id1, buf);
    keys("alice", "+");
    wait_for("alice", "resolve with which action?", 5000, buf);
    keys("alice", "b");                           /* the pick list: 1-9 a b c -> 11th */
    wait_for("alice", "Resolve item", 5000, buf);
    p = strstr(buf, "Resolve item");
    assert_non_null(strstr(p, "as \"act10\"?"));
    keys("alice", "C-m");
    wait_for("alice", "2 decided", 5000, buf);
    work_quit_clean("alice", buf);
    get_state(c, id1, state, out, NULL);
    assert_string_equal(out, "act11");
    get_state(c, id2, state, out, NULL);
    assert_string_equal(out, "act10");
    hitlq_free(c);
}

/* `hitlq work --help` names every option and key of the screen. */
static void
test_help(void **st)
{
    static const char *const want[] = { "--lease-ms", "--max-hold", "--wait", "--plain",
                                        "--json", "--help", "  e ", "  c ", "  n ", "  r ",
                                        "  s ", "  q ", "  + ", "Esc", "reconnecting" };
    char out[8192];
    FILE *f = popen(HARNESS_CLI " work --help", "r");
    size_t n;

    assert_non_null(f);
    n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    assert_int_equal(pclose(f), 0);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (strstr(out, want[i]) == NULL)
            fail_msg("work --help does not mention \"%s\":\n%s", want[i], out);
}

#define TUI_TEST(f) cmocka_unit_test_setup_teardown(f, tui_setup, tui_teardown)

/* A test on a server whose policy edit e changes (policy_setup). */
#define POLICY_TEST(f, e) cmocka_unit_test_prestate_setup_teardown(f, e##_setup, tui_teardown, NULL)
static int edit_four_eyes_setup(void **st) { policy_edit = edit_four_eyes; return policy_setup(st); }
static int edit_many_actions_setup(void **st) { policy_edit = edit_many_actions; return policy_setup(st); }

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TUI_TEST(test_twenty_items_one_key_each),
        TUI_TEST(test_heartbeat_keeps_lease),
        TUI_TEST(test_slow_read_warned_note_kept),
        TUI_TEST(test_escalation_note_reaches_senior),
        TUI_TEST(test_plain_lines),
        TUI_TEST(test_json_lines),
        TUI_TEST(test_restart_mid_session),
        TUI_TEST(test_quit_during_followup_claim),
        TUI_TEST(test_comment_on_next_screen),
        POLICY_TEST(test_four_eyes_blind_screen, edit_four_eyes),
        POLICY_TEST(test_many_actions_keys, edit_many_actions),
        TUI_TEST(test_help),
    };

    return e2e_run("work_tui", tests, sizeof(tests) / sizeof(tests[0]));
}
