/*
 * snmp_config.h - a `type: snmp` collector entry read into what the collector runs: the
 * target (address, version, credentials, timeouts) and the points (a compiled-in profile,
 * a profile file, `auto`, and/or the entry's own points and tables). Shared by the
 * collector's init, the configuration check and `dcmetrics probe snmp`, which builds the
 * same struct from its command line.
 *
 * Ownership: dcm_snmp_instance_free() frees everything the instance owns, wiping the secrets
 * first; its profile belongs to the process-wide cache below.
 */
#ifndef DCM_SNMP_CONFIG_H
#define DCM_SNMP_CONFIG_H

#include "snmp_map.h"

typedef enum dcm_snmp_auth {
    DCM_SNMP_AUTH_NONE = 0,
    DCM_SNMP_AUTH_MD5,
    DCM_SNMP_AUTH_SHA,
    DCM_SNMP_AUTH_SHA224,
    DCM_SNMP_AUTH_SHA256,
    DCM_SNMP_AUTH_SHA384,
    DCM_SNMP_AUTH_SHA512,
} dcm_snmp_auth;

typedef enum dcm_snmp_priv {
    DCM_SNMP_PRIV_NONE = 0,
    DCM_SNMP_PRIV_DES,
    DCM_SNMP_PRIV_AES128,
    DCM_SNMP_PRIV_AES192,
    DCM_SNMP_PRIV_AES256,
} dcm_snmp_priv;

typedef struct dcm_snmp_target {
    char *peer;        /* net-snmp peer name: "udp:HOST:PORT" / "udp6:[ADDR]:PORT" */
    char *display;     /* HOST:PORT as written, for logs */
    int version;       /* 1, 2 (v2c) or 3 */
    char *community;   /* v1/v2c (secret) */
    char *user;        /* v3 */
    char *context;     /* v3 context name, "" by default */
    dcm_snmp_auth auth;
    dcm_snmp_priv priv;
    char *auth_password; /* secret */
    char *priv_password; /* secret */
    int retries;
    int64_t request_timeout_ns;
    int max_repetitions; /* 0: sized to each table */
    int max_varbinds;    /* variables per GET request */
} dcm_snmp_target;

typedef struct dcm_snmp_instance {
    dcm_snmp_target target;
    bool auto_profile;
    /* Borrowed from the process-wide cache (dcm_snmp_profile_get()), never freed here;
     * NULL for auto or when only own points are given. */
    const dcm_snmp_profile *profile;
    dcm_snmp_point *points;    /* the entry's own scalars (replace profile points by name) */
    size_t point_count;
    dcm_snmp_table *tables;    /* the entry's own tables (replace profile tables by name) */
    size_t table_count;
} dcm_snmp_instance;

extern const dcm_config_key dcm_snmp_instance_keys[];

/* Names of protocols as written in configurations and on the command line. */
bool dcm_snmp_auth_parse(const char *s, dcm_snmp_auth *out);  /* MD5 SHA SHA-224 ... SHA-512 */
bool dcm_snmp_priv_parse(const char *s, dcm_snmp_priv *out);  /* DES AES AES-128 AES-192 AES-256 */
const char *dcm_snmp_auth_name(dcm_snmp_auth a);
const char *dcm_snmp_priv_name(dcm_snmp_priv p);
/* "HOST", "HOST:PORT", "[v6]" or "[v6]:PORT" -> the net-snmp peer name (port 161 by
 * default). Returns a malloc'd string, or NULL with why set. */
char *dcm_snmp_peer_name(const char *host, char *why, size_t why_size);
/* "1", "2c" or "3". */
bool dcm_snmp_version_parse(const char *s, int *out);

/* Reads the collector mapping (already checked against dcm_snmp_instance_keys). interval_ns
 * and timeout_ns (the poll deadline) give the request timeout's default. OK, EINVALID
 * (diags say why) or ENOMEM; *out is always safe to free. */
dcm_snmp_err dcm_snmp_instance_parse(const dcm_node *item, int64_t timeout_ns, const char *path,
                                     dcm_snmp_instance *out, dcm_diags *diags);
/* `dcmetrics check` (the descriptor's check hook): the same reading, into a temporary
 * instance, except that secrets given as KEY_file / KEY_env that cannot be read here are
 * taken as given (the loader warned already: `check` may run where the agent's files and
 * environment are not). OK, EINVALID (diags say why) or ENOMEM. */
dcm_snmp_err dcm_snmp_instance_check(const dcm_node *item, int64_t timeout_ns, const char *path,
                                     dcm_diags *diags);
void dcm_snmp_instance_free(dcm_snmp_instance *inst);
void dcm_snmp_target_free(dcm_snmp_target *t);

/* ------------------------------------------------------ shared profiles */

/* Whether a `profile:` value names a file (it has a '/' or ends in .yaml / .yml) rather
 * than a compiled-in profile. */
bool dcm_snmp_profile_is_file(const char *value);
/* The path of profile file value: an absolute value as it is, a relative one against the
 * directory of config_file (NULL, or a name without '/' such as "<config>": the current
 * directory). malloc'd; NULL when out of memory. */
char *dcm_snmp_profile_path(const char *value, const char *config_file);
/* The profile `profile: value` names, written at node where (NULL: none, e.g. the command
 * line; its file is the base of a relative path) with key path `path` for diagnostics.
 * Compiled-in profiles by name, files by real path: each is parsed once per process, by
 * the first caller, and kept until exit (the cache is thread-safe); *out is borrowed.
 * OK; ENOTFOUND (unknown name with a suggestion, or a file that cannot be read: its path
 * and why, at where); EINVALID (the profile's own file:line:column diagnostics for the
 * first caller, one line naming it for later ones); ENOMEM. */
dcm_snmp_err dcm_snmp_profile_get(const char *value, const dcm_node *where, const char *path,
                                  const dcm_snmp_profile **out, dcm_diags *diags);
/* A compiled-in profile from the same cache, without diagnostics (NULL if none of that
 * name, or invalid). */
const dcm_snmp_profile *dcm_snmp_profile_shared(const char *name);

#endif /* DCM_SNMP_CONFIG_H */
