/*
 * rf_config.h - a `type: redfish` collector entry: one BMC (url:) or many (bmcs:), each
 * with its credentials, authentication mode, TLS settings and chassis choice (an entry of
 * bmcs: inherits every key it does not give from the collector entry).
 *
 * Ownership: rf_instance_free() frees everything, wiping the passwords first.
 */
#ifndef DCM_RF_CONFIG_H
#define DCM_RF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "dcm/collector.h"
#include "dcm/config.h"

typedef enum rf_err {
    RF_OK = 0,
    RF_EINVALID, /* the configuration is wrong (diagnostics say where) */
    RF_ENOMEM,
} rf_err;

const char *rf_strerror(rf_err err);

typedef enum rf_auth { RF_AUTH_NONE = 0, RF_AUTH_BASIC, RF_AUTH_SESSION } rf_auth;

typedef struct rf_bmc_spec {
    char *name;       /* NULL: the collector entry is the BMC (url:) */
    char *url;        /* "https://host[:port]", no trailing slash */
    char *username;   /* NULL with auth none */
    char *password;   /* a secret: never logged */
    rf_auth auth;
    char *ca_file;    /* NULL: the system's CA store */
    bool verify;      /* TLS peer and host name verification */
    char **chassis;   /* chassis ids to read; none: the first that reports power */
    size_t chassis_count;
} rf_bmc_spec;

typedef struct rf_instance {
    rf_bmc_spec *bmcs;
    size_t count;
    int parallel;     /* transfers at once */
    bool keep_alive;  /* one open connection per BMC between polls */
} rf_instance;

extern const dcm_config_key rf_instance_keys[];
extern const dcm_config_key rf_bmc_keys[];

/* Reads the collector's mapping; path prefixes diagnostic paths. Returns OK, EINVALID or
 * ENOMEM; *out is always safe to free. */
rf_err rf_instance_parse(const dcm_node *item, const char *path, rf_instance *out,
                         dcm_diags *diags);
void rf_instance_free(rf_instance *inst);

/* `dcmetrics check`: parses every redfish entry of cfg, adding its errors to diags. */
void rf_check_config(const dcm_config *cfg, dcm_diags *diags);

#endif /* DCM_RF_CONFIG_H */
