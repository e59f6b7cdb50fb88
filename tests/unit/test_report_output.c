/* The report's writers: the HTML page (self-contained, escaped, with its KPI table and
 * charts), the CSV (a row per month and a total row) and the JSON sections; the number
 * formatting they use. Built from worked example A. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/config.h"
#include "report.h"
#include "report_html_int.h"
#include "site.h"

static const char *site_yaml =
    "agent: {site: example-a}\n"
    "site:\n"
    "  name: <script>alert(1)</script> & \"Hall\"\n"
    "  operator: O'Brien & Sons\n"
    "  timezone: Asia/Taipei\n"
    "  pue_category: 1\n"
    "  regimes: [eu]\n"
    "  roles:\n"
    "    it: [bills.it]\n"
    "    total: [bills.total]\n"
    "  carbon: {location_factor: 0.494, location_source: 'MOEA <2023>', location_year: 2023}\n"
    "  certificates:\n"
    "    - {period: '2025', kwh: 1000000, source: 'GO #1 <x>'}\n";

typedef struct out {
    dcm_config *cfg;
    dcm_calendar cal;
    dcm_report rep;
    char *text;
    size_t len;
} out;

static void build(out *o, const char *from, const char *to)
{
    dcm_diags d;
    dcm_diags_init(&d);
    assert_int_equal(dcm_config_load_string(site_yaml, strlen(site_yaml), "site.yaml", &o->cfg, &d),
                     DCM_CONFIG_OK);
    dcm_diags_free(&d);
    assert_true(dcm_site_calendar(o->cfg->site.timezone, &o->cal));
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fixtures/compute/example_a.csv", DCM_SOURCE_DIR);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    int64_t a, b, unused;
    assert_true(dcm_site_period(&o->cal, from, &a, &unused));
    assert_true(dcm_site_period(&o->cal, to, &b, &unused));
    dcm_report_request req = {
        .config = o->cfg,
        .calendar = &o->cal,
        .from_ns = a,
        .to_ns = b,
        .input = in,
        .input_name = "example_a.csv",
        .now_ns = INT64_C(1900000000) * DCM_NS_PER_S,
    };
    assert_int_equal(dcm_report_build(&req, &o->rep), DCM_REPORT_OK);
    fclose(in);
}

typedef bool (*writer)(FILE *, const dcm_report *);

static void render(out *o, writer w)
{
    free(o->text);
    o->text = NULL;
    FILE *f = open_memstream(&o->text, &o->len);
    assert_non_null(f);
    assert_true(w(f, &o->rep));
    assert_int_equal(fclose(f), 0);
}

static void done(out *o)
{
    free(o->text);
    dcm_report_free(&o->rep);
    dcm_config_destroy(o->cfg);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_html(void **state)
{
    (void)state;
    out o = {0};
    build(&o, "2025-01-01", "2026-01-01");
    assert_string_equal(o.rep.label, "2025");
    render(&o, dcm_report_write_html);
    const char *h = o.text;
    assert_true(strncmp(h, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(h, "</html>\n"));
    /* Self-contained: nothing outside the file is referenced, no script runs. */
    assert_null(strstr(h, "http://"));
    assert_null(strstr(h, "https://"));
    assert_null(strstr(h, "src="));
    assert_null(strstr(h, "href="));
    assert_null(strstr(h, "url("));
    assert_null(strstr(h, "@import"));
    assert_null(strstr(h, "<script"));
    /* Every configured text is escaped. */
    assert_non_null(strstr(h, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Hall&quot;"));
    assert_non_null(strstr(h, "O&#39;Brien &amp; Sons"));
    assert_non_null(strstr(h, "MOEA &lt;2023&gt;"));
    assert_non_null(strstr(h, "GO #1 &lt;x&gt;"));
    /* Printable A4 with its sections. */
    assert_non_null(strstr(h, "@page{size:A4"));
    assert_non_null(strstr(h, "<h2>Key performance indicators</h2>"));
    assert_non_null(strstr(h, "<td>Power usage effectiveness (PUE)</td><td class=\"num\">1.3672</td>"));
    assert_non_null(strstr(h, "E_DC 12,346,000 kWh / E_IT 9,030,000 kWh"));
    assert_non_null(strstr(h, "= 1.3672, not the mean of the 12 monthly PUEs (here 1.3633)"));
    assert_non_null(strstr(h, "EU 2024/1364 reporting fields"));
    assert_non_null(strstr(h, "<h2>Regulatory checks</h2>"));
    assert_non_null(strstr(h, "<h2 class=\"newpage\">Data quality</h2>"));
    /* Two charts: 12 stacked energy bars (2 rects each) and 12 PUE bars. */
    assert_int_equal(count(h, "<svg class=\"chart\""), 2);
    assert_int_equal(count(h, "<rect "), 36 + 2); /* and two legend swatches */
    assert_non_null(strstr(h, "PUE of the period 1.3672 (energy-weighted)"));
    assert_int_equal(count(h, "<tr><td>2025-"), 12);
    assert_null(strstr(h, "Partial report"));
    done(&o);
}

static void test_html_partial(void **state)
{
    (void)state;
    out o = {0};
    build(&o, "2024-12-01", "2025-03-01");
    assert_int_equal(o.rep.status, DCM_REPORT_PARTIAL);
    render(&o, dcm_report_write_html);
    assert_non_null(strstr(o.text, "<strong>Partial report.</strong>"));
    assert_non_null(strstr(o.text, "<li>no data for 2024-12</li>"));
    /* A month without data shows no amounts, not zeros. */
    assert_non_null(strstr(o.text, "<tr><td>2024-12</td><td class=\"num\">&ndash;</td>"
                                   "<td class=\"num\">&ndash;</td>"));
    assert_non_null(strstr(o.text, "font-size=\"9\" fill=\"#55646d\" text-anchor=\"middle\">n/a</text>"));
    done(&o);
}

static void test_csv(void **state)
{
    (void)state;
    out o = {0};
    build(&o, "2025-01-01", "2026-01-01");
    render(&o, dcm_report_write_csv);
    assert_int_equal(count(o.text, "\n"), 14);
    assert_true(strncmp(o.text, "period,from,to,pue,dcie,", 24) == 0);
    assert_non_null(strstr(o.text, ",pue_quality,status\n"));
    assert_non_null(strstr(o.text, "\n2025-07,2025-07-01T00:00:00+08:00,2025-08-01T00:00:00+08:00,1.55,"));
    const char *total = strstr(o.text, "\ntotal,2025-01-01T00:00:00+08:00,2026-01-01T00:00:00+08:00,");
    assert_non_null(total);
    assert_non_null(strstr(total, ",ok,ok,complete\n"));
    done(&o);
}

static void test_json(void **state)
{
    (void)state;
    out o = {0};
    build(&o, "2025-01-01", "2026-01-01");
    render(&o, dcm_report_write_json);
    const char *j = o.text;
    assert_true(j[0] == '{' && strcmp(j + o.len - 2, "}\n") == 0);
    assert_non_null(strstr(j, "\"site\": \"example-a\""));
    assert_non_null(strstr(j, "\"pue\": 1.367220376522702"));
    assert_non_null(strstr(j, "\"month\": \"2025-07\""));
    assert_non_null(strstr(j, "\"status\": \"complete\""));
    assert_non_null(strstr(j, "\"label\": \"2025\""));
    assert_non_null(strstr(j, "\"key\": \"e_dc_kwh\""));
    assert_non_null(strstr(j, "\"id\": \"eu.label.pue\""));
    assert_non_null(strstr(j, "\"factor_kg_per_kwh\": 0.494"));
    assert_non_null(strstr(j, "\"kwh_in_period\": 1000000"));
    assert_null(strstr(j, "NaN"));
    assert_null(strstr(j, "Infinity"));
    done(&o);
}

static void test_numbers(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(dcm__html_num(12346000, 0, buf, sizeof buf), "12,346,000");
    assert_string_equal(dcm__html_num(1234.5, 2, buf, sizeof buf), "1,234.50");
    assert_string_equal(dcm__html_num(-1234567.891, 1, buf, sizeof buf), "-1,234,567.9");
    assert_string_equal(dcm__html_num(999, 0, buf, sizeof buf), "999");
    assert_string_equal(dcm__html_num(-0.0001, 2, buf, sizeof buf), "0.00");
    assert_string_equal(dcm__html_num(0, 0, buf, sizeof buf), "0");
    assert_string_equal(dcm__html_num(NAN, 2, buf, sizeof buf), "n/a");
    assert_string_equal(dcm__html_num(INFINITY, 2, buf, sizeof buf), "n/a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html), cmocka_unit_test(test_html_partial),
        cmocka_unit_test(test_csv),  cmocka_unit_test(test_json),
        cmocka_unit_test(test_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
