/*
 * snmp_plan.h - what one device reads each poll (scalars and tables merged from its
 * profile and its entry's own points) and the state of its table walks: rows found, the
 * cells of this walk, and the caller's handle for every point. Internal to the
 * collector: snmp_dev.c fills it from replies, snmp_plan.c turns it into values.
 */
#ifndef DCM_SNMP_PLAN_H
#define DCM_SNMP_PLAN_H

#include "snmp_dev.h"

#define DCM_SNMP_INDEX_MAX 12 /* sub-identifiers of a row index (Raritan uses 3) */

typedef struct dcm_snmp_scalar {
    const dcm_snmp_point *p;
    uint32_t slot;
    bool skip; /* v1: the agent said noSuchName for it this poll */
} dcm_snmp_scalar;

typedef struct dcm_snmp_row {
    uint32_t idx[DCM_SNMP_INDEX_MAX];
    uint8_t n;
    bool seen; /* found by this walk */
} dcm_snmp_row;

typedef struct dcm_snmp_walk {
    const dcm_snmp_table *t;
    dcm_snmp_oid *cols;   /* columns walked: value columns, then helper columns */
    size_t ncols;
    int *val;             /* per table column: its walked column */
    int *hel_a, *hel_b;   /* per table column: device-scale columns, -1 if none */
    int *hel_f;           /* per table column: filter column, -1 if none */
    dcm_snmp_oid *cursor; /* per walked column: last OID received */
    bool *done;           /* per walked column */
    dcm_snmp_row *rows;
    size_t nrows, cap;
    dcm_snmp_value *cells; /* nrows x ncols */
    uint8_t *got;          /* nrows x ncols */
    uint32_t *slots;       /* nrows x table columns */
    uint32_t *sum_slots;   /* per table column */
    uint32_t *mean_slots;  /* per table column */
    size_t hint;           /* where the next row is likely to be */
    size_t last_rows;      /* rows found by the previous walk (sizes GETBULK) */
} dcm_snmp_walk;

typedef struct dcm_snmp_plan {
    dcm_snmp_scalar *scalars;
    size_t nscalars;
    dcm_snmp_walk *walks;
    size_t nwalks;
} dcm_snmp_plan;

/* Builds the plan from a profile (may be NULL) and the instance's own points/tables
 * (which replace profile entries of the same name). ENOMEM or OK. */
dcm_snmp_err dcm_snmp_plan_build(dcm_snmp_plan *plan, const dcm_snmp_profile *profile,
                                 const dcm_snmp_instance *inst);
void dcm_snmp_plan_free(dcm_snmp_plan *plan);

/* A walk starts: every column from its start, no row seen. */
void dcm_snmp_walk_reset(dcm_snmp_walk *w);
/* Stores one received cell of walked column c. Returns false when the column has ended
 * (the OID left it, or did not increase); -1 on memory exhaustion is reported as
 * *oom = true. */
bool dcm_snmp_walk_cell(dcm_snmp_walk *w, size_t c, const dcm_snmp_oid *name,
                        const dcm_snmp_value *v, bool *oom);
/* Emits every row value (and sums) of a finished walk through ev. */
void dcm_snmp_walk_emit(dcm_snmp_walk *w, const dcm_snmp_dev_events *ev);
/* Emits one scalar's value. */
void dcm_snmp_scalar_emit(dcm_snmp_scalar *s, const dcm_snmp_value *v,
                          const dcm_snmp_dev_events *ev);

#endif
