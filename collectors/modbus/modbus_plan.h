/*
 * modbus_plan.h - request coalescing: a device's points become few read requests.
 *
 * Points of one table whose registers are contiguous or separated by at most max_gap
 * unread registers share a request, as long as the request stays within max_registers
 * (2000 bits for coils and discrete inputs). A request that a device answers with a
 * Modbus exception is split for good: dcm_mb_plan_split() records cuts at each of its
 * points' boundaries, and the next build never merges across them again.
 *
 * Ownership: the plan borrows the points (they must outlive it and not move) and owns
 * its arrays (dcm_mb_plan_free()). Pure: no I/O.
 */
#ifndef DCM_MODBUS_PLAN_H
#define DCM_MODBUS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "modbus_map.h"

typedef struct dcm_mb_request {
    dcm_mb_table table;
    uint16_t start; /* first register (or bit) read */
    uint16_t count; /* registers (or bits) read */
    size_t first;   /* plan->members[first .. first + n) are the indices of its points */
    size_t n;
} dcm_mb_request;

typedef struct dcm_mb_plan {
    const dcm_mb_point *points; /* borrowed */
    size_t point_count;
    int max_registers; /* 1..125 */
    int max_gap;       /* >= 0 */
    dcm_mb_request *requests;
    size_t request_count, request_cap;
    size_t *members; /* point indices grouped by request, ascending address within each */
    size_t member_cap;
    /* Boundaries no request may straddle (a request holding register c-1 never holds c). */
    uint32_t *cuts[DCM_MB_TABLE_COUNT];
    size_t cut_count[DCM_MB_TABLE_COUNT], cut_cap[DCM_MB_TABLE_COUNT];
} dcm_mb_plan;

/* Sets the plan up for points (derived points are left out) and builds it. On failure
 * (ENOMEM, or EINVALID for max_registers outside 1..125 or a negative max_gap) the plan
 * is left empty but safe to free. */
dcm_mb_err dcm_mb_plan_init(dcm_mb_plan *plan, const dcm_mb_point *points, size_t n,
                            int max_registers, int max_gap);
/* Rebuilds the requests from the points and the recorded cuts. */
dcm_mb_err dcm_mb_plan_build(dcm_mb_plan *plan);
/* Records cuts around every point of request r (the requests stay as they are until the
 * next dcm_mb_plan_build()). */
dcm_mb_err dcm_mb_plan_split(dcm_mb_plan *plan, size_t r);
/* Whether a cut lies strictly inside [start, end) of table t. */
bool dcm_mb_plan_has_cut(const dcm_mb_plan *plan, dcm_mb_table t, uint32_t start, uint32_t end);
void dcm_mb_plan_free(dcm_mb_plan *plan);

/* The point index of member i of request r. */
static inline size_t dcm_mb_plan_member(const dcm_mb_plan *plan, const dcm_mb_request *r,
                                        size_t i)
{
    return plan->members[r->first + i];
}

#endif /* DCM_MODBUS_PLAN_H */
