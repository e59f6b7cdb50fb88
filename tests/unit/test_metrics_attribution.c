/* Per-point attribution and IT energy from telemetry, on hand-made worked examples:
 *   GPU 100 kWh in an hour whose PUE is 1.5 stands for 150 kWh of facility energy; with a
 *   grid factor of 0.5 kgCO2e/kWh that is 75 kg (location) and, at 0.4, 60 kg (market).
 *   The machines measure 100 kWh and the declared baseline (800 W x 1000 nodes = 800 kW)
 *   adds 800 kWh over the hour: telemetry says 900 kWh where the PDUs say 1000 kWh, a
 *   reconciliation of 0.9; taken as E_IT it gives PUE 1500 / 900. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dcm/metrics.h"
#include "test_metrics_common.h"

#define HOUR_S 3600.0
#define T0 (INT64_C(1767225600) * DCM_NS_PER_S) /* 2026-01-01T00:00:00Z */

static dcm_role_sum role(double kwh, uint32_t points, double covered_s)
{
    dcm_role_sum r;
    memset(&r, 0, sizeof r);
    r.amount = kwh;
    r.points = points;
    r.covered_s = covered_s;
    r.expected_s = points * HOUR_S;
    return r;
}

static void hour_totals(dcm_totals *t)
{
    dcm_totals_init(t, T0, T0 + DCM_NS_PER_HOUR, 0);
    t->role[DCM_ROLE_TOTAL] = role(1500, 1, HOUR_S);
    t->role[DCM_ROLE_IT] = role(1000, 1, HOUR_S);
    t->role[DCM_ROLE_IT_TELEMETRY] = role(100, 1, HOUR_S);
}

static dcm_kpi_params params(bool telemetry)
{
    dcm_kpi_params p;
    memset(&p, 0, sizeof p);
    p.carbon.location_factor = 0.5;
    p.carbon.has_location = true;
    p.carbon.market_factor = 0.4;
    p.carbon.has_market = true;
    p.it_from_telemetry = telemetry;
    p.it_baseline_kw = 800.0 * 1000 / 1000.0; /* 800 W per node x 1000 nodes */
    return p;
}

static void test_attribute_worked_example(void **unused)
{
    (void)unused;
    dcm_totals t;
    hour_totals(&t);
    dcm_kpi_params p = params(false);
    dcm_kpi_set k;
    dcm_kpi_compute(&t, &p, &k);
    assert_double_equal(k.pue.value, 1.5, 1e-12);
    assert_double_equal(k.cue_location.value, 0.75, 1e-12);
    dcm_attribution a;
    dcm_attribute(7, 100.0, 1.0, 0.95, &k, &a);
    assert_int_equal(a.point, 7);
    assert_double_equal(a.energy_kwh, 100.0, 0);
    assert_true(a.facility_kwh.has_value);
    assert_double_equal(a.facility_kwh.value, 150.0, 1e-9);
    assert_int_equal(a.facility_kwh.quality, DCM_QUALITY_OK);
    assert_double_equal(a.co2_location_kg.value, 75.0, 1e-9);
    assert_double_equal(a.co2_market_kg.value, 60.0, 1e-9);
    /* Half the hour covered: the same arithmetic, flagged partial. */
    dcm_attribute(7, 50.0, 0.5, 0.95, &k, &a);
    assert_double_equal(a.facility_kwh.value, 75.0, 1e-9);
    assert_int_equal(a.facility_kwh.quality, DCM_QUALITY_PARTIAL);
    assert_double_equal(a.coverage, 0.5, 0);
    /* No PUE (no IT meter): nothing to attribute, null, never NaN. */
    t.role[DCM_ROLE_IT] = role(0, 0, 0);
    p.it_from_telemetry = false;
    dcm_kpi_compute(&t, &p, &k);
    assert_false(k.pue.has_value);
    dcm_attribute(7, 100.0, 1.0, 0.95, &k, &a);
    assert_false(a.facility_kwh.has_value);
    assert_int_equal(a.facility_kwh.quality, DCM_QUALITY_INVALID);
    assert_false(a.co2_location_kg.has_value);
    assert_double_equal(a.energy_kwh, 100.0, 0);
}

static void test_telemetry_and_reconciliation(void **unused)
{
    (void)unused;
    dcm_totals t;
    hour_totals(&t);
    dcm_kpi_params p = params(false);
    dcm_kpi_set k;
    /* PDUs are E_IT; telemetry + baseline is only compared with them. */
    dcm_kpi_compute(&t, &p, &k);
    assert_double_equal(k.it_telemetry_kwh.value, 900.0, 1e-9);
    assert_double_equal(k.it_reconciliation.value, 0.9, 1e-12);
    assert_double_equal(k.pue.value, 1.5, 1e-12);
    /* Telemetry as E_IT: PUE = 1500 / 900, GPU 100 kWh -> 166.67 kWh of facility. */
    p = params(true);
    dcm_kpi_compute(&t, &p, &k);
    assert_double_equal(k.pue.value, 1500.0 / 900.0, 1e-12);
    assert_double_equal(k.it_reconciliation.value, 0.9, 1e-12);
    dcm_attribution a;
    dcm_attribute(0, 100.0, 1.0, 0, &k, &a);
    assert_double_equal(a.facility_kwh.value, 100.0 * 1500.0 / 900.0, 1e-9);
    /* The baseline counts for the time the telemetry covers: half an hour -> 400 kWh. */
    t.role[DCM_ROLE_IT_TELEMETRY] = role(50, 1, HOUR_S / 2);
    dcm_kpi_compute(&t, &p, &k);
    assert_double_equal(k.it_telemetry_kwh.value, 450.0, 1e-9);
    assert_int_equal(k.pue.quality, DCM_QUALITY_PARTIAL);
    /* No PDU meter: no reconciliation; telemetry missing under it_source telemetry: no PUE. */
    t.role[DCM_ROLE_IT] = role(0, 0, 0);
    dcm_kpi_compute(&t, &p, &k);
    assert_false(k.it_reconciliation.has_value);
    assert_int_equal(k.it_reconciliation.quality, DCM_QUALITY_INVALID);
    hour_totals(&t);
    t.role[DCM_ROLE_IT_TELEMETRY] = role(0, 0, 0);
    dcm_kpi_compute(&t, &p, &k);
    assert_false(k.pue.has_value);
    assert_false(k.it_telemetry_kwh.has_value);
    /* Telemetry that covered one second of the hour: the baseline counts for that second. */
    hour_totals(&t);
    t.role[DCM_ROLE_IT_TELEMETRY] = role(100, 1, 1);
    p = params(false);
    dcm_kpi_compute(&t, &p, &k);
    assert_double_equal(k.it_telemetry_kwh.value, 100.0 + 800.0 / 3600.0, 1e-9);
}

/* The streaming engine: an hour of counters read every minute, the GPU attributed. */
typedef struct capture {
    bool got;
    dcm_attribution a[2];
    size_t n;
    double pue;
    dcm_window w;
} capture;

static void on_record(void *ctx, const dcm_kpi_record *rec)
{
    capture *c = ctx;
    if (rec->window != DCM_WINDOW_1H || rec->start_ns != T0)
        return;
    c->got = true;
    c->n = rec->attribution_count;
    assert_true(c->n <= 2);
    memcpy(c->a, rec->attribution, c->n * sizeof *c->a);
    c->pue = rec->kpi->pue.value;
    assert_null(rec->point_names);
}

static void test_engine_attribution(void **unused)
{
    (void)unused;
    capture cap;
    memset(&cap, 0, sizeof cap);
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.params = params(false);
    cfg.on_record = on_record;
    cfg.on_record_ctx = &cap;
    dcm_engine *e = NULL;
    assert_int_equal(dcm_engine_create(&cfg, &e), DCM_METRICS_OK);
    dcm_point_def total = {.quantity = DCM_QTY_ENERGY, .kind = DCM_KIND_COUNTER,
                           .roles = DCM_ROLE_BIT(DCM_ROLE_TOTAL), .zone = -1};
    dcm_point_def it = total, gpu = total, idle = total;
    it.roles = DCM_ROLE_BIT(DCM_ROLE_IT);
    gpu.roles = DCM_ROLE_BIT(DCM_ROLE_IT_TELEMETRY);
    gpu.attribute = 1;
    idle.roles = 0;
    idle.attribute = 1; /* attributed, never read: energy 0, coverage 0 */
    uint32_t id[4];
    assert_int_equal(dcm_engine_add_point(e, &total, &id[0]), DCM_METRICS_OK);
    assert_int_equal(dcm_engine_add_point(e, &it, &id[1]), DCM_METRICS_OK);
    assert_int_equal(dcm_engine_add_point(e, &gpu, &id[2]), DCM_METRICS_OK);
    assert_int_equal(dcm_engine_add_point(e, &idle, &id[3]), DCM_METRICS_OK);
    for (int m = 0; m <= 60; m++) {
        int64_t ts = T0 + m * DCM_NS_PER_MIN;
        dcm_engine_feed(e, id[0], ts, 10000.0 + 25.0 * m, DCM_QUALITY_OK);
        dcm_engine_feed(e, id[1], ts, 5000.0 + 1000.0 / 60.0 * m, DCM_QUALITY_OK);
        dcm_engine_feed(e, id[2], ts, 42.0 + 100.0 / 60.0 * m, DCM_QUALITY_OK);
        dcm_engine_advance(e, ts);
    }
    dcm_engine_advance(e, T0 + DCM_NS_PER_HOUR + 2 * DCM_NS_PER_MIN);
    assert_true(cap.got);
    assert_double_equal(cap.pue, 1.5, 1e-9);
    assert_int_equal(cap.n, 2);
    assert_int_equal(cap.a[0].point, id[2]);
    assert_double_equal(cap.a[0].energy_kwh, 100.0, 1e-9);
    assert_double_equal(cap.a[0].coverage, 1.0, 1e-12);
    assert_double_equal(cap.a[0].facility_kwh.value, 150.0, 1e-9);
    assert_double_equal(cap.a[0].co2_location_kg.value, 75.0, 1e-9);
    assert_double_equal(cap.a[0].co2_market_kg.value, 60.0, 1e-9);
    assert_int_equal(cap.a[1].point, id[3]);
    assert_double_equal(cap.a[1].energy_kwh, 0.0, 0);
    assert_int_equal(cap.a[1].facility_kwh.quality, DCM_QUALITY_PARTIAL);
    dcm_engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attribute_worked_example),
        cmocka_unit_test(test_telemetry_and_reconciliation),
        cmocka_unit_test(test_engine_attribution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
