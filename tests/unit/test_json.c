/* The JSON writer (structure, escaping, numbers, misuse) and the KPI record it carries. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "kpi_json.h"

static void expect_text(dcm_json *j, const char *want)
{
    assert_int_equal(dcm_json_error(j), DCM_JSON_OK);
    size_t len = 0;
    const char *got = dcm_json_text(j, &len);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
}

static void test_structure_compact(void **state)
{
    (void)state;
    dcm_json j;
    dcm_json_init(&j, 0);
    dcm_json_begin_object(&j);
    dcm_json_key(&j, "a");
    dcm_json_int(&j, -3);
    dcm_json_key(&j, "list");
    dcm_json_begin_array(&j);
    dcm_json_bool(&j, true);
    dcm_json_null(&j);
    dcm_json_begin_object(&j);
    dcm_json_end_object(&j);
    dcm_json_begin_array(&j);
    dcm_json_end_array(&j);
    dcm_json_uint(&j, UINT64_MAX);
    dcm_json_end_array(&j);
    dcm_json_key(&j, "s");
    dcm_json_string(&j, NULL);
    dcm_json_end_object(&j);
    expect_text(&j, "{\"a\":-3,\"list\":[true,null,{},[],18446744073709551615],\"s\":null}");
    size_t len = 0;
    char *out = dcm_json_release(&j, &len);
    assert_non_null(out);
    assert_int_equal(len, strlen(out));
    free(out);
    /* After release the writer is empty and reusable. */
    assert_string_equal(dcm_json_text(&j, NULL), "");
    dcm_json_int(&j, 7);
    expect_text(&j, "7");
    dcm_json_free(&j);
}

static void test_structure_pretty(void **state)
{
    (void)state;
    dcm_json j;
    dcm_json_init(&j, DCM_JSON_PRETTY);
    dcm_json_begin_object(&j);
    dcm_json_key(&j, "x");
    dcm_json_begin_array(&j);
    dcm_json_int(&j, 1);
    dcm_json_int(&j, 2);
    dcm_json_end_array(&j);
    dcm_json_key(&j, "e");
    dcm_json_begin_object(&j);
    dcm_json_end_object(&j);
    dcm_json_end_object(&j);
    expect_text(&j, "{\n  \"x\": [\n    1,\n    2\n  ],\n  \"e\": {}\n}");
    dcm_json_free(&j);
}

static void test_escaping(void **state)
{
    (void)state;
    dcm_json j;
    dcm_json_init(&j, 0);
    dcm_json_begin_array(&j);
    dcm_json_string(&j, "q\"b\\s/");
    dcm_json_string(&j, "\n\r\t\b\f\x01\x1f");
    dcm_json_string(&j, "22 \xC2\xB0" "C \xE2\x82\xAC \xF0\x9F\x94\x8B"); /* degree, euro, emoji */
    dcm_json_string(&j, "bad\xFF" "x");          /* not UTF-8 at all */
    dcm_json_string(&j, "over\xC0\x80" "long");   /* overlong NUL */
    dcm_json_string(&j, "sur\xED\xA0\x80" "r");  /* UTF-16 surrogate */
    dcm_json_string(&j, "cut\xE2\x82");          /* truncated sequence at the end */
    dcm_json_string_len(&j, "a\0b", 3);           /* an embedded NUL */
    dcm_json_end_array(&j);
    expect_text(&j, "[\"q\\\"b\\\\s/\",\"\\n\\r\\t\\b\\f\\u0001\\u001f\","
                    "\"22 \xC2\xB0" "C \xE2\x82\xAC \xF0\x9F\x94\x8B\","
                    "\"bad\\ufffdx\",\"over\\ufffd\\ufffdlong\",\"sur\\ufffd\\ufffd\\ufffdr\","
                    "\"cut\\ufffd\\ufffd\",\"a\\u0000b\"]");
    dcm_json_free(&j);
}

static void test_numbers(void **state)
{
    (void)state;
    char buf[40];
    assert_int_equal(dcm_json_format_double(NAN, buf, sizeof buf), 4);
    assert_string_equal(buf, "null");
    dcm_json_format_double(INFINITY, buf, sizeof buf);
    assert_string_equal(buf, "null");
    dcm_json_format_double(-INFINITY, buf, sizeof buf);
    assert_string_equal(buf, "null");
    dcm_json_format_double(-0.0, buf, sizeof buf);
    assert_string_equal(buf, "0");
    dcm_json_format_double(0.1, buf, sizeof buf);
    assert_string_equal(buf, "0.1");
    dcm_json_format_double(1047.5, buf, sizeof buf);
    assert_string_equal(buf, "1047.5");
    dcm_json_format_double(5001047.5, buf, sizeof buf);
    assert_string_equal(buf, "5001047.5");
    dcm_json_format_double(1e300, buf, sizeof buf);
    assert_string_equal(buf, "1e+300");
    assert_int_equal(dcm_json_format_double(1.0, buf, 8), 0); /* too small a buffer */
    /* Shortest form that reads back exactly: annual PUE of example A. */
    double pue = 12346.0 / 9030.0;
    dcm_json_format_double(pue, buf, sizeof buf);
    assert_true(strtod(buf, NULL) == pue);
    assert_true(strncmp(buf, "1.3672", 6) == 0);
    double third = 1.0 / 3.0;
    dcm_json_format_double(third, buf, sizeof buf);
    assert_true(strtod(buf, NULL) == third);

    dcm_json j;
    dcm_json_init(&j, 0);
    dcm_json_begin_array(&j);
    dcm_json_number(&j, NAN);
    dcm_json_number(&j, -INFINITY);
    dcm_json_number(&j, 2.5e-7);
    dcm_json_number(&j, -12.25);
    dcm_json_end_array(&j);
    expect_text(&j, "[null,null,2.5e-07,-12.25]");
    dcm_json_free(&j);
}

static void test_misuse(void **state)
{
    (void)state;
    dcm_json j;
    /* A value where a key belongs. */
    dcm_json_init(&j, 0);
    dcm_json_begin_object(&j);
    dcm_json_int(&j, 1);
    assert_int_equal(dcm_json_error(&j), DCM_JSON_ESTATE);
    /* Sticky: later calls change nothing. */
    dcm_json_end_object(&j);
    assert_int_equal(dcm_json_error(&j), DCM_JSON_ESTATE);
    assert_null(dcm_json_release(&j, NULL));
    dcm_json_free(&j);

    /* A key in an array; an end that does not match. */
    dcm_json_init(&j, 0);
    dcm_json_begin_array(&j);
    dcm_json_key(&j, "k");
    assert_int_equal(dcm_json_error(&j), DCM_JSON_ESTATE);
    dcm_json_free(&j);
    dcm_json_init(&j, 0);
    dcm_json_begin_array(&j);
    dcm_json_end_object(&j);
    assert_int_equal(dcm_json_error(&j), DCM_JSON_ESTATE);
    dcm_json_free(&j);

    /* A key whose value never came; an unclosed document; two top-level values. */
    dcm_json_init(&j, 0);
    dcm_json_begin_object(&j);
    dcm_json_key(&j, "k");
    dcm_json_end_object(&j);
    assert_int_equal(dcm_json_error(&j), DCM_JSON_ESTATE);
    dcm_json_free(&j);
    dcm_json_init(&j, 0);
    dcm_json_begin_object(&j);
    assert_int_equal(dcm_json_error(&j), DCM_JSON_ESTATE);
    dcm_json_free(&j);
    dcm_json_init(&j, 0);
    assert_int_equal(dcm_json_error(&j), DCM_JSON_ESTATE); /* nothing written */
    dcm_json_int(&j, 1);
    dcm_json_int(&j, 2);
    assert_int_equal(dcm_json_error(&j), DCM_JSON_ESTATE);
    dcm_json_free(&j);

    /* Too deep. */
    dcm_json_init(&j, 0);
    for (int i = 0; i <= DCM_JSON_MAX_DEPTH; i++)
        dcm_json_begin_array(&j);
    assert_int_equal(dcm_json_error(&j), DCM_JSON_EDEPTH);
    assert_string_equal(dcm_json_strerror(DCM_JSON_EDEPTH), "JSON nesting too deep");
    dcm_json_free(&j);
}

static void test_large_document(void **state)
{
    (void)state;
    dcm_json j;
    dcm_json_init(&j, 0);
    dcm_json_begin_array(&j);
    for (int i = 0; i < 100000; i++)
        dcm_json_int(&j, i);
    dcm_json_end_array(&j);
    assert_int_equal(dcm_json_error(&j), DCM_JSON_OK);
    size_t len;
    const char *t = dcm_json_text(&j, &len);
    assert_int_equal(len, strlen(t));
    assert_true(strncmp(t + len - 7, ",99999]", 7) == 0);
    dcm_json_free(&j);
}

/* ------------------------------------------------------------- KPI records */

static int32_t taipei(void *ctx, int64_t t_s)
{
    (void)ctx;
    (void)t_s;
    return 8 * 3600;
}

/* Example A of the worked examples as one year's role totals. */
static void example_a(dcm_totals *t, dcm_kpi_set *k, int64_t start, int64_t end)
{
    dcm_totals_init(t, start, end, 2);
    double year_s = (double)(end - start) / 1e9;
    t->role[DCM_ROLE_IT] = (dcm_role_sum){.amount = 9030000.0, .covered_s = year_s,
                                          .expected_s = year_s, .points = 1};
    t->role[DCM_ROLE_TOTAL] = (dcm_role_sum){.amount = 12346000.0, .covered_s = year_s,
                                             .expected_s = year_s, .points = 1};
    t->zone_it[0] = (dcm_role_sum){.amount = 100.0, .covered_s = year_s, .expected_s = year_s,
                                   .points = 1};
    t->zone_overhead[0] = (dcm_role_sum){.amount = 25.0, .covered_s = year_s,
                                         .expected_s = year_s, .points = 1};
    t->instruments.certificates_kwh = 1000.0;
    dcm_kpi_params p = {.pue_category = 2};
    dcm_kpi_compute(t, &p, k);
}

static char *contains(const char *hay, const char *needle)
{
    char *p = strstr(hay, needle);
    if (!p)
        fail_msg("expected %s in %s", needle, hay);
    return p;
}

static void test_kpi_record(void **state)
{
    (void)state;
    const int64_t start = INT64_C(1735660800) * DCM_NS_PER_S; /* 2025-01-01T00:00+08:00 */
    const int64_t end = INT64_C(1767196800) * DCM_NS_PER_S;   /* 2026-01-01T00:00+08:00 */
    dcm_totals t;
    dcm_kpi_set k;
    example_a(&t, &k, start, end);
    dcm_calendar cal = {taipei, NULL};
    const char *zones[] = {"hall-a", NULL};
    dcm_kpi_json_in in = {
        .site = "tainan-1",
        .has_window = true,
        .window = DCM_WINDOW_YEAR,
        .start_ns = start,
        .end_ns = end,
        .calendar = &cal,
        .totals = &t,
        .kpi = &k,
        .pue_category = 2,
        .zone_names = zones,
        .zone_count = 2,
    };
    dcm_json j;
    dcm_json_init(&j, 0);
    dcm_kpi_json_write(&j, &in);
    assert_int_equal(dcm_json_error(&j), DCM_JSON_OK);
    const char *s = dcm_json_text(&j, NULL);

    char pue[64], want[128];
    dcm_json_format_double(12346.0 / 9030.0, pue, sizeof pue);
    snprintf(want, sizeof want, "\"kpi\":{\"pue\":%s,", pue);
    const char *a = contains(s, "{\"site\":\"tainan-1\",\"window\":\"year\",\"interim\":false,"
                                "\"from\":\"2025-01-01T00:00:00+08:00\","
                                "\"to\":\"2026-01-01T00:00:00+08:00\",\"pue_category\":2,");
    const char *b = contains(s, want);
    assert_true(a < b);
    /* pPUE per named zone; the unnamed second zone is "zone2" and has no inputs. */
    contains(s, "\"ppue\":{\"hall-a\":1.25,\"zone2\":null}");
    contains(s, "\"wue\":null,");
    contains(s, "\"energy_kwh\":{\"total\":12346000,\"it\":9030000,\"grid\":12346000,"
                "\"cooling\":null,\"fuel\":null,\"onsite_renewable\":null,"
                "\"certificates\":1000,\"ppa\":0,\"reused\":null,\"heat_upgrade\":null,"
                "\"cooling_output\":null}");
    contains(s, "\"water_m3\":{\"total\":null,\"fresh\":null}");
    contains(s, "\"co2_kg\":{\"location\":null,\"market\":null}");
    contains(s, "\"coverage\":1,\"estimated_share\":0,\"quality\":\"ok\"");
    contains(s, "\"kpi_quality\":{\"pue\":\"ok\",\"dcie\":\"ok\",\"ppue\":{\"hall-a\":\"ok\","
                "\"zone2\":\"invalid\"},\"wue\":\"invalid\"");
    contains(s, "\"coverage_by_role\":{\"total\":1,\"it\":1}");
    contains(s, "\"ruleset\":\"" DCM_METRICS_RULESET "\"}");
    assert_null(strstr(s, ":nan"));
    assert_null(strstr(s, ":inf"));
    assert_null(strstr(s, ":-nan"));
    dcm_json_free(&j);
}

static void test_kpi_record_instant_and_engine_record(void **state)
{
    (void)state;
    const int64_t t0 = INT64_C(1735660800) * DCM_NS_PER_S;
    dcm_totals t;
    dcm_kpi_set k;
    example_a(&t, &k, t0, t0 + DCM_NS_PER_HOUR);
    /* Values that must never reach the output as NaN. */
    t.role[DCM_ROLE_WATER] = (dcm_role_sum){.amount = NAN, .points = 1};
    dcm_kpi_record rec = {
        .window = DCM_WINDOW_INSTANT,
        .start_ns = t0,
        .end_ns = t0,
        .totals = &t,
        .kpi = &k,
        .pue_category = 0,
        .ruleset = DCM_METRICS_RULESET,
    };
    const char *zones[] = {"hall-a"};
    char *s = dcm_kpi_json_record(&rec, "s1", zones, 1);
    assert_non_null(s);
    contains(s, "\"window\":\"instant\"");
    contains(s, "\"pue_category\":null");
    contains(s, "\"power_kw\":{\"total\":12346000,");
    contains(s, "\"water_m3_per_h\":{\"total\":null,");
    contains(s, "\"co2_kg_per_h\":{");
    assert_null(strstr(s, "energy_kwh"));
    assert_null(strstr(s, ":nan"));
    assert_null(strchr(s, '\n'));
    free(s);
    assert_null(dcm_kpi_json_record(NULL, "s", NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure_compact),
        cmocka_unit_test(test_structure_pretty),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_large_document),
        cmocka_unit_test(test_kpi_record),
        cmocka_unit_test(test_kpi_record_instant_and_engine_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
