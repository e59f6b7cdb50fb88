/*
 * dcm/metrics.h - the dcmetrics KPI engine (ISO/IEC 30134: PUE, pPUE, WUE, CUE,
 * REF, ERF, ERE, CER, EnEfG PUE, ITEUsv).
 *
 * Pure C11: no I/O, no threads, no globals, no clock. Everything the engine needs
 * from the outside world (the site's civil time, the wall clock) is passed in.
 * It can be embedded in other programs: link libdcm_metrics and include this file.
 *
 * Units inside the engine (callers normalise at the edge):
 *   energy kWh (power kW), volume m3 (flow m3/h), utilisation % (0..100),
 *   thermal energy kWh (thermal power kW), time int64 nanoseconds since the Unix epoch, UTC.
 *
 * The rules implemented (see docs/kpi-method.md):
 *   - every KPI is a ratio of sums over the same window, never an average of ratios;
 *   - energy comes from counter deltas (wrap and reset told apart), from per-interval
 *     deltas, or from power by trapezoid integration up to a maximum gap; beyond the gap
 *     the energy is missing (lowers coverage), never invented;
 *   - a ratio whose denominator is zero or missing is null with quality INVALID:
 *     no NaN or Inf ever leaves this library.
 *
 * Layers, bottom up:
 *   1. integrator   one point's samples -> increments (amount over an interval)
 *   2. accumulators increments -> per point sums over a window -> role totals
 *   3. kpi          role totals -> KPI set (values, nulls, qualities)
 *   4. calendar     window boundaries in the site's civil time
 *   5. engine       streaming: samples in, KPI records out for every window kind
 */
#ifndef DCM_METRICS_H
#define DCM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DCM_METRICS_RULESET "dcm-kpi-2026.1" /* version of the KPI rules, carried in every record */

#define DCM_NS_PER_S  INT64_C(1000000000)
#define DCM_NS_PER_MIN (INT64_C(60) * DCM_NS_PER_S)
#define DCM_NS_PER_HOUR (INT64_C(3600) * DCM_NS_PER_S)

#define DCM_MAX_ZONES 16

typedef enum dcm_metrics_err {
    DCM_METRICS_OK = 0,
    DCM_METRICS_EINVAL,    /* an argument is out of range or inconsistent */
    DCM_METRICS_ENOMEM,    /* allocation failed; the engine is unchanged */
    DCM_METRICS_ELIMIT,    /* a fixed limit was reached (zones, points) */
} dcm_metrics_err;

const char *dcm_metrics_strerror(dcm_metrics_err err);

/* ---------------------------------------------------------------- basics */

/* How a point's value relates to time. */
typedef enum dcm_kind {
    DCM_KIND_GAUGE = 0, /* instantaneous: power kW, flow m3/h, utilisation %, temperature */
    DCM_KIND_COUNTER,   /* cumulative register: kWh, m3 (may wrap or reset) */
    DCM_KIND_DELTA,     /* consumption over the interval ending at the timestamp (a bill) */
} dcm_kind;

/* What a point measures, which decides how it is integrated. */
typedef enum dcm_quantity {
    DCM_QTY_ENERGY = 0,  /* electrical or fuel energy: kWh; gauge = kW */
    DCM_QTY_THERMAL,     /* heat removed / reused: kWh thermal; gauge = kW thermal */
    DCM_QTY_VOLUME,      /* water: m3; gauge = m3/h */
    DCM_QTY_UTILISATION, /* %: gauge only; integrated to %-hours for time-weighted means */
    DCM_QTY_OTHER,       /* temperature etc.: carried, never summed */
} dcm_quantity;

/* Trust in a value. Ordered: a combination takes the worst. */
typedef enum dcm_quality {
    DCM_QUALITY_OK = 0,  /* complete, measured */
    DCM_QUALITY_PARTIAL, /* coverage below the threshold, or part estimated */
    DCM_QUALITY_STALE,   /* the newest input is older than the stale limit (live values) */
    DCM_QUALITY_INVALID, /* no value: denominator zero or missing, or a bad reading */
} dcm_quality;

const char *dcm_quality_name(dcm_quality q); /* "ok", "partial", "stale", "invalid" */
const char *dcm_kind_name(dcm_kind k);       /* "gauge", "counter", "delta" */

/* KPI inputs. The site model maps point selectors to these roles. */
typedef enum dcm_role {
    DCM_ROLE_TOTAL = 0,        /* E_DC metered directly */
    DCM_ROLE_GRID,             /* grid import */
    DCM_ROLE_IT,               /* E_IT */
    DCM_ROLE_COOLING,          /* cooling system energy (CER denominator) */
    DCM_ROLE_FUEL,             /* fuel and generator energy, kWh */
    DCM_ROLE_ONSITE_RENEWABLE, /* on-site renewable generation used inside the boundary */
    DCM_ROLE_REUSED,           /* energy reused outside the data centre (ERF) */
    DCM_ROLE_HEAT_UPGRADE,     /* electricity used only to upgrade waste heat (EnEfG exclusion) */
    DCM_ROLE_COOLING_OUTPUT,   /* heat removed, kWh thermal (CER numerator) */
    DCM_ROLE_WATER,            /* site water input, m3 */
    DCM_ROLE_FRESHWATER,       /* freshwater (potable) input, m3 */
    DCM_ROLE_SERVERS,          /* server CPU utilisation points (ITEUsv) */
    DCM_ROLE_ACCELERATORS,     /* GPU/accelerator utilisation points */
    DCM_ROLE_IT_TELEMETRY,     /* IT energy measured by the machines themselves (GPU, CPU,
                                  node power): E_IT when params.it_from_telemetry, and the
                                  reconciliation against the `it` role otherwise */
    DCM_ROLE_COUNT
} dcm_role;

const char *dcm_role_name(dcm_role r); /* the config key: "total", "grid", "it", ... */
/* Returns the role for a config key, or -1. */
int dcm_role_from_name(const char *name);

#define DCM_ROLE_BIT(r) (UINT32_C(1) << (r))

/* A zone's part, for pPUE = (E_IT,zone + E_overhead,zone) / E_IT,zone. */
typedef enum dcm_zone_part { DCM_ZONE_NONE = 0, DCM_ZONE_IT, DCM_ZONE_OVERHEAD } dcm_zone_part;

/* ------------------------------------------------------- 1. integrator */

/* Static description of a point. Filled by the caller; never modified by the engine. */
typedef struct dcm_point_def {
    dcm_quantity quantity;
    dcm_kind kind;
    /* Counters: the register's range in normalised units (2^width x kWh per count);
     * 0 for float and 64-bit registers, which never wrap in practice. */
    double wrap_modulus;
    /* Plausibility: the largest rate the point can show (kW or m3/h); 0 = unknown.
     * Used to tell a wrap from a reset and to reject spikes. */
    double max_rate;
    /* Gauges: the longest interval bridged by trapezoid integration; beyond it the energy
     * is missing. Counters and deltas: beyond it the split in time is estimated.
     * 0 = default (5 minutes). */
    int64_t max_gap_ns;
    /* Delta points: length of the interval a first sample covers, when no earlier
     * sample exists; 0 = unknown (the first delta is then placed at its timestamp). */
    int64_t nominal_interval_ns;
    uint32_t roles;          /* DCM_ROLE_BIT() set */
    int16_t zone;            /* zone index, or -1 */
    uint8_t zone_part;       /* dcm_zone_part */
    /* Energy points only: report the point's energy in each window with its share of the
     * facility's energy and carbon (dcm_attribution in the window's record). */
    uint8_t attribute;
} dcm_point_def;

#define DCM_DEFAULT_MAX_GAP_NS (INT64_C(300) * DCM_NS_PER_S)

/* Corrections the integrator made; every one is reported in the increment. */
typedef enum dcm_correction {
    DCM_CORR_NONE = 0,
    DCM_CORR_WRAP,      /* counter passed its modulus: delta = modulus - prev + cur */
    DCM_CORR_RESET,     /* counter restarted from zero (device restart, replacement): delta = cur */
    DCM_CORR_BACKWARDS, /* counter went down without a plausible wrap or reset: sample ignored */
    DCM_CORR_SPIKE,     /* increase above max_rate x dt: sample ignored */
    DCM_CORR_GAP,       /* gauge gap above max_gap: interval missing */
    DCM_CORR_ORDER,     /* timestamp not after the previous one: sample ignored */
} dcm_correction;

const char *dcm_correction_name(dcm_correction c);

/* Increment flags. */
#define DCM_INC_ESTIMATED 0x01u /* the amount is right but its split in time is estimated
                                   (counter/delta interval longer than max_gap) */
#define DCM_INC_DERIVED   0x02u /* integrated from gauge samples (power, flow) */
#define DCM_INC_MISSING   0x04u /* no amount is known for the interval (coverage gap) */

/* An amount over the interval (t0, t1]. t0 == t1 means "at t1" (delta with no known start). */
typedef struct dcm_increment {
    int64_t t0_ns;
    int64_t t1_ns;
    double amount;      /* kWh, m3, or %-hours for utilisation */
    uint8_t flags;      /* DCM_INC_* */
    uint8_t correction; /* dcm_correction */
} dcm_increment;

/* Running state of one point. Zero-initialise (or dcm_point_state_init) before first use. */
typedef struct dcm_point_state {
    int64_t last_ts_ns; /* timestamp of the last accepted sample; 0 = none */
    double last_value;  /* last accepted raw value (counter reading, gauge value) */
    double rate;        /* latest rate: kW, m3/h or % (gauges: value; counters: delta/dt) */
} dcm_point_state;

void dcm_point_state_init(dcm_point_state *st);

/* Feeds one sample. Returns true and fills *out when the sample closes an interval
 * (also for a MISSING interval or a correction); false for the first sample of a point
 * and for samples ignored without an interval (out->correction still says why).
 * Never produces NaN/Inf: non-finite values are ignored (returns false, DCM_CORR_SPIKE). */
bool dcm_integrator_feed(const dcm_point_def *def, dcm_point_state *st, int64_t ts_ns,
                         double value, dcm_increment *out);

/* ----------------------------------------------------- 2. accumulators */

/* One point's sums over one window [start, end). */
typedef struct dcm_point_acc {
    double amount;     /* kWh, m3, or %-hours */
    double estimated;  /* part of amount flagged ESTIMATED */
    double covered_s;  /* seconds of the window with a known amount */
    uint32_t samples;  /* increments that touched the window */
    uint32_t corrections;
} dcm_point_acc;

/* Adds the part of inc that lies in [start, end), pro rata by time. A zero-length
 * increment counts wholly in the window where start < t1 <= end. Returns the share
 * (0..1) of the increment that was added. */
double dcm_point_acc_add(dcm_point_acc *acc, int64_t start_ns, int64_t end_ns,
                         const dcm_increment *inc);

/* One role's totals over a window. */
typedef struct dcm_role_sum {
    double amount;     /* kWh / m3; utilisation roles: sum over points of each point's mean % */
    double estimated;  /* estimated part of amount */
    double derived;    /* part integrated from power/flow */
    double covered_s;  /* sum over the role's points of covered seconds */
    double expected_s; /* sum over the role's points of the window's seconds */
    uint32_t points;   /* points mapped to the role (utilisation: points with data) */
    uint32_t corrections;
} dcm_role_sum;

/* Contractual instruments in force over a window, kWh (already pro-rated to it). */
typedef struct dcm_instruments {
    double certificates_kwh; /* retired GOs / RECs */
    double ppa_kwh;          /* renewable supply contracts */
} dcm_instruments;

typedef struct dcm_totals {
    int64_t start_ns, end_ns;
    dcm_role_sum role[DCM_ROLE_COUNT];
    uint32_t zone_count;
    dcm_role_sum zone_it[DCM_MAX_ZONES];
    dcm_role_sum zone_overhead[DCM_MAX_ZONES];
    dcm_instruments instruments;
} dcm_totals;

void dcm_totals_init(dcm_totals *t, int64_t start_ns, int64_t end_ns, uint32_t zone_count);

/* Adds one point's window sums to every role and zone of def. Utilisation points add
 * their time-weighted mean (amount / covered hours) when they have coverage. */
void dcm_totals_fold_point(dcm_totals *t, const dcm_point_def *def, const dcm_point_acc *acc);

/* Adds b's sums to a (consecutive windows into a longer one). Utilisation roles are
 * combined as a time-weighted mean of the two windows' values. end becomes max(end). */
void dcm_totals_merge(dcm_totals *a, const dcm_totals *b);

/* ------------------------------------------------------------- 3. kpi */

/* A value that may be null. has_value false => value is 0 and quality INVALID. */
typedef struct dcm_opt {
    double value;
    bool has_value;
    dcm_quality quality;
} dcm_opt;

typedef struct dcm_carbon {
    double location_factor; bool has_location; /* kgCO2e/kWh, grid average */
    double market_factor;   bool has_market;   /* kgCO2e/kWh, supplier or residual mix */
    double fuel_factor;     /* kgCO2e/kWh of fuel energy, both methods */
} dcm_carbon;

typedef struct dcm_kpi_params {
    dcm_carbon carbon;
    int pue_category;        /* 1, 2, 3; 0 = not declared */
    double coverage_ok;      /* below this a value is PARTIAL; 0 = default 0.95 */
    bool onsite_attributes_retained; /* on-site renewable counts in REF */
    /* E_IT from the machines' own telemetry (role it_telemetry) plus a declared baseline
     * for what they do not measure (fans, disks, NICs...): baseline kW x the hours the
     * telemetry covers. false: E_IT is the `it` role (PDUs, UPS output). */
    bool it_from_telemetry;
    double it_baseline_kw;
} dcm_kpi_params;

typedef struct dcm_kpi_set {
    dcm_opt pue, dcie, wue, wue_fresh, cue_location, cue_market, ref, erf, ere, cer,
        pue_enefg, iteu_sv, accel_util;
    dcm_opt ppue[DCM_MAX_ZONES];
    /* Derived inputs, carried so every figure can be traced. */
    dcm_opt e_dc_kwh;      /* total if metered, else grid + onsite_renewable + fuel */
    dcm_opt grid_kwh;      /* grid if metered, else total - onsite_renewable - fuel */
    dcm_opt co2_location_kg, co2_market_kg;
    dcm_opt renewable_kwh; /* on-site (if retained) + certificates + PPAs, capped at E_DC */
    /* IT energy by telemetry (it_telemetry role + baseline), and its ratio to the `it`
     * role's (PDU-measured) energy: null when either side is missing. A ratio drifting away
     * from 1 says the telemetry model (or the baseline) no longer matches the meters. */
    dcm_opt it_telemetry_kwh, it_reconciliation;
    double coverage;        /* lowest coverage among the inputs the KPIs used (0..1) */
    double estimated_share; /* estimated kWh / E_DC kWh (0..1) */
    dcm_quality quality;    /* worst quality among PUE's inputs, or of all values if no PUE */
} dcm_kpi_set;

/* Computes every KPI from a window's totals. Same function for energies (kWh) and for
 * powers (kW, instantaneous ratios): the formulas are ratios of like quantities. */
void dcm_kpi_compute(const dcm_totals *t, const dcm_kpi_params *p, dcm_kpi_set *out);

/* One point's share of the facility: its energy over a window, that energy times the
 * window's PUE (the facility energy it stands for) and times the window's CUE (its carbon,
 * location- and market-based; on a grid-only site this is facility energy x the factor).
 * Null values where the window has no PUE / CUE. */
typedef struct dcm_attribution {
    uint32_t point;          /* engine point id */
    double energy_kwh;       /* the point's energy over the window */
    double coverage;         /* share of the window the point's data covers (0..1) */
    dcm_opt facility_kwh;
    dcm_opt co2_location_kg;
    dcm_opt co2_market_kg;
} dcm_attribution;

/* Attributes energy_kwh (with its coverage) using the window's KPI set. A value is
 * PARTIAL when coverage < coverage_ok (0 = 0.95) and never better than the KPI it uses. */
void dcm_attribute(uint32_t point, double energy_kwh, double coverage, double coverage_ok,
                   const dcm_kpi_set *kpi, dcm_attribution *out);

/* Coverage of one role in 0..1 (covered / expected; 0 when expected is 0). */
double dcm_role_coverage(const dcm_role_sum *r);

/* --------------------------------------------------------- 4. calendar */

typedef enum dcm_window {
    DCM_WINDOW_INSTANT = 0, /* power ratios from the latest samples */
    DCM_WINDOW_1M,
    DCM_WINDOW_15M,
    DCM_WINDOW_1H,
    DCM_WINDOW_1D,
    DCM_WINDOW_MONTH, /* calendar month in the site's time zone */
    DCM_WINDOW_YEAR,  /* calendar year in the site's time zone */
    DCM_WINDOW_TTM,   /* trailing twelve calendar months, emitted at each month's close */
    DCM_WINDOW_COUNT
} dcm_window;

const char *dcm_window_name(dcm_window w); /* "instant", "1m", "15m", "1h", "1d", "month", "year", "ttm" */
int dcm_window_from_name(const char *name); /* -1 if unknown */

/* The site's civil time: returns the offset (seconds east of UTC) in force at the UTC
 * instant t_s. The agent implements it with the C library's zone data; tests use
 * fixed offsets or hand-made rules. NULL fn = UTC. */
typedef struct dcm_calendar {
    int32_t (*utc_offset_s)(void *ctx, int64_t t_utc_s);
    void *ctx;
} dcm_calendar;

/* Start of the window of kind w that contains t (UTC ns). Local midnight, month and year
 * starts honour daylight saving changes (a day may last 23 or 25 hours). INSTANT and TTM
 * are not calendar windows: they return t. */
int64_t dcm_calendar_floor(const dcm_calendar *cal, dcm_window w, int64_t t_ns);
/* End of the window that contains t (= start of the next one). */
int64_t dcm_calendar_next(const dcm_calendar *cal, dcm_window w, int64_t t_ns);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12; out-of-range months
 * and days carry over), and back. */
int64_t dcm_days_from_civil(int64_t year, int month, int day);
void dcm_civil_from_days(int64_t days, int64_t *year, int *month, int *day);

/* Civil date/time <-> UTC in the site zone. Months 1..12. For a local time that does not
 * exist (spring forward) the later offset is used; for one that occurs twice, the first. */
int64_t dcm_calendar_local_to_utc(const dcm_calendar *cal, int year, int month, int day,
                                  int hour, int minute, int second);
void dcm_calendar_utc_to_local(const dcm_calendar *cal, int64_t t_ns, int *year, int *month,
                               int *day, int *hour, int *minute, int *second);

/* ----------------------------------------------------------- 5. engine */

typedef struct dcm_engine dcm_engine;

/* Retired instruments for a period; the engine pro-rates them by time to each window. */
typedef struct dcm_instrument_period {
    int64_t start_ns, end_ns;
    double kwh;
    bool is_ppa; /* false = certificates (GO/REC) */
} dcm_instrument_period;

/* One KPI record, for one window. Valid only during the callback. */
typedef struct dcm_kpi_record {
    dcm_window window;
    int64_t start_ns, end_ns;  /* [start, end); INSTANT: start == end == now */
    bool interim;              /* true for a window still open (dcm_engine_peek) */
    const dcm_totals *totals;  /* kWh/m3 (INSTANT: kW and m3/h) per role and zone */
    const dcm_kpi_set *kpi;
    int pue_category;
    const char *ruleset;       /* DCM_METRICS_RULESET */
    /* Points with def.attribute, in point id order (windows 1m to year; none for instant
     * and ttm). */
    const dcm_attribution *attribution;
    size_t attribution_count;
    /* Point ids by engine point id, for printing attributions: NULL from the engine; a
     * caller that knows the names sets it on a copy of the record. */
    const char *const *point_names;
} dcm_kpi_record;

typedef void (*dcm_record_fn)(void *ctx, const dcm_kpi_record *rec);

/* Called for every point at each minute's close with its final sums for [start, end),
 * the partial sums so far of the next minute [end, end + 1 min) that is still open, and
 * the integrator state at that moment. Persisting all three together is crash-safe:
 * every amount before st->last_ts_ns is in `closed` or `open_partial`, and the next
 * counter delta after a restart starts exactly at st->last_ts_ns (no double counting,
 * nothing lost). Points with no sample in the minute are reported too (acc all zero). */
typedef void (*dcm_point_minute_fn)(void *ctx, uint32_t id, int64_t start_ns, int64_t end_ns,
                                    const dcm_point_acc *closed,
                                    const dcm_point_acc *open_partial,
                                    const dcm_point_state *st);

/* Called from dcm_engine_feed for every correction the integrator makes (wrap, reset,
 * backwards, spike, gap, order): the audit trail. applied is true when the increment was
 * integrated (wrap, reset, gap), false when the sample was ignored. */
typedef void (*dcm_correction_fn)(void *ctx, uint32_t id, const dcm_increment *inc,
                                  bool applied);

typedef struct dcm_engine_config {
    dcm_calendar calendar;
    dcm_kpi_params params;
    uint32_t zone_count;
    /* A minute stays open this long after its end for late samples (0 = 5 s, < 60 s). */
    int64_t grace_ns;
    /* Live values older than this are STALE (0 = 3 x 60 s). */
    int64_t stale_after_ns;
    uint32_t windows;          /* bitmask of (1u << dcm_window) to emit; 0 = all */
    const dcm_instrument_period *instruments; /* copied at create */
    size_t instrument_count;
    dcm_record_fn on_record;   /* called for every closed window (may be NULL) */
    void *on_record_ctx;
    dcm_point_minute_fn on_point_minute; /* may be NULL */
    void *on_point_minute_ctx;
    dcm_correction_fn on_correction;     /* may be NULL */
    void *on_correction_ctx;
} dcm_engine_config;

dcm_metrics_err dcm_engine_create(const dcm_engine_config *cfg, dcm_engine **out);
void dcm_engine_destroy(dcm_engine *e);

/* Adds a point; its id (0, 1, 2, ... in order of addition) is written to *id. */
dcm_metrics_err dcm_engine_add_point(dcm_engine *e, const dcm_point_def *def, uint32_t *id);
size_t dcm_engine_point_count(const dcm_engine *e);

/* Feeds one sample. The hot path: no allocation. Samples may arrive up to grace_ns late
 * for a minute; later ones are added to the oldest open minute and counted as estimated.
 * A sample whose timestamp is past the open minutes first closes what must close
 * (records are emitted from inside this call). Bad quality samples are not integrated
 * but keep the point's staleness honest. Returns false if the sample was ignored. */
bool dcm_engine_feed(dcm_engine *e, uint32_t id, int64_t ts_ns, double value, dcm_quality q);

/* Moves the engine's clock to now: closes minutes whose end + grace <= now and every
 * coarser window ending with them, emitting records. Call about once a second. */
void dcm_engine_advance(dcm_engine *e, int64_t now_ns);

/* Interim record for the open window of kind w (month-to-date, year-to-date, ...), or
 * the instantaneous ratios for DCM_WINDOW_INSTANT. Calls fn once. */
void dcm_engine_peek(dcm_engine *e, dcm_window w, int64_t now_ns, dcm_record_fn fn, void *ctx);

/* Restores a closed calendar month's totals (from the ledger after a restart) so the
 * TTM window covers months before this process started. */
dcm_metrics_err dcm_engine_seed_month(dcm_engine *e, const dcm_totals *month);

/* Restores a point's integrator state saved before a restart: the next counter reading
 * then yields the delta over the whole downtime (no double counting, nothing lost); the
 * part of it before the open minutes is attributed to the oldest open minute, estimated. */
dcm_metrics_err dcm_engine_restore_point(dcm_engine *e, uint32_t id, const dcm_point_state *st);

/* Adds history to the open windows after a restart: a point's sums over [start, end)
 * (from the ledger) go into every open calendar window that contains that span, or into
 * the open minute that contains it (a minute the previous process left partial). The
 * engine must have started (dcm_engine_advance once); spans before the open windows are
 * ignored, spans that straddle an open minute's boundary are refused (EINVAL). Cut the
 * history at window boundaries: year, month, day, hour, quarter, then the open minutes. */
dcm_metrics_err dcm_engine_seed_point(dcm_engine *e, uint32_t id, int64_t start_ns,
                                      int64_t end_ns, const dcm_point_acc *acc);

/* Start of the oldest open minute (0 before the engine has started). */
int64_t dcm_engine_open_start(const dcm_engine *e);

/* Latest state of a point (for snapshots); NULL if id is unknown. */
const dcm_point_state *dcm_engine_point_state(const dcm_engine *e, uint32_t id);

/* Bytes of state held per point (for the benchmark's memory figure). */
size_t dcm_engine_bytes_per_point(const dcm_engine *e);

#ifdef __cplusplus
}
#endif
#endif /* DCM_METRICS_H */
