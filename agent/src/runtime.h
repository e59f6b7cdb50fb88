/*
 * runtime.h - the daemon's moving parts: clock, point registry, sample bus, scheduler
 * (collector instances on worker threads) and the pipeline thread (engine, ledger,
 * snapshot). `run` and `demo` assemble them with dcm_runtime_*.
 *
 * Threads: one worker per collector instance (it owns its device connection), one pipeline
 * thread (it alone touches the engine and the ledger), and the caller's thread (it reads
 * snapshots). Data moves between them only through the bus and the snapshot, each behind
 * its own mutex.
 */
#ifndef DCM_RUNTIME_H
#define DCM_RUNTIME_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dcm/collector.h"
#include "dcm/config.h"
#include "dcm/metrics.h"
#include "units.h"

/* ------------------------------------------------------------------ clock */

/* Real time, or simulated time running `speed` times faster from `start_ns` (demo). */
typedef struct dcm_clock {
    double speed;       /* 1 = real time */
    int64_t start_ns;   /* clock value at mono_start */
    int64_t mono_start; /* CLOCK_MONOTONIC ns when started */
} dcm_clock;

void dcm_clock_init(dcm_clock *c, double speed, int64_t start_ns);
int64_t dcm_clock_now(const dcm_clock *c);
/* Real nanoseconds that correspond to d of clock time (at least 1 ms). */
int64_t dcm_clock_real_ns(const dcm_clock *c, int64_t d);
int64_t dcm_realtime_ns(void);
int64_t dcm_monotonic_ns(void);
/* Sleeps up to ns real nanoseconds or until *stop becomes true (checked every 50 ms). */
void dcm_sleep_ns(int64_t ns, const volatile bool *stop);

/* ----------------------------------------------------------------- points */

/* A point that is only carried (no role, nothing the engine sums: a voltage, a count, a
 * temperature) has no engine state at all. */
#define DCM_POINT_NO_ENGINE UINT32_MAX

/* Limits the integrator needs and the registry holds only until the pipeline has added
 * the point to the engine (most points have none). */
typedef struct dcm_point_limits {
    double wrap_modulus; /* engine unit; 0 = never wraps */
    double max_rate;     /* engine rate unit; 0 = unknown */
} dcm_point_limits;

/* One registered point. Tens of thousands of them live for the whole run, so the entry
 * holds pointers to shared, immutable data instead of copies: the id in the registry's
 * string pool, the unit in the static unit table. */
typedef struct dcm_point {
    const char *id;              /* "<instance>.<name>" (the registry's pool: stable) */
    const dcm_unit_info *unit;   /* as declared; ->canonical is the engine unit, ->factor
                                  * converts to it, ->quantity says what it measures */
    dcm_point_limits *limits;    /* owned; NULL when none or once in the engine */
    uint32_t instance;           /* index of the collector instance */
    uint32_t engine_id;          /* set by the pipeline; DCM_POINT_NO_ENGINE if carried only */
    uint8_t kind;                /* dcm_kind */
    uint8_t last_quality;        /* dcm_quality */
    /* Latest sample, for snapshots (written by the pipeline thread). */
    double last_value;           /* engine unit */
    int64_t last_ts_ns;
} dcm_point;

/* Blocks of point ids, allocated as ids arrive and freed together: one small allocation
 * per id would cost more than the id itself. */
typedef struct dcm_id_block dcm_id_block;

typedef struct dcm_points {
    pthread_mutex_t lock; /* guards growth and the latest-sample fields */
    dcm_point *items;
    size_t count, cap;
    /* Ids -> index + 1 (0 = empty slot), open addressing, at most 3/4 full: declaring
     * tens of thousands of points must not compare each id with every other. */
    uint32_t *slots;
    size_t slot_cap;      /* a power of two, or 0 */
    dcm_id_block *ids;    /* newest first */
} dcm_points;

/* ------------------------------------------------------------------- bus */

/* A sample whose point is DCM_SAMPLE_WATERMARK is a marker, not a reading: instance
 * `value` has emitted every sample up to ts_ns (INT64_MAX: it has stopped for good).
 * In accelerated time the engine's windows close on the lowest watermark, not on the
 * clock, so a minute never closes before every collector has delivered it. */
#define DCM_SAMPLE_WATERMARK UINT32_MAX

typedef struct dcm_sample {
    uint32_t point;
    uint8_t quality; /* dcm_quality */
    int64_t ts_ns;
    double value;    /* engine unit */
} dcm_sample;

/* Bounded multi-producer single-consumer queue. Producers push whole batches (one lock
 * per poll); when the queue is full they wait up to `block_ms` and then drop the batch,
 * counting every sample dropped: never silent. */
typedef struct dcm_bus {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    dcm_sample *ring;
    size_t cap, head, count;
    uint64_t pushed, dropped;
    bool closed;
} dcm_bus;

int dcm_bus_init(dcm_bus *b, size_t cap);
void dcm_bus_destroy(dcm_bus *b);
/* Returns the number of samples accepted (n, or fewer if the queue stayed full). */
size_t dcm_bus_push(dcm_bus *b, const dcm_sample *s, size_t n, int block_ms);
/* Pops up to max samples, waiting up to wait_ms for the first. Returns 0 on timeout or
 * when closed and empty. */
size_t dcm_bus_pop(dcm_bus *b, dcm_sample *out, size_t max, int wait_ms);
void dcm_bus_close(dcm_bus *b);

/* -------------------------------------------------------- latest snapshot */

/* A KPI record copied out of the engine callback, for readers on other threads. */
typedef struct dcm_record_copy {
    bool present;
    dcm_window window;
    int64_t start_ns, end_ns;
    bool interim;
    dcm_totals totals;
    dcm_kpi_set kpi;
} dcm_record_copy;

typedef struct dcm_instance_health {
    char *name;
    char *type;
    bool up;
    bool disabled;
    uint64_t polls, failures, consecutive_failures;
    int64_t last_latency_ns;
    int64_t last_ok_ns;  /* clock time of the last good poll */
    char last_error[160];
} dcm_instance_health;

/* Closed records (latest per window), interim records (open windows, refreshed by the
 * pipeline about once a second) and device health. */
typedef struct dcm_snapshot {
    pthread_mutex_t lock;
    dcm_record_copy closed[DCM_WINDOW_COUNT];
    dcm_record_copy interim[DCM_WINDOW_COUNT];
    int64_t now_ns;         /* clock time of the last refresh */
    uint64_t samples_in;    /* samples fed to the engine */
    uint64_t samples_dropped;
    uint64_t records_out;
} dcm_snapshot;

/* ---------------------------------------------------------------- runtime */

/* Called on the pipeline thread for each closed record and, for listeners that ask for
 * it, each 1 s instant record (rec->interim). Must not block for long. */
typedef void (*dcm_runtime_record_fn)(void *ctx, const dcm_kpi_record *rec,
                                      const dcm_config *cfg);

/* Called on the pipeline thread for each sample as it reaches the engine, with the
 * value in the unit the collector declared. point_id is "<instance>.<name>" (instance
 * names never contain '.'). Must not block for long. */
typedef void (*dcm_runtime_sample_fn)(void *ctx, const char *point_id, const char *unit,
                                      int64_t ts_ns, double value, dcm_quality q);

/* Called on the pipeline thread after each batch of samples and records has been handed
 * out (at least every 100 ms while running): the place to make a batch durable. */
typedef void (*dcm_runtime_batch_fn)(void *ctx);

/* Called on the pipeline thread for each correction the integrator makes (wrap, reset,
 * backwards, spike, gap; not a repeated timestamp), after the ledger has recorded it.
 * inc->correction says which, inc->t1_ns when; applied as in dcm_correction_fn. */
typedef void (*dcm_runtime_correction_fn)(void *ctx, const char *point_id,
                                          const dcm_increment *inc, bool applied);

/* One consumer of the pipeline's output: the terminal stream, the durable outputs, the
 * HTTP server, the alert rules. Any callback may be NULL. */
typedef struct dcm_runtime_listener {
    dcm_runtime_record_fn on_record;
    bool instant;                   /* also receive the 1 s instant records */
    dcm_runtime_sample_fn on_sample;
    dcm_runtime_batch_fn on_batch_end;
    dcm_runtime_correction_fn on_correction;
    void *ctx;
} dcm_runtime_listener;

#define DCM_RUNTIME_MAX_LISTENERS 8

typedef struct dcm_runtime_options {
    const dcm_config *config;
    const char *state_dir;     /* overrides config->agent.state_dir when set */
    double speed;              /* clock speed (demo); 1 = real time */
    int64_t start_ns;          /* clock start (0 = now) */
    /* Called in this order, on the pipeline thread. */
    dcm_runtime_listener listeners[DCM_RUNTIME_MAX_LISTENERS];
    size_t listener_count;
} dcm_runtime_options;

typedef struct dcm_runtime dcm_runtime;

typedef enum dcm_runtime_err {
    DCM_RUNTIME_OK = 0,
    DCM_RUNTIME_ECONFIG,  /* the configuration cannot be run (message logged) */
    DCM_RUNTIME_ELEDGER,  /* the ledger cannot be opened */
    DCM_RUNTIME_ENOMEM,
    DCM_RUNTIME_ETHREAD,  /* a thread could not be started */
} dcm_runtime_err;

const char *dcm_runtime_strerror(dcm_runtime_err err);

/* Builds everything and starts the threads. On failure nothing is left running. */
dcm_runtime_err dcm_runtime_start(const dcm_runtime_options *opt, dcm_runtime **out);
/* Stops collectors, drains the bus, commits the ledger and frees everything. */
void dcm_runtime_stop(dcm_runtime *rt);

/* Read-only views for the caller's thread. */
dcm_snapshot *dcm_runtime_snapshot(dcm_runtime *rt);
const dcm_clock *dcm_runtime_clock(const dcm_runtime *rt);
/* How far the KPI windows have moved: the clock in real time, the slowest instance's
 * delivered data in accelerated time. */
int64_t dcm_runtime_progress(dcm_runtime *rt);
/* Copies instance health (count entries, caller frees with dcm_health_free). */
size_t dcm_runtime_health(dcm_runtime *rt, dcm_instance_health **out);
void dcm_health_free(dcm_instance_health *h, size_t n);
const dcm_config *dcm_runtime_config(const dcm_runtime *rt);
/* Zone names in engine order (for JSON and tables). */
const char *const *dcm_runtime_zone_names(const dcm_runtime *rt, size_t *count);
/* Calls fn for every point of the registry, in registry order (index), with the
 * registry locked: the pipeline waits meanwhile, so fn only copies what it needs (no
 * I/O, no rendering). The strings stay valid until dcm_runtime_stop(). */
typedef void (*dcm_runtime_point_fn)(void *ctx, size_t index, const dcm_point *p);
void dcm_runtime_points(dcm_runtime *rt, dcm_runtime_point_fn fn, void *ctx);

#endif
