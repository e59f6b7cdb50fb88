/*
 * rapl.c - the `rapl` collector: CPU package (and psys, core, uncore, dram) energy from
 * the powercap RAPL counters. Each zone is a uJ counter that wraps at its own
 * max_energy_range_uj, declared as the point's wrap so the engine adds the wrap back.
 * There is no power file: power is the engine's counter rate.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/collector.h"
#include "rapl.h"

static const dcm_config_key rapl_keys[] = {
    {"root", DCM_KEY_STRING, "/", false,
     "directory holding sys/class/powercap: / on the host, the host's root mounted elsewhere "
     "in a container"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

typedef struct rapl_state {
    dcm_rapl_zones zones;
    uint32_t *handles;
    bool *failing;
} rapl_state;

/* Once-per-event lines (a zone found, unreadable, readable again): never rate-limited, where
 * dcm_collector_log would fold a second zone's line into the first's. */
static void log_event(dcm_collector_ctx *ctx, dcm_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void log_event(dcm_collector_ctx *ctx, dcm_log_level level, const char *fmt, ...)
{
    char tag[96];
    va_list ap;
    snprintf(tag, sizeof tag, "%s/%s", "rapl", dcm_collector_name(ctx));
    va_start(ap, fmt);
    dcm_logv(level, tag, fmt, ap);
    va_end(ap);
}

static void rapl_close(void *state)
{
    rapl_state *st = state;
    if (!st)
        return;
    dcm_rapl_zones_free(&st->zones);
    free(st->handles);
    free(st->failing);
    free(st);
}

static dcm_collector_status rapl_init(dcm_collector_ctx *ctx, void **state)
{
    const dcm_node *cfg = dcm_collector_config_node(ctx);
    const dcm_node *n = cfg ? dcm_node_get(cfg, "root") : NULL;
    const char *root = "/";
    dcm_collector_status status = DCM_COLLECTOR_FATAL;
    char why[4600];

    *state = NULL;
    if (n)
        dcm_node_as_string(n, &root);
    rapl_state *st = calloc(1, sizeof *st);
    if (!st)
        goto nomem;
    dcm_rapl_err err = dcm_rapl_scan(root, &st->zones, why, sizeof why);
    switch (err) {
    case DCM_RAPL_OK:
        break;
    case DCM_RAPL_ENOMEM:
        goto nomem;
    case DCM_RAPL_EACCES:
        dcm_collector_log(ctx, DCM_LOG_WARN, "disabled: %s: RAPL energy counters are readable "
                          "by root only (Linux 5.10 and later, CVE-2020-8694): run the agent as "
                          "root, or let its user read energy_uj (for example chgrp dcmetrics + "
                          "chmod g+r on /sys/class/powercap/intel-rapl:*/energy_uj at boot)", why);
        status = DCM_COLLECTOR_DISABLED;
        goto fail;
    case DCM_RAPL_ENOZONE:
        dcm_collector_log(ctx, DCM_LOG_WARN, "disabled: %s: no RAPL here (a CPU without RAPL, a "
                          "virtual machine, or the intel_rapl_common module not loaded)", why);
        status = DCM_COLLECTOR_DISABLED;
        goto fail;
    case DCM_RAPL_EIO:
        dcm_collector_log(ctx, DCM_LOG_WARN, "disabled: %s", why);
        status = DCM_COLLECTOR_DISABLED;
        goto fail;
    }
    st->handles = calloc(st->zones.count, sizeof *st->handles);
    st->failing = calloc(st->zones.count, sizeof *st->failing);
    if (!st->handles || !st->failing)
        goto nomem;
    for (size_t i = 0; i < st->zones.count; i++) {
        const dcm_rapl_zone *z = &st->zones.items[i];
        char name[200];
        snprintf(name, sizeof name, "%s.energy", z->label);
        dcm_point_decl d = {.name = name, .unit = "uJ", .kind = DCM_KIND_COUNTER,
                            .counter_wrap = z->max_range_uj};
        if (dcm_collector_declare_point(ctx, &d, &st->handles[i]) != 0)
            goto fail; /* the core said why */
        log_event(ctx, DCM_LOG_INFO, "%s: %s, wraps at %.0f uJ", name, z->energy_path,
                          z->max_range_uj);
    }
    *state = st;
    return DCM_COLLECTOR_OK;
nomem:
    dcm_collector_log(ctx, DCM_LOG_ERROR, "out of memory");
fail:
    rapl_close(st);
    return status;
}

static dcm_collector_status rapl_poll(void *state, dcm_collector_ctx *ctx, int64_t now_ns)
{
    rapl_state *st = state;
    size_t ok_count = 0;
    for (size_t i = 0; i < st->zones.count; i++) {
        const dcm_rapl_zone *z = &st->zones.items[i];
        double uj = 0;
        dcm_rapl_err err = dcm_rapl_read(z, &uj);
        bool ok = err == DCM_RAPL_OK;
        if (!ok && !st->failing[i])
            log_event(ctx, DCM_LOG_WARN, "%s: %s", z->energy_path, strerror(errno));
        else if (ok && st->failing[i])
            log_event(ctx, DCM_LOG_INFO, "%s: readable again", z->energy_path);
        st->failing[i] = !ok;
        dcm_collector_emit(ctx, st->handles[i], now_ns, ok ? uj : 0.0,
                           ok ? DCM_QUALITY_OK : DCM_QUALITY_INVALID);
        ok_count += ok;
    }
    return ok_count > 0 ? DCM_COLLECTOR_OK : DCM_COLLECTOR_RETRY;
}

const dcm_collector_descriptor dcm_rapl_collector = {
    .name = "rapl",
    .abi_version = DCM_COLLECTOR_ABI,
    .description = "CPU package energy from the powercap RAPL counters (root only)",
    .keys = rapl_keys,
    .init = rapl_init,
    .poll = rapl_poll,
    .close = rapl_close,
};
