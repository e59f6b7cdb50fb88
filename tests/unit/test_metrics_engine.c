/*
 * test_metrics_engine.c - the streaming engine: minute and calendar windows, window
 * selection, late samples, restart without double counting, live and interim records,
 * utilisation means per window, instruments, a billed year through TTM (examples A and
 * B), seeded months, fast-forwarded years and argument checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "dcm/metrics.h"
#include "test_metrics_common.h"

#define S(x) ((int64_t)(x) * DCM_NS_PER_S)
#define M(x) ((int64_t)(x) * DCM_NS_PER_MIN)
#define T0 (INT64_C(1767225600) * DCM_NS_PER_S) /* 2026-01-01T00:00:00Z */
#define BIT(w) (1u << (w))

typedef struct rec {
    dcm_window w;
    int64_t start, end;
    bool interim;
    int category;
    dcm_totals t;
    dcm_kpi_set k;
} rec;

typedef struct sink {
    rec *v;
    size_t n, cap;
    size_t count[DCM_WINDOW_COUNT];
    uint32_t keep; /* windows whose records are stored */
    int64_t last_end[DCM_WINDOW_COUNT];
    bool ordered;
} sink;

static void on_record(void *ctx, const dcm_kpi_record *r)
{
    sink *s = ctx;
    assert_string_equal(r->ruleset, DCM_METRICS_RULESET);
    s->count[r->window]++;
    /* Closed windows of one kind come in order and tile time. */
    if (!r->interim) {
        if (s->last_end[r->window] && s->last_end[r->window] != r->start_ns &&
            r->window != DCM_WINDOW_TTM)
            s->ordered = false;
        s->last_end[r->window] = r->end_ns;
    }
    if (!(s->keep & BIT(r->window)))
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
        assert_non_null(s->v);
    }
    rec *x = &s->v[s->n++];
    x->w = r->window;
    x->start = r->start_ns;
    x->end = r->end_ns;
    x->interim = r->interim;
    x->category = r->pue_category;
    x->t = *r->totals;
    x->k = *r->kpi;
}

static void sink_init(sink *s, uint32_t keep)
{
    memset(s, 0, sizeof(*s));
    s->keep = keep;
    s->ordered = true;
}

static const rec *find(const sink *s, dcm_window w, int64_t start)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].w == w && s->v[i].start == start && !s->v[i].interim)
            return &s->v[i];
    return NULL;
}

static dcm_point_def pdef(dcm_quantity q, dcm_kind k, dcm_role role)
{
    dcm_point_def d;
    memset(&d, 0, sizeof(d));
    d.quantity = q;
    d.kind = k;
    d.roles = DCM_ROLE_BIT(role);
    d.zone = -1;
    return d;
}

static dcm_engine *make(dcm_engine_config *cfg, sink *s)
{
    cfg->on_record = on_record;
    cfg->on_record_ctx = s;
    dcm_engine *e = NULL;
    assert_int_equal(dcm_engine_create(cfg, &e), DCM_METRICS_OK);
    assert_non_null(e);
    return e;
}

static uint32_t add(dcm_engine *e, dcm_point_def d)
{
    uint32_t id = UINT32_MAX;
    assert_int_equal(dcm_engine_add_point(e, &d, &id), DCM_METRICS_OK);
    return id;
}

/* IT counter at 600 kW, total power gauge at 780 kW, water counter at 1.2 m3/h, sampled
 * every second from T0 + 10 s, with advance() after each second like the agent. */
static void feed_site(dcm_engine *e, uint32_t it, uint32_t tot, uint32_t water, int64_t from_s,
                      int64_t to_s)
{
    for (int64_t s = from_s; s <= to_s; s++) {
        int64_t ts = T0 + S(s);
        assert_true(dcm_engine_feed(e, it, ts, 5000.0 + 600.0 * (double)s / 3600.0,
                                    DCM_QUALITY_OK));
        assert_true(dcm_engine_feed(e, tot, ts, 780.0, DCM_QUALITY_OK));
        assert_true(dcm_engine_feed(e, water, ts, 10.0 + 1.2 * (double)s / 3600.0,
                                    DCM_QUALITY_PARTIAL));
        dcm_engine_advance(e, ts);
    }
}

static void test_minutes_and_hour(void **state)
{
    (void)state;
    sink s;
    sink_init(&s, BIT(DCM_WINDOW_1M) | BIT(DCM_WINDOW_15M) | BIT(DCM_WINDOW_1H));
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.params.pue_category = 2;
    dcm_engine *e = make(&cfg, &s);
    uint32_t it = add(e, pdef(DCM_QTY_ENERGY, DCM_KIND_COUNTER, DCM_ROLE_IT));
    uint32_t tot = add(e, pdef(DCM_QTY_ENERGY, DCM_KIND_GAUGE, DCM_ROLE_TOTAL));
    uint32_t water = add(e, pdef(DCM_QTY_VOLUME, DCM_KIND_COUNTER, DCM_ROLE_WATER));
    assert_int_equal(dcm_engine_point_count(e), 3);
    assert_int_equal(it, 0);
    assert_int_equal(water, 2);
    feed_site(e, it, tot, water, 10, 3630);
    dcm_engine_advance(e, T0 + S(3600 + 65));

    const rec *h = find(&s, DCM_WINDOW_1H, T0);
    assert_non_null(h);
    assert_int_equal(h->end, T0 + S(3600));
    assert_int_equal(h->category, 2);
    const dcm_role_sum *rit = &h->t.role[DCM_ROLE_IT];
    assert_double_rel(rit->amount, 600.0 * 3590.0 / 3600.0, 1e-9);
    assert_double_equal(rit->covered_s, 3590.0, 1e-6);
    assert_double_equal(rit->expected_s, 3600.0, 0);
    assert_int_equal(rit->points, 1);
    assert_double_equal(rit->derived, 0.0, 0);
    assert_double_rel(h->t.role[DCM_ROLE_TOTAL].amount, 780.0 * 3590.0 / 3600.0, 1e-9);
    assert_double_rel(h->t.role[DCM_ROLE_TOTAL].derived, 780.0 * 3590.0 / 3600.0, 1e-9);
    assert_double_equal(h->k.pue.value, 1.3, 1e-9);
    assert_int_equal(h->k.pue.quality, DCM_QUALITY_OK);
    assert_double_equal(h->k.wue.value, 1.2 * 1000.0 / 600.0, 1e-9);
    assert_double_equal(h->k.coverage, 3590.0 / 3600.0, 1e-9);

    /* Minutes and quarters add up to the hour. */
    double sum_m = 0, sum_q = 0;
    int minutes = 0, quarters = 0;
    for (size_t i = 0; i < s.n; i++) {
        const rec *r = &s.v[i];
        if (r->start < T0 || r->end > T0 + S(3600))
            continue;
        if (r->w == DCM_WINDOW_1M) {
            sum_m += r->t.role[DCM_ROLE_IT].amount;
            minutes++;
            assert_int_equal(r->end - r->start, M(1));
            if (r->start > T0) {
                assert_double_equal(r->k.pue.value, 1.3, 1e-9);
                assert_double_equal(r->t.role[DCM_ROLE_IT].amount, 10.0, 1e-9);
                assert_int_equal(r->k.quality, DCM_QUALITY_OK);
            }
        } else if (r->w == DCM_WINDOW_15M) {
            sum_q += r->t.role[DCM_ROLE_IT].amount;
            quarters++;
        }
    }
    assert_int_equal(minutes, 60);
    assert_int_equal(quarters, 4);
    assert_double_rel(sum_m, rit->amount, 1e-12);
    assert_double_rel(sum_q, rit->amount, 1e-12);
    /* The first minute had 50 s of data: partial. */
    const rec *first = find(&s, DCM_WINDOW_1M, T0);
    assert_non_null(first);
    assert_double_equal(first->t.role[DCM_ROLE_IT].covered_s, 50.0, 1e-9);
    assert_int_equal(first->k.quality, DCM_QUALITY_PARTIAL);
    /* Minute T0+60 is closed too (advance past its end + grace); T0+61 is not. */
    assert_non_null(find(&s, DCM_WINDOW_1M, T0 + M(60)));
    assert_null(find(&s, DCM_WINDOW_1M, T0 + M(61)));
    assert_int_equal(s.count[DCM_WINDOW_1D], 0);
    assert_true(s.ordered);
    dcm_engine_destroy(e);
    free(s.v);
}

static void test_window_selection(void **state)
{
    (void)state;
    sink s;
    sink_init(&s, 0);
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.windows = BIT(DCM_WINDOW_1H) | BIT(DCM_WINDOW_1D);
    dcm_engine *e = make(&cfg, &s);
    uint32_t it = add(e, pdef(DCM_QTY_ENERGY, DCM_KIND_COUNTER, DCM_ROLE_IT));
    for (int i = 0; i <= 26 * 60; i++)
        dcm_engine_feed(e, it, T0 + M(i) + S(30), (double)i, DCM_QUALITY_OK);
    dcm_engine_advance(e, T0 + M(26 * 60 + 2));
    assert_int_equal(s.count[DCM_WINDOW_1M], 0);
    assert_int_equal(s.count[DCM_WINDOW_15M], 0);
    assert_int_equal(s.count[DCM_WINDOW_1H], 26);
    assert_int_equal(s.count[DCM_WINDOW_1D], 1);
    assert_int_equal(s.count[DCM_WINDOW_MONTH], 0);
    assert_true(s.ordered);
    dcm_engine_destroy(e);
}

/* A sample after its minute closed: the part before the oldest open minute goes to that
 * minute, estimated, without coverage of the closed time. */
static void test_late_increment(void **state)
{
    (void)state;
    sink s;
    sink_init(&s, BIT(DCM_WINDOW_1M));
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    dcm_engine *e = make(&cfg, &s);
    dcm_point_def d = pdef(DCM_QTY_ENERGY, DCM_KIND_COUNTER, DCM_ROLE_IT);
    d.max_gap_ns = M(10);
    uint32_t it = add(e, d);
    assert_true(dcm_engine_feed(e, it, T0 + S(10), 100.0, DCM_QUALITY_OK));
    dcm_engine_advance(e, T0 + M(5) + S(5));
    assert_int_equal(s.count[DCM_WINDOW_1M], 5);
    assert_true(dcm_engine_feed(e, it, T0 + M(5) + S(30), 132.0, DCM_QUALITY_OK));
    dcm_engine_advance(e, T0 + M(7));
    const rec *r = find(&s, DCM_WINDOW_1M, T0 + M(5));
    assert_non_null(r);
    const dcm_role_sum *x = &r->t.role[DCM_ROLE_IT];
    assert_double_equal(x->amount, 32.0, 1e-9);
    assert_double_equal(x->estimated, 32.0 * 290.0 / 320.0, 1e-9);
    assert_double_equal(x->covered_s, 30.0, 1e-9);
    assert_int_equal(r->k.estimated_share, 0); /* no E_DC in this site */
    /* The earlier minutes were closed empty. */
    const rec *r1 = find(&s, DCM_WINDOW_1M, T0 + M(1));
    assert_non_null(r1);
    assert_double_equal(r1->t.role[DCM_ROLE_IT].amount, 0.0, 0);
    assert_double_equal(r1->t.role[DCM_ROLE_IT].expected_s, 60.0, 0);
    dcm_engine_destroy(e);
    free(s.v);
}

/* Persisting closed + open_partial + state at each minute close loses nothing and counts
 * nothing twice across a restart. */
typedef struct persist {
    double closed_sum;
    dcm_point_acc open;
    dcm_point_state st;
    int calls;
    uint32_t ids_seen;
} persist;

static void on_minute(void *ctx, uint32_t id, int64_t start, int64_t end,
                      const dcm_point_acc *closed, const dcm_point_acc *open_partial,
                      const dcm_point_state *st)
{
    persist *p = ctx;
    assert_int_equal(end - start, M(1));
    p->ids_seen |= 1u << id;
    p->calls++;
    if (id != 0)
        return;
    p->closed_sum += closed->amount;
    p->open = *open_partial;
    p->st = *st;
}

static double reading(int64_t s)
{
    return 1000.0 + 0.5 * (double)s;
}

static void test_restart_no_double_count(void **state)
{
    (void)state;
    persist p;
    memset(&p, 0, sizeof(p));
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.on_point_minute = on_minute;
    cfg.on_point_minute_ctx = &p;
    dcm_engine *a = NULL;
    assert_int_equal(dcm_engine_create(&cfg, &a), DCM_METRICS_OK);
    uint32_t it = 0, other = 0;
    assert_int_equal(dcm_engine_add_point(a, &(dcm_point_def){.kind = DCM_KIND_COUNTER,
                                                   .roles = DCM_ROLE_BIT(DCM_ROLE_IT),
                                                   .zone = -1},
                                          &it),
                     DCM_METRICS_OK);
    dcm_point_def silent = pdef(DCM_QTY_ENERGY, DCM_KIND_GAUGE, DCM_ROLE_COOLING);
    assert_int_equal(dcm_engine_add_point(a, &silent, &other), DCM_METRICS_OK);
    assert_int_equal(other, 1);
    for (int64_t s = 10; s <= 200; s++) {
        dcm_engine_feed(a, it, T0 + S(s), reading(s), DCM_QUALITY_OK);
        dcm_engine_advance(a, T0 + S(s));
    }
    /* Minutes 0, 1, 2 closed; the callback ran for both points, the silent one too. */
    assert_int_equal(p.calls, 6);
    assert_int_equal(p.ids_seen, 3u);
    assert_int_equal(p.st.last_ts_ns, T0 + S(185));
    dcm_engine_destroy(a); /* crash: samples 186..200 were never persisted */

    sink s;
    sink_init(&s, BIT(DCM_WINDOW_1M));
    memset(&cfg, 0, sizeof(cfg));
    dcm_engine *b = make(&cfg, &s);
    it = add(b, pdef(DCM_QTY_ENERGY, DCM_KIND_COUNTER, DCM_ROLE_IT));
    assert_int_equal(dcm_engine_restore_point(b, it, &p.st), DCM_METRICS_OK);
    assert_int_equal(dcm_engine_point_state(b, it)->last_ts_ns, T0 + S(185));
    assert_true(dcm_engine_feed(b, it, T0 + S(300), reading(300), DCM_QUALITY_OK));
    dcm_engine_advance(b, T0 + S(420));
    double after = 0;
    for (size_t i = 0; i < s.n; i++)
        after += s.v[i].t.role[DCM_ROLE_IT].amount;
    assert_double_rel(p.closed_sum + p.open.amount + after, reading(300) - reading(10), 1e-12);
    /* The downtime before the open minutes landed in the oldest open minute, estimated. */
    const rec *r = find(&s, DCM_WINDOW_1M, T0 + M(4));
    assert_non_null(r);
    assert_double_equal(r->t.role[DCM_ROLE_IT].estimated, 0.5 * 55.0, 1e-9);
    assert_null(dcm_engine_point_state(b, 7));
    dcm_point_state bad = p.st;
    bad.last_value = NAN;
    assert_int_equal(dcm_engine_restore_point(b, it, &bad), DCM_METRICS_EINVAL);
    assert_int_equal(dcm_engine_restore_point(b, 9, &p.st), DCM_METRICS_EINVAL);
    dcm_engine_destroy(b);
    free(s.v);
}

static void peek_cb(void *ctx, const dcm_kpi_record *r)
{
    rec *x = ctx;
    x->w = r->window;
    x->start = r->start_ns;
    x->end = r->end_ns;
    x->interim = r->interim;
    x->t = *r->totals;
    x->k = *r->kpi;
}

/* A meter that counts in 0.1 kWh steps, read every second at a steady 600 kW: each read
 * sees a step of 0 or 0.1 kWh (0 or 360 kW over one second). The live rate is taken over
 * the last 60..120 s, so the "now" value stays within 2 % of 600 kW instead of jumping. */
static void test_instant_rate_of_coarse_counter(void **state)
{
    (void)state;
    sink s;
    sink_init(&s, 0);
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    dcm_engine *e = make(&cfg, &s);
    uint32_t it = add(e, pdef(DCM_QTY_ENERGY, DCM_KIND_COUNTER, DCM_ROLE_IT));
    rec r;
    double worst = 0.0;
    for (int64_t sec = 0; sec <= 600; sec++) {
        double exact = 1000.0 + 600.0 * (double)sec / 3600.0; /* kWh */
        double shown = floor(exact * 10.0) / 10.0;           /* 0.1 kWh resolution */
        dcm_engine_feed(e, it, T0 + S(sec), shown, DCM_QUALITY_OK);
        dcm_engine_advance(e, T0 + S(sec));
        if (sec < 120)
            continue;
        dcm_engine_peek(e, DCM_WINDOW_INSTANT, T0 + S(sec), peek_cb, &r);
        double err = fabs(r.t.role[DCM_ROLE_IT].amount - 600.0) / 600.0;
        if (err > worst)
            worst = err;
    }
    assert_true(worst < 0.02);
    dcm_engine_destroy(e);
    free(s.v);
}

static void test_instant_and_stale(void **state)
{
    (void)state;
    sink s;
    sink_init(&s, 0);
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    dcm_engine *e = make(&cfg, &s);
    uint32_t it1 = add(e, pdef(DCM_QTY_ENERGY, DCM_KIND_GAUGE, DCM_ROLE_IT));
    uint32_t it2 = add(e, pdef(DCM_QTY_ENERGY, DCM_KIND_COUNTER, DCM_ROLE_IT));
    uint32_t tot = add(e, pdef(DCM_QTY_ENERGY, DCM_KIND_GAUGE, DCM_ROLE_TOTAL));
    uint32_t cpu = add(e, pdef(DCM_QTY_UTILISATION, DCM_KIND_GAUGE, DCM_ROLE_SERVERS));
    uint32_t temp = add(e, pdef(DCM_QTY_OTHER, DCM_KIND_GAUGE, DCM_ROLE_IT));
    rec r;
    /* Nothing seen yet: nulls, no NaN. */
    dcm_engine_peek(e, DCM_WINDOW_INSTANT, T0, peek_cb, &r);
    assert_int_equal(r.w, DCM_WINDOW_INSTANT);
    assert_false(r.k.pue.has_value);
    for (int i = 0; i <= 60; i++) {
        int64_t ts = T0 + S(i);
        dcm_engine_feed(e, it1, ts, 400.0, DCM_QUALITY_OK);
        dcm_engine_feed(e, it2, ts, 1000.0 + 200.0 * i / 3600.0, DCM_QUALITY_OK);
        dcm_engine_feed(e, tot, ts, 750.0, DCM_QUALITY_OK);
        dcm_engine_feed(e, cpu, ts, 40.0, DCM_QUALITY_OK);
        dcm_engine_feed(e, temp, ts, 24.0, DCM_QUALITY_OK);
    }
    dcm_engine_peek(e, DCM_WINDOW_INSTANT, T0 + S(61), peek_cb, &r);
    assert_int_equal(r.start, T0 + S(61));
    assert_int_equal(r.end, T0 + S(61));
    assert_false(r.interim);
    assert_double_equal(r.t.role[DCM_ROLE_IT].amount, 600.0, 1e-6);
    assert_double_equal(r.t.role[DCM_ROLE_TOTAL].amount, 750.0, 0);
    assert_double_equal(r.k.pue.value, 1.25, 1e-9);
    assert_int_equal(r.k.pue.quality, DCM_QUALITY_OK);
    assert_double_equal(r.k.iteu_sv.value, 40.0, 0);
    /* it2 goes quiet: half the IT points are stale -> partial; then everything is. */
    for (int i = 61; i <= 300; i++) {
        int64_t ts = T0 + S(i);
        dcm_engine_feed(e, it1, ts, 400.0, DCM_QUALITY_OK);
        dcm_engine_feed(e, tot, ts, 750.0, DCM_QUALITY_OK);
        dcm_engine_feed(e, cpu, ts, 40.0, DCM_QUALITY_OK);
    }
    dcm_engine_peek(e, DCM_WINDOW_INSTANT, T0 + S(300), peek_cb, &r);
    assert_double_equal(dcm_role_coverage(&r.t.role[DCM_ROLE_IT]), 0.5, 0);
    assert_double_equal(r.k.pue.value, 1.25, 1e-9); /* the last known rate still counts */
    assert_int_equal(r.k.pue.quality, DCM_QUALITY_PARTIAL);
    /* A bad-quality reading is not integrated and makes the total not fresh. */
    assert_false(dcm_engine_feed(e, tot, T0 + S(301), 9999.0, DCM_QUALITY_INVALID));
    dcm_engine_peek(e, DCM_WINDOW_INSTANT, T0 + S(301), peek_cb, &r);
    assert_int_equal(r.k.pue.quality, DCM_QUALITY_STALE);
    assert_double_equal(r.t.role[DCM_ROLE_TOTAL].amount, 750.0, 0);
    dcm_engine_peek(e, DCM_WINDOW_INSTANT, T0 + S(900), peek_cb, &r);
    assert_int_equal(r.k.pue.quality, DCM_QUALITY_STALE);
    assert_int_equal(r.k.iteu_sv.quality, DCM_QUALITY_STALE);
    assert_int_equal(r.k.quality, DCM_QUALITY_STALE);
    assert_false(dcm_engine_feed(e, 99, T0 + S(302), 1.0, DCM_QUALITY_OK));
    dcm_engine_destroy(e);
}

static void test_interim_windows(void **state)
{
    (void)state;
    sink s;
    sink_init(&s, 0);
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    dcm_instrument_period certs = {.start_ns = T0, .end_ns = T0 + S(365 * 86400), .kwh = 87600.0};
    cfg.instruments = &certs;
    cfg.instrument_count = 1;
    dcm_engine *e = make(&cfg, &s);
    uint32_t it = add(e, pdef(DCM_QTY_ENERGY, DCM_KIND_COUNTER, DCM_ROLE_IT));
    uint32_t tot = add(e, pdef(DCM_QTY_ENERGY, DCM_KIND_GAUGE, DCM_ROLE_TOTAL));
    uint32_t water = add(e, pdef(DCM_QTY_VOLUME, DCM_KIND_COUNTER, DCM_ROLE_WATER));
    feed_site(e, it, tot, water, 10, 7200);
    rec r;
    const dcm_window ws[] = {DCM_WINDOW_1M, DCM_WINDOW_15M, DCM_WINDOW_1H, DCM_WINDOW_1D,
                             DCM_WINDOW_MONTH, DCM_WINDOW_YEAR, DCM_WINDOW_TTM};
    for (size_t i = 0; i < sizeof(ws) / sizeof(ws[0]); i++) {
        dcm_engine_peek(e, ws[i], T0 + S(7199), peek_cb, &r);
        assert_int_equal(r.w, ws[i]);
        assert_true(r.interim);
        assert_true(r.start <= T0 + S(7199) && T0 + S(7199) < r.end);
        assert_double_equal(r.k.pue.value, 1.3, 1e-9);
    }
    /* Month to date: two hours, everything including the open minutes. */
    dcm_engine_peek(e, DCM_WINDOW_MONTH, T0 + S(7200), peek_cb, &r);
    assert_int_equal(r.start, T0);
    assert_int_equal(r.end, T0 + S(31 * 86400));
    assert_double_rel(r.t.role[DCM_ROLE_IT].amount, 600.0 * 7190.0 / 3600.0, 1e-9);
    assert_double_equal(r.t.role[DCM_ROLE_IT].expected_s, 7200.0, 0);
    assert_int_equal(r.k.pue.quality, DCM_QUALITY_OK);
    /* Certificates pro-rated to the two hours: 20 kWh. */
    assert_double_equal(r.t.instruments.certificates_kwh, 20.0, 1e-9);
    assert_double_equal(r.k.renewable_kwh.value, 20.0, 1e-9);
    /* TTM to date: eleven months before were never seen: low coverage. */
    dcm_engine_peek(e, DCM_WINDOW_TTM, T0 + S(7200), peek_cb, &r);
    assert_int_equal(r.start, dcm_calendar_local_to_utc(NULL, 2025, 2, 1, 0, 0, 0));
    assert_true(r.k.coverage < 0.01);
    assert_int_equal(r.k.pue.quality, DCM_QUALITY_PARTIAL);
    assert_int_equal(s.count[DCM_WINDOW_1H], 1);
    dcm_engine_destroy(e);
}

/* ITEUsv over a window is the mean of per-server means, not a mean of minute values. */
static void test_util_window_means(void **state)
{
    (void)state;
    sink s;
    sink_init(&s, BIT(DCM_WINDOW_1M) | BIT(DCM_WINDOW_15M) | BIT(DCM_WINDOW_1H));
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    dcm_engine *e = make(&cfg, &s);
    uint32_t a = add(e, pdef(DCM_QTY_UTILISATION, DCM_KIND_GAUGE, DCM_ROLE_SERVERS));
    uint32_t b = add(e, pdef(DCM_QTY_UTILISATION, DCM_KIND_GAUGE, DCM_ROLE_SERVERS));
    uint32_t g = add(e, pdef(DCM_QTY_UTILISATION, DCM_KIND_GAUGE, DCM_ROLE_ACCELERATORS));
    for (int i = 0; i <= 3600; i++) {
        int64_t ts = T0 + S(i);
        dcm_engine_feed(e, a, ts, 50.0, DCM_QUALITY_OK);
        if (i <= 1800)
            dcm_engine_feed(e, b, ts, 80.0, DCM_QUALITY_OK);
        dcm_engine_feed(e, g, ts, i < 1800 ? 10.0 : 90.0, DCM_QUALITY_OK);
    }
    dcm_engine_advance(e, T0 + S(3600 + 65));
    const rec *h = find(&s, DCM_WINDOW_1H, T0);
    assert_non_null(h);
    assert_double_equal(h->k.iteu_sv.value, 65.0, 1e-9);
    assert_int_equal(h->t.role[DCM_ROLE_SERVERS].points, 2);
    assert_int_equal(h->k.iteu_sv.quality, DCM_QUALITY_PARTIAL); /* b covered half the hour */
    assert_double_equal(h->k.accel_util.value, 50.0, 0.05);
    double mean_of_minutes = 0;
    for (int m = 0; m < 60; m++) {
        const rec *r = find(&s, DCM_WINDOW_1M, T0 + M(m));
        assert_non_null(r);
        mean_of_minutes += r->k.iteu_sv.value / 60;
    }
    assert_double_equal(mean_of_minutes, 57.5, 1e-9);
    const rec *q1 = find(&s, DCM_WINDOW_15M, T0);
    const rec *q4 = find(&s, DCM_WINDOW_15M, T0 + M(45));
    assert_non_null(q1);
    assert_non_null(q4);
    assert_double_equal(q1->k.iteu_sv.value, 65.0, 1e-9);
    assert_double_equal(q4->k.iteu_sv.value, 50.0, 1e-9);
    assert_int_equal(q4->t.role[DCM_ROLE_SERVERS].points, 1);
    dcm_engine_destroy(e);
    free(s.v);
}


/* Started a few seconds into a minute, the engine keeps the previous minute open for late
 * samples. When nothing lands in it, no record is emitted for it: it predates the agent. */
static void test_no_record_before_first_event(void **state)
{
    (void)state;
    sink s;
    sink_init(&s, BIT(DCM_WINDOW_1M));
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    dcm_engine *e = make(&cfg, &s);
    uint32_t it = add(e, pdef(DCM_QTY_ENERGY, DCM_KIND_COUNTER, DCM_ROLE_IT));
    for (int64_t sec = 2; sec <= 130; sec++) {
        dcm_engine_feed(e, it, T0 + S(sec), 100.0 + (double)sec, DCM_QUALITY_OK);
        dcm_engine_advance(e, T0 + S(sec));
    }
    assert_null(find(&s, DCM_WINDOW_1M, T0 - M(1)));
    const rec *first = find(&s, DCM_WINDOW_1M, T0);
    assert_non_null(first);
    assert_double_rel(first->t.role[DCM_ROLE_IT].amount, 58.0, 1e-12);
    assert_int_equal(s.count[DCM_WINDOW_1M], 2);
    dcm_engine_destroy(e);
    free(s.v);
}


/* After a restart the ledger's history goes back into the open windows: a span inside the
 * hour reaches the hour (and the day), a partial open minute reaches that minute, and
 * utilisation history keeps the hour's mean a mean of per-server means. */
static void test_seed_history(void **state)
{
    (void)state;
    sink s;
    sink_init(&s, BIT(DCM_WINDOW_1M) | BIT(DCM_WINDOW_1H));
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    dcm_engine *e = make(&cfg, &s);
    uint32_t it = add(e, pdef(DCM_QTY_ENERGY, DCM_KIND_COUNTER, DCM_ROLE_IT));
    uint32_t cpu = add(e, pdef(DCM_QTY_UTILISATION, DCM_KIND_GAUGE, DCM_ROLE_SERVERS));
    dcm_point_acc hist = {.amount = 30.0, .covered_s = 1800, .samples = 1800};
    dcm_point_acc util = {.amount = 0.5 * 80.0, .covered_s = 1800, .samples = 1800}; /* 80 % */
    dcm_point_acc part = {.amount = 0.25, .covered_s = 15, .samples = 15};

    /* Not started yet: refused. */
    assert_int_equal(dcm_engine_seed_point(e, it, T0, T0 + M(30), &hist), DCM_METRICS_EINVAL);
    dcm_engine_advance(e, T0 + M(30) + S(10)); /* open minutes: 30 and 31 */
    assert_int_equal(dcm_engine_open_start(e), T0 + M(30));
    assert_int_equal(dcm_engine_seed_point(e, it, T0, T0 + M(30), &hist), DCM_METRICS_OK);
    assert_int_equal(dcm_engine_seed_point(e, cpu, T0, T0 + M(30), &util), DCM_METRICS_OK);
    assert_int_equal(dcm_engine_seed_point(e, it, T0 + M(30), T0 + M(31), &part), DCM_METRICS_OK);
    /* Straddling the open minute's start: refused. */
    assert_int_equal(dcm_engine_seed_point(e, it, T0 + M(29), T0 + M(31), &part),
                     DCM_METRICS_EINVAL);
    assert_int_equal(dcm_engine_seed_point(e, 99, T0, T0 + M(30), &hist), DCM_METRICS_EINVAL);

    /* The rest of the hour: 1 kWh a minute from minute 30 on, CPU at 40 %. */
    for (int64_t sec = 30 * 60 + 15; sec <= 61 * 60; sec += 15) {
        dcm_engine_feed(e, it, T0 + S(sec), 1000.0 + (double)sec / 60.0, DCM_QUALITY_OK);
        dcm_engine_feed(e, cpu, T0 + S(sec), 40.0, DCM_QUALITY_OK);
        dcm_engine_advance(e, T0 + S(sec));
    }
    const rec *m30 = find(&s, DCM_WINDOW_1M, T0 + M(30));
    assert_non_null(m30);
    /* the seeded quarter-minute plus the 45 s this engine measured */
    assert_double_rel(m30->t.role[DCM_ROLE_IT].amount, 0.25 + 0.75, 1e-12);
    const rec *h = find(&s, DCM_WINDOW_1H, T0);
    assert_non_null(h);
    assert_double_rel(h->t.role[DCM_ROLE_IT].amount, 30.0 + 30.0, 1e-12);
    /* one server: (80 % for 30 min + 40 % for ~30 min) / hour, a time-weighted mean */
    assert_true(h->t.role[DCM_ROLE_SERVERS].amount > 59.0 && h->t.role[DCM_ROLE_SERVERS].amount < 61.0);
    dcm_engine_destroy(e);
    free(s.v);
}

/* ---------------------------------------------- a billed year: examples A and B */

static const double ex_it[12] = {700, 640, 720, 710, 750, 760, 800, 810, 780, 790, 770, 800};
static const double ex_dc[12] = {875, 806, 922, 937, 1035, 1132, 1240, 1247, 1131, 1043, 978, 1000};

static int64_t month_utc(int year, int month)
{
    return dcm_calendar_local_to_utc(NULL, year, month, 1, 0, 0, 0);
}

static dcm_engine *billed_engine(sink *s, uint32_t *it, uint32_t *dc)
{
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.windows = BIT(DCM_WINDOW_MONTH) | BIT(DCM_WINDOW_YEAR) | BIT(DCM_WINDOW_TTM);
    dcm_engine *e = make(&cfg, s);
    dcm_point_def d = pdef(DCM_QTY_ENERGY, DCM_KIND_DELTA, DCM_ROLE_IT);
    d.nominal_interval_ns = S(31 * 86400);
    *it = add(e, d);
    d.roles = DCM_ROLE_BIT(DCM_ROLE_TOTAL);
    *dc = add(e, d);
    return e;
}

static void test_billed_year_ttm(void **state)
{
    (void)state;
    sink s;
    sink_init(&s, BIT(DCM_WINDOW_MONTH) | BIT(DCM_WINDOW_YEAR) | BIT(DCM_WINDOW_TTM));
    uint32_t it, dc;
    dcm_engine *e = billed_engine(&s, &it, &dc);
    for (int m = 0; m < 12; m++) {
        int64_t ts = month_utc(2025, m + 2); /* the bill for month m+1 ends at its close */
        assert_true(dcm_engine_feed(e, it, ts, ex_it[m] * 1000.0, DCM_QUALITY_OK));
        assert_true(dcm_engine_feed(e, dc, ts, ex_dc[m] * 1000.0, DCM_QUALITY_OK));
    }
    dcm_engine_advance(e, month_utc(2026, 1) + S(5));
    assert_int_equal(s.count[DCM_WINDOW_MONTH], 12);
    assert_int_equal(s.count[DCM_WINDOW_TTM], 12);
    assert_int_equal(s.count[DCM_WINDOW_YEAR], 1);
    dcm_totals q;
    for (int m = 0; m < 12; m++) {
        const rec *r = find(&s, DCM_WINDOW_MONTH, month_utc(2025, m + 1));
        assert_non_null(r);
        assert_int_equal(r->end, month_utc(2025, m + 2));
        assert_double_rel(r->t.role[DCM_ROLE_IT].amount, ex_it[m] * 1000.0, 1e-12);
        assert_double_rel(r->t.role[DCM_ROLE_TOTAL].amount, ex_dc[m] * 1000.0, 1e-12);
        assert_double_equal(r->k.pue.value, ex_dc[m] / ex_it[m], 1e-12);
        /* A bill's split in time is a guess: the months are marked partial. */
        assert_int_equal(r->k.pue.quality, DCM_QUALITY_PARTIAL);
        /* B: quarters from the month records. */
        if (m % 3 == 0)
            q = r->t;
        else
            dcm_totals_merge(&q, &r->t);
        if (m % 3 == 2) {
            const double want[4] = {1.2636, 1.3982, 1.5138, 1.2801};
            dcm_kpi_set k;
            dcm_kpi_compute(&q, NULL, &k);
            assert_double_equal(k.pue.value, want[m / 3], 5e-5);
        }
    }
    const rec *y = find(&s, DCM_WINDOW_YEAR, month_utc(2025, 1));
    assert_non_null(y);
    assert_double_equal(y->k.pue.value, 1.3672, 5e-5);
    assert_double_equal(y->k.pue.value, 12346.0 / 9030.0, 1e-12);
    assert_double_equal(y->k.dcie.value, 0.7314, 5e-5);
    /* TTM at December: the annual figure. Earlier TTMs miss the months before January. */
    const rec *ttm_dec = NULL, *ttm_jun = NULL;
    for (size_t i = 0; i < s.n; i++) {
        if (s.v[i].w != DCM_WINDOW_TTM)
            continue;
        if (s.v[i].end == month_utc(2026, 1))
            ttm_dec = &s.v[i];
        if (s.v[i].end == month_utc(2025, 7))
            ttm_jun = &s.v[i];
    }
    assert_non_null(ttm_dec);
    assert_non_null(ttm_jun);
    assert_int_equal(ttm_dec->start, month_utc(2025, 1));
    assert_double_equal(ttm_dec->k.pue.value, 1.3672, 5e-5);
    assert_int_equal(ttm_jun->start, month_utc(2024, 7));
    /* Expected over the whole twelve months; covered only where months were seen (a
     * bill covers the minute it arrives in, the rest of its month is estimated). */
    assert_double_equal(ttm_jun->t.role[DCM_ROLE_IT].expected_s,
                        (double)(month_utc(2025, 7) - month_utc(2024, 7)) / 1e9, 0);
    assert_double_equal(ttm_jun->t.role[DCM_ROLE_IT].covered_s, 6 * 60.0, 1e-9);
    assert_double_equal(ttm_jun->k.pue.value, (875 + 806 + 922 + 937 + 1035 + 1132.0) /
                                                  (700 + 640 + 720 + 710 + 750 + 760.0),
                        1e-12);
    assert_int_equal(ttm_jun->k.pue.quality, DCM_QUALITY_PARTIAL);
    assert_true(s.ordered);
    dcm_engine_destroy(e);

    /* A restarted engine seeded with January..November from its ledger: the December
     * TTM covers the whole year again. */
    sink s2;
    sink_init(&s2, BIT(DCM_WINDOW_TTM));
    dcm_engine *e2 = billed_engine(&s2, &it, &dc);
    for (int m = 0; m < 11; m++) {
        const rec *r = find(&s, DCM_WINDOW_MONTH, month_utc(2025, m + 1));
        assert_int_equal(dcm_engine_seed_month(e2, &r->t), DCM_METRICS_OK);
    }
    dcm_totals bad = find(&s, DCM_WINDOW_MONTH, month_utc(2025, 3))->t;
    bad.start_ns += S(3600);
    assert_int_equal(dcm_engine_seed_month(e2, &bad), DCM_METRICS_EINVAL);
    assert_true(dcm_engine_feed(e2, it, month_utc(2026, 1), 800e3, DCM_QUALITY_OK));
    assert_true(dcm_engine_feed(e2, dc, month_utc(2026, 1), 1000e3, DCM_QUALITY_OK));
    dcm_engine_advance(e2, month_utc(2026, 1) + S(5));
    assert_int_equal(s2.count[DCM_WINDOW_TTM], 1);
    assert_double_equal(s2.v[0].k.pue.value, 12346.0 / 9030.0, 1e-12);
    assert_double_rel(s2.v[0].t.role[DCM_ROLE_IT].amount, 9030e3, 1e-12);
    assert_double_equal(s2.v[0].t.role[DCM_ROLE_IT].covered_s, 12 * 60.0, 1e-9);
    assert_double_equal(s2.v[0].t.role[DCM_ROLE_IT].expected_s,
                        (double)(month_utc(2026, 1) - month_utc(2025, 1)) / 1e9, 0);
    dcm_engine_destroy(e2);
    free(s.v);
    free(s2.v);
}

/* A simulated year fed minute by minute closes every window of the year, in order. */
static void test_year_of_minutes(void **state)
{
    (void)state;
    sink s;
    sink_init(&s, BIT(DCM_WINDOW_MONTH) | BIT(DCM_WINDOW_YEAR));
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    dcm_engine *e = make(&cfg, &s);
    uint32_t it = add(e, pdef(DCM_QTY_ENERGY, DCM_KIND_COUNTER, DCM_ROLE_IT));
    uint32_t tot = add(e, pdef(DCM_QTY_ENERGY, DCM_KIND_COUNTER, DCM_ROLE_TOTAL));
    const int minutes = 365 * 1440;
    for (int i = 0; i <= minutes; i++) {
        int64_t ts = T0 + M(i) + S(30);
        dcm_engine_feed(e, it, ts, 100.0 + 10.0 * i, DCM_QUALITY_OK);
        dcm_engine_feed(e, tot, ts, 100.0 + 12.0 * i, DCM_QUALITY_OK);
    }
    dcm_engine_advance(e, T0 + M(minutes + 2));
    assert_int_equal(s.count[DCM_WINDOW_1M], minutes + 1);
    assert_int_equal(s.count[DCM_WINDOW_15M], 365 * 96);
    assert_int_equal(s.count[DCM_WINDOW_1H], 365 * 24);
    assert_int_equal(s.count[DCM_WINDOW_1D], 365);
    assert_int_equal(s.count[DCM_WINDOW_MONTH], 12);
    assert_int_equal(s.count[DCM_WINDOW_TTM], 12);
    assert_int_equal(s.count[DCM_WINDOW_YEAR], 1);
    assert_true(s.ordered);
    const rec *y = find(&s, DCM_WINDOW_YEAR, T0);
    assert_non_null(y);
    double sum = 0;
    for (size_t i = 0; i < s.n; i++)
        if (s.v[i].w == DCM_WINDOW_MONTH)
            sum += s.v[i].t.role[DCM_ROLE_IT].amount;
    /* The first 30 s of the year precede the first reading. */
    assert_double_rel(y->t.role[DCM_ROLE_IT].amount, 10.0 * minutes - 5.0, 1e-12);
    assert_double_rel(sum, y->t.role[DCM_ROLE_IT].amount, 1e-12);
    assert_double_equal(y->k.pue.value, 1.2, 1e-9);
    assert_int_equal(y->k.pue.quality, DCM_QUALITY_OK);
    dcm_engine_destroy(e);
    free(s.v);
}

/* A jump of a year with nothing in between: every window still closes, quickly. */
static void test_fast_forward_gap(void **state)
{
    (void)state;
    sink s;
    sink_init(&s, BIT(DCM_WINDOW_YEAR));
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.windows = (1u << DCM_WINDOW_COUNT) - 1u - BIT(DCM_WINDOW_1M);
    dcm_engine *e = make(&cfg, &s);
    uint32_t it = add(e, pdef(DCM_QTY_ENERGY, DCM_KIND_COUNTER, DCM_ROLE_IT));
    assert_true(dcm_engine_feed(e, it, T0 + S(10), 0.0, DCM_QUALITY_OK));
    assert_true(dcm_engine_feed(e, it, T0 + S(20), 1.0, DCM_QUALITY_OK));
    int64_t later = dcm_calendar_local_to_utc(NULL, 2027, 1, 1, 0, 2, 30);
    assert_true(dcm_engine_feed(e, it, later, 5001.0, DCM_QUALITY_OK));
    assert_int_equal(s.count[DCM_WINDOW_1M], 0);
    assert_int_equal(s.count[DCM_WINDOW_15M], 365 * 96);
    assert_int_equal(s.count[DCM_WINDOW_1D], 365);
    assert_int_equal(s.count[DCM_WINDOW_MONTH], 12);
    assert_int_equal(s.count[DCM_WINDOW_YEAR], 1);
    assert_true(s.ordered);
    /* The year's IT: the first 10 s of readings; the rest came after, into the open minute. */
    assert_double_equal(s.v[0].t.role[DCM_ROLE_IT].amount, 1.0, 1e-12);
    assert_int_equal(s.v[0].k.quality, DCM_QUALITY_INVALID);
    dcm_engine_advance(e, later + M(2));
    rec r;
    dcm_engine_peek(e, DCM_WINDOW_YEAR, later + M(2), peek_cb, &r);
    assert_double_equal(r.t.role[DCM_ROLE_IT].amount, 5000.0, 1e-9);
    assert_double_equal(r.t.role[DCM_ROLE_IT].estimated, 5000.0, 1e-9);
    dcm_engine_destroy(e);
    free(s.v);
}

static void test_config_errors(void **state)
{
    (void)state;
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    dcm_engine *e = (dcm_engine *)&cfg;
    assert_int_equal(dcm_engine_create(NULL, &e), DCM_METRICS_EINVAL);
    assert_int_equal(dcm_engine_create(&cfg, NULL), DCM_METRICS_EINVAL);
    cfg.grace_ns = M(1);
    assert_int_equal(dcm_engine_create(&cfg, &e), DCM_METRICS_EINVAL);
    assert_null(e);
    cfg.grace_ns = 0;
    cfg.zone_count = DCM_MAX_ZONES + 1;
    assert_int_equal(dcm_engine_create(&cfg, &e), DCM_METRICS_ELIMIT);
    cfg.zone_count = 2;
    cfg.instrument_count = 1;
    assert_int_equal(dcm_engine_create(&cfg, &e), DCM_METRICS_EINVAL);
    dcm_instrument_period ip = {.start_ns = T0, .end_ns = T0 - 1, .kwh = 1};
    cfg.instruments = &ip;
    assert_int_equal(dcm_engine_create(&cfg, &e), DCM_METRICS_EINVAL);
    ip.end_ns = T0 + 1;
    ip.kwh = NAN;
    assert_int_equal(dcm_engine_create(&cfg, &e), DCM_METRICS_EINVAL);
    ip.kwh = 5;
    cfg.params.carbon.location_factor = INFINITY;
    assert_int_equal(dcm_engine_create(&cfg, &e), DCM_METRICS_EINVAL);
    cfg.params.carbon.location_factor = 0.5;
    assert_int_equal(dcm_engine_create(&cfg, &e), DCM_METRICS_OK);
    ip.kwh = 1e9; /* copied at create: later changes do not reach the engine */

    dcm_point_def d = pdef(DCM_QTY_ENERGY, DCM_KIND_COUNTER, DCM_ROLE_IT);
    uint32_t id;
    d.zone = 2;
    assert_int_equal(dcm_engine_add_point(e, &d, &id), DCM_METRICS_EINVAL);
    d.zone = 1;
    d.zone_part = 3;
    assert_int_equal(dcm_engine_add_point(e, &d, &id), DCM_METRICS_EINVAL);
    d.zone_part = DCM_ZONE_IT;
    d.roles = 1u << DCM_ROLE_COUNT;
    assert_int_equal(dcm_engine_add_point(e, &d, &id), DCM_METRICS_EINVAL);
    d.roles = DCM_ROLE_BIT(DCM_ROLE_IT);
    d.max_rate = -1;
    assert_int_equal(dcm_engine_add_point(e, &d, &id), DCM_METRICS_EINVAL);
    d.max_rate = 0;
    d.max_gap_ns = -1;
    assert_int_equal(dcm_engine_add_point(e, &d, &id), DCM_METRICS_EINVAL);
    d.max_gap_ns = 0;
    d.kind = (dcm_kind)7;
    assert_int_equal(dcm_engine_add_point(e, &d, &id), DCM_METRICS_EINVAL);
    d.kind = DCM_KIND_COUNTER;
    assert_int_equal(dcm_engine_point_count(e), 0);
    assert_int_equal(dcm_engine_add_point(e, &d, &id), DCM_METRICS_OK);
    assert_int_equal(id, 0);
    assert_false(dcm_engine_feed(e, 0, 0, 1.0, DCM_QUALITY_OK));
    assert_false(dcm_engine_feed(e, 0, INT64_MAX, 1.0, DCM_QUALITY_OK));
    assert_true(dcm_engine_feed(e, 0, T0, 1.0, DCM_QUALITY_OK));
    assert_false(dcm_engine_feed(e, 0, T0, 1.0, DCM_QUALITY_OK)); /* order */
    dcm_engine_destroy(e);
    dcm_engine_destroy(NULL);
    assert_string_equal(dcm_metrics_strerror(DCM_METRICS_ELIMIT), "limit reached");
}

/* pPUE per zone and certificates per closed window. */
static void test_zones_and_instruments(void **state)
{
    (void)state;
    sink s;
    sink_init(&s, BIT(DCM_WINDOW_1H));
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.zone_count = 2;
    dcm_instrument_period ip[2] = {
        {.start_ns = T0, .end_ns = T0 + S(10 * 3600), .kwh = 1000.0, .is_ppa = false},
        {.start_ns = T0 + S(3600), .end_ns = T0 + S(3600), .kwh = 50.0, .is_ppa = true},
    };
    cfg.instruments = ip;
    cfg.instrument_count = 2;
    cfg.params.onsite_attributes_retained = true;
    dcm_engine *e = make(&cfg, &s);
    dcm_point_def d = pdef(DCM_QTY_ENERGY, DCM_KIND_GAUGE, DCM_ROLE_IT);
    d.zone = 0;
    d.zone_part = DCM_ZONE_IT;
    uint32_t zi = add(e, d);
    d.roles = DCM_ROLE_BIT(DCM_ROLE_COOLING);
    d.zone_part = DCM_ZONE_OVERHEAD;
    uint32_t zo = add(e, d);
    uint32_t tot = add(e, pdef(DCM_QTY_ENERGY, DCM_KIND_GAUGE, DCM_ROLE_TOTAL));
    for (int i = 0; i <= 3600; i++) {
        int64_t ts = T0 + S(i);
        dcm_engine_feed(e, zi, ts, 500.0, DCM_QUALITY_OK);
        dcm_engine_feed(e, zo, ts, 100.0, DCM_QUALITY_OK);
        dcm_engine_feed(e, tot, ts, 700.0, DCM_QUALITY_OK);
    }
    dcm_engine_advance(e, T0 + S(3600 + 10));
    const rec *h = find(&s, DCM_WINDOW_1H, T0);
    assert_non_null(h);
    assert_double_equal(h->k.ppue[0].value, 1.2, 1e-9);
    assert_false(h->k.ppue[1].has_value);
    assert_double_equal(h->k.pue.value, 1.4, 1e-9);
    assert_double_equal(h->t.instruments.certificates_kwh, 100.0, 1e-9);
    assert_double_equal(h->t.instruments.ppa_kwh, 50.0, 0); /* dated at the hour's end */
    assert_double_equal(h->k.ref.value, 150.0 / 700.0, 1e-9);
    dcm_engine_destroy(e);
    free(s.v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minutes_and_hour),
        cmocka_unit_test(test_no_record_before_first_event),
        cmocka_unit_test(test_seed_history),
        cmocka_unit_test(test_instant_rate_of_coarse_counter),
        cmocka_unit_test(test_window_selection),
        cmocka_unit_test(test_late_increment),
        cmocka_unit_test(test_restart_no_double_count),
        cmocka_unit_test(test_instant_and_stale),
        cmocka_unit_test(test_interim_windows),
        cmocka_unit_test(test_util_window_means),
        cmocka_unit_test(test_billed_year_ttm),
        cmocka_unit_test(test_year_of_minutes),
        cmocka_unit_test(test_fast_forward_gap),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_zones_and_instruments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
