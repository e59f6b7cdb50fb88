/*
 * config_internal.h - what the configuration modules share among themselves (and with the
 * tests): the node tree's layout and parser, diagnostics helpers, and the hook that lets
 * the tests validate collectors against descriptors of their own.
 */
#ifndef DCM_CONFIG_INTERNAL_H
#define DCM_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "dcm/collector.h"
#include "dcm/config.h"

/* Deeper documents are refused: nothing in the schema nests beyond a handful of levels,
 * and the limit keeps every walk over the tree shallow. */
#define DCM_NODE_MAX_DEPTH 64
/* Larger configuration files are refused before parsing. */
#define DCM_CONFIG_MAX_BYTES (16u * 1024u * 1024u)

/* A configuration of a thousand devices with their points inline is a tree of
 * hundreds of thousands of nodes: a scalar's text lives in its node's own allocation,
 * and a map's keys in its items' allocation. */
struct dcm_node {
    dcm_node_type type;
    int line, column; /* 1-based */
    bool plain;       /* SCALAR: written unquoted (so "~", "null" and "" mean null) */
    const char *file; /* owned by the root node (owned_file) */
    char *scalar;     /* SCALAR: the text, NUL-terminated (points at text) */
    dcm_node **keys;  /* MAP: key nodes (scalars), in the allocation of items */
    dcm_node **items; /* MAP: values; LIST: items */
    size_t count, cap;
    char *owned_file; /* root only */
    char text[];      /* SCALAR */
};

/* Parses one YAML document. *out is NULL for an empty document. Syntax errors, and
 * documents this loader refuses outright (several documents, too deep), return ESYNTAX
 * with a diagnostic and no tree. Anchors, aliases, merge keys and duplicate keys are
 * reported as errors in diags while the tree is still returned, so that validation can
 * carry on and report more. */
dcm_config_err dcm_node_parse(const char *text, size_t len, const char *file, dcm_node **out,
                              dcm_diags *diags);
void dcm_node_free(dcm_node *root);

/* A plain empty, "~" or "null" scalar: treated as if the key were absent. */
bool dcm_node_is_null(const dcm_node *n);

/* Adds a diagnostic at node n (or at no position when n is NULL). */
void dcm_diag_at(dcm_diags *d, dcm_diag_severity sev, const dcm_node *n, const char *path,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* True if an IANA zone name is safe to put in TZ and its zone file exists under $TZDIR
 * (or /usr/share/zoneinfo); "UTC" is always known. */
bool dcm_config_timezone_known(const char *name);
/* The IANA zone closest to a misspelt name (from the zone table of the time zone data),
 * copied into out; false if none is close or the table cannot be read. */
bool dcm_config_timezone_suggest(const char *name, char *out, size_t size);

/* Collector type lookup used by the loader. NULL arguments restore the compiled-in
 * registry (dcm_collector_find / dcm_collector_all). Not thread-safe: tests only. */
typedef const dcm_collector_descriptor *(*dcm_collector_find_fn)(const char *type);
typedef const dcm_collector_descriptor *const *(*dcm_collector_all_fn)(void);
void dcm_config_set_collector_lookup(dcm_collector_find_fn find, dcm_collector_all_fn all);

/* A key table entry for glob selectors: one string or a list of strings. The generic
 * check lets it through; dcm_cfg_selectors() validates it. */
#define DCM_KEY_SELECTORS ((dcm_key_type)100)

/* The keys every collector entry takes (name, type, interval, timeout, enabled). */
const dcm_config_key *dcm_config_collector_common_keys(void);
/* "string", "integer", "number", "boolean", "duration", "secret", "list", "mapping". */
const char *dcm_config_key_type_name(dcm_key_type t);

/* Validation of the site section (config_site.c), called by the loader. */
typedef struct dcm_cfg_ctx {
    dcm_diags *diags;
    bool oom; /* an allocation failed: the result is ENOMEM */
} dcm_cfg_ctx;

/* Checks map's keys against a table (terminated by name == NULL): unknown keys (with a
 * suggestion), scalar types, required keys, and the exclusive KEY / KEY_file / KEY_env
 * forms of SECRET keys. extra, if not NULL, is a second table accepted alongside. Returns
 * false if map is not a mapping (reported). */
bool dcm_cfg_check_keys(dcm_cfg_ctx *c, const dcm_node *map, const char *path,
                        const dcm_config_key *keys, const dcm_config_key *extra);
/* The same, but keys missing from the table are let through (used when the rest of a
 * mapping is described by a table that is not available). */
bool dcm_cfg_check_known_keys(dcm_cfg_ctx *c, const dcm_node *map, const char *path,
                              const dcm_config_key *keys);
/* strdup that records an allocation failure in c. NULL in, NULL out. */
char *dcm_cfg_strdup(dcm_cfg_ctx *c, const char *s);
/* Reads site (a mapping, or NULL when absent) into *out, applying the defaults. */
void dcm_cfg_load_site(dcm_cfg_ctx *c, const dcm_node *site, dcm_site_config *out);
void dcm_cfg_free_site(dcm_site_config *site);
/* Reads outputs.journal (a mapping, or NULL for the defaults) into *out (config_journal.c). */
void dcm_cfg_load_journal(dcm_cfg_ctx *c, const dcm_node *journal, dcm_journal_config *out);
/* Reads the alerts list (NULL when absent) into cfg->alerts (config_alerts.c); the site
 * must be loaded first (ppue.<zone> names a zone). */
void dcm_cfg_load_alerts(dcm_cfg_ctx *c, const dcm_node *list, dcm_config *cfg);
void dcm_cfg_free_alerts(dcm_config *cfg);

#endif
