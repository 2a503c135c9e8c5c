/*
 * log_watch.h - the daemon's rate-limited and periodic log events
 * (docs/OPERATIONS-LOG.md): lease expiries and dead-letters summarised at
 * most once a second, storage use crossing 80 % / 90 % of the LMDB map
 * (checked every second) and dropping back.  Loop thread only.
 */
#ifndef HITLQ_LOG_WATCH_H
#define HITLQ_LOG_WATCH_H

#include <stdint.h>

struct hitlq_server;
struct log_watch;

/* Creates the watcher and arms its 1 s timer on srv->base; NULL when out
 * of memory. */
struct log_watch *log_watch_new(struct hitlq_server *srv);
/* Writes the counts still pending (lines owed by the rate limits) and frees
 * the watcher.  NULL is a no-op. */
void log_watch_free(struct log_watch *w);

/* n committed lease expiries (example: the last, id in queue): counted,
 * and a "lease_expired" line at most once a second with the count since
 * the previous line.  n == 0 is a no-op. */
void log_watch_expired(struct log_watch *w, uint32_t n, uint64_t id, const char *queue);
/* n committed moves to the dead-letter queue `to` (example: id, from
 * queue `from`): a "dead_lettered" line at most once a second. */
void log_watch_dead_lettered(struct log_watch *w, uint32_t n, uint64_t id, const char *from,
                             const char *to);

/* Storage use in percent of the map's ceiling (map_size_max_mb: the map
 * grows to it): bytes in use (up to the last page, minus free pages) over
 * the ceiling; -1 when LMDB cannot say.  Loop thread. */
int log_watch_storage_pct(struct hitlq_server *srv);

#endif
