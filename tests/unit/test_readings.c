/* Timestamps (ISO-8601, Unix seconds, site-local dates) and CSV rows -> readings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"
#include "readings.h"
#include "timestamp.h"

#define S(x) (INT64_C(x) * DCM_NS_PER_S)

static const int64_t jan1_2025 = S(1735689600); /* 2025-01-01T00:00:00Z */

static int64_t ts(const char *text)
{
    int64_t t = 0;
    dcm_ts_err err = dcm_ts_parse(text, &t);
    if (err != DCM_TS_OK)
        fail_msg("'%s': %s", text, dcm_ts_strerror(err));
    return t;
}

static dcm_ts_err ts_err(const char *text)
{
    int64_t t = 0;
    return dcm_ts_parse(text, &t);
}

static void test_iso8601(void **state)
{
    (void)state;
    assert_int_equal(ts("2025-01-01T00:00:00Z"), jan1_2025);
    assert_int_equal(ts("2025-01-01t00:00:00z"), jan1_2025);
    assert_int_equal(ts("2025-01-01 08:00:00+08:00"), jan1_2025);
    assert_int_equal(ts("2025-01-01T08:00:00+0800"), jan1_2025);
    assert_int_equal(ts("2025-01-01T08:00+08"), jan1_2025);
    assert_int_equal(ts("2024-12-31T19:00:00-05:00"), jan1_2025);
    assert_int_equal(ts("  2025-01-01T00:00:00Z\t"), jan1_2025);
    assert_int_equal(ts("2025-01-01T00:00:00.5Z"), jan1_2025 + 500000000);
    assert_int_equal(ts("2025-01-01T00:00:00,25Z"), jan1_2025 + 250000000);
    assert_int_equal(ts("2025-01-01T00:00:00.123456789999Z"), jan1_2025 + 123456789);
    assert_int_equal(ts("2024-02-29T12:00:00Z"), S(1709208000));
    assert_int_equal(ts("1970-01-01T00:00:01Z"), S(1));
}

static void test_unix_seconds(void **state)
{
    (void)state;
    assert_int_equal(ts("1735689600"), jan1_2025);
    assert_int_equal(ts("1735689600.25"), jan1_2025 + 250000000);
    assert_int_equal(ts(" 1735689600.000000001 "), jan1_2025 + 1);
    assert_int_equal(ts_err("0"), DCM_TS_ERANGE);
    assert_int_equal(ts_err("99999999999"), DCM_TS_ERANGE);
    assert_int_equal(ts_err("99999999999999999999999999"), DCM_TS_ERANGE);
    assert_int_equal(ts_err("1735689600."), DCM_TS_ESYNTAX);
    assert_int_equal(ts_err("-1735689600"), DCM_TS_ESYNTAX);
    assert_int_equal(ts_err("1.5.2"), DCM_TS_ESYNTAX);
}

static void test_refused(void **state)
{
    (void)state;
    /* Without an offset the instant is a guess. */
    assert_int_equal(ts_err("2025-01-01T00:00:00"), DCM_TS_ENOOFFSET);
    assert_int_equal(ts_err("2025-01-01 00:00"), DCM_TS_ENOOFFSET);
    assert_int_equal(ts_err("2025-01-01"), DCM_TS_ENOOFFSET);
    assert_non_null(strstr(dcm_ts_strerror(DCM_TS_ENOOFFSET), "ambiguous"));
    assert_int_equal(ts_err("2025-02-29T00:00:00Z"), DCM_TS_ERANGE);
    assert_int_equal(ts_err("2025-13-01T00:00:00Z"), DCM_TS_ERANGE);
    assert_int_equal(ts_err("2025-01-01T24:00:00Z"), DCM_TS_ERANGE);
    assert_int_equal(ts_err("2025-01-01T00:60:00Z"), DCM_TS_ERANGE);
    assert_int_equal(ts_err("2025-01-01T00:00:00+24:00"), DCM_TS_ERANGE);
    assert_int_equal(ts_err("1969-12-31T23:59:59Z"), DCM_TS_ERANGE);
    assert_int_equal(ts_err("1970-01-01T00:00:00+01:00"), DCM_TS_ERANGE);
    assert_int_equal(ts_err("2200-01-01T00:00:00Z"), DCM_TS_ERANGE);
    assert_int_equal(ts_err(""), DCM_TS_ESYNTAX);
    assert_int_equal(ts_err("yesterday"), DCM_TS_ESYNTAX);
    assert_int_equal(ts_err("2025-1-01T00:00:00Z"), DCM_TS_ESYNTAX);
    assert_int_equal(ts_err("2025-01-01T00:00:00Zjunk"), DCM_TS_ESYNTAX);
    assert_int_equal(ts_err("2025-01-01X00:00:00Z"), DCM_TS_ESYNTAX);
    assert_int_equal(ts_err("2025-01-01T00:00:00."), DCM_TS_ESYNTAX);
    assert_int_equal(ts_err(NULL), DCM_TS_ESYNTAX);
}

static int32_t plus8(void *ctx, int64_t t_s)
{
    (void)ctx;
    (void)t_s;
    return 8 * 3600;
}

static int32_t minus0530(void *ctx, int64_t t_s)
{
    (void)ctx;
    (void)t_s;
    return -(5 * 3600 + 30 * 60);
}

static void test_local_forms(void **state)
{
    (void)state;
    dcm_calendar cal = {plus8, NULL};
    int64_t t = 0;
    assert_int_equal(dcm_ts_parse_local("2025-01-01", &cal, &t), DCM_TS_OK);
    assert_int_equal(t, jan1_2025 - 8 * DCM_NS_PER_HOUR);
    assert_int_equal(dcm_ts_parse_local("2025-01-01T08:30", &cal, &t), DCM_TS_OK);
    assert_int_equal(t, jan1_2025 + 30 * DCM_NS_PER_MIN);
    /* Explicit offsets and Unix seconds ignore the calendar. */
    assert_int_equal(dcm_ts_parse_local("2025-01-01T00:00:00Z", &cal, &t), DCM_TS_OK);
    assert_int_equal(t, jan1_2025);
    assert_int_equal(dcm_ts_parse_local("1735689600", &cal, &t), DCM_TS_OK);
    assert_int_equal(t, jan1_2025);
    /* No calendar: UTC. */
    assert_int_equal(dcm_ts_parse_local("2025-01-01", NULL, &t), DCM_TS_OK);
    assert_int_equal(t, jan1_2025);
    assert_int_equal(dcm_ts_parse_local("2025-02-30", &cal, &t), DCM_TS_ERANGE);
}

static void test_format(void **state)
{
    (void)state;
    char buf[DCM_TS_RFC3339_MAX];
    dcm_calendar p8 = {plus8, NULL}, m0530 = {minus0530, NULL};
    assert_int_equal(dcm_ts_format_rfc3339(jan1_2025, NULL, buf, sizeof buf), 20);
    assert_string_equal(buf, "2025-01-01T00:00:00Z");
    dcm_ts_format_rfc3339(jan1_2025, &p8, buf, sizeof buf);
    assert_string_equal(buf, "2025-01-01T08:00:00+08:00");
    dcm_ts_format_rfc3339(jan1_2025, &m0530, buf, sizeof buf);
    assert_string_equal(buf, "2024-12-31T18:30:00-05:30");
    dcm_ts_format_rfc3339(jan1_2025 + 250000000, NULL, buf, sizeof buf);
    assert_string_equal(buf, "2025-01-01T00:00:00.25Z");
    dcm_ts_format_rfc3339(jan1_2025 + 1, NULL, buf, sizeof buf);
    assert_string_equal(buf, "2025-01-01T00:00:00.000000001Z");
    assert_int_equal(dcm_ts_format_rfc3339(jan1_2025, NULL, buf, 10), 0);
    /* What is written reads back. */
    dcm_ts_format_rfc3339(jan1_2025 + 123456789, &m0530, buf, sizeof buf);
    assert_int_equal(ts(buf), jan1_2025 + 123456789);
}

static void test_civil_days(void **state)
{
    (void)state;
    assert_int_equal(dcm_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(dcm_days_from_civil(2025, 1, 1), 20089);
    assert_int_equal(dcm_days_from_civil(2000, 3, 1), 11017);
    for (int64_t d = -800000; d < 800000; d += 997) {
        int64_t y;
        int m, day;
        dcm_civil_from_days(d, &y, &m, &day);
        assert_int_equal(dcm_days_from_civil(y, m, day), d);
    }
}

/* ------------------------------------------------------------------- rows */

typedef struct parsed_csv {
    dcm_csv_reader *r;
    dcm_reading_columns cols;
} parsed_csv;

static void open_csv(parsed_csv *p, const char *text)
{
    assert_int_equal(dcm_csv_reader_create_mem(text, strlen(text), &p->r), DCM_CSV_OK);
    dcm_csv_record hdr;
    char why[160];
    assert_int_equal(dcm_csv_next(p->r, &hdr), DCM_CSV_OK);
    assert_true(dcm_reading_header(&hdr, &p->cols, why, sizeof why));
}

static dcm_row_problem next_row(parsed_csv *p, dcm_reading *rd, char *why, size_t n)
{
    dcm_csv_record rec;
    assert_int_equal(dcm_csv_next(p->r, &rec), DCM_CSV_OK);
    return dcm_reading_parse(&p->cols, &rec, rd, why, n);
}

static void test_header(void **state)
{
    (void)state;
    const char *bad[][2] = {
        {"timestamp,point,value,unit\n", "'kind'"},
        {"time,point,value,unit,kind\n", "'timestamp'"},
        {"timestamp,point,value,unit,kind,Point\n", "twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dcm_csv_reader *r = NULL;
        assert_int_equal(dcm_csv_reader_create_mem(bad[i][0], strlen(bad[i][0]), &r), DCM_CSV_OK);
        dcm_csv_record hdr;
        assert_int_equal(dcm_csv_next(r, &hdr), DCM_CSV_OK);
        dcm_reading_columns cols;
        char why[160];
        assert_false(dcm_reading_header(&hdr, &cols, why, sizeof why));
        assert_non_null(strstr(why, bad[i][1]));
        dcm_csv_reader_destroy(r);
    }
}

static void test_rows_any_column_order(void **state)
{
    (void)state;
    parsed_csv p;
    open_csv(&p, " Kind ,note,UNIT,Value,Point,timestamp,start\n"
                 "gauge,hello,W, 1500 ,pdu-a.power,2025-01-01T00:00:00Z\n"
                 "Delta,,MWh,2.5,\"main.bill\",2025-02-01T00:00:00+08:00,2025-01-01T00:00:00+08:00\n"
                 "counter,x,Wh,1e3,meter.energy,1735689600\n");
    assert_int_equal(p.cols.index[DCM_COL_KIND], 0);
    assert_int_equal(p.cols.index[DCM_COL_START], 6);
    dcm_reading rd;
    char why[200];
    assert_int_equal(next_row(&p, &rd, why, sizeof why), DCM_ROW_OK);
    assert_int_equal(rd.point_len, strlen("pdu-a.power"));
    assert_memory_equal(rd.point, "pdu-a.power", rd.point_len);
    assert_int_equal(rd.kind, DCM_KIND_GAUGE);
    assert_int_equal(rd.ts_ns, jan1_2025);
    assert_float_equal(rd.value, 1500.0, 0.0);
    assert_float_equal(rd.canonical, 1.5, 1e-12);
    assert_string_equal(rd.unit.canonical, "kW");
    assert_int_equal(rd.start_ns, 0);

    assert_int_equal(next_row(&p, &rd, why, sizeof why), DCM_ROW_OK);
    assert_int_equal(rd.kind, DCM_KIND_DELTA);
    assert_float_equal(rd.canonical, 2500.0, 1e-9);
    assert_int_equal(rd.start_ns, jan1_2025 - 8 * DCM_NS_PER_HOUR);
    assert_int_equal(rd.ts_ns, S(1738339200));

    assert_int_equal(next_row(&p, &rd, why, sizeof why), DCM_ROW_OK);
    assert_int_equal(rd.kind, DCM_KIND_COUNTER);
    assert_float_equal(rd.canonical, 1.0, 1e-12);
    dcm_csv_reader_destroy(p.r);
}

static void test_row_problems(void **state)
{
    (void)state;
    static const struct {
        const char *row;
        dcm_row_problem want;
        const char *why;
    } cases[] = {
        {"2025-01-01T00:00:00Z,p,1,kWh", DCM_ROW_FIELDS, "4 fields"},
        {"2025-01-01T00:00:00Z,  ,1,kWh,counter", DCM_ROW_POINT, "empty point"},
        {"2025-01-01T00:00:00Z,\"a\tb\",1,kWh,counter", DCM_ROW_POINT, "control"},
        {"2025-01-01 00:00:00,p,1,kWh,counter", DCM_ROW_TIMESTAMP, "ambiguous"},
        {"2025-02-30T00:00:00Z,p,1,kWh,counter", DCM_ROW_TIMESTAMP, "out of range"},
        {"soon,p,1,kWh,counter", DCM_ROW_TIMESTAMP, "'soon'"},
        {"2025-01-01T00:00:00Z,p,,kWh,counter", DCM_ROW_VALUE, "finite"},
        {"2025-01-01T00:00:00Z,p,nan,kWh,counter", DCM_ROW_VALUE, "'nan'"},
        {"2025-01-01T00:00:00Z,p,inf,kWh,counter", DCM_ROW_VALUE, "finite"},
        {"2025-01-01T00:00:00Z,p,0x10,kWh,counter", DCM_ROW_VALUE, "'0x10'"},
        {"2025-01-01T00:00:00Z,p,\"1,234\",kWh,counter", DCM_ROW_VALUE, "'1,234'"},
        {"2025-01-01T00:00:00Z,p,1e999,kWh,counter", DCM_ROW_VALUE, "finite"},
        {"2025-01-01T00:00:00Z,p,1e308,MWh,counter", DCM_ROW_VALUE, "overflows"},
        {"2025-01-01T00:00:00Z,p,1,kwh,counter", DCM_ROW_UNIT, "did you mean 'kWh'"},
        {"2025-01-01T00:00:00Z,p,1,BTU,counter", DCM_ROW_UNIT, "expected W kW"},
        {"2025-01-01T00:00:00Z,p,1,kWh,sum", DCM_ROW_KIND, "counter, delta or gauge"},
        {"2025-01-01T00:00:00Z,p,1,kWh,gauge", DCM_ROW_UNIT_KIND, "power unit"},
        {"2025-01-01T00:00:00Z,p,1,kW,counter", DCM_ROW_UNIT_KIND, "energy unit"},
        {"2025-01-01T00:00:00Z,p,1,kW,delta", DCM_ROW_UNIT_KIND, "energy unit"},
        {"2025-01-01T00:00:00Z,p,1,%,counter", DCM_ROW_UNIT_KIND, "only a gauge"},
        {"2025-01-01T00:00:00Z,p,1,kWh,counter,2024-12-01T00:00:00Z", DCM_ROW_START, "delta"},
        {"2025-01-01T00:00:00Z,p,1,kWh,delta,2025-01-01T00:00:00Z", DCM_ROW_START, "not before"},
        {"2025-01-01T00:00:00Z,p,1,kWh,delta,2024-12-01", DCM_ROW_START, "ambiguous"},
    };
    char text[8192] = "timestamp,point,value,unit,kind,start\n";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strcat(text, cases[i].row);
        strcat(text, "\n");
    }
    parsed_csv p;
    open_csv(&p, text);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dcm_reading rd;
        char why[256];
        dcm_row_problem got = next_row(&p, &rd, why, sizeof why);
        if (got != cases[i].want || !strstr(why, cases[i].why))
            fail_msg("row '%s': got %s '%s', want %s '%s'", cases[i].row,
                     dcm_row_problem_name(got), why, dcm_row_problem_name(cases[i].want),
                     cases[i].why);
    }
    dcm_csv_reader_destroy(p.r);
}

static void test_blank_record(void **state)
{
    (void)state;
    dcm_csv_reader *r = NULL;
    const char *text = "  \t\n\"\"\nx\n";
    assert_int_equal(dcm_csv_reader_create_mem(text, strlen(text), &r), DCM_CSV_OK);
    dcm_csv_record rec;
    assert_int_equal(dcm_csv_next(r, &rec), DCM_CSV_OK);
    assert_true(dcm_reading_is_blank(&rec));
    assert_int_equal(dcm_csv_next(r, &rec), DCM_CSV_OK);
    assert_true(dcm_reading_is_blank(&rec));
    assert_int_equal(dcm_csv_next(r, &rec), DCM_CSV_OK);
    assert_false(dcm_reading_is_blank(&rec));
    dcm_csv_reader_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_unix_seconds),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_local_forms),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_civil_days),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_rows_any_column_order),
        cmocka_unit_test(test_row_problems),
        cmocka_unit_test(test_blank_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
