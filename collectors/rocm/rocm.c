/*
 * rocm.c - the `rocm` collector: power, energy counter and busy percent of AMD GPUs
 * through ROCm SMI, loaded at run time (rocm_lib.c). Errors are per GPU: a GPU that stops
 * answering has its points marked invalid while the others go on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/collector.h"
#include "rocm_lib.h"

static const dcm_config_key rocm_keys[] = {
    {"library", DCM_KEY_STRING, NULL, false,
     "ROCm SMI shared library path (default: librocm_smi64.so in the linker's path or "
     "/opt/rocm/lib)"},
    {"gpus", DCM_KEY_LIST, NULL, false, "GPU indices to read: [0, 1] (default: all)"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

enum { R_POWER = 0, R_ENERGY, R_BUSY, R_COUNT };

static const char *const point_names[R_COUNT] = {"power", "energy", "utilization"};

typedef struct rocm_gpu {
    uint32_t index;
    bool has[R_COUNT];
    uint32_t handle[R_COUNT];
    bool failing;
} rocm_gpu;

typedef struct rocm_state {
    dcm_rocm_lib lib;
    rocm_gpu *gpus;
    size_t count;
} rocm_state;

/* Once-per-event lines (a GPU starting, lost, back): never rate-limited, where
 * dcm_collector_log would fold a second GPU's line into the first's. */
static void log_event(dcm_collector_ctx *ctx, dcm_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void log_event(dcm_collector_ctx *ctx, dcm_log_level level, const char *fmt, ...)
{
    char tag[96];
    va_list ap;
    snprintf(tag, sizeof tag, "%s/%s", "rocm", dcm_collector_name(ctx));
    va_start(ap, fmt);
    dcm_logv(level, tag, fmt, ap);
    va_end(ap);
}

static void bad_node(dcm_collector_ctx *ctx, const dcm_node *n, const char *why)
{
    dcm_collector_log(ctx, DCM_LOG_ERROR, "%s:%d:%d: gpus: %s", dcm_node_file(n),
                      dcm_node_line(n), dcm_node_column(n), why);
}

static bool select_gpus(dcm_collector_ctx *ctx, const dcm_node *list, uint32_t count,
                        bool *selected)
{
    if (!list) {
        for (uint32_t i = 0; i < count; i++)
            selected[i] = true;
        return true;
    }
    if (dcm_node_kind(list) != DCM_NODE_LIST || dcm_node_size(list) == 0) {
        bad_node(ctx, list, "expected a list of GPU indices");
        return false;
    }
    for (size_t i = 0; i < dcm_node_size(list); i++) {
        const dcm_node *item = dcm_node_at(list, i);
        long long idx;
        char why[96];
        if (!dcm_node_as_int(item, &idx) || idx < 0 || idx >= (long long)count) {
            snprintf(why, sizeof why, "expected a GPU index from 0 to %u", count - 1);
            bad_node(ctx, item, why);
            return false;
        }
        if (selected[idx]) {
            bad_node(ctx, item, "this GPU is listed twice");
            return false;
        }
        selected[idx] = true;
    }
    return true;
}

static dcm_rsmi_status read_point(const dcm_rocm_lib *lib, uint32_t idx, int p, double *v)
{
    uint32_t busy = 0;
    dcm_rsmi_status st;
    switch (p) {
    case R_POWER: return dcm_rocm_power(lib, idx, v);
    case R_ENERGY: return dcm_rocm_energy(lib, idx, v);
    default:
        st = lib->busy_percent_get(idx, &busy);
        *v = busy;
        return st;
    }
}

static void rocm_close(void *state)
{
    rocm_state *st = state;
    if (!st)
        return;
    dcm_rocm_lib_close(&st->lib);
    free(st->gpus);
    free(st);
}

static dcm_collector_status rocm_init(dcm_collector_ctx *ctx, void **state)
{
    static const char *const units[R_COUNT] = {"W", "J", "%"};
    static const dcm_kind kinds[R_COUNT] = {DCM_KIND_GAUGE, DCM_KIND_COUNTER, DCM_KIND_GAUGE};
    const dcm_node *cfg = dcm_collector_config_node(ctx);
    const dcm_node *lib_node = cfg ? dcm_node_get(cfg, "library") : NULL;
    const char *library = NULL;
    dcm_collector_status status = DCM_COLLECTOR_FATAL;
    bool *selected = NULL;
    uint32_t count = 0;
    char why[512];

    *state = NULL;
    if (lib_node)
        dcm_node_as_string(lib_node, &library);
    rocm_state *st = calloc(1, sizeof *st);
    if (!st)
        goto nomem;
    dcm_rocm_err err = dcm_rocm_lib_open(library, &st->lib, why, sizeof why);
    if (err != DCM_ROCM_OK) {
        if (err == DCM_ROCM_ENOLIB)
            dcm_collector_log(ctx, DCM_LOG_WARN, "disabled: cannot load ROCm SMI (%s): ROCm is "
                              "not installed here; set `library:` to librocm_smi64.so's path if "
                              "it is elsewhere", why);
        else
            dcm_collector_log(ctx, DCM_LOG_WARN, "disabled: %s: %s", dcm_rocm_strerror(err), why);
        status = DCM_COLLECTOR_DISABLED;
        goto fail;
    }
    dcm_rsmi_status rs = st->lib.num_monitor_devices(&count);
    if (rs != DCM_RSMI_STATUS_SUCCESS || count == 0) {
        dcm_collector_log(ctx, DCM_LOG_WARN, "disabled: %s",
                          rs != DCM_RSMI_STATUS_SUCCESS ? dcm_rocm_status_text(&st->lib, rs)
                                                        : "ROCm SMI sees no GPU on this machine");
        status = DCM_COLLECTOR_DISABLED;
        goto fail;
    }
    selected = calloc(count, sizeof *selected);
    st->gpus = calloc(count, sizeof *st->gpus);
    if (!selected || !st->gpus)
        goto nomem;
    if (!select_gpus(ctx, cfg ? dcm_node_get(cfg, "gpus") : NULL, count, selected))
        goto fail;
    for (uint32_t i = 0; i < count; i++) {
        if (!selected[i])
            continue;
        rocm_gpu *g = &st->gpus[st->count++];
        g->index = i;
        for (int p = 0; p < R_COUNT; p++) {
            double v;
            /* Left out only when the GPU says it cannot; a transient error keeps it. */
            if (read_point(&st->lib, i, p, &v) == DCM_RSMI_STATUS_NOT_SUPPORTED) {
                log_event(ctx, DCM_LOG_INFO, "gpu%u.%s: not supported by this GPU", i,
                                  point_names[p]);
                continue;
            }
            char name[48];
            snprintf(name, sizeof name, "gpu%u.%s", i, point_names[p]);
            dcm_point_decl d = {.name = name, .unit = units[p], .kind = kinds[p]};
            if (dcm_collector_declare_point(ctx, &d, &g->handle[p]) != 0)
                goto fail; /* the core said why */
            g->has[p] = true;
        }
        log_event(ctx, DCM_LOG_INFO, "gpu%u: energy from %s", i,
                          g->has[R_ENERGY] ? "the energy counter" : "nowhere (no counter)");
    }
    free(selected);
    *state = st;
    return DCM_COLLECTOR_OK;
nomem:
    dcm_collector_log(ctx, DCM_LOG_ERROR, "out of memory");
fail:
    free(selected);
    rocm_close(st);
    return status;
}

static dcm_collector_status rocm_poll(void *state, dcm_collector_ctx *ctx, int64_t now_ns)
{
    rocm_state *st = state;
    size_t answered = 0;
    for (size_t i = 0; i < st->count; i++) {
        rocm_gpu *g = &st->gpus[i];
        bool any = false;
        dcm_rsmi_status first_err = DCM_RSMI_STATUS_SUCCESS;
        for (int p = 0; p < R_COUNT; p++) {
            if (!g->has[p])
                continue;
            double v = 0;
            dcm_rsmi_status rs = read_point(&st->lib, g->index, p, &v);
            bool ok = rs == DCM_RSMI_STATUS_SUCCESS;
            any = any || ok;
            if (!ok && first_err == DCM_RSMI_STATUS_SUCCESS)
                first_err = rs;
            dcm_collector_emit(ctx, g->handle[p], now_ns, ok ? v : 0.0,
                               ok ? DCM_QUALITY_OK : DCM_QUALITY_INVALID);
        }
        bool failing = !any;
        if (failing != g->failing) {
            if (failing)
                log_event(ctx, DCM_LOG_ERROR, "gpu%u does not answer (%s): its points "
                                  "are invalid until it does", g->index,
                                  dcm_rocm_status_text(&st->lib, first_err));
            else
                log_event(ctx, DCM_LOG_INFO, "gpu%u answers again", g->index);
            g->failing = failing;
        }
        if (any)
            answered++;
    }
    return answered > 0 ? DCM_COLLECTOR_OK : DCM_COLLECTOR_RETRY;
}

const dcm_collector_descriptor dcm_rocm_collector = {
    .name = "rocm",
    .abi_version = DCM_COLLECTOR_ABI,
    .description = "AMD GPUs through ROCm SMI: power, energy counter, busy percent",
    .keys = rocm_keys,
    .init = rocm_init,
    .poll = rocm_poll,
    .close = rocm_close,
};
