/*
 * sim_model.h - a deterministic model of a GPU data hall, used by the `sim` collector.
 *
 * Pure: every value is a function of (parameters, seed, simulated time t in UTC ns) and
 * nothing else. No globals, no I/O, no clock; the random jobs and the weather come from a
 * counter-based hash of (seed, what, where, when), so any instant can be evaluated in any
 * order and gives the same answer.
 *
 * The site (see docs/simulator.md): two halls of GPU nodes whose power follows their
 * utilisation; UPS and distribution losses on an efficiency curve; a chilled-water plant
 * whose COP follows the outdoor temperature (subtropical climate, seasonal and diurnal),
 * one CRAH group per hall, cooling towers that evaporate water; lighting and offices;
 * rooftop PV; a heat pump that lifts a share of the heat to district heating; a monthly
 * generator test (first Monday, 10:00-10:30 local time).
 *
 * Power is piecewise constant over cells of `step` (aligned on multiples of step since the
 * Unix epoch, value taken at the cell's midpoint). Integrating it is therefore exact: a
 * counter advanced from a to b holds the same energy however [a, b) is cut into calls,
 * and every balance that holds for the powers of a cell holds for the counters.
 */
#ifndef DCM_SIM_MODEL_H
#define DCM_SIM_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#define DCM_SIM_MAX_NODES 64
#define DCM_SIM_HALLS 2

typedef struct dcm_sim_params {
    uint64_t seed;
    double it_kw;          /* approximate long-run mean IT load of both halls, kW (> 0) */
    int nodes;             /* GPU nodes reporting utilisation, 2..DCM_SIM_MAX_NODES */
    int64_t utc_offset_ns; /* local time minus UTC (solar noon is near 12:00 local) */
    double pv_kwp;         /* rooftop PV peak power, kWp (>= 0) */
    double reuse_share;    /* share of the heat removed that the heat pump recovers, 0..0.5 */
    double fresh_share;    /* share of the make-up water that is freshwater, 0..1 */
    double latitude_deg;   /* for the sun's elevation, -66..66 */
} dcm_sim_params;

/* Fills the defaults: seed 1, 1200 kW, 8 nodes, UTC+8, 300 kWp, 10 % reuse, 60 % fresh,
 * latitude 23.0 (a Taiwan-like site). */
void dcm_sim_params_default(dcm_sim_params *p);

/* Returns NULL when p is usable, else a one-line reason naming the parameter. */
const char *dcm_sim_params_check(const dcm_sim_params *p);

/* Everything the model says about one instant. Powers in kW (thermal kW for heat), water
 * in m3/h, utilisation in % (0..100), temperature in degC. */
typedef struct dcm_sim_state {
    double outdoor_c;
    double chiller_cop;                /* 3..7 */
    double it_kw[DCM_SIM_HALLS];       /* hall-a, hall-b */
    double ups_loss_kw;                /* UPS and distribution losses */
    double chillers_kw;                /* compressors and chilled-water pumps */
    double crah_kw[DCM_SIM_HALLS];
    double towers_kw;
    double lighting_kw;                /* lighting, offices, security */
    double heatpump_kw;                /* electricity that only upgrades waste heat */
    double total_kw;                   /* sum of the above */
    double pv_kw;                      /* PV used inside the boundary (<= total) */
    double gen_kw;                     /* generator electrical output (monthly test) */
    double gen_fuel_kw;                /* diesel fuel burnt, kW of fuel energy */
    double grid_kw;                    /* total - pv - gen */
    double heat_removed_kw;            /* heat carried away by the chilled water (thermal) */
    double heat_reused_kw;             /* heat delivered to district heating (thermal) */
    double water_m3h;                  /* cooling-tower make-up: evaporation and blowdown */
    double fresh_m3h;                  /* its freshwater part */
    double gpu_util[DCM_SIM_MAX_NODES];
    double cpu_util[DCM_SIM_MAX_NODES];
} dcm_sim_state;

/* The model at instant t (not cell-averaged). p must pass dcm_sim_params_check. */
void dcm_sim_eval(const dcm_sim_params *p, int64_t t_ns, dcm_sim_state *out);

/* Running counters: kWh (thermal kWh for heat), m3. */
typedef struct dcm_sim_counters {
    double grid_kwh, pv_kwh, gen_kwh, gen_fuel_kwh, total_kwh;
    double it_kwh[DCM_SIM_HALLS];
    double ups_loss_kwh, chillers_kwh, crah_kwh[DCM_SIM_HALLS], towers_kwh;
    double lighting_kwh, heatpump_kwh;
    double heat_reused_kwh, heat_removed_kwh;
    double water_m3, fresh_m3;
} dcm_sim_counters;

/* Advances c over [from_ns, to_ns) with the model's power held constant over each cell of
 * step_ns (its value at the cell's midpoint). Does nothing if to_ns <= from_ns. Returns
 * the number of cells evaluated (the work done). step_ns > 0. */
int64_t dcm_sim_integrate(const dcm_sim_params *p, int64_t step_ns, int64_t from_ns,
                          int64_t to_ns, dcm_sim_counters *c);

/* Register readings at origin_ns, as if the meters had counted since
 * DCM_SIM_METERS_INSTALLED at the model's mean powers over a reference year (so that a
 * restarted simulation resumes with plausible, increasing registers). The readings keep
 * every balance of the model: grid + pv + gen == total, total == sum of its parts. */
#define DCM_SIM_METERS_INSTALLED INT64_C(1704067200000000000) /* 2024-01-01T00:00:00Z */
void dcm_sim_register_origin(const dcm_sim_params *p, int64_t origin_ns, dcm_sim_counters *c);

/* Whether the monthly generator test runs at t (first Monday of the local month,
 * 10:00-10:30 local time). */
bool dcm_sim_generator_test(const dcm_sim_params *p, int64_t t_ns);

#endif
