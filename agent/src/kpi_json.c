/* A KPI record as JSON. Key names are a public contract: see kpi_json.h and docs/compute.md. */
#include "kpi_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "timestamp.h"

/* The process zone's offset at t: used when no calendar is given. */
static int32_t process_offset(void *ctx, int64_t t_s)
{
    (void)ctx;
    time_t t = (time_t)t_s;
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    return (int32_t)tm.tm_gmtoff;
}

static void instant(dcm_json *j, const char *key, int64_t t_ns, const dcm_calendar *cal)
{
    static const dcm_calendar process_zone = {process_offset, NULL};
    char buf[DCM_TS_RFC3339_MAX];
    dcm_ts_format_rfc3339(t_ns, cal ? cal : &process_zone, buf, sizeof buf);
    dcm_json_key(j, key);
    dcm_json_string(j, buf);
}

/* An optional value as its number (or null), or as its quality name. */
static void opt_bare(dcm_json *j, const dcm_opt *o, bool quality)
{
    if (quality)
        dcm_json_string(j, dcm_quality_name(o->has_value ? o->quality : DCM_QUALITY_INVALID));
    else if (o->has_value)
        dcm_json_number(j, o->value);
    else
        dcm_json_null(j);
}

static void opt_member(dcm_json *j, const char *key, const dcm_opt *o, bool quality)
{
    dcm_json_key(j, key);
    opt_bare(j, o, quality);
}

static void opt_value(dcm_json *j, const char *key, const dcm_opt *o)
{
    opt_member(j, key, o, false);
}

/* A role's amount, or null when no point feeds the role. */
static void role_value(dcm_json *j, const char *key, const dcm_totals *t, dcm_role r)
{
    dcm_json_key(j, key);
    if (t->role[r].points > 0)
        dcm_json_number(j, t->role[r].amount);
    else
        dcm_json_null(j);
}

static void zone_key(dcm_json *j, const dcm_kpi_json_in *in, size_t i)
{
    if (i < in->zone_count && in->zone_names && in->zone_names[i]) {
        dcm_json_key(j, in->zone_names[i]);
        return;
    }
    char name[24];
    snprintf(name, sizeof name, "zone%zu", i + 1);
    dcm_json_key(j, name);
}

static size_t zones_of(const dcm_kpi_json_in *in)
{
    size_t n = in->totals->zone_count;
    return n > DCM_MAX_ZONES ? DCM_MAX_ZONES : n;
}

/* The KPI members in their documented order, as values or as qualities. */
static void kpis(dcm_json *j, const dcm_kpi_json_in *in, bool quality)
{
    const dcm_kpi_set *k = in->kpi;
    dcm_json_begin_object(j);
    opt_member(j, "pue", &k->pue, quality);
    opt_member(j, "dcie", &k->dcie, quality);
    dcm_json_key(j, "ppue");
    dcm_json_begin_object(j);
    for (size_t i = 0; i < zones_of(in); i++) {
        zone_key(j, in, i);
        opt_bare(j, &k->ppue[i], quality);
    }
    dcm_json_end_object(j);
    opt_member(j, "wue", &k->wue, quality);
    opt_member(j, "wue_fresh", &k->wue_fresh, quality);
    opt_member(j, "cue_location", &k->cue_location, quality);
    opt_member(j, "cue_market", &k->cue_market, quality);
    opt_member(j, "ref", &k->ref, quality);
    opt_member(j, "erf", &k->erf, quality);
    opt_member(j, "ere", &k->ere, quality);
    opt_member(j, "cer", &k->cer, quality);
    opt_member(j, "pue_enefg", &k->pue_enefg, quality);
    opt_member(j, "iteu_sv", &k->iteu_sv, quality);
    opt_member(j, "accel_util", &k->accel_util, quality);
    dcm_json_end_object(j);
}

void dcm_kpi_json_period(dcm_json *j, const dcm_kpi_json_in *in)
{
    instant(j, "from", in->start_ns, in->calendar);
    instant(j, "to", in->end_ns, in->calendar);
}

void dcm_kpi_json_values(dcm_json *j, const dcm_kpi_json_in *in)
{
    const dcm_totals *t = in->totals;
    const dcm_kpi_set *k = in->kpi;
    bool rates = in->has_window && in->window == DCM_WINDOW_INSTANT;

    dcm_json_key(j, "kpi");
    kpis(j, in, false);

    dcm_json_key(j, rates ? "power_kw" : "energy_kwh");
    dcm_json_begin_object(j);
    opt_value(j, "total", &k->e_dc_kwh);
    role_value(j, "it", t, DCM_ROLE_IT);
    opt_value(j, "grid", &k->grid_kwh);
    role_value(j, "cooling", t, DCM_ROLE_COOLING);
    role_value(j, "fuel", t, DCM_ROLE_FUEL);
    role_value(j, "onsite_renewable", t, DCM_ROLE_ONSITE_RENEWABLE);
    dcm_json_key(j, "certificates");
    dcm_json_number(j, t->instruments.certificates_kwh);
    dcm_json_key(j, "ppa");
    dcm_json_number(j, t->instruments.ppa_kwh);
    role_value(j, "reused", t, DCM_ROLE_REUSED);
    role_value(j, "heat_upgrade", t, DCM_ROLE_HEAT_UPGRADE);
    role_value(j, "cooling_output", t, DCM_ROLE_COOLING_OUTPUT);
    dcm_json_end_object(j);

    dcm_json_key(j, rates ? "water_m3_per_h" : "water_m3");
    dcm_json_begin_object(j);
    role_value(j, "total", t, DCM_ROLE_WATER);
    role_value(j, "fresh", t, DCM_ROLE_FRESHWATER);
    dcm_json_end_object(j);

    dcm_json_key(j, rates ? "co2_kg_per_h" : "co2_kg");
    dcm_json_begin_object(j);
    opt_value(j, "location", &k->co2_location_kg);
    opt_value(j, "market", &k->co2_market_kg);
    dcm_json_end_object(j);

    dcm_json_key(j, "coverage");
    dcm_json_number(j, k->coverage);
    dcm_json_key(j, "estimated_share");
    dcm_json_number(j, k->estimated_share);
    dcm_json_key(j, "quality");
    dcm_json_string(j, dcm_quality_name(k->quality));

    dcm_json_key(j, "kpi_quality");
    kpis(j, in, true);

    dcm_json_key(j, "coverage_by_role");
    dcm_json_begin_object(j);
    for (int r = 0; r < DCM_ROLE_COUNT; r++) {
        if (t->role[r].points == 0)
            continue;
        dcm_json_key(j, dcm_role_name((dcm_role)r));
        dcm_json_number(j, dcm_role_coverage(&t->role[r]));
    }
    dcm_json_end_object(j);

    if (t->role[DCM_ROLE_IT_TELEMETRY].points > 0) {
        dcm_json_key(j, "it_telemetry");
        dcm_json_begin_object(j);
        opt_value(j, rates ? "power_kw" : "energy_kwh", &k->it_telemetry_kwh);
        opt_value(j, "reconciliation", &k->it_reconciliation);
        dcm_json_end_object(j);
    }
    if (in->attribution_count > 0 && in->attribution) {
        dcm_json_key(j, "attribution");
        dcm_json_begin_object(j);
        for (size_t i = 0; i < in->attribution_count; i++) {
            const dcm_attribution *a = &in->attribution[i];
            char name[32];
            const char *id = in->point_names ? in->point_names[a->point] : NULL;
            if (!id) {
                snprintf(name, sizeof name, "point%u", (unsigned)a->point);
                id = name;
            }
            dcm_json_key(j, id);
            dcm_json_begin_object(j);
            dcm_json_key(j, "energy_kwh");
            dcm_json_number(j, a->energy_kwh);
            opt_value(j, "facility_kwh", &a->facility_kwh);
            opt_value(j, "co2_location_kg", &a->co2_location_kg);
            opt_value(j, "co2_market_kg", &a->co2_market_kg);
            dcm_json_key(j, "coverage");
            dcm_json_number(j, a->coverage);
            dcm_json_key(j, "quality");
            dcm_json_string(j, dcm_quality_name(a->facility_kwh.has_value
                                                    ? a->facility_kwh.quality
                                                    : DCM_QUALITY_INVALID));
            dcm_json_end_object(j);
        }
        dcm_json_end_object(j);
    }
}

void dcm_kpi_json_write(dcm_json *j, const dcm_kpi_json_in *in)
{
    dcm_json_begin_object(j);
    if (in->site) {
        dcm_json_key(j, "site");
        dcm_json_string(j, in->site);
    }
    if (in->has_window) {
        dcm_json_key(j, "window");
        dcm_json_string(j, dcm_window_name(in->window));
        dcm_json_key(j, "interim");
        dcm_json_bool(j, in->interim);
    }
    dcm_kpi_json_period(j, in);
    dcm_json_key(j, "pue_category");
    if (in->pue_category >= 1 && in->pue_category <= 3)
        dcm_json_int(j, in->pue_category);
    else
        dcm_json_null(j);
    dcm_kpi_json_values(j, in);
    dcm_json_key(j, "ruleset");
    dcm_json_string(j, in->ruleset ? in->ruleset : DCM_METRICS_RULESET);
    dcm_json_end_object(j);
}

char *dcm_kpi_json_record(const dcm_kpi_record *rec, const char *site,
                          const char *const *zone_names, size_t zone_count)
{
    if (!rec || !rec->totals || !rec->kpi)
        return NULL;
    dcm_kpi_json_in in = {
        .site = site,
        .has_window = true,
        .window = rec->window,
        .interim = rec->interim,
        .start_ns = rec->start_ns,
        .end_ns = rec->end_ns,
        .calendar = NULL,
        .totals = rec->totals,
        .kpi = rec->kpi,
        .pue_category = rec->pue_category,
        .ruleset = rec->ruleset,
        .zone_names = zone_names,
        .zone_count = zone_count,
        .attribution = rec->attribution,
        .attribution_count = rec->attribution_count,
        .point_names = rec->point_names,
    };
    dcm_json j;
    dcm_json_init(&j, 0);
    dcm_kpi_json_write(&j, &in);
    char *out = dcm_json_release(&j, NULL);
    dcm_json_free(&j);
    return out;
}
