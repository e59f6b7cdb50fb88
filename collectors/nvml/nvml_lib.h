/*
 * nvml_lib.h - NVIDIA's management library (NVML), opened at run time with dlopen().
 *
 * Nothing links against libnvidia-ml: a machine without the NVIDIA driver runs the agent
 * and only the nvml collector says it cannot start. The few NVML types and constants used
 * here are declared by hand with the layouts and values of NVIDIA's nvml.h (which Debian
 * main does not ship).
 *
 * Ownership: dcm_nvml_lib_open() returns a library the caller destroys with
 * dcm_nvml_lib_close(); it holds one nvmlInit_v2() reference and one dlopen() reference.
 */
#ifndef DCM_NVML_LIB_H
#define DCM_NVML_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* nvmlReturn_t values (nvml.h). */
enum {
    DCM_NVML_SUCCESS = 0,
    DCM_NVML_ERROR_UNINITIALIZED = 1,
    DCM_NVML_ERROR_INVALID_ARGUMENT = 2,
    DCM_NVML_ERROR_NOT_SUPPORTED = 3,
    DCM_NVML_ERROR_NO_PERMISSION = 4,
    DCM_NVML_ERROR_NOT_FOUND = 6,
    DCM_NVML_ERROR_INSUFFICIENT_SIZE = 7,
    DCM_NVML_ERROR_DRIVER_NOT_LOADED = 9,
    DCM_NVML_ERROR_TIMEOUT = 10,
    DCM_NVML_ERROR_LIBRARY_NOT_FOUND = 12,
    DCM_NVML_ERROR_FUNCTION_NOT_FOUND = 13,
    DCM_NVML_ERROR_GPU_IS_LOST = 15,
    DCM_NVML_ERROR_NO_DATA = 21,
    DCM_NVML_ERROR_UNKNOWN = 999,
};

/* Field ids of nvmlDeviceGetFieldValues (nvml.h NVML_FI_DEV_*). */
#define DCM_NVML_FI_TOTAL_ENERGY_CONSUMPTION 83 /* mJ */
#define DCM_NVML_FI_POWER_AVERAGE 185           /* mW */
#define DCM_NVML_FI_POWER_INSTANT 186           /* mW */

/* nvmlDeviceGetName / GetUUID buffer size (NVML_DEVICE_NAME_V2_BUFFER_SIZE). */
#define DCM_NVML_NAME_SIZE 96

typedef int dcm_nvml_return;
typedef struct dcm_nvml_device_st *dcm_nvml_device; /* nvmlDevice_t: opaque */

typedef struct dcm_nvml_utilization { /* nvmlUtilization_t */
    unsigned int gpu;
    unsigned int memory;
} dcm_nvml_utilization;

typedef union dcm_nvml_value { /* nvmlValue_t */
    double dVal;
    unsigned int uiVal;
    unsigned long ulVal;
    unsigned long long ullVal;
    long long sllVal;
    int siVal;
    unsigned short usVal;
} dcm_nvml_value;

typedef struct dcm_nvml_field_value { /* nvmlFieldValue_t */
    unsigned int fieldId;
    unsigned int scopeId;
    long long timestamp;
    long long latencyUsec;
    int valueType; /* nvmlValueType_t: 0 double, 1 uint, 2 ulong, 3 ullong, 4 sllong, 5 int, 6 ushort */
    dcm_nvml_return nvmlReturn;
    dcm_nvml_value value;
} dcm_nvml_field_value;

/* The entry points used; each is NULL only where marked optional. */
typedef struct dcm_nvml_lib {
    void *handle;
    bool initialised;
    dcm_nvml_return (*init_v2)(void);
    dcm_nvml_return (*shutdown)(void);
    const char *(*error_string)(dcm_nvml_return);
    dcm_nvml_return (*get_count_v2)(unsigned int *);
    dcm_nvml_return (*get_handle_by_index_v2)(unsigned int, dcm_nvml_device *);
    dcm_nvml_return (*get_name)(dcm_nvml_device, char *, unsigned int);
    dcm_nvml_return (*get_uuid)(dcm_nvml_device, char *, unsigned int);
    dcm_nvml_return (*get_power_usage)(dcm_nvml_device, unsigned int *);
    dcm_nvml_return (*get_total_energy)(dcm_nvml_device, unsigned long long *);
    dcm_nvml_return (*get_utilization)(dcm_nvml_device, dcm_nvml_utilization *);
    dcm_nvml_return (*get_enforced_power_limit)(dcm_nvml_device, unsigned int *);
    /* Optional: drivers before R410 do not have it. */
    dcm_nvml_return (*get_field_values)(dcm_nvml_device, int, dcm_nvml_field_value *);
} dcm_nvml_lib;

typedef enum dcm_nvml_err {
    DCM_NVML_OK = 0,
    DCM_NVML_ENOLIB,    /* dlopen failed: no NVIDIA driver here (or a wrong `library`) */
    DCM_NVML_ENOSYM,    /* a required function is missing: not NVML, or far too old */
    DCM_NVML_EINIT,     /* nvmlInit_v2 failed: driver not loaded, no permission... */
} dcm_nvml_err;

const char *dcm_nvml_strerror(dcm_nvml_err err);

/* The library name tried when none is configured: found through the dynamic linker's
 * search path (ld.so.cache, LD_LIBRARY_PATH), as the driver installs it. */
#define DCM_NVML_DEFAULT_LIBRARY "libnvidia-ml.so.1"

/* Opens path (NULL = the default name), resolves the entry points and calls nvmlInit_v2.
 * On failure returns the error, leaves *lib zeroed and writes the reason (the dlopen
 * message, the missing symbol or nvmlErrorString) into why. */
dcm_nvml_err dcm_nvml_lib_open(const char *path, dcm_nvml_lib *lib, char *why, size_t why_size);
/* Calls nvmlShutdown and dlclose; safe on a zeroed lib. */
void dcm_nvml_lib_close(dcm_nvml_lib *lib);

/* nvmlErrorString, or a fallback text when the library gives none. */
const char *dcm_nvml_error_text(const dcm_nvml_lib *lib, dcm_nvml_return rc);

/* Reads one field (NVML_FI_*) of dev as a double, in the field's own unit. Returns the
 * call's or the field's NVML return code; NOT_SUPPORTED when the library has no
 * nvmlDeviceGetFieldValues. */
dcm_nvml_return dcm_nvml_field(const dcm_nvml_lib *lib, dcm_nvml_device dev,
                               unsigned int field, double *out);

#endif
