/*
 * sim_run.c - the simulated hall as a stream of samples.
 */
#include "sim_run.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_HOUR_D 3.6e12
#define NAME_MAX_LEN 40

/* Where a point's value comes from. */
typedef enum source {
    SRC_REGISTER = 0, /* a dcm_sim_counters field */
    SRC_WH32,         /* grid energy as a 32-bit Wh register */
    SRC_MEAN_POWER,   /* a register's increase over the last emission interval, as kW */
    SRC_STATE,        /* a dcm_sim_state field at the sample's instant */
    SRC_GPU,          /* gpu_util[node] */
    SRC_CPU,          /* cpu_util[node] */
} source;

typedef struct sim_point {
    dcm_point_decl decl;
    char name[NAME_MAX_LEN];
    source src;
    size_t offset; /* into dcm_sim_counters or dcm_sim_state */
    size_t state;  /* SRC_MEAN_POWER: the dcm_sim_state power, for the first sample */
    int node;
} sim_point;

struct dcm_sim_run {
    dcm_sim_config cfg;      /* outages point at the copies below */
    dcm_sim_outage *outages; /* globs owned */
    sim_point *points;
    size_t point_count;
    bool started;            /* origin fixed */
    bool emitted;            /* the origin's samples are out */
    int64_t origin_ns;
    int64_t last_ns;         /* latest emission */
    dcm_sim_counters at_last;
    int64_t integrated_ns;   /* registers are integrated up to here */
    bool pending;            /* an emission is half integrated: due at pending_ns */
    int64_t pending_ns;
    dcm_sim_counters counters;
};

const char *dcm_sim_strerror(dcm_sim_err err)
{
    switch (err) {
    case DCM_SIM_OK: return "ok";
    case DCM_SIM_EINVAL: return "invalid simulation parameter";
    case DCM_SIM_ENOMEM: return "out of memory";
    }
    return "unknown error";
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static double field(const void *base, size_t offset)
{
    double v;
    memcpy(&v, (const char *)base + offset, sizeof v);
    return v;
}

/* --------------------------------------------------------------- points */

#define REG(f) offsetof(dcm_sim_counters, f)
#define ST(f) offsetof(dcm_sim_state, f)

/* The fixed points. rate: plausibility limit as a multiple of it_kw (kW or m3/h). */
static const struct fixed_point {
    const char *name;
    const char *unit;
    dcm_kind kind;
    source src;
    size_t offset;
    double rate;
    size_t state;
} fixed_points[] = {
    {"grid.energy", "kWh", DCM_KIND_COUNTER, SRC_REGISTER, REG(grid_kwh), 3.0, 0},
    {"pv.energy", "kWh", DCM_KIND_COUNTER, SRC_REGISTER, REG(pv_kwh), 3.0, 0},
    {"gen.energy", "kWh", DCM_KIND_COUNTER, SRC_REGISTER, REG(gen_kwh), 3.0, 0},
    {"gen.fuel.energy", "kWh", DCM_KIND_COUNTER, SRC_REGISTER, REG(gen_fuel_kwh), 9.0, 0},
    {"total.energy", "kWh", DCM_KIND_COUNTER, SRC_REGISTER, REG(total_kwh), 3.0, 0},
    {"it.hall-a.energy", "kWh", DCM_KIND_COUNTER, SRC_REGISTER, REG(it_kwh[0]), 3.0, 0},
    {"it.hall-b.energy", "kWh", DCM_KIND_COUNTER, SRC_REGISTER, REG(it_kwh[1]), 3.0, 0},
    {"ups.loss.energy", "kWh", DCM_KIND_COUNTER, SRC_REGISTER, REG(ups_loss_kwh), 3.0, 0},
    {"cooling.chillers.energy", "kWh", DCM_KIND_COUNTER, SRC_REGISTER, REG(chillers_kwh), 3.0, 0},
    {"cooling.crah-a.energy", "kWh", DCM_KIND_COUNTER, SRC_REGISTER, REG(crah_kwh[0]), 3.0, 0},
    {"cooling.crah-b.energy", "kWh", DCM_KIND_COUNTER, SRC_REGISTER, REG(crah_kwh[1]), 3.0, 0},
    {"cooling.towers.energy", "kWh", DCM_KIND_COUNTER, SRC_REGISTER, REG(towers_kwh), 3.0, 0},
    {"lighting.energy", "kWh", DCM_KIND_COUNTER, SRC_REGISTER, REG(lighting_kwh), 3.0, 0},
    {"heatpump.energy", "kWh", DCM_KIND_COUNTER, SRC_REGISTER, REG(heatpump_kwh), 3.0, 0},
    {"heat.reused.energy", "kWh", DCM_KIND_COUNTER, SRC_REGISTER, REG(heat_reused_kwh), 3.0, 0},
    {"chw.thermal.energy", "kWh", DCM_KIND_COUNTER, SRC_REGISTER, REG(heat_removed_kwh), 3.0, 0},
    {"water.total.volume", "m3", DCM_KIND_COUNTER, SRC_REGISTER, REG(water_m3), 0.01, 0},
    {"water.fresh.volume", "m3", DCM_KIND_COUNTER, SRC_REGISTER, REG(fresh_m3), 0.01, 0},
    {"grid.power", "kW", DCM_KIND_GAUGE, SRC_MEAN_POWER, REG(grid_kwh), 0, ST(grid_kw)},
    {"pv.power", "kW", DCM_KIND_GAUGE, SRC_MEAN_POWER, REG(pv_kwh), 0, ST(pv_kw)},
    {"total.power", "kW", DCM_KIND_GAUGE, SRC_MEAN_POWER, REG(total_kwh), 0, ST(total_kw)},
    {"it.hall-a.power", "kW", DCM_KIND_GAUGE, SRC_MEAN_POWER, REG(it_kwh[0]), 0, ST(it_kw[0])},
    {"it.hall-b.power", "kW", DCM_KIND_GAUGE, SRC_MEAN_POWER, REG(it_kwh[1]), 0, ST(it_kw[1])},
    {"outdoor.temperature", "degC", DCM_KIND_GAUGE, SRC_STATE, ST(outdoor_c), 0, 0},
};
#define FIXED_COUNT (sizeof fixed_points / sizeof fixed_points[0])

static void set_point(sim_point *pt, const char *name, const char *unit, dcm_kind kind,
                      source src, size_t offset, int node, double max_rate)
{
    memset(pt, 0, sizeof *pt);
    snprintf(pt->name, sizeof pt->name, "%s", name);
    pt->src = src;
    pt->offset = offset;
    pt->state = offset;
    pt->node = node;
    pt->decl.name = pt->name;
    pt->decl.unit = unit;
    pt->decl.kind = kind;
    pt->decl.max_rate = max_rate;
}

static void build_points(dcm_sim_run *r)
{
    const dcm_sim_params *p = &r->cfg.params;
    size_t n = 0;
    for (size_t i = 0; i < FIXED_COUNT; i++) {
        const struct fixed_point *f = &fixed_points[i];
        sim_point *pt = &r->points[n++];
        set_point(pt, f->name, f->unit, f->kind, f->src, f->offset, -1,
                  f->rate * p->it_kw + (f->kind == DCM_KIND_COUNTER && f->rate > 1 ? p->pv_kwp : 0));
        pt->state = f->state;
        if (f->src == SRC_REGISTER && f->offset == REG(grid_kwh) && r->cfg.grid_wh32) {
            /* A meter's 32-bit Wh register: wraps every 4,294,967.296 kWh. */
            pt->src = SRC_WH32;
            pt->decl.unit = "Wh";
            pt->decl.counter_bits = 32;
            pt->decl.counter_scale = 1.0;
            pt->decl.max_rate = pt->decl.max_rate * 1000.0; /* W */
        }
    }
    for (int i = 0; i < p->nodes; i++) {
        char name[NAME_MAX_LEN];
        snprintf(name, sizeof name, "gpus.node%02d.util", i + 1);
        set_point(&r->points[n++], name, "%", DCM_KIND_GAUGE, SRC_GPU, 0, i, 0);
        snprintf(name, sizeof name, "servers.node%02d.cpu", i + 1);
        set_point(&r->points[n++], name, "%", DCM_KIND_GAUGE, SRC_CPU, 0, i, 0);
    }
    r->point_count = n;
}

/* ------------------------------------------------------------ lifecycle */

static const char *check_config(const dcm_sim_config *cfg)
{
    const int64_t ms = INT64_C(1000000), hour = INT64_C(3600000000000);
    const char *why = dcm_sim_params_check(&cfg->params);
    if (why)
        return why;
    if (cfg->step_ns < ms || cfg->step_ns > hour)
        return "step must be between 1ms and 1h";
    if (cfg->emit_ns < ms || cfg->emit_ns > hour)
        return "emit_every must be between 1ms and 1h";
    for (size_t i = 0; i < cfg->outage_count; i++) {
        if (!cfg->outages[i].glob || !cfg->outages[i].glob[0])
            return "an outage needs a point glob";
        if (cfg->outages[i].to_ns <= cfg->outages[i].from_ns)
            return "an outage must end after it starts";
    }
    return NULL;
}

dcm_sim_err dcm_sim_run_create(const dcm_sim_config *cfg, dcm_sim_run **out, const char **why)
{
    dcm_sim_run *r = NULL;
    const char *bad = check_config(cfg);
    *out = NULL;
    if (bad) {
        if (why)
            *why = bad;
        return DCM_SIM_EINVAL;
    }
    r = calloc(1, sizeof *r);
    if (!r)
        goto nomem;
    r->cfg = *cfg;
    r->cfg.outages = NULL;
    if (cfg->outage_count) {
        r->outages = calloc(cfg->outage_count, sizeof *r->outages);
        if (!r->outages)
            goto nomem;
        for (size_t i = 0; i < cfg->outage_count; i++) {
            r->outages[i] = cfg->outages[i];
            r->outages[i].glob = strdup(cfg->outages[i].glob);
            r->cfg.outage_count = i + 1; /* what destroy frees */
            if (!r->outages[i].glob)
                goto nomem;
        }
        r->cfg.outages = r->outages;
    }
    if (!r->cfg.max_samples)
        r->cfg.max_samples = DCM_SIM_MAX_SAMPLES_PER_CALL;
    if (!r->cfg.max_cells)
        r->cfg.max_cells = DCM_SIM_MAX_CELLS_PER_CALL;
    r->points = calloc(FIXED_COUNT + 2 * (size_t)cfg->params.nodes, sizeof *r->points);
    if (!r->points)
        goto nomem;
    build_points(r);
    *out = r;
    return DCM_SIM_OK;
nomem:
    dcm_sim_run_destroy(r);
    if (why)
        *why = "out of memory";
    return DCM_SIM_ENOMEM;
}

void dcm_sim_run_destroy(dcm_sim_run *r)
{
    if (!r)
        return;
    if (r->outages)
        for (size_t i = 0; i < r->cfg.outage_count; i++)
            free((char *)r->outages[i].glob);
    free(r->outages);
    free(r->points);
    free(r);
}

size_t dcm_sim_run_point_count(const dcm_sim_run *r) { return r->point_count; }

const dcm_point_decl *dcm_sim_run_point(const dcm_sim_run *r, size_t i)
{
    return i < r->point_count ? &r->points[i].decl : NULL;
}

long dcm_sim_run_find(const dcm_sim_run *r, const char *name)
{
    for (size_t i = 0; i < r->point_count; i++)
        if (strcmp(r->points[i].name, name) == 0)
            return (long)i;
    return -1;
}

bool dcm_sim_run_last(const dcm_sim_run *r, int64_t *ts_ns, dcm_sim_counters *c)
{
    if (!r->emitted)
        return false;
    if (ts_ns)
        *ts_ns = r->last_ns;
    if (c)
        *c = r->at_last;
    return true;
}

/* ------------------------------------------------------------- emission */

/* Whether an outage hides point i at ts; *invalid says how. */
static bool in_outage(const dcm_sim_run *r, size_t i, int64_t ts, bool *invalid)
{
    for (size_t k = 0; k < r->cfg.outage_count; k++) {
        const dcm_sim_outage *o = &r->outages[k];
        if (ts >= o->from_ns && ts < o->to_ns && fnmatch(o->glob, r->points[i].name, 0) == 0) {
            *invalid = o->invalid;
            return true;
        }
    }
    return false;
}

static double point_value(const dcm_sim_run *r, const sim_point *pt, int64_t ts,
                          const dcm_sim_state *now)
{
    switch (pt->src) {
    case SRC_REGISTER:
        return field(&r->counters, pt->offset);
    case SRC_WH32: {
        /* The register counts whole Wh modulo 2^32, as the meter's firmware would. */
        double wh = floor(r->counters.grid_kwh * 1000.0);
        return fmod(wh, 4294967296.0);
    }
    case SRC_MEAN_POWER: {
        if (!r->emitted) /* no interval yet: the power of this instant */
            return field(now, pt->state);
        double hours = (double)(ts - r->last_ns) / NS_PER_HOUR_D;
        return (field(&r->counters, pt->offset) - field(&r->at_last, pt->offset)) / hours;
    }
    case SRC_STATE:
        return field(now, pt->offset);
    case SRC_GPU:
        return now->gpu_util[pt->node];
    case SRC_CPU:
        return now->cpu_util[pt->node];
    }
    return NAN;
}

static size_t emit_all(dcm_sim_run *r, int64_t ts, dcm_sim_emit_fn fn, void *ud)
{
    dcm_sim_state now;
    size_t sent = 0;
    dcm_sim_eval(&r->cfg.params, ts, &now);
    for (size_t i = 0; i < r->point_count; i++) {
        bool invalid = false;
        if (in_outage(r, i, ts, &invalid)) {
            if (invalid) {
                fn(ud, i, ts, 0.0, DCM_QUALITY_INVALID);
                sent++;
            }
            continue;
        }
        fn(ud, i, ts, point_value(r, &r->points[i], ts, &now), DCM_QUALITY_OK);
        sent++;
    }
    r->emitted = true;
    r->last_ns = ts;
    r->at_last = r->counters;
    return sent;
}

size_t dcm_sim_run_advance(dcm_sim_run *r, int64_t now_ns, dcm_sim_emit_fn fn, void *ud)
{
    const dcm_sim_config *cfg = &r->cfg;
    size_t sent = 0;
    int64_t cells = 0;

    if (!r->started) {
        int64_t start = cfg->has_start ? cfg->start_ns : now_ns;
        r->origin_ns = floor_div(start, cfg->emit_ns) * cfg->emit_ns;
        dcm_sim_register_origin(&cfg->params, r->origin_ns, &r->counters);
        r->integrated_ns = r->origin_ns;
        r->started = true;
    }
    if (!r->emitted) {
        if (now_ns < r->origin_ns)
            return 0;
        if (cfg->skip_history) {
            /* The meters counted while nobody read them: integrate silently up to the
             * first emission slot at or before now, within the call's cell budget. */
            int64_t first = floor_div(now_ns, cfg->emit_ns) * cfg->emit_ns;
            int64_t reach = (floor_div(r->integrated_ns, cfg->step_ns) + cfg->max_cells) *
                            cfg->step_ns;
            int64_t to = reach < first ? reach : first;
            if (to > r->integrated_ns) {
                dcm_sim_integrate(&cfg->params, cfg->step_ns, r->integrated_ns, to,
                                  &r->counters);
                r->integrated_ns = to;
            }
            if (to < first)
                return 0; /* carried on by the next call */
            r->origin_ns = first;
        }
        sent += emit_all(r, r->origin_ns, fn, ud);
    }
    for (;;) {
        /* Far behind (a fast clock, or a start in the past): one sample a minute. */
        int64_t spacing = cfg->emit_ns;
        if (now_ns - r->last_ns > 5 * cfg->emit_ns && spacing < DCM_SIM_COARSE_NS)
            spacing = DCM_SIM_COARSE_NS;
        int64_t due = r->pending ? r->pending_ns
                                    : (floor_div(r->last_ns, spacing) + 1) * spacing;
        if (due > now_ns)
            break;
        if (sent > 0 && sent + r->point_count > cfg->max_samples)
            break;
        if (cells >= cfg->max_cells)
            break;
        /* Integrate toward the due time within the cell budget; an unfinished interval
         * is carried on by the next call. */
        int64_t reach = (floor_div(r->integrated_ns, cfg->step_ns) + (cfg->max_cells - cells)) *
                        cfg->step_ns;
        int64_t to = reach < due ? reach : due;
        cells += dcm_sim_integrate(&cfg->params, cfg->step_ns, r->integrated_ns, to,
                                   &r->counters);
        r->integrated_ns = to;
        if (to < due) {
            r->pending = true;
            r->pending_ns = due;
            break;
        }
        r->pending = false;
        sent += emit_all(r, due, fn, ud);
    }
    return sent;
}
