/* The YAML configuration: node positions, typed readers, suggestions, the loader's
 * defaults and every class of error it reports, and secrets. */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <math.h>

#include "config_internal.h"
#include "dcm/collector.h"
#include "dcm/config.h"

/* cmocka 1.1 has no floating-point assertion. */
static void assert_near(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%.17g != %.17g", got, want);
}

/* ------------------------------------------------------------- a test collector */

static const dcm_config_key test_keys[] = {
    {"url", DCM_KEY_STRING, NULL, true, "device URL"},
    {"unit", DCM_KEY_INT, "1", false, "unit id"},
    {"scale", DCM_KEY_DOUBLE, "1", false, "scale"},
    {"verbose", DCM_KEY_BOOL, "false", false, "chatty"},
    {"settle", DCM_KEY_DURATION, "1s", false, "settle time"},
    {"password", DCM_KEY_SECRET, NULL, false, "device password"},
    {"points", DCM_KEY_LIST, NULL, false, "points"},
    {"options", DCM_KEY_MAP, NULL, false, "options"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const dcm_collector_descriptor test_desc = {
    .name = "testdev",
    .abi_version = DCM_COLLECTOR_ABI,
    .description = "test device",
    .keys = test_keys,
};

static const dcm_collector_descriptor other_desc = {
    .name = "meter",
    .abi_version = DCM_COLLECTOR_ABI,
    .description = "another test device",
    .keys = test_keys + 1, /* no required key */
};

static const dcm_collector_descriptor old_desc = {
    .name = "oldabi",
    .abi_version = DCM_COLLECTOR_ABI + 1,
    .description = "built against another ABI",
    .keys = test_keys + 1,
};

static const dcm_collector_descriptor *const test_all_list[] = {&test_desc, &other_desc,
                                                                 &old_desc, NULL};

static const dcm_collector_descriptor *test_find(const char *type)
{
    for (size_t i = 0; test_all_list[i]; i++)
        if (strcmp(test_all_list[i]->name, type) == 0)
            return test_all_list[i];
    return NULL;
}

static const dcm_collector_descriptor *const *test_all(void)
{
    return test_all_list;
}

static int setup(void **state)
{
    (void)state;
    dcm_config_set_collector_lookup(test_find, test_all);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dcm_config_set_collector_lookup(NULL, NULL);
    return 0;
}

/* ------------------------------------------------------------- helpers */

static dcm_config_err load(const char *yaml, dcm_config **cfg, dcm_diags *d)
{
    dcm_diags_init(d);
    return dcm_config_load_string(yaml, strlen(yaml), "test.yaml", cfg, d);
}

/* The diagnostic whose message contains needle (and whose path is path, unless NULL);
 * fails the test if there is none. */
static const dcm_diag *find_diag_at(const dcm_diags *d, const char *needle, const char *path)
{
    for (size_t i = 0; i < d->count; i++)
        if (strstr(d->items[i].message, needle) && (!path || !strcmp(d->items[i].path, path)))
            return &d->items[i];
    for (size_t i = 0; i < d->count; i++)
        print_message("diag: %d:%d %s: %s\n", d->items[i].line, d->items[i].column,
                      d->items[i].path, d->items[i].message);
    fail_msg("no diagnostic contains '%s'", needle);
    return NULL;
}

static const dcm_diag *find_diag(const dcm_diags *d, const char *needle)
{
    return find_diag_at(d, needle, NULL);
}

static void expect_diag(const dcm_diags *d, const char *needle, int line, int column,
                        const char *path)
{
    const dcm_diag *g = find_diag_at(d, needle, path);
    assert_int_equal(g->severity, DCM_DIAG_ERROR);
    assert_string_equal(g->file, "test.yaml");
    assert_int_equal(g->line, line);
    assert_int_equal(g->column, column);
}

/* Loads yaml expecting failure with exactly `errors` errors. */
static void load_bad(const char *yaml, dcm_config_err want, size_t errors, dcm_diags *d)
{
    dcm_config *cfg = (dcm_config *)1;
    dcm_config_err err = load(yaml, &cfg, d);
    if (d->errors != errors)
        for (size_t i = 0; i < d->count; i++)
            print_message("diag: %d:%d %s: %s\n", d->items[i].line, d->items[i].column,
                          d->items[i].path, d->items[i].message);
    assert_int_equal(err, want);
    assert_null(cfg);
    assert_int_equal(d->errors, errors);
}

/* ------------------------------------------------------------- node tree */

static void test_node_positions(void **state)
{
    (void)state;
    const char *yaml = "a: 1\n"
                       "b:\n"
                       "  - x\n"
                       "  -   y\n"
                       "c: {d: 'q', e: [1, 2]}\n"
                       "# comment\n"
                       "f: |\n"
                       "  text\n";
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_node *root = NULL;
    assert_int_equal(dcm_node_parse(yaml, strlen(yaml), "n.yaml", &root, &d), DCM_CONFIG_OK);
    assert_int_equal(d.count, 0);
    assert_non_null(root);
    assert_int_equal(dcm_node_kind(root), DCM_NODE_MAP);
    assert_int_equal(dcm_node_size(root), 4);
    assert_string_equal(dcm_node_file(root), "n.yaml");

    assert_string_equal(dcm_node_key_at(root, 1), "b");
    const dcm_node *kb = dcm_node_key_node_at(root, 1);
    assert_int_equal(dcm_node_line(kb), 2);
    assert_int_equal(dcm_node_column(kb), 1);
    const dcm_node *b = dcm_node_get(root, "b");
    assert_int_equal(dcm_node_kind(b), DCM_NODE_LIST);
    assert_int_equal(dcm_node_size(b), 2);
    assert_null(dcm_node_key_at(b, 0));
    assert_string_equal(dcm_node_scalar(dcm_node_at(b, 1)), "y");
    assert_int_equal(dcm_node_line(dcm_node_at(b, 1)), 4);
    assert_int_equal(dcm_node_column(dcm_node_at(b, 1)), 7);

    const dcm_node *c = dcm_node_get(root, "c");
    assert_int_equal(dcm_node_kind(c), DCM_NODE_MAP);
    assert_int_equal(dcm_node_line(c), 5);
    assert_int_equal(dcm_node_column(c), 4);
    const dcm_node *dval = dcm_node_get(c, "d");
    assert_string_equal(dcm_node_scalar(dval), "q");
    assert_int_equal(dcm_node_column(dval), 8);
    const dcm_node *e = dcm_node_get(c, "e");
    assert_int_equal(dcm_node_column(dcm_node_at(e, 1)), 20);
    assert_null(dcm_node_scalar(e));
    assert_null(dcm_node_get(c, "zz"));
    assert_null(dcm_node_at(e, 2));

    const dcm_node *f = dcm_node_get(root, "f");
    assert_string_equal(dcm_node_scalar(f), "text\n");
    assert_int_equal(dcm_node_line(f), 7);
    dcm_node_free(root);
    dcm_diags_free(&d);
}

static void test_node_readers(void **state)
{
    (void)state;
    const char *yaml = "i: 42\nneg: -7\nhex: 0x1F\nbadint: 4x\nf: 2.5e3\nnan: .nan\nnan2: nan\n"
                       "t: Yes\nfl: off\nbadb: maybe\nd1: 250ms\nd2: 1.5s\nd3: 15m\nd4: 2\n"
                       "d5: 1d\nd6: 0.25h\nbadd: 5 s\nbadd2: -1s\nbadd3: 1.s\nnul: ~\nempty:\n"
                       "q: 'null'\nbig: 99999999999999999999\n";
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_node *root = NULL;
    assert_int_equal(dcm_node_parse(yaml, strlen(yaml), "r.yaml", &root, &d), DCM_CONFIG_OK);
    long long i;
    double f;
    bool b;
    int64_t ns;
    const char *s;
    assert_true(dcm_node_as_int(dcm_node_get(root, "i"), &i));
    assert_int_equal(i, 42);
    assert_true(dcm_node_as_int(dcm_node_get(root, "neg"), &i));
    assert_int_equal(i, -7);
    assert_true(dcm_node_as_int(dcm_node_get(root, "hex"), &i));
    assert_int_equal(i, 31);
    assert_false(dcm_node_as_int(dcm_node_get(root, "badint"), &i));
    assert_false(dcm_node_as_int(dcm_node_get(root, "big"), &i));
    assert_false(dcm_node_as_int(dcm_node_get(root, "f"), &i));
    assert_true(dcm_node_as_double(dcm_node_get(root, "f"), &f));
    assert_near(f, 2500.0, 0.0);
    assert_true(dcm_node_as_double(dcm_node_get(root, "i"), &f));
    assert_near(f, 42.0, 0.0);
    assert_false(dcm_node_as_double(dcm_node_get(root, "nan"), &f));
    assert_false(dcm_node_as_double(dcm_node_get(root, "nan2"), &f));
    assert_true(dcm_node_as_bool(dcm_node_get(root, "t"), &b));
    assert_true(b);
    assert_true(dcm_node_as_bool(dcm_node_get(root, "fl"), &b));
    assert_false(b);
    assert_false(dcm_node_as_bool(dcm_node_get(root, "badb"), &b));

    static const struct {
        const char *key;
        int64_t ns;
    } durations[] = {{"d1", 250000000},           {"d2", 1500000000},
                     {"d3", 900 * DCM_NS_PER_S}, {"d4", 2 * DCM_NS_PER_S},
                     {"d5", 86400 * DCM_NS_PER_S}, {"d6", 900 * DCM_NS_PER_S}};
    for (size_t k = 0; k < sizeof(durations) / sizeof(durations[0]); k++) {
        assert_true(dcm_node_as_duration_ns(dcm_node_get(root, durations[k].key), &ns));
        assert_int_equal(ns, durations[k].ns);
    }
    assert_false(dcm_node_as_duration_ns(dcm_node_get(root, "badd"), &ns));
    assert_false(dcm_node_as_duration_ns(dcm_node_get(root, "badd2"), &ns));
    assert_false(dcm_node_as_duration_ns(dcm_node_get(root, "badd3"), &ns));
    assert_true(dcm_parse_duration_ns("1ns", &ns));
    assert_int_equal(ns, 1);
    assert_true(dcm_parse_duration_ns("0.000000001", &ns));
    assert_int_equal(ns, 1);
    assert_false(dcm_parse_duration_ns("9999999999999d", &ns));
    assert_false(dcm_parse_duration_ns("", &ns));
    assert_false(dcm_parse_duration_ns("s", &ns));

    /* Plain ~ and empty values are null; a quoted 'null' is the string. */
    assert_false(dcm_node_as_string(dcm_node_get(root, "nul"), &s));
    assert_false(dcm_node_as_string(dcm_node_get(root, "empty"), &s));
    assert_true(dcm_node_as_string(dcm_node_get(root, "q"), &s));
    assert_string_equal(s, "null");
    assert_false(dcm_node_as_string(NULL, &s));
    dcm_node_free(root);
    dcm_diags_free(&d);
}

static void test_suggest(void **state)
{
    (void)state;
    static const char *const keys[] = {"interval", "timeout", "enabled", "location_factor",
                                       "it", "state_dir"};
    size_t n = sizeof(keys) / sizeof(keys[0]);
    assert_string_equal(dcm_suggest("intervall", keys, n), "interval");
    assert_string_equal(dcm_suggest("timout", keys, n), "timeout");
    assert_string_equal(dcm_suggest("Enabled", keys, n), "enabled");
    assert_string_equal(dcm_suggest("locaiton_factor", keys, n), "location_factor");
    assert_string_equal(dcm_suggest("ti", keys, n), "it");
    assert_string_equal(dcm_suggest("statedir", keys, n), "state_dir");
    assert_null(dcm_suggest("colour", keys, n));
    assert_null(dcm_suggest("xy", keys, n));
    assert_null(dcm_suggest("interval", keys, n)); /* itself is no suggestion */
    assert_null(dcm_suggest("", keys, n));
}

/* ------------------------------------------------------------- valid configs */

static const char *full_yaml =
    "agent:\n"
    "  site: hall-1\n"
    "  interval: 2s\n"
    "  state_dir: /tmp/dcm-state\n"
    "  log_level: debug\n"
    "collectors:\n"
    "  - name: main\n"
    "    type: testdev\n"
    "    url: tcp://10.0.0.5:502\n"
    "    unit: 3\n"
    "    password_env: DCM_TEST_UNSET_VARIABLE_X\n"
    "  - name: pdu-a1\n"
    "    type: meter\n"
    "    interval: 500ms\n"
    "    timeout: 200ms\n"
    "    enabled: false\n"
    "    points: [{name: p}]\n"
    "site:\n"
    "  name: Tainan Hall 1\n"
    "  timezone: Asia/Taipei\n"
    "  pue_category: 2\n"
    "  roles:\n"
    "    grid: main.energy\n"
    "    it: [pdu-*.energy, gpus.*.power]\n"
    "    servers: []\n"
    "  zones:\n"
    "    - {name: hall-a, it: [pdu-a*.energy], overhead: crah-a*.energy}\n"
    "  carbon:\n"
    "    location_factor: 0.494\n"
    "    location_source: Energy Administration\n"
    "    location_year: 2024\n"
    "    market_factor: 0.3\n"
    "    fuel_factor: 0.25\n"
    "  certificates:\n"
    "    - {period: \"2026\", kwh: 4000000, type: go, source: registry 17}\n"
    "    - {period: 2026-01-01/2026-04-01, kwh: 1000, type: ppa}\n"
    "  onsite_attributes_retained: false\n"
    "  coverage_ok: 0.9\n"
    "  max_gap: 10m\n"
    "  operator: ACME\n"
    "  type: colocation\n"
    "  floor_area_m2: 1200.5\n"
    "outputs:\n"
    "  mqtt: {url: 'tcp://127.0.0.1:1883', qos: 2, password: s3cr3t}\n"
    "  influxdb: {url: 'http://127.0.0.1:8086', database: dcm}\n"
    "  http: {listen: '[::1]:8080'}\n";

static void test_load_full(void **state)
{
    (void)state;
    dcm_config *cfg = NULL;
    dcm_diags d;
    unsetenv("DCM_TEST_UNSET_VARIABLE_X");
    assert_int_equal(load(full_yaml, &cfg, &d), DCM_CONFIG_OK);
    assert_non_null(cfg);
    assert_int_equal(d.errors, 0);
    /* The unset password variable is a warning, not an error. */
    const dcm_diag *w = find_diag(&d, "DCM_TEST_UNSET_VARIABLE_X is not set");
    assert_int_equal(w->severity, DCM_DIAG_WARNING);
    assert_int_equal(w->line, 11);
    assert_string_equal(w->path, "collectors[0].password");

    assert_string_equal(cfg->path, "test.yaml");
    assert_string_equal(cfg->agent.site, "hall-1");
    assert_int_equal(cfg->agent.interval_ns, 2 * DCM_NS_PER_S);
    assert_string_equal(cfg->agent.state_dir, "/tmp/dcm-state");
    assert_int_equal(cfg->agent.log_level, DCM_LOG_DEBUG);

    assert_int_equal(cfg->collector_count, 2);
    const dcm_collector_config *c0 = &cfg->collectors[0];
    assert_string_equal(c0->name, "main");
    assert_string_equal(c0->type, "testdev");
    assert_ptr_equal(c0->descriptor, &test_desc);
    assert_int_equal(c0->interval_ns, 2 * DCM_NS_PER_S); /* agent.interval */
    assert_int_equal(c0->timeout_ns, 2 * DCM_NS_PER_S);  /* min(interval, 5 s) */
    assert_true(c0->enabled);
    long long unit = 0;
    assert_true(dcm_node_as_int(dcm_node_get(c0->node, "unit"), &unit));
    assert_int_equal(unit, 3);
    const dcm_collector_config *c1 = &cfg->collectors[1];
    assert_ptr_equal(c1->descriptor, &other_desc);
    assert_int_equal(c1->interval_ns, 500000000);
    assert_int_equal(c1->timeout_ns, 200000000);
    assert_false(c1->enabled);

    const dcm_site_config *s = &cfg->site;
    assert_string_equal(s->name, "Tainan Hall 1");
    assert_string_equal(s->timezone, "Asia/Taipei");
    assert_int_equal(s->pue_category, 2);
    assert_int_equal(s->roles[DCM_ROLE_GRID].count, 1);
    assert_string_equal(s->roles[DCM_ROLE_GRID].globs[0], "main.energy");
    assert_int_equal(s->roles[DCM_ROLE_IT].count, 2);
    assert_string_equal(s->roles[DCM_ROLE_IT].globs[1], "gpus.*.power");
    assert_int_equal(dcm_node_line(s->roles[DCM_ROLE_IT].node), 24);
    assert_int_equal(s->roles[DCM_ROLE_SERVERS].count, 0);
    assert_int_equal(s->roles[DCM_ROLE_COOLING].count, 0);
    assert_null(s->roles[DCM_ROLE_COOLING].node);
    assert_int_equal(s->zone_count, 1);
    assert_string_equal(s->zones[0].name, "hall-a");
    assert_string_equal(s->zones[0].it.globs[0], "pdu-a*.energy");
    assert_int_equal(s->zones[0].overhead.count, 1);
    assert_string_equal(s->zones[0].overhead.globs[0], "crah-a*.energy");
    assert_true(s->has_location_factor);
    assert_near(s->location_factor, 0.494, 0.0);
    assert_string_equal(s->location_source, "Energy Administration");
    assert_int_equal(s->location_year, 2024);
    assert_true(s->has_market_factor);
    assert_near(s->market_factor, 0.3, 0.0);
    assert_null(s->market_source);
    assert_near(s->fuel_factor, 0.25, 0.0);
    assert_int_equal(s->instrument_count, 2);
    assert_string_equal(s->instruments[0].period, "2026");
    assert_near(s->instruments[0].kwh, 4000000.0, 0.0);
    assert_false(s->instruments[0].is_ppa);
    assert_string_equal(s->instruments[0].source, "registry 17");
    assert_true(s->instruments[1].is_ppa);
    assert_null(s->instruments[1].source);
    assert_false(s->onsite_attributes_retained);
    assert_near(s->coverage_ok, 0.9, 0.0);
    assert_int_equal(s->max_gap_ns, 600 * DCM_NS_PER_S);
    assert_string_equal(s->operator_name, "ACME");
    assert_string_equal(s->site_type, "colocation");
    assert_string_equal(s->floor_area_m2, "1200.5");
    assert_null(s->installed_it_kw);

    assert_non_null(cfg->outputs.mqtt);
    long long qos = 0;
    assert_true(dcm_node_as_int(dcm_node_get(cfg->outputs.mqtt, "qos"), &qos));
    assert_int_equal(qos, 2);
    assert_non_null(cfg->outputs.influxdb);
    assert_non_null(cfg->outputs.http);
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);
}

static void test_load_defaults(void **state)
{
    (void)state;
    dcm_config *cfg = NULL;
    dcm_diags d;
    assert_int_equal(load("collectors:\n  - {name: a, type: meter, interval: 30s}\n", &cfg, &d),
                     DCM_CONFIG_OK);
    assert_int_equal(d.count, 0);
    assert_string_equal(cfg->agent.site, "site");
    assert_int_equal(cfg->agent.interval_ns, DCM_NS_PER_S);
    assert_string_equal(cfg->agent.state_dir, "/var/lib/dcmetrics");
    assert_int_equal(cfg->agent.log_level, DCM_LOG_INFO);
    assert_int_equal(cfg->collectors[0].interval_ns, 30 * DCM_NS_PER_S);
    assert_int_equal(cfg->collectors[0].timeout_ns, 5 * DCM_NS_PER_S);
    assert_string_equal(cfg->site.timezone, "UTC");
    assert_null(cfg->site.name);
    assert_int_equal(cfg->site.pue_category, 0);
    assert_false(cfg->site.has_location_factor);
    assert_true(cfg->site.onsite_attributes_retained);
    assert_near(cfg->site.coverage_ok, 0.95, 0.0);
    assert_int_equal(cfg->site.max_gap_ns, 300 * DCM_NS_PER_S);
    assert_null(cfg->outputs.mqtt);
    assert_null(cfg->outputs.influxdb);
    assert_null(cfg->outputs.http);
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);
}

/* ------------------------------------------------------------- errors */

static void test_unknown_key_suggestion(void **state)
{
    (void)state;
    dcm_diags d;
    load_bad("agent:\n  site: x\n  intervall: 1s\ncolector: []\n", DCM_CONFIG_EINVALID, 2, &d);
    expect_diag(&d, "unknown key 'intervall', did you mean 'interval'?", 3, 3, "agent");
    expect_diag(&d, "unknown key 'colector', did you mean 'collectors'?", 4, 1, "");
    dcm_diags_free(&d);
    /* Far from every key: the valid keys are listed instead. */
    load_bad("outputs:\n  http: {listen: ':80', zebra: 1}\n", DCM_CONFIG_EINVALID, 1, &d);
    expect_diag(&d, "unknown key 'zebra' (valid keys: listen, auth_file, tls_cert, tls_key, pue_target)", 2,
                25, "outputs.http");
    dcm_diags_free(&d);
    /* A collector's own keys come from its descriptor. */
    load_bad("collectors:\n  - name: a\n    type: testdev\n    url: x\n    scael: 2\n",
             DCM_CONFIG_EINVALID, 1, &d);
    expect_diag(&d, "unknown key 'scael', did you mean 'scale'?", 5, 5, "collectors[0]");
    dcm_diags_free(&d);
}

static void test_wrong_types(void **state)
{
    (void)state;
    dcm_diags d;
    load_bad("agent:\n"
             "  interval: [1]\n"
             "collectors:\n"
             "  - name: a\n"
             "    type: testdev\n"
             "    url: {x: 1}\n"
             "    unit: two\n"
             "    verbose: maybe\n"
             "    points: 3\n"
             "    scale: 1.2.3\n"
             "    options: []\n"
             "site: [1]\n",
             DCM_CONFIG_EINVALID, 8, &d);
    expect_diag(&d, "expected a duration like 500ms, 1s, 15m, got a list", 2, 13,
                "agent.interval");
    expect_diag(&d, "expected a string, got a mapping", 6, 10, "collectors[0].url");
    expect_diag(&d, "expected an integer, got 'two'", 7, 11, "collectors[0].unit");
    expect_diag(&d, "expected true or false, got 'maybe'", 8, 14, "collectors[0].verbose");
    expect_diag(&d, "expected a list, got '3'", 9, 13, "collectors[0].points");
    expect_diag(&d, "expected a number, got '1.2.3'", 10, 12, "collectors[0].scale");
    expect_diag(&d, "expected a mapping, got a list", 11, 14, "collectors[0].options");
    expect_diag(&d, "expected a mapping, got a list", 12, 7, "site");
    dcm_diags_free(&d);
}

static void test_bad_duration(void **state)
{
    (void)state;
    dcm_diags d;
    load_bad("collectors:\n  - name: a\n    type: meter\n    interval: 5 seconds\n"
             "  - name: b\n    type: meter\n    interval: 1ms\n"
             "  - name: c\n    type: meter\n    interval: 1s\n    timeout: 2s\n",
             DCM_CONFIG_EINVALID, 3, &d);
    expect_diag(&d, "expected a duration like 500ms, 1s, 15m, got '5 seconds'", 4, 15,
                "collectors[0].interval");
    expect_diag(&d, "must be at least 10ms", 7, 15, "collectors[1].interval");
    expect_diag(&d, "must not exceed the poll interval", 11, 14, "collectors[2].timeout");
    dcm_diags_free(&d);
}

static void test_missing_required(void **state)
{
    (void)state;
    dcm_diags d;
    load_bad("collectors:\n"
             "  - name: a\n"
             "    type: testdev\n"
             "  - type: meter\n"
             "site:\n"
             "  zones:\n"
             "    - name: z\n"
             "  certificates:\n"
             "    - period: '2026'\n"
             "outputs:\n"
             "  mqtt:\n"
             "    prefix: p\n",
             DCM_CONFIG_EINVALID, 5, &d);
    expect_diag(&d, "missing required key 'url': device URL", 2, 5, "collectors[0]");
    expect_diag(&d, "missing required key 'name'", 4, 5, "collectors[1]");
    expect_diag(&d, "missing required key 'it'", 7, 7, "site.zones[0]");
    expect_diag(&d, "missing required key 'kwh'", 9, 7, "site.certificates[0]");
    expect_diag(&d, "missing required key 'url'", 12, 5, "outputs.mqtt");
    dcm_diags_free(&d);
}

static void test_duplicates(void **state)
{
    (void)state;
    dcm_diags d;
    load_bad("agent:\n  site: a\n  site: b\n"
             "collectors:\n  - {name: m, type: meter}\n  - {name: m, type: meter}\n",
             DCM_CONFIG_EINVALID, 2, &d);
    expect_diag(&d, "duplicate key 'site' (first given at line 2, column 3)", 3, 3, "");
    expect_diag(&d, "duplicate collector name 'm' (also collectors[0], line 5)", 6, 12,
                "collectors[1].name");
    dcm_diags_free(&d);
}

static void test_collector_types(void **state)
{
    (void)state;
    dcm_diags d;
    load_bad("collectors:\n"
             "  - {name: a, type: testdve, whatever: 1}\n"
             "  - {name: b, type: modbus, url: x}\n"
             "  - {name: 'bad name', type: meter}\n"
             "  - {name: c, type: oldabi}\n",
             DCM_CONFIG_EINVALID, 4, &d);
    expect_diag(&d,
                "unknown collector type 'testdve', did you mean 'testdev'? (compiled-in types: "
                "testdev, meter, oldabi)",
                2, 21, "collectors[0].type");
    expect_diag(&d, "collector type 'modbus' is not compiled into this build", 3, 21,
                "collectors[1].type");
    expect_diag(&d, "expected letters, digits, '_' and '-'", 4, 12, "collectors[2].name");
    char want[128];
    snprintf(want, sizeof(want), "collector type 'oldabi' was built for ABI %d, this agent speaks %d",
             DCM_COLLECTOR_ABI + 1, DCM_COLLECTOR_ABI);
    expect_diag(&d, want, 5, 21, "collectors[3].type");
    dcm_diags_free(&d);
}

static void test_site_errors(void **state)
{
    (void)state;
    dcm_diags d;
    load_bad("site:\n"
             "  timezone: Asia/Taipe\n"
             "  pue_category: 4\n"
             "  roles:\n"
             "    grdi: [main.energy]\n"
             "    it: [{a: 1}, '']\n"
             "  carbon:\n"
             "    location_factor: 494\n"
             "    market_factor: -0.1\n"
             "    location_year: 1800\n"
             "  certificates:\n"
             "    - {period: 2026-13, kwh: 1}\n"
             "    - {period: '2026', kwh: 1, type: gos}\n"
             "  coverage_ok: 1.5\n"
             "  type: colo\n",
             DCM_CONFIG_EINVALID, 12, &d);
    expect_diag(&d, "unknown time zone 'Asia/Taipe', did you mean 'Asia/Taipei'?", 2, 13, "site.timezone");
    expect_diag(&d, "expected 1, 2 or 3", 3, 17, "site.pue_category");
    expect_diag(&d, "unknown role 'grdi', did you mean 'grid'?", 5, 5, "site.roles");
    expect_diag(&d, "expected a glob over point ids", 6, 10, "site.roles.it[0]");
    expect_diag(&d, "expected a glob over point ids", 6, 18, "site.roles.it[1]");
    expect_diag(&d, "expected kgCO2e/kWh from 0 to below 5, got 494 (a value in g/kWh?", 8, 22,
                "site.carbon.location_factor");
    expect_diag(&d, "expected kgCO2e/kWh from 0 to below 5, got -0.1", 9, 20,
                "site.carbon.market_factor");
    expect_diag(&d, "expected a year from 1990 to 2100, got 1800", 10, 20,
                "site.carbon.location_year");
    expect_diag(&d, "expected a period like 2026", 12, 16, "site.certificates[0].period");
    expect_diag(&d, "expected certificate, go, rec or ppa, got 'gos', did you mean 'go'?", 13,
                38, "site.certificates[1].type");
    expect_diag(&d, "expected a number from 0 to 1, got 1.5", 14, 16, "site.coverage_ok");
    expect_diag(&d, "expected enterprise, colocation or co-hosting, got 'colo'", 15, 9,
                "site.type");
    dcm_diags_free(&d);

    /* A factor of exactly 5 is out, just below is in. */
    load_bad("site: {carbon: {fuel_factor: 5}}\n", DCM_CONFIG_EINVALID, 1, &d);
    dcm_diags_free(&d);
    dcm_config *cfg = NULL;
    assert_int_equal(load("site: {carbon: {fuel_factor: 4.99}}\n", &cfg, &d), DCM_CONFIG_OK);
    assert_near(cfg->site.fuel_factor, 4.99, 0.0);
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);
}

static void test_output_errors(void **state)
{
    (void)state;
    dcm_diags d;
    load_bad("outputs:\n"
             "  mqtt:\n"
             "    url: http://x\n"
             "    qos: 3\n"
             "    version: '4'\n"
             "    cert_file: c.pem\n"
             "  influxdb:\n"
             "    url: http://x:8086\n"
             "    precision: sec\n"
             "  http:\n"
             "    listen: 8080\n",
             DCM_CONFIG_EINVALID, 7, &d);
    expect_diag(&d, "expected a URL like tcp://host:1883", 3, 10, "outputs.mqtt.url");
    expect_diag(&d, "expected an integer from 0 to 2, got 3", 4, 10, "outputs.mqtt.qos");
    expect_diag(&d, "expected 3.1, 3.1.1 or 5, got '4'", 5, 14, "outputs.mqtt.version");
    expect_diag(&d, "'cert_file' needs 'key_file' beside it", 6, 16, "outputs.mqtt");
    expect_diag(&d, "expected ns, us, ms or s, got 'sec'", 9, 16, "outputs.influxdb.precision");
    expect_diag(&d, "give 'database' (InfluxDB 1.x) or 'org' and 'bucket' (2.x)", 8, 5,
                "outputs.influxdb");
    expect_diag(&d, "expected address:port", 11, 13, "outputs.http.listen");
    dcm_diags_free(&d);
}

static void test_syntax_error_position(void **state)
{
    (void)state;
    dcm_diags d;
    load_bad("agent:\n  site: a\n  interval: [1s\nsite: {}\n", DCM_CONFIG_ESYNTAX, 1, &d);
    const dcm_diag *g = find_diag(&d, "invalid YAML: ");
    assert_int_equal(g->line, 4);
    assert_int_equal(g->column, 5);
    assert_string_equal(g->file, "test.yaml");
    dcm_diags_free(&d);
    load_bad("a: b\n  c: d\n", DCM_CONFIG_ESYNTAX, 1, &d);
    expect_diag(&d, "mapping values are not allowed in this context", 2, 4, "");
    dcm_diags_free(&d);
    load_bad("a: 1\n\t b: 2\n", DCM_CONFIG_ESYNTAX, 1, &d);
    dcm_diags_free(&d);
    load_bad("a: \"\xff\xfe\"\n", DCM_CONFIG_ESYNTAX, 1, &d);
    expect_diag(&d, "(the file must be UTF-8 text)", 1, 5, "");
    dcm_diags_free(&d);
    load_bad("agent: {}\n---\nagent: {}\n", DCM_CONFIG_ESYNTAX, 1, &d);
    expect_diag(&d, "only one YAML document is allowed", 2, 1, "");
    dcm_diags_free(&d);
}

static void test_refused_yaml_features(void **state)
{
    (void)state;
    dcm_diags d;
    load_bad("base: &b {x: 1}\nagent: *b\n", DCM_CONFIG_EINVALID, 3, &d);
    expect_diag(&d, "anchors (&b) are not supported", 1, 7, "");
    expect_diag(&d, "aliases (*b) are not supported", 2, 8, "");
    expect_diag(&d, "unknown key 'base'", 1, 1, "");
    dcm_diags_free(&d);
    /* Text quoted from the file cannot break a diagnostic over lines. */
    load_bad("agent: {\"a\\nb\\x1b[2J\": 1}\n", DCM_CONFIG_EINVALID, 1, &d);
    expect_diag(&d, "unknown key 'a?b?[2J'", 1, 9, "agent");
    dcm_diags_free(&d);
    load_bad("agent:\n  <<: {site: x}\n", DCM_CONFIG_EINVALID, 2, &d);
    expect_diag(&d, "merge keys ('<<') are not supported", 2, 3, "");
    dcm_diags_free(&d);
    load_bad("? [a]\n: 1\n", DCM_CONFIG_EINVALID, 1, &d);
    expect_diag(&d, "a mapping key must be a plain string, not a list", 1, 3, "");
    dcm_diags_free(&d);
    /* Deep nesting is refused before it costs anything. */
    char deep[400];
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    deep[n] = '\0';
    load_bad(deep, DCM_CONFIG_ESYNTAX, 1, &d);
    find_diag(&d, "nests deeper than 64 levels");
    dcm_diags_free(&d);
    load_bad("", DCM_CONFIG_EINVALID, 1, &d);
    find_diag(&d, "the configuration is empty");
    dcm_diags_free(&d);
    load_bad("- a\n", DCM_CONFIG_EINVALID, 1, &d);
    expect_diag(&d, "expected a mapping, got a list", 1, 1, "");
    dcm_diags_free(&d);
}

static void test_many_errors_one_run(void **state)
{
    (void)state;
    dcm_diags d;
    load_bad("agent: {interval: x, log_level: loud, site: 'a b'}\n"
             "collectors:\n  - {name: a, type: nope}\n  - 7\n"
             "site: {timezone: Mars/Base, roles: {total: 1}}\n",
             DCM_CONFIG_EINVALID, 6, &d);
    find_diag(&d, "expected a duration");
    find_diag(&d, "expected error, warn, info or debug, got 'loud'");
    find_diag(&d, "expected an id of letters");
    find_diag(&d, "unknown collector type 'nope' (compiled-in types: testdev, meter, oldabi)");
    expect_diag(&d, "expected a mapping, got '7'", 4, 5, "collectors[1]");
    find_diag(&d, "unknown time zone 'Mars/Base'");
    dcm_diags_free(&d);
}

/* ------------------------------------------------------------- secrets */

static const char *secret_text = "hunter2-Xq9";

static bool diags_mention(const dcm_diags *d, const char *s)
{
    for (size_t i = 0; i < d->count; i++)
        if (strstr(d->items[i].message, s) || strstr(d->items[i].path, s))
            return true;
    return false;
}

static void test_secrets(void **state)
{
    (void)state;
    char path[] = "/tmp/dcm-test-secret-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char content[64];
    int len = snprintf(content, sizeof(content), "%s\nsecond line\n", secret_text);
    assert_int_equal(write(fd, content, (size_t)len), len);
    close(fd);
    setenv("DCM_TEST_SECRET", secret_text, 1);

    char yaml[1024];
    snprintf(yaml, sizeof(yaml),
             "outputs:\n"
             "  mqtt: {url: 'tcp://h:1883', password_file: '%s'}\n"
             "  influxdb: {url: 'http://h', bucket: b, org: o, token_env: DCM_TEST_SECRET}\n",
             path);
    dcm_config *cfg = NULL;
    dcm_diags d;
    assert_int_equal(load(yaml, &cfg, &d), DCM_CONFIG_OK);
    assert_int_equal(d.count, 0);
    char err[256];
    char *s = dcm_node_secret(cfg->outputs.mqtt, "password", err, sizeof(err));
    assert_non_null(s);
    assert_string_equal(s, secret_text);
    free(s);
    s = dcm_node_secret(cfg->outputs.influxdb, "token", err, sizeof(err));
    assert_non_null(s);
    assert_string_equal(s, secret_text);
    free(s);
    /* Absent: NULL and an empty reason. */
    s = dcm_node_secret(cfg->outputs.influxdb, "password", err, sizeof(err));
    assert_null(s);
    assert_string_equal(err, "");
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);

    /* Errors around secrets never show them. */
    snprintf(yaml, sizeof(yaml),
             "outputs:\n"
             "  mqtt: {url: 'tcp://h:1883', password: [%s], password_env: DCM_TEST_SECRET}\n"
             "  influxdb: {url: 'http://h', database: d, password: {x: %s}}\n"
             "collectors:\n  - {name: a, type: testdev, url: u, password: %s, passwrd: %s}\n",
             secret_text, secret_text, secret_text, secret_text);
    load_bad(yaml, DCM_CONFIG_EINVALID, 4, &d);
    expect_diag(&d, "give only one of password, password_file and password_env", 2, 70,
                "outputs.mqtt.password");
    expect_diag(&d, "expected a string, got a mapping", 3, 54, "outputs.influxdb.password");
    expect_diag(&d, "unknown key 'passwrd', did you mean 'password'?", 5, 61, "collectors[0]");
    assert_false(diags_mention(&d, secret_text));
    dcm_diags_free(&d);

    snprintf(yaml, sizeof(yaml), "collectors:\n  - {name: a, type: testdev, url: u, unit: %s}\n",
             secret_text);
    load_bad(yaml, DCM_CONFIG_EINVALID, 1, &d);
    dcm_diags_free(&d);

    /* A literal secret where a number is expected is not echoed either. */
    snprintf(yaml, sizeof(yaml),
             "outputs:\n  mqtt: {url: 'tcp://h:1883', password: '%s'}\n"
             "  influxdb: {url: 'http://h', database: d, token: [a]}\n",
             secret_text);
    load_bad(yaml, DCM_CONFIG_EINVALID, 1, &d);
    expect_diag(&d, "expected a string, got a list", 3, 51, "outputs.influxdb.token");
    assert_false(diags_mention(&d, secret_text));
    dcm_diags_free(&d);

    /* Unreadable sources: a warning naming the file or variable, not the secret. */
    snprintf(yaml, sizeof(yaml),
             "outputs:\n  mqtt: {url: 'tcp://h:1883', password_file: /nonexistent/dcm-pw}\n"
             "  influxdb: {url: 'http://h', database: d, token_env: DCM_TEST_NOT_SET_Q}\n");
    unsetenv("DCM_TEST_NOT_SET_Q");
    assert_int_equal(load(yaml, &cfg, &d), DCM_CONFIG_OK);
    assert_int_equal(d.errors, 0);
    assert_int_equal(d.count, 2);
    const dcm_diag *g = find_diag(&d, "cannot read password_file '/nonexistent/dcm-pw'");
    assert_int_equal(g->severity, DCM_DIAG_WARNING);
    find_diag(&d, "environment variable DCM_TEST_NOT_SET_Q is not set");
    s = dcm_node_secret(cfg->outputs.mqtt, "password", err, sizeof(err));
    assert_null(s);
    assert_non_null(strstr(err, "No such file"));
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);

    /* An empty secret file is refused. */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    close(fd);
    snprintf(yaml, sizeof(yaml), "mqtt: {password_file: '%s'}\n", path);
    dcm_node *root = NULL;
    assert_int_equal(dcm_node_parse(yaml, strlen(yaml), "s.yaml", &root, &d), DCM_CONFIG_OK);
    s = dcm_node_secret(dcm_node_get(root, "mqtt"), "password", err, sizeof(err));
    assert_null(s);
    assert_non_null(strstr(err, "is empty"));
    dcm_node_free(root);
    dcm_diags_free(&d);
    unlink(path);
    unsetenv("DCM_TEST_SECRET");
}

/* ------------------------------------------------------------- files */

static void test_load_file(void **state)
{
    (void)state;
    dcm_config *cfg = (dcm_config *)1;
    dcm_diags d;
    dcm_diags_init(&d);
    assert_int_equal(dcm_config_load("/nonexistent/dcm.yaml", &cfg, &d), DCM_CONFIG_EIO);
    assert_null(cfg);
    assert_int_equal(d.errors, 1);
    assert_string_equal(d.items[0].file, "/nonexistent/dcm.yaml");
    assert_int_equal(d.items[0].line, 0);
    assert_non_null(strstr(d.items[0].message, "No such file or directory"));
    dcm_diags_free(&d);

    char path[] = "/tmp/dcm-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "agent:\n  site: ok\n  state_dri: /x\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    dcm_diags_init(&d);
    assert_int_equal(dcm_config_load(path, &cfg, &d), DCM_CONFIG_EINVALID);
    assert_int_equal(d.errors, 1);
    assert_string_equal(d.items[0].file, path);
    assert_int_equal(d.items[0].line, 3);
    assert_int_equal(d.items[0].column, 3);
    assert_string_equal(d.items[0].message, "unknown key 'state_dri', did you mean 'state_dir'?");

    /* The printed form: file:line:column: error: path: message. */
    char *buf = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&buf, &size);
    assert_non_null(mem);
    dcm_diags_print(&d, mem);
    fclose(mem);
    char want[256];
    snprintf(want, sizeof(want),
             "%s:3:3: error: agent: unknown key 'state_dri', did you mean 'state_dir'?\n", path);
    assert_string_equal(buf, want);
    free(buf);
    dcm_diags_free(&d);
    unlink(path);

    assert_int_equal(dcm_config_load("/", &cfg, &d), DCM_CONFIG_EIO);
    find_diag(&d, "not a regular file");
    dcm_diags_free(&d);
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(dcm_config_strerror(DCM_CONFIG_OK), "ok");
    assert_string_equal(dcm_config_strerror(DCM_CONFIG_ESYNTAX), "YAML syntax error");
    assert_string_equal(dcm_config_strerror(DCM_CONFIG_EINVALID), "invalid configuration");
    assert_string_equal(dcm_config_strerror((dcm_config_err)99), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_positions),
        cmocka_unit_test(test_node_readers),
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_load_full),
        cmocka_unit_test(test_load_defaults),
        cmocka_unit_test(test_unknown_key_suggestion),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_bad_duration),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_collector_types),
        cmocka_unit_test(test_site_errors),
        cmocka_unit_test(test_output_errors),
        cmocka_unit_test(test_syntax_error_position),
        cmocka_unit_test(test_refused_yaml_features),
        cmocka_unit_test(test_many_errors_one_run),
        cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
