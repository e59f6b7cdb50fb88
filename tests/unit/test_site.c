/* The site model: roles and zones by glob, KPI parameters, the civil calendar from the
 * zone data, periods in the site's time zone, and instruments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "dcm/config.h"
#include "site.h"

/* cmocka 1.1 has no floating-point assertion. */
static void assert_near(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%.17g != %.17g", got, want);
}

#define S DCM_NS_PER_S

static dcm_config *load_site(const char *yaml)
{
    dcm_config *cfg = NULL;
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_config_err err = dcm_config_load_string(yaml, strlen(yaml), "site.yaml", &cfg, &d);
    for (size_t i = 0; i < d.count; i++)
        print_message("%d:%d %s: %s\n", d.items[i].line, d.items[i].column, d.items[i].path,
                      d.items[i].message);
    assert_int_equal(err, DCM_CONFIG_OK);
    dcm_diags_free(&d);
    return cfg;
}

static const char *site_yaml =
    "site:\n"
    "  timezone: Europe/Berlin\n"
    "  pue_category: 3\n"
    "  roles:\n"
    "    grid: main.energy\n"
    "    it: [pdu-*.energy, 'ups-[ab].output_energy']\n"
    "    cooling: ['chiller-?.energy']\n"
    "    servers: [gpus.*.utilization]\n"
    "  zones:\n"
    "    - {name: hall-a, it: [pdu-a*.energy], overhead: [crah-a*.energy, pdu-a9.energy]}\n"
    "    - {name: hall-b, it: pdu-b*.energy, overhead: [crah-*.energy]}\n"
    "  carbon: {location_factor: 0.38, market_factor: 0.12, fuel_factor: 0.27}\n"
    "  onsite_attributes_retained: false\n"
    "  coverage_ok: 0.8\n"
    "  certificates:\n"
    "    - {period: '2026', kwh: 8760}\n"
    "    - {period: 2026-Q3, kwh: 100, type: ppa}\n"
    "    - {period: 2026-03-29, kwh: 23}\n";

static void test_map_point(void **state)
{
    (void)state;
    dcm_config *cfg = load_site(site_yaml);
    const dcm_site_config *s = &cfg->site;
    dcm_point_def def;
    memset(&def, 0xAA, sizeof(def));

    assert_true(dcm_site_map_point(s, "main.energy", &def));
    assert_int_equal(def.roles, DCM_ROLE_BIT(DCM_ROLE_GRID));
    assert_int_equal(def.zone, -1);
    assert_int_equal(def.zone_part, DCM_ZONE_NONE);

    assert_true(dcm_site_map_point(s, "pdu-a1.energy", &def));
    assert_int_equal(def.roles, DCM_ROLE_BIT(DCM_ROLE_IT));
    assert_int_equal(def.zone, 0);
    assert_int_equal(def.zone_part, DCM_ZONE_IT);

    /* Zone 0's IT selector claims pdu-a9 before its overhead selector does. */
    assert_true(dcm_site_map_point(s, "pdu-a9.energy", &def));
    assert_int_equal(def.zone, 0);
    assert_int_equal(def.zone_part, DCM_ZONE_IT);

    assert_true(dcm_site_map_point(s, "pdu-b2.energy", &def));
    assert_int_equal(def.zone, 1);
    assert_int_equal(def.zone_part, DCM_ZONE_IT);

    /* crah-a1 matches both zones' overhead: the first zone wins. */
    assert_true(dcm_site_map_point(s, "crah-a1.energy", &def));
    assert_int_equal(def.roles, 0);
    assert_int_equal(def.zone, 0);
    assert_int_equal(def.zone_part, DCM_ZONE_OVERHEAD);
    assert_true(dcm_site_map_point(s, "crah-c1.energy", &def));
    assert_int_equal(def.zone, 1);
    assert_int_equal(def.zone_part, DCM_ZONE_OVERHEAD);

    assert_true(dcm_site_map_point(s, "ups-b.output_energy", &def));
    assert_int_equal(def.roles, DCM_ROLE_BIT(DCM_ROLE_IT));
    assert_int_equal(def.zone, -1);
    assert_false(dcm_site_map_point(s, "ups-c.output_energy", &def));
    assert_int_equal(def.roles, 0);
    assert_true(dcm_site_map_point(s, "chiller-1.energy", &def));
    assert_int_equal(def.roles, DCM_ROLE_BIT(DCM_ROLE_COOLING));
    assert_false(dcm_site_map_point(s, "chiller-12.energy", &def));
    /* '*' crosses dots: gpus.*.utilization matches nested point names. */
    assert_true(dcm_site_map_point(s, "gpus.node3.gpu0.utilization", &def));
    assert_int_equal(def.roles, DCM_ROLE_BIT(DCM_ROLE_SERVERS));
    assert_false(dcm_site_map_point(s, "gpus.gpu0.power", &def));
    assert_false(dcm_site_map_point(s, "main.energy_total", &def));
    dcm_config_destroy(cfg);
}

static void test_map_point_several_roles(void **state)
{
    (void)state;
    dcm_config *cfg = load_site("site:\n  roles:\n    total: [main.energy]\n"
                                "    grid: ['main.*']\n");
    dcm_point_def def;
    assert_true(dcm_site_map_point(&cfg->site, "main.energy", &def));
    assert_int_equal(def.roles, DCM_ROLE_BIT(DCM_ROLE_TOTAL) | DCM_ROLE_BIT(DCM_ROLE_GRID));
    dcm_config_destroy(cfg);
}

static void test_kpi_params(void **state)
{
    (void)state;
    dcm_config *cfg = load_site(site_yaml);
    dcm_kpi_params p;
    dcm_site_kpi_params(&cfg->site, &p);
    assert_true(p.carbon.has_location);
    assert_near(p.carbon.location_factor, 0.38, 0.0);
    assert_true(p.carbon.has_market);
    assert_near(p.carbon.market_factor, 0.12, 0.0);
    assert_near(p.carbon.fuel_factor, 0.27, 0.0);
    assert_int_equal(p.pue_category, 3);
    assert_near(p.coverage_ok, 0.8, 0.0);
    assert_false(p.onsite_attributes_retained);
    dcm_config_destroy(cfg);

    cfg = load_site("site: {name: x}\n");
    dcm_site_kpi_params(&cfg->site, &p);
    assert_false(p.carbon.has_location);
    assert_false(p.carbon.has_market);
    assert_near(p.carbon.fuel_factor, 0.0, 0.0);
    assert_int_equal(p.pue_category, 0);
    assert_near(p.coverage_ok, 0.95, 0.0);
    assert_true(p.onsite_attributes_retained);
    dcm_config_destroy(cfg);
}

static void expect_period(const dcm_calendar *cal, const char *period, int64_t start_s,
                          int64_t end_s)
{
    int64_t a = 0, b = 0;
    if (!dcm_site_period(cal, period, &a, &b))
        fail_msg("period '%s' did not parse", period);
    assert_int_equal(a, start_s * S);
    assert_int_equal(b, end_s * S);
}

static void test_periods_utc(void **state)
{
    (void)state;
    const dcm_calendar utc = {NULL, NULL};
    expect_period(&utc, "2026", 1767225600, 1798761600);
    expect_period(&utc, "2026-Q3", 1782864000, 1790812800);
    expect_period(&utc, "2026-Q4", 1790812800, 1798761600);
    expect_period(&utc, "2026-07", 1782864000, 1782864000 + 31 * 86400);
    expect_period(&utc, "2026-12", 1796083200, 1798761600);
    expect_period(&utc, "2026-07-15", 1784073600, 1784073600 + 86400);
    expect_period(&utc, "2026-12-31", 1798761600 - 86400, 1798761600);
    expect_period(&utc, "2028-02-29", 1835395200, 1835395200 + 86400);
    expect_period(&utc, "2026-01-01/2026-07-01", 1767225600, 1782864000);

    int64_t a, b;
    static const char *const bad[] = {"26",         "2026-Q5",    "2026-Q0",    "2026-13",
                                      "2026-00",    "2026-7",     "2026-02-29", "2026-04-31",
                                      "2026-07-15x", "2026/2027", "2026-07-01/2026-07-01",
                                      "2026-07-02/2026-07-01",     "2026-01-01/",
                                      "",           "20x6",       "2026-1-01"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (dcm_site_period(&utc, bad[i], &a, &b))
            fail_msg("period '%s' should not parse", bad[i]);
}

static void test_calendar_zones(void **state)
{
    (void)state;
    dcm_calendar cal;
    assert_false(dcm_site_calendar("Asia/Taipe", &cal));
    assert_false(dcm_site_calendar("../etc/passwd", &cal));
    assert_false(dcm_site_calendar("", &cal));
    assert_false(dcm_site_calendar("zone.tab", &cal)); /* in the directory, not a zone */
    assert_false(dcm_site_calendar("Europe", &cal));   /* a directory */

    assert_true(dcm_site_calendar("Asia/Taipei", &cal));
    assert_int_equal(cal.utc_offset_s(cal.ctx, 1767225600), 8 * 3600);
    /* "2026" in Taipei starts 2025-12-31T16:00:00Z. */
    expect_period(&cal, "2026", 1767196800, 1798732800);

    assert_true(dcm_site_calendar("Europe/Berlin", &cal));
    assert_int_equal(cal.utc_offset_s(cal.ctx, 1767225600), 3600);     /* January: CET */
    assert_int_equal(cal.utc_offset_s(cal.ctx, 1782864000), 2 * 3600); /* July: CEST */
    expect_period(&cal, "2026", 1767222000, 1798758000);
    expect_period(&cal, "2026-07", 1782856800, 1785535200);
    expect_period(&cal, "2026-Q1", 1767222000, 1774994400);
    /* Daylight saving days last 23 and 25 hours. */
    expect_period(&cal, "2026-03-29", 1774738800, 1774821600);
    expect_period(&cal, "2026-10-25", 1792879200, 1792969200);
    int64_t a, b;
    assert_true(dcm_site_period(&cal, "2026-03-29", &a, &b));
    assert_int_equal(b - a, 23 * 3600 * S);
    assert_true(dcm_site_period(&cal, "2026-10-25", &a, &b));
    assert_int_equal(b - a, 25 * 3600 * S);

    assert_true(dcm_site_calendar("UTC", &cal));
    assert_int_equal(cal.utc_offset_s(cal.ctx, 1782864000), 0);
    expect_period(&cal, "2026", 1767225600, 1798761600);
}

static void test_instruments(void **state)
{
    (void)state;
    dcm_config *cfg = load_site(site_yaml);
    dcm_calendar cal;
    assert_true(dcm_site_calendar(cfg->site.timezone, &cal));
    dcm_instrument_period *p = NULL;
    size_t n = 0;
    dcm_diags d;
    dcm_diags_init(&d);
    assert_true(dcm_site_instruments(&cfg->site, &cal, &p, &n, &d));
    assert_int_equal(d.count, 0);
    assert_int_equal(n, 3);
    assert_int_equal(p[0].start_ns, 1767222000 * S);
    assert_int_equal(p[0].end_ns, 1798758000 * S);
    assert_near(p[0].kwh, 8760.0, 0.0);
    assert_false(p[0].is_ppa);
    /* Q3 in Berlin: 2026-07-01T00:00+02:00 to 2026-10-01T00:00+02:00. */
    assert_int_equal(p[1].start_ns, 1782856800 * S);
    assert_int_equal(p[1].end_ns, (1790812800 - 7200) * S);
    assert_true(p[1].is_ppa);
    assert_int_equal(p[2].end_ns - p[2].start_ns, 23 * 3600 * S);
    free(p);

    /* An entry whose period does not parse is left out and reported. */
    char *saved = cfg->site.instruments[1].period;
    char bad[] = "2026-Q9";
    cfg->site.instruments[1].period = bad;
    assert_true(dcm_site_instruments(&cfg->site, &cal, &p, &n, &d));
    assert_int_equal(n, 2);
    assert_near(p[1].kwh, 23.0, 0.0);
    assert_int_equal(d.errors, 1);
    assert_string_equal(d.items[0].path, "site.certificates[1].period");
    assert_int_equal(d.items[0].line, 17);
    assert_non_null(strstr(d.items[0].message, "2026-Q9"));
    cfg->site.instruments[1].period = saved;
    free(p);
    dcm_diags_free(&d);
    dcm_config_destroy(cfg);

    cfg = load_site("site: {name: none}\n");
    p = (dcm_instrument_period *)1;
    assert_true(dcm_site_instruments(&cfg->site, &cal, &p, &n, NULL));
    assert_null(p);
    assert_int_equal(n, 0);
    dcm_config_destroy(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_point),
        cmocka_unit_test(test_map_point_several_roles),
        cmocka_unit_test(test_kpi_params),
        cmocka_unit_test(test_periods_utc),
        cmocka_unit_test(test_calendar_zones),
        cmocka_unit_test(test_instruments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
