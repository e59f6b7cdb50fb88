/*
 * windows.c - calendar windows, trailing twelve months and interim records.
 *
 * A window's totals are the sums of its closed minutes; what does not depend on data is
 * set when it closes: its shape (expected seconds per role from the point set and the
 * window's length, so minutes the engine never saw lower coverage), the utilisation means
 * (from per-point window sums) and the instruments pro-rated to it.
 */
#include <string.h>

#include "engine_int.h"

const dcm_window dcm__win_kind[DCM__NWIN] = {DCM_WINDOW_15M, DCM_WINDOW_1H, DCM_WINDOW_1D,
                                            DCM_WINDOW_MONTH, DCM_WINDOW_YEAR};

enum { WIN_MONTH = 3 };

static bool util_role(int r)
{
    return (DCM_ROLE_BIT(r) & DCM__UTIL_ROLES) != 0;
}

static void shape_one(dcm_role_sum *dst, const dcm_role_sum *shape, double window_s, bool util)
{
    dst->expected_s = shape->expected_s * window_s;
    if (!util)
        dst->points = shape->points;
}

void dcm__apply_shape(dcm_totals *t, const dcm_totals *shape, double window_s)
{
    if (!(window_s > 0))
        window_s = 0.0;
    for (int r = 0; r < DCM_ROLE_COUNT; r++)
        shape_one(&t->role[r], &shape->role[r], window_s, util_role(r));
    for (uint32_t z = 0; z < t->zone_count && z < shape->zone_count; z++) {
        shape_one(&t->zone_it[z], &shape->zone_it[z], window_s, false);
        shape_one(&t->zone_overhead[z], &shape->zone_overhead[z], window_s, false);
    }
}

void dcm__instruments_over(const dcm_engine *e, int64_t start, int64_t end, dcm_instruments *out)
{
    out->certificates_kwh = 0.0;
    out->ppa_kwh = 0.0;
    for (size_t i = 0; i < e->cfg.instrument_count; i++) {
        const dcm_instrument_period *ip = &e->instr[i];
        double share;
        int64_t len = ip->end_ns - ip->start_ns;
        if (len <= 0) {
            share = (start < ip->end_ns && ip->end_ns <= end) ? 1.0 : 0.0;
        } else {
            int64_t lo = ip->start_ns > start ? ip->start_ns : start;
            int64_t hi = ip->end_ns < end ? ip->end_ns : end;
            share = hi > lo ? (double)(hi - lo) / (double)len : 0.0;
        }
        if (share <= 0)
            continue;
        if (ip->is_ppa)
            out->ppa_kwh += ip->kwh * share;
        else
            out->certificates_kwh += ip->kwh * share;
    }
}

bool dcm__totals_empty(const dcm_totals *t)
{
    for (int r = 0; r < DCM_ROLE_COUNT; r++)
        if (t->role[r].amount != 0 || t->role[r].covered_s > 0 || t->role[r].estimated != 0)
            return false;
    for (uint32_t z = 0; z < t->zone_count && z < DCM_MAX_ZONES; z++)
        if (t->zone_it[z].amount != 0 || t->zone_overhead[z].amount != 0)
            return false;
    return true;
}

void dcm__emit(const dcm_engine *e, dcm_window w, const dcm_totals *t, bool interim,
               dcm_record_fn fn, void *ctx)
{
    /* The minute kept open for late samples may end before the first event. If nothing
     * landed in such a window (no restored downtime, no bill) it records nothing: skip it. */
    if (!interim && e->started && t->end_ns <= e->started_at && dcm__totals_empty(t))
        return;
    dcm_kpi_set kpi;
    dcm__kpi_compute_ex(t, &e->cfg.params, w == DCM_WINDOW_INSTANT, &kpi);
    dcm_kpi_record rec = {
        .window = w,
        .start_ns = t->start_ns,
        .end_ns = t->end_ns,
        .interim = interim,
        .totals = t,
        .kpi = &kpi,
        .pue_category = e->cfg.params.pue_category,
        .ruleset = DCM_METRICS_RULESET,
    };
    rec.attribution = e->attr_out;
    rec.attribution_count = dcm__attribution_fill(e, w, t, interim, &kpi);
    fn(ctx, &rec);
}

void dcm__windows_start(dcm_engine *e)
{
    const dcm_calendar *cal = &e->cfg.calendar;
    for (int w = 0; w < DCM__NWIN; w++) {
        dcm__win *win = &e->win[w];
        win->start_ns = dcm_calendar_floor(cal, dcm__win_kind[w], e->open_start);
        win->end_ns = dcm_calendar_next(cal, dcm__win_kind[w], e->open_start);
        dcm_totals_init(&win->sums, win->start_ns, win->end_ns, e->cfg.zone_count);
    }
}

/* Folds each utilisation point's sums for window slot w into t; with_bins adds the open
 * minutes that lie in [start, end) (interim records). */
static void fold_util_window(const dcm_engine *e, int w, dcm_totals *t, bool with_bins,
                             int64_t start, int64_t end)
{
    for (size_t i = 0; i < e->n_util; i++) {
        const dcm__util *u = &e->util[i];
        const dcm__point *p = &e->pts[u->id];
        double amount = u->amount[w], covered = u->covered_s[w];
        if (with_bins) {
            for (int k = 0; k < 2; k++) {
                int64_t ms = e->open_start + k * DCM__MIN;
                if (ms < start || ms >= end)
                    continue;
                const dcm_point_acc *acc = &p->bin[dcm__bin_of(ms)];
                amount += acc->amount;
                covered += acc->covered_s;
            }
        }
        dcm__fold_util(t, &p->def, amount, covered);
    }
}

static int64_t month_key(const dcm_engine *e, int64_t t)
{
    int y, m;
    dcm_calendar_utc_to_local(&e->cfg.calendar, t, &y, &m, NULL, NULL, NULL, NULL);
    return (int64_t)y * 12 + (m - 1);
}

static int64_t month_start(const dcm_engine *e, int64_t key)
{
    int64_t y = dcm__floor_div(key, 12);
    int m = (int)(key - y * 12) + 1;
    return dcm_calendar_local_to_utc(&e->cfg.calendar, (int)y, m, 1, 0, 0, 0);
}

static int ring_slot(int64_t key)
{
    return (int)(key - dcm__floor_div(key, DCM__RING) * DCM__RING);
}

/* The twelve months ending with month `last` (key): stored months merged, missing ones
 * expected but not covered. `current`, when given, stands for month `last`. */
static void build_ttm(dcm_engine *e, dcm_totals *t, int64_t last, const dcm_totals *current)
{
    int64_t first = last - (DCM__RING - 1);
    int64_t start = month_start(e, first);
    int64_t end = month_start(e, last + 1);
    dcm_totals_init(t, start, end, e->cfg.zone_count);
    dcm_totals *missing = &e->missing;
    for (int64_t k = first; k <= last; k++) {
        const dcm_totals *month = NULL;
        int slot = ring_slot(k);
        if (k == last && current)
            month = current;
        else if (e->ring_used[slot] && e->ring_key[slot] == k)
            month = &e->ring[slot];
        if (month) {
            dcm_totals_merge(t, month);
            continue;
        }
        int64_t ms = month_start(e, k), me = month_start(e, k + 1);
        dcm_totals_init(missing, ms, me, e->cfg.zone_count);
        dcm__apply_shape(missing, &e->shape, dcm__ns_to_s(me - ms));
        dcm_totals_merge(t, missing);
    }
    t->start_ns = start;
    t->end_ns = end;
}

static void finalize(dcm_engine *e, int w)
{
    dcm__win *win = &e->win[w];
    dcm_window kind = dcm__win_kind[w];
    dcm_totals *t = &e->scratch;
    *t = win->sums;
    t->start_ns = win->start_ns;
    t->end_ns = win->end_ns;
    dcm__apply_shape(t, &e->shape, dcm__ns_to_s(win->end_ns - win->start_ns));
    fold_util_window(e, w, t, false, 0, 0);
    for (size_t i = 0; i < e->n_util; i++) {
        e->util[i].amount[w] = 0.0;
        e->util[i].covered_s[w] = 0.0;
    }
    dcm__instruments_over(e, win->start_ns, win->end_ns, &t->instruments);
    if (dcm__want(e, kind))
        dcm__emit(e, kind, t, false, e->cfg.on_record, e->cfg.on_record_ctx);
    for (size_t i = 0; i < e->n_attr; i++)
        memset(&e->attr[i].win[w], 0, sizeof e->attr[i].win[w]);
    if (w == WIN_MONTH) {
        int64_t key = month_key(e, win->start_ns);
        int slot = ring_slot(key);
        e->ring[slot] = *t;
        e->ring_key[slot] = key;
        e->ring_used[slot] = true;
        if (dcm__want(e, DCM_WINDOW_TTM)) {
            build_ttm(e, &e->ttm, key, NULL);
            dcm__emit(e, DCM_WINDOW_TTM, &e->ttm, false, e->cfg.on_record, e->cfg.on_record_ctx);
        }
    }
    win->start_ns = win->end_ns;
    win->end_ns = dcm_calendar_next(&e->cfg.calendar, kind, win->start_ns);
    dcm_totals_init(&win->sums, win->start_ns, win->end_ns, e->cfg.zone_count);
}

void dcm__windows_check(dcm_engine *e)
{
    for (int w = 0; w < DCM__NWIN; w++)
        while (e->open_start >= e->win[w].end_ns)
            finalize(e, w);
}

/* The open minute bins that lie inside [start, end), folded into t. */
static void fold_open_bins(const dcm_engine *e, dcm_totals *t, int64_t start, int64_t end)
{
    for (int k = 0; k < 2; k++) {
        int64_t ms = e->open_start + k * DCM__MIN;
        int b = dcm__bin_of(ms);
        if (ms < start || ms >= end || e->dirty[b] == 0)
            continue;
        for (size_t i = 0; i < e->n; i++) {
            const dcm__point *p = &e->pts[i];
            if (p->util == DCM__NO_UTIL && p->bin[b].samples > 0)
                dcm__fold_sums(t, &p->def, &p->bin[b]);
        }
    }
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Live view: role sums are powers (kW, m3/h) or utilisation (%) from each point's latest
 * rate; expected counts the role's points and covered the fresh ones, so coverage is the
 * share of fresh points. */
static void peek_instant(dcm_engine *e, int64_t now, dcm_totals *t)
{
    dcm_totals_init(t, now, now, e->cfg.zone_count);
    for (size_t i = 0; i < e->n; i++) {
        const dcm__point *p = &e->pts[i];
        if (p->def.quantity == DCM_QTY_OTHER)
            continue;
        bool has = (p->flags & DCM__PT_HAS_RATE) && isfinite(p->st.rate);
        /* Fresh: a rate from a recent, good sample (a counter needs two readings). */
        bool fresh = has && p->st.last_ts_ns > 0 && !(p->flags & DCM__PT_BAD) &&
                     now - p->st.last_ts_ns <= e->stale_ns;
        double rate = has ? p->st.rate : 0.0;
        dcm__fold_shape(t, &p->def, 1.0);
        if (!dcm__is_util(&p->def)) {
            dcm_point_acc acc = {.amount = rate, .covered_s = fresh ? 1.0 : 0.0};
            dcm__fold_sums(t, &p->def, &acc);
            continue;
        }
        uint32_t roles = p->def.roles & DCM__ALL_ROLES;
        for (int r = 0; r < DCM_ROLE_COUNT; r++) {
            if (!(roles & DCM_ROLE_BIT(r)))
                continue;
            t->role[r].covered_s += fresh ? 1.0 : 0.0;
            if (has) {
                t->role[r].amount += rate;
                t->role[r].points++;
            }
        }
    }
}

static void peek_window(dcm_engine *e, int w, int64_t now, dcm_totals *t)
{
    dcm_window kind = dcm__win_kind[w];
    int64_t start, end;
    if (e->started) {
        start = e->win[w].start_ns;
        end = e->win[w].end_ns;
        *t = e->win[w].sums;
    } else {
        start = dcm_calendar_floor(&e->cfg.calendar, kind, now);
        end = dcm_calendar_next(&e->cfg.calendar, kind, now);
        dcm_totals_init(t, start, end, e->cfg.zone_count);
    }
    t->start_ns = start;
    t->end_ns = end;
    if (e->started)
        fold_open_bins(e, t, start, end);
    fold_util_window(e, w, t, e->started, start, end);
    int64_t upto = clamp64(now, start, end);
    e->peek_upto = upto;
    dcm__apply_shape(t, &e->shape, dcm__ns_to_s(upto - start));
    dcm__instruments_over(e, start, upto, &t->instruments);
}

static void peek_minute(dcm_engine *e, int64_t now, dcm_totals *t)
{
    int64_t start = dcm__floor_div(now, DCM__MIN) * DCM__MIN;
    if (e->started) {
        start = e->open_start;
        if (now >= e->open_start + DCM__MIN && now < e->open_start + 2 * DCM__MIN)
            start += DCM__MIN;
    }
    int64_t end = start + DCM__MIN;
    dcm_totals_init(t, start, end, e->cfg.zone_count);
    if (e->started) {
        fold_open_bins(e, t, start, end);
        int b = dcm__bin_of(start);
        for (size_t i = 0; i < e->n_util; i++) {
            const dcm__point *p = &e->pts[e->util[i].id];
            dcm__fold_util(t, &p->def, p->bin[b].amount, p->bin[b].covered_s);
        }
    }
    int64_t upto = clamp64(now, start, end);
    e->peek_upto = upto;
    dcm__apply_shape(t, &e->shape, dcm__ns_to_s(upto - start));
    dcm__instruments_over(e, start, upto, &t->instruments);
}

void dcm_engine_peek(dcm_engine *e, dcm_window w, int64_t now_ns, dcm_record_fn fn, void *ctx)
{
    if (!e || !fn || (unsigned)w >= DCM_WINDOW_COUNT)
        return;
    dcm_totals *t = &e->peek;
    switch (w) {
    case DCM_WINDOW_INSTANT:
        peek_instant(e, now_ns, t);
        break;
    case DCM_WINDOW_1M:
        peek_minute(e, now_ns, t);
        break;
    case DCM_WINDOW_TTM:
        peek_window(e, WIN_MONTH, now_ns, t);
        build_ttm(e, &e->peek_ttm, month_key(e, t->start_ns), t);
        t = &e->peek_ttm;
        break;
    default:
        for (int i = 0; i < DCM__NWIN; i++)
            if (dcm__win_kind[i] == w)
                peek_window(e, i, now_ns, t);
        break;
    }
    dcm__emit(e, w, t, w != DCM_WINDOW_INSTANT, fn, ctx);
}

static bool sum_finite(const dcm_role_sum *r)
{
    return isfinite(r->amount) && isfinite(r->estimated) && isfinite(r->derived) &&
           isfinite(r->covered_s) && isfinite(r->expected_s);
}

dcm_metrics_err dcm_engine_seed_month(dcm_engine *e, const dcm_totals *month)
{
    if (!e || !month || month->zone_count > DCM_MAX_ZONES)
        return DCM_METRICS_EINVAL;
    const dcm_calendar *cal = &e->cfg.calendar;
    if (month->start_ns <= 0 || month->start_ns > DCM__TS_LIMIT ||
        dcm_calendar_floor(cal, DCM_WINDOW_MONTH, month->start_ns) != month->start_ns ||
        dcm_calendar_next(cal, DCM_WINDOW_MONTH, month->start_ns) != month->end_ns)
        return DCM_METRICS_EINVAL;
    for (int r = 0; r < DCM_ROLE_COUNT; r++)
        if (!sum_finite(&month->role[r]))
            return DCM_METRICS_EINVAL;
    for (uint32_t z = 0; z < month->zone_count; z++)
        if (!sum_finite(&month->zone_it[z]) || !sum_finite(&month->zone_overhead[z]))
            return DCM_METRICS_EINVAL;
    if (!isfinite(month->instruments.certificates_kwh) || !isfinite(month->instruments.ppa_kwh))
        return DCM_METRICS_EINVAL;
    int64_t key = month_key(e, month->start_ns);
    int slot = ring_slot(key);
    /* A slot already holding a later month keeps it: the ring only looks back a year. */
    if (e->ring_used[slot] && e->ring_key[slot] > key)
        return DCM_METRICS_OK;
    e->ring[slot] = *month;
    e->ring_key[slot] = key;
    e->ring_used[slot] = true;
    return DCM_METRICS_OK;
}
