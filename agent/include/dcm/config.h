/*
 * dcm/config.h - the YAML configuration: a read-only node tree that remembers where each
 * value came from (file:line:column), diagnostics that name the place and the key path and
 * suggest the closest valid key, and the typed configuration built from it.
 *
 * Ownership: dcm_config_load() returns a dcm_config that owns every node and string in it;
 * dcm_config_destroy() frees it all. Diagnostics are owned by the dcm_diags the caller
 * passes in (dcm_diags_free()).
 */
#ifndef DCM_CONFIG_H
#define DCM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dcm/metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dcm_config_err {
    DCM_CONFIG_OK = 0,
    DCM_CONFIG_EIO,      /* file cannot be read */
    DCM_CONFIG_ESYNTAX,  /* YAML syntax error */
    DCM_CONFIG_EINVALID, /* valid YAML, invalid configuration (see diagnostics) */
    DCM_CONFIG_ENOMEM,
} dcm_config_err;

const char *dcm_config_strerror(dcm_config_err err);

/* ------------------------------------------------------------- diagnostics */

typedef enum dcm_diag_severity { DCM_DIAG_ERROR = 0, DCM_DIAG_WARNING } dcm_diag_severity;

typedef struct dcm_diag {
    dcm_diag_severity severity;
    char *file;    /* as given to the loader */
    int line;      /* 1-based; 0 if unknown */
    int column;    /* 1-based; 0 if unknown */
    char *path;    /* key path, e.g. "collectors[2].interval" or "site.roles.it[0]" */
    char *message; /* what was expected; ends with "did you mean 'x'?" when one is close */
} dcm_diag;

typedef struct dcm_diags {
    dcm_diag *items;
    size_t count;
    size_t cap;
    size_t errors; /* items with severity ERROR */
} dcm_diags;

void dcm_diags_init(dcm_diags *d);
void dcm_diags_free(dcm_diags *d);
/* Appends a diagnostic (printf-style message). Never fails loudly: on allocation failure
 * the diagnostic is dropped but errors is still counted. */
void dcm_diags_add(dcm_diags *d, dcm_diag_severity sev, const char *file, int line, int column,
                   const char *path, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* Prints "file:line:column: error: path: message" lines. */
void dcm_diags_print(const dcm_diags *d, FILE *out);

/* The closest candidate to word by edit distance (NULL if none is close enough). */
const char *dcm_suggest(const char *word, const char *const *candidates, size_t n);

/* --------------------------------------------------------------- node tree */

typedef struct dcm_node dcm_node;

typedef enum dcm_node_type { DCM_NODE_SCALAR = 0, DCM_NODE_MAP, DCM_NODE_LIST } dcm_node_type;

dcm_node_type dcm_node_kind(const dcm_node *n);
const char *dcm_node_file(const dcm_node *n);
int dcm_node_line(const dcm_node *n);
int dcm_node_column(const dcm_node *n);
/* Scalar text (NULL for maps and lists). */
const char *dcm_node_scalar(const dcm_node *n);
/* Number of entries of a map or list (0 for scalars). */
size_t dcm_node_size(const dcm_node *n);
/* i-th list item, or i-th map value. */
const dcm_node *dcm_node_at(const dcm_node *n, size_t i);
/* i-th map key (NULL for lists), and the key's own node for positions. */
const char *dcm_node_key_at(const dcm_node *n, size_t i);
const dcm_node *dcm_node_key_node_at(const dcm_node *n, size_t i);
/* Value of key in a map, or NULL. */
const dcm_node *dcm_node_get(const dcm_node *map, const char *key);

/* Typed scalar readers: return false (and leave *out) if n is missing or not of the form.
 * Durations: "250ms", "1s", "1.5s", "15m", "1h", "1d" or a bare number of seconds. */
bool dcm_node_as_string(const dcm_node *n, const char **out);
bool dcm_node_as_int(const dcm_node *n, long long *out);
bool dcm_node_as_double(const dcm_node *n, double *out); /* finite only */
bool dcm_node_as_bool(const dcm_node *n, bool *out);     /* true/false/yes/no/on/off */
bool dcm_node_as_duration_ns(const dcm_node *n, int64_t *out);

/* Parses a duration string; false on error. */
bool dcm_parse_duration_ns(const char *text, int64_t *out);

/* Reads a secret given as `key: value`, `key_file: PATH` (first line, trailing newline
 * removed) or `key_env: NAME` in map. Returns a malloc'd string the caller frees (and
 * should wipe), or NULL with a diagnostic-ready reason in err (never containing the secret).
 * When none of the three keys is present: NULL with err set to the empty string. */
char *dcm_node_secret(const dcm_node *map, const char *key, char *err, size_t err_size);

/* Parses a standalone YAML document that is not an agent configuration (a device profile
 * compiled into the binary, ...) into a node tree, with the same positions and the same
 * refusals (anchors, aliases, duplicate keys, depth) as the configuration loader. Returns
 * OK with *out (NULL for an empty document) owned by the caller, or ESYNTAX / EINVALID /
 * ENOMEM with diagnostics and *out NULL. file names the document in diagnostics. */
dcm_config_err dcm_node_tree_parse(const char *text, size_t len, const char *file,
                                   dcm_node **out, dcm_diags *diags);
/* Frees a tree from dcm_node_tree_parse() (NULL is allowed). */
void dcm_node_tree_free(dcm_node *root);

/* -------------------------------------------------------- typed config */

typedef struct dcm_selectors {
    char **globs; /* fnmatch(3) patterns over "collector.point" ids */
    size_t count;
    const dcm_node *node; /* where they were written (NULL if absent) */
} dcm_selectors;

typedef struct dcm_zone_config {
    char *name;
    dcm_selectors it;
    dcm_selectors overhead;
} dcm_zone_config;

typedef struct dcm_instrument_config {
    char *period;   /* "2026", "2026-Q3", "2026-07", or "FROM/TO" dates */
    double kwh;
    bool is_ppa;    /* type: ppa; default: certificate (go, rec) */
    char *source;   /* free text for the audit trail; may be NULL */
    const dcm_node *node;
} dcm_instrument_config;

typedef struct dcm_site_config {
    char *name;
    char *timezone;        /* IANA name, default "UTC" */
    int pue_category;      /* 1..3, 0 = not declared */
    dcm_selectors roles[DCM_ROLE_COUNT];
    dcm_zone_config *zones;
    size_t zone_count;
    /* carbon */
    double location_factor; bool has_location_factor;
    char *location_source; int location_year;
    double market_factor; bool has_market_factor;
    char *market_source; int market_year;
    double fuel_factor;
    dcm_instrument_config *instruments; /* site.certificates */
    size_t instrument_count;
    bool onsite_attributes_retained;   /* default true */
    double coverage_ok;                 /* default 0.95 */
    int64_t max_gap_ns;                 /* default 5 min, for power integration */
    /* Descriptive metadata for reports, kept as written (NULL when absent). The numeric
     * ones are checked to be numbers >= 0 (the setpoint: any number) by the loader. */
    char *operator_name;        /* site.operator */
    char *location_code;        /* site.location_code */
    char *site_type;            /* site.type: "enterprise", "colocation" or "co-hosting" */
    char *floor_area_m2;        /* site.floor_area_m2 */
    char *it_floor_area_m2;     /* site.it_floor_area_m2 */
    char *installed_it_kw;      /* site.installed_it_kw */
    char *intake_setpoint_degc; /* site.intake_setpoint_degc */
    char *owner;                /* site.owner */
    char *contact;              /* site.contact */
    char *electrical_redundancy; /* site.electrical_redundancy, e.g. "2N" */
    char *cooling_redundancy;   /* site.cooling_redundancy, e.g. "N+1" */
    /* What the regulatory checks of `dcmetrics report` depend on; the loader checks the
     * forms, NULL / 0 when absent. */
    char *start_of_operation;   /* site.start_of_operation: "YYYY-MM" */
    char *category;             /* site.category: "hyperscale" or "colocation" */
    char **regimes;             /* site.regimes: "eu", "enefg", "taiwan", no duplicates */
    size_t regime_count;
    /* IT load from the machines themselves (docs/kpi-method.md, "IT energy from telemetry"):
     * site.it_source (pdu | telemetry), the baseline per node the telemetry does not see,
     * and the points whose energy is attributed facility energy and carbon. */
    bool it_from_telemetry;     /* site.it_source: telemetry; default pdu (false) */
    double node_baseline_w;     /* site.node_baseline_w, W per node; default 0 */
    long node_count;            /* site.node_count; default 0 */
    dcm_selectors attribution;  /* site.attribution: globs over point ids */
} dcm_site_config;

typedef struct dcm_collector_descriptor dcm_collector_descriptor;

typedef struct dcm_collector_config {
    char *name;                 /* instance name: point ids are "<name>.<point>" */
    char *type;
    int64_t interval_ns;        /* default: agent.interval */
    int64_t timeout_ns;         /* default: min(interval, 5 s) */
    bool enabled;               /* default true */
    const dcm_collector_descriptor *descriptor; /* resolved from type */
    const dcm_node *node;       /* the whole mapping (collector keys read from it) */
} dcm_collector_config;

typedef struct dcm_agent_config {
    char *site;                 /* site id used in topics and tags; default "site" */
    int64_t interval_ns;        /* default 1 s */
    char *state_dir;            /* default "/var/lib/dcmetrics" */
    int log_level;              /* dcm_log_level; default info */
} dcm_agent_config;

/* outputs.journal: the durable journal the MQTT and InfluxDB outputs deliver from
 * (docs/journal.md). Defaults apply when the mapping is absent. */
typedef struct dcm_journal_config {
    uint64_t max_bytes;         /* max_size; default 256 MiB */
    uint64_t segment_bytes;     /* segment_size; default 8 MiB */
    int fsync;                  /* dcm_journal_fsync: 0 batch (default), 1 interval, 2 never */
    int64_t fsync_interval_ns;  /* fsync_interval; default 1 s */
    int when_full;              /* dcm_journal_full_policy: 0 keep_kpi (default),
                                   1 refuse_all, 2 drop_oldest */
    const dcm_node *node;       /* the mapping, NULL when absent */
} dcm_journal_config;

typedef struct dcm_outputs_config {
    /* Validated mappings, NULL when absent; the output modules read them. */
    const dcm_node *mqtt;
    const dcm_node *influxdb;
    const dcm_node *http;
    dcm_journal_config journal;
} dcm_outputs_config;

/* alerts: one rule per entry (docs/alerts.md). */
typedef enum dcm_alert_kind {
    DCM_ALERT_THRESHOLD = 0, /* a KPI (or the coverage) above / below a value for a time */
    DCM_ALERT_OFFLINE,       /* collector instances failing their polls */
    DCM_ALERT_CORRECTION,    /* the integrator corrected a counter (reset, wrap, ...) */
} dcm_alert_kind;

typedef struct dcm_alert_config {
    char *name;               /* unique */
    dcm_alert_kind kind;
    bool critical;            /* severity: critical (default warning) */
    /* THRESHOLD */
    char *kpi;                /* "pue", ..., "coverage", "estimated_share", "ppue.<zone>" */
    int zone;                 /* ppue.<zone>: index in site.zones; -1 otherwise */
    dcm_window window;        /* default 1m */
    bool above;               /* above: fires when value > threshold; below: < threshold */
    double threshold;
    double clear;             /* clears at or beyond this (default: threshold) */
    int64_t for_ns;           /* the condition must hold this long (default 0) */
    /* OFFLINE */
    char *device;             /* fnmatch(3) glob over collector instance names */
    uint32_t offline_for;     /* consecutive failed polls (default 3) */
    /* CORRECTION */
    char *point;              /* glob over point ids (default "*") */
    int correction;           /* dcm_correction, or -1 for any (default reset) */
    int64_t clear_after_ns;   /* clears after this long without another one (default 1h) */
    const dcm_node *node;
} dcm_alert_config;

typedef struct dcm_config {
    char *path;
    dcm_agent_config agent;
    dcm_collector_config *collectors;
    size_t collector_count;
    dcm_site_config site;
    dcm_outputs_config outputs;
    dcm_alert_config *alerts;
    size_t alert_count;
    dcm_node *root; /* owned */
} dcm_config;

/* Loads and validates path. Every problem found goes to diags (the loader carries on after
 * an error to report as many as it can). Returns OK only when diags->errors == 0. */
dcm_config_err dcm_config_load(const char *path, dcm_config **out, dcm_diags *diags);
/* Same from memory; name is used in diagnostics. */
dcm_config_err dcm_config_load_string(const char *text, size_t len, const char *name,
                                      dcm_config **out, dcm_diags *diags);
void dcm_config_destroy(dcm_config *cfg);

#ifdef __cplusplus
}
#endif
#endif /* DCM_CONFIG_H */
