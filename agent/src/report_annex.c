/*
 * report_annex.c - the fields of Delegated Regulation (EU) 2024/1364 (Annex I and II)
 * that the data supports, each marked measured, configured or missing; and the small
 * naming helpers every report writer uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

const char *dcm_report_status_name(dcm_report_status s)
{
    switch (s) {
    case DCM_REPORT_COMPLETE: return "complete";
    case DCM_REPORT_PARTIAL: return "partial";
    case DCM_REPORT_NO_DATA: return "no-data";
    }
    return "?";
}

const char *dcm_annex_status_name(dcm_annex_status s)
{
    switch (s) {
    case DCM_ANNEX_MEASURED: return "measured";
    case DCM_ANNEX_CONFIGURED: return "configured";
    case DCM_ANNEX_MISSING: return "missing";
    }
    return "?";
}

const char *dcm_report_sources_name(unsigned sources)
{
    switch (sources & (DCM_SRC_LEDGER | DCM_SRC_INPUT)) {
    case DCM_SRC_LEDGER: return "ledger";
    case DCM_SRC_INPUT: return "input";
    case DCM_SRC_LEDGER | DCM_SRC_INPUT: return "ledger+input";
    default: return "none";
    }
}

void dcm_report_month_name(const dcm_report *r, int64_t t_ns, char *buf, size_t size)
{
    int y, mo, d, h, mi, s;
    dcm_calendar_utc_to_local(r->calendar, t_ns, &y, &mo, &d, &h, &mi, &s);
    snprintf(buf, size, "%04d-%02d", y, mo);
}

void dcm_report_local_time(const dcm_report *r, int64_t t_ns, char *buf, size_t size)
{
    int y, mo, d, h, mi, s;
    dcm_calendar_utc_to_local(r->calendar, t_ns, &y, &mo, &d, &h, &mi, &s);
    if (h == 0 && mi == 0 && s == 0)
        snprintf(buf, size, "%04d-%02d-%02d", y, mo, d);
    else
        snprintf(buf, size, "%04d-%02d-%02d %02d:%02d", y, mo, d, h, mi);
}

/* ------------------------------------------------------------------ fields */

typedef struct annex {
    dcm_annex_field *f;
    size_t n;
} annex;

static dcm_annex_field *add(annex *a, const char *key, const char *field, const char *unit)
{
    dcm_annex_field *f = &a->f[a->n++];
    memset(f, 0, sizeof *f);
    f->key = key;
    f->field = field;
    f->unit = unit;
    f->status = DCM_ANNEX_MISSING;
    return f;
}

/* A configured text (or number written as text) under site.<key>. */
static void configured(annex *a, const char *key, const char *field, const char *unit,
                       const char *value, const char *config_key, bool number)
{
    dcm_annex_field *f = add(a, key, field, unit);
    if (!value) {
        snprintf(f->how, sizeof f->how, "not configured: set site.%s", config_key);
        return;
    }
    f->status = DCM_ANNEX_CONFIGURED;
    snprintf(f->how, sizeof f->how, "site.%s", config_key);
    char *end = NULL;
    double v = number ? strtod(value, &end) : 0;
    if (number && end && !*end) {
        f->has_number = true;
        f->number = v;
    } else {
        f->text = value;
    }
}

static size_t role_points(const dcm_report *r, dcm_role role)
{
    return r->total.totals.role[role].points;
}

/* A role's measured amount. */
static void measured_role(annex *a, const dcm_report *r, const char *key, const char *field,
                          const char *unit, dcm_role role, const char *extra)
{
    dcm_annex_field *f = add(a, key, field, unit);
    size_t n = role_points(r, role);
    if (n == 0) {
        snprintf(f->how, sizeof f->how, "no data: no point of role '%s' has readings%s",
                 dcm_role_name(role), extra ? extra : "");
        return;
    }
    f->status = DCM_ANNEX_MEASURED;
    f->has_number = true;
    f->number = r->total.totals.role[role].amount;
    snprintf(f->how, sizeof f->how, "role '%s', %zu meter%s%s", dcm_role_name(role), n,
             n == 1 ? "" : "s", extra ? extra : "");
}

static void measured_opt(annex *a, const char *key, const char *field, const char *unit,
                         const dcm_opt *o, const char *how, const char *missing)
{
    dcm_annex_field *f = add(a, key, field, unit);
    if (!o->has_value) {
        snprintf(f->how, sizeof f->how, "%s", missing);
        return;
    }
    f->status = DCM_ANNEX_MEASURED;
    f->has_number = true;
    f->number = o->value;
    snprintf(f->how, sizeof f->how, "%s", how);
}

static void missing(annex *a, const char *key, const char *field, const char *unit,
                    const char *why)
{
    dcm_annex_field *f = add(a, key, field, unit);
    snprintf(f->how, sizeof f->how, "%s", why);
}

static void site_fields(annex *a, const dcm_report *r)
{
    const dcm_site_config *s = &r->config->site;
    configured(a, "name", "Name of the data centre", "", s->name, "name", false);
    configured(a, "owner", "Owner", "", s->owner, "owner", false);
    configured(a, "operator", "Operator", "", s->operator_name, "operator", false);
    configured(a, "contact", "Contact", "", s->contact, "contact", false);
    configured(a, "location", "Location (LAU code)", "", s->location_code, "location_code", false);
    configured(a, "type", "Type (enterprise, colocation, co-hosting)", "", s->site_type, "type",
               false);
    configured(a, "start_of_operation", "Start of operation (YYYY-MM)", "",
               s->start_of_operation, "start_of_operation", false);
    configured(a, "electrical_redundancy", "Electrical redundancy", "",
               s->electrical_redundancy, "electrical_redundancy", false);
    configured(a, "cooling_redundancy", "Cooling redundancy", "", s->cooling_redundancy,
               "cooling_redundancy", false);
    configured(a, "installed_it_kw", "Installed IT power demand PD_IT", "kW", s->installed_it_kw,
               "installed_it_kw", true);
    configured(a, "floor_area_m2", "Total floor area", "m2", s->floor_area_m2, "floor_area_m2",
               true);
    configured(a, "it_floor_area_m2", "Computer room floor area", "m2", s->it_floor_area_m2,
               "it_floor_area_m2", true);
    configured(a, "intake_setpoint_degc", "IT intake air temperature set point", "degC",
               s->intake_setpoint_degc, "intake_setpoint_degc", true);
}

static void energy_fields(annex *a, const dcm_report *r)
{
    const dcm_kpi_set *k = &r->total.kpi;
    const dcm_totals *t = &r->total.totals;
    bool metered_total = t->role[DCM_ROLE_TOTAL].points > 0;
    measured_opt(a, "e_dc_kwh", "Total energy consumption E_DC", "kWh", &k->e_dc_kwh,
                 metered_total ? "role 'total' (metered at the boundary)"
                               : "roles grid + onsite_renewable + fuel",
                 "no data: no point of role 'total' or 'grid' has readings");
    static const char *const where[] = {"", " at UPS output (category 1)",
                                        " at PDU output (category 2)",
                                        " at IT equipment input (category 3)"};
    int cat = r->config->site.pue_category;
    measured_role(a, r, "e_it_kwh", "IT energy E_IT", "kWh", DCM_ROLE_IT,
                  cat >= 1 && cat <= 3 ? where[cat] : NULL);
    measured_role(a, r, "e_fuel_kwh", "Backup generator energy (fuel)", "kWh", DCM_ROLE_FUEL,
                  NULL);
    measured_role(a, r, "w_in_m3", "Total water input W_IN", "m3", DCM_ROLE_WATER, NULL);
    measured_role(a, r, "w_in_fresh_m3", "Freshwater input (potable before 2026)", "m3",
                  DCM_ROLE_FRESHWATER, NULL);
    measured_role(a, r, "e_reuse_kwh", "Waste heat reused E_REUSE", "kWh", DCM_ROLE_REUSED, NULL);
    missing(a, "reuse_temperature_degc", "Average temperature of the waste heat reused", "degC",
            "not measured: dcmetrics keeps no temperature of reused heat");
}

static void renewable_fields(annex *a, const dcm_report *r)
{
    const dcm_kpi_set *k = &r->total.kpi;
    const dcm_totals *t = &r->total.totals;
    bool onsite = t->role[DCM_ROLE_ONSITE_RENEWABLE].points > 0;
    bool instruments = r->instrument_count > 0;
    dcm_annex_field *f = add(a, "e_res_tot_kwh", "Total renewable energy E_RES-TOT", "kWh");
    if (k->renewable_kwh.has_value && (onsite || instruments)) {
        f->status = onsite ? DCM_ANNEX_MEASURED : DCM_ANNEX_CONFIGURED;
        f->has_number = true;
        f->number = k->renewable_kwh.value;
        snprintf(f->how, sizeof f->how, "on-site%s + certificates + PPAs, at most E_DC",
                 r->params.onsite_attributes_retained ? "" : " (not counted: attributes sold)");
    } else {
        snprintf(f->how, sizeof f->how, "no data: no on-site renewable meter, certificate or PPA");
    }
    f = add(a, "e_res_go_kwh", "Renewable energy: guarantees of origin and certificates", "kWh");
    f->status = instruments ? DCM_ANNEX_CONFIGURED : DCM_ANNEX_MISSING;
    f->has_number = instruments;
    f->number = t->instruments.certificates_kwh;
    snprintf(f->how, sizeof f->how, "%s", instruments ? "site.certificates, pro rata to the period"
                                                      : "not configured: site.certificates");
    f = add(a, "e_res_ppa_kwh", "Renewable energy: power purchase agreements", "kWh");
    f->status = instruments ? DCM_ANNEX_CONFIGURED : DCM_ANNEX_MISSING;
    f->has_number = instruments;
    f->number = t->instruments.ppa_kwh;
    snprintf(f->how, sizeof f->how, "%s",
             instruments ? "site.certificates of type ppa, pro rata to the period"
                         : "not configured: site.certificates with type ppa");
    measured_role(a, r, "e_res_onsite_kwh", "Renewable energy: on-site generation", "kWh",
                  DCM_ROLE_ONSITE_RENEWABLE, NULL);
}

static void kpi_fields(annex *a, const dcm_report *r)
{
    const dcm_kpi_set *k = &r->total.kpi;
    measured_opt(a, "pue", "PUE = E_DC / E_IT", "", &k->pue, "computed from the meters",
                 "not computable: E_DC or E_IT has no data");
    measured_opt(a, "wue", "WUE = W_IN / E_IT", "L/kWh", &k->wue, "computed from the meters",
                 "not computable: no water meter (role water) or no E_IT");
    measured_opt(a, "wue_fresh", "WUE with freshwater input (2026 amendment)", "L/kWh",
                 &k->wue_fresh, "computed from the meters",
                 "not computable: no freshwater meter (role freshwater) or no E_IT");
    measured_opt(a, "erf", "ERF = E_REUSE / E_DC", "", &k->erf, "computed from the meters",
                 "not computable: no reused-heat meter (role reused) or no E_DC");
    measured_opt(a, "ref", "REF = E_RES-TOT / E_DC", "", &k->ref,
                 "computed from the meters and site.certificates",
                 "not computable: no E_DC");
}

static void ict_fields(annex *a)
{
    missing(a, "ict_servers", "ICT capacity: servers", "",
            "not measured: dcmetrics does not inventory ICT equipment");
    missing(a, "ict_storage", "ICT capacity: storage", "",
            "not measured: dcmetrics does not inventory ICT equipment");
    missing(a, "data_traffic", "Incoming and outgoing data traffic", "",
            "not measured: dcmetrics does not meter network traffic");
    missing(a, "data_stored", "Data stored and processed", "",
            "not measured: dcmetrics does not meter data volumes");
}

size_t dcm_report_annex(const dcm_report *r, dcm_annex_field *out)
{
    annex a = {out, 0};
    site_fields(&a, r);
    energy_fields(&a, r);
    renewable_fields(&a, r);
    kpi_fields(&a, r);
    ict_fields(&a);
    return a.n;
}
