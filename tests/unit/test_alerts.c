/* The alert engine: the alerts section of the configuration (values and errors with their
 * positions), thresholds held for a duration, fire and clear, hysteresis, unknown values,
 * devices offline for N polls, coverage, counter corrections, and the active list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "alerts.h"
#include "dcm/config.h"

#define MIN (INT64_C(60) * DCM_NS_PER_S)
/* 2026-01-05T00:00:00Z */
#define T0 (INT64_C(1767571200) * DCM_NS_PER_S)

/* ------------------------------------------------------------ fixtures */

typedef struct recorder {
    char *json[32];
    char rule[32][64];
    int64_t ts[32];
    size_t count;
} recorder;

static void record_alert(void *ctx, int64_t ts_ns, const char *rule, const char *json)
{
    recorder *r = ctx;
    assert_true(r->count < 32);
    r->json[r->count] = strdup(json);
    snprintf(r->rule[r->count], sizeof r->rule[0], "%s", rule);
    r->ts[r->count] = ts_ns;
    r->count++;
}

static void recorder_free(recorder *r)
{
    for (size_t i = 0; i < r->count; i++)
        free(r->json[i]);
}

static dcm_config *load_ok(const char *yaml)
{
    dcm_diags d;
    dcm_config *cfg = NULL;
    dcm_diags_init(&d);
    dcm_config_err err = dcm_config_load_string(yaml, strlen(yaml), "alerts.yaml", &cfg, &d);
    if (err != DCM_CONFIG_OK)
        dcm_diags_print(&d, stderr);
    assert_int_equal(err, DCM_CONFIG_OK);
    dcm_diags_free(&d);
    return cfg;
}

typedef struct engine {
    dcm_config *cfg;
    dcm_alerts *alerts;
    dcm_runtime_listener l;
    recorder rec;
} engine;

static void engine_start(engine *e, const char *yaml)
{
    memset(e, 0, sizeof *e);
    e->cfg = load_ok(yaml);
    assert_int_equal(dcm_alerts_create(e->cfg, &e->alerts), DCM_ALERTS_OK);
    assert_int_equal(dcm_alerts_add_notify(e->alerts, record_alert, &e->rec), DCM_ALERTS_OK);
    e->l = dcm_alerts_listener(e->alerts);
    assert_true(e->l.instant);
}

static void engine_stop(engine *e)
{
    dcm_alerts_destroy(e->alerts);
    dcm_config_destroy(e->cfg);
    recorder_free(&e->rec);
}

static dcm_opt val(double v)
{
    return (dcm_opt){.value = v, .has_value = true, .quality = DCM_QUALITY_OK};
}

static bool g_interim; /* feed() hands over open-window (interim) records */

/* Feeds a closed record of window w over [start, start + len) with the given PUE and
 * coverage (pue < 0: null). */
static void feed(engine *e, dcm_window w, int64_t start, int64_t len, double pue,
                 double coverage)
{
    dcm_totals t;
    dcm_kpi_set k;
    memset(&k, 0, sizeof k);
    dcm_totals_init(&t, start, start + len, 2);
    if (pue >= 0)
        k.pue = val(pue);
    k.ppue[1] = val(pue >= 0 ? pue : 0);
    k.coverage = coverage;
    k.quality = DCM_QUALITY_OK;
    dcm_kpi_record r = {.window = w,
                        .start_ns = start,
                        .end_ns = w == DCM_WINDOW_INSTANT ? start : start + len,
                        .interim = g_interim, /* instant records: false, as the engine's */
                        .totals = &t,
                        .kpi = &k};
    e->l.on_record(e->l.ctx, &r, e->cfg);
}

static void assert_has(const char *json, const char *needle)
{
    if (!strstr(json, needle))
        fail_msg("'%s' not in %s", needle, json);
}

/* ------------------------------------------------------------- configuration */

static const char *const site_yaml = "agent: {site: hall-1}\n"
                                     "site:\n"
                                     "  zones:\n"
                                     "    - {name: hall-a, it: [x.it.a]}\n"
                                     "    - {name: hall-b, it: [x.it.b]}\n";

static char *with_alerts(const char *alerts)
{
    size_t n = strlen(site_yaml) + strlen(alerts) + 16;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%salerts:\n%s", site_yaml, alerts);
    return s;
}

static void test_config_rules(void **state)
{
    (void)state;
    char *yaml = with_alerts(
        "  - {name: pue-high, kpi: pue, window: 15m, above: 1.4, for: 30m, clear: 1.35}\n"
        "  - {name: pdu-down, device: \"pdu-*\", offline_for: 5, severity: critical}\n"
        "  - {name: low-coverage, kpi: coverage, below: 0.9, window: 1h}\n"
        "  - {name: meter-reset, correction: reset, point: \"x.*\"}\n"
        "  - {name: hall-b, kpi: ppue.hall-b, above: 1.3}\n"
        "  - {name: any-fix, correction: any, clear_after: 10m}\n"
        "  - {name: dev, device: meter}\n");
    dcm_config *cfg = load_ok(yaml);
    free(yaml);
    assert_int_equal(cfg->alert_count, 7);
    const dcm_alert_config *a = cfg->alerts;
    assert_int_equal(a[0].kind, DCM_ALERT_THRESHOLD);
    assert_string_equal(a[0].kpi, "pue");
    assert_int_equal(a[0].window, DCM_WINDOW_15M);
    assert_true(a[0].above);
    assert_true(a[0].threshold == 1.4 && a[0].clear == 1.35);
    assert_true(a[0].for_ns == 30 * MIN);
    assert_false(a[0].critical);
    assert_int_equal(a[0].zone, -1);
    assert_int_equal(a[1].kind, DCM_ALERT_OFFLINE);
    assert_string_equal(a[1].device, "pdu-*");
    assert_int_equal(a[1].offline_for, 5);
    assert_true(a[1].critical);
    assert_false(a[2].above);
    assert_true(a[2].threshold == 0.9 && a[2].clear == 0.9);
    assert_int_equal(a[2].window, DCM_WINDOW_1H);
    assert_int_equal(a[3].kind, DCM_ALERT_CORRECTION);
    assert_int_equal(a[3].correction, DCM_CORR_RESET);
    assert_string_equal(a[3].point, "x.*");
    assert_true(a[3].clear_after_ns == 60 * MIN);
    assert_int_equal(a[4].zone, 1);
    assert_int_equal(a[4].window, DCM_WINDOW_1M); /* the default */
    assert_true(a[4].for_ns == 0);
    assert_int_equal(a[5].correction, -1);
    assert_string_equal(a[5].point, "*");
    assert_true(a[5].clear_after_ns == 10 * MIN);
    assert_int_equal(a[6].offline_for, 3);
    dcm_config_destroy(cfg);
}

typedef struct bad_case {
    const char *alerts;
    const char *path;
    const char *message;
    int line, column; /* of the diagnostic; alerts start on line 7 */
} bad_case;

static void test_config_errors(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"  - {name: a, kpi: peu, above: 1.4}\n", "alerts[0].kpi", "did you mean 'pue'?", 7, 20},
        {"  - {name: a, kpi: pue, above: 1.4, below: 1.1}\n", "alerts[0]",
         "not both", 7, 32},
        {"  - {name: a, kpi: pue}\n", "alerts[0]", "needs 'above: VALUE'", 7, 5},
        {"  - {name: a, kpi: pue, above: 1.4, clear: 1.5}\n", "alerts[0].clear",
         "at or below the threshold 1.4", 7, 44},
        {"  - {name: a, kpi: pue, above: 1.4, window: 5m}\n", "alerts[0].window",
         "expected instant, 1m", 7, 45},
        {"  - {name: a, kpi: ppue.hall-c, above: 1.4}\n", "alerts[0].kpi",
         "did you mean 'hall-a'?", 7, 20},
        {"  - {name: a, device: pdu, above: 1.4}\n", "alerts[0].above",
         "belongs to a rule with 'kpi'", 7, 28},
        {"  - {name: a, device: pdu, offline_for: 0}\n", "alerts[0].offline_for",
         "from 1 to 1000000, got 0", 7, 41},
        {"  - {name: a, kpi: pue, device: pdu, above: 1}\n", "alerts[0]",
         "only one of 'kpi', 'device' and 'correction'", 7, 33},
        {"  - {name: a}\n", "alerts[0]", "needs 'kpi' (threshold)", 7, 5},
        {"  - {name: a, correction: rest}\n", "alerts[0].correction",
         "did you mean 'reset'?", 7, 27},
        {"  - {name: a, device: x}\n  - {name: a, device: y}\n", "alerts[1].name",
         "duplicate rule name 'a' (also alerts[0], line 7)", 8, 12},
        {"  - {name: a, device: x, severity: loud}\n", "alerts[0].severity",
         "expected warning or critical", 7, 36},
        {"  - {name: 'a b', device: x}\n", "alerts[0].name", "expected letters", 7, 12},
        {"  - {name: a, kpi: pue, abvoe: 1}\n", "alerts[0]",
         "did you mean 'above'", 7, 25},
        {"  - {name: a, correction: reset, clear_after: 100ms}\n", "alerts[0].clear_after",
         "at least 1s", 7, 47},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *yaml = with_alerts(cases[i].alerts);
        dcm_diags d;
        dcm_config *cfg = NULL;
        dcm_diags_init(&d);
        dcm_config_err err = dcm_config_load_string(yaml, strlen(yaml), "a.yaml", &cfg, &d);
        free(yaml);
        assert_int_equal(err, DCM_CONFIG_EINVALID);
        assert_null(cfg);
        bool found = false;
        for (size_t k = 0; k < d.count && !found; k++) {
            const dcm_diag *g = &d.items[k];
            if (strcmp(g->path, cases[i].path) != 0 || !strstr(g->message, cases[i].message))
                continue;
            found = true;
            assert_string_equal(g->file, "a.yaml");
            if (cases[i].line) {
                if (g->line != cases[i].line || g->column != cases[i].column)
                    fail_msg("case %zu: %d:%d, want %d:%d", i, g->line, g->column,
                             cases[i].line, cases[i].column);
            }
        }
        if (!found) {
            dcm_diags_print(&d, stderr);
            fail_msg("case %zu: no '%s' at %s", i, cases[i].message, cases[i].path);
        }
        dcm_diags_free(&d);
    }
}

/* ------------------------------------------------------------- thresholds */

static void test_threshold_duration(void **state)
{
    (void)state;
    engine e;
    char *yaml = with_alerts("  - {name: pue-high, kpi: pue, window: 15m, above: 1.4, for: 30m}\n");
    engine_start(&e, yaml);
    free(yaml);
    int64_t q = 15 * MIN;
    feed(&e, DCM_WINDOW_15M, T0, q, 1.45, 1.0); /* 15 min above: not yet */
    assert_int_equal(e.rec.count, 0);
    feed(&e, DCM_WINDOW_1H, T0, 60 * MIN, 2.0, 1.0); /* another window: ignored */
    feed(&e, DCM_WINDOW_1M, T0, MIN, 2.0, 1.0);
    g_interim = true; /* an open window's figures so far do not count */
    feed(&e, DCM_WINDOW_15M, T0 + q, 2 * q, 2.0, 1.0);
    g_interim = false;
    assert_int_equal(e.rec.count, 0);
    feed(&e, DCM_WINDOW_15M, T0 + q, q, 1.5, 1.0); /* 30 min above: fires at its end */
    assert_int_equal(e.rec.count, 1);
    assert_string_equal(e.rec.rule[0], "pue-high");
    assert_true(e.rec.ts[0] == T0 + 2 * q);
    const char *j = e.rec.json[0];
    assert_has(j, "\"site\":\"hall-1\"");
    assert_has(j, "\"rule\":\"pue-high\"");
    assert_has(j, "\"kind\":\"threshold\"");
    assert_has(j, "\"state\":\"firing\"");
    assert_has(j, "\"severity\":\"warning\"");
    assert_has(j, "\"subject\":\"pue\"");
    assert_has(j, "\"ts\":\"2026-01-05T00:30:00Z\"");
    assert_has(j, "\"since\":\"2026-01-05T00:00:00Z\"");
    assert_has(j, "\"value\":1.5");
    assert_has(j, "\"threshold\":1.4");
    assert_has(j, "\"window\":\"15m\"");
    assert_has(j, "pue 1.5 (15m) above 1.4 for 30m");
    assert_int_equal(dcm_alerts_active_count(e.alerts), 1);
    feed(&e, DCM_WINDOW_15M, T0 + 2 * q, q, 1.41, 1.0); /* still above: no new transition */
    assert_int_equal(e.rec.count, 1);
    feed(&e, DCM_WINDOW_15M, T0 + 3 * q, q, 1.4, 1.0); /* at the threshold: clears */
    assert_int_equal(e.rec.count, 2);
    assert_has(e.rec.json[1], "\"state\":\"cleared\"");
    assert_has(e.rec.json[1], "\"ts\":\"2026-01-05T01:00:00Z\"");
    assert_has(e.rec.json[1], "\"value\":1.4");
    assert_int_equal(dcm_alerts_active_count(e.alerts), 0);
    engine_stop(&e);
}

static void test_threshold_interrupted(void **state)
{
    (void)state;
    engine e;
    char *yaml = with_alerts("  - {name: pue-high, kpi: pue, window: 15m, above: 1.4, for: 30m}\n");
    engine_start(&e, yaml);
    free(yaml);
    int64_t q = 15 * MIN;
    /* above, below, above, above: the breach starts over at the third record */
    feed(&e, DCM_WINDOW_15M, T0, q, 1.6, 1.0);
    feed(&e, DCM_WINDOW_15M, T0 + q, q, 1.3, 1.0);
    feed(&e, DCM_WINDOW_15M, T0 + 2 * q, q, 1.6, 1.0);
    assert_int_equal(e.rec.count, 0);
    /* a null PUE is no breach and no recovery: the pending breach starts over too */
    feed(&e, DCM_WINDOW_15M, T0 + 3 * q, q, -1, 1.0);
    feed(&e, DCM_WINDOW_15M, T0 + 4 * q, q, 1.6, 1.0);
    assert_int_equal(e.rec.count, 0);
    feed(&e, DCM_WINDOW_15M, T0 + 5 * q, q, 1.6, 1.0);
    assert_int_equal(e.rec.count, 1);
    assert_true(e.rec.ts[0] == T0 + 6 * q);
    assert_has(e.rec.json[0], "\"since\":\"2026-01-05T01:00:00Z\"");
    /* firing, then null: stays firing */
    feed(&e, DCM_WINDOW_15M, T0 + 6 * q, q, -1, 1.0);
    assert_int_equal(e.rec.count, 1);
    assert_int_equal(dcm_alerts_active_count(e.alerts), 1);
    engine_stop(&e);
}

static void test_threshold_hysteresis_instant(void **state)
{
    (void)state;
    engine e;
    char *yaml = with_alerts(
        "  - {name: pue-live, kpi: pue, window: instant, above: 1.4, clear: 1.35, for: 10s}\n");
    engine_start(&e, yaml);
    free(yaml);
    int64_t s = DCM_NS_PER_S;
    for (int i = 0; i <= 9; i++)
        feed(&e, DCM_WINDOW_INSTANT, T0 + i * s, 0, 1.5, 1.0);
    assert_int_equal(e.rec.count, 0); /* 9 s above */
    feed(&e, DCM_WINDOW_INSTANT, T0 + 10 * s, 0, 1.5, 1.0);
    assert_int_equal(e.rec.count, 1);
    assert_true(e.rec.ts[0] == T0 + 10 * s);
    /* between clear and threshold: still firing */
    feed(&e, DCM_WINDOW_INSTANT, T0 + 11 * s, 0, 1.38, 1.0);
    feed(&e, DCM_WINDOW_INSTANT, T0 + 12 * s, 0, 1.36, 1.0);
    assert_int_equal(e.rec.count, 1);
    feed(&e, DCM_WINDOW_INSTANT, T0 + 13 * s, 0, 1.35, 1.0);
    assert_int_equal(e.rec.count, 2);
    assert_has(e.rec.json[1], "\"state\":\"cleared\"");
    assert_has(e.rec.json[1], "\"threshold\":1.35");
    assert_has(e.rec.json[1], "back at or below 1.35");
    /* 1.38 is not above 1.4: quiet stays quiet */
    feed(&e, DCM_WINDOW_INSTANT, T0 + 14 * s, 0, 1.38, 1.0);
    assert_int_equal(e.rec.count, 2);
    engine_stop(&e);
}

static void test_coverage_and_ppue(void **state)
{
    (void)state;
    engine e;
    char *yaml = with_alerts("  - {name: low-coverage, kpi: coverage, below: 0.9, window: 1h}\n"
                             "  - {name: hall-b, kpi: ppue.hall-b, above: 1.3, severity: critical}\n");
    engine_start(&e, yaml);
    free(yaml);
    int64_t h = 60 * MIN;
    feed(&e, DCM_WINDOW_1H, T0, h, 1.3, 0.95);
    assert_int_equal(e.rec.count, 0);
    feed(&e, DCM_WINDOW_1H, T0 + h, h, 1.3, 0.85);
    assert_int_equal(e.rec.count, 1);
    assert_has(e.rec.json[0], "\"rule\":\"low-coverage\"");
    assert_has(e.rec.json[0], "\"value\":0.85");
    assert_has(e.rec.json[0], "coverage 0.85 (1h) below 0.9 for 1h");
    /* ppue of hall-b = pue in these records: 1.45 fires (1m window, no for) */
    feed(&e, DCM_WINDOW_1M, T0, MIN, 1.45, 1.0);
    assert_int_equal(e.rec.count, 2);
    assert_has(e.rec.json[1], "\"subject\":\"ppue.hall-b\"");
    assert_has(e.rec.json[1], "\"severity\":\"critical\"");
    assert_has(e.rec.json[1], "\"value\":1.45");
    char *active = dcm_alerts_active_json(e.alerts);
    assert_non_null(active);
    const char *first = strstr(active, "low-coverage"), *second = strstr(active, "hall-b\"");
    assert_true(strncmp(active, "{\"alerts\":[{", 12) == 0);
    assert_true(first && second && first < second); /* oldest first */
    free(active);
    feed(&e, DCM_WINDOW_1H, T0 + 2 * h, h, 1.3, 0.9); /* at 0.9: not below, clears */
    assert_int_equal(e.rec.count, 3);
    assert_has(e.rec.json[2], "\"rule\":\"low-coverage\"");
    assert_has(e.rec.json[2], "\"state\":\"cleared\"");
    active = dcm_alerts_active_json(e.alerts);
    assert_non_null(active);
    assert_null(strstr(active, "low-coverage"));
    assert_non_null(strstr(active, "ppue.hall-b"));
    free(active);
    engine_stop(&e);
}

/* ---------------------------------------------------------------- devices */

static void set_health(engine *e, int64_t now, const char *name, bool up, uint64_t fails,
                       bool disabled)
{
    dcm_instance_health h[2];
    memset(h, 0, sizeof h);
    h[0].name = (char *)name;
    h[0].type = (char *)"modbus";
    h[0].up = up;
    h[0].consecutive_failures = fails;
    h[0].disabled = disabled;
    h[0].last_ok_ns = T0;
    snprintf(h[0].last_error, sizeof h[0].last_error, "%s", up ? "" : "connection refused");
    h[1].name = (char *)"meter-1"; /* matches no rule: never alerts */
    h[1].type = (char *)"modbus";
    h[1].consecutive_failures = 50;
    dcm_alerts_set_health(e->alerts, h, 2, now);
    e->l.on_batch_end(e->l.ctx);
}

static void test_offline(void **state)
{
    (void)state;
    engine e;
    char *yaml = with_alerts("  - {name: pdu-down, device: \"pdu-*\", offline_for: 3}\n");
    engine_start(&e, yaml);
    free(yaml);
    int64_t s = DCM_NS_PER_S;
    set_health(&e, T0 + 1 * s, "pdu-a1", true, 0, false);
    set_health(&e, T0 + 2 * s, "pdu-a1", false, 1, false);
    set_health(&e, T0 + 3 * s, "pdu-a1", false, 2, false);
    assert_int_equal(e.rec.count, 0);
    e.l.on_batch_end(e.l.ctx); /* nothing new handed over: nothing evaluated */
    set_health(&e, T0 + 4 * s, "pdu-a1", false, 3, false);
    assert_int_equal(e.rec.count, 1);
    const char *j = e.rec.json[0];
    assert_has(j, "\"kind\":\"offline\"");
    assert_has(j, "\"subject\":\"pdu-a1\"");
    assert_has(j, "\"value\":3");
    assert_has(j, "\"threshold\":3");
    assert_has(j, "\"since\":\"2026-01-05T00:00:00Z\"");
    assert_has(j, "pdu-a1 offline: 3 failed polls (connection refused)");
    assert_true(e.rec.ts[0] == T0 + 4 * s);
    set_health(&e, T0 + 5 * s, "pdu-a1", false, 4, false);
    assert_int_equal(e.rec.count, 1); /* once per transition */
    set_health(&e, T0 + 6 * s, "pdu-a1", true, 0, false);
    assert_int_equal(e.rec.count, 2);
    assert_has(e.rec.json[1], "\"state\":\"cleared\"");
    assert_has(e.rec.json[1], "pdu-a1 back online");
    /* an instance stopped for good after a fatal error is offline at once */
    set_health(&e, T0 + 7 * s, "pdu-b2", false, 1, true);
    assert_int_equal(e.rec.count, 3);
    assert_has(e.rec.json[2], "\"subject\":\"pdu-b2\"");
    /* one configured off (never polled) is not */
    set_health(&e, T0 + 8 * s, "pdu-c3", false, 0, true);
    assert_int_equal(e.rec.count, 3);
    engine_stop(&e);
}

/* ------------------------------------------------------------- corrections */

static void test_counter_reset(void **state)
{
    (void)state;
    engine e;
    char *yaml = with_alerts(
        "  - {name: meter-reset, correction: reset, point: \"x.*\", clear_after: 10m}\n");
    engine_start(&e, yaml);
    free(yaml);
    dcm_increment inc = {.t0_ns = T0, .t1_ns = T0 + MIN, .amount = 2.5,
                         .correction = DCM_CORR_RESET};
    e.l.on_correction(e.l.ctx, "y.energy", &inc, true); /* point does not match */
    inc.correction = DCM_CORR_WRAP;
    e.l.on_correction(e.l.ctx, "x.energy", &inc, true); /* not a reset */
    assert_int_equal(e.rec.count, 0);
    inc.correction = DCM_CORR_RESET;
    e.l.on_correction(e.l.ctx, "x.energy", &inc, true);
    assert_int_equal(e.rec.count, 1);
    assert_has(e.rec.json[0], "\"kind\":\"correction\"");
    assert_has(e.rec.json[0], "\"subject\":\"x.energy\"");
    assert_has(e.rec.json[0], "\"correction\":\"reset\"");
    assert_has(e.rec.json[0], "\"value\":1");
    assert_has(e.rec.json[0], "x.energy: counter reset");
    assert_true(e.rec.ts[0] == T0 + MIN);
    /* a second reset 5 min later: still the same alert, and the 10 min start again */
    inc.t1_ns = T0 + 6 * MIN;
    e.l.on_correction(e.l.ctx, "x.energy", &inc, true);
    assert_int_equal(e.rec.count, 1);
    feed(&e, DCM_WINDOW_INSTANT, T0 + 15 * MIN, 0, 1.3, 1.0);
    assert_int_equal(e.rec.count, 1);
    feed(&e, DCM_WINDOW_INSTANT, T0 + 16 * MIN, 0, 1.3, 1.0);
    assert_int_equal(e.rec.count, 2);
    assert_has(e.rec.json[1], "\"state\":\"cleared\"");
    assert_has(e.rec.json[1], "\"value\":2");
    assert_has(e.rec.json[1], "no counter reset for 10m");
    assert_int_equal(dcm_alerts_active_count(e.alerts), 0);
    engine_stop(&e);
}

static void test_no_rules(void **state)
{
    (void)state;
    engine e;
    engine_start(&e, site_yaml);
    feed(&e, DCM_WINDOW_1M, T0, MIN, 9.0, 0.0);
    char *active = dcm_alerts_active_json(e.alerts);
    assert_non_null(active);
    assert_string_equal(active, "{\"alerts\":[]}");
    free(active);
    assert_int_equal(e.rec.count, 0);
    assert_string_equal(dcm_alerts_strerror(DCM_ALERTS_EFULL), "too many notify callbacks");
    for (int i = 1; i < DCM_ALERTS_MAX_NOTIFY; i++)
        assert_int_equal(dcm_alerts_add_notify(e.alerts, record_alert, &e.rec), DCM_ALERTS_OK);
    assert_int_equal(dcm_alerts_add_notify(e.alerts, record_alert, &e.rec), DCM_ALERTS_EFULL);
    engine_stop(&e);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_rules),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_threshold_duration),
        cmocka_unit_test(test_threshold_interrupted),
        cmocka_unit_test(test_threshold_hysteresis_instant),
        cmocka_unit_test(test_coverage_and_ppue),
        cmocka_unit_test(test_offline),
        cmocka_unit_test(test_counter_reset),
        cmocka_unit_test(test_no_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
