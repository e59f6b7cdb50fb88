/*
 * test_metrics_kpi.c - accumulators and the KPI set: pro-rata windows, role folding,
 * merging, every worked example (A-G), nulls, qualities and finiteness.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/metrics.h"
#include "test_metrics_common.h"

#define S(x) ((int64_t)(x) * DCM_NS_PER_S)
#define T0 (INT64_C(1767225600) * DCM_NS_PER_S) /* 2026-01-01T00:00:00Z */
#define YEAR_S (365.0 * 86400.0)

static dcm_point_def def_of(dcm_quantity q, dcm_kind k, uint32_t roles)
{
    dcm_point_def d;
    memset(&d, 0, sizeof(d));
    d.quantity = q;
    d.kind = k;
    d.roles = roles;
    d.zone = -1;
    return d;
}

/* A role metered by one point with full coverage of the window. */
static void full(dcm_totals *t, dcm_role r, double amount)
{
    double w = (double)(t->end_ns - t->start_ns) / 1e9;
    t->role[r].amount = amount;
    t->role[r].covered_s = w;
    t->role[r].expected_s = w;
    t->role[r].points = 1;
}

static void year_totals(dcm_totals *t)
{
    dcm_totals_init(t, T0, T0 + S(YEAR_S), 0);
}

/* ------------------------------------------------------------ accumulators */

static void test_acc_pro_rata(void **state)
{
    (void)state;
    dcm_increment inc = {.t0_ns = T0, .t1_ns = T0 + S(120), .amount = 12.0};
    dcm_point_acc a = {0}, b = {0}, c = {0};
    assert_double_equal(dcm_point_acc_add(&a, T0, T0 + S(60), &inc), 0.5, 0);
    assert_double_equal(dcm_point_acc_add(&b, T0 + S(60), T0 + S(120), &inc), 0.5, 0);
    assert_double_equal(dcm_point_acc_add(&c, T0 + S(30), T0 + S(90), &inc), 0.5, 0);
    assert_double_equal(a.amount, 6.0, 0);
    assert_double_equal(b.amount, 6.0, 0);
    assert_double_equal(c.amount, 6.0, 0);
    assert_double_equal(a.covered_s, 60.0, 0);
    assert_int_equal(a.samples, 1);
    assert_int_equal(a.corrections, 0);
    /* Outside: nothing, not even a sample. */
    dcm_point_acc d = {0};
    assert_double_equal(dcm_point_acc_add(&d, T0 + S(120), T0 + S(180), &inc), 0.0, 0);
    assert_int_equal(d.samples, 0);
    assert_double_equal(dcm_point_acc_add(&d, T0 + S(60), T0 + S(60), &inc), 0.0, 0);
    /* Estimated and missing increments. */
    dcm_increment est = {.t0_ns = T0, .t1_ns = T0 + S(600), .amount = 10.0,
                         .flags = DCM_INC_ESTIMATED, .correction = DCM_CORR_RESET};
    dcm_point_acc e = {0};
    assert_double_equal(dcm_point_acc_add(&e, T0, T0 + S(60), &est), 0.1, 1e-15);
    assert_double_equal(e.amount, 1.0, 1e-12);
    assert_double_equal(e.estimated, 1.0, 1e-12);
    assert_int_equal(e.corrections, 1);
    dcm_increment miss = {.t0_ns = T0, .t1_ns = T0 + S(600), .amount = 0.0,
                          .flags = DCM_INC_MISSING, .correction = DCM_CORR_GAP};
    assert_double_equal(dcm_point_acc_add(&e, T0, T0 + S(60), &miss), 0.1, 1e-15);
    assert_double_equal(e.amount, 1.0, 1e-12);
    assert_double_equal(e.covered_s, 60.0, 0);
    assert_int_equal(e.samples, 2);
    assert_int_equal(e.corrections, 2);
}

static void test_acc_zero_length(void **state)
{
    (void)state;
    dcm_increment inc = {.t0_ns = T0 + S(60), .t1_ns = T0 + S(60), .amount = 7.0};
    dcm_point_acc a = {0}, b = {0};
    assert_double_equal(dcm_point_acc_add(&a, T0, T0 + S(60), &inc), 1.0, 0);
    assert_double_equal(dcm_point_acc_add(&b, T0 + S(60), T0 + S(120), &inc), 0.0, 0);
    assert_double_equal(a.amount, 7.0, 0);
    assert_double_equal(a.covered_s, 0.0, 0);
    assert_double_equal(b.amount, 0.0, 0);
}

static void test_fold_and_coverage(void **state)
{
    (void)state;
    dcm_totals t;
    dcm_totals_init(&t, T0, T0 + S(60), 2);
    dcm_point_def g = def_of(DCM_QTY_ENERGY, DCM_KIND_GAUGE,
                             DCM_ROLE_BIT(DCM_ROLE_IT) | DCM_ROLE_BIT(DCM_ROLE_TOTAL));
    g.zone = 1;
    g.zone_part = DCM_ZONE_IT;
    dcm_point_acc a = {.amount = 2.0, .estimated = 0.5, .covered_s = 45.0, .corrections = 1};
    dcm_totals_fold_point(&t, &g, &a);
    dcm_point_def c = def_of(DCM_QTY_ENERGY, DCM_KIND_COUNTER, DCM_ROLE_BIT(DCM_ROLE_IT));
    dcm_point_acc b = {.amount = 1.0, .covered_s = 90.0}; /* more than the window: capped */
    dcm_totals_fold_point(&t, &c, &b);
    dcm_point_def o = def_of(DCM_QTY_OTHER, DCM_KIND_GAUGE, DCM_ROLE_BIT(DCM_ROLE_IT));
    dcm_totals_fold_point(&t, &o, &b);
    const dcm_role_sum *it = &t.role[DCM_ROLE_IT];
    assert_double_equal(it->amount, 3.0, 0);
    assert_double_equal(it->estimated, 0.5, 0);
    assert_double_equal(it->derived, 2.0, 0);
    assert_double_equal(it->covered_s, 105.0, 0);
    assert_double_equal(it->expected_s, 120.0, 0);
    assert_int_equal(it->points, 2);
    assert_int_equal(it->corrections, 1);
    assert_double_equal(dcm_role_coverage(it), 0.875, 1e-15);
    assert_double_equal(t.role[DCM_ROLE_TOTAL].amount, 2.0, 0);
    assert_double_equal(t.zone_it[1].amount, 2.0, 0);
    assert_int_equal(t.zone_it[1].points, 1);
    assert_int_equal(t.zone_it[0].points, 0);
    dcm_role_sum empty = {0};
    assert_double_equal(dcm_role_coverage(&empty), 0.0, 0);
}

/* ITEUsv is the mean of per-server means, each time-weighted over its covered time. */
static void test_util_fold_and_merge(void **state)
{
    (void)state;
    dcm_totals t;
    dcm_totals_init(&t, T0, T0 + S(3600), 0);
    dcm_point_def u = def_of(DCM_QTY_UTILISATION, DCM_KIND_GAUGE, DCM_ROLE_BIT(DCM_ROLE_SERVERS));
    dcm_point_acc a = {.amount = 50.0, .covered_s = 3600.0}; /* 50 % for an hour */
    dcm_point_acc b = {.amount = 40.0, .covered_s = 1800.0}; /* 80 % for half an hour */
    dcm_point_acc none = {0};
    dcm_totals_fold_point(&t, &u, &a);
    dcm_totals_fold_point(&t, &u, &b);
    dcm_totals_fold_point(&t, &u, &none);
    const dcm_role_sum *s = &t.role[DCM_ROLE_SERVERS];
    assert_int_equal(s->points, 2);
    assert_double_equal(s->amount, 130.0, 1e-12);
    assert_double_equal(s->expected_s, 3 * 3600.0, 0);
    dcm_kpi_set k;
    dcm_kpi_compute(&t, NULL, &k);
    assert_true(k.iteu_sv.has_value);
    assert_double_equal(k.iteu_sv.value, 65.0, 1e-12);
    assert_int_equal(k.iteu_sv.quality, DCM_QUALITY_PARTIAL); /* 5400 of 10800 s */
    assert_false(k.accel_util.has_value);

    /* Two windows, 60 % over 7200 covered s and 30 % over 3600 s: 50 %. */
    dcm_totals w1, w2;
    dcm_totals_init(&w1, T0, T0 + S(3600), 0);
    dcm_totals_init(&w2, T0 + S(3600), T0 + S(7200), 0);
    w1.role[DCM_ROLE_SERVERS] = (dcm_role_sum){.amount = 120.0, .covered_s = 7200.0,
                                                .expected_s = 7200.0, .points = 2};
    w2.role[DCM_ROLE_SERVERS] = (dcm_role_sum){.amount = 60.0, .covered_s = 3600.0,
                                                .expected_s = 7200.0, .points = 2};
    dcm_totals_merge(&w1, &w2);
    assert_int_equal(w1.end_ns, T0 + S(7200));
    assert_int_equal(w1.role[DCM_ROLE_SERVERS].points, 2);
    assert_double_equal(w1.role[DCM_ROLE_SERVERS].amount / 2, 50.0, 1e-12);
    assert_double_equal(w1.role[DCM_ROLE_SERVERS].expected_s, 14400.0, 0);
}

/* ---------------------------------------------------------- worked examples */

static const double ex_it[12] = {700, 640, 720, 710, 750, 760, 800, 810, 780, 790, 770, 800};
static const double ex_dc[12] = {875, 806, 922, 937, 1035, 1132, 1240, 1247, 1131, 1043, 978, 1000};

static void month_totals(dcm_totals *t, int m)
{
    int64_t s = dcm_calendar_local_to_utc(NULL, 2025, m + 1, 1, 0, 0, 0);
    int64_t e = dcm_calendar_local_to_utc(NULL, 2025, m + 2, 1, 0, 0, 0);
    dcm_totals_init(t, s, e, 0);
    full(t, DCM_ROLE_TOTAL, ex_dc[m] * 1000.0);
    full(t, DCM_ROLE_IT, ex_it[m] * 1000.0);
}

/* A: annual PUE = sum E_DC / sum E_IT = 1.3672, not the mean of monthly PUEs (1.3633). */
static void test_example_a(void **state)
{
    (void)state;
    dcm_totals year, m;
    month_totals(&year, 0);
    double mean = 0;
    for (int i = 0; i < 12; i++) {
        month_totals(&m, i);
        dcm_kpi_set k;
        dcm_kpi_compute(&m, NULL, &k);
        assert_true(k.pue.has_value);
        mean += k.pue.value / 12;
        if (i > 0)
            dcm_totals_merge(&year, &m);
    }
    assert_double_equal(mean, 1.3633, 5e-5);
    assert_int_equal(year.start_ns, dcm_calendar_local_to_utc(NULL, 2025, 1, 1, 0, 0, 0));
    assert_int_equal(year.end_ns, dcm_calendar_local_to_utc(NULL, 2026, 1, 1, 0, 0, 0));
    dcm_kpi_set k;
    dcm_kpi_compute(&year, NULL, &k);
    assert_double_equal(k.e_dc_kwh.value, 12346000.0, 1e-6);
    assert_double_equal(k.pue.value, 12346.0 / 9030.0, 1e-12);
    assert_double_equal(k.pue.value, 1.3672, 5e-5);
    assert_double_equal(k.dcie.value, 0.7314, 5e-5);
    assert_int_equal(k.pue.quality, DCM_QUALITY_OK);
    assert_int_equal(k.quality, DCM_QUALITY_OK);
    assert_double_equal(k.coverage, 1.0, 0);
    assert_true(fabs(k.pue.value - mean) > 3e-3);
}

/* B: quarterly interim PUE from the same months. */
static void test_example_b(void **state)
{
    (void)state;
    const double want[4] = {1.2636, 1.3982, 1.5138, 1.2801};
    for (int q = 0; q < 4; q++) {
        dcm_totals qt, m;
        month_totals(&qt, 3 * q);
        for (int i = 1; i < 3; i++) {
            month_totals(&m, 3 * q + i);
            dcm_totals_merge(&qt, &m);
        }
        dcm_kpi_set k;
        dcm_kpi_compute(&qt, NULL, &k);
        assert_double_equal(k.pue.value, want[q], 5e-5);
    }
}

/* C: fleet PUE is energy-weighted: 125/110 = 1.1364, not the mean 1.30. */
static void test_example_c(void **state)
{
    (void)state;
    dcm_totals a, b;
    year_totals(&a);
    year_totals(&b);
    full(&a, DCM_ROLE_TOTAL, 110e6);
    full(&a, DCM_ROLE_IT, 100e6);
    full(&b, DCM_ROLE_TOTAL, 15e6);
    full(&b, DCM_ROLE_IT, 10e6);
    dcm_kpi_set ka, kb, kf;
    dcm_kpi_compute(&a, NULL, &ka);
    dcm_kpi_compute(&b, NULL, &kb);
    assert_double_equal((ka.pue.value + kb.pue.value) / 2, 1.30, 1e-12);
    dcm_totals_merge(&a, &b);
    dcm_kpi_compute(&a, NULL, &kf);
    assert_double_equal(kf.pue.value, 1.1364, 5e-5);
    assert_double_equal(kf.pue.value, 125.0 / 110.0, 1e-12);
}

static void example_d_totals(dcm_totals *t)
{
    year_totals(t);
    full(t, DCM_ROLE_TOTAL, 10400e3);
    full(t, DCM_ROLE_IT, 8000e3);
    full(t, DCM_ROLE_GRID, 9900e3);
    full(t, DCM_ROLE_ONSITE_RENEWABLE, 500e3);
    t->instruments.certificates_kwh = 4000e3;
}

static dcm_kpi_params example_d_params(void)
{
    dcm_kpi_params p;
    memset(&p, 0, sizeof(p));
    p.carbon.location_factor = 0.494;
    p.carbon.has_location = true;
    p.carbon.market_factor = 0.494;
    p.carbon.has_market = true;
    p.onsite_attributes_retained = true;
    p.pue_category = 2;
    return p;
}

/* D: CUE location 0.6113, market 0.3643; REF 0.4327. */
static void test_example_d(void **state)
{
    (void)state;
    dcm_totals t;
    example_d_totals(&t);
    dcm_kpi_params p = example_d_params();
    dcm_kpi_set k;
    dcm_kpi_compute(&t, &p, &k);
    assert_double_equal(k.pue.value, 1.30, 1e-12);
    assert_double_equal(k.grid_kwh.value, 9900e3, 0);
    assert_double_equal(k.co2_location_kg.value, 4890600.0, 1e-6);
    assert_double_equal(k.co2_market_kg.value, 2914600.0, 1e-6);
    assert_double_equal(k.cue_location.value, 0.6113, 5e-5);
    assert_double_equal(k.cue_market.value, 0.3643, 5e-5);
    assert_double_equal(k.renewable_kwh.value, 4500e3, 1e-6);
    assert_double_equal(k.ref.value, 0.4327, 5e-5);
    assert_int_equal(k.cue_market.quality, DCM_QUALITY_OK);

    /* Certificates sold with the PV output: only retired certificates count. */
    p.onsite_attributes_retained = false;
    dcm_kpi_compute(&t, &p, &k);
    assert_double_equal(k.ref.value, 4000.0 / 10400.0, 1e-12);
    /* No factor, no CO2. */
    p.carbon.has_location = false;
    dcm_kpi_compute(&t, &p, &k);
    assert_false(k.cue_location.has_value);
    assert_int_equal(k.cue_location.quality, DCM_QUALITY_INVALID);
    assert_false(k.co2_location_kg.has_value);
    assert_true(k.cue_market.has_value);
    /* Instruments above the grid import: the market figure stops at zero. */
    t.instruments.ppa_kwh = 7000e3;
    dcm_kpi_compute(&t, &p, &k);
    assert_double_equal(k.co2_market_kg.value, 0.0, 0);
    assert_double_equal(k.ref.value, 1.0, 0);
    assert_double_equal(k.renewable_kwh.value, 10400e3, 0);
}

/* E: WUE 1.5 L/kWh; freshwater 1.125 L/kWh. */
static void test_example_e(void **state)
{
    (void)state;
    dcm_totals t;
    year_totals(&t);
    full(&t, DCM_ROLE_IT, 8000e3);
    full(&t, DCM_ROLE_WATER, 12000.0);
    full(&t, DCM_ROLE_FRESHWATER, 9000.0);
    dcm_kpi_set k;
    dcm_kpi_compute(&t, NULL, &k);
    assert_double_equal(k.wue.value, 1.5, 1e-12);
    assert_double_equal(k.wue_fresh.value, 1.125, 1e-12);
    /* No E_DC here: PUE is null, the set's quality comes from the values present. */
    assert_false(k.pue.has_value);
    assert_int_equal(k.quality, DCM_QUALITY_OK);
}

/* F: ERF 0.15, ERE 1.105 = 0.85 x 1.30, EnEfG PUE 1.2625. */
static void test_example_f(void **state)
{
    (void)state;
    dcm_totals t;
    year_totals(&t);
    full(&t, DCM_ROLE_TOTAL, 10400e3);
    full(&t, DCM_ROLE_IT, 8000e3);
    full(&t, DCM_ROLE_REUSED, 1560e3);
    dcm_kpi_set k;
    dcm_kpi_compute(&t, NULL, &k);
    assert_double_equal(k.erf.value, 0.15, 1e-12);
    assert_double_equal(k.ere.value, 1.105, 1e-12);
    assert_double_equal(k.ere.value, (1 - k.erf.value) * k.pue.value, 1e-12);
    /* No heat-upgrade plant: nothing to exclude. */
    assert_double_equal(k.pue_enefg.value, 1.30, 1e-12);
    full(&t, DCM_ROLE_HEAT_UPGRADE, 300e3);
    dcm_kpi_compute(&t, NULL, &k);
    assert_double_equal(k.pue_enefg.value, 1.2625, 1e-12);
    assert_double_equal(k.pue.value, 1.30, 1e-12);
}

/* G: CER 8,200 / 1,640 = 5.0. */
static void test_example_g(void **state)
{
    (void)state;
    dcm_totals t;
    year_totals(&t);
    full(&t, DCM_ROLE_COOLING_OUTPUT, 8200e3);
    full(&t, DCM_ROLE_COOLING, 1640e3);
    dcm_kpi_set k;
    dcm_kpi_compute(&t, NULL, &k);
    assert_double_equal(k.cer.value, 5.0, 1e-12);
    t.role[DCM_ROLE_COOLING].amount = 0.0;
    dcm_kpi_compute(&t, NULL, &k);
    assert_false(k.cer.has_value);
    assert_int_equal(k.cer.quality, DCM_QUALITY_INVALID);
    assert_double_equal(k.cer.value, 0.0, 0);
}

/* ------------------------------------------------------ derived inputs, nulls */

static void test_edc_and_grid_fallbacks(void **state)
{
    (void)state;
    dcm_kpi_params p = example_d_params();
    p.carbon.fuel_factor = 0.25;
    dcm_totals t;
    year_totals(&t);
    full(&t, DCM_ROLE_GRID, 900.0);
    full(&t, DCM_ROLE_ONSITE_RENEWABLE, 50.0);
    full(&t, DCM_ROLE_FUEL, 50.0);
    full(&t, DCM_ROLE_IT, 800.0);
    dcm_kpi_set k;
    dcm_kpi_compute(&t, &p, &k);
    assert_double_equal(k.e_dc_kwh.value, 1000.0, 0);
    assert_double_equal(k.pue.value, 1.25, 1e-12);
    assert_double_equal(k.co2_location_kg.value, 900 * 0.494 + 50 * 0.25, 1e-9);
    /* Total metered, grid not: grid = total - on-site - fuel. */
    year_totals(&t);
    full(&t, DCM_ROLE_TOTAL, 1000.0);
    full(&t, DCM_ROLE_ONSITE_RENEWABLE, 100.0);
    full(&t, DCM_ROLE_FUEL, 20.0);
    full(&t, DCM_ROLE_IT, 800.0);
    t.instruments.certificates_kwh = 300.0;
    dcm_kpi_compute(&t, &p, &k);
    assert_double_equal(k.grid_kwh.value, 880.0, 1e-12);
    assert_double_equal(k.co2_market_kg.value, 580 * 0.494 + 20 * 0.25, 1e-9);
    assert_double_equal(k.ref.value, 0.4, 1e-12);
    /* On-site sources above the total: grid floored at zero and marked partial. */
    t.role[DCM_ROLE_ONSITE_RENEWABLE].amount = 1500.0;
    dcm_kpi_compute(&t, &p, &k);
    assert_double_equal(k.grid_kwh.value, 0.0, 0);
    assert_int_equal(k.grid_kwh.quality, DCM_QUALITY_PARTIAL);
    assert_double_equal(k.ref.value, 1.0, 0);
    /* Neither total nor grid: no E_DC, nothing that needs it. */
    year_totals(&t);
    full(&t, DCM_ROLE_IT, 800.0);
    dcm_kpi_compute(&t, &p, &k);
    assert_false(k.e_dc_kwh.has_value);
    assert_false(k.pue.has_value);
    assert_false(k.ref.has_value);
    assert_false(k.cue_location.has_value);
    assert_int_equal(k.quality, DCM_QUALITY_INVALID);
    assert_double_equal(k.coverage, 0.0, 0);
}

static void test_nulls_and_quality(void **state)
{
    (void)state;
    dcm_totals t;
    year_totals(&t);
    full(&t, DCM_ROLE_TOTAL, 1300.0);
    full(&t, DCM_ROLE_IT, 0.0);
    dcm_kpi_set k;
    dcm_kpi_compute(&t, NULL, &k);
    assert_false(k.pue.has_value);
    assert_int_equal(k.pue.quality, DCM_QUALITY_INVALID);
    assert_double_equal(k.pue.value, 0.0, 0);
    assert_true(k.dcie.has_value);
    assert_double_equal(k.dcie.value, 0.0, 0);
    /* Coverage below 0.95 on IT: partial, unless the threshold is lowered. */
    full(&t, DCM_ROLE_IT, 1000.0);
    t.role[DCM_ROLE_IT].covered_s *= 0.9;
    dcm_kpi_compute(&t, NULL, &k);
    assert_double_equal(k.pue.value, 1.3, 1e-12);
    assert_int_equal(k.pue.quality, DCM_QUALITY_PARTIAL);
    assert_int_equal(k.quality, DCM_QUALITY_PARTIAL);
    assert_double_equal(k.coverage, 0.9, 1e-12);
    dcm_kpi_params p;
    memset(&p, 0, sizeof(p));
    p.coverage_ok = 0.85;
    dcm_kpi_compute(&t, &p, &k);
    assert_int_equal(k.pue.quality, DCM_QUALITY_OK);
    /* Estimated energy makes a value partial and shows in the share. */
    full(&t, DCM_ROLE_IT, 1000.0);
    t.role[DCM_ROLE_TOTAL].estimated = 130.0;
    dcm_kpi_compute(&t, NULL, &k);
    assert_int_equal(k.pue.quality, DCM_QUALITY_PARTIAL);
    assert_double_equal(k.estimated_share, 0.1, 1e-12);
    /* PUE below 1 is kept, marked partial. */
    t.role[DCM_ROLE_TOTAL].estimated = 0.0;
    t.role[DCM_ROLE_TOTAL].amount = 900.0;
    dcm_kpi_compute(&t, NULL, &k);
    assert_true(k.pue.has_value);
    assert_double_equal(k.pue.value, 0.9, 1e-12);
    assert_int_equal(k.pue.quality, DCM_QUALITY_PARTIAL);
    assert_int_equal(k.dcie.quality, DCM_QUALITY_OK);
    /* A role with points but no samples at all: coverage 0. */
    year_totals(&t);
    full(&t, DCM_ROLE_TOTAL, 0.0);
    t.role[DCM_ROLE_TOTAL].covered_s = 0;
    full(&t, DCM_ROLE_IT, 10.0);
    dcm_kpi_compute(&t, NULL, &k);
    assert_double_equal(k.pue.value, 0.0, 0);
    assert_int_equal(k.pue.quality, DCM_QUALITY_PARTIAL);
    assert_double_equal(k.coverage, 0.0, 0);
}

static void test_ppue_zones(void **state)
{
    (void)state;
    dcm_totals t;
    dcm_totals_init(&t, T0, T0 + S(3600), 3);
    t.zone_it[0] = (dcm_role_sum){.amount = 100, .covered_s = 3600, .expected_s = 3600, .points = 1};
    t.zone_overhead[0] = (dcm_role_sum){.amount = 30, .covered_s = 3600, .expected_s = 3600, .points = 1};
    t.zone_it[1] = t.zone_it[0];
    t.zone_it[2] = (dcm_role_sum){.amount = 0, .covered_s = 3600, .expected_s = 3600, .points = 1};
    t.zone_overhead[2] = t.zone_overhead[0];
    t.zone_it[4] = t.zone_it[0]; /* beyond zone_count: ignored */
    t.zone_overhead[4] = t.zone_overhead[0];
    dcm_kpi_set k;
    dcm_kpi_compute(&t, NULL, &k);
    assert_double_equal(k.ppue[0].value, 1.3, 1e-12);
    assert_int_equal(k.ppue[0].quality, DCM_QUALITY_OK);
    assert_false(k.ppue[1].has_value);
    assert_false(k.ppue[2].has_value);
    assert_false(k.ppue[4].has_value);
    assert_int_equal(k.quality, DCM_QUALITY_OK);
}

static bool set_finite(const dcm_kpi_set *k)
{
    const dcm_opt *o[] = {&k->pue, &k->dcie, &k->wue, &k->wue_fresh, &k->cue_location,
                          &k->cue_market, &k->ref, &k->erf, &k->ere, &k->cer, &k->pue_enefg,
                          &k->iteu_sv, &k->accel_util, &k->e_dc_kwh, &k->grid_kwh,
                          &k->co2_location_kg, &k->co2_market_kg, &k->renewable_kwh};
    for (size_t i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
        if (!isfinite(o[i]->value))
            return false;
        if (!o[i]->has_value && (o[i]->value != 0 || o[i]->quality != DCM_QUALITY_INVALID))
            return false;
    }
    for (int z = 0; z < DCM_MAX_ZONES; z++)
        if (!isfinite(k->ppue[z].value))
            return false;
    return isfinite(k->coverage) && k->coverage >= 0 && k->coverage <= 1 &&
           isfinite(k->estimated_share) && k->estimated_share >= 0 && k->estimated_share <= 1;
}

/* Whatever the totals hold (huge, tiny, negative, NaN, Inf), nothing non-finite leaves. */
static void test_extreme_totals(void **state)
{
    (void)state;
    const double vals[] = {0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300, 1.0, -1.0, 1e18, NAN,
                           INFINITY, -INFINITY, 5e-324, 1.7e308};
    const size_t nv = sizeof(vals) / sizeof(vals[0]);
    unsigned seed = 12345;
    dcm_kpi_params p = example_d_params();
    p.carbon.fuel_factor = 1e300;
    for (int round = 0; round < 20000; round++) {
        dcm_totals t;
        dcm_totals_init(&t, T0, T0 + S(60), DCM_MAX_ZONES);
        for (int r = 0; r < DCM_ROLE_COUNT; r++) {
            seed = seed * 1103515245u + 12345u;
            if ((seed >> 16) % 3 == 0)
                continue;
            dcm_role_sum *s = &t.role[r];
            s->amount = vals[(seed >> 8) % nv];
            s->estimated = vals[(seed >> 12) % nv];
            s->covered_s = vals[(seed >> 4) % nv];
            s->expected_s = vals[(seed >> 20) % nv];
            s->points = (seed >> 24) % 3;
        }
        for (int z = 0; z < DCM_MAX_ZONES; z++) {
            seed = seed * 1103515245u + 12345u;
            t.zone_it[z].amount = vals[(seed >> 8) % nv];
            t.zone_it[z].points = 1;
            t.zone_overhead[z].amount = vals[(seed >> 16) % nv];
            t.zone_overhead[z].expected_s = vals[(seed >> 4) % nv];
        }
        t.instruments.certificates_kwh = vals[(seed >> 3) % nv];
        t.instruments.ppa_kwh = vals[(seed >> 7) % nv];
        dcm_kpi_set k;
        dcm_kpi_compute(&t, round % 2 ? &p : NULL, &k);
        assert_true(set_finite(&k));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acc_pro_rata),
        cmocka_unit_test(test_acc_zero_length),
        cmocka_unit_test(test_fold_and_coverage),
        cmocka_unit_test(test_util_fold_and_merge),
        cmocka_unit_test(test_example_a),
        cmocka_unit_test(test_example_b),
        cmocka_unit_test(test_example_c),
        cmocka_unit_test(test_example_d),
        cmocka_unit_test(test_example_e),
        cmocka_unit_test(test_example_f),
        cmocka_unit_test(test_example_g),
        cmocka_unit_test(test_edc_and_grid_fallbacks),
        cmocka_unit_test(test_nulls_and_quality),
        cmocka_unit_test(test_ppue_zones),
        cmocka_unit_test(test_extreme_totals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
