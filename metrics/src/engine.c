/*
 * engine.c - the streaming engine: samples in, minutes closed, records out.
 *
 * Each point keeps its integrator state and two minute bins (the minute that may still
 * receive late samples and the current one). Closing a minute folds the bins into role
 * totals, which feed every coarser calendar window (windows.c). Long jumps in time close
 * each intermediate minute in order, but empty stretches are skipped in one step when
 * nobody listens to individual minutes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

#define DEFAULT_GRACE_NS (INT64_C(5) * DCM_NS_PER_S)
#define DEFAULT_STALE_NS (INT64_C(180) * DCM_NS_PER_S)

static bool finite_nonneg(double v)
{
    return isfinite(v) && v >= 0;
}

static dcm_metrics_err check_config(const dcm_engine_config *cfg)
{
    if (cfg->zone_count > DCM_MAX_ZONES)
        return DCM_METRICS_ELIMIT;
    if (cfg->grace_ns < 0 || cfg->grace_ns >= DCM__MIN || cfg->stale_after_ns < 0)
        return DCM_METRICS_EINVAL;
    if (cfg->instrument_count > 0 && !cfg->instruments)
        return DCM_METRICS_EINVAL;
    for (size_t i = 0; i < cfg->instrument_count; i++) {
        const dcm_instrument_period *ip = &cfg->instruments[i];
        if (ip->end_ns < ip->start_ns || !isfinite(ip->kwh))
            return DCM_METRICS_EINVAL;
    }
    const dcm_kpi_params *p = &cfg->params;
    if (!isfinite(p->coverage_ok) || p->coverage_ok < 0 || p->coverage_ok > 1)
        return DCM_METRICS_EINVAL;
    if (!isfinite(p->carbon.location_factor) || !isfinite(p->carbon.market_factor) ||
        !isfinite(p->carbon.fuel_factor))
        return DCM_METRICS_EINVAL;
    return DCM_METRICS_OK;
}

dcm_metrics_err dcm_engine_create(const dcm_engine_config *cfg, dcm_engine **out)
{
    if (!cfg || !out)
        return DCM_METRICS_EINVAL;
    *out = NULL;
    dcm_metrics_err err = check_config(cfg);
    if (err != DCM_METRICS_OK)
        return err;
    dcm_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return DCM_METRICS_ENOMEM;
    e->cfg = *cfg;
    if (cfg->instrument_count > 0) {
        e->instr = malloc(cfg->instrument_count * sizeof(*e->instr));
        if (!e->instr) {
            err = DCM_METRICS_ENOMEM;
            goto fail;
        }
        memcpy(e->instr, cfg->instruments, cfg->instrument_count * sizeof(*e->instr));
    }
    e->cfg.instruments = e->instr;
    e->windows = cfg->windows ? cfg->windows : (1u << DCM_WINDOW_COUNT) - 1u;
    e->grace_ns = cfg->grace_ns > 0 ? cfg->grace_ns : DEFAULT_GRACE_NS;
    e->stale_ns = cfg->stale_after_ns > 0 ? cfg->stale_after_ns : DEFAULT_STALE_NS;
    dcm_totals_init(&e->shape, 0, 0, cfg->zone_count);
    *out = e;
    return DCM_METRICS_OK;
fail:
    free(e->instr);
    free(e);
    return err;
}

void dcm_engine_destroy(dcm_engine *e)
{
    if (!e)
        return;
    free(e->pts);
    free(e->util);
    free(e->attr);
    free(e->attr_out);
    free(e->instr);
    free(e);
}

static dcm_metrics_err check_def(const dcm_engine *e, const dcm_point_def *def)
{
    if ((unsigned)def->quantity > DCM_QTY_OTHER || (unsigned)def->kind > DCM_KIND_DELTA)
        return DCM_METRICS_EINVAL;
    if (def->roles & ~DCM__ALL_ROLES)
        return DCM_METRICS_EINVAL;
    if (def->zone_part > DCM_ZONE_OVERHEAD || def->zone < -1)
        return DCM_METRICS_EINVAL;
    if (def->zone >= 0 && (uint32_t)def->zone >= e->cfg.zone_count)
        return DCM_METRICS_EINVAL;
    if (!finite_nonneg(def->wrap_modulus) || !finite_nonneg(def->max_rate))
        return DCM_METRICS_EINVAL;
    if (def->max_gap_ns < 0 || def->nominal_interval_ns < 0)
        return DCM_METRICS_EINVAL;
    return DCM_METRICS_OK;
}

/* Grows an array by an eighth: the point array dominates memory at scale and a doubling
 * would waste up to half of it. */
static size_t grown(size_t cap)
{
    return cap + cap / 8 + 64;
}

dcm_metrics_err dcm_engine_add_point(dcm_engine *e, const dcm_point_def *def, uint32_t *id)
{
    if (!e || !def)
        return DCM_METRICS_EINVAL;
    dcm_metrics_err err = check_def(e, def);
    if (err != DCM_METRICS_OK)
        return err;
    if (e->n >= (size_t)UINT32_MAX - 1)
        return DCM_METRICS_ELIMIT;
    bool util = dcm__is_util(def);
    if (e->n == e->cap) {
        size_t cap = grown(e->cap);
        dcm__point *pts = realloc(e->pts, cap * sizeof(*pts));
        if (!pts)
            return DCM_METRICS_ENOMEM;
        e->pts = pts;
        e->cap = cap;
    }
    if (util && e->n_util == e->cap_util) {
        size_t cap = grown(e->cap_util);
        dcm__util *u = realloc(e->util, cap * sizeof(*u));
        if (!u)
            return DCM_METRICS_ENOMEM;
        e->util = u;
        e->cap_util = cap;
    }
    bool attr = def->attribute && def->quantity == DCM_QTY_ENERGY;
    if (attr && e->n_attr == e->cap_attr) {
        size_t cap = grown(e->cap_attr);
        dcm__attr *a = realloc(e->attr, cap * sizeof(*a));
        if (!a)
            return DCM_METRICS_ENOMEM;
        e->attr = a;
        dcm_attribution *out = realloc(e->attr_out, cap * sizeof(*out));
        if (!out)
            return DCM_METRICS_ENOMEM; /* attr keeps its larger block: cap_attr unchanged */
        e->attr_out = out;
        e->cap_attr = cap;
    }
    dcm__point *p = &e->pts[e->n];
    memset(p, 0, sizeof(*p));
    p->def = *def;
    p->util = DCM__NO_UTIL;
    p->attr = DCM__NO_ATTR;
    if (attr) {
        dcm__attr *a = &e->attr[e->n_attr];
        memset(a, 0, sizeof(*a));
        a->id = (uint32_t)e->n;
        p->attr = (uint32_t)e->n_attr++;
    }
    if (util) {
        dcm__util *u = &e->util[e->n_util];
        memset(u, 0, sizeof(*u));
        u->id = (uint32_t)e->n;
        p->util = (uint32_t)e->n_util++;
    }
    dcm__fold_shape(&e->shape, def, 1.0);
    if (id)
        *id = (uint32_t)e->n;
    e->n++;
    return DCM_METRICS_OK;
}

size_t dcm_engine_point_count(const dcm_engine *e)
{
    return e ? e->n : 0;
}

const dcm_point_state *dcm_engine_point_state(const dcm_engine *e, uint32_t id)
{
    if (!e || id >= e->n)
        return NULL;
    return &e->pts[id].st;
}

size_t dcm_engine_bytes_per_point(const dcm_engine *e)
{
    if (!e || e->n == 0)
        return sizeof(dcm__point);
    size_t bytes = e->cap * sizeof(dcm__point) + e->cap_util * sizeof(dcm__util) +
                   e->cap_attr * (sizeof(dcm__attr) + sizeof(dcm_attribution));
    return (bytes + e->n - 1) / e->n;
}

dcm_metrics_err dcm_engine_restore_point(dcm_engine *e, uint32_t id, const dcm_point_state *st)
{
    if (!e || !st || id >= e->n)
        return DCM_METRICS_EINVAL;
    if (st->last_ts_ns < 0 || st->last_ts_ns > DCM__TS_LIMIT || !isfinite(st->last_value) ||
        fabs(st->last_value) > DCM__VALUE_LIMIT || !isfinite(st->rate))
        return DCM_METRICS_EINVAL;
    dcm__point *p = &e->pts[id];
    p->st = *st;
    p->flags = st->last_ts_ns > 0 ? DCM__PT_HAS_RATE : 0;
    return DCM_METRICS_OK;
}

/* Folds the closing bin into the minute's totals and the utilisation window sums, and
 * clears it. */
static void acc_add(dcm_point_acc *a, const dcm_point_acc *b);

static void fold_bin(dcm_engine *e, int b, dcm_totals *m)
{
    if (e->dirty[b] == 0)
        return;
    for (size_t i = 0; i < e->n; i++) {
        dcm__point *p = &e->pts[i];
        dcm_point_acc *acc = &p->bin[b];
        if (acc->samples == 0)
            continue;
        if (p->attr != DCM__NO_ATTR) {
            dcm__attr *a = &e->attr[p->attr];
            a->minute = *acc;
            for (int w = 0; w < DCM__NWIN; w++)
                acc_add(&a->win[w], acc);
        }
        if (p->util != DCM__NO_UTIL) {
            dcm__util *u = &e->util[p->util];
            for (int w = 0; w < DCM__NWIN; w++) {
                u->amount[w] += acc->amount;
                u->covered_s[w] += acc->covered_s;
            }
            dcm__fold_util(m, &p->def, acc->amount, acc->covered_s);
        } else {
            dcm__fold_sums(m, &p->def, acc);
        }
        memset(acc, 0, sizeof(*acc));
    }
    e->dirty[b] = 0;
}

static void close_minute(dcm_engine *e)
{
    int64_t s = e->open_start, end = s + DCM__MIN;
    int b = dcm__bin_of(s);
    if (e->cfg.on_point_minute) {
        for (size_t i = 0; i < e->n; i++) {
            dcm__point *p = &e->pts[i];
            e->cfg.on_point_minute(e->cfg.on_point_minute_ctx, (uint32_t)i, s, end, &p->bin[b],
                                   &p->bin[1 - b], &p->st);
        }
    }
    dcm_totals *m = &e->minute;
    dcm_totals_init(m, s, end, e->cfg.zone_count);
    for (size_t i = 0; i < e->n_attr; i++)
        memset(&e->attr[i].minute, 0, sizeof e->attr[i].minute);
    fold_bin(e, b, m);
    for (int w = 0; w < DCM__NWIN; w++)
        dcm__totals_add_sums(&e->win[w].sums, m);
    if (dcm__want(e, DCM_WINDOW_1M)) {
        dcm__apply_shape(m, &e->shape, 60.0);
        dcm__instruments_over(e, s, end, &m->instruments);
        dcm__emit(e, DCM_WINDOW_1M, m, false, e->cfg.on_record, e->cfg.on_record_ctx);
    }
    e->open_start = end;
    dcm__windows_check(e);
}

static int64_t floor_minute(int64_t t)
{
    return dcm__floor_div(t, DCM__MIN) * DCM__MIN;
}

/* Closes minutes until the oldest open one starts at target. */
static void close_until(dcm_engine *e, int64_t target)
{
    bool per_minute = e->cfg.on_point_minute || dcm__want(e, DCM_WINDOW_1M);
    while (e->open_start < target) {
        if (per_minute || e->dirty[0] || e->dirty[1]) {
            close_minute(e);
            continue;
        }
        /* Nothing buffered and nobody listening to minutes: empty minutes add nothing to
         * the windows (their shape is applied when a window closes), so jump straight to
         * the next window end. */
        int64_t next = target;
        for (int w = 0; w < DCM__NWIN; w++)
            if (e->win[w].end_ns < next)
                next = e->win[w].end_ns;
        next = floor_minute(next);
        if (next <= e->open_start)
            next = e->open_start + DCM__MIN;
        e->open_start = next;
        dcm__windows_check(e);
    }
}

static void start(dcm_engine *e, int64_t t)
{
    /* Keep the previous minute open while late samples for it may still come. */
    e->open_start = floor_minute(t - e->grace_ns);
    e->started = true;
    e->started_at = t;
    dcm__windows_start(e);
}

void dcm_engine_advance(dcm_engine *e, int64_t now_ns)
{
    if (!e || now_ns <= 0 || now_ns > DCM__TS_LIMIT)
        return;
    if (!e->started)
        start(e, now_ns);
    int64_t target = floor_minute(now_ns - e->grace_ns);
    if (target > e->open_start)
        close_until(e, target);
}

/* Adds an increment to the open bins; the part before the oldest open minute is late:
 * it goes to that minute, flagged estimated, without claiming coverage of time already
 * closed (utilisation keeps its time so that its mean stays a mean). */
static void add_increment(dcm_engine *e, dcm__point *p, const dcm_increment *inc)
{
    int64_t a0 = e->open_start, a1 = a0 + DCM__MIN, a2 = a1 + DCM__MIN;
    int ba = dcm__bin_of(a0);
    dcm_point_acc *A = &p->bin[ba], *B = &p->bin[1 - ba];
    uint32_t sa = A->samples, sb = B->samples;
    dcm_point_acc_add(A, a0, a1, inc);
    dcm_point_acc_add(B, a1, a2, inc);

    int64_t len = inc->t1_ns - inc->t0_ns;
    double late_share = 0.0;
    int64_t late_ns = 0;
    if (len <= 0) {
        if (inc->t1_ns <= a0)
            late_share = 1.0;
    } else if (inc->t0_ns < a0) {
        late_ns = (inc->t1_ns < a0 ? inc->t1_ns : a0) - inc->t0_ns;
        late_share = late_ns == len ? 1.0 : (double)late_ns / (double)len;
    }
    if (late_share > 0) {
        if (A->samples == sa) {
            A->samples++;
            if (inc->correction != DCM_CORR_NONE)
                A->corrections++;
        }
        if (!(inc->flags & DCM_INC_MISSING)) {
            double part = inc->amount * late_share;
            A->amount += part;
            A->estimated += part;
            if (p->util != DCM__NO_UTIL)
                A->covered_s += dcm__ns_to_s(late_ns);
        }
    }
    if (sa == 0 && A->samples > 0)
        e->dirty[ba]++;
    if (sb == 0 && B->samples > 0)
        e->dirty[1 - ba]++;
}

/* The live rate of an amount point: the amount of the last 60 to 120 s over that span
 * (two half-spans: the older one is dropped each time the newer one reaches a minute). */
static void span_rate(dcm__point *p, const dcm_increment *inc)
{
    if (p->def.kind == DCM_KIND_GAUGE || dcm__is_util(&p->def) ||
        p->def.quantity == DCM_QTY_OTHER || (inc->flags & DCM_INC_MISSING) ||
        inc->t1_ns <= inc->t0_ns)
        return;
    if (!p->span_start || inc->t0_ns < p->span_start) {
        p->span_start = p->mid_start = inc->t0_ns;
        p->span_amount = p->mid_amount = 0.0;
    }
    p->span_amount += inc->amount;
    p->mid_amount += inc->amount;
    double span_s = dcm__ns_to_s(inc->t1_ns - p->span_start);
    if (span_s > 0)
        p->st.rate = p->span_amount / span_s * 3600.0;
    if (inc->t1_ns - p->mid_start >= DCM__MIN) {
        p->span_start = p->mid_start;
        p->span_amount = p->mid_amount;
        p->mid_start = inc->t1_ns;
        p->mid_amount = 0.0;
    }
}

bool dcm_engine_feed(dcm_engine *e, uint32_t id, int64_t ts_ns, double value, dcm_quality q)
{
    if (!e || id >= e->n || ts_ns <= 0 || ts_ns > DCM__TS_LIMIT)
        return false;
    dcm__point *p = &e->pts[id];
    if (q != DCM_QUALITY_OK && q != DCM_QUALITY_PARTIAL) {
        p->flags |= DCM__PT_BAD;
        return false;
    }
    if (!e->started)
        start(e, ts_ns);
    else if (ts_ns >= e->open_start + 2 * DCM__MIN)
        close_until(e, floor_minute(ts_ns) - DCM__MIN);

    dcm_increment inc;
    bool got = dcm_integrator_feed(&p->def, &p->st, ts_ns, value, &inc);
    if (inc.correction != DCM_CORR_NONE && e->cfg.on_correction)
        e->cfg.on_correction(e->cfg.on_correction_ctx, id, &inc, got);
    if (!got && inc.correction != DCM_CORR_NONE)
        return false;
    p->flags &= (uint8_t)~DCM__PT_BAD;
    if (p->def.kind == DCM_KIND_GAUGE || p->def.quantity == DCM_QTY_UTILISATION ||
        p->def.quantity == DCM_QTY_OTHER ||
        (got && inc.t1_ns > inc.t0_ns && !(inc.flags & DCM_INC_MISSING)))
        p->flags |= DCM__PT_HAS_RATE;
    if (got) {
        add_increment(e, p, &inc);
        span_rate(p, &inc);
    }
    return true;
}

int64_t dcm_engine_open_start(const dcm_engine *e)
{
    return e && e->started ? e->open_start : 0;
}

static void acc_add(dcm_point_acc *a, const dcm_point_acc *b)
{
    a->amount += b->amount;
    a->estimated += b->estimated;
    a->covered_s += b->covered_s;
    a->samples += b->samples ? b->samples : 1;
    a->corrections += b->corrections;
}

dcm_metrics_err dcm_engine_seed_point(dcm_engine *e, uint32_t id, int64_t start_ns,
                                      int64_t end_ns, const dcm_point_acc *acc)
{
    if (!e || !acc || id >= e->n || !e->started || end_ns <= start_ns ||
        !isfinite(acc->amount) || !isfinite(acc->estimated) || !isfinite(acc->covered_s))
        return DCM_METRICS_EINVAL;
    dcm__point *p = &e->pts[id];
    for (int k = 0; k < 2; k++) {
        int64_t ms = e->open_start + k * DCM__MIN;
        if (start_ns < ms || end_ns > ms + DCM__MIN)
            continue;
        int b = dcm__bin_of(ms);
        bool was_empty = p->bin[b].samples == 0;
        acc_add(&p->bin[b], acc);
        if (was_empty)
            e->dirty[b]++;
        return DCM_METRICS_OK;
    }
    if (end_ns > e->open_start)
        return DCM_METRICS_EINVAL;
    for (int w = 0; w < DCM__NWIN; w++) {
        dcm__win *win = &e->win[w];
        if (start_ns < win->start_ns || end_ns > win->end_ns)
            continue;
        if (p->attr != DCM__NO_ATTR)
            acc_add(&e->attr[p->attr].win[w], acc);
        if (p->util != DCM__NO_UTIL) {
            e->util[p->util].amount[w] += acc->amount;
            e->util[p->util].covered_s[w] += acc->covered_s;
        } else {
            dcm__fold_sums(&win->sums, &p->def, acc);
        }
    }
    return DCM_METRICS_OK;
}
