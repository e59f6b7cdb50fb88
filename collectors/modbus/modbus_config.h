/*
 * modbus_config.h - a `type: modbus` collector entry read into what the collector runs:
 * the URL, the timeouts, and each device with its merged point set (profile points, then
 * the entry's own points added or replacing profile points of the same name).
 *
 * Used by the collector's init and by `dcmetrics check`, so both report the same errors
 * at the same places.
 *
 * Ownership: dcm_mb_instance_free() frees everything the instance holds.
 */
#ifndef DCM_MODBUS_CONFIG_H
#define DCM_MODBUS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "dcm/collector.h"
#include "dcm/config.h"
#include "modbus_conn.h"
#include "modbus_map.h"

typedef struct dcm_mb_device_spec {
    char *name; /* NULL: the entry is the device (no devices: list) */
    int unit;
    char *profile; /* NULL when the points are all the entry's own */
    dcm_mb_point *points;
    size_t point_count;
    int max_registers;
    int max_gap;
    const dcm_node *node; /* where it was written (borrowed from the configuration) */
} dcm_mb_device_spec;

typedef struct dcm_mb_instance {
    dcm_mb_url url;
    int64_t response_timeout_ns;
    int64_t byte_timeout_ns;
    dcm_mb_device_spec *devices;
    size_t device_count;
} dcm_mb_instance;

/* The keys of a modbus collector entry (besides the common name/type/interval/timeout/
 * enabled) and of an entry of its devices: list. */
extern const dcm_config_key dcm_mb_instance_keys[];
extern const dcm_config_key dcm_mb_device_keys[];

/* Reads item (the collector's mapping, already checked against dcm_mb_instance_keys by
 * the loader). interval_ns gives the default response timeout (half of it, at most 1 s);
 * path prefixes diagnostic key paths ("collectors[2]"). Returns OK, EINVALID (diags
 * say why) or ENOMEM; *out is always safe to free. */
dcm_mb_err dcm_mb_instance_parse(const dcm_node *item, int64_t interval_ns, const char *path,
                                 dcm_mb_instance *out, dcm_diags *diags);
void dcm_mb_instance_free(dcm_mb_instance *inst);

/* `dcmetrics check`: parses every modbus entry of cfg, adding its errors to diags, and
 * reports RS-485 ports named by more than one entry. */
void dcm_mb_check_config(const dcm_config *cfg, dcm_diags *diags);

#endif /* DCM_MODBUS_CONFIG_H */
