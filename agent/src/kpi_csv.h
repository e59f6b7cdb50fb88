/*
 * kpi_csv.h - KPI windows as CSV rows: the columns that `dcmetrics compute --format csv`
 * and `dcmetrics report --format csv` share (docs/compute.md lists them). A missing
 * value is an empty field; fields are quoted as RFC 4180 says when needed.
 */
#ifndef DCM_KPI_CSV_H
#define DCM_KPI_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dcm/config.h"
#include "kpi_window.h"

/* One text field, quoted when it holds a comma, a quote or a line break. */
void dcm_kpi_csv_text(FILE *f, const char *s);
/* ",number" in the shortest round-trip form, or "," alone when !has. */
void dcm_kpi_csv_number(FILE *f, bool has, double v);

/* The header line without its line end: the shared columns, then one ppue_<zone> column
 * per zone of the site. Callers may append their own columns, then '\n'. */
void dcm_kpi_csv_header(FILE *f, const dcm_site_config *site);

/* One row without its line end: `period` (e.g. "2026-07" or "total"), the window's
 * bounds in the calendar's offsets, every value of the header's columns. */
void dcm_kpi_csv_row(FILE *f, const char *period, const dcm_calendar *cal,
                     const dcm_kpi_window *w, size_t zones);

#endif
