/*
 * pipeline.c - the pipeline thread and the runtime that assembles clock, points, bus,
 * scheduler, engine and ledger.
 *
 * The pipeline thread alone touches the engine and the ledger. Each loop it drains the
 * bus, feeds the engine, advances the engine's clock, and commits what closed in one
 * ledger transaction. What it commits is crash-consistent: closed minutes, the partial
 * sums of the open minute and every point's integrator state go in together, so after a
 * kill -9 the next counter delta resumes exactly where the ledger stopped.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attribution_points.h"
#include "grow.h"
#include "ledger.h"
#include "runtime.h"
#include "scheduler.h"
#include "site.h"

#define DCM_POP_MAX 8192
#define DCM_ADVANCE_EVERY_NS (200 * 1000000LL)
#define DCM_INTERIM_EVERY_NS (1000 * 1000000LL)
#define DCM_ROLLUP_EVERY_NS (INT64_C(300) * DCM_NS_PER_S)

typedef struct pending_minute {
    int64_t ledger_key; /* copy owned by the pipeline thread: the registry may grow */
    bool dirty;
    int64_t open_start_ns;
    dcm_point_acc open_partial;
    dcm_point_state state;
} pending_minute;

struct dcm_runtime {
    dcm_runtime_options opt;
    const dcm_config *cfg;
    dcm_clock clock;
    dcm_calendar calendar;
    dcm_points points;
    bool points_ready;
    dcm_bus bus;
    bool bus_ready;
    dcm_scheduler *sched;
    dcm_engine *engine;
    dcm_ledger *ledger;
    dcm_instrument_period *instruments;
    size_t instrument_count;
    const char **zone_names;
    size_t zone_count;
    const char **point_names;    /* registry ids by engine id (attributions, logs) */
    size_t point_names_cap;
    dcm_snapshot snap;
    bool snap_ready;
    pending_minute *pending;     /* per engine point */
    size_t pending_cap;
    size_t synced;               /* registry points the pipeline has seen (engine or not) */
    size_t engine_points;        /* points in the engine: engine ids 0..engine_points-1 */
    int64_t *watermarks;         /* per instance: everything up to here was delivered */
    size_t instance_count;
    int64_t progress;            /* last engine advance target (guarded by snap.lock) */
    bool in_txn;
    pthread_t thread;
    bool thread_started;
    volatile bool stop;
};

const char *dcm_runtime_strerror(dcm_runtime_err err)
{
    switch (err) {
    case DCM_RUNTIME_OK: return "ok";
    case DCM_RUNTIME_ECONFIG: return "the configuration cannot be run";
    case DCM_RUNTIME_ELEDGER: return "the energy ledger cannot be opened";
    case DCM_RUNTIME_ENOMEM: return "out of memory";
    case DCM_RUNTIME_ETHREAD: return "a thread could not be started";
    }
    return "unknown error";
}

/* -------------------------------------------------------- ledger batching */

static void ledger_txn_begin(dcm_runtime *rt)
{
    if (!rt->ledger || rt->in_txn)
        return;
    if (dcm_ledger_begin(rt->ledger) == DCM_LEDGER_OK)
        rt->in_txn = true;
    else
        dcm_log_limited(DCM_LOG_ERROR, "ledger", "begin failed: %s", dcm_ledger_errmsg(rt->ledger));
}

/* Writes the open minutes' partial sums and the states captured at the last minute close,
 * then commits: the three are always in the same transaction. */
static void ledger_txn_commit(dcm_runtime *rt)
{
    if (!rt->ledger || !rt->in_txn)
        return;
    for (size_t i = 0; i < rt->engine_points; i++) {
        pending_minute *p = &rt->pending[i];
        int64_t key = p->ledger_key;
        if (!p->dirty || key < 0)
            continue;
        dcm_ledger_put_minute(rt->ledger, key, p->open_start_ns, &p->open_partial, false);
        if (p->state.last_ts_ns)
            dcm_ledger_put_state(rt->ledger, key, &p->state);
        p->dirty = false;
    }
    if (dcm_ledger_commit(rt->ledger) != DCM_LEDGER_OK)
        dcm_log_limited(DCM_LOG_ERROR, "ledger", "commit failed: %s", dcm_ledger_errmsg(rt->ledger));
    rt->in_txn = false;
}

static void on_point_minute(void *ctx, uint32_t id, int64_t start_ns, int64_t end_ns,
                            const dcm_point_acc *closed, const dcm_point_acc *open_partial,
                            const dcm_point_state *st)
{
    dcm_runtime *rt = ctx;
    if (id >= rt->engine_points || !rt->ledger)
        return;
    pending_minute *p = &rt->pending[id];
    int64_t key = p->ledger_key;
    if (key < 0)
        return;
    ledger_txn_begin(rt);
    /* Minutes with nothing in them are not stored: absence already says "no data". */
    if (closed->samples || closed->amount != 0 || closed->covered_s > 0)
        dcm_ledger_put_minute(rt->ledger, key, start_ns, closed, true);
    p->dirty = true;
    p->open_start_ns = end_ns;
    p->open_partial = *open_partial;
    p->state = *st;
}

/* Every correction the integrator makes goes to the ledger's audit trail, except a
 * repeated or out-of-order timestamp, which is routine (a device that did not update). */
static void on_correction(void *ctx, uint32_t id, const dcm_increment *inc, bool applied)
{
    dcm_runtime *rt = ctx;
    if (inc->correction == DCM_CORR_ORDER || id >= rt->engine_points)
        return;
    pending_minute *p = &rt->pending[id];
    if (rt->ledger && p->ledger_key >= 0) {
        ledger_txn_begin(rt);
        if (dcm_ledger_put_correction(rt->ledger, p->ledger_key, inc) != DCM_LEDGER_OK)
            dcm_log_limited(DCM_LOG_ERROR, "ledger", "cannot record a correction: %s",
                            dcm_ledger_errmsg(rt->ledger));
    }
    if (inc->correction != DCM_CORR_GAP)
        dcm_log_limited(DCM_LOG_WARN, "pipeline", "%s: counter %s%s", rt->point_names[id],
                        dcm_correction_name((dcm_correction)inc->correction),
                        applied ? "" : " (sample ignored)");
    for (size_t i = 0; i < rt->opt.listener_count; i++) {
        const dcm_runtime_listener *l = &rt->opt.listeners[i];
        if (l->on_correction)
            l->on_correction(l->ctx, rt->point_names[id], inc, applied);
    }
}

/* --------------------------------------------------------------- records */

static void copy_record(dcm_record_copy *dst, const dcm_kpi_record *rec)
{
    dst->present = true;
    dst->window = rec->window;
    dst->start_ns = rec->start_ns;
    dst->end_ns = rec->end_ns;
    dst->interim = rec->interim;
    dst->totals = *rec->totals;
    dst->kpi = *rec->kpi;
}

static void on_record(void *ctx, const dcm_kpi_record *rec)
{
    dcm_runtime *rt = ctx;
    pthread_mutex_lock(&rt->snap.lock);
    copy_record(&rt->snap.closed[rec->window], rec);
    rt->snap.records_out++;
    pthread_mutex_unlock(&rt->snap.lock);
    /* Attributions name their points: the engine knows only ids. */
    dcm_kpi_record named = *rec;
    named.point_names = rt->point_names;
    for (size_t i = 0; i < rt->opt.listener_count; i++) {
        const dcm_runtime_listener *l = &rt->opt.listeners[i];
        if (l->on_record)
            l->on_record(l->ctx, &named, rt->cfg);
    }
    dcm_attribution_points_emit(rt->opt.listeners, rt->opt.listener_count, &named);
}

static void on_interim(void *ctx, const dcm_kpi_record *rec)
{
    dcm_runtime *rt = ctx;
    pthread_mutex_lock(&rt->snap.lock);
    copy_record(&rt->snap.interim[rec->window], rec);
    pthread_mutex_unlock(&rt->snap.lock);
    if (rec->window != DCM_WINDOW_INSTANT)
        return;
    for (size_t i = 0; i < rt->opt.listener_count; i++) {
        const dcm_runtime_listener *l = &rt->opt.listeners[i];
        if (l->on_record && l->instant)
            l->on_record(l->ctx, rec, rt->cfg);
    }
}

static void refresh_interim(dcm_runtime *rt, int64_t now)
{
    static const dcm_window windows[] = {DCM_WINDOW_INSTANT, DCM_WINDOW_1M,    DCM_WINDOW_15M,
                                         DCM_WINDOW_1H,      DCM_WINDOW_1D,    DCM_WINDOW_MONTH,
                                         DCM_WINDOW_YEAR};
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++)
        dcm_engine_peek(rt->engine, windows[i], now, on_interim, rt);
    pthread_mutex_lock(&rt->snap.lock);
    rt->snap.now_ns = now;
    pthread_mutex_unlock(&rt->snap.lock);
}

/* ------------------------------------------------------- points -> engine */

/* Room for one more engine point in the per-engine-point arrays. */
static bool engine_room(dcm_runtime *rt)
{
    size_t need = rt->engine_points + 1, cap = rt->pending_cap;
    if (!dcm_grow((void **)&rt->pending, &cap, need, sizeof *rt->pending, 64))
        return false;
    memset(rt->pending + rt->pending_cap, 0, (cap - rt->pending_cap) * sizeof *rt->pending);
    rt->pending_cap = cap;
    return dcm_grow((void **)&rt->point_names, &rt->point_names_cap, need,
                    sizeof *rt->point_names, 64);
}

/* Takes in the points declared since the last call. A point goes to the engine when it
 * feeds a role or measures something the engine sums (energy, heat, water, utilisation);
 * the rest (voltages, counts, temperatures) are only carried to the outputs, with no
 * engine state. Points with a ledger resume their integrator state from it.
 *
 * The registry's lock is held only to read and write each point's entry, not across the
 * engine and ledger work: collectors take that lock to emit, and a thousand devices
 * declaring tens of thousands of points at start must not wait for the ledger. The ledger
 * rows of new points go in one transaction (nothing else is pending here: the previous
 * pass committed). */
static void sync_points(dcm_runtime *rt)
{
    pthread_mutex_lock(&rt->points.lock);
    size_t count = rt->points.count;
    pthread_mutex_unlock(&rt->points.lock);
    bool txn = rt->ledger && !rt->in_txn && rt->synced < count;
    if (txn)
        ledger_txn_begin(rt);
    for (size_t i = rt->synced; i < count; i++) {
        pthread_mutex_lock(&rt->points.lock);
        dcm_point *pt = &rt->points.items[i];
        const char *point_id = pt->id; /* pooled: stays valid when the registry grows */
        const dcm_unit_info *unit = pt->unit;
        dcm_kind kind = (dcm_kind)pt->kind;
        dcm_point_limits limits = pt->limits ? *pt->limits : (dcm_point_limits){0, 0};
        pthread_mutex_unlock(&rt->points.lock);

        dcm_quantity quantity = unit->quantity;
        dcm_point_def def = {.quantity = quantity, .kind = kind, .zone = -1,
                             .wrap_modulus = limits.wrap_modulus, .max_rate = limits.max_rate};
        bool mapped = dcm_site_map_point(&rt->cfg->site, point_id, &def);
        if (!mapped && quantity == DCM_QTY_OTHER) {
            rt->synced = i + 1;
            continue;
        }
        if (def.roles & (DCM_ROLE_BIT(DCM_ROLE_COOLING_OUTPUT) | DCM_ROLE_BIT(DCM_ROLE_REUSED)))
            def.quantity = quantity == DCM_QTY_ENERGY ? DCM_QTY_THERMAL : quantity;
        if (!def.max_gap_ns)
            def.max_gap_ns = rt->cfg->site.max_gap_ns;
        uint32_t id;
        if (!engine_room(rt) || dcm_engine_add_point(rt->engine, &def, &id) != DCM_METRICS_OK ||
            id != rt->engine_points) {
            dcm_log(DCM_LOG_ERROR, "pipeline", "cannot add point '%s' to the engine", point_id);
            break;
        }
        int64_t ledger_key = -1;
        if (rt->ledger && quantity != DCM_QTY_OTHER &&
            dcm_ledger_point(rt->ledger, point_id, unit->canonical, kind, def.quantity,
                             &ledger_key) == DCM_LEDGER_OK) {
            dcm_point_state st;
            bool found = false;
            if (dcm_ledger_get_state(rt->ledger, ledger_key, &st, &found) == DCM_LEDGER_OK &&
                found) {
                dcm_engine_restore_point(rt->engine, id, &st);
                dcm_log(DCM_LOG_DEBUG, "pipeline", "%s: resumed from the ledger", point_id);
            }
        }
        rt->pending[id].ledger_key = ledger_key;
        rt->point_names[id] = point_id;
        rt->engine_points = id + 1;
        pthread_mutex_lock(&rt->points.lock);
        pt = &rt->points.items[i];
        pt->engine_id = id;
        free(pt->limits); /* the engine has its own copy */
        pt->limits = NULL;
        pthread_mutex_unlock(&rt->points.lock);
        rt->synced = i + 1;
    }
    if (txn)
        ledger_txn_commit(rt);
}

/* ------------------------------------------------------------ TTM seeding */

typedef struct seed_ctx {
    dcm_runtime *rt;
    dcm_totals *totals;
} seed_ctx;

static void seed_point(void *ctx, const char *point_id, const char *unit, dcm_kind kind,
                       dcm_quantity quantity, const dcm_point_acc *sum)
{
    seed_ctx *sc = ctx;
    dcm_point_def def = {.quantity = quantity, .kind = kind, .zone = -1};
    (void)unit;
    if (dcm_site_map_point(&sc->rt->cfg->site, point_id, &def))
        dcm_totals_fold_point(sc->totals, &def, sum);
}

/* Gives the engine the twelve calendar months before now from the ledger, so the
 * trailing-twelve-months window is complete right after a restart. */
static void seed_months(dcm_runtime *rt, int64_t now)
{
    int64_t end = dcm_calendar_floor(&rt->calendar, DCM_WINDOW_MONTH, now);
    int64_t starts[12];
    for (int i = 11; i >= 0; i--) {
        starts[i] = dcm_calendar_floor(&rt->calendar, DCM_WINDOW_MONTH, end - 1);
        end = starts[i];
    }
    for (int i = 0; i < 12; i++) {
        int64_t s = starts[i];
        int64_t e = dcm_calendar_next(&rt->calendar, DCM_WINDOW_MONTH, s);
        dcm_totals t;
        dcm_totals_init(&t, s, e, (uint32_t)rt->zone_count);
        seed_ctx sc = {rt, &t};
        if (dcm_ledger_sum(rt->ledger, s, e, seed_point, &sc) != DCM_LEDGER_OK)
            continue;
        bool any = false;
        for (int r = 0; r < DCM_ROLE_COUNT; r++)
            any = any || t.role[r].covered_s > 0 || t.role[r].amount != 0;
        if (any)
            dcm_engine_seed_month(rt->engine, &t);
    }
}

/* --------------------------------------------------- open-window history */

typedef struct point_index {
    const char *id;
    uint32_t engine_id;
} point_index;

static int point_index_cmp(const void *a, const void *b)
{
    return strcmp(((const point_index *)a)->id, ((const point_index *)b)->id);
}

typedef struct history_ctx {
    dcm_runtime *rt;
    const point_index *index;
    size_t count;
    int64_t start, end;
    size_t seeded;
} history_ctx;

static void history_point(void *ctx, const char *point_id, const char *unit, dcm_kind kind,
                          dcm_quantity quantity, const dcm_point_acc *sum)
{
    history_ctx *hc = ctx;
    point_index key = {.id = point_id};
    const point_index *hit = bsearch(&key, hc->index, hc->count, sizeof key, point_index_cmp);
    (void)unit;
    (void)kind;
    (void)quantity;
    if (hit && dcm_engine_seed_point(hc->rt->engine, hit->engine_id, hc->start, hc->end, sum) ==
                   DCM_METRICS_OK)
        hc->seeded++;
}

/* After a restart the open windows (today, this month, this year...) would hold only what
 * this process measured. The ledger has the rest: cut the time from the start of the year
 * to the open minutes at each window boundary and give each span to the engine, which adds
 * it to the windows that contain it. The open minutes themselves may hold partial sums a
 * killed process left: they go into the engine's minute bins, so the minute's final row
 * keeps them. */
static void seed_open_windows(dcm_runtime *rt, int64_t now)
{
    dcm_engine_advance(rt->engine, now);
    int64_t open = dcm_engine_open_start(rt->engine);
    if (!open || !rt->ledger || !rt->engine_points)
        return;
    point_index *index = calloc(rt->engine_points, sizeof *index);
    if (!index) {
        dcm_log(DCM_LOG_WARN, "pipeline", "out of memory: open windows start without history");
        return;
    }
    for (size_t i = 0; i < rt->engine_points; i++)
        index[i] = (point_index){rt->point_names[i], (uint32_t)i};
    qsort(index, rt->engine_points, sizeof *index, point_index_cmp);

    static const dcm_window cuts[] = {DCM_WINDOW_YEAR, DCM_WINDOW_MONTH, DCM_WINDOW_1D,
                                      DCM_WINDOW_1H, DCM_WINDOW_15M};
    int64_t bounds[9];
    size_t nb = 0;
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        bounds[nb++] = dcm_calendar_floor(&rt->calendar, cuts[i], open);
    bounds[nb++] = open;
    bounds[nb++] = open + DCM_NS_PER_MIN;
    bounds[nb++] = open + 2 * DCM_NS_PER_MIN;
    history_ctx hc = {.rt = rt, .index = index, .count = rt->engine_points};
    for (size_t i = 0; i + 1 < nb; i++) {
        if (bounds[i + 1] <= bounds[i])
            continue;
        hc.start = bounds[i];
        hc.end = bounds[i + 1];
        if (dcm_ledger_sum(rt->ledger, hc.start, hc.end, history_point, &hc) != DCM_LEDGER_OK)
            dcm_log(DCM_LOG_WARN, "ledger", "cannot read history: %s",
                    dcm_ledger_errmsg(rt->ledger));
    }
    if (hc.seeded)
        dcm_log(DCM_LOG_INFO, "pipeline", "open windows resumed from the ledger (%zu spans)",
                hc.seeded);
    free(index);
}

/* ---------------------------------------------------------- the thread */

/* "Now" for retention: the clock in real time; in accelerated time the data's progress,
 * since the clock may run far ahead of what was delivered (and prune it). */
static int64_t data_now(dcm_runtime *rt)
{
    if (rt->clock.speed == 1.0)
        return dcm_clock_now(&rt->clock);
    pthread_mutex_lock(&rt->snap.lock);
    int64_t p = rt->progress;
    pthread_mutex_unlock(&rt->snap.lock);
    return p ? p : rt->clock.start_ns;
}

/* Where the engine's clock may move. In real time: now (late samples within the grace
 * still land in their minute). In accelerated time a poll covers many simulated minutes,
 * so windows close only as far as every running instance has delivered. */
static bool advance_target(const dcm_runtime *rt, int64_t now, int64_t *target)
{
    if (rt->clock.speed == 1.0 || !rt->instance_count) {
        *target = now;
        return true;
    }
    int64_t low = INT64_MAX;
    for (size_t i = 0; i < rt->instance_count; i++) {
        if (rt->watermarks[i] == 0)
            return false; /* not heard from yet */
        if (rt->watermarks[i] < low)
            low = rt->watermarks[i];
    }
    *target = low == INT64_MAX ? now : low;
    return true;
}

/* Listeners make what they were handed durable here (the journal commits its batch). */
static void batch_end(dcm_runtime *rt)
{
    for (size_t i = 0; i < rt->opt.listener_count; i++)
        if (rt->opt.listeners[i].on_batch_end)
            rt->opt.listeners[i].on_batch_end(rt->opt.listeners[i].ctx);
}

static void *pipeline_main(void *arg)
{
    dcm_runtime *rt = arg;
    dcm_sample *batch = malloc(DCM_POP_MAX * sizeof *batch);
    int64_t last_advance = 0, last_interim = 0, last_rollup = dcm_monotonic_ns();
    if (!batch) {
        dcm_log(DCM_LOG_ERROR, "pipeline", "out of memory: pipeline not running");
        return NULL;
    }
    for (;;) {
        size_t n = dcm_bus_pop(&rt->bus, batch, DCM_POP_MAX, 100);
        if (rt->synced < rt->points.count)
            sync_points(rt);
        if (n) {
            ledger_txn_begin(rt);
            pthread_mutex_lock(&rt->points.lock);
            for (size_t i = 0; i < n; i++) {
                const dcm_sample *s = &batch[i];
                if (s->point == DCM_SAMPLE_WATERMARK) {
                    size_t inst = (size_t)s->value;
                    if (inst < rt->instance_count)
                        rt->watermarks[inst] = s->ts_ns;
                    continue;
                }
                if (s->point >= rt->synced)
                    continue;
                dcm_point *pt = &rt->points.items[s->point];
                if (pt->engine_id != DCM_POINT_NO_ENGINE)
                    dcm_engine_feed(rt->engine, pt->engine_id, s->ts_ns, s->value,
                                    (dcm_quality)s->quality);
                pt->last_value = s->value;
                pt->last_ts_ns = s->ts_ns;
                pt->last_quality = s->quality;
                double factor = pt->unit->factor;
                double declared = factor != 0 ? s->value / factor : s->value;
                for (size_t l = 0; l < rt->opt.listener_count; l++)
                    if (rt->opt.listeners[l].on_sample)
                        rt->opt.listeners[l].on_sample(rt->opt.listeners[l].ctx, pt->id,
                                                       pt->unit->name, s->ts_ns, declared,
                                                       (dcm_quality)s->quality);
            }
            pthread_mutex_unlock(&rt->points.lock);
            pthread_mutex_lock(&rt->snap.lock);
            rt->snap.samples_in += n;
            pthread_mutex_unlock(&rt->snap.lock);
        }
        int64_t mono = dcm_monotonic_ns();
        int64_t target;
        if ((mono - last_advance >= DCM_ADVANCE_EVERY_NS || !n) &&
            advance_target(rt, dcm_clock_now(&rt->clock), &target)) {
            ledger_txn_begin(rt);
            dcm_engine_advance(rt->engine, target);
            last_advance = mono;
            pthread_mutex_lock(&rt->snap.lock);
            rt->progress = target;
            pthread_mutex_unlock(&rt->snap.lock);
        }
        ledger_txn_commit(rt);
        if (mono - last_interim >= DCM_INTERIM_EVERY_NS &&
            advance_target(rt, dcm_clock_now(&rt->clock), &target)) {
            refresh_interim(rt, target);
            pthread_mutex_lock(&rt->bus.lock);
            uint64_t dropped = rt->bus.dropped;
            pthread_mutex_unlock(&rt->bus.lock);
            pthread_mutex_lock(&rt->snap.lock);
            rt->snap.samples_dropped = dropped;
            pthread_mutex_unlock(&rt->snap.lock);
            last_interim = mono;
        }
        batch_end(rt);
        if (rt->ledger && mono - last_rollup >= DCM_ROLLUP_EVERY_NS) {
            if (dcm_ledger_rollup(rt->ledger, data_now(rt)) != DCM_LEDGER_OK)
                dcm_log_limited(DCM_LOG_WARN, "ledger", "roll-up failed: %s",
                                dcm_ledger_errmsg(rt->ledger));
            last_rollup = mono;
        }
        if (rt->stop && !n)
            break;
    }
    ledger_txn_commit(rt);
    batch_end(rt);
    free(batch);
    return NULL;
}

/* ----------------------------------------------------------- lifecycle */

static dcm_runtime_err build_engine(dcm_runtime *rt)
{
    const dcm_site_config *site = &rt->cfg->site;
    dcm_diags diags;
    dcm_diags_init(&diags);
    if (!dcm_site_instruments(site, &rt->calendar, &rt->instruments, &rt->instrument_count,
                              &diags)) {
        dcm_diags_print(&diags, stderr);
        dcm_diags_free(&diags);
        return DCM_RUNTIME_ECONFIG;
    }
    dcm_diags_free(&diags);
    rt->zone_count = site->zone_count;
    if (rt->zone_count) {
        rt->zone_names = calloc(rt->zone_count, sizeof *rt->zone_names);
        if (!rt->zone_names)
            return DCM_RUNTIME_ENOMEM;
        for (size_t i = 0; i < rt->zone_count; i++)
            rt->zone_names[i] = site->zones[i].name;
    }
    dcm_engine_config ec = {0};
    ec.calendar = rt->calendar;
    dcm_site_kpi_params(site, &ec.params);
    ec.zone_count = (uint32_t)rt->zone_count;
    ec.instruments = rt->instruments;
    ec.instrument_count = rt->instrument_count;
    ec.on_record = on_record;
    ec.on_record_ctx = rt;
    ec.on_point_minute = on_point_minute;
    ec.on_point_minute_ctx = rt;
    ec.on_correction = on_correction;
    ec.on_correction_ctx = rt;
    dcm_metrics_err err = dcm_engine_create(&ec, &rt->engine);
    if (err != DCM_METRICS_OK) {
        dcm_log(DCM_LOG_ERROR, "pipeline", "cannot create the KPI engine: %s",
                dcm_metrics_strerror(err));
        return err == DCM_METRICS_ENOMEM ? DCM_RUNTIME_ENOMEM : DCM_RUNTIME_ECONFIG;
    }
    return DCM_RUNTIME_OK;
}

dcm_runtime_err dcm_runtime_start(const dcm_runtime_options *opt, dcm_runtime **out)
{
    dcm_runtime_err err = DCM_RUNTIME_ENOMEM;
    dcm_runtime *rt = calloc(1, sizeof *rt);
    *out = NULL;
    if (!rt)
        return DCM_RUNTIME_ENOMEM;
    rt->opt = *opt;
    rt->cfg = opt->config;
    if (pthread_mutex_init(&rt->snap.lock, NULL) != 0)
        goto fail;
    rt->snap_ready = true;
    if (!dcm_site_calendar(rt->cfg->site.timezone, &rt->calendar)) {
        dcm_log(DCM_LOG_ERROR, "site", "unknown time zone '%s'", rt->cfg->site.timezone);
        err = DCM_RUNTIME_ECONFIG;
        goto fail;
    }
    dcm_clock_init(&rt->clock, opt->speed, opt->start_ns);
    if ((err = build_engine(rt)) != DCM_RUNTIME_OK)
        goto fail;

    const char *state_dir = opt->state_dir ? opt->state_dir : rt->cfg->agent.state_dir;
    dcm_ledger_options lo = {.calendar = &rt->calendar};
    dcm_ledger_err le = dcm_ledger_open(state_dir, &lo, &rt->ledger);
    if (le != DCM_LEDGER_OK) {
        dcm_log(DCM_LOG_ERROR, "ledger", "cannot open the ledger in '%s': %s (%s)", state_dir,
                dcm_ledger_strerror(le), dcm_ledger_errmsg(NULL));
        rt->ledger = NULL;
        err = DCM_RUNTIME_ELEDGER;
        goto fail;
    }
    seed_months(rt, dcm_clock_now(&rt->clock));

    err = DCM_RUNTIME_ENOMEM;
    if (dcm_points_init(&rt->points) != 0)
        goto fail;
    rt->points_ready = true;
    if (dcm_bus_init(&rt->bus, 1u << 16) != 0)
        goto fail;
    rt->bus_ready = true;
    dcm_scheduler_env env = {rt->cfg, &rt->clock, &rt->points, &rt->bus};
    rt->sched = dcm_scheduler_create(&env);
    if (!rt->sched)
        goto fail;
    rt->instance_count = dcm_scheduler_count(rt->sched);
    rt->watermarks = calloc(rt->instance_count ? rt->instance_count : 1, sizeof *rt->watermarks);
    if (!rt->watermarks)
        goto fail;
    sync_points(rt);
    seed_open_windows(rt, rt->clock.start_ns);

    err = DCM_RUNTIME_ETHREAD;
    if (pthread_create(&rt->thread, NULL, pipeline_main, rt) != 0)
        goto fail;
    rt->thread_started = true;
    if (dcm_scheduler_start(rt->sched) < 0)
        goto fail;
    *out = rt;
    return DCM_RUNTIME_OK;
fail:
    dcm_runtime_stop(rt);
    return err;
}

void dcm_runtime_stop(dcm_runtime *rt)
{
    if (!rt)
        return;
    /* Collectors first (they flush their last samples), then the pipeline drains the bus. */
    dcm_scheduler_destroy(rt->sched);
    rt->sched = NULL;
    rt->stop = true;
    if (rt->bus_ready)
        dcm_bus_close(&rt->bus);
    if (rt->thread_started)
        pthread_join(rt->thread, NULL);
    if (rt->ledger) {
        dcm_ledger_rollup(rt->ledger, data_now(rt));
        dcm_ledger_close(rt->ledger);
    }
    dcm_engine_destroy(rt->engine);
    if (rt->bus_ready)
        dcm_bus_destroy(&rt->bus);
    if (rt->points_ready)
        dcm_points_destroy(&rt->points);
    if (rt->snap_ready)
        pthread_mutex_destroy(&rt->snap.lock);
    free(rt->pending);
    free(rt->watermarks);
    free(rt->instruments);
    free(rt->zone_names);
    free(rt->point_names);
    free(rt);
}

dcm_snapshot *dcm_runtime_snapshot(dcm_runtime *rt) { return &rt->snap; }
const dcm_clock *dcm_runtime_clock(const dcm_runtime *rt) { return &rt->clock; }

int64_t dcm_runtime_progress(dcm_runtime *rt)
{
    pthread_mutex_lock(&rt->snap.lock);
    int64_t p = rt->progress;
    pthread_mutex_unlock(&rt->snap.lock);
    return p;
}
const dcm_config *dcm_runtime_config(const dcm_runtime *rt) { return rt->cfg; }

size_t dcm_runtime_health(dcm_runtime *rt, dcm_instance_health **out)
{
    *out = NULL;
    return rt->sched ? dcm_scheduler_health(rt->sched, out) : 0;
}

const char *const *dcm_runtime_zone_names(const dcm_runtime *rt, size_t *count)
{
    *count = rt->zone_count;
    return (const char *const *)rt->zone_names;
}

void dcm_runtime_points(dcm_runtime *rt, dcm_runtime_point_fn fn, void *ctx)
{
    pthread_mutex_lock(&rt->points.lock);
    for (size_t i = 0; i < rt->points.count; i++)
        fn(ctx, i, &rt->points.items[i]);
    pthread_mutex_unlock(&rt->points.lock);
}
