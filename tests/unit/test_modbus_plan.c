/* Request coalescing: contiguous and near points merge, gaps and limits split, tables
 * never mix, max_registers 1 reads one register at a time, derived points read nothing,
 * recorded splits hold across rebuilds, and a real profile's plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "modbus_map.h"
#include "modbus_plan.h"

static dcm_mb_point pt(dcm_mb_table table, dcm_mb_type type, uint16_t address)
{
    dcm_mb_point p;
    memset(&p, 0, sizeof p);
    p.table = table;
    p.type = type;
    p.address = address;
    p.bit = -1;
    p.scale = 1;
    return p;
}

static void assert_request(const dcm_mb_plan *plan, size_t r, dcm_mb_table t, unsigned start,
                           unsigned count, size_t n)
{
    assert_true(r < plan->request_count);
    const dcm_mb_request *q = &plan->requests[r];
    assert_int_equal(q->table, t);
    assert_int_equal(q->start, start);
    assert_int_equal(q->count, count);
    assert_int_equal(q->n, n);
}

static void test_contiguous_merge(void **s)
{
    (void)s;
    /* Given out of order: the plan sorts by address. */
    dcm_mb_point p[] = {pt(DCM_MB_INPUT, DCM_MB_F32, 4), pt(DCM_MB_INPUT, DCM_MB_F32, 0),
                        pt(DCM_MB_INPUT, DCM_MB_F32, 2)};
    dcm_mb_plan plan;
    assert_int_equal(dcm_mb_plan_init(&plan, p, 3, 125, 8), DCM_MB_OK);
    assert_int_equal(plan.request_count, 1);
    assert_request(&plan, 0, DCM_MB_INPUT, 0, 6, 3);
    assert_int_equal(dcm_mb_plan_member(&plan, &plan.requests[0], 0), 1);
    assert_int_equal(dcm_mb_plan_member(&plan, &plan.requests[0], 1), 2);
    assert_int_equal(dcm_mb_plan_member(&plan, &plan.requests[0], 2), 0);
    dcm_mb_plan_free(&plan);
}

static void test_gap_limit(void **s)
{
    (void)s;
    /* 0..1 and 12..13: ten registers apart. */
    dcm_mb_point p[] = {pt(DCM_MB_HOLDING, DCM_MB_F32, 0), pt(DCM_MB_HOLDING, DCM_MB_F32, 12)};
    dcm_mb_plan plan;
    assert_int_equal(dcm_mb_plan_init(&plan, p, 2, 125, 8), DCM_MB_OK);
    assert_int_equal(plan.request_count, 2);
    assert_request(&plan, 0, DCM_MB_HOLDING, 0, 2, 1);
    assert_request(&plan, 1, DCM_MB_HOLDING, 12, 2, 1);
    dcm_mb_plan_free(&plan);
    assert_int_equal(dcm_mb_plan_init(&plan, p, 2, 125, 10), DCM_MB_OK);
    assert_int_equal(plan.request_count, 1);
    assert_request(&plan, 0, DCM_MB_HOLDING, 0, 14, 2);
    dcm_mb_plan_free(&plan);
    /* max_gap 0: only touching points merge. */
    dcm_mb_point q[] = {pt(DCM_MB_HOLDING, DCM_MB_U16, 0), pt(DCM_MB_HOLDING, DCM_MB_U16, 1),
                        pt(DCM_MB_HOLDING, DCM_MB_U16, 3)};
    assert_int_equal(dcm_mb_plan_init(&plan, q, 3, 125, 0), DCM_MB_OK);
    assert_int_equal(plan.request_count, 2);
    assert_request(&plan, 0, DCM_MB_HOLDING, 0, 2, 2);
    assert_request(&plan, 1, DCM_MB_HOLDING, 3, 1, 1);
    dcm_mb_plan_free(&plan);
}

static void test_max_registers(void **s)
{
    (void)s;
    dcm_mb_point p[10];
    for (int i = 0; i < 10; i++)
        p[i] = pt(DCM_MB_HOLDING, DCM_MB_F32, (uint16_t)(2 * i));
    dcm_mb_plan plan;
    assert_int_equal(dcm_mb_plan_init(&plan, p, 10, 6, 8), DCM_MB_OK);
    assert_int_equal(plan.request_count, 4);
    assert_request(&plan, 0, DCM_MB_HOLDING, 0, 6, 3);
    assert_request(&plan, 1, DCM_MB_HOLDING, 6, 6, 3);
    assert_request(&plan, 2, DCM_MB_HOLDING, 12, 6, 3);
    assert_request(&plan, 3, DCM_MB_HOLDING, 18, 2, 1);
    dcm_mb_plan_free(&plan);
    /* 125 u16 in a row fit one request; the 126th starts another. */
    dcm_mb_point q[126];
    for (int i = 0; i < 126; i++)
        q[i] = pt(DCM_MB_INPUT, DCM_MB_U16, (uint16_t)(1000 + i));
    assert_int_equal(dcm_mb_plan_init(&plan, q, 126, 125, 8), DCM_MB_OK);
    assert_int_equal(plan.request_count, 2);
    assert_request(&plan, 0, DCM_MB_INPUT, 1000, 125, 125);
    assert_request(&plan, 1, DCM_MB_INPUT, 1125, 1, 1);
    dcm_mb_plan_free(&plan);
    /* Limits outside the protocol's are refused. */
    assert_int_equal(dcm_mb_plan_init(&plan, q, 1, 0, 8), DCM_MB_EINVALID);
    assert_int_equal(dcm_mb_plan_init(&plan, q, 1, 126, 8), DCM_MB_EINVALID);
    assert_int_equal(dcm_mb_plan_init(&plan, q, 1, 125, -1), DCM_MB_EINVALID);
    dcm_mb_plan_free(&plan);
}

static void test_one_register_per_request(void **s)
{
    (void)s;
    dcm_mb_point p[] = {pt(DCM_MB_HOLDING, DCM_MB_U16, 7), pt(DCM_MB_HOLDING, DCM_MB_I16, 8),
                        pt(DCM_MB_HOLDING, DCM_MB_U16, 9)};
    dcm_mb_plan plan;
    assert_int_equal(dcm_mb_plan_init(&plan, p, 3, 1, 8), DCM_MB_OK);
    assert_int_equal(plan.request_count, 3);
    for (size_t r = 0; r < 3; r++)
        assert_request(&plan, r, DCM_MB_HOLDING, 7 + (unsigned)r, 1, 1);
    dcm_mb_plan_free(&plan);
}

static void test_tables_and_bits(void **s)
{
    (void)s;
    dcm_mb_point p[] = {pt(DCM_MB_HOLDING, DCM_MB_U16, 0), pt(DCM_MB_INPUT, DCM_MB_U16, 1),
                        pt(DCM_MB_COIL, DCM_MB_BOOL, 5),   pt(DCM_MB_COIL, DCM_MB_BOOL, 0),
                        pt(DCM_MB_COIL, DCM_MB_BOOL, 1),   pt(DCM_MB_DISCRETE, DCM_MB_BOOL, 3)};
    dcm_mb_plan plan;
    assert_int_equal(dcm_mb_plan_init(&plan, p, 6, 125, 8), DCM_MB_OK);
    assert_int_equal(plan.request_count, 4);
    assert_request(&plan, 0, DCM_MB_HOLDING, 0, 1, 1);
    assert_request(&plan, 1, DCM_MB_INPUT, 1, 1, 1);
    assert_request(&plan, 2, DCM_MB_COIL, 0, 6, 3);
    assert_request(&plan, 3, DCM_MB_DISCRETE, 3, 1, 1);
    dcm_mb_plan_free(&plan);
}

static void test_bits_cap(void **s)
{
    (void)s;
    dcm_mb_point p[3];
    for (int i = 0; i < 3; i++)
        p[i] = pt(DCM_MB_COIL, DCM_MB_BOOL, (uint16_t)(i * 100));
    p[2].address = 2000; /* bits 0..2000 would be 2001 */
    dcm_mb_plan plan;
    assert_int_equal(dcm_mb_plan_init(&plan, p, 3, 125, 2000), DCM_MB_OK);
    assert_int_equal(plan.request_count, 2);
    assert_request(&plan, 0, DCM_MB_COIL, 0, 101, 2);
    assert_request(&plan, 1, DCM_MB_COIL, 2000, 1, 1);
    dcm_mb_plan_free(&plan);
}

static void test_overlap_and_derived(void **s)
{
    (void)s;
    dcm_mb_point p[] = {pt(DCM_MB_HOLDING, DCM_MB_U16, 10), pt(DCM_MB_HOLDING, DCM_MB_U16, 10),
                        pt(DCM_MB_HOLDING, DCM_MB_U32, 10), pt(DCM_MB_HOLDING, DCM_MB_U16, 0)};
    p[0].bit = 0;
    p[1].bit = 7;
    p[3].derive = DCM_MB_DERIVE_THERMAL_POWER; /* reads nothing */
    dcm_mb_plan plan;
    assert_int_equal(dcm_mb_plan_init(&plan, p, 4, 125, 8), DCM_MB_OK);
    assert_int_equal(plan.request_count, 1);
    assert_request(&plan, 0, DCM_MB_HOLDING, 10, 2, 3);
    /* The wider point first at a shared address. */
    assert_int_equal(dcm_mb_plan_member(&plan, &plan.requests[0], 0), 2);
    dcm_mb_plan_free(&plan);
}

static void test_split_is_remembered(void **s)
{
    (void)s;
    dcm_mb_point p[] = {pt(DCM_MB_HOLDING, DCM_MB_U16, 0), pt(DCM_MB_HOLDING, DCM_MB_U32, 1),
                        pt(DCM_MB_HOLDING, DCM_MB_U16, 5), pt(DCM_MB_HOLDING, DCM_MB_U16, 40),
                        pt(DCM_MB_HOLDING, DCM_MB_U16, 41)};
    dcm_mb_plan plan;
    assert_int_equal(dcm_mb_plan_init(&plan, p, 5, 125, 8), DCM_MB_OK);
    assert_int_equal(plan.request_count, 2);
    assert_request(&plan, 0, DCM_MB_HOLDING, 0, 6, 3);
    assert_request(&plan, 1, DCM_MB_HOLDING, 40, 2, 2);
    assert_int_equal(dcm_mb_plan_split(&plan, 0), DCM_MB_OK);
    assert_int_equal(dcm_mb_plan_split(&plan, 7), DCM_MB_EINVALID);
    /* Nothing changes until the rebuild. */
    assert_int_equal(plan.request_count, 2);
    assert_true(dcm_mb_plan_has_cut(&plan, DCM_MB_HOLDING, 0, 6));
    assert_false(dcm_mb_plan_has_cut(&plan, DCM_MB_HOLDING, 40, 42));
    assert_int_equal(dcm_mb_plan_build(&plan), DCM_MB_OK);
    assert_int_equal(plan.request_count, 4);
    assert_request(&plan, 0, DCM_MB_HOLDING, 0, 1, 1);
    assert_request(&plan, 1, DCM_MB_HOLDING, 1, 2, 1);
    assert_request(&plan, 2, DCM_MB_HOLDING, 5, 1, 1);
    assert_request(&plan, 3, DCM_MB_HOLDING, 40, 2, 2); /* untouched */
    /* And it holds on later rebuilds. */
    assert_int_equal(dcm_mb_plan_build(&plan), DCM_MB_OK);
    assert_int_equal(plan.request_count, 4);
    dcm_mb_plan_free(&plan);
}

/* The Eastron SDM630 profile (max_registers 40, max_gap 8): phase values 0x00..0x11 in one
 * request, 0x34..0x4B (power, PF, frequency, energies; holes of 8 and 6) in a second,
 * total energy 0x156 alone. */
static void test_profile_plan(void **s)
{
    (void)s;
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_mb_profile *prof = NULL;
    assert_int_equal(dcm_mb_profile_load("eastron-sdm630", NULL, &prof, &d), DCM_MB_OK);
    dcm_mb_plan plan;
    assert_int_equal(dcm_mb_plan_init(&plan, prof->points, prof->point_count,
                                      prof->max_registers, prof->max_gap),
                     DCM_MB_OK);
    assert_int_equal(plan.request_count, 3);
    assert_request(&plan, 0, DCM_MB_INPUT, 0x00, 18, 9);
    assert_request(&plan, 1, DCM_MB_INPUT, 0x34, 24, 5);
    assert_request(&plan, 2, DCM_MB_INPUT, 0x156, 2, 1);
    dcm_mb_plan_free(&plan);
    /* With one register per request no f32 could be read: the profile check says so. */
    assert_false(dcm_mb_check_points(prof->points, prof->point_count, 1, &d));
    assert_true(d.errors > 0);
    dcm_mb_profile_destroy(prof);
    dcm_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contiguous_merge),
        cmocka_unit_test(test_gap_limit),
        cmocka_unit_test(test_max_registers),
        cmocka_unit_test(test_one_register_per_request),
        cmocka_unit_test(test_tables_and_bits),
        cmocka_unit_test(test_bits_cap),
        cmocka_unit_test(test_overlap_and_derived),
        cmocka_unit_test(test_split_is_remembered),
        cmocka_unit_test(test_profile_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
