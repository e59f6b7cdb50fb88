/*
 * report_svg.c - the report's charts as inline SVG: monthly energy (IT and the rest of
 * E_DC, stacked) and monthly PUE against the period's PUE. Plain shapes and text only, so
 * that browsers print them crisply and nothing outside the page is referenced.
 */
#include <math.h>
#include <stdio.h>

#include "report_html_int.h"

#define W 720.0
#define H 240.0
#define LEFT 64.0
#define RIGHT 16.0
#define TOP 28.0
#define BOTTOM 40.0

#define C_IT "#0f5c6e"
#define C_OVER "#8cc3cf"
#define C_AXIS "#55646d"
#define C_GRID "#dde5e8"
#define C_LINE "#c0392b"

/* A round top for an axis from 0 to at least v (v > 0), and the number of ticks that
 * keeps the tick labels round. */
static double nice_top(double v, int *ticks)
{
    static const struct {
        double top;
        int ticks;
    } steps[] = {{1, 5}, {1.2, 4}, {1.5, 3}, {2, 4}, {2.5, 5}, {3, 3},
                 {4, 4}, {5, 5},   {6, 3},   {8, 4}, {10, 5}};
    double p = pow(10, floor(log10(v)));
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (steps[i].top * p >= v * (1 - 1e-12)) {
            *ticks = steps[i].ticks;
            return steps[i].top * p;
        }
    }
    *ticks = 5;
    return 10 * p;
}

static const char *const month_abbr[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* The x-axis label of month k; every `every`-th is shown when they are many. */
static void month_label(const dcm_report *r, size_t k, char *buf, size_t size)
{
    int y, mo, d, h, mi, s;
    dcm_calendar_utc_to_local(r->calendar, r->months[k].w.start_ns, &y, &mo, &d, &h, &mi, &s);
    if (r->month_count <= 12)
        snprintf(buf, size, "%s", month_abbr[mo - 1]);
    else
        snprintf(buf, size, "%s %02d", month_abbr[mo - 1], y % 100);
}

static void begin(FILE *f, const char *label)
{
    fprintf(f, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"", W, H);
    dcm__html_text(f, label);
    fputs("\" preserveAspectRatio=\"xMidYMid meet\">\n", f);
}

static void x_labels(FILE *f, const dcm_report *r, double slot)
{
    size_t every = r->month_count <= 24 ? 1 : (r->month_count + 23) / 24;
    for (size_t k = 0; k < r->month_count; k += every) {
        char name[16];
        month_label(r, k, name, sizeof name);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"%s\" "
                   "text-anchor=\"middle\">%s</text>\n",
                LEFT + slot * ((double)k + 0.5), H - BOTTOM + 14, C_AXIS, name);
    }
}

/* Horizontal grid lines and their labels from lo to hi in `ticks` steps. */
static void y_axis(FILE *f, double lo, double hi, int ticks, int decimals, const char *unit)
{
    double plot_h = H - TOP - BOTTOM;
    for (int i = 0; i <= ticks; i++) {
        double v = lo + (hi - lo) * i / ticks;
        double y = TOP + plot_h * (1 - (double)i / ticks);
        char num[48];
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"1\"/>\n", LEFT, y, W - RIGHT, y, i ? C_GRID : C_AXIS);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"%s\" "
                   "text-anchor=\"end\">%s</text>\n",
                LEFT - 6, y + 3.5, C_AXIS, dcm__html_num(v, decimals, num, sizeof num));
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"%s\">%s</text>\n", 8.0,
            TOP - 12, C_AXIS, unit);
}

static void legend(FILE *f, double x, const char *color, const char *text, bool line)
{
    if (line)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"2\" stroke-dasharray=\"5 3\"/>\n",
                x, TOP - 16, x + 14, TOP - 16, color);
    else
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>\n", x,
                TOP - 21, color);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"%s\">", x + 18, TOP - 12,
            C_AXIS);
    dcm__html_text(f, text);
    fputs("</text>\n", f);
}

static void no_data(FILE *f, double x, double base)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" fill=\"%s\" "
               "text-anchor=\"middle\">n/a</text>\n", x, base - 4, C_AXIS);
}

void dcm__svg_energy(FILE *f, const dcm_report *r)
{
    double max = 0;
    for (size_t k = 0; k < r->month_count; k++) {
        const dcm_kpi_set *kp = &r->months[k].w.kpi;
        const dcm_role_sum *it = &r->months[k].w.totals.role[DCM_ROLE_IT];
        double top = kp->e_dc_kwh.has_value ? kp->e_dc_kwh.value : it->points ? it->amount : 0;
        if (top > max)
            max = top;
    }
    /* MWh reads better than kWh at data-centre scale. */
    double scale = max >= 10000 ? 1000 : 1;
    const char *unit = scale > 1 ? "MWh" : "kWh";
    int ticks = 5;
    double hi = max > 0 ? nice_top(max * 1.04 / scale, &ticks) : 1;
    begin(f, "Monthly energy: IT and the rest of E_DC");
    y_axis(f, 0, hi, ticks, hi / ticks >= 1 ? 0 : 2, unit);
    double plot_h = H - TOP - BOTTOM, base = TOP + plot_h;
    double slot = (W - LEFT - RIGHT) / (double)(r->month_count ? r->month_count : 1);
    double bw = slot * 0.62;
    for (size_t k = 0; k < r->month_count; k++) {
        const dcm_kpi_window *w = &r->months[k].w;
        double x = LEFT + slot * (double)k + (slot - bw) / 2;
        const dcm_role_sum *it = &w->totals.role[DCM_ROLE_IT];
        double e_it = it->points ? it->amount / scale : 0;
        double e_dc = w->kpi.e_dc_kwh.has_value ? w->kpi.e_dc_kwh.value / scale : e_it;
        if (r->months[k].status == DCM_REPORT_NO_DATA) {
            no_data(f, x + bw / 2, base);
            continue;
        }
        double h_it = plot_h * e_it / hi, h_dc = plot_h * (e_dc > e_it ? e_dc : e_it) / hi;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                x, base - h_dc, bw, h_dc - h_it, C_OVER);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                x, base - h_it, bw, h_it, C_IT);
    }
    x_labels(f, r, slot);
    legend(f, W - 330, C_IT, "IT energy (E_IT)", false);
    legend(f, W - 190, C_OVER, "cooling, losses, other", false);
    fputs("</svg>\n", f);
}

void dcm__svg_pue(FILE *f, const dcm_report *r)
{
    double max = r->total.kpi.pue.has_value ? r->total.kpi.pue.value : 1.0;
    for (size_t k = 0; k < r->month_count; k++) {
        const dcm_opt *p = &r->months[k].w.kpi.pue;
        if (p->has_value && p->value > max)
            max = p->value;
    }
    /* Bars start at 1.0, the least a PUE can be; the top is the next 0.1 above. */
    double lo = 1.0, hi = ceil((max + 0.02) * 10) / 10;
    if (hi < 1.2)
        hi = 1.2;
    int ticks = (int)lround((hi - lo) * 10);
    while (ticks > 8)
        ticks = (ticks + 1) / 2;
    if (ticks < 2)
        ticks = 2;
    begin(f, "Monthly PUE and the period's PUE");
    y_axis(f, lo, hi, ticks, 2, "PUE");
    double plot_h = H - TOP - BOTTOM, base = TOP + plot_h;
    double slot = (W - LEFT - RIGHT) / (double)(r->month_count ? r->month_count : 1);
    double bw = slot * 0.62;
    for (size_t k = 0; k < r->month_count; k++) {
        const dcm_opt *p = &r->months[k].w.kpi.pue;
        double x = LEFT + slot * (double)k + (slot - bw) / 2;
        if (!p->has_value) {
            no_data(f, x + bw / 2, base);
            continue;
        }
        double v = p->value < lo ? lo : p->value > hi ? hi : p->value;
        double h = plot_h * (v - lo) / (hi - lo);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                x, base - h, bw, h, p->quality == DCM_QUALITY_OK ? C_IT : C_OVER);
        if (r->month_count <= 12) {
            /* Inside the bar's top when it is tall enough, so the label never sits on the
             * period's line. */
            bool inside = h > 16;
            char num[48];
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" fill=\"%s\" "
                       "text-anchor=\"middle\">%s</text>\n",
                    x + bw / 2, inside ? base - h + 11 : base - h - 3, inside ? "#ffffff" : C_AXIS,
                    dcm__html_num(p->value, 3, num, sizeof num));
        }
    }
    x_labels(f, r, slot);
    if (r->total.kpi.pue.has_value) {
        double v = r->total.kpi.pue.value;
        double y = base - plot_h * ((v < lo ? lo : v > hi ? hi : v) - lo) / (hi - lo);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"2\" stroke-dasharray=\"5 3\"/>\n",
                LEFT, y, W - RIGHT, y, C_LINE);
        char num[48], text[96];
        snprintf(text, sizeof text, "PUE of the period %s (energy-weighted)",
                 dcm__html_num(v, 4, num, sizeof num));
        legend(f, W - 330, C_LINE, text, true);
    }
    fputs("</svg>\n", f);
}
