/*
 * dcm/collector.h - the collector plugin ABI.
 *
 * A collector is a static descriptor: its name, the ABI version it was built for, a
 * declarative table of its config keys, and init/poll/close. The core owns everything
 * else: it validates the config against the key table before init, schedules poll() on
 * a worker thread (one per instance), enforces the per-device deadline, and applies the
 * circuit breaker and backoff (capped at 60 s) when poll() fails. A collector never
 * sleeps, never spawns threads and never blocks longer than its timeout.
 *
 * Ownership: the core owns the ctx and the config nodes for the instance's lifetime; the
 * collector owns *state (allocated in init, freed in close). Strings passed to the core
 * are copied.
 */
#ifndef DCM_COLLECTOR_H
#define DCM_COLLECTOR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "dcm/config.h"
#include "dcm/log.h"
#include "dcm/metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DCM_COLLECTOR_ABI 1

/* Types of declarative config keys. */
typedef enum dcm_key_type {
    DCM_KEY_STRING = 0,
    DCM_KEY_INT,
    DCM_KEY_DOUBLE,
    DCM_KEY_BOOL,
    DCM_KEY_DURATION, /* "500ms", "1s", "15m", "1h", "1d" */
    DCM_KEY_SECRET,   /* literal, or KEY_file: PATH, or KEY_env: NAME; never logged */
    DCM_KEY_LIST,     /* a YAML sequence, read with the dcm_node API */
    DCM_KEY_MAP,      /* a YAML mapping, read with the dcm_node API */
} dcm_key_type;

typedef struct dcm_config_key {
    const char *name;
    dcm_key_type type;
    const char *default_value; /* as it would be written in YAML; NULL = none */
    bool required;
    const char *doc;           /* one line, shown by `dcmetrics check --explain` and docs */
} dcm_config_key;

/* Result of init/poll. */
typedef enum dcm_collector_status {
    DCM_COLLECTOR_OK = 0,
    DCM_COLLECTOR_RETRY,    /* device unreachable: the core backs off and retries */
    DCM_COLLECTOR_DISABLED, /* cannot run here (library missing...): said once, not retried */
    DCM_COLLECTOR_FATAL,    /* bad configuration found at init: reported, instance stopped */
} dcm_collector_status;

typedef struct dcm_collector_ctx dcm_collector_ctx; /* owned by the core */

/* A point the instance publishes. Units are the instance's own (W, kW, Wh, kWh, MWh, J,
 * kJ, MJ, mJ, L, m3, m3/h, L/s, %, degC, V, A, Hz, ms, count, bool); the core converts
 * once to engine units (kW, kWh, m3, m3/h, %) for points it integrates. */
typedef struct dcm_point_decl {
    const char *name; /* within the instance: "energy", "gpu0.power"; id = "<instance>.<name>" */
    const char *unit;
    dcm_kind kind;
    /* Counters: register width in bits (16, 32, 64), 0 = float; with scale (units per
     * count) it gives the wrap modulus. */
    int counter_bits;
    double counter_scale;
    double max_rate; /* plausibility limit in the rate unit (W for Wh, ...); 0 = unknown */
} dcm_point_decl;

typedef struct dcm_collector_descriptor {
    const char *name;        /* the `type:` value in the config */
    int abi_version;         /* DCM_COLLECTOR_ABI */
    const char *description;
    const dcm_config_key *keys; /* terminated by an entry with name == NULL */
    /* Creates the instance's state and declares its points. */
    dcm_collector_status (*init)(dcm_collector_ctx *ctx, void **state);
    /* Reads the device once and emits samples. now_ns is the scheduler's clock (which
     * the demo may run faster than real time). */
    dcm_collector_status (*poll)(void *state, dcm_collector_ctx *ctx, int64_t now_ns);
    void (*close)(void *state);
} dcm_collector_descriptor;

/* ---- services the core gives a collector (all thread-safe for the calling instance) */

/* The instance's name and its config mapping (validated against keys). */
const char *dcm_collector_name(const dcm_collector_ctx *ctx);
const dcm_node *dcm_collector_config_node(const dcm_collector_ctx *ctx);
/* Poll interval and per-poll deadline of the instance. */
int64_t dcm_collector_interval_ns(const dcm_collector_ctx *ctx);
int64_t dcm_collector_timeout_ns(const dcm_collector_ctx *ctx);

/* Declares a point (init only). Returns 0 and the handle, or -1 with a logged reason. */
int dcm_collector_declare_point(dcm_collector_ctx *ctx, const dcm_point_decl *decl,
                                uint32_t *handle);
/* Emits a sample in the point's declared unit. Non-finite values become INVALID. */
void dcm_collector_emit(dcm_collector_ctx *ctx, uint32_t handle, int64_t ts_ns, double value,
                        dcm_quality q);
/* Logs tagged with "<type>/<instance>", rate-limited per message format. */
void dcm_collector_log(dcm_collector_ctx *ctx, dcm_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the compiled-in collectors (CMake options choose which) */
const dcm_collector_descriptor *dcm_collector_find(const char *type);
/* NULL-terminated array of every compiled-in descriptor. */
const dcm_collector_descriptor *const *dcm_collector_all(void);

#ifdef __cplusplus
}
#endif
#endif /* DCM_COLLECTOR_H */
