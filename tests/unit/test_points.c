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
    return dcm_points_add(p, id, "W", DCM_KIND_GAUGE, DCM_QTY_ENERGY, 0.001, "kW", 0, 0,
                          instance, "test");
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_points),
        cmocka_unit_test(test_destroy_and_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
