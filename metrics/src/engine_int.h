/*
 * engine_int.h - the streaming engine's state, shared by engine.c (samples, minutes) and
 * windows.c (calendar windows, TTM, interim records). Not installed.
 */
#ifndef DCM_ENGINE_INT_H
#define DCM_ENGINE_INT_H

#include "internal.h"

#define DCM__MIN DCM_NS_PER_MIN

/* Calendar windows accumulated from closed minutes, finest first. */
#define DCM__NWIN 5
extern const dcm_window dcm__win_kind[DCM__NWIN];

#define DCM__PT_BAD 0x01u      /* the latest sample had bad quality */
#define DCM__PT_HAS_RATE 0x02u /* st.rate holds a measured rate */
#define DCM__NO_UTIL UINT32_MAX
#define DCM__NO_ATTR UINT32_MAX

/* Per-point memory is the engine's main cost at scale: keep it small (the hot fields the
 * feed path touches come first). */
typedef struct dcm__point {
    dcm_point_state st;
    dcm_point_acc bin[2]; /* the two open minutes; bin (minute number & 1) */
    dcm_point_def def;
    /* Counters and deltas: the live rate is the amount over the last 60..120 s, not the
     * last delta: a meter that counts in 0.1 or 1 kWh steps read every second would
     * otherwise jump between 0 and several MW. */
    int64_t span_start, mid_start;
    double span_amount, mid_amount;
    uint32_t util;        /* index into dcm_engine.util, or DCM__NO_UTIL */
    uint32_t attr;        /* index into dcm_engine.attr, or DCM__NO_ATTR */
    uint8_t flags;
} dcm__point;

/* Attributed points keep their own sums per window (the closing minute, and each calendar
 * window) so that each record can say how much of the window's energy they used. */
typedef struct dcm__attr {
    uint32_t id;
    dcm_point_acc minute;
    dcm_point_acc win[DCM__NWIN];
} dcm__attr;

/* Utilisation points keep their own per-window sums so that ITEUsv is the mean of
 * per-server means over each window, not a mean of minute means. */
typedef struct dcm__util {
    uint32_t id;
    double amount[DCM__NWIN];
    double covered_s[DCM__NWIN];
} dcm__util;

typedef struct dcm__win {
    int64_t start_ns, end_ns;
    dcm_totals sums; /* closed minutes' sums; shape and utilisation roles filled at close */
} dcm__win;

#define DCM__RING 12

struct dcm_engine {
    dcm_engine_config cfg; /* instruments points at the engine's own copy */
    dcm_instrument_period *instr;
    uint32_t windows;      /* resolved emission mask */
    int64_t grace_ns, stale_ns;

    dcm__point *pts;
    size_t n, cap;
    dcm__util *util;
    size_t n_util, cap_util;
    dcm__attr *attr;
    size_t n_attr, cap_attr;
    dcm_attribution *attr_out; /* cap_attr entries: the attributions of the record emitted */
    int64_t peek_upto;         /* interim records: how far the open window has run */
    uint32_t dirty[2]; /* points with data in each bin */

    /* Per second of window: expected_s = points per role, and the non-utilisation point
     * counts. Scaled by a window's length it gives that window's shape. */
    dcm_totals shape;

    bool started;
    int64_t started_at; /* the first event's time: windows ending by then are not emitted */
    int64_t open_start; /* start of the oldest open minute; bins cover two minutes */
    dcm__win win[DCM__NWIN];

    dcm_totals ring[DCM__RING];
    int64_t ring_key[DCM__RING]; /* month key: year * 12 + month - 1 */
    bool ring_used[DCM__RING];

    dcm_totals minute, scratch, ttm, missing, peek, peek_ttm;
};

static inline bool dcm__want(const dcm_engine *e, dcm_window w)
{
    return e->cfg.on_record && (e->windows & (1u << w));
}

static inline int dcm__bin_of(int64_t minute_start)
{
    return (int)(dcm__floor_div(minute_start, DCM__MIN) & 1);
}

/* attribution.c: fills e->attr_out for a record of window w over t (interim: the open
 * minutes count too); returns how many. */
size_t dcm__attribution_fill(const dcm_engine *e, dcm_window w, const dcm_totals *t,
                             bool interim, const dcm_kpi_set *kpi);

/* windows.c */
void dcm__apply_shape(dcm_totals *t, const dcm_totals *shape, double window_s);
void dcm__instruments_over(const dcm_engine *e, int64_t start, int64_t end, dcm_instruments *out);
/* True when no role or zone of t received anything. */
bool dcm__totals_empty(const dcm_totals *t);
void dcm__emit(const dcm_engine *e, dcm_window w, const dcm_totals *t, bool interim,
               dcm_record_fn fn, void *ctx);
void dcm__windows_start(dcm_engine *e);
/* Closes every window that ends at or before open_start. */
void dcm__windows_check(dcm_engine *e);

#endif /* DCM_ENGINE_INT_H */
