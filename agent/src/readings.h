/*
 * readings.h - meter readings as CSV rows, for `dcmetrics compute`:
 *
 *   timestamp,point,value,unit,kind[,start]
 *
 * Columns may come in any order (the header names them; other columns are ignored).
 * This module turns one CSV record into a checked reading, or says precisely what is
 * wrong with it. It keeps no state between rows: the per-point checks (order,
 * duplicates, unit changes) belong to the caller, who sees the whole series.
 */
#ifndef DCM_READINGS_H
#define DCM_READINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "csv.h"
#include "dcm/metrics.h"
#include "units.h"

#define DCM_READING_MAX_POINT 255 /* bytes in a point id */

typedef enum dcm_col {
    DCM_COL_TIMESTAMP = 0,
    DCM_COL_POINT,
    DCM_COL_VALUE,
    DCM_COL_UNIT,
    DCM_COL_KIND,
    DCM_COL_START, /* optional: start of a delta's interval */
    DCM_COL_COUNT
} dcm_col;

/* Where each column is in a record; -1 if absent. */
typedef struct dcm_reading_columns {
    int index[DCM_COL_COUNT];
    size_t min_fields; /* a row needs at least this many fields (start may be cut off) */
} dcm_reading_columns;

/* Reads the header record. Returns false with why filled when a required column is
 * missing or a column is named twice. Names are matched case-insensitively with blanks
 * trimmed. */
bool dcm_reading_header(const dcm_csv_record *hdr, dcm_reading_columns *cols, char *why,
                        size_t why_size);

/* What is wrong with a row; DCM_ROW_OK if nothing. */
typedef enum dcm_row_problem {
    DCM_ROW_OK = 0,
    DCM_ROW_FIELDS,    /* fewer fields than the header has columns */
    DCM_ROW_POINT,     /* empty or overlong point id, or control characters in it */
    DCM_ROW_TIMESTAMP, /* unreadable, ambiguous or out-of-range timestamp */
    DCM_ROW_START,     /* unreadable start, start not before timestamp, start on a non-delta */
    DCM_ROW_VALUE,     /* not a finite decimal number */
    DCM_ROW_UNIT,      /* unknown unit */
    DCM_ROW_KIND,      /* not counter, delta or gauge */
    DCM_ROW_UNIT_KIND, /* the unit does not suit the kind (kWh on a gauge...) */
    DCM_ROW_PROBLEM_COUNT
} dcm_row_problem;

/* Short name of a problem for summaries: "fields", "timestamp", "unit/kind", ... */
const char *dcm_row_problem_name(dcm_row_problem p);

typedef struct dcm_reading {
    const char *point; /* points into the record's fields: valid as long as they are */
    size_t point_len;
    int64_t ts_ns;
    int64_t start_ns;  /* 0 when the row gives no start */
    double value;      /* as written, in unit */
    double canonical;  /* value x unit.factor: kWh, kW, m3, m3/h, % */
    dcm_unit_info unit;
    dcm_kind kind;
} dcm_reading;

/* True when a record is an empty or blank line in disguise (one field of blanks). */
bool dcm_reading_is_blank(const dcm_csv_record *rec);

/* Parses and checks one row. On a problem, why receives one line naming the field and
 * what was expected. */
dcm_row_problem dcm_reading_parse(const dcm_reading_columns *cols, const dcm_csv_record *rec,
                                  dcm_reading *out, char *why, size_t why_size);

#endif
