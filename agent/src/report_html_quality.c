/*
 * report_html_quality.c - the report page's data-quality section: where the data came
 * from, how much of the period it covers, every meter with its roles and sums, the
 * corrections of the audit trail and the days a meter's data does not cover.
 */
#include <string.h>

#include "report_html_int.h"

static void esc(FILE *f, const char *s) { dcm__html_text(f, s); }

static void num_cell(FILE *f, double v, int decimals)
{
    char num[64];
    fprintf(f, "<td class=\"num\">%s</td>", dcm__html_num(v, decimals, num, sizeof num));
}

static void summary(FILE *f, const dcm_report *r)
{
    char a[64], b[64];
    fputs("<table>\n<tbody>\n<tr><td>Ledger</td><td>", f);
    if (r->ledger_path)
        esc(f, r->ledger_path);
    else
        fputs("not used", f);
    fputs("</td></tr>\n<tr><td>Input</td><td>", f);
    if (r->input_used) {
        const dcm_compute_stats *s = &r->input_stats;
        esc(f, r->input_name ? r->input_name : "input");
        fprintf(f, ": %llu rows read, %llu used, %llu skipped; %zu points used, %zu not "
                   "selected by any role",
                (unsigned long long)s->rows_read, (unsigned long long)s->rows_used,
                (unsigned long long)s->rows_skipped, s->points, s->unknown_points);
    } else {
        fputs("none", f);
    }
    fprintf(f, "</td></tr>\n<tr><td>Coverage of the KPIs' inputs</td><td>%s%% of the period; "
               "%s%% of E_DC estimated</td></tr>\n",
            dcm__html_num(100 * r->total.kpi.coverage, 2, a, sizeof a),
            dcm__html_num(100 * r->total.kpi.estimated_share, 2, b, sizeof b));
    uint64_t by[8] = {0};
    for (size_t i = 0; i < r->meter_count; i++)
        for (int c = 0; c < 8; c++)
            by[c] += r->meters[i].corrections_by[c];
    fputs("<tr><td>Corrections</td><td>", f);
    bool any = false;
    for (int c = DCM_CORR_WRAP; c <= DCM_CORR_ORDER; c++) {
        if (!by[c])
            continue;
        fprintf(f, "%s%llu %s", any ? ", " : "", (unsigned long long)by[c],
                dcm_correction_name((dcm_correction)c));
        any = true;
    }
    fprintf(f, "%s</td></tr>\n<tr><td>Days not fully covered</td><td>%llu run%s over all "
               "meters</td></tr>\n",
            any ? "" : "none", (unsigned long long)r->gaps_total, r->gaps_total == 1 ? "" : "s");
    if (r->unmapped_points || r->rejected_points)
        fprintf(f, "<tr><td>Ledger points left out</td><td>%zu selected by no role or zone, "
                   "%zu unfit for their role</td></tr>\n",
                r->unmapped_points, r->rejected_points);
    fputs("</tbody></table>\n", f);
}

static void roles_text(FILE *f, const dcm_report *r, const dcm_report_meter *m)
{
    bool first = true;
    for (int role = 0; role < DCM_ROLE_COUNT; role++) {
        if (!(m->def.roles & DCM_ROLE_BIT(role)))
            continue;
        fprintf(f, "%s%s", first ? "" : ", ", dcm_role_name((dcm_role)role));
        first = false;
    }
    if (m->def.zone >= 0 && (size_t)m->def.zone < r->config->site.zone_count) {
        fputs(first ? "" : "; ", f);
        esc(f, r->config->site.zones[m->def.zone].name);
        fputs(m->def.zone_part == DCM_ZONE_IT ? " (IT)" : " (overhead)", f);
    }
}

static void meters(FILE *f, const dcm_report *r)
{
    fputs("<h3>Meters</h3>\n<table>\n<thead><tr><th>Point</th><th>Roles, zone</th>"
          "<th>Source</th><th class=\"num\">Amount</th><th>Unit</th>"
          "<th class=\"num\">Coverage %</th><th class=\"num\">Estimated %</th>"
          "<th class=\"num\">Corrections</th></tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < r->meter_count; i++) {
        const dcm_report_meter *m = &r->meters[i];
        bool util = m->quantity == DCM_QTY_UTILISATION;
        fputs("<tr><td>", f);
        esc(f, m->id);
        fputs("</td><td>", f);
        roles_text(f, r, m);
        fputs("</td><td>", f);
        esc(f, dcm_report_sources_name(m->used));
        fputs("</td>", f);
        /* Utilisation is shown as its time-weighted mean, not as %-hours. */
        double hours = m->sum.covered_s / 3600.0;
        num_cell(f, util ? (hours > 0 ? m->sum.amount / hours : 0) : m->sum.amount, util ? 1 : 1);
        fputs("<td class=\"u\">", f);
        esc(f, util ? "% mean" : m->unit);
        fputs("</td>", f);
        num_cell(f, 100 * m->coverage, 1);
        num_cell(f, m->sum.amount != 0 ? 100 * m->sum.estimated / m->sum.amount : 0, 2);
        uint32_t n = 0;
        for (int c = DCM_CORR_WRAP; c <= DCM_CORR_ORDER; c++)
            n += m->corrections_by[c];
        fprintf(f, "<td class=\"num\">%u</td></tr>\n", n);
    }
    fputs("</tbody></table>\n", f);
}

static void corrections(FILE *f, const dcm_report *r)
{
    fputs("<h3>Corrections</h3>\n", f);
    if (r->correction_count == 0) {
        fputs("<p class=\"note\">None: no counter reset, wrap, ignored reading or gauge gap in "
              "the period.</p>\n", f);
        return;
    }
    fputs("<table>\n<thead><tr><th>At</th><th>Point</th><th>Correction</th>"
          "<th class=\"num\">Amount</th><th>Unit</th><th>Source</th></tr></thead>\n<tbody>\n", f);
    size_t shown = r->correction_count < DCM_HTML_MAX_ROWS ? r->correction_count : DCM_HTML_MAX_ROWS;
    for (size_t i = 0; i < shown; i++) {
        const dcm_report_correction *c = &r->corrections[i];
        char at[32];
        dcm_report_local_time(r, c->inc.t1_ns, at, sizeof at);
        fputs("<tr><td>", f);
        esc(f, at);
        fputs("</td><td>", f);
        esc(f, r->meters[c->meter].id);
        fputs("</td><td>", f);
        esc(f, dcm_correction_name((dcm_correction)c->inc.correction));
        fputs("</td>", f);
        num_cell(f, c->inc.amount, 3);
        fputs("<td>", f);
        esc(f, r->meters[c->meter].unit);
        fputs("</td><td>", f);
        esc(f, dcm_report_sources_name(c->source));
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
    if (r->corrections_total > shown)
        fprintf(f, "<p class=\"note\">%llu more in the JSON report.</p>\n",
                (unsigned long long)(r->corrections_total - shown));
}

static void gaps(FILE *f, const dcm_report *r)
{
    fputs("<h3>Days not fully covered</h3>\n", f);
    if (r->gap_count == 0) {
        fputs("<p class=\"note\">None: every meter's data covers every day of the period up to "
              "the report.</p>\n", f);
        return;
    }
    fputs("<table>\n<thead><tr><th>Point</th><th>From</th><th>To (exclusive)</th>"
          "<th class=\"num\">Covered %</th></tr></thead>\n<tbody>\n", f);
    size_t shown = r->gap_count < DCM_HTML_MAX_ROWS ? r->gap_count : DCM_HTML_MAX_ROWS;
    for (size_t i = 0; i < shown; i++) {
        const dcm_report_gap *g = &r->gaps[i];
        char a[32], b[32];
        dcm_report_local_time(r, g->from_ns, a, sizeof a);
        dcm_report_local_time(r, g->to_ns, b, sizeof b);
        fputs("<tr><td>", f);
        esc(f, r->meters[g->meter].id);
        fputs("</td><td>", f);
        esc(f, a);
        fputs("</td><td>", f);
        esc(f, b);
        fputs("</td>", f);
        num_cell(f, 100 * g->coverage, 1);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
    if (r->gaps_total > shown)
        fprintf(f, "<p class=\"note\">%llu more in the JSON report.</p>\n",
                (unsigned long long)(r->gaps_total - shown));
}

void dcm__html_quality(FILE *f, const dcm_report *r)
{
    fputs("<h2 class=\"newpage\">Data quality</h2>\n", f);
    summary(f, r);
    meters(f, r);
    corrections(f, r);
    gaps(f, r);
}
