/*
 * report_html_int.h - what report_html.c (the page) and report_svg.c (its charts) share.
 * Not a public API.
 */
#ifndef DCM_REPORT_HTML_INT_H
#define DCM_REPORT_HTML_INT_H

#include <stdio.h>

#include "report.h"

/* Writes s with &, <, >, " and ' escaped (NULL writes nothing). */
void dcm__html_text(FILE *f, const char *s);

/* v with `decimals` decimals and thousands separators ("12,346,000"); "n/a" when v is
 * not finite. Returns buf. */
char *dcm__html_num(double v, int decimals, char *buf, size_t size);

#define DCM_HTML_MAX_ROWS 200 /* corrections and gaps listed; the JSON report has them all */

/* The data-quality section (report_html_quality.c). */
void dcm__html_quality(FILE *f, const dcm_report *r);

/* Inline SVG charts (no script, no external reference). */
void dcm__svg_energy(FILE *f, const dcm_report *r);
void dcm__svg_pue(FILE *f, const dcm_report *r);

#endif
