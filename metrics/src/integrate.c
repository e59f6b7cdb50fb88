/*
 * integrate.c - one point's samples -> increments.
 *
 * Counters give exact amounts (only their split in time can be uncertain); gauges are
 * integrated by the trapezoid rule and only across gaps no longer than max_gap, because
 * energy beyond a gap is unknown and must lower coverage rather than be invented.
 */
#include <float.h>
#include <string.h>

#include "internal.h"

void dcm_point_state_init(dcm_point_state *st)
{
    if (st)
        memset(st, 0, sizeof(*st));
}

static int64_t max_gap_of(const dcm_point_def *def)
{
    return def->max_gap_ns > 0 ? def->max_gap_ns : DCM_DEFAULT_MAX_GAP_NS;
}

/* A limit from max_rate, or 0 when unknown. The slack absorbs float rounding of large
 * register readings (a 32-bit Wh register in kWh has an ulp near 1e-9 kWh). */
static double rate_limit(const dcm_point_def *def, double dt_h, double scale)
{
    double max_rate = def->max_rate;
    if (!(max_rate > 0) || !isfinite(max_rate))
        return 0.0;
    double lim = max_rate * dt_h;
    return lim + 1e-9 * lim + 8.0 * DBL_EPSILON * scale;
}

static double modulus_of(const dcm_point_def *def)
{
    double m = def->wrap_modulus;
    /* A modulus beyond any accepted reading cannot be passed: treat it as "never wraps". */
    return (m > 0 && m <= 4 * DCM__VALUE_LIMIT) ? m : 0.0;
}

static void set_out(dcm_increment *out, int64_t t0, int64_t t1, double amount, uint8_t flags,
                    dcm_correction corr)
{
    out->t0_ns = t0;
    out->t1_ns = t1;
    out->amount = amount;
    out->flags = flags;
    out->correction = (uint8_t)corr;
}

static void accept(dcm_point_state *st, int64_t ts, double value)
{
    st->last_ts_ns = ts;
    st->last_value = value;
}

static bool feed_gauge(const dcm_point_def *def, dcm_point_state *st, int64_t ts, double v,
                       dcm_increment *out)
{
    double lim = rate_limit(def, 1.0, fabs(v));
    if (lim > 0 && v > lim) {
        out->correction = DCM_CORR_SPIKE;
        return false;
    }
    bool first = st->last_ts_ns == 0;
    int64_t t0 = st->last_ts_ns;
    double v0 = st->last_value;
    accept(st, ts, v);
    st->rate = v;
    if (first)
        return false;
    int64_t dt = ts - t0;
    if (dt > max_gap_of(def)) {
        set_out(out, t0, ts, 0.0, DCM_INC_MISSING, DCM_CORR_GAP);
        return true;
    }
    /* Halves first: (v0 + v) could overflow where the mean does not. */
    double amount = (0.5 * v0 + 0.5 * v) * dcm__ns_to_h(dt);
    set_out(out, t0, ts, amount, DCM_INC_DERIVED, DCM_CORR_NONE);
    return true;
}

static bool feed_counter(const dcm_point_def *def, dcm_point_state *st, int64_t ts, double cur,
                         dcm_increment *out)
{
    if (st->last_ts_ns == 0) {
        accept(st, ts, cur);
        st->rate = 0.0;
        return false;
    }
    int64_t t0 = st->last_ts_ns;
    double prev = st->last_value;
    int64_t dt = ts - t0;
    double dt_h = dcm__ns_to_h(dt);
    double mod = modulus_of(def);
    double scale = fmax(fmax(fabs(prev), fabs(cur)), mod);
    double lim = rate_limit(def, dt_h, scale);
    uint8_t flags = dt > max_gap_of(def) ? DCM_INC_ESTIMATED : 0;
    dcm_correction corr = DCM_CORR_NONE;
    double delta = cur - prev;

    if (delta < 0) {
        double wrapped = mod > 0 ? (mod - prev) + cur : -1.0;
        bool plausible_wrap = wrapped >= 0 && (lim > 0 ? wrapped <= lim : wrapped <= mod / 2);
        if (plausible_wrap) {
            delta = wrapped;
            corr = DCM_CORR_WRAP;
        } else if (cur >= 0 && cur <= prev / 2) {
            /* A restart counts from zero: everything read since is new energy, unless
             * it is more than the point could have used, then the interval is unknown. */
            corr = DCM_CORR_RESET;
            accept(st, ts, cur);
            if (lim > 0 && cur > lim) {
                set_out(out, t0, ts, 0.0, DCM_INC_MISSING, corr);
                return true;
            }
            st->rate = cur / dt_h;
            set_out(out, t0, ts, cur, flags, corr);
            return true;
        } else {
            /* Keep the old baseline: a glitch must not turn into a reset's new energy. */
            out->correction = DCM_CORR_BACKWARDS;
            return false;
        }
    } else if (lim > 0 && delta > lim) {
        out->correction = DCM_CORR_SPIKE;
        return false;
    }
    accept(st, ts, cur);
    st->rate = delta / dt_h;
    set_out(out, t0, ts, delta, flags, corr);
    return true;
}

static bool feed_delta(const dcm_point_def *def, dcm_point_state *st, int64_t ts, double v,
                       dcm_increment *out)
{
    int64_t t0;
    if (st->last_ts_ns != 0)
        t0 = st->last_ts_ns;
    else if (def->nominal_interval_ns > 0 && def->nominal_interval_ns < ts)
        t0 = ts - def->nominal_interval_ns;
    else
        t0 = ts;
    int64_t dt = ts - t0;
    double dt_h = dcm__ns_to_h(dt);
    if (dt > 0) {
        double lim = rate_limit(def, dt_h, fabs(v));
        if (lim > 0 && v > lim) {
            out->correction = DCM_CORR_SPIKE;
            return false;
        }
    }
    /* An amount placed at an instant, or spread over more than max_gap, has a guessed
     * split in time. */
    uint8_t flags = (dt == 0 || dt > max_gap_of(def)) ? DCM_INC_ESTIMATED : 0;
    accept(st, ts, v);
    if (dt > 0)
        st->rate = v / dt_h;
    set_out(out, t0, ts, v, flags, DCM_CORR_NONE);
    return true;
}

bool dcm_integrator_feed(const dcm_point_def *def, dcm_point_state *st, int64_t ts_ns,
                         double value, dcm_increment *out)
{
    dcm_increment scratch;
    if (!out)
        out = &scratch;
    set_out(out, ts_ns, ts_ns, 0.0, 0, DCM_CORR_NONE);
    if (!def || !st)
        return false;
    if (!isfinite(value) || fabs(value) > DCM__VALUE_LIMIT) {
        out->correction = DCM_CORR_SPIKE;
        return false;
    }
    if (st->last_ts_ns < 0 || !isfinite(st->last_value) || fabs(st->last_value) > DCM__VALUE_LIMIT)
        dcm_point_state_init(st); /* a damaged state: start again from this sample */
    if (!isfinite(st->rate))
        st->rate = 0.0;
    if (ts_ns <= 0 || (st->last_ts_ns != 0 && ts_ns <= st->last_ts_ns)) {
        out->correction = DCM_CORR_ORDER;
        return false;
    }
    if (def->quantity == DCM_QTY_OTHER) {
        /* Carried for display, never summed: no increments. */
        accept(st, ts_ns, value);
        st->rate = value;
        return false;
    }
    if (def->quantity == DCM_QTY_UTILISATION)
        return feed_gauge(def, st, ts_ns, value, out);
    switch (def->kind) {
    case DCM_KIND_GAUGE: return feed_gauge(def, st, ts_ns, value, out);
    case DCM_KIND_COUNTER: return feed_counter(def, st, ts_ns, value, out);
    case DCM_KIND_DELTA: return feed_delta(def, st, ts_ns, value, out);
    }
    return false;
}
