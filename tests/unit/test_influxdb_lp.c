/* InfluxDB line protocol: escaping (every byte), tag order, precision, and the journal's
 * samples, KPI records and alerts as lines. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "influx_lp.h"
#include "kpi_json.h"

static const char *escaped(void (*fn)(dcm_lp_buf *, const char *, size_t), const char *s,
                           size_t len, dcm_lp_buf *b)
{
    dcm_lp_buf_reset(b);
    fn(b, s, len);
    assert_false(b->oom);
    return b->len ? b->data : "";
}

/* Every byte value through each escaper, against the rules in influx_lp.h. */
static void test_escape_every_byte(void **state)
{
    (void)state;
    dcm_lp_buf b;
    dcm_lp_buf_init(&b);
    for (int c = 1; c < 256; c++) {
        char in[3] = {'a', (char)c, 'z'};
        char want[8];
        const char *got;
        bool control = c < 0x20 || c == 0x7f;

        /* Measurement: ',' ' ' '\' escaped, controls replaced. */
        if (c == ',' || c == ' ' || c == '\\')
            snprintf(want, sizeof want, "a\\%cz", c);
        else if (control)
            snprintf(want, sizeof want, "a_z");
        else
            snprintf(want, sizeof want, "a%cz", c);
        got = escaped(dcm_lp_escape_measurement, in, 3, &b);
        assert_string_equal(got, want);

        /* Tag keys, tag values, field keys: ',' '=' ' ' '\' escaped, controls replaced. */
        if (c == ',' || c == '=' || c == ' ' || c == '\\')
            snprintf(want, sizeof want, "a\\%cz", c);
        else if (control)
            snprintf(want, sizeof want, "a_z");
        else
            snprintf(want, sizeof want, "a%cz", c);
        got = escaped(dcm_lp_escape_name, in, 3, &b);
        assert_string_equal(got, want);

        /* String field values: '"' and '\' escaped, everything else as it is. */
        if (c == '"' || c == '\\')
            snprintf(want, sizeof want, "a\\%cz", c);
        else
            snprintf(want, sizeof want, "a%cz", c);
        got = escaped(dcm_lp_escape_string, in, 3, &b);
        assert_string_equal(got, want);
    }
    /* A NUL cannot be carried anywhere. */
    assert_string_equal(escaped(dcm_lp_escape_string, "a\0z", 3, &b), "a_z");
    assert_string_equal(escaped(dcm_lp_escape_name, "a\0z", 3, &b), "a_z");
    dcm_lp_buf_free(&b);
}

static void test_escape_combinations(void **state)
{
    (void)state;
    static const struct {
        const char *in, *measurement, *name, *string;
    } cases[] = {
        {"cpu load", "cpu\\ load", "cpu\\ load", "cpu load"},
        {"a,b=c", "a\\,b=c", "a\\,b\\=c", "a,b=c"},
        {"ends\\", "ends\\\\", "ends\\\\", "ends\\\\"},
        {"\\,", "\\\\\\,", "\\\\\\,", "\\\\,"},
        {"say \"hi\"", "say\\ \"hi\"", "say\\ \"hi\"", "say \\\"hi\\\""},
        {"two\nlines\r\n", "two_lines__", "two_lines__", "two\nlines\r\n"},
        {"m\xc2\xb3/h \xe2\x82\xac", "m\xc2\xb3/h\\ \xe2\x82\xac", "m\xc2\xb3/h\\ \xe2\x82\xac",
         "m\xc2\xb3/h \xe2\x82\xac"},
        {"", "", "", ""},
    };
    dcm_lp_buf b;
    dcm_lp_buf_init(&b);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].in);
        assert_string_equal(escaped(dcm_lp_escape_measurement, cases[i].in, n, &b),
                            cases[i].measurement);
        assert_string_equal(escaped(dcm_lp_escape_name, cases[i].in, n, &b), cases[i].name);
        assert_string_equal(escaped(dcm_lp_escape_string, cases[i].in, n, &b), cases[i].string);
    }
    dcm_lp_buf_free(&b);
}

static void test_tags_sorted_fields_and_empty(void **state)
{
    (void)state;
    dcm_lp_buf b;
    dcm_lp_buf_init(&b);
    dcm_lp_tag tags[] = {{"z", "1"}, {"a", "2"}, {"m", ""}, {"b,c", "x y"}, {"", "v"},
                         {"B", "upper"}, {"n", NULL}};
    dcm_lp_begin(&b, "my m", tags, sizeof tags / sizeof tags[0]);
    dcm_lp_field_float(&b, "f", 2.0);
    dcm_lp_field_float(&b, "nan", NAN);
    dcm_lp_field_float(&b, "inf", -INFINITY);
    dcm_lp_field_string(&b, "s", "q\"", 2);
    dcm_lp_field_bool(&b, "ok", true);
    dcm_lp_field_float(&b, "tiny", 1.5e-7);
    dcm_lp_field_float(&b, "big", 1e20);
    dcm_lp_field_float(&b, "neg0", -0.0);
    assert_true(dcm_lp_end(&b, 1700000000123456789LL, DCM_LP_NS));
    /* Byte order: upper case sorts before lower case. */
    assert_string_equal(b.data, "my\\ m,B=upper,a=2,b\\,c=x\\ y,z=1 "
                                "f=2,s=\"q\\\"\",ok=true,tiny=1.5e-07,big=1e+20,neg0=0 "
                                "1700000000123456789\n");
    /* A line with only non-finite fields is not written; what was there stays. */
    size_t before = b.len;
    dcm_lp_begin(&b, "m", NULL, 0);
    dcm_lp_field_float(&b, "x", NAN);
    assert_false(dcm_lp_end(&b, 1, DCM_LP_NS));
    assert_int_equal(b.len, before);
    assert_int_equal(strlen(b.data), before);
    /* Fields outside a line are ignored. */
    dcm_lp_field_float(&b, "x", 1);
    assert_int_equal(b.len, before);
    dcm_lp_buf_free(&b);
}

static void test_precision(void **state)
{
    (void)state;
    int64_t t = 1700000000123456789LL;
    assert_true(dcm_lp_timestamp(t, DCM_LP_NS) == t);
    assert_true(dcm_lp_timestamp(t, DCM_LP_US) == 1700000000123456LL);
    assert_true(dcm_lp_timestamp(t, DCM_LP_MS) == 1700000000123LL);
    assert_true(dcm_lp_timestamp(t, DCM_LP_S) == 1700000000LL);
    /* Before 1970: rounded down, so one second maps to one value. */
    assert_true(dcm_lp_timestamp(-1, DCM_LP_S) == -1);
    assert_true(dcm_lp_timestamp(-1000000000LL, DCM_LP_S) == -1);
    assert_true(dcm_lp_timestamp(-1000000001LL, DCM_LP_S) == -2);
    dcm_lp_precision p;
    assert_true(dcm_lp_precision_parse("us", &p) && p == DCM_LP_US);
    assert_true(dcm_lp_precision_parse("s", &p) && p == DCM_LP_S);
    assert_false(dcm_lp_precision_parse("n", &p));
    assert_false(dcm_lp_precision_parse(NULL, &p));
}

static void test_sample_lines(void **state)
{
    (void)state;
    dcm_lp_buf b;
    dcm_lp_buf_init(&b);
    dcm_jrec rec = {.seq = 1, .type = DCM_JREC_SAMPLE, .ts_ns = 1700000000123456789LL,
                    .point = "pdu-a1.energy", .unit = "Wh", .value = 1234.5, .quality = 0};
    assert_true(dcm_lp_encode(&b, "tainan-hall-1", &rec, DCM_LP_MS));
    assert_string_equal(b.data, "dcm_point,collector=pdu-a1,point=pdu-a1.energy,"
                                "site=tainan-hall-1,unit=Wh value=1234.5,quality=\"ok\" "
                                "1700000000123\n");
    /* A non-finite reading keeps its quality, loses its value. */
    dcm_lp_buf_reset(&b);
    rec.value = NAN;
    rec.quality = 3;
    rec.point = "gpus.gpu0.power";
    rec.unit = "m3/h";
    assert_true(dcm_lp_encode(&b, "s", &rec, DCM_LP_S));
    assert_string_equal(b.data, "dcm_point,collector=gpus,point=gpus.gpu0.power,site=s,"
                                "unit=m3/h quality=\"invalid\" 1700000000\n");
    /* The value is a float even when whole, so the field never changes type. */
    dcm_lp_buf_reset(&b);
    rec.value = 42;
    rec.quality = 1;
    assert_true(dcm_lp_encode(&b, "s", &rec, DCM_LP_S));
    assert_non_null(strstr(b.data, " value=42,quality=\"partial\" "));
    assert_null(strstr(b.data, "42i"));
    dcm_lp_buf_free(&b);
}

/* A KPI record through the project's JSON (kpi_json.h) and back out as one line. */
static void test_kpi_line(void **state)
{
    (void)state;
    dcm_totals t;
    memset(&t, 0, sizeof t);
    t.zone_count = 1;
    t.role[DCM_ROLE_TOTAL] = (dcm_role_sum){.amount = 150, .covered_s = 3600,
                                            .expected_s = 3600, .points = 1};
    t.role[DCM_ROLE_IT] = (dcm_role_sum){.amount = 100, .covered_s = 1800,
                                         .expected_s = 3600, .points = 1};
    dcm_kpi_set k;
    memset(&k, 0, sizeof k);
    k.pue = (dcm_opt){1.5, true, DCM_QUALITY_PARTIAL};
    k.dcie = (dcm_opt){0.6666666666666666, true, DCM_QUALITY_PARTIAL};
    k.ppue[0] = (dcm_opt){1.25, true, DCM_QUALITY_OK};
    k.e_dc_kwh = (dcm_opt){150, true, DCM_QUALITY_OK};
    k.grid_kwh = (dcm_opt){150, true, DCM_QUALITY_OK};
    k.co2_location_kg = (dcm_opt){74.1, true, DCM_QUALITY_OK};
    k.coverage = 0.5;
    k.estimated_share = 0;
    k.quality = DCM_QUALITY_PARTIAL;
    int64_t start = 1700000000LL * 1000000000LL;
    dcm_kpi_record rec = {.window = DCM_WINDOW_1H, .start_ns = start,
                          .end_ns = start + 3600LL * 1000000000LL, .interim = false,
                          .totals = &t, .kpi = &k, .pue_category = 2, .ruleset = "test-rules"};
    const char *zones[] = {"hall-a"};
    char *body = dcm_kpi_json_record(&rec, "ignored-site", zones, 1);
    assert_non_null(body);
    dcm_jrec jr = {.seq = 9, .type = DCM_JREC_KPI, .ts_ns = rec.end_ns, .key = "1h",
                   .body = body, .body_len = strlen(body)};
    dcm_lp_buf b;
    dcm_lp_buf_init(&b);
    assert_true(dcm_lp_encode(&b, "tainan", &jr, DCM_LP_S));
    const char *want =
        "dcm_kpi,category=2,site=tainan,window=1h "
        "interim=false,pue=1.5,dcie=0.6666666666666666,ppue_hall-a=1.25,"
        "energy_kwh_total=150,energy_kwh_it=100,energy_kwh_grid=150,"
        "energy_kwh_certificates=0,energy_kwh_ppa=0,co2_kg_location=74.1,"
        "coverage=0.5,estimated_share=0,quality=\"partial\","
        "pue_quality=\"partial\",dcie_quality=\"partial\",ppue_hall-a_quality=\"ok\","
        "wue_quality=\"invalid\",wue_fresh_quality=\"invalid\","
        "cue_location_quality=\"invalid\",cue_market_quality=\"invalid\","
        "ref_quality=\"invalid\",erf_quality=\"invalid\",ere_quality=\"invalid\","
        "cer_quality=\"invalid\",pue_enefg_quality=\"invalid\",iteu_sv_quality=\"invalid\","
        "accel_util_quality=\"invalid\",coverage_total=1,coverage_it=0.5,"
        "ruleset=\"test-rules\" 1700003600\n";
    assert_string_equal(b.data, want);
    free(body);

    /* No declared category: no category tag. The instant window's rates. */
    dcm_lp_buf_reset(&b);
    rec.window = DCM_WINDOW_INSTANT;
    rec.interim = true;
    rec.pue_category = 0;
    body = dcm_kpi_json_record(&rec, NULL, zones, 1);
    assert_non_null(body);
    jr.key = "instant";
    jr.body = body;
    jr.body_len = strlen(body);
    assert_true(dcm_lp_encode(&b, "tainan", &jr, DCM_LP_S));
    assert_true(strncmp(b.data, "dcm_kpi,site=tainan,window=instant interim=true,", 48) == 0);
    assert_non_null(strstr(b.data, ",power_kw_total=150,power_kw_it=100,"));
    assert_non_null(strstr(b.data, ",co2_kg_per_h_location=74.1,"));
    free(body);
    dcm_lp_buf_free(&b);
}

static void test_kpi_bodies_that_give_no_line(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "not json", "[1,2]", "{\"window\":\"1h\",\"kpi\":{\"pue\":null}}", "{}", "{\"a\":NaN}",
    };
    dcm_lp_buf b;
    dcm_lp_buf_init(&b);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        dcm_jrec jr = {.type = DCM_JREC_KPI, .ts_ns = 1, .key = "1h", .body = bodies[i],
                       .body_len = strlen(bodies[i])};
        assert_false(dcm_lp_encode(&b, "s", &jr, DCM_LP_NS));
        assert_int_equal(b.len, 0);
        assert_false(b.oom);
    }
    /* The window tag falls back to the record's key when the body has none. */
    const char *body = "{\"kpi\":{\"pue\":1.2}}";
    dcm_jrec jr = {.type = DCM_JREC_KPI, .ts_ns = 5, .key = "15m", .body = body,
                   .body_len = strlen(body)};
    assert_true(dcm_lp_encode(&b, "s", &jr, DCM_LP_NS));
    assert_string_equal(b.data, "dcm_kpi,site=s,window=15m pue=1.2 5\n");
    dcm_lp_buf_free(&b);
}

static void test_alert_line(void **state)
{
    (void)state;
    const char *body = "{\"rule\":\"pue-high\",\"site\":\"x\",\"state\":\"firing\",\"value\":1.7,"
                       "\"detail\":{\"threshold\":1.6,\"deep\":{\"er\":{\"too\":1}}},"
                       "\"list\":[1],\"note\":null,\"ack\":false,\"say\":\"a \\\"b\\\"\"}";
    dcm_jrec jr = {.type = DCM_JREC_ALERT, .ts_ns = 2000000000LL, .key = "pue high",
                   .body = body, .body_len = strlen(body)};
    dcm_lp_buf b;
    dcm_lp_buf_init(&b);
    assert_true(dcm_lp_encode(&b, "s", &jr, DCM_LP_S));
    assert_string_equal(b.data, "dcm_alert,rule=pue\\ high,site=s state=\"firing\",value=1.7,"
                                "detail_threshold=1.6,detail_deep_er_too=1,ack=false,"
                                "say=\"a \\\"b\\\"\" 2\n");
    dcm_lp_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_every_byte),
        cmocka_unit_test(test_escape_combinations),
        cmocka_unit_test(test_tags_sorted_fields_and_empty),
        cmocka_unit_test(test_precision),
        cmocka_unit_test(test_sample_lines),
        cmocka_unit_test(test_kpi_line),
        cmocka_unit_test(test_kpi_bodies_that_give_no_line),
        cmocka_unit_test(test_alert_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
