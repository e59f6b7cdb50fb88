/* The site model applied to points: roles and zones by glob, the civil calendar from the
 * C library's zone data, and the engine parameters. */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config_internal.h"
#include "site.h"

static bool selectors_match(const dcm_selectors *s, const char *id)
{
    for (size_t i = 0; i < s->count; i++)
        if (fnmatch(s->globs[i], id, 0) == 0)
            return true;
    return false;
}

bool dcm_site_map_point(const dcm_site_config *site, const char *point_id, dcm_point_def *def)
{
    def->roles = 0;
    def->zone = -1;
    def->zone_part = DCM_ZONE_NONE;
    def->attribute = 0;
    if (!site || !point_id)
        return false;
    def->attribute = selectors_match(&site->attribution, point_id) ? 1 : 0;
    for (int r = 0; r < DCM_ROLE_COUNT; r++)
        if (selectors_match(&site->roles[r], point_id))
            def->roles |= DCM_ROLE_BIT(r);
    /* A point belongs to one zone part at most: the first zone that claims it wins, and
     * within a zone its IT selectors before its overhead ones. */
    for (size_t z = 0; z < site->zone_count && z < DCM_MAX_ZONES; z++) {
        dcm_zone_part part = DCM_ZONE_NONE;
        if (selectors_match(&site->zones[z].it, point_id))
            part = DCM_ZONE_IT;
        else if (selectors_match(&site->zones[z].overhead, point_id))
            part = DCM_ZONE_OVERHEAD;
        if (part != DCM_ZONE_NONE) {
            def->zone = (int16_t)z;
            def->zone_part = (uint8_t)part;
            break;
        }
    }
    return def->roles != 0 || def->zone >= 0 || def->attribute;
}

void dcm_site_kpi_params(const dcm_site_config *site, dcm_kpi_params *out)
{
    memset(out, 0, sizeof(*out));
    out->carbon.location_factor = site->location_factor;
    out->carbon.has_location = site->has_location_factor;
    out->carbon.market_factor = site->market_factor;
    out->carbon.has_market = site->has_market_factor;
    out->carbon.fuel_factor = site->fuel_factor;
    out->pue_category = site->pue_category;
    out->coverage_ok = site->coverage_ok;
    out->onsite_attributes_retained = site->onsite_attributes_retained;
    out->it_from_telemetry = site->it_from_telemetry;
    out->it_baseline_kw = site->node_baseline_w * (double)site->node_count / 1000.0;
}

/* ------------------------------------------------------------- calendar */

/* Reads the process time zone set by dcm_site_calendar. localtime_r is thread-safe once
 * tzset() has run, which is why TZ is set before any thread starts. */
static int32_t libc_utc_offset(void *ctx, int64_t t_utc_s)
{
    (void)ctx;
    time_t t = (time_t)t_utc_s;
    struct tm tm;
    if ((int64_t)t != t_utc_s || !localtime_r(&t, &tm))
        return 0;
    return (int32_t)tm.tm_gmtoff;
}

bool dcm_site_calendar(const char *zone, dcm_calendar *out)
{
    if (!dcm_config_timezone_known(zone))
        return false;
    if (setenv("TZ", zone, 1) != 0)
        return false;
    tzset();
    out->utc_offset_s = libc_utc_offset;
    out->ctx = NULL;
    return true;
}

/* ------------------------------------------------------------- periods */

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Reads exactly n digits at s. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

typedef struct civil {
    int y, m, d;
} civil;

/* One period term: "YYYY", "YYYY-Qn", "YYYY-MM" or "YYYY-MM-DD" of length len, as the
 * first day it covers and the first day after it. */
static bool parse_term(const char *s, size_t len, civil *from, civil *to)
{
    int y, m, d, q;
    if (len < 4 || !digits(s, 4, &y) || y < 1900 || y > 9998)
        return false;
    if (len == 4) {
        *from = (civil){y, 1, 1};
        *to = (civil){y + 1, 1, 1};
        return true;
    }
    if (s[4] != '-')
        return false;
    if (len == 7 && s[5] == 'Q' && digits(s + 6, 1, &q) && q >= 1 && q <= 4) {
        *from = (civil){y, 3 * q - 2, 1};
        *to = q == 4 ? (civil){y + 1, 1, 1} : (civil){y, 3 * q + 1, 1};
        return true;
    }
    if (len < 7 || !digits(s + 5, 2, &m) || m < 1 || m > 12)
        return false;
    if (len == 7) {
        *from = (civil){y, m, 1};
        *to = m == 12 ? (civil){y + 1, 1, 1} : (civil){y, m + 1, 1};
        return true;
    }
    if (len != 10 || s[7] != '-' || !digits(s + 8, 2, &d) || d < 1 || d > days_in_month(y, m))
        return false;
    *from = (civil){y, m, d};
    if (d < days_in_month(y, m))
        *to = (civil){y, m, d + 1};
    else
        *to = m == 12 ? (civil){y + 1, 1, 1} : (civil){y, m + 1, 1};
    return true;
}

static int64_t civil_to_utc(const dcm_calendar *cal, civil c)
{
    return dcm_calendar_local_to_utc(cal, c.y, c.m, c.d, 0, 0, 0);
}

bool dcm_site_period(const dcm_calendar *cal, const char *period, int64_t *start_ns,
                     int64_t *end_ns)
{
    if (!cal || !period)
        return false;
    civil from, to, unused;
    const char *slash = strchr(period, '/');
    if (!slash) {
        if (!parse_term(period, strlen(period), &from, &to))
            return false;
    } else {
        /* FROM/TO are whole dates and TO is exclusive: "2026-01-01/2026-04-01" is the
         * first quarter, as in ISO 8601 intervals. */
        size_t n1 = (size_t)(slash - period), n2 = strlen(slash + 1);
        if (n1 != 10 || n2 != 10 || !parse_term(period, n1, &from, &unused) ||
            !parse_term(slash + 1, n2, &to, &unused))
            return false;
    }
    int64_t s = civil_to_utc(cal, from), e = civil_to_utc(cal, to);
    if (e <= s)
        return false;
    *start_ns = s;
    *end_ns = e;
    return true;
}

bool dcm_site_instruments(const dcm_site_config *site, const dcm_calendar *cal,
                          dcm_instrument_period **out, size_t *count, dcm_diags *diags)
{
    *out = NULL;
    *count = 0;
    if (site->instrument_count == 0)
        return true;
    dcm_instrument_period *p = calloc(site->instrument_count, sizeof(*p));
    if (!p)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < site->instrument_count; i++) {
        const dcm_instrument_config *ins = &site->instruments[i];
        int64_t s, e;
        if (!ins->period || !dcm_site_period(cal, ins->period, &s, &e)) {
            char path[64];
            snprintf(path, sizeof(path), "site.certificates[%zu].period", i);
            const dcm_node *where = ins->node ? dcm_node_get(ins->node, "period") : NULL;
            if (diags)
                dcm_diag_at(diags, DCM_DIAG_ERROR, where ? where : ins->node, path,
                            "period '%s' does not parse; the entry is left out",
                            ins->period ? ins->period : "");
            continue;
        }
        p[n].start_ns = s;
        p[n].end_ns = e;
        p[n].kwh = ins->kwh;
        p[n].is_ppa = ins->is_ppa;
        n++;
    }
    if (n == 0) {
        free(p);
        return true;
    }
    *out = p;
    *count = n;
    return true;
}
