/*
 * report_html.c - the report as one self-contained, printable HTML page: inline CSS, the
 * charts as inline SVG (report_svg.c), no script and no reference to anything outside
 * the file. Laid out for A4: printing it to PDF (e.g. `chromium --headless
 * --print-to-pdf`) gives the document an ESG team files. All text is escaped.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_html_int.h"
#include "timestamp.h"

void dcm__html_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f); break;
        }
    }
}

char *dcm__html_num(double v, int decimals, char *buf, size_t size)
{
    if (!isfinite(v) || size < 8) {
        snprintf(buf, size, "n/a");
        return buf;
    }
    char raw[64];
    snprintf(raw, sizeof raw, "%.*f", decimals, fabs(v));
    if (strcmp(raw, "0") != 0 && strspn(raw, "0.") == strlen(raw))
        v = 0; /* no "-0.00" */
    const char *dot = strchr(raw, '.');
    size_t int_len = dot ? (size_t)(dot - raw) : strlen(raw);
    size_t o = 0;
    if (v < 0 && o + 1 < size)
        buf[o++] = '-';
    for (size_t i = 0; i < int_len && o + 2 < size; i++) {
        buf[o++] = raw[i];
        size_t left = int_len - i - 1;
        if (left && left % 3 == 0)
            buf[o++] = ',';
    }
    for (const char *p = dot; p && *p && o + 1 < size; p++)
        buf[o++] = *p;
    buf[o] = '\0';
    return buf;
}

/* ------------------------------------------------------------------ pieces */

static void esc(FILE *f, const char *s) { dcm__html_text(f, s); }

static void td_num(FILE *f, bool has, double v, int decimals)
{
    char num[64];
    fprintf(f, "<td class=\"num\">%s</td>", has ? dcm__html_num(v, decimals, num, sizeof num) : "&ndash;");
}

static void td_text(FILE *f, const char *s)
{
    fputs("<td>", f);
    if (s && *s)
        esc(f, s);
    else
        fputs("&ndash;", f);
    fputs("</td>", f);
}

static void badge(FILE *f, const char *cls, const char *text)
{
    fprintf(f, "<span class=\"badge %s\">", cls);
    esc(f, text);
    fputs("</span>", f);
}

static void quality_badge(FILE *f, const dcm_opt *o)
{
    dcm_quality q = o->has_value ? o->quality : DCM_QUALITY_INVALID;
    badge(f, q == DCM_QUALITY_OK ? "pass" : q == DCM_QUALITY_INVALID ? "na" : "nd",
          q == DCM_QUALITY_INVALID ? "no value" : dcm_quality_name(q));
}

static const char *status_class(dcm_report_status s)
{
    return s == DCM_REPORT_COMPLETE ? "pass" : s == DCM_REPORT_PARTIAL ? "nd" : "na";
}

static double role_amount(const dcm_kpi_window *w, dcm_role r)
{
    return w->totals.role[r].amount;
}

static bool role_has(const dcm_kpi_window *w, dcm_role r) { return w->totals.role[r].points > 0; }

static const char *css =
    "@page{size:A4;margin:15mm 14mm 16mm 14mm;"
    "@bottom-right{content:'Page ' counter(page) ' of ' counter(pages);font-size:7.5pt;"
    "color:#6b7b84}}\n"
    "*{box-sizing:border-box}\n"
    "body{font-family:'DejaVu Sans','Liberation Sans',Arial,Helvetica,sans-serif;font-size:9.5pt;"
    "color:#1d2a33;margin:0;line-height:1.38;background:#fff}\n"
    ".page{max-width:190mm;margin:0 auto;padding:10mm 6mm}\n"
    "header{border-bottom:3px solid #0f5c6e;padding-bottom:6pt;margin-bottom:10pt}\n"
    "h1{font-size:19pt;margin:0;color:#0f5c6e;font-weight:700}\n"
    ".sub{font-size:12pt;margin:3pt 0 2pt;font-weight:600}\n"
    ".meta{font-size:8pt;color:#55646d}\n"
    "h2{font-size:12.5pt;color:#0f5c6e;border-bottom:1px solid #c9d6dc;padding-bottom:2pt;"
    "margin:16pt 0 6pt;break-after:avoid}\n"
    "h3{font-size:10.5pt;margin:10pt 0 4pt;color:#1d2a33;break-after:avoid}\n"
    "table{width:100%;border-collapse:collapse;font-size:8.5pt;margin:2pt 0 6pt}\n"
    "th,td{padding:2.5pt 5pt;border-bottom:1px solid #e1e8eb;text-align:left;vertical-align:top}\n"
    "th{background:#eef3f5;font-weight:600;color:#24343d}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "td.u{white-space:nowrap}\n"
    "tr{break-inside:avoid}\n"
    "thead{display:table-header-group}\n"
    "tr.total td{font-weight:700;border-top:1.5px solid #9fb3bb}\n"
    ".tiles{display:flex;gap:6pt;margin:6pt 0 4pt}\n"
    ".tile{flex:1;border:1px solid #c9d6dc;border-radius:4pt;padding:6pt 8pt}\n"
    ".tile .k{font-size:8pt;color:#55646d}\n"
    ".tile .v{font-size:17pt;font-weight:700;color:#0f5c6e;line-height:1.2}\n"
    ".tile .u{font-size:8pt;color:#55646d}\n"
    ".badge{display:inline-block;padding:0.5pt 5pt;border-radius:7pt;font-size:7.5pt;"
    "font-weight:600;white-space:nowrap}\n"
    ".pass{background:#dff3e4;color:#1b6b34}.fail{background:#fbe0e0;color:#a12020}"
    ".na{background:#eceff1;color:#55646d}.nd{background:#fff2cc;color:#7a5a00}"
    ".cls{background:#e0ecf7;color:#174a7c}\n"
    ".banner{border-left:4px solid #e0a800;background:#fff8e1;padding:5pt 8pt;margin:6pt 0}\n"
    ".banner.ok{border-color:#2e8b57;background:#eef8f1}\n"
    ".banner ul{margin:2pt 0 0 14pt;padding:0}\n"
    ".note{font-size:8pt;color:#55646d}\n"
    ".chart{width:100%;height:auto;display:block;margin:2pt 0 8pt}\n"
    ".charts{break-inside:avoid}\n"
    "dl.site{display:grid;grid-template-columns:38% 62%;margin:0;font-size:8.5pt}\n"
    "dl.site dt{color:#55646d;padding:2pt 0;border-bottom:1px solid #eef3f5}\n"
    "dl.site dd{margin:0;padding:2pt 0;border-bottom:1px solid #eef3f5}\n"
    ".newpage{break-before:page}\n"
    "footer{margin-top:14pt;font-size:7.5pt;color:#6b7b84;border-top:1px solid #c9d6dc;"
    "padding-top:4pt}\n"
    "@media print{.page{padding:0;max-width:none}}\n";

/* ---------------------------------------------------------------- sections */

static void header(FILE *f, const dcm_report *r)
{
    const dcm_site_config *s = &r->config->site;
    char a[32], z[32], gen[32];
    dcm_report_local_time(r, r->total.start_ns, a, sizeof a);
    dcm_report_local_time(r, r->total.end_ns, z, sizeof z);
    dcm_report_local_time(r, r->generated_ns, gen, sizeof gen);
    fputs("<header>\n<h1>Energy and sustainability report</h1>\n<div class=\"sub\">", f);
    esc(f, s->name ? s->name : r->config->agent.site);
    fputs(" &middot; ", f);
    esc(f, r->label);
    fputs("</div>\n<div class=\"meta\">Period ", f);
    esc(f, a);
    fputs(" to ", f);
    esc(f, z);
    fputs(" (end exclusive, ", f);
    esc(f, s->timezone);
    fputs(") &middot; generated ", f);
    esc(f, gen);
    fputs(" by dcmetrics " DCM_VERSION " &middot; KPI rules " DCM_METRICS_RULESET
          " &middot; regulatory rules " DCM_RULESETS_VERSION " &middot; status ", f);
    badge(f, status_class(r->status), dcm_report_status_name(r->status));
    fputs("</div>\n</header>\n", f);
    if (r->status != DCM_REPORT_COMPLETE) {
        fputs("<div class=\"banner\"><strong>Partial report.</strong> The figures cover what "
              "the meters recorded; they are not complete for the period:<ul>\n", f);
        for (size_t i = 0; i < r->reason_count; i++) {
            fputs("<li>", f);
            esc(f, r->reasons[i]);
            fputs("</li>\n", f);
        }
        fputs("</ul></div>\n", f);
    }
}

static void tile(FILE *f, const char *key, const dcm_opt *o, int decimals, double mult,
                 const char *unit)
{
    char num[64];
    fputs("<div class=\"tile\"><div class=\"k\">", f);
    esc(f, key);
    fprintf(f, "</div><div class=\"v\">%s</div><div class=\"u\">",
            o->has_value ? dcm__html_num(o->value * mult, decimals, num, sizeof num) : "&ndash;");
    esc(f, unit);
    fputs("</div></div>\n", f);
}

static void tiles(FILE *f, const dcm_report *r)
{
    const dcm_kpi_set *k = &r->total.kpi;
    fputs("<div class=\"tiles\">\n", f);
    tile(f, "Power usage effectiveness", &k->pue, 4, 1, "PUE, energy-weighted");
    tile(f, "Renewable energy factor", &k->ref, 1, 100, "REF, % of E_DC");
    tile(f, "Carbon usage effectiveness", &k->cue_market, 4, 1, "kgCO2e/kWh IT, market-based");
    tile(f, "Water usage effectiveness", &k->wue, 3, 1, "L/kWh IT");
    fputs("</div>\n", f);
}

static void site_section(FILE *f, const dcm_report *r)
{
    const dcm_site_config *s = &r->config->site;
    char num[64];
    fputs("<h2>Site</h2>\n<dl class=\"site\">\n", f);
    const char *rows[][2] = {
        {"Site", s->name ? s->name : r->config->agent.site},
        {"Operator", s->operator_name},
        {"Owner", s->owner},
        {"Location code", s->location_code},
        {"Type", s->site_type},
        {"Category", s->category},
        {"Start of operation", s->start_of_operation},
        {"Electrical redundancy", s->electrical_redundancy},
        {"Cooling redundancy", s->cooling_redundancy},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fputs("<dt>", f);
        esc(f, rows[i][0]);
        fputs("</dt><dd>", f);
        if (rows[i][1])
            esc(f, rows[i][1]);
        else
            fputs("<span class=\"note\">not configured</span>", f);
        fputs("</dd>\n", f);
    }
    const char *nums[][3] = {
        {"Floor area", s->floor_area_m2, "m\xC2\xB2"},
        {"Computer room floor area", s->it_floor_area_m2, "m\xC2\xB2"},
        {"Installed IT power", s->installed_it_kw, "kW"},
        {"IT intake air set point", s->intake_setpoint_degc, "\xC2\xB0" "C"},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        fputs("<dt>", f);
        esc(f, nums[i][0]);
        fputs("</dt><dd>", f);
        char *end = NULL;
        double v = nums[i][1] ? strtod(nums[i][1], &end) : 0;
        if (nums[i][1] && end && !*end)
            fprintf(f, "%s %s", dcm__html_num(v, v == floor(v) ? 0 : 1, num, sizeof num),
                    nums[i][2]);
        else
            fputs("<span class=\"note\">not configured</span>", f);
        fputs("</dd>\n", f);
    }
    fputs("</dl>\n", f);
}

static void kpi_row(FILE *f, const char *name, const dcm_opt *o, int decimals, double mult,
                    const char *unit, const char *how)
{
    fputs("<tr><td>", f);
    esc(f, name);
    fputs("</td>", f);
    td_num(f, o->has_value, o->value * mult, decimals);
    td_text(f, unit);
    fputs("<td>", f);
    quality_badge(f, o);
    fputs("</td><td class=\"note\">", f);
    /* Without a value the inputs' amounts (zeros) would only mislead. */
    esc(f, o->has_value ? how : "not computable: an input has no data, or its denominator is zero");
    fputs("</td></tr>\n", f);
}

static void kpi_table(FILE *f, const dcm_report *r)
{
    const dcm_kpi_set *k = &r->total.kpi;
    const dcm_kpi_window *w = &r->total;
    char a[64], b[64], how[320];
    fputs("<h2>Key performance indicators</h2>\n<table class=\"kpi\">\n<colgroup><col style=\"width:33%\">"
          "<col style=\"width:9%\"><col style=\"width:11%\"><col style=\"width:9%\"><col></colgroup>\n"
          "<thead><tr><th>Indicator"
          "</th><th class=\"num\">Value</th><th>Unit</th><th>Quality</th><th>Computed from</th>"
          "</tr></thead>\n<tbody>\n", f);
    static const char *const cats[] = {"not declared", "1 (basic: UPS output)",
                                       "2 (intermediate: PDU output)",
                                       "3 (advanced: IT equipment input)"};
    int cat = r->config->site.pue_category;
    snprintf(how, sizeof how, "E_DC %s kWh / E_IT %s kWh; category %s; boundary: %s",
             dcm__html_num(k->e_dc_kwh.value, 0, a, sizeof a),
             dcm__html_num(role_amount(w, DCM_ROLE_IT), 0, b, sizeof b),
             cats[cat >= 1 && cat <= 3 ? cat : 0],
             role_has(w, DCM_ROLE_TOTAL) ? "E_DC metered (role total)"
                                         : "grid + on-site renewable + fuel");
    kpi_row(f, "Power usage effectiveness (PUE)", &k->pue, 4, 1, "", how);
    kpi_row(f, "Data centre infrastructure eff. (DCiE)", &k->dcie, 4, 1, "",
            "E_IT / E_DC");
    snprintf(how, sizeof how, "(E_DC - %s kWh of heat-upgrade energy) / E_IT",
             dcm__html_num(role_amount(w, DCM_ROLE_HEAT_UPGRADE), 0, a, sizeof a));
    kpi_row(f, "EnEfG PUE (Germany)", &k->pue_enefg, 4, 1, "", how);
    for (size_t z = 0; z < r->config->site.zone_count && z < DCM_MAX_ZONES; z++) {
        char name[160];
        snprintf(name, sizeof name, "Partial PUE, zone %s", r->config->site.zones[z].name);
        snprintf(how, sizeof how, "(IT %s kWh + overhead %s kWh) / IT of the zone",
                 dcm__html_num(w->totals.zone_it[z].amount, 0, a, sizeof a),
                 dcm__html_num(w->totals.zone_overhead[z].amount, 0, b, sizeof b));
        kpi_row(f, name, &k->ppue[z], 4, 1, "", how);
    }
    snprintf(how, sizeof how, "%s m\xC2\xB3 site water x 1000 / E_IT",
             dcm__html_num(role_amount(w, DCM_ROLE_WATER), 1, a, sizeof a));
    kpi_row(f, "Water usage effectiveness (WUE)", &k->wue, 3, 1, "L/kWh", how);
    snprintf(how, sizeof how, "%s m\xC2\xB3 freshwater x 1000 / E_IT",
             dcm__html_num(role_amount(w, DCM_ROLE_FRESHWATER), 1, a, sizeof a));
    kpi_row(f, "WUE, freshwater", &k->wue_fresh, 3, 1, "L/kWh", how);
    snprintf(how, sizeof how, "carbon usage effectiveness: %s kgCO2e (grid-average factor) / E_IT",
             dcm__html_num(k->co2_location_kg.value, 0, a, sizeof a));
    kpi_row(f, "CUE, location-based", &k->cue_location, 4, 1,
            "kgCO2e/kWh", how);
    snprintf(how, sizeof how, "carbon usage effectiveness: %s kgCO2e (instruments at zero, factor for the rest) / E_IT",
             dcm__html_num(k->co2_market_kg.value, 0, a, sizeof a));
    kpi_row(f, "CUE, market-based", &k->cue_market, 4, 1,
            "kgCO2e/kWh", how);
    snprintf(how, sizeof how, "%s kWh renewable / E_DC",
             dcm__html_num(k->renewable_kwh.value, 0, a, sizeof a));
    kpi_row(f, "Renewable energy factor (REF)", &k->ref, 2, 100, "%", how);
    snprintf(how, sizeof how, "%s kWh reused / E_DC",
             dcm__html_num(role_amount(w, DCM_ROLE_REUSED), 0, a, sizeof a));
    kpi_row(f, "Energy reuse factor (ERF)", &k->erf, 2, 100, "%", how);
    kpi_row(f, "Energy reuse effectiveness (ERE)", &k->ere, 4, 1, "", "(E_DC - reused) / E_IT");
    snprintf(how, sizeof how, "%s kWh heat removed / %s kWh cooling energy",
             dcm__html_num(role_amount(w, DCM_ROLE_COOLING_OUTPUT), 0, a, sizeof a),
             dcm__html_num(role_amount(w, DCM_ROLE_COOLING), 0, b, sizeof b));
    kpi_row(f, "Cooling efficiency ratio (CER)", &k->cer, 2, 1, "", how);
    snprintf(how, sizeof how, "time-weighted mean CPU utilisation of %u servers",
             w->totals.role[DCM_ROLE_SERVERS].points);
    kpi_row(f, "Server utilisation (ITEUsv)", &k->iteu_sv, 1, 1, "%", how);
    snprintf(how, sizeof how, "time-weighted mean of %u accelerators (GPUs); not part of ITEUsv",
             w->totals.role[DCM_ROLE_ACCELERATORS].points);
    kpi_row(f, "Accelerator utilisation", &k->accel_util, 1, 1, "%", how);
    fputs("</tbody></table>\n", f);
}

static void charts(FILE *f, const dcm_report *r)
{
    fputs("<div class=\"charts\">\n<h2>Monthly energy and PUE</h2>\n", f);
    dcm__svg_energy(f, r);
    dcm__svg_pue(f, r);
    fputs("</div>\n", f);
}

static void months_table(FILE *f, const dcm_report *r)
{
    fputs("<h2>Monthly breakdown</h2>\n<table>\n<thead><tr><th>Month</th>"
          "<th class=\"num\">E_DC kWh</th><th class=\"num\">E_IT kWh</th>"
          "<th class=\"num\">PUE</th><th class=\"num\">WUE L/kWh</th><th class=\"num\">REF %</th>"
          "<th class=\"num\">CUE market</th><th class=\"num\">Coverage %</th><th>Status</th>"
          "</tr></thead>\n<tbody>\n", f);
    double pue_sum = 0;
    size_t pue_n = 0;
    for (size_t m = 0; m <= r->month_count; m++) {
        bool total = m == r->month_count;
        const dcm_kpi_window *w = total ? &r->total : &r->months[m].w;
        const dcm_kpi_set *k = &w->kpi;
        char name[32];
        if (total)
            snprintf(name, sizeof name, "Period");
        else
            dcm_report_month_name(r, w->start_ns, name, sizeof name);
        if (!total && !r->months[m].whole)
            strncat(name, " (part)", sizeof name - strlen(name) - 1);
        fprintf(f, "<tr%s><td>", total ? " class=\"total\"" : "");
        esc(f, name);
        fputs("</td>", f);
        bool data = total || r->months[m].status != DCM_REPORT_NO_DATA;
        td_num(f, data && k->e_dc_kwh.has_value, k->e_dc_kwh.value, 0);
        td_num(f, data && role_has(w, DCM_ROLE_IT), role_amount(w, DCM_ROLE_IT), 0);
        td_num(f, k->pue.has_value, k->pue.value, 4);
        td_num(f, k->wue.has_value, k->wue.value, 3);
        td_num(f, k->ref.has_value, 100 * k->ref.value, 1);
        td_num(f, k->cue_market.has_value, k->cue_market.value, 4);
        td_num(f, true, 100 * k->coverage, 1);
        dcm_report_status st = total ? r->status : r->months[m].status;
        fputs("<td>", f);
        badge(f, status_class(st), dcm_report_status_name(st));
        fputs("</td></tr>\n", f);
        if (!total && k->pue.has_value) {
            pue_sum += k->pue.value;
            pue_n++;
        }
    }
    fputs("</tbody></table>\n", f);
    if (pue_n > 1 && r->total.kpi.pue.has_value) {
        char a[64], b[64], c[64], d[64];
        fprintf(f, "<p class=\"note\">The period's PUE is the ratio of the period's sums, "
                   "%s kWh / %s kWh = %s, not the mean of the %zu monthly PUEs (here %s): "
                   "ISO/IEC 30134-2 defines PUE as a ratio of energies over the same period.</p>\n",
                dcm__html_num(r->total.kpi.e_dc_kwh.value, 0, a, sizeof a),
                dcm__html_num(role_amount(&r->total, DCM_ROLE_IT), 0, b, sizeof b),
                dcm__html_num(r->total.kpi.pue.value, 4, c, sizeof c), pue_n,
                dcm__html_num(pue_sum / (double)pue_n, 4, d, sizeof d));
    }
}

static void role_row(FILE *f, const dcm_report *r, dcm_role role, const char *name,
                     const char *unit, int decimals)
{
    const dcm_role_sum *rs = &r->total.totals.role[role];
    if (rs->points == 0 && r->config->site.roles[role].count == 0)
        return;
    fputs("<tr><td>", f);
    esc(f, name);
    fprintf(f, " <span class=\"note\">(%s)</span></td>", dcm_role_name(role));
    td_num(f, rs->points > 0, rs->amount, decimals);
    td_text(f, unit);
    fprintf(f, "<td class=\"num\">%u</td>", rs->points);
    td_num(f, rs->points > 0, 100 * dcm_role_coverage(rs), 1);
    td_num(f, rs->points > 0 && rs->amount > 0, rs->amount > 0 ? 100 * rs->estimated / rs->amount : 0, 2);
    fputs("</tr>\n", f);
}

static void totals_table(FILE *f, const dcm_report *r)
{
    const dcm_kpi_set *k = &r->total.kpi;
    fputs("<h2>Energy and water</h2>\n<table>\n<thead><tr><th>Quantity</th>"
          "<th class=\"num\">Amount</th><th>Unit</th><th class=\"num\">Meters</th>"
          "<th class=\"num\">Coverage %</th><th class=\"num\">Estimated %</th></tr></thead>\n"
          "<tbody>\n", f);
    fputs("<tr class=\"total\"><td>Total energy E_DC</td>", f);
    td_num(f, k->e_dc_kwh.has_value, k->e_dc_kwh.value, 0);
    fputs("<td>kWh</td><td></td><td></td>", f);
    td_num(f, true, 100 * k->estimated_share, 2);
    fputs("</tr>\n", f);
    role_row(f, r, DCM_ROLE_TOTAL, "Metered at the boundary", "kWh", 0);
    role_row(f, r, DCM_ROLE_GRID, "Grid import", "kWh", 0);
    role_row(f, r, DCM_ROLE_IT, "IT energy E_IT", "kWh", 0);
    role_row(f, r, DCM_ROLE_COOLING, "Cooling", "kWh", 0);
    role_row(f, r, DCM_ROLE_FUEL, "Fuel and generators", "kWh", 0);
    role_row(f, r, DCM_ROLE_ONSITE_RENEWABLE, "On-site renewable", "kWh", 0);
    role_row(f, r, DCM_ROLE_REUSED, "Heat reused", "kWh", 0);
    role_row(f, r, DCM_ROLE_HEAT_UPGRADE, "Heat upgrade (heat pumps)", "kWh", 0);
    role_row(f, r, DCM_ROLE_COOLING_OUTPUT, "Heat removed", "kWh thermal", 0);
    role_row(f, r, DCM_ROLE_WATER, "Water input", "m\xC2\xB3", 1);
    role_row(f, r, DCM_ROLE_FRESHWATER, "Freshwater input", "m\xC2\xB3", 1);
    fputs("</tbody></table>\n", f);
}

static void carbon_row(FILE *f, const char *method, bool has, double factor, const char *source,
                       int year, const dcm_opt *co2, const dcm_opt *cue)
{
    fputs("<tr><td>", f);
    esc(f, method);
    fputs("</td>", f);
    td_num(f, has, factor, 3);
    td_text(f, source);
    if (year)
        fprintf(f, "<td class=\"num\">%d</td>", year);
    else
        fputs("<td class=\"num\">&ndash;</td>", f);
    td_num(f, co2->has_value, co2->value, 0);
    td_num(f, cue->has_value, cue->value, 4);
    fputs("</tr>\n", f);
}

static void carbon_table(FILE *f, const dcm_report *r)
{
    const dcm_site_config *s = &r->config->site;
    const dcm_kpi_set *k = &r->total.kpi;
    fputs("<h2>Carbon (GHG Protocol Scope 2)</h2>\n<table>\n<thead><tr><th>Method</th>"
          "<th class=\"num\">Factor kgCO2e/kWh</th><th>Source</th><th class=\"num\">Year</th>"
          "<th class=\"num\">Emissions kgCO2e</th><th class=\"num\">CUE</th></tr></thead>\n"
          "<tbody>\n", f);
    carbon_row(f, "Location-based (grid average)", s->has_location_factor, s->location_factor,
               s->location_source, s->location_year, &k->co2_location_kg, &k->cue_location);
    carbon_row(f, "Market-based (instruments at zero)", s->has_market_factor, s->market_factor,
               s->market_source, s->market_year, &k->co2_market_kg, &k->cue_market);
    fputs("</tbody></table>\n", f);
    char num[64];
    fprintf(f, "<p class=\"note\">Fuel burnt on site counts at %s kgCO2e/kWh under both "
               "methods.</p>\n", dcm__html_num(s->fuel_factor, 3, num, sizeof num));
}

static void renewable_table(FILE *f, const dcm_report *r)
{
    const dcm_totals *t = &r->total.totals;
    const dcm_kpi_set *k = &r->total.kpi;
    fputs("<h2>Renewable energy</h2>\n<table>\n<thead><tr><th>Part</th>"
          "<th class=\"num\">kWh</th><th>Basis</th></tr></thead>\n<tbody>\n", f);
    fputs("<tr><td>On-site generation</td>", f);
    td_num(f, role_has(&r->total, DCM_ROLE_ONSITE_RENEWABLE),
           role_amount(&r->total, DCM_ROLE_ONSITE_RENEWABLE), 0);
    td_text(f, r->params.onsite_attributes_retained
                   ? "metered; attributes retained, so it counts"
                   : "metered; attributes sold, so it does not count");
    fputs("</tr>\n<tr><td>Certificates (GO, REC)</td>", f);
    td_num(f, true, t->instruments.certificates_kwh, 0);
    td_text(f, "retired, pro rata to the period");
    fputs("</tr>\n<tr><td>Power purchase agreements</td>", f);
    td_num(f, true, t->instruments.ppa_kwh, 0);
    td_text(f, "contracted, pro rata to the period");
    fputs("</tr>\n<tr class=\"total\"><td>Renewable energy counted</td>", f);
    td_num(f, k->renewable_kwh.has_value, k->renewable_kwh.value, 0);
    char num[64], how[96];
    snprintf(how, sizeof how, "at most E_DC; REF %s%%",
             k->ref.has_value ? dcm__html_num(100 * k->ref.value, 2, num, sizeof num) : "n/a");
    td_text(f, how);
    fputs("</tr>\n</tbody></table>\n", f);
    if (r->instrument_count == 0)
        return;
    fputs("<h3>Instruments</h3>\n<table>\n<thead><tr><th>Period</th><th>Type</th>"
          "<th class=\"num\">kWh</th><th class=\"num\">kWh in this period</th><th>Reference</th>"
          "</tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < r->instrument_count; i++) {
        const dcm_report_instrument *ri = &r->instruments[i];
        fputs("<tr>", f);
        td_text(f, ri->config->period);
        td_text(f, ri->config->is_ppa ? "PPA" : "certificate");
        td_num(f, true, ri->config->kwh, 0);
        td_num(f, true, ri->kwh_in_period, 0);
        td_text(f, ri->config->source);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

static void checks_table(FILE *f, const dcm_report *r)
{
    fputs("<h2>Regulatory checks</h2>\n", f);
    if (r->check_count == 0) {
        fputs("<p class=\"note\">No regime is selected: list them in site.regimes "
              "(eu, enefg, taiwan).</p>\n", f);
        return;
    }
    fputs("<table>\n<thead><tr><th>Rule</th><th class=\"num\">Value</th>"
          "<th class=\"num\">Limit</th><th>Result</th><th class=\"num\">Margin</th>"
          "<th>Notes</th></tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < r->check_count; i++) {
        const dcm_check *c = &r->checks[i];
        bool pct = c->metric == DCM_RULE_ERF || c->metric == DCM_RULE_REF;
        double mult = pct ? 100 : 1;
        int dec = pct ? 1 : c->metric == DCM_RULE_WUE_FRESH ? 3 : 4;
        fputs("<tr><td><strong>", f);
        esc(f, c->regime);
        fputs("</strong> ", f);
        esc(f, c->description);
        fputs("<br><span class=\"note\">", f);
        esc(f, c->id);
        fputs(" &middot; ", f);
        esc(f, c->source);
        fputs("</span></td>", f);
        td_num(f, c->has_value, c->value * mult, dec);
        if (c->has_limit) {
            char num[64];
            fprintf(f, "<td class=\"num\">%s %s%s</td>", c->cmp == DCM_RULE_AT_MOST ? "&le;" : "&ge;",
                    dcm__html_num(c->limit * mult, pct ? 0 : 2, num, sizeof num), pct ? "%" : "");
        } else {
            fputs("<td class=\"num\">class</td>", f);
        }
        fputs("<td>", f);
        const char *cls = c->status == DCM_CHECK_PASS             ? "pass"
                          : c->status == DCM_CHECK_FAIL           ? "fail"
                          : c->status == DCM_CHECK_CLASSIFIED     ? "cls"
                          : c->status == DCM_CHECK_NOT_APPLICABLE ? "na"
                                                                  : "nd";
        char label[48];
        if (c->status == DCM_CHECK_CLASSIFIED)
            snprintf(label, sizeof label, "class %s", c->class_label ? c->class_label : "?");
        else
            snprintf(label, sizeof label, "%s", dcm_check_status_name(c->status));
        badge(f, cls, label);
        fputs("</td>", f);
        td_num(f, c->has_margin, c->margin * mult, dec);
        fputs("<td class=\"note\">", f);
        esc(f, c->note);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

static void annex_table(FILE *f, const dcm_report *r)
{
    dcm_annex_field a[DCM_ANNEX_MAX];
    size_t n = dcm_report_annex(r, a);
    fputs("<h2 class=\"newpage\">EU 2024/1364 reporting fields</h2>\n<p class=\"note\">The "
          "fields of Annex I and II of Delegated Regulation (EU) 2024/1364 that this data "
          "supports: measured from the meters, taken from the configuration, or missing.</p>\n"
          "<table>\n<thead><tr><th>Field</th><th class=\"num\">Value</th><th>Unit</th>"
          "<th>Status</th><th>Source</th></tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < n; i++) {
        fputs("<tr><td>", f);
        esc(f, a[i].field);
        fputs("</td>", f);
        if (a[i].has_number) {
            bool ratio = strcmp(a[i].key, "pue") == 0 || strcmp(a[i].key, "erf") == 0 ||
                         strcmp(a[i].key, "ref") == 0;
            td_num(f, true, a[i].number, ratio ? 4 : a[i].key[0] == 'w' ? 3 : 0);
        } else {
            fputs("<td class=\"num\">", f);
            if (a[i].text)
                esc(f, a[i].text);
            else
                fputs("&ndash;", f);
            fputs("</td>", f);
        }
        td_text(f, a[i].unit);
        fputs("<td>", f);
        badge(f, a[i].status == DCM_ANNEX_MEASURED     ? "pass"
                 : a[i].status == DCM_ANNEX_CONFIGURED ? "cls"
                                                       : "na",
              dcm_annex_status_name(a[i].status));
        fputs("</td><td class=\"note\">", f);
        esc(f, a[i].how);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

bool dcm_report_write_html(FILE *f, const dcm_report *r)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", f);
    esc(f, r->config->site.name ? r->config->site.name : r->config->agent.site);
    fputs(" - energy and sustainability report ", f);
    esc(f, r->label);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<div class=\"page\">\n", css);
    header(f, r);
    tiles(f, r);
    site_section(f, r);
    kpi_table(f, r);
    charts(f, r);
    months_table(f, r);
    totals_table(f, r);
    carbon_table(f, r);
    renewable_table(f, r);
    checks_table(f, r);
    annex_table(f, r);
    dcm__html_quality(f, r);
    fputs("<footer>Every figure is a ratio of energies summed over the same period (never an "
          "average of ratios). Energies come from counter registers where the meters have "
          "them; power is integrated by the trapezoid rule only up to the site's maximum gap. "
          "The JSON form of this report (--format json) lists every meter, correction and gap "
          "behind these numbers.</footer>\n</div>\n</body>\n</html>\n", f);
    return !ferror(f);
}
