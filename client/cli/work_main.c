/*
 * work_main.c - `hitlq work`: its options, the one libevent loop (stdin,
 * the asynchronous server connection of work_conn.c, and a one-second
 * timer for countdowns and heartbeats), start and end.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "work.h"

#define WORK_WAIT_MS  30000          /* one CLAIM long poll; renewed while idle */
#define WORK_HELP_SHOWN  (-1)        /* parse_opts: --help asked (not an exit code) */

uint64_t
work_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
work_stop(struct work *w, int exit_code)
{
    if (exit_code != CLI_EXIT_OK)
        w->exit_code = exit_code;
    event_base_loopbreak(w->base);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    work_tick(arg);
}

static void
on_stdin(evutil_socket_t fd, short what, void *arg)
{
    work_ui_input(arg);
}

static void
on_signal(evutil_socket_t fd, short what, void *arg)
{
    work_quit(arg);
}

/* Splits "Q1,Q2" into w->queues.  0 or -1. */
static int
split_queues(struct work *w, const char *arg)
{
    char *p, *save = NULL;

    if (strlen(arg) >= sizeof(w->qlist))
        return -1;
    strcpy(w->qlist, arg);
    w->queue_arg = arg;
    for (p = strtok_r(w->qlist, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
        if (w->nq == WORK_MAX_QUEUES)
            return -1;
        w->queues[w->nq++] = p;
    }
    return w->nq > 0 ? 0 : -1;
}

static int
parse_opts(struct work *w, int argc, char **argv)
{
    static const struct option lo[] = {
        { "lease-ms", required_argument, NULL, 'l' }, { "max-hold", required_argument, NULL, 'm' },
        { "wait", required_argument, NULL, 'w' }, { "plain", no_argument, NULL, 'p' },
        { "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 } };
    uint64_t v;
    uint32_t ms;
    int ch;

    w->mode = w->cl->json ? WORK_JSON : WORK_TUI;
    w->wait_ms = WORK_WAIT_MS;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (ch == 'l' && cli_parse_u64(optarg, &v) && v >= 1000 && v <= 86400000)
            w->lease_ms = (uint32_t)v;
        else if (ch == 'm' && cli_parse_secs(optarg, &ms))
            w->max_hold_ms = ms;
        else if (ch == 'w' && cli_parse_secs(optarg, &ms) && ms >= 1000 && ms <= 600000)
            w->wait_ms = ms;
        else if (ch == 'p')
            w->mode = WORK_PLAIN;
        else if (ch == 'j')
            w->mode = WORK_JSON;
        else if (ch == 'h')
            return WORK_HELP_SHOWN;
        else
            return cli_usage_error("bad work option (--lease-ms is 1000..86400000 ms, "
                                   "--wait 1..600 s)");
    }
    if (argc - optind != 1 || split_queues(w, argv[optind]) != 0)
        return cli_usage_error("usage: work QUEUE[,QUEUE...] (1..%d queues) [--lease-ms N] "
                               "[--max-hold SEC] [--wait SEC] [--plain | --json] "
                               "(work --help: every option and key)",
                               WORK_MAX_QUEUES);
    return CLI_EXIT_OK;
}

/* The events of the loop: the tick, stdin, SIGINT/SIGTERM.  0 or -1. */
static int
add_events(struct work *w, struct event **sigs)
{
    struct timeval one = { 1, 0 }, poll = { 0, 10000 };
    struct stat sb;
    bool file = fstat(STDIN_FILENO, &sb) == 0 && S_ISREG(sb.st_mode);

    w->tick = event_new(w->base, -1, EV_PERSIST, on_tick, w);
    /* A regular file cannot be polled (epoll refuses it): it is read on a
     * short timer instead, a chunk at a time, until its end. */
    w->in_ev = file ? event_new(w->base, -1, EV_PERSIST, on_stdin, w)
                    : event_new(w->base, STDIN_FILENO, EV_READ | EV_PERSIST, on_stdin, w);
    sigs[0] = evsignal_new(w->base, SIGINT, on_signal, w);
    sigs[1] = evsignal_new(w->base, SIGTERM, on_signal, w);
    if (w->tick == NULL || w->in_ev == NULL || sigs[0] == NULL || sigs[1] == NULL)
        return -1;
    return event_add(w->tick, &one) | event_add(w->in_ev, file ? &poll : NULL) |
           event_add(sigs[0], NULL) | event_add(sigs[1], NULL);
}

static int
work_run(struct work *w)
{
    struct event *sigs[2] = { NULL, NULL };
    int rc = CLI_EXIT_ERR;

    if (add_events(w, sigs) == 0 && work_ui_open(w) == 0) {
        if (work_notes_load(w) > 0)
            work_banner(w, "an unsent note from an earlier session (item %llu) is kept: "
                        "n shows it", (unsigned long long)w->note_item);
        if (work_claim(w, w->wait_ms) == 0)
            event_base_dispatch(w->base);
        work_ui_close(w);
        rc = w->exit_code;
    }
    w->closing = true;
    hitlq_async_free(w->ac);       /* pending callbacks run with NULL here */
    w->ac = NULL;
    work_conn_close(w);
    if (sigs[0] != NULL)
        event_free(sigs[0]);
    if (sigs[1] != NULL)
        event_free(sigs[1]);
    if (w->tick != NULL)
        event_free(w->tick);
    if (w->in_ev != NULL)
        event_free(w->in_ev);
    return rc;
}

int
cli_work(struct cli *cl, int argc, char **argv)
{
    struct work *w = calloc(1, sizeof(*w));
    int rc;

    if (w == NULL)
        return CLI_EXIT_ERR;
    w->cl = cl;
    rc = parse_opts(w, argc, argv);
    if (rc == WORK_HELP_SHOWN) {
        work_help_print(stdout);
        rc = CLI_EXIT_OK;
    } else if (rc == CLI_EXIT_OK && (w->base = event_base_new()) == NULL) {
        rc = CLI_EXIT_ERR;
    } else if (rc == CLI_EXIT_OK && work_conn_open(w) != 0) {
        fprintf(stderr, "hitlq: work: connect: %s\n", w->status);
        rc = CLI_EXIT_ERR;
    } else if (rc == CLI_EXIT_OK) {
        rc = work_run(w);
    }
    work_item_clear(&w->it);
    for (size_t i = 0; i < w->n_held; i++)
        work_item_clear(&w->held[i]);
    if (w->base != NULL)
        event_base_free(w->base);
    free(w);
    return rc;
}
