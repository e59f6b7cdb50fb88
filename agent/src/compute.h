/*
 * compute.h - offline KPIs from a CSV of readings (`dcmetrics compute`).
 *
 * Reads every row, reports and skips the bad ones (with line numbers), groups the rest
 * by point, orders each point's series by time, drops exact duplicates and conflicting
 * readings, integrates each series with the KPI engine, and sums the increments into
 * the whole period and into each calendar month of the site's time zone. The CLI in
 * cmd_compute.c parses arguments and writes the result; docs/compute.md is the user's
 * guide.
 */
#ifndef DCM_COMPUTE_H
#define DCM_COMPUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dcm/config.h"
#include "dcm/metrics.h"
#include "kpi_window.h"

typedef enum dcm_compute_err {
    DCM_COMPUTE_OK = 0,
    DCM_COMPUTE_EIO,     /* the input could not be read */
    DCM_COMPUTE_EHEADER, /* empty input, or a header without the required columns */
    DCM_COMPUTE_ENODATA, /* no usable reading and no period given: nothing to compute */
    DCM_COMPUTE_EPERIOD, /* the period is empty or longer than DCM_COMPUTE_MAX_MONTHS */
    DCM_COMPUTE_ENOMEM,
} dcm_compute_err;

const char *dcm_compute_strerror(dcm_compute_err err);

#define DCM_COMPUTE_MAX_MONTHS 1200

/* Why a row was not used. */
typedef enum dcm_skip_reason {
    DCM_SKIP_CSV = 0,      /* malformed CSV: stray quote, NUL byte, record too long */
    DCM_SKIP_FIELDS,       /* too few fields */
    DCM_SKIP_POINT,        /* empty or unusable point id */
    DCM_SKIP_TIMESTAMP,    /* unreadable, ambiguous (no offset) or out of range */
    DCM_SKIP_START,        /* bad start column */
    DCM_SKIP_VALUE,        /* not a finite number */
    DCM_SKIP_UNIT,         /* unknown unit */
    DCM_SKIP_KIND,         /* not counter, delta or gauge */
    DCM_SKIP_UNIT_KIND,    /* unit does not suit the kind */
    DCM_SKIP_UNIT_CHANGE,  /* unit or kind changed within the point's series */
    DCM_SKIP_ROLE_UNIT,    /* the unit does not suit the point's role (m3 on "it") */
    DCM_SKIP_DUPLICATE,    /* same point, timestamp and value as an earlier row */
    DCM_SKIP_CONFLICT,     /* same point and timestamp, different value */
    DCM_SKIP_OVERLAP,      /* a delta whose start lies before the previous reading */
    DCM_SKIP_COUNT
} dcm_skip_reason;

const char *dcm_skip_reason_name(dcm_skip_reason r);

typedef struct dcm_compute_stats {
    uint64_t rows_read;      /* data records (header and blank lines excluded) */
    uint64_t rows_used;      /* rows fed to the integrator */
    uint64_t rows_skipped;   /* sum of skipped[] */
    uint64_t skipped[DCM_SKIP_COUNT];
    uint64_t unknown_rows;   /* rows of points no role or zone selects */
    size_t unknown_points;
    size_t points;           /* points used */
    uint64_t out_of_order;   /* rows earlier than the point's previous row (sorted, used) */
    uint64_t corrections;    /* integrator corrections in the period (wrap, reset, ...) */
    uint64_t corrections_by[8]; /* per dcm_correction */
    uint64_t gaps;           /* gauge gaps longer than max_gap in the period */
    size_t messages_shown, messages_suppressed;
} dcm_compute_stats;

typedef dcm_kpi_window dcm_compute_window;

typedef struct dcm_compute_request {
    const dcm_site_config *site;
    const dcm_calendar *calendar; /* the site's; must outlive the call */
    FILE *input;                  /* borrowed */
    const char *input_name;       /* for messages: "readings.csv" */
    bool has_from, has_to;
    int64_t from_ns, to_ns;       /* [from, to); default: the data's span in whole days */
    FILE *messages;               /* per-line and per-point messages; NULL = none */
    size_t max_line_messages;     /* per-line messages shown before counting; 0 = 20 */
} dcm_compute_request;

/* A point of site.attribution: its sums over the period (accs[0]) and each month
 * (accs[1 + m]). */
typedef struct dcm_compute_attr {
    char *point;            /* owned */
    dcm_point_acc *accs;    /* owned; 1 + month_count entries */
} dcm_compute_attr;

typedef struct dcm_compute_result {
    dcm_compute_window period;
    dcm_compute_window *months; /* owned; month_count entries */
    size_t month_count;
    dcm_compute_attr *attr;     /* owned; attributed points in input order */
    size_t attr_count, attr_cap;
    bool attr_oom;              /* memory ran out recording them */
    dcm_kpi_params params;
    dcm_compute_stats stats;
} dcm_compute_result;

/* Runs the whole computation. On OK, *out holds the result (free it with
 * dcm_compute_result_free); on error it holds the statistics gathered so far. */
dcm_compute_err dcm_compute_run(const dcm_compute_request *req, dcm_compute_result *out);
void dcm_compute_result_free(dcm_compute_result *r);

/* Attributions of window `index` (0: the period, 1 + m: month m), one per attributed
 * point, point = its index in r->attr. Returns a malloc'd array of r->attr_count entries
 * (NULL when there are none or memory ran out). */
dcm_attribution *dcm_compute_attribution(const dcm_compute_result *r, size_t index);

/* Consecutive windows: window i is [bounds[i], bounds[i + 1]). */
typedef struct dcm_window_list {
    const int64_t *bounds; /* count + 1 instants, increasing; borrowed */
    size_t count;
} dcm_window_list;

/* One used point's sums: accs holds one entry per window of lists[0], then one per
 * window of lists[1], and so on. unit is the canonical unit of the point's readings
 * ("kWh", "m3", "%"). Everything is valid only during the call. */
typedef void (*dcm_compute_point_fn)(void *ctx, const char *point_id, const char *unit,
                                     const dcm_point_def *def, const dcm_point_acc *accs);
/* A correction the integrator made (reset, wrap, ignored reading, gauge gap). */
typedef void (*dcm_compute_correction_fn)(void *ctx, const char *point_id,
                                          const dcm_increment *inc);

typedef struct dcm_compute_sink {
    const dcm_window_list *lists; /* borrowed; lists[0] spans the period of the statistics */
    size_t list_count;            /* at least 1 */
    dcm_compute_point_fn on_point; /* required */
    dcm_compute_correction_fn on_correction; /* may be NULL */
    void *ctx;
} dcm_compute_sink;

/* The machinery of dcm_compute_run with the windows chosen by the caller: reads and
 * checks req's input (req's period members are not used), integrates every point and
 * hands its sums over every window to sink->on_point, one point at a time. Corrections
 * inside lists[0]'s span are counted in *stats and passed to on_correction. *stats is
 * filled as far as the run got, also on error. */
dcm_compute_err dcm_compute_points(const dcm_compute_request *req, const dcm_compute_sink *sink,
                                   dcm_compute_stats *stats);

/* The summary for stderr: rows read, used, skipped per reason, unknown points,
 * corrections. */
void dcm_compute_print_summary(const dcm_compute_stats *s, const char *input_name, FILE *out);

#endif
