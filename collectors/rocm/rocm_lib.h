/*
 * rocm_lib.h - AMD's ROCm SMI library, opened at run time with dlopen().
 *
 * Nothing links against librocm_smi64: a machine without ROCm runs the agent and only the
 * rocm collector says it cannot start. The status codes and the entry points used are
 * declared here with the values of ROCm's rocm_smi.h.
 *
 * Ownership: dcm_rocm_lib_open() returns a library the caller destroys with
 * dcm_rocm_lib_close(); it holds one rsmi_init() and one dlopen() reference.
 */
#ifndef DCM_ROCM_LIB_H
#define DCM_ROCM_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* rsmi_status_t values (rocm_smi.h). */
enum {
    DCM_RSMI_STATUS_SUCCESS = 0,
    DCM_RSMI_STATUS_INVALID_ARGS = 1,
    DCM_RSMI_STATUS_NOT_SUPPORTED = 2,
    DCM_RSMI_STATUS_FILE_ERROR = 3,
    DCM_RSMI_STATUS_PERMISSION = 4,
};

typedef int dcm_rsmi_status;

typedef struct dcm_rocm_lib {
    void *handle;
    bool initialised;
    char path[256]; /* the file that was loaded */
    dcm_rsmi_status (*init)(uint64_t flags);
    dcm_rsmi_status (*shut_down)(void);
    dcm_rsmi_status (*num_monitor_devices)(uint32_t *);
    dcm_rsmi_status (*energy_count_get)(uint32_t, uint64_t *count, float *resolution,
                                        uint64_t *timestamp_ns);
    dcm_rsmi_status (*busy_percent_get)(uint32_t, uint32_t *);
    /* Power: rsmi_dev_power_get (ROCm 6 and later) where present, else the older
     * rsmi_dev_current_socket_power_get; at least one exists. The power type is an enum
     * (average 0, current 1) written as an int. */
    dcm_rsmi_status (*power_get)(uint32_t, uint64_t *uw, int *type);
    dcm_rsmi_status (*socket_power_get)(uint32_t, uint64_t *uw);
    /* Optional. */
    dcm_rsmi_status (*status_string)(dcm_rsmi_status, const char **);
} dcm_rocm_lib;

typedef enum dcm_rocm_err {
    DCM_ROCM_OK = 0,
    DCM_ROCM_ENOLIB, /* dlopen failed everywhere it looked */
    DCM_ROCM_ENOSYM, /* a required function is missing */
    DCM_ROCM_EINIT,  /* rsmi_init failed (no amdgpu driver, no permission) */
} dcm_rocm_err;

const char *dcm_rocm_strerror(dcm_rocm_err err);

/* Opens path, or when path is NULL the usual names and /opt/rocm/lib; resolves the entry
 * points and calls rsmi_init(0). On failure *lib is zeroed and why says what was tried. */
dcm_rocm_err dcm_rocm_lib_open(const char *path, dcm_rocm_lib *lib, char *why, size_t why_size);
void dcm_rocm_lib_close(dcm_rocm_lib *lib);

/* rsmi_status_string, or a fallback text. */
const char *dcm_rocm_status_text(const dcm_rocm_lib *lib, dcm_rsmi_status st);

/* The GPU's power in W through whichever power function the library has. */
dcm_rsmi_status dcm_rocm_power(const dcm_rocm_lib *lib, uint32_t idx, double *watts);
/* The energy counter in J (count x resolution, which is in uJ). */
dcm_rsmi_status dcm_rocm_energy(const dcm_rocm_lib *lib, uint32_t idx, double *joules);

#endif
