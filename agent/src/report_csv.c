/*
 * report_csv.c - the report as CSV: one row per month and a last row for the period
 * ("total"), with the columns of `dcmetrics compute --format csv` and one more, status:
 * complete, partial or no-data (docs/report.md).
 */
#include "kpi_csv.h"
#include "report.h"

bool dcm_report_write_csv(FILE *f, const dcm_report *r)
{
    const dcm_site_config *site = &r->config->site;
    size_t zones = site->zone_count < DCM_MAX_ZONES ? site->zone_count : DCM_MAX_ZONES;
    dcm_kpi_csv_header(f, site);
    fputs(",status\n", f);
    for (size_t m = 0; m < r->month_count; m++) {
        char name[16];
        dcm_report_month_name(r, r->months[m].w.start_ns, name, sizeof name);
        dcm_kpi_csv_row(f, name, r->calendar, &r->months[m].w, zones);
        fprintf(f, ",%s\n", dcm_report_status_name(r->months[m].status));
    }
    dcm_kpi_csv_row(f, "total", r->calendar, &r->total, zones);
    fprintf(f, ",%s\n", dcm_report_status_name(r->status));
    return !ferror(f);
}
