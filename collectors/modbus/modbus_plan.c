/* Request coalescing: sort each table's points by address and merge greedily while the
 * request stays short enough, the hole read over stays small, and no recorded cut is
 * crossed. Requests are runs of consecutive points along the sorted addresses, so closing
 * each one as late as the limits allow gives the fewest requests. */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "modbus_plan.h"

/* qsort has no context argument: the comparison sees (index, address, size) triples. */
typedef struct slot {
    size_t index;
    uint32_t start;
    uint32_t end;
} slot;

static int by_address(const void *pa, const void *pb)
{
    const slot *a = pa, *b = pb;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->end != b->end)
        return a->end > b->end ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

bool dcm_mb_plan_has_cut(const dcm_mb_plan *plan, dcm_mb_table t, uint32_t start, uint32_t end)
{
    for (size_t i = 0; i < plan->cut_count[t]; i++)
        if (plan->cuts[t][i] > start && plan->cuts[t][i] < end)
            return true;
    return false;
}

static bool add_request(dcm_mb_plan *plan, dcm_mb_table t, uint32_t start, uint32_t end,
                        size_t first, size_t n)
{
    if (!dcm_grow((void **)&plan->requests, &plan->request_cap, plan->request_count + 1,
                  sizeof *plan->requests, 8))
        return false;
    plan->requests[plan->request_count++] = (dcm_mb_request){
        .table = t, .start = (uint16_t)start, .count = (uint16_t)(end - start), .first = first,
        .n = n};
    return true;
}

static bool build_table(dcm_mb_plan *plan, dcm_mb_table t, slot *slots, size_t *member_count)
{
    size_t n = 0;
    for (size_t i = 0; i < plan->point_count; i++) {
        const dcm_mb_point *p = &plan->points[i];
        if (p->derive != DCM_MB_DERIVE_NONE || p->table != t)
            continue;
        slots[n++] = (slot){i, p->address, (uint32_t)p->address + (uint32_t)dcm_mb_point_registers(p)};
    }
    if (n == 0)
        return true;
    qsort(slots, n, sizeof *slots, by_address);
    uint32_t cap = dcm_mb_table_is_bits(t) ? DCM_MB_MAX_BITS : (uint32_t)plan->max_registers;
    size_t first = *member_count;
    uint32_t start = slots[0].start, end = slots[0].end;
    plan->members[(*member_count)++] = slots[0].index;
    for (size_t i = 1; i < n; i++) {
        const slot *s = &slots[i];
        uint32_t new_end = s->end > end ? s->end : end;
        bool near = s->start <= end || s->start - end <= (uint32_t)plan->max_gap;
        if (near && new_end - start <= cap && !dcm_mb_plan_has_cut(plan, t, start, new_end)) {
            end = new_end;
        } else {
            if (!add_request(plan, t, start, end, first, *member_count - first))
                return false;
            first = *member_count;
            start = s->start;
            end = s->end;
        }
        plan->members[(*member_count)++] = s->index;
    }
    return add_request(plan, t, start, end, first, *member_count - first);
}

dcm_mb_err dcm_mb_plan_build(dcm_mb_plan *plan)
{
    if (plan->point_count == 0) {
        plan->request_count = 0;
        return DCM_MB_OK;
    }
    /* Built into fresh arrays and swapped in at the end, so a failed rebuild leaves the
     * working plan in place. */
    dcm_mb_plan old = *plan;
    plan->requests = NULL;
    plan->request_count = plan->request_cap = 0;
    plan->members = malloc(plan->point_count * sizeof *plan->members);
    plan->member_cap = plan->members ? plan->point_count : 0;
    slot *slots = malloc(plan->point_count * sizeof *slots);
    size_t members = 0;
    bool ok = plan->members && slots;
    for (int t = 0; ok && t < DCM_MB_TABLE_COUNT; t++)
        ok = build_table(plan, (dcm_mb_table)t, slots, &members);
    free(slots);
    if (!ok) {
        free(plan->requests);
        free(plan->members);
        plan->requests = old.requests;
        plan->request_count = old.request_count;
        plan->request_cap = old.request_cap;
        plan->members = old.members;
        plan->member_cap = old.member_cap;
        return DCM_MB_ENOMEM;
    }
    free(old.requests);
    free(old.members);
    return DCM_MB_OK;
}

dcm_mb_err dcm_mb_plan_init(dcm_mb_plan *plan, const dcm_mb_point *points, size_t n,
                            int max_registers, int max_gap)
{
    memset(plan, 0, sizeof *plan);
    if (max_registers < 1 || max_registers > DCM_MB_MAX_REGISTERS || max_gap < 0)
        return DCM_MB_EINVALID;
    plan->points = points;
    plan->point_count = n;
    plan->max_registers = max_registers;
    plan->max_gap = max_gap;
    return dcm_mb_plan_build(plan);
}

static bool add_cut(dcm_mb_plan *plan, dcm_mb_table t, uint32_t at)
{
    for (size_t i = 0; i < plan->cut_count[t]; i++)
        if (plan->cuts[t][i] == at)
            return true;
    if (!dcm_grow((void **)&plan->cuts[t], &plan->cut_cap[t], plan->cut_count[t] + 1,
                  sizeof *plan->cuts[t], 8))
        return false;
    plan->cuts[t][plan->cut_count[t]++] = at;
    return true;
}

dcm_mb_err dcm_mb_plan_split(dcm_mb_plan *plan, size_t r)
{
    if (r >= plan->request_count)
        return DCM_MB_EINVALID;
    const dcm_mb_request *req = &plan->requests[r];
    for (size_t i = 0; i < req->n; i++) {
        const dcm_mb_point *p = &plan->points[dcm_mb_plan_member(plan, req, i)];
        uint32_t start = p->address;
        uint32_t end = start + (uint32_t)dcm_mb_point_registers(p);
        if (!add_cut(plan, req->table, start) || !add_cut(plan, req->table, end))
            return DCM_MB_ENOMEM;
    }
    return DCM_MB_OK;
}

void dcm_mb_plan_free(dcm_mb_plan *plan)
{
    if (!plan)
        return;
    free(plan->requests);
    free(plan->members);
    for (int t = 0; t < DCM_MB_TABLE_COUNT; t++)
        free(plan->cuts[t]);
    memset(plan, 0, sizeof *plan);
}
