/*
 * report_int.h - what the parts of the report model share (report_model.c gathers the
 * data, report_fold.c turns it into KPIs, gaps, status and checks). Not a public API.
 */
#ifndef DCM_REPORT_INT_H
#define DCM_REPORT_INT_H

#include "report.h"

/* Per meter working storage while the report is built. */
typedef struct dcm_report_meter_work {
    dcm_point_acc *ledger_days;  /* one per day; NULL: the ledger has no row of it */
    dcm_point_acc *input_days;   /* NULL: not in the input */
    dcm_point_acc *input_months;
    dcm_point_acc input_period;
    dcm_point_acc *months;       /* merged, one per month */
    double *day_covered;         /* merged covered seconds per day */
    unsigned conflict;           /* sources whose data was refused (other quantity) */
    bool dropped;                /* not selected by the site, or unfit for its roles */
    bool unmapped;               /* no role or zone selects it */
} dcm__report_work;

typedef struct dcm__report_pending {
    char *point;
    dcm_increment inc;
} dcm__report_pending;

typedef struct dcm__report_builder {
    dcm_report *r;
    const dcm_report_request *req;
    const dcm_site_config *site;
    int64_t *days, *months; /* bounds: nday + 1, nmonth + 1 instants */
    size_t nday, nmonth;
    size_t *first_day;      /* month m holds days [first_day[m], first_day[m + 1]) */
    size_t day;             /* the day being read from the ledger */
    uint32_t *slots;        /* open addressing: meter id -> index + 1 */
    size_t nslots;
    size_t cap_meters, cap_corr;
    dcm__report_pending *pending; /* input corrections, resolved after the input */
    size_t npending, cap_pending;
    bool oom;
} dcm__report_builder;

/* The meter index of a point id, or -1. */
long dcm__report_find(const dcm__report_builder *b, const char *id);
/* Sets r->detail. */
void dcm__report_detail(dcm_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Merges the sources, folds the KPIs, finds gaps, decides the status, runs the checks,
 * and leaves the meters sorted with their working storage freed. */
dcm_report_err dcm__report_fold(dcm__report_builder *b);
void dcm__report_free_work(dcm_report_meter *m);

#endif
