/*
 * attribution.c - a point's share of the facility: its energy over a window times the
 * window's PUE (facility energy) and CUE (carbon). Summed over every IT point this gives
 * back the window's E_DC and CO2, which is what makes it an attribution and not a guess.
 */
#include <string.h>

#include "engine_int.h"

static void opt_null(dcm_opt *o)
{
    o->value = 0.0;
    o->has_value = false;
    o->quality = DCM_QUALITY_INVALID;
}

static void scaled(dcm_opt *out, double energy, const dcm_opt *factor, dcm_quality own)
{
    double v = energy * factor->value;
    if (!factor->has_value || !isfinite(v)) {
        opt_null(out);
        return;
    }
    out->value = v;
    out->has_value = true;
    out->quality = factor->quality > own ? factor->quality : own;
}

void dcm_attribute(uint32_t point, double energy_kwh, double coverage, double coverage_ok,
                   const dcm_kpi_set *kpi, dcm_attribution *out)
{
    memset(out, 0, sizeof *out);
    out->point = point;
    out->energy_kwh = isfinite(energy_kwh) ? energy_kwh : 0.0;
    out->coverage = !(coverage > 0) ? 0.0 : (coverage > 1.0 ? 1.0 : coverage);
    if (!(coverage_ok > 0) || coverage_ok > 1)
        coverage_ok = 0.95;
    dcm_quality own = out->coverage < coverage_ok ? DCM_QUALITY_PARTIAL : DCM_QUALITY_OK;
    if (!kpi || !isfinite(energy_kwh)) {
        opt_null(&out->facility_kwh);
        opt_null(&out->co2_location_kg);
        opt_null(&out->co2_market_kg);
        return;
    }
    scaled(&out->facility_kwh, out->energy_kwh, &kpi->pue, own);
    scaled(&out->co2_location_kg, out->energy_kwh, &kpi->cue_location, own);
    scaled(&out->co2_market_kg, out->energy_kwh, &kpi->cue_market, own);
}

/* Window slot of a calendar window kind, or -1. */
static int slot_of(dcm_window w)
{
    for (int i = 0; i < DCM__NWIN; i++)
        if (dcm__win_kind[i] == w)
            return i;
    return -1;
}

size_t dcm__attribution_fill(const dcm_engine *e, dcm_window w, const dcm_totals *t,
                             bool interim, const dcm_kpi_set *kpi)
{
    if (!e->n_attr || w == DCM_WINDOW_INSTANT || w == DCM_WINDOW_TTM)
        return 0;
    int slot = slot_of(w);
    if (w != DCM_WINDOW_1M && slot < 0)
        return 0;
    int64_t end = interim ? e->peek_upto : t->end_ns;
    double window_s = dcm__ns_to_s(end - t->start_ns);
    for (size_t i = 0; i < e->n_attr; i++) {
        const dcm__attr *a = &e->attr[i];
        const dcm__point *p = &e->pts[a->id];
        dcm_point_acc acc;
        if (w == DCM_WINDOW_1M)
            acc = interim ? p->bin[dcm__bin_of(t->start_ns)] : a->minute;
        else
            acc = a->win[slot];
        /* Interim records of calendar windows include the minutes still open. */
        for (int k = 0; interim && w != DCM_WINDOW_1M && e->started && k < 2; k++) {
            int64_t ms = e->open_start + k * DCM__MIN;
            if (ms < t->start_ns || ms >= t->end_ns)
                continue;
            const dcm_point_acc *bin = &p->bin[dcm__bin_of(ms)];
            acc.amount += bin->amount;
            acc.covered_s += bin->covered_s;
        }
        double cov = window_s > 0 ? acc.covered_s / window_s : 0.0;
        dcm_attribute(a->id, acc.amount, cov, e->cfg.params.coverage_ok, kpi, &e->attr_out[i]);
    }
    return e->n_attr;
}
