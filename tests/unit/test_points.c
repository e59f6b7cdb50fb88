/* The point registry: indexes in order of declaration, duplicates refused, at the scale
 * of a thousand SNMP devices (the id index grows many times on the way). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler.h"

#define DEVICES 1000
#define PER_DEVICE 60

static int64_t add(dcm_points *p, const char *id, uint32_t instance)
{
    return dcm_points_add(p, id, dcm_unit_find("W"), DCM_KIND_GAUGE, 0, 0, instance, "test");
}

static void test_many_points(void **unused)
{
    (void)unused;
    dcm_points p;
    char id[64];
    assert_int_equal(dcm_points_init(&p), 0);
    for (uint32_t d = 0; d < DEVICES; d++)
        for (int k = 0; k < PER_DEVICE; k++) {
            snprintf(id, sizeof id, "p%05u.o%02d", (unsigned)d + 1, k);
            assert_int_equal(add(&p, id, d), (int64_t)d * PER_DEVICE + k);
        }
    assert_int_equal(p.count, DEVICES * PER_DEVICE);
    /* Every earlier id is still known after the index has grown: a sample of them, the
     * first and the last included, is refused without changing the registry. */
    for (uint32_t d = 0; d < DEVICES; d += 97)
        for (int k = 0; k < PER_DEVICE; k += 29) {
            snprintf(id, sizeof id, "p%05u.o%02d", (unsigned)d + 1, k);
            assert_int_equal(add(&p, id, d), -1);
        }
    assert_int_equal(add(&p, "p01000.o59", 999), -1);
    assert_int_equal(p.count, DEVICES * PER_DEVICE);
    /* Ids that differ only in their last character, or are prefixes of others. */
    assert_int_equal(add(&p, "p01000.o5", 999), DEVICES * PER_DEVICE);
    assert_int_equal(add(&p, "p01000.o599", 999), DEVICES * PER_DEVICE + 1);
    assert_int_equal(add(&p, "p01000.o5", 999), -1);
    assert_string_equal(p.items[DEVICES * PER_DEVICE].id, "p01000.o5");
    assert_string_equal(p.items[1234].id, "p00021.o34");
    assert_int_equal(p.items[1234].instance, 20);
    dcm_points_destroy(&p);
}

static void test_destroy_and_reuse(void **unused)
{
    (void)unused;
    dcm_points p;
    assert_int_equal(dcm_points_init(&p), 0);
    assert_int_equal(add(&p, "a.x", 0), 0);
    assert_int_equal(add(&p, "a.y", 0), 1);
    assert_int_equal(add(&p, "a.x", 0), -1);
    dcm_points_destroy(&p);
    /* A registry set up again starts empty: the ids of the old one are gone. */
    assert_int_equal(dcm_points_init(&p), 0);
    assert_int_equal(add(&p, "a.x", 0), 0);
    dcm_points_destroy(&p);
}

/* Ids live in shared blocks: an id longer than a block gets one of its own, and no id
 * moves when blocks are added. Limits are kept only where the engine will use them. */
static void test_id_pool_and_limits(void **unused)
{
    (void)unused;
    dcm_points p;
    char id[64];
    static char long_id[40000];
    assert_int_equal(dcm_points_init(&p), 0);
    assert_int_equal(add(&p, "first.x", 0), 0);
    const char *first = p.items[0].id;
    memset(long_id, 'l', sizeof long_id - 1);
    long_id[0] = 'z';
    for (int i = 1; i <= 3000; i++) {
        if (i == 1500)
            assert_int_equal(add(&p, long_id, 1), i);
        else {
            snprintf(id, sizeof id, "dev%04d.power_w_%d", i, i * 7);
            assert_int_equal(add(&p, id, 1), i);
        }
    }
    assert_ptr_equal(p.items[0].id, first);
    assert_string_equal(first, "first.x");
    assert_string_equal(p.items[1500].id, long_id);
    assert_string_equal(p.items[1499].id, "dev1499.power_w_10493");
    assert_string_equal(p.items[1501].id, "dev1501.power_w_10507");
    assert_string_equal(p.items[3000].id, "dev3000.power_w_21000");
    assert_int_equal(add(&p, long_id, 2), -1);

    int64_t energy = dcm_points_add(&p, "m.energy", dcm_unit_find("kWh"), DCM_KIND_COUNTER,
                                    4294967296.0, 500, 3, "test");
    int64_t count = dcm_points_add(&p, "m.packets", dcm_unit_find("count"), DCM_KIND_COUNTER,
                                   4294967296.0, 0, 3, "test");
    int64_t power = add(&p, "m.power", 3);
    assert_true(energy > 0 && count > 0 && power > 0);
    assert_non_null(p.items[energy].limits);
    assert_true(p.items[energy].limits->wrap_modulus == 4294967296.0);
    assert_true(p.items[energy].limits->max_rate == 500);
    assert_null(p.items[count].limits);
    assert_null(p.items[power].limits);
    assert_string_equal(p.items[power].unit->name, "W");
    assert_string_equal(p.items[power].unit->canonical, "kW");
    assert_int_equal(p.items[power].engine_id, DCM_POINT_NO_ENGINE);
    assert_int_equal(dcm_points_add(&p, "m.nounit", NULL, DCM_KIND_GAUGE, 0, 0, 3, "test"), -1);
    dcm_points_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_points),
        cmocka_unit_test(test_destroy_and_reuse),
        cmocka_unit_test(test_id_pool_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
