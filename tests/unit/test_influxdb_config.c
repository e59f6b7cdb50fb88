/* outputs.influxdb: the loader's checks of its keys, and the sink built from them
 * (secrets from files, TLS options, the API chosen, refusals). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dcm/config.h"
#include "influxdb.h"

static dcm_config_err load(const char *influx, dcm_config **cfg, dcm_diags *d)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "agent: {site: t}\noutputs:\n  influxdb:\n%s", influx);
    dcm_diags_init(d);
    *cfg = NULL;
    return dcm_config_load_string(yaml, strlen(yaml), "test.yaml", cfg, d);
}

static bool has_diag(const dcm_diags *d, const char *path, const char *needle)
{
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->items[i].path, path) == 0 && strstr(d->items[i].message, needle))
            return true;
    for (size_t i = 0; i < d->count; i++)
        print_message("diag: %s: %s\n", d->items[i].path, d->items[i].message);
    return false;
}

static void test_new_keys_accepted(void **state)
{
    (void)state;
    dcm_config *cfg;
    dcm_diags d;
    assert_int_equal(load("    url: https://db.example:8086\n    database: dcm\n"
                          "    timeout: 2s\n    max_backoff: 5s\n    gzip: false\n"
                          "    verify: true\n    ca_file: /dev/null\n",
                          &cfg, &d),
                     DCM_CONFIG_OK);
    assert_int_equal(d.errors, 0);
    assert_non_null(cfg->outputs.influxdb);
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *path, *needle;
    } cases[] = {
        {"    url: http://h:8086\n    database: d\n    timeout: 50ms\n", "outputs.influxdb.timeout",
         "100ms"},
        {"    url: http://h:8086\n    database: d\n    max_backoff: 10ms\n",
         "outputs.influxdb.max_backoff", "100ms"},
        {"    url: http://h:8086\n    database: d\n    ca_file: /nonexistent/ca.pem\n",
         "outputs.influxdb.ca_file", "cannot read"},
        {"    url: http://h:8086\n    database: d\n    verify: maybe\n",
         "outputs.influxdb.verify", ""},
        {"    url: http://h:8086\n    database: d\n    precision: n\n",
         "outputs.influxdb.precision", "ns, us, ms or s"},
        {"    url: http://h:8086\n", "outputs.influxdb", "'database'"},
        {"    url: ftp://h\n    database: d\n", "outputs.influxdb.url", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dcm_config *cfg;
        dcm_diags d;
        assert_int_equal(load(cases[i].yaml, &cfg, &d), DCM_CONFIG_EINVALID);
        assert_null(cfg);
        assert_true(has_diag(&d, cases[i].path, cases[i].needle));
        dcm_diags_free(&d);
    }
}

/* The sink as the hub builds it (no journal needed to create and destroy it). */
static int create_sink(const char *influx, void **sink)
{
    dcm_config *cfg;
    dcm_diags d;
    assert_int_equal(load(influx, &cfg, &d), DCM_CONFIG_OK);
    dcm_sink_env env = {.config = cfg, .node = cfg->outputs.influxdb, .journal = NULL,
                        .reader = 0, .state_dir = "/tmp"};
    *sink = NULL;
    int rc = dcm_influxdb_sink.create(&env, sink);
    if (rc == 0) {
        dcm_sink_health h;
        dcm_influxdb_sink.health(*sink, &h);
        assert_false(h.connected);
        assert_int_equal(h.sent, 0);
        assert_int_equal(h.failures, 0);
        dcm_influxdb_sink.destroy(*sink);
    } else {
        assert_null(*sink);
    }
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);
    return rc;
}

static void test_sink_create(void **state)
{
    (void)state;
    assert_string_equal(dcm_influxdb_sink.name, "influxdb");
    char tok[] = "/tmp/dcm-influx-token-XXXXXX";
    int fd = mkstemp(tok);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc\n", 4), 4);
    close(fd);
    void *s;
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "    url: https://h:8086\n    org: o\n    bucket: b\n    token_file: %s\n"
             "    ca_file: /dev/null\n    precision: s\n",
             tok);
    assert_int_equal(create_sink(yaml, &s), 0);
    assert_int_equal(create_sink("    url: http://h:8086\n    database: d\n    username: u\n"
                                 "    password: p\n",
                                 &s),
                     0);
    /* A secret file that cannot be read is refused at create, with the reason logged. */
    assert_int_equal(create_sink("    url: http://h:8086\n    org: o\n    bucket: b\n"
                                 "    token_file: /nonexistent/token\n",
                                 &s),
                     -1);
    unlink(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_keys_accepted),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_sink_create),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
