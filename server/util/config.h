/*
 * config.h - hitlqd's configuration: one struct, one declarative option
 * table (name, type, default, bounds, help) that drives the libConfuse
 * parser, the defaults, `hitlqd -n` and the annotated sample config.
 */
#ifndef HITLQ_CONFIG_H
#define HITLQ_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct hitlq_config {
    char     listen[128];          /* "host:port"; port 0 = ephemeral */
    char     data_dir[512];        /* LMDB environment directory */
    char     policy[512];          /* policy file; "" = embedded default */
    uint64_t map_size_mb;          /* LMDB map size at start */
    uint64_t map_size_max_mb;      /* the map's ceiling; 0 = 8 x map_size_mb */
    uint64_t max_attempts;         /* lease expiries before dead-lettering */
    char     dead_letter_queue[65];
    uint64_t max_connections;
    uint64_t max_connections_per_addr;
    uint64_t hello_timeout_ms;     /* HELLO (+ auth) must succeed within this */
    uint64_t idle_timeout_ms;      /* 0 = never */
    uint64_t max_batch;            /* requests per group commit */
    uint64_t frame_timeout_ms;     /* a started frame must complete within this */
    uint64_t slow_reader_timeout_ms; /* output over the cap this long -> close */
    char     log_level[16];
    uint64_t audit;                /* 1 = signed audit log on (default), 0 = off */
    char     audit_key[512];       /* signing key file; "" = <data_dir>/audit.key */
    char     audit_origin[256];    /* log origin at first start; "" = generated */
    uint64_t audit_checkpoint_ms;  /* sign at least this often while entries arrive */
    uint64_t auth;                 /* 1 = API key required in HELLO, 0 = off, 2 = auto
                                    * (on unless listen is loopback; see auth.c) */
    char     auth_bootstrap_key[512]; /* first admin key file; "" = <data_dir>/admin.key */
    /* TLS (server/net/tls.c): on when tls_cert is set */
    char     tls_cert[512];        /* PEM certificate chain; "" = no TLS */
    char     tls_key[512];         /* PEM private key; "" = in tls_cert */
    char     tls_client_ca[512];   /* CA for client certificates; "" = none asked */
    char     tls_min_version[8];   /* "1.3" or "1.2" */
    uint64_t handshake_timeout_ms; /* a TLS handshake must finish within this */
    uint64_t insecure_plaintext;   /* 1 = allow no TLS on a non-loopback address */
    uint64_t drift_window_s;       /* input-drift window length (server/cmd/drift_commit.h) */
    /* HTTP listener (server/http/http.h): metrics, health, dashboard */
    char     ha_pg[1024];          /* libpq conninfo; "" = single node (docs/HA.md) */
    char     ha_node[128];         /* this node's name; "" = the listen address */
    char     ha_advertise[128];    /* host:port for clients; "" = the listen address */
    uint64_t ha_lease_ms;          /* leadership lease */
    char     http_listen[128];     /* "host:port"; "" = off; port 0 = ephemeral */
    uint64_t http_auth;            /* 1 = bearer API key required, 0 = off, 2 = auto */
    uint64_t http_max_connections; /* HTTP connections at once */
    uint64_t http_timeout_ms;      /* read/write timeout of an HTTP connection */
    char     log_format[8];        /* "plain" or "json" (server/util/log.h) */
    char     log_target[8];        /* "stderr" or "syslog" */
    char     log_facility[8];      /* syslog facility: daemon, user, local0..local7 */
    uint64_t max_unauthenticated;  /* connections before HELLO/AUTH, in total */
    uint64_t max_unauthenticated_per_addr; /* ... and from one address */
    char     user[64];             /* drop to this user after binding; "" = none */
};

/* Fills *cfg with the defaults, then, if path != NULL, parses the file.
 * Returns 0 or -1 with a message in err. */
int config_load(struct hitlq_config *cfg, const char *path, char *err, size_t errlen);

/* The ceiling of the LMDB map in MiB: map_size_max_mb, or 8 x map_size_mb
 * when that is 0, never below map_size_mb nor above 2^24. */
uint64_t config_map_max_mb(const struct hitlq_config *cfg);

/* Writes an annotated config file with every option at its default. */
void config_write_sample(FILE *f);

#endif
