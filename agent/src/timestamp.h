/*
 * timestamp.h - reading and writing instants: ISO-8601 / RFC 3339 date-times, Unix
 * seconds, and site-local dates for command-line periods.
 *
 * Instants are int64 nanoseconds since the Unix epoch, UTC, as everywhere in dcmetrics.
 */
#ifndef DCM_TIMESTAMP_H
#define DCM_TIMESTAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dcm/metrics.h"

typedef enum dcm_ts_err {
    DCM_TS_OK = 0,
    DCM_TS_ESYNTAX,   /* neither an ISO-8601 date-time nor Unix seconds */
    DCM_TS_ENOOFFSET, /* a date-time without Z or +HH:MM: ambiguous, refused */
    DCM_TS_ERANGE,    /* a field out of range (month 13, Feb 30, 25:00) or before 1970 */
} dcm_ts_err;

const char *dcm_ts_strerror(dcm_ts_err err);

/* Parses an instant, with surrounding blanks ignored:
 *   - ISO-8601 / RFC 3339: "2025-01-31T23:59:59Z", "2025-01-31 23:59:59.250+08:00",
 *     "2025-01-31T23:59:59+0800"; 'T' or one space between date and time; seconds
 *     optional; up to 9 fractional digits kept (more are truncated);
 *   - Unix seconds: "1735689600", "1735689600.5".
 * Refuses a date-time without an offset (DCM_TS_ENOOFFSET): which zone was meant is a
 * guess. Instants must lie after 1970-01-01T00:00:00Z and before year 2200. */
dcm_ts_err dcm_ts_parse(const char *text, int64_t *out_ns);

/* Same, and also site-local forms, resolved with cal (NULL = UTC):
 *   "2025-03-01" (local midnight), "2025-03-01T08:00" (local time, no offset). */
dcm_ts_err dcm_ts_parse_local(const char *text, const dcm_calendar *cal, int64_t *out_ns);

/* Writes t as RFC 3339 in the offset cal gives for it ("2025-01-01T00:00:00+08:00",
 * "Z" for a zero offset; fractional seconds only when not whole). Returns the length, or
 * 0 if size < DCM_TS_RFC3339_MAX. */
#define DCM_TS_RFC3339_MAX 40
size_t dcm_ts_format_rfc3339(int64_t t_ns, const dcm_calendar *cal, char *buf, size_t size);

/* A UTC offset: "+08:00", "-05:30", "Z", "UTC", or a duration with a unit and an optional
 * sign ("8h", "-5h"); a bare number is refused (hours or seconds would be a guess). */
bool dcm_parse_utc_offset(const char *text, int64_t *out_ns);

#endif
