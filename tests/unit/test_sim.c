/*
 * test_sim.c - the simulated data hall: the pure model (determinism, energy balance,
 * sun, chillers, generator tests, annual PUE, bounds), the sample stream (spacing, work
 * limits, exact registers, outages, wrapping register), the collector's key table and
 * its configuration through the real scheduler, and examples/demo.yaml against the loader
 * and the simulator's point names.
 */
#include <fnmatch.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../collectors/sim/sim_model.h"
#include "../../collectors/sim/sim_run.h"
#include "dcm/collector.h"
#include "dcm/config.h"
#include "scheduler.h"
#include "timestamp.h"

#define S DCM_NS_PER_S
#define MIN (60 * S)
#define HOUR (3600 * S)
#define DAY (24 * HOUR)

/* 2026-01-01T00:00:00+08:00 */
static const int64_t jan1_2026 = INT64_C(1767196800) * S;

static double it_sum(const dcm_sim_counters *c) { return c->it_kwh[0] + c->it_kwh[1]; }

static double cooling_sum(const dcm_sim_counters *c)
{
    return c->chillers_kwh + c->crah_kwh[0] + c->crah_kwh[1] + c->towers_kwh;
}

static double parts_sum(const dcm_sim_counters *c)
{
    return it_sum(c) + c->ups_loss_kwh + cooling_sum(c) + c->lighting_kwh + c->heatpump_kwh;
}

static void assert_rel(double got, double want, double tol)
{
    double scale = fabs(want) > 1 ? fabs(want) : 1;
    if (!(fabs(got - want) <= tol * scale)) {
        print_error("got %.17g, want %.17g (relative tolerance %g)\n", got, want, tol);
        fail();
    }
}

/* ---------------------------------------------------------------- model */

static void test_determinism(void **unused)
{
    (void)unused;
    dcm_sim_params a, b;
    dcm_sim_params_default(&a);
    dcm_sim_params_default(&b);
    assert_null(dcm_sim_params_check(&a));

    dcm_sim_state s1, s2;
    for (int64_t t = jan1_2026; t < jan1_2026 + 3 * DAY; t += 7 * MIN + 13 * S) {
        dcm_sim_eval(&a, t, &s1);
        dcm_sim_eval(&b, t, &s2);
        assert_memory_equal(&s1, &s2, sizeof s1);
    }
    dcm_sim_counters c1 = {0}, c2 = {0};
    dcm_sim_integrate(&a, 10 * S, jan1_2026, jan1_2026 + DAY, &c1);
    dcm_sim_integrate(&b, 10 * S, jan1_2026, jan1_2026 + DAY, &c2);
    assert_memory_equal(&c1, &c2, sizeof c1);

    /* Another seed: other jobs and other weather. */
    b.seed = 2;
    dcm_sim_counters c3 = {0};
    dcm_sim_integrate(&b, 10 * S, jan1_2026, jan1_2026 + DAY, &c3);
    assert_true(fabs(it_sum(&c3) - it_sum(&c1)) > 1.0);
    assert_true(fabs(c3.pv_kwh - c1.pv_kwh) > 1.0);
    int differ = 0;
    for (int64_t t = jan1_2026; t < jan1_2026 + DAY; t += 20 * MIN) {
        dcm_sim_eval(&a, t, &s1);
        dcm_sim_eval(&b, t, &s2);
        for (int i = 0; i < a.nodes; i++)
            differ += s1.gpu_util[i] != s2.gpu_util[i];
    }
    assert_true(differ > 8 * 72 / 2);
}

static void test_energy_balance_week(void **unused)
{
    (void)unused;
    dcm_sim_params p;
    dcm_sim_params_default(&p);
    /* The week of the July generator test (Monday 2026-07-06), at 1 s. */
    int64_t from = jan1_2026 + 185 * DAY, to = from + 7 * DAY;
    dcm_sim_counters c = {0};
    assert_int_equal(dcm_sim_integrate(&p, S, from, to, &c), 7 * 86400);
    assert_true(c.gen_kwh > 100.0);
    assert_true(c.pv_kwh > 1000.0);
    assert_rel(c.grid_kwh + c.pv_kwh + c.gen_kwh, c.total_kwh, 1e-9);
    assert_rel(parts_sum(&c), c.total_kwh, 1e-9);
    assert_rel(c.gen_fuel_kwh * 0.36, c.gen_kwh, 1e-9);
    assert_rel(c.fresh_m3, 0.60 * c.water_m3, 1e-9);
    /* A week of 1.2 MW of IT is about 200 MWh. */
    assert_true(it_sum(&c) > 150000.0 && it_sum(&c) < 250000.0);

    /* The same interval cut anywhere gives the same registers: power is constant over
     * each 1 s cell, so a cut inside a cell splits it exactly. */
    dcm_sim_counters d = {0};
    int64_t cut = from + 3 * DAY + 1234567891;
    dcm_sim_integrate(&p, S, from, cut, &d);
    dcm_sim_integrate(&p, S, cut, to, &d);
    assert_rel(d.total_kwh, c.total_kwh, 1e-12);
    assert_rel(d.grid_kwh, c.grid_kwh, 1e-12);
    assert_rel(d.water_m3, c.water_m3, 1e-12);
}

static void test_pv_night_and_noon(void **unused)
{
    (void)unused;
    dcm_sim_params p;
    dcm_sim_params_default(&p);
    dcm_sim_state s;
    for (int d = 0; d < 365; d += 5) {
        int64_t midnight = jan1_2026 + d * DAY;
        for (int h = 0; h < 24; h++) {
            dcm_sim_eval(&p, midnight + h * HOUR + 30 * MIN, &s);
            if (h <= 4 || h >= 20) /* dark in every season at 23 N */
                assert_true(s.pv_kw == 0.0);
            assert_true(s.pv_kw >= 0.0 && s.pv_kw <= p.pv_kwp);
        }
        dcm_sim_eval(&p, midnight + 12 * HOUR, &s);
        assert_true(s.pv_kw > 0.1 * p.pv_kwp);
    }
    /* Without panels, no PV. */
    p.pv_kwp = 0;
    dcm_sim_eval(&p, jan1_2026 + 180 * DAY + 12 * HOUR, &s);
    assert_true(s.pv_kw == 0.0);
}

static void test_chiller_cop(void **unused)
{
    (void)unused;
    dcm_sim_params p;
    dcm_sim_params_default(&p);
    dcm_sim_state s;
    double cold = 0, warm = 0;
    int n_cold = 0, n_warm = 0;
    double jan = 0, jul = 0;
    for (int64_t t = jan1_2026; t < jan1_2026 + 365 * DAY; t += HOUR) {
        dcm_sim_eval(&p, t, &s);
        assert_true(s.chiller_cop >= 3.0 && s.chiller_cop <= 7.0);
        assert_true(s.outdoor_c > 5.0 && s.outdoor_c < 40.0);
        if (s.outdoor_c < 20.0) {
            cold += s.chiller_cop;
            n_cold++;
        } else if (s.outdoor_c > 28.0) {
            warm += s.chiller_cop;
            n_warm++;
        }
        if (t < jan1_2026 + 31 * DAY)
            jan += s.outdoor_c;
        if (t >= jan1_2026 + 181 * DAY && t < jan1_2026 + 212 * DAY)
            jul += s.outdoor_c;
    }
    assert_true(n_cold > 100 && n_warm > 100);
    assert_true(cold / n_cold > warm / n_warm + 1.0);
    /* Subtropical: mild winters, hot summers. */
    assert_true(jan / (31 * 24) > 15.0 && jan / (31 * 24) < 21.0);
    assert_true(jul / (31 * 24) > 27.0 && jul / (31 * 24) < 32.0);
}

static void test_generator_monthly(void **unused)
{
    (void)unused;
    dcm_sim_params p;
    dcm_sim_params_default(&p);
    /* The first Mondays of 2026. */
    static const int first_monday[12] = {5, 2, 2, 6, 4, 1, 6, 3, 7, 5, 2, 7};
    int minutes[12] = {0};
    int64_t first[12] = {0};
    dcm_sim_state s;
    for (int64_t t = jan1_2026; t < jan1_2026 + 365 * DAY; t += MIN) {
        dcm_sim_eval(&p, t, &s);
        assert_int_equal(s.gen_kw > 0, dcm_sim_generator_test(&p, t));
        if (s.gen_kw <= 0)
            continue;
        int64_t y;
        int m, d;
        dcm_civil_from_days((t + 8 * HOUR) / DAY, &y, &m, &d);
        if (!minutes[m - 1])
            first[m - 1] = t;
        minutes[m - 1]++;
        assert_rel(s.grid_kw + s.pv_kw + s.gen_kw, s.total_kw, 1e-12);
        assert_true(s.grid_kw > 0);
    }
    for (int m = 0; m < 12; m++) {
        assert_int_equal(minutes[m], 30);
        /* 10:00 local on the first Monday. */
        int64_t want = (dcm_days_from_civil(2026, m + 1, first_monday[m]) * 86400 + 2 * 3600) * S;
        assert_int_equal(first[m], want);
    }
}

static void test_annual_kpis(void **unused)
{
    (void)unused;
    dcm_sim_params p;
    dcm_sim_params_default(&p);
    dcm_sim_counters c = {0};
    dcm_sim_integrate(&p, 60 * S, jan1_2026, jan1_2026 + 365 * DAY, &c);
    double it = it_sum(&c);
    double pue = c.total_kwh / it;
    assert_true(pue > 1.2 && pue < 1.6);
    /* it_kw is the mean IT load. */
    assert_rel(it / 8760.0, p.it_kw, 0.05);
    double wue = c.water_m3 * 1000.0 / it; /* L/kWh */
    assert_true(wue > 0.5 && wue < 3.0);
    double cer = c.heat_removed_kwh / cooling_sum(&c);
    assert_true(cer > 2.0 && cer < 8.0);
    double erf = c.heat_reused_kwh / c.total_kwh;
    assert_true(erf > 0.05 && erf < 0.2);
    /* A year of a 300 kWp roof in the subtropics: 900..1500 kWh per kWp. */
    assert_true(c.pv_kwh / p.pv_kwp > 900.0 && c.pv_kwh / p.pv_kwp < 1500.0);
    /* Twelve 30-minute tests at about 40 % of the site. */
    assert_true(c.gen_kwh > 12 * 0.5 * 400.0 && c.gen_kwh < 12 * 0.5 * 1000.0);
    assert_rel(c.grid_kwh + c.pv_kwh + c.gen_kwh, c.total_kwh, 1e-9);
    assert_rel(parts_sum(&c), c.total_kwh, 1e-9);

    /* More heat reuse costs heat-pump electricity but raises ERF. */
    dcm_sim_params q = p;
    q.reuse_share = 0.3;
    dcm_sim_counters d = {0};
    dcm_sim_integrate(&q, 3600 * S, jan1_2026, jan1_2026 + 30 * DAY, &d);
    dcm_sim_counters e = {0};
    dcm_sim_integrate(&p, 3600 * S, jan1_2026, jan1_2026 + 30 * DAY, &e);
    assert_true(d.heatpump_kwh > 2.5 * e.heatpump_kwh);
    assert_true(d.heat_reused_kwh / d.total_kwh > e.heat_reused_kwh / e.total_kwh);
}

static void test_bounds_and_finite(void **unused)
{
    (void)unused;
    dcm_sim_params p;
    dcm_sim_params_default(&p);
    p.nodes = 13;
    p.seed = 77;
    p.utc_offset_ns = -5 * HOUR;
    p.latitude_deg = 40.7;
    assert_null(dcm_sim_params_check(&p));
    dcm_sim_state s;
    double busy = 0;
    int n = 0;
    for (int64_t t = jan1_2026; t < jan1_2026 + 14 * DAY; t += 5 * MIN + 7 * S) {
        dcm_sim_eval(&p, t, &s);
        const double *f = (const double *)&s;
        for (size_t i = 0; i < sizeof s / sizeof(double); i++)
            assert_true(isfinite(f[i]));
        for (int i = 0; i < p.nodes; i++) {
            assert_true(s.gpu_util[i] >= 0 && s.gpu_util[i] <= 100);
            assert_true(s.cpu_util[i] >= 0 && s.cpu_util[i] <= 100);
            busy += s.gpu_util[i];
            n++;
        }
        for (int i = p.nodes; i < DCM_SIM_MAX_NODES; i++)
            assert_true(s.gpu_util[i] == 0);
        assert_true(s.grid_kw >= 0 && s.it_kw[0] > 0 && s.it_kw[1] > 0);
    }
    /* Mean utilisation near the demand curve's 53 %. */
    assert_true(busy / n > 40 && busy / n < 65);

    /* Parameters out of range are named. */
    p.nodes = 1;
    assert_non_null(strstr(dcm_sim_params_check(&p), "nodes"));
    p.nodes = 8;
    p.reuse_share = 0.9;
    assert_non_null(strstr(dcm_sim_params_check(&p), "reuse_share"));
    p.reuse_share = 0.1;
    p.it_kw = NAN;
    assert_non_null(strstr(dcm_sim_params_check(&p), "it_kw"));
}

static void test_register_origin(void **unused)
{
    (void)unused;
    dcm_sim_params p;
    dcm_sim_params_default(&p);
    dcm_sim_counters a, b;
    dcm_sim_register_origin(&p, jan1_2026, &a);
    dcm_sim_register_origin(&p, jan1_2026 + 30 * DAY, &b);
    /* Two years of about 1.6 MW. */
    assert_true(a.total_kwh > 2e7 && a.total_kwh < 4e7);
    assert_rel(a.grid_kwh + a.pv_kwh + a.gen_kwh, a.total_kwh, 1e-12);
    assert_rel(parts_sum(&a), a.total_kwh, 1e-12);
    /* Later origin, larger registers: a restart never looks like a reset. */
    assert_true(b.total_kwh > a.total_kwh && b.water_m3 > a.water_m3 &&
                b.grid_kwh > a.grid_kwh);
    dcm_sim_register_origin(&p, DCM_SIM_METERS_INSTALLED - DAY, &a);
    assert_true(a.total_kwh == 0);
}

/* -------------------------------------------------------------- stream */

typedef struct sample {
    size_t point;
    int64_t ts;
    double value;
    dcm_quality q;
} sample;

typedef struct sink {
    sample *items;
    size_t count, cap;
} sink;

static void collect(void *ud, size_t point, int64_t ts, double value, dcm_quality q)
{
    sink *k = ud;
    if (k->count == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 1024;
        k->items = realloc(k->items, k->cap * sizeof *k->items);
        assert_non_null(k->items);
    }
    k->items[k->count++] = (sample){point, ts, value, q};
}

static const sample *find_sample(const sink *k, size_t point, int64_t ts)
{
    for (size_t i = 0; i < k->count; i++)
        if (k->items[i].point == point && k->items[i].ts == ts)
            return &k->items[i];
    return NULL;
}

static void default_config(dcm_sim_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    dcm_sim_params_default(&cfg->params);
    cfg->step_ns = S;
    cfg->emit_ns = S;
    cfg->has_start = true;
    cfg->start_ns = jan1_2026;
}

static void test_stream_keeping_up(void **unused)
{
    (void)unused;
    dcm_sim_config cfg;
    default_config(&cfg);
    cfg.start_ns = jan1_2026 + 500 * 1000000; /* rounded down to the emission grid */
    dcm_sim_run *r;
    assert_int_equal(dcm_sim_run_create(&cfg, &r, NULL), DCM_SIM_OK);
    size_t n = dcm_sim_run_point_count(r);
    assert_int_equal(n, 24 + 2 * 8);

    sink k = {0};
    /* A start in the future: nothing yet. */
    assert_int_equal(dcm_sim_run_advance(r, jan1_2026 - S, collect, &k), 0);
    for (int64_t t = jan1_2026; t <= jan1_2026 + 10 * S; t += 250 * 1000000)
        dcm_sim_run_advance(r, t, collect, &k);
    assert_int_equal(k.count, 11 * n);
    for (size_t i = 0; i < k.count; i++) {
        assert_int_equal(k.items[i].ts % S, 0);
        assert_int_equal(k.items[i].q, DCM_QUALITY_OK);
        assert_true(isfinite(k.items[i].value));
    }

    /* Registers are the origin's readings plus the model integrated since. */
    dcm_sim_counters want;
    dcm_sim_register_origin(&cfg.params, jan1_2026, &want);
    dcm_sim_integrate(&cfg.params, S, jan1_2026, jan1_2026 + 10 * S, &want);
    long total = dcm_sim_run_find(r, "total.energy");
    long water = dcm_sim_run_find(r, "water.total.volume");
    long power = dcm_sim_run_find(r, "total.power");
    assert_true(total >= 0 && water >= 0 && power >= 0);
    assert_rel(find_sample(&k, (size_t)total, jan1_2026 + 10 * S)->value, want.total_kwh, 1e-12);
    assert_rel(find_sample(&k, (size_t)water, jan1_2026 + 10 * S)->value, want.water_m3, 1e-12);
    /* A power sample is the mean over the interval it closes. */
    double e9 = find_sample(&k, (size_t)total, jan1_2026 + 9 * S)->value;
    double e10 = find_sample(&k, (size_t)total, jan1_2026 + 10 * S)->value;
    assert_rel(find_sample(&k, (size_t)power, jan1_2026 + 10 * S)->value, (e10 - e9) * 3600.0, 1e-6);

    const dcm_point_decl *d = dcm_sim_run_point(r, (size_t)total);
    assert_string_equal(d->name, "total.energy");
    assert_string_equal(d->unit, "kWh");
    assert_int_equal(d->kind, DCM_KIND_COUNTER);
    assert_true(d->max_rate > 3 * 1200);
    d = dcm_sim_run_point(r, (size_t)dcm_sim_run_find(r, "gpus.node08.util"));
    assert_string_equal(d->unit, "%");
    assert_int_equal(d->kind, DCM_KIND_GAUGE);
    assert_int_equal(dcm_sim_run_find(r, "gpus.node09.util"), -1);
    assert_null(dcm_sim_run_point(r, n));
    free(k.items);
    dcm_sim_run_destroy(r);
}

static void test_stream_far_behind(void **unused)
{
    (void)unused;
    dcm_sim_config cfg;
    default_config(&cfg);
    cfg.max_samples = 4000;
    dcm_sim_run *r;
    assert_int_equal(dcm_sim_run_create(&cfg, &r, NULL), DCM_SIM_OK);
    size_t n = dcm_sim_run_point_count(r);
    sink k = {0};
    int64_t now = jan1_2026 + 2 * DAY + 30 * S;
    int calls = 0;
    int64_t last = 0;
    for (;;) {
        size_t before = k.count;
        size_t got = dcm_sim_run_advance(r, now, collect, &k);
        calls++;
        assert_int_equal(got, k.count - before);
        assert_true(got <= cfg.max_samples);
        if (!got)
            break;
        assert_true(calls < 1000);
    }
    /* Behind by more than 5 samples: one sample a minute, up to the last whole minute. */
    assert_true(dcm_sim_run_last(r, &last, NULL));
    assert_int_equal(last, jan1_2026 + 2 * DAY);
    assert_int_equal(k.count, (1 + 2 * 1440) * n);
    for (size_t i = 0; i < k.count; i++)
        assert_int_equal(k.items[i].ts % MIN, 0);
    /* The sample limit, not the cell budget, cut the calls: 100 emissions each. */
    assert_int_equal(calls, 2881 / 100 + 1 + 1);

    /* Caught up: the next minute, then 1 s spacing again. */
    k.count = 0;
    now = jan1_2026 + 2 * DAY + 62 * S;
    assert_int_equal(dcm_sim_run_advance(r, now, collect, &k), 3 * n);
    assert_int_equal(k.items[0].ts, jan1_2026 + 2 * DAY + 60 * S);
    assert_int_equal(k.items[n].ts, jan1_2026 + 2 * DAY + 61 * S);
    assert_int_equal(k.items[2 * n].ts, now);

    /* Registers exact whatever the spacing. */
    dcm_sim_counters want, got;
    dcm_sim_register_origin(&cfg.params, jan1_2026, &want);
    dcm_sim_integrate(&cfg.params, S, jan1_2026, now, &want);
    assert_true(dcm_sim_run_last(r, NULL, &got));
    assert_rel(got.total_kwh, want.total_kwh, 1e-12);
    assert_rel(got.grid_kwh + got.pv_kwh + got.gen_kwh, got.total_kwh, 1e-12);
    free(k.items);
    dcm_sim_run_destroy(r);

    /* A tiny cell budget: an emission interval is integrated over several calls. */
    cfg.max_cells = 7;
    assert_int_equal(dcm_sim_run_create(&cfg, &r, NULL), DCM_SIM_OK);
    k = (sink){0};
    now = jan1_2026 + 10 * MIN;
    calls = 0;
    while (!dcm_sim_run_last(r, &last, NULL) || last < now) {
        dcm_sim_run_advance(r, now, collect, &k);
        assert_true(++calls < 200);
    }
    assert_true(calls >= 600 / 7);
    assert_true(dcm_sim_run_last(r, NULL, &got));
    dcm_sim_register_origin(&cfg.params, jan1_2026, &want);
    dcm_sim_integrate(&cfg.params, S, jan1_2026, now, &want);
    assert_rel(got.it_kwh[0], want.it_kwh[0], 1e-12);
    free(k.items);
    dcm_sim_run_destroy(r);
}

static void test_stream_outages(void **unused)
{
    (void)unused;
    dcm_sim_outage outages[2] = {
        {"it.hall-a.*", jan1_2026 + 10 * S, jan1_2026 + 20 * S, false},
        {"gpus.node0[12].util", jan1_2026 + 5 * S, jan1_2026 + 6 * S, true},
    };
    dcm_sim_config cfg;
    default_config(&cfg);
    cfg.outages = outages;
    cfg.outage_count = 2;
    dcm_sim_run *r;
    assert_int_equal(dcm_sim_run_create(&cfg, &r, NULL), DCM_SIM_OK);
    sink k = {0};
    for (int64_t t = jan1_2026; t <= jan1_2026 + 30 * S; t += S)
        dcm_sim_run_advance(r, t, collect, &k);
    size_t e = (size_t)dcm_sim_run_find(r, "it.hall-a.energy");
    size_t pw = (size_t)dcm_sim_run_find(r, "it.hall-a.power");
    size_t b = (size_t)dcm_sim_run_find(r, "it.hall-b.energy");
    size_t g1 = (size_t)dcm_sim_run_find(r, "gpus.node01.util");
    size_t g3 = (size_t)dcm_sim_run_find(r, "gpus.node03.util");
    for (int64_t t = jan1_2026; t <= jan1_2026 + 30 * S; t += S) {
        bool out = t >= jan1_2026 + 10 * S && t < jan1_2026 + 20 * S;
        assert_int_equal(find_sample(&k, e, t) == NULL, out);
        assert_int_equal(find_sample(&k, pw, t) == NULL, out);
        assert_non_null(find_sample(&k, b, t));
        assert_int_equal(find_sample(&k, g1, t)->q,
                         t == jan1_2026 + 5 * S ? DCM_QUALITY_INVALID : DCM_QUALITY_OK);
        assert_int_equal(find_sample(&k, g3, t)->q, DCM_QUALITY_OK);
    }
    /* The register kept counting through the outage. */
    dcm_sim_counters want;
    dcm_sim_register_origin(&cfg.params, jan1_2026, &want);
    dcm_sim_integrate(&cfg.params, S, jan1_2026, jan1_2026 + 20 * S, &want);
    assert_rel(find_sample(&k, e, jan1_2026 + 20 * S)->value, want.it_kwh[0], 1e-12);
    free(k.items);
    dcm_sim_run_destroy(r);
}

static void test_stream_wh32_and_config_errors(void **unused)
{
    (void)unused;
    dcm_sim_config cfg;
    default_config(&cfg);
    cfg.grid_wh32 = true;
    cfg.emit_ns = MIN;
    cfg.start_ns = jan1_2026 + 400 * DAY; /* 2027-02-05 */
    dcm_sim_run *r;
    assert_int_equal(dcm_sim_run_create(&cfg, &r, NULL), DCM_SIM_OK);
    size_t g = (size_t)dcm_sim_run_find(r, "grid.energy");
    const dcm_point_decl *d = dcm_sim_run_point(r, g);
    assert_string_equal(d->unit, "Wh");
    assert_int_equal(d->counter_bits, 32);
    assert_true(d->counter_scale == 1.0);
    sink k = {0};
    dcm_sim_run_advance(r, cfg.start_ns + HOUR, collect, &k);
    dcm_sim_counters c;
    assert_true(dcm_sim_run_last(r, NULL, &c));
    const sample *last = find_sample(&k, g, cfg.start_ns + HOUR);
    assert_non_null(last);
    assert_true(last->value == fmod(floor(c.grid_kwh * 1000.0), 4294967296.0));
    /* About 40 GWh since 2024: the register has wrapped several times. */
    assert_true(c.grid_kwh * 1000.0 > 4 * 4294967296.0);
    assert_true(last->value < 4294967296.0);
    free(k.items);
    dcm_sim_run_destroy(r);

    const char *why = NULL;
    cfg.step_ns = 0;
    assert_int_equal(dcm_sim_run_create(&cfg, &r, &why), DCM_SIM_EINVAL);
    assert_null(r);
    assert_non_null(strstr(why, "step"));
    default_config(&cfg);
    cfg.params.nodes = 65;
    assert_int_equal(dcm_sim_run_create(&cfg, &r, &why), DCM_SIM_EINVAL);
    assert_non_null(strstr(why, "nodes"));
    dcm_sim_outage backwards = {"grid.*", jan1_2026 + S, jan1_2026, false};
    default_config(&cfg);
    cfg.outages = &backwards;
    cfg.outage_count = 1;
    assert_int_equal(dcm_sim_run_create(&cfg, &r, &why), DCM_SIM_EINVAL);
    assert_non_null(strstr(why, "outage"));
    assert_string_equal(dcm_sim_strerror(DCM_SIM_ENOMEM), "out of memory");
}

/* ------------------------------------------------------------- collector */

static void test_key_table(void **unused)
{
    (void)unused;
    const dcm_collector_descriptor *d = dcm_collector_find("sim");
    assert_non_null(d);
    assert_string_equal(d->name, "sim");
    assert_int_equal(d->abi_version, DCM_COLLECTOR_ABI);
    assert_non_null(d->init);
    assert_non_null(d->poll);
    assert_non_null(d->close);
    size_t n = 0;
    for (const dcm_config_key *k = d->keys; k->name; k++, n++) {
        assert_non_null(k->doc);
        assert_false(k->required); /* the demo runs with no keys at all */
        for (const dcm_config_key *j = d->keys; j < k; j++)
            assert_string_not_equal(j->name, k->name);
        if (!k->default_value)
            continue;
        char *end = NULL;
        int64_t ns;
        switch (k->type) {
        case DCM_KEY_INT: strtoll(k->default_value, &end, 10); assert_int_equal(*end, 0); break;
        case DCM_KEY_DOUBLE: strtod(k->default_value, &end); assert_int_equal(*end, 0); break;
        case DCM_KEY_DURATION: assert_true(dcm_parse_duration_ns(k->default_value, &ns)); break;
        case DCM_KEY_BOOL:
            assert_true(strcmp(k->default_value, "true") == 0 ||
                        strcmp(k->default_value, "false") == 0);
            break;
        default: break;
        }
    }
    assert_true(n >= 12);
}

/* The collector through the core: keys read, points declared, samples on the bus, bad
 * keys refused at init. */
static const char collector_yaml[] =
    "agent: {site: t, interval: 1s}\n"
    "collectors:\n"
    "  - name: hall\n"
    "    type: sim\n"
    "    nodes: 2\n"
    "    utc_offset: \"-05:30\"\n"
    "    grid_wh32: true\n"
    "    emit_every: 10s\n"
    "    start: \"2026-01-01T00:00:00Z\"\n"
    "    fail:\n"
    "      - {point: \"pv.*\", from: \"2026-01-01T00:00:00Z\", to: \"2026-01-02T00:00:00Z\"}\n"
    "      - {point: \"outdoor.*\", from: \"2026-01-01T00:00:00Z\", to: \"2026-01-02T00:00:00Z\",\n"
    "         mode: invalid}\n"
    "  - {name: bad-offset, type: sim, utc_offset: \"8\"}\n"
    "  - {name: bad-fail, type: sim, fail: [{point: x, from: \"2026-01-01T00:00:00Z\", to: \"2026-01-01\"}]}\n"
    "  - {name: bad-key, type: sim, fail: [{point: x, from: \"2026-01-01T00:00:00Z\", until: \"2026-01-02T00:00:00Z\"}]}\n";

static const dcm_point *point_named(dcm_points *pts, const char *id)
{
    for (size_t i = 0; i < pts->count; i++)
        if (strcmp(pts->items[i].id, id) == 0)
            return &pts->items[i];
    return NULL;
}

static void test_collector_in_scheduler(void **unused)
{
    (void)unused;
    dcm_config *cfg = NULL;
    dcm_diags diags;
    dcm_diags_init(&diags);
    assert_int_equal(dcm_config_load_string(collector_yaml, strlen(collector_yaml), "t.yaml",
                                            &cfg, &diags),
                     DCM_CONFIG_OK);
    const int64_t start = INT64_C(1767225600) * S; /* 2026-01-01T00:00:00Z */
    dcm_points pts;
    dcm_bus bus;
    dcm_clock clock;
    assert_int_equal(dcm_points_init(&pts), 0);
    assert_int_equal(dcm_bus_init(&bus, 1 << 14), 0);
    dcm_clock_init(&clock, 1.0, start + 35 * S);
    dcm_scheduler_env env = {.config = cfg, .clock = &clock, .points = &pts, .bus = &bus};
    dcm_scheduler *s = dcm_scheduler_create(&env);
    assert_non_null(s);

    dcm_instance_health *h;
    size_t n = dcm_scheduler_health(s, &h);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(h[i].disabled, strcmp(h[i].name, "hall") != 0);
    dcm_health_free(h, n);

    const dcm_point *grid = point_named(&pts, "hall.grid.energy");
    assert_non_null(grid);
    assert_string_equal(grid->unit->name, "Wh");
    assert_non_null(grid->limits);
    assert_true(grid->limits->wrap_modulus == 4294967.296);
    assert_non_null(point_named(&pts, "hall.servers.node02.cpu"));
    assert_null(point_named(&pts, "hall.servers.node03.cpu"));

    /* The first poll runs at once: samples at 0, 10, 20 and 30 s after the start. */
    assert_true(dcm_scheduler_start(s) == 1);
    dcm_sample buf[256];
    size_t grid_samples = 0, invalid = 0, pv = 0, total = 0;
    int64_t newest = 0;
    for (int tries = 0; tries < 100 && newest < start + 30 * S; tries++) {
        size_t got = dcm_bus_pop(&bus, buf, 256, 50);
        for (size_t i = 0; i < got; i++) {
            if (buf[i].point == DCM_SAMPLE_WATERMARK)
                continue;
            assert_true(buf[i].point < pts.count);
            const char *id = pts.items[buf[i].point].id;
            if (strncmp(id, "hall.health.", 12) == 0)
                continue;
            total++;
            assert_int_equal(buf[i].ts_ns % (10 * S), 0);
            if (buf[i].ts_ns > newest)
                newest = buf[i].ts_ns;
            pv += strncmp(id, "hall.pv.", 8) == 0;
            if (strcmp(id, "hall.outdoor.temperature") == 0) {
                assert_int_equal(buf[i].quality, DCM_QUALITY_INVALID);
                invalid++;
            }
            if (buf[i].point == (uint32_t)(grid - pts.items)) {
                assert_true(buf[i].value >= 0 && buf[i].value < 4294967.296);
                grid_samples++;
            }
        }
    }
    dcm_scheduler_destroy(s);
    assert_int_equal(newest, start + 30 * S);
    assert_int_equal(pv, 0);
    assert_true(invalid >= 4 && grid_samples >= 4);
    assert_true(total >= 4 * (24 - 2 + 4));
    dcm_bus_destroy(&bus);
    dcm_points_destroy(&pts);
    dcm_config_destroy(cfg);
    dcm_diags_free(&diags);
}

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 16);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 16) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* Every selector of examples/demo.yaml names points the simulator publishes. */
static void assert_selectors_match(const dcm_selectors *sel, const dcm_sim_run *r,
                                   const char *instance)
{
    for (size_t i = 0; i < sel->count; i++) {
        bool hit = false;
        char id[128];
        for (size_t p = 0; p < dcm_sim_run_point_count(r) && !hit; p++) {
            snprintf(id, sizeof id, "%s.%s", instance, dcm_sim_run_point(r, p)->name);
            hit = fnmatch(sel->globs[i], id, 0) == 0;
        }
        if (!hit) {
            print_error("selector '%s' matches no simulated point\n", sel->globs[i]);
            fail();
        }
    }
}

static void test_demo_config(void **unused)
{
    (void)unused;
    size_t len;
    char *text = read_text(DCM_SOURCE_DIR "/examples/demo.yaml", &len);
    dcm_config *cfg = NULL;
    dcm_diags diags;
    dcm_diags_init(&diags);
    dcm_config_err err = dcm_config_load_string(text, len, "demo.yaml", &cfg, &diags);
    dcm_diags_print(&diags, stderr);
    assert_int_equal(err, DCM_CONFIG_OK);
    assert_int_equal(diags.errors, 0);
    assert_int_equal(cfg->collector_count, 1);
    assert_string_equal(cfg->collectors[0].type, "sim");
    assert_string_equal(cfg->site.timezone, "Asia/Taipei");
    assert_int_equal(cfg->site.pue_category, 2);
    assert_int_equal(cfg->site.zone_count, 2);

    dcm_sim_config sc;
    default_config(&sc);
    dcm_sim_run *r;
    assert_int_equal(dcm_sim_run_create(&sc, &r, NULL), DCM_SIM_OK);
    for (int role = 0; role < DCM_ROLE_COUNT; role++) {
        assert_true(cfg->site.roles[role].count > 0);
        assert_selectors_match(&cfg->site.roles[role], r, cfg->collectors[0].name);
    }
    for (size_t z = 0; z < cfg->site.zone_count; z++) {
        assert_selectors_match(&cfg->site.zones[z].it, r, cfg->collectors[0].name);
        assert_selectors_match(&cfg->site.zones[z].overhead, r, cfg->collectors[0].name);
    }
    dcm_sim_run_destroy(r);
    dcm_config_destroy(cfg);
    dcm_diags_free(&diags);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_energy_balance_week),
        cmocka_unit_test(test_pv_night_and_noon),
        cmocka_unit_test(test_chiller_cop),
        cmocka_unit_test(test_generator_monthly),
        cmocka_unit_test(test_annual_kpis),
        cmocka_unit_test(test_bounds_and_finite),
        cmocka_unit_test(test_register_origin),
        cmocka_unit_test(test_stream_keeping_up),
        cmocka_unit_test(test_stream_far_behind),
        cmocka_unit_test(test_stream_outages),
        cmocka_unit_test(test_stream_wh32_and_config_errors),
        cmocka_unit_test(test_key_table),
        cmocka_unit_test(test_collector_in_scheduler),
        cmocka_unit_test(test_demo_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
