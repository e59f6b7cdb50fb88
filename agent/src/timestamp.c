/* Instants in and out: ISO-8601 / RFC 3339, Unix seconds, site-local dates. */
#include "timestamp.h"

#include "dcm/config.h"

#include <stdbool.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MAX_UNIX_S INT64_C(7258118400) /* 2200-01-01T00:00:00Z */

const char *dcm_ts_strerror(dcm_ts_err err)
{
    switch (err) {
    case DCM_TS_OK:
        return "ok";
    case DCM_TS_ESYNTAX:
        return "not an ISO-8601 date-time (2025-01-31T23:45:00+08:00) nor Unix seconds";
    case DCM_TS_ENOOFFSET:
        return "no UTC offset: the time is ambiguous (add Z or +HH:MM)";
    case DCM_TS_ERANGE:
        return "date or time out of range (instants from 1970 to 2199)";
    }
    return "unknown timestamp error";
}

static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

static bool digit(char c) { return c >= '0' && c <= '9'; }

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!digit((*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* Up to 9 fractional digits as nanoseconds; further digits are read and dropped. */
static bool fraction(const char **p, int32_t *nanos)
{
    const char *s = *p;
    if (!digit(*s))
        return false;
    int32_t ns = 0;
    int n = 0;
    for (; digit(*s); s++, n++)
        if (n < 9)
            ns = ns * 10 + (*s - '0');
    for (; n < 9; n++)
        ns *= 10;
    *p = s;
    *nanos = ns;
    return true;
}

typedef struct parsed {
    int year, month, day, hour, minute, second;
    int32_t nanos;
    bool has_time, has_offset;
    int32_t offset_s;
} parsed;

static void trim(const char **start, size_t *len)
{
    const char *s = *start;
    size_t n = strlen(s);
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    *start = s;
    *len = n;
}

/* Unix seconds with an optional fraction, the whole text. */
static dcm_ts_err parse_unix(const char *s, size_t n, int64_t *out)
{
    int64_t sec = 0;
    size_t i = 0;
    for (; i < n && digit(s[i]); i++) {
        if (sec > MAX_UNIX_S)
            return DCM_TS_ERANGE;
        sec = sec * 10 + (s[i] - '0');
    }
    int32_t nanos = 0;
    if (i < n && s[i] == '.') {
        const char *p = s + i + 1;
        if (!fraction(&p, &nanos) || (size_t)(p - s) != n)
            return DCM_TS_ESYNTAX;
    } else if (i != n)
        return DCM_TS_ESYNTAX;
    if (sec >= MAX_UNIX_S || (sec == 0 && nanos == 0))
        return DCM_TS_ERANGE;
    *out = sec * DCM_NS_PER_S + nanos;
    return DCM_TS_OK;
}

static bool only_unix_chars(const char *s, size_t n)
{
    size_t dots = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.')
            dots++;
        else if (!digit(s[i]))
            return false;
    }
    return n > 0 && dots <= 1 && digit(s[0]);
}

/* Parses an ISO-8601 date or date-time (the whole of s[0..n)). */
static dcm_ts_err parse_iso(const char *s, size_t n, parsed *o)
{
    char buf[64];
    if (n >= sizeof buf)
        return DCM_TS_ESYNTAX;
    memcpy(buf, s, n);
    buf[n] = '\0'; /* the field helpers read until a non-digit; NUL stops them */
    const char *p = buf;
    memset(o, 0, sizeof *o);
    if (!digits(&p, 4, &o->year) || *p++ != '-' || !digits(&p, 2, &o->month) || *p++ != '-' ||
        !digits(&p, 2, &o->day))
        return DCM_TS_ESYNTAX;
    if (*p) {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return DCM_TS_ESYNTAX;
        p++;
        if (!digits(&p, 2, &o->hour) || *p++ != ':' || !digits(&p, 2, &o->minute))
            return DCM_TS_ESYNTAX;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &o->second))
                return DCM_TS_ESYNTAX;
            if (*p == '.' || *p == ',') {
                p++;
                if (!fraction(&p, &o->nanos))
                    return DCM_TS_ESYNTAX;
            }
        }
        o->has_time = true;
        if (*p == 'Z' || *p == 'z') {
            o->has_offset = true;
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1;
            int oh = 0, om = 0;
            if (!digits(&p, 2, &oh))
                return DCM_TS_ESYNTAX;
            if (*p == ':') {
                p++;
                if (!digits(&p, 2, &om))
                    return DCM_TS_ESYNTAX;
            } else if (digit(*p) && !digits(&p, 2, &om))
                return DCM_TS_ESYNTAX;
            if (oh > 23 || om > 59)
                return DCM_TS_ERANGE;
            o->has_offset = true;
            o->offset_s = sign * (oh * 3600 + om * 60);
        }
    }
    if (*p)
        return DCM_TS_ESYNTAX;
    if (o->year < 1970 || o->month < 1 || o->month > 12 || o->day < 1 ||
        o->day > days_in_month(o->year, o->month) || o->hour > 23 || o->minute > 59 ||
        o->second > 59)
        return DCM_TS_ERANGE;
    return DCM_TS_OK;
}

static dcm_ts_err finish(int64_t t_s, int32_t nanos, int64_t *out)
{
    if (t_s < 0 || t_s >= MAX_UNIX_S || (t_s == 0 && nanos == 0))
        return DCM_TS_ERANGE;
    *out = t_s * DCM_NS_PER_S + nanos;
    return DCM_TS_OK;
}

static dcm_ts_err parse_any(const char *text, const dcm_calendar *cal, bool allow_local,
                            int64_t *out_ns)
{
    if (!text || !out_ns)
        return DCM_TS_ESYNTAX;
    const char *s;
    size_t n;
    s = text;
    trim(&s, &n);
    if (only_unix_chars(s, n))
        return parse_unix(s, n, out_ns);
    parsed o;
    dcm_ts_err err = parse_iso(s, n, &o);
    if (err)
        return err;
    if (o.has_offset) {
        int64_t t = dcm_days_from_civil(o.year, o.month, o.day) * 86400 + o.hour * 3600 +
                    o.minute * 60 + o.second - o.offset_s;
        return finish(t, o.nanos, out_ns);
    }
    if (!allow_local)
        return DCM_TS_ENOOFFSET;
    if (cal && cal->utc_offset_s) {
        int64_t t_ns = dcm_calendar_local_to_utc(cal, o.year, o.month, o.day, o.hour, o.minute,
                                                 o.second);
        int64_t t_s = t_ns / DCM_NS_PER_S;
        return finish(t_s, (int32_t)(t_ns - t_s * DCM_NS_PER_S) + o.nanos, out_ns);
    }
    int64_t t = dcm_days_from_civil(o.year, o.month, o.day) * 86400 + o.hour * 3600 +
                o.minute * 60 + o.second;
    return finish(t, o.nanos, out_ns);
}

dcm_ts_err dcm_ts_parse(const char *text, int64_t *out_ns)
{
    return parse_any(text, NULL, false, out_ns);
}

dcm_ts_err dcm_ts_parse_local(const char *text, const dcm_calendar *cal, int64_t *out_ns)
{
    return parse_any(text, cal, true, out_ns);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

size_t dcm_ts_format_rfc3339(int64_t t_ns, const dcm_calendar *cal, char *buf, size_t size)
{
    if (!buf || size < DCM_TS_RFC3339_MAX)
        return 0;
    int64_t t_s = floor_div(t_ns, DCM_NS_PER_S);
    int64_t nanos = t_ns - t_s * DCM_NS_PER_S;
    int32_t off = (cal && cal->utc_offset_s) ? cal->utc_offset_s(cal->ctx, t_s) : 0;
    int64_t local = t_s + off;
    int64_t days = floor_div(local, 86400);
    int64_t sod = local - days * 86400;
    int64_t y;
    int m, d;
    dcm_civil_from_days(days, &y, &m, &d);
    int n = snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, m, d,
                     (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
    if (nanos) {
        char frac[16];
        snprintf(frac, sizeof frac, ".%09lld", (long long)nanos);
        size_t fl = strlen(frac);
        while (fl > 1 && frac[fl - 1] == '0')
            frac[--fl] = '\0';
        n += snprintf(buf + n, size - (size_t)n, "%s", frac);
    }
    if (off == 0)
        n += snprintf(buf + n, size - (size_t)n, "Z");
    else {
        int a = off < 0 ? -off : off;
        n += snprintf(buf + n, size - (size_t)n, "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600,
                      a / 60 % 60);
    }
    return (size_t)n;
}

/* "+08:00", "-05:30", "Z", "UTC", or a duration with a unit and an optional sign
 * ("8h", "-5h"). A bare number is refused: hours or seconds would be a guess. */
bool dcm_parse_utc_offset(const char *text, int64_t *out)
{
    const int64_t min_ns = INT64_C(60) * DCM_NS_PER_S;
    int sign = 1;
    if (strcmp(text, "Z") == 0 || strcmp(text, "UTC") == 0) {
        *out = 0;
        return true;
    }
    if (*text == '+' || *text == '-')
        sign = *text++ == '-' ? -1 : 1;
    if (isdigit((unsigned char)text[0]) && isdigit((unsigned char)text[1]) && text[2] == ':' &&
        isdigit((unsigned char)text[3]) && isdigit((unsigned char)text[4]) && text[5] == '\0') {
        int hh = (text[0] - '0') * 10 + (text[1] - '0');
        int mm = (text[3] - '0') * 10 + (text[4] - '0');
        if (hh > 14 || mm > 59)
            return false;
        *out = sign * (hh * 60 + mm) * min_ns;
        return true;
    }
    int64_t d;
    if (!strpbrk(text, "smhd") || !dcm_parse_duration_ns(text, &d))
        return false;
    *out = sign * d;
    return true;
}
