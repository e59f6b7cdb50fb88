/*
 * kpi.c - role totals -> the KPI set.
 *
 * Every KPI is a ratio of sums over one window. A value is null (INVALID) when an input
 * it needs is not metered or its denominator is not positive; each value's quality comes
 * from the coverage and estimated share of exactly the inputs it used.
 */
#include <string.h>

#include "internal.h"

#define MAX_INPUTS 8

typedef struct inputs {
    const dcm_role_sum *r[MAX_INPUTS];
    int n;
} inputs;

typedef struct kctx {
    double cov_ok;
    bool instant;
    double min_cov; /* over inputs of non-null values */
    bool any;
} kctx;

static void in_add(inputs *in, const dcm_role_sum *r)
{
    if (in->n < MAX_INPUTS)
        in->r[in->n++] = r;
}

static bool in_has(const inputs *in, const dcm_role_sum *r)
{
    for (int i = 0; i < in->n; i++)
        if (in->r[i] == r)
            return true;
    return false;
}

static inputs in_cat(const inputs *a, const inputs *b)
{
    inputs out = *a;
    for (int i = 0; i < b->n; i++)
        in_add(&out, b->r[i]);
    return out;
}

/* A role is metered over the window when points are mapped to it. */
static bool present(const dcm_role_sum *r)
{
    return r->points > 0 || r->expected_s > 0;
}

static dcm_quality worst(dcm_quality a, dcm_quality b)
{
    return a > b ? a : b;
}

static dcm_quality inputs_quality(const kctx *k, const inputs *in, double *min_cov)
{
    dcm_quality q = DCM_QUALITY_OK;
    double lo = 1.0;
    for (int i = 0; i < in->n; i++) {
        const dcm_role_sum *r = in->r[i];
        double cov = dcm_role_coverage(r);
        if (cov < lo)
            lo = cov;
        if (cov < k->cov_ok || r->estimated != 0)
            q = worst(q, DCM_QUALITY_PARTIAL);
        if (k->instant && r->expected_s > 0 && !(r->covered_s > 0))
            q = worst(q, DCM_QUALITY_STALE);
    }
    *min_cov = lo;
    return q;
}

static void opt_null(dcm_opt *o)
{
    o->value = 0.0;
    o->has_value = false;
    o->quality = DCM_QUALITY_INVALID;
}

static void opt_set(kctx *k, dcm_opt *o, double v, const inputs *in, dcm_quality extra)
{
    if (!isfinite(v)) {
        opt_null(o);
        return;
    }
    double cov;
    o->value = v;
    o->has_value = true;
    o->quality = worst(inputs_quality(k, in, &cov), extra);
    if (in->n > 0 && (!k->any || cov < k->min_cov))
        k->min_cov = cov;
    if (in->n > 0)
        k->any = true;
}

/* num / den, or null when the denominator is not positive. */
static void opt_ratio(kctx *k, dcm_opt *o, double num, double den, const inputs *in,
                      dcm_quality extra)
{
    if (!(den > 0) || !isfinite(den) || !isfinite(num)) {
        opt_null(o);
        return;
    }
    opt_set(k, o, num / den, in, extra);
}

static double finite_or_zero(double v)
{
    return isfinite(v) ? v : 0.0;
}

static void worst_of(dcm_quality *q, bool *any, const dcm_opt *o)
{
    if (!o->has_value)
        return;
    *q = *any ? worst(*q, o->quality) : o->quality;
    *any = true;
}

void dcm__kpi_compute_ex(const dcm_totals *t, const dcm_kpi_params *p, bool instant,
                         dcm_kpi_set *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof(*out));
    dcm_opt *all[] = {&out->pue, &out->dcie, &out->wue, &out->wue_fresh, &out->cue_location,
                      &out->cue_market, &out->ref, &out->erf, &out->ere, &out->cer,
                      &out->pue_enefg, &out->iteu_sv, &out->accel_util, &out->e_dc_kwh,
                      &out->grid_kwh, &out->co2_location_kg, &out->co2_market_kg,
                      &out->renewable_kwh, &out->it_telemetry_kwh, &out->it_reconciliation};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        opt_null(all[i]);
    for (int z = 0; z < DCM_MAX_ZONES; z++)
        opt_null(&out->ppue[z]);
    out->quality = DCM_QUALITY_INVALID;
    if (!t)
        return;

    static const dcm_kpi_params defaults;
    if (!p)
        p = &defaults;
    kctx k = {.cov_ok = p->coverage_ok, .instant = instant};
    if (!(k.cov_ok > 0) || k.cov_ok > 1)
        k.cov_ok = 0.95;

    const dcm_role_sum *R = t->role;
    const dcm_role_sum *total = &R[DCM_ROLE_TOTAL], *grid = &R[DCM_ROLE_GRID];
    const dcm_role_sum *it = &R[DCM_ROLE_IT], *ore = &R[DCM_ROLE_ONSITE_RENEWABLE];
    const dcm_role_sum *fuel = &R[DCM_ROLE_FUEL];
    bool has_ore = present(ore), has_fuel = present(fuel);

    /* E_DC: the total meter when there is one; otherwise everything entering the boundary. */
    inputs e_in = {0};
    bool e_ok = false;
    double e_dc = 0.0;
    if (present(total)) {
        e_dc = total->amount;
        in_add(&e_in, total);
        e_ok = true;
    } else if (present(grid)) {
        e_dc = grid->amount;
        in_add(&e_in, grid);
        if (has_ore) {
            e_dc += ore->amount;
            in_add(&e_in, ore);
        }
        if (has_fuel) {
            e_dc += fuel->amount;
            in_add(&e_in, fuel);
        }
        e_ok = true;
    }
    if (e_ok)
        opt_set(&k, &out->e_dc_kwh, e_dc, &e_in, DCM_QUALITY_OK);
    e_ok = out->e_dc_kwh.has_value;

    /* Grid import: metered, or what E_DC leaves after on-site sources. */
    inputs g_in = {0};
    bool g_ok = false;
    double grid_kwh = 0.0;
    dcm_quality g_extra = DCM_QUALITY_OK;
    if (present(grid)) {
        grid_kwh = grid->amount;
        in_add(&g_in, grid);
        g_ok = true;
    } else if (present(total)) {
        grid_kwh = total->amount;
        in_add(&g_in, total);
        if (has_ore) {
            grid_kwh -= ore->amount;
            in_add(&g_in, ore);
        }
        if (has_fuel) {
            grid_kwh -= fuel->amount;
            in_add(&g_in, fuel);
        }
        if (grid_kwh < 0) {
            /* On-site sources above the total: a boundary or metering problem. */
            grid_kwh = 0.0;
            g_extra = DCM_QUALITY_PARTIAL;
        }
        g_ok = true;
    }
    if (g_ok)
        opt_set(&k, &out->grid_kwh, grid_kwh, &g_in, g_extra);
    g_ok = out->grid_kwh.has_value;

    /* IT by telemetry: what the machines measure plus the declared baseline for the part
     * they do not, over the time the telemetry covers (instant: kW x the fresh share). */
    const dcm_role_sum *tel = &R[DCM_ROLE_IT_TELEMETRY];
    dcm_role_sum model = {0};
    bool tel_ok = present(tel);
    if (tel_ok) {
        model = *tel;
        double base_kw = isfinite(p->it_baseline_kw) && p->it_baseline_kw > 0 ? p->it_baseline_kw
                                                                               : 0.0;
        double per_point = tel->points > 0 ? tel->covered_s / (double)tel->points : 0.0;
        model.amount += base_kw * (instant ? per_point : per_point / 3600.0);
        inputs tin = {0};
        in_add(&tin, &model);
        opt_set(&k, &out->it_telemetry_kwh, model.amount, &tin, DCM_QUALITY_OK);
        if (present(it)) {
            in_add(&tin, it);
            opt_ratio(&k, &out->it_reconciliation, model.amount, it->amount, &tin,
                      DCM_QUALITY_OK);
        }
    }
    static const dcm_role_sum none;
    if (p->it_from_telemetry)
        it = tel_ok ? &model : &none;

    bool it_ok = present(it);
    double e_it = it->amount;
    inputs it_in = {0};
    in_add(&it_in, it);
    inputs e_it_in = in_cat(&e_in, &it_in);

    if (e_ok && it_ok) {
        dcm_quality below_one = DCM_QUALITY_OK;
        if (e_it > 0 && e_dc / e_it < 1.0)
            below_one = DCM_QUALITY_PARTIAL; /* impossible physically: the boundary is wrong */
        opt_ratio(&k, &out->pue, e_dc, e_it, &e_it_in, below_one);
        opt_ratio(&k, &out->dcie, e_it, e_dc, &e_it_in, DCM_QUALITY_OK);
    }

    uint32_t zones = t->zone_count > DCM_MAX_ZONES ? DCM_MAX_ZONES : t->zone_count;
    for (uint32_t z = 0; z < zones; z++) {
        const dcm_role_sum *zi = &t->zone_it[z], *zo = &t->zone_overhead[z];
        if (!present(zi) || !present(zo))
            continue;
        inputs zin = {0};
        in_add(&zin, zi);
        in_add(&zin, zo);
        opt_ratio(&k, &out->ppue[z], zi->amount + zo->amount, zi->amount, &zin, DCM_QUALITY_OK);
    }

    const dcm_role_sum *water = &R[DCM_ROLE_WATER], *fresh = &R[DCM_ROLE_FRESHWATER];
    if (it_ok && present(water)) {
        inputs in = it_in;
        in_add(&in, water);
        opt_ratio(&k, &out->wue, water->amount * 1000.0, e_it, &in, DCM_QUALITY_OK);
    }
    if (it_ok && present(fresh)) {
        inputs in = it_in;
        in_add(&in, fresh);
        opt_ratio(&k, &out->wue_fresh, fresh->amount * 1000.0, e_it, &in, DCM_QUALITY_OK);
    }

    /* Carbon: fuel burnt on site emits under both methods; instruments only lower the
     * market-based figure, and never below zero. */
    const dcm_carbon *c = &p->carbon;
    inputs co2_in = g_in;
    double fuel_co2 = 0.0;
    if (has_fuel) {
        if (!in_has(&g_in, fuel))
            in_add(&co2_in, fuel);
        fuel_co2 = fuel->amount * c->fuel_factor;
    }
    double certs = finite_or_zero(t->instruments.certificates_kwh);
    double ppa = finite_or_zero(t->instruments.ppa_kwh);
    if (g_ok && c->has_location)
        opt_set(&k, &out->co2_location_kg, grid_kwh * c->location_factor + fuel_co2, &co2_in,
                g_extra);
    if (g_ok && c->has_market) {
        double residual = grid_kwh - certs - ppa;
        if (residual < 0)
            residual = 0.0;
        opt_set(&k, &out->co2_market_kg, residual * c->market_factor + fuel_co2, &co2_in,
                g_extra);
    }
    inputs cue_in = in_cat(&co2_in, &it_in);
    if (it_ok && out->co2_location_kg.has_value)
        opt_ratio(&k, &out->cue_location, out->co2_location_kg.value, e_it, &cue_in,
                  out->co2_location_kg.quality);
    if (it_ok && out->co2_market_kg.has_value)
        opt_ratio(&k, &out->cue_market, out->co2_market_kg.value, e_it, &cue_in,
                  out->co2_market_kg.quality);

    /* Renewable: on-site generation only while its attributes are kept; surplus beyond
     * E_DC does not count. */
    if (e_ok) {
        inputs ren_in = e_in;
        double ren = certs + ppa;
        if (p->onsite_attributes_retained && has_ore) {
            ren += ore->amount;
            if (!in_has(&ren_in, ore))
                in_add(&ren_in, ore);
        }
        opt_set(&k, &out->renewable_kwh, ren < e_dc ? ren : e_dc, &ren_in, DCM_QUALITY_OK);
        opt_ratio(&k, &out->ref, ren < e_dc ? ren : e_dc, e_dc, &ren_in, DCM_QUALITY_OK);
    }

    const dcm_role_sum *reused = &R[DCM_ROLE_REUSED];
    if (e_ok && present(reused)) {
        inputs in = e_in;
        in_add(&in, reused);
        opt_ratio(&k, &out->erf, reused->amount, e_dc, &in, DCM_QUALITY_OK);
        if (it_ok) {
            inputs in2 = in_cat(&in, &it_in);
            opt_ratio(&k, &out->ere, e_dc - reused->amount, e_it, &in2, DCM_QUALITY_OK);
        }
    }

    const dcm_role_sum *cool = &R[DCM_ROLE_COOLING], *cool_out = &R[DCM_ROLE_COOLING_OUTPUT];
    if (present(cool) && present(cool_out)) {
        inputs in = {0};
        in_add(&in, cool_out);
        in_add(&in, cool);
        opt_ratio(&k, &out->cer, cool_out->amount, cool->amount, &in, DCM_QUALITY_OK);
    }

    /* EnEfG: electricity used only to upgrade waste heat leaves E_DC; a site without such
     * plant has nothing to exclude and its EnEfG PUE equals its PUE. */
    if (e_ok && it_ok) {
        const dcm_role_sum *hu = &R[DCM_ROLE_HEAT_UPGRADE];
        inputs in = e_it_in;
        double num = e_dc;
        if (present(hu)) {
            num -= hu->amount;
            in_add(&in, hu);
        }
        dcm_quality below_one = (e_it > 0 && num / e_it < 1.0) ? DCM_QUALITY_PARTIAL
                                                              : DCM_QUALITY_OK;
        opt_ratio(&k, &out->pue_enefg, num, e_it, &in, below_one);
    }

    const dcm_role_sum *srv = &R[DCM_ROLE_SERVERS], *acc = &R[DCM_ROLE_ACCELERATORS];
    if (srv->points > 0) {
        inputs in = {0};
        in_add(&in, srv);
        opt_ratio(&k, &out->iteu_sv, srv->amount, (double)srv->points, &in, DCM_QUALITY_OK);
    }
    if (acc->points > 0) {
        inputs in = {0};
        in_add(&in, acc);
        opt_ratio(&k, &out->accel_util, acc->amount, (double)acc->points, &in, DCM_QUALITY_OK);
    }

    out->coverage = k.any ? k.min_cov : 0.0;
    if (e_ok && e_dc > 0) {
        double est = 0.0;
        for (int i = 0; i < e_in.n; i++)
            est += e_in.r[i]->estimated;
        double share = est / e_dc;
        out->estimated_share = !(share > 0) ? 0.0 : (share > 1.0 ? 1.0 : share);
    }
    if (out->pue.has_value) {
        out->quality = out->pue.quality;
    } else {
        bool any = false;
        dcm_quality q = DCM_QUALITY_INVALID;
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
            worst_of(&q, &any, all[i]);
        for (uint32_t z = 0; z < zones; z++)
            worst_of(&q, &any, &out->ppue[z]);
        out->quality = any ? q : DCM_QUALITY_INVALID;
    }
}

void dcm_kpi_compute(const dcm_totals *t, const dcm_kpi_params *p, dcm_kpi_set *out)
{
    dcm__kpi_compute_ex(t, p, false, out);
}
