/* Run-time loading of ROCm SMI: dlopen, dlsym of the entry points, rsmi_init. */
#include "rocm_lib.h"

#include "dlsym_table.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

const char *dcm_rocm_strerror(dcm_rocm_err err)
{
    switch (err) {
    case DCM_ROCM_OK: return "ok";
    case DCM_ROCM_ENOLIB: return "ROCm SMI library not found";
    case DCM_ROCM_ENOSYM: return "ROCm SMI library lacks a required function";
    case DCM_ROCM_EINIT: return "ROCm SMI initialisation failed";
    }
    return "unknown ROCm loader error";
}

/* The unversioned name comes with ROCm's development files; the versioned ones are what
 * the runtime packages install (ROCm 5, 6, 6.2+). /opt/rocm/lib is not in the default
 * linker path. */
static const char *const default_paths[] = {
    "librocm_smi64.so",        "/opt/rocm/lib/librocm_smi64.so",
    "librocm_smi64.so.7",      "/opt/rocm/lib/librocm_smi64.so.7",
    "librocm_smi64.so.6",      "/opt/rocm/lib/librocm_smi64.so.6",
    "librocm_smi64.so.5",      "/opt/rocm/lib/librocm_smi64.so.5",
};

dcm_rocm_err dcm_rocm_lib_open(const char *path, dcm_rocm_lib *lib, char *why, size_t why_size)
{
    static const dcm_dl_symbol required[] = {
        {"rsmi_init", offsetof(dcm_rocm_lib, init)},
        {"rsmi_shut_down", offsetof(dcm_rocm_lib, shut_down)},
        {"rsmi_num_monitor_devices", offsetof(dcm_rocm_lib, num_monitor_devices)},
        {"rsmi_dev_energy_count_get", offsetof(dcm_rocm_lib, energy_count_get)},
        {"rsmi_dev_busy_percent_get", offsetof(dcm_rocm_lib, busy_percent_get)},
    };
    dcm_rocm_err err;
    const char *missing;
    memset(lib, 0, sizeof *lib);
    if (path && *path) {
        lib->handle = dcm_dl_open(path, why, why_size);
        if (!lib->handle)
            return DCM_ROCM_ENOLIB;
        snprintf(lib->path, sizeof lib->path, "%s", path);
    } else {
        for (size_t i = 0; i < sizeof default_paths / sizeof default_paths[0] && !lib->handle; i++) {
            lib->handle = dlopen(default_paths[i], RTLD_NOW | RTLD_LOCAL);
            if (lib->handle)
                snprintf(lib->path, sizeof lib->path, "%s", default_paths[i]);
        }
        if (!lib->handle) {
            snprintf(why, why_size, "librocm_smi64.so[.7|.6|.5] is neither in the linker's "
                     "path nor in /opt/rocm/lib");
            return DCM_ROCM_ENOLIB;
        }
    }
    missing = dcm_dl_resolve_table(lib->handle, required,
                                   sizeof required / sizeof required[0], lib);
    if (missing) {
        snprintf(why, why_size, "%s: no %s", lib->path, missing);
        err = DCM_ROCM_ENOSYM;
        goto fail;
    }
    if (!dcm_dl_resolve(lib->handle, "rsmi_dev_power_get", &lib->power_get))
        lib->power_get = NULL;
    if (!dcm_dl_resolve(lib->handle, "rsmi_dev_current_socket_power_get", &lib->socket_power_get))
        lib->socket_power_get = NULL;
    if (!dcm_dl_resolve(lib->handle, "rsmi_status_string", &lib->status_string))
        lib->status_string = NULL;
    if (!lib->power_get && !lib->socket_power_get) {
        snprintf(why, why_size, "%s: neither rsmi_dev_power_get nor "
                 "rsmi_dev_current_socket_power_get", lib->path);
        err = DCM_ROCM_ENOSYM;
        goto fail;
    }
    dcm_rsmi_status st = lib->init(0);
    if (st != DCM_RSMI_STATUS_SUCCESS) {
        snprintf(why, why_size, "rsmi_init: %s (%d)", dcm_rocm_status_text(lib, st), st);
        err = DCM_ROCM_EINIT;
        goto fail;
    }
    lib->initialised = true;
    return DCM_ROCM_OK;
fail:
    dlclose(lib->handle);
    memset(lib, 0, sizeof *lib);
    return err;
}

void dcm_rocm_lib_close(dcm_rocm_lib *lib)
{
    if (!lib)
        return;
    if (lib->initialised && lib->shut_down)
        lib->shut_down();
    if (lib->handle)
        dlclose(lib->handle);
    memset(lib, 0, sizeof *lib);
}

const char *dcm_rocm_status_text(const dcm_rocm_lib *lib, dcm_rsmi_status st)
{
    const char *s = NULL;
    if (lib && lib->status_string && lib->status_string(st, &s) == DCM_RSMI_STATUS_SUCCESS &&
        s && *s)
        return s;
    switch (st) {
    case DCM_RSMI_STATUS_SUCCESS: return "success";
    case DCM_RSMI_STATUS_INVALID_ARGS: return "invalid arguments";
    case DCM_RSMI_STATUS_NOT_SUPPORTED: return "not supported";
    case DCM_RSMI_STATUS_FILE_ERROR: return "file error (is the amdgpu driver loaded?)";
    case DCM_RSMI_STATUS_PERMISSION: return "permission denied";
    }
    return "ROCm SMI error";
}

dcm_rsmi_status dcm_rocm_power(const dcm_rocm_lib *lib, uint32_t idx, double *watts)
{
    uint64_t uw = 0;
    dcm_rsmi_status st;
    if (lib->power_get) {
        int type = 0;
        st = lib->power_get(idx, &uw, &type);
        if (st != DCM_RSMI_STATUS_NOT_SUPPORTED || !lib->socket_power_get)
            goto out;
    }
    st = lib->socket_power_get(idx, &uw);
out:
    if (st == DCM_RSMI_STATUS_SUCCESS)
        *watts = (double)uw / 1e6;
    return st;
}

dcm_rsmi_status dcm_rocm_energy(const dcm_rocm_lib *lib, uint32_t idx, double *joules)
{
    uint64_t count = 0, ts = 0;
    float resolution = 0;
    dcm_rsmi_status st = lib->energy_count_get(idx, &count, &resolution, &ts);
    if (st == DCM_RSMI_STATUS_SUCCESS)
        *joules = (double)count * (double)resolution / 1e6;
    return st;
}
