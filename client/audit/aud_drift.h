/*
 * aud_drift.h - private declarations of `hitlq-audit drift`, the offline
 * drift and root-cause review of a verified export (client/audit/aud_drift*.c;
 * the statistics are proto/drift_stats.h).
 *
 * Flow: aud_drift.c parses the options and runs the verification of
 * client/audit/aud_verify.c with a per-entry hook; every entry that passed
 * the checks goes to aud_drift_read.c, which keeps one compact row per
 * model decision (struct dr_item) and per human or queue entry (struct
 * dr_verdict) and counts what needs no pairing (rules, reasons, models,
 * policies).  Only when the whole export verified (root as signed) are
 * the figures computed (aud_drift_agree.c, aud_drift_qa.c,
 * aud_drift_score.c, aud_drift_roots.c) into one JSON tree in a fixed key
 * order, which the three formats render: --json as is, the terminal table
 * (aud_drift_text.c) and the HTML page (aud_drift_html.c with the charts
 * of aud_drift_svg.c).  Nothing depends on the clock of the run, a hash
 * order or an address: the same export gives the same bytes.
 */
#ifndef HITLQ_AUD_DRIFT_H
#define HITLQ_AUD_DRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "aud.h"

#define DR_NONE          UINT32_MAX
#define DR_WHATIF_MAX    16
#define DR_SCORE_BINS    10          /* score histograms and reliability tables */
#define DR_LABELS_MAX    16          /* action names in a confusion matrix */

/* ---- options (aud_drift.c) ------------------------------------------------- */

enum dr_format { DR_TEXT, DR_JSON, DR_HTML };

struct dr_opts {
    const char     *dir;
    struct aud_keys keys;
    uint64_t        since_ms, until_ms;       /* [since, until) of decision times */
    uint64_t        window_ms;                /* window width */
    char            window_text[32];          /* as given, e.g. "1d" */
    bool            ref_first;                /* --reference first (default) */
    uint64_t        ref_ms;                   /* else a time inside the reference */
    double          what_if[DR_WHATIF_MAX];
    size_t          n_what_if;
    double          qa_rate;                  /* --qa-rate, or < 0 when not given */
    enum dr_format  format;
    const char     *html_path;
};

/* ---- interned strings and counters (aud_drift_util.c) ---------------------- */

/* A set of byte strings, each given a dense id in order of first sight.
 * Owned; dr_strs_clear frees. */
struct dr_strs {
    char    **s;          /* s[id]: NUL-terminated copy */
    uint32_t *len;
    uint32_t  n, cap;
    uint32_t *slot;       /* hash slots: id + 1, 0 = empty */
    uint32_t  slot_cap;   /* power of two */
};

/* The id of p[0..n) (added on first sight); DR_NONE when out of memory. */
uint32_t dr_intern(struct dr_strs *t, const void *p, size_t n);
/* The string of id ("" for DR_NONE). */
const char *dr_str(const struct dr_strs *t, uint32_t id);
void dr_strs_clear(struct dr_strs *t);

/* Counts keyed by three u32 (e.g. kind, string id, window).  Owned. */
struct dr_count_slot {
    uint32_t a, b, c;
    bool     used;
    uint64_t n;
};
struct dr_counts {
    struct dr_count_slot *s;
    size_t                cap, n;
};

/* Adds v to the count of (a, b, c); -1 when out of memory. */
int dr_count_add(struct dr_counts *t, uint32_t a, uint32_t b, uint32_t c, uint64_t v);
/* The count of (a, b, c) (0 when absent). */
uint64_t dr_count_get(const struct dr_counts *t, uint32_t a, uint32_t b, uint32_t c);
void dr_counts_clear(struct dr_counts *t);
/* The slots of first key a, sorted by (b, c), into *out (malloc'd, caller
 * frees; NULL when out of memory); returns how many. */
size_t dr_counts_collect(const struct dr_counts *t, uint32_t a, struct dr_count_slot **out);

/* "2025-06-01T12:00:00.123Z" (UTC) into out[32]; returns out. */
const char *dr_iso(uint64_t ms, char out[32]);
/* Parses "YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z]" (UTC) or Unix ms digits. */
bool dr_parse_time(const char *s, uint64_t *ms);
/* Parses "<n>ms|s|m|h|d|w" (n >= 1) into milliseconds. */
bool dr_parse_width(const char *s, uint64_t *ms);
/* A finite double in [lo, hi] from all of s. */
bool dr_parse_double(const char *s, double lo, double hi, double *v);
/* 64 lowercase hex digits of a 32-byte digest into out[65]. */
const char *dr_hex(const uint8_t d[32], char out[65]);
/* o's value at "a" or "a.b" (one level down), or NULL. */
const json_t *dr_get(const json_t *o, const char *path);
/* v as a number for printing: NaN when not a number, 0 when it rounds to
 * zero at 4 decimals (so that no "-0.0000" is printed). */
double dr_printable(const json_t *v);

/* ---- the rows of an export (aud_drift_read.c) ------------------------------ */

enum dr_item_flag {
    DR_SCORED      = 0x01,   /* score meaningful */
    DR_QA          = 0x02,   /* SCORING: drawn for the blind QA sample */
    DR_HARD        = 0x04,   /* routed by a hard rule */
    DR_HAS_REC     = 0x08,   /* RECOMMENDATION present (format v2) */
    DR_REJECT_BAND = 0x10,   /* the type has a reject band */
    DR_AUTO        = 0x20,   /* AUTO_DECISION (else ESCALATION) */
    DR_HAS_SCORING = 0x40,   /* SCORING present */
};

/* One model decision (AUTO_DECISION or ESCALATION) inside --since/--until. */
struct dr_item {
    uint64_t index, time_ms;
    double   score;
    double   lean, auto_thr, reject_thr;   /* RECOMMENDATION; else threshold */
    uint32_t model;      /* dr_read.models index */
    uint32_t policy;     /* string id of policy_id */
    uint32_t queue;      /* string id of the QUEUE_REF queue, DR_NONE */
    uint32_t cur_queue;  /* the queue it is in now (after escalations) */
    uint32_t rec;        /* string id of the recommendation ("" = none),
                            DR_NONE when the entry has no RECOMMENDATION */
    uint32_t window;     /* ordinal in dr_read.windows */
    uint16_t reason;     /* first model reason code (< 0x4000), 0 = none */
    uint8_t  route;      /* SCORING route, 0 = unknown */
    uint8_t  flags;      /* enum dr_item_flag */
};

enum dr_verdict_flag {
    DRV_QA     = 0x01,   /* the item was a blind QA copy */
    DRV_LEGACY = 0x02,   /* format v1: OUTCOME only (its agreement is not used) */
    DRV_REVIEW = 0x04,   /* a four-eyes verdict (REVIEW k of n) */
    DRV_SHOWN  = 0x08,   /* REVIEW flag SHOWN: the reviewer saw the recommendation */
    DRV_FINAL  = 0x10,   /* REVIEW flag FINAL: this verdict closed the item */
    DRV_WITHDRAWN = 0x20,   /* a later AMEND or REOPEN refers to this decision */
    DRV_CHAINED = 0x40,  /* refers to a human decision (AMEND, REOPEN), not to
                            the model decision: item found through that entry */
};

/* One human or queue entry referring to a model decision in items[], or
 * to an entry in verdicts[] that does (AMEND and REOPEN refer to the
 * decision they act on, proto/AUDIT-FORMAT.md §9 note 7). */
struct dr_verdict {
    uint64_t index, time_ms;
    uint32_t item;       /* index into dr_read.items */
    uint32_t outcome;    /* string id */
    uint32_t rec;        /* string id (VERDICT's recommendation) */
    uint32_t root_cause; /* string id ("" = none) */
    uint32_t reviewer;   /* string id */
    uint32_t queue;      /* string id of the queue it was decided in */
    uint8_t  agreement;  /* VERDICT 0..3; legacy: 0 */
    uint8_t  flags;      /* enum dr_verdict_flag */
};

/* A model seen in the log, by digest. */
struct dr_model {
    uint8_t  digest[32];
    uint32_t name;        /* string id of "id@version" */
    uint32_t framework;   /* string id (MODEL_INFO), DR_NONE */
    uint64_t decisions, first_ms, last_ms, registered_ms;
    bool     registered;
};

/* A window of decision times [start, start + width). */
struct dr_window {
    uint64_t start_ms;
    uint64_t decisions, scored, verdicts;
    uint64_t routes[8];       /* decisions by SCORING route (0: unknown) */
};

/* Kinds of dr_read.counts keys (first key). */
enum dr_count_kind {
    DRC_RULE_CHECK = 1,   /* (kind, rule id, window): validation rules */
    DRC_RULE_HARD,        /* hard rules */
    DRC_REASON,           /* (kind, reason code, window): primary reason, to humans */
    DRC_ROOT,             /* (kind, root_cause id, window) */
    DRC_ROOT_QUEUE,       /* (kind, root_cause id, queue id) */
    DRC_POLICY,           /* (kind, policy id, 0): model decisions */
};

/* A POLICY_CHANGE entry. */
struct dr_pchange {
    uint32_t policy;      /* string id of policy_id */
    uint32_t digest;      /* string id of the policy file's SHA-256 (hex) */
    uint64_t time_ms;
};

/* Input drift (aud_drift_input.c): a reference profile (PROFILE_REGISTERED)
 * and the summed counts of the INPUT_WINDOW entries of one report window
 * and profile.  Histograms: the profile's bins, then missing, then unseen
 * (the reference has no unseen values). */
#define DR_IN_SLOTS (RECORD_EXT_DRIFT_BINS_MAX + 2u)
struct dr_in_feature {
    uint32_t name;          /* string id */
    uint8_t  kind;          /* enum record_ext_feature_kind */
    uint8_t  n_bins;
    double   ref[DR_IN_SLOTS];
};
struct dr_profile {
    uint8_t              digest[32];
    uint32_t             version;       /* string id */
    uint64_t             n, registered_ms;
    uint8_t              n_features;
    struct dr_in_feature f[RECORD_EXT_DRIFT_FEATURES_MAX];
};
struct dr_in_window {
    uint64_t start_ms;      /* report window (aligned to --window) */
    uint32_t profile;       /* index into dr_read.profiles */
    uint32_t item_type;     /* string id */
    uint64_t n, entries;
    double   cur[RECORD_EXT_DRIFT_FEATURES_MAX][DR_IN_SLOTS];
};

/* Per feature: sum of |contribution| in TOP_FEATURES. */
struct dr_feature {
    uint32_t name;
    double   sum_abs;
    uint64_t n;
};

/* Everything read from one export.  Owned; dr_read_clear frees. */
struct dr_read {
    const struct dr_opts *o;
    struct dr_strs   strs;
    struct dr_item  *items;
    size_t           n_items, cap_items;
    struct dr_verdict *verdicts;
    size_t           n_verdicts, cap_verdicts;
    struct dr_model *models;
    size_t           n_models, cap_models;
    struct dr_window *windows;
    size_t           n_windows, cap_windows;
    struct dr_pchange *pchanges;
    size_t           n_pchanges, cap_pchanges;
    struct dr_feature *features;
    size_t           n_features, cap_features;
    struct dr_profile *profiles;
    size_t           n_profiles, cap_profiles;
    struct dr_in_window *inwin;
    size_t           n_inwin, cap_inwin;
    void            *scratch;                 /* profile / counts decoding (heap) */
    uint32_t         reason_name[0x4000];   /* reason code -> feature name id + 1 */
    struct dr_counts counts;
    uint64_t entries, first_ms, last_ms;
    uint64_t n_v1_items, n_v2_items, n_v1_verdicts, n_v2_verdicts;
    uint64_t n_no_scoring, n_outside, n_orphans, n_input_windows;
    uint64_t n_amended, n_reopened;           /* decisions withdrawn by AMEND / REOPEN */
    uint64_t rectype[256];                    /* entries by record_type */
    uint32_t last_model;                      /* cache of the last model hit */
    uint32_t last_policy;                     /* cache of the last policy_id */
    uint64_t policy_run;                      /* decisions of last_policy not yet counted */
    struct record_ext_top_features tf;        /* decoding scratch (10 KB) */
};

/* Starts an empty read for options o. */
void dr_read_init(struct dr_read *d, const struct dr_opts *o);
/* Takes one verified entry (positions in order).  AUD_IO when out of memory. */
enum aud_class dr_read_entry(struct dr_read *d, uint64_t pos, const struct record *rec,
                             struct aud_result *r);
/* PROFILE_REGISTERED and INPUT_WINDOW entries (aud_drift_input.c). */
enum aud_class dr_read_profile(struct dr_read *d, const struct record *rec,
                               struct aud_result *r);
enum aud_class dr_read_input_window(struct dr_read *d, const struct record *rec,
                                    struct aud_result *r);
/* Makes room for one more element in *p (n used of *cap); -1 when OOM. */
int dr_grow(void **p, size_t *cap, size_t n, size_t elem);

/* Counts what the reader holds back (after the last entry); -1 when OOM. */
int dr_read_flush_policy(struct dr_read *d);
void dr_read_clear(struct dr_read *d);

/* ---- figures (aud_drift_agree.c, _qa.c, _score.c, _roots.c) ------------- */

/* The context the figures share. */
struct dr_ctx {
    const struct dr_opts *o;
    struct dr_read       *d;
    const struct aud_checkpoint *cp;
    uint32_t labels[DR_LABELS_MAX];   /* action names (string ids), sorted */
    unsigned n_labels;
    uint32_t auto_action, reject_action;   /* string ids or DR_NONE */
    double   qa_rate[8];              /* sampling rate per route (< 0: unknown) */
    bool     qa_rate_given;
    uint32_t ref_window;              /* ordinal, DR_NONE when none */
};

/* The report sections; each adds its key(s) to report.  -1 when out of memory.
 * dr_header_json (aud_drift_header.c): checkpoint, range, windows, models,
 * policies and what the log lacks. */
int dr_header_json(const struct dr_ctx *c, json_t *report);
int dr_agree_json(const struct dr_ctx *c, json_t *report);
int dr_qa_json(const struct dr_ctx *c, json_t *report);
int dr_calib_json(const struct dr_ctx *c, json_t *report);
int dr_whatif_json(const struct dr_ctx *c, json_t *report);
int dr_score_json(const struct dr_ctx *c, json_t *report);
int dr_input_json(const struct dr_ctx *c, json_t *report);
int dr_roots_json(const struct dr_ctx *c, json_t *report);

/* Shared by the sections (aud_drift_util.c). */
/* A JSON number, or null when v is NaN or infinite. */
json_t *dr_num(double v);
/* Interval {est, lo, hi, n, n_eff} (nulls for NaN). */
struct drift_interval;
json_t *dr_interval_json(const struct drift_interval *iv);
/* The band label of an item: the policy's bands from its thresholds when
 * the entry carries them (v2), else the score decile; *lo gets the band's
 * lower bound (2 for "unscored"), to sort bands by. */
const char *dr_band(const struct dr_item *it, char out[48], double *lo);
/* Human-readable route name ("?" for unknown). */
const char *dr_route_name(unsigned route);
/* ISO start of window w. */
const char *dr_window_name(const struct dr_ctx *c, uint32_t w, char out[32]);

/* ---- rendering ----------------------------------------------------------- */

/* Each element v (index i) of JSON array a (jansson's own foreach macros
 * are invisible to cppcheck). */
#define DR_EACH(a, i, v) \
    for ((i) = 0; (i) < json_array_size(a) && ((v) = json_array_get((a), (i))) != NULL; (i)++)

/* The terminal table of report on f (aud_drift_text.c).  -1 on write error. */
int dr_render_text(const json_t *report, FILE *f);
/* The HTML page (aud_drift_html.c). */
int dr_render_html(const json_t *report, FILE *f);
/* Inline SVG charts (aud_drift_svg.c); each writes one <svg> element. */
/* Bars of two histograms over [0, 1] (reference and current). */
void dr_svg_hist(FILE *f, const char *title, const json_t *ref, const json_t *cur);
/* Reliability diagram from a calibration table's rows. */
void dr_svg_reliability(FILE *f, const char *title, const json_t *rows, const json_t *rows_w);
/* Horizontal bars of a value per key: rows of objects with key_field and
 * val_field (values in [0, max]). */
void dr_svg_bars(FILE *f, const char *title, const json_t *rows, const char *key_field,
                 const char *val_field, double max);
/* Lines of one or more series over the windows. */
void dr_svg_trend(FILE *f, const char *title, const json_t *windows,
                  const json_t *series);
/* HTML-escaped s on f. */
void dr_html_esc(FILE *f, const char *s);

#endif /* HITLQ_AUD_DRIFT_H */
