/*
 * dcm/collector.h - the collector plugin ABI.
 *
 * A collector is a static descriptor: its name, the ABI version it was built for, a
 * declarative table of its config keys, and init/poll/close. The core owns everything
 * else: it validates the config against the key table (and the descriptor's optional
 * check hook) before init, schedules poll() on a worker thread (one per instance),
 * enforces the per-device deadline, and applies the circuit breaker and backoff (capped
 * at 60 s) when poll() fails. A collector never sleeps, never spawns threads and never
 * blocks longer than its timeout.
 *
 * Ownership: the core owns the ctx and the config nodes for the instance's lifetime; the
 * collector owns *state (allocated in init, freed in close). Strings passed to the core
 * are copied.
 *
 * Asynchronous collectors (optional, same ABI version): a descriptor with `async` set is
 * not given a thread per instance. The core runs every instance of that type on ONE
 * thread it owns, an event loop over poll(2): when an instance is due it calls begin(),
 * which only queues requests; it then waits on the descriptors each instance in flight
 * names in wait() (any number of instances, no FD_SETSIZE limit) and calls advance()
 * when one of them is ready or the instance's own timer (retransmission) is due, until
 * advance() says the poll has ended. If the instance's deadline (its `timeout`) passes
 * first, cancel() ends it. Health, backoff, recovery logs and watermarks are the core's,
 * exactly as for threaded collectors: one slow or dead device delays no other. The hooks
 * must never block. init and close still run as for any collector; poll is not used.
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
    /* Counters whose range is not a power of two (RAPL's max_energy_range_uj): the value
     * at which the register wraps to 0, in the point's unit. > 0 overrides counter_bits. */
    double counter_wrap;
} dcm_point_decl;

struct pollfd;

/* Hooks of an asynchronous collector (see the top of this file). All run on the core's
 * event-loop thread for that collector type, never two at once. */
typedef struct dcm_collector_async {
    /* Starts one poll at clock time now_ns (stamp its samples with it): queues the first
     * requests and returns OK, after which advance() or cancel() ends the poll; any other
     * status ends the poll at once (nothing may stay in flight). */
    dcm_collector_status (*begin)(void *state, dcm_collector_ctx *ctx, int64_t now_ns);
    /* The descriptors the poll in flight waits on: fills at most cap entries (fd, events)
     * and returns their number; sets *timer_ns to the CLOCK_MONOTONIC time at which
     * advance() must be called even without readiness (a retransmission), or 0. */
    size_t (*wait)(void *state, struct pollfd *fds, size_t cap, int64_t *timer_ns);
    /* Called with the entries wait() filled (revents set) when one is ready or the timer
     * is due (mono_ns = CLOCK_MONOTONIC now). Returns true when the poll has ended, with
     * its outcome in *status (OK or RETRY, as poll() would return). */
    bool (*advance)(void *state, dcm_collector_ctx *ctx, const struct pollfd *fds, size_t n,
                    int64_t mono_ns, dcm_collector_status *status);
    /* The poll's deadline passed: drop what is in flight, emit what is known, and return
     * the outcome (normally RETRY). */
    dcm_collector_status (*cancel)(void *state, dcm_collector_ctx *ctx);
} dcm_collector_async;

/* Most descriptors one instance may hand to wait() at a time. */
#define DCM_COLLECTOR_ASYNC_MAX_FDS 4

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
    /* NULL for a collector polled on its own thread; else its event-driven hooks (poll
     * is then unused and may be NULL). Added without changing the ABI version: older
     * descriptors leave it zero. */
    const dcm_collector_async *async;
    /* Optional: deeper checks of one entry at configuration load (after its keys passed
     * the key table), adding file:line:column diagnostics. NULL: keys only. Added without
     * changing the ABI version: older descriptors leave it zero. */
    void (*check)(const dcm_node *item, const char *path, dcm_diags *diags);
} dcm_collector_descriptor;

/* ---- services the core gives a collector (all thread-safe for the calling instance) */

/* The instance's name and its config mapping (validated against keys). */
const char *dcm_collector_name(const dcm_collector_ctx *ctx);
const dcm_node *dcm_collector_config_node(const dcm_collector_ctx *ctx);
/* Poll interval and per-poll deadline of the instance. */
int64_t dcm_collector_interval_ns(const dcm_collector_ctx *ctx);
int64_t dcm_collector_timeout_ns(const dcm_collector_ctx *ctx);

/* Declares a point, in init or later from the instance's own poll or hooks (a device
 * whose points are only known once it answered: auto-detected profiles, table rows).
 * Points declared late join the pipeline on its next pass. Returns 0 and the handle, or
 * -1 with a logged reason. */
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
