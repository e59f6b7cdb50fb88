/*
 * test_metrics_calendar.c - civil-time windows: proleptic Gregorian arithmetic, a fixed
 * +8 h zone (Asia/Taipei-like), a hand-written EU daylight-saving rule (Europe/Berlin:
 * 23 h and 25 h days), skipped and repeated local times, and a half-hour offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "dcm/metrics.h"
#include "test_metrics_common.h"

#define NS(s) ((int64_t)(s) * DCM_NS_PER_S)
#define H (INT64_C(3600))

/* Days since 1970-01-01, counted month by month: independent of the library's formula. */
static int64_t slow_days(int y, int m, int d)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t days = 0;
    for (int yy = 1970; yy < y; yy++)
        days += (yy % 4 == 0 && (yy % 100 != 0 || yy % 400 == 0)) ? 366 : 365;
    for (int yy = y; yy < 1970; yy++)
        days -= (yy % 4 == 0 && (yy % 100 != 0 || yy % 400 == 0)) ? 366 : 365;
    for (int mm = 1; mm < m; mm++)
        days += mdays[mm - 1] + (mm == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
    return days + d - 1;
}

static int64_t utc(int y, int m, int d, int hh, int mi)
{
    return slow_days(y, m, d) * 86400 + hh * H + mi * 60;
}

static int32_t taipei(void *ctx, int64_t t)
{
    (void)ctx;
    (void)t;
    return 8 * 3600;
}

static int32_t kolkata(void *ctx, int64_t t)
{
    (void)ctx;
    (void)t;
    return 5 * 3600 + 1800;
}

/* EU rule: summer time from the last Sunday of March 01:00 UTC to the last Sunday of
 * October 01:00 UTC. */
static int64_t last_sunday_0100(int year, int month)
{
    int64_t day = slow_days(year, month, 31); /* March and October have 31 days */
    int wday = (int)((day + 4) % 7);          /* 1970-01-01 was a Thursday; Sunday = 0 */
    return (day - wday) * 86400 + H;
}

static int32_t berlin(void *ctx, int64_t t)
{
    (void)ctx;
    int year = 1970;
    while (utc(year + 1, 1, 1, 0, 0) <= t)
        year++;
    if (t >= last_sunday_0100(year, 3) && t < last_sunday_0100(year, 10))
        return 7200;
    return 3600;
}

static const dcm_calendar TPE = {taipei, NULL};
static const dcm_calendar BER = {berlin, NULL};
static const dcm_calendar KOL = {kolkata, NULL};

static void test_civil_utc(void **state)
{
    (void)state;
    assert_int_equal(dcm_calendar_local_to_utc(NULL, 2026, 1, 1, 0, 0, 0), NS(1767225600));
    assert_int_equal(dcm_calendar_local_to_utc(NULL, 2000, 2, 29, 0, 0, 0), NS(951782400));
    assert_int_equal(dcm_calendar_local_to_utc(NULL, 2024, 12, 31, 23, 59, 59), NS(1735689599));
    assert_int_equal(dcm_calendar_local_to_utc(NULL, 1900, 3, 1, 0, 0, 0), NS(-2203891200));
    assert_int_equal(dcm_calendar_local_to_utc(NULL, 2100, 3, 1, 0, 0, 0), NS(4107542400));
    /* Out-of-range fields carry: month 13 is January of the next year, day 0 the last
     * day of the previous month. */
    assert_int_equal(dcm_calendar_local_to_utc(NULL, 2025, 13, 1, 0, 0, 0), NS(1767225600));
    assert_int_equal(dcm_calendar_local_to_utc(NULL, 2025, 3, 0, 0, 0, 0),
                     NS(utc(2025, 2, 28, 0, 0)));
    /* Every day from 1900 to 2200 against the slow count, and back. */
    for (int y = 1900; y <= 2200; y += 7) {
        for (int m = 1; m <= 12; m++) {
            for (int d = 1; d <= 28; d += 9) {
                int64_t t = dcm_calendar_local_to_utc(NULL, y, m, d, 13, 14, 15);
                assert_int_equal(t, NS(utc(y, m, d, 13, 14) + 15));
                int yy, mm, dd, hh, mi, ss;
                dcm_calendar_utc_to_local(NULL, t + 999999999, &yy, &mm, &dd, &hh, &mi, &ss);
                assert_int_equal(yy, y);
                assert_int_equal(mm, m);
                assert_int_equal(dd, d);
                assert_int_equal(hh, 13);
                assert_int_equal(mi, 14);
                assert_int_equal(ss, 15);
            }
        }
    }
    int yy, mm, dd;
    dcm_calendar_utc_to_local(NULL, -1, &yy, &mm, &dd, NULL, NULL, NULL);
    assert_int_equal(yy, 1969);
    assert_int_equal(mm, 12);
    assert_int_equal(dd, 31);
}

static void test_fixed_plus8(void **state)
{
    (void)state;
    int64_t boundary = NS(utc(2025, 12, 31, 16, 0)); /* 2026-01-01 00:00 local */
    assert_int_equal(dcm_calendar_local_to_utc(&TPE, 2026, 1, 1, 0, 0, 0), boundary);
    assert_int_equal(dcm_calendar_floor(&TPE, DCM_WINDOW_MONTH, boundary + NS(1)), boundary);
    assert_int_equal(dcm_calendar_floor(&TPE, DCM_WINDOW_YEAR, boundary), boundary);
    assert_int_equal(dcm_calendar_floor(&TPE, DCM_WINDOW_MONTH, boundary - 1),
                     NS(utc(2025, 11, 30, 16, 0)));
    assert_int_equal(dcm_calendar_next(&TPE, DCM_WINDOW_MONTH, boundary - 1), boundary);
    assert_int_equal(dcm_calendar_next(&TPE, DCM_WINDOW_MONTH, boundary),
                     NS(utc(2026, 1, 31, 16, 0)));
    assert_int_equal(dcm_calendar_next(&TPE, DCM_WINDOW_YEAR, boundary),
                     NS(utc(2026, 12, 31, 16, 0)));
    int64_t t = NS(utc(2026, 3, 10, 20, 0)); /* 03-11 04:00 local */
    assert_int_equal(dcm_calendar_floor(&TPE, DCM_WINDOW_1D, t), NS(utc(2026, 3, 10, 16, 0)));
    assert_int_equal(dcm_calendar_next(&TPE, DCM_WINDOW_1D, t), NS(utc(2026, 3, 11, 16, 0)));
    assert_int_equal(dcm_calendar_floor(&TPE, DCM_WINDOW_1H, t + NS(1799)), t);
    assert_int_equal(dcm_calendar_floor(&TPE, DCM_WINDOW_15M, t + NS(1799)), t + NS(900));
    assert_int_equal(dcm_calendar_next(&TPE, DCM_WINDOW_15M, t + NS(1799)), t + NS(1800));
    assert_int_equal(dcm_calendar_floor(&TPE, DCM_WINDOW_1M, t + NS(59) + 5), t);
    assert_int_equal(dcm_calendar_next(&TPE, DCM_WINDOW_1M, t + NS(59) + 5), t + NS(60));
    int y, m, d, hh, mi, ss;
    dcm_calendar_utc_to_local(&TPE, boundary, &y, &m, &d, &hh, &mi, &ss);
    assert_int_equal(y, 2026);
    assert_int_equal(m, 1);
    assert_int_equal(d, 1);
    assert_int_equal(hh, 0);
    /* Not calendar windows. */
    assert_int_equal(dcm_calendar_floor(&TPE, DCM_WINDOW_INSTANT, t + 7), t + 7);
    assert_int_equal(dcm_calendar_floor(&TPE, DCM_WINDOW_TTM, t + 7), t + 7);
    assert_int_equal(dcm_calendar_next(&TPE, DCM_WINDOW_TTM, t + 7), t + 7);
}

static void test_berlin_dst_days(void **state)
{
    (void)state;
    /* 2025: summer time from 30 March to 26 October. */
    assert_int_equal(last_sunday_0100(2025, 3), utc(2025, 3, 30, 1, 0));
    assert_int_equal(last_sunday_0100(2025, 10), utc(2025, 10, 26, 1, 0));
    int64_t spring = NS(utc(2025, 3, 30, 12, 0));
    int64_t s0 = dcm_calendar_floor(&BER, DCM_WINDOW_1D, spring);
    int64_t s1 = dcm_calendar_next(&BER, DCM_WINDOW_1D, spring);
    assert_int_equal(s0, NS(utc(2025, 3, 29, 23, 0)));
    assert_int_equal(s1, NS(utc(2025, 3, 30, 22, 0)));
    assert_int_equal(s1 - s0, NS(23 * H));
    int64_t autumn = NS(utc(2025, 10, 26, 12, 0));
    int64_t a0 = dcm_calendar_floor(&BER, DCM_WINDOW_1D, autumn);
    int64_t a1 = dcm_calendar_next(&BER, DCM_WINDOW_1D, autumn);
    assert_int_equal(a0, NS(utc(2025, 10, 25, 22, 0)));
    assert_int_equal(a1, NS(utc(2025, 10, 26, 23, 0)));
    assert_int_equal(a1 - a0, NS(25 * H));
    /* Month and year windows start at local midnight, in the offset then in force. */
    assert_int_equal(dcm_calendar_floor(&BER, DCM_WINDOW_MONTH, spring),
                     NS(utc(2025, 2, 28, 23, 0)));
    assert_int_equal(dcm_calendar_next(&BER, DCM_WINDOW_MONTH, spring),
                     NS(utc(2025, 3, 31, 22, 0)));
    assert_int_equal(dcm_calendar_floor(&BER, DCM_WINDOW_MONTH, autumn),
                     NS(utc(2025, 9, 30, 22, 0)));
    assert_int_equal(dcm_calendar_next(&BER, DCM_WINDOW_MONTH, autumn),
                     NS(utc(2025, 10, 31, 23, 0)));
    assert_int_equal(dcm_calendar_floor(&BER, DCM_WINDOW_YEAR, spring),
                     NS(utc(2024, 12, 31, 23, 0)));
    assert_int_equal(dcm_calendar_next(&BER, DCM_WINDOW_YEAR, spring),
                     NS(utc(2025, 12, 31, 23, 0)));
    /* Hours across the change stay one hour long. */
    int64_t h = NS(utc(2025, 3, 30, 1, 10));
    assert_int_equal(dcm_calendar_floor(&BER, DCM_WINDOW_1H, h), NS(utc(2025, 3, 30, 1, 0)));
    assert_int_equal(dcm_calendar_next(&BER, DCM_WINDOW_1H, h), NS(utc(2025, 3, 30, 2, 0)));
    assert_int_equal(dcm_calendar_floor(&BER, DCM_WINDOW_1H, h - NS(20 * 60)),
                     NS(utc(2025, 3, 30, 0, 0)));

    /* Walk the whole year day by day: 365 days, one of 23 h, one of 25 h, the rest 24 h. */
    int64_t t = dcm_calendar_floor(&BER, DCM_WINDOW_YEAR, spring);
    int64_t end = dcm_calendar_next(&BER, DCM_WINDOW_YEAR, spring);
    int days = 0, short_days = 0, long_days = 0;
    while (t < end) {
        int64_t n = dcm_calendar_next(&BER, DCM_WINDOW_1D, t);
        assert_int_equal(dcm_calendar_floor(&BER, DCM_WINDOW_1D, n - 1), t);
        int64_t len = (n - t) / DCM_NS_PER_S;
        if (len == 23 * H)
            short_days++;
        else if (len == 25 * H)
            long_days++;
        else
            assert_int_equal(len, 24 * H);
        int hh, mi;
        dcm_calendar_utc_to_local(&BER, t, NULL, NULL, NULL, &hh, &mi, NULL);
        assert_int_equal(hh, 0);
        assert_int_equal(mi, 0);
        t = n;
        days++;
    }
    assert_int_equal(t, end);
    assert_int_equal(days, 365);
    assert_int_equal(short_days, 1);
    assert_int_equal(long_days, 1);
}

static void test_berlin_gap_and_fold(void **state)
{
    (void)state;
    /* 02:30 on 30 March 2025 does not exist: moved forward to 03:30 summer time. */
    int64_t g = dcm_calendar_local_to_utc(&BER, 2025, 3, 30, 2, 30, 0);
    assert_int_equal(g, NS(utc(2025, 3, 30, 1, 30)));
    int hh, mi;
    dcm_calendar_utc_to_local(&BER, g, NULL, NULL, NULL, &hh, &mi, NULL);
    assert_int_equal(hh, 3);
    assert_int_equal(mi, 30);
    /* 02:30 on 26 October 2025 happens twice: the first (summer time) is taken. */
    assert_int_equal(dcm_calendar_local_to_utc(&BER, 2025, 10, 26, 2, 30, 0),
                     NS(utc(2025, 10, 26, 0, 30)));
    /* Unambiguous times either side. */
    assert_int_equal(dcm_calendar_local_to_utc(&BER, 2025, 7, 1, 12, 0, 0),
                     NS(utc(2025, 7, 1, 10, 0)));
    assert_int_equal(dcm_calendar_local_to_utc(&BER, 2025, 12, 1, 12, 0, 0),
                     NS(utc(2025, 12, 1, 11, 0)));
}

static void test_half_hour_offset(void **state)
{
    (void)state;
    int64_t t = NS(utc(2026, 1, 1, 0, 0)); /* 05:30 local */
    assert_int_equal(dcm_calendar_floor(&KOL, DCM_WINDOW_1H, t), NS(utc(2025, 12, 31, 23, 30)));
    assert_int_equal(dcm_calendar_floor(&KOL, DCM_WINDOW_15M, t + NS(60)), t);
    assert_int_equal(dcm_calendar_floor(&KOL, DCM_WINDOW_1D, t), NS(utc(2025, 12, 31, 18, 30)));
    /* No zone: UTC. */
    assert_int_equal(dcm_calendar_floor(NULL, DCM_WINDOW_1D, t + NS(5)), t);
    dcm_calendar none = {NULL, NULL};
    assert_int_equal(dcm_calendar_floor(&none, DCM_WINDOW_MONTH, t + NS(86400 * 3)), t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil_utc),
        cmocka_unit_test(test_fixed_plus8),
        cmocka_unit_test(test_berlin_dst_days),
        cmocka_unit_test(test_berlin_gap_and_fold),
        cmocka_unit_test(test_half_hour_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
