/*
 * cmd_probe_gpu.c - `dcmetrics probe nvml|rocm [--library PATH] [--seconds N]`: what the
 * GPU collectors would read on this machine. Every GPU's identity, power and energy
 * counter, then the counter's advance over N seconds next to the power readings, so a
 * counter that does not move or disagrees with the power shows before it is configured.
 *
 * Exit codes: 0 every GPU read, 1 the library or a GPU could not be read, 2 bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"

#ifdef DCM_WITH_NVML
#include "nvml_lib.h"
#endif
#ifdef DCM_WITH_ROCM
#include "rocm_lib.h"
#endif

#define MAX_PROBE_GPUS 64

static void probe_gpu_usage(FILE *out)
{
    fputs("usage: dcmetrics probe nvml [--library PATH] [--seconds N]\n"
          "       dcmetrics probe rocm [--library PATH] [--seconds N]\n"
          "  --library PATH   the management library (default: libnvidia-ml.so.1, or\n"
          "                   librocm_smi64.so in the linker's path or /opt/rocm/lib)\n"
          "  --seconds N      how long to watch the energy counters (default 10; 0 skips)\n"
          "Exit: 0 every GPU read, 1 library or GPU error, 2 usage.\n",
          out);
}

#if defined(DCM_WITH_NVML) || defined(DCM_WITH_ROCM)
static void sleep_s(int s)
{
    struct timespec ts = {.tv_sec = s, .tv_nsec = 0};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints the counter's advance over the interval next to the mean of the two power
 * readings: on a steady load they agree. */
static void print_advance(const char *label, bool e_ok, double e0, double e1, bool p_ok,
                          double p0, double p1, double secs)
{
    if (!e_ok) {
        printf("%-6s energy counter unreadable; power %.1f W -> %.1f W\n", label, p0, p1);
        return;
    }
    double d = e1 - e0;
    if (d < 0)
        printf("%-6s energy counter went back by %.3f J: the driver restarted it (a reset)\n",
               label, -d);
    else if (p_ok)
        printf("%-6s energy +%.3f J in %.1f s = %.1f W average; power read %.1f W and %.1f W\n",
               label, d, secs, d / secs, p0, p1);
    else
        printf("%-6s energy +%.3f J in %.1f s = %.1f W average\n", label, d, secs, d / secs);
}

#endif

#ifdef DCM_WITH_NVML
static int probe_nvml(const char *library, int seconds)
{
    dcm_nvml_lib lib;
    char why[512];
    unsigned int count = 0;
    int rc = 1;
    dcm_nvml_device dev[MAX_PROBE_GPUS];
    double e0[MAX_PROBE_GPUS], p0[MAX_PROBE_GPUS];
    bool e_ok[MAX_PROBE_GPUS], p_ok[MAX_PROBE_GPUS], dev_ok[MAX_PROBE_GPUS];

    dcm_nvml_err err = dcm_nvml_lib_open(library, &lib, why, sizeof why);
    if (err != DCM_NVML_OK) {
        fprintf(stderr, "dcmetrics probe: %s: %s\n", dcm_nvml_strerror(err), why);
        return 1;
    }
    dcm_nvml_return r = lib.get_count_v2(&count);
    if (r != DCM_NVML_SUCCESS) {
        fprintf(stderr, "dcmetrics probe: nvmlDeviceGetCount_v2: %s\n", dcm_nvml_error_text(&lib, r));
        goto out;
    }
    if (count > MAX_PROBE_GPUS)
        count = MAX_PROBE_GPUS;
    printf("NVML: %s, %u GPU%s, field values %s\n", library ? library : DCM_NVML_DEFAULT_LIBRARY,
           count, count == 1 ? "" : "s", lib.get_field_values ? "available" : "not in this driver");
    rc = 0;
    for (unsigned int i = 0; i < count; i++) {
        char name[DCM_NVML_NAME_SIZE] = "?", uuid[DCM_NVML_NAME_SIZE] = "?";
        unsigned int mw = 0, limit = 0;
        unsigned long long mj = 0;
        double inst = 0;
        dev_ok[i] = e_ok[i] = p_ok[i] = false;
        r = lib.get_handle_by_index_v2(i, &dev[i]);
        if (r != DCM_NVML_SUCCESS) {
            printf("gpu%u  %s\n", i, dcm_nvml_error_text(&lib, r));
            rc = 1;
            continue;
        }
        dev_ok[i] = true;
        lib.get_name(dev[i], name, sizeof name);
        lib.get_uuid(dev[i], uuid, sizeof uuid);
        printf("gpu%u  %s  %s\n", i, name, uuid);
        r = lib.get_power_usage(dev[i], &mw);
        p_ok[i] = r == DCM_NVML_SUCCESS;
        p0[i] = mw / 1000.0;
        if (p_ok[i])
            printf("  power          %.3f W\n", p0[i]);
        else
            printf("  power          %s\n", dcm_nvml_error_text(&lib, r));
        if (dcm_nvml_field(&lib, dev[i], DCM_NVML_FI_POWER_INSTANT, &inst) == DCM_NVML_SUCCESS)
            printf("  power instant  %.3f W\n", inst / 1000.0);
        if (dcm_nvml_field(&lib, dev[i], DCM_NVML_FI_POWER_AVERAGE, &inst) == DCM_NVML_SUCCESS)
            printf("  power average  %.3f W\n", inst / 1000.0);
        if (lib.get_enforced_power_limit(dev[i], &limit) == DCM_NVML_SUCCESS)
            printf("  power limit    %.3f W\n", limit / 1000.0);
        r = lib.get_total_energy(dev[i], &mj);
        e_ok[i] = r == DCM_NVML_SUCCESS;
        e0[i] = (double)mj / 1000.0;
        if (e_ok[i])
            printf("  energy         %.3f J (counter since the driver loaded)\n", e0[i]);
        else
            printf("  energy         %s: the collector integrates power instead\n",
                   dcm_nvml_error_text(&lib, r));
    }
    if (seconds > 0 && count > 0) {
        double t0 = mono_s();
        printf("watching the counters for %d s...\n", seconds);
        fflush(stdout);
        sleep_s(seconds);
        double secs = mono_s() - t0;
        for (unsigned int i = 0; i < count; i++) {
            unsigned int mw = 0;
            unsigned long long mj = 0;
            char label[16];
            if (!dev_ok[i])
                continue;
            snprintf(label, sizeof label, "gpu%u", i);
            bool p1_ok = lib.get_power_usage(dev[i], &mw) == DCM_NVML_SUCCESS;
            r = lib.get_total_energy(dev[i], &mj);
            if (e_ok[i] && r != DCM_NVML_SUCCESS) {
                printf("%-6s %s\n", label, dcm_nvml_error_text(&lib, r));
                rc = 1;
                continue;
            }
            print_advance(label, e_ok[i], e0[i], (double)mj / 1000.0, p_ok[i] && p1_ok, p0[i],
                          mw / 1000.0, secs);
        }
    }
out:
    dcm_nvml_lib_close(&lib);
    return rc;
}
#endif

#ifdef DCM_WITH_ROCM
static int probe_rocm(const char *library, int seconds)
{
    dcm_rocm_lib lib;
    char why[512];
    uint32_t count = 0;
    int rc = 1;
    double e0[MAX_PROBE_GPUS], p0[MAX_PROBE_GPUS];
    bool e_ok[MAX_PROBE_GPUS], p_ok[MAX_PROBE_GPUS];

    dcm_rocm_err err = dcm_rocm_lib_open(library, &lib, why, sizeof why);
    if (err != DCM_ROCM_OK) {
        fprintf(stderr, "dcmetrics probe: %s: %s\n", dcm_rocm_strerror(err), why);
        return 1;
    }
    dcm_rsmi_status st = lib.num_monitor_devices(&count);
    if (st != DCM_RSMI_STATUS_SUCCESS) {
        fprintf(stderr, "dcmetrics probe: rsmi_num_monitor_devices: %s\n",
                dcm_rocm_status_text(&lib, st));
        goto out;
    }
    if (count > MAX_PROBE_GPUS)
        count = MAX_PROBE_GPUS;
    printf("ROCm SMI: %s, %u GPU%s\n", lib.path, count, count == 1 ? "" : "s");
    rc = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t busy = 0;
        printf("gpu%u\n", i);
        st = dcm_rocm_power(&lib, i, &p0[i]);
        p_ok[i] = st == DCM_RSMI_STATUS_SUCCESS;
        if (p_ok[i])
            printf("  power          %.3f W\n", p0[i]);
        else
            printf("  power          %s\n", dcm_rocm_status_text(&lib, st));
        st = dcm_rocm_energy(&lib, i, &e0[i]);
        e_ok[i] = st == DCM_RSMI_STATUS_SUCCESS;
        if (e_ok[i])
            printf("  energy         %.3f J (counter)\n", e0[i]);
        else
            printf("  energy         %s\n", dcm_rocm_status_text(&lib, st));
        if (lib.busy_percent_get(i, &busy) == DCM_RSMI_STATUS_SUCCESS)
            printf("  busy           %u %%\n", busy);
        if (!p_ok[i] && !e_ok[i])
            rc = 1;
    }
    if (seconds > 0 && count > 0) {
        double t0 = mono_s();
        printf("watching the counters for %d s...\n", seconds);
        fflush(stdout);
        sleep_s(seconds);
        double secs = mono_s() - t0;
        for (uint32_t i = 0; i < count; i++) {
            double e1 = 0, p1 = 0;
            char label[16];
            snprintf(label, sizeof label, "gpu%u", i);
            bool p1_ok = dcm_rocm_power(&lib, i, &p1) == DCM_RSMI_STATUS_SUCCESS;
            st = dcm_rocm_energy(&lib, i, &e1);
            if (e_ok[i] && st != DCM_RSMI_STATUS_SUCCESS) {
                printf("%-6s %s\n", label, dcm_rocm_status_text(&lib, st));
                rc = 1;
                continue;
            }
            print_advance(label, e_ok[i], e0[i], e1, p_ok[i] && p1_ok, p0[i], p1, secs);
        }
    }
out:
    dcm_rocm_lib_close(&lib);
    return rc;
}
#endif

int dcm_cmd_probe_gpu(int argc, char **argv)
{
    const char *library = NULL, *secs_text = NULL;
    bool bad = false;
    int seconds = 10;
    if (argc < 2) {
        probe_gpu_usage(stderr);
        return 2;
    }
    const char *which = argv[1];
    for (int i = 2; i < argc; i++) {
        if (dcm_cli_option("probe", argc, argv, &i, NULL, "--library", &library, &bad) ||
            dcm_cli_option("probe", argc, argv, &i, NULL, "--seconds", &secs_text, &bad)) {
            if (bad)
                return 2;
            continue;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            probe_gpu_usage(stdout);
            return 0;
        }
        fprintf(stderr, "dcmetrics probe: unknown option '%s'\n", argv[i]);
        probe_gpu_usage(stderr);
        return 2;
    }
    if (secs_text) {
        char *end;
        long v = strtol(secs_text, &end, 10);
        if (!*secs_text || *end || v < 0 || v > 3600) {
            fputs("dcmetrics probe: --seconds wants a whole number from 0 to 3600\n", stderr);
            return 2;
        }
        seconds = (int)v;
    }
#if !defined(DCM_WITH_NVML) && !defined(DCM_WITH_ROCM)
    (void)library; /* read and checked all the same: bad usage stays exit 2 */
    (void)seconds;
#endif
    if (strcmp(which, "nvml") == 0) {
#ifdef DCM_WITH_NVML
        return probe_nvml(library, seconds);
#else
        fputs("dcmetrics probe: this build has no NVML support (DCM_WITH_NVML=OFF)\n", stderr);
        return 2;
#endif
    }
    if (strcmp(which, "rocm") == 0) {
#ifdef DCM_WITH_ROCM
        return probe_rocm(library, seconds);
#else
        fputs("dcmetrics probe: this build has no ROCm support (DCM_WITH_ROCM=OFF)\n", stderr);
        return 2;
#endif
    }
    probe_gpu_usage(stderr);
    return 2;
}
