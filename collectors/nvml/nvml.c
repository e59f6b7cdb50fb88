/*
 * nvml.c - the `nvml` collector: power, energy, utilisation and power limit of NVIDIA
 * GPUs through NVML, loaded at run time (nvml_lib.c).
 *
 * Energy comes from the driver's counter (mJ since the driver loaded) where the GPU has
 * one; a driver reload restarts it, which the engine's counter logic sees as a reset. A
 * GPU without the counter (Pascal, Jetson) publishes its power reading under the same
 * point name as a gauge, which the engine integrates, so one selector (`gpus.*.energy`)
 * covers every GPU. Errors are per GPU: a lost GPU's points turn invalid, the others go on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/collector.h"
#include "nvml_lib.h"

static const dcm_config_key nvml_keys[] = {
    {"library", DCM_KEY_STRING, DCM_NVML_DEFAULT_LIBRARY, false,
     "NVML shared library: a name the dynamic linker finds, or a path"},
    {"gpus", DCM_KEY_LIST, NULL, false,
     "GPUs to read, by NVML index or UUID: [0, \"GPU-...\"] (default: all)"},
    {"names", DCM_KEY_STRING, "index", false,
     "point name prefix: index (gpu0.power) or uuid (GPU-<uuid>.power)"},
    {"power", DCM_KEY_STRING, "usage", false,
     "power reading: usage (nvmlDeviceGetPowerUsage), average or instant (field values)"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

enum { P_POWER = 0, P_ENERGY, P_UTIL, P_MEMUTIL, P_LIMIT, P_COUNT };

static const char *const point_names[P_COUNT] = {"power", "energy", "utilization",
                                                 "memory_utilization", "power_limit"};

typedef enum power_source { POWER_USAGE = 0, POWER_AVERAGE, POWER_INSTANT } power_source;

typedef struct nvml_gpu {
    unsigned int index;
    dcm_nvml_device dev;
    char uuid[DCM_NVML_NAME_SIZE];
    char name[DCM_NVML_NAME_SIZE];
    char prefix[DCM_NVML_NAME_SIZE + 8];
    power_source power;
    bool energy_counter; /* false: the energy point is the power gauge */
    bool has[P_COUNT];
    uint32_t handle[P_COUNT];
    bool lost;
} nvml_gpu;

typedef struct nvml_state {
    dcm_nvml_lib lib;
    nvml_gpu *gpus;
    size_t count;
} nvml_state;

/* Once-per-event lines (a GPU starting, lost, back): never rate-limited, where
 * dcm_collector_log would fold a second GPU's line into the first's. */
static void log_event(dcm_collector_ctx *ctx, dcm_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void log_event(dcm_collector_ctx *ctx, dcm_log_level level, const char *fmt, ...)
{
    char tag[96];
    va_list ap;
    snprintf(tag, sizeof tag, "%s/%s", "nvml", dcm_collector_name(ctx));
    va_start(ap, fmt);
    dcm_logv(level, tag, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------- config */

static const char *key_string(const dcm_node *cfg, const char *key)
{
    const char *s = NULL;
    const dcm_node *n = cfg ? dcm_node_get(cfg, key) : NULL;
    if (n && dcm_node_as_string(n, &s))
        return s;
    for (const dcm_config_key *k = nvml_keys; k->name; k++)
        if (strcmp(k->name, key) == 0)
            return k->default_value;
    return NULL;
}

static void bad_node(dcm_collector_ctx *ctx, const dcm_node *n, const char *key, const char *why)
{
    if (n)
        dcm_collector_log(ctx, DCM_LOG_ERROR, "%s:%d:%d: %s: %s", dcm_node_file(n),
                          dcm_node_line(n), dcm_node_column(n), key, why);
    else
        dcm_collector_log(ctx, DCM_LOG_ERROR, "%s: %s", key, why);
}

/* ------------------------------------------------------------ selection */

/* Resolves `gpus:` into NVML indices (selected[i] true). Returns false after logging. */
static bool select_gpus(dcm_collector_ctx *ctx, const dcm_nvml_lib *lib, const dcm_node *list,
                        unsigned int count, bool *selected)
{
    if (!list) {
        for (unsigned int i = 0; i < count; i++)
            selected[i] = true;
        return true;
    }
    if (dcm_node_kind(list) != DCM_NODE_LIST || dcm_node_size(list) == 0) {
        bad_node(ctx, list, "gpus", "expected a list of GPU indices or UUIDs");
        return false;
    }
    for (size_t i = 0; i < dcm_node_size(list); i++) {
        const dcm_node *item = dcm_node_at(list, i);
        long long idx;
        const char *uuid = NULL;
        unsigned int found = count;
        if (dcm_node_as_int(item, &idx)) {
            if (idx < 0 || idx >= (long long)count) {
                char why[96];
                snprintf(why, sizeof why, "GPU index %lld: this machine has %u GPU%s", idx,
                         count, count == 1 ? "" : "s");
                bad_node(ctx, item, "gpus", why);
                return false;
            }
            found = (unsigned int)idx;
        } else if (dcm_node_as_string(item, &uuid) && uuid[0]) {
            for (unsigned int g = 0; g < count && found == count; g++) {
                dcm_nvml_device dev;
                char buf[DCM_NVML_NAME_SIZE];
                if (lib->get_handle_by_index_v2(g, &dev) == DCM_NVML_SUCCESS &&
                    lib->get_uuid(dev, buf, sizeof buf) == DCM_NVML_SUCCESS &&
                    strcmp(buf, uuid) == 0)
                    found = g;
            }
            if (found == count) {
                char why[160];
                snprintf(why, sizeof why, "no GPU with UUID '%s' (see `dcmetrics probe nvml`)",
                         uuid);
                bad_node(ctx, item, "gpus", why);
                return false;
            }
        } else {
            bad_node(ctx, item, "gpus", "expected a GPU index or a UUID string");
            return false;
        }
        if (selected[found]) {
            bad_node(ctx, item, "gpus", "this GPU is listed twice");
            return false;
        }
        selected[found] = true;
    }
    return true;
}

/* ----------------------------------------------------------------- reads */

typedef struct gpu_reading {
    dcm_nvml_return rc[P_COUNT];
    double value[P_COUNT];
} gpu_reading;

static dcm_nvml_return read_power(const dcm_nvml_lib *lib, const nvml_gpu *g, double *watts)
{
    if (g->power != POWER_USAGE) {
        double mw = 0;
        unsigned int field = g->power == POWER_AVERAGE ? DCM_NVML_FI_POWER_AVERAGE
                                                       : DCM_NVML_FI_POWER_INSTANT;
        dcm_nvml_return rc = dcm_nvml_field(lib, g->dev, field, &mw);
        if (rc == DCM_NVML_SUCCESS)
            *watts = mw / 1000.0;
        return rc;
    }
    unsigned int mw = 0;
    dcm_nvml_return rc = lib->get_power_usage(g->dev, &mw);
    if (rc == DCM_NVML_SUCCESS)
        *watts = mw / 1000.0;
    return rc;
}

/* Reads every point of the GPU; rc[p] is NVML's answer for point p. */
static void read_gpu(const dcm_nvml_lib *lib, const nvml_gpu *g, gpu_reading *r)
{
    for (int p = 0; p < P_COUNT; p++) {
        r->rc[p] = DCM_NVML_ERROR_NOT_SUPPORTED;
        r->value[p] = 0;
    }
    if (g->has[P_POWER] || (g->has[P_ENERGY] && !g->energy_counter))
        r->rc[P_POWER] = read_power(lib, g, &r->value[P_POWER]);
    if (g->has[P_ENERGY]) {
        if (g->energy_counter) {
            unsigned long long mj = 0;
            r->rc[P_ENERGY] = lib->get_total_energy(g->dev, &mj);
            r->value[P_ENERGY] = (double)mj / 1000.0; /* J */
        } else {
            r->rc[P_ENERGY] = r->rc[P_POWER];
            r->value[P_ENERGY] = r->value[P_POWER];
        }
    }
    if (g->has[P_UTIL] || g->has[P_MEMUTIL]) {
        dcm_nvml_utilization u = {0, 0};
        dcm_nvml_return rc = lib->get_utilization(g->dev, &u);
        r->rc[P_UTIL] = r->rc[P_MEMUTIL] = rc;
        r->value[P_UTIL] = u.gpu;
        r->value[P_MEMUTIL] = u.memory;
    }
    if (g->has[P_LIMIT]) {
        unsigned int mw = 0;
        r->rc[P_LIMIT] = lib->get_enforced_power_limit(g->dev, &mw);
        r->value[P_LIMIT] = mw / 1000.0;
    }
}

/* ------------------------------------------------------------------ init */

static bool declare(dcm_collector_ctx *ctx, nvml_gpu *g, int p, const char *unit,
                    dcm_kind kind, double max_rate)
{
    char name[DCM_NVML_NAME_SIZE + 32];
    snprintf(name, sizeof name, "%s.%s", g->prefix, point_names[p]);
    dcm_point_decl d = {.name = name, .unit = unit, .kind = kind, .max_rate = max_rate};
    if (dcm_collector_declare_point(ctx, &d, &g->handle[p]) != 0)
        return false;
    g->has[p] = true;
    return true;
}

/* Finds out what the GPU answers and declares those points. A point whose first read
 * says NOT_SUPPORTED is left out; any other error keeps it (a transient failure at
 * start must not remove a point for the instance's lifetime). */
static bool setup_gpu(dcm_collector_ctx *ctx, const dcm_nvml_lib *lib, nvml_gpu *g,
                      power_source want)
{
    dcm_nvml_return rc;
    double w = 0;
    unsigned int mw = 0;
    unsigned long long mj = 0;
    dcm_nvml_utilization u;

    g->power = want;
    if (want != POWER_USAGE) {
        rc = read_power(lib, g, &w);
        if (rc != DCM_NVML_SUCCESS) {
            log_event(ctx, DCM_LOG_WARN, "%s (%s): power field %s: %s; using "
                              "nvmlDeviceGetPowerUsage", g->prefix, g->name,
                              want == POWER_AVERAGE ? "average" : "instant",
                              lib->get_field_values ? dcm_nvml_error_text(lib, rc)
                                                    : "nvmlDeviceGetFieldValues not in this driver");
            g->power = POWER_USAGE;
        }
    }
    bool power_ok = read_power(lib, g, &w) != DCM_NVML_ERROR_NOT_SUPPORTED;
    double limit_w = 0;
    dcm_nvml_return limit_rc = lib->get_enforced_power_limit(g->dev, &mw);
    if (limit_rc == DCM_NVML_SUCCESS)
        limit_w = mw / 1000.0;
    /* A GPU can briefly exceed its enforced limit, never by twice. */
    double max_rate = limit_w > 0 ? 2.0 * limit_w : 0;

    if (power_ok && !declare(ctx, g, P_POWER, "W", DCM_KIND_GAUGE, max_rate))
        return false;
    rc = lib->get_total_energy(g->dev, &mj);
    g->energy_counter = rc != DCM_NVML_ERROR_NOT_SUPPORTED;
    if (g->energy_counter) {
        /* A counter's limit is in its unit per hour: J/h for J. */
        if (!declare(ctx, g, P_ENERGY, "J", DCM_KIND_COUNTER, max_rate * 3600.0))
            return false;
    } else if (power_ok) {
        log_event(ctx, DCM_LOG_INFO, "%s (%s): no energy counter; %s.energy is its "
                          "power (W), integrated by the engine", g->prefix, g->name, g->prefix);
        if (!declare(ctx, g, P_ENERGY, "W", DCM_KIND_GAUGE, max_rate))
            return false;
    } else {
        log_event(ctx, DCM_LOG_WARN, "%s (%s): reports neither power nor energy",
                          g->prefix, g->name);
    }
    if (lib->get_utilization(g->dev, &u) != DCM_NVML_ERROR_NOT_SUPPORTED) {
        if (!declare(ctx, g, P_UTIL, "%", DCM_KIND_GAUGE, 0) ||
            !declare(ctx, g, P_MEMUTIL, "%", DCM_KIND_GAUGE, 0))
            return false;
    }
    if (limit_rc != DCM_NVML_ERROR_NOT_SUPPORTED &&
        !declare(ctx, g, P_LIMIT, "W", DCM_KIND_GAUGE, 0))
        return false;
    return true;
}

static void nvml_close(void *state)
{
    nvml_state *st = state;
    if (!st)
        return;
    dcm_nvml_lib_close(&st->lib);
    free(st->gpus);
    free(st);
}

static dcm_collector_status nvml_init(dcm_collector_ctx *ctx, void **state)
{
    const dcm_node *cfg = dcm_collector_config_node(ctx);
    dcm_collector_status status = DCM_COLLECTOR_FATAL;
    bool *selected = NULL;
    char why[512];
    unsigned int count = 0;
    power_source want;

    *state = NULL;
    const char *names = key_string(cfg, "names");
    const char *power = key_string(cfg, "power");
    if (strcmp(names, "index") != 0 && strcmp(names, "uuid") != 0) {
        bad_node(ctx, cfg ? dcm_node_get(cfg, "names") : NULL, "names", "expected index or uuid");
        return DCM_COLLECTOR_FATAL;
    }
    if (strcmp(power, "usage") == 0)
        want = POWER_USAGE;
    else if (strcmp(power, "average") == 0)
        want = POWER_AVERAGE;
    else if (strcmp(power, "instant") == 0)
        want = POWER_INSTANT;
    else {
        bad_node(ctx, cfg ? dcm_node_get(cfg, "power") : NULL, "power",
                 "expected usage, average or instant");
        return DCM_COLLECTOR_FATAL;
    }

    nvml_state *st = calloc(1, sizeof *st);
    if (!st)
        goto nomem;
    const char *library = key_string(cfg, "library");
    dcm_nvml_err err = dcm_nvml_lib_open(library, &st->lib, why, sizeof why);
    if (err != DCM_NVML_OK) {
        if (err == DCM_NVML_ENOLIB)
            dcm_collector_log(ctx, DCM_LOG_WARN, "disabled: cannot load NVML (%s): the NVIDIA "
                              "driver is not installed here; set `library:` to the path of "
                              "libnvidia-ml.so.1 if it is elsewhere", why);
        else
            dcm_collector_log(ctx, DCM_LOG_WARN, "disabled: %s: %s", dcm_nvml_strerror(err), why);
        status = DCM_COLLECTOR_DISABLED;
        goto fail;
    }
    dcm_nvml_return rc = st->lib.get_count_v2(&count);
    if (rc != DCM_NVML_SUCCESS || count == 0) {
        dcm_collector_log(ctx, DCM_LOG_WARN, "disabled: %s",
                          rc != DCM_NVML_SUCCESS ? dcm_nvml_error_text(&st->lib, rc)
                                                 : "NVML sees no GPU on this machine");
        status = DCM_COLLECTOR_DISABLED;
        goto fail;
    }
    selected = calloc(count, sizeof *selected);
    st->gpus = calloc(count, sizeof *st->gpus);
    if (!selected || !st->gpus)
        goto nomem;
    if (!select_gpus(ctx, &st->lib, cfg ? dcm_node_get(cfg, "gpus") : NULL, count, selected))
        goto fail;
    for (unsigned int i = 0; i < count; i++) {
        if (!selected[i])
            continue;
        nvml_gpu *g = &st->gpus[st->count];
        g->index = i;
        rc = st->lib.get_handle_by_index_v2(i, &g->dev);
        if (rc == DCM_NVML_SUCCESS)
            rc = st->lib.get_uuid(g->dev, g->uuid, sizeof g->uuid);
        if (rc == DCM_NVML_SUCCESS && st->lib.get_name(g->dev, g->name, sizeof g->name) != DCM_NVML_SUCCESS)
            snprintf(g->name, sizeof g->name, "unknown model");
        if (rc != DCM_NVML_SUCCESS) {
            /* A GPU already lost when the agent starts has no UUID to name it by. */
            log_event(ctx, DCM_LOG_ERROR, "GPU %u: %s; left out until the agent restarts",
                              i, dcm_nvml_error_text(&st->lib, rc));
            continue;
        }
        g->uuid[sizeof g->uuid - 1] = '\0';
        g->name[sizeof g->name - 1] = '\0';
        if (strcmp(names, "uuid") == 0)
            snprintf(g->prefix, sizeof g->prefix, "%s", g->uuid);
        else
            snprintf(g->prefix, sizeof g->prefix, "gpu%u", i);
        if (!setup_gpu(ctx, &st->lib, g, want))
            goto fail; /* the core said why */
        st->count++;
        log_event(ctx, DCM_LOG_INFO, "%s: %s %s, energy from %s", g->prefix, g->name,
                          g->uuid, g->energy_counter ? "the driver's counter" : "power");
    }
    if (st->count == 0) {
        dcm_collector_log(ctx, DCM_LOG_WARN, "disabled: none of the selected GPUs answers");
        status = DCM_COLLECTOR_DISABLED;
        goto fail;
    }
    free(selected);
    *state = st;
    return DCM_COLLECTOR_OK;
nomem:
    dcm_collector_log(ctx, DCM_LOG_ERROR, "out of memory");
fail:
    free(selected);
    nvml_close(st);
    return status;
}

/* ------------------------------------------------------------------ poll */

static dcm_collector_status nvml_poll(void *state, dcm_collector_ctx *ctx, int64_t now_ns)
{
    nvml_state *st = state;
    size_t answered = 0;
    for (size_t i = 0; i < st->count; i++) {
        nvml_gpu *g = &st->gpus[i];
        gpu_reading r;
        read_gpu(&st->lib, g, &r);
        bool lost = false, any = false;
        for (int p = 0; p < P_COUNT; p++) {
            lost = lost || r.rc[p] == DCM_NVML_ERROR_GPU_IS_LOST;
            any = any || (g->has[p] && r.rc[p] == DCM_NVML_SUCCESS);
        }
        if (lost != g->lost) {
            if (lost)
                log_event(ctx, DCM_LOG_ERROR, "%s (%s) is lost (GPU_IS_LOST): its points "
                                  "are invalid until it answers again", g->prefix, g->uuid);
            else
                log_event(ctx, DCM_LOG_INFO, "%s (%s) answers again", g->prefix, g->uuid);
            g->lost = lost;
        }
        for (int p = 0; p < P_COUNT; p++) {
            if (!g->has[p])
                continue;
            bool ok = !lost && r.rc[p] == DCM_NVML_SUCCESS;
            if (!ok && !lost)
                dcm_collector_log(ctx, DCM_LOG_WARN, "%s.%s: %s", g->prefix, point_names[p],
                                  dcm_nvml_error_text(&st->lib, r.rc[p]));
            dcm_collector_emit(ctx, g->handle[p], now_ns, ok ? r.value[p] : 0.0,
                               ok ? DCM_QUALITY_OK : DCM_QUALITY_INVALID);
        }
        if (any && !lost)
            answered++;
    }
    /* Only when no GPU answers is the device (the driver) down for the scheduler. */
    return answered > 0 ? DCM_COLLECTOR_OK : DCM_COLLECTOR_RETRY;
}

const dcm_collector_descriptor dcm_nvml_collector = {
    .name = "nvml",
    .abi_version = DCM_COLLECTOR_ABI,
    .description = "NVIDIA GPUs through NVML: power, energy counter, utilisation, power limit",
    .keys = nvml_keys,
    .init = nvml_init,
    .poll = nvml_poll,
    .close = nvml_close,
};
