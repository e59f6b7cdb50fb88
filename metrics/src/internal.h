/*
 * internal.h - helpers shared by the KPI engine's source files. Not installed.
 */
#ifndef DCM_METRICS_INTERNAL_H
#define DCM_METRICS_INTERNAL_H

#include <math.h>

#include "dcm/metrics.h"

/* Readings beyond this magnitude are implausible in any unit the engine uses (kWh, kW, m3,
 * %); rejecting them keeps every sum, however long, far from overflow. */
#define DCM__VALUE_LIMIT 1e18

/* Timestamps the engine accepts: (0, DCM__TS_LIMIT]. The limit (about year 2255) leaves
 * room for calendar arithmetic (a year ahead plus offsets) without int64 overflow. */
#define DCM__TS_LIMIT (INT64_C(9000000000) * DCM_NS_PER_S)

#define DCM__UTIL_ROLES (DCM_ROLE_BIT(DCM_ROLE_SERVERS) | DCM_ROLE_BIT(DCM_ROLE_ACCELERATORS))
#define DCM__ALL_ROLES ((UINT32_C(1) << DCM_ROLE_COUNT) - 1u)

static inline double dcm__ns_to_s(int64_t ns) { return (double)ns / 1e9; }
static inline double dcm__ns_to_h(int64_t ns) { return (double)ns / 3.6e12; }

static inline int64_t dcm__floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Utilisation points are averaged, not summed: they fold as a per-point mean. */
static inline bool dcm__is_util(const dcm_point_def *def)
{
    return def->quantity == DCM_QTY_UTILISATION;
}

/* Adds a point's sums (amount, estimated, derived, covered, corrections) to its roles and
 * zones, but not expected_s nor the point count, which depend only on the point set and
 * the window length. Utilisation points are skipped (see dcm__fold_util). */
void dcm__fold_sums(dcm_totals *t, const dcm_point_def *def, const dcm_point_acc *acc);

/* Adds one utilisation point's time-weighted mean (amount %-h / covered h) to its roles,
 * counting the point when it has coverage. */
void dcm__fold_util(dcm_totals *t, const dcm_point_def *def, double amount, double covered_s);

/* Adds the point to the role and zone shapes of t: expected_s += window_s, and for
 * non-utilisation points the point count. */
void dcm__fold_shape(dcm_totals *t, const dcm_point_def *def, double window_s);

/* Adds the sums (not the shape, not utilisation roles) of b into a. */
void dcm__totals_add_sums(dcm_totals *a, const dcm_totals *b);

/* dcm_kpi_compute; with instant, coverage is the share of fresh points and a value whose
 * input role has no fresh point at all is STALE. */
void dcm__kpi_compute_ex(const dcm_totals *t, const dcm_kpi_params *p, bool instant,
                         dcm_kpi_set *out);

/* The UTC offset in force at t (seconds, clamped to +-26 h, truncated to whole minutes so
 * that every window is made of whole UTC minutes). */
int32_t dcm__cal_offset(const dcm_calendar *cal, int64_t t_s);

#endif /* DCM_METRICS_INTERNAL_H */
