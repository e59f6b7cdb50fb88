/*
 * report.h - the sustainability report (`dcmetrics report`): a period's KPIs and their
 * monthly breakdown from the agent's ledger (opened read-only: safe while the agent
 * writes) and/or a CSV of readings, with what every figure rests on (meters, coverage,
 * corrections, gaps) and the regulatory checks of the site's regimes.
 *
 * report_model.c builds it; report_json.c, report_csv.c and report_html.c write it;
 * report_annex.c lists the EU 2024/1364 fields. docs/report.md is the user's guide.
 *
 * Ownership: dcm_report_build() fills a dcm_report that owns every array and string in
 * it (dcm_report_free() releases them); the config and calendar of the request are
 * borrowed and must outlive it.
 */
#ifndef DCM_REPORT_H
#define DCM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compute.h"
#include "dcm/config.h"
#include "dcm/metrics.h"
#include "kpi_window.h"
#include "rulesets.h"

typedef enum dcm_report_err {
    DCM_REPORT_OK = 0,
    DCM_REPORT_ENOLEDGER, /* no ledger in the state directory, and no input */
    DCM_REPORT_ELEDGER,   /* the ledger cannot be opened or read */
    DCM_REPORT_EINPUT,    /* the input cannot be read or has no valid header */
    DCM_REPORT_ENODATA,   /* not one reading of any point of the site in the period */
    DCM_REPORT_EPERIOD,   /* the period is empty or longer than DCM_REPORT_MAX_MONTHS */
    DCM_REPORT_ENOMEM,
} dcm_report_err;

const char *dcm_report_strerror(dcm_report_err err);

#define DCM_REPORT_MAX_MONTHS 120     /* ten years */
#define DCM_REPORT_MAX_CORRECTIONS 100000 /* listed; the counts per meter are always whole */
#define DCM_REPORT_MAX_GAPS 20000         /* listed; gaps_total counts them all */

#define DCM_SRC_LEDGER 0x1u
#define DCM_SRC_INPUT 0x2u

typedef struct dcm_report_request {
    const dcm_config *config;     /* borrowed */
    const dcm_calendar *calendar; /* the site's; borrowed */
    int64_t from_ns, to_ns;       /* the period [from, to) */
    const char *period_label;     /* as given ("2026", "2026-Q3"); NULL for --from/--to */
    const char *state_dir;        /* the ledger's directory; NULL: no ledger */
    FILE *input;                  /* readings CSV (the `compute` format), or NULL; borrowed */
    const char *input_name;       /* for messages */
    FILE *messages;               /* notes and input messages; NULL: none */
    int64_t now_ns;               /* when the report is made */
} dcm_report_request;

typedef struct dcm_report_meter_work dcm_report_meter_work;

typedef struct dcm_report_meter {
    char *id;                   /* owned */
    char unit[16];              /* the canonical unit of its amounts: kWh, m3, % (x h) */
    dcm_kind kind;
    dcm_quantity quantity;
    dcm_point_def def;          /* roles and zone from the site model */
    unsigned sources;           /* DCM_SRC_*: which sources hold data of it in the period */
    unsigned used;              /* DCM_SRC_*: whose data the report used */
    dcm_point_acc sum;          /* over the period, as used */
    double coverage;            /* share of the period's time with known amounts */
    uint32_t corrections_by[8]; /* audit-trail entries in the period, per dcm_correction */
    uint32_t overlap_days;      /* days with data in both sources (the ledger's was used) */
    dcm_report_meter_work *work; /* private to report_model.c; NULL once built */
} dcm_report_meter;

typedef struct dcm_report_correction {
    size_t meter;    /* index into meters */
    unsigned source; /* DCM_SRC_LEDGER or DCM_SRC_INPUT */
    dcm_increment inc;
} dcm_report_correction;

/* Consecutive local days on which a meter's data does not cover the whole day. */
typedef struct dcm_report_gap {
    size_t meter;
    int64_t from_ns, to_ns;
    double coverage; /* share of [from, to) covered */
} dcm_report_gap;

/* A retired certificate or PPA of the configuration, and its share in the period. */
typedef struct dcm_report_instrument {
    const dcm_instrument_config *config; /* borrowed */
    bool valid;                          /* its period parses */
    int64_t from_ns, to_ns;
    double kwh_in_period;                /* pro rata by the overlap with the period */
} dcm_report_instrument;

typedef enum dcm_report_status {
    DCM_REPORT_COMPLETE = 0, /* the KPIs' inputs cover the window (quality ok) */
    DCM_REPORT_PARTIAL,      /* some data, not enough: see the reasons */
    DCM_REPORT_NO_DATA,
} dcm_report_status;

const char *dcm_report_status_name(dcm_report_status s); /* "complete", "partial", "no-data" */

typedef struct dcm_report_month {
    dcm_kpi_window w;
    dcm_report_status status;
    bool whole; /* a whole calendar month; false: cut by the period */
} dcm_report_month;

typedef struct dcm_report {
    const dcm_config *config;     /* borrowed from the request */
    const dcm_calendar *calendar; /* borrowed */
    char label[80];               /* "2026", "2026-Q3", "2026-01-01 to 2026-04-15" */
    const char *period_kind;      /* "year", "quarter", "month", "day" or "custom" */
    bool calendar_year;           /* the period is exactly one calendar year */
    int64_t generated_ns;
    dcm_kpi_window total;
    dcm_kpi_params params;
    dcm_report_status status;
    char **reasons;               /* why the report is partial, and caveats; owned */
    size_t reason_count;
    dcm_report_month *months;
    size_t month_count;
    dcm_report_meter *meters;     /* sorted by id */
    size_t meter_count;
    dcm_report_correction *corrections; /* in time order */
    size_t correction_count;
    uint64_t corrections_total;   /* also those beyond DCM_REPORT_MAX_CORRECTIONS */
    dcm_report_gap *gaps;         /* by meter, then time */
    size_t gap_count;
    uint64_t gaps_total;          /* also those beyond DCM_REPORT_MAX_GAPS */
    dcm_report_instrument *instruments; /* one per site.certificates entry */
    size_t instrument_count;
    size_t unmapped_points;       /* ledger points that no role or zone selects */
    size_t rejected_points;       /* ledger points whose quantity does not suit their role */
    char *ledger_path;            /* the ledger read, or NULL */
    bool input_used;
    const char *input_name;       /* borrowed from the request */
    dcm_compute_stats input_stats;
    dcm_check *checks;
    size_t check_count;
    char detail[320];             /* on error: what exactly went wrong */
} dcm_report;

/* Builds the report. On error *out holds only the detail message (and nothing to free
 * beyond what dcm_report_free releases). */
dcm_report_err dcm_report_build(const dcm_report_request *req, dcm_report *out);
void dcm_report_free(dcm_report *r);

/* ------------------------------------------------------------------ writers */

/* Each returns false when writing failed (check ferror/errno) or memory ran out. */
bool dcm_report_write_json(FILE *f, const dcm_report *r);
bool dcm_report_write_csv(FILE *f, const dcm_report *r);
bool dcm_report_write_html(FILE *f, const dcm_report *r);

/* ------------------------------------------------------- EU 2024/1364 fields */

typedef enum dcm_annex_status {
    DCM_ANNEX_MEASURED = 0, /* from the meters */
    DCM_ANNEX_CONFIGURED,   /* from the configuration */
    DCM_ANNEX_MISSING,      /* the data does not support it */
} dcm_annex_status;

const char *dcm_annex_status_name(dcm_annex_status s); /* "measured", "configured", "missing" */

typedef struct dcm_annex_field {
    const char *key;    /* machine name: "e_dc_kwh" */
    const char *field;  /* as the regulation names it */
    const char *unit;   /* "kWh", "m3", "" for text */
    dcm_annex_status status;
    bool has_number;
    double number;
    const char *text;   /* text value (borrowed from the config), or NULL */
    char how[200];      /* where it comes from: roles, keys, or what would be needed */
} dcm_annex_field;

#define DCM_ANNEX_MAX 40

/* Fills out (room for DCM_ANNEX_MAX) with the Annex fields; returns how many. */
size_t dcm_report_annex(const dcm_report *r, dcm_annex_field *out);

/* ---------------------------------------------------------- shared helpers */

/* The site-local calendar month of t as "YYYY-MM". */
void dcm_report_month_name(const dcm_report *r, int64_t t_ns, char *buf, size_t size);
/* t as a site-local "YYYY-MM-DD" (or "YYYY-MM-DD HH:MM" when not at midnight). */
void dcm_report_local_time(const dcm_report *r, int64_t t_ns, char *buf, size_t size);
/* Which sources: "ledger", "input", "ledger+input" or "none". */
const char *dcm_report_sources_name(unsigned sources); /* "ledger", "input", "ledger+input" */

#endif
