/* Run-time loading of NVML: dlopen, dlsym of the entry points, nvmlInit_v2. */
#include "nvml_lib.h"

#include "dlsym_table.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

const char *dcm_nvml_strerror(dcm_nvml_err err)
{
    switch (err) {
    case DCM_NVML_OK: return "ok";
    case DCM_NVML_ENOLIB: return "NVML library not found";
    case DCM_NVML_ENOSYM: return "NVML library lacks a required function";
    case DCM_NVML_EINIT: return "NVML initialisation failed";
    }
    return "unknown NVML loader error";
}

dcm_nvml_err dcm_nvml_lib_open(const char *path, dcm_nvml_lib *lib, char *why, size_t why_size)
{
    static const dcm_dl_symbol required[] = {
        {"nvmlInit_v2", offsetof(dcm_nvml_lib, init_v2)},
        {"nvmlShutdown", offsetof(dcm_nvml_lib, shutdown)},
        {"nvmlErrorString", offsetof(dcm_nvml_lib, error_string)},
        {"nvmlDeviceGetCount_v2", offsetof(dcm_nvml_lib, get_count_v2)},
        {"nvmlDeviceGetHandleByIndex_v2", offsetof(dcm_nvml_lib, get_handle_by_index_v2)},
        {"nvmlDeviceGetName", offsetof(dcm_nvml_lib, get_name)},
        {"nvmlDeviceGetUUID", offsetof(dcm_nvml_lib, get_uuid)},
        {"nvmlDeviceGetPowerUsage", offsetof(dcm_nvml_lib, get_power_usage)},
        {"nvmlDeviceGetTotalEnergyConsumption", offsetof(dcm_nvml_lib, get_total_energy)},
        {"nvmlDeviceGetUtilizationRates", offsetof(dcm_nvml_lib, get_utilization)},
        {"nvmlDeviceGetEnforcedPowerLimit", offsetof(dcm_nvml_lib, get_enforced_power_limit)},
    };
    dcm_nvml_err err;
    const char *missing;
    memset(lib, 0, sizeof *lib);
    if (!path || !*path)
        path = DCM_NVML_DEFAULT_LIBRARY;
    lib->handle = dcm_dl_open(path, why, why_size);
    if (!lib->handle)
        return DCM_NVML_ENOLIB;
    missing = dcm_dl_resolve_table(lib->handle, required,
                                   sizeof required / sizeof required[0], lib);
    if (missing) {
        snprintf(why, why_size, "%s: no %s", path, missing);
        err = DCM_NVML_ENOSYM;
        goto fail;
    }
    if (!dcm_dl_resolve(lib->handle, "nvmlDeviceGetFieldValues", &lib->get_field_values))
        lib->get_field_values = NULL;
    dcm_nvml_return rc = lib->init_v2();
    if (rc != DCM_NVML_SUCCESS) {
        snprintf(why, why_size, "nvmlInit_v2: %s (%d)", dcm_nvml_error_text(lib, rc), rc);
        err = DCM_NVML_EINIT;
        goto fail;
    }
    lib->initialised = true;
    return DCM_NVML_OK;
fail:
    dlclose(lib->handle);
    memset(lib, 0, sizeof *lib);
    return err;
}

void dcm_nvml_lib_close(dcm_nvml_lib *lib)
{
    if (!lib)
        return;
    if (lib->initialised && lib->shutdown)
        lib->shutdown();
    if (lib->handle)
        dlclose(lib->handle);
    memset(lib, 0, sizeof *lib);
}

const char *dcm_nvml_error_text(const dcm_nvml_lib *lib, dcm_nvml_return rc)
{
    const char *s = lib && lib->error_string ? lib->error_string(rc) : NULL;
    if (s && *s)
        return s;
    switch (rc) {
    case DCM_NVML_SUCCESS: return "Success";
    case DCM_NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case DCM_NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
    case DCM_NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case DCM_NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    }
    return "NVML error";
}

dcm_nvml_return dcm_nvml_field(const dcm_nvml_lib *lib, dcm_nvml_device dev,
                               unsigned int field, double *out)
{
    dcm_nvml_field_value fv;
    if (!lib->get_field_values)
        return DCM_NVML_ERROR_NOT_SUPPORTED;
    memset(&fv, 0, sizeof fv);
    fv.fieldId = field;
    dcm_nvml_return rc = lib->get_field_values(dev, 1, &fv);
    if (rc != DCM_NVML_SUCCESS)
        return rc;
    if (fv.nvmlReturn != DCM_NVML_SUCCESS)
        return fv.nvmlReturn;
    switch (fv.valueType) {
    case 0: *out = fv.value.dVal; break;
    case 1: *out = (double)fv.value.uiVal; break;
    case 2: *out = (double)fv.value.ulVal; break;
    case 3: *out = (double)fv.value.ullVal; break;
    case 4: *out = (double)fv.value.sllVal; break;
    case 5: *out = (double)fv.value.siVal; break;
    case 6: *out = (double)fv.value.usVal; break;
    default: return DCM_NVML_ERROR_UNKNOWN;
    }
    return DCM_NVML_SUCCESS;
}
