/*
 * test_profiles.c - the compiled-in Modbus device profiles (collectors/modbus/profiles/):
 * every one parses, names its source, uses known units and fits the address space; and
 * each decodes register values as its vendor documents them (byte order, scale, signed
 * types, invalid markers, addressing base, the chiller's derived cooling output).
 */
#ifndef DCM_WITH_MODBUS
#include <stdio.h>

/* A build without the Modbus collector has no profiles and no simulator to test. */
int main(void)
{
    puts("not built: DCM_WITH_MODBUS is off");
    return 0;
}
#else
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_metrics_common.h"

#include "modbus_map.h"
#include "units.h"

static dcm_mb_profile *load(const char *name)
{
    dcm_diags diags;
    dcm_mb_profile *p = NULL;
    dcm_diags_init(&diags);
    dcm_mb_err err = dcm_mb_profile_load(name, NULL, &p, &diags);
    if (err != DCM_MB_OK)
        dcm_diags_print(&diags, stderr);
    dcm_diags_free(&diags);
    assert_int_equal(err, DCM_MB_OK);
    assert_non_null(p);
    return p;
}

static const dcm_mb_point *point(const dcm_mb_profile *p, const char *name)
{
    for (size_t i = 0; i < p->point_count; i++)
        if (strcmp(p->points[i].name, name) == 0)
            return &p->points[i];
    fail_msg("profile %s has no point %s", p->name, name);
    return NULL;
}

/* Decodes regs as point `name` of p, after checking the point's protocol address. */
static double decode(const dcm_mb_profile *p, const char *name, unsigned address,
                     const uint16_t *regs, size_t n, dcm_quality want)
{
    const dcm_mb_point *pt = point(p, name);
    double v = -1;
    assert_int_equal(pt->address, address);
    assert_int_equal((size_t)dcm_mb_point_registers(pt), n);
    dcm_quality q = dcm_mb_decode(pt, regs, n, &v);
    assert_int_equal(q, want);
    return v;
}

#define DEC(p, name, addr, want, ...)                                                       \
    decode(p, name, addr, (const uint16_t[]){__VA_ARGS__},                                  \
           sizeof((const uint16_t[]){__VA_ARGS__}) / sizeof(uint16_t), want)
#define OK DCM_QUALITY_OK
#define BAD DCM_QUALITY_INVALID

/* ------------------------------------------------------------- every one */

static void test_every_profile_is_sound(void **state)
{
    (void)state;
    static const char *const expected[] = {
        "abb-b2x",        "carlo-gavazzi-em24", "carlo-gavazzi-em24-e1", "eastron-sdm630",
        "generic-chiller", "generic-water-meter", "janitza-umg",         "kamstrup-multical",
        "schneider-iem3xxx", "schneider-pm5xxx", "socomec-countis"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_non_null(dcm_mb_profile_find(expected[i]));
    assert_true(dcm_mb_profile_count() >= sizeof expected / sizeof expected[0]);
    for (size_t i = 0; i < dcm_mb_profile_count(); i++) {
        const dcm_mb_embedded *e = dcm_mb_profile_at(i);
        dcm_mb_profile *p = load(e->name);
        assert_string_equal(p->name, e->name);
        assert_non_null(p->description);
        assert_non_null(p->source);
        assert_true(strlen(p->source) > 20);
        assert_true(p->point_count >= 2);
        bool has_energy_or_power = false;
        for (size_t k = 0; k < p->point_count; k++) {
            const dcm_mb_point *pt = &p->points[k];
            dcm_unit_info u;
            memset(&u, 0, sizeof u);
            bool dimensionless = strcmp(pt->unit, "count") == 0 || strcmp(pt->unit, "bool") == 0;
            assert_true(dimensionless || dcm_unit_lookup(pt->unit, &u));
            if (!dimensionless)
                assert_true(dcm_unit_fits_kind(&u, pt->kind, NULL, 0));
            if (pt->kind == DCM_KIND_COUNTER)
                assert_true(u.quantity == DCM_QTY_ENERGY || u.quantity == DCM_QTY_VOLUME);
            if (strcmp(pt->name, "power") == 0 || strcmp(pt->name, "energy") == 0)
                has_energy_or_power = true;
            if (pt->derive == DCM_MB_DERIVE_NONE)
                assert_true((unsigned)pt->address + (unsigned)dcm_mb_point_registers(pt) <= 65536u);
            assert_true(dcm_mb_point_registers(pt) <= p->max_registers);
        }
        assert_true(has_energy_or_power || strcmp(p->name, "generic-water-meter") == 0);
        dcm_mb_profile_destroy(p);
    }
}

/* ------------------------------------------------------------- each one */

static void test_eastron_sdm630(void **state)
{
    (void)state;
    dcm_mb_profile *p = load("eastron-sdm630");
    assert_int_equal(p->max_registers, 40);
    assert_int_equal(point(p, "voltage.l1")->table, DCM_MB_INPUT);
    assert_double_equal(DEC(p, "voltage.l1", 0x0000, OK, 0x4365, 0x0000), 229.0, 1e-9);
    /* 0x4465229A is 916.540649 (IEEE 754, high word first). */
    assert_double_equal(DEC(p, "energy", 0x0048, OK, 0x4465, 0x229A), 916.5406494140625, 1e-9);
    assert_double_equal(DEC(p, "frequency", 0x0046, OK, 0x4247, 0xEB85), 49.97999954223633, 1e-9);
    assert_double_equal(DEC(p, "power", 0x0034, OK, 0x449A, 0x5000), 1234.5, 1e-9);
    assert_double_equal(DEC(p, "energy.total", 0x0156, OK, 0x4465, 0x229A), 916.5406494140625, 1e-9);
    assert_int_equal(point(p, "energy")->kind, DCM_KIND_COUNTER);
    assert_int_equal(point(p, "energy")->counter_bits, 0); /* a float does not wrap */
    /* A NaN register is no reading. */
    DEC(p, "power", 0x0034, BAD, 0x7FC0, 0x0000);
    dcm_mb_profile_destroy(p);
}

static void test_schneider(void **state)
{
    (void)state;
    dcm_mb_profile *p = load("schneider-iem3xxx");
    assert_int_equal(p->addressing, 1);
    /* Register 3204 in the manual is protocol address 3203. */
    assert_double_equal(DEC(p, "energy", 3203, OK, 0x0000, 0x0000, 0x0012, 0xD687), 1234567.0, 0);
    assert_int_equal(point(p, "energy")->type, DCM_MB_I64);
    assert_int_equal(point(p, "energy")->counter_bits, 64);
    assert_double_equal(DEC(p, "power", 3059, OK, 0x449A, 0x5000), 1234.5, 1e-9);
    assert_string_equal(point(p, "power")->unit, "kW");
    assert_double_equal(DEC(p, "current.l1", 2999, OK, 0x4365, 0x0000), 229.0, 1e-9);
    assert_double_equal(DEC(p, "voltage.l3", 3031, OK, 0x4365, 0x0000), 229.0, 1e-9);
    assert_double_equal(DEC(p, "frequency", 3109, OK, 0x4247, 0xEB85), 49.97999954223633, 1e-9);
    /* A 64-bit energy beyond 2^32 keeps every bit. */
    assert_double_equal(DEC(p, "energy.export", 3207, OK, 0x0000, 0x0001, 0x0000, 0x0001),
                        4294967297.0, 0);
    dcm_mb_profile_destroy(p);

    p = load("schneider-pm5xxx");
    assert_double_equal(DEC(p, "energy", 3203, OK, 0x0000, 0x0000, 0x0000, 0x03E8), 1000.0, 0);
    assert_double_equal(DEC(p, "power", 3059, OK, 0x449A, 0x5000), 1234.5, 1e-9);
    assert_double_equal(DEC(p, "power_factor", 3083, OK, 0x3F7A, 0xE148), 0.98, 1e-6);
    dcm_mb_profile_destroy(p);
}

static void test_janitza(void **state)
{
    (void)state;
    dcm_mb_profile *p = load("janitza-umg");
    assert_int_equal(point(p, "power")->table, DCM_MB_HOLDING);
    assert_double_equal(DEC(p, "power", 19026, OK, 0x449A, 0x5000), 1234.5, 1e-9);
    assert_double_equal(DEC(p, "voltage.l1", 19000, OK, 0x4365, 0x0000), 229.0, 1e-9);
    assert_double_equal(DEC(p, "energy", 19068, OK, 0x4465, 0x229A), 916.5406494140625, 1e-9);
    assert_string_equal(point(p, "energy")->unit, "Wh");
    assert_double_equal(DEC(p, "frequency", 19050, OK, 0x4247, 0xEB85), 49.97999954223633, 1e-9);
    dcm_mb_profile_destroy(p);
}

static void test_socomec(void **state)
{
    (void)state;
    dcm_mb_profile *p = load("socomec-countis");
    /* u32, high word first, V/100. */
    assert_double_equal(DEC(p, "voltage.l1", 0xC558, OK, 0x0000, 0x5A0A), 230.50, 1e-9);
    assert_double_equal(DEC(p, "frequency", 0xC55E, OK, 0x0000, 0x1388), 50.00, 1e-9);
    assert_double_equal(DEC(p, "current.l2", 0xC562, OK, 0x0001, 0x0000), 65.536, 1e-9);
    /* s32 in units of 10 W: -200 is -2 kW (export). */
    assert_double_equal(DEC(p, "power", 0xC568, OK, 0xFFFF, 0xFF38), -2000.0, 1e-9);
    assert_double_equal(DEC(p, "power_factor", 0xC56E, OK, 0xFFFF, 0xFC4A), -0.950, 1e-9);
    /* 10 Wh resolution: 12345 counts = 123.45 kWh. */
    assert_double_equal(DEC(p, "energy", 0xC702, OK, 0x0000, 0x3039), 123450.0, 1e-9);
    assert_int_equal(point(p, "energy")->counter_bits, 32);
    assert_double_equal(DEC(p, "energy.kwh", 0xC652, OK, 0x0001, 0x86A0), 100000.0, 0);
    dcm_mb_profile_destroy(p);
}

static void test_carlo_gavazzi(void **state)
{
    (void)state;
    dcm_mb_profile *p = load("carlo-gavazzi-em24");
    assert_int_equal(point(p, "energy")->table, DCM_MB_INPUT);
    /* int32 LOW word first: 2301 (0x000008FD) arrives as 0x08FD, 0x0000. */
    assert_double_equal(DEC(p, "voltage.l1", 0x00, OK, 0x08FD, 0x0000), 230.1, 1e-9);
    /* 123456 (0x0001E240) in 0.1 kWh. */
    assert_double_equal(DEC(p, "energy", 0x42, OK, 0xE240, 0x0001), 12345.6, 1e-9);
    /* Negative power (-1000 x 0.1 W) in two's complement, low word first. */
    assert_double_equal(DEC(p, "power", 0x28, OK, 0xFC18, 0xFFFF), -100.0, 1e-9);
    assert_double_equal(DEC(p, "power_factor", 0x35, OK, 0x03D9), 0.985, 1e-9);
    assert_double_equal(DEC(p, "frequency", 0x37, OK, 0x01F4), 50.0, 1e-9);
    assert_double_equal(DEC(p, "energy.export", 0x5C, OK, 0x0000, 0x0001), 6553.6, 1e-9);
    dcm_mb_profile_destroy(p);

    /* EM24_E1 / EM3x0: same values, other addresses for PF, frequency and energy. */
    p = load("carlo-gavazzi-em24-e1");
    assert_double_equal(DEC(p, "energy", 0x34, OK, 0xE240, 0x0001), 12345.6, 1e-9);
    assert_double_equal(DEC(p, "power_factor", 0x31, OK, 0xFC23), -0.989, 1e-9);
    assert_double_equal(DEC(p, "frequency", 0x33, OK, 0x0258), 60.0, 1e-9);
    assert_double_equal(DEC(p, "energy.export", 0x4E, OK, 0x000A, 0x0000), 1.0, 1e-9);
    dcm_mb_profile_destroy(p);
}

static void test_abb(void **state)
{
    (void)state;
    dcm_mb_profile *p = load("abb-b2x");
    assert_double_equal(DEC(p, "voltage.l1", 0x5B00, OK, 0x0000, 0x08FC), 230.0, 1e-9);
    assert_double_equal(DEC(p, "current.l1", 0x5B0C, OK, 0x0000, 0x04D2), 12.34, 1e-9);
    assert_double_equal(DEC(p, "power", 0x5B14, OK, 0xFFFF, 0xFF9C), -1.0, 1e-9);
    assert_double_equal(DEC(p, "frequency", 0x5B2C, OK, 0x1388), 50.0, 1e-9);
    assert_double_equal(DEC(p, "power_factor", 0x5B3A, OK, 0x03E8), 1.0, 1e-9);
    assert_double_equal(DEC(p, "energy", 0x5000, OK, 0x0000, 0x0000, 0x0001, 0xE240), 1234.56, 1e-9);
    /* Not available: all ones for unsigned values, the largest positive for signed. */
    DEC(p, "voltage.l2", 0x5B02, BAD, 0xFFFF, 0xFFFF);
    DEC(p, "energy", 0x5000, BAD, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF);
    DEC(p, "power", 0x5B14, BAD, 0x7FFF, 0xFFFF);
    DEC(p, "power_factor", 0x5B3A, BAD, 0x7FFF);
    DEC(p, "frequency", 0x5B2C, BAD, 0xFFFF);
    /* One bit less is a reading. */
    assert_double_equal(DEC(p, "power", 0x5B14, OK, 0x7FFF, 0xFFFE), 21474836.46, 1e-6);
    dcm_mb_profile_destroy(p);
}

static void test_kamstrup_and_generic(void **state)
{
    (void)state;
    dcm_mb_profile *p = load("kamstrup-multical");
    assert_double_equal(DEC(p, "power", 0x0004, OK, 0x449A, 0x5000), 1234.5, 1e-9);
    assert_string_equal(point(p, "power")->unit, "kW");
    assert_double_equal(DEC(p, "temperature.supply", 0x0006, OK, 0x40E0, 0x0000), 7.0, 0);
    assert_double_equal(DEC(p, "temperature.return", 0x0008, OK, 0x4140, 0x0000), 12.0, 0);
    assert_double_equal(DEC(p, "flow", 0x0000, OK, 0x4210, 0x0000), 36.0, 0);
    dcm_mb_profile_destroy(p);

    p = load("generic-chiller");
    const dcm_mb_point *q = point(p, "cooling.power");
    assert_int_equal(q->derive, DCM_MB_DERIVE_THERMAL_POWER);
    assert_string_equal(q->flow, "flow");
    assert_string_equal(q->supply, "temperature.supply");
    assert_string_equal(q->ret, "temperature.return");
    double flow = DEC(p, "flow", 6, OK, 0x4210, 0x0000);         /* 36 m3/h = 10 L/s */
    double ts = DEC(p, "temperature.supply", 2, OK, 0x40E0, 0x0000); /* 7 degC */
    double tr = DEC(p, "temperature.return", 4, OK, 0x4140, 0x0000); /* 12 degC */
    assert_double_equal(dcm_mb_thermal_power_kw(flow, false, ts, tr), 4.186 * 10.0 * 5.0, 1e-9);
    assert_double_equal(DEC(p, "energy", 8, OK, 0x0001, 0x86A0), 1000.0, 1e-9);
    dcm_mb_profile_destroy(p);

    p = load("generic-water-meter");
    assert_double_equal(DEC(p, "volume", 0, OK, 0x0001, 0x0000), 65536.0, 0);
    assert_string_equal(point(p, "volume")->unit, "L");
    assert_int_equal(point(p, "volume")->kind, DCM_KIND_COUNTER);
    dcm_mb_profile_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_profile_is_sound),
        cmocka_unit_test(test_eastron_sdm630),
        cmocka_unit_test(test_schneider),
        cmocka_unit_test(test_janitza),
        cmocka_unit_test(test_socomec),
        cmocka_unit_test(test_carlo_gavazzi),
        cmocka_unit_test(test_abb),
        cmocka_unit_test(test_kamstrup_and_generic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif /* DCM_WITH_MODBUS */
