/*
 * calendar.c - window boundaries in the site's civil time.
 *
 * The engine never reads zone data itself: the caller injects the UTC offset in force at
 * an instant, and this file does the proleptic Gregorian arithmetic (days from civil and
 * back, after H. Hinnant's public-domain algorithms) so that the library stays pure.
 */
#include "internal.h"

#define SECS_PER_DAY INT64_C(86400)
#define MAX_OFFSET_S (26 * 3600)

/* Days since 1970-01-01 of a proleptic Gregorian date; month may be out of 1..12 and is
 * carried into the year, day may be out of range and is carried into the following days. */
int64_t dcm_days_from_civil(int64_t y, int month, int day)
{
    int64_t m = month, d = day;
    int64_t m0 = m - 1;
    y += dcm__floor_div(m0, 12);
    m = m0 - dcm__floor_div(m0, 12) * 12 + 1;
    y -= m <= 2;
    int64_t era = dcm__floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t mp = (m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468 + (d - 1);
}

void dcm_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = dcm__floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (mm <= 2);
    *m = (int)mm;
    *d = (int)dd;
}

int32_t dcm__cal_offset(const dcm_calendar *cal, int64_t t_s)
{
    if (!cal || !cal->utc_offset_s)
        return 0;
    int32_t off = cal->utc_offset_s(cal->ctx, t_s);
    if (off > MAX_OFFSET_S)
        off = MAX_OFFSET_S;
    if (off < -MAX_OFFSET_S)
        off = -MAX_OFFSET_S;
    return off - off % 60;
}

/* Seconds -> ns without overflow; the calendar only needs to be exact inside the range
 * the engine accepts. */
static int64_t s_to_ns(int64_t s)
{
    const int64_t lim = INT64_MAX / DCM_NS_PER_S;
    if (s > lim)
        return INT64_MAX;
    if (s < -lim)
        return -INT64_MAX;
    return s * DCM_NS_PER_S;
}

/* Local civil seconds (as if the local clock were UTC) -> the UTC instant. Either side of
 * a change, the offsets in force a little over a day earlier and later are the only
 * candidates (offsets are bounded by 26 h, changes are months apart). */
static int64_t local_s_to_utc_s(const dcm_calendar *cal, int64_t local_s)
{
    const int64_t span = MAX_OFFSET_S + 3600;
    int32_t before = dcm__cal_offset(cal, local_s - span);
    int32_t after = dcm__cal_offset(cal, local_s + span);
    int64_t ta = local_s - before, tb = local_s - after;
    bool va = dcm__cal_offset(cal, ta) == before;
    bool vb = dcm__cal_offset(cal, tb) == after;
    if (va && vb)
        return ta < tb ? ta : tb; /* repeated local time: the first occurrence */
    if (va)
        return ta;
    if (vb)
        return tb;
    /* Skipped local time: move it forward by the gap, into the later offset's period
     * (02:30 on a spring-forward night becomes 03:30 summer time). */
    return ta;
}

int64_t dcm_calendar_local_to_utc(const dcm_calendar *cal, int year, int month, int day,
                                  int hour, int minute, int second)
{
    int64_t days = dcm_days_from_civil(year, month, day);
    int64_t local_s = days * SECS_PER_DAY + (int64_t)hour * 3600 + (int64_t)minute * 60 + second;
    return s_to_ns(local_s_to_utc_s(cal, local_s));
}

static int64_t local_s_of(const dcm_calendar *cal, int64_t t_ns, int64_t *t_s_out)
{
    int64_t t_s = dcm__floor_div(t_ns, DCM_NS_PER_S);
    if (t_s_out)
        *t_s_out = t_s;
    return t_s + dcm__cal_offset(cal, t_s);
}

void dcm_calendar_utc_to_local(const dcm_calendar *cal, int64_t t_ns, int *year, int *month,
                               int *day, int *hour, int *minute, int *second)
{
    int64_t local_s = local_s_of(cal, t_ns, NULL);
    int64_t days = dcm__floor_div(local_s, SECS_PER_DAY);
    int64_t sod = local_s - days * SECS_PER_DAY;
    int64_t y;
    int m, d;
    dcm_civil_from_days(days, &y, &m, &d);
    if (year)
        *year = (int)y;
    if (month)
        *month = m;
    if (day)
        *day = d;
    if (hour)
        *hour = (int)(sod / 3600);
    if (minute)
        *minute = (int)(sod / 60 % 60);
    if (second)
        *second = (int)(sod % 60);
}

static int64_t add_ns(int64_t t, int64_t d)
{
    return t > INT64_MAX - d ? INT64_MAX : t + d;
}

/* Start of a fixed-length local period (minute, quarter hour, hour) containing t. */
static int64_t floor_fixed(const dcm_calendar *cal, int64_t t_ns, int64_t period_s)
{
    int64_t t_s;
    int64_t local_s = local_s_of(cal, t_ns, &t_s);
    int64_t into = local_s - dcm__floor_div(local_s, period_s) * period_s;
    return s_to_ns(t_s - into);
}

static void local_date(const dcm_calendar *cal, int64_t t_ns, int *y, int *m, int *d)
{
    dcm_calendar_utc_to_local(cal, t_ns, y, m, d, NULL, NULL, NULL);
}

int64_t dcm_calendar_floor(const dcm_calendar *cal, dcm_window w, int64_t t_ns)
{
    int y, m, d;
    int64_t start;
    switch (w) {
    case DCM_WINDOW_1M: return floor_fixed(cal, t_ns, 60);
    case DCM_WINDOW_15M: return floor_fixed(cal, t_ns, 900);
    case DCM_WINDOW_1H: return floor_fixed(cal, t_ns, 3600);
    case DCM_WINDOW_1D:
    case DCM_WINDOW_MONTH:
    case DCM_WINDOW_YEAR:
        local_date(cal, t_ns, &y, &m, &d);
        if (w == DCM_WINDOW_YEAR)
            m = 1;
        if (w != DCM_WINDOW_1D)
            d = 1;
        start = dcm_calendar_local_to_utc(cal, y, m, d, 0, 0, 0);
        /* A zone whose offset changes by more than its day would put the start after t;
         * never return a start that does not contain t. */
        return start <= t_ns ? start : floor_fixed(cal, t_ns, 60);
    case DCM_WINDOW_INSTANT:
    case DCM_WINDOW_TTM:
    case DCM_WINDOW_COUNT:
        break;
    }
    return t_ns;
}

int64_t dcm_calendar_next(const dcm_calendar *cal, dcm_window w, int64_t t_ns)
{
    int y, m, d;
    int64_t next;
    switch (w) {
    case DCM_WINDOW_1M: return add_ns(floor_fixed(cal, t_ns, 60), 60 * DCM_NS_PER_S);
    case DCM_WINDOW_15M: return add_ns(floor_fixed(cal, t_ns, 900), 900 * DCM_NS_PER_S);
    case DCM_WINDOW_1H: return add_ns(floor_fixed(cal, t_ns, 3600), 3600 * DCM_NS_PER_S);
    case DCM_WINDOW_1D:
    case DCM_WINDOW_MONTH:
    case DCM_WINDOW_YEAR:
        local_date(cal, t_ns, &y, &m, &d);
        if (w == DCM_WINDOW_1D)
            next = dcm_calendar_local_to_utc(cal, y, m, d + 1, 0, 0, 0);
        else if (w == DCM_WINDOW_MONTH)
            next = dcm_calendar_local_to_utc(cal, y, m + 1, 1, 0, 0, 0);
        else
            next = dcm_calendar_local_to_utc(cal, y + 1, 1, 1, 0, 0, 0);
        return next > t_ns ? next : add_ns(floor_fixed(cal, t_ns, 60), 60 * DCM_NS_PER_S);
    case DCM_WINDOW_INSTANT:
    case DCM_WINDOW_TTM:
    case DCM_WINDOW_COUNT:
        break;
    }
    return t_ns;
}
