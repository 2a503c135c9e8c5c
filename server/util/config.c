/*
 * config.c - the option table and its libConfuse glue.  Every option has a
 * default, so hitlqd runs with no file at all; unknown options and values
 * out of range are errors.  Relative paths in a config file (data_dir,
 * policy, key and certificate files) are resolved against the file's
 * directory, not the working directory.
 */
#include <stdio.h>
#include <string.h>

#include <confuse.h>

#include "config.h"
#include "log.h"

enum opt_type { OPT_STR, OPT_U64 };

struct opt {
    const char   *name;
    enum opt_type type;
    size_t        offset;      /* into struct hitlq_config */
    size_t        size;        /* OPT_STR: buffer size */
    const char   *def_str;
    uint64_t      def_u64, min, max;
    const char   *help;
};

#define STR_OPT(n, field, def, help) \
    { n, OPT_STR, offsetof(struct hitlq_config, field), \
      sizeof(((struct hitlq_config *)0)->field), def, 0, 0, 0, help }
#define U64_OPT(n, field, def, lo, hi, help) \
    { n, OPT_U64, offsetof(struct hitlq_config, field), 0, NULL, def, lo, hi, help }

static const struct opt config_opts[] = {
    STR_OPT("listen", listen, "127.0.0.1:7420",
            "address:port to listen on (port 0 = pick a free one)"),
    STR_OPT("data_dir", data_dir, "hitlq-data",
            "LMDB data directory (created 0700 if missing). Relative paths in this\n"
            "# file (data_dir, policy, audit_key, auth_bootstrap_key, tls_*) are beside it"),
    STR_OPT("policy", policy, "",
            "policy file (JSON), relative to this file's directory; empty = the embedded\n"
            "# credit_application example"),
    U64_OPT("map_size_mb", map_size_mb, 4096, 1, 1u << 24,
            "LMDB map size in MiB at start: the store grows it by itself (doubling,\n"
            "# between write transactions, from 80 percent use) up to map_size_max_mb"),
    U64_OPT("map_size_max_mb", map_size_max_mb, 0, 0, 1u << 24,
            "the most the store can hold, in MiB: writes that do not fit are refused\n"
            "# with resource_exhausted; 0 = 8 x map_size_mb; = map_size_mb: no growth"),
    U64_OPT("max_attempts", max_attempts, 3, 1, 1000,
            "lease expiries before an item moves to the dead-letter queue"),
    STR_OPT("dead_letter_queue", dead_letter_queue, "dead_letter",
            "queue that receives items after max_attempts expiries"),
    U64_OPT("auth", auth, 2, 0, 2,
            "1 = every connection must present an API key in HELLO (roles, PROTOCOL.md §3.1);\n"
            "# 0 = no authentication (every connection may do everything);\n"
            "# 2 = auto: 1 unless listen is a loopback address"),
    STR_OPT("auth_bootstrap_key", auth_bootstrap_key, "",
            "with auth on and no principals yet: file that receives a new admin API key (0600);\n"
            "# empty = <data_dir>/admin.key"),
    U64_OPT("max_connections", max_connections, 1024, 1, 1000000,
            "simultaneous client connections"),
    U64_OPT("max_connections_per_addr", max_connections_per_addr, 256, 1, 1000000,
            "simultaneous client connections from one IP address"),
    U64_OPT("hello_timeout_ms", hello_timeout_ms, 5000, 100, 3600000,
            "a connection must complete HELLO (and authentication) within this\n"
            "# of being accepted, TLS handshake included"),
    U64_OPT("idle_timeout_ms", idle_timeout_ms, 0, 0, 86400000,
            "close a connection that sent nothing for this long (0 = never; a\n"
            "# connection with requests in flight, a waiting CLAIM or a WATCH is not idle)"),
    U64_OPT("max_batch", max_batch, 512, 1, 65536,
            "most requests in one group commit (smaller batches let decoding\n"
            "# and committing overlap; each batch costs one sync)"),
    U64_OPT("frame_timeout_ms", frame_timeout_ms, 10000, 100, 3600000,
            "a frame whose first byte arrived must be complete within this (slowloris)"),
    U64_OPT("slow_reader_timeout_ms", slow_reader_timeout_ms, 10000, 100, 3600000,
            "a client whose unsent replies stay over 4 MiB this long is disconnected"),
    STR_OPT("log_level", log_level, "info", "error, warn, info or debug"),
    U64_OPT("audit", audit, 1, 0, 1,
            "1 = every decision goes into the signed audit log (same transaction);\n"
            "# 0 = no audit log (benchmark baseline only: decisions are then unprovable)"),
    STR_OPT("audit_key", audit_key, "",
            "audit-log signing key file (Go note private keys, one per line, mode 0600);\n"
            "# empty = <data_dir>/audit.key, created on first start"),
    STR_OPT("audit_origin", audit_origin, "",
            "log origin (= key name) used when the key is created; empty = localhost/hitlq/<random>"),
    U64_OPT("audit_checkpoint_ms", audit_checkpoint_ms, 1000, 10, 60000,
            "sign a checkpoint at least this often while entries arrive"),
    STR_OPT("tls_cert", tls_cert, "",
            "TLS certificate chain (PEM, server certificate first); empty = no TLS.\n"
            "# Re-read with tls_key on SIGHUP (new connections get the new certificate)"),
    STR_OPT("tls_key", tls_key, "",
            "TLS private key (PEM); empty = the key is in tls_cert"),
    STR_OPT("tls_client_ca", tls_client_ca, "",
            "CA file (PEM) for mutual TLS: when set, every client must present a\n"
            "# certificate signed by it; empty = no client certificates"),
    STR_OPT("tls_min_version", tls_min_version, "1.3",
            "oldest TLS version accepted: 1.3, or 1.2 (ECDHE + AEAD suites only)"),
    U64_OPT("handshake_timeout_ms", handshake_timeout_ms, 10000, 100, 3600000,
            "a TLS connection must finish its handshake within this"),
    U64_OPT("insecure_plaintext", insecure_plaintext, 0, 0, 1,
            "1 = allow listening on a non-loopback address without TLS (tls_cert);\n"
            "# 0 = hitlqd refuses to start that way (loopback without TLS is always allowed)"),
    U64_OPT("drift_window_s", drift_window_s, 86400, 1, 31u * 86400u,
            "input-drift window in seconds: per item type with a reference profile the\n"
            "# model inputs' histogram of each window [k*W, (k+1)*W) (UTC-aligned), and one\n"
            "# signed INPUT_WINDOW entry per closed window in the audit log"),
    STR_OPT("http_listen", http_listen, "127.0.0.1:7421",
            "address:port of the HTTP listener (/metrics, /healthz, /readyz, dashboard);\n"
            "# \"\" = none; port 0 = pick a free one (hitlqd -P FILE writes it to FILE.http)"),
    U64_OPT("http_auth", http_auth, 2, 0, 2,
            "1 = HTTP requests need \"Authorization: Bearer <API key>\" (roles as on the\n"
            "# protocol, PROTOCOL.md §3.1); 0 = none; 2 = auto: 1 unless http_listen is loopback"),
    U64_OPT("http_max_connections", http_max_connections, 256, 1, 100000,
            "simultaneous HTTP connections (more are closed at once)"),
    U64_OPT("http_timeout_ms", http_timeout_ms, 10000, 100, 3600000,
            "an HTTP connection that sends or takes nothing for this long is closed"),
    STR_OPT("ha_pg", ha_pg, "",
            "high availability (docs/HA.md): libpq conninfo of the PostgreSQL cluster\n"
            "# (Patroni, synchronous_mode strict) holding the replicated log, e.g.\n"
            "# \"host=10.0.0.1,10.0.0.2 port=5432,5432 dbname=hitlq user=hitlq\n"
            "# target_session_attrs=read-write connect_timeout=2\"; \"\" = single node"),
    STR_OPT("ha_node", ha_node, "",
            "HA: this node's name, unique in the cluster (default: the listen address)"),
    STR_OPT("ha_advertise", ha_advertise, "",
            "HA: host:port clients use to reach this node (not_leader names it);\n"
            "# default: the listen address"),
    U64_OPT("ha_lease_ms", ha_lease_ms, 6000, 1000, 600000,
            "HA: the leader's lease; a follower takes over this long after the leader\n"
            "# stopped renewing it, and a leader that cannot renew stops serving"),
    STR_OPT("log_format", log_format, "plain",
            "plain (lines for humans) or json (one JSON object per line: ts, level,\n"
            "# event, msg and the event's fields; docs/OPERATIONS-LOG.md)"),
    STR_OPT("log_target", log_target, "stderr",
            "stderr, or syslog (syslog(3) with the pid; journald on systemd machines)"),
    STR_OPT("log_facility", log_facility, "daemon",
            "syslog facility with log_target = syslog: daemon, user or local0..local7"),
    U64_OPT("max_unauthenticated", max_unauthenticated, 64, 1, 1000000,
            "simultaneous connections that have not authenticated yet (HELLO and AUTH\n"
            "# not done); a new one beyond this closes the oldest of them that has\n"
            "# not sent a byte (one that is talking is never closed for it)"),
    U64_OPT("max_unauthenticated_per_addr", max_unauthenticated_per_addr, 8, 1, 1000000,
            "the same from one IP address: a new one beyond this closes that\n"
            "# address's oldest silent unauthenticated connection"),
    STR_OPT("user", user, "",
            "started as root: bind the ports and read the keys, then run as this user\n"
            "# (its groups, group and uid); empty = stay who started it"),
};
#define N_OPTS (sizeof(config_opts) / sizeof(config_opts[0]))

static void
config_defaults(struct hitlq_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < N_OPTS; i++) {
        const struct opt *o = &config_opts[i];
        char *p = (char *)cfg + o->offset;

        if (o->type == OPT_STR)
            snprintf(p, o->size, "%s", o->def_str);
        else
            memcpy(p, &o->def_u64, sizeof(uint64_t));
    }
}

static char config_errbuf[256];   /* only touched during single-threaded start-up */

static __attribute__((format(printf, 2, 0))) void
config_on_error(cfg_t *c, const char *fmt, va_list ap)
{
    (void)c;
    vsnprintf(config_errbuf, sizeof(config_errbuf), fmt, ap);
}

static int
config_copy(struct hitlq_config *cfg, cfg_t *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        const struct opt *o = &config_opts[i];
        char *p = (char *)cfg + o->offset;

        if (o->type == OPT_STR) {
            const char *v = cfg_getstr(c, o->name);
            if (strlen(v) >= o->size) {
                snprintf(err, errlen, "option %s: value longer than %zu bytes",
                         o->name, o->size - 1);
                return -1;
            }
            snprintf(p, o->size, "%s", v);
        } else {
            long v = cfg_getint(c, o->name);
            uint64_t u = (uint64_t)v;
            if (v < 0 || u < o->min || u > o->max) {
                snprintf(err, errlen, "option %s: %ld is outside %llu..%llu",
                         o->name, v, (unsigned long long)o->min,
                         (unsigned long long)o->max);
                return -1;
            }
            memcpy(p, &u, sizeof(u));
        }
    }
    return 0;
}

/* The options that name files or directories: a relative value in a
 * config file (or the default, when a file is given) is beside the file. */
static const char *const config_path_opts[] = {
    "data_dir", "policy", "audit_key", "auth_bootstrap_key", "tls_cert", "tls_key",
    "tls_client_ca",
};

/* Prefixes the config file's directory to one relative, non-empty path
 * option (none when path has no '/').  0, or -1 when it does not fit. */
static int
config_resolve_one(struct hitlq_config *cfg, const struct opt *o, const char *path,
                   char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    char *val = (char *)cfg + o->offset, joined[1024];
    int n;

    if (val[0] == '\0' || val[0] == '/' || slash == NULL)
        return 0;
    n = snprintf(joined, sizeof(joined), "%.*s/%s", (int)(slash - path), path, val);
    if (n < 0 || (size_t)n >= o->size) {
        snprintf(err, errlen, "option %s: %s joined to the directory of %s is longer "
                 "than %zu bytes", o->name, val, path, o->size - 1);
        return -1;
    }
    memcpy(val, joined, (size_t)n + 1);
    return 0;
}

/* Resolves every option of config_path_opts against path's directory. */
static int
config_resolve_paths(struct hitlq_config *cfg, const char *path, char *err, size_t errlen)
{
    for (size_t i = 0; i < N_OPTS; i++)
        for (size_t j = 0; j < sizeof(config_path_opts) / sizeof(config_path_opts[0]); j++)
            if (strcmp(config_opts[i].name, config_path_opts[j]) == 0 &&
                config_resolve_one(cfg, &config_opts[i], path, err, errlen) != 0)
                return -1;
    return 0;
}

uint64_t
config_map_max_mb(const struct hitlq_config *cfg)
{
    uint64_t max = cfg->map_size_max_mb != 0 ? cfg->map_size_max_mb : cfg->map_size_mb * 8;

    if (max > (1u << 24))
        max = 1u << 24;
    return max > cfg->map_size_mb ? max : cfg->map_size_mb;
}

/* Rules between options: 0, or -1 with a message in err. */
static int
config_check(const struct hitlq_config *cfg, char *err, size_t errlen)
{
    if (cfg->map_size_max_mb != 0 && cfg->map_size_max_mb < cfg->map_size_mb) {
        snprintf(err, errlen, "option map_size_max_mb: %llu is below map_size_mb (%llu)",
                 (unsigned long long)cfg->map_size_max_mb,
                 (unsigned long long)cfg->map_size_mb);
        return -1;
    }
    return 0;
}

int
config_load(struct hitlq_config *cfg, const char *path, char *err, size_t errlen)
{
    cfg_opt_t copts[N_OPTS + 1];
    cfg_t *c;
    int rc;

    config_defaults(cfg);
    if (path == NULL)
        return 0;
    memset(copts, 0, sizeof(copts));
    for (size_t i = 0; i < N_OPTS; i++) {
        const struct opt *o = &config_opts[i];
        cfg_opt_t s = CFG_STR(o->name, o->def_str, CFGF_NONE);
        cfg_opt_t n = CFG_INT(o->name, (long)o->def_u64, CFGF_NONE);
        copts[i] = o->type == OPT_STR ? s : n;
    }
    copts[N_OPTS] = (cfg_opt_t)CFG_END();
    c = cfg_init(copts, CFGF_NONE);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    cfg_set_error_function(c, config_on_error);
    config_errbuf[0] = '\0';
    rc = cfg_parse(c, path);
    if (rc == CFG_FILE_ERROR) {
        snprintf(err, errlen, "%s: cannot read the file", path);
    } else if (rc != CFG_SUCCESS) {
        snprintf(err, errlen, "%s: %s", path, config_errbuf[0] ? config_errbuf : "parse error");
    } else {
        rc = config_copy(cfg, c, err, errlen) == 0 && config_check(cfg, err, errlen) == 0 &&
             config_resolve_paths(cfg, path, err, errlen) == 0 ? CFG_SUCCESS : CFG_PARSE_ERROR;
    }
    cfg_free(c);
    return rc == CFG_SUCCESS ? 0 : -1;
}

void
config_write_sample(FILE *f)
{
    fprintf(f, "# hitlqd configuration (libConfuse syntax). Every option is shown\n"
               "# at its default; delete what you do not change.\n\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        const struct opt *o = &config_opts[i];

        fprintf(f, "# %s\n", o->help);
        if (o->type == OPT_STR)
            fprintf(f, "%s = \"%s\"\n\n", o->name, o->def_str);
        else
            fprintf(f, "%s = %llu    # %llu..%llu\n\n", o->name,
                    (unsigned long long)o->def_u64, (unsigned long long)o->min,
                    (unsigned long long)o->max);
    }
}
