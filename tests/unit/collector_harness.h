/*
 * collector_harness.h - runs collector instances from a YAML snippet through the real
 * scheduler (init, declared points, worker polls, samples on the bus), for unit tests of
 * collectors that read local files (procstat, rapl).
 */
#ifndef DCM_TEST_COLLECTOR_HARNESS_H
#define DCM_TEST_COLLECTOR_HARNESS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/config.h"
#include "scheduler.h"

typedef struct dcm_harness {
    dcm_config *cfg;
    dcm_diags diags;
    dcm_points pts;
    dcm_bus bus;
    dcm_clock clock;
    dcm_scheduler *sched;
    dcm_sample pending[64]; /* popped from the bus, not yet looked at */
    size_t pos, len;
} dcm_harness;

/* Loads the YAML and creates the instances (their init runs here). 0 on success. */
static inline int dcm_harness_create(dcm_harness *h, const char *yaml)
{
    memset(h, 0, sizeof *h);
    dcm_diags_init(&h->diags);
    if (dcm_config_load_string(yaml, strlen(yaml), "t.yaml", &h->cfg, &h->diags) != DCM_CONFIG_OK) {
        dcm_diags_print(&h->diags, stderr);
        return -1;
    }
    if (dcm_points_init(&h->pts) != 0 || dcm_bus_init(&h->bus, 1 << 12) != 0)
        return -1;
    dcm_clock_init(&h->clock, 1.0, dcm_realtime_ns());
    dcm_scheduler_env env = {.config = h->cfg, .clock = &h->clock, .points = &h->pts,
                             .bus = &h->bus};
    h->sched = dcm_scheduler_create(&env);
    return h->sched ? 0 : -1;
}

static inline int dcm_harness_start(dcm_harness *h)
{
    return dcm_scheduler_start(h->sched);
}

/* Registry index of a point id, or -1. */
static inline int64_t dcm_harness_point(dcm_harness *h, const char *id)
{
    for (size_t i = 0; i < h->pts.count; i++)
        if (strcmp(h->pts.items[i].id, id) == 0)
            return (int64_t)i;
    return -1;
}

/* Waits (up to timeout_ms) for the next sample of point: its value (engine unit),
 * quality and timestamp. Samples of other points before it are skipped. */
static inline bool dcm_harness_next(dcm_harness *h, int64_t point, int timeout_ms,
                                    dcm_sample *out)
{
    for (int waited = 0; waited <= timeout_ms;) {
        while (h->pos < h->len) {
            const dcm_sample *smp = &h->pending[h->pos++];
            if ((int64_t)smp->point == point) {
                *out = *smp;
                return true;
            }
        }
        h->pos = 0;
        h->len = dcm_bus_pop(&h->bus, h->pending, 64, 20);
        if (!h->len)
            waited += 20;
    }
    return false;
}

/* Whether the instance at index i was disabled (or stopped) at init. */
static inline bool dcm_harness_disabled(dcm_harness *h, size_t i)
{
    dcm_instance_health *hh;
    size_t n = dcm_scheduler_health(h->sched, &hh);
    bool d = i < n && hh[i].disabled;
    dcm_health_free(hh, n);
    return d;
}

static inline void dcm_harness_destroy(dcm_harness *h)
{
    dcm_scheduler_destroy(h->sched);
    dcm_points_destroy(&h->pts);
    dcm_bus_destroy(&h->bus);
    dcm_config_destroy(h->cfg);
    dcm_diags_free(&h->diags);
}

#endif
