/* Fuzzes SNMP profiles: any bytes must parse or be refused with diagnostics. A profile
 * that parses is planned, and its tables walked with cells made from the input, as the
 * collector would. Any crash, leak or undefined behaviour is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "snmp_map.h"
#include "snmp_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *ud, uint32_t *slot, const char *name, const dcm_snmp_point *p,
                 const dcm_snmp_value *raw, double value, dcm_quality q)
{
    (void)ud, (void)name, (void)p, (void)raw, (void)value, (void)q;
    *slot = 0;
}

static void exercise(const dcm_snmp_profile *p, const uint8_t *data, size_t size)
{
    dcm_snmp_plan plan;
    if (dcm_snmp_plan_build(&plan, p, NULL) != DCM_SNMP_OK)
        return;
    dcm_snmp_dev_events ev = {.value = sink};
    for (size_t i = 0; i < plan.nscalars; i++) {
        dcm_snmp_value v = {.type = (dcm_snmp_vtype)(size ? data[i % size] % 12 : 0),
                            .i = (int64_t)i - 3, .u = i, .f = (double)i / 3};
        dcm_snmp_scalar_emit(&plan.scalars[i], &v, &ev);
    }
    for (size_t t = 0; t < plan.nwalks; t++) {
        dcm_snmp_walk *w = &plan.walks[t];
        dcm_snmp_walk_reset(w);
        for (size_t k = 0; k < 64 && size; k++) {
            size_t c = data[k % size] % w->ncols;
            uint32_t idx[3] = {1, data[(k + 1) % size] % 4, data[(k + 2) % size] % 30};
            dcm_snmp_oid name;
            dcm_snmp_value v = {.type = (dcm_snmp_vtype)(data[(k + 3) % size] % 12),
                                .i = data[(k + 4) % size], .u = data[(k + 5) % size]};
            bool oom = false;
            if (dcm_snmp_oid_append(&w->cols[c], idx, 1 + k % 3, &name))
                dcm_snmp_walk_cell(w, c, &name, &v, &oom);
        }
        dcm_snmp_walk_emit(w, &ev);
    }
    dcm_snmp_plan_free(&plan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dcm_diags diags;
    dcm_diags_init(&diags);
    dcm_snmp_profile *p = NULL;
    if (dcm_snmp_profile_parse_text((const char *)data, size, "fuzz", &p, &diags) ==
        DCM_SNMP_OK) {
        exercise(p, data, size);
        dcm_snmp_profile_destroy(p);
    }
    dcm_diags_free(&diags);
    return 0;
}
