/*
 * sim_model.c - the simulated data hall: pure functions of (parameters, seed, time).
 *
 * Constants are plausible figures for an air-cooled GPU hall on a chilled-water plant with
 * open cooling towers in a subtropical climate; docs/simulator.md lists them.
 */
#include "sim_model.h"

#include <math.h>
#include <stddef.h>

#include "timestamp.h"

#define NS_PER_S INT64_C(1000000000)
#define NS_PER_DAY (INT64_C(86400) * NS_PER_S)
#define NS_PER_HOUR_D 3.6e12
#define TWO_PI 6.283185307179586
#define DEG 0.017453292519943295
#define DAYS_PER_YEAR 365.2425

/* Hall shares of the IT load, and the node power curve: an idle GPU node draws about
 * 42 % of its peak. IT_NORM is the curve's long-run mean (mean utilisation about 53 %), so
 * that it_kw is the mean IT load. */
static const double hall_share[DCM_SIM_HALLS] = {0.55, 0.45};
#define IT_IDLE 0.42
#define IT_NORM 0.729

#define JOB_SLOT_NS (INT64_C(20) * 60 * NS_PER_S)
#define RIPPLE_NS (INT64_C(420) * NS_PER_S)

#define HEATPUMP_COP 3.5 /* heating COP, delivering about 65 degC to district heating */
#define GEN_SHARE 0.4    /* share of the load moved to the generator during its test */
#define GEN_EFFICIENCY 0.36
#define WATER_KWH_PER_M3 628.0 /* latent heat of evaporation: 0.628 kWh per kg */
#define CYCLES_OF_CONCENTRATION 4.0

/* Tags that keep the hash streams apart. */
enum { H_JOB = 1, H_JOB_LEVEL, H_RIPPLE, H_CPU, H_WEATHER, H_CLEAR, H_SHOWER };

void dcm_sim_params_default(dcm_sim_params *p)
{
    p->seed = 1;
    p->it_kw = 1200.0;
    p->nodes = 8;
    p->utc_offset_ns = INT64_C(8) * 3600 * NS_PER_S;
    p->pv_kwp = 300.0;
    p->reuse_share = 0.10;
    p->fresh_share = 0.60;
    p->latitude_deg = 23.0;
}

const char *dcm_sim_params_check(const dcm_sim_params *p)
{
    if (!(p->it_kw > 0 && p->it_kw <= 1e6))
        return "it_kw must be in (0, 1000000] kW";
    if (p->nodes < 2 || p->nodes > DCM_SIM_MAX_NODES)
        return "nodes must be between 2 and 64";
    if (p->utc_offset_ns < -INT64_C(14) * 3600 * NS_PER_S ||
        p->utc_offset_ns > INT64_C(14) * 3600 * NS_PER_S)
        return "utc_offset must be within -14h..+14h";
    if (!(p->pv_kwp >= 0 && p->pv_kwp <= 1e6))
        return "pv_kwp must be in [0, 1000000] kWp";
    if (!(p->reuse_share >= 0 && p->reuse_share <= 0.5))
        return "reuse_share must be in [0, 0.5]";
    if (!(p->fresh_share >= 0 && p->fresh_share <= 1))
        return "fresh_share must be in [0, 1]";
    if (!(p->latitude_deg >= -66 && p->latitude_deg <= 66))
        return "latitude must be in [-66, 66] degrees";
    return NULL;
}

/* ------------------------------------------------------------ randomness */

/* splitmix64's finaliser: a strong 64-bit mixer, so hashing coordinates gives
 * independent-looking streams without any generator state. */
static uint64_t mix64(uint64_t z)
{
    z += UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) for the coordinates (what, a, b). */
static double uhash(uint64_t seed, uint64_t what, int64_t a, int64_t b)
{
    uint64_t h = mix64(seed ^ mix64(what ^ mix64((uint64_t)a ^ mix64((uint64_t)b))));
    return (double)(h >> 11) * 0x1.0p-53;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

/* ------------------------------------------------------------ local time */

typedef struct local_time {
    int64_t day;     /* local days since 1970-01-01 */
    double days;     /* the same, fractional */
    double hour;     /* 0..24 */
    int weekday;     /* 0 = Sunday */
    int mday;        /* day of month, 1..31 */
} local_time;

static void local_time_at(const dcm_sim_params *p, int64_t t_ns, local_time *lt)
{
    int64_t local = t_ns + p->utc_offset_ns;
    lt->day = floor_div(local, NS_PER_DAY);
    int64_t in_day = local - lt->day * NS_PER_DAY;
    lt->hour = (double)in_day / NS_PER_HOUR_D;
    lt->days = (double)lt->day + (double)in_day / (double)NS_PER_DAY;
    lt->weekday = (int)(((lt->day % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    int64_t year;
    int month;
    dcm_civil_from_days(lt->day, &year, &month, &lt->mday);
}

/* ---------------------------------------------------------------- weather */

/* Outdoor dry-bulb temperature: a seasonal cycle (coldest around 20 January), a diurnal
 * cycle (warmest mid-afternoon) and a day-to-day weather offset interpolated between
 * local noons so that it stays continuous. */
static double outdoor_temperature(const dcm_sim_params *p, const local_time *lt)
{
    double season = -5.8 * cos(TWO_PI * (lt->days - 19.0) / DAYS_PER_YEAR);
    double diurnal = 3.5 * cos(TWO_PI * (lt->hour - 14.5) / 24.0);
    double x = lt->days - 0.5;
    double d0 = floor(x);
    double f = x - d0;
    double w0 = 4.0 * (uhash(p->seed, H_WEATHER, (int64_t)d0, 0) - 0.5);
    double w1 = 4.0 * (uhash(p->seed, H_WEATHER, (int64_t)d0 + 1, 0) - 0.5);
    return 23.8 + season + diurnal + w0 + (w1 - w0) * f;
}

/* Rooftop PV output, kW: the sun's elevation from the declination and the hour angle
 * (solar noon taken at 12:00 local), a daily clearness, summer afternoon showers, and the
 * usual loss of output when the modules are hot. */
static double pv_power(const dcm_sim_params *p, const local_time *lt, double outdoor_c)
{
    if (p->pv_kwp <= 0)
        return 0;
    double decl = 23.44 * DEG * sin(TWO_PI * (lt->days - 79.0) / DAYS_PER_YEAR);
    double lat = p->latitude_deg * DEG;
    double hour_angle = 15.0 * DEG * (lt->hour - 12.0);
    double sin_alt = sin(lat) * sin(decl) + cos(lat) * cos(decl) * cos(hour_angle);
    if (sin_alt <= 0)
        return 0;
    double clear = 0.45 + 0.5 * uhash(p->seed, H_CLEAR, lt->day, 0);
    /* Wet season (May to September in the northern subtropics): afternoon showers. */
    double wet = -cos(TWO_PI * (lt->days - 19.0) / DAYS_PER_YEAR);
    if (lt->hour >= 13.0 && wet > 0 && uhash(p->seed, H_SHOWER, lt->day, 0) < 0.6 * wet)
        clear *= 0.45;
    double cell_c = outdoor_c + 25.0 * sin_alt;
    double heat_loss = 1.0 - 0.004 * (cell_c > 25.0 ? cell_c - 25.0 : 0.0);
    return p->pv_kwp * 0.82 * clear * pow(sin_alt, 1.15) * heat_loss;
}

/* The generator's monthly test run: first Monday of the month, 10:00-10:30 local. */
static bool generator_test_at(const local_time *lt)
{
    return lt->weekday == 1 && lt->mday <= 7 && lt->hour >= 10.0 && lt->hour < 10.5;
}

bool dcm_sim_generator_test(const dcm_sim_params *p, int64_t t_ns)
{
    local_time lt;
    local_time_at(p, t_ns, &lt);
    return generator_test_at(&lt);
}

/* ---------------------------------------------------------------- IT load */

/* Share of nodes busy with jobs: higher in the afternoon, lower at weekends. */
static double job_demand(const local_time *lt)
{
    double d = 0.60 + 0.10 * cos(TWO_PI * (lt->hour - 15.0) / 24.0);
    if (lt->weekday == 0 || lt->weekday == 6)
        d -= 0.08;
    return d;
}

/* Node i's GPU utilisation: in every 20-minute slot the node either runs a job (72-98 %,
 * with the ripple of a training loop's checkpoints) or idles (3-17 %). */
static double gpu_utilisation(const dcm_sim_params *p, int i, int64_t t_ns, double demand)
{
    int64_t slot = floor_div(t_ns, JOB_SLOT_NS);
    bool busy = uhash(p->seed, H_JOB, i, slot) < demand;
    double level = uhash(p->seed, H_JOB_LEVEL, i, slot);
    if (!busy)
        return 3.0 + 14.0 * level;
    int64_t in_ripple = t_ns - floor_div(t_ns, RIPPLE_NS) * RIPPLE_NS;
    double phase = TWO_PI * ((double)in_ripple / (double)RIPPLE_NS +
                             uhash(p->seed, H_RIPPLE, i, 0));
    return clamp(72.0 + 26.0 * level + 3.0 * sin(phase), 0.0, 100.0);
}

/* The host CPU follows the GPUs it feeds (data loading), with some noise of its own. */
static double cpu_utilisation(const dcm_sim_params *p, int i, int64_t t_ns, double gpu)
{
    int64_t slot = floor_div(t_ns, JOB_SLOT_NS);
    return clamp(8.0 + 0.35 * gpu + 10.0 * uhash(p->seed, H_CPU, i, slot), 0.0, 100.0);
}

/* First node of hall h (hall-a gets the odd one). */
static int hall_first(const dcm_sim_params *p, int h) { return h == 0 ? 0 : (p->nodes + 1) / 2; }

/* ------------------------------------------------------------------ model */

void dcm_sim_eval(const dcm_sim_params *p, int64_t t_ns, dcm_sim_state *s)
{
    local_time lt;
    local_time_at(p, t_ns, &lt);
    double demand = job_demand(&lt);

    s->outdoor_c = outdoor_temperature(p, &lt);
    for (int i = 0; i < DCM_SIM_MAX_NODES; i++) {
        if (i < p->nodes) {
            s->gpu_util[i] = gpu_utilisation(p, i, t_ns, demand);
            s->cpu_util[i] = cpu_utilisation(p, i, t_ns, s->gpu_util[i]);
        } else {
            s->gpu_util[i] = 0;
            s->cpu_util[i] = 0;
        }
    }

    double it = 0, ups = 0, crah = 0;
    for (int h = 0; h < DCM_SIM_HALLS; h++) {
        int first = hall_first(p, h), last = h == 0 ? hall_first(p, 1) : p->nodes;
        double u = 0;
        for (int i = first; i < last; i++)
            u += s->gpu_util[i];
        u /= (double)(last - first) * 100.0;
        double share_kw = hall_share[h] * p->it_kw;
        s->it_kw[h] = share_kw / IT_NORM * (IT_IDLE + (1.0 - IT_IDLE) * u);
        /* Double-conversion UPS sized at 1.6x the hall's mean load: fixed, linear and
         * quadratic losses (about 96.5 % efficient at half load), plus 1.5 % for
         * transformers and PDUs. */
        double rated = 1.6 * share_kw;
        double x = s->it_kw[h] / rated;
        ups += rated * (0.006 + 0.010 * x + 0.020 * x * x) + 0.015 * s->it_kw[h];
        /* CRAH fans: a base speed plus airflow that follows the heat. */
        s->crah_kw[h] = 0.006 * share_kw + 0.03 * s->it_kw[h];
        it += s->it_kw[h];
        crah += s->crah_kw[h];
    }
    s->ups_loss_kw = ups;

    bool office = lt.weekday >= 1 && lt.weekday <= 5 && lt.hour >= 7.0 && lt.hour < 19.0;
    s->lighting_kw = p->it_kw * (0.010 + (office ? 0.006 : 0.0));

    /* Every watt spent inside the building ends up as heat in the chilled water. */
    double q = it + ups + crah + s->lighting_kw;
    double recovered = p->reuse_share * q;
    s->heatpump_kw = recovered / (HEATPUMP_COP - 1.0);
    s->heat_reused_kw = recovered + s->heatpump_kw;
    s->heat_removed_kw = q;

    /* Water-cooled chillers: COP falls as the condenser water warms with the weather. */
    double cop = clamp(8.6 - 0.14 * s->outdoor_c, 3.0, 7.0);
    s->chiller_cop = cop;
    double chiller_load = q - recovered;
    double compressor = chiller_load / cop;
    s->chillers_kw = compressor + 0.02 * q; /* plus chilled-water pumps */
    double rejected = chiller_load + compressor;
    s->towers_kw = rejected * (0.008 + 0.0005 * (s->outdoor_c > 18.0 ? s->outdoor_c - 18.0 : 0.0));

    /* Open towers evaporate most of the heat; blowdown keeps the cycles of concentration. */
    double evaporative = clamp(0.75 + 0.01 * (s->outdoor_c - 24.0), 0.6, 0.9);
    double evaporated = rejected * evaporative / WATER_KWH_PER_M3;
    s->water_m3h = evaporated * CYCLES_OF_CONCENTRATION / (CYCLES_OF_CONCENTRATION - 1.0);
    s->fresh_m3h = s->water_m3h * p->fresh_share;

    s->total_kw = it + ups + s->chillers_kw + crah + s->towers_kw + s->lighting_kw +
                  s->heatpump_kw;

    /* Surplus PV would be exported: only what the site uses counts inside the boundary. */
    double pv = pv_power(p, &lt, s->outdoor_c);
    s->pv_kw = pv < s->total_kw ? pv : s->total_kw;
    s->gen_kw = generator_test_at(&lt) ? GEN_SHARE * (s->total_kw - s->pv_kw) : 0.0;
    s->gen_fuel_kw = s->gen_kw / GEN_EFFICIENCY;
    s->grid_kw = s->total_kw - s->pv_kw - s->gen_kw;
}

/* ------------------------------------------------------------ integration */

static void accumulate(dcm_sim_counters *c, const dcm_sim_state *s, double hours)
{
    c->grid_kwh += s->grid_kw * hours;
    c->pv_kwh += s->pv_kw * hours;
    c->gen_kwh += s->gen_kw * hours;
    c->gen_fuel_kwh += s->gen_fuel_kw * hours;
    c->total_kwh += s->total_kw * hours;
    for (int h = 0; h < DCM_SIM_HALLS; h++) {
        c->it_kwh[h] += s->it_kw[h] * hours;
        c->crah_kwh[h] += s->crah_kw[h] * hours;
    }
    c->ups_loss_kwh += s->ups_loss_kw * hours;
    c->chillers_kwh += s->chillers_kw * hours;
    c->towers_kwh += s->towers_kw * hours;
    c->lighting_kwh += s->lighting_kw * hours;
    c->heatpump_kwh += s->heatpump_kw * hours;
    c->heat_reused_kwh += s->heat_reused_kw * hours;
    c->heat_removed_kwh += s->heat_removed_kw * hours;
    c->water_m3 += s->water_m3h * hours;
    c->fresh_m3 += s->fresh_m3h * hours;
}

int64_t dcm_sim_integrate(const dcm_sim_params *p, int64_t step_ns, int64_t from_ns,
                          int64_t to_ns, dcm_sim_counters *c)
{
    int64_t cells = 0;
    dcm_sim_state s;
    int64_t cell = floor_div(from_ns, step_ns) * step_ns;
    int64_t at = from_ns;
    while (at < to_ns) {
        int64_t end = cell + step_ns;
        int64_t seg_end = end < to_ns ? end : to_ns;
        dcm_sim_eval(p, cell + step_ns / 2, &s);
        accumulate(c, &s, (double)(seg_end - at) / NS_PER_HOUR_D);
        cells++;
        at = seg_end;
        cell = end;
    }
    return cells;
}

void dcm_sim_register_origin(const dcm_sim_params *p, int64_t origin_ns, dcm_sim_counters *c)
{
    /* Mean powers over a reference year (2025), sampled hourly. */
    const int64_t year_start = INT64_C(1735689600) * NS_PER_S;
    const int hours = 8760;
    dcm_sim_counters mean = {0};
    dcm_sim_state s;
    for (int h = 0; h < hours; h++) {
        dcm_sim_eval(p, year_start + (int64_t)h * 3600 * NS_PER_S + 1800 * NS_PER_S, &s);
        accumulate(&mean, &s, 1.0 / hours);
    }
    double since = origin_ns > DCM_SIM_METERS_INSTALLED
                       ? (double)(origin_ns - DCM_SIM_METERS_INSTALLED) / NS_PER_HOUR_D
                       : 0.0;
    *c = (dcm_sim_counters){0};
    /* Scaling the means scales every balance with them. */
    c->grid_kwh = mean.grid_kwh * since;
    c->pv_kwh = mean.pv_kwh * since;
    c->gen_kwh = mean.gen_kwh * since;
    c->gen_fuel_kwh = mean.gen_fuel_kwh * since;
    c->total_kwh = mean.total_kwh * since;
    for (int h = 0; h < DCM_SIM_HALLS; h++) {
        c->it_kwh[h] = mean.it_kwh[h] * since;
        c->crah_kwh[h] = mean.crah_kwh[h] * since;
    }
    c->ups_loss_kwh = mean.ups_loss_kwh * since;
    c->chillers_kwh = mean.chillers_kwh * since;
    c->towers_kwh = mean.towers_kwh * since;
    c->lighting_kwh = mean.lighting_kwh * since;
    c->heatpump_kwh = mean.heatpump_kwh * since;
    c->heat_reused_kwh = mean.heat_reused_kwh * since;
    c->heat_removed_kwh = mean.heat_removed_kwh * since;
    c->water_m3 = mean.water_m3 * since;
    c->fresh_m3 = mean.fresh_m3 * since;
}
