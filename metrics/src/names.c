/*
 * names.c - string names of the engine's enums. The names are part of the configuration
 * and output contracts (config keys, MQTT topics, JSON fields): never rename one.
 */
#include <string.h>

#include "dcm/metrics.h"

const char *dcm_metrics_strerror(dcm_metrics_err err)
{
    switch (err) {
    case DCM_METRICS_OK: return "ok";
    case DCM_METRICS_EINVAL: return "invalid argument";
    case DCM_METRICS_ENOMEM: return "out of memory";
    case DCM_METRICS_ELIMIT: return "limit reached";
    }
    return "unknown error";
}

const char *dcm_quality_name(dcm_quality q)
{
    switch (q) {
    case DCM_QUALITY_OK: return "ok";
    case DCM_QUALITY_PARTIAL: return "partial";
    case DCM_QUALITY_STALE: return "stale";
    case DCM_QUALITY_INVALID: return "invalid";
    }
    return "invalid";
}

const char *dcm_kind_name(dcm_kind k)
{
    switch (k) {
    case DCM_KIND_GAUGE: return "gauge";
    case DCM_KIND_COUNTER: return "counter";
    case DCM_KIND_DELTA: return "delta";
    }
    return "unknown";
}

static const char *const role_names[DCM_ROLE_COUNT] = {
    [DCM_ROLE_TOTAL] = "total",
    [DCM_ROLE_GRID] = "grid",
    [DCM_ROLE_IT] = "it",
    [DCM_ROLE_COOLING] = "cooling",
    [DCM_ROLE_FUEL] = "fuel",
    [DCM_ROLE_ONSITE_RENEWABLE] = "onsite_renewable",
    [DCM_ROLE_REUSED] = "reused",
    [DCM_ROLE_HEAT_UPGRADE] = "heat_upgrade",
    [DCM_ROLE_COOLING_OUTPUT] = "cooling_output",
    [DCM_ROLE_WATER] = "water",
    [DCM_ROLE_FRESHWATER] = "freshwater",
    [DCM_ROLE_SERVERS] = "servers",
    [DCM_ROLE_ACCELERATORS] = "accelerators",
    [DCM_ROLE_IT_TELEMETRY] = "it_telemetry",
};

const char *dcm_role_name(dcm_role r)
{
    if ((unsigned)r >= DCM_ROLE_COUNT)
        return "unknown";
    return role_names[r];
}

int dcm_role_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int r = 0; r < DCM_ROLE_COUNT; r++)
        if (strcmp(name, role_names[r]) == 0)
            return r;
    return -1;
}

const char *dcm_correction_name(dcm_correction c)
{
    switch (c) {
    case DCM_CORR_NONE: return "none";
    case DCM_CORR_WRAP: return "wrap";
    case DCM_CORR_RESET: return "reset";
    case DCM_CORR_BACKWARDS: return "backwards";
    case DCM_CORR_SPIKE: return "spike";
    case DCM_CORR_GAP: return "gap";
    case DCM_CORR_ORDER: return "order";
    }
    return "unknown";
}

static const char *const window_names[DCM_WINDOW_COUNT] = {
    [DCM_WINDOW_INSTANT] = "instant",
    [DCM_WINDOW_1M] = "1m",
    [DCM_WINDOW_15M] = "15m",
    [DCM_WINDOW_1H] = "1h",
    [DCM_WINDOW_1D] = "1d",
    [DCM_WINDOW_MONTH] = "month",
    [DCM_WINDOW_YEAR] = "year",
    [DCM_WINDOW_TTM] = "ttm",
};

const char *dcm_window_name(dcm_window w)
{
    if ((unsigned)w >= DCM_WINDOW_COUNT)
        return "unknown";
    return window_names[w];
}

int dcm_window_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int w = 0; w < DCM_WINDOW_COUNT; w++)
        if (strcmp(name, window_names[w]) == 0)
            return w;
    return -1;
}
