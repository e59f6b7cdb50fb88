/* Fuzzes Modbus profiles: any bytes must parse or be refused with diagnostics. A profile
 * that parses is planned, split and decoded from registers taken from the input itself, as
 * the collector would use it. Any crash, leak or undefined behaviour is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "modbus_map.h"
#include "modbus_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const dcm_mb_profile *p, const uint8_t *data, size_t size)
{
    dcm_mb_plan plan;
    if (dcm_mb_plan_init(&plan, p->points, p->point_count, p->max_registers, p->max_gap) !=
        DCM_MB_OK) {
        dcm_mb_plan_free(&plan);
        return;
    }
    uint16_t regs[DCM_MB_MAX_REGISTERS];
    for (size_t i = 0; i < DCM_MB_MAX_REGISTERS; i++)
        regs[i] = (uint16_t)(size ? data[(2 * i) % size] << 8 | data[(2 * i + 1) % size] : i);
    for (size_t r = 0; r < plan.request_count; r++) {
        const dcm_mb_request *req = &plan.requests[r];
        for (size_t k = 0; k < req->n; k++) {
            const dcm_mb_point *pt = &p->points[dcm_mb_plan_member(&plan, req, k)];
            double v;
            size_t off = (size_t)(pt->address - req->start);
            if (dcm_mb_table_is_bits(pt->table))
                dcm_mb_decode_bit(pt, (uint8_t)(regs[off % DCM_MB_MAX_REGISTERS] & 1), &v);
            else if (off < DCM_MB_MAX_REGISTERS)
                dcm_mb_decode(pt, regs + off, DCM_MB_MAX_REGISTERS - off, &v);
            uint16_t out[4] = {0};
            dcm_mb_encode(pt, (double)regs[0] - 1000.0, out);
        }
    }
    if (plan.request_count > 0 && dcm_mb_plan_split(&plan, 0) == DCM_MB_OK)
        dcm_mb_plan_build(&plan);
    dcm_mb_plan_free(&plan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_mb_profile *p = NULL;
    if (dcm_mb_profile_parse_text((const char *)data, size, "fuzz", &p, &d) == DCM_MB_OK) {
        dcm_mb_check_points(p->points, p->point_count, p->max_registers, &d);
        exercise(p, data, size);
        dcm_mb_profile_destroy(p);
    }
    dcm_diags_free(&d);
    return 0;
}
