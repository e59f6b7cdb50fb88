/*
 * sim_run.h - drives the simulated hall through time and turns it into samples: the
 * point list, the running registers, when to emit, and simulated outages.
 *
 * No I/O, no clock, no globals: the caller passes the time and a callback that receives
 * the samples, so tests drive it exactly as the collector does.
 *
 * Emission: one sample per point every `emit_ns` of simulated time (timestamps on
 * multiples of emit_ns), with registers integrated at `step_ns` in between. When the
 * caller's time runs far ahead (the demo's fast clock), samples thin out to one per
 * simulated minute and each call does a bounded amount of work; what is left is done by
 * the next call. Registers are exact whatever the spacing (see sim_model.h).
 *
 * Ownership: dcm_sim_run_create copies everything it is given (outage globs included);
 * dcm_sim_run_destroy frees it all.
 */
#ifndef DCM_SIM_RUN_H
#define DCM_SIM_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dcm/collector.h"
#include "sim_model.h"

typedef enum dcm_sim_err {
    DCM_SIM_OK = 0,
    DCM_SIM_EINVAL, /* a parameter is out of range (the reason is returned beside) */
    DCM_SIM_ENOMEM,
} dcm_sim_err;

const char *dcm_sim_strerror(dcm_sim_err err);

#define DCM_SIM_COARSE_NS (INT64_C(60) * INT64_C(1000000000))
#define DCM_SIM_MAX_SAMPLES_PER_CALL 20000
#define DCM_SIM_MAX_CELLS_PER_CALL INT64_C(200000)

/* A simulated outage: points whose name matches glob (fnmatch, over names within the
 * instance such as "it.hall-a.*") emit nothing, or samples of quality INVALID, for
 * timestamps in [from_ns, to_ns). Their registers keep counting, as a real meter's do. */
typedef struct dcm_sim_outage {
    const char *glob;
    int64_t from_ns, to_ns;
    bool invalid;
} dcm_sim_outage;

typedef struct dcm_sim_config {
    dcm_sim_params params;
    int64_t step_ns;  /* integration cell, 1 ms .. 1 h */
    int64_t emit_ns;  /* sample spacing when keeping up, 1 ms .. 1 h */
    bool has_start;   /* start_ns is set; otherwise the first call's time is the start */
    int64_t start_ns; /* the first sample's time (rounded down to emit_ns) */
    bool grid_wh32;   /* grid.energy as a 32-bit Wh register, which wraps */
    bool skip_history; /* with start in the past: only integrate up to the first call (the
                          `backfill: false` key); false = emit every sample from start */
    size_t max_samples; /* per call; 0 = DCM_SIM_MAX_SAMPLES_PER_CALL */
    int64_t max_cells;  /* per call; 0 = DCM_SIM_MAX_CELLS_PER_CALL */
    const dcm_sim_outage *outages;
    size_t outage_count;
} dcm_sim_config;

typedef struct dcm_sim_run dcm_sim_run;

/* On DCM_SIM_EINVAL, *why (if not NULL) names the bad parameter. */
dcm_sim_err dcm_sim_run_create(const dcm_sim_config *cfg, dcm_sim_run **out, const char **why);
void dcm_sim_run_destroy(dcm_sim_run *r);

/* The points, in a fixed order; a sample's `point` is the index here. Names are
 * "grid.energy", "gpus.node01.util", ...; the core prefixes the instance name. */
size_t dcm_sim_run_point_count(const dcm_sim_run *r);
const dcm_point_decl *dcm_sim_run_point(const dcm_sim_run *r, size_t i);
/* Index of the point called name, or -1. */
long dcm_sim_run_find(const dcm_sim_run *r, const char *name);

typedef void (*dcm_sim_emit_fn)(void *ud, size_t point, int64_t ts_ns, double value,
                                dcm_quality q);

/* Emits every sample due at or before now_ns, within the per-call limits. Returns the
 * number of samples passed to fn. */
size_t dcm_sim_run_advance(dcm_sim_run *r, int64_t now_ns, dcm_sim_emit_fn fn, void *ud);

/* Time of the latest emission (false before the first), and the registers at it. */
bool dcm_sim_run_last(const dcm_sim_run *r, int64_t *ts_ns, dcm_sim_counters *c);

#endif
