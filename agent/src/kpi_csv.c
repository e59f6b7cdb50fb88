/* KPI windows as CSV rows (the shared columns of compute and report). */
#include "kpi_csv.h"

#include <string.h>

#include "json.h"
#include "timestamp.h"

static const char *const csv_columns =
    "period,from,to,pue,dcie,wue,wue_fresh,cue_location,cue_market,ref,erf,ere,cer,"
    "pue_enefg,iteu_sv,accel_util,energy_total_kwh,energy_it_kwh,energy_grid_kwh,"
    "energy_cooling_kwh,energy_fuel_kwh,energy_onsite_renewable_kwh,"
    "energy_certificates_kwh,energy_ppa_kwh,energy_reused_kwh,energy_heat_upgrade_kwh,"
    "energy_cooling_output_kwh,water_total_m3,water_fresh_m3,co2_location_kg,"
    "co2_market_kg,coverage,estimated_share,quality,pue_quality";

void dcm_kpi_csv_text(FILE *f, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void dcm_kpi_csv_number(FILE *f, bool has, double v)
{
    char buf[40];
    fputc(',', f);
    if (has && dcm_json_format_double(v, buf, sizeof buf) && strcmp(buf, "null") != 0)
        fputs(buf, f);
}

static void csv_opt(FILE *f, const dcm_opt *o) { dcm_kpi_csv_number(f, o->has_value, o->value); }

static void csv_role(FILE *f, const dcm_totals *t, dcm_role r)
{
    dcm_kpi_csv_number(f, t->role[r].points > 0, t->role[r].amount);
}

void dcm_kpi_csv_header(FILE *f, const dcm_site_config *site)
{
    size_t zones = site->zone_count < DCM_MAX_ZONES ? site->zone_count : DCM_MAX_ZONES;
    fputs(csv_columns, f);
    for (size_t z = 0; z < zones; z++) {
        char name[160];
        snprintf(name, sizeof name, "ppue_%s", site->zones[z].name ? site->zones[z].name : "");
        fputc(',', f);
        dcm_kpi_csv_text(f, name);
    }
}

void dcm_kpi_csv_row(FILE *f, const char *period, const dcm_calendar *cal,
                     const dcm_kpi_window *w, size_t zones)
{
    char from[DCM_TS_RFC3339_MAX], to[DCM_TS_RFC3339_MAX];
    dcm_ts_format_rfc3339(w->start_ns, cal, from, sizeof from);
    dcm_ts_format_rfc3339(w->end_ns, cal, to, sizeof to);
    const dcm_kpi_set *k = &w->kpi;
    const dcm_totals *t = &w->totals;
    dcm_kpi_csv_text(f, period);
    fprintf(f, ",%s,%s", from, to);
    const dcm_opt *kpis[] = {&k->pue, &k->dcie, &k->wue, &k->wue_fresh, &k->cue_location,
                             &k->cue_market, &k->ref, &k->erf, &k->ere, &k->cer,
                             &k->pue_enefg, &k->iteu_sv, &k->accel_util};
    for (size_t i = 0; i < sizeof kpis / sizeof kpis[0]; i++)
        csv_opt(f, kpis[i]);
    csv_opt(f, &k->e_dc_kwh);
    csv_role(f, t, DCM_ROLE_IT);
    csv_opt(f, &k->grid_kwh);
    csv_role(f, t, DCM_ROLE_COOLING);
    csv_role(f, t, DCM_ROLE_FUEL);
    csv_role(f, t, DCM_ROLE_ONSITE_RENEWABLE);
    dcm_kpi_csv_number(f, true, t->instruments.certificates_kwh);
    dcm_kpi_csv_number(f, true, t->instruments.ppa_kwh);
    csv_role(f, t, DCM_ROLE_REUSED);
    csv_role(f, t, DCM_ROLE_HEAT_UPGRADE);
    csv_role(f, t, DCM_ROLE_COOLING_OUTPUT);
    csv_role(f, t, DCM_ROLE_WATER);
    csv_role(f, t, DCM_ROLE_FRESHWATER);
    csv_opt(f, &k->co2_location_kg);
    csv_opt(f, &k->co2_market_kg);
    dcm_kpi_csv_number(f, true, k->coverage);
    dcm_kpi_csv_number(f, true, k->estimated_share);
    fprintf(f, ",%s,%s", dcm_quality_name(k->quality),
            dcm_quality_name(k->pue.has_value ? k->pue.quality : DCM_QUALITY_INVALID));
    for (size_t z = 0; z < zones && z < DCM_MAX_ZONES; z++)
        csv_opt(f, &k->ppue[z]);
}
