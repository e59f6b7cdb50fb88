/* The unit table: factors to the engine's units, names, and which kinds each unit suits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "units.h"

static dcm_unit_info get(const char *name)
{
    dcm_unit_info u;
    memset(&u, 0, sizeof u);
    assert_true(dcm_unit_lookup(name, &u));
    return u;
}

static void test_energy_factors(void **state)
{
    (void)state;
    assert_float_equal(get("Wh").factor * 1000.0, 1.0, 1e-15);
    assert_float_equal(get("kWh").factor, 1.0, 0.0);
    assert_float_equal(get("MWh").factor, 1000.0, 0.0);
    /* 1 kWh = 3.6 MJ = 3600 kJ = 3.6e6 J = 3.6e9 mJ */
    assert_float_equal(get("MJ").factor * 3.6, 1.0, 1e-15);
    assert_float_equal(get("kJ").factor * 3600.0, 1.0, 1e-15);
    assert_float_equal(get("J").factor * 3.6e6, 1.0, 1e-15);
    assert_float_equal(get("mJ").factor * 3.6e9, 1.0, 1e-15);
    for (const char *const *n = (const char *const[]){"Wh", "kWh", "MWh", "J", "kJ", "MJ", "mJ", NULL};
         *n; n++) {
        dcm_unit_info u = get(*n);
        assert_int_equal(u.quantity, DCM_QTY_ENERGY);
        assert_false(u.is_rate);
        assert_string_equal(u.canonical, "kWh");
    }
}

static void test_power_volume_flow(void **state)
{
    (void)state;
    dcm_unit_info w = get("W"), kw = get("kW"), mw = get("MW");
    assert_float_equal(w.factor, 0.001, 1e-18);
    assert_float_equal(kw.factor, 1.0, 0.0);
    assert_float_equal(mw.factor, 1000.0, 0.0);
    assert_true(w.is_rate && kw.is_rate && mw.is_rate);
    assert_string_equal(mw.canonical, "kW");

    dcm_unit_info l = get("L"), m3 = get("m3"), m3h = get("m3/h"), ls = get("L/s");
    assert_float_equal(l.factor, 0.001, 1e-18);
    assert_float_equal(m3.factor, 1.0, 0.0);
    assert_int_equal(l.quantity, DCM_QTY_VOLUME);
    assert_false(l.is_rate || m3.is_rate);
    assert_true(m3h.is_rate && ls.is_rate);
    /* 1 L/s = 3.6 m3/h */
    assert_float_equal(ls.factor, 3.6, 1e-15);
    assert_string_equal(ls.canonical, "m3/h");

    dcm_unit_info pct = get("%"), degc = get("degC");
    assert_int_equal(pct.quantity, DCM_QTY_UTILISATION);
    assert_true(pct.is_rate);
    assert_int_equal(degc.quantity, DCM_QTY_OTHER);
}

static void test_names_are_case_sensitive(void **state)
{
    (void)state;
    dcm_unit_info u;
    assert_false(dcm_unit_lookup("kwh", &u));
    assert_false(dcm_unit_lookup("mw", &u));
    assert_false(dcm_unit_lookup("mW", &u)); /* milliwatt: not a unit we take */
    assert_false(dcm_unit_lookup("", &u));
    assert_false(dcm_unit_lookup(NULL, &u));
    assert_false(dcm_unit_lookup("kWh ", &u));
    /* MJ and mJ differ by a factor of 1e9. */
    assert_float_equal(get("MJ").factor / get("mJ").factor, 1e9, 1e-3);
}

static void test_fits_kind(void **state)
{
    (void)state;
    char why[160];
    dcm_unit_info kw = get("kW"), kwh = get("kWh"), m3 = get("m3"), m3h = get("m3/h"),
                  pct = get("%"), degc = get("degC");
    assert_true(dcm_unit_fits_kind(&kw, DCM_KIND_GAUGE, why, sizeof why));
    assert_true(dcm_unit_fits_kind(&kwh, DCM_KIND_COUNTER, why, sizeof why));
    assert_true(dcm_unit_fits_kind(&kwh, DCM_KIND_DELTA, why, sizeof why));
    assert_true(dcm_unit_fits_kind(&m3, DCM_KIND_COUNTER, why, sizeof why));
    assert_true(dcm_unit_fits_kind(&m3h, DCM_KIND_GAUGE, why, sizeof why));
    assert_true(dcm_unit_fits_kind(&pct, DCM_KIND_GAUGE, why, sizeof why));
    assert_true(dcm_unit_fits_kind(&degc, DCM_KIND_COUNTER, why, sizeof why));

    assert_false(dcm_unit_fits_kind(&kwh, DCM_KIND_GAUGE, why, sizeof why));
    assert_non_null(strstr(why, "power unit"));
    assert_non_null(strstr(why, "'kWh'"));
    assert_false(dcm_unit_fits_kind(&kw, DCM_KIND_COUNTER, why, sizeof why));
    assert_non_null(strstr(why, "energy unit"));
    assert_false(dcm_unit_fits_kind(&kw, DCM_KIND_DELTA, why, sizeof why));
    assert_false(dcm_unit_fits_kind(&m3h, DCM_KIND_DELTA, why, sizeof why));
    assert_non_null(strstr(why, "volume unit"));
    assert_false(dcm_unit_fits_kind(&m3, DCM_KIND_GAUGE, why, sizeof why));
    assert_non_null(strstr(why, "flow unit"));
    assert_false(dcm_unit_fits_kind(&pct, DCM_KIND_COUNTER, why, sizeof why));
    assert_non_null(strstr(why, "only a gauge"));
    /* No buffer for the explanation is fine too. */
    assert_false(dcm_unit_fits_kind(&kwh, DCM_KIND_GAUGE, NULL, 0));
    assert_false(dcm_unit_fits_kind(NULL, DCM_KIND_GAUGE, why, sizeof why));
}

static void test_compatible(void **state)
{
    (void)state;
    dcm_unit_info kwh = get("kWh"), wh = get("Wh"), mj = get("MJ"), kw = get("kW"),
                  w = get("W"), m3 = get("m3"), l = get("L");
    assert_true(dcm_unit_compatible(&kwh, &wh));
    assert_true(dcm_unit_compatible(&kwh, &mj));
    assert_true(dcm_unit_compatible(&kw, &w));
    assert_true(dcm_unit_compatible(&m3, &l));
    assert_false(dcm_unit_compatible(&kwh, &kw));
    assert_false(dcm_unit_compatible(&kwh, &m3));
    assert_false(dcm_unit_compatible(&kwh, NULL));
}

/* Every unit converts to a canonical unit that is itself in the table with factor 1 and
 * the same nature, so a value normalised twice does not change. */
static void test_table_consistent(void **state)
{
    (void)state;
    assert_true(dcm_unit_count() >= 16);
    assert_null(dcm_unit_at(dcm_unit_count()));
    for (size_t i = 0; i < dcm_unit_count(); i++) {
        const dcm_unit_info *u = dcm_unit_at(i);
        assert_non_null(u);
        assert_true(u->factor > 0);
        dcm_unit_info c;
        assert_true(dcm_unit_lookup(u->canonical, &c));
        assert_float_equal(c.factor, 1.0, 0.0);
        assert_int_equal(c.quantity, u->quantity);
        assert_int_equal(c.is_rate, u->is_rate);
        for (size_t j = i + 1; j < dcm_unit_count(); j++)
            assert_string_not_equal(u->name, dcm_unit_at(j)->name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_energy_factors),   cmocka_unit_test(test_power_volume_flow),
        cmocka_unit_test(test_names_are_case_sensitive), cmocka_unit_test(test_fits_kind),
        cmocka_unit_test(test_compatible),       cmocka_unit_test(test_table_consistent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
