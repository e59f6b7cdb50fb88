/*
 * rapl.h - the powercap RAPL zones of the host: discovery and counter reads.
 *
 * Every zone is /sys/class/powercap/intel-rapl:N (a package or psys) or intel-rapl:N:M (a
 * subzone: core, uncore, dram) with `name`, `energy_uj` (a uJ counter) and
 * `max_energy_range_uj` (energy_uj wraps to 0 there). AMD CPUs publish the same files.
 *
 * Ownership: dcm_rapl_scan() fills a zone list the caller frees with dcm_rapl_zones_free().
 */
#ifndef DCM_RAPL_H
#define DCM_RAPL_H

#include <stddef.h>

typedef enum dcm_rapl_err {
    DCM_RAPL_OK = 0,
    DCM_RAPL_ENOZONE, /* no intel-rapl:* zone under the powercap directory */
    DCM_RAPL_EACCES,  /* energy_uj exists but this user may not read it (root only) */
    DCM_RAPL_EIO,     /* a file is missing or holds no number */
    DCM_RAPL_ENOMEM,
} dcm_rapl_err;

const char *dcm_rapl_strerror(dcm_rapl_err err);

typedef struct dcm_rapl_zone {
    char *label;       /* point prefix: "package-0", "package-0.dram", "psys" */
    char *energy_path; /* .../energy_uj */
    double max_range_uj;
} dcm_rapl_zone;

typedef struct dcm_rapl_zones {
    dcm_rapl_zone *items;
    size_t count, cap;
} dcm_rapl_zones;

/* Scans <root>/sys/class/powercap, sorted by zone id, and reads every zone's counter once
 * (so that a permission problem shows at start). On error why names the file. */
dcm_rapl_err dcm_rapl_scan(const char *root, dcm_rapl_zones *out, char *why, size_t why_size);
void dcm_rapl_zones_free(dcm_rapl_zones *z);

/* Reads a zone's energy_uj. errno is kept for EIO/EACCES. */
dcm_rapl_err dcm_rapl_read(const dcm_rapl_zone *z, double *uj);

#endif
