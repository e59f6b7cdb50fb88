/*
 * compute_int.h - what compute_input.c (reading and checking rows) and compute.c
 * (integration and windows) share. Not a public API.
 */
#ifndef DCM_COMPUTE_INT_H
#define DCM_COMPUTE_INT_H

#include <stdarg.h>

#include "compute.h"
#include "units.h"

typedef struct dcm_cpoint {
    char *name;               /* owned */
    dcm_point_def def;        /* roles and zone from the site model; quantity/kind from the data */
    bool mapped;              /* some role or zone selects it */
    bool rejected;            /* its unit does not suit its roles: every row skipped */
    dcm_unit_info unit;       /* of its first row: fixes the series' nature */
    dcm_kind kind;
    unsigned long first_line;
    uint64_t rows;            /* rows seen */
    uint64_t used;            /* rows kept after the series checks */
    int64_t last_file_ts;     /* timestamp of its previous row in file order */
    uint64_t out_of_order;
    unsigned long first_out_of_order_line;
    bool unit_change_noted;
} dcm_cpoint;

typedef struct dcm_crow {
    int64_t ts_ns;
    int64_t start_ns;         /* 0: none */
    double value;             /* canonical unit */
    uint32_t point;
    bool dropped;
    unsigned long line;
} dcm_crow;

typedef struct dcm_cinput {
    dcm_cpoint *points;
    size_t npoints, cap_points;
    uint32_t *slots;          /* open-addressing hash of point names -> index + 1 */
    size_t nslots;
    dcm_crow *rows;
    size_t nrows, cap_rows;
    /* messages */
    FILE *msg;
    const char *name;
    size_t max_msgs;
    dcm_compute_stats *stats;
} dcm_cinput;

/* Reads and checks every row of req->input into in (rows of mapped points only). */
dcm_compute_err dcm__cinput_read(dcm_cinput *in, const dcm_compute_request *req);
/* Orders each point's series by time and drops duplicates, conflicts and overlaps. */
dcm_compute_err dcm__cinput_clean(dcm_cinput *in);
void dcm__cinput_free(dcm_cinput *in);

/* A per-line message "name:line: ...", shown for the first max_msgs, then counted. */
void dcm__report_line(dcm_cinput *in, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A message about the input as a whole (always shown). */
void dcm__report(dcm_cinput *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
