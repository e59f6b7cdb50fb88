/*
 * test_simulator.c - the facility simulator (collectors/modbus/modbus_server.*): its
 * configuration (the built-in hall, every error placed at file:line:column), the encoding
 * of register values as the inverse of the profiles' decoding (including counters that
 * wrap), and a real server on a loopback port read with libmodbus: registers equal to the
 * sim model's values, exception ranges, silent units, unknown units.
 */
#ifndef DCM_WITH_MODBUS
#include <stdio.h>

/* A build without the Modbus collector has no profiles and no simulator to test. */
int main(void)
{
    puts("not built: DCM_WITH_MODBUS is off");
    return 0;
}
#else
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_metrics_common.h"
#include <errno.h>
#include <modbus.h>

#include "modbus_server.h"
#include "units.h"

#define S INT64_C(1000000000)

/* 2026-03-10T00:00:00Z */
static const int64_t t0 = INT64_C(1773100800) * S;

static dcm_mbs_config *parse(const char *yaml, dcm_diags *diags, dcm_mbs_err want)
{
    dcm_mbs_config *cfg = NULL;
    dcm_diags_init(diags);
    dcm_mbs_err err = dcm_mbs_config_parse_text(yaml, strlen(yaml), "t.yaml", &cfg, diags);
    if (err != want)
        dcm_diags_print(diags, stderr);
    assert_int_equal(err, want);
    return cfg;
}

static bool diag_says(const dcm_diags *d, int line, const char *needle)
{
    for (size_t i = 0; i < d->count; i++)
        if ((line == 0 || d->items[i].line == line) && strstr(d->items[i].message, needle))
            return true;
    for (size_t i = 0; i < d->count; i++)
        fprintf(stderr, "  diag %d:%d %s: %s\n", d->items[i].line, d->items[i].column,
                d->items[i].path, d->items[i].message);
    return false;
}

static const dcm_mbs_device *device(const dcm_mbs_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->device_count; i++)
        if (strcmp(cfg->devices[i].name, name) == 0)
            return &cfg->devices[i];
    fail_msg("no device %s", name);
    return NULL;
}

static size_t point_index(const dcm_mbs_device *d, const char *name)
{
    for (size_t i = 0; i < d->point_count; i++)
        if (strcmp(d->points[i].name, name) == 0)
            return i;
    fail_msg("device %s has no point %s", d->name, name);
    return 0;
}

/* ---------------------------------------------------------- configuration */

static void test_builtin_hall(void **state)
{
    (void)state;
    dcm_diags d;
    dcm_mbs_config *cfg = NULL;
    dcm_diags_init(&d);
    dcm_mbs_err err = dcm_mbs_config_parse_text(dcm_mbs_hall_yaml, dcm_mbs_hall_yaml_len,
                                                "hall.yaml", &cfg, &d);
    if (err != DCM_MBS_OK)
        dcm_diags_print(&d, stderr);
    assert_int_equal(err, DCM_MBS_OK);
    assert_int_equal(d.count, 0);
    assert_int_equal(cfg->device_count, 18);
    assert_string_equal(cfg->listen, "127.0.0.1:1502");
    assert_double_equal(cfg->sim.params.it_kw, 1200.0, 0);
    /* Units 1..18, each once. */
    bool seen[19] = {false};
    for (size_t i = 0; i < cfg->device_count; i++) {
        int u = cfg->devices[i].unit;
        assert_true(u >= 1 && u <= 18);
        assert_false(seen[u]);
        seen[u] = true;
    }
    /* grid.energy (kWh) into the Schneider's Wh register: a factor of 1000. */
    const dcm_mbs_device *grid = device(cfg, "grid");
    const dcm_mbs_value *v = &grid->values[point_index(grid, "energy")];
    assert_int_equal(v->source, DCM_MBS_SRC_POINT);
    assert_double_equal(v->factor, 1000.0, 1e-9);
    /* Half a hall per PDU, in the Socomec's Wh. */
    const dcm_mbs_device *pdu = device(cfg, "pdu-a1");
    v = &pdu->values[point_index(pdu, "energy")];
    assert_double_equal(v->factor, 500.0, 1e-9);
    v = &pdu->values[point_index(pdu, "power")];
    assert_int_equal(v->source, DCM_MBS_SRC_POINT); /* it.hall-a.power, kW -> W */
    assert_double_equal(v->factor, 500.0, 1e-9);
    /* Chiller power: the mean rate of a counter. */
    const dcm_mbs_device *ch = device(cfg, "chiller-1");
    v = &ch->values[point_index(ch, "power")];
    assert_int_equal(v->source, DCM_MBS_SRC_RATE);
    assert_double_equal(v->factor, 0.5, 1e-12);
    assert_int_equal(ch->values[point_index(ch, "flow")].source, DCM_MBS_SRC_CHW_FLOW);
    /* The derived cooling output has no register and no value. */
    assert_int_equal(ch->values[point_index(ch, "cooling.power")].source, DCM_MBS_SRC_NONE);
    const dcm_mbs_device *w = device(cfg, "water");
    v = &w->values[point_index(w, "volume")];
    assert_double_equal(v->factor, 1000.0, 1e-9); /* m3 -> L */
    assert_int_equal(w->values[point_index(w, "flow")].source, DCM_MBS_SRC_RATE);
    dcm_mbs_config_destroy(cfg);
    dcm_diags_free(&d);
}

static void test_config_errors(void **state)
{
    (void)state;
    dcm_diags d;
    /* Every mistake is reported, each at its line. */
    const char *bad = "sim: {seed: 2, it_kv: 100}\n"                              /* 1 */
                      "devices:\n"                                                 /* 2 */
                      "  - unit: 1\n"                                              /* 3 */
                      "    profile: eastron-sdm631\n"                              /* 4 */
                      "  - unit: 2\n"                                              /* 5 */
                      "    profile: eastron-sdm630\n"                              /* 6 */
                      "    values:\n"                                              /* 7 */
                      "      powr: grid.power\n"                                   /* 8 */
                      "      energy: grid.enrgy\n"                                 /* 9 */
                      "      voltage.l1: grid.power\n"                             /* 10 */
                      "      frequency: two * grid.power\n"                          /* 11 */
                      "  - unit: 2\n"                                              /* 12 */
                      "    profile: generic-chiller\n"                             /* 13 */
                      "    values: {cooling.power: 5}\n"                           /* 14 */
                      "    exceptions: [{table: holdin, address: 1}]\n";           /* 15 */
    dcm_mbs_config *cfg = parse(bad, &d, DCM_MBS_EINVALID);
    assert_null(cfg);
    assert_true(diag_says(&d, 1, "did you mean 'it_kw'"));
    dcm_diags_free(&d);

    /* With the sim section right, the devices are checked. */
    cfg = parse(bad + strlen("sim: {seed: 2, it_kv: 100}\n") - 0, &d, DCM_MBS_EINVALID);
    assert_true(diag_says(&d, 3, "did you mean 'eastron-sdm630'"));
    assert_true(diag_says(&d, 7, "no point 'powr', did you mean 'power'"));
    assert_true(diag_says(&d, 8, "did you mean 'grid.energy'"));
    assert_true(diag_says(&d, 9, "'grid.power' is in kW, the point 'voltage.l1' in V"));
    assert_true(diag_says(&d, 10, "FACTOR * NAME"));
    assert_true(diag_says(&d, 11, "unit 2 is already used"));
    assert_true(diag_says(&d, 13, "derived by the reader"));
    assert_true(diag_says(&d, 14, "holding, input, coil or discrete"));
    dcm_diags_free(&d);

    parse("devices: []\n", &d, DCM_MBS_EINVALID);
    assert_true(diag_says(&d, 1, "at least one device"));
    dcm_diags_free(&d);
    parse("sim: {nodes: 99}\ndevices: [{unit: 1, profile: abb-b2x}]\n", &d, DCM_MBS_EINVALID);
    assert_true(diag_says(&d, 1, "nodes"));
    dcm_diags_free(&d);
    parse("devices: [{unit: 300, profile: abb-b2x}]\n", &d, DCM_MBS_EINVALID);
    assert_true(diag_says(&d, 1, "1..247"));
    dcm_diags_free(&d);
    parse("devices: [{unit: 3}]\n", &d, DCM_MBS_EINVALID);
    assert_true(diag_says(&d, 1, "needs a profile, points, or both"));
    dcm_diags_free(&d);
}

/* ---------------------------------------------------------------- encoding */

/* Every served point of the hall encodes to registers the profile decodes back. */
static void test_round_trip(void **state)
{
    (void)state;
    dcm_diags d;
    dcm_mbs_config *cfg = NULL;
    dcm_diags_init(&d);
    assert_int_equal(dcm_mbs_config_parse_text(dcm_mbs_hall_yaml, dcm_mbs_hall_yaml_len, "h",
                                               &cfg, &d),
                     DCM_MBS_OK);
    static const double samples[] = {0.0, 1.0, 59.97, 230.4, 1234.5, 98765.4321, 3.5e6};
    size_t checked = 0;
    for (size_t i = 0; i < cfg->device_count; i++) {
        const dcm_mbs_device *dev = &cfg->devices[i];
        for (size_t k = 0; k < dev->point_count; k++) {
            const dcm_mb_point *p = &dev->points[k];
            if (p->derive != DCM_MB_DERIVE_NONE || dcm_mb_table_is_bits(p->table))
                continue;
            for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
                double want = samples[s];
                /* Stay inside what the register can hold. */
                double top = ldexp(1.0, dcm_mb_type_bits(p->type) -
                                            (p->type == DCM_MB_I16 || p->type == DCM_MB_I32 ||
                                             p->type == DCM_MB_I64)) * p->scale;
                if (p->type != DCM_MB_F32 && p->type != DCM_MB_F64 && want >= top)
                    continue;
                uint16_t regs[4] = {0};
                double got = -1;
                assert_true(dcm_mbs_encode_point(p, want, regs));
                assert_int_equal(dcm_mb_decode(p, regs, 4, &got), DCM_QUALITY_OK);
                /* Resolution: the scale step for integers, float32's 24-bit mantissa. */
                double tol = p->type == DCM_MB_F32 ? fabs(want) * 1.2e-7
                             : p->type == DCM_MB_F64 ? fabs(want) * 1e-15
                                                     : fabs(p->scale) / 2 + 1e-9;
                if (fabs(got - want) > tol)
                    fail_msg("%s.%s: %.9g encoded and decoded as %.9g", dev->name, p->name,
                             want, got);
                checked++;
            }
        }
    }
    assert_true(checked > 300);
    dcm_mbs_config_destroy(cfg);
    dcm_diags_free(&d);
}

static void test_counter_wraps(void **state)
{
    (void)state;
    dcm_diags d;
    dcm_mbs_config *cfg = parse("devices:\n"
                                "  - unit: 1\n"
                                "    points:\n"
                                "      - {name: e, address: 0, table: holding, type: u32, "
                                "scale: 10, unit: Wh, kind: counter}\n"
                                "      - {name: g, address: 2, table: holding, type: u16, "
                                "unit: W}\n"
                                "      - {name: c, address: 3, table: input, type: i32, "
                                "order: CDAB, unit: kWh, kind: counter}\n",
                                &d, DCM_MBS_OK);
    const dcm_mb_point *e = &cfg->devices[0].points[0];
    const dcm_mb_point *g = &cfg->devices[0].points[1];
    const dcm_mb_point *c = &cfg->devices[0].points[2];
    uint16_t regs[4];
    double v;
    /* 2^32 counts of 10 Wh, plus 7: the register has gone round once. */
    assert_true(dcm_mbs_encode_point(e, (4294967296.0 + 7) * 10.0, regs));
    assert_int_equal(regs[0], 0);
    assert_int_equal(regs[1], 7);
    assert_int_equal(dcm_mb_decode(e, regs, 2, &v), DCM_QUALITY_OK);
    assert_double_equal(v, 70.0, 0);
    /* A gauge saturates instead (a 16-bit W register shows its maximum). */
    assert_true(dcm_mbs_encode_point(g, 70000.0, regs));
    assert_int_equal(regs[0], 0xFFFF);
    /* A signed 32-bit counter past 2^31 shows as negative, low word first. */
    assert_true(dcm_mbs_encode_point(c, 2147483648.0 + 5, regs));
    assert_int_equal(regs[0], 0x0005);
    assert_int_equal(regs[1], 0x8000);
    assert_false(dcm_mbs_encode_point(e, NAN, regs));
    dcm_mbs_config_destroy(cfg);
    dcm_diags_free(&d);
}

/* ---------------------------------------------------------- a real server */

static const char *live_yaml =
    "sim: {seed: 3, it_kw: 800}\n"
    "devices:\n"
    "  - unit: 1\n"
    "    name: grid\n"
    "    profile: schneider-iem3xxx\n"
    "    values: {energy: grid.energy, power: grid.power, voltage.l1: 230.5}\n"
    "  - unit: 7\n"
    "    name: pdu\n"
    "    profile: carlo-gavazzi-em24\n"
    "    values: {energy: 0.25 * it.hall-b.energy, power: 0.25 * it.hall-b.power}\n"
    "    exceptions: [{table: input, address: 0x5C, count: 2}]\n";

struct capture {
    long want;
    int64_t ts;
    double v;
    bool found;
};

static void capture_fn(void *ud, size_t point, int64_t ts, double value, dcm_quality q)
{
    struct capture *c = ud;
    (void)q;
    if ((long)point == c->want && ts == c->ts) {
        c->v = value;
        c->found = true;
    }
}

/* Runs the model as the server does (first call one emission before the start) up to
 * ts and returns point name's value there. */
static double model_at(const dcm_mbs_config *cfg, const char *name, int64_t ts)
{
    struct capture cap = {0, ts, 0, false};
    dcm_sim_run *run = NULL;
    assert_int_equal(dcm_sim_run_create(&cfg->sim, &run, NULL), DCM_SIM_OK);
    cap.want = dcm_sim_run_find(run, name);
    assert_true(cap.want >= 0);
    dcm_sim_run_advance(run, t0 - S, capture_fn, &cap);
    dcm_sim_run_advance(run, ts, capture_fn, &cap);
    dcm_sim_run_destroy(run);
    assert_true(cap.found);
    return cap.v;
}

static void test_live_server(void **state)
{
    (void)state;
    dcm_diags d;
    dcm_mbs_config *cfg = parse(live_yaml, &d, DCM_MBS_OK);
    dcm_mbs *srv = NULL;
    char why[160];
    dcm_mbs_options opt = {.host = "127.0.0.1", .port = "0", .speed = 1.0, .start_ns = t0};
    assert_int_equal(dcm_mbs_start(cfg, &opt, &srv, why, sizeof why), DCM_MBS_OK);
    int port = dcm_mbs_port(srv);
    assert_true(port > 0);

    char service[16];
    snprintf(service, sizeof service, "%d", port);
    modbus_t *ctx = modbus_new_tcp_pi("127.0.0.1", service);
    assert_non_null(ctx);
    modbus_set_response_timeout(ctx, 0, 300000);
    assert_int_equal(modbus_connect(ctx), 0);

    /* Grid energy: int64 Wh at protocol address 3203 equals the model's kWh x 1000 at
     * one of the emissions since the start. */
    uint16_t regs[4];
    modbus_set_slave(ctx, 1);
    assert_int_equal(modbus_read_registers(ctx, 3203, 4, regs), 4);
    dcm_mbs_device *grid = &cfg->devices[0];
    double served = 0;
    assert_int_equal(dcm_mb_decode(&grid->points[point_index(grid, "energy")], regs, 4, &served),
                     DCM_QUALITY_OK);
    bool matched = false;
    for (int k = 0; k <= 3 && !matched; k++) {
        double kwh = model_at(cfg, "grid.energy", t0 + k * S);
        matched = fabs(served - nearbyint(kwh * 1000.0)) <= 0.5;
    }
    assert_true(matched);
    assert_true(served > 1e6); /* registers count since the meters were installed */
    assert_int_equal(modbus_read_registers(ctx, 3027, 2, regs), 2);
    double volts = 0;
    assert_int_equal(dcm_mb_decode(&grid->points[point_index(grid, "voltage.l1")], regs, 2, &volts),
                     DCM_QUALITY_OK);
    assert_double_equal(volts, 230.5, 1e-5);
    /* A register outside the profile's layout does not exist. */
    assert_int_equal(modbus_read_registers(ctx, 100, 2, regs), -1);
    assert_int_equal(errno, EMBXILADD);

    /* The PDU: input registers, low word first, 0.1 kWh, a quarter of hall B. */
    modbus_set_slave(ctx, 7);
    assert_int_equal(modbus_read_input_registers(ctx, 0x42, 2, regs), 2);
    dcm_mbs_device *pdu = &cfg->devices[1];
    double e = 0;
    assert_int_equal(dcm_mb_decode(&pdu->points[point_index(pdu, "energy")], regs, 2, &e),
                     DCM_QUALITY_OK);
    double hall_b = model_at(cfg, "it.hall-b.energy", t0);
    assert_true(fabs(e - 0.25 * hall_b) < 0.25 * hall_b * 1e-4 + 1.0);
    /* Its exception range answers 02; the registers beside it read. */
    assert_int_equal(modbus_read_input_registers(ctx, 0x5C, 2, regs), -1);
    assert_int_equal(errno, EMBXILADD);
    assert_int_equal(modbus_read_input_registers(ctx, 0x42, 2, regs), 2);
    /* Writes are refused: the values are the model's. */
    assert_int_equal(modbus_write_register(ctx, 0x42, 1), -1);
    assert_int_equal(errno, EMBXILFUN);

    /* A unit nobody has: the gateway answers for it. */
    modbus_set_slave(ctx, 9);
    assert_int_equal(modbus_read_registers(ctx, 0, 1, regs), -1);
    assert_int_equal(errno, EMBXGTAR);

    /* A silent unit: no answer at all, until it speaks again. */
    assert_true(dcm_mbs_set_silent(srv, 7, true));
    assert_false(dcm_mbs_set_silent(srv, 9, true));
    modbus_set_slave(ctx, 7);
    assert_int_equal(modbus_read_input_registers(ctx, 0x42, 2, regs), -1);
    assert_int_equal(errno, ETIMEDOUT);
    modbus_flush(ctx);
    dcm_mbs_set_silent(srv, 7, false);
    assert_int_equal(modbus_read_input_registers(ctx, 0x42, 2, regs), 2);

    dcm_mbs_stats st;
    dcm_mbs_get_stats(srv, &st);
    assert_int_equal(st.connections, 1);
    assert_int_equal(st.requests, 5);
    assert_int_equal(st.exceptions, 4); /* address 100, the exception range, the write, unit 9 */
    assert_int_equal(st.ignored, 1);

    modbus_close(ctx);
    modbus_free(ctx);
    dcm_mbs_stop(srv);
    dcm_mbs_config_destroy(cfg);
    dcm_diags_free(&d);
}

static void test_listen_errors(void **state)
{
    (void)state;
    dcm_diags d;
    dcm_mbs_config *cfg = parse(live_yaml, &d, DCM_MBS_OK);
    dcm_mbs *a = NULL, *b = NULL;
    char why[160], port[16];
    dcm_mbs_options opt = {.host = "127.0.0.1", .port = "0"};
    assert_int_equal(dcm_mbs_start(cfg, &opt, &a, why, sizeof why), DCM_MBS_OK);
    /* The same port twice cannot be bound. */
    snprintf(port, sizeof port, "%d", dcm_mbs_port(a));
    opt.port = port;
    assert_int_equal(dcm_mbs_start(cfg, &opt, &b, why, sizeof why), DCM_MBS_ELISTEN);
    assert_null(b);
    assert_non_null(strstr(why, port));
    opt.host = "no-such-host.invalid";
    opt.port = "0";
    assert_int_equal(dcm_mbs_start(cfg, &opt, &b, why, sizeof why), DCM_MBS_ELISTEN);
    dcm_mbs_stop(a);
    dcm_mbs_config_destroy(cfg);
    dcm_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_hall),     cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_counter_wraps),
        cmocka_unit_test(test_live_server),      cmocka_unit_test(test_listen_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif /* DCM_WITH_MODBUS */
