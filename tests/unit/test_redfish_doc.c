/* Redfish documents: what the collector reads from DMTF-shaped resources (links, members,
 * EnvironmentMetrics, power supplies, sensors in their units, the deprecated Power
 * resource, rack PDUs), the link cleaner, the login body, and the choice of what to read. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rf_bmc.h"
#include "rf_doc.h"
#include "json_read.h"

static dcm_jr_doc *parse(const char *text)
{
    dcm_jr_doc *doc = NULL;
    size_t at = 0;
    dcm_jr_err e = dcm_jr_parse(text, strlen(text), &doc, &at);
    if (e != DCM_JR_OK)
        fail_msg("%s at %zu: %s", dcm_jr_strerror(e), at, text);
    return doc;
}

static void test_path_clean(void **unused)
{
    (void)unused;
    char out[RF_PATH_MAX];
    assert_true(rf_path_clean("/redfish/v1/Chassis/1U", out));
    assert_string_equal(out, "/redfish/v1/Chassis/1U");
    assert_true(rf_path_clean("/redfish/v1/Chassis/1U/Power#/PowerControl/0", out));
    assert_string_equal(out, "/redfish/v1/Chassis/1U/Power");
    assert_true(rf_path_clean("/redfish/v1", out));
    static const char *const bad[] = {
        "https://evil.example/redfish/v1", "/redfish/v10", "/other", "redfish/v1/x",
        "/redfish/v1/../../etc", "/redfish/v1//x", "/redfish/v1/a b", "/redfish/v1/a\"b",
        "/redfish/v1/a\\b", "/redfish/v1/\xc3\xa9", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (rf_path_clean(bad[i], out) || out[0])
            fail_msg("accepted: %s", bad[i]);
    assert_false(rf_path_clean(NULL, out));
    char longp[RF_PATH_MAX + 20];
    memset(longp, 'a', sizeof longp);
    memcpy(longp, "/redfish/v1/", 12);
    longp[sizeof longp - 1] = '\0';
    assert_false(rf_path_clean(longp, out));
}

/* Shaped like DMTF's public-rackmount1 mockup. */
static void test_links_and_members(void **unused)
{
    (void)unused;
    dcm_jr_doc *d = parse(
        "{\"@odata.id\": \"/redfish/v1\", \"Chassis\": {\"@odata.id\": \"/redfish/v1/Chassis\"},"
        " \"Links\": {\"Sessions\": {\"@odata.id\": \"/redfish/v1/SessionService/Sessions\"}},"
        " \"PowerEquipment\": {\"@odata.id\": \"/redfish/v1/PowerEquipment\"}}");
    rf_links l;
    rf_doc_links(dcm_jr_root(d), &l);
    assert_string_equal(l.chassis, "/redfish/v1/Chassis");
    assert_string_equal(l.sessions, "/redfish/v1/SessionService/Sessions");
    assert_string_equal(l.power_equipment, "/redfish/v1/PowerEquipment");
    assert_string_equal(l.environment, "");
    dcm_jr_free(d);

    d = parse("{\"Id\": \"1U\", \"EnvironmentMetrics\": {\"@odata.id\": "
              "\"/redfish/v1/Chassis/1U/EnvironmentMetrics\"}, \"PowerSubsystem\": "
              "{\"@odata.id\": \"/redfish/v1/Chassis/1U/PowerSubsystem\"}, \"Sensors\": "
              "{\"@odata.id\": \"/redfish/v1/Chassis/1U/Sensors\"}, \"Power\": {\"@odata.id\": "
              "\"/redfish/v1/Chassis/1U/Power\"}, \"Thermal\": {\"@odata.id\": \"http://x/y\"}}");
    rf_doc_links(dcm_jr_root(d), &l);
    assert_string_equal(l.environment, "/redfish/v1/Chassis/1U/EnvironmentMetrics");
    assert_string_equal(l.power_subsystem, "/redfish/v1/Chassis/1U/PowerSubsystem");
    assert_string_equal(l.sensors, "/redfish/v1/Chassis/1U/Sensors");
    assert_string_equal(l.power, "/redfish/v1/Chassis/1U/Power");
    dcm_jr_free(d);

    d = parse("{\"Members\": [{\"@odata.id\": \"/redfish/v1/Chassis/1U\"}, {\"@odata.id\": 5},"
              " {\"@odata.id\": \"/redfish/v1/Chassis/X\\u0000/../../y\"},"
              " {}, {\"@odata.id\": \"/elsewhere\"}, {\"@odata.id\": \"/redfish/v1/Chassis/2U\"},"
              " {\"@odata.id\": \"/redfish/v1/Chassis/3U\"}], \"Members@odata.count\": 6}");
    char m[2][RF_PATH_MAX];
    /* A member whose id hides a NUL is skipped, not cut short. */
    assert_int_equal(rf_doc_members(dcm_jr_root(d), m, 2), 2);
    assert_string_equal(m[0], "/redfish/v1/Chassis/1U");
    assert_string_equal(m[1], "/redfish/v1/Chassis/2U");
    dcm_jr_free(d);
}

static void test_readings(void **unused)
{
    (void)unused;
    rf_reading r;
    dcm_jr_doc *d = parse("{\"PowerWatts\": {\"Reading\": 374, \"DataSourceUri\": \"x\"},"
                           " \"EnergykWh\": {\"Reading\": 325675}}");
    rf_doc_environment(dcm_jr_root(d), &r);
    assert_true(r.has_power && r.power_w == 374.0);
    assert_true(r.has_energy && r.energy_kwh == 325675.0);
    dcm_jr_free(d);
    /* EnergyJoules (EnvironmentMetrics v1_2_0) when there is no kWh: 7.2 MJ = 2 kWh. */
    d = parse("{\"PowerWatts\": {\"Reading\": null}, \"EnergyJoules\": {\"Reading\": 7200000}}");
    rf_doc_environment(dcm_jr_root(d), &r);
    assert_false(r.has_power);
    assert_true(r.has_energy && r.energy_kwh == 2.0);
    dcm_jr_free(d);
    d = parse("{\"InputPowerWatts\": {\"Reading\": 205.5}, \"InputVoltage\": {\"Reading\": 230}}");
    rf_doc_psu_metrics(dcm_jr_root(d), &r);
    assert_true(r.has_power && r.power_w == 205.5);
    assert_false(r.has_energy);
    dcm_jr_free(d);
    d = parse("{\"PowerWatts\": {\"Reading\": 6438}, \"EnergykWh\": {\"Reading\": 56438}}");
    rf_doc_pdu_metrics(dcm_jr_root(d), &r);
    assert_true(r.has_power && r.power_w == 6438.0 && r.has_energy && r.energy_kwh == 56438.0);
    dcm_jr_free(d);
    d = parse("{\"PowerControl\": [{\"MemberId\": \"0\", \"PowerConsumedWatts\": 344}]}");
    rf_doc_legacy_power(dcm_jr_root(d), &r);
    assert_true(r.has_power && r.power_w == 344.0);
    assert_false(r.has_energy);
    dcm_jr_free(d);
    d = parse("{\"PowerControl\": []}");
    rf_doc_legacy_power(dcm_jr_root(d), &r);
    assert_false(r.has_power);
    dcm_jr_free(d);
    d = parse("{\"Status\": {\"State\": \"Absent\"}}");
    assert_true(rf_doc_absent(dcm_jr_root(d)));
    dcm_jr_free(d);
    d = parse("{\"Status\": {\"State\": \"Enabled\"}}");
    assert_false(rf_doc_absent(dcm_jr_root(d)));
    dcm_jr_free(d);
}

static void test_sensors(void **unused)
{
    (void)unused;
    static const struct {
        const char *doc;
        rf_sensor_kind kind;
        double value;
        bool whole;
    } cases[] = {
        {"{\"ReadingType\": \"Power\", \"Reading\": 374, \"ReadingUnits\": \"W\", "
         "\"PhysicalContext\": \"Chassis\"}", RF_SENSOR_POWER, 374.0, true},
        {"{\"ReadingType\": \"Power\", \"Reading\": 1.5, \"ReadingUnits\": \"kW\"}",
         RF_SENSOR_POWER, 1500.0, true},
        {"{\"ReadingType\": \"Power\", \"Reading\": 95, \"PhysicalContext\": \"CPU\"}",
         RF_SENSOR_POWER, 95.0, false},
        {"{\"ReadingType\": \"EnergykWh\", \"Reading\": 325675, \"ReadingUnits\": \"kW.h\"}",
         RF_SENSOR_ENERGY, 325675.0, true},
        {"{\"ReadingType\": \"EnergyJoules\", \"Reading\": 3600000}", RF_SENSOR_ENERGY, 1.0, true},
        {"{\"ReadingType\": \"EnergyWh\", \"Reading\": 2500}", RF_SENSOR_ENERGY, 2.5, true},
        {"{\"ReadingType\": \"Temperature\", \"Reading\": 24.5}", RF_SENSOR_OTHER, 0, true},
        {"{\"ReadingType\": \"Power\", \"Reading\": null}", RF_SENSOR_OTHER, 0, true},
        {"{\"Reading\": 5}", RF_SENSOR_OTHER, 0, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dcm_jr_doc *d = parse(cases[i].doc);
        double v = -1;
        bool whole = false;
        rf_sensor_kind k = rf_doc_sensor(dcm_jr_root(d), &v, &whole);
        if (k != cases[i].kind || whole != cases[i].whole ||
            (k != RF_SENSOR_OTHER && fabs(v - cases[i].value) > 1e-9))
            fail_msg("case %zu: kind %d value %g whole %d", i, (int)k, v, (int)whole);
        dcm_jr_free(d);
    }
}

/* The plan: EnvironmentMetrics first; supplies only when every present one was read;
 * the lowest-ordered sensor; the deprecated resource last; PDUs summed. */
static rf_target target(rf_kind k, int chassis, int order, bool ok, double w, bool has_w,
                        double kwh, bool has_kwh)
{
    rf_target t;
    memset(&t, 0, sizeof t);
    snprintf(t.path, sizeof t.path, "/redfish/v1/x/%d/%d/%d", (int)k, chassis, order);
    t.kind = k;
    t.chassis = chassis;
    t.order = order;
    t.ok = ok;
    t.r = (rf_reading){w, has_w, kwh, has_kwh};
    return t;
}

static void plan_with(rf_bmc *b, rf_bmc_spec *spec, const rf_target *t, size_t n, size_t chassis)
{
    memset(spec, 0, sizeof *spec);
    rf_bmc_init(b, spec);
    b->targets = calloc(n ? n : 1, sizeof *b->targets);
    assert_non_null(b->targets);
    memcpy(b->targets, t, n * sizeof *t);
    b->target_count = b->target_cap = n;
    b->chassis = calloc(chassis ? chassis : 1, sizeof *b->chassis);
    assert_non_null(b->chassis);
    for (size_t c = 0; c < chassis; c++)
        snprintf(b->chassis[c].path, RF_PATH_MAX, "/redfish/v1/Chassis/C%zu", c);
    b->chassis_count = chassis;
}

static void test_plan(void **unused)
{
    (void)unused;
    rf_bmc b;
    rf_bmc_spec spec;
    char why[200];
    /* Chassis 0 has only a temperature-less sensor set; chassis 1 has supplies (one unread)
     * and sensors; the first chassis with power wins: chassis 0's legacy Power. */
    rf_target t1[] = {
        target(RF_K_LEGACY, 0, 0, true, 344, true, 0, false),
        target(RF_K_PSU, 1, 0, true, 200, true, 0, false),
        target(RF_K_PSU, 1, 1, false, 0, false, 0, false),
        target(RF_K_SENSOR_P, 1, 5, true, 410, true, 0, false),
        target(RF_K_SENSOR_P, 1, 2, true, 400, true, 0, false),
        target(RF_K_SENSOR_E, 1, 3, true, 0, false, 12.5, true),
    };
    plan_with(&b, &spec, t1, 6, 2);
    assert_true(rf_plan_choose(&b, why, sizeof why));
    rf_plan_sum(&b);
    assert_true(b.has_power && b.power_w == 344.0);
    assert_false(b.has_energy);
    assert_string_equal(b.plan_text, "chassis C0: power from Power");
    rf_bmc_free(&b);

    /* Configured chassis C1 only: the unread supply rules the supplies out, the sensor
     * with the lowest member order is taken. */
    char *ids[] = {"C1"};
    plan_with(&b, &spec, t1, 6, 2);
    spec.chassis = ids;
    spec.chassis_count = 1;
    assert_true(rf_plan_choose(&b, why, sizeof why));
    rf_plan_sum(&b);
    assert_true(b.has_power && b.power_w == 400.0);
    assert_true(b.has_energy && b.energy_kwh == 12.5);
    assert_int_equal(b.target_count, 2);
    assert_string_equal(b.plan_text, "chassis C1: power from Sensors, energy from Sensors");
    rf_bmc_free(&b);

    /* EnvironmentMetrics beats everything; supplies are summed when all were read. */
    rf_target t2[] = {
        target(RF_K_PSU, 0, 0, true, 200, true, 1, true),
        target(RF_K_PSU, 0, 1, true, 150, true, 2, true),
        target(RF_K_LEGACY, 0, 0, true, 999, true, 0, false),
    };
    plan_with(&b, &spec, t2, 3, 1);
    assert_true(rf_plan_choose(&b, why, sizeof why));
    rf_plan_sum(&b);
    assert_true(b.has_power && b.power_w == 350.0 && b.has_energy && b.energy_kwh == 3.0);
    /* A later round where one supply did not answer: no sum rather than a false drop. */
    b.targets[1].ok = false;
    rf_plan_sum(&b);
    assert_false(b.has_power);
    assert_false(b.has_energy);
    rf_bmc_free(&b);
    rf_target t3[] = {
        target(RF_K_PSU, 0, 0, true, 200, true, 0, false),
        target(RF_K_ENV, 0, 0, true, 374, true, 325675, true),
    };
    plan_with(&b, &spec, t3, 2, 1);
    assert_true(rf_plan_choose(&b, why, sizeof why));
    rf_plan_sum(&b);
    assert_true(b.power_w == 374.0 && b.energy_kwh == 325675.0);
    assert_int_equal(b.target_count, 1);
    rf_bmc_free(&b);

    /* Two rack PDUs, summed. */
    rf_target t4[] = {
        target(RF_K_PDU, -1, 0, true, 6438, true, 56438, true),
        target(RF_K_PDU, -1, 1, true, 1000, true, 100, true),
    };
    plan_with(&b, &spec, t4, 2, 0);
    assert_true(rf_plan_choose(&b, why, sizeof why));
    rf_plan_sum(&b);
    assert_true(b.power_w == 7438.0 && b.energy_kwh == 56538.0);
    assert_string_equal(b.plan_text, "2 rack PDUs: power and energy from RackPDUs Metrics");
    rf_bmc_free(&b);

    /* Nothing reports power; a configured chassis that does not exist. */
    rf_target t5[] = {target(RF_K_SENSOR_E, 0, 0, true, 0, false, 5, true)};
    plan_with(&b, &spec, t5, 1, 1);
    assert_false(rf_plan_choose(&b, why, sizeof why));
    assert_non_null(strstr(why, "no chassis reports power"));
    rf_bmc_free(&b);
    char *nope[] = {"Blade9"};
    plan_with(&b, &spec, t5, 1, 1);
    spec.chassis = nope;
    spec.chassis_count = 1;
    assert_false(rf_plan_choose(&b, why, sizeof why));
    assert_string_equal(why, "chassis 'Blade9' is not in the service's Chassis collection");
    rf_bmc_free(&b);
}

static void test_login_body(void **unused)
{
    (void)unused;
    rf_bmc_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.username = "mon\"itor";
    spec.password = "p\\w\n";
    char *body = rf_login_body(&spec);
    assert_string_equal(body, "{\"UserName\":\"mon\\\"itor\",\"Password\":\"p\\\\w\\n\"}");
    dcm_jr_doc *d = parse(body);
    const char *pw = NULL;
    assert_true(dcm_jr_string(dcm_jr_get(dcm_jr_root(d), "Password"), &pw));
    assert_string_equal(pw, "p\\w\n");
    dcm_jr_free(d);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_clean),   cmocka_unit_test(test_links_and_members),
        cmocka_unit_test(test_readings),     cmocka_unit_test(test_sensors),
        cmocka_unit_test(test_plan),         cmocka_unit_test(test_login_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
