/*
 * cli.h - shared declarations of the hitlq command-line tool (hitlq.c and
 * cli_*.c).  The tool uses only the public libhitlq API plus jansson.
 */
#ifndef HITLQ_CLI_H
#define HITLQ_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>
#include <msgpack.h>

#include "hitlq_msgpack.h"

/* Exit codes. */
#define CLI_EXIT_OK     0
#define CLI_EXIT_ERR    1
#define CLI_EXIT_USAGE  2
#define CLI_EXIT_EMPTY  3

struct cli {
    hitlq      *c;
    bool        json;
    const char *host;
    uint16_t    port;
    const char *name;
    const char *tls_ca, *tls_cert, *tls_key, *tls_name;   /* NULL = not given */
    const char *api_key;      /* HELLO api_key; NULL = none */
    const char *key_file;     /* Ed25519 secret key file; NULL = none */
    const char *role;         /* the role signed with it */
    const char *servers;      /* "host:port,..." (-s, $HITLQ_SERVERS); NULL = host/port */
};

/* ---- cli_json.c: JSON <-> MessagePack ------------------------------------- */

/* One parsed submit line. */
struct cli_item {
    char           *key;          /* owned */
    char           *type;         /* owned */
    int64_t         priority;     /* -1 = the policy's */
    msgpack_sbuffer fields;       /* packed map */
};

/* Parses a JSON line {"key", "type", "fields": {...}, "priority"?} into it.
 * Returns 0, or -1 with a message in err (it is then cleared). */
int  cli_item_parse(const char *line, struct cli_item *it, char *err, size_t errlen);
void cli_item_clear(struct cli_item *it);

/* Packs a JSON object of scalar values as a MessagePack map.  Returns 0 or
 * -1 with a message in err (nested objects/arrays are refused). */
int cli_json_pack_fields(const json_t *obj, msgpack_packer *pk, char *err, size_t errlen);

/* Converts any MessagePack object to JSON (new reference, NULL on OOM).
 * uint64 above INT64_MAX becomes a decimal string, bin a hex string. */
json_t *cli_mp_to_json(const msgpack_object *o);

/* Prints an object readably: strings bare, containers as compact JSON. */
void cli_mp_print(FILE *f, const msgpack_object *o);

/* Prints a JSON value compactly on one line. */
void cli_json_println(FILE *f, json_t *j);

/* Formats epoch milliseconds as ISO 8601 UTC into buf. */
const char *cli_time(uint64_t ms, char *buf, size_t len);

/* ---- cli_cmds.c / cli_items.c: commands ------------------------------------ */

int cli_submit(struct cli *cl, int argc, char **argv);
int cli_claim(struct cli *cl, int argc, char **argv);
int cli_extend(struct cli *cl, int argc, char **argv);
int cli_release(struct cli *cl, int argc, char **argv);
int cli_resolve(struct cli *cl, int argc, char **argv);
int cli_escalate(struct cli *cl, int argc, char **argv);
int cli_get(struct cli *cl, int argc, char **argv);
int cli_watch(struct cli *cl, int argc, char **argv);
int cli_stats(struct cli *cl, int argc, char **argv);

/* Readable view of an item map (CLAIM or GET reply), history aside. */
void cli_print_item(const msgpack_object *body);

/* Helpers shared by the command files (hitlq.c). */
int  cli_connect(struct cli *cl);
/* The connection options of the global flags into *o (an Ed25519 key file
 * is read into sk: wipe it after connecting).  CLI_EXIT_OK or _ERR. */
int  cli_options(struct cli *cl, hitlq_options *o, char *sk, size_t sk_len);
int  cli_fail(struct cli *cl, const char *what, int rc);    /* prints, returns 1 */
int  cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool cli_parse_u64(const char *s, uint64_t *v);
bool cli_parse_secs(const char *s, uint32_t *ms);           /* "1.5" -> 1500 */
const msgpack_object *cli_map_get(const msgpack_object *m, const char *key);

/* A range read of one item type (cli_drift.c): DRIFT_INPUTS, DRIFT_REVIEW. */
struct cli_drift_cmd {
    const char *name, *usage;            /* for errors */
    const char *from_opt, *to_opt;       /* long option names of the range */
    int  (*call)(hitlq *c, const char *type, uint64_t from_ms, uint64_t to_ms,
                 hitlq_reply **out);
    void (*print)(const hitlq_reply *r);  /* the readable form */
};
int cli_drift_range(struct cli *cl, int argc, char **argv, const struct cli_drift_cmd *dc);

#endif
