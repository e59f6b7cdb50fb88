/*
 * report_json.c - the report as JSON: the `compute` record (docs/compute.md) for the
 * period with its months, plus the report's own sections (docs/report.md lists them).
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "kpi_json.h"
#include "report.h"
#include "timestamp.h"

static void when(dcm_json *j, const char *key, const dcm_report *r, int64_t t)
{
    char buf[DCM_TS_RFC3339_MAX];
    dcm_ts_format_rfc3339(t, r->calendar, buf, sizeof buf);
    dcm_json_key(j, key);
    dcm_json_string(j, buf);
}

static void text(dcm_json *j, const char *key, const char *s)
{
    dcm_json_key(j, key);
    dcm_json_string(j, s); /* NULL writes null */
}

static void number(dcm_json *j, const char *key, double v)
{
    dcm_json_key(j, key);
    dcm_json_number(j, v);
}

static void opt(dcm_json *j, const char *key, const dcm_opt *o)
{
    dcm_json_key(j, key);
    if (o->has_value)
        dcm_json_number(j, o->value);
    else
        dcm_json_null(j);
}

/* A number the configuration holds as text, written as a number (null when absent). */
static void config_number(dcm_json *j, const char *key, const char *s)
{
    dcm_json_key(j, key);
    char *end = NULL;
    double v = s ? strtod(s, &end) : 0;
    if (s && end && !*end)
        dcm_json_number(j, v);
    else
        dcm_json_null(j);
}

static dcm_kpi_json_in record_in(const dcm_report *r, const dcm_kpi_window *w,
                                 const char *const *zones)
{
    return (dcm_kpi_json_in){
        .start_ns = w->start_ns,
        .end_ns = w->end_ns,
        .calendar = r->calendar,
        .totals = &w->totals,
        .kpi = &w->kpi,
        .pue_category = r->config->site.pue_category,
        .zone_names = zones,
        .zone_count = r->config->site.zone_count,
    };
}

static uint64_t corrections_without_gaps(const dcm_report *r)
{
    uint64_t n = 0;
    for (size_t i = 0; i < r->meter_count; i++)
        for (int c = DCM_CORR_WRAP; c <= DCM_CORR_ORDER; c++)
            if (c != DCM_CORR_GAP)
                n += r->meters[i].corrections_by[c];
    return n;
}

/* ---------------------------------------------------------------- sections */

static void report_section(dcm_json *j, const dcm_report *r)
{
    dcm_json_key(j, "report");
    dcm_json_begin_object(j);
    dcm_json_key(j, "period");
    dcm_json_begin_object(j);
    text(j, "label", r->label);
    text(j, "kind", r->period_kind);
    dcm_json_key(j, "calendar_year");
    dcm_json_bool(j, r->calendar_year);
    dcm_json_end_object(j);
    text(j, "status", dcm_report_status_name(r->status));
    dcm_json_key(j, "reasons");
    dcm_json_begin_array(j);
    for (size_t i = 0; i < r->reason_count; i++)
        dcm_json_string(j, r->reasons[i]);
    dcm_json_end_array(j);
    when(j, "generated", r, r->generated_ns);
    text(j, "generator", "dcmetrics " DCM_VERSION);
    text(j, "rules_version", DCM_RULESETS_VERSION);
    dcm_json_key(j, "sources");
    dcm_json_begin_object(j);
    text(j, "ledger", r->ledger_path);
    text(j, "input", r->input_used ? (r->input_name ? r->input_name : "input") : NULL);
    dcm_json_end_object(j);
    dcm_json_end_object(j);
}

static void site_section(dcm_json *j, const dcm_report *r)
{
    const dcm_site_config *s = &r->config->site;
    dcm_json_key(j, "site_info");
    dcm_json_begin_object(j);
    text(j, "id", r->config->agent.site);
    text(j, "name", s->name);
    text(j, "operator", s->operator_name);
    text(j, "owner", s->owner);
    text(j, "contact", s->contact);
    text(j, "location_code", s->location_code);
    text(j, "type", s->site_type);
    text(j, "category", s->category);
    text(j, "start_of_operation", s->start_of_operation);
    text(j, "electrical_redundancy", s->electrical_redundancy);
    text(j, "cooling_redundancy", s->cooling_redundancy);
    config_number(j, "floor_area_m2", s->floor_area_m2);
    config_number(j, "it_floor_area_m2", s->it_floor_area_m2);
    config_number(j, "installed_it_kw", s->installed_it_kw);
    config_number(j, "intake_setpoint_degc", s->intake_setpoint_degc);
    text(j, "timezone", s->timezone);
    dcm_json_key(j, "regimes");
    dcm_json_begin_array(j);
    for (size_t i = 0; i < s->regime_count; i++)
        dcm_json_string(j, s->regimes[i]);
    dcm_json_end_array(j);
    dcm_json_end_object(j);
}

static void factor(dcm_json *j, const char *key, bool has, double value, const char *source,
                   int year, const char *method, const dcm_opt *co2, const dcm_opt *cue)
{
    dcm_json_key(j, key);
    dcm_json_begin_object(j);
    dcm_json_key(j, "factor_kg_per_kwh");
    if (has)
        dcm_json_number(j, value);
    else
        dcm_json_null(j);
    text(j, "source", source);
    dcm_json_key(j, "year");
    if (year)
        dcm_json_int(j, year);
    else
        dcm_json_null(j);
    text(j, "method", method);
    opt(j, "co2_kg", co2);
    opt(j, "cue", cue);
    dcm_json_end_object(j);
}

static void method_sections(dcm_json *j, const dcm_report *r)
{
    const dcm_site_config *s = &r->config->site;
    const dcm_kpi_set *k = &r->total.kpi;
    const dcm_totals *t = &r->total.totals;
    dcm_json_key(j, "pue_boundary");
    dcm_json_string(j, t->role[DCM_ROLE_TOTAL].points > 0
                           ? "E_DC metered at the boundary (role total)"
                           : "E_DC = grid + on-site renewable + fuel (roles grid, onsite_renewable, fuel)");
    dcm_json_key(j, "carbon");
    dcm_json_begin_object(j);
    factor(j, "location", s->has_location_factor, s->location_factor, s->location_source,
           s->location_year, "location-based: grid-average factor; certificates do not reduce it",
           &k->co2_location_kg, &k->cue_location);
    factor(j, "market", s->has_market_factor, s->market_factor, s->market_source, s->market_year,
           "market-based: certificates and PPAs at zero, this factor for the rest",
           &k->co2_market_kg, &k->cue_market);
    number(j, "fuel_factor_kg_per_kwh", s->fuel_factor);
    dcm_json_end_object(j);

    dcm_json_key(j, "renewable");
    dcm_json_begin_object(j);
    opt(j, "total_kwh", &k->renewable_kwh);
    dcm_json_key(j, "onsite_kwh");
    if (t->role[DCM_ROLE_ONSITE_RENEWABLE].points)
        dcm_json_number(j, t->role[DCM_ROLE_ONSITE_RENEWABLE].amount);
    else
        dcm_json_null(j);
    dcm_json_key(j, "onsite_counted");
    dcm_json_bool(j, r->params.onsite_attributes_retained);
    number(j, "certificates_kwh", t->instruments.certificates_kwh);
    number(j, "ppa_kwh", t->instruments.ppa_kwh);
    opt(j, "ref", &k->ref);
    dcm_json_key(j, "instruments");
    dcm_json_begin_array(j);
    for (size_t i = 0; i < r->instrument_count; i++) {
        const dcm_report_instrument *ri = &r->instruments[i];
        dcm_json_begin_object(j);
        text(j, "period", ri->config->period);
        text(j, "type", ri->config->is_ppa ? "ppa" : "certificate");
        number(j, "kwh", ri->config->kwh);
        number(j, "kwh_in_period", ri->kwh_in_period);
        text(j, "source", ri->config->source);
        dcm_json_end_object(j);
    }
    dcm_json_end_array(j);
    dcm_json_end_object(j);

    dcm_json_key(j, "it_load");
    dcm_json_begin_object(j);
    double hours = (double)(r->total.end_ns - r->total.start_ns) / 3.6e12;
    const dcm_role_sum *it = &t->role[DCM_ROLE_IT];
    double covered_h = it->points ? it->covered_s / 3600.0 / it->points : 0;
    dcm_json_key(j, "mean_it_kw");
    if (it->points && covered_h > 0 && hours > 0)
        dcm_json_number(j, it->amount / covered_h);
    else
        dcm_json_null(j);
    config_number(j, "installed_it_kw", s->installed_it_kw);
    opt(j, "iteu_sv", &k->iteu_sv);
    opt(j, "accel_util", &k->accel_util);
    dcm_json_end_object(j);
}

static void annex_section(dcm_json *j, const dcm_report *r)
{
    dcm_annex_field f[DCM_ANNEX_MAX];
    size_t n = dcm_report_annex(r, f);
    dcm_json_key(j, "annex");
    dcm_json_begin_array(j);
    for (size_t i = 0; i < n; i++) {
        dcm_json_begin_object(j);
        text(j, "key", f[i].key);
        text(j, "field", f[i].field);
        dcm_json_key(j, "value");
        if (f[i].has_number)
            dcm_json_number(j, f[i].number);
        else
            dcm_json_string(j, f[i].text);
        text(j, "unit", f[i].unit);
        text(j, "status", dcm_annex_status_name(f[i].status));
        text(j, "how", f[i].how);
        dcm_json_end_object(j);
    }
    dcm_json_end_array(j);
}

static void checks_section(dcm_json *j, const dcm_report *r)
{
    dcm_json_key(j, "checks");
    dcm_json_begin_array(j);
    for (size_t i = 0; i < r->check_count; i++) {
        const dcm_check *c = &r->checks[i];
        dcm_json_begin_object(j);
        text(j, "regime", c->regime);
        text(j, "id", c->id);
        text(j, "description", c->description);
        text(j, "metric", dcm_rule_metric_name(c->metric));
        text(j, "comparator", c->cmp == DCM_RULE_AT_MOST ? "<=" : c->cmp == DCM_RULE_AT_LEAST ? ">=" : "class");
        dcm_json_key(j, "limit");
        if (c->has_limit)
            dcm_json_number(j, c->limit);
        else
            dcm_json_null(j);
        dcm_json_key(j, "value");
        if (c->has_value)
            dcm_json_number(j, c->value);
        else
            dcm_json_null(j);
        dcm_json_key(j, "margin");
        if (c->has_margin)
            dcm_json_number(j, c->margin);
        else
            dcm_json_null(j);
        text(j, "status", dcm_check_status_name(c->status));
        text(j, "class", c->class_label);
        if (c->has_in_force_from)
            when(j, "binds_from", r, c->in_force_from_ns);
        else
            text(j, "binds_from", NULL);
        text(j, "source", c->source);
        text(j, "note", c->note[0] ? c->note : NULL);
        dcm_json_end_object(j);
    }
    dcm_json_end_array(j);
}

static void meter_roles(dcm_json *j, const dcm_report *r, const dcm_report_meter *m)
{
    dcm_json_key(j, "roles");
    dcm_json_begin_array(j);
    for (int role = 0; role < DCM_ROLE_COUNT; role++)
        if (m->def.roles & DCM_ROLE_BIT(role))
            dcm_json_string(j, dcm_role_name((dcm_role)role));
    dcm_json_end_array(j);
    dcm_json_key(j, "zone");
    if (m->def.zone >= 0 && (size_t)m->def.zone < r->config->site.zone_count) {
        dcm_json_begin_object(j);
        text(j, "name", r->config->site.zones[m->def.zone].name);
        text(j, "part", m->def.zone_part == DCM_ZONE_IT ? "it" : "overhead");
        dcm_json_end_object(j);
    } else {
        dcm_json_null(j);
    }
}

static void meters(dcm_json *j, const dcm_report *r)
{
    dcm_json_key(j, "meters");
    dcm_json_begin_array(j);
    for (size_t i = 0; i < r->meter_count; i++) {
        const dcm_report_meter *m = &r->meters[i];
        dcm_json_begin_object(j);
        text(j, "id", m->id);
        text(j, "unit", m->unit);
        text(j, "kind", dcm_kind_name(m->kind));
        meter_roles(j, r, m);
        text(j, "source", dcm_report_sources_name(m->used));
        number(j, "amount", m->sum.amount);
        dcm_json_key(j, "mean_percent");
        if (m->quantity == DCM_QTY_UTILISATION && m->sum.covered_s > 0)
            dcm_json_number(j, m->sum.amount / (m->sum.covered_s / 3600.0));
        else
            dcm_json_null(j);
        number(j, "estimated", m->sum.estimated);
        number(j, "coverage", m->coverage);
        dcm_json_key(j, "samples");
        dcm_json_uint(j, m->sum.samples);
        dcm_json_key(j, "corrections");
        dcm_json_begin_object(j);
        for (int c = DCM_CORR_WRAP; c <= DCM_CORR_ORDER; c++) {
            if (!m->corrections_by[c])
                continue;
            dcm_json_key(j, dcm_correction_name((dcm_correction)c));
            dcm_json_uint(j, m->corrections_by[c]);
        }
        dcm_json_end_object(j);
        dcm_json_key(j, "overlap_days");
        dcm_json_uint(j, m->overlap_days);
        dcm_json_end_object(j);
    }
    dcm_json_end_array(j);
}

static void audit(dcm_json *j, const dcm_report *r)
{
    dcm_json_key(j, "corrections");
    dcm_json_begin_array(j);
    for (size_t i = 0; i < r->correction_count; i++) {
        const dcm_report_correction *c = &r->corrections[i];
        dcm_json_begin_object(j);
        text(j, "point", r->meters[c->meter].id);
        text(j, "kind", dcm_correction_name((dcm_correction)c->inc.correction));
        when(j, "from", r, c->inc.t0_ns);
        when(j, "at", r, c->inc.t1_ns);
        number(j, "amount", c->inc.amount);
        text(j, "unit", r->meters[c->meter].unit);
        text(j, "source", dcm_report_sources_name(c->source));
        dcm_json_key(j, "estimated");
        dcm_json_bool(j, (c->inc.flags & DCM_INC_ESTIMATED) != 0);
        dcm_json_end_object(j);
    }
    dcm_json_end_array(j);
    dcm_json_key(j, "corrections_total");
    dcm_json_uint(j, r->corrections_total);
    dcm_json_key(j, "gaps");
    dcm_json_begin_array(j);
    for (size_t i = 0; i < r->gap_count; i++) {
        const dcm_report_gap *g = &r->gaps[i];
        dcm_json_begin_object(j);
        text(j, "point", r->meters[g->meter].id);
        when(j, "from", r, g->from_ns);
        when(j, "to", r, g->to_ns);
        number(j, "coverage", g->coverage);
        dcm_json_end_object(j);
    }
    dcm_json_end_array(j);
    dcm_json_key(j, "gaps_total");
    dcm_json_uint(j, r->gaps_total);
}

static void quality_section(dcm_json *j, const dcm_report *r)
{
    dcm_json_key(j, "data_quality");
    dcm_json_begin_object(j);
    number(j, "coverage", r->total.kpi.coverage);
    number(j, "estimated_share", r->total.kpi.estimated_share);
    meters(j, r);
    audit(j, r);
    dcm_json_key(j, "unmapped_ledger_points");
    dcm_json_uint(j, r->unmapped_points);
    dcm_json_key(j, "rejected_ledger_points");
    dcm_json_uint(j, r->rejected_points);
    dcm_json_key(j, "input");
    if (r->input_used) {
        const dcm_compute_stats *s = &r->input_stats;
        dcm_json_begin_object(j);
        dcm_json_key(j, "rows_read");
        dcm_json_uint(j, s->rows_read);
        dcm_json_key(j, "rows_used");
        dcm_json_uint(j, s->rows_used);
        dcm_json_key(j, "rows_skipped");
        dcm_json_uint(j, s->rows_skipped);
        dcm_json_key(j, "points");
        dcm_json_uint(j, s->points);
        dcm_json_key(j, "unknown_points");
        dcm_json_uint(j, s->unknown_points);
        dcm_json_end_object(j);
    } else {
        dcm_json_null(j);
    }
    dcm_json_end_object(j);
}

/* --------------------------------------------------------------------- all */

static void write_all(dcm_json *j, const dcm_report *r, const char *const *zones)
{
    dcm_kpi_json_in in = record_in(r, &r->total, zones);
    dcm_json_begin_object(j);
    text(j, "site", r->config->agent.site);
    dcm_kpi_json_period(j, &in);
    dcm_json_key(j, "pue_category");
    if (r->config->site.pue_category >= 1 && r->config->site.pue_category <= 3)
        dcm_json_int(j, r->config->site.pue_category);
    else
        dcm_json_null(j);
    dcm_kpi_json_values(j, &in);
    dcm_json_key(j, "corrections");
    dcm_json_uint(j, corrections_without_gaps(r));
    text(j, "ruleset", DCM_METRICS_RULESET);
    dcm_json_key(j, "months");
    dcm_json_begin_array(j);
    for (size_t m = 0; m < r->month_count; m++) {
        dcm_kpi_json_in mi = record_in(r, &r->months[m].w, zones);
        char name[16];
        dcm_report_month_name(r, r->months[m].w.start_ns, name, sizeof name);
        dcm_json_begin_object(j);
        dcm_kpi_json_period(j, &mi);
        dcm_kpi_json_values(j, &mi);
        text(j, "month", name);
        text(j, "status", dcm_report_status_name(r->months[m].status));
        dcm_json_key(j, "whole");
        dcm_json_bool(j, r->months[m].whole);
        dcm_json_end_object(j);
    }
    dcm_json_end_array(j);
    report_section(j, r);
    site_section(j, r);
    method_sections(j, r);
    annex_section(j, r);
    checks_section(j, r);
    quality_section(j, r);
    dcm_json_end_object(j);
}

bool dcm_report_write_json(FILE *f, const dcm_report *r)
{
    const char **zones = calloc(r->config->site.zone_count + 1, sizeof *zones);
    if (!zones)
        return false;
    for (size_t z = 0; z < r->config->site.zone_count; z++)
        zones[z] = r->config->site.zones[z].name;
    dcm_json j;
    dcm_json_init(&j, DCM_JSON_PRETTY);
    write_all(&j, r, zones);
    bool ok = dcm_json_error(&j) == DCM_JSON_OK;
    if (ok) {
        size_t len;
        const char *out = dcm_json_text(&j, &len);
        ok = fwrite(out, 1, len, f) == len && fputc('\n', f) != EOF;
    }
    dcm_json_free(&j);
    free(zones);
    return ok;
}
