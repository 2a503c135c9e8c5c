/*
 * preflight.h - the checks of a configuration that need no state: run by
 * `hitlqd -n` and, before anything is created, by the real start, so the
 * check refuses what the start refuses and a refused start leaves no key
 * file behind (server/main.c).
 */
#ifndef HITLQ_PREFLIGHT_H
#define HITLQ_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

struct hitlq_config;

/* Checks cfg: listen and http_listen parse, and are loopback or TLS or
 * insecure_plaintext (as net_listen and http_listen require); http_auth
 * does not need an auth that is off; `user`, when set, exists; the audit signing key and the admin
 * key file, when they exist, are regular files no one but their owner may
 * read or write (mode 0600 or stricter); the TLS key is not readable by
 * everyone.  With try_bind, also binds (then closes) each listen address
 * with a fixed port, so a busy or forbidden port is found before the
 * start creates anything.  0, or with the first problem in err:
 * PREFLIGHT_LISTEN for a listen address (unparsable, refused plaintext,
 * busy or forbidden port), -1 for anything else. */
#define PREFLIGHT_LISTEN (-2)
int preflight_check(const struct hitlq_config *cfg, bool try_bind, char *err, size_t errlen);

#endif
