/*
 * test_metrics_integrate.c - the KPI engine's integrator and enum names: trapezoid vs
 * left rule (example H), counter wrap vs reset (example I), spikes, backwards readings,
 * gaps, delta placement, order and non-finite input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "dcm/metrics.h"
#include "test_metrics_common.h"

#define S(x) ((int64_t)(x) * DCM_NS_PER_S)
#define MIN(x) ((int64_t)(x) * DCM_NS_PER_MIN)
#define T0 (INT64_C(1767225600) * DCM_NS_PER_S) /* 2026-01-01T00:00:00Z */

static dcm_point_def def_of(dcm_quantity q, dcm_kind k)
{
    dcm_point_def d;
    memset(&d, 0, sizeof(d));
    d.quantity = q;
    d.kind = k;
    d.zone = -1;
    return d;
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(dcm_metrics_strerror(DCM_METRICS_ENOMEM), "out of memory");
    assert_string_equal(dcm_quality_name(DCM_QUALITY_PARTIAL), "partial");
    assert_string_equal(dcm_kind_name(DCM_KIND_DELTA), "delta");
    assert_string_equal(dcm_role_name(DCM_ROLE_ONSITE_RENEWABLE), "onsite_renewable");
    assert_string_equal(dcm_role_name(DCM_ROLE_COUNT), "unknown");
    assert_string_equal(dcm_correction_name(DCM_CORR_WRAP), "wrap");
    assert_string_equal(dcm_window_name(DCM_WINDOW_TTM), "ttm");
    for (int r = 0; r < DCM_ROLE_COUNT; r++)
        assert_int_equal(dcm_role_from_name(dcm_role_name((dcm_role)r)), r);
    for (int w = 0; w < DCM_WINDOW_COUNT; w++)
        assert_int_equal(dcm_window_from_name(dcm_window_name((dcm_window)w)), w);
    assert_int_equal(dcm_role_from_name("IT"), -1);
    assert_int_equal(dcm_role_from_name(NULL), -1);
    assert_int_equal(dcm_window_from_name("2h"), -1);
}

/* Example H: IT power every 15 min; the trapezoid gives 1047.5 kWh, the left rule would
 * give 1035.0 kWh. */
static void test_example_h_trapezoid(void **state)
{
    (void)state;
    const double kw[] = {1000, 1040, 1080, 1020, 1100};
    dcm_point_def d = def_of(DCM_QTY_ENERGY, DCM_KIND_GAUGE);
    d.max_gap_ns = MIN(20);
    dcm_point_state st;
    dcm_point_state_init(&st);
    dcm_increment inc;
    double sum = 0, left = 0;
    assert_false(dcm_integrator_feed(&d, &st, T0, kw[0], &inc));
    assert_int_equal(inc.correction, DCM_CORR_NONE);
    for (int i = 1; i < 5; i++) {
        assert_true(dcm_integrator_feed(&d, &st, T0 + MIN(15 * i), kw[i], &inc));
        assert_int_equal(inc.flags, DCM_INC_DERIVED);
        assert_int_equal(inc.t0_ns, T0 + MIN(15 * (i - 1)));
        assert_int_equal(inc.t1_ns, T0 + MIN(15 * i));
        sum += inc.amount;
        left += kw[i - 1] * 0.25;
        assert_double_equal(st.rate, kw[i], 0);
    }
    assert_double_equal(sum, 1047.5, 1e-9);
    assert_double_equal(left, 1035.0, 1e-9);

    /* The same samples with the default 5-minute gap: every interval is missing. */
    dcm_point_def d5 = def_of(DCM_QTY_ENERGY, DCM_KIND_GAUGE);
    dcm_point_state_init(&st);
    dcm_integrator_feed(&d5, &st, T0, kw[0], &inc);
    assert_true(dcm_integrator_feed(&d5, &st, T0 + MIN(15), kw[1], &inc));
    assert_int_equal(inc.flags, DCM_INC_MISSING);
    assert_int_equal(inc.correction, DCM_CORR_GAP);
    assert_double_equal(inc.amount, 0, 0);
}

/* Example H, second half: the register 5,000,000.0 -> 5,001,047.5 kWh gives 1047.5 kWh. */
static void test_example_h_register(void **state)
{
    (void)state;
    dcm_point_def d = def_of(DCM_QTY_ENERGY, DCM_KIND_COUNTER);
    dcm_point_state st;
    dcm_point_state_init(&st);
    dcm_increment inc;
    assert_false(dcm_integrator_feed(&d, &st, T0, 5000000.0, &inc));
    assert_true(dcm_integrator_feed(&d, &st, T0 + MIN(60), 5001047.5, &inc));
    assert_double_equal(inc.amount, 1047.5, 1e-9);
    assert_int_equal(inc.correction, DCM_CORR_NONE);
    /* An hour is beyond the 5-minute gap: the amount is exact, its split estimated. */
    assert_int_equal(inc.flags, DCM_INC_ESTIMATED);
    assert_double_equal(st.rate, 1047.5, 1e-9);
    assert_true(dcm_integrator_feed(&d, &st, T0 + MIN(61), 5001065.0, &inc));
    assert_int_equal(inc.flags, 0);
    assert_double_equal(inc.amount, 17.5, 1e-9);
    assert_double_equal(st.rate, 1050.0, 1e-6);
}

/* Example I: a 32-bit Wh register 4,294,967,000 -> 704 one minute later at 60 kW is a
 * wrap of 1,000 Wh. In kWh the modulus is 4294967.296. */
static void test_example_i_wrap(void **state)
{
    (void)state;
    const double max_rates[] = {0.0, 100.0};
    for (int i = 0; i < 2; i++) {
        dcm_point_def d = def_of(DCM_QTY_ENERGY, DCM_KIND_COUNTER);
        d.wrap_modulus = 4294967.296;
        d.max_rate = max_rates[i];
        dcm_point_state st;
        dcm_point_state_init(&st);
        dcm_increment inc;
        dcm_integrator_feed(&d, &st, T0, 4294967.000, &inc);
        assert_true(dcm_integrator_feed(&d, &st, T0 + MIN(1), 0.704, &inc));
        assert_int_equal(inc.correction, DCM_CORR_WRAP);
        assert_double_equal(inc.amount, 1.0, 1e-6);
        assert_double_equal(st.rate, 60.0, 1e-3);
        assert_double_equal(st.last_value, 0.704, 0);
    }
    /* The same in Wh (values and modulus in one unit). */
    dcm_point_def d = def_of(DCM_QTY_ENERGY, DCM_KIND_COUNTER);
    d.wrap_modulus = 4294967296.0;
    dcm_point_state st;
    dcm_point_state_init(&st);
    dcm_increment inc;
    dcm_integrator_feed(&d, &st, T0, 4294967000.0, &inc);
    assert_true(dcm_integrator_feed(&d, &st, T0 + MIN(1), 704.0, &inc));
    assert_int_equal(inc.correction, DCM_CORR_WRAP);
    assert_double_equal(inc.amount, 1000.0, 0);
}

/* Example I: 18,250,000 Wh then 12 Wh after a restart is a reset: delta 12 Wh. */
static void test_example_i_reset(void **state)
{
    (void)state;
    const double max_rates[] = {0.0, 100.0};
    for (int i = 0; i < 2; i++) {
        dcm_point_def d = def_of(DCM_QTY_ENERGY, DCM_KIND_COUNTER);
        d.wrap_modulus = 4294967.296;
        d.max_rate = max_rates[i];
        dcm_point_state st;
        dcm_point_state_init(&st);
        dcm_increment inc;
        dcm_integrator_feed(&d, &st, T0, 18250.000, &inc);
        assert_true(dcm_integrator_feed(&d, &st, T0 + MIN(2), 0.012, &inc));
        assert_int_equal(inc.correction, DCM_CORR_RESET);
        assert_double_equal(inc.amount, 0.012, 1e-12);
        assert_int_equal(inc.flags & DCM_INC_MISSING, 0);
        /* The new baseline is the restarted register. */
        assert_true(dcm_integrator_feed(&d, &st, T0 + MIN(3), 0.512, &inc));
        assert_double_equal(inc.amount, 0.5, 1e-12);
        assert_int_equal(inc.correction, DCM_CORR_NONE);
    }
}

/* A reset reading above what the point could have used since is not energy: missing. */
static void test_reset_implausible(void **state)
{
    (void)state;
    dcm_point_def d = def_of(DCM_QTY_ENERGY, DCM_KIND_COUNTER);
    d.max_rate = 100.0;
    dcm_point_state st;
    dcm_point_state_init(&st);
    dcm_increment inc;
    dcm_integrator_feed(&d, &st, T0, 1000.0, &inc);
    assert_true(dcm_integrator_feed(&d, &st, T0 + MIN(1), 400.0, &inc));
    assert_int_equal(inc.correction, DCM_CORR_RESET);
    assert_int_equal(inc.flags, DCM_INC_MISSING);
    assert_double_equal(inc.amount, 0, 0);
    assert_double_equal(st.last_value, 400.0, 0);
}

static void test_backwards_and_spike(void **state)
{
    (void)state;
    dcm_point_def d = def_of(DCM_QTY_ENERGY, DCM_KIND_COUNTER);
    d.max_rate = 120.0; /* 2 kWh per minute at most */
    dcm_point_state st;
    dcm_point_state_init(&st);
    dcm_increment inc;
    dcm_integrator_feed(&d, &st, T0, 1000.0, &inc);
    /* A small drop: neither wrap (no modulus) nor reset (above half): ignored. */
    assert_false(dcm_integrator_feed(&d, &st, T0 + MIN(1), 990.0, &inc));
    assert_int_equal(inc.correction, DCM_CORR_BACKWARDS);
    assert_double_equal(st.last_value, 1000.0, 0);
    assert_int_equal(st.last_ts_ns, T0);
    /* A jump above max_rate x dt: ignored, baseline kept. */
    assert_false(dcm_integrator_feed(&d, &st, T0 + MIN(2), 1010.0, &inc));
    assert_int_equal(inc.correction, DCM_CORR_SPIKE);
    assert_double_equal(st.last_value, 1000.0, 0);
    /* The next good reading yields the whole delta since the kept baseline. */
    assert_true(dcm_integrator_feed(&d, &st, T0 + MIN(3), 1005.0, &inc));
    assert_double_equal(inc.amount, 5.0, 0);
    assert_int_equal(inc.t0_ns, T0);
    assert_int_equal(inc.t1_ns, T0 + MIN(3));
    /* Without max_rate, the same wrap candidate too large for modulus/2 is no wrap. */
    dcm_point_def w = def_of(DCM_QTY_ENERGY, DCM_KIND_COUNTER);
    w.wrap_modulus = 65536.0;
    dcm_point_state_init(&st);
    dcm_integrator_feed(&w, &st, T0, 30000.0, &inc);
    assert_false(dcm_integrator_feed(&w, &st, T0 + MIN(1), 20000.0, &inc));
    assert_int_equal(inc.correction, DCM_CORR_BACKWARDS);
    assert_true(dcm_integrator_feed(&w, &st, T0 + MIN(2), 65000.0, &inc));
    assert_double_equal(inc.amount, 35000.0, 0);
    assert_true(dcm_integrator_feed(&w, &st, T0 + MIN(3), 100.0, &inc));
    assert_int_equal(inc.correction, DCM_CORR_WRAP);
    assert_double_equal(inc.amount, 636.0, 0);
}

static void test_order_and_nonfinite(void **state)
{
    (void)state;
    dcm_point_def d = def_of(DCM_QTY_ENERGY, DCM_KIND_GAUGE);
    dcm_point_state st;
    dcm_point_state_init(&st);
    dcm_increment inc;
    dcm_integrator_feed(&d, &st, T0 + S(10), 5.0, &inc);
    assert_false(dcm_integrator_feed(&d, &st, T0 + S(10), 6.0, &inc));
    assert_int_equal(inc.correction, DCM_CORR_ORDER);
    assert_false(dcm_integrator_feed(&d, &st, T0 + S(5), 6.0, &inc));
    assert_int_equal(inc.correction, DCM_CORR_ORDER);
    assert_false(dcm_integrator_feed(&d, &st, T0 + S(11), NAN, &inc));
    assert_int_equal(inc.correction, DCM_CORR_SPIKE);
    assert_false(dcm_integrator_feed(&d, &st, T0 + S(12), INFINITY, &inc));
    assert_int_equal(inc.correction, DCM_CORR_SPIKE);
    assert_false(dcm_integrator_feed(&d, &st, T0 + S(12), 1e300, &inc));
    assert_int_equal(inc.correction, DCM_CORR_SPIKE);
    assert_int_equal(st.last_ts_ns, T0 + S(10));
    assert_true(dcm_integrator_feed(&d, &st, T0 + S(46), 7.0, &inc));
    assert_double_equal(inc.amount, 6.0 * 36.0 / 3600.0, 1e-12);
    /* Timestamps at or before the epoch are not accepted. */
    dcm_point_state_init(&st);
    assert_false(dcm_integrator_feed(&d, &st, 0, 1.0, &inc));
    assert_int_equal(inc.correction, DCM_CORR_ORDER);
    /* A damaged state restarts from the next sample instead of spreading NaN. */
    st.last_ts_ns = T0;
    st.last_value = NAN;
    st.rate = INFINITY;
    assert_false(dcm_integrator_feed(&d, &st, T0 + S(1), 2.0, &inc));
    assert_double_equal(st.last_value, 2.0, 0);
    assert_double_equal(st.rate, 2.0, 0);
    /* A gauge above max_rate is a spike. */
    d.max_rate = 10.0;
    assert_false(dcm_integrator_feed(&d, &st, T0 + S(2), 11.0, &inc));
    assert_int_equal(inc.correction, DCM_CORR_SPIKE);
    assert_true(dcm_integrator_feed(&d, &st, T0 + S(3), 10.0, &inc));
}

static void test_gauge_volume_and_util(void **state)
{
    (void)state;
    dcm_point_def d = def_of(DCM_QTY_VOLUME, DCM_KIND_GAUGE);
    dcm_point_state st;
    dcm_point_state_init(&st);
    dcm_increment inc;
    dcm_integrator_feed(&d, &st, T0, 3.0, &inc);
    assert_true(dcm_integrator_feed(&d, &st, T0 + MIN(2), 5.0, &inc));
    assert_double_equal(inc.amount, 4.0 * 2.0 / 60.0, 1e-12);
    /* Utilisation integrates to %-hours whatever kind it is declared. */
    dcm_point_def u = def_of(DCM_QTY_UTILISATION, DCM_KIND_COUNTER);
    dcm_point_state_init(&st);
    dcm_integrator_feed(&u, &st, T0, 50.0, &inc);
    assert_true(dcm_integrator_feed(&u, &st, T0 + MIN(1), 70.0, &inc));
    assert_double_equal(inc.amount, 60.0 / 60.0, 1e-12);
    assert_int_equal(inc.flags, DCM_INC_DERIVED);
    /* Temperatures are carried, never integrated. */
    dcm_point_def o = def_of(DCM_QTY_OTHER, DCM_KIND_GAUGE);
    dcm_point_state_init(&st);
    assert_false(dcm_integrator_feed(&o, &st, T0, 21.5, &inc));
    assert_false(dcm_integrator_feed(&o, &st, T0 + S(1), 22.0, &inc));
    assert_int_equal(inc.correction, DCM_CORR_NONE);
    assert_double_equal(st.rate, 22.0, 0);
}

static void test_delta(void **state)
{
    (void)state;
    dcm_point_def d = def_of(DCM_QTY_ENERGY, DCM_KIND_DELTA);
    dcm_point_state st;
    dcm_point_state_init(&st);
    dcm_increment inc;
    /* First delta, no nominal interval: placed at its timestamp, split estimated. */
    assert_true(dcm_integrator_feed(&d, &st, T0 + MIN(5), 12.0, &inc));
    assert_int_equal(inc.t0_ns, T0 + MIN(5));
    assert_int_equal(inc.t1_ns, T0 + MIN(5));
    assert_double_equal(inc.amount, 12.0, 0);
    assert_int_equal(inc.flags, DCM_INC_ESTIMATED);
    /* Next: over (previous, this]. */
    assert_true(dcm_integrator_feed(&d, &st, T0 + MIN(6), 3.0, &inc));
    assert_int_equal(inc.t0_ns, T0 + MIN(5));
    assert_int_equal(inc.t1_ns, T0 + MIN(6));
    assert_int_equal(inc.flags, 0);
    assert_double_equal(st.rate, 180.0, 1e-9);
    /* Beyond max_gap: estimated. */
    assert_true(dcm_integrator_feed(&d, &st, T0 + MIN(16), 30.0, &inc));
    assert_int_equal(inc.flags, DCM_INC_ESTIMATED);
    /* With a nominal interval the first delta covers it. */
    d.nominal_interval_ns = MIN(15);
    d.max_gap_ns = MIN(15);
    dcm_point_state_init(&st);
    assert_true(dcm_integrator_feed(&d, &st, T0 + MIN(15), 250.0, &inc));
    assert_int_equal(inc.t0_ns, T0);
    assert_int_equal(inc.t1_ns, T0 + MIN(15));
    assert_int_equal(inc.flags, 0);
    /* Spikes: more than max_rate over the interval. */
    d.max_rate = 1000.0;
    assert_false(dcm_integrator_feed(&d, &st, T0 + MIN(30), 251.0, &inc));
    assert_int_equal(inc.correction, DCM_CORR_SPIKE);
    assert_true(dcm_integrator_feed(&d, &st, T0 + MIN(30), 250.0, &inc));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_example_h_trapezoid),
        cmocka_unit_test(test_example_h_register),
        cmocka_unit_test(test_example_i_wrap),
        cmocka_unit_test(test_example_i_reset),
        cmocka_unit_test(test_reset_implausible),
        cmocka_unit_test(test_backwards_and_spike),
        cmocka_unit_test(test_order_and_nonfinite),
        cmocka_unit_test(test_gauge_volume_and_util),
        cmocka_unit_test(test_delta),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
