/*
 * kpi_window.h - KPI windows computed offline (`dcmetrics compute`, `dcmetrics report`):
 * the calendar bounds of a period's months or days, and the last step of every window:
 * the retired instruments in force during it (pro rata by time), then the KPIs.
 */
#ifndef DCM_KPI_WINDOW_H
#define DCM_KPI_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "dcm/metrics.h"

typedef struct dcm_kpi_window {
    int64_t start_ns, end_ns; /* [start, end) */
    dcm_totals totals;
    dcm_kpi_set kpi;
} dcm_kpi_window;

typedef enum dcm_kpi_window_err {
    DCM_KPI_WINDOW_OK = 0,
    DCM_KPI_WINDOW_ELIMIT, /* more windows than the caller allows */
    DCM_KPI_WINDOW_ENOMEM,
} dcm_kpi_window_err;

/* The calendar windows of kind w (DCM_WINDOW_1D or DCM_WINDOW_MONTH, in the site's civil
 * time) that cover [from, to), the first and last cut to it: window i is
 * [bounds[i], bounds[i + 1]). On OK *bounds is malloc'd with *count + 1 entries (the
 * caller frees it); ELIMIT when more than max windows would be needed. from < to. */
dcm_kpi_window_err dcm_kpi_window_bounds(const dcm_calendar *cal, dcm_window w, int64_t from,
                                         int64_t to, size_t max, int64_t **bounds,
                                         size_t *count);

/* Empty totals for [start, end) with zone_count zones (capped at DCM_MAX_ZONES). */
void dcm_kpi_window_init(dcm_kpi_window *w, int64_t start_ns, int64_t end_ns,
                         size_t zone_count);

/* Adds the instruments in force during the totals' window, each pro rata by the share of
 * its own period that overlaps the window. */
void dcm_totals_add_instruments(dcm_totals *t, const dcm_instrument_period *ip, size_t n);

/* The last step of a window whose point sums are folded in: instruments, then KPIs. */
void dcm_kpi_window_finish(dcm_kpi_window *w, const dcm_instrument_period *ip, size_t n,
                           const dcm_kpi_params *params);

#endif
