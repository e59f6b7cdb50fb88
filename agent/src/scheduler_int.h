/*
 * scheduler_int.h - what scheduler.c (threads per instance) and scheduler_async.c (one
 * event loop per asynchronous collector type) share: the instance struct and the poll
 * bookkeeping both kinds of instance go through, so health, backoff and watermarks mean
 * the same for every collector.
 */
#ifndef DCM_SCHEDULER_INT_H
#define DCM_SCHEDULER_INT_H

#include "scheduler.h"

/* An instance's batch starts small and doubles up to DCM_BATCH_CAP samples as its poll
 * needs (then it is handed on in parts), and is freed when the poll ends: thousands of
 * SNMP instances of 60 points each must not each hold room for 4,096, nor for 60 while
 * they wait for their next poll. */
#define DCM_BATCH_INITIAL 64
#define DCM_BATCH_CAP 4096

struct dcm_collector_ctx {
    dcm_scheduler *sched;
    uint32_t index;
    const dcm_collector_config *cfg;
    const dcm_collector_descriptor *desc;
    void *state;
    char tag[96];
    bool initialised;
    bool stopped;          /* DISABLED or FATAL: no more polls */
    pthread_t thread;
    bool thread_started;
    dcm_sample *batch;
    size_t batch_count, batch_cap;
    int64_t poll_newest_ts; /* newest sample timestamp emitted by the current poll */
    int64_t health_points[3]; /* up, latency_ms, failures: registry indices, -1 if absent */
    dcm_instance_health health; /* guarded by sched->health_lock */
};

typedef struct dcm_sched_loop dcm_sched_loop; /* scheduler_async.c */

struct dcm_scheduler {
    dcm_scheduler_env env;
    dcm_collector_ctx *instances;
    size_t count;
    pthread_mutex_t health_lock;
    volatile bool stop;
    dcm_sched_loop *loops; /* one per asynchronous collector type in use */
    size_t loop_count;
};

/* Records the outcome of one poll (health, logs, health samples stamped at `stamp`). */
void dcm_sched_record(dcm_collector_ctx *ctx, dcm_collector_status st, int64_t now,
                      int64_t latency, int64_t stamp);
/* Queues the instance's watermark behind its samples and hands the batch to the bus. */
void dcm_sched_flush(dcm_collector_ctx *ctx, int64_t watermark);
const char *dcm_sched_status_text(dcm_collector_status st);
/* Wait after a failed poll: interval x 2^(failures-1), at most DCM_BACKOFF_MAX_NS. */
int64_t dcm_sched_backoff(const dcm_collector_ctx *ctx, int64_t interval);

/* Starts one event-loop thread per asynchronous collector type that has a running
 * instance (0, or -1 when a thread cannot start); stops and frees them. */
int dcm_sched_start_loops(dcm_scheduler *s);
void dcm_sched_stop_loops(dcm_scheduler *s);

#endif
