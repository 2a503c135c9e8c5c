/*
 * preflight.c - the state-free checks of a configuration shared by
 * `hitlqd -n` and the start (preflight.h).  It opens and writes nothing
 * but the trial sockets.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "preflight.h"

/* One listener: parses, applies the plaintext rule, and with try_bind
 * binds a socket to a fixed port and closes it. */
static int
preflight_listen(const char *opt, const char *spec, const struct hitlq_config *cfg,
                 bool try_bind, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, one = 1, rc;

    if (addr_parse(spec, &ss, &len) != 0) {
        snprintf(err, errlen, "%s: cannot parse \"%s\" (want IPv4:port or [IPv6]:port)",
                 opt, spec);
        return -1;
    }
    if (cfg->tls_cert[0] == '\0' && !cfg->insecure_plaintext && !addr_is_loopback(&ss)) {
        snprintf(err, errlen, "%s %s: refusing to serve plaintext on a non-loopback address; "
                 "set tls_cert and tls_key, or insecure_plaintext = 1 to allow it", opt, spec);
        return -1;
    }
    if (!try_bind || addr_port(&ss) == 0)
        return 0;
    if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        snprintf(err, errlen, "%s %s: socket: %s", opt, spec, strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));   /* as the listener */
    rc = bind(fd, (struct sockaddr *)&ss, len);
    if (rc != 0)
        snprintf(err, errlen, "%s %s: %s", opt, spec,
                 errno == EADDRINUSE ? "address already in use" : strerror(errno));
    close(fd);
    return rc == 0 ? 0 : -1;
}

/* A secret key file, if it exists: regular, and no access for group or
 * others (mask 077), or at least not world-readable (mask 004). */
static int
preflight_key_mode(const char *opt, const char *path, mode_t mask, char *err, size_t errlen)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return 0;                      /* created 0600 on first start */
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s %s: not a regular file", opt, path);
        return -1;
    }
    if ((st.st_mode & mask) != 0) {
        snprintf(err, errlen, "%s %s: mode %04o lets others read it; it must be readable "
                 "by its owner only (chmod 600 %s)", opt, path,
                 (unsigned)(st.st_mode & 07777), path);
        return -1;
    }
    return 0;
}

/* The key files of cfg (defaults under data_dir). */
static int
preflight_keys(const struct hitlq_config *cfg, char *err, size_t errlen)
{
    char p[sizeof(cfg->data_dir) + 16];

    if (cfg->audit_key[0] != '\0')
        snprintf(p, sizeof(p), "%s", cfg->audit_key);
    else
        snprintf(p, sizeof(p), "%s/audit.key", cfg->data_dir);
    if (cfg->audit && preflight_key_mode("audit_key", p, 077, err, errlen) != 0)
        return -1;
    if (cfg->auth_bootstrap_key[0] != '\0')
        snprintf(p, sizeof(p), "%s", cfg->auth_bootstrap_key);
    else
        snprintf(p, sizeof(p), "%s/admin.key", cfg->data_dir);
    if (preflight_key_mode("auth_bootstrap_key", p, 077, err, errlen) != 0)
        return -1;
    if (cfg->tls_cert[0] != '\0' &&
        preflight_key_mode("tls_key", cfg->tls_key[0] ? cfg->tls_key : cfg->tls_cert, 004,
                           err, errlen) != 0)
        return -1;
    return 0;
}

/* http_auth on (1, or 2 off loopback) needs auth on (1, or 2 off loopback). */
static int
preflight_http_auth(const struct hitlq_config *cfg, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    bool auth_on, http_on;

    if (cfg->http_listen[0] == '\0' || addr_parse(cfg->http_listen, &ss, &len) != 0)
        return 0;
    http_on = cfg->http_auth == 1 || (cfg->http_auth == 2 && !addr_is_loopback(&ss));
    if (addr_parse(cfg->listen, &ss, &len) != 0)
        return 0;
    auth_on = cfg->auth == 1 || (cfg->auth == 2 && !addr_is_loopback(&ss));
    if (http_on && !auth_on) {
        snprintf(err, errlen, "http_auth is on (http_listen %s) but auth is off: API keys "
                 "cannot be checked; set auth = 1 or http_auth = 0", cfg->http_listen);
        return -1;
    }
    return 0;
}

int
preflight_check(const struct hitlq_config *cfg, bool try_bind, char *err, size_t errlen)
{
    if (preflight_listen("listen", cfg->listen, cfg, try_bind, err, errlen) != 0)
        return PREFLIGHT_LISTEN;
    if (cfg->http_listen[0] != '\0' &&
        preflight_listen("http_listen", cfg->http_listen, cfg, try_bind, err, errlen) != 0)
        return PREFLIGHT_LISTEN;
    if (preflight_http_auth(cfg, err, errlen) != 0)
        return -1;
    if (cfg->user[0] != '\0' && getpwnam(cfg->user) == NULL) {
        snprintf(err, errlen, "user: no user \"%s\" on this system", cfg->user);
        return -1;
    }
    return preflight_keys(cfg, err, errlen);
}
