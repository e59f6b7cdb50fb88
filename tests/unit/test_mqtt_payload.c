/* MQTT topics, payloads ("ts" first, no NaN/Inf ever) and the sink's options. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kpi_json.h"
#include "mqtt_int.h"

#define T2025 (INT64_C(1735689600) * DCM_NS_PER_S) /* 2025-01-01T00:00:00Z */

static dcm_jrec sample(const char *point, double value, dcm_quality q)
{
    dcm_jrec r = {.seq = 1, .type = DCM_JREC_SAMPLE, .ts_ns = T2025 + 250000000, .point = point,
                  .unit = "W", .value = value, .quality = (uint8_t)q};
    return r;
}

static void test_topics(void **state)
{
    (void)state;
    char t[DCM_MQTT_TOPIC_MAX];
    dcm_jrec r = sample("pdu-a1.outlet.3.power", 1, DCM_QUALITY_OK);
    size_t n = dcm_mqtt_topic(t, sizeof t, "dcmetrics", "hall-1", &r);
    assert_string_equal(t, "dcmetrics/hall-1/point/pdu-a1/outlet.3.power");
    assert_int_equal(n, strlen(t));

    /* Levels cannot be split or turned into wildcards by what a point is called. */
    r.point = "gpus.a+b#c/d\x01";
    dcm_mqtt_topic(t, sizeof t, "plant/energy", "hall/1", &r);
    assert_string_equal(t, "plant/energy/hall_1/point/gpus/a_b_c_d_");

    dcm_jrec k = {.type = DCM_JREC_KPI, .key = "15m", .body = "{}", .body_len = 2};
    dcm_mqtt_topic(t, sizeof t, "dcmetrics", "s", &k);
    assert_string_equal(t, "dcmetrics/s/kpi/15m");
    dcm_jrec a = {.type = DCM_JREC_ALERT, .key = "pue-high", .body = "{}", .body_len = 2};
    dcm_mqtt_topic(t, sizeof t, "dcmetrics", "s", &a);
    assert_string_equal(t, "dcmetrics/s/alert");
    assert_int_equal(dcm_mqtt_status_topic(t, sizeof t, "dcmetrics", "s"), 18);
    assert_string_equal(t, "dcmetrics/s/status");

    /* No topic: a point id without its instance, an empty KPI key, no room. */
    r.point = "nodot";
    assert_int_equal(dcm_mqtt_topic(t, sizeof t, "dcmetrics", "s", &r), 0);
    r.point = "inst.";
    assert_int_equal(dcm_mqtt_topic(t, sizeof t, "dcmetrics", "s", &r), 0);
    k.key = "";
    assert_int_equal(dcm_mqtt_topic(t, sizeof t, "dcmetrics", "s", &k), 0);
    r.point = "pdu.power";
    char small[20];
    assert_int_equal(dcm_mqtt_topic(small, sizeof small, "dcmetrics", "site", &r), 0);
    assert_int_equal(dcm_mqtt_topic(small, 0, "dcmetrics", "site", &r), 0);
}

static void test_point_payload(void **state)
{
    (void)state;
    size_t len;
    dcm_jrec r = sample("pdu-a1.power", 1234.5, DCM_QUALITY_OK);
    char *p = dcm_mqtt_point_payload(&r, &len);
    assert_non_null(p);
    assert_string_equal(p, "{\"ts\":\"2025-01-01T00:00:00.25Z\",\"point\":\"pdu-a1.power\","
                           "\"value\":1234.5,\"unit\":\"W\",\"quality\":\"ok\"}");
    assert_int_equal(len, strlen(p));
    free(p);

    r.quality = DCM_QUALITY_PARTIAL;
    r.value = -0.125;
    r.ts_ns = T2025;
    p = dcm_mqtt_point_payload(&r, &len);
    assert_string_equal(p, "{\"ts\":\"2025-01-01T00:00:00Z\",\"point\":\"pdu-a1.power\","
                           "\"value\":-0.125,\"unit\":\"W\",\"quality\":\"partial\"}");
    free(p);

    /* Never NaN or Inf: no reading is null, and says so in quality. */
    const double bad[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < 3; i++) {
        r.value = bad[i];
        r.quality = DCM_QUALITY_OK;
        p = dcm_mqtt_point_payload(&r, &len);
        assert_string_equal(p, "{\"ts\":\"2025-01-01T00:00:00Z\",\"point\":\"pdu-a1.power\","
                               "\"value\":null,\"unit\":\"W\",\"quality\":\"invalid\"}");
        assert_null(strstr(p, "nan"));
        assert_null(strstr(p, "inf"));
        free(p);
    }
    r.value = 42;
    r.quality = DCM_QUALITY_INVALID;
    p = dcm_mqtt_point_payload(&r, &len);
    assert_non_null(strstr(p, "\"value\":null"));
    assert_non_null(strstr(p, "\"quality\":\"invalid\""));
    free(p);
}

static void expect_body(const char *body, const char *want)
{
    size_t len = 0;
    char *p = dcm_mqtt_body_payload(body, strlen(body), T2025 + 60 * DCM_NS_PER_S, &len);
    if (!want) {
        assert_null(p);
        return;
    }
    assert_non_null(p);
    assert_string_equal(p, want);
    assert_int_equal(len, strlen(want));
    assert_int_equal(dcm_mqtt_json_has_member(p, len, "ts"), 1);
    free(p);
}

static void test_body_ts(void **state)
{
    (void)state;
    expect_body("{\"window\":\"1m\"}", "{\"ts\":\"2025-01-01T00:01:00Z\",\"window\":\"1m\"}");
    expect_body("{}", "{\"ts\":\"2025-01-01T00:01:00Z\"}");
    expect_body(" { \n } ", "{\"ts\":\"2025-01-01T00:01:00Z\" \n } ");
    /* A body that has its own ts keeps it. */
    expect_body("{\"a\":1,\"ts\":\"2024-12-31T23:59:00Z\"}",
                "{\"a\":1,\"ts\":\"2024-12-31T23:59:00Z\"}");
    /* Only top-level members count: nested objects and string contents are skipped. */
    expect_body("{\"a\":{\"ts\":1},\"b\":[{\"ts\":2}],\"c\":\"\\\"ts\\\":\"}",
                "{\"ts\":\"2025-01-01T00:01:00Z\",\"a\":{\"ts\":1},\"b\":[{\"ts\":2}],"
                "\"c\":\"\\\"ts\\\":\"}");
    /* Not an object, or not well formed: no payload. */
    expect_body("[1,2]", NULL);
    expect_body("{\"a\":1", NULL);
    expect_body("{\"a\" 1}", NULL);
    expect_body("{\"a\":1} x", NULL);
    expect_body("{\"a\":}", NULL);
    expect_body("", NULL);
    const char *obj = "{\"a\":1,\"b\":null}";
    assert_int_equal(dcm_mqtt_json_has_member(obj, strlen(obj), "b"), 1);
    assert_int_equal(dcm_mqtt_json_has_member(obj, strlen(obj), "c"), 0);
    assert_int_equal(dcm_mqtt_json_has_member(obj, strlen(obj) - 1, "b"), -1); /* cut */
    assert_int_equal(dcm_mqtt_json_has_member("{\"a\":\"}\"}", 9, "a"), 1);
}

/* A real KPI record body from kpi_json.h gets "ts" and is otherwise unchanged. */
static void test_kpi_body(void **state)
{
    (void)state;
    dcm_totals totals;
    dcm_kpi_set kpi;
    memset(&totals, 0, sizeof totals);
    memset(&kpi, 0, sizeof kpi);
    kpi.pue.has_value = true;
    kpi.pue.value = 1.25;
    dcm_kpi_json_in in = {.site = "s", .has_window = true, .window = DCM_WINDOW_1M,
                          .start_ns = T2025, .end_ns = T2025 + 60 * DCM_NS_PER_S,
                          .totals = &totals, .kpi = &kpi};
    dcm_json j;
    dcm_json_init(&j, 0);
    dcm_kpi_json_write(&j, &in);
    size_t blen;
    char *body = dcm_json_release(&j, &blen);
    dcm_json_free(&j);
    assert_non_null(body);
    assert_int_equal(dcm_mqtt_json_has_member(body, blen, "ts"), 0);
    assert_int_equal(dcm_mqtt_json_has_member(body, blen, "kpi"), 1);
    assert_int_equal(dcm_mqtt_json_has_member(body, blen, "pue"), 0); /* nested in kpi */
    size_t len;
    char *p = dcm_mqtt_body_payload(body, blen, in.end_ns, &len);
    assert_non_null(p);
    const char *head = "{\"ts\":\"2025-01-01T00:01:00Z\",";
    assert_memory_equal(p, head, strlen(head));
    assert_string_equal(p + strlen(head), body + 1);
    assert_non_null(strstr(p, "\"pue\":1.25"));
    free(p);
    free(body);
}

static void test_status_payload(void **state)
{
    (void)state;
    size_t len;
    char *p = dcm_mqtt_status_payload("offline", T2025, "dcmetrics-\"x\"", &len);
    assert_string_equal(p, "{\"ts\":\"2025-01-01T00:00:00Z\",\"status\":\"offline\","
                           "\"client_id\":\"dcmetrics-\\\"x\\\"\"}");
    free(p);
}

/* ------------------------------------------------------------------ options */

static dcm_config *load(const char *yaml, dcm_diags *d)
{
    dcm_config *cfg = NULL;
    dcm_diags_init(d);
    dcm_config_load_string(yaml, strlen(yaml), "test.yaml", &cfg, d);
    return cfg;
}

static void test_options_defaults(void **state)
{
    (void)state;
    dcm_diags d;
    dcm_config *cfg = load("agent: {site: hall-7}\n"
                           "outputs:\n  mqtt: {url: 'tcp://127.0.0.1:1883'}\n",
                           &d);
    assert_non_null(cfg);
    assert_int_equal(d.errors, 0);
    dcm_mqtt_options o;
    char err[200];
    assert_int_equal(dcm_mqtt_options_load(cfg, cfg->outputs.mqtt, &o, err, sizeof err), 0);
    assert_string_equal(o.client_id, "dcmetrics-hall-7");
    assert_string_equal(o.prefix, "dcmetrics");
    assert_string_equal(o.site, "hall-7");
    assert_int_equal(o.qos, 1);
    assert_int_equal(o.version, 4);
    assert_int_equal(o.keepalive_s, 30);
    assert_int_equal(o.max_inflight, 200);
    assert_true(o.point_expiry_ns == 3600 * DCM_NS_PER_S);
    assert_true(o.verify);
    assert_false(o.tls);
    assert_null(o.username);
    assert_null(o.password);
    dcm_mqtt_options_free(&o);
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);
}

static void test_options_given(void **state)
{
    (void)state;
    setenv("DCM_TEST_MQTT_PW", "s3cret", 1);
    dcm_diags d;
    dcm_config *cfg = load("agent: {site: a}\n"
                           "outputs:\n  mqtt:\n    url: mqtts://broker:8883\n"
                           "    qos: 2\n    version: '5'\n    keepalive: 1m\n"
                           "    client_id: me\n    username: u\n"
                           "    password_env: DCM_TEST_MQTT_PW\n    verify: false\n"
                           "    max_inflight: 7\n    point_expiry: 0\n    prefix: x/y\n",
                           &d);
    assert_non_null(cfg);
    assert_int_equal(d.errors, 0);
    dcm_mqtt_options o;
    char err[200];
    assert_int_equal(dcm_mqtt_options_load(cfg, cfg->outputs.mqtt, &o, err, sizeof err), 0);
    assert_string_equal(o.client_id, "me");
    assert_string_equal(o.password, "s3cret");
    assert_string_equal(o.username, "u");
    assert_string_equal(o.prefix, "x/y");
    assert_int_equal(o.qos, 2);
    assert_int_equal(o.version, 5);
    assert_int_equal(o.keepalive_s, 60);
    assert_int_equal(o.max_inflight, 7);
    assert_true(o.point_expiry_ns == 0);
    assert_true(o.tls);
    assert_false(o.verify);
    dcm_mqtt_options_free(&o);
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);

    /* A password file that cannot be read fails create, without the secret in the
     * reason. */
    cfg = load("outputs:\n  mqtt:\n    url: tcp://h:1883\n"
               "    password_file: /nonexistent/dcm-mqtt-password\n",
               &d);
    assert_non_null(cfg); /* the file is read when the output starts, not at load */
    err[0] = '\0';
    assert_int_equal(dcm_mqtt_options_load(cfg, cfg->outputs.mqtt, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "password"));
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);

    /* The secret itself never reaches an error message. */
    FILE *f = fopen(DCM_BINARY_DIR "/test_mqtt_pw.txt", "w");
    assert_non_null(f);
    fputs("hunter2\n", f);
    fclose(f);
    cfg = load("outputs:\n  mqtt:\n    url: tcp://h:1883\n"
               "    password_file: " DCM_BINARY_DIR "/test_mqtt_pw.txt\n    version: '4'\n",
               &d);
    assert_null(cfg);
    for (size_t i = 0; i < d.count; i++)
        assert_null(strstr(d.items[i].message, "hunter2"));
    dcm_diags_free(&d);
    cfg = load("outputs:\n  mqtt:\n    url: tcp://h:1883\n"
               "    password_file: " DCM_BINARY_DIR "/test_mqtt_pw.txt\n",
               &d);
    assert_non_null(cfg);
    assert_int_equal(dcm_mqtt_options_load(cfg, cfg->outputs.mqtt, &o, err, sizeof err), 0);
    assert_string_equal(o.password, "hunter2");
    dcm_mqtt_options_free(&o);
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);
    unlink(DCM_BINARY_DIR "/test_mqtt_pw.txt");
}

static bool has_diag(const dcm_diags *d, const char *path)
{
    for (size_t i = 0; i < d->count; i++)
        if (d->items[i].path && strcmp(d->items[i].path, path) == 0)
            return true;
    return false;
}

static void test_options_refused(void **state)
{
    (void)state;
    static const struct {
        const char *line, *path;
    } cases[] = {
        {"max_inflight: 0", "outputs.mqtt.max_inflight"},
        {"max_inflight: 70000", "outputs.mqtt.max_inflight"},
        {"point_expiry: 500ms", "outputs.mqtt.point_expiry"},
        {"prefix: 'a/#'", "outputs.mqtt.prefix"},
        {"prefix: '/a'", "outputs.mqtt.prefix"},
        {"qos: 3", "outputs.mqtt.qos"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml, "outputs:\n  mqtt:\n    url: tcp://h:1883\n    %s\n",
                 cases[i].line);
        dcm_diags d;
        dcm_config *cfg = load(yaml, &d);
        assert_null(cfg);
        if (!has_diag(&d, cases[i].path))
            fail_msg("no diagnostic at %s for '%s'", cases[i].path, cases[i].line);
        dcm_diags_free(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topics),          cmocka_unit_test(test_point_payload),
        cmocka_unit_test(test_body_ts),         cmocka_unit_test(test_kpi_body),
        cmocka_unit_test(test_status_payload),  cmocka_unit_test(test_options_defaults),
        cmocka_unit_test(test_options_given),   cmocka_unit_test(test_options_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
