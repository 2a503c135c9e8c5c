/*
 * main.c - hitlqd's entry point: options, configuration check (-n),
 * start-up, the run loop, and distinct exit codes per start-up failure.
 * The only file that may call exit().
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "config.h"
#include "log.h"
#include "score.h"
#include "http.h"
#include "preflight.h"
#include "server.h"
#include "tls.h"

#define EXIT_USAGE    2
#define EXIT_CONFIG   3
#define EXIT_STARTUP  4
#define EXIT_LISTEN   5
#define EXIT_STORAGE  6   /* stopped by a fatal storage error (docs/RELIABILITY.md §1.3) */

static void
usage(FILE *f)
{
    fprintf(f,
        "usage: hitlqd [-c FILE] [-d DIR] [-l ADDR:PORT] [-P PORTFILE] [-v] [-n] [-C]\n"
        "              [-K | -R | -X KEYID]\n"
        "  -c FILE      configuration file (libConfuse syntax; default: none,\n"
        "               built-in defaults: listen 127.0.0.1:7420, data dir ./hitlq-data,\n"
        "               the embedded default policy: credit_application on the\n"
        "               XGBoost model credit_xgb.json, server/score/defaults/)\n"
        "  -d DIR       data directory (overrides data_dir)\n"
        "  -l ADDR:PORT listen address (overrides listen; port 0 = any free port)\n"
        "  -P FILE      write the bound port number to FILE once listening (and the\n"
        "               HTTP listener's to FILE.http, before FILE)\n"
        "  -v           debug logging\n"
        "  -n           check the configuration and policy, print \"configuration OK\", exit\n"
        "  -C           print an annotated sample configuration and exit\n"
        "  -K           print the audit log's verifier key(s) (creating the signing key\n"
        "               on first use) and exit\n"
        "  -R           rotate: add a new audit signing key with the same origin (both sign\n"
        "               until the old one is retired), print the verifier keys, exit\n"
        "  -X KEYID     retire the audit signing key with this 8-hex-digit ID, exit\n"
        "  (-K/-R/-X edit the key file: run them while hitlqd is stopped)\n"
        "  -V, --version  print \"hitlqd VERSION\" and exit\n"
        "Relative paths in FILE (data_dir, policy, key and certificate files) are\n"
        "beside FILE; -d and -P are relative to the current directory.\n");
}

struct main_opts {
    const char *config, *data_dir, *listen, *portfile, *key_arg;
    int check, sample, verbose;
    char key_op;                          /* 'K', 'R', 'X' or 0 */
};

static int
main_parse(int argc, char **argv, struct main_opts *o)
{
    static const struct option lo[] = {
        { "version", no_argument, NULL, 'V' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int ch;

    memset(o, 0, sizeof(*o));
    while ((ch = getopt_long(argc, argv, "c:d:l:P:vnCKRX:hV", lo, NULL)) != -1) {
        switch (ch) {
        case 'c': o->config = optarg; break;
        case 'd': o->data_dir = optarg; break;
        case 'l': o->listen = optarg; break;
        case 'P': o->portfile = optarg; break;
        case 'v': o->verbose = 1; break;
        case 'n': o->check = 1; break;
        case 'C': o->sample = 1; break;
        case 'K': case 'R': o->key_op = (char)ch; break;
        case 'X': o->key_op = 'X'; o->key_arg = optarg; break;
        case 'h': usage(stdout); exit(0);
        case 'V': printf("hitlqd %s\n", HITLQ_VERSION); exit(0);
        default: return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

static int
main_check(const struct hitlq_config *cfg)
{
    struct scoring *sc = NULL;
    SSL_CTX *tls;
    char err[512];

    if (preflight_check(cfg, false, err, sizeof(err)) != 0) {
        fprintf(stderr, "hitlqd: %s\n", err);
        return EXIT_CONFIG;
    }
    if (cfg->tls_cert[0] != '\0') {               /* loads and checks the TLS files */
        if ((tls = tls_ctx_new(cfg, err, sizeof(err))) == NULL) {
            fprintf(stderr, "hitlqd: TLS: %s\n", err);
            return EXIT_CONFIG;
        }
        SSL_CTX_free(tls);
    }
    if (scoring_load(&sc, cfg->policy[0] ? cfg->policy : NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "hitlqd: policy: %s\n", err);
        return EXIT_CONFIG;
    }
    printf("configuration OK (policy %s)\n", scoring_policy_id(sc));
    scoring_free(sc);
    return 0;
}

static void
write_portfile(const char *path, unsigned port)
{
    char tmp[600];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
        log_error("cannot write port file %s", path);
}

/* Applies log_level, log_format, log_target and log_facility (-v forces
 * debug).  0, or -1 after printing which value is wrong. */
static int
main_log_setup(const struct hitlq_config *cfg, bool verbose)
{
    enum log_level lvl;
    enum log_format fmt;
    enum log_target tgt;
    int fac;

    if (log_level_parse(cfg->log_level, &lvl) != 0) {
        fprintf(stderr, "hitlqd: log_level: unknown level \"%s\"\n", cfg->log_level);
        return -1;
    }
    if (log_format_parse(cfg->log_format, &fmt) != 0) {
        fprintf(stderr, "hitlqd: log_format: \"%s\" is not plain or json\n", cfg->log_format);
        return -1;
    }
    if (log_target_parse(cfg->log_target, &tgt) != 0) {
        fprintf(stderr, "hitlqd: log_target: \"%s\" is not stderr or syslog\n",
                cfg->log_target);
        return -1;
    }
    if (log_facility_parse(cfg->log_facility, &fac) != 0) {
        fprintf(stderr, "hitlqd: log_facility: unknown facility \"%s\"\n", cfg->log_facility);
        return -1;
    }
    log_set_level(verbose ? LOG_LVL_DEBUG : lvl);
    log_setup(fmt, tgt, fac);
    return 0;
}

/* The "start" event (docs/OPERATIONS-LOG.md): listening, ready to serve. */
static void
main_log_start(struct hitlq_server *srv, const struct hitlq_config *cfg)
{
    char hex[65];

    sodium_bin2hex(hex, sizeof(hex), scoring_policy_digest(srv->scoring), 32);
    log_event(LOG_LVL_INFO, "start", "listening", LOG_STR("version", HITLQ_VERSION),
              LOG_STR("listen", cfg->listen), LOG_UINT("port", srv->net.port),
              LOG_BOOL("tls", cfg->tls_cert[0] != '\0'), LOG_STR("data_dir", cfg->data_dir),
              LOG_STR("policy", scoring_policy_id(srv->scoring)),
              LOG_STR("policy_digest", hex), LOG_INT("pid", getpid()));
}

/* Privilege separation (docs/RELIABILITY.md T8): started as root with
 * `user` set, drops to that user once the ports are bound and the keys
 * read.  0, or -1 with err. */
static int
main_drop_privileges(const struct hitlq_config *cfg, char *err, size_t errlen)
{
    const struct passwd *pw;

    if (cfg->user[0] == '\0') {
        if (geteuid() == 0)
            log_warn("running as root: set `user` in the configuration (or run under the "
                     "systemd unit, dist/hitlqd.service.in) to drop privileges");
        return 0;
    }
    if ((pw = getpwnam(cfg->user)) == NULL) {
        snprintf(err, errlen, "user: no user \"%s\"", cfg->user);
        return -1;
    }
    if (geteuid() != 0)
        return geteuid() == pw->pw_uid ? 0 :
               (snprintf(err, errlen, "user %s: not started as root, cannot switch to it",
                         cfg->user), -1);
    if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "user %s: cannot switch: %s", cfg->user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) {              /* must be impossible now */
        snprintf(err, errlen, "user %s: root could be regained", cfg->user);
        return -1;
    }
    log_info("running as user %s (uid %u, gid %u)", cfg->user, (unsigned)pw->pw_uid,
             (unsigned)pw->pw_gid);
    return 0;
}

int
main(int argc, char **argv)
{
    struct hitlq_config cfg;
    struct hitlq_server *srv;
    struct main_opts o;
    char err[512];
    int rc, stop_sig;
    bool stop_failed;

    if (main_parse(argc, argv, &o) != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (o.sample) {
        config_write_sample(stdout);
        return 0;
    }
    if (config_load(&cfg, o.config, err, sizeof(err)) != 0) {
        fprintf(stderr, "hitlqd: %s\n", err);
        return EXIT_CONFIG;
    }
    if (o.data_dir)
        snprintf(cfg.data_dir, sizeof(cfg.data_dir), "%s", o.data_dir);
    if (o.listen)
        snprintf(cfg.listen, sizeof(cfg.listen), "%s", o.listen);
    if (main_log_setup(&cfg, o.verbose) != 0)
        return EXIT_CONFIG;
    if (sodium_init() < 0) {
        fprintf(stderr, "hitlqd: libsodium failed to initialise\n");
        return EXIT_STARTUP;
    }
    if (o.check)
        return main_check(&cfg);
    if (o.key_op) {
        if (mkdir(cfg.data_dir, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "hitlqd: mkdir %s: %s\n", cfg.data_dir, strerror(errno));
            return EXIT_STARTUP;
        }
        if (audit_key_admin(&cfg, o.key_op, o.key_arg, stdout, err, sizeof(err)) != 0) {
            fprintf(stderr, "hitlqd: %s\n", err);
            return EXIT_STARTUP;
        }
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    /* before anything is created: a refused start leaves no key file */
    if ((rc = preflight_check(&cfg, true, err, sizeof(err))) != 0) {
        log_error("start-up refused: %s", err);
        return rc == PREFLIGHT_LISTEN ? EXIT_LISTEN : EXIT_CONFIG;
    }
    srv = server_new(&cfg, err, sizeof(err));
    if (srv == NULL) {
        log_error("start-up failed: %s", err);
        return EXIT_STARTUP;
    }
    if (server_listen(srv, err, sizeof(err)) != 0) {
        log_error("%s", err);
        server_free(srv);
        return EXIT_LISTEN;
    }
    main_log_start(srv, &cfg);
    if (o.portfile && srv->http != NULL) {   /* first: FILE says the server is up */
        char hp[600];
        snprintf(hp, sizeof(hp), "%s.http", o.portfile);
        write_portfile(hp, http_port(srv->http));
    }
    if (o.portfile)
        write_portfile(o.portfile, srv->net.port);
    if (main_drop_privileges(&cfg, err, sizeof(err)) != 0) {
        log_error("%s", err);
        server_free(srv);
        return EXIT_STARTUP;
    }
    rc = server_run(srv);
    stop_failed = srv->failed;
    stop_sig = srv->stop_signal;
    server_free(srv);
    log_event(rc == 0 && !stop_failed ? LOG_LVL_INFO : LOG_LVL_ERROR, "stop", "stopped",
              LOG_STR("reason", stop_failed ? "storage_failure"
                                : stop_sig != 0 ? strsignal(stop_sig) : "stopped"),
              LOG_INT("signal", stop_sig), LOG_BOOL("clean", rc == 0 && !stop_failed));
    return stop_failed ? EXIT_STORAGE : rc == 0 ? 0 : EXIT_STARTUP;
}
