/*
 * hostile_mix.h - a mix of hostile connections against a hitlqd, run on a
 * thread of its own (one epoll loop): random-byte senders, slowloris
 * (one byte of a HELLO frame per interval), pipeliners that send HELLO and
 * then GET/PING requests without ever reading a reply, and idle sockets
 * that never send.  Every connection the server closes (or refuses) is
 * re-opened after a short pause, so the mix keeps its size.  Shared by
 * tests/bench/bench_hostile.c (`make bench`) and tests/e2e/
 * test_hostile_mix.c (`make faults`).  Plaintext only.
 */
#ifndef HITLQ_HOSTILE_MIX_H
#define HITLQ_HOSTILE_MIX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum hmix_kind { HMIX_RANDOM, HMIX_SLOW, HMIX_PIPE, HMIX_IDLE, HMIX_KINDS };

/* The kinds' names, for output: "random", "slowloris", "pipeline", "idle". */
extern const char *const hmix_kind_name[HMIX_KINDS];

struct hmix_opts {
    uint16_t port;               /* the server's 127.0.0.1 port */
    unsigned per_kind;           /* connections of each kind (50) */
    unsigned kinds;              /* bit (1 << kind) set: that kind runs; 0 = all */
    unsigned n_addrs;            /* bind to 127.0.0.2 .. 127.0.0.(1 + n); 0 = none */
    unsigned reconnect_ms;       /* pause before re-opening a closed one */
    unsigned slow_byte_ms;       /* slowloris: one byte per this many ms */
    /* Pipeliners GET ids in [1, *get_id_max] (items that exist, so each
     * reply carries the item); NULL or 0: PINGs only. */
    const _Atomic uint64_t *get_id_max;
};

struct hmix_stats {
    uint64_t opened[HMIX_KINDS];     /* connects that completed */
    uint64_t failed[HMIX_KINDS];     /* connects that failed (refused, reset) */
    uint64_t closed[HMIX_KINDS];     /* open connections the server closed/reset */
    uint64_t closed_fast[HMIX_KINDS];/* ... of them within 500 ms of the connect */
    uint64_t replies[HMIX_KINDS];    /* random senders: reply headers read */
    uint64_t bytes_out[HMIX_KINDS];  /* bytes the server's socket took */
    unsigned open_now[HMIX_KINDS];   /* open at the time of hmix_stop */
    double   seconds;                /* hmix_start to hmix_stop */
};

struct hmix;

/* Opens every connection (connects are non-blocking and complete on the
 * mix's thread) and starts the thread.  Returns the mix, or NULL (message
 * on stderr) when a socket, the epoll set or the thread cannot be made. */
struct hmix *hmix_start(const struct hmix_opts *o);
/* Stops the thread, closes every connection with a reset (no TIME_WAIT),
 * fills *out (if non-NULL) and frees the mix.  NULL is a no-op. */
void hmix_stop(struct hmix *m, struct hmix_stats *out);
/* Total connections across kinds (sum of one counter array). */
uint64_t hmix_sum(const uint64_t v[HMIX_KINDS]);

#endif
