/* A modbus collector entry: URLs (IPv4, IPv6, host names, serial options), timeouts,
 * profile points merged with the entry's own, several devices on one connection, and the
 * errors `dcmetrics check` and init report with their positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dcm/config.h"
#include "modbus_config.h"

#define MS INT64_C(1000000)

static void test_urls(void **s)
{
    (void)s;
    dcm_mb_url u;
    char why[256], text[300];
    assert_true(dcm_mb_url_parse("tcp://10.0.0.5:1502", &u, why, sizeof why));
    assert_false(u.rtu);
    assert_string_equal(u.host, "10.0.0.5");
    assert_string_equal(u.port, "1502");
    assert_true(dcm_mb_url_parse("tcp://meter-7.example.net", &u, why, sizeof why));
    assert_string_equal(u.host, "meter-7.example.net");
    assert_string_equal(u.port, "502");
    assert_true(dcm_mb_url_parse("tcp://[::1]:5020", &u, why, sizeof why));
    assert_string_equal(u.host, "::1");
    assert_string_equal(u.port, "5020");
    dcm_mb_url_format(&u, text, sizeof text);
    assert_string_equal(text, "tcp://[::1]:5020");
    assert_true(dcm_mb_url_parse("tcp://[fe80::1%eth0]", &u, why, sizeof why));
    assert_string_equal(u.host, "fe80::1%eth0");
    assert_true(dcm_mb_url_parse("rtu:///dev/ttyUSB0", &u, why, sizeof why));
    assert_true(u.rtu);
    assert_string_equal(u.device, "/dev/ttyUSB0");
    assert_int_equal(u.baud, 9600);
    assert_int_equal(u.parity, 'N');
    assert_int_equal(u.data_bits, 8);
    assert_int_equal(u.stop_bits, 1);
    assert_false(u.rs485);
    assert_true(dcm_mb_url_parse("rtu:///dev/ttyS1?baud=19200&parity=e&data=7&stop=2&rs485=1",
                                 &u, why, sizeof why));
    assert_int_equal(u.baud, 19200);
    assert_int_equal(u.parity, 'E');
    assert_int_equal(u.data_bits, 7);
    assert_int_equal(u.stop_bits, 2);
    assert_true(u.rs485);
    dcm_mb_url_format(&u, text, sizeof text);
    assert_string_equal(text, "rtu:///dev/ttyS1 19200 7E2 RS-485");

    static const struct {
        const char *url, *why;
    } bad[] = {
        {"http://x", "expected tcp://"},
        {"tcp://", "no host"},
        {"tcp://::1:502", "IPv6 address in brackets"},
        {"tcp://[::1", "missing ']'"},
        {"tcp://[::1]x", "expected ':PORT'"},
        {"tcp://host:0", "port 1..65535"},
        {"tcp://host:70000", "port 1..65535"},
        {"tcp://host/path", "path or query"},
        {"rtu://ttyUSB0", "absolute path"},
        {"rtu:///dev/ttyUSB0?baud=fast", "bad serial option"},
        {"rtu:///dev/ttyUSB0?parity=X", "bad serial option"},
        {"rtu:///dev/ttyUSB0?stop=3", "bad serial option"},
        {"rtu:///dev/ttyUSB0?flow=1", "bad serial option"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (dcm_mb_url_parse(bad[i].url, &u, why, sizeof why))
            fail_msg("%s accepted", bad[i].url);
        if (!strstr(why, bad[i].why))
            fail_msg("%s: '%s' lacks '%s'", bad[i].url, why, bad[i].why);
    }
}

/* Loads a configuration whose collectors are given, and parses collector ci. */
static dcm_config *load(const char *collectors, dcm_diags *d)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml, "agent: {interval: 1s}\ncollectors:\n%s", collectors);
    dcm_config *cfg = NULL;
    dcm_config_err e = dcm_config_load_string(yaml, strlen(yaml), "site.yaml", &cfg, d);
    if (e != DCM_CONFIG_OK) {
        dcm_diags_print(d, stderr);
        fail_msg("config: %s", dcm_config_strerror(e));
    }
    return cfg;
}

/* Some diagnostic containing text is placed at line:column. */
static void assert_diag(const dcm_diags *d, const char *text, int line, int column)
{
    for (size_t i = 0; i < d->count; i++) {
        const dcm_diag *g = &d->items[i];
        if (strstr(g->message, text) && g->line == line && g->column == column)
            return;
    }
    dcm_diags_print(d, stderr);
    fail_msg("no diagnostic containing '%s' at %d:%d", text, line, column);
}

/* The key path of the diagnostic containing text. */
static const char *diag_path(const dcm_diags *d, const char *text)
{
    for (size_t i = 0; i < d->count; i++)
        if (strstr(d->items[i].message, text))
            return d->items[i].path;
    fail_msg("no diagnostic containing '%s'", text);
    return NULL;
}

static const dcm_mb_point *find(const dcm_mb_device_spec *s, const char *name)
{
    for (size_t i = 0; i < s->point_count; i++)
        if (strcmp(s->points[i].name, name) == 0)
            return &s->points[i];
    return NULL;
}

static void test_single_device_with_overrides(void **s)
{
    (void)s;
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_config *cfg = load("  - name: main\n"
                           "    type: modbus\n"
                           "    url: tcp://127.0.0.1:1502\n"
                           "    unit: 7\n"
                           "    profile: eastron-sdm630\n"
                           "    addressing: 1\n"
                           "    max_registers: 60\n"
                           "    max_gap: 2\n"
                           "    byte_timeout: 20ms\n"
                           "    points:\n"
                           "      - {name: power, address: 53, table: input, type: f32, unit: kW}\n"
                           "      - {name: extra, address: 1, unit: V}\n",
                           &d);
    dcm_mb_instance inst;
    assert_int_equal(dcm_mb_instance_parse(cfg->collectors[0].node, cfg->collectors[0].interval_ns,
                                           "collectors[0]", &inst, &d),
                     DCM_MB_OK);
    assert_int_equal(inst.device_count, 1);
    const dcm_mb_device_spec *dev = &inst.devices[0];
    assert_null(dev->name);
    assert_int_equal(dev->unit, 7);
    assert_string_equal(dev->profile, "eastron-sdm630");
    assert_int_equal(dev->max_registers, 40); /* the profile's limit is lower */
    assert_int_equal(dev->max_gap, 2);
    /* Replaced in place (0x34 = 52, written 1-based as 53), unit changed. */
    const dcm_mb_point *pw = find(dev, "power");
    assert_non_null(pw);
    assert_int_equal(pw->address, 0x34);
    assert_string_equal(pw->unit, "kW");
    assert_string_equal(pw->file, "site.yaml");
    /* Profile points keep their own (0-based) addressing. */
    const dcm_mb_point *en = find(dev, "energy");
    assert_non_null(en);
    assert_int_equal(en->address, 0x48);
    assert_string_equal(en->file, "eastron-sdm630");
    const dcm_mb_point *ex = find(dev, "extra");
    assert_non_null(ex);
    assert_int_equal(ex->address, 0);
    assert_int_equal(ex->table, DCM_MB_HOLDING);
    /* Half the 1 s interval; the byte timeout as given. */
    assert_true(inst.response_timeout_ns == 500 * MS);
    assert_true(inst.byte_timeout_ns == 20 * MS);
    assert_int_equal(d.errors, 0);
    dcm_mb_instance_free(&inst);
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);
}

static void test_devices_on_one_bus(void **s)
{
    (void)s;
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_config *cfg = load("  - name: bus\n"
                           "    type: modbus\n"
                           "    url: rtu:///dev/ttyUSB0?baud=19200\n"
                           "    timeout: 300ms\n"
                           "    max_gap: 0\n"
                           "    devices:\n"
                           "      - {name: pdu1, unit: 2, profile: socomec-countis}\n"
                           "      - name: heat\n"
                           "        unit: 3\n"
                           "        max_registers: 4\n"
                           "        points:\n"
                           "          - {name: flow, address: 0, type: f32, unit: m3/h}\n"
                           "          - {name: ts, address: 2, type: f32, unit: degC}\n"
                           "          - {name: tr, address: 4, type: f32, unit: degC}\n"
                           "          - {name: q, derive: thermal_power, flow: flow, supply: ts,\n"
                           "             return: tr}\n",
                           &d);
    dcm_mb_instance inst;
    assert_int_equal(dcm_mb_instance_parse(cfg->collectors[0].node, cfg->collectors[0].interval_ns,
                                           "collectors[0]", &inst, &d),
                     DCM_MB_OK);
    assert_true(inst.url.rtu);
    assert_int_equal(inst.url.baud, 19200);
    assert_true(inst.response_timeout_ns == 300 * MS);
    assert_true(inst.byte_timeout_ns == 300 * MS);
    assert_int_equal(inst.device_count, 2);
    assert_string_equal(inst.devices[0].name, "pdu1");
    assert_int_equal(inst.devices[0].unit, 2);
    assert_int_equal(inst.devices[0].max_gap, 0); /* the entry's, over the profile's */
    assert_true(inst.devices[0].point_count > 0);
    assert_string_equal(inst.devices[1].name, "heat");
    assert_int_equal(inst.devices[1].max_registers, 4);
    assert_int_equal(inst.devices[1].point_count, 4);
    assert_int_equal(inst.devices[1].points[3].derive, DCM_MB_DERIVE_THERMAL_POWER);
    assert_string_equal(inst.devices[1].points[3].unit, "kW");
    dcm_mb_instance_free(&inst);
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);
}

static void test_entry_errors(void **s)
{
    (void)s;
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_config *cfg = load("  - name: a\n"
                           "    type: modbus\n"
                           "    url: rtu:///dev/ttyUSB0\n"
                           "    unit: 2\n"
                           "    byte_timeout: 2s\n"
                           "    devices:\n"
                           "      - {name: x, unit: 0, profile: eastron-sdm360}\n"
                           "      - {name: x, unit: 4, points: [{name: p, address: 1}]}\n"
                           "      - {name: health, unit: 4, points: [], profil: abb-b2x}\n"
                           "  - name: b\n"
                           "    type: modbus\n"
                           "    url: rtu:///dev/ttyUSB0?baud=19200\n"
                           "    profile: abb-b2x\n"
                           "  - name: c\n"
                           "    type: modbus\n"
                           "    url: tcp://h\n"
                           "    unit: 300\n"
                           "  - name: d\n"
                           "    type: modbus\n"
                           "    url: serial:/dev/ttyS0\n",
                           &d);
    assert_int_equal(d.errors, 0);
    dcm_mb_check_config(cfg, &d);
    assert_diag(&d, "with devices:, give unit inside each device", 6, 11);
    assert_diag(&d, "expected at least 1ms and at most the response timeout", 7, 19);
    assert_diag(&d, "expected 1..247, got 0", 9, 25);
    assert_diag(&d, "did you mean 'eastron-sdm630'?", 9, 37);
    assert_diag(&d, "another device has this name", 10, 16);
    assert_diag(&d, "missing required key 'unit'", 10, 37);
    assert_diag(&d, "'health' is reserved", 11, 16);
    assert_diag(&d, "unknown key 'profil', did you mean 'profile'?", 11, 45);
    assert_diag(&d, "unit 4 is already device 'x'", 11, 30);
    assert_diag(&d, "serial port /dev/ttyUSB0 is already used by collector 'a'", 14, 10);
    assert_diag(&d, "expected 0..255, got 300", 19, 11);
    assert_diag(&d, "expected tcp://HOST:PORT or rtu://", 22, 10);
    assert_diag(&d, "no points: name a profile: or give points:", 11, 9);
    assert_diag(&d, "no points: name a profile: or give points:", 16, 5);
    assert_string_equal(diag_path(&d, "did you mean 'eastron-sdm630'?"),
                        "collectors[0].devices[0].profile");
    assert_string_equal(diag_path(&d, "missing required key 'unit'"),
                        "collectors[0].devices[1].points[0]");
    assert_string_equal(diag_path(&d, "expected 0..255"), "collectors[2].unit");
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_single_device_with_overrides),
        cmocka_unit_test(test_devices_on_one_bus),
        cmocka_unit_test(test_entry_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
