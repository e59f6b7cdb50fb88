/*
 * test_metrics_property.c - properties of the engine over random streams:
 *   - splitting a period never changes its totals: the 1-minute records of an hour add up
 *     to the hour's record, which equals each point integrated directly over the hour;
 *   - any arrival order within the grace period gives the same totals;
 *   - no NaN or Inf leaves the engine, whatever the input (zeros, 1e300, negatives, NaN);
 *   - per-point memory stays under 200 bytes at 10,000 points.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/metrics.h"
#include "test_metrics_common.h"

#define S(x) ((int64_t)(x) * DCM_NS_PER_S)
#define T0 (INT64_C(1767225600) * DCM_NS_PER_S) /* 2026-01-01T00:00:00Z */
#define HOURS 2
#define NPOINTS 120

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic across platforms */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static double unif(double lo, double hi)
{
    return lo + (hi - lo) * (double)(rnd() >> 11) / 9007199254740992.0;
}

typedef struct sample {
    uint32_t id;
    int64_t ts, arrival;
    double value;
} sample;

static const dcm_role role_pool[] = {DCM_ROLE_IT, DCM_ROLE_TOTAL, DCM_ROLE_COOLING,
                                     DCM_ROLE_WATER, DCM_ROLE_SERVERS};

static void make_defs(dcm_point_def *defs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dcm_point_def *d = &defs[i];
        memset(d, 0, sizeof(*d));
        d->zone = -1;
        dcm_role r = role_pool[rnd() % 5];
        d->roles = DCM_ROLE_BIT(r);
        if (r == DCM_ROLE_SERVERS) {
            d->quantity = DCM_QTY_UTILISATION;
            d->kind = DCM_KIND_GAUGE;
            continue;
        }
        d->quantity = r == DCM_ROLE_WATER ? DCM_QTY_VOLUME : DCM_QTY_ENERGY;
        d->kind = (rnd() % 2) ? DCM_KIND_COUNTER : DCM_KIND_GAUGE;
        if (d->kind == DCM_KIND_COUNTER && rnd() % 2)
            d->wrap_modulus = 65536.0;
        if (rnd() % 3 == 0)
            d->roles |= DCM_ROLE_BIT(DCM_ROLE_TOTAL);
    }
}

/* Per-point streams, 0.2 to 2 s apart, with counter resets and wraps now and then. */
static sample *make_stream(const dcm_point_def *defs, size_t n, size_t *count)
{
    size_t cap = n * (HOURS * 3600 + 120), k = 0;
    sample *v = malloc(cap * sizeof(*v));
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        const dcm_point_def *d = &defs[i];
        int64_t ts = T0 - S(30) + (int64_t)unif(0, 2e9);
        double value = d->kind == DCM_KIND_COUNTER ? unif(0, 60000) : unif(0, 100);
        int64_t end = T0 + S(HOURS * 3600 + 60);
        while (ts < end && k < cap) {
            v[k++] = (sample){.id = (uint32_t)i, .ts = ts, .value = value};
            int64_t step = (int64_t)unif(0.2e9, 2e9);
            ts += step;
            if (d->kind == DCM_KIND_COUNTER) {
                value += unif(0, 0.5) * (double)step / 1e9;
                if (rnd() % 5000 == 0)
                    value = unif(0, 1); /* device restart */
                if (d->wrap_modulus > 0 && value >= d->wrap_modulus)
                    value -= d->wrap_modulus;
            } else {
                value = unif(0, 100);
            }
        }
    }
    *count = k;
    return v;
}

static int by_ts(const void *a, const void *b)
{
    const sample *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->id < y->id ? -1 : (x->id > y->id);
}

static int by_arrival(const void *a, const void *b)
{
    const sample *x = a, *y = b;
    if (x->arrival != y->arrival)
        return x->arrival < y->arrival ? -1 : 1;
    return by_ts(a, b);
}

typedef struct hours {
    dcm_totals hour[HOURS + 1];
    dcm_totals minute_sum[HOURS + 1];
    int hours, minutes[HOURS + 1];
} hours;

static int hour_index(int64_t start)
{
    if (start < T0)
        return -1;
    int64_t h = (start - T0) / S(3600);
    return h < HOURS ? (int)h : -1;
}

static void collect(void *ctx, const dcm_kpi_record *r)
{
    hours *h = ctx;
    int i = hour_index(r->start_ns);
    if (i < 0)
        return;
    if (r->window == DCM_WINDOW_1H) {
        h->hour[i] = *r->totals;
        h->hours++;
    } else if (r->window == DCM_WINDOW_1M) {
        if (h->minutes[i]++ == 0)
            h->minute_sum[i] = *r->totals;
        else
            dcm_totals_merge(&h->minute_sum[i], r->totals);
    }
}

static dcm_engine *engine_for(const dcm_point_def *defs, size_t n, hours *h)
{
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.windows = (1u << DCM_WINDOW_1M) | (1u << DCM_WINDOW_1H);
    cfg.on_record = collect;
    cfg.on_record_ctx = h;
    dcm_engine *e = NULL;
    assert_int_equal(dcm_engine_create(&cfg, &e), DCM_METRICS_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(dcm_engine_add_point(e, &defs[i], NULL), DCM_METRICS_OK);
    memset(h, 0, sizeof(*h));
    return e;
}

static void compare_roles(const dcm_totals *a, const dcm_totals *b, double rel)
{
    for (int r = 0; r < DCM_ROLE_COUNT; r++) {
        if (r == DCM_ROLE_SERVERS || r == DCM_ROLE_ACCELERATORS)
            continue;
        assert_double_rel(a->role[r].amount, b->role[r].amount, rel);
        assert_double_rel(a->role[r].covered_s, b->role[r].covered_s, rel);
        assert_double_rel(a->role[r].estimated, b->role[r].estimated, rel);
    }
}

static void test_split_and_order(void **state)
{
    (void)state;
    rng_state = UINT64_C(0x9E3779B97F4A7C15);
    dcm_point_def defs[NPOINTS];
    make_defs(defs, NPOINTS);
    size_t n;
    sample *v = make_stream(defs, NPOINTS, &n);
    qsort(v, n, sizeof(*v), by_ts);

    /* In timestamp order, the clock advanced by the samples themselves. */
    static hours a, b;
    dcm_engine *ea = engine_for(defs, NPOINTS, &a);
    size_t accepted_a = 0, accepted_b = 0;
    for (size_t i = 0; i < n; i++) {
        accepted_a += dcm_engine_feed(ea, v[i].id, v[i].ts, v[i].value, DCM_QUALITY_OK);
        dcm_engine_advance(ea, v[i].ts);
    }
    dcm_engine_advance(ea, T0 + S(HOURS * 3600 + 120));

    /* Directly: each point's increments added to one accumulator per hour. */
    static dcm_totals direct[HOURS];
    for (int h = 0; h < HOURS; h++)
        dcm_totals_init(&direct[h], T0 + S(3600 * h), T0 + S(3600 * (h + 1)), 0);
    for (uint32_t p = 0; p < NPOINTS; p++) {
        dcm_point_state st;
        dcm_point_state_init(&st);
        dcm_point_acc acc[HOURS];
        memset(acc, 0, sizeof(acc));
        for (size_t i = 0; i < n; i++) {
            dcm_increment inc;
            if (v[i].id != p || !dcm_integrator_feed(&defs[p], &st, v[i].ts, v[i].value, &inc))
                continue;
            for (int h = 0; h < HOURS; h++)
                dcm_point_acc_add(&acc[h], direct[h].start_ns, direct[h].end_ns, &inc);
        }
        for (int h = 0; h < HOURS; h++)
            dcm_totals_fold_point(&direct[h], &defs[p], &acc[h]);
    }

    assert_int_equal(a.hours, HOURS);
    for (int h = 0; h < HOURS; h++) {
        assert_int_equal(a.minutes[h], 60);
        compare_roles(&a.hour[h], &direct[h], 1e-9);
        compare_roles(&a.minute_sum[h], &a.hour[h], 1e-9);
        assert_double_equal(a.hour[h].role[DCM_ROLE_IT].expected_s,
                            direct[h].role[DCM_ROLE_IT].expected_s, 0);
        assert_true(a.hour[h].role[DCM_ROLE_IT].amount > 0);
        /* Utilisation: mean of per-point means over the hour. */
        const dcm_role_sum *su = &a.hour[h].role[DCM_ROLE_SERVERS];
        const dcm_role_sum *sd = &direct[h].role[DCM_ROLE_SERVERS];
        assert_int_equal(su->points, sd->points);
        assert_true(su->points > 0);
        assert_double_rel(su->amount, sd->amount, 1e-9);
    }

    /* Arrival order shuffled within the grace period (per point order kept): the clock
     * follows the arrivals; intervals up to 2 s plus delays up to 3 s stay within 5 s. */
    int64_t *last = calloc(NPOINTS, sizeof(*last));
    assert_non_null(last);
    for (size_t i = 0; i < n; i++) {
        int64_t arr = v[i].ts + (int64_t)unif(0, 3e9);
        if (arr < last[v[i].id])
            arr = last[v[i].id];
        last[v[i].id] = arr;
        v[i].arrival = arr;
    }
    free(last);
    qsort(v, n, sizeof(*v), by_arrival);
    dcm_engine *eb = engine_for(defs, NPOINTS, &b);
    for (size_t i = 0; i < n; i++) {
        dcm_engine_advance(eb, v[i].arrival);
        accepted_b += dcm_engine_feed(eb, v[i].id, v[i].ts, v[i].value, DCM_QUALITY_OK);
    }
    assert_int_equal(accepted_a, accepted_b);
    assert_true(accepted_a > n * 99 / 100);
    dcm_engine_advance(eb, T0 + S(HOURS * 3600 + 120));
    assert_int_equal(b.hours, HOURS);
    for (int h = 0; h < HOURS; h++) {
        compare_roles(&b.hour[h], &a.hour[h], 1e-9);
        assert_double_rel(b.hour[h].role[DCM_ROLE_SERVERS].amount,
                          a.hour[h].role[DCM_ROLE_SERVERS].amount, 1e-9);
    }
    dcm_engine_destroy(ea);
    dcm_engine_destroy(eb);
    free(v);
}

/* ------------------------------------------------------------ extreme inputs */

static bool opt_ok(const dcm_opt *o)
{
    return isfinite(o->value) && (o->has_value || (o->value == 0 && o->quality == DCM_QUALITY_INVALID));
}

static bool sum_ok(const dcm_role_sum *r)
{
    return isfinite(r->amount) && isfinite(r->estimated) && isfinite(r->derived) &&
           isfinite(r->covered_s) && isfinite(r->expected_s);
}

typedef struct checker {
    size_t records;
    bool bad;
} checker;

static void check_record(void *ctx, const dcm_kpi_record *r)
{
    checker *c = ctx;
    c->records++;
    const dcm_kpi_set *k = r->kpi;
    const dcm_opt *o[] = {&k->pue, &k->dcie, &k->wue, &k->wue_fresh, &k->cue_location,
                          &k->cue_market, &k->ref, &k->erf, &k->ere, &k->cer, &k->pue_enefg,
                          &k->iteu_sv, &k->accel_util, &k->e_dc_kwh, &k->grid_kwh,
                          &k->co2_location_kg, &k->co2_market_kg, &k->renewable_kwh};
    for (size_t i = 0; i < sizeof(o) / sizeof(o[0]); i++)
        if (!opt_ok(o[i]))
            c->bad = true;
    for (int z = 0; z < DCM_MAX_ZONES; z++)
        if (!opt_ok(&k->ppue[z]))
            c->bad = true;
    if (!isfinite(k->coverage) || !isfinite(k->estimated_share))
        c->bad = true;
    for (int i = 0; i < DCM_ROLE_COUNT; i++)
        if (!sum_ok(&r->totals->role[i]))
            c->bad = true;
    for (uint32_t z = 0; z < r->totals->zone_count; z++)
        if (!sum_ok(&r->totals->zone_it[z]) || !sum_ok(&r->totals->zone_overhead[z]))
            c->bad = true;
    if (!isfinite(r->totals->instruments.certificates_kwh) ||
        !isfinite(r->totals->instruments.ppa_kwh))
        c->bad = true;
}

static void test_extreme_inputs(void **state)
{
    (void)state;
    rng_state = UINT64_C(0xD1B54A32D192ED03);
    const double vals[] = {0.0, -0.0, 1.0, -1.0, 1e300, -1e300, 1e18, -1e18, 1e-300,
                           5e-324, DBL_MAX, NAN, INFINITY, -INFINITY, 65535.0, 4294967295.0};
    const size_t nv = sizeof(vals) / sizeof(vals[0]);
    checker c = {0};
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.zone_count = 2;
    cfg.on_record = check_record;
    cfg.on_record_ctx = &c;
    cfg.params.carbon.has_location = true;
    cfg.params.carbon.location_factor = 1e300;
    cfg.params.carbon.has_market = true;
    cfg.params.carbon.market_factor = -1e300;
    cfg.params.carbon.fuel_factor = 1e300;
    dcm_instrument_period ip = {.start_ns = T0, .end_ns = T0 + S(86400), .kwh = 1e300};
    cfg.instruments = &ip;
    cfg.instrument_count = 1;
    dcm_engine *e = NULL;
    assert_int_equal(dcm_engine_create(&cfg, &e), DCM_METRICS_OK);
    const int npts = 40;
    for (int i = 0; i < npts; i++) {
        dcm_point_def d;
        memset(&d, 0, sizeof(d));
        d.quantity = (dcm_quantity)(rnd() % 5);
        d.kind = (dcm_kind)(rnd() % 3);
        d.roles = (uint32_t)(rnd() & ((1u << DCM_ROLE_COUNT) - 1u));
        d.zone = (int16_t)((int)(rnd() % 3) - 1);
        d.zone_part = (uint8_t)(rnd() % 3);
        d.wrap_modulus = (rnd() % 2) ? 0.0 : (rnd() % 2 ? 1e300 : 65536.0);
        d.max_rate = (rnd() % 2) ? 0.0 : (rnd() % 2 ? 1e300 : 1e-300);
        d.max_gap_ns = (rnd() % 2) ? 0 : INT64_MAX;
        d.nominal_interval_ns = (rnd() % 2) ? 0 : INT64_MAX;
        assert_int_equal(dcm_engine_add_point(e, &d, NULL), DCM_METRICS_OK);
    }
    int64_t ts = T0;
    for (int i = 0; i < 400000; i++) {
        uint64_t r = rnd();
        if (r % 16 == 0)
            ts -= S(3); /* backwards */
        else if (r % 256 == 1)
            ts += S(3600) * (int64_t)((r >> 8) % 3); /* jumps */
        else
            ts += (int64_t)(r % 2000) * 1000000;
        dcm_quality q = (r >> 8) % 10 == 0 ? DCM_QUALITY_INVALID : DCM_QUALITY_OK;
        dcm_engine_feed(e, (uint32_t)((r >> 16) % npts), ts, vals[(r >> 24) % nv], q);
        if ((r >> 32) % 64 == 0)
            dcm_engine_advance(e, ts + (int64_t)((r >> 40) % 100) * DCM_NS_PER_S);
        if ((r >> 32) % 997 == 0) {
            for (int w = 0; w < DCM_WINDOW_COUNT; w++)
                dcm_engine_peek(e, (dcm_window)w, ts, check_record, &c);
        }
    }
    dcm_engine_advance(e, ts + S(86400 * 40));
    assert_false(c.bad);
    assert_true(c.records > 1000);
    for (int i = 0; i < npts; i++) {
        const dcm_point_state *st = dcm_engine_point_state(e, (uint32_t)i);
        assert_true(isfinite(st->last_value) && isfinite(st->rate));
    }
    dcm_engine_destroy(e);
}

static void test_memory_per_point(void **state)
{
    (void)state;
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    dcm_engine *e = NULL;
    assert_int_equal(dcm_engine_create(&cfg, &e), DCM_METRICS_OK);
    for (int i = 0; i < 10000; i++) {
        dcm_point_def d;
        memset(&d, 0, sizeof(d));
        d.kind = i % 2 ? DCM_KIND_COUNTER : DCM_KIND_GAUGE;
        d.roles = DCM_ROLE_BIT(i % 3 ? DCM_ROLE_IT : DCM_ROLE_TOTAL);
        d.zone = -1;
        assert_int_equal(dcm_engine_add_point(e, &d, NULL), DCM_METRICS_OK);
    }
    assert_int_equal(dcm_engine_point_count(e), 10000);
    size_t bpp = dcm_engine_bytes_per_point(e);
    assert_true(bpp < 200);
    assert_true(bpp >= 100);
    dcm_engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_and_order),
        cmocka_unit_test(test_extreme_inputs),
        cmocka_unit_test(test_memory_per_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
