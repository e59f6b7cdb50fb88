/*
 * scheduler.h - collector instances: each one owns a worker thread that polls its device
 * on the instance's interval, with a deadline, a circuit breaker and capped backoff.
 * A dead device backs off (interval x 2^n, at most 60 s); the first good poll after
 * failures is logged once ("recovered"). One instance never waits for another.
 *
 * Asynchronous collector types (descriptor->async) are the exception: all their instances
 * share one event-loop thread per type (scheduler_async.c), with the same per-instance
 * deadline, backoff and health.
 *
 * The struct dcm_collector_ctx handed to collectors is the instance itself.
 */
#ifndef DCM_SCHEDULER_H
#define DCM_SCHEDULER_H

#include "runtime.h"

#define DCM_BACKOFF_MAX_NS (INT64_C(60) * DCM_NS_PER_S)

typedef struct dcm_scheduler dcm_scheduler;

typedef struct dcm_scheduler_env {
    const dcm_config *config;
    const dcm_clock *clock;
    dcm_points *points;
    dcm_bus *bus;
} dcm_scheduler_env;

/* Creates every enabled instance and runs its init on the calling thread (points are
 * declared here). An instance whose init fails is reported and left stopped; the others
 * run. Returns NULL only when memory runs out. */
dcm_scheduler *dcm_scheduler_create(const dcm_scheduler_env *env);
/* Starts one worker thread per initialised instance. Returns the number started, -1 on
 * failure to start a thread (those started are stopped again). */
int dcm_scheduler_start(dcm_scheduler *s);
/* Stops the workers (each finishes its current poll), closes the instances, frees all. */
void dcm_scheduler_destroy(dcm_scheduler *s);

/* Number of instances (the watermark markers' `value` is below this). */
size_t dcm_scheduler_count(const dcm_scheduler *s);

size_t dcm_scheduler_health(dcm_scheduler *s, dcm_instance_health **out);

/* Registers a point in the registry (also used for the scheduler's own health points).
 * unit is an entry of the unit table (dcm_unit_find); wrap_modulus and max_rate are in
 * the engine unit (0 = none). Returns its index, or -1 (reason logged under tag). */
int64_t dcm_points_add(dcm_points *p, const char *id, const dcm_unit_info *unit, dcm_kind kind,
                       double wrap_modulus, double max_rate, uint32_t instance,
                       const char *tag);
int dcm_points_init(dcm_points *p);
void dcm_points_destroy(dcm_points *p);

#endif
